/* lpt_captioned_tiles.c: thumbnail tiles with caption lines (see the header).
 *
 * A tile's widget is a vertical box: the LptImageTile, then a box of the caption labels. The
 * box carries the tile and the labels as object data; the factory carries its TileFactory.
 */
#include "lpt_captioned_tiles.h"

#include "lpt_image_tile.h"

#define FACTORY_KEY "lpt-captioned-tiles"

typedef struct {
    LptThumbnailLoader *loader; /* owned */
    guint n_lines;
    char **line_css; /* [n_lines], entries may be NULL */
    LptTileCaptionFunc caption;
    gpointer user_data;
} TileFactory;

static void tile_factory_free(gpointer data)
{
    TileFactory *f = data;
    for (guint i = 0; i < f->n_lines; i++)
        g_free(f->line_css[i]);
    g_free(f->line_css);
    g_object_unref(f->loader);
    g_free(f);
}

static void word_caption(TileFactory *f, GtkWidget *box)
{
    LptImageTile *tile = g_object_get_data(G_OBJECT(box), "tile");
    GtkLabel **lines = g_object_get_data(G_OBJECT(box), "lines");
    LptImageItem *item = lpt_image_tile_get_item(tile);
    f->caption(lines, item != NULL ? lpt_image_item_get_id(item) : 0, f->user_data);
}

static void setup_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    TileFactory *f = data;
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *tile = lpt_image_tile_new();
    gtk_box_append(GTK_BOX(box), tile);
    GtkWidget *caption = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_box_append(GTK_BOX(box), caption);
    GtkLabel **lines = g_new0(GtkLabel *, f->n_lines + 1);
    for (guint i = 0; i < f->n_lines; i++) {
        GtkWidget *label = gtk_label_new(NULL);
        gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
        gtk_label_set_max_width_chars(GTK_LABEL(label), 1);
        gtk_widget_set_hexpand(label, TRUE);
        gtk_widget_add_css_class(label, "caption");
        if (f->line_css[i] != NULL)
            gtk_widget_add_css_class(label, f->line_css[i]);
        gtk_box_append(GTK_BOX(caption), label);
        lines[i] = GTK_LABEL(label);
    }
    g_object_set_data(G_OBJECT(box), "tile", tile);
    g_object_set_data_full(G_OBJECT(box), "lines", lines, g_free);
    gtk_list_item_set_child(item, box);
}

static void bind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    TileFactory *f = data;
    GtkWidget *box = gtk_list_item_get_child(item);
    lpt_image_tile_bind(g_object_get_data(G_OBJECT(box), "tile"), gtk_list_item_get_item(item),
                        f->loader);
    word_caption(f, box);
}

static void unbind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    GtkWidget *box = gtk_list_item_get_child(item);
    lpt_image_tile_unbind(g_object_get_data(G_OBJECT(box), "tile"));
}

GtkListItemFactory *lpt_captioned_tiles_factory_new(LptThumbnailLoader *loader, guint n_lines,
                                                    const char *const *line_css,
                                                    LptTileCaptionFunc caption, gpointer user_data)
{
    g_return_val_if_fail(LPT_IS_THUMBNAIL_LOADER(loader), NULL);
    g_return_val_if_fail(caption != NULL, NULL);

    TileFactory *f = g_new0(TileFactory, 1);
    f->loader = g_object_ref(loader);
    f->n_lines = n_lines;
    f->line_css = g_new0(char *, n_lines + 1);
    for (guint i = 0; line_css != NULL && i < n_lines; i++)
        f->line_css[i] = g_strdup(line_css[i]);
    f->caption = caption;
    f->user_data = user_data;

    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_object_set_data_full(G_OBJECT(factory), FACTORY_KEY, f, tile_factory_free);
    g_signal_connect(factory, "setup", G_CALLBACK(setup_tile), f);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_tile), f);
    g_signal_connect(factory, "unbind", G_CALLBACK(unbind_tile), f);
    return factory;
}

void lpt_captioned_tiles_refresh(GtkGridView *grid)
{
    g_return_if_fail(GTK_IS_GRID_VIEW(grid));
    GtkListItemFactory *factory = gtk_grid_view_get_factory(grid);
    TileFactory *f = factory != NULL ? g_object_get_data(G_OBJECT(factory), FACTORY_KEY) : NULL;
    g_return_if_fail(f != NULL);
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(grid)); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *box = gtk_widget_get_first_child(child);
        if (box != NULL && g_object_get_data(G_OBJECT(box), "tile") != NULL)
            word_caption(f, box);
    }
}

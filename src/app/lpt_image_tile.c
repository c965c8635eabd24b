/* lpt_image_tile.c: one tile of the thumbnail grid (see the header). */
#include "lpt_image_tile.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"

struct _LptImageTile {
    GtkWidget parent_instance;

    /* template widgets */
    GtkWidget *box;
    GtkPicture *picture;
    GtkImage *placeholder;
    GtkLabel *split_label;
    GtkWidget *excluded_badge;
    GtkLabel *name_label;

    /* owned */
    LptImageItem *item; /* NULL when unbound */
    gulong notify_id;
    GCancellable *cancellable; /* the running load, NULL when none */
    char *load_error;          /* why the thumbnail failed, NULL when it did not */
};

G_DEFINE_FINAL_TYPE(LptImageTile, lpt_image_tile, GTK_TYPE_WIDGET)

const char *lpt_image_tile_split_label(LptStoreSplit split)
{
    switch (split) {
    case LPT_STORE_SPLIT_TRAIN:
        return C_("split", "Train");
    case LPT_STORE_SPLIT_VAL:
        return C_("split", "Val");
    case LPT_STORE_SPLIT_TEST:
        return C_("split", "Test");
    case LPT_STORE_SPLIT_NONE:
    case LPT_STORE_SPLIT_ANY:
        break;
    }
    return C_("split", "No split");
}

/* The split badge and the excluded mark, from the item. */
static void show_state(LptImageTile *self)
{
    static const char *const split_classes[LPT_STORE_SPLIT_COUNT] = {"none", "train", "val",
                                                                     "test"};
    LptStoreSplit split = lpt_image_item_get_split(self->item);
    gboolean excluded = lpt_image_item_get_excluded(self->item);

    for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
        gtk_widget_remove_css_class(GTK_WIDGET(self->split_label), split_classes[s]);
    if (split >= LPT_STORE_SPLIT_NONE && split <= LPT_STORE_SPLIT_TEST)
        gtk_widget_add_css_class(GTK_WIDGET(self->split_label), split_classes[split]);
    gtk_label_set_text(self->split_label, lpt_image_tile_split_label(split));
    gtk_widget_set_visible(self->excluded_badge, excluded);
    if (excluded)
        gtk_widget_add_css_class(GTK_WIDGET(self), "excluded");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self), "excluded");
}

/* The tooltip, made when asked for: setting one on every bind makes GTK query the tooltip
 * again each time (the pointer's position, from the display server), which measured 0.4 ms
 * a bind under Xvfb and stalled scrolling. */
static gboolean on_query_tooltip(GtkWidget *widget, int x, int y, gboolean keyboard,
                                 GtkTooltip *tooltip, gpointer user_data)
{
    LptImageTile *self = LPT_IMAGE_TILE(widget);
    if (self->item == NULL)
        return FALSE;
    LptStoreSplit split = lpt_image_item_get_split(self->item);
    GString *text = g_string_new(lpt_image_item_get_path(self->item));
    g_string_append_c(text, '\n');
    if (lpt_image_item_get_excluded(self->item))
        /* Translators: a tile's tooltip under the file's path, as in "Train · excluded from
         * training" */
        g_string_append_printf(text, _("%s · excluded from training"),
                               lpt_image_tile_split_label(split));
    else
        g_string_append(text, lpt_image_tile_split_label(split));
    if (self->load_error != NULL)
        g_string_append_printf(text, "\n%s", self->load_error);
    gtk_tooltip_set_text(tooltip, text->str);
    g_string_free(text, TRUE);
    return TRUE;
}

static void on_item_notify(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    show_state(LPT_IMAGE_TILE(user_data));
}

static void show_texture(LptImageTile *self, GdkTexture *texture)
{
    gtk_picture_set_paintable(self->picture, GDK_PAINTABLE(texture));
    gtk_widget_set_visible(GTK_WIDGET(self->placeholder), texture == NULL);
}

/* What a load's callback gets: references to the tile and the loader. */
typedef struct {
    LptImageTile *tile;
    LptThumbnailLoader *loader;
} LoadRequest;

/* A load is done. The tile may show another image by now (then the cancellable it passed
 * was cancelled and replaced). */
static void on_loaded(GObject *source, GAsyncResult *result, gpointer user_data)
{
    LoadRequest *request = user_data;
    LptImageTile *self = request->tile;
    GCancellable *cancellable = g_task_get_cancellable(G_TASK(result));
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) texture =
        lpt_thumbnail_loader_load_finish(request->loader, result, &error);

    if (cancellable == self->cancellable) {
        g_clear_object(&self->cancellable);
        if (texture != NULL) {
            show_texture(self, texture);
        } else {
            gtk_image_set_from_icon_name(self->placeholder, "image-missing-symbolic");
            g_free(self->load_error);
            self->load_error = g_strdup(error->message);
        }
    }
    g_object_unref(request->tile);
    g_object_unref(request->loader);
    g_free(request);
}

void lpt_image_tile_bind(LptImageTile *self, LptImageItem *item, LptThumbnailLoader *loader)
{
    g_return_if_fail(LPT_IS_IMAGE_TILE(self));
    g_return_if_fail(LPT_IS_IMAGE_ITEM(item));
    g_return_if_fail(LPT_IS_THUMBNAIL_LOADER(loader));

    lpt_image_tile_unbind(self);
    self->item = g_object_ref(item);
    self->notify_id = g_signal_connect(item, "notify", G_CALLBACK(on_item_notify), self);
    gtk_label_set_text(self->name_label, lpt_image_item_get_name(item));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   lpt_image_item_get_name(item), -1);
    show_state(self);

    const char *hash = lpt_image_item_get_hash(item);
    gtk_image_set_from_icon_name(self->placeholder, "image-x-generic-symbolic");
    if (hash[0] == '\0') { /* the record could not be read */
        gtk_image_set_from_icon_name(self->placeholder, "image-missing-symbolic");
        show_texture(self, NULL);
        return;
    }
    g_autoptr(GdkTexture) cached = lpt_thumbnail_loader_lookup(loader, hash);
    show_texture(self, cached);
    if (cached != NULL)
        return;
    self->cancellable = g_cancellable_new();
    LoadRequest *request = g_new(LoadRequest, 1);
    request->tile = g_object_ref(self);
    request->loader = g_object_ref(loader);
    lpt_thumbnail_loader_load_async(loader, hash, lpt_image_item_get_path(item), self->cancellable,
                                    on_loaded, request);
}

void lpt_image_tile_unbind(LptImageTile *self)
{
    g_return_if_fail(LPT_IS_IMAGE_TILE(self));

    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    if (self->item != NULL)
        g_clear_signal_handler(&self->notify_id, self->item);
    g_clear_object(&self->item);
    g_clear_pointer(&self->load_error, g_free);
    show_texture(self, NULL);
}

LptImageItem *lpt_image_tile_get_item(LptImageTile *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_TILE(self), NULL);
    return self->item;
}

gboolean lpt_image_tile_has_thumbnail(LptImageTile *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_TILE(self), FALSE);
    return gtk_picture_get_paintable(self->picture) != NULL;
}

static void lpt_image_tile_dispose(GObject *object)
{
    LptImageTile *self = LPT_IMAGE_TILE(object);

    if (self->picture != NULL)
        lpt_image_tile_unbind(self);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_IMAGE_TILE);

    G_OBJECT_CLASS(lpt_image_tile_parent_class)->dispose(object);
}

static void lpt_image_tile_class_init(LptImageTileClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_image_tile_dispose;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_image_tile.ui");
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, box);
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, picture);
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, placeholder);
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, split_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, excluded_badge);
    gtk_widget_class_bind_template_child(widget_class, LptImageTile, name_label);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_css_name(widget_class, "imagetile");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void lpt_image_tile_init(LptImageTile *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
    g_signal_connect(self, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
}

GtkWidget *lpt_image_tile_new(void)
{
    return g_object_new(LPT_TYPE_IMAGE_TILE, NULL);
}

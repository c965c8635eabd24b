/* lpt_class_images.c: the images of one class (see the header). */
#include "lpt_class_images.h"

#include <stdlib.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_image_list.h"
#include "lpt_image_tile.h"
#include "lpt_thumbnail_loader.h"

/* What the label history says of a change made here (stored, not shown translated). */
#define RELABEL_REASON "moved in the dataset grid"

struct _LptClassImages {
    GtkWidget parent_instance;

    /* template widgets */
    GtkWidget *box;
    GtkLabel *title;
    GtkLabel *subtitle;
    GtkScrolledWindow *scroller;
    GtkGridView *grid;

    /* owned */
    LptProject *project; /* while a class is shown */
    LptImageList *images;
    GtkMultiSelection *selection; /* over images */
    LptThumbnailLoader *loader;
    char *class_name;
    GtkWidget *relabel_popover; /* our child */
    GtkWidget *context_menu;    /* our child */
};

G_DEFINE_FINAL_TYPE(LptClassImages, lpt_class_images, GTK_TYPE_WIDGET)

static void show_toast(LptClassImages *self, const char *text)
{
    GtkWidget *overlay = gtk_widget_get_ancestor(GTK_WIDGET(self), ADW_TYPE_TOAST_OVERLAY);
    if (overlay != NULL)
        adw_toast_overlay_add_toast(ADW_TOAST_OVERLAY(overlay), adw_toast_new(text));
}

/* ---- The grid's tiles ---- */

static void setup_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    gtk_list_item_set_child(item, lpt_image_tile_new());
}

static void bind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    LptClassImages *self = LPT_CLASS_IMAGES(data);
    lpt_image_tile_bind(LPT_IMAGE_TILE(gtk_list_item_get_child(item)), gtk_list_item_get_item(item),
                        self->loader);
}

static void unbind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    lpt_image_tile_unbind(LPT_IMAGE_TILE(gtk_list_item_get_child(item)));
}

/* ---- Header ---- */

static void update_header(LptClassImages *self, const char *name, gint64 excluded)
{
    g_free(self->class_name);
    self->class_name = g_strdup(name != NULL ? name : "");
    gtk_label_set_text(self->title, self->class_name);

    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->images));
    g_autofree char *text =
        excluded > 0
            /* Translators: "46 images · 2 excluded" (the excluded are among the images) */
            ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u image · %lld excluded",
                                          "%u images · %lld excluded", n),
                              n, (long long)excluded)
            : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u image", "%u images", n), n);
    gtk_label_set_text(self->subtitle, text);
}

void lpt_class_images_set_class(LptClassImages *self, LptProject *project, gint64 class_id,
                                const char *name, gint64 excluded)
{
    g_return_if_fail(LPT_IS_CLASS_IMAGES(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));

    g_autoptr(GError) error = NULL;
    gtk_selection_model_unselect_all(GTK_SELECTION_MODEL(self->selection));
    if (!lpt_image_list_set_class(self->images, project, class_id, &error)) {
        g_autofree char *text = g_strdup_printf(_("Could not list the images: %s"), error->message);
        show_toast(self, text);
    }
    LptProject *shown = lpt_image_list_get_class_id(self->images) != 0 ? project : NULL;
    g_set_object(&self->project, shown);
    if (g_list_model_get_n_items(G_LIST_MODEL(self->images)) > 0)
        gtk_widget_activate_action(GTK_WIDGET(self->grid), "list.scroll-to-item", "u", 0);
    update_header(self, name, excluded);
}

gint64 lpt_class_images_get_class_id(LptClassImages *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), 0);
    return lpt_image_list_get_class_id(self->images);
}

void lpt_class_images_refresh(LptClassImages *self, const char *name, gint64 excluded)
{
    g_return_if_fail(LPT_IS_CLASS_IMAGES(self));

    g_autoptr(GError) error = NULL;
    if (!lpt_image_list_refresh(self->images, &error)) {
        g_autofree char *text = g_strdup_printf(_("Could not list the images: %s"), error->message);
        show_toast(self, text);
    }
    update_header(self, name, excluded);
}

/* ---- Changing the selected images ---- */

/* The ids of the selected images, in grid order. */
static GArray *selected_ids(LptClassImages *self)
{
    g_autoptr(GtkBitset) selected =
        gtk_selection_model_get_selection(GTK_SELECTION_MODEL(self->selection));
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    GtkBitsetIter iter;
    guint position;
    for (gboolean more = gtk_bitset_iter_init_first(&iter, selected, &position); more;
         more = gtk_bitset_iter_next(&iter, &position)) {
        gint64 id = lpt_image_list_get_id(self->images, position);
        g_array_append_val(ids, id);
    }
    return ids;
}

/* Ends the transaction: commits when status is LPT_OK, else rolls back; returns the final
 * status with err set on failure. */
static LptStatus end_transaction(LptStore *store, LptStatus status, LptError *err)
{
    if (status == LPT_OK)
        status = lpt_store_commit(store, err);
    if (status != LPT_OK)
        lpt_store_rollback(store, NULL);
    return status;
}

gint64 lpt_class_images_relabel_selected(LptClassImages *self, const char *name, GError **error)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), -1);
    g_return_val_if_fail(name != NULL, -1);

    LptProject *project = self->project;
    g_autoptr(GArray) ids = selected_ids(self);
    if (project == NULL || ids->len == 0)
        return 0;

    LptStore *store = lpt_project_get_store(project);
    gint64 current = lpt_image_list_get_class_id(self->images), class_id = 0, moved = 0;
    LptError err = {0};
    LptStatus status = lpt_store_begin(store, &err);
    if (status != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return -1;
    }
    status = lpt_store_class_ensure(store, name, &class_id, NULL, &err);
    for (guint i = 0; status == LPT_OK && class_id != current && i < ids->len; i++) {
        status = lpt_store_image_relabel(store, g_array_index(ids, gint64, i), class_id,
                                         RELABEL_REASON, &err);
        moved++;
    }
    if (end_transaction(store, status, &err) != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return -1;
    }
    lpt_project_notify_changed(project);
    return moved;
}

/* Reads whether each selected image is excluded; *all_excluded says whether all are. */
static LptStatus read_excluded(LptStore *store, GArray *ids, GArray *excluded,
                               gboolean *all_excluded, LptError *err)
{
    *all_excluded = ids->len > 0;
    for (guint i = 0; i < ids->len; i++) {
        LptStoreImage *record = NULL;
        LptStatus status = lpt_store_image_get(store, g_array_index(ids, gint64, i), &record, err);
        if (status != LPT_OK)
            return status;
        gboolean is_excluded = record != NULL && record->excluded;
        free(record);
        g_array_append_val(excluded, is_excluded);
        *all_excluded = *all_excluded && is_excluded;
    }
    return LPT_OK;
}

gint64 lpt_class_images_toggle_excluded(LptClassImages *self, gboolean *now_excluded,
                                        GError **error)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), -1);

    LptProject *project = self->project;
    g_autoptr(GArray) ids = selected_ids(self);
    if (project == NULL || ids->len == 0)
        return 0;

    LptStore *store = lpt_project_get_store(project);
    g_autoptr(GArray) excluded = g_array_new(FALSE, FALSE, sizeof(gboolean));
    gboolean all_excluded = FALSE;
    gint64 changed = 0;
    LptError err = {0};
    LptStatus status = lpt_store_begin(store, &err);
    if (status != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return -1;
    }
    status = read_excluded(store, ids, excluded, &all_excluded, &err);
    gboolean target = !all_excluded;
    for (guint i = 0; status == LPT_OK && i < ids->len; i++)
        if (g_array_index(excluded, gboolean, i) != target) {
            status =
                lpt_store_image_set_excluded(store, g_array_index(ids, gint64, i), target, &err);
            changed++;
        }
    if (end_transaction(store, status, &err) != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return -1;
    }
    lpt_project_notify_changed(project);
    if (now_excluded != NULL)
        *now_excluded = target;
    return changed;
}

/* ---- Popovers ---- */

/* Where a popover for the selection points: the focused tile when the focus is in the grid,
 * else the first selected tile shown, else the top of the grid (in our coordinates). */
static GdkRectangle selection_anchor(LptClassImages *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkWidget *focus = root != NULL ? gtk_root_get_focus(root) : NULL;
    GtkWidget *tile = NULL;
    if (focus != NULL && gtk_widget_is_ancestor(focus, GTK_WIDGET(self->grid)))
        tile = LPT_IS_IMAGE_TILE(focus) ? focus : gtk_widget_get_first_child(focus);
    if (tile == NULL || !LPT_IS_IMAGE_TILE(tile)) {
        tile = NULL;
        for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->grid));
             child != NULL && tile == NULL; child = gtk_widget_get_next_sibling(child)) {
            GtkWidget *candidate = gtk_widget_get_first_child(child);
            if (candidate != NULL && LPT_IS_IMAGE_TILE(candidate) &&
                gtk_widget_get_mapped(candidate) &&
                (gtk_widget_get_state_flags(child) & GTK_STATE_FLAG_SELECTED) != 0)
                tile = candidate;
        }
    }
    graphene_rect_t bounds;
    GtkWidget *target = tile != NULL ? tile : GTK_WIDGET(self->grid);
    if (!gtk_widget_compute_bounds(target, GTK_WIDGET(self), &bounds))
        graphene_rect_init(&bounds, 0, 0, gtk_widget_get_width(GTK_WIDGET(self)), 0);
    if (tile == NULL)
        bounds.size.height = MIN(bounds.size.height, 24.0f);
    return (GdkRectangle){(int)bounds.origin.x, (int)bounds.origin.y, (int)bounds.size.width,
                          (int)bounds.size.height};
}

/* Opens the relabel popover with text typed (NULL: none) when images are selected. */
static gboolean start_relabel(LptClassImages *self, const char *text)
{
    if (self->project == NULL || gtk_bitset_is_empty(gtk_selection_model_get_selection(
                                     GTK_SELECTION_MODEL(self->selection))))
        return FALSE;

    LptStoreClass *classes = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_store_class_list(lpt_project_get_store(self->project), &classes, &n, &err) != LPT_OK) {
        g_autofree char *message =
            g_strdup_printf(_("Could not read the classes: %s"), err.message);
        show_toast(self, message);
        return TRUE;
    }
    g_autofree const char **names = g_new0(const char *, n + 1);
    for (size_t i = 0; i < n; i++)
        names[i] = classes[i].name;
    LptRelabelPopover *popover = LPT_RELABEL_POPOVER(self->relabel_popover);
    lpt_relabel_popover_set_classes(popover, names, self->class_name);
    free(classes);

    GdkRectangle anchor = selection_anchor(self);
    gtk_popover_set_pointing_to(GTK_POPOVER(popover), &anchor);
    lpt_relabel_popover_start(popover, text);
    return TRUE;
}

static void on_relabel(LptRelabelPopover *popover, const char *name, gpointer user_data)
{
    LptClassImages *self = LPT_CLASS_IMAGES(user_data);
    g_autoptr(GError) error = NULL;
    g_autofree char *target = g_strdup(name); /* the reload may change what name points to */
    gint64 moved = lpt_class_images_relabel_selected(self, target, &error);
    g_autofree char *text =
        moved < 0 ? g_strdup_printf(_("Could not move the images: %s"), error->message)
                  : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Moved %lld image to “%s”",
                                                "Moved %lld images to “%s”",
                                                (gulong)CLAMP(moved, 0, G_MAXLONG)),
                                    (long long)moved, target);
    show_toast(self, text);
}

static void on_popover_closed(GtkPopover *popover, gpointer user_data)
{
    gtk_widget_grab_focus(GTK_WIDGET(LPT_CLASS_IMAGES(user_data)->grid));
}

/* The context menu for the selection, pointing at `at` (our coordinates). */
static void show_context_menu(LptClassImages *self, const GdkRectangle *at)
{
    g_autoptr(GArray) ids = selected_ids(self);
    if (self->project == NULL || ids->len == 0)
        return;
    g_autoptr(GArray) excluded = g_array_new(FALSE, FALSE, sizeof(gboolean));
    gboolean all_excluded = FALSE;
    read_excluded(lpt_project_get_store(self->project), ids, excluded, &all_excluded, NULL);

    g_autoptr(GMenu) menu = g_menu_new();
    g_autoptr(GMenu) change = g_menu_new();
    g_menu_append(change, all_excluded ? _("_Include in Training") : _("_Exclude from Training"),
                  "images.toggle-excluded");
    g_menu_append(change, _("_Move to Class…"), "images.relabel");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(change));
    g_autoptr(GMenu) look = g_menu_new();
    g_menu_append(look, _("_Open Image"), "images.open");
    g_menu_append_section(menu, NULL, G_MENU_MODEL(look));

    gtk_popover_menu_set_menu_model(GTK_POPOVER_MENU(self->context_menu), G_MENU_MODEL(menu));
    gtk_popover_set_pointing_to(GTK_POPOVER(self->context_menu), at);
    gtk_popover_popup(GTK_POPOVER(self->context_menu));
}

/* A right click: selects the image under the pointer unless it is selected, then the menu. */
static void on_right_click(GtkGestureClick *gesture, int n_press, double x, double y,
                           gpointer user_data)
{
    LptClassImages *self = LPT_CLASS_IMAGES(user_data);
    GtkWidget *picked = gtk_widget_pick(GTK_WIDGET(self->grid), x, y, GTK_PICK_DEFAULT);
    GtkWidget *tile = picked != NULL ? gtk_widget_get_ancestor(picked, LPT_TYPE_IMAGE_TILE) : NULL;
    LptImageItem *item = tile != NULL ? lpt_image_tile_get_item(LPT_IMAGE_TILE(tile)) : NULL;
    if (item == NULL)
        return;
    gint64 position = lpt_image_list_find(self->images, lpt_image_item_get_id(item));
    if (position < 0)
        return;
    if (!gtk_selection_model_is_selected(GTK_SELECTION_MODEL(self->selection), (guint)position))
        gtk_selection_model_select_item(GTK_SELECTION_MODEL(self->selection), (guint)position,
                                        TRUE);
    graphene_point_t point;
    if (!gtk_widget_compute_point(GTK_WIDGET(self->grid), GTK_WIDGET(self),
                                  &GRAPHENE_POINT_INIT((float)x, (float)y), &point))
        return;
    gtk_gesture_set_state(GTK_GESTURE(gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    show_context_menu(self, &(GdkRectangle){(int)point.x, (int)point.y, 1, 1});
}

/* Typing a printable character over the grid starts a relabel with it. */
static gboolean on_key_pressed(GtkEventControllerKey *controller, guint keyval, guint keycode,
                               GdkModifierType state, gpointer user_data)
{
    char text[8];
    return lpt_relabel_popover_key_text(keyval, state, text) &&
           start_relabel(LPT_CLASS_IMAGES(user_data), text);
}

/* ---- Actions ---- */

static void toggle_excluded_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptClassImages *self = LPT_CLASS_IMAGES(widget);
    g_autoptr(GError) error = NULL;
    gboolean now_excluded = FALSE;
    gint64 changed = lpt_class_images_toggle_excluded(self, &now_excluded, &error);
    if (changed == 0)
        return;
    gulong n = (gulong)CLAMP(changed, 0, G_MAXLONG);
    g_autofree char *text =
        changed < 0 ? g_strdup_printf(_("Could not change the images: %s"), error->message)
        : now_excluded
            ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Excluded %lld image from training",
                                          "Excluded %lld images from training", n),
                              (long long)changed)
            : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Took %lld image back into training",
                                          "Took %lld images back into training", n),
                              (long long)changed);
    show_toast(self, text);
}

static void relabel_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    start_relabel(LPT_CLASS_IMAGES(widget), NULL);
}

static void menu_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptClassImages *self = LPT_CLASS_IMAGES(widget);
    GdkRectangle anchor = selection_anchor(self);
    show_context_menu(self, &anchor);
}

static void on_launched(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(LptClassImages) self = LPT_CLASS_IMAGES(user_data);
    g_autoptr(GError) error = NULL;
    if (!g_app_info_launch_default_for_uri_finish(result, &error)) {
        g_autofree char *text = g_strdup_printf(_("Could not open the image: %s"), error->message);
        show_toast(self, text);
    }
}

static void open_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptClassImages *self = LPT_CLASS_IMAGES(widget);
    g_autoptr(GArray) ids = selected_ids(self);
    if (self->project == NULL || ids->len == 0)
        return;
    gint64 position = lpt_image_list_find(self->images, g_array_index(ids, gint64, 0));
    g_autoptr(LptImageItem) item =
        position >= 0 ? g_list_model_get_item(G_LIST_MODEL(self->images), (guint)position) : NULL;
    if (item == NULL || lpt_image_item_get_path(item)[0] == '\0')
        return;
    g_autoptr(GFile) file = g_file_new_for_path(lpt_image_item_get_path(item));
    g_autofree char *uri = g_file_get_uri(file);
    g_autoptr(GAppLaunchContext) context =
        G_APP_LAUNCH_CONTEXT(gdk_display_get_app_launch_context(gtk_widget_get_display(widget)));
    g_app_info_launch_default_for_uri_async(uri, context, NULL, on_launched, g_object_ref(self));
}

static void on_selection_changed(GtkSelectionModel *model, guint position, guint n_items,
                                 gpointer user_data)
{
    LptClassImages *self = LPT_CLASS_IMAGES(user_data);
    g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection(model);
    gboolean any = !gtk_bitset_is_empty(selected);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "images.toggle-excluded", any);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "images.relabel", any);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "images.open", any);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "images.menu", any);
}

/* ---- Parts for tests ---- */

GtkGridView *lpt_class_images_get_grid(LptClassImages *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), NULL);
    return self->grid;
}

GtkSelectionModel *lpt_class_images_get_selection(LptClassImages *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), NULL);
    return GTK_SELECTION_MODEL(self->selection);
}

LptRelabelPopover *lpt_class_images_get_relabel_popover(LptClassImages *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_IMAGES(self), NULL);
    return LPT_RELABEL_POPOVER(self->relabel_popover);
}

/* ---- GtkWidget: the box fills the widget; the popovers are placed by their anchors ---- */

static void lpt_class_images_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                     int *minimum, int *natural, int *minimum_baseline,
                                     int *natural_baseline)
{
    gtk_widget_measure(LPT_CLASS_IMAGES(widget)->box, orientation, for_size, minimum, natural,
                       minimum_baseline, natural_baseline);
}

static void lpt_class_images_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    LptClassImages *self = LPT_CLASS_IMAGES(widget);
    gtk_widget_allocate(self->box, width, height, baseline, NULL);
    gtk_popover_present(GTK_POPOVER(self->relabel_popover));
    gtk_popover_present(GTK_POPOVER(self->context_menu));
}

/* ---- Life cycle ---- */

static void lpt_class_images_dispose(GObject *object)
{
    LptClassImages *self = LPT_CLASS_IMAGES(object);

    if (self->grid != NULL)
        gtk_grid_view_set_model(self->grid, NULL);
    if (self->relabel_popover != NULL)
        g_signal_handlers_disconnect_by_data(self->relabel_popover, self);
    g_clear_pointer(&self->relabel_popover, gtk_widget_unparent);
    g_clear_pointer(&self->context_menu, gtk_widget_unparent);
    g_clear_object(&self->selection);
    g_clear_object(&self->images);
    g_clear_object(&self->loader);
    g_clear_object(&self->project);
    g_clear_pointer(&self->class_name, g_free);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_CLASS_IMAGES);

    G_OBJECT_CLASS(lpt_class_images_parent_class)->dispose(object);
}

static void lpt_class_images_class_init(LptClassImagesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_class_images_dispose;
    widget_class->measure = lpt_class_images_measure;
    widget_class->size_allocate = lpt_class_images_size_allocate;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_class_images.ui");
    gtk_widget_class_bind_template_child(widget_class, LptClassImages, box);
    gtk_widget_class_bind_template_child(widget_class, LptClassImages, title);
    gtk_widget_class_bind_template_child(widget_class, LptClassImages, subtitle);
    gtk_widget_class_bind_template_child(widget_class, LptClassImages, scroller);
    gtk_widget_class_bind_template_child(widget_class, LptClassImages, grid);

    gtk_widget_class_install_action(widget_class, "images.toggle-excluded", NULL,
                                    toggle_excluded_action);
    gtk_widget_class_install_action(widget_class, "images.relabel", NULL, relabel_action);
    gtk_widget_class_install_action(widget_class, "images.menu", NULL, menu_action);
    gtk_widget_class_install_action(widget_class, "images.open", NULL, open_action);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Delete, 0, "images.toggle-excluded",
                                        NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_KP_Delete, 0,
                                        "images.toggle-excluded", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F2, 0, "images.relabel", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Menu, 0, "images.menu", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "images.menu",
                                        NULL);
}

static void lpt_class_images_init(LptClassImages *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    self->loader = lpt_thumbnail_loader_new_for_settings(settings);

    self->images = lpt_image_list_new();
    self->selection = gtk_multi_selection_new(g_object_ref(G_LIST_MODEL(self->images)));
    g_signal_connect(self->selection, "selection-changed", G_CALLBACK(on_selection_changed), self);
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_tile), self);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_tile), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(unbind_tile), self);
    gtk_grid_view_set_factory(self->grid, factory);
    g_object_unref(factory);
    gtk_grid_view_set_model(self->grid, GTK_SELECTION_MODEL(self->selection));

    GtkGesture *click = gtk_gesture_click_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
    g_signal_connect(click, "pressed", G_CALLBACK(on_right_click), self);
    gtk_widget_add_controller(GTK_WIDGET(self->grid), GTK_EVENT_CONTROLLER(click));
    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), keys);

    self->relabel_popover = lpt_relabel_popover_new();
    gtk_widget_set_parent(self->relabel_popover, GTK_WIDGET(self));
    g_signal_connect(self->relabel_popover, "relabel", G_CALLBACK(on_relabel), self);
    g_signal_connect(self->relabel_popover, "closed", G_CALLBACK(on_popover_closed), self);
    self->context_menu = gtk_popover_menu_new_from_model(NULL);
    gtk_widget_set_parent(self->context_menu, GTK_WIDGET(self));
    gtk_popover_set_has_arrow(GTK_POPOVER(self->context_menu), FALSE);
    gtk_widget_set_halign(self->context_menu, GTK_ALIGN_START);

    on_selection_changed(GTK_SELECTION_MODEL(self->selection), 0, 0, self);
}

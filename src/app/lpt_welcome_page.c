/* lpt_welcome_page.c: the welcome page (see the header). */
#include "lpt_welcome_page.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_store.h"

struct _LptWelcomePage {
    AdwBin parent_instance;

    /* template widgets */
    GtkWidget *recent_group;
    GtkListBox *recent_list;

    /* owned */
    GSettings *settings;
    guint n_recent;
};

G_DEFINE_FINAL_TYPE(LptWelcomePage, lpt_welcome_page, ADW_TYPE_BIN)

/* "~/data/parts" for a folder in the home folder, else the path. */
static char *display_folder(GFile *file)
{
    g_autoptr(GFile) parent = g_file_get_parent(file);
    if (parent == NULL)
        return g_strdup("/");
    g_autoptr(GFile) home = g_file_new_for_path(g_get_home_dir());
    g_autofree char *relative = g_file_get_relative_path(home, parent);
    if (relative != NULL)
        return g_build_filename("~", relative, NULL);
    if (g_file_equal(home, parent))
        return g_strdup("~");
    return g_file_get_parse_name(parent);
}

static GtkWidget *make_recent_row(const char *path)
{
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autofree char *basename = g_file_get_basename(file);
    if (g_str_has_suffix(basename, LPT_STORE_EXTENSION) &&
        strlen(basename) > strlen(LPT_STORE_EXTENSION))
        basename[strlen(basename) - strlen(LPT_STORE_EXTENSION)] = '\0';
    g_autofree char *folder = display_folder(file);
    gboolean exists = g_file_query_exists(file, NULL);

    GtkWidget *row = adw_action_row_new();
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), basename);
    if (exists)
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), folder);
    else {
        /* Translators: the subtitle of a recent project whose file is gone; %s is its folder */
        g_autofree char *missing = g_strdup_printf(_("Missing from %s"), folder);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), missing);
    }
    gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), exists);
    gtk_actionable_set_action_name(GTK_ACTIONABLE(row), exists ? "app.open-recent" : NULL);
    gtk_actionable_set_action_target_value(GTK_ACTIONABLE(row), g_variant_new_string(path));

    GtkWidget *icon = gtk_image_new_from_icon_name(exists ? "document-open-recent-symbolic"
                                                          : "dialog-warning-symbolic");
    adw_action_row_add_prefix(ADW_ACTION_ROW(row), icon);

    GtkWidget *forget = gtk_button_new_from_icon_name("edit-delete-symbolic");
    gtk_widget_set_valign(forget, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(forget, "flat");
    gtk_widget_set_tooltip_text(forget, _("Remove From Recent Projects"));
    gtk_actionable_set_action_name(GTK_ACTIONABLE(forget), "app.forget-recent");
    gtk_actionable_set_action_target_value(GTK_ACTIONABLE(forget), g_variant_new_string(path));
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), forget);
    return row;
}

static void reload_recent(LptWelcomePage *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->recent_list))) != NULL)
        gtk_list_box_remove(self->recent_list, child);

    g_auto(GStrv) paths = g_settings_get_strv(self->settings, "recent-projects");
    self->n_recent = 0;
    for (guint i = 0; paths[i] != NULL; i++, self->n_recent++)
        gtk_list_box_append(self->recent_list, make_recent_row(paths[i]));
    gtk_widget_set_visible(self->recent_group, self->n_recent > 0);
}

static void on_recent_changed(GSettings *settings, const char *key, gpointer user_data)
{
    reload_recent(LPT_WELCOME_PAGE(user_data));
}

static void lpt_welcome_page_dispose(GObject *object)
{
    LptWelcomePage *self = LPT_WELCOME_PAGE(object);

    if (self->settings != NULL)
        g_signal_handlers_disconnect_by_data(self->settings, self);
    g_clear_object(&self->settings);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_WELCOME_PAGE);

    G_OBJECT_CLASS(lpt_welcome_page_parent_class)->dispose(object);
}

static void lpt_welcome_page_class_init(LptWelcomePageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_welcome_page_dispose;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_welcome_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptWelcomePage, recent_group);
    gtk_widget_class_bind_template_child(widget_class, LptWelcomePage, recent_list);
}

static void lpt_welcome_page_init(LptWelcomePage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    self->settings = g_settings_new(BASE_ID);
    g_signal_connect(self->settings, "changed::recent-projects", G_CALLBACK(on_recent_changed),
                     self);
    reload_recent(self);
}

guint lpt_welcome_page_get_n_recent(LptWelcomePage *self)
{
    g_return_val_if_fail(LPT_IS_WELCOME_PAGE(self), 0);
    return self->n_recent;
}

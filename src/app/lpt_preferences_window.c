/* lpt_preferences_window.c: the Preferences window (see the header). */
#include "lpt_preferences_window.h"

#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_device_choices.h"
#include "lpt_paths.h"

struct _LptPreferencesWindow {
    AdwPreferencesWindow parent_instance;

    /* template widgets */
    AdwComboRow *device_row;
    AdwActionRow *cache_row;
    GtkWidget *cache_reset_button;

    /* owned */
    GSettings *settings;
    GtkStringList *device_labels; /* what the device row shows */
    GPtrArray *device_values;     /* char *, NULL-terminated: the setting of each label */
    GCancellable *cancellable;    /* the device listing, NULL when done */
    GtkFileChooserNative *chooser;
    gboolean filling; /* the device row is being filled: do not write the setting */
};

G_DEFINE_FINAL_TYPE(LptPreferencesWindow, lpt_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* ---- Devices ---- */

/* Offers the choices of lpt_device_choices.h (a device the setting names that is not among
 * them once the devices are listed: found not NULL); selects the setting's. */
static void fill_devices(LptPreferencesWindow *self, const LptFoundDevices *found)
{
    g_autofree char *current = g_settings_get_string(self->settings, "device");

    self->filling = TRUE;
    guint selected = lpt_device_choices_fill(self->device_labels, self->device_values, found,
                                             current, found != NULL);
    g_ptr_array_add(self->device_values, NULL);
    adw_combo_row_set_selected(self->device_row,
                               selected != GTK_INVALID_LIST_POSITION ? selected : 0);
    self->filling = FALSE;
}

static void on_devices_listed(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(LptFoundDevices) list = lpt_device_choices_list_finish(result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) /* the window went */
        return;

    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(user_data);
    g_clear_object(&self->cancellable);
    g_autofree char *subtitle = NULL;
    if (list != NULL) {
        guint n = list->names->len;
        subtitle = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "Where the experts train · %u Vulkan device found",
                        "Where the experts train · %u Vulkan devices found", n),
            n);
    } else {
        subtitle = g_strdup_printf(_("Where the experts train · no Vulkan: %s"), error->message);
    }
    adw_action_row_set_subtitle(ADW_ACTION_ROW(self->device_row), subtitle);
    fill_devices(self, list);
}

static void on_device_selected(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(user_data);
    guint selected = adw_combo_row_get_selected(self->device_row);
    if (self->filling || selected + 1 >= self->device_values->len)
        return;
    g_settings_set_string(self->settings, "device",
                          g_ptr_array_index(self->device_values, selected));
}

/* ---- The cache folder ---- */

static void show_cache_location(LptPreferencesWindow *self)
{
    g_autofree char *location = g_settings_get_string(self->settings, "cache-location");
    g_autofree char *subtitle = NULL;
    if (location[0] != '\0') {
        subtitle = g_strdup(location);
    } else {
        char buf[4096];
        LptError err = {0};
        subtitle =
            lpt_cache_dir(buf, sizeof buf, &err) == LPT_OK
                /* Translators: the default cache folder, as in "~/.cache/lpt-studio (default)" */
                ? g_strdup_printf(_("%s (default)"), buf)
                : g_strdup(err.message);
    }
    adw_action_row_set_subtitle(self->cache_row, subtitle);
    gtk_widget_set_visible(self->cache_reset_button, location[0] != '\0');
}

static void on_settings_changed(GSettings *settings, const char *key, gpointer user_data)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(user_data);
    if (g_str_equal(key, "cache-location"))
        show_cache_location(self);
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(user_data);
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) folder = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = folder != NULL ? g_file_get_path(folder) : NULL;
        if (path != NULL)
            g_settings_set_string(self->settings, "cache-location", path);
    }
    g_clear_object(&self->chooser);
}

static void choose_cache_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(widget);
    if (self->chooser != NULL)
        return;
    self->chooser = gtk_file_chooser_native_new(_("Thumbnail Cache Folder"), GTK_WINDOW(self),
                                                GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                                _("_Cancel"));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void reset_cache_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    g_settings_reset(LPT_PREFERENCES_WINDOW(widget)->settings, "cache-location");
}

/* ---- The window ---- */

gboolean lpt_preferences_window_is_listing(LptPreferencesWindow *self)
{
    g_return_val_if_fail(LPT_IS_PREFERENCES_WINDOW(self), FALSE);
    return self->cancellable != NULL;
}

const char *const *lpt_preferences_window_get_device_values(LptPreferencesWindow *self)
{
    g_return_val_if_fail(LPT_IS_PREFERENCES_WINDOW(self), NULL);
    return (const char *const *)self->device_values->pdata;
}

AdwComboRow *lpt_preferences_window_get_device_row(LptPreferencesWindow *self)
{
    g_return_val_if_fail(LPT_IS_PREFERENCES_WINDOW(self), NULL);
    return self->device_row;
}

AdwActionRow *lpt_preferences_window_get_cache_row(LptPreferencesWindow *self)
{
    g_return_val_if_fail(LPT_IS_PREFERENCES_WINDOW(self), NULL);
    return self->cache_row;
}

static void lpt_preferences_window_dispose(GObject *object)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(object);

    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    if (self->chooser != NULL)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    if (self->settings != NULL)
        g_signal_handlers_disconnect_by_data(self->settings, self);
    g_clear_object(&self->settings);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_PREFERENCES_WINDOW);

    G_OBJECT_CLASS(lpt_preferences_window_parent_class)->dispose(object);
}

static void lpt_preferences_window_finalize(GObject *object)
{
    LptPreferencesWindow *self = LPT_PREFERENCES_WINDOW(object);

    g_object_unref(self->device_labels);
    g_ptr_array_unref(self->device_values);

    G_OBJECT_CLASS(lpt_preferences_window_parent_class)->finalize(object);
}

static void lpt_preferences_window_class_init(LptPreferencesWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_preferences_window_dispose;
    object_class->finalize = lpt_preferences_window_finalize;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_preferences_window.ui");
    gtk_widget_class_bind_template_child(widget_class, LptPreferencesWindow, device_row);
    gtk_widget_class_bind_template_child(widget_class, LptPreferencesWindow, cache_row);
    gtk_widget_class_bind_template_child(widget_class, LptPreferencesWindow, cache_reset_button);
    gtk_widget_class_bind_template_callback(widget_class, on_device_selected);

    gtk_widget_class_install_action(widget_class, "preferences.choose-cache", NULL,
                                    choose_cache_action);
    gtk_widget_class_install_action(widget_class, "preferences.reset-cache", NULL,
                                    reset_cache_action);
}

static void lpt_preferences_window_init(LptPreferencesWindow *self)
{
    self->device_labels = gtk_string_list_new(NULL);
    self->device_values = g_ptr_array_new_with_free_func(g_free);
    gtk_widget_init_template(GTK_WIDGET(self));

    self->settings = g_settings_new(BASE_ID);
    g_signal_connect(self->settings, "changed", G_CALLBACK(on_settings_changed), self);
    adw_combo_row_set_model(self->device_row, G_LIST_MODEL(self->device_labels));
    fill_devices(self, NULL);
    show_cache_location(self);

    self->cancellable = g_cancellable_new();
    lpt_device_choices_list_async(self->cancellable, on_devices_listed, self);
}

GtkWidget *lpt_preferences_window_new(GtkWindow *parent)
{
    return g_object_new(LPT_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
}

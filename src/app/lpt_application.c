/* lpt_application.c: the application (see the header). */
#include "lpt_application.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_build_id.h"
#include "lpt_preferences_window.h"
#include "lpt_resources.h"

struct _LptApplication {
    AdwApplication parent_instance;

    /* owned */
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(LptApplication, lpt_application, ADW_TYPE_APPLICATION)

/* ---- Recent projects ---- */

static void add_recent(LptApplication *self, GFile *file)
{
    g_autofree char *path = g_file_get_path(file);
    g_auto(GStrv) old = g_settings_get_strv(self->settings, "recent-projects");
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    guint n = 1;

    g_strv_builder_add(builder, path);
    for (guint i = 0; old[i] != NULL && n < LPT_APPLICATION_MAX_RECENT; i++)
        if (!g_str_equal(old[i], path)) {
            g_strv_builder_add(builder, old[i]);
            n++;
        }
    g_auto(GStrv) recent = g_strv_builder_end(builder);
    g_settings_set_strv(self->settings, "recent-projects", (const char *const *)recent);
}

static void forget_recent(LptApplication *self, const char *path)
{
    g_auto(GStrv) old = g_settings_get_strv(self->settings, "recent-projects");
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    for (guint i = 0; old[i] != NULL; i++)
        if (!g_str_equal(old[i], path))
            g_strv_builder_add(builder, old[i]);
    g_auto(GStrv) recent = g_strv_builder_end(builder);
    g_settings_set_strv(self->settings, "recent-projects", (const char *const *)recent);
}

/* ---- Windows ---- */

static LptWindow *active_window(LptApplication *self)
{
    GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(self));
    return LPT_IS_WINDOW(window) ? LPT_WINDOW(window) : NULL;
}

/* A window showing no project: `preferred` if it shows none, else any such, else NULL. */
static LptWindow *free_window(LptApplication *self, LptWindow *preferred)
{
    if (preferred != NULL && lpt_window_get_project(preferred) == NULL)
        return preferred;
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(self)); l != NULL; l = l->next)
        if (LPT_IS_WINDOW(l->data) && lpt_window_get_project(LPT_WINDOW(l->data)) == NULL)
            return LPT_WINDOW(l->data);
    return NULL;
}

LptWindow *lpt_application_open_project(LptApplication *self, GFile *file, gboolean create,
                                        LptWindow *window)
{
    g_return_val_if_fail(LPT_IS_APPLICATION(self), NULL);
    g_return_val_if_fail(G_IS_FILE(file), NULL);

    g_autoptr(GError) error = NULL;
    g_autoptr(LptProject) project = lpt_project_open(file, create, &error);
    if (project == NULL) {
        LptWindow *parent = window != NULL ? window : active_window(self);
        if (parent == NULL)
            parent = lpt_window_new(GTK_APPLICATION(self));
        gtk_window_present(GTK_WINDOW(parent));
        const char *heading = g_error_matches(error, LPT_CORE_ERROR, LPT_CORE_ERROR_IN_USE)
                                  ? _("Project Already Open")
                              : create ? _("Could Not Create the Project")
                                       : _("Could Not Open the Project");
        lpt_window_show_error(parent, heading, error);
        return NULL;
    }

    LptWindow *target = free_window(self, window);
    if (target == NULL)
        target = lpt_window_new(GTK_APPLICATION(self));
    lpt_window_set_project(target, project);
    gtk_window_present(GTK_WINDOW(target));
    add_recent(self, file);
    return target;
}

/* ---- Actions ---- */

static void on_new_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) chosen = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(chosen);
        g_autoptr(GFile) file = NULL;
        if (path != NULL && !g_str_has_suffix(path, LPT_STORE_EXTENSION)) {
            g_autofree char *with_extension = g_strconcat(path, LPT_STORE_EXTENSION, NULL);
            file = g_file_new_for_path(with_extension);
        } else
            file = g_object_ref(chosen);
        GtkWindow *parent = gtk_native_dialog_get_transient_for(dialog);
        lpt_application_open_project(self, file, TRUE,
                                     LPT_IS_WINDOW(parent) ? LPT_WINDOW(parent) : NULL);
    }
    g_object_unref(dialog);
}

static void on_open_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        GtkWindow *parent = gtk_native_dialog_get_transient_for(dialog);
        lpt_application_open_project(self, file, FALSE,
                                     LPT_IS_WINDOW(parent) ? LPT_WINDOW(parent) : NULL);
    }
    g_object_unref(dialog);
}

static void add_project_filters(GtkFileChooser *chooser)
{
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, _("LPT Studio projects"));
    gtk_file_filter_add_pattern(filter, "*" LPT_STORE_EXTENSION);
    gtk_file_filter_add_mime_type(filter, "application/x-lptstudio-project");
    gtk_file_chooser_add_filter(chooser, filter);
    g_object_unref(filter);
}

static void new_project_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);
    GtkFileChooserNative *dialog = gtk_file_chooser_native_new(
        _("New Project"), GTK_WINDOW(active_window(self)), GTK_FILE_CHOOSER_ACTION_SAVE,
        _("_Create"), _("_Cancel"));
    /* Translators: the file name offered for a new project (".lptproj" is added) */
    g_autofree char *name = g_strconcat(_("New Project"), LPT_STORE_EXTENSION, NULL);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dialog), name);
    add_project_filters(GTK_FILE_CHOOSER(dialog));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(dialog), TRUE);
    g_signal_connect(dialog, "response", G_CALLBACK(on_new_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void open_project_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);
    GtkFileChooserNative *dialog =
        gtk_file_chooser_native_new(_("Open Project"), GTK_WINDOW(active_window(self)),
                                    GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
    add_project_filters(GTK_FILE_CHOOSER(dialog));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(dialog), TRUE);
    g_signal_connect(dialog, "response", G_CALLBACK(on_open_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(dialog));
}

static void open_recent_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);
    g_autoptr(GFile) file = g_file_new_for_path(g_variant_get_string(parameter, NULL));
    lpt_application_open_project(self, file, FALSE, active_window(self));
}

static void forget_recent_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    forget_recent(LPT_APPLICATION(user_data), g_variant_get_string(parameter, NULL));
}

static void about_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);
    static const char *const developers[] = {"The LPT Studio authors", NULL};

    /* Translators: the version and the build it came from, as in "0.1.0 (build 2729879)" */
    g_autofree char *version = g_strdup_printf(_("%s (build %s)"), PACKAGE_VERSION, LPT_BUILD_ID);
    g_autofree char *debug_info = g_strdup_printf(
        "LPT Studio %s\nBuild: %s\nGLib %u.%u.%u\nGTK %u.%u.%u\nlibadwaita %u.%u.%u\n",
        PACKAGE_VERSION, LPT_BUILD_ID, glib_major_version, glib_minor_version,
        glib_micro_version, gtk_get_major_version(), gtk_get_minor_version(),
        gtk_get_micro_version(), adw_get_major_version(), adw_get_minor_version(),
        adw_get_micro_version());

    GtkWidget *about = adw_about_window_new();
    g_object_set(about, "transient-for", active_window(self), "application-name",
                 _("LPT Studio"), "application-icon", BASE_ID, "version", version,
                 "developer-name", _("The LPT Studio authors"), "developers", developers,
                 "comments",
                 _("Train image classifiers on your own long-tailed datasets, with honest "
                   "numbers for the rare classes."),
                 "website", "https://github.com/lptstudio/lpt-studio", "issue-url",
                 "https://github.com/lptstudio/lpt-studio/issues", "license-type",
                 GTK_LICENSE_GPL_3_0, "copyright", "© 2026 The LPT Studio authors",
                 /* Translators: your names, one per line, to be credited in the About window */
                 "translator-credits", _("translator-credits"), "debug-info", debug_info,
                 NULL);
    gtk_window_present(GTK_WINDOW(about));
}

static void preferences_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    LptApplication *self = LPT_APPLICATION(user_data);
    GtkWidget *preferences = lpt_preferences_window_new(GTK_WINDOW(active_window(self)));
    gtk_window_present(GTK_WINDOW(preferences));
}

static void quit_action(GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
    GtkApplication *app = GTK_APPLICATION(user_data);
    GList *windows = g_list_copy(gtk_application_get_windows(app));
    for (GList *l = windows; l != NULL; l = l->next)
        gtk_window_close(GTK_WINDOW(l->data));
    g_list_free(windows);
}

static const GActionEntry app_actions[] = {
    {"new-project", new_project_action, NULL, NULL, NULL, {0}},
    {"open-project", open_project_action, NULL, NULL, NULL, {0}},
    {"open-recent", open_recent_action, "s", NULL, NULL, {0}},
    {"forget-recent", forget_recent_action, "s", NULL, NULL, {0}},
    {"about", about_action, NULL, NULL, NULL, {0}},
    {"preferences", preferences_action, NULL, NULL, NULL, {0}},
    {"quit", quit_action, NULL, NULL, NULL, {0}},
};

/* ---- GApplication ---- */

static void lpt_application_startup(GApplication *application)
{
    LptApplication *self = LPT_APPLICATION(application);
    static const struct {
        const char *action;
        const char *accels[2];
    } accels[] = {
        {"app.new-project", {"<Control>n", NULL}},
        {"app.open-project", {"<Control>o", NULL}},
        {"app.quit", {"<Control>q", NULL}},
        {"app.preferences", {"<Control>comma", NULL}},
        {"window.close", {"<Control>w", NULL}},
        {"win.import('folder')", {"<Control>i", NULL}},
    };

    G_APPLICATION_CLASS(lpt_application_parent_class)->startup(application);

    self->settings = g_settings_new(BASE_ID);
    g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
                                    self);
    for (gsize i = 0; i < G_N_ELEMENTS(accels); i++)
        gtk_application_set_accels_for_action(GTK_APPLICATION(self), accels[i].action,
                                              accels[i].accels);
}

static void lpt_application_activate(GApplication *application)
{
    LptApplication *self = LPT_APPLICATION(application);
    LptWindow *window = active_window(self);
    if (window == NULL)
        window = lpt_window_new(GTK_APPLICATION(self));
    gtk_window_present(GTK_WINDOW(window));
}

static void lpt_application_open(GApplication *application, GFile **files, int n_files,
                                 const char *hint)
{
    LptApplication *self = LPT_APPLICATION(application);
    for (int i = 0; i < n_files; i++)
        lpt_application_open_project(self, files[i], FALSE, NULL);
}

static void lpt_application_dispose(GObject *object)
{
    LptApplication *self = LPT_APPLICATION(object);

    g_clear_object(&self->settings);

    G_OBJECT_CLASS(lpt_application_parent_class)->dispose(object);
}

static void lpt_application_class_init(LptApplicationClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

    object_class->dispose = lpt_application_dispose;
    app_class->startup = lpt_application_startup;
    app_class->activate = lpt_application_activate;
    app_class->open = lpt_application_open;
}

static void lpt_application_init(LptApplication *self)
{
}

LptApplication *lpt_application_new(void)
{
    static gsize registered = 0;
    if (g_once_init_enter(&registered)) {
        lpt_register_resource();
        g_once_init_leave(&registered, 1);
    }
    return g_object_new(LPT_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                        G_APPLICATION_HANDLES_OPEN, "resource-base-path", APP_RESOURCE_PATH,
                        NULL);
}

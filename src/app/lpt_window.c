/* lpt_window.c: a main window (see the header). */
#include "lpt_window.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

/* What waits for the Training page's session to stop. */
typedef enum { PENDING_NONE, PENDING_CLOSE_WINDOW, PENDING_CLOSE_PROJECT } PendingClose;

struct _LptWindow {
    AdwApplicationWindow parent_instance;

    /* template widgets */
    AdwViewSwitcherTitle *switcher_title;
    AdwViewSwitcherBar *switcher_bar;
    GtkStack *main_stack;
    AdwViewStack *view_stack;
    LptWelcomePage *welcome_page;
    LptDatasetPage *dataset_page;
    LptBackbonesPage *backbones_page;
    LptTrainingPage *training_page;
    LptReviewPage *review_page;
    LptExportPage *export_page;

    /* owned */
    GSettings *settings;
    LptProject *project;
    PendingClose pending_close; /* what to do once training has stopped */
};

G_DEFINE_FINAL_TYPE(LptWindow, lpt_window, ADW_TYPE_APPLICATION_WINDOW)

/* The switcher bar at the bottom shows when the title bar is too narrow for the switcher,
 * and only while a project is open. */
static void update_switcher_bar(LptWindow *self)
{
    adw_view_switcher_bar_set_reveal(self->switcher_bar,
                                     self->project != NULL &&
                                         adw_view_switcher_title_get_title_visible(
                                             self->switcher_title));
}

static void on_title_visible(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    update_switcher_bar(LPT_WINDOW(user_data));
}

static char *folder_display_name(GFile *file)
{
    g_autoptr(GFile) parent = g_file_get_parent(file);
    if (parent == NULL)
        return g_strdup("");
    g_autofree char *path = g_file_get_path(parent);
    const char *home = g_get_home_dir();
    if (path != NULL && g_str_has_prefix(path, home) &&
        (path[strlen(home)] == '/' || path[strlen(home)] == '\0'))
        return g_strconcat("~", path + strlen(home), NULL);
    return g_file_get_parse_name(parent);
}

void lpt_window_set_project(LptWindow *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_WINDOW(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));

    /* The pages let the old project go before the window does. */
    lpt_dataset_page_set_project(self->dataset_page, project);
    lpt_backbones_page_set_project(self->backbones_page, project);
    lpt_training_page_set_project(self->training_page, project);
    lpt_review_page_set_project(self->review_page, project);
    lpt_export_page_set_project(self->export_page, project);
    g_set_object(&self->project, project);

    gboolean open = project != NULL;
    if (open) {
        g_autofree char *folder = folder_display_name(lpt_project_get_file(project));
        gtk_window_set_title(GTK_WINDOW(self), lpt_project_get_title(project));
        adw_view_switcher_title_set_subtitle(self->switcher_title, folder);
        adw_view_stack_set_visible_child_name(self->view_stack, "dataset");
    } else {
        gtk_window_set_title(GTK_WINDOW(self), _("LPT Studio"));
        adw_view_switcher_title_set_subtitle(self->switcher_title, NULL);
    }
    adw_view_switcher_title_set_view_switcher_enabled(self->switcher_title, open);
    gtk_stack_set_visible_child_name(self->main_stack, open ? "project" : "welcome");
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.close-project", open);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.import", open);
    update_switcher_bar(self);
}

LptProject *lpt_window_get_project(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->project;
}

void lpt_window_show_error(LptWindow *self, const char *heading, const GError *error)
{
    g_return_if_fail(LPT_IS_WINDOW(self));

    GtkWidget *dialog = adw_message_dialog_new(GTK_WINDOW(self), heading, error->message);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
    gtk_window_present(GTK_WINDOW(dialog));
}

LptWelcomePage *lpt_window_get_welcome_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->welcome_page;
}

LptDatasetPage *lpt_window_get_dataset_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->dataset_page;
}

LptBackbonesPage *lpt_window_get_backbones_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->backbones_page;
}

LptTrainingPage *lpt_window_get_training_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->training_page;
}

LptReviewPage *lpt_window_get_review_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->review_page;
}

LptExportPage *lpt_window_get_export_page(LptWindow *self)
{
    g_return_val_if_fail(LPT_IS_WINDOW(self), NULL);
    return self->export_page;
}

void lpt_window_show_page(LptWindow *self, const char *name)
{
    g_return_if_fail(LPT_IS_WINDOW(self));
    adw_view_stack_set_visible_child_name(self->view_stack, name);
}

/* ---- Closing while training ---- */

static void on_stop_training_response(AdwMessageDialog *dialog, const char *response,
                                      gpointer user_data)
{
    LptWindow *self = LPT_WINDOW(user_data);
    if (!g_str_equal(response, "stop")) {
        self->pending_close = PENDING_NONE;
        return;
    }
    lpt_training_page_stop(self->training_page); /* on_training_changed does the rest */
}

/* Asks whether to stop training before `pending` (TRUE), or FALSE when nothing trains. */
static gboolean confirm_stop_training(LptWindow *self, PendingClose pending)
{
    if (!lpt_training_page_is_training(self->training_page))
        return FALSE;
    if (self->pending_close == PENDING_NONE) {
        self->pending_close = pending;
        GtkWidget *dialog = adw_message_dialog_new(
            GTK_WINDOW(self), _("Stop Training?"),
            _("A training run is in progress. Stopping keeps every finished epoch: Resume on "
              "the Training page continues from the last one."));
        adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel",
                                         _("_Keep Training"), "stop", _("_Stop Training"), NULL);
        adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "stop",
                                                   ADW_RESPONSE_DESTRUCTIVE);
        adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
        adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
        g_signal_connect_object(dialog, "response", G_CALLBACK(on_stop_training_response), self,
                                0);
        gtk_window_present(GTK_WINDOW(dialog));
    } else {
        self->pending_close = MAX(self->pending_close, pending); /* closing the window wins */
    }
    return TRUE;
}

/* Closes what waited for the session to end (from an idle callback: not from inside the
 * page's own signal, which must not see its window go). */
static gboolean close_pending(gpointer user_data)
{
    LptWindow *self = LPT_WINDOW(user_data);
    PendingClose pending = self->pending_close;
    self->pending_close = PENDING_NONE;
    if (pending == PENDING_CLOSE_WINDOW)
        gtk_window_close(GTK_WINDOW(self));
    else if (pending == PENDING_CLOSE_PROJECT)
        lpt_window_set_project(self, NULL);
    return G_SOURCE_REMOVE;
}

static void on_training_changed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptWindow *self = LPT_WINDOW(user_data);
    if (!lpt_training_page_is_training(self->training_page) &&
        self->pending_close != PENDING_NONE)
        g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, close_pending, g_object_ref(self),
                        g_object_unref);
}

static void close_project_action(GtkWidget *widget, const char *action_name,
                                 GVariant *parameter)
{
    LptWindow *self = LPT_WINDOW(widget);
    if (!confirm_stop_training(self, PENDING_CLOSE_PROJECT))
        lpt_window_set_project(self, NULL);
}

/* win.import("folder" | "list" | "csv"): the Dataset page's import, from anywhere. */
static void import_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptWindow *self = LPT_WINDOW(widget);
    lpt_window_show_page(self, "dataset");
    gtk_widget_activate_action_variant(GTK_WIDGET(self->dataset_page), "dataset.import",
                                       parameter);
}

static gboolean lpt_window_close_request(GtkWindow *window)
{
    LptWindow *self = LPT_WINDOW(window);
    int width, height;

    if (confirm_stop_training(self, PENDING_CLOSE_WINDOW))
        return TRUE;

    gtk_window_get_default_size(window, &width, &height);
    g_settings_set_int(self->settings, "window-width", width);
    g_settings_set_int(self->settings, "window-height", height);
    g_settings_set_boolean(self->settings, "window-maximized", gtk_window_is_maximized(window));

    return GTK_WINDOW_CLASS(lpt_window_parent_class)->close_request(window);
}

static void lpt_window_dispose(GObject *object)
{
    LptWindow *self = LPT_WINDOW(object);

    if (self->dataset_page != NULL)
        lpt_dataset_page_set_project(self->dataset_page, NULL);
    if (self->review_page != NULL)
        lpt_review_page_set_project(self->review_page, NULL);
    if (self->export_page != NULL)
        lpt_export_page_set_project(self->export_page, NULL);
    if (self->backbones_page != NULL)
        lpt_backbones_page_set_project(self->backbones_page, NULL);
    if (self->training_page != NULL) {
        g_signal_handlers_disconnect_by_data(self->training_page, self);
        lpt_training_page_set_project(self->training_page, NULL);
    }
    g_clear_object(&self->project);
    g_clear_object(&self->settings);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_WINDOW);

    G_OBJECT_CLASS(lpt_window_parent_class)->dispose(object);
}

static void lpt_window_class_init(LptWindowClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);

    object_class->dispose = lpt_window_dispose;
    window_class->close_request = lpt_window_close_request;

    g_type_ensure(LPT_TYPE_WELCOME_PAGE);
    g_type_ensure(LPT_TYPE_DATASET_PAGE);
    g_type_ensure(LPT_TYPE_BACKBONES_PAGE);
    g_type_ensure(LPT_TYPE_TRAINING_PAGE);
    g_type_ensure(LPT_TYPE_REVIEW_PAGE);
    g_type_ensure(LPT_TYPE_EXPORT_PAGE);
    gtk_widget_class_set_template_from_resource(widget_class, APP_RESOURCE_PATH "/lpt_window.ui");
    gtk_widget_class_bind_template_child(widget_class, LptWindow, switcher_title);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, switcher_bar);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, main_stack);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, view_stack);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, welcome_page);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, dataset_page);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, backbones_page);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, training_page);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, review_page);
    gtk_widget_class_bind_template_child(widget_class, LptWindow, export_page);

    gtk_widget_class_install_action(widget_class, "win.close-project", NULL,
                                    close_project_action);
    gtk_widget_class_install_action(widget_class, "win.import", "s", import_action);
}

static void lpt_window_init(LptWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    if (g_str_equal(PROFILE, "development")) /* the striped header bar of development builds */
        gtk_widget_add_css_class(GTK_WIDGET(self), "devel");

    self->settings = g_settings_new(BASE_ID);
    gtk_window_set_default_size(GTK_WINDOW(self),
                                g_settings_get_int(self->settings, "window-width"),
                                g_settings_get_int(self->settings, "window-height"));
    if (g_settings_get_boolean(self->settings, "window-maximized"))
        gtk_window_maximize(GTK_WINDOW(self));

    g_signal_connect(self->switcher_title, "notify::title-visible", G_CALLBACK(on_title_visible),
                     self);
    g_signal_connect(self->training_page, "notify::training", G_CALLBACK(on_training_changed),
                     self);
    lpt_window_set_project(self, NULL);
}

LptWindow *lpt_window_new(GtkApplication *application)
{
    return g_object_new(LPT_TYPE_WINDOW, "application", application, NULL);
}

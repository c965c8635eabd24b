/* lpt_backbones_page.c: the Backbones page (see the header). */
#include "lpt_backbones_page.h"

#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_backbone_tasks.h"

#define N_ROLES 2 /* vision, vl: the LptStoreExpert values of a backbone */

struct _LptBackbonesPage {
    AdwBin parent_instance;

    /* template widgets */
    GtkBox *cards_row;
    GtkWidget *demo_box;

    /* borrowed: the page's child (owned by AdwBin: never a bound template child) */
    AdwToastOverlay *toast_overlay;
    /* borrowed: children of cards_row */
    LptBackboneCard *cards[N_ROLES];

    /* owned */
    LptProject *project;
    gulong changed_id;
    gint64 shown_id[N_ROLES];             /* the backbone each card shows, 0: none */
    LptBackboneDetails *details[N_ROLES]; /* what its inspection found, NULL: not (yet) */
    GCancellable *inspecting[N_ROLES];    /* the running inspection, NULL when none */
    gboolean adding;
    GtkFileChooserNative *chooser; /* the open file chooser, NULL when none */
    LptStoreExpert chooser_role;
    GError *last_error;
};

G_DEFINE_FINAL_TYPE(LptBackbonesPage, lpt_backbones_page, ADW_TYPE_BIN)

static const char *role_words(LptStoreExpert role)
{
    return role == LPT_STORE_EXPERT_VISION ? _("the vision expert")
                                           : _("the vision-language expert");
}

static void show_toast(LptBackbonesPage *self, const char *text)
{
    if (self->toast_overlay != NULL)
        adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(text));
}

static void update_actions(LptBackbonesPage *self)
{
    gboolean idle = self->project != NULL && !self->adding;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "backbones.choose", idle);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "backbones.use-demo", idle);
}

/* ---- Inspecting the project's backbones ---- */

typedef struct {
    LptBackbonesPage *page; /* a reference */
    LptStoreExpert role;
    gint64 id;
} Inspection;

static void cancel_inspection(LptBackbonesPage *self, LptStoreExpert role)
{
    if (self->inspecting[role] != NULL)
        g_cancellable_cancel(self->inspecting[role]);
    g_clear_object(&self->inspecting[role]);
}

static void on_inspected(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Inspection *inspection = user_data;
    LptBackbonesPage *self = inspection->page;
    g_autoptr(GError) error = NULL;
    LptBackboneDetails *details = lpt_backbone_inspect_finish(result, &error);
    LptStoreExpert role = inspection->role;

    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
        self->shown_id[role] == inspection->id) {
        g_clear_object(&self->inspecting[role]);
        g_clear_pointer(&self->details[role], lpt_backbone_details_free);
        if (details != NULL) {
            lpt_backbone_card_show_details(self->cards[role], details);
            self->details[role] = g_steal_pointer(&details);
        } else {
            lpt_backbone_card_show_error(self->cards[role], error->message);
        }
    }
    lpt_backbone_details_free(details);
    g_object_unref(self);
    g_free(inspection);
}

static void show_role(LptBackbonesPage *self, LptStoreExpert role, const LptStoreBackbone *b)
{
    if (b == NULL) {
        cancel_inspection(self, role);
        g_clear_pointer(&self->details[role], lpt_backbone_details_free);
        self->shown_id[role] = 0;
        lpt_backbone_card_show_none(self->cards[role]);
        return;
    }
    if (b->id == self->shown_id[role])
        return;
    cancel_inspection(self, role);
    g_clear_pointer(&self->details[role], lpt_backbone_details_free);
    self->shown_id[role] = b->id;
    const char *name = b->name != NULL && b->name[0] != '\0' ? b->name : b->path;
    lpt_backbone_card_show_checking(self->cards[role], name, b->path);

    Inspection *inspection = g_new0(Inspection, 1);
    inspection->page = g_object_ref(self);
    inspection->role = role;
    inspection->id = b->id;
    self->inspecting[role] = g_cancellable_new();
    lpt_backbone_inspect_async(b->path, self->inspecting[role], on_inspected, inspection);
}

static void reload(LptBackbonesPage *self)
{
    LptStoreBackbone *backbones = NULL;
    size_t n = 0;
    const LptStoreBackbone *latest[N_ROLES] = {NULL, NULL};
    if (self->project != NULL) {
        LptError err = {0};
        if (lpt_store_backbone_list(lpt_project_get_store(self->project), &backbones, &n, &err) !=
            LPT_OK) {
            g_autofree char *text =
                g_strdup_printf(_("Could not read the backbones: %s"), err.message);
            show_toast(self, text);
        }
        for (size_t i = 0; i < n; i++) /* by id: the last of a role is its latest */
            if (backbones[i].role == LPT_STORE_EXPERT_VISION ||
                backbones[i].role == LPT_STORE_EXPERT_VL)
                latest[backbones[i].role] = &backbones[i];
    }
    for (int role = 0; role < N_ROLES; role++)
        show_role(self, (LptStoreExpert)role, latest[role]);
    gtk_widget_set_visible(self->demo_box,
                           self->project != NULL && latest[0] == NULL && latest[1] == NULL);
    free(backbones);
    update_actions(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    reload(LPT_BACKBONES_PAGE(user_data));
}

/* ---- Adding ---- */

static void show_add_error(LptBackbonesPage *self, const GError *error)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkWidget *dialog = adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                               _("Could Not Add the Backbone"), error->message);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
    gtk_window_present(GTK_WINDOW(dialog));
}

/* After an add: the error in a dialog, or a toast and every page reloads. */
static void add_done(LptBackbonesPage *self, LptProject *project, GError *error, const char *toast)
{
    if (project != self->project) /* the page moved on */
        return;
    self->adding = FALSE;
    update_actions(self);
    g_clear_error(&self->last_error);
    if (error != NULL) {
        self->last_error = g_error_copy(error);
        show_add_error(self, error);
        return;
    }
    show_toast(self, toast);
    lpt_project_notify_changed(project);
}

typedef struct {
    LptBackbonesPage *page; /* a reference */
    LptProject *project;    /* a reference: the project added to */
    LptStoreExpert role;
    char *name;
} Adding;

static void adding_free(Adding *adding)
{
    g_object_unref(adding->page);
    g_object_unref(adding->project);
    g_free(adding->name);
    g_free(adding);
}

static void on_added(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Adding *adding = user_data;
    g_autoptr(GError) error = NULL;
    lpt_backbone_add_finish(result, &error);
    /* Translators: after adding a weight file, as in "Added vit-b16.safetensors for the
     * vision expert" */
    g_autofree char *text =
        g_strdup_printf(_("Added %s for %s"), adding->name, role_words(adding->role));
    add_done(adding->page, adding->project, error, text);
    adding_free(adding);
}

static void on_demo_added(GObject *source, GAsyncResult *result, gpointer user_data)
{
    Adding *adding = user_data;
    g_autoptr(GError) error = NULL;
    guint n = lpt_backbone_add_demo_finish(result, &error);
    g_autofree char *text = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "Added %u demo backbone", "Added %u demo backbones", n), n);
    add_done(adding->page, adding->project, error, text);
    adding_free(adding);
}

static Adding *start_adding(LptBackbonesPage *self, LptStoreExpert role, const char *name)
{
    Adding *adding = g_new0(Adding, 1);
    adding->page = g_object_ref(self);
    adding->project = g_object_ref(self->project);
    adding->role = role;
    adding->name = g_strdup(name);
    self->adding = TRUE;
    update_actions(self);
    return adding;
}

gboolean lpt_backbones_page_add_file(LptBackbonesPage *self, LptStoreExpert role, GFile *file)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), FALSE);
    g_return_val_if_fail(role == LPT_STORE_EXPERT_VISION || role == LPT_STORE_EXPERT_VL, FALSE);
    g_return_val_if_fail(G_IS_FILE(file), FALSE);
    if (self->project == NULL || self->adding)
        return FALSE;
    /* A file without a local path keeps its URI: the core then names it as a file it cannot
     * open. */
    g_autofree char *path = g_file_get_path(file);
    if (path == NULL)
        path = g_file_get_uri(file);
    g_autofree char *name = g_file_get_basename(file);
    Adding *adding = start_adding(self, role, name);
    lpt_backbone_add_async(self->project, role, path, on_added, adding);
    return TRUE;
}

gboolean lpt_backbones_page_use_demo(LptBackbonesPage *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), FALSE);
    if (self->project == NULL || self->adding)
        return FALSE;
    Adding *adding = start_adding(self, LPT_STORE_EXPERT_VISION, NULL);
    lpt_backbone_add_demo_async(self->project, on_demo_added, adding);
    return TRUE;
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptBackbonesPage *self = LPT_BACKBONES_PAGE(user_data);
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        if (file != NULL)
            lpt_backbones_page_add_file(self, self->chooser_role, file);
    }
    g_clear_object(&self->chooser);
}

static void choose_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptBackbonesPage *self = LPT_BACKBONES_PAGE(widget);
    if (self->chooser != NULL || self->project == NULL)
        return;
    const char *role = g_variant_get_string(parameter, NULL);
    self->chooser_role = g_str_equal(role, lpt_store_expert_name(LPT_STORE_EXPERT_VL))
                             ? LPT_STORE_EXPERT_VL
                             : LPT_STORE_EXPERT_VISION;
    GtkRoot *root = gtk_widget_get_root(widget);
    self->chooser = gtk_file_chooser_native_new(
        self->chooser_role == LPT_STORE_EXPERT_VISION ? _("Vision Expert Backbone")
                                                      : _("Vision-Language Expert Backbone"),
        GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, GTK_FILE_CHOOSER_ACTION_OPEN, _("_Add"),
        _("_Cancel"));
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, _("Safetensors weight files"));
    gtk_file_filter_add_pattern(filter, "*.safetensors");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
    g_object_unref(filter);
    filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, _("All files"));
    gtk_file_filter_add_pattern(filter, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
    g_object_unref(filter);
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void use_demo_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    lpt_backbones_page_use_demo(LPT_BACKBONES_PAGE(widget));
}

/* ---- Life cycle ---- */

void lpt_backbones_page_set_project(LptBackbonesPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_BACKBONES_PAGE(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (project == self->project)
        return;
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    g_set_object(&self->project, project);
    self->changed_id =
        project != NULL ? g_signal_connect(project, "changed", G_CALLBACK(on_project_changed), self)
                        : 0;
    self->adding = FALSE; /* an add into the old project ends on its own */
    g_clear_error(&self->last_error);
    for (int role = 0; role < N_ROLES; role++)
        self->shown_id[role] = -1; /* inspect again, whatever the ids */
    reload(self);
}

gboolean lpt_backbones_page_is_busy(LptBackbonesPage *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), FALSE);
    return self->adding || self->inspecting[0] != NULL || self->inspecting[1] != NULL;
}

gboolean lpt_backbones_page_offers_demo(LptBackbonesPage *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), FALSE);
    return gtk_widget_get_visible(self->demo_box);
}

LptBackboneCard *lpt_backbones_page_get_card(LptBackbonesPage *self, LptStoreExpert role)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), NULL);
    g_return_val_if_fail(role < N_ROLES, NULL);
    return self->cards[role];
}

const LptBackboneDetails *lpt_backbones_page_get_details(LptBackbonesPage *self,
                                                         LptStoreExpert role)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), NULL);
    g_return_val_if_fail(role < N_ROLES, NULL);
    return self->details[role];
}

const GError *lpt_backbones_page_get_last_error(LptBackbonesPage *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONES_PAGE(self), NULL);
    return self->last_error;
}

static void lpt_backbones_page_dispose(GObject *object)
{
    LptBackbonesPage *self = LPT_BACKBONES_PAGE(object);

    for (int role = 0; role < N_ROLES; role++)
        cancel_inspection(self, (LptStoreExpert)role);
    if (self->chooser != NULL)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    g_clear_object(&self->project);
    self->toast_overlay = NULL;
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_BACKBONES_PAGE);

    G_OBJECT_CLASS(lpt_backbones_page_parent_class)->dispose(object);
}

static void lpt_backbones_page_finalize(GObject *object)
{
    LptBackbonesPage *self = LPT_BACKBONES_PAGE(object);

    for (int role = 0; role < N_ROLES; role++)
        lpt_backbone_details_free(self->details[role]);
    g_clear_error(&self->last_error);

    G_OBJECT_CLASS(lpt_backbones_page_parent_class)->finalize(object);
}

static void lpt_backbones_page_class_init(LptBackbonesPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_backbones_page_dispose;
    object_class->finalize = lpt_backbones_page_finalize;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_backbones_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptBackbonesPage, cards_row);
    gtk_widget_class_bind_template_child(widget_class, LptBackbonesPage, demo_box);

    gtk_widget_class_install_action(widget_class, "backbones.choose", "s", choose_action);
    gtk_widget_class_install_action(widget_class, "backbones.use-demo", NULL, use_demo_action);
}

static void lpt_backbones_page_init(LptBackbonesPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->toast_overlay = ADW_TOAST_OVERLAY(adw_bin_get_child(ADW_BIN(self)));
    for (int role = 0; role < N_ROLES; role++) {
        self->cards[role] = LPT_BACKBONE_CARD(lpt_backbone_card_new((LptStoreExpert)role));
        gtk_box_append(self->cards_row, GTK_WIDGET(self->cards[role]));
    }
    reload(self);
}

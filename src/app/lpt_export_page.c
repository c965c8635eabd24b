/* lpt_export_page.c: the Export page (see the header). */
#include "lpt_export_page.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_backend.h"
#include "lpt_run_config.h"

struct _LptExportPage {
    AdwBin parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwComboRow *run_row;
    AdwComboRow *format_row;
    AdwActionRow *embed_row;
    GtkSwitch *embed_switch;
    AdwActionRow *destination_row;
    GtkSwitch *prior_switch;
    GtkListBox *prior_list;
    GtkButton *export_button;
    GtkButton *cancel_button;
    GtkProgressBar *progress_bar;
    GtkLabel *status_label;
    AdwPreferencesGroup *result_group;
    AdwActionRow *images_row;
    AdwActionRow *diff_row;
    AdwActionRow *flips_row;
    AdwActionRow *verdict_row;
    AdwActionRow *file_row;

    /* owned */
    LptProject *project;
    gulong changed_id;
    GArray *run_ids;     /* gint64: the finished runs, as run_row lists them */
    gint64 prior_run;    /* the run whose classes the prior rows show, 0: none */
    GPtrArray *classes;  /* char *: that run's class names */
    GPtrArray *spins;    /* GtkSpinButton * (borrowed: children of prior_list) */
    GFile *destination;
    gboolean destination_chosen; /* by the user (else named after the project and run) */
    GCancellable *cancellable;   /* the running export, NULL when none */
    LptStoreExportFormat report_format; /* of the last export */
    LptExportReport *report;
    GError *last_error;
    GSettings *settings;
    GtkFileChooserNative *chooser;
    gboolean filling; /* rows being refilled: their notifications change nothing */
};

G_DEFINE_FINAL_TYPE(LptExportPage, lpt_export_page, ADW_TYPE_BIN)

/* ---- What is chosen ---- */

static gint64 chosen_run(LptExportPage *self)
{
    guint i = adw_combo_row_get_selected(self->run_row);
    return i < self->run_ids->len ? g_array_index(self->run_ids, gint64, i) : 0;
}

static LptStoreExportFormat chosen_format(LptExportPage *self)
{
    return adw_combo_row_get_selected(self->format_row) == 1 ? LPT_STORE_EXPORT_ONNX
                                                             : LPT_STORE_EXPORT_BUNDLE;
}

static void update_sensitivity(LptExportPage *self)
{
    gboolean busy = self->cancellable != NULL;
    gboolean ready = self->project != NULL && chosen_run(self) > 0 && self->destination;
    gtk_widget_set_sensitive(GTK_WIDGET(self->export_button), ready && !busy);
    gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), busy);
    gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->embed_row),
                             chosen_format(self) == LPT_STORE_EXPORT_BUNDLE && !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->run_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->format_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->destination_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->prior_list),
                             gtk_switch_get_active(self->prior_switch) && !busy);
}

/* The default destination: beside the project, "<project>-run<N>.lptmodel" (or .onnx). */
static void default_destination(LptExportPage *self)
{
    if (self->destination_chosen || self->project == NULL)
        return;
    gint64 run = chosen_run(self);
    g_clear_object(&self->destination);
    if (run > 0) {
        GFile *file = lpt_project_get_file(self->project);
        g_autoptr(GFile) dir = g_file_get_parent(file);
        g_autofree char *name = g_strdup_printf(
            "%s-run%" G_GINT64_FORMAT "%s", lpt_project_get_title(self->project), run,
            chosen_format(self) == LPT_STORE_EXPORT_ONNX ? ".onnx" : ".lptmodel");
        self->destination = g_file_get_child(dir, name);
    }
}

static void show_destination(LptExportPage *self)
{
    g_autofree char *path = self->destination ? g_file_get_path(self->destination) : NULL;
    adw_action_row_set_subtitle(self->destination_row, path ? path : C_("export", "No run to export yet"));
    update_sensitivity(self);
}

/* One row per class of the run with its expected share (percent), uniform at first. */
static void fill_prior_rows(LptExportPage *self, gint64 run)
{
    if (run == self->prior_run)
        return;
    self->prior_run = run;
    GtkWidget *row;
    while ((row = gtk_widget_get_first_child(GTK_WIDGET(self->prior_list))) != NULL)
        gtk_list_box_remove(self->prior_list, row);
    g_ptr_array_set_size(self->classes, 0);
    g_ptr_array_set_size(self->spins, 0);
    if (run == 0 || self->project == NULL)
        return;
    LptStore *store = lpt_project_get_store(self->project);
    int64_t *ids = NULL;
    size_t k = 0, n = 0;
    LptStoreClass *classes = NULL;
    if (lpt_store_run_classes(store, run, &ids, &k, NULL) != LPT_OK ||
        lpt_store_class_list(store, &classes, &n, NULL) != LPT_OK) {
        free(ids);
        return;
    }
    for (size_t i = 0; i < k; i++) {
        const char *name = "?";
        for (size_t j = 0; j < n; j++)
            if (classes[j].id == ids[i])
                name = classes[j].name;
        g_ptr_array_add(self->classes, g_strdup(name));
        GtkWidget *r = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), name);
        adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(r), FALSE);
        GtkWidget *spin = gtk_spin_button_new_with_range(0.001, 100.0, 0.1);
        gtk_spin_button_set_digits(GTK_SPIN_BUTTON(spin), 3);
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), 100.0 / (double)k);
        gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
        gtk_accessible_update_property(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                       -1);
        adw_action_row_add_suffix(ADW_ACTION_ROW(r), spin);
        adw_action_row_add_suffix(ADW_ACTION_ROW(r), gtk_label_new("%"));
        gtk_list_box_append(self->prior_list, r);
        g_ptr_array_add(self->spins, spin);
    }
    free(ids);
    free(classes);
}

/* The finished runs of the project, newest first, into run_row. */
static void fill_runs(LptExportPage *self)
{
    gint64 keep = chosen_run(self);
    g_array_set_size(self->run_ids, 0);
    GtkStringList *list = gtk_string_list_new(NULL);
    if (self->project != NULL) {
        LptStore *store = lpt_project_get_store(self->project);
        int64_t *ids = NULL;
        size_t n = 0;
        if (lpt_store_run_list(store, &ids, &n, NULL) == LPT_OK) {
            for (size_t i = n; i-- > 0;) {
                LptStoreRun *run = NULL;
                if (lpt_store_run_get(store, ids[i], &run, NULL) != LPT_OK || run == NULL)
                    continue;
                if (run->status == LPT_STORE_RUN_FINISHED) {
                    LptRunConfig cfg;
                    lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
                    const char *method = lpt_run_config_parse(&cfg, run->config_json, NULL,
                                                               NULL) == LPT_OK
                                             ? lpt_method_name(cfg.method)
                                             : "?";
                    g_autofree char *label =
                        g_strdup_printf(C_("export", "Run %lld (%s)"), (long long)run->id, method);
                    gtk_string_list_append(list, label);
                    g_array_append_val(self->run_ids, run->id);
                }
                free(run);
            }
        }
        free(ids);
    }
    self->filling = TRUE;
    adw_combo_row_set_model(self->run_row, G_LIST_MODEL(list));
    for (guint i = 0; i < self->run_ids->len; i++)
        if (g_array_index(self->run_ids, gint64, i) == keep)
            adw_combo_row_set_selected(self->run_row, i);
    self->filling = FALSE;
    g_object_unref(list);
    gtk_stack_set_visible_child_name(self->stack, self->run_ids->len > 0 ? "export" : "empty");
    fill_prior_rows(self, chosen_run(self));
    default_destination(self);
    show_destination(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->cancellable == NULL)
        fill_runs(self);
}

static void on_run_selected(GObject *row, GParamSpec *pspec, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->filling)
        return;
    fill_prior_rows(self, chosen_run(self));
    default_destination(self);
    show_destination(self);
}

static void on_format_selected(GObject *row, GParamSpec *pspec, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->destination_chosen && self->destination != NULL) {
        /* keep the chosen name, with the format's extension */
        g_autofree char *path = g_file_get_path(self->destination);
        char *dot = strrchr(path, '.');
        char *slash = strrchr(path, '/');
        if (dot != NULL && (slash == NULL || dot > slash))
            *dot = '\0';
        g_autofree char *renamed = g_strconcat(
            path, chosen_format(self) == LPT_STORE_EXPORT_ONNX ? ".onnx" : ".lptmodel", NULL);
        g_object_unref(self->destination);
        self->destination = g_file_new_for_path(renamed);
    }
    default_destination(self);
    show_destination(self);
}

static void on_prior_switched(GObject *sw, GParamSpec *pspec, gpointer user_data)
{
    update_sensitivity(LPT_EXPORT_PAGE(user_data));
}

/* ---- The destination ---- */

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        if (file != NULL)
            lpt_export_page_set_destination(self, file);
    }
    g_clear_object(&self->chooser);
}

static void choose_destination(GtkWidget *widget, const char *action, GVariant *param)
{
    LptExportPage *self = LPT_EXPORT_PAGE(widget);
    if (self->chooser != NULL || self->destination == NULL)
        return;
    GtkRoot *root = gtk_widget_get_root(widget);
    self->chooser = gtk_file_chooser_native_new(C_("export", "Export To"),
                                                GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                                GTK_FILE_CHOOSER_ACTION_SAVE, C_("export", "_Export Here"),
                                                C_("export", "_Cancel"));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_autoptr(GFile) dir = g_file_get_parent(self->destination);
    g_autofree char *name = g_file_get_basename(self->destination);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), dir, NULL);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), name);
    g_signal_connect_object(self->chooser, "response", G_CALLBACK(on_chooser_response), self, 0);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- The export on a worker thread ---- */

typedef struct {
    LptExportPage *page;   /* a reference */
    LptStore *store;       /* the worker's connection (the export's shared_with) */
    char *project_path, *out, *prior_file, *device;
    gint64 run_id;
    LptStoreExportFormat format;
    gboolean embed;
    LptBackendOptions backend;
    GMainContext *context;
    GCancellable *cancellable;
    gulong cancelled_id;
    atomic_bool cancel;
    LptExportReport *report; /* the result, also after a failed check */
} ExportTask;

typedef struct {
    LptExportPage *page; /* a reference */
    LptExportStage stage;
    double fraction;
} StagePost;

static void export_task_free(gpointer data)
{
    ExportTask *t = data;
    if (t->cancellable != NULL)
        g_cancellable_disconnect(t->cancellable, t->cancelled_id);
    g_clear_object(&t->cancellable);
    lpt_store_close(t->store);
    if (t->prior_file != NULL)
        g_unlink(t->prior_file);
    g_free(t->prior_file);
    g_free(t->project_path);
    g_free(t->out);
    g_free(t->device);
    lpt_export_report_free(t->report);
    g_main_context_unref(t->context);
    g_object_unref(t->page);
    g_free(t);
}

static gboolean stage_dispatch(gpointer data)
{
    StagePost *post = data;
    LptExportPage *self = post->page;
    static const char *words[] = {
        NC_("export", "Loading the run…"),
        NC_("export", "Recording the app’s predictions of the test images…"),
        NC_("export", "Writing…"), NC_("export", "Checking against the app’s predictions…")};
    if (self->cancellable != NULL) {
        gtk_label_set_label(self->status_label, g_dpgettext2(NULL, "export", words[post->stage]));
        gtk_progress_bar_set_fraction(self->progress_bar, post->fraction);
    }
    return G_SOURCE_REMOVE;
}

static void stage_post_free(gpointer data)
{
    StagePost *post = data;
    g_object_unref(post->page);
    g_free(post);
}

static bool on_core_progress(LptExportStage stage, int64_t done, int64_t total, void *user)
{
    ExportTask *t = user;
    StagePost *post = g_new0(StagePost, 1);
    post->page = g_object_ref(t->page);
    post->stage = stage;
    post->fraction = total > 0 ? (double)done / (double)total : 0.0;
    g_main_context_invoke_full(t->context, G_PRIORITY_DEFAULT, stage_dispatch, post,
                               stage_post_free);
    return !atomic_load(&t->cancel);
}

static void on_cancelled(GCancellable *cancellable, gpointer user_data)
{
    ExportTask *t = user_data;
    atomic_store(&t->cancel, true);
}

static void export_thread(GTask *gtask, gpointer source, gpointer task_data,
                          GCancellable *cancellable)
{
    ExportTask *t = task_data;
    LptExportOptions opt;
    lpt_export_options_init(&opt);
    opt.project = t->project_path;
    opt.shared_with = t->store;
    opt.run_id = t->run_id;
    opt.format = t->format;
    opt.out = t->out;
    opt.embed_backbones = t->embed && t->format == LPT_STORE_EXPORT_BUNDLE;
    g_autofree char *spec = t->prior_file ? g_strconcat("@", t->prior_file, NULL) : NULL;
    opt.prior = spec;
    opt.backend = t->backend;
    opt.progress = on_core_progress;
    opt.user = t;
    opt.cancel = &t->cancel;
    LptError err = {0};
    LptStatus status = lpt_export_run(&opt, &t->report, &err);
    lpt_store_close(t->store);
    t->store = NULL;
    if (status == LPT_OK) {
        g_task_return_boolean(gtask, TRUE);
    } else if (status == LPT_ERR_CANCELLED) {
        g_task_return_new_error(gtask, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                                C_("export", "The export was cancelled"));
    } else {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(gtask, error);
    }
}

static void set_row(AdwActionRow *row, const char *text)
{
    adw_action_row_set_subtitle(row, text);
}

static void show_result(LptExportPage *self)
{
    const LptExportReport *r = self->report;
    gtk_widget_set_visible(GTK_WIDGET(self->result_group), r != NULL);
    if (r == NULL)
        return;
    const LptParity *p = &r->parity;
    if (p->checked) {
        g_autofree char *images = g_strdup_printf("%" G_GINT64_FORMAT, (gint64)p->images);
        g_autofree char *diff =
            g_strdup_printf(C_("export", "%.3g (target %g)"), p->max_abs_diff,
                            self->report_format == LPT_STORE_EXPORT_ONNX ? LPT_PARITY_MAX_DIFF_ONNX
                                                                         : LPT_PARITY_MAX_DIFF);
        g_autofree char *flips = g_strdup_printf("%" G_GINT64_FORMAT, (gint64)p->flips);
        set_row(self->images_row, images);
        set_row(self->diff_row, diff);
        set_row(self->flips_row, flips);
    } else {
        set_row(self->images_row, "–");
        set_row(self->diff_row, "–");
        set_row(self->flips_row, "–");
    }
    const char *verdict = !p->checked ? C_("export", "Not checked") : p->passed ? C_("export", "Passed") : C_("export", "Failed");
    g_autofree char *verdict_text =
        p->checked ? g_strdup_printf(C_("export", "%s, on %s"), verdict, p->backend)
                   : g_strdup_printf("%s: %s", verdict, p->note);
    set_row(self->verdict_row, verdict_text);
    g_autofree char *path = self->destination ? g_file_get_path(self->destination) : NULL;
    g_autofree char *file =
        r->export_id > 0 ? g_strdup_printf("%s\nSHA-256 %s", path ? path : "", r->sha256)
                         : g_strdup(C_("export", "Not written"));
    set_row(self->file_row, file);
}

static void on_export_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(source);
    GTask *task = G_TASK(result);
    ExportTask *t = g_task_get_task_data(task);
    g_clear_object(&self->cancellable);
    g_clear_error(&self->last_error);
    lpt_export_report_free(self->report);
    self->report = g_steal_pointer(&t->report);
    GError *error = NULL;
    if (g_task_propagate_boolean(task, &error)) {
        gtk_label_set_label(self->status_label, C_("export", "Exported. The parity check passed."));
    } else {
        self->last_error = error;
        g_autofree char *text = g_strdup_printf(C_("export", "Not exported: %s"), error->message);
        gtk_label_set_label(self->status_label, text);
    }
    show_result(self);
    update_sensitivity(self);
    if (self->project != NULL && self->report != NULL && self->report->evaluated_first)
        lpt_project_notify_changed(self->project); /* the test images' predictions are new */
}

/* The prior rows as a JSON file for lpt_prior (@FILE: any class name goes through). */
static char *write_prior_file(LptExportPage *self, GError **error)
{
    cJSON *root = cJSON_CreateObject();
    for (guint i = 0; root && i < self->spins->len; i++)
        cJSON_AddNumberToObject(
            root, g_ptr_array_index(self->classes, i),
            gtk_spin_button_get_value(GTK_SPIN_BUTTON(g_ptr_array_index(self->spins, i))));
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    char *path = NULL;
    int fd = text ? g_file_open_tmp("lpt-prior-XXXXXX.json", &path, error) : -1;
    if (fd >= 0) {
        g_close(fd, NULL);
        if (!g_file_set_contents(path, text, -1, error)) {
            g_unlink(path);
            g_clear_pointer(&path, g_free);
        }
    }
    free(text);
    return path;
}

/* The backend the device setting asks for (as training uses it). */
static void backend_options(LptExportPage *self, LptBackendOptions *opt, char **device)
{
    lpt_backend_options_init(opt);
    g_autofree char *value = g_settings_get_string(self->settings, "device");
    *device = NULL;
    gboolean gpu = FALSE;
    if (value[0] == '\0') {
        LptDeviceInfo info[16];
        int n = lpt_device_list(info, 16, NULL);
        for (int i = 0; i < n && i < 16; i++)
            gpu = gpu || g_strcmp0(info[i].type, "CPU") != 0;
    }
    if (g_ascii_strcasecmp(value, "cpu") == 0 || (value[0] == '\0' && !gpu)) {
        opt->kind = LPT_BACKEND_CPU;
        opt->threads = MAX((int)g_get_num_processors() - 1, 1);
    } else {
        opt->kind = LPT_BACKEND_VULKAN;
        *device = value[0] != '\0' ? g_strdup(value) : NULL;
        opt->device = *device;
    }
}

gboolean lpt_export_page_export(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), FALSE);
    gint64 run = chosen_run(self);
    if (self->project == NULL || self->cancellable != NULL || run == 0 || !self->destination)
        return FALSE;
    GError *error = NULL;
    LptStore *store = lpt_project_open_thread_store(self->project, &error);
    char *prior = store && gtk_switch_get_active(self->prior_switch)
                      ? write_prior_file(self, &error)
                      : NULL;
    if (store == NULL || (gtk_switch_get_active(self->prior_switch) && prior == NULL)) {
        lpt_store_close(store);
        g_clear_error(&self->last_error);
        self->last_error = error;
        g_autofree char *text = g_strdup_printf(C_("export", "Not exported: %s"), error->message);
        gtk_label_set_label(self->status_label, text);
        return FALSE;
    }
    ExportTask *t = g_new0(ExportTask, 1);
    t->page = g_object_ref(self);
    t->store = store;
    t->project_path = g_file_get_path(lpt_project_get_file(self->project));
    t->out = g_file_get_path(self->destination);
    t->prior_file = prior;
    t->run_id = run;
    t->format = self->report_format = chosen_format(self);
    t->embed = gtk_switch_get_active(self->embed_switch);
    backend_options(self, &t->backend, &t->device);
    t->context = g_main_context_ref_thread_default();
    self->cancellable = g_cancellable_new();
    t->cancellable = g_object_ref(self->cancellable);
    t->cancelled_id = g_cancellable_connect(t->cancellable, G_CALLBACK(on_cancelled), t, NULL);
    lpt_export_report_free(self->report);
    self->report = NULL;
    show_result(self);
    gtk_label_set_label(self->status_label, C_("export", "Loading the run…"));
    gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
    update_sensitivity(self);

    GTask *task = g_task_new(self, NULL, on_export_done, NULL);
    g_task_set_task_data(task, t, export_task_free);
    g_task_run_in_thread(task, export_thread);
    g_object_unref(task);
    return TRUE;
}

static void do_export(GtkWidget *widget, const char *action, GVariant *param)
{
    lpt_export_page_export(LPT_EXPORT_PAGE(widget));
}

static void do_cancel(GtkWidget *widget, const char *action, GVariant *param)
{
    LptExportPage *self = LPT_EXPORT_PAGE(widget);
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
}

/* ---- The public functions ---- */

void lpt_export_page_set_project(LptExportPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    if (self->project == project)
        return;
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable); /* the task holds the page until it ends */
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_set_object(&self->project, project);
    if (project != NULL)
        self->changed_id = g_signal_connect_object(project, "changed",
                                                   G_CALLBACK(on_project_changed), self, 0);
    self->destination_chosen = FALSE;
    self->prior_run = -1;
    lpt_export_report_free(self->report);
    self->report = NULL;
    g_clear_error(&self->last_error);
    gtk_label_set_label(self->status_label, "");
    show_result(self);
    fill_runs(self);
}

void lpt_export_page_set_destination(LptExportPage *self, GFile *file)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self) && G_IS_FILE(file));
    g_set_object(&self->destination, file);
    self->destination_chosen = TRUE;
    show_destination(self);
}

void lpt_export_page_set_format(LptExportPage *self, LptStoreExportFormat format)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    adw_combo_row_set_selected(self->format_row, format == LPT_STORE_EXPORT_ONNX ? 1 : 0);
}

void lpt_export_page_set_prior_enabled(LptExportPage *self, gboolean enabled)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    gtk_switch_set_active(self->prior_switch, enabled);
}

void lpt_export_page_set_prior_share(LptExportPage *self, int class_index, double percent)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    if (class_index >= 0 && (guint)class_index < self->spins->len)
        gtk_spin_button_set_value(GTK_SPIN_BUTTON(g_ptr_array_index(self->spins, class_index)),
                                  percent);
}

gboolean lpt_export_page_is_busy(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), FALSE);
    return self->cancellable != NULL;
}

const LptExportReport *lpt_export_page_get_report(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NULL);
    return self->report;
}

const GError *lpt_export_page_get_last_error(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NULL);
    return self->last_error;
}

/* ---- GObject ---- */

static void lpt_export_page_dispose(GObject *object)
{
    LptExportPage *self = LPT_EXPORT_PAGE(object);
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_clear_object(&self->project);
    if (self->chooser != NULL)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_EXPORT_PAGE);
    G_OBJECT_CLASS(lpt_export_page_parent_class)->dispose(object);
}

static void lpt_export_page_finalize(GObject *object)
{
    LptExportPage *self = LPT_EXPORT_PAGE(object);
    g_array_unref(self->run_ids);
    g_ptr_array_unref(self->classes);
    g_ptr_array_unref(self->spins);
    g_clear_object(&self->destination);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->settings);
    lpt_export_report_free(self->report);
    g_clear_error(&self->last_error);
    G_OBJECT_CLASS(lpt_export_page_parent_class)->finalize(object);
}

static void lpt_export_page_class_init(LptExportPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = lpt_export_page_dispose;
    object_class->finalize = lpt_export_page_finalize;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_export_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, stack);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, run_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, format_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, embed_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, embed_switch);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, destination_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, prior_switch);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, prior_list);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, export_button);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, cancel_button);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, progress_bar);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, status_label);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, result_group);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, images_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, diff_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, flips_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, verdict_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, file_row);
    gtk_widget_class_install_action(widget_class, "export.choose", NULL, choose_destination);
    gtk_widget_class_install_action(widget_class, "export.run", NULL, do_export);
    gtk_widget_class_install_action(widget_class, "export.cancel", NULL, do_cancel);
}

static void lpt_export_page_init(LptExportPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->run_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->classes = g_ptr_array_new_with_free_func(g_free);
    self->spins = g_ptr_array_new();
    self->settings = g_settings_new(APP_ID);
    self->prior_run = -1;
    const char *formats[] = {C_("export", "Model bundle (.lptmodel)"), C_("export", "ONNX (.onnx)"), NULL};
    GtkStringList *list = gtk_string_list_new(formats);
    adw_combo_row_set_model(self->format_row, G_LIST_MODEL(list));
    g_object_unref(list);
    g_signal_connect_object(self->run_row, "notify::selected", G_CALLBACK(on_run_selected), self,
                            0);
    g_signal_connect_object(self->format_row, "notify::selected", G_CALLBACK(on_format_selected),
                            self, 0);
    g_signal_connect_object(self->prior_switch, "notify::active", G_CALLBACK(on_prior_switched),
                            self, 0);
    show_result(self);
    fill_runs(self);
}

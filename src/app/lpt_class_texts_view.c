/* lpt_class_texts_view.c: the class texts and their zero-shot accuracy (see the header).
 *
 * Rows are made again on each read (after the project or run changed, when the view is
 * shown). Zero-shot figures live in a table by class id that outlives the rows, so a reload
 * keeps them. A zero-shot run is a ZeroShotJob: the inputs copied on the main thread, a
 * GTask running lpt_zero_shot_run on a worker thread, progress in atomics that a timer shows,
 * and the result taken back on the main thread. Disposing the view cancels a running job;
 * its end then only frees it.
 */
#include "lpt_class_texts_view.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_review_samples.h"
#include "lpt_shown_run.h"
#include "lpt_vl_head.h"
#include "lpt_zero_shot.h"

#define POLL_MS 100 /* how often the progress bar follows a running job */

/* One class's row. */
typedef struct ClassRow {
    int64_t class_id;
    char *text;                /* the description as stored */
    double trained;            /* the run's VL recall; NaN when not known */
    AdwEntryRow *entry;        /* borrowed: in the list */
    GtkLabel *zero_shot_label; /* borrowed */
    GtkLabel *trained_label;   /* borrowed */
} ClassRow;

/* A zero-shot computation: inputs owned, progress shared with the worker. */
typedef struct ZeroShotJob {
    LptZeroShotOptions opt;
    char *backbone_name;
    int64_t *class_ids;           /* [K] */
    char **names, **descriptions; /* [K] */
    char **templates;             /* [n_templates] the project's (lpt_vl_head_templates) */
    char **paths;                 /* [count] */
    int32_t *labels;              /* [count] */
    atomic_bool cancel;
    atomic_llong done;
    LptZeroShotResult *result;
    LptError err;
    LptStatus status;
    gboolean orphaned; /* the view is gone */
} ZeroShotJob;

struct _LptClassTextsView {
    GtkWidget parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwStatusPage *empty_page;
    GtkButton *compute_button;
    GtkButton *cancel_button;
    GtkProgressBar *progress;
    GtkLabel *status_label;
    GtkListBox *class_list;

    /* owned */
    LptShownRun shown;
    GPtrArray *rows;       /* ClassRow *, the project's classes by id */
    GHashTable *zero_shot; /* gint64 class id -> double * recall (NaN: stale) */
    ZeroShotJob *job;      /* the running job, NULL when none */
    guint poll_id;
};

G_DEFINE_FINAL_TYPE(LptClassTextsView, lpt_class_texts_view, GTK_TYPE_WIDGET)

static void class_row_free(gpointer data)
{
    ClassRow *row = data;
    g_free(row->text);
    g_free(row);
}

static void job_free(ZeroShotJob *job)
{
    for (int k = 0; k < job->opt.num_classes; k++) {
        g_free(job->names[k]);
        g_free(job->descriptions[k]);
    }
    for (int64_t i = 0; i < job->opt.count; i++)
        g_free(job->paths[i]);
    g_free(job->names);
    g_free(job->descriptions);
    lpt_vl_head_templates_free(job->templates, job->opt.n_templates);
    g_free(job->paths);
    g_free(job->labels);
    g_free(job->class_ids);
    g_free(job->backbone_name);
    g_free((char *)job->opt.backbone);
    lpt_zero_shot_result_free(job->result);
    g_free(job);
}

static ClassRow *find_row(LptClassTextsView *self, int64_t class_id)
{
    for (guint i = 0; i < self->rows->len; i++) {
        ClassRow *row = g_ptr_array_index(self->rows, i);
        if (row->class_id == class_id)
            return row;
    }
    return NULL;
}

static void set_status(LptClassTextsView *self, const char *text)
{
    gtk_label_set_text(self->status_label, text != NULL ? text : "");
    gtk_widget_set_visible(GTK_WIDGET(self->status_label), text != NULL && text[0] != '\0');
}

/* "45%", or "—" for NaN (a new string). */
static char *percent(double value)
{
    return isnan(value) ? g_strdup("—") : g_strdup_printf("%.0f%%", 100.0 * value);
}

static void show_figures(LptClassTextsView *self, ClassRow *row)
{
    gint64 key = row->class_id;
    double *zs = g_hash_table_lookup(self->zero_shot, &key);
    g_autofree char *zs_text = percent(zs != NULL ? *zs : NAN);
    /* Translators: a class's zero-shot recall beside its text, as in "Zero-shot 45%" */
    g_autofree char *zs_label = g_strdup_printf(_("Zero-shot %s"), zs_text);
    gtk_label_set_text(row->zero_shot_label, zs_label);
    gtk_widget_set_tooltip_text(GTK_WIDGET(row->zero_shot_label),
                                zs == NULL ? _("Not computed yet")
                                : isnan(*zs)
                                    ? _("The text changed since: compute again")
                                    : _("Share of the class’s test images the CLIP backbone "
                                        "alone puts in it"));
    g_autofree char *trained_text = percent(row->trained);
    /* Translators: the trained vision-language expert's recall of a class, as in "VL 80%" */
    g_autofree char *trained_label = g_strdup_printf(_("Trained VL %s"), trained_text);
    gtk_label_set_text(row->trained_label, trained_label);
}

/* ---- Saving a text ---- */

gboolean lpt_class_texts_view_apply_text(LptClassTextsView *self, int64_t class_id,
                                         const char *text, GError **error)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), FALSE);
    g_return_val_if_fail(text != NULL, FALSE);
    ClassRow *row = find_row(self, class_id);
    if (self->shown.project == NULL || row == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("No class with id %lld"),
                    (long long)class_id);
        return FALSE;
    }
    g_autofree char *stripped = g_strstrip(g_strdup(text));
    LptError err = {0};
    if (lpt_store_class_update(lpt_project_get_store(self->shown.project), class_id, NULL, stripped,
                               &err) != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return FALSE;
    }
    if (g_strcmp0(row->text, stripped) != 0) {
        g_free(row->text);
        row->text = g_strdup(stripped);
        gint64 key = class_id;
        double *zs = g_hash_table_lookup(self->zero_shot, &key);
        if (zs != NULL)
            *zs = NAN; /* stale */
        show_figures(self, row);
    }
    if (g_strcmp0(gtk_editable_get_text(GTK_EDITABLE(row->entry)), stripped) != 0)
        gtk_editable_set_text(GTK_EDITABLE(row->entry), stripped);
    return TRUE;
}

static void on_apply(AdwEntryRow *entry, gpointer user_data)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(user_data);
    int64_t *class_id = g_object_get_data(G_OBJECT(entry), "class-id");
    g_autoptr(GError) error = NULL;
    if (!lpt_class_texts_view_apply_text(self, *class_id,
                                         gtk_editable_get_text(GTK_EDITABLE(entry)), &error)) {
        g_autofree char *text = g_strdup_printf(_("Could not save the text: %s"), error->message);
        set_status(self, text);
    }
}

/* ---- Reading ---- */

/* The run's VL recall per class id into the rows (NaN when the run has no VL predictions). */
static void read_trained(LptClassTextsView *self, LptStore *store)
{
    LptReviewSamples *s = NULL;
    if (self->shown.run_id <= 0 ||
        lpt_review_samples_read(store, self->shown.run_id, LPT_STORE_SPLIT_TEST, &s, NULL) !=
            LPT_OK)
        return;
    if (s->has_source[LPT_STORE_EXPERT_VL]) {
        gint64 *support = g_new0(gint64, s->num_classes), *right = g_new0(gint64, s->num_classes);
        for (size_t i = 0; i < s->count; i++) {
            const LptReviewSample *x = &s->samples[i];
            support[x->label]++;
            right[x->label] += x->top[LPT_STORE_EXPERT_VL] == x->label;
        }
        for (int32_t k = 0; k < s->num_classes; k++) {
            ClassRow *row = find_row(self, s->class_ids[k]);
            if (row != NULL && support[k] > 0)
                row->trained = (double)right[k] / (double)support[k];
        }
        g_free(support);
        g_free(right);
    }
    lpt_review_samples_free(s);
}

static void clear_rows(LptClassTextsView *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->class_list))) != NULL)
        gtk_list_box_remove(self->class_list, child);
    g_ptr_array_set_size(self->rows, 0);
}

static const char *no_backbone_text(void)
{
    return _("The project has no vision-language backbone: add a CLIP backbone (with its text "
             "tower) on the Backbones page to compute zero-shot accuracy.");
}

/* The VL backbone zero-shot uses: the run's, else the project's latest. *path and *name are
 * new strings; FALSE when there is none (or the store failed: err says). */
static gboolean find_backbone(LptClassTextsView *self, char **path, char **name, LptError *err)
{
    LptStore *store = lpt_project_get_store(self->shown.project);
    int64_t id = 0;
    LptStoreRun *run = NULL;
    if (self->shown.run_id > 0 &&
        lpt_store_run_get(store, self->shown.run_id, &run, err) == LPT_OK && run)
        id = run->backbone_id[LPT_STORE_EXPERT_VL];
    free(run);
    LptStoreBackbone *list = NULL;
    size_t n = 0;
    if (lpt_store_backbone_list(store, &list, &n, err) != LPT_OK)
        return FALSE;
    const LptStoreBackbone *pick = NULL;
    for (size_t i = 0; i < n; i++) /* by id: the last of the role is the latest */
        if (list[i].role == LPT_STORE_EXPERT_VL && (id == 0 || list[i].id == id))
            pick = &list[i];
    if (pick != NULL) {
        *path = g_strdup(pick->path);
        *name = g_strdup(pick->name && pick->name[0] ? pick->name : pick->path);
    }
    free(list);
    return *path != NULL;
}

static void reload(GtkWidget *widget)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(widget);
    clear_rows(self);
    if (self->shown.project == NULL) {
        gtk_stack_set_visible_child_name(self->stack, "empty");
        return;
    }
    LptStore *store = lpt_project_get_store(self->shown.project);
    LptStoreClass *classes = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_store_class_list(store, &classes, &n, &err) != LPT_OK || n == 0) {
        adw_status_page_set_description(self->empty_page,
                                        n == 0 && err.code == LPT_OK
                                            ? _("Import images to give the project its classes.")
                                            : err.message);
        gtk_stack_set_visible_child_name(self->stack, "empty");
        free(classes);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ClassRow *row = g_new0(ClassRow, 1);
        row->class_id = classes[i].id;
        row->text = g_strdup(classes[i].description);
        row->trained = NAN;
        row->entry = ADW_ENTRY_ROW(adw_entry_row_new());
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row->entry), classes[i].name);
        adw_preferences_row_set_use_underline(ADW_PREFERENCES_ROW(row->entry), FALSE);
        adw_entry_row_set_show_apply_button(row->entry, TRUE);
        gtk_editable_set_text(GTK_EDITABLE(row->entry), classes[i].description);
        int64_t *class_id = g_new(int64_t, 1);
        *class_id = classes[i].id;
        g_object_set_data_full(G_OBJECT(row->entry), "class-id", class_id, g_free);
        g_signal_connect(row->entry, "apply", G_CALLBACK(on_apply), self);
        GtkWidget *figures = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        gtk_widget_set_valign(figures, GTK_ALIGN_CENTER);
        row->zero_shot_label = GTK_LABEL(gtk_label_new(NULL));
        row->trained_label = GTK_LABEL(gtk_label_new(NULL));
        gtk_label_set_xalign(row->zero_shot_label, 1.0f);
        gtk_label_set_xalign(row->trained_label, 1.0f);
        gtk_label_set_width_chars(row->zero_shot_label, 16); /* the icon stays in place */
        gtk_label_set_width_chars(row->trained_label, 16);
        gtk_widget_add_css_class(GTK_WIDGET(row->zero_shot_label), "numeric");
        gtk_widget_add_css_class(GTK_WIDGET(row->trained_label), "numeric");
        gtk_widget_add_css_class(GTK_WIDGET(row->trained_label), "dim-label");
        gtk_box_append(GTK_BOX(figures), GTK_WIDGET(row->zero_shot_label));
        gtk_box_append(GTK_BOX(figures), GTK_WIDGET(row->trained_label));
        adw_entry_row_add_suffix(row->entry, figures);
        gtk_list_box_append(self->class_list, GTK_WIDGET(row->entry));
        g_ptr_array_add(self->rows, row);
    }
    free(classes);
    read_trained(self, store);
    for (guint i = 0; i < self->rows->len; i++)
        show_figures(self, g_ptr_array_index(self->rows, i));

    g_autofree char *path = NULL, *name = NULL;
    gboolean has_backbone = find_backbone(self, &path, &name, &err);
    if (self->job == NULL) {
        gtk_widget_set_sensitive(GTK_WIDGET(self->compute_button), has_backbone);
        if (!has_backbone)
            set_status(self, err.code != LPT_OK ? err.message : no_backbone_text());
    }
    gtk_stack_set_visible_child_name(self->stack, "content");
}

static void show_running(LptClassTextsView *self, gboolean running)
{
    gtk_widget_set_visible(GTK_WIDGET(self->progress), running);
    gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), running);
    gtk_widget_set_sensitive(GTK_WIDGET(self->compute_button), !running);
}

void lpt_class_texts_view_set_project(LptClassTextsView *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (!lpt_shown_run_set_project(&self->shown, project))
        return;
    if (self->job != NULL) { /* its figures would be another project's */
        atomic_store(&self->job->cancel, true);
        self->job->orphaned = TRUE;
        self->job = NULL;
        g_clear_handle_id(&self->poll_id, g_source_remove);
        show_running(self, FALSE);
    }
    g_hash_table_remove_all(self->zero_shot);
    set_status(self, NULL);
    lpt_shown_run_invalidate(&self->shown);
}

void lpt_class_texts_view_set_run(LptClassTextsView *self, int64_t run_id)
{
    g_return_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self));
    if (lpt_shown_run_set_run(&self->shown, run_id))
        lpt_shown_run_invalidate(&self->shown);
}

/* ---- Zero-shot ---- */

static bool on_job_progress(int64_t done, int64_t total, void *user)
{
    ZeroShotJob *job = user;
    atomic_store(&job->done, (long long)done);
    return !atomic_load(&job->cancel);
}

static void run_job(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    ZeroShotJob *job = data;
    job->status = lpt_zero_shot_run(&job->opt, &job->result, &job->err);
    g_task_return_boolean(task, TRUE);
}

static gboolean poll_progress(gpointer user_data)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(user_data);
    if (self->job == NULL) {
        self->poll_id = 0;
        return G_SOURCE_REMOVE;
    }
    long long done = atomic_load(&self->job->done), total = self->job->opt.count;
    gtk_progress_bar_set_fraction(self->progress, total > 0 ? (double)done / (double)total : 0);
    /* Translators: zero-shot progress, as in "120 of 400 test images" */
    g_autofree char *text = g_strdup_printf(_("%lld of %lld test images"), done, total);
    gtk_progress_bar_set_text(self->progress, text);
    return G_SOURCE_CONTINUE;
}

static void on_job_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    ZeroShotJob *job = g_task_get_task_data(G_TASK(result));
    if (job->orphaned)
        return; /* the task data's free function frees it */
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(source);
    self->job = NULL;
    g_clear_handle_id(&self->poll_id, g_source_remove);
    show_running(self, FALSE);
    g_autofree char *text = NULL;
    if (job->status == LPT_OK) {
        for (int k = 0; k < job->opt.num_classes; k++) {
            gint64 *key = g_new(gint64, 1);
            *key = job->class_ids[k];
            double *value = g_new(double, 1);
            *value = job->result->recall[k];
            g_hash_table_insert(self->zero_shot, key, value);
        }
        for (guint i = 0; i < self->rows->len; i++)
            show_figures(self, g_ptr_array_index(self->rows, i));
        /* Translators: after zero-shot: the backbone, the images, overall and balanced */
        text = g_strdup_printf(_("Zero-shot with “%s” on %lld test images: overall %.1f%%, "
                                 "balanced %.1f%%."),
                               job->backbone_name, (long long)job->result->images,
                               100.0 * job->result->overall, 100.0 * job->result->balanced);
    } else if (job->status == LPT_ERR_CANCELLED) {
        text = g_strdup(_("Zero-shot cancelled."));
    } else {
        text = g_strdup_printf(_("Zero-shot failed: %s"), job->err.message);
    }
    set_status(self, text);
}

/* The test images (not excluded) with their class's index among the rows; FALSE with err set
 * when the store fails. */
static gboolean read_images(LptClassTextsView *self, ZeroShotJob *job, LptError *err)
{
    LptStore *store = lpt_project_get_store(self->shown.project);
    int64_t *ids = NULL;
    size_t n = 0;
    if (lpt_store_image_list(store, 0, LPT_STORE_SPLIT_TEST, 0, &ids, &n, err) != LPT_OK)
        return FALSE;
    job->paths = g_new0(char *, n + 1);
    job->labels = g_new0(int32_t, n + 1);
    gboolean ok = TRUE;
    for (size_t i = 0; i < n && ok; i++) {
        LptStoreImage *image = NULL;
        ok = lpt_store_image_get(store, ids[i], &image, err) == LPT_OK;
        for (int k = 0; ok && image && k < job->opt.num_classes; k++)
            if (job->class_ids[k] == image->class_id) {
                job->paths[job->opt.count] = g_strdup(image->path);
                job->labels[job->opt.count++] = k;
            }
        free(image);
    }
    free(ids);
    return ok;
}

gboolean lpt_class_texts_view_start_zero_shot(LptClassTextsView *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), FALSE);
    if (self->job != NULL || self->shown.project == NULL)
        return FALSE;
    lpt_shown_run_reload_if_dirty(&self->shown);
    ZeroShotJob *job = g_new0(ZeroShotJob, 1);
    lpt_zero_shot_options_init(&job->opt);
    LptError err = {0};
    char *path = NULL;
    if (!find_backbone(self, &path, &job->backbone_name, &err)) {
        set_status(self, err.code != LPT_OK ? err.message : no_backbone_text());
        job_free(job);
        return FALSE;
    }
    job->opt.backbone = path;
    int K = (int)self->rows->len;
    job->class_ids = g_new0(int64_t, K + 1);
    job->names = g_new0(char *, K + 1);
    job->descriptions = g_new0(char *, K + 1);
    job->opt.num_classes = K;
    for (int k = 0; k < K; k++) {
        ClassRow *row = g_ptr_array_index(self->rows, k);
        job->class_ids[k] = row->class_id;
        job->names[k] = g_strdup(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row->entry)));
        job->descriptions[k] = g_strdup(row->text);
    }
    if (lpt_vl_head_templates(lpt_project_get_store(self->shown.project), &job->templates,
                              &job->opt.n_templates, &err) != LPT_OK ||
        !read_images(self, job, &err) || job->opt.count == 0) {
        set_status(self, err.code != LPT_OK ? err.message
                                            : _("The project has no test images to compute "
                                                "zero-shot accuracy on."));
        job_free(job);
        return FALSE;
    }
    job->opt.class_names = (const char *const *)job->names;
    job->opt.descriptions = (const char *const *)job->descriptions;
    job->opt.templates = (const char *const *)job->templates;
    job->opt.paths = (const char *const *)job->paths;
    job->opt.labels = job->labels;
    job->opt.progress = on_job_progress;
    job->opt.user = job;
    job->opt.cancel = &job->cancel;

    self->job = job;
    show_running(self, TRUE);
    set_status(self, NULL);
    poll_progress(self);
    self->poll_id = g_timeout_add(POLL_MS, poll_progress, self);
    GTask *task = g_task_new(self, NULL, on_job_done, NULL);
    g_task_set_task_data(task, job, (GDestroyNotify)job_free);
    g_task_run_in_thread(task, run_job);
    g_object_unref(task);
    return TRUE;
}

gboolean lpt_class_texts_view_is_running(LptClassTextsView *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), FALSE);
    return self->job != NULL;
}

static void on_compute(GtkButton *button, gpointer user_data)
{
    lpt_class_texts_view_start_zero_shot(LPT_CLASS_TEXTS_VIEW(user_data));
}

static void on_cancel(GtkButton *button, gpointer user_data)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(user_data);
    if (self->job != NULL)
        atomic_store(&self->job->cancel, true);
}

/* ---- Accessors ---- */

const char *lpt_class_texts_view_get_text(LptClassTextsView *self, int64_t class_id)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), NULL);
    ClassRow *row = find_row(self, class_id);
    return row != NULL ? row->text : NULL;
}

double lpt_class_texts_view_get_zero_shot(LptClassTextsView *self, int64_t class_id)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), NAN);
    gint64 key = class_id;
    double *zs = g_hash_table_lookup(self->zero_shot, &key);
    return zs != NULL ? *zs : NAN;
}

double lpt_class_texts_view_get_trained(LptClassTextsView *self, int64_t class_id)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), NAN);
    ClassRow *row = find_row(self, class_id);
    return row != NULL ? row->trained : NAN;
}

const char *lpt_class_texts_view_get_status(LptClassTextsView *self)
{
    g_return_val_if_fail(LPT_IS_CLASS_TEXTS_VIEW(self), NULL);
    return gtk_label_get_text(self->status_label);
}

/* ---- Life cycle ---- */

static void lpt_class_texts_view_map(GtkWidget *widget)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(widget);
    GTK_WIDGET_CLASS(lpt_class_texts_view_parent_class)->map(widget);
    lpt_shown_run_reload_if_dirty(&self->shown);
}

static void lpt_class_texts_view_dispose(GObject *object)
{
    LptClassTextsView *self = LPT_CLASS_TEXTS_VIEW(object);
    if (self->job != NULL) {
        atomic_store(&self->job->cancel, true);
        self->job->orphaned = TRUE;
        self->job = NULL;
    }
    g_clear_handle_id(&self->poll_id, g_source_remove);
    lpt_shown_run_clear(&self->shown);
    g_clear_pointer(&self->rows, g_ptr_array_unref);
    g_clear_pointer(&self->zero_shot, g_hash_table_unref);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_CLASS_TEXTS_VIEW);
    G_OBJECT_CLASS(lpt_class_texts_view_parent_class)->dispose(object);
}

static void lpt_class_texts_view_class_init(LptClassTextsViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_class_texts_view_dispose;
    widget_class->map = lpt_class_texts_view_map;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_class_texts_view.ui");
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, stack);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, empty_page);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, compute_button);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, cancel_button);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, progress);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, status_label);
    gtk_widget_class_bind_template_child(widget_class, LptClassTextsView, class_list);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void lpt_class_texts_view_init(LptClassTextsView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    lpt_shown_run_init(&self->shown, GTK_WIDGET(self), reload);
    self->rows = g_ptr_array_new_with_free_func(class_row_free);
    self->zero_shot = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_signal_connect(self->compute_button, "clicked", G_CALLBACK(on_compute), self);
    g_signal_connect(self->cancel_button, "clicked", G_CALLBACK(on_cancel), self);
    set_status(self, NULL);
}

GtkWidget *lpt_class_texts_view_new(void)
{
    return g_object_new(LPT_TYPE_CLASS_TEXTS_VIEW, NULL);
}

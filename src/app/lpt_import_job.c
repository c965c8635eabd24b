/* lpt_import_job.c: a dataset import on a worker thread (see the header). */
#include "lpt_import_job.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"

struct _LptImportJob {
    GObject parent_instance;

    /* owned */
    LptProject *project;
    char **sources; /* local paths, NULL-terminated */
    LptImportSourceKind kind;
    char *cache_dir; /* NULL: the core's default */
};

G_DEFINE_FINAL_TYPE(LptImportJob, lpt_import_job, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

/* What the worker thread owns while the import runs (the GTask's task data). */
typedef struct {
    LptImportJob *job;     /* a reference */
    LptStore *store;       /* the worker's connection; closed on the worker */
    GMainContext *context; /* where progress goes */
    GCancellable *cancellable;
    gulong cancelled_id;
    atomic_bool cancel; /* the core's cancel flag */
} ImportTask;

/* One progress report on its way to the main context. */
typedef struct {
    LptImportJob *job; /* a reference */
    LptImportProgress progress;
    char *current; /* progress.current points here */
} ProgressPost;

static void import_task_free(gpointer data)
{
    ImportTask *task = data;
    if (task->cancellable != NULL)
        g_cancellable_disconnect(task->cancellable, task->cancelled_id);
    g_clear_object(&task->cancellable);
    lpt_store_close(task->store);
    g_main_context_unref(task->context);
    g_object_unref(task->job);
    g_free(task);
}

static void progress_post_free(gpointer data)
{
    ProgressPost *post = data;
    g_object_unref(post->job);
    g_free(post->current);
    g_free(post);
}

static gboolean progress_dispatch(gpointer data)
{
    ProgressPost *post = data;
    g_signal_emit(post->job, signals[SIGNAL_PROGRESS], 0, (guint)post->progress.phase,
                  (gint64)post->progress.scanned, (gint64)post->progress.imported,
                  (gint64)post->progress.skipped, (gint64)post->progress.to_write,
                  post->current);
    return G_SOURCE_REMOVE;
}

/* The core's progress callback, on the worker thread. */
static bool on_core_progress(const LptImportProgress *progress, void *user)
{
    ImportTask *task = user;
    ProgressPost *post = g_new0(ProgressPost, 1);
    post->job = g_object_ref(task->job);
    post->progress = *progress;
    post->current = g_strdup(progress->current != NULL ? progress->current : "");
    post->progress.current = post->current;
    g_main_context_invoke_full(task->context, G_PRIORITY_DEFAULT, progress_dispatch, post,
                               progress_post_free);
    return !atomic_load(&task->cancel);
}

static void on_cancelled(GCancellable *cancellable, gpointer user_data)
{
    ImportTask *task = user_data;
    atomic_store(&task->cancel, true);
}

static void import_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                          GCancellable *cancellable)
{
    ImportTask *task = task_data;
    LptImportJob *self = task->job;

    LptImportOptions opt;
    lpt_import_options_init(&opt);
    opt.sources = (const char *const *)self->sources;
    opt.num_sources = g_strv_length(self->sources);
    opt.kind = self->kind;
    opt.cache_dir = self->cache_dir;
    /* Leave one CPU to the window so that it stays responsive. */
    opt.threads = MAX((int)g_get_num_processors() - 1, 1);
    opt.progress = on_core_progress;
    opt.progress_user = task;
    opt.cancel = &task->cancel;

    LptImportReport *report = NULL;
    LptError err = {0};
    LptStatus status = lpt_import_run(task->store, &opt, &report, &err);
    lpt_store_close(task->store);
    task->store = NULL;

    if (status == LPT_OK)
        g_task_return_pointer(gtask, report, (GDestroyNotify)lpt_import_report_free);
    else if (status == LPT_ERR_CANCELLED)
        g_task_return_new_error(gtask, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                                _("The import was cancelled"));
    else {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(gtask, error);
    }
}

/* After the caller's callback, on the main context: the job lets the project and the
 * application go here, so that the project (whose store belongs to the main thread) is never
 * finalized on the worker, whichever thread drops the GTask last. */
static void on_task_completed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptImportJob *self = LPT_IMPORT_JOB(user_data);
    GApplication *app = g_application_get_default();

    g_clear_object(&self->project);
    if (app != NULL)
        g_application_release(app);
    g_object_unref(self);
}

static void lpt_import_job_finalize(GObject *object)
{
    LptImportJob *self = LPT_IMPORT_JOB(object);

    g_clear_object(&self->project);
    g_strfreev(self->sources);
    g_free(self->cache_dir);

    G_OBJECT_CLASS(lpt_import_job_parent_class)->finalize(object);
}

static void lpt_import_job_class_init(LptImportJobClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = lpt_import_job_finalize;

    /**
     * LptImportJob::progress:
     * @phase: an LptImportPhase
     * @scanned: files and list entries found so far
     * @imported: files read (reading) or images written (writing) so far
     * @skipped: files skipped so far
     * @to_write: images to write in all (writing), 0 while reading
     * @current: the file last taken up, or ""
     *
     * Emitted on the main context about every 100 ms while the import runs.
     */
    signals[SIGNAL_PROGRESS] =
        g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 6, G_TYPE_UINT, G_TYPE_INT64, G_TYPE_INT64, G_TYPE_INT64,
                     G_TYPE_INT64, G_TYPE_STRING);
}

static void lpt_import_job_init(LptImportJob *self)
{
}

LptImportJob *lpt_import_job_new(LptProject *project, GFile *const *sources, guint n_sources,
                                 LptImportSourceKind kind, const char *cache_dir)
{
    g_return_val_if_fail(LPT_IS_PROJECT(project), NULL);
    g_return_val_if_fail(sources != NULL && n_sources > 0, NULL);

    LptImportJob *self = g_object_new(LPT_TYPE_IMPORT_JOB, NULL);
    self->project = g_object_ref(project);
    self->sources = g_new0(char *, n_sources + 1);
    for (guint i = 0; i < n_sources; i++) {
        char *path = g_file_get_path(sources[i]);
        /* A source without a local path (a remote location) keeps its URI: the core then
         * reports it as a file it cannot read, by name. */
        self->sources[i] = path != NULL ? path : g_file_get_uri(sources[i]);
    }
    self->kind = kind;
    self->cache_dir = cache_dir != NULL && cache_dir[0] != '\0' ? g_strdup(cache_dir) : NULL;
    return self;
}

void lpt_import_job_run_async(LptImportJob *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_IMPORT_JOB(self));

    g_autoptr(GTask) gtask = g_task_new(self, cancellable, callback, user_data);

    GError *error = NULL;
    LptStore *store = lpt_project_open_thread_store(self->project, &error);
    if (store == NULL) {
        g_task_return_error(gtask, error);
        return;
    }

    ImportTask *task = g_new0(ImportTask, 1);
    task->job = g_object_ref(self);
    task->store = store;
    task->context = g_main_context_ref_thread_default();
    atomic_init(&task->cancel, false);
    if (cancellable != NULL) {
        task->cancellable = g_object_ref(cancellable);
        task->cancelled_id =
            g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), task, NULL);
    }
    g_task_set_task_data(gtask, task, import_task_free);

    GApplication *app = g_application_get_default();
    if (app != NULL)
        g_application_hold(app);
    g_signal_connect(gtask, "notify::completed", G_CALLBACK(on_task_completed),
                     g_object_ref(self));
    g_task_run_in_thread(gtask, import_thread);
}

LptImportReport *lpt_import_job_run_finish(LptImportJob *self, GAsyncResult *result,
                                           GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

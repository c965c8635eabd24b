/* lpt_import_job.c: a dataset import on a worker thread (see the header). */
#include "lpt_import_job.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"

struct _LptImportJob {
    LptWorkerJob parent_instance;

    /* owned */
    char **sources; /* local paths, NULL-terminated */
    LptImportSourceKind kind;
    char *cache_dir; /* NULL: the core's default */
};

G_DEFINE_FINAL_TYPE(LptImportJob, lpt_import_job, LPT_TYPE_WORKER_JOB)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

/* One progress report on its way to the main context. */
typedef struct {
    LptImportJob *job; /* a reference */
    LptImportProgress progress;
    char *current; /* progress.current points here */
} ProgressPost;

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
    LptWorkerTask *task = user;
    ProgressPost *post = g_new0(ProgressPost, 1);
    post->job = LPT_IMPORT_JOB(g_object_ref(task->job));
    post->progress = *progress;
    post->current = g_strdup(progress->current != NULL ? progress->current : "");
    post->progress.current = post->current;
    lpt_worker_task_post(task, progress_dispatch, post, progress_post_free);
    return lpt_worker_task_keep_going(task);
}

static void import_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                          GCancellable *cancellable)
{
    LptWorkerTask *task = task_data;
    LptImportJob *self = LPT_IMPORT_JOB(task->job);

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
    lpt_worker_task_close_store(task);

    if (status == LPT_OK)
        g_task_return_pointer(gtask, report, (GDestroyNotify)lpt_import_report_free);
    else
        lpt_worker_task_return_failure(gtask, status, &err, _("The import was cancelled"));
}

static void lpt_import_job_finalize(GObject *object)
{
    LptImportJob *self = LPT_IMPORT_JOB(object);

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
    lpt_worker_job_set_project(LPT_WORKER_JOB(self), project);
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
    LptWorkerTask *task = lpt_worker_task_new(LPT_WORKER_JOB(self), cancellable, &error);
    if (task == NULL) {
        g_task_return_error(gtask, error);
        return;
    }
    g_task_set_task_data(gtask, task, lpt_worker_task_free);
    lpt_worker_job_run_in_thread(LPT_WORKER_JOB(self), gtask, import_thread);
}

LptImportReport *lpt_import_job_run_finish(LptImportJob *self, GAsyncResult *result,
                                           GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

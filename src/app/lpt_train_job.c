/* lpt_train_job.c: a training session on a worker thread (see the header). */
#include "lpt_train_job.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_train.h"

#define PROGRESS_INTERVAL_MS 200

struct _LptTrainJob {
    LptWorkerJob parent_instance;

    /* owned */
    gint64 run_id; /* the run trained; 0 for a new run until it is known */
    char *config_json;
    int phase, expert;
    LptBackendOptions backend;
    char *device; /* backend.device points here (or NULL) */
};

G_DEFINE_FINAL_TYPE(LptTrainJob, lpt_train_job, LPT_TYPE_WORKER_JOB)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

/* What the worker thread owns while the session runs (the GTask's task data). */
typedef struct {
    LptWorkerTask base; /* base.store is the session's shared_with */
    char *project_path;
    gint64 run_id;       /* known to the worker (a new run's, after its first progress) */
    gint64 last_post_us; /* when progress was last posted */
    GArray *losses;      /* LptTrainLossPoint since the last post */
} TrainTask;

/* One progress report on its way to the main context. */
typedef struct {
    LptTrainJob *job; /* a reference */
    gint64 run_id;
    LptTrainProgress progress;
    GArray *losses; /* LptTrainLossPoint */
} ProgressPost;

static void train_task_free(gpointer data)
{
    TrainTask *task = data;
    lpt_worker_task_clear(&task->base);
    g_free(task->project_path);
    g_array_unref(task->losses);
    g_free(task);
}

static void progress_post_free(gpointer data)
{
    ProgressPost *post = data;
    g_object_unref(post->job);
    g_array_unref(post->losses);
    g_free(post);
}

static gboolean progress_dispatch(gpointer data)
{
    ProgressPost *post = data;
    if (post->job->run_id == 0)
        post->job->run_id = post->run_id;
    g_signal_emit(post->job, signals[SIGNAL_PROGRESS], 0, &post->progress,
                  post->losses->len > 0 ? (gpointer)post->losses->data : NULL, post->losses->len);
    return G_SOURCE_REMOVE;
}

/* The newest run of the project: a new run's id, since the session made it before its first
 * progress and no other writer makes runs while the app holds the project. */
static gint64 newest_run(LptStore *store)
{
    int64_t *ids = NULL;
    size_t n = 0;
    gint64 id = 0;
    if (lpt_store_run_list(store, &ids, &n, NULL) == LPT_OK && n > 0)
        id = ids[n - 1];
    free(ids);
    return id;
}

/* The core's progress callback, on the worker thread. */
static bool on_core_progress(const LptTrainProgress *progress, void *user)
{
    TrainTask *task = user;
    if (task->run_id == 0)
        task->run_id = newest_run(task->base.store);
    if (progress->stage == LPT_TRAIN_STAGE_TRAIN && progress->steps > 0) {
        LptTrainLossPoint point = {
            .phase = progress->phase,
            .expert = progress->expert,
            .epoch = progress->epoch + (double)progress->step / (double)progress->steps,
            .loss = progress->loss,
        };
        g_array_append_val(task->losses, point);
    }

    gint64 now = g_get_monotonic_time();
    if (progress->stage == LPT_TRAIN_STAGE_EPOCH ||
        now - task->last_post_us >= PROGRESS_INTERVAL_MS * 1000) {
        task->last_post_us = now;
        ProgressPost *post = g_new0(ProgressPost, 1);
        post->job = LPT_TRAIN_JOB(g_object_ref(task->base.job));
        post->run_id = task->run_id;
        post->progress = *progress;
        post->losses = task->losses;
        task->losses = g_array_new(FALSE, FALSE, sizeof(LptTrainLossPoint));
        lpt_worker_task_post(&task->base, progress_dispatch, post, progress_post_free);
    }
    return lpt_worker_task_keep_going(&task->base);
}

static void train_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                         GCancellable *cancellable)
{
    TrainTask *task = task_data;
    LptTrainJob *self = LPT_TRAIN_JOB(task->base.job);

    LptTrainOptions opt;
    lpt_train_options_init(&opt);
    opt.project = task->project_path;
    opt.shared_with = task->base.store;
    opt.run_id = self->run_id;
    opt.new_run = self->run_id == 0;
    opt.config_json = self->run_id == 0 ? self->config_json : NULL;
    opt.config_source = _("the Training page’s hyper-parameters");
    opt.phase = self->phase;
    opt.expert = self->expert;
    opt.backend = self->backend;
    opt.progress = on_core_progress;
    opt.user = task;
    opt.cancel = &task->base.cancel;

    int64_t run_id = 0;
    LptError err = {0};
    LptStatus status = lpt_train_run(&opt, &run_id, &err);
    lpt_worker_task_close_store(&task->base);
    task->run_id = run_id;

    if (status == LPT_OK)
        g_task_return_boolean(gtask, TRUE);
    else
        lpt_worker_task_return_failure(gtask, status, &err, _("Training was stopped"));
}

static void lpt_train_job_finalize(GObject *object)
{
    LptTrainJob *self = LPT_TRAIN_JOB(object);

    g_free(self->config_json);
    g_free(self->device);

    G_OBJECT_CLASS(lpt_train_job_parent_class)->finalize(object);
}

static void lpt_train_job_class_init(LptTrainJobClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = lpt_train_job_finalize;

    /**
     * LptTrainJob::progress:
     * @progress: the core's LptTrainProgress (valid during the emission)
     * @losses: the LptTrainLossPoint of every training step since the last emission, or NULL
     * @n_losses: how many
     *
     * Emitted on the main context at most every 200 ms while the session trains, and for
     * every finished epoch (stage LPT_TRAIN_STAGE_EPOCH: its metrics are in the store).
     */
    signals[SIGNAL_PROGRESS] =
        g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_POINTER, G_TYPE_UINT);
}

static void lpt_train_job_init(LptTrainJob *self)
{
}

LptTrainJob *lpt_train_job_new(LptProject *project, gint64 run_id, const char *config_json,
                               int phase, int expert, const LptBackendOptions *backend)
{
    g_return_val_if_fail(LPT_IS_PROJECT(project), NULL);
    g_return_val_if_fail(run_id >= 0 && phase >= 0 && phase <= 3, NULL);
    g_return_val_if_fail(expert >= -1 && expert <= LPT_STORE_EXPERT_VL, NULL);
    g_return_val_if_fail(backend != NULL, NULL);

    LptTrainJob *self = g_object_new(LPT_TYPE_TRAIN_JOB, NULL);
    lpt_worker_job_set_project(LPT_WORKER_JOB(self), project);
    self->run_id = run_id;
    self->config_json = g_strdup(config_json);
    self->phase = phase;
    self->expert = expert;
    self->backend = *backend;
    self->device = g_strdup(backend->device);
    self->backend.device = self->device;
    return self;
}

gint64 lpt_train_job_get_run_id(LptTrainJob *self)
{
    g_return_val_if_fail(LPT_IS_TRAIN_JOB(self), 0);
    return self->run_id;
}

void lpt_train_job_run_async(LptTrainJob *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_TRAIN_JOB(self));

    g_autoptr(GTask) gtask = g_task_new(self, cancellable, callback, user_data);

    TrainTask *task = g_new0(TrainTask, 1);
    GError *error = NULL;
    if (!lpt_worker_task_open(&task->base, LPT_WORKER_JOB(self), cancellable, &error)) {
        g_free(task);
        g_task_return_error(gtask, error);
        return;
    }
    LptProject *project = lpt_worker_job_get_project(LPT_WORKER_JOB(self));
    task->project_path = g_file_get_path(lpt_project_get_file(project));
    task->run_id = self->run_id;
    task->losses = g_array_new(FALSE, FALSE, sizeof(LptTrainLossPoint));
    g_task_set_task_data(gtask, task, train_task_free);
    lpt_worker_job_run_in_thread(LPT_WORKER_JOB(self), gtask, train_thread);
}

gboolean lpt_train_job_run_finish(LptTrainJob *self, GAsyncResult *result, gint64 *run_id,
                                  GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    const TrainTask *task = g_task_get_task_data(G_TASK(result));
    gint64 id = task != NULL ? task->run_id : 0;
    if (id != 0)
        self->run_id = id;
    if (run_id != NULL)
        *run_id = self->run_id;
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* lpt_train_job.c: a training session on a worker thread (see the header). */
#include "lpt_train_job.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_train.h"

#define PROGRESS_INTERVAL_MS 200

struct _LptTrainJob {
    GObject parent_instance;

    /* owned */
    LptProject *project;
    gint64 run_id; /* the run trained; 0 for a new run until it is known */
    char *config_json;
    int phase, expert;
    LptBackendOptions backend;
    char *device; /* backend.device points here (or NULL) */
};

G_DEFINE_FINAL_TYPE(LptTrainJob, lpt_train_job, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

/* What the worker thread owns while the session runs (the GTask's task data). */
typedef struct {
    LptTrainJob *job;      /* a reference */
    LptStore *store;       /* the worker's connection (the session's shared_with) */
    char *project_path;
    GMainContext *context; /* where progress goes */
    GCancellable *cancellable;
    gulong cancelled_id;
    atomic_bool cancel;   /* the core's cancel flag */
    gint64 run_id;        /* known to the worker (a new run's, after its first progress) */
    gint64 last_post_us;  /* when progress was last posted */
    GArray *losses;       /* LptTrainLossPoint since the last post */
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
    if (task->cancellable != NULL)
        g_cancellable_disconnect(task->cancellable, task->cancelled_id);
    g_clear_object(&task->cancellable);
    lpt_store_close(task->store);
    g_free(task->project_path);
    g_array_unref(task->losses);
    g_main_context_unref(task->context);
    g_object_unref(task->job);
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
                  post->losses->len > 0 ? (gpointer)post->losses->data : NULL,
                  post->losses->len);
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
        task->run_id = newest_run(task->store);
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
        post->job = g_object_ref(task->job);
        post->run_id = task->run_id;
        post->progress = *progress;
        post->losses = task->losses;
        task->losses = g_array_new(FALSE, FALSE, sizeof(LptTrainLossPoint));
        g_main_context_invoke_full(task->context, G_PRIORITY_DEFAULT, progress_dispatch, post,
                                   progress_post_free);
    }
    return !atomic_load(&task->cancel);
}

static void on_cancelled(GCancellable *cancellable, gpointer user_data)
{
    TrainTask *task = user_data;
    atomic_store(&task->cancel, true);
}

static void train_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                         GCancellable *cancellable)
{
    TrainTask *task = task_data;
    LptTrainJob *self = task->job;

    LptTrainOptions opt;
    lpt_train_options_init(&opt);
    opt.project = task->project_path;
    opt.shared_with = task->store;
    opt.run_id = self->run_id;
    opt.new_run = self->run_id == 0;
    opt.config_json = self->run_id == 0 ? self->config_json : NULL;
    opt.config_source = _("the Training page’s hyper-parameters");
    opt.phase = self->phase;
    opt.expert = self->expert;
    opt.backend = self->backend;
    opt.progress = on_core_progress;
    opt.user = task;
    opt.cancel = &task->cancel;

    int64_t run_id = 0;
    LptError err = {0};
    LptStatus status = lpt_train_run(&opt, &run_id, &err);
    lpt_store_close(task->store);
    task->store = NULL;
    task->run_id = run_id;

    if (status == LPT_OK)
        g_task_return_boolean(gtask, TRUE);
    else if (status == LPT_ERR_CANCELLED)
        g_task_return_new_error(gtask, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                                _("Training was stopped"));
    else {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(gtask, error);
    }
}

/* After the caller's callback, on the main context: the job lets the project and the
 * application go here, so that the project (whose store belongs to the main thread) is never
 * finalized on the worker. */
static void on_task_completed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptTrainJob *self = LPT_TRAIN_JOB(user_data);
    GApplication *app = g_application_get_default();

    g_clear_object(&self->project);
    if (app != NULL)
        g_application_release(app);
    g_object_unref(self);
}

static void lpt_train_job_finalize(GObject *object)
{
    LptTrainJob *self = LPT_TRAIN_JOB(object);

    g_clear_object(&self->project);
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
        g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 3, G_TYPE_POINTER, G_TYPE_POINTER, G_TYPE_UINT);
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
    self->project = g_object_ref(project);
    self->run_id = run_id;
    self->config_json = g_strdup(config_json);
    self->phase = phase;
    self->expert = expert;
    self->backend = *backend;
    self->device = g_strdup(backend->device);
    self->backend.device = self->device;
    return self;
}

int lpt_train_job_get_phase(LptTrainJob *self)
{
    g_return_val_if_fail(LPT_IS_TRAIN_JOB(self), 0);
    return self->phase;
}

int lpt_train_job_get_expert(LptTrainJob *self)
{
    g_return_val_if_fail(LPT_IS_TRAIN_JOB(self), -1);
    return self->expert;
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

    GError *error = NULL;
    LptStore *store = lpt_project_open_thread_store(self->project, &error);
    if (store == NULL) {
        g_task_return_error(gtask, error);
        return;
    }

    TrainTask *task = g_new0(TrainTask, 1);
    task->job = g_object_ref(self);
    task->store = store;
    task->project_path = g_file_get_path(lpt_project_get_file(self->project));
    task->context = g_main_context_ref_thread_default();
    task->run_id = self->run_id;
    task->losses = g_array_new(FALSE, FALSE, sizeof(LptTrainLossPoint));
    atomic_init(&task->cancel, false);
    if (cancellable != NULL) {
        task->cancellable = g_object_ref(cancellable);
        task->cancelled_id =
            g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), task, NULL);
    }
    g_task_set_task_data(gtask, task, train_task_free);

    GApplication *app = g_application_get_default();
    if (app != NULL)
        g_application_hold(app);
    g_signal_connect(gtask, "notify::completed", G_CALLBACK(on_task_completed),
                     g_object_ref(self));
    g_task_run_in_thread(gtask, train_thread);
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

/* lpt_worker_job.c: the base of the app's worker-thread jobs (see the header). */
#include "lpt_worker_job.h"

#include <stdbool.h>

#include "lpt_app_error.h"

typedef struct {
    LptProject *project; /* owned until a run has completed */
} LptWorkerJobPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE(LptWorkerJob, lpt_worker_job, G_TYPE_OBJECT)

void lpt_worker_job_set_project(LptWorkerJob *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_WORKER_JOB(self));
    g_return_if_fail(LPT_IS_PROJECT(project));
    LptWorkerJobPrivate *priv = lpt_worker_job_get_instance_private(self);
    g_set_object(&priv->project, project);
}

LptProject *lpt_worker_job_get_project(LptWorkerJob *self)
{
    g_return_val_if_fail(LPT_IS_WORKER_JOB(self), NULL);
    LptWorkerJobPrivate *priv = lpt_worker_job_get_instance_private(self);
    return priv->project;
}

/* ---- The worker's side ---- */

static void on_cancelled(GCancellable *cancellable, gpointer user_data)
{
    LptWorkerTask *task = user_data;
    atomic_store(&task->cancel, true);
}

gboolean lpt_worker_task_open(LptWorkerTask *task, LptWorkerJob *job, GCancellable *cancellable,
                              GError **error)
{
    g_return_val_if_fail(LPT_IS_WORKER_JOB(job), FALSE);
    LptProject *project = lpt_worker_job_get_project(job);
    g_return_val_if_fail(project != NULL, FALSE);

    LptStore *store = lpt_project_open_thread_store(project, error);
    if (store == NULL)
        return FALSE;
    task->job = g_object_ref(job);
    task->store = store;
    task->context = g_main_context_ref_thread_default();
    atomic_init(&task->cancel, false);
    if (cancellable != NULL) {
        task->cancellable = g_object_ref(cancellable);
        task->cancelled_id =
            g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), task, NULL);
    }
    return TRUE;
}

void lpt_worker_task_clear(LptWorkerTask *task)
{
    if (task->cancellable != NULL)
        g_cancellable_disconnect(task->cancellable, task->cancelled_id);
    g_clear_object(&task->cancellable);
    lpt_worker_task_close_store(task);
    g_clear_pointer(&task->context, g_main_context_unref);
    g_clear_object(&task->job);
}

LptWorkerTask *lpt_worker_task_new(LptWorkerJob *job, GCancellable *cancellable, GError **error)
{
    LptWorkerTask *task = g_new0(LptWorkerTask, 1);
    if (!lpt_worker_task_open(task, job, cancellable, error)) {
        g_free(task);
        return NULL;
    }
    return task;
}

void lpt_worker_task_free(gpointer task)
{
    lpt_worker_task_clear(task);
    g_free(task);
}

void lpt_worker_task_close_store(LptWorkerTask *task)
{
    lpt_store_close(task->store);
    task->store = NULL;
}

gboolean lpt_worker_task_keep_going(LptWorkerTask *task)
{
    return !atomic_load(&task->cancel);
}

void lpt_worker_task_post(LptWorkerTask *task, GSourceFunc dispatch, gpointer post,
                          GDestroyNotify free_post)
{
    g_main_context_invoke_full(task->context, G_PRIORITY_DEFAULT, dispatch, post, free_post);
}

void lpt_worker_task_return_failure(GTask *gtask, LptStatus status, const LptError *err,
                                    const char *cancelled_message)
{
    if (status == LPT_ERR_CANCELLED) {
        g_task_return_new_error(gtask, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", cancelled_message);
        return;
    }
    GError *error = NULL;
    lpt_app_error_from_core(&error, err);
    g_task_return_error(gtask, error);
}

/* ---- Running ---- */

/* After the caller's callback, on the main context: the job lets the project and the
 * application go. */
static void on_task_completed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptWorkerJob *self = LPT_WORKER_JOB(user_data);
    LptWorkerJobPrivate *priv = lpt_worker_job_get_instance_private(self);
    GApplication *app = g_application_get_default();

    g_clear_object(&priv->project);
    if (app != NULL)
        g_application_release(app);
    g_object_unref(self);
}

void lpt_worker_job_run_in_thread(LptWorkerJob *self, GTask *gtask, GTaskThreadFunc thread_func)
{
    g_return_if_fail(LPT_IS_WORKER_JOB(self));
    g_return_if_fail(G_IS_TASK(gtask) && g_task_get_source_object(gtask) == (gpointer)self);

    GApplication *app = g_application_get_default();
    if (app != NULL)
        g_application_hold(app);
    g_signal_connect(gtask, "notify::completed", G_CALLBACK(on_task_completed), g_object_ref(self));
    g_task_run_in_thread(gtask, thread_func);
}

/* ---- GObject ---- */

static void lpt_worker_job_finalize(GObject *object)
{
    LptWorkerJobPrivate *priv = lpt_worker_job_get_instance_private(LPT_WORKER_JOB(object));
    g_clear_object(&priv->project);
    G_OBJECT_CLASS(lpt_worker_job_parent_class)->finalize(object);
}

static void lpt_worker_job_class_init(LptWorkerJobClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = lpt_worker_job_finalize;
}

static void lpt_worker_job_init(LptWorkerJob *self)
{
}

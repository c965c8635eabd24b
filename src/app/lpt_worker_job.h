/* lpt_worker_job.h: what the app's jobs that run one core operation of a project on a worker
 * thread share (LptImportJob, LptTrainJob): a base class that holds the project while the
 * job runs, and the worker's side of a run (LptWorkerTask).
 *
 * A run starts on the main thread. lpt_worker_task_open takes a store connection of the
 * worker's own from the project (opened there, closed on the worker once the core is done
 * with it), records the main context the run was started from (progress goes there) and
 * ties the GCancellable to the core's cancel flag, an atomic the core reads between steps.
 * lpt_worker_job_run_in_thread then runs the job's thread function with the project and
 * the application held (so that closing the last window waits for the worker, never cuts
 * it), and lets both go on the main context once the GTask has completed, after the
 * caller's callback: the project, whose store belongs to the main thread, is never
 * finalized on the worker, whichever thread drops the GTask last.
 *
 * Threads: main thread, except where a function says otherwise.
 */
#pragma once

#include <gio/gio.h>
#include <stdatomic.h>

#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_WORKER_JOB (lpt_worker_job_get_type())
G_DECLARE_DERIVABLE_TYPE(LptWorkerJob, lpt_worker_job, LPT, WORKER_JOB, GObject)

struct _LptWorkerJobClass {
    GObjectClass parent_class;
};

/* The project the job works on (set once, by the job's constructor; the job holds a
 * reference until its run has completed) / the project, NULL once a run has completed. */
void lpt_worker_job_set_project(LptWorkerJob *self, LptProject *project);
LptProject *lpt_worker_job_get_project(LptWorkerJob *self);

/* What a run's worker thread owns; the first member of a job's GTask task data. */
typedef struct {
    LptWorkerJob *job;     /* a reference */
    LptStore *store;       /* the worker's connection; NULL once closed */
    GMainContext *context; /* where progress goes: the thread that started the run */
    GCancellable *cancellable;
    gulong cancelled_id;
    atomic_bool cancel; /* the core's cancel flag: set when cancellable is cancelled */
} LptWorkerTask;

/* Fills task for a run of job: the worker's store connection, the calling thread's main
 * context, cancellable (may be NULL) tied to task->cancel. FALSE with error set when the
 * connection cannot be opened (task is then left empty). */
gboolean lpt_worker_task_open(LptWorkerTask *task, LptWorkerJob *job, GCancellable *cancellable,
                              GError **error);

/* Lets go of what lpt_worker_task_open took (the task data's free function calls it). */
void lpt_worker_task_clear(LptWorkerTask *task);

/* The task data of a job whose worker needs nothing beyond an LptWorkerTask: a new one,
 * opened as lpt_worker_task_open does (NULL with error set when that fails); freed with
 * lpt_worker_task_free, a GDestroyNotify for g_task_set_task_data. */
LptWorkerTask *lpt_worker_task_new(LptWorkerJob *job, GCancellable *cancellable, GError **error);
void lpt_worker_task_free(gpointer task);

/* Closes the worker's connection (on the worker, when the core is done with it). */
void lpt_worker_task_close_store(LptWorkerTask *task);

/* Whether the run goes on, for the core's progress callback: FALSE once cancelled. Any
 * thread. */
gboolean lpt_worker_task_keep_going(LptWorkerTask *task);

/* Runs dispatch(post) on the run's main context, then free_post(post). Any thread. */
void lpt_worker_task_post(LptWorkerTask *task, GSourceFunc dispatch, gpointer post,
                          GDestroyNotify free_post);

/* Ends gtask with the core's failure `status` (not LPT_OK): G_IO_ERROR_CANCELLED with
 * cancelled_message for LPT_ERR_CANCELLED, else LPT_CORE_ERROR with err's message. Any
 * thread. */
void lpt_worker_task_return_failure(GTask *gtask, LptStatus status, const LptError *err,
                                    const char *cancelled_message);

/* Runs thread_func for gtask (whose source object is self and whose task data starts with an
 * LptWorkerTask) on a worker thread, holding the application until gtask completes. */
void lpt_worker_job_run_in_thread(LptWorkerJob *self, GTask *gtask, GTaskThreadFunc thread_func);

G_END_DECLS

/* lpt_train_job.h: one training session (lpt_train_run) on a worker thread for the app.
 *
 * The job trains a run of the project: an existing one (run_id > 0: resumes it from its last
 * checkpoints, or continues with the phases not done yet) or a new one made from config_json
 * (run_id 0; read onto the method's defaults and the project's group thresholds, as
 * lpt_train.h says). `phase` (0 = every phase in order, else 1, 2 or 3) and `expert` (-1 =
 * both, else LPT_STORE_EXPERT_VISION or _VL) choose what is trained, as `lpt train --phase
 * --expert` does.
 *
 * It takes a store connection of its own from the project (on the main thread, when it
 * starts) and hands it to a GTask thread, where lpt_train_run opens the session's connection
 * from it and everything runs: the backend, the models, the data, the store writes. The
 * core's progress callback (on that thread, after every step) collects the step losses and
 * posts them with a copy of the figures to the main context the job was started from, at
 * most every PROGRESS_INTERVAL_MS (5 Hz) and after every epoch, where ::progress and
 * ::epoch are emitted. Cancelling the GCancellable sets the core's cancel flag, which the
 * trainer reads between steps: the run then ends CANCELLED with its last epoch's checkpoint
 * kept, and a later job resumes it. While it runs the job holds the project and the
 * application (the LptWorkerJob base does this plumbing).
 *
 * Threads: create, start, finish and connect on the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "lpt_backend.h"
#include "lpt_project.h"
#include "lpt_trainer.h"
#include "lpt_worker_job.h"

G_BEGIN_DECLS

/* One training step's loss, for the curves. */
typedef struct {
    int phase;             /* 1, 2 or 3 */
    LptStoreExpert expert; /* FUSED in phase 3 */
    double epoch;          /* epochs of the phase done after the step: epoch + step / steps */
    double loss;
} LptTrainLossPoint;

#define LPT_TYPE_TRAIN_JOB (lpt_train_job_get_type())
G_DECLARE_FINAL_TYPE(LptTrainJob, lpt_train_job, LPT, TRAIN_JOB, LptWorkerJob)

/* A job training run_id (> 0), or a new run from config_json (run_id 0; NULL: the
 * defaults), phase 0-3 and expert -1, 0 or 1 of it, on backend (copied; its device string
 * too). */
LptTrainJob *lpt_train_job_new(LptProject *project, gint64 run_id, const char *config_json,
                               int phase, int expert, const LptBackendOptions *backend);

/* The run the job trains: the given one, or a new run's id once the session has made it (it
 * is 0 before then). The new run is the project's newest; ::progress comes only after. */
gint64 lpt_train_job_get_run_id(LptTrainJob *self);

/* Starts the session; callback runs on this thread's main context when it is over. */
void lpt_train_job_run_async(LptTrainJob *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);

/* The run's id (TRUE), or FALSE with error set: G_IO_ERROR_CANCELLED when cancelled (the run
 * is CANCELLED, resumable), LPT_CORE_ERROR otherwise (the run is FAILED with that message,
 * or was never made). *run_id (may be NULL) gets the run's id either way, 0 when none. */
gboolean lpt_train_job_run_finish(LptTrainJob *self, GAsyncResult *result, gint64 *run_id,
                                  GError **error);

G_END_DECLS

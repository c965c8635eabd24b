/* lpt_import_job.h: one dataset import (lpt_import.h) run on a worker thread for the app.
 *
 * The job (an LptWorkerJob) takes a store connection of its own from the project (on the
 * main thread, when it starts) and hands it to a GTask thread, which runs lpt_import_run and
 * closes the connection there. The core's progress callback (on that thread, about every
 * 100 ms) posts a copy of the figures to the main context the job was started from, where
 * ::progress is emitted.
 * Cancelling the GCancellable sets the core's cancel flag; the core then rolls the import
 * back and the project is as it was. While it runs the job holds the project and the
 * application (so that closing the last window waits for the rollback, never cuts it).
 *
 * Threads: create, start, finish and connect on the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "lpt_import.h"
#include "lpt_project.h"
#include "lpt_worker_job.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMPORT_JOB (lpt_import_job_get_type())
G_DECLARE_FINAL_TYPE(LptImportJob, lpt_import_job, LPT, IMPORT_JOB, LptWorkerJob)

/* A job importing the local files `sources` (folders, list files, CSV files; kind DETECT
 * tells them apart) into project. cache_dir: the thumbnail cache, NULL for the default. */
LptImportJob *lpt_import_job_new(LptProject *project, GFile *const *sources, guint n_sources,
                                 LptImportSourceKind kind, const char *cache_dir);

/* Starts the import; callback runs on this thread's main context when it is over. */
void lpt_import_job_run_async(LptImportJob *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);

/* The report (free with lpt_import_report_free), or NULL with error set: G_IO_ERROR_CANCELLED
 * when cancelled, LPT_CORE_ERROR otherwise. */
LptImportReport *lpt_import_job_run_finish(LptImportJob *self, GAsyncResult *result,
                                           GError **error);

G_END_DECLS

/* lpt_export_job.h: one export of a finished run (lpt_export.h) on a worker thread for the
 * app's Export page.
 *
 * The job (an LptWorkerJob) takes a store connection of its own from the project when it
 * starts and hands it to a GTask thread, which resolves the backend of the device setting
 * (listing the Vulkan devices takes an instance: never on the main thread), runs
 * lpt_export_run and closes the connection there. The core's progress callback posts each
 * stage's figures to the main context the job was started from, where ::progress is emitted.
 * Cancelling the GCancellable sets the core's cancel flag; the export then stops between
 * images and writes and records nothing.
 *
 * The deployment prior goes to the core as a JSON file ({"class name": share, ...}, which any
 * class name goes through), and an ONNX file's runner (tests/onnx_run.js, in the app's
 * resources) as a file for node; both are temporary files of the job, removed when it goes.
 *
 * Threads: create, start, finish and connect on the main thread.
 */
#pragma once

#include <gio/gio.h>

#include "lpt_export.h"
#include "lpt_project.h"
#include "lpt_worker_job.h"

G_BEGIN_DECLS

#define LPT_TYPE_EXPORT_JOB (lpt_export_job_get_type())
G_DECLARE_FINAL_TYPE(LptExportJob, lpt_export_job, LPT, EXPORT_JOB, LptWorkerJob)

/* What to export and how (strings are copied). */
typedef struct {
    gint64 run_id;
    LptStoreExportFormat format; /* BUNDLE or ONNX */
    const char *out;             /* the file to write */
    gboolean embed_backbones;    /* bundle only */
    const char *prior_json;      /* {"class name": share, ...} of the run's classes; NULL: none */
    const char *device;          /* the "device" setting: "cpu", a Vulkan device, "" for the best */
    const char *onnx_runtime;    /* ONNX: onnxruntime-node's folder to check with; NULL: none */
} LptExportJobOptions;

LptExportJob *lpt_export_job_new(LptProject *project, const LptExportJobOptions *options);

/* Starts the export; callback runs on this thread's main context when it is over. */
void lpt_export_job_run_async(LptExportJob *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);

/* TRUE when exported; FALSE with error set otherwise (G_IO_ERROR_CANCELLED when cancelled,
 * LPT_CORE_ERROR with the core's message else). *report (may be NULL) gets the core's report
 * when there is one, also after a failed parity check (free with lpt_export_report_free),
 * else NULL. */
gboolean lpt_export_job_run_finish(LptExportJob *self, GAsyncResult *result,
                                   LptExportReport **report, GError **error);

G_END_DECLS

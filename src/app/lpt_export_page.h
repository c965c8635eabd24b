/* lpt_export_page.h: the Export page (product.md workflow 7, issue 8).
 *
 * What to export: a finished run of the project (the newest by default; each listed with its
 * balanced and few-shot accuracy on the test split, as the Review page computes them, read
 * on a worker thread), the
 * format (model bundle or ONNX), for a bundle whether the backbones go inside, the
 * destination file (beside the project, named after it and the run, until the user chooses
 * one), and the deployment prior: one expected share per class of the run (uniform at first,
 * or the training counts' shares), with the logit adjustment each share makes (lpt_prior.h's
 * formula: a_k = ln pi_k - ln pi_train_k, pi_train uniform or the training counts' shares
 * depending on the run's method); an enable switch turns the adjustment on.
 *
 * "Export" runs lpt_export_run on a worker thread (its own store connection taken from the
 * project, the backend of the app's "device" setting, resolved on that thread as training
 * resolves it, so that the check compares like with like); one progress bar per stage (load,
 * record the app's predictions when some are missing, write, parity check) and Cancel, which
 * stops between images. At the end the page shows the parity check: images compared, max
 * |delta probability|, label flips, passed or not, on which backend, with the file and its
 * SHA-256; a failed check or any other failure is shown with the core's words and leaves no
 * file (lpt_export.h). An ONNX file is checked under ONNX Runtime for Node.js when the page
 * finds it (the folder of onnxruntime-node in $LPT_ONNX_RUNTIME, else in
 * $XDG_CACHE_HOME/lpt-studio/onnxruntime/npm/node_modules/onnxruntime-node, and `node` on
 * PATH; the runner tests/onnx_run.js travels in the app's resources); otherwise the format row
 * and the result say that the file was not checked and why. The page lists the project's past
 * exports (the exports table) with their parity, newest first.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_export.h"
#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_EXPORT_PAGE (lpt_export_page_get_type())
G_DECLARE_FINAL_TYPE(LptExportPage, lpt_export_page, LPT, EXPORT_PAGE, AdwBin)

/* Shows project (NULL: none). */
void lpt_export_page_set_project(LptExportPage *self, LptProject *project);

/* The destination, as the file chooser sets it. */
void lpt_export_page_set_destination(LptExportPage *self, GFile *file);
/* The format, as the format row sets it (BUNDLE or ONNX). */
void lpt_export_page_set_format(LptExportPage *self, LptStoreExportFormat format);
/* The prior's switch and one class's expected share (percent), as the prior rows set them;
 * the "Uniform" and "From Training Counts" buttons are the actions export.prior-uniform and
 * export.prior-counts. */
void lpt_export_page_set_prior_enabled(LptExportPage *self, gboolean enabled);
void lpt_export_page_set_prior_share(LptExportPage *self, int class_index, double percent);
/* What a class's prior row shows: its share (percent) and its logit adjustment; NaN for a
 * class index out of range. */
double lpt_export_page_get_prior_share(LptExportPage *self, int class_index);
double lpt_export_page_get_prior_adjustment(LptExportPage *self, int class_index);

/* Whether the runs' test metrics are being read (on a worker thread, after the project was
 * set or changed). */
gboolean lpt_export_page_is_reading_runs(LptExportPage *self);

/* Starts an export, as the Export button does; FALSE when it cannot start (no finished run,
 * one runs already). */
gboolean lpt_export_page_export(LptExportPage *self);
gboolean lpt_export_page_is_busy(LptExportPage *self);

/* How the last export ended: its report (NULL before any, or when it failed before the
 * check) and its error (NULL after a success). */
const LptExportReport *lpt_export_page_get_report(LptExportPage *self);
const GError *lpt_export_page_get_last_error(LptExportPage *self);

G_END_DECLS

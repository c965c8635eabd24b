/* lpt_export_page.h: the Export page (product.md workflow 7, issue 8).
 *
 * What to export: a finished run of the project (the newest by default), the format (model
 * bundle or ONNX), for a bundle whether the backbones go inside, the destination file
 * (beside the project, named after it and the run, until the user chooses one), and the
 * deployment prior: one expected share per class of the run (uniform at first; a switch turns
 * the adjustment on). "Export" runs lpt_export_run on a worker thread (its own store
 * connection taken from the project, the device of the app's "device" setting, as training
 * uses it, so that the check compares like with like); the page shows the stage and, at the
 * end, the parity check: images compared, max |Δ probability|, label flips, passed or not,
 * with the file and its SHA-256. A failed check or any other failure is shown with the core's
 * words and leaves no file (lpt_export.h). Cancel stops between images.
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
/* The prior switch and one class's expected share (percent), as the prior rows set them. */
void lpt_export_page_set_prior_enabled(LptExportPage *self, gboolean enabled);
void lpt_export_page_set_prior_share(LptExportPage *self, int class_index, double percent);

/* Starts an export, as the Export button does; FALSE when it cannot start (no finished run,
 * one runs already). */
gboolean lpt_export_page_export(LptExportPage *self);
gboolean lpt_export_page_is_busy(LptExportPage *self);

/* How the last export ended: its report (NULL before any, or when it failed before the
 * check) and its error (NULL after a success). */
const LptExportReport *lpt_export_page_get_report(LptExportPage *self);
const GError *lpt_export_page_get_last_error(LptExportPage *self);

G_END_DECLS

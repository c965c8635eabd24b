/* lpt_dataset_page.h: the Dataset page — import, the class table, the long-tail chart, the
 * warnings, the report of the last import, the images of a class, and the split settings
 * (product.md workflows 2 and 3).
 *
 * The page shows its project (held while set) and reloads whenever the project emits
 * ::changed. Imports run as an LptImportJob on a worker thread with a progress bar and
 * Cancel; one import at a time per page. When an import ends the page shows what was
 * imported and what was skipped and why, and tells the project it changed.
 *
 * Table: one LptClassRow per class (name, images, train, val, test, share, group), sortable
 * by every column. Groups and the imbalance ratio come from lpt_split_groups over the
 * training counts, or over all images while none is in a split. Warnings: classes with
 * fewer than LPT_DATASET_PAGE_FEW_IMAGES images, classes with no train, val or test image,
 * images in no split.
 *
 * Selecting a class in the table shows its images beside it (LptClassImages: thumbnails,
 * exclude, relabel); the selection and the grid's scroll position survive reloads.
 *
 * Split settings (the Splits button, dataset.split-settings): an LptSplitDialog with the
 * project's latest settings; "Re-split" runs lpt_project_resplit_async (one import or one
 * re-split at a time), then the project changes and a toast says how many images moved.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_class_images.h"
#include "lpt_import.h"
#include "lpt_long_tail_chart.h"
#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_DATASET_PAGE_FEW_IMAGES 5 /* a class with fewer images than this is warned about */

#define LPT_TYPE_DATASET_PAGE (lpt_dataset_page_get_type())
G_DECLARE_FINAL_TYPE(LptDatasetPage, lpt_dataset_page, LPT, DATASET_PAGE, AdwBin)

/* Shows project (NULL: none); cancels an import into the previous one. */
void lpt_dataset_page_set_project(LptDatasetPage *self, LptProject *project);

/* Imports sources (local folders, list files or CSV files) into the project, as the import
 * buttons do after their file chooser. Refused (FALSE) while an import runs or without a
 * project. */
gboolean lpt_dataset_page_import(LptDatasetPage *self, GFile *const *sources, guint n_sources,
                                 LptImportSourceKind kind);
/* Cancels the running import, if any (its project is left as it was). */
void lpt_dataset_page_cancel_import(LptDatasetPage *self);
gboolean lpt_dataset_page_is_importing(LptDatasetPage *self);

/* Re-assigns the splits under cfg as the split dialog's "Re-split" does. Refused (FALSE)
 * while an import or a re-split runs or without a project. */
gboolean lpt_dataset_page_resplit(LptDatasetPage *self, const LptSplitConfig *cfg);
gboolean lpt_dataset_page_is_resplitting(LptDatasetPage *self);

/* What the page shows (for tests): the class table's rows (LptClassRow, in the table's
 * sort order), the chart, the warnings listed, the last import's report (NULL: none yet or
 * it failed) and its error (NULL: none); the images of the selected class. */
GListModel *lpt_dataset_page_get_class_model(LptDatasetPage *self);
LptClassImages *lpt_dataset_page_get_class_images(LptDatasetPage *self);
LptLongTailChart *lpt_dataset_page_get_chart(LptDatasetPage *self);
guint lpt_dataset_page_get_n_warnings(LptDatasetPage *self);
const LptImportReport *lpt_dataset_page_get_last_report(LptDatasetPage *self);
const GError *lpt_dataset_page_get_last_error(LptDatasetPage *self);

G_END_DECLS

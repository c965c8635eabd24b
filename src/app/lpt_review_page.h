/* lpt_review_page.h: the project's Review page (product.md workflow 6).
 *
 * A run picker (the runs with recorded predictions, newest first) and a split picker (the
 * splits the run has predictions of, test first) above five inner pages:
 *   - Overview: the headline metrics of each expert the run has and of the fused model
 *     (overall, balanced, many / medium / few, worst class: the numbers of `lpt eval`, read
 *     back by lpt_review.h); the per-class table (name, group, train count, support,
 *     precision, recall, each expert's recall, each expert's mean scorer weight; sortable);
 *     the confusion matrix of the fused model or of an expert (counts or row shares); the
 *     images of the class picked in the table or of the cell clicked in the matrix, as a
 *     grid of thumbnails whose images open in the inspector (lpt_image_inspector.h);
 *   - Queues, Calibration, Compare Runs, Class Texts (lpt_review_queues.h,
 *     lpt_calibration_view.h, lpt_run_compare_view.h, lpt_class_texts_view.h), which get the
 *     project and the run; their ::open-image opens the inspector too.
 *
 * A run's review is read on a worker thread with a connection of its own (a spinner shows
 * meanwhile, the page stays responsive); a newer pick cancels an older read. The run list is
 * read again when the project changes (a run evaluated meanwhile appears); a relabel or
 * exclusion from the inspector (LptProject::labels-changed) refreshes the images shown.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_confusion_matrix.h"
#include "lpt_project.h"
#include "lpt_review.h"

G_BEGIN_DECLS

#define LPT_TYPE_REVIEW_PAGE (lpt_review_page_get_type())
G_DECLARE_FINAL_TYPE(LptReviewPage, lpt_review_page, LPT, REVIEW_PAGE, AdwBin)

/* Shows project (NULL: none); the page holds a reference while it does. */
void lpt_review_page_set_project(LptReviewPage *self, LptProject *project);

/* Picks the run (one of the run picker's) and its test split, or the first split it has.
 * FALSE when the picker has no such run. */
gboolean lpt_review_page_select_run(LptReviewPage *self, gint64 run_id);
/* The run picked (0: none). */
gint64 lpt_review_page_get_run(LptReviewPage *self);
/* Whether a read is running; the review read last (NULL while none; owned by the page); the
 * failure of the last read (NULL when it succeeded; owned by the page). */
gboolean lpt_review_page_is_loading(LptReviewPage *self);
const LptReview *lpt_review_page_get_review(LptReviewPage *self);
const GError *lpt_review_page_get_last_error(LptReviewPage *self);

/* The text the headline metrics show for a model in a column (0 overall, 1 balanced, 2 many,
 * 3 medium, 4 few, 5 worst class); NULL when not shown. Owned by the page. */
const char *lpt_review_page_get_metric_text(LptReviewPage *self, LptStoreExpert model,
                                            int column);

/* Shows the images of true_class predicted as `predicted` by model (-1: any) below the
 * matrix, as a click on a cell (or a class in the table) does. */
void lpt_review_page_show_images(LptReviewPage *self, LptStoreExpert model, int true_class,
                                 int predicted);

/* Parts, for tests (owned by the page): the per-class table's rows (LptReviewClassRow, in the
 * table's order), the matrix, the images shown (LptImageItem) and their grid. */
GListModel *lpt_review_page_get_class_model(LptReviewPage *self);
LptConfusionMatrix *lpt_review_page_get_matrix(LptReviewPage *self);
GListModel *lpt_review_page_get_images(LptReviewPage *self);
GtkGridView *lpt_review_page_get_image_grid(LptReviewPage *self);

G_END_DECLS

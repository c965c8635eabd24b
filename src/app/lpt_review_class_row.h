/* lpt_review_class_row.h: one row of the Review page's per-class table — a class of the run
 * with its training count and group, its images in the reviewed split (support), the fused
 * model's precision and recall, each expert's recall and each expert's mean scorer weight.
 *
 * An immutable value object made from a loaded review (lpt_review.h); its read-only
 * properties are what the table's columns sort by. A rate that was not measured (no image of
 * the class, or a model the run lacks) reads NaN from the getters and -1 from the properties,
 * so that sorting puts it below every measured one.
 *
 * Threads: made and read on the main thread.
 */
#pragma once

#include <glib-object.h>

#include "lpt_review.h"

G_BEGIN_DECLS

#define LPT_TYPE_REVIEW_CLASS_ROW (lpt_review_class_row_get_type())
G_DECLARE_FINAL_TYPE(LptReviewClassRow, lpt_review_class_row, LPT, REVIEW_CLASS_ROW, GObject)

/* The row of class k of the review (which the row does not keep). */
LptReviewClassRow *lpt_review_class_row_new(const LptReview *review, int32_t k);

/* The class's index in the run's output order, and its name (owned by the row). */
int lpt_review_class_row_get_index(LptReviewClassRow *self);
const char *lpt_review_class_row_get_name(LptReviewClassRow *self);
LptGroup lpt_review_class_row_get_group(LptReviewClassRow *self);
gint64 lpt_review_class_row_get_train(LptReviewClassRow *self);
gint64 lpt_review_class_row_get_support(LptReviewClassRow *self);
/* The fused model's, in [0, 1] or NaN. */
double lpt_review_class_row_get_precision(LptReviewClassRow *self);
double lpt_review_class_row_get_recall(LptReviewClassRow *self);
/* An expert's (LPT_STORE_EXPERT_VISION or _VL), in [0, 1] or NaN. */
double lpt_review_class_row_get_expert_recall(LptReviewClassRow *self, LptStoreExpert expert);
double lpt_review_class_row_get_weight(LptReviewClassRow *self, LptStoreExpert expert);

G_END_DECLS

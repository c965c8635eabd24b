/* lpt_review.h: a run's evaluation read back from the project (product.md workflow 6): the
 * Review page's headline metrics for each expert and the fused model, its per-class table,
 * its confusion matrices and the images behind a class or a cell.
 *
 * What is read: the predictions `lpt eval` recorded for the run (lpt_store_prediction_scan)
 * of the images that are now in the split asked for and not excluded, each scored against
 * the label recorded with it. The metrics come from lpt_eval over the recorded confidences
 * (the full vectors when the run has at most LPT_STORE_MAX_PROB_CLASSES classes, else the
 * top-k lists, which give the same top-1 and top confidence), images in id order, with the
 * training counts of the run's classes now (split TRAIN, excluded left out), the run
 * config's group thresholds (eval.many_above, eval.few_below) and ECE bins: what
 * lpt_train_evaluate computes. So right after `lpt eval --run R --split S`, the metrics here
 * equal its JSON's, number for number; a relabel, exclusion or re-split since then shows here
 * only after the next `lpt eval`, except that images excluded or moved out of the split since
 * are left out (as that evaluation would leave them out).
 *
 * Models are indexed by LptStoreExpert: VISION, VL and FUSED (the scorer's fusion, or the mean
 * of the experts without phase 3: with one expert, the same as that expert).
 *
 * Ownership: an LptReview owns everything it returns (valid until lpt_review_free); image
 * lists and run lists are one malloc block each (free()). Reading uses the store on the
 * calling thread (the store's rule); a loaded LptReview is immutable, so any thread may read
 * it. No global state.
 */
#ifndef LPT_REVIEW_H
#define LPT_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_eval.h"
#include "lpt_run_config.h"
#include "lpt_store.h"

#define LPT_REVIEW_MODELS 3 /* vision, vl, fused: indexed by LptStoreExpert */

/* A run that has recorded predictions. */
typedef struct LptReviewRun {
    int64_t run_id;
    const char *name; /* "" when none */
    LptMethod method;
    LptStoreRunStatus status;
    int64_t created_at;
    int64_t predictions[LPT_STORE_SPLIT_COUNT]; /* per split now (NONE..TEST), excluded left out */
} LptReviewRun;

/* The runs with at least one prediction of an image not excluded, newest first. */
LptStatus lpt_review_list_runs(LptStore *store, LptReviewRun **runs, size_t *count,
                               LptError *err);

typedef struct LptReview LptReview;

/* Reads the run's evaluation on `split` (TRAIN, VAL or TEST). Errors: the store's;
 * LPT_ERR_INVALID_ARGUMENT for no such run or a bad split; LPT_ERR_FORMAT for a run config
 * that does not parse or a prediction that does not fit the run (the message names the run
 * and the image). A split without predictions gives a review of 0 images (rates NaN). */
LptStatus lpt_review_load(LptStore *store, int64_t run_id, LptStoreSplit split,
                          LptReview **out, LptError *err);
void lpt_review_free(LptReview *review);

int64_t lpt_review_run_id(const LptReview *review);
LptStoreSplit lpt_review_split(const LptReview *review);
LptMethod lpt_review_method(const LptReview *review);
/* Images read (those the metrics count). */
int64_t lpt_review_image_count(const LptReview *review);

/* K, and each run class's store id and name (owned by the review; k in [0, K)). */
int32_t lpt_review_num_classes(const LptReview *review);
int64_t lpt_review_class_id(const LptReview *review, int32_t k);
const char *lpt_review_class_name(const LptReview *review, int32_t k);

/* Whether the run has the model (FUSED always; an expert when its config trains it). */
bool lpt_review_has_model(const LptReview *review, LptStoreExpert model);
/* The model's metrics (lpt_eval.h: rates, per class with train count and group, confusion
 * [K x K] with rows the recorded label and columns the model's top-1); NULL when the run has
 * no such model. */
const LptEvalMetrics *lpt_review_metrics(const LptReview *review, LptStoreExpert model);
/* The mean scorer weight of an expert over the images of class k (by recorded label); NaN
 * when the class has no image, the run has no such expert or the weights were not recorded. */
double lpt_review_mean_weight(const LptReview *review, LptStoreExpert expert, int32_t k);

/* The images whose recorded label is true_class and whose top-1 of `model` is predicted (-1
 * for either: any), surest first (the model's confidence in its top-1, descending; ties by
 * image id): a class's images, or a confusion cell's. Errors: bad arguments (a class out of
 * range, a model the run lacks), out of memory. */
LptStatus lpt_review_select(const LptReview *review, LptStoreExpert model, int32_t true_class,
                            int32_t predicted, int64_t **image_ids, size_t *count,
                            LptError *err);

#endif

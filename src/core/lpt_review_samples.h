/* lpt_review_samples.h: a run's recorded predictions (lpt_store.h) as one compact row per
 * image: what the Review page's queues (lpt_review_queue.h), calibration (lpt_calibration.h)
 * and run comparison (lpt_run_compare.h) read.
 *
 * Which predictions: those of the images now in the split asked for and not excluded, in
 * image id order (lpt_store_prediction_scan): the set lpt_review.h scores, and the set a
 * fresh `lpt eval` of the split would evaluate. A sample holds, for one such image: the
 * label it was scored against (the label index recorded with the prediction, what `lpt eval`
 * counted), the image's class now (after relabels since the evaluation, as an index into the
 * run's classes), and the top-1 class and its confidence of each
 * source: the vision expert, the vision-language expert and the fused model (indexed by
 * LptStoreExpert; -1 and NaN for an expert the run does not have). Top-1 comes from the
 * recorded top-k lists, so it exists whatever K is; it is the argmax of the confidences with
 * ties to the lowest index, as lpt_eval_argmax (the trainer records them that way).
 *
 * Groups (many / medium / few) are those `lpt eval` uses: each run class's training images
 * now (split TRAIN, excluded left out) against the run config's eval.many_above and
 * eval.few_below (lpt_split_groups).
 *
 * Ownership: everything is owned by the LptReviewSamples, freed with
 * lpt_review_samples_free. Threads: reading uses the store on the calling thread (the
 * store's rule); a finished LptReviewSamples is immutable, so any thread may read it.
 */
#ifndef LPT_REVIEW_SAMPLES_H
#define LPT_REVIEW_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_split.h"
#include "lpt_store.h"

#define LPT_REVIEW_SOURCES 3 /* vision, vl, fused: indexed by LptStoreExpert */

typedef struct LptReviewSample {
    int64_t image_id;
    int32_t label;   /* the label index the prediction was scored against */
    int32_t current; /* the image's class now, as a run index; -1: not one of the run's */
    int32_t top[LPT_REVIEW_SOURCES]; /* top-1 class per source; -1: the run has no such expert */
    float prob[LPT_REVIEW_SOURCES];  /* its confidence; NaN with top -1 */
} LptReviewSample;

typedef struct LptReviewSamples {
    int64_t run_id;
    int32_t num_classes;                 /* K */
    int64_t *class_ids;                  /* [K] the run's classes by output index */
    char **class_names;                  /* [K] their names now */
    int64_t *train_counts;               /* [K] training images now (not excluded) */
    LptGroup *groups;                    /* [K] */
    LptGroupThresholds thresholds;       /* the run's */
    int ece_bins;                        /* the run config's eval.ece_bins (what `lpt eval` used) */
    bool has_source[LPT_REVIEW_SOURCES]; /* some sample has that source's top-1 */
    size_t count;
    LptReviewSample *samples; /* [count], by image id */
} LptReviewSamples;

/* Reads run_id's predictions on `split` (TRAIN, VAL or TEST). Errors: the store's;
 * LPT_ERR_INVALID_ARGUMENT for no such run or a bad split; LPT_ERR_FORMAT for a run config
 * that does not parse or a prediction whose class indices do not fit the run (the message
 * names the run and the image). A split without predictions gives count 0. */
LptStatus lpt_review_samples_read(LptStore *store, int64_t run_id, LptStoreSplit split,
                                  LptReviewSamples **out, LptError *err);

void lpt_review_samples_free(LptReviewSamples *samples);

/* The index of the sample of image_id, or -1 (binary search: samples are by image id). */
int64_t lpt_review_samples_find(const LptReviewSamples *samples, int64_t image_id);

#endif

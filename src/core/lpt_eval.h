/* lpt_eval.h: classification metrics of method.md §8, for one model (an expert alone or the
 * fused model) on one split.
 *
 * Feed it one image at a time (its label and the model's K confidences, which should sum to
 * 1), then read the metrics. Definitions (classes c = 0..K-1, n_c = test images of class c):
 *   prediction      argmax of the confidences (ties: the lowest class index)
 *   overall         correct / images
 *   recall_c        correct of class c / n_c; precision_c = correct of c / predicted as c
 *                   (0 when nothing was predicted as c); f1_c = 2 p r / (p + r) (0 when both 0)
 *   balanced        mean of recall_c over the classes with n_c > 0
 *   many/medium/few mean of recall_c over that group's classes with n_c > 0 (groups from
 *                   the training counts and thresholds, lpt_split_groups); NaN when none
 *   worst recall    the smallest recall_c over classes with n_c > 0 (and which class)
 *   macro-F1        mean of f1_c over the classes with n_c > 0
 *   ECE             bins of equal width over the top confidence in [0, 1] (a confidence of
 *                   exactly 1 goes in the last bin): sum over bins of
 *                   (images in bin / images) |accuracy in bin - mean confidence in bin|
 *   confusion       [K, K] counts, row = true class, column = predicted class
 * With no image every rate is NaN.
 *
 * Ownership and threads: an LptEval owns its arrays; one thread at a time; no global state.
 */
#ifndef LPT_EVAL_H
#define LPT_EVAL_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_split.h"

typedef struct LptEvalClass {
    int64_t train_count; /* training images (what the group comes from) */
    LptGroup group;
    int64_t support;   /* images of this class evaluated */
    int64_t predicted; /* images predicted as this class */
    int64_t correct;
    double precision, recall, f1; /* NaN recall when support is 0 */
} LptEvalClass;

typedef struct LptEvalMetrics {
    int num_classes;
    int64_t images, correct;
    double overall, balanced, many, medium, few;
    double worst_recall;
    int worst_class; /* -1 when no class has support */
    double macro_f1, ece;
    int64_t group_classes[LPT_GROUP_COUNT]; /* classes with support per group */
    const LptEvalClass *classes;            /* [K], owned by the LptEval */
    const int64_t *confusion;               /* [K * K], owned by the LptEval */
} LptEvalMetrics;

typedef struct LptEval LptEval;

/* An empty accumulator for K classes with these training counts ([K], >= 0), thresholds
 * (NULL = the defaults) and ECE bins (>= 1). */
LptEval *lpt_eval_new(int num_classes, const int64_t *train_counts,
                      const LptGroupThresholds *thresholds, int ece_bins, LptError *err);
void lpt_eval_free(LptEval *ev);

/* Forgets every image added. */
void lpt_eval_reset(LptEval *ev);

/* Adds one image: its label in [0, K) and the model's confidences probs[K]. A NaN confidence
 * or a label out of range is an error (the image is not counted). */
LptStatus lpt_eval_add(LptEval *ev, int label, const float *probs, LptError *err);

/* The metrics of the images added so far (valid until the next add, reset or free). */
const LptEvalMetrics *lpt_eval_metrics(LptEval *ev);

/* argmax of probs[K] (ties: the lowest index). */
int lpt_eval_argmax(const float *probs, int num_classes);

#endif

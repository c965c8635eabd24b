/* lpt_run_compare.h: what changed between two runs on the images both evaluated (product.md
 * workflow 6: "compare two runs: which images flipped").
 *
 * `before` and `after` are two runs' samples (lpt_review_samples.h). An image counts when
 * both have a prediction for it; it is right in a run when that run's fused top-1 is the
 * label its prediction was scored against. It flipped right -> wrong when `before` had it
 * right and `after` wrong, wrong -> right the other way. Per class, counted under the image's
 * label in `after` (by class id, so runs with different class orders compare; a class one
 * run lacks simply has no images of its own there): images in common, both right, right ->
 * wrong, wrong -> right, both wrong. Classes come in `after`'s output order, then the classes
 * only `before` has, in its order.
 *
 * Ownership: one malloc block (free()). No global state; any thread.
 */
#ifndef LPT_RUN_COMPARE_H
#define LPT_RUN_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_review_samples.h"

typedef struct LptRunCompareClass {
    int64_t class_id;
    const char *name; /* points into the samples it was made from */
    int64_t images;   /* evaluated by both runs, with this label in `after` */
    int64_t both_right, right_to_wrong, wrong_to_right, both_wrong;
} LptRunCompareClass;

typedef struct LptRunCompareFlip {
    int64_t image_id;
    int64_t class_id;        /* its label in `after` */
    bool now_right;          /* wrong -> right (else right -> wrong) */
    int64_t before_class_id; /* what each run predicted (fused top-1), as class ids */
    int64_t after_class_id;
    float before_prob, after_prob; /* and their confidences */
} LptRunCompareFlip;

typedef struct LptRunCompare {
    int64_t common;         /* images both runs evaluated */
    int64_t only_before;    /* evaluated by `before` alone */
    int64_t only_after;     /* by `after` alone */
    int64_t right_to_wrong; /* totals over the classes */
    int64_t wrong_to_right;
    size_t num_classes;
    LptRunCompareClass *classes; /* [num_classes] */
    size_t num_flips;
    LptRunCompareFlip *flips; /* right -> wrong first, then wrong -> right; each by image id */
} LptRunCompare;

/* Compares (see the header comment). The result borrows class names from `after` and
 * `before`: free it first. */
LptStatus lpt_run_compare(const LptReviewSamples *before, const LptReviewSamples *after,
                          LptRunCompare **out, LptError *err);

#endif

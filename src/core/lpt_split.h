/* lpt_split.h: stratified train/val/test assignment and the many/medium/few class groups.
 *
 * Pure computation on arrays: no I/O, no store. The caller maps its classes to indices
 * 0..num_classes-1 (the store's class ids sorted, say) and passes one label per image.
 *
 * How many images of a class go where (lpt_split_targets; n = the class's images, given
 * splits included, f = the fractions, m = min_per_class, round = half up):
 *   val  = f_val  > 0 ? max(round(f_val  * n), m) : 0
 *   test = f_test > 0 ? max(round(f_test * n), m) : 0
 *   train = n - val - test, and train keeps at least one image when f_train > 0: where the
 *   class is too small for that, val gives way first, then test.
 * With the defaults (0.8/0.1/0.1, m = 1): a class of 1 image is all train; a class of 2 has
 * 1 train + 1 test and no val; a class of 3 or more has at least 1 val and 1 test. Test is
 * kept before val because a tail class's test number is what the user came for; a class
 * left without val (or test) is the caller's to warn about ("class absent from val").
 * Without the minimum raising a count (large classes), each split is within 1 image of
 * its fraction of n.
 *
 * User-given splits (`given[i]` TRAIN/VAL/TEST) are always kept; only images given NONE are
 * assigned, and they fill the class's targets where the given ones fall short: first test,
 * then val (up to the target, less what was given), then the rest train; one free image is
 * kept for train when the class has no given train image and f_train > 0.
 *
 * Which images: a class's free images are put in a canonical order (by `keys[i]` then
 * input position when keys are given, else their input order among that class's images),
 * shuffled by an LptRng seeded (seed, stream = class index), and taken in that order: test,
 * val, then train. So the result is deterministic for a seed and a class's assignment
 * depends only on the seed, the class index and its own images: not on the other classes,
 * nor on how the classes' images are interleaved in the input. With keys (e.g. the first 8
 * bytes of each image's content hash), it does not depend on the input order at all.
 *
 * Groups (method.md §8): from training counts, MANY above `many_above` (100) images, FEW below
 * `few_below` (20), MEDIUM between (20..100 inclusive); the thresholds are editable.
 *
 * Ownership and threads: inputs are read, outputs are caller-allocated arrays; no state, so
 * any thread may call any function here.
 */
#ifndef LPT_SPLIT_H
#define LPT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

/* The same values as LptStoreSplit, so values convert by a cast. */
typedef enum LptSplit {
    LPT_SPLIT_NONE = 0, /* in `given`: not fixed by the user, assign it */
    LPT_SPLIT_TRAIN = 1,
    LPT_SPLIT_VAL = 2,
    LPT_SPLIT_TEST = 3,
} LptSplit;

typedef struct LptSplitConfig {
    double train_fraction, val_fraction, test_fraction; /* each in [0, 1], sum 1 (+-1e-6) */
    int32_t min_per_class; /* val and test each (those with fraction > 0); >= 0 */
    uint64_t seed;
} LptSplitConfig;

#define LPT_SPLIT_TRAIN_FRACTION_DEFAULT 0.8
#define LPT_SPLIT_VAL_FRACTION_DEFAULT 0.1
#define LPT_SPLIT_TEST_FRACTION_DEFAULT 0.1
#define LPT_SPLIT_MIN_PER_CLASS_DEFAULT 1

/* Fills cfg with the defaults above and seed 0. */
void lpt_split_config_default(LptSplitConfig *cfg);

/* The counts the rule above gives a class of `class_size` images (outputs may be NULL).
 * Fails on a bad config or a negative class_size. */
LptStatus lpt_split_targets(const LptSplitConfig *cfg, int64_t class_size, int64_t *n_train,
                            int64_t *n_val, int64_t *n_test, LptError *err);

/* Assigns a split to each of `n_images` images: out[i] is TRAIN, VAL or TEST. labels[i] in
 * [0, num_classes); given (may be NULL: all NONE) and keys (may be NULL) have n_images
 * entries. num_classes >= 1; n_images may be 0 (labels and out may then be NULL). On failure
 * out is untouched and the message names the image or setting at fault. */
LptStatus lpt_split_assign(const LptSplitConfig *cfg, const int32_t *labels, const LptSplit *given,
                           const uint64_t *keys, size_t n_images, int32_t num_classes,
                           LptSplit *out, LptError *err);

typedef enum LptGroup {
    LPT_GROUP_MANY = 0,
    LPT_GROUP_MEDIUM = 1,
    LPT_GROUP_FEW = 2,
} LptGroup;
#define LPT_GROUP_COUNT 3

typedef struct LptGroupThresholds {
    int64_t many_above; /* more training images than this: MANY */
    int64_t few_below;  /* fewer than this: FEW; the rest MEDIUM */
    /* 0 <= few_below <= many_above + 1 (equality: no class is MEDIUM) */
} LptGroupThresholds;

#define LPT_GROUP_MANY_ABOVE_DEFAULT 100
#define LPT_GROUP_FEW_BELOW_DEFAULT 20

/* "many", "medium", "few" ("unknown" for other values). */
const char *lpt_group_name(LptGroup group);

/* Groups each class by its training count (thresholds NULL: the defaults) into groups[c]
 * (may be NULL), and the imbalance ratio n_max / n_min over the classes that have at least
 * one training image into *imbalance_ratio (may be NULL; NaN when no class has one: a class
 * with no training image cannot be trained and is the caller's to warn about, not an
 * infinite ratio). num_classes >= 1; counts >= 0. */
LptStatus lpt_split_groups(const int64_t *train_counts, int32_t num_classes,
                           const LptGroupThresholds *thresholds, LptGroup *groups,
                           double *imbalance_ratio, LptError *err);

#endif

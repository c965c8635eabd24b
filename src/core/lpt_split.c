/* lpt_split.c: stratified split assignment and class groups. See lpt_split.h for the rules. */
#include "lpt_split.h"

#include <math.h>
#include <stdlib.h>

#include "lpt_rng.h"

/* A free image in a class's canonical order: by key, then input position. */
typedef struct SplitItem {
    uint64_t key;
    size_t index;
} SplitItem;

void lpt_split_config_default(LptSplitConfig *cfg)
{
    cfg->train_fraction = LPT_SPLIT_TRAIN_FRACTION_DEFAULT;
    cfg->val_fraction = LPT_SPLIT_VAL_FRACTION_DEFAULT;
    cfg->test_fraction = LPT_SPLIT_TEST_FRACTION_DEFAULT;
    cfg->min_per_class = LPT_SPLIT_MIN_PER_CLASS_DEFAULT;
    cfg->seed = 0;
}

static LptStatus split_check_fraction(double f, const char *name, LptError *err)
{
    if (!(f >= 0.0 && f <= 1.0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "split: the %s fraction is %g, not in [0, 1]", name, f);
    return LPT_OK;
}

static LptStatus split_check_config(const LptSplitConfig *cfg, LptError *err)
{
    if (!cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "split: no settings given");
    LptStatus st = split_check_fraction(cfg->train_fraction, "train", err);
    if (st == LPT_OK)
        st = split_check_fraction(cfg->val_fraction, "val", err);
    if (st == LPT_OK)
        st = split_check_fraction(cfg->test_fraction, "test", err);
    if (st != LPT_OK)
        return st;
    double sum = cfg->train_fraction + cfg->val_fraction + cfg->test_fraction;
    if (fabs(sum - 1.0) > 1e-6)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "split: the fractions train %g + val %g + test %g sum to %g, not 1",
                             cfg->train_fraction, cfg->val_fraction, cfg->test_fraction, sum);
    if (cfg->min_per_class < 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "split: the minimum per class is %d, not >= 0",
                             (int)cfg->min_per_class);
    return LPT_OK;
}

/* The held-out count of one split: its rounded share, raised to the minimum. */
static int64_t split_held_out(double fraction, int64_t n, int32_t min_per_class)
{
    if (fraction <= 0.0)
        return 0;
    int64_t k = (int64_t)floor(fraction * (double)n + 0.5);
    return k < min_per_class ? min_per_class : k;
}

/* targets[LPT_SPLIT_TRAIN..TEST] for a class of n images; cfg already checked. */
static void split_class_targets(const LptSplitConfig *cfg, int64_t n, int64_t targets[4])
{
    int64_t val = split_held_out(cfg->val_fraction, n, cfg->min_per_class);
    int64_t test = split_held_out(cfg->test_fraction, n, cfg->min_per_class);
    int64_t keep = (cfg->train_fraction > 0.0 && n > 0) ? 1 : 0;
    int64_t excess = val + test + keep - n;
    if (excess > 0) {
        int64_t cut = excess < val ? excess : val;
        val -= cut;
        excess -= cut;
        test -= excess > 0 ? excess : 0;
    }
    targets[LPT_SPLIT_NONE] = 0;
    targets[LPT_SPLIT_TRAIN] = n - val - test;
    targets[LPT_SPLIT_VAL] = val;
    targets[LPT_SPLIT_TEST] = test;
}

LptStatus lpt_split_targets(const LptSplitConfig *cfg, int64_t class_size, int64_t *n_train,
                            int64_t *n_val, int64_t *n_test, LptError *err)
{
    LptStatus st = split_check_config(cfg, err);
    if (st != LPT_OK)
        return st;
    if (class_size < 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "split: a class of %lld images",
                             (long long)class_size);
    int64_t t[4];
    split_class_targets(cfg, class_size, t);
    if (n_train)
        *n_train = t[LPT_SPLIT_TRAIN];
    if (n_val)
        *n_val = t[LPT_SPLIT_VAL];
    if (n_test)
        *n_test = t[LPT_SPLIT_TEST];
    return LPT_OK;
}

static int split_item_compare(const void *a, const void *b)
{
    const SplitItem *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static LptStatus split_check_images(const int32_t *labels, const LptSplit *given, size_t n_images,
                                    int32_t num_classes, LptSplit *out, LptError *err)
{
    if (num_classes < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "split: %d classes; a split needs at least one", (int)num_classes);
    if (n_images > 0 && (!labels || !out))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "split: %zu images but no %s array",
                             n_images, labels ? "output" : "label");
    for (size_t i = 0; i < n_images; i++) {
        if (labels[i] < 0 || labels[i] >= num_classes)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "split: image %zu has label %d, not in [0, %d)", i, (int)labels[i],
                                 (int)num_classes);
        if (given && ((int)given[i] < LPT_SPLIT_NONE || (int)given[i] > LPT_SPLIT_TEST))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "split: image %zu has given split %d, not none (0), train "
                                 "(1), val (2) or test (3)",
                                 i, (int)given[i]);
    }
    return LPT_OK;
}

LptStatus lpt_split_assign(const LptSplitConfig *cfg, const int32_t *labels, const LptSplit *given,
                           const uint64_t *keys, size_t n_images, int32_t num_classes,
                           LptSplit *out, LptError *err)
{
    LptStatus st = split_check_config(cfg, err);
    if (st == LPT_OK)
        st = split_check_images(labels, given, n_images, num_classes, out, err);
    if (st != LPT_OK)
        return st;

    size_t nc = (size_t)num_classes;
    /* counts[c * 4 + s]: images of class c given split s (s = NONE: the free ones). */
    int64_t *counts = calloc(nc * 4, sizeof *counts);
    size_t *start = calloc(nc + 1, sizeof *start); /* free images of class c: items[start[c]..] */
    SplitItem *items = malloc((n_images ? n_images : 1) * sizeof *items);
    LptSplit *result = malloc((n_images ? n_images : 1) * sizeof *result);
    if (!counts || !start || !items || !result) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                           "split: no memory for %zu images of %d classes", n_images,
                           (int)num_classes);
        goto done;
    }

    for (size_t i = 0; i < n_images; i++) {
        LptSplit s = given ? given[i] : LPT_SPLIT_NONE;
        counts[(size_t)labels[i] * 4 + (size_t)s]++;
        result[i] = s;
        if (s == LPT_SPLIT_NONE)
            start[labels[i] + 1]++;
    }
    for (size_t c = 0; c < nc; c++)
        start[c + 1] += start[c];
    /* Counting sort of the free images by class, keeping input order within a class. */
    for (size_t i = 0; i < n_images; i++) {
        if (result[i] != LPT_SPLIT_NONE)
            continue;
        SplitItem *item = &items[start[labels[i]]++];
        item->key = keys ? keys[i] : 0;
        item->index = i;
    }
    for (size_t c = nc; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;

    for (size_t c = 0; c < nc; c++) {
        const int64_t *g = &counts[c * 4];
        size_t n_free = start[c + 1] - start[c];
        if (n_free == 0)
            continue;
        int64_t t[4];
        split_class_targets(cfg, g[0] + g[1] + g[2] + g[3], t);
        int64_t avail = (int64_t)n_free;
        if (cfg->train_fraction > 0.0 && g[LPT_SPLIT_TRAIN] == 0)
            avail--; /* one free image stays train */
        int64_t n_test = t[LPT_SPLIT_TEST] - g[LPT_SPLIT_TEST];
        n_test = n_test < 0 ? 0 : (n_test > avail ? avail : n_test);
        int64_t n_val = t[LPT_SPLIT_VAL] - g[LPT_SPLIT_VAL];
        n_val = n_val < 0 ? 0 : (n_val > avail - n_test ? avail - n_test : n_val);

        SplitItem *seg = &items[start[c]];
        if (keys)
            qsort(seg, n_free, sizeof *seg, split_item_compare);
        LptRng rng;
        lpt_rng_seed(&rng, cfg->seed, (uint64_t)c);
        st = lpt_rng_shuffle(&rng, seg, n_free, sizeof *seg, err);
        if (st != LPT_OK)
            goto done;
        for (size_t k = 0; k < n_free; k++) {
            int64_t r = (int64_t)k;
            result[seg[k].index] = r < n_test           ? LPT_SPLIT_TEST
                                   : r < n_test + n_val ? LPT_SPLIT_VAL
                                                        : LPT_SPLIT_TRAIN;
        }
    }
    for (size_t i = 0; i < n_images; i++)
        out[i] = result[i];

done:
    free(counts);
    free(start);
    free(items);
    free(result);
    return st;
}

const char *lpt_group_name(LptGroup group)
{
    switch (group) {
    case LPT_GROUP_MANY:
        return "many";
    case LPT_GROUP_MEDIUM:
        return "medium";
    case LPT_GROUP_FEW:
        return "few";
    }
    return "unknown";
}

LptStatus lpt_split_groups(const int64_t *train_counts, int32_t num_classes,
                           const LptGroupThresholds *thresholds, LptGroup *groups,
                           double *imbalance_ratio, LptError *err)
{
    const LptGroupThresholds defaults = {LPT_GROUP_MANY_ABOVE_DEFAULT, LPT_GROUP_FEW_BELOW_DEFAULT};
    const LptGroupThresholds *th = thresholds ? thresholds : &defaults;
    if (num_classes < 1 || !train_counts)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "groups: %d classes%s; groups need at least one", (int)num_classes,
                             train_counts ? "" : " and no counts");
    if (th->few_below < 0 || th->few_below > th->many_above + 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "groups: thresholds few below %lld and many above %lld; need 0 <= "
                             "few below <= many above + 1",
                             (long long)th->few_below, (long long)th->many_above);
    int64_t n_min = 0, n_max = 0;
    for (int32_t c = 0; c < num_classes; c++) {
        int64_t n = train_counts[c];
        if (n < 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "groups: class %d has %lld training images", (int)c, (long long)n);
        if (n > 0) {
            n_min = (n_min == 0 || n < n_min) ? n : n_min;
            n_max = n > n_max ? n : n_max;
        }
    }
    for (int32_t c = 0; groups && c < num_classes; c++) {
        int64_t n = train_counts[c];
        groups[c] = n > th->many_above  ? LPT_GROUP_MANY
                    : n < th->few_below ? LPT_GROUP_FEW
                                        : LPT_GROUP_MEDIUM;
    }
    if (imbalance_ratio)
        *imbalance_ratio = n_min > 0 ? (double)n_max / (double)n_min : NAN;
    return LPT_OK;
}

/* test_split.c: stratified train/val/test assignment and the many/medium/few groups.
 *
 * Checks the per-class count rule (small classes of 0-5 images spelled out, fractions within
 * one image on large classes, the minimum), that user-given splits are kept and topped up,
 * determinism for a seed and independence from the input order, that the images chosen for
 * test are spread over the class (not the first ones), the group thresholds at their
 * boundaries, and bad input. Suite 'unit'. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_rng.h"
#include "lpt_split.h"
#include "test_check.h"

/* A failure with code LPT_ERR_INVALID_ARGUMENT whose message contains `needle`. */
static void expect_error(LptStatus st, const LptError *err, const char *needle, const char *what)
{
    expect(st == LPT_ERR_INVALID_ARGUMENT && err->code == st && strstr(err->message, needle), what,
           "status %d, message '%s' (want one containing '%s')", (int)st, err->message, needle);
}

/* ---- the count rule ---- */

static void check_targets_row(const LptSplitConfig *cfg, int64_t n, int64_t want_train,
                              int64_t want_val, int64_t want_test, const char *what)
{
    int64_t tr = -1, va = -1, te = -1;
    LptError err = {0};
    LptStatus st = lpt_split_targets(cfg, n, &tr, &va, &te, &err);
    expect(st == LPT_OK && tr == want_train && va == want_val && te == want_test, what,
           "n=%lld: got %lld/%lld/%lld, want %lld/%lld/%lld (%s)", (long long)n, (long long)tr,
           (long long)va, (long long)te, (long long)want_train, (long long)want_val,
           (long long)want_test, err.message);
}

static void check_targets(void)
{
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    /* The documented small-class cases and a few rounding cases at 0.8/0.1/0.1, m = 1. */
    check_targets_row(&cfg, 0, 0, 0, 0, "targets: 0 images");
    check_targets_row(&cfg, 1, 1, 0, 0, "targets: 1 image is train");
    check_targets_row(&cfg, 2, 1, 0, 1, "targets: 2 images are train + test");
    check_targets_row(&cfg, 3, 1, 1, 1, "targets: 3 images, one each");
    check_targets_row(&cfg, 4, 2, 1, 1, "targets: 4 images");
    check_targets_row(&cfg, 10, 8, 1, 1, "targets: 10 images");
    check_targets_row(&cfg, 15, 11, 2, 2, "targets: 15 images (1.5 rounds up)");
    check_targets_row(&cfg, 100, 80, 10, 10, "targets: 100 images");
    check_targets_row(&cfg, 1001, 801, 100, 100, "targets: 1001 images");

    cfg.min_per_class = 2;
    check_targets_row(&cfg, 4, 1, 1, 2, "targets m=2: val gives way first");
    check_targets_row(&cfg, 5, 1, 2, 2, "targets m=2: 5 images");
    check_targets_row(&cfg, 2, 1, 0, 1, "targets m=2: test gives way after val");
    cfg.min_per_class = 0;
    check_targets_row(&cfg, 3, 3, 0, 0, "targets m=0: no minimum");

    /* A split with fraction 0 gets nothing, minimum or not. */
    cfg = (LptSplitConfig){
        .train_fraction = 0.9, .val_fraction = 0.0, .test_fraction = 0.1, .min_per_class = 1};
    check_targets_row(&cfg, 5, 4, 0, 1, "targets: val fraction 0");
    /* With train fraction 0, train need not keep an image. */
    cfg = (LptSplitConfig){
        .train_fraction = 0.0, .val_fraction = 0.5, .test_fraction = 0.5, .min_per_class = 1};
    check_targets_row(&cfg, 3, 0, 1, 2, "targets: train fraction 0");
    check_targets_row(&cfg, 4, 0, 2, 2, "targets: train fraction 0, even");

    /* Large classes: every split within one image of its fraction, the sum exact. */
    cfg = (LptSplitConfig){
        .train_fraction = 0.7, .val_fraction = 0.15, .test_fraction = 0.15, .min_per_class = 1};
    int worst = 0;
    for (int64_t n = 7; n <= 2000; n++) {
        int64_t tr, va, te;
        lpt_split_targets(&cfg, n, &tr, &va, &te, NULL);
        double dt = fabs((double)tr - 0.7 * (double)n), dv = fabs((double)va - 0.15 * (double)n),
               de = fabs((double)te - 0.15 * (double)n);
        if (dt > 1.0 || dv > 1.0 || de > 1.0 || tr + va + te != n)
            worst++;
    }
    expect(worst == 0, "targets: within 1 image of the fractions", "%d sizes off", worst);
}

/* ---- assignment ---- */

#define NC 12
static const int64_t class_sizes[NC] = {0, 1, 2, 3, 4, 5, 9, 20, 57, 100, 333, 1000};

/* Images of all classes, interleaved in a random order; returns the count. */
static size_t make_labels(int32_t *labels, uint64_t seed)
{
    size_t n = 0;
    for (int c = 0; c < NC; c++)
        for (int64_t j = 0; j < class_sizes[c]; j++)
            labels[n++] = c;
    LptRng rng;
    lpt_rng_seed(&rng, seed, 0);
    lpt_rng_shuffle(&rng, labels, n, sizeof *labels, NULL);
    return n;
}

static size_t total_images(void)
{
    size_t n = 0;
    for (int c = 0; c < NC; c++)
        n += (size_t)class_sizes[c];
    return n;
}

/* counts[c][s] of out. */
static void count_splits(const int32_t *labels, const LptSplit *out, size_t n, int64_t counts[][4])
{
    memset(counts, 0, NC * sizeof counts[0]);
    for (size_t i = 0; i < n; i++)
        if ((int)out[i] >= 0 && (int)out[i] < 4)
            counts[labels[i]][out[i]]++;
}

static void check_assign_counts(void)
{
    size_t n = total_images();
    int32_t *labels = malloc(n * sizeof *labels);
    LptSplit *out = malloc(n * sizeof *out);
    make_labels(labels, 7);
    for (size_t i = 0; i < n; i++)
        out[i] = LPT_SPLIT_NONE;

    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    cfg.seed = 1234;
    LptError err = {0};
    LptStatus st = lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, out, &err);
    expect(st == LPT_OK, "assign", "%s", err.message);

    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += out[i] != LPT_SPLIT_TRAIN && out[i] != LPT_SPLIT_VAL && out[i] != LPT_SPLIT_TEST;
    expect(bad == 0, "assign: every image gets train, val or test", "%d without", bad);

    int64_t counts[NC][4];
    count_splits(labels, out, n, counts);
    for (int c = 0; c < NC; c++) {
        int64_t sz = class_sizes[c], tr, va, te;
        lpt_split_targets(&cfg, sz, &tr, &va, &te, NULL);
        char what[64];
        snprintf(what, sizeof what, "assign: class of %lld images", (long long)sz);
        expect(counts[c][1] == tr && counts[c][2] == va && counts[c][3] == te, what,
               "got %lld/%lld/%lld, targets %lld/%lld/%lld", (long long)counts[c][1],
               (long long)counts[c][2], (long long)counts[c][3], (long long)tr, (long long)va,
               (long long)te);
        if (sz >= 3)
            expect(counts[c][2] >= 1 && counts[c][3] >= 1, "assign: minimum of 1 val and test",
                   "class of %lld: %lld val, %lld test", (long long)sz, (long long)counts[c][2],
                   (long long)counts[c][3]);
        if (sz >= 20)
            expect(fabs((double)counts[c][1] - 0.8 * (double)sz) <= 1.0 &&
                       fabs((double)counts[c][2] - 0.1 * (double)sz) <= 1.0 &&
                       fabs((double)counts[c][3] - 0.1 * (double)sz) <= 1.0,
                   "assign: fractions within 1 image", "class of %lld: %lld/%lld/%lld",
                   (long long)sz, (long long)counts[c][1], (long long)counts[c][2],
                   (long long)counts[c][3]);
    }
    /* The spelled-out small classes: 1 -> train, 2 -> train + test. */
    expect(counts[1][1] == 1 && counts[2][1] == 1 && counts[2][3] == 1 && counts[2][2] == 0,
           "assign: classes of 1 and 2 images", "1: %lld train; 2: %lld/%lld/%lld",
           (long long)counts[1][1], (long long)counts[2][1], (long long)counts[2][2],
           (long long)counts[2][3]);
    free(labels);
    free(out);
}

static void check_determinism(void)
{
    size_t n = total_images();
    int32_t *labels = malloc(n * sizeof *labels);
    LptSplit *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    make_labels(labels, 9);
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    cfg.seed = 42;
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, a, NULL);
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, b, NULL);
    cfg.seed = 43;
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, c, NULL);
    size_t same_ab = 0, same_ac = 0;
    for (size_t i = 0; i < n; i++) {
        same_ab += a[i] == b[i];
        same_ac += a[i] == c[i];
    }
    expect(same_ab == n, "determinism: same seed, same split", "%zu of %zu differ", n - same_ab, n);
    /* Two random 10% subsets of 1000 overlap in ~10 images: hundreds of images move. */
    expect(n - same_ac > n / 10, "determinism: another seed, another split",
           "only %zu of %zu images differ", n - same_ac, n);
    free(labels);
    free(a);
    free(b);
    free(c);
}

/* Reordering classes against each other (each class's images in the same relative order)
 * changes nothing; with keys, no reordering at all does; dropping a class leaves the others. */
static void check_order_independence(void)
{
    size_t n = total_images();
    int32_t *labels = malloc(n * sizeof *labels), *labels2 = malloc(n * sizeof *labels2);
    uint64_t *keys = malloc(n * sizeof *keys), *keys2 = malloc(n * sizeof *keys2);
    size_t *perm = malloc(n * sizeof *perm);
    LptSplit *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    make_labels(labels, 11);
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    cfg.seed = 5;

    /* Classes interleaved differently: sorted by class, stable (perm[k] = old position). */
    size_t k = 0;
    for (int c = NC - 1; c >= 0; c--)
        for (size_t i = 0; i < n; i++)
            if (labels[i] == c)
                perm[k++] = i;
    for (size_t i = 0; i < n; i++)
        labels2[i] = labels[perm[i]];
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, a, NULL);
    lpt_split_assign(&cfg, labels2, NULL, NULL, n, NC, b, NULL);
    size_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += b[i] != a[perm[i]];
    expect(diff == 0, "order: classes interleaved differently", "%zu images moved", diff);

    /* With keys, a full random permutation. */
    for (size_t i = 0; i < n; i++) {
        keys[i] = UINT64_C(0x9E3779B97F4A7C15) * (i + 1);
        perm[i] = i;
    }
    LptRng rng;
    lpt_rng_seed(&rng, 3, 3);
    lpt_rng_shuffle(&rng, perm, n, sizeof *perm, NULL);
    for (size_t i = 0; i < n; i++) {
        labels2[i] = labels[perm[i]];
        keys2[i] = keys[perm[i]];
    }
    lpt_split_assign(&cfg, labels, NULL, keys, n, NC, a, NULL);
    lpt_split_assign(&cfg, labels2, NULL, keys2, n, NC, b, NULL);
    diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += b[i] != a[perm[i]];
    expect(diff == 0, "order: keys make any input order give the same split", "%zu moved", diff);
    /* ...and without keys the same permutation does change the split (the check can fail). */
    lpt_split_assign(&cfg, labels2, NULL, NULL, n, NC, b, NULL);
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, a, NULL);
    diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += b[i] != a[perm[i]];
    expect(diff > 0, "order: without keys, order within a class matters", "nothing moved");

    /* Dropping class 3 leaves every other image where it was. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (labels[i] != 3) {
            labels2[m] = labels[i];
            perm[m++] = i;
        }
    lpt_split_assign(&cfg, labels, NULL, NULL, n, NC, a, NULL);
    lpt_split_assign(&cfg, labels2, NULL, NULL, m, NC, b, NULL);
    diff = 0;
    for (size_t i = 0; i < m; i++)
        diff += b[i] != a[perm[i]];
    expect(diff == 0, "order: a class does not depend on the others", "%zu moved", diff);
    free(labels);
    free(labels2);
    free(keys);
    free(keys2);
    free(perm);
    free(a);
    free(b);
}

/* Over 400 seeds, each of a 10-image class's images is test ~40 times (binomial sd 6). */
static void check_spread(void)
{
    int32_t labels[10] = {0};
    LptSplit out[10];
    int test_count[10] = {0}, val_count[10] = {0};
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    for (uint64_t seed = 0; seed < 400; seed++) {
        cfg.seed = seed;
        lpt_split_assign(&cfg, labels, NULL, NULL, 10, 1, out, NULL);
        for (int i = 0; i < 10; i++) {
            test_count[i] += out[i] == LPT_SPLIT_TEST;
            val_count[i] += out[i] == LPT_SPLIT_VAL;
        }
    }
    int lo = 1000, hi = 0;
    for (int i = 0; i < 10; i++) {
        lo = test_count[i] < lo ? test_count[i] : lo;
        lo = val_count[i] < lo ? val_count[i] : lo;
        hi = test_count[i] > hi ? test_count[i] : hi;
        hi = val_count[i] > hi ? val_count[i] : hi;
    }
    expect(lo >= 15 && hi <= 70, "spread: every image is sometimes val and test",
           "per-image val/test counts over 400 seeds range %d..%d (expected ~40)", lo, hi);
}

static void check_given(void)
{
    size_t n = total_images();
    int32_t *labels = malloc(n * sizeof *labels);
    LptSplit *given = malloc(n * sizeof *given), *out = malloc(n * sizeof *out);
    make_labels(labels, 13);
    LptRng rng;
    lpt_rng_seed(&rng, 77, 0);
    for (size_t i = 0; i < n; i++) /* a third given, at random */
        given[i] = lpt_rng_below(&rng, 3) ? LPT_SPLIT_NONE : (LptSplit)(1 + lpt_rng_below(&rng, 3));
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    LptError err = {0};
    LptStatus st = lpt_split_assign(&cfg, labels, given, NULL, n, NC, out, &err);
    size_t changed = 0, unset = 0;
    for (size_t i = 0; i < n; i++) {
        changed += given[i] != LPT_SPLIT_NONE && out[i] != given[i];
        unset += out[i] == LPT_SPLIT_NONE;
    }
    expect(st == LPT_OK && changed == 0 && unset == 0, "given: user splits kept",
           "%zu changed, %zu unassigned (%s)", changed, unset, err.message);

    /* One class of 20: 5 given test, the rest free: test target 2 is met, so the free images
     * give 2 val and 13 train and no test. */
    int32_t l20[20] = {0};
    LptSplit g20[20], o20[20];
    for (int i = 0; i < 20; i++)
        g20[i] = i % 4 == 1 ? LPT_SPLIT_TEST : LPT_SPLIT_NONE;
    lpt_split_assign(&cfg, l20, g20, NULL, 20, 1, o20, NULL);
    int c[4] = {0};
    for (int i = 0; i < 20; i++)
        c[o20[i]]++;
    expect(c[1] == 13 && c[2] == 2 && c[3] == 5, "given: free images top up the targets",
           "got %d/%d/%d, want 13/2/5", c[1], c[2], c[3]);

    /* Three given test, one free: the free one stays train. */
    LptSplit g4[4] = {LPT_SPLIT_TEST, LPT_SPLIT_NONE, LPT_SPLIT_TEST, LPT_SPLIT_TEST}, o4[4];
    lpt_split_assign(&cfg, l20, g4, NULL, 4, 1, o4, NULL);
    expect(o4[1] == LPT_SPLIT_TRAIN && o4[0] == LPT_SPLIT_TEST, "given: one image kept for train",
           "free image got %d", (int)o4[1]);

    /* Everything given: the output is the input. */
    for (int i = 0; i < 20; i++)
        g20[i] = (LptSplit)(1 + i % 3);
    lpt_split_assign(&cfg, l20, g20, NULL, 20, 1, o20, NULL);
    expect(memcmp(g20, o20, sizeof g20) == 0, "given: all given, nothing changes",
           "an image moved");
    free(labels);
    free(given);
    free(out);
}

static void check_bad_input(void)
{
    int32_t labels[4] = {0, 1, 0, 1};
    LptSplit out[4] = {LPT_SPLIT_NONE, LPT_SPLIT_NONE, LPT_SPLIT_NONE, LPT_SPLIT_NONE};
    LptSplitConfig cfg;
    LptError err = {0};

    lpt_split_config_default(&cfg);
    cfg.val_fraction = 0.2; /* 0.8 + 0.2 + 0.1 */
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 2, out, &err), &err, "sum to",
                 "bad: fractions sum to 1.1");
    lpt_split_config_default(&cfg);
    cfg.train_fraction = 0.7;
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 2, out, &err), &err, "not 1",
                 "bad: fractions sum to 0.9");
    lpt_split_config_default(&cfg);
    cfg.test_fraction = -0.1;
    cfg.train_fraction = 1.0;
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 2, out, &err), &err, "test fraction",
                 "bad: negative fraction");
    lpt_split_config_default(&cfg);
    cfg.val_fraction = NAN;
    expect_error(lpt_split_targets(&cfg, 5, NULL, NULL, NULL, &err), &err, "val fraction",
                 "bad: NaN fraction");
    lpt_split_config_default(&cfg);
    cfg.min_per_class = -1;
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 2, out, &err), &err, "minimum",
                 "bad: negative minimum");
    lpt_split_config_default(&cfg);
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 0, out, &err), &err, "0 classes",
                 "bad: zero classes");
    expect_error(lpt_split_assign(&cfg, labels, NULL, NULL, 4, 1, out, &err), &err,
                 "image 1 has label 1", "bad: label out of range");
    LptSplit given[4] = {LPT_SPLIT_NONE, LPT_SPLIT_NONE, (LptSplit)7, LPT_SPLIT_NONE};
    expect_error(lpt_split_assign(&cfg, labels, given, NULL, 4, 2, out, &err), &err,
                 "image 2 has given split 7", "bad: given split out of range");
    expect_error(lpt_split_assign(&cfg, NULL, NULL, NULL, 4, 2, out, &err), &err, "no label",
                 "bad: no labels");
    expect_error(lpt_split_assign(NULL, labels, NULL, NULL, 4, 2, out, &err), &err, "no settings",
                 "bad: no config");
    expect_error(lpt_split_targets(&cfg, -1, NULL, NULL, NULL, &err), &err, "-1 images",
                 "bad: negative class size");
    bool untouched = true;
    for (int i = 0; i < 4; i++)
        untouched = untouched && out[i] == LPT_SPLIT_NONE;
    expect(untouched, "bad: output untouched on failure", "an output was written");
    expect(lpt_split_assign(&cfg, NULL, NULL, NULL, 0, 3, NULL, &err) == LPT_OK,
           "no images is fine", "%s", err.message);
}

/* ---- groups ---- */

static void check_groups(void)
{
    const int64_t counts[] = {0, 1, 19, 20, 21, 99, 100, 101, 5000};
    const LptGroup want[] = {LPT_GROUP_FEW,    LPT_GROUP_FEW,    LPT_GROUP_FEW,
                             LPT_GROUP_MEDIUM, LPT_GROUP_MEDIUM, LPT_GROUP_MEDIUM,
                             LPT_GROUP_MEDIUM, LPT_GROUP_MANY,   LPT_GROUP_MANY};
    LptGroup got[9];
    double ratio = 0;
    LptError err = {0};
    LptStatus st = lpt_split_groups(counts, 9, NULL, got, &ratio, &err);
    for (int c = 0; c < 9; c++)
        expect(st == LPT_OK && got[c] == want[c], "groups: default thresholds",
               "%lld images -> %s, want %s (%s)", (long long)counts[c], lpt_group_name(got[c]),
               lpt_group_name(want[c]), err.message);
    expect(ratio == 5000.0, "groups: imbalance ratio n_max/n_min over classes with images",
           "got %g, want 5000", ratio);

    const int64_t c2[] = {9, 10, 50, 51};
    const LptGroupThresholds th = {.many_above = 50, .few_below = 10};
    lpt_split_groups(c2, 4, &th, got, &ratio, NULL);
    expect(got[0] == LPT_GROUP_FEW && got[1] == LPT_GROUP_MEDIUM && got[2] == LPT_GROUP_MEDIUM &&
               got[3] == LPT_GROUP_MANY,
           "groups: edited thresholds", "%s %s %s %s", lpt_group_name(got[0]),
           lpt_group_name(got[1]), lpt_group_name(got[2]), lpt_group_name(got[3]));
    expect(fabs(ratio - 51.0 / 9.0) < 1e-12, "groups: ratio", "got %g", ratio);

    const int64_t c3[] = {19, 20};
    const LptGroupThresholds no_medium = {.many_above = 19, .few_below = 20};
    st = lpt_split_groups(c3, 2, &no_medium, got, NULL, &err);
    expect(st == LPT_OK && got[0] == LPT_GROUP_FEW && got[1] == LPT_GROUP_MANY,
           "groups: thresholds with no medium band", "%s %s (%s)", lpt_group_name(got[0]),
           lpt_group_name(got[1]), err.message);

    const int64_t zeros[] = {0, 0};
    lpt_split_groups(zeros, 2, NULL, got, &ratio, NULL);
    expect(isnan(ratio), "groups: no training images, ratio NaN", "got %g", ratio);

    expect(strcmp(lpt_group_name(LPT_GROUP_MANY), "many") == 0 &&
               strcmp(lpt_group_name(LPT_GROUP_MEDIUM), "medium") == 0 &&
               strcmp(lpt_group_name(LPT_GROUP_FEW), "few") == 0 &&
               strcmp(lpt_group_name((LptGroup)9), "unknown") == 0,
           "groups: names", "wrong group names");

    const LptGroupThresholds crossed = {.many_above = 10, .few_below = 20};
    expect_error(lpt_split_groups(counts, 9, &crossed, got, &ratio, &err), &err, "thresholds",
                 "groups bad: crossed thresholds");
    const LptGroupThresholds negative = {.many_above = 10, .few_below = -1};
    expect_error(lpt_split_groups(counts, 9, &negative, got, &ratio, &err), &err, "thresholds",
                 "groups bad: negative threshold");
    const int64_t neg[] = {5, -3};
    expect_error(lpt_split_groups(neg, 2, NULL, got, &ratio, &err), &err,
                 "class 1 has -3 training images", "groups bad: negative count");
    expect_error(lpt_split_groups(counts, 0, NULL, got, &ratio, &err), &err, "0 classes",
                 "groups bad: zero classes");
}

int main(void)
{
    check_targets();
    check_assign_counts();
    check_determinism();
    check_order_independence();
    check_spread();
    check_given();
    check_bad_input();
    check_groups();
    printf("test_split: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

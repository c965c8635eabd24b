/* lpt_stats.h: what a project's data looks like (product.md workflow 3): per class the images
 * in each split, the share of all images and the many/medium/few group; the imbalance ratio;
 * and warnings about classes a user should look at before training.
 *
 * Counts leave excluded images out (counted apart per class). Groups come from the training
 * counts with the thresholds of method.md §8 (lpt_split_groups), read from the project's
 * settings "groups.many_above" and "groups.few_below" when set, else the defaults (more than
 * 100 training images: many; fewer than 20: few). The imbalance ratio is the largest
 * training count over the smallest non-zero one (NaN when no class has a training image).
 *
 * Warnings, per class, in class order: fewer than LPT_STATS_MIN_IMAGES images; no training
 * image; absent from val; absent from test; images with no split yet.
 *
 * Ownership and threads: lpt_stats_compute reads the store on the calling thread (the
 * store's); the result is the caller's (lpt_stats_free). Works on a read-only store.
 */
#ifndef LPT_STATS_H
#define LPT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_split.h"
#include "lpt_store.h"

#define LPT_STATS_MIN_IMAGES 5 /* a class with fewer images gets a warning */

typedef struct LptStatsClass {
    int64_t class_id;
    char *name;
    int64_t count[LPT_STORE_SPLIT_COUNT]; /* by LptStoreSplit: NONE, TRAIN, VAL, TEST */
    int64_t total;                        /* the sum of count[] */
    int64_t excluded;                     /* excluded images of the class, not in count[] */
    double share;                         /* total / all images; 0 when there are none */
    LptGroup group;                       /* from count[TRAIN] */
} LptStatsClass;

typedef enum LptStatsWarningKind {
    LPT_STATS_WARN_FEW_IMAGES = 0, /* fewer than LPT_STATS_MIN_IMAGES images */
    LPT_STATS_WARN_NO_TRAIN,       /* no training image: the class cannot be learnt */
    LPT_STATS_WARN_NO_VAL,         /* absent from val: its accuracy is not followed */
    LPT_STATS_WARN_NO_TEST,        /* absent from test: its accuracy is not measured */
    LPT_STATS_WARN_UNSPLIT,        /* some images have no split yet */
} LptStatsWarningKind;

typedef struct LptStatsWarning {
    LptStatsWarningKind kind;
    size_t class_index; /* into LptStats.classes */
    char message[320];  /* a sentence naming the class */
} LptStatsWarning;

typedef struct LptStats {
    LptStatsClass *classes; /* every class of the project, by id */
    size_t num_classes;
    int64_t total; /* images, excluded ones left out */
    int64_t split_total[LPT_STORE_SPLIT_COUNT];
    int64_t excluded;
    int64_t group_classes[LPT_GROUP_COUNT]; /* classes per group */
    LptGroupThresholds thresholds;          /* the ones used */
    double imbalance_ratio;                 /* NaN when no class has a training image */
    LptStatsWarning *warnings;
    size_t num_warnings;
} LptStats;

/* Computes the statistics of the project in store into *stats (the caller's). A bad group
 * threshold setting is an error naming the setting. */
LptStatus lpt_stats_compute(LptStore *store, LptStats **stats, LptError *err);

/* "few_images", "no_train", "no_val", "no_test", "unsplit"; "?" for other values. */
const char *lpt_stats_warning_name(LptStatsWarningKind kind);

/* Frees stats; NULL is a no-op. */
void lpt_stats_free(LptStats *stats);

#endif

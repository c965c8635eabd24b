/* lpt_review_samples.c: a run's predictions as compact samples (see the header). */
#include "lpt_review_samples.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_run_config.h"

/* A run class: its id and output index, for look-ups by id. */
typedef struct ClassSlot {
    int64_t id;
    int32_t index;
} ClassSlot;

static int compare_slots(const void *a, const void *b)
{
    const ClassSlot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The run index of class_id, -1 when the run has no such class. */
static int32_t run_index(const ClassSlot *slots, int32_t K, int64_t class_id)
{
    ClassSlot key = {class_id, 0};
    const ClassSlot *hit = bsearch(&key, slots, (size_t)K, sizeof *slots, compare_slots);
    return hit ? hit->index : -1;
}

void lpt_review_samples_free(LptReviewSamples *s)
{
    if (!s)
        return;
    for (int32_t k = 0; s->class_names && k < s->num_classes; k++)
        free(s->class_names[k]);
    free(s->class_names);
    free(s->class_ids);
    free(s->train_counts);
    free(s->groups);
    free(s->samples);
    free(s);
}

int64_t lpt_review_samples_find(const LptReviewSamples *s, int64_t image_id)
{
    size_t lo = 0, hi = s ? s->count : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->samples[mid].image_id < image_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return s && lo < s->count && s->samples[lo].image_id == image_id ? (int64_t)lo : -1;
}

static LptStatus out_of_memory(LptError *err)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
}

/* The run's classes: ids, names now, training counts now, groups under the run's thresholds,
 * and the id -> index table. */
static LptStatus read_classes(LptStore *store, LptReviewSamples *s, LptError *err)
{
    size_t K = 0;
    LptStatus st = lpt_store_run_classes(store, s->run_id, &s->class_ids, &K, err);
    if (st != LPT_OK)
        return st;
    if (K == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "review: run %lld has no classes",
                             (long long)s->run_id);
    s->num_classes = (int32_t)K;
    s->class_names = calloc(K, sizeof *s->class_names);
    s->train_counts = calloc(K, sizeof *s->train_counts);
    s->groups = calloc(K, sizeof *s->groups);
    ClassSlot *slots = malloc(K * sizeof *slots);
    if (!s->class_names || !s->train_counts || !s->groups || !slots) {
        free(slots);
        return out_of_memory(err);
    }
    for (size_t k = 0; k < K; k++)
        slots[k] = (ClassSlot){s->class_ids[k], (int32_t)k};
    qsort(slots, K, sizeof *slots, compare_slots);

    LptStoreClass *classes = NULL;
    size_t n = 0;
    st = lpt_store_class_list(store, &classes, &n, err);
    for (size_t i = 0; i < n && st == LPT_OK; i++) {
        int32_t k = run_index(slots, s->num_classes, classes[i].id);
        if (k >= 0 && !(s->class_names[k] = strdup(classes[i].name)))
            st = out_of_memory(err);
    }
    free(classes);
    for (int32_t k = 0; k < s->num_classes && st == LPT_OK; k++)
        if (!s->class_names[k])
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "review: run %lld: class %lld is missing",
                               (long long)s->run_id, (long long)s->class_ids[k]);
    LptStoreClassCount *counts = NULL;
    n = 0;
    if (st == LPT_OK)
        st = lpt_store_class_counts(store, &counts, &n, err);
    for (size_t i = 0; i < n; i++) {
        int32_t k = run_index(slots, s->num_classes, counts[i].class_id);
        if (k >= 0)
            s->train_counts[k] = counts[i].count[LPT_STORE_SPLIT_TRAIN];
    }
    free(counts);
    free(slots);
    if (st != LPT_OK)
        return st;
    return lpt_split_groups(s->train_counts, s->num_classes, &s->thresholds, s->groups, NULL, err);
}

/* What the scan callback fills: the samples grown as predictions come. */
typedef struct ScanState {
    LptReviewSamples *s;
    size_t capacity;
} ScanState;

/* One prediction record into a sample; its indices are checked against K. */
static LptStatus add_sample(const LptStorePrediction *p, void *user, LptError *err)
{
    ScanState *scan = user;
    LptReviewSamples *s = scan->s;
    if (p->num_classes != s->num_classes)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "review: run %lld image %lld: the prediction has %d classes, the "
                             "run %d",
                             (long long)s->run_id, (long long)p->image_id, p->num_classes,
                             s->num_classes);
    if (s->count == scan->capacity) {
        size_t grown = scan->capacity ? 2 * scan->capacity : 1024;
        LptReviewSample *more = realloc(s->samples, grown * sizeof *more);
        if (!more)
            return out_of_memory(err);
        s->samples = more;
        scan->capacity = grown;
    }
    LptReviewSample *out = &s->samples[s->count];
    out->image_id = p->image_id;
    out->label = p->label_index;
    out->current = -1; /* set from the classes' image lists afterwards */
    const LptStoreTopK *lists[LPT_REVIEW_SOURCES] = {p->expert_topk[LPT_STORE_EXPERT_VISION],
                                                     p->expert_topk[LPT_STORE_EXPERT_VL],
                                                     p->fused_topk};
    for (int src = 0; src < LPT_REVIEW_SOURCES; src++) {
        out->top[src] = lists[src] ? lists[src][0].class_index : -1;
        out->prob[src] = lists[src] ? lists[src][0].prob : NAN;
        if (lists[src] && (out->top[src] < 0 || out->top[src] >= s->num_classes))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "review: run %lld image %lld: %s top-1 class %d is not one of "
                                 "the run's %d",
                                 (long long)s->run_id, (long long)p->image_id,
                                 lpt_store_expert_name((LptStoreExpert)src), out->top[src],
                                 s->num_classes);
        if (lists[src])
            s->has_source[src] = true;
    }
    s->count++;
    return LPT_OK;
}

/* Each sample's class now: the images of each run class in the split (one query a class). */
static LptStatus read_current_classes(LptStore *store, LptReviewSamples *s, LptStoreSplit split,
                                      LptError *err)
{
    for (int32_t k = 0; k < s->num_classes; k++) {
        int64_t *ids = NULL;
        size_t n = 0;
        LptStatus st = lpt_store_image_list(store, s->class_ids[k], split, 0, &ids, &n, err);
        if (st != LPT_OK)
            return st;
        for (size_t i = 0; i < n; i++) {
            int64_t at = lpt_review_samples_find(s, ids[i]);
            if (at >= 0)
                s->samples[at].current = k;
        }
        free(ids);
    }
    return LPT_OK;
}

LptStatus lpt_review_samples_read(LptStore *store, int64_t run_id, LptStoreSplit split,
                                  LptReviewSamples **out, LptError *err)
{
    if (!store || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: NULL argument");
    if (split < LPT_STORE_SPLIT_TRAIN || split > LPT_STORE_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "review: run %lld: bad split %d (train, val or test)",
                             (long long)run_id, (int)split);
    *out = NULL;
    LptStoreRun *run = NULL;
    LptStatus st = lpt_store_run_get(store, run_id, &run, err);
    if (st != LPT_OK)
        return st;
    if (!run)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: no run with id %lld",
                             (long long)run_id);
    LptReviewSamples *s = calloc(1, sizeof *s);
    if (!s) {
        free(run);
        return out_of_memory(err);
    }
    s->run_id = run_id;

    LptRunConfig cfg;
    lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
    char source[64];
    snprintf(source, sizeof source, "config of run %lld", (long long)run_id);
    st = lpt_run_config_parse(&cfg, run->config_json, source, err);
    free(run);
    s->thresholds = (LptGroupThresholds){cfg.many_above, cfg.few_below};
    s->ece_bins = cfg.ece_bins;

    if (st == LPT_OK)
        st = read_classes(store, s, err);
    ScanState scan = {s, 0};
    if (st == LPT_OK)
        st = lpt_store_prediction_scan(store, run_id, split, add_sample, &scan, err);
    if (st == LPT_OK)
        st = read_current_classes(store, s, split, err);
    if (st != LPT_OK) {
        lpt_review_samples_free(s);
        return st;
    }
    *out = s;
    return LPT_OK;
}

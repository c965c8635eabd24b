/* lpt_review.c: a run's evaluation read back from the project. See lpt_review.h. */
#include "lpt_review.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the review keeps of one image: enough for the image lists. */
typedef struct ReviewImage {
    int64_t image_id;
    int32_t label;                    /* recorded label index */
    int32_t top[LPT_REVIEW_MODELS];   /* top-1 per model; -1 for a model the run lacks */
    float prob[LPT_REVIEW_MODELS];    /* its confidence */
} ReviewImage;

struct LptReview {
    int64_t run_id;
    LptStoreSplit split;
    LptRunConfig cfg;
    int32_t K;
    int64_t *class_ids;  /* [K] */
    char **class_names;  /* [K] */
    int64_t *train_counts; /* [K] */
    bool has[LPT_REVIEW_MODELS];
    LptEval *eval[LPT_REVIEW_MODELS];
    const LptEvalMetrics *metrics[LPT_REVIEW_MODELS]; /* computed once all images are in */
    double *weight_sum;     /* [LPT_STORE_NUM_EXPERTS * K] scorer weights summed per class */
    int64_t *weight_count;  /* [K] images of each class with weights */
    ReviewImage *images;    /* [count], by image id */
    size_t count, cap;
    float *probs;           /* [K] scratch: a model's confidences rebuilt from its top-k */
};

/* ---- Runs ---- */

LptStatus lpt_review_list_runs(LptStore *store, LptReviewRun **runs, size_t *count, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (!store || !runs || !count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: listing runs: NULL argument");
    *runs = NULL;
    *count = 0;
    int64_t *ids = NULL;
    size_t n = 0;
    LptStatus st = lpt_store_run_list(store, &ids, &n, err);
    /* the rows first, then their names, in one block */
    LptStoreRun **found = calloc(n + 1, sizeof *found);
    LptReviewRun *rows = calloc(n + 1, sizeof *rows);
    if (st == LPT_OK && (!found || !rows))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: listing runs: out of memory");
    size_t kept = 0, names = 0;
    for (size_t i = n; st == LPT_OK && i-- > 0;) { /* newest first */
        LptReviewRun *row = &rows[kept];
        st = lpt_store_prediction_counts(store, ids[i], row->predictions, err);
        int64_t total = 0;
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
            total += row->predictions[s];
        if (st != LPT_OK || total == 0)
            continue;
        LptStoreRun *run = NULL;
        st = lpt_store_run_get(store, ids[i], &run, err);
        if (st != LPT_OK || !run)
            continue;
        LptRunConfig cfg;
        lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
        char source[64];
        snprintf(source, sizeof source, "config of run %lld", (long long)run->id);
        if ((st = lpt_run_config_parse(&cfg, run->config_json, source, err)) != LPT_OK) {
            lpt_error_prefix(err, "review");
            free(run);
            continue;
        }
        row->run_id = run->id;
        row->method = cfg.method;
        row->status = run->status;
        row->created_at = run->created_at;
        names += strlen(run->name ? run->name : "") + 1;
        found[kept++] = run;
    }
    LptReviewRun *block = NULL;
    if (st == LPT_OK && kept > 0 && !(block = malloc(kept * sizeof *block + names)))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: listing runs: out of memory");
    if (st == LPT_OK && kept > 0) {
        char *text = (char *)(block + kept);
        for (size_t i = 0; i < kept; i++) {
            block[i] = rows[i];
            const char *name = found[i]->name ? found[i]->name : "";
            size_t len = strlen(name) + 1;
            memcpy(text, name, len);
            block[i].name = text;
            text += len;
        }
        *runs = block;
        *count = kept;
    }
    for (size_t i = 0; found && i < kept; i++)
        free(found[i]);
    free(found);
    free(rows);
    free(ids);
    return st;
}

/* ---- Loading ---- */

void lpt_review_free(LptReview *r)
{
    if (!r)
        return;
    for (int32_t k = 0; r->class_names && k < r->K; k++)
        free(r->class_names[k]);
    free(r->class_names);
    free(r->class_ids);
    free(r->train_counts);
    for (int m = 0; m < LPT_REVIEW_MODELS; m++)
        lpt_eval_free(r->eval[m]);
    free(r->weight_sum);
    free(r->weight_count);
    free(r->images);
    free(r->probs);
    free(r);
}

/* The run index of a class id, or -1. */
static int32_t class_index(const LptReview *r, int64_t class_id)
{
    for (int32_t k = 0; k < r->K; k++)
        if (r->class_ids[k] == class_id)
            return k;
    return -1;
}

/* The run's config, classes (ids, names now), training counts now, and an LptEval per model. */
static LptStatus load_run(LptReview *r, LptStore *store, LptError *err)
{
    LptStoreRun *run = NULL;
    LptStatus st = lpt_store_run_get(store, r->run_id, &run, err);
    if (st != LPT_OK)
        return st;
    if (!run)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: the project has no run %lld",
                             (long long)r->run_id);
    lpt_run_config_init(&r->cfg, LPT_METHOD_LPTPP);
    char source[64];
    snprintf(source, sizeof source, "config of run %lld", (long long)r->run_id);
    st = lpt_run_config_parse(&r->cfg, run->config_json, source, err);
    free(run);
    if (st != LPT_OK) { /* a stored config that does not parse: the file is damaged */
        lpt_error_prefix(err, "review");
        return err->code = LPT_ERR_FORMAT;
    }
    size_t K = 0;
    if ((st = lpt_store_run_classes(store, r->run_id, &r->class_ids, &K, err)) != LPT_OK)
        return st;
    if (K == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "review: run %lld has no classes",
                             (long long)r->run_id);
    r->K = (int32_t)K;
    r->class_names = calloc(K, sizeof *r->class_names);
    r->train_counts = calloc(K, sizeof *r->train_counts);
    r->weight_sum = calloc(LPT_STORE_NUM_EXPERTS * K, sizeof *r->weight_sum);
    r->weight_count = calloc(K, sizeof *r->weight_count);
    r->probs = calloc(K, sizeof *r->probs);
    if (!r->class_names || !r->train_counts || !r->weight_sum || !r->weight_count || !r->probs)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory for %zu classes",
                             K);
    LptStoreClass *classes = NULL;
    size_t nc = 0;
    if ((st = lpt_store_class_list(store, &classes, &nc, err)) != LPT_OK)
        return st;
    for (size_t i = 0; st == LPT_OK && i < nc; i++) {
        int32_t k = class_index(r, classes[i].id);
        if (k >= 0 && !(r->class_names[k] = strdup(classes[i].name)))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
    }
    free(classes);
    for (int32_t k = 0; st == LPT_OK && k < r->K; k++)
        if (!r->class_names[k])
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "review: run %lld's class %lld is missing",
                               (long long)r->run_id, (long long)r->class_ids[k]);
    LptStoreClassCount *counts = NULL;
    if (st == LPT_OK)
        st = lpt_store_class_counts(store, &counts, &nc, err);
    for (size_t i = 0; st == LPT_OK && i < nc; i++) {
        int32_t k = class_index(r, counts[i].class_id);
        if (k >= 0)
            r->train_counts[k] = counts[i].count[LPT_STORE_SPLIT_TRAIN];
    }
    free(counts);
    r->has[LPT_STORE_EXPERT_VISION] = r->cfg.use_vision;
    r->has[LPT_STORE_EXPERT_VL] = r->cfg.use_vl;
    r->has[LPT_STORE_EXPERT_FUSED] = true;
    LptGroupThresholds th = {r->cfg.many_above, r->cfg.few_below};
    for (int m = 0; st == LPT_OK && m < LPT_REVIEW_MODELS; m++)
        if (r->has[m] && !(r->eval[m] = lpt_eval_new(r->K, r->train_counts, &th,
                                                     r->cfg.ece_bins, err)))
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    return st;
}

/* Adds one model's view of an image: its confidences (the full vector when recorded, else
 * rebuilt from the top-k list: zeros but for the top-k, which keeps the top-1 and its
 * confidence, all that lpt_eval reads of them) to the model's LptEval. */
static LptStatus add_model(LptReview *r, const LptStorePrediction *p, int m,
                           const LptStoreTopK *topk, const float *probs, ReviewImage *row,
                           LptError *err)
{
    const float *v = probs;
    if (!v) {
        for (int32_t j = 0; j < p->top_k; j++)
            r->probs[topk[j].class_index] = topk[j].prob;
        v = r->probs;
    }
    LptStatus st = lpt_eval_add(r->eval[m], p->label_index, v, err);
    row->top[m] = lpt_eval_argmax(v, r->K);
    row->prob[m] = v[row->top[m]];
    if (!probs)
        for (int32_t j = 0; j < p->top_k; j++)
            r->probs[topk[j].class_index] = 0.0f;
    if (st != LPT_OK)
        lpt_error_prefix(err, "review: run %lld image %lld (%s)", (long long)r->run_id,
                         (long long)p->image_id, lpt_store_expert_name((LptStoreExpert)m));
    return st;
}

/* lpt_store_prediction_scan's callback: one image into every model's LptEval and the lists. */
static LptStatus add_prediction(const LptStorePrediction *p, void *user, LptError *err)
{
    LptReview *r = user;
    if (p->num_classes != r->K || p->label_index < 0 || p->label_index >= r->K)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "review: run %lld image %lld: the prediction has %d classes and label "
                             "%d, the run %d classes",
                             (long long)r->run_id, (long long)p->image_id, (int)p->num_classes,
                             (int)p->label_index, (int)r->K);
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        if (r->has[e] && !p->expert_topk[e])
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "review: run %lld image %lld: the prediction lacks the %s "
                                 "expert's confidences",
                                 (long long)r->run_id, (long long)p->image_id,
                                 lpt_store_expert_name((LptStoreExpert)e));
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        ReviewImage *grown = realloc(r->images, cap * sizeof *grown);
        if (!grown)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
        r->images = grown;
        r->cap = cap;
    }
    ReviewImage *row = &r->images[r->count];
    row->image_id = p->image_id;
    row->label = p->label_index;
    LptStatus st = LPT_OK;
    for (int m = 0; st == LPT_OK && m < LPT_REVIEW_MODELS; m++) {
        row->top[m] = -1;
        row->prob[m] = NAN;
        if (m == LPT_STORE_EXPERT_FUSED)
            st = add_model(r, p, m, p->fused_topk, p->fused_probs, row, err);
        else if (r->has[m])
            st = add_model(r, p, m, p->expert_topk[m], p->expert_probs[m], row, err);
    }
    if (st != LPT_OK)
        return st;
    if (p->scorer_weights) {
        for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
            r->weight_sum[(size_t)e * r->K + p->label_index] += p->scorer_weights[e];
        r->weight_count[p->label_index]++;
    }
    r->count++;
    return LPT_OK;
}

LptStatus lpt_review_load(LptStore *store, int64_t run_id, LptStoreSplit split, LptReview **out,
                          LptError *err)
{
    LptError local = {0};
    if (!err) /* the steps below prefix messages, which needs a record */
        err = &local;
    if (!out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: NULL output");
    *out = NULL;
    if (!store)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: no store");
    if (split < LPT_STORE_SPLIT_TRAIN || split > LPT_STORE_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "review: the split must be train, val or test");
    LptReview *r = calloc(1, sizeof *r);
    if (!r)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
    r->run_id = run_id;
    r->split = split;
    LptStatus st = load_run(r, store, err);
    if (st == LPT_OK)
        st = lpt_store_prediction_scan(store, run_id, split, add_prediction, r, err);
    if (st != LPT_OK) {
        lpt_review_free(r);
        return st;
    }
    for (int m = 0; m < LPT_REVIEW_MODELS; m++)
        if (r->eval[m])
            r->metrics[m] = lpt_eval_metrics(r->eval[m]);
    free(r->probs);
    r->probs = NULL;
    *out = r;
    return LPT_OK;
}

/* ---- Reading ---- */

int64_t lpt_review_run_id(const LptReview *r) { return r->run_id; }
LptStoreSplit lpt_review_split(const LptReview *r) { return r->split; }
LptMethod lpt_review_method(const LptReview *r) { return r->cfg.method; }
int64_t lpt_review_image_count(const LptReview *r) { return (int64_t)r->count; }
int32_t lpt_review_num_classes(const LptReview *r) { return r->K; }

int64_t lpt_review_class_id(const LptReview *r, int32_t k)
{
    return k >= 0 && k < r->K ? r->class_ids[k] : 0;
}

const char *lpt_review_class_name(const LptReview *r, int32_t k)
{
    return k >= 0 && k < r->K ? r->class_names[k] : "";
}

bool lpt_review_has_model(const LptReview *r, LptStoreExpert model)
{
    return (int)model >= 0 && (int)model < LPT_REVIEW_MODELS && r->has[model];
}

const LptEvalMetrics *lpt_review_metrics(const LptReview *r, LptStoreExpert model)
{
    return lpt_review_has_model(r, model) ? r->metrics[model] : NULL;
}

double lpt_review_mean_weight(const LptReview *r, LptStoreExpert expert, int32_t k)
{
    if ((int)expert < 0 || (int)expert >= LPT_STORE_NUM_EXPERTS || !r->has[expert] || k < 0 ||
        k >= r->K || r->weight_count[k] == 0)
        return NAN;
    return r->weight_sum[(size_t)expert * r->K + k] / (double)r->weight_count[k];
}

/* qsort's order for image lists: surest first, then by image id. */
typedef struct Ranked {
    float prob;
    int64_t image_id;
} Ranked;

static int compare_ranked(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob > y->prob ? -1 : 1;
    return (x->image_id > y->image_id) - (x->image_id < y->image_id);
}

LptStatus lpt_review_select(const LptReview *r, LptStoreExpert model, int32_t true_class,
                            int32_t predicted, int64_t **image_ids, size_t *count, LptError *err)
{
    if (!r || !image_ids || !count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review: NULL argument");
    *image_ids = NULL;
    *count = 0;
    if (!lpt_review_has_model(r, model) || true_class < -1 || true_class >= r->K ||
        predicted < -1 || predicted >= r->K)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "review: run %lld: no images of model %d, class %d, predicted %d "
                             "(the run has %d classes)",
                             (long long)r->run_id, (int)model, (int)true_class, (int)predicted,
                             (int)r->K);
    Ranked *ranked = malloc((r->count + 1) * sizeof *ranked);
    if (!ranked)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        const ReviewImage *row = &r->images[i];
        if ((true_class < 0 || row->label == true_class) &&
            (predicted < 0 || row->top[model] == predicted))
            ranked[n++] = (Ranked){row->prob[model], row->image_id};
    }
    qsort(ranked, n, sizeof *ranked, compare_ranked);
    int64_t *ids = n > 0 ? malloc(n * sizeof *ids) : NULL;
    if (n > 0 && !ids) {
        free(ranked);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ids[i] = ranked[i].image_id;
    free(ranked);
    *image_ids = ids;
    *count = n;
    return LPT_OK;
}

/* synth_review.c: the Review page tests' evaluated runs made through the store. See
 * synth_review.h. */
#include "synth_review.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "lpt_thumbnail.h"
#include "lpt_trainer.h"

/* The class of the n-th image of a split. */
static int label_of(int n)
{
    return n < SYNTH_REVIEW_BIG_CLASS ? 0 : 1 + (n - SYNTH_REVIEW_BIG_CLASS) / 90;
}

/* A linear congruential generator with a fixed seed: uniform in [0, 1). */
static double next_uniform(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (*seed >> 8) / 16777216.0;
}

/* Confidences around the label: a softmax of random logits with the label's raised. */
static void draw_probs(float *p, int label, uint32_t *seed)
{
    double sum = 0.0;
    for (int k = 0; k < SYNTH_REVIEW_CLASSES; k++) {
        p[k] = (float)exp(4.0 * next_uniform(seed) + (k == label ? 3.5 : 0.0));
        sum += p[k];
    }
    for (int k = 0; k < SYNTH_REVIEW_CLASSES; k++)
        p[k] = (float)(p[k] / sum);
}

/* The content hash of the project's index-th image: unique over the project. */
static void content_hash(char out[LPT_STORE_HASH_LEN + 1], int index)
{
    snprintf(out, LPT_STORE_HASH_LEN + 1, "%064x", index + 1);
}

/* Inserts the n-th image of split, the project's index-th. */
static LptStatus insert_image(LptStore *store, const int64_t *class_ids, LptStoreSplit split, int n,
                              int index, int64_t *id, LptError *err)
{
    char file[64];
    int label = label_of(n);
    snprintf(file, sizeof file, "/synthetic/%s/%02d/%05d.png",
             split == LPT_STORE_SPLIT_TEST ? "test" : "train", label, n);
    LptStoreImage img = {0};
    img.path = file;
    content_hash(img.content_hash, index);
    img.width = img.height = SYNTH_REVIEW_SIDE;
    img.channels = 1;
    img.class_id = class_ids[label];
    img.split = split;
    return lpt_store_image_insert(store, &img, id, err);
}

/* Records the run's prediction of the test image `id` of class `label`. */
static LptStatus insert_prediction(LptStore *store, int64_t run_id, int64_t id, int label,
                                   uint32_t *seed, LptError *err)
{
    float probs[3][SYNTH_REVIEW_CLASSES]; /* vision, VL, fused */
    LptStoreTopK topk[3][SYNTH_REVIEW_TOP_K];
    for (int s = 0; s < 3; s++) {
        draw_probs(probs[s], label, seed);
        lpt_trainer_top_k(probs[s], SYNTH_REVIEW_CLASSES, SYNTH_REVIEW_TOP_K, topk[s]);
    }
    float weights[2] = {0.6f, 0.4f};
    int32_t prompts[2] = {3, 11};
    LptStorePrediction p = {0};
    p.run_id = run_id;
    p.image_id = id;
    p.label_index = label;
    p.num_classes = SYNTH_REVIEW_CLASSES;
    p.top_k = SYNTH_REVIEW_TOP_K;
    p.fused_topk = topk[2];
    p.fused_probs = probs[2];
    for (int e = 0; e < 2; e++) {
        p.expert_topk[e] = topk[e];
        p.expert_probs[e] = probs[e];
        p.num_prompts[e] = 2;
        p.prompts[e] = prompts;
    }
    p.scorer_weights = weights;
    return lpt_store_prediction_insert(store, &p, err);
}

/* A gray thumbnail of the project's index-th image, its pixels drawn from index. */
static LptStatus write_thumbnail(const char *cache, int index, LptError *err)
{
    char hash[LPT_STORE_HASH_LEN + 1];
    content_hash(hash, index);
    uint8_t pixels[SYNTH_REVIEW_SIDE * SYNTH_REVIEW_SIDE];
    for (int q = 0; q < SYNTH_REVIEW_SIDE * SYNTH_REVIEW_SIDE; q++)
        pixels[q] = (uint8_t)((q * 7 + index * 13) & 0xff);
    LptImage image = {SYNTH_REVIEW_SIDE, SYNTH_REVIEW_SIDE, 1, pixels};
    return lpt_thumbnail_write(cache, hash, &image, err);
}

/* The classes, the run and the images with their predictions (see the header). */
static LptStatus fill(LptStore *store, const char *thumbnail_cache, int64_t *run_id, LptError *err)
{
    int64_t class_ids[SYNTH_REVIEW_CLASSES];
    for (int k = 0; k < SYNTH_REVIEW_CLASSES; k++) {
        char name[32];
        snprintf(name, sizeof name, "defect_%02d", k);
        if (lpt_store_class_ensure(store, name, &class_ids[k], NULL, err) != LPT_OK)
            return err->code;
    }
    LptStoreRun run = {0};
    run.config_json = "{\"method\": \"lpt++\"}";
    run.class_ids = class_ids;
    run.num_classes = SYNTH_REVIEW_CLASSES;
    if (lpt_store_run_create(store, &run, run_id, err) != LPT_OK)
        return err->code;
    uint32_t seed = 12345;
    for (int n = 0; n < SYNTH_REVIEW_IMAGES; n++) { /* a training and a test image of a class */
        int64_t id = 0;
        if (insert_image(store, class_ids, LPT_STORE_SPLIT_TRAIN, n, SYNTH_REVIEW_IMAGES + n, &id,
                         err) != LPT_OK ||
            insert_image(store, class_ids, LPT_STORE_SPLIT_TEST, n, n, &id, err) != LPT_OK ||
            insert_prediction(store, *run_id, id, label_of(n), &seed, err) != LPT_OK)
            return err->code;
        if (thumbnail_cache != NULL && label_of(n) == 0 &&
            write_thumbnail(thumbnail_cache, n, err) != LPT_OK)
            return err->code;
    }
    return LPT_OK;
}

LptStatus synth_review_make(const char *path, const char *thumbnail_cache, int64_t *run_id,
                            LptError *err)
{
    LptStore *store = lpt_store_open(path, LPT_STORE_CREATE, err);
    if (store == NULL)
        return lpt_error_prefix(err, "making the synthetic project '%s': ", path);
    LptStatus st = lpt_store_begin(store, err);
    if (st == LPT_OK)
        st = fill(store, thumbnail_cache, run_id, err);
    if (st == LPT_OK)
        st = lpt_store_commit(store, err);
    lpt_store_close(store);
    if (st != LPT_OK)
        lpt_error_prefix(err, "making the synthetic project '%s': ", path);
    return st;
}

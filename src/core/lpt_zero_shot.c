/* lpt_zero_shot.c: zero-shot accuracy of a CLIP backbone (see the header).
 *
 * Order of work: open the weights (both towers come from one mapping), make the class
 * embeddings (lpt_vl_head_init: the text tower lives only for that), then stream the images
 * through an EVAL loader and the image tower batch by batch, scoring each batch on the host.
 */
#include "lpt_zero_shot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_clip_text.h"
#include "lpt_eval.h"
#include "lpt_loader.h"
#include "lpt_vit.h"
#include "lpt_vl_head.h"
#include "lpt_weights.h"

#define DEFAULT_BATCH 32
#define CLIP_LOGIT_SCALE 100.0f /* CLIP's trained logit scale: probabilities = softmax(100 cos) */

void lpt_zero_shot_options_init(LptZeroShotOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    lpt_backend_options_init(&opt->backend);
}

void lpt_zero_shot_result_free(LptZeroShotResult *r)
{
    if (!r)
        return;
    free(r->support);
    free(r->recall);
    free(r->predicted);
    free(r->cosine);
    free(r);
}

/* dir/name when it is a readable file (malloc'd), else NULL. */
static char *file_beside(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/%s", dir, name);
    if (access(path, R_OK) == 0)
        return path;
    free(path);
    return NULL;
}

/* The folder of path (malloc'd; "." for a bare name). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

char *lpt_zero_shot_find_tokenizer(const char *backbone)
{
    if (!backbone)
        return NULL;
    char *dir = folder_of(backbone);
    if (!dir)
        return NULL;
    static const char *const names[] = {"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt",
                                        "vocab.json"};
    char *found = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !found; i++) {
        found = file_beside(dir, names[i]);
        if (found && strcmp(names[i], "vocab.json") == 0) {
            char *merges = file_beside(dir, "merges.txt");
            if (!merges) {
                free(found);
                found = NULL;
            }
            free(merges);
        }
    }
    free(dir);
    return found;
}

/* Everything a run holds, freed together. */
typedef struct ZeroShot {
    const LptZeroShotOptions *opt;
    LptBackend *be;
    LptWeights *weights;
    LptVit *vit;
    LptLoader *loader;
    LptEval *eval;
    float *class_emb; /* [K, D] */
    float *features;  /* [B, D] */
    float *logits;    /* [B, K] */
    int64_t *zero_counts;
    int dim, batch;
} ZeroShot;

static void zero_shot_free(ZeroShot *z)
{
    lpt_eval_free(z->eval);
    lpt_loader_free(z->loader);
    lpt_vit_free(z->vit);
    lpt_weights_close(z->weights);
    lpt_backend_free(z->be);
    free(z->class_emb);
    free(z->features);
    free(z->logits);
    free(z->zero_counts);
}

static LptStatus out_of_memory(LptError *err)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "zero-shot: out of memory");
}

/* Opens the weights and makes the class embeddings as the VL head init does. */
static LptStatus embed_classes(ZeroShot *z, LptError *err)
{
    const LptZeroShotOptions *opt = z->opt;
    z->weights = lpt_weights_open(opt->backbone, NULL, err);
    if (!z->weights)
        return err ? err->code : LPT_ERR_IO;
    const LptWeightsInfo *info = lpt_weights_info(z->weights);
    z->dim = info->vit.clip_style ? info->vit.proj_dim : info->vit.width;
    z->class_emb = malloc((size_t)opt->num_classes * z->dim * sizeof(float));
    if (!z->class_emb)
        return out_of_memory(err);
    return lpt_vl_head_init(z->be, z->weights, opt->backbone, opt->class_names, opt->descriptions,
                            opt->templates, opt->n_templates, opt->num_classes, z->dim,
                            z->class_emb, err);
}

/* The image tower (plain) and an EVAL loader over the images. */
static LptStatus open_images(ZeroShot *z, LptError *err)
{
    const LptZeroShotOptions *opt = z->opt;
    const LptWeightsInfo *info = lpt_weights_info(z->weights);
    LptVitConfig vc = info->vit; /* a plain backbone: no prompts, adapters, pool or head */
    z->vit = lpt_vit_new(z->be, &vc, err);
    if (!z->vit)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    LptStatus st = lpt_weights_load_vit(z->weights, z->vit, err);
    if (st != LPT_OK)
        return st;
    z->batch = opt->batch_size > 0 ? opt->batch_size : DEFAULT_BATCH;
    LptLoaderConfig lc;
    lpt_loader_config_init(&lc);
    lc.count = opt->count;
    lc.paths = opt->paths;
    lc.labels = opt->labels;
    lc.num_classes = opt->num_classes;
    lc.mode = LPT_LOADER_EVAL;
    lc.batch_size = z->batch;
    lc.input_size = vc.image;
    memcpy(lc.mean, info->mean, sizeof lc.mean);
    memcpy(lc.std, info->std, sizeof lc.std);
    lc.cache_bytes = 0; /* one pass */
    z->loader = lpt_loader_new(z->be, &lc, err);
    if (!z->loader)
        return err ? err->code : LPT_ERR_INVALID_ARGUMENT;
    z->features = malloc((size_t)z->batch * z->dim * sizeof *z->features);
    z->logits = malloc((size_t)z->batch * opt->num_classes * sizeof *z->logits);
    z->zero_counts = calloc((size_t)opt->num_classes, sizeof *z->zero_counts);
    if (!z->features || !z->logits || !z->zero_counts)
        return out_of_memory(err);
    z->eval = lpt_eval_new(opt->num_classes, z->zero_counts, NULL, 1, err);
    return z->eval ? LPT_OK : (err ? err->code : LPT_ERR_OUT_OF_MEMORY);
}

/* One batch: features, cosines, confidences, metrics, predictions. */
static LptStatus score_part(ZeroShot *z, const LptLoaderPart *part, LptZeroShotResult *r,
                            LptError *err)
{
    int n = part->count, K = z->opt->num_classes;
    LptStatus st = lpt_vit_forward(z->vit, &part->images, n, LPT_VIT_PLAIN, false, err);
    LptTensor fv = lpt_tensor_view(lpt_vit_features(z->vit), 0, (size_t)n * z->dim);
    if (st == LPT_OK)
        st = lpt_tensor_download(&fv, z->features, err);
    if (st == LPT_OK)
        st = lpt_clip_zero_shot_logits(z->logits, z->features, z->class_emb, n, K, z->dim, err);
    for (int i = 0; i < n && st == LPT_OK; i++) {
        float *row = z->logits + (size_t)i * K;
        float best = row[lpt_eval_argmax(row, K)];
        double sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += exp((double)(CLIP_LOGIT_SCALE * (row[k] - best)));
        for (int k = 0; k < K; k++)
            row[k] = (float)(exp((double)(CLIP_LOGIT_SCALE * (row[k] - best))) / sum);
        r->predicted[part->indices[i]] = lpt_eval_argmax(row, K);
        r->cosine[part->indices[i]] = best;
        st = lpt_eval_add(z->eval, part->host_labels[i], row, err);
    }
    return st;
}

LptStatus lpt_zero_shot_run(const LptZeroShotOptions *opt, LptZeroShotResult **out, LptError *err)
{
    if (!opt || !out || !opt->backbone || !opt->class_names || opt->num_classes < 1 ||
        opt->count < 0 || (opt->count > 0 && (!opt->paths || !opt->labels)))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "zero-shot: need a backbone, K >= 1 class names and the images");
    *out = NULL;
    for (int64_t i = 0; i < opt->count; i++)
        if (opt->labels[i] < 0 || opt->labels[i] >= opt->num_classes)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "zero-shot: image %lld ('%s'): label %d outside [0, %d)",
                                 (long long)i, opt->paths[i], opt->labels[i], opt->num_classes);
    int K = opt->num_classes;
    LptZeroShotResult *r = calloc(1, sizeof *r);
    ZeroShot z = {.opt = opt};
    LptStatus st = r ? LPT_OK : out_of_memory(err);
    if (st == LPT_OK) {
        r->num_classes = K;
        r->support = calloc((size_t)K, sizeof *r->support);
        r->recall = calloc((size_t)K, sizeof *r->recall);
        r->predicted = calloc((size_t)opt->count + 1, sizeof *r->predicted);
        r->cosine = calloc((size_t)opt->count + 1, sizeof *r->cosine);
        if (!r->support || !r->recall || !r->predicted || !r->cosine)
            st = out_of_memory(err);
    }
    if (st == LPT_OK && !(z.be = lpt_backend_new(&opt->backend, err)))
        st = err ? err->code : LPT_ERR_NO_DEVICE;
    if (st == LPT_OK)
        st = embed_classes(&z, err);
    if (st == LPT_OK && opt->count > 0)
        st = open_images(&z, err);

    int64_t done = 0;
    while (st == LPT_OK && done < opt->count) {
        if (opt->cancel && atomic_load(opt->cancel)) {
            st = lpt_error_set(err, LPT_ERR_CANCELLED, 0, "zero-shot: cancelled");
            break;
        }
        LptLoaderBatch batch;
        if ((st = lpt_loader_next(z.loader, &batch, err)) != LPT_OK || batch.end)
            break;
        st = score_part(&z, &batch.part[0], r, err);
        done += batch.part[0].count;
        if (st == LPT_OK && opt->progress && !opt->progress(done, opt->count, opt->user))
            st = lpt_error_set(err, LPT_ERR_CANCELLED, 0, "zero-shot: cancelled");
    }

    if (st == LPT_OK) {
        const LptEvalMetrics *m = z.eval ? lpt_eval_metrics(z.eval) : NULL;
        r->images = m ? m->images : 0;
        r->correct = m ? m->correct : 0;
        r->overall = m ? m->overall : NAN;
        r->balanced = m ? m->balanced : NAN;
        for (int k = 0; k < K; k++) {
            r->support[k] = m ? m->classes[k].support : 0;
            r->recall[k] = m ? m->classes[k].recall : NAN;
        }
        *out = r;
    } else {
        lpt_zero_shot_result_free(r);
    }
    zero_shot_free(&z);
    return st;
}

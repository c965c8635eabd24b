/* lpt_trainer_moe.c: phase 3 (the feature cache and the MoE scorer's training) and the
 * evaluation of a run with its per-image records. See lpt_trainer.h. */
#define _DEFAULT_SOURCE /* realpath() */
#include "lpt_trainer_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_hash.h"
#include "lpt_paths.h"
#include "lpt_schedule.h"
#include "lpt_scorer.h"

/* The experts a run has, in store order: slot -> LptStoreExpert. */
static int used_experts(const LptTrainer *t, LptStoreExpert out[LPT_TRAIN_EXPERTS])
{
    int n = 0;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++)
        if (t->opt.experts[e].vit)
            out[n++] = (LptStoreExpert)e;
    return n;
}

/* ---- the phase-3 cache ------------------------------------------------------------------ */

/* Features and confidences of every expert: training rows (view v, image i) at v N + i, and
 * validation rows by position. */
typedef struct Cache {
    int experts;
    LptStoreExpert which[LPT_TRAIN_EXPERTS];
    LptVitMode mode[LPT_TRAIN_EXPERTS];
    int dims[LPT_TRAIN_EXPERTS];
    int64_t rows, val_rows; /* N V, N_val */
    float *feat[LPT_TRAIN_EXPERTS], *prob[LPT_TRAIN_EXPERTS];
    float *val_feat[LPT_TRAIN_EXPERTS], *val_prob[LPT_TRAIN_EXPERTS];
} Cache;

static void cache_free(Cache *c)
{
    for (int s = 0; s < LPT_TRAIN_EXPERTS; s++) {
        free(c->feat[s]);
        free(c->prob[s]);
        free(c->val_feat[s]);
        free(c->val_prob[s]);
    }
}

/* FNV-1a over bytes, chained. */
static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t list_hash(uint64_t h, const LptImageList *l)
{
    for (int64_t i = 0; i < l->count; i++) {
        if (l->ids)
            h = fnv(h, &l->ids[i], sizeof l->ids[i]);
        else
            h = fnv(h, l->paths[i], strlen(l->paths[i]) + 1);
    }
    return h;
}

/* What the cache depends on: the images, the views, the seed and each expert's checkpoint. */
static void cache_key(const LptTrainer *t, const Cache *c, const int epochs[], char *buf,
                      size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = list_hash(h, &t->opt.train);
    h = list_hash(h, &t->opt.val);
    int n =
        snprintf(buf, size, "run %lld views %d seed %llu images %016llx", (long long)t->opt.run_id,
                 t->cfg.scorer_views, (unsigned long long)t->cfg.seed, (unsigned long long)h);
    for (int s = 0; s < c->experts && n > 0 && (size_t)n < size; s++)
        n += snprintf(buf + n, size - (size_t)n, " %s mode %d epoch %d",
                      lpt_store_expert_name(c->which[s]), (int)c->mode[s], epochs[s]);
}

typedef struct CacheFill {
    const Cache *c;
    int slot;
    bool val;
    int64_t n_images; /* N (training rows: view * N + index) */
    int K;
} CacheFill;

static LptStatus cache_fill(void *ctx, const EvalBatch *b, LptError *err)
{
    CacheFill *f = ctx;
    const Cache *c = f->c;
    int d = c->dims[f->slot], K = f->K;
    float *feat = f->val ? c->val_feat[f->slot] : c->feat[f->slot];
    float *prob = f->val ? c->val_prob[f->slot] : c->prob[f->slot];
    int64_t base = f->val ? 0 : b->epoch * f->n_images;
    for (int i = 0; i < b->count; i++) {
        int64_t row = base + b->indices[i];
        memcpy(feat + (size_t)row * d, b->features + (size_t)i * d, (size_t)d * sizeof *feat);
        memcpy(prob + (size_t)row * K, b->probs + (size_t)i * K, (size_t)K * sizeof *prob);
    }
    (void)err;
    return LPT_OK;
}

/* Loads the cache file when its key matches (*loaded says whether it did). */
static LptStatus cache_load(const char *path, const char *key, Cache *c, int K, bool *loaded,
                            LptError *err)
{
    *loaded = false;
    LptSafetensors *sf = lpt_safetensors_open(path, NULL); /* absent or unreadable: rebuild */
    if (!sf)
        return LPT_OK;
    const char *k = lpt_safetensors_metadata(sf, "key");
    LptStatus st = LPT_OK;
    if (k && strcmp(k, key) == 0) {
        char name[64];
        for (int s = 0; s < c->experts && st == LPT_OK; s++) {
            const char *en = lpt_store_expert_name(c->which[s]);
            snprintf(name, sizeof name, "train.features.%s", en);
            st = lpt_trainer_read_tensor(sf, name, c->feat[s], (size_t)c->rows * c->dims[s], err);
            snprintf(name, sizeof name, "train.probs.%s", en);
            if (st == LPT_OK)
                st = lpt_trainer_read_tensor(sf, name, c->prob[s], (size_t)c->rows * K, err);
            snprintf(name, sizeof name, "val.features.%s", en);
            if (st == LPT_OK && c->val_rows > 0)
                st = lpt_trainer_read_tensor(sf, name, c->val_feat[s],
                                             (size_t)c->val_rows * c->dims[s], err);
            snprintf(name, sizeof name, "val.probs.%s", en);
            if (st == LPT_OK && c->val_rows > 0)
                st =
                    lpt_trainer_read_tensor(sf, name, c->val_prob[s], (size_t)c->val_rows * K, err);
        }
        *loaded = st == LPT_OK;
    }
    lpt_safetensors_close(sf);
    return st;
}

static LptStatus cache_save(const char *path, const char *key, const Cache *c, int K, LptError *err)
{
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    if (!w)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "phase 3 cache: out of memory");
    LptStatus st = lpt_safetensors_writer_set_metadata(w, "key", key, err);
    char name[64];
    for (int s = 0; s < c->experts && st == LPT_OK; s++) {
        const char *en = lpt_store_expert_name(c->which[s]);
        size_t shape[2] = {(size_t)c->rows, (size_t)c->dims[s]};
        snprintf(name, sizeof name, "train.features.%s", en);
        st = lpt_safetensors_writer_add_f32_borrowed(w, name, 2, shape, c->feat[s], err);
        shape[1] = (size_t)K;
        snprintf(name, sizeof name, "train.probs.%s", en);
        if (st == LPT_OK)
            st = lpt_safetensors_writer_add_f32_borrowed(w, name, 2, shape, c->prob[s], err);
        if (c->val_rows == 0)
            continue;
        size_t vshape[2] = {(size_t)c->val_rows, (size_t)c->dims[s]};
        snprintf(name, sizeof name, "val.features.%s", en);
        if (st == LPT_OK)
            st = lpt_safetensors_writer_add_f32_borrowed(w, name, 2, vshape, c->val_feat[s], err);
        vshape[1] = (size_t)K;
        snprintf(name, sizeof name, "val.probs.%s", en);
        if (st == LPT_OK)
            st = lpt_safetensors_writer_add_f32_borrowed(w, name, 2, vshape, c->val_prob[s], err);
    }
    if (st == LPT_OK)
        st = lpt_safetensors_write(w, path, err);
    lpt_safetensors_writer_free(w);
    return st;
}

LptStatus lpt_trainer_phase3_cache_path(const char *project, int64_t run_id, char *buf, size_t size,
                                        LptError *err)
{
    char real[4096], hash[LPT_HASH_HEX_LEN + 1], dir[4096];
    if (!project || !realpath(project, real))
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot resolve the path: %s",
                             project ? project : "(no project)", strerror(errno));
    LPT_TRY(lpt_hash_sha256_memory(real, strlen(real), real, hash, err));
    LPT_TRY(lpt_cache_dir(dir, sizeof dir, err));
    int n = snprintf(buf, size, "%s/phase3/%s-run-%lld.safetensors", dir, hash, (long long)run_id);
    if (n < 0 || (size_t)n >= size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: the phase-3 cache's path is too long", dir);
    return LPT_OK;
}

/* Builds (or loads) the cache of every expert's features and confidences. */
static LptStatus build_cache(LptTrainer *t, Cache *c, LptError *err)
{
    int K = t->K;
    int64_t N = t->opt.train.count;
    int epochs[LPT_TRAIN_EXPERTS];
    c->experts = used_experts(t, c->which);
    c->rows = N * t->cfg.scorer_views;
    c->val_rows = t->opt.val.count;
    int batch = t->cfg.eval_batch_size;
    for (int s = 0; s < c->experts; s++) {
        LPT_TRY(lpt_trainer_load_final(t, c->which[s], &c->mode[s], &epochs[s], err));
        c->dims[s] = lpt_vit_feature_width(t->opt.experts[c->which[s]].vit);
        int b = lpt_trainer_eval_batch(t, c->which[s], t->cfg.eval_batch_size);
        batch = b < batch ? b : batch;
        c->feat[s] = malloc((size_t)c->rows * c->dims[s] * sizeof(float));
        c->prob[s] = malloc((size_t)c->rows * K * sizeof(float));
        c->val_feat[s] = malloc(((size_t)c->val_rows * c->dims[s] + 1) * sizeof(float));
        c->val_prob[s] = malloc(((size_t)c->val_rows * K + 1) * sizeof(float));
        if (!c->feat[s] || !c->prob[s] || !c->val_feat[s] || !c->val_prob[s])
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                 "phase 3: out of memory for the cache of %lld rows",
                                 (long long)c->rows);
    }
    char key[512], path[4096];
    cache_key(t, c, epochs, key, sizeof key);
    LPT_TRY(lpt_trainer_phase3_cache_path(lpt_store_path(t->opt.store), t->opt.run_id, path,
                                          sizeof path, err));
    bool loaded;
    LPT_TRY(cache_load(path, key, c, K, &loaded, err));
    if (loaded)
        return LPT_OK;
    /* the same seed and batch for every expert: they see the same views */
    uint64_t seed = lpt_trainer_seed(t, SEED_VIEWS, 0, 0);
    for (int s = 0; s < c->experts; s++) { /* each model holds its final state (above) */
        LptStoreExpert e = c->which[s];
        LptLoader *views = lpt_trainer_loader(t, e, &t->opt.train, true, LPT_SAMPLER_INSTANCE,
                                              batch, seed, NULL, err);
        if (!views)
            return err ? err->code : LPT_ERR_IO;
        CacheFill f = {c, s, false, N, K};
        int64_t steps = lpt_loader_steps_per_epoch(views) * t->cfg.scorer_views;
        LptStatus st = lpt_trainer_eval_pass(t, e, c->mode[s], views, steps, 3,
                                             LPT_TRAIN_STAGE_CACHE, cache_fill, &f, err);
        lpt_loader_free(views);
        LPT_TRY(st);
        LptLoader *val;
        LPT_TRY(lpt_trainer_val_loader(t, e, &val, err));
        f.val = true;
        if (val) {
            st = lpt_trainer_eval_pass(t, e, c->mode[s], val, 0, 3, LPT_TRAIN_STAGE_CACHE,
                                       cache_fill, &f, err);
            if (st != LPT_OK) {
                lpt_trainer_drop_val_loader(t, e);
                return st;
            }
        }
    }
    char *slash = strrchr(path, '/');
    *slash = '\0'; /* the folder of the cache, made when missing */
    LptStatus st = lpt_make_dirs(path, err);
    *slash = '/';
    return st == LPT_OK ? cache_save(path, key, c, K, err) : st;
}

/* ---- the scorer ------------------------------------------------------------------------- */

/* Gathers rows of the cache into scorer inputs [n, in] and probs [n, E, K]. */
static void gather_rows(const Cache *c, const LptScorerConfig *sc, bool val, const int64_t *rows,
                        int n, float *inputs, float *probs)
{
    int in = lpt_scorer_input_width(sc), K = sc->classes, E = c->experts;
    const float *f[LPT_TRAIN_EXPERTS], *p[LPT_TRAIN_EXPERTS];
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < E; s++) {
            f[s] = (val ? c->val_feat[s] : c->feat[s]) + (size_t)rows[i] * c->dims[s];
            p[s] = (val ? c->val_prob[s] : c->prob[s]) + (size_t)rows[i] * K;
            memcpy(probs + ((size_t)i * E + s) * K, p[s], (size_t)K * sizeof *probs);
        }
        lpt_scorer_build_input(sc, f, p, inputs + (size_t)i * in);
    }
}

/* Scorer state of one phase-3 run. */
typedef struct ScorerRun {
    LptTrainer *t;
    Cache cache;
    LptScorerConfig sc;
    LptScorer *scorer;
    LptSampler *sampler;
    LptEval *val;
    float *inputs, *probs, *fused, *state;
    int64_t *rows;
} ScorerRun;

/* The fused balanced accuracy on the cached validation rows into r->val. */
static LptStatus scorer_validate(ScorerRun *r, LptError *err)
{
    lpt_eval_reset(r->val);
    int B = r->sc.max_batch, K = r->t->K;
    for (int64_t o = 0; o < r->cache.val_rows; o += B) {
        int n = (int)(r->cache.val_rows - o < B ? r->cache.val_rows - o : B);
        for (int i = 0; i < n; i++)
            r->rows[i] = o + i;
        gather_rows(&r->cache, &r->sc, true, r->rows, n, r->inputs, r->probs);
        LPT_TRY(lpt_scorer_forward(r->scorer, r->inputs, r->probs, n, NULL, r->fused, err));
        for (int i = 0; i < n; i++)
            LPT_TRY(
                lpt_eval_add(r->val, r->t->opt.val.labels[o + i], r->fused + (size_t)i * K, err));
    }
    return LPT_OK;
}

/* The scorer's checkpoint (its tensors borrowed from r->state), into *out (NULL on failure). */
static LptStatus scorer_checkpoint(ScorerRun *r, const CheckpointMeta *meta,
                                   LptSafetensorsWriter **out, LptError *err)
{
    size_t n = lpt_scorer_param_count(r->scorer);
    float *p = r->state, *m = r->state + n, *v = r->state + 2 * n;
    LPT_TRY(lpt_scorer_get_state(r->scorer, p, m, v, err));
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    char *json = lpt_trainer_meta_json(meta);
    LptStatus st = w && json
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32_borrowed(w, "scorer.params", 1, &n, p, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32_borrowed(w, "scorer.adam_m", 1, &n, m, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32_borrowed(w, "scorer.adam_v", 1, &n, v, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_set_metadata(w, "lpt_checkpoint", json, err);
    free(json);
    if (st != LPT_OK) {
        lpt_safetensors_writer_free(w);
        w = NULL;
    }
    *out = w;
    return st;
}

/* Loads the scorer checkpoint of row c (state and metadata); state: [3 n] host scratch. */
static LptStatus load_scorer(LptTrainer *t, LptScorer *scorer, float *state,
                             const LptStoreCheckpoint *c, CheckpointMeta *meta, LptError *err)
{
    LptSafetensors *sf = lpt_trainer_checkpoint_open(t->opt.store, c, err);
    if (!sf)
        return err ? err->code : LPT_ERR_IO;
    size_t n = lpt_scorer_param_count(scorer);
    LptStatus st = lpt_trainer_meta_parse(sf, meta, err);
    if (st == LPT_OK)
        st = lpt_trainer_read_tensor(sf, "scorer.params", state, n, err);
    if (st == LPT_OK)
        st = lpt_trainer_read_tensor(sf, "scorer.adam_m", state + n, n, err);
    if (st == LPT_OK)
        st = lpt_trainer_read_tensor(sf, "scorer.adam_v", state + 2 * n, n, err);
    lpt_safetensors_close(sf);
    if (st == LPT_OK)
        st = lpt_scorer_set_state(scorer, state, state + n, state + 2 * n, err);
    return st;
}

/* The scorer config of this run for the cache's experts. */
static void scorer_config(const LptTrainer *t, const Cache *c, LptScorerConfig *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->experts = c->experts;
    for (int s = 0; s < c->experts; s++)
        sc->feature_dims[s] = c->dims[s];
    sc->classes = t->K;
    sc->hidden = t->cfg.scorer_hidden;
    sc->input_feature = t->cfg.input_feature;
    sc->input_max = t->cfg.input_max;
    sc->input_entropy = t->cfg.input_entropy;
    sc->input_margin = t->cfg.input_margin;
    sc->max_batch = t->cfg.scorer_batch_size > 256 ? t->cfg.scorer_batch_size : 256;
}

/* The epochs of the scorer from `start`, with checkpoints and early stop. */
static LptStatus scorer_epochs(ScorerRun *r, int start, CheckpointMeta *meta, LptError *err)
{
    LptTrainer *t = r->t;
    const LptRunConfig *c = &t->cfg;
    int E = c->scorer_epochs, K = t->K;
    LptSchedule sched = {c->scorer_lr, 0, 0.0, E};
    int64_t steps = lpt_sampler_steps_per_epoch(r->sampler);
    int64_t total = (int64_t)(E - start) * steps, done = 0;
    LptScorerLossParams lp = {c->scorer_loss == LPT_SCORER_AGCL, {0}, t->margins_host};
    lpt_agcl_params_init(&lp.agcl_params, 1, K, c->cb_gamma_pos, c->cb_gamma_neg);
    lp.agcl_params.scale = c->loss_scale;
    lp.agcl_params.margin = c->loss_margin;
    lp.agcl_params.noise = c->loss_noise;
    lp.agcl_params.smoothing = c->loss_smoothing;
    lp.agcl_params.seed = lpt_trainer_seed(t, SEED_NOISE, 3, 0);
    for (int e = start; e < E; e++) {
        if (c->scorer_patience > 0 && meta->best_epoch >= 0 &&
            e - 1 - meta->best_epoch >= c->scorer_patience)
            break; /* early stop (lpt_trainer_phase_done agrees) */
        double t0 = lpt_trainer_now(), lr = lpt_schedule_lr(&sched, e), epoch_loss = 0.0;
        for (int64_t s = 0; s < steps; s++) {
            if (lpt_trainer_should_stop(t))
                return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "training cancelled");
            LptSamplerBatch b;
            LPT_TRY(lpt_sampler_next(r->sampler, &b, err));
            bool cb = b.cb_count > 0;
            int n = cb ? b.cb_count : b.ib_count;
            const int64_t *rows = cb ? b.cb_images : b.ib_images;
            const int32_t *labels = cb ? b.cb_labels : b.ib_labels;
            double loss = 0.0;
            if (n > 0) {
                gather_rows(&r->cache, &r->sc, false, rows, n, r->inputs, r->probs);
                LPT_TRY(lpt_scorer_forward(r->scorer, r->inputs, r->probs, n, NULL, NULL, err));
                lp.agcl_params.step = (uint32_t)((int64_t)e * steps + s);
                LPT_TRY(lpt_scorer_backward(r->scorer, labels, &lp, &loss, err));
                meta->adam_step++;
                LPT_TRY(lpt_scorer_adamw(r->scorer, (float)lr, (float)c->scorer_beta1,
                                         (float)c->scorer_beta2, (float)c->scorer_eps,
                                         (float)c->scorer_weight_decay, (int)meta->adam_step, err));
            }
            epoch_loss += loss;
            done++;
            t->images_done += n;
            double elapsed = lpt_trainer_now() - t->started;
            LptTrainProgress pr = {.stage = LPT_TRAIN_STAGE_TRAIN,
                                   .phase = 3,
                                   .expert = LPT_STORE_EXPERT_FUSED,
                                   .epoch = e,
                                   .epochs = E,
                                   .step = s + 1,
                                   .steps = steps,
                                   .loss = loss,
                                   .lr = lr,
                                   .images_per_second = t->images_done / fmax(elapsed, 1e-9),
                                   .eta_seconds = elapsed / done * (double)(total - done),
                                   .val_overall = NAN,
                                   .val_balanced = NAN};
            lpt_trainer_report(t, &pr);
        }
        LPT_TRY(scorer_validate(r, err));
        const LptEvalMetrics *vm = r->cache.val_rows > 0 ? lpt_eval_metrics(r->val) : NULL;
        double metric = vm ? vm->balanced : NAN;
        bool is_best = meta->best_epoch < 0 || isnan(meta->best_metric) ||
                       (!isnan(metric) && metric > meta->best_metric);
        if (is_best) {
            meta->best_metric = metric;
            meta->best_epoch = e;
        }
        meta->epoch = e;
        lpt_sampler_get_state(r->sampler, &meta->sampler);
        LptSafetensorsWriter *w;
        LPT_TRY(scorer_checkpoint(r, meta, &w, err));
        LPT_TRY(lpt_trainer_record_epoch(t, 3, LPT_STORE_EXPERT_FUSED, e, epoch_loss / steps, lr,
                                         lpt_trainer_now() - t0, vm, w, metric, is_best, err));
        LptTrainProgress pr = {.stage = LPT_TRAIN_STAGE_EPOCH,
                               .phase = 3,
                               .expert = LPT_STORE_EXPERT_FUSED,
                               .epoch = e,
                               .epochs = E,
                               .step = steps,
                               .steps = steps,
                               .loss = epoch_loss / steps,
                               .lr = lr,
                               .eta_seconds = NAN,
                               .val_overall = vm ? vm->overall : NAN,
                               .val_balanced = metric};
        lpt_trainer_report(t, &pr);
    }
    return LPT_OK;
}

/* Sets up the scorer, its sampler over the cached rows and its state (fresh or resumed). */
static LptStatus scorer_setup(ScorerRun *r, int *start, CheckpointMeta *meta, LptError *err)
{
    LptTrainer *t = r->t;
    const Cache *c = &r->cache;
    int K = t->K;
    scorer_config(t, c, &r->sc);
    int B = r->sc.max_batch, in = lpt_scorer_input_width(&r->sc);
    r->scorer = lpt_scorer_new(t->opt.be, &r->sc, err);
    if (!r->scorer)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    size_t n = lpt_scorer_param_count(r->scorer);
    r->inputs = malloc((size_t)B * in * sizeof *r->inputs);
    r->probs = malloc((size_t)B * c->experts * K * sizeof *r->probs);
    r->fused = malloc((size_t)B * K * sizeof *r->fused);
    r->rows = malloc((size_t)B * sizeof *r->rows);
    r->state = malloc(3 * n * sizeof *r->state);
    /* the sampler's rows per class: row v N + i has image i's label */
    int64_t N = t->opt.train.count;
    int64_t *counts = calloc((size_t)K, sizeof *counts), *fill = calloc((size_t)K, sizeof *fill);
    int64_t *all = malloc((size_t)c->rows * sizeof *all);
    int64_t **per_class = calloc((size_t)K, sizeof *per_class);
    LptStatus st = LPT_OK;
    if (!r->inputs || !r->probs || !r->fused || !r->rows || !r->state || !counts || !fill || !all ||
        !per_class)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "phase 3: out of memory");
    for (int64_t i = 0; st == LPT_OK && i < N; i++)
        counts[t->opt.train.labels[i]] += t->cfg.scorer_views;
    int64_t off = 0;
    for (int k = 0; st == LPT_OK && k < K; k++) {
        per_class[k] = all + off;
        off += counts[k];
    }
    for (int v = 0; st == LPT_OK && v < t->cfg.scorer_views; v++)
        for (int64_t i = 0; i < N; i++) {
            int k = t->opt.train.labels[i];
            per_class[k][fill[k]++] = (int64_t)v * N + i;
        }
    if (st == LPT_OK) {
        LptSamplerKind kind = t->cfg.scorer_sampling == LPT_SCORER_INSTANCE
                                  ? LPT_SAMPLER_INSTANCE
                                  : LPT_SAMPLER_CLASS_BALANCED;
        r->sampler =
            lpt_sampler_new(kind, (const int64_t *const *)per_class, counts, K,
                            t->cfg.scorer_batch_size, lpt_trainer_seed(t, SEED_SAMPLER, 3, 0), err);
        if (!r->sampler)
            st = err ? err->code : LPT_ERR_INVALID_ARGUMENT;
    }
    free(counts);
    free(fill);
    free(all);
    free(per_class);
    if (st == LPT_OK) {
        r->val = lpt_eval_new(K, t->opt.train_counts,
                              &(LptGroupThresholds){t->cfg.many_above, t->cfg.few_below},
                              t->cfg.ece_bins, err);
        if (!r->val)
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    }
    LptStoreCheckpoint *last = NULL;
    if (st == LPT_OK)
        st =
            lpt_trainer_find(t, 3, LPT_STORE_EXPERT_FUSED, LPT_STORE_CHECKPOINT_LATEST, &last, err);
    memset(meta, 0, sizeof *meta);
    meta->phase = 3;
    meta->expert = LPT_STORE_EXPERT_FUSED;
    meta->best_metric = NAN;
    meta->best_epoch = -1;
    *start = 0;
    if (st == LPT_OK && last) {
        st = load_scorer(t, r->scorer, r->state, last, meta, err);
        if (st == LPT_OK)
            st = lpt_sampler_set_state(r->sampler, &meta->sampler, err);
        *start = last->epoch + 1;
    } else if (st == LPT_OK) {
        st = lpt_scorer_init(r->scorer, lpt_trainer_seed(t, SEED_INIT, 3, 0), err);
    }
    free(last);
    return st;
}

LptStatus lpt_trainer_run_scorer(LptTrainer *t, LptError *err)
{
    LptStoreExpert which[LPT_TRAIN_EXPERTS];
    int n = used_experts(t, which);
    if (t->cfg.scorer_epochs == 0)
        return LPT_OK;
    if (n < 2)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "phase 3 needs two experts; this run has %d", n);
    for (int s = 0; s < n; s++) {
        bool done;
        int last = lpt_trainer_expert_phases(t, which[s]);
        LPT_TRY(lpt_trainer_phase_done(t, last, which[s], &done, err));
        if (!done)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "phase %d of the %s expert is not finished: run it first", last,
                                 lpt_store_expert_name(which[s]));
    }
    bool done;
    LPT_TRY(lpt_trainer_phase_done(t, 3, LPT_STORE_EXPERT_FUSED, &done, err));
    if (done)
        return lpt_trainer_tidy(t, 3, LPT_STORE_EXPERT_FUSED, err);
    ScorerRun r;
    memset(&r, 0, sizeof r);
    r.t = t;
    CheckpointMeta meta;
    int start = 0;
    LptStatus st = build_cache(t, &r.cache, err);
    if (st == LPT_OK)
        st = scorer_setup(&r, &start, &meta, err);
    if (st == LPT_OK)
        st = scorer_epochs(&r, start, &meta, err);
    lpt_scorer_free(r.scorer);
    lpt_sampler_free(r.sampler);
    lpt_eval_free(r.val);
    free(r.inputs);
    free(r.probs);
    free(r.fused);
    free(r.state);
    free(r.rows);
    cache_free(&r.cache);
    return st;
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* Everything one expert said about the evaluated images. */
typedef struct ExpertOut {
    int dims, topk;
    float *probs;    /* [N, K] */
    float *features; /* [N, C'] */
    int32_t *sel;    /* [N, topk] or NULL (no phase 2) */
} ExpertOut;

typedef struct CollectCtx {
    ExpertOut *out;
    int K;
} CollectCtx;

static LptStatus collect(void *ctx, const EvalBatch *b, LptError *err)
{
    CollectCtx *c = ctx;
    ExpertOut *o = c->out;
    for (int i = 0; i < b->count; i++) {
        int64_t r = b->indices[i];
        memcpy(o->probs + (size_t)r * c->K, b->probs + (size_t)i * c->K, (size_t)c->K * 4);
        memcpy(o->features + (size_t)r * o->dims, b->features + (size_t)i * o->dims,
               (size_t)o->dims * 4);
        if (b->selection && o->sel)
            memcpy(o->sel + (size_t)r * o->topk, b->selection + (size_t)i * o->topk,
                   (size_t)o->topk * 4);
    }
    (void)err;
    return LPT_OK;
}

void lpt_trainer_top_k(const float *probs, int K, int k, LptStoreTopK *out)
{
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int c = 0; c < K; c++) {
            bool taken = false;
            for (int q = 0; q < j && !taken; q++)
                taken = out[q].class_index == c;
            if (!taken && (best < 0 || probs[c] > probs[best]))
                best = c;
        }
        out[j].class_index = best;
        out[j].prob = probs[best];
    }
}

/* The backbone's (frozen) parameters and those the run trains in the expert: the head, plus
 * prompts and adapters (phase 1), plus pool and keys (phase 2), plus the backbone (full
 * fine-tuning), padding excluded. */
static void count_params(const LptTrainer *t, const LptVit *vit, int64_t *frozen,
                         int64_t *trainable)
{
    *frozen = *trainable = 0;
    bool full = t->cfg.method == LPT_METHOD_FULL_FINETUNE;
    bool probe = t->cfg.method == LPT_METHOD_LINEAR_PROBE || full;
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
        const char *name = lpt_vit_tensor_name(vit, i);
        int64_t n = (int64_t)lpt_vit_tensor(vit, name)->count;
        bool phase1 = strncmp(name, "prompt.", 7) == 0 || strncmp(name, "adapter.", 8) == 0;
        if (!lpt_vit_tensor_trainable(vit, i)) {
            *frozen += n;
            *trainable += full ? n : 0;
        } else if (strcmp(name, "head") == 0 || (!probe && phase1) ||
                   (!probe && !phase1 && t->cfg.phase2_epochs > 0))
            *trainable += n;
    }
}

void lpt_train_evaluation_free(LptTrainEvaluation *ev)
{
    if (!ev)
        return;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++)
        lpt_eval_free(ev->experts[e]);
    lpt_eval_free(ev->fused);
    free(ev);
}

/* Writes one prediction record per image with an id. */
static LptStatus record_predictions(LptTrainer *t, const LptImageList *images, const Cache *c,
                                    ExpertOut *outs, const float *alpha, const float *fused,
                                    LptError *err)
{
    int K = t->K, k = t->cfg.top_k < K ? t->cfg.top_k : K;
    LptStoreTopK *tk = malloc((size_t)(LPT_TRAIN_EXPERTS + 1) * k * sizeof *tk);
    if (!tk)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "records: out of memory");
    LptStatus st = lpt_store_begin(t->opt.store, err);
    for (int64_t i = 0; st == LPT_OK && i < images->count; i++) {
        LptStorePrediction p;
        memset(&p, 0, sizeof p);
        p.run_id = t->opt.run_id;
        p.image_id = images->ids[i];
        p.label_index = images->labels[i];
        p.num_classes = K;
        p.top_k = k;
        lpt_trainer_top_k(fused + (size_t)i * K, K, k, tk);
        p.fused_topk = tk;
        if (K <= LPT_STORE_MAX_PROB_CLASSES)
            p.fused_probs = fused + (size_t)i * K;
        float w[LPT_STORE_NUM_EXPERTS] = {0};
        for (int s = 0; s < c->experts; s++) {
            LptStoreExpert e = c->which[s];
            LptStoreTopK *etk = tk + (size_t)(1 + s) * k;
            lpt_trainer_top_k(outs[s].probs + (size_t)i * K, K, k, etk);
            p.expert_topk[e] = etk;
            if (K <= LPT_STORE_MAX_PROB_CLASSES)
                p.expert_probs[e] = outs[s].probs + (size_t)i * K;
            w[e] = alpha[(size_t)i * c->experts + s];
            if (outs[s].sel) {
                p.num_prompts[e] = outs[s].topk;
                p.prompts[e] = outs[s].sel + (size_t)i * outs[s].topk;
            }
        }
        p.scorer_weights = w;
        st = lpt_store_prediction_insert(t->opt.store, &p, err);
    }
    if (st == LPT_OK)
        st = lpt_store_commit(t->opt.store, err);
    else
        lpt_store_rollback(t->opt.store, NULL);
    free(tk);
    return st;
}

/* A new scorer with the best phase-3 checkpoint (*out NULL when the run fuses by the mean:
 * one expert, no phase 3, or no checkpoint yet) and its epoch (-1: none). */
static LptStatus load_best_scorer(LptTrainer *t, LptScorer **out, int *epoch, LptError *err)
{
    *out = NULL;
    *epoch = -1;
    Cache c; /* only its expert list and widths are used here */
    memset(&c, 0, sizeof c);
    c.experts = used_experts(t, c.which);
    if (c.experts < 2 || t->cfg.scorer_epochs == 0)
        return LPT_OK;
    LptStoreCheckpoint *best = NULL;
    LPT_TRY(lpt_trainer_find(t, 3, LPT_STORE_EXPERT_FUSED, LPT_STORE_CHECKPOINT_BEST, &best, err));
    if (!best)
        return LPT_OK;
    for (int s = 0; s < c.experts; s++)
        c.dims[s] = lpt_vit_feature_width(t->opt.experts[c.which[s]].vit);
    LptScorerConfig sc;
    scorer_config(t, &c, &sc);
    LptScorer *scorer = lpt_scorer_new(t->opt.be, &sc, err);
    size_t n = scorer ? lpt_scorer_param_count(scorer) : 0;
    float *state = malloc((3 * n + 1) * sizeof *state);
    LptStatus st = scorer ? LPT_OK : (err ? err->code : LPT_ERR_OUT_OF_MEMORY);
    if (st == LPT_OK && !state)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "scorer: out of memory");
    CheckpointMeta meta;
    if (st == LPT_OK)
        st = load_scorer(t, scorer, state, best, &meta, err);
    if (st == LPT_OK) {
        *out = scorer;
        *epoch = best->epoch;
        scorer = NULL;
    }
    free(best);
    free(state);
    lpt_scorer_free(scorer);
    return st;
}

/* The fused confidences (lpt_scorer_fuse): the scorer's best checkpoint when phase 3 ran,
 * else the mean of the experts. alpha [N, E], fused [N, K]. */
static LptStatus fuse(LptTrainer *t, const Cache *c, ExpertOut *outs, int64_t N, float *alpha,
                      float *fused, int *scorer_epoch, int64_t *scorer_params, LptError *err)
{
    LptScorer *scorer = NULL;
    *scorer_params = 0;
    LPT_TRY(load_best_scorer(t, &scorer, scorer_epoch, err));
    const float *f[LPT_TRAIN_EXPERTS], *p[LPT_TRAIN_EXPERTS];
    for (int s = 0; s < c->experts; s++) {
        f[s] = outs[s].features;
        p[s] = outs[s].probs;
    }
    LptStatus st = lpt_scorer_fuse(scorer, c->experts, t->K, N, f, p, alpha, fused, err);
    if (st == LPT_OK && scorer)
        *scorer_params = (int64_t)lpt_scorer_trainable_count(scorer);
    lpt_scorer_free(scorer);
    return st;
}

LptStatus lpt_trainer_load_inference(LptTrainer *t, LptTrainerInference *out, LptError *err)
{
    memset(out, 0, sizeof *out);
    for (int e = 0; e <= LPT_TRAIN_EXPERTS; e++)
        out->epoch[e] = -1;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        if (!t->opt.experts[e].vit)
            continue;
        LPT_TRY(lpt_trainer_load_final(t, (LptStoreExpert)e, &out->mode[e], &out->epoch[e], err));
        out->eval_batch[e] = lpt_trainer_eval_batch(t, (LptStoreExpert)e, t->cfg.eval_batch_size);
    }
    return load_best_scorer(t, &out->scorer, &out->epoch[LPT_TRAIN_EXPERTS], err);
}

LptStatus lpt_trainer_evaluate(LptTrainer *t, const LptImageList *images, bool record,
                               LptTrainEvaluation **out, LptError *err)
{
    *out = NULL;
    if (!t || !images || images->count < 1 || !images->paths || !images->labels)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "evaluation: no images to evaluate");
    t->started = lpt_trainer_now();
    t->images_done = 0;
    t->cancelled = false;
    t->epoch = t->epochs = 0;
    int K = t->K;
    int64_t N = images->count;
    Cache c; /* only its expert list is used here */
    memset(&c, 0, sizeof c);
    c.experts = used_experts(t, c.which);
    ExpertOut outs[LPT_TRAIN_EXPERTS];
    memset(outs, 0, sizeof outs);
    LptTrainEvaluation *ev = calloc(1, sizeof *ev);
    float *alpha = malloc((size_t)N * c.experts * sizeof *alpha);
    float *fused = malloc((size_t)N * K * sizeof *fused);
    LptGroupThresholds th = {t->cfg.many_above, t->cfg.few_below};
    LptStatus st = ev && alpha && fused
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "evaluation: out of memory");
    for (int e = 0; ev && e <= LPT_TRAIN_EXPERTS; e++)
        ev->best_epoch[e] = -1;
    for (int s = 0; st == LPT_OK && s < c.experts; s++) {
        LptStoreExpert e = c.which[s];
        LptVit *vit = t->opt.experts[e].vit;
        int epoch = -1;
        st = lpt_trainer_load_final(t, e, &c.mode[s], &epoch, err);
        ev->best_epoch[e] = epoch;
        ExpertOut *o = &outs[s];
        o->dims = c.dims[s] = lpt_vit_feature_width(vit);
        o->topk = lpt_vit_config(vit)->pool_top_k;
        o->probs = malloc((size_t)N * K * sizeof *o->probs);
        o->features = malloc((size_t)N * o->dims * sizeof *o->features);
        if (c.mode[s] == LPT_VIT_PHASE2)
            o->sel = malloc((size_t)N * o->topk * sizeof *o->sel);
        if (st == LPT_OK && (!o->probs || !o->features || (c.mode[s] == LPT_VIT_PHASE2 && !o->sel)))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "evaluation: out of memory");
        LptLoader *loader = NULL;
        if (st == LPT_OK) {
            int b = lpt_trainer_eval_batch(t, e, t->cfg.eval_batch_size);
            loader = lpt_trainer_loader(t, e, images, false, LPT_SAMPLER_INSTANCE, b, 0, NULL, err);
            if (!loader)
                st = err ? err->code : LPT_ERR_IO;
        }
        CollectCtx cc = {o, K};
        if (st == LPT_OK)
            st = lpt_trainer_eval_pass(t, e, c.mode[s], loader, 0, 0, LPT_TRAIN_STAGE_EVAL, collect,
                                       &cc, err);
        lpt_loader_free(loader);
        if (st == LPT_OK) {
            ev->experts[e] = lpt_eval_new(K, t->opt.train_counts, &th, t->cfg.ece_bins, err);
            st = ev->experts[e] ? LPT_OK : (err ? err->code : LPT_ERR_OUT_OF_MEMORY);
        }
        for (int64_t i = 0; st == LPT_OK && i < N; i++)
            st = lpt_eval_add(ev->experts[e], images->labels[i], o->probs + (size_t)i * K, err);
        count_params(t, vit, &ev->backbone_params[e], &ev->trainable_params[e]);
    }
    if (st == LPT_OK)
        st = fuse(t, &c, outs, N, alpha, fused, &ev->best_epoch[LPT_TRAIN_EXPERTS],
                  &ev->trainable_params[LPT_TRAIN_EXPERTS], err);
    if (st == LPT_OK) {
        ev->fused = lpt_eval_new(K, t->opt.train_counts, &th, t->cfg.ece_bins, err);
        st = ev->fused ? LPT_OK : (err ? err->code : LPT_ERR_OUT_OF_MEMORY);
    }
    for (int64_t i = 0; st == LPT_OK && i < N; i++)
        st = lpt_eval_add(ev->fused, images->labels[i], fused + (size_t)i * K, err);
    if (st == LPT_OK && record && images->ids)
        st = record_predictions(t, images, &c, outs, alpha, fused, err);
    for (int s = 0; s < LPT_TRAIN_EXPERTS; s++) {
        free(outs[s].probs);
        free(outs[s].features);
        free(outs[s].sel);
    }
    free(alpha);
    free(fused);
    if (st != LPT_OK) {
        lpt_train_evaluation_free(ev);
        return st;
    }
    *out = ev;
    return LPT_OK;
}

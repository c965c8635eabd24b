/* lpt_trainer.c: phases 1 and 2 of each expert (and the linear probe), checkpoints, resume,
 * validation and the helpers phase 3 shares. See lpt_trainer.h for the method and the file
 * formats, lpt_trainer_impl.h for the private state. */
#include "lpt_trainer_impl.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_paths.h"
#include "lpt_schedule.h"
#include "lpt_scorer.h"

/* ---- small helpers ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t lpt_trainer_seed(const LptTrainer *t, int purpose, uint64_t a, uint64_t b)
{
    uint64_t h = splitmix64(t->cfg.seed);
    h = splitmix64(h ^ (uint64_t)purpose);
    h = splitmix64(h ^ a);
    return splitmix64(h ^ b);
}

double lpt_trainer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool lpt_trainer_should_stop(LptTrainer *t)
{
    return t->cancelled || (t->opt.cancel && atomic_load(t->opt.cancel));
}

void lpt_trainer_report(LptTrainer *t, const LptTrainProgress *p)
{
    if (t->opt.progress && !t->opt.progress(p, t->opt.user))
        t->cancelled = true;
}

static const char *expert_name(LptStoreExpert e)
{
    return lpt_store_expert_name(e);
}

/* The file of (phase, expert, epoch) in the checkpoint folder (a checkpoint above the inline
 * limit), into buf. */
static void checkpoint_path(const LptTrainer *t, int phase, LptStoreExpert expert, int epoch,
                            char *buf, size_t size)
{
    snprintf(buf, size, "%s/p%d-%s-e%04d.safetensors", t->opt.checkpoint_dir, phase,
             expert_name(expert), epoch);
}

/* What messages call a checkpoint: "<project> checkpoint run R phase P EXPERT epoch E". */
static void checkpoint_name(LptStore *store, int64_t run_id, int phase, LptStoreExpert expert,
                            int epoch, char *buf, size_t size)
{
    snprintf(buf, size, "%s checkpoint run %lld phase %d %s epoch %d", lpt_store_path(store),
             (long long)run_id, phase, expert_name(expert), epoch);
}

LptSafetensors *lpt_trainer_checkpoint_open(LptStore *store, const LptStoreCheckpoint *c,
                                            LptError *err)
{
    char name[4200];
    checkpoint_name(store, c->run_id, c->phase, c->expert, c->epoch, name, sizeof name);
    if (c->data)
        return lpt_safetensors_open_memory(c->data, c->data_size, name, err);
    LptSafetensors *sf = lpt_safetensors_open(c->path, err);
    if (!sf)
        lpt_error_prefix(err, "%s", name);
    return sf;
}

int lpt_trainer_phase_epochs(const LptTrainer *t, int phase)
{
    return phase == 1   ? t->cfg.phase1_epochs
           : phase == 2 ? t->cfg.phase2_epochs
                        : t->cfg.scorer_epochs;
}

static int gcd(int a, int b)
{
    while (b) {
        int r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The largest batch in [1, cap] whose activations fit `mb` MiB (1 when none fits). */
static int fit_batch(const LptVitConfig *vc, int cap, LptVitMode mode, bool train, double mb)
{
    double budget = mb * 1048576.0;
    int lo = 1, hi = cap;
    if ((double)lpt_vit_activation_bytes(vc, 1, mode, train) > budget)
        return 1;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if ((double)lpt_vit_activation_bytes(vc, mid, mode, train) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int lpt_trainer_micro_batch(const LptTrainer *t, LptStoreExpert expert, LptVitMode mode)
{
    const LptVit *vit = t->opt.experts[expert].vit;
    if (!vit)
        return 0;
    int B = t->cfg.batch_size;
    int m = t->cfg.micro_batch > 0
                ? t->cfg.micro_batch
                : fit_batch(lpt_vit_config(vit), B, mode, true, t->cfg.activation_memory_mb);
    if (m >= B)
        return B;
    /* micro-batches start at multiples of m inside the batch's image tensor: keep those
     * offsets on 256-byte boundaries (Vulkan binds storage buffers at aligned offsets) */
    int side = lpt_vit_config(vit)->image;
    int image_bytes = (int)(((int64_t)3 * side * side * 4) % 256);
    int align = 256 / gcd(image_bytes == 0 ? 256 : image_bytes, 256);
    m = m / align * align;
    return m < align ? (align < B ? align : B) : m;
}

int lpt_trainer_eval_batch(const LptTrainer *t, LptStoreExpert expert, int cap)
{
    const LptVitConfig *vc = lpt_vit_config(t->opt.experts[expert].vit);
    LptVitMode widest = vc->pool_size > 0 ? LPT_VIT_PHASE2 : LPT_VIT_PHASE1;
    return fit_batch(vc, cap, widest, false, t->cfg.activation_memory_mb);
}

/* ---- construction ----------------------------------------------------------------------- */

LptTrainer *lpt_trainer_new(const LptTrainerOptions *opt, LptError *err)
{
    if (!opt || !opt->be || !opt->store || !opt->cfg || !opt->checkpoint_dir ||
        !opt->train_counts || opt->num_classes < 1) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                      "trainer: need a backend, a store, a config, a checkpoint folder, K >= 1 "
                      "and the training counts");
        return NULL;
    }
    if (lpt_run_config_check(opt->cfg, err) != LPT_OK)
        return NULL;
    const LptImageList *lists[2] = {&opt->train, &opt->val};
    for (int i = 0; i < 2; i++) {
        if (lists[i]->count < 0 ||
            (lists[i]->count > 0 && (!lists[i]->paths || !lists[i]->labels))) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "trainer: %s list without paths or labels",
                          i == 0 ? "training" : "validation");
            return NULL;
        }
    }
    if (opt->train.count < 1) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "trainer: no training images");
        return NULL;
    }
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        const LptVit *vit = opt->experts[e].vit;
        bool wanted = e == LPT_STORE_EXPERT_VISION ? opt->cfg->use_vision : opt->cfg->use_vl;
        if (wanted && !vit) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "trainer: the run trains the %s expert but has no model for it",
                          expert_name((LptStoreExpert)e));
            return NULL;
        }
        if (vit && lpt_vit_config(vit)->classes != opt->num_classes) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "trainer: the %s expert has %d head rows, the run has %d classes",
                          expert_name((LptStoreExpert)e), lpt_vit_config(vit)->classes,
                          opt->num_classes);
            return NULL;
        }
        if (wanted && opt->cfg->method == LPT_METHOD_FULL_FINETUNE &&
            !lpt_vit_config(vit)->train_backbone) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "trainer: full fine-tuning needs the %s expert made with "
                          "train_backbone",
                          expert_name((LptStoreExpert)e));
            return NULL;
        }
    }
    LptTrainer *t = calloc(1, sizeof *t);
    if (!t) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "trainer: out of memory");
        return NULL;
    }
    t->opt = *opt;
    t->cfg = *opt->cfg;
    t->opt.cfg = &t->cfg;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) /* experts the run does not train are unused */
        if (!(e == LPT_STORE_EXPERT_VISION ? t->cfg.use_vision : t->cfg.use_vl))
            t->opt.experts[e].vit = NULL;
    t->K = opt->num_classes;
    t->margins_host = malloc((size_t)t->K * sizeof *t->margins_host);
    if (!t->margins_host) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "trainer: out of memory");
        lpt_trainer_free(t);
        return NULL;
    }
    /* m_k = log n_max - log n_k, over max m (method.md §4); a class with no training image
     * gets the largest margin */
    int64_t nmax = 0;
    for (int k = 0; k < t->K; k++)
        nmax = opt->train_counts[k] > nmax ? opt->train_counts[k] : nmax;
    double mmax = 0.0;
    for (int k = 0; k < t->K; k++)
        if (opt->train_counts[k] > 0)
            mmax = fmax(mmax, log((double)nmax) - log((double)opt->train_counts[k]));
    for (int k = 0; k < t->K; k++) {
        double m =
            opt->train_counts[k] > 0 ? log((double)nmax) - log((double)opt->train_counts[k]) : mmax;
        t->margins_host[k] = mmax > 0.0 ? (float)(m / mmax) : 0.0f;
    }
    return t;
}

void lpt_trainer_free(LptTrainer *t)
{
    if (!t)
        return;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++)
        lpt_loader_free(t->val_loader[e]);
    lpt_arena_free(t->scratch);
    free(t->margins_host);
    free(t);
}

int lpt_trainer_expert_phases(const LptTrainer *t, LptStoreExpert expert)
{
    if (expert > LPT_STORE_EXPERT_VL || !t->opt.experts[expert].vit)
        return 0;
    return t->cfg.phase2_epochs > 0 ? 2 : 1;
}

/* (Re)makes the scratch tensors for micro-batches of up to `batch` images. */
static LptStatus ensure_scratch(LptTrainer *t, int batch, LptError *err)
{
    if (t->scratch && t->scratch_batch >= batch)
        return LPT_OK;
    lpt_arena_free(t->scratch);
    t->scratch_batch = 0;
    size_t B = (size_t)batch, K = (size_t)t->K;
    size_t bytes = 4 * 256 + (2 * B + B * K + K) * 4;
    t->scratch = lpt_arena_new(t->opt.be, "trainer scratch", bytes, err);
    if (!t->scratch)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    LPT_TRY(lpt_arena_alloc(t->scratch, &t->labels, "trainer.labels", LPT_I32, B, err));
    LPT_TRY(lpt_arena_alloc(t->scratch, &t->loss, "trainer.loss", LPT_F32, B, err));
    LPT_TRY(lpt_arena_alloc(t->scratch, &t->dcos, "trainer.dcos", LPT_F32, B * K, err));
    LPT_TRY(lpt_arena_alloc(t->scratch, &t->margins, "trainer.margins", LPT_F32, K, err));
    LPT_TRY(lpt_tensor_upload(&t->margins, t->margins_host, err));
    t->scratch_batch = batch;
    return LPT_OK;
}

/* ---- loaders ---------------------------------------------------------------------------- */

LptLoader *lpt_trainer_loader(LptTrainer *t, LptStoreExpert expert, const LptImageList *list,
                              bool train, LptSamplerKind kind, int batch, uint64_t seed,
                              const LptSamplerState *resume, LptError *err)
{
    const LptExpertModel *em = &t->opt.experts[expert];
    LptLoaderConfig lc;
    lpt_loader_config_init(&lc);
    lc.count = list->count;
    lc.paths = list->paths;
    lc.labels = list->labels;
    lc.num_classes = t->K;
    lc.mode = train ? LPT_LOADER_TRAIN : LPT_LOADER_EVAL;
    lc.sampler = kind;
    lc.batch_size = batch;
    lc.seed = seed;
    lc.resume = resume;
    lc.input_size = lpt_vit_config(em->vit)->image;
    memcpy(lc.mean, em->mean, sizeof lc.mean);
    memcpy(lc.std, em->std, sizeof lc.std);
    lc.augment = t->cfg.augment;
    lc.prefetch = t->cfg.loader_prefetch;
    lc.workers = t->cfg.loader_workers;
    lc.cache_bytes = (size_t)(t->cfg.loader_cache_mb * 1048576.0);
    return lpt_loader_new(t->opt.be, &lc, err);
}

LptStatus lpt_trainer_val_loader(LptTrainer *t, LptStoreExpert expert, LptLoader **out,
                                 LptError *err)
{
    *out = NULL;
    if (t->opt.val.count == 0)
        return LPT_OK;
    if (!t->val_loader[expert]) {
        int b = lpt_trainer_eval_batch(t, expert, t->cfg.eval_batch_size);
        t->val_loader[expert] = lpt_trainer_loader(t, expert, &t->opt.val, false,
                                                   LPT_SAMPLER_INSTANCE, b, 0, NULL, err);
        if (!t->val_loader[expert])
            return err ? err->code : LPT_ERR_IO;
    }
    *out = t->val_loader[expert];
    return LPT_OK;
}

void lpt_trainer_drop_val_loader(LptTrainer *t, LptStoreExpert expert)
{
    lpt_loader_free(t->val_loader[expert]);
    t->val_loader[expert] = NULL;
}

/* ---- inference pass --------------------------------------------------------------------- */

LptStatus lpt_trainer_eval_pass(LptTrainer *t, LptStoreExpert expert, LptVitMode mode,
                                LptLoader *loader, int64_t steps, int phase, LptTrainStage stage,
                                EvalBatchFn fn, void *ctx, LptError *err)
{
    LptVit *vit = t->opt.experts[expert].vit;
    int K = t->K, Cf = lpt_vit_feature_width(vit);
    int topk = lpt_vit_config(vit)->pool_top_k;
    int64_t total = steps > 0 ? steps : lpt_loader_steps_per_epoch(loader);
    float *logits = NULL, *probs = NULL, *feats = NULL;
    int32_t *sel = NULL;
    int cap = 0;
    LptStatus st = LPT_OK;
    for (int64_t step = 0; steps == 0 || step < steps; step++) {
        if (lpt_trainer_should_stop(t)) {
            st = lpt_error_set(err, LPT_ERR_CANCELLED, 0, "cancelled");
            break;
        }
        LptLoaderBatch b;
        if ((st = lpt_loader_next(loader, &b, err)) != LPT_OK)
            break;
        if (b.end)
            break;
        const LptLoaderPart *part = &b.part[0];
        int n = part->count;
        if (n > cap) {
            free(logits);
            free(probs);
            free(feats);
            free(sel);
            logits = malloc((size_t)n * K * sizeof *logits);
            probs = malloc((size_t)n * K * sizeof *probs);
            feats = malloc((size_t)n * Cf * sizeof *feats);
            sel = malloc((size_t)n * topk * sizeof *sel);
            cap = n;
            if (!logits || !probs || !feats || !sel) {
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "evaluation: out of memory");
                cap = 0; /* the buffers are freed below */
                break;
            }
        }
        if ((st = lpt_vit_forward(vit, &part->images, n, mode, false, err)) != LPT_OK)
            break;
        LptTensor lv = lpt_tensor_view(lpt_vit_logits(vit), 0, (size_t)n * K);
        LptTensor fv = lpt_tensor_view(lpt_vit_features(vit), 0, (size_t)n * Cf);
        if ((st = lpt_tensor_download(&lv, logits, err)) != LPT_OK ||
            (st = lpt_tensor_download(&fv, feats, err)) != LPT_OK)
            break;
        bool has_sel = mode == LPT_VIT_PHASE2;
        if (has_sel) {
            LptTensor sv = lpt_tensor_view(lpt_vit_selection(vit), 0, (size_t)n * topk);
            if ((st = lpt_tensor_download(&sv, sel, err)) != LPT_OK)
                break;
        }
        lpt_scorer_expert_probs(logits, n, K, t->cfg.loss_scale, probs);
        EvalBatch eb = {b.epoch, n, part->indices, probs, feats, has_sel ? sel : NULL};
        if ((st = fn(ctx, &eb, err)) != LPT_OK)
            break;
        t->images_done += n;
        double elapsed = lpt_trainer_now() - t->started;
        LptTrainProgress p = {.stage = stage,
                              .phase = phase,
                              .expert = expert,
                              .epoch = t->epoch,
                              .epochs = t->epochs,
                              .step = step + 1,
                              .steps = total,
                              .loss = NAN,
                              .lr = NAN,
                              .images_per_second = t->images_done / fmax(elapsed, 1e-9),
                              .eta_seconds = NAN,
                              .val_overall = NAN,
                              .val_balanced = NAN};
        lpt_trainer_report(t, &p);
    }
    free(logits);
    free(probs);
    free(feats);
    free(sel);
    return st;
}

/* Adds a batch to an LptEval (ctx) with the list's labels. */
typedef struct EvalAddCtx {
    LptEval *ev;
    const int32_t *labels;
    int K;
} EvalAddCtx;

static LptStatus eval_add_batch(void *ctx, const EvalBatch *b, LptError *err)
{
    EvalAddCtx *c = ctx;
    for (int i = 0; i < b->count; i++)
        LPT_TRY(lpt_eval_add(c->ev, c->labels[b->indices[i]], b->probs + (size_t)i * c->K, err));
    return LPT_OK;
}

/* Validation metrics of the expert in `mode` into ev (reset first); *has_val false when the
 * run has no validation images. */
static LptStatus validate(LptTrainer *t, LptStoreExpert expert, LptVitMode mode, int phase,
                          LptEval *ev, bool *has_val, LptError *err)
{
    LptLoader *loader;
    LPT_TRY(lpt_trainer_val_loader(t, expert, &loader, err));
    *has_val = loader != NULL;
    lpt_eval_reset(ev);
    if (!loader)
        return LPT_OK;
    EvalAddCtx c = {ev, t->opt.val.labels, t->K};
    LptStatus st = lpt_trainer_eval_pass(t, expert, mode, loader, 0, phase, LPT_TRAIN_STAGE_EVAL,
                                         eval_add_batch, &c, err);
    if (st != LPT_OK)
        lpt_trainer_drop_val_loader(t, expert);
    return st;
}

/* Full fine-tuning: the backbone is trained and saved with the head. */
static bool full_finetune(const LptTrainer *t)
{
    return t->cfg.method == LPT_METHOD_FULL_FINETUNE;
}

/* The baselines (linear probe, full fine-tuning): cross entropy, instance sampling. */
static bool baseline(const LptTrainer *t)
{
    return t->cfg.method == LPT_METHOD_LINEAR_PROBE || full_finetune(t);
}

/* ---- checkpoints ------------------------------------------------------------------------ */

char *lpt_trainer_meta_json(const CheckpointMeta *m)
{
    cJSON *o = cJSON_CreateObject();
    char buf[32];
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "phase", m->phase);
    cJSON_AddStringToObject(o, "expert", expert_name((LptStoreExpert)m->expert));
    cJSON_AddNumberToObject(o, "epoch", m->epoch);
    cJSON *s = cJSON_AddObjectToObject(o, "sampler");
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)m->sampler.seed);
    cJSON_AddStringToObject(s, "seed", buf);
    cJSON_AddNumberToObject(s, "epoch", (double)m->sampler.epoch);
    cJSON_AddNumberToObject(s, "step", (double)m->sampler.step);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)m->sampler.fingerprint);
    cJSON_AddStringToObject(s, "fingerprint", buf);
    if (isnan(m->best_metric))
        cJSON_AddNullToObject(o, "best_metric");
    else
        cJSON_AddNumberToObject(o, "best_metric", m->best_metric);
    cJSON_AddNumberToObject(o, "best_epoch", m->best_epoch);
    cJSON_AddNumberToObject(o, "adam_step", (double)m->adam_step);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

LptStatus lpt_trainer_meta_parse(const LptSafetensors *st, CheckpointMeta *m, LptError *err)
{
    const char *path = lpt_safetensors_path(st);
    const char *text = lpt_safetensors_metadata(st, "lpt_checkpoint");
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sampler");
    const cJSON *v[9] = {cJSON_GetObjectItemCaseSensitive(o, "phase"),
                         cJSON_GetObjectItemCaseSensitive(o, "epoch"),
                         cJSON_GetObjectItemCaseSensitive(s, "seed"),
                         cJSON_GetObjectItemCaseSensitive(s, "epoch"),
                         cJSON_GetObjectItemCaseSensitive(s, "step"),
                         cJSON_GetObjectItemCaseSensitive(s, "fingerprint"),
                         cJSON_GetObjectItemCaseSensitive(o, "best_metric"),
                         cJSON_GetObjectItemCaseSensitive(o, "best_epoch"),
                         cJSON_GetObjectItemCaseSensitive(o, "adam_step")};
    bool ok = o && cJSON_IsNumber(v[0]) && cJSON_IsNumber(v[1]) && cJSON_IsString(v[2]) &&
              cJSON_IsNumber(v[3]) && cJSON_IsNumber(v[4]) && cJSON_IsString(v[5]) &&
              (cJSON_IsNumber(v[6]) || cJSON_IsNull(v[6])) && cJSON_IsNumber(v[7]) &&
              cJSON_IsNumber(v[8]);
    if (ok) {
        memset(m, 0, sizeof *m);
        m->phase = (int)v[0]->valuedouble;
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "expert");
        for (int e = LPT_STORE_EXPERT_VISION; e <= LPT_STORE_EXPERT_FUSED; e++)
            if (cJSON_IsString(ex) && strcmp(ex->valuestring, expert_name((LptStoreExpert)e)) == 0)
                m->expert = e;
        m->epoch = (int)v[1]->valuedouble;
        m->sampler.seed = strtoull(v[2]->valuestring, NULL, 10);
        m->sampler.epoch = (int64_t)v[3]->valuedouble;
        m->sampler.step = (int64_t)v[4]->valuedouble;
        m->sampler.fingerprint = strtoull(v[5]->valuestring, NULL, 10);
        m->best_metric = cJSON_IsNull(v[6]) ? NAN : v[6]->valuedouble;
        m->best_epoch = (int)v[7]->valuedouble;
        m->adam_step = (int64_t)v[8]->valuedouble;
    }
    cJSON_Delete(o);
    if (!ok)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "checkpoint '%s': no valid \"lpt_checkpoint\" metadata", path);
    return LPT_OK;
}

LptStatus lpt_trainer_read_tensor(const LptSafetensors *st, const char *name, float *buf,
                                  size_t count, LptError *err)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(st, name);
    if (!e || e->numel != count)
        return lpt_error_set(
            err, LPT_ERR_FORMAT, 0, "checkpoint '%s': %s '%s' (%zu values expected)",
            lpt_safetensors_path(st), e ? "wrong size of" : "no tensor", name, count);
    return lpt_safetensors_read_f32(st, e, buf, count, err);
}

/* A checkpoint of the expert's trainable tensors (every tensor, the backbone's too, when
 * `backbone`), the SGD velocity (may be NULL) and `meta`, into *out (NULL on failure). */
static LptStatus vit_checkpoint(LptVit *vit, bool backbone, const LptTensor *velocity,
                                const CheckpointMeta *meta, LptSafetensorsWriter **out,
                                LptError *err)
{
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    char *json = lpt_trainer_meta_json(meta);
    LptStatus st = w && json
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
    float *buf = NULL;
    char name[96];
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        if (!backbone && !lpt_vit_tensor_trainable(vit, i))
            continue;
        const char *tn = lpt_vit_tensor_name(vit, i);
        size_t n = lpt_vit_tensor(vit, tn)->count;
        free(buf);
        buf = malloc(n * sizeof *buf);
        if (!buf) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
            break;
        }
        snprintf(name, sizeof name, "param.%s", tn);
        if ((st = lpt_vit_get(vit, tn, buf, n, err)) == LPT_OK)
            st = lpt_safetensors_writer_add_f32(w, name, 1, &n, buf, err);
    }
    if (st == LPT_OK && velocity) {
        size_t n = velocity->count;
        free(buf);
        buf = malloc(n * sizeof *buf);
        if (!buf)
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
        if (st == LPT_OK && (st = lpt_tensor_download(velocity, buf, err)) == LPT_OK)
            st = lpt_safetensors_writer_add_f32(w, "optim.velocity", 1, &n, buf, err);
    }
    free(buf);
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

/* Loads the expert's trainable tensors (and the backbone's when `backbone`, the velocity when
 * not NULL) and the metadata from the checkpoint row c. */
static LptStatus load_vit_checkpoint(LptTrainer *t, LptVit *vit, bool backbone,
                                     const LptTensor *velocity, const LptStoreCheckpoint *c,
                                     CheckpointMeta *meta, LptError *err)
{
    LptSafetensors *sf = lpt_trainer_checkpoint_open(t->opt.store, c, err);
    if (!sf)
        return err ? err->code : LPT_ERR_IO;
    LptStatus st = lpt_trainer_meta_parse(sf, meta, err);
    float *buf = NULL;
    char name[96];
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        if (!backbone && !lpt_vit_tensor_trainable(vit, i))
            continue;
        const char *tn = lpt_vit_tensor_name(vit, i);
        size_t n = lpt_vit_tensor(vit, tn)->count;
        free(buf);
        buf = malloc(n * sizeof *buf);
        if (!buf) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
            break;
        }
        snprintf(name, sizeof name, "param.%s", tn);
        if ((st = lpt_trainer_read_tensor(sf, name, buf, n, err)) == LPT_OK)
            st = lpt_vit_set(vit, tn, buf, n, err);
    }
    if (st == LPT_OK && velocity) {
        free(buf);
        buf = malloc(velocity->count * sizeof *buf);
        if (!buf)
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "checkpoint: out of memory");
        if (st == LPT_OK && (st = lpt_trainer_read_tensor(sf, "optim.velocity", buf,
                                                          velocity->count, err)) == LPT_OK)
            st = lpt_tensor_upload(velocity, buf, err);
    }
    free(buf);
    lpt_safetensors_close(sf);
    return st;
}

LptStatus lpt_trainer_find(LptTrainer *t, int phase, LptStoreExpert expert,
                           LptStoreCheckpointPick pick, LptStoreCheckpoint **out, LptError *err)
{
    return lpt_store_checkpoint_find(t->opt.store, t->opt.run_id, phase, expert, pick, out, err);
}

/* Deletes the files of folder `dir` whose names start with `prefix`, other than keep_a and
 * keep_b (full paths; may be NULL). */
static void remove_prefixed(const char *dir, const char *prefix, const char *keep_a,
                            const char *keep_b)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[4096];
    size_t plen = strlen(prefix);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, plen) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if ((keep_a && strcmp(path, keep_a) == 0) || (keep_b && strcmp(path, keep_b) == 0))
            continue;
        unlink(path); /* a file that cannot be removed only costs disk space */
    }
    closedir(d);
}

/* Deletes the (phase, expert) checkpoint files other than keep_a and keep_b, and the
 * temporary files of atomic writes a killed process left ("<file>.safetensors.XXXXXX"; in
 * phase 3 also those of the run's feature cache). */
static void remove_stale_files(LptTrainer *t, int phase, LptStoreExpert expert, const char *keep_a,
                               const char *keep_b)
{
    char prefix[128], cache[4096];
    snprintf(prefix, sizeof prefix, "p%d-%s-e", phase, expert_name(expert));
    remove_prefixed(t->opt.checkpoint_dir, prefix, keep_a, keep_b);
    char *slash;
    if (phase == 3 &&
        lpt_trainer_phase3_cache_path(lpt_store_path(t->opt.store), t->opt.run_id, cache,
                                      sizeof cache, NULL) == LPT_OK &&
        (slash = strrchr(cache, '/')) != NULL) {
        *slash = '\0';
        snprintf(prefix, sizeof prefix, "%s.", slash + 1);
        remove_prefixed(cache, prefix, NULL, NULL);
    }
}

LptStatus lpt_trainer_record_epoch(LptTrainer *t, int phase, LptStoreExpert expert, int epoch,
                                   double loss, double lr, double seconds,
                                   const LptEvalMetrics *val, LptSafetensorsWriter *checkpoint,
                                   double metric, bool is_best, LptError *err)
{
    LptStore *store = t->opt.store;
    char path[4096], name[4200];
    void *data = NULL;
    size_t size = 0;
    size_t inline_max =
        t->opt.checkpoint_inline_max ? t->opt.checkpoint_inline_max : LPT_TRAINER_INLINE_MAX;
    bool inline_data = lpt_safetensors_writer_size(checkpoint) <= inline_max;
    checkpoint_name(store, t->opt.run_id, phase, expert, epoch, name, sizeof name);
    checkpoint_path(t, phase, expert, epoch, path, sizeof path);
    LptStatus st = inline_data ? lpt_safetensors_write_memory(checkpoint, name, &data, &size, err)
                               : lpt_make_dirs(t->opt.checkpoint_dir, err);
    if (st == LPT_OK && !inline_data)
        st = lpt_safetensors_write(checkpoint, path, err);
    lpt_safetensors_writer_free(checkpoint);
    if (st == LPT_OK)
        st = lpt_store_begin(store, err);
    if (st != LPT_OK) {
        free(data);
        return st;
    }
    LptStoreEpochMetrics m = {t->opt.run_id, phase, expert, epoch, LPT_STORE_SPLIT_TRAIN,
                              loss,          NAN,   NAN,    NAN,   NAN,
                              NAN,           lr,    seconds};
    st = lpt_store_metric_insert(store, &m, err);
    if (st == LPT_OK && val) {
        LptStoreEpochMetrics v = {
            t->opt.run_id, phase,        expert,        epoch,     LPT_STORE_SPLIT_VAL,
            NAN,           val->overall, val->balanced, val->many, val->medium,
            val->few,      lr,           seconds};
        st = lpt_store_metric_insert(store, &v, err);
    }
    if (st == LPT_OK) {
        LptStoreCheckpoint c = {0};
        c.run_id = t->opt.run_id;
        c.phase = phase;
        c.expert = expert;
        c.epoch = epoch;
        c.path = inline_data ? NULL : path;
        c.data = data;
        c.data_size = size;
        c.metric = metric;
        c.is_best = is_best;
        int64_t id = 0;
        st = lpt_store_checkpoint_insert(store, &c, &id, err);
    }
    if (st == LPT_OK)
        st = lpt_store_checkpoint_prune(store, t->opt.run_id, phase, expert, err);
    if (st == LPT_OK)
        st = lpt_store_commit(store, err);
    free(data);
    if (st != LPT_OK) {
        lpt_store_rollback(store, NULL);
        return st;
    }
    LptStoreCheckpoint *best = NULL;
    if (lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_BEST, &best, NULL) == LPT_OK)
        remove_stale_files(t, phase, expert, inline_data ? NULL : path, best ? best->path : NULL);
    free(best);
    return LPT_OK;
}

LptStatus lpt_trainer_tidy(LptTrainer *t, int phase, LptStoreExpert expert, LptError *err)
{
    LptStoreCheckpoint *last = NULL, *best = NULL;
    LptStatus st = lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_LATEST, &last, err);
    if (st == LPT_OK)
        st = lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_BEST, &best, err);
    if (st == LPT_OK && last)
        remove_stale_files(t, phase, expert, last->path, best ? best->path : NULL);
    free(last);
    free(best);
    return st;
}

LptStatus lpt_trainer_phase_done(LptTrainer *t, int phase, LptStoreExpert expert, bool *done,
                                 LptError *err)
{
    *done = false;
    int epochs = lpt_trainer_phase_epochs(t, phase);
    if (epochs == 0) {
        *done = true;
        return LPT_OK;
    }
    LptStoreCheckpoint *last = NULL, *best = NULL;
    LPT_TRY(lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_LATEST, &last, err));
    LptStatus st = LPT_OK;
    if (last && last->epoch >= epochs - 1) {
        *done = true;
    } else if (last && phase == 3 && t->cfg.scorer_patience > 0) { /* early stop */
        st = lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_BEST, &best, err);
        if (st == LPT_OK && best && last->epoch - best->epoch >= t->cfg.scorer_patience)
            *done = true;
    }
    free(last);
    free(best);
    return st;
}

LptStatus lpt_trainer_init_expert(LptTrainer *t, LptStoreExpert expert, LptError *err)
{
    const LptExpertModel *em = &t->opt.experts[expert];
    LPT_TRY(
        lpt_vit_init_trainable(em->vit, lpt_trainer_seed(t, SEED_INIT, (uint64_t)expert, 0), err));
    if (!em->head_init)
        return LPT_OK;
    size_t n = (size_t)t->K * (size_t)lpt_vit_feature_width(em->vit);
    return lpt_vit_set(em->vit, "head", em->head_init, n, err);
}

LptStatus lpt_trainer_load_final(LptTrainer *t, LptStoreExpert expert, LptVitMode *mode, int *epoch,
                                 LptError *err)
{
    LptVit *vit = t->opt.experts[expert].vit;
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the run has no %s expert",
                             expert_name(expert));
    int phase = lpt_trainer_expert_phases(t, expert);
    if (phase == 2 && t->cfg.phase2_epochs == 0)
        phase = 1;
    *mode = baseline(t) ? LPT_VIT_PLAIN : phase == 2 ? LPT_VIT_PHASE2 : LPT_VIT_PHASE1;
    *epoch = -1;
    LptStoreCheckpoint *best = NULL;
    LPT_TRY(lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_BEST, &best, err));
    if (!best && lpt_trainer_phase_epochs(t, phase) > 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "phase %d of the %s expert has no checkpoint yet: train it first",
                             phase, expert_name(expert));
    LptStatus st;
    if (best) {
        CheckpointMeta meta;
        st = load_vit_checkpoint(t, vit, full_finetune(t), NULL, best, &meta, err);
        *epoch = best->epoch;
    } else {
        st = lpt_trainer_init_expert(t, expert, err);
    }
    free(best);
    return st;
}

/* ---- phases 1 and 2 --------------------------------------------------------------------- */

/* State of one phase-1/2 run of an expert. */
typedef struct PhaseRun {
    LptTrainer *t;
    int phase;
    LptStoreExpert expert;
    LptVit *vit;
    LptVitMode mode;
    int epochs, micro;
    LptTensor param, grad, velocity; /* velocity: of param, then (full) of the backbone */
    LptTensor bparam, bgrad;         /* full fine-tuning: the backbone's span */
    LptArena *velocity_arena;
    LptLoader *loader;
    LptEval *val;
    float *host_loss, *host_selcos;
} PhaseRun;

/* Gradients of one part of a step (a class-balanced or instance batch), weighted by
 * `weight` / n, over micro-batches; adds weight * mean loss (+ the key loss) to *loss. */
static LptStatus train_part(PhaseRun *r, const LptLoaderPart *part, int part_index, bool balanced,
                            double weight, uint32_t global_step, double *loss, LptError *err)
{
    LptTrainer *t = r->t;
    const LptRunConfig *c = &t->cfg;
    int n = part->count, K = t->K;
    size_t image = (size_t)3 * lpt_vit_config(r->vit)->image * lpt_vit_config(r->vit)->image;
    float gp = balanced ? c->cb_gamma_pos : c->ib_gamma_pos;
    float gn = balanced ? c->cb_gamma_neg : c->ib_gamma_neg;
    int topk = lpt_vit_config(r->vit)->pool_top_k;
    bool phase2 = r->mode == LPT_VIT_PHASE2;
    for (int o = 0; o < n; o += r->micro) {
        int m = n - o < r->micro ? n - o : r->micro;
        LptTensor images = lpt_tensor_view(&part->images, (size_t)o * image, (size_t)m * image);
        uint64_t slot = (uint64_t)part_index << 32 | (uint32_t)o; /* this micro-batch */
        LPT_TRY(lpt_vit_set_feature_dropout(
            r->vit, c->feature_dropout,
            lpt_trainer_seed(t, SEED_DROPOUT, (uint64_t)(r->phase * 4 + r->expert), slot),
            global_step, err));
        LPT_TRY(lpt_vit_forward(r->vit, &images, m, r->mode, true, err));
        LptTensor labels = lpt_tensor_view(&t->labels, 0, (size_t)m);
        LptTensor lossv = lpt_tensor_view(&t->loss, 0, (size_t)m);
        LPT_TRY(lpt_tensor_upload(&labels, part->host_labels + o, err));
        LptAgclParams p;
        lpt_agcl_params_init(&p, m, K, gp, gn);
        p.scale = c->loss_scale;
        p.margin = c->loss_margin;
        p.noise = c->loss_noise;
        p.smoothing = c->loss_smoothing;
        p.seed = lpt_trainer_seed(t, SEED_NOISE, (uint64_t)(r->phase * 4 + r->expert), slot);
        p.step = global_step;
        const LptTensor *logits = lpt_vit_logits(r->vit);
        LPT_TRY(lpt_op_agcl_forward(t->opt.be, &lossv, logits, &labels, &t->margins, &p, err));
        LPT_TRY(lpt_op_agcl_backward(t->opt.be, &t->dcos, logits, &labels, &t->margins, &p,
                                     (float)(weight / n), err));
        LPT_TRY(lpt_vit_backward(r->vit, &t->dcos, (float)(c->key_loss_weight / n), err));
        LPT_TRY(lpt_tensor_download(&lossv, r->host_loss, err));
        double sum = 0.0;
        for (int i = 0; i < m; i++)
            sum += r->host_loss[i];
        *loss += weight * sum / n;
        if (phase2) {
            LptTensor sc = lpt_tensor_view(lpt_vit_selection_cos(r->vit), 0, (size_t)m * topk);
            LPT_TRY(lpt_tensor_download(&sc, r->host_selcos, err));
            double ks = 0.0;
            for (int i = 0; i < m * topk; i++)
                ks += r->host_selcos[i];
            *loss += c->key_loss_weight * -0.5 * ks / n;
        }
    }
    return LPT_OK;
}

/* Trains epochs [start, epochs) of the phase; the model, velocity and loader are set up. */
static LptStatus run_epochs(PhaseRun *r, int start, double best_metric, int best_epoch,
                            LptError *err)
{
    LptTrainer *t = r->t;
    const LptRunConfig *c = &t->cfg;
    LptSchedule sched = {lpt_schedule_scale_lr(c->lr, c->batch_size, c->lr_reference_batch),
                         c->warmup_epochs, c->warmup_lr, r->epochs};
    int64_t steps = lpt_loader_steps_per_epoch(r->loader);
    int64_t total = (int64_t)(r->epochs - start) * steps, done = 0;
    bool dual = !baseline(t);
    LptVitMode eval_mode = r->mode == LPT_VIT_FULL ? LPT_VIT_PLAIN : r->mode;
    size_t bvel = (r->param.count + 63) / 64 * 64; /* the backbone's velocity, 256-B aligned */
    for (int e = start; e < r->epochs; e++) {
        double t0 = lpt_trainer_now(), lr = lpt_schedule_lr(&sched, e);
        double lambda = lpt_schedule_lambda(c->lambda_max, e, r->epochs), epoch_loss = 0.0;
        for (int64_t s = 0; s < steps; s++) {
            if (lpt_trainer_should_stop(t))
                return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "training cancelled");
            LptLoaderBatch b;
            LPT_TRY(lpt_loader_next(r->loader, &b, err));
            LPT_TRY(lpt_vit_zero_grads(r->vit, err));
            double loss = 0.0;
            uint32_t gstep = (uint32_t)((int64_t)e * steps + s);
            for (int p = 0; p < b.parts; p++) {
                if (b.part[p].count == 0)
                    continue;
                bool balanced = dual && p == 0;
                double weight = dual && p == 1 ? lambda : 1.0;
                LPT_TRY(train_part(r, &b.part[p], p, balanced, weight, gstep, &loss, err));
                t->images_done += b.part[p].count;
            }
            LptTensor v = lpt_tensor_view(&r->velocity, 0, r->param.count);
            LPT_TRY(lpt_op_sgd_update(t->opt.be, &r->param, &v, &r->grad, r->param.count, (float)lr,
                                      (float)c->momentum, (float)c->weight_decay, err));
            if (r->mode == LPT_VIT_FULL) {
                v = lpt_tensor_view(&r->velocity, bvel, r->bparam.count);
                LPT_TRY(lpt_op_sgd_update(t->opt.be, &r->bparam, &v, &r->bgrad, r->bparam.count,
                                          (float)lr, (float)c->momentum, (float)c->weight_decay,
                                          err));
            }
            epoch_loss += loss;
            done++;
            double elapsed = lpt_trainer_now() - t->started;
            LptTrainProgress pr = {.stage = LPT_TRAIN_STAGE_TRAIN,
                                   .phase = r->phase,
                                   .expert = r->expert,
                                   .epoch = e,
                                   .epochs = r->epochs,
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
        bool has_val;
        t->epoch = e;
        t->epochs = r->epochs;
        LPT_TRY(validate(t, r->expert, eval_mode, r->phase, r->val, &has_val, err));
        const LptEvalMetrics *vm = has_val ? lpt_eval_metrics(r->val) : NULL;
        double metric = vm ? vm->balanced : NAN;
        bool is_best =
            best_epoch < 0 || isnan(best_metric) || (!isnan(metric) && metric > best_metric);
        if (is_best) {
            best_metric = metric;
            best_epoch = e;
        }
        CheckpointMeta meta = {r->phase, r->expert, e, {0}, best_metric, best_epoch, 0};
        lpt_loader_state(r->loader, &meta.sampler);
        LptSafetensorsWriter *w;
        LPT_TRY(vit_checkpoint(r->vit, full_finetune(t), &r->velocity, &meta, &w, err));
        double secs = lpt_trainer_now() - t0;
        LPT_TRY(lpt_trainer_record_epoch(t, r->phase, r->expert, e, epoch_loss / steps, lr, secs,
                                         vm, w, metric, is_best, err));
        double elapsed = lpt_trainer_now() - t->started;
        LptTrainProgress pr = {.stage = LPT_TRAIN_STAGE_EPOCH,
                               .phase = r->phase,
                               .expert = r->expert,
                               .epoch = e,
                               .epochs = r->epochs,
                               .step = steps,
                               .steps = steps,
                               .loss = epoch_loss / steps,
                               .lr = lr,
                               .images_per_second = t->images_done / fmax(elapsed, 1e-9),
                               .eta_seconds =
                                   done > 0 ? elapsed / done * (double)(total - done) : NAN,
                               .val_overall = vm ? vm->overall : NAN,
                               .val_balanced = metric};
        lpt_trainer_report(t, &pr);
    }
    return LPT_OK;
}

/* Sets up and runs phase 1 or 2 (or a baseline) of an expert from its state. Full
 * fine-tuning starts from the backbone the caller set and trains it with the head (one SGD,
 * the run's lr, momentum and weight decay, over both spans). */
static LptStatus run_vit_phase(LptTrainer *t, int phase, LptStoreExpert expert, LptError *err)
{
    PhaseRun r = {0};
    r.t = t;
    r.phase = phase;
    r.expert = expert;
    r.vit = t->opt.experts[expert].vit;
    r.epochs = lpt_trainer_phase_epochs(t, phase);
    r.mode = full_finetune(t)                           ? LPT_VIT_FULL
             : t->cfg.method == LPT_METHOD_LINEAR_PROBE ? LPT_VIT_PLAIN
             : phase == 1                               ? LPT_VIT_PHASE1
                                                        : LPT_VIT_PHASE2;
    r.micro = lpt_trainer_micro_batch(t, expert, r.mode);
    LptStoreCheckpoint *last = NULL, *prev = NULL;
    CheckpointMeta meta;
    int start = 0;
    double best_metric = NAN;
    int best_epoch = -1;
    LptStatus st = lpt_vit_trainable_span(r.vit, r.mode, &r.param, &r.grad, err);
    size_t nvel = r.param.count;
    if (st == LPT_OK && r.mode == LPT_VIT_FULL) {
        st = lpt_vit_backbone_span(r.vit, &r.bparam, &r.bgrad, err);
        nvel = (r.param.count + 63) / 64 * 64 + r.bparam.count;
    }
    if (st == LPT_OK) {
        r.velocity_arena = lpt_arena_new(t->opt.be, "sgd velocity", nvel * 4 + 256, err);
        if (!r.velocity_arena)
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    }
    if (st == LPT_OK)
        st = lpt_arena_alloc(r.velocity_arena, &r.velocity, "sgd velocity", LPT_F32, nvel, err);
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&r.velocity, 0, err);
    if (st == LPT_OK)
        st = ensure_scratch(t, r.micro, err);
    if (st == LPT_OK)
        st = lpt_trainer_find(t, phase, expert, LPT_STORE_CHECKPOINT_LATEST, &last, err);
    if (st == LPT_OK && last) { /* resume after the last finished epoch */
        st = load_vit_checkpoint(t, r.vit, full_finetune(t), &r.velocity, last, &meta, err);
        start = last->epoch + 1;
        best_metric = meta.best_metric;
        best_epoch = meta.best_epoch;
    } else if (st == LPT_OK && phase == 2) { /* from phase 1's best (everything else: init) */
        st = lpt_trainer_find(t, 1, expert, LPT_STORE_CHECKPOINT_BEST, &prev, err);
        if (st == LPT_OK && prev)
            st = load_vit_checkpoint(t, r.vit, false, NULL, prev, &meta, err);
        else if (st == LPT_OK)
            st = lpt_trainer_init_expert(t, expert, err);
    } else if (st == LPT_OK) {
        st = lpt_trainer_init_expert(t, expert, err);
    }
    if (st == LPT_OK) {
        LptSamplerKind kind = baseline(t) ? LPT_SAMPLER_INSTANCE : LPT_SAMPLER_DUAL;
        uint64_t seed = lpt_trainer_seed(t, SEED_SAMPLER, (uint64_t)phase, (uint64_t)expert);
        r.loader = lpt_trainer_loader(t, expert, &t->opt.train, true, kind, t->cfg.batch_size, seed,
                                      last ? &meta.sampler : NULL, err);
        if (!r.loader)
            st = err ? err->code : LPT_ERR_IO;
    }
    if (st == LPT_OK) {
        int topk = lpt_vit_config(r.vit)->pool_top_k;
        r.host_loss = malloc((size_t)r.micro * sizeof *r.host_loss);
        r.host_selcos = malloc((size_t)r.micro * (topk > 0 ? topk : 1) * sizeof *r.host_selcos);
        r.val = lpt_eval_new(t->K, t->opt.train_counts,
                             &(LptGroupThresholds){t->cfg.many_above, t->cfg.few_below},
                             t->cfg.ece_bins, err);
        if (!r.val)
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
        else if (!r.host_loss || !r.host_selcos)
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "trainer: out of memory");
    }
    if (st == LPT_OK)
        st = run_epochs(&r, start, best_metric, best_epoch, err);
    free(last);
    free(prev);
    free(r.host_loss);
    free(r.host_selcos);
    lpt_eval_free(r.val);
    lpt_loader_free(r.loader);
    lpt_arena_free(r.velocity_arena);
    return st;
}

LptStatus lpt_trainer_run(LptTrainer *t, int phase, LptStoreExpert expert, LptError *err)
{
    if (!t)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "trainer: NULL");
    t->started = lpt_trainer_now();
    t->images_done = 0;
    t->cancelled = false;
    t->epoch = t->epochs = 0;
    if (phase == 3) {
        if (expert != LPT_STORE_EXPERT_FUSED)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "phase 3 trains the scorer (expert \"fused\")");
        return lpt_trainer_run_scorer(t, err);
    }
    if ((phase != 1 && phase != 2) || expert > LPT_STORE_EXPERT_VL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "phase %d of expert %d does not exist", phase, (int)expert);
    if (!t->opt.experts[expert].vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the run has no %s expert",
                             expert_name(expert));
    if (phase > lpt_trainer_expert_phases(t, expert))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "this run (method %s) has no phase 2", lpt_method_name(t->cfg.method));
    bool done;
    LPT_TRY(lpt_trainer_phase_done(t, phase, expert, &done, err));
    if (done)
        return lpt_trainer_tidy(t, phase, expert, err);
    if (phase == 2) {
        LPT_TRY(lpt_trainer_phase_done(t, 1, expert, &done, err));
        if (!done)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "phase 1 of the %s expert is not finished: run it first",
                                 expert_name(expert));
    }
    return run_vit_phase(t, phase, expert, err);
}

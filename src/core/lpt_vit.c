/* lpt_vit.c: the ViT expert's tensors, activation layout and forward/backward graphs, written
 * once over the ops of lpt_ops.h so both backends run the same code. See lpt_vit.h for the
 * model, the tensor names and the memory figures.
 *
 * Activations (one arena, carved afresh by every forward): scratch buffers reused by every
 * layer that keeps nothing (three residual streams, so a protected one -- the branch point of
 * phase 2 -- survives while two others alternate), one LayerAct per layer that backward will
 * visit (what its backward reads), the head's tensors, and the backward's own scratch. The
 * same carving code counts bytes for lpt_vit_activation_bytes, so the two always agree.
 * The transformer block itself (its forward, backward and per-layer layout) is lpt_block.c's,
 * which CLIP's text tower shares.
 */
#include "lpt_vit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_block.h"
#include "lpt_ops.h"
#include "lpt_rng.h"

/* ---- sizes ------------------------------------------------------------------------------ */

/* Sizes derived from a config (shape letters as in lpt_vit.h). */
typedef struct Dims {
    int L, C, H, D, mlp, p, img, N, T, P, R, M, K, Cf, G, topk, row; /* row = 3 p p */
} Dims;

static Dims dims_of(const LptVitConfig *cfg)
{
    Dims d;
    d.L = cfg->depth;
    d.C = cfg->width;
    d.H = cfg->heads;
    d.D = cfg->heads > 0 ? cfg->width / cfg->heads : 0;
    d.mlp = cfg->mlp;
    d.p = cfg->patch;
    d.img = cfg->image;
    d.N = cfg->patch > 0 ? (cfg->image / cfg->patch) * (cfg->image / cfg->patch) : 0;
    d.T = d.N + 1;
    d.P = cfg->prompts;
    d.R = cfg->adapter_rank;
    d.M = cfg->pool_size;
    d.K = cfg->classes;
    d.Cf = cfg->clip_style ? cfg->proj_dim : cfg->width;
    d.G = cfg->depth - cfg->depth / 2;
    d.topk = cfg->pool_top_k;
    d.row = 3 * cfg->patch * cfg->patch;
    return d;
}

void lpt_vit_config_init(LptVitConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->depth = 12;
    cfg->width = 768;
    cfg->heads = 12;
    cfg->mlp = 3072;
    cfg->patch = 16;
    cfg->image = 224;
    cfg->eps = 1e-6f;
    cfg->act = LPT_VIT_ACT_GELU;
    cfg->prompts = 10;
    cfg->adapter_rank = 8;
    cfg->adapter_scale = 1.0f;
    cfg->pool_size = 20;
    cfg->pool_top_k = 2;
}

LptStatus lpt_vit_config_check(const LptVitConfig *cfg, LptError *err)
{
    if (!cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit config: NULL");
    const char *bad = NULL;
    if (cfg->depth < 1 || cfg->depth > 1024)
        bad = "depth must be in [1, 1024]";
    else if (cfg->width < 1 || cfg->heads < 1 || cfg->width % cfg->heads != 0)
        bad = "width must be a positive multiple of heads";
    else if (cfg->width / cfg->heads > 256)
        bad = "head width (width / heads) must be <= 256";
    else if (cfg->mlp < 1)
        bad = "mlp must be >= 1";
    else if (cfg->patch < 1 || cfg->image < cfg->patch || cfg->image % cfg->patch != 0)
        bad = "image must be a positive multiple of patch";
    else if (!(cfg->eps > 0.0f))
        bad = "eps must be > 0";
    else if (cfg->act != LPT_VIT_ACT_GELU && cfg->act != LPT_VIT_ACT_QUICK_GELU)
        bad = "act is not a known activation";
    else if (cfg->clip_style && cfg->proj_dim < 1)
        bad = "proj_dim must be >= 1 for a CLIP-style tower";
    else if (cfg->prompts < 0 || cfg->adapter_rank < 0 || cfg->pool_size < 0 ||
             cfg->classes < 0)
        bad = "prompts, adapter_rank, pool_size and classes must be >= 0";
    else if (cfg->pool_size > 0 && (cfg->prompts < 1 || cfg->depth < 2))
        bad = "a prompt pool needs prompts >= 1 and depth >= 2";
    else if (cfg->pool_size > 0 &&
             (cfg->pool_top_k < 1 || cfg->pool_top_k > cfg->pool_size || cfg->pool_top_k > 32))
        bad = "pool_top_k must be in [1, min(pool_size, 32)]";
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit config: %s", bad);
    /* every activation tensor must be indexable by one dispatch: check the largest per image */
    Dims d = dims_of(cfg);
    size_t per_image = (size_t)(d.T + 2 * d.P) * 3 * d.C;
    if ((size_t)d.T * d.mlp > per_image)
        per_image = (size_t)d.T * d.mlp;
    if (per_image > (size_t)INT32_MAX / 4)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit config: %zu values per image in one tensor is too many",
                             per_image);
    return LPT_OK;
}

/* ---- tensors ---------------------------------------------------------------------------- */

/* A named tensor, one block's weights, one layer's activations: lpt_block.h's. */
typedef LptParam VitTensor;
typedef LptBlockParams Block;
typedef LptLayerAct LayerAct;

typedef struct Acts {
    int batch;
    LptVitMode mode;
    bool train;
    LptTensor patches;       /* [B N, 3 p p] */
    LptTensor xs[3];         /* [B, T, C] scratch residual streams */
    LptTensor lnm, lnr;      /* [B T] ln_pre statistics (CLIP) */
    LptBlockScratch s;       /* the blocks' scratch; s.pool_idx [B] i32: b T, the class-token
                              * rows; s.sel_idx [B, k] i32: phase 2's pool choices */
    LayerAct scratch;        /* for layers that keep nothing */
    LptTensor cls;           /* [B, C] the last layer's output (a view set by the forward) */
    LptTensor fmean, frstd, fl, f, logits; /* [B], [B], [B, C] final LN, [B, C'], [B, K] */
    LptTensor fd;                          /* [B, C'] the feature after dropout (training) */
    bool dropped;                          /* the head saw fd (dropout on in this forward) */
    LptTensor qfmean, qfrstd, qfl, q;      /* the query pass's head (phase 2) */
    LptTensor kcos, sel_cos;                   /* [B, M], [B, k] */
    /* backward (the blocks' own scratch is in s) */
    LptTensor df, dfl;                         /* [B, C'], [B, C] */
    LptTensor patch_idx;                       /* [B N] i32: b T + 1 + n, the patch rows */
    LptTensor dkc;                             /* [B, M] */
} Acts;

struct LptVit {
    LptBackend *be;
    LptVitConfig cfg;
    Dims d;
    VitTensor *tensors;
    int n_tensors, capacity;
    VitTensor *patch_w, *patch_b, *cls, *pos, *ln_pre_w, *ln_pre_b, *norm_w, *norm_b, *proj;
    VitTensor *head, *keys;
    Block *blocks;
    LptArena *frozen, *params, *grads, *acts_arena;
    LptArena *backbone_grads; /* train_backbone: the frozen tensors' gradients, same layout */
    size_t span[4][2]; /* [mode]: [begin, end) bytes of the params arena that mode trains */
    LptDropoutParams dropout; /* feature dropout of training forwards (p 0: off) */
    Acts a;
    LayerAct *saved; /* [L] */
    bool have_forward;
};

static VitTensor *add_tensor(LptVit *v, bool trainable, size_t count, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static VitTensor *add_tensor(LptVit *v, bool trainable, size_t count, const char *fmt, ...)
{
    VitTensor *t = &v->tensors[v->n_tensors++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->count = count;
    t->trainable = trainable;
    return t;
}

static VitTensor *find_tensor(const LptVit *v, const char *name)
{
    if (!v || !name)
        return NULL;
    for (int i = 0; i < v->n_tensors; i++)
        if (strcmp(v->tensors[i].name, name) == 0)
            return &v->tensors[i];
    return NULL;
}

/* Declares every tensor: frozen first, then the trainable ones in span order (phase-1 set,
 * head, phase-2 set). */
static void declare_tensors(LptVit *v)
{
    const Dims *d = &v->d;
    size_t C = (size_t)d->C;
    v->patch_w = add_tensor(v, false, C * d->row, "patch.weight");
    if (!v->cfg.clip_style)
        v->patch_b = add_tensor(v, false, C, "patch.bias");
    v->cls = add_tensor(v, false, C, "cls");
    v->pos = add_tensor(v, false, (size_t)d->T * C, "pos");
    if (v->cfg.clip_style) {
        v->ln_pre_w = add_tensor(v, false, C, "ln_pre.weight");
        v->ln_pre_b = add_tensor(v, false, C, "ln_pre.bias");
    }
    for (int i = 0; i < d->L; i++) {
        Block *b = &v->blocks[i];
        b->ln1_w = add_tensor(v, false, C, "blocks.%d.ln1.weight", i);
        b->ln1_b = add_tensor(v, false, C, "blocks.%d.ln1.bias", i);
        b->qkv_w = add_tensor(v, false, 3 * C * C, "blocks.%d.qkv.weight", i);
        b->qkv_b = add_tensor(v, false, 3 * C, "blocks.%d.qkv.bias", i);
        b->proj_w = add_tensor(v, false, C * C, "blocks.%d.proj.weight", i);
        b->proj_b = add_tensor(v, false, C, "blocks.%d.proj.bias", i);
        b->ln2_w = add_tensor(v, false, C, "blocks.%d.ln2.weight", i);
        b->ln2_b = add_tensor(v, false, C, "blocks.%d.ln2.bias", i);
        b->fc1_w = add_tensor(v, false, (size_t)d->mlp * C, "blocks.%d.fc1.weight", i);
        b->fc1_b = add_tensor(v, false, (size_t)d->mlp, "blocks.%d.fc1.bias", i);
        b->fc2_w = add_tensor(v, false, C * d->mlp, "blocks.%d.fc2.weight", i);
        b->fc2_b = add_tensor(v, false, C, "blocks.%d.fc2.bias", i);
    }
    v->norm_w = add_tensor(v, false, C, "norm.weight");
    v->norm_b = add_tensor(v, false, C, "norm.bias");
    if (v->cfg.clip_style)
        v->proj = add_tensor(v, false, (size_t)d->Cf * C, "proj");
    for (int i = 0; i < d->L; i++) {
        Block *b = &v->blocks[i];
        if (d->P > 0)
            b->prompt = add_tensor(v, true, (size_t)d->P * C, "prompt.%d", i);
        if (d->R > 0) {
            b->down_w = add_tensor(v, true, (size_t)d->R * C, "adapter.%d.down.weight", i);
            b->down_b = add_tensor(v, true, (size_t)d->R, "adapter.%d.down.bias", i);
            b->up_w = add_tensor(v, true, C * d->R, "adapter.%d.up.weight", i);
            b->up_b = add_tensor(v, true, C, "adapter.%d.up.bias", i);
            b->scale = add_tensor(v, true, 1, "adapter.%d.scale", i);
        }
    }
    if (d->K > 0)
        v->head = add_tensor(v, true, (size_t)d->K * d->Cf, "head");
    if (d->M > 0) {
        for (int i = d->G; i < d->L; i++)
            v->blocks[i].pool = add_tensor(v, true, (size_t)d->M * d->P * C, "pool.%d", i - d->G);
        v->keys = add_tensor(v, true, (size_t)d->M * d->Cf, "keys");
    }
}

/* Carves every declared tensor out of the three parameter arenas and records the spans. */
static LptStatus place_tensors(LptVit *v, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local; /* to return the arenas' own status */
    size_t frozen = 0, trainable = 0;
    for (int i = 0; i < v->n_tensors; i++) {
        size_t b = lpt_block_aligned_bytes(v->tensors[i].count, LPT_F32);
        if (v->tensors[i].trainable)
            trainable += b;
        else
            frozen += b;
    }
    if (trainable == 0)
        trainable = LPT_ARENA_ALIGN; /* an empty model still has (empty) spans */
    bool backbone = v->cfg.train_backbone;
    v->frozen = lpt_arena_new(v->be, "vit frozen weights", frozen, err);
    v->params = v->frozen ? lpt_arena_new(v->be, "vit trainable", trainable, err) : NULL;
    v->grads = v->params ? lpt_arena_new(v->be, "vit gradients", trainable, err) : NULL;
    if (v->grads && backbone)
        v->backbone_grads = lpt_arena_new(v->be, "vit backbone gradients", frozen, err);
    if (!v->grads || (backbone && !v->backbone_grads))
        return err->code;
    for (int i = 0; i < v->n_tensors; i++) {
        VitTensor *t = &v->tensors[i];
        LptStatus st = lpt_arena_alloc(t->trainable ? v->params : v->frozen, &t->value, t->name,
                                       LPT_F32, t->count, err);
        if (st == LPT_OK && (t->trainable || backbone))
            st = lpt_arena_alloc(t->trainable ? v->grads : v->backbone_grads, &t->grad, t->name,
                                 LPT_F32, t->count, err);
        if (st != LPT_OK)
            return st;
        if (!t->trainable)
            continue;
        /* the head trains in every mode, prompts and adapters in phase 1, the rest in 2 */
        bool phase1 = strncmp(t->name, "prompt.", 7) == 0 || strncmp(t->name, "adapter.", 8) == 0;
        for (int m = LPT_VIT_PLAIN; m <= LPT_VIT_FULL; m++) {
            if (t != v->head && (m == LPT_VIT_PLAIN || m == LPT_VIT_FULL ||
                                 phase1 != (m == LPT_VIT_PHASE1)))
                continue;
            size_t *sp = v->span[m];
            size_t end = t->value.offset + t->count * sizeof(float);
            if (sp[1] == 0 || t->value.offset < sp[0])
                sp[0] = t->value.offset;
            if (end > sp[1])
                sp[1] = end;
        }
    }
    /* zeros everywhere, padding included, so spans read no garbage */
    LptTensor all_p = {v->params, 0, lpt_arena_size(v->params) / 4, LPT_F32, "vit trainable"};
    LptTensor all_g = {v->grads, 0, lpt_arena_size(v->grads) / 4, LPT_F32, "vit gradients"};
    LptStatus st = lpt_tensor_fill_u32(&all_p, 0, err);
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&all_g, 0, err);
    if (st == LPT_OK && backbone) { /* the backbone span, too, is read whole */
        LptTensor all_f = {v->frozen, 0, lpt_arena_size(v->frozen) / 4, LPT_F32, "vit frozen"};
        LptTensor all_b = {v->backbone_grads, 0, lpt_arena_size(v->backbone_grads) / 4, LPT_F32,
                           "vit backbone gradients"};
        st = lpt_tensor_fill_u32(&all_f, 0, err);
        if (st == LPT_OK)
            st = lpt_tensor_fill_u32(&all_b, 0, err);
    }
    return st;
}

LptVit *lpt_vit_new(LptBackend *be, const LptVitConfig *cfg, LptError *err)
{
    if (!be) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: no backend");
        return NULL;
    }
    if (lpt_vit_config_check(cfg, err) != LPT_OK)
        return NULL;
    LptVit *v = calloc(1, sizeof *v);
    if (!v) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit: out of host memory");
        return NULL;
    }
    v->be = be;
    v->cfg = *cfg;
    v->d = dims_of(cfg);
    v->capacity = 16 + 20 * cfg->depth;
    v->tensors = calloc((size_t)v->capacity, sizeof *v->tensors);
    v->blocks = calloc((size_t)cfg->depth, sizeof *v->blocks);
    v->saved = calloc((size_t)cfg->depth, sizeof *v->saved);
    if (!v->tensors || !v->blocks || !v->saved) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit: out of host memory");
        lpt_vit_free(v);
        return NULL;
    }
    declare_tensors(v);
    if (place_tensors(v, err) != LPT_OK) {
        lpt_vit_free(v);
        return NULL;
    }
    return v;
}

void lpt_vit_free(LptVit *vit)
{
    if (!vit)
        return;
    lpt_arena_free(vit->acts_arena);
    lpt_arena_free(vit->backbone_grads);
    lpt_arena_free(vit->grads);
    lpt_arena_free(vit->params);
    lpt_arena_free(vit->frozen);
    free(vit->saved);
    free(vit->blocks);
    free(vit->tensors);
    free(vit);
}

const LptVitConfig *lpt_vit_config(const LptVit *vit)
{
    return &vit->cfg;
}

int lpt_vit_tokens(const LptVit *vit)
{
    return vit->d.T;
}

int lpt_vit_feature_width(const LptVit *vit)
{
    return vit->d.Cf;
}

const LptTensor *lpt_vit_tensor(const LptVit *vit, const char *name)
{
    VitTensor *t = find_tensor(vit, name);
    return t ? &t->value : NULL;
}

const LptTensor *lpt_vit_grad(const LptVit *vit, const char *name)
{
    VitTensor *t = find_tensor(vit, name);
    return t && t->grad.arena ? &t->grad : NULL;
}

const char *lpt_vit_tensor_name(const LptVit *vit, int i)
{
    return vit && i >= 0 && i < vit->n_tensors ? vit->tensors[i].name : NULL;
}

bool lpt_vit_tensor_trainable(const LptVit *vit, int i)
{
    return vit && i >= 0 && i < vit->n_tensors && vit->tensors[i].trainable;
}

/* Looks a tensor up for a host copy of `count` floats. */
static LptStatus lookup(const LptVit *vit, const char *name, size_t count, bool grad,
                        VitTensor **out, LptError *err)
{
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: NULL model");
    VitTensor *t = find_tensor(vit, name);
    if (!t)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit: no tensor called '%s' in this configuration",
                             name ? name : "(null)");
    if (grad && !t->grad.arena)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit: tensor '%s' is frozen and has no gradient", t->name);
    if (count != t->count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit: tensor '%s' has %zu elements, got %zu", t->name, t->count,
                             count);
    *out = t;
    return LPT_OK;
}

LptStatus lpt_vit_set(LptVit *vit, const char *name, const float *data, size_t count,
                      LptError *err)
{
    VitTensor *t = NULL;
    LptStatus st = lookup(vit, name, count, false, &t, err);
    if (st != LPT_OK)
        return st;
    if (!data)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: no data for '%s'", name);
    st = lpt_tensor_upload(&t->value, data, err);
    if (st == LPT_OK)
        t->set = true;
    return st;
}

LptStatus lpt_vit_get(LptVit *vit, const char *name, float *out, size_t count, LptError *err)
{
    VitTensor *t = NULL;
    LptStatus st = lookup(vit, name, count, false, &t, err);
    return st == LPT_OK ? lpt_tensor_download(&t->value, out, err) : st;
}

LptStatus lpt_vit_get_grad(LptVit *vit, const char *name, float *out, size_t count,
                           LptError *err)
{
    VitTensor *t = NULL;
    LptStatus st = lookup(vit, name, count, true, &t, err);
    return st == LPT_OK ? lpt_tensor_download(&t->grad, out, err) : st;
}

/* A standard normal draw cut at +-2 (redrawn outside). */
static double trunc_normal(LptRng *rng)
{
    for (;;) {
        double z = lpt_rng_normal(rng);
        if (fabs(z) <= 2.0)
            return z;
    }
}

LptStatus lpt_vit_init_trainable(LptVit *vit, uint64_t seed, LptError *err)
{
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: NULL model");
    size_t most = 1;
    for (int i = 0; i < vit->n_tensors; i++)
        if (vit->tensors[i].trainable && vit->tensors[i].count > most)
            most = vit->tensors[i].count;
    float *buf = malloc(most * sizeof *buf);
    if (!buf)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit init: out of host memory");
    LptStatus st = LPT_OK;
    for (int i = 0; i < vit->n_tensors && st == LPT_OK; i++) {
        VitTensor *t = &vit->tensors[i];
        if (!t->trainable)
            continue;
        LptRng rng;
        lpt_rng_seed(&rng, seed, (uint64_t)i); /* one stream per tensor */
        const char *dot = strrchr(t->name, '.');
        if (strncmp(t->name, "prompt.", 7) == 0 || strncmp(t->name, "pool.", 5) == 0 ||
            strcmp(t->name, "keys") == 0) {
            for (size_t j = 0; j < t->count; j++)
                buf[j] = (float)(0.02 * trunc_normal(&rng));
        } else if (strcmp(t->name, "head") == 0) {
            int rows = vit->d.K, c = vit->d.Cf;
            for (int r = 0; r < rows; r++) {
                double norm = 0.0;
                float *row = buf + (size_t)r * c;
                for (int j = 0; j < c; j++) {
                    row[j] = (float)lpt_rng_normal(&rng);
                    norm += (double)row[j] * row[j];
                }
                for (int j = 0; j < c; j++)
                    row[j] = (float)(row[j] / sqrt(norm));
            }
        } else if (dot && strcmp(dot, ".scale") == 0) {
            buf[0] = vit->cfg.adapter_scale;
        } else if (strstr(t->name, ".down.weight")) {
            double bound = 1.0 / sqrt((double)vit->d.C);
            for (size_t j = 0; j < t->count; j++)
                buf[j] = (float)((2.0 * lpt_rng_float(&rng) - 1.0) * bound);
        } else { /* up weights, biases */
            memset(buf, 0, t->count * sizeof *buf);
        }
        st = lpt_tensor_upload(&t->value, buf, err);
    }
    free(buf);
    return st;
}

/* Ends with `suffix`. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

LptStatus lpt_vit_init_backbone(LptVit *vit, uint64_t seed, LptError *err)
{
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: NULL model");
    size_t most = 1;
    for (int i = 0; i < vit->n_tensors; i++)
        if (!vit->tensors[i].trainable && vit->tensors[i].count > most)
            most = vit->tensors[i].count;
    float *buf = malloc(most * sizeof *buf);
    if (!buf)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit init: out of host memory");
    double patch_bound = 1.0 / sqrt((double)vit->d.row);
    LptStatus st = LPT_OK;
    for (int i = 0; i < vit->n_tensors && st == LPT_OK; i++) {
        VitTensor *t = &vit->tensors[i];
        if (t->trainable)
            continue;
        LptRng rng;
        lpt_rng_seed(&rng, seed, (uint64_t)i); /* one stream per tensor */
        const char *n = t->name;
        bool norm = strstr(n, "ln") || strncmp(n, "norm.", 5) == 0;
        for (size_t j = 0; j < t->count; j++) {
            double x;
            if (strncmp(n, "patch.", 6) == 0)
                x = (2.0 * lpt_rng_float(&rng) - 1.0) * patch_bound;
            else if (strcmp(n, "cls") == 0)
                x = 1e-6 * lpt_rng_normal(&rng);
            else if (strcmp(n, "proj") == 0)
                x = lpt_rng_normal(&rng) / sqrt((double)vit->d.C);
            else if (norm)
                x = ends_with(n, ".weight") ? 1.0 : 0.0;
            else if (ends_with(n, ".bias"))
                x = 0.0;
            else /* pos, qkv, proj, fc1, fc2 weights */
                x = 0.02 * trunc_normal(&rng);
            buf[j] = (float)x;
        }
        st = lpt_tensor_upload(&t->value, buf, err);
        t->set = st == LPT_OK;
    }
    free(buf);
    return st;
}

LptStatus lpt_vit_trainable_span(const LptVit *vit, LptVitMode mode, LptTensor *param,
                                 LptTensor *grad, LptError *err)
{
    if (!vit || !param || !grad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit span: NULL argument");
    if (mode < LPT_VIT_PLAIN || mode > LPT_VIT_FULL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit span: unknown mode %d",
                             (int)mode);
    size_t begin = vit->span[mode][0], end = vit->span[mode][1];
    if (end <= begin)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit span: this configuration trains nothing in mode %d",
                             (int)mode);
    *param = (LptTensor){vit->params, begin, (end - begin) / 4, LPT_F32, "vit trainable span"};
    *grad = (LptTensor){vit->grads, begin, (end - begin) / 4, LPT_F32, "vit gradient span"};
    return LPT_OK;
}

LptStatus lpt_vit_backbone_span(const LptVit *vit, LptTensor *param, LptTensor *grad,
                                LptError *err)
{
    if (!vit || !param || !grad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit span: NULL argument");
    if (!vit->backbone_grads)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit span: the backbone is frozen (train_backbone is off)");
    size_t n = lpt_arena_size(vit->frozen) / 4;
    *param = (LptTensor){vit->frozen, 0, n, LPT_F32, "vit backbone span"};
    *grad = (LptTensor){vit->backbone_grads, 0, n, LPT_F32, "vit backbone gradient span"};
    return LPT_OK;
}

LptStatus lpt_vit_zero_grads(LptVit *vit, LptError *err)
{
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: NULL model");
    LptTensor all = {vit->grads, 0, lpt_arena_size(vit->grads) / 4, LPT_F32, "vit gradients"};
    LptStatus st = lpt_tensor_fill_u32(&all, 0, err);
    if (st == LPT_OK && vit->backbone_grads) {
        LptTensor bb = {vit->backbone_grads, 0, lpt_arena_size(vit->backbone_grads) / 4, LPT_F32,
                        "vit backbone gradients"};
        st = lpt_tensor_fill_u32(&bb, 0, err);
    }
    return st;
}

/* ---- activation layout ------------------------------------------------------------------ */

/* Whether `mode` runs the shared prompts and adapters (phases 1 and 2). */
static bool mode_extras(LptVitMode mode)
{
    return mode == LPT_VIT_PHASE1 || mode == LPT_VIT_PHASE2;
}

/* The first layer a training forward in `mode` keeps activations for (L: none). */
static int first_trained(const Dims *d, LptVitMode mode, bool train)
{
    if (!train)
        return d->L;
    return mode == LPT_VIT_PHASE1 || mode == LPT_VIT_FULL ? 0
           : mode == LPT_VIT_PHASE2                       ? d->G
                                                          : d->L;
}

/* The block sizes of a forward of B images. */
static LptBlockShape block_shape(const LptVitConfig *cfg, const Dims *d, int B)
{
    return (LptBlockShape){B,      d->T, d->C,     d->H,     d->mlp, d->P,
                           d->R,   d->M, d->topk,  cfg->eps, cfg->act, false};
}

/* Lays out (or counts) every activation of a forward of B images in `mode`. saved: [L] or
 * NULL when only counting. */
static void layout_acts(LptCarver *c, Acts *a, LayerAct *saved, const LptVitConfig *cfg,
                        const Dims *d, int B, LptVitMode mode, bool train)
{
    bool clip = cfg->clip_style, backward = train && mode != LPT_VIT_PLAIN;
    LptBlockShape bs = block_shape(cfg, d, B);
    size_t BT = (size_t)B * d->T, BTC = BT * d->C;
    bool prompts = mode_extras(mode) && d->P > 0, group = mode == LPT_VIT_PHASE2;
    bool adapters = mode_extras(mode) && d->R > 0;
    int s_layer = d->T + (prompts ? d->P : 0), s_max = s_layer + (group ? d->P : 0);
    int first = first_trained(d, mode, train);
    memset(a, 0, sizeof *a);
    a->batch = B;
    a->mode = mode;
    a->train = train;

    lpt_carve(c, &a->patches, "act.patches", LPT_F32, (size_t)B * d->N * d->row);
    for (int i = 0; i < 3; i++)
        lpt_carve(c, &a->xs[i], "act.stream", LPT_F32, BTC);
    if (clip) {
        lpt_carve(c, &a->lnm, "act.ln_pre.mean", LPT_F32, BT);
        lpt_carve(c, &a->lnr, "act.ln_pre.rstd", LPT_F32, BT);
    }
    if (group)
        lpt_carve(c, &a->s.sel_idx, "act.selection", LPT_I32, (size_t)B * d->topk);
    if (backward && (mode == LPT_VIT_FULL || (prompts && mode == LPT_VIT_PHASE1)))
        lpt_carve(c, &a->s.ones, "act.ones", LPT_F32, (size_t)B);
    lpt_block_layout_scratch(c, &a->s, &bs, s_max, backward, adapters, prompts,
                             backward && prompts && mode == LPT_VIT_PHASE1, group);
    if (first > 0 || group) /* some layer keeps nothing (phase 2: also the query pass) */
        lpt_block_layout_layer(c, &a->scratch, &bs, s_max, false, false, prompts, group, false);

    lpt_carve(c, &a->fmean, "act.norm.mean", LPT_F32, (size_t)B);
    lpt_carve(c, &a->frstd, "act.norm.rstd", LPT_F32, (size_t)B);
    lpt_carve(c, &a->fl, "act.norm", LPT_F32, (size_t)B * d->C);
    if (clip)
        lpt_carve(c, &a->f, "act.feature", LPT_F32, (size_t)B * d->Cf);
    else
        a->f = a->fl;
    if (d->K > 0)
        lpt_carve(c, &a->logits, "act.logits", LPT_F32, (size_t)B * d->K);
    if (train && d->K > 0)
        lpt_carve(c, &a->fd, "act.feature_dropout", LPT_F32, (size_t)B * d->Cf);
    if (group) {
        lpt_carve(c, &a->qfmean, "act.query.mean", LPT_F32, (size_t)B);
        lpt_carve(c, &a->qfrstd, "act.query.rstd", LPT_F32, (size_t)B);
        lpt_carve(c, &a->qfl, "act.query.norm", LPT_F32, (size_t)B * d->C);
        if (clip)
            lpt_carve(c, &a->q, "act.query", LPT_F32, (size_t)B * d->Cf);
        else
            a->q = a->qfl;
        lpt_carve(c, &a->kcos, "act.key_cos", LPT_F32, (size_t)B * d->M);
        lpt_carve(c, &a->sel_cos, "act.selection_cos", LPT_F32, (size_t)B * d->topk);
    }

    LayerAct dummy;
    for (int i = first; i < d->L; i++) {
        bool g = group && i >= d->G;
        lpt_block_layout_layer(c, saved ? &saved[i] : &dummy, &bs, s_layer + (g ? d->P : 0),
                               i == d->L - 1, false, prompts, g, true);
    }
    if (!train)
        return;
    lpt_carve(c, &a->df, "act.d_feature", LPT_F32, (size_t)B * d->Cf);
    if (mode == LPT_VIT_PLAIN)
        return;
    if (clip)
        lpt_carve(c, &a->dfl, "act.d_norm", LPT_F32, (size_t)B * d->C);
    else
        a->dfl = a->df;
    if (mode == LPT_VIT_FULL)
        lpt_carve(c, &a->patch_idx, "act.patch_index", LPT_I32, (size_t)B * d->N);
    if (group)
        lpt_carve(c, &a->dkc, "act.d_key_cos", LPT_F32, (size_t)B * d->M);
}

size_t lpt_vit_activation_bytes(const LptVitConfig *cfg, int batch, LptVitMode mode,
                                bool train)
{
    if (lpt_vit_config_check(cfg, NULL) != LPT_OK || batch < 1 || mode < LPT_VIT_PLAIN ||
        mode > LPT_VIT_FULL)
        return 0;
    Dims d = dims_of(cfg);
    LptCarver c = {NULL, 0, LPT_OK, NULL};
    Acts a;
    layout_acts(&c, &a, NULL, cfg, &d, batch, mode, train);
    return c.bytes;
}

/* Makes the activation arena hold a forward of B images in `mode` and carves it. */
static LptStatus prepare_acts(LptVit *v, int B, LptVitMode mode, bool train, LptError *err)
{
    size_t need = lpt_vit_activation_bytes(&v->cfg, B, mode, train);
    if (!v->acts_arena || lpt_arena_size(v->acts_arena) < need) {
        lpt_arena_free(v->acts_arena);
        v->acts_arena = lpt_arena_new(v->be, "vit activations", need, err);
        if (!v->acts_arena)
            return lpt_error_prefix(err, "vit forward of %d images", B);
    }
    lpt_arena_reset(v->acts_arena);
    LptCarver c = {v->acts_arena, 0, LPT_OK, err};
    layout_acts(&c, &v->a, v->saved, &v->cfg, &v->d, B, mode, train);
    if (c.st != LPT_OK)
        return c.st;
    const Dims *d = &v->d;
    int32_t *idx = malloc((size_t)B * (d->N > 1 ? d->N : 1) * sizeof *idx);
    if (!idx)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit: out of host memory");
    for (int b = 0; b < B; b++)
        idx[b] = b * d->T;
    LptStatus st = lpt_tensor_upload(&v->a.s.pool_idx, idx, err);
    if (st == LPT_OK && v->a.patch_idx.arena) {
        for (int b = 0; b < B; b++)
            for (int n = 0; n < d->N; n++)
                idx[b * d->N + n] = b * d->T + 1 + n;
        st = lpt_tensor_upload(&v->a.patch_idx, idx, err);
    }
    free(idx);
    if (st == LPT_OK && v->a.s.ones.arena)
        st = lpt_tensor_fill_u32(&v->a.s.ones, 0x3f800000u, err); /* 1.0f */
    return st;
}

/* ---- forward ---------------------------------------------------------------------------- */

/* t from element `first` to its end. */
static LptTensor from(const LptTensor *t, size_t first)
{
    return lpt_tensor_view(t, first, t->count - first);
}

/* A residual stream: a tensor and which scratch slot it is (-1: a trained layer's own). */
typedef struct Stream {
    LptTensor x;
    int slot;
} Stream;

/* Runs blocks first..last-1 from *x (updated to the output). Layers >= first_trained keep
 * their activations; the others run in scratch, never writing slot `keep`. */
static LptStatus run_layers(LptVit *v, int first, int last, Stream *x, int keep, bool group,
                            LptError *err)
{
    Acts *a = &v->a;
    bool prompts = mode_extras(a->mode) && v->d.P > 0;
    bool adapter = mode_extras(a->mode) && v->d.R > 0;
    int trained = first_trained(&v->d, a->mode, a->train);
    LptBlockShape bs = block_shape(&v->cfg, &v->d, a->batch);
    for (int i = first; i < last; i++) {
        Stream out;
        LayerAct *A;
        if (i >= trained && (group || a->mode != LPT_VIT_PHASE2)) {
            A = &v->saved[i];
            out = (Stream){A->x_out, -1};
        } else {
            A = &a->scratch;
            int slot = 0;
            while (slot == x->slot || slot == keep)
                slot++;
            out = (Stream){a->xs[slot], slot};
        }
        LPT_TRY(lpt_block_forward(v->be, &bs, &v->blocks[i], &a->s, A, &x->x, &out.x,
                                  i == v->d.L - 1, prompts, adapter, group && i >= v->d.G, err));
        *x = out;
    }
    return LPT_OK;
}

/* The last block's class-token rows cls [B, C] -> final LN -> (CLIP) proj: the feature. */
static LptStatus head_features(LptVit *v, const LptTensor *cls, const LptTensor *mean,
                               const LptTensor *rstd, const LptTensor *fl, const LptTensor *f,
                               LptError *err)
{
    const Dims *d = &v->d;
    int B = v->a.batch;
    LPT_TRY(lpt_op_layernorm_forward(v->be, fl, mean, rstd, cls, &v->norm_w->value,
                                     &v->norm_b->value, B, d->C, v->cfg.eps, err));
    if (v->cfg.clip_style)
        LPT_TRY(lpt_block_linear(v->be, f, fl, v->proj, NULL, (size_t)B, d->Cf, d->C, 0.0f, err));
    return LPT_OK;
}

/* Patch embedding, class token, positions (and CLIP's ln_pre) into a scratch stream. */
static LptStatus embed(LptVit *v, const LptTensor *images, Stream *x, LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    int B = a->batch, C = d->C;
    LPT_TRY(lpt_op_patchify_forward(v->be, &a->patches, images, B, 3, d->img, d->img, d->p, err));
    LptGemmShape s;
    lpt_gemm_shape_init(&s, d->N, C, d->row, false, true);
    s.batch = B;
    s.stride_a = (int64_t)d->N * d->row;
    s.stride_c = (int64_t)d->T * C;
    LptTensor rows = from(&a->xs[0], (size_t)C); /* patch rows 1..N of each image */
    LPT_TRY(lpt_op_gemm_forward(v->be, &rows, &a->patches, &v->patch_w->value,
                                v->patch_b ? &v->patch_b->value : NULL, &s, err));
    LPT_TRY(
        lpt_op_embed_forward(v->be, &a->xs[0], &v->cls->value, &v->pos->value, B, d->T, C, err));
    *x = (Stream){a->xs[0], 0};
    if (v->cfg.clip_style) {
        LPT_TRY(lpt_op_layernorm_forward(v->be, &a->xs[1], &a->lnm, &a->lnr, &a->xs[0],
                                         &v->ln_pre_w->value, &v->ln_pre_b->value, B * d->T, C,
                                         v->cfg.eps, err));
        *x = (Stream){a->xs[1], 1};
    }
    return LPT_OK;
}

LptStatus lpt_vit_forward(LptVit *vit, const LptTensor *images, int batch, LptVitMode mode,
                          bool train, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local; /* so that a prefixed error keeps its status */
    if (!vit || !images)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit forward: NULL argument");
    const Dims *d = &vit->d;
    if (batch < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: batch %d must be >= 1", batch);
    if (mode < LPT_VIT_PLAIN || mode > LPT_VIT_FULL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: unknown mode %d", (int)mode);
    if (mode == LPT_VIT_FULL && !vit->cfg.train_backbone)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: full training needs train_backbone in the config");
    if (mode == LPT_VIT_PHASE2 && d->M == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: phase 2 needs a prompt pool (pool_size is 0)");
    if (train && d->K == 0 && mode != LPT_VIT_FULL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: training needs a head (classes is 0)");
    for (int i = 0; i < vit->n_tensors; i++)
        if (!vit->tensors[i].trainable && !vit->tensors[i].set)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "vit forward: frozen tensor '%s' was never set",
                                 vit->tensors[i].name);
    vit->have_forward = false;
    LPT_TRY(prepare_acts(vit, batch, mode, train, err));
    Acts *a = &vit->a;
    Stream x;
    LPT_TRY(embed(vit, images, &x, err));
    if (mode != LPT_VIT_PHASE2) {
        LPT_TRY(run_layers(vit, 0, d->L, &x, -1, false, err));
    } else {
        LPT_TRY(run_layers(vit, 0, d->G, &x, -1, false, err));
        Stream q = x; /* the query pass branches off here; x (slot x.slot) stays intact */
        LPT_TRY(run_layers(vit, d->G, d->L, &q, x.slot, false, err));
        LPT_TRY(head_features(vit, &q.x, &a->qfmean, &a->qfrstd, &a->qfl, &a->q, err));
        LPT_TRY(lpt_op_cosine_forward(vit->be, &a->kcos, &a->q, &vit->keys->value, batch, d->M,
                                      d->Cf, err));
        LPT_TRY(lpt_op_topk_forward(vit->be, &a->sel_cos, &a->s.sel_idx, &a->kcos, batch, d->M,
                                    d->topk, err));
        LPT_TRY(run_layers(vit, d->G, d->L, &x, -1, true, err));
    }
    a->cls = x.x;
    LPT_TRY(head_features(vit, &a->cls, &a->fmean, &a->frstd, &a->fl, &a->f, err));
    a->dropped = train && vit->dropout.p > 0.0f;
    if (a->dropped) {
        LptDropoutParams dp = vit->dropout;
        dp.rows = batch;
        dp.cols = d->Cf;
        LPT_TRY(lpt_op_dropout_forward(vit->be, &a->fd, &a->f, &dp, err));
    }
    if (d->K > 0)
        LPT_TRY(lpt_op_cosine_forward(vit->be, &a->logits, a->dropped ? &a->fd : &a->f,
                                      &vit->head->value, batch, d->K, d->Cf, err));
    vit->have_forward = true;
    return LPT_OK;
}

/* ---- backward --------------------------------------------------------------------------- */

/* The backward of `embed` (LPT_VIT_FULL): a->s.dx holds dL/d(block 0's input) [B, T, C];
 * accumulates ln_pre's (CLIP), pos's, cls's and the patch embedding's gradients. */
static LptStatus embed_backward(LptVit *v, LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    LptBackend *be = v->be;
    int B = a->batch, C = d->C, T = d->T;
    const LptTensor *dx = &a->s.dx;
    if (v->cfg.clip_style) {
        LPT_TRY(lpt_op_layernorm_backward(be, &a->s.dtmp, &v->ln_pre_w->grad, &v->ln_pre_b->grad,
                                          &a->s.dx, &a->xs[0], &a->lnm, &a->lnr,
                                          &v->ln_pre_w->value, B * T, C, err));
        dx = &a->s.dtmp;
    }
    /* pos += sum over images of dx, cls += the same of row 0: ones[1, B] dx */
    LptGemmShape s;
    lpt_gemm_shape_init(&s, 1, T * C, B, false, false);
    s.beta = 1.0f;
    LPT_TRY(lpt_op_gemm_forward(be, &v->pos->grad, &a->s.ones, dx, NULL, &s, err));
    s.n = C;
    s.ldb = T * C;
    LPT_TRY(lpt_op_gemm_forward(be, &v->cls->grad, &a->s.ones, dx, NULL, &s, err));
    /* the patch rows packed [B N, C], then the patch GEMM's weight and bias gradients */
    LPT_TRY(
        lpt_op_gather_mean_forward(be, &a->s.da, dx, &a->patch_idx, B * d->N, 1, B * T, C, err));
    return lpt_block_linear_dw(be, v->patch_w, v->patch_b, &a->s.da, &a->patches,
                               (size_t)B * d->N, C, d->row, err);
}

/* Backpropagates dL/dfeature df [B, C'] of the last training forward (in a mode other than
 * plain) through the backbone: what lpt_vit_backward and lpt_vit_backward_features share. */
static LptStatus backbone_backward(LptVit *vit, const LptTensor *df, float key_scale,
                                   LptError *err)
{
    Acts *a = &vit->a;
    const Dims *d = &vit->d;
    LptBackend *be = vit->be;
    int B = a->batch;
    LptVitMode mode = a->mode;
    bool full = mode == LPT_VIT_FULL;
    if (vit->cfg.clip_style) {
        if (full)
            LPT_TRY(
                lpt_block_linear_dw(be, vit->proj, NULL, df, &a->fl, (size_t)B, d->Cf, d->C, err));
        LPT_TRY(
            lpt_block_linear_din(be, &a->dfl, df, vit->proj, (size_t)B, d->Cf, d->C, 0.0f, err));
    }
    /* dx = dL/d(class-token rows of the last block's output) [B, C] */
    const LptTensor *dfl = vit->cfg.clip_style ? &a->dfl : df;
    LPT_TRY(lpt_op_layernorm_backward(be, &a->s.dx, full ? &vit->norm_w->grad : NULL,
                                      full ? &vit->norm_b->grad : NULL, dfl, &a->cls, &a->fmean,
                                      &a->frstd, &vit->norm_w->value, B, d->C, err));
    bool phase2 = mode == LPT_VIT_PHASE2;
    int first = first_trained(d, mode, true);
    LptBlockShape bs = block_shape(&vit->cfg, d, B);
    for (int i = d->L - 1; i >= first; i--)
        LPT_TRY(lpt_block_backward(be, &bs, &vit->blocks[i], &a->s, &vit->saved[i], i == d->L - 1,
                                   !full && d->P > 0, !full && d->R > 0, phase2 && i >= d->G,
                                   !phase2 && !full, full, full || i > first, err));
    if (full)
        return embed_backward(vit, err);
    if (phase2) { /* key loss: key_scale * sum_b sum_j -0.5 cos(q_b, key_sel_bj), keys only */
        LPT_TRY(lpt_op_onehot_forward(be, &a->dkc, &a->s.sel_idx, B, d->M, d->topk,
                                      -0.5f * key_scale, err));
        LPT_TRY(lpt_op_cosine_backward(be, NULL, &vit->keys->grad, &a->dkc, &a->q,
                                       &vit->keys->value, B, d->M, d->Cf, err));
    }
    return LPT_OK;
}

LptStatus lpt_vit_set_feature_dropout(LptVit *vit, float p, uint64_t seed, uint32_t step,
                                      LptError *err)
{
    if (!vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit: NULL model");
    if (!(p >= 0.0f && p < 1.0f))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit: feature dropout %g is outside [0, 1)", (double)p);
    vit->dropout = (LptDropoutParams){0, 0, p, seed, step};
    return LPT_OK;
}

LptStatus lpt_vit_backward(LptVit *vit, const LptTensor *dlogits, float key_scale,
                           LptError *err)
{
    if (!vit || !dlogits)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "vit backward: NULL argument");
    Acts *a = &vit->a;
    if (!vit->have_forward || !a->train)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit backward: no training forward to backpropagate");
    if (!vit->head)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit backward: the model has no head (classes is 0); "
                             "backpropagate its features instead");
    const Dims *d = &vit->d;
    LptBackend *be = vit->be;
    int B = a->batch;
    LptVitMode mode = a->mode;
    bool plain = mode == LPT_VIT_PLAIN;
    LPT_TRY(lpt_op_cosine_backward(be, plain ? NULL : &a->df, &vit->head->grad, dlogits,
                                   a->dropped ? &a->fd : &a->f, &vit->head->value, B, d->K, d->Cf,
                                   err));
    if (plain)
        return LPT_OK;
    if (a->dropped) { /* the same mask on the gradient, in place */
        LptDropoutParams dp = vit->dropout;
        dp.rows = B;
        dp.cols = d->Cf;
        LPT_TRY(lpt_op_dropout_backward(be, &a->df, &a->df, &dp, err));
    }
    return backbone_backward(vit, &a->df, key_scale, err);
}

LptStatus lpt_vit_backward_features(LptVit *vit, const LptTensor *dfeatures, LptError *err)
{
    if (!vit || !dfeatures)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit backward: NULL argument");
    Acts *a = &vit->a;
    if (!vit->have_forward || !a->train || a->mode == LPT_VIT_PLAIN)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit backward: no training forward beyond the head to "
                             "backpropagate");
    if (dfeatures->count < (size_t)a->batch * vit->d.Cf)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit backward: feature gradient '%s' has %zu values, the batch "
                             "needs %d x %d",
                             dfeatures->name ? dfeatures->name : "?", dfeatures->count, a->batch,
                             vit->d.Cf);
    return backbone_backward(vit, dfeatures, 0.0f, err);
}

/* ---- results ---------------------------------------------------------------------------- */

static const LptTensor *result(const LptVit *vit, const LptTensor *t)
{
    return vit && vit->have_forward && t->arena ? t : NULL;
}

const LptTensor *lpt_vit_features(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.f) : NULL;
}

const LptTensor *lpt_vit_logits(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.logits) : NULL;
}

const LptTensor *lpt_vit_query(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.q) : NULL;
}

const LptTensor *lpt_vit_selection(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.s.sel_idx) : NULL;
}

const LptTensor *lpt_vit_selection_cos(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.sel_cos) : NULL;
}

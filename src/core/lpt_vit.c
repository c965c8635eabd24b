/* lpt_vit.c: the ViT expert's tensors, activation layout and forward/backward graphs, written
 * once over the ops of lpt_ops.h so both backends run the same code. See lpt_vit.h for the
 * model, the tensor names and the memory figures.
 *
 * Activations (one arena, carved afresh by every forward): scratch buffers reused by every
 * layer that keeps nothing (three residual streams, so a protected one -- the branch point of
 * phase 2 -- survives while two others alternate), one LayerAct per layer that backward will
 * visit (what its backward reads), the head's tensors, and the backward's own scratch. The
 * same carving code counts bytes for lpt_vit_activation_bytes, so the two always agree.
 */
#include "lpt_vit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_ops.h"
#include "lpt_rng.h"

#define NAME_MAX_LEN 48

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

typedef struct VitTensor {
    char name[NAME_MAX_LEN];
    size_t count;
    LptTensor value;
    LptTensor grad; /* trainable tensors, and backbone ones with train_backbone */
    bool trainable;
    bool set;       /* frozen: uploaded at least once */
} VitTensor;

typedef struct Block {
    VitTensor *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    VitTensor *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    VitTensor *prompt;                                /* P > 0 */
    VitTensor *down_w, *down_b, *up_w, *up_b, *scale; /* R > 0 */
    VitTensor *pool;                                  /* group layers when M > 0 */
} Block;

/* What one layer's forward writes and, for a trained layer, its backward reads. Q rows:
 * T, or 1 in the last layer, where only the class token's output is used (its queries,
 * projection, MLP and adapter run on that row alone; keys and values on all rows). */
typedef struct LayerAct {
    LptTensor x_in;          /* [B, T, C] the layer's input (a view set by the forward) */
    LptTensor x_out;         /* [B, Q, C] trained layers: the output, owned */
    LptTensor mean1, rstd1;  /* [B T] LN1 statistics */
    LptTensor qkv;           /* [B, S, 3C] q, k, v of image rows, then prompt k, v rows */
    LptTensor o, lse;        /* [B, Q, C] attention output, [B, H, Q] its log-sum-exp */
    LptTensor h;             /* [B, Q, C] x + attention branch */
    LptTensor a2;            /* [B, Q, C] LN2(h) */
    LptTensor mean2, rstd2;  /* [B Q] */
    LptTensor u;             /* [B, Q, MLP] FC1 output (activation input) */
    LptTensor d, r, e;       /* adapter: [B Q, R] down, ReLU(down), [B Q, C] up */
    LptTensor pmean, prstd;  /* [P] LN1 statistics of the shared prompts */
    LptTensor gp;            /* [B, P, C] group prompts of this layer */
    LptTensor gmean, grstd;  /* [B P] their LN1 statistics */
} LayerAct;

typedef struct Acts {
    int batch;
    LptVitMode mode;
    bool train;
    LptTensor patches;       /* [B N, 3 p p] */
    LptTensor xs[3];         /* [B, T, C] scratch residual streams */
    LptTensor lnm, lnr;      /* [B T] ln_pre statistics (CLIP) */
    LptTensor a1, tmp;       /* [B, T, C] LN1 output, projection output */
    LptTensor xc;            /* [B, C] the last layer's input class-token rows */
    LptTensor g;             /* [B, T, MLP] activation output */
    LptTensor lnp, lgp;      /* [P, C] LN1(prompt), [B P, C] LN1(group prompt) */
    LayerAct scratch;        /* for layers that keep nothing */
    LptTensor cls_idx;       /* [B] i32: b T, the class-token rows */
    LptTensor cls;           /* [B, C] the last layer's output (a view set by the forward) */
    LptTensor fmean, frstd, fl, f, logits; /* [B], [B], [B, C] final LN, [B, C'], [B, K] */
    LptTensor qfmean, qfrstd, qfl, q;      /* the query pass's head (phase 2) */
    LptTensor kcos, sel_cos, sel_idx;           /* [B, M], [B, k], [B, k] i32 */
    /* backward scratch */
    LptTensor df, dfl;                         /* [B, C'], [B, C] */
    LptTensor dx, dh, da, dtmp, de;            /* [B, T, C] */
    LptTensor dg, du;                          /* [B, T, MLP] */
    LptTensor dd, dr;                          /* [B T, R] */
    LptTensor dqkv;                            /* [B, S, 3C] */
    LptTensor ones;                            /* [B] of 1.0 */
    LptTensor patch_idx;                       /* [B N] i32: b T + 1 + n, the patch rows */
    LptTensor dkvsum, dlnp, dptmp;             /* [P, 2C], [P, C], [P, C] */
    LptTensor dlgp, dgp;                       /* [B P, C] */
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

static size_t aligned_bytes(size_t count, LptDType dtype)
{
    size_t b = count * lpt_dtype_size(dtype);
    return (b + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
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
        size_t b = aligned_bytes(v->tensors[i].count, LPT_F32);
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

/* A standard normal draw (Box-Muller). */
static double normal(LptRng *rng)
{
    double u1 = 1.0 - (double)lpt_rng_float(rng); /* (0, 1] */
    double u2 = (double)lpt_rng_float(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A standard normal draw cut at +-2 (redrawn outside). */
static double trunc_normal(LptRng *rng)
{
    for (;;) {
        double z = normal(rng);
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
                    row[j] = (float)normal(&rng);
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
                x = 1e-6 * normal(&rng);
            else if (strcmp(n, "proj") == 0)
                x = normal(&rng) / sqrt((double)vit->d.C);
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

/* Carves tensors out of an arena, or (arena NULL) only counts the bytes they need. */
typedef struct Carver {
    LptArena *arena;
    size_t bytes;
    LptStatus st;
    LptError *err;
} Carver;

static void carve(Carver *c, LptTensor *t, const char *name, LptDType dtype, size_t count)
{
    memset(t, 0, sizeof *t);
    if (c->st != LPT_OK || count == 0)
        return;
    c->bytes += aligned_bytes(count, dtype);
    if (c->arena)
        c->st = lpt_arena_alloc(c->arena, t, name, dtype, count, c->err);
}

/* The tensors of one layer with S keys and Q query rows per image; `keep_out` for trained
 * layers. */
static void layout_layer(Carver *c, LayerAct *A, const Dims *d, int B, int S, int Q,
                         bool prompts, bool group, bool keep_out)
{
    size_t BT = (size_t)B * d->T, BQ = (size_t)B * Q, BQC = BQ * d->C;
    memset(A, 0, sizeof *A);
    if (keep_out)
        carve(c, &A->x_out, "act.x", LPT_F32, BQC);
    carve(c, &A->mean1, "act.ln1.mean", LPT_F32, BT);
    carve(c, &A->rstd1, "act.ln1.rstd", LPT_F32, BT);
    carve(c, &A->qkv, "act.qkv", LPT_F32, (size_t)B * S * 3 * d->C);
    carve(c, &A->o, "act.attn", LPT_F32, BQC);
    carve(c, &A->lse, "act.lse", LPT_F32, BQ * d->H);
    carve(c, &A->h, "act.h", LPT_F32, BQC);
    carve(c, &A->a2, "act.ln2", LPT_F32, BQC);
    carve(c, &A->mean2, "act.ln2.mean", LPT_F32, BQ);
    carve(c, &A->rstd2, "act.ln2.rstd", LPT_F32, BQ);
    carve(c, &A->u, "act.fc1", LPT_F32, BQ * d->mlp);
    if (d->R > 0) {
        carve(c, &A->d, "act.adapter.down", LPT_F32, BQ * d->R);
        carve(c, &A->r, "act.adapter.relu", LPT_F32, BQ * d->R);
        carve(c, &A->e, "act.adapter.up", LPT_F32, BQC);
    }
    if (prompts) {
        carve(c, &A->pmean, "act.prompt.mean", LPT_F32, (size_t)d->P);
        carve(c, &A->prstd, "act.prompt.rstd", LPT_F32, (size_t)d->P);
    }
    if (group) {
        carve(c, &A->gp, "act.group", LPT_F32, (size_t)B * d->P * d->C);
        carve(c, &A->gmean, "act.group.mean", LPT_F32, (size_t)B * d->P);
        carve(c, &A->grstd, "act.group.rstd", LPT_F32, (size_t)B * d->P);
    }
}

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

/* Lays out (or counts) every activation of a forward of B images in `mode`. saved: [L] or
 * NULL when only counting. */
static void layout_acts(Carver *c, Acts *a, LayerAct *saved, const Dims *d, bool clip, int B,
                        LptVitMode mode, bool train)
{
    size_t BT = (size_t)B * d->T, BTC = BT * d->C;
    bool prompts = mode_extras(mode) && d->P > 0, group = mode == LPT_VIT_PHASE2;
    bool adapters = mode_extras(mode) && d->R > 0;
    int s_layer = d->T + (prompts ? d->P : 0), s_max = s_layer + (group ? d->P : 0);
    int first = first_trained(d, mode, train);
    memset(a, 0, sizeof *a);
    a->batch = B;
    a->mode = mode;
    a->train = train;

    carve(c, &a->patches, "act.patches", LPT_F32, (size_t)B * d->N * d->row);
    for (int i = 0; i < 3; i++)
        carve(c, &a->xs[i], "act.stream", LPT_F32, BTC);
    if (clip) {
        carve(c, &a->lnm, "act.ln_pre.mean", LPT_F32, BT);
        carve(c, &a->lnr, "act.ln_pre.rstd", LPT_F32, BT);
    }
    carve(c, &a->a1, "act.ln1", LPT_F32, BTC);
    carve(c, &a->tmp, "act.proj", LPT_F32, BTC);
    carve(c, &a->xc, "act.x_cls", LPT_F32, (size_t)B * d->C);
    carve(c, &a->g, "act.mlp", LPT_F32, BT * d->mlp);
    if (prompts)
        carve(c, &a->lnp, "act.prompt.ln1", LPT_F32, (size_t)d->P * d->C);
    if (group)
        carve(c, &a->lgp, "act.group.ln1", LPT_F32, (size_t)B * d->P * d->C);
    if (first > 0 || group) /* some layer keeps nothing (phase 2: also the query pass) */
        layout_layer(c, &a->scratch, d, B, s_max, d->T, prompts, group, false);

    carve(c, &a->cls_idx, "act.cls_index", LPT_I32, (size_t)B);
    carve(c, &a->fmean, "act.norm.mean", LPT_F32, (size_t)B);
    carve(c, &a->frstd, "act.norm.rstd", LPT_F32, (size_t)B);
    carve(c, &a->fl, "act.norm", LPT_F32, (size_t)B * d->C);
    if (clip)
        carve(c, &a->f, "act.feature", LPT_F32, (size_t)B * d->Cf);
    else
        a->f = a->fl;
    if (d->K > 0)
        carve(c, &a->logits, "act.logits", LPT_F32, (size_t)B * d->K);
    if (group) {
        carve(c, &a->qfmean, "act.query.mean", LPT_F32, (size_t)B);
        carve(c, &a->qfrstd, "act.query.rstd", LPT_F32, (size_t)B);
        carve(c, &a->qfl, "act.query.norm", LPT_F32, (size_t)B * d->C);
        if (clip)
            carve(c, &a->q, "act.query", LPT_F32, (size_t)B * d->Cf);
        else
            a->q = a->qfl;
        carve(c, &a->kcos, "act.key_cos", LPT_F32, (size_t)B * d->M);
        carve(c, &a->sel_cos, "act.selection_cos", LPT_F32, (size_t)B * d->topk);
        carve(c, &a->sel_idx, "act.selection", LPT_I32, (size_t)B * d->topk);
    }

    LayerAct dummy;
    for (int i = first; i < d->L; i++) {
        bool g = group && i >= d->G;
        layout_layer(c, saved ? &saved[i] : &dummy, d, B, s_layer + (g ? d->P : 0),
                     i == d->L - 1 ? 1 : d->T, prompts, g, true);
    }
    if (!train)
        return;
    carve(c, &a->df, "act.d_feature", LPT_F32, (size_t)B * d->Cf);
    if (mode == LPT_VIT_PLAIN)
        return;
    if (clip)
        carve(c, &a->dfl, "act.d_norm", LPT_F32, (size_t)B * d->C);
    else
        a->dfl = a->df;
    carve(c, &a->dx, "act.d_x", LPT_F32, BTC);
    carve(c, &a->dh, "act.d_h", LPT_F32, BTC);
    carve(c, &a->da, "act.d_ln", LPT_F32, BTC);
    carve(c, &a->dtmp, "act.d_tmp", LPT_F32, BTC);
    carve(c, &a->dg, "act.d_mlp", LPT_F32, BT * d->mlp);
    carve(c, &a->du, "act.d_fc1", LPT_F32, BT * d->mlp);
    carve(c, &a->dqkv, "act.d_qkv", LPT_F32, (size_t)B * s_max * 3 * d->C);
    if (adapters) {
        carve(c, &a->de, "act.d_adapter.up", LPT_F32, BTC);
        carve(c, &a->dd, "act.d_adapter.down", LPT_F32, BT * d->R);
        carve(c, &a->dr, "act.d_adapter.relu", LPT_F32, BT * d->R);
    }
    if (mode == LPT_VIT_FULL) {
        carve(c, &a->ones, "act.ones", LPT_F32, (size_t)B);
        carve(c, &a->patch_idx, "act.patch_index", LPT_I32, (size_t)B * d->N);
    }
    if (prompts && mode == LPT_VIT_PHASE1) {
        carve(c, &a->ones, "act.ones", LPT_F32, (size_t)B);
        carve(c, &a->dkvsum, "act.d_prompt.kv", LPT_F32, (size_t)d->P * 2 * d->C);
        carve(c, &a->dlnp, "act.d_prompt.ln1", LPT_F32, (size_t)d->P * d->C);
        carve(c, &a->dptmp, "act.d_prompt", LPT_F32, (size_t)d->P * d->C);
    }
    if (group) {
        carve(c, &a->dlgp, "act.d_group.ln1", LPT_F32, (size_t)B * d->P * d->C);
        carve(c, &a->dgp, "act.d_group", LPT_F32, (size_t)B * d->P * d->C);
        carve(c, &a->dkc, "act.d_key_cos", LPT_F32, (size_t)B * d->M);
    }
}

size_t lpt_vit_activation_bytes(const LptVitConfig *cfg, int batch, LptVitMode mode,
                                bool train)
{
    if (lpt_vit_config_check(cfg, NULL) != LPT_OK || batch < 1 || mode < LPT_VIT_PLAIN ||
        mode > LPT_VIT_FULL)
        return 0;
    Dims d = dims_of(cfg);
    Carver c = {NULL, 0, LPT_OK, NULL};
    Acts a;
    layout_acts(&c, &a, NULL, &d, cfg->clip_style, batch, mode, train);
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
    Carver c = {v->acts_arena, 0, LPT_OK, err};
    layout_acts(&c, &v->a, v->saved, &v->d, v->cfg.clip_style, B, mode, train);
    if (c.st != LPT_OK)
        return c.st;
    const Dims *d = &v->d;
    int32_t *idx = malloc((size_t)B * (d->N > 1 ? d->N : 1) * sizeof *idx);
    if (!idx)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "vit: out of host memory");
    for (int b = 0; b < B; b++)
        idx[b] = b * d->T;
    LptStatus st = lpt_tensor_upload(&v->a.cls_idx, idx, err);
    if (st == LPT_OK && v->a.patch_idx.arena) {
        for (int b = 0; b < B; b++)
            for (int n = 0; n < d->N; n++)
                idx[b * d->N + n] = b * d->T + 1 + n;
        st = lpt_tensor_upload(&v->a.patch_idx, idx, err);
    }
    free(idx);
    if (st == LPT_OK && v->a.ones.arena)
        st = lpt_tensor_fill_u32(&v->a.ones, 0x3f800000u, err); /* 1.0f */
    return st;
}

/* ---- forward ---------------------------------------------------------------------------- */

#define CHECK(call)                                                                            \
    do {                                                                                       \
        LptStatus s_ = (call);                                                                 \
        if (s_ != LPT_OK)                                                                      \
            return s_;                                                                         \
    } while (0)

/* t from element `first` to its end. */
static LptTensor from(const LptTensor *t, size_t first)
{
    return lpt_tensor_view(t, first, t->count - first);
}

/* out[rows, n_out] = in[rows, n_in] W^T + bias (+ beta out), W [n_out, n_in]. */
static LptStatus linear(LptBackend *be, const LptTensor *out, const LptTensor *in,
                        const VitTensor *w, const VitTensor *bias, size_t rows, int n_out,
                        int n_in, float beta, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_out, n_in, false, true);
    s.beta = beta;
    return lpt_op_gemm_forward(be, out, in, &w->value, bias ? &bias->value : NULL, &s, err);
}

/* din[rows, n_in] = dout[rows, n_out] W (+ beta din): the input gradient of `linear`. */
static LptStatus linear_din(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                            const VitTensor *w, size_t rows, int n_out, int n_in, float beta,
                            LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_in, n_out, false, false);
    s.beta = beta;
    return lpt_op_gemm_forward(be, din, dout, &w->value, NULL, &s, err);
}

/* Attention of Q queries over S keys in a [B, S, 3C] qkv buffer (output [B, Q, C]). */
static LptAttentionShape attn_shape(const Dims *d, int B, int Q, int S)
{
    LptAttentionShape s;
    lpt_attention_shape_init(&s, B, d->H, d->D, Q, S);
    s.ld_q = s.ld_kv = 3 * d->C;
    s.bs_q = s.bs_kv = (int64_t)S * 3 * d->C;
    return s;
}

/* Writes the k, v columns of rows row .. row + P - 1 of each image's qkv rows from the
 * LN1-normalised prompts ln: [P, C] shared by every image (stride_a 0) or [B, P, C]
 * (stride_a P C). */
static LptStatus prompt_kv(LptVit *v, const Block *blk, const LptTensor *qkv,
                           const LptTensor *ln, int64_t stride_a, int row, int S, LptError *err)
{
    const Dims *d = &v->d;
    int C = d->C;
    LptGemmShape s;
    lpt_gemm_shape_init(&s, d->P, 2 * C, C, false, true);
    s.ldc = 3 * C;
    s.batch = v->a.batch;
    s.stride_a = stride_a;
    s.stride_c = (int64_t)S * 3 * C;
    LptTensor wkv = lpt_tensor_view(&blk->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
    LptTensor bkv = lpt_tensor_view(&blk->qkv_b->value, (size_t)C, (size_t)2 * C);
    LptTensor dst = from(qkv, (size_t)row * 3 * C + C);
    return lpt_op_gemm_forward(v->be, &dst, ln, &wkv, &bkv, &s, err);
}

/* One block: x_out = block_i(x_in) with the prompts / adapter / group prompt as asked. A
 * receives what backward needs (or scratch). The last block computes the class-token row
 * only (x_out is then [B, C]): keys and values of every row, the query, projection, MLP and
 * adapter of row 0. */
static LptStatus layer_forward(LptVit *v, int i, LayerAct *A, const LptTensor *x_in,
                               const LptTensor *x_out, bool prompts, bool adapter, bool group,
                               LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    const Block *blk = &v->blocks[i];
    LptBackend *be = v->be;
    bool last = i == d->L - 1;
    int B = a->batch, C = d->C, S = d->T + (prompts ? d->P : 0) + (group ? d->P : 0);
    int Q = last ? 1 : d->T;
    size_t BT = (size_t)B * d->T, rows = (size_t)B * Q, n = rows * C;
    float eps = v->cfg.eps;
    A->x_in = *x_in;

    CHECK(lpt_op_layernorm_forward(be, &a->a1, &A->mean1, &A->rstd1, x_in, &blk->ln1_w->value,
                                   &blk->ln1_b->value, (int)BT, C, eps, err));
    /* q of the Q query rows, k and v of all T rows: [B, S, 3C] rows 0..T-1 */
    LptGemmShape s;
    lpt_gemm_shape_init(&s, Q, last ? C : 3 * C, C, false, true);
    s.ldc = 3 * C;
    s.batch = B;
    s.stride_a = (int64_t)d->T * C;
    s.stride_c = (int64_t)S * 3 * C;
    CHECK(lpt_op_gemm_forward(be, &A->qkv, &a->a1, &blk->qkv_w->value, &blk->qkv_b->value, &s,
                              err));
    if (last) {
        LptTensor wkv = lpt_tensor_view(&blk->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
        LptTensor bkv = lpt_tensor_view(&blk->qkv_b->value, (size_t)C, (size_t)2 * C);
        LptTensor kv = from(&A->qkv, (size_t)C);
        s.m = d->T;
        s.n = 2 * C;
        CHECK(lpt_op_gemm_forward(be, &kv, &a->a1, &wkv, &bkv, &s, err));
    }
    int row = d->T;
    if (prompts) {
        CHECK(lpt_op_layernorm_forward(be, &a->lnp, &A->pmean, &A->prstd, &blk->prompt->value,
                                       &blk->ln1_w->value, &blk->ln1_b->value, d->P, C, eps,
                                       err));
        CHECK(prompt_kv(v, blk, &A->qkv, &a->lnp, 0, row, S, err));
        row += d->P;
    }
    if (group) {
        CHECK(lpt_op_gather_mean_forward(be, &A->gp, &blk->pool->value, &a->sel_idx, B, d->topk,
                                         d->M, d->P * C, err));
        CHECK(lpt_op_layernorm_forward(be, &a->lgp, &A->gmean, &A->grstd, &A->gp,
                                       &blk->ln1_w->value, &blk->ln1_b->value, B * d->P, C, eps,
                                       err));
        CHECK(prompt_kv(v, blk, &A->qkv, &a->lgp, (int64_t)d->P * C, row, S, err));
    }
    LptAttentionShape as = attn_shape(d, B, Q, S);
    LptTensor k = from(&A->qkv, (size_t)C), vv = from(&A->qkv, (size_t)2 * C);
    CHECK(lpt_op_attention_forward(be, &A->o, &A->lse, &A->qkv, &k, &vv, &as, err));
    CHECK(linear(be, &a->tmp, &A->o, blk->proj_w, blk->proj_b, rows, C, C, 0.0f, err));
    const LptTensor *res = x_in;
    if (last) { /* the residual of the class-token rows */
        CHECK(lpt_op_gather_mean_forward(be, &a->xc, x_in, &a->cls_idx, B, 1, (int)BT, C, err));
        res = &a->xc;
    }
    CHECK(lpt_op_add_forward(be, &A->h, res, &a->tmp, 1.0f, n, err));

    CHECK(lpt_op_layernorm_forward(be, &A->a2, &A->mean2, &A->rstd2, &A->h, &blk->ln2_w->value,
                                   &blk->ln2_b->value, (int)rows, C, eps, err));
    CHECK(linear(be, &A->u, &A->a2, blk->fc1_w, blk->fc1_b, rows, d->mlp, C, 0.0f, err));
    size_t n_mlp = rows * d->mlp;
    if (v->cfg.act == LPT_VIT_ACT_QUICK_GELU)
        CHECK(lpt_op_quick_gelu_forward(be, &a->g, &A->u, n_mlp, err));
    else
        CHECK(lpt_op_gelu_forward(be, &a->g, &A->u, n_mlp, err));
    CHECK(linear(be, x_out, &a->g, blk->fc2_w, blk->fc2_b, rows, C, d->mlp, 0.0f, err));
    CHECK(lpt_op_add_forward(be, x_out, x_out, &A->h, 1.0f, n, err));
    if (adapter) {
        CHECK(linear(be, &A->d, &A->a2, blk->down_w, blk->down_b, rows, d->R, C, 0.0f, err));
        CHECK(lpt_op_relu_forward(be, &A->r, &A->d, rows * d->R, err));
        CHECK(linear(be, &A->e, &A->r, blk->up_w, blk->up_b, rows, C, d->R, 0.0f, err));
        CHECK(lpt_op_scaled_add_forward(be, x_out, x_out, &A->e, &blk->scale->value, n, err));
    }
    return LPT_OK;
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
        CHECK(layer_forward(v, i, A, &x->x, &out.x, prompts, adapter, group && i >= v->d.G,
                            err));
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
    CHECK(lpt_op_layernorm_forward(v->be, fl, mean, rstd, cls, &v->norm_w->value,
                                   &v->norm_b->value, B, d->C, v->cfg.eps, err));
    if (v->cfg.clip_style)
        CHECK(linear(v->be, f, fl, v->proj, NULL, (size_t)B, d->Cf, d->C, 0.0f, err));
    return LPT_OK;
}

/* Patch embedding, class token, positions (and CLIP's ln_pre) into a scratch stream. */
static LptStatus embed(LptVit *v, const LptTensor *images, Stream *x, LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    int B = a->batch, C = d->C;
    CHECK(lpt_op_patchify_forward(v->be, &a->patches, images, B, 3, d->img, d->img, d->p, err));
    LptGemmShape s;
    lpt_gemm_shape_init(&s, d->N, C, d->row, false, true);
    s.batch = B;
    s.stride_a = (int64_t)d->N * d->row;
    s.stride_c = (int64_t)d->T * C;
    LptTensor rows = from(&a->xs[0], (size_t)C); /* patch rows 1..N of each image */
    CHECK(lpt_op_gemm_forward(v->be, &rows, &a->patches, &v->patch_w->value,
                              v->patch_b ? &v->patch_b->value : NULL, &s, err));
    CHECK(lpt_op_embed_forward(v->be, &a->xs[0], &v->cls->value, &v->pos->value, B, d->T, C,
                               err));
    *x = (Stream){a->xs[0], 0};
    if (v->cfg.clip_style) {
        CHECK(lpt_op_layernorm_forward(v->be, &a->xs[1], &a->lnm, &a->lnr, &a->xs[0],
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
    if (train && d->K == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "vit forward: training needs a head (classes is 0)");
    for (int i = 0; i < vit->n_tensors; i++)
        if (!vit->tensors[i].trainable && !vit->tensors[i].set)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "vit forward: frozen tensor '%s' was never set",
                                 vit->tensors[i].name);
    vit->have_forward = false;
    CHECK(prepare_acts(vit, batch, mode, train, err));
    Acts *a = &vit->a;
    Stream x;
    CHECK(embed(vit, images, &x, err));
    if (mode != LPT_VIT_PHASE2) {
        CHECK(run_layers(vit, 0, d->L, &x, -1, false, err));
    } else {
        CHECK(run_layers(vit, 0, d->G, &x, -1, false, err));
        Stream q = x; /* the query pass branches off here; x (slot x.slot) stays intact */
        CHECK(run_layers(vit, d->G, d->L, &q, x.slot, false, err));
        CHECK(head_features(vit, &q.x, &a->qfmean, &a->qfrstd, &a->qfl, &a->q, err));
        CHECK(lpt_op_cosine_forward(vit->be, &a->kcos, &a->q, &vit->keys->value, batch, d->M,
                                    d->Cf, err));
        CHECK(lpt_op_topk_forward(vit->be, &a->sel_cos, &a->sel_idx, &a->kcos, batch, d->M,
                                  d->topk, err));
        CHECK(run_layers(vit, d->G, d->L, &x, -1, true, err));
    }
    a->cls = x.x;
    CHECK(head_features(vit, &a->cls, &a->fmean, &a->frstd, &a->fl, &a->f, err));
    if (d->K > 0)
        CHECK(lpt_op_cosine_forward(vit->be, &a->logits, &a->f, &vit->head->value, batch, d->K,
                                    d->Cf, err));
    vit->have_forward = true;
    return LPT_OK;
}

/* ---- backward --------------------------------------------------------------------------- */

/* dW += dout^T in and db += column sums of dout (b may be NULL): the parameter gradients of
 * `linear`, with dout packed [rows, n_out] and in [rows, n_in]. */
static LptStatus linear_dw(LptBackend *be, const VitTensor *w, const VitTensor *b,
                           const LptTensor *dout, const LptTensor *in, size_t rows, int n_out,
                           int n_in, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_out, n_in, false, true);
    return lpt_op_gemm_backward(be, NULL, &w->grad, b ? &b->grad : NULL, dout, in, &w->value, &s,
                                err);
}

/* The gradient of t when `on` (backbone training), else NULL (frozen). */
static const LptTensor *grad_if(const VitTensor *t, bool on)
{
    return on ? &t->grad : NULL;
}

/* Backward of block i: a->dx holds dL/dx_out on entry ([B, C] for the last block) and dL/dx_in
 * on return (when need_dx).
 * train_shared: accumulate prompt and adapter gradients (phase 1); group: the layer had
 * group prompts, whose pool gradients are accumulated; full: accumulate the block's own
 * weight gradients (LPT_VIT_FULL: no prompts, adapters or groups, so S = T). Activations
 * that the forward kept in scratch (the LN1 and GELU outputs) are recomputed for them. */
static LptStatus layer_backward(LptVit *v, int i, bool prompts, bool adapter, bool group,
                                bool train_shared, bool full, bool need_dx, LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    const LayerAct *A = &v->saved[i];
    const Block *blk = &v->blocks[i];
    LptBackend *be = v->be;
    bool last = i == d->L - 1;
    int B = a->batch, C = d->C, S = d->T + (prompts ? d->P : 0) + (group ? d->P : 0);
    int Q = last ? 1 : d->T;
    size_t BT = (size_t)B * d->T, rows = (size_t)B * Q, n = rows * C;

    if (adapter) { /* x_out += s Up(ReLU(Down(a2))) */
        CHECK(lpt_op_scaled_add_backward(be, &a->de, train_shared ? &blk->scale->grad : NULL,
                                         &a->dx, &A->e, &blk->scale->value, n, err));
        LptGemmShape su;
        lpt_gemm_shape_init(&su, (int)rows, C, d->R, false, true);
        CHECK(lpt_op_gemm_backward(be, &a->dr, train_shared ? &blk->up_w->grad : NULL,
                                   train_shared ? &blk->up_b->grad : NULL, &a->de, &A->r,
                                   &blk->up_w->value, &su, err));
        CHECK(lpt_op_relu_backward(be, &a->dd, &a->dr, &A->d, rows * d->R, err));
        LptGemmShape sd;
        lpt_gemm_shape_init(&sd, (int)rows, d->R, C, false, true);
        CHECK(lpt_op_gemm_backward(be, &a->da, train_shared ? &blk->down_w->grad : NULL,
                                   train_shared ? &blk->down_b->grad : NULL, &a->dd, &A->a2,
                                   &blk->down_w->value, &sd, err));
    }
    /* MLP: da (+)= act'(u) (dx W2) W1 */
    size_t n_mlp = rows * d->mlp;
    bool quick = v->cfg.act == LPT_VIT_ACT_QUICK_GELU;
    if (full) { /* FC2's input act(u), recomputed */
        CHECK(quick ? lpt_op_quick_gelu_forward(be, &a->g, &A->u, n_mlp, err)
                    : lpt_op_gelu_forward(be, &a->g, &A->u, n_mlp, err));
        CHECK(linear_dw(be, blk->fc2_w, blk->fc2_b, &a->dx, &a->g, rows, C, d->mlp, err));
    }
    CHECK(linear_din(be, &a->dg, &a->dx, blk->fc2_w, rows, C, d->mlp, 0.0f, err));
    if (quick)
        CHECK(lpt_op_quick_gelu_backward(be, &a->du, &a->dg, &A->u, n_mlp, err));
    else
        CHECK(lpt_op_gelu_backward(be, &a->du, &a->dg, &A->u, n_mlp, err));
    if (full)
        CHECK(linear_dw(be, blk->fc1_w, blk->fc1_b, &a->du, &A->a2, rows, d->mlp, C, err));
    CHECK(linear_din(be, &a->da, &a->du, blk->fc1_w, rows, d->mlp, C, adapter ? 1.0f : 0.0f,
                     err));
    CHECK(lpt_op_layernorm_backward(be, &a->dtmp, grad_if(blk->ln2_w, full),
                                    grad_if(blk->ln2_b, full), &a->da, &A->h, &A->mean2,
                                    &A->rstd2, &blk->ln2_w->value, (int)rows, C, err));
    CHECK(lpt_op_add_forward(be, &a->dh, &a->dx, &a->dtmp, 1.0f, n, err));

    /* attention branch */
    if (full)
        CHECK(linear_dw(be, blk->proj_w, blk->proj_b, &a->dh, &A->o, rows, C, C, err));
    CHECK(linear_din(be, &a->da, &a->dh, blk->proj_w, rows, C, C, 0.0f, err));
    LptAttentionShape as = attn_shape(d, B, Q, S);
    LptTensor k = from(&A->qkv, (size_t)C), vv = from(&A->qkv, (size_t)2 * C);
    LptTensor dk = from(&a->dqkv, (size_t)C), dv = from(&a->dqkv, (size_t)2 * C);
    if (full && last) /* dq of the rows after the class token stays zero for dW_qkv */
        CHECK(lpt_tensor_fill_u32(&a->dqkv, 0, err));
    CHECK(lpt_op_attention_backward(be, &a->dqkv, &dk, &dv, &a->da, &A->qkv, &k, &vv, &A->o,
                                    &A->lse, &as, err));
    if (full) { /* LN1's output, recomputed (the same statistics are written again) */
        CHECK(lpt_op_layernorm_forward(be, &a->a1, &A->mean1, &A->rstd1, &A->x_in,
                                       &blk->ln1_w->value, &blk->ln1_b->value, (int)BT, C,
                                       v->cfg.eps, err));
        CHECK(linear_dw(be, blk->qkv_w, blk->qkv_b, &a->dqkv, &a->a1, BT, 3 * C, C, err));
    }
    LptTensor wkv = lpt_tensor_view(&blk->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
    int row = d->T;
    if (prompts) {
        if (train_shared) {
            /* sum over images of the prompt rows' dk, dv: ones[1, B] x rows (one GEMM per
             * prompt row p, batch P), then through W_kv and LN1 */
            LptGemmShape s1;
            lpt_gemm_shape_init(&s1, 1, 2 * C, B, false, false);
            s1.ldb = S * 3 * C;
            s1.batch = d->P;
            s1.stride_b = 3 * C;
            s1.stride_c = 2 * C;
            LptTensor src = from(&a->dqkv, (size_t)row * 3 * C + C);
            CHECK(lpt_op_gemm_forward(be, &a->dkvsum, &a->ones, &src, NULL, &s1, err));
            LptGemmShape s2;
            lpt_gemm_shape_init(&s2, d->P, C, 2 * C, false, false);
            CHECK(lpt_op_gemm_forward(be, &a->dlnp, &a->dkvsum, &wkv, NULL, &s2, err));
            CHECK(lpt_op_layernorm_backward(be, &a->dptmp, NULL, NULL, &a->dlnp,
                                            &blk->prompt->value, &A->pmean, &A->prstd,
                                            &blk->ln1_w->value, d->P, C, err));
            CHECK(lpt_op_add_forward(be, &blk->prompt->grad, &blk->prompt->grad, &a->dptmp,
                                     1.0f, (size_t)d->P * C, err));
        }
        row += d->P;
    }
    if (group) {
        LptGemmShape s3;
        lpt_gemm_shape_init(&s3, d->P, C, 2 * C, false, false);
        s3.lda = 3 * C;
        s3.batch = B;
        s3.stride_a = (int64_t)S * 3 * C;
        s3.stride_c = (int64_t)d->P * C;
        LptTensor src = from(&a->dqkv, (size_t)row * 3 * C + C);
        CHECK(lpt_op_gemm_forward(be, &a->dlgp, &src, &wkv, NULL, &s3, err));
        CHECK(lpt_op_layernorm_backward(be, &a->dgp, NULL, NULL, &a->dlgp, &A->gp, &A->gmean,
                                        &A->grstd, &blk->ln1_w->value, B * d->P, C, err));
        CHECK(lpt_op_gather_mean_backward(be, &blk->pool->grad, &a->dgp, &a->sel_idx, B,
                                          d->topk, d->M, d->P * C, err));
    }
    if (!need_dx)
        return LPT_OK;
    /* dLN1 = dq W_q + dk W_k + dv W_v over the image rows; the last block has dq in row 0
     * only, so its k, v part runs over all rows and its q part is added to row 0 */
    LptGemmShape s4;
    lpt_gemm_shape_init(&s4, d->T, C, last ? 2 * C : 3 * C, false, false);
    s4.lda = 3 * C;
    s4.batch = B;
    s4.stride_a = (int64_t)S * 3 * C;
    s4.stride_c = (int64_t)d->T * C;
    if (last) {
        LptTensor dkv = from(&a->dqkv, (size_t)C);
        CHECK(lpt_op_gemm_forward(be, &a->da, &dkv, &wkv, NULL, &s4, err));
        s4.m = 1;
        s4.k = C;
        s4.beta = 1.0f;
    }
    CHECK(lpt_op_gemm_forward(be, &a->da, &a->dqkv, &blk->qkv_w->value, NULL, &s4, err));
    const LptTensor *dw1 = grad_if(blk->ln1_w, full), *db1 = grad_if(blk->ln1_b, full);
    if (last) { /* dx = dLN1 backward on every row, + dh on the class-token rows */
        CHECK(lpt_op_layernorm_backward(be, &a->dx, dw1, db1, &a->da, &A->x_in, &A->mean1,
                                        &A->rstd1, &blk->ln1_w->value, (int)BT, C, err));
        return lpt_op_gather_mean_backward(be, &a->dx, &a->dh, &a->cls_idx, B, 1, (int)BT, C,
                                           err);
    }
    CHECK(lpt_op_layernorm_backward(be, &a->dtmp, dw1, db1, &a->da, &A->x_in, &A->mean1,
                                    &A->rstd1, &blk->ln1_w->value, (int)BT, C, err));
    return lpt_op_add_forward(be, &a->dx, &a->dh, &a->dtmp, 1.0f, BT * C, err);
}

/* The backward of `embed` (LPT_VIT_FULL): a->dx holds dL/d(block 0's input) [B, T, C];
 * accumulates ln_pre's (CLIP), pos's, cls's and the patch embedding's gradients. */
static LptStatus embed_backward(LptVit *v, LptError *err)
{
    const Dims *d = &v->d;
    Acts *a = &v->a;
    LptBackend *be = v->be;
    int B = a->batch, C = d->C, T = d->T;
    const LptTensor *dx = &a->dx;
    if (v->cfg.clip_style) {
        CHECK(lpt_op_layernorm_backward(be, &a->dtmp, &v->ln_pre_w->grad, &v->ln_pre_b->grad,
                                        &a->dx, &a->xs[0], &a->lnm, &a->lnr,
                                        &v->ln_pre_w->value, B * T, C, err));
        dx = &a->dtmp;
    }
    /* pos += sum over images of dx, cls += the same of row 0: ones[1, B] dx */
    LptGemmShape s;
    lpt_gemm_shape_init(&s, 1, T * C, B, false, false);
    s.beta = 1.0f;
    CHECK(lpt_op_gemm_forward(be, &v->pos->grad, &a->ones, dx, NULL, &s, err));
    s.n = C;
    s.ldb = T * C;
    CHECK(lpt_op_gemm_forward(be, &v->cls->grad, &a->ones, dx, NULL, &s, err));
    /* the patch rows packed [B N, C], then the patch GEMM's weight and bias gradients */
    CHECK(lpt_op_gather_mean_forward(be, &a->da, dx, &a->patch_idx, B * d->N, 1, B * T, C,
                                     err));
    return linear_dw(be, v->patch_w, v->patch_b, &a->da, &a->patches, (size_t)B * d->N, C,
                     d->row, err);
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
    const Dims *d = &vit->d;
    LptBackend *be = vit->be;
    int B = a->batch;
    LptVitMode mode = a->mode;
    bool plain = mode == LPT_VIT_PLAIN;
    CHECK(lpt_op_cosine_backward(be, plain ? NULL : &a->df, &vit->head->grad, dlogits, &a->f,
                                 &vit->head->value, B, d->K, d->Cf, err));
    if (plain)
        return LPT_OK;
    bool full = mode == LPT_VIT_FULL;
    if (vit->cfg.clip_style) {
        if (full)
            CHECK(linear_dw(be, vit->proj, NULL, &a->df, &a->fl, (size_t)B, d->Cf, d->C, err));
        CHECK(linear_din(be, &a->dfl, &a->df, vit->proj, (size_t)B, d->Cf, d->C, 0.0f, err));
    }
    /* dx = dL/d(class-token rows of the last block's output) [B, C] */
    CHECK(lpt_op_layernorm_backward(be, &a->dx, grad_if(vit->norm_w, full),
                                    grad_if(vit->norm_b, full), &a->dfl, &a->cls, &a->fmean,
                                    &a->frstd, &vit->norm_w->value, B, d->C, err));
    bool phase2 = mode == LPT_VIT_PHASE2;
    int first = first_trained(d, mode, true);
    for (int i = d->L - 1; i >= first; i--)
        CHECK(layer_backward(vit, i, !full && d->P > 0, !full && d->R > 0,
                             phase2 && i >= d->G, !phase2 && !full, full, full || i > first,
                             err));
    if (full)
        return embed_backward(vit, err);
    if (phase2) { /* key loss: key_scale * sum_b sum_j -0.5 cos(q_b, key_sel_bj), keys only */
        CHECK(lpt_op_onehot_forward(be, &a->dkc, &a->sel_idx, B, d->M, d->topk,
                                    -0.5f * key_scale, err));
        CHECK(lpt_op_cosine_backward(be, NULL, &vit->keys->grad, &a->dkc, &a->q,
                                     &vit->keys->value, B, d->M, d->Cf, err));
    }
    return LPT_OK;
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
    return vit ? result(vit, &vit->a.sel_idx) : NULL;
}

const LptTensor *lpt_vit_selection_cos(const LptVit *vit)
{
    return vit ? result(vit, &vit->a.sel_cos) : NULL;
}

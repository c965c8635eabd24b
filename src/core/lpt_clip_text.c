/* lpt_clip_text.c: CLIP's text tower -- its tensors, activation layout, forward graph and (for
 * `lpt pretrain-clip`) backward over the ops of lpt_ops.h, its blocks being lpt_block.h's (the
 * ViT's, with the causal mask), so both backends run the same code -- and, on the host, the
 * class text embeddings and zero-shot scores built on it. See lpt_clip_text.h for the model
 * and the tensor names; the weight-file name maps are in lpt_clip_text_load.c.
 *
 * Activations (one arena, carved afresh by every forward for its B texts and T rows per text):
 * inference runs every block in one shared layer of buffers between two residual streams;
 * a training forward keeps every block's (what lpt_clip_text_backward reads). The last block
 * and the head work on the B pooled rows. The same carving code counts the bytes the arena
 * needs, so the two always agree.
 */
#include "lpt_clip_text.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_block.h"
#include "lpt_ops.h"
#include "lpt_rng.h"

/* Rows (texts x tokens) of one forward in lpt_clip_text_encode: bounds the activation arena
 * (about 19 W floats a row: 40 MB for W = 512). */
#define ROW_BUDGET 1024

/* ---- config ----------------------------------------------------------------------------- */

void lpt_clip_text_config_init(LptClipTextConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->vocab = 49408;
    cfg->context = LPT_CLIP_CONTEXT_LENGTH;
    cfg->width = 512;
    cfg->heads = 8;
    cfg->layers = 12;
    cfg->mlp = 2048;
    cfg->proj_dim = 512;
    cfg->eps = 1e-5f;
    cfg->act = LPT_VIT_ACT_QUICK_GELU;
}

LptStatus lpt_clip_text_config_check(const LptClipTextConfig *cfg, LptError *err)
{
    if (!cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text config: NULL");
    const char *bad = NULL;
    if (cfg->vocab < 1)
        bad = "vocab must be >= 1";
    else if (cfg->context < 2 || cfg->context > 4096)
        bad = "context must be in [2, 4096]";
    else if (cfg->width < 1 || cfg->heads < 1 || cfg->width % cfg->heads != 0)
        bad = "width must be a positive multiple of heads";
    else if (cfg->width / cfg->heads > 256)
        bad = "head width (width / heads) must be <= 256";
    else if (cfg->layers < 1 || cfg->layers > 1024)
        bad = "layers must be in [1, 1024]";
    else if (cfg->mlp < 1)
        bad = "mlp must be >= 1";
    else if (cfg->proj_dim < 1)
        bad = "proj_dim must be >= 1";
    else if (!(cfg->eps > 0.0f))
        bad = "eps must be > 0";
    else if (cfg->act != LPT_VIT_ACT_GELU && cfg->act != LPT_VIT_ACT_QUICK_GELU)
        bad = "act is not a known activation";
    else if ((size_t)cfg->vocab * cfg->width > (size_t)INT32_MAX / 4)
        bad = "vocab x width is too large for one tensor";
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text config: %s", bad);
    return LPT_OK;
}

/* ---- tensors ---------------------------------------------------------------------------- */

/* The activations of one forward of B texts of T rows (shape letters as in the header). */
typedef struct TextActs {
    int batch, tokens;        /* B, T */
    bool train;               /* every block kept for lpt_clip_text_backward */
    LptTensor ids;            /* [B T] i32 token ids */
    LptTensor xs[2];          /* [B T, W] residual streams (inference: alternating) */
    LptBlockScratch s;        /* the blocks' scratch; s.pool_idx [B] i32: b T + eot_b */
    LptLayerAct scratch;      /* inference: the layer every block runs in */
    LptTensor px;             /* [B, W] inference: the last block's output (pooled rows) */
    LptTensor pooled;         /* [B, W] the last block's output (px, or its kept x_out) */
    LptTensor fmean, frstd;   /* [B] ln_final statistics */
    LptTensor fl, f;          /* [B, W] ln_final, [B, D] features */
    LptTensor dfl;            /* [B, W] training: dL/d ln_final */
} TextActs;

struct LptClipText {
    LptBackend *be;
    LptClipTextConfig cfg;
    LptParam *tensors;
    int n_tensors;
    LptParam *tok, *pos, *norm_w, *norm_b, *proj;
    LptBlockParams *blocks;
    LptArena *weights, *grads, *acts_arena;
    TextActs a;
    LptLayerAct *saved; /* [L] training forwards */
    bool have_forward;
};

static LptParam *add_tensor(LptClipText *t, size_t count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static LptParam *add_tensor(LptClipText *t, size_t count, const char *fmt, ...)
{
    LptParam *x = &t->tensors[t->n_tensors++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->name, sizeof x->name, fmt, ap);
    va_end(ap);
    x->count = count;
    x->trainable = t->cfg.trainable;
    return x;
}

static LptParam *find_tensor(const LptClipText *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (int i = 0; i < t->n_tensors; i++)
        if (strcmp(t->tensors[i].name, name) == 0)
            return &t->tensors[i];
    return NULL;
}

/* Declares every tensor in canonical order. */
static void declare_tensors(LptClipText *t)
{
    const LptClipTextConfig *c = &t->cfg;
    size_t W = (size_t)c->width, M = (size_t)c->mlp;
    t->tok = add_tensor(t, (size_t)c->vocab * W, "token_embedding");
    t->pos = add_tensor(t, (size_t)c->context * W, "pos");
    for (int i = 0; i < c->layers; i++) {
        LptBlockParams *b = &t->blocks[i];
        b->ln1_w = add_tensor(t, W, "blocks.%d.ln1.weight", i);
        b->ln1_b = add_tensor(t, W, "blocks.%d.ln1.bias", i);
        b->qkv_w = add_tensor(t, 3 * W * W, "blocks.%d.qkv.weight", i);
        b->qkv_b = add_tensor(t, 3 * W, "blocks.%d.qkv.bias", i);
        b->proj_w = add_tensor(t, W * W, "blocks.%d.proj.weight", i);
        b->proj_b = add_tensor(t, W, "blocks.%d.proj.bias", i);
        b->ln2_w = add_tensor(t, W, "blocks.%d.ln2.weight", i);
        b->ln2_b = add_tensor(t, W, "blocks.%d.ln2.bias", i);
        b->fc1_w = add_tensor(t, M * W, "blocks.%d.fc1.weight", i);
        b->fc1_b = add_tensor(t, M, "blocks.%d.fc1.bias", i);
        b->fc2_w = add_tensor(t, W * M, "blocks.%d.fc2.weight", i);
        b->fc2_b = add_tensor(t, W, "blocks.%d.fc2.bias", i);
    }
    t->norm_w = add_tensor(t, W, "norm.weight");
    t->norm_b = add_tensor(t, W, "norm.bias");
    t->proj = add_tensor(t, (size_t)c->proj_dim * W, "proj");
}

/* Every tensor (and gradient) placed in the weight (and gradient) arena, padding zeroed. */
static LptStatus place_tensors(LptClipText *t, LptError *err)
{
    size_t bytes = 0;
    for (int i = 0; i < t->n_tensors; i++)
        bytes += lpt_block_aligned_bytes(t->tensors[i].count, LPT_F32);
    t->weights = lpt_arena_new(t->be, "clip text weights", bytes, err);
    if (t->weights && t->cfg.trainable)
        t->grads = lpt_arena_new(t->be, "clip text gradients", bytes, err);
    if (!t->weights || (t->cfg.trainable && !t->grads))
        return LPT_ERR_OUT_OF_MEMORY;
    LptStatus st = LPT_OK;
    for (int i = 0; i < t->n_tensors && st == LPT_OK; i++) {
        LptParam *x = &t->tensors[i];
        st = lpt_arena_alloc(t->weights, &x->value, x->name, LPT_F32, x->count, err);
        if (st == LPT_OK && t->grads)
            st = lpt_arena_alloc(t->grads, &x->grad, x->name, LPT_F32, x->count, err);
    }
    if (st == LPT_OK && t->grads) { /* the spans the optimiser reads whole */
        LptTensor all_w = {t->weights, 0, bytes / 4, LPT_F32, "clip text weights"};
        LptTensor all_g = {t->grads, 0, bytes / 4, LPT_F32, "clip text gradients"};
        st = lpt_tensor_fill_u32(&all_w, 0, err);
        if (st == LPT_OK)
            st = lpt_tensor_fill_u32(&all_g, 0, err);
    }
    return st;
}

LptClipText *lpt_clip_text_new(LptBackend *be, const LptClipTextConfig *cfg, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local; /* to return the arenas' own status */
    if (!be) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: no backend");
        return NULL;
    }
    if (lpt_clip_text_config_check(cfg, err) != LPT_OK)
        return NULL;
    LptClipText *t = calloc(1, sizeof *t);
    if (t) {
        t->tensors = calloc((size_t)5 + 12 * (size_t)cfg->layers, sizeof *t->tensors);
        t->blocks = calloc((size_t)cfg->layers, sizeof *t->blocks);
        t->saved = calloc((size_t)cfg->layers, sizeof *t->saved);
    }
    if (!t || !t->tensors || !t->blocks || !t->saved) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
        lpt_clip_text_free(t);
        return NULL;
    }
    t->be = be;
    t->cfg = *cfg;
    declare_tensors(t);
    if (place_tensors(t, err) != LPT_OK) {
        lpt_clip_text_free(t);
        return NULL;
    }
    return t;
}

void lpt_clip_text_free(LptClipText *tower)
{
    if (!tower)
        return;
    lpt_arena_free(tower->acts_arena);
    lpt_arena_free(tower->grads);
    lpt_arena_free(tower->weights);
    free(tower->saved);
    free(tower->blocks);
    free(tower->tensors);
    free(tower);
}

const LptClipTextConfig *lpt_clip_text_config(const LptClipText *tower)
{
    return &tower->cfg;
}

const char *lpt_clip_text_tensor_name(const LptClipText *tower, int i)
{
    return tower && i >= 0 && i < tower->n_tensors ? tower->tensors[i].name : NULL;
}

const LptTensor *lpt_clip_text_tensor(const LptClipText *tower, const char *name)
{
    LptParam *x = find_tensor(tower, name);
    return x ? &x->value : NULL;
}

const LptTensor *lpt_clip_text_grad(const LptClipText *tower, const char *name)
{
    LptParam *x = find_tensor(tower, name);
    return x && x->grad.arena ? &x->grad : NULL;
}

/* Looks a tensor up for a host copy of `count` floats (its gradient when grad). */
static LptStatus lookup(const LptClipText *tower, const char *name, size_t count, bool grad,
                        LptParam **out, LptError *err)
{
    if (!tower)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: NULL tower");
    LptParam *x = find_tensor(tower, name);
    if (!x)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text: no tensor called '%s' in this configuration",
                             name ? name : "(null)");
    if (grad && !x->grad.arena)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text: tensor '%s' has no gradient (the tower is not "
                             "trainable)",
                             x->name);
    if (count != x->count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text: tensor '%s' has %zu elements, got %zu", x->name, x->count,
                             count);
    *out = x;
    return LPT_OK;
}

LptStatus lpt_clip_text_set(LptClipText *tower, const char *name, const float *data, size_t count,
                            LptError *err)
{
    LptParam *x = NULL;
    LptStatus st = lookup(tower, name, count, false, &x, err);
    if (st != LPT_OK)
        return st;
    if (!data)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: no data for '%s'",
                             x->name);
    st = lpt_tensor_upload(&x->value, data, err);
    if (st == LPT_OK)
        x->set = true;
    return st;
}

LptStatus lpt_clip_text_get(LptClipText *tower, const char *name, float *out, size_t count,
                            LptError *err)
{
    LptParam *x = NULL;
    LptStatus st = lookup(tower, name, count, false, &x, err);
    if (st == LPT_OK && !out)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: no buffer for '%s'",
                           x->name);
    return st == LPT_OK ? lpt_tensor_download(&x->value, out, err) : st;
}

LptStatus lpt_clip_text_get_grad(LptClipText *tower, const char *name, float *out, size_t count,
                                 LptError *err)
{
    LptParam *x = NULL;
    LptStatus st = lookup(tower, name, count, true, &x, err);
    if (st == LPT_OK && !out)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: no buffer for '%s'",
                           x->name);
    return st == LPT_OK ? lpt_tensor_download(&x->grad, out, err) : st;
}

LptStatus lpt_clip_text_span(const LptClipText *tower, LptTensor *param, LptTensor *grad,
                             LptError *err)
{
    if (!tower || !param || !grad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text span: NULL argument");
    if (!tower->grads)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text span: the tower is not trainable");
    size_t n = lpt_arena_size(tower->weights) / 4;
    *param = (LptTensor){tower->weights, 0, n, LPT_F32, "clip text weights"};
    *grad = (LptTensor){tower->grads, 0, n, LPT_F32, "clip text gradients"};
    return LPT_OK;
}

LptStatus lpt_clip_text_zero_grads(LptClipText *tower, LptError *err)
{
    LptTensor p, g;
    LptStatus st = lpt_clip_text_span(tower, &p, &g, err);
    return st == LPT_OK ? lpt_tensor_fill_u32(&g, 0, err) : st;
}

/* Ends with `suffix`. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

LptStatus lpt_clip_text_init(LptClipText *tower, uint64_t seed, LptError *err)
{
    if (!tower)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text init: NULL tower");
    const LptClipTextConfig *c = &tower->cfg;
    double W = c->width;
    double attn_std = 1.0 / sqrt(W), proj_std = attn_std / sqrt(2.0 * c->layers);
    double fc_std = 1.0 / sqrt(2.0 * W);
    size_t most = 1;
    for (int i = 0; i < tower->n_tensors; i++)
        if (tower->tensors[i].count > most)
            most = tower->tensors[i].count;
    float *buf = malloc(most * sizeof *buf);
    if (!buf)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text init: out of host memory");
    LptStatus st = LPT_OK;
    for (int i = 0; i < tower->n_tensors && st == LPT_OK; i++) {
        LptParam *x = &tower->tensors[i];
        LptRng rng;
        lpt_rng_seed(&rng, seed, (uint64_t)i); /* one stream per tensor */
        const char *n = x->name;
        double std = 0.0, constant = 0.0;
        if (strcmp(n, "token_embedding") == 0)
            std = 0.02;
        else if (strcmp(n, "pos") == 0)
            std = 0.01;
        else if (strcmp(n, "proj") == 0)
            std = attn_std;
        else if (strstr(n, ".ln") || strncmp(n, "norm.", 5) == 0)
            constant = ends_with(n, ".weight") ? 1.0 : 0.0;
        else if (ends_with(n, "qkv.weight"))
            std = attn_std;
        else if (ends_with(n, "proj.weight") || ends_with(n, "fc2.weight"))
            std = proj_std;
        else if (ends_with(n, "fc1.weight"))
            std = fc_std;
        for (size_t j = 0; j < x->count; j++)
            buf[j] = (float)(std > 0.0 ? std * lpt_rng_normal(&rng) : constant);
        st = lpt_tensor_upload(&x->value, buf, err);
        x->set = st == LPT_OK;
    }
    free(buf);
    return st;
}

/* ---- activation layout ------------------------------------------------------------------ */

/* The block sizes of a forward of B texts of T rows. */
static LptBlockShape block_shape(const LptClipTextConfig *cfg, int B, int T)
{
    return (LptBlockShape){B, T, cfg->width, cfg->heads, cfg->mlp, 0, 0, 0, 0, cfg->eps,
                           cfg->act, true};
}

/* Lays out (or counts) the activations of a forward of B texts of T rows; training keeps
 * every block in saved[L]. */
static void layout_acts(LptCarver *c, TextActs *a, LptLayerAct *saved,
                        const LptClipTextConfig *cfg, int B, int T, bool train)
{
    size_t rows = (size_t)B * T, W = (size_t)cfg->width;
    LptBlockShape bs = block_shape(cfg, B, T);
    memset(a, 0, sizeof *a);
    a->batch = B;
    a->tokens = T;
    a->train = train;
    lpt_carve(c, &a->ids, "text.ids", LPT_I32, rows);
    lpt_carve(c, &a->xs[0], "text.stream", LPT_F32, rows * W);
    if (!train)
        lpt_carve(c, &a->xs[1], "text.stream", LPT_F32, rows * W);
    if (train)
        lpt_carve(c, &a->s.ones, "text.ones", LPT_F32, (size_t)B);
    lpt_block_layout_scratch(c, &a->s, &bs, T, train, false, false, false, false);
    if (!train) {
        lpt_block_layout_layer(c, &a->scratch, &bs, T, false, true, false, false, false);
        lpt_carve(c, &a->px, "text.pooled", LPT_F32, (size_t)B * W);
    } else {
        LptLayerAct dummy;
        for (int i = 0; i < cfg->layers; i++)
            lpt_block_layout_layer(c, saved ? &saved[i] : &dummy, &bs, T, i == cfg->layers - 1,
                                   false, false, false, true);
    }
    lpt_carve(c, &a->fmean, "text.norm.mean", LPT_F32, (size_t)B);
    lpt_carve(c, &a->frstd, "text.norm.rstd", LPT_F32, (size_t)B);
    lpt_carve(c, &a->fl, "text.norm", LPT_F32, (size_t)B * W);
    lpt_carve(c, &a->f, "text.feature", LPT_F32, (size_t)B * cfg->proj_dim);
    if (train)
        lpt_carve(c, &a->dfl, "text.d_norm", LPT_F32, (size_t)B * W);
}

/* Makes the activation arena hold a forward of B texts of T rows and carves it. */
static LptStatus prepare_acts(LptClipText *t, int B, int T, bool train, LptError *err)
{
    LptCarver count = {NULL, 0, LPT_OK, NULL};
    layout_acts(&count, &t->a, NULL, &t->cfg, B, T, train);
    if (!t->acts_arena || lpt_arena_size(t->acts_arena) < count.bytes) {
        lpt_arena_free(t->acts_arena);
        t->acts_arena = lpt_arena_new(t->be, "clip text activations", count.bytes, err);
        if (!t->acts_arena)
            return lpt_error_prefix(err, "clip text forward of %d texts x %d tokens", B, T);
    }
    lpt_arena_reset(t->acts_arena);
    LptCarver c = {t->acts_arena, 0, LPT_OK, err};
    layout_acts(&c, &t->a, t->saved, &t->cfg, B, T, train);
    if (c.st == LPT_OK && train)
        c.st = lpt_tensor_fill_u32(&t->a.s.ones, 0x3f800000u, err); /* 1.0f */
    return c.st;
}

/* ---- forward ---------------------------------------------------------------------------- */

/* Checks the host inputs of a forward and fills rows[B T] (ids cut to T tokens a text) and
 * pooled[B] (b T + eot_b); *tokens = T = 1 + max eot_b. */
static LptStatus host_inputs(const LptClipText *t, const int32_t *ids, const int32_t *eot, int B,
                             int32_t **rows_out, int32_t *pooled, int *tokens, LptError *err)
{
    int ctx = t->cfg.context, V = t->cfg.vocab, T = 1;
    for (int b = 0; b < B; b++) {
        const int32_t *row = ids + (size_t)b * ctx;
        int best = 0;
        for (int j = 0; j < ctx; j++) {
            if (row[j] < 0 || row[j] >= V)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "clip text forward: text %d, position %d: token id %d "
                                     "is outside the vocabulary [0, %d)",
                                     b, j, (int)row[j], V);
            if (row[j] > row[best])
                best = j;
        }
        if (eot && (eot[b] < 0 || eot[b] >= ctx))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "clip text forward: text %d: pooling position %d is outside "
                                 "[0, %d)",
                                 b, (int)eot[b], ctx);
        pooled[b] = eot ? eot[b] : best;
        if (pooled[b] + 1 > T)
            T = pooled[b] + 1;
    }
    int32_t *rows = malloc((size_t)B * T * sizeof *rows);
    if (!rows)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
    for (int b = 0; b < B; b++) {
        memcpy(rows + (size_t)b * T, ids + (size_t)b * ctx, (size_t)T * sizeof *rows);
        pooled[b] += b * T;
    }
    *rows_out = rows;
    *tokens = T;
    return LPT_OK;
}

/* The graph: embedding, the blocks (lpt_block.h, causal, the last on the pooled rows),
 * ln_final, projection. */
static LptStatus run_forward(LptClipText *t, LptError *err)
{
    TextActs *a = &t->a;
    const LptClipTextConfig *c = &t->cfg;
    int B = a->batch, T = a->tokens, W = c->width;
    LptBlockShape bs = block_shape(c, B, T);
    /* token rows, then + pos[t] (the first T rows of pos) */
    LPT_TRY(lpt_op_gather_mean_forward(t->be, &a->xs[0], &t->tok->value, &a->ids, B * T, 1,
                                       c->vocab, W, err));
    LptTensor pos = lpt_tensor_view(&t->pos->value, 0, (size_t)T * W);
    LPT_TRY(lpt_op_embed_forward(t->be, &a->xs[0], NULL, &pos, B, T, W, err));
    const LptTensor *x = &a->xs[0];
    for (int i = 0; i < c->layers; i++) {
        bool last = i == c->layers - 1;
        LptLayerAct *A = a->train ? &t->saved[i] : &a->scratch;
        const LptTensor *out = a->train ? &A->x_out : last ? &a->px : &a->xs[(i + 1) % 2];
        LPT_TRY(lpt_block_forward(t->be, &bs, &t->blocks[i], &a->s, A, x, out, last, false, false,
                                  false, err));
        x = out;
    }
    a->pooled = *x;
    LPT_TRY(lpt_op_layernorm_forward(t->be, &a->fl, &a->fmean, &a->frstd, &a->pooled,
                                     &t->norm_w->value, &t->norm_b->value, B, W, c->eps, err));
    return lpt_block_linear(t->be, &a->f, &a->fl, t->proj, NULL, (size_t)B, c->proj_dim, W, 0.0f,
                            err);
}

/* lpt_clip_text_forward and lpt_clip_text_forward_train. */
static LptStatus forward(LptClipText *tower, const int32_t *ids, const int32_t *eot, int batch,
                         bool train, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local; /* so that a prefixed error keeps its status */
    if (!tower || !ids)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text forward: NULL argument");
    if (batch < 1 || (size_t)batch * tower->cfg.context > (size_t)INT32_MAX / 4)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text forward: batch %d must be in [1, %d]", batch,
                             (int)((size_t)INT32_MAX / 4 / tower->cfg.context));
    if (train && !tower->grads)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text forward: training needs a trainable tower");
    for (int i = 0; i < tower->n_tensors; i++)
        if (!tower->tensors[i].set)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "clip text forward: tensor '%s' was never set",
                                 tower->tensors[i].name);
    tower->have_forward = false;
    int32_t *pooled = malloc((size_t)batch * sizeof *pooled), *rows = NULL;
    if (!pooled)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
    int T = 0;
    LptStatus st = host_inputs(tower, ids, eot, batch, &rows, pooled, &T, err);
    if (st == LPT_OK)
        st = prepare_acts(tower, batch, T, train, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&tower->a.ids, rows, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&tower->a.s.pool_idx, pooled, err);
    free(rows);
    free(pooled);
    if (st == LPT_OK)
        st = run_forward(tower, err);
    tower->have_forward = st == LPT_OK;
    return st;
}

LptStatus lpt_clip_text_forward(LptClipText *tower, const int32_t *ids, const int32_t *eot,
                                int batch, LptError *err)
{
    return forward(tower, ids, eot, batch, false, err);
}

LptStatus lpt_clip_text_forward_train(LptClipText *tower, const int32_t *ids, const int32_t *eot,
                                      int batch, LptError *err)
{
    return forward(tower, ids, eot, batch, true, err);
}

const LptTensor *lpt_clip_text_features(const LptClipText *tower)
{
    return tower && tower->have_forward ? &tower->a.f : NULL;
}

/* ---- backward --------------------------------------------------------------------------- */

LptStatus lpt_clip_text_backward(LptClipText *tower, const LptTensor *dfeatures, LptError *err)
{
    if (!tower || !dfeatures)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text backward: NULL argument");
    TextActs *a = &tower->a;
    if (!tower->have_forward || !a->train)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text backward: no training forward to backpropagate");
    const LptClipTextConfig *c = &tower->cfg;
    LptBackend *be = tower->be;
    int B = a->batch, T = a->tokens, W = c->width, D = c->proj_dim;
    if (dfeatures->count < (size_t)B * D)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text backward: feature gradient '%s' has %zu values, the "
                             "batch needs %d x %d",
                             dfeatures->name ? dfeatures->name : "?", dfeatures->count, B, D);
    LptBlockScratch *s = &a->s;
    /* f = ln_final(pooled) proj^T */
    LPT_TRY(lpt_block_linear_dw(be, tower->proj, NULL, dfeatures, &a->fl, (size_t)B, D, W, err));
    LPT_TRY(lpt_block_linear_din(be, &a->dfl, dfeatures, tower->proj, (size_t)B, D, W, 0.0f, err));
    LPT_TRY(lpt_op_layernorm_backward(be, &s->dx, &tower->norm_w->grad, &tower->norm_b->grad,
                                      &a->dfl, &a->pooled, &a->fmean, &a->frstd,
                                      &tower->norm_w->value, B, W, err));
    LptBlockShape bs = block_shape(c, B, T);
    for (int i = c->layers - 1; i >= 0; i--)
        LPT_TRY(lpt_block_backward(be, &bs, &tower->blocks[i], s, &tower->saved[i],
                                   i == c->layers - 1, false, false, false, false, true, true,
                                   err));
    /* x = token_embedding[ids] + pos: pos[0..T) += sum over texts of dx, token rows += dx */
    LptGemmShape g;
    lpt_gemm_shape_init(&g, 1, T * W, B, false, false);
    g.beta = 1.0f;
    LptTensor dpos = lpt_tensor_view(&tower->pos->grad, 0, (size_t)T * W);
    LPT_TRY(lpt_op_gemm_forward(be, &dpos, &s->ones, &s->dx, NULL, &g, err));
    return lpt_op_gather_mean_backward(be, &tower->tok->grad, &s->dx, &a->ids, B * T, 1, c->vocab,
                                       W, err);
}

/* ---- texts ------------------------------------------------------------------------------ */

/* A text's place in lpt_clip_text_encode's order: by pooling position, then index, so that
 * batches hold texts of like length. */
typedef struct TextOrder {
    int32_t eot;
    int index;
} TextOrder;

static int by_eot(const void *pa, const void *pb)
{
    const TextOrder *a = pa, *b = pb;
    if (a->eot != b->eot)
        return a->eot < b->eot ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* Encodes n tokenized texts (ids [n, context], eot [n]) into out [n, D], in batches of at
 * most ROW_BUDGET rows of texts of like length. */
static LptStatus encode_ids(LptClipText *t, const int32_t *ids, const int32_t *eot, int n,
                            float *out, LptError *err)
{
    int ctx = t->cfg.context, D = t->cfg.proj_dim;
    TextOrder *order = malloc((size_t)n * sizeof *order);
    int32_t *bids = malloc((size_t)n * ctx * sizeof *bids);
    int32_t *beot = malloc((size_t)n * sizeof *beot);
    float *bf = malloc((size_t)n * D * sizeof *bf);
    LptStatus st = LPT_OK;
    if (!order || !bids || !beot || !bf) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
        n = 0;
    }
    for (int i = 0; i < n; i++)
        order[i] = (TextOrder){eot[i], i};
    if (n > 0)
        qsort(order, (size_t)n, sizeof *order, by_eot);
    for (int first = 0; first < n && st == LPT_OK;) {
        int count = 1; /* texts first..first+count-1, padded to the last one's length */
        while (first + count < n &&
               (size_t)(count + 1) * (order[first + count].eot + 1) <= ROW_BUDGET)
            count++;
        for (int j = 0; j < count; j++) {
            int src = order[first + j].index;
            memcpy(bids + (size_t)j * ctx, ids + (size_t)src * ctx, (size_t)ctx * sizeof *bids);
            beot[j] = eot[src];
        }
        st = lpt_clip_text_forward(t, bids, beot, count, err);
        if (st == LPT_OK) {
            LptTensor f = lpt_tensor_view(&t->a.f, 0, (size_t)count * D);
            st = lpt_tensor_download(&f, bf, err);
        }
        for (int j = 0; j < count && st == LPT_OK; j++)
            memcpy(out + (size_t)order[first + j].index * D, bf + (size_t)j * D,
                   (size_t)D * sizeof *out);
        first += count;
    }
    free(bf);
    free(beot);
    free(bids);
    free(order);
    return st;
}

/* Tokenizes n texts into ids [n, context] and eot [n] (malloc'ed; freed on failure). */
static LptStatus tokenize_all(const LptClipText *t, const LptTokenizer *tok,
                              const char *const *texts, int n, int32_t **ids_out, int32_t **eot_out,
                              LptError *err)
{
    size_t ctx = (size_t)t->cfg.context;
    int32_t *ids = malloc((size_t)n * ctx * sizeof *ids);
    int32_t *eot = malloc((size_t)n * sizeof *eot);
    LptStatus st = LPT_OK;
    if (!ids || !eot)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
    for (int i = 0; i < n && st == LPT_OK; i++) {
        size_t at = 0;
        if (!texts[i])
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: text %d is NULL", i);
        else
            st = lpt_tokenizer_encode_clip(tok, texts[i], ids + (size_t)i * ctx, ctx, &at, NULL,
                                           err);
        eot[i] = (int32_t)at;
        if (st != LPT_OK)
            lpt_error_prefix(err, "clip text: text %d", i);
    }
    if (st != LPT_OK) {
        free(ids);
        free(eot);
        return st;
    }
    *ids_out = ids;
    *eot_out = eot;
    return LPT_OK;
}

LptStatus lpt_clip_text_encode(LptClipText *tower, const LptTokenizer *tok,
                               const char *const *texts, int n, float *out, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local; /* so that a prefixed error keeps its status */
    if (!tower || !tok || !texts || !out || n < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text encode: NULL argument or no texts (%d)", n);
    int32_t *ids = NULL, *eot = NULL;
    LptStatus st = tokenize_all(tower, tok, texts, n, &ids, &eot, err);
    if (st == LPT_OK)
        st = encode_ids(tower, ids, eot, n, out, err);
    free(ids);
    free(eot);
    return st;
}

/* The template with every "{}" replaced by fill (malloc'ed; NULL when out of memory). */
static char *fill_template(const char *tmpl, const char *fill)
{
    size_t n_holes = 0, len = strlen(tmpl), flen = strlen(fill);
    for (const char *p = strstr(tmpl, "{}"); p; p = strstr(p + 2, "{}"))
        n_holes++;
    char *text = malloc(len - 2 * n_holes + n_holes * flen + 1);
    if (!text)
        return NULL;
    char *w = text;
    for (const char *p = tmpl; *p;) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(w, fill, flen);
            w += flen;
            p += 2;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return text;
}

LptStatus lpt_clip_text_class_embeddings(LptClipText *tower, const LptTokenizer *tok,
                                         const char *const *class_names,
                                         const char *const *descriptions,
                                         const char *const *templates, int n_templates, int classes,
                                         float *out, LptError *err)
{
    static const char *const default_templates[] = {LPT_CLIP_DEFAULT_TEMPLATE};
    if (!tower || !tok || !class_names || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip class embeddings: NULL argument");
    if (!templates) {
        templates = default_templates;
        n_templates = 1;
    }
    if (classes < 1 || n_templates < 1 || (size_t)classes * n_templates > (size_t)INT32_MAX / 4)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip class embeddings: %d classes x %d templates", classes,
                             n_templates);
    for (int j = 0; j < n_templates; j++)
        if (!templates[j] || !strstr(templates[j], "{}"))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "clip class embeddings: template %d ('%s') has no {}", j,
                                 templates[j] ? templates[j] : "(null)");
    for (int k = 0; k < classes; k++)
        if (!class_names[k])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "clip class embeddings: class %d has no name", k);
    int n = classes * n_templates, D = tower->cfg.proj_dim;
    char **texts = calloc((size_t)n, sizeof *texts);
    float *f = malloc((size_t)n * D * sizeof *f);
    double *acc = malloc((size_t)D * sizeof *acc);
    LptStatus st = LPT_OK;
    if (!texts || !f || !acc)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
    for (int i = 0; i < n && st == LPT_OK; i++) {
        int k = i / n_templates;
        const char *fill = descriptions && descriptions[k] && descriptions[k][0] ? descriptions[k]
                                                                                 : class_names[k];
        texts[i] = fill_template(templates[i % n_templates], fill);
        if (!texts[i])
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
    }
    if (st == LPT_OK)
        st = lpt_clip_text_encode(tower, tok, (const char *const *)texts, n, f, err);
    for (int k = 0; k < classes && st == LPT_OK; k++) {
        /* mean of the templates' unit vectors, normalised again */
        memset(acc, 0, (size_t)D * sizeof *acc);
        for (int j = 0; j < n_templates; j++) {
            const float *row = f + ((size_t)k * n_templates + j) * D;
            double sq = 0.0;
            for (int d = 0; d < D; d++)
                sq += (double)row[d] * row[d];
            double inv = 1.0 / fmax(sqrt(sq), 1e-12);
            for (int d = 0; d < D; d++)
                acc[d] += row[d] * inv;
        }
        double sq = 0.0;
        for (int d = 0; d < D; d++)
            sq += acc[d] * acc[d];
        double inv = 1.0 / fmax(sqrt(sq), 1e-12);
        for (int d = 0; d < D; d++)
            out[(size_t)k * D + d] = (float)(acc[d] * inv);
    }
    for (int i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    free(f);
    free(acc);
    if (st != LPT_OK)
        lpt_error_prefix(err, "clip class embeddings");
    return st;
}

/* ---- zero-shot scores ------------------------------------------------------------------- */

/* Copies rows[n, d] into out with every row divided by max(||row||, 1e-12). */
static void unit_rows(float *out, const float *rows, int n, int d)
{
    for (int r = 0; r < n; r++) {
        const float *x = rows + (size_t)r * d;
        double sq = 0.0;
        for (int j = 0; j < d; j++)
            sq += (double)x[j] * x[j];
        double inv = 1.0 / fmax(sqrt(sq), 1e-12);
        for (int j = 0; j < d; j++)
            out[(size_t)r * d + j] = (float)(x[j] * inv);
    }
}

LptStatus lpt_clip_zero_shot_logits(float *logits, const float *features,
                                    const float *class_embeddings, int batch, int classes, int dim,
                                    LptError *err)
{
    if (!logits || !features || !class_embeddings)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "zero-shot logits: NULL argument");
    if (batch < 1 || classes < 1 || dim < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "zero-shot logits: batch %d, classes %d, dim %d must be >= 1", batch,
                             classes, dim);
    float *f = malloc((size_t)batch * dim * sizeof *f);
    float *w = malloc((size_t)classes * dim * sizeof *w);
    if (!f || !w) {
        free(f);
        free(w);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "zero-shot logits: out of memory");
    }
    unit_rows(f, features, batch, dim);
    unit_rows(w, class_embeddings, classes, dim);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, classes, dim, 1.0f, f, dim, w, dim,
                0.0f, logits, classes);
    free(f);
    free(w);
    return LPT_OK;
}

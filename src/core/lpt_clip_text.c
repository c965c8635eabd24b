/* lpt_clip_text.c: CLIP's text tower -- its tensors, activation layout and forward graph over
 * the ops of lpt_ops.h (so both backends run the same code) -- and, on the host, the class
 * text embeddings and zero-shot scores built on it. See lpt_clip_text.h for the model and the
 * tensor names; the weight-file name maps are in lpt_clip_text_load.c.
 *
 * Activations (one arena, carved afresh by every forward for its B texts and T rows per text):
 * two residual streams and the per-block buffers that every block reuses (nothing is kept:
 * there is no backward), then the last block's and the head's buffers for the B pooled rows.
 * The same carving code counts the bytes the arena needs, so the two always agree.
 */
#include "lpt_clip_text.h"

#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_ops.h"

#define NAME_MAX_LEN 48
/* Rows (texts x tokens) of one forward in lpt_clip_text_encode: bounds the activation arena
 * (about 11 W floats a row: 46 MB for W = 512). */
#define ROW_BUDGET 2048

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

typedef struct TextTensor {
    char name[NAME_MAX_LEN];
    size_t count;
    LptTensor value;
    bool set; /* uploaded at least once */
} TextTensor;

typedef struct TextBlock {
    TextTensor *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    TextTensor *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} TextBlock;

/* The activations of one forward of B texts of T rows (shape letters as in the header). */
typedef struct TextActs {
    int batch, tokens;    /* B, T */
    LptTensor ids;        /* [B T] i32 token ids */
    LptTensor eot;        /* [B] i32 pooled rows: b T + eot_b */
    LptTensor x, y;       /* [B T, W] residual streams */
    LptTensor a;          /* [B T, W] LayerNorm output, then the attention projection */
    LptTensor qkv;        /* [B T, 3W] */
    LptTensor o;          /* [B T, W] attention output, then FC2 output */
    LptTensor lse;        /* [B, H, T] */
    LptTensor mean, rstd; /* [B T] LayerNorm statistics */
    LptTensor u;          /* [B T, MLP] FC1 output, activated in place */
    /* the last block and the head on the pooled rows */
    LptTensor px, po, ph, pa; /* [B, W] residual, attention output, h, LN2(h) */
    LptTensor pu;             /* [B, MLP] */
    LptTensor pmean, prstd;   /* [B] */
    LptTensor fl, f;          /* [B, W] ln_final, [B, D] features */
} TextActs;

struct LptClipText {
    LptBackend *be;
    LptClipTextConfig cfg;
    TextTensor *tensors;
    int n_tensors;
    TextTensor *tok, *pos, *norm_w, *norm_b, *proj;
    TextBlock *blocks;
    LptArena *weights, *acts_arena;
    TextActs a;
    bool have_forward;
};

static TextTensor *add_tensor(LptClipText *t, size_t count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static TextTensor *add_tensor(LptClipText *t, size_t count, const char *fmt, ...)
{
    TextTensor *x = &t->tensors[t->n_tensors++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->name, sizeof x->name, fmt, ap);
    va_end(ap);
    x->count = count;
    return x;
}

static TextTensor *find_tensor(const LptClipText *t, const char *name)
{
    if (!t || !name)
        return NULL;
    for (int i = 0; i < t->n_tensors; i++)
        if (strcmp(t->tensors[i].name, name) == 0)
            return &t->tensors[i];
    return NULL;
}

static size_t aligned_bytes(size_t count, LptDType dtype)
{
    size_t b = count * lpt_dtype_size(dtype);
    return (b + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
}

/* Declares every tensor in canonical order. */
static void declare_tensors(LptClipText *t)
{
    const LptClipTextConfig *c = &t->cfg;
    size_t W = (size_t)c->width, M = (size_t)c->mlp;
    t->tok = add_tensor(t, (size_t)c->vocab * W, "token_embedding");
    t->pos = add_tensor(t, (size_t)c->context * W, "pos");
    for (int i = 0; i < c->layers; i++) {
        TextBlock *b = &t->blocks[i];
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

LptClipText *lpt_clip_text_new(LptBackend *be, const LptClipTextConfig *cfg, LptError *err)
{
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
    }
    if (!t || !t->tensors || !t->blocks) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "clip text: out of host memory");
        lpt_clip_text_free(t);
        return NULL;
    }
    t->be = be;
    t->cfg = *cfg;
    declare_tensors(t);
    size_t bytes = 0;
    for (int i = 0; i < t->n_tensors; i++)
        bytes += aligned_bytes(t->tensors[i].count, LPT_F32);
    t->weights = lpt_arena_new(be, "clip text weights", bytes, err);
    LptStatus st = t->weights ? LPT_OK : LPT_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < t->n_tensors && st == LPT_OK; i++) {
        TextTensor *x = &t->tensors[i];
        st = lpt_arena_alloc(t->weights, &x->value, x->name, LPT_F32, x->count, err);
    }
    if (st != LPT_OK) {
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
    lpt_arena_free(tower->weights);
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
    TextTensor *x = find_tensor(tower, name);
    return x ? &x->value : NULL;
}

/* Looks a tensor up for a host copy of `count` floats. */
static LptStatus lookup(const LptClipText *tower, const char *name, size_t count, TextTensor **out,
                        LptError *err)
{
    if (!tower)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: NULL tower");
    TextTensor *x = find_tensor(tower, name);
    if (!x)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "clip text: no tensor called '%s' in this configuration",
                             name ? name : "(null)");
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
    TextTensor *x = NULL;
    LptStatus st = lookup(tower, name, count, &x, err);
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
    TextTensor *x = NULL;
    LptStatus st = lookup(tower, name, count, &x, err);
    if (st == LPT_OK && !out)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text: no buffer for '%s'",
                           x->name);
    return st == LPT_OK ? lpt_tensor_download(&x->value, out, err) : st;
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
    if (c->st != LPT_OK)
        return;
    c->bytes += aligned_bytes(count, dtype);
    if (c->arena)
        c->st = lpt_arena_alloc(c->arena, t, name, dtype, count, c->err);
}

/* Lays out (or counts) the activations of a forward of B texts of T rows. */
static void layout_acts(Carver *c, TextActs *a, const LptClipTextConfig *cfg, int B, int T)
{
    size_t rows = (size_t)B * T, W = (size_t)cfg->width;
    memset(a, 0, sizeof *a);
    a->batch = B;
    a->tokens = T;
    carve(c, &a->ids, "text.ids", LPT_I32, rows);
    carve(c, &a->eot, "text.eot_rows", LPT_I32, (size_t)B);
    carve(c, &a->x, "text.stream", LPT_F32, rows * W);
    carve(c, &a->y, "text.stream", LPT_F32, rows * W);
    carve(c, &a->a, "text.ln", LPT_F32, rows * W);
    carve(c, &a->qkv, "text.qkv", LPT_F32, rows * 3 * W);
    carve(c, &a->o, "text.attn", LPT_F32, rows * W);
    carve(c, &a->lse, "text.lse", LPT_F32, rows * cfg->heads);
    carve(c, &a->mean, "text.ln.mean", LPT_F32, rows);
    carve(c, &a->rstd, "text.ln.rstd", LPT_F32, rows);
    carve(c, &a->u, "text.fc1", LPT_F32, rows * cfg->mlp);
    carve(c, &a->px, "text.pooled", LPT_F32, (size_t)B * W);
    carve(c, &a->po, "text.pooled.attn", LPT_F32, (size_t)B * W);
    carve(c, &a->ph, "text.pooled.h", LPT_F32, (size_t)B * W);
    carve(c, &a->pa, "text.pooled.ln", LPT_F32, (size_t)B * W);
    carve(c, &a->pu, "text.pooled.fc1", LPT_F32, (size_t)B * cfg->mlp);
    carve(c, &a->pmean, "text.pooled.mean", LPT_F32, (size_t)B);
    carve(c, &a->prstd, "text.pooled.rstd", LPT_F32, (size_t)B);
    carve(c, &a->fl, "text.norm", LPT_F32, (size_t)B * W);
    carve(c, &a->f, "text.feature", LPT_F32, (size_t)B * cfg->proj_dim);
}

/* Makes the activation arena hold a forward of B texts of T rows and carves it. */
static LptStatus prepare_acts(LptClipText *t, int B, int T, LptError *err)
{
    Carver count = {NULL, 0, LPT_OK, NULL};
    layout_acts(&count, &t->a, &t->cfg, B, T);
    if (!t->acts_arena || lpt_arena_size(t->acts_arena) < count.bytes) {
        lpt_arena_free(t->acts_arena);
        t->acts_arena = lpt_arena_new(t->be, "clip text activations", count.bytes, err);
        if (!t->acts_arena)
            return lpt_error_prefix(err, "clip text forward of %d texts x %d tokens", B, T);
    }
    lpt_arena_reset(t->acts_arena);
    Carver c = {t->acts_arena, 0, LPT_OK, err};
    layout_acts(&c, &t->a, &t->cfg, B, T);
    return c.st;
}

/* ---- forward ---------------------------------------------------------------------------- */

#define CHECK(call)                                                                                \
    do {                                                                                           \
        LptStatus s_ = (call);                                                                     \
        if (s_ != LPT_OK)                                                                          \
            return s_;                                                                             \
    } while (0)

/* out[rows, n_out] = in[rows, n_in] W^T (+ bias), W [n_out, n_in]. */
static LptStatus linear(LptBackend *be, const LptTensor *out, const LptTensor *in,
                        const TextTensor *w, const TextTensor *bias, size_t rows, int n_out,
                        int n_in, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_out, n_in, false, true);
    return lpt_op_gemm_forward(be, out, in, &w->value, bias ? &bias->value : NULL, &s, err);
}

static LptStatus activation(const LptClipText *t, const LptTensor *x, size_t n, LptError *err)
{
    if (t->cfg.act == LPT_VIT_ACT_QUICK_GELU)
        return lpt_op_quick_gelu_forward(t->be, x, x, n, err);
    return lpt_op_gelu_forward(t->be, x, x, n, err);
}

/* x + MLP(LN2(x)) for `rows` rows: x [rows, W] in h, a [rows, W] and u [rows, MLP] scratch,
 * mlp_out [rows, W] receives FC2's output, out [rows, W] the sum (may alias h). */
static LptStatus mlp_residual(LptClipText *t, const TextBlock *blk, const LptTensor *out,
                              const LptTensor *h, const LptTensor *a, const LptTensor *mean,
                              const LptTensor *rstd, const LptTensor *u, const LptTensor *mlp_out,
                              size_t rows, LptError *err)
{
    int W = t->cfg.width, M = t->cfg.mlp;
    CHECK(lpt_op_layernorm_forward(t->be, a, mean, rstd, h, &blk->ln2_w->value, &blk->ln2_b->value,
                                   (int)rows, W, t->cfg.eps, err));
    CHECK(linear(t->be, u, a, blk->fc1_w, blk->fc1_b, rows, M, W, err));
    CHECK(activation(t, u, rows * M, err));
    CHECK(linear(t->be, mlp_out, u, blk->fc2_w, blk->fc2_b, rows, W, M, err));
    return lpt_op_add_forward(t->be, out, h, mlp_out, 1.0f, rows * W, err);
}

/* Block i on every row: a->x becomes the block's output (a->y is scratch). The last block
 * (last = true) stops after attention and finishes on the pooled rows: a->px = its output
 * at the EOT rows. */
static LptStatus block_forward(LptClipText *t, int i, bool last, LptError *err)
{
    TextActs *a = &t->a;
    const TextBlock *blk = &t->blocks[i];
    LptBackend *be = t->be;
    int B = a->batch, T = a->tokens, W = t->cfg.width, H = t->cfg.heads;
    size_t rows = (size_t)B * T;
    CHECK(lpt_op_layernorm_forward(be, &a->a, &a->mean, &a->rstd, &a->x, &blk->ln1_w->value,
                                   &blk->ln1_b->value, (int)rows, W, t->cfg.eps, err));
    CHECK(linear(be, &a->qkv, &a->a, blk->qkv_w, blk->qkv_b, rows, 3 * W, W, err));
    LptAttentionShape s;
    lpt_attention_shape_init(&s, B, H, W / H, T, T);
    s.ld_q = s.ld_kv = 3 * W;
    s.causal = true;
    LptTensor k = lpt_tensor_view(&a->qkv, (size_t)W, a->qkv.count - W);
    LptTensor v = lpt_tensor_view(&a->qkv, (size_t)2 * W, a->qkv.count - 2 * W);
    CHECK(lpt_op_attention_forward(be, &a->o, &a->lse, &a->qkv, &k, &v, &s, err));
    if (!last) {
        CHECK(linear(be, &a->a, &a->o, blk->proj_w, blk->proj_b, rows, W, W, err));
        CHECK(lpt_op_add_forward(be, &a->y, &a->x, &a->a, 1.0f, rows * W, err));
        return mlp_residual(t, blk, &a->x, &a->y, &a->a, &a->mean, &a->rstd, &a->u, &a->o, rows,
                            err);
    }
    /* the pooled rows only: h = x + Proj(o) at the EOT rows, then the MLP */
    CHECK(lpt_op_gather_mean_forward(be, &a->po, &a->o, &a->eot, B, 1, (int)rows, W, err));
    CHECK(lpt_op_gather_mean_forward(be, &a->px, &a->x, &a->eot, B, 1, (int)rows, W, err));
    CHECK(linear(be, &a->ph, &a->po, blk->proj_w, blk->proj_b, (size_t)B, W, W, err));
    CHECK(lpt_op_add_forward(be, &a->ph, &a->px, &a->ph, 1.0f, (size_t)B * W, err));
    return mlp_residual(t, blk, &a->px, &a->ph, &a->pa, &a->pmean, &a->prstd, &a->pu, &a->po,
                        (size_t)B, err);
}

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

LptStatus lpt_clip_text_forward(LptClipText *tower, const int32_t *ids, const int32_t *eot,
                                int batch, LptError *err)
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
        st = prepare_acts(tower, batch, T, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&tower->a.ids, rows, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&tower->a.eot, pooled, err);
    free(rows);
    free(pooled);
    if (st != LPT_OK)
        return st;

    TextActs *a = &tower->a;
    const LptClipTextConfig *c = &tower->cfg;
    int W = c->width;
    size_t n_rows = (size_t)batch * T;
    /* token rows, then + pos[t] (the first T rows of pos) */
    CHECK(lpt_op_gather_mean_forward(tower->be, &a->x, &tower->tok->value, &a->ids, (int)n_rows, 1,
                                     c->vocab, W, err));
    LptTensor pos = lpt_tensor_view(&tower->pos->value, 0, (size_t)T * W);
    CHECK(lpt_op_embed_forward(tower->be, &a->x, NULL, &pos, batch, T, W, err));
    for (int i = 0; i < c->layers; i++)
        CHECK(block_forward(tower, i, i == c->layers - 1, err));
    CHECK(lpt_op_layernorm_forward(tower->be, &a->fl, &a->pmean, &a->prstd, &a->px,
                                   &tower->norm_w->value, &tower->norm_b->value, batch, W, c->eps,
                                   err));
    CHECK(linear(tower->be, &a->f, &a->fl, tower->proj, NULL, (size_t)batch, c->proj_dim, W, err));
    tower->have_forward = true;
    return LPT_OK;
}

const LptTensor *lpt_clip_text_features(const LptClipText *tower)
{
    return tower && tower->have_forward ? &tower->a.f : NULL;
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

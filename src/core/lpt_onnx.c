/* lpt_onnx.c: an LPT expert as an ONNX graph (see lpt_onnx.h for the file and the graph,
 * lpt_vit.h for the model it mirrors), its checks and metadata, and its export alone. The
 * fused model's export (lpt_onnx_fused.c) emits each expert with the same code.
 *
 * Every weight is emitted once as an initializer, before the nodes of its layer (a layer that
 * runs twice, in phase 2's query and main passes, reuses them). Linear weights [out, in] are
 * stored transposed ([in, out], the right operand of MatMul); qkv.weight is split into its
 * q, k and v row blocks. Constants derived at export (shared-prompt keys and values,
 * normalised head rows and keys, class token + positions) are computed in double and
 * rounded once.
 */
#include "lpt_onnx.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_augment.h"
#include "lpt_onnx_impl.h"

#ifndef LPT_VERSION
#define LPT_VERSION "unknown"
#endif

#define META_MAX 4
#define NORM_EPS 1e-12 /* the cosine's clamp of a norm, as lpt_op_cosine_forward */

/* The names of one layer's constants (owned by the graph); NULL where the mode has none. */
typedef struct LayerNames {
    const char *ln1_w, *ln1_b, *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
    const char *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    const char *kp, *vp;                         /* [1, P, C] shared-prompt keys, values */
    const char *down_w, *down_b, *up_w, *up_b, *scale;
    const char *pool;                            /* [M, P, C] (group layers, phase 2) */
} LayerNames;

/* The emitter's state: sizes, shared constants, the first error. */
typedef struct Ex {
    LptOnnxGraph *g;
    const char *scope; /* every name starts with it */
    LptVit *vit;
    const LptVitConfig *cfg;
    LptVitMode mode;
    int L, C, H, D, T, N, P, R, M, K, Cf, G, topk, mlp, p;
    bool prompts, adapters;
    LayerNames *layers;                    /* [L] */
    const char *heads_shape, *merge_shape; /* [0, 0, H, D], [0, 0, C] */
    const char *batch_shape;               /* [N, 1, 1]: prompt rows broadcast to the batch */
    const char *attn_scale, *norm_eps;     /* scalars 1 / sqrt(D), 1e-12 */
    const char *row0_starts, *row0_ends, *axis1; /* Slice of row 0 along axis 1 */
    const char *cls_shape;                 /* [0, C] */
    const char *act_k[3];                  /* GELU: sqrt 2, 1, 0.5; QuickGELU: 1.702 */
    LptStatus st;
    LptError *err;
} Ex;

/* ---- small helpers ------------------------------------------------------------------- */

static const char *node(Ex *e, const char *op, const char *const *in, int n_in,
                        const LptOnnxAttr *attrs, int n_attrs)
{
    return lpt_onnx_op(e->g, op, in, n_in, attrs, n_attrs);
}

#define OP1(e, op, a) node((e), (op), (const char *[]){(a)}, 1, NULL, 0)
#define OP2(e, op, a, b) node((e), (op), (const char *[]){(a), (b)}, 2, NULL, 0)

static LptStatus fail_oom(Ex *e)
{
    if (e->st == LPT_OK)
        e->st = lpt_error_set(e->err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
    return e->st;
}

/* The model's tensor `name` as a malloc'ed host copy (NULL with e->st set on failure);
 * *count receives its element count when count is not NULL. */
static float *fetch(Ex *e, const char *name, size_t *count)
{
    if (e->st != LPT_OK)
        return NULL;
    const LptTensor *t = lpt_vit_tensor(e->vit, name);
    if (!t) {
        e->st = lpt_error_set(e->err, LPT_ERR_INVALID_ARGUMENT, 0,
                              "the model has no tensor '%s'", name);
        return NULL;
    }
    float *v = malloc(t->count * sizeof *v);
    if (!v) {
        fail_oom(e);
        return NULL;
    }
    LptStatus st = lpt_vit_get(e->vit, name, v, t->count, e->err);
    if (st != LPT_OK) {
        e->st = st;
        free(v);
        return NULL;
    }
    if (count)
        *count = t->count;
    return v;
}

static const char *const_f32(Ex *e, const char *what, const int64_t *dims, int rank,
                             const float *data)
{
    if (!data)
        return NULL;
    return lpt_onnx_const_f32(e->g, lpt_onnx_graph_name(e->g, what), dims, rank, data);
}

static const char *const_i64(Ex *e, const char *what, const int64_t *dims, int rank,
                             const int64_t *data)
{
    return lpt_onnx_const_i64(e->g, lpt_onnx_graph_name(e->g, what), dims, rank, data);
}

/* A vector [n]. */
static const char *vec(Ex *e, const char *what, const float *v, int n)
{
    int64_t dims[1] = {n};
    return const_f32(e, what, dims, 1, v);
}

/* Rows [row0, row0 + out) of a linear weight W [*, in] as the MatMul operand W^T [in, out]. */
static const char *weight_t(Ex *e, const char *what, const float *w, int row0, int out, int in)
{
    return lpt_onnx_const_linear(e->g, what, w ? w + (size_t)row0 * in : NULL, out, in);
}

/* Rows of x [rows, c] divided by max(|row|, 1e-12) (double), transposed: [c, rows]. */
static const char *normalised_rows_t(Ex *e, const char *what, const float *x, int rows, int c)
{
    if (!x)
        return NULL;
    float *t = malloc((size_t)rows * c * sizeof *t);
    if (!t) {
        fail_oom(e);
        return NULL;
    }
    for (int r = 0; r < rows; r++) {
        double sq = 0.0;
        for (int j = 0; j < c; j++)
            sq += (double)x[(size_t)r * c + j] * x[(size_t)r * c + j];
        double n = fmax(sqrt(sq), NORM_EPS);
        for (int j = 0; j < c; j++)
            t[(size_t)j * rows + r] = (float)(x[(size_t)r * c + j] / n);
    }
    int64_t dims[2] = {c, rows};
    const char *name = const_f32(e, what, dims, 2, t);
    free(t);
    return name;
}

/* ---- constants -------------------------------------------------------------------------- */

/* Keys and values of the shared prompts of one layer, [1, P, C] each:
 * LN1(prompt) W_{k,v}^T + b_{k,v}, in double. */
static void prompt_kv(Ex *e, LayerNames *ln, const float *prompt, const float *ln_w,
                      const float *ln_b, const float *qkv_w, const float *qkv_b)
{
    int P = e->P, C = e->C;
    double *a = malloc((size_t)C * sizeof *a);
    float *kv = malloc((size_t)2 * P * C * sizeof *kv);
    if (!a || !kv) {
        fail_oom(e);
        free(a);
        free(kv);
        return;
    }
    for (int j = 0; j < P; j++) {
        const float *x = prompt + (size_t)j * C;
        double mean = 0.0, var = 0.0;
        for (int c = 0; c < C; c++)
            mean += x[c];
        mean /= C;
        for (int c = 0; c < C; c++)
            var += (x[c] - mean) * (x[c] - mean);
        double rstd = 1.0 / sqrt(var / C + (double)e->cfg->eps);
        for (int c = 0; c < C; c++)
            a[c] = (x[c] - mean) * rstd * ln_w[c] + ln_b[c];
        for (int part = 0; part < 2; part++) /* k rows C..2C-1, v rows 2C..3C-1 of qkv */
            for (int o = 0; o < C; o++) {
                const float *w = qkv_w + (size_t)((part + 1) * C + o) * C;
                double s = qkv_b[(part + 1) * C + o];
                for (int c = 0; c < C; c++)
                    s += a[c] * w[c];
                kv[((size_t)part * P + j) * C + o] = (float)s;
            }
    }
    int64_t dims[3] = {1, P, C};
    ln->kp = const_f32(e, "prompt.k", dims, 3, kv);
    ln->vp = const_f32(e, "prompt.v", dims, 3, kv + (size_t)P * C);
    free(a);
    free(kv);
}

/* Emits the constants of layer i into e->layers[i]. */
static void layer_consts(Ex *e, int i)
{
    LayerNames *ln = &e->layers[i];
    int C = e->C;
    char name[64];
#define FETCH(var, fmt)                                                                        \
    snprintf(name, sizeof name, fmt, i);                                                       \
    float *var = fetch(e, name, NULL)
    FETCH(ln1_w, "blocks.%d.ln1.weight");
    FETCH(ln1_b, "blocks.%d.ln1.bias");
    FETCH(qkv_w, "blocks.%d.qkv.weight");
    FETCH(qkv_b, "blocks.%d.qkv.bias");
    FETCH(proj_w, "blocks.%d.proj.weight");
    FETCH(proj_b, "blocks.%d.proj.bias");
    FETCH(ln2_w, "blocks.%d.ln2.weight");
    FETCH(ln2_b, "blocks.%d.ln2.bias");
    FETCH(fc1_w, "blocks.%d.fc1.weight");
    FETCH(fc1_b, "blocks.%d.fc1.bias");
    FETCH(fc2_w, "blocks.%d.fc2.weight");
    FETCH(fc2_b, "blocks.%d.fc2.bias");
    lpt_onnx_graph_scope(e->g, "%s/blocks.%d", e->scope, i);
    ln->ln1_w = vec(e, "ln1.weight", ln1_w, C);
    ln->ln1_b = vec(e, "ln1.bias", ln1_b, C);
    ln->wq = weight_t(e, "q.weight", qkv_w, 0, C, C);
    ln->wk = weight_t(e, "k.weight", qkv_w, C, C, C);
    ln->wv = weight_t(e, "v.weight", qkv_w, 2 * C, C, C);
    ln->bq = vec(e, "q.bias", qkv_b, C);
    ln->bk = vec(e, "k.bias", qkv_b ? qkv_b + C : NULL, C);
    ln->bv = vec(e, "v.bias", qkv_b ? qkv_b + 2 * C : NULL, C);
    ln->wo = weight_t(e, "proj.weight", proj_w, 0, C, C);
    ln->bo = vec(e, "proj.bias", proj_b, C);
    ln->ln2_w = vec(e, "ln2.weight", ln2_w, C);
    ln->ln2_b = vec(e, "ln2.bias", ln2_b, C);
    ln->fc1_w = weight_t(e, "fc1.weight", fc1_w, 0, e->mlp, C);
    ln->fc1_b = vec(e, "fc1.bias", fc1_b, e->mlp);
    ln->fc2_w = weight_t(e, "fc2.weight", fc2_w, 0, C, e->mlp);
    ln->fc2_b = vec(e, "fc2.bias", fc2_b, C);
    if (e->prompts) {
        FETCH(prompt, "prompt.%d");
        if (prompt && ln1_w && ln1_b && qkv_w && qkv_b)
            prompt_kv(e, ln, prompt, ln1_w, ln1_b, qkv_w, qkv_b);
        free(prompt);
    }
    if (e->adapters) {
        FETCH(down_w, "adapter.%d.down.weight");
        FETCH(down_b, "adapter.%d.down.bias");
        FETCH(up_w, "adapter.%d.up.weight");
        FETCH(up_b, "adapter.%d.up.bias");
        FETCH(scale, "adapter.%d.scale");
        ln->down_w = weight_t(e, "adapter.down.weight", down_w, 0, e->R, C);
        ln->down_b = vec(e, "adapter.down.bias", down_b, e->R);
        ln->up_w = weight_t(e, "adapter.up.weight", up_w, 0, C, e->R);
        ln->up_b = vec(e, "adapter.up.bias", up_b, C);
        ln->scale = scale ? const_f32(e, "adapter.scale", NULL, 0, scale) : NULL;
        free(down_w);
        free(down_b);
        free(up_w);
        free(up_b);
        free(scale);
    }
    if (e->mode == LPT_VIT_PHASE2 && i >= e->G) {
        snprintf(name, sizeof name, "pool.%d", i - e->G);
        float *pool = fetch(e, name, NULL);
        int64_t dims[3] = {e->M, e->P, C};
        ln->pool = const_f32(e, "pool", dims, 3, pool);
        free(pool);
    }
#undef FETCH
    free(ln1_w);
    free(ln1_b);
    free(qkv_w);
    free(qkv_b);
    free(proj_w);
    free(proj_b);
    free(ln2_w);
    free(ln2_b);
    free(fc1_w);
    free(fc1_b);
    free(fc2_w);
    free(fc2_b);
}

/* Shapes, axes and scalars every layer uses (in the expert's root scope). */
static void shared_consts(Ex *e, const char *images)
{
    int64_t one = 1;
    int64_t heads[4] = {0, 0, e->H, e->D}, merge[3] = {0, 0, e->C}, cls[2] = {0, e->C};
    int64_t d1 = 1, d2 = 2, d3 = 3, d4 = 4;
    e->heads_shape = const_i64(e, "heads_shape", &d4, 1, heads);
    e->merge_shape = const_i64(e, "merge_shape", &d3, 1, merge);
    e->cls_shape = const_i64(e, "cls_shape", &d2, 1, cls);
    int64_t zero = 0, ones[2] = {1, 1};
    e->row0_starts = const_i64(e, "row0_starts", &d1, 1, &zero);
    e->row0_ends = const_i64(e, "row0_ends", &d1, 1, &one);
    e->axis1 = const_i64(e, "axis1", &d1, 1, &one);
    float scale = 1.0f / sqrtf((float)e->D), eps = (float)NORM_EPS; /* as lpt_attention */
    e->attn_scale = const_f32(e, "attn_scale", NULL, 0, &scale);
    e->norm_eps = const_f32(e, "norm_eps", NULL, 0, &eps);
    if (e->cfg->act == LPT_VIT_ACT_QUICK_GELU) {
        float k = 1.702f;
        e->act_k[0] = const_f32(e, "quick_gelu_k", NULL, 0, &k);
    } else {
        lpt_onnx_gelu_consts(e->g, e->act_k);
    }
    if (e->prompts) { /* [N] from the images' shape, then [N, 1, 1] */
        LptOnnxAttr range[2] = {LPT_ONNX_ATTR_I("start", 0), LPT_ONNX_ATTR_I("end", 1)};
        const char *n = node(e, "Shape", (const char *[]){images}, 1, range, 2);
        const char *rest = const_i64(e, "ones", &d2, 1, ones);
        LptOnnxAttr axis0 = LPT_ONNX_ATTR_I("axis", 0);
        e->batch_shape = node(e, "Concat", (const char *[]){n, rest}, 2, &axis0, 1);
    }
}

/* ---- graph pieces ----------------------------------------------------------------------- */

static const char *layernorm(Ex *e, const char *x, const char *w, const char *b)
{
    LptOnnxAttr a[2] = {LPT_ONNX_ATTR_I("axis", -1), LPT_ONNX_ATTR_F("epsilon", e->cfg->eps)};
    return node(e, "LayerNormalization", (const char *[]){x, w, b}, 3, a, 2);
}

/* x W^T + b with the transposed weight wt. */
static const char *linear(Ex *e, const char *x, const char *wt, const char *b)
{
    return lpt_onnx_linear(e->g, x, wt, b);
}

static const char *transpose(Ex *e, const char *x, const int64_t *perm, int rank)
{
    LptOnnxAttr a = LPT_ONNX_ATTR_IS("perm", perm, rank);
    return node(e, "Transpose", (const char *[]){x}, 1, &a, 1);
}

static const char *concat(Ex *e, const char *const *in, int n, int axis)
{
    LptOnnxAttr a = LPT_ONNX_ATTR_I("axis", axis);
    return node(e, "Concat", in, n, &a, 1);
}

/* Multi-head attention of q [N, Q, C] over k, v [N, S, C]: [N, Q, C]. */
static const char *attention(Ex *e, const char *q, const char *k, const char *v)
{
    static const int64_t p_qv[4] = {0, 2, 1, 3}, p_k[4] = {0, 2, 3, 1};
    const char *qh = transpose(e, OP2(e, "Reshape", q, e->heads_shape), p_qv, 4); /* N,H,Q,D */
    const char *kh = transpose(e, OP2(e, "Reshape", k, e->heads_shape), p_k, 4);  /* N,H,D,S */
    const char *vh = transpose(e, OP2(e, "Reshape", v, e->heads_shape), p_qv, 4); /* N,H,S,D */
    const char *s = OP2(e, "Mul", OP2(e, "MatMul", qh, kh), e->attn_scale);        /* N,H,Q,S */
    const char *o = OP2(e, "MatMul", lpt_onnx_softmax(e->g, s), vh);               /* N,H,Q,D */
    return OP2(e, "Reshape", transpose(e, o, p_qv, 4), e->merge_shape);
}

static const char *activation(Ex *e, const char *u)
{
    if (e->cfg->act == LPT_VIT_ACT_QUICK_GELU) /* x sigmoid(1.702 x) */
        return OP2(e, "Mul", u, OP1(e, "Sigmoid", OP2(e, "Mul", u, e->act_k[0])));
    return lpt_onnx_gelu(e->g, u, e->act_k); /* 0.5 x (1 + erf(x / sqrt 2)) */
}

/* Block i on x [N, T, C]; the last block returns the class-token row [N, 1, C] only. sel
 * [N, top_k] int64: the pool entries of each image when the block has group prompts. */
static const char *block(Ex *e, int i, const char *x, const char *sel)
{
    const LayerNames *ln = &e->layers[i];
    lpt_onnx_graph_scope(e->g, "%s/blocks.%d%s", e->scope, i, sel ? "/group" : "");
    const char *a1 = layernorm(e, x, ln->ln1_w, ln->ln1_b);
    const char *q_in = a1, *res = x;
    if (i == e->L - 1) { /* the class token's row: its query and residual */
        const char *const s0[4] = {a1, e->row0_starts, e->row0_ends, e->axis1};
        const char *const s1[4] = {x, e->row0_starts, e->row0_ends, e->axis1};
        q_in = node(e, "Slice", s0, 4, NULL, 0);
        res = node(e, "Slice", s1, 4, NULL, 0);
    }
    const char *q = linear(e, q_in, ln->wq, ln->bq);
    const char *ks[3] = {linear(e, a1, ln->wk, ln->bk)}, *vs[3] = {linear(e, a1, ln->wv, ln->bv)};
    int n = 1;
    if (e->prompts) { /* the shared prompts' constant rows, one copy per image */
        ks[n] = OP2(e, "Expand", ln->kp, e->batch_shape);
        vs[n++] = OP2(e, "Expand", ln->vp, e->batch_shape);
    }
    if (sel) { /* the group prompt: mean of the chosen pool entries, LN1, K/V projections */
        LptOnnxAttr axis0 = LPT_ONNX_ATTR_I("axis", 0);
        const char *gathered = node(e, "Gather", (const char *[]){ln->pool, sel}, 2, &axis0, 1);
        static const int64_t ax1[1] = {1};
        LptOnnxAttr mean[2] = {LPT_ONNX_ATTR_IS("axes", ax1, 1), LPT_ONNX_ATTR_I("keepdims", 0)};
        const char *gp = node(e, "ReduceMean", (const char *[]){gathered}, 1, mean, 2);
        const char *lg = layernorm(e, gp, ln->ln1_w, ln->ln1_b);
        ks[n] = linear(e, lg, ln->wk, ln->bk);
        vs[n++] = linear(e, lg, ln->wv, ln->bv);
    }
    const char *k = n > 1 ? concat(e, ks, n, 1) : ks[0];
    const char *v = n > 1 ? concat(e, vs, n, 1) : vs[0];
    const char *o = attention(e, q, k, v);
    const char *h = OP2(e, "Add", res, linear(e, o, ln->wo, ln->bo));
    const char *a2 = layernorm(e, h, ln->ln2_w, ln->ln2_b);
    const char *m = linear(e, activation(e, linear(e, a2, ln->fc1_w, ln->fc1_b)), ln->fc2_w,
                           ln->fc2_b);
    const char *out = OP2(e, "Add", m, h);
    if (e->adapters) { /* + s Up(ReLU(Down(a2))) */
        const char *d = OP1(e, "Relu", linear(e, a2, ln->down_w, ln->down_b));
        const char *up = linear(e, d, ln->up_w, ln->up_b);
        out = OP2(e, "Add", out, OP2(e, "Mul", up, ln->scale));
    }
    return out;
}

/* The class-token row [N, 1, C] -> final LN -> (CLIP) proj: the feature [N, C']. */
static const char *feature(Ex *e, const char *cls_row, const char *norm_w, const char *norm_b,
                           const char *proj_t)
{
    const char *fl = layernorm(e, OP2(e, "Reshape", cls_row, e->cls_shape), norm_w, norm_b);
    return proj_t ? OP2(e, "MatMul", fl, proj_t) : fl;
}

/* cos(f, rows) with rows_nt the normalised rows transposed [C', rows]: [N, rows]. */
static const char *cosine(Ex *e, const char *f, const char *rows_nt)
{
    return OP2(e, "MatMul", lpt_onnx_l2_normalise(e->g, f, e->norm_eps), rows_nt);
}

/* Patch embedding (Conv), class token and positions (Pad + Add), CLIP's ln_pre. */
static const char *embed(Ex *e, const char *images)
{
    int C = e->C, T = e->T;
    size_t count = 0;
    float *pw = fetch(e, "patch.weight", NULL);
    float *pb = e->cfg->clip_style ? NULL : fetch(e, "patch.bias", NULL);
    float *cls = fetch(e, "cls", NULL);
    float *pos = fetch(e, "pos", &count);
    lpt_onnx_graph_scope(e->g, "%s/embed", e->scope);
    int64_t wdims[4] = {C, 3, e->p, e->p}, tdims[3] = {1, T, C};
    const char *w = const_f32(e, "patch.weight", wdims, 4, pw);
    const char *b = pb ? vec(e, "patch.bias", pb, C) : NULL;
    float *tok = NULL;
    if (cls && pos && (tok = malloc(count * sizeof *tok)) != NULL) {
        memcpy(tok, pos, count * sizeof *tok);
        for (int c = 0; c < C; c++)
            tok[c] = cls[c] + pos[c]; /* as lpt_op_embed_forward: cls + pos[0] */
    } else if (cls && pos) {
        fail_oom(e);
    }
    const char *tokens = const_f32(e, "cls_pos", tdims, 3, tok);
    int64_t flat[3] = {0, C, e->N}, pads[6] = {0, 1, 0, 0, 0, 0}, d3 = 3, d6 = 6;
    const char *flat_shape = const_i64(e, "flat_shape", &d3, 1, flat);
    const char *pad = const_i64(e, "pads", &d6, 1, pads);
    int64_t kernel[2] = {e->p, e->p};
    LptOnnxAttr conv_a[2] = {LPT_ONNX_ATTR_IS("kernel_shape", kernel, 2),
                             LPT_ONNX_ATTR_IS("strides", kernel, 2)};
    const char *conv_in[3] = {images, w, b};
    const char *conv = node(e, "Conv", conv_in, b ? 3 : 2, conv_a, 2); /* [N, C, S/p, S/p] */
    static const int64_t p021[3] = {0, 2, 1};
    const char *patches = transpose(e, OP2(e, "Reshape", conv, flat_shape), p021, 3);
    const char *x = OP2(e, "Add", OP2(e, "Pad", patches, pad), tokens); /* row 0: 0 + cls */
    if (e->cfg->clip_style) {
        float *lw = fetch(e, "ln_pre.weight", NULL), *lb = fetch(e, "ln_pre.bias", NULL);
        x = layernorm(e, x, vec(e, "ln_pre.weight", lw, C), vec(e, "ln_pre.bias", lb, C));
        free(lw);
        free(lb);
    }
    free(pw);
    free(pb);
    free(cls);
    free(pos);
    free(tok);
    return x;
}

LptStatus lpt_onnx_emit_expert(LptOnnxGraph *g, LptVit *vit, LptVitMode mode,
                               const char *scope, const char *images, LptOnnxExpertValues *out,
                               LptError *err)
{
    if (!g || !vit || !scope || !images || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "onnx export: NULL argument");
    const LptVitConfig *cfg = lpt_vit_config(vit);
    Ex e = {0};
    e.g = g;
    e.scope = scope;
    e.vit = vit;
    e.cfg = cfg;
    e.mode = mode;
    e.err = err;
    e.L = cfg->depth;
    e.C = cfg->width;
    e.H = cfg->heads;
    e.D = cfg->width / cfg->heads;
    e.T = lpt_vit_tokens(vit);
    e.N = e.T - 1;
    e.P = cfg->prompts;
    e.R = cfg->adapter_rank;
    e.M = cfg->pool_size;
    e.K = cfg->classes;
    e.Cf = lpt_vit_feature_width(vit);
    e.G = cfg->depth - cfg->depth / 2;
    e.topk = cfg->pool_top_k;
    e.mlp = cfg->mlp;
    e.p = cfg->patch;
    e.prompts = mode != LPT_VIT_PLAIN && e.P > 0;
    e.adapters = mode != LPT_VIT_PLAIN && e.R > 0;
    memset(out, 0, sizeof *out);
    if (e.K < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "the expert has no head (classes is 0)");
    if (mode == LPT_VIT_PHASE2 && e.M < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "phase 2 needs a prompt pool (pool_size is 0)");
    e.layers = calloc((size_t)e.L, sizeof *e.layers);
    if (!e.layers)
        return fail_oom(&e);

    lpt_onnx_graph_scope(g, "%s", scope);
    shared_consts(&e, images);
    float *norm_w = fetch(&e, "norm.weight", NULL), *norm_b = fetch(&e, "norm.bias", NULL);
    float *proj = cfg->clip_style ? fetch(&e, "proj", NULL) : NULL;
    float *head = fetch(&e, "head", NULL);
    float *keys = mode == LPT_VIT_PHASE2 ? fetch(&e, "keys", NULL) : NULL;
    const char *nw = vec(&e, "norm.weight", norm_w, e.C), *nb = vec(&e, "norm.bias", norm_b, e.C);
    const char *proj_t = proj ? weight_t(&e, "proj", proj, 0, e.Cf, e.C) : NULL;
    const char *head_nt = normalised_rows_t(&e, "head", head, e.K, e.Cf);
    const char *keys_nt = keys ? normalised_rows_t(&e, "keys", keys, e.M, e.Cf) : NULL;
    free(norm_w);
    free(norm_b);
    free(proj);
    free(head);
    free(keys);
    for (int i = 0; i < e.L && e.st == LPT_OK; i++)
        layer_consts(&e, i);

    const char *x = embed(&e, images);
    int split = mode == LPT_VIT_PHASE2 ? e.G : e.L;
    for (int i = 0; i < split; i++)
        x = block(&e, i, x, NULL);
    if (mode == LPT_VIT_PHASE2) { /* the query pass branches off at layer G */
        const char *qx = x;
        for (int i = e.G; i < e.L; i++)
            qx = block(&e, i, qx, NULL);
        lpt_onnx_graph_scope(g, "%s/query", scope);
        const char *kc = cosine(&e, feature(&e, qx, nw, nb, proj_t), keys_nt);
        int64_t k = e.topk, d1 = 1;
        const char *kk = const_i64(&e, "top_k", &d1, 1, &k);
        const char *topk[2] = {NULL, NULL};
        LptOnnxAttr a[3] = {LPT_ONNX_ATTR_I("axis", -1), LPT_ONNX_ATTR_I("largest", 1),
                            LPT_ONNX_ATTR_I("sorted", 1)};
        lpt_onnx_node(g, "TopK", (const char *[]){kc, kk}, 2, topk, 2, a, 3);
        out->indices = topk[1];
        for (int i = e.G; i < e.L; i++)
            x = block(&e, i, x, out->indices);
    }
    lpt_onnx_graph_scope(g, "%s/head", scope);
    out->features = feature(&e, x, nw, nb, proj_t);
    out->logits = cosine(&e, out->features, head_nt);
    free(e.layers);
    if (e.st != LPT_OK)
        return e.st;
    if (lpt_onnx_graph_failed(g))
        return fail_oom(&e);
    return LPT_OK;
}

/* ---- export ----------------------------------------------------------------------------- */

void lpt_onnx_expert_options_init(LptOnnxExpertOptions *opt, const LptVitConfig *cfg)
{
    static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memset(opt, 0, sizeof *opt);
    bool clip = cfg && cfg->clip_style;
    opt->mode = cfg && cfg->pool_size > 0 ? LPT_VIT_PHASE2 : LPT_VIT_PHASE1;
    for (int c = 0; c < 3; c++) {
        opt->mean[c] = clip ? clip_mean[c] : 0.5f;
        opt->std[c] = clip ? clip_std[c] : 0.5f;
    }
    opt->interp = LPT_INTERP_BILINEAR;
    opt->prob_scale = 20.0f;
}

/* The first row of the tensor `name` ([rows, n / rows]) whose values are all zero, or -1
 * (also with *st set when it cannot be read). */
static int zero_row(LptVit *vit, const char *name, int rows, LptStatus *st, LptError *err)
{
    size_t n = lpt_vit_tensor(vit, name)->count, len = n / (size_t)rows;
    float *v = malloc(n * sizeof *v);
    if (!v) {
        *st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
        return -1;
    }
    *st = lpt_vit_get(vit, name, v, n, err);
    int found = -1;
    for (int r = 0; r < rows && found < 0 && *st == LPT_OK; r++) {
        bool zero = true;
        for (size_t j = (size_t)r * len; j < (size_t)(r + 1) * len && zero; j++)
            zero = v[j] == 0.0f;
        if (zero)
            found = r;
    }
    free(v);
    return found;
}

/* True when the tensors "<prefix><j><suffix>" for j < count are all zero. */
static bool layers_zero(LptVit *vit, const char *prefix, const char *suffix, int count,
                        LptStatus *st, LptError *err)
{
    bool zero = true;
    for (int j = 0; j < count && zero && *st == LPT_OK; j++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d%s", prefix, j, suffix);
        zero = zero_row(vit, name, 1, st, err) == 0;
    }
    return zero && *st == LPT_OK;
}

/* Refuses an expert whose trainable tensors the export needs were never initialised. */
static LptStatus check_trainable(LptVit *vit, LptVitMode mode, LptError *err)
{
    const LptVitConfig *cfg = lpt_vit_config(vit);
    LptStatus st = LPT_OK;
    const char *bad = NULL;
    char what[64];
    int row = zero_row(vit, "head", cfg->classes, &st, err);
    if (row >= 0) {
        snprintf(what, sizeof what, "head row %d is all zero", row);
        bad = what;
    }
    if (mode != LPT_VIT_PLAIN && !bad && cfg->prompts > 0 &&
        layers_zero(vit, "prompt.", "", cfg->depth, &st, err))
        bad = "the shared prompts are all zero";
    if (mode != LPT_VIT_PLAIN && !bad && cfg->adapter_rank > 0 &&
        layers_zero(vit, "adapter.", ".down.weight", cfg->depth, &st, err))
        bad = "the adapters' down weights are all zero";
    if (mode == LPT_VIT_PHASE2) {
        row = !bad && st == LPT_OK ? zero_row(vit, "keys", cfg->pool_size, &st, err) : -1;
        if (row >= 0) {
            snprintf(what, sizeof what, "pool key %d is all zero", row);
            bad = what;
        }
        if (!bad && layers_zero(vit, "pool.", "", cfg->depth / 2, &st, err))
            bad = "the prompt pool is all zero";
    }
    if (st != LPT_OK)
        return st;
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: the expert's trainable tensors were never initialised or "
                             "trained (run lpt_vit_init_trainable, train, or load a checkpoint "
                             "first)", bad);
    return LPT_OK;
}

LptStatus lpt_onnx_check_expert(LptVit *vit, const LptOnnxExpertOptions *opt, LptError *err)
{
    const LptVitConfig *cfg = lpt_vit_config(vit);
    if (opt->mode < LPT_VIT_PLAIN || opt->mode > LPT_VIT_PHASE2)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "unknown mode %d",
                             (int)opt->mode);
    if (cfg->classes < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "the expert has no head (classes is 0)");
    if (opt->mode == LPT_VIT_PHASE2 && cfg->pool_size < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "phase 2 needs a prompt pool (pool_size is 0)");
    if (!(opt->prob_scale > 0.0f) || !isfinite(opt->prob_scale))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "prob_scale %g must be a positive number", (double)opt->prob_scale);
    for (int c = 0; c < 3; c++)
        if (!(opt->std[c] > 0.0f) || !isfinite(opt->std[c]) || !isfinite(opt->mean[c]))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "preprocessing std[%d] must be > 0 and mean[%d] finite", c, c);
    return check_trainable(vit, opt->mode, err);
}

static const char *mode_name(LptVitMode mode)
{
    return mode == LPT_VIT_PLAIN ? "plain" : mode == LPT_VIT_PHASE1 ? "phase1" : "phase2";
}

/* A float as the shortest decimal that reads back as the same float (up to 9 digits), so
 * 0.5f prints as 0.5 and 1e-5f as 1e-05, not as the double nearest to it. */
static double decimal(float v)
{
    char text[32];
    for (int digits = 6; digits < 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)v);
        if (strtof(text, NULL) == v)
            return strtod(text, NULL);
    }
    snprintf(text, sizeof text, "%.9g", (double)v);
    return strtod(text, NULL);
}

cJSON *lpt_onnx_json_floats(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int j = 0; j < n && a; j++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(decimal(v[j])));
    return a;
}

cJSON *lpt_onnx_json_classes(const char *const *names, int classes)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < classes && a; k++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[k]));
    return a;
}

cJSON *lpt_onnx_json_preprocessing(int image, LptInterp interp, const float *mean,
                                   const float *std)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "layout", "NCHW");
    cJSON_AddStringToObject(o, "channels", "RGB");
    cJSON_AddNumberToObject(o, "size", image);
    cJSON_AddNumberToObject(o, "resize", lpt_augment_eval_resize(image));
    cJSON_AddStringToObject(o, "crop", "center");
    cJSON_AddStringToObject(o, "interpolation",
                            interp == LPT_INTERP_BICUBIC ? "bicubic" : "bilinear");
    if (mean && std) {
        cJSON_AddItemToObject(o, "mean", lpt_onnx_json_floats(mean, 3));
        cJSON_AddItemToObject(o, "std", lpt_onnx_json_floats(std, 3));
        cJSON_AddStringToObject(o, "formula", "(pixel / 255 - mean) / std");
    } else {
        cJSON_AddStringToObject(o, "formula", "pixel / 255");
    }
    return o;
}

cJSON *lpt_onnx_json_expert(const LptOnnxExpertOptions *opt, const LptVitConfig *cfg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", mode_name(opt->mode));
    cJSON_AddStringToObject(o, "backbone", cfg->clip_style ? "clip" : "vit");
    cJSON_AddNumberToObject(o, "depth", cfg->depth);
    cJSON_AddNumberToObject(o, "width", cfg->width);
    cJSON_AddNumberToObject(o, "heads", cfg->heads);
    cJSON_AddNumberToObject(o, "mlp", cfg->mlp);
    cJSON_AddNumberToObject(o, "patch", cfg->patch);
    cJSON_AddNumberToObject(o, "image", cfg->image);
    cJSON_AddNumberToObject(o, "eps", decimal(cfg->eps));
    cJSON_AddStringToObject(o, "act", cfg->act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu");
    if (cfg->clip_style)
        cJSON_AddNumberToObject(o, "proj_dim", cfg->proj_dim);
    cJSON_AddNumberToObject(o, "prompts", opt->mode == LPT_VIT_PLAIN ? 0 : cfg->prompts);
    cJSON_AddNumberToObject(o, "adapter_rank", opt->mode == LPT_VIT_PLAIN ? 0 : cfg->adapter_rank);
    if (opt->mode == LPT_VIT_PHASE2) {
        cJSON_AddNumberToObject(o, "pool_size", cfg->pool_size);
        cJSON_AddNumberToObject(o, "pool_top_k", cfg->pool_top_k);
    }
    cJSON_AddNumberToObject(o, "classes", cfg->classes);
    return o;
}

/* The JSON text of `j` (malloc'ed, NULL when j is NULL or out of memory); deletes j. */
static char *json_text(cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return text;
}

LptStatus lpt_onnx_export_expert(LptVit *vit, const LptOnnxExpertOptions *opt,
                                 const char *path, LptError *err)
{
    if (!vit || !opt || !path || !path[0])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "onnx export: no model, options or path");
    const LptVitConfig *cfg = lpt_vit_config(vit);
    LptStatus st = lpt_onnx_check_expert(vit, opt, err);
    if (st == LPT_OK && !opt->class_names)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "no class names");
    for (int k = 0; st == LPT_OK && k < cfg->classes; k++)
        if (!opt->class_names[k])
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "class name %d is missing", k);
    if (st != LPT_OK)
        return lpt_error_prefix(err, "onnx export of '%s'", path);

    LptOnnxGraph *g = lpt_onnx_graph_new(opt->name ? opt->name : "lpt_expert");
    char *meta[META_MAX] = {NULL};
    char scale_text[32];
    if (!g) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "onnx export: out of host memory");
        goto done;
    }
    int64_t in_dims[4] = {-1, 3, cfg->image, cfg->image};
    lpt_onnx_graph_input(g, "images", LPT_ONNX_FLOAT, in_dims, 4);
    LptOnnxExpertValues v;
    st = lpt_onnx_emit_expert(g, vit, opt->mode, "expert", "images", &v, err);
    if (st != LPT_OK) {
        lpt_error_prefix(err, "onnx export of '%s'", path);
        goto done;
    }
    lpt_onnx_graph_scope(g, "expert/probs");
    const char *out[4] = {"features", "logits", "probs", "pool_indices"};
    lpt_onnx_node(g, "Identity", &v.features, 1, &out[0], 1, NULL, 0);
    lpt_onnx_node(g, "Identity", &v.logits, 1, &out[1], 1, NULL, 0);
    const char *scale = lpt_onnx_const_f32(g, lpt_onnx_graph_name(g, "scale"), NULL, 0,
                                           &opt->prob_scale);
    const char *scaled = NULL;
    const char *mul_in[2] = {v.logits, scale};
    lpt_onnx_node(g, "Mul", mul_in, 2, &scaled, 1, NULL, 0);
    LptOnnxAttr axis = LPT_ONNX_ATTR_I("axis", -1);
    lpt_onnx_node(g, "Softmax", &scaled, 1, &out[2], 1, &axis, 1);
    int64_t f_dims[2] = {-1, lpt_vit_feature_width(vit)}, k_dims[2] = {-1, cfg->classes};
    int64_t i_dims[2] = {-1, cfg->pool_top_k};
    lpt_onnx_graph_output(g, out[0], LPT_ONNX_FLOAT, f_dims, 2);
    lpt_onnx_graph_output(g, out[1], LPT_ONNX_FLOAT, k_dims, 2);
    lpt_onnx_graph_output(g, out[2], LPT_ONNX_FLOAT, k_dims, 2);
    if (v.indices) {
        lpt_onnx_node(g, "Identity", &v.indices, 1, &out[3], 1, NULL, 0);
        lpt_onnx_graph_output(g, out[3], LPT_ONNX_INT64, i_dims, 2);
    }

    meta[0] = json_text(lpt_onnx_json_classes(opt->class_names, cfg->classes));
    meta[1] = json_text(lpt_onnx_json_preprocessing(cfg->image, opt->interp, opt->mean,
                                                    opt->std));
    meta[2] = json_text(lpt_onnx_json_expert(opt, cfg));
    snprintf(scale_text, sizeof scale_text, "%.9g", decimal(opt->prob_scale));
    if (!meta[0] || !meta[1] || !meta[2]) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "onnx export: out of host memory");
        goto done;
    }
    const char *keys[META_MAX] = {"classes", "preprocessing", "lpt.expert", "lpt.prob_scale"};
    const char *values[META_MAX] = {meta[0], meta[1], meta[2], scale_text};
    LptOnnxModelInfo info = {
        .ir_version = LPT_ONNX_IR_VERSION,
        .opset = LPT_ONNX_OPSET,
        .producer_name = "LPT Studio",
        .producer_version = LPT_VERSION,
        .doc = "An LPT expert (frozen ViT + prompts + adapters + cosine head). Input 'images' "
               "[N, 3, S, S]: see metadata 'preprocessing'. Outputs: features, cosine logits, "
               "probs = softmax(lpt.prob_scale * logits), pool_indices (phase 2).",
        .meta_keys = keys,
        .meta_values = values,
        .n_meta = META_MAX,
    };
    st = lpt_onnx_graph_write(g, &info, path, err);
done:
    for (int j = 0; j < META_MAX; j++)
        cJSON_free(meta[j]);
    lpt_onnx_graph_free(g);
    return st;
}

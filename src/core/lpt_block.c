/* lpt_block.c: the pre-LN transformer block of the ViT and of CLIP's text tower, forward and
 * backward over the ops of lpt_ops.h, and the layout of its activations. See lpt_block.h.
 */
#include "lpt_block.h"

#include <string.h>

#include "lpt_ops.h"

/* ---- layout ----------------------------------------------------------------------------- */

size_t lpt_block_aligned_bytes(size_t count, LptDType dtype)
{
    size_t b = count * lpt_dtype_size(dtype);
    return (b + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
}

void lpt_carve(LptCarver *c, LptTensor *t, const char *name, LptDType dtype, size_t count)
{
    memset(t, 0, sizeof *t);
    if (c->st != LPT_OK || count == 0)
        return;
    c->bytes += lpt_block_aligned_bytes(count, dtype);
    if (c->arena)
        c->st = lpt_arena_alloc(c->arena, t, name, dtype, count, c->err);
}

void lpt_block_layout_layer(LptCarver *c, LptLayerAct *A, const LptBlockShape *s, int S, bool last,
                            bool causal_last, bool prompts, bool group, bool keep_out)
{
    int B = s->batch, T = s->tokens, Q = last ? 1 : T;
    bool all_rows = causal_last || (last && s->causal); /* attention of every row kept */
    size_t BT = (size_t)B * T, BQ = (size_t)B * Q, BQC = BQ * s->width;
    memset(A, 0, sizeof *A);
    if (keep_out)
        lpt_carve(c, &A->x_out, "act.x", LPT_F32, BQC);
    lpt_carve(c, &A->mean1, "act.ln1.mean", LPT_F32, BT);
    lpt_carve(c, &A->rstd1, "act.ln1.rstd", LPT_F32, BT);
    lpt_carve(c, &A->qkv, "act.qkv", LPT_F32, (size_t)B * S * 3 * s->width);
    if (all_rows)
        lpt_carve(c, &A->o_all, "act.attn.rows", LPT_F32, BT * s->width);
    lpt_carve(c, &A->o, "act.attn", LPT_F32, BQC);
    lpt_carve(c, &A->lse, "act.lse", LPT_F32, (all_rows ? BT : BQ) * s->heads);
    lpt_carve(c, &A->h, "act.h", LPT_F32, BQC);
    lpt_carve(c, &A->a2, "act.ln2", LPT_F32, BQC);
    lpt_carve(c, &A->mean2, "act.ln2.mean", LPT_F32, BQ);
    lpt_carve(c, &A->rstd2, "act.ln2.rstd", LPT_F32, BQ);
    lpt_carve(c, &A->u, "act.fc1", LPT_F32, BQ * s->mlp);
    if (s->rank > 0) {
        lpt_carve(c, &A->d, "act.adapter.down", LPT_F32, BQ * s->rank);
        lpt_carve(c, &A->r, "act.adapter.relu", LPT_F32, BQ * s->rank);
        lpt_carve(c, &A->e, "act.adapter.up", LPT_F32, BQC);
    }
    if (prompts) {
        lpt_carve(c, &A->pmean, "act.prompt.mean", LPT_F32, (size_t)s->prompts);
        lpt_carve(c, &A->prstd, "act.prompt.rstd", LPT_F32, (size_t)s->prompts);
    }
    if (group) {
        lpt_carve(c, &A->gp, "act.group", LPT_F32, (size_t)B * s->prompts * s->width);
        lpt_carve(c, &A->gmean, "act.group.mean", LPT_F32, (size_t)B * s->prompts);
        lpt_carve(c, &A->grstd, "act.group.rstd", LPT_F32, (size_t)B * s->prompts);
    }
}

void lpt_block_layout_scratch(LptCarver *c, LptBlockScratch *sc, const LptBlockShape *s, int S_max,
                              bool train, bool adapters, bool prompts, bool prompt_grads,
                              bool group)
{
    size_t B = (size_t)s->batch, BT = B * s->tokens, BTC = BT * s->width;
    size_t P = (size_t)s->prompts, C = (size_t)s->width;
    LptTensor sel = sc->sel_idx, ones = sc->ones; /* the caller's */
    memset(sc, 0, sizeof *sc);
    sc->sel_idx = sel;
    sc->ones = ones;
    lpt_carve(c, &sc->a1, "act.ln1", LPT_F32, BTC);
    lpt_carve(c, &sc->tmp, "act.proj", LPT_F32, BTC);
    lpt_carve(c, &sc->xc, "act.x_pooled", LPT_F32, B * C);
    lpt_carve(c, &sc->g, "act.mlp", LPT_F32, BT * s->mlp);
    if (prompts)
        lpt_carve(c, &sc->lnp, "act.prompt.ln1", LPT_F32, P * C);
    if (group)
        lpt_carve(c, &sc->lgp, "act.group.ln1", LPT_F32, B * P * C);
    lpt_carve(c, &sc->pool_idx, "act.pooled_index", LPT_I32, B);
    if (!train)
        return;
    lpt_carve(c, &sc->dx, "act.d_x", LPT_F32, BTC);
    lpt_carve(c, &sc->dh, "act.d_h", LPT_F32, BTC);
    lpt_carve(c, &sc->da, "act.d_ln", LPT_F32, BTC);
    lpt_carve(c, &sc->dtmp, "act.d_tmp", LPT_F32, BTC);
    lpt_carve(c, &sc->dg, "act.d_mlp", LPT_F32, BT * s->mlp);
    lpt_carve(c, &sc->du, "act.d_fc1", LPT_F32, BT * s->mlp);
    lpt_carve(c, &sc->dqkv, "act.d_qkv", LPT_F32, B * (size_t)S_max * 3 * C);
    if (adapters) {
        lpt_carve(c, &sc->de, "act.d_adapter.up", LPT_F32, BTC);
        lpt_carve(c, &sc->dd, "act.d_adapter.down", LPT_F32, BT * s->rank);
        lpt_carve(c, &sc->dr, "act.d_adapter.relu", LPT_F32, BT * s->rank);
    }
    if (prompt_grads) {
        lpt_carve(c, &sc->dkvsum, "act.d_prompt.kv", LPT_F32, P * 2 * C);
        lpt_carve(c, &sc->dlnp, "act.d_prompt.ln1", LPT_F32, P * C);
        lpt_carve(c, &sc->dptmp, "act.d_prompt", LPT_F32, P * C);
    }
    if (group) {
        lpt_carve(c, &sc->dlgp, "act.d_group.ln1", LPT_F32, B * P * C);
        lpt_carve(c, &sc->dgp, "act.d_group", LPT_F32, B * P * C);
    }
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* t from element `first` to its end. */
static LptTensor from(const LptTensor *t, size_t first)
{
    return lpt_tensor_view(t, first, t->count - first);
}

LptStatus lpt_block_linear(LptBackend *be, const LptTensor *out, const LptTensor *in,
                           const LptParam *w, const LptParam *bias, size_t rows, int n_out,
                           int n_in, float beta, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_out, n_in, false, true);
    s.beta = beta;
    return lpt_op_gemm_forward(be, out, in, &w->value, bias ? &bias->value : NULL, &s, err);
}

LptStatus lpt_block_linear_din(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                               const LptParam *w, size_t rows, int n_out, int n_in, float beta,
                               LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_in, n_out, false, false);
    s.beta = beta;
    return lpt_op_gemm_forward(be, din, dout, &w->value, NULL, &s, err);
}

LptStatus lpt_block_linear_dw(LptBackend *be, const LptParam *w, const LptParam *b,
                              const LptTensor *dout, const LptTensor *in, size_t rows, int n_out,
                              int n_in, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, (int)rows, n_out, n_in, false, true);
    return lpt_op_gemm_backward(be, NULL, &w->grad, b ? &b->grad : NULL, dout, in, &w->value, &s,
                                err);
}

/* The gradient of t when `on`, else NULL. */
static const LptTensor *grad_if(const LptParam *t, bool on)
{
    return on ? &t->grad : NULL;
}

/* Attention of Q queries over S keys in a [B, S, 3C] qkv buffer (output [B, Q, C]). */
static LptAttentionShape attn_shape(const LptBlockShape *s, int Q, int S)
{
    LptAttentionShape a;
    lpt_attention_shape_init(&a, s->batch, s->heads, s->width / s->heads, Q, S);
    a.ld_q = a.ld_kv = 3 * s->width;
    a.bs_q = a.bs_kv = (int64_t)S * 3 * s->width;
    a.causal = s->causal;
    return a;
}

/* Writes the k, v columns of rows row .. row + P - 1 of each sequence's qkv rows from the
 * LN1-normalised prompts ln: [P, C] shared by every sequence (stride_a 0) or [B, P, C]
 * (stride_a P C). */
static LptStatus prompt_kv(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                           const LptTensor *qkv, const LptTensor *ln, int64_t stride_a, int row,
                           int S, LptError *err)
{
    int C = s->width;
    LptGemmShape g;
    lpt_gemm_shape_init(&g, s->prompts, 2 * C, C, false, true);
    g.ldc = 3 * C;
    g.batch = s->batch;
    g.stride_a = stride_a;
    g.stride_c = (int64_t)S * 3 * C;
    LptTensor wkv = lpt_tensor_view(&p->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
    LptTensor bkv = lpt_tensor_view(&p->qkv_b->value, (size_t)C, (size_t)2 * C);
    LptTensor dst = from(qkv, (size_t)row * 3 * C + C);
    return lpt_op_gemm_forward(be, &dst, ln, &wkv, &bkv, &g, err);
}

/* ---- forward ---------------------------------------------------------------------------- */

LptStatus lpt_block_forward(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                            LptBlockScratch *sc, LptLayerAct *A, const LptTensor *x_in,
                            const LptTensor *x_out, bool last, bool prompts, bool adapter,
                            bool group, LptError *err)
{
    int B = s->batch, T = s->tokens, C = s->width, P = s->prompts;
    int S = T + (prompts ? P : 0) + (group ? P : 0);
    int Q = last ? 1 : T;
    bool all_rows = !last || s->causal; /* queries of every row */
    size_t BT = (size_t)B * T, rows = (size_t)B * Q, n = rows * C;
    float eps = s->eps;
    A->x_in = *x_in;

    LPT_TRY(lpt_op_layernorm_forward(be, &sc->a1, &A->mean1, &A->rstd1, x_in, &p->ln1_w->value,
                                     &p->ln1_b->value, (int)BT, C, eps, err));
    /* q of the query rows, k and v of all T rows: [B, S, 3C] rows 0..T-1 */
    LptGemmShape g;
    lpt_gemm_shape_init(&g, all_rows ? T : 1, all_rows ? 3 * C : C, C, false, true);
    g.ldc = 3 * C;
    g.batch = B;
    g.stride_a = (int64_t)T * C;
    g.stride_c = (int64_t)S * 3 * C;
    LPT_TRY(lpt_op_gemm_forward(be, &A->qkv, &sc->a1, &p->qkv_w->value, &p->qkv_b->value, &g, err));
    if (!all_rows) {
        LptTensor wkv = lpt_tensor_view(&p->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
        LptTensor bkv = lpt_tensor_view(&p->qkv_b->value, (size_t)C, (size_t)2 * C);
        LptTensor kv = from(&A->qkv, (size_t)C);
        g.m = T;
        g.n = 2 * C;
        LPT_TRY(lpt_op_gemm_forward(be, &kv, &sc->a1, &wkv, &bkv, &g, err));
    }
    int row = T;
    if (prompts) {
        LPT_TRY(lpt_op_layernorm_forward(be, &sc->lnp, &A->pmean, &A->prstd, &p->prompt->value,
                                         &p->ln1_w->value, &p->ln1_b->value, P, C, eps, err));
        LPT_TRY(prompt_kv(be, s, p, &A->qkv, &sc->lnp, 0, row, S, err));
        row += P;
    }
    if (group) {
        LPT_TRY(lpt_op_gather_mean_forward(be, &A->gp, &p->pool->value, &sc->sel_idx, B, s->top_k,
                                           s->pool_size, P * C, err));
        LPT_TRY(lpt_op_layernorm_forward(be, &sc->lgp, &A->gmean, &A->grstd, &A->gp,
                                         &p->ln1_w->value, &p->ln1_b->value, B * P, C, eps, err));
        LPT_TRY(prompt_kv(be, s, p, &A->qkv, &sc->lgp, (int64_t)P * C, row, S, err));
    }
    LptTensor k = from(&A->qkv, (size_t)C), vv = from(&A->qkv, (size_t)2 * C);
    if (last && s->causal) { /* every row's attention, then the pooled rows of it */
        LptAttentionShape as = attn_shape(s, T, S);
        LPT_TRY(lpt_op_attention_forward(be, &A->o_all, &A->lse, &A->qkv, &k, &vv, &as, err));
        LPT_TRY(
            lpt_op_gather_mean_forward(be, &A->o, &A->o_all, &sc->pool_idx, B, 1, (int)BT, C, err));
    } else {
        LptAttentionShape as = attn_shape(s, Q, S);
        LPT_TRY(lpt_op_attention_forward(be, &A->o, &A->lse, &A->qkv, &k, &vv, &as, err));
    }
    LPT_TRY(lpt_block_linear(be, &sc->tmp, &A->o, p->proj_w, p->proj_b, rows, C, C, 0.0f, err));
    const LptTensor *res = x_in;
    if (last) { /* the residual of the pooled rows */
        LPT_TRY(
            lpt_op_gather_mean_forward(be, &sc->xc, x_in, &sc->pool_idx, B, 1, (int)BT, C, err));
        res = &sc->xc;
    }
    LPT_TRY(lpt_op_add_forward(be, &A->h, res, &sc->tmp, 1.0f, n, err));

    LPT_TRY(lpt_op_layernorm_forward(be, &A->a2, &A->mean2, &A->rstd2, &A->h, &p->ln2_w->value,
                                     &p->ln2_b->value, (int)rows, C, eps, err));
    LPT_TRY(lpt_block_linear(be, &A->u, &A->a2, p->fc1_w, p->fc1_b, rows, s->mlp, C, 0.0f, err));
    size_t n_mlp = rows * s->mlp;
    if (s->act == LPT_VIT_ACT_QUICK_GELU)
        LPT_TRY(lpt_op_quick_gelu_forward(be, &sc->g, &A->u, n_mlp, err));
    else
        LPT_TRY(lpt_op_gelu_forward(be, &sc->g, &A->u, n_mlp, err));
    LPT_TRY(lpt_block_linear(be, x_out, &sc->g, p->fc2_w, p->fc2_b, rows, C, s->mlp, 0.0f, err));
    LPT_TRY(lpt_op_add_forward(be, x_out, x_out, &A->h, 1.0f, n, err));
    if (adapter) {
        int R = s->rank;
        LPT_TRY(lpt_block_linear(be, &A->d, &A->a2, p->down_w, p->down_b, rows, R, C, 0.0f, err));
        LPT_TRY(lpt_op_relu_forward(be, &A->r, &A->d, rows * R, err));
        LPT_TRY(lpt_block_linear(be, &A->e, &A->r, p->up_w, p->up_b, rows, C, R, 0.0f, err));
        LPT_TRY(lpt_op_scaled_add_forward(be, x_out, x_out, &A->e, &p->scale->value, n, err));
    }
    return LPT_OK;
}

/* ---- backward --------------------------------------------------------------------------- */

/* The prompt and group-prompt gradients of one layer from dqkv (prompt rows after row T). */
static LptStatus prompt_backward(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                                 LptBlockScratch *sc, const LptLayerAct *A, bool prompts,
                                 bool group, bool train_shared, int S, LptError *err)
{
    int B = s->batch, C = s->width, P = s->prompts;
    LptTensor wkv = lpt_tensor_view(&p->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
    int row = s->tokens;
    if (prompts) {
        if (train_shared) {
            /* sum over sequences of the prompt rows' dk, dv: ones[1, B] x rows (one GEMM per
             * prompt row, batch P), then through W_kv and LN1 */
            LptGemmShape s1;
            lpt_gemm_shape_init(&s1, 1, 2 * C, B, false, false);
            s1.ldb = S * 3 * C;
            s1.batch = P;
            s1.stride_b = 3 * C;
            s1.stride_c = 2 * C;
            LptTensor src = from(&sc->dqkv, (size_t)row * 3 * C + C);
            LPT_TRY(lpt_op_gemm_forward(be, &sc->dkvsum, &sc->ones, &src, NULL, &s1, err));
            LptGemmShape s2;
            lpt_gemm_shape_init(&s2, P, C, 2 * C, false, false);
            LPT_TRY(lpt_op_gemm_forward(be, &sc->dlnp, &sc->dkvsum, &wkv, NULL, &s2, err));
            LPT_TRY(lpt_op_layernorm_backward(be, &sc->dptmp, NULL, NULL, &sc->dlnp,
                                              &p->prompt->value, &A->pmean, &A->prstd,
                                              &p->ln1_w->value, P, C, err));
            LPT_TRY(lpt_op_add_forward(be, &p->prompt->grad, &p->prompt->grad, &sc->dptmp, 1.0f,
                                       (size_t)P * C, err));
        }
        row += P;
    }
    if (group) {
        LptGemmShape s3;
        lpt_gemm_shape_init(&s3, P, C, 2 * C, false, false);
        s3.lda = 3 * C;
        s3.batch = B;
        s3.stride_a = (int64_t)S * 3 * C;
        s3.stride_c = (int64_t)P * C;
        LptTensor src = from(&sc->dqkv, (size_t)row * 3 * C + C);
        LPT_TRY(lpt_op_gemm_forward(be, &sc->dlgp, &src, &wkv, NULL, &s3, err));
        LPT_TRY(lpt_op_layernorm_backward(be, &sc->dgp, NULL, NULL, &sc->dlgp, &A->gp, &A->gmean,
                                          &A->grstd, &p->ln1_w->value, B * P, C, err));
        LPT_TRY(lpt_op_gather_mean_backward(be, &p->pool->grad, &sc->dgp, &sc->sel_idx, B, s->top_k,
                                            s->pool_size, P * C, err));
    }
    return LPT_OK;
}

LptStatus lpt_block_backward(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                             LptBlockScratch *sc, const LptLayerAct *A, bool last, bool prompts,
                             bool adapter, bool group, bool train_shared, bool full, bool need_dx,
                             LptError *err)
{
    int B = s->batch, T = s->tokens, C = s->width, P = s->prompts;
    int S = T + (prompts ? P : 0) + (group ? P : 0);
    int Q = last ? 1 : T;
    bool all_rows = !last || s->causal;
    size_t BT = (size_t)B * T, rows = (size_t)B * Q, n = rows * C;

    if (adapter) { /* x_out += s Up(ReLU(Down(a2))) */
        int R = s->rank;
        LPT_TRY(lpt_op_scaled_add_backward(be, &sc->de, train_shared ? &p->scale->grad : NULL,
                                           &sc->dx, &A->e, &p->scale->value, n, err));
        LptGemmShape su;
        lpt_gemm_shape_init(&su, (int)rows, C, R, false, true);
        LPT_TRY(lpt_op_gemm_backward(be, &sc->dr, train_shared ? &p->up_w->grad : NULL,
                                     train_shared ? &p->up_b->grad : NULL, &sc->de, &A->r,
                                     &p->up_w->value, &su, err));
        LPT_TRY(lpt_op_relu_backward(be, &sc->dd, &sc->dr, &A->d, rows * R, err));
        LptGemmShape sd;
        lpt_gemm_shape_init(&sd, (int)rows, R, C, false, true);
        LPT_TRY(lpt_op_gemm_backward(be, &sc->da, train_shared ? &p->down_w->grad : NULL,
                                     train_shared ? &p->down_b->grad : NULL, &sc->dd, &A->a2,
                                     &p->down_w->value, &sd, err));
    }
    /* MLP: da (+)= act'(u) (dx W2) W1 */
    size_t n_mlp = rows * s->mlp;
    bool quick = s->act == LPT_VIT_ACT_QUICK_GELU;
    if (full) { /* FC2's input act(u), recomputed */
        LPT_TRY(quick ? lpt_op_quick_gelu_forward(be, &sc->g, &A->u, n_mlp, err)
                      : lpt_op_gelu_forward(be, &sc->g, &A->u, n_mlp, err));
        LPT_TRY(lpt_block_linear_dw(be, p->fc2_w, p->fc2_b, &sc->dx, &sc->g, rows, C, s->mlp, err));
    }
    LPT_TRY(lpt_block_linear_din(be, &sc->dg, &sc->dx, p->fc2_w, rows, C, s->mlp, 0.0f, err));
    if (quick)
        LPT_TRY(lpt_op_quick_gelu_backward(be, &sc->du, &sc->dg, &A->u, n_mlp, err));
    else
        LPT_TRY(lpt_op_gelu_backward(be, &sc->du, &sc->dg, &A->u, n_mlp, err));
    if (full)
        LPT_TRY(lpt_block_linear_dw(be, p->fc1_w, p->fc1_b, &sc->du, &A->a2, rows, s->mlp, C, err));
    LPT_TRY(lpt_block_linear_din(be, &sc->da, &sc->du, p->fc1_w, rows, s->mlp, C,
                                 adapter ? 1.0f : 0.0f, err));
    LPT_TRY(lpt_op_layernorm_backward(be, &sc->dtmp, grad_if(p->ln2_w, full),
                                      grad_if(p->ln2_b, full), &sc->da, &A->h, &A->mean2, &A->rstd2,
                                      &p->ln2_w->value, (int)rows, C, err));
    LPT_TRY(lpt_op_add_forward(be, &sc->dh, &sc->dx, &sc->dtmp, 1.0f, n, err));

    /* attention branch */
    if (full)
        LPT_TRY(lpt_block_linear_dw(be, p->proj_w, p->proj_b, &sc->dh, &A->o, rows, C, C, err));
    LPT_TRY(lpt_block_linear_din(be, &sc->da, &sc->dh, p->proj_w, rows, C, C, 0.0f, err));
    LptTensor k = from(&A->qkv, (size_t)C), vv = from(&A->qkv, (size_t)2 * C);
    LptTensor dk = from(&sc->dqkv, (size_t)C), dv = from(&sc->dqkv, (size_t)2 * C);
    if (last && s->causal) { /* the pooled rows' output gradient, zero elsewhere */
        LPT_TRY(lpt_tensor_fill_u32(&sc->dtmp, 0, err));
        LPT_TRY(lpt_op_gather_mean_backward(be, &sc->dtmp, &sc->da, &sc->pool_idx, B, 1, (int)BT, C,
                                            err));
        LptAttentionShape as = attn_shape(s, T, S);
        LPT_TRY(lpt_op_attention_backward(be, &sc->dqkv, &dk, &dv, &sc->dtmp, &A->qkv, &k, &vv,
                                          &A->o_all, &A->lse, &as, err));
    } else {
        LptAttentionShape as = attn_shape(s, Q, S);
        if (full && last) /* dq of the rows after the pooled one stays zero for dW_qkv */
            LPT_TRY(lpt_tensor_fill_u32(&sc->dqkv, 0, err));
        LPT_TRY(lpt_op_attention_backward(be, &sc->dqkv, &dk, &dv, &sc->da, &A->qkv, &k, &vv, &A->o,
                                          &A->lse, &as, err));
    }
    if (full) { /* LN1's output, recomputed (the same statistics are written again) */
        LPT_TRY(lpt_op_layernorm_forward(be, &sc->a1, &A->mean1, &A->rstd1, &A->x_in,
                                         &p->ln1_w->value, &p->ln1_b->value, (int)BT, C, s->eps,
                                         err));
        LPT_TRY(lpt_block_linear_dw(be, p->qkv_w, p->qkv_b, &sc->dqkv, &sc->a1, BT, 3 * C, C, err));
    }
    LPT_TRY(prompt_backward(be, s, p, sc, A, prompts, group, train_shared, S, err));
    if (!need_dx)
        return LPT_OK;
    /* dLN1 = dq W_q + dk W_k + dv W_v over the T rows; a non-causal last block has dq in its
     * pooled row 0 only, so its k, v part runs over all rows and its q part is added to row 0 */
    LptGemmShape s4;
    lpt_gemm_shape_init(&s4, T, C, all_rows ? 3 * C : 2 * C, false, false);
    s4.lda = 3 * C;
    s4.batch = B;
    s4.stride_a = (int64_t)S * 3 * C;
    s4.stride_c = (int64_t)T * C;
    if (!all_rows) {
        LptTensor wkv = lpt_tensor_view(&p->qkv_w->value, (size_t)C * C, (size_t)2 * C * C);
        LptTensor dkv = from(&sc->dqkv, (size_t)C);
        LPT_TRY(lpt_op_gemm_forward(be, &sc->da, &dkv, &wkv, NULL, &s4, err));
        s4.m = 1;
        s4.k = C;
        s4.beta = 1.0f;
    }
    LPT_TRY(lpt_op_gemm_forward(be, &sc->da, &sc->dqkv, &p->qkv_w->value, NULL, &s4, err));
    const LptTensor *dw1 = grad_if(p->ln1_w, full), *db1 = grad_if(p->ln1_b, full);
    if (last) { /* dx = dLN1 backward on every row, + dh on the pooled rows */
        LPT_TRY(lpt_op_layernorm_backward(be, &sc->dx, dw1, db1, &sc->da, &A->x_in, &A->mean1,
                                          &A->rstd1, &p->ln1_w->value, (int)BT, C, err));
        return lpt_op_gather_mean_backward(be, &sc->dx, &sc->dh, &sc->pool_idx, B, 1, (int)BT, C,
                                           err);
    }
    LPT_TRY(lpt_op_layernorm_backward(be, &sc->dtmp, dw1, db1, &sc->da, &A->x_in, &A->mean1,
                                      &A->rstd1, &p->ln1_w->value, (int)BT, C, err));
    return lpt_op_add_forward(be, &sc->dx, &sc->dh, &sc->dtmp, 1.0f, BT * C, err);
}

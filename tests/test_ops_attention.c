/* test_ops_attention.c: softmax (forward, backward) and multi-head attention (forward with
 * lse, backward) against double references and central finite differences, plus bad
 * arguments.
 *
 * Attention layouts: separate packed q [B,T,C], k, v [B,S,C]; and q, k, v as column slices
 * 0, C, 2C of one [B, S, 3C + pad] buffer (the prompt rows T..S-1 only serve as keys), with
 * out strided too and the gradients in a buffer laid out the same way. Every element of the
 * output buffers is compared: positions the op must not touch (row and column padding) are
 * expected to keep the NaN the harness fills them with.
 *
 * Tolerances (|got - ref| <= atol + rtol |ref|, r2 = range^2 of q, k, v): softmax 1e-6 + 1e-5
 * (forward) and 1e-6 + 1e-4 (backward, and 1e-5 + 1e-3 vs finite differences); attention out
 * 2e-6 r2 + 1e-4, lse 1e-5 r2 + 1e-5, gradients vs the analytic double reference
 * 5e-6 r2 + 3e-4, and vs finite differences of the double reference (h = 1e-4 range)
 * 2e-5 r2 + 5e-4.
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_SAMPLES 24

/* ---- softmax ----------------------------------------------------------------------------- */

/* y = softmax(scale * x) over one row of n, in double. */
static void ref_softmax_row(const double *x, double *y, int n, double scale)
{
    double m = -INFINITY, sum = 0.0;
    for (int j = 0; j < n; j++)
        m = fmax(m, scale * x[j]);
    for (int j = 0; j < n; j++)
        sum += y[j] = exp(scale * x[j] - m);
    for (int j = 0; j < n; j++)
        y[j] /= sum;
}

typedef struct SoftmaxFd {
    const double *dy; /* the row's output gradient */
    int n;
    double scale;
    double *y; /* scratch row */
} SoftmaxFd;

/* L = sum(dy * softmax(scale x)) over one row. */
static double softmax_loss(const double *x, void *ctx)
{
    SoftmaxFd *c = ctx;
    ref_softmax_row(x, c->y, c->n, c->scale);
    double l = 0.0;
    for (int j = 0; j < c->n; j++)
        l += c->dy[j] * c->y[j];
    return l;
}

/* Inputs uniform in [-range, range]; `masked` sets every 5th value to -inf (and, when the
 * row has more than one value, its last row entirely, which must give NaN). */
static void check_softmax(OpCheck *oc, int rows, int n, float scale, float range, bool masked)
{
    char what[128];
    size_t total = (size_t)rows * n;
    float *x = malloc(total * sizeof *x), *dy = malloc(total * sizeof *dy);
    double *ref = malloc(total * sizeof *ref), *dref = malloc(total * sizeof *dref);
    oc_fill_uniform(oc, x, total, -range, range);
    oc_fill_uniform(oc, dy, total, -1.0f, 1.0f);
    if (masked) {
        for (size_t i = 0; i < total; i += 5)
            x[i] = -INFINITY;
        for (int j = 0; j < n && rows > 1; j++)
            x[(size_t)(rows - 1) * n + j] = -INFINITY;
    }
    LptTensor in = oc_tensor(oc, "in", LPT_F32, total, x);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, total, NULL);
    LptTensor dout = oc_tensor(oc, "dout", LPT_F32, total, dy);
    LptTensor din = oc_tensor(oc, "din", LPT_F32, total, NULL);
    double *xd = oc_to_double(x, total), *dyd = oc_to_double(dy, total);
    for (int r = 0; r < rows; r++)
        ref_softmax_row(xd + (size_t)r * n, ref + (size_t)r * n, n, scale);
    LptError err = {0};

    snprintf(what, sizeof what, "softmax_forward %dx%d scale=%g range=%g%s", rows, n,
             (double)scale, (double)range, masked ? " masked" : "");
    LptStatus st = lpt_op_softmax_forward(oc->be, &out, &in, rows, n, scale, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        goto done;
    oc_check_tensor(oc, what, &out, ref, 1e-6, 1e-5);

    /* backward from the backend's own forward output, as training uses it */
    float *y = oc_fetch(oc, &out);
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (size_t)r * n;
        const double *dr = dyd + (size_t)r * n;
        double dot = 0.0;
        for (int j = 0; j < n; j++)
            dot += dr[j] * yr[j];
        for (int j = 0; j < n; j++)
            dref[(size_t)r * n + j] = scale * yr[j] * (dr[j] - dot);
    }
    free(y);
    snprintf(what, sizeof what, "softmax_backward %dx%d scale=%g range=%g%s", rows, n,
             (double)scale, (double)range, masked ? " masked" : "");
    st = lpt_op_softmax_backward(oc->be, &din, &dout, &out, rows, n, scale, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        goto done;
    oc_check_tensor(oc, what, &din, dref, 1e-6, 1e-4);
    if (!masked) { /* the formula itself against finite differences */
        float *g = oc_fetch(oc, &din);
        size_t idx[FD_SAMPLES];
        int ns = oc_sample_indices(oc, total, idx, FD_SAMPLES);
        double *row = malloc((size_t)n * sizeof *row);
        float *got = malloc((size_t)ns * sizeof *got);
        double *fd = malloc((size_t)ns * sizeof *fd);
        for (int i = 0; i < ns; i++) {
            size_t r = idx[i] / (size_t)n, j = idx[i] % (size_t)n;
            SoftmaxFd c = {dyd + r * n, n, scale, row};
            fd[i] = oc_fd(softmax_loss, &c, xd + r * n, j, 1e-4 * range);
            got[i] = g[idx[i]];
        }
        char fwhat[160];
        snprintf(fwhat, sizeof fwhat, "%s vs finite differences", what);
        oc_compare(oc, fwhat, got, fd, (size_t)ns, 1e-5, 1e-3);
        free(g), free(row), free(got), free(fd);
    }
done:
    free(x), free(dy), free(ref), free(dref), free(xd), free(dyd);
    oc_reset(oc);
}

/* ---- attention ---------------------------------------------------------------------------- */

typedef struct Case {
    int batch, heads, head_dim, q_len, kv_len;
    bool causal;
    bool packed;   /* q, k, v in one [B, S, 3C + pad] buffer; out with row stride C + pad */
    int pad;       /* extra columns per row in the packed layout */
    float scale;   /* 0: 1 / sqrt(D) */
    float range;   /* q, k, v uniform in [-range, range] */
    bool backward; /* also check the backward pass */
} Case;

/* One role (q, k, v, out) of a host buffer: where its [B, rows, C] block lives. */
typedef struct Role {
    size_t off;  /* element offset of row 0, column 0 of batch 0 */
    int ld;      /* row stride */
    int64_t bs;  /* batch stride */
    int rows;    /* T or S */
} Role;

/* The host side of a case: inputs in double (q, k, v may share one array) and their roles. */
typedef struct Host {
    const Case *c;
    int C;
    double *q, *k, *v; /* arrays (not offset); the same array in the packed layout */
    Role rq, rkv, rv, rout; /* rv: v's role (k's, or k's shifted by C columns when packed) */
    double *dout;      /* the out layout */
} Host;

static double at(const double *x, const Role *r, int b, int row, int col)
{
    return x[r->off + (size_t)b * (size_t)r->bs + (size_t)row * (size_t)r->ld + (size_t)col];
}

static size_t pos(const Role *r, int b, int row, int col)
{
    return r->off + (size_t)b * (size_t)r->bs + (size_t)row * (size_t)r->ld + (size_t)col;
}

static double case_scale(const Case *c)
{
    return c->scale != 0.0f ? (double)c->scale : (double)(1.0f / sqrtf((float)c->head_dim));
}

/* Probabilities P [T, S] of head h of batch b (masked entries 0) and lse [T], in double. */
static void ref_probs(const Host *hs, int b, int h, double *p, double *lse)
{
    const Case *c = hs->c;
    int D = c->head_dim, T = c->q_len, S = c->kv_len;
    double scale = case_scale(c);
    for (int t = 0; t < T; t++) {
        double *row = p + (size_t)t * S, m = -INFINITY, sum = 0.0;
        int vis = c->causal ? t + 1 : S;
        for (int s = 0; s < S; s++) {
            double dot = 0.0;
            for (int d = 0; d < D; d++)
                dot += at(hs->q, &hs->rq, b, t, h * D + d) * at(hs->k, &hs->rkv, b, s, h * D + d);
            row[s] = scale * dot;
            if (s < vis)
                m = fmax(m, row[s]);
        }
        for (int s = 0; s < S; s++)
            sum += row[s] = s < vis ? exp(row[s] - m) : 0.0;
        for (int s = 0; s < S; s++)
            row[s] /= sum;
        lse[t] = m + log(sum);
    }
}

/* out [T, D] of head h of batch b given P. */
static void ref_out(const Host *hs, int b, int h, const double *p, double *o)
{
    const Case *c = hs->c;
    int D = c->head_dim, T = c->q_len, S = c->kv_len;
    for (int t = 0; t < T; t++)
        for (int d = 0; d < D; d++) {
            double acc = 0.0;
            for (int s = 0; s < S; s++)
                acc += p[(size_t)t * S + s] * at(hs->v, &hs->rv, b, s, h * D + d);
            o[(size_t)t * D + d] = acc;
        }
}

/* Finite-difference context: the loss sum(dout * out) of one head, as a function of the
 * array `x` (one of q, k, v, which the perturbation goes through). */
typedef struct AttnFd {
    Host hs;
    int b, h;
    double *p, *lse, *o; /* scratch */
} AttnFd;

static double attention_loss(const double *x, void *ctx)
{
    AttnFd *f = ctx;
    (void)x; /* x is one of f->hs.q/k/v, perturbed in place */
    const Case *c = f->hs.c;
    ref_probs(&f->hs, f->b, f->h, f->p, f->lse);
    ref_out(&f->hs, f->b, f->h, f->p, f->o);
    double l = 0.0;
    for (int t = 0; t < c->q_len; t++)
        for (int d = 0; d < c->head_dim; d++)
            l += at(f->hs.dout, &f->hs.rout, f->b, t, f->h * c->head_dim + d) *
                 f->o[(size_t)t * c->head_dim + d];
    return l;
}

/* Finds which role of a gradient buffer element i belongs to: 0 q, 1 k, 2 v, -1 none; sets
 * b, h. `roles` lists the roles this buffer holds (NULL entries absent). */
static int role_of(const Host *hs, const Role *const roles[3], size_t i, int *b, int *h)
{
    const Case *c = hs->c;
    for (int r = 0; r < 3; r++) {
        if (!roles[r] || i < roles[r]->off)
            continue;
        size_t rel = i - roles[r]->off;
        size_t bb = rel / (size_t)roles[r]->bs, rem = rel % (size_t)roles[r]->bs;
        size_t row = rem / (size_t)roles[r]->ld, col = rem % (size_t)roles[r]->ld;
        if (bb < (size_t)c->batch && row < (size_t)roles[r]->rows && col < (size_t)hs->C) {
            *b = (int)bb;
            *h = (int)(col / (size_t)c->head_dim);
            return r;
        }
    }
    return -1;
}

static void fill_nan(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = NAN;
}

static void check_attention(OpCheck *oc, const Case *c)
{
    const int B = c->batch, H = c->heads, D = c->head_dim, T = c->q_len, S = c->kv_len;
    const int C = H * D;
    char name[160], what[200];
    snprintf(name, sizeof name, "B=%d H=%d D=%d T=%d S=%d%s%s%s scale=%g range=%g", B, H, D, T,
             S, c->causal ? " causal" : "", c->packed ? " packed" : "",
             c->pad ? " padded" : "", (double)case_scale(c), (double)c->range);

    LptAttentionShape sh;
    lpt_attention_shape_init(&sh, B, H, D, T, S);
    sh.causal = c->causal;
    if (c->scale != 0.0f)
        sh.scale = c->scale;
    Host hs = {.c = c, .C = C};
    /* Host buffers: in the packed layout one [B, S, 3C + pad] array x; else q, k, v. */
    size_t nq, nkv, nout;
    if (c->packed) {
        int ld = 3 * C + c->pad;
        sh.ld_q = sh.ld_kv = ld;
        sh.bs_q = sh.bs_kv = (int64_t)S * ld;
        sh.ld_out = C + c->pad;
        sh.bs_out = (int64_t)T * sh.ld_out;
        hs.rq = (Role){0, ld, sh.bs_q, T};
        hs.rkv = (Role){(size_t)C, ld, sh.bs_kv, S};
        hs.rout = (Role){0, sh.ld_out, sh.bs_out, T};
        nq = nkv = (size_t)B * S * ld;
        nout = (size_t)B * T * sh.ld_out;
        hs.rv = hs.rkv;
        hs.rv.off += (size_t)C;
    } else { /* the packed defaults (0) of the shape */
        hs.rq = (Role){0, C, (int64_t)T * C, T};
        hs.rkv = (Role){0, C, (int64_t)S * C, S};
        hs.rv = hs.rkv;
        hs.rout = hs.rq;
        nq = nout = (size_t)B * T * C;
        nkv = (size_t)B * S * C;
    }
    float *xq = malloc(nq * sizeof *xq), *xk = NULL, *xv = NULL;
    oc_fill_uniform(oc, xq, nq, -c->range, c->range);
    if (!c->packed) {
        xk = malloc(nkv * sizeof *xk), xv = malloc(nkv * sizeof *xv);
        oc_fill_uniform(oc, xk, nkv, -c->range, c->range);
        oc_fill_uniform(oc, xv, nkv, -c->range, c->range);
    }
    float *dyf = malloc(nout * sizeof *dyf);
    oc_fill_uniform(oc, dyf, nout, -1.0f, 1.0f);
    hs.q = oc_to_double(xq, nq);
    hs.k = c->packed ? hs.q : oc_to_double(xk, nkv);
    hs.v = c->packed ? hs.q : oc_to_double(xv, nkv);
    hs.dout = oc_to_double(dyf, nout);

    /* Device tensors: views of one buffer in the packed layout (v at column 2C). */
    LptTensor tq = oc_tensor(oc, c->packed ? "qkv" : "q", LPT_F32, nq, xq), tk, tv;
    if (c->packed) {
        tk = lpt_tensor_view(&tq, (size_t)C, nq - (size_t)C);
        tv = lpt_tensor_view(&tq, (size_t)2 * C, nq - (size_t)2 * C);
    } else {
        tk = oc_tensor(oc, "k", LPT_F32, nkv, xk);
        tv = oc_tensor(oc, "v", LPT_F32, nkv, xv);
    }
    LptTensor tout = oc_tensor(oc, "out", LPT_F32, nout, NULL);
    LptTensor tlse = oc_tensor(oc, "lse", LPT_F32, (size_t)B * H * T, NULL);
    LptTensor tdout = oc_tensor(oc, "dout", LPT_F32, nout, dyf);

    /* the double reference: out, lse, and the analytic gradients */
    double *ref_o = malloc(nout * sizeof *ref_o), *ref_lse = malloc((size_t)B * H * T * 8);
    double *ref_dq = malloc(nq * sizeof(double));
    double *ref_dk = c->packed ? ref_dq : malloc(nkv * sizeof(double));
    double *ref_dv = c->packed ? ref_dq : malloc(nkv * sizeof(double));
    fill_nan(ref_o, nout), fill_nan(ref_dq, nq);
    if (!c->packed)
        fill_nan(ref_dk, nkv), fill_nan(ref_dv, nkv);
    double *p = malloc((size_t)T * S * sizeof *p), *o = malloc((size_t)T * D * sizeof *o);
    double *ds = malloc((size_t)T * S * sizeof *ds), *di = malloc((size_t)T * sizeof *di);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            ref_probs(&hs, b, h, p, ref_lse + ((size_t)b * H + h) * T);
            ref_out(&hs, b, h, p, o);
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++)
                    ref_o[pos(&hs.rout, b, t, h * D + d)] = o[(size_t)t * D + d];
            if (!c->backward)
                continue;
            double scale = case_scale(c);
            for (int t = 0; t < T; t++) {
                di[t] = 0.0;
                for (int d = 0; d < D; d++)
                    di[t] += at(hs.dout, &hs.rout, b, t, h * D + d) * o[(size_t)t * D + d];
                for (int s = 0; s < S; s++) {
                    double dp = 0.0;
                    for (int d = 0; d < D; d++)
                        dp += at(hs.dout, &hs.rout, b, t, h * D + d) *
                              at(hs.v, &hs.rv, b, s, h * D + d);
                    ds[(size_t)t * S + s] = p[(size_t)t * S + s] * (dp - di[t]);
                }
            }
            for (int d = 0; d < D; d++) {
                for (int t = 0; t < T; t++) {
                    double acc = 0.0;
                    for (int s = 0; s < S; s++)
                        acc += ds[(size_t)t * S + s] * at(hs.k, &hs.rkv, b, s, h * D + d);
                    ref_dq[pos(&hs.rq, b, t, h * D + d)] = scale * acc;
                }
                for (int s = 0; s < S; s++) {
                    double gk = 0.0, gv = 0.0;
                    for (int t = 0; t < T; t++) {
                        gk += ds[(size_t)t * S + s] * at(hs.q, &hs.rq, b, t, h * D + d);
                        gv += p[(size_t)t * S + s] * at(hs.dout, &hs.rout, b, t, h * D + d);
                    }
                    ref_dk[pos(&hs.rkv, b, s, h * D + d)] = scale * gk;
                    ref_dv[pos(&hs.rv, b, s, h * D + d)] = gv;
                }
            }
        }

    LptError err = {0};
    snprintf(what, sizeof what, "attention_forward %s", name);
    LptStatus st = lpt_op_attention_forward(oc->be, &tout, &tlse, &tq, &tk, &tv, &sh, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        goto done;
    /* float scores carry errors that grow with |q||k| and reach out through v */
    double r2 = (double)c->range * c->range;
    oc_check_tensor(oc, what, &tout, ref_o, 2e-6 * r2, 1e-4);
    snprintf(what, sizeof what, "attention_forward lse %s", name);
    oc_check_tensor(oc, what, &tlse, ref_lse, 1e-5 * r2, 1e-5);
    if (!c->backward)
        goto done;

    /* backward from the backend's own out and lse; gradients laid out like the inputs */
    LptTensor tdq = oc_tensor(oc, c->packed ? "dqkv" : "dq", LPT_F32, nq, NULL), tdk, tdv;
    if (c->packed) {
        tdk = lpt_tensor_view(&tdq, (size_t)C, nq - (size_t)C);
        tdv = lpt_tensor_view(&tdq, (size_t)2 * C, nq - (size_t)2 * C);
    } else {
        tdk = oc_tensor(oc, "dk", LPT_F32, nkv, NULL);
        tdv = oc_tensor(oc, "dv", LPT_F32, nkv, NULL);
    }
    snprintf(what, sizeof what, "attention_backward %s", name);
    st = lpt_op_attention_backward(oc->be, &tdq, &tdk, &tdv, &tdout, &tq, &tk, &tv, &tout,
                                   &tlse, &sh, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        goto done;
    double atol = 5e-6 * r2, rtol = 3e-4;
    snprintf(what, sizeof what, "attention_backward dq%s %s", c->packed ? "kv" : "", name);
    oc_check_tensor(oc, what, &tdq, ref_dq, atol, rtol);
    if (!c->packed) {
        snprintf(what, sizeof what, "attention_backward dk %s", name);
        oc_check_tensor(oc, what, &tdk, ref_dk, atol, rtol);
        snprintf(what, sizeof what, "attention_backward dv %s", name);
        oc_check_tensor(oc, what, &tdv, ref_dv, atol, rtol);
    }

    /* finite differences of the double reference at sampled gradient elements */
    AttnFd f = {hs, 0, 0, p, di, o};
    for (int g = 0; g < (c->packed ? 1 : 3); g++) {
        const LptTensor *tg = g == 0 ? &tdq : g == 1 ? &tdk : &tdv;
        double *xg = g == 0 ? hs.q : g == 1 ? hs.k : hs.v;
        const Role *roles[3] = {NULL, NULL, NULL};
        if (c->packed || g == 0)
            roles[0] = &hs.rq;
        if (c->packed || g == 1)
            roles[1] = &hs.rkv;
        if (c->packed || g == 2)
            roles[2] = &hs.rv;
        float *got_all = oc_fetch(oc, tg);
        size_t cand[4 * FD_SAMPLES];
        float got[FD_SAMPLES];
        double fd[FD_SAMPLES];
        int ns = 0, m = oc_sample_indices(oc, tg->count, cand, 4 * FD_SAMPLES);
        for (int i = 0; i < m && ns < FD_SAMPLES; i++) { /* skip padding positions */
            if (role_of(&hs, roles, cand[i], &f.b, &f.h) < 0)
                continue;
            fd[ns] = oc_fd(attention_loss, &f, xg, cand[i], 1e-4 * c->range);
            got[ns++] = got_all[cand[i]];
        }
        free(got_all);
        snprintf(what, sizeof what, "attention_backward d%s vs finite differences %s",
                 c->packed ? "qkv" : g == 0 ? "q" : g == 1 ? "k" : "v", name);
        oc_compare(oc, what, got, fd, (size_t)ns, 2e-5 * r2, 5e-4);
    }
done:
    free(xq), free(xk), free(xv), free(dyf);
    free(hs.q), free(hs.dout);
    if (!c->packed)
        free(hs.k), free(hs.v), free(ref_dk), free(ref_dv);
    free(ref_o), free(ref_lse), free(ref_dq), free(p), free(o), free(ds), free(di);
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor big = oc_tensor(oc, "big", LPT_F32, 4096, NULL);
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor lse = oc_tensor(oc, "lse", LPT_F32, 64, NULL);
    LptError err = {0};
    LptAttentionShape s;

    lpt_attention_shape_init(&s, 1, 2, 4, 5, 3);
    s.causal = true;
    LptStatus st = lpt_op_attention_forward(oc->be, &big, &lse, &big, &big, &big, &s, &err);
    oc_expect_error(oc, "attention_forward: causal with S < T", st, &err, "kv_len (3) >= q_len");

    lpt_attention_shape_init(&s, 1, 2, 4, 5, 5);
    s.ld_q = 7; /* < C = 8 */
    st = lpt_op_attention_forward(oc->be, &big, &lse, &big, &big, &big, &s, &err);
    oc_expect_error(oc, "attention_forward: ld_q too small", st, &err, "below the width 8");

    lpt_attention_shape_init(&s, 1, 1, 300, 2, 2);
    st = lpt_op_attention_forward(oc->be, &big, &lse, &big, &big, &big, &s, &err);
    oc_expect_error(oc, "attention_forward: head_dim too large", st, &err, "head_dim 300");

    lpt_attention_shape_init(&s, 1, 2, 4, 5, 5);
    st = lpt_op_attention_backward(oc->be, &big, &big, &big, &big, &small, &big, &big, &big,
                                   &lse, &s, &err);
    oc_expect_error(oc, "attention_backward: q too small", st, &err, "'small'");

    lpt_attention_shape_init(&s, 1, 2, 4, 5, 5);
    s.ld_kv = 3;
    st = lpt_op_attention_backward(oc->be, &big, &big, &big, &big, &big, &big, &big, &big,
                                   &lse, &s, &err);
    oc_expect_error(oc, "attention_backward: ld_kv too small", st, &err, "row strides");

    st = lpt_op_softmax_forward(oc->be, &small, &big, 2, 4, 1.0f, &err);
    oc_expect_error(oc, "softmax_forward: output too small", st, &err, "'small'");
    st = lpt_op_softmax_backward(oc->be, &big, &big, &big, 0, 4, 1.0f, &err);
    oc_expect_error(oc, "softmax_backward: zero rows", st, &err, "rows = 0");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;

    check_softmax(&oc, 1, 1, 1.0f, 1.0f, false);
    check_softmax(&oc, 7, 33, 0.37f, 3.0f, false);
    check_softmax(&oc, 33, 257, 1.0f, 80.0f, false); /* exp would overflow unshifted */
    check_softmax(&oc, 9, 1000, -2.5f, 20.0f, false);
    check_softmax(&oc, 5, 3001, 1.0f, 5.0f, true);
    check_softmax(&oc, 70001, 3, 1.0f, 4.0f, false);       /* more rows than 65535 groups */
    check_softmax(&oc, 8 * 12 * 197, 207, 0.125f, 8.0f, false); /* ViT-B attention rows */

    const Case cases[] = {
        /* B  H  D   T    S   causal packed pad scale range bwd */
        {1, 1, 1, 1, 1, false, false, 0, 0.0f, 1.0f, true},
        {1, 1, 7, 1, 9, false, false, 0, 0.0f, 1.0f, true},
        {2, 3, 7, 5, 5, false, false, 0, 0.0f, 1.0f, true},
        {2, 3, 7, 5, 5, false, true, 0, 0.0f, 1.0f, true},    /* ld = 3C */
        {2, 2, 33, 9, 14, false, true, 3, 0.0f, 1.0f, true},  /* prompts: S > T, ld = 3C+3 */
        {2, 2, 33, 9, 14, true, true, 3, 0.0f, 1.0f, true},   /* causal with prompts */
        {1, 2, 8, 37, 37, true, false, 0, 0.0f, 1.0f, true},  /* causal, several tiles */
        {2, 1, 33, 40, 70, false, false, 0, 1.0f, 3.0f, true}, /* peaky softmax, large scores */
        {1, 2, 64, 70, 80, false, true, 0, 0.0f, 1.0f, true},
        {1, 1, 100, 19, 23, false, false, 0, 0.0f, 1.0f, true}, /* D in (64, 128] */
        {1, 2, 256, 11, 13, true, true, 1, 0.0f, 1.0f, true},   /* D in (128, 256] */
        {8, 12, 64, 197, 207, false, true, 0, 0.0f, 1.0f, true}, /* ViT-B with 10 prompts */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_attention(&oc, &cases[i]);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_attention");
}

/* lpt_cpu_attention.c: softmax and multi-head attention on the CPU backend.
 *
 * softmax_forward/backward: one row per item of a parallel loop.
 *
 * attention_forward/backward work on a chunk of (batch, head) pairs at a time. For each pair
 * the score matrix [T, S] comes from cblas_sgemm (called from this thread, one call per pair,
 * straight on the strided q/k/v columns, no copies); the row-wise work (softmax, mask, lse,
 * dS) runs for all rows of the chunk in one parallel loop; then cblas_sgemm again per pair
 * for P V (forward) or dS K, dS^T Q, P^T dO (backward), writing straight into the strided
 * outputs with beta = 0 (assigned).
 *
 * Scratch: one malloc per call, freed before returning: forward needs one [T, S] matrix per
 * pair of the chunk, backward two (P and dP/dS). The chunk is as many pairs as fit in
 * SCRATCH_BYTES per matrix (at least one), so memory stays bounded for long sequences while
 * ViT-B (B=8, H=12, T=197, S=207: 15.7 MB per matrix) runs as a single chunk, i.e. with one
 * fork-join of the pool per call.
 *
 * Row loops use 4-lane GCC/Clang vector types (SSE2 without -march flags) and a polynomial
 * exp (Cephes expf, within 1e-7 relative): the build's -O2 does not vectorize loops of
 * unknown length, and exp and the serial max/sum chains would otherwise cost about as much
 * as the GEMMs at ViT-B sizes.
 */
#include "lpt_cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_BYTES ((size_t)32 << 20) /* per [chunk, T, S] matrix */
#define ROW_WORK 4096                     /* elements per parallel chunk, about */

/* ---- 4-lane row helpers ------------------------------------------------------------------ */

typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

static inline F4 f4_load(const float *p)
{
    F4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void f4_store(float *p, F4 v)
{
    memcpy(p, &v, sizeof v);
}

/* mask ? a : b per lane (mask lanes all ones or zero, as comparisons give). */
static inline F4 f4_select(I4 mask, F4 a, F4 b)
{
    return (F4)((mask & (I4)a) | (~mask & (I4)b));
}

/* exp per lane for x <= 88 (x - max and scores - lse are <= 0): x < -87 (and -inf) gives 0,
 * NaN stays NaN. Cody-Waite reduction by ln 2 and Cephes' degree-6 polynomial. */
static inline F4 f4_exp(F4 x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const F4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
    I4 under = x < -87.0f;
    x = f4_select(under, zero - 87.0f, x);
    F4 k = x * 1.44269504088896341f + magic;
    F4 n = k - magic;
    F4 r = x - n * 0.693359375f + n * 2.12194440e-4f;
    F4 p = zero + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    F4 y = p * r * r + r + 1.0f;
    I4 two_n = ((I4)k - (I4)(zero + magic) + 127) << 23; /* 2^n as float bits */
    return f4_select(under, zero, y * (F4)two_n);
}

/* Largest of x[0, n) skipping NaNs (-inf for an all -inf row). */
static float row_max(const float *x, size_t n)
{
    F4 m = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        F4 v = f4_load(x + j);
        m = f4_select(v > m, v, m);
    }
    float r = -INFINITY;
    for (int l = 0; l < 4; l++)
        r = m[l] > r ? m[l] : r;
    for (; j < n; j++)
        r = x[j] > r ? x[j] : r;
    return r;
}

/* y[j] = exp(x[j] - m) for j < n (y may be x); returns the sum of the y. */
static float row_exp_sum(float *y, const float *x, size_t n, float m)
{
    F4 acc = {0.0f, 0.0f, 0.0f, 0.0f};
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        F4 e = f4_exp(f4_load(x + j) - m);
        f4_store(y + j, e);
        acc += e;
    }
    if (j < n) { /* the tail, padded with -inf (exp gives 0) */
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        memcpy(t, x + j, (n - j) * sizeof *t);
        F4 e = f4_exp(f4_load(t) - m);
        memcpy(y + j, &e, (n - j) * sizeof *t);
        acc += e;
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* sum of x[j] * y[j] for j < n. */
static float row_dot(const float *x, const float *y, size_t n)
{
    F4 acc = {0.0f, 0.0f, 0.0f, 0.0f};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        acc += f4_load(x + j) * f4_load(y + j);
    float r = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; j < n; j++)
        r += x[j] * y[j];
    return r;
}

/* y[j] *= a for j < n. */
static void row_mul(float *y, size_t n, float a)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        f4_store(y + j, f4_load(y + j) * a);
    for (; j < n; j++)
        y[j] *= a;
}

/* ---- softmax ----------------------------------------------------------------------------- */

typedef struct SoftmaxCtx {
    float *out;
    const float *in, *dout, *y;
    size_t n;
    float scale;
} SoftmaxCtx;

/* out = softmax(scale * in) for rows [begin, end). An all -inf row gives NaN, as the
 * mathematical definition (0 / 0) does. */
static void softmax_fwd_rows(void *ctx, size_t begin, size_t end)
{
    const SoftmaxCtx *c = ctx;
    for (size_t r = begin; r < end; r++) {
        const float *x = c->in + r * c->n;
        float *y = c->out + r * c->n;
        for (size_t j = 0; j < c->n; j++)
            y[j] = c->scale * x[j];
        float sum = row_exp_sum(y, y, c->n, row_max(y, c->n));
        row_mul(y, c->n, 1.0f / sum);
    }
}

/* din = scale * y * (dout - sum(dout * y)) for rows [begin, end). */
static void softmax_bwd_rows(void *ctx, size_t begin, size_t end)
{
    const SoftmaxCtx *c = ctx;
    for (size_t r = begin; r < end; r++) {
        const float *y = c->y + r * c->n, *dy = c->dout + r * c->n;
        float *dx = c->out + r * c->n;
        float dot = row_dot(dy, y, c->n);
        for (size_t j = 0; j < c->n; j++)
            dx[j] = c->scale * y[j] * (dy[j] - dot);
    }
}

/* Rows per parallel chunk for rows of n values (about ROW_WORK values per chunk). */
static size_t row_grain(size_t n)
{
    return ROW_WORK / n + 1;
}

LptStatus lpt_cpu_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                  int rows, int n, float scale, LptError *err)
{
    SoftmaxCtx c = {lpt_cpu_f32(out), lpt_cpu_f32(in), NULL, NULL, (size_t)n, scale};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain((size_t)n), softmax_fwd_rows, &c);
    return LPT_OK;
}

LptStatus lpt_cpu_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                   const LptTensor *out, int rows, int n, float scale,
                                   LptError *err)
{
    SoftmaxCtx c = {lpt_cpu_f32(din), NULL, lpt_cpu_f32(dout), lpt_cpu_f32(out), (size_t)n,
                    scale};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain((size_t)n), softmax_bwd_rows, &c);
    return LPT_OK;
}

/* ---- attention --------------------------------------------------------------------------- */

/* One chunk of (batch, head) pairs [first, first + count) and the tensors its rows need. */
typedef struct AttnRows {
    const LptAttentionShape *s;
    int first;          /* first pair (b * H + h) of the chunk */
    float *p;           /* [count, T, S]: scores in, probabilities out */
    float *dp;          /* backward: [count, T, S]: dO V^T in, dS out */
    float *lse;         /* [B, H, T] */
    const float *dout;  /* backward: dO, laid out like out */
    const float *out;   /* backward: O */
} AttnRows;

/* Keys visible to query t (all S, or t + 1 under the causal mask; S >= T then). */
static size_t visible_keys(const LptAttentionShape *s, int t)
{
    return (size_t)(s->causal ? t + 1 : s->kv_len);
}

/* Forward rows [begin, end) of the chunk: scaled scores -> softmax probabilities (masked keys
 * get 0) and the row's log-sum-exp. */
static void attn_fwd_rows(void *ctx, size_t begin, size_t end)
{
    const AttnRows *a = ctx;
    const LptAttentionShape *s = a->s;
    size_t len = (size_t)s->kv_len;
    for (size_t r = begin; r < end; r++) {
        int t = (int)(r % (size_t)s->q_len);
        size_t pair = (size_t)a->first + r / (size_t)s->q_len;
        float *row = a->p + r * len;
        size_t vis = visible_keys(s, t);
        float m = row_max(row, vis);
        float sum = row_exp_sum(row, row, vis, m);
        row_mul(row, vis, 1.0f / sum);
        memset(row + vis, 0, (len - vis) * sizeof *row);
        a->lse[pair * (size_t)s->q_len + (size_t)t] = m + logf(sum);
    }
}

/* Backward rows [begin, end) of the chunk: P = exp(scores - lse) (masked keys 0) and
 * dS = P * (dP - D) with D = rowsum(dO * O) over the head's D columns. */
static void attn_bwd_rows(void *ctx, size_t begin, size_t end)
{
    const AttnRows *a = ctx;
    const LptAttentionShape *s = a->s;
    size_t len = (size_t)s->kv_len;
    for (size_t r = begin; r < end; r++) {
        int t = (int)(r % (size_t)s->q_len);
        size_t pair = (size_t)a->first + r / (size_t)s->q_len;
        int b = (int)(pair / (size_t)s->heads), h = (int)(pair % (size_t)s->heads);
        size_t o = (size_t)b * (size_t)s->bs_out + (size_t)t * (size_t)s->ld_out +
                   (size_t)h * (size_t)s->head_dim;
        float di = row_dot(a->dout + o, a->out + o, (size_t)s->head_dim);
        float lse = a->lse[pair * (size_t)s->q_len + (size_t)t];
        float *prow = a->p + r * len, *drow = a->dp + r * len;
        size_t vis = visible_keys(s, t), j = 0;
        for (; j + 4 <= vis; j += 4) {
            F4 p = f4_exp(f4_load(prow + j) - lse);
            f4_store(prow + j, p);
            f4_store(drow + j, p * (f4_load(drow + j) - di));
        }
        row_exp_sum(prow + j, prow + j, vis - j, lse); /* the last (< 4) values: P only */
        for (; j < vis; j++)
            drow[j] = prow[j] * (drow[j] - di);
        memset(prow + vis, 0, (len - vis) * sizeof *prow);
        memset(drow + vis, 0, (len - vis) * sizeof *drow);
    }
}

/* Pairs per chunk so that one [chunk, T, S] matrix stays within SCRATCH_BYTES. */
static int chunk_pairs(const LptAttentionShape *s)
{
    size_t per = (size_t)s->q_len * (size_t)s->kv_len * sizeof(float);
    size_t fit = SCRATCH_BYTES / per;
    size_t pairs = (size_t)s->batch * (size_t)s->heads;
    if (fit < 1)
        fit = 1;
    return (int)(fit < pairs ? fit : pairs);
}

/* Element offset of head h of batch b in a tensor with batch stride bs (column h * D). */
static size_t head_at(const LptAttentionShape *s, int pair, int64_t bs)
{
    int b = pair / s->heads, h = pair % s->heads;
    return (size_t)b * (size_t)bs + (size_t)h * (size_t)s->head_dim;
}

LptStatus lpt_cpu_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptAttentionShape *s, LptError *err)
{
    const int T = s->q_len, S = s->kv_len, D = s->head_dim;
    const int pairs = s->batch * s->heads, chunk = chunk_pairs(s);
    const size_t per = (size_t)T * (size_t)S;
    float *scratch = malloc((size_t)chunk * per * sizeof(float));
    if (!scratch)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "attention_forward: no host memory for %d score matrices", chunk);
    const float *pq = lpt_cpu_f32(q), *pk = lpt_cpu_f32(k), *pv = lpt_cpu_f32(v);
    float *po = lpt_cpu_f32(out);
    AttnRows rows = {s, 0, scratch, NULL, lpt_cpu_f32(lse), NULL, NULL};
    for (int first = 0; first < pairs; first += chunk) {
        int count = pairs - first < chunk ? pairs - first : chunk;
        for (int i = 0; i < count; i++) /* scores = scale Q K^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, S, D, s->scale,
                        pq + head_at(s, first + i, s->bs_q), s->ld_q,
                        pk + head_at(s, first + i, s->bs_kv), s->ld_kv, 0.0f,
                        scratch + (size_t)i * per, S);
        rows.first = first;
        lpt_cpu_parallel_for(be, (size_t)count * (size_t)T, row_grain((size_t)S), attn_fwd_rows,
                             &rows);
        for (int i = 0; i < count; i++) /* out = P V */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, S, 1.0f,
                        scratch + (size_t)i * per, S, pv + head_at(s, first + i, s->bs_kv),
                        s->ld_kv, 0.0f, po + head_at(s, first + i, s->bs_out), s->ld_out);
    }
    free(scratch);
    return LPT_OK;
}

LptStatus lpt_cpu_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                     const LptTensor *dv, const LptTensor *dout,
                                     const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                     const LptTensor *out, const LptTensor *lse,
                                     const LptAttentionShape *s, LptError *err)
{
    const int T = s->q_len, S = s->kv_len, D = s->head_dim;
    const int pairs = s->batch * s->heads, chunk = chunk_pairs(s);
    const size_t per = (size_t)T * (size_t)S;
    float *scratch = malloc(2 * (size_t)chunk * per * sizeof(float));
    if (!scratch)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "attention_backward: no host memory for %d score matrices",
                             2 * chunk);
    float *p = scratch, *dp = scratch + (size_t)chunk * per;
    const float *pq = lpt_cpu_f32(q), *pk = lpt_cpu_f32(k), *pv = lpt_cpu_f32(v);
    const float *pdo = lpt_cpu_f32(dout);
    float *pdq = lpt_cpu_f32(dq), *pdk = lpt_cpu_f32(dk), *pdv = lpt_cpu_f32(dv);
    AttnRows rows = {s, 0, p, dp, lpt_cpu_f32(lse), pdo, lpt_cpu_f32(out)};
    for (int first = 0; first < pairs; first += chunk) {
        int count = pairs - first < chunk ? pairs - first : chunk;
        for (int i = 0; i < count; i++) {
            size_t oq = head_at(s, first + i, s->bs_q), okv = head_at(s, first + i, s->bs_kv);
            size_t oo = head_at(s, first + i, s->bs_out);
            /* scores = scale Q K^T; dP = dO V^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, S, D, s->scale, pq + oq,
                        s->ld_q, pk + okv, s->ld_kv, 0.0f, p + (size_t)i * per, S);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, S, D, 1.0f, pdo + oo,
                        s->ld_out, pv + okv, s->ld_kv, 0.0f, dp + (size_t)i * per, S);
        }
        rows.first = first;
        lpt_cpu_parallel_for(be, (size_t)count * (size_t)T, row_grain((size_t)S), attn_bwd_rows,
                             &rows);
        for (int i = 0; i < count; i++) {
            size_t oq = head_at(s, first + i, s->bs_q), okv = head_at(s, first + i, s->bs_kv);
            size_t oo = head_at(s, first + i, s->bs_out);
            const float *pi = p + (size_t)i * per, *dsi = dp + (size_t)i * per;
            /* dQ = scale dS K; dK = scale dS^T Q; dV = P^T dO */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, S, s->scale, dsi, S,
                        pk + okv, s->ld_kv, 0.0f, pdq + oq, s->ld_q);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, S, D, T, s->scale, dsi, S,
                        pq + oq, s->ld_q, 0.0f, pdk + okv, s->ld_kv);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, S, D, T, 1.0f, pi, S,
                        pdo + oo, s->ld_out, 0.0f, pdv + okv, s->ld_kv);
        }
    }
    free(scratch);
    return LPT_OK;
}

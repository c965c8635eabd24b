/* lpt_cpu_select.c: prompt-pool gather/mean (forward, backward) and per-row top-k on the CPU.
 *
 * gather_mean works on blocks of BLOCK values of one output row (forward) or one pool entry
 * (backward), so each task owns the values it writes: the backward scans the whole index
 * list for its entry and needs no atomics, exactly as shaders/gather_mean_backward.comp.
 * Indices outside [0, pool_size) are skipped: they add nothing to the forward mean (which
 * still divides by k) and receive no gradient.
 *
 * top-k ranks values by topk_key (NaN below -inf, -0 equal to +0), ties by lower index, and
 * keeps a sorted list of the best k while scanning a row, one row per task.
 */
#include "lpt_cpu.h"

#include <string.h>

#define BLOCK 2048

typedef struct GatherCtx {
    float *out;          /* forward: out[B, E]; backward: dpool[M, E] */
    const float *src;    /* forward: pool[M, E]; backward: dout[B, E] */
    const int32_t *idx;  /* [B, k] */
    int batch, k, pool_size, entry_size;
    size_t blocks;       /* blocks of BLOCK values per row */
} GatherCtx;

/* Tasks are (output row, block of values): out[b, block] = mean of the k selected entries. */
static void gather_fwd_task(void *ctx, size_t begin, size_t end)
{
    const GatherCtx *c = ctx;
    float inv_k = 1.0f / (float)c->k;
    for (size_t t = begin; t < end; t++) {
        size_t b = t / c->blocks, e0 = (t % c->blocks) * BLOCK;
        size_t len = (size_t)c->entry_size - e0 < BLOCK ? (size_t)c->entry_size - e0 : BLOCK;
        float acc[BLOCK];
        memset(acc, 0, len * sizeof *acc);
        for (int j = 0; j < c->k; j++) {
            int32_t m = c->idx[b * c->k + j];
            if (m < 0 || m >= c->pool_size)
                continue;
            const float *row = c->src + (size_t)m * c->entry_size + e0;
            for (size_t e = 0; e < len; e++)
                acc[e] += row[e];
        }
        float *out = c->out + b * c->entry_size + e0;
        for (size_t e = 0; e < len; e++)
            out[e] = acc[e] * inv_k;
    }
}

/* Tasks are (pool entry, block of values): dpool[m, block] += sum of dout rows that selected
 * m, over k. */
static void gather_bwd_task(void *ctx, size_t begin, size_t end)
{
    const GatherCtx *c = ctx;
    float inv_k = 1.0f / (float)c->k;
    size_t n_idx = (size_t)c->batch * c->k;
    for (size_t t = begin; t < end; t++) {
        int32_t m = (int32_t)(t / c->blocks);
        size_t e0 = (t % c->blocks) * BLOCK;
        size_t len = (size_t)c->entry_size - e0 < BLOCK ? (size_t)c->entry_size - e0 : BLOCK;
        float acc[BLOCK];
        memset(acc, 0, len * sizeof *acc);
        for (size_t i = 0; i < n_idx; i++) {
            if (c->idx[i] != m)
                continue;
            const float *row = c->src + (i / c->k) * c->entry_size + e0;
            for (size_t e = 0; e < len; e++)
                acc[e] += row[e];
        }
        float *out = c->out + (size_t)m * c->entry_size + e0;
        for (size_t e = 0; e < len; e++)
            out[e] += acc[e] * inv_k;
    }
}

LptStatus lpt_cpu_gather_mean_forward(LptBackend *be, const LptTensor *out,
                                      const LptTensor *pool, const LptTensor *indices,
                                      int batch, int k, int pool_size, int entry_size,
                                      LptError *err)
{
    GatherCtx c = {lpt_cpu_f32(out), lpt_cpu_f32(pool), lpt_cpu_i32(indices), batch, k,
                   pool_size, entry_size, ((size_t)entry_size + BLOCK - 1) / BLOCK};
    size_t grain = 8192 / ((size_t)k * (entry_size < BLOCK ? entry_size : BLOCK)) + 1;
    lpt_cpu_parallel_for(be, (size_t)batch * c.blocks, grain, gather_fwd_task, &c);
    return LPT_OK;
}

LptStatus lpt_cpu_gather_mean_backward(LptBackend *be, const LptTensor *dpool,
                                       const LptTensor *dout, const LptTensor *indices,
                                       int batch, int k, int pool_size, int entry_size,
                                       LptError *err)
{
    GatherCtx c = {lpt_cpu_f32(dpool), lpt_cpu_f32(dout), lpt_cpu_i32(indices), batch, k,
                   pool_size, entry_size, ((size_t)entry_size + BLOCK - 1) / BLOCK};
    size_t grain = 8192 / ((size_t)batch * k + (entry_size < BLOCK ? entry_size : BLOCK)) + 1;
    lpt_cpu_parallel_for(be, (size_t)pool_size * c.blocks, grain, gather_bwd_task, &c);
    return LPT_OK;
}

/* An unsigned key that orders floats as their values do, with -0 equal to +0 and NaN below
 * -inf (the same mapping as shaders/topk_forward.comp). */
static inline uint32_t topk_key(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    if (x != x)
        return 0;
    if (b == 0x80000000u)
        b = 0;
    return (b & 0x80000000u) ? ~b : b | 0x80000000u;
}

typedef struct TopkCtx {
    float *values;
    int32_t *indices;
    const float *in;
    int n, k;
} TopkCtx;

/* One row per item: insertion into a sorted list of the best k (scanning in index order, an
 * equal key never displaces an earlier index). */
static void topk_task(void *ctx, size_t begin, size_t end)
{
    const TopkCtx *c = ctx;
    uint32_t keys[32];
    int32_t idx[32];
    for (size_t r = begin; r < end; r++) {
        const float *row = c->in + r * c->n;
        int count = 0;
        for (int i = 0; i < c->n; i++) {
            uint32_t key = topk_key(row[i]);
            if (count == c->k && key <= keys[count - 1])
                continue;
            int pos = count < c->k ? count++ : count - 1;
            while (pos > 0 && keys[pos - 1] < key) {
                keys[pos] = keys[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            keys[pos] = key;
            idx[pos] = i;
        }
        for (int j = 0; j < c->k; j++) {
            c->values[r * c->k + j] = row[idx[j]];
            c->indices[r * c->k + j] = idx[j];
        }
    }
}

LptStatus lpt_cpu_topk_forward(LptBackend *be, const LptTensor *values, const LptTensor *indices,
                               const LptTensor *in, int rows, int n, int k, LptError *err)
{
    TopkCtx c = {lpt_cpu_f32(values), lpt_cpu_i32(indices), lpt_cpu_f32(in), n, k};
    lpt_cpu_parallel_for(be, (size_t)rows, 16384 / (size_t)n + 1, topk_task, &c);
    return LPT_OK;
}

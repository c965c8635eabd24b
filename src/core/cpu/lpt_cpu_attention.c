/* lpt_cpu_attention.c: softmax and multi-head attention on the CPU backend.
 *
 * softmax_forward/backward: one row per item of a parallel loop.
 *
 * attention_forward/backward: one (batch, head) pair per item of a parallel loop, computed
 * whole by the pool thread that takes it, with no BLAS: attention's products are many small
 * ones (ViT-B: 96 pairs of [197 x 64] by [64 x 207] per call), which OpenBLAS runs each with
 * its own fork-join and an extra pass zeroing C, while a pair done in one thread stays in its
 * core's L2. Per pair the thread packs K^T (and V, or V^T, K, Q, dO for backward) into its
 * scratch slot, then works through blocks of TILE_R query rows (lpt_cpu_attention_body.h):
 *   forward:  scores = Q K^T by register tiles, softmax of the block's rows while they are in
 *             L1 (kept unnormalised), O = (P V) / rowsum, lse = max + log(rowsum);
 *   backward: scores and dP = dO V^T by tiles, one pass P = exp(scale scores - lse),
 *             dS = P (dP - Di) with Di = rowsum(dO * O), dQ = scale dS K; then over blocks of
 *             key rows dV = P^T dO and dK = scale dS^T Q (P and dS of the pair kept whole).
 * The causal mask limits each block's columns to the keys its last row sees and zeroes the
 * rest. Outputs are assigned, only their D columns written.
 *
 * Scratch: one allocation per call: a slot per pool thread (claimed by the task running on
 * it), sized for one pair: forward about (2 S D + TILE_R S) floats, backward about
 * (3 S D + 2 T D + 2 T S) (ViT-B: 0.6 MB, within a core's L2).
 *
 * Vector code: lpt_cpu_attention_body.h, compiled once with 4-lane vectors for the baseline
 * ISA and, on x86-64, again with 8-lane AVX2 and 16-lane AVX-512 vectors (with FMA), the copy
 * picked at run time (lpt_cpu_math.h).
 * exp is a polynomial (Cephes expf, within 1e-7 relative).
 */
#include "lpt_cpu.h"

#include "lpt_cpu_math.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TILE_R 6      /* query (or key) rows per register tile */
#define PAD 32        /* packed rows are padded to a multiple of this many floats */
#define ROW_WORK 4096 /* softmax: elements per parallel chunk, about */

/* Softmax rows of n values. */
typedef struct SoftmaxCtx {
    float *out;
    const float *in, *dout, *y;
    size_t n;
    float scale;
} SoftmaxCtx;

/* One attention call: tensors, padded sizes and the scratch slots. */
typedef struct AttnCtx {
    const LptAttentionShape *s;
    const float *q, *k, *v, *out, *dout; /* out, dout: backward only */
    float *o, *lse;                      /* forward outputs (lse: a backward input too) */
    float *dq, *dk, *dv;                 /* backward outputs */
    size_t sp, dp, tp;  /* S and D rounded up to PAD, T rounded up to TILE_R */
    float *scratch;     /* slots of slot_floats floats */
    size_t slot_floats;
    atomic_int *busy;   /* per slot: claimed by a running task */
    int slots;
} AttnCtx;

/* A free scratch slot, marked busy (there are as many as pool threads, so one is free). */
static int slot_claim(AttnCtx *c)
{
    for (;;)
        for (int i = 0; i < c->slots; i++)
            if (!atomic_load_explicit(&c->busy[i], memory_order_relaxed) &&
                !atomic_exchange(&c->busy[i], 1))
                return i;
}

static void slot_release(AttnCtx *c, int slot)
{
    atomic_store(&c->busy[slot], 0);
}

/* Element offset of pair (b * H + h) in a tensor with batch stride bs (column h * D). */
static size_t head_at(const LptAttentionShape *s, size_t pair, int64_t bs)
{
    size_t b = pair / (size_t)s->heads, h = pair % (size_t)s->heads;
    return b * (size_t)bs + h * (size_t)s->head_dim;
}

/* dst[r, c] = src[r lds + c] for r < rows, c < cols; dst rows have ldd floats, zero past
 * cols. */
static void pack(float *dst, size_t ldd, const float *src, size_t lds, size_t rows,
                 size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        memcpy(dst + r * ldd, src + r * lds, cols * sizeof *dst);
        memset(dst + r * ldd + cols, 0, (ldd - cols) * sizeof *dst);
    }
}

/* dst[c, r] = src[r lds + c] (the transpose) for r < rows, c < cols; dst rows have ldd
 * floats, zero from rows up to rows rounded up to PAD. */
static void pack_t(float *dst, size_t ldd, const float *src, size_t lds, size_t rows,
                   size_t cols)
{
    size_t padded = (rows + PAD - 1) / PAD * PAD;
    for (size_t r0 = 0; r0 < rows; r0 += 8) { /* 8 source rows at a time: fewer dst lines */
        size_t r1 = r0 + 8 < rows ? r0 + 8 : rows;
        for (size_t col = 0; col < cols; col++)
            for (size_t r = r0; r < r1; r++)
                dst[col * ldd + r] = src[r * lds + col];
    }
    for (size_t col = 0; col < cols; col++)
        memset(dst + col * ldd + rows, 0, (padded - rows) * sizeof *dst);
}

#define VW 4
#define SFX(name) name##_v4
#define TGT
#include "lpt_cpu_attention_body.h"

#if LPT_CPU_HAVE_X86
#define VW 8
#define SFX(name) name##_v8
#define TGT LPT_CPU_AVX2
#include "lpt_cpu_attention_body.h"

#define VW 16
#define SFX(name) name##_v16
#define TGT LPT_CPU_AVX512
#include "lpt_cpu_attention_body.h"

/* This CPU's copy of `name`. */
#define PICK(name)                                                                             \
    (lpt_cpu_isa() == LPT_CPU_ISA_AVX512 ? name##_v16                                          \
     : lpt_cpu_isa() == LPT_CPU_ISA_AVX2 ? name##_v8                                           \
                                         : name##_v4)
#else
#define PICK(name) (name##_v4)
#endif

/* ---- softmax ----------------------------------------------------------------------------- */

/* Rows per parallel chunk for rows of n values (about ROW_WORK values per chunk). */
static size_t row_grain(size_t n)
{
    return ROW_WORK / n + 1;
}

LptStatus lpt_cpu_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                  int rows, int n, float scale, LptError *err)
{
    SoftmaxCtx c = {lpt_cpu_f32(out), lpt_cpu_f32(in), NULL, NULL, (size_t)n, scale};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain((size_t)n), PICK(softmax_fwd_task), &c);
    return LPT_OK;
}

LptStatus lpt_cpu_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                   const LptTensor *out, int rows, int n, float scale,
                                   LptError *err)
{
    SoftmaxCtx c = {lpt_cpu_f32(din), NULL, lpt_cpu_f32(dout), lpt_cpu_f32(out), (size_t)n,
                    scale};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain((size_t)n), PICK(softmax_bwd_task), &c);
    return LPT_OK;
}

/* ---- attention --------------------------------------------------------------------------- */

/* Fills the padded sizes of c and allocates its slots of `floats` floats (a multiple of PAD)
 * each; false when out of memory. */
static bool attn_alloc(AttnCtx *c, LptBackend *be, size_t floats)
{
    c->slots = lpt_cpu_threads(be);
    c->slot_floats = floats;
    c->scratch = aligned_alloc(64, (size_t)c->slots * floats * sizeof(float));
    c->busy = malloc((size_t)c->slots * sizeof *c->busy);
    if (!c->scratch || !c->busy) {
        free(c->scratch);
        free(c->busy);
        return false;
    }
    for (int i = 0; i < c->slots; i++)
        atomic_init(&c->busy[i], 0);
    return true;
}

static void attn_free(AttnCtx *c)
{
    free(c->scratch);
    free(c->busy);
}

/* Rounds n up to a multiple of m. */
static size_t round_up(size_t n, size_t m)
{
    return (n + m - 1) / m * m;
}

LptStatus lpt_cpu_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptAttentionShape *s, LptError *err)
{
    const size_t S = (size_t)s->kv_len, D = (size_t)s->head_dim;
    AttnCtx c = {.s = s, .q = lpt_cpu_f32(q), .k = lpt_cpu_f32(k), .v = lpt_cpu_f32(v),
                 .o = lpt_cpu_f32(out), .lse = lpt_cpu_f32(lse), .sp = round_up(S, PAD),
                 .dp = round_up(D, PAD), .tp = round_up((size_t)s->q_len, TILE_R)};
    size_t floats = D * c.sp + S * c.dp + TILE_R * c.sp + TILE_R * c.dp;
    if (!attn_alloc(&c, be, round_up(floats, PAD)))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "attention_forward: no host memory for %d x %zu scratch floats",
                             lpt_cpu_threads(be), floats);
    lpt_cpu_parallel_for(be, (size_t)s->batch * (size_t)s->heads, 1, PICK(attn_fwd_task), &c);
    attn_free(&c);
    return LPT_OK;
}

LptStatus lpt_cpu_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                     const LptTensor *dv, const LptTensor *dout,
                                     const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                     const LptTensor *out, const LptTensor *lse,
                                     const LptAttentionShape *s, LptError *err)
{
    const size_t T = (size_t)s->q_len, S = (size_t)s->kv_len, D = (size_t)s->head_dim;
    AttnCtx c = {.s = s, .q = lpt_cpu_f32(q), .k = lpt_cpu_f32(k), .v = lpt_cpu_f32(v),
                 .out = lpt_cpu_f32(out), .dout = lpt_cpu_f32(dout), .lse = lpt_cpu_f32(lse),
                 .dq = lpt_cpu_f32(dq), .dk = lpt_cpu_f32(dk), .dv = lpt_cpu_f32(dv),
                 .sp = round_up(S, PAD), .dp = round_up(D, PAD), .tp = round_up(T, TILE_R)};
    size_t floats = 2 * D * c.sp + S * c.dp + 2 * T * c.dp + 2 * c.tp * c.sp + TILE_R * c.dp +
                    round_up(T, PAD);
    if (!attn_alloc(&c, be, round_up(floats, PAD)))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "attention_backward: no host memory for %d x %zu scratch floats",
                             lpt_cpu_threads(be), floats);
    lpt_cpu_parallel_for(be, (size_t)s->batch * (size_t)s->heads, 1, PICK(attn_bwd_task), &c);
    attn_free(&c);
    return LPT_OK;
}

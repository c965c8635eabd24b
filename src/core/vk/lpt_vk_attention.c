/* lpt_vk_attention.c: softmax and multi-head attention on the Vulkan backend.
 *
 * softmax_forward/backward (shaders/softmax.glsl): workgroups of SOFTMAX_LOCAL invocations,
 * a power-of-two number of invocations per row sized to about 4 values each (so a whole
 * workgroup per row from 512 values on, many rows per workgroup for short rows), with
 * subgroup reductions for whole-workgroup rows where the device has subgroup arithmetic and
 * shared-memory trees otherwise.
 *
 * attention_forward: one fused kernel (shaders/attention_forward.comp), flash-attention style:
 * a workgroup per (block of queries, batch x head), K/V tiles through shared memory, online
 * softmax; writes out and lse, never a [T, S] matrix.
 * attention_backward: three kernels, no atomics: prep (D = rowsum(dO * O), parked in dq's
 * slots, see attention_backward_prep.comp), dk/dv per block of keys, then dq per block of
 * queries, both recomputing P from lse.
 *
 * Each attention kernel comes in three variants by head_dim (<= 64, 128, 256): the same
 * SPIR-V with tile sizes as specialization constants, chosen so shared memory stays under
 * 32 KiB (lavapipe's limit; about 29 KiB at most) with 128 invocations per workgroup.
 *
 * Every kernel grid-strides over its rows and (batch, head) pairs, so any size runs with the
 * dispatch capped at the device's group-count limits. On lavapipe, whose JIT ends any loop
 * once an invocation has run 65535 loop iterations in total (LP_MAX_TGSI_LOOP_ITERATIONS), the
 * attention kernels stay correct up to about 10k keys/queries per (batch, head) and softmax
 * up to rows of about 8M values; GPUs have no such limit.
 *
 * Tensors are bound from their offset rounded down to 256 bytes (the largest storage-buffer
 * offset alignment Vulkan allows; q, k, v are often column slices of one packed buffer at
 * unaligned offsets), and the shader gets each tensor's element offset inside its binding.
 */
#include "lpt_vk.h"

#include "attention_backward_dkv.spv.h"
#include "attention_backward_dq.spv.h"
#include "attention_backward_prep.spv.h"
#include "attention_forward.spv.h"
#include "softmax_backward.spv.h"
#include "softmax_backward_subgroup.spv.h"
#include "softmax_forward.spv.h"
#include "softmax_forward_subgroup.spv.h"

#define SOFTMAX_LOCAL 256 /* a power of two (the shared-memory tree needs one) */
#define PREP_LOCAL 256

/* ---- softmax ----------------------------------------------------------------------------- */

/* Matches `Push` in shaders/softmax.glsl. */
typedef struct SoftmaxPush {
    uint32_t rows, n;
    uint32_t seg; /* invocations per row */
    float scale;
} SoftmaxPush;
_Static_assert(sizeof(SoftmaxPush) == 16, "push constants must match softmax.glsl");

#define SOFTMAX_KERNEL(stem, buffers)                                                          \
    static const LptVkKernel stem##_kernel = {#stem, stem##_spv, sizeof stem##_spv, buffers,   \
                                              sizeof(SoftmaxPush), {SOFTMAX_LOCAL, 1, 1}, 0,   \
                                              {0}};
SOFTMAX_KERNEL(softmax_forward, 2)
SOFTMAX_KERNEL(softmax_forward_subgroup, 2)
SOFTMAX_KERNEL(softmax_backward, 3)
SOFTMAX_KERNEL(softmax_backward_subgroup, 3)

/* n workgroups, capped at the device limit of that axis (the kernels grid-stride). */
static uint32_t capped(const LptBackend *be, uint64_t n, int axis)
{
    uint32_t limit = lpt_vk_limits(be)->max_group_count[axis];
    return n < limit ? (uint32_t)n : limit;
}

/* Dispatches a softmax kernel: rows of n values, invocations per row a power of two near
 * n / 4 within [1, SOFTMAX_LOCAL]. */
static LptStatus softmax_run(LptBackend *be, const LptVkKernel *k, const LptTensor *const *bufs,
                             int rows, int n, float scale, LptError *err)
{
    uint32_t seg = 1;
    while (seg < SOFTMAX_LOCAL && seg * 4 < (uint32_t)n)
        seg *= 2;
    SoftmaxPush push = {(uint32_t)rows, (uint32_t)n, seg, scale};
    uint64_t groups = lpt_vk_groups((uint64_t)rows, SOFTMAX_LOCAL / seg);
    return lpt_vk_dispatch(be, k, bufs, k->n_buffers, &push, sizeof push, capped(be, groups, 0),
                           1, 1, err);
}

LptStatus lpt_vk_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 int rows, int n, float scale, LptError *err)
{
    const LptTensor *bufs[] = {out, in};
    return softmax_run(be,
                       lpt_vk_limits(be)->subgroup_arithmetic ? &softmax_forward_subgroup_kernel
                                                              : &softmax_forward_kernel,
                       bufs, rows, n, scale, err);
}

LptStatus lpt_vk_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptTensor *out, int rows, int n, float scale,
                                  LptError *err)
{
    const LptTensor *bufs[] = {din, dout, out};
    return softmax_run(be,
                       lpt_vk_limits(be)->subgroup_arithmetic ? &softmax_backward_subgroup_kernel
                                                              : &softmax_backward_kernel,
                       bufs, rows, n, scale, err);
}

/* ---- attention --------------------------------------------------------------------------- */

/* Matches `Push` in shaders/attention.glsl. */
typedef struct AttnPush {
    uint32_t batch, heads, head_dim, q_len, kv_len;
    uint32_t ld_q, ld_kv, ld_out;
    uint32_t bs_q, bs_kv, bs_out;
    uint32_t causal;
    float scale;
    uint32_t off_q, off_k, off_v, off_out, off_lse, off_dout, off_dq, off_dk, off_dv;
} AttnPush;
_Static_assert(sizeof(AttnPush) == 88, "push constants must match attention.glsl");

/* A kernel variant: the workgroup owns ROWS rows and streams tiles of COLS rows, TPR
 * invocations per row, head_dim <= DMAX (specialization constants 3..6 of attention.glsl). */
#define ATTN_KERNEL(stem, buffers, dmax, rows, cols, tpr)                                      \
    {#stem, stem##_spv, sizeof stem##_spv, buffers, sizeof(AttnPush),                          \
     {(rows) * (tpr), 1, 1}, 4, {rows, cols, tpr, dmax}}

#define VARIANTS 3 /* head_dim <= 64, <= 128, <= 256 */

/* forward and dq: rows are queries, cols keys; dk/dv: rows are keys, cols queries */
static const LptVkKernel fwd_kernels[VARIANTS] = {
    ATTN_KERNEL(attention_forward, 5, 64, 32, 32, 4),
    ATTN_KERNEL(attention_forward, 5, 128, 16, 16, 8),
    ATTN_KERNEL(attention_forward, 5, 256, 8, 8, 16),
};
static const LptVkKernel dq_kernels[VARIANTS] = {
    ATTN_KERNEL(attention_backward_dq, 6, 64, 32, 16, 4),
    ATTN_KERNEL(attention_backward_dq, 6, 128, 16, 8, 8),
    ATTN_KERNEL(attention_backward_dq, 6, 256, 8, 4, 16),
};
static const LptVkKernel dkv_kernels[VARIANTS] = {
    ATTN_KERNEL(attention_backward_dkv, 8, 64, 32, 16, 4),
    ATTN_KERNEL(attention_backward_dkv, 8, 128, 16, 8, 8),
    ATTN_KERNEL(attention_backward_dkv, 8, 256, 8, 4, 16),
};
static const LptVkKernel prep_kernel = {
    "attention_backward_prep", attention_backward_prep_spv, sizeof attention_backward_prep_spv,
    3, sizeof(AttnPush), {PREP_LOCAL, 1, 1}, 0, {0}};

typedef enum { FWD, DQ, DKV } AttnKind;

/* Shared memory a variant declares, in bytes (mirrors the shaders' shared arrays). */
static uint32_t shared_bytes(AttnKind kind, const LptVkKernel *k)
{
    uint32_t rows = k->spec[0], cols = k->spec[1], dp = k->spec[3] + 1, floats = 0;
    switch (kind) {
    case FWD: floats = (rows + 2 * cols) * dp + rows * (cols + 1); break;
    case DQ: floats = 2 * (rows + cols) * dp + rows * (cols + 1) + 2 * rows; break;
    case DKV: floats = 2 * (rows + cols) * dp + 2 * rows * (cols + 1) + 2 * cols; break;
    }
    return floats * (uint32_t)sizeof(float);
}

/* The variant of `kernels` for the shape's head_dim, or NULL (error set) when the device
 * has too little shared memory for it. */
static const LptVkKernel *pick(LptBackend *be, AttnKind kind, const LptVkKernel *kernels,
                               const LptAttentionShape *s, LptError *err)
{
    int v = s->head_dim <= 64 ? 0 : s->head_dim <= 128 ? 1 : 2;
    uint32_t need = shared_bytes(kind, &kernels[v]);
    if (need > lpt_vk_limits(be)->max_shared_memory) {
        lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                      "%s: needs %u bytes of shared memory for head_dim %d, the device has %u",
                      kernels[v].name, need, s->head_dim, lpt_vk_limits(be)->max_shared_memory);
        return NULL;
    }
    return &kernels[v];
}

/* The push constants of a shape (offsets filled in by lpt_vk_aligned_view()). Batch strides fit in 32
 * bits whenever there is more than one batch (lpt_ops.c bounds every span by INT32_MAX). */
static AttnPush attn_push(const LptAttentionShape *s)
{
    bool one = s->batch == 1;
    return (AttnPush){
        .batch = (uint32_t)s->batch,
        .heads = (uint32_t)s->heads,
        .head_dim = (uint32_t)s->head_dim,
        .q_len = (uint32_t)s->q_len,
        .kv_len = (uint32_t)s->kv_len,
        .ld_q = (uint32_t)s->ld_q,
        .ld_kv = (uint32_t)s->ld_kv,
        .ld_out = (uint32_t)s->ld_out,
        .bs_q = one ? 0 : (uint32_t)s->bs_q,
        .bs_kv = one ? 0 : (uint32_t)s->bs_kv,
        .bs_out = one ? 0 : (uint32_t)s->bs_out,
        .causal = s->causal ? 1u : 0u,
        .scale = s->scale,
    };
}

/* Dispatches an attention kernel over blocks of `len` rows (x) and batch x head pairs (y). */
static LptStatus attn_dispatch(LptBackend *be, const LptVkKernel *k, const LptTensor *const *bufs,
                               const AttnPush *push, int len, const LptAttentionShape *s,
                               LptError *err)
{
    uint64_t blocks = lpt_vk_groups((uint64_t)len, k->spec[0]);
    uint64_t pairs = (uint64_t)s->batch * (uint64_t)s->heads;
    return lpt_vk_dispatch(be, k, bufs, k->n_buffers, push, sizeof *push, capped(be, blocks, 0),
                           capped(be, pairs, 1), 1, err);
}

LptStatus lpt_vk_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                   const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                   const LptAttentionShape *s, LptError *err)
{
    const LptVkKernel *kernel = pick(be, FWD, fwd_kernels, s, err);
    if (!kernel)
        return LPT_ERR_UNSUPPORTED;
    AttnPush p = attn_push(s);
    LptTensor to = lpt_vk_aligned_view(out, &p.off_out), tl = lpt_vk_aligned_view(lse, &p.off_lse);
    LptTensor tq = lpt_vk_aligned_view(q, &p.off_q), tk = lpt_vk_aligned_view(k, &p.off_k), tv = lpt_vk_aligned_view(v, &p.off_v);
    const LptTensor *bufs[] = {&to, &tl, &tq, &tk, &tv};
    return attn_dispatch(be, kernel, bufs, &p, s->q_len, s, err);
}

LptStatus lpt_vk_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                    const LptTensor *dv, const LptTensor *dout,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptTensor *out, const LptTensor *lse,
                                    const LptAttentionShape *s, LptError *err)
{
    const LptVkKernel *kdq = pick(be, DQ, dq_kernels, s, err);
    const LptVkKernel *kdkv = kdq ? pick(be, DKV, dkv_kernels, s, err) : NULL;
    if (!kdkv)
        return LPT_ERR_UNSUPPORTED;
    AttnPush p = attn_push(s);
    LptTensor tdq = lpt_vk_aligned_view(dq, &p.off_dq), tdk = lpt_vk_aligned_view(dk, &p.off_dk);
    LptTensor tdv = lpt_vk_aligned_view(dv, &p.off_dv), tdo = lpt_vk_aligned_view(dout, &p.off_dout);
    LptTensor tq = lpt_vk_aligned_view(q, &p.off_q), tk = lpt_vk_aligned_view(k, &p.off_k), tv = lpt_vk_aligned_view(v, &p.off_v);
    LptTensor to = lpt_vk_aligned_view(out, &p.off_out), tl = lpt_vk_aligned_view(lse, &p.off_lse);

    /* D = rowsum(dO * O) into dq's parking slots */
    const LptTensor *prep_bufs[] = {&tdq, &tdo, &to};
    uint64_t items = (uint64_t)s->batch * (uint64_t)s->q_len * (uint64_t)s->heads;
    LptStatus st = lpt_vk_dispatch(be, &prep_kernel, prep_bufs, 3, &p, sizeof p,
                                   capped(be, lpt_vk_groups(items, PREP_LOCAL), 0), 1, 1, err);
    if (st != LPT_OK)
        return st;
    /* dk, dv per key block (reads D) */
    const LptTensor *dkv_bufs[] = {&tdk, &tdv, &tdq, &tdo, &tq, &tk, &tv, &tl};
    st = attn_dispatch(be, kdkv, dkv_bufs, &p, s->kv_len, s, err);
    if (st != LPT_OK)
        return st;
    /* dq per query block (takes D, then overwrites it) */
    const LptTensor *dq_bufs[] = {&tdq, &tdo, &tq, &tk, &tv, &tl};
    return attn_dispatch(be, kdq, dq_bufs, &p, s->q_len, s, err);
}

/* lpt_vk_gemm.c: GEMM and the bias gradient on the Vulkan backend.
 *
 * gemm_forward runs shaders/gemm_forward.comp, a shared-memory tiled GEMM with register
 * blocking (see the shader for the scheme). One kernel record per (tile configuration,
 * transposition of A and B, vec4 loads for A and B): the flags are specialization constants,
 * so each variant compiles to straight-line code, and pipelines are built on first use.
 * Tiles: 128 x 64 (8 x 4 per invocation) when that gives enough workgroups to fill a large
 * GPU, else 64 x 64 (4 x 4); both use 256 invocations and 12 KiB / 8 KiB of shared memory.
 *
 * Every tensor is bound from the 256-byte boundary at or below its offset (256 is the largest
 * minStorageBufferOffsetAlignment Vulkan allows, so views at any element offset, such as the
 * per-batch views gemm_backward makes, bind on every device) and the shader is told the
 * element offset within the binding.
 */
#include "lpt_vk.h"

#include "bias_backward.spv.h"
#include "gemm_forward.spv.h"

/* Matches `Push` in shaders/gemm_forward.comp. */
typedef struct GemmPush {
    uint32_t m, n, k;
    uint32_t lda, ldb, ldc;
    uint32_t batch;
    uint32_t stride_a, stride_b, stride_c;
    uint32_t off_a, off_b, off_c, off_bias;
    uint32_t has_bias;
    float alpha, beta;
} GemmPush;
_Static_assert(sizeof(GemmPush) == 68, "push constants must match gemm_forward.comp");

/* Matches `Push` in shaders/bias_backward.comp. */
typedef struct BiasPush {
    uint32_t rows, n;
    uint32_t off_dbias, off_dout;
} BiasPush;
_Static_assert(sizeof(BiasPush) == 16, "push constants must match bias_backward.comp");

#define GEMM_INVOCATIONS 256u
#define LARGE_TILES_ENOUGH 128u /* workgroups of 128 x 64 tiles that fill a big GPU */

/* Shader flags (specialization constant 8). */
enum { TRANS_A = 1, TRANS_B = 2, VEC_A = 4, VEC_B = 8, N_FLAGS = 16 };

#define GEMM_KERNEL(bm, bn, bk, tm, tn, flags)                                                 \
    {"gemm_forward", gemm_forward_spv, sizeof gemm_forward_spv, 6, sizeof(GemmPush),          \
     {((bm) / (tm)) * ((bn) / (tn)), 1, 1}, 6, {bm, bn, bk, tm, tn, flags}}
#define GEMM_CONFIG(bm, bn, bk, tm, tn)                                                        \
    {GEMM_KERNEL(bm, bn, bk, tm, tn, 0),  GEMM_KERNEL(bm, bn, bk, tm, tn, 1),                  \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 2),  GEMM_KERNEL(bm, bn, bk, tm, tn, 3),                  \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 4),  GEMM_KERNEL(bm, bn, bk, tm, tn, 5),                  \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 6),  GEMM_KERNEL(bm, bn, bk, tm, tn, 7),                  \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 8),  GEMM_KERNEL(bm, bn, bk, tm, tn, 9),                  \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 10), GEMM_KERNEL(bm, bn, bk, tm, tn, 11),                 \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 12), GEMM_KERNEL(bm, bn, bk, tm, tn, 13),                 \
     GEMM_KERNEL(bm, bn, bk, tm, tn, 14), GEMM_KERNEL(bm, bn, bk, tm, tn, 15)}

/* [0]: 128 x 64 tiles, 8 x 4 per invocation; [1]: 64 x 64 tiles, 4 x 4 per invocation.
 * BK = 16; each invocation stages 2 (1) quads of A and 1 of B per k step. */
static const LptVkKernel gemm_kernels[2][N_FLAGS] = {
    GEMM_CONFIG(128, 64, 16, 8, 4),
    GEMM_CONFIG(64, 64, 16, 4, 4),
};

/* Column sums: 32 columns x 16 (or, on small devices, 4) row lanes per workgroup. */
static const LptVkKernel bias_kernels[2] = {
    {"bias_backward", bias_backward_spv, sizeof bias_backward_spv, 2, sizeof(BiasPush),
     {32, 16, 1}, 0, {0}},
    {"bias_backward", bias_backward_spv, sizeof bias_backward_spv, 2, sizeof(BiasPush),
     {32, 4, 1}, 0, {0}},
};

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Whether an operand may be read by vec4: its first element, rows and batches all start on
 * 16-byte boundaries of the binding. */
static bool vec4_ok(uint32_t first, int ld, int batch, int64_t stride)
{
    return first % 4 == 0 && ld % 4 == 0 && (batch == 1 || stride % 4 == 0);
}

LptStatus lpt_vk_gemm_forward(LptBackend *be, const LptTensor *c, const LptTensor *a,
                              const LptTensor *b, const LptTensor *bias, const LptGemmShape *s,
                              LptError *err)
{
    const LptVkLimits *lim = lpt_vk_limits(be);
    if (lim->max_invocations < GEMM_INVOCATIONS)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "gemm_forward: the device runs at most %u invocations per "
                             "workgroup, the kernel needs %u",
                             lim->max_invocations, GEMM_INVOCATIONS);
    GemmPush push = {
        .m = (uint32_t)s->m, .n = (uint32_t)s->n, .k = (uint32_t)s->k,
        .lda = (uint32_t)s->lda, .ldb = (uint32_t)s->ldb, .ldc = (uint32_t)s->ldc,
        .batch = (uint32_t)s->batch,
        /* with one batch the strides are unused and may be anything */
        .stride_a = s->batch > 1 ? (uint32_t)s->stride_a : 0,
        .stride_b = s->batch > 1 ? (uint32_t)s->stride_b : 0,
        .stride_c = s->batch > 1 ? (uint32_t)s->stride_c : 0,
        .has_bias = bias != NULL,
        .alpha = s->alpha, .beta = s->beta,
    };
    LptTensor vc = lpt_vk_aligned_view(c, &push.off_c);
    LptTensor va = lpt_vk_aligned_view(a, &push.off_a);
    LptTensor vb = lpt_vk_aligned_view(b, &push.off_b);
    LptTensor vbias = {0};
    if (bias)
        vbias = lpt_vk_aligned_view(bias, &push.off_bias);

    int flags = (s->trans_a ? TRANS_A : 0) | (s->trans_b ? TRANS_B : 0) |
                (vec4_ok(push.off_a, s->lda, s->batch, s->stride_a) ? VEC_A : 0) |
                (vec4_ok(push.off_b, s->ldb, s->batch, s->stride_b) ? VEC_B : 0);
    const LptVkKernel *large = &gemm_kernels[0][0];
    uint64_t large_tiles = (uint64_t)lpt_vk_groups(push.m, large->spec[0]) *
                           lpt_vk_groups(push.n, large->spec[1]) * push.batch;
    int config = large_tiles >= LARGE_TILES_ENOUGH ? 0 : 1;
    const LptVkKernel *k = &gemm_kernels[config][flags];
    uint32_t tiles_m = lpt_vk_groups(push.m, k->spec[0]);
    uint32_t tiles_n = lpt_vk_groups(push.n, k->spec[1]);

    /* the bias buffer and the vec4 views of A and B: NULL binds the dummy */
    const LptTensor *bufs[] = {&vc, &va, &vb, bias ? &vbias : NULL, &va, &vb};
    return lpt_vk_dispatch(be, k, bufs, 6, &push, sizeof push,
                           min_u32(tiles_n, lim->max_group_count[0]),
                           min_u32(tiles_m, lim->max_group_count[1]),
                           min_u32(push.batch, lim->max_group_count[2]), err);
}

LptStatus lpt_vk_bias_backward(LptBackend *be, const LptTensor *dbias, const LptTensor *dout,
                               int rows, int n, LptError *err)
{
    const LptVkLimits *lim = lpt_vk_limits(be);
    const LptVkKernel *k = &bias_kernels[lim->max_invocations >= 512 ? 0 : 1];
    BiasPush push = {(uint32_t)rows, (uint32_t)n, 0, 0};
    LptTensor vd = lpt_vk_aligned_view(dbias, &push.off_dbias);
    LptTensor vo = lpt_vk_aligned_view(dout, &push.off_dout);
    const LptTensor *bufs[] = {&vd, &vo};
    return lpt_vk_dispatch(be, k, bufs, 2, &push, sizeof push,
                           min_u32(lpt_vk_groups((uint64_t)n, k->local_size[0]),
                                   lim->max_group_count[0]),
                           1, 1, err);
}

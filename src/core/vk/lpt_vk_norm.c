/* lpt_vk_norm.c: LayerNorm and row L2-normalisation on the Vulkan backend.
 *
 * The row kernels (layernorm_forward, layernorm_backward (din), l2norm_forward,
 * l2norm_backward) give one workgroup of ROW_LOCAL invocations to each row, grid-strided over
 * rows, and add across the row with shaders/norm_reduce.glsl: subgroupAdd plus shared memory
 * in the *_sg variants when the device has subgroup arithmetic in compute, a shared-memory
 * tree otherwise. They move vec4s when the row length is a multiple of 4 and every tensor is
 * 16-byte aligned. The LayerNorm parameter gradients need a sum over rows per column; a
 * second kernel (layernorm_backward_params) does it without atomics, one workgroup per tile
 * of PARAMS_X columns with PARAMS_Y row lanes.
 */
#include "lpt_vk.h"

#include <stdbool.h>

#include "l2norm_backward.spv.h"
#include "l2norm_backward_sg.spv.h"
#include "l2norm_forward.spv.h"
#include "l2norm_forward_sg.spv.h"
#include "layernorm_backward.spv.h"
#include "layernorm_backward_params.spv.h"
#include "layernorm_backward_sg.spv.h"
#include "layernorm_forward.spv.h"
#include "layernorm_forward_sg.spv.h"

/* Matches `Push` in shaders/layernorm_forward.glsl, layernorm_backward.glsl,
 * l2norm_forward.glsl and l2norm_backward.glsl. */
typedef struct RowPush {
    uint32_t rows;
    uint32_t c;       /* row length (C or N) */
    uint32_t vec4_ok; /* 1: rows are moved as vec4 */
    float eps;        /* layernorm_forward only */
} RowPush;
_Static_assert(sizeof(RowPush) == 16, "push constants must match the row-normalisation shaders");

/* Matches `Push` in shaders/layernorm_backward_params.comp. */
typedef struct ParamsPush {
    uint32_t rows;
    uint32_t c;
    uint32_t has_dweight;
    uint32_t has_dbias;
} ParamsPush;
_Static_assert(sizeof(ParamsPush) == 16,
               "push constants must match layernorm_backward_params.comp");

#define ROW_LOCAL 64 /* power of two (the shared-memory tree needs one); C = 768: 3 vec4 each */
#define PARAMS_X 8   /* columns per params workgroup: 32-byte row segments */
#define PARAMS_Y 32  /* row lanes per params workgroup (a power of two) */
#define MAX_GROUPS 65535u

#define ROW_KERNEL(stem, buffers)                                                              \
    static const LptVkKernel stem##_kernel = {                                                 \
        #stem, stem##_spv, sizeof stem##_spv, buffers, sizeof(RowPush), {ROW_LOCAL, 1, 1},     \
        0,     {0}};

ROW_KERNEL(layernorm_forward, 6)
ROW_KERNEL(layernorm_forward_sg, 6)
ROW_KERNEL(layernorm_backward, 6)
ROW_KERNEL(layernorm_backward_sg, 6)
ROW_KERNEL(l2norm_forward, 3)
ROW_KERNEL(l2norm_forward_sg, 3)
ROW_KERNEL(l2norm_backward, 4)
ROW_KERNEL(l2norm_backward_sg, 4)

static const LptVkKernel layernorm_backward_params_kernel = {
    "layernorm_backward_params", layernorm_backward_params_spv,
    sizeof layernorm_backward_params_spv, 6, sizeof(ParamsPush), {PARAMS_X, PARAMS_Y, 1}, 0,
    {0}};

/* True when rows of c values can be moved as vec4: c % 4 == 0 and the n tensors a kernel
 * reads or writes by rows all start on 16-byte boundaries. */
static bool vec4_ok(int c, const LptTensor *const *t, int n)
{
    if (c % 4 != 0)
        return false;
    for (int i = 0; i < n; i++)
        if (t[i]->offset % 16 != 0)
            return false;
    return true;
}

/* Dispatches a row kernel (the subgroup variant `sg` when the device has subgroup
 * arithmetic) over `rows` rows of `c` values, moving vec4s when `vec4` is set. */
static LptStatus run_rows(LptBackend *be, const LptVkKernel *plain, const LptVkKernel *sg,
                          const LptTensor *const *bufs, uint32_t n_bufs, bool vec4, int rows,
                          int c, float eps, LptError *err)
{
    const LptVkKernel *k = lpt_vk_limits(be)->subgroup_arithmetic ? sg : plain;
    RowPush push = {(uint32_t)rows, (uint32_t)c, vec4, eps};
    uint32_t groups = (uint32_t)rows < MAX_GROUPS ? (uint32_t)rows : MAX_GROUPS;
    return lpt_vk_dispatch(be, k, bufs, n_bufs, &push, sizeof push, groups, 1, 1, err);
}

LptStatus lpt_vk_layernorm_forward(LptBackend *be, const LptTensor *out, const LptTensor *mean,
                                   const LptTensor *rstd, const LptTensor *in,
                                   const LptTensor *weight, const LptTensor *bias, int rows,
                                   int c, float eps, LptError *err)
{
    const LptTensor *bufs[] = {out, mean, rstd, in, weight, bias};
    const LptTensor *rowwise[] = {out, in, weight, bias};
    return run_rows(be, &layernorm_forward_kernel, &layernorm_forward_sg_kernel, bufs, 6,
                    vec4_ok(c, rowwise, 4), rows, c, eps, err);
}

LptStatus lpt_vk_layernorm_backward(LptBackend *be, const LptTensor *din,
                                    const LptTensor *dweight, const LptTensor *dbias,
                                    const LptTensor *dout, const LptTensor *in,
                                    const LptTensor *mean, const LptTensor *rstd,
                                    const LptTensor *weight, int rows, int c, LptError *err)
{
    const LptTensor *bufs[] = {din, dout, in, mean, rstd, weight};
    const LptTensor *rowwise[] = {din, dout, in, weight};
    LptStatus st = run_rows(be, &layernorm_backward_kernel, &layernorm_backward_sg_kernel, bufs,
                            6, vec4_ok(c, rowwise, 4), rows, c, 0.0f, err);
    if (st != LPT_OK || (!dweight && !dbias))
        return st;
    const LptTensor *pbufs[] = {dweight, dbias, dout, in, mean, rstd};
    ParamsPush push = {(uint32_t)rows, (uint32_t)c, dweight != NULL, dbias != NULL};
    uint32_t groups = lpt_vk_groups((uint64_t)c, PARAMS_X);
    if (groups > MAX_GROUPS)
        groups = MAX_GROUPS;
    return lpt_vk_dispatch(be, &layernorm_backward_params_kernel, pbufs, 6, &push, sizeof push,
                           groups, 1, 1, err);
}

LptStatus lpt_vk_l2norm_forward(LptBackend *be, const LptTensor *out, const LptTensor *norm,
                                const LptTensor *in, int rows, int n, LptError *err)
{
    const LptTensor *bufs[] = {out, norm, in};
    const LptTensor *rowwise[] = {out, in};
    return run_rows(be, &l2norm_forward_kernel, &l2norm_forward_sg_kernel, bufs, 3,
                    vec4_ok(n, rowwise, 2), rows, n, 0.0f, err);
}

LptStatus lpt_vk_l2norm_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                 const LptTensor *out, const LptTensor *norm, int rows, int n,
                                 LptError *err)
{
    const LptTensor *bufs[] = {din, dout, out, norm};
    const LptTensor *rowwise[] = {din, dout, out};
    return run_rows(be, &l2norm_backward_kernel, &l2norm_backward_sg_kernel, bufs, 4,
                    vec4_ok(n, rowwise, 3), rows, n, 0.0f, err);
}

/* lpt_vk_dropout.c: feature dropout on Vulkan (shaders/dropout_forward.comp; the backward
 * runs the same kernel on the gradient). One invocation per value, grid-strided; tensors are
 * bound through lpt_vk_aligned_view, so views at any element offset work. */
#include "lpt_vk.h"

#include "dropout_forward.spv.h"

/* Matches `Push` in shaders/dropout_forward.comp. */
typedef struct DropoutPush {
    uint32_t total, cols;
    float p, scale;
    uint32_t seed_lo, seed_hi, step;
    uint32_t off_out, off_in;
} DropoutPush;
_Static_assert(sizeof(DropoutPush) == 36, "push constants must match dropout_forward.comp");

#define LOCAL 256
#define MAX_GROUPS 65535u

static const LptVkKernel dropout_forward_kernel = {
    "dropout_forward", dropout_forward_spv, sizeof dropout_forward_spv, 2, sizeof(DropoutPush),
    {LOCAL, 1, 1},     0,                   {0}};

LptStatus lpt_vk_dropout_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 const LptDropoutParams *p, LptError *err)
{
    DropoutPush push = {(uint32_t)((size_t)p->rows * p->cols),
                        (uint32_t)p->cols,
                        p->p,
                        1.0f / (1.0f - p->p),
                        (uint32_t)p->seed,
                        (uint32_t)(p->seed >> 32),
                        p->step,
                        0,
                        0};
    LptTensor vo = lpt_vk_aligned_view(out, &push.off_out);
    LptTensor vi = lpt_vk_aligned_view(in, &push.off_in);
    const LptTensor *bufs[] = {&vo, &vi};
    uint64_t groups = lpt_vk_groups(push.total, LOCAL);
    return lpt_vk_dispatch(be, &dropout_forward_kernel, bufs, 2, &push, sizeof push,
                           groups > MAX_GROUPS ? MAX_GROUPS : (uint32_t)groups, 1, 1, err);
}

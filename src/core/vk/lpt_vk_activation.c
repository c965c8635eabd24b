/* lpt_vk_activation.c: elementwise kernels on Vulkan: GELU, QuickGELU, ReLU (forward and
 * backward) and the residual add. One invocation per value, grid-strided. */
#include "lpt_vk.h"

#include "add_forward.spv.h"
#include "gelu_backward.spv.h"
#include "gelu_forward.spv.h"
#include "quick_gelu_backward.spv.h"
#include "quick_gelu_forward.spv.h"
#include "relu_backward.spv.h"
#include "relu_forward.spv.h"

/* Matches `Push` in shaders/elementwise.glsl. */
typedef struct ElementwisePush {
    uint32_t n;
    float alpha;
} ElementwisePush;
_Static_assert(sizeof(ElementwisePush) == 8, "push constants must match elementwise.glsl");

#define LOCAL 256
#define MAX_GROUPS 65535u

#define KERNEL(stem, buffers)                                                                  \
    static const LptVkKernel stem##_kernel = {                                                 \
        #stem, stem##_spv, sizeof stem##_spv, buffers, sizeof(ElementwisePush), {LOCAL, 1, 1}, \
        0, {0}};

KERNEL(gelu_forward, 2)
KERNEL(gelu_backward, 3)
KERNEL(quick_gelu_forward, 2)
KERNEL(quick_gelu_backward, 3)
KERNEL(relu_forward, 2)
KERNEL(relu_backward, 3)
KERNEL(add_forward, 3)

static LptStatus run(LptBackend *be, const LptVkKernel *k, const LptTensor *const *bufs,
                     uint32_t n_bufs, size_t n, float alpha, LptError *err)
{
    ElementwisePush push = {(uint32_t)n, alpha};
    uint32_t groups = lpt_vk_groups(n, LOCAL);
    if (groups > MAX_GROUPS)
        groups = MAX_GROUPS;
    return lpt_vk_dispatch(be, k, bufs, n_bufs, &push, sizeof push, groups, 1, 1, err);
}

#define UNARY(stem)                                                                            \
    LptStatus lpt_vk_##stem##_forward(LptBackend *be, const LptTensor *out,                    \
                                      const LptTensor *in, size_t n, LptError *err)            \
    {                                                                                          \
        const LptTensor *bufs[] = {out, in};                                                   \
        return run(be, &stem##_forward_kernel, bufs, 2, n, 0.0f, err);                         \
    }                                                                                          \
    LptStatus lpt_vk_##stem##_backward(LptBackend *be, const LptTensor *din,                   \
                                       const LptTensor *dout, const LptTensor *in, size_t n,   \
                                       LptError *err)                                          \
    {                                                                                          \
        const LptTensor *bufs[] = {din, dout, in};                                             \
        return run(be, &stem##_backward_kernel, bufs, 3, n, 0.0f, err);                        \
    }

UNARY(gelu)
UNARY(quick_gelu)
UNARY(relu)

LptStatus lpt_vk_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                             const LptTensor *b, float alpha, size_t n, LptError *err)
{
    const LptTensor *bufs[] = {out, a, b};
    return run(be, &add_forward_kernel, bufs, 3, n, alpha, err);
}

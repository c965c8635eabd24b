/* lpt_vk_optim.c: SGD-momentum and AdamW parameter updates on Vulkan, in place on the
 * parameter and its state: one invocation per value, grid-strided. AdamW's bias corrections
 * are computed here once per call in double and reach the shader as push constants. */
#include "lpt_vk.h"

#include <math.h>

#include "adamw_update.spv.h"
#include "sgd_update.spv.h"

/* Matches `Push` in shaders/sgd_update.comp. */
typedef struct SgdPush {
    uint32_t n;
    float lr, momentum, weight_decay;
} SgdPush;
_Static_assert(sizeof(SgdPush) == 16, "push constants must match sgd_update.comp");

/* Matches `Push` in shaders/adamw_update.comp. */
typedef struct AdamwPush {
    uint32_t n;
    float decay; /* 1 - lr * weight_decay */
    float beta1, beta2;
    float step_size; /* lr / (1 - beta1^t) */
    float bc2_sqrt;  /* sqrt(1 - beta2^t) */
    float eps;
} AdamwPush;
_Static_assert(sizeof(AdamwPush) == 28, "push constants must match adamw_update.comp");

#define LOCAL 256
#define MAX_GROUPS 65535u

static const LptVkKernel sgd_update_kernel = {
    "sgd_update", sgd_update_spv, sizeof sgd_update_spv, 3, sizeof(SgdPush), {LOCAL, 1, 1},
    0, {0}};
static const LptVkKernel adamw_update_kernel = {
    "adamw_update", adamw_update_spv, sizeof adamw_update_spv, 4, sizeof(AdamwPush),
    {LOCAL, 1, 1}, 0, {0}};

/* Workgroups for n values: one value per invocation up to the group limit, then strided. */
static uint32_t groups_for(size_t n)
{
    uint32_t groups = lpt_vk_groups(n, LOCAL);
    return groups > MAX_GROUPS ? MAX_GROUPS : groups;
}

LptStatus lpt_vk_sgd_update(LptBackend *be, const LptTensor *param, const LptTensor *velocity,
                            const LptTensor *grad, size_t n, float lr, float momentum,
                            float weight_decay, LptError *err)
{
    const LptTensor *bufs[] = {param, velocity, grad};
    SgdPush push = {(uint32_t)n, lr, momentum, weight_decay};
    return lpt_vk_dispatch(be, &sgd_update_kernel, bufs, 3, &push, sizeof push, groups_for(n),
                           1, 1, err);
}

LptStatus lpt_vk_adamw_update(LptBackend *be, const LptTensor *param, const LptTensor *m,
                              const LptTensor *v, const LptTensor *grad, size_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay,
                              int step, LptError *err)
{
    const LptTensor *bufs[] = {param, m, v, grad};
    AdamwPush push = {
        (uint32_t)n, (float)(1.0 - (double)lr * weight_decay), beta1, beta2,
        (float)(lr / (1.0 - pow(beta1, step))), (float)sqrt(1.0 - pow(beta2, step)), eps,
    };
    return lpt_vk_dispatch(be, &adamw_update_kernel, bufs, 4, &push, sizeof push,
                           groups_for(n), 1, 1, err);
}

/* lpt_vk_optim.c: SGD-momentum and AdamW updates on the Vulkan backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_vk.h"

LptStatus lpt_vk_sgd_update(LptBackend *be, const LptTensor *param, const LptTensor *velocity,
                            const LptTensor *grad, size_t n, float lr, float momentum,
                            float weight_decay, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "sgd_update: not implemented on the vk backend yet");
}

LptStatus lpt_vk_adamw_update(LptBackend *be, const LptTensor *param, const LptTensor *m,
                              const LptTensor *v, const LptTensor *grad, size_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay,
                              int step, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "adamw_update: not implemented on the vk backend yet");
}

/* lpt_vk_select.c: prompt-pool gather/mean and top-k on the Vulkan backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_vk.h"

LptStatus lpt_vk_gather_mean_forward(LptBackend *be, const LptTensor *out,
                                     const LptTensor *pool, const LptTensor *indices,
                                     int batch, int k, int pool_size, int entry_size,
                                     LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "gather_mean_forward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_gather_mean_backward(LptBackend *be, const LptTensor *dpool,
                                      const LptTensor *dout, const LptTensor *indices,
                                      int batch, int k, int pool_size, int entry_size,
                                      LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "gather_mean_backward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_topk_forward(LptBackend *be, const LptTensor *values, const LptTensor *indices,
                              const LptTensor *in, int rows, int n, int k, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "topk_forward: not implemented on the vk backend yet");
}

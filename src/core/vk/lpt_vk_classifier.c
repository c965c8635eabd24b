/* lpt_vk_classifier.c: the cosine classifier and the A-GCL loss on the Vulkan backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_vk.h"

LptStatus lpt_vk_cosine_forward(LptBackend *be, const LptTensor *logits, const LptTensor *f,
                                const LptTensor *w, int batch, int classes, int c,
                                LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "cosine_forward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_cosine_backward(LptBackend *be, const LptTensor *df, const LptTensor *dw,
                                 const LptTensor *dlogits, const LptTensor *f,
                                 const LptTensor *w, int batch, int classes, int c,
                                 LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "cosine_backward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_agcl_forward(LptBackend *be, const LptTensor *loss, const LptTensor *cos,
                              const LptTensor *labels, const LptTensor *margins,
                              const LptAgclParams *p, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "agcl_forward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_agcl_backward(LptBackend *be, const LptTensor *dcos, const LptTensor *cos,
                               const LptTensor *labels, const LptTensor *margins,
                               const LptAgclParams *p, float grad_scale, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "agcl_backward: not implemented on the vk backend yet");
}

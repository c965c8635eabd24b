/* lpt_vk_attention.c: softmax and multi-head attention on the Vulkan backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_vk.h"

LptStatus lpt_vk_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 int rows, int n, float scale, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "softmax_forward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptTensor *out, int rows, int n, float scale,
                                  LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "softmax_backward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                   const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                   const LptAttentionShape *s, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "attention_forward: not implemented on the vk backend yet");
}

LptStatus lpt_vk_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                    const LptTensor *dv, const LptTensor *dout,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptTensor *out, const LptTensor *lse,
                                    const LptAttentionShape *s, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "attention_backward: not implemented on the vk backend yet");
}

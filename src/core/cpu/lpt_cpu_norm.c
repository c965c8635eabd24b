/* lpt_cpu_norm.c: LayerNorm and row L2-normalisation on the CPU backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_cpu.h"

LptStatus lpt_cpu_layernorm_forward(LptBackend *be, const LptTensor *out, const LptTensor *mean,
                                   const LptTensor *rstd, const LptTensor *in,
                                   const LptTensor *weight, const LptTensor *bias, int rows,
                                   int c, float eps, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "layernorm_forward: not implemented on the cpu backend yet");
}

LptStatus lpt_cpu_layernorm_backward(LptBackend *be, const LptTensor *din,
                                    const LptTensor *dweight, const LptTensor *dbias,
                                    const LptTensor *dout, const LptTensor *in,
                                    const LptTensor *mean, const LptTensor *rstd,
                                    const LptTensor *weight, int rows, int c, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "layernorm_backward: not implemented on the cpu backend yet");
}

LptStatus lpt_cpu_l2norm_forward(LptBackend *be, const LptTensor *out, const LptTensor *norm,
                                const LptTensor *in, int rows, int n, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "l2norm_forward: not implemented on the cpu backend yet");
}

LptStatus lpt_cpu_l2norm_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                 const LptTensor *out, const LptTensor *norm, int rows, int n,
                                 LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "l2norm_backward: not implemented on the cpu backend yet");
}

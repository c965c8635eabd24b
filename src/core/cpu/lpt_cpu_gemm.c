/* lpt_cpu_gemm.c: GEMM (tiled) and the bias gradient on the CPU backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_cpu.h"

LptStatus lpt_cpu_gemm_forward(LptBackend *be, const LptTensor *c, const LptTensor *a,
                              const LptTensor *b, const LptTensor *bias, const LptGemmShape *s,
                              LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "gemm_forward: not implemented on the cpu backend yet");
}

LptStatus lpt_cpu_bias_backward(LptBackend *be, const LptTensor *dbias, const LptTensor *dout,
                               int rows, int n, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "bias_backward: not implemented on the cpu backend yet");
}

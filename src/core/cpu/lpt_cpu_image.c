/* lpt_cpu_image.c: image preprocessing (crop, resize, flip, normalise) on the CPU backend.
 * TODO(issue 2): placeholder until the kernels land; every entry reports 'unsupported'. */
#include "lpt_cpu.h"

LptStatus lpt_cpu_image_transform_forward(LptBackend *be, const LptTensor *out,
                                         const LptTensor *src, const LptTensor *boxes,
                                         const LptImageShape *s, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "image_transform_forward: not implemented on the cpu backend yet");
}

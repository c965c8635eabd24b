/* lpt_cpu_dropout.c: feature dropout on the CPU (lpt_op_dropout_forward, which the backward
 * reuses): the mask of lpt_dropout_keep, one task per row range. */
#include "lpt_cpu.h"

#define GRAIN 4096 /* values per task, at least */

typedef struct DropoutCtx {
    float *out;
    const float *in;
    const LptDropoutParams *p;
    float scale;
} DropoutCtx;

static void dropout_task(void *ctx, size_t begin, size_t end)
{
    DropoutCtx *c = ctx;
    size_t cols = (size_t)c->p->cols;
    for (size_t r = begin; r < end; r++)
        for (size_t k = 0; k < cols; k++) {
            size_t i = r * cols + k;
            bool keep = lpt_dropout_keep(c->p->seed, c->p->step, (uint32_t)r, (uint32_t)k, c->p->p);
            c->out[i] = keep ? c->in[i] * c->scale : 0.0f;
        }
}

LptStatus lpt_cpu_dropout_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                  const LptDropoutParams *p, LptError *err)
{
    (void)err;
    DropoutCtx c = {lpt_cpu_f32(out), lpt_cpu_f32(in), p, 1.0f / (1.0f - p->p)};
    lpt_cpu_parallel_for(be, (size_t)p->rows, GRAIN / (size_t)p->cols + 1, dropout_task, &c);
    return LPT_OK;
}

/* lpt_cpu_optim.c: SGD-momentum and AdamW parameter updates on the CPU, in place on the
 * parameter and its state, split across the pool in blocks of GRAIN values. AdamW's bias
 * corrections are computed once per call in double; the per-value arithmetic is float and
 * follows the same formula as shaders/adamw_update.comp (PyTorch's AdamW). */
#include "lpt_cpu.h"

#include <math.h>

#define GRAIN 16384

typedef struct SgdCtx {
    float *param, *velocity;
    const float *grad;
    float lr, momentum, weight_decay;
} SgdCtx;

static void sgd_task(void *ctx, size_t begin, size_t end)
{
    const SgdCtx *c = ctx;
    for (size_t i = begin; i < end; i++) {
        float v = c->momentum * c->velocity[i] + c->grad[i] + c->weight_decay * c->param[i];
        c->velocity[i] = v;
        c->param[i] -= c->lr * v;
    }
}

LptStatus lpt_cpu_sgd_update(LptBackend *be, const LptTensor *param, const LptTensor *velocity,
                             const LptTensor *grad, size_t n, float lr, float momentum,
                             float weight_decay, LptError *err)
{
    SgdCtx c = {lpt_cpu_f32(param), lpt_cpu_f32(velocity), lpt_cpu_f32(grad),
                lr, momentum, weight_decay};
    lpt_cpu_parallel_for(be, n, GRAIN, sgd_task, &c);
    return LPT_OK;
}

typedef struct AdamwCtx {
    float *param, *m, *v;
    const float *grad;
    float decay;     /* 1 - lr * weight_decay */
    float beta1, beta2;
    float step_size; /* lr / (1 - beta1^t) */
    float bc2_sqrt;  /* sqrt(1 - beta2^t) */
    float eps;
} AdamwCtx;

static void adamw_task(void *ctx, size_t begin, size_t end)
{
    const AdamwCtx *c = ctx;
    for (size_t i = begin; i < end; i++) {
        float g = c->grad[i];
        float m = c->beta1 * c->m[i] + (1.0f - c->beta1) * g;
        float v = c->beta2 * c->v[i] + (1.0f - c->beta2) * g * g;
        c->m[i] = m;
        c->v[i] = v;
        float denom = sqrtf(v) / c->bc2_sqrt + c->eps;
        c->param[i] = c->param[i] * c->decay - c->step_size * m / denom;
    }
}

LptStatus lpt_cpu_adamw_update(LptBackend *be, const LptTensor *param, const LptTensor *m,
                               const LptTensor *v, const LptTensor *grad, size_t n, float lr,
                               float beta1, float beta2, float eps, float weight_decay,
                               int step, LptError *err)
{
    AdamwCtx c = {
        lpt_cpu_f32(param), lpt_cpu_f32(m), lpt_cpu_f32(v), lpt_cpu_f32(grad),
        (float)(1.0 - (double)lr * weight_decay), beta1, beta2,
        (float)(lr / (1.0 - pow(beta1, step))), (float)sqrt(1.0 - pow(beta2, step)), eps,
    };
    lpt_cpu_parallel_for(be, n, GRAIN, adamw_task, &c);
    return LPT_OK;
}

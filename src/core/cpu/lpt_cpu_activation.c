/* lpt_cpu_activation.c: elementwise kernels on the CPU: GELU (erf), QuickGELU, ReLU (forward
 * and backward) and the residual add, split across the pool in blocks. */
#include "lpt_cpu.h"

#include "lpt_cpu_math.h"

#define GRAIN 16384

typedef struct Elementwise {
    float *out;
    const float *a, *b, *c;
    float alpha;
} Elementwise;

static void gelu_fwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++) {
        float x = e->a[i];
        e->out[i] = 0.5f * x * (1.0f + lpt_erff(x * 0.70710678118654752f));
    }
}

static void gelu_bwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx; /* a = dout, b = in */
    for (size_t i = begin; i < end; i++) {
        float x = e->b[i];
        float cdf = 0.5f * (1.0f + lpt_erff(x * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * lpt_expf(-0.5f * x * x);
        e->out[i] = e->a[i] * (cdf + x * pdf);
    }
}

static void quick_gelu_fwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++) {
        float x = e->a[i];
        e->out[i] = x / (1.0f + lpt_expf(-1.702f * x));
    }
}

static void quick_gelu_bwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++) {
        float x = e->b[i];
        float s = 1.0f / (1.0f + lpt_expf(-1.702f * x));
        e->out[i] = e->a[i] * (s + 1.702f * x * s * (1.0f - s));
    }
}

static void relu_fwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++)
        e->out[i] = e->a[i] > 0.0f ? e->a[i] : 0.0f;
}

static void relu_bwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++)
        e->out[i] = e->b[i] > 0.0f ? e->a[i] : 0.0f;
}

static void add_fwd(void *ctx, size_t begin, size_t end)
{
    Elementwise *e = ctx;
    for (size_t i = begin; i < end; i++)
        e->out[i] = e->a[i] + e->alpha * e->b[i];
}

#define UNARY(stem)                                                                            \
    LptStatus lpt_cpu_##stem##_forward(LptBackend *be, const LptTensor *out,                   \
                                       const LptTensor *in, size_t n, LptError *err)           \
    {                                                                                          \
        Elementwise e = {lpt_cpu_f32(out), lpt_cpu_f32(in), NULL, NULL, 0.0f};                 \
        lpt_cpu_parallel_for(be, n, GRAIN, stem##_fwd, &e);                                    \
        return LPT_OK;                                                                         \
    }                                                                                          \
    LptStatus lpt_cpu_##stem##_backward(LptBackend *be, const LptTensor *din,                  \
                                        const LptTensor *dout, const LptTensor *in, size_t n,  \
                                        LptError *err)                                         \
    {                                                                                          \
        Elementwise e = {lpt_cpu_f32(din), lpt_cpu_f32(dout), lpt_cpu_f32(in), NULL, 0.0f};    \
        lpt_cpu_parallel_for(be, n, GRAIN, stem##_bwd, &e);                                    \
        return LPT_OK;                                                                         \
    }

UNARY(gelu)
UNARY(quick_gelu)
UNARY(relu)

LptStatus lpt_cpu_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                              const LptTensor *b, float alpha, size_t n, LptError *err)
{
    Elementwise e = {lpt_cpu_f32(out), lpt_cpu_f32(a), lpt_cpu_f32(b), NULL, alpha};
    lpt_cpu_parallel_for(be, n, GRAIN, add_fwd, &e);
    return LPT_OK;
}

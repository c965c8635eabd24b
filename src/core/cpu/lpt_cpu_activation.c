/* lpt_cpu_activation.c: elementwise kernels on the CPU: GELU (erf), QuickGELU, ReLU (forward
 * and backward) and the residual add, split across the pool in blocks.
 *
 * The loops are plain scalar code that GCC vectorises (lpt_cpu_math.h's branch-free exp and
 * erf); the GELU and QuickGELU loops are also compiled for AVX2 with FMA (LPT_CPU_TASK): at
 * ViT-B sizes the baseline SSE2 loops are compute bound (3x slower), the AVX2 ones about at
 * memory speed. GELU's backward shares one exp between Phi(x) and phi(x).
 */
#include "lpt_cpu.h"

#include "lpt_cpu_math.h"

#define GRAIN 16384

typedef struct Elementwise {
    float *out;
    const float *a, *b, *c;
    float alpha;
} Elementwise;

LPT_CPU_INLINE void gelu_fwd_body(void *ctx, size_t begin, size_t end)
{
    const Elementwise *e = ctx;
    float *out = e->out;
    const float *in = e->a;
    for (size_t i = begin; i < end; i++) {
        float x = in[i];
        out[i] = 0.5f * x * (1.0f + lpt_erff(x * 0.70710678118654752f));
    }
}

/* d/dx x Phi(x) = Phi(x) + x phi(x); erf(|x| / sqrt 2) as lpt_erff computes it, with its
 * exp(-x^2 / 2) reused for phi. */
LPT_CPU_INLINE void gelu_bwd_body(void *ctx, size_t begin, size_t end)
{
    const Elementwise *e = ctx; /* a = dout, b = in */
    float *out = e->out;
    const float *dout = e->a, *in = e->b;
    for (size_t i = begin; i < end; i++) {
        float x = in[i];
        float z = (x < 0.0f ? -x : x) * 0.70710678118654752f;
        float t = 1.0f / (1.0f + 0.3275911f * z);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f +
                     t * (-1.453152027f + t * 1.061405429f))));
        float g = lpt_expf(-0.5f * x * x);
        float erf = __builtin_copysignf(1.0f - poly * g, x);
        out[i] = dout[i] * (0.5f * (1.0f + erf) + x * (0.39894228040143268f * g));
    }
}

LPT_CPU_INLINE void quick_gelu_fwd_body(void *ctx, size_t begin, size_t end)
{
    const Elementwise *e = ctx;
    float *out = e->out;
    const float *in = e->a;
    for (size_t i = begin; i < end; i++) {
        float x = in[i];
        out[i] = x / (1.0f + lpt_expf(-1.702f * x));
    }
}

LPT_CPU_INLINE void quick_gelu_bwd_body(void *ctx, size_t begin, size_t end)
{
    const Elementwise *e = ctx;
    float *out = e->out;
    const float *dout = e->a, *in = e->b;
    for (size_t i = begin; i < end; i++) {
        float x = in[i];
        float s = 1.0f / (1.0f + lpt_expf(-1.702f * x));
        out[i] = dout[i] * (s + 1.702f * x * s * (1.0f - s));
    }
}

LPT_CPU_TASK(gelu_fwd, gelu_fwd_body)
LPT_CPU_TASK(gelu_bwd, gelu_bwd_body)
LPT_CPU_TASK(quick_gelu_fwd, quick_gelu_fwd_body)
LPT_CPU_TASK(quick_gelu_bwd, quick_gelu_bwd_body)

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

/* lpt_cpu_<stem>_forward/backward running the tasks `fwd` and `bwd`. */
#define UNARY(stem, fwd, bwd)                                                                  \
    LptStatus lpt_cpu_##stem##_forward(LptBackend *be, const LptTensor *out,                   \
                                       const LptTensor *in, size_t n, LptError *err)           \
    {                                                                                          \
        Elementwise e = {lpt_cpu_f32(out), lpt_cpu_f32(in), NULL, NULL, 0.0f};                 \
        lpt_cpu_parallel_for(be, n, GRAIN, fwd, &e);                                           \
        return LPT_OK;                                                                         \
    }                                                                                          \
    LptStatus lpt_cpu_##stem##_backward(LptBackend *be, const LptTensor *din,                  \
                                        const LptTensor *dout, const LptTensor *in, size_t n,  \
                                        LptError *err)                                         \
    {                                                                                          \
        Elementwise e = {lpt_cpu_f32(din), lpt_cpu_f32(dout), lpt_cpu_f32(in), NULL, 0.0f};    \
        lpt_cpu_parallel_for(be, n, GRAIN, bwd, &e);                                           \
        return LPT_OK;                                                                         \
    }

UNARY(gelu, gelu_fwd(), gelu_bwd())
UNARY(quick_gelu, quick_gelu_fwd(), quick_gelu_bwd())
UNARY(relu, relu_fwd, relu_bwd)

LptStatus lpt_cpu_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                              const LptTensor *b, float alpha, size_t n, LptError *err)
{
    Elementwise e = {lpt_cpu_f32(out), lpt_cpu_f32(a), lpt_cpu_f32(b), NULL, alpha};
    lpt_cpu_parallel_for(be, n, GRAIN, add_fwd, &e);
    return LPT_OK;
}

/* lpt_vk_classifier.c: the cosine classifier and the A-GCL loss on the Vulkan backend.
 *
 * cosine_forward: 64 x 64 logit tiles per 16 x 16 workgroup (4 x 4 per invocation), the row
 * norms summed from the same staged slices of f and w (shaders/cosine_forward.comp).
 * cosine_backward: one kernel run twice, for df (assigned) and dw (accumulated), in the
 * projection form that needs no logits and no scratch memory; a workgroup owns BWD_ROWS
 * gradient rows and keeps BWD_ROWS x CPT partial sums per invocation, CPT chosen from C
 * (shaders/cosine_backward.comp).
 * agcl_forward / agcl_backward: one workgroup per sample, the noise recomputed from the
 * counter-based generator in every pass (shaders/agcl.glsl, shaders/philox.glsl).
 */
#include "lpt_vk.h"

#include <stdbool.h>

#include "agcl_backward.spv.h"
#include "agcl_forward.spv.h"
#include "cosine_backward.spv.h"
#include "cosine_forward.spv.h"

/* Matches `Push` in shaders/cosine_forward.comp. */
typedef struct CosineForwardPush {
    uint32_t batch, classes, c;
} CosineForwardPush;
_Static_assert(sizeof(CosineForwardPush) == 12, "push constants must match cosine_forward.comp");

/* Matches `Push` in shaders/cosine_backward.comp. */
typedef struct CosineBackwardPush {
    uint32_t n_own, n_other, c;
    uint32_t g_own, g_other; /* g[i, j] at i * g_own + j * g_other */
    uint32_t accumulate;
} CosineBackwardPush;
_Static_assert(sizeof(CosineBackwardPush) == 24, "push constants must match cosine_backward.comp");

/* Matches `Push` in shaders/agcl.glsl. */
typedef struct AgclPush {
    uint32_t batch, classes;
    float gamma_pos, gamma_neg, scale, margin, noise, smoothing;
    uint32_t seed_lo, seed_hi, step;
    float grad_scale;
} AgclPush;
_Static_assert(sizeof(AgclPush) == 48, "push constants must match agcl.glsl");

#define FWD_TILE 64    /* logits per tile side; the shader's 16 x 16 workgroup is fixed */
#define BWD_LOCAL 256  /* a power of two and a multiple of the shader's CHUNK (32) */
#define BWD_ROWS 8     /* gradient rows per workgroup */
#define BWD_MAX_CPT 4  /* columns per invocation per pass: 1..4 (more C takes more passes) */
#define AGCL_LOCAL 128 /* a power of two (shared-memory tree) */
#define MAX_GROUPS 65535u

static const LptVkKernel cosine_forward_kernel = {
    "cosine_forward", cosine_forward_spv, sizeof cosine_forward_spv, 3,
    sizeof(CosineForwardPush), {16, 16, 1}, 0, {0}};

#define BWD_KERNEL(cpt)                                                                        \
    {"cosine_backward", cosine_backward_spv, sizeof cosine_backward_spv, 4,                    \
     sizeof(CosineBackwardPush), {BWD_LOCAL, 1, 1}, 2, {cpt, BWD_ROWS}}
static const LptVkKernel cosine_backward_kernels[BWD_MAX_CPT] = {BWD_KERNEL(1), BWD_KERNEL(2),
                                                                 BWD_KERNEL(3), BWD_KERNEL(4)};

static const LptVkKernel agcl_forward_kernel = {
    "agcl_forward", agcl_forward_spv, sizeof agcl_forward_spv, 4, sizeof(AgclPush),
    {AGCL_LOCAL, 1, 1}, 0, {0}};
static const LptVkKernel agcl_backward_kernel = {
    "agcl_backward", agcl_backward_spv, sizeof agcl_backward_spv, 4, sizeof(AgclPush),
    {AGCL_LOCAL, 1, 1}, 0, {0}};

static uint32_t capped_groups(uint64_t n, uint32_t per_group)
{
    uint32_t g = lpt_vk_groups(n, per_group);
    return g < MAX_GROUPS ? g : MAX_GROUPS;
}

LptStatus lpt_vk_cosine_forward(LptBackend *be, const LptTensor *logits, const LptTensor *f,
                                const LptTensor *w, int batch, int classes, int c,
                                LptError *err)
{
    const LptTensor *bufs[] = {logits, f, w};
    CosineForwardPush push = {(uint32_t)batch, (uint32_t)classes, (uint32_t)c};
    return lpt_vk_dispatch(be, &cosine_forward_kernel, bufs, 3, &push, sizeof push,
                           capped_groups((uint64_t)classes, FWD_TILE),
                           capped_groups((uint64_t)batch, FWD_TILE), 1, err);
}

/* One run of cosine_backward: gradient rows `own` (n_own of them) against `other`. */
static LptStatus cosine_backward_side(LptBackend *be, const LptTensor *grad,
                                      const LptTensor *dlogits, const LptTensor *own,
                                      const LptTensor *other, int n_own, int n_other, int c,
                                      uint32_t g_own, uint32_t g_other, bool accumulate,
                                      LptError *err)
{
    int cpt = (c + BWD_LOCAL - 1) / BWD_LOCAL;
    if (cpt > BWD_MAX_CPT)
        cpt = BWD_MAX_CPT;
    const LptTensor *bufs[] = {grad, dlogits, own, other};
    CosineBackwardPush push = {(uint32_t)n_own, (uint32_t)n_other, (uint32_t)c,
                               g_own,           g_other,           accumulate};
    return lpt_vk_dispatch(be, &cosine_backward_kernels[cpt - 1], bufs, 4, &push, sizeof push,
                           capped_groups((uint64_t)n_own, BWD_ROWS), 1, 1, err);
}

LptStatus lpt_vk_cosine_backward(LptBackend *be, const LptTensor *df, const LptTensor *dw,
                                 const LptTensor *dlogits, const LptTensor *f,
                                 const LptTensor *w, int batch, int classes, int c,
                                 LptError *err)
{
    LptStatus st = LPT_OK;
    if (df)
        st = cosine_backward_side(be, df, dlogits, f, w, batch, classes, c, (uint32_t)classes,
                                  1, false, err);
    if (st == LPT_OK && dw)
        st = cosine_backward_side(be, dw, dlogits, w, f, classes, batch, c, 1,
                                  (uint32_t)classes, true, err);
    return st;
}

static AgclPush agcl_push(const LptAgclParams *p, float grad_scale)
{
    AgclPush push = {(uint32_t)p->batch,
                     (uint32_t)p->classes,
                     p->gamma_pos,
                     p->gamma_neg,
                     p->scale,
                     p->margin,
                     p->noise,
                     p->smoothing,
                     (uint32_t)p->seed,
                     (uint32_t)(p->seed >> 32),
                     p->step,
                     grad_scale};
    return push;
}

LptStatus lpt_vk_agcl_forward(LptBackend *be, const LptTensor *loss, const LptTensor *cos,
                              const LptTensor *labels, const LptTensor *margins,
                              const LptAgclParams *p, LptError *err)
{
    const LptTensor *bufs[] = {loss, cos, labels, margins};
    AgclPush push = agcl_push(p, 1.0f);
    return lpt_vk_dispatch(be, &agcl_forward_kernel, bufs, 4, &push, sizeof push,
                           capped_groups((uint64_t)p->batch, 1), 1, 1, err);
}

LptStatus lpt_vk_agcl_backward(LptBackend *be, const LptTensor *dcos, const LptTensor *cos,
                               const LptTensor *labels, const LptTensor *margins,
                               const LptAgclParams *p, float grad_scale, LptError *err)
{
    const LptTensor *bufs[] = {dcos, cos, labels, margins};
    AgclPush push = agcl_push(p, grad_scale);
    return lpt_vk_dispatch(be, &agcl_backward_kernel, bufs, 4, &push, sizeof push,
                           capped_groups((uint64_t)p->batch, 1), 1, 1, err);
}

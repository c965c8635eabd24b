/* lpt_cpu.h: the CPU backend's private interface: its thread pool, tensor pointers, and the
 * op kernels (lpt_cpu_<stem>, one per lpt_op_<stem>, same signature; arguments already
 * checked by lpt_ops.c).
 *
 * Threading: the pool's workers sleep on a condition variable between jobs (they never spin),
 * and OpenBLAS is called only from the thread that owns the backend, never from inside a
 * parallel_for, so our threads and BLAS's threads never run at the same time.
 */
#ifndef LPT_CPU_H
#define LPT_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "../lpt_backend_impl.h"

/* Work on items [begin, end) of a parallel loop. */
typedef void (*LptCpuTask)(void *ctx, size_t begin, size_t end);

/* Runs task over [0, n) in chunks of at least `grain` items on the pool (and the calling
 * thread); returns when all chunks are done. Small loops run inline. */
void lpt_cpu_parallel_for(LptBackend *be, size_t n, size_t grain, LptCpuTask task, void *ctx);

/* Worker count of the backend (>= 1). */
int lpt_cpu_threads(const LptBackend *be);

static inline void *lpt_cpu_ptr(const LptTensor *t)
{
    return t ? (char *)t->arena->host + t->offset : NULL;
}
static inline float *lpt_cpu_f32(const LptTensor *t)
{
    return (float *)lpt_cpu_ptr(t);
}
static inline int32_t *lpt_cpu_i32(const LptTensor *t)
{
    return (int32_t *)lpt_cpu_ptr(t);
}
static inline uint8_t *lpt_cpu_u8(const LptTensor *t)
{
    return (uint8_t *)lpt_cpu_ptr(t);
}

/* The kernels: each has exactly the signature of its lpt_op_ counterpart. */
#define LPT_CPU_DECLARE(stem) __typeof__(lpt_op_##stem) lpt_cpu_##stem;
LPT_CPU_DECLARE(gemm_forward)
LPT_CPU_DECLARE(bias_backward)
LPT_CPU_DECLARE(layernorm_forward)
LPT_CPU_DECLARE(layernorm_backward)
LPT_CPU_DECLARE(l2norm_forward)
LPT_CPU_DECLARE(l2norm_backward)
LPT_CPU_DECLARE(gelu_forward)
LPT_CPU_DECLARE(gelu_backward)
LPT_CPU_DECLARE(quick_gelu_forward)
LPT_CPU_DECLARE(quick_gelu_backward)
LPT_CPU_DECLARE(relu_forward)
LPT_CPU_DECLARE(relu_backward)
LPT_CPU_DECLARE(add_forward)
LPT_CPU_DECLARE(softmax_forward)
LPT_CPU_DECLARE(softmax_backward)
LPT_CPU_DECLARE(attention_forward)
LPT_CPU_DECLARE(attention_backward)
LPT_CPU_DECLARE(cosine_forward)
LPT_CPU_DECLARE(cosine_backward)
LPT_CPU_DECLARE(agcl_forward)
LPT_CPU_DECLARE(agcl_backward)
LPT_CPU_DECLARE(sgd_update)
LPT_CPU_DECLARE(adamw_update)
LPT_CPU_DECLARE(gather_mean_forward)
LPT_CPU_DECLARE(gather_mean_backward)
LPT_CPU_DECLARE(topk_forward)
LPT_CPU_DECLARE(image_transform_forward)
LPT_CPU_DECLARE(patchify_forward)
LPT_CPU_DECLARE(embed_forward)
LPT_CPU_DECLARE(scaled_add_forward)
LPT_CPU_DECLARE(scaled_add_backward)
LPT_CPU_DECLARE(onehot_forward)
LPT_CPU_DECLARE(dropout_forward)
#undef LPT_CPU_DECLARE

#endif

/* lpt_vk_select.c: prompt-pool gather/mean (forward, backward) and per-row top-k on Vulkan.
 * gather_mean_forward: one invocation per output value (x: values, y: rows, both strided).
 * gather_mean_backward: one invocation per pool value, each walking the whole index list
 * (staged through shared memory), so no atomics; out-of-range indices are skipped.
 * topk_forward: one workgroup per row with a winner tree in shared memory (see the shader). */
#include "lpt_vk.h"

#include "gather_mean_backward.spv.h"
#include "gather_mean_forward.spv.h"
#include "topk_forward.spv.h"

/* Matches `Push` in shaders/gather_mean_forward.comp and gather_mean_backward.comp. */
typedef struct GatherPush {
    uint32_t batch, k, pool_size, entry_size;
    float inv_k;
} GatherPush;
_Static_assert(sizeof(GatherPush) == 20, "push constants must match gather_mean_*.comp");

/* Matches `Push` in shaders/topk_forward.comp. */
typedef struct TopkPush {
    uint32_t rows, n, k;
} TopkPush;
_Static_assert(sizeof(TopkPush) == 12, "push constants must match topk_forward.comp");

#define GATHER_LOCAL 256
#define TOPK_SMALL 32     /* rows up to TOPK_SMALL_MAX_N: pool keys, class scores */
#define TOPK_LARGE 128    /* longer rows: at most n / 128 elements per invocation */
#define TOPK_SMALL_MAX_N 256
#define MAX_GROUPS 65535u

static const LptVkKernel gather_mean_forward_kernel = {
    "gather_mean_forward", gather_mean_forward_spv, sizeof gather_mean_forward_spv, 3,
    sizeof(GatherPush), {GATHER_LOCAL, 1, 1}, 0, {0}};
static const LptVkKernel gather_mean_backward_kernel = {
    "gather_mean_backward", gather_mean_backward_spv, sizeof gather_mean_backward_spv, 3,
    sizeof(GatherPush), {GATHER_LOCAL, 1, 1}, 0, {0}};
static const LptVkKernel topk_small_kernel = {
    "topk_forward", topk_forward_spv, sizeof topk_forward_spv, 3, sizeof(TopkPush),
    {TOPK_SMALL, 1, 1}, 0, {0}};
static const LptVkKernel topk_large_kernel = {
    "topk_forward", topk_forward_spv, sizeof topk_forward_spv, 3, sizeof(TopkPush),
    {TOPK_LARGE, 1, 1}, 0, {0}};

static uint32_t capped(uint64_t groups)
{
    return groups > MAX_GROUPS ? MAX_GROUPS : (uint32_t)groups;
}

LptStatus lpt_vk_gather_mean_forward(LptBackend *be, const LptTensor *out,
                                     const LptTensor *pool, const LptTensor *indices,
                                     int batch, int k, int pool_size, int entry_size,
                                     LptError *err)
{
    const LptTensor *bufs[] = {out, pool, indices};
    GatherPush push = {(uint32_t)batch, (uint32_t)k, (uint32_t)pool_size, (uint32_t)entry_size,
                       1.0f / (float)k};
    return lpt_vk_dispatch(be, &gather_mean_forward_kernel, bufs, 3, &push, sizeof push,
                           capped(lpt_vk_groups((uint64_t)entry_size, GATHER_LOCAL)),
                           capped((uint64_t)batch), 1, err);
}

LptStatus lpt_vk_gather_mean_backward(LptBackend *be, const LptTensor *dpool,
                                      const LptTensor *dout, const LptTensor *indices,
                                      int batch, int k, int pool_size, int entry_size,
                                      LptError *err)
{
    const LptTensor *bufs[] = {dpool, dout, indices};
    GatherPush push = {(uint32_t)batch, (uint32_t)k, (uint32_t)pool_size, (uint32_t)entry_size,
                       1.0f / (float)k};
    return lpt_vk_dispatch(be, &gather_mean_backward_kernel, bufs, 3, &push, sizeof push,
                           capped(lpt_vk_groups((uint64_t)entry_size, GATHER_LOCAL)),
                           capped((uint64_t)pool_size), 1, err);
}

LptStatus lpt_vk_topk_forward(LptBackend *be, const LptTensor *values, const LptTensor *indices,
                              const LptTensor *in, int rows, int n, int k, LptError *err)
{
    const LptTensor *bufs[] = {values, indices, in};
    TopkPush push = {(uint32_t)rows, (uint32_t)n, (uint32_t)k};
    const LptVkKernel *kernel = n <= TOPK_SMALL_MAX_N ? &topk_small_kernel : &topk_large_kernel;
    return lpt_vk_dispatch(be, kernel, bufs, 3, &push, sizeof push, capped((uint64_t)rows), 1,
                           1, err);
}

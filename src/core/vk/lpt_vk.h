/* lpt_vk.h: the Vulkan backend's private interface: kernel records, the dispatcher, device
 * limits, and the op kernels (lpt_vk_<stem>, one per lpt_op_<stem>, same signature;
 * arguments already checked by lpt_ops.c).
 *
 * A kernel record names one compute shader (SPIR-V embedded from shaders/<name>.comp), the
 * number of storage buffers it binds (set 0, bindings 0..n-1, in the order given to
 * lpt_vk_dispatch), its push-constant size, and its workgroup size, which reaches the shader
 * as specialization constants 0, 1, 2 (`layout(local_size_x_id = 0, ...) in;`); further
 * specialization constants (ids 3, 4, ...) come from `spec`. The dispatcher checks every call
 * against the record, as ggml's Vulkan backend does. Pipelines are created on first use and
 * kept in an on-disk VkPipelineCache.
 */
#ifndef LPT_VK_H
#define LPT_VK_H

#include <stddef.h>
#include <stdint.h>

#include "../lpt_backend_impl.h"

#define LPT_VK_MAX_BINDINGS 12
#define LPT_VK_MAX_SPEC 8

typedef struct LptVkKernel {
    const char *name;         /* shader stem, for messages and profiles */
    const uint32_t *spirv;    /* <stem>_spv from the generated header */
    size_t spirv_bytes;       /* sizeof <stem>_spv */
    uint32_t n_buffers;       /* storage buffers bound, in order */
    uint32_t push_bytes;      /* push-constant block size (multiple of 4, <= 128) */
    uint32_t local_size[3];   /* workgroup size: specialization constants 0, 1, 2 */
    uint32_t n_spec;          /* further specialization constants: ids 3 .. 3 + n_spec - 1 */
    uint32_t spec[LPT_VK_MAX_SPEC];
} LptVkKernel;

/* Records one dispatch of kernel k over groups (gx, gy, gz), binding buffers[i] (a NULL entry
 * binds a small dummy buffer; the shader must not touch it) and the push constants. Each
 * buffer is bound from its tensor's offset to the end of its arena, so a kernel that writes
 * past an output lands on the guard words the tests place there. A barrier orders every
 * dispatch after all earlier shader and transfer writes. */
LptStatus lpt_vk_dispatch(LptBackend *be, const LptVkKernel *k, const LptTensor *const *buffers,
                          uint32_t n_buffers, const void *push, uint32_t push_bytes,
                          uint32_t gx, uint32_t gy, uint32_t gz, LptError *err);

/* A copy of t bound from the LPT_ARENA_ALIGN (256-byte) boundary at or below its offset, so
 * that a view starting anywhere makes a valid binding (offsets must be multiples of
 * minStorageBufferOffsetAlignment, at most 256 bytes). Returns the element index of t's first
 * element within the binding, which the kernel adds to its indices (a push constant). Kernels
 * that may be handed views at arbitrary offsets bind through this; lpt_vk_dispatch refuses a
 * binding whose offset the device does not allow. */
LptTensor lpt_vk_aligned_view(const LptTensor *t, uint32_t *first);

/* Device facts kernels choose variants by. */
typedef struct LptVkLimits {
    uint32_t subgroup_size;
    uint32_t max_shared_memory;        /* maxComputeSharedMemorySize */
    uint32_t max_invocations;          /* maxComputeWorkGroupInvocations */
    uint32_t max_group_count[3];
    uint64_t max_storage_range;        /* maxStorageBufferRange */
    uint64_t min_storage_offset_align; /* minStorageBufferOffsetAlignment */
    int subgroup_arithmetic;           /* VK_SUBGROUP_FEATURE_ARITHMETIC_BIT in compute */
    double timestamp_period_ns;
} LptVkLimits;
const LptVkLimits *lpt_vk_limits(const LptBackend *be);

/* Groups of `size` needed to cover n items (ceil). */
static inline uint32_t lpt_vk_groups(uint64_t n, uint32_t size)
{
    return (uint32_t)((n + size - 1) / size);
}

#define LPT_VK_DECLARE(stem) __typeof__(lpt_op_##stem) lpt_vk_##stem;
LPT_VK_DECLARE(gemm_forward)
LPT_VK_DECLARE(bias_backward)
LPT_VK_DECLARE(layernorm_forward)
LPT_VK_DECLARE(layernorm_backward)
LPT_VK_DECLARE(l2norm_forward)
LPT_VK_DECLARE(l2norm_backward)
LPT_VK_DECLARE(gelu_forward)
LPT_VK_DECLARE(gelu_backward)
LPT_VK_DECLARE(quick_gelu_forward)
LPT_VK_DECLARE(quick_gelu_backward)
LPT_VK_DECLARE(relu_forward)
LPT_VK_DECLARE(relu_backward)
LPT_VK_DECLARE(add_forward)
LPT_VK_DECLARE(softmax_forward)
LPT_VK_DECLARE(softmax_backward)
LPT_VK_DECLARE(attention_forward)
LPT_VK_DECLARE(attention_backward)
LPT_VK_DECLARE(cosine_forward)
LPT_VK_DECLARE(cosine_backward)
LPT_VK_DECLARE(agcl_forward)
LPT_VK_DECLARE(agcl_backward)
LPT_VK_DECLARE(sgd_update)
LPT_VK_DECLARE(adamw_update)
LPT_VK_DECLARE(gather_mean_forward)
LPT_VK_DECLARE(gather_mean_backward)
LPT_VK_DECLARE(topk_forward)
LPT_VK_DECLARE(image_transform_forward)
LPT_VK_DECLARE(patchify_forward)
LPT_VK_DECLARE(embed_forward)
LPT_VK_DECLARE(scaled_add_forward)
LPT_VK_DECLARE(scaled_add_backward)
LPT_VK_DECLARE(onehot_forward)
LPT_VK_DECLARE(dropout_forward)
#undef LPT_VK_DECLARE

#endif

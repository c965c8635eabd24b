/* lpt_vk_model.c: the model-assembly ops on Vulkan: patch rows (im2col for the patch
 * embedding), the token embedding, the adapter's scaled add (forward, backward) and the
 * one-hot matrix of selected indices.
 *
 * patchify, embed, scaled_add_forward and onehot are one invocation per output value,
 * grid-strided. scaled_add_backward runs three dispatches of one shader (see
 * shaders/scaled_add_backward.comp): partial sums of dout * b per chunk parked in db, their
 * total added to ds by one workgroup, then db = s * dout; deterministic, no atomics.
 * Every tensor is bound through lpt_vk_aligned_view, so views at any element offset work.
 */
#include "lpt_vk.h"

#include "embed_forward.spv.h"
#include "onehot_forward.spv.h"
#include "patchify_forward.spv.h"
#include "scaled_add_backward.spv.h"
#include "scaled_add_forward.spv.h"

/* Matches `Push` in shaders/patchify_forward.comp. */
typedef struct PatchifyPush {
    uint32_t total, channels, height, width, patch;
    uint32_t off_out, off_images;
} PatchifyPush;
_Static_assert(sizeof(PatchifyPush) == 28, "push constants must match patchify_forward.comp");

/* Matches `Push` in shaders/embed_forward.comp. */
typedef struct EmbedPush {
    uint32_t total, tokens, c, has_cls;
    uint32_t off_x, off_cls, off_pos;
} EmbedPush;
_Static_assert(sizeof(EmbedPush) == 28, "push constants must match embed_forward.comp");

/* Matches `Push` in shaders/scaled_add_forward.comp. */
typedef struct ScaledAddPush {
    uint32_t n;
    uint32_t off_out, off_a, off_b, off_s;
} ScaledAddPush;
_Static_assert(sizeof(ScaledAddPush) == 20, "push constants must match scaled_add_forward.comp");

/* Matches `Push` in shaders/scaled_add_backward.comp. */
typedef struct ScaledAddBwdPush {
    uint32_t n, stage, groups, chunk;
    uint32_t off_db, off_ds, off_dout, off_b, off_s;
} ScaledAddBwdPush;
_Static_assert(sizeof(ScaledAddBwdPush) == 36,
               "push constants must match scaled_add_backward.comp");

/* Matches `Push` in shaders/onehot_forward.comp. */
typedef struct OnehotPush {
    uint32_t total, n, k;
    float value;
    uint32_t off_out, off_indices;
} OnehotPush;
_Static_assert(sizeof(OnehotPush) == 24, "push constants must match onehot_forward.comp");

#define LOCAL 256          /* a power of two (the reduction tree of scaled_add_backward) */
#define MAX_GROUPS 65535u
#define SUM_GROUPS 256u    /* partial sums of scaled_add_backward, at most */
#define SUM_MIN_CHUNK 4096u

#define KERNEL(stem, buffers, push)                                                            \
    static const LptVkKernel stem##_kernel = {#stem, stem##_spv, sizeof stem##_spv, buffers,   \
                                              sizeof(push), {LOCAL, 1, 1}, 0, {0}};
KERNEL(patchify_forward, 2, PatchifyPush)
KERNEL(embed_forward, 3, EmbedPush)
KERNEL(scaled_add_forward, 4, ScaledAddPush)
KERNEL(scaled_add_backward, 5, ScaledAddBwdPush)
KERNEL(onehot_forward, 2, OnehotPush)

/* Workgroups for one invocation per value over n values, capped (the loops grid-stride). */
static uint32_t value_groups(uint64_t n)
{
    uint64_t g = lpt_vk_groups(n, LOCAL);
    return g > MAX_GROUPS ? MAX_GROUPS : (uint32_t)g;
}

LptStatus lpt_vk_patchify_forward(LptBackend *be, const LptTensor *out, const LptTensor *images,
                                  int batch, int channels, int height, int width, int patch,
                                  LptError *err)
{
    PatchifyPush push = {(uint32_t)((size_t)batch * channels * height * width),
                         (uint32_t)channels, (uint32_t)height, (uint32_t)width,
                         (uint32_t)patch, 0, 0};
    LptTensor vo = lpt_vk_aligned_view(out, &push.off_out);
    LptTensor vi = lpt_vk_aligned_view(images, &push.off_images);
    const LptTensor *bufs[] = {&vo, &vi};
    return lpt_vk_dispatch(be, &patchify_forward_kernel, bufs, 2, &push, sizeof push,
                           value_groups(push.total), 1, 1, err);
}

LptStatus lpt_vk_embed_forward(LptBackend *be, const LptTensor *x, const LptTensor *cls,
                               const LptTensor *pos, int batch, int tokens, int c,
                               LptError *err)
{
    EmbedPush push = {(uint32_t)((size_t)batch * tokens * c), (uint32_t)tokens, (uint32_t)c,
                      cls != NULL, 0, 0, 0};
    LptTensor vx = lpt_vk_aligned_view(x, &push.off_x);
    LptTensor vp = lpt_vk_aligned_view(pos, &push.off_pos);
    LptTensor vc = {0};
    if (cls)
        vc = lpt_vk_aligned_view(cls, &push.off_cls);
    const LptTensor *bufs[] = {&vx, cls ? &vc : NULL, &vp};
    return lpt_vk_dispatch(be, &embed_forward_kernel, bufs, 3, &push, sizeof push,
                           value_groups(push.total), 1, 1, err);
}

LptStatus lpt_vk_scaled_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                                    const LptTensor *b, const LptTensor *s, size_t n,
                                    LptError *err)
{
    ScaledAddPush push = {(uint32_t)n, 0, 0, 0, 0};
    LptTensor vo = lpt_vk_aligned_view(out, &push.off_out);
    LptTensor va = lpt_vk_aligned_view(a, &push.off_a);
    LptTensor vb = lpt_vk_aligned_view(b, &push.off_b);
    LptTensor vs = lpt_vk_aligned_view(s, &push.off_s);
    const LptTensor *bufs[] = {&vo, &va, &vb, &vs};
    return lpt_vk_dispatch(be, &scaled_add_forward_kernel, bufs, 4, &push, sizeof push,
                           value_groups(n), 1, 1, err);
}

LptStatus lpt_vk_scaled_add_backward(LptBackend *be, const LptTensor *db, const LptTensor *ds,
                                     const LptTensor *dout, const LptTensor *b,
                                     const LptTensor *s, size_t n, LptError *err)
{
    /* at most SUM_GROUPS chunks of at least SUM_MIN_CHUNK values: groups <= n always */
    uint32_t chunk = (uint32_t)((n + SUM_GROUPS - 1) / SUM_GROUPS);
    if (chunk < SUM_MIN_CHUNK)
        chunk = SUM_MIN_CHUNK;
    ScaledAddBwdPush push = {(uint32_t)n, 0, (uint32_t)((n + chunk - 1) / chunk), chunk,
                             0, 0, 0, 0, 0};
    LptTensor vdb = lpt_vk_aligned_view(db, &push.off_db);
    LptTensor vdo = lpt_vk_aligned_view(dout, &push.off_dout);
    LptTensor vb = lpt_vk_aligned_view(b, &push.off_b);
    LptTensor vs = lpt_vk_aligned_view(s, &push.off_s);
    LptTensor vds = {0};
    if (ds)
        vds = lpt_vk_aligned_view(ds, &push.off_ds);
    const LptTensor *bufs[] = {&vdb, ds ? &vds : NULL, &vdo, &vb, &vs};
    LptStatus st = LPT_OK;
    if (ds) {
        st = lpt_vk_dispatch(be, &scaled_add_backward_kernel, bufs, 5, &push, sizeof push,
                             push.groups, 1, 1, err);
        push.stage = 1;
        if (st == LPT_OK)
            st = lpt_vk_dispatch(be, &scaled_add_backward_kernel, bufs, 5, &push, sizeof push,
                                 1, 1, 1, err);
    }
    push.stage = 2;
    if (st == LPT_OK)
        st = lpt_vk_dispatch(be, &scaled_add_backward_kernel, bufs, 5, &push, sizeof push,
                             value_groups(n), 1, 1, err);
    return st;
}

LptStatus lpt_vk_onehot_forward(LptBackend *be, const LptTensor *out, const LptTensor *indices,
                                int rows, int n, int k, float value, LptError *err)
{
    OnehotPush push = {(uint32_t)((size_t)rows * n), (uint32_t)n, (uint32_t)k, value, 0, 0};
    LptTensor vo = lpt_vk_aligned_view(out, &push.off_out);
    LptTensor vi = lpt_vk_aligned_view(indices, &push.off_indices);
    const LptTensor *bufs[] = {&vo, &vi};
    return lpt_vk_dispatch(be, &onehot_forward_kernel, bufs, 2, &push, sizeof push,
                           value_groups(push.total), 1, 1, err);
}

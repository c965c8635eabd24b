/* lpt_vk_image.c: image_transform_forward on Vulkan: crop + resize + flip + gray->RGB +
 * normalise of u8 HWC images into float NCHW (shaders/image_transform_forward.comp; the
 * sampling contract is spelled out in cpu/lpt_cpu_image.c). One invocation per output pixel,
 * 16 x 16 pixels per workgroup, images along z; bilinear and bicubic are two
 * specializations of the same shader. Every tensor is bound from an arena-aligned offset
 * with its start passed as a shift, so views that begin anywhere (one image of a batch)
 * are valid bindings. */
#include "lpt_vk.h"

#include "image_transform_forward.spv.h"

/* Matches `Push` in shaders/image_transform_forward.comp. */
typedef struct ImagePush {
    uint32_t batch, src_h, src_w, src_c;
    uint32_t out_h, out_w, src_shift, boxes_shift;
    uint32_t out_shift, pad[3];
    float norm_a[3], norm_b[3];
} ImagePush;
_Static_assert(sizeof(ImagePush) == 72, "push constants must match image_transform_forward.comp");

#define TILE 16

/* The two specializations of the shader: constant 3 = BICUBIC. */
#define IMAGE_KERNEL(bicubic)                                                                  \
    {"image_transform_forward", image_transform_forward_spv,                                 \
     sizeof image_transform_forward_spv, 3, sizeof(ImagePush), {TILE, TILE, 1}, 1, {bicubic}}
static const LptVkKernel bilinear_kernel = IMAGE_KERNEL(0);
static const LptVkKernel bicubic_kernel = IMAGE_KERNEL(1);

static uint32_t at_most(uint32_t groups, uint32_t limit)
{
    return groups < limit ? groups : limit;
}

LptStatus lpt_vk_image_transform_forward(LptBackend *be, const LptTensor *out, const LptTensor *src,
                                         const LptTensor *boxes, const LptImageShape *s,
                                         LptError *err)
{
    ImagePush push = {.batch = (uint32_t)s->batch,
                      .src_h = (uint32_t)s->src_h,
                      .src_w = (uint32_t)s->src_w,
                      .src_c = (uint32_t)s->src_channels,
                      .out_h = (uint32_t)s->out_h,
                      .out_w = (uint32_t)s->out_w};
    for (int c = 0; c < 3; c++) {
        push.norm_a[c] = (float)(1.0 / (255.0 * (double)s->std[c]));
        push.norm_b[c] = (float)(-(double)s->mean[c] / (double)s->std[c]);
    }
    LptTensor out_b = lpt_vk_aligned_view(out, &push.out_shift);
    LptTensor src_b = lpt_vk_aligned_view(src, &push.src_shift);
    LptTensor boxes_b = lpt_vk_aligned_view(boxes, &push.boxes_shift);
    const LptVkLimits *lim = lpt_vk_limits(be);
    const LptTensor *bufs[] = {&out_b, &src_b, &boxes_b};
    const LptVkKernel *k = s->interp == LPT_INTERP_BICUBIC ? &bicubic_kernel : &bilinear_kernel;
    uint32_t gx = at_most(lpt_vk_groups((uint64_t)s->out_w, TILE), lim->max_group_count[0]);
    uint32_t gy = at_most(lpt_vk_groups((uint64_t)s->out_h, TILE), lim->max_group_count[1]);
    uint32_t gz = at_most((uint32_t)s->batch, lim->max_group_count[2]);
    return lpt_vk_dispatch(be, k, bufs, 3, &push, sizeof push, gx, gy, gz, err);
}

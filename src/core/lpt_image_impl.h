/* lpt_image_impl.h: what each image format decoder provides, and the helpers they share
 * (private to src/core; lpt_image.h is the public API).
 *
 * A decoder reads `size` bytes at `data` (borrowed) whose magic bytes lpt_image.c has already
 * matched. With header_only it fills out->width/height/channels (displayed size) and leaves
 * out->pixels NULL; otherwise it also allocates and fills out->pixels. On failure it frees
 * what it allocated, leaves *out zeroed and sets err to a message that starts with `name`.
 * Decoders check the image size with lpt_image_check_size before allocating pixel memory.
 */
#ifndef LPT_IMAGE_IMPL_H
#define LPT_IMAGE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_image.h"

LptStatus lpt_image_png_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err);
LptStatus lpt_image_jpeg_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                              LptImage *out, LptError *err);
LptStatus lpt_image_bmp_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err);
LptStatus lpt_image_pnm_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err);

/* Fails (LPT_ERR_FORMAT for a zero or negative side, LPT_ERR_UNSUPPORTED beyond the limits
 * of lpt_image.h) unless width x height is a size this library decodes. */
LptStatus lpt_image_check_size(const char *name, int64_t width, int64_t height, LptError *err);

/* Sets out's size and channels and allocates its pixels (checked size; channels 1 or 3). */
LptStatus lpt_image_alloc(LptImage *out, const char *name, int width, int height, int channels,
                          LptError *err);

/* v (0..maxval, maxval >= 1) scaled to 0..255, rounded to nearest. */
static inline uint8_t lpt_image_scale(uint32_t v, uint32_t maxval)
{
    if (maxval == 255)
        return (uint8_t)v;
    return (uint8_t)(((uint64_t)v * 255 + maxval / 2) / maxval);
}

/* Sample c with alpha a (both 0..maxval) composited on white, scaled to 0..255 and rounded
 * to nearest in one step: round(255 (c a + maxval (maxval - a)) / maxval^2). */
static inline uint8_t lpt_image_over_white(uint32_t c, uint32_t a, uint32_t maxval)
{
    if (maxval == 255)
        return (uint8_t)((c * a + 255u * (255u - a) + 127u) / 255u);
    uint64_t m = maxval;
    uint64_t den = m * m;
    return (uint8_t)((((uint64_t)c * a + m * (m - a)) * 255 + den / 2) / den);
}

#endif

/* lpt_image.h: decoding image files (PNG, JPEG, BMP, PGM/PPM) into 8-bit pixels.
 *
 * What a decode gives: row-major HWC 8-bit samples, 1 channel (gray) or 3 (RGB), whatever
 * the file stored: 16-bit samples and any PNM maxval are scaled to 0..255 with rounding;
 * alpha (PNG alpha channel or tRNS, BMP alpha bitfield) is composited on white; a palette
 * whose entries are all gray gives 1 channel, any other palette 3; JPEG EXIF orientation
 * (1-8) is applied, so width and height are those of the image as it is meant to be seen.
 * The format is recognised by its magic bytes, never by the file name.
 *
 * Limits: images wider or taller than LPT_IMAGE_MAX_SIDE or with more than
 * LPT_IMAGE_MAX_PIXELS pixels are refused before any pixel memory is allocated (a small file
 * may declare a huge image), and so are files larger than LPT_IMAGE_MAX_FILE_BYTES.
 *
 * Errors: every failure is a status with a message that starts with the file's name and says
 * what is wrong ("x.png: truncated after row 17 of 32"); a corrupt or hostile file never
 * aborts or exits the process.
 *
 * Ownership and threads: an LptImage owns its pixels (malloc'ed) until lpt_image_release.
 * No global state: any thread may call any function here, concurrently on different images.
 */
#ifndef LPT_IMAGE_H
#define LPT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

#define LPT_IMAGE_MAX_SIDE 65535                    /* pixels, width and height each */
#define LPT_IMAGE_MAX_PIXELS ((int64_t)1 << 28)     /* width * height */
#define LPT_IMAGE_MAX_FILE_BYTES ((int64_t)1 << 31) /* size of a file decode reads */

typedef enum LptImageFormat {
    LPT_IMAGE_FORMAT_UNKNOWN = 0,
    LPT_IMAGE_FORMAT_PNG = 1,
    LPT_IMAGE_FORMAT_JPEG = 2,
    LPT_IMAGE_FORMAT_BMP = 3,
    LPT_IMAGE_FORMAT_PNM = 4, /* PGM or PPM, binary (P5/P6) or ascii (P2/P3) */
} LptImageFormat;

typedef struct LptImage {
    int width, height; /* as displayed (after EXIF orientation) */
    int channels;      /* 1 (gray) or 3 (RGB) */
    uint8_t *pixels;   /* [height, width, channels], owned */
} LptImage;

/* The format that the first bytes of a file announce (8 bytes are enough), or UNKNOWN. */
LptImageFormat lpt_image_sniff(const void *data, size_t size);

/* A stable name for a format ("PNG", "JPEG", "BMP", "PNM", "unknown"). */
const char *lpt_image_format_name(LptImageFormat format);

/* Decodes the file at `path` into *out. On failure *out is all zeros and err names `path`. */
LptStatus lpt_image_decode_file(const char *path, LptImage *out, LptError *err);

/* Decodes `size` bytes at `data` (borrowed, only read) into *out; `name` (may be NULL) is
 * what error messages call the data. On failure *out is all zeros. */
LptStatus lpt_image_decode_memory(const void *data, size_t size, const char *name, LptImage *out,
                                  LptError *err);

/* Reads only what is needed to learn the displayed size, the channels a decode would give
 * and the format (the headers; the pixel data is not read or checked). Any of the outputs
 * may be NULL. Fails, with a message, where a decode would fail on the headers. */
LptStatus lpt_image_probe_file(const char *path, int *width, int *height, int *channels,
                               LptImageFormat *format, LptError *err);

/* As lpt_image_probe_file on bytes in memory. */
LptStatus lpt_image_probe_memory(const void *data, size_t size, const char *name, int *width,
                                 int *height, int *channels, LptImageFormat *format, LptError *err);

/* Frees img->pixels and zeros *img. NULL, and an image already released, are no-ops. */
void lpt_image_release(LptImage *img);

#endif

/* lpt_image_png.c: PNG decoding with libpng (every PNG colour type and bit depth,
 * interlaced or not) into the 8-bit gray or RGB pixels of lpt_image.h.
 *
 * libpng expands palettes, tRNS and gray depths below 8 to 8-bit samples and keeps 16-bit
 * samples; the conversion here then scales 16-bit samples and composites alpha on white in
 * one rounding step (lpt_image_over_white). A palette of gray entries only gives 1 channel.
 *
 * Reading: libpng's progressive reader is given the whole file at once; rows arrive through
 * png_row_callback (interlaced ones are combined into a full raw image first). When the
 * data ends before the last row, png_process_data just returns, and the message says how
 * many rows (or which interlace pass) were complete. The IEND chunk is not required.
 *
 * Errors: libpng reports through png_error_fn, which longjmps back to the one setjmp in
 * png_run, as do the callbacks on a failure of their own (png_stop); all state lives in the
 * PngReader that lpt_image_png_read owns (none in automatic variables of png_run, which
 * setjmp would leave indeterminate) and frees on one path. Warnings (e.g. a bad CRC in an
 * ancillary chunk, which libpng then skips) are ignored.
 */
#include "lpt_image_impl.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct PngReader {
    const char *name;
    LptError *err;
    LptStatus status; /* a failure found in a callback (err already filled in) */
    bool header_only;
    png_structp png;
    png_infop info;
    jmp_buf jmp;
    bool have_header; /* info_callback ran */
    bool interlaced;
    int pass, row; /* the last row callback's pass and image row; row -1 before any */
    char lib_message[160];
    uint8_t *raw;      /* interlaced: all rows as libpng builds them up pass by pass */
    size_t raw_stride; /* bytes per raw row */
    int raw_channels;  /* 1..4 samples per pixel after libpng's expansions */
    bool raw16;        /* samples are 16-bit big-endian */
    LptImage img;
} PngReader;

static void png_error_fn(png_structp png, png_const_charp msg)
{
    PngReader *r = png_get_error_ptr(png);
    snprintf(r->lib_message, sizeof r->lib_message, "%s", msg);
    longjmp(r->jmp, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* True when every palette entry is gray (r == g == b). */
static bool png_palette_is_gray(PngReader *r)
{
    png_colorp palette = NULL;
    int count = 0;
    if (!png_get_PLTE(r->png, r->info, &palette, &count))
        return false;
    for (int i = 0; i < count; i++)
        if (palette[i].red != palette[i].green || palette[i].red != palette[i].blue)
            return false;
    return true;
}

/* One raw row (raw_channels samples of 8 or 16 bits per pixel) to one output row. */
static void png_convert_row(const PngReader *r, const uint8_t *src, uint8_t *dst)
{
    int in = r->raw_channels, out = r->img.channels, w = r->img.width;
    bool alpha = in == 2 || in == 4;
    if (!r->raw16 && !alpha && in == out) {
        memcpy(dst, src, (size_t)w * (size_t)out);
        return;
    }
    uint32_t maxval = r->raw16 ? 65535 : 255;
    for (int x = 0; x < w; x++) {
        uint32_t s[4];
        for (int c = 0; c < in; c++)
            s[c] = r->raw16 ? (uint32_t)src[2 * c] << 8 | src[2 * c + 1] : src[c];
        src += r->raw16 ? 2 * in : in;
        /* out == 1 with in >= 3 is a gray palette: R stands for all three */
        for (int c = 0; c < out; c++)
            dst[c] = alpha ? lpt_image_over_white(s[c], s[in - 1], maxval)
                           : lpt_image_scale(s[c], maxval);
        dst += out;
    }
}

/* Stops png_process_data at a failure already described in r->err. */
static void png_stop(PngReader *r, LptStatus status)
{
    r->status = status;
    longjmp(r->jmp, 1);
}

/* The header is in: check the size, choose the expansions, allocate. */
static void png_info_callback(png_structp png, png_infop info)
{
    PngReader *r = png_get_progressive_ptr(png);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    r->have_header = true;
    LptStatus st = lpt_image_check_size(r->name, w, h, r->err);
    if (st != LPT_OK)
        png_stop(r, st);
    int channels = 3;
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA ||
        (color_type == PNG_COLOR_TYPE_PALETTE && png_palette_is_gray(r)))
        channels = 1;
    if (r->header_only) {
        r->img.width = (int)w;
        r->img.height = (int)h;
        r->img.channels = channels;
        png_process_data_pause(png, 0); /* png_process_data returns; the rest is unread */
        return;
    }
    png_set_expand(png); /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
    r->interlaced = png_set_interlace_handling(png) > 1;
    png_read_update_info(png, info);
    r->raw_channels = png_get_channels(png, info);
    r->raw16 = png_get_bit_depth(png, info) == 16;
    r->raw_stride = png_get_rowbytes(png, info);
    st = lpt_image_alloc(&r->img, r->name, (int)w, (int)h, channels, r->err);
    if (st != LPT_OK)
        png_stop(r, st);
    if (r->interlaced) {
        r->raw = calloc(h, r->raw_stride);
        if (!r->raw)
            png_stop(r, lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %u rows",
                                      r->name, (unsigned)h));
    }
}

/* A row of a pass (interlaced: libpng calls this for every image row of every pass, `row`
 * NULL where the pass has nothing for it, and pass 6 always comes last). */
static void png_row_callback(png_structp png, png_bytep row, png_uint_32 y, int pass)
{
    PngReader *r = png_get_progressive_ptr(png);
    r->pass = pass;
    r->row = (int)y;
    if (!row)
        return;
    size_t out_stride = (size_t)r->img.width * (size_t)r->img.channels;
    if (r->interlaced)
        png_progressive_combine_row(png, r->raw + y * r->raw_stride, row);
    else
        png_convert_row(r, row, r->img.pixels + y * out_stride);
}

/* The message for a failure reported through png_error_fn. */
static LptStatus png_failure(const PngReader *r, LptError *err)
{
    int h = (int)png_get_image_height(r->png, r->info);
    if (!r->have_header)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad PNG header: %s", r->name,
                             r->lib_message);
    if (r->interlaced)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: corrupt PNG data in interlace pass %d of 7: %s", r->name,
                             r->pass + 1, r->lib_message);
    return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: corrupt PNG data after row %d of %d: %s",
                         r->name, r->row + 1, h, r->lib_message);
}

/* Feeds the whole file to libpng's progressive reader. Rows arrive through the callbacks;
 * when the data runs out first, png_process_data simply returns. */
static LptStatus png_run(PngReader *r, const uint8_t *data, size_t size, LptError *err)
{
    if (setjmp(r->jmp))
        return r->status != LPT_OK ? r->status : png_failure(r, err);
    png_set_progressive_read_fn(r->png, r, png_info_callback, png_row_callback, NULL);
    png_process_data(r->png, r->info, (png_bytep)data, size);
    if (!r->have_header)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the PNG header", r->name);
    if (r->header_only)
        return LPT_OK;
    int h = r->img.height;
    bool complete = r->row == h - 1 && r->pass == (r->interlaced ? 6 : 0);
    if (!complete && r->interlaced)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in interlace pass %d of 7",
                             r->name, r->row < 0 ? 1 : r->pass + 1);
    if (!complete)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %d of %d", r->name,
                             r->row + 1, h);
    if (r->interlaced) {
        size_t out_stride = (size_t)r->img.width * (size_t)r->img.channels;
        for (int y = 0; y < h; y++)
            png_convert_row(r, r->raw + (size_t)y * r->raw_stride,
                            r->img.pixels + (size_t)y * out_stride);
    }
    return LPT_OK;
}

LptStatus lpt_image_png_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err)
{
    PngReader *r = calloc(1, sizeof *r);
    LptStatus st = LPT_ERR_OUT_OF_MEMORY;
    memset(out, 0, sizeof *out);
    if (!r) {
        lpt_error_set(err, st, 0, "%s: no memory for a PNG reader", name);
        goto done;
    }
    r->name = name;
    r->err = err;
    r->header_only = header_only;
    r->row = -1;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, png_error_fn, png_warning_fn);
    if (r->png)
        r->info = png_create_info_struct(r->png);
    if (!r->info) {
        lpt_error_set(err, st, 0, "%s: no memory for libpng", name);
        goto done;
    }
    st = png_run(r, data, size, err);
done:
    if (r) {
        png_destroy_read_struct(&r->png, &r->info, NULL);
        free(r->raw);
        if (st == LPT_OK)
            *out = r->img;
        else
            free(r->img.pixels);
        free(r);
    }
    return st;
}

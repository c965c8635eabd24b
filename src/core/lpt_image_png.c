/* lpt_image_png.c: PNG decoding with libpng (every PNG colour type and bit depth,
 * interlaced or not) into the 8-bit gray or RGB pixels of lpt_image.h.
 *
 * libpng expands palettes, tRNS and gray depths below 8 to 8-bit samples and keeps 16-bit
 * samples; the conversion here then scales 16-bit samples and composites alpha on white in
 * one rounding step (lpt_image_over_white). A palette of gray entries only gives 1 channel.
 *
 * Errors: libpng reports through png_error_fn, which longjmps back to the one setjmp in
 * png_run; all state lives in the PngReader that lpt_image_png_read owns (none in automatic
 * variables of png_run, which setjmp would leave indeterminate), and lpt_image_png_read frees
 * it on one path. Running out of input is told apart from corrupt data so that the message
 * says which, and how many rows were complete. Warnings (e.g. a bad CRC in an ancillary
 * chunk, which libpng then skips) are ignored.
 */
#include "lpt_image_impl.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct PngReader {
    const char *name;
    const uint8_t *data; /* the file (borrowed) */
    size_t size, pos;    /* bytes in data, bytes libpng has consumed */
    png_structp png;
    png_infop info;
    jmp_buf jmp;
    bool truncated;      /* the failure was running out of input */
    bool in_rows;        /* the header is read; rows are being read */
    bool interlaced;
    int pass, row;       /* where row reading was when it failed */
    int passes;
    char lib_message[160];
    uint8_t *raw;        /* rows as libpng gives them: one row, or all when interlaced */
    size_t raw_stride;   /* bytes per raw row */
    int raw_channels;    /* 1..4 samples per pixel after libpng's expansions */
    bool raw16;          /* samples are 16-bit big-endian */
    LptImage img;
} PngReader;

static void png_read_fn(png_structp png, png_bytep dst, size_t n)
{
    PngReader *r = png_get_io_ptr(png);
    if (n > r->size - r->pos) {
        r->truncated = true;
        png_error(png, "truncated");
    }
    memcpy(dst, r->data + r->pos, n);
    r->pos += n;
}

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

/* The message for a failure reported through png_error_fn. */
static LptStatus png_failure(const PngReader *r, LptError *err)
{
    int h = (int)png_get_image_height(r->png, r->info);
    if (r->truncated && !r->in_rows)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the PNG header",
                             r->name);
    if (r->truncated && !r->interlaced)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %d of %d",
                             r->name, r->row, h);
    if (r->truncated)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: truncated in interlace pass %d of %d (row %d of %d)", r->name,
                             r->pass + 1, r->passes, r->row, h);
    if (!r->in_rows)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad PNG header: %s", r->name,
                             r->lib_message);
    return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: corrupt PNG data at row %d of %d: %s",
                         r->name, r->row, h, r->lib_message);
}

/* Reads the header, and unless header_only the rows, into r->img. */
static LptStatus png_run(PngReader *r, bool header_only, LptError *err)
{
    if (setjmp(r->jmp))
        return png_failure(r, err);
    png_set_user_limits(r->png, LPT_IMAGE_MAX_SIDE, LPT_IMAGE_MAX_SIDE);
    png_set_read_fn(r->png, r, png_read_fn);
    png_read_info(r->png, r->info);

    png_uint_32 w = png_get_image_width(r->png, r->info);
    png_uint_32 h = png_get_image_height(r->png, r->info);
    int color_type = png_get_color_type(r->png, r->info);
    LptStatus st = lpt_image_check_size(r->name, w, h, err);
    if (st != LPT_OK)
        return st;
    int channels = 3;
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA ||
        (color_type == PNG_COLOR_TYPE_PALETTE && png_palette_is_gray(r)))
        channels = 1;
    if (header_only) {
        r->img.width = (int)w;
        r->img.height = (int)h;
        r->img.channels = channels;
        return LPT_OK;
    }

    png_set_expand(r->png); /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
    r->passes = png_set_interlace_handling(r->png);
    r->interlaced = r->passes > 1;
    png_read_update_info(r->png, r->info);
    r->raw_channels = png_get_channels(r->png, r->info);
    r->raw16 = png_get_bit_depth(r->png, r->info) == 16;
    r->raw_stride = png_get_rowbytes(r->png, r->info);
    st = lpt_image_alloc(&r->img, r->name, (int)w, (int)h, channels, err);
    if (st != LPT_OK)
        return st;
    r->raw = malloc(r->interlaced ? r->raw_stride * h : r->raw_stride);
    if (!r->raw)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %u rows",
                             r->name, (unsigned)h);

    size_t out_stride = (size_t)w * (size_t)channels;
    r->in_rows = true;
    for (r->pass = 0; r->pass < r->passes; r->pass++) {
        for (r->row = 0; r->row < (int)h; r->row++) {
            png_read_row(r->png, r->raw + (r->interlaced ? (size_t)r->row * r->raw_stride : 0),
                         NULL);
            if (!r->interlaced)
                png_convert_row(r, r->raw, r->img.pixels + (size_t)r->row * out_stride);
        }
    }
    if (r->interlaced)
        for (png_uint_32 y = 0; y < h; y++)
            png_convert_row(r, r->raw + y * r->raw_stride, r->img.pixels + y * out_stride);
    return LPT_OK;
}

LptStatus lpt_image_png_read(const uint8_t *data, size_t size, const char *name,
                             bool header_only, LptImage *out, LptError *err)
{
    PngReader *r = calloc(1, sizeof *r);
    LptStatus st = LPT_ERR_OUT_OF_MEMORY;
    memset(out, 0, sizeof *out);
    if (!r) {
        lpt_error_set(err, st, 0, "%s: no memory for a PNG reader", name);
        goto done;
    }
    r->name = name;
    r->data = data;
    r->size = size;
    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, png_error_fn, png_warning_fn);
    if (r->png)
        r->info = png_create_info_struct(r->png);
    if (!r->info) {
        lpt_error_set(err, st, 0, "%s: no memory for libpng", name);
        goto done;
    }
    st = png_run(r, header_only, err);
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

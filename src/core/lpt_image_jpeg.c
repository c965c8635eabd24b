/* lpt_image_jpeg.c: JPEG decoding with libjpeg(-turbo) into the 8-bit gray or RGB pixels of
 * lpt_image.h: baseline and progressive, gray, YCbCr/RGB, CMYK and YCCK, with the EXIF
 * orientation (1-8, APP1 "Exif" IFD0 tag 0x0112) applied.
 *
 * CMYK: files with an Adobe APP14 marker (Photoshop and most others) store inverted inks
 * (255 = no ink), so R = C K / 255; files without it store plain inks, R = (255-C)(255-K)/255.
 * libjpeg turns YCCK into CMYK of the same convention first.
 *
 * Errors: libjpeg's error_exit, and the warnings that mean damaged image data (end of file,
 * a marker or a bad code inside entropy-coded data), longjmp back to the one setjmp in
 * jpeg_run; other warnings (extraneous bytes, unknown JFIF version) are ignored, as viewers
 * do. All state lives in the JpegReader that lpt_image_jpeg_read owns and frees on one path.
 * A progressive file with more than MAX_SCANS scans is refused (a CPU bomb otherwise).
 * jpeg_finish_decompress is not called: once every row is out, what follows (the EOI marker,
 * trailing bytes) does not matter.
 */
#include "lpt_image_impl.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* before jerror.h, whose message list depends on jconfig.h */
#include <jerror.h>

#define MAX_SCANS 500
#define EXIF_ORIENTATION_TAG 0x0112

typedef struct JpegReader {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    const char *name;
    bool header_read; /* jpeg_read_header returned */
    bool truncated;   /* the failure was running out of input */
    bool too_many_scans;
    char lib_message[JMSG_LENGTH_MAX];
    int orientation;   /* EXIF orientation, 1 when absent or unreadable */
    uint8_t *cmyk_row; /* one row of 4-component output */
    uint8_t *stored;   /* the image as stored, before orientation (NULL when it is 1) */
    LptImage img;      /* the result, displayed orientation */
} JpegReader;

static void jpeg_fail(j_common_ptr c)
{
    JpegReader *r = c->client_data;
    (*c->err->format_message)(c, r->lib_message);
    longjmp(r->jmp, 1);
}

static void jpeg_emit(j_common_ptr c, int level)
{
    JpegReader *r = c->client_data;
    if (level != -1)
        return; /* trace messages */
    switch (c->err->msg_code) {
    case JWRN_JPEG_EOF:
        r->truncated = true;
        jpeg_fail(c);
        break;
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
        jpeg_fail(c);
        break;
    default:
        break;
    }
}

static void jpeg_progress(j_common_ptr c)
{
    JpegReader *r = c->client_data;
    if (r->cinfo.input_scan_number > MAX_SCANS) {
        r->too_many_scans = true;
        longjmp(r->jmp, 1);
    }
}

static unsigned exif_u16(const uint8_t *p, bool le)
{
    return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1];
}

static uint32_t exif_u32(const uint8_t *p, bool le)
{
    return le ? (uint32_t)exif_u16(p, le) | (uint32_t)exif_u16(p + 2, le) << 16
              : (uint32_t)exif_u16(p, le) << 16 | exif_u16(p + 2, le);
}

/* The orientation tag of the first APP1 Exif segment's IFD0: 1..8, or 1 when there is none
 * or it cannot be read (a damaged EXIF block does not make the image unreadable). */
static int exif_orientation(jpeg_saved_marker_ptr m)
{
    for (; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 + 8 ||
            memcmp(m->data, "Exif\0\0", 6) != 0)
            continue;
        const uint8_t *t = m->data + 6; /* the TIFF header; offsets count from here */
        size_t n = m->data_length - 6;
        bool le = t[0] == 'I' && t[1] == 'I';
        if ((!le && !(t[0] == 'M' && t[1] == 'M')) || exif_u16(t + 2, le) != 42)
            return 1;
        uint32_t ifd = exif_u32(t + 4, le);
        if (ifd < 8 || ifd > n - 2)
            return 1;
        unsigned count = exif_u16(t + ifd, le);
        for (unsigned i = 0; i < count; i++) {
            size_t e = ifd + 2 + (size_t)12 * i;
            if (e + 12 > n)
                return 1;
            if (exif_u16(t + e, le) != EXIF_ORIENTATION_TAG)
                continue;
            unsigned type = exif_u16(t + e + 2, le), v = exif_u16(t + e + 8, le);
            /* type 3 = SHORT, count 1: the value sits in the first 2 bytes of the field */
            if (type != 3 || exif_u32(t + e + 4, le) != 1 || v < 1 || v > 8)
                return 1;
            return (int)v;
        }
        return 1;
    }
    return 1;
}

/* Copies the stored w x h image `src` into `dst` as EXIF orientation o (1..8) says it is
 * shown: output pixel (x, y) is stored pixel (X, Y) = (X0 + x dXdx + y dXdy, Y0 + x dYdx +
 * y dYdy), where X0 is 0 or w - 1 and Y0 is 0 or h - 1 as the table says. */
static void apply_orientation(const uint8_t *src, uint8_t *dst, int w, int h, int ch, int o)
{
    static const signed char map[9][6] = {
        /* X0 at right, Y0 at bottom, dXdx, dYdx, dXdy, dYdy */
        {0, 0, 1, 0, 0, 1},   /* (unused) */
        {0, 0, 1, 0, 0, 1},   /* 1: as stored */
        {1, 0, -1, 0, 0, 1},  /* 2: mirrored left-right */
        {1, 1, -1, 0, 0, -1}, /* 3: rotated 180 */
        {0, 1, 1, 0, 0, -1},  /* 4: mirrored top-bottom */
        {0, 0, 0, 1, 1, 0},   /* 5: transposed */
        {0, 1, 0, -1, 1, 0},  /* 6: rotated 90 clockwise */
        {1, 1, 0, -1, -1, 0}, /* 7: transversed */
        {1, 0, 0, 1, -1, 0},  /* 8: rotated 90 counter-clockwise */
    };
    const signed char *m = map[o];
    ptrdiff_t W = w, H = h;
    ptrdiff_t base = m[0] * (W - 1) + m[1] * (H - 1) * W;
    ptrdiff_t step_x = m[2] + m[3] * W, step_y = m[4] + m[5] * W;
    int out_w = o >= 5 ? h : w, out_h = o >= 5 ? w : h;
    for (int y = 0; y < out_h; y++) {
        for (int x = 0; x < out_w; x++) {
            const uint8_t *s = src + (base + x * step_x + y * step_y) * ch;
            for (int c = 0; c < ch; c++)
                *dst++ = s[c];
        }
    }
}

/* One row of CMYK (inverted when the file has an Adobe marker) to RGB. */
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, int w, bool inverted)
{
    for (int x = 0; x < w; x++, src += 4, dst += 3) {
        unsigned k = inverted ? src[3] : 255u - src[3];
        for (int c = 0; c < 3; c++) {
            unsigned v = inverted ? src[c] : 255u - src[c];
            dst[c] = (uint8_t)((v * k + 127) / 255);
        }
    }
}

/* Reads the header, and unless header_only the rows, into r->img. */
static LptStatus jpeg_run(JpegReader *r, const uint8_t *data, size_t size, bool header_only,
                          LptError *err)
{
    if (setjmp(r->jmp)) {
        if (r->too_many_scans)
            return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                 "%s: progressive JPEG with more than %d scans refused", r->name,
                                 MAX_SCANS);
        if (r->truncated && r->cinfo.output_scanline > 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %u of %u",
                                 r->name, r->cinfo.output_scanline, r->cinfo.output_height);
        if (r->truncated && r->header_read)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: truncated before the first row was complete", r->name);
        if (r->truncated)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the JPEG header",
                                 r->name);
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad JPEG data: %s", r->name,
                             r->lib_message);
    }
    r->cinfo.err = jpeg_std_error(&r->jerr);
    r->jerr.error_exit = jpeg_fail;
    r->jerr.emit_message = jpeg_emit;
    r->cinfo.client_data = r; /* kept by jpeg_create_decompress */
    jpeg_create_decompress(&r->cinfo);
    r->progress.progress_monitor = jpeg_progress;
    r->cinfo.progress = &r->progress;
    jpeg_mem_src(&r->cinfo, data, (unsigned long)size);
    jpeg_save_markers(&r->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&r->cinfo, TRUE);
    r->header_read = true;

    int w = (int)r->cinfo.image_width, h = (int)r->cinfo.image_height;
    LptStatus st = lpt_image_check_size(r->name, w, h, err);
    if (st != LPT_OK)
        return st;
    J_COLOR_SPACE cs = r->cinfo.jpeg_color_space;
    bool cmyk = cs == JCS_CMYK || cs == JCS_YCCK;
    if (cs != JCS_GRAYSCALE && cs != JCS_YCbCr && cs != JCS_RGB && !cmyk)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: JPEG colour space with %d components is not supported", r->name,
                             r->cinfo.num_components);
    int channels = cs == JCS_GRAYSCALE ? 1 : 3;
    r->orientation = exif_orientation(r->cinfo.marker_list);
    int out_w = r->orientation >= 5 ? h : w, out_h = r->orientation >= 5 ? w : h;
    if (header_only) {
        r->img.width = out_w;
        r->img.height = out_h;
        r->img.channels = channels;
        return LPT_OK;
    }

    r->cinfo.out_color_space = cmyk ? JCS_CMYK : channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    st = lpt_image_alloc(&r->img, r->name, out_w, out_h, channels, err);
    if (st != LPT_OK)
        return st;
    size_t stride = (size_t)w * (size_t)channels;
    if (r->orientation != 1)
        r->stored = malloc(stride * (size_t)h);
    if (cmyk)
        r->cmyk_row = malloc((size_t)w * 4);
    if ((r->orientation != 1 && !r->stored) || (cmyk && !r->cmyk_row))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %d x %d pixels",
                             r->name, w, h);
    uint8_t *dst = r->stored ? r->stored : r->img.pixels;
    jpeg_start_decompress(&r->cinfo);
    while (r->cinfo.output_scanline < r->cinfo.output_height) {
        uint8_t *row = dst + (size_t)r->cinfo.output_scanline * stride;
        JSAMPROW rows[1] = {cmyk ? r->cmyk_row : row};
        jpeg_read_scanlines(&r->cinfo, rows, 1);
        if (cmyk)
            cmyk_to_rgb(r->cmyk_row, row, w, r->cinfo.saw_Adobe_marker);
    }
    if (r->stored)
        apply_orientation(r->stored, r->img.pixels, w, h, channels, r->orientation);
    return LPT_OK;
}

LptStatus lpt_image_jpeg_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                              LptImage *out, LptError *err)
{
    JpegReader *r = calloc(1, sizeof *r);
    LptStatus st = LPT_ERR_OUT_OF_MEMORY;
    memset(out, 0, sizeof *out);
    if (!r) {
        lpt_error_set(err, st, 0, "%s: no memory for a JPEG reader", name);
        goto done;
    }
    r->name = name;
    st = jpeg_run(r, data, size, header_only, err);
done:
    if (r) {
        jpeg_destroy_decompress(&r->cinfo); /* a no-op on the zeroed struct too */
        free(r->cmyk_row);
        free(r->stored);
        if (st == LPT_OK)
            *out = r->img;
        else
            free(r->img.pixels);
        free(r);
    }
    return st;
}

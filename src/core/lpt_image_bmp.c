/* lpt_image_bmp.c: BMP decoding (no Debian library does BMP alone; the format is small)
 * into the 8-bit gray or RGB pixels of lpt_image.h.
 *
 * Read: BITMAPCOREHEADER (12 bytes) and BITMAPINFOHEADER and its successors (40, 52, 56,
 * 108, 124 bytes); 1/4/8-bit palettes, 16/24/32-bit direct colour; BI_RGB, and
 * BI_BITFIELDS / BI_ALPHABITFIELDS for 16 and 32 bits with masks of any width (scaled to 8
 * bits); bottom-up (positive height) and top-down (negative height). Not read: RLE, embedded
 * JPEG/PNG, and OS/2 Huffman coding (an "unsupported" error says which).
 *
 * Alpha: only an explicit alpha mask (BITFIELDS in a 56+ byte header, or ALPHABITFIELDS)
 * counts, and is composited on white; when every alpha value is 0 the writer meant "no
 * alpha" (many do this) and the image is opaque. BI_RGB 32-bit pixels are BGRX.
 * A palette whose used entries are all gray gives 1 channel. A pixel index beyond the
 * palette is an error. All header fields are little-endian and bounds-checked against the
 * file size before use.
 */
#include "lpt_image_impl.h"

#include <stdlib.h>
#include <string.h>

enum {
    BI_RGB = 0,
    BI_RLE8 = 1,
    BI_RLE4 = 2,
    BI_BITFIELDS = 3,
    BI_JPEG = 4,
    BI_PNG = 5,
    BI_ALPHABITFIELDS = 6,
};

#define FILE_HEADER_BYTES 14

/* One colour field of a direct-colour pixel: value = (pixel & mask) >> shift, 0..max. */
typedef struct BmpField {
    uint32_t mask, max;
    int shift;
} BmpField;

typedef struct BmpInfo {
    int width, height; /* height > 0 */
    bool top_down;
    int bpp;
    uint32_t compression;
    size_t data_offset, stride; /* pixel data start, bytes per row (4-byte aligned) */
    uint8_t palette[256][3];    /* RGB */
    int palette_size;
    BmpField field[4]; /* R, G, B, A (A.mask 0: none) */
    bool gray;         /* palette of gray entries only */
} BmpInfo;

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

/* False when the mask's bits are not contiguous. */
static bool field_init(BmpField *f, uint32_t mask)
{
    f->mask = mask;
    f->shift = 0;
    f->max = 0;
    if (!mask)
        return true;
    while (!(mask & 1)) {
        mask >>= 1;
        f->shift++;
    }
    f->max = mask;
    return (mask & (mask + 1)) == 0;
}

static uint8_t field_value(const BmpField *f, uint32_t px)
{
    return f->max ? lpt_image_scale((px & f->mask) >> f->shift, f->max) : 0;
}

/* Parses the headers, palette and masks of a BMP into *bi. */
static LptStatus bmp_parse(const uint8_t *d, size_t size, const char *name, BmpInfo *bi,
                           LptError *err)
{
    if (size < FILE_HEADER_BYTES + 4)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the BMP header", name);
    uint32_t hdr = rd32(d + FILE_HEADER_BYTES);
    if (hdr != 12 && (hdr < 40 || hdr > 4096))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad BMP header size %u", name,
                             (unsigned)hdr);
    if (size < FILE_HEADER_BYTES + (size_t)hdr)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the BMP header", name);
    const uint8_t *h = d + FILE_HEADER_BYTES;
    int64_t width, height;
    uint32_t planes, clr_used = 0;
    bi->compression = BI_RGB;
    if (hdr == 12) {
        width = rd16(h + 4);
        height = rd16(h + 6);
        planes = rd16(h + 8);
        bi->bpp = (int)rd16(h + 10);
    } else {
        width = (int32_t)rd32(h + 4);
        height = (int32_t)rd32(h + 8);
        planes = rd16(h + 12);
        bi->bpp = (int)rd16(h + 14);
        bi->compression = rd32(h + 16);
        clr_used = rd32(h + 32);
    }
    bi->top_down = height < 0;
    if (height < 0)
        height = -height;
    LptStatus st = lpt_image_check_size(name, width, height, err);
    if (st != LPT_OK)
        return st;
    bi->width = (int)width;
    bi->height = (int)height;
    if (planes != 1)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: BMP with %u planes (must be 1)", name,
                             (unsigned)planes);

    uint32_t c = bi->compression;
    const char *packing = c == BI_JPEG ? "JPEG" : c == BI_PNG ? "PNG" : "RLE";
    if (c == BI_RLE8 || c == BI_RLE4 || c == BI_JPEG || c == BI_PNG)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "%s: %s-compressed BMP is not supported",
                             name, packing);
    bool bitfields = c == BI_BITFIELDS || c == BI_ALPHABITFIELDS;
    bool bpp_ok = bi->bpp == 1 || bi->bpp == 4 || bi->bpp == 8 || bi->bpp == 16 || bi->bpp == 24 ||
                  bi->bpp == 32;
    if ((c != BI_RGB && !bitfields) || !bpp_ok || (bitfields && bi->bpp != 16 && bi->bpp != 32))
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: BMP with %d bits per pixel and compression %u is not "
                             "supported",
                             name, bi->bpp, (unsigned)c);

    /* masks: inside a 52+ byte header, else right after the 40-byte header */
    size_t after = FILE_HEADER_BYTES + hdr;
    uint32_t masks[4] = {0, 0, 0, 0};
    if (bitfields) {
        int n = c == BI_ALPHABITFIELDS || hdr >= 56 ? 4 : 3;
        size_t at = FILE_HEADER_BYTES + 40;
        if (hdr < 52) {
            after = at + (size_t)n * 4;
            if (size < after)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "%s: truncated in the BMP colour masks", name);
        }
        for (int i = 0; i < n; i++)
            masks[i] = rd32(d + at + 4 * (size_t)i);
    } else if (bi->bpp == 16) {
        masks[0] = 0x7C00;
        masks[1] = 0x03E0;
        masks[2] = 0x001F;
    } else if (bi->bpp == 32) {
        masks[0] = 0xFF0000;
        masks[1] = 0xFF00;
        masks[2] = 0xFF;
    }
    for (int i = 0; i < 4; i++) {
        bool fits = bi->bpp == 32 || (masks[i] >> bi->bpp) == 0;
        bool needed = i < 3 && (bi->bpp == 16 || bi->bpp == 32);
        if (!field_init(&bi->field[i], masks[i]) || !fits || (needed && !masks[i]))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad BMP colour mask 0x%08x", name,
                                 (unsigned)masks[i]);
    }

    bi->palette_size = 0;
    bi->gray = false;
    if (bi->bpp <= 8) {
        uint32_t full = 1u << bi->bpp, entry = hdr == 12 ? 3 : 4;
        uint32_t n = clr_used == 0 || clr_used > full ? full : clr_used;
        if (size < after + (size_t)n * entry)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated in the BMP palette", name);
        bi->gray = true;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *e = d + after + (size_t)i * entry; /* B, G, R(, reserved) */
            bi->palette[i][0] = e[2];
            bi->palette[i][1] = e[1];
            bi->palette[i][2] = e[0];
            bi->gray = bi->gray && e[0] == e[1] && e[1] == e[2];
        }
        bi->palette_size = (int)n;
    }
    bi->stride = ((size_t)bi->width * (size_t)bi->bpp + 31) / 32 * 4;
    bi->data_offset = rd32(d + 10);
    if (bi->data_offset < FILE_HEADER_BYTES + (size_t)hdr)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: BMP pixel data offset %zu points into the header", name,
                             bi->data_offset);
    return LPT_OK;
}

/* Decodes one file row (the row `y` of the image as shown) into dst. */
static LptStatus bmp_row(const BmpInfo *bi, const uint8_t *src, uint8_t *dst, bool use_alpha, int y,
                         const char *name, LptError *err)
{
    int ch = bi->gray ? 1 : 3;
    for (int x = 0; x < bi->width; x++, dst += ch) {
        if (bi->bpp <= 8) {
            int bit = x * bi->bpp;
            int idx = (src[bit / 8] >> (8 - bi->bpp - bit % 8)) & ((1 << bi->bpp) - 1);
            if (idx >= bi->palette_size)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "%s: pixel (%d, %d) uses colour %d of a %d-colour palette",
                                     name, x, y, idx, bi->palette_size);
            memcpy(dst, bi->palette[idx], (size_t)ch);
            continue;
        }
        uint8_t rgb[3];
        if (bi->bpp == 24) {
            const uint8_t *p = src + 3 * (size_t)x;
            rgb[0] = p[2];
            rgb[1] = p[1];
            rgb[2] = p[0];
        } else {
            uint32_t px = bi->bpp == 16 ? rd16(src + 2 * (size_t)x) : rd32(src + 4 * (size_t)x);
            for (int c = 0; c < 3; c++)
                rgb[c] = field_value(&bi->field[c], px);
            if (use_alpha) {
                uint8_t a = field_value(&bi->field[3], px);
                for (int c = 0; c < 3; c++)
                    rgb[c] = lpt_image_over_white(rgb[c], a, 255);
            }
        }
        memcpy(dst, rgb, 3);
    }
    return LPT_OK;
}

/* True when some pixel of the (complete) pixel data has a nonzero alpha value. */
static bool bmp_any_alpha(const BmpInfo *bi, const uint8_t *data)
{
    for (int y = 0; y < bi->height; y++) {
        const uint8_t *row = data + (size_t)y * bi->stride;
        for (int x = 0; x < bi->width; x++) {
            uint32_t px = bi->bpp == 16 ? rd16(row + 2 * (size_t)x) : rd32(row + 4 * (size_t)x);
            if (px & bi->field[3].mask)
                return true;
        }
    }
    return false;
}

LptStatus lpt_image_bmp_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err)
{
    BmpInfo *bi = malloc(sizeof *bi);
    LptStatus st = LPT_ERR_OUT_OF_MEMORY;
    memset(out, 0, sizeof *out);
    if (!bi) {
        lpt_error_set(err, st, 0, "%s: no memory for a BMP reader", name);
        goto done;
    }
    st = bmp_parse(data, size, name, bi, err);
    if (st != LPT_OK)
        goto done;
    int ch = bi->gray ? 1 : 3;
    if (header_only) {
        out->width = bi->width;
        out->height = bi->height;
        out->channels = ch;
        goto done;
    }
    size_t avail = bi->data_offset < size ? size - bi->data_offset : 0;
    size_t rows = avail / bi->stride;
    if (rows < (size_t)bi->height) {
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %zu of %d", name, rows,
                           bi->height);
        goto done;
    }
    st = lpt_image_alloc(out, name, bi->width, bi->height, ch, err);
    if (st != LPT_OK)
        goto done;
    const uint8_t *pixels = data + bi->data_offset;
    bool use_alpha = bi->field[3].mask && bmp_any_alpha(bi, pixels);
    size_t out_stride = (size_t)bi->width * (size_t)ch;
    for (int y = 0; y < bi->height && st == LPT_OK; y++) {
        int file_row = bi->top_down ? y : bi->height - 1 - y;
        st = bmp_row(bi, pixels + (size_t)file_row * bi->stride, out->pixels + y * out_stride,
                     use_alpha, y, name, err);
    }
done:
    if (st != LPT_OK)
        lpt_image_release(out);
    free(bi);
    return st;
}

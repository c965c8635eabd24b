/* lpt_image_pnm.c: PGM and PPM decoding (netpbm: P2/P3 ascii, P5/P6 binary, maxval 1..65535,
 * 2-byte big-endian samples above 255) into the 8-bit gray or RGB pixels of lpt_image.h.
 *
 * Header: magic, width, height, maxval as decimal numbers separated by whitespace, where a
 * '#' starts a comment up to the end of the line; binary data starts after exactly one
 * whitespace byte. Samples above maxval are an error. Only the first image of a file is read.
 * PBM (P1/P4) and PAM (P7) are refused as unsupported.
 */
#include "lpt_image_impl.h"

#include <string.h>

typedef struct PnmCursor {
    const uint8_t *d;
    size_t size, pos;
} PnmCursor;

static bool pnm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Reads the next decimal number, skipping whitespace and comments. Returns false at the end
 * of the data (*eof) or at anything else that is not a number; values above 2^31 fail. */
static bool pnm_number(PnmCursor *c, uint32_t *value, bool *eof)
{
    *eof = false;
    while (c->pos < c->size && (pnm_space(c->d[c->pos]) || c->d[c->pos] == '#')) {
        if (c->d[c->pos] == '#')
            while (c->pos < c->size && c->d[c->pos] != '\n' && c->d[c->pos] != '\r')
                c->pos++;
        else
            c->pos++;
    }
    if (c->pos >= c->size) {
        *eof = true;
        return false;
    }
    uint64_t v = 0;
    size_t start = c->pos;
    while (c->pos < c->size && c->d[c->pos] >= '0' && c->d[c->pos] <= '9' && v <= 1u << 31)
        v = v * 10 + (uint64_t)(c->d[c->pos++] - '0');
    if (c->pos == start || v > 1u << 31)
        return false;
    *value = (uint32_t)v;
    return true;
}

LptStatus lpt_image_pnm_read(const uint8_t *data, size_t size, const char *name, bool header_only,
                             LptImage *out, LptError *err)
{
    PnmCursor c = {data, size, 2};
    uint32_t dims[3]; /* width, height, maxval */
    static const char *const what[3] = {"width", "height", "maxval"};
    bool eof = false;
    LptStatus st = LPT_OK;
    memset(out, 0, sizeof *out);
    char kind = (char)data[1];
    if (kind == '1' || kind == '4' || kind == '7')
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: %s (P%c) images are not supported (use PGM or PPM)", name,
                             kind == '7' ? "PAM" : "PBM", kind);
    bool ascii = kind == '2' || kind == '3';
    int ch = kind == '2' || kind == '5' ? 1 : 3;
    for (int i = 0; i < 3; i++)
        if (!pnm_number(&c, &dims[i], &eof))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: %s in the PNM header (%s)", name,
                                 eof ? "truncated" : "not a number", what[i]);
    st = lpt_image_check_size(name, dims[0], dims[1], err);
    if (st != LPT_OK)
        return st;
    uint32_t maxval = dims[2];
    if (maxval < 1 || maxval > 65535)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: PNM maxval %u is not in 1..65535", name,
                             (unsigned)maxval);
    int w = (int)dims[0], h = (int)dims[1];
    if (header_only) {
        out->width = w;
        out->height = h;
        out->channels = ch;
        return LPT_OK;
    }
    if (!ascii) {
        if (c.pos >= size || !pnm_space(data[c.pos]))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: no whitespace between the PNM header and the pixels", name);
        c.pos++;
    }
    size_t bytes = maxval > 255 ? 2 : 1;
    size_t row_samples = (size_t)w * (size_t)ch;
    if (!ascii && (size - c.pos) / (row_samples * bytes) < (size_t)h)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %zu of %d", name,
                             (size - c.pos) / (row_samples * bytes), h);
    st = lpt_image_alloc(out, name, w, h, ch, err);
    for (int y = 0; y < h && st == LPT_OK; y++) {
        uint8_t *dst = out->pixels + (size_t)y * row_samples;
        for (size_t i = 0; i < row_samples && st == LPT_OK; i++) {
            uint32_t v;
            if (!ascii) {
                const uint8_t *p = data + c.pos;
                v = bytes == 2 ? (uint32_t)p[0] << 8 | p[1] : p[0];
                c.pos += bytes;
            } else if (!pnm_number(&c, &v, &eof)) {
                st = eof ? lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated after row %d of %d",
                                         name, y, h)
                         : lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                         "%s: not a number in row %d of the PNM data", name, y);
                break;
            }
            if (v > maxval)
                st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "%s: sample %u in row %d is above maxval %u", name, (unsigned)v,
                                   y, (unsigned)maxval);
            else
                dst[i] = lpt_image_scale(v, maxval);
        }
    }
    if (st != LPT_OK)
        lpt_image_release(out);
    return st;
}

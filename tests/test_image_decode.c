/* test_image_decode.c: the image decoders of lpt_image.h on every format and variant they
 * read, against pixels known exactly, and on bad input.
 *
 * Fixtures are made here at run time: PNG and JPEG with libpng's and libjpeg's own writers,
 * BMP and PNM byte by byte, so the expected pixels come from the source samples through
 * formulas written here in double (round(255 v / maxval), alpha over white as
 * round(255 (c a + m (m - a)) / m^2)), not from the decoder's code. JPEG is lossy: its
 * colour cases compare within a tolerance; progressive must equal baseline exactly (the same
 * coefficients), and EXIF orientations 1-8 (both byte orders) must equal the orientation-1
 * decode moved as the EXIF specification says where row 0 and column 0 are shown.
 *
 * Bad input: every cut point of a file of each format, byte corruption at every offset (no
 * crash; failures must name the file), huge sizes in headers (refused before allocation),
 * specific damage (CRC, palette index, maxval, unsupported variants), an empty file, a
 * directory, a missing file, a text file. Run it under ASan+UBSan to check memory safety.
 */
#include "lpt_image.h"

#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

#include "test_check.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static char g_dir[256];

/* ---- checks ---------------------------------------------------------------------------- */

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)((g_rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static uint8_t ref_to8(uint32_t v, uint32_t maxval)
{
    return (uint8_t)floor(v * 255.0 / maxval + 0.5);
}

static uint8_t ref_over(uint32_t c, uint32_t a, uint32_t maxval)
{
    double m = maxval;
    return (uint8_t)floor(255.0 * ((double)c * a + m * (m - a)) / (m * m) + 0.5);
}

/* Checks a decode succeeded with the given size and pixels within tol. */
static bool check_image(LptStatus st, const LptError *e, const LptImage *img, int w, int h, int ch,
                        const uint8_t *expected, int tol, const char *what)
{
    if (!expect(st == LPT_OK, what, "decode failed: %s", e->message))
        return false;
    if (!expect(img->width == w && img->height == h && img->channels == ch && img->pixels, what,
                "got %d x %d x %d, expected %d x %d x %d", img->width, img->height, img->channels,
                w, h, ch))
        return false;
    size_t n = (size_t)w * h * ch, worst_at = 0;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)img->pixels[i] - (int)expected[i]);
        if (d > worst) {
            worst = d;
            worst_at = i;
        }
    }
    return expect(worst <= tol, what,
                  "sample %zu (x %zu, y %zu, c %zu) is %d, expected %d (tol %d)", worst_at,
                  worst_at / ch % w, worst_at / ch / w, worst_at % ch, img->pixels[worst_at],
                  expected[worst_at], tol);
}

/* Checks a failure: status `code`, a message that starts with `name` and contains `needle`. */
static bool check_failure(LptStatus st, const LptError *e, const LptImage *img, LptStatus code,
                          const char *name, const char *needle, const char *what)
{
    bool zero = !img || (img->pixels == NULL && img->width == 0 && img->channels == 0);
    return expect(st == code && zero && strncmp(e->message, name, strlen(name)) == 0 &&
                      strstr(e->message, needle) != NULL,
                  what, "status %d (want %d), message \"%s\" (want \"%s: ...%s...\")%s", st, code,
                  e->message, name, needle, zero ? "" : ", image not cleared");
}

/* ---- byte buffers -------------------------------------------------------------------- */

typedef struct Buf {
    uint8_t *d;
    size_t n, cap;
} Buf;

static void put(Buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        if (!b->d) {
            printf("out of memory\n");
            exit(1);
        }
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put8(Buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put16le(Buf *b, unsigned v)
{
    put8(b, v & 0xFF);
    put8(b, v >> 8 & 0xFF);
}

static void put32le(Buf *b, uint32_t v)
{
    put16le(b, v & 0xFFFF);
    put16le(b, v >> 16);
}

static void put16(Buf *b, unsigned v, bool le)
{
    if (le) {
        put16le(b, v);
    } else {
        put8(b, v >> 8 & 0xFF);
        put8(b, v & 0xFF);
    }
}

static void put32(Buf *b, uint32_t v, bool le)
{
    put16(b, le ? v & 0xFFFF : v >> 16, le);
    put16(b, le ? v >> 16 : v & 0xFFFF, le);
}

static void buf_free(Buf *b)
{
    free(b->d);
    memset(b, 0, sizeof *b);
}

static void write_file(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(d, 1, n, f) == n;
    if (f)
        ok = fclose(f) == 0 && ok;
    expect(ok, "write fixture", "cannot write %s", path);
}

/* ---- robustness over one good file: every cut point, every corrupted byte ------------ */

/* Every prefix shorter than size - tail must fail with a message naming the file; every
 * prefix must decode or fail without crashing. */
static void check_cuts(const Buf *good, size_t tail, const char *name)
{
    LptError e;
    LptImage img;
    size_t bad = 0, first_bad = 0;
    char msg[sizeof e.message] = "";
    for (size_t cut = 0; cut < good->n; cut++) {
        LptStatus st = lpt_image_decode_memory(good->d, cut, name, &img, &e);
        bool named = st != LPT_OK && strncmp(e.message, name, strlen(name)) == 0;
        if (cut < good->n - tail ? !named : (st != LPT_OK && !named)) {
            if (!bad++) {
                first_bad = cut;
                snprintf(msg, sizeof msg, "%s", st == LPT_OK ? "(decoded)" : e.message);
            }
        }
        lpt_image_release(&img);
    }
    expect(bad == 0, name, "%zu of %zu cut points misbehave, first at %zu: %s", bad, good->n,
           first_bad, msg);
}

/* Each byte xor 0xFF, then + 1: decodes or fails with a message naming the file. */
static void check_corruption(const Buf *good, const char *name)
{
    LptError e;
    LptImage img;
    uint8_t *d = malloc(good->n);
    size_t bad = 0, decoded = 0;
    for (int mode = 0; mode < 2; mode++) {
        for (size_t i = 0; i < good->n; i++) {
            memcpy(d, good->d, good->n);
            d[i] = mode ? (uint8_t)(d[i] + 1) : d[i] ^ 0xFF;
            LptStatus st = lpt_image_decode_memory(d, good->n, name, &img, &e);
            if (st == LPT_OK)
                decoded++;
            if (st == LPT_OK ? !img.pixels || img.width < 1 || img.height < 1
                             : strncmp(e.message, name, strlen(name)) != 0 || img.pixels)
                bad++;
            lpt_image_release(&img);
        }
    }
    free(d);
    expect(bad == 0, name, "%zu of %zu corrupted copies misbehaved (%zu decoded)", bad, 2 * good->n,
           decoded);
}

/* ---- PNG -------------------------------------------------------------------------------- */

typedef struct PngSpec {
    int w, h, color_type, depth;
    bool interlace;
    int npal; /* palette entries (palette type) */
    png_color pal[256];
    int ntrans; /* palette tRNS entries */
    png_byte trans[256];
    bool key; /* gray / RGB tRNS colour key */
    png_color_16 key_color;
} PngSpec;

static void png_put(png_structp png, png_bytep d, size_t n)
{
    put(png_get_io_ptr(png), d, n);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

static int png_samples_per_pixel(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA:
        return 4;
    default:
        return 1;
    }
}

/* The libpng calls of png_encode; false when libpng fails. rows NULL: the header and a
 * one-byte IDAT chunk only (enough for a reader to get past the header). */
static bool png_fixture_write(png_structp png, png_infop info, Buf *b, const PngSpec *s,
                              png_bytep *rows)
{
    if (setjmp(png_jmpbuf(png)))
        return false;
    png_set_write_fn(png, b, png_put, png_flush_none);
    png_set_IHDR(png, info, s->w, s->h, s->depth, s->color_type,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->npal)
        png_set_PLTE(png, info, s->pal, s->npal);
    if (s->ntrans)
        png_set_tRNS(png, info, s->trans, s->ntrans, NULL);
    if (s->key)
        png_set_tRNS(png, info, NULL, 0, &s->key_color);
    png_write_info(png, info);
    if (!rows) {
        png_write_chunk(png, (png_const_bytep) "IDAT", (png_const_bytep) "x", 1);
        return true;
    }
    if (s->depth < 8)
        png_set_packing(png);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    return true;
}

/* Writes a PNG of samples (one uint16 per sample, palette indices for palette images);
 * header_only: see png_fixture_write. */
static void png_encode(Buf *b, const PngSpec *s, const uint16_t *samples, bool header_only)
{
    int spp = png_samples_per_pixel(s->color_type);
    size_t bps = s->depth == 16 ? 2 : 1, row_bytes = (size_t)s->w * spp * bps;
    uint8_t *data = header_only ? NULL : malloc(row_bytes * s->h);
    png_bytep *rows = header_only ? NULL : malloc(sizeof *rows * s->h);
    for (int y = 0; rows && y < s->h; y++) {
        rows[y] = data + (size_t)y * row_bytes;
        for (size_t i = 0; i < (size_t)s->w * spp; i++) {
            uint16_t v = samples[(size_t)y * s->w * spp + i];
            if (bps == 2) {
                rows[y][2 * i] = (uint8_t)(v >> 8);
                rows[y][2 * i + 1] = (uint8_t)v;
            } else {
                rows[y][i] = (uint8_t)v;
            }
        }
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    expect(png_fixture_write(png, info, b, s, rows), "png_encode", "libpng failed on a fixture");
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(data);
}

/* One PNG variant: random samples, encode, decode, compare with the expected pixels. */
static void png_case(const char *what, int w, int h, int color_type, int depth, bool interlace,
                     int extra, Buf *keep)
{
    /* extra: 1 = tRNS (palette alpha or colour key), 2 = gray palette, 3 = both */
    PngSpec s = {.w = w, .h = h, .color_type = color_type, .depth = depth, .interlace = interlace};
    int spp = png_samples_per_pixel(color_type);
    uint32_t maxval = (1u << depth) - 1;
    size_t n = (size_t)s.w * s.h;
    uint16_t *samples = malloc(sizeof *samples * n * spp);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        s.npal = depth == 1 ? 2 : depth == 2 ? 4 : 11;
        for (int i = 0; i < s.npal; i++) {
            s.pal[i].red = (png_byte)rnd(256);
            s.pal[i].green = extra & 2 ? s.pal[i].red : (png_byte)rnd(256);
            s.pal[i].blue = extra & 2 ? s.pal[i].red : (png_byte)rnd(256);
        }
        if (extra & 1) {
            s.ntrans = s.npal - 1; /* the last entry has no tRNS value: opaque */
            for (int i = 0; i < s.ntrans; i++)
                s.trans[i] = (png_byte)(i == 0 ? 0 : i == 1 ? 255 : rnd(256));
        }
        for (size_t i = 0; i < n; i++)
            samples[i] = (uint16_t)rnd((uint32_t)s.npal);
    } else {
        for (size_t i = 0; i < n * spp; i++)
            samples[i] = (uint16_t)rnd(maxval + 1);
        if (extra & 1) {
            s.key = true;
            for (int c = 0; c < spp && n > 5; c++) /* pixels 0 and 5 carry the key colour */
                samples[5 * spp + c] = samples[c];
            s.key_color.gray = samples[0];
            s.key_color.red = samples[0];
            s.key_color.green = spp == 3 ? samples[1] : 0;
            s.key_color.blue = spp == 3 ? samples[2] : 0;
        }
    }
    bool gray_out =
        color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA || (extra & 2);
    int ch = gray_out ? 1 : 3;
    uint8_t *expected = malloc(n * ch);
    for (size_t i = 0; i < n; i++) {
        const uint16_t *p = samples + i * spp;
        uint8_t *o = expected + i * ch;
        if (color_type == PNG_COLOR_TYPE_PALETTE) {
            const png_color *e = &s.pal[p[0]];
            uint32_t a = p[0] < s.ntrans ? s.trans[p[0]] : 255;
            uint8_t rgb[3] = {ref_over(e->red, a, 255), ref_over(e->green, a, 255),
                              ref_over(e->blue, a, 255)};
            memcpy(o, rgb, ch);
        } else if (spp == 2 || spp == 4) {
            for (int c = 0; c < ch; c++)
                o[c] = ref_over(p[c], p[spp - 1], maxval);
        } else {
            bool keyed = s.key && memcmp(p, samples, sizeof *p * spp) == 0;
            for (int c = 0; c < ch; c++)
                o[c] = keyed ? 255 : ref_to8(p[c], maxval);
        }
    }
    Buf b = {0};
    png_encode(&b, &s, samples, false);
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(b.d, b.n, what, &img, &e);
    check_image(st, &e, &img, s.w, s.h, ch, expected, 0, what);
    lpt_image_release(&img);
    int pw = 0, ph = 0, pc = 0;
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    st = lpt_image_probe_memory(b.d, b.n, what, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == s.w && ph == s.h && pc == ch && fmt == LPT_IMAGE_FORMAT_PNG, what,
           "probe: %d x %d x %d format %d (%s)", pw, ph, pc, fmt, e.message);
    if (keep)
        *keep = b;
    else
        buf_free(&b);
    free(expected);
    free(samples);
}

static void test_png(void)
{
    static const struct {
        const char *name;
        int type, depth, extra;
        bool interlace;
        int w, h;
    } cases[] = {
        {"gray1.png", PNG_COLOR_TYPE_GRAY, 1, 0, false, 13, 7},
        {"gray2.png", PNG_COLOR_TYPE_GRAY, 2, 0, false, 13, 7},
        {"gray4.png", PNG_COLOR_TYPE_GRAY, 4, 0, false, 13, 7},
        {"gray8.png", PNG_COLOR_TYPE_GRAY, 8, 0, false, 13, 7},
        {"gray16.png", PNG_COLOR_TYPE_GRAY, 16, 0, false, 13, 7},
        {"gray8-key.png", PNG_COLOR_TYPE_GRAY, 8, 1, false, 13, 7},
        {"gray16-key.png", PNG_COLOR_TYPE_GRAY, 16, 1, false, 13, 7},
        {"gray4-key.png", PNG_COLOR_TYPE_GRAY, 4, 1, false, 13, 7},
        {"graya8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, false, 13, 7},
        {"graya16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, false, 13, 7},
        {"rgb8.png", PNG_COLOR_TYPE_RGB, 8, 0, false, 13, 7},
        {"rgb16.png", PNG_COLOR_TYPE_RGB, 16, 0, false, 13, 7},
        {"rgb8-key.png", PNG_COLOR_TYPE_RGB, 8, 1, false, 13, 7},
        {"rgb16-key.png", PNG_COLOR_TYPE_RGB, 16, 1, false, 13, 7},
        {"rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, false, 13, 7},
        {"rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, false, 13, 7},
        {"pal1.png", PNG_COLOR_TYPE_PALETTE, 1, 0, false, 13, 7},
        {"pal2.png", PNG_COLOR_TYPE_PALETTE, 2, 0, false, 13, 7},
        {"pal4.png", PNG_COLOR_TYPE_PALETTE, 4, 0, false, 13, 7},
        {"pal8.png", PNG_COLOR_TYPE_PALETTE, 8, 0, false, 13, 7},
        {"pal8-trns.png", PNG_COLOR_TYPE_PALETTE, 8, 1, false, 13, 7},
        {"pal4-trns.png", PNG_COLOR_TYPE_PALETTE, 4, 1, false, 13, 7},
        {"pal8-gray.png", PNG_COLOR_TYPE_PALETTE, 8, 2, false, 13, 7},
        {"pal8-gray-trns.png", PNG_COLOR_TYPE_PALETTE, 8, 3, false, 13, 7},
        {"interlaced-rgb8.png", PNG_COLOR_TYPE_RGB, 8, 0, true, 13, 7},
        {"interlaced-gray16.png", PNG_COLOR_TYPE_GRAY, 16, 0, true, 13, 7},
        {"interlaced-rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, true, 13, 7},
        {"interlaced-pal4-trns.png", PNG_COLOR_TYPE_PALETTE, 4, 1, true, 13, 7},
        {"interlaced-gray2.png", PNG_COLOR_TYPE_GRAY, 2, 0, true, 13, 7},
        /* sizes where some Adam7 passes are empty */
        {"1x1.png", PNG_COLOR_TYPE_RGB, 8, 0, false, 1, 1},
        {"interlaced-1x1.png", PNG_COLOR_TYPE_RGB, 8, 0, true, 1, 1},
        {"interlaced-2x1.png", PNG_COLOR_TYPE_GRAY, 16, 0, true, 2, 1},
        {"interlaced-1x2.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, true, 1, 2},
        {"interlaced-5x3.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, true, 5, 3},
        {"interlaced-9x9.png", PNG_COLOR_TYPE_PALETTE, 8, 1, true, 9, 9},
        {"interlaced-33x17.png", PNG_COLOR_TYPE_RGB, 16, 0, true, 33, 17},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        png_case(cases[i].name, cases[i].w, cases[i].h, cases[i].type, cases[i].depth,
                 cases[i].interlace, cases[i].extra, NULL);

    /* bad input, on a plain and an interlaced file */
    Buf plain = {0}, inter = {0};
    png_case("cut.png", 13, 7, PNG_COLOR_TYPE_RGB_ALPHA, 8, false, 0, &plain);
    png_case("cut-interlaced.png", 13, 7, PNG_COLOR_TYPE_RGB, 16, true, 0, &inter);
    /* once every row is in, a cut in the zlib checksum, the IDAT CRC or IEND is harmless */
    check_cuts(&plain, 20, "cut.png");
    check_cuts(&inter, 20, "cut-interlaced.png");
    check_corruption(&plain, "corrupt.png");
    check_corruption(&inter, "corrupt-interlaced.png");

    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(plain.d, plain.n - 40, "short.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "short.png", "truncated after row", "png cut");
    st = lpt_image_decode_memory(inter.d, inter.n - 40, "short-i.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "short-i.png", "truncated in interlace pass 7",
                  "interlaced png cut");
    st = lpt_image_decode_memory(plain.d, 30, "head.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "head.png", "truncated in the PNG header",
                  "png header cut");
    /* a flipped bit inside IDAT's zlib data: the chunk CRC catches it */
    uint8_t *d = malloc(plain.n);
    memcpy(d, plain.d, plain.n);
    d[plain.n - 12 - 8] ^= 0x10;
    st = lpt_image_decode_memory(d, plain.n, "crc.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "crc.png", "CRC", "png CRC");
    free(d);
    buf_free(&plain);
    buf_free(&inter);

    /* huge sizes in a valid header: refused before any pixel memory */
    Buf big = {0};
    PngSpec s = {.w = 20000, .h = 20000, .color_type = PNG_COLOR_TYPE_RGB, .depth = 8};
    png_encode(&big, &s, NULL, true);
    st = lpt_image_decode_memory(big.d, big.n, "bomb.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "bomb.png", "decompression bomb",
                  "png 20000 x 20000");
    st = lpt_image_probe_memory(big.d, big.n, "bomb.png", NULL, NULL, NULL, NULL, &e);
    check_failure(st, &e, NULL, LPT_ERR_UNSUPPORTED, "bomb.png", "decompression bomb",
                  "png probe 20000 x 20000");
    buf_free(&big);
    s.w = 70000;
    s.h = 1;
    png_encode(&big, &s, NULL, true);
    st = lpt_image_decode_memory(big.d, big.n, "wide.png", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "wide.png", "decompression bomb",
                  "png 70000 x 1");
    buf_free(&big);
}

/* ---- JPEG ------------------------------------------------------------------------------- */

typedef struct JpegSpec {
    int w, h, components;
    J_COLOR_SPACE in_cs, jpeg_cs;
    bool progressive, no_adobe;
    const Buf *markers[3];       /* APPn segments: byte 0 is n, the rest the payload */
    const jpeg_scan_info *scans; /* a progressive scan script of num_scans scans, or NULL */
    int num_scans;
} JpegSpec;

static void jpeg_encode(Buf *b, const JpegSpec *s, const uint8_t *pixels)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *mem = NULL;
    unsigned long mem_size = 0;
    c.err = jpeg_std_error(&jerr); /* a fixture that cannot be written ends the test: exit */
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &mem_size);
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = s->components;
    c.in_color_space = s->in_cs;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, s->jpeg_cs);
    jpeg_set_quality(&c, 100, TRUE);
    for (int i = 0; i < c.num_components; i++)
        c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (s->progressive)
        jpeg_simple_progression(&c);
    if (s->scans) {
        c.scan_info = s->scans;
        c.num_scans = s->num_scans;
    }
    if (s->no_adobe)
        c.write_Adobe_marker = FALSE;
    jpeg_start_compress(&c, TRUE);
    for (int i = 0; i < 3 && s->markers[i]; i++)
        jpeg_write_marker(&c, JPEG_APP0 + s->markers[i]->d[0], s->markers[i]->d + 1,
                          (unsigned)s->markers[i]->n - 1);
    size_t stride = (size_t)s->w * s->components;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    put(b, mem, mem_size);
    free(mem);
}

/* A smooth image (JPEG keeps it well): w x h x ch. */
static uint8_t *smooth_image(int w, int h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(20 + 2 * x + 3 * y + 25 * c);
    return p;
}

/* Decodes and compares with `expected` within tol; keeps the decode in *keep if asked. */
static void jpeg_check(const Buf *b, const char *what, int w, int h, int ch,
                       const uint8_t *expected, int tol, LptImage *keep)
{
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(b->d, b->n, what, &img, &e);
    check_image(st, &e, &img, w, h, ch, expected, tol, what);
    int pw = 0, ph = 0, pc = 0;
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    LptStatus pst = lpt_image_probe_memory(b->d, b->n, what, &pw, &ph, &pc, &fmt, &e);
    expect(pst == LPT_OK && pw == w && ph == h && pc == ch && fmt == LPT_IMAGE_FORMAT_JPEG, what,
           "probe: %d x %d x %d format %d (%s)", pw, ph, pc, fmt, e.message);
    if (keep)
        *keep = img;
    else
        lpt_image_release(&img);
}

/* An APP1 Exif segment with an IFD0 of two entries (Make, Orientation). variant: 0 good,
 * 1 orientation 9, 2 orientation as LONG, 3 IFD offset past the end, 4 cut inside the
 * orientation entry. */
static void exif_segment(Buf *b, bool le, int orientation, int variant)
{
    put8(b, 1); /* APP1 */
    put(b, "Exif\0\0", 6);
    put(b, le ? "II" : "MM", 2);
    put16(b, 42, le);
    put32(b, variant == 3 ? 4000 : 8, le);
    put16(b, 2, le);
    put16(b, 0x010F, le); /* Make, ASCII, 4 bytes in the value field */
    put16(b, 2, le);
    put32(b, 4, le);
    put(b, "LPT", 4);
    put16(b, 0x0112, le);
    put16(b, variant == 2 ? 4 : 3, le);
    put32(b, 1, le);
    if (variant == 4) {
        put8(b, 0);
        return;
    }
    if (variant == 2) {
        put32(b, (uint32_t)orientation, le);
    } else {
        put16(b, variant == 1 ? 9 : (unsigned)orientation, le);
        put16(b, 0, le);
    }
    put32(b, 0, le); /* no next IFD */
}

/* The stored image `src` (w x h x ch) as EXIF orientation o shows it, written from the
 * specification's words: where stored row 0 and stored column 0 appear. */
static void exif_reference(const uint8_t *src, int w, int h, int ch, int o, uint8_t *dst,
                           int *out_w, int *out_h)
{
    enum { TOP, BOTTOM, LEFT, RIGHT };
    static const int row0[9] = {0, TOP, TOP, BOTTOM, BOTTOM, LEFT, RIGHT, RIGHT, LEFT};
    static const int col0[9] = {0, LEFT, RIGHT, RIGHT, LEFT, TOP, TOP, BOTTOM, BOTTOM};
    bool swap = row0[o] == LEFT || row0[o] == RIGHT;
    *out_w = swap ? h : w;
    *out_h = swap ? w : h;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int dx, dy;
            if (!swap) {
                dy = row0[o] == TOP ? y : h - 1 - y;
                dx = col0[o] == LEFT ? x : w - 1 - x;
            } else {
                dx = row0[o] == LEFT ? y : h - 1 - y;
                dy = col0[o] == TOP ? x : w - 1 - x;
            }
            memcpy(dst + ((size_t)dy * *out_w + dx) * ch, src + ((size_t)y * w + x) * ch, ch);
        }
    }
}

static void test_jpeg_exif(void)
{
    int w = 24, h = 16;
    uint8_t *src = malloc((size_t)w * h * 3), *ref = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        src[i] = (uint8_t)rnd(256); /* no symmetry that could hide a wrong flip */
    JpegSpec s = {.w = w, .h = h, .components = 3, .in_cs = JCS_RGB, .jpeg_cs = JCS_YCbCr};
    Buf plain = {0};
    jpeg_encode(&plain, &s, src);
    LptImage stored;
    LptError e;
    LptStatus st = lpt_image_decode_memory(plain.d, plain.n, "exif-none.jpg", &stored, &e);
    expect(st == LPT_OK, "exif-none.jpg", "%s", e.message);
    Buf xmp = {0};
    put8(&xmp, 1);
    put(&xmp, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>", 41);
    for (int le = 0; le < 2 && st == LPT_OK; le++) {
        for (int o = 1; o <= 8; o++) {
            char what[64];
            snprintf(what, sizeof what, "exif-%s-%d.jpg", le ? "II" : "MM", o);
            Buf seg = {0}, b = {0};
            exif_segment(&seg, le, o, 0);
            s.markers[0] = &xmp; /* an XMP APP1 before the Exif one is skipped */
            s.markers[1] = &seg;
            jpeg_encode(&b, &s, src);
            int rw, rh;
            exif_reference(stored.pixels, w, h, 3, o, ref, &rw, &rh);
            jpeg_check(&b, what, rw, rh, 3, ref, 0, NULL);
            buf_free(&seg);
            buf_free(&b);
        }
    }
    /* damaged EXIF blocks leave the image as stored */
    for (int variant = 1; variant <= 4 && st == LPT_OK; variant++) {
        char what[64];
        snprintf(what, sizeof what, "exif-bad-%d.jpg", variant);
        Buf seg = {0}, b = {0};
        exif_segment(&seg, variant % 2, 6, variant);
        s.markers[0] = &seg;
        s.markers[1] = NULL;
        jpeg_encode(&b, &s, src);
        jpeg_check(&b, what, w, h, 3, stored.pixels, 0, NULL);
        buf_free(&seg);
        buf_free(&b);
    }
    lpt_image_release(&stored);
    buf_free(&xmp);
    buf_free(&plain);
    free(src);
    free(ref);
}

static void test_jpeg(void)
{
    int w = 40, h = 24;
    uint8_t *rgb = smooth_image(w, h, 3), *gray = smooth_image(w, h, 1);
    uint8_t *cmyk = smooth_image(w, h, 4), *expected = malloc((size_t)w * h * 3);
    Buf b = {0};
    LptImage base;

    JpegSpec s = {.w = w, .h = h, .components = 3, .in_cs = JCS_RGB, .jpeg_cs = JCS_YCbCr};
    jpeg_encode(&b, &s, rgb);
    jpeg_check(&b, "baseline.jpg", w, h, 3, rgb, 3, &base);
    Buf keep_baseline = b;
    b = (Buf){0};
    s.progressive = true;
    jpeg_encode(&b, &s, rgb);
    if (base.pixels)
        jpeg_check(&b, "progressive.jpg", w, h, 3, base.pixels, 0, NULL);
    Buf keep_progressive = b;
    b = (Buf){0};
    lpt_image_release(&base);

    JpegSpec g = {
        .w = w, .h = h, .components = 1, .in_cs = JCS_GRAYSCALE, .jpeg_cs = JCS_GRAYSCALE};
    jpeg_encode(&b, &g, gray);
    jpeg_check(&b, "gray.jpg", w, h, 1, gray, 2, NULL);
    buf_free(&b);

    JpegSpec rgbcs = s;
    rgbcs.progressive = false;
    rgbcs.jpeg_cs = JCS_RGB; /* stored as RGB, no colour transform */
    jpeg_encode(&b, &rgbcs, rgb);
    jpeg_check(&b, "rgb-colorspace.jpg", w, h, 3, rgb, 2, NULL);
    buf_free(&b);

    /* CMYK: with the Adobe marker inks are stored inverted (R = C K / 255) */
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int c = 0; c < 3; c++)
            expected[i * 3 + c] = (uint8_t)((cmyk[i * 4 + c] * cmyk[i * 4 + 3] + 127) / 255);
    JpegSpec k = {.w = w, .h = h, .components = 4, .in_cs = JCS_CMYK, .jpeg_cs = JCS_CMYK};
    jpeg_encode(&b, &k, cmyk);
    jpeg_check(&b, "cmyk-adobe.jpg", w, h, 3, expected, 3, NULL);
    buf_free(&b);
    k.jpeg_cs = JCS_YCCK;
    jpeg_encode(&b, &k, cmyk);
    jpeg_check(&b, "ycck-adobe.jpg", w, h, 3, expected, 3, NULL);
    buf_free(&b);
    /* without it, plain inks (R = (255 - C)(255 - K) / 255) */
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int c = 0; c < 3; c++)
            expected[i * 3 + c] =
                (uint8_t)(((255 - cmyk[i * 4 + c]) * (255 - cmyk[i * 4 + 3]) + 127) / 255);
    k.jpeg_cs = JCS_CMYK;
    k.no_adobe = true;
    jpeg_encode(&b, &k, cmyk);
    jpeg_check(&b, "cmyk-plain.jpg", w, h, 3, expected, 3, NULL);
    buf_free(&b);

    test_jpeg_exif();

    /* bad input */
    check_cuts(&keep_baseline, 2, "cut.jpg"); /* without EOI every row is still there */
    check_cuts(&keep_progressive, 0, "cut-progressive.jpg");
    check_corruption(&keep_baseline, "corrupt.jpg");
    check_corruption(&keep_progressive, "corrupt-progressive.jpg");
    LptError e;
    LptImage img;
    LptStatus st =
        lpt_image_decode_memory(keep_baseline.d, keep_baseline.n - 60, "short.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "short.jpg", "truncated after row",
                  "jpeg cut in the scan");
    st = lpt_image_decode_memory(keep_baseline.d, 100, "head.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "head.jpg", "truncated", "jpeg header cut");
    /* a marker in the middle of the entropy-coded data */
    uint8_t *d = malloc(keep_baseline.n);
    memcpy(d, keep_baseline.d, keep_baseline.n);
    d[keep_baseline.n - 200] = 0xFF;
    d[keep_baseline.n - 199] = 0xD3;
    st = lpt_image_decode_memory(d, keep_baseline.n, "marker.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "marker.jpg", "bad JPEG data",
                  "jpeg marker inside the scan");
    /* a huge frame: SOF0 height and width set to 60000 */
    memcpy(d, keep_baseline.d, keep_baseline.n);
    size_t sof = 2;
    while (sof + 9 < keep_baseline.n && !(d[sof] == 0xFF && d[sof + 1] == 0xC0))
        sof++;
    d[sof + 5] = d[sof + 7] = 60000 >> 8;
    d[sof + 6] = d[sof + 8] = 60000 & 0xFF;
    st = lpt_image_decode_memory(d, keep_baseline.n, "bomb.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "bomb.jpg", "decompression bomb",
                  "jpeg 60000 x 60000");
    free(d);

    /* a progressive file of 759 scans (each AC coefficient of each component alone, in 4
     * successive-approximation steps) is refused as a CPU bomb */
    int nscans = 0;
    jpeg_scan_info *scans = malloc(sizeof *scans * 3 * (1 + 63 * 4));
    for (int comp = 0; comp < 3; comp++)
        scans[nscans++] = (jpeg_scan_info){1, {comp}, 0, 0, 0, 0};
    for (int comp = 0; comp < 3; comp++) {
        for (int coef = 1; coef < 64; coef++) {
            scans[nscans++] = (jpeg_scan_info){1, {comp}, coef, coef, 0, 3};
            for (int al = 2; al >= 0; al--)
                scans[nscans++] = (jpeg_scan_info){1, {comp}, coef, coef, al + 1, al};
        }
    }
    JpegSpec many = {.w = w,
                     .h = h,
                     .components = 3,
                     .in_cs = JCS_RGB,
                     .jpeg_cs = JCS_YCbCr,
                     .scans = scans,
                     .num_scans = nscans};
    Buf mb = {0};
    jpeg_encode(&mb, &many, rgb);
    st = lpt_image_decode_memory(mb.d, mb.n, "scans.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "scans.jpg", "more than 500 scans",
                  "jpeg of 759 scans");
    buf_free(&mb);
    free(scans);

    buf_free(&keep_baseline);
    buf_free(&keep_progressive);
    free(rgb);
    free(gray);
    free(cmyk);
    free(expected);
}

/* ---- BMP -------------------------------------------------------------------------------- */

typedef struct BmpSpec {
    int w, h, bpp;
    uint32_t compression, hdr; /* 0 BI_RGB, 3 BI_BITFIELDS, 6 BI_ALPHABITFIELDS */
    bool top_down;
    uint32_t masks[4]; /* written for BITFIELDS */
    int npal;
    uint8_t pal[256][3]; /* RGB */
} BmpSpec;

/* px: palette index (<= 8 bpp), 0xRRGGBB (24), the raw pixel word (16, 32). */
static void bmp_encode(Buf *b, const BmpSpec *s, const uint32_t *px)
{
    size_t stride = ((size_t)s->w * s->bpp + 31) / 32 * 4;
    bool bitfields = s->compression == 3 || s->compression == 6;
    uint32_t masks_after = bitfields && s->hdr == 40 ? (s->compression == 6 ? 16 : 12) : 0;
    uint32_t pal_bytes = (uint32_t)s->npal * (s->hdr == 12 ? 3 : 4);
    uint32_t off = 14 + s->hdr + masks_after + pal_bytes;
    put(b, "BM", 2);
    put32le(b, off + (uint32_t)(stride * s->h));
    put32le(b, 0);
    put32le(b, off);
    size_t start = b->n;
    if (s->hdr == 12) {
        put32le(b, 12);
        put16le(b, (unsigned)s->w);
        put16le(b, (unsigned)s->h);
        put16le(b, 1);
        put16le(b, (unsigned)s->bpp);
    } else {
        put32le(b, s->hdr);
        put32le(b, (uint32_t)s->w);
        put32le(b, (uint32_t)(s->top_down ? -s->h : s->h));
        put16le(b, 1);
        put16le(b, (unsigned)s->bpp);
        put32le(b, s->compression);
        put32le(b, (uint32_t)(stride * s->h));
        put32le(b, 2835);
        put32le(b, 2835);
        put32le(b, (uint32_t)s->npal);
        put32le(b, 0);
        for (int i = 0; i < 4 && b->n - start < s->hdr; i++)
            put32le(b, s->masks[i]);
        while (b->n - start < s->hdr)
            put8(b, 0);
        for (uint32_t i = 0; i < masks_after / 4; i++)
            put32le(b, s->masks[i]);
    }
    for (int i = 0; i < s->npal; i++) {
        put8(b, s->pal[i][2]);
        put8(b, s->pal[i][1]);
        put8(b, s->pal[i][0]);
        if (s->hdr != 12)
            put8(b, 0);
    }
    for (int fr = 0; fr < s->h; fr++) {
        int y = s->top_down ? fr : s->h - 1 - fr;
        uint8_t *row = calloc(stride, 1);
        for (int x = 0; x < s->w; x++) {
            uint32_t v = px[(size_t)y * s->w + x];
            if (s->bpp <= 8) {
                int bit = x * s->bpp;
                row[bit / 8] |= (uint8_t)(v << (8 - s->bpp - bit % 8));
            } else {
                for (int k = 0; k < s->bpp / 8; k++)
                    row[(size_t)x * (s->bpp / 8) + k] = (uint8_t)(v >> (8 * k));
            }
        }
        put(b, row, stride);
        free(row);
    }
}

/* The field of `px` under `mask` scaled to 8 bits, computed bit by bit. */
static uint8_t ref_field(uint32_t px, uint32_t mask)
{
    uint32_t v = 0, max = 0;
    for (int bit = 31; bit >= 0; bit--) {
        if (mask >> bit & 1) {
            v = v << 1 | (px >> bit & 1);
            max = max << 1 | 1;
        }
    }
    return ref_to8(v, max);
}

static void bmp_case(const char *what, BmpSpec s, bool alpha, Buf *keep)
{
    size_t n = (size_t)s.w * s.h;
    uint32_t *px = malloc(sizeof *px * n);
    int ch = 3;
    bool gray = s.npal > 0;
    for (int i = 0; i < s.npal; i++)
        gray = gray && s.pal[i][0] == s.pal[i][1] && s.pal[i][1] == s.pal[i][2];
    if (gray)
        ch = 1;
    uint32_t mask = s.bpp == 32 ? 0xFFFFFFFFu : (1u << s.bpp) - 1;
    for (size_t i = 0; i < n; i++)
        px[i] =
            s.npal ? rnd((uint32_t)s.npal) : (uint32_t)(rnd(1u << 16) | rnd(1u << 16) << 16) & mask;
    uint8_t *expected = malloc(n * ch);
    uint32_t m[4] = {s.masks[0], s.masks[1], s.masks[2], alpha ? s.masks[3] : 0};
    if (s.compression == 0 && s.bpp == 16) {
        m[0] = 0x7C00;
        m[1] = 0x03E0;
        m[2] = 0x001F;
    } else if (s.compression == 0 && (s.bpp == 32 || s.bpp == 24)) {
        m[0] = 0xFF0000;
        m[1] = 0xFF00;
        m[2] = 0xFF;
    }
    for (size_t i = 0; i < n; i++) {
        if (s.npal) {
            memcpy(expected + i * ch, s.pal[px[i]], ch);
            continue;
        }
        for (int c = 0; c < 3; c++) {
            uint8_t v = ref_field(px[i], m[c]);
            expected[i * 3 + c] = m[3] ? ref_over(v, ref_field(px[i], m[3]), 255) : v;
        }
    }
    Buf b = {0};
    bmp_encode(&b, &s, px);
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(b.d, b.n, what, &img, &e);
    check_image(st, &e, &img, s.w, s.h, ch, expected, 0, what);
    lpt_image_release(&img);
    int pw = 0, ph = 0, pc = 0;
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    st = lpt_image_probe_memory(b.d, b.n, what, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == s.w && ph == s.h && pc == ch && fmt == LPT_IMAGE_FORMAT_BMP, what,
           "probe: %d x %d x %d format %d (%s)", pw, ph, pc, fmt, e.message);
    if (keep)
        *keep = b;
    else
        buf_free(&b);
    free(expected);
    free(px);
}

static void random_palette(BmpSpec *s, int n, bool gray)
{
    s->npal = n;
    for (int i = 0; i < n; i++) {
        s->pal[i][0] = (uint8_t)rnd(256);
        s->pal[i][1] = gray ? s->pal[i][0] : (uint8_t)rnd(256);
        s->pal[i][2] = gray ? s->pal[i][0] : (uint8_t)rnd(256);
    }
}

static void test_bmp(void)
{
    BmpSpec s = {.w = 5, .h = 3, .bpp = 24, .hdr = 40};
    bmp_case("rgb24-bottom-up.bmp", s, false, NULL);
    s.top_down = true;
    bmp_case("rgb24-top-down.bmp", s, false, NULL);
    s.top_down = false;
    s.hdr = 12;
    bmp_case("rgb24-core-header.bmp", s, false, NULL);
    s.hdr = 40;
    s.bpp = 32;
    bmp_case("bgrx32.bmp", s, false, NULL); /* X bytes are random: ignored */
    s.top_down = true;
    s.compression = 3;
    s.masks[0] = 0xFF;
    s.masks[1] = 0xFF00;
    s.masks[2] = 0xFF0000;
    bmp_case("bitfields32-rgbx.bmp", s, false, NULL);
    s.masks[0] = 0xFFC00000; /* 10-10-10 */
    s.masks[1] = 0x003FF000;
    s.masks[2] = 0x00000FFC;
    bmp_case("bitfields32-10bit.bmp", s, false, NULL);
    s.top_down = false;
    s.hdr = 108;
    s.masks[0] = 0xFF0000;
    s.masks[1] = 0xFF00;
    s.masks[2] = 0xFF;
    s.masks[3] = 0xFF000000;
    bmp_case("v4-alpha32.bmp", s, true, NULL);
    s.hdr = 40;
    s.compression = 6;
    bmp_case("alphabitfields32.bmp", s, true, NULL);
    s.compression = 3;
    s.bpp = 16;
    s.masks[0] = 0xF800;
    s.masks[1] = 0x07E0;
    s.masks[2] = 0x001F;
    s.masks[3] = 0;
    bmp_case("rgb565.bmp", s, false, NULL);
    s.compression = 0;
    s.w = 6;
    bmp_case("rgb555.bmp", s, false, NULL);
    s.w = 7;
    s.bpp = 8;
    random_palette(&s, 200, false);
    Buf pal8 = {0};
    bmp_case("pal8.bmp", s, false, &pal8);
    random_palette(&s, 256, true);
    bmp_case("pal8-gray.bmp", s, false, NULL);
    s.bpp = 4;
    random_palette(&s, 16, false);
    bmp_case("pal4.bmp", s, false, NULL);
    s.bpp = 1;
    s.w = 19;
    random_palette(&s, 2, false);
    bmp_case("pal1.bmp", s, false, NULL);

    /* a 32-bit image whose alpha mask is set but every alpha is 0: opaque */
    BmpSpec z = {.w = 3,
                 .h = 2,
                 .bpp = 32,
                 .hdr = 124,
                 .compression = 3,
                 .masks = {0xFF0000, 0xFF00, 0xFF, 0xFF000000}};
    uint32_t zp[6] = {0x102030, 0x405060, 0x708090, 0xA0B0C0, 0xD0E0F0, 0x0A0B0C};
    uint8_t zexp[18];
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            zexp[i * 3 + c] = (uint8_t)(zp[i] >> (16 - 8 * c));
    Buf zb = {0};
    bmp_encode(&zb, &z, zp);
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(zb.d, zb.n, "zero-alpha.bmp", &img, &e);
    check_image(st, &e, &img, 3, 2, 3, zexp, 0, "zero-alpha.bmp");
    lpt_image_release(&img);
    buf_free(&zb);

    /* bad input */
    Buf rgb = {0};
    BmpSpec r = {.w = 9, .h = 5, .bpp = 24, .hdr = 40};
    bmp_case("cut.bmp", r, false, &rgb);
    check_cuts(&rgb, 0, "cut.bmp");
    check_cuts(&pal8, 0, "cut-pal8.bmp");
    check_corruption(&rgb, "corrupt.bmp");
    check_corruption(&pal8, "corrupt-pal8.bmp");
    st = lpt_image_decode_memory(rgb.d, rgb.n - 30, "short.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "short.bmp", "truncated after row 3 of 5",
                  "bmp cut");
    uint8_t *d = malloc(pal8.n);
    memcpy(d, pal8.d, pal8.n);
    d[pal8.n - 2] = 250; /* pixel (6, 0): beyond the 200 colours (then 1 padding byte) */
    st = lpt_image_decode_memory(d, pal8.n, "index.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "index.bmp", "colour 250 of a 200-colour",
                  "bmp palette index");
    free(d);
    d = malloc(rgb.n);
    memcpy(d, rgb.d, rgb.n);
    d[30] = 1; /* BI_RLE8 */
    st = lpt_image_decode_memory(d, rgb.n, "rle.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "rle.bmp", "RLE", "bmp RLE");
    memcpy(d, rgb.d, rgb.n);
    d[26] = 2; /* planes */
    st = lpt_image_decode_memory(d, rgb.n, "planes.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "planes.bmp", "planes", "bmp planes");
    memcpy(d, rgb.d, rgb.n);
    d[18] = 0xA0; /* width 100000 (0x186A0), height -100000 */
    d[19] = 0x86;
    d[20] = 0x01;
    uint32_t neg = (uint32_t)-100000;
    for (int i = 0; i < 4; i++)
        d[22 + i] = (uint8_t)(neg >> (8 * i));
    st = lpt_image_decode_memory(d, rgb.n, "bomb.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "bomb.bmp", "decompression bomb",
                  "bmp 100000 x 100000");
    memcpy(d, rgb.d, rgb.n);
    d[22] = d[23] = d[24] = d[25] = 0; /* height 0 */
    st = lpt_image_decode_memory(d, rgb.n, "zero.bmp", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "zero.bmp", "bad image size", "bmp height 0");
    free(d);
    buf_free(&rgb);
    buf_free(&pal8);
}

/* ---- PNM -------------------------------------------------------------------------------- */

/* A PNM of random samples below maxval + 1, with a comment in the header. */
static void pnm_encode(Buf *b, char kind, int w, int h, uint32_t maxval, const uint32_t *v)
{
    char head[128];
    int ch = kind == '2' || kind == '5' ? 1 : 3;
    int n = snprintf(head, sizeof head, "P%c\n# written by test_image_decode\n%d %d\n%u\n", kind, w,
                     h, (unsigned)maxval);
    put(b, head, (size_t)n);
    for (size_t i = 0; i < (size_t)w * h * ch; i++) {
        if (kind == '2' || kind == '3') {
            n = snprintf(head, sizeof head, "%u%s", (unsigned)v[i], i % 7 == 6 ? "\n" : " ");
            put(b, head, (size_t)n);
        } else if (maxval > 255) {
            put8(b, v[i] >> 8);
            put8(b, v[i] & 0xFF);
        } else {
            put8(b, v[i]);
        }
    }
}

static void pnm_case(const char *what, char kind, uint32_t maxval, Buf *keep)
{
    int w = 7, h = 5, ch = kind == '2' || kind == '5' ? 1 : 3;
    size_t n = (size_t)w * h * ch;
    uint32_t *v = malloc(sizeof *v * n);
    uint8_t *expected = malloc(n);
    for (size_t i = 0; i < n; i++) {
        v[i] = i == 0 ? maxval : i == 1 ? 0 : rnd(maxval + 1);
        expected[i] = ref_to8(v[i], maxval);
    }
    Buf b = {0};
    pnm_encode(&b, kind, w, h, maxval, v);
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(b.d, b.n, what, &img, &e);
    check_image(st, &e, &img, w, h, ch, expected, 0, what);
    lpt_image_release(&img);
    int pw = 0, ph = 0, pc = 0;
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    st = lpt_image_probe_memory(b.d, b.n, what, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == w && ph == h && pc == ch && fmt == LPT_IMAGE_FORMAT_PNM, what,
           "probe: %d x %d x %d format %d (%s)", pw, ph, pc, fmt, e.message);
    if (keep)
        *keep = b;
    else
        buf_free(&b);
    free(expected);
    free(v);
}

static void pnm_bad(const char *text, const char *name, LptStatus code, const char *needle)
{
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(text, strlen(text), name, &img, &e);
    check_failure(st, &e, &img, code, name, needle, name);
}

static void test_pnm(void)
{
    Buf p5 = {0}, p3 = {0}, p6 = {0};
    pnm_case("p5-255.pgm", '5', 255, &p5);
    pnm_case("p5-65535.pgm", '5', 65535, NULL);
    pnm_case("p5-1000.pgm", '5', 1000, NULL);
    pnm_case("p5-15.pgm", '5', 15, NULL);
    pnm_case("p6-255.ppm", '6', 255, NULL);
    pnm_case("p6-4095.ppm", '6', 4095, &p6);
    pnm_case("p2-15.pgm", '2', 15, NULL);
    pnm_case("p2-1.pgm", '2', 1, NULL);
    pnm_case("p2-65535.pgm", '2', 65535, NULL);
    pnm_case("p3-255.ppm", '3', 255, &p3);

    check_cuts(&p5, 0, "cut.pgm");
    check_cuts(&p6, 0, "cut.ppm");
    /* ascii: a cut inside the last number still reads a number */
    size_t last = p3.n - 1;
    while (last > 0 && p3.d[last - 1] != ' ' && p3.d[last - 1] != '\n')
        last--;
    check_cuts(&p3, p3.n - last, "cut-ascii.ppm");
    check_corruption(&p5, "corrupt.pgm");
    check_corruption(&p3, "corrupt-ascii.ppm");
    LptError e;
    LptImage img;
    LptStatus st = lpt_image_decode_memory(p5.d, p5.n - 10, "short.pgm", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "short.pgm", "truncated after row 3 of 5",
                  "pgm cut");
    buf_free(&p5);
    buf_free(&p6);
    buf_free(&p3);

    pnm_bad("P5 2 2 0\n\1\1\1\1", "maxval0.pgm", LPT_ERR_FORMAT, "maxval 0");
    pnm_bad("P5 2 2 70000\n12345678", "maxval70000.pgm", LPT_ERR_FORMAT, "maxval 70000");
    pnm_bad("P2 2 1 100\n50 101\n", "above.pgm", LPT_ERR_FORMAT, "sample 101 in row 0");
    pnm_bad("P2 2 1 100\n50 x\n", "nan.pgm", LPT_ERR_FORMAT, "not a number in row 0");
    pnm_bad("P3 1 2 255\n1 2 3\n4 5", "short.ppm", LPT_ERR_FORMAT, "truncated after row 1 of 2");
    pnm_bad("P5 2 2", "header.pgm", LPT_ERR_FORMAT, "truncated in the PNM header (maxval)");
    pnm_bad("P5 2 x 255\n", "header2.pgm", LPT_ERR_FORMAT, "not a number in the PNM header");
    pnm_bad("P5 1 1 255x", "nospace.pgm", LPT_ERR_FORMAT, "no whitespace");
    pnm_bad("P4\n8 1\n\xAA", "bitmap.pbm", LPT_ERR_UNSUPPORTED, "PBM (P4)");
    pnm_bad("P7\nWIDTH 1\n", "pam.pam", LPT_ERR_UNSUPPORTED, "PAM (P7)");
    pnm_bad("P5 70000 70000 255\n", "bomb.pgm", LPT_ERR_UNSUPPORTED, "decompression bomb");
    pnm_bad("P6 0 10 255\n", "zero.ppm", LPT_ERR_FORMAT, "bad image size 0 x 10");
    pnm_bad("P5 99999999999 1 255\n", "overflow.pgm", LPT_ERR_FORMAT, "not a number");
}

/* ---- files and odd input ------------------------------------------------------------- */

static void test_files(void)
{
    char path[512], dirpath[512];
    LptError e;
    LptImage img, mem;
    LptStatus st;

    /* the same bytes through a file and through memory; the name makes no difference */
    uint8_t *rgb = smooth_image(16, 8, 3);
    Buf b = {0};
    JpegSpec s = {.w = 16, .h = 8, .components = 3, .in_cs = JCS_RGB, .jpeg_cs = JCS_YCbCr};
    jpeg_encode(&b, &s, rgb);
    snprintf(path, sizeof path, "%s/actually-a-jpeg.png", g_dir);
    write_file(path, b.d, b.n);
    st = lpt_image_decode_file(path, &img, &e);
    LptStatus mst = lpt_image_decode_memory(b.d, b.n, NULL, &mem, &e);
    expect(st == LPT_OK && mst == LPT_OK && img.width == 16 && img.height == 8 &&
               memcmp(img.pixels, mem.pixels, 16 * 8 * 3) == 0,
           "decode_file", "file and memory decodes differ (%s)", e.message);
    lpt_image_release(&img);
    lpt_image_release(&mem);
    lpt_image_release(&mem); /* a second release is a no-op */
    lpt_image_release(NULL);
    int pw = 0, ph = 0, pc = 0;
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    st = lpt_image_probe_file(path, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == 16 && ph == 8 && pc == 3 && fmt == LPT_IMAGE_FORMAT_JPEG,
           "probe_file", "%d x %d x %d format %s (%s)", pw, ph, pc, lpt_image_format_name(fmt),
           e.message);
    /* the probe reads headers only: a file cut inside its pixels still probes */
    size_t sos = 2;
    while (sos + 1 < b.n && !(b.d[sos] == 0xFF && b.d[sos + 1] == 0xDA))
        sos++;
    snprintf(path, sizeof path, "%s/cut.jpg", g_dir);
    write_file(path, b.d, sos + 40);
    st = lpt_image_probe_file(path, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == 16 && ph == 8, "probe_file cut", "%s", e.message);
    st = lpt_image_decode_file(path, &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, path, "truncated", "decode_file cut");
    buf_free(&b);

    /* a JPEG whose frame header lies beyond 64 KiB of metadata: the probe reads on */
    Buf big = {0}, exif = {0};
    put8(&big, 2); /* APP2 */
    for (int i = 0; i < 65000; i++)
        put8(&big, (unsigned)i);
    exif_segment(&exif, true, 8, 0);
    s.markers[0] = &big;
    s.markers[1] = &big;
    s.markers[2] = &exif;
    jpeg_encode(&b, &s, rgb);
    snprintf(path, sizeof path, "%s/big-header.jpg", g_dir);
    write_file(path, b.d, b.n);
    st = lpt_image_probe_file(path, &pw, &ph, &pc, &fmt, &e);
    expect(st == LPT_OK && pw == 8 && ph == 16 && pc == 3, "probe_file big header",
           "%d x %d x %d (%s), expected 8 x 16 x 3 (orientation 8)", pw, ph, pc, e.message);
    st = lpt_image_decode_file(path, &img, &e);
    expect(st == LPT_OK && img.width == 8 && img.height == 16, "decode_file big header", "%s",
           e.message);
    lpt_image_release(&img);
    buf_free(&b);
    buf_free(&big);
    buf_free(&exif);
    free(rgb);

    /* empty, text, other formats, a directory, a missing file */
    snprintf(path, sizeof path, "%s/empty.png", g_dir);
    write_file(path, "", 0);
    st = lpt_image_decode_file(path, &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, path, "empty file", "empty file");
    st = lpt_image_probe_file(path, &pw, &ph, &pc, &fmt, &e);
    check_failure(st, &e, NULL, LPT_ERR_FORMAT, path, "empty file", "probe empty file");
    st = lpt_image_decode_memory("", 0, "empty", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "empty", "empty file", "empty memory");
    st = lpt_image_decode_memory(NULL, 10, "null", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "null", "empty file", "NULL data");

    snprintf(path, sizeof path, "%s/notes.jpg", g_dir);
    const char *text = "These are not pixels.\nP.S. nor is this.\n";
    write_file(path, text, strlen(text));
    st = lpt_image_decode_file(path, &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, path, "not a JPEG/PNG/BMP/PNM file", "text file");
    st = lpt_image_decode_memory("GIF89a\1\0\1\0", 10, "anim.gif", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "anim.gif", "GIF images are not supported",
                  "gif");
    st = lpt_image_decode_memory("II*\0\10\0\0\0", 8, "scan.tif", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_UNSUPPORTED, "scan.tif", "TIFF", "tiff");
    st = lpt_image_decode_memory("\xFF\xD8", 2, "two.jpg", &img, &e);
    check_failure(st, &e, &img, LPT_ERR_FORMAT, "two.jpg", "not a JPEG", "2-byte JPEG start");

    snprintf(dirpath, sizeof dirpath, "%s/folder.png", g_dir);
    mkdir(dirpath, 0700);
    st = lpt_image_decode_file(dirpath, &img, &e);
    check_failure(st, &e, &img, LPT_ERR_IO, dirpath, "is a directory", "directory");
    st = lpt_image_probe_file(dirpath, &pw, &ph, &pc, &fmt, &e);
    check_failure(st, &e, NULL, LPT_ERR_IO, dirpath, "is a directory", "probe directory");
    rmdir(dirpath);

    snprintf(path, sizeof path, "%s/missing.png", g_dir);
    st = lpt_image_decode_file(path, &img, &e);
    check_failure(st, &e, &img, LPT_ERR_IO, path, "No such file", "missing file");
    expect(e.detail != 0, "missing file", "errno not kept in detail");

    st = lpt_image_decode_file(NULL, &img, &e);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "NULL path", "status %d", st);
    st = lpt_image_decode_memory("P5 1 1 255\n\1", 12, "x", NULL, &e);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "NULL out", "status %d", st);
    st = lpt_image_decode_memory("P5 1 1 255\n\1", 12, "x", &img, NULL); /* err may be NULL */
    expect(st == LPT_OK && img.pixels && img.pixels[0] == 1, "NULL err", "status %d", st);
    lpt_image_release(&img);

    /* sniffing ignores names and needs only the first bytes */
    expect(lpt_image_sniff("\x89PNG\r\n\x1a\n", 8) == LPT_IMAGE_FORMAT_PNG &&
               lpt_image_sniff("\xFF\xD8\xFF\xE0", 4) == LPT_IMAGE_FORMAT_JPEG &&
               lpt_image_sniff("BM", 2) == LPT_IMAGE_FORMAT_BMP &&
               lpt_image_sniff("P6\n", 3) == LPT_IMAGE_FORMAT_PNM &&
               lpt_image_sniff("P9\n", 3) == LPT_IMAGE_FORMAT_UNKNOWN &&
               lpt_image_sniff("\x89PNG", 4) == LPT_IMAGE_FORMAT_UNKNOWN &&
               lpt_image_sniff(NULL, 8) == LPT_IMAGE_FORMAT_UNKNOWN,
           "sniff", "a magic number is misread");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/lpt-image-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        printf("test_image_decode: cannot make a temporary directory\n");
        return 1;
    }
    test_png();
    test_jpeg();
    test_bmp();
    test_pnm();
    test_files();

    static const char *const files[] = {"actually-a-jpeg.png", "cut.jpg", "big-header.jpg",
                                        "empty.png", "notes.jpg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", g_dir, files[i]);
        unlink(path);
    }
    rmdir(g_dir);
    printf("test_image_decode: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

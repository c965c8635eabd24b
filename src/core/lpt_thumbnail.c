/* lpt_thumbnail.c: the thumbnail cache of lpt_thumbnail.h: paths, the area-averaging resize
 * and the atomic PNG write (libpng's simplified write API on a mkstemp file, then rename).
 *
 * The resize works in "scaled units" where source pixel i spans [i * dst, (i + 1) * dst)
 * and output pixel x spans [x * src, (x + 1) * src): both rows of intervals cover
 * [0, src * dst), so every overlap is an integer and an output pixel's weights sum to src.
 * It runs one output row at a time (the source rows it covers, each resized horizontally in
 * double precision), so memory is a few rows whatever the image's height.
 */
#include "lpt_thumbnail.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_hash.h"
#include "lpt_paths.h"

static bool hash_valid(const char *hash)
{
    if (!hash || strlen(hash) != LPT_HASH_HEX_LEN)
        return false;
    for (const char *p = hash; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

LptStatus lpt_thumbnail_path(const char *cache_dir, const char *hash, char *buf, size_t size,
                             LptError *err)
{
    if (!cache_dir || !*cache_dir || !buf || size == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail path: no cache directory or no buffer");
    if (!hash_valid(hash))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail path: '%s' is not a SHA-256 in lowercase hex",
                             hash ? hash : "(null)");
    int n = snprintf(buf, size, "%s/thumbnails/%.2s/%s.png", cache_dir, hash, hash);
    if (n < 0 || (size_t)n >= size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail path: %s: the path is too long", cache_dir);
    return LPT_OK;
}

void lpt_thumbnail_size(int width, int height, int *thumb_width, int *thumb_height)
{
    int w = width < 1 ? 1 : width, h = height < 1 ? 1 : height;
    int longer = w > h ? w : h;
    if (longer > LPT_THUMBNAIL_SIDE) {
        /* Rounded to nearest: (a * side + longer / 2) / longer; the longer side is exact. */
        int64_t tw = ((int64_t)w * LPT_THUMBNAIL_SIDE + longer / 2) / longer;
        int64_t th = ((int64_t)h * LPT_THUMBNAIL_SIDE + longer / 2) / longer;
        w = tw < 1 ? 1 : (int)tw;
        h = th < 1 ? 1 : (int)th;
    }
    if (thumb_width)
        *thumb_width = w;
    if (thumb_height)
        *thumb_height = h;
}

/* The source pixels each output pixel covers along one axis, with their overlaps. */
typedef struct Taps {
    int stride;      /* slots per output pixel */
    int *first;      /* [dst]: the first source pixel */
    int *count;      /* [dst]: how many */
    int64_t *weight; /* [dst * stride]: overlaps in scaled units, summing to src */
} Taps;

static bool taps_make(Taps *t, int src, int dst)
{
    t->stride = src / dst + 2;
    t->first = malloc((size_t)dst * sizeof *t->first);
    t->count = malloc((size_t)dst * sizeof *t->count);
    t->weight = malloc((size_t)dst * (size_t)t->stride * sizeof *t->weight);
    if (!t->first || !t->count || !t->weight)
        return false;
    for (int x = 0; x < dst; x++) {
        int64_t lo = (int64_t)x * src, hi = (int64_t)(x + 1) * src;
        int i = (int)(lo / dst), n = 0;
        t->first[x] = i;
        for (; (int64_t)i * dst < hi && i < src; i++) {
            int64_t a = (int64_t)i * dst, b = (int64_t)(i + 1) * dst;
            t->weight[(size_t)x * (size_t)t->stride + (size_t)n++] =
                (b < hi ? b : hi) - (a > lo ? a : lo);
        }
        t->count[x] = n;
    }
    return true;
}

static void taps_free(Taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weight);
}

LptStatus lpt_thumbnail_downscale(const LptImage *src, int out_width, int out_height, uint8_t *out,
                                  LptError *err)
{
    if (!src || !src->pixels || !out || (src->channels != 1 && src->channels != 3) ||
        src->width < 1 || src->height < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail: no image, no output or bad channels");
    if (out_width < 1 || out_height < 1 || out_width > src->width || out_height > src->height)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail: cannot resize %d x %d to %d x %d (1 up to the source)",
                             src->width, src->height, out_width, out_height);
    LptStatus st = LPT_OK;
    int c = src->channels;
    size_t row_values = (size_t)out_width * (size_t)c;
    Taps tx = {0}, ty = {0};
    double *hrow = malloc(row_values * sizeof *hrow);
    double *acc = malloc(row_values * sizeof *acc);
    if (!hrow || !acc || !taps_make(&tx, src->width, out_width) ||
        !taps_make(&ty, src->height, out_height)) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "thumbnail: no memory to resize");
        goto done;
    }
    double norm = 1.0 / ((double)src->width * (double)src->height);
    for (int y = 0; y < out_height; y++) {
        memset(acc, 0, row_values * sizeof *acc);
        for (int k = 0; k < ty.count[y]; k++) {
            const uint8_t *row =
                src->pixels + (size_t)(ty.first[y] + k) * (size_t)src->width * (size_t)c;
            double wy = (double)ty.weight[(size_t)y * (size_t)ty.stride + (size_t)k];
            for (int x = 0; x < out_width; x++) {
                const int64_t *w = &tx.weight[(size_t)x * (size_t)tx.stride];
                const uint8_t *p = row + (size_t)tx.first[x] * (size_t)c;
                for (int ch = 0; ch < c; ch++) {
                    double s = 0.0;
                    for (int i = 0; i < tx.count[x]; i++)
                        s += (double)w[i] * p[(size_t)i * (size_t)c + (size_t)ch];
                    hrow[(size_t)x * (size_t)c + (size_t)ch] = s;
                }
            }
            for (size_t v = 0; v < row_values; v++)
                acc[v] += wy * hrow[v];
        }
        uint8_t *dst = out + (size_t)y * row_values;
        for (size_t v = 0; v < row_values; v++) {
            double m = acc[v] * norm + 0.5;
            dst[v] = m >= 255.0 ? 255 : (uint8_t)m;
        }
    }
done:
    taps_free(&tx);
    taps_free(&ty);
    free(hrow);
    free(acc);
    return st;
}

bool lpt_thumbnail_exists(const char *cache_dir, const char *hash)
{
    char path[4096];
    struct stat sb;
    return lpt_thumbnail_path(cache_dir, hash, path, sizeof path, NULL) == LPT_OK &&
           stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

LptStatus lpt_thumbnail_cache_prepare(const char *cache_dir, LptError *err)
{
    char dir[4096];
    if (!cache_dir || !*cache_dir)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "thumbnail cache: no directory");
    int n = snprintf(dir, sizeof dir, "%s/thumbnails", cache_dir);
    if (n < 0 || (size_t)n >= sizeof dir)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "thumbnail cache: %s: the path is too long", cache_dir);
    return lpt_make_dirs(dir, err);
}

LptStatus lpt_thumbnail_write(const char *cache_dir, const char *hash, const LptImage *img,
                              LptError *err)
{
    char path[4096], dir[4096], tmp[4096 + 32];
    LptStatus st = lpt_thumbnail_path(cache_dir, hash, path, sizeof path, err);
    if (st != LPT_OK)
        return st;
    if (!img || !img->pixels || (img->channels != 1 && img->channels != 3))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no image to write", path);
    int tw, th;
    lpt_thumbnail_size(img->width, img->height, &tw, &th);
    uint8_t *pixels = malloc((size_t)tw * (size_t)th * (size_t)img->channels);
    bool tmp_made = false;
    if (!pixels) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for the thumbnail", path);
        goto done;
    }
    if ((st = lpt_thumbnail_downscale(img, tw, th, pixels, err)) != LPT_OK) {
        lpt_error_prefix(err, "%s", path);
        goto done;
    }
    snprintf(dir, sizeof dir, "%s/thumbnails/%.2s", cache_dir, hash);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST && (st = lpt_make_dirs(dir, err)) != LPT_OK)
        goto done;
    snprintf(tmp, sizeof tmp, "%s/.%s.png.XXXXXX", dir, hash);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        st = lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot create a temporary file: %s", dir,
                           strerror(e));
        goto done;
    }
    tmp_made = true;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        st = lpt_error_set(err, LPT_ERR_IO, e, "%s: %s", tmp, strerror(e));
        goto done;
    }
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)tw;
    png.height = (png_uint_32)th;
    png.format = img->channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    png.flags = PNG_IMAGE_FLAG_FAST;
    int ok = png_image_write_to_stdio(&png, f, 0, pixels, tw * img->channels, NULL);
    if (!ok)
        st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: cannot write the thumbnail PNG: %s", path,
                           png.message);
    png_image_free(&png);
    int close_rc = fclose(f);
    int close_errno = errno;
    if (st == LPT_OK && close_rc != 0)
        st = lpt_error_set(err, LPT_ERR_IO, close_errno, "%s: cannot write the thumbnail: %s", path,
                           strerror(close_errno));
    if (st == LPT_OK && rename(tmp, path) != 0) {
        int e = errno;
        st = lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot rename the thumbnail into place: %s",
                           path, strerror(e));
    }
    if (st == LPT_OK)
        tmp_made = false;
done:
    if (tmp_made)
        unlink(tmp);
    free(pixels);
    return st;
}

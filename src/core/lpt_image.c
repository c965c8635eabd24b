/* lpt_image.c: the image API of lpt_image.h: reading files, recognising formats by their
 * magic bytes and handing the bytes to the format's decoder (lpt_image_<format>.c).
 *
 * A decode reads the whole file into memory (bounded by LPT_IMAGE_MAX_FILE_BYTES) and
 * decodes from there. A probe reads the first PROBE_PREFIX bytes, which hold the headers of
 * nearly every file; only when the headers do not parse from that prefix (a JPEG with large
 * metadata segments before its frame header) does it read the whole file and try again.
 */
#include "lpt_image.h"
#include "lpt_image_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBE_PREFIX ((size_t)64 * 1024)

LptImageFormat lpt_image_sniff(const void *data, size_t size)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const uint8_t *p = data;
    if (!p)
        return LPT_IMAGE_FORMAT_UNKNOWN;
    if (size >= 8 && memcmp(p, png_magic, 8) == 0)
        return LPT_IMAGE_FORMAT_PNG;
    if (size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return LPT_IMAGE_FORMAT_JPEG;
    if (size >= 2 && p[0] == 'B' && p[1] == 'M')
        return LPT_IMAGE_FORMAT_BMP;
    if (size >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7' &&
        (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || p[2] == '\r' || p[2] == '#'))
        return LPT_IMAGE_FORMAT_PNM;
    return LPT_IMAGE_FORMAT_UNKNOWN;
}

const char *lpt_image_format_name(LptImageFormat format)
{
    switch (format) {
    case LPT_IMAGE_FORMAT_PNG:
        return "PNG";
    case LPT_IMAGE_FORMAT_JPEG:
        return "JPEG";
    case LPT_IMAGE_FORMAT_BMP:
        return "BMP";
    case LPT_IMAGE_FORMAT_PNM:
        return "PNM";
    case LPT_IMAGE_FORMAT_UNKNOWN:
        break;
    }
    return "unknown";
}

LptStatus lpt_image_check_size(const char *name, int64_t width, int64_t height, LptError *err)
{
    if (width <= 0 || height <= 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: bad image size %lld x %lld", name,
                             (long long)width, (long long)height);
    if (width > LPT_IMAGE_MAX_SIDE || height > LPT_IMAGE_MAX_SIDE ||
        width * height > LPT_IMAGE_MAX_PIXELS)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: image of %lld x %lld pixels is beyond the limit (%d pixels a "
                             "side, %lld in all); refused as a possible decompression bomb",
                             name, (long long)width, (long long)height, LPT_IMAGE_MAX_SIDE,
                             (long long)LPT_IMAGE_MAX_PIXELS);
    return LPT_OK;
}

LptStatus lpt_image_alloc(LptImage *out, const char *name, int width, int height, int channels,
                          LptError *err)
{
    LptStatus st = lpt_image_check_size(name, width, height, err);
    if (st != LPT_OK)
        return st;
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels;
    out->pixels = malloc(bytes);
    if (!out->pixels)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %d x %d x %d pixels",
                             name, width, height, channels);
    out->width = width;
    out->height = height;
    out->channels = channels;
    return LPT_OK;
}

void lpt_image_release(LptImage *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* Formats that users may meet but that are not decoded here, named in the error. */
static const char *other_format_name(const uint8_t *p, size_t size)
{
    if (size >= 4 && memcmp(p, "GIF8", 4) == 0)
        return "GIF";
    if (size >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return "TIFF";
    if (size >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "WebP";
    if (size >= 12 && memcmp(p + 4, "ftyp", 4) == 0)
        return "HEIF/AVIF";
    return NULL;
}

/* Decodes or probes (header_only) bytes in memory; *format gets what the magic bytes say. */
static LptStatus read_any(const uint8_t *data, size_t size, const char *name, bool header_only,
                          LptImage *out, LptImageFormat *format, LptError *err)
{
    memset(out, 0, sizeof *out);
    *format = LPT_IMAGE_FORMAT_UNKNOWN;
    if (!data || size == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: empty file", name);
    *format = lpt_image_sniff(data, size);
    switch (*format) {
    case LPT_IMAGE_FORMAT_PNG:
        return lpt_image_png_read(data, size, name, header_only, out, err);
    case LPT_IMAGE_FORMAT_JPEG:
        return lpt_image_jpeg_read(data, size, name, header_only, out, err);
    case LPT_IMAGE_FORMAT_BMP:
        return lpt_image_bmp_read(data, size, name, header_only, out, err);
    case LPT_IMAGE_FORMAT_PNM:
        return lpt_image_pnm_read(data, size, name, header_only, out, err);
    case LPT_IMAGE_FORMAT_UNKNOWN:
        break;
    }
    const char *other = other_format_name(data, size);
    if (other)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "%s: %s images are not supported (use PNG, JPEG, BMP or PNM)", name,
                             other);
    return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: not a JPEG/PNG/BMP/PNM file", name);
}

/* Reads up to `limit` bytes of the regular file at `path` into a malloc'ed *data (*size
 * bytes); *file_size gets the whole file's size. */
static LptStatus read_file(const char *path, size_t limit, uint8_t **data, size_t *size,
                           size_t *file_size, LptError *err)
{
    LptStatus st = LPT_OK;
    struct stat sb;
    size_t want = 0, got = 0;
    *data = NULL;
    *size = 0;
    *file_size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    if (fstat(fd, &sb) != 0) {
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = lpt_error_set(err, LPT_ERR_IO, EISDIR, "%s: is a directory, not an image file", path);
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: not a regular file", path);
        goto done;
    }
    if (sb.st_size == 0) {
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: empty file", path);
        goto done;
    }
    if ((int64_t)sb.st_size > LPT_IMAGE_MAX_FILE_BYTES) {
        st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                           "%s: file of %lld bytes is larger than the %lld bytes an image may "
                           "have",
                           path, (long long)sb.st_size, (long long)LPT_IMAGE_MAX_FILE_BYTES);
        goto done;
    }
    *file_size = (size_t)sb.st_size;
    want = *file_size < limit ? *file_size : limit;
    *data = malloc(want);
    if (!*data) {
        st =
            lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %zu bytes", path, want);
        goto done;
    }
    while (got < want) {
        ssize_t n = read(fd, *data + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st =
                lpt_error_set(err, LPT_ERR_IO, errno, "%s: read failed: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break; /* the file shrank since fstat: decode what is there */
        got += (size_t)n;
    }
    *size = got;
done:
    if (fd >= 0)
        close(fd);
    if (st != LPT_OK) {
        free(*data);
        *data = NULL;
        *size = 0;
    }
    return st;
}

LptStatus lpt_image_decode_memory(const void *data, size_t size, const char *name, LptImage *out,
                                  LptError *err)
{
    LptImageFormat format;
    if (!out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_image_decode_memory: out is NULL");
    return read_any(data, size, name ? name : "(image in memory)", false, out, &format, err);
}

LptStatus lpt_image_decode_file(const char *path, LptImage *out, LptError *err)
{
    uint8_t *data = NULL;
    size_t size = 0, file_size = 0;
    LptImageFormat format;
    if (!out || !path)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "lpt_image_decode_file: path or out is NULL");
    memset(out, 0, sizeof *out);
    LptStatus st = read_file(path, SIZE_MAX, &data, &size, &file_size, err);
    if (st == LPT_OK)
        st = read_any(data, size, path, false, out, &format, err);
    free(data);
    return st;
}

/* Copies a probe's results to the outputs the caller asked for. */
static void probe_results(const LptImage *img, LptImageFormat fmt, int *width, int *height,
                          int *channels, LptImageFormat *format)
{
    if (width)
        *width = img->width;
    if (height)
        *height = img->height;
    if (channels)
        *channels = img->channels;
    if (format)
        *format = fmt;
}

LptStatus lpt_image_probe_memory(const void *data, size_t size, const char *name, int *width,
                                 int *height, int *channels, LptImageFormat *format, LptError *err)
{
    LptImage img;
    LptImageFormat fmt;
    LptStatus st = read_any(data, size, name ? name : "(image in memory)", true, &img, &fmt, err);
    probe_results(&img, fmt, width, height, channels, format);
    return st;
}

LptStatus lpt_image_probe_file(const char *path, int *width, int *height, int *channels,
                               LptImageFormat *format, LptError *err)
{
    uint8_t *data = NULL;
    size_t size = 0, file_size = 0;
    LptImage img = {0};
    LptImageFormat fmt = LPT_IMAGE_FORMAT_UNKNOWN;
    LptStatus st = LPT_ERR_INVALID_ARGUMENT;
    if (!path) {
        lpt_error_set(err, st, 0, "lpt_image_probe_file: path is NULL");
        goto done;
    }
    st = read_file(path, PROBE_PREFIX, &data, &size, &file_size, err);
    if (st != LPT_OK)
        goto done;
    st = read_any(data, size, path, true, &img, &fmt, err);
    if (st != LPT_OK && size < file_size) {
        /* the headers may reach beyond the prefix: the whole file decides */
        lpt_error_clear(err);
        free(data);
        st = read_file(path, SIZE_MAX, &data, &size, &file_size, err);
        if (st == LPT_OK)
            st = read_any(data, size, path, true, &img, &fmt, err);
    }
done:
    free(data);
    probe_results(&img, fmt, width, height, channels, format);
    return st;
}

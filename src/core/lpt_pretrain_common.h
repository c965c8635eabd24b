/* lpt_pretrain_common.h: what `lpt pretrain` (lpt_pretrain.h) and `lpt pretrain-clip`
 * (lpt_pretrain_clip.h) share: the dataset directory they read and its loaders, the per-step
 * learning rate, the epoch loop (steps, evaluation, progress, cancel), AdamW over the trained
 * spans, top-1 counting, zeroed device state, a clock, and the names and shapes of the weight
 * files they write (the rows of lpt_weights_impl.h's naming tables). Internal to liblpt.
 *
 * Dataset: DIR/train.txt and DIR/test.txt, one image a line, `relative/path label` (the
 * importer's list format: the label is the last whitespace-separated field; blank lines and
 * '#' lines are skipped; paths are relative to DIR or absolute). The classes are the train
 * list's labels in byte order ("0".."9" for MNIST); a test label that is not among them is an
 * error naming the file and line; fewer than two classes is an error.
 */
#ifndef LPT_PRETRAIN_COMMON_H
#define LPT_PRETRAIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_augment.h"
#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_loader.h"
#include "lpt_safetensors.h"
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

/* How a command feeds its images to the model: batches of `batch`, inputs size x size
 * normalised with mean / std, `workers` decoding threads (0: as lpt_loader.h decides);
 * training batches are drawn by the instance sampler and augmented, both from `seed`. */
typedef struct LptPretrainFeed {
    int batch, size, workers;
    uint64_t seed;
    const float *mean, *std;         /* [3] */
    const LptAugmentParams *augment; /* training only (NULL: lpt_augment_params_init's) */
} LptPretrainFeed;

/* A loader over list `l` of K classes: training (`train`) or one evaluation pass in list
 * order. NULL with the error. */
LptLoader *lpt_pretrain_loader_new(LptBackend *be, const LptPretrainList *l, int K, bool train,
                                   const LptPretrainFeed *feed, LptError *err);

/* How many of the n rows of logits[n, K] are largest (the first of equals) at their label. */
int64_t lpt_pretrain_top1_hits(const float *logits, int n, int K, const int32_t *labels);

/* One trained span of tensors (lpt_vit_backbone_span and the like): parameters, gradients and
 * AdamW's moments. */
typedef struct LptPretrainSpan {
    LptTensor p, g, m, v;
} LptPretrainSpan;

/* An arena named `name` holding the moments m and v of spans[n] (n <= 4), all zero; NULL with
 * the error. */
LptArena *lpt_pretrain_moments(LptBackend *be, const char *name, LptPretrainSpan *spans, int n,
                               LptError *err);

/* One AdamW step (1-based `step`, decoupled weight decay wd) on each of spans[n]. */
LptStatus lpt_pretrain_adamw(LptBackend *be, LptPretrainSpan *spans, int n, float lr, float beta1,
                             float beta2, float eps, float wd, int step, LptError *err);

/* What the epoch loop reports after every step and once more at the end of each epoch: the
 * fields both commands' progress structs share. */
typedef struct LptPretrainTick {
    int epoch, epochs;        /* 0-based epoch of `epochs` */
    int64_t step, steps;      /* steps trained in this epoch (1..steps; 0 before the first) */
    double loss;              /* mean training loss of the epoch so far */
    double lr;                /* the last step's learning rate */
    double images_per_second; /* training images of the epoch so far per second */
    double elapsed;           /* seconds since the run started */
    bool epoch_done;          /* the epoch's last call, after its evaluation */
    double accuracy;          /* with epoch_done: the evaluation's top-1; else -1 */
} LptPretrainTick;

/* The epochs of a run: each batch of the training loader is one step at
 * lpt_pretrain_step_lr's rate (the warm-up and the cosine counted in steps), the evaluation
 * follows each epoch, and every step and epoch is reported. */
typedef struct LptPretrainLoop {
    const char *what; /* "pretrain", "pretrain-clip": starts the messages */
    LptLoader *train;
    int epochs;
    double lr, min_lr, warmup_epochs;
    int min_images; /* a batch part with fewer images is skipped (its rate still advances) */
    double t0;      /* when the run started (lpt_pretrain_now) */
    void *run;      /* the callbacks' first argument */
    /* Trains on one part at rate lr (global: the 0-based step of the run); adds the part's
     * summed loss to *loss_sum. */
    LptStatus (*step)(void *run, const LptLoaderPart *part, double lr, int64_t global,
                      double *loss_sum, LptError *err);
    /* The top-1 accuracy after an epoch. */
    LptStatus (*evaluate)(void *run, double *accuracy, LptError *err);
    /* Passes a tick on to the command's progress callback; false cancels the run. */
    bool (*report)(void *run, const LptPretrainTick *tick);
} LptPretrainLoop;

/* What the loop measured over the epochs it finished. */
typedef struct LptPretrainEpochs {
    int epochs;
    double first_epoch_loss, last_epoch_loss; /* mean training losses of epoch 0 and the last */
    double accuracy;                          /* the last evaluation's */
} LptPretrainEpochs;

/* Runs the loop's epochs; LPT_ERR_CANCELLED ("<what>: cancelled at epoch N") when a report
 * says stop. *done holds the finished epochs' figures, also on failure. */
LptStatus lpt_pretrain_epochs(const LptPretrainLoop *loop, LptPretrainEpochs *done, LptError *err);

/* What is wrong with a schedule (epochs in [1, 100000], lr > 0, min_lr in [0, lr],
 * warmup_epochs and weight_decay >= 0); NULL when nothing is. */
const char *lpt_pretrain_schedule_problem(int epochs, double lr, double min_lr,
                                          double warmup_epochs, double weight_decay);

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

/* Adds the metadata pairs fixed[0] = fixed[1], ... and then meta's (NULL values as ""; meta may
 * be NULL), each list ending at a NULL key, to w and writes it to path (atomically). */
LptStatus lpt_pretrain_write_file(LptSafetensorsWriter *w, const char *const *fixed,
                                  const char *const *meta, const char *path, LptError *err);

#endif

/* lpt_pretrain.h: training a small ViT from scratch on a labelled image list (`lpt pretrain`),
 * to make the demo backbones: every weight trains (lpt_vit.h's LPT_VIT_FULL), with a cosine
 * head on the class token's feature and cross-entropy on s cos (lpt_op_agcl with no margin,
 * noise or focusing), AdamW with a linear warm-up and a cosine decay stepped per batch, light
 * augmentation on the device (random-resized crop, no flip by default: digits are not
 * mirror-symmetric), the test list evaluated after every epoch. lpt_pretrain_write then saves
 * the backbone without its head in timm's naming (lpt_weights.h reads it back).
 *
 * Data: a dataset directory as `lpt dataset build` writes it: DIR/train.txt and DIR/test.txt,
 * one image a line, `relative/path label` (the importer's list format: the label is the last
 * whitespace-separated field; blank lines and '#' lines are skipped; paths are relative to
 * DIR or absolute). The classes are the train list's labels in byte order ("0".."9" for
 * MNIST); a test label that is not among them is an error naming the file and line.
 *
 * Determinism: batches and crops are a function of (seed, epoch, step) (lpt_loader.h), the
 * initial weights of the seed (lpt_vit_init_backbone, lpt_vit_init_trainable), so a run on
 * the CPU backend with the same threads repeats itself.
 *
 * Ownership and threads: lpt_pretrain_run borrows the backend (which must outlive the model
 * it returns) and returns a model the caller frees with lpt_vit_free. It runs on the thread
 * that owns the backend, the progress callback on that thread too.
 */
#ifndef LPT_PRETRAIN_H
#define LPT_PRETRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_augment.h"
#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_vit.h"

typedef enum LptPretrainPreset {
    /* The demo backbone: 28 x 28 input (MNIST's own size), patch 7 (16 patches), depth 6,
     * width 128, 2 heads (the default lpt_weights.h assumes for width 128), MLP 256, erf
     * GELU, eps 1e-6: 0.81 M parameters. 8 epochs of batch 128, lr 2e-3. */
    LPT_PRETRAIN_SMALL = 0,
    /* A quick check: 28 x 28, patch 7, depth 2, width 64, 1 head, MLP 128 (0.07 M). */
    LPT_PRETRAIN_TINY = 1,
} LptPretrainPreset;

/* "small", "tiny"; "?" out of range. */
const char *lpt_pretrain_preset_name(LptPretrainPreset preset);
/* false when the name is none of them. */
bool lpt_pretrain_preset_parse(const char *name, LptPretrainPreset *preset);

typedef struct LptPretrainProgress {
    int epoch, epochs;        /* 0-based epoch of `epochs` */
    int64_t step, steps;      /* steps done in this epoch (1..steps) */
    double loss;              /* mean training loss of the epoch so far */
    double lr;                /* the last step's learning rate */
    double images_per_second; /* training images of the epoch so far per second */
    double elapsed;           /* seconds since the run started */
    bool epoch_done;          /* the epoch's last call, after its evaluation */
    double test_accuracy;     /* with epoch_done: top-1 on the test list; else -1 */
} LptPretrainProgress;

/* Called after every step and once more at the end of each epoch (epoch_done). Return false
 * to cancel: the run then fails with LPT_ERR_CANCELLED. */
typedef bool (*LptPretrainProgressFn)(const LptPretrainProgress *progress, void *user);

typedef struct LptPretrainOptions {
    const char *data;     /* the dataset directory (train.txt, test.txt) */
    LptVitConfig vit;     /* the backbone: no prompts, adapters or pool; classes and
                           * train_backbone are set by the run */
    int epochs;           /* >= 1 */
    int batch;            /* B, training and evaluation */
    double lr;            /* AdamW's peak learning rate */
    double min_lr;        /* where the cosine ends */
    double warmup_epochs; /* linear warm-up from 0, in epochs (may be fractional) */
    double weight_decay;  /* decoupled, on every tensor */
    float beta1, beta2, adam_eps;
    float logit_scale; /* s of the loss's s cos */
    float label_smoothing;
    uint64_t seed;
    LptAugmentParams augment;
    float mean[3], std[3]; /* input normalisation: 0.5 (what lpt_weights.h gives timm files) */
    int64_t max_train, max_test; /* > 0: only the first N lines of each list */
    int workers;                 /* decoding threads of each loader; 0 = as lpt_loader.h decides */
    LptPretrainProgressFn progress; /* may be NULL */
    void *progress_user;
} LptPretrainOptions;

/* The preset's backbone and schedule; AdamW betas 0.9 / 0.999, eps 1e-8, weight decay 0.05,
 * min_lr 1e-5, one warm-up epoch, s = 16, no smoothing, seed 0, crop scale 0.6-1 with ratio
 * 3/4-4/3 and no flip, mean = std = 0.5; data NULL. */
void lpt_pretrain_options_init(LptPretrainOptions *opt, LptPretrainPreset preset);

typedef struct LptPretrainResult {
    int classes;
    int64_t train_images, test_images;
    size_t backbone_params; /* what lpt_pretrain_write saves */
    size_t head_params;
    int epochs;              /* epochs run */
    double first_epoch_loss; /* mean training loss of epoch 0 */
    double last_epoch_loss;  /* of the last epoch */
    double test_accuracy;    /* top-1 on the test list after the last epoch */
    double seconds;          /* the whole run, evaluations included */
} LptPretrainResult;

/* Trains as the header comment says; returns the model (backbone and head) or NULL with the
 * error. result may be NULL. */
LptVit *lpt_pretrain_run(LptBackend *be, const LptPretrainOptions *opt, LptPretrainResult *result,
                         LptError *err);

/* Writes the backbone of `vit` (not its head, prompts or adapters) to `path` as F32 in timm's
 * VisionTransformer naming (patch_embed.proj, cls_token [1, 1, C], pos_embed [1, T, C],
 * blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm), atomically, with
 * the metadata pairs meta[0] = meta[1], meta[2] = meta[3], ... up to a NULL key (meta may be
 * NULL) plus "format" = "lpt-pretrain" and the backbone's settings ("depth", "width",
 * "heads", "mlp", "patch", "image", "eps", "act"). A CLIP-style tower is refused (timm's
 * naming has no place for it). */
LptStatus lpt_pretrain_write(LptVit *vit, const char *path, const char *const *meta, LptError *err);

#endif

/* lpt_pretrain_clip.h: training a small CLIP-style pair of towers from scratch (`lpt
 * pretrain-clip`), to make the vision-language demo backbone.
 *
 * The pair: the image tower is lpt_vit.h's ViT in CLIP form (clip_style: no patch bias,
 * ln_pre, QuickGELU, ln_post, projection to D), the text tower lpt_clip_text.h's (token and
 * position embeddings, causal blocks -- the same block code --, pooling at <|endoftext|>,
 * projection to D), every weight of both trained (LPT_VIT_FULL and a trainable text tower),
 * plus CLIP's learnable temperature: logits_ij = s cos(image_i, text_j), s = exp(t), t from
 * ln(1 / 0.07) and clamped to [0, ln max_logit_scale] after every step.
 *
 * Data: the dataset directory of lpt_pretrain_common.h. Each training image gets a caption of
 * its class, drawn from (seed, step, slot) among the class's captions
 * (lpt_pretrain_clip_captions): every template of the list in lpt_pretrain_clip.c filled with
 * each of the class's names -- the label with '_' read as a space and, for the labels "0" to
 * "9", also the digit's English word ("a photo of the digit seven.", "a handwritten 7.").
 * Captions are tokenized by CLIP's BPE tokenizer (lpt_tokenizer.h, OpenAI's vocabulary file);
 * one longer than the text context is an error (cut, it could lose its class name).
 *
 * Loss: CLIP's symmetric InfoNCE over the batch, (CE(logits, diag) + CE(logits^T, diag)) / 2,
 * each a mean over the B images (lpt_clip_contrastive_loss, on the host in double). A batch
 * holds each caption several times; the text tower runs once per distinct caption and the
 * gradients of its repeated rows add up (exact).
 *
 * Schedule: AdamW with a linear warm-up and a cosine stepped per batch
 * (lpt_pretrain_common.h), decoupled weight decay on every tower weight, none on t;
 * augmentation: lpt_augment.h's random-resized crop (no flip by default: digits are not
 * mirror-symmetric).
 *
 * Evaluation after every epoch: zero-shot top-1 on the test list, class k's text embedding
 * being the normalised mean of its captions' unit features (CLIP's prompt ensemble over the
 * training templates; lpt_pretrain_clip_zero_shot).
 *
 * Writing (lpt_pretrain_clip_write): both towers in OpenAI CLIP's naming, which lpt_weights.h
 * detects as an OpenCLIP / OpenAI CLIP pair and lpt_clip_text_load reads: visual.{conv1,
 * class_embedding, positional_embedding, ln_pre, transformer.resblocks.N.*, ln_post, proj},
 * token_embedding.weight, positional_embedding, transformer.resblocks.N.{ln_1, attn.in_proj_*,
 * attn.out_proj.*, ln_2, mlp.c_fc.*, mlp.c_proj.*}, ln_final, text_projection [W, D],
 * logit_scale (t, a scalar); F16 (or F32), atomically. Metadata: "format" = "lpt-pretrain-clip",
 * text_heads, text_act, text_eps (which lpt_clip_text_load reads: a text width that is not a
 * multiple of 64 has no default head count), vision_heads, and the caller's pairs. Without a
 * config file lpt_weights reads the image tower with QuickGELU, eps 1e-5, heads width / 64 and
 * CLIP's mean and std: the defaults here match, so the file needs none.
 *
 * Determinism: batches, crops and captions are functions of (seed, epoch, step), the initial
 * weights of the seed, so a run on the CPU backend with the same threads repeats itself.
 *
 * Ownership and threads: the run borrows the backend (which must outlive the pair it makes);
 * the pair owns its towers (lpt_clip_pair_free). Everything runs on the thread that owns the
 * backend, the progress callback too.
 */
#ifndef LPT_PRETRAIN_CLIP_H
#define LPT_PRETRAIN_CLIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_augment.h"
#include "lpt_backend.h"
#include "lpt_clip_text.h"
#include "lpt_error.h"
#include "lpt_tokenizer.h"
#include "lpt_vit.h"

/* An image tower and a text tower with a shared embedding width D, and the temperature. */
typedef struct LptClipPair {
    LptVit *image;
    LptClipText *text;
    float log_scale; /* t: logits = exp(t) cos */
} LptClipPair;

/* Frees both towers (NULL members are fine) and zeroes the pair. */
void lpt_clip_pair_free(LptClipPair *pair);

/* Loads a pair from a CLIP safetensors file that lpt_weights.h reads (any of its CLIP
 * namings) with its text tower (lpt_clip_text_load_from) and its logit_scale (t; ln 100 when
 * absent). The file must hold both towers with the same D. */
LptStatus lpt_clip_pair_load(LptBackend *be, const char *path, LptClipPair *pair, LptError *err);

typedef struct LptPretrainClipProgress {
    int epoch, epochs;        /* 0-based epoch of `epochs` */
    int64_t step, steps;      /* steps done in this epoch (1..steps) */
    double loss;              /* mean training loss of the epoch so far */
    double lr;                /* the last step's learning rate */
    double logit_scale;       /* s = exp(t) after the last step */
    double images_per_second; /* training images of the epoch so far per second */
    double elapsed;           /* seconds since the run started */
    bool epoch_done;          /* the epoch's last call, after its evaluation */
    double zero_shot;         /* with epoch_done: zero-shot top-1 on the test list; else -1 */
} LptPretrainClipProgress;

/* Called after every step and once more at the end of each epoch (epoch_done). Return false
 * to cancel: the run then fails with LPT_ERR_CANCELLED. */
typedef bool (*LptPretrainClipProgressFn)(const LptPretrainClipProgress *progress, void *user);

typedef struct LptPretrainClipOptions {
    const char *data;       /* the dataset directory (train.txt, test.txt) */
    const char *vocab;      /* OpenAI's bpe_simple_vocab_16e6.txt (or .gz) */
    LptVitConfig image;     /* clip_style, no prompts, adapters, pool or head; QuickGELU, eps
                             * 1e-5 and lpt_weights_default_heads(width) heads, as lpt_weights
                             * reads the file back */
    LptClipTextConfig text; /* vocab comes from the tokenizer; proj_dim = image.proj_dim */
    int epochs;             /* >= 1 */
    int batch;              /* B, training and evaluation, >= 2 */
    double lr;              /* AdamW's peak learning rate */
    double min_lr;          /* where the cosine ends */
    double warmup_epochs;   /* linear warm-up from 0, in epochs (may be fractional) */
    double weight_decay;    /* decoupled, on every tower weight */
    float beta1, beta2, adam_eps;
    float logit_scale;     /* s at the start (1 / 0.07) */
    float max_logit_scale; /* the clamp of s (100) */
    uint64_t seed;
    LptAugmentParams augment;
    float mean[3], std[3]; /* input normalisation: CLIP's, which lpt_weights gives CLIP files */
    int64_t max_train, max_test; /* > 0: only the first N lines of each list */
    int workers;                 /* decoding threads of each loader; 0 = as lpt_loader.h decides */
    LptPretrainClipProgressFn progress; /* may be NULL */
    void *progress_user;
} LptPretrainClipOptions;

/* The demo backbone's recipe: image 28 x 28, patch 7, depth 4, width 128, 2 heads, MLP 512;
 * text context 32, width 32, 1 head, 2 layers, MLP 128; D 64; QuickGELU and eps 1e-5 in both;
 * 5 epochs of batch 128, lr 1e-3 after one epoch of warm-up, cosine to 1e-5, weight decay
 * 0.05, AdamW betas 0.9 / 0.98, eps 1e-6 (CLIP's), s from 1 / 0.07 up to 100, seed 0, crop
 * scale 0.6-1 with ratio 3/4-4/3 and no flip, CLIP's mean and std; data and vocab NULL. */
void lpt_pretrain_clip_options_init(LptPretrainClipOptions *opt);

typedef struct LptPretrainClipResult {
    int classes;
    int captions; /* captions over all classes */
    int64_t train_images, test_images;
    size_t image_params, text_params;
    int epochs;              /* epochs run */
    double first_epoch_loss; /* mean training loss of epoch 0 */
    double last_epoch_loss;  /* of the last epoch */
    double zero_shot;        /* zero-shot top-1 on the test list after the last epoch */
    double logit_scale;      /* s at the end */
    double seconds;          /* the whole run, evaluations included */
} LptPretrainClipResult;

/* Trains as the header comment says; on success *pair holds the towers (the caller frees them
 * with lpt_clip_pair_free). result may be NULL. */
LptStatus lpt_pretrain_clip_run(LptBackend *be, const LptPretrainClipOptions *opt,
                                LptClipPair *pair, LptPretrainClipResult *result, LptError *err);

/* Zero-shot top-1 of `pair` on the test list of dataset directory `data` (its first max_test
 * images when > 0; the classes are its train list's): the class embeddings from the captions
 * (tokenized by tok), images evaluated B at a time with mean/std. */
LptStatus lpt_pretrain_clip_zero_shot(LptBackend *be, LptClipPair *pair, const LptTokenizer *tok,
                                      const char *data, int64_t max_test, int batch,
                                      const float mean[3], const float std[3], double *accuracy,
                                      LptError *err);

/* Writes the pair to `path` as the header comment says: F16 when f16, else F32; meta[0] =
 * meta[1], ... up to a NULL key (meta may be NULL) added to the metadata. */
LptStatus lpt_pretrain_clip_write(LptClipPair *pair, const char *path, bool f16,
                                  const char *const *meta, LptError *err);

/* The captions of the class labelled `label` (see the header comment): *captions receives a
 * malloc'd array of malloc'd strings (free with lpt_pretrain_clip_captions_free). Returns the
 * count, or -1 when out of memory. */
int lpt_pretrain_clip_captions(const char *label, char ***captions);
void lpt_pretrain_clip_captions_free(char **captions, int count);

/* CLIP's loss on the host: image features img[n, d] and text features txt[n, d] (row i the
 * caption of image i), logits = scale cos(img_i, txt_j) (rows normalised with max(||.||,
 * 1e-12)); returns (CE(logits, diag) + CE(logits^T, diag)) / 2 (means over n) and the
 * gradients d_img[n, d], d_txt[n, d], *d_scale = dLoss/dscale (any may be NULL). */
double lpt_clip_contrastive_loss(const float *img, const float *txt, int n, int d, double scale,
                                 float *d_img, float *d_txt, double *d_scale);

#endif

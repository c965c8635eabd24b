/* lpt_zero_shot.h: the zero-shot accuracy of a CLIP backbone on a project's classes before any
 * training (product.md "Beyond the peers": the VL expert's class texts as a lever, with the
 * zero-shot accuracy per class).
 *
 * What it computes (OpenAI's zero-shot recipe, method.md section 1): the class text
 * embeddings exactly as the VL expert's head starts from them (lpt_vl_head_init: the text
 * tower of the backbone file, the vocabulary beside it, each class's description or else its
 * name, the templates given), each image's feature from the frozen image tower (the plain
 * ViT, no prompts or adapters) after the eval transform the trained experts are evaluated
 * with (lpt_loader's EVAL mode: resize, centre crop, the backbone's mean/std); the image's
 * class is the argmax of the cosines (lpt_clip_zero_shot_logits), its confidences
 * softmax(100 cos) as CLIP's. The metrics are lpt_eval.h's: recall per class, overall,
 * balanced.
 *
 * The vocabulary: lpt_zero_shot_find_tokenizer looks beside the backbone for what CLIP
 * downloads ship: bpe_simple_vocab_16e6.txt.gz or bpe_simple_vocab_16e6.txt (OpenAI's), or
 * vocab.json with merges.txt (Hugging Face's).
 *
 * Errors name the file at fault: a backbone without a text tower, an image tower whose
 * feature width differs from the text tower's, no vocabulary, an image that cannot be decoded
 * (the loader's message). LPT_ERR_CANCELLED when cancelled.
 *
 * Threads: everything runs on the calling thread (which owns the backend it makes); the
 * cancel flag may be set from any thread; the progress callback runs on the calling thread.
 */
#ifndef LPT_ZERO_SHOT_H
#define LPT_ZERO_SHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"

/* Called after each batch; return false to cancel. */
typedef bool (*LptZeroShotProgressFn)(int64_t done, int64_t total, void *user);

typedef struct LptZeroShotOptions {
    const char *backbone;            /* CLIP safetensors with both towers (lpt_weights.h namings) */
    int num_classes;                 /* K >= 1 */
    const char *const *class_names;  /* [K] */
    const char *const *descriptions; /* [K] ("" or NULL entries: the name), or NULL */
    const char *const *templates;    /* [n_templates], each with "{}"; NULL: the default */
    int n_templates;
    int64_t count;            /* images (>= 0) */
    const char *const *paths; /* [count] image files */
    const int32_t *labels;    /* [count] in [0, K) */
    int batch_size;           /* images per forward; 0: 32 */
    LptBackendOptions backend;
    LptZeroShotProgressFn progress; /* may be NULL */
    void *user;
    atomic_bool *cancel; /* may be NULL */
} LptZeroShotOptions;

/* Everything zero, batch 0, the CPU backend's defaults. */
void lpt_zero_shot_options_init(LptZeroShotOptions *opt);

typedef struct LptZeroShotResult {
    int num_classes;
    int64_t images, correct;
    double overall, balanced; /* NaN with no image */
    int64_t *support;         /* [K] images of each class */
    double *recall;           /* [K] NaN for a class without images */
    int32_t *predicted;       /* [count] each image's zero-shot class */
    float *cosine;            /* [count] the image's cosine with that class's text */
} LptZeroShotResult;

/* Runs (see the header comment); *out is freed with lpt_zero_shot_result_free. */
LptStatus lpt_zero_shot_run(const LptZeroShotOptions *opt, LptZeroShotResult **out, LptError *err);
void lpt_zero_shot_result_free(LptZeroShotResult *result);

/* The vocabulary file beside a backbone (malloc'd path, free()), or NULL when there is none. */
char *lpt_zero_shot_find_tokenizer(const char *backbone);

#endif

/* lpt_model.h: the deployable LPT++ model in memory (issue 8): everything needed to predict
 * without the project: both experts (frozen backbone, prompts, pool, keys, adapters, head,
 * the mode they run in, their preprocessing), the MoE scorer, the classes and the deployment
 * prior. Made from a finished run (lpt_export.h) or from a bundle file (lpt_bundle.h); the
 * public face is lpt.h (lpt_model_open = lpt_bundle_read).
 *
 * Prediction reuses the app's evaluation path piece by piece, so the numbers are the app's:
 * each expert's input is the loader's eval transform (lpt_augment_eval_box, cut to the region
 * it reads, one lpt_op_image_transform_forward), the expert is lpt_vit_forward in its mode,
 * its confidences lpt_scorer_expert_probs of its cosine logits, and the fusion lpt_scorer_fuse;
 * images go through each expert in chunks of the batch evaluation used (LptModelExpert.batch)
 * and through the scorer in chunks of its max_batch. Then lpt_prior_apply.
 *
 * Ownership and threads: the model owns its backend, models, scorer and strings. The lock
 * serialises lpt_model_run (the backend is single-threaded); the fields are immutable after
 * lpt_model_ready.
 */
#ifndef LPT_MODEL_H
#define LPT_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lpt.h"
#include "lpt_backend.h"
#include "lpt_image.h"
#include "lpt_ops.h"
#include "lpt_scorer.h"
#include "lpt_store.h"
#include "lpt_tensor.h"
#include "lpt_vit.h"
#include "lpt_weights.h"

/* One expert of the model. */
typedef struct LptModelExpert {
    LptVit *vit;         /* NULL: the model has no such expert */
    LptWeights *weights; /* the referenced backbone file; NULL when embedded */
    LptVitMode mode;
    float mean[3], std[3];
    LptInterp interp;
    int batch;      /* images per forward */
    int best_epoch; /* of the checkpoint it came from (lineage; -1: none) */
    /* where the backbone came from: the file (as recorded at export, or where it was found
     * when opened), its SHA-256, its name in the project */
    char *backbone_path;
    char backbone_sha256[65];
    char *backbone_name;
    /* device scratch: images [batch, 3, S, S], boxes [batch, 5]; the cut-out pixels */
    LptArena *input_arena;
    LptTensor images, boxes;
    LptArena *pixel_arena;
} LptModelExpert;

struct LptModel {
    LptBackend *be;
    int classes;        /* K */
    char **class_names; /* [K] */
    float prob_scale;   /* p_e = softmax(prob_scale cos) (the run's loss.scale) */
    int top_k;          /* the run's eval.top_k: what the project records per image */
    LptModelExpert expert[LPT_STORE_NUM_EXPERTS]; /* by LptStoreExpert */
    int experts;                                  /* present, 1 or 2 */
    LptStoreExpert which[LPT_STORE_NUM_EXPERTS];  /* slot -> expert, in LptStoreExpert order */
    LptScorer *scorer;                            /* NULL: the mean of the experts */
    int scorer_epoch;                             /* lineage (-1: none) */
    float *prior_adjust;                          /* [K] or NULL */
    /* metadata (JSON text; NULL when absent): what a bundle records besides the tensors */
    char *prior_json, *run_config_json, *lineage_json, *classes_json, *model_json;
    char *path;              /* the bundle it was read from (NULL: made from a run) */
    char format_version[16]; /* of that bundle ("" otherwise) */
    pthread_mutex_t lock;
    bool lock_ok;
};

/* An empty model (no experts) that owns `be` from now on (not when it fails). */
LptModel *lpt_model_new(LptBackend *be, LptError *err);

/* Checks the parts (at least one expert, the heads' K, the scorer's experts and widths) and
 * makes the scratch; the model is usable afterwards. */
LptStatus lpt_model_ready(LptModel *m, LptError *err);

/* Everything a prediction of n images gives (host arrays, by slot = the model's expert order):
 * owned by the struct, freed by lpt_model_outputs_free. */
typedef struct LptModelOutputs {
    int64_t n;
    float *fused;                              /* [n, K] prior applied */
    float *fused_raw;                          /* [n, K] before the prior */
    float *weights;                            /* [n, E] */
    float *probs[LPT_STORE_NUM_EXPERTS];       /* [n, K] per slot */
    float *features[LPT_STORE_NUM_EXPERTS];    /* [n, C_e] per slot */
    int32_t *selection[LPT_STORE_NUM_EXPERTS]; /* [n, top_k] per slot, NULL: no phase 2 */
    int selection_k[LPT_STORE_NUM_EXPERTS];    /* pool_top_k of a phase-2 expert, else 0 */
} LptModelOutputs;

/* Predicts n decoded images (lpt_image.h; any size) into *out. */
LptStatus lpt_model_run(LptModel *m, const LptImage *images, int64_t n, LptModelOutputs *out,
                        LptError *err);
void lpt_model_outputs_free(LptModelOutputs *out);

/* The eval transform of n images as the first expert's input without its normalisation:
 * pixel / 255 after the resize and crop, [n, 3, S, S] floats into out (the input of the fused
 * ONNX graph, which normalises per expert inside). */
LptStatus lpt_model_input_01(LptModel *m, const LptImage *images, int64_t n, float *out,
                             LptError *err);

/* Images to predict together: a multiple of every expert's batch and of the scorer's, so that
 * the chunks are those one pass over the whole list would make (at least 256, at most 8192). */
int64_t lpt_model_group_size(const LptModel *m);

/* Mode names in metadata: "plain", "phase1", "phase2"; parse returns false for others. */
const char *lpt_model_mode_name(LptVitMode mode);
bool lpt_model_mode_parse(const char *text, LptVitMode *mode);

#endif

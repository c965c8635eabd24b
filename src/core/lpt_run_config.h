/* lpt_run_config.h: every setting of a training run (method.md, all sections), with the
 * method's defaults, read from and written to JSON (stored with the run in the project file).
 *
 * JSON layout: one object with sections; every key is optional on input (a missing key keeps
 * the value of the base config it is read onto), an unknown section or key, a wrong type or
 * a value out of range is an error naming it. Output always has every key, so the stored
 * config of a run says exactly what it ran with:
 *   { "seed": 0, "method": "lpt++", "experts": {"vision": true, "vl": true},
 *     "model":   { prompts, adapters, adapter_rank, adapter_scale, pool_size, pool_top_k,
 *                  vl_head_init },
 *     "train":   { batch_size, micro_batch, activation_memory_mb, lr, lr_reference_batch,
 *                  momentum, weight_decay, warmup_epochs, warmup_lr, phase1_epochs,
 *                  phase2_epochs, lambda_max, key_loss_weight, feature_dropout },
 *     "loss":    { scale, margin, noise, smoothing, cb_gamma_pos, cb_gamma_neg,
 *                  ib_gamma_pos, ib_gamma_neg },
 *     "augment": { scale_min, scale_max, ratio_min, ratio_max, flip_p },
 *     "scorer":  { hidden, lr, weight_decay, beta1, beta2, eps, epochs, batch_size, views,
 *                  patience, sampling, loss, input_feature, input_max, input_entropy,
 *                  input_margin },
 *     "eval":    { many_above, few_below, ece_bins, top_k, batch_size },
 *     "loader":  { workers, prefetch, cache_mb } }
 *
 * Methods: "lpt++" (both experts, adapters on, phases 1-3), "lpt" (the vision expert alone,
 * no adapters, phases 1-2), "linear_probe" (the vision expert's head alone on the frozen
 * backbone, cross entropy, instance sampling: one phase, numbered 1) and "full_finetune"
 * (every backbone weight of the vision expert and its head, the same loss, sampling and SGD
 * as the linear probe). lpt_run_config_init(cfg, method) gives that
 * method's defaults; when a JSON object names a method, the defaults of that method are the
 * base its other keys are read onto (so {"method": "lpt"} alone turns adapters off).
 *
 * The VL expert's head starts from the class text embeddings (model.vl_head_init "text",
 * method.md §1: lpt_vl_head.h) or from random unit rows ("random"). Feature dropout
 * (train.feature_dropout, method.md §6) is 0.1 for "lpt++" and "lpt", 0 for the baselines
 * (a linear probe and a full fine-tune as usually run).
 *
 * Ownership and threads: plain values, no global state.
 */
#ifndef LPT_RUN_CONFIG_H
#define LPT_RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_augment.h"
#include "lpt_error.h"

typedef enum LptMethod {
    LPT_METHOD_LPTPP = 0,         /* "lpt++" */
    LPT_METHOD_LPT = 1,           /* "lpt" */
    LPT_METHOD_LINEAR_PROBE = 2,  /* "linear_probe" */
    LPT_METHOD_FULL_FINETUNE = 3, /* "full_finetune" */
} LptMethod;

typedef enum LptScorerSampling {
    LPT_SCORER_CLASS_BALANCED = 0, /* "class_balanced" */
    LPT_SCORER_INSTANCE = 1,       /* "instance" */
} LptScorerSampling;

typedef enum LptHeadInit {
    LPT_HEAD_INIT_TEXT = 0,   /* "text": the class text embeddings of the CLIP text tower */
    LPT_HEAD_INIT_RANDOM = 1, /* "random": random unit rows, as the vision expert's */
} LptHeadInit;

typedef enum LptScorerLoss {
    LPT_SCORER_NLL = 0,  /* "nll": -log p_y of the fused confidence */
    LPT_SCORER_AGCL = 1, /* "agcl": A-GCL on the fused confidence (as cosines p_k) */
} LptScorerLoss;

typedef struct LptRunConfig {
    uint64_t seed; /* every random choice of the run (init, sampling, augmentation, noise) */
    LptMethod method;
    bool use_vision, use_vl; /* which experts the run trains */

    /* model (method.md §2-3) */
    int prompts;         /* P shared prompt tokens per layer (10) */
    bool adapters;       /* visual adapters (on for lpt++) */
    int adapter_rank;    /* R; 0 = 2^max(0, floor(log2(K / 24))) clamped to [4, 64] */
    float adapter_scale; /* init of s (1) */
    int pool_size;       /* M (20) */
    int pool_top_k;      /* entries averaged (2) */
    LptHeadInit vl_head_init; /* the VL expert's head init (text) */

    /* phases 1 and 2 (method.md §5-6) */
    int batch_size;              /* B per sampler batch (256); a multiple of 4 */
    int micro_batch;             /* images per forward; 0 = as many as fit the memory below */
    double activation_memory_mb; /* the activation memory a micro-batch may use (2048) */
    double lr;                   /* at lr_reference_batch (0.02 at 256), scaled linearly */
    int lr_reference_batch;
    double momentum;     /* 0.9 */
    double weight_decay; /* 0.01 */
    int warmup_epochs;   /* 1 */
    double warmup_lr;    /* 1e-6 */
    int phase1_epochs, phase2_epochs;
    double lambda_max;      /* lambda_e = lambda_max (E - e) / E (0.5) */
    double key_loss_weight; /* weight of each batch's key loss in phase 2 (1) */
    float feature_dropout;  /* drop probability on the feature before the head (0.1) */

    /* A-GCL (method.md §4) */
    float loss_scale, loss_margin, loss_noise, loss_smoothing; /* 20, 0.1, 0.5, 0.1 */
    float cb_gamma_pos, cb_gamma_neg;                          /* class-balanced batch: 0, 4 */
    float ib_gamma_pos, ib_gamma_neg;                          /* instance batch: 0.5, 8 */

    LptAugmentParams augment; /* random-resized crop + flip (method.md §6) */

    /* phase 3: the MoE scorer (method.md §7) */
    int scorer_hidden;                             /* 256 */
    double scorer_lr;                              /* AdamW 1e-3 */
    double scorer_weight_decay;                    /* 1e-4 */
    double scorer_beta1, scorer_beta2, scorer_eps; /* 0.9, 0.999, 1e-8 */
    int scorer_epochs;                             /* passes over the cached views */
    int scorer_batch_size;                         /* a multiple of 4 (256) */
    int scorer_views;    /* augmented views per training image in the cache */
    int scorer_patience; /* early stop after this many epochs without a better val */
    LptScorerSampling scorer_sampling;
    LptScorerLoss scorer_loss;
    bool input_feature, input_max, input_entropy, input_margin; /* the scorer's input parts */

    /* evaluation (method.md §8) */
    int64_t many_above, few_below; /* group thresholds on training counts (100, 20) */
    int ece_bins;                  /* 15 */
    int top_k;                     /* entries of each top-k list recorded per image (5) */
    int eval_batch_size;           /* images per evaluation forward (64) */

    /* data loading */
    int loader_workers;     /* 0 = automatic */
    int loader_prefetch;    /* steps prepared ahead (2) */
    double loader_cache_mb; /* decoded images kept (256) */
} LptRunConfig;

/* The defaults of `method` (method.md's values). */
void lpt_run_config_init(LptRunConfig *cfg, LptMethod method);

/* "lpt++", "lpt", "linear_probe", "full_finetune"; parse returns false for anything else. */
const char *lpt_method_name(LptMethod method);
bool lpt_method_parse(const char *text, LptMethod *method);

/* Checks ranges and combinations; the message names the first bad key ("train.batch_size"). */
LptStatus lpt_run_config_check(const LptRunConfig *cfg, LptError *err);

/* Reads `json` onto *cfg (see the header comment); on failure *cfg is unchanged. `source`
 * (may be NULL) names the text in messages (a file name). The result is checked. */
LptStatus lpt_run_config_parse(LptRunConfig *cfg, const char *json, const char *source,
                               LptError *err);

/* The whole config as JSON text (malloc'd, free()); NULL when out of memory. */
char *lpt_run_config_to_json(const LptRunConfig *cfg);

/* R for K classes when adapter_rank is 0, else adapter_rank; 0 when adapters are off. */
int lpt_run_config_adapter_rank(const LptRunConfig *cfg, int num_classes);

#endif

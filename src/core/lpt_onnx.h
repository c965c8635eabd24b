/* lpt_onnx.h: ONNX export of an LPT expert, and of the whole fused LPT++ model (product.md
 * workflow 7, issue 8), for runtimes such as ONNX Runtime: opset 17, IR version 8, written by
 * our own protobuf encoder (lpt_protobuf.h; field numbers of onnx.proto3 cited where they are
 * written).
 *
 * ONE EXPERT (lpt_onnx_export_expert):
 *
 * The file: input `images` float [N, 3, S, S] (NCHW, RGB, after the documented preprocessing:
 * resize to R x R with R = floor(S 256 / 224), centre crop S x S, then
 * (pixel / 255 - mean) / std per channel, recorded in the metadata). Outputs:
 *   features [N, C']  the expert's feature f (final LN of the class token; CLIP: then proj)
 *   logits   [N, K]   cosine logits cos(f, head rows)
 *   probs    [N, K]   softmax(prob_scale * logits) (prob_scale 20: the confidences p_e that
 *                     the MoE scorer and the review pages use)
 *   pool_indices [N, top_k] int64 (phase 2 only): the pool entries each image chose.
 * The graph (method.md sections 1-3, lpt_vit.h): patch embedding as Conv, class token and
 * positions by Pad + Add, pre-LN blocks with LayerNormalization, attention as MatMul /
 * Softmax / Reshape / Transpose; prompts by the K/V route: each layer's shared-prompt keys
 * and values LN1(P) W_{k,v}^T + b_{k,v} are computed at export (in double) and stored as
 * constants that are concatenated after the image rows; GELU as 0.5 x (1 + Erf(x / sqrt 2)),
 * QuickGELU as x Sigmoid(1.702 x); adapters as MatMul, Relu, MatMul, Mul by s, Add; the last
 * block computes the class-token row only (exact, as lpt_vit does); cosine head with both
 * sides normalised (max(|x|, 1e-12)). Phase 2: the query pass (layers G..L-1 without group
 * prompts) gives q; cos(q, keys), TopK k, Gather of the pool entries and their mean give each
 * image's group prompt, whose LN1 and K/V projections are computed in the graph and
 * concatenated after the shared-prompt rows in layers >= G.
 * Metadata (metadata_props): "classes" (JSON array of the K names), "preprocessing" (JSON:
 * size, resize, crop, interpolation, mean, std, formula), "lpt.expert" (JSON: mode and the
 * ViT configuration), "lpt.prob_scale".
 *
 * THE FUSED MODEL (lpt_onnx_export_fused, lpt_onnx_fused.c): one input `image` float
 * [N, 3, S, S], RGB in [0, 1] (pixel / 255 after the resize to R x R and the centre crop
 * above; both experts take the same S and resize filter). Each expert present (vision, then
 * VL: LptStoreExpert order) normalises it with its own mean and std inside the graph
 * (x / std - mean / std, per channel) and runs the expert graph above (its query pass and
 * top-k group-prompt choice in phase 2), then p_e = softmax(prob_scale_e cos_e). Fusion as
 * the app evaluates (lpt_trainer_evaluate): with a scorer, its input row per image is built
 * in the graph exactly as lpt_scorer_build_input does ([f_e / max(|f_e|, 1e-12); max p_e;
 * -sum p_e log p_e; top-1 - top-2 of p_e] for each expert, the parts its config turns on),
 * alpha = softmax(W2 GELU(W1 x + b1) + b2), fused p = sum_e alpha_e p_e; without a scorer
 * alpha_e = 1 / E (the mean; one expert: its own p). With a prior adjust vector a [K]:
 * probs = p exp(a) / sum_k p_k exp(a_k) (computed as exp(a - max a), the same ratio).
 * Outputs: probs [N, K] (fused, prior applied), expert_probs [N, E, K], scorer_weights
 * [N, E], E = experts present. Metadata: "classes", "preprocessing" (formula "pixel / 255"),
 * "lpt.experts" (JSON array: per expert its name, mean, std, prob_scale and configuration),
 * "lpt.fusion" (JSON: "scorer" with its inputs and hidden width, or "mean"), "lpt.prior_adjust"
 * (JSON array, when given), then the caller's key/value pairs.
 *
 * Ownership and threads: reads the model's tensors with lpt_vit_get (and the scorer's with
 * lpt_scorer_get_weights), so it runs on the thread that uses the models' backend; writes the
 * file atomically (a temporary file beside it,
 * renamed when complete; nothing is left behind on failure).
 */
#ifndef LPT_ONNX_H
#define LPT_ONNX_H

#include "lpt_error.h"
#include "lpt_ops.h"
#include "lpt_scorer.h"
#include "lpt_store.h"
#include "lpt_vit.h"

#define LPT_ONNX_OPSET 17
#define LPT_ONNX_IR_VERSION 8

typedef struct LptOnnxExpertOptions {
    LptVitMode mode;                 /* what to export: plain (backbone + head), phase 1, 2 */
    const char *const *class_names;  /* [classes] UTF-8 names, required */
    float mean[3], std[3];           /* the input normalisation of the expert */
    LptInterp interp;                /* the eval transform's resize filter */
    float prob_scale;                /* probs = softmax(prob_scale cos); 20 */
    const char *name;                /* graph name; NULL: "lpt_expert" */
} LptOnnxExpertOptions;

/* Defaults for an expert of this configuration: phase 2 when it has a pool, else phase 1;
 * no class names; mean/std 0.5 (CLIP-style: CLIP's), bilinear, prob_scale 20. */
void lpt_onnx_expert_options_init(LptOnnxExpertOptions *opt, const LptVitConfig *cfg);

/* Writes `vit` as an ONNX model to `path`. Refused with a message: no head (classes 0), a
 * mode the configuration lacks (phase 2 without a pool), missing class names, or trainable
 * tensors that were never initialised (an all-zero head row, key row, prompt set, pool or
 * set of adapter down weights: lpt_vit_init_trainable was not run, or nothing was loaded).
 * I/O errors name the file; `path` is then left as it was. */
LptStatus lpt_onnx_export_expert(LptVit *vit, const LptOnnxExpertOptions *opt,
                                 const char *path, LptError *err);

/* The whole fused LPT++ model as one ONNX graph. Experts absent from a run are NULL. */
typedef struct LptOnnxFusedOptions {
    LptVit *experts[LPT_STORE_NUM_EXPERTS];                 /* by LptStoreExpert; NULL = absent */
    LptOnnxExpertOptions expert_opt[LPT_STORE_NUM_EXPERTS]; /* mode, mean/std, interp,
                                                             * prob_scale (class_names and name
                                                             * are not used) */
    LptScorer *scorer;              /* NULL: the mean of the experts (one expert: itself) */
    const char *const *class_names; /* [classes] */
    int classes;
    const float *prior_adjust;      /* [classes] or NULL: p' = normalise(p * exp(adjust)) */
    const char *const *metadata;    /* NULL-terminated key, value, key, value ... or NULL */
    const char *name;               /* graph name; NULL: "lpt_fused" */
} LptOnnxFusedOptions;

/* Writes the fused model to `path`. Refused with a message naming the expert or part at
 * fault: no expert, an expert refused as lpt_onnx_export_expert refuses it (head, mode, pool,
 * untrained tensors, prob_scale, mean/std), experts with different input sizes or resize
 * filters, an expert whose classes differ from `classes`, missing class names, a scorer whose
 * experts, feature widths or classes do not match the experts present, a non-finite prior
 * adjust value, a metadata key without a value or one that repeats a key the export writes.
 * I/O errors name the file; `path` is then left as it was. */
LptStatus lpt_onnx_export_fused(const LptOnnxFusedOptions *opt, const char *path,
                                LptError *err);

#endif

/* lpt_scorer.h: the MoE scorer of LPT++ (method.md §7) on a compute backend.
 *
 * Input per image (host side, lpt_scorer_build_input): concatenated over experts e = 0..E-1,
 * the parts the config turns on: [f_e / ||f_e|| (C_e values); max_k p_e; entropy(p_e) =
 * -sum p log p; top-1 minus top-2 of p_e], with p_e = softmax(20 cos_e) the expert's
 * confidences. Network: alpha = softmax(W2 GELU(W1 x + b1) + b2), W1 [Hd, in], W2 [E, Hd]
 * (Hd hidden units, 256); fused confidence p = sum_e alpha_e p_e; prediction argmax p.
 *
 * Graph (ops of lpt_ops.h, both backends): GEMM + bias, GELU, GEMM + bias, softmax, and the
 * fusion as a batched GEMM p_b [1, K] = alpha_b [1, E] P_b [E, K]. Backward: the loss gives
 * dp [B, K]; dalpha_b = dp_b P_b^T (batched GEMM), then softmax, GEMM, GELU, GEMM backward.
 * Losses: NLL (-log p_y, mean over the batch; dp has one entry per row, -1 / (B p_y),
 * computed on the host from the downloaded p: B x K values) or A-GCL on p taken as cosines
 * (lpt_op_agcl_*, device). Optimiser: AdamW on the one span of all parameters.
 *
 * Memory: parameters W1, b1, W2, b2 in one span (each part starting on a 256-byte boundary,
 * zero padding between them, which gets zero gradients and stays zero under AdamW), the
 * same layout for gradients and both AdamW moments; activations for up to `max_batch`
 * images (made at lpt_scorer_new).
 *
 * Ownership and threads: an LptScorer borrows its backend and owns its arenas; one thread
 * (the backend's); results are valid until the next forward.
 */
#ifndef LPT_SCORER_H
#define LPT_SCORER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_ops.h"

#define LPT_SCORER_MAX_EXPERTS 2

typedef struct LptScorerConfig {
    int experts;                              /* E, 1..LPT_SCORER_MAX_EXPERTS */
    int feature_dims[LPT_SCORER_MAX_EXPERTS]; /* C_e of each expert's feature */
    int classes;                              /* K */
    int hidden;                               /* Hd (256) */
    bool input_feature, input_max, input_entropy, input_margin;
    int max_batch; /* images per forward, >= 1 */
} LptScorerConfig;

typedef struct LptScorer LptScorer;

/* Width of the scorer input for this config (0 when no part is on). */
int lpt_scorer_input_width(const LptScorerConfig *cfg);

/* One image's input row out[input_width] from its features[e] ([C_e]) and confidences
 * probs[e] ([K]). */
void lpt_scorer_build_input(const LptScorerConfig *cfg, const float *const *features,
                            const float *const *probs, float *out);

LptScorer *lpt_scorer_new(LptBackend *be, const LptScorerConfig *cfg, LptError *err);
void lpt_scorer_free(LptScorer *s);

const LptScorerConfig *lpt_scorer_config(const LptScorer *s);

/* Parameters (padding included) in the span: the size of the state vectors below. */
size_t lpt_scorer_param_count(const LptScorer *s);
/* Parameters without padding: what a report counts. */
size_t lpt_scorer_trainable_count(const LptScorer *s);

/* torch.nn.Linear's init from `seed`: weights and biases uniform in +-1/sqrt(fan_in); the
 * AdamW moments zero. */
LptStatus lpt_scorer_init(LptScorer *s, uint64_t seed, LptError *err);

/* Host copies of the parameters and both AdamW moments ([lpt_scorer_param_count] each; any
 * may be NULL on get). */
LptStatus lpt_scorer_get_state(LptScorer *s, float *params, float *m, float *v, LptError *err);
LptStatus lpt_scorer_set_state(LptScorer *s, const float *params, const float *m, const float *v,
                               LptError *err);

/* Host copies of the parameters by part, without padding (any may be NULL): w1 [Hd, in],
 * b1 [Hd], w2 [E, Hd], b2 [E] (the layout of torch.nn.Linear weights). For exporters. */
LptStatus lpt_scorer_get_weights(LptScorer *s, float *w1, float *b1, float *w2, float *b2,
                                 LptError *err);

/* Runs the scorer on `batch` (<= max_batch) images: inputs [B, input_width] and probs
 * [B, E, K] (each image's experts' confidences) from the host. Results: lpt_scorer_weights
 * (alpha) and lpt_scorer_fused (p), downloaded into weights [B, E] and fused [B, K] when
 * those are not NULL. */
LptStatus lpt_scorer_forward(LptScorer *s, const float *inputs, const float *probs, int batch,
                             float *weights, float *fused, LptError *err);

typedef struct LptScorerLossParams {
    bool agcl;                 /* false: NLL */
    LptAgclParams agcl_params; /* with agcl: batch/classes are set by the scorer */
    const float *margins;      /* with agcl: [K] m_k / max m */
} LptScorerLossParams;

/* Loss of the last forward against labels[B] (host), mean over the batch, into *loss, and
 * the gradients of every parameter (assigned: the scorer zeroes them first). */
LptStatus lpt_scorer_backward(LptScorer *s, const int32_t *labels, const LptScorerLossParams *loss,
                              double *loss_out, LptError *err);

/* A host copy of the last backward's gradients [lpt_scorer_param_count] (same layout as
 * the parameters). */
LptStatus lpt_scorer_get_grad(LptScorer *s, float *grad, LptError *err);

/* One AdamW step (step counted from 1) on every parameter with the last gradients. */
LptStatus lpt_scorer_adamw(LptScorer *s, float lr, float beta1, float beta2, float eps,
                           float weight_decay, int step, LptError *err);

/* ---- what evaluation and deployment share (lpt_trainer_evaluate, lpt_model) ---- */

/* An expert's confidences p_e = softmax(scale cos) of each row of cosine logits [n, K] into
 * probs [n, K] (the row maximum subtracted, sums in double). scale is the run's loss.scale
 * (20). */
void lpt_scorer_expert_probs(const float *logits, int64_t n, int K, float scale, float *probs);

/* Sets the parameters by part, the layout of lpt_scorer_get_weights (none may be NULL); the
 * AdamW moments become zero. For models read back from an export. */
LptStatus lpt_scorer_set_weights(LptScorer *s, const float *w1, const float *b1, const float *w2,
                                 const float *b2, LptError *err);

/* The fused model on n images from their experts' features[e] [n, C_e] and confidences
 * probs[e] [n, K] (host rows, experts in the scorer's order): the scorer's weights [n, E] and
 * fused confidences [n, K], run in batches of the config's max_batch. With s NULL (a run with
 * one expert, or without phase 3) the mean of the experts: weights 1 / E, fused = the mean of
 * p_e in double (features unused). */
LptStatus lpt_scorer_fuse(LptScorer *s, int experts, int classes, int64_t n,
                          const float *const *features, const float *const *probs, float *weights,
                          float *fused, LptError *err);

#endif

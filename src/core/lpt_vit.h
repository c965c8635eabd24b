/* lpt_vit.h: the ViT expert of LPT++ (method.md sections 1-3): a frozen pre-LN ViT backbone
 * (vision ViT or the CLIP image tower) with shared deep prompts, visual adapters, a pool of
 * group prompts chosen by query-key matching, and a cosine head; forward and backward on
 * either backend through the same graph code (ops of lpt_ops.h).
 *
 * Shape letters: B batch, T = 1 + N tokens (class token + N patches), C width, H heads, L
 * layers, P prompt tokens per layer, R adapter rank, M pool entries, K classes, C' feature
 * width (proj_dim for CLIP, else C). Block i:
 *   h = x + Proj(Attn(LN1(x)))                with keys/values of [x; prompts] (see below)
 *   x = h + FC2(act(FC1(LN2(h)))) + s_i Up(ReLU(Down(LN2(h))))      (adapter when R > 0)
 * Prompts act only as extra keys and values (exact: their outputs are dropped after each
 * layer and LayerNorm/MLP work per token): per layer, K_p, V_p = LN1(prompt_i) W_{k,v}^T +
 * b_{k,v} are written after the T image rows, and attention runs T queries over T + P keys
 * (T + 2P in the group layers of phase 2: shared prompt rows, then the image's group prompt).
 * Feature f = LN(x_L[CLS]) (norm.*), for CLIP then times proj^T; logits = cos(f, head rows).
 *
 * Phase 2 (method.md section 3): the query q = the phase-1 model's feature (shared prompts
 * and adapters, no group prompts); cos(q, keys) -> top pool_top_k entries; the group prompt of
 * each layer i >= G (G = L - L/2: the last L/2 layers) is the mean of the selected entries of
 * pool.(i - G). Layers 0..G-1 are the same in both passes and run once; the query pass then
 * branches off at layer G and needs no backward; the main pass is backpropagated from layer
 * L-1 down to G only. Key loss -0.5 sum_j cos(q, key_sel_j), gradient to the keys only.
 *
 * Tensors by canonical name (row-major; "out x in" for linear weights, as torch.nn.Linear):
 * frozen (set them all with lpt_vit_set, or lpt_vit_init_backbone, before the first forward):
 *   patch.weight [C, 3, p, p]   patch.bias [C] (not clip_style: CLIP's conv has no bias)
 *   cls [C]   pos [T, C]   ln_pre.weight/bias [C] (clip_style only)
 *   blocks.{i}.ln1.weight/bias [C]   blocks.{i}.qkv.weight [3C, C] (rows q, k, v)
 *   blocks.{i}.qkv.bias [3C]   blocks.{i}.proj.weight [C, C]   blocks.{i}.proj.bias [C]
 *   blocks.{i}.ln2.weight/bias [C]   blocks.{i}.fc1.weight [MLP, C]   blocks.{i}.fc1.bias [MLP]
 *   blocks.{i}.fc2.weight [C, MLP]   blocks.{i}.fc2.bias [C]
 *   norm.weight/bias [C] (the final LN; CLIP's ln_post)   proj [C', C] (clip_style only;
 *   OpenAI's `proj` transposed, the layout of HF's visual_projection.weight)
 * trainable (zero after lpt_vit_new; lpt_vit_init_trainable applies the method's init):
 *   prompt.{i} [P, C] (P > 0)   adapter.{i}.down.weight [R, C]   adapter.{i}.down.bias [R]
 *   adapter.{i}.up.weight [C, R]   adapter.{i}.up.bias [C]   adapter.{i}.scale [1] (R > 0)
 *   head [K, C'] (K > 0)   pool.{j} [M, P, C] for layer G + j (M > 0)   keys [M, C'] (M > 0)
 * Each trainable tensor has a gradient of the same shape (lpt_vit_grad) that backward
 * accumulates into (+=), so micro-batches add up; lpt_vit_zero_grads clears them.
 *
 * Training the backbone (cfg.train_backbone, mode LPT_VIT_FULL: pretraining from scratch,
 * full fine-tuning): every frozen tensor then has a gradient too, in a fifth arena laid out
 * as the frozen one (lpt_vit_backbone_span: one view of all backbone weights and one of
 * their gradients, for the optimiser). A FULL forward runs the plain graph (no prompts,
 * adapters or group prompts) keeping every layer; its backward accumulates the gradients of
 * the head and of every backbone tensor. lpt_vit_init_backbone draws a random backbone.
 *
 * Memory: four arenas (five with train_backbone): frozen weights, trainable tensors, their
 * gradients (same layout as the trainable arena, so one view covers a phase's whole parameter
 * set), and activations, sized by lpt_vit_activation_bytes for the largest (batch, mode) seen
 * and re-made when a forward needs more. ViT-B/16 at 224 with P = 10 and R = 8 needs, per
 * image: 94.5 MiB for a phase-1 training step (11 layers x 7.4 MB kept for backward, the rest
 * scratch), 59.7 MiB for a phase-2 step (6 layers kept), 12.3 MiB for inference, 92.7 MiB
 * for a FULL step (the LN1 and GELU outputs that its weight gradients need are recomputed,
 * not kept). Split larger batches into micro-batches that fit; gradients accumulate across
 * them.
 * The last block computes only the class token's row (keys and values of all rows, its
 * query, projection, MLP and adapter on row 0): exact, since the feature reads only that row.
 *
 * Ownership and threads: an LptVit borrows its backend (which must outlive it) and owns its
 * arenas. Tensors returned by accessors belong to the model; activation tensors (features,
 * logits, selections) are valid until the next forward. One thread at a time, the thread that
 * uses the backend.
 */
#ifndef LPT_VIT_H
#define LPT_VIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_tensor.h"

typedef enum LptVitAct {
    LPT_VIT_ACT_GELU = 0,       /* exact erf GELU (vision ViT) */
    LPT_VIT_ACT_QUICK_GELU = 1, /* x sigmoid(1.702 x) (CLIP) */
} LptVitAct;

typedef struct LptVitConfig {
    int depth;          /* L blocks */
    int width;          /* C */
    int heads;          /* H; C % H == 0 and C / H <= 256 */
    int mlp;            /* MLP hidden width */
    int patch;          /* p */
    int image;          /* input side in pixels (square, a multiple of p) */
    float eps;          /* LayerNorm eps of every LN (1e-6 timm/HF ViT, 1e-5 CLIP) */
    LptVitAct act;
    bool clip_style;    /* no patch bias, ln_pre before block 0, feature = ln_post(CLS) proj^T */
    int proj_dim;       /* C' (clip_style only) */
    int prompts;        /* P shared prompt tokens per layer; 0 = none */
    int adapter_rank;   /* R; 0 = no adapters */
    float adapter_scale; /* init of each adapter's s (1 or 0.1) */
    int pool_size;      /* M group-prompt entries; 0 = no phase 2 */
    int pool_top_k;     /* entries averaged per image (2) */
    int classes;        /* K rows of the cosine head; 0 = no head */
    bool train_backbone; /* backbone gradients too, for LPT_VIT_FULL (false by default) */
} LptVitConfig;

/* ViT-B/16 at 224 (vision expert): L 12, C 768, H 12, MLP 3072, eps 1e-6, GELU, P 10,
 * R 8, s 1, M 20, top-2, K 0 (set classes). */
void lpt_vit_config_init(LptVitConfig *cfg);

/* Checks a configuration; the message names the first bad field. */
LptStatus lpt_vit_config_check(const LptVitConfig *cfg, LptError *err);

typedef enum LptVitMode {
    LPT_VIT_PLAIN = 0,  /* the frozen backbone (+ head) alone */
    LPT_VIT_PHASE1 = 1, /* + shared prompts and adapters */
    LPT_VIT_PHASE2 = 2, /* phase-1 query pass, then the main pass with group prompts */
    LPT_VIT_FULL = 3,   /* the plain graph, training every backbone tensor and the head
                         * (needs cfg.train_backbone) */
} LptVitMode;

/* Bytes of the activation arena a forward of `batch` images in `mode` needs (train: with what
 * backward keeps and uses; otherwise inference only). 0 when the config or batch is bad. */
size_t lpt_vit_activation_bytes(const LptVitConfig *cfg, int batch, LptVitMode mode,
                                bool train);

typedef struct LptVit LptVit;

/* A model with every frozen tensor unset and every trainable tensor zero. */
LptVit *lpt_vit_new(LptBackend *be, const LptVitConfig *cfg, LptError *err);
void lpt_vit_free(LptVit *vit);

const LptVitConfig *lpt_vit_config(const LptVit *vit);

/* Tokens T (1 + patches) and the feature width C'. */
int lpt_vit_tokens(const LptVit *vit);
int lpt_vit_feature_width(const LptVit *vit);

/* Uploads `count` floats into the tensor called `name` (count must be its element count). */
LptStatus lpt_vit_set(LptVit *vit, const char *name, const float *data, size_t count,
                      LptError *err);
/* Downloads the tensor (or, with lpt_vit_get_grad, the gradient) called `name`. */
LptStatus lpt_vit_get(LptVit *vit, const char *name, float *out, size_t count, LptError *err);
LptStatus lpt_vit_get_grad(LptVit *vit, const char *name, float *out, size_t count,
                           LptError *err);

/* The device tensor called `name` and, for trainable ones (and backbone tensors with
 * train_backbone), its gradient (NULL otherwise). */
const LptTensor *lpt_vit_tensor(const LptVit *vit, const char *name);
const LptTensor *lpt_vit_grad(const LptVit *vit, const char *name);

/* Canonical names in table order (frozen first, then trainable); NULL past the end. */
const char *lpt_vit_tensor_name(const LptVit *vit, int i);
bool lpt_vit_tensor_trainable(const LptVit *vit, int i);

/* The method's init from `seed` (host PCG32): prompts, pool and keys truncated normal (std
 * 0.02, cut at 2 std), adapter down weights kaiming-uniform (bound 1 / sqrt(C), as
 * torch.nn.Linear), up weights and biases zero, scales cfg.adapter_scale, head rows random
 * unit vectors. */
LptStatus lpt_vit_init_trainable(LptVit *vit, uint64_t seed, LptError *err);

/* The trainable tensors `mode` trains as one span (phase 1: prompts, adapters, head; phase 2:
 * head, pool, keys; plain and full: head) and the matching span of gradients, for the
 * optimiser. The spans include alignment padding between tensors, which holds zeros and gets
 * zero gradients. */
LptStatus lpt_vit_trainable_span(const LptVit *vit, LptVitMode mode, LptTensor *param,
                                 LptTensor *grad, LptError *err);

/* With train_backbone: every backbone (frozen) tensor as one span and the span of their
 * gradients, what LPT_VIT_FULL trains besides the head (padding as above). */
LptStatus lpt_vit_backbone_span(const LptVit *vit, LptTensor *param, LptTensor *grad,
                                LptError *err);

/* A random backbone from `seed` (host PCG32), as timm initialises a ViT: linear weights
 * truncated normal (std 0.02, cut at 2 std) with zero biases, LayerNorms 1 and 0, pos
 * truncated normal (0.02), cls normal (std 1e-6), the patch convolution as PyTorch's default
 * (weight and bias uniform in +-1 / sqrt(3 p p)), the CLIP projection normal (std C^-0.5).
 * Every backbone tensor counts as set. */
LptStatus lpt_vit_init_backbone(LptVit *vit, uint64_t seed, LptError *err);

/* Sets every gradient (backbone gradients included) to zero. */
LptStatus lpt_vit_zero_grads(LptVit *vit, LptError *err);

/* Inverted dropout on the feature before the head (method.md section 6) for the training
 * forwards from now on: each value of f [B, C'] is zeroed with probability p, the rest scaled
 * by 1 / (1 - p), with the counter-based mask of lpt_op_dropout_forward (seed, step; row b,
 * column c), and the backward applies the same mask. Set a new seed or step before each
 * training forward that should draw a new mask. p 0 (the default) turns it off; inference
 * forwards never drop; lpt_vit_features is the feature before dropout. */
LptStatus lpt_vit_set_feature_dropout(LptVit *vit, float p, uint64_t seed, uint32_t step,
                                      LptError *err);

/* Runs the model on images [B, 3, image, image] (normalised NCHW floats on this backend). With
 * train, keeps what lpt_vit_backward needs (training needs a head, except in LPT_VIT_FULL). */
LptStatus lpt_vit_forward(LptVit *vit, const LptTensor *images, int batch, LptVitMode mode,
                          bool train, LptError *err);

/* Backpropagates the last (train) forward: dlogits [B, K] is dLoss/dlogits; in phase 2
 * key_scale weighs the key loss key_scale * sum_b sum_j -0.5 cos(q_b, key_sel_bj) (1 / B
 * for the batch mean). Accumulates the gradients of what the forward's mode trains. */
LptStatus lpt_vit_backward(LptVit *vit, const LptTensor *dlogits, float key_scale,
                           LptError *err);

/* Backpropagates dLoss/dfeatures [B, C'] (a device tensor) instead of dlogits, bypassing the
 * head (which gets no gradient): for losses on the features themselves, such as CLIP's
 * contrastive loss (lpt_pretrain_clip.h). Any training mode but plain; phase 2's key loss is
 * left out. A model without a head (classes 0) trains this way in LPT_VIT_FULL. */
LptStatus lpt_vit_backward_features(LptVit *vit, const LptTensor *dfeatures, LptError *err);

/* Results of the last forward (NULL before one): features f [B, C'], cosine logits [B, K]
 * (NULL without a head); phase 2: the query features q [B, C'], the chosen pool entries
 * [B, top_k] int32 and their key cosines [B, top_k] (descending). */
const LptTensor *lpt_vit_features(const LptVit *vit);
const LptTensor *lpt_vit_logits(const LptVit *vit);
const LptTensor *lpt_vit_query(const LptVit *vit);
const LptTensor *lpt_vit_selection(const LptVit *vit);
const LptTensor *lpt_vit_selection_cos(const LptVit *vit);

#endif

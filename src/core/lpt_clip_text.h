/* lpt_clip_text.h: CLIP's text tower (OpenAI CLIP, OpenCLIP, Hugging Face CLIPTextModel) and
 * the class text embeddings that initialise the VL expert's head (method.md section 1).
 *
 * The tower (frozen in LPT++; trainable for `lpt pretrain-clip`), shape letters B texts, T
 * tokens, W width, H heads, L layers, V vocabulary, D feature width:
 *   x = token_embedding[ids] + pos[0..T-1]                       [B, T, W]
 *   L pre-LN residual blocks: x += Proj(CausalAttn(LN1(x))); x += FC2(act(FC1(LN2(x))))
 *     (key s visible to query t iff s <= t; act QuickGELU x sigmoid(1.702 x), or erf GELU)
 *   f = LN_final(x[b, eot_b]) proj^T                             [B, D]
 * eot_b is where the text ends: by default the argmax of row b's ids (the first maximal id),
 * which for CLIP's vocabulary is the first <|endoftext|> (49407), exactly as OpenAI's
 * encode_text and Hugging Face's pooler pick it.
 * Exact shortcuts: with the causal mask, row t depends on rows <= t only, so a forward runs
 * T = 1 + max_b eot_b rows instead of the context length; the last block computes its
 * projection and MLP on the B pooled rows only. The blocks are the ViT's (lpt_block.h).
 *
 * Training (cfg.trainable, for `lpt pretrain-clip`): every tensor has a gradient (in one
 * arena laid out as the weights, so lpt_clip_text_span gives the optimiser one view of each);
 * lpt_clip_text_forward_train keeps every block's activations and lpt_clip_text_backward
 * accumulates (+=) every gradient from dLoss/dfeatures. lpt_clip_text_init draws OpenAI CLIP's
 * initialisation.
 *
 * Tensors by canonical name (row-major; linear weights "out x in", as torch.nn.Linear; the
 * same names as the blocks of lpt_vit.h):
 *   token_embedding [V, W]   pos [context, W]
 *   blocks.{i}.ln1.weight/bias [W]   blocks.{i}.qkv.weight [3W, W] (rows q, k, v)
 *   blocks.{i}.qkv.bias [3W]   blocks.{i}.proj.weight [W, W]   blocks.{i}.proj.bias [W]
 *   blocks.{i}.ln2.weight/bias [W]   blocks.{i}.fc1.weight [MLP, W]   blocks.{i}.fc1.bias [MLP]
 *   blocks.{i}.fc2.weight [W, MLP]   blocks.{i}.fc2.bias [W]
 *   norm.weight/bias [W] (ln_final)   proj [D, W] (OpenAI's text_projection [W, D]
 *   transposed; the layout of Hugging Face's text_projection.weight)
 * lpt_clip_text_load maps the names of the files users have (see there).
 *
 * Class embeddings (OpenAI's zero-shot recipe): for class k and each template (default
 * "a photo of a {}."), the template with every "{}" replaced by the class name -- or by the
 * class's description when one is given -- is tokenized (clip.tokenize(truncate=True): a
 * text longer than the context keeps its first context - 2 tokens and <|endoftext|> last),
 * encoded and L2-normalised; row k = the L2-normalised mean of those unit vectors.
 *
 * Ownership and threads: an LptClipText borrows its backend (which must outlive it) and owns
 * its two arenas (weights; activations, sized for the largest forward so far). The feature
 * tensor is valid until the next forward. One thread at a time, the one using the backend.
 */
#ifndef LPT_CLIP_TEXT_H
#define LPT_CLIP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_safetensors.h"
#include "lpt_tensor.h"
#include "lpt_tokenizer.h"
#include "lpt_vit.h"

#define LPT_CLIP_DEFAULT_TEMPLATE "a photo of a {}."

typedef struct LptClipTextConfig {
    int vocab;     /* V token-embedding rows */
    int context;   /* positions: the longest tokenized text (77) */
    int width;     /* W */
    int heads;     /* H; W % H == 0 and W / H <= 256 */
    int layers;    /* L >= 1 */
    int mlp;       /* MLP hidden width (4 W) */
    int proj_dim;  /* D */
    float eps;     /* LayerNorm eps (1e-5) */
    LptVitAct act; /* QuickGELU (OpenAI CLIP) or erf GELU (OpenCLIP's own trainings) */
    bool trainable; /* gradients and a training forward (false by default) */
} LptClipTextConfig;

/* CLIP ViT-B/16's text tower: V 49408, context 77, W 512, H 8, L 12, MLP 2048, D 512, eps
 * 1e-5, QuickGELU, not trainable. */
void lpt_clip_text_config_init(LptClipTextConfig *cfg);

/* Checks a configuration; the message names the first bad field. */
LptStatus lpt_clip_text_config_check(const LptClipTextConfig *cfg, LptError *err);

typedef struct LptClipText LptClipText;

/* A tower with every tensor unset (lpt_clip_text_set them all before the first forward). */
LptClipText *lpt_clip_text_new(LptBackend *be, const LptClipTextConfig *cfg, LptError *err);
void lpt_clip_text_free(LptClipText *tower);

const LptClipTextConfig *lpt_clip_text_config(const LptClipText *tower);

/* Uploads `count` floats into the tensor called `name` (count must be its element count). */
LptStatus lpt_clip_text_set(LptClipText *tower, const char *name, const float *data, size_t count,
                            LptError *err);
/* Downloads the tensor called `name`. */
LptStatus lpt_clip_text_get(LptClipText *tower, const char *name, float *out, size_t count,
                            LptError *err);
/* Canonical names in table order; NULL past the end. The device tensor called `name` (NULL
 * when there is none). */
const char *lpt_clip_text_tensor_name(const LptClipText *tower, int i);
const LptTensor *lpt_clip_text_tensor(const LptClipText *tower, const char *name);

/* Encodes `batch` texts: ids [B, context] host int32 token ids in [0, V); eot [B] host int32
 * pooling positions in [0, context), or NULL for the argmax of each row. The features are
 * then lpt_clip_text_features(). */
LptStatus lpt_clip_text_forward(LptClipText *tower, const int32_t *ids, const int32_t *eot,
                                int batch, LptError *err);

/* Features f [B, D] of the last forward (NULL before one). */
const LptTensor *lpt_clip_text_features(const LptClipText *tower);

/* ---- training (cfg.trainable) ---- */

/* OpenAI CLIP's initialisation from `seed` (host PCG32, one stream per tensor): token
 * embedding normal(0.02), pos normal(0.01), qkv weights normal(W^-0.5), attention projection
 * and FC2 weights normal(W^-0.5 (2L)^-0.5), FC1 weights normal((2W)^-0.5), proj normal(W^-0.5),
 * biases 0, LayerNorms 1 and 0. Every tensor counts as set. Any tower (trainable or not). */
LptStatus lpt_clip_text_init(LptClipText *tower, uint64_t seed, LptError *err);

/* lpt_clip_text_forward keeping what lpt_clip_text_backward needs. */
LptStatus lpt_clip_text_forward_train(LptClipText *tower, const int32_t *ids, const int32_t *eot,
                                      int batch, LptError *err);

/* Backpropagates dLoss/dfeatures [B, D] (a device tensor) of the last training forward,
 * accumulating (+=) the gradient of every tensor. */
LptStatus lpt_clip_text_backward(LptClipText *tower, const LptTensor *dfeatures, LptError *err);

/* The gradient of the tensor called `name` (NULL when the tower is not trainable), its host
 * copy, all of them set to zero. */
const LptTensor *lpt_clip_text_grad(const LptClipText *tower, const char *name);
LptStatus lpt_clip_text_get_grad(LptClipText *tower, const char *name, float *out, size_t count,
                                 LptError *err);
LptStatus lpt_clip_text_zero_grads(LptClipText *tower, LptError *err);

/* Every weight as one span and the span of their gradients, for the optimiser (alignment
 * padding between tensors holds zeros and gets zero gradients). */
LptStatus lpt_clip_text_span(const LptClipText *tower, LptTensor *param, LptTensor *grad,
                             LptError *err);

/* Tokenizes and encodes n texts (UTF-8) into out [n, D] (host), in batches. */
LptStatus lpt_clip_text_encode(LptClipText *tower, const LptTokenizer *tok,
                               const char *const *texts, int n, float *out, LptError *err);

/* The VL head init: out [K, D] (host), row k from class_names[k] (or descriptions[k] when
 * descriptions is not NULL and descriptions[k] is a non-empty string) through every template
 * (templates NULL: the one LPT_CLIP_DEFAULT_TEMPLATE; each must contain "{}"). */
LptStatus lpt_clip_text_class_embeddings(LptClipText *tower, const LptTokenizer *tok,
                                         const char *const *class_names,
                                         const char *const *descriptions,
                                         const char *const *templates, int n_templates, int classes,
                                         float *out, LptError *err);

/* Zero-shot scores on the host: logits[B, K] = cos(features_b, class_k) (rows normalised with
 * max(||.||, 1e-12), as lpt_op_cosine_forward does on a device). CLIP's probabilities are
 * softmax(100 logits). */
LptStatus lpt_clip_zero_shot_logits(float *logits, const float *features,
                                    const float *class_embeddings, int batch, int classes, int dim,
                                    LptError *err);

/* ---- weight files ---- */

typedef struct LptClipTextLoadOptions {
    int heads; /* H; 0 = from a config file beside the weights, else width / 64 */
    int act;   /* an LptVitAct; -1 = from a config file, else QuickGELU */
    float eps; /* 0 = from a config file, else 1e-5 */
} LptClipTextLoadOptions;

/* heads 0, act -1, eps 0: everything detected. */
void lpt_clip_text_load_options_init(LptClipTextLoadOptions *opt);

/* Loads the text tower of a safetensors file (F32, F16, BF16), whatever else it holds:
 *  - Hugging Face CLIPModel / CLIPTextModelWithProjection: text_model.embeddings.
 *    {token_embedding.weight, position_embedding.weight}, text_model.encoder.layers.{i}.
 *    {layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2}.{weight,bias},
 *    text_model.final_layer_norm.*, text_projection.weight [D, W]; config.json beside the
 *    file (its "text_config", or the top level) gives num_attention_heads, hidden_act and
 *    layer_norm_eps;
 *  - OpenAI CLIP / OpenCLIP: token_embedding.weight, positional_embedding,
 *    transformer.resblocks.{i}.{ln_1, attn.in_proj_, attn.out_proj, ln_2, mlp.c_fc,
 *    mlp.c_proj}.*, ln_final.*, text_projection [W, D] (or OpenCLIP's text_projection.weight
 *    [D, W]), at the top level or under "text." (OpenCLIP's CustomTextCLIP);
 *    open_clip_config.json beside the file gives model_cfg.text_cfg.heads and
 *    model_cfg.quick_gelu (OpenCLIP's default: GELU).
 * Without a config file (or where it is silent), the file's own "__metadata__" may state
 * text_heads, text_act (quick_gelu | gelu) and text_eps, as `lpt pretrain-clip` writes them
 * (lpt_pretrain_clip.h); options given here come first, then the config file, then those.
 * Sizes come from the shapes (V, W, context, L, MLP, D). The vision tower and logit_scale are
 * ignored; any other tensor of the text tower, a missing tensor or a wrong shape is refused
 * with a message naming the file and the first tensor at fault (shape expected vs found). */
LptClipText *lpt_clip_text_load(LptBackend *be, const char *path, const LptClipTextLoadOptions *opt,
                                LptError *err);
/* The same from a file already open (e.g. lpt_weights_file() of a CLIP backbone, so that one
 * mapping serves both towers); config files are looked up beside lpt_safetensors_path(file).
 * The file is only read, and may be closed once this returns. */
LptClipText *lpt_clip_text_load_from(LptBackend *be, const LptSafetensors *file,
                                     const LptClipTextLoadOptions *opt, LptError *err);

#endif

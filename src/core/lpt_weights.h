/* lpt_weights.h: pretrained ViT backbones from the safetensors files users already have.
 *
 * lpt_weights_open maps a safetensors file (or a sharded checkpoint's index, or a model
 * folder: lpt_safetensors_open), detects its naming from marker tensors, reads the backbone's
 * configuration off the tensors (and a config file beside it when there is one), and
 * validates every tensor before it returns; lpt_weights_load_vit then uploads the
 * backbone into an LptVit (lpt_vit.h's canonical names), converting F16/BF16/F64 to float,
 * splitting nothing but joining separate q/k/v into qkv, dropping singleton dimensions
 * ([1, 1, C] class tokens, [1, T, C] position tables) and transposing where a layout differs.
 *
 * Namings (the prefix before the names is detected: "vit.", "vision_model.", "visual.", ...):
 *   hf-vit       Hugging Face transformers ViTModel / ViTForImageClassification:
 *                embeddings.{cls_token, position_embeddings, patch_embeddings.projection},
 *                encoder.layer.N.{layernorm_before, attention.attention.{query,key,value},
 *                attention.output.dense, layernorm_after, intermediate.dense, output.dense},
 *                layernorm; pooler.* and classifier.* are ignored.
 *   hf-clip      Hugging Face CLIPModel / CLIPVisionModel(WithProjection): vision_model.
 *                embeddings.{class_embedding, patch_embedding, position_embedding},
 *                pre_layrnorm (sic), encoder.layers.N.{layer_norm1, self_attn.{q,k,v,out}_proj,
 *                layer_norm2, mlp.fc1, mlp.fc2}, post_layernorm; visual_projection [C', C].
 *   timm         timm VisionTransformer: patch_embed.proj, cls_token, pos_embed, blocks.N.
 *                {norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm; head.* ignored.
 *   openclip     OpenCLIP / OpenAI CLIP: visual.{conv1, class_embedding, positional_embedding,
 *                ln_pre, transformer.resblocks.N.{ln_1, attn.in_proj_weight/bias,
 *                attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_post, proj} (proj is [C, C'],
 *                transposed on load).
 *   torchvision  torchvision vit_b_16 & co: conv_proj, class_token, encoder.pos_embedding,
 *                encoder.layers.encoder_layer_N.{ln_1, self_attention.in_proj_weight/bias,
 *                self_attention.out_proj, ln_2, mlp.0 | mlp.linear_1, mlp.3 | mlp.linear_2},
 *                encoder.ln; heads.* ignored.
 * The CLIP namings give a CLIP-style tower (no patch bias, ln_pre, feature = ln_post(CLS)
 * proj^T); a CLIP file without a projection gets the identity (C' = C). The CLIP text tower's
 * tensors (HF text_model.* / text_projection, OpenAI token_embedding, positional_embedding,
 * transformer.*, ln_final, text_projection, OpenCLIP's text.*) are recognised and counted, not
 * loaded: the text tower's loader (lpt_clip_text_load_from) reads them from lpt_weights_file.
 *
 * What comes from where: width C and patch p from the patch kernel [C, 3, p, p]; tokens T from
 * the position table (T - 1 must be a square number of patches n^2; image = n p); depth from
 * the highest block index; MLP width from block 0's first MLP layer; C' from the projection.
 * Heads, LayerNorm eps and the activation come from the config file when it has them (HF
 * config.json: num_attention_heads, layer_norm_eps, hidden_act, in vision_config for CLIP;
 * OpenCLIP open_clip_config.json or config.json: vision_cfg.head_width, quick_gelu,
 * preprocess_cfg mean/std; timm config.json: model_args.num_heads, pretrained_cfg mean/std),
 * else heads from lpt_weights_default_heads(C), eps from the naming (HF ViT 1e-12 as
 * transformers' ViTConfig, timm and torchvision 1e-6, CLIP 1e-5), activation exact GELU,
 * QuickGELU for CLIP (OpenCLIP with a config file: its quick_gelu flag, default false as
 * OpenCLIP's). Every size a config states must agree with the tensors.
 * Input normalisation: mean = std = 0.5 for the ViT namings, CLIP's mean/std for the CLIP ones
 * (method.md section 1), unless the config file states them.
 *
 * Refusals (LPT_ERR_FORMAT unless said): no known naming (the message lists the namings and
 * the first tensor names found); a missing tensor; a tensor whose shape differs from what the
 * configuration implies (the first one in model order, expected vs found); a tensor of an
 * integer dtype (LPT_ERR_UNSUPPORTED); a tensor the naming has no place for (the first in name
 * order: e.g. timm's LayerScale ls1.gamma, whose loss would silently change the model); a
 * config file that contradicts the tensors, is not JSON, or names an activation other than
 * GELU / QuickGELU (LPT_ERR_UNSUPPORTED); a width whose heads cannot be told. The file errors
 * of lpt_safetensors_open (truncated, corrupt) pass through.
 *
 * Ownership and threads: an LptWeights owns its mapping and every string it hands out until
 * lpt_weights_close; it is immutable after open, so any thread may read it. Loading uses the
 * vit's backend, so it runs on the thread that owns that backend.
 */
#ifndef LPT_WEIGHTS_H
#define LPT_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lpt_error.h"
#include "lpt_safetensors.h"
#include "lpt_vit.h"

typedef enum LptWeightsNaming {
    LPT_WEIGHTS_HF_VIT = 0,
    LPT_WEIGHTS_HF_CLIP = 1,
    LPT_WEIGHTS_TIMM = 2,
    LPT_WEIGHTS_OPENCLIP = 3,
    LPT_WEIGHTS_TORCHVISION = 4,
} LptWeightsNaming;
#define LPT_WEIGHTS_NAMINGS 5

/* A short id ("hf-vit", "hf-clip", "timm", "openclip", "torchvision") and a title
 * ("Hugging Face transformers ViT", ...); "?" out of range. */
const char *lpt_weights_naming_id(LptWeightsNaming naming);
const char *lpt_weights_naming_title(LptWeightsNaming naming);

typedef struct LptWeightsOptions {
    int heads; /* > 0: overrides the config file and the default for the width */
    /* NULL: the config file beside the weights when there is one (OpenCLIP:
     * open_clip_config.json, then config.json; other namings: config.json); "": none;
     * anything else: that file, which must exist. */
    const char *config_path;
} LptWeightsOptions;

/* heads 0, config_path NULL. */
void lpt_weights_options_init(LptWeightsOptions *opt);

/* What lpt_weights_open found. Strings belong to the LptWeights. */
typedef struct LptWeightsInfo {
    LptWeightsNaming naming;
    const char *prefix;      /* before the naming's names: "", "vit.", "vision_model.", ... */
    const char *config_path; /* the config file read, or NULL */
    /* The backbone: depth, width, heads, mlp, patch, image, eps, act, clip_style, proj_dim as
     * found; the trainable fields zero (prompts, adapter_rank, pool_size, classes: a plain
     * backbone; set them before lpt_vit_new), adapter_scale and pool_top_k as
     * lpt_vit_config_init leaves them. */
    LptVitConfig vit;
    const char *heads_from; /* "config.json num_attention_heads", "default for width 768", ... */
    const char *eps_from;
    const char *act_from;
    bool identity_proj;     /* a CLIP file without a projection: C' = C, identity */
    size_t params;          /* backbone weights loaded (elements) */
    int tensors;            /* tensors in the file */
    int tensors_used;       /* of which the backbone uses */
    int tensors_ignored;    /* classifier heads, poolers, buffers, the text tower */
    int text_tensors;       /* CLIP text tower tensors among the ignored (0: none) */
    float mean[3], std[3];  /* input normalisation: out = (pixel / 255 - mean) / std */
} LptWeightsInfo;

typedef struct LptWeights LptWeights;

/* Opens and validates `path` (see the header comment). opt may be NULL (defaults). */
LptWeights *lpt_weights_open(const char *path, const LptWeightsOptions *opt, LptError *err);
void lpt_weights_close(LptWeights *w);

const LptWeightsInfo *lpt_weights_info(const LptWeights *w);

/* The open file, for readers of the tensors this module does not load (the text tower). */
const LptSafetensors *lpt_weights_file(const LptWeights *w);

/* Uploads every frozen tensor of `vit` from the file. The vit's backbone fields (depth,
 * width, heads, mlp, patch, image, eps, act, clip_style, proj_dim) must equal the info's;
 * its trainable fields are free. Trainable tensors are not touched. */
LptStatus lpt_weights_load_vit(const LptWeights *w, LptVit *vit, LptError *err);

/* Heads of a ViT of width C when nothing says: 192 -> 3, 384 -> 6, 512 -> 8, 768 -> 12,
 * 1024 -> 16, 1280 -> 16 (ViT-H), 1408 -> 16 (ViT-g), 1664 -> 16 (ViT-bigG); other multiples
 * of 64 -> C / 64 (head width 64); 0 when it cannot be told. */
int lpt_weights_default_heads(int width);

#endif

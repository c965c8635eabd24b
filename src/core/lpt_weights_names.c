/* lpt_weights_names.c: the name maps of the supported namings (lpt_weights.h): for every
 * canonical tensor of lpt_vit.h, where it lives in each kind of file and the shape it has
 * there. Constant tables; any thread. */
#include "lpt_weights_impl.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- Hugging Face transformers ViTModel / ViTForImageClassification -------------------- */

static const LptWeightsRow hf_vit_top[] = {
    {"patch.weight", "embeddings.patch_embeddings.projection.weight", LPT_WS_PATCH, false},
    {"patch.bias", "embeddings.patch_embeddings.projection.bias", LPT_WS_C, false},
    {"cls", "embeddings.cls_token", LPT_WS_1_1_C, false},
    {"pos", "embeddings.position_embeddings", LPT_WS_1_T_C, false},
    {"norm.weight", "layernorm.weight", LPT_WS_C, false},
    {"norm.bias", "layernorm.bias", LPT_WS_C, false},
};

#define HF_ATT "encoder.layer.%d.attention.attention."
static const LptWeightsRow hf_vit_block[] = {
    {"ln1.weight", "encoder.layer.%d.layernorm_before.weight", LPT_WS_C, false},
    {"ln1.bias", "encoder.layer.%d.layernorm_before.bias", LPT_WS_C, false},
    {"qkv.weight", HF_ATT "query.weight;" HF_ATT "key.weight;" HF_ATT "value.weight", LPT_WS_CC,
     false},
    {"qkv.bias", HF_ATT "query.bias;" HF_ATT "key.bias;" HF_ATT "value.bias", LPT_WS_C, false},
    {"proj.weight", "encoder.layer.%d.attention.output.dense.weight", LPT_WS_CC, false},
    {"proj.bias", "encoder.layer.%d.attention.output.dense.bias", LPT_WS_C, false},
    {"ln2.weight", "encoder.layer.%d.layernorm_after.weight", LPT_WS_C, false},
    {"ln2.bias", "encoder.layer.%d.layernorm_after.bias", LPT_WS_C, false},
    {"fc1.weight", "encoder.layer.%d.intermediate.dense.weight", LPT_WS_MLP_C, false},
    {"fc1.bias", "encoder.layer.%d.intermediate.dense.bias", LPT_WS_MLP, false},
    {"fc2.weight", "encoder.layer.%d.output.dense.weight", LPT_WS_C_MLP, false},
    {"fc2.bias", "encoder.layer.%d.output.dense.bias", LPT_WS_C, false},
};

static const char *const hf_vit_ignore[] = {"/classifier.", "pooler.", "embeddings.mask_token",
                                            NULL};
static const char *const no_text[] = {NULL};

/* ---- Hugging Face transformers CLIPModel / CLIPVisionModel ----------------------------- */

static const LptWeightsRow hf_clip_top[] = {
    {"patch.weight", "embeddings.patch_embedding.weight", LPT_WS_PATCH, false},
    {"cls", "embeddings.class_embedding", LPT_WS_C, false},
    {"pos", "embeddings.position_embedding.weight", LPT_WS_T_C, false},
    {"ln_pre.weight", "pre_layrnorm.weight", LPT_WS_C, false},
    {"ln_pre.bias", "pre_layrnorm.bias", LPT_WS_C, false},
    {"norm.weight", "post_layernorm.weight", LPT_WS_C, false},
    {"norm.bias", "post_layernorm.bias", LPT_WS_C, false},
    {"proj", "/visual_projection.weight", LPT_WS_CF_C, true},
};

#define HF_SA "encoder.layers.%d.self_attn."
static const LptWeightsRow hf_clip_block[] = {
    {"ln1.weight", "encoder.layers.%d.layer_norm1.weight", LPT_WS_C, false},
    {"ln1.bias", "encoder.layers.%d.layer_norm1.bias", LPT_WS_C, false},
    {"qkv.weight", HF_SA "q_proj.weight;" HF_SA "k_proj.weight;" HF_SA "v_proj.weight", LPT_WS_CC,
     false},
    {"qkv.bias", HF_SA "q_proj.bias;" HF_SA "k_proj.bias;" HF_SA "v_proj.bias", LPT_WS_C, false},
    {"proj.weight", HF_SA "out_proj.weight", LPT_WS_CC, false},
    {"proj.bias", HF_SA "out_proj.bias", LPT_WS_C, false},
    {"ln2.weight", "encoder.layers.%d.layer_norm2.weight", LPT_WS_C, false},
    {"ln2.bias", "encoder.layers.%d.layer_norm2.bias", LPT_WS_C, false},
    {"fc1.weight", "encoder.layers.%d.mlp.fc1.weight", LPT_WS_MLP_C, false},
    {"fc1.bias", "encoder.layers.%d.mlp.fc1.bias", LPT_WS_MLP, false},
    {"fc2.weight", "encoder.layers.%d.mlp.fc2.weight", LPT_WS_C_MLP, false},
    {"fc2.bias", "encoder.layers.%d.mlp.fc2.bias", LPT_WS_C, false},
};

static const char *const hf_clip_ignore[] = {"/logit_scale", "embeddings.position_ids", NULL};
static const char *const hf_clip_text[] = {"/text_model.", "/text_projection.", NULL};

/* ---- timm VisionTransformer ------------------------------------------------------------ */

static const LptWeightsRow timm_top[] = {
    {"patch.weight", "patch_embed.proj.weight", LPT_WS_PATCH, false},
    {"patch.bias", "patch_embed.proj.bias", LPT_WS_C, false},
    {"cls", "cls_token", LPT_WS_1_1_C, false},
    {"pos", "pos_embed", LPT_WS_1_T_C, false},
    {"norm.weight", "norm.weight", LPT_WS_C, false},
    {"norm.bias", "norm.bias", LPT_WS_C, false},
};

static const LptWeightsRow timm_block[] = {
    {"ln1.weight", "blocks.%d.norm1.weight", LPT_WS_C, false},
    {"ln1.bias", "blocks.%d.norm1.bias", LPT_WS_C, false},
    {"qkv.weight", "blocks.%d.attn.qkv.weight", LPT_WS_3CC, false},
    {"qkv.bias", "blocks.%d.attn.qkv.bias", LPT_WS_3C, false},
    {"proj.weight", "blocks.%d.attn.proj.weight", LPT_WS_CC, false},
    {"proj.bias", "blocks.%d.attn.proj.bias", LPT_WS_C, false},
    {"ln2.weight", "blocks.%d.norm2.weight", LPT_WS_C, false},
    {"ln2.bias", "blocks.%d.norm2.bias", LPT_WS_C, false},
    {"fc1.weight", "blocks.%d.mlp.fc1.weight", LPT_WS_MLP_C, false},
    {"fc1.bias", "blocks.%d.mlp.fc1.bias", LPT_WS_MLP, false},
    {"fc2.weight", "blocks.%d.mlp.fc2.weight", LPT_WS_C_MLP, false},
    {"fc2.bias", "blocks.%d.mlp.fc2.bias", LPT_WS_C, false},
};

static const char *const timm_ignore[] = {"head.", NULL};

/* ---- OpenCLIP / OpenAI CLIP -------------------------------------------------------------- */

static const LptWeightsRow openclip_top[] = {
    {"patch.weight", "conv1.weight", LPT_WS_PATCH, false},
    {"cls", "class_embedding", LPT_WS_C, false},
    {"pos", "positional_embedding", LPT_WS_T_C, false},
    {"ln_pre.weight", "ln_pre.weight", LPT_WS_C, false},
    {"ln_pre.bias", "ln_pre.bias", LPT_WS_C, false},
    {"norm.weight", "ln_post.weight", LPT_WS_C, false},
    {"norm.bias", "ln_post.bias", LPT_WS_C, false},
    {"proj", "proj", LPT_WS_C_CF, true},
};

#define OC_RB "transformer.resblocks.%d."
static const LptWeightsRow openclip_block[] = {
    {"ln1.weight", OC_RB "ln_1.weight", LPT_WS_C, false},
    {"ln1.bias", OC_RB "ln_1.bias", LPT_WS_C, false},
    {"qkv.weight", OC_RB "attn.in_proj_weight", LPT_WS_3CC, false},
    {"qkv.bias", OC_RB "attn.in_proj_bias", LPT_WS_3C, false},
    {"proj.weight", OC_RB "attn.out_proj.weight", LPT_WS_CC, false},
    {"proj.bias", OC_RB "attn.out_proj.bias", LPT_WS_C, false},
    {"ln2.weight", OC_RB "ln_2.weight", LPT_WS_C, false},
    {"ln2.bias", OC_RB "ln_2.bias", LPT_WS_C, false},
    {"fc1.weight", OC_RB "mlp.c_fc.weight", LPT_WS_MLP_C, false},
    {"fc1.bias", OC_RB "mlp.c_fc.bias", LPT_WS_MLP, false},
    {"fc2.weight", OC_RB "mlp.c_proj.weight", LPT_WS_C_MLP, false},
    {"fc2.bias", OC_RB "mlp.c_proj.bias", LPT_WS_C, false},
};

/* logit_scale/bias, OpenAI's attention-mask buffer and the scalars of its JIT archive */
static const char *const openclip_ignore[] = {"/logit_scale", "/logit_bias", "/attn_mask",
                                              "/input_resolution", "/context_length",
                                              "/vocab_size", NULL};
/* OpenAI's top-level text tower, or OpenCLIP's CustomTextCLIP one under "text." */
static const char *const openclip_text[] = {"/token_embedding.", "/positional_embedding",
                                            "/transformer.", "/ln_final.", "/text_projection",
                                            "/text.", NULL};

/* ---- torchvision VisionTransformer ------------------------------------------------------ */

static const LptWeightsRow tv_top[] = {
    {"patch.weight", "conv_proj.weight", LPT_WS_PATCH, false},
    {"patch.bias", "conv_proj.bias", LPT_WS_C, false},
    {"cls", "class_token", LPT_WS_1_1_C, false},
    {"pos", "encoder.pos_embedding", LPT_WS_1_T_C, false},
    {"norm.weight", "encoder.ln.weight", LPT_WS_C, false},
    {"norm.bias", "encoder.ln.bias", LPT_WS_C, false},
};

#define TV_L "encoder.layers.encoder_layer_%d."
static const LptWeightsRow tv_block[] = {
    {"ln1.weight", TV_L "ln_1.weight", LPT_WS_C, false},
    {"ln1.bias", TV_L "ln_1.bias", LPT_WS_C, false},
    {"qkv.weight", TV_L "self_attention.in_proj_weight", LPT_WS_3CC, false},
    {"qkv.bias", TV_L "self_attention.in_proj_bias", LPT_WS_3C, false},
    {"proj.weight", TV_L "self_attention.out_proj.weight", LPT_WS_CC, false},
    {"proj.bias", TV_L "self_attention.out_proj.bias", LPT_WS_C, false},
    {"ln2.weight", TV_L "ln_2.weight", LPT_WS_C, false},
    {"ln2.bias", TV_L "ln_2.bias", LPT_WS_C, false},
    /* torchvision >= 0.13 names the MLP's layers by index; older files by name */
    {"fc1.weight", TV_L "mlp.0.weight|" TV_L "mlp.linear_1.weight", LPT_WS_MLP_C, false},
    {"fc1.bias", TV_L "mlp.0.bias|" TV_L "mlp.linear_1.bias", LPT_WS_MLP, false},
    {"fc2.weight", TV_L "mlp.3.weight|" TV_L "mlp.linear_2.weight", LPT_WS_C_MLP, false},
    {"fc2.bias", TV_L "mlp.3.bias|" TV_L "mlp.linear_2.bias", LPT_WS_C, false},
};

static const char *const tv_ignore[] = {"heads.", NULL};

/* ---- the table of namings ---------------------------------------------------------------- */

static const LptWeightsNamingDef namings[LPT_WEIGHTS_NAMINGS] = {
    {LPT_WEIGHTS_HF_VIT, "hf-vit", "Hugging Face transformers ViT",
     "embeddings.patch_embeddings.projection.weight", "embeddings.cls_token", "encoder.layer.",
     hf_vit_top, hf_vit_block, COUNT(hf_vit_top), COUNT(hf_vit_block), hf_vit_ignore, no_text,
     false, 1e-12f, "transformers' ViTConfig default 1e-12", LPT_VIT_ACT_GELU, true},
    {LPT_WEIGHTS_HF_CLIP, "hf-clip", "Hugging Face transformers CLIP",
     "embeddings.patch_embedding.weight", "embeddings.class_embedding", "encoder.layers.",
     hf_clip_top, hf_clip_block, COUNT(hf_clip_top), COUNT(hf_clip_block), hf_clip_ignore,
     hf_clip_text, true, 1e-5f, "CLIP default 1e-5", LPT_VIT_ACT_QUICK_GELU, false},
    {LPT_WEIGHTS_TIMM, "timm", "timm VisionTransformer", "patch_embed.proj.weight", "cls_token",
     "blocks.", timm_top, timm_block, COUNT(timm_top), COUNT(timm_block), timm_ignore, no_text,
     false, 1e-6f, "timm default 1e-6", LPT_VIT_ACT_GELU, true},
    {LPT_WEIGHTS_OPENCLIP, "openclip", "OpenCLIP / OpenAI CLIP", "conv1.weight",
     "class_embedding", "transformer.resblocks.", openclip_top, openclip_block,
     COUNT(openclip_top), COUNT(openclip_block), openclip_ignore, openclip_text, true, 1e-5f,
     "CLIP default 1e-5", LPT_VIT_ACT_QUICK_GELU, false},
    {LPT_WEIGHTS_TORCHVISION, "torchvision", "torchvision VisionTransformer", "conv_proj.weight",
     "class_token", "encoder.layers.encoder_layer_", tv_top, tv_block, COUNT(tv_top),
     COUNT(tv_block), tv_ignore, no_text, false, 1e-6f, "torchvision default 1e-6",
     LPT_VIT_ACT_GELU, true},
};

const LptWeightsNamingDef *lpt_weights_naming_def(LptWeightsNaming naming)
{
    if ((int)naming < 0 || (int)naming >= LPT_WEIGHTS_NAMINGS)
        return NULL;
    return &namings[naming];
}

const char *lpt_weights_naming_id(LptWeightsNaming naming)
{
    const LptWeightsNamingDef *d = lpt_weights_naming_def(naming);
    return d ? d->id : "?";
}

const char *lpt_weights_naming_title(LptWeightsNaming naming)
{
    const LptWeightsNamingDef *d = lpt_weights_naming_def(naming);
    return d ? d->title : "?";
}

const LptWeightsRow *lpt_weights_row(const LptWeightsNamingDef *def, const char *canon,
                                     int *block)
{
    *block = -1;
    if (strncmp(canon, "blocks.", 7) == 0) {
        char *end;
        long i = strtol(canon + 7, &end, 10);
        if (end == canon + 7 || *end != '.' || i < 0 || i > 1 << 20)
            return NULL;
        for (int r = 0; r < def->n_block; r++)
            if (strcmp(end + 1, def->block[r].canon) == 0) {
                *block = (int)i;
                return &def->block[r];
            }
        return NULL;
    }
    for (int r = 0; r < def->n_top; r++)
        if (strcmp(canon, def->top[r].canon) == 0)
            return &def->top[r];
    return NULL;
}

/* lpt_weights_config.c: the config file beside a weights file (lpt_weights.h). Three dialects,
 * told apart by their keys, whatever the naming of the tensors:
 *   Hugging Face config.json: model_type, hidden_size, num_hidden_layers, num_attention_heads,
 *     intermediate_size, patch_size, image_size, num_channels, layer_norm_eps, hidden_act
 *     (for CLIPModel in "vision_config"; projection_dim at the top);
 *   OpenCLIP open_clip_config.json ({"model_cfg": ..., "preprocess_cfg": ...}) or a bare
 *     OpenCLIP model config: embed_dim, quick_gelu, vision_cfg.{width, layers, head_width,
 *     mlp_ratio, patch_size, image_size}, preprocess_cfg.{mean, std};
 *   timm config.json: model_args.{num_heads, embed_dim, depth}, pretrained_cfg.{input_size,
 *     mean, std}.
 * Sizes a config states are checked against the tensors; settings the tensors cannot show
 * (heads, eps, activation, normalisation) are taken from it. Pure functions; any thread.
 */
#include "lpt_weights_impl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (4u << 20)

/* What the checks below need to name things in messages. */
typedef struct Ctx {
    const char *path, *base; /* the file and its last path component */
    const LptWeightsNamingDef *def;
    const LptWeightsFound *found;
    LptWeightsConfig *cfg;
    LptError *err;
} Ctx;

static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* Reads the whole file (at most CONFIG_MAX_BYTES) as a NUL-terminated string. */
static char *read_text(const char *path, LptError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lpt_error_set(err, LPT_ERR_IO, errno, "config '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, CONFIG_MAX_BYTES + 1, f) : 0;
    if (!text) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "config '%s': out of memory", path);
    } else if (ferror(f)) {
        lpt_error_set(err, LPT_ERR_IO, errno, "config '%s': read error", path);
        free(text);
        text = NULL;
    } else if (n > CONFIG_MAX_BYTES) {
        lpt_error_set(err, LPT_ERR_FORMAT, 0, "config '%s': larger than %u bytes", path,
                      CONFIG_MAX_BYTES);
        free(text);
        text = NULL;
    } else {
        text[n] = '\0';
    }
    fclose(f);
    return text;
}

/* A positive integer at o[key]: 1 when present and valid, 0 when absent, -1 (error set) when
 * present but not a positive integer. */
static int get_int(Ctx *c, const cJSON *o, const char *key, int *out)
{
    const cJSON *v = item(o, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > 1e9) {
        lpt_error_set(c->err, LPT_ERR_FORMAT, 0, "config '%s': '%s' is not a positive integer",
                      c->path, key);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 1;
}

/* Checks a size the config states (o[key], when present) against the tensors' value. */
static LptStatus check_size(Ctx *c, const cJSON *o, const char *key, int value,
                            const char *what, const char *tensor)
{
    int stated = 0;
    int got = get_int(c, o, key, &stated);
    if (got < 0)
        return LPT_ERR_FORMAT;
    if (got > 0 && stated != value)
        return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                             "config '%s': %s %d contradicts the tensors: '%s' gives %s %d",
                             c->path, key, stated, tensor, what, value);
    return LPT_OK;
}

/* An image size: an integer or a list of equal integers ([H, W] or [3, H, W] in timm). */
static LptStatus check_image(Ctx *c, const cJSON *o, const char *key, bool channels_first)
{
    const cJSON *v = item(o, key);
    if (!v || cJSON_IsNumber(v))
        return check_size(c, o, key, c->found->image, "image size", c->found->image_from);
    int n = cJSON_GetArraySize(v), first = channels_first ? 1 : 0;
    for (int i = first; cJSON_IsArray(v) && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsNumber(e))
            break;
        if (e->valuedouble != c->found->image)
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': %s gives a side of %g; the tensors ('%s') give "
                                 "image size %d",
                                 c->path, key, e->valuedouble, c->found->image_from,
                                 c->found->image);
        if (i == n - 1)
            return LPT_OK;
    }
    return lpt_error_set(c->err, LPT_ERR_FORMAT, 0, "config '%s': '%s' is not an image size",
                         c->path, key);
}

static LptStatus set_heads(Ctx *c, int heads, const char *key)
{
    if (c->found->width % heads != 0)
        return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                             "config '%s': %d heads do not divide width %d (from '%s')", c->path,
                             heads, c->found->width, c->found->width_from);
    c->cfg->heads = heads;
    snprintf(c->cfg->heads_from, sizeof c->cfg->heads_from, "%s %s", c->base, key);
    return LPT_OK;
}

/* Three numbers at o[key] into out (untouched when absent). */
static LptStatus get_triple(Ctx *c, const cJSON *o, const char *key, float out[3])
{
    const cJSON *v = item(o, key);
    if (!v)
        return LPT_OK;
    float t[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 3 ? cJSON_GetArrayItem(v, i)
                                                                         : NULL;
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': '%s' is not a list of 3 numbers", c->path, key);
        t[i] = (float)e->valuedouble;
    }
    memcpy(out, t, sizeof t);
    return LPT_OK;
}

static LptStatus check_std(Ctx *c, const char *key)
{
    for (int i = 0; i < 3; i++)
        if (!(c->cfg->std[i] > 0.0f))
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0, "config '%s': '%s' must be > 0",
                                 c->path, key);
    return LPT_OK;
}

/* Hugging Face config.json (ViTConfig, CLIPConfig or CLIPVisionConfig). */
static LptStatus read_hf(Ctx *c, const cJSON *root)
{
    const LptWeightsFound *f = c->found;
    const cJSON *type = item(root, "model_type");
    if (cJSON_IsString(type)) {
        bool clip = strncmp(type->valuestring, "clip", 4) == 0;
        if (clip != c->def->clip)
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': model_type '%s' contradicts the tensors, which "
                                 "are in the %s naming (a %s tower)",
                                 c->path, type->valuestring, c->def->title,
                                 c->def->clip ? "CLIP" : "ViT");
    }
    const cJSON *vc = item(root, "vision_config");
    if (!cJSON_IsObject(vc))
        vc = root;
    LptStatus st;
    if ((st = check_size(c, vc, "hidden_size", f->width, "width", f->width_from)) ||
        (st = check_size(c, vc, "num_hidden_layers", f->depth, "depth", f->depth_from)) ||
        (st = check_size(c, vc, "intermediate_size", f->mlp, "MLP width", f->mlp_from)) ||
        (st = check_size(c, vc, "patch_size", f->patch, "patch", f->width_from)) ||
        (st = check_size(c, vc, "num_channels", 3, "channels", f->width_from)) ||
        (st = check_image(c, vc, "image_size", false)))
        return st;
    if (f->proj_dim > 0) {
        const cJSON *pd_owner = item(root, "projection_dim") ? root : vc;
        if ((st = check_size(c, pd_owner, "projection_dim", f->proj_dim, "projection width",
                             f->proj_from)))
            return st;
    }
    int heads = 0;
    int got = get_int(c, vc, "num_attention_heads", &heads);
    if (got < 0)
        return LPT_ERR_FORMAT;
    if (got > 0 && (st = set_heads(c, heads, "num_attention_heads")))
        return st;
    const cJSON *eps = item(vc, "layer_norm_eps");
    if (eps) {
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0) || eps->valuedouble > 1)
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': layer_norm_eps is not a number in (0, 1]",
                                 c->path);
        c->cfg->eps = (float)eps->valuedouble;
        snprintf(c->cfg->eps_from, sizeof c->cfg->eps_from, "%s layer_norm_eps", c->base);
    }
    const cJSON *act = item(vc, "hidden_act");
    if (act) {
        const char *a = cJSON_IsString(act) ? act->valuestring : "(not a string)";
        if (strcmp(a, "gelu") == 0)
            c->cfg->act = LPT_VIT_ACT_GELU;
        else if (strcmp(a, "quick_gelu") == 0)
            c->cfg->act = LPT_VIT_ACT_QUICK_GELU;
        else
            return lpt_error_set(c->err, LPT_ERR_UNSUPPORTED, 0,
                                 "config '%s': hidden_act '%s' is not supported (only 'gelu' "
                                 "and 'quick_gelu')",
                                 c->path, a);
        snprintf(c->cfg->act_from, sizeof c->cfg->act_from, "%s hidden_act", c->base);
    }
    return LPT_OK;
}

/* OpenCLIP's open_clip_config.json, or a bare OpenCLIP model config. */
static LptStatus read_openclip(Ctx *c, const cJSON *root)
{
    const LptWeightsFound *f = c->found;
    const cJSON *mc = item(root, "model_cfg");
    if (!cJSON_IsObject(mc))
        mc = root;
    const cJSON *vc = item(mc, "vision_cfg");
    LptStatus st;
    if (cJSON_IsObject(vc)) {
        if (item(vc, "layers") && !cJSON_IsNumber(item(vc, "layers")))
            return lpt_error_set(c->err, LPT_ERR_UNSUPPORTED, 0,
                                 "config '%s': vision_cfg.layers is not a number (a ResNet "
                                 "tower?); only ViT towers are supported",
                                 c->path);
        if ((st = check_size(c, vc, "width", f->width, "width", f->width_from)) ||
            (st = check_size(c, vc, "layers", f->depth, "depth", f->depth_from)) ||
            (st = check_size(c, vc, "patch_size", f->patch, "patch", f->width_from)) ||
            (st = check_image(c, vc, "image_size", false)))
            return st;
        const cJSON *ratio = item(vc, "mlp_ratio");
        if (ratio && (!cJSON_IsNumber(ratio) || (int)(f->width * ratio->valuedouble) != f->mlp))
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': mlp_ratio contradicts the tensors: '%s' gives "
                                 "MLP width %d for width %d",
                                 c->path, f->mlp_from, f->mlp, f->width);
        int head_width = 64; /* OpenCLIP's default */
        int got = get_int(c, vc, "head_width", &head_width);
        if (got < 0)
            return LPT_ERR_FORMAT;
        if (f->width % head_width != 0)
            return lpt_error_set(c->err, LPT_ERR_FORMAT, 0,
                                 "config '%s': head_width %d does not divide width %d (from "
                                 "'%s')",
                                 c->path, head_width, f->width, f->width_from);
        if ((st = set_heads(c, f->width / head_width,
                            got ? "vision_cfg.head_width" : "(head_width default 64)")))
            return st;
    }
    if (f->proj_dim > 0 &&
        (st = check_size(c, mc, "embed_dim", f->proj_dim, "projection width", f->proj_from)))
        return st;
    const cJSON *qg = item(mc, "quick_gelu");
    if (qg && !cJSON_IsBool(qg))
        return lpt_error_set(c->err, LPT_ERR_FORMAT, 0, "config '%s': quick_gelu is not a bool",
                             c->path);
    c->cfg->act = cJSON_IsTrue(qg) ? LPT_VIT_ACT_QUICK_GELU : LPT_VIT_ACT_GELU;
    snprintf(c->cfg->act_from, sizeof c->cfg->act_from, "%s quick_gelu%s", c->base,
             qg ? "" : " (absent: false, as OpenCLIP)");
    const cJSON *pp = item(root, "preprocess_cfg");
    if ((st = get_triple(c, pp, "mean", c->cfg->mean)) ||
        (st = get_triple(c, pp, "std", c->cfg->std)))
        return st;
    return check_std(c, "preprocess_cfg.std");
}

/* timm's config.json (hub format). */
static LptStatus read_timm(Ctx *c, const cJSON *root)
{
    const LptWeightsFound *f = c->found;
    const cJSON *args = item(root, "model_args"), *pc = item(root, "pretrained_cfg");
    LptStatus st;
    if ((st = check_size(c, args, "embed_dim", f->width, "width", f->width_from)) ||
        (st = check_size(c, args, "depth", f->depth, "depth", f->depth_from)) ||
        (st = check_size(c, args, "patch_size", f->patch, "patch", f->width_from)) ||
        (st = check_image(c, pc, "input_size", true)))
        return st;
    int heads = 0;
    int got = get_int(c, args, "num_heads", &heads);
    if (got < 0)
        return LPT_ERR_FORMAT;
    if (got > 0 && (st = set_heads(c, heads, "model_args.num_heads")))
        return st;
    if ((st = get_triple(c, pc, "mean", c->cfg->mean)) ||
        (st = get_triple(c, pc, "std", c->cfg->std)))
        return st;
    return check_std(c, "pretrained_cfg.std");
}

LptStatus lpt_weights_read_config(const char *path, const LptWeightsNamingDef *def,
                                  const LptWeightsFound *found, LptWeightsConfig *cfg,
                                  LptError *err)
{
    const char *slash = strrchr(path, '/');
    Ctx c = {path, slash ? slash + 1 : path, def, found, cfg, err};
    char *text = read_text(path, err);
    if (!text)
        return err ? err->code : LPT_ERR_IO;
    cJSON *root = cJSON_Parse(text);
    free(text);
    LptStatus st;
    if (!cJSON_IsObject(root))
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "config '%s': not a JSON object", path);
    else if (item(root, "model_cfg") || item(root, "vision_cfg"))
        st = read_openclip(&c, root);
    else if (item(root, "pretrained_cfg") || item(root, "model_args") ||
             item(root, "architecture"))
        st = read_timm(&c, root);
    else if (item(root, "model_type") || item(root, "vision_config") ||
             item(root, "hidden_size"))
        st = read_hf(&c, root);
    else
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "config '%s': not a config this loader reads (no model_type, "
                           "vision_config, model_cfg, vision_cfg or pretrained_cfg)",
                           path);
    cJSON_Delete(root);
    return st;
}

/* lpt_clip_text_load.c: the text tower from the weight files users have -- the name maps of
 * Hugging Face CLIPModel (text_model.*) and of OpenAI CLIP / OpenCLIP (token_embedding,
 * transformer.resblocks.*, ln_final, text_projection), and their config files -- onto the
 * canonical tensors of lpt_clip_text.h. See lpt_clip_text_load in the header for what is read.
 *
 * Invariant: every tensor of the file's text-tower namespace is placed exactly once or the
 * file is refused, so a tower with parts this code does not know (layer scale, a projection
 * bias, another pooling) never loads as something else.
 */
#include "lpt_clip_text.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_safetensors.h"

#define KEY_LEN 160
#define CONFIG_MAX_BYTES (1u << 20)

typedef enum Naming {
    NAMING_HF,     /* text_model.*, text_projection.weight */
    NAMING_OPENAI, /* token_embedding.weight, ... at the top level or under "text." */
} Naming;

/* One load in progress. */
typedef struct Loader {
    const LptSafetensors *st;
    const char *path;
    Naming naming;
    const char *prefix;               /* OpenAI naming: "" or "text." */
    const LptSafetensorsEntry **used; /* file tensors placed so far */
    int n_used, cap_used;
    float *buf, *tmp; /* [largest canonical tensor] */
} Loader;

void lpt_clip_text_load_options_init(LptClipTextLoadOptions *opt)
{
    opt->heads = 0;
    opt->act = -1;
    opt->eps = 0.0f;
}

/* "[a, b]" for an entry's shape. */
static void shape_text(char *out, size_t size, const LptSafetensorsEntry *e)
{
    size_t n = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < e->ndim && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%zu", i ? ", " : "", e->shape[i]);
    if (n < size)
        snprintf(out + n, size - n, "]");
}

static const LptSafetensorsEntry *find(const Loader *ld, const char *name)
{
    return lpt_safetensors_find(ld->st, name);
}

/* Reads the file tensor `name`, which must have shape [rows, cols] ([rows] when cols is 0),
 * into dst (transposed to [cols, rows] when transpose), and marks it placed. */
static LptStatus read_tensor(Loader *ld, const char *name, size_t rows, size_t cols, bool transpose,
                             float *dst, LptError *err)
{
    const LptSafetensorsEntry *e = find(ld, name);
    if (!e)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' is missing", ld->path,
                             name);
    int ndim = cols ? 2 : 1;
    if (e->ndim != ndim || e->shape[0] != rows || (cols && e->shape[1] != cols)) {
        char found[96];
        shape_text(found, sizeof found, e);
        if (cols)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "'%s': tensor '%s' has shape %s, expected [%zu, %zu]", ld->path,
                                 name, found, rows, cols);
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has shape %s, expected [%zu]", ld->path, name,
                             found, rows);
    }
    LptStatus st = lpt_safetensors_read_f32(ld->st, e, transpose ? ld->tmp : dst, e->numel, err);
    if (st != LPT_OK)
        return st;
    if (transpose)
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < cols; c++)
                dst[c * rows + r] = ld->tmp[r * cols + c];
    if (ld->n_used == ld->cap_used) {
        int cap = ld->cap_used ? 2 * ld->cap_used : 64;
        const LptSafetensorsEntry **u = realloc(ld->used, (size_t)cap * sizeof *u);
        if (!u)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of host memory",
                                 ld->path);
        ld->used = u;
        ld->cap_used = cap;
    }
    ld->used[ld->n_used++] = e;
    return LPT_OK;
}

/* The shape of a 2-D tensor (0, 0 when it is absent or not 2-D). */
static void shape2(const Loader *ld, const char *name, size_t *rows, size_t *cols)
{
    const LptSafetensorsEntry *e = find(ld, name);
    *rows = e && e->ndim == 2 ? e->shape[0] : 0;
    *cols = e && e->ndim == 2 ? e->shape[1] : 0;
}

/* The file name of canonical block tensor `what` of layer i (what: ln1, ln2, proj, fc1, fc2
 * with ".weight"/".bias"; q, k, v for Hugging Face; qkv for OpenAI). */
static void block_key(const Loader *ld, char *key, int i, const char *what, const char *kind)
{
    static const char *const hf[][2] = {
        {"ln1", "layer_norm1"},    {"ln2", "layer_norm2"},    {"proj", "self_attn.out_proj"},
        {"fc1", "mlp.fc1"},        {"fc2", "mlp.fc2"},        {"q", "self_attn.q_proj"},
        {"k", "self_attn.k_proj"}, {"v", "self_attn.v_proj"},
    };
    static const char *const oa[][2] = {
        {"ln1", "ln_1"},     {"ln2", "ln_2"},       {"proj", "attn.out_proj"},
        {"fc1", "mlp.c_fc"}, {"fc2", "mlp.c_proj"},
    };
    if (ld->naming == NAMING_OPENAI && strcmp(what, "qkv") == 0) {
        snprintf(key, KEY_LEN, "%stransformer.resblocks.%d.attn.in_proj_%s", ld->prefix, i, kind);
        return;
    }
    const char *const(*map)[2] = ld->naming == NAMING_HF ? hf : oa;
    size_t n = ld->naming == NAMING_HF ? sizeof hf / sizeof hf[0] : sizeof oa / sizeof oa[0];
    const char *name = what;
    for (size_t j = 0; j < n; j++)
        if (strcmp(map[j][0], what) == 0)
            name = map[j][1];
    if (ld->naming == NAMING_HF)
        snprintf(key, KEY_LEN, "text_model.encoder.layers.%d.%s.%s", i, name, kind);
    else
        snprintf(key, KEY_LEN, "%stransformer.resblocks.%d.%s.%s", ld->prefix, i, name, kind);
}

/* The global tensors' file names: token embedding, positions, final LN prefix. */
static void global_key(const Loader *ld, char *key, const char *what)
{
    if (ld->naming == NAMING_HF) {
        if (strcmp(what, "tok") == 0)
            snprintf(key, KEY_LEN, "text_model.embeddings.token_embedding.weight");
        else if (strcmp(what, "pos") == 0)
            snprintf(key, KEY_LEN, "text_model.embeddings.position_embedding.weight");
        else
            snprintf(key, KEY_LEN, "text_model.final_layer_norm.%s", what);
        return;
    }
    if (strcmp(what, "tok") == 0)
        snprintf(key, KEY_LEN, "%stoken_embedding.weight", ld->prefix);
    else if (strcmp(what, "pos") == 0)
        snprintf(key, KEY_LEN, "%spositional_embedding", ld->prefix);
    else
        snprintf(key, KEY_LEN, "%sln_final.%s", ld->prefix, what);
}

/* Reads a small JSON file; *root = NULL (and LPT_OK) when it does not exist. */
static LptStatus read_json(const char *path, cJSON **root, LptError *err)
{
    *root = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT
                   ? LPT_OK
                   : lpt_error_set(err, LPT_ERR_IO, errno, "'%s': %s", path, strerror(errno));
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, CONFIG_MAX_BYTES + 1, f) : 0;
    bool bad_read = ferror(f) != 0;
    fclose(f);
    LptStatus st = LPT_OK;
    if (!text)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of host memory", path);
    else if (bad_read)
        st = lpt_error_set(err, LPT_ERR_IO, 0, "'%s': read error", path);
    else if (n > CONFIG_MAX_BYTES)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': larger than %u bytes", path,
                           CONFIG_MAX_BYTES);
    if (st == LPT_OK) {
        text[n] = '\0';
        *root = cJSON_Parse(text);
        if (!*root)
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': not valid JSON", path);
    }
    free(text);
    return st;
}

/* Fills heads/act/eps that are still unset (0, -1, 0) from the config file beside the weights
 * (config.json for Hugging Face naming, open_clip_config.json for OpenAI naming). */
static LptStatus read_config(const Loader *ld, int *heads, int *act, float *eps, LptError *err)
{
    const char *slash = strrchr(ld->path, '/');
    size_t dir_len = slash ? (size_t)(slash - ld->path + 1) : 0;
    const char *base = ld->naming == NAMING_HF ? "config.json" : "open_clip_config.json";
    char *path = malloc(dir_len + strlen(base) + 1);
    if (!path)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
    memcpy(path, ld->path, dir_len);
    strcpy(path + dir_len, base);
    cJSON *root = NULL;
    LptStatus st = read_json(path, &root, err);
    if (st == LPT_OK && root && ld->naming == NAMING_HF) {
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
        const cJSON *c = cJSON_IsObject(tc) ? tc : root;
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(c, "num_attention_heads");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "hidden_act");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, "layer_norm_eps");
        if (*heads == 0 && cJSON_IsNumber(h))
            *heads = h->valueint;
        if (*eps == 0.0f && cJSON_IsNumber(e))
            *eps = (float)e->valuedouble;
        if (*act < 0 && cJSON_IsString(a)) {
            if (strcmp(a->valuestring, "quick_gelu") == 0)
                *act = LPT_VIT_ACT_QUICK_GELU;
            else if (strcmp(a->valuestring, "gelu") == 0)
                *act = LPT_VIT_ACT_GELU;
            else
                st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                   "'%s': hidden_act '%s' is not supported (quick_gelu, gelu)",
                                   path, a->valuestring);
        }
    } else if (st == LPT_OK && root) {
        const cJSON *mc = cJSON_GetObjectItemCaseSensitive(root, "model_cfg");
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(mc, "text_cfg");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(tc, "heads");
        const cJSON *pool = cJSON_GetObjectItemCaseSensitive(tc, "pool_type");
        if (cJSON_IsString(pool) && strcmp(pool->valuestring, "argmax") != 0)
            st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                               "'%s': text pool_type '%s' is not supported (argmax)", path,
                               pool->valuestring);
        else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tc, "no_causal_mask")))
            st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                               "'%s': a text tower without causal mask is not supported", path);
        if (*heads == 0 && cJSON_IsNumber(h))
            *heads = h->valueint;
        if (*act < 0) /* OpenCLIP's towers use nn.GELU unless quick_gelu is set */
            *act = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mc, "quick_gelu"))
                       ? LPT_VIT_ACT_QUICK_GELU
                       : LPT_VIT_ACT_GELU;
    }
    cJSON_Delete(root);
    free(path);
    return st;
}

/* Fills heads/act/eps that are still unset from the file's own "__metadata__", where `lpt
 * pretrain-clip` states them ("text_heads", "text_act": quick_gelu | gelu, "text_eps"): its
 * small towers have widths that no default tells the heads of. */
static LptStatus read_metadata(const Loader *ld, int *heads, int *act, float *eps, LptError *err)
{
    const char *h = lpt_safetensors_metadata(ld->st, "text_heads");
    const char *a = lpt_safetensors_metadata(ld->st, "text_act");
    const char *e = lpt_safetensors_metadata(ld->st, "text_eps");
    char *end;
    if (*heads == 0 && h) {
        long v = strtol(h, &end, 10);
        if (end == h || *end || v < 1 || v > 4096)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "'%s': metadata text_heads '%s' is not a number of heads",
                                 ld->path, h);
        *heads = (int)v;
    }
    if (*act < 0 && a) {
        if (strcmp(a, "quick_gelu") == 0)
            *act = LPT_VIT_ACT_QUICK_GELU;
        else if (strcmp(a, "gelu") == 0)
            *act = LPT_VIT_ACT_GELU;
        else
            return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                 "'%s': metadata text_act '%s' is not supported (quick_gelu, "
                                 "gelu)",
                                 ld->path, a);
    }
    if (*eps == 0.0f && e) {
        double v = strtod(e, &end);
        if (end == e || *end || !(v > 0.0 && v < 1.0))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "'%s': metadata text_eps '%s' is not a LayerNorm eps", ld->path,
                                 e);
        *eps = (float)v;
    }
    return LPT_OK;
}

/* Whether file tensor `name` belongs to the text tower of this naming (and so must be
 * placed); vision tensors, logit_scale and non-persistent buffers do not. */
static bool in_text_tower(const Loader *ld, const char *name)
{
    if (ld->naming == NAMING_HF)
        return (strncmp(name, "text_model.", 11) == 0 &&
                strcmp(name, "text_model.embeddings.position_ids") != 0) ||
               strncmp(name, "text_projection", 15) == 0;
    if (ld->prefix[0])
        return strncmp(name, ld->prefix, strlen(ld->prefix)) == 0 &&
               strcmp(name + strlen(ld->prefix), "attn_mask") != 0;
    static const char *const top[] = {"token_embedding.", "positional_embedding", "transformer.",
                                      "ln_final.", "text_projection"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (strncmp(name, top[i], strlen(top[i])) == 0)
            return true;
    return false;
}

/* Finds the naming, the sizes and the config of the file's text tower. */
static LptStatus detect(Loader *ld, const LptClipTextLoadOptions *opt, LptClipTextConfig *cfg,
                        LptError *err)
{
    if (find(ld, "text_model.embeddings.token_embedding.weight")) {
        ld->naming = NAMING_HF;
    } else if (find(ld, "token_embedding.weight")) {
        ld->naming = NAMING_OPENAI;
        ld->prefix = "";
    } else if (find(ld, "text.token_embedding.weight")) {
        ld->naming = NAMING_OPENAI;
        ld->prefix = "text.";
    } else {
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "'%s': no CLIP text tower (none of "
                             "text_model.embeddings.token_embedding.weight, "
                             "token_embedding.weight, text.token_embedding.weight)",
                             ld->path);
    }
    char key[KEY_LEN];
    size_t V, W, ctx, W2, mlp, W3, D = 0, W4 = 0;
    global_key(ld, key, "tok");
    shape2(ld, key, &V, &W);
    if (V == 0 || W == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' must be a 2-D [vocab, width] matrix", ld->path,
                             key);
    global_key(ld, key, "pos");
    shape2(ld, key, &ctx, &W2);
    if (ctx == 0 || W2 != W)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' must be [context, %zu]",
                             ld->path, key, W);
    int L = 0;
    for (;; L++) {
        block_key(ld, key, L, "ln1", "weight");
        if (!find(ld, key))
            break;
    }
    if (L == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' is missing (no layers)",
                             ld->path, key);
    block_key(ld, key, 0, "fc1", "weight");
    shape2(ld, key, &mlp, &W3);
    if (mlp == 0 || W3 != W)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' must be [mlp, %zu]",
                             ld->path, key, W);
    const char *proj_key = ld->naming == NAMING_HF ? "text_projection.weight" : NULL;
    char okey[KEY_LEN];
    if (!proj_key) { /* OpenAI's parameter [W, D], or OpenCLIP's linear [D, W] */
        snprintf(okey, sizeof okey, "%stext_projection", ld->prefix);
        proj_key = okey;
        shape2(ld, okey, &W4, &D);
        if (!find(ld, okey)) {
            snprintf(okey, sizeof okey, "%stext_projection.weight", ld->prefix);
            shape2(ld, okey, &D, &W4);
        }
    } else {
        shape2(ld, proj_key, &D, &W4);
    }
    if (!find(ld, proj_key))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' is missing", ld->path,
                             proj_key);
    if (D == 0 || W4 != W)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': tensor '%s' does not project width %zu",
                             ld->path, proj_key, W);

    int heads = opt ? opt->heads : 0, act = opt ? opt->act : -1;
    float eps = opt ? opt->eps : 0.0f;
    LptStatus st = read_config(ld, &heads, &act, &eps, err);
    if (st == LPT_OK)
        st = read_metadata(ld, &heads, &act, &eps, err);
    if (st != LPT_OK)
        return st;
    if (heads == 0) {
        if (W % 64 != 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "'%s': cannot tell the number of heads (width %zu is not a "
                                 "multiple of 64 and no config file or metadata says): give it",
                                 ld->path, W);
        heads = (int)(W / 64);
    }
    lpt_clip_text_config_init(cfg);
    cfg->vocab = V > (size_t)INT32_MAX ? -1 : (int)V;
    cfg->context = ctx > 4096 ? -1 : (int)ctx;
    cfg->width = W > (size_t)INT32_MAX ? -1 : (int)W;
    cfg->heads = heads;
    cfg->layers = L;
    cfg->mlp = mlp > (size_t)INT32_MAX ? -1 : (int)mlp;
    cfg->proj_dim = D > (size_t)INT32_MAX ? -1 : (int)D;
    cfg->eps = eps > 0.0f ? eps : 1e-5f;
    cfg->act = act < 0 ? LPT_VIT_ACT_QUICK_GELU : (LptVitAct)act;
    st = lpt_clip_text_config_check(cfg, err);
    return st == LPT_OK ? LPT_OK : lpt_error_prefix(err, "'%s'", ld->path);
}

/* Uploads the canonical tensor `name` from data (its whole element count). */
static LptStatus put(LptClipText *t, const char *name, const float *data, LptError *err)
{
    const LptTensor *x = lpt_clip_text_tensor(t, name);
    return lpt_clip_text_set(t, name, data, x->count, err);
}

/* Places every canonical tensor of t from the file. */
static LptStatus place_all(Loader *ld, LptClipText *t, LptError *err)
{
    const LptClipTextConfig *c = lpt_clip_text_config(t);
    size_t V = (size_t)c->vocab, W = (size_t)c->width, M = (size_t)c->mlp, D = (size_t)c->proj_dim;
    char key[KEY_LEN], name[64];
    float *b = ld->buf;
    global_key(ld, key, "tok");
    LptStatus st = read_tensor(ld, key, V, W, false, b, err);
    if (st == LPT_OK)
        st = put(t, "token_embedding", b, err);
    global_key(ld, key, "pos");
    if (st == LPT_OK)
        st = read_tensor(ld, key, (size_t)c->context, W, false, b, err);
    if (st == LPT_OK)
        st = put(t, "pos", b, err);
    static const char *const simple[][3] = {
        /* canonical suffix, file part, kind */
        {"ln1.weight", "ln1", "weight"},   {"ln1.bias", "ln1", "bias"},
        {"proj.weight", "proj", "weight"}, {"proj.bias", "proj", "bias"},
        {"ln2.weight", "ln2", "weight"},   {"ln2.bias", "ln2", "bias"},
        {"fc1.weight", "fc1", "weight"},   {"fc1.bias", "fc1", "bias"},
        {"fc2.weight", "fc2", "weight"},   {"fc2.bias", "fc2", "bias"},
    };
    for (int i = 0; i < c->layers && st == LPT_OK; i++) {
        for (size_t j = 0; j < sizeof simple / sizeof simple[0] && st == LPT_OK; j++) {
            bool weight = strcmp(simple[j][2], "weight") == 0;
            const char *part = simple[j][1];
            size_t rows = strcmp(part, "fc1") == 0 ? M : W;
            size_t cols = !weight || strncmp(part, "ln", 2) == 0 ? 0
                          : strcmp(part, "fc2") == 0             ? M
                                                                 : W;
            block_key(ld, key, i, part, simple[j][2]);
            st = read_tensor(ld, key, rows, cols, false, b, err);
            snprintf(name, sizeof name, "blocks.%d.%s", i, simple[j][0]);
            if (st == LPT_OK)
                st = put(t, name, b, err);
        }
        for (int w = 0; w < 2 && st == LPT_OK; w++) { /* qkv weight [3W, W], bias [3W] */
            const char *kind = w == 0 ? "weight" : "bias";
            size_t cols = w == 0 ? W : 0, part = w == 0 ? W * W : W;
            if (ld->naming == NAMING_OPENAI) {
                block_key(ld, key, i, "qkv", kind);
                st = read_tensor(ld, key, 3 * W, cols, false, b, err);
            } else {
                static const char *const qkv[] = {"q", "k", "v"};
                for (int p = 0; p < 3 && st == LPT_OK; p++) {
                    block_key(ld, key, i, qkv[p], kind);
                    st = read_tensor(ld, key, W, cols, false, b + p * part, err);
                }
            }
            snprintf(name, sizeof name, "blocks.%d.qkv.%s", i, kind);
            if (st == LPT_OK)
                st = put(t, name, b, err);
        }
    }
    static const char *const norm[] = {"weight", "bias"};
    for (int j = 0; j < 2 && st == LPT_OK; j++) {
        global_key(ld, key, norm[j]);
        st = read_tensor(ld, key, W, 0, false, b, err);
        snprintf(name, sizeof name, "norm.%s", norm[j]);
        if (st == LPT_OK)
            st = put(t, name, b, err);
    }
    if (st != LPT_OK)
        return st;
    if (ld->naming == NAMING_HF) {
        st = read_tensor(ld, "text_projection.weight", D, W, false, b, err);
    } else {
        snprintf(key, sizeof key, "%stext_projection", ld->prefix);
        if (find(ld, key)) { /* [W, D] */
            st = read_tensor(ld, key, W, D, true, b, err);
        } else {
            snprintf(key, sizeof key, "%stext_projection.weight", ld->prefix);
            st = read_tensor(ld, key, D, W, false, b, err);
        }
    }
    return st == LPT_OK ? put(t, "proj", b, err) : st;
}

/* Refuses the file when a tensor of its text tower was not placed. */
static LptStatus check_all_placed(const Loader *ld, LptError *err)
{
    for (int i = 0; i < lpt_safetensors_count(ld->st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(ld->st, i);
        if (!in_text_tower(ld, e->name))
            continue;
        bool placed = false;
        for (int j = 0; j < ld->n_used && !placed; j++)
            placed = ld->used[j] == e;
        if (!placed)
            return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                 "'%s': tensor '%s' has no place in a CLIP text tower", ld->path,
                                 e->name);
    }
    return LPT_OK;
}

LptClipText *lpt_clip_text_load_from(LptBackend *be, const LptSafetensors *file,
                                     const LptClipTextLoadOptions *opt, LptError *err)
{
    if (!be || !file) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text load: NULL argument");
        return NULL;
    }
    Loader ld = {0};
    ld.st = file;
    ld.path = lpt_safetensors_path(file);
    LptClipText *t = NULL;
    LptClipTextConfig cfg;
    LptStatus st = detect(&ld, opt, &cfg, err);
    if (st == LPT_OK) {
        size_t W = (size_t)cfg.width, most = (size_t)cfg.vocab * W;
        size_t others[] = {(size_t)cfg.context * W, 3 * W * W, (size_t)cfg.mlp * W,
                           (size_t)cfg.proj_dim * W};
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
            if (others[i] > most)
                most = others[i];
        ld.buf = malloc(most * sizeof *ld.buf);
        ld.tmp = malloc((size_t)cfg.proj_dim * W * sizeof *ld.tmp);
        if (!ld.buf || !ld.tmp)
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of host memory", ld.path);
    }
    if (st == LPT_OK) {
        t = lpt_clip_text_new(be, &cfg, err);
        st = t ? place_all(&ld, t, err) : LPT_ERR_OUT_OF_MEMORY;
    }
    if (st == LPT_OK)
        st = check_all_placed(&ld, err);
    free(ld.buf);
    free(ld.tmp);
    free(ld.used);
    if (st != LPT_OK) {
        lpt_clip_text_free(t);
        return NULL;
    }
    return t;
}

LptClipText *lpt_clip_text_load(LptBackend *be, const char *path, const LptClipTextLoadOptions *opt,
                                LptError *err)
{
    if (!be || !path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "clip text load: NULL argument");
        return NULL;
    }
    LptSafetensors *file = lpt_safetensors_open(path, err);
    LptClipText *t = file ? lpt_clip_text_load_from(be, file, opt, err) : NULL;
    lpt_safetensors_close(file);
    return t;
}

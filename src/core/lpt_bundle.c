/* lpt_bundle.c: writing and reading the .lptmodel bundle, and lpt_model_open. See
 * lpt_bundle.h for the format. */
#include "lpt_bundle.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lpt_augment.h"
#include "lpt_backbone.h"
#include "lpt_hash.h"
#include "lpt_safetensors.h"

#define MAX_CLASSES 1000000

static const char *act_name(LptVitAct act)
{
    return act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu";
}

static const char *interp_name(LptInterp interp)
{
    return interp == LPT_INTERP_BICUBIC ? "bicubic" : "bilinear";
}

/* ---- writing ---------------------------------------------------------------------------- */

static cJSON *floats3(const float v[3])
{
    cJSON *a = cJSON_CreateArray();
    for (int c = 0; a && c < 3; c++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[c]));
    return a;
}

static cJSON *expert_json(const LptModel *m, LptStoreExpert e, bool embed)
{
    const LptModelExpert *x = &m->expert[e];
    const LptVitConfig *vc = lpt_vit_config(x->vit);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "expert", lpt_store_expert_name(e));
    cJSON_AddStringToObject(o, "mode", lpt_model_mode_name(x->mode));
    cJSON_AddNumberToObject(o, "batch", x->batch);
    cJSON_AddNumberToObject(o, "best_epoch", x->best_epoch);
    cJSON *v = cJSON_AddObjectToObject(o, "vit");
    cJSON_AddNumberToObject(v, "depth", vc->depth);
    cJSON_AddNumberToObject(v, "width", vc->width);
    cJSON_AddNumberToObject(v, "heads", vc->heads);
    cJSON_AddNumberToObject(v, "mlp", vc->mlp);
    cJSON_AddNumberToObject(v, "patch", vc->patch);
    cJSON_AddNumberToObject(v, "image", vc->image);
    cJSON_AddNumberToObject(v, "eps", vc->eps);
    cJSON_AddStringToObject(v, "act", act_name(vc->act));
    cJSON_AddBoolToObject(v, "clip_style", vc->clip_style);
    cJSON_AddNumberToObject(v, "proj_dim", vc->proj_dim);
    cJSON_AddNumberToObject(v, "prompts", vc->prompts);
    cJSON_AddNumberToObject(v, "adapter_rank", vc->adapter_rank);
    cJSON_AddNumberToObject(v, "adapter_scale", vc->adapter_scale);
    cJSON_AddNumberToObject(v, "pool_size", vc->pool_size);
    cJSON_AddNumberToObject(v, "pool_top_k", vc->pool_top_k);
    cJSON_AddNumberToObject(v, "classes", vc->classes);
    cJSON *p = cJSON_AddObjectToObject(o, "preprocessing");
    cJSON_AddNumberToObject(p, "size", vc->image);
    cJSON_AddNumberToObject(p, "resize", lpt_augment_eval_resize(vc->image));
    cJSON_AddNumberToObject(p, "crop", vc->image);
    cJSON_AddStringToObject(p, "interpolation", interp_name(x->interp));
    cJSON_AddItemToObject(p, "mean", floats3(x->mean));
    cJSON_AddItemToObject(p, "std", floats3(x->std));
    cJSON_AddStringToObject(p, "formula",
                            "resize to resize x resize (no antialiasing), centre crop crop x crop, "
                            "RGB (gray repeated), (pixel / 255 - mean) / std per channel");
    cJSON *b = cJSON_AddObjectToObject(o, "backbone");
    cJSON_AddBoolToObject(b, "embedded", embed);
    cJSON_AddStringToObject(b, "path", x->backbone_path ? x->backbone_path : "");
    cJSON_AddStringToObject(b, "sha256", x->backbone_sha256);
    cJSON_AddStringToObject(b, "name", x->backbone_name ? x->backbone_name : "");
    return o;
}

static char *model_json(const LptModel *m, bool embed)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "prob_scale", m->prob_scale);
    cJSON_AddNumberToObject(root, "top_k", m->top_k);
    cJSON *experts = cJSON_AddArrayToObject(root, "experts");
    for (int s = 0; experts && s < m->experts; s++)
        cJSON_AddItemToArray(experts, expert_json(m, m->which[s], embed));
    if (m->scorer) {
        const LptScorerConfig *sc = lpt_scorer_config(m->scorer);
        cJSON *o = cJSON_AddObjectToObject(root, "scorer");
        cJSON_AddNumberToObject(o, "hidden", sc->hidden);
        cJSON_AddBoolToObject(o, "input_feature", sc->input_feature);
        cJSON_AddBoolToObject(o, "input_max", sc->input_max);
        cJSON_AddBoolToObject(o, "input_entropy", sc->input_entropy);
        cJSON_AddBoolToObject(o, "input_margin", sc->input_margin);
        cJSON_AddNumberToObject(o, "max_batch", sc->max_batch);
        cJSON *d = cJSON_AddArrayToObject(o, "feature_dims");
        for (int s = 0; d && s < sc->experts; s++)
            cJSON_AddItemToArray(d, cJSON_CreateNumber(sc->feature_dims[s]));
        cJSON_AddNumberToObject(o, "best_epoch", m->scorer_epoch);
    } else {
        cJSON_AddNullToObject(root, "scorer");
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static char *classes_json(const LptModel *m)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; a && k < m->classes; k++)
        cJSON_AddItemToArray(a, cJSON_CreateString(m->class_names[k]));
    char *text = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return text;
}

/* Adds the expert's tensors (trainable; frozen too when embedding) as "<expert>.<kind>.<name>". */
static LptStatus add_expert_tensors(LptSafetensorsWriter *w, const LptModel *m, LptStoreExpert e,
                                    bool embed, LptError *err)
{
    LptVit *vit = m->expert[e].vit;
    char name[160];
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        bool trainable = lpt_vit_tensor_trainable(vit, i);
        if (!trainable && !embed)
            continue;
        const char *tn = lpt_vit_tensor_name(vit, i);
        size_t n = lpt_vit_tensor(vit, tn)->count;
        float *buf = malloc((n + 1) * sizeof *buf);
        if (!buf)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
        snprintf(name, sizeof name, "%s.%s.%s", lpt_store_expert_name(e),
                 trainable ? "param" : "backbone", tn);
        st = lpt_vit_get(vit, tn, buf, n, err);
        if (st == LPT_OK)
            st = lpt_safetensors_writer_add_f32(w, name, 1, &n, buf, err);
        free(buf);
    }
    return st;
}

static LptStatus add_scorer_tensors(LptSafetensorsWriter *w, const LptModel *m, LptError *err)
{
    const LptScorerConfig *sc = lpt_scorer_config(m->scorer);
    size_t H = (size_t)sc->hidden, E = (size_t)sc->experts, in = (size_t)lpt_scorer_input_width(sc);
    float *w1 = malloc(H * in * sizeof *w1), *b1 = malloc(H * sizeof *b1);
    float *w2 = malloc(E * H * sizeof *w2), *b2 = malloc(E * sizeof *b2);
    LptStatus st = w1 && b1 && w2 && b2
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    if (st == LPT_OK)
        st = lpt_scorer_get_weights(m->scorer, w1, b1, w2, b2, err);
    size_t s1[2] = {H, in}, s2[2] = {E, H};
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32(w, "scorer.w1", 2, s1, w1, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32(w, "scorer.b1", 1, &H, b1, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32(w, "scorer.w2", 2, s2, w2, err);
    if (st == LPT_OK)
        st = lpt_safetensors_writer_add_f32(w, "scorer.b2", 1, &E, b2, err);
    free(w1);
    free(b1);
    free(w2);
    free(b2);
    return st;
}

LptStatus lpt_bundle_write(const LptModel *m, const char *path, bool embed_backbones, LptError *err)
{
    if (!m || !path || m->experts < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "bundle: no model or no path");
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    char *mj = model_json(m, embed_backbones), *cj = classes_json(m);
    char version[16], created[64];
    snprintf(version, sizeof version, "%d", LPT_BUNDLE_FORMAT_VERSION);
    snprintf(created, sizeof created, "LPT Studio %s", LPT_VERSION);
    LptStatus st = w && mj && cj
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    const char *meta[][2] = {{"format", LPT_BUNDLE_FORMAT},
                             {"format_version", version},
                             {"created_by", created},
                             {"classes", cj},
                             {"model", mj},
                             {"prior", m->prior_json ? m->prior_json : "null"},
                             {"run_config", m->run_config_json ? m->run_config_json : "null"},
                             {"lineage", m->lineage_json ? m->lineage_json : "null"}};
    for (size_t i = 0; st == LPT_OK && i < sizeof meta / sizeof meta[0]; i++)
        st = lpt_safetensors_writer_set_metadata(w, meta[i][0], meta[i][1], err);
    for (int s = 0; st == LPT_OK && s < m->experts; s++)
        st = add_expert_tensors(w, m, m->which[s], embed_backbones, err);
    if (st == LPT_OK && m->scorer)
        st = add_scorer_tensors(w, m, err);
    if (st == LPT_OK && m->prior_adjust) {
        size_t K = (size_t)m->classes;
        st = lpt_safetensors_writer_add_f32(w, "prior.adjust", 1, &K, m->prior_adjust, err);
    }
    if (st == LPT_OK)
        st = lpt_safetensors_write(w, path, err);
    if (st != LPT_OK)
        lpt_error_prefix(err, "writing the bundle '%s'", path);
    lpt_safetensors_writer_free(w);
    free(mj);
    free(cj);
    return st;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Everything the reader needs for its messages and lookups. */
typedef struct Reader {
    const char *path;
    const LptModelOptions *opt;
    LptSafetensors *sf;
    LptModel *m;
    LptError *err;
} Reader;

static LptStatus bad(Reader *r, const char *what, const char *detail)
{
    return lpt_error_set(r->err, LPT_ERR_FORMAT, 0, "bundle '%s': %s %s", r->path, what, detail);
}

/* bad() for the field where.key. */
static LptStatus bad_field(Reader *r, const char *where, const char *key, const char *detail)
{
    return lpt_error_set(r->err, LPT_ERR_FORMAT, 0, "bundle '%s': %s.%s %s", r->path, where, key,
                         detail);
}

/* A whole number in [lo, hi] at obj.key. */
static LptStatus get_int(Reader *r, const cJSON *obj, const char *where, const char *key, int lo,
                         int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        char detail[96];
        snprintf(detail, sizeof detail, "must be a whole number in [%d, %d]", lo, hi);
        return bad_field(r, where, key, detail);
    }
    *out = (int)v->valuedouble;
    return LPT_OK;
}

static LptStatus get_float(Reader *r, const cJSON *obj, const char *where, const char *key,
                           float *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e30)
        return bad_field(r, where, key, "must be a finite number");
    *out = (float)v->valuedouble;
    return LPT_OK;
}

static LptStatus get_bool(Reader *r, const cJSON *obj, const char *where, const char *key,
                          bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsBool(v))
        return bad_field(r, where, key, "must be true or false");
    *out = cJSON_IsTrue(v);
    return LPT_OK;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A metadata value parsed as JSON (*out NULL with an error when absent or not JSON). */
static LptStatus meta_json(Reader *r, const char *key, cJSON **out)
{
    const char *text = lpt_safetensors_metadata(r->sf, key);
    *out = text ? cJSON_Parse(text) : NULL;
    if (!*out)
        return lpt_error_set(r->err, LPT_ERR_FORMAT, 0, "bundle '%s': metadata '%s' is %s", r->path,
                             key, text ? "not valid JSON" : "missing");
    return LPT_OK;
}

/* Reads tensor `name` of exactly `count` floats. */
static LptStatus read_tensor(Reader *r, const char *name, float *buf, size_t count)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(r->sf, name);
    if (!e || e->numel != count)
        return lpt_error_set(r->err, LPT_ERR_FORMAT, 0,
                             "bundle '%s': %s tensor '%s' (%zu values expected%s)", r->path,
                             e ? "wrong size of" : "no", name, count,
                             e ? "" : "; the file is damaged or was not written completely");
    return lpt_safetensors_read_f32(r->sf, e, buf, count, r->err);
}

/* Copies a metadata value into a string of the model. */
static LptStatus keep_meta(Reader *r, const char *key, char **out)
{
    const char *text = lpt_safetensors_metadata(r->sf, key);
    if (!text || strcmp(text, "null") == 0)
        return LPT_OK;
    if (!(*out = strdup(text)))
        return lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    return LPT_OK;
}

static LptStatus read_header(Reader *r)
{
    const char *format = lpt_safetensors_metadata(r->sf, "format");
    const char *version = lpt_safetensors_metadata(r->sf, "format_version");
    if (!format || strcmp(format, LPT_BUNDLE_FORMAT) != 0)
        return lpt_error_set(r->err, LPT_ERR_FORMAT, 0,
                             "'%s' is a safetensors file but not an LPT model bundle (its metadata "
                             "has no format \"%s\")",
                             r->path, LPT_BUNDLE_FORMAT);
    char *end = NULL;
    long v = version ? strtol(version, &end, 10) : 0;
    if (!version || *end || end == version || v < 1)
        return bad(r, "metadata", "has no valid format_version");
    if (v > LPT_BUNDLE_FORMAT_VERSION)
        return lpt_error_set(r->err, LPT_ERR_UNSUPPORTED, 0,
                             "bundle '%s' has format version %ld, made by a newer LPT Studio "
                             "(%s); this library reads versions up to %d: update it",
                             r->path, v,
                             lpt_safetensors_metadata(r->sf, "created_by")
                                 ? lpt_safetensors_metadata(r->sf, "created_by")
                                 : "unknown",
                             LPT_BUNDLE_FORMAT_VERSION);
    snprintf(r->m->format_version, sizeof r->m->format_version, "%ld", v);
    return LPT_OK;
}

static LptStatus read_classes(Reader *r)
{
    cJSON *a = NULL;
    LPT_TRY(meta_json(r, "classes", &a));
    LptModel *m = r->m;
    int K = cJSON_GetArraySize(a);
    LptStatus st = cJSON_IsArray(a) && K >= 1 && K <= MAX_CLASSES
                       ? LPT_OK
                       : bad(r, "metadata classes", "must be an array of 1 or more names");
    if (st == LPT_OK && !(m->class_names = calloc((size_t)K, sizeof *m->class_names)))
        st = lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    int k = 0;
    for (const cJSON *it = a ? a->child : NULL; st == LPT_OK && it; it = it->next, k++) {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            st = bad(r, "metadata classes", "holds an entry that is not a name");
        else if (!(m->class_names[k] = strdup(it->valuestring)))
            st = lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
        m->classes = k + 1;
    }
    cJSON_Delete(a);
    if (st == LPT_OK)
        st = keep_meta(r, "classes", &m->classes_json);
    return st;
}

static LptStatus read_vit_config(Reader *r, const cJSON *v, const char *where, LptVitConfig *vc)
{
    lpt_vit_config_init(vc);
    if (!cJSON_IsObject(v))
        return bad(r, where, "is missing");
    LPT_TRY(get_int(r, v, where, "depth", 1, 1024, &vc->depth));
    LPT_TRY(get_int(r, v, where, "width", 1, 1 << 16, &vc->width));
    LPT_TRY(get_int(r, v, where, "heads", 1, 1 << 16, &vc->heads));
    LPT_TRY(get_int(r, v, where, "mlp", 1, 1 << 18, &vc->mlp));
    LPT_TRY(get_int(r, v, where, "patch", 1, 4096, &vc->patch));
    LPT_TRY(get_int(r, v, where, "image", 1, 4096, &vc->image));
    LPT_TRY(get_float(r, v, where, "eps", &vc->eps));
    const char *act = get_string(v, "act");
    if (!act || (strcmp(act, "gelu") != 0 && strcmp(act, "quick_gelu") != 0))
        return bad(r, where, "act must be \"gelu\" or \"quick_gelu\"");
    vc->act = strcmp(act, "gelu") == 0 ? LPT_VIT_ACT_GELU : LPT_VIT_ACT_QUICK_GELU;
    LPT_TRY(get_bool(r, v, where, "clip_style", &vc->clip_style));
    LPT_TRY(get_int(r, v, where, "proj_dim", 0, 1 << 16, &vc->proj_dim));
    LPT_TRY(get_int(r, v, where, "prompts", 0, 4096, &vc->prompts));
    LPT_TRY(get_int(r, v, where, "adapter_rank", 0, 4096, &vc->adapter_rank));
    LPT_TRY(get_float(r, v, where, "adapter_scale", &vc->adapter_scale));
    LPT_TRY(get_int(r, v, where, "pool_size", 0, 4096, &vc->pool_size));
    LPT_TRY(get_int(r, v, where, "pool_top_k", 0, 4096, &vc->pool_top_k));
    LPT_TRY(get_int(r, v, where, "classes", 1, MAX_CLASSES, &vc->classes));
    vc->train_backbone = false;
    LptStatus st = lpt_vit_config_check(vc, r->err);
    if (st != LPT_OK)
        lpt_error_prefix(r->err, "bundle '%s': %s", r->path, where);
    return st;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
}

/* Where the referenced backbone is: the recorded path, beside the bundle, in backbone_dir. A
 * backbone is a file, a sharded checkpoint's index or a model folder, identified by the hash
 * lpt_backbone_add recorded (lpt_backbone_sha256). When no candidate matches, the first one
 * there is refused: as changed, or when it does not open as weights (a shard missing) with
 * the reason the hash gave. */
static LptStatus find_backbone(Reader *r, const char *expert, const char *recorded, const char *sha,
                               char **found)
{
    const char *base = strrchr(recorded, '/') ? strrchr(recorded, '/') + 1 : recorded;
    const char *slash = strrchr(r->path, '/');
    char cand[3][PATH_MAX];
    int n = 0;
    snprintf(cand[n++], PATH_MAX, "%s", recorded);
    if (slash)
        snprintf(cand[n++], PATH_MAX, "%.*s/%s", (int)(slash - r->path), r->path, base);
    else
        snprintf(cand[n++], PATH_MAX, "%s", base);
    if (r->opt->backbone_dir)
        snprintf(cand[n++], PATH_MAX, "%s/%s", r->opt->backbone_dir, base);
    const char *changed = NULL;
    char changed_sha[LPT_HASH_HEX_LEN + 1] = "";
    LptError unreadable = {0};
    for (int i = 0; i < n; i++) {
        if (!exists(cand[i]))
            continue;
        char hex[LPT_HASH_HEX_LEN + 1];
        LptError hash_err = {0};
        if (lpt_backbone_sha256(cand[i], hex, &hash_err) != LPT_OK) {
            if (!changed) {
                changed = cand[i];
                unreadable = hash_err;
            }
            continue;
        }
        if (strcmp(hex, sha) == 0) {
            *found = strdup(cand[i]);
            return *found
                       ? LPT_OK
                       : lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
        }
        if (!changed) {
            changed = cand[i];
            memcpy(changed_sha, hex, sizeof hex);
        }
    }
    if (changed && unreadable.code != LPT_OK)
        return lpt_error_set(r->err, unreadable.code, unreadable.detail,
                             "bundle '%s': the %s expert's backbone cannot be read (put the "
                             "original files back, or export again): %s",
                             r->path, expert, unreadable.message);
    if (changed)
        return lpt_error_set(r->err, LPT_ERR_FORMAT, 0,
                             "bundle '%s': the %s expert's backbone '%s' has changed since the "
                             "export (sha256 %.16s..., the bundle expects %.16s...): put the "
                             "original file back, or export again",
                             r->path, expert, changed, changed_sha, sha);
    return lpt_error_set(r->err, LPT_ERR_IO, ENOENT,
                         "bundle '%s': the %s expert's backbone is missing: not at '%s'%s%s nor "
                         "at '%s'; copy the file (sha256 %.16s...) there, or export with "
                         "--embed-backbones",
                         r->path, expert, cand[0], n > 2 ? ", " : "", n > 2 ? cand[2] : "", cand[1],
                         sha);
}

/* The frozen tensors of expert e from its referenced file (recorded config must match). */
static LptStatus load_referenced(Reader *r, LptModelExpert *x, const char *expert,
                                 const LptVitConfig *want)
{
    char *file = NULL;
    LPT_TRY(find_backbone(r, expert, x->backbone_path, x->backbone_sha256, &file));
    free(x->backbone_path);
    x->backbone_path = file;
    LptWeightsOptions wo;
    lpt_weights_options_init(&wo);
    wo.heads = want->heads;
    LptWeights *w = lpt_weights_open(file, &wo, r->err);
    if (!w)
        return lpt_error_prefix(r->err, "bundle '%s': the %s expert's backbone", r->path, expert);
    const LptVitConfig *got = &lpt_weights_info(w)->vit;
    LptStatus st = LPT_OK;
    if (got->depth != want->depth || got->width != want->width || got->mlp != want->mlp ||
        got->patch != want->patch || got->image != want->image || got->eps != want->eps ||
        got->act != want->act || got->clip_style != want->clip_style ||
        (want->clip_style && got->proj_dim != want->proj_dim))
        st = lpt_error_set(r->err, LPT_ERR_FORMAT, 0,
                           "bundle '%s': the %s expert's backbone '%s' reads as depth %d width %d "
                           "mlp %d patch %d image %d eps %g, the bundle was made with depth %d "
                           "width %d mlp %d patch %d image %d eps %g (was its config.json left "
                           "behind?)",
                           r->path, expert, file, got->depth, got->width, got->mlp, got->patch,
                           got->image, (double)got->eps, want->depth, want->width, want->mlp,
                           want->patch, want->image, (double)want->eps);
    if (st == LPT_OK)
        st = lpt_weights_load_vit(w, x->vit, r->err);
    lpt_weights_close(w);
    return st;
}

/* The tensors of one kind ("param": trainable; "backbone": frozen) of expert e. */
static LptStatus load_tensors(Reader *r, LptModelExpert *x, const char *expert, bool trainable)
{
    char name[160];
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(x->vit, i); i++) {
        if (lpt_vit_tensor_trainable(x->vit, i) != trainable)
            continue;
        const char *tn = lpt_vit_tensor_name(x->vit, i);
        size_t n = lpt_vit_tensor(x->vit, tn)->count;
        float *buf = malloc((n + 1) * sizeof *buf);
        if (!buf)
            return lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
        snprintf(name, sizeof name, "%s.%s.%s", expert, trainable ? "param" : "backbone", tn);
        st = read_tensor(r, name, buf, n);
        if (st == LPT_OK)
            st = lpt_vit_set(x->vit, tn, buf, n, r->err);
        free(buf);
    }
    return st;
}

static LptStatus read_expert(Reader *r, const cJSON *o, int index)
{
    char where[64];
    snprintf(where, sizeof where, "model.experts[%d]", index);
    if (!cJSON_IsObject(o))
        return bad(r, where, "is not an object");
    const char *name = get_string(o, "expert");
    LptStoreExpert e;
    if (name && strcmp(name, "vision") == 0)
        e = LPT_STORE_EXPERT_VISION;
    else if (name && strcmp(name, "vl") == 0)
        e = LPT_STORE_EXPERT_VL;
    else
        return bad(r, where, "expert must be \"vision\" or \"vl\"");
    LptModelExpert *x = &r->m->expert[e];
    if (x->vit)
        return bad(r, where, "names an expert a second time");
    if (!lpt_model_mode_parse(get_string(o, "mode"), &x->mode))
        return bad(r, where, "mode must be \"plain\", \"phase1\" or \"phase2\"");
    LPT_TRY(get_int(r, o, where, "batch", 1, 1 << 16, &x->batch));
    LPT_TRY(get_int(r, o, where, "best_epoch", -1, INT_MAX, &x->best_epoch));
    char sub[96];
    snprintf(sub, sizeof sub, "%s.vit", where);
    LptVitConfig vc;
    LPT_TRY(read_vit_config(r, cJSON_GetObjectItemCaseSensitive(o, "vit"), sub, &vc));
    if (vc.classes != r->m->classes)
        return bad(r, sub, "has a head for a different number of classes than metadata classes");
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(o, "preprocessing");
    snprintf(sub, sizeof sub, "%s.preprocessing", where);
    const cJSON *mean = cJSON_GetObjectItemCaseSensitive(pp, "mean");
    const cJSON *std = cJSON_GetObjectItemCaseSensitive(pp, "std");
    const char *interp = get_string(pp, "interpolation");
    if (!cJSON_IsArray(mean) || !cJSON_IsArray(std) || cJSON_GetArraySize(mean) != 3 ||
        cJSON_GetArraySize(std) != 3 || !interp ||
        (strcmp(interp, "bilinear") != 0 && strcmp(interp, "bicubic") != 0))
        return bad(r, sub, "needs mean and std of 3 numbers and interpolation bilinear or bicubic");
    x->interp = strcmp(interp, "bicubic") == 0 ? LPT_INTERP_BICUBIC : LPT_INTERP_BILINEAR;
    for (int c = 0; c < 3; c++) {
        const cJSON *mv = cJSON_GetArrayItem(mean, c), *sv = cJSON_GetArrayItem(std, c);
        if (!cJSON_IsNumber(mv) || !cJSON_IsNumber(sv) || !isfinite(mv->valuedouble) ||
            !(sv->valuedouble > 0.0) || !isfinite(sv->valuedouble))
            return bad(r, sub, "mean and std must be finite numbers, std positive");
        x->mean[c] = (float)mv->valuedouble;
        x->std[c] = (float)sv->valuedouble;
    }
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(o, "backbone");
    snprintf(sub, sizeof sub, "%s.backbone", where);
    bool embedded = false;
    if (!cJSON_IsObject(bb))
        return bad(r, sub, "is missing");
    LPT_TRY(get_bool(r, bb, sub, "embedded", &embedded));
    const char *path = get_string(bb, "path"), *sha = get_string(bb, "sha256");
    const char *bname = get_string(bb, "name");
    if (!embedded && (!path || !path[0] || !sha || strlen(sha) != LPT_HASH_HEX_LEN))
        return bad(r, sub, "refers to a backbone without a path and a sha256");
    if (sha && strlen(sha) == LPT_HASH_HEX_LEN)
        memcpy(x->backbone_sha256, sha, LPT_HASH_HEX_LEN + 1);
    if ((path && !(x->backbone_path = strdup(path))) ||
        (bname && !(x->backbone_name = strdup(bname))))
        return lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    x->vit = lpt_vit_new(r->m->be, &vc, r->err);
    if (!x->vit)
        return lpt_error_prefix(r->err, "bundle '%s': the %s expert", r->path, name);
    if (embedded)
        LPT_TRY(load_tensors(r, x, name, false));
    else
        LPT_TRY(load_referenced(r, x, name, &vc));
    return load_tensors(r, x, name, true);
}

static LptStatus read_scorer(Reader *r, const cJSON *o)
{
    LptModel *m = r->m;
    if (cJSON_IsNull(o))
        return LPT_OK;
    if (!cJSON_IsObject(o))
        return bad(r, "model.scorer", "must be an object or null");
    LptScorerConfig sc;
    memset(&sc, 0, sizeof sc);
    sc.experts = m->experts;
    sc.classes = m->classes;
    const char *w = "model.scorer";
    LPT_TRY(get_int(r, o, w, "hidden", 1, 1 << 16, &sc.hidden));
    LPT_TRY(get_bool(r, o, w, "input_feature", &sc.input_feature));
    LPT_TRY(get_bool(r, o, w, "input_max", &sc.input_max));
    LPT_TRY(get_bool(r, o, w, "input_entropy", &sc.input_entropy));
    LPT_TRY(get_bool(r, o, w, "input_margin", &sc.input_margin));
    LPT_TRY(get_int(r, o, w, "max_batch", 1, 1 << 16, &sc.max_batch));
    LPT_TRY(get_int(r, o, w, "best_epoch", -1, INT_MAX, &m->scorer_epoch));
    for (int s = 0; s < m->experts; s++)
        sc.feature_dims[s] = lpt_vit_feature_width(m->expert[m->which[s]].vit);
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(o, "feature_dims");
    bool dims_ok = cJSON_IsArray(dims) && cJSON_GetArraySize(dims) == m->experts;
    for (int s = 0; dims_ok && s < m->experts; s++) {
        const cJSON *d = cJSON_GetArrayItem(dims, s);
        dims_ok = cJSON_IsNumber(d) && d->valuedouble == sc.feature_dims[s];
    }
    if (!dims_ok || m->experts < 2)
        return bad(r, w, "does not match the experts (feature_dims, or fewer than two experts)");
    m->scorer = lpt_scorer_new(m->be, &sc, r->err);
    if (!m->scorer)
        return lpt_error_prefix(r->err, "bundle '%s': the scorer", r->path);
    size_t H = (size_t)sc.hidden, E = (size_t)sc.experts, in = (size_t)lpt_scorer_input_width(&sc);
    float *w1 = malloc(H * in * sizeof *w1), *b1 = malloc(H * sizeof *b1);
    float *w2 = malloc(E * H * sizeof *w2), *b2 = malloc(E * sizeof *b2);
    LptStatus st = w1 && b1 && w2 && b2
                       ? LPT_OK
                       : lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    if (st == LPT_OK)
        st = read_tensor(r, "scorer.w1", w1, H * in);
    if (st == LPT_OK)
        st = read_tensor(r, "scorer.b1", b1, H);
    if (st == LPT_OK)
        st = read_tensor(r, "scorer.w2", w2, E * H);
    if (st == LPT_OK)
        st = read_tensor(r, "scorer.b2", b2, E);
    if (st == LPT_OK)
        st = lpt_scorer_set_weights(m->scorer, w1, b1, w2, b2, r->err);
    free(w1);
    free(b1);
    free(w2);
    free(b2);
    return st;
}

static LptStatus read_model(Reader *r)
{
    LptModel *m = r->m;
    LPT_TRY(read_header(r));
    LPT_TRY(read_classes(r));
    cJSON *root = NULL;
    LPT_TRY(meta_json(r, "model", &root));
    LptStatus st = cJSON_IsObject(root) ? LPT_OK : bad(r, "metadata model", "is not an object");
    if (st == LPT_OK)
        st = get_float(r, root, "model", "prob_scale", &m->prob_scale);
    if (st == LPT_OK && !(m->prob_scale > 0.0f))
        st = bad(r, "model.prob_scale", "must be positive");
    if (st == LPT_OK)
        st = get_int(r, root, "model", "top_k", 1, MAX_CLASSES, &m->top_k);
    const cJSON *experts = cJSON_GetObjectItemCaseSensitive(root, "experts");
    int n = cJSON_GetArraySize(experts);
    if (st == LPT_OK && (!cJSON_IsArray(experts) || n < 1 || n > LPT_STORE_NUM_EXPERTS))
        st = bad(r, "model.experts", "must list one or two experts");
    for (int i = 0; st == LPT_OK && i < n; i++)
        st = read_expert(r, cJSON_GetArrayItem(experts, i), i);
    m->experts = 0; /* the slots in LptStoreExpert order, as lpt_model_ready sets them */
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        if (m->expert[e].vit)
            m->which[m->experts++] = (LptStoreExpert)e;
    if (st == LPT_OK)
        st = read_scorer(r, cJSON_GetObjectItemCaseSensitive(root, "scorer"));
    cJSON_Delete(root);
    LPT_TRY(st);
    LPT_TRY(keep_meta(r, "model", &m->model_json));
    LPT_TRY(keep_meta(r, "prior", &m->prior_json));
    LPT_TRY(keep_meta(r, "run_config", &m->run_config_json));
    LPT_TRY(keep_meta(r, "lineage", &m->lineage_json));
    if (m->prior_json) {
        if (!(m->prior_adjust = malloc((size_t)m->classes * sizeof *m->prior_adjust)))
            return lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
        LPT_TRY(read_tensor(r, "prior.adjust", m->prior_adjust, (size_t)m->classes));
        for (int k = 0; k < m->classes; k++)
            if (!isfinite(m->prior_adjust[k]))
                return bad(r, "tensor prior.adjust", "holds a value that is not finite");
    }
    if (!(m->path = strdup(r->path)))
        return lpt_error_set(r->err, LPT_ERR_OUT_OF_MEMORY, 0, "bundle: out of memory");
    return lpt_model_ready(m, r->err);
}

LptModel *lpt_bundle_read(const char *path, const LptModelOptions *opt, LptError *err)
{
    LptModelOptions defaults;
    if (!opt) {
        lpt_model_options_init(&defaults);
        opt = &defaults;
    }
    if (!path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "open model: no path");
        return NULL;
    }
    if (opt->backend != LPT_MODEL_BACKEND_CPU && opt->backend != LPT_MODEL_BACKEND_VULKAN) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "open model: unknown backend %d",
                      (int)opt->backend);
        return NULL;
    }
    LptSafetensors *sf = lpt_safetensors_open(path, err);
    if (!sf)
        return NULL;
    LptBackendOptions bo;
    lpt_backend_options_init(&bo);
    bo.kind = opt->backend == LPT_MODEL_BACKEND_VULKAN ? LPT_BACKEND_VULKAN : LPT_BACKEND_CPU;
    bo.device = opt->device;
    bo.threads = opt->threads;
    LptBackend *be = lpt_backend_new(&bo, err);
    LptModel *m = be ? lpt_model_new(be, err) : NULL;
    if (!m) {
        lpt_backend_free(be);
        lpt_safetensors_close(sf);
        return NULL;
    }
    Reader r = {path, opt, sf, m, err};
    LptStatus st = read_model(&r);
    lpt_safetensors_close(sf);
    if (st != LPT_OK) {
        lpt_model_close(m);
        return NULL;
    }
    return m;
}

LptModel *lpt_model_open(const char *path, const LptModelOptions *opt, LptError *err)
{
    return lpt_bundle_read(path, opt, err);
}

/* lpt_weights.c: detecting a weights file's naming, reading its configuration and validating
 * and loading its tensors (lpt_weights.h). The name maps are in lpt_weights_names.c, the
 * config-file dialects in lpt_weights_config.c.
 *
 * Open runs the same resolution as load (canonical name -> row -> file tensors) over every
 * canonical tensor of the configuration found, so a file that opens loads: every shape and
 * dtype problem is reported by open, in model order, before any upload.
 */
#include "lpt_weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lpt_weights_impl.h"

#define NAME_LEN 320  /* longest file tensor name handled (longer names cannot match a row) */
#define CANON_LEN 48
#define MAX_PARTS 3
#define MAX_DEPTH 1024

struct LptWeights {
    LptSafetensors *st;
    const LptWeightsNamingDef *def;
    LptWeightsInfo info;
    char *prefix;
    char *config_path;
    char heads_from[96], eps_from[96], act_from[96];
};

/* The file tensors one canonical tensor comes from. */
typedef struct Sources {
    int parts;                                /* 0: an absent optional tensor (identity) */
    const LptSafetensorsEntry *entry[MAX_PARTS];
    char name[MAX_PARTS][NAME_LEN];           /* resolved names (the first alternative when absent) */
    bool missing[MAX_PARTS];
} Sources;

/* Sizes the shapes are made of. */
typedef struct Dims {
    size_t C, T, p, mlp, Cf;
} Dims;

void lpt_weights_options_init(LptWeightsOptions *opt)
{
    opt->heads = 0;
    opt->config_path = NULL;
}

int lpt_weights_default_heads(int width)
{
    static const int known[][2] = {{192, 3},   {384, 6},   {512, 8},   {768, 12},
                                   {1024, 16}, {1280, 16}, {1408, 16}, {1664, 16}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i][0] == width)
            return known[i][1];
    return width > 0 && width % 64 == 0 ? width / 64 : 0;
}

/* ---- names and shapes ------------------------------------------------------------------- */

/* Writes spec[0, len) with every "%d" replaced by `block`, after `prefix` unless the spec
 * starts with '/'. Returns false when it does not fit. */
static bool expand(const char *prefix, const char *spec, size_t len, int block, char *out)
{
    size_t o = 0;
    if (len > 0 && spec[0] == '/') {
        spec++;
        len--;
    } else {
        o = strlen(prefix);
        if (o >= NAME_LEN)
            return false;
        memcpy(out, prefix, o);
    }
    for (size_t i = 0; i < len; i++) {
        if (spec[i] == '%' && i + 1 < len && spec[i + 1] == 'd') {
            int n = snprintf(out + o, NAME_LEN - o, "%d", block);
            if (n < 0 || (size_t)n >= NAME_LEN - o)
                return false;
            o += (size_t)n;
            i++;
        } else {
            if (o + 1 >= NAME_LEN)
                return false;
            out[o++] = spec[i];
        }
    }
    out[o] = '\0';
    return true;
}

/* Resolves a row of the naming for block `block` into the file's tensors. */
static void resolve(const LptWeights *w, const LptWeightsRow *row, int block, Sources *s)
{
    memset(s, 0, sizeof *s);
    const char *part = row->file;
    while (*part && s->parts < MAX_PARTS) {
        const char *part_end = strchr(part, ';');
        if (!part_end)
            part_end = part + strlen(part);
        int k = s->parts++;
        s->missing[k] = true;
        /* alternatives: the first present wins; when none is, report the first */
        for (const char *alt = part; alt < part_end;) {
            const char *alt_end = memchr(alt, '|', (size_t)(part_end - alt));
            if (!alt_end)
                alt_end = part_end;
            char name[NAME_LEN];
            if (expand(w->prefix, alt, (size_t)(alt_end - alt), block, name)) {
                const LptSafetensorsEntry *e = lpt_safetensors_find(w->st, name);
                if (alt == part || e)
                    memcpy(s->name[k], name, sizeof name);
                if (e) {
                    s->entry[k] = e;
                    s->missing[k] = false;
                    break;
                }
            }
            alt = alt_end < part_end ? alt_end + 1 : part_end;
        }
        part = *part_end ? part_end + 1 : part_end;
    }
}

/* The shape `ws` stands for; returns its rank. */
static int shape_of(LptWeightsShape ws, const Dims *d, size_t shape[4])
{
    switch (ws) {
    case LPT_WS_C: shape[0] = d->C; return 1;
    case LPT_WS_3C: shape[0] = 3 * d->C; return 1;
    case LPT_WS_CC: shape[0] = d->C; shape[1] = d->C; return 2;
    case LPT_WS_3CC: shape[0] = 3 * d->C; shape[1] = d->C; return 2;
    case LPT_WS_PATCH:
        shape[0] = d->C;
        shape[1] = 3;
        shape[2] = shape[3] = d->p;
        return 4;
    case LPT_WS_1_1_C: shape[0] = 1; shape[1] = 1; shape[2] = d->C; return 3;
    case LPT_WS_1_T_C: shape[0] = 1; shape[1] = d->T; shape[2] = d->C; return 3;
    case LPT_WS_T_C: shape[0] = d->T; shape[1] = d->C; return 2;
    case LPT_WS_MLP_C: shape[0] = d->mlp; shape[1] = d->C; return 2;
    case LPT_WS_MLP: shape[0] = d->mlp; return 1;
    case LPT_WS_C_MLP: shape[0] = d->C; shape[1] = d->mlp; return 2;
    case LPT_WS_CF_C: shape[0] = d->Cf; shape[1] = d->C; return 2;
    case LPT_WS_C_CF: shape[0] = d->C; shape[1] = d->Cf; return 2;
    }
    return 0;
}

/* "[a, b, c]" */
static const char *shape_text(const size_t *shape, int ndim, char *buf, size_t size)
{
    size_t o = 0;
    o += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%zu", i ? ", " : "", shape[i]);
    if (o < size)
        snprintf(buf + o, size - o, "]");
    return buf;
}

static bool is_float(LptSafetensorsDType t)
{
    return t == LPT_ST_F32 || t == LPT_ST_F16 || t == LPT_ST_BF16 || t == LPT_ST_F64;
}

/* Checks one resolved source part against its expected shape and dtype. */
static LptStatus check_part(const LptWeights *w, const Sources *s, int k, LptWeightsShape ws,
                            const Dims *d, const char *canon, LptError *err)
{
    const char *path = lpt_safetensors_path(w->st);
    size_t want[4] = {0};
    int nd = shape_of(ws, d, want);
    char a[96], b[96];
    if (s->missing[k])
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': missing tensor '%s' (expected %s, for %s of the %s naming)",
                             path, s->name[k], shape_text(want, nd, a, sizeof a), canon,
                             w->def->id);
    const LptSafetensorsEntry *e = s->entry[k];
    if (!is_float(e->dtype))
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "'%s': tensor '%s' has dtype %s; weights must be F32, F16, BF16 or "
                             "F64",
                             path, e->name, lpt_safetensors_dtype_name(e->dtype));
    bool same = e->ndim == nd;
    for (int i = 0; same && i < nd; i++)
        same = e->shape[i] == want[i];
    if (!same)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has shape %s, expected %s (%s; width %zu, "
                             "%zu tokens, MLP %zu)",
                             path, e->name, shape_text(e->shape, e->ndim, b, sizeof b),
                             shape_text(want, nd, a, sizeof a), canon, d->C, d->T, d->mlp);
    return LPT_OK;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* Index of the entry called `name` (entries are sorted by name), or -1. */
static int entry_index(const LptSafetensors *st, const char *name)
{
    int lo = 0, hi = lpt_safetensors_count(st) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(lpt_safetensors_entry(st, mid)->name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Finds the naming (and the prefix before its names) from the marker tensors. */
static LptStatus detect(LptWeights *w, LptError *err)
{
    const char *path = lpt_safetensors_path(w->st);
    int n = lpt_safetensors_count(w->st), found = 0;
    char first[2][NAME_LEN];
    for (int k = 0; k < LPT_WEIGHTS_NAMINGS; k++) {
        const LptWeightsNamingDef *def = lpt_weights_naming_def((LptWeightsNaming)k);
        size_t ml = strlen(def->marker);
        for (int i = 0; i < n; i++) {
            const char *name = lpt_safetensors_entry(w->st, i)->name;
            size_t len = strlen(name);
            if (len < ml || strcmp(name + len - ml, def->marker) != 0)
                continue;
            size_t pl = len - ml;
            if ((pl > 0 && name[pl - 1] != '.') || pl + strlen(def->marker2) >= NAME_LEN)
                continue;
            char other[NAME_LEN];
            memcpy(other, name, pl);
            strcpy(other + pl, def->marker2);
            if (!lpt_safetensors_find(w->st, other))
                continue;
            if (found < 2)
                snprintf(first[found], NAME_LEN, "%s naming (prefix '%.*s')", def->id, (int)pl,
                         name);
            if (found++ == 0) {
                w->def = def;
                w->prefix = malloc(pl + 1);
                if (!w->prefix)
                    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of memory",
                                         path);
                memcpy(w->prefix, name, pl);
                w->prefix[pl] = '\0';
            }
        }
    }
    if (found > 1)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': holds more than one model: the %s and the %s", path,
                             first[0], first[1]);
    if (found == 1)
        return LPT_OK;
    char names[200];
    size_t o = 0;
    names[0] = '\0';
    for (int i = 0; i < n && i < 4 && o < sizeof names; i++)
        o += (size_t)snprintf(names + o, sizeof names - o, "%s'%s'", i ? ", " : "",
                              lpt_safetensors_entry(w->st, i)->name);
    return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                         "'%s': not a supported ViT naming (supported: hf-vit, hf-clip, timm, "
                         "openclip, torchvision; none of their patch kernels "
                         "embeddings.patch_embeddings.projection.weight, "
                         "embeddings.patch_embedding.weight, patch_embed.proj.weight, "
                         "conv1.weight, conv_proj.weight was found); its %d tensors begin %s",
                         path, n, n ? names : "(none)");
}

/* The (first) file tensor canonical tensor `canon` comes from, for reading sizes off it; NULL
 * when absent (s->name[0] then holds the name looked for). */
static const LptSafetensorsEntry *top_entry(const LptWeights *w, const char *canon, Sources *s)
{
    int block;
    const LptWeightsRow *row = lpt_weights_row(w->def, canon, &block);
    memset(s, 0, sizeof *s);
    if (!row)
        return NULL;
    resolve(w, row, block < 0 ? 0 : block, s);
    return s->parts > 0 ? s->entry[0] : NULL;
}

/* Reads width, patch, tokens, image size, depth, MLP width and the projection width off the
 * tensors. The names it read them from go into *f (they live in `names`). */
static LptStatus find_sizes(LptWeights *w, LptWeightsFound *f, char names[5][NAME_LEN],
                            size_t *tokens, LptError *err)
{
    const char *path = lpt_safetensors_path(w->st);
    Sources s;
    char a[96];
    memset(f, 0, sizeof *f);

    /* width and patch: the patch kernel [C, 3, p, p] */
    const LptSafetensorsEntry *e = top_entry(w, "patch.weight", &s);
    if (!e)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': missing tensor '%s'", path,
                             s.name[0]);
    if (e->ndim != 4 || e->shape[1] != 3 || e->shape[2] != e->shape[3] || e->shape[0] < 1 ||
        e->shape[2] < 1 || e->shape[0] > (1u << 16) || e->shape[2] > 4096)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has shape %s, expected [C, 3, p, p] (a square "
                             "patch kernel over 3 channels)",
                             path, e->name, shape_text(e->shape, e->ndim, a, sizeof a));
    f->width = (int)e->shape[0];
    f->patch = (int)e->shape[2];
    snprintf(names[0], NAME_LEN, "%s", e->name);
    f->width_from = names[0];

    /* tokens: the position table [1, T, C] or [T, C]; T - 1 = n^2 patches */
    e = top_entry(w, "pos", &s);
    if (!e)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': missing tensor '%s'", path,
                             s.name[0]);
    int block;
    bool three = lpt_weights_row(w->def, "pos", &block)->shape == LPT_WS_1_T_C;
    if (e->ndim != (three ? 3 : 2) || (three && e->shape[0] != 1) ||
        e->shape[e->ndim - 1] != (size_t)f->width || e->shape[e->ndim - 2] < 2)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has shape %s, expected %s with T >= 2 and C = "
                             "%d (the width of '%s')",
                             path, e->name, shape_text(e->shape, e->ndim, a, sizeof a),
                             three ? "[1, T, C]" : "[T, C]", f->width, f->width_from);
    size_t T = e->shape[e->ndim - 2], N = T - 1, side = 1;
    while ((side + 1) * (side + 1) <= N)
        side++;
    if (side * side != N || side * (size_t)f->patch > 65536)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has %zu rows: 1 class token + %zu patches, "
                             "which is not a square grid",
                             path, e->name, T, N);
    *tokens = T;
    f->image = (int)(side * (size_t)f->patch);
    snprintf(names[1], NAME_LEN, "%s", e->name);
    f->image_from = names[1];

    /* depth: the highest block index + 1 */
    size_t stem_len = strlen(w->prefix) + strlen(w->def->block_stem);
    char stem[NAME_LEN];
    snprintf(stem, sizeof stem, "%s%s", w->prefix, w->def->block_stem);
    for (int i = 0; i < lpt_safetensors_count(w->st); i++) {
        const char *name = lpt_safetensors_entry(w->st, i)->name;
        if (strncmp(name, stem, stem_len) != 0)
            continue;
        const char *p = name + stem_len;
        long idx = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            idx = idx * 10 + (*p++ - '0');
            digits++;
        }
        if (digits > 0 && *p == '.' && idx + 1 > f->depth) {
            if (idx >= MAX_DEPTH)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "'%s': tensor '%s': block %ld is beyond the %d blocks "
                                     "supported",
                                     path, name, idx, MAX_DEPTH);
            f->depth = (int)idx + 1;
            snprintf(names[2], NAME_LEN, "%s", name);
        }
    }
    if (f->depth == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': no blocks: no tensor name starts with '%s0.'", path, stem);
    f->depth_from = names[2];

    /* MLP width: block 0's first MLP layer [MLP, C] */
    e = top_entry(w, "blocks.0.fc1.weight", &s);
    if (!e)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "'%s': missing tensor '%s'", path,
                             s.name[0]);
    if (e->ndim != 2 || e->shape[1] != (size_t)f->width || e->shape[0] < 1 ||
        e->shape[0] > (1u << 20))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s': tensor '%s' has shape %s, expected [MLP, %d]", path, e->name,
                             shape_text(e->shape, e->ndim, a, sizeof a), f->width);
    f->mlp = (int)e->shape[0];
    snprintf(names[3], NAME_LEN, "%s", e->name);
    f->mlp_from = names[3];

    /* CLIP: the projection [C', C] (HF) or [C, C'] (OpenCLIP), absent = identity */
    if (w->def->clip) {
        e = top_entry(w, "proj", &s);
        if (e) {
            bool transposed = lpt_weights_row(w->def, "proj", &block)->shape == LPT_WS_C_CF;
            int in_dim = transposed ? 0 : 1;
            if (e->ndim != 2 || e->shape[in_dim] != (size_t)f->width || e->shape[1 - in_dim] < 1 ||
                e->shape[1 - in_dim] > (1u << 16))
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "'%s': tensor '%s' has shape %s, expected %s", path,
                                     e->name, shape_text(e->shape, e->ndim, a, sizeof a),
                                     transposed ? "[C, C'] with C the width" : "[C', C] with C "
                                                                               "the width");
            f->proj_dim = (int)e->shape[1 - in_dim];
            snprintf(names[4], NAME_LEN, "%s", e->name);
            f->proj_from = names[4];
        }
    }
    return LPT_OK;
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The config file to read: opt's, or the one beside the weights; NULL when none (not an
 * error). Sets *failed on an error. */
static char *config_path(const LptWeights *w, const LptWeightsOptions *opt, bool *failed,
                         LptError *err)
{
    *failed = false;
    if (opt->config_path && !opt->config_path[0])
        return NULL;
    if (opt->config_path) {
        char *p = strdup(opt->config_path);
        if (!p) {
            *failed = true;
            lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        }
        return p;
    }
    const char *path = lpt_safetensors_path(w->st);
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    const char *names[2] = {"config.json", NULL};
    if (w->def->naming == LPT_WEIGHTS_OPENCLIP) {
        names[0] = "open_clip_config.json";
        names[1] = "config.json";
    }
    for (int i = 0; i < 2 && names[i]; i++) {
        char *p = malloc(dir + strlen(names[i]) + 1);
        if (!p) {
            *failed = true;
            lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
            return NULL;
        }
        memcpy(p, path, dir);
        strcpy(p + dir, names[i]);
        if (is_file(p))
            return p;
        free(p);
    }
    return NULL;
}

/* Heads, eps, activation and normalisation: option, config file, or default. */
static LptStatus settings(LptWeights *w, const LptWeightsOptions *opt, const LptWeightsFound *f,
                          LptError *err)
{
    static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    const LptWeightsNamingDef *def = w->def;
    LptWeightsConfig c;
    memset(&c, 0, sizeof c);
    c.eps = def->eps;
    c.act = def->act;
    for (int i = 0; i < 3; i++) {
        c.mean[i] = def->normal_05 ? 0.5f : clip_mean[i];
        c.std[i] = def->normal_05 ? 0.5f : clip_std[i];
    }
    snprintf(c.eps_from, sizeof c.eps_from, "%s", def->eps_from);
    snprintf(c.act_from, sizeof c.act_from, "%s default", def->id);

    bool failed;
    w->config_path = config_path(w, opt, &failed, err);
    if (failed)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    if (w->config_path) {
        LptStatus st = lpt_weights_read_config(w->config_path, def, f, &c, err);
        if (st != LPT_OK)
            return st;
    }
    if (opt->heads > 0) {
        if (f->width % opt->heads != 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "'%s': %d heads do not divide width %d",
                                 lpt_safetensors_path(w->st), opt->heads, f->width);
        c.heads = opt->heads;
        snprintf(c.heads_from, sizeof c.heads_from, "option");
    } else if (c.heads == 0) {
        c.heads = lpt_weights_default_heads(f->width);
        if (c.heads == 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "'%s': cannot tell the number of heads of width %d: no config "
                                 "file states it and %d is not a known ViT width (give the "
                                 "heads, e.g. `--heads N`)",
                                 lpt_safetensors_path(w->st), f->width, f->width);
        snprintf(c.heads_from, sizeof c.heads_from, "default for width %d", f->width);
    }
    memcpy(w->heads_from, c.heads_from, sizeof w->heads_from);
    memcpy(w->eps_from, c.eps_from, sizeof w->eps_from);
    memcpy(w->act_from, c.act_from, sizeof w->act_from);

    LptWeightsInfo *info = &w->info;
    LptVitConfig *v = &info->vit;
    lpt_vit_config_init(v);
    v->depth = f->depth;
    v->width = f->width;
    v->heads = c.heads;
    v->mlp = f->mlp;
    v->patch = f->patch;
    v->image = f->image;
    v->eps = c.eps;
    v->act = c.act;
    v->clip_style = def->clip;
    v->proj_dim = def->clip ? (f->proj_dim > 0 ? f->proj_dim : f->width) : 0;
    v->prompts = v->adapter_rank = v->pool_size = v->classes = 0;
    info->identity_proj = def->clip && f->proj_dim == 0;
    memcpy(info->mean, c.mean, sizeof c.mean);
    memcpy(info->std, c.std, sizeof c.std);
    LptStatus st = lpt_vit_config_check(v, err);
    if (st != LPT_OK)
        lpt_error_prefix(err, "'%s'", lpt_safetensors_path(w->st));
    return st;
}

/* Canonical frozen tensor names of a backbone in lpt_vit.h's order; returns the count (out
 * must hold 10 + 12 * depth names). */
static int canonical_names(const LptVitConfig *v, char (*out)[CANON_LEN])
{
    static const char *const block[] = {"ln1.weight", "ln1.bias",  "qkv.weight", "qkv.bias",
                                        "proj.weight", "proj.bias", "ln2.weight", "ln2.bias",
                                        "fc1.weight", "fc1.bias",  "fc2.weight", "fc2.bias"};
    int n = 0;
    snprintf(out[n++], CANON_LEN, "patch.weight");
    if (!v->clip_style)
        snprintf(out[n++], CANON_LEN, "patch.bias");
    snprintf(out[n++], CANON_LEN, "cls");
    snprintf(out[n++], CANON_LEN, "pos");
    if (v->clip_style) {
        snprintf(out[n++], CANON_LEN, "ln_pre.weight");
        snprintf(out[n++], CANON_LEN, "ln_pre.bias");
    }
    for (int i = 0; i < v->depth; i++)
        for (int j = 0; j < 12; j++)
            snprintf(out[n++], CANON_LEN, "blocks.%d.%s", i, block[j]);
    snprintf(out[n++], CANON_LEN, "norm.weight");
    snprintf(out[n++], CANON_LEN, "norm.bias");
    if (v->clip_style)
        snprintf(out[n++], CANON_LEN, "proj");
    return n;
}

static Dims dims_of(const LptVitConfig *v, size_t tokens)
{
    Dims d = {(size_t)v->width, tokens, (size_t)v->patch, (size_t)v->mlp,
              (size_t)(v->clip_style ? v->proj_dim : v->width)};
    return d;
}

/* True when `name` starts with one of `prefixes` ('/' = absolute, else after the prefix). */
static bool matches(const LptWeights *w, const char *name, const char *const *prefixes)
{
    size_t pl = strlen(w->prefix);
    for (int i = 0; prefixes[i]; i++) {
        const char *p = prefixes[i];
        if (p[0] == '/') {
            if (strncmp(name, p + 1, strlen(p + 1)) == 0)
                return true;
        } else if (strncmp(name, w->prefix, pl) == 0 && strncmp(name + pl, p, strlen(p)) == 0) {
            return true;
        }
    }
    return false;
}

/* Checks every canonical tensor's sources, then that every other tensor is one the naming
 * leaves alone; fills the counts of the info. */
static LptStatus validate(LptWeights *w, size_t tokens, LptError *err)
{
    LptWeightsInfo *info = &w->info;
    const LptVitConfig *v = &info->vit;
    int n = lpt_safetensors_count(w->st);
    bool *used = calloc((size_t)n + 1, sizeof *used);
    char(*canon)[CANON_LEN] = malloc((size_t)(10 + 12 * v->depth) * sizeof *canon);
    LptStatus st = LPT_OK;
    if (!used || !canon) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        goto done;
    }
    Dims d = dims_of(v, tokens);
    int count = canonical_names(v, canon);
    for (int c = 0; c < count && st == LPT_OK; c++) {
        int block;
        const LptWeightsRow *row = lpt_weights_row(w->def, canon[c], &block);
        if (!row) {
            st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0, "'%s': the %s naming has no '%s'",
                               lpt_safetensors_path(w->st), w->def->id, canon[c]);
            break;
        }
        Sources s;
        resolve(w, row, block, &s);
        if (row->optional && s.parts == 1 && s.missing[0])
            continue; /* an absent CLIP projection: identity */
        for (int k = 0; k < s.parts && st == LPT_OK; k++) {
            st = check_part(w, &s, k, row->shape, &d, canon[c], err);
            if (st == LPT_OK) {
                int i = entry_index(w->st, s.entry[k]->name);
                if (i >= 0 && !used[i]) {
                    used[i] = true;
                    info->tensors_used++;
                    info->params += s.entry[k]->numel;
                }
            }
        }
    }
    size_t stem_len = strlen(w->prefix) + strlen(w->def->block_stem);
    for (int i = 0; i < n && st == LPT_OK; i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(w->st, i);
        if (used[i])
            continue;
        /* inside the block namespace nothing is ignored (a LayerScale gamma changes the
         * model): only tensors outside it may be left alone */
        bool in_blocks = strncmp(e->name, w->prefix, strlen(w->prefix)) == 0 &&
                         strncmp(e->name + strlen(w->prefix), w->def->block_stem,
                                 stem_len - strlen(w->prefix)) == 0;
        if (!in_blocks && matches(w, e->name, w->def->text)) {
            info->text_tensors++;
            info->tensors_ignored++;
        } else if (!in_blocks && matches(w, e->name, w->def->ignore)) {
            info->tensors_ignored++;
        } else {
            char a[96];
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "'%s': tensor '%s' %s has no place in a %s backbone (not a "
                               "supported variant: e.g. LayerScale, register tokens, average "
                               "pooling and extra heads are not)",
                               lpt_safetensors_path(w->st), e->name,
                               shape_text(e->shape, e->ndim, a, sizeof a), w->def->title);
        }
    }
done:
    free(used);
    free(canon);
    return st;
}

LptWeights *lpt_weights_open(const char *path, const LptWeightsOptions *opt, LptError *err)
{
    LptWeightsOptions defaults;
    if (!opt) {
        lpt_weights_options_init(&defaults);
        opt = &defaults;
    }
    if (!path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "weights: no path");
        return NULL;
    }
    if (opt->heads < 0) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "weights: heads %d < 0", opt->heads);
        return NULL;
    }
    LptWeights *w = calloc(1, sizeof *w);
    if (!w) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of memory", path);
        return NULL;
    }
    LptWeightsFound found;
    char names[5][NAME_LEN];
    size_t tokens = 0;
    LptStatus st = LPT_ERR_IO;
    w->st = lpt_safetensors_open(path, err);
    if (w->st && (st = detect(w, err)) == LPT_OK && (st = find_sizes(w, &found, names, &tokens,
                                                                     err)) == LPT_OK &&
        (st = settings(w, opt, &found, err)) == LPT_OK)
        st = validate(w, tokens, err);
    if (st != LPT_OK) {
        lpt_weights_close(w);
        return NULL;
    }
    LptWeightsInfo *info = &w->info;
    info->naming = w->def->naming;
    info->prefix = w->prefix;
    info->config_path = w->config_path;
    info->heads_from = w->heads_from;
    info->eps_from = w->eps_from;
    info->act_from = w->act_from;
    info->tensors = lpt_safetensors_count(w->st);
    return w;
}

void lpt_weights_close(LptWeights *w)
{
    if (!w)
        return;
    lpt_safetensors_close(w->st);
    free(w->prefix);
    free(w->config_path);
    free(w);
}

const LptWeightsInfo *lpt_weights_info(const LptWeights *w)
{
    return w ? &w->info : NULL;
}

const LptSafetensors *lpt_weights_file(const LptWeights *w)
{
    return w ? w->st : NULL;
}

/* ---- loading ---------------------------------------------------------------------------- */

/* The vit's backbone fields against the file's; names the first that differs. */
static LptStatus check_vit_config(const LptWeights *w, const LptVitConfig *v, LptError *err)
{
    const LptVitConfig *f = &w->info.vit;
    const char *field = NULL;
    if (v->depth != f->depth)
        field = "depth";
    else if (v->width != f->width)
        field = "width";
    else if (v->heads != f->heads)
        field = "heads";
    else if (v->mlp != f->mlp)
        field = "mlp";
    else if (v->patch != f->patch)
        field = "patch";
    else if (v->image != f->image)
        field = "image";
    else if (v->eps != f->eps)
        field = "eps";
    else if (v->act != f->act)
        field = "act";
    else if (v->clip_style != f->clip_style)
        field = "clip_style";
    else if (f->clip_style && v->proj_dim != f->proj_dim)
        field = "proj_dim";
    if (field)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "'%s': the model's %s differs from the weights' (load needs the "
                             "backbone fields of lpt_weights_info)",
                             lpt_safetensors_path(w->st), field);
    return LPT_OK;
}

/* Fills out[count] (the canonical layout) from the sources of one tensor. */
static LptStatus gather(const LptWeights *w, const LptWeightsRow *row, const Sources *s,
                        const Dims *d, float *out, size_t count, LptError *err)
{
    const char *path = lpt_safetensors_path(w->st);
    if (s->parts == 1 && s->missing[0] && row->optional) { /* CLIP without projection */
        if (count != d->C * d->C)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "'%s': identity projection of %zu values, model has %zu", path,
                                 d->C * d->C, count);
        memset(out, 0, count * sizeof *out);
        for (size_t i = 0; i < d->C; i++)
            out[i * d->C + i] = 1.0f;
        return LPT_OK;
    }
    size_t total = 0;
    for (int k = 0; k < s->parts; k++)
        total += s->missing[k] ? 0 : s->entry[k]->numel;
    if (total != count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "'%s': '%s' gives %zu values, the model's tensor has %zu", path,
                             s->name[0], total, count);
    if (row->shape == LPT_WS_C_CF) { /* [C, C'] -> [C', C] */
        float *tmp = malloc(count * sizeof *tmp);
        if (!tmp)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        LptStatus st = lpt_safetensors_read_f32(w->st, s->entry[0], tmp, count, err);
        for (size_t i = 0; st == LPT_OK && i < d->C; i++)
            for (size_t j = 0; j < d->Cf; j++)
                out[j * d->C + i] = tmp[i * d->Cf + j];
        free(tmp);
        return st;
    }
    size_t at = 0;
    for (int k = 0; k < s->parts; k++) {
        LptStatus st = lpt_safetensors_read_f32(w->st, s->entry[k], out + at,
                                                s->entry[k]->numel, err);
        if (st != LPT_OK)
            return st;
        at += s->entry[k]->numel;
    }
    return LPT_OK;
}

LptStatus lpt_weights_load_vit(const LptWeights *w, LptVit *vit, LptError *err)
{
    if (!w || !vit)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "weights: NULL %s",
                             w ? "model" : "weights");
    LptStatus st = check_vit_config(w, lpt_vit_config(vit), err);
    if (st != LPT_OK)
        return st;
    size_t tokens = (size_t)lpt_vit_tokens(vit);
    Dims d = dims_of(lpt_vit_config(vit), tokens);
    float *buf = NULL;
    size_t cap = 0;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        if (lpt_vit_tensor_trainable(vit, i))
            continue;
        const char *name = lpt_vit_tensor_name(vit, i);
        int block;
        const LptWeightsRow *row = lpt_weights_row(w->def, name, &block);
        if (!row) {
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "'%s': the %s naming has no source for the model's tensor '%s'",
                               lpt_safetensors_path(w->st), w->def->id, name);
            break;
        }
        size_t count = lpt_vit_tensor(vit, name)->count;
        if (count > cap) {
            free(buf);
            buf = malloc(count * sizeof *buf);
            cap = buf ? count : 0;
            if (!buf) {
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory loading '%s'",
                                   name);
                break;
            }
        }
        Sources s;
        resolve(w, row, block, &s);
        st = gather(w, row, &s, &d, buf, count, err);
        if (st == LPT_OK)
            st = lpt_vit_set(vit, name, buf, count, err);
    }
    free(buf);
    return st;
}

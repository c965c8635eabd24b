/* test_weights.c: pretrained weights in every naming (src/core/lpt_weights.c) against PyTorch,
 * on one backend (--backend cpu|vulkan, --fixtures DIR; with --cli LPT: `lpt embed` instead).
 *
 * Fixtures (tests/fixtures/weights, made by make_weight_fixtures.py): one tiny seeded ViT
 * saved in the torchvision (F32), timm (BF16) and Hugging Face ViT (F16, config.json) namings
 * (the last also as a sharded checkpoint, opened through its index and its folder), and one
 * tiny CLIP-style tower in the Hugging Face CLIP (BF16, config.json, text tower, I64
 * buffer) and OpenCLIP (F16, open_clip_config.json, text tower) namings. Every file must be
 * detected with the right naming, prefix, sizes, heads, eps, activation, counts and
 * normalisation, loaded, and give PyTorch's features (torchvision's forward for the ViT, a
 * CLIP-style reference for the tower) -- the same numbers whatever the naming.
 * Variants written at run time into a temp dir from the fixtures: ViTModel without prefix and
 * with a pooler, older torchvision MLP names, CLIP without projection (identity; checked by
 * projecting on the host), a HF file without config.json (eps 1e-12, heads needed); and bad
 * files: wrong shapes (the first in model order is named, expected vs found), missing tensors
 * (one of q/k/v too), an unknown naming, an extra tensor (LayerScale), a non-square position
 * table, two models in one file, truncated and empty files, config files that contradict the
 * tensors or are not JSON, a model whose config differs from the file's.
 * --cli: `lpt embed --json` on photo.png (RGB) and gray.png against PyTorch's eval transform +
 * forward, for the torchvision and the OpenCLIP file; text output; usage and runtime errors.
 * Tolerances: features 2e-5 absolute + 1e-4 relative (float32 against PyTorch's float64; the
 * errors seen are about 1e-6); `lpt embed` 1e-4 + 1e-4 relative (JSON prints 9 digits).
 */
#include "op_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpt_safetensors.h"
#include "lpt_vit.h"
#include "lpt_weights.h"
#include "test_util.h"

#define FEAT_ATOL 2e-5
#define FEAT_RTOL 1e-4
#define CLI_TOL 1e-4
#define WIDTH 16
#define PROJ 8
#define BATCH 2
#define IMAGE 32

typedef struct Env {
    OpCheck *oc;
    const char *fixtures;
    char tmp[256];      /* the temp dir of the variants */
    char made[64][512]; /* files and dirs made there, removed in reverse order */
    int n_made;
    LptSafetensors *expected;
} Env;

/* ---- the fixture's image generator (make_weight_fixtures.py) ---------------------------- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static void generate(const char *name, float *out, size_t n, double scale)
{
    uint64_t state = fnv1a64(name);
    for (size_t i = 0; i < n; i++) {
        state += 0x9E3779B97F4A7C15ull;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        out[i] = (float)(scale * ((double)(z >> 41) / (double)(1u << 22) - 1.0));
    }
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void fixture_path(const Env *env, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", env->fixtures, rel);
}

/* The expected tensor `name` as doubles (malloc'ed), or NULL with a failed check. */
static double *expected(Env *env, const char *name, size_t n)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(env->expected, name);
    if (!oc_expect(env->oc, e && e->numel == n, name, "missing from expected.safetensors or "
                                                      "not %zu values", n))
        return NULL;
    float *f = malloc(n * sizeof *f);
    lpt_safetensors_read_f32(env->expected, e, f, n, NULL);
    double *d = oc_to_double(f, n);
    free(f);
    return d;
}

/* A failure with code `code` whose message contains every needle (NULL-terminated). */
static bool expect_fail(OpCheck *oc, const char *what, bool failed, const LptError *err,
                        LptStatus code, const char *const *needles)
{
    if (!oc_expect(oc, failed, what, "accepted"))
        return false;
    if (!oc_expect(oc, err->code == code, what, "status %s, expected %s: %s",
                   lpt_status_name(err->code), lpt_status_name(code), err->message))
        return false;
    for (int i = 0; needles[i]; i++)
        if (!oc_expect(oc, strstr(err->message, needles[i]) != NULL, what,
                       "message lacks \"%s\": %s", needles[i], err->message))
            return false;
    printf("  ok %s: %s\n", what, err->message);
    return true;
}

/* Opens `path` expecting a failure (see expect_fail). */
static void expect_open_fail(Env *env, const char *what, const char *path, int heads,
                             const char *config, LptStatus code, const char *const *needles)
{
    LptWeightsOptions opt;
    lpt_weights_options_init(&opt);
    opt.heads = heads;
    opt.config_path = config;
    LptError err = {0};
    LptWeights *w = lpt_weights_open(path, &opt, &err);
    expect_fail(env->oc, what, w == NULL, &err, code, needles);
    lpt_weights_close(w);
}

/* Runs the plain backbone of `w` on the generated images; features [BATCH, C'] malloc'ed. */
static float *features_of(Env *env, const LptWeights *w, const LptVitConfig *cfg,
                          const char *what)
{
    OpCheck *oc = env->oc;
    LptError err = {0};
    LptVit *vit = lpt_vit_new(oc->be, cfg, &err);
    if (!oc_expect(oc, vit != NULL, what, "lpt_vit_new: %s", err.message))
        return NULL;
    float *out = NULL;
    if (oc_expect(oc, lpt_weights_load_vit(w, vit, &err) == LPT_OK, what, "load: %s",
                  err.message)) {
        size_t n = (size_t)BATCH * 3 * IMAGE * IMAGE;
        float *host = malloc(n * sizeof *host);
        generate("images", host, n, 2.0);
        LptTensor images = oc_tensor(oc, "images", LPT_F32, n, host);
        free(host);
        if (oc_expect(oc, lpt_vit_forward(vit, &images, BATCH, LPT_VIT_PLAIN, false, &err) ==
                              LPT_OK, what, "forward: %s", err.message))
            out = oc_fetch(oc, lpt_vit_features(vit));
    }
    lpt_vit_free(vit);
    return out;
}

/* Opens `path`, loads it and compares the features with expected `ref_name`. */
static LptWeights *open_and_compare(Env *env, const char *what, const char *path, int heads,
                                    const char *ref_name, double atol)
{
    OpCheck *oc = env->oc;
    LptWeightsOptions opt;
    lpt_weights_options_init(&opt);
    opt.heads = heads;
    LptError err = {0};
    LptWeights *w = lpt_weights_open(path, &opt, &err);
    if (!oc_expect(oc, w != NULL, what, "open: %s", err.message))
        return NULL;
    const LptWeightsInfo *info = lpt_weights_info(w);
    int cf = info->vit.clip_style ? info->vit.proj_dim : info->vit.width;
    float *f = features_of(env, w, &info->vit, what);
    double *ref = expected(env, ref_name, (size_t)BATCH * cf);
    if (f && ref) {
        char label[160];
        snprintf(label, sizeof label, "%s: features vs %s", what, ref_name);
        oc_compare(oc, label, f, ref, (size_t)BATCH * cf, atol, FEAT_RTOL);
    }
    free(f);
    free(ref);
    return w;
}

/* ---- the five committed files ------------------------------------------------------------ */

typedef struct Case {
    const char *file;
    LptWeightsNaming naming;
    const char *prefix;
    int heads_option;
    const char *heads_from, *config; /* needles; config: NULL = none read */
    float eps;
    LptVitAct act;
    bool clip;
    size_t params;
    int used, ignored, text;
    const char *ref;
    float mean0;
} Case;

/* ViT: conv 3072 + 16, cls 16, pos 272, 2 blocks x 2224, norm 32; CLIP: no conv bias, ln_pre
 * 32, proj 128. */
#define VIT_PARAMS 7856u
#define CLIP_PARAMS 8000u

static const Case cases[] = {
    {"torchvision/vit_tiny.safetensors", LPT_WEIGHTS_TORCHVISION, "", 2, "option", NULL, 1e-6f,
     LPT_VIT_ACT_GELU, false, VIT_PARAMS, 30, 2, 0, "vit.features", 0.5f},
    {"timm/model.safetensors", LPT_WEIGHTS_TIMM, "", 2, "option", NULL, 1e-6f, LPT_VIT_ACT_GELU,
     false, VIT_PARAMS, 30, 2, 0, "vit.features", 0.5f},
    {"hf_vit/model.safetensors", LPT_WEIGHTS_HF_VIT, "vit.", 0,
     "config.json num_attention_heads", "hf_vit/config.json", 1e-6f, LPT_VIT_ACT_GELU, false,
     VIT_PARAMS, 38, 2, 0, "vit.features", 0.5f},
    /* the same tensors in two shards, through the index and through the folder */
    {"hf_vit_sharded/model.safetensors.index.json", LPT_WEIGHTS_HF_VIT, "vit.", 0,
     "config.json num_attention_heads", "hf_vit_sharded/config.json", 1e-6f, LPT_VIT_ACT_GELU,
     false, VIT_PARAMS, 38, 2, 0, "vit.features", 0.5f},
    {"hf_vit_sharded", LPT_WEIGHTS_HF_VIT, "vit.", 0, "config.json num_attention_heads",
     "hf_vit_sharded/config.json", 1e-6f, LPT_VIT_ACT_GELU, false, VIT_PARAMS, 38, 2, 0,
     "vit.features", 0.5f},
    {"hf_clip/model.safetensors", LPT_WEIGHTS_HF_CLIP, "vision_model.", 0,
     "config.json num_attention_heads", "hf_clip/config.json", 1e-5f, LPT_VIT_ACT_QUICK_GELU,
     true, CLIP_PARAMS, 40, 7, 5, "clip.features", 0.48145466f},
    {"openclip/open_clip_model.safetensors", LPT_WEIGHTS_OPENCLIP, "visual.", 0,
     "open_clip_config.json vision_cfg.head_width", "openclip/open_clip_config.json", 1e-5f,
     LPT_VIT_ACT_QUICK_GELU, true, CLIP_PARAMS, 32, 7, 6, "clip.features", 0.48145466f},
};

static void check_case(Env *env, const Case *c)
{
    OpCheck *oc = env->oc;
    char path[512], what[160];
    fixture_path(env, c->file, path, sizeof path);
    snprintf(what, sizeof what, "%s (%s)", lpt_weights_naming_id(c->naming), c->file);
    LptWeights *w = open_and_compare(env, what, path, c->heads_option, c->ref, FEAT_ATOL);
    if (!w)
        return;
    const LptWeightsInfo *i = lpt_weights_info(w);
    const LptVitConfig *v = &i->vit;
    oc_expect(oc, i->naming == c->naming && strcmp(i->prefix, c->prefix) == 0, what,
              "detected %s with prefix '%s', expected %s '%s'", lpt_weights_naming_id(i->naming),
              i->prefix, lpt_weights_naming_id(c->naming), c->prefix);
    oc_expect(oc, v->depth == 2 && v->width == WIDTH && v->heads == 2 && v->mlp == 32 &&
                      v->patch == 8 && v->image == IMAGE,
              what, "depth %d width %d heads %d mlp %d patch %d image %d, expected 2 16 2 32 8 32",
              v->depth, v->width, v->heads, v->mlp, v->patch, v->image);
    oc_expect(oc, v->eps == c->eps && v->act == c->act && v->clip_style == c->clip &&
                      v->proj_dim == (c->clip ? PROJ : 0) && !i->identity_proj,
              what, "eps %g act %d clip %d proj %d identity %d", (double)v->eps, (int)v->act,
              v->clip_style, v->proj_dim, i->identity_proj);
    oc_expect(oc, v->prompts == 0 && v->adapter_rank == 0 && v->pool_size == 0 &&
                      v->classes == 0,
              what, "trainable fields not zero");
    oc_expect(oc, strstr(i->heads_from, c->heads_from) != NULL, what,
              "heads from '%s', expected '%s'", i->heads_from, c->heads_from);
    char cfg_path[512] = "";
    if (c->config)
        fixture_path(env, c->config, cfg_path, sizeof cfg_path);
    oc_expect(oc, c->config ? (i->config_path && strcmp(i->config_path, cfg_path) == 0)
                            : i->config_path == NULL,
              what, "config read: %s", i->config_path ? i->config_path : "(none)");
    oc_expect(oc, i->params == c->params && i->tensors_used == c->used &&
                      i->tensors_ignored == c->ignored && i->text_tensors == c->text &&
                      i->tensors == c->used + c->ignored,
              what, "params %zu used %d ignored %d text %d of %d, expected %zu %d %d %d",
              i->params, i->tensors_used, i->tensors_ignored, i->text_tensors, i->tensors,
              c->params, c->used, c->ignored, c->text);
    oc_expect(oc, fabsf(i->mean[0] - c->mean0) < 1e-7f && i->std[0] > 0.2f, what,
              "mean %g std %g", (double)i->mean[0], (double)i->std[0]);
    oc_expect(oc, lpt_weights_file(w) && lpt_safetensors_count(lpt_weights_file(w)) == i->tensors,
              what, "lpt_weights_file does not give the open file");

    /* the trainable fields are free: an LPT++ expert loads the same backbone */
    LptVitConfig lpt = i->vit;
    lpt.prompts = 3;
    lpt.adapter_rank = 2;
    lpt.pool_size = 4;
    lpt.classes = 5;
    snprintf(what, sizeof what, "%s as an LPT++ expert", lpt_weights_naming_id(c->naming));
    float *f = features_of(env, w, &lpt, what);
    int cf = c->clip ? PROJ : WIDTH;
    double *ref = expected(env, c->ref, (size_t)BATCH * cf);
    if (f && ref)
        oc_compare(oc, what, f, ref, (size_t)BATCH * cf, FEAT_ATOL, FEAT_RTOL);
    free(f);
    free(ref);

    /* a model whose backbone differs is refused */
    LptError err = {0};
    LptVitConfig bad = i->vit;
    bad.heads = 4;
    LptVit *vit = lpt_vit_new(oc->be, &bad, &err);
    if (oc_expect(oc, vit != NULL, "model with 4 heads", "%s", err.message)) {
        const char *needles[] = {"heads differs", NULL};
        expect_fail(oc, "load into a model with other heads",
                    lpt_weights_load_vit(w, vit, &err) != LPT_OK, &err, LPT_ERR_INVALID_ARGUMENT,
                    needles);
    }
    lpt_vit_free(vit);
    lpt_weights_close(w);
    oc_reset(oc);
}

/* ---- variants written at run time --------------------------------------------------------- */

typedef struct Edit {
    const char *name;   /* exact name, or a prefix ending in '*' */
    const char *rename; /* new name (a prefix's replacement); NULL keeps the name */
    bool drop;
    int ndim;           /* > 0: replace the data by zeros of this shape */
    size_t shape[4];
} Edit;

/* Remembers a path made in the temp dir (removed at the end). */
static const char *made(Env *env, const char *rel)
{
    if (env->n_made >= 64)
        return NULL;
    char *p = env->made[env->n_made++];
    snprintf(p, 512, "%s/%s", env->tmp, rel);
    return p;
}

static const char *make_dir(Env *env, const char *rel)
{
    const char *p = made(env, rel);
    if (p)
        mkdir(p, 0700);
    return p;
}

/* Matches `name` against an edit: exact, or a prefix when the edit ends in '*'. On a match
 * writes the edited name into out. */
static bool edit_matches(const Edit *e, const char *name, char *out, size_t size)
{
    size_t n = strlen(e->name);
    bool prefix = n > 0 && e->name[n - 1] == '*';
    if (prefix ? strncmp(name, e->name, n - 1) != 0 : strcmp(name, e->name) != 0)
        return false;
    if (!e->rename)
        snprintf(out, size, "%s", name);
    else if (prefix)
        snprintf(out, size, "%s%s", e->rename, name + n - 1);
    else
        snprintf(out, size, "%s", e->rename);
    return true;
}

/* Copies fixture `src_rel` (float tensors, as F32) to `dst` with the edits applied, plus
 * `extra` tensors (zeros) from the edits with ndim > 0 that match nothing. */
static bool write_variant(Env *env, const char *src_rel, const char *dst, const Edit *edits,
                          int n_edits, const char *const *also)
{
    char src[512];
    fixture_path(env, src_rel, src, sizeof src);
    LptError err = {0};
    LptSafetensors *st = lpt_safetensors_open(src, &err);
    LptSafetensorsWriter *wr = lpt_safetensors_writer_new();
    bool ok = st && wr;
    bool *hit = calloc((size_t)n_edits + 1, sizeof *hit);
    for (int i = 0; ok && i < lpt_safetensors_count(st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
        if (e->dtype != LPT_ST_F32 && e->dtype != LPT_ST_F16 && e->dtype != LPT_ST_BF16)
            continue;
        char name[320];
        snprintf(name, sizeof name, "%s", e->name);
        const Edit *ed = NULL;
        for (int k = 0; k < n_edits && !ed; k++)
            if (edit_matches(&edits[k], e->name, name, sizeof name)) {
                ed = &edits[k];
                hit[k] = true;
            }
        if (ed && ed->drop)
            continue;
        if (ed && ed->ndim > 0) {
            size_t n = 1;
            for (int d = 0; d < ed->ndim; d++)
                n *= ed->shape[d];
            float *z = calloc(n + 1, sizeof *z);
            ok = lpt_safetensors_writer_add_f32(wr, name, ed->ndim, ed->shape, z, &err) == LPT_OK;
            free(z);
            continue;
        }
        float *v = malloc(e->numel * sizeof *v + 1);
        size_t shape[LPT_SAFETENSORS_MAX_DIMS];
        memcpy(shape, e->shape, sizeof shape);
        ok = lpt_safetensors_read_f32(st, e, v, e->numel, &err) == LPT_OK &&
             lpt_safetensors_writer_add_f32(wr, name, e->ndim, shape, v, &err) == LPT_OK;
        free(v);
    }
    for (int k = 0; ok && k < n_edits; k++) /* new tensors */
        if (!hit[k] && edits[k].ndim > 0) {
            size_t n = 1;
            for (int d = 0; d < edits[k].ndim; d++)
                n *= edits[k].shape[d];
            float *z = calloc(n + 1, sizeof *z);
            ok = lpt_safetensors_writer_add_f32(wr, edits[k].name, edits[k].ndim,
                                                edits[k].shape, z, &err) == LPT_OK;
            free(z);
        }
    /* tensors of other files (two models in one) */
    for (int a = 0; ok && also && also[a]; a++) {
        char other[512];
        fixture_path(env, also[a], other, sizeof other);
        LptSafetensors *o = lpt_safetensors_open(other, &err);
        ok = o != NULL;
        for (int i = 0; ok && i < lpt_safetensors_count(o); i++) {
            const LptSafetensorsEntry *e = lpt_safetensors_entry(o, i);
            float *v = malloc(e->numel * sizeof *v + 1);
            size_t shape[LPT_SAFETENSORS_MAX_DIMS];
            memcpy(shape, e->shape, sizeof shape);
            ok = lpt_safetensors_read_f32(o, e, v, e->numel, &err) == LPT_OK &&
                 lpt_safetensors_writer_add_f32(wr, e->name, e->ndim, shape, v, &err) == LPT_OK;
            free(v);
        }
        lpt_safetensors_close(o);
    }
    if (ok)
        ok = lpt_safetensors_write(wr, dst, &err) == LPT_OK;
    oc_expect(env->oc, ok, "writing a variant", "%s: %s", dst, err.message);
    free(hit);
    lpt_safetensors_writer_free(wr);
    lpt_safetensors_close(st);
    return ok;
}

static bool write_text(Env *env, const char *path, const char *text)
{
    return oc_expect(env->oc, tu_write_file(path, text, strlen(text)), "writing a config", "%s",
                     path);
}

/* Copies the first `keep` bytes (all when keep < 0) of fixture `src_rel` to dst. */
static bool copy_bytes(Env *env, const char *src_rel, const char *dst, long keep)
{
    char src[512];
    fixture_path(env, src_rel, src, sizeof src);
    return oc_expect(env->oc, tu_copy_file(src, dst, keep), "copying a fixture", "%s -> %s",
                     src_rel, dst);
}

/* the fixture's config.json */
#define HF_CONFIG                                                                              \
    "{\"model_type\": \"vit\", \"hidden_size\": 16, \"num_hidden_layers\": 2, "                 \
    "\"num_attention_heads\": 2, \"intermediate_size\": 32, \"hidden_act\": \"gelu\", "         \
    "\"layer_norm_eps\": 1e-6, \"image_size\": 32, \"patch_size\": 8, \"num_channels\": 3}"

static void check_good_variants(Env *env)
{
    OpCheck *oc = env->oc;

    /* ViTModel: no "vit." prefix, a pooler, no classifier */
    const char *dir = make_dir(env, "vitmodel");
    const char *file = made(env, "vitmodel/model.safetensors");
    const char *cfg = made(env, "vitmodel/config.json");
    Edit vitmodel[] = {{"vit.*", "", false, 0, {0}},
                       {"classifier.*", NULL, true, 0, {0}},
                       {"pooler.dense.weight", NULL, false, 2, {WIDTH, WIDTH}},
                       {"pooler.dense.bias", NULL, false, 1, {WIDTH}}};
    if (dir && write_variant(env, "hf_vit/model.safetensors", file, vitmodel, 4, NULL) &&
        write_text(env, cfg, HF_CONFIG)) {
        LptWeights *w = open_and_compare(env, "hf-vit ViTModel (no prefix, pooler)", file, 0,
                                         "vit.features", FEAT_ATOL);
        if (w)
            oc_expect(oc, lpt_weights_info(w)->prefix[0] == '\0' &&
                              lpt_weights_info(w)->tensors_ignored == 2,
                      "hf-vit ViTModel", "prefix '%s', %d ignored", lpt_weights_info(w)->prefix,
                      lpt_weights_info(w)->tensors_ignored);
        lpt_weights_close(w);
    }

    /* HF ViT without config.json: heads must be given; eps is transformers' 1e-12 */
    dir = make_dir(env, "noconfig");
    file = made(env, "noconfig/model.safetensors");
    if (dir && copy_bytes(env, "hf_vit/model.safetensors", file, -1)) {
        const char *needles[] = {"cannot tell the number of heads of width 16", "--heads", NULL};
        expect_open_fail(env, "hf-vit without config.json or heads", file, 0, NULL,
                         LPT_ERR_FORMAT, needles);
        /* 1e-12 vs the 1e-6 the reference used: ~1e-6 relative on these activations */
        LptWeights *w = open_and_compare(env, "hf-vit without config.json, heads 2", file, 2,
                                         "vit.features", 1e-4);
        if (w)
            oc_expect(oc, lpt_weights_info(w)->vit.eps == 1e-12f &&
                              strstr(lpt_weights_info(w)->eps_from, "1e-12") &&
                              !lpt_weights_info(w)->config_path,
                      "hf-vit without config.json", "eps %g from '%s'",
                      (double)lpt_weights_info(w)->vit.eps, lpt_weights_info(w)->eps_from);
        lpt_weights_close(w);
    }

    /* torchvision before 0.13: mlp.linear_1 / mlp.linear_2 */
    file = made(env, "tv_old.safetensors");
    Edit tv_old[] = {{"encoder.layers.encoder_layer_0.mlp.0.*", "encoder.layers.encoder_layer_0.mlp.linear_1.", false, 0, {0}},
                     {"encoder.layers.encoder_layer_0.mlp.3.*", "encoder.layers.encoder_layer_0.mlp.linear_2.", false, 0, {0}},
                     {"encoder.layers.encoder_layer_1.mlp.0.*", "encoder.layers.encoder_layer_1.mlp.linear_1.", false, 0, {0}},
                     {"encoder.layers.encoder_layer_1.mlp.3.*", "encoder.layers.encoder_layer_1.mlp.linear_2.", false, 0, {0}}};
    if (file && write_variant(env, "torchvision/vit_tiny.safetensors", file, tv_old, 4, NULL))
        lpt_weights_close(open_and_compare(env, "torchvision mlp.linear_1/linear_2", file, 2,
                                           "vit.features", FEAT_ATOL));

    /* CLIPVisionModel without visual_projection: identity, C' = C; projecting its features
     * on the host with the fixture's projection gives the reference */
    dir = make_dir(env, "clipvision");
    file = made(env, "clipvision/model.safetensors");
    cfg = made(env, "clipvision/config.json");
    Edit noproj[] = {{"visual_projection.weight", NULL, true, 0, {0}}};
    char src_cfg[512], proj_src[512];
    fixture_path(env, "hf_clip/config.json", src_cfg, sizeof src_cfg);
    fixture_path(env, "hf_clip/model.safetensors", proj_src, sizeof proj_src);
    if (dir && write_variant(env, "hf_clip/model.safetensors", file, noproj, 1, NULL) &&
        copy_bytes(env, "hf_clip/config.json", cfg, -1)) {
        LptError err = {0};
        LptWeights *w = lpt_weights_open(file, NULL, &err);
        if (oc_expect(oc, w != NULL, "hf-clip without projection", "%s", err.message)) {
            const LptWeightsInfo *i = lpt_weights_info(w);
            oc_expect(oc, i->identity_proj && i->vit.proj_dim == WIDTH &&
                              i->params == CLIP_PARAMS - PROJ * WIDTH,
                      "hf-clip without projection", "identity %d proj_dim %d params %zu",
                      i->identity_proj, i->vit.proj_dim, i->params);
            float *f = features_of(env, w, &i->vit, "hf-clip without projection");
            LptSafetensors *st = lpt_safetensors_open(proj_src, &err);
            const LptSafetensorsEntry *pe =
                st ? lpt_safetensors_find(st, "visual_projection.weight") : NULL;
            double *ref = expected(env, "clip.features", BATCH * PROJ);
            float proj[PROJ * WIDTH], got[BATCH * PROJ];
            if (f && ref && pe &&
                lpt_safetensors_read_f32(st, pe, proj, PROJ * WIDTH, &err) == LPT_OK) {
                for (int b = 0; b < BATCH; b++)
                    for (int j = 0; j < PROJ; j++) {
                        double s = 0;
                        for (int k = 0; k < WIDTH; k++)
                            s += (double)f[b * WIDTH + k] * proj[j * WIDTH + k];
                        got[b * PROJ + j] = (float)s;
                    }
                oc_compare(oc, "hf-clip without projection: features projected on the host",
                           got, ref, BATCH * PROJ, FEAT_ATOL, FEAT_RTOL);
            }
            free(f);
            free(ref);
            lpt_safetensors_close(st);
        }
        lpt_weights_close(w);
    }
    oc_reset(oc);
}

static void check_bad_files(Env *env)
{
    const char *file;

    file = made(env, "tv_shape.safetensors");
    Edit tv_shape[] = {{"encoder.layers.encoder_layer_1.ln_2.weight", NULL, false, 1, {17}}};
    if (file && write_variant(env, "torchvision/vit_tiny.safetensors", file, tv_shape, 1, NULL)) {
        const char *n[] = {"'encoder.layers.encoder_layer_1.ln_2.weight' has shape [17], "
                           "expected [16]",
                           "blocks.1.ln2.weight", NULL};
        expect_open_fail(env, "wrong shape (LayerNorm weight)", file, 2, NULL, LPT_ERR_FORMAT,
                         n);
    }
    file = made(env, "timm_qkv.safetensors");
    Edit timm_qkv[] = {{"blocks.0.attn.qkv.weight", NULL, false, 2, {47, WIDTH}}};
    if (file && write_variant(env, "timm/model.safetensors", file, timm_qkv, 1, NULL)) {
        const char *n[] = {"'blocks.0.attn.qkv.weight' has shape [47, 16], expected [48, 16]",
                           NULL};
        expect_open_fail(env, "wrong shape (fused qkv)", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    /* two wrong tensors: the first in model order (the class token) is named, not the first
     * in name order (blocks.0.norm1.weight) */
    file = made(env, "timm_two.safetensors");
    Edit timm_two[] = {{"cls_token", NULL, false, 3, {1, 1, 15}},
                       {"blocks.0.norm1.weight", NULL, false, 1, {15}}};
    if (file && write_variant(env, "timm/model.safetensors", file, timm_two, 2, NULL)) {
        const char *n[] = {"'cls_token' has shape [1, 1, 15], expected [1, 1, 16]", NULL};
        expect_open_fail(env, "two wrong shapes", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "timm_missing.safetensors");
    Edit timm_missing[] = {{"blocks.1.mlp.fc2.bias", NULL, true, 0, {0}}};
    if (file && write_variant(env, "timm/model.safetensors", file, timm_missing, 1, NULL)) {
        const char *n[] = {"missing tensor 'blocks.1.mlp.fc2.bias' (expected [16]", NULL};
        expect_open_fail(env, "missing tensor", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    const char *dir = make_dir(env, "hf_missing");
    file = made(env, "hf_missing/model.safetensors");
    const char *cfg = made(env, "hf_missing/config.json");
    Edit hf_missing[] = {{"vit.encoder.layer.1.attention.attention.key.weight", NULL, true, 0,
                          {0}}};
    if (dir && write_variant(env, "hf_vit/model.safetensors", file, hf_missing, 1, NULL) &&
        write_text(env, cfg, HF_CONFIG)) {
        const char *n[] = {"missing tensor 'vit.encoder.layer.1.attention.attention.key.weight'",
                           "blocks.1.qkv.weight", NULL};
        expect_open_fail(env, "missing key of q/k/v", file, 0, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "unknown.safetensors");
    Edit unknown[] = {{"patch_embed.*", "stem.", false, 0, {0}}};
    if (file && write_variant(env, "timm/model.safetensors", file, unknown, 1, NULL)) {
        const char *n[] = {"not a supported ViT naming", "hf-vit, hf-clip, timm, openclip, "
                           "torchvision", "'blocks.0.attn.proj.bias'", NULL};
        expect_open_fail(env, "unknown naming", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "layerscale.safetensors");
    Edit layerscale[] = {{"blocks.0.ls1.gamma", NULL, false, 1, {WIDTH}}};
    if (file && write_variant(env, "timm/model.safetensors", file, layerscale, 1, NULL)) {
        const char *n[] = {"'blocks.0.ls1.gamma' [16] has no place in a timm", NULL};
        expect_open_fail(env, "extra tensor (LayerScale)", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "pos18.safetensors");
    Edit pos18[] = {{"pos_embed", NULL, false, 3, {1, 18, WIDTH}}};
    if (file && write_variant(env, "timm/model.safetensors", file, pos18, 1, NULL)) {
        const char *n[] = {"'pos_embed' has 18 rows", "not a square grid", NULL};
        expect_open_fail(env, "position table of 17 patches", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "two_models.safetensors");
    const char *also[] = {"torchvision/vit_tiny.safetensors", NULL};
    if (file && write_variant(env, "timm/model.safetensors", file, NULL, 0, also)) {
        const char *n[] = {"more than one model", "timm naming", "torchvision naming", NULL};
        expect_open_fail(env, "two models in one file", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "truncated.safetensors");
    if (file && copy_bytes(env, "torchvision/vit_tiny.safetensors", file, 20000)) {
        const char *n[] = {"truncated.safetensors", NULL};
        expect_open_fail(env, "truncated file", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    file = made(env, "empty.safetensors");
    if (file && copy_bytes(env, "torchvision/vit_tiny.safetensors", file, 0)) {
        const char *n[] = {"empty.safetensors", NULL};
        expect_open_fail(env, "empty file", file, 2, NULL, LPT_ERR_FORMAT, n);
    }
    char missing_path[600];
    snprintf(missing_path, sizeof missing_path, "%s/no-such-file.safetensors", env->tmp);
    const char *n_missing[] = {"no-such-file.safetensors", NULL};
    expect_open_fail(env, "missing file", missing_path, 2, NULL, LPT_ERR_IO, n_missing);
    LptError err = {0};
    const char *n_null[] = {"no path", NULL};
    expect_fail(env->oc, "NULL path", lpt_weights_open(NULL, NULL, &err) == NULL, &err,
                LPT_ERR_INVALID_ARGUMENT, n_null);
    lpt_weights_close(NULL);
}

/* config files that contradict the tensors or cannot be read (beside a copy of hf_vit) */
static void check_bad_configs(Env *env)
{
    const char *dir = make_dir(env, "cfg");
    const char *file = made(env, "cfg/model.safetensors");
    const char *cfg = made(env, "cfg/config.json");
    if (!dir || !cfg || !copy_bytes(env, "hf_vit/model.safetensors", file, -1))
        return;
    static const struct {
        const char *what, *text, *needle;
        LptStatus code;
    } bad[] = {
        {"config: hidden_size 24",
         "{\"model_type\": \"vit\", \"hidden_size\": 24, \"num_attention_heads\": 2}",
         "hidden_size 24 contradicts the tensors: "
         "'vit.embeddings.patch_embeddings.projection.weight' gives width 16",
         LPT_ERR_FORMAT},
        {"config: num_hidden_layers 3", "{\"model_type\": \"vit\", \"num_hidden_layers\": 3}",
         "num_hidden_layers 3 contradicts the tensors", LPT_ERR_FORMAT},
        {"config: intermediate_size 64", "{\"model_type\": \"vit\", \"intermediate_size\": 64}",
         "intermediate_size 64 contradicts the tensors: "
         "'vit.encoder.layer.0.intermediate.dense.weight' gives MLP width 32",
         LPT_ERR_FORMAT},
        {"config: image_size 64", "{\"model_type\": \"vit\", \"image_size\": 64}",
         "image_size 64 contradicts the tensors: 'vit.embeddings.position_embeddings'",
         LPT_ERR_FORMAT},
        {"config: patch_size 16", "{\"model_type\": \"vit\", \"patch_size\": 16}",
         "patch_size 16 contradicts", LPT_ERR_FORMAT},
        {"config: model_type clip", "{\"model_type\": \"clip\"}",
         "model_type 'clip' contradicts the tensors", LPT_ERR_FORMAT},
        {"config: 3 heads", "{\"model_type\": \"vit\", \"num_attention_heads\": 3}",
         "3 heads do not divide width 16", LPT_ERR_FORMAT},
        {"config: heads 2.5", "{\"model_type\": \"vit\", \"num_attention_heads\": 2.5}",
         "'num_attention_heads' is not a positive integer", LPT_ERR_FORMAT},
        {"config: hidden_act gelu_new",
         "{\"model_type\": \"vit\", \"num_attention_heads\": 2, \"hidden_act\": \"gelu_new\"}",
         "hidden_act 'gelu_new' is not supported", LPT_ERR_UNSUPPORTED},
        {"config: not JSON", "{\"model_type\": ", "not a JSON object", LPT_ERR_FORMAT},
        {"config: unknown dialect", "{\"answer\": 42}", "not a config this loader reads",
         LPT_ERR_FORMAT},
        {"config: timm input_size", "{\"pretrained_cfg\": {\"input_size\": [3, 224, 224]}}",
         "input_size gives a side of 224", LPT_ERR_FORMAT},
        {"config: OpenCLIP width", "{\"model_cfg\": {\"vision_cfg\": {\"width\": 32}}}",
         "width 32 contradicts the tensors", LPT_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!write_text(env, cfg, bad[i].text))
            return;
        const char *n[] = {"config.json", bad[i].needle, NULL};
        expect_open_fail(env, bad[i].what, file, 0, NULL, bad[i].code, n);
    }
    /* a config that agrees is read; an explicit path wins; "" reads none */
    char text[600];
    snprintf(text, sizeof text, "{\"model_type\": \"vit\", \"num_attention_heads\": 4, "
                                "\"layer_norm_eps\": 1e-5, \"hidden_act\": \"quick_gelu\"}");
    if (write_text(env, cfg, text)) {
        LptError err = {0};
        LptWeights *w = lpt_weights_open(file, NULL, &err);
        if (oc_expect(env->oc, w != NULL, "config with heads 4, eps 1e-5, quick_gelu", "%s",
                      err.message)) {
            const LptVitConfig *v = &lpt_weights_info(w)->vit;
            oc_expect(env->oc, v->heads == 4 && v->eps == 1e-5f &&
                                   v->act == LPT_VIT_ACT_QUICK_GELU &&
                                   strstr(lpt_weights_info(w)->eps_from, "layer_norm_eps") &&
                                   strstr(lpt_weights_info(w)->act_from, "hidden_act"),
                      "config with heads 4, eps 1e-5, quick_gelu",
                      "heads %d eps %g act %d (%s, %s)", v->heads, (double)v->eps, (int)v->act,
                      lpt_weights_info(w)->eps_from, lpt_weights_info(w)->act_from);
        }
        lpt_weights_close(w);
        LptWeightsOptions opt;
        lpt_weights_options_init(&opt);
        opt.heads = 8;
        w = lpt_weights_open(file, &opt, &err);
        oc_expect(env->oc, w && lpt_weights_info(w)->vit.heads == 8 &&
                               strcmp(lpt_weights_info(w)->heads_from, "option") == 0,
                  "heads option over config", "%s", w ? lpt_weights_info(w)->heads_from
                                                      : err.message);
        lpt_weights_close(w);
    }
    const char *n_none[] = {"cannot tell the number of heads", NULL};
    expect_open_fail(env, "config_path \"\" (none)", file, 0, "", LPT_ERR_FORMAT, n_none);
    char nofile[600];
    snprintf(nofile, sizeof nofile, "%s/cfg/nothing.json", env->tmp);
    const char *n_nofile[] = {"nothing.json", NULL};
    expect_open_fail(env, "config_path of a missing file", file, 0, nofile, LPT_ERR_IO,
                     n_nofile);
    const char *n_heads[] = {"3 heads do not divide width 16", NULL};
    expect_open_fail(env, "heads option 3", file, 3, "", LPT_ERR_INVALID_ARGUMENT, n_heads);

    /* OpenCLIP: embed_dim must match the projection; quick_gelu absent means GELU */
    dir = make_dir(env, "oc");
    file = made(env, "oc/open_clip_model.safetensors");
    cfg = made(env, "oc/open_clip_config.json");
    if (dir && copy_bytes(env, "openclip/open_clip_model.safetensors", file, -1) &&
        write_text(env, cfg, "{\"model_cfg\": {\"embed_dim\": 12, \"vision_cfg\": "
                             "{\"head_width\": 8}}}")) {
        const char *n[] = {"embed_dim 12 contradicts the tensors: 'visual.proj' gives "
                           "projection width 8",
                           NULL};
        expect_open_fail(env, "OpenCLIP embed_dim 12", file, 0, NULL, LPT_ERR_FORMAT, n);
    }
    if (cfg && write_text(env, cfg, "{\"model_cfg\": {\"vision_cfg\": {\"head_width\": 4, "
                                    "\"mlp_ratio\": 2}}}")) {
        LptError err = {0};
        LptWeights *w = lpt_weights_open(file, NULL, &err);
        oc_expect(env->oc, w && lpt_weights_info(w)->vit.act == LPT_VIT_ACT_GELU &&
                               lpt_weights_info(w)->vit.heads == 4 &&
                               strstr(lpt_weights_info(w)->act_from, "absent"),
                  "OpenCLIP config without quick_gelu", "%s",
                  w ? lpt_weights_info(w)->act_from : err.message);
        lpt_weights_close(w);
    }
}

static void check_default_heads(OpCheck *oc)
{
    static const int table[][2] = {{192, 3},   {384, 6},   {512, 8},  {768, 12}, {1024, 16},
                                   {1280, 16}, {1408, 16}, {640, 10}, {16, 0},   {100, 0},
                                   {0, 0}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        oc_expect(oc, lpt_weights_default_heads(table[i][0]) == table[i][1], "default heads",
                  "width %d gives %d, expected %d", table[i][0],
                  lpt_weights_default_heads(table[i][0]), table[i][1]);
}

/* ---- `lpt embed` -------------------------------------------------------------------------- */

/* Runs a command; its stdout (up to size - 1 bytes) into out; returns the exit status. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    while (fgetc(p) != EOF) {
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void check_embed(Env *env, const char *lpt, const char *rel, const char *extra,
                        const char *ref_name, int cf, const char *naming)
{
    OpCheck *oc = env->oc;
    char cmd[2048], what[160];
    static char out[1 << 16];
    snprintf(what, sizeof what, "lpt embed %s", naming);
    snprintf(cmd, sizeof cmd,
             "'%s' embed --backbone '%s/%s' %s --backend %s --json '%s/photo.png' "
             "'%s/gray.png'",
             lpt, env->fixtures, rel, extra, oc->backend, env->fixtures, env->fixtures);
    int rc = run(cmd, out, sizeof out);
    if (!oc_expect(oc, rc == 0, what, "exit %d: %s", rc, cmd))
        return;
    cJSON *root = cJSON_Parse(out);
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(root, "backbone");
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(bb, "naming");
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(root, "images");
    if (oc_expect(oc, cJSON_IsString(nm) && strcmp(nm->valuestring, naming) == 0 &&
                          cJSON_GetArraySize(images) == BATCH,
                  what, "unexpected JSON: %.300s", out)) {
        float got[BATCH * PROJ * 2] = {0};
        bool shaped = true;
        for (int b = 0; b < BATCH; b++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(images, b),
                                                              "feature");
            shaped &= cJSON_GetArraySize(f) == cf;
            for (int j = 0; shaped && j < cf; j++)
                got[b * cf + j] = (float)cJSON_GetArrayItem(f, j)->valuedouble;
        }
        double *ref = expected(env, ref_name, (size_t)BATCH * cf);
        if (oc_expect(oc, shaped, what, "features are not %d wide", cf) && ref)
            oc_compare(oc, what, got, ref, (size_t)BATCH * cf, CLI_TOL, CLI_TOL);
        free(ref);
    }
    cJSON_Delete(root);
}

static void check_cli(Env *env, const char *lpt)
{
    OpCheck *oc = env->oc;
    check_embed(env, lpt, "torchvision/vit_tiny.safetensors", "--heads 2", "cli.vit.features",
                WIDTH, "torchvision");
    check_embed(env, lpt, "openclip/open_clip_model.safetensors", "--batch 1",
                "cli.clip.features", PROJ, "openclip");
    char cmd[2048];
    static char out[1 << 16];
    snprintf(cmd, sizeof cmd, "'%s' embed --backbone '%s/hf_vit/model.safetensors' --backend %s "
                              "'%s/photo.png'",
             lpt, env->fixtures, oc->backend, env->fixtures);
    int rc = run(cmd, out, sizeof out);
    oc_expect(oc, rc == 0 && strstr(out, "hf-vit") && strstr(out, "heads 2") &&
                      strstr(out, "photo.png"),
              "lpt embed (text)", "exit %d: %.400s", rc, out);
    struct {
        const char *what, *args;
        int rc;
    } bad[] = {
        {"lpt embed without images", "embed --backbone x.safetensors", 2},
        {"lpt embed without --backbone", "embed a.png", 2},
        {"lpt embed --heads x", "embed --heads x --backbone a a.png", 2},
        {"lpt embed of a missing backbone", "embed --backbone /nonexistent.safetensors a.png", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "'%s' %s --backend %s 2>&1", lpt, bad[i].args, oc->backend);
        rc = run(cmd, out, sizeof out);
        oc_expect(oc, rc == bad[i].rc && strstr(out, "lpt embed"), bad[i].what,
                  "exit %d (expected %d): %.300s", rc, bad[i].rc, out);
    }
    snprintf(cmd, sizeof cmd, "'%s' embed --backbone '%s/torchvision/vit_tiny.safetensors' "
                              "--heads 2 --backend %s '%s/photo.png' '%s/expected.safetensors' "
                              "2>&1",
             lpt, env->fixtures, oc->backend, env->fixtures, env->fixtures);
    rc = run(cmd, out, sizeof out);
    oc_expect(oc, rc == 1 && strstr(out, "expected.safetensors"),
              "lpt embed of a file that is not an image", "exit %d: %.300s", rc, out);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *lpt = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--fixtures") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--cli") == 0)
            lpt = argv[i + 1];
    }
    if (!dir) {
        fprintf(stderr, "usage: %s --backend cpu|vulkan --fixtures DIR [--cli LPT]\n", argv[0]);
        return 1;
    }
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    Env env = {.oc = &oc, .fixtures = dir};
    char path[512];
    fixture_path(&env, "expected.safetensors", path, sizeof path);
    LptError err = {0};
    env.expected = lpt_safetensors_open(path, &err);
    snprintf(env.tmp, sizeof env.tmp, "/tmp/lpt-test-weights-XXXXXX");
    if (!oc_expect(&oc, env.expected != NULL, "expected.safetensors", "%s", err.message) ||
        !oc_expect(&oc, mkdtemp(env.tmp) != NULL, "temp dir", "mkdtemp failed")) {
        lpt_safetensors_close(env.expected);
        return oc_finish(&oc, "test_weights");
    }
    if (lpt) {
        check_cli(&env, lpt);
    } else {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            check_case(&env, &cases[i]);
        check_good_variants(&env);
        check_bad_files(&env);
        check_bad_configs(&env);
        check_default_heads(&oc);
    }
    for (int i = env.n_made - 1; i >= 0; i--)
        if (remove(env.made[i]) != 0)
            rmdir(env.made[i]);
    rmdir(env.tmp);
    lpt_safetensors_close(env.expected);
    return oc_finish(&oc, lpt ? "test_weights --cli" : "test_weights");
}

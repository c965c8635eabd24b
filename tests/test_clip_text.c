/* test_clip_text.c: CLIP's text tower and class embeddings (src/core/lpt_clip_text*.c) against
 * PyTorch, on one backend.
 *
 * Usage: test_clip_text --backend cpu|vulkan --fixtures DIR --tokenizer-fixtures DIR
 *                       [--train-fixtures DIR] [--clip-vocab BPE_TXT]
 * DIR (tests/fixtures/clip_text, made by make_clip_text_fixtures.py) holds the expected
 * features; the towers' weights are regenerated from their names by the fixture's generator.
 * The tokenizer fixtures give the tiny vocabulary; BPE_TXT is CLIP's full one
 * (run_test_clip_text.sh fetches it). Without it the "real" checks are skipped and the exit
 * status is 77 unless a check failed.
 *
 * Checks, for the tiny tower (526-token vocabulary) and the real one (49408 tokens):
 *  - tokenizer ids and EOT positions of the fixture's texts (one longer than 77 tokens);
 *  - features of the ids (argmax pooling), through lpt_clip_text_encode (sorted batches),
 *    and -- tiny -- of ids made by the script with explicit pooling positions, in one batch
 *    and one text at a time (each forward runs only as many rows as its longest text);
 *  - many long texts, so that lpt_clip_text_encode splits them into several forwards;
 *  - class embeddings: two templates, per-class descriptions, the default template;
 *  - zero-shot logits against a double reference;
 * the weight files: OpenAI (F32, heads given, or told by `lpt pretrain-clip`'s metadata, bad
 * values refused), Hugging Face (F16, config.json) and OpenCLIP
 * (BF16, open_clip_config.json, GELU) namings, and broken files (wrong shape, unknown, missing
 * tensor, no text tower, truncated, missing); bad arguments (sizes, names, ids, positions,
 * templates). Training (`lpt pretrain-clip`; --train-fixtures tests/fixtures/clip_pretrain,
 * made by make_clip_pretrain_fixtures.py): every gradient of a trainable tower against
 * PyTorch's (2e-6 absolute + 2e-5 relative), their accumulation and reset, central finite
 * differences (h 1e-2) at entries of ten tensors, lpt_clip_text_init's spreads and
 * determinism, and misuse (backward without a training forward, a short gradient, training
 * a frozen tower). Tolerances (float32 against PyTorch's float64): features and class rows 5e-6
 * absolute + 5e-5 relative (largest error seen on both backends: 2.4e-7); zero-shot logits
 * 1e-6 + 1e-5 relative against the same cosines in double.
 */
#include "op_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_clip_text.h"
#include "lpt_safetensors.h"
#include "lpt_tokenizer.h"

#define ATOL 5e-6
#define RTOL 5e-5

/* ---- the fixture's generator (make_vit_fixtures.py's) ---------------------------------- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ull;
    return h;
}

static void generate(const char *name, float *out, size_t n, double offset, double scale)
{
    uint64_t state = fnv1a64(name);
    for (size_t i = 0; i < n; i++) {
        state += 0x9E3779B97F4A7C15ull;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        double u = (double)(z >> 41) / (double)(1u << 22) - 1.0;
        out[i] = (float)(offset + scale * u);
    }
}

/* ---- fixture access --------------------------------------------------------------------- */

typedef struct Fixture {
    const char *dir;
    LptSafetensors *st;
    cJSON *gen, *texts, *classes, *descriptions, *templates;
} Fixture;

static cJSON *meta_json(const Fixture *fx, const char *key)
{
    const char *text = lpt_safetensors_metadata(fx->st, key);
    return text ? cJSON_Parse(text) : NULL;
}

/* The fixture tensor `name` (F32 or I32) as a malloc'ed copy; NULL with a failed check. */
static void *fixture_get(OpCheck *oc, const Fixture *fx, const char *name, size_t *count)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(fx->st, name);
    if (!oc_expect(oc, e && (e->dtype == LPT_ST_F32 || e->dtype == LPT_ST_I32), name,
                   "fixture tensor missing or not F32/I32"))
        return NULL;
    void *v = malloc(e->nbytes);
    memcpy(v, e->data, e->nbytes); /* both 4-byte little-endian types, as this machine */
    *count = e->numel;
    return v;
}

/* Compares got[n] with the fixture tensor `name`. */
static void compare(OpCheck *oc, const Fixture *fx, const char *what, const char *name,
                    const float *got, size_t n)
{
    size_t count = 0;
    float *ref = fixture_get(oc, fx, name, &count);
    if (!ref)
        return;
    char label[200];
    snprintf(label, sizeof label, "%s (%s)", what, name);
    if (oc_expect(oc, count == n, label, "%zu values, the fixture has %zu", n, count)) {
        double *r = oc_to_double(ref, n);
        oc_compare(oc, label, got, r, n, ATOL, RTOL);
        free(r);
    }
    free(ref);
}

/* The last forward's features [n, D], compared with the fixture tensor `name`. */
static void compare_features(OpCheck *oc, const Fixture *fx, const LptClipText *t, const char *what,
                             const char *name)
{
    const LptTensor *f = lpt_clip_text_features(t);
    if (!oc_expect(oc, f != NULL, what, "no features"))
        return;
    float *got = oc_fetch(oc, f);
    compare(oc, fx, what, name, got, f->count);
    free(got);
}

static bool config_from(OpCheck *oc, const Fixture *fx, const char *key, LptClipTextConfig *c)
{
    cJSON *j = meta_json(fx, key);
    lpt_clip_text_config_init(c);
    const char *fields[] = {"vocab", "context", "width", "heads", "layers", "mlp", "proj_dim"};
    int *dst[] = {&c->vocab, &c->context, &c->width, &c->heads, &c->layers, &c->mlp, &c->proj_dim};
    bool ok = j != NULL;
    for (size_t i = 0; ok && i < sizeof fields / sizeof fields[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, fields[i]);
        ok = cJSON_IsNumber(v);
        if (ok)
            *dst[i] = v->valueint;
    }
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(j, "eps");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "act");
    ok = ok && cJSON_IsNumber(eps) && cJSON_IsString(act);
    if (ok) {
        c->eps = (float)eps->valuedouble;
        c->act =
            strcmp(act->valuestring, "quick_gelu") == 0 ? LPT_VIT_ACT_QUICK_GELU : LPT_VIT_ACT_GELU;
    }
    cJSON_Delete(j);
    LptError err = {0};
    return oc_expect(oc, ok && lpt_clip_text_config_check(c, &err) == LPT_OK, key,
                     "fixture config missing or rejected: %s", err.message);
}

/* A tower with every tensor generated from "<label>/<name>". */
static LptClipText *make_tower(OpCheck *oc, const Fixture *fx, const char *label,
                               const LptClipTextConfig *cfg)
{
    LptError err = {0};
    LptClipText *t = lpt_clip_text_new(oc->be, cfg, &err);
    if (!oc_expect(oc, t != NULL, label, "lpt_clip_text_new: %s", err.message))
        return NULL;
    bool ok = true;
    for (int i = 0; lpt_clip_text_tensor_name(t, i) && ok; i++) {
        const char *name = lpt_clip_text_tensor_name(t, i);
        char key[96];
        snprintf(key, sizeof key, "%s/%s", label, name);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(fx->gen, key);
        ok = oc_expect(oc, cJSON_IsArray(g) && cJSON_GetArraySize(g) == 2, key,
                       "no generator entry");
        if (!ok)
            break;
        size_t n = lpt_clip_text_tensor(t, name)->count;
        float *v = malloc(n * sizeof *v);
        generate(key, v, n, cJSON_GetArrayItem(g, 0)->valuedouble,
                 cJSON_GetArrayItem(g, 1)->valuedouble);
        ok =
            oc_expect(oc, lpt_clip_text_set(t, name, v, n, &err) == LPT_OK, key, "%s", err.message);
        free(v);
    }
    if (!ok) {
        lpt_clip_text_free(t);
        return NULL;
    }
    return t;
}

/* A JSON array of strings (null -> NULL) as a malloc'ed array of borrowed strings. */
static const char **strings(const cJSON *arr, int *n)
{
    *n = cJSON_GetArraySize(arr);
    const char **s = calloc((size_t)*n + 1, sizeof *s);
    for (int i = 0; i < *n; i++) {
        const cJSON *v = cJSON_GetArrayItem(arr, i);
        s[i] = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    return s;
}

static bool expect_status(OpCheck *oc, const char *what, LptStatus st, const LptError *err,
                          LptStatus code, const char *needle)
{
    if (st != code)
        return oc_expect(oc, false, what, "expected '%s', got '%s' (%s)", lpt_status_name(code),
                         lpt_status_name(st), err->message);
    return oc_expect(oc, strstr(err->message, needle) != NULL, what,
                     "message '%s' does not mention '%s'", err->message, needle);
}

/* ---- towers ----------------------------------------------------------------------------- */

/* Zero-shot logits of the fixture's text features against its class rows, vs double. */
static void check_zero_shot(OpCheck *oc, const Fixture *fx, const char *label, int D)
{
    char fname[64], cname[64];
    snprintf(fname, sizeof fname, "%s.text_features", label);
    snprintf(cname, sizeof cname, "%s.classes", label);
    size_t nf = 0, nc = 0;
    float *f = fixture_get(oc, fx, fname, &nf), *w = fixture_get(oc, fx, cname, &nc);
    int B = (int)(nf / (size_t)D), K = (int)(nc / (size_t)D);
    if (f && w) {
        float *got = malloc((size_t)B * K * sizeof *got);
        double *ref = malloc((size_t)B * K * sizeof *ref);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < K; k++) {
                double dot = 0.0, ff = 0.0, ww = 0.0;
                for (int d = 0; d < D; d++) {
                    dot += (double)f[b * D + d] * w[k * D + d];
                    ff += (double)f[b * D + d] * f[b * D + d];
                    ww += (double)w[k * D + d] * w[k * D + d];
                }
                ref[b * K + k] = dot / (sqrt(ff) * sqrt(ww));
            }
        LptError err = {0};
        char what[64];
        snprintf(what, sizeof what, "%s: zero-shot logits", label);
        if (oc_expect(oc, lpt_clip_zero_shot_logits(got, f, w, B, K, D, &err) == LPT_OK, what, "%s",
                      err.message))
            oc_compare(oc, what, got, ref, (size_t)B * K, 1e-6, 1e-5);
        free(got);
        free(ref);
    }
    free(f);
    free(w);
}

/* The ids and EOT positions our tokenizer gives the fixture's texts. */
static void check_ids(OpCheck *oc, const Fixture *fx, const char *label, const LptTokenizer *tok,
                      const char **texts, int n)
{
    char name[64];
    snprintf(name, sizeof name, "%s.text_ids", label);
    size_t count = 0;
    int32_t *want = fixture_get(oc, fx, name, &count);
    if (!want || !oc_expect(oc, count == (size_t)n * 77, name, "%zu ids", count)) {
        free(want);
        return;
    }
    for (int i = 0; i < n; i++) {
        int32_t ids[77];
        size_t eot = 0;
        bool truncated = false;
        LptError err = {0};
        char what[96];
        snprintf(what, sizeof what, "%s: tokenize text %d", label, i);
        if (!oc_expect(oc,
                       lpt_tokenizer_encode_clip(tok, texts[i], ids, 77, &eot, &truncated, &err) ==
                           LPT_OK,
                       what, "%s", err.message))
            continue;
        int differ = -1;
        for (int j = 0; j < 77 && differ < 0; j++)
            if (ids[j] != want[i * 77 + j])
                differ = j;
        oc_expect(oc, differ < 0, what, "id %d is %d, PyTorch's port says %d", differ,
                  differ < 0 ? 0 : ids[differ], differ < 0 ? 0 : want[i * 77 + differ]);
        bool is_long = strlen(texts[i]) > 300;
        oc_expect(oc,
                  truncated == is_long && (!is_long || eot == 76) &&
                      ids[eot] == lpt_tokenizer_eot_id(tok),
                  what, "eot %zu, truncated %d", eot, (int)truncated);
    }
    free(want);
}

static void check_tower(OpCheck *oc, const Fixture *fx, const char *label, const LptTokenizer *tok)
{
    LptClipTextConfig cfg;
    if (!config_from(oc, fx, label, &cfg))
        return;
    LptClipText *t = make_tower(oc, fx, label, &cfg);
    if (!t)
        return;
    LptError err = {0};
    int n = 0, n_classes = 0, n_desc = 0, n_templates = 0;
    const char **texts = strings(fx->texts, &n);
    const char **classes = strings(fx->classes, &n_classes);
    const char **desc = strings(fx->descriptions, &n_desc);
    const char **templates = strings(fx->templates, &n_templates);
    int D = cfg.proj_dim;
    char what[128], name[64];

    check_ids(oc, fx, label, tok, texts, n);
    /* the fixture's ids straight in, argmax pooling */
    snprintf(name, sizeof name, "%s.text_ids", label);
    size_t count = 0;
    int32_t *ids = fixture_get(oc, fx, name, &count);
    snprintf(what, sizeof what, "%s: forward of the texts' ids", label);
    snprintf(name, sizeof name, "%s.text_features", label);
    if (ids && oc_expect(oc, lpt_clip_text_forward(t, ids, NULL, n, &err) == LPT_OK, what, "%s",
                         err.message))
        compare_features(oc, fx, t, what, name);
    free(ids);

    float *f = malloc((size_t)64 * D * sizeof *f);
    snprintf(what, sizeof what, "%s: lpt_clip_text_encode", label);
    if (oc_expect(oc, lpt_clip_text_encode(t, tok, texts, n, f, &err) == LPT_OK, what, "%s",
                  err.message))
        compare(oc, fx, what, name, f, (size_t)n * D);

    /* 60 texts: the long one (77 rows each) between short ones, several forwards */
    const char *many[60];
    for (int i = 0; i < 60; i++)
        many[i] = i % 3 == 1 ? texts[n - 1] : texts[i % 2];
    snprintf(what, sizeof what, "%s: encode 60 texts in several forwards", label);
    if (oc_expect(oc, lpt_clip_text_encode(t, tok, many, 60, f, &err) == LPT_OK, what, "%s",
                  err.message)) {
        size_t nf = 0;
        float *ref = fixture_get(oc, fx, name, &nf);
        float *want = malloc((size_t)60 * D * sizeof *want);
        for (int i = 0; ref && i < 60; i++)
            memcpy(want + (size_t)i * D, ref + (size_t)(i % 3 == 1 ? n - 1 : i % 2) * D,
                   (size_t)D * sizeof *want);
        double *r = oc_to_double(want, (size_t)60 * D);
        if (ref)
            oc_compare(oc, what, f, r, (size_t)60 * D, ATOL, RTOL);
        free(r);
        free(want);
        free(ref);
    }

    struct {
        const char *suffix, *note;
        const char *const *desc, *const *templates;
        int n_templates;
    } cases[] = {
        {"classes", "two templates", NULL, templates, n_templates},
        {"classes_described", "descriptions", desc, templates, n_templates},
        {"classes_default", "default template", NULL, NULL, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(what, sizeof what, "%s: class embeddings, %s", label, cases[c].note);
        snprintf(name, sizeof name, "%s.%s", label, cases[c].suffix);
        if (oc_expect(oc,
                      lpt_clip_text_class_embeddings(t, tok, classes, cases[c].desc,
                                                     cases[c].templates, cases[c].n_templates,
                                                     n_classes, f, &err) == LPT_OK,
                      what, "%s", err.message))
            compare(oc, fx, what, name, f, (size_t)n_classes * D);
    }
    check_zero_shot(oc, fx, label, D);

    if (strcmp(label, "tiny") == 0) { /* ids made by the script, explicit pooling too */
        int32_t *direct = fixture_get(oc, fx, "direct.ids", &count);
        int32_t *eot = fixture_get(oc, fx, "direct.eot", &count);
        int B = (int)count;
        if (direct && eot) {
            snprintf(what, sizeof what, "tiny: forward of direct ids");
            if (oc_expect(oc, lpt_clip_text_forward(t, direct, NULL, B, &err) == LPT_OK, what, "%s",
                          err.message))
                compare_features(oc, fx, t, what, "direct.features");
            snprintf(what, sizeof what, "tiny: forward with explicit pooling positions");
            if (oc_expect(oc, lpt_clip_text_forward(t, direct, eot, B, &err) == LPT_OK, what, "%s",
                          err.message))
                compare_features(oc, fx, t, what, "direct.features_at_eot");
            size_t nf = 0;
            float *ref = fixture_get(oc, fx, "direct.features", &nf);
            for (int b = 0; ref && b < B; b++) {
                snprintf(what, sizeof what, "tiny: direct text %d alone", b);
                if (!oc_expect(oc,
                               lpt_clip_text_forward(t, direct + b * 77, NULL, 1, &err) == LPT_OK,
                               what, "%s", err.message))
                    continue;
                float *got = oc_fetch(oc, lpt_clip_text_features(t));
                double *r = oc_to_double(ref + (size_t)b * D, (size_t)D);
                oc_compare(oc, what, got, r, (size_t)D, ATOL, RTOL);
                free(r);
                free(got);
            }
            free(ref);
            /* one row a text: text 0 pooled at position 0 */
            ref = fixture_get(oc, fx, "direct.features_at_eot", &nf);
            snprintf(what, sizeof what, "tiny: one-row forward");
            if (ref && oc_expect(oc, lpt_clip_text_forward(t, direct, eot, 1, &err) == LPT_OK, what,
                                 "%s", err.message)) {
                float *got = oc_fetch(oc, lpt_clip_text_features(t));
                double *r = oc_to_double(ref, (size_t)D);
                oc_compare(oc, what, got, r, (size_t)D, ATOL, RTOL);
                free(r);
                free(got);
            }
            free(ref);
        }
        free(direct);
        free(eot);
    }
    free(f);
    free(texts);
    free(classes);
    free(desc);
    free(templates);
    lpt_clip_text_free(t);
    oc_reset(oc);
}

/* ---- weight files ----------------------------------------------------------------------- */

static char tmp_dir[64];

/* Loads `file` (under the fixture dir), checks the detected config (activation want_act) and
 * compares its features on micro.ids with the fixture tensor `expect`. */
static void check_load(OpCheck *oc, const Fixture *fx, const char *file,
                       const LptClipTextLoadOptions *opt, const char *expect, LptVitAct want_act)
{
    char path[1024], what[256];
    snprintf(path, sizeof path, "%s/%s", fx->dir, file);
    snprintf(what, sizeof what, "load %s", file);
    LptError err = {0};
    LptClipText *t = lpt_clip_text_load(oc->be, path, opt, &err);
    if (!oc_expect(oc, t != NULL, what, "%s", err.message))
        return;
    const LptClipTextConfig *c = lpt_clip_text_config(t);
    oc_expect(oc,
              c->vocab == 40 && c->context == 16 && c->width == 8 && c->heads == 2 &&
                  c->layers == 2 && c->mlp == 32 && c->proj_dim == 4 &&
                  fabsf(c->eps - 1e-5f) < 1e-9f && c->act == want_act,
              what, "config V %d ctx %d W %d H %d L %d MLP %d D %d eps %g act %d", c->vocab,
              c->context, c->width, c->heads, c->layers, c->mlp, c->proj_dim, c->eps, (int)c->act);
    size_t count = 0;
    int32_t *ids = fixture_get(oc, fx, "micro.ids", &count);
    if (ids && oc_expect(oc, lpt_clip_text_forward(t, ids, NULL, (int)(count / 16), &err) == LPT_OK,
                         what, "%s", err.message))
        compare_features(oc, fx, t, what, expect);
    free(ids);
    lpt_clip_text_free(t);
}

/* Writes tmp_dir/name: the tensors of the OpenAI fixture file with one edit -- `drop` left
 * out, `add` (a [n] tensor) added, `resize` written with n values -- and returns its path. */
static const char *write_edited(const Fixture *fx, const char *name, const char *drop,
                                const char *add, const char *resize, size_t n)
{
    static char path[256];
    char src[1024];
    snprintf(src, sizeof src, "%s/openai.safetensors", fx->dir);
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    LptSafetensors *st = lpt_safetensors_open(src, NULL);
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    float *zeros = calloc(n + 1, sizeof *zeros);
    for (int i = 0; st && i < lpt_safetensors_count(st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
        if (drop && strcmp(e->name, drop) == 0)
            continue;
        if (resize && strcmp(e->name, resize) == 0) {
            lpt_safetensors_writer_add_f32(w, e->name, 1, &n, zeros, NULL);
            continue;
        }
        float *v = malloc((e->numel + 1) * sizeof *v);
        lpt_safetensors_read_f32(st, e, v, e->numel, NULL);
        lpt_safetensors_writer_add_f32(w, e->name, e->ndim, e->shape, v, NULL);
        free(v);
    }
    if (add)
        lpt_safetensors_writer_add_f32(w, add, 1, &n, zeros, NULL);
    lpt_safetensors_write(w, path, NULL);
    lpt_safetensors_writer_free(w);
    lpt_safetensors_close(st);
    free(zeros);
    return path;
}

/* Writes tmp_dir/name: the OpenAI fixture file with the metadata text_heads and text_act
 * that `lpt pretrain-clip` writes; returns its path. */
static const char *write_with_metadata(const Fixture *fx, const char *name, const char *heads,
                                       const char *act)
{
    static char path[256];
    char src[1024];
    snprintf(src, sizeof src, "%s/openai.safetensors", fx->dir);
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    LptSafetensors *st = lpt_safetensors_open(src, NULL);
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    for (int i = 0; st && i < lpt_safetensors_count(st); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(st, i);
        float *v = malloc((e->numel + 1) * sizeof *v);
        lpt_safetensors_read_f32(st, e, v, e->numel, NULL);
        lpt_safetensors_writer_add_f32(w, e->name, e->ndim, e->shape, v, NULL);
        free(v);
    }
    lpt_safetensors_writer_set_metadata(w, "text_heads", heads, NULL);
    lpt_safetensors_writer_set_metadata(w, "text_act", act, NULL);
    lpt_safetensors_write(w, path, NULL);
    lpt_safetensors_writer_free(w);
    lpt_safetensors_close(st);
    return path;
}

static void check_files(OpCheck *oc, const Fixture *fx)
{
    LptClipTextLoadOptions opt;
    lpt_clip_text_load_options_init(&opt);
    opt.heads = 2;
    check_load(oc, fx, "openai.safetensors", &opt, "micro.features.quick_gelu",
               LPT_VIT_ACT_QUICK_GELU);
    check_load(oc, fx, "hf/model.safetensors", NULL, "micro.features.quick_gelu",
               LPT_VIT_ACT_QUICK_GELU);
    check_load(oc, fx, "openclip/open_clip_model.safetensors", NULL, "micro.features.gelu",
               LPT_VIT_ACT_GELU);
    lpt_clip_text_load_options_init(&opt);
    opt.act = LPT_VIT_ACT_QUICK_GELU; /* options win over the config file */
    check_load(oc, fx, "openclip/open_clip_model.safetensors", &opt, "micro.features.quick_gelu",
               LPT_VIT_ACT_QUICK_GELU);

    /* from a file already open, as lpt_weights hands over a CLIP backbone's file */
    LptError err = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s/hf/model.safetensors", fx->dir);
    LptSafetensors *file = lpt_safetensors_open(path, &err);
    LptClipText *t = file ? lpt_clip_text_load_from(oc->be, file, NULL, &err) : NULL;
    lpt_safetensors_close(file);
    size_t count = 0;
    int32_t *ids = fixture_get(oc, fx, "micro.ids", &count);
    if (oc_expect(oc, t != NULL, "load_from an open file", "%s", err.message) && ids &&
        oc_expect(oc, lpt_clip_text_forward(t, ids, NULL, (int)(count / 16), &err) == LPT_OK,
                  "load_from an open file", "%s", err.message))
        compare_features(oc, fx, t, "load_from an open file", "micro.features.quick_gelu");
    free(ids);
    lpt_clip_text_free(t);

    /* the two activations' expectations differ by far more than the tolerance */
    size_t n1 = 0, n2 = 0;
    float *a = fixture_get(oc, fx, "micro.features.quick_gelu", &n1);
    float *b = fixture_get(oc, fx, "micro.features.gelu", &n2);
    double most = 0.0;
    for (size_t i = 0; a && b && i < n1 && i < n2; i++)
        most = fmax(most, fabs((double)a[i] - b[i]));
    oc_expect(oc, most > 20 * ATOL, "GELU vs QuickGELU expectations", "differ by %g only", most);
    free(a);
    free(b);

    snprintf(path, sizeof path, "%s/openai.safetensors", fx->dir);
    t = lpt_clip_text_load(oc->be, path, NULL, &err);
    expect_status(oc, "OpenAI file without heads", t ? LPT_OK : err.code, &err,
                  LPT_ERR_INVALID_ARGUMENT, "cannot tell the number of heads");
    lpt_clip_text_free(t);

    /* the metadata of `lpt pretrain-clip` tells what no config file does */
    Fixture in_tmp = *fx;
    in_tmp.dir = tmp_dir;
    write_with_metadata(fx, "meta.safetensors", "2", "gelu");
    check_load(oc, &in_tmp, "meta.safetensors", NULL, "micro.features.gelu", LPT_VIT_ACT_GELU);
    t = lpt_clip_text_load(oc->be, write_with_metadata(fx, "meta1.safetensors", "two", "gelu"),
                           NULL, &err);
    expect_status(oc, "metadata text_heads 'two'", t ? LPT_OK : err.code, &err, LPT_ERR_FORMAT,
                  "text_heads");
    lpt_clip_text_free(t);
    t = lpt_clip_text_load(oc->be, write_with_metadata(fx, "meta2.safetensors", "2", "relu"),
                           NULL, &err);
    expect_status(oc, "metadata text_act 'relu'", t ? LPT_OK : err.code, &err,
                  LPT_ERR_UNSUPPORTED, "text_act");
    lpt_clip_text_free(t);
    const char *made[] = {"meta", "meta1", "meta2"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", tmp_dir, made[i]);
        unlink(path);
    }

    opt.heads = 2;
    opt.act = -1;
    struct {
        const char *name, *drop, *add, *resize;
        size_t n;
        LptStatus code;
        const char *needle;
    } bad[] = {
        {"shape.safetensors", NULL, NULL, "transformer.resblocks.1.ln_2.weight", 9, LPT_ERR_FORMAT,
         "'transformer.resblocks.1.ln_2.weight' has shape [9], expected [8]"},
        {"unknown.safetensors", NULL, "transformer.resblocks.0.ls_1.gamma", NULL, 8,
         LPT_ERR_UNSUPPORTED, "'transformer.resblocks.0.ls_1.gamma' has no place"},
        {"missing.safetensors", "transformer.resblocks.1.mlp.c_proj.bias", NULL, NULL, 0,
         LPT_ERR_FORMAT, "'transformer.resblocks.1.mlp.c_proj.bias' is missing"},
        {"notext.safetensors", "token_embedding.weight", NULL, NULL, 0, LPT_ERR_UNSUPPORTED,
         "no CLIP text tower"},
        {"proj.safetensors", NULL, NULL, "text_projection", 8, LPT_ERR_FORMAT,
         "'text_projection' does not project width 8"},
        {"pos.safetensors", NULL, NULL, "positional_embedding", 16, LPT_ERR_FORMAT,
         "'positional_embedding' must be [context, 8]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p =
            write_edited(fx, bad[i].name, bad[i].drop, bad[i].add, bad[i].resize, bad[i].n);
        t = lpt_clip_text_load(oc->be, p, &opt, &err);
        char what[96];
        snprintf(what, sizeof what, "bad file %s", bad[i].name);
        if (expect_status(oc, what, t ? LPT_OK : err.code, &err, bad[i].code, bad[i].needle))
            oc_expect(oc, strstr(err.message, bad[i].name) != NULL, what,
                      "message '%s' does not name the file", err.message);
        lpt_clip_text_free(t);
        unlink(p);
    }
    /* a truncated file and a missing one */
    const char *p = write_edited(fx, "cut.safetensors", NULL, NULL, NULL, 0);
    if (truncate(p, 5000) == 0) {
        t = lpt_clip_text_load(oc->be, p, &opt, &err);
        oc_expect(oc,
                  t == NULL && err.code == LPT_ERR_FORMAT && strstr(err.message, "cut.safetensors"),
                  "truncated file", "%s", t ? "loaded" : err.message);
        lpt_clip_text_free(t);
    }
    unlink(p);
    t = lpt_clip_text_load(oc->be, "/nonexistent-lpt/model.safetensors", &opt, &err);
    expect_status(oc, "missing file", t ? LPT_OK : err.code, &err, LPT_ERR_IO,
                  "/nonexistent-lpt/model.safetensors");
    lpt_clip_text_free(t);
    oc_reset(oc);
}

/* ---- bad arguments ---------------------------------------------------------------------- */

static void check_bad_input(OpCheck *oc, const Fixture *fx, const LptTokenizer *tok)
{
    LptError err = {0};
    LptClipTextConfig c;
    config_from(oc, fx, "tiny", &c);
    LptClipTextConfig b = c;
    b.heads = 3;
    oc_expect_error(oc, "config: width 32, heads 3", lpt_clip_text_config_check(&b, &err), &err,
                    "multiple of heads");
    b = c;
    b.context = 1;
    oc_expect(oc, lpt_clip_text_new(oc->be, &b, &err) == NULL, "config: context 1", "accepted");
    oc_expect_error(oc, "config: context 1", err.code, &err, "context");
    b = c;
    b.layers = 0;
    oc_expect_error(oc, "config: layers 0", lpt_clip_text_config_check(&b, &err), &err, "layers");

    LptClipText *t = lpt_clip_text_new(oc->be, &c, &err);
    if (!oc_expect(oc, t != NULL, "tiny tower", "%s", err.message))
        return;
    int32_t ids[2 * 77] = {0};
    ids[0] = 524;
    ids[1] = 525;
    ids[77] = 524;
    ids[78] = 525;
    oc_expect(oc, lpt_clip_text_features(t) == NULL, "features before a forward", "not NULL");
    oc_expect_error(oc, "forward with unset tensors", lpt_clip_text_forward(t, ids, NULL, 2, &err),
                    &err, "'token_embedding' was never set");
    float w[4096] = {0};
    oc_expect_error(oc, "set: wrong size", lpt_clip_text_set(t, "blocks.0.qkv.weight", w, 10, &err),
                    &err, "'blocks.0.qkv.weight' has 3072 elements, got 10");
    oc_expect_error(oc, "set: unknown name",
                    lpt_clip_text_set(t, "blocks.2.ln1.weight", w, 32, &err), &err,
                    "no tensor called 'blocks.2.ln1.weight'");
    oc_expect_error(oc, "set: no data", lpt_clip_text_set(t, "norm.bias", NULL, 32, &err), &err,
                    "no data for 'norm.bias'");
    oc_expect_error(oc, "get: wrong size", lpt_clip_text_get(t, "proj", w, 32, &err), &err,
                    "'proj' has 512 elements, got 32");
    lpt_clip_text_free(t);

    t = make_tower(oc, fx, "tiny", &c);
    if (!t)
        return;
    float back[32];
    oc_expect(oc, lpt_clip_text_get(t, "norm.bias", back, 32, &err) == LPT_OK && back[0] != 0.0f,
              "get norm.bias", "%s", err.message);
    ids[77 + 5] = 526;
    oc_expect_error(oc, "forward: id past the vocabulary",
                    lpt_clip_text_forward(t, ids, NULL, 2, &err), &err,
                    "text 1, position 5: token id 526");
    ids[77 + 5] = -1;
    oc_expect_error(oc, "forward: negative id", lpt_clip_text_forward(t, ids, NULL, 2, &err), &err,
                    "token id -1");
    ids[77 + 5] = 0;
    int32_t eot[2] = {1, 77};
    oc_expect_error(oc, "forward: pooling position 77", lpt_clip_text_forward(t, ids, eot, 2, &err),
                    &err, "pooling position 77");
    oc_expect_error(oc, "forward: batch 0", lpt_clip_text_forward(t, ids, NULL, 0, &err), &err,
                    "batch 0");
    oc_expect_error(oc, "forward: NULL ids", lpt_clip_text_forward(t, NULL, NULL, 1, &err), &err,
                    "NULL");
    oc_expect(oc, lpt_clip_text_features(t) == NULL, "features after a failed forward", "not NULL");
    oc_expect(oc, lpt_clip_text_forward(t, ids, NULL, 2, &err) == LPT_OK,
              "forward of two empty texts", "%s", err.message);

    float out[3 * 16];
    const char *names[] = {"cat", "dog", NULL};
    const char *tmpl[] = {"a photo of a {}.", "no hole here"};
    oc_expect_error(oc, "class embeddings: template without {}",
                    lpt_clip_text_class_embeddings(t, tok, names, NULL, tmpl, 2, 2, out, &err),
                    &err, "template 1 ('no hole here') has no {}");
    oc_expect_error(oc, "class embeddings: NULL class name",
                    lpt_clip_text_class_embeddings(t, tok, names, NULL, NULL, 0, 3, out, &err),
                    &err, "class 2 has no name");
    oc_expect_error(oc, "class embeddings: 0 classes",
                    lpt_clip_text_class_embeddings(t, tok, names, NULL, NULL, 0, 0, out, &err),
                    &err, "0 classes");
    const char *bad_utf8[] = {"a cat", "a \xff dog"};
    oc_expect_error(oc, "encode: invalid UTF-8",
                    lpt_clip_text_encode(t, tok, bad_utf8, 2, out, &err), &err, "text 1");
    oc_expect_error(oc, "zero-shot: dim 0", lpt_clip_zero_shot_logits(out, out, out, 1, 1, 0, &err),
                    &err, "dim 0");
    oc_expect_error(oc, "zero-shot: NULL", lpt_clip_zero_shot_logits(NULL, out, out, 1, 1, 1, &err),
                    &err, "NULL");
    lpt_clip_text_free(t);
    oc_reset(oc);
}

/* ---- training (lpt pretrain-clip) -------------------------------------------------------- */

/* sum(features * r) of an inference forward, in double. */
static double text_objective(OpCheck *oc, LptClipText *t, const int32_t *ids, int B,
                             const float *r)
{
    LptError err = {0};
    if (!oc_expect(oc, lpt_clip_text_forward(t, ids, NULL, B, &err) == LPT_OK, "fd forward", "%s",
                   err.message))
        return NAN;
    float *f = oc_fetch(oc, lpt_clip_text_features(t));
    double s = 0.0;
    for (size_t i = 0; i < lpt_clip_text_features(t)->count; i++)
        s += (double)f[i] * r[i];
    free(f);
    return s;
}

/* The trainable tower's gradients: against PyTorch (fixtures/clip_pretrain, "grad.*"), their
 * accumulation and reset, central finite differences of sum(features * dfeatures) at a few
 * entries of several tensors, and the errors of misuse. */
static void check_training(OpCheck *oc, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    LptError err = {0};
    Fixture fx = {dir, lpt_safetensors_open(path, &err), NULL, NULL, NULL, NULL, NULL};
    if (!oc_expect(oc, fx.st != NULL, "training fixture", "%s", err.message))
        return;
    fx.gen = meta_json(&fx, "generator");
    cJSON *cj = meta_json(&fx, "grad_config");
    if (cj) { /* config_from reads "act" from the same object */
        cJSON_AddStringToObject(cj, "act", lpt_safetensors_metadata(fx.st, "grad_act"));
        char *text = cJSON_PrintUnformatted(cj);
        snprintf(path, sizeof path, "%s", text ? text : "");
        free(text);
        cJSON_Delete(cj);
    }
    LptClipTextConfig cfg;
    size_t n_ids = 0, n_df = 0;
    int32_t *ids = fixture_get(oc, &fx, "grad.ids", &n_ids);
    float *dfeat = fixture_get(oc, &fx, "grad.dfeatures", &n_df);
    LptClipText *t = NULL;
    cJSON *cfg_json = cJSON_Parse(path);
    bool ok = fx.gen && cfg_json && ids && dfeat;
    if (ok) { /* the config from the fixture's JSON, as config_from does for the others */
        const char *keys[] = {"vocab", "context", "width", "heads", "layers", "mlp", "proj_dim"};
        lpt_clip_text_config_init(&cfg);
        int *dst[] = {&cfg.vocab, &cfg.context, &cfg.width, &cfg.heads, &cfg.layers, &cfg.mlp,
                      &cfg.proj_dim};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            *dst[i] = cJSON_GetObjectItemCaseSensitive(cfg_json, keys[i])->valueint;
        cfg.eps = (float)cJSON_GetObjectItemCaseSensitive(cfg_json, "eps")->valuedouble;
        cfg.act = LPT_VIT_ACT_QUICK_GELU;
        cfg.trainable = true;
        t = make_tower(oc, &fx, "grad", &cfg);
    }
    cJSON_Delete(cfg_json);
    int B = (int)(n_ids / (size_t)(cfg.context > 0 ? cfg.context : 1));
    if (!oc_expect(oc, ok && t != NULL, "training fixture", "missing parts or no tower")) {
        lpt_clip_text_free(t);
        goto done;
    }
    LptTensor df = oc_tensor(oc, "dfeatures", LPT_F32, n_df, dfeat);
    ok = oc_expect(oc, lpt_clip_text_forward_train(t, ids, NULL, B, &err) == LPT_OK,
                   "training forward", "%s", err.message);
    if (ok)
        compare_features(oc, &fx, t, "training forward", "grad.features");
    ok = ok && oc_expect(oc, lpt_clip_text_backward(t, &df, &err) == LPT_OK, "backward", "%s",
                         err.message);
    double worst = 0.0;
    for (int i = 0; ok && lpt_clip_text_tensor_name(t, i); i++) {
        const char *name = lpt_clip_text_tensor_name(t, i);
        size_t n = lpt_clip_text_tensor(t, name)->count, count = 0;
        float *got = malloc(n * sizeof *got);
        char key[96];
        snprintf(key, sizeof key, "grad.%s", name);
        float *ref = fixture_get(oc, &fx, key, &count);
        if (ref && oc_expect(oc, count == n, key, "%zu values, expected %zu", count, n) &&
            oc_expect(oc, lpt_clip_text_get_grad(t, name, got, n, &err) == LPT_OK, key, "%s",
                      err.message)) {
            double *r = oc_to_double(ref, n);
            oc_compare(oc, key, got, r, n, 2e-6, 2e-5);
            for (size_t j = 0; j < n; j++)
                worst = fmax(worst, fabs(got[j] - r[j]) / (1e-3 + fabs(r[j])));
            free(r);
        }
        free(ref);
        free(got);
    }
    printf("text tower gradients vs PyTorch: largest error %.2e (relative to 1e-3 + |ref|)\n",
           worst);
    /* a second backward adds the same again; zero_grads clears */
    const char *probe = "blocks.0.qkv.weight";
    size_t np = lpt_clip_text_tensor(t, probe)->count;
    float *once = malloc(np * sizeof *once), *twice = malloc(np * sizeof *twice);
    ok = ok && lpt_clip_text_get_grad(t, probe, once, np, &err) == LPT_OK &&
         lpt_clip_text_backward(t, &df, &err) == LPT_OK &&
         lpt_clip_text_get_grad(t, probe, twice, np, &err) == LPT_OK;
    if (oc_expect(oc, ok, "accumulation", "%s", err.message)) {
        size_t bad = 0;
        for (size_t j = 0; j < np; j++)
            bad += fabsf(twice[j] - 2.0f * once[j]) > 1e-6f * (1.0f + fabsf(once[j]));
        oc_expect(oc, bad == 0, "accumulation", "%zu of %zu values are not twice the first", bad,
                  np);
    }
    ok = ok && lpt_clip_text_zero_grads(t, &err) == LPT_OK &&
         lpt_clip_text_get_grad(t, probe, twice, np, &err) == LPT_OK;
    if (oc_expect(oc, ok, "zero_grads", "%s", err.message)) {
        size_t nonzero = 0;
        for (size_t j = 0; j < np; j++)
            nonzero += twice[j] != 0.0f;
        oc_expect(oc, nonzero == 0, "zero_grads", "%zu values left", nonzero);
    }
    free(once);
    free(twice);

    /* finite differences of sum(features * dfeatures), h = 1e-2, at entries of the tensors
     * below (the token rows the texts use, so that the gradient is not zero there) */
    ok = ok && lpt_clip_text_forward_train(t, ids, NULL, B, &err) == LPT_OK &&
         lpt_clip_text_backward(t, &df, &err) == LPT_OK;
    oc_expect(oc, ok, "fd: analytic gradients", "%s", err.message);
    const char *fd_names[] = {"token_embedding", "pos",          "blocks.0.ln1.weight",
                              "blocks.0.qkv.weight", "blocks.0.qkv.bias", "blocks.1.proj.weight",
                              "blocks.1.fc1.weight", "blocks.1.fc2.bias", "norm.bias", "proj"};
    int fd_bad = 0, fd_checked = 0;
    for (size_t k = 0; ok && k < sizeof fd_names / sizeof *fd_names; k++) {
        const char *name = fd_names[k];
        size_t n = lpt_clip_text_tensor(t, name)->count;
        float *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g);
        lpt_clip_text_get(t, name, w, n, &err);
        lpt_clip_text_get_grad(t, name, g, n, &err);
        size_t idx[6];
        int m = oc_sample_indices(oc, n, idx, 6);
        if (k == 0) /* token rows of the first text's ids, column 1 and 5 */
            for (int j = 0; j < m; j++)
                idx[j] = (size_t)ids[j % 3] * (size_t)cfg.width + (size_t)(j % 2 ? 5 : 1);
        for (int j = 0; j < m; j++) {
            float keep = w[idx[j]];
            double h = 1e-2, f[2];
            for (int s = 0; s < 2; s++) {
                w[idx[j]] = keep + (float)(s ? -h : h);
                lpt_clip_text_set(t, name, w, n, &err);
                f[s] = text_objective(oc, t, ids, B, dfeat);
            }
            w[idx[j]] = keep;
            lpt_clip_text_set(t, name, w, n, &err);
            double fd = (f[0] - f[1]) / (2.0 * h);
            fd_checked++;
            if (!(fabs(fd - g[idx[j]]) <= 2e-3 + 2e-2 * fabs(fd))) {
                fd_bad++;
                oc_expect(oc, false, "finite differences", "%s[%zu]: analytic %.6g, fd %.6g",
                          name, idx[j], (double)g[idx[j]], fd);
            }
        }
        free(w);
        free(g);
    }
    oc_expect(oc, ok && fd_bad == 0 && fd_checked > 30, "finite differences",
              "%d of %d entries disagree", fd_bad, fd_checked);

    /* misuse */
    expect_status(oc, "backward after an inference forward",
                  (lpt_clip_text_forward(t, ids, NULL, B, &err),
                   lpt_clip_text_backward(t, &df, &err)),
                  &err, LPT_ERR_INVALID_ARGUMENT, "no training forward");
    LptTensor small = lpt_tensor_view(&df, 0, 1);
    lpt_clip_text_forward_train(t, ids, NULL, B, &err);
    expect_status(oc, "short feature gradient", lpt_clip_text_backward(t, &small, &err), &err,
                  LPT_ERR_INVALID_ARGUMENT, "feature gradient");
    lpt_clip_text_free(t);
    cfg.trainable = false;
    t = make_tower(oc, &fx, "grad", &cfg);
    if (t) {
        float one = 0.0f;
        expect_status(oc, "training a frozen tower",
                      lpt_clip_text_forward_train(t, ids, NULL, B, &err), &err,
                      LPT_ERR_INVALID_ARGUMENT, "trainable");
        expect_status(oc, "gradient of a frozen tower",
                      lpt_clip_text_get_grad(t, "norm.bias", &one, 1, &err), &err,
                      LPT_ERR_INVALID_ARGUMENT, "no gradient");
        oc_expect(oc, lpt_clip_text_grad(t, "norm.bias") == NULL, "frozen grad", "not NULL");
        LptTensor sp, sg;
        expect_status(oc, "span of a frozen tower", lpt_clip_text_span(t, &sp, &sg, &err), &err,
                      LPT_ERR_INVALID_ARGUMENT, "not trainable");
    }
    lpt_clip_text_free(t);
done:
    free(ids);
    free(dfeat);
    cJSON_Delete(fx.gen);
    lpt_safetensors_close(fx.st);
    oc_reset(oc);
}

/* lpt_clip_text_init: OpenAI CLIP's spreads, the same values for the same seed, a usable
 * tower without any lpt_clip_text_set. */
static void check_init(OpCheck *oc)
{
    LptClipTextConfig c;
    lpt_clip_text_config_init(&c);
    c.vocab = 300;
    c.context = 16;
    c.width = 64;
    c.heads = 2;
    c.layers = 2;
    c.mlp = 256;
    c.proj_dim = 32;
    LptError err = {0};
    LptClipText *a = lpt_clip_text_new(oc->be, &c, &err), *b = lpt_clip_text_new(oc->be, &c, &err);
    if (!oc_expect(oc, a && b, "init", "%s", err.message)) {
        lpt_clip_text_free(a);
        lpt_clip_text_free(b);
        return;
    }
    bool ok = lpt_clip_text_init(a, 7, &err) == LPT_OK && lpt_clip_text_init(b, 7, &err) == LPT_OK;
    oc_expect(oc, ok, "init", "%s", err.message);
    /* name, expected standard deviation (0: constant, then `value`) */
    const struct {
        const char *name;
        double std, value;
    } want[] = {{"token_embedding", 0.02, 0},
                {"pos", 0.01, 0},
                {"blocks.1.qkv.weight", 0.125, 0},          /* 64^-0.5 */
                {"blocks.1.proj.weight", 0.0625, 0},        /* 64^-0.5 (2 L)^-0.5 */
                {"blocks.0.fc1.weight", 0.08838834764832, 0}, /* (2 W)^-0.5 */
                {"blocks.0.fc2.weight", 0.0625, 0},
                {"proj", 0.125, 0},
                {"blocks.0.qkv.bias", 0, 0},
                {"blocks.0.ln2.weight", 0, 1},
                {"norm.bias", 0, 0}};
    for (size_t i = 0; ok && i < sizeof want / sizeof *want; i++) {
        size_t n = lpt_clip_text_tensor(a, want[i].name)->count;
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        lpt_clip_text_get(a, want[i].name, x, n, &err);
        lpt_clip_text_get(b, want[i].name, y, n, &err);
        double s = 0.0, s2 = 0.0;
        size_t off = 0;
        for (size_t j = 0; j < n; j++) {
            s += x[j];
            s2 += (double)x[j] * x[j];
            off += want[i].std == 0 && x[j] != (float)want[i].value;
        }
        double std = sqrt(s2 / (double)n - (s / (double)n) * (s / (double)n));
        if (want[i].std > 0)
            oc_expect(oc, fabs(std - want[i].std) < 0.1 * want[i].std, want[i].name,
                      "standard deviation %.5f, expected %.5f", std, want[i].std);
        else
            oc_expect(oc, off == 0, want[i].name, "%zu values differ from %g", off,
                      want[i].value);
        oc_expect(oc, memcmp(x, y, n * sizeof *x) == 0, want[i].name, "seed 7 twice differs");
        free(x);
        free(y);
    }
    int32_t ids[16] = {299, 5, 6, 298};
    oc_expect(oc, lpt_clip_text_forward(a, ids, NULL, 1, &err) == LPT_OK, "init: forward", "%s",
              err.message);
    lpt_clip_text_free(a);
    lpt_clip_text_free(b);
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *tok_dir = NULL, *vocab = NULL, *train_dir = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--fixtures") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--tokenizer-fixtures") == 0)
            tok_dir = argv[i + 1];
        else if (strcmp(argv[i], "--clip-vocab") == 0)
            vocab = argv[i + 1];
        else if (strcmp(argv[i], "--train-fixtures") == 0)
            train_dir = argv[i + 1];
    }
    if (!dir || !tok_dir) {
        fprintf(stderr,
                "usage: %s --backend cpu|vulkan --fixtures DIR --tokenizer-fixtures DIR "
                "[--train-fixtures DIR] [--clip-vocab BPE_TXT]\n",
                argv[0]);
        return 1;
    }
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/lpt-clip-text-XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    Fixture fx = {dir, NULL, NULL, NULL, NULL, NULL, NULL};
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    LptError err = {0};
    fx.st = lpt_safetensors_open(path, &err);
    if (oc_expect(&oc, fx.st != NULL, "fixture", "%s", err.message)) {
        fx.gen = meta_json(&fx, "generator");
        fx.texts = meta_json(&fx, "texts");
        fx.classes = meta_json(&fx, "classes");
        fx.descriptions = meta_json(&fx, "descriptions");
        fx.templates = meta_json(&fx, "templates");
    }
    snprintf(path, sizeof path, "%s/tiny_bpe.txt", tok_dir);
    LptTokenizer *tiny = lpt_tokenizer_new_openai(path, &err);
    oc_expect(&oc, tiny != NULL, "tiny tokenizer", "%s", err.message);
    LptTokenizer *real = vocab ? lpt_tokenizer_new_openai(vocab, &err) : NULL;
    if (vocab)
        oc_expect(&oc, real != NULL, "CLIP tokenizer", "%s", err.message);
    if (fx.gen && fx.texts && fx.classes && fx.descriptions && fx.templates && tiny) {
        check_tower(&oc, &fx, "tiny", tiny);
        if (real)
            check_tower(&oc, &fx, "real", real);
        check_files(&oc, &fx);
        check_bad_input(&oc, &fx, tiny);
        check_init(&oc);
        if (train_dir)
            check_training(&oc, train_dir);
    } else {
        oc_expect(&oc, false, "fixture", "metadata missing or the tiny tokenizer did not load");
    }
    lpt_tokenizer_free(tiny);
    lpt_tokenizer_free(real);
    cJSON_Delete(fx.gen);
    cJSON_Delete(fx.texts);
    cJSON_Delete(fx.classes);
    cJSON_Delete(fx.descriptions);
    cJSON_Delete(fx.templates);
    lpt_safetensors_close(fx.st);
    rmdir(tmp_dir);
    if (!vocab)
        printf("CLIP's full vocabulary not given: its checks skipped\n");
    rc = oc_finish(&oc, "test_clip_text");
    return rc == 0 && !vocab ? 77 : rc;
}

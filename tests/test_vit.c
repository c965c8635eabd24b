/* test_vit.c: the ViT expert (src/core/lpt_vit.c) against PyTorch, on one backend
 * (--backend cpu|vulkan, --fixtures DIR).
 *
 * For each fixture (tests/fixtures/vit/{vision,clip}.safetensors, made by
 * make_vit_fixtures.py: a vision ViT with erf GELU and even depth, a CLIP-style tower with
 * QuickGELU, ln_pre, ln_post + proj and odd depth) the weights and images are regenerated from
 * their names by the fixture's generator, and the model must reproduce PyTorch's naive route
 * (prompts as real tokens, two full passes in phase 2):
 *  - plain, phase-1 and phase-2 features and cosine logits, in training and inference layouts;
 *  - phase 2's query features, chosen pool entries (exactly) and their key cosines;
 *  - gradients of one loss per phase: prompts, adapters (down/up weights and biases, scale)
 *    and head in phase 1; pool, keys (key loss included) and head in phase 2, with nothing
 *    reaching the phase-1 tensors;
 *  - micro-batches: two backward passes over halves of the batch add up to the whole;
 *  - full training (tests/fixtures/vit/full_{vision,clip}.safetensors, LPT_VIT_FULL with
 *    train_backbone): features, logits and the gradient of every tensor of the backbone
 *    (patch embedding, cls, pos, ln_pre, every block's LayerNorms, qkv, projection and MLP,
 *    the final norm, the CLIP projection) and of the head, also over micro-batches; the
 *    backbone span; the plain mode leaving backbone gradients alone; the random backbone init;
 *  - lpt_vit_backward_features (CLIP's contrastive loss): from the head's input gradient the
 *    same backbone gradients as from the logits, none for the head, and training a model
 *    without a head in LPT_VIT_FULL;
 * plus bad input (unset weights, wrong sizes, unknown names, bad configs, backward without
 * forward) and the activation-memory figures for ViT-B/16.
 * Tolerances (float32 against PyTorch's float64; the errors seen are about 1e-6 relative):
 * features, cosines and logits 5e-6 absolute plus 5e-5 relative; gradients 2e-5 of the
 * tensor's largest magnitude plus 2e-4 relative.
 */
#include "op_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_safetensors.h"
#include "lpt_vit.h"

/* ---- the fixture's generator (see make_vit_fixtures.py) -------------------------------- */

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
    const char *label;
    LptSafetensors *st;
    cJSON *config, *gen;
    LptVitConfig cfg;
    int batch;
} Fixture;

static int json_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* Opens DIR/label.safetensors and reads its config; false (with a failed check) otherwise. */
static bool fixture_open(OpCheck *oc, Fixture *fx, const char *dir, const char *label)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, label);
    LptError err = {0};
    memset(fx, 0, sizeof *fx);
    fx->label = label;
    fx->st = lpt_safetensors_open(path, &err);
    if (!oc_expect(oc, fx->st != NULL, label, "%s", err.message))
        return false;
    const char *cfg_text = lpt_safetensors_metadata(fx->st, "config");
    const char *gen_text = lpt_safetensors_metadata(fx->st, "generator");
    fx->config = cfg_text ? cJSON_Parse(cfg_text) : NULL;
    fx->gen = gen_text ? cJSON_Parse(gen_text) : NULL;
    if (!oc_expect(oc, fx->config && fx->gen, label, "metadata 'config'/'generator' missing"))
        return false;
    LptVitConfig *c = &fx->cfg;
    lpt_vit_config_init(c);
    c->depth = json_int(fx->config, "depth");
    c->width = json_int(fx->config, "width");
    c->heads = json_int(fx->config, "heads");
    c->mlp = json_int(fx->config, "mlp");
    c->patch = json_int(fx->config, "patch");
    c->image = json_int(fx->config, "image");
    c->eps = (float)cJSON_GetObjectItemCaseSensitive(fx->config, "eps")->valuedouble;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(fx->config, "act");
    c->act = cJSON_IsString(act) && strcmp(act->valuestring, "quick_gelu") == 0
                 ? LPT_VIT_ACT_QUICK_GELU
                 : LPT_VIT_ACT_GELU;
    c->clip_style = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fx->config, "clip_style"));
    c->proj_dim = json_int(fx->config, "proj_dim");
    c->prompts = json_int(fx->config, "prompts");
    c->adapter_rank = json_int(fx->config, "adapter_rank");
    c->pool_size = json_int(fx->config, "pool_size");
    c->pool_top_k = json_int(fx->config, "pool_top_k");
    c->classes = json_int(fx->config, "classes");
    c->train_backbone =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fx->config, "train_backbone"));
    fx->batch = json_int(fx->config, "batch");
    return oc_expect(oc, lpt_vit_config_check(c, &err) == LPT_OK && fx->batch > 0, label,
                     "fixture config rejected: %s", err.message);
}

static void fixture_close(Fixture *fx)
{
    cJSON_Delete(fx->config);
    cJSON_Delete(fx->gen);
    lpt_safetensors_close(fx->st);
}

/* The fixture tensor `name` as floats (malloc'ed; NULL with a failed check when absent). */
static float *fixture_get(OpCheck *oc, const Fixture *fx, const char *name, size_t *count)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(fx->st, name);
    char what[160];
    snprintf(what, sizeof what, "%s: fixture tensor %s", fx->label, name);
    if (!oc_expect(oc, e != NULL, what, "missing"))
        return NULL;
    float *v = malloc(e->numel * sizeof *v);
    LptError err = {0};
    if (!oc_expect(oc, lpt_safetensors_read_f32(fx->st, e, v, e->numel, &err) == LPT_OK, what,
                   "%s", err.message)) {
        free(v);
        return NULL;
    }
    *count = e->numel;
    return v;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m)
            m = fabs((double)x[i]);
    return m;
}

/* Compares got[n] with the fixture tensor `name`: atol + rtol |ref|, atol += grad_rel *
 * max |ref| (for gradients, whose entries span many magnitudes). */
static void compare(OpCheck *oc, const Fixture *fx, const char *what, const char *name,
                    const float *got, size_t n, double atol, double rtol, double grad_rel)
{
    size_t count = 0;
    float *ref = fixture_get(oc, fx, name, &count);
    if (!ref)
        return;
    char label[200];
    snprintf(label, sizeof label, "%s: %s %s", fx->label, what, name);
    if (oc_expect(oc, count == n, label, "%zu values, the fixture has %zu", n, count)) {
        double *r = oc_to_double(ref, n);
        oc_compare(oc, label, got, r, n, atol + grad_rel * max_abs(ref, n), rtol);
        free(r);
    }
    free(ref);
}

static void compare_tensor(OpCheck *oc, const Fixture *fx, const char *what, const char *name,
                           const LptTensor *t, double atol, double rtol, double grad_rel)
{
    char label[200];
    snprintf(label, sizeof label, "%s: %s %s", fx->label, what, name);
    if (!oc_expect(oc, t != NULL, label, "no result tensor"))
        return;
    float *got = oc_fetch(oc, t);
    compare(oc, fx, what, name, got, t->count, atol, rtol, grad_rel);
    free(got);
}

#define FEAT_ATOL 5e-6
#define FEAT_RTOL 5e-5
#define GRAD_REL 2e-5
#define GRAD_RTOL 2e-4

/* ---- the model from the fixture --------------------------------------------------------- */

/* A model with every tensor generated from its name. */
static LptVit *make_model(OpCheck *oc, const Fixture *fx)
{
    LptError err = {0};
    LptVit *vit = lpt_vit_new(oc->be, &fx->cfg, &err);
    if (!oc_expect(oc, vit != NULL, fx->label, "lpt_vit_new: %s", err.message))
        return NULL;
    int named = 0;
    bool ok = true;
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
        const char *name = lpt_vit_tensor_name(vit, i);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(fx->gen, name);
        char what[160];
        snprintf(what, sizeof what, "%s: generator for %s", fx->label, name);
        if (!oc_expect(oc, cJSON_IsArray(g) && cJSON_GetArraySize(g) == 2, what, "missing")) {
            ok = false;
            continue;
        }
        const LptTensor *t = lpt_vit_tensor(vit, name);
        float *v = malloc(t->count * sizeof *v);
        generate(name, v, t->count, cJSON_GetArrayItem(g, 0)->valuedouble,
                 cJSON_GetArrayItem(g, 1)->valuedouble);
        if (!oc_expect(oc, lpt_vit_set(vit, name, v, t->count, &err) == LPT_OK, what, "%s",
                       err.message))
            ok = false;
        free(v);
        named++;
    }
    /* the model and the reference have exactly the same tensors */
    ok &= oc_expect(oc, named == cJSON_GetArraySize(fx->gen), fx->label,
                    "model has %d tensors, the fixture generates %d", named,
                    cJSON_GetArraySize(fx->gen));
    if (!ok) {
        lpt_vit_free(vit);
        return NULL;
    }
    return vit;
}

static LptTensor make_images(OpCheck *oc, const Fixture *fx, int first, int count)
{
    size_t per = (size_t)3 * fx->cfg.image * fx->cfg.image;
    float *all = malloc(per * fx->batch * sizeof *all);
    generate("images", all, per * fx->batch, 0.0, 2.0);
    LptTensor t = oc_tensor(oc, "images", LPT_F32, per * count, all + per * first);
    free(all);
    return t;
}

/* Rows [first, first + count) of the fixture's dlogits of `phase`, on the device. */
static LptTensor make_dlogits(OpCheck *oc, const Fixture *fx, const char *phase, int first,
                              int count)
{
    char name[64];
    snprintf(name, sizeof name, "%s.dlogits", phase);
    size_t n = 0;
    float *d = fixture_get(oc, fx, name, &n);
    int K = fx->cfg.classes;
    LptTensor t = oc_tensor(oc, "dlogits", LPT_F32, (size_t)count * K,
                            d ? d + (size_t)first * K : NULL);
    free(d);
    return t;
}

/* Compares every "<phase>.grad.<name>" of the fixture with the model's gradient. */
static void compare_grads(OpCheck *oc, const Fixture *fx, LptVit *vit, const char *phase)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.grad.", phase);
    int seen = 0;
    for (int i = 0; i < lpt_safetensors_count(fx->st); i++) {
        const char *name = lpt_safetensors_entry(fx->st, i)->name;
        if (strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        const LptTensor *g = lpt_vit_grad(vit, name + strlen(prefix));
        compare_tensor(oc, fx, "gradient", name, g, 0.0, GRAD_RTOL, GRAD_REL);
        seen++;
    }
    oc_expect(oc, seen > 0, fx->label, "no %s gradients in the fixture", phase);
}

/* Every gradient of a tensor matching `prefix` is exactly zero. */
static void expect_zero_grads(OpCheck *oc, const Fixture *fx, LptVit *vit, const char *prefix,
                              const char *why)
{
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
        const char *name = lpt_vit_tensor_name(vit, i);
        if (!lpt_vit_tensor_trainable(vit, i) || strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        float *g = oc_fetch(oc, lpt_vit_grad(vit, name));
        double m = max_abs(g, lpt_vit_grad(vit, name)->count);
        char what[160];
        snprintf(what, sizeof what, "%s: %s gradient %s", fx->label, why, name);
        oc_expect(oc, m == 0.0, what, "max |g| = %g, expected 0", m);
        free(g);
    }
}

/* ---- the checks ------------------------------------------------------------------------- */

static void check_forward(OpCheck *oc, const Fixture *fx, LptVit *vit, const LptTensor *images,
                          LptVitMode mode, const char *phase, bool train)
{
    LptError err = {0};
    char what[96], name[64];
    snprintf(what, sizeof what, "%s forward (%s)", phase, train ? "train" : "inference");
    LptStatus st = lpt_vit_forward(vit, images, fx->batch, mode, train, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        return;
    snprintf(name, sizeof name, "%s.features", phase);
    compare_tensor(oc, fx, what, name, lpt_vit_features(vit), FEAT_ATOL, FEAT_RTOL, 0.0);
    snprintf(name, sizeof name, "%s.logits", phase);
    compare_tensor(oc, fx, what, name, lpt_vit_logits(vit), FEAT_ATOL, FEAT_RTOL, 0.0);
    if (mode != LPT_VIT_PHASE2)
        return;
    compare_tensor(oc, fx, what, "phase2.query", lpt_vit_query(vit), FEAT_ATOL, FEAT_RTOL, 0.0);
    compare_tensor(oc, fx, what, "phase2.selection_cos", lpt_vit_selection_cos(vit), FEAT_ATOL,
                   FEAT_RTOL, 0.0);
    const LptTensor *sel = lpt_vit_selection(vit);
    size_t n = 0;
    float *ref = fixture_get(oc, fx, "phase2.selection", &n);
    if (ref && oc_expect(oc, sel && sel->count == n, what, "selection size")) {
        int32_t *got = malloc(n * sizeof *got);
        oc_download(oc, sel, got);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += got[i] != (int32_t)ref[i];
        oc_expect(oc, bad == 0, what, "%zu of %zu chosen pool entries differ", bad, n);
        free(got);
    }
    free(ref);
}

static void check_fixture(OpCheck *oc, const char *dir, const char *label)
{
    Fixture fx;
    if (!fixture_open(oc, &fx, dir, label)) {
        fixture_close(&fx);
        return;
    }
    LptVit *vit = make_model(oc, &fx);
    if (!vit) {
        fixture_close(&fx);
        return;
    }
    LptError err = {0};
    LptTensor images = make_images(oc, &fx, 0, fx.batch);

    check_forward(oc, &fx, vit, &images, LPT_VIT_PLAIN, "plain", false);
    check_forward(oc, &fx, vit, &images, LPT_VIT_PHASE1, "phase1", false);
    check_forward(oc, &fx, vit, &images, LPT_VIT_PHASE2, "phase2", false);

    /* phase 1: one loss, every trained gradient */
    LptTensor d1 = make_dlogits(oc, &fx, "phase1", 0, fx.batch);
    check_forward(oc, &fx, vit, &images, LPT_VIT_PHASE1, "phase1", true);
    LptStatus st = lpt_vit_backward(vit, &d1, 0.0f, &err);
    if (oc_expect(oc, st == LPT_OK, "phase1 backward", "%s", err.message)) {
        compare_grads(oc, &fx, vit, "phase1");
        expect_zero_grads(oc, &fx, vit, "pool.", "phase 1 leaves");
        expect_zero_grads(oc, &fx, vit, "keys", "phase 1 leaves");
    }

    /* micro-batches: first image, then the rest, accumulate to the same gradients */
    if (fx.batch > 1 && oc_expect(oc, lpt_vit_zero_grads(vit, &err) == LPT_OK, "zero", "%s",
                                  err.message)) {
        int parts[2][2] = {{0, 1}, {1, fx.batch - 1}};
        bool ok = true;
        for (int p = 0; p < 2 && ok; p++) {
            LptTensor im = make_images(oc, &fx, parts[p][0], parts[p][1]);
            LptTensor dl = make_dlogits(oc, &fx, "phase1", parts[p][0], parts[p][1]);
            ok = lpt_vit_forward(vit, &im, parts[p][1], LPT_VIT_PHASE1, true, &err) == LPT_OK &&
                 lpt_vit_backward(vit, &dl, 0.0f, &err) == LPT_OK;
        }
        if (oc_expect(oc, ok, "phase1 micro-batches", "%s", err.message))
            compare_grads(oc, &fx, vit, "phase1");
    }

    /* phase 2: the key loss with key_scale 1/B; nothing reaches the phase-1 tensors */
    LptTensor d2 = make_dlogits(oc, &fx, "phase2", 0, fx.batch);
    if (oc_expect(oc, lpt_vit_zero_grads(vit, &err) == LPT_OK, "zero", "%s", err.message)) {
        check_forward(oc, &fx, vit, &images, LPT_VIT_PHASE2, "phase2", true);
        st = lpt_vit_backward(vit, &d2, 1.0f / (float)fx.batch, &err);
        if (oc_expect(oc, st == LPT_OK, "phase2 backward", "%s", err.message)) {
            compare_grads(oc, &fx, vit, "phase2");
            expect_zero_grads(oc, &fx, vit, "prompt.", "phase 2 leaves");
            expect_zero_grads(oc, &fx, vit, "adapter.", "phase 2 leaves");
        }
    }

    /* the plain backbone trains the head alone: its gradient is phase 1's formula on the
     * plain features, checked against the cosine op's own backward */
    if (oc_expect(oc, lpt_vit_zero_grads(vit, &err) == LPT_OK, "zero", "%s", err.message) &&
        oc_expect(oc, lpt_vit_forward(vit, &images, fx.batch, LPT_VIT_PLAIN, true, &err) ==
                          LPT_OK, "plain forward (train)", "%s", err.message)) {
        st = lpt_vit_backward(vit, &d1, 0.0f, &err);
        const LptTensor *f = lpt_vit_features(vit);
        int K = fx.cfg.classes, Cf = lpt_vit_feature_width(vit);
        LptTensor dw = oc_tensor(oc, "dhead", LPT_F32, (size_t)K * Cf, NULL);
        LptStatus st2 = lpt_tensor_fill_u32(&dw, 0, &err);
        if (st2 == LPT_OK)
            st2 = lpt_op_cosine_backward(oc->be, NULL, &dw, &d1, f, lpt_vit_tensor(vit, "head"),
                                         fx.batch, K, Cf, &err);
        if (oc_expect(oc, st == LPT_OK && st2 == LPT_OK, "plain backward", "%s", err.message)) {
            float *want = oc_fetch(oc, &dw);
            double *r = oc_to_double(want, dw.count);
            float *got = oc_fetch(oc, lpt_vit_grad(vit, "head"));
            oc_compare(oc, "plain backward: head gradient", got, r, dw.count, 1e-6, 1e-5);
            free(want);
            free(r);
            free(got);
            expect_zero_grads(oc, &fx, vit, "prompt.", "plain leaves");
            expect_zero_grads(oc, &fx, vit, "adapter.", "plain leaves");
        }
    }
    lpt_vit_free(vit);
    fixture_close(&fx);
    oc_reset(oc);
}

/* ---- full training ---------------------------------------------------------------------- */

/* Every gradient (backbone ones included) is exactly zero, except the head's when
 * `except_head`. */
static void expect_all_zero(OpCheck *oc, const Fixture *fx, LptVit *vit, bool except_head,
                            const char *why)
{
    size_t nonzero = 0;
    const char *first = NULL;
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
        const char *name = lpt_vit_tensor_name(vit, i);
        const LptTensor *g = lpt_vit_grad(vit, name);
        if (!g || (except_head && strcmp(name, "head") == 0))
            continue;
        float *v = oc_fetch(oc, g);
        if (max_abs(v, g->count) != 0.0 && nonzero++ == 0)
            first = name;
        free(v);
    }
    oc_expect(oc, nonzero == 0, fx->label, "%s: %zu gradients not zero (first %s)", why, nonzero,
              first ? first : "-");
}

static void check_full(OpCheck *oc, const char *dir, const char *label)
{
    Fixture fx;
    if (!fixture_open(oc, &fx, dir, label)) {
        fixture_close(&fx);
        return;
    }
    LptVit *vit = make_model(oc, &fx);
    if (!vit) {
        fixture_close(&fx);
        return;
    }
    LptError err = {0};
    LptTensor images = make_images(oc, &fx, 0, fx.batch);
    LptTensor d = make_dlogits(oc, &fx, "full", 0, fx.batch);
    check_forward(oc, &fx, vit, &images, LPT_VIT_FULL, "full", true);
    LptStatus st = lpt_vit_backward(vit, &d, 0.0f, &err);
    if (oc_expect(oc, st == LPT_OK, "full backward", "%s", err.message))
        compare_grads(oc, &fx, vit, "full");
    /* the first image, then the rest: the same sums */
    if (oc_expect(oc, lpt_vit_zero_grads(vit, &err) == LPT_OK, "zero", "%s", err.message)) {
        expect_all_zero(oc, &fx, vit, false, "after lpt_vit_zero_grads");
        int parts[2][2] = {{0, 1}, {1, fx.batch - 1}};
        bool ok = true;
        for (int p = 0; p < 2 && ok; p++) {
            LptTensor im = make_images(oc, &fx, parts[p][0], parts[p][1]);
            LptTensor dl = make_dlogits(oc, &fx, "full", parts[p][0], parts[p][1]);
            ok = lpt_vit_forward(vit, &im, parts[p][1], LPT_VIT_FULL, true, &err) == LPT_OK &&
                 lpt_vit_backward(vit, &dl, 0.0f, &err) == LPT_OK;
        }
        if (oc_expect(oc, ok, "full micro-batches", "%s", err.message))
            compare_grads(oc, &fx, vit, "full");
    }
    /* the plain mode trains the head alone, even with backbone gradients there */
    if (oc_expect(oc, lpt_vit_zero_grads(vit, &err) == LPT_OK, "zero", "%s", err.message) &&
        oc_expect(oc, lpt_vit_forward(vit, &images, fx.batch, LPT_VIT_PLAIN, true, &err) ==
                              LPT_OK &&
                          lpt_vit_backward(vit, &d, 0.0f, &err) == LPT_OK,
                  "plain step with train_backbone", "%s", err.message))
        expect_all_zero(oc, &fx, vit, true, "plain step");
    /* the backbone span: every frozen tensor, its gradient span in the same layout */
    LptTensor sp, sg;
    if (oc_expect(oc, lpt_vit_backbone_span(vit, &sp, &sg, &err) == LPT_OK, "backbone span",
                  "%s", err.message)) {
        size_t bad = 0;
        for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
            if (lpt_vit_tensor_trainable(vit, i))
                continue;
            const char *name = lpt_vit_tensor_name(vit, i);
            const LptTensor *t = lpt_vit_tensor(vit, name), *g = lpt_vit_grad(vit, name);
            bad += t->arena != sp.arena || g->arena != sg.arena || t->offset != g->offset ||
                   t->offset + t->count * 4 > sp.offset + sp.count * 4;
        }
        oc_expect(oc, bad == 0 && sp.count == sg.count, "backbone span",
                  "%zu backbone tensors outside the span or with another gradient layout", bad);
    }
    lpt_vit_free(vit);
    fixture_close(&fx);
    oc_reset(oc);
}

/* lpt_vit_init_backbone: LayerNorms 1/0, biases 0, weights of the stated spreads, a usable
 * model without any lpt_vit_set, the same values for the same seed. */
static void check_init_backbone(OpCheck *oc)
{
    LptError err = {0};
    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.depth = 2;
    c.width = 64;
    c.heads = 4;
    c.mlp = 128;
    c.patch = 4;
    c.image = 16;
    c.prompts = c.adapter_rank = c.pool_size = 0;
    c.classes = 3;
    c.train_backbone = true;
    LptVit *vit = lpt_vit_new(oc->be, &c, &err);
    if (!oc_expect(oc, vit != NULL, "init backbone model", "%s", err.message))
        return;
    if (!oc_expect(oc, lpt_vit_init_backbone(vit, 3, &err) == LPT_OK, "init backbone", "%s",
                   err.message)) {
        lpt_vit_free(vit);
        return;
    }
    float *buf = malloc(192 * 64 * sizeof *buf), *again = malloc(192 * 64 * sizeof *again);
    struct {
        const char *name;
        double lo, hi; /* range of every value */
        double sd;     /* expected std (< 0: do not check) */
    } want[] = {
        {"blocks.0.ln1.weight", 1.0, 1.0, -1},   {"blocks.1.ln2.bias", 0.0, 0.0, -1},
        {"norm.weight", 1.0, 1.0, -1},           {"blocks.0.qkv.bias", 0.0, 0.0, -1},
        {"blocks.1.fc2.bias", 0.0, 0.0, -1},     {"blocks.0.fc1.weight", -0.04, 0.04, 0.0176},
        {"blocks.1.qkv.weight", -0.04, 0.04, 0.0176}, {"pos", -0.04, 0.04, 0.0176},
        {"cls", -1e-5, 1e-5, -1},                {"patch.weight", -0.1444, 0.1444, 0.0833},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n = lpt_vit_tensor(vit, want[i].name)->count;
        if (!oc_expect(oc, lpt_vit_get(vit, want[i].name, buf, n, &err) == LPT_OK, want[i].name,
                       "%s", err.message))
            continue;
        double lo = buf[0], hi = buf[0], sum = 0.0, sq = 0.0;
        for (size_t j = 0; j < n; j++) {
            lo = buf[j] < lo ? buf[j] : lo;
            hi = buf[j] > hi ? buf[j] : hi;
            sum += buf[j];
            sq += (double)buf[j] * buf[j];
        }
        double sd = sqrt(sq / n - (sum / n) * (sum / n));
        oc_expect(oc, lo >= want[i].lo - 1e-7 && hi <= want[i].hi + 1e-7 &&
                          (want[i].sd < 0 || fabs(sd - want[i].sd) < 0.15 * want[i].sd),
                  want[i].name, "range [%g, %g], std %g: expected [%g, %g], std %g", lo, hi, sd,
                  want[i].lo, want[i].hi, want[i].sd);
    }
    size_t n = 128 * 64;
    bool ok = lpt_vit_get(vit, "blocks.0.fc1.weight", buf, n, &err) == LPT_OK &&
              lpt_vit_init_backbone(vit, 3, &err) == LPT_OK &&
              lpt_vit_get(vit, "blocks.0.fc1.weight", again, n, &err) == LPT_OK;
    oc_expect(oc, ok && memcmp(buf, again, n * sizeof *buf) == 0, "init backbone seed 3 twice",
              "differs (%s)", err.message);
    LptTensor images = oc_tensor(oc, "images", LPT_F32, 2 * 3 * 16 * 16, NULL);
    oc_expect(oc, lpt_vit_init_trainable(vit, 1, &err) == LPT_OK &&
                      lpt_vit_forward(vit, &images, 2, LPT_VIT_FULL, true, &err) == LPT_OK,
              "full forward after init", "%s", err.message);
    free(buf);
    free(again);
    lpt_vit_free(vit);
    oc_reset(oc);
}

/* ---- bad input -------------------------------------------------------------------------- */

static LptVitConfig tiny_config(void)
{
    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.depth = 2;
    c.width = 16;
    c.heads = 2;
    c.mlp = 32;
    c.patch = 4;
    c.image = 8;
    c.prompts = 2;
    c.adapter_rank = 2;
    c.pool_size = 3;
    c.classes = 3;
    return c;
}

static void check_bad_input(OpCheck *oc)
{
    LptError err = {0};
    LptVitConfig c = tiny_config();
    c.heads = 3;
    oc_expect_error(oc, "config: width 16, heads 3", lpt_vit_config_check(&c, &err), &err,
                    "multiple of heads");
    c = tiny_config();
    c.image = 10;
    oc_expect(oc, lpt_vit_new(oc->be, &c, &err) == NULL, "config: image 10, patch 4",
              "accepted");
    oc_expect_error(oc, "config: image 10, patch 4", err.code, &err, "multiple of patch");
    c = tiny_config();
    c.pool_top_k = 4;
    oc_expect_error(oc, "config: top 4 of 3", lpt_vit_config_check(&c, &err), &err,
                    "pool_top_k");
    c = tiny_config();
    c.clip_style = true;
    c.proj_dim = 0;
    oc_expect_error(oc, "config: clip without proj", lpt_vit_config_check(&c, &err), &err,
                    "proj_dim");
    oc_expect(oc, lpt_vit_activation_bytes(&c, 4, LPT_VIT_PHASE1, true) == 0,
              "activation bytes of a bad config", "not 0");

    c = tiny_config();
    LptVit *vit = lpt_vit_new(oc->be, &c, &err);
    if (!oc_expect(oc, vit != NULL, "tiny model", "%s", err.message))
        return;
    LptTensor images = oc_tensor(oc, "images", LPT_F32, 2 * 3 * 8 * 8, NULL);
    LptTensor dl = oc_tensor(oc, "dlogits", LPT_F32, 2 * 3, NULL);
    oc_expect_error(oc, "backward before forward", lpt_vit_backward(vit, &dl, 0.0f, &err), &err,
                    "no training forward");
    oc_expect_error(oc, "forward with unset weights",
                    lpt_vit_forward(vit, &images, 2, LPT_VIT_PLAIN, false, &err), &err,
                    "'patch.weight' was never set");
    float w[16 * 48];
    memset(w, 0, sizeof w);
    oc_expect_error(oc, "set: wrong count", lpt_vit_set(vit, "patch.weight", w, 10, &err), &err,
                    "has 768 elements, got 10");
    oc_expect_error(oc, "set: unknown name", lpt_vit_set(vit, "blocks.2.ln1.weight", w, 16, &err),
                    &err, "no tensor called 'blocks.2.ln1.weight'");
    oc_expect_error(oc, "grad of a frozen tensor", lpt_vit_get_grad(vit, "cls", w, 16, &err),
                    &err, "frozen");
    LptTensor bb_p, bb_g;
    oc_expect_error(oc, "backbone span of a frozen backbone",
                    lpt_vit_backbone_span(vit, &bb_p, &bb_g, &err), &err, "train_backbone is off");
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) /* all zero weights: a valid model */
        if (!lpt_vit_tensor_trainable(vit, i)) {
            size_t n = lpt_vit_tensor(vit, lpt_vit_tensor_name(vit, i))->count;
            float *z = calloc(n, sizeof *z);
            lpt_vit_set(vit, lpt_vit_tensor_name(vit, i), z, n, &err);
            free(z);
        }
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 100, NULL);
    oc_expect_error(oc, "forward: images too small",
                    lpt_vit_forward(vit, &small, 2, LPT_VIT_PLAIN, false, &err), &err, "'small'");
    oc_expect_error(oc, "forward: batch 0",
                    lpt_vit_forward(vit, &images, 0, LPT_VIT_PLAIN, false, &err), &err,
                    "batch 0");
    oc_expect(oc, lpt_vit_forward(vit, &images, 0, LPT_VIT_PLAIN, false, NULL) ==
                      LPT_ERR_INVALID_ARGUMENT,
              "forward: batch 0, no error record", "not refused");
    oc_expect(oc, lpt_vit_forward(vit, &images, 1, LPT_VIT_PLAIN, false, &err) == LPT_OK,
              "inference forward of zero weights", "%s", err.message);
    oc_expect_error(oc, "backward after an inference forward",
                    lpt_vit_backward(vit, &dl, 0.0f, &err), &err, "no training forward");
    oc_expect_error(oc, "full training of a frozen backbone",
                    lpt_vit_forward(vit, &images, 2, LPT_VIT_FULL, true, &err), &err,
                    "needs train_backbone");
    LptTensor span_p, span_g;
    oc_expect(oc, lpt_vit_trainable_span(vit, LPT_VIT_PHASE1, &span_p, &span_g, &err) == LPT_OK,
              "phase-1 span", "%s", err.message);
    oc_expect(oc, span_p.offset == lpt_vit_tensor(vit, "prompt.0")->offset &&
                      span_p.offset + span_p.count * 4 ==
                          lpt_vit_tensor(vit, "head")->offset + 3 * 16 * 4,
              "phase-1 span", "does not run from prompt.0 to the end of head");
    oc_expect(oc, lpt_vit_trainable_span(vit, LPT_VIT_PHASE2, &span_p, &span_g, &err) == LPT_OK &&
                      span_p.offset == lpt_vit_tensor(vit, "head")->offset &&
                      span_p.offset + span_p.count * 4 ==
                          lpt_vit_tensor(vit, "keys")->offset + 3 * 16 * 4 &&
                      span_g.arena == lpt_vit_grad(vit, "keys")->arena &&
                      span_g.offset == span_p.offset && span_g.count == span_p.count,
              "phase-2 span", "does not run from head to the end of keys, or its gradient "
              "span differs");
    lpt_vit_free(vit);

    c.pool_size = 0;
    c.classes = 0;
    vit = lpt_vit_new(oc->be, &c, &err);
    if (oc_expect(oc, vit != NULL, "model without pool and head", "%s", err.message)) {
        oc_expect_error(oc, "phase 2 without a pool",
                        lpt_vit_forward(vit, &images, 2, LPT_VIT_PHASE2, false, &err), &err,
                        "needs a prompt pool");
        oc_expect_error(oc, "training without a head",
                        lpt_vit_forward(vit, &images, 2, LPT_VIT_PHASE1, true, &err), &err,
                        "needs a head");
        oc_expect(oc, lpt_vit_tensor(vit, "head") == NULL && lpt_vit_tensor(vit, "keys") == NULL,
                  "model without pool and head", "has a head or keys");
        oc_expect(oc, lpt_vit_trainable_span(vit, LPT_VIT_PHASE1, &span_p, &span_g, &err) ==
                              LPT_OK &&
                          span_p.offset + span_p.count * 4 ==
                              lpt_vit_tensor(vit, "adapter.1.scale")->offset + 4,
                  "phase-1 span without a head", "does not end at the last adapter");
        oc_expect_error(oc, "plain span without a head",
                        lpt_vit_trainable_span(vit, LPT_VIT_PLAIN, &span_p, &span_g, &err), &err,
                        "trains nothing");
    }
    lpt_vit_free(vit);
    oc_reset(oc);
}

/* The method's init: value ranges and statistics of each kind of trainable tensor, the same
 * values for the same seed, and lpt_vit_get/lpt_vit_set round trips. */
static void check_init(OpCheck *oc)
{
    LptError err = {0};
    LptVitConfig c = tiny_config();
    c.width = 64;
    c.heads = 4;
    c.prompts = 10;
    c.pool_size = 20;
    c.classes = 6;
    c.adapter_scale = 0.25f;
    LptVit *vit = lpt_vit_new(oc->be, &c, &err);
    if (!oc_expect(oc, vit != NULL, "init model", "%s", err.message))
        return;
    if (!oc_expect(oc, lpt_vit_init_trainable(vit, 7, &err) == LPT_OK, "init", "%s", err.message)) {
        lpt_vit_free(vit);
        return;
    }
    float *buf = malloc(20 * 10 * 64 * sizeof *buf), *again = malloc(20 * 10 * 64 * sizeof *again);
    /* prompts, pool, keys: truncated normal, std 0.02 cut at 0.04 */
    const char *normal[] = {"prompt.0", "prompt.1", "pool.0", "keys"};
    for (int i = 0; i < 4; i++) {
        size_t n = lpt_vit_tensor(vit, normal[i])->count;
        if (!oc_expect(oc, lpt_vit_get(vit, normal[i], buf, n, &err) == LPT_OK, normal[i], "%s",
                       err.message))
            continue;
        double sum = 0.0, sq = 0.0, most = max_abs(buf, n);
        for (size_t j = 0; j < n; j++) {
            sum += buf[j];
            sq += (double)buf[j] * buf[j];
        }
        double mean = sum / n, sd = sqrt(sq / n - mean * mean);
        /* a normal cut at 2 std has std 0.88 of the uncut one */
        oc_expect(oc, most <= 0.04 + 1e-7 && fabs(mean) < 0.004 && fabs(sd - 0.0176) < 0.003,
                  normal[i], "max %g, mean %g, std %g: not trunc-normal(0.02)", most, mean, sd);
    }
    lpt_vit_get(vit, "adapter.1.down.weight", buf, 2 * 64, &err);
    double most = max_abs(buf, 2 * 64);
    oc_expect(oc, most <= 0.125 && most > 0.08, "adapter down init",
              "max %g, expected kaiming-uniform bound 1/sqrt(64)", most);
    const char *zero[] = {"adapter.0.up.weight", "adapter.0.up.bias", "adapter.1.down.bias"};
    for (int i = 0; i < 3; i++) {
        size_t n = lpt_vit_tensor(vit, zero[i])->count;
        lpt_vit_get(vit, zero[i], buf, n, &err);
        oc_expect(oc, max_abs(buf, n) == 0.0, zero[i], "not zero after init");
    }
    lpt_vit_get(vit, "adapter.1.scale", buf, 1, &err);
    oc_expect(oc, buf[0] == 0.25f, "adapter scale init", "%g, expected 0.25", buf[0]);
    lpt_vit_get(vit, "head", buf, 6 * 64, &err);
    for (int r = 0; r < 6; r++) {
        double norm = 0.0;
        for (int j = 0; j < 64; j++)
            norm += (double)buf[r * 64 + j] * buf[r * 64 + j];
        oc_expect(oc, fabs(sqrt(norm) - 1.0) < 1e-5, "head init", "row %d has norm %g", r,
                  sqrt(norm));
    }
    /* the same seed, the same values; another seed, others */
    size_t n_pool = 20 * 10 * 64;
    bool ok = lpt_vit_get(vit, "pool.0", buf, n_pool, &err) == LPT_OK &&
              lpt_vit_init_trainable(vit, 7, &err) == LPT_OK &&
              lpt_vit_get(vit, "pool.0", again, n_pool, &err) == LPT_OK;
    oc_expect(oc, ok && memcmp(buf, again, n_pool * sizeof *buf) == 0, "init seed 7 twice",
              "differs (%s)", err.message);
    ok = lpt_vit_init_trainable(vit, 8, &err) == LPT_OK &&
         lpt_vit_get(vit, "pool.0", again, n_pool, &err) == LPT_OK;
    oc_expect(oc, ok && memcmp(buf, again, n_pool * sizeof *buf) != 0, "init seed 8",
              "same values as seed 7 (%s)", err.message);
    /* a set is read back exactly */
    for (int j = 0; j < 64; j++)
        buf[j] = (float)j / 7.0f;
    oc_expect(oc, lpt_vit_set(vit, "cls", buf, 64, &err) == LPT_OK &&
                      lpt_vit_get(vit, "cls", again, 64, &err) == LPT_OK &&
                      memcmp(buf, again, 64 * sizeof *buf) == 0,
              "set/get cls", "no exact round trip: %s", err.message);
    free(buf);
    free(again);
    lpt_vit_free(vit);
}

/* lpt_vit_backward_features: from dL/dfeatures (here the cosine head's input gradient) every
 * backbone gradient equals lpt_vit_backward's from dlogits and the head gets none; a model
 * without a head trains in LPT_VIT_FULL this way (and lpt_vit_backward refuses it). */
static void check_backward_features(OpCheck *oc, bool clip)
{
    LptVitConfig c = tiny_config();
    c.prompts = c.adapter_rank = c.pool_size = 0;
    c.clip_style = clip;
    c.proj_dim = 6;
    c.train_backbone = true;
    LptError err = {0};
    LptVit *vit = lpt_vit_new(oc->be, &c, &err);
    const char *what = clip ? "backward from features (CLIP)" : "backward from features";
    if (!oc_expect(oc, vit && lpt_vit_init_backbone(vit, 3, &err) == LPT_OK &&
                           lpt_vit_init_trainable(vit, 3, &err) == LPT_OK,
                   what, "%s", err.message)) {
        lpt_vit_free(vit);
        return;
    }
    int B = 2, K = c.classes, Cf = lpt_vit_feature_width(vit);
    float img[2 * 3 * 8 * 8], dl[2 * 3];
    oc_fill_uniform(oc, img, sizeof img / sizeof *img, -1.0f, 1.0f);
    oc_fill_uniform(oc, dl, sizeof dl / sizeof *dl, -1.0f, 1.0f);
    LptTensor images = oc_tensor(oc, "images", LPT_F32, sizeof img / sizeof *img, img);
    LptTensor dlogits = oc_tensor(oc, "dlogits", LPT_F32, (size_t)B * K, dl);
    LptTensor df = oc_tensor(oc, "dfeatures", LPT_F32, (size_t)B * Cf, NULL);
    LptTensor bp, bg;
    bool ok = lpt_vit_backbone_span(vit, &bp, &bg, &err) == LPT_OK &&
              lpt_vit_zero_grads(vit, &err) == LPT_OK &&
              lpt_vit_forward(vit, &images, B, LPT_VIT_FULL, true, &err) == LPT_OK &&
              lpt_vit_backward(vit, &dlogits, 0.0f, &err) == LPT_OK;
    float *from_logits = ok ? oc_fetch(oc, &bg) : NULL;
    ok = ok && lpt_op_cosine_backward(oc->be, &df, NULL, &dlogits, lpt_vit_features(vit),
                                      lpt_vit_tensor(vit, "head"), B, K, Cf, &err) == LPT_OK &&
         lpt_vit_zero_grads(vit, &err) == LPT_OK &&
         lpt_vit_forward(vit, &images, B, LPT_VIT_FULL, true, &err) == LPT_OK &&
         lpt_vit_backward_features(vit, &df, &err) == LPT_OK;
    if (oc_expect(oc, ok, what, "%s", err.message)) {
        float *from_features = oc_fetch(oc, &bg);
        double *ref = oc_to_double(from_logits, bg.count);
        oc_compare(oc, what, from_features, ref, bg.count, 1e-6, 1e-5);
        float head[3 * 16];
        ok = lpt_vit_get_grad(vit, "head", head, (size_t)K * Cf, &err) == LPT_OK;
        size_t nonzero = 0;
        for (int i = 0; ok && i < K * Cf; i++)
            nonzero += head[i] != 0.0f;
        oc_expect(oc, ok && nonzero == 0, what, "the head got a gradient (%zu values): %s",
                  nonzero, err.message);
        free(ref);
        free(from_features);
    }
    free(from_logits);
    lpt_vit_free(vit);
    /* without a head: FULL training through the features only */
    c.classes = 0;
    vit = lpt_vit_new(oc->be, &c, &err);
    ok = vit && lpt_vit_init_backbone(vit, 3, &err) == LPT_OK &&
         lpt_vit_forward(vit, &images, B, LPT_VIT_FULL, true, &err) == LPT_OK &&
         lpt_vit_backward_features(vit, &df, &err) == LPT_OK;
    oc_expect(oc, ok, "headless full training", "%s", err.message);
    if (vit)
        oc_expect_error(oc, "headless backward from logits",
                        lpt_vit_backward(vit, &dlogits, 0.0f, &err), &err, "no head");
    if (vit) {
        LptTensor small = lpt_tensor_view(&df, 0, 1);
        oc_expect_error(oc, "short feature gradient", lpt_vit_backward_features(vit, &small, &err),
                        &err, "feature gradient");
        oc_expect_error(oc, "headless phase 1", lpt_vit_forward(vit, &images, B, LPT_VIT_PHASE1,
                                                               true, &err),
                        &err, "needs a head");
    }
    lpt_vit_free(vit);
    oc_reset(oc);
}

/* The figures lpt_vit.h states, and that a training layout needs more than inference. */
static void check_memory(OpCheck *oc)
{
    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.classes = 100;
    size_t train1 = lpt_vit_activation_bytes(&c, 1, LPT_VIT_PHASE1, true);
    size_t train8 = lpt_vit_activation_bytes(&c, 8, LPT_VIT_PHASE1, true);
    size_t train2 = lpt_vit_activation_bytes(&c, 1, LPT_VIT_PHASE2, true);
    size_t infer1 = lpt_vit_activation_bytes(&c, 1, LPT_VIT_PHASE1, false);
    size_t infer2 = lpt_vit_activation_bytes(&c, 1, LPT_VIT_PHASE2, false);
    printf("ViT-B/16 224, P 10, R 8: activations per image: phase-1 step %.1f MiB, phase-2 "
           "step %.1f MiB, phase-1 inference %.1f MiB, phase-2 inference %.1f MiB\n",
           train1 / 1048576.0, train2 / 1048576.0, infer1 / 1048576.0, infer2 / 1048576.0);
    oc_expect(oc, infer1 < train2 && train2 < train1, "activation bytes",
              "inference %zu, phase-2 step %zu, phase-1 step %zu not increasing", infer1, train2,
              train1);
    oc_expect(oc, train8 > 7 * train1 && train8 <= 8 * train1, "activation bytes",
              "8 images need %zu bytes, 1 image %zu", train8, train1);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--fixtures") == 0)
            dir = argv[i + 1];
    if (!dir) {
        fprintf(stderr, "usage: %s --backend cpu|vulkan --fixtures DIR\n", argv[0]);
        return 1;
    }
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    check_fixture(&oc, dir, "vision");
    check_fixture(&oc, dir, "clip");
    check_full(&oc, dir, "full_vision");
    check_full(&oc, dir, "full_clip");
    check_init_backbone(&oc);
    check_bad_input(&oc);
    check_backward_features(&oc, false);
    check_backward_features(&oc, true);
    check_init(&oc);
    check_memory(&oc);
    return oc_finish(&oc, "test_vit");
}

/* test_onnx_fused.c: the fused LPT++ model's ONNX export (src/core/lpt_onnx_fused.c) checked by
 * ONNX Runtime against our own forward, on one backend (--backend cpu|vulkan). Arguments as
 * test_onnx.c (tests/run_test_onnx.sh passes them); without ONNX Runtime the runtime checks
 * are left out and the test exits 77 when everything else passed.
 *
 * The reference is the app's evaluation path (lpt_trainer_evaluate): each expert's
 * lpt_vit_forward on the image normalised as the loader does it (v / (255 std) - mean / std
 * from the pixel bytes v), p_e = softmax(20 cos) in double, the scorer's input row from
 * lpt_scorer_build_input and lpt_scorer_forward (alpha and the fused p), or the mean of the
 * experts without a scorer; the prior adjust p exp(a) / sum p exp(a) in double. The ONNX file
 * gets the same images as v / 255.
 *
 * Checks, on a batch of BATCH random images:
 *  - two tiny random experts with the same input size (a vision ViT and a CLIP-style tower,
 *    both in phase 2 with prompts, adapters and a pool) and a seeded scorer whose weights are
 *    scaled up so that alpha varies between images: the checker accepts the file (input,
 *    outputs, opset, class names and the other metadata, the caller's key); ONNX Runtime's
 *    probs, expert_probs and scorer_weights match the reference within 1e-4 with no top-1
 *    flip (fused and per expert); the runner (tests/onnx_run.js, the parity helper of
 *    docs/export.md) run 3 images at a time gives what one run of all images gave;
 *  - the same with a prior adjust vector: probs match the formula applied to the reference,
 *    and to the first file's ONNX Runtime probs (within 1e-6: the adjustment is exactly the
 *    formula), the prior changes the output, the experts and alpha do not change;
 *  - a scorer with only some input parts (entropy and margin);
 *  - two experts without a scorer (the mean), and one expert alone (the VL slot: alpha 1);
 *  - refusals: experts with different input sizes or resize filters, no expert, classes that
 *    do not match, a scorer for other experts or feature widths, a non-finite prior value,
 *    metadata keys without value, repeated or reserved, an expert never trained, missing
 *    class names: each a message naming the fault and the file, the target untouched.
 */
#include "onnx_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_onnx.h"
#include "lpt_scorer.h"
#include "lpt_vit.h"

#define BATCH 8
#define CLASSES 6
#define IMAGE 16
#define PROB_TOL 1e-4
#define PRIOR_TOL 1e-6 /* the same graph's outputs computed twice */

static const char *const class_names[CLASSES] = {"good", "scratch", "dent", "crack", "ねじ不良",
                                                 "stain"};
static const char *const user_meta[] = {"lpt_studio.run", "7", NULL};

/* The two experts, the same input size and classes. */
typedef struct Models {
    LptVit *vit[LPT_STORE_NUM_EXPERTS];
    LptOnnxExpertOptions opt[LPT_STORE_NUM_EXPERTS];
} Models;

static bool make_models(OpCheck *oc, Models *m)
{
    LptVitConfig cfg[2] = {ot_vision_config(), ot_clip_config()};
    for (int e = 0; e < 2; e++) {
        cfg[e].image = IMAGE;
        cfg[e].classes = CLASSES;
        m->vit[e] = ot_make_model(oc, &cfg[e], true);
        lpt_onnx_expert_options_init(&m->opt[e], &cfg[e]);
    }
    return m->vit[0] && m->vit[1];
}

/* What the app's path gives for the images (host copies). */
typedef struct Ref {
    int E;
    float *expert_probs; /* [N, E, K] */
    float *weights;      /* [N, E] */
    float *fused;        /* [N, K] */
} Ref;

static void ref_free(Ref *r)
{
    free(r->expert_probs);
    free(r->weights);
    free(r->fused);
    memset(r, 0, sizeof *r);
}

/* Softmax of scale * cos in double, stored as float (the trainer's host_softmax). */
static void softmax_scaled(const float *z, float *p, int K, float scale)
{
    double m = z[0], sum = 0.0;
    for (int k = 1; k < K; k++)
        m = fmax(m, z[k]);
    for (int k = 0; k < K; k++)
        sum += exp((double)scale * (z[k] - m));
    for (int k = 0; k < K; k++)
        p[k] = (float)(exp((double)scale * (z[k] - m)) / sum);
}

/* The reference for the experts present in `use` (with `scorer` or the mean) on pixel bytes
 * pixels [N, 3, S, S]. */
static bool reference(OpCheck *oc, Models *m, const bool use[2], LptScorer *scorer,
                      const uint8_t *pixels, Ref *r)
{
    LptError err = {0};
    int K = CLASSES, N = BATCH, E = 0, which[2];
    for (int e = 0; e < 2; e++)
        if (use[e])
            which[E++] = e;
    memset(r, 0, sizeof *r);
    r->E = E;
    r->expert_probs = malloc((size_t)N * E * K * sizeof(float));
    r->weights = malloc((size_t)N * E * sizeof(float));
    r->fused = malloc((size_t)N * K * sizeof(float));
    float *features[2] = {NULL, NULL}, *probs[2] = {NULL, NULL};
    size_t n_img = (size_t)N * 3 * IMAGE * IMAGE, plane = (size_t)IMAGE * IMAGE;
    float *host = malloc(n_img * sizeof *host);
    bool ok = true;
    for (int s = 0; s < E && ok; s++) {
        LptVit *vit = m->vit[which[s]];
        const LptOnnxExpertOptions *eo = &m->opt[which[s]];
        for (size_t i = 0; i < n_img; i++) { /* as lpt_cpu_image normalises */
            int c = (int)(i / plane % 3);
            float a = (float)(1.0 / (255.0 * eo->std[c]));
            float b = (float)(-(double)eo->mean[c] / eo->std[c]);
            host[i] = (float)pixels[i] * a + b;
        }
        LptTensor images = oc_tensor(oc, "images", LPT_F32, n_img, host);
        ok = oc_expect(oc, lpt_vit_forward(vit, &images, N, eo->mode, false, &err) == LPT_OK,
                       "reference", "forward: %s", err.message);
        if (!ok)
            break;
        features[s] = oc_fetch(oc, lpt_vit_features(vit));
        float *logits = oc_fetch(oc, lpt_vit_logits(vit));
        probs[s] = malloc((size_t)N * K * sizeof(float));
        for (int b = 0; b < N; b++) {
            softmax_scaled(logits + (size_t)b * K, probs[s] + (size_t)b * K, K, eo->prob_scale);
            memcpy(r->expert_probs + ((size_t)b * E + s) * K, probs[s] + (size_t)b * K,
                   (size_t)K * sizeof(float));
        }
        free(logits);
    }
    if (ok && scorer) {
        const LptScorerConfig *sc = lpt_scorer_config(scorer);
        int in = lpt_scorer_input_width(sc);
        float *inputs = malloc((size_t)N * in * sizeof *inputs);
        for (int b = 0; b < N; b++) {
            const float *f[2], *p[2];
            for (int s = 0; s < E; s++) {
                f[s] = features[s] + (size_t)b * lpt_vit_feature_width(m->vit[which[s]]);
                p[s] = probs[s] + (size_t)b * K;
            }
            lpt_scorer_build_input(sc, f, p, inputs + (size_t)b * in);
        }
        ok = oc_expect(oc, lpt_scorer_forward(scorer, inputs, r->expert_probs, N, r->weights,
                                              r->fused, &err) == LPT_OK,
                       "reference", "scorer: %s", err.message);
        free(inputs);
    } else if (ok) { /* the trainer's fuse() without phase 3 */
        for (int b = 0; b < N; b++) {
            for (int s = 0; s < E; s++)
                r->weights[(size_t)b * E + s] = 1.0f / E;
            for (int k = 0; k < K; k++) {
                double sum = 0.0;
                for (int s = 0; s < E; s++)
                    sum += r->expert_probs[((size_t)b * E + s) * K + k];
                r->fused[(size_t)b * K + k] = (float)(sum / E);
            }
        }
    }
    for (int s = 0; s < 2; s++) {
        free(features[s]);
        free(probs[s]);
    }
    free(host);
    oc_reset(oc);
    if (!ok)
        ref_free(r);
    return ok;
}

/* p exp(a) / sum_k p_k exp(a_k) per row, in double. */
static void apply_prior(const float *p, const float *adjust, double *out)
{
    for (int b = 0; b < BATCH; b++) {
        double sum = 0.0;
        for (int k = 0; k < CLASSES; k++)
            sum += p[(size_t)b * CLASSES + k] * exp((double)adjust[k]);
        for (int k = 0; k < CLASSES; k++)
            out[(size_t)b * CLASSES + k] =
                p[(size_t)b * CLASSES + k] * exp((double)adjust[k]) / sum;
    }
}

/* Largest |got - want| (NaN: infinite) and top-1 disagreements over `rows` rows of `n`. */
static double compare(const float *got, const double *want, int rows, int n, int *flips)
{
    double worst = 0.0;
    *flips = 0;
    for (int b = 0; b < rows; b++) {
        for (int k = 0; k < n; k++) {
            double d = fabs(got[(size_t)b * n + k] - want[(size_t)b * n + k]);
            worst = isnan(d) ? INFINITY : fmax(worst, d);
        }
        *flips += ot_argmax_f(got + (size_t)b * n, n) != ot_argmax_d(want + (size_t)b * n, n);
    }
    return worst;
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* The checker's view: input image [N, 3, S, S], the three outputs, opset 17, class names,
 * the preprocessing, experts, fusion and caller's metadata. */
static void check_structure(OpCheck *oc, OtEnv *env, const char *model, int E, bool prior,
                            const char *fusion, const char *what)
{
    cJSON *j = ot_checker_report(oc, env, model, what);
    if (!j)
        return;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "opsets"), "");
    oc_expect(oc, cJSON_IsNumber(def) && def->valueint == 17, what, "opset is not 17");
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(j, "inputs");
    const cJSON *in = cJSON_GetArrayItem(ins, 0);
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(in, "dims");
    oc_expect(oc, cJSON_GetArraySize(ins) == 1 &&
                      strcmp(ot_str(cJSON_GetStringValue(
                                 cJSON_GetObjectItemCaseSensitive(in, "name"))),
                             "image") == 0 &&
                      cJSON_GetArraySize(dims) == 4 &&
                      cJSON_IsString(cJSON_GetArrayItem(dims, 0)) &&
                      cJSON_GetArrayItem(dims, 1)->valueint == 3 &&
                      cJSON_GetArrayItem(dims, 3)->valueint == IMAGE,
              what, "input is not image [N, 3, %d, %d]", IMAGE, IMAGE);
    static const char *const names[3] = {"probs", "expert_probs", "scorer_weights"};
    const int ranks[3] = {2, 3, 2}, last[3] = {CLASSES, CLASSES, E};
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(j, "outputs");
    bool ok = cJSON_GetArraySize(outs) == 3;
    for (int i = 0; i < 3 && ok; i++) {
        const cJSON *o = cJSON_GetArrayItem(outs, i);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dims");
        ok = strcmp(ot_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"))),
                    names[i]) == 0 &&
             cJSON_GetArraySize(d) == ranks[i] &&
             cJSON_GetArrayItem(d, ranks[i] - 1)->valueint == last[i];
    }
    oc_expect(oc, ok, what, "outputs are not probs [N, K], expert_probs [N, E, K], "
                            "scorer_weights [N, E]");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    const char *classes = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "classes"));
    cJSON *cl = classes ? cJSON_Parse(classes) : NULL;
    ok = cJSON_GetArraySize(cl) == CLASSES;
    for (int k = 0; k < CLASSES && ok; k++)
        ok = strcmp(ot_str(cJSON_GetStringValue(cJSON_GetArrayItem(cl, k))), class_names[k]) ==
             0;
    cJSON_Delete(cl);
    oc_expect(oc, ok, what, "metadata 'classes' is not the class names: %s", ot_str(classes));
    const char *pre =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "preprocessing"));
    oc_expect(oc, pre && strstr(pre, "\"formula\":\"pixel / 255\"") && strstr(pre, "\"size\":16"),
              what, "metadata 'preprocessing' is %s", ot_str(pre));
    const char *ex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "lpt.experts"));
    cJSON *exj = ex ? cJSON_Parse(ex) : NULL;
    oc_expect(oc, cJSON_GetArraySize(exj) == E &&
                      cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(exj, 0), "mean"),
              what, "metadata 'lpt.experts' is %s", ot_str(ex));
    cJSON_Delete(exj);
    const char *fu = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "lpt.fusion"));
    oc_expect(oc, fu && strstr(fu, fusion), what, "metadata 'lpt.fusion' is %s, want %s",
              ot_str(fu), fusion);
    oc_expect(oc, (cJSON_GetObjectItemCaseSensitive(meta, "lpt.prior_adjust") != NULL) == prior,
              what, "metadata 'lpt.prior_adjust' %s", prior ? "missing" : "present");
    const char *run = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta,
                                                                           "lpt_studio.run"));
    oc_expect(oc, run && strcmp(run, "7") == 0, what, "the caller's metadata is missing");
    cJSON_Delete(j);
}

/* ONNX Runtime's outputs of one file. */
typedef struct Got {
    float *probs, *expert_probs, *weights;
} Got;

static void got_free(Got *g)
{
    free(g->probs);
    free(g->expert_probs);
    free(g->weights);
    memset(g, 0, sizeof *g);
}

/* Reads the three outputs of the last run (NULL members when one is missing). */
static bool read_got(OpCheck *oc, OtEnv *env, int E, const char *what, Got *got)
{
    got->probs = ot_read_output(oc, env, "probs", (size_t)BATCH * CLASSES, 4, what);
    got->expert_probs =
        ot_read_output(oc, env, "expert_probs", (size_t)BATCH * E * CLASSES, 4, what);
    got->weights = ot_read_output(oc, env, "scorer_weights", (size_t)BATCH * E, 4, what);
    if (got->probs && got->expert_probs && got->weights)
        return true;
    got_free(got);
    return false;
}

/* Exports `opt` to <dir>/<file>.onnx, checks it and runs it; false when nothing ran. */
static bool export_and_run(OpCheck *oc, OtEnv *env, const LptOnnxFusedOptions *opt, int E,
                           const char *fusion, const char *file, const float *input, Got *got)
{
    LptError err = {0};
    char model[128];
    snprintf(model, sizeof model, "%s/%s.onnx", env->dir, file);
    memset(got, 0, sizeof *got);
    if (!oc_expect(oc, lpt_onnx_export_fused(opt, model, &err) == LPT_OK, file, "export: %s",
                   err.message))
        return false;
    check_structure(oc, env, model, E, opt->prior_adjust != NULL, fusion, file);
    if (!env->ort)
        return false;
    int64_t dims[4] = {BATCH, 3, IMAGE, IMAGE};
    if (!ot_run_ort(oc, env, model, input, dims, 0, file))
        return false;
    return read_got(oc, env, E, file, got);
}

/* The runner in chunks of 3 images (as a parity check of a whole test split runs it) gives
 * what one run of all images gave. */
static void check_chunked(OpCheck *oc, OtEnv *env, const Got *whole, const float *input)
{
    char model[128];
    snprintf(model, sizeof model, "%s/fused.onnx", env->dir);
    int64_t dims[4] = {BATCH, 3, IMAGE, IMAGE};
    Got g;
    memset(&g, 0, sizeof g);
    if (!ot_run_ort(oc, env, model, input, dims, 3, "runner in chunks") ||
        !read_got(oc, env, 2, "runner in chunks", &g))
        return;
    double d = fmax(ot_max_diff(g.probs, whole->probs, (size_t)BATCH * CLASSES),
                    fmax(ot_max_diff(g.expert_probs, whole->expert_probs,
                                     (size_t)BATCH * 2 * CLASSES),
                         ot_max_diff(g.weights, whole->weights, (size_t)BATCH * 2)));
    oc_expect(oc, d <= PRIOR_TOL, "runner in chunks", "outputs differ by %g from one run", d);
    got_free(&g);
}

/* Compares ONNX Runtime's three outputs with the reference (fused probs prior-adjusted by
 * `adjust` when not NULL); prints the figures. */
static void expect_match(OpCheck *oc, const Got *got, const Ref *r, const float *adjust,
                         const char *what)
{
    int E = r->E, fused_flips = 0, expert_flips = 0, weight_flips = 0;
    double *want = malloc((size_t)BATCH * CLASSES * sizeof *want);
    if (adjust) {
        apply_prior(r->fused, adjust, want);
    } else {
        for (size_t i = 0; i < (size_t)BATCH * CLASSES; i++)
            want[i] = r->fused[i];
    }
    double *ep = to_double(r->expert_probs, (size_t)BATCH * E * CLASSES);
    double *w = to_double(r->weights, (size_t)BATCH * E);
    double dp = compare(got->probs, want, BATCH, CLASSES, &fused_flips);
    double de = compare(got->expert_probs, ep, BATCH * E, CLASSES, &expert_flips);
    double dw = compare(got->weights, w, BATCH, E, &weight_flips);
    printf("%s: ONNX Runtime vs lpt [%s], %d images: max |d prob| %.3g (flips %d), max |d "
           "expert prob| %.3g (flips %d), max |d scorer weight| %.3g\n",
           what, oc->backend, BATCH, dp, fused_flips, de, expert_flips, dw);
    oc_expect(oc, dp <= PROB_TOL, what, "max |d prob| %g > %g", dp, PROB_TOL);
    oc_expect(oc, de <= PROB_TOL, what, "max |d expert prob| %g > %g", de, PROB_TOL);
    oc_expect(oc, dw <= PROB_TOL, what, "max |d scorer weight| %g > %g", dw, PROB_TOL);
    oc_expect(oc, fused_flips == 0 && expert_flips == 0, what,
              "top-1 flips: %d fused, %d per expert", fused_flips, expert_flips);
    free(want);
    free(ep);
    free(w);
}

static void fused_options(LptOnnxFusedOptions *o, Models *m, const bool use[2],
                          LptScorer *scorer)
{
    memset(o, 0, sizeof *o);
    for (int e = 0; e < 2; e++) {
        o->experts[e] = use[e] ? m->vit[e] : NULL;
        o->expert_opt[e] = m->opt[e];
    }
    o->scorer = scorer;
    o->class_names = class_names;
    o->classes = CLASSES;
    o->metadata = user_meta;
}

/* A scorer for both experts, seeded, its weights scaled by `gain` (so alpha varies). */
static LptScorer *make_scorer(OpCheck *oc, Models *m, bool feature, bool max, bool entropy,
                              bool margin, int hidden, float gain)
{
    LptError err = {0};
    LptScorerConfig sc = {0};
    sc.experts = 2;
    for (int e = 0; e < 2; e++)
        sc.feature_dims[e] = lpt_vit_feature_width(m->vit[e]);
    sc.classes = CLASSES;
    sc.hidden = hidden;
    sc.input_feature = feature;
    sc.input_max = max;
    sc.input_entropy = entropy;
    sc.input_margin = margin;
    sc.max_batch = BATCH;
    LptScorer *s = lpt_scorer_new(oc->be, &sc, &err);
    if (!oc_expect(oc, s != NULL, "scorer", "new: %s", err.message))
        return NULL;
    size_t n = lpt_scorer_param_count(s);
    float *p = malloc(n * sizeof *p), *zero = calloc(n, sizeof *zero);
    LptStatus st = lpt_scorer_init(s, 11, &err);
    if (st == LPT_OK)
        st = lpt_scorer_get_state(s, p, NULL, NULL, &err);
    for (size_t i = 0; i < n; i++)
        p[i] *= gain;
    if (st == LPT_OK)
        st = lpt_scorer_set_state(s, p, zero, zero, &err);
    free(p);
    free(zero);
    if (!oc_expect(oc, st == LPT_OK, "scorer", "init: %s", err.message)) {
        lpt_scorer_free(s);
        return NULL;
    }
    return s;
}

/* ---- the exports ------------------------------------------------------------------------ */

static void check_fused(OpCheck *oc, OtEnv *env, Models *m, const uint8_t *pixels,
                        const float *input)
{
    const bool both[2] = {true, true}, vl_only[2] = {false, true};
    LptScorer *scorer = make_scorer(oc, m, true, true, true, true, 32, 4.0f);
    LptScorer *partial = make_scorer(oc, m, false, false, true, true, 8, 4.0f);
    if (!scorer || !partial)
        goto done;
    LptOnnxFusedOptions o;
    Ref r;
    Got plain, adjusted, g;

    /* both experts and the scorer */
    fused_options(&o, m, both, scorer);
    if (!reference(oc, m, both, scorer, pixels, &r))
        goto done;
    double spread = 0.0;
    for (int i = 0; i < BATCH * 2; i++)
        spread = fmax(spread, fabs(r.weights[i] - 0.5));
    oc_expect(oc, spread > 0.05, "scorer", "alpha stays within %g of 1/2: the test does not "
                                           "exercise the scorer", spread);
    bool ran = export_and_run(oc, env, &o, 2, "\"scorer\"", "fused", input, &plain);
    if (ran) {
        expect_match(oc, &plain, &r, NULL, "two experts + scorer");
        check_chunked(oc, env, &plain, input);
    }

    /* the same with a prior adjust: exactly the formula */
    const float adjust[CLASSES] = {-1.5f, 0.0f, 2.0f, 0.5f, -0.25f, 3.0f};
    o.prior_adjust = adjust;
    if (export_and_run(oc, env, &o, 2, "\"scorer\"", "fused_prior", input, &adjusted)) {
        expect_match(oc, &adjusted, &r, adjust, "two experts + scorer + prior");
        if (ran) {
            double *want = malloc((size_t)BATCH * CLASSES * sizeof *want);
            apply_prior(plain.probs, adjust, want);
            int flips = 0;
            double d = compare(adjusted.probs, want, BATCH, CLASSES, &flips);
            double moved = ot_max_diff(adjusted.probs, plain.probs, (size_t)BATCH * CLASSES);
            double same = fmax(ot_max_diff(adjusted.expert_probs, plain.expert_probs,
                                           (size_t)BATCH * 2 * CLASSES),
                               ot_max_diff(adjusted.weights, plain.weights, (size_t)BATCH * 2));
            printf("prior adjust: max |probs - normalise(unadjusted probs exp(a))| %.3g; the "
                   "prior moves probs by up to %.3g\n", d, moved);
            oc_expect(oc, d <= PRIOR_TOL, "prior", "max |d| %g from the formula > %g", d,
                      PRIOR_TOL);
            oc_expect(oc, moved > 0.05, "prior", "the prior moves probs by only %g", moved);
            oc_expect(oc, same <= PRIOR_TOL, "prior", "expert probs or weights changed by %g", same);
            free(want);
        }
        got_free(&adjusted);
    }
    got_free(&plain);
    ref_free(&r);
    o.prior_adjust = NULL;

    /* a scorer reading only entropy and margin */
    o.scorer = partial;
    if (reference(oc, m, both, partial, pixels, &r)) {
        if (export_and_run(oc, env, &o, 2, "[\"entropy\",\"margin\"]", "fused_partial", input,
                           &g))
            expect_match(oc, &g, &r, NULL, "two experts + scorer (entropy, margin)");
        got_free(&g);
        ref_free(&r);
    }

    /* no scorer: the mean */
    o.scorer = NULL;
    if (reference(oc, m, both, NULL, pixels, &r)) {
        if (export_and_run(oc, env, &o, 2, "\"mean\"", "fused_mean", input, &g))
            expect_match(oc, &g, &r, NULL, "two experts, mean");
        got_free(&g);
        ref_free(&r);
    }

    /* one expert alone */
    fused_options(&o, m, vl_only, NULL);
    if (reference(oc, m, vl_only, NULL, pixels, &r)) {
        if (export_and_run(oc, env, &o, 1, "\"single\"", "fused_vl", input, &g)) {
            expect_match(oc, &g, &r, NULL, "the VL expert alone");
            bool ones = true;
            for (int b = 0; b < BATCH; b++)
                ones = ones && g.weights[b] == 1.0f;
            oc_expect(oc, ones, "one expert", "scorer_weights are not all 1");
        }
        got_free(&g);
        ref_free(&r);
    }
done:
    lpt_scorer_free(scorer);
    lpt_scorer_free(partial);
    oc_reset(oc);
}

/* ---- bad input -------------------------------------------------------------------------- */

/* The export fails with a message containing `needle` and the file's name; `path` keeps its
 * earlier content and no temporary file is left. */
static void expect_refused(OpCheck *oc, OtEnv *env, const LptOnnxFusedOptions *o,
                           const char *path, const char *needle, const char *what)
{
    static const char *old = "an earlier export";
    tu_write_file(path, old, strlen(old));
    LptError err = {0};
    LptStatus st = lpt_onnx_export_fused(o, path, &err);
    oc_expect(oc, st != LPT_OK && err.code == st, what, "accepted (status %d)", (int)st);
    oc_expect(oc, strstr(err.message, needle) && strstr(err.message, path), what,
              "message '%s' lacks '%s' or the file name", err.message, needle);
    size_t n = 0;
    char *text = tu_read_file(path, &n);
    oc_expect(oc, text && strcmp(text, old) == 0, what, "the existing file was changed");
    free(text);
    oc_expect(oc, ot_count_entries(env->dir, ".tmp-") == 0, what, "a temporary file was left");
    unlink(path);
}

static void check_bad_input(OpCheck *oc, OtEnv *env, Models *m)
{
    const bool both[2] = {true, true}, vision_only[2] = {true, false};
    char path[128];
    snprintf(path, sizeof path, "%s/refused.onnx", env->dir);
    LptOnnxFusedOptions o;
    LptScorer *scorer = make_scorer(oc, m, true, true, true, true, 8, 1.0f);

    LptVitConfig small = ot_clip_config();
    small.classes = CLASSES; /* image 12: not the vision expert's 16 */
    LptVit *other = ot_make_model(oc, &small, true);
    fused_options(&o, m, both, NULL);
    o.experts[LPT_STORE_EXPERT_VL] = other;
    expect_refused(oc, env, &o, path, "different input sizes (vision 16 x 16, vl 12 x 12)",
                   "input sizes differ");
    lpt_vit_free(other);

    fused_options(&o, m, both, NULL);
    o.expert_opt[LPT_STORE_EXPERT_VL].interp = LPT_INTERP_BICUBIC;
    expect_refused(oc, env, &o, path, "different filters", "resize filters differ");

    fused_options(&o, m, both, NULL);
    o.experts[0] = o.experts[1] = NULL;
    expect_refused(oc, env, &o, path, "no expert", "no expert");

    fused_options(&o, m, both, NULL);
    o.classes = CLASSES - 1;
    expect_refused(oc, env, &o, path, "the vision expert has 6 classes, the model 5",
                   "classes differ");

    fused_options(&o, m, both, NULL);
    o.class_names = NULL;
    expect_refused(oc, env, &o, path, "no class names", "no class names");

    fused_options(&o, m, vision_only, scorer);
    expect_refused(oc, env, &o, path, "the scorer fuses 2 experts, the model has 1",
                   "scorer for two experts, one present");

    if (scorer) { /* the experts swapped: widths 16 and 32 where the scorer takes 32 and 16 */
        Models swapped = *m;
        swapped.vit[0] = m->vit[1];
        swapped.vit[1] = m->vit[0];
        fused_options(&o, &swapped, both, scorer);
        o.expert_opt[0] = m->opt[0];
        o.expert_opt[1] = m->opt[1];
        expect_refused(oc, env, &o, path, "takes features of width 32, the vision expert gives 16",
                       "scorer feature widths");
    }

    fused_options(&o, m, both, scorer);
    float adjust[CLASSES] = {0, 0, NAN, 0, 0, 0};
    o.prior_adjust = adjust;
    expect_refused(oc, env, &o, path, "prior adjust of class 2 ('dent')", "NaN prior");

    fused_options(&o, m, both, NULL);
    const char *const no_value[] = {"note", NULL};
    o.metadata = no_value;
    expect_refused(oc, env, &o, path, "metadata key 'note' has no value", "metadata no value");
    const char *const reserved[] = {"lpt.fusion", "x", NULL};
    o.metadata = reserved;
    expect_refused(oc, env, &o, path, "'lpt.fusion' is one the export writes", "reserved key");
    const char *const twice[] = {"a", "1", "a", "2", NULL};
    o.metadata = twice;
    expect_refused(oc, env, &o, path, "metadata key 'a' is given twice", "repeated key");

    LptVitConfig cfg = ot_clip_config();
    cfg.image = IMAGE;
    cfg.classes = CLASSES;
    LptVit *untrained = ot_make_model(oc, &cfg, false);
    fused_options(&o, m, both, NULL);
    o.experts[LPT_STORE_EXPERT_VL] = untrained;
    expect_refused(oc, env, &o, path, "the vl expert: head row 0 is all zero",
                   "untrained expert");
    lpt_vit_free(untrained);

    LptError err = {0};
    fused_options(&o, m, both, NULL);
    oc_expect_error(oc, "no path", lpt_onnx_export_fused(&o, "", &err), &err, "path");
    oc_expect_error(oc, "no options", lpt_onnx_export_fused(NULL, path, &err), &err, "options");
    lpt_scorer_free(scorer);
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OtEnv env;
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    if (!ot_env_init(&env, argc, argv))
        return 1;
    Models m;
    memset(&m, 0, sizeof m);
    if (make_models(&oc, &m)) {
        size_t n = (size_t)BATCH * 3 * IMAGE * IMAGE;
        uint8_t *pixels = malloc(n);
        float *input = malloc(n * sizeof *input);
        for (size_t i = 0; i < n; i++) {
            pixels[i] = (uint8_t)oc_uniform(&oc, 0.0f, 255.999f);
            input[i] = pixels[i] / 255.0f;
        }
        check_fused(&oc, &env, &m, pixels, input);
        check_bad_input(&oc, &env, &m);
        free(pixels);
        free(input);
    }
    for (int e = 0; e < 2; e++)
        lpt_vit_free(m.vit[e]);
    return ot_env_finish(&env, oc_finish(&oc, "test_onnx_fused"));
}

/* lpt_onnx_fused.c: the whole fused LPT++ model as one ONNX graph (see lpt_onnx.h): the
 * input's normalisation per expert, each expert's graph (lpt_onnx_emit_expert, the code the
 * one-expert export uses), the experts' confidences, the MoE scorer's input row and network,
 * the fusion, the prior adjustment, the checks and the metadata.
 *
 * Constants derived at export (1 / std, -mean / std, exp(adjust - max adjust), the
 * transposed scorer weights) are computed in double and rounded once.
 */
#include "lpt_onnx.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_onnx_impl.h"

#ifndef LPT_VERSION
#define LPT_VERSION "unknown"
#endif

#define NORM_EPS 1e-12f /* lpt_scorer_build_input's clamp of a feature's norm */
#define META_OWN 5      /* classes, preprocessing, lpt.experts, lpt.fusion, lpt.prior_adjust */

/* The export's state: which experts are present (in LptStoreExpert order) and their values. */
typedef struct Fx {
    LptOnnxGraph *g;
    const LptOnnxFusedOptions *opt;
    int E, K;
    LptStoreExpert which[LPT_STORE_NUM_EXPERTS]; /* [E] */
    LptOnnxExpertValues values[LPT_STORE_NUM_EXPERTS];
    const char *probs[LPT_STORE_NUM_EXPERTS]; /* [N, K] each expert's confidences */
    const char *batch;                        /* [1] int64: N */
} Fx;

/* ---- small helpers ------------------------------------------------------------------- */

static const char *op1(Fx *f, const char *op, const char *a)
{
    return lpt_onnx_op(f->g, op, (const char *[]){a}, 1, NULL, 0);
}

static const char *op2(Fx *f, const char *op, const char *a, const char *b)
{
    return lpt_onnx_op(f->g, op, (const char *[]){a, b}, 2, NULL, 0);
}

static const char *const_f32(Fx *f, const char *what, const int64_t *dims, int rank,
                             const float *data)
{
    return lpt_onnx_const_f32(f->g, lpt_onnx_graph_name(f->g, what), dims, rank, data);
}

/* An int64 vector [n] called "<scope>/<what>". */
static const char *ints(Fx *f, const char *what, const int64_t *v, int n)
{
    int64_t dims[1] = {n};
    return lpt_onnx_const_i64(f->g, lpt_onnx_graph_name(f->g, what), dims, 1, v);
}

/* Columns [c0, c0 + 1) of x [N, k]: [N, 1]. */
static const char *column(Fx *f, const char *x, int c0, const char *axis1)
{
    int64_t start = c0, end = c0 + 1;
    char what[32];
    snprintf(what, sizeof what, "col%d.start", c0);
    const char *s = ints(f, what, &start, 1);
    snprintf(what, sizeof what, "col%d.end", c0);
    const char *e = ints(f, what, &end, 1);
    return lpt_onnx_op(f->g, "Slice", (const char *[]){x, s, e, axis1}, 4, NULL, 0);
}

/* A node whose (single) output gets the chosen name `out`. */
static const char *named(Fx *f, const char *op, const char *const *in, int n_in,
                         const char *out, const LptOnnxAttr *attrs, int n_attrs)
{
    return lpt_onnx_node(f->g, op, in, n_in, &out, 1, attrs, n_attrs);
}

/* ---- the graph ---------------------------------------------------------------------------- */

/* The expert's input: image / std - mean / std per channel ([1, 3, 1, 1] constants). */
static const char *normalise_input(Fx *f, const LptOnnxExpertOptions *eo, const char *image)
{
    float scale[3], shift[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = (float)(1.0 / (double)eo->std[c]);
        shift[c] = (float)(-(double)eo->mean[c] / (double)eo->std[c]);
    }
    int64_t dims[4] = {1, 3, 1, 1};
    const char *a = const_f32(f, "inv_std", dims, 4, scale);
    const char *b = const_f32(f, "minus_mean_over_std", dims, 4, shift);
    return op2(f, "Add", op2(f, "Mul", image, a), b);
}

/* The scorer's input parts of expert slot s, as lpt_scorer_build_input builds them, into
 * parts[*n]: the normalised feature [N, C'], max p, entropy -sum p log p, top-1 - top-2
 * ([N, 1] each). */
static void scorer_parts(Fx *f, const LptScorerConfig *sc, int s, const char **parts, int *n)
{
    const char *p = f->probs[s];
    const char *name = lpt_store_expert_name(f->which[s]);
    lpt_onnx_graph_scope(f->g, "scorer/input.%s", name);
    if (sc->input_feature) {
        float eps = NORM_EPS;
        const char *e = const_f32(f, "norm_eps", NULL, 0, &eps);
        parts[(*n)++] = lpt_onnx_l2_normalise(f->g, f->values[s].features, e);
    }
    if (!sc->input_max && !sc->input_entropy && !sc->input_margin)
        return;
    int64_t one = 1, k = f->K >= 2 ? 2 : 1;
    const char *axis1 = ints(f, "axis1", &one, 1);
    const char *top[2] = {NULL, NULL};
    LptOnnxAttr a[3] = {LPT_ONNX_ATTR_I("axis", -1), LPT_ONNX_ATTR_I("largest", 1),
                        LPT_ONNX_ATTR_I("sorted", 1)};
    lpt_onnx_node(f->g, "TopK", (const char *[]){p, ints(f, "top_k", &k, 1)}, 2, top, 2, a, 3);
    const char *top1 = column(f, top[0], 0, axis1);
    if (sc->input_max)
        parts[(*n)++] = top1;
    if (sc->input_entropy) { /* p log max(p, FLT_MIN): 0 where p is 0, as the app skips it */
        float tiny = FLT_MIN;
        int64_t last = -1;
        const char *lp = op1(f, "Log", op2(f, "Max", p, const_f32(f, "tiny", NULL, 0, &tiny)));
        LptOnnxAttr keep = LPT_ONNX_ATTR_I("keepdims", 1);
        const char *sum = lpt_onnx_op(f->g, "ReduceSum",
                                      (const char *[]){op2(f, "Mul", p, lp),
                                                       ints(f, "last_axis", &last, 1)},
                                      2, &keep, 1);
        parts[(*n)++] = op1(f, "Neg", sum);
    }
    if (sc->input_margin) /* top-2 is 0 with one class, as the app takes it */
        parts[(*n)++] = f->K >= 2 ? op2(f, "Sub", top1, column(f, top[0], 1, axis1)) : top1;
}

/* The scorer: input row, Linear, GELU, Linear, softmax = alpha [N, E], named `out`. */
static LptStatus scorer_graph(Fx *f, const char *out, LptError *err)
{
    LptScorer *scorer = f->opt->scorer;
    const LptScorerConfig *sc = lpt_scorer_config(scorer);
    int H = sc->hidden, in = lpt_scorer_input_width(sc), E = f->E;
    float *w1 = malloc((size_t)H * in * sizeof *w1), *b1 = malloc((size_t)H * sizeof *b1);
    float *w2 = malloc((size_t)E * H * sizeof *w2), *b2 = malloc((size_t)E * sizeof *b2);
    LptStatus st = w1 && b1 && w2 && b2 ? LPT_OK
                                        : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                                        "out of host memory");
    if (st == LPT_OK)
        st = lpt_scorer_get_weights(scorer, w1, b1, w2, b2, err);
    if (st == LPT_OK) {
        const char *parts[LPT_STORE_NUM_EXPERTS * 4];
        int n = 0;
        for (int s = 0; s < E; s++)
            scorer_parts(f, sc, s, parts, &n);
        lpt_onnx_graph_scope(f->g, "scorer");
        LptOnnxAttr axis1 = LPT_ONNX_ATTR_I("axis", 1);
        const char *x = n > 1 ? lpt_onnx_op(f->g, "Concat", parts, n, &axis1, 1) : parts[0];
        int64_t d_h[1] = {H}, d_e[1] = {E};
        const char *k[3];
        lpt_onnx_gelu_consts(f->g, k);
        const char *h = lpt_onnx_linear(f->g, x, lpt_onnx_const_linear(f->g, "fc1.weight", w1,
                                                                       H, in),
                                        const_f32(f, "fc1.bias", d_h, 1, b1));
        const char *z = lpt_onnx_linear(f->g, lpt_onnx_gelu(f->g, h, k),
                                        lpt_onnx_const_linear(f->g, "fc2.weight", w2, E, H),
                                        const_f32(f, "fc2.bias", d_e, 1, b2));
        LptOnnxAttr last = LPT_ONNX_ATTR_I("axis", -1);
        named(f, "Softmax", &z, 1, out, &last, 1);
    }
    free(w1);
    free(b1);
    free(w2);
    free(b2);
    return st;
}

/* Without a scorer: alpha_e = 1 / E for every image, [N, E], named `out`. */
static void mean_weights(Fx *f, const char *out)
{
    lpt_onnx_graph_scope(f->g, "fusion");
    float w[LPT_STORE_NUM_EXPERTS];
    for (int s = 0; s < f->E; s++)
        w[s] = 1.0f / (float)f->E;
    int64_t dims[2] = {1, f->E}, e = f->E;
    const char *row = const_f32(f, "mean_weights", dims, 2, w);
    LptOnnxAttr axis0 = LPT_ONNX_ATTR_I("axis", 0);
    const char *shape = lpt_onnx_op(f->g, "Concat",
                                    (const char *[]){f->batch, ints(f, "experts", &e, 1)}, 2,
                                    &axis0, 1);
    named(f, "Expand", (const char *[]){row, shape}, 2, out, NULL, 0);
}

/* probs = p exp(a - max a) / sum_k (p_k exp(a_k - max a)) ([N, K], named `out`). */
static void prior_adjust(Fx *f, const char *fused, const char *out)
{
    lpt_onnx_graph_scope(f->g, "prior");
    const float *a = f->opt->prior_adjust;
    double top = a[0];
    for (int k = 1; k < f->K; k++)
        top = fmax(top, a[k]);
    float *w = malloc((size_t)f->K * sizeof *w);
    if (w)
        for (int k = 0; k < f->K; k++)
            w[k] = (float)exp((double)a[k] - top);
    int64_t dims[1] = {f->K}, last = -1;
    const char *q = op2(f, "Mul", fused, w ? const_f32(f, "exp_adjust", dims, 1, w) : NULL);
    free(w);
    LptOnnxAttr keep = LPT_ONNX_ATTR_I("keepdims", 1);
    const char *sum = lpt_onnx_op(f->g, "ReduceSum",
                                  (const char *[]){q, ints(f, "last_axis", &last, 1)}, 2, &keep,
                                  1);
    named(f, "Div", (const char *[]){q, sum}, 2, out, NULL, 0);
}

/* The whole graph on the input "image". */
static LptStatus build(Fx *f, LptError *err)
{
    LptOnnxGraph *g = f->g;
    const LptVitConfig *cfg0 = lpt_vit_config(f->opt->experts[f->which[0]]);
    int64_t in_dims[4] = {-1, 3, cfg0->image, cfg0->image};
    lpt_onnx_graph_input(g, "image", LPT_ONNX_FLOAT, in_dims, 4);
    lpt_onnx_graph_scope(g, "input");
    LptOnnxAttr range[2] = {LPT_ONNX_ATTR_I("start", 0), LPT_ONNX_ATTR_I("end", 1)};
    f->batch = lpt_onnx_op(g, "Shape", (const char *[]){"image"}, 1, range, 2);
    for (int s = 0; s < f->E; s++) {
        LptStoreExpert e = f->which[s];
        const LptOnnxExpertOptions *eo = &f->opt->expert_opt[e];
        const char *name = lpt_store_expert_name(e);
        lpt_onnx_graph_scope(g, "%s/input", name);
        const char *x = normalise_input(f, eo, "image");
        LptStatus st = lpt_onnx_emit_expert(g, f->opt->experts[e], eo->mode, name, x,
                                            &f->values[s], err);
        if (st != LPT_OK)
            return lpt_error_prefix(err, "the %s expert", name);
        lpt_onnx_graph_scope(g, "%s/probs", name);
        const char *scale = const_f32(f, "scale", NULL, 0, &eo->prob_scale);
        f->probs[s] = lpt_onnx_softmax(g, op2(f, "Mul", f->values[s].logits, scale));
    }

    lpt_onnx_graph_scope(g, "fusion");
    int64_t one = 1;
    const char *axis1 = ints(f, "axis1", &one, 1);
    const char *rows[LPT_STORE_NUM_EXPERTS];
    for (int s = 0; s < f->E; s++) /* [N, 1, K] */
        rows[s] = f->E > 1 ? op2(f, "Unsqueeze", f->probs[s], axis1) : NULL;
    LptOnnxAttr cat1 = LPT_ONNX_ATTR_I("axis", 1);
    if (f->E > 1)
        named(f, "Concat", rows, f->E, "expert_probs", &cat1, 1);
    else
        named(f, "Unsqueeze", (const char *[]){f->probs[0], axis1}, 2, "expert_probs", NULL, 0);
    if (f->opt->scorer) {
        LptStatus st = scorer_graph(f, "scorer_weights", err);
        if (st != LPT_OK)
            return lpt_error_prefix(err, "the scorer");
    } else {
        mean_weights(f, "scorer_weights");
    }
    lpt_onnx_graph_scope(g, "fusion");
    /* p_b [1, K] = alpha_b [1, E] P_b [E, K], as lpt_scorer_forward's batched GEMM */
    const char *mixed = op2(f, "MatMul", op2(f, "Unsqueeze", "scorer_weights", axis1),
                            "expert_probs");
    const char *axis1b = ints(f, "squeeze_axis", &one, 1);
    if (f->opt->prior_adjust)
        prior_adjust(f, op2(f, "Squeeze", mixed, axis1b), "probs");
    else
        named(f, "Squeeze", (const char *[]){mixed, axis1b}, 2, "probs", NULL, 0);

    int64_t p_dims[2] = {-1, f->K}, e_dims[3] = {-1, f->E, f->K}, w_dims[2] = {-1, f->E};
    lpt_onnx_graph_output(g, "probs", LPT_ONNX_FLOAT, p_dims, 2);
    lpt_onnx_graph_output(g, "expert_probs", LPT_ONNX_FLOAT, e_dims, 3);
    lpt_onnx_graph_output(g, "scorer_weights", LPT_ONNX_FLOAT, w_dims, 2);
    if (lpt_onnx_graph_failed(g))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
    return LPT_OK;
}

/* ---- checks ------------------------------------------------------------------------------- */

static bool reserved_key(const char *key)
{
    return strcmp(key, "classes") == 0 || strcmp(key, "preprocessing") == 0 ||
           strncmp(key, "lpt.", 4) == 0;
}

/* Every refusal of lpt_onnx_export_fused (see lpt_onnx.h); fills f->E and f->which. */
static LptStatus check(const LptOnnxFusedOptions *opt, Fx *f, LptError *err)
{
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        if (opt->experts[e])
            f->which[f->E++] = (LptStoreExpert)e;
    if (f->E == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "no expert to export");
    f->K = opt->classes;
    if (opt->classes < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "classes is %d", opt->classes);
    if (!opt->class_names)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "no class names");
    for (int k = 0; k < opt->classes; k++)
        if (!opt->class_names[k])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "class name %d is missing", k);
    const LptVitConfig *first = NULL;
    const LptOnnxExpertOptions *first_opt = NULL;
    const char *first_name = NULL;
    for (int s = 0; s < f->E; s++) {
        LptStoreExpert e = f->which[s];
        const char *name = lpt_store_expert_name(e);
        const LptVitConfig *cfg = lpt_vit_config(opt->experts[e]);
        const LptOnnxExpertOptions *eo = &opt->expert_opt[e];
        if (lpt_onnx_check_expert(opt->experts[e], eo, err) != LPT_OK)
            return lpt_error_prefix(err, "the %s expert", name);
        if (cfg->classes != opt->classes)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the %s expert has %d "
                                 "classes, the model %d", name, cfg->classes, opt->classes);
        if (!first) {
            first = cfg;
            first_opt = eo;
            first_name = name;
        } else if (cfg->image != first->image) {
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the experts take different "
                                 "input sizes (%s %d x %d, %s %d x %d): one input image feeds "
                                 "both", first_name, first->image, first->image, name,
                                 cfg->image, cfg->image);
        } else if (eo->interp != first_opt->interp) {
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the experts resize with "
                                 "different filters (%s %s, %s %s): one input image feeds both",
                                 first_name,
                                 first_opt->interp == LPT_INTERP_BICUBIC ? "bicubic" : "bilinear",
                                 name, eo->interp == LPT_INTERP_BICUBIC ? "bicubic" : "bilinear");
        }
    }
    if (opt->scorer) {
        const LptScorerConfig *sc = lpt_scorer_config(opt->scorer);
        if (sc->experts != f->E)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the scorer fuses %d "
                                 "experts, the model has %d", sc->experts, f->E);
        if (sc->classes != opt->classes)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the scorer has %d classes, "
                                 "the model %d", sc->classes, opt->classes);
        for (int s = 0; s < f->E; s++) {
            int width = lpt_vit_feature_width(opt->experts[f->which[s]]);
            if (sc->input_feature && sc->feature_dims[s] != width)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "the scorer's input %d "
                                     "takes features of width %d, the %s expert gives %d", s,
                                     sc->feature_dims[s], lpt_store_expert_name(f->which[s]),
                                     width);
        }
    }
    for (int k = 0; opt->prior_adjust && k < opt->classes; k++)
        if (!isfinite(opt->prior_adjust[k]))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "prior adjust of class %d "
                                 "('%s') is %g, not a finite number", k, opt->class_names[k],
                                 (double)opt->prior_adjust[k]);
    for (int j = 0; opt->metadata && opt->metadata[j]; j += 2) {
        const char *key = opt->metadata[j];
        if (!opt->metadata[j + 1])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "metadata key '%s' has no "
                                 "value", key);
        if (reserved_key(key))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "metadata key '%s' is one "
                                 "the export writes itself", key);
        for (int i = 0; i < j; i += 2)
            if (strcmp(opt->metadata[i], key) == 0)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "metadata key '%s' is "
                                     "given twice", key);
    }
    return LPT_OK;
}

/* ---- metadata ----------------------------------------------------------------------------- */

/* The JSON text of `j` (malloc'ed, NULL when j is NULL or out of memory); deletes j. */
static char *json_text(cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return text;
}

static cJSON *experts_json(const Fx *f)
{
    cJSON *a = cJSON_CreateArray();
    for (int s = 0; s < f->E && a; s++) {
        LptStoreExpert e = f->which[s];
        const LptOnnxExpertOptions *eo = &f->opt->expert_opt[e];
        cJSON *o = lpt_onnx_json_expert(eo, lpt_vit_config(f->opt->experts[e]));
        cJSON_AddStringToObject(o, "expert", lpt_store_expert_name(e));
        cJSON_AddItemToObject(o, "mean", lpt_onnx_json_floats(eo->mean, 3));
        cJSON_AddItemToObject(o, "std", lpt_onnx_json_floats(eo->std, 3));
        cJSON_AddItemToObject(o, "prob_scale", lpt_onnx_json_floats(&eo->prob_scale, 1));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *fusion_json(const Fx *f)
{
    cJSON *o = cJSON_CreateObject();
    if (!f->opt->scorer) {
        cJSON_AddStringToObject(o, "method", f->E > 1 ? "mean" : "single");
        return o;
    }
    const LptScorerConfig *sc = lpt_scorer_config(f->opt->scorer);
    cJSON_AddStringToObject(o, "method", "scorer");
    cJSON_AddNumberToObject(o, "hidden", sc->hidden);
    cJSON *in = cJSON_AddArrayToObject(o, "inputs");
    const bool on[4] = {sc->input_feature, sc->input_max, sc->input_entropy, sc->input_margin};
    static const char *const part[4] = {"feature", "max", "entropy", "margin"};
    for (int j = 0; j < 4; j++)
        if (on[j])
            cJSON_AddItemToArray(in, cJSON_CreateString(part[j]));
    return o;
}

/* Writes the model with its metadata. */
static LptStatus write_model(Fx *f, const char *path, LptError *err)
{
    const LptOnnxFusedOptions *opt = f->opt;
    int n_user = 0;
    while (opt->metadata && opt->metadata[2 * n_user])
        n_user++;
    const LptVitConfig *cfg0 = lpt_vit_config(opt->experts[f->which[0]]);
    char *own[META_OWN] = {
        json_text(lpt_onnx_json_classes(opt->class_names, opt->classes)),
        json_text(lpt_onnx_json_preprocessing(cfg0->image, opt->expert_opt[f->which[0]].interp,
                                              NULL, NULL)),
        json_text(experts_json(f)),
        json_text(fusion_json(f)),
        opt->prior_adjust ? json_text(lpt_onnx_json_floats(opt->prior_adjust, opt->classes))
                          : NULL,
    };
    static const char *const own_keys[META_OWN] = {"classes", "preprocessing", "lpt.experts",
                                                   "lpt.fusion", "lpt.prior_adjust"};
    int n_own = opt->prior_adjust ? META_OWN : META_OWN - 1;
    const char **keys = malloc((size_t)(n_own + n_user) * sizeof *keys);
    const char **values = malloc((size_t)(n_own + n_user) * sizeof *values);
    bool ok = keys && values;
    for (int j = 0; j < n_own; j++)
        ok = ok && own[j];
    LptStatus st = LPT_OK;
    if (!ok) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "onnx export: out of host memory");
    } else {
        for (int j = 0; j < n_own; j++) {
            keys[j] = own_keys[j];
            values[j] = own[j];
        }
        for (int j = 0; j < n_user; j++) {
            keys[n_own + j] = opt->metadata[2 * j];
            values[n_own + j] = opt->metadata[2 * j + 1];
        }
        LptOnnxModelInfo info = {
            .ir_version = LPT_ONNX_IR_VERSION,
            .opset = LPT_ONNX_OPSET,
            .producer_name = "LPT Studio",
            .producer_version = LPT_VERSION,
            .doc = "The fused LPT++ model: each expert (frozen ViT + prompts + adapters + group "
                   "prompts + cosine head) on input 'image' [N, 3, S, S] = pixel / 255 (see "
                   "metadata 'preprocessing'; each expert's mean/std is applied inside), the "
                   "MoE scorer and the prior adjustment. Outputs: probs = normalise(sum_e "
                   "scorer_weights_e expert_probs_e * exp(lpt.prior_adjust)), expert_probs "
                   "= softmax(prob_scale * cos) per expert, scorer_weights.",
            .meta_keys = keys,
            .meta_values = values,
            .n_meta = n_own + n_user,
        };
        st = lpt_onnx_graph_write(f->g, &info, path, err);
    }
    for (int j = 0; j < META_OWN; j++)
        cJSON_free(own[j]);
    free(keys);
    free(values);
    return st;
}

LptStatus lpt_onnx_export_fused(const LptOnnxFusedOptions *opt, const char *path,
                                LptError *err)
{
    if (!opt || !path || !path[0])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "onnx export: no options or path");
    Fx f;
    memset(&f, 0, sizeof f);
    f.opt = opt;
    if (check(opt, &f, err) != LPT_OK)
        return lpt_error_prefix(err, "onnx export of '%s'", path);
    f.g = lpt_onnx_graph_new(opt->name ? opt->name : "lpt_fused");
    if (!f.g)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "onnx export: out of host memory");
    LptStatus st = build(&f, err);
    if (st != LPT_OK)
        lpt_error_prefix(err, "onnx export of '%s'", path);
    else
        st = write_model(&f, path, err);
    lpt_onnx_graph_free(f.g);
    return st;
}

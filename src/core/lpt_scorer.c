/* lpt_scorer.c: the MoE scorer's parameters, forward, losses, backward and AdamW step over
 * the ops of lpt_ops.h. See lpt_scorer.h. */
#include "lpt_scorer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_rng.h"
#include "lpt_tensor.h"

#define PAD 64 /* floats: 256 bytes, the arena alignment */

/* Offsets (floats) of the parameter parts inside a span. */
typedef struct Layout {
    size_t w1, b1, w2, b2, total;
} Layout;

struct LptScorer {
    LptBackend *be;
    LptScorerConfig cfg;
    int in; /* input width */
    Layout lay;
    LptArena *state, *acts;
    LptTensor param, grad, m, v;  /* spans [total] */
    LptTensor w1, b1, w2, b2;     /* views of param */
    LptTensor gw1, gb1, gw2, gb2; /* views of grad */
    LptTensor x, probs, h1, g, z, alpha,
        fused; /* [B, in], [B, E, K], [B, Hd] x2, [B, E] x2, [B, K] */
    LptTensor dp, dalpha, dz, dg, dh1, loss, labels, margins;
    int batch;               /* of the last forward; 0 = none */
    float *host_p, *host_dp; /* [max_batch, K] */
    float *host_loss;        /* [max_batch] */
};

static size_t pad(size_t n)
{
    return (n + PAD - 1) / PAD * PAD;
}

int lpt_scorer_input_width(const LptScorerConfig *cfg)
{
    int w = 0;
    for (int e = 0; e < cfg->experts; e++)
        w += (cfg->input_feature ? cfg->feature_dims[e] : 0) + cfg->input_max + cfg->input_entropy +
             cfg->input_margin;
    return w;
}

void lpt_scorer_build_input(const LptScorerConfig *cfg, const float *const *features,
                            const float *const *probs, float *out)
{
    int o = 0, K = cfg->classes;
    for (int e = 0; e < cfg->experts; e++) {
        if (cfg->input_feature) {
            int c = cfg->feature_dims[e];
            double norm = 0.0;
            for (int j = 0; j < c; j++)
                norm += (double)features[e][j] * features[e][j];
            norm = sqrt(norm);
            double inv = 1.0 / (norm > 1e-12 ? norm : 1e-12);
            for (int j = 0; j < c; j++)
                out[o++] = (float)(features[e][j] * inv);
        }
        const float *p = probs[e];
        float top1 = -INFINITY, top2 = -INFINITY;
        double entropy = 0.0;
        for (int k = 0; k < K; k++) {
            if (p[k] > top1) {
                top2 = top1;
                top1 = p[k];
            } else if (p[k] > top2) {
                top2 = p[k];
            }
            if (p[k] > 0.0f)
                entropy -= (double)p[k] * log((double)p[k]);
        }
        if (K < 2)
            top2 = 0.0f;
        if (cfg->input_max)
            out[o++] = top1;
        if (cfg->input_entropy)
            out[o++] = (float)entropy;
        if (cfg->input_margin)
            out[o++] = top1 - top2;
    }
}

/* Carves a [count] f32 tensor or records the failure in *st. */
static void carve(LptArena *a, LptTensor *t, const char *name, LptDType dt, size_t count,
                  LptStatus *st, LptError *err)
{
    if (*st == LPT_OK)
        *st = lpt_arena_alloc(a, t, name, dt, count, err);
}

LptScorer *lpt_scorer_new(LptBackend *be, const LptScorerConfig *cfg, LptError *err)
{
    if (!be || !cfg) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer: NULL argument");
        return NULL;
    }
    int in = lpt_scorer_input_width(cfg);
    bool dims_ok = true;
    for (int e = 0; cfg->experts >= 1 && e < cfg->experts && e < LPT_SCORER_MAX_EXPERTS; e++)
        dims_ok = dims_ok && cfg->feature_dims[e] >= 1;
    if (cfg->experts < 1 || cfg->experts > LPT_SCORER_MAX_EXPERTS || !dims_ok || cfg->classes < 1 ||
        cfg->hidden < 1 || cfg->max_batch < 1 || in < 1) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                      "scorer: need 1..%d experts with feature widths >= 1, K >= 1, hidden >= 1, "
                      "max_batch >= 1 and at least one input part",
                      LPT_SCORER_MAX_EXPERTS);
        return NULL;
    }
    LptScorer *s = calloc(1, sizeof *s);
    if (!s) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "scorer: out of host memory");
        return NULL;
    }
    s->be = be;
    s->cfg = *cfg;
    s->in = in;
    size_t H = (size_t)cfg->hidden, E = (size_t)cfg->experts, K = (size_t)cfg->classes;
    size_t B = (size_t)cfg->max_batch;
    Layout *l = &s->lay;
    l->w1 = 0;
    l->b1 = l->w1 + pad(H * (size_t)in);
    l->w2 = l->b1 + pad(H);
    l->b2 = l->w2 + pad(E * H);
    l->total = l->b2 + pad(E);
    s->host_p = malloc(B * K * sizeof *s->host_p);
    s->host_dp = malloc(B * K * sizeof *s->host_dp);
    s->host_loss = malloc(B * sizeof *s->host_loss);
    LptStatus st = LPT_OK;
    if (!s->host_p || !s->host_dp || !s->host_loss)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "scorer: out of host memory");
    if (st == LPT_OK) {
        s->state = lpt_arena_new(be, "scorer state", 4 * l->total * sizeof(float), err);
        size_t acts = 0;
        size_t sizes[] = {B * (size_t)in, B * E * K, B * H, B * H, B * E, B * E, B * K, B * K,
                          B * E,          B * E,     B * H, B * H, B,     B,     K};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            acts += pad(sizes[i]) * sizeof(float);
        s->acts = s->state ? lpt_arena_new(be, "scorer activations", acts, err) : NULL;
        st = s->acts ? LPT_OK : (err ? err->code : LPT_ERR_OUT_OF_MEMORY);
    }
    carve(s->state, &s->param, "scorer.params", LPT_F32, l->total, &st, err);
    carve(s->state, &s->grad, "scorer.grads", LPT_F32, l->total, &st, err);
    carve(s->state, &s->m, "scorer.adam_m", LPT_F32, l->total, &st, err);
    carve(s->state, &s->v, "scorer.adam_v", LPT_F32, l->total, &st, err);
    carve(s->acts, &s->x, "scorer.input", LPT_F32, B * (size_t)in, &st, err);
    carve(s->acts, &s->probs, "scorer.expert_probs", LPT_F32, B * E * K, &st, err);
    carve(s->acts, &s->h1, "scorer.fc1", LPT_F32, B * H, &st, err);
    carve(s->acts, &s->g, "scorer.gelu", LPT_F32, B * H, &st, err);
    carve(s->acts, &s->z, "scorer.fc2", LPT_F32, B * E, &st, err);
    carve(s->acts, &s->alpha, "scorer.weights", LPT_F32, B * E, &st, err);
    carve(s->acts, &s->fused, "scorer.fused", LPT_F32, B * K, &st, err);
    carve(s->acts, &s->dp, "scorer.dfused", LPT_F32, B * K, &st, err);
    carve(s->acts, &s->dalpha, "scorer.dweights", LPT_F32, B * E, &st, err);
    carve(s->acts, &s->dz, "scorer.dfc2", LPT_F32, B * E, &st, err);
    carve(s->acts, &s->dg, "scorer.dgelu", LPT_F32, B * H, &st, err);
    carve(s->acts, &s->dh1, "scorer.dfc1", LPT_F32, B * H, &st, err);
    carve(s->acts, &s->loss, "scorer.loss", LPT_F32, B, &st, err);
    carve(s->acts, &s->labels, "scorer.labels", LPT_I32, B, &st, err);
    carve(s->acts, &s->margins, "scorer.margins", LPT_F32, K, &st, err);
    if (st == LPT_OK) {
        s->w1 = lpt_tensor_view(&s->param, l->w1, H * (size_t)in);
        s->b1 = lpt_tensor_view(&s->param, l->b1, H);
        s->w2 = lpt_tensor_view(&s->param, l->w2, E * H);
        s->b2 = lpt_tensor_view(&s->param, l->b2, E);
        s->gw1 = lpt_tensor_view(&s->grad, l->w1, H * (size_t)in);
        s->gb1 = lpt_tensor_view(&s->grad, l->b1, H);
        s->gw2 = lpt_tensor_view(&s->grad, l->w2, E * H);
        s->gb2 = lpt_tensor_view(&s->grad, l->b2, E);
        LptTensor all = {s->state, 0, lpt_arena_size(s->state) / 4, LPT_F32, "scorer state"};
        st = lpt_tensor_fill_u32(&all, 0, err);
    }
    if (st != LPT_OK) {
        lpt_scorer_free(s);
        return NULL;
    }
    return s;
}

void lpt_scorer_free(LptScorer *s)
{
    if (!s)
        return;
    lpt_arena_free(s->acts);
    lpt_arena_free(s->state);
    free(s->host_p);
    free(s->host_dp);
    free(s->host_loss);
    free(s);
}

const LptScorerConfig *lpt_scorer_config(const LptScorer *s)
{
    return &s->cfg;
}

size_t lpt_scorer_param_count(const LptScorer *s)
{
    return s->lay.total;
}

size_t lpt_scorer_trainable_count(const LptScorer *s)
{
    size_t H = (size_t)s->cfg.hidden, E = (size_t)s->cfg.experts;
    return H * (size_t)s->in + H + E * H + E;
}

LptStatus lpt_scorer_init(LptScorer *s, uint64_t seed, LptError *err)
{
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer: NULL");
    size_t n = s->lay.total;
    float *buf = calloc(n, sizeof *buf);
    if (!buf)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "scorer init: out of host memory");
    size_t H = (size_t)s->cfg.hidden, E = (size_t)s->cfg.experts;
    struct {
        size_t offset, count, fan_in;
    } parts[] = {{s->lay.w1, H * (size_t)s->in, (size_t)s->in},
                 {s->lay.b1, H, (size_t)s->in},
                 {s->lay.w2, E * H, H},
                 {s->lay.b2, E, H}};
    for (int i = 0; i < 4; i++) {
        LptRng rng;
        lpt_rng_seed(&rng, seed, (uint64_t)i);
        double bound = 1.0 / sqrt((double)parts[i].fan_in);
        for (size_t j = 0; j < parts[i].count; j++)
            buf[parts[i].offset + j] = (float)((2.0 * lpt_rng_float(&rng) - 1.0) * bound);
    }
    LptStatus st = lpt_tensor_upload(&s->param, buf, err);
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&s->m, 0, err);
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&s->v, 0, err);
    free(buf);
    return st;
}

LptStatus lpt_scorer_get_state(LptScorer *s, float *params, float *m, float *v, LptError *err)
{
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer: NULL");
    if (params)
        LPT_TRY(lpt_tensor_download(&s->param, params, err));
    if (m)
        LPT_TRY(lpt_tensor_download(&s->m, m, err));
    if (v)
        LPT_TRY(lpt_tensor_download(&s->v, v, err));
    return LPT_OK;
}

LptStatus lpt_scorer_get_grad(LptScorer *s, float *grad, LptError *err)
{
    if (!s || !grad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer get grad: NULL argument");
    return lpt_tensor_download(&s->grad, grad, err);
}

LptStatus lpt_scorer_get_weights(LptScorer *s, float *w1, float *b1, float *w2, float *b2,
                                 LptError *err)
{
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer: NULL");
    const LptTensor *parts[4] = {&s->w1, &s->b1, &s->w2, &s->b2};
    float *out[4] = {w1, b1, w2, b2};
    for (int i = 0; i < 4; i++)
        if (out[i])
            LPT_TRY(lpt_tensor_download(parts[i], out[i], err));
    return LPT_OK;
}

LptStatus lpt_scorer_set_state(LptScorer *s, const float *params, const float *m, const float *v,
                               LptError *err)
{
    if (!s || !params || !m || !v)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer set state: NULL argument");
    LPT_TRY(lpt_tensor_upload(&s->param, params, err));
    LPT_TRY(lpt_tensor_upload(&s->m, m, err));
    return lpt_tensor_upload(&s->v, v, err);
}

/* The first `count` elements of t. */
static LptTensor head(const LptTensor *t, size_t count)
{
    return lpt_tensor_view(t, 0, count);
}

LptStatus lpt_scorer_forward(LptScorer *s, const float *inputs, const float *probs, int batch,
                             float *weights, float *fused, LptError *err)
{
    if (!s || !inputs || !probs)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer forward: NULL argument");
    if (batch < 1 || batch > s->cfg.max_batch)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "scorer forward: batch %d outside [1, %d]", batch, s->cfg.max_batch);
    LptBackend *be = s->be;
    int H = s->cfg.hidden, E = s->cfg.experts, K = s->cfg.classes, B = batch;
    s->batch = 0;
    LptTensor x = head(&s->x, (size_t)B * s->in), p = head(&s->probs, (size_t)B * E * K);
    LPT_TRY(lpt_tensor_upload(&x, inputs, err));
    LPT_TRY(lpt_tensor_upload(&p, probs, err));
    LptGemmShape s1, s2, sf;
    lpt_gemm_shape_init(&s1, B, H, s->in, false, true);
    LPT_TRY(lpt_op_gemm_forward(be, &s->h1, &s->x, &s->w1, &s->b1, &s1, err));
    LPT_TRY(lpt_op_gelu_forward(be, &s->g, &s->h1, (size_t)B * H, err));
    lpt_gemm_shape_init(&s2, B, E, H, false, true);
    LPT_TRY(lpt_op_gemm_forward(be, &s->z, &s->g, &s->w2, &s->b2, &s2, err));
    LPT_TRY(lpt_op_softmax_forward(be, &s->alpha, &s->z, B, E, 1.0f, err));
    lpt_gemm_shape_init(&sf, 1, K, E, false, false); /* p_b = alpha_b P_b */
    sf.batch = B;
    sf.stride_a = E;
    sf.stride_b = (int64_t)E * K;
    sf.stride_c = K;
    LPT_TRY(lpt_op_gemm_forward(be, &s->fused, &s->alpha, &s->probs, NULL, &sf, err));
    if (weights) {
        LptTensor a = head(&s->alpha, (size_t)B * E);
        LPT_TRY(lpt_tensor_download(&a, weights, err));
    }
    if (fused) {
        LptTensor f = head(&s->fused, (size_t)B * K);
        LPT_TRY(lpt_tensor_download(&f, fused, err));
    }
    s->batch = B;
    return LPT_OK;
}

/* dp and the loss of NLL, on the host from the downloaded fused confidences. */
static LptStatus nll_grad(LptScorer *s, const int32_t *labels, double *loss_out, LptError *err)
{
    int B = s->batch, K = s->cfg.classes;
    LptTensor f = head(&s->fused, (size_t)B * K);
    LPT_TRY(lpt_tensor_download(&f, s->host_p, err));
    memset(s->host_dp, 0, (size_t)B * K * sizeof *s->host_dp);
    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        if (labels[b] < 0 || labels[b] >= K)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "scorer loss: label %d of row %d outside [0, %d)", labels[b], b,
                                 K);
        double py = s->host_p[(size_t)b * K + labels[b]];
        py = py > 1e-12 ? py : 1e-12;
        loss -= log(py);
        s->host_dp[(size_t)b * K + labels[b]] = (float)(-1.0 / ((double)B * py));
    }
    *loss_out = loss / B;
    LptTensor dp = head(&s->dp, (size_t)B * K);
    return lpt_tensor_upload(&dp, s->host_dp, err);
}

/* dp and the loss of A-GCL on the fused confidences taken as cosines (device). */
static LptStatus agcl_grad(LptScorer *s, const int32_t *labels, const LptScorerLossParams *lp,
                           double *loss_out, LptError *err)
{
    int B = s->batch, K = s->cfg.classes;
    LptAgclParams p = lp->agcl_params;
    p.batch = B;
    p.classes = K;
    LptTensor lab = head(&s->labels, (size_t)B), loss = head(&s->loss, (size_t)B);
    LPT_TRY(lpt_tensor_upload(&lab, labels, err));
    if (!lp->margins)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer loss: A-GCL needs margins");
    LPT_TRY(lpt_tensor_upload(&s->margins, lp->margins, err));
    LPT_TRY(lpt_op_agcl_forward(s->be, &loss, &s->fused, &lab, &s->margins, &p, err));
    LPT_TRY(lpt_op_agcl_backward(s->be, &s->dp, &s->fused, &lab, &s->margins, &p, 1.0f / B, err));
    LPT_TRY(lpt_tensor_download(&loss, s->host_loss, err));
    double sum = 0.0;
    for (int b = 0; b < B; b++)
        sum += s->host_loss[b];
    *loss_out = sum / B;
    return LPT_OK;
}

LptStatus lpt_scorer_backward(LptScorer *s, const int32_t *labels, const LptScorerLossParams *loss,
                              double *loss_out, LptError *err)
{
    if (!s || !labels || !loss || !loss_out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer backward: NULL argument");
    if (s->batch < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "scorer backward: no forward to backpropagate");
    LptBackend *be = s->be;
    int H = s->cfg.hidden, E = s->cfg.experts, K = s->cfg.classes, B = s->batch;
    LPT_TRY(loss->agcl ? agcl_grad(s, labels, loss, loss_out, err)
                       : nll_grad(s, labels, loss_out, err));
    LPT_TRY(lpt_tensor_fill_u32(&s->grad, 0, err));
    LptGemmShape sd; /* dalpha_b [1, E] = dp_b [1, K] P_b^T */
    lpt_gemm_shape_init(&sd, 1, E, K, false, true);
    sd.batch = B;
    sd.stride_a = K;
    sd.stride_b = (int64_t)E * K;
    sd.stride_c = E;
    LPT_TRY(lpt_op_gemm_forward(be, &s->dalpha, &s->dp, &s->probs, NULL, &sd, err));
    LPT_TRY(lpt_op_softmax_backward(be, &s->dz, &s->dalpha, &s->alpha, B, E, 1.0f, err));
    LptGemmShape s1, s2;
    lpt_gemm_shape_init(&s2, B, E, H, false, true);
    LPT_TRY(lpt_op_gemm_backward(be, &s->dg, &s->gw2, &s->gb2, &s->dz, &s->g, &s->w2, &s2, err));
    LPT_TRY(lpt_op_gelu_backward(be, &s->dh1, &s->dg, &s->h1, (size_t)B * H, err));
    lpt_gemm_shape_init(&s1, B, H, s->in, false, true);
    return lpt_op_gemm_backward(be, NULL, &s->gw1, &s->gb1, &s->dh1, &s->x, &s->w1, &s1, err);
}

LptStatus lpt_scorer_adamw(LptScorer *s, float lr, float beta1, float beta2, float eps,
                           float weight_decay, int step, LptError *err)
{
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer: NULL");
    return lpt_op_adamw_update(s->be, &s->param, &s->m, &s->v, &s->grad, s->lay.total, lr, beta1,
                               beta2, eps, weight_decay, step, err);
}

/* ---- what evaluation and deployment share ----------------------------------------------- */

void lpt_scorer_expert_probs(const float *logits, int64_t n, int K, float scale, float *probs)
{
    for (int64_t b = 0; b < n; b++) {
        const float *c = logits + (size_t)b * K;
        float *p = probs + (size_t)b * K;
        float mx = c[0];
        for (int k = 1; k < K; k++)
            mx = c[k] > mx ? c[k] : mx;
        double sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += exp((double)scale * (c[k] - mx));
        for (int k = 0; k < K; k++)
            p[k] = (float)(exp((double)scale * (c[k] - mx)) / sum);
    }
}

LptStatus lpt_scorer_set_weights(LptScorer *s, const float *w1, const float *b1, const float *w2,
                                 const float *b2, LptError *err)
{
    if (!s || !w1 || !b1 || !w2 || !b2)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer set weights: NULL argument");
    const LptTensor *parts[4] = {&s->w1, &s->b1, &s->w2, &s->b2};
    const float *in[4] = {w1, b1, w2, b2};
    LPT_TRY(lpt_tensor_fill_u32(&s->param, 0, err)); /* the padding stays zero */
    for (int i = 0; i < 4; i++)
        LPT_TRY(lpt_tensor_upload(parts[i], in[i], err));
    LPT_TRY(lpt_tensor_fill_u32(&s->m, 0, err));
    return lpt_tensor_fill_u32(&s->v, 0, err);
}

LptStatus lpt_scorer_fuse(LptScorer *s, int experts, int classes, int64_t n,
                          const float *const *features, const float *const *probs, float *weights,
                          float *fused, LptError *err)
{
    int E = experts, K = classes;
    if (!probs || !weights || !fused || n < 0 || E < 1 || E > LPT_SCORER_MAX_EXPERTS || K < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "scorer fuse: bad arguments");
    if (!s) {
        for (int64_t i = 0; i < n; i++) {
            for (int e = 0; e < E; e++)
                weights[(size_t)i * E + e] = 1.0f / E;
            for (int k = 0; k < K; k++) {
                double sum = 0.0;
                for (int e = 0; e < E; e++)
                    sum += probs[e][(size_t)i * K + k];
                fused[(size_t)i * K + k] = (float)(sum / E);
            }
        }
        return LPT_OK;
    }
    const LptScorerConfig *sc = &s->cfg;
    if (!features || sc->experts != E || sc->classes != K)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "scorer fuse: the scorer has %d experts and %d classes, the rows %d "
                             "and %d%s",
                             sc->experts, sc->classes, E, K, features ? "" : " (no features)");
    int B = sc->max_batch, in = s->in;
    float *inputs = malloc((size_t)B * in * sizeof *inputs);
    float *rows = malloc((size_t)B * E * K * sizeof *rows);
    LptStatus st = inputs && rows
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "scorer fuse: out of memory");
    const float *f[LPT_SCORER_MAX_EXPERTS], *p[LPT_SCORER_MAX_EXPERTS];
    for (int64_t o = 0; st == LPT_OK && o < n; o += B) {
        int m = (int)(n - o < B ? n - o : B);
        for (int i = 0; i < m; i++) {
            for (int e = 0; e < E; e++) {
                f[e] = features[e] + (size_t)(o + i) * sc->feature_dims[e];
                p[e] = probs[e] + (size_t)(o + i) * K;
                memcpy(rows + ((size_t)i * E + e) * K, p[e], (size_t)K * sizeof *rows);
            }
            lpt_scorer_build_input(sc, f, p, inputs + (size_t)i * in);
        }
        st = lpt_scorer_forward(s, inputs, rows, m, weights + (size_t)o * E, fused + (size_t)o * K,
                                err);
    }
    free(inputs);
    free(rows);
    return st;
}

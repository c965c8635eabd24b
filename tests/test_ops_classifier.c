/* test_ops_classifier.c: the cosine classifier (forward, backward) and the A-GCL loss
 * (forward, backward, its counter-based noise) against double references and central finite
 * differences, on odd and ViT-sized shapes, plus bad arguments.
 *
 * The A-GCL reference takes its noise from lpt_agcl_noise() (the C function), so a backend
 * whose generator disagreed fails every noise-on case; check_noise_agreement reads each
 * backend's eps back through the gradient (p_k = softmax(-scale eps)_k) to compare them one
 * by one. */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGCL_SEED 0x0123456789ABCDEFull
#define AGCL_STEP 7u

/* ---- cosine classifier ------------------------------------------------------------------ */

static double norm_clamped(const double *x, int c, double *raw)
{
    double s = 0.0;
    for (int i = 0; i < c; i++)
        s += x[i] * x[i];
    *raw = sqrt(s);
    return *raw > 1e-12 ? *raw : 1e-12;
}

static double ref_cos(const double *a, const double *b, int c)
{
    double na, nb, dot = 0.0;
    double ha = norm_clamped(a, c, &na), hb = norm_clamped(b, c, &nb);
    for (int i = 0; i < c; i++)
        dot += a[i] * b[i];
    return dot / (ha * hb);
}

typedef struct CosFd {
    const double *f, *w, *g;
    int batch, classes, c;
    bool wrt_w; /* differentiate w.r.t. w (else f) */
    int row;    /* the row of f or w that x[i] is in */
} CosFd;

/* sum_{b,k} g_bk cos(f_b, w_k), restricted to the terms that depend on the row of x. */
static double cos_fd_loss(const double *x, void *ctx)
{
    const CosFd *d = ctx;
    double s = 0.0;
    if (d->wrt_w)
        for (int b = 0; b < d->batch; b++)
            s += d->g[(size_t)b * d->classes + d->row] *
                 ref_cos(d->f + (size_t)b * d->c, x + (size_t)d->row * d->c, d->c);
    else
        for (int k = 0; k < d->classes; k++)
            s += d->g[(size_t)d->row * d->classes + k] *
                 ref_cos(x + (size_t)d->row * d->c, d->w + (size_t)k * d->c, d->c);
    return s;
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

/* Compares sampled entries of got against central differences of cos_fd_loss, skipping
 * rows whose norm is below the clamp (the derivative jumps there). */
static void check_cos_fd(OpCheck *oc, const char *what, const float *got, CosFd *d, double *x,
                         size_t n, const double *row_norm, double atol)
{
    size_t idx[64];
    int ns = oc_sample_indices(oc, n, idx, 64);
    float *sel = malloc((size_t)ns * sizeof *sel);
    double *ref = malloc((size_t)ns * sizeof *ref);
    int m = 0;
    for (int s = 0; s < ns; s++) {
        d->row = (int)(idx[s] / (size_t)d->c);
        if (row_norm[d->row] < 1e-6)
            continue;
        ref[m] = oc_fd(cos_fd_loss, d, x, idx[s], 1e-4);
        sel[m++] = got[idx[s]];
    }
    oc_compare(oc, what, sel, ref, (size_t)m, atol, 1e-4);
    free(sel), free(ref);
}

/* Forward and backward for one shape; `zero_row` makes f's row 0 all zeros. */
static void check_cosine(OpCheck *oc, int batch, int classes, int c, bool zero_row)
{
    char what[128];
    size_t nf = (size_t)batch * c, nw = (size_t)classes * c, nl = (size_t)batch * classes;
    float *f = malloc(nf * sizeof *f), *w = malloc(nw * sizeof *w), *g = malloc(nl * sizeof *g);
    float *dw0 = malloc(nw * sizeof *dw0);
    oc_fill_uniform(oc, f, nf, -1.0f, 1.0f);
    oc_fill_uniform(oc, w, nw, -1.0f, 1.0f);
    oc_fill_uniform(oc, g, nl, -1.0f, 1.0f);
    oc_fill_uniform(oc, dw0, nw, -1.0f, 1.0f);
    if (zero_row)
        memset(f, 0, (size_t)c * sizeof *f);
    double *fd = oc_to_double(f, nf), *wd = oc_to_double(w, nw), *gd = oc_to_double(g, nl);
    LptTensor tf = oc_tensor(oc, "f", LPT_F32, nf, f), tw = oc_tensor(oc, "w", LPT_F32, nw, w);
    LptTensor tl = oc_tensor(oc, "logits", LPT_F32, nl, NULL);
    LptTensor tg = oc_tensor(oc, "dlogits", LPT_F32, nl, g);
    LptTensor tdf = oc_tensor(oc, "df", LPT_F32, nf, NULL);
    LptTensor tdw = oc_tensor(oc, "dw", LPT_F32, nw, dw0);
    LptError err = {0};

    /* forward */
    snprintf(what, sizeof what, "cosine_forward B=%d K=%d C=%d%s", batch, classes, c,
             zero_row ? " zero row" : "");
    double *ref = malloc(nl * sizeof *ref);
    LptStatus st = lpt_op_cosine_forward(oc->be, &tl, &tf, &tw, batch, classes, c, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < classes; k++)
                ref[(size_t)b * classes + k] = ref_cos(fd + (size_t)b * c, wd + (size_t)k * c, c);
        oc_check_tensor(oc, what, &tl, ref, 3e-6, 1e-5);
    }
    free(ref);

    /* backward: the analytic double gradient everywhere, finite differences at samples.
     * d cos / d f = w / (n̂f n̂w) - cos f / (n̂f |f|) (second term only when |f| >= 1e-12). */
    double *dfr = calloc(nf, sizeof *dfr), *dwr = malloc(nw * sizeof *dwr);
    double mag_f = 0.0, mag_w = 0.0; /* the largest sum of |terms| behind one gradient */
    double *mag = calloc(nf > nw ? nf : nw, sizeof *mag);
    double *nrm_f = malloc((size_t)batch * sizeof *nrm_f);
    double *nrm_w = malloc((size_t)classes * sizeof *nrm_w);
    for (size_t i = 0; i < nw; i++)
        dwr[i] = dw0[i];
    for (int b = 0; b < batch; b++) {
        const double *fb = fd + (size_t)b * c;
        double raw_f, hf = norm_clamped(fb, c, &raw_f);
        nrm_f[b] = raw_f;
        for (int k = 0; k < classes; k++) {
            const double *wk = wd + (size_t)k * c;
            double raw_w, hw = norm_clamped(wk, c, &raw_w);
            nrm_w[k] = raw_w;
            double gk = gd[(size_t)b * classes + k], cs = ref_cos(fb, wk, c);
            double rf = raw_f >= 1e-12 ? cs / (hf * raw_f) : 0.0;
            double rw = raw_w >= 1e-12 ? cs / (hw * raw_w) : 0.0;
            for (int i = 0; i < c; i++) {
                dfr[(size_t)b * c + i] += gk * (wk[i] / (hf * hw) - rf * fb[i]);
                dwr[(size_t)k * c + i] += gk * (fb[i] / (hf * hw) - rw * wk[i]);
                mag[(size_t)b * c + i] += fabs(gk * wk[i]) / (hf * hw) + fabs(rf * gk * fb[i]);
            }
        }
    }
    mag_f = max_abs(mag, nf);
    memset(mag, 0, nw * sizeof *mag);
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < classes; k++) {
            const double *fb = fd + (size_t)b * c, *wk = wd + (size_t)k * c;
            double raw_f, raw_w, hf = norm_clamped(fb, c, &raw_f), hw = norm_clamped(wk, c, &raw_w);
            double gk = fabs(gd[(size_t)b * classes + k]), cs = fabs(ref_cos(fb, wk, c));
            double rw = raw_w >= 1e-12 ? cs / (hw * raw_w) : 0.0;
            for (int i = 0; i < c; i++)
                mag[(size_t)k * c + i] += gk * (fabs(fb[i]) / (hf * hw) + rw * fabs(wk[i]));
        }
    mag_w = max_abs(mag, nw);
    free(mag);
    /* float error grows with the summands, which may cancel (C = 1: the gradient is 0) */
    double atol_f = 2e-6 * (1.0 + max_abs(dfr, nf)) + 1e-6 * mag_f;
    double atol_w = 2e-6 * (1.0 + max_abs(dwr, nw)) + 1e-6 * mag_w;
    CosFd ctx = {fd, wd, gd, batch, classes, c, false, 0};

    snprintf(what, sizeof what, "cosine_backward B=%d K=%d C=%d%s", batch, classes, c,
             zero_row ? " zero row" : "");
    st = lpt_op_cosine_backward(oc->be, &tdf, &tdw, &tg, &tf, &tw, batch, classes, c, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        oc_check_tensor(oc, what, &tdf, dfr, atol_f, 1e-4);
        oc_check_tensor(oc, what, &tdw, dwr, atol_w, 1e-4);
        float *got = oc_fetch(oc, &tdf);
        check_cos_fd(oc, what, got, &ctx, fd, nf, nrm_f, atol_f);
        free(got);
        /* dw accumulated onto dw0: compare the increment with finite differences */
        got = oc_fetch(oc, &tdw);
        for (size_t i = 0; i < nw; i++)
            got[i] -= dw0[i];
        ctx.wrt_w = true;
        check_cos_fd(oc, what, got, &ctx, wd, nw, nrm_w, atol_w);
        free(got);
    }

    /* one gradient at a time: df with dw NULL, then dw alone (accumulating again) */
    snprintf(what, sizeof what, "cosine_backward df only B=%d K=%d C=%d", batch, classes, c);
    LptTensor tdf2 = oc_tensor(oc, "df2", LPT_F32, nf, NULL);
    st = lpt_op_cosine_backward(oc->be, &tdf2, NULL, &tg, &tf, &tw, batch, classes, c, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        oc_check_tensor(oc, what, &tdf2, dfr, atol_f, 1e-4);
    snprintf(what, sizeof what, "cosine_backward dw only B=%d K=%d C=%d", batch, classes, c);
    st = lpt_op_cosine_backward(oc->be, NULL, &tdw, &tg, &tf, &tw, batch, classes, c, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (size_t i = 0; i < nw; i++)
            dwr[i] += dwr[i] - dw0[i];
        oc_check_tensor(oc, what, &tdw, dwr, 2.0 * atol_w, 1e-4);
    }
    free(f), free(w), free(g), free(dw0), free(fd), free(wd), free(gd);
    free(dfr), free(dwr), free(nrm_f), free(nrm_w);
    oc_reset(oc);
}

/* A NaN in f's row 1 makes logits row 1 NaN and leaves the other rows finite. */
static void check_cosine_nan(OpCheck *oc)
{
    const int batch = 3, classes = 5, c = 9;
    float f[3 * 9], w[5 * 9];
    oc_fill_uniform(oc, f, 27, -1.0f, 1.0f);
    oc_fill_uniform(oc, w, 45, -1.0f, 1.0f);
    f[1 * c + 4] = NAN;
    double fd[27], wd[45], ref[15];
    for (int i = 0; i < 27; i++)
        fd[i] = f[i];
    for (int i = 0; i < 45; i++)
        wd[i] = w[i];
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < classes; k++)
            ref[b * classes + k] = ref_cos(fd + b * c, wd + k * c, c);
    LptTensor tf = oc_tensor(oc, "f", LPT_F32, 27, f), tw = oc_tensor(oc, "w", LPT_F32, 45, w);
    LptTensor tl = oc_tensor(oc, "logits", LPT_F32, 15, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_cosine_forward(oc->be, &tl, &tf, &tw, batch, classes, c, &err);
    if (oc_expect(oc, st == LPT_OK, "cosine_forward NaN row", "%s", err.message))
        oc_check_tensor(oc, "cosine_forward NaN row", &tl, ref, 3e-6, 1e-5);
    oc_reset(oc);
}

/* ---- A-GCL ------------------------------------------------------------------------------ */

typedef struct AgclRef {
    const LptAgclParams *p;
    const float *margins;
    const int32_t *labels;
    const double *eps; /* [B, K] from lpt_agcl_noise */
    int row;           /* the sample finite differences move */
    double grad_scale;
} AgclRef;

/* Loss of sample b, written straight from method.md section 4 (0 for an invalid label). */
static double ref_agcl_row(const AgclRef *r, const double *cos_row, int b)
{
    const LptAgclParams *p = r->p;
    int k_n = p->classes, y = r->labels[b];
    if (y < 0 || y >= k_n)
        return 0.0;
    double *z = calloc((size_t)k_n, sizeof *z), m = -INFINITY, s = 0.0;
    for (int k = 0; k < k_n; k++) {
        double c = cos_row[k];
        if (p->noise > 0.0f)
            c -= (double)p->noise * r->eps[(size_t)b * k_n + k] * r->margins[k];
        if (k == y)
            c -= p->margin;
        z[k] = (double)p->scale * c;
        m = z[k] > m ? z[k] : m;
    }
    for (int k = 0; k < k_n; k++)
        s += exp(z[k] - m);
    double py = exp(z[y] - m) / s, loss = 0.0;
    for (int k = 0; k < k_n; k++) {
        double pk = exp(z[k] - m) / s, logp = z[k] - m - log(s), wk;
        if (k == y)
            wk = p->gamma_pos > 0.0f ? pow(fmax(1.0 - py, 1e-12), p->gamma_pos) : 1.0;
        else
            wk = p->gamma_neg > 0.0f ? pow(pk, p->gamma_neg) : 1.0;
        double yt = (k == y ? 1.0 - p->smoothing : 0.0) + p->smoothing / k_n;
        loss -= yt * wk * logp;
    }
    free(z);
    return isnan(m) || m == -INFINITY ? NAN : loss;
}

static double agcl_fd_loss(const double *x, void *ctx)
{
    const AgclRef *r = ctx;
    return r->grad_scale * ref_agcl_row(r, x + (size_t)r->row * r->p->classes, r->row);
}

static double *agcl_eps(const LptAgclParams *p)
{
    size_t n = (size_t)p->batch * p->classes;
    double *eps = malloc(n * sizeof *eps);
    for (int b = 0; b < p->batch; b++)
        for (int k = 0; k < p->classes; k++)
            eps[(size_t)b * p->classes + k] =
                lpt_agcl_noise(p->seed, p->step, (uint32_t)b, (uint32_t)k);
    return eps;
}

/* Margins m_k / max m from random class counts: 0 for the most frequent class. */
static void fill_margins(OpCheck *oc, float *m, int classes)
{
    double *lg = malloc((size_t)classes * sizeof *lg), top = 0.0, spread = 0.0;
    for (int k = 0; k < classes; k++) {
        lg[k] = log(floor(oc_uniform(oc, 1.0f, 500.0f)));
        top = lg[k] > top ? lg[k] : top;
    }
    for (int k = 0; k < classes; k++)
        spread = top - lg[k] > spread ? top - lg[k] : spread;
    for (int k = 0; k < classes; k++)
        m[k] = spread > 0.0 ? (float)((top - lg[k]) / spread) : 0.0f;
    free(lg);
}

typedef struct AgclCase {
    int batch, classes;
    float gamma_pos, gamma_neg, noise, smoothing;
    bool bad_labels; /* some labels outside [0, K) */
    bool nan_row;    /* a NaN in cos row 0 */
} AgclCase;

static void check_agcl(OpCheck *oc, const AgclCase *ac)
{
    char what[160];
    LptAgclParams p;
    lpt_agcl_params_init(&p, ac->batch, ac->classes, ac->gamma_pos, ac->gamma_neg);
    p.noise = ac->noise;
    p.smoothing = ac->smoothing;
    p.seed = AGCL_SEED;
    p.step = AGCL_STEP;
    int batch = ac->batch, classes = ac->classes;
    size_t n = (size_t)batch * classes;
    float *cos = malloc(n * sizeof *cos), *margins = malloc((size_t)classes * sizeof *margins);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    oc_fill_uniform(oc, cos, n, -1.0f, 1.0f);
    fill_margins(oc, margins, classes);
    for (int b = 0; b < batch; b++) {
        labels[b] = (int32_t)(oc_uniform(oc, 0.0f, 1.0f) * classes) % classes;
        if (b % 3 == 1) /* a confident sample: p_y close to 1 */
            cos[(size_t)b * classes + labels[b]] = 1.0f;
    }
    if (ac->bad_labels) {
        labels[0] = -1;
        if (batch > 2)
            labels[2] = classes;
        if (batch > 3)
            labels[3] = INT32_MIN;
    }
    if (ac->nan_row)
        cos[classes > 1 ? 1 : 0] = NAN;
    double *eps = agcl_eps(&p), *cosd = oc_to_double(cos, n);
    double gscale = 1.0 / batch;
    AgclRef ref = {&p, margins, labels, eps, 0, gscale};
    LptTensor tc = oc_tensor(oc, "cos", LPT_F32, n, cos);
    LptTensor ty = oc_tensor(oc, "labels", LPT_I32, (size_t)batch, labels);
    LptTensor tm = oc_tensor(oc, "margins", LPT_F32, (size_t)classes, margins);
    LptTensor tloss = oc_tensor(oc, "loss", LPT_F32, (size_t)batch, NULL);
    LptTensor tdc = oc_tensor(oc, "dcos", LPT_F32, n, NULL);
    LptError err = {0};
    char tag[96];
    snprintf(tag, sizeof tag, "B=%d K=%d g=%g/%g noise=%g s=%g%s%s", batch, classes, ac->gamma_pos,
             ac->gamma_neg, ac->noise, ac->smoothing, ac->bad_labels ? " bad labels" : "",
             ac->nan_row ? " NaN" : "");

    snprintf(what, sizeof what, "agcl_forward %s", tag);
    LptStatus st = lpt_op_agcl_forward(oc->be, &tloss, &tc, &ty, &tm, &p, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double *lref = malloc((size_t)batch * sizeof *lref);
        for (int b = 0; b < batch; b++)
            lref[b] = ref_agcl_row(&ref, cosd + (size_t)b * classes, b);
        oc_check_tensor(oc, what, &tloss, lref, 2e-5, 2e-5);
        free(lref);
    }

    snprintf(what, sizeof what, "agcl_backward %s", tag);
    st = lpt_op_agcl_backward(oc->be, &tdc, &tc, &ty, &tm, &p, (float)gscale, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        /* finite differences everywhere for small cases, at samples for big ones */
        size_t idx[512];
        int ns = oc_sample_indices(oc, n, idx, 512);
        float *got = oc_fetch(oc, &tdc), *sel = malloc((size_t)ns * sizeof *sel);
        double *dref = malloc((size_t)ns * sizeof *dref);
        for (int s = 0; s < ns; s++) {
            ref.row = (int)(idx[s] / (size_t)classes);
            dref[s] = oc_fd(agcl_fd_loss, &ref, cosd, idx[s], 1e-5); /* NaN row: NaN */
            sel[s] = got[idx[s]];
        }
        oc_compare(oc, what, sel, dref, (size_t)ns, 2e-5 * gscale * p.scale, 1e-4);
        oc_check_guards(oc, &tdc, what);
        if (ac->bad_labels) { /* skipped samples: an exact zero row */
            int nonzero = 0;
            for (int b = 0; b < batch; b++)
                if (labels[b] < 0 || labels[b] >= classes)
                    for (int k = 0; k < classes; k++)
                        nonzero += got[(size_t)b * classes + k] != 0.0f;
            oc_expect(oc, nonzero == 0, what, "%d gradients of invalid-label rows are not 0",
                      nonzero);
        }
        free(got), free(sel), free(dref);
    }
    free(cos), free(margins), free(labels), free(eps), free(cosd);
    oc_reset(oc);
}

/* Each backend's eps, one by one: with cos = 0, margins = 1, noise = 1, no margin, no
 * focusing and no smoothing, z_k = -scale eps_k and dcos_k = grad_scale scale (p_k - [k=y])
 * with p = softmax(-scale eps). The loss is compared too, and against a reference that uses
 * the wrong step, which must fail (the check can tell generators apart). */
static void check_noise_agreement(OpCheck *oc)
{
    const int batch = 64, classes = 257;
    size_t n = (size_t)batch * classes;
    LptAgclParams p;
    lpt_agcl_params_init(&p, batch, classes, 0.0f, 0.0f);
    p.noise = 1.0f;
    p.margin = 0.0f;
    p.smoothing = 0.0f;
    p.scale = 4.0f;
    p.seed = 0xFEDCBA9876543210ull;
    p.step = 123456u;
    float *cos = calloc(n, sizeof *cos), *margins = malloc((size_t)classes * sizeof *margins);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    for (int k = 0; k < classes; k++)
        margins[k] = 1.0f;
    for (int b = 0; b < batch; b++)
        labels[b] = (b * 37) % classes;
    double *pref = malloc(n * sizeof *pref), *lref = malloc((size_t)batch * sizeof *lref);
    double *lwrong = malloc((size_t)batch * sizeof *lwrong);
    for (int pass = 1; pass >= 0; pass--) { /* 1: the wrong step; 0: the right one */
        uint32_t step = pass == 0 ? p.step : p.step + 1;
        for (int b = 0; b < batch; b++) {
            double s = 0.0, *row = pref + (size_t)b * classes;
            for (int k = 0; k < classes; k++)
                s += row[k] =
                    exp(-p.scale * lpt_agcl_noise(p.seed, step, (uint32_t)b, (uint32_t)k));
            (pass == 0 ? lref : lwrong)[b] = log(s) - log(row[labels[b]]);
            if (pass == 1)
                continue;
            for (int k = 0; k < classes; k++)
                row[k] = (row[k] / s - (k == labels[b])) / batch * p.scale;
        }
    }
    LptTensor tc = oc_tensor(oc, "cos", LPT_F32, n, cos);
    LptTensor ty = oc_tensor(oc, "labels", LPT_I32, (size_t)batch, labels);
    LptTensor tm = oc_tensor(oc, "margins", LPT_F32, (size_t)classes, margins);
    LptTensor tloss = oc_tensor(oc, "loss", LPT_F32, (size_t)batch, NULL);
    LptTensor tdc = oc_tensor(oc, "dcos", LPT_F32, n, NULL);
    LptError err = {0};
    const char *what = "agcl noise agreement";
    LptStatus st = lpt_op_agcl_forward(oc->be, &tloss, &tc, &ty, &tm, &p, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        oc_check_tensor(oc, what, &tloss, lref, 1e-6, 2e-6);
        float *got = oc_fetch(oc, &tloss);
        int differ = 0;
        for (int b = 0; b < batch; b++)
            differ += fabs(got[b] - lwrong[b]) > 1e-3 * fabs(lwrong[b]);
        oc_expect(oc, differ > batch / 2, what, "the wrong step matches %d of %d losses",
                  batch - differ, batch);
        free(got);
    }
    st = lpt_op_agcl_backward(oc->be, &tdc, &tc, &ty, &tm, &p, 1.0f / batch, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        oc_check_tensor(oc, what, &tdc, pref, 1e-9, 2e-6);
    free(cos), free(margins), free(labels), free(pref), free(lref), free(lwrong);
    oc_reset(oc);
}

/* lpt_agcl_noise is |clamp(N(0, 1/9), -1, 1)|: over 1e5 draws its mean is
 * (1/3) sqrt(2/pi) - (2/3) phi(3) + P(|Z| > 3) = 0.26571, its mean square
 * (1/9)(1 - P(|Z| > 3) - 6 phi(3)) + P(|Z| > 3) = 0.11056, 0.27% of draws are clamped to 1,
 * every value is in [0, 1], and neighbouring counters are uncorrelated. */
static void check_noise_statistics(OpCheck *oc)
{
    const int samples = 100, classes = 1000, n = samples * classes;
    double sum = 0.0, sum2 = 0.0, cross_step = 0.0, cross_class = 0.0;
    int clamped = 0, outside = 0;
    float prev = 0.0f;
    for (int b = 0; b < samples; b++)
        for (int k = 0; k < classes; k++) {
            float e = lpt_agcl_noise(AGCL_SEED, AGCL_STEP, (uint32_t)b, (uint32_t)k);
            float e_next = lpt_agcl_noise(AGCL_SEED, AGCL_STEP + 1, (uint32_t)b, (uint32_t)k);
            outside += !(e >= 0.0f && e <= 1.0f);
            clamped += e == 1.0f;
            sum += e;
            sum2 += (double)e * e;
            cross_step += ((double)e - 0.26571) * (e_next - 0.26571);
            if (k > 0)
                cross_class += ((double)e - 0.26571) * (prev - 0.26571);
            prev = e;
        }
    double mean = sum / n, var = sum2 / n - mean * mean;
    const char *what = "lpt_agcl_noise statistics";
    oc_expect(oc, outside == 0, what, "%d of %d values outside [0, 1]", outside, n);
    oc_expect(oc, fabs(mean - 0.26571) < 0.003, what, "mean %.5f, expected 0.26571", mean);
    oc_expect(oc, fabs(sum2 / n - 0.11056) < 0.003, what, "mean square %.5f, expected 0.11056",
              sum2 / n);
    oc_expect(oc, clamped > 150 && clamped < 400, what, "%d of %d clamped to 1, expected ~270",
              clamped, n);
    oc_expect(oc, fabs(cross_step / n / var) < 0.02 && fabs(cross_class / n / var) < 0.02, what,
              "correlation with the next step %.4f, next class %.4f", cross_step / n / var,
              cross_class / n / var);
    float a = lpt_agcl_noise(AGCL_SEED, 0, 0, 0),
          b = lpt_agcl_noise(AGCL_SEED + (1ull << 32), 0, 0, 0);
    oc_expect(oc, a != b, what, "the seed's high word does not change the noise");
}

/* ---- bad arguments ---------------------------------------------------------------------- */

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor big = oc_tensor(oc, "big", LPT_F32, 64, NULL);
    LptTensor labels = oc_tensor(oc, "labels", LPT_I32, 8, NULL);
    LptTensor flabels = oc_tensor(oc, "flabels", LPT_F32, 8, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_cosine_forward(oc->be, &small, &big, &big, 2, 4, 8, &err);
    oc_expect_error(oc, "cosine_forward: logits too small", st, &err, "'small'");
    st = lpt_op_cosine_forward(oc->be, &big, &big, &big, 2, 0, 8, &err);
    oc_expect_error(oc, "cosine_forward: zero classes", st, &err, "classes = 0");
    st = lpt_op_cosine_backward(oc->be, &labels, NULL, &big, &big, &big, 2, 4, 4, &err);
    oc_expect_error(oc, "cosine_backward: df of the wrong dtype", st, &err, "i32");
    st = lpt_op_cosine_backward(oc->be, NULL, &small, &big, &big, &big, 2, 4, 8, &err);
    oc_expect_error(oc, "cosine_backward: dw too small", st, &err, "'small'");
    st = lpt_op_cosine_backward(oc->be, NULL, NULL, NULL, &big, &big, 2, 4, 8, &err);
    oc_expect_error(oc, "cosine_backward: no dlogits", st, &err, "'dlogits' is NULL");

    LptAgclParams p;
    lpt_agcl_params_init(&p, 8, 8, 0.0f, 4.0f);
    st = lpt_op_agcl_forward(oc->be, &big, &big, &flabels, &big, &p, &err);
    oc_expect_error(oc, "agcl_forward: f32 labels", st, &err, "expected i32");
    st = lpt_op_agcl_forward(oc->be, &big, &big, &labels, &small, &p, &err);
    oc_expect_error(oc, "agcl_forward: margins too small", st, &err, "'small'");
    st = lpt_op_agcl_forward(oc->be, &small, &big, &labels, &big, &p, &err);
    oc_expect_error(oc, "agcl_forward: loss too small", st, &err, "'small'");
    st = lpt_op_agcl_backward(oc->be, &small, &big, &labels, &big, &p, 1.0f, &err);
    oc_expect_error(oc, "agcl_backward: dcos too small", st, &err, "'small'");
    st = lpt_op_agcl_backward(oc->be, &big, &big, &labels, &big, NULL, 1.0f, &err);
    oc_expect_error(oc, "agcl_backward: no parameters", st, &err, "no parameters");
    p.smoothing = 1.5f;
    st = lpt_op_agcl_forward(oc->be, &big, &big, &labels, &big, &p, &err);
    oc_expect_error(oc, "agcl_forward: smoothing > 1", st, &err, "smoothing in [0, 1]");
    p.smoothing = 0.1f;
    p.gamma_neg = -1.0f;
    st = lpt_op_agcl_backward(oc->be, &big, &big, &labels, &big, &p, 1.0f, &err);
    oc_expect_error(oc, "agcl_backward: negative gamma", st, &err, "gammas must be >= 0");
    p.gamma_neg = 4.0f;
    p.batch = 9; /* cos (63) and margins (7) still fit, labels (8) do not */
    p.classes = 7;
    st = lpt_op_agcl_forward(oc->be, &big, &big, &labels, &big, &p, &err);
    oc_expect_error(oc, "agcl_forward: labels too small", st, &err, "'labels'");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;

    const int cos_shapes[][3] = {
        {1, 1, 1},      {7, 33, 257},    {33, 7, 1}, {257, 7, 33},
        {5, 7, 1500},   {3, 11, 2100},   /* several column passes of the Vulkan backward */
        {8, 1000, 768}, {128, 257, 512}, /* ViT-B features, CLIP features */
    };
    for (size_t i = 0; i < sizeof cos_shapes / sizeof cos_shapes[0]; i++)
        check_cosine(&oc, cos_shapes[i][0], cos_shapes[i][1], cos_shapes[i][2], false);
    check_cosine(&oc, 9, 5, 33, true);
    check_cosine_nan(&oc);

    const float gammas[][2] = {{0.0f, 4.0f}, {0.5f, 8.0f}};
    const int classes[] = {1, 7, 33, 257, 1000};
    for (int gi = 0; gi < 2; gi++)
        for (int noise = 0; noise < 2; noise++)
            for (size_t ki = 0; ki < sizeof classes / sizeof classes[0]; ki++) {
                AgclCase ac = {.batch = classes[ki] >= 257 ? 5 : 7,
                               .classes = classes[ki],
                               .gamma_pos = gammas[gi][0],
                               .gamma_neg = gammas[gi][1],
                               .noise = noise ? 0.5f : 0.0f,
                               .smoothing = 0.1f};
                check_agcl(&oc, &ac);
            }
    const AgclCase extra[] = {
        {9, 33, 0.5f, 8.0f, 0.5f, 0.0f, false, false},     /* no smoothing */
        {9, 33, 0.0f, 4.0f, 0.5f, 1.0f, false, false},     /* uniform targets */
        {9, 33, 0.0f, 0.0f, 0.5f, 0.1f, false, false},     /* no focusing */
        {9, 33, 0.5f, 8.0f, 0.5f, 0.1f, true, false},      /* labels outside [0, K) are skipped */
        {4, 7, 0.5f, 8.0f, 0.5f, 0.1f, false, true},       /* NaN in, NaN out, that row only */
        {256, 1000, 0.5f, 8.0f, 0.5f, 0.1f, false, false}, /* a full instance-balanced batch */
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        check_agcl(&oc, &extra[i]);
    check_noise_agreement(&oc);
    check_noise_statistics(&oc);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_classifier");
}

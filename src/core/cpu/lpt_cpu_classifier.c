/* lpt_cpu_classifier.c: the cosine classifier and the A-GCL loss on the CPU backend.
 *
 * Cosine: the rows of f and w are normalised into scratch copies on the pool, then one
 * cblas_sgemm (on the calling thread) does the products. The backward uses the projection
 * form (see cosine_project) so it never needs the logits: two sgemms and a per-row fix-up.
 *
 * A-GCL: one pool task per block of samples; each row's logits z are computed once (noise
 * included) into a scratch row, then reduced in double.
 */
#include "lpt_cpu.h"

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define NORM_EPS 1e-12f
#define ROW_GRAIN_ELEMS 16384 /* about this many elements per parallel_for chunk */

static size_t row_grain(size_t row_len)
{
    size_t g = ROW_GRAIN_ELEMS / (row_len ? row_len : 1);
    return g ? g : 1;
}

/* ---- cosine classifier ------------------------------------------------------------------ */

typedef struct NormalizeCtx {
    const float *f, *w; /* rows [0, batch) come from f, [batch, batch + classes) from w */
    float *fn, *wn;     /* normalised copies */
    float *norm;        /* |row| (not clamped), batch + classes entries */
    int batch, c;
} NormalizeCtx;

/* Normalises rows [begin, end) of the stacked [f; w]: out = x / max(|x|, 1e-12). */
static void normalize_rows(void *ctx, size_t begin, size_t end)
{
    NormalizeCtx *n = ctx;
    for (size_t r = begin; r < end; r++) {
        bool is_f = r < (size_t)n->batch;
        size_t row = is_f ? r : r - (size_t)n->batch;
        const float *x = (is_f ? n->f : n->w) + row * (size_t)n->c;
        float *out = (is_f ? n->fn : n->wn) + row * (size_t)n->c;
        double ss = 0.0;
        for (int i = 0; i < n->c; i++)
            ss += (double)x[i] * x[i];
        float nrm = (float)sqrt(ss);
        float inv = 1.0f / fmaxf(nrm, NORM_EPS);
        for (int i = 0; i < n->c; i++)
            out[i] = x[i] * inv;
        n->norm[r] = nrm;
    }
}

/* Scratch for a cosine call: normalised copies, norms and (backward) one [K, C] product. */
typedef struct CosineScratch {
    float *block, *fn, *wn, *norm, *v;
} CosineScratch;

static LptStatus cosine_prepare(LptBackend *be, CosineScratch *s, const LptTensor *f,
                                const LptTensor *w, int batch, int classes, int c, bool need_v,
                                const char *op, LptError *err)
{
    size_t nf = (size_t)batch * c, nw = (size_t)classes * c;
    size_t total = nf + nw + (size_t)batch + classes + (need_v ? nw : 0);
    s->block = malloc(total * sizeof(float));
    if (!s->block)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "%s: out of host memory for %zu scratch floats", op, total);
    s->fn = s->block;
    s->wn = s->fn + nf;
    s->norm = s->wn + nw;
    s->v = need_v ? s->norm + batch + classes : NULL;
    NormalizeCtx ctx = {lpt_cpu_f32(f), lpt_cpu_f32(w), s->fn, s->wn, s->norm, batch, c};
    lpt_cpu_parallel_for(be, (size_t)batch + classes, row_grain((size_t)c), normalize_rows, &ctx);
    return LPT_OK;
}

LptStatus lpt_cpu_cosine_forward(LptBackend *be, const LptTensor *logits, const LptTensor *f,
                                 const LptTensor *w, int batch, int classes, int c, LptError *err)
{
    CosineScratch s = {0};
    LptStatus st = cosine_prepare(be, &s, f, w, batch, classes, c, false, "cosine_forward", err);
    if (st != LPT_OK)
        return st;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, classes, c, 1.0f, s.fn, c, s.wn, c,
                0.0f, lpt_cpu_f32(logits), classes);
    free(s.block);
    return LPT_OK;
}

/* The gradient through one normalisation. With x̂ = x / n̂, n̂ = max(|x|, eps), and
 * u = dL/dx̂ (the sum of the upstream gradient times the other side's normalised rows):
 *   dL/dx = (u - <x̂, u> x̂) / n̂   when |x| >= eps,
 *   dL/dx = u / eps               when |x| < eps (the clamp is constant there).
 * For df, u_b = sum_k g_bk ŵ_k; for dw, v_k = sum_b g_bk f̂_b. */
typedef struct ProjectCtx {
    float *grad;       /* [rows, c]: holds u on entry (assign) or receives the result (+=) */
    const float *u;    /* NULL: u is in grad (assign); else u to add into grad */
    const float *xhat; /* normalised rows */
    const float *norm; /* |x| per row */
    int c;
} ProjectCtx;

static void cosine_project(void *ctx, size_t begin, size_t end)
{
    ProjectCtx *p = ctx;
    for (size_t r = begin; r < end; r++) {
        float *g = p->grad + r * (size_t)p->c;
        const float *u = p->u ? p->u + r * (size_t)p->c : g;
        const float *xh = p->xhat + r * (size_t)p->c;
        float nrm = p->norm[r];
        float inv = 1.0f / fmaxf(nrm, NORM_EPS);
        float dot = 0.0f;
        if (nrm >= NORM_EPS) {
            double d = 0.0;
            for (int i = 0; i < p->c; i++)
                d += (double)xh[i] * u[i];
            dot = (float)d;
        }
        if (p->u)
            for (int i = 0; i < p->c; i++)
                g[i] += (u[i] - dot * xh[i]) * inv;
        else
            for (int i = 0; i < p->c; i++)
                g[i] = (u[i] - dot * xh[i]) * inv;
    }
}

LptStatus lpt_cpu_cosine_backward(LptBackend *be, const LptTensor *df, const LptTensor *dw,
                                  const LptTensor *dlogits, const LptTensor *f, const LptTensor *w,
                                  int batch, int classes, int c, LptError *err)
{
    if (!df && !dw)
        return LPT_OK;
    CosineScratch s = {0};
    LptStatus st =
        cosine_prepare(be, &s, f, w, batch, classes, c, dw != NULL, "cosine_backward", err);
    if (st != LPT_OK)
        return st;
    const float *g = lpt_cpu_f32(dlogits);
    if (df) {
        /* u = G Ŵ into df, then the projection in place */
        float *out = lpt_cpu_f32(df);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, c, classes, 1.0f, g, classes,
                    s.wn, c, 0.0f, out, c);
        ProjectCtx ctx = {out, NULL, s.fn, s.norm, c};
        lpt_cpu_parallel_for(be, (size_t)batch, row_grain((size_t)c), cosine_project, &ctx);
    }
    if (dw) {
        /* v = G^T F̂ into scratch, then dw += projection */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, classes, c, batch, 1.0f, g, classes,
                    s.fn, c, 0.0f, s.v, c);
        ProjectCtx ctx = {lpt_cpu_f32(dw), s.v, s.wn, s.norm + batch, c};
        lpt_cpu_parallel_for(be, (size_t)classes, row_grain((size_t)c), cosine_project, &ctx);
    }
    free(s.block);
    return LPT_OK;
}

/* ---- A-GCL ------------------------------------------------------------------------------ */

/* The loss of one sample (method.md section 4), with z = scale * c the adjusted logits,
 * l_j = log p_j = z_j - lse, ỹ_j = (1 - s) [j = y] + s / K:
 *   L = - sum_j ỹ_j w_j l_j,  w_y = max(1 - p_y, 1e-12)^γ+,  w_j = p_j^γ- (j != y).
 * Gradient. With dl_j/dz_i = δ_ij - p_i and dp_j/dz_i = p_j (δ_ij - p_i), every weight has
 * dw_j/dz_i = a_j (δ_ij - p_i), where
 *   a_j = γ- p_j^γ- = γ- w_j                               (j != y),
 *   a_y = -γ+ (1 - p_y)^(γ+ - 1) p_y                       (0 when γ+ = 0 or 1 - p_y is
 *                                                           clamped: w_y is then constant).
 * So dL/dz_i = - sum_j ỹ_j [a_j l_j + w_j] (δ_ij - p_i) = p_i Q - q_i, with
 *   q_j = ỹ_j (a_j l_j + w_j),  Q = sum_j q_j,
 * and dL/dcos_i = scale (p_i Q - q_i) (the noise and margins do not depend on cos).
 * 1 - p_y is computed as sum_{j != y} e^(z_j - m) / sum_j e^(z_j - m), which keeps its
 * digits when p_y is close to 1.
 *
 * Labels live on the device and are not validated by lpt_ops.c: a sample whose label is
 * outside [0, K) is skipped (loss 0, gradient row 0), the same on both backends. */

typedef struct AgclRow {
    double lse;      /* log sum_j e^z_j */
    double one_m_py; /* 1 - p_y */
    double wy, ay;   /* target weight and its a_y */
} AgclRow;

/* Fills z[K] for sample b with label y and returns the row's statistics. */
static AgclRow agcl_row(const LptAgclParams *p, int b, int y, const float *cos,
                        const float *margins, float *z)
{
    int k_n = p->classes;
    float m = -INFINITY;
    for (int k = 0; k < k_n; k++) {
        float c = cos[k];
        if (p->noise > 0.0f)
            c -= p->noise * lpt_agcl_noise(p->seed, p->step, (uint32_t)b, (uint32_t)k) * margins[k];
        if (k == y)
            c -= p->margin;
        z[k] = p->scale * c;
        m = z[k] > m ? z[k] : m;
    }
    if (!isfinite(m))
        m = 0.0f; /* all -inf or a NaN: the sums below carry it */
    double sum = 0.0, others = 0.0;
    for (int k = 0; k < k_n; k++) {
        double e = exp((double)z[k] - m);
        sum += e;
        if (k != y)
            others += e;
    }
    AgclRow r;
    r.lse = m + log(sum);
    r.one_m_py = others / sum;
    double py = exp((double)z[y] - r.lse);
    r.wy = 1.0;
    r.ay = 0.0;
    if (p->gamma_pos > 0.0f) {
        double omp = r.one_m_py > 1e-12 ? r.one_m_py : 1e-12;
        r.wy = pow(omp, p->gamma_pos);
        if (r.one_m_py > 1e-12)
            r.ay = -p->gamma_pos * pow(omp, p->gamma_pos - 1.0) * py;
    }
    return r;
}

typedef struct AgclCtx {
    float *out; /* loss [B] (forward) or dcos [B, K] (backward) */
    float *z;   /* [B, K] scratch logits (the backward uses dcos itself) */
    const float *cos;
    const int32_t *labels;
    const float *margins;
    const LptAgclParams *p;
    float grad_scale;
} AgclCtx;

/* Sample weight w_j and its a_j (see above) for a logit with log-probability l. */
static double agcl_weight(const LptAgclParams *p, const AgclRow *r, bool target, double l,
                          double *a)
{
    if (target) {
        *a = r->ay;
        return r->wy;
    }
    double w = p->gamma_neg > 0.0f ? exp(p->gamma_neg * l) : 1.0;
    *a = p->gamma_neg * w;
    return w;
}

static void agcl_fwd_rows(void *ctx, size_t begin, size_t end)
{
    AgclCtx *a = ctx;
    const LptAgclParams *p = a->p;
    size_t k_n = (size_t)p->classes;
    double smooth = p->smoothing / (double)k_n;
    for (size_t b = begin; b < end; b++) {
        int y = a->labels[b];
        if (y < 0 || y >= p->classes) {
            a->out[b] = 0.0f;
            continue;
        }
        float *z = a->z + b * k_n;
        AgclRow r = agcl_row(p, (int)b, y, a->cos + b * k_n, a->margins, z);
        double total = 0.0;
        for (size_t k = 0; k < k_n; k++) {
            bool target = (int)k == y;
            double l = z[k] - r.lse, unused;
            double yt = target ? 1.0 - p->smoothing + smooth : smooth;
            total += yt * agcl_weight(p, &r, target, l, &unused) * l;
        }
        a->out[b] = (float)-total;
    }
}

/* q_j = ỹ_j (a_j l_j + w_j) for logit k of a row. */
static double agcl_q(const LptAgclParams *p, const AgclRow *r, bool target, double l, double smooth)
{
    double a;
    double w = agcl_weight(p, r, target, l, &a);
    return (target ? 1.0 - p->smoothing + smooth : smooth) * (a * l + w);
}

static void agcl_bwd_rows(void *ctx, size_t begin, size_t end)
{
    AgclCtx *a = ctx;
    const LptAgclParams *p = a->p;
    size_t k_n = (size_t)p->classes;
    double smooth = p->smoothing / (double)k_n;
    double gscale = (double)a->grad_scale * p->scale;
    for (size_t b = begin; b < end; b++) {
        float *row = a->out + b * k_n;
        int y = a->labels[b];
        if (y < 0 || y >= p->classes) {
            for (size_t k = 0; k < k_n; k++)
                row[k] = 0.0f;
            continue;
        }
        /* z goes into the output row; pass 1 sums Q, pass 2 overwrites z with
         * grad_scale * scale * (p_i Q - q_i) */
        AgclRow r = agcl_row(p, (int)b, y, a->cos + b * k_n, a->margins, row);
        double q_sum = 0.0;
        for (size_t k = 0; k < k_n; k++)
            q_sum += agcl_q(p, &r, (int)k == y, row[k] - r.lse, smooth);
        for (size_t k = 0; k < k_n; k++) {
            double l = row[k] - r.lse;
            row[k] = (float)(gscale * (exp(l) * q_sum - agcl_q(p, &r, (int)k == y, l, smooth)));
        }
    }
}

LptStatus lpt_cpu_agcl_forward(LptBackend *be, const LptTensor *loss, const LptTensor *cos,
                               const LptTensor *labels, const LptTensor *margins,
                               const LptAgclParams *p, LptError *err)
{
    size_t n = (size_t)p->batch * p->classes;
    float *z = malloc(n * sizeof *z);
    if (!z)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "agcl_forward: out of host memory for %zu scratch floats", n);
    AgclCtx ctx = {
        lpt_cpu_f32(loss), z, lpt_cpu_f32(cos), lpt_cpu_i32(labels), lpt_cpu_f32(margins), p, 1.0f};
    lpt_cpu_parallel_for(be, (size_t)p->batch, row_grain((size_t)p->classes), agcl_fwd_rows, &ctx);
    free(z);
    return LPT_OK;
}

LptStatus lpt_cpu_agcl_backward(LptBackend *be, const LptTensor *dcos, const LptTensor *cos,
                                const LptTensor *labels, const LptTensor *margins,
                                const LptAgclParams *p, float grad_scale, LptError *err)
{
    AgclCtx ctx = {lpt_cpu_f32(dcos),    NULL, lpt_cpu_f32(cos), lpt_cpu_i32(labels),
                   lpt_cpu_f32(margins), p,    grad_scale};
    lpt_cpu_parallel_for(be, (size_t)p->batch, row_grain((size_t)p->classes), agcl_bwd_rows, &ctx);
    return LPT_OK;
}

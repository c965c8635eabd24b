/* test_ops_norm.c: LayerNorm and row L2-normalisation (forward and backward) against double
 * references and central finite differences, on every pair of rows in {1, 7, 33, 257, 1656}
 * and widths in {1, 7, 33, 257, 768}, plus 66000 rows (more than one dispatch has
 * workgroups), rows with a large offset (a naive one-pass variance fails them), constant rows
 * (zero variance: eps alone), zero rows for l2norm, frozen LayerNorms (NULL dweight / dbias),
 * and bad arguments.
 *
 * Tolerances (|got - ref| <= atol + rtol |ref|):
 *  - LayerNorm forward: out 2e-5 + 2e-5 rel; mean 1e-6 + 1e-6 rel; rstd 1e-5 rel.
 *  - LayerNorm din: 2e-5 + 2e-5 rel, plus the error the saved float mean brings: it is off by
 *    up to half an ulp of the mean, which moves xh by that times rstd, so on rows with a large
 *    mean / std ratio (an offset, or a near-constant short row) din may be off by about
 *    ulp(mean) rstd^2 max|g|; the tolerance adds 4 times the largest such term over the rows
 *    (rows of zero variance excepted: there x - mean is exact).
 *  - dweight, dbias (sums over rows): 1e-5 sqrt(rows) + 2e-5 rel, plus 2 max(ulp(mean) rstd)
 *    sqrt(rows) (the same rounding, summed over rows with random signs).
 *  - l2norm: out 1e-6 + 1e-5 rel, norm 1e-5 rel, din 1e-5 + 2e-5 rel after scaling each row
 *    by max(||x||, 1e-12) (din's float error grows as 1 / ||x||).
 * The finite differences use h = 1e-3 (LayerNorm; 1e-3 / rstd for din on rows with rstd > 1)
 * and 1e-4 (l2norm; 1e-16 on zero rows).
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_SAMPLES 48

/* ---- LayerNorm reference --------------------------------------------------------------- */

/* Mean and 1/sqrt(var + eps) of x[0, c) in double (two passes). */
static void ref_stats(const double *x, int c, double eps, double *mean, double *rstd)
{
    double s = 0, v = 0;
    for (int i = 0; i < c; i++)
        s += x[i];
    double m = s / c;
    for (int i = 0; i < c; i++)
        v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *rstd = 1.0 / sqrt(v / c + eps);
}

/* The loss sum(dout * layernorm(x)) of one row, as a function of that row (for din). */
typedef struct LnRowFd {
    const float *dout, *weight, *bias; /* dout of the row; weight, bias [c] */
    int c;
    double eps;
} LnRowFd;

static double ln_row_loss(const double *x, void *ctx)
{
    const LnRowFd *f = ctx;
    double m, rs, loss = 0;
    ref_stats(x, f->c, f->eps, &m, &rs);
    for (int i = 0; i < f->c; i++)
        loss += f->dout[i] * ((x[i] - m) * rs * f->weight[i] + f->bias[i]);
    return loss;
}

/* The loss sum(dout * layernorm(x)) restricted to column j (the only terms that depend on
 * weight[j] and bias[j]), as a function of the parameter vector p (weight or bias). */
typedef struct LnColFd {
    const double *xh;    /* [rows, c] normalised input (double) */
    const float *dout;   /* [rows, c] */
    const double *w, *b; /* the parameters not varied (one of them is p) */
    bool vary_bias;
    int rows, c, j;
} LnColFd;

static double ln_col_loss(const double *p, void *ctx)
{
    const LnColFd *f = ctx;
    double w = f->vary_bias ? f->w[f->j] : p[f->j];
    double b = f->vary_bias ? p[f->j] : f->b[f->j];
    double loss = 0;
    for (int r = 0; r < f->rows; r++) {
        size_t k = (size_t)r * f->c + f->j;
        loss += f->dout[k] * (f->xh[k] * w + b);
    }
    return loss;
}

/* One LayerNorm case. offset shifts every value (a naive variance cancels); constant_row
 * makes row 0 constant (zero variance). */
typedef struct LnCase {
    int rows, c;
    float offset, eps;
    bool constant_row;
} LnCase;

/* Central finite differences of the double reference at sampled indices: din (indices
 * into [rows, c]) and the parameter gradients (columns). */
typedef struct LnFd {
    size_t din_idx[FD_SAMPLES], col_idx[FD_SAMPLES];
    double din[FD_SAMPLES], dw[FD_SAMPLES], db[FD_SAMPLES];
    int n_din, n_col;
} LnFd;

/* Compares got[idx[s]] - base[idx[s]] (base may be NULL) with fd[s] for the k samples. */
static void compare_samples(OpCheck *oc, const char *what, const float *got, const float *base,
                            const double *fd, const size_t *idx, int k, double atol, double rtol)
{
    float g[FD_SAMPLES];
    for (int s = 0; s < k; s++)
        g[s] = got[idx[s]] - (base ? base[idx[s]] : 0.0f);
    oc_compare(oc, what, g, fd, (size_t)k, atol, rtol);
}

/* The references and tolerances a backward check compares with. */
typedef struct LnRef {
    const double *din, *dw, *db; /* analytic, in double (dw, db include the initial values) */
    const float *dw0, *db0;      /* initial dweight, dbias */
    const LnFd *fd;
    double din_atol, param_atol;
} LnRef;

/* Runs layernorm_backward with the optional gradients that are wanted (initialised from
 * dw0 / db0) and checks din, dweight and dbias against the analytic references (every value)
 * and the finite differences (samples); an absent gradient must stay untouched. */
static void check_ln_backward(OpCheck *oc, const LnCase *lc, const char *variant,
                              LptTensor *dout, LptTensor *in, LptTensor *mean, LptTensor *rstd,
                              LptTensor *weight, bool with_dw, bool with_db, const LnRef *ref)
{
    char what[128], sub[160];
    size_t n = (size_t)lc->rows * lc->c;
    LptTensor din = oc_tensor(oc, "din", LPT_F32, n, NULL);
    LptTensor dw = oc_tensor(oc, "dweight", LPT_F32, (size_t)lc->c, ref->dw0);
    LptTensor db = oc_tensor(oc, "dbias", LPT_F32, (size_t)lc->c, ref->db0);
    LptError err = {0};
    snprintf(what, sizeof what, "layernorm_backward %s rows=%d c=%d offset=%g", variant,
             lc->rows, lc->c, lc->offset);
    LptStatus st = lpt_op_layernorm_backward(oc->be, &din, with_dw ? &dw : NULL,
                                             with_db ? &db : NULL, dout, in, mean, rstd, weight,
                                             lc->rows, lc->c, &err);
    if (!oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        return;
    float *got = oc_fetch(oc, &din);
    snprintf(sub, sizeof sub, "%s din", what);
    oc_compare(oc, sub, got, ref->din, n, ref->din_atol, 2e-5);
    oc_check_guards(oc, &din, sub);
    snprintf(sub, sizeof sub, "%s din vs finite differences", what);
    compare_samples(oc, sub, got, NULL, ref->fd->din, ref->fd->din_idx, ref->fd->n_din,
                    ref->din_atol, 2e-5);
    free(got);

    const LptTensor *grads[2] = {&dw, &db};
    const char *names[2] = {"dweight", "dbias"};
    const double *full[2] = {ref->dw, ref->db}, *fd[2] = {ref->fd->dw, ref->fd->db};
    const float *init[2] = {ref->dw0, ref->db0};
    bool wanted[2] = {with_dw, with_db};
    for (int g = 0; g < 2; g++) {
        got = oc_fetch(oc, grads[g]);
        snprintf(sub, sizeof sub, "%s %s", what, names[g]);
        if (wanted[g]) {
            oc_compare(oc, sub, got, full[g], (size_t)lc->c, ref->param_atol, 2e-5);
            snprintf(sub, sizeof sub, "%s %s vs finite differences", what, names[g]);
            compare_samples(oc, sub, got, init[g], fd[g], ref->fd->col_idx, ref->fd->n_col,
                            ref->param_atol, 2e-5);
        } else {
            double *untouched = oc_to_double(init[g], (size_t)lc->c);
            oc_compare(oc, sub, got, untouched, (size_t)lc->c, 0.0, 0.0);
            free(untouched);
        }
        oc_check_guards(oc, grads[g], sub);
        free(got);
    }
}

static void check_layernorm(OpCheck *oc, const LnCase *lc)
{
    char what[128];
    int rows = lc->rows, c = lc->c;
    size_t n = (size_t)rows * c;
    float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy);
    float *w = malloc(c * sizeof *w), *b = malloc(c * sizeof *b);
    float *dw0 = malloc(c * sizeof *dw0), *db0 = malloc(c * sizeof *db0);
    for (int r = 0; r < rows; r++) {
        float scale = 0.5f + (float)(r % 3); /* rows of different spread */
        for (int i = 0; i < c; i++)
            x[(size_t)r * c + i] = lc->offset + scale * oc_uniform(oc, -2.0f, 2.0f);
    }
    if (lc->constant_row)
        for (int i = 0; i < c; i++)
            x[i] = lc->offset + 3.0f;
    oc_fill_uniform(oc, dy, n, -1.0f, 1.0f);
    oc_fill_uniform(oc, w, (size_t)c, -1.5f, 1.5f);
    oc_fill_uniform(oc, b, (size_t)c, -1.0f, 1.0f);
    oc_fill_uniform(oc, dw0, (size_t)c, -1.0f, 1.0f);
    oc_fill_uniform(oc, db0, (size_t)c, -1.0f, 1.0f);

    /* double references: stats, out, din (analytic), dweight, dbias (accumulated) */
    double *xd = oc_to_double(x, n), *xh = malloc(n * sizeof *xh);
    double *mean_ref = malloc(rows * sizeof *mean_ref), *rstd_ref = malloc(rows * sizeof *rstd_ref);
    double *out_ref = malloc(n * sizeof *out_ref), *din_ref = malloc(n * sizeof *din_ref);
    double *dw_ref = oc_to_double(dw0, (size_t)c), *db_ref = oc_to_double(db0, (size_t)c);
    double din_extra = 0, param_extra = 0; /* the saved float mean's rounding (header) */
    for (int r = 0; r < rows; r++) {
        const double *xr = xd + (size_t)r * c;
        double m, rs, sg = 0, sgx = 0;
        ref_stats(xr, c, lc->eps, &m, &rs);
        mean_ref[r] = m;
        rstd_ref[r] = rs;
        double max_g = 0;
        for (int i = 0; i < c; i++) {
            size_t k = (size_t)r * c + i;
            double g = (double)dy[k] * w[i];
            xh[k] = (xr[i] - m) * rs;
            out_ref[k] = xh[k] * w[i] + b[i];
            sg += g;
            sgx += g * xh[k];
            dw_ref[i] += dy[k] * xh[k];
            db_ref[i] += dy[k];
            max_g = fmax(max_g, fabs(g));
        }
        if (rs < 1.0 / sqrt(lc->eps)) { /* variance > 0 */
            float am = fabsf((float)m);
            double ulp = nextafterf(am, INFINITY) - am;
            din_extra = fmax(din_extra, 4.0 * ulp * rs * rs * max_g);
            param_extra = fmax(param_extra, 2.0 * ulp * rs);
        }
        for (int i = 0; i < c; i++) {
            size_t k = (size_t)r * c + i;
            din_ref[k] = rs * ((double)dy[k] * w[i] - sg / c - xh[k] * sgx / c);
        }
    }

    /* finite differences; h shrinks on rows of large rstd (a constant row: 1/sqrt(eps)) */
    LnFd fd;
    fd.n_din = oc_sample_indices(oc, n, fd.din_idx, FD_SAMPLES);
    for (int s = 0; s < fd.n_din; s++) {
        size_t r = fd.din_idx[s] / c;
        LnRowFd f = {dy + r * c, w, b, c, lc->eps};
        fd.din[s] = oc_fd(ln_row_loss, &f, xd + r * c, fd.din_idx[s] % c,
                          1e-3 / fmax(1.0, rstd_ref[r]));
    }
    double *wd = oc_to_double(w, (size_t)c), *bd = oc_to_double(b, (size_t)c);
    fd.n_col = oc_sample_indices(oc, (size_t)c, fd.col_idx, FD_SAMPLES);
    for (int s = 0; s < fd.n_col; s++) {
        LnColFd f = {xh, dy, wd, bd, false, rows, c, (int)fd.col_idx[s]};
        fd.dw[s] = oc_fd(ln_col_loss, &f, wd, fd.col_idx[s], 1e-3);
        f.vary_bias = true;
        fd.db[s] = oc_fd(ln_col_loss, &f, bd, fd.col_idx[s], 1e-3);
    }
    free(wd), free(bd);

    LnRef ref = {din_ref, dw_ref, db_ref, dw0, db0, &fd,
                 2e-5 + din_extra, (1e-5 + param_extra) * sqrt((double)rows)};

    LptTensor in = oc_tensor(oc, "in", LPT_F32, n, x);
    LptTensor weight = oc_tensor(oc, "weight", LPT_F32, (size_t)c, w);
    LptTensor bias = oc_tensor(oc, "bias", LPT_F32, (size_t)c, b);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, n, NULL);
    LptTensor mean = oc_tensor(oc, "mean", LPT_F32, (size_t)rows, NULL);
    LptTensor rstd = oc_tensor(oc, "rstd", LPT_F32, (size_t)rows, NULL);
    LptTensor dout = oc_tensor(oc, "dout", LPT_F32, n, dy);
    LptError err = {0};

    snprintf(what, sizeof what, "layernorm_forward rows=%d c=%d offset=%g eps=%g%s", rows, c,
             lc->offset, lc->eps, lc->constant_row ? " (constant row)" : "");
    LptStatus st = lpt_op_layernorm_forward(oc->be, &out, &mean, &rstd, &in, &weight, &bias, rows,
                                            c, lc->eps, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s out", what);
        oc_check_tensor(oc, sub, &out, out_ref, 2e-5, 2e-5);
        snprintf(sub, sizeof sub, "%s mean", what);
        oc_check_tensor(oc, sub, &mean, mean_ref, 1e-6, 1e-6);
        snprintf(sub, sizeof sub, "%s rstd", what);
        oc_check_tensor(oc, sub, &rstd, rstd_ref, 0.0, 1e-5);

        /* the backward uses the forward's saved mean and rstd, as training does */
        bool only_w = (rows + c) % 2 == 0;
        check_ln_backward(oc, lc, "dweight+dbias", &dout, &in, &mean, &rstd, &weight, true, true,
                          &ref);
        if (rows < 65536) { /* on lavapipe 66000 rows take seconds per call */
            check_ln_backward(oc, lc, "frozen", &dout, &in, &mean, &rstd, &weight, false, false,
                              &ref);
            check_ln_backward(oc, lc, only_w ? "dweight only" : "dbias only", &dout, &in, &mean,
                              &rstd, &weight, only_w, !only_w, &ref);
        }
    }
    free(x), free(dy), free(w), free(b), free(dw0), free(db0);
    free(xd), free(xh), free(mean_ref), free(rstd_ref), free(out_ref), free(din_ref);
    free(dw_ref), free(db_ref);
    oc_reset(oc);
}

/* ---- L2 normalisation ------------------------------------------------------------------ */

/* The loss sum(dout * x / max(||x||, 1e-12)) of one row, as a function of that row. */
typedef struct L2RowFd {
    const float *dout;
    int n;
} L2RowFd;

static double l2_row_loss(const double *x, void *ctx)
{
    const L2RowFd *f = ctx;
    double ss = 0, loss = 0;
    for (int i = 0; i < f->n; i++)
        ss += x[i] * x[i];
    double d = fmax(sqrt(ss), 1e-12);
    for (int i = 0; i < f->n; i++)
        loss += f->dout[i] * x[i] / d;
    return loss;
}

/* One l2norm case; zero_row makes row 0 all zeros (the clamp). */
static void check_l2norm(OpCheck *oc, int rows, int n, bool zero_row)
{
    char what[128], sub[160];
    size_t total = (size_t)rows * n;
    float *x = malloc(total * sizeof *x), *dy = malloc(total * sizeof *dy);
    oc_fill_uniform(oc, x, total, -1.0f, 1.0f);
    oc_fill_uniform(oc, dy, total, -1.0f, 1.0f);
    if (zero_row)
        memset(x, 0, n * sizeof *x);
    double *xd = oc_to_double(x, total);
    double *out_ref = malloc(total * sizeof *out_ref), *din_ref = malloc(total * sizeof *din_ref);
    double *norm_ref = malloc(rows * sizeof *norm_ref);
    for (int r = 0; r < rows; r++) {
        const double *xr = xd + (size_t)r * n;
        double ss = 0, dot = 0;
        for (int i = 0; i < n; i++)
            ss += xr[i] * xr[i];
        norm_ref[r] = sqrt(ss);
        double d = fmax(norm_ref[r], 1e-12);
        for (int i = 0; i < n; i++) {
            out_ref[(size_t)r * n + i] = xr[i] / d;
            dot += dy[(size_t)r * n + i] * out_ref[(size_t)r * n + i];
        }
        if (norm_ref[r] <= 1e-12)
            dot = 0;
        for (int i = 0; i < n; i++) {
            size_t k = (size_t)r * n + i;
            din_ref[k] = (dy[k] - out_ref[k] * dot) / d;
        }
    }
    LptTensor in = oc_tensor(oc, "in", LPT_F32, total, x);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, total, NULL);
    LptTensor norm = oc_tensor(oc, "norm", LPT_F32, (size_t)rows, NULL);
    LptTensor dout = oc_tensor(oc, "dout", LPT_F32, total, dy);
    LptTensor din = oc_tensor(oc, "din", LPT_F32, total, NULL);
    LptError err = {0};

    snprintf(what, sizeof what, "l2norm_forward rows=%d n=%d%s", rows, n,
             zero_row ? " (zero row)" : "");
    LptStatus st = lpt_op_l2norm_forward(oc->be, &out, &norm, &in, rows, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        snprintf(sub, sizeof sub, "%s out", what);
        oc_check_tensor(oc, sub, &out, out_ref, 1e-6, 1e-5);
        snprintf(sub, sizeof sub, "%s norm", what);
        oc_check_tensor(oc, sub, &norm, norm_ref, 0.0, 1e-5);

        snprintf(what, sizeof what, "l2norm_backward rows=%d n=%d%s", rows, n,
                 zero_row ? " (zero row)" : "");
        st = lpt_op_l2norm_backward(oc->be, &din, &dout, &out, &norm, rows, n, &err);
        if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
            /* din scaled by each row's max(||x||, 1e-12): dout - out (dout . out) is O(1)
             * whatever the norm, so one tolerance fits every row */
            float *got = oc_fetch(oc, &din);
            double *ref_scaled = malloc(total * sizeof *ref_scaled);
            for (size_t i = 0; i < total; i++) {
                double d = fmax(norm_ref[i / n], 1e-12);
                got[i] = (float)(got[i] * d);
                ref_scaled[i] = din_ref[i] * d;
            }
            oc_compare(oc, what, got, ref_scaled, total, 1e-5, 2e-5);
            oc_check_guards(oc, &din, what);
            free(ref_scaled);
            size_t idx[FD_SAMPLES];
            double fd[FD_SAMPLES];
            int k = oc_sample_indices(oc, total, idx, FD_SAMPLES);
            for (int s = 0; s < k; s++) {
                size_t r = idx[s] / n;
                L2RowFd f = {dy + r * n, n};
                double h = norm_ref[r] > 1e-12 ? 1e-4 : 1e-16, d = fmax(norm_ref[r], 1e-12);
                fd[s] = oc_fd(l2_row_loss, &f, xd + r * n, idx[s] % n, h) * d;
            }
            snprintf(sub, sizeof sub, "%s vs finite differences", what);
            compare_samples(oc, sub, got, NULL, fd, idx, k, 1e-5, 2e-5);
            free(got);
        }
    }
    free(x), free(dy), free(xd), free(out_ref), free(din_ref), free(norm_ref);
    oc_reset(oc);
}

/* ---- bad arguments --------------------------------------------------------------------- */

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor x = oc_tensor(oc, "x", LPT_F32, 7 * 33, NULL);
    LptTensor y = oc_tensor(oc, "y", LPT_F32, 7 * 33, NULL);
    LptTensor row = oc_tensor(oc, "row", LPT_F32, 33, NULL);
    LptTensor stat = oc_tensor(oc, "stat", LPT_F32, 7, NULL);
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 6, NULL);
    LptTensor labels = oc_tensor(oc, "labels", LPT_I32, 7 * 33, NULL);
    LptError err = {0};
    LptStatus st;
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &row, &row, 7, 33, 0.0f, &err);
    oc_expect_error(oc, "layernorm_forward: eps = 0", st, &err, "eps must be > 0");
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &row, &row, 7, 33, -1e-5f, &err);
    oc_expect_error(oc, "layernorm_forward: eps < 0", st, &err, "eps must be > 0");
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &row, &row, 7, 33, NAN, &err);
    oc_expect_error(oc, "layernorm_forward: eps NaN", st, &err, "eps must be > 0");
    st = lpt_op_layernorm_forward(oc->be, &y, &small, &stat, &x, &row, &row, 7, 33, 1e-5f, &err);
    oc_expect_error(oc, "layernorm_forward: mean too small", st, &err, "'small'");
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &stat, &row, 7, 33, 1e-5f, &err);
    oc_expect_error(oc, "layernorm_forward: weight too small", st, &err, "'stat'");
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &row, &row, 8, 33, 1e-5f, &err);
    oc_expect_error(oc, "layernorm_forward: out too small for rows", st, &err, "'y'");
    st = lpt_op_layernorm_forward(oc->be, &y, &stat, &stat, &x, &row, NULL, 7, 33, 1e-5f, &err);
    oc_expect_error(oc, "layernorm_forward: bias NULL", st, &err, "'bias' is NULL");
    st = lpt_op_layernorm_backward(oc->be, NULL, &row, &row, &y, &x, &stat, &stat, &row, 7, 33,
                                   &err);
    oc_expect_error(oc, "layernorm_backward: din NULL", st, &err, "'din' is NULL");
    st = lpt_op_layernorm_backward(oc->be, &y, &small, NULL, &y, &x, &stat, &stat, &row, 7, 33,
                                   &err);
    oc_expect_error(oc, "layernorm_backward: dweight too small", st, &err, "'small'");
    st = lpt_op_layernorm_backward(oc->be, &y, NULL, NULL, &y, &labels, &stat, &stat, &row, 7,
                                   33, &err);
    oc_expect_error(oc, "layernorm_backward: in is i32", st, &err, "i32");
    st = lpt_op_layernorm_backward(oc->be, &y, NULL, NULL, &y, &x, &stat, &stat, &row, 7, 0,
                                   &err);
    oc_expect_error(oc, "layernorm_backward: c = 0", st, &err, "c = 0");
    st = lpt_op_l2norm_forward(oc->be, &y, &stat, &x, 0, 33, &err);
    oc_expect_error(oc, "l2norm_forward: rows = 0", st, &err, "rows = 0");
    st = lpt_op_l2norm_forward(oc->be, &y, &small, &x, 7, 33, &err);
    oc_expect_error(oc, "l2norm_forward: norm too small", st, &err, "'small'");
    st = lpt_op_l2norm_backward(oc->be, &y, &labels, &x, &stat, 7, 33, &err);
    oc_expect_error(oc, "l2norm_backward: dout is i32", st, &err, "i32");
    st = lpt_op_l2norm_backward(oc->be, &y, &y, &x, &stat, 7, 34, &err);
    oc_expect_error(oc, "l2norm_backward: n too large for the tensors", st, &err, "'y'");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    const int rows[] = {1, 7, 33, 257, 1656};
    const int widths[] = {1, 7, 33, 257, 768};
    for (int r = 0; r < 5; r++)
        for (int w = 0; w < 5; w++) {
            LnCase lc = {rows[r], widths[w], 0.0f, 1e-5f, false};
            check_layernorm(&oc, &lc);
            check_l2norm(&oc, rows[r], widths[w], (r + w) % 2 == 1);
        }
    const LnCase special[] = {
        {33, 33, 1e3f, 1e-5f, false},   {7, 257, -1e3f, 1e-6f, false},
        {257, 768, 1e3f, 1e-6f, false}, {1656, 768, 1e3f, 1e-5f, false},
        {33, 7, 0.0f, 0.1f, true},      {7, 768, 1e3f, 1e-5f, true},
        {66000, 3, 0.0f, 1e-5f, false}, /* more rows than one dispatch has workgroups */
    };
    for (size_t s = 0; s < sizeof special / sizeof special[0]; s++)
        check_layernorm(&oc, &special[s]);
    check_l2norm(&oc, 66000, 3, true);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_norm");
}

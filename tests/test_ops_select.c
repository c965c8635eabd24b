/* test_ops_select.c: prompt-pool gather/mean (forward against a double reference, backward
 * against the reference scatter and central finite differences) and per-row top-k (exact
 * values and indices against a selection reference), on odd shapes and the ones LPT++ uses
 * (20 pool entries, k = 2), with repeated and out-of-range indices, ties, -0/+0, NaN/Inf
 * rows, and bad arguments. */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum {
    IDX_RANDOM,   /* uniform in [0, M) */
    IDX_REPEATED, /* every j of a row picks the same entry */
    IDX_INVALID,  /* random, with some -1, M, INT32_MAX and INT32_MIN mixed in */
} IdxMode;
static const char *idx_names[] = {"random", "repeated", "out-of-range"};

typedef struct GatherShape {
    int batch, k, pool_size, entry_size;
} GatherShape;

/* out[b, e] = sum of the valid selected entries / k, in double. */
static void ref_gather_mean(double *out, const double *pool, const int32_t *idx,
                            const GatherShape *s)
{
    for (int b = 0; b < s->batch; b++)
        for (int e = 0; e < s->entry_size; e++) {
            double acc = 0.0;
            for (int j = 0; j < s->k; j++) {
                int32_t m = idx[b * s->k + j];
                if (m >= 0 && m < s->pool_size)
                    acc += pool[(size_t)m * s->entry_size + e];
            }
            out[(size_t)b * s->entry_size + e] = acc / s->k;
        }
}

typedef struct LossCtx {
    const GatherShape *s;
    const int32_t *idx;
    const float *dout;
    double *out;
} LossCtx;

/* sum over (b, e) of dout * gather_mean(pool): its gradient in pool is the backward. */
static double gather_loss(const double *pool, void *ctx)
{
    LossCtx *c = ctx;
    ref_gather_mean(c->out, pool, c->idx, c->s);
    double loss = 0.0;
    for (size_t i = 0; i < (size_t)c->s->batch * c->s->entry_size; i++)
        loss += c->dout[i] * c->out[i];
    return loss;
}

static void check_gather_mean(OpCheck *oc, GatherShape s, IdxMode mode)
{
    char what[128];
    size_t n_out = (size_t)s.batch * s.entry_size, n_pool = (size_t)s.pool_size * s.entry_size;
    size_t n_idx = (size_t)s.batch * s.k;
    float *pool = malloc(n_pool * sizeof *pool), *dy = malloc(n_out * sizeof *dy);
    float *dp0 = malloc(n_pool * sizeof *dp0);
    int32_t *idx = malloc(n_idx * sizeof *idx);
    double *ref = malloc(n_out * sizeof *ref), *dref = malloc(n_pool * sizeof *dref);
    oc_fill_uniform(oc, pool, n_pool, -1.0f, 1.0f);
    oc_fill_uniform(oc, dy, n_out, -1.0f, 1.0f);
    oc_fill_uniform(oc, dp0, n_pool, -1.0f, 1.0f);
    const int32_t invalid[] = {-1, s.pool_size, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < n_idx; i++) {
        idx[i] = (int32_t)(oc_uniform(oc, 0.0f, 1.0f) * (float)s.pool_size) % s.pool_size;
        if (mode == IDX_REPEATED && i % s.k)
            idx[i] = idx[i - 1];
        if (mode == IDX_INVALID && i % 3 == 1)
            idx[i] = invalid[(i / 3) % 4];
    }
    LptTensor tpool = oc_tensor(oc, "pool", LPT_F32, n_pool, pool);
    LptTensor tidx = oc_tensor(oc, "indices", LPT_I32, n_idx, idx);
    LptTensor tout = oc_tensor(oc, "out", LPT_F32, n_out, NULL);
    LptTensor tdout = oc_tensor(oc, "dout", LPT_F32, n_out, dy);
    LptTensor tdpool = oc_tensor(oc, "dpool", LPT_F32, n_pool, dp0);
    LptError err = {0};

    snprintf(what, sizeof what, "gather_mean_forward B=%d k=%d M=%d E=%d %s", s.batch, s.k,
             s.pool_size, s.entry_size, idx_names[mode]);
    LptStatus st = lpt_op_gather_mean_forward(oc->be, &tout, &tpool, &tidx, s.batch, s.k,
                                              s.pool_size, s.entry_size, &err);
    double *pool_d = oc_to_double(pool, n_pool);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        ref_gather_mean(ref, pool_d, idx, &s);
        oc_check_tensor(oc, what, &tout, ref, 1e-6, 1e-6);
    }

    snprintf(what, sizeof what, "gather_mean_backward B=%d k=%d M=%d E=%d %s", s.batch, s.k,
             s.pool_size, s.entry_size, idx_names[mode]);
    st = lpt_op_gather_mean_backward(oc->be, &tdpool, &tdout, &tidx, s.batch, s.k, s.pool_size,
                                     s.entry_size, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        /* the scatter written out, accumulated onto the initial dpool */
        for (size_t i = 0; i < n_pool; i++)
            dref[i] = 0.0;
        for (size_t i = 0; i < n_idx; i++) {
            int32_t m = idx[i];
            if (m < 0 || m >= s.pool_size)
                continue;
            for (int e = 0; e < s.entry_size; e++)
                dref[(size_t)m * s.entry_size + e] +=
                    dy[(i / s.k) * s.entry_size + e] / (double)s.k;
        }
        for (size_t i = 0; i < n_pool; i++)
            dref[i] += dp0[i];
        float *got = oc_fetch(oc, &tdpool);
        oc_check_tensor(oc, what, &tdpool, dref, 1e-5, 1e-5);

        /* central finite differences of the double forward at sampled pool values */
        enum { SAMPLES = 24 };
        size_t at[SAMPLES];
        int ns = oc_sample_indices(oc, n_pool, at, SAMPLES);
        float got_s[SAMPLES];
        double fd_s[SAMPLES];
        LossCtx ctx = {&s, idx, dy, ref};
        for (int i = 0; i < ns; i++) {
            got_s[i] = got[at[i]] - dp0[at[i]];
            fd_s[i] = oc_fd(gather_loss, &ctx, pool_d, at[i], 1e-3);
        }
        snprintf(what, sizeof what, "gather_mean_backward fd B=%d k=%d M=%d E=%d %s", s.batch,
                 s.k, s.pool_size, s.entry_size, idx_names[mode]);
        oc_compare(oc, what, got_s, fd_s, (size_t)ns, 1e-5, 1e-5);
        free(got);
    }
    free(pool), free(dy), free(dp0), free(idx), free(ref), free(dref), free(pool_d);
    oc_reset(oc);
}

typedef enum {
    ROW_RANDOM, /* uniform in [-1, 1) */
    ROW_TIES,   /* drawn from {-1, -0, 0, 0.5, 1}: many equal values */
    ROW_SPECIAL /* random with NaN, +Inf and -Inf mixed in */
} RowMode;
static const char *row_names[] = {"random", "ties", "nan-inf"};

/* True when value a at index i ranks before b at j: larger first, NaN last, ties by index. */
static bool ref_before(float a, int i, float b, int j)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b) ? i < j : isnan(b);
    if (a != b)
        return a > b;
    return i < j;
}

static void check_topk(OpCheck *oc, int rows, int n, int k, RowMode mode)
{
    char what[96];
    snprintf(what, sizeof what, "topk_forward rows=%d n=%d k=%d %s", rows, n, k,
             row_names[mode]);
    size_t total = (size_t)rows * n, n_out = (size_t)rows * k;
    float *x = malloc(total * sizeof *x);
    oc_fill_uniform(oc, x, total, -1.0f, 1.0f);
    static const float tie_values[] = {-1.0f, -0.0f, 0.0f, 0.5f, 1.0f};
    for (size_t i = 0; i < total; i++) {
        if (mode == ROW_TIES)
            x[i] = tie_values[(int)((x[i] + 1.0f) * 2.5f) % 5];
        if (mode == ROW_SPECIAL && i % 7 == 3)
            x[i] = (i / 7) % 3 == 0 ? NAN : (i / 7) % 3 == 1 ? INFINITY : -INFINITY;
    }
    LptTensor tin = oc_tensor(oc, "in", LPT_F32, total, x);
    LptTensor tval = oc_tensor(oc, "values", LPT_F32, n_out, NULL);
    LptTensor tidx = oc_tensor(oc, "indices", LPT_I32, n_out, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_topk_forward(oc->be, &tval, &tidx, &tin, rows, n, k, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double *ref_val = malloc(n_out * sizeof *ref_val);
        int32_t *ref_idx = malloc(n_out * sizeof *ref_idx);
        int32_t *got_idx = malloc((n_out + OC_GUARD) * sizeof *got_idx);
        bool *taken = malloc((size_t)n * sizeof *taken);
        for (int r = 0; r < rows; r++) {
            const float *row = x + (size_t)r * n;
            for (int i = 0; i < n; i++)
                taken[i] = false;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (!taken[i] && (best < 0 || ref_before(row[i], i, row[best], best)))
                        best = i;
                taken[best] = true;
                ref_idx[(size_t)r * k + j] = best;
                ref_val[(size_t)r * k + j] = row[best];
            }
        }
        oc_check_tensor(oc, what, &tval, ref_val, 0.0, 0.0);
        oc_download(oc, &tidx, got_idx);
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < n_out; i++)
            if (got_idx[i] != ref_idx[i] && bad++ == 0)
                first = i;
        oc_expect(oc, bad == 0, what, "%zu of %zu indices differ; first at row %zu rank %zu: "
                  "got %d, expected %d", bad, n_out, first / k, first % k, got_idx[first],
                  ref_idx[first]);
        oc_check_guards(oc, &tidx, what);
        free(ref_val), free(ref_idx), free(got_idx), free(taken);
    }
    free(x);
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor f = oc_tensor(oc, "f", LPT_F32, 4096, NULL);
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor idx = oc_tensor(oc, "idx", LPT_I32, 4096, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_topk_forward(oc->be, &f, &idx, &f, 2, 40, 33, &err);
    oc_expect_error(oc, "topk_forward: k > 32", st, &err, "k = 33 must be <= 32");
    st = lpt_op_topk_forward(oc->be, &f, &idx, &f, 2, 4, 5, &err);
    oc_expect_error(oc, "topk_forward: k > n", st, &err, "row length 4");
    st = lpt_op_topk_forward(oc->be, &f, &f, &f, 2, 40, 2, &err);
    oc_expect_error(oc, "topk_forward: float indices", st, &err, "expected i32");
    st = lpt_op_topk_forward(oc->be, &f, &idx, &small, 2, 40, 2, &err);
    oc_expect_error(oc, "topk_forward: input too small", st, &err, "'small'");
    st = lpt_op_gather_mean_forward(oc->be, &f, &f, &f, 8, 2, 20, 33, &err);
    oc_expect_error(oc, "gather_mean_forward: float indices", st, &err, "expected i32");
    st = lpt_op_gather_mean_forward(oc->be, &f, &small, &idx, 8, 2, 20, 33, &err);
    oc_expect_error(oc, "gather_mean_forward: pool too small", st, &err, "'small'");
    st = lpt_op_gather_mean_backward(oc->be, &f, &f, &idx, 8, 0, 20, 33, &err);
    oc_expect_error(oc, "gather_mean_backward: k = 0", st, &err, "k = 0");
    st = lpt_op_gather_mean_backward(oc->be, NULL, &f, &idx, 8, 2, 20, 33, &err);
    oc_expect_error(oc, "gather_mean_backward: null dpool", st, &err, "'dpool' is NULL");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    const GatherShape gathers[] = {
        {1, 1, 1, 1},         {7, 2, 20, 33},   {33, 3, 5, 257},
        {300, 2, 20, 7},      /* more indices than one shared-memory chunk */
        {8, 2, 20, 6 * 8 * 768}, /* 8 images, a pool of 20 entries of 6 layers x 8 x 768 */
    };
    for (size_t i = 0; i < sizeof gathers / sizeof gathers[0]; i++)
        for (int mode = IDX_RANDOM; mode <= IDX_INVALID; mode++)
            check_gather_mean(&oc, gathers[i], (IdxMode)mode);

    check_topk(&oc, 1, 1, 1, ROW_RANDOM);
    check_topk(&oc, 5, 1, 1, ROW_RANDOM);
    check_topk(&oc, 256, 20, 2, ROW_RANDOM); /* pool keys */
    check_topk(&oc, 1, 20, 20, ROW_RANDOM);
    check_topk(&oc, 7, 33, 5, ROW_RANDOM);
    check_topk(&oc, 33, 257, 32, ROW_RANDOM);
    check_topk(&oc, 8, 1000, 32, ROW_RANDOM);
    check_topk(&oc, 3, 1000, 1, ROW_RANDOM);
    check_topk(&oc, 2, 5000, 7, ROW_RANDOM);
    check_topk(&oc, 70000, 3, 2, ROW_RANDOM); /* more rows than one dispatch dimension */
    check_topk(&oc, 16, 20, 2, ROW_TIES);
    check_topk(&oc, 9, 100, 32, ROW_TIES);
    check_topk(&oc, 5, 1000, 32, ROW_TIES);
    check_topk(&oc, 4, 50, 32, ROW_SPECIAL);
    check_topk(&oc, 3, 300, 9, ROW_SPECIAL);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_select");
}

/* test_ops_gemm.c: gemm_forward, bias_backward and the composite gemm_backward against
 * double references, on both backends.
 *
 * gemm_forward: all four transposition combinations on odd sizes (1, 7, 33, 257, ...),
 * leading dimensions wider than the rows (padded by 3: scalar loads; rounded up to a multiple
 * of 4: vec4 loads with quads cut by the edge), views at odd and 4-aligned element offsets,
 * batches with gaps between them and with a shared operand (stride 0), alpha/beta/bias, a
 * NaN and an Inf in the inputs, and the ViT-B/16 shapes (batch 8 x 207 tokens = 1656 rows,
 * width 768, MLP 3072; checked on sampled rows). Elements of A and B outside the matrices
 * (ld gaps, batch gaps) are NaN, so a kernel that reads them fails; elements of C outside
 * the matrix must keep their old values.
 * Tolerance: |got - ref| <= 2e-7 k + 1e-6 + 1e-5 |ref| (float accumulation over k of
 * products of values in [-1, 1]; an error in one k step of 16 is ~1, far above it).
 * gemm_backward: da (assigned), db (accumulated onto random values), dbias against central
 * finite differences of L = sum(G * C) for the double reference, including batches with a
 * shared A or B; then bad arguments, with the error messages.
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STRIDED, SHARED_A, SHARED_B, SHARED_AB };

/* One gemm_forward problem as the test builds it. */
typedef struct GemmCase {
    int m, n, k;
    bool ta, tb;
    int ld_mode;     /* 0 packed, 1 natural + 3, 2 natural rounded up past a multiple of 4 */
    int batch;
    int stride_mode; /* STRIDED, SHARED_A, SHARED_B or SHARED_AB (both: equal products) */
    float alpha, beta;
    bool bias;
    size_t first;    /* element offset of each operand's view in its tensor */
    int sample_rows; /* 0: check all of C; else about this many rows of each batch */
    bool special;    /* a NaN in A and an Inf in B */
} GemmCase;

static int padded_ld(int natural, int mode)
{
    if (mode == 1)
        return natural + 3;
    if (mode == 2)
        return (natural / 4 + 1) * 4; /* > natural and a multiple of 4 */
    return natural;
}

static size_t span(int batch, int64_t stride, int rows, int ld, int cols)
{
    return (size_t)(batch - 1) * (size_t)stride + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* Stored shapes of A and B under s. */
static void stored_a(const LptGemmShape *s, int *rows, int *cols)
{
    *rows = s->trans_a ? s->k : s->m;
    *cols = s->trans_a ? s->m : s->k;
}
static void stored_b(const LptGemmShape *s, int *rows, int *cols)
{
    *rows = s->trans_b ? s->n : s->k;
    *cols = s->trans_b ? s->k : s->n;
}

/* Index of op(A)[z, i, p] and op(B)[z, p, j], C[z, i, j] in their arrays. */
static size_t idx_a(const LptGemmShape *s, int z, int i, int p)
{
    return (size_t)z * (size_t)s->stride_a +
           (s->trans_a ? (size_t)p * s->lda + i : (size_t)i * s->lda + p);
}
static size_t idx_b(const LptGemmShape *s, int z, int p, int j)
{
    return (size_t)z * (size_t)s->stride_b +
           (s->trans_b ? (size_t)j * s->ldb + p : (size_t)p * s->ldb + j);
}
static size_t idx_c(const LptGemmShape *s, int z, int i, int j)
{
    return (size_t)z * (size_t)s->stride_c + (size_t)i * s->ldc + j;
}

/* sum_p op(A)[z, i, p] op(B)[z, p, j] in double. */
static double dot_f(const LptGemmShape *s, const float *a, const float *b, int z, int i, int j)
{
    double acc = 0.0;
    for (int p = 0; p < s->k; p++)
        acc += (double)a[idx_a(s, z, i, p)] * (double)b[idx_b(s, z, p, j)];
    return acc;
}

/* Fills s from the case, with every leading dimension and stride explicit. */
static LptGemmShape case_shape(const GemmCase *g)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, g->m, g->n, g->k, g->ta, g->tb);
    s.lda = padded_ld(g->ta ? g->m : g->k, g->ld_mode);
    s.ldb = padded_ld(g->tb ? g->k : g->n, g->ld_mode);
    s.ldc = padded_ld(g->n, g->ld_mode);
    s.batch = g->batch;
    s.alpha = g->alpha;
    s.beta = g->beta;
    int r, c;
    /* batch strides leave a gap; they keep vec4 alignment when the lds do */
    int gap = g->ld_mode == 1 ? 3 : 4;
    stored_a(&s, &r, &c);
    bool shared_a = g->stride_mode == SHARED_A || g->stride_mode == SHARED_AB;
    bool shared_b = g->stride_mode == SHARED_B || g->stride_mode == SHARED_AB;
    s.stride_a = shared_a ? 0 : (int64_t)span(1, 0, r, s.lda, c) + gap;
    stored_b(&s, &r, &c);
    s.stride_b = shared_b ? 0 : (int64_t)span(1, 0, r, s.ldb, c) + gap;
    s.stride_c = (int64_t)span(1, 0, s.m, s.ldc, s.n) + gap;
    if (g->ld_mode != 1) {
        s.stride_a = (s.stride_a + 3) / 4 * 4;
        s.stride_b = (s.stride_b + 3) / 4 * 4;
        s.stride_c = (s.stride_c + 3) / 4 * 4;
    }
    return s;
}

/* n NaNs, then random values in [-1, 1] at the elements a stored matrix under s uses. */
static float *make_operand(OpCheck *oc, size_t n, int batch, int64_t stride, int rows, int ld,
                           int cols)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = NAN;
    for (int z = 0; z < batch; z++)
        for (int r = 0; r < rows; r++)
            oc_fill_uniform(oc, x + (size_t)z * (size_t)stride + (size_t)r * ld, (size_t)cols,
                            -1.0f, 1.0f);
    return x;
}

/* A device tensor holding host[n] at element offset `first` of its storage (a view). */
static LptTensor offset_tensor(OpCheck *oc, const char *name, const float *host, size_t n,
                               size_t first)
{
    float *full = malloc((n + first) * sizeof *full);
    for (size_t i = 0; i < first; i++)
        full[i] = 0.0f;
    memcpy(full + first, host, n * sizeof *host);
    LptTensor t = oc_tensor(oc, name, LPT_F32, n + first, full);
    free(full);
    return lpt_tensor_view(&t, first, n);
}

static void check_gemm(OpCheck *oc, const GemmCase *g)
{
    char what[160];
    LptGemmShape s = case_shape(g);
    snprintf(what, sizeof what,
             "gemm_forward %dx%dx%d %c%c ld%d batch %d%s alpha %g beta %g%s first %zu%s", g->m,
             g->n, g->k, g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', g->ld_mode, g->batch,
             g->stride_mode == SHARED_A    ? " shared-A"
             : g->stride_mode == SHARED_B  ? " shared-B"
             : g->stride_mode == SHARED_AB ? " shared-A-and-B"
                                           : "",
             (double)g->alpha, (double)g->beta, g->bias ? " bias" : "", g->first,
             g->special ? " nan/inf" : "");
    int ar, ac, br, bc;
    stored_a(&s, &ar, &ac);
    stored_b(&s, &br, &bc);
    size_t na = span(s.batch, s.stride_a, ar, s.lda, ac);
    size_t nb = span(s.batch, s.stride_b, br, s.ldb, bc);
    size_t nc = span(s.batch, s.stride_c, s.m, s.ldc, s.n);
    float *a = make_operand(oc, na, s.batch, s.stride_a, ar, s.lda, ac);
    float *b = make_operand(oc, nb, s.batch, s.stride_b, br, s.ldb, bc);
    float *c0 = malloc(nc * sizeof *c0), *bias = malloc((size_t)s.n * sizeof *bias);
    oc_fill_uniform(oc, c0, nc, -1.0f, 1.0f);
    if (g->beta == 0.0f) /* C must not be read */
        for (size_t i = 0; i < nc; i++)
            c0[i] = NAN;
    oc_fill_uniform(oc, bias, (size_t)s.n, -1.0f, 1.0f);
    if (g->special) {
        a[idx_a(&s, 0, s.m / 2, s.k - 1)] = NAN;
        b[idx_b(&s, 0, 0, s.n - 1)] = INFINITY;
    }

    LptTensor ta = offset_tensor(oc, "a", a, na, g->first);
    LptTensor tb = offset_tensor(oc, "b", b, nb, g->first);
    LptTensor tc = offset_tensor(oc, "c", c0, nc, g->first);
    LptTensor tbias = offset_tensor(oc, "bias", bias, (size_t)s.n, g->first);
    LptError err = {0};
    LptStatus st = lpt_op_gemm_forward(oc->be, &tc, &ta, &tb, g->bias ? &tbias : NULL, &s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double atol = 2e-7 * s.k + 1e-6, rtol = 1e-5;
        float *got = oc_fetch(oc, &tc);
        if (g->sample_rows == 0) {
            double *ref = malloc(nc * sizeof *ref);
            for (size_t i = 0; i < nc; i++)
                ref[i] = c0[i]; /* outside the matrix: untouched */
            for (int z = 0; z < s.batch; z++)
                for (int i = 0; i < s.m; i++)
                    for (int j = 0; j < s.n; j++) {
                        size_t ci = idx_c(&s, z, i, j);
                        double v = s.alpha * dot_f(&s, a, b, z, i, j);
                        if (s.beta != 0.0f)
                            v += (double)s.beta * c0[ci];
                        ref[ci] = v + (g->bias ? bias[j] : 0.0);
                    }
            oc_compare(oc, what, got, ref, nc, atol, rtol);
            free(ref);
        } else { /* sampled rows of every batch, all their columns */
            size_t rows[64];
            int nr = oc_sample_indices(oc, (size_t)s.m, rows, g->sample_rows);
            size_t cnt = (size_t)s.batch * nr * s.n;
            float *got_rows = malloc(cnt * sizeof *got_rows);
            double *ref = malloc(cnt * sizeof *ref);
            size_t o = 0;
            for (int z = 0; z < s.batch; z++)
                for (int r = 0; r < nr; r++)
                    for (int j = 0; j < s.n; j++, o++) {
                        int i = (int)rows[r];
                        size_t ci = idx_c(&s, z, i, j);
                        double v = s.alpha * dot_f(&s, a, b, z, i, j);
                        if (s.beta != 0.0f)
                            v += (double)s.beta * c0[ci];
                        ref[o] = v + (g->bias ? bias[j] : 0.0);
                        got_rows[o] = got[ci];
                    }
            oc_compare(oc, what, got_rows, ref, cnt, atol, rtol);
            free(got_rows), free(ref);
        }
        oc_check_guards(oc, &tc, what);
        free(got);
    }
    free(a), free(b), free(c0), free(bias);
    oc_reset(oc);
}

static void check_forward_cases(OpCheck *oc)
{
    static const int shapes[][3] = {
        {1, 1, 1},    {7, 33, 1},   {33, 7, 257}, {257, 257, 33}, {1, 257, 7},
        {257, 1, 33}, {7, 7, 7},    {64, 64, 16}, {129, 65, 17},  {33, 257, 64},
    };
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = (t >> 1) & 1;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            GemmCase g = {shapes[i][0], shapes[i][1], shapes[i][2], ta, tb, 0, 1, STRIDED,
                          1.0f, 0.0f, false, 0, 0, false};
            check_gemm(oc, &g);
        }
        /* padded leading dimensions: scalar loads (ld + 3), vec4 loads cut by the edge */
        GemmCase g = {33, 65, 37, ta, tb, 1, 1, STRIDED, -0.5f, 0.25f, true, 0, 0, false};
        check_gemm(oc, &g);
        g = (GemmCase){33, 65, 37, ta, tb, 2, 1, STRIDED, 1.5f, 1.0f, true, 4, 0, false};
        check_gemm(oc, &g);
        /* a view at an odd element offset */
        g = (GemmCase){40, 48, 32, ta, tb, 0, 1, STRIDED, 1.0f, 0.0f, true, 1, 0, false};
        check_gemm(oc, &g);
        /* batches with gaps, and with a shared operand */
        g = (GemmCase){17, 20, 24, ta, tb, 2, 3, STRIDED, 1.0f, 0.5f, true, 0, 0, false};
        check_gemm(oc, &g);
        g = (GemmCase){19, 33, 12, ta, tb, 1, 3, STRIDED, 2.0f, 0.0f, false, 0, 0, false};
        check_gemm(oc, &g);
        g = (GemmCase){7, 33, 12, ta, tb, 0, 4, SHARED_B, 1.0f, 0.0f, true, 0, 0, false};
        check_gemm(oc, &g);
        g = (GemmCase){33, 7, 12, ta, tb, 2, 4, SHARED_A, 1.0f, 1.0f, false, 0, 0, false};
        check_gemm(oc, &g);
        /* both shared (the prompts' k/v rows in every sequence): equal products, with a
         * bias, or accumulated into C */
        g = (GemmCase){10, 33, 12, ta, tb, 1, 5, SHARED_AB, 1.0f, 0.0f, true, 0, 0, false};
        check_gemm(oc, &g);
        g = (GemmCase){10, 33, 12, ta, tb, 2, 4, SHARED_AB, 0.5f, 1.0f, true, 0, 0, false};
        check_gemm(oc, &g);
        /* NaN and Inf propagate */
        g = (GemmCase){7, 9, 8, ta, tb, 0, 1, STRIDED, 1.0f, 0.0f, true, 0, 0, true};
        check_gemm(oc, &g);
    }
    /* ViT-B/16 attention-sized batch: P V per head, 8 x 12 heads of 207 x 207 by 207 x 64 */
    GemmCase att = {207, 64, 207, false, false, 0, 96, STRIDED, 1.0f, 0.0f, false, 0, 0, false};
    check_gemm(oc, &att);
    /* ViT-B/16 linear layers: x W^T + bias forward, dx = dy W, dW += dy^T x */
    GemmCase vit[] = {
        {1656, 768, 768, false, true, 0, 1, STRIDED, 1.0f, 0.0f, true, 0, 24, false},
        {1656, 3072, 768, false, true, 0, 1, STRIDED, 1.0f, 0.0f, true, 0, 24, false},
        {1656, 768, 3072, false, true, 0, 1, STRIDED, 1.0f, 0.0f, true, 0, 24, false},
        {1656, 768, 3072, false, false, 0, 1, STRIDED, 1.0f, 0.0f, false, 0, 24, false},
        {768, 3072, 1656, true, false, 0, 1, STRIDED, 1.0f, 1.0f, false, 0, 24, false},
    };
    for (size_t i = 0; i < sizeof vit / sizeof vit[0]; i++)
        check_gemm(oc, &vit[i]);
}

static void check_bias_backward(OpCheck *oc, int rows, int n, size_t first)
{
    char what[96];
    snprintf(what, sizeof what, "bias_backward %dx%d first %zu", rows, n, first);
    size_t count = (size_t)rows * n;
    float *dout = malloc(count * sizeof *dout), *db0 = malloc((size_t)n * sizeof *db0);
    double *ref = malloc((size_t)n * sizeof *ref);
    oc_fill_uniform(oc, dout, count, -1.0f, 1.0f);
    oc_fill_uniform(oc, db0, (size_t)n, -1.0f, 1.0f);
    LptTensor tout = offset_tensor(oc, "dout", dout, count, first);
    LptTensor tdb = offset_tensor(oc, "dbias", db0, (size_t)n, first);
    LptError err = {0};
    LptStatus st = lpt_op_bias_backward(oc->be, &tdb, &tout, rows, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (int j = 0; j < n; j++) {
            double sum = db0[j];
            for (int r = 0; r < rows; r++)
                sum += dout[(size_t)r * n + j];
            ref[j] = sum;
        }
        oc_check_tensor(oc, what, &tdb, ref, 1e-6 * sqrt((double)rows) + 1e-6, 1e-6);
    }
    free(dout), free(db0), free(ref);
    oc_reset(oc);
}

/* ---- gemm_backward against finite differences ------------------------------------------ */

/* L = sum over C's elements of G * (alpha op(A) op(B) + bias), all in double. */
typedef struct LossCtx {
    const LptGemmShape *s;
    const double *a, *b, *bias, *g; /* a or b (or bias) is the array oc_fd perturbs */
} LossCtx;

static double loss(const double *x, void *ctx)
{
    (void)x; /* x is one of the arrays in ctx, perturbed in place */
    const LossCtx *l = ctx;
    const LptGemmShape *s = l->s;
    double total = 0.0;
    for (int z = 0; z < s->batch; z++)
        for (int i = 0; i < s->m; i++)
            for (int j = 0; j < s->n; j++) {
                double acc = 0.0;
                for (int p = 0; p < s->k; p++)
                    acc += l->a[idx_a(s, z, i, p)] * l->b[idx_b(s, z, p, j)];
                total += l->g[idx_c(s, z, i, j)] * (s->alpha * acc + l->bias[j]);
            }
    return total;
}

/* Reference gradient of x (one of ctx's arrays, n elements): finite differences where the
 * product uses the element, `untouched[i]` elsewhere. used[i] marks the used elements. */
static void fd_gradient(LossCtx *ctx, double *x, size_t n, const bool *used, const float *base,
                        bool accumulate, double *ref)
{
    for (size_t i = 0; i < n; i++) {
        if (!used[i]) {
            ref[i] = base[i];
            continue;
        }
        double d = oc_fd(loss, ctx, x, i, 1e-3);
        ref[i] = accumulate ? base[i] + d : d;
    }
}

/* gemm_backward on a small problem: da, db (onto random values) and dbias (when dC is packed)
 * against finite differences. */
static void check_backward(OpCheck *oc, bool ta, bool tb, int batch, int stride_mode,
                           bool packed_c)
{
    char what[128];
    GemmCase gc = {5, 6, 7, ta, tb, packed_c ? 0 : 1, batch, stride_mode, 0.75f, 0.0f, true,
                   0, 0, false};
    LptGemmShape s = case_shape(&gc);
    if (packed_c) { /* pad A and B only, so that dbias applies */
        s.lda += 2, s.ldb += 2;
        int r, c;
        stored_a(&s, &r, &c);
        if (stride_mode != SHARED_A)
            s.stride_a = (int64_t)span(1, 0, r, s.lda, c) + 1;
        stored_b(&s, &r, &c);
        if (stride_mode != SHARED_B)
            s.stride_b = (int64_t)span(1, 0, r, s.ldb, c) + 1;
        s.stride_c = (int64_t)s.m * s.n;
    }
    snprintf(what, sizeof what, "gemm_backward %c%c batch %d%s%s", ta ? 'T' : 'N',
             tb ? 'T' : 'N', batch,
             stride_mode == SHARED_A ? " shared-A" : stride_mode == SHARED_B ? " shared-B" : "",
             packed_c ? "" : " padded-dC");
    int ar, ac, br, bc;
    stored_a(&s, &ar, &ac);
    stored_b(&s, &br, &bc);
    size_t na = span(s.batch, s.stride_a, ar, s.lda, ac);
    size_t nb = span(s.batch, s.stride_b, br, s.ldb, bc);
    size_t nc = span(s.batch, s.stride_c, s.m, s.ldc, s.n);
    float *a = make_operand(oc, na, s.batch, s.stride_a, ar, s.lda, ac);
    float *b = make_operand(oc, nb, s.batch, s.stride_b, br, s.ldb, bc);
    float *g = make_operand(oc, nc, s.batch, s.stride_c, s.m, s.ldc, s.n);
    float *db0 = malloc(nb * sizeof *db0), *dbias0 = malloc((size_t)s.n * sizeof *dbias0);
    float *da0 = malloc(na * sizeof *da0);
    oc_fill_uniform(oc, db0, nb, -1.0f, 1.0f);
    oc_fill_uniform(oc, dbias0, (size_t)s.n, -1.0f, 1.0f);
    for (size_t i = 0; i < na; i++)
        da0[i] = NAN; /* da is assigned; outside the matrix it stays */

    LptTensor tda = oc_tensor(oc, "da", LPT_F32, na, da0);
    LptTensor tdb = oc_tensor(oc, "db", LPT_F32, nb, db0);
    LptTensor tdbias = oc_tensor(oc, "dbias", LPT_F32, (size_t)s.n, dbias0);
    LptTensor tdc = oc_tensor(oc, "dc", LPT_F32, nc, g);
    LptTensor ta_ = oc_tensor(oc, "a", LPT_F32, na, a);
    LptTensor tb_ = oc_tensor(oc, "b", LPT_F32, nb, b);
    LptError err = {0};
    LptStatus st = lpt_op_gemm_backward(oc->be, &tda, &tdb, packed_c ? &tdbias : NULL, &tdc,
                                        &ta_, &tb_, &s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double *ad = oc_to_double(a, na), *bd = oc_to_double(b, nb), *gd = oc_to_double(g, nc);
        double *biasd = calloc((size_t)s.n, sizeof *biasd);
        bool *used_a = calloc(na, sizeof *used_a), *used_b = calloc(nb, sizeof *used_b);
        bool *used_bias = malloc((size_t)s.n * sizeof *used_bias);
        for (int z = 0; z < s.batch; z++)
            for (int i = 0; i < s.m; i++)
                for (int p = 0; p < s.k; p++)
                    used_a[idx_a(&s, z, i, p)] = true;
        for (int z = 0; z < s.batch; z++)
            for (int p = 0; p < s.k; p++)
                for (int j = 0; j < s.n; j++)
                    used_b[idx_b(&s, z, p, j)] = true;
        for (int j = 0; j < s.n; j++)
            used_bias[j] = true;
        /* gaps of G are NaN: zero them so the loss only sees the matrix */
        for (size_t i = 0; i < nc; i++)
            if (isnan(gd[i]))
                gd[i] = 0.0;
        LossCtx ctx = {&s, ad, bd, biasd, gd};
        double *ref = malloc((na > nb ? na : nb) * sizeof *ref);
        char part[160];
        snprintf(part, sizeof part, "%s: da", what);
        fd_gradient(&ctx, ad, na, used_a, da0, false, ref);
        oc_check_tensor(oc, part, &tda, ref, 1e-5, 1e-5);
        snprintf(part, sizeof part, "%s: db", what);
        fd_gradient(&ctx, bd, nb, used_b, db0, true, ref);
        oc_check_tensor(oc, part, &tdb, ref, 1e-5, 1e-5);
        snprintf(part, sizeof part, "%s: dbias", what);
        if (packed_c) {
            fd_gradient(&ctx, biasd, (size_t)s.n, used_bias, dbias0, true, ref);
            oc_check_tensor(oc, part, &tdbias, ref, 1e-5, 1e-5);
        }
        free(ad), free(bd), free(gd), free(biasd), free(used_a), free(used_b), free(used_bias);
        free(ref);
    }
    free(a), free(b), free(g), free(db0), free(dbias0), free(da0);
    oc_reset(oc);
}

/* Only db requested (da and dbias NULL), on a padded dC. */
static void check_backward_db_only(OpCheck *oc)
{
    const char *what = "gemm_backward db only";
    LptGemmShape s;
    lpt_gemm_shape_init(&s, 9, 5, 3, false, true);
    s.ldc = 8;
    float a[27], b[15], g[72], db0[15];
    oc_fill_uniform(oc, a, 27, -1.0f, 1.0f);
    oc_fill_uniform(oc, b, 15, -1.0f, 1.0f);
    oc_fill_uniform(oc, g, 72, -1.0f, 1.0f);
    oc_fill_uniform(oc, db0, 15, -1.0f, 1.0f);
    LptTensor ta = oc_tensor(oc, "a", LPT_F32, 27, a), tb = oc_tensor(oc, "b", LPT_F32, 15, b);
    LptTensor tdc = oc_tensor(oc, "dc", LPT_F32, 8 * 8 + 5, g);
    LptTensor tdb = oc_tensor(oc, "db", LPT_F32, 15, db0);
    LptError err = {0};
    LptStatus st = lpt_op_gemm_backward(oc->be, NULL, &tdb, NULL, &tdc, &ta, &tb, &s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double ref[15];
        for (int j = 0; j < 5; j++) /* B stored [n, k]: db[j, p] += sum_i dC[i, j] A[i, p] */
            for (int p = 0; p < 3; p++) {
                double sum = db0[j * 3 + p];
                for (int i = 0; i < 9; i++)
                    sum += (double)g[i * 8 + j] * a[i * 3 + p];
                ref[j * 3 + p] = sum;
            }
        oc_check_tensor(oc, what, &tdb, ref, 1e-5, 1e-5);
    }
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor a = oc_tensor(oc, "a", LPT_F32, 64, NULL);
    LptTensor b = oc_tensor(oc, "b", LPT_F32, 64, NULL);
    LptTensor c = oc_tensor(oc, "c", LPT_F32, 64, NULL);
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 10, NULL);
    LptTensor labels = oc_tensor(oc, "labels", LPT_I32, 64, NULL);
    float zeros[64] = {0};
    LptTensor da = oc_tensor(oc, "da", LPT_F32, 64, NULL);
    LptTensor dc = oc_tensor(oc, "dc", LPT_F32, 64, zeros);
    LptGemmShape s;
    lpt_gemm_shape_init(&s, 8, 8, 8, false, false);
    LptError err = {0};

    LptGemmShape bad = s;
    bad.lda = 7;
    LptStatus st = lpt_op_gemm_forward(oc->be, &c, &a, &b, NULL, &bad, &err);
    oc_expect_error(oc, "gemm_forward: lda too small", st, &err, "lda=7");
    st = lpt_op_gemm_forward(oc->be, &small, &a, &b, NULL, &s, &err);
    oc_expect_error(oc, "gemm_forward: output too small", st, &err, "'small'");
    st = lpt_op_gemm_forward(oc->be, &c, &a, &b, &small, &(LptGemmShape){2, 16, 4, false, false,
                             0, 0, 0, 1, 0, 0, 0, 1.0f, 0.0f}, &err);
    oc_expect_error(oc, "gemm_forward: bias too small", st, &err, "'small'");
    st = lpt_op_gemm_forward(oc->be, &c, NULL, &b, NULL, &s, &err);
    oc_expect_error(oc, "gemm_forward: null input", st, &err, "'a' is NULL");
    st = lpt_op_gemm_forward(oc->be, &c, &labels, &b, NULL, &s, &err);
    oc_expect_error(oc, "gemm_forward: wrong dtype", st, &err, "i32");
    st = lpt_op_gemm_forward(oc->be, &c, &a, &b, NULL, NULL, &err);
    oc_expect_error(oc, "gemm_forward: no shape", st, &err, "no shape");
    bad = s;
    bad.m = 0;
    st = lpt_op_gemm_forward(oc->be, &c, &a, &b, NULL, &bad, &err);
    oc_expect_error(oc, "gemm_forward: zero size", st, &err, "m = 0");
    lpt_gemm_shape_init(&bad, 2, 2, 2, false, false);
    bad.batch = 3, bad.stride_a = 4, bad.stride_b = 4, bad.stride_c = 3;
    st = lpt_op_gemm_forward(oc->be, &c, &a, &b, NULL, &bad, &err);
    oc_expect_error(oc, "gemm_forward: overlapping outputs", st, &err, "overlap");
    bad.stride_c = 4, bad.stride_a = -1;
    st = lpt_op_gemm_forward(oc->be, &c, &a, &b, NULL, &bad, &err);
    oc_expect_error(oc, "gemm_forward: negative stride", st, &err, "negative");

    bad = s;
    bad.beta = 1.0f;
    st = lpt_op_gemm_backward(oc->be, &da, NULL, NULL, &dc, &a, &b, &bad, &err);
    oc_expect_error(oc, "gemm_backward: beta", st, &err, "beta = 0");
    st = lpt_op_gemm_backward(oc->be, NULL, &da, NULL, NULL, &a, &b, &s, &err);
    oc_expect_error(oc, "gemm_backward: null dc", st, &err, "'dc' is NULL");
    st = lpt_op_gemm_backward(oc->be, NULL, &da, NULL, &dc, NULL, &b, &s, &err);
    oc_expect_error(oc, "gemm_backward: null a", st, &err, "'a' is NULL");
    lpt_gemm_shape_init(&bad, 4, 4, 4, false, false);
    bad.ldc = 5;
    st = lpt_op_gemm_backward(oc->be, NULL, NULL, &c, &dc, &a, &b, &bad, &err);
    oc_expect_error(oc, "gemm_backward: dbias on padded dC", st, &err, "packed dC");
    /* a too-small db is refused before da is computed: da keeps its NaNs */
    st = lpt_op_gemm_backward(oc->be, &da, &small, NULL, &dc, &a, &b, &s, &err);
    oc_expect_error(oc, "gemm_backward: db too small", st, &err, "'small'");
    float *got = oc_fetch(oc, &da);
    bool untouched = true;
    for (int i = 0; i < 64; i++)
        untouched = untouched && isnan(got[i]);
    free(got);
    oc_expect(oc, untouched, "gemm_backward: nothing computed on error", "da was written");

    st = lpt_op_bias_backward(oc->be, &c, &dc, 0, 8, &err);
    oc_expect_error(oc, "bias_backward: zero rows", st, &err, "rows = 0");
    st = lpt_op_bias_backward(oc->be, &c, &small, 2, 8, &err);
    oc_expect_error(oc, "bias_backward: dout too small", st, &err, "'small'");
    st = lpt_op_bias_backward(oc->be, NULL, &dc, 2, 8, &err);
    oc_expect_error(oc, "bias_backward: null dbias", st, &err, "'dbias' is NULL");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    check_forward_cases(&oc);

    static const int bias_shapes[][2] = {{1, 1},    {7, 33},     {257, 7},   {33, 257},
                                         {1, 3000}, {5000, 3},   {1656, 768}, {1656, 3072}};
    for (size_t i = 0; i < sizeof bias_shapes / sizeof bias_shapes[0]; i++)
        check_bias_backward(&oc, bias_shapes[i][0], bias_shapes[i][1], 0);
    check_bias_backward(&oc, 33, 65, 1);

    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = (t >> 1) & 1;
        check_backward(&oc, ta, tb, 1, STRIDED, true);
        check_backward(&oc, ta, tb, 3, STRIDED, true);
        check_backward(&oc, ta, tb, 3, SHARED_A, true);
        check_backward(&oc, ta, tb, 3, SHARED_B, true);
        check_backward(&oc, ta, tb, 2, STRIDED, false);
    }
    check_backward_db_only(&oc);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_gemm");
}

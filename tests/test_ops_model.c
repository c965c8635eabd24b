/* test_ops_model.c: the model-assembly ops: patch rows (exact against a direct indexing
 * reference), the token embedding (with and without a class token), the adapter's scaled add
 * (forward, aliasing, backward against the double reference and central finite differences,
 * ds accumulating), the one-hot matrix (random, repeated and out-of-range indices) and the
 * feature dropout (its mask against an independent Philox4x32-10 checked with Random123's
 * known answers; forward, backward, aliasing, the kept fraction, masks of other steps and
 * seeds), on odd shapes, ViT-B/16 sizes, views at unaligned offsets, and bad arguments. */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- patchify -------------------------------------------------------------------------- */

/* Checks patchify of [B, Ch, H, W] images with patch p; `shift` puts the images at an element
 * offset that is not a multiple of the binding alignment. */
static void check_patchify(OpCheck *oc, int b, int ch, int h, int w, int p, size_t shift)
{
    char what[128];
    snprintf(what, sizeof what, "patchify_forward B=%d Ch=%d %dx%d p=%d shift=%zu", b, ch, h, w,
             p, shift);
    size_t n = (size_t)b * ch * h * w;
    float *img = malloc((n + shift) * sizeof *img);
    double *ref = malloc(n * sizeof *ref);
    oc_fill_uniform(oc, img, n + shift, -2.0f, 2.0f);
    LptTensor whole = oc_tensor(oc, "images", LPT_F32, n + shift, img);
    LptTensor images = lpt_tensor_view(&whole, shift, n);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, n, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_patchify_forward(oc->be, &out, &images, b, ch, h, w, p, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        int gw = w / p, patches = (h / p) * gw, row = ch * p * p;
        for (int bi = 0; bi < b; bi++)
            for (int np = 0; np < patches; np++)
                for (int c = 0; c < ch; c++)
                    for (int ky = 0; ky < p; ky++)
                        for (int kx = 0; kx < p; kx++) {
                            size_t o = ((size_t)bi * patches + np) * row + (size_t)(c * p + ky) * p + kx;
                            size_t src = (((size_t)bi * ch + c) * h + (size_t)(np / gw) * p + ky) * w +
                                         (size_t)(np % gw) * p + kx;
                            ref[o] = img[shift + src];
                        }
        oc_check_tensor(oc, what, &out, ref, 0.0, 0.0);
    }
    free(img);
    free(ref);
    oc_reset(oc);
}

/* ---- embed ----------------------------------------------------------------------------- */

static void check_embed(OpCheck *oc, int b, int t, int c, bool with_cls)
{
    char what[128];
    snprintf(what, sizeof what, "embed_forward B=%d T=%d C=%d %s", b, t, c,
             with_cls ? "cls" : "no cls");
    size_t n = (size_t)b * t * c;
    float *x = malloc(n * sizeof *x), *pos = malloc((size_t)t * c * sizeof *pos);
    float *cls = malloc((size_t)c * sizeof *cls);
    double *ref = malloc(n * sizeof *ref);
    oc_fill_uniform(oc, x, n, -1.0f, 1.0f);
    oc_fill_uniform(oc, pos, (size_t)t * c, -1.0f, 1.0f);
    oc_fill_uniform(oc, cls, (size_t)c, -1.0f, 1.0f);
    LptTensor tx = oc_tensor(oc, "x", LPT_F32, n, x);
    LptTensor tpos = oc_tensor(oc, "pos", LPT_F32, (size_t)t * c, pos);
    LptTensor tcls = oc_tensor(oc, "cls", LPT_F32, (size_t)c, cls);
    LptError err = {0};
    LptStatus st = lpt_op_embed_forward(oc->be, &tx, with_cls ? &tcls : NULL, &tpos, b, t, c,
                                        &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (size_t i = 0; i < n; i++) {
            size_t j = i % ((size_t)t * c);
            ref[i] = with_cls && j < (size_t)c ? (double)cls[j] + pos[j] : (double)x[i] + pos[j];
        }
        oc_check_tensor(oc, what, &tx, ref, 0.0, 1e-7);
    }
    free(x);
    free(pos);
    free(cls);
    free(ref);
    oc_reset(oc);
}

/* ---- scaled add ------------------------------------------------------------------------ */

typedef struct ScaledLoss {
    const float *a, *w; /* loss = sum of w * (a + s b) */
    size_t n;
} ScaledLoss;

/* x = [s, b[0..n)]: the loss whose gradients the backward computes (with dout = w). */
static double scaled_loss(const double *x, void *ctx)
{
    const ScaledLoss *l = ctx;
    double loss = 0.0;
    for (size_t i = 0; i < l->n; i++)
        loss += l->w[i] * (l->a[i] + x[0] * x[1 + i]);
    return loss;
}

static void check_scaled_add(OpCheck *oc, size_t n, bool alias, bool with_ds)
{
    char what[128];
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *w = malloc(n * sizeof *w);
    double *ref = malloc(n * sizeof *ref);
    oc_fill_uniform(oc, a, n, -2.0f, 2.0f);
    oc_fill_uniform(oc, b, n, -2.0f, 2.0f);
    oc_fill_uniform(oc, w, n, -1.0f, 1.0f);
    float s = oc_uniform(oc, -1.5f, 1.5f), ds0 = 0.25f;
    LptTensor ta = oc_tensor(oc, "a", LPT_F32, n, a);
    LptTensor tb = oc_tensor(oc, "b", LPT_F32, n, b);
    LptTensor ts = oc_tensor(oc, "s", LPT_F32, 1, &s);
    LptTensor tout = alias ? ta : oc_tensor(oc, "out", LPT_F32, n, NULL);
    LptError err = {0};

    snprintf(what, sizeof what, "scaled_add_forward n=%zu%s", n, alias ? " out=a" : "");
    LptStatus st = lpt_op_scaled_add_forward(oc->be, &tout, &ta, &tb, &ts, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (size_t i = 0; i < n; i++)
            ref[i] = a[i] + (double)s * b[i];
        oc_check_tensor(oc, what, &tout, ref, 1e-6, 1e-6);
    }

    snprintf(what, sizeof what, "scaled_add_backward n=%zu%s", n, with_ds ? "" : " ds=NULL");
    LptTensor tw = oc_tensor(oc, "dout", LPT_F32, n, w);
    LptTensor tdb = oc_tensor(oc, "db", LPT_F32, n, NULL);
    LptTensor tds = oc_tensor(oc, "ds", LPT_F32, 1, &ds0);
    st = lpt_op_scaled_add_backward(oc->be, &tdb, with_ds ? &tds : NULL, &tw, &tb, &ts, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double sum = 0.0, mag = 0.0;
        for (size_t i = 0; i < n; i++) {
            ref[i] = (double)s * w[i];
            sum += (double)w[i] * b[i];
            mag += fabs((double)w[i] * b[i]);
        }
        oc_check_tensor(oc, what, &tdb, ref, 1e-7, 1e-6);
        double ds_ref = with_ds ? ds0 + sum : ds0; /* accumulated, or untouched */
        char sub[160];
        snprintf(sub, sizeof sub, "%s ds", what);
        oc_check_tensor(oc, sub, &tds, &ds_ref, 1e-6 + 1e-6 * mag, 0.0);

        if (n <= 64) { /* the double reference against central differences */
            double *x = malloc((n + 1) * sizeof *x);
            x[0] = s;
            for (size_t i = 0; i < n; i++)
                x[1 + i] = b[i];
            ScaledLoss l = {a, w, n};
            double fd_s = oc_fd(scaled_loss, &l, x, 0, 1e-3);
            snprintf(sub, sizeof sub, "%s ds vs finite differences", what);
            oc_expect(oc, fabs(fd_s - sum) <= 1e-6 * (1.0 + mag), sub, "fd %.9g, ref %.9g",
                      fd_s, sum);
            size_t i = n / 2;
            double fd_b = oc_fd(scaled_loss, &l, x, 1 + i, 1e-3);
            snprintf(sub, sizeof sub, "%s db[%zu] vs finite differences", what, i);
            oc_expect(oc, fabs(fd_b - (double)s * w[i]) <= 1e-6, sub, "fd %.9g, ref %.9g", fd_b,
                      (double)s * w[i]);
            free(x);
        }
    }
    free(a);
    free(b);
    free(w);
    free(ref);
    oc_reset(oc);
}

/* NaN and infinities pass through the scaled add as through a + s b in double; ds becomes
 * NaN when any product is. */
static void check_scaled_add_special(OpCheck *oc)
{
    enum { N = 37 };
    float a[N], b[N], w[N], s = 0.5f, ds0 = 0.0f;
    oc_fill_uniform(oc, a, N, -1.0f, 1.0f);
    oc_fill_uniform(oc, b, N, -1.0f, 1.0f);
    oc_fill_uniform(oc, w, N, -1.0f, 1.0f);
    a[3] = INFINITY;
    b[5] = -INFINITY;
    b[11] = NAN;
    a[20] = INFINITY;
    b[20] = -INFINITY; /* inf - inf = NaN */
    double ref[N];
    LptTensor ta = oc_tensor(oc, "a", LPT_F32, N, a), tb = oc_tensor(oc, "b", LPT_F32, N, b);
    LptTensor ts = oc_tensor(oc, "s", LPT_F32, 1, &s), out = oc_tensor(oc, "out", LPT_F32, N, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_scaled_add_forward(oc->be, &out, &ta, &tb, &ts, N, &err);
    if (oc_expect(oc, st == LPT_OK, "scaled_add_forward NaN/Inf", "%s", err.message)) {
        for (int i = 0; i < N; i++)
            ref[i] = (double)a[i] + 0.5 * (double)b[i];
        oc_check_tensor(oc, "scaled_add_forward NaN/Inf", &out, ref, 1e-6, 1e-6);
    }
    LptTensor tw = oc_tensor(oc, "dout", LPT_F32, N, w), tdb = oc_tensor(oc, "db", LPT_F32, N, NULL);
    LptTensor tds = oc_tensor(oc, "ds", LPT_F32, 1, &ds0);
    st = lpt_op_scaled_add_backward(oc->be, &tdb, &tds, &tw, &tb, &ts, N, &err);
    if (oc_expect(oc, st == LPT_OK, "scaled_add_backward NaN/Inf", "%s", err.message)) {
        double nan_ref = NAN;
        oc_check_tensor(oc, "scaled_add_backward NaN/Inf ds", &tds, &nan_ref, 0.0, 0.0);
    }
    oc_reset(oc);
}

/* ---- one-hot --------------------------------------------------------------------------- */

typedef enum { HOT_RANDOM, HOT_REPEATED, HOT_INVALID } HotMode;
static const char *hot_names[] = {"random", "repeated", "out-of-range"};

static void check_onehot(OpCheck *oc, int rows, int n, int k, HotMode mode)
{
    char what[128];
    snprintf(what, sizeof what, "onehot_forward %dx%d k=%d %s", rows, n, k, hot_names[mode]);
    size_t total = (size_t)rows * n;
    int32_t *idx = malloc((size_t)rows * k * sizeof *idx);
    double *ref = malloc(total * sizeof *ref);
    const int32_t invalid[] = {-1, n, INT32_MAX, INT32_MIN};
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < k; j++) {
            int32_t m = (int32_t)oc_uniform(oc, 0.0f, (float)n);
            if (m >= n)
                m = n - 1;
            if (mode == HOT_REPEATED && j > 0)
                m = idx[(size_t)r * k];
            if (mode == HOT_INVALID && (r + j) % 3 == 0)
                m = invalid[(r + j) % 4];
            idx[(size_t)r * k + j] = m;
        }
    const float value = -0.375f;
    LptTensor tidx = oc_tensor(oc, "indices", LPT_I32, (size_t)rows * k, idx);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, total, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_onehot_forward(oc->be, &out, &tidx, rows, n, k, value, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        memset(ref, 0, total * sizeof *ref);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < k; j++) {
                int32_t m = idx[(size_t)r * k + j];
                if (m >= 0 && m < n)
                    ref[(size_t)r * n + m] += value;
            }
        oc_check_tensor(oc, what, &out, ref, 0.0, 0.0);
    }
    free(idx);
    free(ref);
    oc_reset(oc);
}

/* ---- feature dropout ------------------------------------------------------------------- */

/* Philox4x32-10 written from the Random123 paper (Salmon et al., SC'11), independently of
 * src/core: 10 rounds of the two 32 x 32 -> 64-bit multiplies, key bumped by the Weyl
 * constants after each round. */
static void ref_philox(uint32_t x[4], uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint64_t a = (uint64_t)0xD2511F53u * x[0], b = (uint64_t)0xCD9E8D57u * x[2];
        uint32_t y[4] = {(uint32_t)(b >> 32) ^ x[1] ^ k0, (uint32_t)b,
                         (uint32_t)(a >> 32) ^ x[3] ^ k1, (uint32_t)a};
        memcpy(x, y, sizeof y);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/* Random123's known answers for philox4x32-10 (kat_vectors). */
static void check_philox_known_answers(OpCheck *oc)
{
    uint32_t zero[4] = {0, 0, 0, 0}, ones[4] = {~0u, ~0u, ~0u, ~0u};
    uint32_t pi[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    ref_philox(zero, 0, 0);
    ref_philox(ones, ~0u, ~0u);
    ref_philox(pi, 0xa4093822u, 0x299f31d0u);
    const uint32_t want[3][4] = {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
                                 {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
                                 {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
    oc_expect(oc,
              memcmp(zero, want[0], 16) == 0 && memcmp(ones, want[1], 16) == 0 &&
                  memcmp(pi, want[2], 16) == 0,
              "dropout: reference Philox4x32-10 known answers", "%08x %08x %08x", zero[0],
              ones[0], pi[0]);
}

/* The reference mask: kept iff (top 24 bits of word 0) / 2^24 >= p. */
static bool ref_keep(uint64_t seed, uint32_t step, uint32_t r, uint32_t c, float p)
{
    uint32_t x[4] = {r, c, step, LPT_DROPOUT_STREAM};
    ref_philox(x, (uint32_t)seed, (uint32_t)(seed >> 32));
    return (double)(x[0] >> 8) / 16777216.0 >= (double)p;
}

/* Forward and backward of [rows, cols] at drop probability p against the reference (exact:
 * one float multiply per kept value); `shift` puts the tensors at an unaligned offset;
 * `alias` runs both in place. */
static void check_dropout(OpCheck *oc, int rows, int cols, float p, size_t shift, bool alias)
{
    char what[128];
    snprintf(what, sizeof what, "dropout %dx%d p=%g shift=%zu%s", rows, cols, (double)p, shift,
             alias ? " in place" : "");
    size_t n = (size_t)rows * cols;
    LptDropoutParams dp = {rows, cols, p, 0x9e3779b97f4a7c15ull ^ n, (uint32_t)(n * 7 + 3)};
    float *x = malloc((n + shift) * sizeof *x), *g = malloc((n + shift) * sizeof *g);
    double *ref = malloc(n * sizeof *ref), *gref = malloc(n * sizeof *gref);
    oc_fill_uniform(oc, x, n + shift, -3.0f, 3.0f);
    oc_fill_uniform(oc, g, n + shift, -1.0f, 1.0f);
    float scale = 1.0f / (1.0f - p);
    size_t kept = 0, agree = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = (uint32_t)(i / (size_t)cols), c = (uint32_t)(i % (size_t)cols);
        bool keep = ref_keep(dp.seed, dp.step, r, c, p);
        kept += keep;
        agree += keep == lpt_dropout_keep(dp.seed, dp.step, r, c, p);
        ref[i] = keep ? (double)(x[shift + i] * scale) : 0.0;
        gref[i] = keep ? (double)(g[shift + i] * scale) : 0.0;
    }
    oc_expect(oc, agree == n, what, "lpt_dropout_keep differs from the reference at %zu of %zu",
              n - agree, n);
    LptTensor xw = oc_tensor(oc, "in", LPT_F32, n + shift, x);
    LptTensor gw = oc_tensor(oc, "dout", LPT_F32, n + shift, g);
    LptTensor in = lpt_tensor_view(&xw, shift, n), dout = lpt_tensor_view(&gw, shift, n);
    LptTensor out = alias ? in : oc_tensor(oc, "out", LPT_F32, n, NULL);
    LptTensor din = alias ? dout : oc_tensor(oc, "din", LPT_F32, n, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_dropout_forward(oc->be, &out, &in, &dp, &err);
    if (oc_expect(oc, st == LPT_OK, what, "forward: %s", err.message))
        oc_check_tensor(oc, what, &out, ref, 0.0, 0.0);
    st = lpt_op_dropout_backward(oc->be, &din, &dout, &dp, &err);
    if (oc_expect(oc, st == LPT_OK, what, "backward: %s", err.message))
        oc_check_tensor(oc, what, &din, gref, 0.0, 0.0);
    if (n >= 10000) { /* kept fraction within 5 sigma of 1 - p */
        double q = 1.0 - p, sigma = sqrt(q * (1.0 - q) / (double)n);
        oc_expect(oc, fabs((double)kept / (double)n - q) <= 5.0 * sigma + 1e-12, what,
                  "kept %zu of %zu, expected %.4f", kept, n, q);
    }
    free(x);
    free(g);
    free(ref);
    free(gref);
    oc_reset(oc);
}

/* Masks of another step, another seed and another row are not the same mask. */
static void check_dropout_streams(OpCheck *oc)
{
    const int n = 4096;
    int same_step = 0, same_seed = 0, same_row = 0;
    for (int i = 0; i < n; i++) {
        bool a = lpt_dropout_keep(42, 7, 0, (uint32_t)i, 0.5f);
        same_step += a == lpt_dropout_keep(42, 8, 0, (uint32_t)i, 0.5f);
        same_seed += a == lpt_dropout_keep(43, 7, 0, (uint32_t)i, 0.5f);
        same_row += a == lpt_dropout_keep(42, 7, 1, (uint32_t)i, 0.5f);
    }
    /* independent masks agree on about half the values (sigma 32) */
    oc_expect(oc, abs(same_step - n / 2) < 200 && abs(same_seed - n / 2) < 200 &&
                      abs(same_row - n / 2) < 200,
              "dropout: masks of other steps, seeds, rows", "agreements %d %d %d of %d",
              same_step, same_seed, same_row, n);
}

/* ---- bad arguments --------------------------------------------------------------------- */

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor f = oc_tensor(oc, "f", LPT_F32, 4096, NULL);
    LptTensor g = oc_tensor(oc, "g", LPT_F32, 4096, NULL);
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor idx = oc_tensor(oc, "idx", LPT_I32, 4096, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_patchify_forward(oc->be, &f, &g, 1, 3, 30, 32, 8, &err);
    oc_expect_error(oc, "patchify_forward: 30 rows, patch 8", st, &err,
                    "not a multiple of the patch size 8");
    st = lpt_op_patchify_forward(oc->be, &f, &small, 1, 3, 8, 8, 4, &err);
    oc_expect_error(oc, "patchify_forward: images too small", st, &err, "'small'");
    st = lpt_op_patchify_forward(oc->be, &f, &g, 1, 3, 8, 8, 0, &err);
    oc_expect_error(oc, "patchify_forward: patch 0", st, &err, "patch = 0");
    st = lpt_op_embed_forward(oc->be, &f, &g, &small, 2, 4, 8, &err);
    oc_expect_error(oc, "embed_forward: pos too small", st, &err, "'small'");
    st = lpt_op_embed_forward(oc->be, &f, NULL, NULL, 2, 4, 8, &err);
    oc_expect_error(oc, "embed_forward: null pos", st, &err, "'pos' is NULL");
    st = lpt_op_scaled_add_forward(oc->be, &f, &f, &g, &idx, 100, &err);
    oc_expect_error(oc, "scaled_add_forward: integer scale", st, &err, "expected f32");
    st = lpt_op_scaled_add_backward(oc->be, &f, NULL, &f, &g, &g, 100, &err);
    oc_expect_error(oc, "scaled_add_backward: db = dout", st, &err, "db overlaps dout");
    LptTensor inside_g = lpt_tensor_view(&g, 50, 100);
    st = lpt_op_scaled_add_backward(oc->be, &inside_g, NULL, &f, &g, &g, 100, &err);
    oc_expect_error(oc, "scaled_add_backward: db inside b", st, &err, "db overlaps b");
    st = lpt_op_scaled_add_backward(oc->be, NULL, NULL, &f, &g, &g, 100, &err);
    oc_expect_error(oc, "scaled_add_backward: null db", st, &err, "'db' is NULL");
    st = lpt_op_onehot_forward(oc->be, &f, &f, 4, 20, 2, 1.0f, &err);
    oc_expect_error(oc, "onehot_forward: float indices", st, &err, "expected i32");
    st = lpt_op_onehot_forward(oc->be, &small, &idx, 4, 20, 2, 1.0f, &err);
    oc_expect_error(oc, "onehot_forward: out too small", st, &err, "'small'");
    LptDropoutParams dp = {4, 20, 1.0f, 1, 0};
    st = lpt_op_dropout_forward(oc->be, &f, &g, &dp, &err);
    oc_expect_error(oc, "dropout_forward: p = 1", st, &err, "outside [0, 1)");
    dp.p = -0.1f;
    st = lpt_op_dropout_backward(oc->be, &f, &g, &dp, &err);
    oc_expect_error(oc, "dropout_backward: p < 0", st, &err, "outside [0, 1)");
    dp.p = 0.1f;
    st = lpt_op_dropout_forward(oc->be, &small, &g, &dp, &err);
    oc_expect_error(oc, "dropout_forward: out too small", st, &err, "'small'");
    st = lpt_op_dropout_forward(oc->be, &f, &g, NULL, &err);
    oc_expect_error(oc, "dropout_forward: no parameters", st, &err, "no parameters");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    check_patchify(&oc, 1, 1, 1, 1, 1, 0);
    check_patchify(&oc, 2, 3, 8, 8, 4, 3);
    check_patchify(&oc, 3, 3, 14, 21, 7, 0);
    check_patchify(&oc, 2, 1, 33, 33, 11, 5);
    check_patchify(&oc, 3, 3, 32, 32, 8, 0);
    check_patchify(&oc, 8, 3, 224, 224, 16, 1); /* ViT-B/16 */

    check_embed(&oc, 1, 1, 1, true);
    check_embed(&oc, 1, 1, 1, false);
    check_embed(&oc, 2, 7, 33, true);
    check_embed(&oc, 3, 17, 32, false);
    check_embed(&oc, 8, 197, 768, true);

    const size_t sizes[] = {1, 7, 33, 257, 4097, 70001, (size_t)8 * 197 * 768};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_scaled_add(&oc, sizes[i], false, true);
    check_scaled_add(&oc, 257, true, true);
    check_scaled_add(&oc, 70001, false, false);
    check_scaled_add_special(&oc);

    for (int mode = HOT_RANDOM; mode <= HOT_INVALID; mode++) {
        check_onehot(&oc, 1, 1, 1, (HotMode)mode);
        check_onehot(&oc, 7, 20, 2, (HotMode)mode);
        check_onehot(&oc, 33, 257, 3, (HotMode)mode);
        check_onehot(&oc, 256, 20, 2, (HotMode)mode);
    }
    check_onehot(&oc, 70000, 3, 2, HOT_RANDOM);
    check_philox_known_answers(&oc);
    check_dropout(&oc, 1, 1, 0.1f, 0, false);
    check_dropout(&oc, 7, 33, 0.1f, 3, false);
    check_dropout(&oc, 33, 257, 0.5f, 0, true);
    check_dropout(&oc, 256, 128, 0.1f, 5, false);
    check_dropout(&oc, 8, 768, 0.0f, 0, false);
    check_dropout(&oc, 70001, 3, 0.9f, 1, true);
    check_dropout(&oc, 197, 768, 0.1f, 0, false);
    check_dropout_streams(&oc);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_model");
}

/* lpt_cpu_norm.c: LayerNorm and row L2-normalisation on the CPU backend.
 *
 * Rows are split across the pool; inside a row the arithmetic runs on 4-lane float vectors
 * (GCC vector extensions). Row sums accumulate in float lanes over spans of SPAN values and
 * in double across spans, so long rows keep their precision. LayerNorm statistics are
 * shifted two-pass: m0 = sum(x) / C, then sum(x - m0) and sum((x - m0)^2) give the exact
 * correction and the variance, so a row with a large offset loses nothing to cancellation
 * (the Vulkan kernels do the same).
 *
 * The LayerNorm parameter gradients are summed without races over a fixed number of row
 * blocks (NBLOCKS, independent of the thread count, so results do not depend on it): each
 * block adds its rows into its own float partial rows, and the calling thread adds the
 * partials in block order, in double.
 */
#include "lpt_cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROW_GRAIN_ELEMENTS 16384 /* about this many values per parallel chunk */
#define SPAN 256                 /* values summed in float lanes before a flush to double */
#define NBLOCKS 64               /* row blocks for the dweight/dbias partial sums */
#define L2_EPS 1e-12f

typedef float F4 __attribute__((vector_size(16)));

static inline F4 f4_load(const float *p)
{
    F4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void f4_store(float *p, F4 v)
{
    memcpy(p, &v, sizeof v);
}

static inline double f4_sum(F4 v)
{
    return ((double)v[0] + v[1]) + ((double)v[2] + v[3]);
}

/* Rows per parallel chunk for rows of c values. */
static size_t row_grain(int c)
{
    size_t g = ROW_GRAIN_ELEMENTS / (size_t)c;
    return g ? g : 1;
}

/* sum(x) over [0, c). */
static double row_sum(const float *x, int c)
{
    double s = 0;
    for (int s0 = 0; s0 < c; s0 += SPAN) {
        int s1 = s0 + SPAN < c ? s0 + SPAN : c, i = s0;
        F4 a = {0};
        for (; i + 4 <= s1; i += 4)
            a += f4_load(x + i);
        double t = f4_sum(a);
        for (; i < s1; i++)
            t += x[i];
        s += t;
    }
    return s;
}

/* sum(a * b) over [0, c). */
static double row_dot(const float *a, const float *b, int c)
{
    double s = 0;
    for (int s0 = 0; s0 < c; s0 += SPAN) {
        int s1 = s0 + SPAN < c ? s0 + SPAN : c, i = s0;
        F4 acc = {0};
        for (; i + 4 <= s1; i += 4)
            acc += f4_load(a + i) * f4_load(b + i);
        double t = f4_sum(acc);
        for (; i < s1; i++)
            t += a[i] * b[i];
        s += t;
    }
    return s;
}

/* ---- LayerNorm forward ----------------------------------------------------------------- */

typedef struct LnForward {
    float *out, *mean, *rstd;
    const float *in, *weight, *bias;
    int c;
    float eps;
} LnForward;

static void ln_forward_rows(void *ctx, size_t begin, size_t end)
{
    const LnForward *a = ctx;
    int c = a->c;
    for (size_t r = begin; r < end; r++) {
        const float *x = a->in + r * c;
        float *y = a->out + r * c;
        float m0 = (float)(row_sum(x, c) / c);
        /* sum(d) and sum(d^2), d = x - m0 */
        double s1 = 0, s2 = 0;
        for (int s0 = 0; s0 < c; s0 += SPAN) {
            int e = s0 + SPAN < c ? s0 + SPAN : c, i = s0;
            F4 a1 = {0}, a2 = {0};
            for (; i + 4 <= e; i += 4) {
                F4 d = f4_load(x + i) - m0;
                a1 += d;
                a2 += d * d;
            }
            double t1 = f4_sum(a1), t2 = f4_sum(a2);
            for (; i < e; i++) {
                float d = x[i] - m0;
                t1 += d;
                t2 += d * d;
            }
            s1 += t1;
            s2 += t2;
        }
        double delta = s1 / c, var = s2 / c - delta * delta;
        float rs = (float)(1.0 / sqrt((var > 0 ? var : 0) + a->eps)), df = (float)delta;
        int i = 0;
        for (; i + 4 <= c; i += 4)
            f4_store(y + i, ((f4_load(x + i) - m0) - df) * rs * f4_load(a->weight + i) +
                                f4_load(a->bias + i));
        for (; i < c; i++)
            y[i] = ((x[i] - m0) - df) * rs * a->weight[i] + a->bias[i];
        a->mean[r] = (float)(m0 + delta);
        a->rstd[r] = rs;
    }
}

LptStatus lpt_cpu_layernorm_forward(LptBackend *be, const LptTensor *out, const LptTensor *mean,
                                    const LptTensor *rstd, const LptTensor *in,
                                    const LptTensor *weight, const LptTensor *bias, int rows,
                                    int c, float eps, LptError *err)
{
    LnForward a = {lpt_cpu_f32(out),    lpt_cpu_f32(mean), lpt_cpu_f32(rstd), lpt_cpu_f32(in),
                   lpt_cpu_f32(weight), lpt_cpu_f32(bias), c,                 eps};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain(c), ln_forward_rows, &a);
    return LPT_OK;
}

/* ---- LayerNorm backward ---------------------------------------------------------------- */

/* With xh = (x - mean) rstd and g = dout * weight:
 *   din = rstd (g - mean(g) - xh mean(g xh)),  dweight += sum over rows of dout xh,
 *   dbias += sum over rows of dout. */
typedef struct LnBackward {
    float *din;
    const float *dout, *in, *mean, *rstd, *weight;
    int rows, c;
    float *partial; /* [blocks][2][c]: dweight then dbias partials, or NULL (frozen) */
    int blocks;     /* row blocks (one parallel item each) */
} LnBackward;

/* din of one row; with pw, pb also adds the row's dweight and dbias terms there. */
static void ln_backward_row(const LnBackward *a, size_t r, float *pw, float *pb)
{
    int c = a->c;
    const float *x = a->in + r * c, *dy = a->dout + r * c, *w = a->weight;
    float *dx = a->din + r * c;
    float m = a->mean[r], rs = a->rstd[r];
    double sg = 0, sgx = 0;
    for (int s0 = 0; s0 < c; s0 += SPAN) {
        int e = s0 + SPAN < c ? s0 + SPAN : c, i = s0;
        F4 ag = {0}, agx = {0};
        for (; i + 4 <= e; i += 4) {
            F4 g = f4_load(dy + i) * f4_load(w + i);
            ag += g;
            agx += g * ((f4_load(x + i) - m) * rs);
        }
        double tg = f4_sum(ag), tgx = f4_sum(agx);
        for (; i < e; i++) {
            float g = dy[i] * w[i];
            tg += g;
            tgx += g * ((x[i] - m) * rs);
        }
        sg += tg;
        sgx += tgx;
    }
    float mg = (float)(sg / c), mgx = (float)(sgx / c);
    int i = 0;
    if (pw) {
        for (; i + 4 <= c; i += 4) {
            F4 d = f4_load(dy + i), xh = (f4_load(x + i) - m) * rs;
            f4_store(dx + i, rs * (d * f4_load(w + i) - mg - xh * mgx));
            f4_store(pw + i, f4_load(pw + i) + d * xh);
            f4_store(pb + i, f4_load(pb + i) + d);
        }
        for (; i < c; i++) {
            float xh = (x[i] - m) * rs;
            dx[i] = rs * (dy[i] * w[i] - mg - xh * mgx);
            pw[i] += dy[i] * xh;
            pb[i] += dy[i];
        }
    } else {
        for (; i + 4 <= c; i += 4) {
            F4 xh = (f4_load(x + i) - m) * rs;
            f4_store(dx + i, rs * (f4_load(dy + i) * f4_load(w + i) - mg - xh * mgx));
        }
        for (; i < c; i++)
            dx[i] = rs * (dy[i] * w[i] - mg - (x[i] - m) * rs * mgx);
    }
}

static void ln_backward_blocks(void *ctx, size_t begin, size_t end)
{
    const LnBackward *a = ctx;
    for (size_t blk = begin; blk < end; blk++) {
        size_t r0 = (size_t)a->rows * blk / a->blocks;
        size_t r1 = (size_t)a->rows * (blk + 1) / a->blocks;
        float *pw = a->partial ? a->partial + blk * 2 * a->c : NULL;
        for (size_t r = r0; r < r1; r++)
            ln_backward_row(a, r, pw, pw ? pw + a->c : NULL);
    }
}

/* Adds partial sum number `which` (0 dweight, 1 dbias) of every block, in block order, onto
 * g[c]. */
static void add_partials(float *g, const float *partial, int which, int blocks, int c)
{
    for (int i = 0; i < c; i++) {
        double s = 0;
        for (int b = 0; b < blocks; b++)
            s += partial[((size_t)b * 2 + which) * c + i];
        g[i] += (float)s;
    }
}

LptStatus lpt_cpu_layernorm_backward(LptBackend *be, const LptTensor *din,
                                     const LptTensor *dweight, const LptTensor *dbias,
                                     const LptTensor *dout, const LptTensor *in,
                                     const LptTensor *mean, const LptTensor *rstd,
                                     const LptTensor *weight, int rows, int c, LptError *err)
{
    LnBackward a = {lpt_cpu_f32(din),  lpt_cpu_f32(dout), lpt_cpu_f32(in),
                    lpt_cpu_f32(mean), lpt_cpu_f32(rstd), lpt_cpu_f32(weight),
                    rows,              c,                 NULL,
                    rows < NBLOCKS ? rows : NBLOCKS};
    if ((dweight || dbias) && !(a.partial = calloc((size_t)a.blocks * 2 * c, sizeof(float))))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "layernorm_backward: out of host memory for %d x %d partial sums",
                             a.blocks, 2 * c);
    /* grain in blocks: about ROW_GRAIN_ELEMENTS values per chunk */
    size_t rows_per_block = ((size_t)rows + a.blocks - 1) / a.blocks;
    size_t grain = row_grain(c) / rows_per_block;
    lpt_cpu_parallel_for(be, (size_t)a.blocks, grain ? grain : 1, ln_backward_blocks, &a);
    if (dweight)
        add_partials(lpt_cpu_f32(dweight), a.partial, 0, a.blocks, c);
    if (dbias)
        add_partials(lpt_cpu_f32(dbias), a.partial, 1, a.blocks, c);
    free(a.partial);
    return LPT_OK;
}

/* ---- L2 normalisation ------------------------------------------------------------------ */

/* Forward: out = x / max(||x||, 1e-12), norm = ||x||. */
typedef struct L2Forward {
    float *out, *norm;
    const float *in;
    int n;
} L2Forward;

/* Backward (the clamp passes no gradient through the norm): din = (dout - out (dout . out))
 * / ||x|| when ||x|| > 1e-12, else dout / 1e-12. */
typedef struct L2Backward {
    float *din;
    const float *dout, *out, *norm;
    int n;
} L2Backward;

static void l2_forward_rows(void *ctx, size_t begin, size_t end)
{
    const L2Forward *a = ctx;
    int n = a->n;
    for (size_t r = begin; r < end; r++) {
        const float *x = a->in + r * n;
        float *y = a->out + r * n;
        double nrm = sqrt(row_dot(x, x, n));
        float inv = (float)(1.0 / (nrm > L2_EPS ? nrm : L2_EPS));
        int i = 0;
        for (; i + 4 <= n; i += 4)
            f4_store(y + i, f4_load(x + i) * inv);
        for (; i < n; i++)
            y[i] = x[i] * inv;
        a->norm[r] = (float)nrm;
    }
}

static void l2_backward_rows(void *ctx, size_t begin, size_t end)
{
    const L2Backward *a = ctx;
    int n = a->n;
    for (size_t r = begin; r < end; r++) {
        const float *y = a->out + r * n, *dy = a->dout + r * n;
        float *dx = a->din + r * n;
        float nrm = a->norm[r];
        float s = nrm > L2_EPS ? (float)row_dot(dy, y, n) : 0.0f;
        float inv = 1.0f / (nrm > L2_EPS ? nrm : L2_EPS);
        int i = 0;
        for (; i + 4 <= n; i += 4)
            f4_store(dx + i, (f4_load(dy + i) - f4_load(y + i) * s) * inv);
        for (; i < n; i++)
            dx[i] = (dy[i] - y[i] * s) * inv;
    }
}

LptStatus lpt_cpu_l2norm_forward(LptBackend *be, const LptTensor *out, const LptTensor *norm,
                                 const LptTensor *in, int rows, int n, LptError *err)
{
    L2Forward a = {lpt_cpu_f32(out), lpt_cpu_f32(norm), lpt_cpu_f32(in), n};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain(n), l2_forward_rows, &a);
    return LPT_OK;
}

LptStatus lpt_cpu_l2norm_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptTensor *out, const LptTensor *norm, int rows, int n,
                                  LptError *err)
{
    L2Backward a = {lpt_cpu_f32(din), lpt_cpu_f32(dout), lpt_cpu_f32(out), lpt_cpu_f32(norm), n};
    lpt_cpu_parallel_for(be, (size_t)rows, row_grain(n), l2_backward_rows, &a);
    return LPT_OK;
}

/* lpt_cpu_gemm.c: GEMM and the bias gradient on the CPU backend.
 *
 * gemm_forward is cblas_sgemm (row-major, OpenBLAS) once per batch, with no copies of the
 * operands. One product is threaded by OpenBLAS itself; a batch of products that divides over
 * the pool runs one single-threaded product per pool thread instead (the ViT's per-sequence
 * q/k/v products, 197 x 2304 x 768 at batch 8, ran at 208-218 GFLOP/s split by OpenBLAS and
 * 233-237 this way on 2 cores). A batch whose products are all equal (both operands shared,
 * beta 0: the shared prompts' k/v rows of every sequence) computes the first and copies it.
 * The bias is folded into C before the product when beta is 0 (one pass over C instead of
 * two), else added after it. bias_backward is a column sum split over the pool in (row slab x
 * column block) tiles, each summing in double into its own slot, reduced in a fixed order
 * (deterministic).
 */
#include "lpt_cpu.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#define BIAS_COLS 256  /* columns per bias-gradient tile */
#define BIAS_ROWS 64   /* fewest rows per bias-gradient slab */
#define ROW_GRAIN 4096 /* elements of C per chunk when adding a bias */
/* A batch that does not divide over the pool is split over it from this many products per
 * thread on (the uneven last round costs less than OpenBLAS's split of small products). */
#define BATCH_SPLIT_MIN 4

/* Adds (or, with `assign`, stores) bias[n] into rows [begin, end) of a strided C. */
typedef struct BiasRows {
    float *c;
    const float *bias;
    int m, n, ldc;
    int64_t stride_c;
    bool assign;
} BiasRows;

static void bias_rows(void *ctx, size_t begin, size_t end)
{
    const BiasRows *b = ctx;
    for (size_t r = begin; r < end; r++) {
        float *row = b->c + (int64_t)(r / (size_t)b->m) * b->stride_c +
                     (int64_t)(r % (size_t)b->m) * b->ldc;
        if (b->assign)
            for (int j = 0; j < b->n; j++)
                row[j] = b->bias[j];
        else
            for (int j = 0; j < b->n; j++)
                row[j] += b->bias[j];
    }
}

/* Products [begin, end) of a batch. */
typedef struct BatchGemm {
    float *c;
    const float *a, *b;
    const LptGemmShape *s;
    float beta;
} BatchGemm;

static void batch_gemm(void *ctx, size_t begin, size_t end)
{
    const BatchGemm *g = ctx;
    const LptGemmShape *s = g->s;
    enum CBLAS_TRANSPOSE ta = s->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = s->trans_b ? CblasTrans : CblasNoTrans;
    for (size_t i = begin; i < end; i++)
        cblas_sgemm(CblasRowMajor, ta, tb, s->m, s->n, s->k, s->alpha,
                    g->a + (int64_t)i * s->stride_a, s->lda, g->b + (int64_t)i * s->stride_b,
                    s->ldb, g->beta, g->c + (int64_t)i * s->stride_c, s->ldc);
}

/* Copies the first product's m x n block of C into products 1 + [begin, end). */
typedef struct CopyFirst {
    float *c;
    const LptGemmShape *s;
} CopyFirst;

static void copy_first(void *ctx, size_t begin, size_t end)
{
    const CopyFirst *cf = ctx;
    const LptGemmShape *s = cf->s;
    int64_t ldc = s->ldc ? s->ldc : s->n;
    for (size_t i = begin + 1; i < end + 1; i++)
        for (int r = 0; r < s->m; r++)
            memcpy(cf->c + (int64_t)i * s->stride_c + r * ldc, cf->c + r * ldc,
                   (size_t)s->n * sizeof(float));
}

LptStatus lpt_cpu_gemm_forward(LptBackend *be, const LptTensor *c, const LptTensor *a,
                               const LptTensor *b, const LptTensor *bias, const LptGemmShape *s,
                               LptError *err)
{
    int64_t ldc = s->ldc ? s->ldc : s->n, c_extent = (int64_t)(s->m - 1) * ldc + s->n;
    bool disjoint = s->stride_c >= c_extent; /* not a sum over the batch into one C */
    if (s->batch > 1 && s->stride_a == 0 && s->stride_b == 0 && s->beta == 0.0f && disjoint) {
        /* every product equals the first (the shared prompts' k/v rows of every sequence) */
        LptGemmShape first = *s;
        first.batch = 1;
        LPT_TRY(lpt_cpu_gemm_forward(be, c, a, b, bias, &first, err));
        CopyFirst cf = {lpt_cpu_f32(c), s};
        lpt_cpu_parallel_for(be, (size_t)s->batch - 1, 1, copy_first, &cf);
        return LPT_OK;
    }
    float *pc = lpt_cpu_f32(c);
    const float *pa = lpt_cpu_f32(a), *pb = lpt_cpu_f32(b);
    float beta = s->beta;
    BiasRows br = {pc, lpt_cpu_f32(bias), s->m, s->n, s->ldc, s->stride_c, beta == 0.0f};
    size_t rows = (size_t)s->m * (size_t)s->batch;
    size_t grain = (size_t)ROW_GRAIN / (size_t)s->n + 1;
    if (bias && beta == 0.0f) { /* C = bias, then C = alpha AB + 1 * C */
        lpt_cpu_parallel_for(be, rows, grain, bias_rows, &br);
        beta = 1.0f;
    }
    BatchGemm bg = {pc, pa, pb, s, beta};
    int threads = lpt_cpu_threads(be);
    if (threads > 1 && disjoint && s->batch >= threads &&
        (s->batch % threads == 0 || s->batch >= BATCH_SPLIT_MIN * threads)) {
        openblas_set_num_threads(1);
        lpt_cpu_parallel_for(be, (size_t)s->batch, 1, batch_gemm, &bg);
        openblas_set_num_threads(threads);
    } else {
        batch_gemm(&bg, 0, (size_t)s->batch);
    }
    if (bias && !br.assign)
        lpt_cpu_parallel_for(be, rows, grain, bias_rows, &br);
    return LPT_OK;
}

/* One (row slab, column block) tile of the bias gradient: column sums of its rows into
 * partial[slab * n + column]. */
typedef struct BiasSum {
    double *partial;
    const float *dout;
    int rows, n, slabs, blocks;
} BiasSum;

static void bias_sum(void *ctx, size_t begin, size_t end)
{
    const BiasSum *bs = ctx;
    double acc[BIAS_COLS];
    for (size_t t = begin; t < end; t++) {
        int slab = (int)(t / (size_t)bs->blocks), block = (int)(t % (size_t)bs->blocks);
        int r0 = (int)((int64_t)bs->rows * slab / bs->slabs);
        int r1 = (int)((int64_t)bs->rows * (slab + 1) / bs->slabs);
        int c0 = block * BIAS_COLS, width = bs->n - c0 < BIAS_COLS ? bs->n - c0 : BIAS_COLS;
        for (int j = 0; j < width; j++)
            acc[j] = 0.0;
        for (int r = r0; r < r1; r++) {
            const float *row = bs->dout + (size_t)r * (size_t)bs->n + (size_t)c0;
            for (int j = 0; j < width; j++)
                acc[j] += row[j];
        }
        double *out = bs->partial + (size_t)slab * (size_t)bs->n + (size_t)c0;
        for (int j = 0; j < width; j++)
            out[j] = acc[j];
    }
}

LptStatus lpt_cpu_bias_backward(LptBackend *be, const LptTensor *dbias, const LptTensor *dout,
                                int rows, int n, LptError *err)
{
    /* Enough tiles to keep every thread busy: split rows only when columns are too few. */
    int blocks = (n + BIAS_COLS - 1) / BIAS_COLS;
    int want = 4 * lpt_cpu_threads(be);
    int slabs = blocks >= want ? 1 : (want + blocks - 1) / blocks;
    if (slabs > rows / BIAS_ROWS)
        slabs = rows / BIAS_ROWS > 1 ? rows / BIAS_ROWS : 1;
    double *partial = malloc((size_t)slabs * (size_t)n * sizeof *partial);
    if (!partial)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "bias_backward: out of host memory for %d x %d partial sums", slabs,
                             n);
    BiasSum bs = {partial, lpt_cpu_f32(dout), rows, n, slabs, blocks};
    lpt_cpu_parallel_for(be, (size_t)slabs * (size_t)blocks, 1, bias_sum, &bs);
    float *db = lpt_cpu_f32(dbias);
    for (int j = 0; j < n; j++) {
        double sum = 0.0;
        for (int sl = 0; sl < slabs; sl++)
            sum += partial[(size_t)sl * (size_t)n + (size_t)j];
        db[j] += (float)sum;
    }
    free(partial);
    return LPT_OK;
}

/* lpt_ops.c: argument checks for every op, then the backend's kernel.
 *
 * Checks live here, once, so both backends refuse the same bad input with the same message:
 * every required tensor present, on this backend, of the right dtype and large enough for
 * the sizes; sizes positive and small enough to index with 32 bits. Composite ops
 * (gemm_backward) are written here from primitive ops and so are the same on both backends.
 */
#include "lpt_backend_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LPT_MAX_ELEMENTS ((size_t)INT32_MAX)

/* Checks one tensor argument of `op`. `need` is the least element count it must hold. */
static LptStatus check_arg(LptBackend *be, const char *op, const char *arg, const LptTensor *t,
                           LptDType dtype, size_t need, bool optional, LptError *err)
{
    if (!t) {
        if (optional)
            return LPT_OK;
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: argument '%s' is NULL", op,
                             arg);
    }
    const char *name = t->name ? t->name : arg;
    if (!t->arena)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' (argument '%s') has no storage", op, name, arg);
    if (t->arena->backend != be)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' (argument '%s') lives on another backend", op,
                             name, arg);
    if (t->dtype != dtype)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' (argument '%s') is %s, expected %s", op, name, arg,
                             lpt_dtype_name(t->dtype), lpt_dtype_name(dtype));
    if (t->count < need)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' (argument '%s') has %zu elements, the sizes "
                             "given need %zu",
                             op, name, arg, t->count, need);
    if (need > LPT_MAX_ELEMENTS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' (argument '%s') needs %zu elements, more than "
                             "the %zu one dispatch can index",
                             op, name, arg, need, LPT_MAX_ELEMENTS);
    if (t->offset + t->count * lpt_dtype_size(t->dtype) > t->arena->size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' runs past the end of arena '%s'", op, name,
                             t->arena->name);
    return LPT_OK;
}

/* Checks that every size is >= 1 (`names` is a space-separated list matching the values). */
static LptStatus check_sizes(const char *op, LptError *err, int n, const char *names,
                             const long long *values)
{
    const char *p = names;
    for (int i = 0; i < n; i++) {
        const char *end = strchr(p, ' ');
        int len = end ? (int)(end - p) : (int)strlen(p);
        if (values[i] < 1 || values[i] > INT32_MAX)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: size %.*s = %lld is out of range [1, %d]", op, len, p,
                                 values[i], INT32_MAX);
        p = end ? end + 1 : p + len;
    }
    return LPT_OK;
}

#define SIZES(op, names, ...)                                                                  \
    do {                                                                                       \
        const long long v_[] = {__VA_ARGS__};                                                  \
        LptStatus s_ = check_sizes(op, err, (int)(sizeof v_ / sizeof v_[0]), names, v_);       \
        if (s_ != LPT_OK)                                                                      \
            return s_;                                                                         \
    } while (0)

#define ARG(op, t, dtype, need, optional)                                                      \
    do {                                                                                       \
        LptStatus s_ = check_arg(be, op, #t, t, dtype, (size_t)(need), optional, err);         \
        if (s_ != LPT_OK)                                                                      \
            return s_;                                                                         \
    } while (0)

/* Runs a backend entry; on a profiling CPU backend also records its wall time (the Vulkan
 * backend times its kernels with timestamp queries instead). */
#define RUN(op, call)                                                                          \
    do {                                                                                       \
        bool timed_ = be->profile && be->kind == LPT_BACKEND_CPU;                              \
        double t0_ = timed_ ? lpt_now_seconds() : 0.0;                                         \
        LptStatus s_ = (call);                                                                 \
        if (timed_)                                                                            \
            lpt_backend_record_timing(be, op, lpt_now_seconds() - t0_);                        \
        return s_;                                                                             \
    } while (0)

#define BACKEND(op)                                                                            \
    do {                                                                                       \
        if (!be)                                                                               \
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no backend", op);      \
    } while (0)

/* ---- GEMM ------------------------------------------------------------------------------ */

void lpt_gemm_shape_init(LptGemmShape *s, int m, int n, int k, bool trans_a, bool trans_b)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->n = n;
    s->k = k;
    s->trans_a = trans_a;
    s->trans_b = trans_b;
    s->batch = 1;
    s->alpha = 1.0f;
}

/* Resolves packed (0) leading dimensions to the natural ones. */
static LptGemmShape gemm_resolved(const LptGemmShape *s)
{
    LptGemmShape r = *s;
    if (r.lda == 0)
        r.lda = r.trans_a ? r.m : r.k;
    if (r.ldb == 0)
        r.ldb = r.trans_b ? r.k : r.n;
    if (r.ldc == 0)
        r.ldc = r.n;
    if (r.batch == 0)
        r.batch = 1;
    return r;
}

/* Elements an operand spans: (batch-1)*stride + (rows-1)*ld + cols. */
static size_t span(int batch, int64_t stride, int rows, int ld, int cols)
{
    return (size_t)(batch - 1) * (size_t)stride + (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* Elements C, A and B span under a resolved shape. */
static size_t gemm_span_c(const LptGemmShape *r)
{
    return span(r->batch, r->stride_c, r->m, r->ldc, r->n);
}
static size_t gemm_span_a(const LptGemmShape *r)
{
    return r->trans_a ? span(r->batch, r->stride_a, r->k, r->lda, r->m)
                      : span(r->batch, r->stride_a, r->m, r->lda, r->k);
}
static size_t gemm_span_b(const LptGemmShape *r)
{
    return r->trans_b ? span(r->batch, r->stride_b, r->n, r->ldb, r->k)
                      : span(r->batch, r->stride_b, r->k, r->ldb, r->n);
}

/* Checks a resolved shape's leading dimensions and batch strides (outputs may not overlap). */
static LptStatus gemm_check_layout(const char *op, const LptGemmShape *r, LptError *err)
{
    int a_cols = r->trans_a ? r->m : r->k, b_cols = r->trans_b ? r->k : r->n;
    if (r->lda < a_cols || r->ldb < b_cols || r->ldc < r->n)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: leading dimensions lda=%d ldb=%d ldc=%d are smaller than the "
                             "rows they hold (%d, %d, %d)",
                             op, r->lda, r->ldb, r->ldc, a_cols, b_cols, r->n);
    if (r->stride_a < 0 || r->stride_b < 0 || r->stride_c < 0 ||
        (r->batch > 1 && r->stride_c < (int64_t)(r->m - 1) * r->ldc + r->n))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: batch strides (%lld, %lld, %lld) are negative or make the "
                             "outputs of %d batches overlap",
                             op, (long long)r->stride_a, (long long)r->stride_b,
                             (long long)r->stride_c, r->batch);
    return LPT_OK;
}

LptStatus lpt_op_gemm_forward(LptBackend *be, const LptTensor *c, const LptTensor *a,
                              const LptTensor *b, const LptTensor *bias, const LptGemmShape *s,
                              LptError *err)
{
    const char *op = "gemm_forward";
    BACKEND(op);
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no shape", op);
    LptGemmShape r = gemm_resolved(s);
    SIZES(op, "m n k batch", r.m, r.n, r.k, r.batch);
    LptStatus st = gemm_check_layout(op, &r, err);
    if (st != LPT_OK)
        return st;
    ARG(op, c, LPT_F32, gemm_span_c(&r), false);
    ARG(op, a, LPT_F32, gemm_span_a(&r), false);
    ARG(op, b, LPT_F32, gemm_span_b(&r), false);
    ARG(op, bias, LPT_F32, r.n, true);
    RUN(op, be->vt->gemm_forward(be, c, a, b, bias, &r, err));
}

LptStatus lpt_op_bias_backward(LptBackend *be, const LptTensor *dbias, const LptTensor *dout,
                               int rows, int n, LptError *err)
{
    const char *op = "bias_backward";
    BACKEND(op);
    SIZES(op, "rows n", rows, n);
    ARG(op, dbias, LPT_F32, n, false);
    ARG(op, dout, LPT_F32, (size_t)rows * n, false);
    RUN(op, be->vt->bias_backward(be, dbias, dout, rows, n, err));
}

LptStatus lpt_op_gemm_backward(LptBackend *be, const LptTensor *da, const LptTensor *db,
                               const LptTensor *dbias, const LptTensor *dc, const LptTensor *a,
                               const LptTensor *b, const LptGemmShape *s, LptError *err)
{
    const char *op = "gemm_backward";
    BACKEND(op);
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no shape", op);
    LptGemmShape r = gemm_resolved(s);
    SIZES(op, "m n k batch", r.m, r.n, r.k, r.batch);
    if (r.beta != 0.0f)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: only defined for beta = 0 (got %g)", op, (double)r.beta);
    LptStatus st = gemm_check_layout(op, &r, err);
    if (st != LPT_OK)
        return st;
    ARG(op, dc, LPT_F32, gemm_span_c(&r), false);
    ARG(op, a, LPT_F32, gemm_span_a(&r), false);
    ARG(op, b, LPT_F32, gemm_span_b(&r), false);
    ARG(op, da, LPT_F32, gemm_span_a(&r), true);
    ARG(op, db, LPT_F32, gemm_span_b(&r), true);
    ARG(op, dbias, LPT_F32, r.n, true);
    if (dbias && (r.ldc != r.n || (r.batch > 1 && r.stride_c != (int64_t)r.m * r.n)))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: a bias gradient needs packed dC rows", op);
    if (da) {
        /* op(A) = alpha dC op(B)^T: if A is stored transposed, dA^T = alpha op(B) dC^T. dA is
         * assigned; a shared A (stride_a = 0) sums over the batch one product at a time, the
         * first assigning and the rest accumulating. */
        int products = r.stride_a == 0 ? r.batch : 1;
        int inner_batch = r.stride_a == 0 ? 1 : r.batch;
        for (int i = 0; i < products; i++) {
            size_t b_off = (size_t)i * (size_t)r.stride_b, c_off = (size_t)i * (size_t)r.stride_c;
            LptTensor b_i = lpt_tensor_view(b, b_off, b->count - b_off);
            LptTensor c_i = lpt_tensor_view(dc, c_off, dc->count - c_off);
            float beta = i == 0 ? 0.0f : 1.0f;
            if (!r.trans_a) { /* dA[m,k] = dC[m,n] op(B)^T[n,k] */
                st = lpt_op_gemm_forward(be, da, &c_i, &b_i, NULL, &(LptGemmShape){
                    r.m, r.k, r.n, false, !r.trans_b, r.ldc, r.ldb, r.lda, inner_batch,
                    r.stride_c, r.stride_b, r.stride_a, r.alpha, beta}, err);
            } else { /* dA stored [k,m] = op(B)[k,n] dC^T[n,m] */
                st = lpt_op_gemm_forward(be, da, &b_i, &c_i, NULL, &(LptGemmShape){
                    r.k, r.m, r.n, r.trans_b, true, r.ldb, r.ldc, r.lda, inner_batch,
                    r.stride_b, r.stride_c, r.stride_a, r.alpha, beta}, err);
            }
            if (st != LPT_OK)
                return lpt_error_prefix(err, "%s (input gradient)", op);
        }
    }
    if (db) {
        /* dB accumulates; a shared B (stride_b = 0) sums over the batch one product at a time. */
        int products = r.stride_b == 0 ? r.batch : 1;
        int inner_batch = r.stride_b == 0 ? 1 : r.batch;
        for (int i = 0; i < products; i++) {
            size_t a_off = (size_t)i * (size_t)r.stride_a, c_off = (size_t)i * (size_t)r.stride_c;
            LptTensor a_i = lpt_tensor_view(a, a_off, a->count - a_off);
            LptTensor c_i = lpt_tensor_view(dc, c_off, dc->count - c_off);
            if (!r.trans_b) { /* dB[k,n] += op(A)^T[k,m] dC[m,n] */
                st = lpt_op_gemm_forward(be, db, &a_i, &c_i, NULL, &(LptGemmShape){
                    r.k, r.n, r.m, !r.trans_a, false, r.lda, r.ldc, r.ldb, inner_batch,
                    r.stride_a, r.stride_c, r.stride_b, r.alpha, 1.0f}, err);
            } else { /* dB stored [n,k] += dC^T[n,m] op(A)[m,k] */
                st = lpt_op_gemm_forward(be, db, &c_i, &a_i, NULL, &(LptGemmShape){
                    r.n, r.k, r.m, true, r.trans_a, r.ldc, r.lda, r.ldb, inner_batch,
                    r.stride_c, r.stride_a, r.stride_b, r.alpha, 1.0f}, err);
            }
            if (st != LPT_OK)
                return lpt_error_prefix(err, "%s (weight gradient)", op);
        }
    }
    if (dbias) {
        st = lpt_op_bias_backward(be, dbias, dc, r.m * r.batch, r.n, err);
        if (st != LPT_OK)
            return lpt_error_prefix(err, "%s (bias gradient)", op);
    }
    return LPT_OK;
}

/* ---- normalisation --------------------------------------------------------------------- */

LptStatus lpt_op_layernorm_forward(LptBackend *be, const LptTensor *out, const LptTensor *mean,
                                   const LptTensor *rstd, const LptTensor *in,
                                   const LptTensor *weight, const LptTensor *bias, int rows,
                                   int c, float eps, LptError *err)
{
    const char *op = "layernorm_forward";
    BACKEND(op);
    SIZES(op, "rows c", rows, c);
    if (!(eps > 0.0f))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: eps must be > 0", op);
    size_t n = (size_t)rows * c;
    ARG(op, out, LPT_F32, n, false);
    ARG(op, mean, LPT_F32, rows, false);
    ARG(op, rstd, LPT_F32, rows, false);
    ARG(op, in, LPT_F32, n, false);
    ARG(op, weight, LPT_F32, c, false);
    ARG(op, bias, LPT_F32, c, false);
    RUN(op, be->vt->layernorm_forward(be, out, mean, rstd, in, weight, bias, rows, c, eps, err));
}

LptStatus lpt_op_layernorm_backward(LptBackend *be, const LptTensor *din,
                                    const LptTensor *dweight, const LptTensor *dbias,
                                    const LptTensor *dout, const LptTensor *in,
                                    const LptTensor *mean, const LptTensor *rstd,
                                    const LptTensor *weight, int rows, int c, LptError *err)
{
    const char *op = "layernorm_backward";
    BACKEND(op);
    SIZES(op, "rows c", rows, c);
    size_t n = (size_t)rows * c;
    ARG(op, din, LPT_F32, n, false);
    ARG(op, dweight, LPT_F32, c, true);
    ARG(op, dbias, LPT_F32, c, true);
    ARG(op, dout, LPT_F32, n, false);
    ARG(op, in, LPT_F32, n, false);
    ARG(op, mean, LPT_F32, rows, false);
    ARG(op, rstd, LPT_F32, rows, false);
    ARG(op, weight, LPT_F32, c, false);
    RUN(op, be->vt->layernorm_backward(be, din, dweight, dbias, dout, in, mean, rstd, weight,
                                      rows, c, err));
}

LptStatus lpt_op_l2norm_forward(LptBackend *be, const LptTensor *out, const LptTensor *norm,
                                const LptTensor *in, int rows, int n, LptError *err)
{
    const char *op = "l2norm_forward";
    BACKEND(op);
    SIZES(op, "rows n", rows, n);
    ARG(op, out, LPT_F32, (size_t)rows * n, false);
    ARG(op, norm, LPT_F32, rows, false);
    ARG(op, in, LPT_F32, (size_t)rows * n, false);
    RUN(op, be->vt->l2norm_forward(be, out, norm, in, rows, n, err));
}

LptStatus lpt_op_l2norm_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                 const LptTensor *out, const LptTensor *norm, int rows, int n,
                                 LptError *err)
{
    const char *op = "l2norm_backward";
    BACKEND(op);
    SIZES(op, "rows n", rows, n);
    ARG(op, din, LPT_F32, (size_t)rows * n, false);
    ARG(op, dout, LPT_F32, (size_t)rows * n, false);
    ARG(op, out, LPT_F32, (size_t)rows * n, false);
    ARG(op, norm, LPT_F32, rows, false);
    RUN(op, be->vt->l2norm_backward(be, din, dout, out, norm, rows, n, err));
}

/* ---- activations ----------------------------------------------------------------------- */

#define UNARY_OPS(stem)                                                                        \
    LptStatus lpt_op_##stem##_forward(LptBackend *be, const LptTensor *out,                    \
                                      const LptTensor *in, size_t n, LptError *err)            \
    {                                                                                          \
        const char *op = #stem "_forward";                                                     \
        BACKEND(op);                                                                           \
        SIZES(op, "n", (long long)n);                                                          \
        ARG(op, out, LPT_F32, n, false);                                                       \
        ARG(op, in, LPT_F32, n, false);                                                        \
        RUN(op, be->vt->stem##_forward(be, out, in, n, err));                                  \
    }                                                                                          \
    LptStatus lpt_op_##stem##_backward(LptBackend *be, const LptTensor *din,                   \
                                       const LptTensor *dout, const LptTensor *in, size_t n,   \
                                       LptError *err)                                          \
    {                                                                                          \
        const char *op = #stem "_backward";                                                    \
        BACKEND(op);                                                                           \
        SIZES(op, "n", (long long)n);                                                          \
        ARG(op, din, LPT_F32, n, false);                                                       \
        ARG(op, dout, LPT_F32, n, false);                                                      \
        ARG(op, in, LPT_F32, n, false);                                                        \
        RUN(op, be->vt->stem##_backward(be, din, dout, in, n, err));                           \
    }

UNARY_OPS(gelu)
UNARY_OPS(quick_gelu)
UNARY_OPS(relu)

LptStatus lpt_op_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                             const LptTensor *b, float alpha, size_t n, LptError *err)
{
    const char *op = "add_forward";
    BACKEND(op);
    SIZES(op, "n", (long long)n);
    ARG(op, out, LPT_F32, n, false);
    ARG(op, a, LPT_F32, n, false);
    ARG(op, b, LPT_F32, n, false);
    RUN(op, be->vt->add_forward(be, out, a, b, alpha, n, err));
}

/* ---- softmax and attention ------------------------------------------------------------- */

LptStatus lpt_op_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 int rows, int n, float scale, LptError *err)
{
    const char *op = "softmax_forward";
    BACKEND(op);
    SIZES(op, "rows n", rows, n);
    ARG(op, out, LPT_F32, (size_t)rows * n, false);
    ARG(op, in, LPT_F32, (size_t)rows * n, false);
    RUN(op, be->vt->softmax_forward(be, out, in, rows, n, scale, err));
}

LptStatus lpt_op_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptTensor *out, int rows, int n, float scale,
                                  LptError *err)
{
    const char *op = "softmax_backward";
    BACKEND(op);
    SIZES(op, "rows n", rows, n);
    ARG(op, din, LPT_F32, (size_t)rows * n, false);
    ARG(op, dout, LPT_F32, (size_t)rows * n, false);
    ARG(op, out, LPT_F32, (size_t)rows * n, false);
    RUN(op, be->vt->softmax_backward(be, din, dout, out, rows, n, scale, err));
}

void lpt_attention_shape_init(LptAttentionShape *s, int batch, int heads, int head_dim,
                              int q_len, int kv_len)
{
    memset(s, 0, sizeof *s);
    s->batch = batch;
    s->heads = heads;
    s->head_dim = head_dim;
    s->q_len = q_len;
    s->kv_len = kv_len;
    s->scale = head_dim > 0 ? 1.0f / sqrtf((float)head_dim) : 1.0f;
}

/* Resolves packed (0) strides and checks the sizes; fills *r. */
static LptStatus attention_resolve(const char *op, const LptAttentionShape *s,
                                   LptAttentionShape *r, LptError *err)
{
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no shape", op);
    *r = *s;
    SIZES(op, "batch heads head_dim q_len kv_len", s->batch, s->heads, s->head_dim, s->q_len,
          s->kv_len);
    if (s->head_dim > 256)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: head_dim %d is above the supported 256", op, s->head_dim);
    int c = s->heads * s->head_dim;
    if (r->ld_q == 0)
        r->ld_q = c;
    if (r->ld_kv == 0)
        r->ld_kv = c;
    if (r->ld_out == 0)
        r->ld_out = c;
    if (r->bs_q == 0)
        r->bs_q = (int64_t)s->q_len * r->ld_q;
    if (r->bs_kv == 0)
        r->bs_kv = (int64_t)s->kv_len * r->ld_kv;
    if (r->bs_out == 0)
        r->bs_out = (int64_t)s->q_len * r->ld_out;
    if (r->ld_q < c || r->ld_kv < c || r->ld_out < c)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: row strides (%d, %d, %d) are below the width %d", op,
                             r->ld_q, r->ld_kv, r->ld_out, c);
    if (s->causal && s->kv_len < s->q_len)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: a causal mask needs kv_len (%d) >= q_len (%d)", op,
                             s->kv_len, s->q_len);
    return LPT_OK;
}

LptStatus lpt_op_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                   const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                   const LptAttentionShape *s, LptError *err)
{
    const char *op = "attention_forward";
    BACKEND(op);
    LptAttentionShape r;
    LptStatus st = attention_resolve(op, s, &r, err);
    if (st != LPT_OK)
        return st;
    int c = r.heads * r.head_dim;
    ARG(op, out, LPT_F32, span(r.batch, r.bs_out, r.q_len, r.ld_out, c), false);
    ARG(op, lse, LPT_F32, (size_t)r.batch * r.heads * r.q_len, false);
    ARG(op, q, LPT_F32, span(r.batch, r.bs_q, r.q_len, r.ld_q, c), false);
    ARG(op, k, LPT_F32, span(r.batch, r.bs_kv, r.kv_len, r.ld_kv, c), false);
    ARG(op, v, LPT_F32, span(r.batch, r.bs_kv, r.kv_len, r.ld_kv, c), false);
    RUN(op, be->vt->attention_forward(be, out, lse, q, k, v, &r, err));
}

LptStatus lpt_op_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                    const LptTensor *dv, const LptTensor *dout,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptTensor *out, const LptTensor *lse,
                                    const LptAttentionShape *s, LptError *err)
{
    const char *op = "attention_backward";
    BACKEND(op);
    LptAttentionShape r;
    LptStatus st = attention_resolve(op, s, &r, err);
    if (st != LPT_OK)
        return st;
    int c = r.heads * r.head_dim;
    size_t nq = span(r.batch, r.bs_q, r.q_len, r.ld_q, c);
    size_t nkv = span(r.batch, r.bs_kv, r.kv_len, r.ld_kv, c);
    size_t no = span(r.batch, r.bs_out, r.q_len, r.ld_out, c);
    ARG(op, dq, LPT_F32, nq, false);
    ARG(op, dk, LPT_F32, nkv, false);
    ARG(op, dv, LPT_F32, nkv, false);
    ARG(op, dout, LPT_F32, no, false);
    ARG(op, q, LPT_F32, nq, false);
    ARG(op, k, LPT_F32, nkv, false);
    ARG(op, v, LPT_F32, nkv, false);
    ARG(op, out, LPT_F32, no, false);
    ARG(op, lse, LPT_F32, (size_t)r.batch * r.heads * r.q_len, false);
    RUN(op, be->vt->attention_backward(be, dq, dk, dv, dout, q, k, v, out, lse, &r, err));
}

/* ---- classifier and loss --------------------------------------------------------------- */

LptStatus lpt_op_cosine_forward(LptBackend *be, const LptTensor *logits, const LptTensor *f,
                                const LptTensor *w, int batch, int classes, int c,
                                LptError *err)
{
    const char *op = "cosine_forward";
    BACKEND(op);
    SIZES(op, "batch classes c", batch, classes, c);
    ARG(op, logits, LPT_F32, (size_t)batch * classes, false);
    ARG(op, f, LPT_F32, (size_t)batch * c, false);
    ARG(op, w, LPT_F32, (size_t)classes * c, false);
    RUN(op, be->vt->cosine_forward(be, logits, f, w, batch, classes, c, err));
}

LptStatus lpt_op_cosine_backward(LptBackend *be, const LptTensor *df, const LptTensor *dw,
                                 const LptTensor *dlogits, const LptTensor *f,
                                 const LptTensor *w, int batch, int classes, int c,
                                 LptError *err)
{
    const char *op = "cosine_backward";
    BACKEND(op);
    SIZES(op, "batch classes c", batch, classes, c);
    ARG(op, df, LPT_F32, (size_t)batch * c, true);
    ARG(op, dw, LPT_F32, (size_t)classes * c, true);
    ARG(op, dlogits, LPT_F32, (size_t)batch * classes, false);
    ARG(op, f, LPT_F32, (size_t)batch * c, false);
    ARG(op, w, LPT_F32, (size_t)classes * c, false);
    RUN(op, be->vt->cosine_backward(be, df, dw, dlogits, f, w, batch, classes, c, err));
}

void lpt_agcl_params_init(LptAgclParams *p, int batch, int classes, float gamma_pos,
                          float gamma_neg)
{
    memset(p, 0, sizeof *p);
    p->batch = batch;
    p->classes = classes;
    p->gamma_pos = gamma_pos;
    p->gamma_neg = gamma_neg;
    p->scale = 20.0f;
    p->margin = 0.1f;
    p->noise = 0.5f;
    p->smoothing = 0.1f;
}

static LptStatus agcl_check(LptBackend *be, const char *op, const LptTensor *cos,
                            const LptTensor *labels, const LptTensor *margins,
                            const LptAgclParams *p, LptError *err)
{
    if (!p)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no parameters", op);
    SIZES(op, "batch classes", p->batch, p->classes);
    if (p->gamma_pos < 0 || p->gamma_neg < 0 || p->smoothing < 0 || p->smoothing > 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: gammas must be >= 0 and smoothing in [0, 1]", op);
    ARG(op, cos, LPT_F32, (size_t)p->batch * p->classes, false);
    ARG(op, labels, LPT_I32, p->batch, false);
    ARG(op, margins, LPT_F32, p->classes, false);
    return LPT_OK;
}

LptStatus lpt_op_agcl_forward(LptBackend *be, const LptTensor *loss, const LptTensor *cos,
                              const LptTensor *labels, const LptTensor *margins,
                              const LptAgclParams *p, LptError *err)
{
    const char *op = "agcl_forward";
    BACKEND(op);
    LptStatus st = agcl_check(be, op, cos, labels, margins, p, err);
    if (st != LPT_OK)
        return st;
    ARG(op, loss, LPT_F32, p->batch, false);
    RUN(op, be->vt->agcl_forward(be, loss, cos, labels, margins, p, err));
}

LptStatus lpt_op_agcl_backward(LptBackend *be, const LptTensor *dcos, const LptTensor *cos,
                               const LptTensor *labels, const LptTensor *margins,
                               const LptAgclParams *p, float grad_scale, LptError *err)
{
    const char *op = "agcl_backward";
    BACKEND(op);
    LptStatus st = agcl_check(be, op, cos, labels, margins, p, err);
    if (st != LPT_OK)
        return st;
    ARG(op, dcos, LPT_F32, (size_t)p->batch * p->classes, false);
    RUN(op, be->vt->agcl_backward(be, dcos, cos, labels, margins, p, grad_scale, err));
}

/* Philox4x32-10 (Salmon et al., SC'11); shaders/philox.glsl is the same function. */
static void philox4x32(uint32_t ctr[4], uint32_t key0, uint32_t key1)
{
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * ctr[0];
        uint64_t p1 = (uint64_t)0xCD9E8D57u * ctr[2];
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t c0 = hi1 ^ ctr[1] ^ key0, c2 = hi0 ^ ctr[3] ^ key1;
        ctr[0] = c0, ctr[1] = lo1, ctr[2] = c2, ctr[3] = lo0;
        key0 += 0x9E3779B9u;
        key1 += 0xBB67AE85u;
    }
}

float lpt_agcl_noise(uint64_t seed, uint32_t step, uint32_t sample, uint32_t cls)
{
    uint32_t ctr[4] = {sample, cls, step, 0u};
    philox4x32(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    float u1 = (float)((ctr[0] >> 8) + 1u) * (1.0f / 16777216.0f); /* (0, 1] */
    float u2 = (float)(ctr[1] >> 8) * (1.0f / 16777216.0f);        /* [0, 1) */
    float z = sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
    float e = z * (1.0f / 3.0f);
    e = e < -1.0f ? -1.0f : (e > 1.0f ? 1.0f : e);
    return fabsf(e);
}

bool lpt_dropout_keep(uint64_t seed, uint32_t step, uint32_t row, uint32_t col, float p)
{
    uint32_t ctr[4] = {row, col, step, LPT_DROPOUT_STREAM};
    philox4x32(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    return (float)(ctr[0] >> 8) * (1.0f / 16777216.0f) >= p; /* u in [0, 1), exact */
}

/* ---- feature dropout ------------------------------------------------------------------- */

static LptStatus dropout_run(LptBackend *be, const char *op, const LptTensor *out,
                             const LptTensor *in, const LptDropoutParams *p, LptError *err)
{
    BACKEND(op);
    if (!p)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no parameters", op);
    SIZES(op, "rows cols", p->rows, p->cols);
    if (!(p->p >= 0.0f && p->p < 1.0f))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: the drop probability %g is outside [0, 1)", op, (double)p->p);
    size_t n = (size_t)p->rows * (size_t)p->cols;
    ARG(op, out, LPT_F32, n, false);
    ARG(op, in, LPT_F32, n, false);
    RUN(op, be->vt->dropout_forward(be, out, in, p, err));
}

LptStatus lpt_op_dropout_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 const LptDropoutParams *p, LptError *err)
{
    return dropout_run(be, "dropout_forward", out, in, p, err);
}

LptStatus lpt_op_dropout_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptDropoutParams *p, LptError *err)
{
    return dropout_run(be, "dropout_backward", din, dout, p, err);
}

/* ---- optimisers ------------------------------------------------------------------------ */

LptStatus lpt_op_sgd_update(LptBackend *be, const LptTensor *param, const LptTensor *velocity,
                            const LptTensor *grad, size_t n, float lr, float momentum,
                            float weight_decay, LptError *err)
{
    const char *op = "sgd_update";
    BACKEND(op);
    SIZES(op, "n", (long long)n);
    ARG(op, param, LPT_F32, n, false);
    ARG(op, velocity, LPT_F32, n, false);
    ARG(op, grad, LPT_F32, n, false);
    RUN(op, be->vt->sgd_update(be, param, velocity, grad, n, lr, momentum, weight_decay, err));
}

LptStatus lpt_op_adamw_update(LptBackend *be, const LptTensor *param, const LptTensor *m,
                              const LptTensor *v, const LptTensor *grad, size_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay,
                              int step, LptError *err)
{
    const char *op = "adamw_update";
    BACKEND(op);
    SIZES(op, "n step", (long long)n, step);
    ARG(op, param, LPT_F32, n, false);
    ARG(op, m, LPT_F32, n, false);
    ARG(op, v, LPT_F32, n, false);
    ARG(op, grad, LPT_F32, n, false);
    RUN(op, be->vt->adamw_update(be, param, m, v, grad, n, lr, beta1, beta2, eps, weight_decay,
                                step, err));
}

/* ---- prompt pools and selection -------------------------------------------------------- */

LptStatus lpt_op_gather_mean_forward(LptBackend *be, const LptTensor *out,
                                     const LptTensor *pool, const LptTensor *indices,
                                     int batch, int k, int pool_size, int entry_size,
                                     LptError *err)
{
    const char *op = "gather_mean_forward";
    BACKEND(op);
    SIZES(op, "batch k pool_size entry_size", batch, k, pool_size, entry_size);
    ARG(op, out, LPT_F32, (size_t)batch * entry_size, false);
    ARG(op, pool, LPT_F32, (size_t)pool_size * entry_size, false);
    ARG(op, indices, LPT_I32, (size_t)batch * k, false);
    RUN(op, be->vt->gather_mean_forward(be, out, pool, indices, batch, k, pool_size, entry_size,
                                       err));
}

LptStatus lpt_op_gather_mean_backward(LptBackend *be, const LptTensor *dpool,
                                      const LptTensor *dout, const LptTensor *indices,
                                      int batch, int k, int pool_size, int entry_size,
                                      LptError *err)
{
    const char *op = "gather_mean_backward";
    BACKEND(op);
    SIZES(op, "batch k pool_size entry_size", batch, k, pool_size, entry_size);
    ARG(op, dpool, LPT_F32, (size_t)pool_size * entry_size, false);
    ARG(op, dout, LPT_F32, (size_t)batch * entry_size, false);
    ARG(op, indices, LPT_I32, (size_t)batch * k, false);
    RUN(op, be->vt->gather_mean_backward(be, dpool, dout, indices, batch, k, pool_size,
                                        entry_size, err));
}

LptStatus lpt_op_topk_forward(LptBackend *be, const LptTensor *values, const LptTensor *indices,
                              const LptTensor *in, int rows, int n, int k, LptError *err)
{
    const char *op = "topk_forward";
    BACKEND(op);
    SIZES(op, "rows n k", rows, n, k);
    if (k > 32 || k > n)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: k = %d must be <= 32 and <= the row length %d", op, k, n);
    ARG(op, values, LPT_F32, (size_t)rows * k, false);
    ARG(op, indices, LPT_I32, (size_t)rows * k, false);
    ARG(op, in, LPT_F32, (size_t)rows * n, false);
    RUN(op, be->vt->topk_forward(be, values, indices, in, rows, n, k, err));
}

/* ---- model assembly -------------------------------------------------------------------- */

LptStatus lpt_op_patchify_forward(LptBackend *be, const LptTensor *out, const LptTensor *images,
                                  int batch, int channels, int height, int width, int patch,
                                  LptError *err)
{
    const char *op = "patchify_forward";
    BACKEND(op);
    SIZES(op, "batch channels height width patch", batch, channels, height, width, patch);
    if (height % patch != 0 || width % patch != 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: image size %d x %d is not a multiple of the patch size %d",
                             op, height, width, patch);
    size_t n = (size_t)batch * channels * height * width;
    ARG(op, out, LPT_F32, n, false);
    ARG(op, images, LPT_F32, n, false);
    RUN(op, be->vt->patchify_forward(be, out, images, batch, channels, height, width, patch,
                                    err));
}

LptStatus lpt_op_embed_forward(LptBackend *be, const LptTensor *x, const LptTensor *cls,
                               const LptTensor *pos, int batch, int tokens, int c,
                               LptError *err)
{
    const char *op = "embed_forward";
    BACKEND(op);
    SIZES(op, "batch tokens c", batch, tokens, c);
    ARG(op, x, LPT_F32, (size_t)batch * tokens * c, false);
    ARG(op, cls, LPT_F32, c, true);
    ARG(op, pos, LPT_F32, (size_t)tokens * c, false);
    RUN(op, be->vt->embed_forward(be, x, cls, pos, batch, tokens, c, err));
}

LptStatus lpt_op_scaled_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                                    const LptTensor *b, const LptTensor *s, size_t n,
                                    LptError *err)
{
    const char *op = "scaled_add_forward";
    BACKEND(op);
    SIZES(op, "n", (long long)n);
    ARG(op, out, LPT_F32, n, false);
    ARG(op, a, LPT_F32, n, false);
    ARG(op, b, LPT_F32, n, false);
    ARG(op, s, LPT_F32, 1, false);
    RUN(op, be->vt->scaled_add_forward(be, out, a, b, s, n, err));
}

LptStatus lpt_op_scaled_add_backward(LptBackend *be, const LptTensor *db, const LptTensor *ds,
                                     const LptTensor *dout, const LptTensor *b,
                                     const LptTensor *s, size_t n, LptError *err)
{
    const char *op = "scaled_add_backward";
    BACKEND(op);
    SIZES(op, "n", (long long)n);
    ARG(op, db, LPT_F32, n, false);
    ARG(op, ds, LPT_F32, 1, true);
    ARG(op, dout, LPT_F32, n, false);
    ARG(op, b, LPT_F32, n, false);
    ARG(op, s, LPT_F32, 1, false);
    if (db->arena == dout->arena || db->arena == b->arena) {
        size_t lo = db->offset, hi = db->offset + n * sizeof(float);
        const LptTensor *ins[] = {dout, b};
        for (int i = 0; i < 2; i++)
            if (ins[i]->arena == db->arena && ins[i]->offset < hi &&
                lo < ins[i]->offset + n * sizeof(float))
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "%s: db overlaps %s", op, i == 0 ? "dout" : "b");
    }
    RUN(op, be->vt->scaled_add_backward(be, db, ds, dout, b, s, n, err));
}

LptStatus lpt_op_onehot_forward(LptBackend *be, const LptTensor *out, const LptTensor *indices,
                                int rows, int n, int k, float value, LptError *err)
{
    const char *op = "onehot_forward";
    BACKEND(op);
    SIZES(op, "rows n k", rows, n, k);
    ARG(op, out, LPT_F32, (size_t)rows * n, false);
    ARG(op, indices, LPT_I32, (size_t)rows * k, false);
    RUN(op, be->vt->onehot_forward(be, out, indices, rows, n, k, value, err));
}

/* ---- image preprocessing --------------------------------------------------------------- */

LptStatus lpt_op_image_transform_forward(LptBackend *be, const LptTensor *out,
                                         const LptTensor *src, const LptTensor *boxes,
                                         const LptImageShape *s, LptError *err)
{
    const char *op = "image_transform_forward";
    BACKEND(op);
    if (!s)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no shape", op);
    SIZES(op, "batch src_h src_w src_channels out_h out_w", s->batch, s->src_h, s->src_w,
          s->src_channels, s->out_h, s->out_w);
    if (s->src_channels != 1 && s->src_channels != 3)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: source images must have 1 or 3 channels, not %d", op,
                             s->src_channels);
    if (s->interp != LPT_INTERP_BILINEAR && s->interp != LPT_INTERP_BICUBIC)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: unknown interpolation %d",
                             op, (int)s->interp);
    for (int ch = 0; ch < 3; ch++)
        if (!(s->std[ch] > 0.0f))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: std[%d] must be > 0", op, ch);
    ARG(op, out, LPT_F32, (size_t)s->batch * 3 * s->out_h * s->out_w, false);
    ARG(op, src, LPT_U8, (size_t)s->batch * s->src_h * s->src_w * s->src_channels, false);
    ARG(op, boxes, LPT_F32, (size_t)s->batch * 5, false);
    RUN(op, be->vt->image_transform_forward(be, out, src, boxes, s, err));
}

/* test_ops_activation.c: GELU, QuickGELU, ReLU (forward, backward) and the residual add,
 * against double references and central finite differences, on odd sizes, plus bad
 * arguments. */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum { GELU, QUICK_GELU, RELU } Act;
static const char *act_names[] = {"gelu", "quick_gelu", "relu"};

static double ref_act(Act a, double x)
{
    switch (a) {
    case GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case QUICK_GELU: return x / (1.0 + exp(-1.702 * x));
    case RELU: return x > 0 ? x : 0;
    }
    return NAN;
}

typedef struct FdCtx {
    Act act;
    size_t i;
} FdCtx;

static double act_at(const double *x, void *ctx)
{
    FdCtx *c = ctx;
    return ref_act(c->act, x[c->i]);
}

static LptStatus run_forward(OpCheck *oc, Act a, LptTensor *out, LptTensor *in, size_t n,
                             LptError *err)
{
    switch (a) {
    case GELU: return lpt_op_gelu_forward(oc->be, out, in, n, err);
    case QUICK_GELU: return lpt_op_quick_gelu_forward(oc->be, out, in, n, err);
    case RELU: return lpt_op_relu_forward(oc->be, out, in, n, err);
    }
    return LPT_ERR_INVALID_ARGUMENT;
}

static LptStatus run_backward(OpCheck *oc, Act a, LptTensor *din, LptTensor *dout, LptTensor *in,
                              size_t n, LptError *err)
{
    switch (a) {
    case GELU: return lpt_op_gelu_backward(oc->be, din, dout, in, n, err);
    case QUICK_GELU: return lpt_op_quick_gelu_backward(oc->be, din, dout, in, n, err);
    case RELU: return lpt_op_relu_backward(oc->be, din, dout, in, n, err);
    }
    return LPT_ERR_INVALID_ARGUMENT;
}

static void check_activation(OpCheck *oc, Act a, size_t n)
{
    char what[96];
    float *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy);
    double *ref = malloc(n * sizeof *ref), *dref = malloc(n * sizeof *dref);
    oc_fill_uniform(oc, x, n, -4.0f, 4.0f);
    oc_fill_uniform(oc, dy, n, -1.0f, 1.0f);
    if (a == RELU) /* keep finite differences away from the kink */
        for (size_t i = 0; i < n; i++)
            if (fabsf(x[i]) < 1e-3f)
                x[i] = 0.5f;
    LptTensor in = oc_tensor(oc, "in", LPT_F32, n, x);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, n, NULL);
    LptTensor dout = oc_tensor(oc, "dout", LPT_F32, n, dy);
    LptTensor din = oc_tensor(oc, "din", LPT_F32, n, NULL);
    LptError err = {0};

    snprintf(what, sizeof what, "%s_forward n=%zu", act_names[a], n);
    LptStatus st = run_forward(oc, a, &out, &in, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (size_t i = 0; i < n; i++)
            ref[i] = ref_act(a, x[i]);
        oc_check_tensor(oc, what, &out, ref, 2e-6, 2e-6);
    }

    snprintf(what, sizeof what, "%s_backward n=%zu", act_names[a], n);
    st = run_backward(oc, a, &din, &dout, &in, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        double *xd = oc_to_double(x, n);
        for (size_t i = 0; i < n; i++) {
            FdCtx ctx = {a, i};
            dref[i] = dy[i] * oc_fd(act_at, &ctx, xd, i, 1e-5);
        }
        free(xd);
        oc_check_tensor(oc, what, &din, dref, 1e-5, 1e-5);
    }
    free(x), free(dy), free(ref), free(dref);
    oc_reset(oc);
}

static void check_add(OpCheck *oc, size_t n)
{
    char what[64];
    snprintf(what, sizeof what, "add_forward n=%zu", n);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    double *ref = malloc(n * sizeof *ref);
    oc_fill_uniform(oc, a, n, -2.0f, 2.0f);
    oc_fill_uniform(oc, b, n, -2.0f, 2.0f);
    LptTensor ta = oc_tensor(oc, "a", LPT_F32, n, a);
    LptTensor tb = oc_tensor(oc, "b", LPT_F32, n, b);
    LptError err = {0};
    /* in place, as the residual stream uses it: a += 0.5 b */
    LptStatus st = lpt_op_add_forward(oc->be, &ta, &ta, &tb, 0.5f, n, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        for (size_t i = 0; i < n; i++)
            ref[i] = (double)a[i] + 0.5 * (double)b[i];
        oc_check_tensor(oc, what, &ta, ref, 1e-6, 1e-6);
    }
    free(a), free(b), free(ref);
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor big = oc_tensor(oc, "big", LPT_F32, 33, NULL);
    LptTensor labels = oc_tensor(oc, "labels", LPT_I32, 33, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_gelu_forward(oc->be, &small, &big, 33, &err);
    oc_expect_error(oc, "gelu_forward: output too small", st, &err, "'small'");
    st = lpt_op_gelu_forward(oc->be, &big, &labels, 33, &err);
    oc_expect_error(oc, "gelu_forward: wrong dtype", st, &err, "i32");
    st = lpt_op_relu_backward(oc->be, &big, NULL, &big, 33, &err);
    oc_expect_error(oc, "relu_backward: null input", st, &err, "'dout' is NULL");
    st = lpt_op_add_forward(oc->be, &big, &big, &big, 1.0f, 0, &err);
    oc_expect_error(oc, "add_forward: zero size", st, &err, "n = 0");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    const size_t sizes[] = {1, 7, 33, 257, 65537, 8 * 207 * 3072};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int a = GELU; a <= RELU; a++)
            check_activation(&oc, (Act)a, sizes[s]);
        check_add(&oc, sizes[s]);
    }
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_activation");
}

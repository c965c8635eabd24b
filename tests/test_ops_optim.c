/* test_ops_optim.c: SGD-momentum and AdamW updates, several steps in a row against double
 * references of method.md section 6 and of PyTorch's AdamW, on odd sizes up to 1e6 values,
 * plus bad arguments. The references start from the same float values and keep their state
 * in double, so the tolerances cover the float rounding of a few steps. */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* SGD: v = mu v + g + wd theta; theta -= lr v, `steps` times with fresh gradients. */
static void check_sgd(OpCheck *oc, size_t n, int steps, float lr, float momentum, float wd)
{
    char what[96];
    snprintf(what, sizeof what, "sgd_update n=%zu steps=%d mu=%g wd=%g", n, steps,
             (double)momentum, (double)wd);
    float *theta = malloc(n * sizeof *theta), *vel = malloc(n * sizeof *vel);
    float *g = malloc(n * sizeof *g);
    oc_fill_uniform(oc, theta, n, -1.0f, 1.0f);
    oc_fill_uniform(oc, vel, n, -0.1f, 0.1f);
    double *rt = oc_to_double(theta, n), *rv = oc_to_double(vel, n);
    LptTensor param = oc_tensor(oc, "param", LPT_F32, n, theta);
    LptTensor velocity = oc_tensor(oc, "velocity", LPT_F32, n, vel);
    LptError err = {0};
    bool ok = true;
    for (int s = 0; s < steps && ok; s++) {
        oc_fill_uniform(oc, g, n, -1.0f, 1.0f);
        LptTensor grad = oc_tensor(oc, "grad", LPT_F32, n, g);
        LptStatus st = lpt_op_sgd_update(oc->be, &param, &velocity, &grad, n, lr, momentum, wd,
                                         &err);
        ok = oc_expect(oc, st == LPT_OK, what, "step %d: %s", s, err.message);
        for (size_t i = 0; i < n; i++) {
            rv[i] = (double)momentum * rv[i] + (double)g[i] + (double)wd * rt[i];
            rt[i] -= (double)lr * rv[i];
        }
    }
    if (ok) {
        oc_check_tensor(oc, what, &param, rt, 1e-6, 2e-6);
        oc_check_tensor(oc, what, &velocity, rv, 1e-6, 1e-5);
    }
    free(theta), free(vel), free(g), free(rt), free(rv);
    oc_reset(oc);
}

/* AdamW (PyTorch): theta -= lr wd theta; m, v moving averages; theta -= lr m^/(sqrt(v^)+eps),
 * steps first_step .. first_step + steps - 1, from random state (zero state at step 1). */
static void check_adamw(OpCheck *oc, size_t n, int first_step, int steps, float lr, float wd)
{
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    char what[96];
    snprintf(what, sizeof what, "adamw_update n=%zu steps=%d..%d wd=%g", n, first_step,
             first_step + steps - 1, (double)wd);
    float *theta = malloc(n * sizeof *theta), *m = calloc(n, sizeof *m);
    float *v = calloc(n, sizeof *v), *g = malloc(n * sizeof *g);
    oc_fill_uniform(oc, theta, n, -1.0f, 1.0f);
    if (first_step > 1) {
        oc_fill_uniform(oc, m, n, -0.1f, 0.1f);
        oc_fill_uniform(oc, v, n, 0.0f, 0.01f);
    }
    double *rt = oc_to_double(theta, n), *rm = oc_to_double(m, n), *rv = oc_to_double(v, n);
    LptTensor param = oc_tensor(oc, "param", LPT_F32, n, theta);
    LptTensor tm = oc_tensor(oc, "m", LPT_F32, n, m);
    LptTensor tv = oc_tensor(oc, "v", LPT_F32, n, v);
    LptError err = {0};
    bool ok = true;
    double b1 = beta1, b2 = beta2;
    for (int s = 0; s < steps && ok; s++) {
        int t = first_step + s;
        oc_fill_uniform(oc, g, n, -1.0f, 1.0f);
        LptTensor grad = oc_tensor(oc, "grad", LPT_F32, n, g);
        LptStatus st = lpt_op_adamw_update(oc->be, &param, &tm, &tv, &grad, n, lr, beta1, beta2,
                                           eps, wd, t, &err);
        ok = oc_expect(oc, st == LPT_OK, what, "step %d: %s", t, err.message);
        double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
        for (size_t i = 0; i < n; i++) {
            double gi = g[i];
            rt[i] -= (double)lr * (double)wd * rt[i];
            rm[i] = b1 * rm[i] + (1.0 - b1) * gi;
            rv[i] = b2 * rv[i] + (1.0 - b2) * gi * gi;
            rt[i] -= (double)lr * (rm[i] / bc1) / (sqrt(rv[i] / bc2) + (double)eps);
        }
    }
    if (ok) {
        oc_check_tensor(oc, what, &param, rt, 1e-6, 2e-6);
        oc_check_tensor(oc, what, &tm, rm, 1e-7, 1e-5);
        oc_check_tensor(oc, what, &tv, rv, 1e-9, 1e-5);
    }
    free(theta), free(m), free(v), free(g), free(rt), free(rm), free(rv);
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    LptTensor small = oc_tensor(oc, "small", LPT_F32, 7, NULL);
    LptTensor big = oc_tensor(oc, "big", LPT_F32, 33, NULL);
    LptTensor ints = oc_tensor(oc, "ints", LPT_I32, 33, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_sgd_update(oc->be, &big, &small, &big, 33, 0.1f, 0.9f, 0.0f, &err);
    oc_expect_error(oc, "sgd_update: velocity too small", st, &err, "'small'");
    st = lpt_op_sgd_update(oc->be, &big, NULL, &big, 33, 0.1f, 0.9f, 0.0f, &err);
    oc_expect_error(oc, "sgd_update: null velocity", st, &err, "'velocity' is NULL");
    st = lpt_op_sgd_update(oc->be, &big, &big, &ints, 33, 0.1f, 0.9f, 0.0f, &err);
    oc_expect_error(oc, "sgd_update: integer gradient", st, &err, "i32");
    st = lpt_op_sgd_update(oc->be, &big, &big, &big, 0, 0.1f, 0.9f, 0.0f, &err);
    oc_expect_error(oc, "sgd_update: zero size", st, &err, "n = 0");
    st = lpt_op_adamw_update(oc->be, &big, &big, &big, &big, 33, 1e-3f, 0.9f, 0.999f, 1e-8f,
                             0.0f, 0, &err);
    oc_expect_error(oc, "adamw_update: step 0", st, &err, "step = 0");
    st = lpt_op_adamw_update(oc->be, &big, &big, &small, &big, 33, 1e-3f, 0.9f, 0.999f, 1e-8f,
                             0.0f, 1, &err);
    oc_expect_error(oc, "adamw_update: v too small", st, &err, "'small'");
    st = lpt_op_adamw_update(oc->be, &big, NULL, &big, &big, 33, 1e-3f, 0.9f, 0.999f, 1e-8f,
                             0.0f, 1, &err);
    oc_expect_error(oc, "adamw_update: null m", st, &err, "'m' is NULL");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    const size_t sizes[] = {1, 7, 33, 257, 65537, 1000003};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int steps = sizes[s] > 100000 ? 3 : 5;
        check_sgd(&oc, sizes[s], steps, 0.02f, 0.9f, 0.01f);
        check_adamw(&oc, sizes[s], 1, steps, 1e-3f, 0.05f);
    }
    check_sgd(&oc, 257, 3, 0.5f, 0.0f, 0.0f); /* plain SGD */
    check_adamw(&oc, 257, 1000, 3, 1e-2f, 0.0f); /* late steps from a warm state, no decay */
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_optim");
}

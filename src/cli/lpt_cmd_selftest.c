/* lpt_cmd_selftest.c: `lpt selftest [--json]`: runs every op on every compute device with the
 * same seeded inputs and compares each device's outputs with the CPU backend's.
 *
 * The CPU backend itself is checked against double-precision references and finite
 * differences by the test suite (tests/test_ops_*.c); this command answers the user's
 * question "does this machine's GPU compute what the CPU does?" in seconds. Each case is a
 * table row: its inputs (how to generate them), its outputs (zeroed first, since gradients
 * accumulate) and a function that runs the op on a backend.
 */
#include "lpt_cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_ops.h"
#include "lpt_tensor.h"

#define MAX_TENSORS 10
#define MAX_DEVICES 16

typedef enum Gen {
    GEN_UNIFORM, /* f32 in [lo, hi) */
    GEN_INDEX,   /* i32 in [0, hi) */
    GEN_BYTES,   /* u8 */
    GEN_BOXES,   /* f32 [B, 5] crop boxes inside a 19 x 23 image, flip every other */
} Gen;

typedef struct TensorSpec {
    const char *name;
    LptDType dtype;
    size_t count;
    Gen gen;
    float lo, hi;
} TensorSpec;

/* t[0 .. n_inputs-1] are the inputs, then the outputs, in the order of the specs. */
typedef LptStatus (*CaseFn)(LptBackend *be, LptTensor *t, LptError *err);

typedef struct SelfTestCase {
    const char *op;
    TensorSpec inputs[MAX_TENSORS];
    TensorSpec outputs[MAX_TENSORS];
    CaseFn run;
    double tolerance; /* on |a - b| / (1 + |b|) */
} SelfTestCase;

/* ---- the cases (small odd shapes; every op of lpt_ops.h) -------------------------------- */

enum { M = 33, N = 17, K = 29, ROWS = 7, C = 45, B = 3, CLS = 11 };

static LptStatus run_gemm(LptBackend *be, LptTensor *t, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, M, N, K, true, false); /* A stored [K, M] */
    return lpt_op_gemm_forward(be, &t[3], &t[0], &t[1], &t[2], &s, err);
}

static LptStatus run_gemm_backward(LptBackend *be, LptTensor *t, LptError *err)
{
    LptGemmShape s;
    lpt_gemm_shape_init(&s, M, N, K, false, true); /* B stored [N, K] */
    return lpt_op_gemm_backward(be, &t[3], &t[4], &t[5], &t[0], &t[1], &t[2], &s, err);
}

static LptStatus run_bias_backward(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_bias_backward(be, &t[1], &t[0], M, N, err);
}

static LptStatus run_layernorm(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_layernorm_forward(be, &t[3], &t[4], &t[5], &t[0], &t[1], &t[2], ROWS, C,
                                    1e-5f, err);
}

static LptStatus run_layernorm_backward(LptBackend *be, LptTensor *t, LptError *err)
{
    /* forward first (into outputs 3..5), then backward from dout = t[2] */
    LptStatus st = lpt_op_layernorm_forward(be, &t[6], &t[7], &t[8], &t[0], &t[1], &t[2], ROWS,
                                            C, 1e-5f, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_layernorm_backward(be, &t[3], &t[4], &t[5], &t[2], &t[0], &t[7], &t[8], &t[1],
                                     ROWS, C, err);
}

static LptStatus run_l2norm(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_l2norm_forward(be, &t[2], &t[3], &t[0], ROWS, C, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_l2norm_backward(be, &t[4], &t[1], &t[2], &t[3], ROWS, C, err);
}

#define UNARY_CASE(stem)                                                                       \
    static LptStatus run_##stem(LptBackend *be, LptTensor *t, LptError *err)                   \
    {                                                                                          \
        LptStatus st = lpt_op_##stem##_forward(be, &t[2], &t[0], ROWS * C, err);               \
        if (st != LPT_OK)                                                                      \
            return st;                                                                         \
        return lpt_op_##stem##_backward(be, &t[3], &t[1], &t[0], ROWS * C, err);               \
    }
UNARY_CASE(gelu)
UNARY_CASE(quick_gelu)
UNARY_CASE(relu)

static LptStatus run_add(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_add_forward(be, &t[2], &t[0], &t[1], 0.5f, ROWS * C, err);
}

static LptStatus run_softmax(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_softmax_forward(be, &t[2], &t[0], ROWS, C, 0.7f, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_softmax_backward(be, &t[3], &t[1], &t[2], ROWS, C, 0.7f, err);
}

enum { AB = 2, AH = 3, AD = 8, AT = 5, AS = 9 };

static LptStatus run_attention(LptBackend *be, LptTensor *t, LptError *err)
{
    LptAttentionShape s;
    lpt_attention_shape_init(&s, AB, AH, AD, AT, AS);
    LptStatus st = lpt_op_attention_forward(be, &t[4], &t[5], &t[0], &t[1], &t[2], &s, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_attention_backward(be, &t[6], &t[7], &t[8], &t[3], &t[0], &t[1], &t[2], &t[4],
                                     &t[5], &s, err);
}

static LptStatus run_cosine(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_cosine_forward(be, &t[3], &t[0], &t[1], B, CLS, C, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_cosine_backward(be, &t[4], &t[5], &t[2], &t[0], &t[1], B, CLS, C, err);
}

static LptStatus run_agcl(LptBackend *be, LptTensor *t, LptError *err)
{
    LptAgclParams p;
    lpt_agcl_params_init(&p, B, CLS, 0.5f, 8.0f);
    p.seed = 42;
    p.step = 7;
    LptStatus st = lpt_op_agcl_forward(be, &t[3], &t[0], &t[1], &t[2], &p, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_agcl_backward(be, &t[4], &t[0], &t[1], &t[2], &p, 1.0f / B, err);
}

static LptStatus run_sgd(LptBackend *be, LptTensor *t, LptError *err)
{
    /* param, velocity are inputs updated in place: copy them into the outputs first */
    LptStatus st = lpt_op_add_forward(be, &t[3], &t[0], &t[0], 0.0f, ROWS * C, err);
    if (st == LPT_OK)
        st = lpt_op_add_forward(be, &t[4], &t[1], &t[1], 0.0f, ROWS * C, err);
    if (st == LPT_OK)
        st = lpt_op_sgd_update(be, &t[3], &t[4], &t[2], ROWS * C, 0.02f, 0.9f, 0.01f, err);
    return st;
}

static LptStatus run_adamw(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_add_forward(be, &t[3], &t[0], &t[0], 0.0f, ROWS * C, err);
    for (int step = 1; st == LPT_OK && step <= 3; step++)
        st = lpt_op_adamw_update(be, &t[3], &t[4], &t[5], &t[2], ROWS * C, 1e-3f, 0.9f, 0.999f,
                                 1e-8f, 1e-4f, step, err);
    return st;
}

enum { POOL = 20, TOPK = 2 };

static LptStatus run_gather_mean(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_gather_mean_forward(be, &t[3], &t[0], &t[1], B, TOPK, POOL, C, err);
    if (st != LPT_OK)
        return st;
    return lpt_op_gather_mean_backward(be, &t[4], &t[2], &t[1], B, TOPK, POOL, C, err);
}

static LptStatus run_topk(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_topk_forward(be, &t[1], &t[2], &t[0], ROWS, C, 5, err);
}

enum { IMG_H = 19, IMG_W = 23, OUT = 16 };

static LptStatus run_image(LptBackend *be, LptTensor *t, LptError *err)
{
    LptImageShape s = {B, IMG_H, IMG_W, 3, OUT, OUT, LPT_INTERP_BICUBIC,
                       {0.48145466f, 0.4578275f, 0.40821073f},
                       {0.26862954f, 0.26130258f, 0.27577711f}};
    LptStatus st = lpt_op_image_transform_forward(be, &t[2], &t[0], &t[1], &s, err);
    if (st != LPT_OK)
        return st;
    s.interp = LPT_INTERP_BILINEAR;
    return lpt_op_image_transform_forward(be, &t[3], &t[0], &t[1], &s, err);
}

enum { PB = 2, PC = 3, PH = 16, PW = 24, PATCH = 8, PN = (PH / PATCH) * (PW / PATCH) };

static LptStatus run_patchify(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_patchify_forward(be, &t[1], &t[0], PB, PC, PH, PW, PATCH, err);
}

static LptStatus run_embed(LptBackend *be, LptTensor *t, LptError *err)
{
    /* copy the tokens into the output first: embed_forward works in place */
    LptStatus st = lpt_op_add_forward(be, &t[3], &t[0], &t[0], 0.0f, B * (N + 1) * C, err);
    if (st == LPT_OK)
        st = lpt_op_embed_forward(be, &t[3], &t[1], &t[2], B, N + 1, C, err);
    return st;
}

static LptStatus run_scaled_add(LptBackend *be, LptTensor *t, LptError *err)
{
    LptStatus st = lpt_op_scaled_add_forward(be, &t[4], &t[0], &t[1], &t[2], ROWS * C, err);
    if (st == LPT_OK)
        st = lpt_op_scaled_add_backward(be, &t[5], &t[6], &t[3], &t[1], &t[2], ROWS * C, err);
    return st;
}

static LptStatus run_onehot(LptBackend *be, LptTensor *t, LptError *err)
{
    return lpt_op_onehot_forward(be, &t[1], &t[0], B, POOL, TOPK, -0.5f, err);
}

static LptStatus run_dropout(LptBackend *be, LptTensor *t, LptError *err)
{
    LptDropoutParams p = {ROWS, C, 0.1f, 0x1234567890abcdefull, 3};
    LptStatus st = lpt_op_dropout_forward(be, &t[2], &t[0], &p, err);
    return st == LPT_OK ? lpt_op_dropout_backward(be, &t[3], &t[1], &p, err) : st;
}

#define F(name, count) {name, LPT_F32, (size_t)(count), GEN_UNIFORM, -1.0f, 1.0f}
#define OUTF(name, count) {name, LPT_F32, (size_t)(count), GEN_UNIFORM, 0, 0}
#define OUTI(name, count) {name, LPT_I32, (size_t)(count), GEN_INDEX, 0, 0}

static const SelfTestCase cases[] = {
    {"gemm_forward", {F("a", K * M), F("b", K * N), F("bias", N)}, {OUTF("c", M * N)}, run_gemm,
     1e-5},
    {"gemm_backward", {F("dc", M * N), F("a", M * K), F("b", N * K)},
     {OUTF("da", M * K), OUTF("db", N * K), OUTF("dbias", N)}, run_gemm_backward, 1e-5},
    {"bias_backward", {F("dout", M * N)}, {OUTF("dbias", N)}, run_bias_backward, 1e-5},
    {"layernorm_forward", {F("in", ROWS * C), F("weight", C), F("bias", C)},
     {OUTF("out", ROWS * C), OUTF("mean", ROWS), OUTF("rstd", ROWS)}, run_layernorm, 1e-5},
    {"layernorm_backward", {F("in", ROWS * C), F("weight", C), F("dout", ROWS * C)},
     {OUTF("din", ROWS * C), OUTF("dweight", C), OUTF("dbias", C), OUTF("out", ROWS * C),
      OUTF("mean", ROWS), OUTF("rstd", ROWS)},
     run_layernorm_backward, 1e-4},
    {"l2norm", {F("in", ROWS * C), F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("norm", ROWS), OUTF("din", ROWS * C)}, run_l2norm, 1e-5},
    {"gelu", {{"in", LPT_F32, ROWS * C, GEN_UNIFORM, -4, 4}, F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("din", ROWS * C)}, run_gelu, 1e-5},
    {"quick_gelu", {{"in", LPT_F32, ROWS * C, GEN_UNIFORM, -4, 4}, F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("din", ROWS * C)}, run_quick_gelu, 1e-5},
    {"relu", {F("in", ROWS * C), F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("din", ROWS * C)}, run_relu, 0},
    {"add_forward", {F("a", ROWS * C), F("b", ROWS * C)}, {OUTF("out", ROWS * C)}, run_add, 1e-6},
    {"softmax", {{"in", LPT_F32, ROWS * C, GEN_UNIFORM, -8, 8}, F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("din", ROWS * C)}, run_softmax, 1e-5},
    {"attention",
     {F("q", AB * AT * AH * AD), F("k", AB * AS * AH * AD), F("v", AB * AS * AH * AD),
      F("dout", AB * AT * AH * AD)},
     {OUTF("out", AB * AT * AH * AD), OUTF("lse", AB * AH * AT), OUTF("dq", AB * AT * AH * AD),
      OUTF("dk", AB * AS * AH * AD), OUTF("dv", AB * AS * AH * AD)},
     run_attention, 1e-4},
    {"cosine", {F("f", B * C), F("w", CLS * C), F("dlogits", B * CLS)},
     {OUTF("logits", B * CLS), OUTF("df", B * C), OUTF("dw", CLS * C)}, run_cosine, 1e-5},
    {"agcl",
     {F("cos", B * CLS), {"labels", LPT_I32, B, GEN_INDEX, 0, CLS},
      {"margins", LPT_F32, CLS, GEN_UNIFORM, 0, 1}},
     {OUTF("loss", B), OUTF("dcos", B * CLS)}, run_agcl, 1e-4},
    {"sgd_update", {F("param", ROWS * C), F("velocity", ROWS * C), F("grad", ROWS * C)},
     {OUTF("param'", ROWS * C), OUTF("velocity'", ROWS * C)}, run_sgd, 1e-6},
    {"adamw_update", {F("param", ROWS * C), F("unused", 1), F("grad", ROWS * C)},
     {OUTF("param'", ROWS * C), OUTF("m", ROWS * C), OUTF("v", ROWS * C)}, run_adamw, 1e-5},
    {"gather_mean",
     {F("pool", POOL * C), {"indices", LPT_I32, B * TOPK, GEN_INDEX, 0, POOL}, F("dout", B * C)},
     {OUTF("out", B * C), OUTF("dpool", POOL * C)}, run_gather_mean, 1e-6},
    {"topk_forward", {F("in", ROWS * C)}, {OUTF("values", ROWS * 5), OUTI("indices", ROWS * 5)},
     run_topk, 0},
    {"patchify_forward", {F("images", PB * PC * PH * PW)},
     {OUTF("patches", PB * PN * PC * PATCH * PATCH)}, run_patchify, 0},
    {"embed_forward", {F("tokens", B * (N + 1) * C), F("cls", C), F("pos", (N + 1) * C)},
     {OUTF("x", B * (N + 1) * C)}, run_embed, 1e-6},
    {"scaled_add", {F("a", ROWS * C), F("b", ROWS * C), F("s", 1), F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("db", ROWS * C), OUTF("ds", 1)}, run_scaled_add, 1e-5},
    {"onehot_forward", {{"indices", LPT_I32, B * TOPK, GEN_INDEX, 0, POOL}},
     {OUTF("out", B * POOL)}, run_onehot, 0},
    {"dropout", {F("in", ROWS * C), F("dout", ROWS * C)},
     {OUTF("out", ROWS * C), OUTF("din", ROWS * C)}, run_dropout, 0},
    {"image_transform_forward",
     {{"src", LPT_U8, B * IMG_H * IMG_W * 3, GEN_BYTES, 0, 0},
      {"boxes", LPT_F32, B * 5, GEN_BOXES, 0, 0}},
     {OUTF("bicubic", B * 3 * OUT * OUT), OUTF("bilinear", B * 3 * OUT * OUT)}, run_image, 1e-4},
};

/* ---- running a case on one backend ------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static int count_specs(const TensorSpec *specs)
{
    int n = 0;
    while (n < MAX_TENSORS && specs[n].name)
        n++;
    return n;
}

/* Fills host with the case's generated input. */
static void generate(const TensorSpec *spec, void *host, uint64_t *rng)
{
    for (size_t i = 0; i < spec->count; i++) {
        double u = (double)(rng_next(rng) >> 11) / (double)(1ull << 53);
        switch (spec->gen) {
        case GEN_UNIFORM: ((float *)host)[i] = spec->lo + (spec->hi - spec->lo) * (float)u; break;
        case GEN_INDEX: ((int32_t *)host)[i] = (int32_t)(u * spec->hi); break;
        case GEN_BYTES: ((uint8_t *)host)[i] = (uint8_t)(u * 256.0); break;
        case GEN_BOXES: {
            size_t field = i % 5, image = i / 5;
            const float box[5] = {1.5f + (float)image, 2.0f, 15.25f, 12.5f, (float)(image % 2)};
            ((float *)host)[i] = box[field];
            break;
        }
        }
    }
}

/* Runs case c on be; the outputs are returned as malloc'ed host arrays in outs[]. */
static LptStatus run_case(LptBackend *be, const SelfTestCase *c, void **outs, LptError *err)
{
    int n_in = count_specs(c->inputs), n_out = count_specs(c->outputs);
    size_t bytes = 0;
    for (int i = 0; i < n_in; i++)
        bytes += c->inputs[i].count * 4 + LPT_ARENA_ALIGN;
    for (int i = 0; i < n_out; i++)
        bytes += c->outputs[i].count * 4 + LPT_ARENA_ALIGN;
    LptArena *arena = lpt_arena_new(be, c->op, bytes, err);
    if (!arena)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    LptTensor t[2 * MAX_TENSORS];
    LptStatus st = LPT_OK;
    uint64_t rng = 0x5EED5EEDull;
    for (int i = 0; i < n_in && st == LPT_OK; i++) {
        const TensorSpec *s = &c->inputs[i];
        st = lpt_arena_alloc(arena, &t[i], s->name, s->dtype, s->count, err);
        void *host = malloc(s->count * lpt_dtype_size(s->dtype) + 4);
        generate(s, host, &rng);
        if (st == LPT_OK)
            st = lpt_tensor_upload(&t[i], host, err);
        free(host);
    }
    for (int i = 0; i < n_out && st == LPT_OK; i++) {
        const TensorSpec *s = &c->outputs[i];
        st = lpt_arena_alloc(arena, &t[n_in + i], s->name, s->dtype, s->count, err);
        if (st == LPT_OK && lpt_dtype_size(s->dtype) == 4)
            st = lpt_tensor_fill_u32(&t[n_in + i], 0, err);
    }
    if (st == LPT_OK)
        st = c->run(be, t, err);
    for (int i = 0; i < n_out && st == LPT_OK; i++) {
        outs[i] = malloc(c->outputs[i].count * 4);
        st = lpt_tensor_download(&t[n_in + i], outs[i], err);
    }
    lpt_arena_free(arena);
    return st;
}

/* Largest |a - b| / (1 + |b|) over an output, NaN-aware (a NaN anywhere is infinite). */
static double output_error(const TensorSpec *s, const void *a, const void *b)
{
    double worst = 0.0;
    for (size_t i = 0; i < s->count; i++) {
        double x, y;
        if (s->dtype == LPT_I32) {
            x = ((const int32_t *)a)[i];
            y = ((const int32_t *)b)[i];
        } else {
            x = ((const float *)a)[i];
            y = ((const float *)b)[i];
        }
        double e = (isnan(x) || isnan(y)) ? INFINITY : fabs(x - y) / (1.0 + fabs(y));
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* Runs every case on `be` and on `ref`; prints one line per case. Returns failures. */
static int check_device(LptBackend *be, LptBackend *ref, bool json, bool *first_json)
{
    int failures = 0;
    size_t n_cases = sizeof cases / sizeof cases[0];
    for (size_t ci = 0; ci < n_cases; ci++) {
        const SelfTestCase *c = &cases[ci];
        int n_out = count_specs(c->outputs);
        void *got[MAX_TENSORS] = {0}, *want[MAX_TENSORS] = {0};
        LptError err = {0}, ref_err = {0};
        LptStatus st = run_case(be, c, got, &err);
        LptStatus ref_st = be == ref ? st : run_case(ref, c, want, &ref_err);
        double worst = 0.0;
        const char *verdict = "ok";
        if (st != LPT_OK) {
            verdict = "error";
        } else if (ref_st != LPT_OK) {
            verdict = "cpu error";
            err = ref_err;
        } else if (be != ref) {
            for (int i = 0; i < n_out; i++) {
                double e = output_error(&c->outputs[i], got[i], want[i]);
                if (e > worst)
                    worst = e;
            }
            if (!(worst <= c->tolerance))
                verdict = "MISMATCH";
        } else {
            for (int i = 0; i < n_out; i++) /* the CPU alone: outputs must be finite */
                if (output_error(&c->outputs[i], got[i], got[i]) != 0.0)
                    verdict = "NaN";
        }
        bool ok = strcmp(verdict, "ok") == 0;
        failures += !ok;
        if (json) {
            char message[1100];
            printf("%s\n    {\"op\": \"%s\", \"result\": \"%s\", ", *first_json ? "" : ",", c->op,
                   verdict);
            if (isfinite(worst))
                printf("\"max_rel_diff\": %.3g", worst);
            else
                printf("\"max_rel_diff\": null");
            if (!ok)
                printf(", \"message\": \"%s\"",
                       lpt_cli_json_escape(err.message, message, sizeof message));
            printf("}");
            *first_json = false;
        } else if (be == ref) {
            printf("  %-26s %s%s%s\n", c->op, verdict, ok ? "" : ": ", ok ? "" : err.message);
        } else {
            printf("  %-26s %-8s max |diff| / (1 + |cpu|) = %.2g%s%s\n", c->op, verdict, worst,
                   st != LPT_OK || ref_st != LPT_OK ? ": " : "",
                   st != LPT_OK || ref_st != LPT_OK ? err.message : "");
        }
        for (int i = 0; i < n_out; i++) {
            free(got[i]);
            free(want[i]);
        }
    }
    return failures;
}

int lpt_cmd_selftest(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            return lpt_cli_usage_error("selftest", "usage: lpt selftest [--json]");
    }
    LptError err = {0};
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    LptBackend *cpu = lpt_backend_new(&opt, &err);
    if (!cpu) {
        fprintf(stderr, "lpt selftest: cpu backend: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    int failures = 0;
    bool first_json = true;
    char text[700], text2[1100];
    if (json)
        printf("{\"devices\": [\n  {\"device\": \"%s\", \"cases\": [",
               lpt_cli_json_escape(lpt_backend_description(cpu), text, sizeof text));
    else
        printf("%s\n", lpt_backend_description(cpu));
    failures += check_device(cpu, cpu, json, &first_json);

    LptDeviceInfo devices[MAX_DEVICES];
    LptError list_err = {0};
    int n = lpt_device_list(devices, MAX_DEVICES, &list_err);
    if (n < 0 && !json)
        printf("vulkan: %s\n", list_err.message);
    for (int d = 0; d < n && d < MAX_DEVICES; d++) {
        char index[16];
        snprintf(index, sizeof index, "%d", d);
        lpt_backend_options_init(&opt);
        opt.kind = LPT_BACKEND_VULKAN;
        opt.device = index;
        LptBackend *vk = lpt_backend_new(&opt, &err);
        if (!vk) {
            failures++;
            if (json)
                printf("]},\n  {\"device\": \"%s\", \"error\": \"%s\", \"cases\": [",
                       lpt_cli_json_escape(devices[d].name, text, sizeof text),
                       lpt_cli_json_escape(err.message, text2, sizeof text2));
            else
                printf("vulkan device %d (%s): %s\n", d, devices[d].name, err.message);
            continue;
        }
        if (json)
            printf("]},\n  {\"device\": \"%s\", \"cases\": [",
                   lpt_cli_json_escape(lpt_backend_description(vk), text, sizeof text));
        else
            printf("%s (compared with the cpu)\n", lpt_backend_description(vk));
        first_json = true;
        failures += check_device(vk, cpu, json, &first_json);
        lpt_backend_free(vk);
    }
    if (json)
        printf("]}\n], \"failures\": %d}\n", failures);
    else
        printf("selftest: %s (%d failure%s)\n", failures ? "FAILED" : "all ops agree", failures,
               failures == 1 ? "" : "s");
    lpt_backend_free(cpu);
    return failures ? LPT_EXIT_ERROR : LPT_EXIT_OK;
}

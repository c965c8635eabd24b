/* lpt_cmd_bench.c: `lpt bench ops [--backend cpu|vulkan] [--device N] [--json] [--seconds S]`.
 *
 * Times every op of a ViT-B/16 block at training shapes (batch 8 x 207 tokens = 197 image
 * tokens + 10 prompt rows, width 768, 12 heads, MLP 3072) on the chosen backend and, in the
 * same run, bare cblas_sgemm at the GEMM shapes (the anchor every GEMM figure is a ratio
 * of). Before an op is timed its output is checked: on Vulkan against the CPU backend, on the
 * CPU against the same op computed by plain double loops on sampled rows. A wrong op is
 * reported and not timed. Figures: GFLOP/s for GEMM and attention, GB/s (bytes read and
 * written once) for the rest, and each op's share of one forward ViT block.
 * `lpt bench vit` (whole ViT-B/16 steps against PyTorch) is lpt_cmd_bench_vit.c.
 */
#include "lpt_cli.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpt_ops.h"
#include "lpt_tensor.h"

#define BATCH 8
#define TOKENS 207 /* rows of the residual stream per image in this benchmark */
#define QUERIES 197
#define WIDTH 768
#define HEADS 12
#define HEAD_DIM 64
#define MLP 3072
#define ROWS (BATCH * TOKENS)

typedef struct Bench {
    LptBackend *be;  /* the backend under test */
    LptBackend *cpu; /* reference for Vulkan checks (NULL when be is the CPU) */
    LptArena *arena, *cpu_arena;
    double seconds;  /* time budget per op */
    bool json;
    int failures;
    uint64_t rng;
} Bench;

/* One op of the benchmark: inputs are random, outputs are checked, then timed. */
typedef struct OpBench {
    const char *name;
    double flops; /* per call; 0 for memory-bound ops */
    double bytes; /* read + written per call */
    bool in_block; /* part of the forward ViT block whose time shares are reported */
    double seconds; /* measured per call; < 0 when it failed */
} OpBench;

static float frand(Bench *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return (float)((double)((b->rng * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0) * 2.0f - 1.0f;
}

static float *random_host(Bench *b, size_t n)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = frand(b);
    return x;
}

/* The tensors of one ViT block's forward pass, on one backend. */
typedef struct Block {
    LptTensor x, ln, mean, rstd, w_ln, b_ln, qkv, w_qkv, b_qkv, att, lse, proj, w_proj, b_proj,
        h, w_fc1, b_fc1, g, w_fc2, b_fc2, y;
} Block;

static LptStatus block_alloc(LptArena *a, Block *k, const float *const *init, LptError *err)
{
    struct {
        LptTensor *t;
        const char *name;
        size_t n;
    } specs[] = {
        {&k->x, "x", (size_t)ROWS * WIDTH},          {&k->ln, "ln", (size_t)ROWS * WIDTH},
        {&k->mean, "mean", ROWS},                    {&k->rstd, "rstd", ROWS},
        {&k->w_ln, "ln.weight", WIDTH},              {&k->b_ln, "ln.bias", WIDTH},
        {&k->qkv, "qkv", (size_t)ROWS * 3 * WIDTH},  {&k->w_qkv, "qkv.weight", 3 * WIDTH * WIDTH},
        {&k->b_qkv, "qkv.bias", 3 * WIDTH},          {&k->att, "att", (size_t)BATCH * QUERIES * WIDTH},
        {&k->lse, "lse", (size_t)BATCH * HEADS * QUERIES},
        {&k->proj, "proj", (size_t)ROWS * WIDTH},    {&k->w_proj, "proj.weight", WIDTH * WIDTH},
        {&k->b_proj, "proj.bias", WIDTH},            {&k->h, "fc1", (size_t)ROWS * MLP},
        {&k->w_fc1, "fc1.weight", (size_t)MLP * WIDTH}, {&k->b_fc1, "fc1.bias", MLP},
        {&k->g, "gelu", (size_t)ROWS * MLP},         {&k->w_fc2, "fc2.weight", (size_t)WIDTH * MLP},
        {&k->b_fc2, "fc2.bias", WIDTH},              {&k->y, "y", (size_t)ROWS * WIDTH},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        LptStatus st = lpt_arena_alloc(a, specs[i].t, specs[i].name, LPT_F32, specs[i].n, err);
        if (st == LPT_OK)
            st = lpt_tensor_upload(specs[i].t, init[i], err);
        if (st != LPT_OK)
            return st;
    }
    return LPT_OK;
}

enum { OP_LN, OP_QKV, OP_ATT, OP_PROJ, OP_ADD, OP_FC1, OP_GELU, OP_FC2, OP_SOFTMAX, N_OPS };

/* Runs op `which` of the block on `be` (tensors k). Output tensor returned in *out. */
static LptStatus block_op(LptBackend *be, Block *k, int which, const LptTensor **out,
                          LptError *err)
{
    LptGemmShape s;
    LptAttentionShape as;
    switch (which) {
    case OP_LN:
        *out = &k->ln;
        return lpt_op_layernorm_forward(be, &k->ln, &k->mean, &k->rstd, &k->x, &k->w_ln,
                                        &k->b_ln, ROWS, WIDTH, 1e-6f, err);
    case OP_QKV: /* qkv[R, 3C] = ln[R, C] W^T (torch Linear layout W[3C, C]) */
        lpt_gemm_shape_init(&s, ROWS, 3 * WIDTH, WIDTH, false, true);
        *out = &k->qkv;
        return lpt_op_gemm_forward(be, &k->qkv, &k->ln, &k->w_qkv, &k->b_qkv, &s, err);
    case OP_ATT: /* 197 queries over 207 keys per image, read from the packed qkv rows */
        lpt_attention_shape_init(&as, BATCH, HEADS, HEAD_DIM, QUERIES, TOKENS);
        as.ld_q = as.ld_kv = 3 * WIDTH;
        as.bs_q = as.bs_kv = (int64_t)TOKENS * 3 * WIDTH;
        *out = &k->att;
        {
            LptTensor q = lpt_tensor_view(&k->qkv, 0, k->qkv.count);
            LptTensor kk = lpt_tensor_view(&k->qkv, WIDTH, k->qkv.count - WIDTH);
            LptTensor v = lpt_tensor_view(&k->qkv, 2 * WIDTH, k->qkv.count - 2 * WIDTH);
            return lpt_op_attention_forward(be, &k->att, &k->lse, &q, &kk, &v, &as, err);
        }
    case OP_PROJ:
        lpt_gemm_shape_init(&s, ROWS, WIDTH, WIDTH, false, true);
        *out = &k->proj;
        return lpt_op_gemm_forward(be, &k->proj, &k->ln, &k->w_proj, &k->b_proj, &s, err);
    case OP_ADD:
        *out = &k->y;
        return lpt_op_add_forward(be, &k->y, &k->x, &k->proj, 1.0f, (size_t)ROWS * WIDTH, err);
    case OP_FC1:
        lpt_gemm_shape_init(&s, ROWS, MLP, WIDTH, false, true);
        *out = &k->h;
        return lpt_op_gemm_forward(be, &k->h, &k->ln, &k->w_fc1, &k->b_fc1, &s, err);
    case OP_GELU:
        *out = &k->g;
        return lpt_op_gelu_forward(be, &k->g, &k->h, (size_t)ROWS * MLP, err);
    case OP_FC2:
        lpt_gemm_shape_init(&s, ROWS, WIDTH, MLP, false, true);
        *out = &k->y;
        return lpt_op_gemm_forward(be, &k->y, &k->g, &k->w_fc2, &k->b_fc2, &s, err);
    case OP_SOFTMAX: /* the attention-score softmax as a separate op (B*H*T rows of S) */
        *out = &k->g;
        return lpt_op_softmax_forward(be, &k->g, &k->h, BATCH * HEADS * QUERIES, TOKENS,
                                      0.125f, err);
    }
    return LPT_ERR_INVALID_ARGUMENT;
}

static OpBench op_info(int which)
{
    const double f = 4.0; /* bytes per float */
    const double gemm = 2.0 * ROWS * WIDTH;
    switch (which) {
    case OP_LN: return (OpBench){"layernorm_forward", 0, f * 2 * ROWS * WIDTH, true, 0};
    case OP_QKV: return (OpBench){"gemm_forward qkv 1656x2304x768", gemm * 3 * WIDTH, 0, true, 0};
    case OP_ATT:
        return (OpBench){"attention_forward 8x12x197x207x64",
                         4.0 * BATCH * HEADS * QUERIES * TOKENS * HEAD_DIM, 0, true, 0};
    case OP_PROJ: return (OpBench){"gemm_forward proj 1656x768x768", gemm * WIDTH, 0, true, 0};
    case OP_ADD: return (OpBench){"add_forward", 0, f * 3 * ROWS * WIDTH, true, 0};
    case OP_FC1: return (OpBench){"gemm_forward fc1 1656x3072x768", gemm * MLP, 0, true, 0};
    case OP_GELU: return (OpBench){"gelu_forward", 0, f * 2 * ROWS * MLP, true, 0};
    case OP_FC2: return (OpBench){"gemm_forward fc2 1656x768x3072", gemm * MLP, 0, true, 0};
    case OP_SOFTMAX:
        return (OpBench){"softmax_forward 18912x207", 0,
                         f * 2.0 * BATCH * HEADS * QUERIES * TOKENS, false, 0};
    }
    return (OpBench){"?", 0, 0, false, 0};
}

/* Largest |a - b| / (1 + |b|) over n values, NaN-aware. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (!(e <= worst))
            worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

/* Checks a CPU GEMM output against double dot products on 64 sampled entries. */
static double gemm_spot_check(const float *a, const float *w, const float *bias, const float *c,
                              int m, int n, int k)
{
    double worst = 0;
    for (int s = 0; s < 64; s++) {
        int i = (int)((s * 7919L) % m), j = (int)((s * 104729L) % n);
        double acc = bias[j];
        for (int p = 0; p < k; p++)
            acc += (double)a[(size_t)i * k + p] * w[(size_t)j * k + p];
        double e = fabs(c[(size_t)i * n + j] - acc) / (1.0 + fabs(acc));
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* Times `which` on be: calls it repeatedly (synchronising once per batch of calls) until the
 * time budget is spent. Returns seconds per call. */
static double time_op(Bench *b, Block *k, int which, LptError *err)
{
    const LptTensor *out;
    double per_call = 0;
    int reps = 1;
    for (;;) {
        double t0 = lpt_cli_now_seconds();
        for (int r = 0; r < reps; r++)
            if (block_op(b->be, k, which, &out, err) != LPT_OK)
                return -1;
        if (lpt_backend_sync(b->be, err) != LPT_OK)
            return -1;
        double dt = lpt_cli_now_seconds() - t0;
        per_call = dt / reps;
        if (dt >= b->seconds || reps >= 4096)
            break;
        reps = dt <= 0 ? reps * 8 : (int)fmin(4096.0, fmax(reps * 2.0, b->seconds / per_call));
    }
    return per_call;
}

/* Times bare cblas_sgemm at a GEMM shape of the block (the anchor). */
static double time_cblas(Bench *b, const float *a, const float *w, float *c, int m, int n,
                         int kk)
{
    int reps = 1;
    double per_call = 0;
    for (;;) {
        double t0 = lpt_cli_now_seconds();
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, kk, 1.0f, a, kk, w, kk,
                        0.0f, c, n);
        double dt = lpt_cli_now_seconds() - t0;
        per_call = dt / reps;
        if (dt >= b->seconds || reps >= 4096)
            break;
        reps = (int)fmin(4096.0, fmax(reps * 2.0, b->seconds / per_call));
    }
    return per_call;
}

static int bench_ops(Bench *b)
{
    LptError err = {0};
    /* host copies of every block tensor, in block_alloc's order */
    const size_t counts[] = {(size_t)ROWS * WIDTH, (size_t)ROWS * WIDTH, ROWS, ROWS, WIDTH, WIDTH,
                             (size_t)ROWS * 3 * WIDTH, 3 * WIDTH * WIDTH, 3 * WIDTH,
                             (size_t)BATCH * QUERIES * WIDTH, (size_t)BATCH * HEADS * QUERIES,
                             (size_t)ROWS * WIDTH, WIDTH * WIDTH, WIDTH, (size_t)ROWS * MLP,
                             (size_t)MLP * WIDTH, MLP, (size_t)ROWS * MLP, (size_t)WIDTH * MLP,
                             WIDTH, (size_t)ROWS * WIDTH};
    enum { N_TENSORS = sizeof counts / sizeof counts[0] };
    float *host[N_TENSORS];
    size_t total = 0;
    for (int i = 0; i < N_TENSORS; i++) {
        host[i] = random_host(b, counts[i]);
        total += counts[i] * 4 + LPT_ARENA_ALIGN;
    }
    for (size_t i = 0; i < WIDTH; i++) /* LayerNorm weight near 1 */
        host[4][i] = 1.0f + 0.1f * host[4][i];
    for (int i = 7; i < N_TENSORS; i++) /* weights at ViT-like scale */
        if (counts[i] >= (size_t)WIDTH * WIDTH)
            for (size_t j = 0; j < counts[i]; j++)
                host[i][j] *= 0.05f;
    Block blk, ref;
    b->arena = lpt_arena_new(b->be, "bench", total, &err);
    if (!b->arena || block_alloc(b->arena, &blk, (const float *const *)host, &err) != LPT_OK) {
        fprintf(stderr, "lpt bench: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    if (b->cpu) {
        b->cpu_arena = lpt_arena_new(b->cpu, "bench-ref", total, &err);
        if (!b->cpu_arena ||
            block_alloc(b->cpu_arena, &ref, (const float *const *)host, &err) != LPT_OK) {
            fprintf(stderr, "lpt bench: reference: %s\n", err.message);
            return LPT_EXIT_ERROR;
        }
    }

    OpBench ops[N_OPS];
    for (int which = 0; which < N_OPS; which++) {
        ops[which] = op_info(which);
        OpBench *o = &ops[which];
        const LptTensor *out, *ref_out;
        double diff = 0;
        bool ok = block_op(b->be, &blk, which, &out, &err) == LPT_OK;
        float *got = NULL, *want = NULL;
        if (ok) {
            got = malloc(out->count * sizeof *got);
            ok = lpt_tensor_download(out, got, &err) == LPT_OK;
        }
        if (ok && b->cpu) {
            ok = block_op(b->cpu, &ref, which, &ref_out, &err) == LPT_OK;
            want = malloc(ref_out->count * sizeof *want);
            ok = ok && lpt_tensor_download(ref_out, want, &err) == LPT_OK;
            if (ok)
                diff = rel_diff(got, want, out->count);
        } else if (ok && (which == OP_QKV || which == OP_FC1)) {
            /* inputs of these GEMMs: ln (LayerNorm output) and the weights */
            float *ln = malloc((size_t)ROWS * WIDTH * sizeof *ln);
            ok = lpt_tensor_download(&blk.ln, ln, &err) == LPT_OK;
            if (which == OP_QKV)
                diff = gemm_spot_check(ln, host[7], host[8], got, ROWS, 3 * WIDTH, WIDTH);
            else
                diff = gemm_spot_check(ln, host[15], host[16], got, ROWS, MLP, WIDTH);
            free(ln);
        }
        free(got);
        free(want);
        const double tolerance = 1e-3;
        if (!ok || !(diff <= tolerance)) {
            o->seconds = -1;
            b->failures++;
            fprintf(stderr, "lpt bench: %s: %s\n", o->name,
                    ok ? "output differs from the reference; not timed" : err.message);
            continue;
        }
        o->seconds = time_op(b, &blk, which, &err);
        if (o->seconds < 0) {
            b->failures++;
            fprintf(stderr, "lpt bench: %s: %s\n", o->name, err.message);
        }
    }

    /* the anchor: bare cblas_sgemm at the four GEMM shapes, same inputs */
    struct {
        const char *name;
        int m, n, k;
        const float *a, *w;
        int op;
    } anchors[] = {
        {"cblas_sgemm qkv 1656x2304x768", ROWS, 3 * WIDTH, WIDTH, host[1], host[7], OP_QKV},
        {"cblas_sgemm proj 1656x768x768", ROWS, WIDTH, WIDTH, host[1], host[12], OP_PROJ},
        {"cblas_sgemm fc1 1656x3072x768", ROWS, MLP, WIDTH, host[1], host[15], OP_FC1},
        {"cblas_sgemm fc2 1656x768x3072", ROWS, WIDTH, MLP, host[17], host[18], OP_FC2},
    };
    float *c = malloc((size_t)ROWS * MLP * sizeof *c);
    char text[700];
    /* The GEMM ratios: ours and bare cblas_sgemm timed in alternation, ANCHOR_ROUNDS rounds
     * each, the best of each kept, so that a neighbour's load hits both alike. */
    enum { N_ANCHORS = sizeof anchors / sizeof anchors[0], ANCHOR_ROUNDS = 3 };
    double anchor_seconds[N_ANCHORS];
    for (int i = 0; i < N_ANCHORS; i++) {
        OpBench *o = &ops[anchors[i].op];
        anchor_seconds[i] = INFINITY;
        for (int round = 0; round < ANCHOR_ROUNDS; round++) {
            double t = time_cblas(b, anchors[i].a, anchors[i].w, c, anchors[i].m, anchors[i].n,
                                  anchors[i].k);
            anchor_seconds[i] = fmin(anchor_seconds[i], t);
            if (o->seconds > 0 && round > 0) { /* round 0 was timed above */
                double ours = time_op(b, &blk, anchors[i].op, &err);
                if (ours > 0)
                    o->seconds = fmin(o->seconds, ours);
            }
        }
    }
    double block_total = 0;
    for (int i = 0; i < N_OPS; i++)
        if (ops[i].in_block && ops[i].seconds > 0)
            block_total += ops[i].seconds;

    if (b->json)
        printf("{\"backend\": \"%s\", \"ops\": [",
               lpt_cli_json_escape(lpt_backend_description(b->be), text, sizeof text));
    else
        printf("%s\n%-36s %10s %12s %10s\n", lpt_backend_description(b->be), "op", "ms/call",
               "rate", "block %");
    for (int i = 0; i < N_OPS; i++) {
        OpBench *o = &ops[i];
        double rate = o->seconds > 0 ? (o->flops ? o->flops : o->bytes) / o->seconds * 1e-9 : 0;
        const char *unit = o->flops ? "GFLOP/s" : "GB/s";
        double share = o->in_block && o->seconds > 0 && block_total > 0
                           ? 100.0 * o->seconds / block_total : 0;
        if (b->json)
            printf("%s\n  {\"op\": \"%s\", \"ms\": %.4f, \"%s\": %.3f, \"block_share\": %.4f, "
                   "\"ok\": %s}",
                   i ? "," : "", o->name, o->seconds * 1e3, o->flops ? "gflops" : "gbps", rate,
                   share / 100.0, o->seconds > 0 ? "true" : "false");
        else if (o->seconds > 0)
            printf("%-36s %10.3f %8.2f %-7s %6.1f%%\n", o->name, o->seconds * 1e3, rate, unit,
                   share);
        else
            printf("%-36s %10s\n", o->name, "FAILED");
    }
    for (int i = 0; i < N_ANCHORS; i++) {
        double s = anchor_seconds[i];
        double flops = 2.0 * anchors[i].m * anchors[i].n * anchors[i].k;
        double ours = ops[anchors[i].op].seconds;
        double ratio = ours > 0 ? s / ours : 0;
        if (b->json)
            printf(",\n  {\"op\": \"%s\", \"ms\": %.4f, \"gflops\": %.3f, "
                   "\"backend_ratio\": %.4f}",
                   anchors[i].name, s * 1e3, flops / s * 1e-9, ratio);
        else
            printf("%-36s %10.3f %8.2f GFLOP/s  backend/cblas = %.2f\n", anchors[i].name,
                   s * 1e3, flops / s * 1e-9, ratio);
    }
    if (b->json)
        printf("\n], \"block_ms\": %.4f, \"failures\": %d}\n", block_total * 1e3, b->failures);
    else
        printf("forward block (ops marked with a share): %.2f ms\n", block_total * 1e3);
    free(c);
    for (int i = 0; i < N_TENSORS; i++)
        free(host[i]);
    return b->failures ? LPT_EXIT_ERROR : LPT_EXIT_OK;
}

int lpt_cmd_bench(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "vit") == 0)
        return lpt_cmd_bench_vit(argc - 1, argv + 1);
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    if (!lpt_cli_backend_options(&argc, argv, &opt))
        return LPT_EXIT_USAGE;
    Bench b = {.seconds = 0.5, .rng = 0x1234567ull};
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            b.json = true;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            b.seconds = atof(argv[++i]);
            if (!(b.seconds > 0 && b.seconds < 600))
                return lpt_cli_usage_error("bench", "--seconds takes a time in (0, 600)");
        } else if (!what) {
            what = argv[i];
        } else {
            return lpt_cli_usage_error("bench", "usage: lpt bench ops|vit [--backend cpu|vulkan] "
                                                "[--device N] [--json] [--seconds S]");
        }
    }
    if (!what || strcmp(what, "ops") != 0)
        return lpt_cli_usage_error("bench", "usage: lpt bench ops|vit [--backend cpu|vulkan] "
                                            "[--device N] [--json] [--seconds S]");
    LptError err = {0};
    b.be = lpt_backend_new(&opt, &err);
    if (!b.be) {
        fprintf(stderr, "lpt bench: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    if (opt.kind != LPT_BACKEND_CPU) {
        LptBackendOptions cpu_opt;
        lpt_backend_options_init(&cpu_opt);
        cpu_opt.threads = opt.threads;
        b.cpu = lpt_backend_new(&cpu_opt, &err);
        if (!b.cpu) {
            fprintf(stderr, "lpt bench: cpu reference: %s\n", err.message);
            lpt_backend_free(b.be);
            return LPT_EXIT_ERROR;
        }
    }
    int rc = bench_ops(&b);
    lpt_arena_free(b.arena);
    lpt_arena_free(b.cpu_arena);
    lpt_backend_free(b.cpu);
    lpt_backend_free(b.be);
    return rc;
}

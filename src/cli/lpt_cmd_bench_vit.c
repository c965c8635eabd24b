/* lpt_cmd_bench_vit.c: `lpt bench vit [--backend cpu|vulkan] [--device N] [--threads N]
 * [--batch 8,32] [--what forward,phase1,phase2] [--seconds S] [--memory GIB] [--no-torch]
 * [--torch-script PATH] [--profile] [--json]`.
 *
 * ViT-B/16 at 224 with random frozen weights and the LPT++ defaults of lpt_vit_config_init
 * (P = 10 shared prompts per layer, adapters of rank 8, a pool of 20 group prompts, top-2;
 * K = 10 classes), images/s at each batch size for:
 *   forward  the plain backbone, inference;
 *   phase1   one phase-1 step: forward with prompts and adapters, A-GCL loss, backward to the
 *            prompts, adapters and head, SGD update;
 *   phase2   one phase-2 step: the query pass and the main pass with group prompts (layers
 *            before L/2 run once, no backward for the query pass), A-GCL + key loss, backward
 *            to the pool, keys and head, SGD update.
 * A batch that does not fit the memory budget (device-local memory on Vulkan, physical memory
 * on the CPU; 80 %, less the weights; or --memory) is split into micro-batches by
 * lpt_vit_activation_bytes, gradients accumulating across them; a forward that still runs out
 * of memory halves the micro-batch. In the same run, right after each of ours, PyTorch's
 * figure for the same work: scripts/bench_torch_vit.py under OMP_WAIT_POLICY=PASSIVE with our
 * thread count (the CPU backend's, or every core for Vulkan); skipped with a note when it
 * cannot run (no python3-torch, no script). PyTorch's phase-1 step has no adapters and its phase-2 step runs
 * two full passes, as the reference code does. Each figure: one warm-up step, then steps until
 * --seconds have passed (at least one). --profile records every op's time during the timed
 * steps (the backend's profile: wall clock per op on the CPU, timestamp queries on Vulkan) and
 * prints each figure's ops by time per step, to see where a step goes.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_ops.h"
#include "lpt_tensor.h"
#include "lpt_vit.h"

#ifndef LPT_SOURCE_DIR
#define LPT_SOURCE_DIR "."
#endif

#define USAGE                                                                                  \
    "usage: lpt bench vit [--backend cpu|vulkan] [--device N] [--threads N] [--batch 8,32] "   \
    "[--what forward,phase1,phase2] [--seconds S] [--memory GIB] [--no-torch] "                \
    "[--torch-script PATH] [--profile] [--json]"
#define MAX_BATCHES 8
#define CLASSES 10
#define N_WHAT 3

static const char *const what_name[N_WHAT] = {"forward", "phase1", "phase2"};
static const LptVitMode what_mode[N_WHAT] = {LPT_VIT_PLAIN, LPT_VIT_PHASE1, LPT_VIT_PHASE2};
static const double what_target[N_WHAT] = {1.0, 1.2, 1.5}; /* issue 3's CPU targets */

typedef struct Options {
    int batches[MAX_BATCHES], n_batches;
    bool what[N_WHAT];
    double seconds;
    double memory; /* activation budget in bytes; 0 = from the device */
    bool torch, json, profile;
    const char *script;
} Options;

#define MAX_PROFILE_OPS 64 /* op kinds a profile keeps */

/* One measured figure. */
typedef struct Figure {
    int batch, what, micro;
    double images_per_s, torch_images_per_s; /* 0: not measured */
    bool ok;
    uint32_t steps;                       /* timed steps */
    LptOpTiming ops[MAX_PROFILE_OPS];     /* with --profile: over the timed steps, by time */
    int n_ops;
} Figure;

typedef struct Bench {
    LptBackend *be;
    LptVit *vit;
    LptArena *arena;
    LptTensor images, labels, margins, loss, dcos, velocity;
    int max_micro;
    uint64_t rng;
    LptError err;
} Bench;

/* Uniform in [-1, 1) (xorshift64*). */
static float frand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((double)((*s * 0x2545F4914F6CDD1Dull) >> 40) / 8388608.0 - 1.0);
}

/* Parses "8,32" into o->batches. */
static bool parse_batches(const char *text, Options *o)
{
    o->n_batches = 0;
    for (const char *p = text; *p;) {
        char *end;
        long b = strtol(p, &end, 10);
        if (end == p || b < 1 || b > 4096 || o->n_batches == MAX_BATCHES ||
            (*end && *end != ','))
            return false;
        o->batches[o->n_batches++] = (int)b;
        p = *end ? end + 1 : end;
    }
    return o->n_batches > 0;
}

static bool parse_what(const char *text, Options *o)
{
    memset(o->what, 0, sizeof o->what);
    bool any = false;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < N_WHAT && strcmp(tok, what_name[k]) != 0)
            k++;
        if (k == N_WHAT)
            return false;
        o->what[k] = any = true;
    }
    return any;
}

/* Memory the activations may use: 80 % of the device's (Vulkan: device-local heaps of the
 * device the backend runs on; CPU: physical memory), less `weights` bytes. 0 = unknown. */
static size_t memory_budget(const LptBackend *be, size_t weights)
{
    double total = 0;
    if (lpt_backend_kind(be) == LPT_BACKEND_CPU) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        if (pages > 0 && size > 0)
            total = (double)pages * (double)size;
    } else {
        LptDeviceInfo devices[16];
        int n = lpt_device_list(devices, 16, NULL);
        const char *desc = lpt_backend_description(be);
        for (int i = 0; i < n && i < 16; i++)
            if (strstr(desc, devices[i].name))
                total = (double)devices[i].device_local_bytes;
    }
    double budget = 0.8 * total - (double)weights;
    return budget > 0 ? (size_t)budget : 0;
}

/* Random frozen weights at ViT-like scale (LayerNorm weights 1, biases 0), the method's
 * init for the trainable tensors. */
static LptStatus init_model(Bench *b, LptError *err)
{
    size_t cap = 0;
    float *buf = NULL;
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(b->vit, i); i++) {
        if (lpt_vit_tensor_trainable(b->vit, i))
            continue;
        const char *name = lpt_vit_tensor_name(b->vit, i);
        size_t n = lpt_vit_tensor(b->vit, name)->count;
        if (n > cap) {
            free(buf);
            buf = malloc(n * sizeof *buf);
            cap = buf ? n : 0;
            if (!buf)
                return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        }
        size_t len = strlen(name);
        bool ln = strstr(name, "ln") || strncmp(name, "norm", 4) == 0;
        bool bias = len > 5 && strcmp(name + len - 5, ".bias") == 0;
        for (size_t j = 0; j < n; j++)
            buf[j] = bias ? 0.0f : ln ? 1.0f : 0.03f * frand(&b->rng);
        st = lpt_vit_set(b->vit, name, buf, n, err);
    }
    free(buf);
    return st == LPT_OK ? lpt_vit_init_trainable(b->vit, 1, err) : st;
}

/* The tensors of a step besides the model's, for micro-batches of up to `micro` images. */
static LptStatus alloc_step(Bench *b, const LptVitConfig *cfg, int micro, LptError *err)
{
    LptTensor p1, g1, p2, g2;
    LptStatus st = lpt_vit_trainable_span(b->vit, LPT_VIT_PHASE1, &p1, &g1, err);
    if (st == LPT_OK)
        st = lpt_vit_trainable_span(b->vit, LPT_VIT_PHASE2, &p2, &g2, err);
    if (st != LPT_OK)
        return st;
    size_t per_image = (size_t)3 * cfg->image * cfg->image, span = p1.count > p2.count ? p1.count
                                                                                        : p2.count;
    size_t bytes = 4 * (per_image * micro + 3 * (size_t)micro + CLASSES + (size_t)micro * CLASSES +
                        span) +
                   8 * LPT_ARENA_ALIGN;
    lpt_arena_free(b->arena);
    b->arena = lpt_arena_new(b->be, "bench vit", bytes, err);
    if (!b->arena)
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    struct {
        LptTensor *t;
        const char *name;
        LptDType dtype;
        size_t n;
    } specs[] = {{&b->images, "images", LPT_F32, per_image * micro},
                 {&b->labels, "labels", LPT_I32, (size_t)micro},
                 {&b->margins, "margins", LPT_F32, CLASSES},
                 {&b->loss, "loss", LPT_F32, (size_t)micro},
                 {&b->dcos, "dcos", LPT_F32, (size_t)micro * CLASSES},
                 {&b->velocity, "velocity", LPT_F32, span}};
    for (size_t i = 0; st == LPT_OK && i < sizeof specs / sizeof specs[0]; i++)
        st = lpt_arena_alloc(b->arena, specs[i].t, specs[i].name, specs[i].dtype, specs[i].n,
                             err);
    float *host = malloc(per_image * micro * sizeof *host);
    int32_t *labels = malloc((size_t)micro * sizeof *labels);
    float margins[CLASSES];
    if (st == LPT_OK && (!host || !labels))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
    if (st == LPT_OK) {
        for (size_t j = 0; j < per_image * micro; j++)
            host[j] = frand(&b->rng);
        for (int j = 0; j < micro; j++)
            labels[j] = j % CLASSES;
        for (int k = 0; k < CLASSES; k++) /* a long tail: m_k / max m */
            margins[k] = (float)k / (CLASSES - 1);
        st = lpt_tensor_upload(&b->images, host, err);
    }
    if (st == LPT_OK)
        st = lpt_tensor_upload(&b->labels, labels, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&b->margins, margins, err);
    if (st == LPT_OK)
        st = lpt_tensor_fill_u32(&b->velocity, 0, err);
    free(host);
    free(labels);
    b->max_micro = st == LPT_OK ? micro : 0;
    return st;
}

/* One step of `what` on `batch` images in micro-batches of `micro`, synchronised. */
static LptStatus step(Bench *b, int what, int batch, int micro, uint32_t n, LptError *err)
{
    LptVitMode mode = what_mode[what];
    bool train = what != 0;
    LptStatus st = train ? lpt_vit_zero_grads(b->vit, err) : LPT_OK;
    for (int done = 0; st == LPT_OK && done < batch; done += micro) {
        int m = batch - done < micro ? batch - done : micro;
        LptTensor images = lpt_tensor_view(&b->images, 0, b->images.count / b->max_micro * m);
        st = lpt_vit_forward(b->vit, &images, m, mode, train, err);
        if (st != LPT_OK || !train)
            continue;
        LptTensor labels = lpt_tensor_view(&b->labels, 0, (size_t)m);
        LptTensor loss = lpt_tensor_view(&b->loss, 0, (size_t)m);
        LptTensor dcos = lpt_tensor_view(&b->dcos, 0, (size_t)m * CLASSES);
        LptAgclParams p;
        lpt_agcl_params_init(&p, m, CLASSES, 0.0f, 4.0f);
        p.step = n;
        const LptTensor *cos = lpt_vit_logits(b->vit);
        st = lpt_op_agcl_forward(b->be, &loss, cos, &labels, &b->margins, &p, err);
        if (st == LPT_OK)
            st = lpt_op_agcl_backward(b->be, &dcos, cos, &labels, &b->margins, &p,
                                      1.0f / (float)batch, err);
        if (st == LPT_OK)
            st = lpt_vit_backward(b->vit, &dcos, 1.0f / (float)batch, err);
    }
    if (st == LPT_OK && train) {
        LptTensor param, grad;
        st = lpt_vit_trainable_span(b->vit, mode, &param, &grad, err);
        LptTensor vel = lpt_tensor_view(&b->velocity, 0, param.count);
        if (st == LPT_OK)
            st = lpt_op_sgd_update(b->be, &param, &vel, &grad, param.count, 0.02f, 0.9f, 0.01f,
                                   err);
    }
    return st == LPT_OK ? lpt_backend_sync(b->be, err) : st;
}

/* qsort order of op timings: the longest first. */
static int by_time(const void *a, const void *b)
{
    double x = ((const LptOpTiming *)a)->seconds, y = ((const LptOpTiming *)b)->seconds;
    return (x < y) - (x > y);
}

/* The ops' total time in f's profile. */
static double profile_seconds(const Figure *f)
{
    double total = 0;
    for (int i = 0; i < f->n_ops; i++)
        total += f->ops[i].seconds;
    return total;
}

/* Times `what` at `batch`: a warm-up step, then steps for `seconds`. A forward out of memory
 * halves the micro-batch. */
static void measure(Bench *b, const LptVitConfig *cfg, Figure *f, double seconds)
{
    LptError *err = &b->err;
    for (;;) {
        LptStatus st = LPT_OK;
        if (f->micro > b->max_micro)
            st = alloc_step(b, cfg, f->micro, err);
        if (st == LPT_OK)
            st = step(b, f->what, f->batch, f->micro, 0, err);
        if (st == LPT_ERR_OUT_OF_MEMORY && f->micro > 1) {
            f->micro /= 2;
            continue;
        }
        if (st != LPT_OK)
            return;
        break;
    }
    lpt_backend_profile_reset(b->be); /* the warm-up's times out */
    double t0 = lpt_cli_now_seconds(), dt = 0;
    uint32_t steps = 0;
    do {
        if (step(b, f->what, f->batch, f->micro, steps + 1, err) != LPT_OK)
            return;
        steps++;
        dt = lpt_cli_now_seconds() - t0;
    } while (dt < seconds);
    f->images_per_s = (double)f->batch * steps / dt;
    f->ok = true;
    f->steps = steps;
    f->n_ops = lpt_backend_profile(b->be, f->ops, MAX_PROFILE_OPS);
    if (f->n_ops > MAX_PROFILE_OPS)
        f->n_ops = MAX_PROFILE_OPS;
    qsort(f->ops, (size_t)f->n_ops, sizeof f->ops[0], by_time);
}

/* PyTorch's figure for f (its batch and step): runs the script. Returns false (with a note)
 * when it could not run. */
static bool run_torch(const Options *o, int threads, Figure *f, char *note, size_t note_size,
                      char *version, size_t version_size)
{
    if (access("/usr/bin/python3", X_OK) != 0 || access(o->script, R_OK) != 0) {
        snprintf(note, note_size, "PyTorch skipped: %s not found",
                 access("/usr/bin/python3", X_OK) != 0 ? "/usr/bin/python3" : o->script);
        return false;
    }
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 '%s' --batch %d --threads %d "
             "--seconds %g --what %s 2>&1",
             o->script, f->batch, threads, o->seconds, what_name[f->what]);
    FILE *p = popen(cmd, "r");
    char out[8192] = "";
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    int status = p ? pclose(p) : -1;
    const char *line = strrchr(out, '{');
    cJSON *root = status == 0 && line ? cJSON_Parse(line) : NULL;
    char key[64];
    snprintf(key, sizeof key, "%s_images_per_s", what_name[f->what]);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(x)) {
        char *last = out + (n > 300 ? n - 300 : 0);
        for (char *c = last; *c; c++)
            if (*c == '\n')
                *c = ' ';
        snprintf(note, note_size, "PyTorch skipped: the script failed (is python3-torch "
                                  "installed?): %s",
                 last);
        cJSON_Delete(root);
        return false;
    }
    f->torch_images_per_s = x->valuedouble;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "torch");
    snprintf(version, version_size, "%s", cJSON_IsString(v) ? v->valuestring : "?");
    cJSON_Delete(root);
    return true;
}

/* Threads torch gets: the CPU backend's (option, LPT_THREADS, cores), or all cores. */
static int torch_threads(const LptBackendOptions *opt)
{
    if (opt->kind == LPT_BACKEND_CPU) {
        if (opt->threads > 0)
            return opt->threads;
        const char *env = getenv("LPT_THREADS");
        if (env && atoi(env) > 0)
            return atoi(env);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void report(const Options *o, const Bench *b, const LptVitConfig *cfg, const size_t *bpi,
                   size_t budget, const Figure *figs, int n_figs, const char *note,
                   const char *version, int threads)
{
    char esc[700], esc2[700];
    const char *desc = lpt_backend_description(b->be);
    if (o->json) {
        printf("{\"backend\": \"%s\", \"model\": {\"depth\": %d, \"width\": %d, \"heads\": %d, "
               "\"mlp\": %d, \"patch\": %d, \"image\": %d, \"prompts\": %d, \"adapter_rank\": "
               "%d, \"pool_size\": %d, \"classes\": %d}, \"bytes_per_image\": {\"forward\": "
               "%zu, \"phase1\": %zu, \"phase2\": %zu}, \"memory_budget\": %zu, ",
               lpt_cli_json_escape(desc, esc, sizeof esc), cfg->depth, cfg->width, cfg->heads,
               cfg->mlp, cfg->patch, cfg->image, cfg->prompts, cfg->adapter_rank,
               cfg->pool_size, cfg->classes, bpi[0], bpi[1], bpi[2], budget);
        if (version[0])
            printf("\"torch\": {\"version\": \"%s\", \"threads\": %d}, ",
                   lpt_cli_json_escape(version, esc, sizeof esc), threads);
        else
            printf("\"torch\": null, ");
        printf("\"note\": \"%s\", \"results\": [", lpt_cli_json_escape(note, esc2, sizeof esc2));
        for (int i = 0; i < n_figs; i++) {
            const Figure *f = &figs[i];
            double ratio = f->torch_images_per_s > 0 && f->ok
                               ? f->images_per_s / f->torch_images_per_s : 0;
            printf("%s\n  {\"batch\": %d, \"what\": \"%s\", \"micro_batch\": %d, \"ok\": %s, "
                   "\"images_per_s\": %.4f, \"torch_images_per_s\": %.4f, \"ratio\": %.4f, "
                   "\"cpu_target\": %.1f",
                   i ? "," : "", f->batch, what_name[f->what], f->micro,
                   f->ok ? "true" : "false", f->images_per_s, f->torch_images_per_s, ratio,
                   what_target[f->what]);
            if (o->profile) { /* per step: calls, milliseconds */
                printf(", \"profile\": [");
                for (int k = 0; k < f->n_ops && f->steps > 0; k++)
                    printf("%s{\"op\": \"%s\", \"calls\": %.2f, \"ms\": %.3f}", k ? ", " : "",
                           lpt_cli_json_escape(f->ops[k].op, esc, sizeof esc),
                           (double)f->ops[k].calls / f->steps,
                           1e3 * f->ops[k].seconds / f->steps);
                printf("]");
            }
            printf("}");
        }
        printf("\n]}\n");
        return;
    }
    printf("ViT-B/16 %d, P %d, R %d, M %d, K %d on %s\n", cfg->image, cfg->prompts,
           cfg->adapter_rank, cfg->pool_size, cfg->classes, desc);
    printf("activations per image: forward %.1f MiB, phase-1 step %.1f MiB, phase-2 step %.1f "
           "MiB; budget %.1f GiB\n",
           bpi[0] / 1048576.0, bpi[1] / 1048576.0, bpi[2] / 1048576.0, budget / 1073741824.0);
    if (version[0])
        printf("PyTorch %s, %d threads, OMP_WAIT_POLICY=PASSIVE (phase 1 without adapters, "
               "phase 2 as two full passes)\n",
               version, threads);
    if (note[0])
        printf("%s\n", note);
    printf("%5s %-8s %6s %12s %12s %7s %7s\n", "batch", "step", "micro", "lpt img/s",
           "torch img/s", "ratio", "target");
    for (int i = 0; i < n_figs; i++) {
        const Figure *f = &figs[i];
        if (!f->ok) {
            printf("%5d %-8s %6d %12s\n", f->batch, what_name[f->what], f->micro, "FAILED");
            continue;
        }
        printf("%5d %-8s %6d %12.3f", f->batch, what_name[f->what], f->micro, f->images_per_s);
        if (f->torch_images_per_s > 0)
            printf(" %12.3f %7.2f %7.1f\n", f->torch_images_per_s,
                   f->images_per_s / f->torch_images_per_s, what_target[f->what]);
        else
            printf(" %12s\n", "-");
    }
    for (int i = 0; o->profile && i < n_figs; i++) {
        const Figure *f = &figs[i];
        double total = profile_seconds(f);
        if (!f->ok || f->steps == 0 || total <= 0)
            continue;
        printf("profile, batch %d %s: %.1f ms of ops per step\n", f->batch, what_name[f->what],
               1e3 * total / f->steps);
        for (int k = 0; k < f->n_ops; k++)
            printf("  %-28s %9.1f calls %10.2f ms %6.1f%%\n", f->ops[k].op,
                   (double)f->ops[k].calls / f->steps, 1e3 * f->ops[k].seconds / f->steps,
                   100.0 * f->ops[k].seconds / total);
    }
}

int lpt_cmd_bench_vit(int argc, char **argv)
{
    LptBackendOptions bopt;
    lpt_backend_options_init(&bopt);
    if (!lpt_cli_backend_options(&argc, argv, &bopt))
        return LPT_EXIT_USAGE;
    Options o = {.batches = {8, 32}, .n_batches = 2, .what = {true, true, true},
                 .seconds = 10.0, .torch = true,
                 .script = LPT_SOURCE_DIR "/scripts/bench_torch_vit.py"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if (strcmp(a, "--no-torch") == 0) {
            o.torch = false;
        } else if (strcmp(a, "--profile") == 0) {
            o.profile = true;
        } else if (strcmp(a, "--batch") == 0) {
            if (!has_value || !parse_batches(argv[++i], &o))
                return lpt_cli_usage_error("bench vit", "--batch takes sizes like 8,32 "
                                                        "(1-4096, up to 8 of them)");
        } else if (strcmp(a, "--what") == 0) {
            if (!has_value || !parse_what(argv[++i], &o))
                return lpt_cli_usage_error("bench vit", "--what takes forward,phase1,phase2");
        } else if (strcmp(a, "--seconds") == 0) {
            o.seconds = has_value ? atof(argv[++i]) : 0;
            if (!(o.seconds > 0 && o.seconds < 3600))
                return lpt_cli_usage_error("bench vit", "--seconds takes a time in (0, 3600)");
        } else if (strcmp(a, "--memory") == 0) {
            o.memory = has_value ? atof(argv[++i]) * 1073741824.0 : 0;
            if (!(o.memory >= 1048576.0 && o.memory < 1e15))
                return lpt_cli_usage_error("bench vit", "--memory takes GiB (at least 0.001)");
        } else if (strcmp(a, "--torch-script") == 0 && has_value) {
            o.script = argv[++i];
        } else {
            return lpt_cli_usage_error("bench vit", USAGE);
        }
    }

    Bench b = {.rng = 0x9E3779B97F4A7C15ull};
    LptVitConfig cfg;
    lpt_vit_config_init(&cfg);
    cfg.classes = CLASSES;
    int rc = LPT_EXIT_ERROR;
    Figure figs[MAX_BATCHES * N_WHAT];
    int n_figs = 0;
    bopt.profile = o.profile;
    b.be = lpt_backend_new(&bopt, &b.err);
    if (b.be)
        b.vit = lpt_vit_new(b.be, &cfg, &b.err);
    if (!b.vit || init_model(&b, &b.err) != LPT_OK) {
        fprintf(stderr, "lpt bench vit: %s\n", b.err.message);
        goto out;
    }
    size_t bpi[N_WHAT], weights = 0;
    for (int k = 0; k < N_WHAT; k++)
        bpi[k] = lpt_vit_activation_bytes(&cfg, 1, what_mode[k], k != 0);
    for (int i = 0; lpt_vit_tensor_name(b.vit, i); i++)
        weights += lpt_vit_tensor(b.vit, lpt_vit_tensor_name(b.vit, i))->count * 4 *
                   (lpt_vit_tensor_trainable(b.vit, i) ? 3 : 1);
    size_t budget = o.memory > 0 ? (size_t)o.memory : memory_budget(b.be, weights);
    char note[600] = "", version[64] = "";
    int threads = torch_threads(&bopt);
    bool torch = o.torch;
    if (!torch)
        snprintf(note, sizeof note, "PyTorch skipped (--no-torch)");

    for (int bi = 0; bi < o.n_batches; bi++)
        for (int k = 0; k < N_WHAT; k++) {
            if (!o.what[k])
                continue;
            Figure *f = &figs[n_figs++];
            /* the largest micro-batch that fits, then the batch split evenly */
            int batch = o.batches[bi], micro = batch;
            if (budget > 0) {
                while (micro > 1 &&
                       lpt_vit_activation_bytes(&cfg, micro, what_mode[k], k != 0) > budget)
                    micro--;
                int parts = (batch + micro - 1) / micro;
                micro = (batch + parts - 1) / parts;
            }
            *f = (Figure){.batch = batch, .what = k, .micro = micro};
            measure(&b, &cfg, f, o.seconds);
            if (!f->ok)
                fprintf(stderr, "lpt bench vit: %s at batch %d: %s\n", what_name[k], batch,
                        b.err.message);
            /* PyTorch right after, so both see the same machine load */
            if (torch && !run_torch(&o, threads, f, note, sizeof note, version, sizeof version))
                torch = false;
        }
    report(&o, &b, &cfg, bpi, budget, figs, n_figs, note, version, threads);
    rc = LPT_EXIT_OK;
    for (int i = 0; i < n_figs; i++)
        if (!figs[i].ok)
            rc = LPT_EXIT_ERROR;
out:
    lpt_arena_free(b.arena);
    lpt_vit_free(b.vit);
    lpt_backend_free(b.be);
    return rc;
}

/* test_e2e.c: issue 5's end-to-end test on real data: `lpt demo` (every phase of both
 * experts, the scorer, both baselines, evaluation) on a small real subset of Fashion-MNIST-LT
 * with the demo backbones of data/backbones, run as a user runs it.
 *
 * Usage: test_e2e --lpt LPT --backbones DIR [--fashion DIR] [--backend cpu|vulkan]
 * The subset: Debian's dataset-fashion-mnist (--fashion, default
 * /usr/share/datasets/fashion-mnist) with its training files as they are and its first
 * TEST_IMAGES test images; `lpt demo --subset HEAD` cuts the long tail at HEAD images in the
 * head class (IR 100; HEAD 200: 490 training images, 1/9 of each class to validation), with
 * the demo recipe's epochs times EPOCHS_SCALE (the Vulkan variant: a smaller tail and fewer
 * epochs, since lavapipe runs the kernels on the CPU far more slowly than OpenBLAS).
 *
 * cpu: two runs in two folders. The first: in phase 1 of each expert and in both baselines
 * the training loss of the last epoch is below the first's; every model's balanced accuracy
 * is above chance (10%, by a margin: ABOVE_CHANCE); each run has one prediction record per test
 * image; the results JSON is complete. The second, with the same seeds: every metric of every
 * model identical.
 * vulkan: one run on each backend: every model's overall and balanced accuracy on Vulkan
 * within VULKAN_POINTS percentage points of the CPU's (both backends draw the same batches,
 * noise and dropout masks, so only float rounding differs; measured: not one test image
 * differs).
 * LPT_TEST_KEEP=1 keeps the temporary folder.
 */
#include "lpt_store.h"
#include "test_check.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#define TEST_IMAGES 1000          /* the first of Fashion-MNIST's 10,000 test images */
#define HEAD "200"                /* images in the head class of the long tail */
#define EPOCHS_SCALE "0.5"        /* of the demo recipe's epochs */
#define VULKAN_HEAD "100"         /* the same for the Vulkan variant */
#define VULKAN_EPOCHS_SCALE "0.25"
#define ABOVE_CHANCE 0.15         /* balanced accuracy every model must exceed (chance: 0.1) */
#define VULKAN_POINTS 1.0         /* accuracy points Vulkan may differ from the CPU by */
#define SIDE 28

static char root[512];
static const char *lpt, *backbones, *fashion = "/usr/share/datasets/fashion-mnist";

static const char *const models[5] = {"linear_probe", "full_finetune", "vision", "vl", "fused"};
static const char *const metric_keys[5] = {"overall", "balanced", "many", "medium", "few"};

/* Copies the first `header` bytes and `count` records of `record` bytes of a gzipped IDX file
 * into a plain one, setting the item count (bytes 4-7) to count. */
static bool cut_idx(const char *src, const char *dst, size_t header, size_t record, size_t count)
{
    gzFile in = gzopen(src, "rb");
    FILE *out = fopen(dst, "wb");
    size_t n = header + record * count;
    unsigned char *buf = malloc(n);
    bool ok = in && out && buf && gzread(in, buf, (unsigned)n) == (int)n;
    if (ok) {
        buf[4] = (unsigned char)(count >> 24);
        buf[5] = (unsigned char)(count >> 16);
        buf[6] = (unsigned char)(count >> 8);
        buf[7] = (unsigned char)count;
        ok = fwrite(buf, 1, n, out) == n;
    }
    if (in)
        gzclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    free(buf);
    return ok;
}

/* root/idx: the training files linked, the test files cut to TEST_IMAGES. */
static bool make_subset(char *dir, size_t size)
{
    snprintf(dir, size, "%s/idx", root);
    if (mkdir(dir, 0777) != 0)
        return false;
    char src[700], dst[700];
    const char *train[2] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"};
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, "%s/%s.gz", fashion, train[i]);
        snprintf(dst, sizeof dst, "%s/%s.gz", dir, train[i]);
        if (symlink(src, dst) != 0)
            return false;
    }
    snprintf(src, sizeof src, "%s/t10k-images-idx3-ubyte.gz", fashion);
    snprintf(dst, sizeof dst, "%s/t10k-images-idx3-ubyte", dir);
    bool ok = cut_idx(src, dst, 16, SIDE * SIDE, TEST_IMAGES);
    snprintf(src, sizeof src, "%s/t10k-labels-idx1-ubyte.gz", fashion);
    snprintf(dst, sizeof dst, "%s/t10k-labels-idx1-ubyte", dir);
    return ok && cut_idx(src, dst, 8, 1, TEST_IMAGES);
}

/* Runs `lpt demo` into root/<name> on the subset (`head` images in the head class, epochs
 * times `scale`); returns the parsed results JSON or NULL. */
static cJSON *demo(const char *name, const char *idx, const char *backend, const char *head,
                   const char *scale)
{
    char cmd[4096], out[700], results[800], log[800];
    snprintf(out, sizeof out, "%s/%s", root, name);
    snprintf(log, sizeof log, "%s/%s.log", root, name);
    snprintf(cmd, sizeof cmd,
             "'%s' demo --out '%s' --from '%s' --backbones '%s' --subset %s --epochs-scale %s "
             "--no-gui --threads 2 --backend %s > '%s' 2>&1",
             lpt, out, idx, backbones, head, scale, backend, log);
    int status = system(cmd);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    snprintf(results, sizeof results, "%s/fashion-mnist-lt-head%s-results.json", out, head);
    FILE *f = fopen(results, "rb");
    char *text = calloc(1, 1 << 20);
    if (f && text)
        text[fread(text, 1, (1 << 20) - 1, f)] = '\0';
    if (f)
        fclose(f);
    cJSON *o = code == 0 && text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(o != NULL, "lpt demo (%s, %s) exits 0 and writes its results (exit %d; see %s)", name,
          backend, code, log);
    if (o) { /* the table, for the log */
        snprintf(cmd, sizeof cmd, "grep -A6 '^  model' '%s'; grep '^time' '%s'", log, log);
        if (system(cmd) != 0)
            printf("(no table in %s)\n", log);
    }
    return o;
}

static double metric(const cJSON *o, const char *model, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "models"), model),
        key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int64_t run_of(const cJSON *o, const char *key)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "runs"), key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* The first run's checks: losses fall, accuracy above chance, records written. */
static void check_first(const cJSON *o)
{
    for (int m = 0; m < 5; m++) {
        double b = metric(o, models[m], "balanced");
        printf("%s: balanced %.2f%%, few %.2f%%\n", models[m], 100 * b,
               100 * metric(o, models[m], "few"));
        CHECK(b > ABOVE_CHANCE, "%s: balanced accuracy %.3f above chance (> %.2f)", models[m], b,
              ABOVE_CHANCE);
    }
    const cJSON *project = cJSON_GetObjectItemCaseSensitive(o, "project");
    LptError err = {0};
    LptStore *store =
        cJSON_IsString(project) ? lpt_store_open(project->valuestring, LPT_STORE_READ_ONLY, &err)
                                : NULL;
    CHECK(store != NULL, "the project opens: %s", err.message);
    if (!store)
        return;
    const char *runs[3] = {"lpt", "linear_probe", "full_finetune"};
    for (int r = 0; r < 3; r++) {
        int64_t id = run_of(o, runs[r]);
        LptStoreEpochMetrics *m = NULL;
        size_t n = 0;
        CHECK(lpt_store_metric_list(store, id, &m, &n, &err) == LPT_OK, "metrics of run %lld: %s",
              (long long)id, err.message);
        for (int e = 0; e < (r == 0 ? 2 : 1); e++) {
            double first = NAN, last = NAN;
            int epochs = 0;
            for (size_t i = 0; i < n; i++)
                if (m[i].phase == 1 && (int)m[i].expert == e &&
                    m[i].split == LPT_STORE_SPLIT_TRAIN) {
                    first = epochs++ == 0 ? m[i].loss : first;
                    last = m[i].loss;
                }
            CHECK(epochs >= 2 && last < first, "%s, %s expert: phase-1 loss falls over %d epochs "
                                               "(%.4f -> %.4f)",
                  runs[r], lpt_store_expert_name((LptStoreExpert)e), epochs, first, last);
        }
        free(m);
        int64_t *ids = NULL;
        size_t count = 0;
        lpt_store_prediction_list(store, id, LPT_STORE_ANY_RESULT, &ids, &count, &err);
        CHECK(count == TEST_IMAGES, "%s: a prediction record for each of the %d test images (%zu)",
              runs[r], TEST_IMAGES, count);
        free(ids);
    }
    lpt_store_close(store);
}

int main(int argc, char **argv)
{
    const char *backend = "cpu";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--lpt") == 0)
            lpt = argv[i + 1];
        else if (strcmp(argv[i], "--backbones") == 0)
            backbones = argv[i + 1];
        else if (strcmp(argv[i], "--fashion") == 0)
            fashion = argv[i + 1];
        else if (strcmp(argv[i], "--backend") == 0)
            backend = argv[i + 1];
    }
    if (!lpt || !backbones || (strcmp(backend, "cpu") != 0 && strcmp(backend, "vulkan") != 0)) {
        fprintf(stderr, "usage: test_e2e --lpt LPT --backbones DIR [--fashion DIR] "
                        "[--backend cpu|vulkan]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/lpt-e2e-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        printf("cannot make a temporary folder\n");
        return 1;
    }
    char cache[600], idx[600];
    snprintf(cache, sizeof cache, "%s/cache", root);
    setenv("LPT_CACHE_DIR", cache, 1);
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    bool ready = make_subset(idx, sizeof idx);
    CHECK(ready, "the subset of %s written under %s", fashion, root);
    if (ready && strcmp(backend, "cpu") == 0) {
        cJSON *a = demo("first", idx, "cpu", HEAD, EPOCHS_SCALE);
        if (a)
            check_first(a);
        cJSON *b = a ? demo("second", idx, "cpu", HEAD, EPOCHS_SCALE) : NULL;
        for (int m = 0; b && m < 5; m++)
            for (int k = 0; k < 5; k++) {
                double x = metric(a, models[m], metric_keys[k]);
                double y = metric(b, models[m], metric_keys[k]);
                CHECK(x == y || (isnan(x) && isnan(y)),
                      "a second run with the same seeds: %s.%s identical (%.17g vs %.17g)",
                      models[m], metric_keys[k], x, y);
            }
        cJSON_Delete(a);
        cJSON_Delete(b);
    } else if (ready) {
        cJSON *c = demo("cpu", idx, "cpu", VULKAN_HEAD, VULKAN_EPOCHS_SCALE);
        cJSON *v = c ? demo("vulkan", idx, "vulkan", VULKAN_HEAD, VULKAN_EPOCHS_SCALE) : NULL;
        for (int m = 0; v && m < 5; m++)
            for (int k = 0; k < 2; k++) {
                double x = 100 * metric(c, models[m], metric_keys[k]);
                double y = 100 * metric(v, models[m], metric_keys[k]);
                printf("%s %s: CPU %.2f%%, Vulkan %.2f%%\n", models[m], metric_keys[k], x, y);
                CHECK(fabs(x - y) <= VULKAN_POINTS,
                      "%s.%s: Vulkan %.2f%% within %.1f points of the CPU's %.2f%%", models[m],
                      metric_keys[k], y, VULKAN_POINTS, x);
            }
        cJSON_Delete(c);
        cJSON_Delete(v);
    }
    if (getenv("LPT_TEST_KEEP"))
        printf("kept %s (LPT_TEST_KEEP)\n", root);
    else
        tu_remove_tree(root);
    printf("test_e2e [%s]: %d passed, %d failed\n", backend, passed, failed);
    return failed ? 1 : 0;
}

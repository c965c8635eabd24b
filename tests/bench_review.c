/* bench_review.c: how long the Review page's read of a run takes (lpt_review.h), on a
 * synthetic project of 10^4 evaluated test images over 100 classes with both experts (full
 * probability vectors, top-5 lists, scorer weights, prompts: what `lpt eval` records), the
 * size the target is stated for (first paint under 1 s).
 *
 * Times, best and median of ROUNDS each, on a fresh connection: the run list
 * (lpt_review_list_runs), the whole read (lpt_review_load: the store scan and every model's
 * metrics), the store scan alone (lpt_store_prediction_scan with a callback that only counts),
 * and listing the images of the largest class and of one confusion cell (lpt_review_select).
 * A benchmark (`meson test --benchmark review`): it reports and checks only that the reads
 * succeed and count what was written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_review.h"

#define CLASSES 100
#define IMAGES 10000
#define BIG_CLASS 1090 /* class 0's images; 90 for each of the others */
#define TOP_K 5
#define ROUNDS 7

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *ms)
{
    qsort(ms, ROUNDS, sizeof *ms, compare_doubles);
    printf("  %-52s best %8.2f ms   median %8.2f ms\n", what, ms[0], ms[ROUNDS / 2]);
}

static uint32_t seed = 12345;

static float next_uniform(void)
{
    seed = seed * 1664525u + 1013904223u;
    return (float)(seed >> 8) / 16777216.0f;
}

static int make_project(const char *path, int64_t *run_id)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(path, LPT_STORE_CREATE, &err);
    int ok = store && lpt_store_begin(store, &err) == LPT_OK;
    int64_t class_ids[CLASSES];
    for (int k = 0; ok && k < CLASSES; k++) {
        char name[32];
        snprintf(name, sizeof name, "defect_%02d", k);
        ok = lpt_store_class_ensure(store, name, &class_ids[k], NULL, &err) == LPT_OK;
    }
    LptStoreRun run;
    memset(&run, 0, sizeof run);
    run.config_json = "{\"method\": \"lpt++\"}";
    run.class_ids = class_ids;
    run.num_classes = CLASSES;
    ok = ok && lpt_store_run_create(store, &run, run_id, &err) == LPT_OK;
    float probs[3][CLASSES];
    for (int i = 0; ok && i < 2 * IMAGES; i++) {
        int test = i < IMAGES, n = test ? i : i - IMAGES;
        int label = n < BIG_CLASS ? 0 : 1 + (n - BIG_CLASS) / 90;
        LptStoreImage img;
        memset(&img, 0, sizeof img);
        char file[64];
        snprintf(file, sizeof file, "/bench/%s/%02d/%05d.png", test ? "test" : "train", label, n);
        img.path = file;
        snprintf(img.content_hash, sizeof img.content_hash, "%064x", i + 1);
        img.width = img.height = 28;
        img.channels = 1;
        img.class_id = class_ids[label];
        img.split = test ? LPT_STORE_SPLIT_TEST : LPT_STORE_SPLIT_TRAIN;
        int64_t id = 0;
        ok = lpt_store_image_insert(store, &img, &id, &err) == LPT_OK;
        if (!ok || !test)
            continue;
        LptStoreTopK topk[3][TOP_K];
        for (int s = 0; s < 3; s++) {
            double sum = 0.0;
            for (int k = 0; k < CLASSES; k++) {
                probs[s][k] = expf(4.0f * next_uniform() + (k == label ? 3.5f : 0.0f));
                sum += probs[s][k];
            }
            for (int k = 0; k < CLASSES; k++)
                probs[s][k] = (float)(probs[s][k] / sum);
            for (int j = 0; j < TOP_K; j++) {
                int best = -1;
                for (int k = 0; k < CLASSES; k++) {
                    int taken = 0;
                    for (int q = 0; q < j; q++)
                        taken |= topk[s][q].class_index == k;
                    if (!taken && (best < 0 || probs[s][k] > probs[s][best]))
                        best = k;
                }
                topk[s][j] = (LptStoreTopK){best, probs[s][best]};
            }
        }
        float weights[2] = {0.6f, 0.4f};
        int32_t prompts[2] = {3, 11};
        LptStorePrediction p;
        memset(&p, 0, sizeof p);
        p.run_id = *run_id;
        p.image_id = id;
        p.label_index = label;
        p.num_classes = CLASSES;
        p.top_k = TOP_K;
        p.fused_topk = topk[2];
        p.fused_probs = probs[2];
        for (int e = 0; e < 2; e++) {
            p.expert_topk[e] = topk[e];
            p.expert_probs[e] = probs[e];
            p.num_prompts[e] = 2;
            p.prompts[e] = prompts;
        }
        p.scorer_weights = weights;
        ok = lpt_store_prediction_insert(store, &p, &err) == LPT_OK;
    }
    ok = ok && lpt_store_commit(store, &err) == LPT_OK;
    if (!ok)
        fprintf(stderr, "bench_review: making the project: %s\n", err.message);
    lpt_store_close(store);
    return ok;
}

static LptStatus count_row(const LptStorePrediction *p, void *user, LptError *err)
{
    (void)p;
    (void)err;
    ++*(int64_t *)user;
    return LPT_OK;
}

int main(void)
{
    char dir[] = "/tmp/lpt-bench-review-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/bench.lptproj", dir);
    int64_t run_id = 0;
    double t0 = now_ms();
    int ok = make_project(path, &run_id);
    printf("review read of %d evaluated images, %d classes, both experts (project made in %.1f "
           "s):\n",
           IMAGES, CLASSES, (now_ms() - t0) / 1e3);
    double list_ms[ROUNDS], load_ms[ROUNDS], scan_ms[ROUNDS], class_ms[ROUNDS], cell_ms[ROUNDS];
    LptError err = {0};
    for (int round = 0; ok && round < ROUNDS; round++) {
        LptStore *store = lpt_store_open(path, LPT_STORE_READ_ONLY, &err);
        ok = store != NULL;
        LptReviewRun *runs = NULL;
        size_t n_runs = 0;
        double t = now_ms();
        ok = ok && lpt_review_list_runs(store, &runs, &n_runs, &err) == LPT_OK && n_runs == 1 &&
             runs[0].predictions[LPT_STORE_SPLIT_TEST] == IMAGES;
        list_ms[round] = now_ms() - t;
        free(runs);
        LptReview *review = NULL;
        t = now_ms();
        ok = ok && lpt_review_load(store, run_id, LPT_STORE_SPLIT_TEST, &review, &err) == LPT_OK &&
             lpt_review_image_count(review) == IMAGES;
        load_ms[round] = now_ms() - t;
        int64_t rows = 0;
        t = now_ms();
        ok = ok &&
             lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_TEST, count_row, &rows,
                                       &err) == LPT_OK &&
             rows == IMAGES;
        scan_ms[round] = now_ms() - t;
        int64_t *ids = NULL;
        size_t n = 0;
        t = now_ms();
        ok = ok &&
             lpt_review_select(review, LPT_STORE_EXPERT_FUSED, 0, -1, &ids, &n, &err) == LPT_OK &&
             n == BIG_CLASS;
        class_ms[round] = now_ms() - t;
        free(ids);
        t = now_ms();
        ok = ok && lpt_review_select(review, LPT_STORE_EXPERT_FUSED, 0, 1, &ids, &n, &err) ==
                       LPT_OK;
        cell_ms[round] = now_ms() - t;
        free(ids);
        lpt_review_free(review);
        lpt_store_close(store);
    }
    if (ok) {
        report("lpt_review_list_runs (the run picker)", list_ms);
        report("lpt_review_load (scan + metrics of 3 models)", load_ms);
        report("lpt_store_prediction_scan alone", scan_ms);
        report("lpt_review_select: a class of 1090 images", class_ms);
        report("lpt_review_select: one confusion cell", cell_ms);
    } else {
        fprintf(stderr, "bench_review: %s\n", err.message[0] ? err.message : "a count differs");
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_review: could not remove %s\n", dir);
    return ok ? 0 : 1;
}

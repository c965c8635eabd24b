/* bench_review.c: how long the Review page's read of a run takes (lpt_review.h), on the
 * synthetic project of synth_review.h: 10^4 evaluated test images over 100 classes with both
 * experts (full probability vectors, top-5 lists, scorer weights, prompts: what `lpt eval`
 * records), the size the target is stated for (first paint under 1 s).
 *
 * Times, best and median of ROUNDS each, on a fresh connection: the run list
 * (lpt_review_list_runs), the whole read (lpt_review_load: the store scan and every model's
 * metrics), the store scan alone (lpt_store_prediction_scan with a callback that only counts),
 * and listing the images of the largest class and of one confusion cell (lpt_review_select).
 * A benchmark (`meson test --benchmark review`): it reports and checks only that the reads
 * succeed and count what was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lpt_review.h"
#include "synth_review.h"

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
    LptError err = {0};
    double t0 = now_ms();
    int ok = synth_review_make(path, NULL, &run_id, &err) == LPT_OK;
    printf("review read of %d evaluated images, %d classes, both experts (project made in %.1f "
           "s):\n",
           SYNTH_REVIEW_IMAGES, SYNTH_REVIEW_CLASSES, (now_ms() - t0) / 1e3);
    double list_ms[ROUNDS], load_ms[ROUNDS], scan_ms[ROUNDS], class_ms[ROUNDS], cell_ms[ROUNDS];
    for (int round = 0; ok && round < ROUNDS; round++) {
        LptStore *store = lpt_store_open(path, LPT_STORE_READ_ONLY, &err);
        ok = store != NULL;
        LptReviewRun *runs = NULL;
        size_t n_runs = 0;
        double t = now_ms();
        ok = ok && lpt_review_list_runs(store, &runs, &n_runs, &err) == LPT_OK && n_runs == 1 &&
             runs[0].predictions[LPT_STORE_SPLIT_TEST] == SYNTH_REVIEW_IMAGES;
        list_ms[round] = now_ms() - t;
        free(runs);
        LptReview *review = NULL;
        t = now_ms();
        ok = ok && lpt_review_load(store, run_id, LPT_STORE_SPLIT_TEST, &review, &err) == LPT_OK &&
             lpt_review_image_count(review) == SYNTH_REVIEW_IMAGES;
        load_ms[round] = now_ms() - t;
        int64_t rows = 0;
        t = now_ms();
        ok = ok &&
             lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_TEST, count_row, &rows,
                                       &err) == LPT_OK &&
             rows == SYNTH_REVIEW_IMAGES;
        scan_ms[round] = now_ms() - t;
        int64_t *ids = NULL;
        size_t n = 0;
        t = now_ms();
        ok = ok &&
             lpt_review_select(review, LPT_STORE_EXPERT_FUSED, 0, -1, &ids, &n, &err) == LPT_OK &&
             n == SYNTH_REVIEW_BIG_CLASS;
        class_ms[round] = now_ms() - t;
        free(ids);
        t = now_ms();
        ok =
            ok && lpt_review_select(review, LPT_STORE_EXPERT_FUSED, 0, 1, &ids, &n, &err) == LPT_OK;
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

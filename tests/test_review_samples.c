/* test_review_samples.c: the core of the Review page's queues, calibration and run
 * comparison (lpt_review_samples.h, lpt_review_queue.h, lpt_calibration.h, lpt_run_compare.h).
 *
 * A project made here: 6 classes with 15 / 12 / 6 / 5 / 2 / 1 training images (many above 10,
 * few below 4 under the runs' thresholds: groups many, many, medium, medium, few, few), 160
 * test images, and two runs whose predictions (full probability vectors and top-3 lists of
 * both experts and the fused model, drawn from a seeded generator, peaked towards the label
 * for some images, towards another class for others) are recorded as the trainer records
 * them. Then the test relabels, excludes and re-splits a few test images.
 *
 * Checked against references computed here from the probability vectors (not the top-k lists
 * the module reads): which images each queue holds, in which order, with which score; every
 * ECE and bin against lpt_eval fed the same confidences (whole set at the run's 15 bins and
 * at 10, each group, each source); the flips of run 2 against run 1 per class; bad input.
 *
 * --benchmark (meson test --benchmark): the Review page's data at the size, 10^4
 * evaluated test images of 100 classes in two runs with both experts: the time to read a
 * run's samples, to build the five queues, the 12 calibrations of the ECE table and one
 * comparison (best of 3 each).
 */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_calibration.h"
#include "lpt_eval.h"
#include "lpt_review_queue.h"
#include "lpt_review_samples.h"
#include "lpt_run_compare.h"
#include "lpt_run_config.h"
#include "lpt_store.h"
#include "lpt_trainer.h"

#define TEST_CHECK_BY_LINE
#include "test_check.h"

#define K 6
#define TOPK 3
#define N_TEST 160
#define N_RUNS 2

static LptError err;

/* xorshift64*: the test's own generator. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* What the test recorded, per run and image, and what it changed afterwards. */
static int64_t class_ids[K];
static int64_t test_ids[N_TEST];
static int32_t test_label[N_TEST];   /* the label at prediction time */
static int32_t test_current[N_TEST]; /* after the changes (-1: a class no run has) */
static bool test_kept[N_TEST];       /* still in test and not excluded */
static float probs[N_RUNS][LPT_REVIEW_SOURCES][N_TEST][K];
static bool has_vl[N_RUNS] = {true, false}; /* run 2 is vision only */
static int64_t run_ids[N_RUNS];
static const int64_t train_counts[K] = {15, 12, 6, 5, 2, 1};
static const LptGroup groups[K] = {LPT_GROUP_MANY,   LPT_GROUP_MANY, LPT_GROUP_MEDIUM,
                                   LPT_GROUP_MEDIUM, LPT_GROUP_FEW,  LPT_GROUP_FEW};

static void hash_of(char *out, int i)
{
    snprintf(out, LPT_STORE_HASH_LEN + 1, "%064x", i + 1);
}

/* A confidence vector: peaked at `peak` with weight w, the rest random. */
static void draw_probs(float *p, int peak, double w)
{
    double sum = 0.0, raw[K];
    for (int k = 0; k < K; k++) {
        raw[k] = uniform() + (k == peak ? w : 0.0);
        sum += raw[k];
    }
    for (int k = 0; k < K; k++)
        p[k] = (float)(raw[k] / sum);
}

/* An 8 x 8 gray image of class_id in split at "<split>/<number>.png", its content hash
 * hash_of(n). */
static void add_image(LptStore *s, int64_t class_id, LptStoreSplit split, int number, int n,
                      int64_t *id)
{
    char path[64];
    LptStoreImage im = {
        .width = 8, .height = 8, .channels = 1, .class_id = class_id, .split = split, .path = path};
    snprintf(path, sizeof path, "%s/%d.png", lpt_store_split_name(split), number);
    hash_of(im.content_hash, n);
    OK(lpt_store_image_insert(s, &im, id, &err));
}

static char *run_config(void)
{
    LptRunConfig cfg;
    lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
    cfg.many_above = 10;
    cfg.few_below = 4;
    return lpt_run_config_to_json(&cfg);
}

static bool make_project(LptStore *s)
{
    const char *names[K] = {"good", "scratch", "dent", "bent", "crack", "burr"};
    OK(lpt_store_begin(s, &err));
    for (int k = 0; k < K; k++)
        OK(lpt_store_class_ensure(s, names[k], &class_ids[k], NULL, &err));
    int n = 0;
    for (int k = 0; k < K; k++)
        for (int i = 0; i < train_counts[k]; i++, n++) {
            int64_t id;
            add_image(s, class_ids[k], LPT_STORE_SPLIT_TRAIN, n, n, &id);
        }
    for (int i = 0; i < N_TEST; i++, n++) {
        test_label[i] = (int32_t)(uniform() * K);
        add_image(s, class_ids[test_label[i]], LPT_STORE_SPLIT_TEST, i, n, &test_ids[i]);
    }
    char *cfg = run_config();
    for (int r = 0; r < N_RUNS; r++) {
        LptStoreRun run = {.config_json = cfg, .class_ids = class_ids, .num_classes = K};
        OK(lpt_store_run_create(s, &run, &run_ids[r], &err));
    }
    free(cfg);
    for (int r = 0; r < N_RUNS; r++)
        for (int i = 0; i < N_TEST; i++) {
            /* every source right (half the images), every source sure of one other class
             * (a likely label error), each source its own way, or every source unsure */
            double u = uniform();
            int shared = u < 0.5 ? test_label[i] : (test_label[i] + 1 + (int)(uniform() * 5)) % K;
            for (int src = 0; src < LPT_REVIEW_SOURCES; src++) {
                int peak = u < 0.65 ? shared : (int)(uniform() * K);
                draw_probs(probs[r][src][i], peak, u < 0.85 ? 1.0 + 8.0 * uniform() : 0.0);
            }
            LptStoreTopK tk[LPT_REVIEW_SOURCES][TOPK];
            for (int src = 0; src < LPT_REVIEW_SOURCES; src++)
                lpt_trainer_top_k(probs[r][src][i], K, TOPK, tk[src]);
            float w[2] = {0.25f, 0.75f};
            LptStorePrediction p = {.run_id = run_ids[r],
                                    .image_id = test_ids[i],
                                    .label_index = test_label[i],
                                    .num_classes = K,
                                    .top_k = TOPK,
                                    .fused_topk = tk[LPT_STORE_EXPERT_FUSED],
                                    .fused_probs = probs[r][LPT_STORE_EXPERT_FUSED][i],
                                    .scorer_weights = w};
            for (int e = 0; e < 2; e++)
                if (e == LPT_STORE_EXPERT_VISION || has_vl[r]) {
                    p.expert_topk[e] = tk[e];
                    p.expert_probs[e] = probs[r][e][i];
                }
            OK(lpt_store_prediction_insert(s, &p, &err));
        }
    OK(lpt_store_commit(s, &err));

    /* Afterwards: relabel three images (one to a class made later), exclude one, move one to
     * val. */
    for (int i = 0; i < N_TEST; i++) {
        test_current[i] = test_label[i];
        test_kept[i] = true;
    }
    int64_t late;
    OK(lpt_store_class_ensure(s, "made later", &late, NULL, &err));
    OK(lpt_store_image_relabel(s, test_ids[3], class_ids[(test_label[3] + 1) % K], "t", &err));
    test_current[3] = (test_label[3] + 1) % K;
    /* image 5 to what the fused model says (it leaves the misclassified queue if it was in) */
    int said = lpt_eval_argmax(probs[0][LPT_STORE_EXPERT_FUSED][5], K);
    OK(lpt_store_image_relabel(s, test_ids[5], class_ids[said], "t", &err));
    test_current[5] = said;
    OK(lpt_store_image_relabel(s, test_ids[7], late, "t", &err));
    test_current[7] = -1;
    OK(lpt_store_image_set_excluded(s, test_ids[10], 1, &err));
    test_kept[10] = false;
    OK(lpt_store_image_set_split(s, test_ids[11], LPT_STORE_SPLIT_VAL, &err));
    test_kept[11] = false;
    return failed == 0;
}

/* ---- queues ---- */

/* The reference: membership and score from the full vectors. */
static bool ref_accepts(int r, int i, LptReviewQueueKind kind, double *score)
{
    const int F = LPT_STORE_EXPERT_FUSED, V = LPT_STORE_EXPERT_VISION, L = LPT_STORE_EXPERT_VL;
    int top[3];
    for (int src = 0; src < 3; src++)
        top[src] = src == L && !has_vl[r] ? -1 : lpt_eval_argmax(probs[r][src][i], K);
    double p = probs[r][F][i][top[F]];
    int y = test_current[i];
    switch (kind) {
    case LPT_REVIEW_QUEUE_MISCLASSIFIED:
        *score = p;
        return top[F] != y;
    case LPT_REVIEW_QUEUE_TAIL_MISCLASSIFIED:
        *score = p;
        return top[F] != y && y >= 0 && groups[y] == LPT_GROUP_FEW;
    case LPT_REVIEW_QUEUE_EXPERTS_DISAGREE:
        if (top[L] < 0)
            return false;
        *score = fmin(probs[r][V][i][top[V]], probs[r][L][i][top[L]]);
        return top[V] != top[L];
    case LPT_REVIEW_QUEUE_LOW_CONFIDENCE:
        *score = 1.0 - p;
        return p < 0.5;
    case LPT_REVIEW_QUEUE_LABEL_ERRORS:
        if (top[F] == y || y < 0 || p < 0.5 || top[V] != top[F] ||
            (top[L] >= 0 && top[L] != top[F]))
            return false;
        *score = p * fmin(probs[r][V][i][top[V]], top[L] >= 0 ? probs[r][L][i][top[L]] : 1.0);
        return true;
    }
    return false;
}

static void test_queues(LptStore *s)
{
    for (int r = 0; r < N_RUNS; r++) {
        LptReviewSamples *rs = NULL;
        OK(lpt_review_samples_read(s, run_ids[r], LPT_STORE_SPLIT_TEST, &rs, &err));
        if (!rs)
            return;
        int kept = 0;
        for (int i = 0; i < N_TEST; i++)
            kept += test_kept[i];
        CHECK(rs->count == (size_t)kept);
        CHECK(rs->num_classes == K && rs->ece_bins == 15);
        CHECK(rs->thresholds.many_above == 10 && rs->thresholds.few_below == 4);
        for (int k = 0; k < K; k++)
            CHECK(rs->train_counts[k] == train_counts[k] && rs->groups[k] == groups[k]);
        CHECK(rs->has_source[LPT_STORE_EXPERT_VL] == has_vl[r]);
        CHECK(strcmp(rs->class_names[1], "scratch") == 0);
        CHECK(lpt_review_samples_find(rs, test_ids[10]) == -1); /* excluded */
        CHECK(lpt_review_samples_find(rs, test_ids[11]) == -1); /* in val now */
        int64_t at7 = lpt_review_samples_find(rs, test_ids[7]);
        CHECK(at7 >= 0 && rs->samples[at7].current == -1 &&
              rs->samples[at7].label == test_label[7]);

        for (int kind = 0; kind < LPT_REVIEW_QUEUE_KINDS; kind++) {
            LptReviewQueueEntry *q = NULL;
            size_t n = 0;
            OK(lpt_review_queue_build(rs, (LptReviewQueueKind)kind, &q, &n, &err));
            /* the reference, ordered the same way by selection */
            int want[N_TEST];
            double want_score[N_TEST];
            size_t m = 0;
            for (int i = 0; i < N_TEST; i++) {
                double sc;
                if (test_kept[i] && ref_accepts(r, i, (LptReviewQueueKind)kind, &sc)) {
                    want[m] = i;
                    want_score[m++] = sc;
                }
            }
            for (size_t a = 0; a < m; a++) /* insertion sort: score desc, then id asc */
                for (size_t b = a; b > 0; b--) {
                    bool swap = want_score[b] > want_score[b - 1] ||
                                (want_score[b] == want_score[b - 1] &&
                                 test_ids[want[b]] < test_ids[want[b - 1]]);
                    if (!swap)
                        break;
                    int ti = want[b];
                    want[b] = want[b - 1];
                    want[b - 1] = ti;
                    double ts = want_score[b];
                    want_score[b] = want_score[b - 1];
                    want_score[b - 1] = ts;
                }
            bool same = n == m;
            for (size_t j = 0; same && j < n; j++)
                same = q[j].image_id == test_ids[want[j]] &&
                       rs->samples[q[j].sample].image_id == q[j].image_id &&
                       fabs(q[j].score - want_score[j]) < 1e-12;
            if (!check(same, __LINE__, "queue == reference"))
                printf("  run %d queue %s: %zu entries, reference %zu\n", r + 1,
                       lpt_review_queue_name((LptReviewQueueKind)kind), n, m);
            /* the queues are not trivially empty or full on this data */
            if (kind != LPT_REVIEW_QUEUE_EXPERTS_DISAGREE || has_vl[r])
                CHECK(n > 0 && n < rs->count);
            else
                CHECK(n == 0);
            free(q);
        }
        /* the relabel to the fused class took image 5 out of the misclassified queue */
        double sc;
        int64_t at5 = lpt_review_samples_find(rs, test_ids[5]);
        if (r == 0)
            CHECK(at5 >= 0 && !lpt_review_queue_accepts(rs, &rs->samples[at5],
                                                        LPT_REVIEW_QUEUE_MISCLASSIFIED, &sc));
        CHECK(
            at7 >= 0 &&
            lpt_review_queue_accepts(rs, &rs->samples[at7], LPT_REVIEW_QUEUE_MISCLASSIFIED, &sc) &&
            !lpt_review_queue_accepts(rs, &rs->samples[at7], LPT_REVIEW_QUEUE_LABEL_ERRORS, &sc));
        LptReviewQueueEntry *q = NULL;
        size_t n = 0;
        EXPECT_ERROR(lpt_review_queue_build(rs, (LptReviewQueueKind)9, &q, &n, &err),
                     LPT_ERR_INVALID_ARGUMENT, "no queue 9");
        lpt_review_samples_free(rs);
    }
    CHECK(strcmp(lpt_review_queue_name(LPT_REVIEW_QUEUE_LABEL_ERRORS), "label_errors") == 0);
}

/* ---- calibration ---- */

static void test_calibration(LptStore *s)
{
    LptReviewSamples *rs = NULL;
    OK(lpt_review_samples_read(s, run_ids[0], LPT_STORE_SPLIT_TEST, &rs, &err));
    if (!rs)
        return;
    const int bin_counts[2] = {15, LPT_CALIBRATION_DIAGRAM_BINS};
    for (int b = 0; b < 2; b++)
        for (int src = 0; src < LPT_REVIEW_SOURCES; src++)
            for (int g = LPT_CALIBRATION_ALL_GROUPS; g < LPT_GROUP_COUNT; g++) {
                LptEval *ev = lpt_eval_new(K, train_counts, &(LptGroupThresholds){10, 4},
                                           bin_counts[b], &err);
                for (int i = 0; ev && i < N_TEST; i++)
                    if (test_kept[i] && (g < 0 || groups[test_label[i]] == (LptGroup)g))
                        OK(lpt_eval_add(ev, test_label[i], probs[0][src][i], &err));
                const LptEvalMetrics *m = ev ? lpt_eval_metrics(ev) : NULL;
                LptCalibration *c = NULL;
                OK(lpt_calibration_compute(rs, (LptStoreExpert)src, g, bin_counts[b], &c, &err));
                if (!m || !c) {
                    lpt_eval_free(ev);
                    free(c);
                    continue;
                }
                /* the same sums in the same order: equal to the last bit */
                if (!CHECK(c->images == m->images && c->correct == m->correct && c->ece == m->ece))
                    printf("  source %d group %d bins %d: ece %.17g vs lpt_eval %.17g\n", src, g,
                           bin_counts[b], c->ece, m->ece);
                CHECK(c->images > 0 && c->ece > 0.0 && c->ece < 1.0);
                int64_t total = 0;
                for (int k = 0; k < c->bins; k++) {
                    const LptCalibrationBin *bin = &c->bin[k];
                    total += bin->count;
                    CHECK(bin->count == 0
                              ? isnan(bin->accuracy)
                              : bin->confidence >= (double)k / c->bins - 1e-9 &&
                                    bin->confidence <= (double)(k + 1) / c->bins + 1e-9);
                }
                CHECK(total == c->images);
                lpt_eval_free(ev);
                free(c);
            }
    LptCalibration *c = NULL;
    EXPECT_ERROR(lpt_calibration_compute(rs, LPT_STORE_EXPERT_FUSED, -1, 0, &c, &err),
                 LPT_ERR_INVALID_ARGUMENT, "at least one bin");
    EXPECT_ERROR(lpt_calibration_compute(rs, LPT_STORE_EXPERT_FUSED, 3, 10, &c, &err),
                 LPT_ERR_INVALID_ARGUMENT, "no group 3");
    EXPECT_ERROR(lpt_calibration_compute(rs, (LptStoreExpert)5, -1, 10, &c, &err),
                 LPT_ERR_INVALID_ARGUMENT, "no source 5");
    lpt_review_samples_free(rs);

    /* run 2 has no VL expert: no images, NaN */
    OK(lpt_review_samples_read(s, run_ids[1], LPT_STORE_SPLIT_TEST, &rs, &err));
    OK(lpt_calibration_compute(rs, LPT_STORE_EXPERT_VL, -1, 10, &c, &err));
    CHECK(c && c->images == 0 && isnan(c->ece) && isnan(c->accuracy));
    free(c);
    lpt_review_samples_free(rs);
}

/* ---- run comparison ---- */

static void test_compare(LptStore *s)
{
    LptReviewSamples *before = NULL, *after = NULL;
    OK(lpt_review_samples_read(s, run_ids[0], LPT_STORE_SPLIT_TEST, &before, &err));
    OK(lpt_review_samples_read(s, run_ids[1], LPT_STORE_SPLIT_TEST, &after, &err));
    LptRunCompare *cmp = NULL;
    OK(lpt_run_compare(before, after, &cmp, &err));
    if (!cmp) {
        lpt_review_samples_free(before);
        lpt_review_samples_free(after);
        return;
    }
    int64_t want[K][4] = {{0}}; /* both right, right->wrong, wrong->right, both wrong */
    int64_t common = 0, rw = 0, wr = 0;
    for (int i = 0; i < N_TEST; i++) {
        if (!test_kept[i])
            continue;
        int y = test_label[i];
        bool was = lpt_eval_argmax(probs[0][LPT_STORE_EXPERT_FUSED][i], K) == y;
        bool now = lpt_eval_argmax(probs[1][LPT_STORE_EXPERT_FUSED][i], K) == y;
        int slot = was && now ? 0 : was ? 1 : now ? 2 : 3;
        want[y][slot]++;
        common++;
        rw += was && !now;
        wr += !was && now;
    }
    CHECK(cmp->common == common && cmp->only_before == 0 && cmp->only_after == 0);
    CHECK(cmp->right_to_wrong == rw && cmp->wrong_to_right == wr && rw > 0 && wr > 0);
    CHECK(cmp->num_classes == K && cmp->num_flips == (size_t)(rw + wr));
    for (int k = 0; k < K && cmp->num_classes == K; k++) {
        const LptRunCompareClass *c = &cmp->classes[k];
        CHECK(c->class_id == class_ids[k] && c->both_right == want[k][0] &&
              c->right_to_wrong == want[k][1] && c->wrong_to_right == want[k][2] &&
              c->both_wrong == want[k][3] &&
              c->images == want[k][0] + want[k][1] + want[k][2] + want[k][3]);
    }
    /* right -> wrong first, each part by image id; each flip's fields */
    for (size_t j = 0; j < cmp->num_flips; j++) {
        const LptRunCompareFlip *f = &cmp->flips[j];
        CHECK(f->now_right == (j >= (size_t)rw));
        if (j > 0 && f->now_right == cmp->flips[j - 1].now_right)
            CHECK(f->image_id > cmp->flips[j - 1].image_id);
        int i = 0;
        while (i < N_TEST && test_ids[i] != f->image_id)
            i++;
        CHECK(i < N_TEST && f->class_id == class_ids[test_label[i]]);
        if (i < N_TEST) {
            int pb = lpt_eval_argmax(probs[0][LPT_STORE_EXPERT_FUSED][i], K);
            int pa = lpt_eval_argmax(probs[1][LPT_STORE_EXPERT_FUSED][i], K);
            CHECK(f->before_class_id == class_ids[pb] && f->after_class_id == class_ids[pa] &&
                  f->before_prob == probs[0][LPT_STORE_EXPERT_FUSED][i][pb]);
        }
    }
    free(cmp);

    /* an image only one run has: delete it from `after` by comparing against a copy that
     * lacks its first sample */
    LptReviewSamples fewer = *after;
    fewer.samples = after->samples + 1;
    fewer.count = after->count - 1;
    OK(lpt_run_compare(before, &fewer, &cmp, &err));
    CHECK(cmp && cmp->only_before == 1 && cmp->common == common - 1);
    free(cmp);
    EXPECT_ERROR(lpt_run_compare(before, NULL, &cmp, &err), LPT_ERR_INVALID_ARGUMENT, "NULL");
    lpt_review_samples_free(before);
    lpt_review_samples_free(after);
}

static void test_bad_input(LptStore *s)
{
    LptReviewSamples *rs = NULL;
    EXPECT_ERROR(lpt_review_samples_read(s, 99, LPT_STORE_SPLIT_TEST, &rs, &err),
                 LPT_ERR_INVALID_ARGUMENT, "no run with id 99");
    EXPECT_ERROR(lpt_review_samples_read(s, run_ids[0], LPT_STORE_SPLIT_NONE, &rs, &err),
                 LPT_ERR_INVALID_ARGUMENT, "bad split");
    CHECK(rs == NULL);
    /* a split without predictions: no samples, no error */
    OK(lpt_review_samples_read(s, run_ids[0], LPT_STORE_SPLIT_TRAIN, &rs, &err));
    CHECK(rs && rs->count == 0);
    lpt_review_samples_free(rs);
    /* the image moved to val is the one val prediction */
    OK(lpt_review_samples_read(s, run_ids[0], LPT_STORE_SPLIT_VAL, &rs, &err));
    CHECK(rs && rs->count == 1 && rs->samples[0].image_id == test_ids[11]);
    lpt_review_samples_free(rs);
}

/* ---- --benchmark ---- */

#define BENCH_K 100
#define BENCH_IMAGES 10000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The project: BENCH_K classes of 30 training images, BENCH_IMAGES test images, two runs
 * with full vectors (K <= 1000) of both experts and the fused model, top-5 lists. */
static bool make_bench_project(LptStore *s, int64_t runs[2])
{
    int64_t ids[BENCH_K];
    char name[32];
    OK(lpt_store_begin(s, &err));
    for (int k = 0; k < BENCH_K; k++) {
        snprintf(name, sizeof name, "class-%03d", k);
        OK(lpt_store_class_ensure(s, name, &ids[k], NULL, &err));
    }
    int64_t *test = malloc(BENCH_IMAGES * sizeof *test);
    int32_t *label = malloc(BENCH_IMAGES * sizeof *label);
    int n = 0;
    for (int k = 0; k < BENCH_K; k++)
        for (int i = 0; i < 30; i++, n++) {
            int64_t id;
            add_image(s, ids[k], LPT_STORE_SPLIT_TRAIN, n, n, &id);
        }
    for (int i = 0; i < BENCH_IMAGES; i++, n++) {
        label[i] = i % BENCH_K;
        add_image(s, ids[label[i]], LPT_STORE_SPLIT_TEST, i, n, &test[i]);
    }
    char *cfg = run_config();
    float *p = malloc(3 * BENCH_K * sizeof *p);
    LptStoreTopK tk[3][5];
    for (int r = 0; r < 2; r++) {
        LptStoreRun run = {.config_json = cfg, .class_ids = ids, .num_classes = BENCH_K};
        OK(lpt_store_run_create(s, &run, &runs[r], &err));
        for (int i = 0; i < BENCH_IMAGES && p; i++) {
            LptStorePrediction pr = {.run_id = runs[r],
                                     .image_id = test[i],
                                     .label_index = label[i],
                                     .num_classes = BENCH_K,
                                     .top_k = 5};
            for (int src = 0; src < 3; src++) {
                float *q = p + src * BENCH_K;
                double sum = 0.0;
                int peak = uniform() < 0.6 ? label[i] : (int)(uniform() * BENCH_K);
                for (int k = 0; k < BENCH_K; k++)
                    sum += q[k] = (float)(uniform() + (k == peak ? 20.0 * uniform() : 0.0));
                for (int k = 0; k < BENCH_K; k++)
                    q[k] = (float)(q[k] / sum);
                for (int j = 0; j < 5; j++) { /* top-5, ties to the lower index */
                    int best = -1;
                    for (int c = 0; c < BENCH_K; c++) {
                        bool taken = false;
                        for (int t = 0; t < j; t++)
                            taken = taken || tk[src][t].class_index == c;
                        if (!taken && (best < 0 || q[c] > q[best]))
                            best = c;
                    }
                    tk[src][j] = (LptStoreTopK){best, q[best]};
                }
            }
            pr.expert_topk[0] = tk[0];
            pr.expert_topk[1] = tk[1];
            pr.fused_topk = tk[2];
            pr.expert_probs[0] = p;
            pr.expert_probs[1] = p + BENCH_K;
            pr.fused_probs = p + 2 * BENCH_K;
            OK(lpt_store_prediction_insert(s, &pr, &err));
        }
    }
    OK(lpt_store_commit(s, &err));
    free(cfg);
    free(p);
    free(test);
    free(label);
    return failed == 0;
}

static int benchmark(const char *dir)
{
    char path[160];
    snprintf(path, sizeof path, "%s/bench.lptproj", dir);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    int64_t runs[2];
    double t0 = now_ms();
    if (!s || !make_bench_project(s, runs)) {
        printf("FAIL: making the project: %s\n", err.message);
        lpt_store_close(s);
        return 1;
    }
    printf("project: %d classes, %d test images, 2 runs (made in %.0f ms)\n", BENCH_K, BENCH_IMAGES,
           now_ms() - t0);
    double best[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    for (int rep = 0; rep < 3; rep++) {
        LptReviewSamples *a = NULL, *b = NULL;
        double t = now_ms();
        OK(lpt_review_samples_read(s, runs[1], LPT_STORE_SPLIT_TEST, &a, &err));
        best[0] = fmin(best[0], now_ms() - t);
        OK(lpt_review_samples_read(s, runs[0], LPT_STORE_SPLIT_TEST, &b, &err));
        if (!a || !b)
            break;
        t = now_ms();
        size_t total = 0;
        for (int kind = 0; kind < LPT_REVIEW_QUEUE_KINDS; kind++) {
            LptReviewQueueEntry *q = NULL;
            size_t n = 0;
            OK(lpt_review_queue_build(a, (LptReviewQueueKind)kind, &q, &n, &err));
            total += n;
            free(q);
        }
        best[1] = fmin(best[1], now_ms() - t);
        t = now_ms();
        for (int src = 0; src < LPT_REVIEW_SOURCES; src++)
            for (int g = -1; g < LPT_GROUP_COUNT; g++) {
                LptCalibration *c = NULL;
                OK(lpt_calibration_compute(a, (LptStoreExpert)src, g, a->ece_bins, &c, &err));
                free(c);
            }
        best[2] = fmin(best[2], now_ms() - t);
        t = now_ms();
        LptRunCompare *cmp = NULL;
        OK(lpt_run_compare(b, a, &cmp, &err));
        best[3] = fmin(best[3], now_ms() - t);
        CHECK(a->count == BENCH_IMAGES && total > 0 && cmp && cmp->common == BENCH_IMAGES);
        free(cmp);
        lpt_review_samples_free(a);
        lpt_review_samples_free(b);
    }
    printf("read a run's samples: %.1f ms\nbuild the 5 queues: %.2f ms\n"
           "12 calibrations (3 models x 4 groups): %.2f ms\ncompare two runs: %.2f ms\n",
           best[0], best[1], best[2], best[3]);
    lpt_store_close(s);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    bool bench = argc > 1 && strcmp(argv[1], "--benchmark") == 0;

    char dir[] = "/tmp/lpt-review-samples-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (bench) {
        int status = benchmark(dir);
        char rm[256];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        if (system(rm) != 0)
            printf("note: could not remove %s\n", dir);
        return status;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/p.lptproj", dir);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!s) {
        printf("FAIL: %s\n", err.message);
        return 1;
    }
    if (make_project(s)) {
        test_queues(s);
        test_calibration(s);
        test_compare(s);
        test_bad_input(s);
    }
    lpt_store_close(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

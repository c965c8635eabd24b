/* test_review.c: a run's evaluation read back from the project (lpt_review.h) and the store's
 * prediction scan it stands on (lpt_store_prediction_scan / _counts).
 *
 * Builds projects in a temporary folder, with images inserted directly: seven classes with
 * long-tailed training counts, test images of six of them (one class has none), val images
 * and excluded test images that also have predictions, a test image without one. Runs:
 *   1. LPT++ (both experts, scorer weights, prompts) with full probability vectors drawn at
 *      random around the label, some with exact ties for the top;
 *   2. a linear probe (the vision expert alone);
 *   3. one without predictions;
 *   4. LPT++ over 1001 classes, where the store keeps the top-k lists only.
 * Checks every metric of every model (overall, balanced, many/medium/few, worst class,
 * macro-F1, ECE, per class, confusion) against lpt_eval fed the same vectors in image id
 * order with training counts and thresholds computed here (for run 4, from the full
 * vectors the top-k lists were cut from), bit for bit; the mean scorer weights; the images
 * of a class and of a confusion cell (set and order); the split filter; the list of
 * evaluated runs. Bad input: no such run, a bad split, a stored config that does not parse,
 * a prediction without an expert the run has, selections out of range, a scan whose
 * callback fails. Suite 'unit'. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_review.h"
#include "lpt_trainer.h"
#include "synth_review.h"

static int passed, failed;

static bool expect(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool expect(bool ok, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return true;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    return false;
}

#define CHECK_OK(st, err, what)                                                                    \
    expect((st) == LPT_OK, "%s: %s", what, (err).message)

/* ---- Random numbers (xorshift64*, fixed seed: the test is deterministic) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* ---- The synthetic project ---- */

#define K_SMALL 7
#define K_LARGE 1001
#define TOP_K 3

static const int64_t train_per_class[K_SMALL] = {150, 90, 40, 25, 12, 6, 3};
static const int test_per_class[K_SMALL] = {30, 25, 20, 20, 12, 9, 0};
/* eval thresholds of the runs: many > 50, few < 10 -> many {0, 1}, medium {2, 3, 4}, few {5, 6} */
#define RUN_CONFIG_EXTRA "\"eval\": {\"many_above\": 50, \"few_below\": 10, \"ece_bins\": 10}"

typedef struct Image {
    int64_t id;
    int label; /* class index (class ids are index + 1) */
    LptStoreSplit split;
    bool excluded;
} Image;

#define MAX_IMAGES 1024
static Image images[MAX_IMAGES];
static size_t n_images;
static int64_t class_ids[K_LARGE];

static bool insert_image(LptStore *store, int label, LptStoreSplit split, bool excluded)
{
    LptStoreImage img;
    memset(&img, 0, sizeof img);
    char path[64];
    snprintf(path, sizeof path, "/data/c%d/%zu.png", label, n_images);
    img.path = path;
    snprintf(img.content_hash, sizeof img.content_hash, "%064zx", n_images + 1);
    img.width = img.height = 8;
    img.channels = 1;
    img.class_id = class_ids[label];
    img.split = split;
    LptError err = {0};
    int64_t id = 0;
    LptStatus st = lpt_store_image_insert(store, &img, &id, &err);
    if (st == LPT_OK && excluded)
        st = lpt_store_image_set_excluded(store, id, 1, &err);
    if (!CHECK_OK(st, err, "inserting an image"))
        return false;
    images[n_images++] = (Image){id, label, split, excluded};
    return true;
}

static bool make_classes(LptStore *store, int count)
{
    LptError err = {0};
    for (int k = 0; k < count; k++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", k);
        if (!CHECK_OK(lpt_store_class_ensure(store, name, &class_ids[k], NULL, &err), err,
                      "making a class"))
            return false;
    }
    return true;
}

/* Training, val, test (with the extras of the header comment) images of the small classes. */
static bool make_images(LptStore *store)
{
    bool ok = true;
    for (int k = 0; k < K_SMALL && ok; k++) {
        for (int64_t i = 0; i < train_per_class[k] && ok; i++)
            ok = insert_image(store, k, LPT_STORE_SPLIT_TRAIN, false);
        ok = ok && insert_image(store, k, LPT_STORE_SPLIT_TRAIN, true); /* not counted */
        for (int i = 0; i < test_per_class[k] && ok; i++)
            ok = insert_image(store, k, LPT_STORE_SPLIT_TEST, false);
        for (int i = 0; i < 3 && ok; i++)
            ok = insert_image(store, k, LPT_STORE_SPLIT_VAL, false);
    }
    for (int i = 0; i < 4 && ok; i++)
        ok = insert_image(store, i, LPT_STORE_SPLIT_TEST, true); /* excluded, predicted */
    return ok && insert_image(store, 0, LPT_STORE_SPLIT_TEST, false); /* never predicted */
}

static int64_t make_run(LptStore *store, const char *config, int num_classes)
{
    LptStoreRun run;
    memset(&run, 0, sizeof run);
    run.config_json = config;
    run.class_ids = class_ids;
    run.num_classes = num_classes;
    int64_t id = 0;
    LptError err = {0};
    CHECK_OK(lpt_store_run_create(store, &run, &id, &err), err, "making a run");
    return id;
}

/* Confidences around the label: a softmax of random logits with the label raised; now and
 * then an exact tie between the two highest (the lower index must win everywhere). */
static void draw_probs(float *p, int K, int label, double skill)
{
    double sum = 0.0;
    for (int c = 0; c < K; c++) {
        double z = 3.0 * uniform() + (c == label ? 3.0 * skill : 0.0);
        p[c] = (float)exp(z);
        sum += p[c];
    }
    for (int c = 0; c < K; c++)
        p[c] = (float)(p[c] / sum);
    if (uniform() < 0.1) {
        LptStoreTopK t[2];
        lpt_trainer_top_k(p, K, 2, t);
        p[t[0].class_index] = p[t[1].class_index];
    }
}

/* What run 1 / 2 / 4 recorded per image, kept for the references. */
typedef struct Recorded {
    int64_t image_id;
    int label;
    float *probs[LPT_REVIEW_MODELS]; /* [K] each, NULL for a model the run lacks */
    float weights[LPT_STORE_NUM_EXPERTS];
} Recorded;

static Recorded recorded[MAX_IMAGES];
static size_t n_recorded;

static void free_recorded(void)
{
    for (size_t i = 0; i < n_recorded; i++)
        for (int m = 0; m < LPT_REVIEW_MODELS; m++)
            free(recorded[i].probs[m]);
    n_recorded = 0;
}

/* Records a prediction for every test, val and excluded image of the small classes:
 * experts[e] says which experts the run has; keep_probs whether the vectors are stored. */
static bool record_predictions(LptStore *store, int64_t run_id, int K, const bool *experts,
                               bool keep_probs)
{
    free_recorded();
    LptError err = {0};
    bool ok = CHECK_OK(lpt_store_begin(store, &err), err, "begin");
    for (size_t i = 0; i < n_images && ok; i++) {
        const Image *img = &images[i];
        if (img->split == LPT_STORE_SPLIT_TRAIN || img->id == images[n_images - 1].id)
            continue;
        Recorded *r = &recorded[n_recorded++];
        r->image_id = img->id;
        r->label = img->label;
        float w0 = experts[0] && experts[1] ? (float)uniform() : experts[0] ? 1.0f : 0.0f;
        r->weights[0] = w0;
        r->weights[1] = 1.0f - w0;
        for (int m = 0; m < LPT_REVIEW_MODELS; m++)
            r->probs[m] = m == LPT_STORE_EXPERT_FUSED || experts[m] ? calloc((size_t)K, 4) : NULL;
        for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
            if (experts[e])
                draw_probs(r->probs[e], K, img->label, e == 0 ? 1.0 : 0.6);
        float *fused = r->probs[LPT_STORE_EXPERT_FUSED];
        for (int c = 0; c < K; c++)
            for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
                if (experts[e])
                    fused[c] += r->weights[e] * r->probs[e][c];
        if (uniform() < 0.05) { /* a fused tie, too */
            LptStoreTopK t[2];
            lpt_trainer_top_k(fused, K, 2, t);
            fused[t[0].class_index] = fused[t[1].class_index];
        }
        LptStoreTopK tk[LPT_REVIEW_MODELS][TOP_K];
        int32_t prompts[2] = {1, 3};
        LptStorePrediction p;
        memset(&p, 0, sizeof p);
        p.run_id = run_id;
        p.image_id = img->id;
        p.label_index = img->label;
        p.num_classes = K;
        p.top_k = TOP_K;
        lpt_trainer_top_k(fused, K, TOP_K, tk[LPT_STORE_EXPERT_FUSED]);
        p.fused_topk = tk[LPT_STORE_EXPERT_FUSED];
        p.fused_probs = keep_probs ? fused : NULL;
        for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
            if (!experts[e])
                continue;
            lpt_trainer_top_k(r->probs[e], K, TOP_K, tk[e]);
            p.expert_topk[e] = tk[e];
            p.expert_probs[e] = keep_probs ? r->probs[e] : NULL;
            p.num_prompts[e] = 2;
            p.prompts[e] = prompts;
        }
        p.scorer_weights = r->weights;
        ok = CHECK_OK(lpt_store_prediction_insert(store, &p, &err), err, "recording");
    }
    return ok && CHECK_OK(lpt_store_commit(store, &err), err, "commit");
}

/* ---- References ---- */

static bool in_review(const Recorded *r, LptStoreSplit split)
{
    for (size_t i = 0; i < n_images; i++)
        if (images[i].id == r->image_id)
            return images[i].split == split && !images[i].excluded;
    return false;
}

/* lpt_eval over the recorded vectors of a model, as lpt_review should have fed it. */
static LptEval *reference_eval(int K, int model, LptStoreSplit split)
{
    int64_t train[K_LARGE] = {0};
    for (int k = 0; k < K_SMALL; k++)
        train[k] = train_per_class[k];
    LptGroupThresholds th = {50, 10};
    LptEval *ev = lpt_eval_new(K, train, &th, 10, NULL);
    for (size_t i = 0; ev && i < n_recorded; i++)
        if (in_review(&recorded[i], split))
            lpt_eval_add(ev, recorded[i].label, recorded[i].probs[model], NULL);
    return ev;
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void compare_metrics(const LptEvalMetrics *got, const LptEvalMetrics *want,
                            const char *what)
{
    if (!expect(got != NULL, "%s: no metrics", what) || got->num_classes != want->num_classes)
        return;
    int K = want->num_classes;
    expect(got->images == want->images && got->correct == want->correct,
           "%s: %lld images %lld correct, expected %lld %lld", what, (long long)got->images,
           (long long)got->correct, (long long)want->images, (long long)want->correct);
    const double g[] = {got->overall, got->balanced, got->many, got->medium,
                        got->few,     got->worst_recall, got->macro_f1, got->ece};
    const double w[] = {want->overall, want->balanced, want->many, want->medium,
                        want->few,     want->worst_recall, want->macro_f1, want->ece};
    static const char *const names[] = {"overall", "balanced", "many", "medium",
                                        "few", "worst recall", "macro-F1", "ECE"};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        expect(same(g[i], w[i]), "%s: %s %.17g, expected %.17g", what, names[i], g[i], w[i]);
    expect(got->worst_class == want->worst_class, "%s: worst class %d, expected %d", what,
           got->worst_class, want->worst_class);
    for (int i = 0; i < LPT_GROUP_COUNT; i++)
        expect(got->group_classes[i] == want->group_classes[i], "%s: group %d has %lld classes",
               what, i, (long long)got->group_classes[i]);
    int bad = 0;
    for (int k = 0; k < K; k++) {
        const LptEvalClass *a = &got->classes[k], *b = &want->classes[k];
        bad += a->train_count != b->train_count || a->group != b->group ||
               a->support != b->support || a->predicted != b->predicted ||
               a->correct != b->correct || !same(a->precision, b->precision) ||
               !same(a->recall, b->recall) || !same(a->f1, b->f1);
    }
    expect(bad == 0, "%s: %d classes differ", what, bad);
    expect(memcmp(got->confusion, want->confusion, (size_t)K * K * sizeof *got->confusion) == 0,
           "%s: the confusion matrices differ", what);
}

static void check_models(const LptReview *review, int K, const bool *experts, LptStoreSplit split,
                         const char *what)
{
    for (int m = 0; m < LPT_REVIEW_MODELS; m++) {
        bool has = m == LPT_STORE_EXPERT_FUSED || experts[m];
        char label[96];
        snprintf(label, sizeof label, "%s, %s", what, lpt_store_expert_name((LptStoreExpert)m));
        expect(lpt_review_has_model(review, (LptStoreExpert)m) == has, "%s: has_model", label);
        if (!has) {
            expect(lpt_review_metrics(review, (LptStoreExpert)m) == NULL,
                   "%s: metrics of a model the run lacks", label);
            continue;
        }
        LptEval *ref = reference_eval(K, m, split);
        if (expect(ref != NULL, "%s: reference", label))
            compare_metrics(lpt_review_metrics(review, (LptStoreExpert)m), lpt_eval_metrics(ref),
                            label);
        lpt_eval_free(ref);
    }
}

/* The mean scorer weights per class, and the images of class 2 and of every cell of column 1. */
static void check_weights_and_lists(const LptReview *review, int K, const bool *experts)
{
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        for (int k = 0; k < K_SMALL; k++) {
            double sum = 0.0;
            int n = 0;
            for (size_t i = 0; i < n_recorded; i++)
                if (in_review(&recorded[i], LPT_STORE_SPLIT_TEST) && recorded[i].label == k) {
                    sum += recorded[i].weights[e];
                    n++;
                }
            double want = experts[e] && n > 0 ? sum / n : NAN;
            double got = lpt_review_mean_weight(review, (LptStoreExpert)e, k);
            expect(isnan(want) ? isnan(got) : fabs(got - want) < 1e-9,
                   "mean weight of expert %d, class %d: %g, expected %g", e, k, got, want);
        }
    for (int t = -1; t < K_SMALL; t++) {
        int p = t < 0 ? 1 : t == 2 ? -1 : 1; /* column 1, and all of class 2 */
        int64_t *ids = NULL;
        size_t n = 0;
        LptError err = {0};
        LptStatus st = lpt_review_select(review, LPT_STORE_EXPERT_FUSED, t, p, &ids, &n, &err);
        if (!CHECK_OK(st, err, "select"))
            continue;
        size_t want = 0;
        bool member = true;
        for (size_t i = 0; i < n_recorded; i++) {
            const Recorded *r = &recorded[i];
            int top = lpt_eval_argmax(r->probs[LPT_STORE_EXPERT_FUSED], K);
            if (!in_review(r, LPT_STORE_SPLIT_TEST) || (t >= 0 && r->label != t) ||
                (p >= 0 && top != p))
                continue;
            want++;
            bool found = false;
            for (size_t j = 0; j < n && !found; j++)
                found = ids[j] == r->image_id;
            member = member && found;
        }
        expect(n == want && member, "class %d, predicted %d: %zu images, expected %zu%s", t, p, n,
               want, member ? "" : " (others)");
        bool ordered = true; /* surest first, then by id */
        for (size_t j = 1; j < n; j++) {
            float a = 0, b = 0;
            for (size_t i = 0; i < n_recorded; i++) {
                const float *f = recorded[i].probs[LPT_STORE_EXPERT_FUSED];
                if (recorded[i].image_id == ids[j - 1])
                    a = f[lpt_eval_argmax(f, K)];
                if (recorded[i].image_id == ids[j])
                    b = f[lpt_eval_argmax(f, K)];
            }
            ordered = ordered && (a > b || (a == b && ids[j - 1] < ids[j]));
        }
        expect(ordered, "class %d, predicted %d: not surest first", t, p);
        free(ids);
    }
}

/* ---- The scan's own checks ---- */

typedef struct ScanCount {
    int calls, stop_at;
} ScanCount;

static LptStatus count_rows(const LptStorePrediction *p, void *user, LptError *err)
{
    ScanCount *c = user;
    if (++c->calls == c->stop_at)
        return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "stopped at image %lld",
                             (long long)p->image_id);
    return LPT_OK;
}

static void check_scan(LptStore *store, int64_t run_id)
{
    int64_t counts[LPT_STORE_SPLIT_COUNT];
    LptError err = {0};
    if (!CHECK_OK(lpt_store_prediction_counts(store, run_id, counts, &err), err, "counts"))
        return;
    int64_t want_test = 0, want_val = 3 * K_SMALL;
    for (int k = 0; k < K_SMALL; k++)
        want_test += test_per_class[k];
    expect(counts[LPT_STORE_SPLIT_TEST] == want_test && counts[LPT_STORE_SPLIT_VAL] == want_val &&
               counts[LPT_STORE_SPLIT_TRAIN] == 0 && counts[LPT_STORE_SPLIT_NONE] == 0,
           "counts: test %lld val %lld train %lld none %lld, expected %lld %lld 0 0",
           (long long)counts[LPT_STORE_SPLIT_TEST], (long long)counts[LPT_STORE_SPLIT_VAL],
           (long long)counts[LPT_STORE_SPLIT_TRAIN], (long long)counts[LPT_STORE_SPLIT_NONE],
           (long long)want_test, (long long)want_val);
    ScanCount all = {0, -1};
    CHECK_OK(lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_ANY, count_rows, &all, &err),
             err, "scan of any split");
    expect(all.calls == want_test + want_val, "scan of any split: %d rows, expected %lld",
           all.calls, (long long)(want_test + want_val));
    ScanCount none = {0, -1};
    CHECK_OK(lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_NONE, count_rows, &none,
                                       &err),
             err, "scan of no split");
    expect(none.calls == 0, "scan of images without a split: %d rows", none.calls);
    ScanCount stop = {0, 3};
    LptStatus st =
        lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_TEST, count_rows, &stop, &err);
    expect(st == LPT_ERR_CANCELLED && stop.calls == 3 && strstr(err.message, "stopped at"),
           "a failing callback: status %d after %d calls (%s)", (int)st, stop.calls, err.message);
    st = lpt_store_prediction_scan(store, run_id, (LptStoreSplit)7, count_rows, &stop, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "scan of split 7: status %d", (int)st);
    st = lpt_store_prediction_scan(store, run_id, LPT_STORE_SPLIT_TEST, NULL, NULL, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "scan without a callback: status %d", (int)st);
}

/* ---- The runs ---- */

static void check_review(LptStore *store, int64_t run_id, int K, const bool *experts,
                         const char *what)
{
    for (int s = LPT_STORE_SPLIT_VAL; s <= LPT_STORE_SPLIT_TEST; s++) {
        LptReview *review = NULL;
        LptError err = {0};
        char label[96];
        snprintf(label, sizeof label, "%s on %s", what, lpt_store_split_name((LptStoreSplit)s));
        if (!CHECK_OK(lpt_review_load(store, run_id, (LptStoreSplit)s, &review, &err), err, label))
            continue;
        int64_t want = 0;
        for (size_t i = 0; i < n_recorded; i++)
            want += in_review(&recorded[i], (LptStoreSplit)s);
        expect(lpt_review_run_id(review) == run_id && lpt_review_split(review) == s &&
                   lpt_review_num_classes(review) == K && lpt_review_image_count(review) == want,
               "%s: run %lld split %d K %d images %lld, expected %lld", label,
               (long long)lpt_review_run_id(review), (int)lpt_review_split(review),
               lpt_review_num_classes(review), (long long)lpt_review_image_count(review),
               (long long)want);
        expect(strcmp(lpt_review_class_name(review, 3), "c3") == 0 &&
                   lpt_review_class_id(review, 3) == class_ids[3],
               "%s: class 3 is '%s'", label, lpt_review_class_name(review, 3));
        check_models(review, K, experts, (LptStoreSplit)s, label);
        if (s == LPT_STORE_SPLIT_TEST)
            check_weights_and_lists(review, K, experts);
        lpt_review_free(review);
    }
}

static void check_bad_input(LptStore *store, int64_t run_id, int64_t probe_run)
{
    LptReview *review = NULL;
    LptError err = {0};
    LptStatus st = lpt_review_load(store, 999, LPT_STORE_SPLIT_TEST, &review, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT && review == NULL && strstr(err.message, "999"),
           "no such run: status %d, '%s'", (int)st, err.message);
    st = lpt_review_load(store, run_id, LPT_STORE_SPLIT_ANY, &review, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "split ANY: status %d", (int)st);
    expect(lpt_review_load(store, run_id, LPT_STORE_SPLIT_TEST, NULL, NULL) ==
               LPT_ERR_INVALID_ARGUMENT,
           "no output pointer");

    int64_t bad_config = make_run(store, "{\"bogus\": 1}", K_SMALL);
    st = lpt_review_load(store, bad_config, LPT_STORE_SPLIT_TEST, &review, &err);
    char name[64];
    snprintf(name, sizeof name, "config of run %lld", (long long)bad_config);
    expect(st == LPT_ERR_FORMAT && strstr(err.message, name) && strstr(err.message, "bogus"),
           "a config that does not parse: status %d, '%s'", (int)st, err.message);

    /* an LPT++ run whose prediction lacks the VL expert */
    int64_t lacking = make_run(store, "{\"method\": \"lpt++\"}", K_SMALL);
    float probs[K_SMALL] = {0.5f, 0.1f, 0.1f, 0.1f, 0.1f, 0.05f, 0.05f};
    LptStoreTopK tk[1] = {{0, 0.5f}};
    LptStorePrediction p;
    memset(&p, 0, sizeof p);
    p.run_id = lacking;
    for (size_t i = 0; i < n_images && !p.image_id; i++) /* the first test image read */
        if (images[i].split == LPT_STORE_SPLIT_TEST && !images[i].excluded)
            p.image_id = images[i].id;
    p.num_classes = K_SMALL;
    p.top_k = 1;
    p.fused_topk = tk;
    p.fused_probs = probs;
    p.expert_topk[0] = tk;
    CHECK_OK(lpt_store_prediction_insert(store, &p, &err), err, "recording");
    st = lpt_review_load(store, lacking, LPT_STORE_SPLIT_TEST, &review, &err);
    snprintf(name, sizeof name, "image %lld", (long long)p.image_id);
    expect(st == LPT_ERR_FORMAT && strstr(err.message, name) && strstr(err.message, "vl"),
           "a prediction without the VL expert: status %d, '%s'", (int)st, err.message);

    /* selections out of range */
    if (CHECK_OK(lpt_review_load(store, probe_run, LPT_STORE_SPLIT_TEST, &review, &err), err,
                 "probe run")) {
        static int64_t sentinel;
        int64_t *ids = &sentinel; /* must be reset */
        size_t n = 5;
        st = lpt_review_select(review, LPT_STORE_EXPERT_FUSED, K_SMALL, -1, &ids, &n, &err);
        expect(st == LPT_ERR_INVALID_ARGUMENT && ids == NULL && n == 0,
               "a class out of range: status %d", (int)st);
        st = lpt_review_select(review, LPT_STORE_EXPERT_FUSED, -1, -2, &ids, &n, &err);
        expect(st == LPT_ERR_INVALID_ARGUMENT, "predicted -2: status %d", (int)st);
        st = lpt_review_select(review, LPT_STORE_EXPERT_VL, 0, -1, &ids, &n, &err);
        expect(st == LPT_ERR_INVALID_ARGUMENT, "the VL expert of a linear probe: status %d",
               (int)st);
        expect(isnan(lpt_review_mean_weight(review, LPT_STORE_EXPERT_VL, 0)) &&
                   isnan(lpt_review_mean_weight(review, LPT_STORE_EXPERT_VISION, K_SMALL)),
               "mean weights of a model the run lacks or a class out of range");
        lpt_review_free(review);
    }
}

static void check_run_list(LptStore *store, const int64_t *with, size_t n_with)
{
    LptReviewRun *runs = NULL;
    size_t n = 0;
    LptError err = {0};
    if (!CHECK_OK(lpt_review_list_runs(store, &runs, &n, &err), err, "listing runs"))
        return;
    bool ok = n == n_with;
    for (size_t i = 0; ok && i < n; i++) /* newest first */
        ok = runs[i].run_id == with[n_with - 1 - i] && runs[i].name && !runs[i].name[0];
    expect(ok, "listing runs: %zu runs, expected %zu, newest first", n, n_with);
    if (n > 0)
        expect(runs[0].method == LPT_METHOD_LINEAR_PROBE &&
                   runs[n - 1].method == LPT_METHOD_LPTPP &&
                   runs[0].status == LPT_STORE_RUN_CREATED &&
                   runs[n - 1].predictions[LPT_STORE_SPLIT_VAL] == 3 * K_SMALL,
               "listing runs: method %d status %d val %lld", (int)runs[0].method,
               (int)runs[0].status, (long long)runs[n - 1].predictions[LPT_STORE_SPLIT_VAL]);
    free(runs);
}

int main(void)
{
    char dir[] = "/tmp/lpt-review-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/review.lptproj", dir);
    LptError err = {0};
    LptStore *store = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!expect(store != NULL, "creating the project: %s", err.message))
        return 1;
    if (make_classes(store, K_SMALL) && make_images(store)) {
        const bool both[2] = {true, true}, vision[2] = {true, false};
        int64_t lptpp = make_run(store, "{\"method\": \"lpt++\", " RUN_CONFIG_EXTRA "}", K_SMALL);
        record_predictions(store, lptpp, K_SMALL, both, true);
        check_scan(store, lptpp);
        check_review(store, lptpp, K_SMALL, both, "LPT++");

        int64_t probe =
            make_run(store, "{\"method\": \"linear_probe\", " RUN_CONFIG_EXTRA "}", K_SMALL);
        record_predictions(store, probe, K_SMALL, vision, true);
        check_review(store, probe, K_SMALL, vision, "linear probe");
        make_run(store, "{}", K_SMALL); /* no predictions: not listed */
        const int64_t evaluated[] = {lptpp, probe};
        check_run_list(store, evaluated, 2);
        check_bad_input(store, lptpp, probe);

        if (make_classes(store, K_LARGE)) {
            int64_t large =
                make_run(store, "{\"method\": \"lpt++\", " RUN_CONFIG_EXTRA "}", K_LARGE);
            record_predictions(store, large, K_LARGE, both, false);
            check_review(store, large, K_LARGE, both, "LPT++ over 1001 classes (top-k only)");
        }
        free_recorded();
    }
    lpt_store_close(store);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    printf("review: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

/* test_export.c: export for deployment (issue 8): the deployment prior (lpt_prior.h), the
 * model bundle (lpt_bundle.h), the C library (lpt.h) and the export with its parity check
 * (lpt_export.h); with `--lpt LPT`, `lpt export` and `lpt predict` (with `--onnx --ort DIR
 * --runner JS`, as tests/run_test_onnx.sh passes them, `lpt export --format onnx` checked under
 * ONNX Runtime, target max |delta| 1e-4, no flip); with `--make-example DIR`,
 * the files tests/run_test_example.sh checks the installed library's example program with
 * (the project's folder, made under $TMPDIR, is then left for the script to remove).
 *
 * Data: the tiny long-tailed project of tiny_project.h (4 classes, 24 test images, a timm
 * vision ViT and an OpenCLIP image tower of width 64), trained on the CPU for a few epochs of
 * every phase (LPT++ with both experts and the scorer). The export, evaluation and
 * prediction run on --backend (cpu, or vulkan for the gpu suite).
 *
 * The checks: the prior's text forms, refusals, pi_train per method, the adjustment against
 * the formula written out here; an export passes its parity check (zero flips, max |delta|
 * <= 1e-5), records its row, leaves no temporary file; the bundle opened by the public API
 * predicts every test image (from encoded bytes and from decoded pixels, the same numbers)
 * as the project recorded it: fused probabilities, experts' confidences, scorer weights; with a
 * prior, the recorded probabilities adjusted by the formula; referenced backbones found
 * beside the bundle, refused when missing or changed, embedded ones need nothing; the same for
 * a second project whose vision backbone is a Hugging Face sharded checkpoint's folder (two
 * shards and the index, tiny_write_sharded): its referenced bundle predicts as recorded, the
 * folder copied beside a copy of the bundle is found there, a shard rewritten with other
 * values is refused as changed and a deleted one by its file name; bad bundles
 * (truncated, random bytes, another safetensors file, newer format version, broken metadata,
 * a missing or wrong-sized tensor) and bad images are errors naming what is wrong; predict
 * from four threads at once gives the single-thread results bit for bit.
 */
#include "lpt.h"
#include "lpt_bundle.h"
#include "lpt_export.h"
#include "lpt_image.h"
#include "lpt_prior.h"
#include "lpt_safetensors.h"
#include "lpt_store.h"
#include "lpt_train.h"
#include "test_check.h"
#include "test_util.h"
#include "tiny_project.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static TinyProject tp;
static LptBackendKind backend_kind = LPT_BACKEND_CPU;
static char project[700];

/* LPT++ with both experts and the scorer, a few epochs of each phase; evaluation in batches
 * of 8 (the 24 test images in three chunks). */
static const char *run_json =
    "{\"seed\": 7, \"model\": {\"prompts\": 4, \"pool_size\": 6, \"adapter_rank\": 4,"
    "  \"vl_head_init\": \"random\"},"
    " \"train\": {\"batch_size\": 16, \"micro_batch\": 8, \"phase1_epochs\": 2,"
    "  \"phase2_epochs\": 1, \"lr\": 0.05, \"lr_reference_batch\": 16},"
    " \"scorer\": {\"epochs\": 2, \"batch_size\": 16, \"views\": 1, \"hidden\": 32, \"patience\": "
    "0},"
    " \"eval\": {\"many_above\": 30, \"few_below\": 8, \"batch_size\": 8},"
    " \"loader\": {\"workers\": 2, \"prefetch\": 2, \"cache_mb\": 16}}";

/* ---- small helpers ------------------------------------------------------------------------ */

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Entries of dir whose name contains `part`. */
static int count_entries(const char *dir, const char *part)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c -- '%s'", dir, part);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* The run's test images: ids and paths in the export's order (by id, as the store lists). */
typedef struct TestSet {
    int64_t count;
    int64_t ids[64];
    char paths[64][600];
} TestSet;

static bool test_set(TestSet *ts)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    int64_t *ids = NULL;
    size_t n = 0;
    bool ok = store &&
              lpt_store_image_list(store, 0, LPT_STORE_SPLIT_TEST, 0, &ids, &n, &err) == LPT_OK &&
              n <= 64;
    ts->count = ok ? (int64_t)n : 0;
    for (size_t i = 0; ok && i < n; i++) {
        LptStoreImage *img = NULL;
        ok = lpt_store_image_get(store, ids[i], &img, &err) == LPT_OK && img;
        if (ok) {
            ts->ids[i] = ids[i];
            snprintf(ts->paths[i], sizeof ts->paths[i], "%s", img->path);
        }
        free(img);
    }
    free(ids);
    lpt_store_close(store);
    if (!ok)
        printf("cannot list the test images: %s\n", err.message);
    return ok;
}

/* The recorded prediction of an image in run 1 (free()). */
static LptStorePrediction *recorded(int64_t image_id)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    LptStorePrediction *p = NULL;
    if (store)
        lpt_store_prediction_get(store, 1, image_id, &p, &err);
    lpt_store_close(store);
    return p;
}

static void export_options(LptExportOptions *o, const char *out)
{
    lpt_export_options_init(o);
    o->project = project;
    o->out = out;
    o->backend.kind = backend_kind;
    o->backend.threads = 2;
}

static LptModel *open_model(const char *path, LptError *err)
{
    LptModelOptions mo;
    lpt_model_options_init(&mo);
    mo.backend =
        backend_kind == LPT_BACKEND_VULKAN ? LPT_MODEL_BACKEND_VULKAN : LPT_MODEL_BACKEND_CPU;
    mo.threads = 2;
    return lpt_model_open(path, &mo, err);
}

/* Every test image's file bytes as model inputs (the bytes stay allocated). */
static LptModelImage *test_inputs(const TestSet *ts, void **bytes)
{
    LptModelImage *in = calloc((size_t)ts->count, sizeof *in);
    for (int64_t i = 0; in && i < ts->count; i++) {
        size_t n = 0;
        bytes[i] = tu_read_file(ts->paths[i], &n);
        in[i] = (LptModelImage){.data = bytes[i], .size = n, .name = ts->paths[i]};
    }
    return in;
}

/* ---- the prior ---------------------------------------------------------------------------- */

static void test_prior(void)
{
    const char *names[4] = {"good", "scratch", "dent", "crack"};
    const int64_t counts[4] = {40, 20, 10, 5};
    LptError err = {0};
    LptPrior *p =
        lpt_prior_new("good=0.97, scratch=0.02,*=0.005", names, 4, LPT_METHOD_LPTPP, counts, &err);
    CHECK(p != NULL, "inline prior: %s", err.message);
    const double want[4] = {0.97, 0.02, 0.005, 0.005};
    double worst = 0.0;
    for (int k = 0; p && k < 4; k++) {
        worst = fmax(worst, fabs(p->expected[k] - want[k]));
        worst = fmax(worst, fabs(p->train[k] - 0.25));
        worst = fmax(worst, fabs(p->adjust[k] - (log(want[k]) - log(0.25))));
    }
    CHECK(p && p->train_kind == LPT_TRAIN_PRIOR_UNIFORM && worst < 1e-6,
          "lpt++: uniform pi_train, a_k = log pi_k - log 1/4 (worst %g)", worst);

    /* applying it: p'_k = p_k pi_k / pi_train_k / sum, written out */
    const float probs[2][4] = {{0.5f, 0.3f, 0.1f, 0.1f}, {0.05f, 0.05f, 0.6f, 0.3f}};
    float out[2][4];
    if (p)
        lpt_prior_apply(p->adjust, 4, 2, &probs[0][0], &out[0][0]);
    worst = 0.0;
    for (int r = 0; p && r < 2; r++) {
        double sum = 0.0;
        for (int k = 0; k < 4; k++)
            sum += probs[r][k] * want[k] / 0.25;
        for (int k = 0; k < 4; k++)
            worst = fmax(worst, fabs(out[r][k] - probs[r][k] * want[k] / 0.25 / sum));
    }
    CHECK(p && worst < 1e-7, "adjusted probabilities follow the formula (worst %g)", worst);
    CHECK(p && out[1][0] > out[1][2], "the prior moves the top class of a rare-looking image");
    lpt_prior_free(p);

    /* the baselines assume the training frequencies; expecting exactly those changes nothing */
    p = lpt_prior_new("good=40,scratch=20,dent=10,crack=5", names, 4, LPT_METHOD_LINEAR_PROBE,
                      counts, &err);
    worst = 0.0;
    for (int k = 0; p && k < 4; k++)
        worst = fmax(worst, fabs(p->adjust[k]) + fabs(p->train[k] - counts[k] / 75.0));
    CHECK(p && p->train_kind == LPT_TRAIN_PRIOR_TRAIN_COUNTS && worst < 1e-6,
          "linear probe: pi_train = training counts, a = 0 when expected = trained (%g): %s", worst,
          err.message);
    lpt_prior_free(p);

    /* a file: JSON object, or pairs with comments; counts normalise like fractions */
    char path[700];
    snprintf(path, sizeof path, "%s/prior.json", tp.root);
    const char *json = "{\"good\": 97, \"scratch\": 2, \"dent\": 0.5, \"crack\": 0.5}";
    tu_write_file(path, json, strlen(json));
    char spec[720];
    snprintf(spec, sizeof spec, "@%s", path);
    p = lpt_prior_new(spec, names, 4, LPT_METHOD_LPTPP, counts, &err);
    worst = 0.0;
    for (int k = 0; p && k < 4; k++)
        worst = fmax(worst, fabs(p->expected[k] - want[k]));
    CHECK(p && worst < 1e-12, "a JSON file gives the same prior (%g): %s", worst, err.message);
    lpt_prior_free(p);
    snprintf(path, sizeof path, "%s/prior.txt", tp.root);
    const char *text = "# expected on line 3\ngood = 97\nscratch=2 # rare\n*=0.5\n";
    tu_write_file(path, text, strlen(text));
    snprintf(spec, sizeof spec, "@%s", path);
    p = lpt_prior_new(spec, names, 4, LPT_METHOD_LPTPP, counts, &err);
    worst = 0.0;
    for (int k = 0; p && k < 4; k++)
        worst = fmax(worst, fabs(p->expected[k] - want[k]));
    CHECK(p && worst < 1e-12, "a pairs file with comments gives the same prior: %s", err.message);
    char *pj = p ? lpt_prior_to_json(p, names) : NULL;
    CHECK(pj && strstr(pj, "\"train_prior\":\"uniform\"") && strstr(pj, "\"scratch\":0.02"),
          "prior JSON: %s", pj ? pj : "(none)");
    free(pj);
    lpt_prior_free(p);

    struct {
        const char *spec, *needle;
    } bad[] = {
        {"good=0.9,bolt=0.1,*=1", "no class 'bolt'"},
        {"good=0.9,scratch=0,*=1", "positive"},
        {"good=-1,*=1", "positive"},
        {"good=0.9,scratch=0.1", "no frequency for class 'dent'"},
        {"good=0.5,good=0.5,*=1", "given twice"},
        {"good=lots,*=1", "not name=frequency"},
        {"good", "not name=frequency"},
        {"@/nonexistent/prior.txt", "/nonexistent/prior.txt"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = lpt_prior_new(bad[i].spec, names, 4, LPT_METHOD_LPTPP, counts, &err);
        CHECK(!p && strstr(err.message, bad[i].needle), "'%s' refused with '%s': %s", bad[i].spec,
              bad[i].needle, err.message);
        lpt_prior_free(p);
    }
}

/* ---- training ----------------------------------------------------------------------------- */

/* Makes project <name> (its vision backbone `vision`, NULL: the single file) and trains run 1
 * of it; `project` then names it. */
static bool train_project(const char *name, const char *vision)
{
    if (!tiny_make_project(&tp, name, vision, tp.vl_file, project, sizeof project))
        return false;
    LptTrainOptions o;
    lpt_train_options_init(&o);
    o.project = project;
    o.config_json = run_json;
    o.config_source = "test config";
    o.backend.kind = LPT_BACKEND_CPU;
    o.backend.threads = 2;
    LptError err = {0};
    LptStatus st = lpt_train_run(&o, NULL, &err);
    CHECK(st == LPT_OK, "training the test project: %s", err.message);
    return st == LPT_OK;
}

/* ---- export, bundle, library ---------------------------------------------------------------- */

/* Compares a model's predictions of the test images with the project's records (adjusted by
 * the prior `pi` written out, when given): fused, experts, weights. */
static void compare_with_records(const TestSet *ts, const LptModelResult *res, const double *pi,
                                 const char *what)
{
    double fused = 0.0, experts = 0.0, weights = 0.0, moved = 0.0;
    int flips = 0, missing = 0;
    for (int64_t i = 0; i < ts->count; i++) {
        LptStorePrediction *p = recorded(ts->ids[i]);
        if (!p || !p->fused_probs || !p->scorer_weights) {
            missing++;
            free(p);
            continue;
        }
        const LptModelResult *r = &res[i];
        double ref[TINY_CLASSES], sum = 0.0;
        for (int k = 0; k < TINY_CLASSES; k++)
            sum += ref[k] = p->fused_probs[k] * (pi ? pi[k] * TINY_CLASSES : 1.0);
        int best = 0;
        for (int k = 0; k < TINY_CLASSES; k++) {
            ref[k] /= sum;
            best = ref[k] > ref[best] ? k : best;
            fused = fmax(fused, fabs(ref[k] - r->probs[k]));
            moved = fmax(moved, fabs(ref[k] - p->fused_probs[k]));
        }
        flips += best != r->top[0].class_index;
        for (int e = 0; e < r->num_experts; e++) {
            for (int k = 0; k < TINY_CLASSES; k++)
                experts = fmax(experts, fabs(p->expert_probs[e][k] -
                                             r->expert_probs[(size_t)e * TINY_CLASSES + k]));
            weights = fmax(weights, fabs(p->scorer_weights[e] - r->scorer_weights[e]));
        }
        free(p);
    }
    CHECK(missing == 0 && flips == 0 && fused <= 1e-5 && experts <= 1e-5 && weights <= 1e-5,
          "%s: the library predicts what the project recorded: %d missing, %d flips, max |d| "
          "fused %g, experts %g, weights %g",
          what, missing, flips, fused, experts, weights);
    if (pi)
        CHECK(moved > 1e-3, "%s: the prior changes the probabilities (by up to %g)", what, moved);
    printf("%s: %lld images, max |delta| fused %.3g experts %.3g weights %.3g, %d flips\n", what,
           (long long)ts->count, fused, experts, weights, flips);
}

static void test_export_bundle(const TestSet *ts, char *bundle, size_t size)
{
    snprintf(bundle, size, "%s/parts.lptmodel", tp.root);
    LptExportOptions o;
    export_options(&o, bundle);
    LptExportReport *r = NULL;
    LptError err = {0};
    LptStatus st = lpt_export_run(&o, &r, &err);
    CHECK(st == LPT_OK && r, "export: %s", err.message);
    if (!r)
        return;
    const LptParity *p = &r->parity;
    CHECK(p->checked && p->passed && p->images == ts->count && p->flips == 0 &&
              p->max_abs_diff <= 1e-5 && p->prompt_mismatches == 0,
          "parity: checked %d passed %d, %lld images, %lld flips, max |d| %g, prompts %lld",
          p->checked, p->passed, (long long)p->images, (long long)p->flips, p->max_abs_diff,
          (long long)p->prompt_mismatches);
    printf("export parity (%s): %lld images, max |delta p| %.3g, experts %.3g, weights %.3g, "
           "%lld flips; write %.2f s, parity %.2f s\n",
           p->backend, (long long)p->images, p->max_abs_diff, p->max_abs_diff_experts,
           p->max_abs_diff_weights, (long long)p->flips, r->seconds_write, r->seconds_parity);
    CHECK(r->evaluated_first, "the test images had no records: the run was evaluated first");
    CHECK(exists(bundle) && count_entries(tp.root, ".partial-") == 0,
          "the bundle is in place and no temporary file is left");
    LptStore *store = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    LptStoreExport *rows = NULL;
    size_t n = 0;
    if (store)
        lpt_store_export_list(store, r->run_id, &rows, &n, &err);
    CHECK(n == 1 && rows[0].format == LPT_STORE_EXPORT_BUNDLE &&
              strcmp(rows[0].sha256, r->sha256) == 0 && rows[0].parity_json &&
              strstr(rows[0].parity_json, "\"passed\":true") &&
              strstr(rows[0].parity_json, "\"prior\":null"),
          "the exports row: %zu rows, parity %s", n, n ? rows[0].parity_json : "-");
    free(rows);
    lpt_store_close(store);
    lpt_export_report_free(r);

    /* a second export finds the records and does not evaluate again */
    st = lpt_export_run(&o, &r, &err);
    CHECK(st == LPT_OK && r && !r->evaluated_first && r->parity.passed,
          "a second export uses the records: %s", err.message);
    lpt_export_report_free(r);

    /* a record that disagrees fails the check: nothing replaces the earlier export */
    size_t before_size = 0;
    unsigned char *before = tu_read_file(bundle, &before_size);
    LptStorePrediction *orig = recorded(ts->ids[0]);
    store = lpt_store_open(project, LPT_STORE_OPEN, &err);
    bool tampered = false;
    if (orig && orig->fused_probs && store) {
        float probs[TINY_CLASSES];
        memcpy(probs, orig->fused_probs, sizeof probs);
        probs[0] += 2e-5f; /* more than the target, not enough to flip */
        probs[1] -= 2e-5f;
        LptStorePrediction changed = *orig;
        changed.fused_probs = probs;
        tampered = lpt_store_prediction_insert(store, &changed, &err) == LPT_OK;
    }
    lpt_store_close(store);
    st = tampered ? lpt_export_run(&o, &r, &err) : LPT_ERR_IO;
    size_t after_size = 0;
    unsigned char *after = tu_read_file(bundle, &after_size);
    CHECK(st == LPT_ERR_FORMAT && strstr(err.message, "parity check failed") && r &&
              r->parity.checked && !r->parity.passed && r->parity.max_abs_diff > 1e-5 &&
              r->parity.flips == 0 && r->export_id == 0,
          "a disagreeing record fails the export: %s", err.message);
    CHECK(before && after && before_size == after_size && memcmp(before, after, before_size) == 0 &&
              count_entries(tp.root, ".partial-") == 0,
          "the earlier bundle is left as it was and no temporary file remains");
    lpt_export_report_free(r);
    store = lpt_store_open(project, LPT_STORE_OPEN, &err);
    rows = NULL;
    n = 0;
    if (store && orig)
        CHECK(lpt_store_prediction_insert(store, orig, &err) == LPT_OK &&
                  lpt_store_export_list(store, 1, &rows, &n, &err) == LPT_OK && n == 2,
              "record restored; the failed export recorded nothing (%zu rows): %s", n, err.message);
    free(rows);
    lpt_store_close(store);
    free(orig);
    free(before);
    free(after);

    /* the public API on the bundle: from encoded bytes and from decoded pixels */
    LptModel *m = open_model(bundle, &err);
    CHECK(m != NULL, "lpt_model_open: %s", err.message);
    if (!m)
        return;
    CHECK(lpt_model_num_classes(m) == TINY_CLASSES && lpt_model_num_experts(m) == 2 &&
              strcmp(lpt_model_expert_name(m, 0), "vision") == 0 &&
              strcmp(lpt_model_expert_name(m, 1), "vl") == 0 &&
              strcmp(lpt_model_class_name(m, 3), "c3") == 0 && !lpt_model_class_name(m, 4) &&
              strcmp(lpt_model_metadata(m, "format_version"), "1") == 0 &&
              strstr(lpt_model_metadata(m, "lineage"), "\"run_id\":1") &&
              lpt_model_metadata(m, "prior") == NULL,
          "the model's classes, experts and metadata");
    void *bytes[64] = {0};
    LptModelImage *in = test_inputs(ts, bytes);
    LptModelResult *res = NULL, *res2 = NULL;
    st = lpt_model_predict(m, in, (int)ts->count, 3, &res, &err);
    CHECK(st == LPT_OK, "predict from bytes: %s", err.message);
    if (st == LPT_OK) {
        CHECK(res[0].top_k == 3 && res[0].num_prompts == 2 && res[0].prompts[0] >= 0 &&
                  res[0].prompts[0] < 6 &&
                  fabsf(res[0].scorer_weights[0] + res[0].scorer_weights[1] - 1.0f) < 1e-5f,
              "a result's parts: top-3, two group prompts per expert, weights sum to 1");
        compare_with_records(ts, res, NULL, "bundle from bytes");
    }
    /* the same images decoded by the caller */
    LptImage dec[64];
    LptModelImage px[64];
    bool decoded = true;
    for (int64_t i = 0; i < ts->count; i++) {
        decoded = decoded && lpt_image_decode_file(ts->paths[i], &dec[i], &err) == LPT_OK;
        px[i] = (LptModelImage){.pixels = dec[i].pixels,
                                .width = dec[i].width,
                                .height = dec[i].height,
                                .channels = dec[i].channels};
    }
    st = decoded ? lpt_model_predict(m, px, (int)ts->count, 3, &res2, &err) : LPT_ERR_IO;
    bool same = st == LPT_OK && res;
    for (int64_t i = 0; same && i < ts->count; i++)
        same = memcmp(res[i].probs, res2[i].probs, TINY_CLASSES * sizeof(float)) == 0 &&
               memcmp(res[i].scorer_weights, res2[i].scorer_weights, 2 * sizeof(float)) == 0;
    CHECK(same, "decoded pixels give the same numbers as encoded bytes: %s", err.message);
    for (int64_t i = 0; i < ts->count; i++)
        lpt_image_release(&dec[i]);
    lpt_model_results_free(res);
    lpt_model_results_free(res2);

    /* bad images: named, never a crash */
    const char junk[] = "not an image at all";
    LptModelImage bad[2] = {in[0], {.data = junk, .size = sizeof junk, .name = "junk.png"}};
    st = lpt_model_predict(m, bad, 2, 1, &res, &err);
    CHECK(st != LPT_OK && strstr(err.message, "junk.png"), "undecodable bytes: %s", err.message);
    uint8_t two[4] = {0};
    LptModelImage gray2 = {.pixels = two, .width = 2, .height = 1, .channels = 2};
    st = lpt_model_predict(m, &gray2, 1, 1, &res, &err);
    CHECK(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "image 0"),
          "pixels with 2 channels: %s", err.message);
    for (int64_t i = 0; i < ts->count; i++)
        free(bytes[i]);
    free(in);
    lpt_model_close(m);
}

static void test_prior_export(const TestSet *ts)
{
    char bundle[700];
    snprintf(bundle, sizeof bundle, "%s/prior.lptmodel", tp.root);
    LptExportOptions o;
    export_options(&o, bundle);
    o.prior = "c0=0.7,c1=0.1,*=0.1";
    LptExportReport *r = NULL;
    LptError err = {0};
    LptStatus st = lpt_export_run(&o, &r, &err);
    CHECK(st == LPT_OK && r && r->parity.passed && r->prior_json &&
              strstr(r->parity_json, "\"prior\":{\"expected\""),
          "export with a prior passes parity and records it: %s", err.message);
    lpt_export_report_free(r);
    LptModel *m = open_model(bundle, &err);
    CHECK(m && lpt_model_metadata(m, "prior") &&
              strstr(lpt_model_metadata(m, "prior"), "\"train_prior\":\"uniform\""),
          "the bundle's prior metadata: %s", err.message);
    void *bytes[64] = {0};
    LptModelImage *in = test_inputs(ts, bytes);
    LptModelResult *res = NULL;
    st = m ? lpt_model_predict(m, in, (int)ts->count, 1, &res, &err) : LPT_ERR_IO;
    const double pi[TINY_CLASSES] = {0.7, 0.1, 0.1, 0.1};
    if (st == LPT_OK)
        compare_with_records(ts, res, pi, "bundle with a prior");
    lpt_model_results_free(res);
    for (int64_t i = 0; i < ts->count; i++)
        free(bytes[i]);
    free(in);
    lpt_model_close(m);
    /* a bad prior fails the export before anything is written */
    char nothing[700];
    snprintf(nothing, sizeof nothing, "%s/never.lptmodel", tp.root);
    export_options(&o, nothing);
    o.prior = "c0=1,c9=1";
    st = lpt_export_run(&o, NULL, &err);
    CHECK(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "c9") && !exists(nothing),
          "an unknown class in the prior is refused: %s", err.message);
}

/* The first test image's fused probabilities under the bundle, or false. */
static bool predict_first(const char *bundle, const TestSet *ts, float *probs, LptError *err)
{
    LptModel *m = open_model(bundle, err);
    if (!m)
        return false;
    size_t n = 0;
    void *b = tu_read_file(ts->paths[0], &n);
    LptModelImage in = {.data = b, .size = n};
    LptModelResult *res = NULL;
    bool ok = lpt_model_predict(m, &in, 1, 1, &res, err) == LPT_OK;
    if (ok)
        memcpy(probs, res[0].probs, TINY_CLASSES * sizeof *probs);
    lpt_model_results_free(res);
    free(b);
    lpt_model_close(m);
    return ok;
}

static void test_backbones(const TestSet *ts, const char *bundle)
{
    char embed[700], moved[700], dir[700], copy[800], beside[800];
    snprintf(embed, sizeof embed, "%s/embedded.lptmodel", tp.root);
    LptExportOptions o;
    export_options(&o, embed);
    o.embed_backbones = true;
    LptError err = {0};
    OK(lpt_export_run(&o, NULL, &err), err);
    float ref[TINY_CLASSES], got[TINY_CLASSES];
    bool have_ref = predict_first(bundle, ts, ref, &err);
    CHECK(have_ref, "predicting with the referenced bundle: %s", err.message);

    snprintf(moved, sizeof moved, "%s.moved", tp.vision_file);
    CHECK(rename(tp.vision_file, moved) == 0, "moving the vision backbone away");
    CHECK(!predict_first(bundle, ts, got, &err) && strstr(err.message, "missing") &&
              strstr(err.message, "vision.safetensors") && strstr(err.message, "embed"),
          "a missing backbone is named: %s", err.message);
    CHECK(predict_first(embed, ts, got, &err) && have_ref && memcmp(got, ref, sizeof got) == 0,
          "the embedded bundle needs no backbone file and predicts the same: %s", err.message);

    /* a copy of the bundle with the backbone beside it */
    snprintf(dir, sizeof dir, "%s/deploy", tp.root);
    mkdir(dir, 0777);
    snprintf(copy, sizeof copy, "%s/parts.lptmodel", dir);
    snprintf(beside, sizeof beside, "%s/vision.safetensors", dir);
    CHECK(tu_copy_file(bundle, copy, -1) && tu_copy_file(moved, beside, -1),
          "copying the bundle away");
    CHECK(predict_first(copy, ts, got, &err) && have_ref && memcmp(got, ref, sizeof got) == 0,
          "the backbone is found beside the bundle: %s", err.message);

    /* a different file where the backbone was */
    CHECK(tiny_write_backbone(tp.vision_file, false, false, 99), "writing another backbone");
    CHECK(!predict_first(bundle, ts, got, &err) && strstr(err.message, "has changed"),
          "a changed backbone is refused: %s", err.message);
    unlink(tp.vision_file);
    CHECK(rename(moved, tp.vision_file) == 0, "moving the vision backbone back");
}

/* The checks of test_sharded_backbone on its trained project (`project`), whose vision
 * backbone is the sharded checkpoint folder `dir`. */
static void sharded_checks(const TestSet *ts, const char *dir)
{
    static const char *const files[3] = {"model-00001-of-00002.safetensors",
                                         "model-00002-of-00002.safetensors",
                                         "model.safetensors.index.json"};
    char bundle[700], embed[700], moved[720], deploy[700], copy[800], beside[800], other[700],
        other_dir[700], from[900], to[900];
    snprintf(bundle, sizeof bundle, "%s/sharded.lptmodel", tp.root);
    snprintf(embed, sizeof embed, "%s/sharded-embedded.lptmodel", tp.root);
    LptError err = {0};
    bool ready = true;
    for (int i = 0; ready && i < 2; i++) {
        LptExportOptions o;
        export_options(&o, i ? embed : bundle);
        o.embed_backbones = i == 1;
        LptExportReport *r = NULL;
        ready = lpt_export_run(&o, &r, &err) == LPT_OK && r && r->parity.passed &&
                r->parity.flips == 0 &&
                strstr(r->parity_json,
                       i ? "\"embedded_backbones\":true" : "\"embedded_backbones\":false");
        CHECK(ready, "the %s export on the sharded backbone passes parity: %s",
              i ? "embedded" : "referenced", err.message);
        lpt_export_report_free(r);
    }
    if (!ready)
        return;

    /* the referenced bundle records the folder and predicts every test image as recorded */
    LptModel *m = open_model(bundle, &err);
    const char *model = m ? lpt_model_metadata(m, "model") : NULL;
    CHECK(model && strstr(model, "\"embedded\":false") && strstr(model, "/vision-sharded\""),
          "the bundle references the folder: %s", model ? model : err.message);
    void *bytes[64] = {0};
    LptModelImage *in = test_inputs(ts, bytes);
    LptModelResult *res = NULL;
    if (m && in && lpt_model_predict(m, in, (int)ts->count, 1, &res, &err) == LPT_OK)
        compare_with_records(ts, res, NULL, "bundle on a sharded backbone");
    else
        CHECK(false, "predicting with the sharded backbone: %s", err.message);
    lpt_model_results_free(res);
    for (int64_t i = 0; i < ts->count; i++)
        free(bytes[i]);
    free(in);
    lpt_model_close(m);

    /* the folder moved away: missing for the bundle, not needed by the embedded one */
    float ref[TINY_CLASSES], got[TINY_CLASSES];
    bool have_ref = predict_first(bundle, ts, ref, &err);
    snprintf(moved, sizeof moved, "%s.moved", dir);
    CHECK(have_ref && rename(dir, moved) == 0, "moving the checkpoint folder away: %s",
          err.message);
    CHECK(!predict_first(bundle, ts, got, &err) && strstr(err.message, "missing") &&
              strstr(err.message, "vision-sharded"),
          "a missing checkpoint folder is named: %s", err.message);
    CHECK(predict_first(embed, ts, got, &err) && have_ref && memcmp(got, ref, sizeof got) == 0,
          "the embedded bundle needs no checkpoint and predicts the same: %s", err.message);

    /* a copy of the bundle with the folder copied beside it */
    snprintf(deploy, sizeof deploy, "%s/deploy-sharded", tp.root);
    snprintf(copy, sizeof copy, "%s/sharded.lptmodel", deploy);
    snprintf(beside, sizeof beside, "%s/vision-sharded", deploy);
    bool copied =
        mkdir(deploy, 0777) == 0 && mkdir(beside, 0777) == 0 && tu_copy_file(bundle, copy, -1);
    for (int i = 0; copied && i < 3; i++) {
        snprintf(from, sizeof from, "%s/%s", moved, files[i]);
        snprintf(to, sizeof to, "%s/%s", beside, files[i]);
        copied = tu_copy_file(from, to, -1);
    }
    CHECK(copied, "copying the bundle and the checkpoint folder away");
    CHECK(predict_first(copy, ts, got, &err) && have_ref && memcmp(got, ref, sizeof got) == 0,
          "the checkpoint folder is found beside the bundle: %s", err.message);

    /* its second shard rewritten with other values (another backbone's), then deleted */
    snprintf(other, sizeof other, "%s/other.safetensors", tp.root);
    snprintf(other_dir, sizeof other_dir, "%s/other-sharded", tp.root);
    snprintf(from, sizeof from, "%s/%s", other_dir, files[1]);
    snprintf(to, sizeof to, "%s/%s", beside, files[1]);
    CHECK(tiny_write_backbone(other, false, false, 99) && tiny_write_sharded(other, other_dir) &&
              tu_copy_file(from, to, -1),
          "rewriting the second shard with other values");
    CHECK(!predict_first(copy, ts, got, &err) && err.code == LPT_ERR_FORMAT &&
              strstr(err.message, "has changed") && strstr(err.message, beside),
          "a changed shard is refused: %s", err.message);
    CHECK(unlink(to) == 0, "deleting the second shard");
    CHECK(!predict_first(copy, ts, got, &err) && err.code == LPT_ERR_IO &&
              strstr(err.message, "cannot be read") && strstr(err.message, files[1]) &&
              !strstr(err.message, "has changed"),
          "a deleted shard is named: %s", err.message);
    CHECK(rename(moved, dir) == 0, "moving the checkpoint folder back");
}

/* The vision backbone as a Hugging Face sharded checkpoint's folder: project "sharded" on it,
 * trained as "parts"; `project` names it during the checks and "parts" again after. */
static void test_sharded_backbone(void)
{
    char first[sizeof project], dir[700];
    memcpy(first, project, sizeof project);
    snprintf(dir, sizeof dir, "%s/vision-sharded", tp.root);
    TestSet ts;
    bool ready = tiny_write_sharded(tp.vision_file, dir) && train_project("sharded", dir) &&
                 test_set(&ts) && ts.count == TINY_CLASSES * TINY_TEST_PER_CLASS;
    CHECK(ready, "a project on the sharded vision backbone, trained");
    if (ready)
        sharded_checks(&ts, dir);
    memcpy(project, first, sizeof project);
}

/* A full fine-tuning run trains the backbone: its bundle embeds it unasked, and passes. */
static void test_full_finetune(void)
{
    LptTrainOptions t;
    lpt_train_options_init(&t);
    t.project = project;
    t.new_run = true;
    t.config_json = "{\"seed\": 5, \"method\": \"full_finetune\","
                    " \"train\": {\"batch_size\": 16, \"micro_batch\": 8, \"phase1_epochs\": 1,"
                    "  \"lr\": 0.01, \"lr_reference_batch\": 16},"
                    " \"eval\": {\"batch_size\": 8}, \"loader\": {\"workers\": 2}}";
    t.config_source = "full fine-tuning config";
    t.backend.threads = 2;
    int64_t run = 0;
    LptError err = {0};
    OK(lpt_train_run(&t, &run, &err), err);
    char out[700];
    snprintf(out, sizeof out, "%s/finetuned.lptmodel", tp.root);
    LptExportOptions o;
    export_options(&o, out);
    o.run_id = run;
    LptExportReport *r = NULL;
    LptStatus st = lpt_export_run(&o, &r, &err);
    CHECK(st == LPT_OK && r && r->parity.passed && r->parity.flips == 0 &&
              strstr(r->parity_json, "\"embedded_backbones\":true"),
          "a full fine-tuning run exports with its trained backbone inside: %s", err.message);
    lpt_export_report_free(r);
    LptModel *m = open_model(out, &err);
    CHECK(m && strstr(lpt_model_metadata(m, "model"), "\"embedded\":true") &&
              lpt_model_num_experts(m) == 1,
          "its bundle holds the backbone: %s", err.message);
    lpt_model_close(m);
}

/* ---- bad bundles -------------------------------------------------------------------------- */

/* Copies bundle `src` to `dst` with metadata `key` set to `value` (NULL: removed) and tensor
 * `drop` left out (or, with `shrink`, cut to one value). */
static bool rewrite(const char *src, const char *dst, const char *key, const char *value,
                    const char *drop, bool shrink)
{
    LptError err = {0};
    LptSafetensors *sf = lpt_safetensors_open(src, &err);
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    bool ok = sf && w;
    for (int i = 0; ok && i < lpt_safetensors_metadata_count(sf); i++) {
        const char *k, *v;
        ok = lpt_safetensors_metadata_at(sf, i, &k, &v, &err) == LPT_OK;
        if (ok && key && strcmp(k, key) == 0)
            continue;
        ok = ok && lpt_safetensors_writer_set_metadata(w, k, v, &err) == LPT_OK;
    }
    if (ok && key && value)
        ok = lpt_safetensors_writer_set_metadata(w, key, value, &err) == LPT_OK;
    for (int i = 0; ok && i < lpt_safetensors_count(sf); i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(sf, i);
        bool hit = drop && strcmp(e->name, drop) == 0;
        if (hit && !shrink)
            continue;
        size_t n = hit ? 1 : e->numel;
        float *buf = malloc(e->numel * sizeof *buf);
        ok = buf && lpt_safetensors_read_f32(sf, e, buf, e->numel, &err) == LPT_OK &&
             lpt_safetensors_writer_add_f32(w, e->name, 1, &n, buf, &err) == LPT_OK;
        free(buf);
    }
    ok = ok && lpt_safetensors_write(w, dst, &err) == LPT_OK;
    lpt_safetensors_writer_free(w);
    lpt_safetensors_close(sf);
    if (!ok)
        printf("rewrite %s: %s\n", dst, err.message);
    return ok;
}

static void expect_refused(const char *path, LptStatus code, const char *needle, const char *what)
{
    LptError err = {0};
    LptModel *m = open_model(path, &err);
    CHECK(!m && (code == LPT_OK || err.code == code) && strstr(err.message, needle),
          "%s refused (%s, '%s'): %s", what, lpt_status_name(err.code), needle, err.message);
    lpt_model_close(m);
}

static void test_bad_bundles(const char *bundle)
{
    char path[800];
    snprintf(path, sizeof path, "%s/none.lptmodel", tp.root);
    expect_refused(path, LPT_ERR_IO, "none.lptmodel", "a missing file");
    snprintf(path, sizeof path, "%s/random.lptmodel", tp.root);
    unsigned char noise[4096];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (unsigned char)(i * 2654435761u >> 13);
    tu_write_file(path, noise, sizeof noise);
    expect_refused(path, LPT_ERR_FORMAT, "random.lptmodel", "random bytes");
    size_t n = 0;
    unsigned char *whole = tu_read_file(bundle, &n);
    const double cuts[3] = {0.05, 0.5, 0.999};
    for (int i = 0; whole && i < 3; i++) {
        snprintf(path, sizeof path, "%s/cut%d.lptmodel", tp.root, i);
        tu_write_file(path, whole, (size_t)(n * cuts[i]));
        expect_refused(path, LPT_ERR_FORMAT, "cut", "a truncated bundle");
    }
    free(whole);
    expect_refused(tp.vl_file, LPT_ERR_FORMAT, "not an LPT model bundle", "a backbone file");

    struct {
        const char *key, *value, *drop;
        bool shrink;
        LptStatus code;
        const char *needle, *what;
    } bad[] = {
        {"format_version", "2", NULL, false, LPT_ERR_UNSUPPORTED, "newer", "a newer version"},
        {"format_version", "one", NULL, false, LPT_ERR_FORMAT, "format_version", "a bad version"},
        {"model", "{\"experts\": ", NULL, false, LPT_ERR_FORMAT, "'model' is not valid JSON",
         "broken model JSON"},
        {"classes", NULL, NULL, false, LPT_ERR_FORMAT, "'classes' is missing", "no classes"},
        {"classes", "[\"a\", \"b\", \"c\"]", NULL, false, LPT_ERR_FORMAT, "number of classes",
         "three class names for four head rows"},
        {NULL, NULL, "vision.param.head", false, LPT_ERR_FORMAT, "vision.param.head",
         "a missing tensor"},
        {NULL, NULL, "scorer.w1", true, LPT_ERR_FORMAT, "wrong size of tensor 'scorer.w1'",
         "a wrong-sized tensor"},
        {NULL, NULL, "prior.adjust", false, LPT_OK, "", "no prior tensor (none needed)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.lptmodel", tp.root, i);
        if (!rewrite(bundle, path, bad[i].key, bad[i].value, bad[i].drop, bad[i].shrink)) {
            CHECK(false, "could not make %s", bad[i].what);
            continue;
        }
        if (bad[i].code == LPT_OK) {
            LptError err = {0};
            LptModel *m = open_model(path, &err);
            CHECK(m != NULL, "%s: opens: %s", bad[i].what, err.message);
            lpt_model_close(m);
        } else {
            expect_refused(path, bad[i].code, bad[i].needle, bad[i].what);
        }
    }
    /* a depth out of range inside the model JSON */
    LptError err = {0};
    LptSafetensors *sf = lpt_safetensors_open(bundle, &err);
    cJSON *mj = sf ? cJSON_Parse(lpt_safetensors_metadata(sf, "model")) : NULL;
    lpt_safetensors_close(sf);
    cJSON *vit =
        mj ? cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "experts"), 1), "vit")
           : NULL;
    if (vit)
        cJSON_ReplaceItemInObject(vit, "depth", cJSON_CreateNumber(0));
    char *text = mj ? cJSON_PrintUnformatted(mj) : NULL;
    snprintf(path, sizeof path, "%s/depth0.lptmodel", tp.root);
    CHECK(text && rewrite(bundle, path, "model", text, NULL, false), "making a depth-0 bundle");
    expect_refused(path, LPT_ERR_FORMAT, "model.experts[1].vit.depth", "a depth of 0");
    free(text);
    cJSON_Delete(mj);
}

/* ---- threads ------------------------------------------------------------------------------ */

typedef struct ThreadJob {
    LptModel *m;
    const LptModelImage *in;
    int n;
    const LptModelResult *ref;
    bool same;
} ThreadJob;

static void *predict_thread(void *arg)
{
    ThreadJob *j = arg;
    j->same = true;
    for (int round = 0; round < 3 && j->same; round++) {
        LptModelResult *res = NULL;
        LptError err = {0};
        j->same = lpt_model_predict(j->m, j->in, j->n, 2, &res, &err) == LPT_OK;
        for (int i = 0; j->same && i < j->n; i++)
            j->same = memcmp(res[i].probs, j->ref[i].probs, TINY_CLASSES * sizeof(float)) == 0 &&
                      memcmp(res[i].expert_probs, j->ref[i].expert_probs,
                             2 * TINY_CLASSES * sizeof(float)) == 0 &&
                      res[i].top[0].class_index == j->ref[i].top[0].class_index;
        lpt_model_results_free(res);
    }
    return NULL;
}

static void test_threads(const TestSet *ts, const char *bundle)
{
    LptError err = {0};
    LptModel *m = open_model(bundle, &err);
    void *bytes[64] = {0};
    LptModelImage *in = test_inputs(ts, bytes);
    enum { T = 4 };
    /* each thread its own slice, of a different length (so calls batch the images
     * differently), and its single-thread results first */
    LptModelResult *ref[T] = {0};
    LptStatus st = m ? LPT_OK : LPT_ERR_IO;
    for (int t = 0; st == LPT_OK && t < T; t++)
        st = lpt_model_predict(m, in + t, (int)ts->count - t, 2, &ref[t], &err);
    CHECK(st == LPT_OK, "the single-thread references: %s", err.message);
    pthread_t th[T];
    ThreadJob jobs[T];
    int started = 0;
    for (int t = 0; st == LPT_OK && t < T; t++) {
        jobs[t] = (ThreadJob){m, in + t, (int)ts->count - t, ref[t], false};
        started += pthread_create(&th[t], NULL, predict_thread, &jobs[t]) == 0;
    }
    bool all = started == T;
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
        all = all && jobs[t].same;
    }
    CHECK(st == LPT_OK && all, "four threads predicting at once get the single-thread numbers");
    for (int t = 0; t < T; t++)
        lpt_model_results_free(ref[t]);
    for (int64_t i = 0; i < ts->count; i++)
        free(bytes[i]);
    free(in);
    lpt_model_close(m);
}

/* ---- the command line --------------------------------------------------------------------- */

static void test_cli(const char *lpt, const TestSet *ts)
{
    const char *bk = backend_kind == LPT_BACKEND_VULKAN ? "vulkan" : "cpu";
    char cmd[3000], out[700];
    snprintf(out, sizeof out, "%s/cli.lptmodel", tp.root);
    snprintf(cmd, sizeof cmd,
             "'%s' export --project '%s' --format bundle --out '%s' --backend %s --threads 2 "
             "--json",
             lpt, project, out, bk);
    int code = 0;
    char *text = tu_run_shell(cmd, &code);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    cJSON *par = cJSON_GetObjectItem(j, "parity");
    CHECK(code == 0 && cJSON_IsTrue(cJSON_GetObjectItem(par, "passed")) &&
              cJSON_GetObjectItem(par, "images") &&
              cJSON_GetObjectItem(par, "images")->valuedouble == (double)ts->count &&
              cJSON_GetObjectItem(par, "flips")->valuedouble == 0,
          "lpt export --json (exit %d): %s", code, text ? text : "");
    cJSON_Delete(j);
    free(text);

    /* lpt predict on the test folder: one JSON line per image, as the project recorded */
    snprintf(cmd, sizeof cmd,
             "'%s' predict --model '%s' --backend %s --threads 2 --top-k 2 --batch 5 --json "
             "'%s/test'",
             lpt, out, bk, tp.data_dir);
    text = tu_run_shell(cmd, &code);
    int lines = 0, matched = 0;
    double worst = 0.0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        lines++;
        cJSON *o = cJSON_Parse(line);
        const char *image = cJSON_GetStringValue(cJSON_GetObjectItem(o, "image"));
        cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "top"), 0);
        for (int64_t i = 0; image && top && i < ts->count; i++) {
            const char *tail = strstr(ts->paths[i], "/test/");
            if (!tail || !strstr(image, tail))
                continue;
            LptStorePrediction *p = recorded(ts->ids[i]);
            int k = (int)cJSON_GetObjectItem(top, "index")->valuedouble;
            double prob = cJSON_GetObjectItem(top, "prob")->valuedouble;
            if (p && k == p->fused_topk[0].class_index) {
                matched++;
                worst = fmax(worst, fabs(prob - p->fused_topk[0].prob));
            }
            free(p);
        }
        bool parts = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "experts"), "vl") &&
                     cJSON_GetObjectItem(cJSON_GetObjectItem(o, "scorer_weights"), "vision") &&
                     cJSON_GetArraySize(cJSON_GetObjectItem(o, "top")) == 2;
        CHECK(parts, "a predict line has the top-2, the experts and the weights: %s", line);
        cJSON_Delete(o);
    }
    CHECK(code == 0 && lines == ts->count && matched == ts->count && worst <= 1e-5,
          "lpt predict DIR: exit %d, %d lines, %d top-1 as recorded, max |d| %g", code, lines,
          matched, worst);
    free(text);

    /* a bad image among good ones: its error line, the others still predicted, exit 1 */
    char junk[700];
    snprintf(junk, sizeof junk, "%s/junk.png", tp.root);
    tu_write_file(junk, "junk", 4);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s' --json '%s' '%s' '%s' 2>/dev/null", lpt,
             out, ts->paths[0], junk, ts->paths[1]);
    text = tu_run_shell(cmd, &code);
    CHECK(code == 1 && text && strstr(text, "\"error\"") && strstr(text, "junk.png") &&
              strstr(strstr(text, "junk.png"), "\"top\""),
          "a bad image is reported and the rest predicted (exit %d): %s", code, text ? text : "");
    free(text);

    /* usage errors and a missing model */
    snprintf(cmd, sizeof cmd, "'%s' export --project '%s' 2>/dev/null", lpt, project);
    free(tu_run_shell(cmd, &code));
    CHECK(code == 2, "lpt export without --format/--out: exit %d", code);
    snprintf(cmd, sizeof cmd, "'%s' predict --model '%s/none.lptmodel' '%s' 2>&1", lpt, tp.root,
             ts->paths[0]);
    text = tu_run_shell(cmd, &code);
    CHECK(code == 1 && text && strstr(text, "none.lptmodel"), "a missing model (exit %d): %s", code,
          text ? text : "");
    free(text);

    /* ONNX: the fused graph is written; its runtime check is the ONNX tests' */
    snprintf(out, sizeof out, "%s/cli.onnx", tp.root);
    snprintf(cmd, sizeof cmd, "'%s' export --project '%s' --format onnx --out '%s' --json", lpt,
             project, out);
    text = tu_run_shell(cmd, &code);
    j = text ? cJSON_Parse(text) : NULL;
    par = cJSON_GetObjectItem(j, "parity");
    CHECK(code == 0 && exists(out) && cJSON_IsFalse(cJSON_GetObjectItem(par, "checked")),
          "lpt export --format onnx (exit %d): %s", code, text ? text : "");
    cJSON_Delete(j);
    free(text);
}

/* `lpt export --format onnx` checked under ONNX Runtime (ort: onnxruntime-node's folder),
 * without and with a prior. */
static void test_onnx_parity(const char *lpt, const char *ort, const char *runner,
                             const TestSet *ts)
{
    const char *priors[2] = {NULL, "c0=0.7,*=0.1"};
    for (int i = 0; i < 2; i++) {
        char cmd[3000], out[700];
        snprintf(out, sizeof out, "%s/parity%d.onnx", tp.root, i);
        snprintf(cmd, sizeof cmd,
                 "'%s' export --project '%s' --format onnx --out '%s' --onnx-runtime '%s' "
                 "--onnx-runner '%s' %s%s%s --json",
                 lpt, project, out, ort, runner, priors[i] ? "--prior '" : "",
                 priors[i] ? priors[i] : "", priors[i] ? "'" : "");
        int code = 0;
        char *text = tu_run_shell(cmd, &code);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        cJSON *par = cJSON_GetObjectItem(j, "parity");
        cJSON *images = cJSON_GetObjectItem(par, "images");
        cJSON *diff = cJSON_GetObjectItem(par, "max_abs_diff");
        cJSON *flips = cJSON_GetObjectItem(par, "flips");
        CHECK(code == 0 && cJSON_IsTrue(cJSON_GetObjectItem(par, "passed")) && images &&
                  images->valuedouble == (double)ts->count && diff && diff->valuedouble <= 1e-4 &&
                  flips && flips->valuedouble == 0 && exists(out),
              "ONNX export %s a prior checked under ONNX Runtime (exit %d): %s",
              priors[i] ? "with" : "without", code, text ? text : "");
        if (diff && flips && images)
            printf("ONNX Runtime vs the project's predictions%s: %g images, max |delta p| %.3g, "
                   "experts %.3g, weights %.3g, %g flips\n",
                   priors[i] ? " (prior)" : "", images->valuedouble, diff->valuedouble,
                   cJSON_GetObjectItem(par, "max_abs_diff_experts")->valuedouble,
                   cJSON_GetObjectItem(par, "max_abs_diff_weights")->valuedouble,
                   flips->valuedouble);
        cJSON_Delete(j);
        free(text);
    }
}

/* ---- the example's inputs ----------------------------------------------------------------- */

/* DIR/model.lptmodel, DIR/images.txt (one test image path a line) and DIR/expected.txt (what
 * docs/example/lpt_example.c must print for them: path, class, probability, weights). */
static int make_example(const char *dir, const TestSet *ts)
{
    char bundle[800], path[800];
    snprintf(bundle, sizeof bundle, "%s/model.lptmodel", dir);
    LptExportOptions o;
    export_options(&o, bundle);
    LptError err = {0};
    if (lpt_export_run(&o, NULL, &err) != LPT_OK) {
        printf("export: %s\n", err.message);
        return 1;
    }
    LptModel *m = open_model(bundle, &err);
    void *bytes[64] = {0};
    LptModelImage *in = test_inputs(ts, bytes);
    LptModelResult *res = NULL;
    if (!m || lpt_model_predict(m, in, (int)ts->count, 1, &res, &err) != LPT_OK) {
        printf("predict: %s\n", err.message);
        return 1;
    }
    snprintf(path, sizeof path, "%s/images.txt", dir);
    FILE *list = fopen(path, "w");
    snprintf(path, sizeof path, "%s/expected.txt", dir);
    FILE *want = fopen(path, "w");
    for (int64_t i = 0; list && want && i < ts->count; i++) {
        fprintf(list, "%s\n", ts->paths[i]);
        fprintf(want, "%s\t%s\t%.6f", ts->paths[i],
                lpt_model_class_name(m, res[i].top[0].class_index), res[i].top[0].prob);
        for (int e = 0; e < res[i].num_experts; e++)
            fprintf(want, "\t%s=%.6f", lpt_model_expert_name(m, e), res[i].scorer_weights[e]);
        fprintf(want, "\n");
    }
    bool ok = list && want;
    if (list)
        ok = fclose(list) == 0 && ok;
    if (want)
        ok = fclose(want) == 0 && ok;
    lpt_model_results_free(res);
    for (int64_t i = 0; i < ts->count; i++)
        free(bytes[i]);
    free(in);
    lpt_model_close(m);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *lpt = NULL, *example = NULL, *ort = NULL, *runner = NULL;
    bool onnx = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--onnx") == 0) {
            onnx = true;
        } else if (strcmp(argv[i], "--ort") == 0 && i + 1 < argc) {
            ort = argv[++i];
        } else if (strcmp(argv[i], "--runner") == 0 && i + 1 < argc) {
            runner = argv[++i];
        } else if (strcmp(argv[i], "--checker") == 0 && i + 1 < argc) {
            i++; /* run_test_onnx.sh passes it; the structural checks are test_onnx's */
        } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            backend_kind = strcmp(argv[++i], "vulkan") == 0 ? LPT_BACKEND_VULKAN : LPT_BACKEND_CPU;
        } else if (strcmp(argv[i], "--lpt") == 0 && i + 1 < argc) {
            lpt = argv[++i];
        } else if (strcmp(argv[i], "--make-example") == 0 && i + 1 < argc) {
            example = argv[++i];
        } else {
            fprintf(stderr, "usage: test_export [--backend cpu|vulkan] [--lpt LPT [--onnx --ort "
                            "DIR --runner JS]] [--make-example DIR]\n");
            return 2;
        }
    }
    if (backend_kind == LPT_BACKEND_VULKAN) {
        LptError err = {0};
        if (lpt_device_list(NULL, 0, &err) <= 0) {
            printf("no Vulkan device: skipped\n");
            return 77;
        }
    }
    if (onnx && (!lpt || !ort || !runner)) {
        printf("no ONNX Runtime (node/npm unavailable): the ONNX parity check is skipped\n");
        return 77;
    }
    if (!tiny_setup(&tp, "export"))
        return 1;
    int rc = 1;
    TestSet ts;
    if (!example && !lpt)
        test_prior();
    if (train_project("parts", NULL) && test_set(&ts) &&
        ts.count == TINY_CLASSES * TINY_TEST_PER_CLASS) {
        if (example) {
            rc = make_example(example, &ts);
        } else if (lpt && onnx) {
            test_onnx_parity(lpt, ort, runner, &ts);
        } else if (lpt) {
            test_cli(lpt, &ts);
        } else {
            char bundle[700];
            test_export_bundle(&ts, bundle, sizeof bundle);
            test_prior_export(&ts);
            test_backbones(&ts, bundle);
            test_sharded_backbone();
            test_bad_bundles(bundle);
            test_threads(&ts, bundle);
            test_full_finetune();
        }
    } else {
        failed++;
    }
    if (getenv("LPT_TEST_KEEP") || example) /* the example's images and backbones stay */
        printf("kept %s\n", tp.root);
    else
        tu_remove_tree(tp.root);
    if (example)
        return rc;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

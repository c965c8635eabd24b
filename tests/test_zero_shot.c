/* test_zero_shot.c: zero-shot accuracy of a CLIP backbone (lpt_zero_shot.h) against PyTorch.
 *
 * The fixture (tests/fixtures/zero_shot, made by fixtures/make_zero_shot_fixtures.py): a tiny
 * CLIP with both towers in OpenAI's names with open_clip_config.json, its tokenizer beside it,
 * 14 PNG images, and PyTorch's cosines and answers for four classes (one with a description).
 * Checked: each image's answer and its cosine, per-class recall, overall and balanced, in
 * batches of 4 (a short last batch) and of 32 (one batch); progress; cancel; the tokenizer
 * search; a template of the caller's; and bad input: a backbone without a text tower, no
 * vocabulary beside it, an image that cannot be decoded, a label out of range.
 *
 * Usage: test_zero_shot --fixtures DIR [--backend cpu|vulkan]
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_safetensors.h"
#include "lpt_zero_shot.h"

#define TEST_CHECK_BY_LINE
#include "test_check.h"

#define MAX_IMAGES 64
#define MAX_CLASSES 8

static LptError err;

/* The fixture's expectations. */
static int n_images, n_classes;
static char image_paths[MAX_IMAGES][512];
static const char *paths[MAX_IMAGES];
static int32_t labels[MAX_IMAGES], answers[MAX_IMAGES];
static float cosines[MAX_IMAGES * MAX_CLASSES];
static char class_store[MAX_CLASSES][64], desc_store[MAX_CLASSES][64];
static const char *classes[MAX_CLASSES], *descriptions[MAX_CLASSES];
static char backbone[512];
static LptBackendOptions backend;

/* Copies a JSON array of strings into store/ptrs; returns the count. */
static int json_strings(const char *text, char store[][64], const char **ptrs, int max)
{
    cJSON *a = cJSON_Parse(text ? text : "");
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (n < max && cJSON_IsString(it)) {
            snprintf(store[n], 64, "%s", it->valuestring);
            ptrs[n] = store[n];
            n++;
        }
    }
    cJSON_Delete(a);
    return n;
}

static bool read_expected(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    if (!CHECK(st != NULL)) {
        printf("  -> %s\n", err.message);
        return false;
    }
    n_classes =
        json_strings(lpt_safetensors_metadata(st, "classes"), class_store, classes, MAX_CLASSES);
    json_strings(lpt_safetensors_metadata(st, "descriptions"), desc_store, descriptions,
                 MAX_CLASSES);
    char names[MAX_IMAGES][64];
    const char *name_ptrs[MAX_IMAGES];
    n_images = json_strings(lpt_safetensors_metadata(st, "images"), names, name_ptrs, MAX_IMAGES);
    for (int i = 0; i < n_images; i++) {
        snprintf(image_paths[i], sizeof image_paths[i], "%s/%s", dir, names[i]);
        paths[i] = image_paths[i];
    }
    const LptSafetensorsEntry *c = lpt_safetensors_find(st, "cosines");
    const LptSafetensorsEntry *l = lpt_safetensors_find(st, "labels");
    const LptSafetensorsEntry *a = lpt_safetensors_find(st, "answers");
    bool ok = CHECK(c && l && a && n_classes >= 2 && n_images >= 8 &&
                    c->numel == (size_t)n_images * n_classes && l->numel == (size_t)n_images &&
                    a->numel == (size_t)n_images) &&
              CHECK(lpt_safetensors_read_f32(st, c, cosines, c->numel, &err) == LPT_OK);
    if (ok) {
        memcpy(labels, l->data, l->nbytes);
        memcpy(answers, a->data, a->nbytes);
    }
    lpt_safetensors_close(st);
    return ok;
}

typedef struct Progress {
    int calls;
    int64_t last, total;
    bool monotonic;
    int stop_after; /* return false on this call (0: never) */
} Progress;

static bool on_progress(int64_t done, int64_t total, void *user)
{
    Progress *p = user;
    p->calls++;
    p->monotonic = p->monotonic && done > p->last && done <= total;
    p->last = done;
    p->total = total;
    return p->stop_after == 0 || p->calls < p->stop_after;
}

static void options(LptZeroShotOptions *o, Progress *p, int batch)
{
    lpt_zero_shot_options_init(o);
    o->backbone = backbone;
    o->num_classes = n_classes;
    o->class_names = classes;
    o->descriptions = descriptions;
    o->count = n_images;
    o->paths = paths;
    o->labels = labels;
    o->batch_size = batch;
    o->backend = backend;
    o->progress = on_progress;
    o->user = p;
    *p = (Progress){.monotonic = true};
}

static void test_against_pytorch(int batch)
{
    LptZeroShotOptions o;
    Progress p;
    options(&o, &p, batch);
    LptZeroShotResult *r = NULL;
    LptStatus st = lpt_zero_shot_run(&o, &r, &err);
    if (!CHECK(st == LPT_OK && r != NULL)) {
        printf("  -> %s\n", err.message);
        return;
    }
    double worst = 0.0;
    int64_t support[MAX_CLASSES] = {0}, correct[MAX_CLASSES] = {0}, right = 0;
    for (int i = 0; i < n_images; i++) {
        if (!CHECK(r->predicted[i] == answers[i]))
            printf("  image %d: answer %d, PyTorch %d\n", i, r->predicted[i], answers[i]);
        worst = fmax(worst, fabs(r->cosine[i] - cosines[i * n_classes + answers[i]]));
        support[labels[i]]++;
        correct[labels[i]] += answers[i] == labels[i];
        right += answers[i] == labels[i];
    }
    if (!CHECK(worst < 2e-5))
        printf("  cosine max abs error %.3g\n", worst);
    double balanced = 0.0;
    int with_support = 0;
    for (int k = 0; k < n_classes; k++) {
        CHECK(r->support[k] == support[k]);
        if (support[k] == 0) {
            CHECK(isnan(r->recall[k]));
            continue;
        }
        double recall = (double)correct[k] / (double)support[k];
        CHECK(fabs(r->recall[k] - recall) < 1e-12);
        balanced += recall;
        with_support++;
    }
    CHECK(r->images == n_images && r->correct == right);
    CHECK(fabs(r->overall - (double)right / n_images) < 1e-12);
    CHECK(fabs(r->balanced - balanced / with_support) < 1e-12);
    CHECK(r->overall > 0.0 && r->overall < 1.0); /* the fixture's labels make it neither */
    int batches = (n_images + batch - 1) / batch;
    CHECK(p.calls == batches && p.monotonic && p.last == n_images && p.total == n_images);
    printf("batch %d: %d images, overall %.4f, balanced %.4f, cosine max abs error %.2g\n", batch,
           n_images, r->overall, r->balanced, worst);
    lpt_zero_shot_result_free(r);
}

static void test_cancel_and_bad_input(const char *dir)
{
    LptZeroShotOptions o;
    Progress p;
    LptZeroShotResult *r = NULL;
    options(&o, &p, 4);
    p.stop_after = 2;
    EXPECT_ERROR(lpt_zero_shot_run(&o, &r, &err), LPT_ERR_CANCELLED, "cancelled");
    CHECK(r == NULL && p.calls == 2);

    /* the vocabulary is found beside the backbone, and nowhere else */
    char *tok = lpt_zero_shot_find_tokenizer(backbone);
    CHECK(tok && strstr(tok, "bpe_simple_vocab_16e6.txt") != NULL);
    free(tok);
    char tmp[] = "/tmp/lpt-zero-shot-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    char copy[600], cmd[1600];
    snprintf(copy, sizeof copy, "%s/clip.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/open_clip_config.json' '%s/'", backbone, dir, tmp);
    CHECK(system(cmd) == 0);
    CHECK(lpt_zero_shot_find_tokenizer(copy) == NULL);
    options(&o, &p, 4);
    o.backbone = copy;
    EXPECT_ERROR(lpt_zero_shot_run(&o, &r, &err), LPT_ERR_IO, "no CLIP vocabulary beside");
    /* ... and with it copied there, the same answers */
    snprintf(cmd, sizeof cmd, "cp '%s/bpe_simple_vocab_16e6.txt' '%s/'", dir, tmp);
    CHECK(system(cmd) == 0);
    o.count = 2;
    CHECK(lpt_zero_shot_run(&o, &r, &err) == LPT_OK && r && r->predicted[1] == answers[1]);
    lpt_zero_shot_result_free(r);
    r = NULL;

    /* a template that gives other embeddings changes the answers' cosines */
    const char *templates[1] = {"itaaaaa bc {} the cat"};
    options(&o, &p, 32);
    o.templates = templates;
    o.n_templates = 1;
    CHECK(lpt_zero_shot_run(&o, &r, &err) == LPT_OK && r &&
          fabsf(r->cosine[0] - cosines[answers[0]]) > 1e-3f);
    lpt_zero_shot_result_free(r);
    r = NULL;

    /* an image that is not one, named in the message */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/not-an-image.png", tmp);
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("text", f);
        fclose(f);
    }
    const char *bad_paths[3] = {paths[0], bad, paths[2]};
    options(&o, &p, 2);
    o.paths = bad_paths;
    o.count = 3;
    EXPECT_ERROR(lpt_zero_shot_run(&o, &r, &err), LPT_ERR_FORMAT, "not-an-image.png");
    CHECK(r == NULL);

    /* a label out of range */
    int32_t bad_labels[2] = {0, 99};
    options(&o, &p, 2);
    o.labels = bad_labels;
    o.count = 2;
    EXPECT_ERROR(lpt_zero_shot_run(&o, &r, &err), LPT_ERR_INVALID_ARGUMENT, "label 99");

    /* a backbone without a text tower: the vision demo backbone (timm names) */
    char vision[600];
    snprintf(vision, sizeof vision, "%s/../../../data/backbones/demo-vit-mnist.safetensors", dir);
    options(&o, &p, 2);
    o.backbone = vision;
    EXPECT_ERROR(lpt_zero_shot_run(&o, &r, &err), LPT_ERR_FORMAT, "no CLIP text tower");

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    lpt_backend_options_init(&backend);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            if (!lpt_backend_kind_parse(argv[++i], &backend.kind)) {
                fprintf(stderr, "unknown backend '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s --fixtures DIR [--backend cpu|vulkan]\n", argv[0]);
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: %s --fixtures DIR [--backend cpu|vulkan]\n", argv[0]);
        return 2;
    }
    if (backend.kind == LPT_BACKEND_VULKAN) {
        LptBackend *be = lpt_backend_new(&backend, &err);
        if (!be && err.code == LPT_ERR_NO_DEVICE) {
            printf("no Vulkan device: skipped\n");
            return 77;
        }
        lpt_backend_free(be);
    }
    snprintf(backbone, sizeof backbone, "%s/clip.safetensors", dir);
    if (read_expected(dir)) {
        test_against_pytorch(4);
        test_against_pytorch(32);
        test_cancel_and_bad_input(dir);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

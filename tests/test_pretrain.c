/* test_pretrain.c: `lpt pretrain` (src/core/lpt_pretrain.c) on a synthetic dataset, on one
 * backend (--backend cpu|vulkan; --cli LPT also runs the command line).
 *
 * The dataset, made in a temp dir at run time: three classes of 20 x 20 gray PGM images
 * (horizontal bars, vertical bars, a bright square, each at a random phase or place, with
 * noise), 30 training and 12 test images per class, in train.txt (with a UTF-8 BOM and CRLF
 * line ends) and test.txt, each with a comment, a blank line, blanks around the fields, and
 * an absolute path among the lines. Checks:
 *  - a few epochs of a tiny ViT: the training loss falls (the last epoch's mean below 0.7 of
 *    the first's), test accuracy is far above chance (>= 0.8 for 1/3 chance), the progress
 *    callback sees every step and one epoch_done call per epoch with the accuracy;
 *  - CPU: the same seed gives the same losses and accuracy bit for bit;
 *  - the written file: timm names and shapes, no head, the metadata (format, settings, the
 *    caller's pairs); lpt_weights reads it as timm, and the loaded backbone gives the trained
 *    model's features exactly;
 *  - bad input: a missing directory, a line without a label, a test label no training image
 *    has, a model with prompts, a CLIP-style write, a cancel from the progress callback;
 *  - with --cli: `lpt pretrain --config tiny --epochs 1 --json` writes a file that loads, and
 *    bad options exit 2.
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_pretrain.h"
#include "lpt_safetensors.h"
#include "lpt_weights.h"
#include "pretrain_test_util.h"
#include "test_util.h"

static const char *const class_names[3] = {"bars_h", "bars_v", "square"};

/* DIR/{train,test}/<class>/<i>.pgm (20 x 20, 30 training and 12 test images a class) and the
 * two untidy lists; `extra` is appended to test.txt. */
static bool make_dataset(const char *dir, const char *extra)
{
    PtDataset set = {.side = 20,
                     .period = 4,
                     .square = 7,
                     .place = 8,
                     .train_per_class = 30,
                     .test_per_class = 12,
                     .class_names = class_names,
                     .seed = 12345,
                     .untidy = true};
    return pt_write_dataset(dir, &set, extra);
}

/* ---- runs ------------------------------------------------------------------------------- */

static bool on_progress(const LptPretrainProgress *p, void *user)
{
    return pt_seen_tick(user, p->epoch_done, p->steps, p->test_accuracy);
}

static void tiny_options(LptPretrainOptions *o, const char *dir, PtSeen *seen)
{
    lpt_pretrain_options_init(o, LPT_PRETRAIN_TINY);
    o->data = dir;
    o->vit.image = 16;
    o->vit.patch = 4;
    o->vit.depth = 2;
    o->vit.width = 32;
    o->vit.heads = 2;
    o->vit.mlp = 64;
    o->epochs = 6;
    o->batch = 16;
    o->lr = 3e-3;
    o->warmup_epochs = 0.5;
    o->seed = 7;
    o->workers = 1;
    o->progress = on_progress;
    o->progress_user = seen;
}

/* n fixed input images [n, 3, 16, 16] (any values do to compare two models). */
static LptTensor probe_images(OpCheck *oc, int n)
{
    float *x = malloc((size_t)n * 3 * 16 * 16 * sizeof *x);
    for (int i = 0; i < n * 3 * 16 * 16; i++)
        x[i] = (float)sin(0.37 * i) * 0.8f;
    LptTensor t = oc_tensor(oc, "probe", LPT_F32, (size_t)n * 3 * 16 * 16, x);
    free(x);
    return t;
}

static float *features_of(OpCheck *oc, LptVit *vit, const LptTensor *images, int n,
                          const char *what)
{
    LptError err = {0};
    if (!oc_expect(oc, lpt_vit_forward(vit, images, n, LPT_VIT_PLAIN, false, &err) == LPT_OK, what,
                   "forward: %s", err.message))
        return NULL;
    return oc_fetch(oc, lpt_vit_features(vit));
}

/* The written file: names, shapes, no head, metadata; lpt_weights loads it; same features. */
static void check_file(OpCheck *oc, LptVit *vit, const char *path)
{
    LptError err = {0};
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    if (!oc_expect(oc, st != NULL, "written file opens", "%s", err.message))
        return;
    int heads = 0;
    for (int i = 0; i < lpt_safetensors_count(st); i++) {
        const char *name = lpt_safetensors_entry(st, i)->name;
        heads += strncmp(name, "head", 4) == 0 || strstr(name, "prompt") || strstr(name, "adapter");
    }
    oc_expect(oc, heads == 0, "written file", "%d head/prompt/adapter tensors", heads);
    oc_expect(oc, lpt_safetensors_count(st) == 4 + 2 * 12 + 2, "written file",
              "%d tensors, expected 30", lpt_safetensors_count(st));
    struct {
        const char *name;
        int ndim;
        size_t shape[4];
    } want[] = {
        {"patch_embed.proj.weight", 4, {32, 3, 4, 4}},
        {"patch_embed.proj.bias", 1, {32}},
        {"cls_token", 3, {1, 1, 32}},
        {"pos_embed", 3, {1, 17, 32}},
        {"blocks.0.attn.qkv.weight", 2, {96, 32}},
        {"blocks.1.mlp.fc1.weight", 2, {64, 32}},
        {"blocks.1.mlp.fc2.bias", 1, {32}},
        {"norm.weight", 1, {32}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_find(st, want[i].name);
        bool ok = e && e->ndim == want[i].ndim && e->dtype == LPT_ST_F32;
        for (int d = 0; ok && d < want[i].ndim; d++)
            ok = e->shape[d] == want[i].shape[d];
        oc_expect(oc, ok, want[i].name, "missing or of another shape or dtype");
    }
    const char *meta[][2] = {{"format", "lpt-pretrain"},
                             {"depth", "2"},
                             {"width", "32"},
                             {"heads", "2"},
                             {"patch", "4"},
                             {"image", "16"},
                             {"act", "gelu"},
                             {"note", "smoke test"}};
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) {
        const char *v = lpt_safetensors_metadata(st, meta[i][0]);
        oc_expect(oc, v && strcmp(v, meta[i][1]) == 0, "metadata", "%s = %s, expected %s",
                  meta[i][0], v ? v : "(absent)", meta[i][1]);
    }
    lpt_safetensors_close(st);

    LptWeightsOptions wo;
    lpt_weights_options_init(&wo);
    wo.heads = 2; /* width 32 has no default head count */
    wo.config_path = "";
    LptWeights *w = lpt_weights_open(path, &wo, &err);
    if (!oc_expect(oc, w != NULL, "lpt_weights_open", "%s", err.message))
        return;
    const LptWeightsInfo *info = lpt_weights_info(w);
    const LptVitConfig *c = lpt_vit_config(vit);
    oc_expect(oc,
              info->naming == LPT_WEIGHTS_TIMM && info->vit.depth == c->depth &&
                  info->vit.width == c->width && info->vit.mlp == c->mlp &&
                  info->vit.patch == c->patch && info->vit.image == c->image &&
                  info->tensors_ignored == 0,
              "lpt_weights_open",
              "naming %s, depth %d, width %d, mlp %d, patch %d, image %d, "
              "%d ignored",
              lpt_weights_naming_id(info->naming), info->vit.depth, info->vit.width, info->vit.mlp,
              info->vit.patch, info->vit.image, info->tensors_ignored);
    LptVitConfig lc = info->vit;
    LptVit *loaded = lpt_vit_new(oc->be, &lc, &err);
    if (oc_expect(oc, loaded && lpt_weights_load_vit(w, loaded, &err) == LPT_OK,
                  "lpt_weights_load_vit", "%s", err.message)) {
        LptTensor probe = probe_images(oc, 3);
        float *a = features_of(oc, vit, &probe, 3, "trained model");
        float *b = features_of(oc, loaded, &probe, 3, "loaded model");
        if (a && b)
            oc_expect(oc, memcmp(a, b, 3 * 32 * sizeof *a) == 0, "loaded features",
                      "differ from the trained model's");
        free(a);
        free(b);
    }
    lpt_vit_free(loaded);
    lpt_weights_close(w);
}

static void check_training(OpCheck *oc, const char *dir, const char *tmp)
{
    LptError err = {0};
    PtSeen seen = {0};
    seen.accuracy_only_at_end = true;
    LptPretrainOptions o;
    tiny_options(&o, dir, &seen);
    LptPretrainResult r;
    LptVit *vit = lpt_pretrain_run(oc->be, &o, &r, &err);
    if (!oc_expect(oc, vit != NULL, "pretrain run", "%s", err.message))
        return;
    printf("synthetic: %d epochs, loss %.4f -> %.4f, test accuracy %.3f, %.2f s\n", r.epochs,
           r.first_epoch_loss, r.last_epoch_loss, r.test_accuracy, r.seconds);
    oc_expect(oc, r.classes == 3 && r.train_images == 90 && r.test_images == 36 && r.epochs == 6,
              "result counts", "classes %d, train %lld, test %lld, epochs %d", r.classes,
              (long long)r.train_images, (long long)r.test_images, r.epochs);
    /* 2 blocks of (4 C^2 + 2 C mlp + 9 C + mlp) + patch 48 C + C + cls + pos 17 C + norm 2 C */
    size_t want = 2 * (4 * 32 * 32 + 2 * 32 * 64 + 9 * 32 + 64) + 49 * 32 + 32 + 17 * 32 + 64;
    oc_expect(oc, r.backbone_params == want && r.head_params == 3 * 32, "parameter counts",
              "backbone %zu (expected %zu), head %zu", r.backbone_params, want, r.head_params);
    oc_expect(oc, r.last_epoch_loss < 0.7 * r.first_epoch_loss, "loss falls",
              "first epoch %.4f, last %.4f", r.first_epoch_loss, r.last_epoch_loss);
    oc_expect(oc, r.test_accuracy >= 0.8, "test accuracy", "%.3f, chance is 0.333",
              r.test_accuracy);
    oc_expect(oc,
              seen.steps == 6 * 6 && seen.steps_per_epoch == 6 && seen.epochs_done == 6 &&
                  seen.last_accuracy == r.test_accuracy && seen.accuracy_only_at_end,
              "progress", "%d steps (%lld per epoch), %d epoch ends, accuracy %.3f", seen.steps,
              (long long)seen.steps_per_epoch, seen.epochs_done, seen.last_accuracy);

    if (strcmp(oc->backend, "cpu") == 0) { /* the same seed, the same run */
        PtSeen again = {0};
        LptPretrainOptions o2;
        tiny_options(&o2, dir, &again);
        LptPretrainResult r2;
        LptVit *vit2 = lpt_pretrain_run(oc->be, &o2, &r2, &err);
        oc_expect(
            oc,
            vit2 && r2.first_epoch_loss == r.first_epoch_loss &&
                r2.last_epoch_loss == r.last_epoch_loss && r2.test_accuracy == r.test_accuracy,
            "same seed", "losses %.9g %.9g / %.9g %.9g, accuracy %g / %g (%s)", r.first_epoch_loss,
            r.last_epoch_loss, vit2 ? r2.first_epoch_loss : 0.0, vit2 ? r2.last_epoch_loss : 0.0,
            r.test_accuracy, vit2 ? r2.test_accuracy : 0.0, vit2 ? "ok" : err.message);
        lpt_vit_free(vit2);
    }

    char path[1024];
    snprintf(path, sizeof path, "%s/backbone.safetensors", tmp);
    const char *meta[] = {"note", "smoke test", NULL};
    if (oc_expect(oc, lpt_pretrain_write(vit, path, meta, &err) == LPT_OK, "write", "%s",
                  err.message))
        check_file(oc, vit, path);
    unlink(path);
    lpt_vit_free(vit);
}

/* A failure with status `want` whose message mentions `needle`. */
static void expect_status(OpCheck *oc, const char *what, LptStatus want, const LptError *err,
                          const char *needle)
{
    if (oc_expect(oc, err->code == want, what, "expected '%s', got '%s' (%s)",
                  lpt_status_name(want), lpt_status_name(err->code), err->message))
        oc_expect(oc, strstr(err->message, needle) != NULL, what,
                  "message '%s' does not mention '%s'", err->message, needle);
}

static void check_bad_input(OpCheck *oc, const char *dir, const char *tmp)
{
    LptError err = {0};
    PtSeen seen = {0};
    LptPretrainOptions o;
    char path[1024];
    snprintf(path, sizeof path, "%s/nothing-here", tmp);
    tiny_options(&o, path, &seen);
    oc_expect(oc, lpt_pretrain_run(oc->be, &o, NULL, &err) == NULL, "missing dir", "accepted");
    expect_status(oc, "missing dir", LPT_ERR_IO, &err, "nothing-here/train.txt");

    const char *bad[][2] = {
        {"test/bars_h/00.pgm\n", "line 39: expected 'path label'"},
        {"test/bars_h/00.pgm circle\n", "label 'circle', which no training image has"},
    };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/bad%d", tmp, i);
        mkdir(path, 0755);
        if (!oc_expect(oc, make_dataset(path, bad[i][0]), "bad dataset", "cannot write"))
            continue;
        tiny_options(&o, path, &seen);
        oc_expect(oc, lpt_pretrain_run(oc->be, &o, NULL, &err) == NULL, bad[i][1], "accepted");
        expect_status(oc, bad[i][1], LPT_ERR_FORMAT, &err, bad[i][1]);
    }

    tiny_options(&o, dir, &seen);
    o.vit.prompts = 2;
    oc_expect(oc, lpt_pretrain_run(oc->be, &o, NULL, &err) == NULL, "prompts", "accepted");
    oc_expect_error(oc, "prompts", err.code, &err, "no prompts, adapters or pool");

    PtSeen cancel = {0};
    cancel.cancel_after = 3;
    tiny_options(&o, dir, &cancel);
    oc_expect(oc, lpt_pretrain_run(oc->be, &o, NULL, &err) == NULL && cancel.steps == 3, "cancel",
              "not cancelled at step 3 (%d steps)", cancel.steps);
    expect_status(oc, "cancel", LPT_ERR_CANCELLED, &err, "cancelled at epoch 0");

    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.depth = 1;
    c.width = 16;
    c.heads = 2;
    c.mlp = 16;
    c.patch = 4;
    c.image = 8;
    c.clip_style = true;
    c.proj_dim = 8;
    c.prompts = c.adapter_rank = c.pool_size = 0;
    LptVit *clip = lpt_vit_new(oc->be, &c, &err);
    snprintf(path, sizeof path, "%s/clip.safetensors", tmp);
    oc_expect(oc, clip != NULL, "CLIP-style model", "%s", err.message);
    lpt_pretrain_write(clip, path, NULL, &err);
    expect_status(oc, "CLIP-style write", LPT_ERR_UNSUPPORTED, &err, "no timm naming");
    oc_expect(oc, access(path, F_OK) != 0, "CLIP-style write", "left a file behind");
    lpt_vit_free(clip);
}

static void check_cli(OpCheck *oc, const char *lpt, const char *dir, const char *tmp)
{
    char out[1024];
    snprintf(out, sizeof out, "%s/cli.safetensors", tmp);
    char *ok_args[] = {(char *)lpt, "pretrain", "--data", (char *)dir, "--out",
                       out,         "--config", "tiny",   "--epochs",  "1",
                       "--batch",   "32",       "--json", "--backend", (char *)oc->backend,
                       NULL};
    int rc = tu_run(ok_args, NULL);
    oc_expect(oc, rc == 0, "lpt pretrain", "exit %d", rc);
    LptError err = {0};
    LptWeights *w = lpt_weights_open(out, NULL, &err);
    oc_expect(oc, w && lpt_weights_info(w)->vit.heads == 1 && lpt_weights_info(w)->vit.depth == 2,
              "lpt pretrain output", "does not load as the tiny config: %s",
              w ? "other settings" : err.message);
    lpt_weights_close(w);
    unlink(out);
    char *bad1[] = {(char *)lpt, "pretrain", "--data", (char *)dir, NULL};
    char *bad2[] = {(char *)lpt, "pretrain", "--data", (char *)dir, "--out",
                    out,         "--config", "huge",   NULL};
    char *bad3[] = {(char *)lpt, "pretrain", "--data", (char *)dir, "--out",
                    out,         "--epochs", "0",      NULL};
    oc_expect(oc, tu_run(bad1, NULL) == 2, "lpt pretrain without --out", "not a usage error");
    oc_expect(oc, tu_run(bad2, NULL) == 2, "lpt pretrain --config huge", "not a usage error");
    oc_expect(oc, tu_run(bad3, NULL) == 2, "lpt pretrain --epochs 0", "not a usage error");
}

int main(int argc, char **argv)
{
    const char *cli = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--cli") == 0)
            cli = argv[i + 1];
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    char tmp[256], dir[300];
    snprintf(tmp, sizeof tmp, "/tmp/lpt-test-pretrain-XXXXXX");
    if (oc_expect(&oc, mkdtemp(tmp) != NULL, "temp dir", "mkdtemp failed")) {
        snprintf(dir, sizeof dir, "%s/data", tmp);
        mkdir(dir, 0755);
        if (oc_expect(&oc, make_dataset(dir, NULL), "dataset", "cannot write %s", dir)) {
            if (cli) {
                check_cli(&oc, cli, dir, tmp);
            } else {
                check_training(&oc, dir, tmp);
                check_bad_input(&oc, dir, tmp);
            }
        }
        tu_remove_tree(tmp);
    }
    return oc_finish(&oc, cli ? "test_pretrain (cli)" : "test_pretrain");
}

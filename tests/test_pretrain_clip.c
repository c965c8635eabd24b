/* test_pretrain_clip.c: `lpt pretrain-clip` (src/core/lpt_pretrain_clip.c) on one backend
 * (--backend cpu|vulkan; --cli LPT runs the command line instead).
 *
 * Usage: test_pretrain_clip --backend cpu|vulkan --fixtures DIR --vocab FILE [--cli LPT]
 * DIR: tests/fixtures/clip_pretrain (make_clip_pretrain_fixtures.py); FILE: a CLIP BPE
 * vocabulary -- the tokenizer fixtures' 526-token tiny_bpe.txt, which splits any caption into
 * byte-level tokens where it lacks merges, so no download is needed.
 *
 * The dataset, made in a temp dir at run time: classes "0", "1", "2" (digit labels, so the
 * captions have the digits' words) of 28 x 28 gray PGMs (horizontal bars, vertical bars, a
 * bright square, at random phases or places, with noise), 24 training and 10 test images
 * each. Checks:
 *  - the contrastive loss and its gradients (images, texts, scale) against PyTorch (a case
 *    with a repeated caption), 1e-6 absolute + 1e-5 relative; the captions of a digit class
 *    and of a named one;
 *  - 40 epochs of tiny towers (3 steps each): the training loss falls (the last epoch's mean
 *    below 0.9 of the first's), the zero-shot test accuracy ends far above chance (>= 0.8 for
 *    1/3), the progress callback sees every step and one epoch_done per epoch; the same seed
 *    gives the same losses and accuracy bit for bit. Vulkan: 8 epochs, the losses within
 *    1e-3 relative of the CPU backend's and the accuracy within one test image;
 *  - the written file (F32): OpenAI CLIP names, lpt_weights detects a CLIP pair (openclip,
 *    CLIP-style, text-tower tensors), lpt_clip_pair_load gives the trained towers' image and
 *    caption features exactly, the same temperature and the same zero-shot accuracy; F16:
 *    about half the bytes, features within 1e-2 relative of the F32 ones;
 *  - bad input: a missing vocabulary or dataset, a batch of 1, an image tower lpt_weights
 *    would misread, towers of different widths, a cancel from the progress callback;
 *  - with --cli: `lpt pretrain-clip ... --json` writes a file that `lpt backbone add --role
 *    vl` accepts; usage errors exit 2 naming what is wrong (missing options, an unreadable
 *    vocabulary, a folder that does not exist or a folder given as --out, a bad number), a
 *    missing dataset exits 1 naming the list file.
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_pretrain_clip.h"
#include "lpt_safetensors.h"
#include "lpt_weights.h"
#include "pretrain_test_util.h"
#include "test_util.h"

#define SIDE 28
#define TRAIN_PER_CLASS 24
#define TEST_PER_CLASS 10

/* ---- the synthetic dataset -------------------------------------------------------------- */

/* DIR/{train,test}/<class>/<i>.pgm and the two lists. */
static bool make_dataset(const char *dir)
{
    static const char *const digits[3] = {"0", "1", "2"};
    PtDataset set = {.side = SIDE,
                     .period = 6,
                     .square = 10,
                     .place = 12,
                     .train_per_class = TRAIN_PER_CLASS,
                     .test_per_class = TEST_PER_CLASS,
                     .class_names = digits,
                     .seed = 777};
    return pt_write_dataset(dir, &set, NULL);
}

/* ---- the loss and the captions ---------------------------------------------------------- */

static float *fixture_f32(OpCheck *oc, LptSafetensors *st, const char *name, size_t *n)
{
    const LptSafetensorsEntry *e = lpt_safetensors_find(st, name);
    if (!oc_expect(oc, e && e->dtype == LPT_ST_F32, name, "missing from the fixture"))
        return NULL;
    float *v = malloc(e->nbytes);
    memcpy(v, e->data, e->nbytes);
    *n = e->numel;
    return v;
}

static void check_loss(OpCheck *oc, const char *fixtures)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/expected.safetensors", fixtures);
    LptError err = {0};
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    if (!oc_expect(oc, st != NULL, "loss fixture", "%s", err.message))
        return;
    const char *cases[2][2] = {{"a", "5"}, {"b", "3"}};
    for (int c = 0; c < 2; c++) {
        const char *names[] = {"img", "txt", "scale", "loss", "d_img", "d_txt", "d_scale"};
        float *v[7] = {0};
        size_t n[7] = {0};
        char key[64];
        bool ok = true;
        for (int i = 0; i < 7; i++) {
            snprintf(key, sizeof key, "loss.%s.%s", cases[c][0], names[i]);
            v[i] = fixture_f32(oc, st, key, &n[i]);
            ok = ok && v[i];
        }
        if (ok) {
            int d = atoi(cases[c][1]), rows = (int)(n[0] / (size_t)d);
            float *gi = malloc(n[0] * sizeof *gi), *gt = malloc(n[1] * sizeof *gt);
            double gs = 0.0;
            double loss = lpt_clip_contrastive_loss(v[0], v[1], rows, d, v[2][0], gi, gt, &gs);
            float lf = (float)loss, sf = (float)gs;
            double want_l = v[3][0], want_s = v[6][0];
            char what[64];
            snprintf(what, sizeof what, "loss case %s", cases[c][0]);
            oc_compare(oc, what, &lf, &want_l, 1, 1e-6, 1e-5);
            snprintf(what, sizeof what, "loss case %s: d_scale", cases[c][0]);
            oc_compare(oc, what, &sf, &want_s, 1, 1e-6, 1e-5);
            double *ri = oc_to_double(v[4], n[4]), *rt = oc_to_double(v[5], n[5]);
            snprintf(what, sizeof what, "loss case %s: d_img", cases[c][0]);
            oc_compare(oc, what, gi, ri, n[4], 1e-6, 1e-5);
            snprintf(what, sizeof what, "loss case %s: d_txt", cases[c][0]);
            oc_compare(oc, what, gt, rt, n[5], 1e-6, 1e-5);
            free(ri);
            free(rt);
            free(gi);
            free(gt);
        }
        for (int i = 0; i < 7; i++)
            free(v[i]);
    }
    lpt_safetensors_close(st);
}

static bool has_caption(char **caps, int n, const char *text)
{
    for (int i = 0; i < n; i++)
        if (strcmp(caps[i], text) == 0)
            return true;
    return false;
}

static void check_captions(OpCheck *oc)
{
    char **caps = NULL;
    int n = lpt_pretrain_clip_captions("7", &caps);
    oc_expect(oc,
              n == 20 && has_caption(caps, n, "a photo of the digit seven.") &&
                  has_caption(caps, n, "a handwritten 7.") &&
                  has_caption(caps, n, "a photo of a 7.") &&
                  has_caption(caps, n, "a photo of a seven."),
              "captions of '7'", "%d captions, without the expected ones", n);
    lpt_pretrain_clip_captions_free(caps, n);
    n = lpt_pretrain_clip_captions("T-shirt_top", &caps);
    oc_expect(oc,
              n == 6 && has_caption(caps, n, "a photo of a T-shirt top.") &&
                  !has_caption(caps, n, "a photo of the digit T-shirt top."),
              "captions of 'T-shirt_top'", "%d captions, not the expected ones", n);
    lpt_pretrain_clip_captions_free(caps, n);
}

/* ---- runs ------------------------------------------------------------------------------- */

static bool on_progress(const LptPretrainClipProgress *p, void *user)
{
    return pt_seen_tick(user, p->epoch_done, p->steps, p->zero_shot);
}

static void tiny_options(LptPretrainClipOptions *o, const char *dir, const char *vocab,
                         PtSeen *seen)
{
    lpt_pretrain_clip_options_init(o);
    o->data = dir;
    o->vocab = vocab;
    o->image.depth = 1;
    o->image.width = 64;
    o->image.heads = 1;
    o->image.mlp = 128;
    o->image.proj_dim = 16;
    o->text.context = 48;
    o->text.width = 32;
    o->text.heads = 2;
    o->text.layers = 2;
    o->text.mlp = 64;
    o->text.proj_dim = 16;
    o->epochs = 40;
    o->batch = 24;
    o->lr = 3e-3;
    o->warmup_epochs = 0.5;
    o->progress = on_progress;
    o->progress_user = seen;
    memset(seen, 0, sizeof *seen);
    seen->accuracy_only_at_end = true;
}

/* Image features [n, D] of the first test images through `image` (host, malloc'd). */
static float *test_features(OpCheck *oc, LptVit *image, const char *dir, int n)
{
    LptPretrainClipOptions o;
    lpt_pretrain_clip_options_init(&o);
    float *host = malloc((size_t)n * 3 * SIDE * SIDE * sizeof *host);
    for (int i = 0; i < n; i++) { /* the PGM's pixels, normalised with CLIP's mean and std */
        char path[1024];
        snprintf(path, sizeof path, "%s/test/%d/%02d.pgm", dir, i % 3, i / 3);
        FILE *f = fopen(path, "rb");
        unsigned char px[SIDE * SIDE];
        int w = 0, h = 0, mx = 0;
        bool ok = f && fscanf(f, "P5 %d %d %d", &w, &h, &mx) == 3 && fgetc(f) != EOF &&
                  fread(px, 1, sizeof px, f) == sizeof px;
        if (f)
            fclose(f);
        oc_expect(oc, ok, "test image", "cannot read %s", path);
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < SIDE * SIDE; j++)
                host[((size_t)i * 3 + c) * SIDE * SIDE + j] =
                    ok ? ((float)px[j] / 255.0f - o.mean[c]) / o.std[c] : 0.0f;
    }
    LptTensor images = oc_tensor(oc, "images", LPT_F32, (size_t)n * 3 * SIDE * SIDE, host);
    free(host);
    LptError err = {0};
    if (!oc_expect(oc, lpt_vit_forward(image, &images, n, LPT_VIT_PLAIN, false, &err) == LPT_OK,
                   "image forward", "%s", err.message))
        return NULL;
    return oc_fetch(oc, lpt_vit_features(image));
}

/* Caption features of "0" (the first n captions) through `text` (host, malloc'd). */
static float *caption_features(OpCheck *oc, LptClipText *text, const char *vocab, int *n)
{
    LptError err = {0};
    LptTokenizer *tok = lpt_tokenizer_new_openai(vocab, &err);
    char **caps = NULL;
    *n = lpt_pretrain_clip_captions("0", &caps);
    int D = lpt_clip_text_config(text)->proj_dim;
    float *f = malloc((size_t)*n * D * sizeof *f);
    bool ok =
        tok && lpt_clip_text_encode(text, tok, (const char *const *)caps, *n, f, &err) == LPT_OK;
    oc_expect(oc, ok, "caption features", "%s", err.message);
    lpt_pretrain_clip_captions_free(caps, *n);
    lpt_tokenizer_free(tok);
    return f;
}

static void compare_features(OpCheck *oc, const char *what, const float *a, const float *b,
                             size_t n, double rtol)
{
    if (!a || !b) {
        oc_expect(oc, false, what, "no features");
        return;
    }
    double *r = oc_to_double(b, n), top = 0.0;
    for (size_t i = 0; i < n; i++)
        top = fmax(top, fabs(r[i]));
    oc_compare(oc, what, a, r, n, rtol * top, 0.0);
    free(r);
}

/* Vulkan: the first VK_EPOCHS epochs against the CPU backend's (lavapipe is slow enough that
 * the whole run is left to the CPU test): losses within 1e-3 relative, zero-shot accuracy
 * within one test image. */
#define VK_EPOCHS 8

static void check_against_cpu(OpCheck *oc, const LptPretrainClipResult *vk, const char *dir,
                              const char *vocab)
{
    LptBackendOptions bo;
    lpt_backend_options_init(&bo);
    LptError err = {0};
    LptBackend *cpu = lpt_backend_new(&bo, &err);
    LptPretrainClipOptions o;
    PtSeen seen;
    tiny_options(&o, dir, vocab, &seen);
    o.epochs = VK_EPOCHS;
    LptClipPair pair = {0};
    LptPretrainClipResult res;
    LptStatus st = cpu ? lpt_pretrain_clip_run(cpu, &o, &pair, &res, &err) : err.code;
    if (oc_expect(oc, st == LPT_OK, "CPU reference run", "%s", err.message))
        oc_expect(
            oc,
            fabs(vk->first_epoch_loss - res.first_epoch_loss) <= 1e-3 * res.first_epoch_loss &&
                fabs(vk->last_epoch_loss - res.last_epoch_loss) <= 1e-3 * res.last_epoch_loss &&
                fabs(vk->zero_shot - res.zero_shot) <= 1.0 / 30 + 1e-9,
            "Vulkan against CPU", "losses %.6f -> %.6f, zero-shot %.3f; CPU %.6f -> %.6f, %.3f",
            vk->first_epoch_loss, vk->last_epoch_loss, vk->zero_shot, res.first_epoch_loss,
            res.last_epoch_loss, res.zero_shot);
    lpt_clip_pair_free(&pair);
    lpt_backend_free(cpu);
}

static void check_training(OpCheck *oc, const char *dir, const char *vocab, const char *tmp)
{
    LptPretrainClipOptions o;
    PtSeen seen;
    tiny_options(&o, dir, vocab, &seen);
    bool vulkan = strcmp(oc->backend, "vulkan") == 0;
    if (vulkan)
        o.epochs = VK_EPOCHS;
    LptError err = {0};
    LptClipPair pair;
    LptPretrainClipResult res;
    LptStatus st = lpt_pretrain_clip_run(oc->be, &o, &pair, &res, &err);
    if (!oc_expect(oc, st == LPT_OK, "pretrain-clip run", "%s", err.message))
        return;
    printf("tiny pair: losses %.4f -> %.4f, zero-shot %.3f, scale %.2f, %zu + %zu parameters, "
           "%.1f s\n",
           res.first_epoch_loss, res.last_epoch_loss, res.zero_shot, res.logit_scale,
           res.image_params, res.text_params, res.seconds);
    oc_expect(oc,
              res.classes == 3 && res.captions == 60 && res.train_images == 72 &&
                  res.test_images == 30 && res.epochs == o.epochs,
              "result counts", "classes %d, captions %d, images %lld + %lld, epochs %d",
              res.classes, res.captions, (long long)res.train_images, (long long)res.test_images,
              res.epochs);
    oc_expect(oc, isfinite(res.last_epoch_loss) && res.last_epoch_loss < 0.9 * res.first_epoch_loss,
              "loss falls", "%.4f -> %.4f", res.first_epoch_loss, res.last_epoch_loss);
    if (vulkan)
        check_against_cpu(oc, &res, dir, vocab);
    else
        oc_expect(oc, res.zero_shot >= 0.8, "zero-shot accuracy", "%.3f (chance 0.333)",
                  res.zero_shot);
    oc_expect(oc,
              seen.epochs_done == o.epochs && seen.steps == o.epochs * seen.steps_per_epoch &&
                  seen.accuracy_only_at_end && seen.last_accuracy == res.zero_shot,
              "progress", "%d epochs done, %d steps of %lld per epoch", seen.epochs_done,
              seen.steps, (long long)seen.steps_per_epoch);
    if (!vulkan) {
        LptClipPair again;
        LptPretrainClipResult res2;
        PtSeen seen2;
        tiny_options(&o, dir, vocab, &seen2);
        st = lpt_pretrain_clip_run(oc->be, &o, &again, &res2, &err);
        oc_expect(oc,
                  st == LPT_OK && res2.first_epoch_loss == res.first_epoch_loss &&
                      res2.last_epoch_loss == res.last_epoch_loss &&
                      res2.zero_shot == res.zero_shot && res2.logit_scale == res.logit_scale,
                  "same seed, same run", "%s: %.9g %.9g %.6f vs %.9g %.9g %.6f", err.message,
                  res.first_epoch_loss, res.last_epoch_loss, res.zero_shot, res2.first_epoch_loss,
                  res2.last_epoch_loss, res2.zero_shot);
        lpt_clip_pair_free(&again);
    }

    /* the written file, F32: the same towers */
    char path[1024], path16[1024];
    snprintf(path, sizeof path, "%s/pair.safetensors", tmp);
    snprintf(path16, sizeof path16, "%s/pair16.safetensors", tmp);
    const char *meta[] = {"command", "test", NULL};
    st = lpt_pretrain_clip_write(&pair, path, false, meta, &err);
    if (oc_expect(oc, st == LPT_OK, "write F32", "%s", err.message)) {
        LptWeights *w = lpt_weights_open(path, NULL, &err);
        if (oc_expect(oc, w != NULL, "lpt_weights_open", "%s", err.message)) {
            const LptWeightsInfo *info = lpt_weights_info(w);
            oc_expect(oc,
                      info->naming == LPT_WEIGHTS_OPENCLIP && info->vit.clip_style &&
                          info->vit.act == LPT_VIT_ACT_QUICK_GELU && info->vit.heads == 1 &&
                          info->vit.proj_dim == 16 && info->text_tensors == 29 &&
                          info->tensors_ignored == 30,
                      "detected as a CLIP pair",
                      "naming %s, clip %d, heads %d, D %d, %d text tensors, %d ignored",
                      lpt_weights_naming_id(info->naming), info->vit.clip_style, info->vit.heads,
                      info->vit.proj_dim, info->text_tensors, info->tensors_ignored);
            const LptSafetensors *f = lpt_weights_file(w);
            oc_expect(oc,
                      lpt_safetensors_find(f, "visual.conv1.weight") &&
                          lpt_safetensors_find(f, "token_embedding.weight") &&
                          lpt_safetensors_find(f, "text_projection") &&
                          lpt_safetensors_find(f, "logit_scale"),
                      "OpenAI names", "a tensor is missing");
            const char *fmt = lpt_safetensors_metadata(f, "format");
            const char *heads = lpt_safetensors_metadata(f, "text_heads");
            const char *cmd = lpt_safetensors_metadata(f, "command");
            oc_expect(oc,
                      fmt && strcmp(fmt, "lpt-pretrain-clip") == 0 && heads &&
                          strcmp(heads, "2") == 0 && cmd && strcmp(cmd, "test") == 0,
                      "metadata", "format %s, text_heads %s, command %s", fmt ? fmt : "-",
                      heads ? heads : "-", cmd ? cmd : "-");
        }
        lpt_weights_close(w);
        LptClipPair back;
        st = lpt_clip_pair_load(oc->be, path, &back, &err);
        if (oc_expect(oc, st == LPT_OK, "lpt_clip_pair_load", "%s", err.message)) {
            int n = 6, nc = 0;
            float *fa = test_features(oc, pair.image, dir, n);
            float *fb = test_features(oc, back.image, dir, n);
            oc_expect(oc, fa && fb && memcmp(fa, fb, (size_t)n * 16 * sizeof *fa) == 0,
                      "image features of the F32 file", "differ from the trained tower's");
            float *ta = caption_features(oc, pair.text, vocab, &nc);
            float *tb = caption_features(oc, back.text, vocab, &nc);
            oc_expect(oc, memcmp(ta, tb, (size_t)nc * 16 * sizeof *ta) == 0,
                      "caption features of the F32 file", "differ from the trained tower's");
            oc_expect(oc, back.log_scale == pair.log_scale, "temperature of the file",
                      "%g, trained %g", (double)back.log_scale, (double)pair.log_scale);
            LptTokenizer *tok = lpt_tokenizer_new_openai(vocab, &err);
            double acc = -1.0;
            st = lpt_pretrain_clip_zero_shot(oc->be, &back, tok, dir, 0, o.batch, o.mean, o.std,
                                             &acc, &err);
            oc_expect(oc, st == LPT_OK && acc == res.zero_shot, "zero-shot of the F32 file",
                      "%.4f, the run's %.4f: %s", acc, res.zero_shot, err.message);
            lpt_tokenizer_free(tok);
            /* F16: half the bytes, nearly the same features */
            LptClipPair half;
            st = lpt_pretrain_clip_write(&pair, path16, true, NULL, &err);
            if (st == LPT_OK)
                st = lpt_clip_pair_load(oc->be, path16, &half, &err);
            if (oc_expect(oc, st == LPT_OK, "F16 file", "%s", err.message)) {
                struct stat s32, s16;
                stat(path, &s32);
                stat(path16, &s16);
                oc_expect(oc, s16.st_size < s32.st_size * 0.55, "F16 size",
                          "%lld bytes against %lld in F32", (long long)s16.st_size,
                          (long long)s32.st_size);
                float *fh = test_features(oc, half.image, dir, n);
                compare_features(oc, "image features of the F16 file", fh, fa, (size_t)n * 16,
                                 1e-2);
                float *th = caption_features(oc, half.text, vocab, &nc);
                compare_features(oc, "caption features of the F16 file", th, ta, (size_t)nc * 16,
                                 1e-2);
                free(fh);
                free(th);
                lpt_clip_pair_free(&half);
            }
            free(fa);
            free(fb);
            free(ta);
            free(tb);
            lpt_clip_pair_free(&back);
        }
    }
    lpt_clip_pair_free(&pair);
    oc_reset(oc);
}

static void check_bad_input(OpCheck *oc, const char *dir, const char *vocab, const char *tmp)
{
    LptPretrainClipOptions o;
    PtSeen seen;
    LptError err = {0};
    LptClipPair pair;
    char path[1024];
    snprintf(path, sizeof path, "%s/no-such-vocab.txt", tmp);
    tiny_options(&o, dir, path, &seen);
    LptStatus st = lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err);
    oc_expect(oc, st == LPT_ERR_IO && strstr(err.message, "no-such-vocab.txt"),
              "missing vocabulary", "%s: %s", lpt_status_name(st), err.message);
    snprintf(path, sizeof path, "%s/no-such-dir", tmp);
    tiny_options(&o, path, vocab, &seen);
    st = lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err);
    oc_expect(oc, st == LPT_ERR_IO && strstr(err.message, "no-such-dir/train.txt"),
              "missing dataset", "%s: %s", lpt_status_name(st), err.message);
    tiny_options(&o, dir, vocab, &seen);
    o.batch = 1;
    oc_expect_error(oc, "batch of 1", lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err), &err,
                    "batch");
    tiny_options(&o, dir, vocab, &seen);
    o.image.heads = 2;
    oc_expect_error(oc, "image heads lpt_weights would misread",
                    lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err), &err, "heads");
    tiny_options(&o, dir, vocab, &seen);
    o.text.proj_dim = 8;
    oc_expect_error(oc, "towers of different widths",
                    lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err), &err, "same width");
    tiny_options(&o, dir, vocab, &seen);
    seen.cancel_after = 2;
    st = lpt_pretrain_clip_run(oc->be, &o, &pair, NULL, &err);
    oc_expect(oc, st == LPT_ERR_CANCELLED && pair.image == NULL && pair.text == NULL, "cancel",
              "%s: %s", lpt_status_name(st), err.message);
    oc_reset(oc);
}

/* ---- the command line ------------------------------------------------------------------- */

static void expect_run(OpCheck *oc, char *const argv[], int code, const char *needle,
                       const char *errfile, const char *what)
{
    int rc = tu_run(argv, errfile);
    oc_expect(oc, rc == code && (!needle || tu_file_has(errfile, needle)), what,
              "exit %d (expected %d), stderr %s '%s'", rc, code, needle ? "without" : "",
              needle ? needle : "");
}

static void check_cli(OpCheck *oc, const char *lpt, const char *dir, const char *vocab,
                      const char *tmp)
{
    char out[1024], errfile[1024], proj[1024], list[1024];
    snprintf(out, sizeof out, "%s/cli.safetensors", tmp);
    snprintf(errfile, sizeof errfile, "%s/stderr.txt", tmp);
    char *ok_args[] = {(char *)lpt,
                       "pretrain-clip",
                       "--data",
                       (char *)dir,
                       "--vocab",
                       (char *)vocab,
                       "--out",
                       out,
                       "--epochs",
                       "1",
                       "--batch",
                       "24",
                       "--json",
                       "--backend",
                       (char *)oc->backend,
                       NULL};
    expect_run(oc, ok_args, 0, NULL, errfile, "lpt pretrain-clip");
    LptError err = {0};
    LptWeights *w = lpt_weights_open(out, NULL, &err);
    const char *acc =
        w ? lpt_safetensors_metadata(lpt_weights_file(w), "zero_shot_accuracy_file") : NULL;
    oc_expect(oc, w && lpt_weights_info(w)->vit.clip_style && acc, "lpt pretrain-clip output",
              "does not load as a CLIP pair with its accuracy: %s",
              w ? "no zero_shot_accuracy_file" : err.message);
    lpt_weights_close(w);
    /* a project takes it as its vision-language backbone */
    snprintf(proj, sizeof proj, "%s/p.lptproj", tmp);
    snprintf(list, sizeof list, "%s/train.txt", dir);
    char *import_args[] = {(char *)lpt, "import", "--project", proj, list, NULL};
    char *add_args[] = {(char *)lpt, "backbone", "add", "--project", proj,
                        "--role",    "vl",       out,   NULL};
    expect_run(oc, import_args, 0, NULL, errfile, "lpt import");
    expect_run(oc, add_args, 0, NULL, errfile, "lpt backbone add --role vl");
    unlink(out);

    char missing[1024], nodir[1024];
    snprintf(missing, sizeof missing, "%s/no-such-vocab.txt", tmp);
    snprintf(nodir, sizeof nodir, "%s/no-such-dir/x.safetensors", tmp);
    char *no_vocab[] = {(char *)lpt, "pretrain-clip", "--data", (char *)dir, "--out", out, NULL};
    char *bad_vocab[] = {(char *)lpt, "pretrain-clip", "--data", (char *)dir, "--vocab",
                         missing,     "--out",         out,      NULL};
    char *bad_out[] = {(char *)lpt,   "pretrain-clip", "--data", (char *)dir, "--vocab",
                       (char *)vocab, "--out",         nodir,    NULL};
    char *dir_out[] = {(char *)lpt,   "pretrain-clip", "--data",    (char *)dir, "--vocab",
                       (char *)vocab, "--out",         (char *)tmp, NULL};
    char *bad_epochs[] = {(char *)lpt,   "pretrain-clip", "--data", (char *)dir, "--vocab",
                          (char *)vocab, "--out",         out,      "--epochs",  "0",
                          NULL};
    char *unknown[] = {(char *)lpt, "pretrain-clip", "--dat", (char *)dir, NULL};
    char *no_data[] = {(char *)lpt,   "pretrain-clip", "--data", nodir, "--vocab",
                       (char *)vocab, "--out",         out,      NULL};
    expect_run(oc, no_vocab, 2, "--vocab", errfile, "without --vocab");
    expect_run(oc, bad_vocab, 2, "no-such-vocab.txt", errfile, "unreadable --vocab");
    expect_run(oc, bad_out, 2, "does not exist", errfile, "--out in a missing folder");
    expect_run(oc, dir_out, 2, "is a directory", errfile, "--out a folder");
    expect_run(oc, bad_epochs, 2, "--epochs", errfile, "--epochs 0");
    expect_run(oc, unknown, 2, "--dat", errfile, "unknown option");
    expect_run(oc, no_data, 1, "train.txt", errfile, "missing dataset");
}

int main(int argc, char **argv)
{
    const char *cli = NULL, *fixtures = NULL, *vocab = NULL;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--cli") == 0)
            cli = argv[i + 1];
        else if (strcmp(argv[i], "--fixtures") == 0)
            fixtures = argv[i + 1];
        else if (strcmp(argv[i], "--vocab") == 0)
            vocab = argv[i + 1];
    }
    if (!fixtures || !vocab) {
        fprintf(stderr, "usage: %s --backend cpu|vulkan --fixtures DIR --vocab FILE [--cli LPT]\n",
                argv[0]);
        return 1;
    }
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    char tmp[256], dir[300];
    snprintf(tmp, sizeof tmp, "/tmp/lpt-test-pretrain-clip-XXXXXX");
    if (oc_expect(&oc, mkdtemp(tmp) != NULL, "temp dir", "mkdtemp failed")) {
        snprintf(dir, sizeof dir, "%s/data", tmp);
        mkdir(dir, 0755);
        if (oc_expect(&oc, make_dataset(dir), "dataset", "cannot write %s", dir)) {
            if (cli) {
                check_cli(&oc, cli, dir, vocab, tmp);
            } else {
                check_loss(&oc, fixtures);
                check_captions(&oc);
                check_training(&oc, dir, vocab, tmp);
                check_bad_input(&oc, dir, vocab, tmp);
            }
        }
        tu_remove_tree(tmp);
    }
    return oc_finish(&oc, cli ? "test_pretrain_clip (cli)" : "test_pretrain_clip");
}

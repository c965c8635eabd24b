/* lpt_cmd_pretrain_clip.c: `lpt pretrain-clip --data DIR --vocab FILE --out FILE.safetensors
 * [--epochs N] [--batch B] [--lr X] [--seed S] [--max-train N] [--max-test N] [--f32]
 * [--json] [--backend cpu|vulkan] [--device N] [--threads N]`.
 *
 * Trains a small CLIP-style pair of towers from scratch on a dataset directory (captions from
 * its class names and templates; lpt_pretrain_clip.h), printing each epoch's loss, temperature
 * and zero-shot test accuracy, then writes both towers in OpenAI CLIP's naming (F16 unless
 * --f32), reads the file back and evaluates it again, so that what was stored is what was
 * measured; the file's metadata holds the command line, epochs, seed, both accuracies, the
 * time and the backend. Progress: a line that updates on a terminal; --json prints one JSON
 * object per epoch and one at the end instead. Ctrl-C (SIGINT) or SIGTERM cancels between
 * steps and writes nothing.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_cli_pretrain.h"
#include "lpt_pretrain_clip.h"

#define USAGE                                                                                      \
    "usage: lpt pretrain-clip --data DIR --vocab FILE --out FILE.safetensors [--epochs N]\n"       \
    "       [--batch B] [--lr X] [--seed S] [--max-train N] [--max-test N] [--f32] [--json]\n"     \
    "       [--backend cpu|vulkan] [--device N] [--threads N]\n"                                   \
    "  DIR holds train.txt and test.txt ('relative/path label' lines), as\n"                       \
    "  `lpt dataset build mnist --out DIR` writes them; each image's caption comes from its\n"     \
    "  label and templates (\"a photo of the digit seven.\"). FILE is CLIP's BPE vocabulary\n"     \
    "  (OpenAI's bpe_simple_vocab_16e6.txt, or .gz). Writes both towers in OpenAI CLIP's\n"        \
    "  naming, F16 (--f32: F32), and reports the zero-shot test accuracy of the file."

typedef struct Printer {
    bool json, tty;
    atomic_bool *cancel;
    double accuracy[64]; /* zero-shot by epoch, for the metadata */
    int epochs;
} Printer;

static bool on_progress(const LptPretrainClipProgress *p, void *user)
{
    Printer *pr = user;
    if (!p->epoch_done) {
        if (pr->tty && !pr->json && (p->step % 10 == 0 || p->step == p->steps))
            fprintf(stderr,
                    "\repoch %d/%d: step %lld/%lld, loss %.4f, scale %.1f, lr %.2e, %.0f img/s   ",
                    p->epoch + 1, p->epochs, (long long)p->step, (long long)p->steps, p->loss,
                    p->logit_scale, p->lr, p->images_per_second);
        return !atomic_load(pr->cancel);
    }
    if (p->epoch < (int)(sizeof pr->accuracy / sizeof *pr->accuracy)) {
        pr->accuracy[p->epoch] = p->zero_shot;
        pr->epochs = p->epoch + 1;
    }
    if (pr->tty && !pr->json)
        fputc('\n', stderr);
    if (pr->json)
        printf("{\"epoch\": %d, \"epochs\": %d, \"loss\": %.6f, \"logit_scale\": %.3f, "
               "\"zero_shot_accuracy\": %.6f, \"images_per_second\": %.1f, \"elapsed\": %.1f}\n",
               p->epoch + 1, p->epochs, p->loss, p->logit_scale, p->zero_shot, p->images_per_second,
               p->elapsed);
    else
        printf("epoch %d/%d: loss %.4f, logit scale %.1f, zero-shot test accuracy %.2f%%, "
               "%.0f img/s, %.0f s\n",
               p->epoch + 1, p->epochs, p->loss, p->logit_scale, 100.0 * p->zero_shot,
               p->images_per_second, p->elapsed);
    fflush(stdout);
    return !atomic_load(pr->cancel);
}

/* A message when `out` cannot be written (its folder missing or not writable, or a folder
 * itself), checked before hours of training; NULL when fine. */
static const char *out_problem(const char *out, char *buf, size_t size)
{
    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(buf, size, "--out '%s' is a directory; give a file name", out);
        return buf;
    }
    const char *slash = strrchr(out, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == out ? 1 : slash - out) : 1,
             slash ? out : ".");
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(buf, size, "--out '%s': folder '%s' does not exist", out, dir);
        return buf;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(buf, size, "--out '%s': folder '%s' is not writable: %s", out, dir,
                 strerror(errno));
        return buf;
    }
    return NULL;
}

/* Trains, writes, reads back, evaluates, writes the final metadata. */
static int pretrain_clip(const LptPretrainClipOptions *opt, const char *out, bool f16,
                         const char *command, const LptBackendOptions *bopt, bool json)
{
    LptError err = {0};
    LptClipPair pair = {0}, back = {0};
    LptTokenizer *tok = NULL;
    int rc = LPT_EXIT_ERROR;
    LptBackend *be = lpt_backend_new(bopt, &err);
    if (!be)
        goto fail;
    Printer pr = {json, isatty(STDERR_FILENO) != 0, lpt_cli_cancel_on_signals(), {0}, 0};
    LptPretrainClipOptions o = *opt;
    o.progress = on_progress;
    o.progress_user = &pr;
    const LptVitConfig *v = &o.image;
    const LptClipTextConfig *t = &o.text;
    if (!json) {
        printf("pretrain-clip: image %d, patch %d, depth %d, width %d, heads %d, mlp %d; text "
               "context %d, width %d, heads %d, layers %d, mlp %d; embedding %d; %d epochs of "
               "batch %d, lr %g, seed %llu\n",
               v->image, v->patch, v->depth, v->width, v->heads, v->mlp, t->context, t->width,
               t->heads, t->layers, t->mlp, v->proj_dim, o.epochs, o.batch, o.lr,
               (unsigned long long)o.seed);
        printf("backend %s\n", lpt_backend_description(be));
        fflush(stdout);
    }
    LptPretrainClipResult res;
    if (lpt_pretrain_clip_run(be, &o, &pair, &res, &err) != LPT_OK)
        goto fail;
    char num[12][64], by_epoch[64 * 12] = "[";
    for (int e = 0; e < pr.epochs; e++)
        snprintf(by_epoch + strlen(by_epoch), sizeof by_epoch - strlen(by_epoch), "%s%.4f",
                 e ? ", " : "", pr.accuracy[e]);
    strcat(by_epoch, "]");
    snprintf(num[0], sizeof num[0], "%d", res.epochs);
    snprintf(num[1], sizeof num[1], "%.6f", res.zero_shot);
    snprintf(num[2], sizeof num[2], "%llu", (unsigned long long)o.seed);
    snprintf(num[3], sizeof num[3], "%.1f", res.seconds);
    snprintf(num[4], sizeof num[4], "%lld", (long long)res.train_images);
    snprintf(num[5], sizeof num[5], "%lld", (long long)res.test_images);
    snprintf(num[6], sizeof num[6], "%zu", res.image_params);
    snprintf(num[7], sizeof num[7], "%zu", res.text_params);
    snprintf(num[8], sizeof num[8], "%d", o.batch);
    snprintf(num[9], sizeof num[9], "%g", o.lr);
    snprintf(num[10], sizeof num[10], "%.4f", res.logit_scale);
    snprintf(num[11], sizeof num[11], "%d", res.captions);
    const char *meta[] = {"command",
                          command,
                          "epochs",
                          num[0],
                          "zero_shot_accuracy",
                          num[1],
                          "zero_shot_by_epoch",
                          by_epoch,
                          "seed",
                          num[2],
                          "seconds",
                          num[3],
                          "train_images",
                          num[4],
                          "test_images",
                          num[5],
                          "image_params",
                          num[6],
                          "text_params",
                          num[7],
                          "batch",
                          num[8],
                          "lr",
                          num[9],
                          "logit_scale",
                          num[10],
                          "captions",
                          num[11],
                          "backend",
                          lpt_backend_description(be),
                          NULL,
                          NULL,
                          NULL,
                          NULL};
    if (lpt_pretrain_clip_write(&pair, out, f16, meta, &err) != LPT_OK)
        goto fail;
    /* what was stored, read back as a user's tools read it */
    double stored = 0.0;
    tok = lpt_tokenizer_new_openai(o.vocab, &err);
    if (!tok || lpt_clip_pair_load(be, out, &back, &err) != LPT_OK ||
        lpt_pretrain_clip_zero_shot(be, &back, tok, o.data, o.max_test, o.batch, o.mean, o.std,
                                    &stored, &err) != LPT_OK)
        goto fail;
    char stored_text[64];
    snprintf(stored_text, sizeof stored_text, "%.6f", stored);
    size_t end = sizeof meta / sizeof *meta - 4;
    meta[end] = "zero_shot_accuracy_file";
    meta[end + 1] = stored_text;
    if (lpt_pretrain_clip_write(&pair, out, f16, meta, &err) != LPT_OK)
        goto fail;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "out", out);
        cJSON_AddStringToObject(root, "dtype", f16 ? "F16" : "F32");
        cJSON_AddNumberToObject(root, "image_params", (double)res.image_params);
        cJSON_AddNumberToObject(root, "text_params", (double)res.text_params);
        cJSON_AddNumberToObject(root, "classes", res.classes);
        cJSON_AddNumberToObject(root, "captions", res.captions);
        cJSON_AddNumberToObject(root, "train_images", (double)res.train_images);
        cJSON_AddNumberToObject(root, "test_images", (double)res.test_images);
        cJSON_AddNumberToObject(root, "epochs", res.epochs);
        cJSON_AddNumberToObject(root, "first_epoch_loss", res.first_epoch_loss);
        cJSON_AddNumberToObject(root, "last_epoch_loss", res.last_epoch_loss);
        cJSON_AddNumberToObject(root, "logit_scale", res.logit_scale);
        cJSON_AddNumberToObject(root, "zero_shot_accuracy", res.zero_shot);
        cJSON_AddNumberToObject(root, "zero_shot_accuracy_file", stored);
        cJSON_AddNumberToObject(root, "seconds", res.seconds);
        lpt_cli_print_json(root);
    } else {
        printf("wrote %s (%s): %zu image + %zu text parameters, %d classes, %d captions; "
               "zero-shot test accuracy %.2f%% trained, %.2f%% as stored (%+.2f points), "
               "%.0f s\n",
               out, f16 ? "F16" : "F32", res.image_params, res.text_params, res.classes,
               res.captions, 100.0 * res.zero_shot, 100.0 * stored,
               100.0 * (stored - res.zero_shot), res.seconds);
    }
    rc = LPT_EXIT_OK;
    goto done;
fail:
    fflush(stdout);
    fprintf(stderr, "lpt pretrain-clip: %s\n", err.message);
done:
    lpt_tokenizer_free(tok);
    lpt_clip_pair_free(&back);
    lpt_clip_pair_free(&pair);
    lpt_backend_free(be);
    return rc;
}

/* The options of pretrain-clip alone. */
typedef struct Own {
    const char *vocab;
    bool f16;
} Own;

/* --vocab FILE, --f32 (LptCliPretrainOwnFn) */
static int own_option(const char *a, const char *val, void *user)
{
    Own *own = user;
    if (strcmp(a, "--f32") == 0) {
        own->f16 = false;
        return 1;
    }
    if (!val || strcmp(a, "--vocab") != 0)
        return 0;
    own->vocab = val;
    return 2;
}

int lpt_cmd_pretrain_clip(int argc, char **argv)
{
    Own own = {NULL, true};
    LptBackendOptions bopt;
    LptCliPretrainArgs args;
    int rc;
    char *command = lpt_cli_pretrain_parse(argc, argv, "pretrain-clip", USAGE, 64, 2, own_option,
                                           &own, &bopt, &args, &rc);
    if (!command)
        return rc;
    const char *vocab = own.vocab;
    char why[4200];
    const char *problem = NULL;
    if (!args.data || !vocab || !args.out)
        problem = "--data, --vocab and --out are required";
    else if (access(vocab, R_OK) != 0)
        problem =
            (snprintf(why, sizeof why, "--vocab '%s' cannot be read: %s", vocab, strerror(errno)),
             why);
    else
        problem = out_problem(args.out, why, sizeof why);
    if (problem) {
        fprintf(stderr, "lpt pretrain-clip: %s\n%s\n", problem, USAGE);
        free(command);
        return LPT_EXIT_USAGE;
    }
    LptPretrainClipOptions opt;
    lpt_pretrain_clip_options_init(&opt);
    opt.data = args.data;
    opt.vocab = vocab;
    lpt_cli_pretrain_apply(&args, &opt.epochs, &opt.batch, &opt.lr, &opt.min_lr, &opt.seed,
                           &opt.max_train, &opt.max_test);
    rc = pretrain_clip(&opt, args.out, own.f16, command, &bopt, args.json);
    free(command);
    return rc;
}

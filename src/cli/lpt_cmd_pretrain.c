/* lpt_cmd_pretrain.c: `lpt pretrain --data DIR --out FILE.safetensors [--config small|tiny]
 * [--epochs N] [--batch B] [--lr X] [--seed S] [--max-train N] [--max-test N] [--json]
 * [--backend cpu|vulkan] [--device N] [--threads N]`.
 *
 * Trains a small ViT from scratch on a dataset directory (train.txt / test.txt, as `lpt
 * dataset build` writes them; lpt_pretrain.h), printing each epoch's loss and test accuracy,
 * then writes the backbone without its head in timm's naming with the command line, epochs,
 * seed, test accuracy and time in the file's metadata. Progress: a line that updates on a
 * terminal; --json prints one JSON object per epoch and one at the end instead. Ctrl-C
 * (SIGINT) or SIGTERM cancels between steps and writes nothing.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_cli_pretrain.h"
#include "lpt_pretrain.h"

#define USAGE                                                                                      \
    "usage: lpt pretrain --data DIR --out FILE.safetensors [--config small|tiny] [--epochs N]\n"   \
    "       [--batch B] [--lr X] [--seed S] [--max-train N] [--max-test N] [--json]\n"             \
    "       [--backend cpu|vulkan] [--device N] [--threads N]\n"                                   \
    "  DIR holds train.txt and test.txt ('relative/path label' lines), as\n"                       \
    "  `lpt dataset build mnist --out DIR` writes them. Writes the backbone (no head) in\n"        \
    "  timm's naming."

typedef struct Printer {
    bool json, tty;
    atomic_bool *cancel;
} Printer;

static bool on_progress(const LptPretrainProgress *p, void *user)
{
    const Printer *pr = user;
    if (!p->epoch_done) {
        if (pr->tty && !pr->json && (p->step % 10 == 0 || p->step == p->steps))
            fprintf(stderr, "\repoch %d/%d: step %lld/%lld, loss %.4f, lr %.2e, %.0f img/s   ",
                    p->epoch + 1, p->epochs, (long long)p->step, (long long)p->steps, p->loss,
                    p->lr, p->images_per_second);
        return !atomic_load(pr->cancel);
    }
    if (pr->tty && !pr->json)
        fputc('\n', stderr);
    if (pr->json)
        printf("{\"epoch\": %d, \"epochs\": %d, \"loss\": %.6f, \"test_accuracy\": %.6f, "
               "\"images_per_second\": %.1f, \"elapsed\": %.1f}\n",
               p->epoch + 1, p->epochs, p->loss, p->test_accuracy, p->images_per_second,
               p->elapsed);
    else
        printf("epoch %d/%d: loss %.4f, test accuracy %.2f%%, %.0f img/s, %.0f s\n", p->epoch + 1,
               p->epochs, p->loss, 100.0 * p->test_accuracy, p->images_per_second, p->elapsed);
    fflush(stdout);
    return !atomic_load(pr->cancel);
}

/* Trains, prints, writes. */
static int pretrain(const LptPretrainOptions *opt, const char *out, const char *preset,
                    const char *command, const LptBackendOptions *bopt, bool json)
{
    LptError err = {0};
    LptVit *vit = NULL;
    int rc = LPT_EXIT_ERROR;
    LptBackend *be = lpt_backend_new(bopt, &err);
    if (!be)
        goto fail;
    Printer pr = {json, isatty(STDERR_FILENO) != 0, lpt_cli_cancel_on_signals()};
    LptPretrainOptions o = *opt;
    o.progress = on_progress;
    o.progress_user = &pr;
    const LptVitConfig *v = &o.vit;
    if (!json) {
        printf("pretrain: %s: image %d, patch %d, depth %d, width %d, heads %d, mlp %d; "
               "%d epochs of batch %d, lr %g, seed %llu\n",
               preset, v->image, v->patch, v->depth, v->width, v->heads, v->mlp, o.epochs, o.batch,
               o.lr, (unsigned long long)o.seed);
        printf("backend %s\n", lpt_backend_description(be));
        fflush(stdout);
    }
    LptPretrainResult res;
    vit = lpt_pretrain_run(be, &o, &res, &err);
    if (!vit)
        goto fail;
    char num[8][64];
    snprintf(num[0], sizeof num[0], "%d", res.epochs);
    snprintf(num[1], sizeof num[1], "%.6f", res.test_accuracy);
    snprintf(num[2], sizeof num[2], "%llu", (unsigned long long)o.seed);
    snprintf(num[3], sizeof num[3], "%.1f", res.seconds);
    snprintf(num[4], sizeof num[4], "%lld", (long long)res.train_images);
    snprintf(num[5], sizeof num[5], "%lld", (long long)res.test_images);
    snprintf(num[6], sizeof num[6], "%zu", res.backbone_params);
    snprintf(num[7], sizeof num[7], "%d", o.batch);
    const char *meta[] = {"command",
                          command,
                          "preset",
                          preset,
                          "epochs",
                          num[0],
                          "test_accuracy",
                          num[1],
                          "seed",
                          num[2],
                          "seconds",
                          num[3],
                          "train_images",
                          num[4],
                          "test_images",
                          num[5],
                          "params",
                          num[6],
                          "batch",
                          num[7],
                          "backend",
                          lpt_backend_description(be),
                          NULL};
    if (lpt_pretrain_write(vit, out, meta, &err) != LPT_OK)
        goto fail;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "out", out);
        cJSON_AddNumberToObject(root, "params", (double)res.backbone_params);
        cJSON_AddNumberToObject(root, "classes", res.classes);
        cJSON_AddNumberToObject(root, "train_images", (double)res.train_images);
        cJSON_AddNumberToObject(root, "test_images", (double)res.test_images);
        cJSON_AddNumberToObject(root, "epochs", res.epochs);
        cJSON_AddNumberToObject(root, "first_epoch_loss", res.first_epoch_loss);
        cJSON_AddNumberToObject(root, "last_epoch_loss", res.last_epoch_loss);
        cJSON_AddNumberToObject(root, "test_accuracy", res.test_accuracy);
        cJSON_AddNumberToObject(root, "seconds", res.seconds);
        lpt_cli_print_json(root);
    } else {
        printf("wrote %s: %zu parameters, %d classes, test accuracy %.2f%% after %d epochs, "
               "%.0f s\n",
               out, res.backbone_params, res.classes, 100.0 * res.test_accuracy, res.epochs,
               res.seconds);
    }
    rc = LPT_EXIT_OK;
    goto done;
fail:
    fflush(stdout);
    fprintf(stderr, "lpt pretrain: %s\n", err.message);
done:
    lpt_vit_free(vit);
    lpt_backend_free(be);
    return rc;
}

/* --config small|tiny (LptCliPretrainOwnFn) */
static int own_option(const char *a, const char *val, void *user)
{
    if (!val || strcmp(a, "--config") != 0)
        return 0;
    *(const char **)user = val;
    return 2;
}

int lpt_cmd_pretrain(int argc, char **argv)
{
    const char *preset_name = "small";
    LptBackendOptions bopt;
    LptCliPretrainArgs args;
    int rc;
    char *command = lpt_cli_pretrain_parse(argc, argv, "pretrain", USAGE, 100000, 1, own_option,
                                           &preset_name, &bopt, &args, &rc);
    if (!command)
        return rc;
    LptPretrainPreset preset;
    rc = LPT_EXIT_USAGE;
    if (!args.data || !args.out)
        fprintf(stderr, "lpt pretrain: --data and --out are required\n%s\n", USAGE);
    else if (!lpt_pretrain_preset_parse(preset_name, &preset))
        fprintf(stderr, "lpt pretrain: --config takes 'small' or 'tiny'\n");
    else
        rc = LPT_EXIT_OK;
    if (rc != LPT_EXIT_OK) {
        free(command);
        return rc;
    }
    LptPretrainOptions opt;
    lpt_pretrain_options_init(&opt, preset);
    opt.data = args.data;
    lpt_cli_pretrain_apply(&args, &opt.epochs, &opt.batch, &opt.lr, &opt.min_lr, &opt.seed,
                           &opt.max_train, &opt.max_test);
    rc = pretrain(&opt, args.out, preset_name, command, &bopt, args.json);
    free(command);
    return rc;
}

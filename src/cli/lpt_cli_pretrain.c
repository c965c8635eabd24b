/* lpt_cli_pretrain.c: the command-line options `lpt pretrain` and `lpt pretrain-clip` share.
 * See lpt_cli_pretrain.h.
 */
#include "lpt_cli_pretrain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_cli.h"

/* Nothing given. */
static void args_init(LptCliPretrainArgs *args)
{
    *args = (LptCliPretrainArgs){.epochs = -1, .batch = -1, .lr = -1, .seed = -1};
}

/* One shared option into args: how many arguments it took (1 or 2), 0 when `a` is none of
 * them or its value is bad. */
static int shared_option(const char *a, const char *val, int max_epochs, int min_batch,
                         LptCliPretrainArgs *args)
{
    bool ok;
    if (strcmp(a, "--json") == 0) {
        args->json = true;
        return 1;
    } else if (!val) {
        return 0;
    } else if (strcmp(a, "--data") == 0) {
        args->data = val;
        ok = true;
    } else if (strcmp(a, "--out") == 0) {
        args->out = val;
        ok = true;
    } else if (strcmp(a, "--epochs") == 0) {
        ok = lpt_cli_parse_number(val, 1, max_epochs, &args->epochs) &&
             args->epochs == (int)args->epochs;
    } else if (strcmp(a, "--batch") == 0) {
        ok = lpt_cli_parse_number(val, min_batch, 65536, &args->batch) &&
             args->batch == (int)args->batch;
    } else if (strcmp(a, "--lr") == 0) {
        ok = lpt_cli_parse_number(val, 1e-9, 10, &args->lr);
    } else if (strcmp(a, "--seed") == 0) {
        ok = lpt_cli_parse_number(val, 0, 9007199254740992.0, &args->seed) &&
             args->seed == (double)(int64_t)args->seed;
    } else if (strcmp(a, "--max-train") == 0) {
        ok = lpt_cli_parse_number(val, 1, 1e12, &args->max_train);
    } else if (strcmp(a, "--max-test") == 0) {
        ok = lpt_cli_parse_number(val, 1, 1e12, &args->max_test);
    } else {
        ok = false;
    }
    return ok ? 2 : 0;
}

char *lpt_cli_pretrain_parse(int argc, char **argv, const char *name, const char *usage,
                             int max_epochs, int min_batch, LptCliPretrainOwnFn own, void *user,
                             LptBackendOptions *bopt, LptCliPretrainArgs *args, int *rc)
{
    *rc = LPT_EXIT_USAGE;
    char *command = lpt_cli_command_line(argc, argv);
    lpt_backend_options_init(bopt);
    args_init(args);
    if (!command || !lpt_cli_backend_options(&argc, argv, bopt)) {
        free(command);
        return NULL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (lpt_cli_is_help(a)) {
            free(command);
            *rc = lpt_cli_help(usage);
            return NULL;
        }
        int took = shared_option(a, val, max_epochs, min_batch, args);
        if (took == 0)
            took = own(a, val, user);
        if (took == 0) {
            fprintf(stderr, "lpt %s: bad or unknown option '%s'%s%s\n%s\n", name, a, val ? " " : "",
                    val ? val : "", usage);
            free(command);
            return NULL;
        }
        i += took - 1;
    }
    return command;
}

void lpt_cli_pretrain_apply(const LptCliPretrainArgs *args, int *epochs, int *batch, double *lr,
                            double *min_lr, uint64_t *seed, int64_t *max_train, int64_t *max_test)
{
    if (args->epochs > 0)
        *epochs = (int)args->epochs;
    if (args->batch > 0)
        *batch = (int)args->batch;
    if (args->lr > 0)
        *lr = args->lr;
    if (*min_lr > *lr)
        *min_lr = *lr;
    if (args->seed >= 0)
        *seed = (uint64_t)args->seed;
    *max_train = (int64_t)args->max_train;
    *max_test = (int64_t)args->max_test;
}

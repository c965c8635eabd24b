/* lpt_cli_pretrain.h: what `lpt pretrain` and `lpt pretrain-clip` share on the command line:
 * parsing the dataset, schedule and backend options (and --help, and a bad option), and
 * putting the values into a run's options. */
#ifndef LPT_CLI_PRETRAIN_H
#define LPT_CLI_PRETRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"

typedef struct LptCliPretrainArgs {
    const char *data, *out; /* --data DIR, --out FILE */
    bool json;              /* --json */
    /* --epochs, --batch, --lr, --seed (-1: not given), --max-train, --max-test (0: all) */
    double epochs, batch, lr, seed, max_train, max_test;
} LptCliPretrainArgs;

/* A command's own option: when argument `a` (with `val` the next argument, NULL when there is
 * none) is one of them, stores it and returns how many arguments it took (1 or 2), else 0. */
typedef int (*LptCliPretrainOwnFn)(const char *a, const char *val, void *user);

/* Parses the arguments of `lpt <name>`: the backend options into *bopt, the shared ones
 * (--json; --data DIR, --out FILE, --epochs N in [1, max_epochs], --batch B in [min_batch,
 * 65536], --lr X, --seed S, --max-train N, --max-test N) into *args, the rest through `own`.
 * Returns the command line for the file's metadata (malloc'd, lpt_cli_command_line), or NULL
 * with the exit code in *rc: after --help (the usage printed, LPT_EXIT_OK) or a bad or unknown
 * option (the usage on stderr, LPT_EXIT_USAGE). */
char *lpt_cli_pretrain_parse(int argc, char **argv, const char *name, const char *usage,
                             int max_epochs, int min_batch, LptCliPretrainOwnFn own, void *user,
                             LptBackendOptions *bopt, LptCliPretrainArgs *args, int *rc);

/* Puts the values given into a run's options: epochs, batch, lr (min_lr lowered to it when
 * above), seed, max_train, max_test. */
void lpt_cli_pretrain_apply(const LptCliPretrainArgs *args, int *epochs, int *batch, double *lr,
                            double *min_lr, uint64_t *seed, int64_t *max_train, int64_t *max_test);

#endif

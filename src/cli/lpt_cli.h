/* lpt_cli.h: the subcommands of `lpt` (one file each) and the helpers they share.
 * Exit codes: 0 ok, 1 runtime error, 2 usage. */
#ifndef LPT_CLI_H
#define LPT_CLI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"

#define LPT_EXIT_OK 0
#define LPT_EXIT_ERROR 1
#define LPT_EXIT_USAGE 2

int lpt_cmd_devices(int argc, char **argv);
int lpt_cmd_selftest(int argc, char **argv);
int lpt_cmd_bench(int argc, char **argv);
int lpt_cmd_bench_vit(int argc, char **argv); /* `lpt bench vit`, via lpt_cmd_bench */
int lpt_cmd_dataset(int argc, char **argv);
int lpt_cmd_import(int argc, char **argv);
int lpt_cmd_stats(int argc, char **argv);
int lpt_cmd_train(int argc, char **argv);
int lpt_cmd_eval(int argc, char **argv);
int lpt_cmd_embed(int argc, char **argv);
int lpt_cmd_pretrain(int argc, char **argv);
int lpt_cmd_pretrain_clip(int argc, char **argv);
int lpt_cmd_backbone(int argc, char **argv);
int lpt_cmd_demo(int argc, char **argv);
int lpt_cmd_export(int argc, char **argv);
int lpt_cmd_predict(int argc, char **argv);

/* Parses the options every compute command takes: --backend cpu|vulkan, --device N|NAME,
 * --threads N. Consumed arguments are removed from argv; returns false (after printing why)
 * on a bad value. */
bool lpt_cli_backend_options(int *argc, char **argv, LptBackendOptions *opt);

/* Escapes text for a JSON string (quotes, backslashes, control characters) into buf, cutting
 * it to fit; returns buf. */
const char *lpt_cli_json_escape(const char *text, char *buf, size_t size);

/* Seconds on a monotonic clock (for rates and ETAs). */
double lpt_cli_now_seconds(void);

/* Prints `message` for a usage error and returns LPT_EXIT_USAGE. */
int lpt_cli_usage_error(const char *command, const char *message);

/* The command line "lpt ARG..." as one malloc'd string (arguments with blanks or quotes in
 * single quotes), for a file's metadata; NULL when out of memory. */
char *lpt_cli_command_line(int argc, char **argv);

/* Parses a whole number or decimal in [lo, hi]; false when text is not one. */
bool lpt_cli_parse_number(const char *text, double lo, double hi, double *out);

/* Whether `arg` asks for the usage (--help, -h). */
bool lpt_cli_is_help(const char *arg);

/* Prints the usage text on stdout and returns LPT_EXIT_OK (the answer to --help). */
int lpt_cli_help(const char *usage);

/* Prints "lpt COMMAND: unexpected 'ARG'" and the usage on stderr; returns LPT_EXIT_USAGE. */
int lpt_cli_unexpected(const char *command, const char *arg, const char *usage);

/* Parses a run id (a whole number >= 1); false when text is not one. */
bool lpt_cli_parse_run_id(const char *text, int64_t *id);

/* The progress line on stderr, when it is a terminal: lpt_cli_status replaces the line with
 * the formatted text and sets *drawn; lpt_cli_status_clear erases it when *drawn, and clears
 * *drawn. */
void lpt_cli_status(bool *drawn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lpt_cli_status_clear(bool *drawn);

/* A bar of `width` cells, '#' for the part done of total and '.' for the rest, into
 * cells[width + 1]. */
void lpt_cli_bar(char *cells, int width, int64_t done, int64_t total);

/* Prints `root` as one line of JSON on stdout, then deletes it. */
struct cJSON;
void lpt_cli_print_json(struct cJSON *root);

/* From now on SIGINT (Ctrl-C) and SIGTERM set the returned flag (one for the process) instead
 * of ending it, so that a long command stops at its next check and keeps what it saved. */
atomic_bool *lpt_cli_cancel_on_signals(void);

#endif

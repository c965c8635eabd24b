/* lpt_main.c: `lpt`, the command line of LPT Studio: dispatches to the subcommands. */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct Command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    {"devices", lpt_cmd_devices, "list the Vulkan devices and the CPU backend"},
    {"selftest", lpt_cmd_selftest, "run every op on every device and compare with the CPU"},
    {"bench", lpt_cmd_bench, "benchmarks: `lpt bench ops|vit [--backend cpu|vulkan] [--json]`"},
    {"dataset", lpt_cmd_dataset, "`lpt dataset build mnist|fashion-mnist-lt --out DIR`"},
    {"import", lpt_cmd_import, "`lpt import --project FILE [--split auto|train|val|test] SOURCE`"},
    {"stats", lpt_cmd_stats, "`lpt stats --project FILE [--json]`: classes, groups, warnings"},
    {"train", lpt_cmd_train, "`lpt train --project FILE [--phase 1|2|3|all] [--expert vision|vl]`"},
    {"eval", lpt_cmd_eval, "`lpt eval --project FILE [--run ID] [--split test] [--json]`"},
    {"export", lpt_cmd_export, "`lpt export --project FILE --format bundle|onnx --out FILE`"},
    {"predict", lpt_cmd_predict, "`lpt predict --model FILE [--json] IMAGE|DIR...`: classify"},
    {"embed", lpt_cmd_embed, "`lpt embed --backbone FILE [--json] IMAGE...`: features"},
    {"pretrain", lpt_cmd_pretrain, "`lpt pretrain --data DIR --out FILE`: ViT from scratch"},
    {"pretrain-clip", lpt_cmd_pretrain_clip,
     "`lpt pretrain-clip --data DIR --vocab FILE --out FILE`: CLIP pair from scratch"},
    {"backbone", lpt_cmd_backbone, "`lpt backbone add|list --project FILE`: weight files"},
    {"demo", lpt_cmd_demo, "`lpt demo [--out DIR]`: Fashion-MNIST-LT end to end, then the GUI"},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: lpt COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\ncompute options: --backend cpu|vulkan  --device N|NAME (or LPT_DEVICE)  "
                "--threads N (or LPT_THREADS)\n");
}

bool lpt_cli_backend_options(int *argc, char **argv, LptBackendOptions *opt)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < *argc;
        if (strcmp(a, "--backend") == 0) {
            if (!has_value || !lpt_backend_kind_parse(argv[i + 1], &opt->kind)) {
                fprintf(stderr, "lpt: --backend takes 'cpu' or 'vulkan'\n");
                return false;
            }
            i++;
        } else if (strcmp(a, "--device") == 0) {
            if (!has_value) {
                fprintf(stderr, "lpt: --device takes an index or a name\n");
                return false;
            }
            opt->device = argv[++i];
            opt->kind = LPT_BACKEND_VULKAN;
        } else if (strcmp(a, "--threads") == 0) {
            char *end;
            long n = has_value ? strtol(argv[i + 1], &end, 10) : 0;
            if (!has_value || *end || n < 1 || n > 256) {
                fprintf(stderr, "lpt: --threads takes a number from 1 to 256\n");
                return false;
            }
            opt->threads = (int)n;
            i++;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return true;
}

const char *lpt_cli_json_escape(const char *text, char *buf, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && o + 7 < size; p++) {
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(buf + o, size - o, "\\u%04x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o] = '\0';
    return buf;
}

double lpt_cli_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int lpt_cli_usage_error(const char *command, const char *message)
{
    fprintf(stderr, "lpt %s: %s\n", command, message);
    return LPT_EXIT_USAGE;
}

char *lpt_cli_command_line(int argc, char **argv)
{
    size_t n = 8;
    for (int i = 0; i < argc; i++)
        n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n), *o = s;
    if (!s)
        return NULL;
    o += sprintf(o, "lpt");
    for (int i = 0; i < argc; i++) {
        bool quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t\n'\"\\$`") != NULL;
        *o++ = ' ';
        if (quote)
            *o++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'') {
                memcpy(o, "'\\''", 4);
                o += 4;
            } else {
                *o++ = *c;
            }
        }
        if (quote)
            *o++ = '\'';
    }
    *o = '\0';
    return s;
}

bool lpt_cli_parse_number(const char *text, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

bool lpt_cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int lpt_cli_help(const char *usage)
{
    printf("%s\n", usage);
    return LPT_EXIT_OK;
}

int lpt_cli_unexpected(const char *command, const char *arg, const char *usage)
{
    fprintf(stderr, "lpt %s: unexpected '%s'\n", command, arg);
    return lpt_cli_usage_error(command, usage);
}

bool lpt_cli_parse_run_id(const char *text, int64_t *id)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*end || v < 1)
        return false;
    *id = v;
    return true;
}

void lpt_cli_status(bool *drawn, const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    *drawn = true;
}

void lpt_cli_status_clear(bool *drawn)
{
    if (*drawn)
        fprintf(stderr, "\r\033[K");
    *drawn = false;
}

void lpt_cli_bar(char *cells, int width, int64_t done, int64_t total)
{
    int fill = total > 0 ? (int)(width * done / total) : 0;
    for (int i = 0; i < width; i++)
        cells[i] = i < fill ? '#' : '.';
    cells[width] = '\0';
}

void lpt_cli_print_json(cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    if (text)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
}

static atomic_bool cancel_requested;

static void on_cancel_signal(int sig)
{
    (void)sig;
    atomic_store(&cancel_requested, true);
}

atomic_bool *lpt_cli_cancel_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cancel_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &cancel_requested;
}

int main(int argc, char **argv)
{
    lpt_backend_prepare_process(argv);
    if (argc < 2) {
        usage(stderr);
        return LPT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return LPT_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lpt: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return LPT_EXIT_USAGE;
}

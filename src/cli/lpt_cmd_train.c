/* lpt_cmd_train.c: `lpt train --project FILE [--phase 1|2|3|all] [--expert vision|vl]
 * [--config FILE] [--run ID] [--new] [--backend cpu|vulkan] [--device N] [--json]`: trains
 * the project's run (lpt_train.h: continues the latest run with the same config from its
 * last checkpoints, else starts one).
 *
 * Progress: on a terminal, a bar on stderr (phase, expert, epoch, step, loss, lr, images/s,
 * ETA); with --json, one JSON object per line on stdout: {"event": "step" | "epoch" |
 * "eval" | "cache", phase, expert, epoch, epochs, step, steps, loss, lr, images_per_second,
 * eta_seconds[, val_overall, val_balanced]} (steps at most ~4 per second, every epoch), then
 * {"event": "done", "run", "status", "message"}; otherwise one line per epoch. Ctrl-C
 * (SIGINT) or SIGTERM cancels between steps: the last epoch's checkpoint stays and the next
 * `lpt train` resumes from it. Exit 0 when the phases asked for are done, 1 on an error or
 * cancel, 2 on a usage error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_train.h"

#define USAGE                                                                                      \
    "usage: lpt train --project FILE [--phase 1|2|3|all] [--expert vision|vl] [--config FILE]\n"   \
    "                 [--run ID] [--new] [--backend cpu|vulkan] [--device N] [--threads N]\n"      \
    "                 [--json]\n"                                                                  \
    "  Trains every phase in order (phase 1 of each expert, phase 2 of each, phase 3 the\n"        \
    "  scorer), or the phase / expert asked for. Without --run, the latest run with the same\n"    \
    "  config continues from its last checkpoints; --new always starts a new run.\n"               \
    "  --config: a JSON file read onto the method's defaults (lpt_run_config.h)."

typedef struct Out {
    bool json, tty, drawn;
    double last_json;
} Out;

/* "1h02m", "3m05s", "12s" or "-" into buf. */
static const char *duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "-");
    else if (s >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%.0fs", s);
    return buf;
}

/* "0.1234" or "-" when not measured. */
static void rate(double v, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.4f", v);
    else
        snprintf(buf, size, "-");
}

static const char *stage_name(LptTrainStage stage)
{
    switch (stage) {
    case LPT_TRAIN_STAGE_TRAIN:
        return "step";
    case LPT_TRAIN_STAGE_EVAL:
        return "eval";
    case LPT_TRAIN_STAGE_CACHE:
        return "cache";
    case LPT_TRAIN_STAGE_EPOCH:
        return "epoch";
    }
    return "?";
}

/* A number, or null when it is not finite. */
static void add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void print_json_progress(const LptTrainProgress *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", stage_name(p->stage));
    cJSON_AddNumberToObject(o, "phase", p->phase);
    cJSON_AddStringToObject(o, "expert", lpt_store_expert_name(p->expert));
    cJSON_AddNumberToObject(o, "epoch", p->epoch);
    cJSON_AddNumberToObject(o, "epochs", p->epochs);
    cJSON_AddNumberToObject(o, "step", (double)p->step);
    cJSON_AddNumberToObject(o, "steps", (double)p->steps);
    add_number(o, "loss", p->loss);
    add_number(o, "lr", p->lr);
    add_number(o, "images_per_second", p->images_per_second);
    add_number(o, "eta_seconds", p->eta_seconds);
    if (p->stage == LPT_TRAIN_STAGE_EPOCH) {
        add_number(o, "val_overall", p->val_overall);
        add_number(o, "val_balanced", p->val_balanced);
    }
    lpt_cli_print_json(o);
    fflush(stdout);
}

static bool on_progress(const LptTrainProgress *p, void *user)
{
    Out *out = user;
    char eta[32];
    if (out->json) {
        double t = lpt_cli_now_seconds();
        bool last = p->step == p->steps;
        if (p->stage == LPT_TRAIN_STAGE_EPOCH || last || t - out->last_json >= 0.25) {
            print_json_progress(p);
            out->last_json = t;
        }
    } else if (out->tty) {
        enum { WIDTH = 20 };
        char cells[WIDTH + 1];
        lpt_cli_bar(cells, WIDTH, p->step, p->steps);
        if (p->stage == LPT_TRAIN_STAGE_TRAIN)
            lpt_cli_status(&out->drawn,
                           "phase %d %-6s epoch %d/%d [%s] %lld/%lld loss %.4f lr %.2e %.1f img/s "
                           "ETA %s",
                           p->phase, lpt_store_expert_name(p->expert), p->epoch + 1, p->epochs,
                           cells, (long long)p->step, (long long)p->steps, p->loss, p->lr,
                           p->images_per_second, duration(p->eta_seconds, eta, sizeof eta));
        else if (p->stage != LPT_TRAIN_STAGE_EPOCH)
            lpt_cli_status(&out->drawn, "phase %d %-6s %s [%s] %lld/%lld", p->phase,
                           lpt_store_expert_name(p->expert),
                           p->stage == LPT_TRAIN_STAGE_CACHE ? "caching features" : "validating",
                           cells, (long long)p->step, (long long)p->steps);
    }
    if (!out->json && p->stage == LPT_TRAIN_STAGE_EPOCH) {
        lpt_cli_status_clear(&out->drawn);
        char vo[16], vb[16];
        rate(p->val_overall, vo, sizeof vo);
        rate(p->val_balanced, vb, sizeof vb);
        printf("phase %d %-6s epoch %3d/%d  loss %.4f  lr %.2e  val overall %s  balanced %s  "
               "ETA %s\n",
               p->phase, lpt_store_expert_name(p->expert), p->epoch + 1, p->epochs, p->loss, p->lr,
               vo, vb, duration(p->eta_seconds, eta, sizeof eta));
        fflush(stdout);
    }
    return true;
}

/* The whole file at path (malloc'd, NUL-terminated) or NULL with a message printed. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        fprintf(stderr, "lpt train: cannot open '%s'\n", path);
        return NULL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "lpt train: cannot read '%s'\n", path);
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int lpt_cmd_train(int argc, char **argv)
{
    LptTrainOptions opt;
    lpt_train_options_init(&opt);
    if (!lpt_cli_backend_options(&argc, argv, &opt.backend))
        return LPT_EXIT_USAGE;
    const char *config_path = NULL;
    Out out = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (lpt_cli_is_help(a)) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            out.json = true;
        } else if (strcmp(a, "--new") == 0) {
            opt.new_run = true;
        } else if (strcmp(a, "--project") == 0 && has) {
            opt.project = argv[++i];
        } else if (strcmp(a, "--config") == 0 && has) {
            config_path = argv[++i];
        } else if (strcmp(a, "--run") == 0 && has) {
            if (!lpt_cli_parse_run_id(argv[++i], &opt.run_id))
                return lpt_cli_usage_error("train", "--run takes a run id (>= 1)");
        } else if (strcmp(a, "--phase") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "all") == 0)
                opt.phase = 0;
            else if (strcmp(v, "1") == 0 || strcmp(v, "2") == 0 || strcmp(v, "3") == 0)
                opt.phase = v[0] - '0';
            else
                return lpt_cli_usage_error("train", "--phase takes 1, 2, 3 or all");
        } else if (strcmp(a, "--expert") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "vision") == 0)
                opt.expert = LPT_STORE_EXPERT_VISION;
            else if (strcmp(v, "vl") == 0)
                opt.expert = LPT_STORE_EXPERT_VL;
            else
                return lpt_cli_usage_error("train", "--expert takes vision or vl");
        } else {
            return lpt_cli_unexpected("train", a, USAGE);
        }
    }
    if (!opt.project)
        return lpt_cli_usage_error("train", "--project FILE is required\n" USAGE);
    char *config = NULL;
    if (config_path && !(config = read_file(config_path)))
        return LPT_EXIT_ERROR;
    opt.config_json = config;
    opt.config_source = config_path;
    out.tty = isatty(STDERR_FILENO);
    opt.progress = on_progress;
    opt.user = &out;
    opt.cancel = lpt_cli_cancel_on_signals();
    LptError err = {0};
    int64_t run_id = 0;
    LptStatus st = lpt_train_run(&opt, &run_id, &err);
    free(config);
    lpt_cli_status_clear(&out.drawn);
    const char *status = st == LPT_OK ? "done" : st == LPT_ERR_CANCELLED ? "cancelled" : "failed";
    if (out.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", "done");
        cJSON_AddNumberToObject(o, "run", (double)run_id);
        cJSON_AddStringToObject(o, "status", status);
        if (st != LPT_OK)
            cJSON_AddStringToObject(o, "message", err.message);
        lpt_cli_print_json(o);
    } else if (st == LPT_OK) {
        printf("run %lld: the phases asked for are done\n", (long long)run_id);
    }
    if (st != LPT_OK)
        fprintf(stderr, "lpt train: %s%s\n", err.message,
                st == LPT_ERR_CANCELLED ? " (the next `lpt train` resumes from the last epoch)"
                                        : "");
    return st == LPT_OK ? LPT_EXIT_OK : LPT_EXIT_ERROR;
}

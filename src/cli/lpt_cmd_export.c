/* lpt_cmd_export.c: `lpt export --project FILE [--run ID] --format bundle|onnx --out FILE
 * [--prior SPEC | --prior @FILE] [--embed-backbones] [--onnx-runtime DIR [--onnx-runner JS]]
 * [--backend cpu|vulkan] [--device N] [--threads N] [--json]`: exports a finished run
 * (lpt_export.h): writes the artefact, checks it against the project's predictions of the
 * test images before it takes the name asked for, records it in the project, and prints the
 * parity figures. An ONNX file is checked when --onnx-runtime names onnxruntime-node's folder
 * (tests/fetch_onnxruntime.sh prints it); the runner is tests/onnx_run.js of the sources by
 * default.
 *
 * JSON (one object on stdout, also when the parity check fails): {run, format, out, sha256,
 * export_id, evaluated_first, seconds: {write, parity}, parity: {the exports row's parity
 * JSON}}. Exit 0 when exported, 1 on an error (a failed parity check included), 2 on a usage
 * error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lpt_export.h"

#define USAGE                                                                                      \
    "usage: lpt export --project FILE [--run ID] --format bundle|onnx --out FILE\n"                \
    "                  [--prior NAME=FREQ,...|@FILE] [--embed-backbones]\n"                        \
    "                  [--onnx-runtime DIR [--onnx-runner JS]]\n"                                  \
    "                  [--backend cpu|vulkan] [--device N] [--threads N] [--json]\n"               \
    "  Exports a finished run (the latest by default) as a model bundle (.lptmodel, for lpt\n"     \
    "  predict and the C library) or an ONNX file. --prior gives the class frequencies\n"          \
    "  expected where the model will run (\"*=1\" for every class not named); the export\n"        \
    "  adjusts the fused probabilities for them. A bundle is checked against the project's\n"      \
    "  predictions of the test images before it is written; an ONNX file too when\n"               \
    "  --onnx-runtime gives onnxruntime-node's folder (docs/export.md)."

#define RUNNER LPT_SOURCE_DIR "/tests/onnx_run.js" /* the ONNX Runtime runner of the sources */

static bool on_progress(LptExportStage stage, int64_t done, int64_t total, void *user)
{
    static const char *names[] = {"loading the run", "recording the app's predictions first",
                                  "writing", "checking parity"};
    if (stage == LPT_EXPORT_STAGE_PARITY)
        lpt_cli_status(user, "%s: %lld/%lld images", names[stage], (long long)done,
                       (long long)total);
    else
        lpt_cli_status(user, "%s", names[stage]);
    return true;
}

static void print_text(const LptExportOptions *o, const LptExportReport *r, bool ok)
{
    const LptParity *p = &r->parity;
    if (ok)
        printf("exported run %lld to %s (%s%s), sha256 %s\n", (long long)r->run_id, o->out,
               lpt_store_export_format_name(o->format),
               o->format == LPT_STORE_EXPORT_ONNX ? ""
               : o->embed_backbones               ? ", backbones embedded"
                                                  : ", backbones referenced",
               r->sha256);
    if (r->evaluated_first)
        printf("the project had no predictions of some test images: evaluated the run first\n");
    if (!p->checked) {
        printf("parity: not checked (%s)\n", p->note);
    } else {
        printf("parity on %s: %lld test images compared, max |delta p| %.3g (target %g), "
               "%lld label flips: %s\n",
               p->backend, (long long)p->images, p->max_abs_diff,
               o->format == LPT_STORE_EXPORT_ONNX ? LPT_PARITY_MAX_DIFF_ONNX : LPT_PARITY_MAX_DIFF,
               (long long)p->flips, p->passed ? "passed" : "FAILED");
        printf("  experts' confidences max |delta| %.3g, scorer weights max |delta| %.3g, "
               "group prompts differ on %lld images\n",
               p->max_abs_diff_experts, p->max_abs_diff_weights, (long long)p->prompt_mismatches);
    }
    if (r->prior_json)
        printf("deployment prior: %s\n", r->prior_json);
}

static void print_json(const LptExportOptions *o, const LptExportReport *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "run", (double)r->run_id);
    cJSON_AddStringToObject(root, "format", lpt_store_export_format_name(o->format));
    cJSON_AddStringToObject(root, "out", o->out);
    cJSON_AddStringToObject(root, "sha256", r->sha256);
    cJSON_AddNumberToObject(root, "export_id", (double)r->export_id);
    cJSON_AddBoolToObject(root, "evaluated_first", r->evaluated_first);
    cJSON *sec = cJSON_AddObjectToObject(root, "seconds");
    cJSON_AddNumberToObject(sec, "write", r->seconds_write);
    cJSON_AddNumberToObject(sec, "parity", r->seconds_parity);
    cJSON *parity = r->parity_json ? cJSON_Parse(r->parity_json) : NULL;
    if (!parity) { /* a failed check records nothing; say what was measured */
        parity = cJSON_CreateObject();
        cJSON_AddBoolToObject(parity, "checked", r->parity.checked);
        cJSON_AddBoolToObject(parity, "passed", r->parity.passed);
        cJSON_AddNumberToObject(parity, "images", (double)r->parity.images);
        cJSON_AddNumberToObject(parity, "max_abs_diff", r->parity.max_abs_diff);
        cJSON_AddNumberToObject(parity, "flips", (double)r->parity.flips);
        cJSON_AddStringToObject(parity, "note", r->parity.note);
    }
    cJSON_AddItemToObject(root, "parity", parity);
    lpt_cli_print_json(root);
}

int lpt_cmd_export(int argc, char **argv)
{
    LptExportOptions opt;
    lpt_export_options_init(&opt);
    if (!lpt_cli_backend_options(&argc, argv, &opt.backend))
        return LPT_EXIT_USAGE;
    bool json = false, has_format = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (lpt_cli_is_help(a)) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--embed-backbones") == 0) {
            opt.embed_backbones = true;
        } else if (strcmp(a, "--project") == 0 && has) {
            opt.project = argv[++i];
        } else if (strcmp(a, "--out") == 0 && has) {
            opt.out = argv[++i];
        } else if (strcmp(a, "--prior") == 0 && has) {
            opt.prior = argv[++i];
        } else if (strcmp(a, "--onnx-runtime") == 0 && has) {
            opt.onnx_runtime = argv[++i];
        } else if (strcmp(a, "--onnx-runner") == 0 && has) {
            opt.onnx_runner = argv[++i];
        } else if (strcmp(a, "--run") == 0 && has) {
            if (!lpt_cli_parse_run_id(argv[++i], &opt.run_id))
                return lpt_cli_usage_error("export", "--run takes a run id (>= 1)");
        } else if (strcmp(a, "--format") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "bundle") == 0)
                opt.format = LPT_STORE_EXPORT_BUNDLE;
            else if (strcmp(v, "onnx") == 0)
                opt.format = LPT_STORE_EXPORT_ONNX;
            else
                return lpt_cli_usage_error("export", "--format takes bundle or onnx");
            has_format = true;
        } else {
            return lpt_cli_unexpected("export", a, USAGE);
        }
    }
    if (!opt.project || !opt.out || !has_format)
        return lpt_cli_usage_error("export", "--project, --format and --out are required\n" USAGE);
    if (opt.onnx_runtime && !opt.onnx_runner)
        opt.onnx_runner = access(RUNNER, R_OK) == 0 ? RUNNER : NULL;
    if ((opt.onnx_runtime || opt.onnx_runner) && (!opt.onnx_runtime || !opt.onnx_runner))
        return lpt_cli_usage_error("export", "--onnx-runtime needs the runner: give --onnx-runner "
                                             "(tests/onnx_run.js of the sources)");
    bool drawn = false;
    opt.progress = on_progress;
    opt.user = &drawn;
    opt.cancel = lpt_cli_cancel_on_signals();
    LptError err = {0};
    LptExportReport *r = NULL;
    LptStatus st = lpt_export_run(&opt, &r, &err);
    lpt_cli_status_clear(&drawn);
    if (r && json)
        print_json(&opt, r);
    else if (r)
        print_text(&opt, r, st == LPT_OK);
    lpt_export_report_free(r);
    if (st != LPT_OK) {
        fprintf(stderr, "lpt export: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    return LPT_EXIT_OK;
}

/* lpt_cmd_eval.c: `lpt eval --project FILE [--run ID] [--split test|val|train] [--no-record]
 * [--backend cpu|vulkan] [--device N] [--json]`: evaluates a run (the latest by default) on
 * a split, each expert alone and the fused model (lpt_train_evaluate), records every image's
 * prediction in the project (unless --no-record), and prints the metrics.
 *
 * JSON (one object on stdout): {run, method, split, images, classes: [names], fused: M,
 * experts: {vision: M, vl: M}, trainable_params: {vision, vl, scorer}, backbone_params:
 * {vision, vl}}, where M = {overall, balanced, many, medium, few, worst_recall, worst_class,
 * macro_f1, ece, group_classes: {many, medium, few}, per_class: [{name, train, group,
 * support, precision, recall, f1}], confusion: [[K] x K] (rows true, columns predicted)};
 * a rate that cannot be measured (a group with no class) is null. Exit 0, 1 on an error, 2 on
 * a usage error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_train.h"

#define USAGE                                                                                      \
    "usage: lpt eval --project FILE [--run ID] [--split test|val|train] [--no-record]\n"           \
    "                [--backend cpu|vulkan] [--device N] [--threads N] [--json]\n"                 \
    "  Evaluates each expert alone and the fused model on the split (test by default) and\n"       \
    "  records every image's prediction in the project."

static bool on_progress(const LptTrainProgress *p, void *user)
{
    lpt_cli_status(user, "evaluating %s: %lld/%lld batches", lpt_store_expert_name(p->expert),
                   (long long)p->step, (long long)p->steps);
    return true;
}

static void add_rate(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *metrics_json(const LptEvalMetrics *m, char **names)
{
    int K = m->num_classes;
    cJSON *o = cJSON_CreateObject();
    add_rate(o, "overall", m->overall);
    add_rate(o, "balanced", m->balanced);
    add_rate(o, "many", m->many);
    add_rate(o, "medium", m->medium);
    add_rate(o, "few", m->few);
    add_rate(o, "worst_recall", m->worst_recall);
    if (m->worst_class >= 0)
        cJSON_AddStringToObject(o, "worst_class", names[m->worst_class]);
    else
        cJSON_AddNullToObject(o, "worst_class");
    add_rate(o, "macro_f1", m->macro_f1);
    add_rate(o, "ece", m->ece);
    cJSON *g = cJSON_AddObjectToObject(o, "group_classes");
    for (int i = 0; i < LPT_GROUP_COUNT; i++)
        cJSON_AddNumberToObject(g, lpt_group_name((LptGroup)i), (double)m->group_classes[i]);
    cJSON *pc = cJSON_AddArrayToObject(o, "per_class");
    cJSON *cm = cJSON_AddArrayToObject(o, "confusion");
    for (int k = 0; k < K; k++) {
        const LptEvalClass *c = &m->classes[k];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", names[k]);
        cJSON_AddNumberToObject(e, "train", (double)c->train_count);
        cJSON_AddStringToObject(e, "group", lpt_group_name(c->group));
        cJSON_AddNumberToObject(e, "support", (double)c->support);
        add_rate(e, "precision", c->precision);
        add_rate(e, "recall", c->recall);
        add_rate(e, "f1", c->f1);
        cJSON_AddItemToArray(pc, e);
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; j < K; j++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[(size_t)k * K + j]));
        cJSON_AddItemToArray(cm, row);
    }
    return o;
}

static void print_json(const LptEvalReport *r, LptStoreSplit split)
{
    const LptTrainEvaluation *ev = r->evaluation;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "run", (double)r->run_id);
    cJSON_AddStringToObject(root, "method", lpt_method_name(r->method));
    cJSON_AddStringToObject(root, "split", lpt_store_split_name(split));
    cJSON_AddNumberToObject(root, "images", (double)r->images);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (int k = 0; k < r->num_classes; k++)
        cJSON_AddItemToArray(classes, cJSON_CreateString(r->class_names[k]));
    cJSON_AddItemToObject(root, "fused", metrics_json(lpt_eval_metrics(ev->fused), r->class_names));
    cJSON *experts = cJSON_AddObjectToObject(root, "experts");
    cJSON *tp = cJSON_AddObjectToObject(root, "trainable_params");
    cJSON *bp = cJSON_AddObjectToObject(root, "backbone_params");
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        if (!ev->experts[e])
            continue;
        const char *name = lpt_store_expert_name((LptStoreExpert)e);
        cJSON_AddItemToObject(experts, name,
                              metrics_json(lpt_eval_metrics(ev->experts[e]), r->class_names));
        cJSON_AddNumberToObject(tp, name, (double)ev->trainable_params[e]);
        cJSON_AddNumberToObject(bp, name, (double)ev->backbone_params[e]);
    }
    cJSON_AddNumberToObject(tp, "scorer", (double)ev->trainable_params[LPT_TRAIN_EXPERTS]);
    lpt_cli_print_json(root);
}

/* "12.34" (percent) or "-". */
static const char *pct(double v, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.2f", 100.0 * v);
    else
        snprintf(buf, size, "-");
    return buf;
}

static void print_row(const char *label, const LptEvalMetrics *m)
{
    char b[8][16];
    printf("  %-8s %7s %8s %6s %6s %6s %6s %8s %6s\n", label, pct(m->overall, b[0], 16),
           pct(m->balanced, b[1], 16), pct(m->many, b[2], 16), pct(m->medium, b[3], 16),
           pct(m->few, b[4], 16), pct(m->worst_recall, b[5], 16), pct(m->macro_f1, b[6], 16),
           pct(m->ece, b[7], 16));
}

static void print_text(const LptEvalReport *r, LptStoreSplit split)
{
    const LptTrainEvaluation *ev = r->evaluation;
    printf("run %lld (%s) on %s: %lld images, %d classes (percent)\n", (long long)r->run_id,
           lpt_method_name(r->method), lpt_store_split_name(split), (long long)r->images,
           r->num_classes);
    printf("  %-8s %7s %8s %6s %6s %6s %6s %8s %6s\n", "model", "overall", "balanced", "many",
           "medium", "few", "worst", "macro-F1", "ECE");
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++)
        if (ev->experts[e])
            print_row(lpt_store_expert_name((LptStoreExpert)e), lpt_eval_metrics(ev->experts[e]));
    const LptEvalMetrics *f = lpt_eval_metrics(ev->fused);
    print_row("fused", f);
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++)
        if (ev->experts[e])
            printf("trainable parameters, %s expert: %lld (backbone %lld, %.2f%%)\n",
                   lpt_store_expert_name((LptStoreExpert)e), (long long)ev->trainable_params[e],
                   (long long)ev->backbone_params[e],
                   ev->backbone_params[e] > 0
                       ? 100.0 * (double)ev->trainable_params[e] / (double)ev->backbone_params[e]
                       : 0.0);
    if (ev->trainable_params[LPT_TRAIN_EXPERTS] > 0)
        printf("trainable parameters, scorer: %lld\n",
               (long long)ev->trainable_params[LPT_TRAIN_EXPERTS]);
    printf("per class (fused):\n  %-24s %7s %6s %7s %9s %7s\n", "class", "train", "group",
           "support", "precision", "recall");
    for (int k = 0; k < r->num_classes; k++) {
        const LptEvalClass *c = &f->classes[k];
        char p[16], rc[16];
        printf("  %-24.24s %7lld %6s %7lld %9s %7s\n", r->class_names[k], (long long)c->train_count,
               lpt_group_name(c->group), (long long)c->support, pct(c->precision, p, sizeof p),
               pct(c->recall, rc, sizeof rc));
    }
}

int lpt_cmd_eval(int argc, char **argv)
{
    LptEvalOptions opt;
    lpt_eval_options_init(&opt);
    if (!lpt_cli_backend_options(&argc, argv, &opt.backend))
        return LPT_EXIT_USAGE;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (lpt_cli_is_help(a)) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--no-record") == 0) {
            opt.record = false;
        } else if (strcmp(a, "--project") == 0 && has) {
            opt.project = argv[++i];
        } else if (strcmp(a, "--run") == 0 && has) {
            if (!lpt_cli_parse_run_id(argv[++i], &opt.run_id))
                return lpt_cli_usage_error("eval", "--run takes a run id (>= 1)");
        } else if (strcmp(a, "--split") == 0 && has) {
            const char *v = argv[++i];
            if (strcmp(v, "test") == 0)
                opt.split = LPT_STORE_SPLIT_TEST;
            else if (strcmp(v, "val") == 0)
                opt.split = LPT_STORE_SPLIT_VAL;
            else if (strcmp(v, "train") == 0)
                opt.split = LPT_STORE_SPLIT_TRAIN;
            else
                return lpt_cli_usage_error("eval", "--split takes test, val or train");
        } else {
            return lpt_cli_unexpected("eval", a, USAGE);
        }
    }
    if (!opt.project)
        return lpt_cli_usage_error("eval", "--project FILE is required\n" USAGE);
    bool drawn = false;
    opt.progress = on_progress;
    opt.user = &drawn;
    opt.cancel = lpt_cli_cancel_on_signals();
    LptError err = {0};
    LptEvalReport *r = NULL;
    LptStatus st = lpt_train_evaluate(&opt, &r, &err);
    lpt_cli_status_clear(&drawn);
    if (st != LPT_OK) {
        fprintf(stderr, "lpt eval: %s\n", err.message);
        return LPT_EXIT_ERROR;
    }
    if (json)
        print_json(r, opt.split);
    else
        print_text(r, opt.split);
    lpt_eval_report_free(r);
    return LPT_EXIT_OK;
}

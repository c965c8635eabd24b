/* lpt_cmd_stats.c: `lpt stats --project FILE [--json]`: the project's class table (images per
 * split, share, many/medium/few group from the training counts), the imbalance ratio and the
 * warnings (lpt_stats.h); the text table lists the classes by training images, most first, the
 * JSON by class id. Opens the project read-only, so it runs while the app has it open.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_stats.h"
#include "lpt_store.h"

#define USAGE "usage: lpt stats --project FILE [--json]"

static void print_json(const char *project, const LptStats *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "project", project);
    cJSON_AddNumberToObject(root, "images", (double)s->total);
    cJSON_AddNumberToObject(root, "excluded", (double)s->excluded);
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    for (int sp = LPT_STORE_SPLIT_NONE; sp <= LPT_STORE_SPLIT_TEST; sp++)
        cJSON_AddNumberToObject(splits, lpt_store_split_name((LptStoreSplit)sp),
                                (double)s->split_total[sp]);
    if (isnan(s->imbalance_ratio))
        cJSON_AddNullToObject(root, "imbalance_ratio");
    else
        cJSON_AddNumberToObject(root, "imbalance_ratio", s->imbalance_ratio);
    cJSON *th = cJSON_AddObjectToObject(root, "thresholds");
    cJSON_AddNumberToObject(th, "many_above", (double)s->thresholds.many_above);
    cJSON_AddNumberToObject(th, "few_below", (double)s->thresholds.few_below);
    cJSON *groups = cJSON_AddObjectToObject(root, "groups");
    for (int g = 0; g < LPT_GROUP_COUNT; g++)
        cJSON_AddNumberToObject(groups, lpt_group_name((LptGroup)g), (double)s->group_classes[g]);
    cJSON *classes = cJSON_AddArrayToObject(root, "classes");
    for (size_t c = 0; c < s->num_classes; c++) {
        const LptStatsClass *k = &s->classes[c];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)k->class_id);
        cJSON_AddStringToObject(o, "name", k->name);
        for (int sp = LPT_STORE_SPLIT_NONE; sp <= LPT_STORE_SPLIT_TEST; sp++)
            cJSON_AddNumberToObject(o, lpt_store_split_name((LptStoreSplit)sp),
                                    (double)k->count[sp]);
        cJSON_AddNumberToObject(o, "total", (double)k->total);
        cJSON_AddNumberToObject(o, "excluded", (double)k->excluded);
        cJSON_AddNumberToObject(o, "share", k->share);
        cJSON_AddStringToObject(o, "group", lpt_group_name(k->group));
        cJSON_AddItemToArray(classes, o);
    }
    cJSON *warnings = cJSON_AddArrayToObject(root, "warnings");
    for (size_t i = 0; i < s->num_warnings; i++) {
        const LptStatsWarning *w = &s->warnings[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", lpt_stats_warning_name(w->kind));
        cJSON_AddStringToObject(o, "class", s->classes[w->class_index].name);
        cJSON_AddStringToObject(o, "message", w->message);
        cJSON_AddItemToArray(warnings, o);
    }
    lpt_cli_print_json(root);
}

/* Most training images first (the long tail reads downwards), then by name. */
static int by_train_count(const void *a, const void *b)
{
    const LptStatsClass *x = *(const LptStatsClass *const *)a;
    const LptStatsClass *y = *(const LptStatsClass *const *)b;
    int64_t nx = x->count[LPT_STORE_SPLIT_TRAIN], ny = y->count[LPT_STORE_SPLIT_TRAIN];
    return nx != ny ? (nx < ny) - (nx > ny) : strcmp(x->name, y->name);
}

static void print_text(const char *project, const LptStats *s)
{
    printf("%s: %lld images in %zu classes (train %lld, val %lld, test %lld", project,
           (long long)s->total, s->num_classes, (long long)s->split_total[LPT_STORE_SPLIT_TRAIN],
           (long long)s->split_total[LPT_STORE_SPLIT_VAL],
           (long long)s->split_total[LPT_STORE_SPLIT_TEST]);
    if (s->split_total[LPT_STORE_SPLIT_NONE])
        printf(", no split %lld", (long long)s->split_total[LPT_STORE_SPLIT_NONE]);
    if (s->excluded)
        printf("; %lld excluded", (long long)s->excluded);
    printf(")\n");
    if (isnan(s->imbalance_ratio))
        printf("imbalance ratio: - (no class has a training image)\n");
    else
        printf("imbalance ratio: %.1f (largest / smallest training class)\n", s->imbalance_ratio);
    printf("groups by training images: many (> %lld) %lld, medium %lld, few (< %lld) %lld\n",
           (long long)s->thresholds.many_above, (long long)s->group_classes[LPT_GROUP_MANY],
           (long long)s->group_classes[LPT_GROUP_MEDIUM], (long long)s->thresholds.few_below,
           (long long)s->group_classes[LPT_GROUP_FEW]);
    if (s->num_classes == 0)
        return;
    int width = 5;
    for (size_t c = 0; c < s->num_classes; c++) {
        int len = (int)strlen(s->classes[c].name);
        width = len > width ? (len > 40 ? 40 : len) : width;
    }
    const LptStatsClass **order = malloc(s->num_classes * sizeof *order);
    if (!order)
        return;
    for (size_t c = 0; c < s->num_classes; c++)
        order[c] = &s->classes[c];
    qsort(order, s->num_classes, sizeof *order, by_train_count);
    printf("  %-*s %7s %6s %6s %7s %6s  %s\n", width, "class", "train", "val", "test", "total",
           "share", "group");
    for (size_t c = 0; c < s->num_classes; c++) {
        const LptStatsClass *k = order[c];
        printf("  %-*s %7lld %6lld %6lld %7lld %5.1f%%  %s\n", width, k->name,
               (long long)k->count[LPT_STORE_SPLIT_TRAIN], (long long)k->count[LPT_STORE_SPLIT_VAL],
               (long long)k->count[LPT_STORE_SPLIT_TEST], (long long)k->total, 100.0 * k->share,
               lpt_group_name(k->group));
    }
    free(order);
    if (s->num_warnings > 0) {
        printf("warnings:\n");
        for (size_t i = 0; i < s->num_warnings; i++)
            printf("  %s\n", s->warnings[i].message);
    }
}

int lpt_cmd_stats(int argc, char **argv)
{
    const char *project = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (lpt_cli_is_help(argv[i])) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--project") == 0 && i + 1 < argc) {
            project = argv[++i];
        } else {
            return lpt_cli_unexpected("stats", argv[i], USAGE);
        }
    }
    if (!project)
        return lpt_cli_usage_error("stats", "--project FILE is required\n" USAGE);
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_READ_ONLY, &err);
    LptStats *stats = NULL;
    if (!store || lpt_stats_compute(store, &stats, &err) != LPT_OK) {
        fprintf(stderr, "lpt stats: %s\n", err.message);
        lpt_store_close(store);
        return LPT_EXIT_ERROR;
    }
    lpt_store_close(store);
    if (json)
        print_json(project, stats);
    else
        print_text(project, stats);
    lpt_stats_free(stats);
    return LPT_EXIT_OK;
}

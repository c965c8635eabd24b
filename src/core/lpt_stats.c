/* lpt_stats.c: a project's class table, groups, imbalance ratio and warnings (lpt_stats.h). */
#include "lpt_stats.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lpt_stats_warning_name(LptStatsWarningKind kind)
{
    switch (kind) {
    case LPT_STATS_WARN_FEW_IMAGES:
        return "few_images";
    case LPT_STATS_WARN_NO_TRAIN:
        return "no_train";
    case LPT_STATS_WARN_NO_VAL:
        return "no_val";
    case LPT_STATS_WARN_NO_TEST:
        return "no_test";
    case LPT_STATS_WARN_UNSPLIT:
        return "unsplit";
    }
    return "?";
}

void lpt_stats_free(LptStats *stats)
{
    if (!stats)
        return;
    for (size_t i = 0; i < stats->num_classes; i++)
        free(stats->classes[i].name);
    free(stats->classes);
    free(stats->warnings);
    free(stats);
}

/* The integer setting `key` into *value when set; an error naming it when it is no number. */
static LptStatus setting_int(LptStore *store, const char *key, int64_t *value, LptError *err)
{
    char *text = NULL;
    LptStatus st = lpt_store_setting_get(store, key, &text, err);
    if (st != LPT_OK || !text)
        return st;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "project '%s': setting %s = '%s' is not a whole number >= 0",
                           lpt_store_path(store), key, text);
    else
        *value = v;
    free(text);
    return st;
}

static void warn(LptStats *s, LptStatsWarningKind kind, size_t c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void warn(LptStats *s, LptStatsWarningKind kind, size_t c, const char *fmt, ...)
{
    LptStatsWarning *w = &s->warnings[s->num_warnings++];
    w->kind = kind;
    w->class_index = c;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->message, sizeof w->message, fmt, ap);
    va_end(ap);
}

LptStatus lpt_stats_compute(LptStore *store, LptStats **stats, LptError *err)
{
    if (!stats)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "stats: no output");
    *stats = NULL;
    if (!store)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "stats: no store");
    LptStoreClass *classes = NULL;
    LptStoreClassCount *counts = NULL;
    size_t n = 0, n_counts = 0;
    int64_t *train = NULL;
    LptGroup *groups = NULL;
    LptStats *s = calloc(1, sizeof *s);
    LptStatus st = LPT_OK;
    if (!s) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "stats: no memory");
        goto done;
    }
    s->thresholds.many_above = LPT_GROUP_MANY_ABOVE_DEFAULT;
    s->thresholds.few_below = LPT_GROUP_FEW_BELOW_DEFAULT;
    s->imbalance_ratio = NAN;
    if ((st = setting_int(store, "groups.many_above", &s->thresholds.many_above, err)) != LPT_OK ||
        (st = setting_int(store, "groups.few_below", &s->thresholds.few_below, err)) != LPT_OK ||
        (st = lpt_store_class_list(store, &classes, &n, err)) != LPT_OK ||
        (st = lpt_store_class_counts(store, &counts, &n_counts, err)) != LPT_OK)
        goto done;
    if (n_counts != n) {
        st = lpt_error_set(err, LPT_ERR_IO, 0,
                           "project '%s': %zu classes but counts for %zu (changed while read?)",
                           lpt_store_path(store), n, n_counts);
        goto done;
    }
    s->classes = calloc(n ? n : 1, sizeof *s->classes);
    s->warnings = calloc(n ? 5 * n : 1, sizeof *s->warnings);
    train = calloc(n ? n : 1, sizeof *train);
    groups = calloc(n ? n : 1, sizeof *groups);
    if (!s->classes || !s->warnings || !train || !groups) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "stats: no memory for %zu classes", n);
        goto done;
    }
    for (size_t c = 0; c < n; c++) {
        LptStatsClass *k = &s->classes[c];
        k->class_id = classes[c].id;
        if (!(k->name = strdup(classes[c].name))) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "stats: no memory");
            goto done;
        }
        s->num_classes++;
        for (size_t j = 0; j < n_counts; j++) {
            if (counts[j].class_id != k->class_id)
                continue;
            memcpy(k->count, counts[j].count, sizeof k->count);
            k->excluded = counts[j].excluded;
        }
        for (int sp = 0; sp < LPT_STORE_SPLIT_COUNT; sp++) {
            k->total += k->count[sp];
            s->split_total[sp] += k->count[sp];
        }
        s->total += k->total;
        s->excluded += k->excluded;
        train[c] = k->count[LPT_STORE_SPLIT_TRAIN];
    }
    if (n > 0) {
        if ((st = lpt_split_groups(train, (int32_t)n, &s->thresholds, groups, &s->imbalance_ratio,
                                   err)) != LPT_OK) {
            lpt_error_prefix(err, "project '%s': groups.many_above / groups.few_below",
                             lpt_store_path(store));
            goto done;
        }
    }
    for (size_t c = 0; c < n; c++) {
        LptStatsClass *k = &s->classes[c];
        k->group = groups[c];
        k->share = s->total > 0 ? (double)k->total / (double)s->total : 0.0;
        s->group_classes[k->group]++;
        if (k->total < LPT_STATS_MIN_IMAGES)
            warn(s, LPT_STATS_WARN_FEW_IMAGES, c, "class '%s' has %lld image%s (fewer than %d)",
                 k->name, (long long)k->total, k->total == 1 ? "" : "s", LPT_STATS_MIN_IMAGES);
        if (k->total > 0 && k->count[LPT_STORE_SPLIT_TRAIN] == 0)
            warn(s, LPT_STATS_WARN_NO_TRAIN, c, "class '%s' has no training image", k->name);
        if (k->total > 0 && k->count[LPT_STORE_SPLIT_VAL] == 0)
            warn(s, LPT_STATS_WARN_NO_VAL, c, "class '%s' is absent from val", k->name);
        if (k->total > 0 && k->count[LPT_STORE_SPLIT_TEST] == 0)
            warn(s, LPT_STATS_WARN_NO_TEST, c, "class '%s' is absent from test", k->name);
        if (k->count[LPT_STORE_SPLIT_NONE] > 0)
            warn(s, LPT_STATS_WARN_UNSPLIT, c, "class '%s' has %lld image%s with no split yet",
                 k->name, (long long)k->count[LPT_STORE_SPLIT_NONE],
                 k->count[LPT_STORE_SPLIT_NONE] == 1 ? "" : "s");
    }
    *stats = s;
    s = NULL;
done:
    lpt_stats_free(s);
    free(classes);
    free(counts);
    free(train);
    free(groups);
    return st;
}

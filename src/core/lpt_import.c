/* lpt_import.c: the import run of lpt_import.h: the scanner and worker threads, the bounded
 * queue between them, gathering one record per file, duplicates, splits, the one write
 * transaction and the report. The scanner is lpt_import_scan.c, a worker's file is
 * lpt_import_file.c (see lpt_import_impl.h for how the three fit).
 *
 * Threads: the caller's thread runs lpt_import_run: it starts the scanner and the workers,
 * gathers their records (waking at least every PROGRESS_MS for the progress callback and
 * the cancel flag), joins them, and then alone touches the store. Everything the threads
 * share is under imp->lock, but for `stop`, an atomic the loops poll.
 */
#define _DEFAULT_SOURCE /* realpath() */
#include "lpt_import_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_paths.h"
#include "lpt_thumbnail.h"

#define PROGRESS_MS 100          /* at most this long between progress calls */
#define WRITE_PROGRESS_EVERY 256 /* images written between progress calls */
#define MAX_THREADS 64

/* ---- Options, names, the report ---- */

void lpt_import_options_init(LptImportOptions *opt)
{
    if (opt)
        memset(opt, 0, sizeof *opt);
}

static const char *const split_mode_names[] = {"auto", "train", "val", "test"};

const char *lpt_import_split_mode_name(LptImportSplitMode mode)
{
    return mode >= LPT_IMPORT_SPLIT_AUTO && mode <= LPT_IMPORT_SPLIT_TEST ? split_mode_names[mode]
                                                                          : "?";
}

bool lpt_import_split_mode_parse(const char *name, LptImportSplitMode *mode)
{
    for (int m = LPT_IMPORT_SPLIT_AUTO; name && m <= LPT_IMPORT_SPLIT_TEST; m++) {
        if (strcmp(name, split_mode_names[m]) == 0) {
            if (mode)
                *mode = (LptImportSplitMode)m;
            return true;
        }
    }
    return false;
}

void lpt_import_report_free(LptImportReport *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->num_duplicate_list; i++) {
        free(report->duplicate_list[i].path);
        free(report->duplicate_list[i].kept);
    }
    for (size_t i = 0; i < report->num_problems; i++) {
        free(report->problems[i].path);
        free(report->problems[i].reason);
    }
    free(report->duplicate_list);
    free(report->problems);
    free(report);
}

/* ---- What the threads share ---- */

static bool cancel_requested(const LptImporter *imp)
{
    return imp->opt->cancel && atomic_load(imp->opt->cancel);
}

bool lpt_import_stopping(LptImporter *imp)
{
    return atomic_load(&imp->stop) || cancel_requested(imp);
}

/* Sets stop and wakes every waiting thread. Call with the lock held. */
static void stop_locked(LptImporter *imp)
{
    atomic_store(&imp->stop, true);
    pthread_cond_broadcast(&imp->not_empty);
    pthread_cond_broadcast(&imp->not_full);
    pthread_cond_broadcast(&imp->changed);
}

static void fail_locked(LptImporter *imp, const LptError *err)
{
    if (imp->fatal.code == LPT_OK)
        imp->fatal = *err;
    stop_locked(imp);
}

void lpt_import_fail(LptImporter *imp, const LptError *err)
{
    pthread_mutex_lock(&imp->lock);
    fail_locked(imp, err);
    pthread_mutex_unlock(&imp->lock);
}

/* Adds a finished record to the results. Call with the lock held. */
static void result_add_locked(LptImporter *imp, LptImportItem *item)
{
    if (imp->num_results == imp->results_cap) {
        size_t cap = imp->results_cap ? imp->results_cap * 2 : 256;
        LptImportItem **results = realloc(imp->results, cap * sizeof *results);
        if (!results) {
            LptError e;
            lpt_error_set(&e, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for %s", item->path);
            fail_locked(imp, &e);
            lpt_import_item_free(item);
            return;
        }
        imp->results = results;
        imp->results_cap = cap;
    }
    imp->results[imp->num_results++] = item;
    if (item->state == LPT_IMPORT_ITEM_OK)
        imp->read_ok++;
    else
        imp->skipped++;
    pthread_cond_signal(&imp->changed);
}

bool lpt_import_push_task(LptImporter *imp, LptImportItem *item)
{
    pthread_mutex_lock(&imp->lock);
    while (imp->queue_len == imp->queue_cap && !lpt_import_stopping(imp))
        pthread_cond_wait(&imp->not_full, &imp->lock);
    bool ok = !lpt_import_stopping(imp);
    if (ok) {
        imp->queue[(imp->queue_head + imp->queue_len++) % imp->queue_cap] = item;
        imp->scanned++;
        pthread_cond_signal(&imp->not_empty);
    }
    pthread_mutex_unlock(&imp->lock);
    if (!ok)
        lpt_import_item_free(item);
    return ok;
}

void lpt_import_push_result(LptImporter *imp, LptImportItem *item)
{
    pthread_mutex_lock(&imp->lock);
    imp->scanned++;
    result_add_locked(imp, item);
    pthread_mutex_unlock(&imp->lock);
}

static void *scanner_main(void *arg)
{
    LptImporter *imp = arg;
    LptError err = {0};
    if (lpt_import_scan(imp, &err) != LPT_OK)
        lpt_import_fail(imp, &err);
    pthread_mutex_lock(&imp->lock);
    imp->scan_done = true;
    pthread_cond_broadcast(&imp->not_empty);
    pthread_cond_broadcast(&imp->changed);
    pthread_mutex_unlock(&imp->lock);
    return NULL;
}

static void *worker_main(void *arg)
{
    LptImporter *imp = arg;
    pthread_mutex_lock(&imp->lock);
    for (;;) {
        while (imp->queue_len == 0 && !imp->scan_done && !lpt_import_stopping(imp))
            pthread_cond_wait(&imp->not_empty, &imp->lock);
        if (lpt_import_stopping(imp) || imp->queue_len == 0)
            break;
        LptImportItem *item = imp->queue[imp->queue_head];
        imp->queue_head = (imp->queue_head + 1) % imp->queue_cap;
        imp->queue_len--;
        imp->active++;
        snprintf(imp->current, sizeof imp->current, "%s", item->path);
        pthread_cond_signal(&imp->not_full);
        pthread_mutex_unlock(&imp->lock);

        LptError err = {0};
        LptStatus st = lpt_import_file_process(imp->cache_dir, item, &err);

        pthread_mutex_lock(&imp->lock);
        imp->active--;
        if (st == LPT_OK) {
            result_add_locked(imp, item);
        } else {
            fail_locked(imp, &err);
            lpt_import_item_free(item);
        }
    }
    pthread_cond_broadcast(&imp->changed);
    pthread_mutex_unlock(&imp->lock);
    return NULL;
}

/* ---- The run ---- */

typedef struct Run {
    LptImporter imp;
    LptStore *store;
    const LptImportOptions *opt;
    LptImportItem **items; /* [num_items], by seq */
    size_t num_items, items_cap;
    int64_t *class_of; /* [imp.num_labels]: the store's class id of each label; 0 = none yet */
    LptImportReport *report;
    double started;
} Run;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool call_progress(Run *r, const LptImportProgress *p)
{
    return !r->opt->progress || r->opt->progress(p, r->opt->progress_user);
}

/* Files gathered records into items[seq]. */
static bool place_items(Run *r, LptImportItem **got, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t seq = (size_t)got[i]->seq;
        if (seq >= r->items_cap) {
            size_t cap = r->items_cap ? r->items_cap : 1024;
            while (cap <= seq)
                cap *= 2;
            LptImportItem **items = realloc(r->items, cap * sizeof *items);
            if (!items) {
                for (size_t j = i; j < n; j++)
                    lpt_import_item_free(got[j]);
                return false;
            }
            memset(items + r->items_cap, 0, (cap - r->items_cap) * sizeof *items);
            r->items = items;
            r->items_cap = cap;
        }
        r->items[seq] = got[i];
        if (seq + 1 > r->num_items)
            r->num_items = seq + 1;
    }
    return true;
}

/* The reading phase: starts the threads, gathers records, reports progress, joins. */
static LptStatus read_all(Run *r, LptError *err)
{
    LptImporter *imp = &r->imp;
    int threads = r->report->threads;
    pthread_t *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t scanner;
    int started = 0;
    bool scanner_started = false;
    LptStatus st = LPT_OK;
    if (!workers) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for threads");
        goto done;
    }
    for (; started < threads; started++) {
        int rc = pthread_create(&workers[started], NULL, worker_main, imp);
        if (rc != 0) {
            st = lpt_error_set(err, LPT_ERR_IO, rc, "import: cannot start a worker thread: %s",
                               strerror(rc));
            goto done;
        }
    }
    int rc = pthread_create(&scanner, NULL, scanner_main, imp);
    if (rc != 0) {
        st = lpt_error_set(err, LPT_ERR_IO, rc, "import: cannot start the scanner thread: %s",
                           strerror(rc));
        goto done;
    }
    scanner_started = true;

    double last = 0.0;
    LptImportProgress p = {.phase = LPT_IMPORT_PHASE_READING};
    char current[LPT_IMPORT_PATH_MAX];
    for (;;) {
        pthread_mutex_lock(&imp->lock);
        bool finished =
            imp->scan_done && imp->active == 0 && (imp->queue_len == 0 || lpt_import_stopping(imp));
        if (imp->num_results == 0 && !finished) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += PROGRESS_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&imp->changed, &imp->lock, &until);
            finished = imp->scan_done && imp->active == 0 &&
                       (imp->queue_len == 0 || lpt_import_stopping(imp));
        }
        LptImportItem **got = imp->results;
        size_t n = imp->num_results;
        imp->results = NULL;
        imp->num_results = imp->results_cap = 0;
        p.scanned = imp->scanned;
        p.imported = imp->read_ok;
        p.skipped = imp->skipped;
        snprintf(current, sizeof current, "%s", imp->current);
        pthread_mutex_unlock(&imp->lock);

        bool placed = place_items(r, got, n);
        free(got);
        if (!placed) {
            LptError e;
            lpt_error_set(&e, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for the records");
            lpt_import_fail(imp, &e);
        }
        double now = now_seconds();
        if (finished || now - last >= PROGRESS_MS * 1e-3) {
            p.current = current;
            if (!call_progress(r, &p)) {
                pthread_mutex_lock(&imp->lock);
                stop_locked(imp);
                pthread_mutex_unlock(&imp->lock);
            }
            last = now;
        }
        if (cancel_requested(imp) && !atomic_load(&imp->stop)) {
            pthread_mutex_lock(&imp->lock);
            stop_locked(imp);
            pthread_mutex_unlock(&imp->lock);
        }
        if (finished)
            break;
    }

done:
    if (st != LPT_OK) {
        pthread_mutex_lock(&imp->lock);
        stop_locked(imp);
        pthread_mutex_unlock(&imp->lock);
    }
    if (scanner_started)
        pthread_join(scanner, NULL);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    if (st == LPT_OK && imp->fatal.code != LPT_OK) {
        if (err)
            *err = imp->fatal;
        st = imp->fatal.code;
    }
    if (st == LPT_OK && atomic_load(&imp->stop))
        st = lpt_error_set(err, LPT_ERR_CANCELLED, 0,
                           "import cancelled after %lld files; the project is unchanged",
                           (long long)imp->scanned);
    return st;
}

/* ---- Duplicates within the import ---- */

static int compare_hash_seq(const void *a, const void *b)
{
    const LptImportItem *x = *(LptImportItem *const *)a, *y = *(LptImportItem *const *)b;
    int c = strcmp(x->hash, y->hash);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Marks every OK item whose content an earlier item (in scan order) has as its DUPLICATE, and
 * counts the contents whose thumbnail this import made (once per content: two copies read at
 * the same time may both write it). */
static LptStatus mark_duplicates(Run *r, LptError *err)
{
    size_t n = 0;
    for (size_t i = 0; i < r->num_items; i++)
        n += r->items[i] && r->items[i]->state == LPT_IMPORT_ITEM_OK;
    LptImportItem **ok = malloc((n ? n : 1) * sizeof *ok);
    if (!ok)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory to find duplicates");
    n = 0;
    for (size_t i = 0; i < r->num_items; i++)
        if (r->items[i] && r->items[i]->state == LPT_IMPORT_ITEM_OK)
            ok[n++] = r->items[i];
    qsort(ok, n, sizeof *ok, compare_hash_seq);
    bool made = false;
    for (size_t i = 0, first = 0; i < n; i++) {
        if (i == 0 || strcmp(ok[i]->hash, ok[first]->hash) != 0) {
            r->report->thumbnails_made += made;
            first = i;
            made = ok[i]->thumbnail_made;
            continue;
        }
        made |= ok[i]->thumbnail_made;
        ok[i]->state = LPT_IMPORT_ITEM_DUPLICATE;
        ok[i]->kept_seq = ok[first]->seq;
    }
    r->report->thumbnails_made += made;
    free(ok);
    return LPT_OK;
}

/* ---- Splits ---- */

typedef struct SplitPlan {
    LptSplitConfig config;        /* the project's stratification settings, with the seed */
    bool any_given;               /* some image came with a split */
    LptStoreSplitSettings latest; /* id 0: none yet */
} SplitPlan;

/* The project's stratification settings (or the defaults) and the seed. */
static LptStatus split_plan(Run *r, SplitPlan *plan, LptError *err)
{
    memset(plan, 0, sizeof *plan);
    LptStatus st = lpt_store_split_latest(r->store, &plan->latest, err);
    if (st != LPT_OK)
        return st;
    lpt_split_config_default(&plan->config);
    if (plan->latest.id != 0) {
        LptSplitConfig c = {
            .train_fraction = plan->latest.train_fraction,
            .val_fraction = plan->latest.val_fraction,
            .test_fraction = plan->latest.test_fraction,
            .min_per_class = plan->latest.min_per_class,
        };
        if (lpt_split_targets(&c, 0, NULL, NULL, NULL, NULL) == LPT_OK)
            plan->config = c;
        plan->config.seed = plan->latest.seed;
    }
    if (r->opt->has_seed)
        plan->config.seed = r->opt->seed;
    r->report->seed = plan->config.seed;
    return LPT_OK;
}

static uint64_t hash_key(const char *hex)
{
    uint64_t k = 0;
    for (int i = 0; i < 16; i++) {
        char c = hex[i];
        k = (k << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return k;
}

/* Stratifies fresh[i] for the i with pick[i] (labels = the items' label ids) under cfg, with
 * given_counts[label * 4 + split] more images per class already placed; writes out[i]. */
static LptStatus stratify(Run *r, LptImportItem **fresh, size_t n, const bool *pick,
                          const int64_t *given_counts, const LptSplitConfig *cfg,
                          LptStoreSplit *out, LptError *err)
{
    int32_t classes = r->imp.num_labels > 0 ? r->imp.num_labels : 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += pick[i];
    if (total == 0)
        return LPT_OK;
    for (int32_t c = 0; given_counts && c < classes; c++)
        for (int s = LPT_SPLIT_TRAIN; s <= LPT_SPLIT_TEST; s++)
            total += (size_t)given_counts[(size_t)c * 4 + (size_t)s];
    int32_t *labels = malloc(total * sizeof *labels);
    LptSplit *given = malloc(total * sizeof *given);
    uint64_t *keys = malloc(total * sizeof *keys);
    LptSplit *assigned = malloc(total * sizeof *assigned);
    LptStatus st = LPT_OK;
    if (!labels || !given || !keys || !assigned) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory to assign splits");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pick[i])
            continue;
        labels[k] = fresh[i]->label;
        given[k] = LPT_SPLIT_NONE;
        keys[k++] = hash_key(fresh[i]->hash);
    }
    for (int32_t c = 0; given_counts && c < classes; c++) {
        for (int s = LPT_SPLIT_TRAIN; s <= LPT_SPLIT_TEST; s++) {
            for (int64_t j = 0; j < given_counts[(size_t)c * 4 + (size_t)s]; j++) {
                labels[k] = c;
                given[k] = (LptSplit)s;
                keys[k++] = 0;
            }
        }
    }
    if ((st = lpt_split_assign(cfg, labels, given, keys, total, classes, assigned, err)) != LPT_OK)
        goto done;
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (pick[i])
            out[i] = (LptStoreSplit)assigned[k++];
done:
    free(labels);
    free(given);
    free(keys);
    free(assigned);
    return st;
}

/* Images already in the project per label and split (the classes the labels name). */
static LptStatus project_counts(Run *r, int64_t **out, LptError *err)
{
    size_t classes = (size_t)(r->imp.num_labels > 0 ? r->imp.num_labels : 1);
    LptStoreClassCount *counts = NULL;
    size_t n = 0;
    *out = calloc(classes * 4, sizeof **out);
    if (!*out)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for counts");
    LptStatus st = lpt_store_class_counts(r->store, &counts, &n, err);
    for (size_t i = 0; st == LPT_OK && i < n; i++)
        for (int32_t c = 0; c < r->imp.num_labels; c++)
            if (r->class_of[c] == counts[i].class_id)
                for (int s = LPT_SPLIT_TRAIN; s <= LPT_SPLIT_TEST; s++)
                    (*out)[(size_t)c * 4 + (size_t)s] = counts[i].count[s];
    free(counts);
    return st;
}

static void note(Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(Run *r, const char *fmt, ...)
{
    char *buf = r->report->split_note;
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, sizeof r->report->split_note - used, fmt, ap);
    va_end(ap);
}

/* Chooses the split of each fresh image into out (see the header comment). */
static LptStatus assign_splits(Run *r, LptImportItem **fresh, size_t n, SplitPlan *plan,
                               LptStoreSplit *out, LptError *err)
{
    if (r->opt->split != LPT_IMPORT_SPLIT_AUTO) {
        for (size_t i = 0; i < n; i++)
            out[i] = (LptStoreSplit)r->opt->split;
        note(r, "every image into %s (--split %s)", lpt_import_split_mode_name(r->opt->split),
             lpt_import_split_mode_name(r->opt->split));
        return LPT_OK;
    }
    const LptSplitConfig *cfg = &plan->config;
    bool present[4] = {false};
    size_t unsplit = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = (LptStoreSplit)fresh[i]->split;
        present[fresh[i]->split] = true;
        unsplit += fresh[i]->split == LPT_SPLIT_NONE;
    }
    plan->any_given = present[LPT_SPLIT_TRAIN] || present[LPT_SPLIT_VAL] || present[LPT_SPLIT_TEST];
    bool *pick = calloc(n ? n : 1, sizeof *pick);
    int64_t *counts = NULL;
    LptStatus st = LPT_OK;
    if (!pick) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory to assign splits");
        goto done;
    }
    if (!plan->any_given) {
        for (size_t i = 0; i < n; i++)
            pick[i] = true;
        if ((st = project_counts(r, &counts, err)) != LPT_OK ||
            (st = stratify(r, fresh, n, pick, counts, cfg, out, err)) != LPT_OK)
            goto done;
        note(r,
             "stratified per class: train %g, val %g, test %g (at least %d per class in val "
             "and test; seed %llu)",
             cfg->train_fraction, cfg->val_fraction, cfg->test_fraction, (int)cfg->min_per_class,
             (unsigned long long)cfg->seed);
        goto done;
    }
    note(r, "kept the source's split (%s%s%s)", present[LPT_SPLIT_TRAIN] ? "train " : "",
         present[LPT_SPLIT_VAL] ? "val " : "", present[LPT_SPLIT_TEST] ? "test" : "");
    bool take_val = !present[LPT_SPLIT_VAL] && cfg->val_fraction > 0.0;
    bool take_test = !present[LPT_SPLIT_TEST] && cfg->test_fraction > 0.0;
    if (present[LPT_SPLIT_TRAIN] && (take_val || take_test)) {
        LptSplitConfig carve = *cfg;
        carve.val_fraction = take_val ? cfg->val_fraction : 0.0;
        carve.test_fraction = take_test ? cfg->test_fraction : 0.0;
        double sum = carve.train_fraction + carve.val_fraction + carve.test_fraction;
        carve.train_fraction /= sum;
        carve.val_fraction /= sum;
        carve.test_fraction /= sum;
        for (size_t i = 0; i < n; i++)
            pick[i] = fresh[i]->split == LPT_SPLIT_TRAIN;
        if ((st = stratify(r, fresh, n, pick, NULL, &carve, out, err)) != LPT_OK)
            goto done;
        note(r,
             "; %s%s%s taken from train, stratified per class (%.4g of each class's training "
             "images; seed %llu)",
             take_val ? "val" : "", take_val && take_test ? " and " : "", take_test ? "test" : "",
             carve.val_fraction + carve.test_fraction, (unsigned long long)cfg->seed);
    }
    if (unsplit > 0) {
        for (size_t i = 0; i < n; i++)
            pick[i] = fresh[i]->split == LPT_SPLIT_NONE;
        if ((st = stratify(r, fresh, n, pick, NULL, cfg, out, err)) != LPT_OK)
            goto done;
        note(r,
             "; %zu images from sources without a split stratified (train %g, val %g, "
             "test %g)",
             unsplit, cfg->train_fraction, cfg->val_fraction, cfg->test_fraction);
    }
done:
    free(pick);
    free(counts);
    return st;
}

/* Adds a split settings row when this import's differs from the latest. */
static LptStatus record_split_settings(Run *r, const SplitPlan *plan, LptError *err)
{
    if (r->opt->split != LPT_IMPORT_SPLIT_AUTO || r->report->imported == 0)
        return LPT_OK;
    LptStoreSplitSettings s = {
        .seed = plan->config.seed,
        .train_fraction = plan->config.train_fraction,
        .val_fraction = plan->config.val_fraction,
        .test_fraction = plan->config.test_fraction,
        .min_per_class = plan->config.min_per_class,
        .user_given = plan->any_given,
    };
    const LptStoreSplitSettings *l = &plan->latest;
    if (l->id != 0 && l->seed == s.seed && l->train_fraction == s.train_fraction &&
        l->val_fraction == s.val_fraction && l->test_fraction == s.test_fraction &&
        l->min_per_class == s.min_per_class && (l->user_given != 0) == (s.user_given != 0))
        return LPT_OK;
    int64_t id;
    return lpt_store_split_insert(r->store, &s, &id, err);
}

/* ---- Writing ---- */

static LptStatus write_progress(Run *r, int64_t written, int64_t to_write, const char *current,
                                LptError *err)
{
    LptImportProgress p = {
        .phase = LPT_IMPORT_PHASE_WRITING,
        .scanned = r->imp.scanned,
        .imported = written,
        .skipped = r->imp.skipped,
        .to_write = to_write,
        .current = current,
    };
    if (!call_progress(r, &p) || cancel_requested(&r->imp))
        return lpt_error_set(err, LPT_ERR_CANCELLED, 0,
                             "import cancelled while writing; the project is unchanged");
    return LPT_OK;
}

/* Inside the transaction: project duplicates, classes, splits, the images, the settings. */
static LptStatus write_images(Run *r, LptError *err)
{
    LptImportReport *rep = r->report;
    size_t n = 0;
    LptImportItem **fresh = malloc((r->num_items ? r->num_items : 1) * sizeof *fresh);
    LptStoreSplit *split = malloc((r->num_items ? r->num_items : 1) * sizeof *split);
    LptStoreImage *found = NULL;
    LptStatus st = LPT_OK;
    if (!fresh || !split) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory to write");
        goto done;
    }
    for (size_t i = 0; i < r->num_items; i++) {
        LptImportItem *it = r->items[i];
        if (!it || it->state != LPT_IMPORT_ITEM_OK)
            continue;
        int64_t id = 0;
        if ((st = lpt_store_image_find_hash(r->store, it->hash, &id, err)) != LPT_OK)
            goto done;
        if (id == 0) {
            fresh[n++] = it;
            continue;
        }
        if ((st = lpt_store_image_get(r->store, id, &found, err)) != LPT_OK)
            goto done;
        it->state = LPT_IMPORT_ITEM_DUPLICATE;
        it->kept_id = id;
        it->kept_path = strdup(found && found->path ? found->path : "?");
        free(found);
        found = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t label = fresh[i]->label;
        int created = 0;
        if (r->class_of[label] == 0 &&
            (st = lpt_store_class_ensure(r->store, r->imp.labels[label], &r->class_of[label],
                                         &created, err)) != LPT_OK)
            goto done;
        rep->classes_created += created;
    }
    SplitPlan plan;
    if ((st = split_plan(r, &plan, err)) != LPT_OK ||
        (st = assign_splits(r, fresh, n, &plan, split, err)) != LPT_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        LptImportItem *it = fresh[i];
        if (i % WRITE_PROGRESS_EVERY == 0 &&
            (st = write_progress(r, rep->imported, (int64_t)n, it->path, err)) != LPT_OK)
            goto done;
        LptStoreImage im = {
            .path = it->path,
            .width = it->width,
            .height = it->height,
            .channels = it->channels,
            .class_id = r->class_of[it->label],
            .split = split[i],
            /* the source's own split, not one drawn from its training images */
            .split_given = r->opt->split == LPT_IMPORT_SPLIT_AUTO &&
                           it->split != LPT_SPLIT_NONE && split[i] == (LptStoreSplit)it->split,
            .source = r->imp.source_paths[it->source],
        };
        memcpy(im.content_hash, it->hash, sizeof im.content_hash);
        int64_t id;
        LptError e = {0};
        st = lpt_store_image_insert(r->store, &im, &id, &e);
        if (st == LPT_ERR_INVALID_ARGUMENT) {
            /* The path is in the project already (the same content would be a duplicate):
             * the file changed since it was imported. The insert undid itself. */
            lpt_import_item_fail(it, LPT_IMPORT_ITEM_CONFLICT,
                                 "the path is in the project already, with other content");
            st = LPT_OK;
            continue;
        }
        if (st != LPT_OK) {
            if (err)
                *err = e;
            goto done;
        }
        rep->imported++;
        rep->split_counts[split[i]]++;
    }
    if ((st = record_split_settings(r, &plan, err)) != LPT_OK)
        goto done;
    st = write_progress(r, rep->imported, (int64_t)n, "", err);
done:
    free(found);
    free(fresh);
    free(split);
    return st;
}

/* ---- The report ---- */

static LptStatus build_report(Run *r, LptError *err)
{
    LptImportReport *rep = r->report;
    size_t dups = 0, problems = 0;
    for (size_t i = 0; i < r->num_items; i++) {
        const LptImportItem *it = r->items[i];
        if (!it)
            continue;
        dups += it->state == LPT_IMPORT_ITEM_DUPLICATE || it->state == LPT_IMPORT_ITEM_SAME_FILE;
        problems += it->state == LPT_IMPORT_ITEM_UNREADABLE ||
                    it->state == LPT_IMPORT_ITEM_BAD_LINE ||
                    it->state == LPT_IMPORT_ITEM_CONFLICT ||
                    (it->state == LPT_IMPORT_ITEM_NON_IMAGE && it->listed);
    }
    rep->duplicate_list = calloc(dups ? dups : 1, sizeof *rep->duplicate_list);
    rep->problems = calloc(problems ? problems : 1, sizeof *rep->problems);
    if (!rep->duplicate_list || !rep->problems)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for the report");
    rep->scanned = (int64_t)r->num_items;
    rep->hidden_skipped = r->imp.hidden_skipped;
    rep->non_image_skipped = r->imp.non_image_skipped_scan;
    rep->unlabelled_skipped = r->imp.unlabelled_skipped;
    rep->links_skipped = r->imp.links_skipped;
    bool oom = false;
    for (size_t i = 0; i < r->num_items; i++) {
        const LptImportItem *it = r->items[i];
        if (!it)
            continue;
        switch (it->state) {
        case LPT_IMPORT_ITEM_DUPLICATE:
        case LPT_IMPORT_ITEM_SAME_FILE: {
            LptImportDuplicate *d = &rep->duplicate_list[rep->num_duplicate_list++];
            const char *kept = it->kept_path ? it->kept_path
                               : it->kept_seq >= 0 && r->items[it->kept_seq]
                                   ? r->items[it->kept_seq]->path
                                   : "?";
            d->path = strdup(it->path);
            d->kept = strdup(kept);
            d->kept_image_id = it->kept_id;
            d->same_file = it->state == LPT_IMPORT_ITEM_SAME_FILE;
            oom |= !d->path || !d->kept;
            rep->duplicates++;
            break;
        }
        case LPT_IMPORT_ITEM_NON_IMAGE:
            /* A walk skips it; a file a list names that is no image is unreadable. */
            if (!it->listed) {
                rep->non_image_skipped++;
                break;
            }
            /* fall through */
        case LPT_IMPORT_ITEM_UNREADABLE:
        case LPT_IMPORT_ITEM_BAD_LINE:
        case LPT_IMPORT_ITEM_CONFLICT: {
            LptImportProblem *p = &rep->problems[rep->num_problems++];
            p->kind = it->state == LPT_IMPORT_ITEM_BAD_LINE   ? LPT_IMPORT_PROBLEM_BAD_LINE
                      : it->state == LPT_IMPORT_ITEM_CONFLICT ? LPT_IMPORT_PROBLEM_CONFLICT
                                                              : LPT_IMPORT_PROBLEM_UNREADABLE;
            p->path = strdup(it->path);
            p->line = it->line;
            p->reason = strdup(it->reason ? it->reason : "unknown");
            oom |= !p->path || !p->reason;
            rep->unreadable += p->kind == LPT_IMPORT_PROBLEM_UNREADABLE;
            rep->bad_lines += p->kind == LPT_IMPORT_PROBLEM_BAD_LINE;
            rep->conflicts += p->kind == LPT_IMPORT_PROBLEM_CONFLICT;
            break;
        }
        case LPT_IMPORT_ITEM_PENDING:
        case LPT_IMPORT_ITEM_OK:
            break;
        }
    }
    if (oom)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for the report");
    return LPT_OK;
}

/* ---- Setting up and tearing down ---- */

static LptStatus check_options(LptStore *store, const LptImportOptions *opt,
                               LptImportReport **report, LptError *err)
{
    if (report)
        *report = NULL;
    if (!store || !opt || !report)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "import: no store, options or report");
    if (!opt->sources || opt->num_sources == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "import: no source given");
    for (size_t i = 0; i < opt->num_sources; i++)
        if (!opt->sources[i] || !*opt->sources[i])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "import: source %zu is empty",
                                 i + 1);
    if (opt->split < LPT_IMPORT_SPLIT_AUTO || opt->split > LPT_IMPORT_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "import: bad split mode %d",
                             (int)opt->split);
    if (opt->kind < LPT_IMPORT_SOURCE_DETECT || opt->kind > LPT_IMPORT_SOURCE_CSV)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "import: bad source kind %d",
                             (int)opt->kind);
    if (opt->threads < 0 || opt->threads > MAX_THREADS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "import: threads must be 0 (one per CPU) to %d", MAX_THREADS);
    return LPT_OK;
}

static LptStatus run_setup(Run *r, LptError *err)
{
    LptImporter *imp = &r->imp;
    const LptImportOptions *opt = r->opt;
    imp->opt = opt;
    atomic_init(&imp->stop, false);
    pthread_mutex_init(&imp->lock, NULL);
    pthread_cond_init(&imp->not_empty, NULL);
    pthread_cond_init(&imp->not_full, NULL);
    pthread_cond_init(&imp->changed, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = opt->threads > 0 ? opt->threads : (int)(cpus < 1 ? 1 : cpus);
    r->report->threads = threads > MAX_THREADS ? MAX_THREADS : threads;
    imp->queue_cap = 4 * (size_t)r->report->threads + 4;
    imp->queue = calloc(imp->queue_cap, sizeof *imp->queue);
    imp->source_paths = calloc(opt->num_sources, sizeof *imp->source_paths);
    if (!imp->queue || !imp->source_paths)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory to start");
    for (size_t i = 0; i < opt->num_sources; i++) {
        if (!(imp->source_paths[i] = realpath(opt->sources[i], NULL))) {
            int e = errno;
            return lpt_error_set(err, e == ENOMEM ? LPT_ERR_OUT_OF_MEMORY : LPT_ERR_IO, e, "%s: %s",
                                 opt->sources[i], strerror(e));
        }
    }
    LptStatus st = LPT_OK;
    if (opt->cache_dir) {
        int n = snprintf(imp->cache_dir, sizeof imp->cache_dir, "%s", opt->cache_dir);
        if (n <= 0 || (size_t)n >= sizeof imp->cache_dir)
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "import: the cache directory's path is empty or too long");
    } else {
        st = lpt_cache_dir(imp->cache_dir, sizeof imp->cache_dir, err);
    }
    if (st == LPT_OK)
        st = lpt_thumbnail_cache_prepare(imp->cache_dir, err);
    /* Fail now, not after reading every file, when the project cannot take a write (opened
     * read-only, a transaction open already, another writer holding it): a write that is
     * rolled back at once. */
    if (st == LPT_OK && (st = lpt_store_begin(r->store, err)) == LPT_OK) {
        st = lpt_store_setting_set(r->store, "import.write_check", "1", err);
        LptStatus rolled = lpt_store_rollback(r->store, st == LPT_OK ? err : NULL);
        st = st == LPT_OK ? rolled : st;
    }
    if (st != LPT_OK && st != LPT_ERR_CANCELLED)
        lpt_error_prefix(err, "importing into '%s'", lpt_store_path(r->store));
    return st;
}

static void run_free(Run *r)
{
    LptImporter *imp = &r->imp;
    for (size_t i = 0; i < imp->queue_len; i++)
        lpt_import_item_free(imp->queue[(imp->queue_head + i) % imp->queue_cap]);
    free(imp->queue);
    for (size_t i = 0; i < imp->num_results; i++)
        lpt_import_item_free(imp->results[i]);
    free(imp->results);
    for (size_t i = 0; imp->source_paths && i < r->opt->num_sources; i++)
        free(imp->source_paths[i]);
    free(imp->source_paths);
    lpt_import_scan_free(imp);
    pthread_mutex_destroy(&imp->lock);
    pthread_cond_destroy(&imp->not_empty);
    pthread_cond_destroy(&imp->not_full);
    pthread_cond_destroy(&imp->changed);
    for (size_t i = 0; i < r->num_items; i++)
        lpt_import_item_free(r->items[i]);
    free(r->items);
    free(r->class_of);
}

LptStatus lpt_import_run(LptStore *store, const LptImportOptions *opt, LptImportReport **report,
                         LptError *err)
{
    LptStatus st = check_options(store, opt, report, err);
    if (st != LPT_OK)
        return st;
    Run r;
    memset(&r, 0, sizeof r);
    r.store = store;
    r.opt = opt;
    r.started = now_seconds();
    if (!(r.report = calloc(1, sizeof *r.report)))
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for the report");
    if ((st = run_setup(&r, err)) != LPT_OK || (st = read_all(&r, err)) != LPT_OK ||
        (st = mark_duplicates(&r, err)) != LPT_OK)
        goto done;
    if (r.imp.num_labels > 0 &&
        !(r.class_of = calloc((size_t)r.imp.num_labels, sizeof *r.class_of))) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory for classes");
        goto done;
    }
    bool began = (st = lpt_store_begin(store, err)) == LPT_OK;
    if (!began || (st = write_images(&r, err)) != LPT_OK ||
        (st = build_report(&r, err)) != LPT_OK || (st = lpt_store_commit(store, err)) != LPT_OK) {
        if (began)
            lpt_store_rollback(store, NULL);
        if (st != LPT_ERR_CANCELLED)
            lpt_error_prefix(err, "importing into '%s'", lpt_store_path(store));
        goto done;
    }
    r.report->seconds = now_seconds() - r.started;
    *report = r.report;
    r.report = NULL;
done:
    lpt_import_report_free(r.report);
    run_free(&r);
    return st;
}

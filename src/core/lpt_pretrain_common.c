/* lpt_pretrain_common.c: the dataset lists and loaders, schedule, epoch loop, optimiser,
 * zeroed state, clock and weight-file rows both pretraining commands use. See
 * lpt_pretrain_common.h.
 */
#include "lpt_pretrain_common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lpt_ops.h"

#define LINE_MAX_LEN 4096

/* ---- lists ------------------------------------------------------------------------------ */

static void list_free(LptPretrainList *l)
{
    for (int64_t i = 0; i < l->count; i++) {
        free(l->paths[i]);
        free(l->labels[i]);
    }
    free(l->paths);
    free(l->labels);
    free(l->ids);
    memset(l, 0, sizeof *l);
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Appends one image; false when out of memory. */
static bool list_add(LptPretrainList *l, const char *dir, const char *path, size_t path_len,
                     const char *label, size_t label_len)
{
    if (l->count == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 1024;
        char **p = realloc(l->paths, (size_t)cap * sizeof *p);
        if (p)
            l->paths = p;
        char **q = p ? realloc(l->labels, (size_t)cap * sizeof *q) : NULL;
        if (!q)
            return false;
        l->labels = q;
        l->cap = cap;
    }
    char *full;
    if (path[0] == '/') {
        full = dup_range(path, path_len);
    } else {
        size_t dn = strlen(dir);
        full = malloc(dn + 1 + path_len + 1);
        if (full) {
            memcpy(full, dir, dn);
            full[dn] = '/';
            memcpy(full + dn + 1, path, path_len);
            full[dn + 1 + path_len] = '\0';
        }
    }
    char *lab = dup_range(label, label_len);
    if (!full || !lab) {
        free(full);
        free(lab);
        return false;
    }
    l->paths[l->count] = full;
    l->labels[l->count] = lab;
    l->count++;
    return true;
}

/* Reads DIR/name (see lpt_pretrain_common.h), at most `max` images when max > 0. */
static LptStatus read_list(const char *dir, const char *name, int64_t max, const char *what,
                           LptPretrainList *out, LptError *err)
{
    char path[LINE_MAX_LEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot open '%s': %s", what, path,
                             strerror(errno));
    char line[LINE_MAX_LEN];
    LptStatus st = LPT_OK;
    for (long no = 1; (max <= 0 || out->count < max) && fgets(line, sizeof line, f); no++) {
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: '%s' line %ld is too long", what, path,
                               no);
            break;
        }
        char *s = line;
        if (no == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        while (*s && isspace((unsigned char)*s))
            s++;
        char *end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
            end--;
        if (end == s || *s == '#')
            continue;
        char *lab = end;
        while (lab > s && !isspace((unsigned char)lab[-1]))
            lab--;
        char *pend = lab;
        while (pend > s && isspace((unsigned char)pend[-1]))
            pend--;
        if (pend == s) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: '%s' line %ld: expected 'path label'",
                               what, path, no);
            break;
        }
        if (!list_add(out, dir, s, (size_t)(pend - s), lab, (size_t)(end - lab))) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", what);
            break;
        }
    }
    if (st == LPT_OK && ferror(f))
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot read '%s'", what, path);
    if (st == LPT_OK && out->count == 0)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: '%s' lists no images", what, path);
    fclose(f);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The classes: the train list's labels, unique, in byte order (*names borrows the strings
 * of train). */
static LptStatus collect_classes(const LptPretrainList *train, char ***names, int *count,
                                 const char *what, LptError *err)
{
    char **all = malloc((size_t)train->count * sizeof *all);
    if (!all)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", what);
    memcpy(all, train->labels, (size_t)train->count * sizeof *all);
    qsort(all, (size_t)train->count, sizeof *all, cmp_str);
    int n = 0;
    for (int64_t i = 0; i < train->count; i++)
        if (n == 0 || strcmp(all[n - 1], all[i]) != 0)
            all[n++] = all[i];
    *names = all;
    *count = n;
    return LPT_OK;
}

/* Fills l->ids from the class names; a label that is not a class is an error. */
static LptStatus map_labels(LptPretrainList *l, char **names, int count, const char *which,
                            const char *what, LptError *err)
{
    l->ids = malloc((size_t)l->count * sizeof *l->ids);
    if (!l->ids)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", what);
    for (int64_t i = 0; i < l->count; i++) {
        char **hit = bsearch(&l->labels[i], names, (size_t)count, sizeof *names, cmp_str);
        if (!hit)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: %s image %lld ('%s') has label '%s', which no training "
                                 "image has",
                                 what, which, (long long)i + 1, l->paths[i], l->labels[i]);
        l->ids[i] = (int32_t)(hit - names);
    }
    return LPT_OK;
}

LptStatus lpt_pretrain_data_read(const char *dir, int64_t max_train, int64_t max_test,
                                 const char *what, LptPretrainData *data, LptError *err)
{
    memset(data, 0, sizeof *data);
    LptStatus st = read_list(dir, "train.txt", max_train, what, &data->train, err);
    if (st == LPT_OK)
        st = read_list(dir, "test.txt", max_test, what, &data->test, err);
    if (st == LPT_OK)
        st = collect_classes(&data->train, &data->classes, &data->K, what, err);
    if (st == LPT_OK)
        st = map_labels(&data->train, data->classes, data->K, "training", what, err);
    if (st == LPT_OK)
        st = map_labels(&data->test, data->classes, data->K, "test", what, err);
    if (st == LPT_OK && data->K < 2)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                           "%s: the training list has %d class; at least 2 are needed", what,
                           data->K);
    if (st != LPT_OK)
        lpt_pretrain_data_free(data);
    return st;
}

void lpt_pretrain_data_free(LptPretrainData *data)
{
    if (!data)
        return;
    free(data->classes);
    list_free(&data->train);
    list_free(&data->test);
    memset(data, 0, sizeof *data);
}

/* ---- loaders, top-1 --------------------------------------------------------------------- */

LptLoader *lpt_pretrain_loader_new(LptBackend *be, const LptPretrainList *l, int K, bool train,
                                   const LptPretrainFeed *feed, LptError *err)
{
    LptLoaderConfig lc;
    lpt_loader_config_init(&lc);
    lc.count = l->count;
    lc.paths = (const char *const *)l->paths;
    lc.labels = l->ids;
    lc.num_classes = K;
    lc.mode = train ? LPT_LOADER_TRAIN : LPT_LOADER_EVAL;
    lc.sampler = LPT_SAMPLER_INSTANCE;
    lc.batch_size = feed->batch;
    lc.seed = feed->seed;
    lc.input_size = feed->size;
    memcpy(lc.mean, feed->mean, sizeof lc.mean);
    memcpy(lc.std, feed->std, sizeof lc.std);
    if (feed->augment)
        lc.augment = *feed->augment;
    lc.workers = feed->workers;
    return lpt_loader_new(be, &lc, err);
}

int64_t lpt_pretrain_top1_hits(const float *logits, int n, int K, const int32_t *labels)
{
    int64_t right = 0;
    for (int b = 0; b < n; b++) {
        const float *row = logits + (size_t)b * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            if (row[k] > row[best])
                best = k;
        right += best == labels[b];
    }
    return right;
}

/* ---- optimiser -------------------------------------------------------------------------- */

LptArena *lpt_pretrain_moments(LptBackend *be, const char *name, LptPretrainSpan *spans, int n,
                               LptError *err)
{
    LptTensor *t[8];
    size_t counts[8];
    if (n < 1 || n > 4) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %d spans (1 to 4)", name, n);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        t[2 * i] = &spans[i].m;
        t[2 * i + 1] = &spans[i].v;
        counts[2 * i] = counts[2 * i + 1] = spans[i].p.count;
    }
    return lpt_pretrain_zero_arena(be, name, t, counts, 2 * n, err);
}

LptStatus lpt_pretrain_adamw(LptBackend *be, LptPretrainSpan *spans, int n, float lr, float beta1,
                             float beta2, float eps, float wd, int step, LptError *err)
{
    LptStatus st = LPT_OK;
    for (int i = 0; i < n && st == LPT_OK; i++) {
        LptPretrainSpan *s = &spans[i];
        st = lpt_op_adamw_update(be, &s->p, &s->m, &s->v, &s->g, s->p.count, lr, beta1, beta2, eps,
                                 wd, step, err);
    }
    return st;
}

/* ---- the epoch loop --------------------------------------------------------------------- */

/* Passes a tick on; LPT_ERR_CANCELLED when the command says stop. */
static LptStatus report(const LptPretrainLoop *loop, const LptPretrainTick *tick, LptError *err)
{
    if (!loop->report(loop->run, tick))
        return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "%s: cancelled at epoch %d", loop->what,
                             tick->epoch);
    return LPT_OK;
}

LptStatus lpt_pretrain_epochs(const LptPretrainLoop *loop, LptPretrainEpochs *done, LptError *err)
{
    int64_t steps = lpt_loader_steps_per_epoch(loop->train);
    int64_t total = steps * loop->epochs;
    int64_t warmup = (int64_t)llround(loop->warmup_epochs * (double)steps);
    int64_t global = 0;
    for (int e = 0; e < loop->epochs; e++) {
        LptPretrainTick p = {e, loop->epochs, 0, steps, 0.0, 0.0, 0.0, 0.0, false, -1.0};
        double loss_sum = 0.0, te = lpt_pretrain_now();
        int64_t images = 0;
        for (int64_t s = 0; s < steps; s++, global++) {
            LptLoaderBatch batch;
            LptStatus st = lpt_loader_next(loop->train, &batch, err);
            if (st != LPT_OK)
                return st;
            p.lr = lpt_pretrain_step_lr(loop->lr, loop->min_lr, global, warmup, total);
            if (batch.part[0].count < loop->min_images)
                continue;
            st = loop->step(loop->run, &batch.part[0], p.lr, global, &loss_sum, err);
            if (st != LPT_OK)
                return st;
            images += batch.part[0].count;
            p.step = s + 1;
            p.loss = loss_sum / (double)images;
            double t = lpt_pretrain_now();
            p.images_per_second = (double)images / (t - te > 1e-9 ? t - te : 1e-9);
            p.elapsed = t - loop->t0;
            if ((st = report(loop, &p, err)) != LPT_OK)
                return st;
        }
        LptStatus st = loop->evaluate(loop->run, &p.accuracy, err);
        if (st != LPT_OK)
            return st;
        p.epoch_done = true;
        p.elapsed = lpt_pretrain_now() - loop->t0;
        if (e == 0)
            done->first_epoch_loss = p.loss;
        done->last_epoch_loss = p.loss;
        done->accuracy = p.accuracy;
        done->epochs = e + 1;
        if ((st = report(loop, &p, err)) != LPT_OK)
            return st;
    }
    return LPT_OK;
}

/* ---- schedule, state, clock ------------------------------------------------------------- */

const char *lpt_pretrain_schedule_problem(int epochs, double lr, double min_lr,
                                          double warmup_epochs, double weight_decay)
{
    if (epochs < 1 || epochs > 100000)
        return "epochs must be in [1, 100000]";
    if (!(lr > 0.0) || !(min_lr >= 0.0) || !(min_lr <= lr))
        return "lr must be > 0 and min_lr in [0, lr]";
    if (!(warmup_epochs >= 0.0) || !(weight_decay >= 0.0))
        return "warmup_epochs and weight_decay must be >= 0";
    return NULL;
}

double lpt_pretrain_step_lr(double lr, double min_lr, int64_t step, int64_t warmup, int64_t total)
{
    if (step < warmup)
        return lr * (double)(step + 1) / (double)warmup;
    double t = total > warmup ? (double)(step - warmup) / (double)(total - warmup) : 1.0;
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
}

LptArena *lpt_pretrain_zero_arena(LptBackend *be, const char *name, LptTensor **t,
                                  const size_t *counts, int n, LptError *err)
{
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += (counts[i] * 4 + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
    LptArena *a = lpt_arena_new(be, name, bytes, err);
    if (!a)
        return NULL;
    LptStatus st = LPT_OK;
    for (int i = 0; i < n && st == LPT_OK; i++) {
        st = lpt_arena_alloc(a, t[i], name, LPT_F32, counts[i], err);
        if (st == LPT_OK)
            st = lpt_tensor_fill_u32(t[i], 0, err);
    }
    if (st != LPT_OK) {
        lpt_arena_free(a);
        return NULL;
    }
    return a;
}

double lpt_pretrain_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- weight files ----------------------------------------------------------------------- */

LptStatus lpt_pretrain_write_file(LptSafetensorsWriter *w, const char *const *fixed,
                                  const char *const *meta, const char *path, LptError *err)
{
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && fixed[i]; i += 2)
        st = lpt_safetensors_writer_set_metadata(w, fixed[i], fixed[i + 1], err);
    for (int i = 0; st == LPT_OK && meta && meta[i]; i += 2)
        st = lpt_safetensors_writer_set_metadata(w, meta[i], meta[i + 1] ? meta[i + 1] : "", err);
    return st == LPT_OK ? lpt_safetensors_write(w, path, err) : st;
}

void lpt_pretrain_row_name(const char *prefix, const LptWeightsRow *row, int block, char *out,
                           size_t size)
{
    size_t o = (size_t)snprintf(out, size, "%s", prefix);
    for (const char *s = row->file; *s && *s != '|' && o + 12 < size; s++) {
        if (s[0] == '%' && s[1] == 'd') {
            o += (size_t)snprintf(out + o, size - o, "%d", block);
            s++;
        } else {
            out[o++] = *s;
        }
    }
    out[o < size ? o : size - 1] = '\0';
}

int lpt_pretrain_row_dims(LptWeightsShape shape, size_t C, size_t mlp, size_t T, size_t p,
                          size_t Cf, size_t dims[4])
{
    switch (shape) {
    case LPT_WS_C:
    case LPT_WS_3C:
    case LPT_WS_MLP:
        dims[0] = shape == LPT_WS_C ? C : shape == LPT_WS_3C ? 3 * C : mlp;
        return 1;
    case LPT_WS_CC:
    case LPT_WS_3CC:
    case LPT_WS_MLP_C:
    case LPT_WS_C_MLP:
        dims[0] = shape == LPT_WS_3CC ? 3 * C : shape == LPT_WS_MLP_C ? mlp : C;
        dims[1] = shape == LPT_WS_C_MLP ? mlp : C;
        return 2;
    case LPT_WS_T_C:
    case LPT_WS_CF_C:
    case LPT_WS_C_CF:
        dims[0] = shape == LPT_WS_T_C ? T : shape == LPT_WS_CF_C ? Cf : C;
        dims[1] = shape == LPT_WS_C_CF ? Cf : C;
        return 2;
    case LPT_WS_PATCH:
        dims[0] = C;
        dims[1] = 3;
        dims[2] = dims[3] = p;
        return 4;
    case LPT_WS_1_1_C:
    case LPT_WS_1_T_C:
        dims[0] = 1;
        dims[1] = shape == LPT_WS_1_1_C ? 1 : T;
        dims[2] = C;
        return 3;
    default:
        return 0;
    }
}

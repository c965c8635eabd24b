/* lpt_sampler.c: instance, class-balanced and dual batch sampling. See lpt_sampler.h.
 *
 * Layout: the images are kept class-major (class 0's as given, then class 1's, ...) and
 * everything else refers to them by position p in that array (int32: N <= INT32_MAX).
 */
#include "lpt_sampler.h"

#include <stdlib.h>

#include "lpt_rng.h"

struct LptSampler {
    LptSamplerKind kind;
    int32_t batch_size;
    int32_t num_classes;
    int32_t num_drawable; /* classes with at least one image */
    int64_t num_images;   /* N */
    int64_t steps_per_epoch;
    uint64_t seed;
    uint64_t fingerprint;
    int64_t epoch; /* the epoch being produced */
    int64_t step;  /* its next step; == steps_per_epoch once the epoch is done */

    int64_t *images;      /* [N] the given images, class-major */
    int32_t *labels;      /* [N] the class of images[p] */
    int64_t *class_start; /* [num_classes + 1] class c: positions class_start[c] .. c + 1 */

    int32_t *ib_order; /* [N] this epoch's instance permutation of positions */

    LptRng cb_rng;         /* this epoch's class-balanced draws */
    int32_t *cb_classes;   /* [num_drawable] the class cycle */
    int32_t cb_class_next; /* next index in cb_classes; == num_drawable: reshuffle first */
    int32_t *cb_cycle;     /* [N] positions; class c's cycle is at class_start[c] */
    int64_t *cb_next;      /* [num_classes] next index in c's cycle; == count: reshuffle */

    int64_t *out_images; /* [2B] class-balanced batch, then instance batch */
    int32_t *out_labels; /* [2B] */
};

/* Shuffles n <= INT32_MAX positions; lpt_rng_shuffle fails only above UINT32_MAX. */
static void sampler_shuffle(LptRng *rng, int32_t *a, int64_t n)
{
    (void)lpt_rng_shuffle(rng, a, (size_t)n, sizeof *a, NULL);
}

static uint64_t sampler_mix(uint64_t h, uint64_t v)
{
    /* splitmix64's finaliser on h + golden ratio + v: a 64-bit hash step. */
    uint64_t z = h + UINT64_C(0x9E3779B97F4A7C15) + v;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int sampler_has_cb(const LptSampler *s)
{
    return s->kind != LPT_SAMPLER_INSTANCE;
}

static int sampler_has_ib(const LptSampler *s)
{
    return s->kind != LPT_SAMPLER_CLASS_BALANCED;
}

/* Restarts every cycle and draws the instance permutation for epoch e. */
static void sampler_start_epoch(LptSampler *s, int64_t e)
{
    s->epoch = e;
    s->step = 0;
    if (sampler_has_ib(s)) {
        LptRng rng;
        lpt_rng_seed(&rng, s->seed, 2 * (uint64_t)e);
        for (int64_t p = 0; p < s->num_images; p++)
            s->ib_order[p] = (int32_t)p;
        sampler_shuffle(&rng, s->ib_order, s->num_images);
    }
    if (sampler_has_cb(s)) {
        lpt_rng_seed(&s->cb_rng, s->seed, 2 * (uint64_t)e + 1);
        int32_t k = 0;
        for (int32_t c = 0; c < s->num_classes; c++) {
            int64_t n = s->class_start[c + 1] - s->class_start[c];
            if (n > 0)
                s->cb_classes[k++] = c;
            s->cb_next[c] = n;
        }
        s->cb_class_next = s->num_drawable;
        for (int64_t p = 0; p < s->num_images; p++)
            s->cb_cycle[p] = (int32_t)p;
    }
}

/* Produces the current step's batches into the output buffers and counts the step. */
static void sampler_produce(LptSampler *s, LptSamplerBatch *batch)
{
    int32_t b = s->batch_size, k = 0;
    int64_t *cb_images = s->out_images, *ib_images = s->out_images + b;
    int32_t *cb_labels = s->out_labels, *ib_labels = s->out_labels + b;
    if (sampler_has_cb(s)) {
        for (int32_t slot = 0; slot < b / LPT_SAMPLER_IMAGES_PER_CLASS; slot++) {
            if (s->cb_class_next == s->num_drawable) {
                sampler_shuffle(&s->cb_rng, s->cb_classes, s->num_drawable);
                s->cb_class_next = 0;
            }
            int32_t c = s->cb_classes[s->cb_class_next++];
            int64_t base = s->class_start[c], n = s->class_start[c + 1] - base;
            for (int j = 0; j < LPT_SAMPLER_IMAGES_PER_CLASS; j++) {
                if (s->cb_next[c] == n) {
                    sampler_shuffle(&s->cb_rng, s->cb_cycle + base, n);
                    s->cb_next[c] = 0;
                }
                int32_t p = s->cb_cycle[base + s->cb_next[c]++];
                cb_images[k] = s->images[p];
                cb_labels[k] = c;
                k++;
            }
        }
    }
    int32_t m = 0;
    if (sampler_has_ib(s)) {
        int64_t first = s->step * b;
        int64_t left = s->num_images - first;
        m = left <= 0 ? 0 : (left < b ? (int32_t)left : b);
        for (int32_t j = 0; j < m; j++) {
            int32_t p = s->ib_order[first + j];
            ib_images[j] = s->images[p];
            ib_labels[j] = s->labels[p];
        }
    }
    if (batch) {
        batch->epoch = s->epoch;
        batch->step = s->step;
        batch->cb_count = k;
        batch->cb_images = cb_images;
        batch->cb_labels = cb_labels;
        batch->ib_count = m;
        batch->ib_images = ib_images;
        batch->ib_labels = ib_labels;
    }
    s->step++;
}

static LptStatus sampler_check(LptSamplerKind kind, const int64_t *const *class_images,
                               const int64_t *class_counts, int32_t num_classes, int32_t batch_size,
                               int64_t *num_images, LptError *err)
{
    if ((int)kind < LPT_SAMPLER_INSTANCE || (int)kind > LPT_SAMPLER_DUAL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "sampler: unknown kind %d",
                             (int)kind);
    if (num_classes < 1 || !class_images || !class_counts)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: %d classes%s; a sampler needs at least one class",
                             (int)num_classes,
                             (class_images && class_counts) ? "" : " and no image arrays");
    if (batch_size < 1 || batch_size > LPT_SAMPLER_MAX_BATCH)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: batch size %d, not in [1, %d]", (int)batch_size,
                             LPT_SAMPLER_MAX_BATCH);
    if (kind != LPT_SAMPLER_INSTANCE && batch_size % LPT_SAMPLER_IMAGES_PER_CLASS != 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: batch size %d is not a multiple of %d; a class-balanced "
                             "batch is B/%d classes x %d images",
                             (int)batch_size, LPT_SAMPLER_IMAGES_PER_CLASS,
                             LPT_SAMPLER_IMAGES_PER_CLASS, LPT_SAMPLER_IMAGES_PER_CLASS);
    int64_t total = 0;
    for (int32_t c = 0; c < num_classes; c++) {
        int64_t n = class_counts[c];
        if (n < 0 || n > LPT_SAMPLER_MAX_IMAGES - total)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "sampler: class %d has %lld images (%s)", (int)c, (long long)n,
                                 n < 0 ? "negative" : "more than a sampler takes in all");
        if (n > 0 && !class_images[c])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "sampler: class %d has %lld images but no image array", (int)c,
                                 (long long)n);
        for (int64_t j = 0; j < n; j++)
            if (class_images[c][j] < 0)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "sampler: class %d image %lld is %lld; image indices "
                                     "are >= 0",
                                     (int)c, (long long)j, (long long)class_images[c][j]);
        total += n;
    }
    if (total == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: the %d classes have no training images", (int)num_classes);
    *num_images = total;
    return LPT_OK;
}

LptSampler *lpt_sampler_new(LptSamplerKind kind, const int64_t *const *class_images,
                            const int64_t *class_counts, int32_t num_classes, int32_t batch_size,
                            uint64_t seed, LptError *err)
{
    int64_t n_images = 0;
    if (sampler_check(kind, class_images, class_counts, num_classes, batch_size, &n_images, err) !=
        LPT_OK)
        return NULL;

    size_t n = (size_t)n_images, nc = (size_t)num_classes, b2 = 2 * (size_t)batch_size;
    LptSampler *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->kind = kind;
    s->batch_size = batch_size;
    s->num_classes = num_classes;
    s->num_images = n_images;
    s->seed = seed;
    s->steps_per_epoch = kind == LPT_SAMPLER_INSTANCE ? (n_images + batch_size - 1) / batch_size
                                                      : n_images / batch_size + 1;
    s->images = malloc(n * sizeof *s->images);
    s->labels = malloc(n * sizeof *s->labels);
    s->class_start = malloc((nc + 1) * sizeof *s->class_start);
    s->ib_order = malloc(n * sizeof *s->ib_order);
    s->cb_classes = malloc(nc * sizeof *s->cb_classes);
    s->cb_cycle = malloc(n * sizeof *s->cb_cycle);
    s->cb_next = malloc(nc * sizeof *s->cb_next);
    s->out_images = malloc(b2 * sizeof *s->out_images);
    s->out_labels = malloc(b2 * sizeof *s->out_labels);
    if (!s->images || !s->labels || !s->class_start || !s->ib_order || !s->cb_classes ||
        !s->cb_cycle || !s->cb_next || !s->out_images || !s->out_labels)
        goto oom;

    uint64_t h = sampler_mix(sampler_mix(0, (uint64_t)kind), (uint64_t)batch_size);
    h = sampler_mix(h, (uint64_t)num_classes);
    int64_t p = 0;
    for (int32_t c = 0; c < num_classes; c++) {
        s->class_start[c] = p;
        s->num_drawable += class_counts[c] > 0;
        h = sampler_mix(h, (uint64_t)class_counts[c]);
        for (int64_t j = 0; j < class_counts[c]; j++, p++) {
            s->images[p] = class_images[c][j];
            s->labels[p] = c;
            h = sampler_mix(h, (uint64_t)class_images[c][j]);
        }
    }
    s->class_start[num_classes] = p;
    s->fingerprint = h;
    sampler_start_epoch(s, 0);
    return s;

oom:
    lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                  "sampler: no memory for %lld images of %d classes at batch size %d",
                  (long long)n_images, (int)num_classes, (int)batch_size);
    lpt_sampler_free(s);
    return NULL;
}

void lpt_sampler_free(LptSampler *s)
{
    if (!s)
        return;
    free(s->images);
    free(s->labels);
    free(s->class_start);
    free(s->ib_order);
    free(s->cb_classes);
    free(s->cb_cycle);
    free(s->cb_next);
    free(s->out_images);
    free(s->out_labels);
    free(s);
}

int64_t lpt_sampler_steps_per_epoch(const LptSampler *s)
{
    return s ? s->steps_per_epoch : 0;
}

LptStatus lpt_sampler_next(LptSampler *s, LptSamplerBatch *batch, LptError *err)
{
    if (!s || !batch)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "sampler: no %s given",
                             s ? "batch" : "sampler");
    if (s->step == s->steps_per_epoch)
        sampler_start_epoch(s, s->epoch + 1);
    sampler_produce(s, batch);
    return LPT_OK;
}

void lpt_sampler_get_state(const LptSampler *s, LptSamplerState *state)
{
    if (!s || !state)
        return;
    int done = s->step == s->steps_per_epoch;
    state->seed = s->seed;
    state->epoch = done ? s->epoch + 1 : s->epoch;
    state->step = done ? 0 : s->step;
    state->fingerprint = s->fingerprint;
}

LptStatus lpt_sampler_set_state(LptSampler *s, const LptSamplerState *state, LptError *err)
{
    if (!s || !state)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "sampler: no %s given",
                             s ? "state" : "sampler");
    if (state->fingerprint != s->fingerprint)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: the saved state is for other training images or another "
                             "batch size or kind (fingerprint %016llx, this sampler's %016llx)",
                             (unsigned long long)state->fingerprint,
                             (unsigned long long)s->fingerprint);
    if (state->epoch < 0 || state->step < 0 || state->step >= s->steps_per_epoch)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "sampler: saved state epoch %lld step %lld is out of range "
                             "(epochs from 0, %lld steps per epoch)",
                             (long long)state->epoch, (long long)state->step,
                             (long long)s->steps_per_epoch);
    s->seed = state->seed;
    sampler_start_epoch(s, state->epoch);
    while (s->step < state->step)
        sampler_produce(s, NULL);
    return LPT_OK;
}

/* lpt_loader.c: worker threads that decode, cut and pack steps ahead of the trainer, and the
 * trainer-side upload + transform. See lpt_loader.h.
 *
 * Steps are numbered by a sequence number `seq` (0, 1, ...). Step seq is prepared in slot
 * seq % depth: a worker claims the next seq when its slot is EMPTY (FILLING), prepares it
 * without the lock and marks it READY, FAILED (with the error) or ABORTED (stopped because
 * the loader is being freed or an earlier step failed). lpt_loader_next consumes seq in
 * order, then empties the slot. The first failed seq is `fail_seq`: workers claim nothing
 * after it and give up steps after it, but finish those before it, so the trainer receives
 * every step up to the failing one and then its error.
 *
 * Lock: one mutex guards the slot states, the sequence counters, the sampler, the cache
 * table and the worker statistics; `ready` wakes the trainer, `space` the workers. A slot's
 * arrays belong to the worker that holds it FILLING, then to the trainer once it is READY.
 * Cached images are immutable once in the table and live until lpt_loader_free.
 */
#include "lpt_loader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_image.h"

#define BLOCK_SLACK_BYTES 4096 /* padding always allowed in a block, beyond 2x its pixels */

typedef enum SlotState {
    SLOT_EMPTY = 0,
    SLOT_FILLING,
    SLOT_READY,
    SLOT_FAILED,
    SLOT_ABORTED,
} SlotState;

/* One image of a step: its cut-out rectangle in the slot's `tight` buffer. */
typedef struct Item {
    size_t offset; /* bytes into tight */
    int w, h, c;   /* rectangle size and channels */
} Item;

/* One transform call: images [first, first + count) of a part, packed [count, h, w, c]. */
typedef struct Block {
    int part, first, count;
    int h, w, c;
    size_t offset; /* bytes into pixels */
} Block;

typedef struct Slot {
    SlotState state;
    int64_t seq;
    int64_t epoch, step;
    bool end;
    int32_t count[2];
    int64_t *indices; /* [2B]: part p at p * B */
    int32_t *labels;  /* [2B] */
    float *boxes;     /* [2B * 5] relative to each image's rectangle */
    Item *items;      /* [2B] */
    Block *blocks;    /* [2B] */
    int num_blocks;
    uint8_t *tight; /* the rectangles, each w * h * c bytes */
    size_t tight_bytes, tight_cap;
    uint8_t *pixels; /* the blocks */
    size_t pixel_bytes, pixel_cap;
    LptSamplerState after; /* training: the sampler's state after this step */
    LptStatus status;      /* SLOT_FAILED: why, with the message in error */
    LptError error;
} Slot;

struct LptLoader {
    LptBackend *be;
    LptLoaderMode mode;
    int64_t count;
    char **paths;
    int32_t *labels; /* NULL in an unlabelled eval */
    int32_t batch;
    int parts;
    int input_size;
    LptImageShape shape; /* interp, mean, std, out size; the rest per block */
    LptAugmentParams augment;
    uint64_t seed;
    LptSampler *sampler;
    int64_t steps_per_epoch;

    /* the worker side (under mutex) */
    pthread_mutex_t mutex;
    pthread_cond_t ready, space;
    bool mutex_ok, ready_ok, space_ok;
    pthread_t *threads;
    int threads_started;
    bool stop;
    int depth;
    Slot *slots;
    int64_t next_seq, consume_seq, fail_seq; /* fail_seq -1: none */
    LptImage **cache;                        /* [count] */
    size_t cache_budget, cache_used;
    int64_t cache_images, decoded;
    double decode_seconds;

    /* the trainer side */
    LptArena *out_arena, *pix_arena;
    LptTensor images[2], dev_labels, dev_boxes;
    int64_t *cur_indices; /* [2B] the returned batch's host arrays */
    int32_t *cur_labels;
    LptSamplerState state;
    LptError failure; /* sticky */
    LptLoaderStats stats;
    bool started;      /* lpt_loader_next has been called */
    double first_call; /* when, first */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lpt_loader_config_init(LptLoaderConfig *cfg)
{
    *cfg = (LptLoaderConfig){
        .mode = LPT_LOADER_TRAIN,
        .sampler = LPT_SAMPLER_DUAL,
        .batch_size = 256,
        .input_size = 224,
        .mean = {0.5f, 0.5f, 0.5f},
        .std = {0.5f, 0.5f, 0.5f},
        .interp = LPT_INTERP_BILINEAR,
        .prefetch = LPT_LOADER_PREFETCH_DEFAULT,
        .cache_bytes = LPT_LOADER_CACHE_BYTES_DEFAULT,
    };
    lpt_augment_params_init(&cfg->augment);
}

/* ---- checking the configuration ---------------------------------------------------------- */

static LptStatus check_config(const LptBackend *be, const LptLoaderConfig *cfg, LptError *err)
{
    if (!be || !cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: no %s",
                             be ? "configuration" : "backend");
    if (cfg->mode != LPT_LOADER_TRAIN && cfg->mode != LPT_LOADER_EVAL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: unknown mode %d",
                             (int)cfg->mode);
    bool train = cfg->mode == LPT_LOADER_TRAIN;
    if (cfg->count < 1 || !cfg->paths)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: no images (count %lld, paths %s)", (long long)cfg->count,
                             cfg->paths ? "given" : "NULL");
    if (train && (cfg->num_classes < 1 || !cfg->labels))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: training needs labels and num_classes >= 1 (got %d)",
                             (int)cfg->num_classes);
    for (int64_t i = 0; i < cfg->count; i++) {
        if (!cfg->paths[i])
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: image %lld has no path",
                                 (long long)i);
        if (train && (cfg->labels[i] < 0 || cfg->labels[i] >= cfg->num_classes))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "loader: image %lld ('%s') has label %d, outside [0, %d)",
                                 (long long)i, cfg->paths[i], (int)cfg->labels[i],
                                 (int)cfg->num_classes);
    }
    if (cfg->batch_size < 1 || cfg->batch_size > LPT_SAMPLER_MAX_BATCH)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: batch size %d is not in [1, %d]", (int)cfg->batch_size,
                             LPT_SAMPLER_MAX_BATCH);
    if (cfg->input_size < 1 || cfg->input_size > LPT_LOADER_MAX_INPUT)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: input size %d is not in [1, %d]", cfg->input_size,
                             LPT_LOADER_MAX_INPUT);
    for (int c = 0; c < 3; c++)
        if (!(cfg->std[c] > 0.0f))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: std[%d] must be > 0",
                                 c);
    if (cfg->interp != LPT_INTERP_BILINEAR && cfg->interp != LPT_INTERP_BICUBIC)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: unknown interpolation %d",
                             (int)cfg->interp);
    if (cfg->prefetch < 1 || cfg->prefetch > LPT_LOADER_MAX_PREFETCH)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: prefetch %d is not in [1, %d]", cfg->prefetch,
                             LPT_LOADER_MAX_PREFETCH);
    if (cfg->workers < 0 || cfg->workers > LPT_LOADER_MAX_WORKERS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "loader: workers %d is not in [0, %d]", cfg->workers,
                             LPT_LOADER_MAX_WORKERS);
    if (train)
        return lpt_augment_params_check(&cfg->augment, err);
    return LPT_OK;
}

/* ---- the worker side --------------------------------------------------------------------- */

/* Grows *buf to hold `need` bytes (keeping its contents). */
static LptStatus reserve(uint8_t **buf, size_t *cap, size_t need, const char *what, LptError *err)
{
    if (need <= *cap)
        return LPT_OK;
    size_t grown = *cap + *cap / 2;
    size_t cap_new = need > grown ? need : grown;
    uint8_t *p = realloc(*buf, cap_new);
    if (!p)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "loader: out of host memory for %zu bytes of %s", cap_new, what);
    *buf = p;
    *cap = cap_new;
    return LPT_OK;
}

/* Called with the lock held: which images step `seq` takes (the sampler's next batch, or
 * the eval list's next slice). */
static LptStatus assign_step(LptLoader *L, Slot *s, int64_t seq, LptError *err)
{
    s->end = false;
    s->count[0] = s->count[1] = 0;
    if (L->mode == LPT_LOADER_EVAL) {
        int64_t per_pass = L->steps_per_epoch + 1; /* the batches, then the end mark */
        s->epoch = seq / per_pass;
        s->step = seq % per_pass;
        if (s->step == L->steps_per_epoch) {
            s->end = true;
            return LPT_OK;
        }
        int64_t first = s->step * L->batch;
        int64_t n = L->count - first < L->batch ? L->count - first : L->batch;
        s->count[0] = (int32_t)n;
        for (int64_t i = 0; i < n; i++) {
            s->indices[i] = first + i;
            s->labels[i] = L->labels ? L->labels[first + i] : -1;
        }
        return LPT_OK;
    }
    LptSamplerBatch sb;
    LptStatus st = lpt_sampler_next(L->sampler, &sb, err);
    if (st != LPT_OK)
        return st;
    lpt_sampler_get_state(L->sampler, &s->after);
    s->epoch = sb.epoch;
    s->step = sb.step;
    /* part 0 is the class-balanced batch where there is one, part 1 the instance batch of
     * DUAL; INSTANCE puts its batch in part 0 */
    const int64_t *img[2] = {sb.cb_images, sb.ib_images};
    const int32_t *lab[2] = {sb.cb_labels, sb.ib_labels};
    int32_t cnt[2] = {sb.cb_count, sb.ib_count};
    if (L->parts == 1 && sb.cb_count == 0) {
        img[0] = sb.ib_images, lab[0] = sb.ib_labels, cnt[0] = sb.ib_count;
        cnt[1] = 0;
    }
    for (int p = 0; p < L->parts; p++) {
        s->count[p] = cnt[p];
        if (cnt[p] > 0) {
            memcpy(s->indices + (size_t)p * L->batch, img[p], (size_t)cnt[p] * sizeof(int64_t));
            memcpy(s->labels + (size_t)p * L->batch, lab[p], (size_t)cnt[p] * sizeof(int32_t));
        }
    }
    return LPT_OK;
}

/* True when the worker preparing `seq` should give up: the loader is stopping, or an earlier
 * step failed. */
static bool should_abort(LptLoader *L, int64_t seq)
{
    pthread_mutex_lock(&L->mutex);
    bool abort_now = L->stop || (L->fail_seq >= 0 && L->fail_seq < seq);
    pthread_mutex_unlock(&L->mutex);
    return abort_now;
}

/* The decoded image at position idx: from the cache, or decoded into *tmp (and then kept in
 * the cache when it fits, *tmp left empty). */
static LptStatus get_image(LptLoader *L, int64_t idx, LptImage *tmp, const LptImage **out,
                           LptError *err)
{
    pthread_mutex_lock(&L->mutex);
    const LptImage *hit = L->cache[idx];
    pthread_mutex_unlock(&L->mutex);
    if (hit) {
        *out = hit;
        return LPT_OK;
    }
    LptStatus st = lpt_image_decode_file(L->paths[idx], tmp, err);
    if (st != LPT_OK)
        return st;
    size_t bytes = (size_t)tmp->width * tmp->height * tmp->channels;
    LptImage *keep = NULL;
    pthread_mutex_lock(&L->mutex);
    L->decoded++;
    if (!L->cache[idx] && bytes <= L->cache_budget - L->cache_used &&
        (keep = malloc(sizeof *keep)) != NULL) {
        *keep = *tmp;
        *tmp = (LptImage){0};
        L->cache[idx] = keep;
        L->cache_used += bytes;
        L->cache_images++;
    }
    pthread_mutex_unlock(&L->mutex);
    *out = keep ? keep : tmp;
    return LPT_OK;
}

/* Image `i` of part `p`: decode, box, cut its rectangle into s->tight. */
static LptStatus cut_image(LptLoader *L, Slot *s, int p, int i, LptError *err)
{
    size_t k = (size_t)p * L->batch + i;
    int64_t idx = s->indices[k];
    LptImage tmp = {0};
    const LptImage *img = NULL;
    LptStatus st = get_image(L, idx, &tmp, &img, err);
    if (st != LPT_OK) {
        lpt_error_prefix(err, "epoch %lld step %lld, image %lld", (long long)s->epoch,
                         (long long)s->step, (long long)idx);
        return st;
    }
    float *box = s->boxes + k * 5;
    if (L->mode == LPT_LOADER_TRAIN) {
        LptRng rng;
        lpt_augment_rng(&rng, L->seed, s->epoch, s->step, (int64_t)k);
        lpt_augment_train_box(&rng, img->width, img->height, &L->augment, box);
    } else {
        lpt_augment_eval_box(img->width, img->height, L->input_size, box);
    }
    int rx, ry, rw, rh;
    lpt_augment_box_region(box, img->width, img->height, L->input_size, L->shape.interp, &rx, &ry,
                           &rw, &rh);
    box[0] -= (float)rx;
    box[1] -= (float)ry;
    Item *it = &s->items[k];
    size_t row = (size_t)rw * img->channels;
    *it = (Item){.offset = s->tight_bytes, .w = rw, .h = rh, .c = img->channels};
    st = reserve(&s->tight, &s->tight_cap, s->tight_bytes + row * rh, "cut-out images", err);
    if (st == LPT_OK) {
        for (int y = 0; y < rh; y++)
            memcpy(s->tight + it->offset + row * y,
                   img->pixels + ((size_t)(ry + y) * img->width + rx) * img->channels, row);
        s->tight_bytes += row * rh;
    }
    lpt_image_release(&tmp);
    return st;
}

/* Groups each part's images into blocks (consecutive images whose padded block stays
 * within 2x their own pixels plus a little) and lays the blocks out in s->pixels. */
static void plan_blocks(LptLoader *L, Slot *s)
{
    s->num_blocks = 0;
    for (int p = 0; p < L->parts; p++) {
        Block *b = NULL;
        size_t raw = 0;
        for (int i = 0; i < s->count[p]; i++) {
            const Item *it = &s->items[(size_t)p * L->batch + i];
            size_t own = (size_t)it->w * it->h * it->c;
            if (b) {
                int h = b->h > it->h ? b->h : it->h;
                int w = b->w > it->w ? b->w : it->w;
                int c = b->c > it->c ? b->c : it->c;
                size_t padded = (size_t)(b->count + 1) * h * w * c;
                if (padded <= 2 * (raw + own) + BLOCK_SLACK_BYTES) {
                    b->h = h, b->w = w, b->c = c;
                    b->count++;
                    raw += own;
                    continue;
                }
            }
            b = &s->blocks[s->num_blocks++];
            *b = (Block){.part = p, .first = i, .count = 1, .h = it->h, .w = it->w, .c = it->c};
            raw = own;
        }
    }
    s->pixel_bytes = 0;
    for (int n = 0; n < s->num_blocks; n++) {
        Block *b = &s->blocks[n];
        b->offset = s->pixel_bytes;
        s->pixel_bytes += (size_t)b->count * b->h * b->w * b->c;
    }
}

/* Copies one rectangle into its place in a block: edge pixels repeated to the block's size,
 * gray widened to RGB when the block is RGB. */
static void pack_item(const uint8_t *src, const Item *it, uint8_t *dst, const Block *b)
{
    size_t drow = (size_t)b->w * b->c;
    for (int y = 0; y < b->h; y++) {
        const uint8_t *sr = src + (size_t)(y < it->h ? y : it->h - 1) * it->w * it->c;
        uint8_t *dr = dst + drow * y;
        if (it->c == b->c) {
            memcpy(dr, sr, (size_t)it->w * it->c);
        } else {
            for (int x = 0; x < it->w; x++)
                dr[3 * x] = dr[3 * x + 1] = dr[3 * x + 2] = sr[x];
        }
        for (int x = it->w; x < b->w; x++)
            memcpy(dr + (size_t)x * b->c, dr + (size_t)(it->w - 1) * b->c, (size_t)b->c);
    }
}

/* Prepares a claimed step: cut every image, plan the blocks, pack. LPT_ERR_CANCELLED when
 * the step was given up (should_abort). */
static LptStatus fill_step(LptLoader *L, Slot *s, LptError *err)
{
    s->tight_bytes = 0;
    s->pixel_bytes = 0;
    s->num_blocks = 0;
    for (int p = 0; p < L->parts; p++)
        for (int i = 0; i < s->count[p]; i++) {
            if (should_abort(L, s->seq))
                return LPT_ERR_CANCELLED;
            LptStatus st = cut_image(L, s, p, i, err);
            if (st != LPT_OK)
                return st;
        }
    plan_blocks(L, s);
    LptStatus st = reserve(&s->pixels, &s->pixel_cap, s->pixel_bytes, "packed images", err);
    if (st != LPT_OK)
        return st;
    for (int n = 0; n < s->num_blocks; n++) {
        const Block *b = &s->blocks[n];
        size_t each = (size_t)b->h * b->w * b->c;
        for (int i = 0; i < b->count; i++) {
            const Item *it = &s->items[(size_t)b->part * L->batch + b->first + i];
            pack_item(s->tight + it->offset, it, s->pixels + b->offset + each * i, b);
        }
    }
    return LPT_OK;
}

static void *worker_main(void *arg)
{
    LptLoader *L = arg;
    pthread_mutex_lock(&L->mutex);
    for (;;) {
        if (L->stop)
            break;
        Slot *s = &L->slots[L->next_seq % L->depth];
        bool after_failure = L->fail_seq >= 0 && L->next_seq > L->fail_seq;
        if (after_failure || s->state != SLOT_EMPTY) {
            pthread_cond_wait(&L->space, &L->mutex);
            continue;
        }
        int64_t seq = L->next_seq++;
        s->state = SLOT_FILLING;
        s->seq = seq;
        lpt_error_clear(&s->error);
        LptStatus st = assign_step(L, s, seq, &s->error);
        pthread_mutex_unlock(&L->mutex);

        double t0 = now_seconds();
        if (st == LPT_OK)
            st = fill_step(L, s, &s->error);
        double spent = now_seconds() - t0;

        pthread_mutex_lock(&L->mutex);
        L->decode_seconds += spent;
        if (st == LPT_OK) {
            s->state = SLOT_READY;
        } else if (st == LPT_ERR_CANCELLED) {
            s->state = SLOT_ABORTED;
        } else {
            s->state = SLOT_FAILED;
            s->status = st;
            if (L->fail_seq < 0 || seq < L->fail_seq)
                L->fail_seq = seq;
        }
        pthread_cond_broadcast(&L->ready);
        pthread_cond_broadcast(&L->space); /* a new fail_seq may release other workers */
    }
    pthread_mutex_unlock(&L->mutex);
    return NULL;
}

/* ---- creating and freeing ---------------------------------------------------------------- */

static LptStatus make_sampler(LptLoader *L, const LptLoaderConfig *cfg, LptError *err)
{
    int32_t K = cfg->num_classes;
    int64_t *counts = calloc((size_t)K, sizeof *counts);
    int64_t *members = malloc((size_t)cfg->count * sizeof *members);
    const int64_t **lists = malloc((size_t)K * sizeof *lists);
    int64_t *starts = calloc((size_t)K, sizeof *starts);
    LptStatus st = LPT_OK;
    if (!counts || !members || !lists || !starts) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                           "loader: out of host memory for the class lists of %lld images",
                           (long long)cfg->count);
        goto done;
    }
    for (int64_t i = 0; i < cfg->count; i++)
        counts[cfg->labels[i]]++;
    for (int32_t c = 1; c < K; c++)
        starts[c] = starts[c - 1] + counts[c - 1];
    for (int32_t c = 0; c < K; c++)
        lists[c] = members + starts[c];
    for (int64_t i = 0; i < cfg->count; i++)
        members[starts[cfg->labels[i]]++] = i;
    L->sampler = lpt_sampler_new(cfg->sampler, lists, counts, K, cfg->batch_size, cfg->seed, err);
    if (!L->sampler) {
        st = lpt_error_prefix(err, "loader");
        goto done;
    }
    if (cfg->resume && (st = lpt_sampler_set_state(L->sampler, cfg->resume, err)) != LPT_OK) {
        lpt_error_prefix(err, "loader: resuming");
        goto done;
    }
    lpt_sampler_get_state(L->sampler, &L->state);
    L->seed = L->state.seed;
    L->steps_per_epoch = lpt_sampler_steps_per_epoch(L->sampler);
done:
    free(counts), free(members), free(lists), free(starts);
    return st;
}

static LptStatus alloc_host(LptLoader *L, const LptLoaderConfig *cfg, LptError *err)
{
    size_t n2 = 2 * (size_t)L->batch;
    L->paths = calloc((size_t)cfg->count, sizeof *L->paths);
    L->cache = calloc((size_t)cfg->count, sizeof *L->cache);
    L->slots = calloc((size_t)L->depth, sizeof *L->slots);
    L->cur_indices = malloc(n2 * sizeof *L->cur_indices);
    L->cur_labels = malloc(n2 * sizeof *L->cur_labels);
    if (cfg->labels)
        L->labels = malloc((size_t)cfg->count * sizeof *L->labels);
    bool ok = L->paths && L->cache && L->slots && L->cur_indices && L->cur_labels &&
              (L->labels || !cfg->labels);
    for (int64_t i = 0; ok && i < cfg->count; i++)
        ok = (L->paths[i] = strdup(cfg->paths[i])) != NULL;
    for (int d = 0; ok && d < L->depth; d++) {
        Slot *s = &L->slots[d];
        s->seq = -1;
        s->indices = calloc(n2, sizeof *s->indices);
        s->labels = calloc(n2, sizeof *s->labels);
        s->boxes = calloc(n2 * 5, sizeof *s->boxes);
        s->items = calloc(n2, sizeof *s->items);
        s->blocks = calloc(n2, sizeof *s->blocks);
        ok = s->indices && s->labels && s->boxes && s->items && s->blocks;
    }
    if (!ok)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "loader: out of host memory for %lld images and %d steps",
                             (long long)cfg->count, L->depth);
    if (cfg->labels)
        memcpy(L->labels, cfg->labels, (size_t)cfg->count * sizeof *L->labels);
    return LPT_OK;
}

static LptStatus alloc_device(LptLoader *L, LptError *err)
{
    size_t plane = (size_t)3 * L->input_size * L->input_size;
    size_t n2 = 2 * (size_t)L->batch;
    size_t bytes = (size_t)L->parts * (L->batch * plane * sizeof(float) + LPT_ARENA_ALIGN) +
                   n2 * (sizeof(int32_t) + 5 * sizeof(float)) + 2 * LPT_ARENA_ALIGN;
    L->out_arena = lpt_arena_new(L->be, "loader batches", bytes, err);
    if (!L->out_arena)
        return lpt_error_prefix(err, "loader");
    static const char *names[2] = {"loader images (part 0)", "loader images (part 1)"};
    LptStatus st = LPT_OK;
    for (int p = 0; p < L->parts && st == LPT_OK; p++)
        st = lpt_arena_alloc(L->out_arena, &L->images[p], names[p], LPT_F32,
                             (size_t)L->batch * plane, err);
    if (st == LPT_OK)
        st = lpt_arena_alloc(L->out_arena, &L->dev_labels, "loader labels", LPT_I32, n2, err);
    if (st == LPT_OK)
        st = lpt_arena_alloc(L->out_arena, &L->dev_boxes, "loader boxes", LPT_F32, n2 * 5, err);
    return st;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > LPT_LOADER_MAX_WORKERS ? LPT_LOADER_MAX_WORKERS : (int)n);
}

static LptStatus start_workers(LptLoader *L, int workers, LptError *err)
{
    if (pthread_mutex_init(&L->mutex, NULL) != 0)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "loader: cannot create a mutex");
    L->mutex_ok = true;
    L->ready_ok = pthread_cond_init(&L->ready, NULL) == 0;
    L->space_ok = L->ready_ok && pthread_cond_init(&L->space, NULL) == 0;
    if (!L->space_ok)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "loader: cannot create a condition variable");
    L->threads = calloc((size_t)workers, sizeof *L->threads);
    if (!L->threads)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "loader: out of host memory for %d workers", workers);
    for (; L->threads_started < workers; L->threads_started++) {
        int rc = pthread_create(&L->threads[L->threads_started], NULL, worker_main, L);
        if (rc != 0)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, rc,
                                 "loader: cannot start worker thread %d of %d",
                                 L->threads_started + 1, workers);
    }
    return LPT_OK;
}

LptLoader *lpt_loader_new(LptBackend *be, const LptLoaderConfig *cfg, LptError *err)
{
    if (check_config(be, cfg, err) != LPT_OK)
        return NULL;
    LptLoader *L = calloc(1, sizeof *L);
    if (!L) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "loader: out of host memory");
        return NULL;
    }
    L->be = be;
    L->mode = cfg->mode;
    L->count = cfg->count;
    L->batch = cfg->batch_size;
    L->parts = cfg->mode == LPT_LOADER_TRAIN && cfg->sampler == LPT_SAMPLER_DUAL ? 2 : 1;
    L->input_size = cfg->input_size;
    L->shape =
        (LptImageShape){.out_h = cfg->input_size, .out_w = cfg->input_size, .interp = cfg->interp};
    memcpy(L->shape.mean, cfg->mean, sizeof L->shape.mean);
    memcpy(L->shape.std, cfg->std, sizeof L->shape.std);
    L->augment = cfg->augment;
    L->depth = cfg->prefetch;
    L->fail_seq = -1;
    L->cache_budget = cfg->cache_bytes;
    L->seed = cfg->seed;
    L->steps_per_epoch = (cfg->count + cfg->batch_size - 1) / cfg->batch_size;
    int workers = cfg->workers > 0 ? cfg->workers : online_cpus();
    workers = workers < cfg->prefetch ? workers : cfg->prefetch;

    LptStatus st = alloc_host(L, cfg, err);
    if (st == LPT_OK && cfg->mode == LPT_LOADER_TRAIN)
        st = make_sampler(L, cfg, err);
    if (st == LPT_OK)
        st = alloc_device(L, err);
    if (st == LPT_OK)
        st = start_workers(L, workers, err);
    if (st != LPT_OK) {
        lpt_loader_free(L);
        return NULL;
    }
    return L;
}

void lpt_loader_free(LptLoader *L)
{
    if (!L)
        return;
    if (L->mutex_ok) {
        pthread_mutex_lock(&L->mutex);
        L->stop = true;
        if (L->space_ok) {
            pthread_cond_broadcast(&L->space);
            pthread_cond_broadcast(&L->ready);
        }
        pthread_mutex_unlock(&L->mutex);
    }
    for (int t = 0; t < L->threads_started; t++)
        pthread_join(L->threads[t], NULL);
    free(L->threads);
    if (L->space_ok)
        pthread_cond_destroy(&L->space);
    if (L->ready_ok)
        pthread_cond_destroy(&L->ready);
    if (L->mutex_ok)
        pthread_mutex_destroy(&L->mutex);
    for (int d = 0; L->slots && d < L->depth; d++) {
        Slot *s = &L->slots[d];
        free(s->indices), free(s->labels), free(s->boxes), free(s->items), free(s->blocks);
        free(s->tight), free(s->pixels);
    }
    free(L->slots);
    for (int64_t i = 0; i < L->count; i++) {
        if (L->cache && L->cache[i]) {
            lpt_image_release(L->cache[i]);
            free(L->cache[i]);
        }
        if (L->paths)
            free(L->paths[i]);
    }
    free(L->cache), free(L->paths), free(L->labels);
    free(L->cur_indices), free(L->cur_labels);
    lpt_sampler_free(L->sampler);
    lpt_arena_free(L->pix_arena);
    lpt_arena_free(L->out_arena);
    free(L);
}

int64_t lpt_loader_steps_per_epoch(const LptLoader *L)
{
    return L ? L->steps_per_epoch : 0;
}

/* ---- the trainer side -------------------------------------------------------------------- */

/* Uploads a READY step and records its transforms; fills *batch. */
static LptStatus run_step(LptLoader *L, const Slot *s, LptLoaderBatch *batch, LptError *err)
{
    batch->epoch = s->epoch;
    batch->step = s->step;
    batch->end = s->end;
    if (s->end)
        return LPT_OK;
    size_t n2 = 2 * (size_t)L->batch;
    memcpy(L->cur_indices, s->indices, n2 * sizeof *L->cur_indices);
    memcpy(L->cur_labels, s->labels, n2 * sizeof *L->cur_labels);
    if (L->pix_arena && lpt_arena_size(L->pix_arena) < s->pixel_bytes) {
        lpt_arena_free(L->pix_arena);
        L->pix_arena = NULL;
    }
    if (!L->pix_arena) {
        size_t want = s->pixel_bytes + s->pixel_bytes / 4 + LPT_ARENA_ALIGN;
        L->pix_arena = lpt_arena_new(L->be, "loader source pixels", want, err);
        if (!L->pix_arena)
            return lpt_error_prefix(err, "loader");
    }
    lpt_arena_reset(L->pix_arena);
    LptTensor pix;
    LptStatus st =
        lpt_arena_alloc(L->pix_arena, &pix, "loader source pixels", LPT_U8, s->pixel_bytes, err);
    if (st == LPT_OK && s->pixel_bytes > 0)
        st = lpt_tensor_upload(&pix, s->pixels, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&L->dev_boxes, s->boxes, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&L->dev_labels, s->labels, err);
    size_t plane = (size_t)3 * L->input_size * L->input_size;
    for (int n = 0; n < s->num_blocks && st == LPT_OK; n++) {
        const Block *b = &s->blocks[n];
        LptImageShape shape = L->shape;
        shape.batch = b->count;
        shape.src_h = b->h;
        shape.src_w = b->w;
        shape.src_channels = b->c;
        size_t row = (size_t)b->part * L->batch + b->first;
        LptTensor src = lpt_tensor_view(&pix, b->offset, (size_t)b->count * b->h * b->w * b->c);
        LptTensor boxes = lpt_tensor_view(&L->dev_boxes, row * 5, (size_t)b->count * 5);
        LptTensor out = lpt_tensor_view(&L->images[b->part], (size_t)b->first * plane,
                                        (size_t)b->count * plane);
        st = lpt_op_image_transform_forward(L->be, &out, &src, &boxes, &shape, err);
    }
    if (st != LPT_OK)
        return lpt_error_prefix(err, "loader: epoch %lld step %lld", (long long)s->epoch,
                                (long long)s->step);
    batch->parts = L->parts;
    for (int p = 0; p < L->parts; p++) {
        LptLoaderPart *part = &batch->part[p];
        part->count = s->count[p];
        part->images = lpt_tensor_view(&L->images[p], 0, (size_t)s->count[p] * plane);
        part->labels = lpt_tensor_view(&L->dev_labels, (size_t)p * L->batch, (size_t)s->count[p]);
        part->indices = L->cur_indices + (size_t)p * L->batch;
        part->host_labels = L->cur_labels + (size_t)p * L->batch;
        L->stats.images += s->count[p];
    }
    L->stats.batches++;
    return LPT_OK;
}

LptStatus lpt_loader_next(LptLoader *L, LptLoaderBatch *batch, LptError *err)
{
    if (!L || !batch)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "loader: no %s",
                             L ? "batch" : "loader");
    *batch = (LptLoaderBatch){0};
    if (L->failure.code != LPT_OK) {
        if (err)
            *err = L->failure;
        return L->failure.code;
    }
    double t0 = now_seconds();
    if (!L->started) {
        L->started = true;
        L->first_call = t0;
    }

    pthread_mutex_lock(&L->mutex);
    Slot *s = &L->slots[L->consume_seq % L->depth];
    while (s->seq != L->consume_seq || (s->state != SLOT_READY && s->state != SLOT_FAILED))
        pthread_cond_wait(&L->ready, &L->mutex);
    pthread_mutex_unlock(&L->mutex);
    double t1 = now_seconds();

    LptStatus st;
    if (s->state == SLOT_FAILED) {
        L->failure = s->error;
        L->failure.code = st = s->status;
    } else {
        st = run_step(L, s, batch, &L->failure);
    }
    if (st == LPT_OK) {
        if (L->mode == LPT_LOADER_TRAIN)
            L->state = s->after;
        pthread_mutex_lock(&L->mutex);
        s->state = SLOT_EMPTY;
        L->consume_seq++;
        pthread_cond_broadcast(&L->space);
        pthread_mutex_unlock(&L->mutex);
    } else {
        *batch = (LptLoaderBatch){0};
        if (err)
            *err = L->failure;
    }
    double t2 = now_seconds();
    L->stats.wait_seconds += t1 - t0;
    L->stats.transform_seconds += t2 - t1;
    L->stats.elapsed_seconds = t2 - L->first_call;
    return st;
}

void lpt_loader_state(const LptLoader *L, LptSamplerState *state)
{
    if (L && state)
        *state = L->state;
}

void lpt_loader_stats(LptLoader *L, LptLoaderStats *stats)
{
    if (!L || !stats)
        return;
    *stats = L->stats;
    pthread_mutex_lock(&L->mutex);
    stats->decode_seconds = L->decode_seconds;
    stats->decoded = L->decoded;
    stats->cached_images = L->cache_images;
    stats->cached_bytes = L->cache_used;
    pthread_mutex_unlock(&L->mutex);
    stats->wait_share =
        stats->elapsed_seconds > 0.0 ? stats->wait_seconds / stats->elapsed_seconds : 0.0;
}

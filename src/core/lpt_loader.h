/* lpt_loader.h: the data loader that feeds the trainer: decode on worker threads, augment on
 * the device (method.md §5-6).
 *
 * What it gives: per step, one batch per part (DUAL: part 0 class-balanced, part 1 instance;
 * INSTANCE, CLASS_BALANCED and eval: part 0 only) as device tensors on the loader's backend:
 * images [n, 3, S, S] f32, normalised with the expert's mean/std, and labels [n] i32, plus
 * the images' positions in the loader's list on the host.
 *
 * Training (LPT_LOADER_TRAIN): an LptSampler over the images (made by the loader, grouped by
 * label; the batch order is lpt_sampler.h's) decides which images; each image slot gets its
 * random-resized crop and flip from lpt_augment_rng(seed, epoch, step, slot), slot = part * B
 * + position in the part, so a batch is a function of (seed, epoch, step) and the images
 * alone: the same batches on every run, with any number of workers, and after a resume.
 * Evaluation (LPT_LOADER_EVAL): the list in its order, B at a time (the last batch short),
 * each image through the eval box (lpt_augment.h); after the last batch of a pass one batch
 * with `end` set and no parts, then the next pass starts over (so one loader serves every
 * evaluation of a run, with its cache).
 *
 * How: `workers` threads each take the next step in order (drawing the sampler under the
 * lock), decode its images (or take them from the cache), compute the boxes, cut from each
 * image the rectangle its box reads (lpt_augment_box_region) and pack the rectangles as u8
 * into a host buffer: consecutive images of a part share one [n, h, w, c] block, edge pixels
 * replicated to the block's size (exact: the op clamps at the edges the same way) and gray
 * widened to RGB where the block mixes them, while padding stays under 2x the pixels. Up to
 * `prefetch` steps are prepared or in preparation ahead of the trainer. lpt_loader_next
 * takes the next step in order (waiting for it when it is not ready: that time is what
 * LptLoaderStats calls waiting), uploads it and records one
 * lpt_op_image_transform_forward per block on the backend.
 * Cache: decoded images are kept, until the loader is freed, while their bytes fit in
 * `cache_bytes` (first come, first kept: under random access no policy does better).
 *
 * Errors: a file that cannot be decoded (deleted since import, corrupt) stops the loader:
 * the steps before it are still delivered, then lpt_loader_next fails with the decoder's
 * message (which names the file) prefixed by the step, and every later call gives the same
 * error. Workers never abort the process; lpt_loader_free stops and joins them at any point
 * (in the middle of a prefetch too) and frees everything.
 *
 * Ownership and threads: the loader copies the paths and labels it is given. The tensors and
 * host arrays of a batch belong to the loader and stay valid until the next lpt_loader_next
 * or lpt_loader_free; the device work reading them is ordered after the transform by the
 * backend. One thread (the one that owns the backend) calls lpt_loader_next, _stats,
 * _state and _free; the loader's own threads only decode and pack on the host.
 */
#ifndef LPT_LOADER_H
#define LPT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_augment.h"
#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_ops.h"
#include "lpt_sampler.h"
#include "lpt_tensor.h"

#define LPT_LOADER_PREFETCH_DEFAULT 2
#define LPT_LOADER_CACHE_BYTES_DEFAULT ((size_t)256 << 20) /* 256 MiB */
#define LPT_LOADER_MAX_INPUT 4096                          /* largest S */
#define LPT_LOADER_MAX_PREFETCH 64
#define LPT_LOADER_MAX_WORKERS 64

typedef enum LptLoaderMode {
    LPT_LOADER_TRAIN = 0, /* sampler order, random-resized crop + flip */
    LPT_LOADER_EVAL = 1,  /* list order, eval box, passes repeat */
} LptLoaderMode;

typedef struct LptLoaderConfig {
    /* The images: paths[count] (decoded with lpt_image_decode_file) and labels[count] in
     * [0, num_classes). Eval may pass labels = NULL (unlabelled: the labels tensor holds -1). */
    int64_t count;
    const char *const *paths;
    const int32_t *labels;
    int32_t num_classes; /* training only */

    LptLoaderMode mode;
    LptSamplerKind sampler; /* training only */
    int32_t batch_size;     /* B; for CLASS_BALANCED and DUAL a multiple of 4 */
    uint64_t seed;          /* sampler and augmentation (training only) */
    /* Training: where to start (a state from lpt_loader_state, of the same images, kind and
     * B; its seed replaces `seed`); NULL starts at epoch 0, step 0. */
    const LptSamplerState *resume;

    /* The expert's input (method.md §1): S x S, out = (pixel / 255 - mean) / std. */
    int input_size;
    float mean[3], std[3];
    LptInterp interp;
    LptAugmentParams augment; /* training only */

    int prefetch;       /* steps prepared ahead, 1 .. LPT_LOADER_MAX_PREFETCH */
    int workers;        /* decoding threads, 0 = min(prefetch, online CPUs); at most prefetch */
    size_t cache_bytes; /* decoded pixels kept in memory; 0 = none */
} LptLoaderConfig;

/* Defaults: training, DUAL, B = 256, seed 0, S = 224, mean = std = 0.5, bilinear,
 * lpt_augment_params_init, prefetch LPT_LOADER_PREFETCH_DEFAULT, workers 0,
 * cache LPT_LOADER_CACHE_BYTES_DEFAULT; no images. */
void lpt_loader_config_init(LptLoaderConfig *cfg);

typedef struct LptLoader LptLoader;

/* One part of a step's batch. */
typedef struct LptLoaderPart {
    int32_t count;              /* images, <= B (0: an empty part, e.g. DUAL's last step) */
    LptTensor images;           /* [count, 3, S, S] f32 on the backend */
    LptTensor labels;           /* [count] i32 on the backend */
    const int64_t *indices;     /* [count] positions in the config's lists (host) */
    const int32_t *host_labels; /* [count] the same labels on the host */
} LptLoaderPart;

typedef struct LptLoaderBatch {
    int64_t epoch; /* training: the sampler's epoch; eval: the pass, from 0 */
    int64_t step;  /* within the epoch / pass */
    bool end;      /* eval: the pass is over (no parts; the next call starts another) */
    int parts;     /* 2 for DUAL, else 1; 0 with end */
    LptLoaderPart part[2];
} LptLoaderBatch;

/* A loader on backend `be` (borrowed; must outlive the loader). Starts the workers, which
 * begin decoding at once. NULL on failure with a message naming the bad field. */
LptLoader *lpt_loader_new(LptBackend *be, const LptLoaderConfig *cfg, LptError *err);

/* Stops and joins the workers (whatever they are doing), frees everything. NULL: no-op. */
void lpt_loader_free(LptLoader *loader);

/* Steps per epoch of the training sampler; eval: batches per pass (without the end mark). */
int64_t lpt_loader_steps_per_epoch(const LptLoader *loader);

/* The next step's batch (waiting for the workers when it is not ready). On failure (a file
 * that cannot be decoded, a device error) *batch is zeroed and the loader is stopped: every
 * later call gives the same error. */
LptStatus lpt_loader_next(LptLoader *loader, LptLoaderBatch *batch, LptError *err);

/* Training: the state to save so that a loader made with it as `resume` continues with the
 * step after the last one lpt_loader_next returned. */
void lpt_loader_state(const LptLoader *loader, LptSamplerState *state);

typedef struct LptLoaderStats {
    int64_t batches;          /* steps returned by lpt_loader_next (end marks not counted) */
    int64_t images;           /* images in them */
    double wait_seconds;      /* lpt_loader_next blocked for a step not yet prepared */
    double transform_seconds; /* lpt_loader_next uploading and recording the transforms */
    double elapsed_seconds;   /* from the first lpt_loader_next call to the latest return */
    double wait_share;        /* wait_seconds / elapsed_seconds (0 before any call) */
    double decode_seconds;    /* workers decoding, cutting and packing, summed over workers */
    int64_t decoded;          /* files decoded (cache misses included, hits not) */
    int64_t cached_images;    /* images held in the cache */
    size_t cached_bytes;      /* their pixel bytes */
} LptLoaderStats;

void lpt_loader_stats(LptLoader *loader, LptLoaderStats *stats);

#endif

/* lpt_sampler.h: which training images each step sees (method.md §5, dual sampling).
 *
 * Input: the training images as one array of image indices per class (any values >= 0: array
 * positions or store ids; the sampler copies them and hands them back with their class).
 * Classes with no image are never drawn. Three kinds, all with batch size B:
 *   INSTANCE        uniform without replacement: each epoch is a fresh permutation of all N
 *                   images cut into batches of B, the last one short (N mod B); every image
 *                   exactly once per epoch; ceil(N / B) steps per epoch.
 *   CLASS_BALANCED  B/4 classes x 4 images: classes come from a cycle over all classes that
 *                   have images, reshuffled each time it runs out; each class's 4 images come
 *                   from that class's own cycle over its images, reshuffled each time it runs
 *                   out (a class of 2 images gives them both twice, in a fresh order each
 *                   round). Within an epoch, class draws differ by at most 1 between classes
 *                   and image draws by at most 1 within a class. floor(N / B) + 1 steps.
 *   DUAL            one CLASS_BALANCED and one INSTANCE batch per step, floor(N / B) + 1
 *                   steps: the instance batches take the epoch's permutation in order, so
 *                   the last step's instance batch holds N mod B images (none when B divides
 *                   N: that step has the class-balanced batch only). Its class-balanced and
 *                   instance batches equal those of a CLASS_BALANCED and an INSTANCE sampler
 *                   made from the same images, B and seed.
 *
 * Determinism: epoch e is a function of (seed, e) and the images alone: each epoch starts
 * from the images in their given order, all cycles restarted, with LptRng streams 2e (the
 * instance permutation) and 2e + 1 (the class-balanced draws). So cycles do not carry over
 * from one epoch to the next, and any epoch can be produced without the ones before it.
 *
 * Resume: the state (seed, epoch, step, fingerprint) is four integers; a sampler made from
 * the same images and B and given a saved state continues with exactly the batches the saved
 * one would have given next (it replays the epoch's earlier steps, O(step * B) draws). The
 * fingerprint (a hash of kind, B and the images per class) makes a state from other data
 * an error rather than a silently different run.
 *
 * Ownership and threads: an LptSampler owns copies of its inputs and the batch buffers that
 * LptSamplerBatch points into (valid until the next lpt_sampler_next, set_state or free).
 * One thread at a time per sampler; no global state.
 */
#ifndef LPT_SAMPLER_H
#define LPT_SAMPLER_H

#include <stdint.h>

#include "lpt_error.h"

#define LPT_SAMPLER_IMAGES_PER_CLASS 4 /* images per class in a class-balanced batch */
#define LPT_SAMPLER_MAX_BATCH 65536    /* largest B */
#define LPT_SAMPLER_MAX_IMAGES INT32_MAX

typedef enum LptSamplerKind {
    LPT_SAMPLER_INSTANCE = 0,
    LPT_SAMPLER_CLASS_BALANCED = 1,
    LPT_SAMPLER_DUAL = 2,
} LptSamplerKind;

typedef struct LptSampler LptSampler;

/* One step's batches; the arrays belong to the sampler. */
typedef struct LptSamplerBatch {
    int64_t epoch;            /* the epoch this step belongs to, from 0 */
    int64_t step;             /* within the epoch, 0 .. steps_per_epoch - 1 */
    int32_t cb_count;         /* class-balanced images: B (CLASS_BALANCED, DUAL) or 0 */
    const int64_t *cb_images; /* [cb_count] image indices, classes in groups of 4 */
    const int32_t *cb_labels; /* [cb_count] their classes */
    int32_t ib_count;         /* instance images: <= B (INSTANCE, DUAL) or 0 */
    const int64_t *ib_images; /* [ib_count] */
    const int32_t *ib_labels; /* [ib_count] */
} LptSamplerBatch;

/* Where a sampler is: the next batch it gives is (epoch, step). Save these as integers. */
typedef struct LptSamplerState {
    uint64_t seed;
    int64_t epoch;
    int64_t step;         /* 0 .. steps_per_epoch - 1 */
    uint64_t fingerprint; /* of the kind, B and the images per class */
} LptSamplerState;

/* A sampler over num_classes (>= 1) classes; class c has class_counts[c] (>= 0) images at
 * class_images[c] (may be NULL when the count is 0). At least one image in all; B in
 * [1, LPT_SAMPLER_MAX_BATCH] and, for CLASS_BALANCED and DUAL, a multiple of 4. The first
 * batch is (epoch 0, step 0). NULL on failure, with a message naming the argument. */
LptSampler *lpt_sampler_new(LptSamplerKind kind, const int64_t *const *class_images,
                            const int64_t *class_counts, int32_t num_classes, int32_t batch_size,
                            uint64_t seed, LptError *err);

/* NULL is a no-op. */
void lpt_sampler_free(LptSampler *sampler);

/* Steps per epoch: floor(N / B) + 1, or ceil(N / B) for INSTANCE. */
int64_t lpt_sampler_steps_per_epoch(const LptSampler *sampler);

/* Fills *batch with the next step's batches and moves on; after an epoch's last step the
 * next epoch starts. */
LptStatus lpt_sampler_next(LptSampler *sampler, LptSamplerBatch *batch, LptError *err);

/* The state before the next batch. */
void lpt_sampler_get_state(const LptSampler *sampler, LptSamplerState *state);

/* Moves the sampler to a saved state (any epoch >= 0 and step of it, any seed). Fails, with
 * the sampler unchanged, when the fingerprint is not this sampler's or epoch/step are out of
 * range. */
LptStatus lpt_sampler_set_state(LptSampler *sampler, const LptSamplerState *state, LptError *err);

#endif

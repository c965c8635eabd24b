/* lpt_trainer.h: the training phases of LPT++ for one run, as a state machine per expert
 * (method.md §2-7), with per-epoch checkpoints, resume, cancel, progress, and evaluation.
 *
 * States of an expert: phase 1 (shared prompts + adapters + head; the baselines' one phase)
 * -> phase 2 (group prompts + keys + head, from phase 1's best checkpoint) -> done; phase 3
 * (the MoE scorer) starts when every expert of the run is done. Where a run is comes from
 * its checkpoints in the store alone (the latest epoch of each (phase, expert)), so a killed
 * process resumes where its last checkpoint left it, and lpt_trainer_run(phase) of a phase
 * already complete returns at once.
 *
 * One epoch of phase 1/2 (lpt_loader: DUAL sampling, random-resized crop + flip, on the
 * device): for each step, gradients of L_cb + lambda_e L_ib (+ each batch's key loss in
 * phase 2) over micro-batches that fit the activation memory, one SGD step (momentum, weight
 * decay, the epoch's lr from lpt_schedule.h); then the model on the validation images,
 * balanced accuracy as the selection metric; then a checkpoint. Linear probe: the head alone
 * on the plain backbone, cross entropy (A-GCL with every extra off), instance sampling. Full
 * fine-tuning: the same, training every backbone tensor with the head (LPT_VIT_FULL; the
 * expert's model is made with train_backbone and its backbone set by the caller before each
 * lpt_trainer_run), the same SGD (lr, momentum, weight decay of the run config) over the head
 * and the backbone span; validation and evaluation run the plain graph.
 *
 * Randomness: every draw is a function of the run's seed and (phase, expert, epoch, step,
 * image slot): sampler, augmentation (lpt_loader.h), A-GCL noise and the feature dropout's
 * mask (train.feature_dropout, per micro-batch: lpt_vit_set_feature_dropout) and the
 * initialisations (the VL head from its head_init rows when given). So an epoch re-run after
 * a resume gives the same batches, noise, masks and updates, and on the CPU backend the same
 * bits (same thread count).
 *
 * Checkpoints (a safetensors image per epoch): every trainable tensor of the expert
 * ("param.<name>"; full fine-tuning: every backbone tensor too), the optimiser state
 * ("optim.velocity": the head's, then from the next multiple of 64 floats the backbone's in
 * full fine-tuning, or the scorer's "scorer.params",
 * "scorer.adam_m", "scorer.adam_v"), and metadata "lpt_checkpoint" = JSON {phase, expert,
 * epoch, sampler: {seed, epoch, step, fingerprint}, best_metric, best_epoch, adam_step}
 * (no RNG state: every draw is a function of the seed and the position, above). A checkpoint
 * of at most LPT_TRAINER_INLINE_MAX bytes is stored inline, in its row's data BLOB, so that
 * the project file alone holds every trained run (copied without its .runs folder, it still
 * resumes, evaluates and exports); the image is then written in the same transaction as the
 * epoch's metrics, so a kill leaves the epoch either wholly recorded or not at all. A larger
 * one (full fine-tuning of a big backbone: hundreds of MB, which would bloat the project,
 * its WAL and every copy of it, and pass through memory whole) is a file in the checkpoint
 * folder (p<phase>-<expert>-e<epoch>.safetensors; the folder is made, with its parents, only
 * when such a file is written, so a run of inline checkpoints makes no folder), written
 * atomically before that
 * transaction, its row holding the path; a kill between the two leaves at worst a file
 * without a row, which the resumed epoch overwrites. The same transaction deletes the
 * (phase, expert) rows other than the latest and the best (lpt_store_checkpoint_prune: the
 * only two any reader picks; the per-epoch metrics keep the lineage), then the files of that
 * (phase, expert) other than the latest's and the best's are deleted (with any temporary
 * file of an atomic write a killed process left). Rows of older projects that name files
 * load as before: lpt_trainer_checkpoint_open reads either kind.
 *
 * Phase 3: each expert (its best checkpoint of its last phase) runs once per augmented view
 * of every training image (scorer.views views; view v = epoch v of an instance loader) and
 * once on every validation image (eval transform); features and confidences go to a cache
 * file in the user's cache folder (lpt_trainer_phase3_cache_path: one per project and run)
 * keyed by the images and the experts' checkpoints, so re-training the scorer (after a
 * relabel, say: labels are read fresh) needs no backbone pass; it is only a cache: missing
 * (deleted, a project copied or moved) or stale, it is made again; one that cannot be
 * written fails the phase, naming the path. The scorer then trains on the cached rows
 * (class-balanced by default), AdamW, cosine lr, balanced accuracy of the fused model on the
 * validation rows each epoch, early stop after `patience` epochs without improvement.
 *
 * Ownership and threads: the trainer borrows everything in its options (backend, store
 * connection, models, data) for its lifetime; one thread (the backend's and the store
 * connection's). The cancel flag may be set from any thread; it is read between steps.
 */
#ifndef LPT_TRAINER_H
#define LPT_TRAINER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_eval.h"
#include "lpt_ops.h"
#include "lpt_run_config.h"
#include "lpt_safetensors.h"
#include "lpt_scorer.h"
#include "lpt_store.h"
#include "lpt_vit.h"

#define LPT_TRAIN_EXPERTS 2 /* vision, vl (LptStoreExpert order) */

/* Checkpoints up to this many bytes are stored inline in the project (64 MiB: every LPT/LPT++
 * phase, the linear probe and the scorer at any realistic size; a ViT-B/16 adaptation is
 * about 5 MB with its optimiser state); larger ones (full fine-tuning of a big backbone) are
 * files beside it. See the header comment. */
#define LPT_TRAINER_INLINE_MAX ((size_t)64 << 20)

/* A list of images: paths, labels in [0, K) and (optional, for records) store image ids. */
typedef struct LptImageList {
    int64_t count;
    const char *const *paths;
    const int32_t *labels;
    const int64_t *ids; /* NULL: no per-image records */
} LptImageList;

/* One expert: a model with its frozen backbone set (its config decides what phases can run:
 * prompts, adapters, pool, K = the run's classes) and its input normalisation. */
typedef struct LptExpertModel {
    LptVit *vit; /* NULL: the run has no such expert */
    float mean[3], std[3];
    /* [K, C'] the head's init (the VL expert's class text embeddings, lpt_vl_head.h), or
     * NULL: random unit rows (lpt_vit_init_trainable) */
    const float *head_init;
} LptExpertModel;

typedef enum LptTrainStage {
    LPT_TRAIN_STAGE_TRAIN = 0, /* a training step finished */
    LPT_TRAIN_STAGE_EVAL,      /* a validation / evaluation batch finished */
    LPT_TRAIN_STAGE_CACHE,     /* a phase-3 cache batch finished */
    LPT_TRAIN_STAGE_EPOCH,     /* an epoch's checkpoint was written (val metrics set) */
} LptTrainStage;

typedef struct LptTrainProgress {
    LptTrainStage stage;
    int phase;             /* 1, 2, 3 */
    LptStoreExpert expert; /* FUSED in phase 3 */
    int epoch, epochs;     /* 0-based epoch of `epochs` */
    int64_t step, steps;   /* within the epoch (stage's own count for eval and cache) */
    double loss;           /* the step's loss (TRAIN), the epoch's mean loss (EPOCH) */
    double lr;
    double images_per_second;         /* since this call of lpt_trainer_run started */
    double eta_seconds;               /* for the rest of the phase; NaN when not known yet */
    double val_overall, val_balanced; /* EPOCH only; NaN without validation images */
} LptTrainProgress;

/* Called on the trainer's thread; return false to cancel (as the cancel flag does). */
typedef bool (*LptTrainProgressFn)(const LptTrainProgress *progress, void *user);

typedef struct LptTrainerOptions {
    LptBackend *be;
    LptStore *store;            /* records metrics, checkpoints, predictions */
    int64_t run_id;             /* an existing run of the store (its classes = K) */
    const char *checkpoint_dir; /* folder for the checkpoints above the inline limit, made
                                 * (with its parents) when the first one is written */
    size_t checkpoint_inline_max; /* the inline limit in bytes (0: LPT_TRAINER_INLINE_MAX) */
    const LptRunConfig *cfg;
    int32_t num_classes;         /* K */
    const int64_t *train_counts; /* [K] training images per class (margins, groups) */
    LptImageList train, val;
    LptExpertModel experts[LPT_TRAIN_EXPERTS];
    LptTrainProgressFn progress; /* may be NULL */
    void *user;
    atomic_bool *cancel; /* may be NULL */
} LptTrainerOptions;

typedef struct LptTrainer LptTrainer;

/* Opens a checkpoint row of `store` (lpt_store_checkpoint_find) as safetensors, from its data
 * (validated as a file is; messages name "<project> checkpoint run R phase P EXPERT epoch E")
 * or from its file. Close with lpt_safetensors_close. */
LptSafetensors *lpt_trainer_checkpoint_open(LptStore *store, const LptStoreCheckpoint *c,
                                            LptError *err);

/* The phase-3 feature cache of run `run_id` of the project file `project` into buf:
 * <cache folder>/phase3/<SHA-256 of the project's canonical path>-run-<id>.safetensors (the
 * cache folder of lpt_paths.h). Fails when the project's path cannot be resolved (naming
 * it), no cache folder is set, or the path does not fit. */
LptStatus lpt_trainer_phase3_cache_path(const char *project, int64_t run_id, char *buf,
                                        size_t size, LptError *err);

LptTrainer *lpt_trainer_new(const LptTrainerOptions *opt, LptError *err);
void lpt_trainer_free(LptTrainer *t);

/* Phases this run has for an expert: 1 (baselines, phase2_epochs 0) or 2; 0 when the run
 * has no such expert. */
int lpt_trainer_expert_phases(const LptTrainer *t, LptStoreExpert expert);

/* Whether (phase, expert) has finished all its epochs (expert FUSED for phase 3). */
LptStatus lpt_trainer_phase_done(LptTrainer *t, int phase, LptStoreExpert expert, bool *done,
                                 LptError *err);

/* Runs (or resumes, or skips when complete) phase 1 or 2 of an expert, or phase 3 (expert
 * FUSED). Fails with a message when an earlier phase it needs is not finished,
 * LPT_ERR_CANCELLED when cancelled (the last checkpoint stays: a later call resumes from it). */
LptStatus lpt_trainer_run(LptTrainer *t, int phase, LptStoreExpert expert, LptError *err);

/* Evaluation of the finished run on a list of images (eval transform): each expert alone
 * (its best checkpoint of its last phase) and the fused model (the scorer's best
 * checkpoint; without phase 3, the mean of the experts' confidences). Every image with an
 * id gets its prediction record in the store (when `record`). */
typedef struct LptTrainEvaluation {
    LptEval *experts[LPT_TRAIN_EXPERTS]; /* NULL for an expert the run does not have */
    LptEval *fused;
    int64_t trainable_params[LPT_TRAIN_EXPERTS + 1]; /* per expert, then the scorer */
    int64_t backbone_params[LPT_TRAIN_EXPERTS];
    int best_epoch[LPT_TRAIN_EXPERTS + 1]; /* of the checkpoints used (-1: none) */
} LptTrainEvaluation;

LptStatus lpt_trainer_evaluate(LptTrainer *t, const LptImageList *images, bool record,
                               LptTrainEvaluation **out, LptError *err);
void lpt_train_evaluation_free(LptTrainEvaluation *ev);

/* The finished run's models for inference, exactly as lpt_trainer_evaluate runs them (what
 * an export takes): each expert's model gets the best checkpoint of its last phase, and the
 * scorer, when the run fuses with one, phase 3's best checkpoint. */
typedef struct LptTrainerInference {
    LptVitMode mode[LPT_TRAIN_EXPERTS]; /* the graph each expert runs in */
    int epoch[LPT_TRAIN_EXPERTS + 1];   /* of the checkpoints used (-1: none); then the scorer */
    int eval_batch[LPT_TRAIN_EXPERTS];  /* images per forward, as evaluation batches them */
    LptScorer *scorer; /* on the trainer's backend, owned by the caller (lpt_scorer_free);
                        * NULL: the mean of the experts (one expert, or no phase 3) */
} LptTrainerInference;

LptStatus lpt_trainer_load_inference(LptTrainer *t, LptTrainerInference *out, LptError *err);

/* The phase-1/2 micro-batch a training forward uses for this expert and mode (config or
 * the largest that fits the activation memory). */
int lpt_trainer_micro_batch(const LptTrainer *t, LptStoreExpert expert, LptVitMode mode);

/* The k best of probs[K] (ties: the lower index first) with their confidences, as the
 * prediction records hold them. */
void lpt_trainer_top_k(const float *probs, int K, int k, LptStoreTopK *out);

#endif

/* lpt_trainer_impl.h: the trainer's private state and the helpers shared by lpt_trainer.c
 * (phases 1-2, checkpoints, validation) and lpt_trainer_moe.c (phase 3, evaluation). */
#ifndef LPT_TRAINER_IMPL_H
#define LPT_TRAINER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "lpt_loader.h"
#include "lpt_safetensors.h"
#include "lpt_sampler.h"
#include "lpt_trainer.h"

/* Purposes of derived seeds (lpt_trainer_seed). */
enum {
    SEED_INIT = 1,
    SEED_SAMPLER = 2,
    SEED_NOISE = 3,
    SEED_VIEWS = 4,
    SEED_SCORER = 5,
    SEED_DROPOUT = 6,
};

struct LptTrainer {
    LptTrainerOptions opt;
    LptRunConfig cfg;
    int K;
    float *margins_host; /* [K] m_k / max m */
    LptArena *scratch;   /* labels, per-sample loss, dcos, margins for the largest micro-batch */
    int scratch_batch;
    LptTensor labels, loss, dcos, margins;
    LptLoader *val_loader[LPT_TRAIN_EXPERTS]; /* made on first use */
    double started;      /* monotonic seconds when the current lpt_trainer_run began */
    int64_t images_done; /* images trained or run in the current lpt_trainer_run */
    bool cancelled;      /* a progress callback asked to stop */
    int epoch, epochs;   /* what EVAL and CACHE progress reports say (the epoch validated) */
};

/* What a checkpoint file says besides its tensors. */
typedef struct CheckpointMeta {
    int phase, expert, epoch;
    LptSamplerState sampler;
    double best_metric; /* NaN: none yet */
    int best_epoch;     /* -1: none yet */
    int64_t adam_step;  /* phase 3 */
} CheckpointMeta;

/* A seed for one purpose of the run: splitmix64 of (seed, purpose, a, b). */
uint64_t lpt_trainer_seed(const LptTrainer *t, int purpose, uint64_t a, uint64_t b);

/* Monotonic seconds. */
double lpt_trainer_now(void);

/* True when the run should stop before the next step (cancel flag or callback). */
bool lpt_trainer_should_stop(LptTrainer *t);

/* Reports progress; a false return of the callback marks the trainer cancelled. */
void lpt_trainer_report(LptTrainer *t, const LptTrainProgress *p);

/* Metadata JSON of a checkpoint (malloc'd) and its parse. */
char *lpt_trainer_meta_json(const CheckpointMeta *m);
LptStatus lpt_trainer_meta_parse(const LptSafetensors *st, CheckpointMeta *m, LptError *err);

/* Reads the F32 tensor `name` of `count` values from an open checkpoint into buf. */
LptStatus lpt_trainer_read_tensor(const LptSafetensors *st, const char *name, float *buf,
                                  size_t count, LptError *err);

/* Serialises the epoch's checkpoint (the writer, freed whatever happens): inline up to the
 * inline limit (options.checkpoint_inline_max, else LPT_TRAINER_INLINE_MAX), else into its
 * file (written atomically first); then writes the epoch's store rows in one transaction
 * (train row, val row when val metrics are given, the checkpoint row, the deletion of the
 * (phase, expert) rows other than the latest and the best), then removes the (phase, expert)
 * files other than the latest's and the best's. */
LptStatus lpt_trainer_record_epoch(LptTrainer *t, int phase, LptStoreExpert expert, int epoch,
                                   double loss, double lr, double seconds,
                                   const LptEvalMetrics *val, LptSafetensorsWriter *checkpoint,
                                   double metric, bool is_best, LptError *err);

/* Removes the (phase, expert) checkpoint files other than the latest and the best (those a
 * process killed between a commit and its clean-up left). */
LptStatus lpt_trainer_tidy(LptTrainer *t, int phase, LptStoreExpert expert, LptError *err);

/* The latest or best checkpoint row of (phase, expert) (NULL when none; free()). */
LptStatus lpt_trainer_find(LptTrainer *t, int phase, LptStoreExpert expert,
                           LptStoreCheckpointPick pick, LptStoreCheckpoint **out, LptError *err);

/* The expert's trainable tensors at the method's init (lpt_vit_init_trainable from the
 * run's seed), its head from the expert's head_init rows when it has them. */
LptStatus lpt_trainer_init_expert(LptTrainer *t, LptStoreExpert expert, LptError *err);

/* Epochs of a phase for this run (phase 3: scorer epochs). */
int lpt_trainer_phase_epochs(const LptTrainer *t, int phase);

/* Loads the expert's model state for inference after training: the best checkpoint of its
 * last phase; the mode to run it in and the epoch used (-1: none, the init). */
LptStatus lpt_trainer_load_final(LptTrainer *t, LptStoreExpert expert, LptVitMode *mode, int *epoch,
                                 LptError *err);

/* The largest inference batch for the expert within the activation memory (<= cap). */
int lpt_trainer_eval_batch(const LptTrainer *t, LptStoreExpert expert, int cap);

/* Host results of an inference pass over a list, per batch. */
typedef struct EvalBatch {
    int64_t epoch; /* the loader's epoch (a TRAIN loader's view) or pass */
    int count;
    const int64_t *indices;   /* positions in the list */
    const float *probs;       /* [count, K] softmax(scale cos) */
    const float *features;    /* [count, C'] */
    const int32_t *selection; /* [count, top_k] group prompts (phase 2), else NULL */
} EvalBatch;

typedef LptStatus (*EvalBatchFn)(void *ctx, const EvalBatch *batch, LptError *err);

/* Runs an expert in `mode` (inference) over `steps` batches of `loader`, or, with steps 0,
 * over one pass of an EVAL loader; reports each batch as `stage`. */
LptStatus lpt_trainer_eval_pass(LptTrainer *t, LptStoreExpert expert, LptVitMode mode,
                                LptLoader *loader, int64_t steps, int phase, LptTrainStage stage,
                                EvalBatchFn fn, void *ctx, LptError *err);

/* A loader over `list` for the expert (EVAL when train is false; else TRAIN with `kind`). */
LptLoader *lpt_trainer_loader(LptTrainer *t, LptStoreExpert expert, const LptImageList *list,
                              bool train, LptSamplerKind kind, int batch, uint64_t seed,
                              const LptSamplerState *resume, LptError *err);

/* The validation loader of an expert (made on first use; NULL with no val images). */
LptStatus lpt_trainer_val_loader(LptTrainer *t, LptStoreExpert expert, LptLoader **out,
                                 LptError *err);

/* Frees the validation loader of an expert (after a pass that stopped half-way, so that the
 * next pass starts at the first image). */
void lpt_trainer_drop_val_loader(LptTrainer *t, LptStoreExpert expert);

/* Phase 3 and evaluation (lpt_trainer_moe.c). */
LptStatus lpt_trainer_run_scorer(LptTrainer *t, LptError *err);

#endif

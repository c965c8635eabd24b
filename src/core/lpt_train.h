/* lpt_train.h: training and evaluating a project's runs (product.md workflows 5-6): what
 * `lpt train`, `lpt eval` and the app's training cards call.
 *
 * A session opens the project, picks the run, reads its images (train / val / test splits,
 * excluded images left out) and class order from the store, loads each expert's backbone
 * (the store's backbones: path + role, read with lpt_weights.h) into an LptVit with the
 * run's adaptation (prompts, adapters, pool, K), for training also the VL expert's head init
 * from the class texts (model.vl_head_init "text": lpt_vl_head.h, with the classes'
 * descriptions and the project's templates), and hands all of it to an LptTrainer.
 *
 * Which run lpt_train_run trains: `run_id` when given; otherwise the latest run whose config
 * equals the one asked for (defaults of the method, the project's group thresholds
 * "groups.many_above"/"groups.few_below", then the caller's JSON) and whose backbones are the
 * project's latest of their roles -- so `lpt train` after a crash or kill -9 resumes it from
 * its last checkpoints, and does nothing more for a run whose phases are all done -- and a
 * new run when there is none, a backbone was added since, or `new_run` is set.
 * Before a session uses a backbone it checks that the file still has the SHA-256 recorded
 * when it was added (lpt_backbone_sha256): a file replaced in place is refused, named, since
 * the run's trained tensors belong to the old weights. A new run
 * takes the project's classes (by id) as its outputs and the latest backbone of each role. Its
 * checkpoints live in the project file (lpt_trainer.h: only those above
 * LPT_TRAINER_INLINE_MAX are files, in `<project>.runs/run-<id>/`, a folder made only when
 * such a file is written); its phase-3 feature cache is in the user's cache folder
 * (lpt_trainer_phase3_cache_path), made again by any session when missing.
 * Status: RUNNING while training; FINISHED when every phase of the run is done; CANCELLED
 * on cancel; FAILED with the message on an error; INTERRUPTED (with a note) when the phases
 * asked for are done but others remain.
 *
 * Threads: the calling thread does everything (it owns the backend and its own store
 * connection); the cancel flag may be set from any thread.
 */
#ifndef LPT_TRAIN_H
#define LPT_TRAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_store.h"
#include "lpt_trainer.h"
#include "lpt_weights.h"

typedef struct LptTrainOptions {
    const char *project; /* the .lptproj file */
    /* An open connection of this process to the project (the app's): the session then takes
     * a connection of its own with lpt_store_open_shared (a second lpt_store_open of the same
     * file in one process is refused by the instance lock). NULL: open `project`. */
    LptStore *shared_with;
    int64_t run_id;            /* 0: see the header comment */
    bool new_run;              /* always start a new run */
    const char *config_json;   /* read onto the defaults (NULL: defaults only) */
    const char *config_source; /* names config_json in messages (a file name) */
    int phase;                 /* 0 = every phase in order, else 1, 2 or 3 */
    int expert;                /* -1 = every expert, else LPT_STORE_EXPERT_VISION or _VL */
    LptBackendOptions backend;
    LptTrainProgressFn progress; /* may be NULL */
    void *user;
    atomic_bool *cancel; /* may be NULL */
    /* Checkpoints above this many bytes are files beside the project (0: the default,
     * LPT_TRAINER_INLINE_MAX; tests set 1 to cover the file route at tiny sizes). */
    size_t checkpoint_inline_max;
} LptTrainOptions;

/* phase 0, expert -1, CPU backend defaults, everything else zero. */
void lpt_train_options_init(LptTrainOptions *opt);

/* Trains (see the header comment); *run_id (may be NULL) gets the run's id even on failure
 * once the run is known. */
LptStatus lpt_train_run(const LptTrainOptions *opt, int64_t *run_id, LptError *err);

typedef struct LptEvalOptions {
    const char *project;
    LptStore *shared_with; /* as in LptTrainOptions */
    int64_t run_id;        /* 0: the latest run */
    LptStoreSplit split;   /* TEST by default; VAL or TRAIN */
    bool record;           /* write each image's prediction record (needs write access) */
    LptBackendOptions backend;
    LptTrainProgressFn progress;
    void *user;
    atomic_bool *cancel;
} LptEvalOptions;

/* split TEST, record true, CPU backend defaults. */
void lpt_eval_options_init(LptEvalOptions *opt);

/* What lpt_train_evaluate returns besides the metrics. */
typedef struct LptEvalReport {
    int64_t run_id;
    LptMethod method;
    int64_t images;
    int32_t num_classes;
    char **class_names; /* [K] */
    LptTrainEvaluation *evaluation;
} LptEvalReport;

/* Evaluates a run on a split (lpt_trainer_evaluate) and records the predictions. */
LptStatus lpt_train_evaluate(const LptEvalOptions *opt, LptEvalReport **out, LptError *err);
void lpt_eval_report_free(LptEvalReport *r);

/* A finished run ready for inference (what an export takes): its models exactly as
 * lpt_trainer_evaluate runs them (lpt_trainer_load_inference), where they came from, and the
 * images of a split. Everything belongs to the struct (lpt_trained_run_free, which frees the
 * models before their backend); a taker may move pointers out, setting them NULL. */
typedef struct LptTrainedExpert {
    LptVit *vit;                /* NULL: the run has no such expert */
    LptWeights *weights;        /* the backbone file the frozen tensors came from */
    LptStoreBackbone *backbone; /* its row in the project: path, sha256, name */
    LptVitMode mode;
    int best_epoch;        /* of the checkpoint loaded (-1: none) */
    int eval_batch;        /* images per forward, as evaluation batches them */
    float mean[3], std[3]; /* the input normalisation */
} LptTrainedExpert;

typedef struct LptTrainedRun {
    int64_t run_id;
    LptRunConfig cfg;
    char *config_json; /* as stored with the run */
    int32_t num_classes;
    char **class_names;    /* [K] in output order */
    int64_t *train_counts; /* [K] training images per class */
    LptBackend *be;        /* the backend of the models */
    LptTrainedExpert experts[LPT_TRAIN_EXPERTS];
    LptScorer *scorer;   /* NULL: the experts' mean */
    int scorer_epoch;    /* -1: none */
    int64_t image_count; /* the split's images of the run's classes (excluded left out) */
    char **image_paths;
    int32_t *image_labels;
    int64_t *image_ids; /* store ids */
} LptTrainedRun;

/* Loads the run of opt (run_id 0: the latest) on opt's backend with the images of opt's
 * split; opens the project read-only unless opt->shared_with is given (record, progress and
 * cancel are not used). */
LptStatus lpt_train_load_run(const LptEvalOptions *opt, LptTrainedRun **out, LptError *err);
void lpt_trained_run_free(LptTrainedRun *r);

#endif

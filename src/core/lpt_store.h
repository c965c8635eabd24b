/* lpt_store.h: the project file, one SQLite database per project (extension .lptproj).
 *
 * Everything the GUI shows comes from here: classes, images (path, SHA-256, size, label,
 * split, exclusion) and their label history, split settings, backbones, runs (config JSON,
 * status, the class order of their outputs), phase checkpoints, per-epoch metrics, per-image
 * predictions and exports. No SQL leaves this module: callers use the typed functions below.
 *
 * The file: WAL journal, synchronous=FULL (a commit survives a crash), foreign keys on,
 * STRICT tables, `PRAGMA application_id` = LPT_STORE_APPLICATION_ID ('LPTS') marks a project,
 * `PRAGMA user_version` is the schema version. Opening for writing upgrades an older file in
 * steps N -> N+1, one transaction each (a failed step leaves the file at version N); a file
 * from a newer version is refused and never modified; every open runs an integrity check
 * (quick_check above LPT_STORE_FULL_CHECK_BYTES) and refuses a damaged file.
 *
 * One writer instance: opening for writing takes an advisory lock, flock(LOCK_EX | LOCK_NB)
 * on `<project>-lock` beside the project (named from the project's canonical path, so a
 * symlink finds the same lock), which holds "pid host" of the owner for the message a
 * second instance gets. The kernel drops the lock when the owner exits or crashes, so a
 * stale lock file never blocks; the file is unlinked on a clean close (while still locked;
 * an opener that locked an unlinked file retries). Holding the lock, an open for writing
 * marks the runs a dead process left RUNNING as INTERRUPTED. flock locks belong to the
 * open file description, so a second lpt_store_open of the same file in the same process is
 * refused too: threads of one process take extra connections with lpt_store_open_shared.
 * LPT_STORE_READ_ONLY takes no lock (for `lpt stats` while the app has the project open).
 *
 * Threads: an LptStore is one SQLite connection and must be used by one thread at a time.
 * Each thread (GUI, trainer) opens its own with lpt_store_open_shared; all connections to a
 * file see each other's commits; a writer waits up to LPT_STORE_BUSY_MS for another's
 * transaction. Write transactions start IMMEDIATE, so a transaction never fails half-way
 * for lack of the write lock.
 *
 * Transactions: every write function is atomic on its own. lpt_store_begin/commit/rollback
 * group several (an import batch, an epoch's metrics and checkpoint); a function that fails
 * inside a group undoes its own changes only and leaves the group open for the caller to
 * roll back or go on. Closing a store with a group open rolls it back.
 *
 * Values: ids are positive (0 means "none" in fields and "not found" in look-ups); times
 * are Unix seconds (UTC); hashes are 64 lowercase hex digits of SHA-256, stored as given;
 * JSON fields are text that must parse (checked by SQLite's json_valid); a NaN double is SQL
 * NULL ("not measured") both ways; float vectors are stored as little-endian float32 BLOBs.
 *
 * Ownership: input structs are read, never kept. Every record or list a function returns is
 * one malloc block (the structs followed by their strings and arrays) freed with free();
 * an empty list is NULL with count 0.
 *
 * Errors: LPT_ERR_INVALID_ARGUMENT for bad arguments and constraint violations (duplicate
 * path, unknown class id), LPT_ERR_FORMAT for a file that is not a project or is damaged,
 * LPT_ERR_UNSUPPORTED for a newer project or a write through a read-only store, LPT_ERR_IO
 * for the rest (detail EWOULDBLOCK when another instance holds the project). err->detail is
 * the extended SQLite result code where SQLite failed; messages name the table and row.
 */
#ifndef LPT_STORE_H
#define LPT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

#define LPT_STORE_EXTENSION ".lptproj"
#define LPT_STORE_APPLICATION_ID 0x4C505453           /* 'LPTS' */
#define LPT_STORE_SCHEMA_VERSION 2                    /* the user_version this code writes */
#define LPT_STORE_BUSY_MS 5000                        /* how long a connection waits for a writer */
#define LPT_STORE_FULL_CHECK_BYTES (64 * 1024 * 1024) /* integrity_check up to this size */
#define LPT_STORE_MAX_PROB_CLASSES 1000 /* full probability vectors only when K <= this */
#define LPT_STORE_NUM_EXPERTS 2         /* vision, vision-language */
#define LPT_STORE_HASH_LEN 64           /* hex digits of a SHA-256 */

typedef struct LptStore LptStore;

typedef enum LptStoreMode {
    LPT_STORE_OPEN,           /* an existing project, read-write, upgraded if older */
    LPT_STORE_CREATE,         /* a new project; fails if the file exists */
    LPT_STORE_OPEN_OR_CREATE, /* OPEN if the file exists, else CREATE */
    LPT_STORE_READ_ONLY,      /* an existing project at the current version; no lock */
} LptStoreMode;

typedef enum LptStoreSplit {
    LPT_STORE_SPLIT_ANY = -1, /* filters only */
    LPT_STORE_SPLIT_NONE = 0, /* not assigned yet (SQL NULL) */
    LPT_STORE_SPLIT_TRAIN = 1,
    LPT_STORE_SPLIT_VAL = 2,
    LPT_STORE_SPLIT_TEST = 3,
} LptStoreSplit;
#define LPT_STORE_SPLIT_COUNT 4 /* NONE, TRAIN, VAL, TEST: the index of per-split arrays */

typedef enum LptStoreExpert {
    LPT_STORE_EXPERT_VISION = 0, /* the vision expert (ViT) */
    LPT_STORE_EXPERT_VL = 1,     /* the vision-language expert (CLIP image tower) */
    LPT_STORE_EXPERT_FUSED = 2,  /* the scorer and the fused model (phase 3) */
} LptStoreExpert;

typedef enum LptStoreRunStatus {
    LPT_STORE_RUN_CREATED = 0,
    LPT_STORE_RUN_RUNNING,
    LPT_STORE_RUN_FINISHED,
    LPT_STORE_RUN_FAILED,
    LPT_STORE_RUN_CANCELLED,
    LPT_STORE_RUN_INTERRUPTED, /* was running when its process ended (set on open) */
} LptStoreRunStatus;

typedef enum LptStoreExportFormat {
    LPT_STORE_EXPORT_BUNDLE = 0, /* the one-file model bundle */
    LPT_STORE_EXPORT_ONNX,
    LPT_STORE_EXPORT_C, /* C library + header */
} LptStoreExportFormat;

/* The names stored in the file ("train", "vl", "running", "onnx", ...); "?" if out of range. */
const char *lpt_store_split_name(LptStoreSplit split);
const char *lpt_store_expert_name(LptStoreExpert expert);
const char *lpt_store_run_status_name(LptStoreRunStatus status);
const char *lpt_store_export_format_name(LptStoreExportFormat format);

/* ---- Records (fields marked "out" are set by the store and ignored on input) ---- */

typedef struct LptStoreClass {
    int64_t id;              /* out */
    const char *name;        /* unique, not empty */
    const char *description; /* class text for the VL expert; "" when none */
    int64_t created_at;      /* out */
} LptStoreClass;

/* Images per class and split, excluded images left out (counted in `excluded`). */
typedef struct LptStoreClassCount {
    int64_t class_id;
    int64_t count[LPT_STORE_SPLIT_COUNT]; /* indexed by LptStoreSplit (NONE..TEST) */
    int64_t excluded;                     /* excluded images of this class, any split */
} LptStoreClassCount;

typedef struct LptStoreImage {
    int64_t id;                                /* out */
    const char *path;                          /* unique; as the importer resolved it */
    char content_hash[LPT_STORE_HASH_LEN + 1]; /* SHA-256 of the file's bytes, lowercase hex */
    int32_t width, height, channels;           /* channels 1..4 */
    int64_t class_id;                          /* the current label */
    LptStoreSplit split;                       /* NONE until splits are assigned */
    int split_given; /* 1: `split` is the one the image's source gave (a split folder, a list
                        or CSV file named train/val/test, a CSV split column); re-splits keep
                        it (lpt_resplit.h). 0 or 1; 1 needs a split */
    int excluded;                              /* 0 or 1 */
    const char *source;                        /* what imported it; NULL = "" */
    int64_t imported_at;                       /* out */
} LptStoreImage;

typedef struct LptStoreLabelChange {
    int64_t id; /* increases with time */
    int64_t image_id;
    int64_t old_class_id;
    int64_t new_class_id;
    int64_t at;
    const char *reason; /* "" when none */
} LptStoreLabelChange;

typedef struct LptStoreSplitSettings {
    int64_t id; /* out */
    uint64_t seed;
    /* each in [0, 1], summing to 1 unless user_given */
    double train_fraction, val_fraction, test_fraction;
    int32_t min_per_class; /* >= 0 */
    int user_given;        /* 1: the split came with the list files */
    int64_t created_at;    /* out */
} LptStoreSplitSettings;

typedef struct LptStoreBackbone {
    int64_t id;                          /* out */
    LptStoreExpert role;                 /* VISION or VL */
    const char *name;                    /* display name; NULL = "" */
    const char *path;                    /* the weight file */
    char sha256[LPT_STORE_HASH_LEN + 1]; /* of the weight file */
    const char *architecture_json;       /* what was detected (JSON) */
    int64_t params;                      /* parameter count */
    int64_t added_at;                    /* out */
} LptStoreBackbone;

typedef struct LptStoreRun {
    int64_t id;                                  /* out */
    const char *name;                            /* NULL = "" */
    const char *config_json;                     /* every setting of the run (JSON) */
    int64_t split_id;                            /* the split settings used; 0 = none */
    int64_t backbone_id[LPT_STORE_NUM_EXPERTS];  /* per expert; 0 = none */
    const int64_t *class_ids;                    /* input: the run's classes in output order */
    int32_t num_classes;                         /* K (>= 1); out: the stored count */
    LptStoreRunStatus status;                    /* out */
    int64_t created_at, started_at, finished_at; /* out; 0 = not yet */
    const char *error;                           /* out; NULL when none */
} LptStoreRun;

typedef struct LptStoreCheckpoint {
    int64_t id; /* out */
    int64_t run_id;
    int32_t phase; /* 1, 2 or 3 */
    LptStoreExpert expert;
    int32_t epoch;    /* >= 0 */
    const char *path; /* a file holding the weights, or NULL when data holds them */
    const void *data; /* the weights inline (exactly one of path and data) */
    size_t data_size;
    double metric;      /* the selection metric; NaN = none */
    int is_best;        /* 1 marks this the best of (run, phase, expert): others lose it */
    int64_t created_at; /* out */
} LptStoreCheckpoint;

typedef enum LptStoreCheckpointPick {
    LPT_STORE_CHECKPOINT_LATEST, /* highest epoch (resume) */
    LPT_STORE_CHECKPOINT_BEST,   /* the one marked best */
} LptStoreCheckpointPick;

/* One row per (run, phase, expert, epoch, split); NaN = not measured. */
typedef struct LptStoreEpochMetrics {
    int64_t run_id;
    int32_t phase; /* 1, 2 or 3 */
    LptStoreExpert expert;
    int32_t epoch;       /* >= 0 */
    LptStoreSplit split; /* TRAIN, VAL or TEST */
    double loss, overall, balanced, many, medium, few, lr, seconds;
} LptStoreEpochMetrics;

typedef struct LptStoreTopK {
    int32_t class_index; /* into the run's classes (lpt_store_run_classes) */
    float prob;
} LptStoreTopK;

/* What the model said about one image in one run. Class indices refer to the run's class
 * order. On output, absent arrays are NULL. */
typedef struct LptStorePrediction {
    int64_t run_id, image_id;
    int32_t label_index;            /* the image's class at prediction time */
    int32_t num_classes;            /* K: must equal the run's class count */
    int32_t top_k;                  /* entries in each top-k list, 1..K */
    const LptStoreTopK *fused_topk; /* [top_k], best first; required */
    const LptStoreTopK *expert_topk[LPT_STORE_NUM_EXPERTS]; /* [top_k] each or NULL */
    const float *fused_probs;                               /* [K] or NULL; only when K <= 1000 */
    const float *expert_probs[LPT_STORE_NUM_EXPERTS]; /* [K] each or NULL; only when K <= 1000 */
    const float *scorer_weights;                      /* [LPT_STORE_NUM_EXPERTS] or NULL */
    int32_t num_prompts[LPT_STORE_NUM_EXPERTS];       /* group prompts each expert chose */
    const int32_t *prompts[LPT_STORE_NUM_EXPERTS];    /* [num_prompts[e]] each or NULL */
    int correct;                                      /* out: fused top-1 == label_index */
} LptStorePrediction;

typedef enum LptStoreCorrectness {
    LPT_STORE_ANY_RESULT,
    LPT_STORE_CORRECT,
    LPT_STORE_WRONG,
} LptStoreCorrectness;

typedef struct LptStoreExport {
    int64_t id; /* out */
    int64_t run_id;
    LptStoreExportFormat format;
    const char *path;
    char sha256[LPT_STORE_HASH_LEN + 1]; /* of the exported file */
    const char *parity_json;             /* the parity check's result (JSON); NULL = none */
    int64_t created_at;                  /* out */
} LptStoreExport;

/* ---- Opening, closing, transactions ---- */

/* Opens or creates the project at path (see the header comment for the checks). Any thread;
 * the returned store then belongs to that thread. NULL on failure. */
LptStore *lpt_store_open(const char *path, LptStoreMode mode, LptError *err);

/* A second connection to primary's file for another thread of this process, sharing
 * primary's instance lock (which lasts until the last of them closes). Call it on primary's
 * thread, or anywhere while primary is not being closed. */
LptStore *lpt_store_open_shared(LptStore *primary, LptError *err);

/* Closes the connection (rolling back an open transaction); NULL is a no-op. */
void lpt_store_close(LptStore *store);

/* The path the store was opened with (owned by the store). */
const char *lpt_store_path(const LptStore *store);

/* Groups writes into one transaction (BEGIN IMMEDIATE); no nesting. */
LptStatus lpt_store_begin(LptStore *store, LptError *err);
LptStatus lpt_store_commit(LptStore *store, LptError *err);
LptStatus lpt_store_rollback(LptStore *store, LptError *err);

/* ---- Project settings (key/value text: group thresholds, deployment priors, ...) ---- */

LptStatus lpt_store_setting_set(LptStore *store, const char *key, const char *value, LptError *err);
/* *value: a malloc'd copy (free()), NULL when the key is not set. */
LptStatus lpt_store_setting_get(LptStore *store, const char *key, char **value, LptError *err);

/* ---- Classes ---- */

/* The id of the class named name, creating it if needed; *created (may be NULL) says which. */
LptStatus lpt_store_class_ensure(LptStore *store, const char *name, int64_t *id, int *created,
                                 LptError *err);
/* Renames and/or re-describes a class; NULL keeps the field. */
LptStatus lpt_store_class_update(LptStore *store, int64_t class_id, const char *name,
                                 const char *description, LptError *err);
/* All classes by id. */
LptStatus lpt_store_class_list(LptStore *store, LptStoreClass **classes, size_t *count,
                               LptError *err);
/* Per class (all classes by id, zero counts included): images per split, not excluded. */
LptStatus lpt_store_class_counts(LptStore *store, LptStoreClassCount **counts, size_t *count,
                                 LptError *err);

/* ---- Images ---- */

LptStatus lpt_store_image_insert(LptStore *store, const LptStoreImage *image, int64_t *id,
                                 LptError *err);
/* *image: NULL when there is no such image. */
LptStatus lpt_store_image_get(LptStore *store, int64_t image_id, LptStoreImage **image,
                              LptError *err);
/* The lowest id of an image with this content hash, 0 when none (duplicate detection). */
LptStatus lpt_store_image_find_hash(LptStore *store, const char *content_hash, int64_t *id,
                                    LptError *err);
/* Image ids by id; class_id 0 = any class, split ANY = any split. */
LptStatus lpt_store_image_list(LptStore *store, int64_t class_id, LptStoreSplit split,
                               int include_excluded, int64_t **ids, size_t *count, LptError *err);
/* Changes an image's label and records the change in the label history (one transaction).
 * Relabelling to the current class changes nothing. reason may be NULL. */
LptStatus lpt_store_image_relabel(LptStore *store, int64_t image_id, int64_t new_class_id,
                                  const char *reason, LptError *err);
/* Sets the split and leaves split_given as it is (re-splits move free images only); an image
 * whose split was given cannot lose its split (NONE is refused for it). */
LptStatus lpt_store_image_set_split(LptStore *store, int64_t image_id, LptStoreSplit split,
                                    LptError *err);
LptStatus lpt_store_image_set_excluded(LptStore *store, int64_t image_id, int excluded,
                                       LptError *err);
/* An image's label changes, oldest first. */
LptStatus lpt_store_label_history(LptStore *store, int64_t image_id, LptStoreLabelChange **changes,
                                  size_t *count, LptError *err);

/* ---- Split settings (each resplit adds a row; the latest is current) ---- */

LptStatus lpt_store_split_insert(LptStore *store, const LptStoreSplitSettings *settings,
                                 int64_t *id, LptError *err);
/* out->id == 0 when no split was made yet. */
LptStatus lpt_store_split_latest(LptStore *store, LptStoreSplitSettings *out, LptError *err);

/* ---- Backbones ---- */

/* Adds a weight file; the same (role, sha256) again returns the existing id. */
LptStatus lpt_store_backbone_insert(LptStore *store, const LptStoreBackbone *backbone, int64_t *id,
                                    LptError *err);
/* *backbone: NULL when there is no such backbone. */
LptStatus lpt_store_backbone_get(LptStore *store, int64_t backbone_id, LptStoreBackbone **backbone,
                                 LptError *err);
/* All backbones by id (the latest of a role is the last of that role). */
LptStatus lpt_store_backbone_list(LptStore *store, LptStoreBackbone **backbones, size_t *count,
                                  LptError *err);

/* ---- Runs ---- */

/* A new run in status CREATED, with its classes in output order (index 0..K-1). */
LptStatus lpt_store_run_create(LptStore *store, const LptStoreRun *run, int64_t *id, LptError *err);
/* RUNNING sets started_at (first time) and clears finished_at and error; FINISHED, FAILED,
 * CANCELLED and INTERRUPTED set finished_at and error (NULL = none). CREATED is refused. */
LptStatus lpt_store_run_set_status(LptStore *store, int64_t run_id, LptStoreRunStatus status,
                                   const char *error, LptError *err);
/* *run: NULL when there is no such run (class_ids is NULL: see lpt_store_run_classes). */
LptStatus lpt_store_run_get(LptStore *store, int64_t run_id, LptStoreRun **run, LptError *err);
/* All run ids, oldest first. */
LptStatus lpt_store_run_list(LptStore *store, int64_t **ids, size_t *count, LptError *err);
/* The run's class ids by output index. */
LptStatus lpt_store_run_classes(LptStore *store, int64_t run_id, int64_t **class_ids, size_t *count,
                                LptError *err);

/* ---- Checkpoints, metrics ---- */

LptStatus lpt_store_checkpoint_insert(LptStore *store, const LptStoreCheckpoint *checkpoint,
                                      int64_t *id, LptError *err);
/* *checkpoint: NULL when none matches. */
LptStatus lpt_store_checkpoint_find(LptStore *store, int64_t run_id, int32_t phase,
                                    LptStoreExpert expert, LptStoreCheckpointPick pick,
                                    LptStoreCheckpoint **checkpoint, LptError *err);

/* Deletes the checkpoint rows of (run, phase, expert) other than the latest and the best (the
 * two lpt_store_checkpoint_find picks), with the weights they hold inline; the epochs' metrics
 * stay. Files named by deleted rows are the caller's to remove. */
LptStatus lpt_store_checkpoint_prune(LptStore *store, int64_t run_id, int32_t phase,
                                     LptStoreExpert expert, LptError *err);

/* Records an epoch's metrics; the same (run, phase, expert, epoch, split) again replaces
 * them (an epoch re-run after a resume). */
LptStatus lpt_store_metric_insert(LptStore *store, const LptStoreEpochMetrics *metrics,
                                  LptError *err);
/* The run's metrics ordered by phase, expert, epoch, split. */
LptStatus lpt_store_metric_list(LptStore *store, int64_t run_id, LptStoreEpochMetrics **metrics,
                                size_t *count, LptError *err);

/* ---- Predictions ---- */

/* Records a prediction; the same (run, image) again replaces it. */
LptStatus lpt_store_prediction_insert(LptStore *store, const LptStorePrediction *prediction,
                                      LptError *err);
/* *prediction: NULL when the run has none for this image. */
LptStatus lpt_store_prediction_get(LptStore *store, int64_t run_id, int64_t image_id,
                                   LptStorePrediction **prediction, LptError *err);
/* Image ids with a prediction in the run, by image id, filtered by correctness. */
LptStatus lpt_store_prediction_list(LptStore *store, int64_t run_id, LptStoreCorrectness which,
                                    int64_t **image_ids, size_t *count, LptError *err);

/* Called by lpt_store_prediction_scan with each prediction (its arrays valid during the call
 * only); a status other than LPT_OK (with err set) stops the scan, which returns it. */
typedef LptStatus (*LptStorePredictionFn)(const LptStorePrediction *prediction, void *user,
                                          LptError *err);
/* Every prediction of the run whose image is now in `split` (ANY: any split; NONE: no split
 * yet) and not excluded, by image id, in one query: what a review of a run reads. */
LptStatus lpt_store_prediction_scan(LptStore *store, int64_t run_id, LptStoreSplit split,
                                    LptStorePredictionFn fn, void *user, LptError *err);
/* counts[s]: predictions of the run whose image is now in split s (indexed by LptStoreSplit,
 * NONE..TEST), excluded images left out. */
LptStatus lpt_store_prediction_counts(LptStore *store, int64_t run_id,
                                      int64_t counts[LPT_STORE_SPLIT_COUNT], LptError *err);

/* ---- Exports ---- */

LptStatus lpt_store_export_insert(LptStore *store, const LptStoreExport *exp, int64_t *id,
                                  LptError *err);
/* The run's exports, oldest first. */
LptStatus lpt_store_export_list(LptStore *store, int64_t run_id, LptStoreExport **exports,
                                size_t *count, LptError *err);

#endif

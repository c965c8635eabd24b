/* lpt_export.h: exporting a finished run for deployment (product.md workflow 7, issue 8): what
 * `lpt export` and the app's Export page call.
 *
 * An export loads the run exactly as evaluation runs it (lpt_train_load_run), makes the
 * deployable model (lpt_model.h) with the deployment prior when one is given (lpt_prior.h),
 * writes the artefact beside its destination under a temporary name, and checks it before it
 * becomes the file asked for:
 *   bundle: the written file is opened again (lpt_bundle_read, the library's own open, on the
 *           export's backend) and run on the run's test images; its fused probabilities are
 *           compared with the project's recorded predictions of those images (the app's; the
 *           prior applied to them when there is one), and so are the experts' confidences,
 *           the scorer weights and the group prompts chosen. When some test image has no
 *           recorded prediction, the run is evaluated first (lpt_train_evaluate, recording),
 *           as `lpt eval` would.
 *   ONNX:   with onnx_runtime and onnx_runner given, the written file runs under ONNX Runtime
 *           (`node RUNNER RUNTIME MODEL images.bin N,3,S,S OUT 32`, tests/onnx_run.js with
 *           onnxruntime-node, docs/export.md) on the test images, 256 at a time, each given
 *           as pixel / 255 after the eval transform; its probabilities, expert probabilities
 *           and scorer weights are compared with the records as above. Without them nothing
 *           is run (a runtime is not part of the core) and the report says so.
 * Pass: no top-1 flip and max |delta p| <= LPT_PARITY_MAX_DIFF (ONNX: _ONNX). Then the temporary
 * file is renamed to `out` and a row goes into the project's exports table (format, path, sha256
 * and the parity JSON, which also records the prior). Fail: the temporary file is removed, `out` is
 * left as it was (an earlier export there survives), nothing is recorded, and the error gives the
 * figures (the report, when asked for, has them too).
 *
 * Threads: the calling thread does everything (it owns the backends and its own store
 * connection, as lpt_train.h); the cancel flag may be set from any thread.
 */
#ifndef LPT_EXPORT_H
#define LPT_EXPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_store.h"

#define LPT_PARITY_MAX_DIFF 1e-5      /* bundle vs the app on the same backend */
#define LPT_PARITY_MAX_DIFF_ONNX 1e-4 /* ONNX under ONNX Runtime vs the app */

typedef enum LptExportStage {
    LPT_EXPORT_STAGE_LOAD = 0, /* loading the run */
    LPT_EXPORT_STAGE_EVALUATE, /* recording the app's predictions first (some were missing) */
    LPT_EXPORT_STAGE_WRITE,    /* writing the artefact */
    LPT_EXPORT_STAGE_PARITY,   /* running it on the test images: done / total images */
} LptExportStage;

/* Called on the exporting thread; return false to cancel. */
typedef bool (*LptExportProgressFn)(LptExportStage stage, int64_t done, int64_t total, void *user);

typedef struct LptExportOptions {
    const char *project;
    LptStore *shared_with; /* an open connection of this process (the app's), as lpt_train.h */
    int64_t run_id;        /* 0: the latest run */
    LptStoreExportFormat format; /* BUNDLE or ONNX */
    const char *out;             /* the file to write */
    const char *prior;           /* the deployment prior, lpt_prior.h's text form; NULL: none */
    bool embed_backbones;        /* bundle: the backbones inside instead of referenced (always
                                  * for full fine-tuning, whose backbone is trained) */
    const char *onnx_runtime;    /* ONNX: onnxruntime-node's folder, to check the file with */
    const char *onnx_runner;     /* ONNX: the runner script (tests/onnx_run.js) */
    LptBackendOptions backend;   /* where the model and the parity check run */
    LptExportProgressFn progress;
    void *user;
    atomic_bool *cancel;
} LptExportOptions;

/* format BUNDLE, CPU backend defaults, everything else zero. */
void lpt_export_options_init(LptExportOptions *opt);

typedef struct LptParity {
    bool checked;                /* false: not run (see note) */
    bool passed;                 /* checked, no flip, max_abs_diff <= LPT_PARITY_MAX_DIFF */
    int64_t images;              /* test images compared */
    double max_abs_diff;         /* max |delta| over the fused probabilities */
    int64_t flips;               /* images whose fused top-1 class differs */
    double max_abs_diff_experts; /* over each expert's confidences (NaN: not recorded) */
    double max_abs_diff_weights; /* over the scorer weights */
    int64_t prompt_mismatches;   /* images where an expert chose other group prompts */
    char backend[160];           /* where the artefact ran */
    char note[256];              /* what was compared, or why nothing was */
} LptParity;

typedef struct LptExportReport {
    int64_t run_id;
    int64_t export_id;    /* the exports row (0 when nothing was recorded) */
    char sha256[65];      /* of the file written */
    bool evaluated_first; /* the app's predictions had to be recorded first */
    double seconds_write, seconds_parity;
    LptParity parity;
    char *parity_json; /* as recorded in the exports row (prior included) */
    char *prior_json;  /* NULL without a prior */
} LptExportReport;

/* Exports (see the header comment). *out (may be NULL) gets the report, also when the parity
 * check failed (the return is then LPT_ERR_FORMAT). */
LptStatus lpt_export_run(const LptExportOptions *opt, LptExportReport **out, LptError *err);
void lpt_export_report_free(LptExportReport *r);

#endif

/* onnx_test_util.h: what the ONNX tests (test_onnx.c: one expert, test_onnx_fused.c: the
 * fused model) share: their environment (ONNX Runtime, the runner, the checker, a temporary
 * directory, from the arguments tests/run_test_onnx.sh passes), files and child processes,
 * small random experts, and running an exported file under ONNX Runtime or the checker.
 */
#ifndef ONNX_TEST_UTIL_H
#define ONNX_TEST_UTIL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_vit.h"
#include "op_check.h"
#include "test_util.h"

typedef struct OtEnv {
    const char *ort;     /* onnxruntime-node's directory (--ort), NULL: no runtime checks */
    const char *runner;  /* tests/onnx_run.js (--runner) */
    const char *checker; /* tests/onnx_check.py (--checker), NULL: no structural checks */
    char dir[64];        /* the temporary directory */
    bool checker_ran;
} OtEnv;

/* Reads --ort, --runner and --checker from argv and makes the temporary directory; false
 * (with a message on stderr) when it cannot be made. */
bool ot_env_init(OtEnv *env, int argc, char **argv);
/* Removes the temporary directory and says when the runtime checks were skipped; returns
 * the exit code: 77 when rc is 0 but the runtime checks were skipped, else rc. */
int ot_env_finish(OtEnv *env, int rc);

/* Runs argv[0] (found on PATH) with argv; its exit status, or -1 when it could not run. */
int ot_run(char *const argv[]);
/* Entries of dir whose name contains `part`. */
int ot_count_entries(const char *dir, const char *part);
const char *ot_str(const char *s); /* s, or "" for NULL */

/* Tiny experts: a vision ViT (erf GELU, depth 4, 16 x 16 input, 6 classes) and a CLIP-style
 * tower (QuickGELU, ln_pre, proj, depth 3, 12 x 12, 5 classes), both with prompts, adapters
 * and a pool. */
LptVitConfig ot_vision_config(void);
LptVitConfig ot_clip_config(void);
/* A model with every tensor random: LN weights near 1, biases small, weights with variance
 * about 1 / fan-in, adapter scales 0.7, the rest in [-1, 1]. trainable false leaves the
 * trainable tensors as lpt_vit_new made them (zero). */
LptVit *ot_make_model(OpCheck *oc, const LptVitConfig *cfg, bool trainable);

/* Runs `model` under ONNX Runtime (env->runner) on input [dims[0], 3, dims[2], dims[3]]
 * floats, `chunk` images per run (0: all at once); its outputs land in env->dir/out. False
 * (a failed check) when it fails. */
bool ot_run_ort(OpCheck *oc, OtEnv *env, const char *model, const float *input,
                const int64_t dims[4], int chunk, const char *what);
/* Reads env->dir/out/<name>.bin, which must hold exactly n values of `size` bytes. */
void *ot_read_output(OpCheck *oc, const OtEnv *env, const char *name, size_t n, size_t size,
                     const char *what);

/* The checker's report of `model` (onnx_check.py: IR version, opsets, inputs, outputs,
 * metadata); NULL when there is no checker, python3-onnx is missing, or the file is invalid
 * (a failed check). */
cJSON *ot_checker_report(OpCheck *oc, OtEnv *env, const char *model, const char *what);

double ot_max_diff(const float *a, const float *b, size_t n); /* NaN counts as infinite */
int ot_argmax_f(const float *p, int n);
int ot_argmax_d(const double *p, int n);

#endif

/* lpt.h: the LPT Studio inference library (liblpt, `pkg-config --cflags --libs lpt`): open a
 * model exported by LPT Studio (a .lptmodel bundle: `lpt export --format bundle`), predict
 * images with it on the CPU or on a Vulkan device, close it. docs/export.md describes the
 * bundle; docs/example/lpt_example.c is a whole program.
 *
 *     LptError err;
 *     LptModelOptions opt;
 *     lpt_model_options_init(&opt);
 *     LptModel *model = lpt_model_open("parts.lptmodel", &opt, &err);
 *     LptModelImage image = {.data = bytes, .size = size, .name = "part-17.png"};
 *     LptModelResult *result;
 *     if (model && lpt_model_predict(model, &image, 1, 3, &result, &err) == LPT_OK) {
 *         printf("%s %.3f\n", lpt_model_class_name(model, result[0].top[0].class_index),
 *                result[0].top[0].prob);
 *         lpt_model_results_free(result);
 *     }
 *     lpt_model_close(model);
 *
 * What a prediction is: each expert of the model (the vision expert, the vision-language
 * expert, or one of them) runs on the image after the model's preprocessing (resize to R x R
 * with R = floor(S 256 / 224), centre crop S x S, (pixel / 255 - mean) / std per channel, as
 * the bundle's metadata records per expert), giving its confidences p_e = softmax(s cos_e);
 * the mixture-of-experts scorer weighs them, p = sum_e alpha_e p_e (the mean of the experts
 * when the model has no scorer), and the deployment prior recorded at export, if any, adjusts
 * p (docs/export.md). These are the numbers LPT Studio itself computes: an export is checked
 * against the app's own predictions before it is written.
 *
 * Errors: functions that can fail return LptStatus (LPT_OK = 0, lpt_error.h) or NULL, and fill
 * `err` (may be NULL) with a message naming the file, the image or the tensor at fault: a
 * bundle that is damaged or truncated, from a newer format (LPT_ERR_UNSUPPORTED), or whose
 * referenced backbone file is missing, changed or unreadable; an image that cannot be
 * decoded. Nothing here aborts or exits the process.
 *
 * Threads: lpt_model_predict may be called from any number of threads at once on one model:
 * the images are decoded on the calling thread, then the calls take turns on the model's
 * compute backend (one mutex per model). lpt_model_open and lpt_model_close may run on any
 * thread; close a model only when no predict on it is running. Results belong to the caller.
 */
#ifndef LPT_H
#define LPT_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LPT_BUNDLE_FORMAT_VERSION 1 /* the newest bundle format this library reads */
#define LPT_MODEL_MAX_EXPERTS 2

typedef struct LptModel LptModel;

typedef enum LptModelBackend {
    LPT_MODEL_BACKEND_CPU = 0,    /* threaded C with a BLAS */
    LPT_MODEL_BACKEND_VULKAN = 1, /* Vulkan compute shaders on a GPU (or Mesa's lavapipe) */
} LptModelBackend;

typedef struct LptModelOptions {
    LptModelBackend backend;
    /* Vulkan: the device's index in `lpt devices` order, or a case-insensitive part of its
     * name; NULL: the LPT_DEVICE environment variable, else the best device. */
    const char *device;
    int threads; /* CPU: worker threads; 0 = the LPT_THREADS environment variable, or all cores */
    /* A folder to search for the backbone files a bundle refers to (besides the path recorded
     * at export and the bundle's own folder); NULL: none. */
    const char *backbone_dir;
} LptModelOptions;

/* CPU, default device and threads, no extra backbone folder. */
void lpt_model_options_init(LptModelOptions *opt);

/* Opens a bundle (opt may be NULL: the defaults). Loads every tensor onto the backend, so the
 * file can go away afterwards. NULL on failure. */
LptModel *lpt_model_open(const char *path, const LptModelOptions *opt, LptError *err);

/* Frees the model and its backend. NULL is a no-op. */
void lpt_model_close(LptModel *model);

/* The classes (K), in the order of every probability vector below. */
int lpt_model_num_classes(const LptModel *model);
const char *lpt_model_class_name(const LptModel *model, int k); /* NULL out of range */

/* The experts the model has (1 or 2) and their names ("vision", "vl"), in the order of the
 * per-expert arrays below. */
int lpt_model_num_experts(const LptModel *model);
const char *lpt_model_expert_name(const LptModel *model, int e); /* NULL out of range */

/* A metadata value of the bundle ("format_version", "classes", "model", "prior", "run_config",
 * "lineage": JSON text, docs/export.md), or NULL. */
const char *lpt_model_metadata(const LptModel *model, const char *key);

/* One image to predict: either an encoded file in memory (PNG, JPEG, BMP, PGM/PPM; data and
 * size), or decoded 8-bit pixels (pixels, width, height, channels 1 = gray or 3 = RGB, rows
 * packed, row-major HWC). Both are only read. */
typedef struct LptModelImage {
    const void *data;
    size_t size;
    const uint8_t *pixels;
    int width, height, channels;
    const char *name; /* what messages call the image; NULL: "image <index>" */
} LptModelImage;

typedef struct LptModelClassProb {
    int class_index;
    float prob;
} LptModelClassProb;

/* What the model says about one image. The arrays live in the results' one allocation. */
typedef struct LptModelResult {
    int num_classes;              /* K */
    int num_experts;              /* E */
    int top_k;                    /* entries in top */
    int num_prompts;              /* group prompts each expert chose (0: no expert has them) */
    const LptModelClassProb *top; /* [top_k] the fused model's best classes, best first */
    const float *probs;           /* [K] the fused confidences (deployment prior applied) */
    const float *expert_probs;    /* [E * K] expert e's confidences at e * K (no prior) */
    const float *scorer_weights;  /* [E] alpha_e (1 / E without a scorer) */
    const int32_t *prompts;       /* [E * num_prompts] pool entries chosen; -1: none */
} LptModelResult;

/* Predicts `count` images (any number: they are batched inside); top_k is cut to [1, K].
 * *results gets an array of `count` results (free it with lpt_model_results_free). Fails as a
 * whole, naming the image, when one image cannot be decoded. */
LptStatus lpt_model_predict(LptModel *model, const LptModelImage *images, int count, int top_k,
                            LptModelResult **results, LptError *err);
void lpt_model_results_free(LptModelResult *results);

/* The k best of the confidences probs[num_classes] (an expert's from a result, say), best
 * first, ties to the lower index, into out[k]; k in [1, num_classes]. */
void lpt_model_top_classes(const float *probs, int num_classes, int k, LptModelClassProb *out);

#ifdef __cplusplus
}
#endif

#endif

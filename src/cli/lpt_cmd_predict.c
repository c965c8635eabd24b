/* lpt_cmd_predict.c: `lpt predict --model FILE [--backend cpu|vulkan] [--device N]
 * [--threads N] [--top-k K] [--batch N] [--backbone-dir DIR] [--json] IMAGE|DIR...`: runs an
 * exported model bundle on images through the C library's public API (lpt.h), --batch images
 * per lpt_model_predict call (64 by default). A folder stands for the image files under it
 * (PNG, JPEG, BMP, PGM/PPM by extension, sub-folders included, in name order).
 *
 * Output, per image in the order given: text "path: class (p) | vision: class (p), vl: class
 * (p) | weights 0.41 0.59", or with --json one line {"image", "top": [{"class", "index",
 * "prob"}], "experts": {name: {"top": [...]}}, "scorer_weights": {name: alpha}, "prompts":
 * {name: [pool entries]}}. An image that cannot be read or decoded gets an error line
 * (--json: {"image", "error"}) and the others are still predicted. Exit 0, 1 when an image or
 * the model failed, 2 on a usage error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lpt.h"
#include "lpt_image.h"

#define USAGE                                                                                      \
    "usage: lpt predict --model FILE [--backend cpu|vulkan] [--device N] [--threads N]\n"          \
    "                   [--top-k K] [--batch N] [--backbone-dir DIR] [--json] IMAGE|DIR...\n"      \
    "  Predicts images with an exported model bundle (lpt export --format bundle): the fused\n"    \
    "  top-k classes, each expert's confidences and the scorer's weights."

typedef struct Files {
    char **paths;
    size_t count, cap;
} Files;

static bool add_file(Files *f, const char *path)
{
    if (f->count == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        char **p = realloc(f->paths, cap * sizeof *p);
        if (!p)
            return false;
        f->paths = p;
        f->cap = cap;
    }
    return (f->paths[f->count++] = strdup(path)) != NULL;
}

static bool image_name(const char *name)
{
    static const char *ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm"};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return true;
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image files under dir (recursively), sorted, appended to f. */
static bool add_dir(Files *f, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "lpt predict: cannot read the folder '%s': %s\n", dir, strerror(errno));
        return false;
    }
    size_t start = f->count;
    bool ok = true;
    struct dirent *de;
    char path[4096];
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            ok = add_dir(f, path);
        else if (S_ISREG(sb.st_mode) && image_name(de->d_name))
            ok = add_file(f, path);
    }
    closedir(d);
    qsort(f->paths + start, f->count - start, sizeof *f->paths, by_name);
    return ok;
}

/* The file's bytes (malloc'd) or NULL with the reason in why. */
static void *read_all(const char *path, size_t *size, char *why, size_t why_size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(why, why_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, fp);
        if (n < cap || (int64_t)cap >= LPT_IMAGE_MAX_FILE_BYTES)
            break;
        unsigned char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    bool bad = ferror(fp) != 0;
    fclose(fp);
    if (!buf || bad) {
        snprintf(why, why_size, "%s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

static cJSON *top_json(const LptModel *m, const LptModelClassProb *top, int k)
{
    cJSON *a = cJSON_CreateArray();
    for (int j = 0; a && j < k; j++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "class", lpt_model_class_name(m, top[j].class_index));
        cJSON_AddNumberToObject(e, "index", top[j].class_index);
        cJSON_AddNumberToObject(e, "prob", top[j].prob);
        cJSON_AddItemToArray(a, e);
    }
    return a;
}

static void print_result(const LptModel *m, const char *path, const LptModelResult *r, bool json)
{
    int K = r->num_classes, E = r->num_experts, k = r->top_k;
    LptModelClassProb *et = malloc((size_t)k * sizeof *et);
    if (!et)
        return;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "image", path);
        cJSON_AddItemToObject(root, "top", top_json(m, r->top, k));
        cJSON *ex = cJSON_AddObjectToObject(root, "experts");
        cJSON *w = cJSON_AddObjectToObject(root, "scorer_weights");
        cJSON *pr = r->num_prompts > 0 ? cJSON_AddObjectToObject(root, "prompts") : NULL;
        for (int e = 0; e < E; e++) {
            const char *name = lpt_model_expert_name(m, e);
            lpt_model_top_classes(r->expert_probs + (size_t)e * K, K, k, et);
            cJSON *o = cJSON_AddObjectToObject(ex, name);
            cJSON_AddItemToObject(o, "top", top_json(m, et, k));
            cJSON_AddNumberToObject(w, name, r->scorer_weights[e]);
            if (pr && r->prompts[(size_t)e * r->num_prompts] >= 0) {
                cJSON *a = cJSON_AddArrayToObject(pr, name);
                for (int j = 0; j < r->num_prompts; j++)
                    cJSON_AddItemToArray(
                        a, cJSON_CreateNumber(r->prompts[(size_t)e * r->num_prompts + j]));
            }
        }
        lpt_cli_print_json(root);
    } else {
        printf("%s: %s (%.4f) |", path, lpt_model_class_name(m, r->top[0].class_index),
               r->top[0].prob);
        for (int e = 0; e < E; e++) {
            lpt_model_top_classes(r->expert_probs + (size_t)e * K, K, 1, et);
            printf("%s %s: %s (%.4f)", e ? "," : "", lpt_model_expert_name(m, e),
                   lpt_model_class_name(m, et[0].class_index), et[0].prob);
        }
        printf(" | weights");
        for (int e = 0; e < E; e++)
            printf(" %.3f", r->scorer_weights[e]);
        printf("\n");
    }
    free(et);
}

static void print_error(const char *path, const char *message, bool json)
{
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "image", path);
        cJSON_AddStringToObject(root, "error", message);
        lpt_cli_print_json(root);
    }
    fprintf(stderr, "lpt predict: %s\n", message);
}

/* Predicts files [first, first + n): one call, or one per image when the call fails (to name
 * the images at fault and still predict the others). Returns the images that failed. */
static int predict_batch(LptModel *m, char **paths, int n, int top_k, bool json)
{
    LptModelImage *in = calloc((size_t)n, sizeof *in);
    void **bytes = calloc((size_t)n, sizeof *bytes);
    bool *readable = calloc((size_t)n, sizeof *readable);
    int failed = 0;
    if (!in || !bytes || !readable) {
        free(in), free(bytes), free(readable);
        fprintf(stderr, "lpt predict: out of memory\n");
        return n;
    }
    char why[600];
    int good = 0;
    for (int i = 0; i < n; i++) {
        size_t size = 0;
        bytes[i] = read_all(paths[i], &size, why, sizeof why);
        readable[i] = bytes[i] != NULL;
        if (!readable[i])
            continue;
        in[good++] = (LptModelImage){.data = bytes[i], .size = size, .name = paths[i]};
    }
    LptModelResult *res = NULL;
    LptError err = {0};
    bool whole = good == n && lpt_model_predict(m, in, n, top_k, &res, &err) == LPT_OK;
    if (whole) {
        for (int i = 0; i < n; i++)
            print_result(m, paths[i], &res[i], json);
        lpt_model_results_free(res);
    } else {
        for (int i = 0, j = 0; i < n; i++) { /* in order, one at a time */
            if (!readable[i]) {
                size_t size;
                free(read_all(paths[i], &size, why, sizeof why));
                print_error(paths[i], why, json);
                failed++;
                continue;
            }
            if (lpt_model_predict(m, &in[j++], 1, top_k, &res, &err) == LPT_OK) {
                print_result(m, paths[i], &res[0], json);
                lpt_model_results_free(res);
            } else {
                print_error(paths[i], err.message, json);
                failed++;
            }
        }
    }
    for (int i = 0; i < n; i++)
        free(bytes[i]);
    free(in), free(bytes), free(readable);
    return failed;
}

int lpt_cmd_predict(int argc, char **argv)
{
    LptBackendOptions bo;
    lpt_backend_options_init(&bo);
    if (!lpt_cli_backend_options(&argc, argv, &bo))
        return LPT_EXIT_USAGE;
    LptModelOptions mo;
    lpt_model_options_init(&mo);
    mo.backend = bo.kind == LPT_BACKEND_VULKAN ? LPT_MODEL_BACKEND_VULKAN : LPT_MODEL_BACKEND_CPU;
    mo.device = bo.device;
    mo.threads = bo.threads;
    const char *model_path = NULL;
    bool json = false;
    int top_k = 5, batch = 64;
    Files files = {0};
    bool ok = true;
    for (int i = 1; ok && i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        char *end;
        if (lpt_cli_is_help(a)) {
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--model") == 0 && has) {
            model_path = argv[++i];
        } else if (strcmp(a, "--backbone-dir") == 0 && has) {
            mo.backbone_dir = argv[++i];
        } else if ((strcmp(a, "--top-k") == 0 || strcmp(a, "--batch") == 0) && has) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 100000)
                return lpt_cli_usage_error("predict", "--top-k and --batch take a number >= 1");
            *(a[2] == 't' ? &top_k : &batch) = (int)v;
        } else if (a[0] == '-' && a[1] == '-') {
            return lpt_cli_unexpected("predict", a, USAGE);
        } else {
            struct stat sb;
            if (stat(a, &sb) == 0 && S_ISDIR(sb.st_mode))
                ok = add_dir(&files, a);
            else
                ok = add_file(&files, a);
        }
    }
    int code = LPT_EXIT_OK;
    if (!ok) {
        code = LPT_EXIT_ERROR;
    } else if (!model_path || files.count == 0) {
        code = lpt_cli_usage_error("predict",
                                   "--model FILE and at least one image are required\n" USAGE);
    } else {
        LptError err = {0};
        LptModel *m = lpt_model_open(model_path, &mo, &err);
        if (!m) {
            fprintf(stderr, "lpt predict: %s\n", err.message);
            code = LPT_EXIT_ERROR;
        }
        size_t failed = 0;
        for (size_t first = 0; m && first < files.count; first += (size_t)batch) {
            int n =
                (int)(files.count - first < (size_t)batch ? files.count - first : (size_t)batch);
            failed += (size_t)predict_batch(m, files.paths + first, n, top_k, json);
        }
        if (failed > 0) {
            fprintf(stderr, "lpt predict: %zu of %zu images failed\n", failed, files.count);
            code = LPT_EXIT_ERROR;
        }
        lpt_model_close(m);
    }
    for (size_t i = 0; i < files.count; i++)
        free(files.paths[i]);
    free(files.paths);
    return code;
}

/* lpt_example.c: a whole program around the LPT Studio inference library (lpt.h): opens a
 * model bundle made by `lpt export --format bundle`, predicts the image files given, and
 * prints one line per image: the path, the best class, its probability, and each expert's
 * weight in the fused prediction (tab-separated).
 *
 *   cc lpt_example.c $(pkg-config --cflags --libs lpt) -o lpt_example
 *   ./lpt_example parts.lptmodel part-1.png part-2.jpg
 *
 * LPT_EXAMPLE_BACKEND=vulkan runs the model on the default Vulkan device instead of the CPU.
 */
#include <lpt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file in memory (malloc'd), or NULL. */
static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *grown = realloc(buf, cap);
            if (!grown)
                break;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f) || n == cap;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.lptmodel IMAGE...\n", argv[0]);
        return 2;
    }
    LptModelOptions opt;
    lpt_model_options_init(&opt);
    const char *backend = getenv("LPT_EXAMPLE_BACKEND");
    if (backend && strcmp(backend, "vulkan") == 0)
        opt.backend = LPT_MODEL_BACKEND_VULKAN;
    LptError err;
    LptModel *model = lpt_model_open(argv[1], &opt, &err);
    if (!model) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int count = argc - 2, status = 0;
    LptModelImage *images = calloc((size_t)count, sizeof *images);
    void **files = calloc((size_t)count, sizeof *files);
    for (int i = 0; images && files && i < count; i++) {
        size_t size = 0;
        files[i] = read_file(argv[2 + i], &size);
        if (!files[i]) {
            fprintf(stderr, "cannot read %s\n", argv[2 + i]);
            status = 1;
        }
        images[i] = (LptModelImage){.data = files[i], .size = size, .name = argv[2 + i]};
    }
    LptModelResult *results = NULL;
    if (!images || !files) {
        fprintf(stderr, "out of memory\n");
        status = 1;
    } else if (status == 0 &&
               lpt_model_predict(model, images, count, 1, &results, &err) != LPT_OK) {
        fprintf(stderr, "%s\n", err.message);
        status = 1;
    }
    for (int i = 0; results && i < count; i++) {
        const LptModelResult *r = &results[i];
        printf("%s\t%s\t%.6f", argv[2 + i], lpt_model_class_name(model, r->top[0].class_index),
               r->top[0].prob);
        for (int e = 0; e < r->num_experts; e++)
            printf("\t%s=%.6f", lpt_model_expert_name(model, e), r->scorer_weights[e]);
        printf("\n");
    }
    lpt_model_results_free(results);
    for (int i = 0; files && i < count; i++)
        free(files[i]);
    free(files);
    free(images);
    lpt_model_close(model);
    return status;
}

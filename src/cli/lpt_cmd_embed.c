/* lpt_cmd_embed.c: `lpt embed --backbone FILE [--heads N] [--config FILE] [--batch N]
 * [--backend cpu|vulkan] [--device N] [--json] IMAGE...`.
 *
 * Opens a pretrained backbone in any naming lpt_weights.h reads, prints what was detected
 * (naming, depth, width, heads, MLP width, patch, image size, eps, activation, parameters,
 * and where each setting came from), then each image's feature vector: the plain backbone's
 * feature (final LayerNorm of the class token; for CLIP, ln_post then the projection). Images
 * go through the evaluation transform of training (lpt_loader.h's eval mode: resize to R x R,
 * R = floor(S 256 / 224), centre crop S = the model's input size, bilinear, normalised with
 * the mean/std of the naming or its config file), so anyone can compare a feature with
 * another implementation (scripts/check_vit_b16.py does, against torchvision).
 */
#include "lpt_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_augment.h"
#include "lpt_loader.h"
#include "lpt_vit.h"
#include "lpt_weights.h"

#define USAGE                                                                                  \
    "usage: lpt embed --backbone FILE [--heads N] [--config FILE] [--batch N] "                \
    "[--backend cpu|vulkan] [--device N] [--json] IMAGE..."

typedef struct EmbedArgs {
    const char *backbone, *config;
    int heads, batch;
    bool json;
    const char **images;
    int count;
} EmbedArgs;

static const char *act_name(LptVitAct act)
{
    return act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu";
}

/* Parses a whole number in [lo, hi]; false when it is not one. */
static bool parse_int(const char *text, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static void print_info(const char *path, const LptWeightsInfo *i, const char *backend,
                       bool json)
{
    const LptVitConfig *v = &i->vit;
    int feature = v->clip_style ? v->proj_dim : v->width;
    int resize = lpt_augment_eval_resize(v->image);
    char e[6][600];
    if (!json) {
        printf("backbone %s\n", path);
        printf("  naming %s (%s), prefix '%s', config %s\n", lpt_weights_naming_id(i->naming),
               lpt_weights_naming_title(i->naming), i->prefix,
               i->config_path ? i->config_path : "none");
        printf("  depth %d, width %d, heads %d (%s), mlp %d, patch %d, image %d\n", v->depth,
               v->width, v->heads, i->heads_from, v->mlp, v->patch, v->image);
        printf("  eps %g (%s), activation %s (%s)%s\n", (double)v->eps, i->eps_from,
               act_name(v->act), i->act_from,
               v->clip_style ? ", CLIP-style: ln_pre, ln_post, projection" : "");
        printf("  feature width %d%s\n", feature,
               i->identity_proj ? " (no projection in the file: identity)" : "");
        printf("  params %zu in %d tensors; %d ignored (%d of a CLIP text tower)\n", i->params,
               i->tensors_used, i->tensors_ignored, i->text_tensors);
        printf("  input: resize %d, centre crop %d, mean %g %g %g, std %g %g %g\n", resize,
               v->image, (double)i->mean[0], (double)i->mean[1], (double)i->mean[2],
               (double)i->std[0], (double)i->std[1], (double)i->std[2]);
        printf("backend %s\n", backend);
        return;
    }
    printf("{\"backbone\": {\"path\": \"%s\", \"naming\": \"%s\", \"title\": \"%s\", "
           "\"prefix\": \"%s\", ",
           lpt_cli_json_escape(path, e[0], sizeof e[0]), lpt_weights_naming_id(i->naming),
           lpt_weights_naming_title(i->naming), lpt_cli_json_escape(i->prefix, e[1], sizeof e[1]));
    if (i->config_path)
        printf("\"config\": \"%s\", ", lpt_cli_json_escape(i->config_path, e[2], sizeof e[2]));
    else
        printf("\"config\": null, ");
    printf("\"depth\": %d, \"width\": %d, \"heads\": %d, \"heads_from\": \"%s\", \"mlp\": %d, "
           "\"patch\": %d, \"image\": %d, \"eps\": %.7g, \"eps_from\": \"%s\", \"act\": \"%s\", "
           "\"act_from\": \"%s\", \"clip_style\": %s, \"proj_dim\": %d, \"identity_proj\": %s, "
           "\"feature_width\": %d, \"params\": %zu, \"tensors\": %d, \"tensors_used\": %d, "
           "\"tensors_ignored\": %d, \"text_tensors\": %d, \"resize\": %d, "
           "\"mean\": [%.7g, %.7g, %.7g], \"std\": [%.7g, %.7g, %.7g]}, \"backend\": \"%s\", "
           "\"images\": [",
           v->depth, v->width, v->heads, lpt_cli_json_escape(i->heads_from, e[3], sizeof e[3]),
           v->mlp, v->patch, v->image, (double)v->eps,
           lpt_cli_json_escape(i->eps_from, e[4], sizeof e[4]), act_name(v->act),
           lpt_cli_json_escape(i->act_from, e[5], sizeof e[5]), v->clip_style ? "true" : "false",
           v->proj_dim, i->identity_proj ? "true" : "false", feature, i->params, i->tensors,
           i->tensors_used, i->tensors_ignored, i->text_tensors, resize, (double)i->mean[0],
           (double)i->mean[1], (double)i->mean[2], (double)i->std[0], (double)i->std[1],
           (double)i->std[2], lpt_cli_json_escape(backend, e[0], sizeof e[0]));
}

static void print_feature(const char *path, const float *f, int n, bool json, bool first)
{
    char esc[1200];
    if (json)
        printf("%s\n  {\"path\": \"%s\", \"feature\": [", first ? "" : ",",
               lpt_cli_json_escape(path, esc, sizeof esc));
    else
        printf("%s:", path);
    for (int j = 0; j < n; j++)
        printf(json ? "%s%.9g" : "%s%.6g", json ? (j ? ", " : "") : " ", (double)f[j]);
    printf(json ? "]}" : "\n");
}

/* Loads the backbone, runs every image through the eval transform and the model, prints. */
static int embed(const EmbedArgs *a, const LptBackendOptions *bopt)
{
    LptError err = {0};
    LptWeightsOptions wopt;
    lpt_weights_options_init(&wopt);
    wopt.heads = a->heads;
    wopt.config_path = a->config;
    LptBackend *be = NULL;
    LptVit *vit = NULL;
    LptLoader *loader = NULL;
    float *features = NULL;
    int rc = LPT_EXIT_ERROR;
    LptWeights *w = lpt_weights_open(a->backbone, &wopt, &err);
    if (!w)
        goto fail;
    const LptWeightsInfo *info = lpt_weights_info(w);
    be = lpt_backend_new(bopt, &err);
    if (!be)
        goto fail;
    vit = lpt_vit_new(be, &info->vit, &err);
    if (!vit || lpt_weights_load_vit(w, vit, &err) != LPT_OK)
        goto fail;

    LptLoaderConfig lc;
    lpt_loader_config_init(&lc);
    lc.mode = LPT_LOADER_EVAL;
    lc.count = a->count;
    lc.paths = a->images;
    lc.batch_size = a->batch < a->count ? a->batch : a->count;
    lc.input_size = info->vit.image;
    memcpy(lc.mean, info->mean, sizeof lc.mean);
    memcpy(lc.std, info->std, sizeof lc.std);
    lc.cache_bytes = 0;
    loader = lpt_loader_new(be, &lc, &err);
    if (!loader)
        goto fail;

    int cf = lpt_vit_feature_width(vit);
    features = malloc((size_t)lc.batch_size * cf * sizeof *features);
    if (!features) {
        lpt_error_set(&err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        goto fail;
    }
    print_info(a->backbone, info, lpt_backend_description(be), a->json);
    int done = 0;
    for (;;) {
        LptLoaderBatch batch;
        if (lpt_loader_next(loader, &batch, &err) != LPT_OK)
            goto fail_out;
        if (batch.end)
            break;
        const LptLoaderPart *part = &batch.part[0];
        if (lpt_vit_forward(vit, &part->images, part->count, LPT_VIT_PLAIN, false, &err) !=
                LPT_OK ||
            lpt_tensor_download(lpt_vit_features(vit), features, &err) != LPT_OK)
            goto fail_out;
        for (int b = 0; b < part->count; b++, done++)
            print_feature(a->images[part->indices[b]], features + (size_t)b * cf, cf, a->json,
                          done == 0);
    }
    if (a->json)
        printf("\n]}\n");
    rc = LPT_EXIT_OK;
    goto out;
fail_out:
    if (a->json)
        printf("\n]}\n");
fail:
    fflush(stdout);
    fprintf(stderr, "lpt embed: %s\n", err.message);
out:
    free(features);
    lpt_loader_free(loader);
    lpt_vit_free(vit);
    lpt_backend_free(be);
    lpt_weights_close(w);
    return rc;
}

int lpt_cmd_embed(int argc, char **argv)
{
    LptBackendOptions bopt;
    lpt_backend_options_init(&bopt);
    if (!lpt_cli_backend_options(&argc, argv, &bopt))
        return LPT_EXIT_USAGE;
    EmbedArgs a = {.batch = 16};
    a.images = calloc((size_t)argc + 1, sizeof *a.images);
    if (!a.images) {
        fprintf(stderr, "lpt embed: out of memory\n");
        return LPT_EXIT_ERROR;
    }
    int rc = LPT_EXIT_OK;
    for (int i = 1; i < argc && rc == LPT_EXIT_OK; i++) {
        const char *opt = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(opt, "--json") == 0) {
            a.json = true;
        } else if (strcmp(opt, "--backbone") == 0 && has_value) {
            a.backbone = argv[++i];
        } else if (strcmp(opt, "--config") == 0 && has_value) {
            a.config = argv[++i];
        } else if (strcmp(opt, "--heads") == 0) {
            if (!has_value || !parse_int(argv[++i], 1, 4096, &a.heads))
                rc = lpt_cli_usage_error("embed", "--heads takes a number of heads (1-4096)");
        } else if (strcmp(opt, "--batch") == 0) {
            if (!has_value || !parse_int(argv[++i], 1, 4096, &a.batch))
                rc = lpt_cli_usage_error("embed", "--batch takes a batch size (1-4096)");
        } else if (strncmp(opt, "--", 2) == 0) {
            rc = lpt_cli_usage_error("embed", USAGE);
        } else {
            a.images[a.count++] = opt;
        }
    }
    if (rc == LPT_EXIT_OK && (!a.backbone || a.count == 0))
        rc = lpt_cli_usage_error("embed", USAGE);
    if (rc == LPT_EXIT_OK)
        rc = embed(&a, &bopt);
    free(a.images);
    return rc;
}

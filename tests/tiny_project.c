/* tiny_project.c: the tiny long-tailed dataset, backbones (single files and sharded
 * checkpoints) and projects of tiny_project.h. */
#include "tiny_project.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_backbone.h"
#include "lpt_import.h"
#include "lpt_rng.h"
#include "lpt_safetensors.h"
#include "lpt_store.h"

static const int train_counts[TINY_CLASSES] = {40, 20, 10, 5};
#define VAL_PER_CLASS 3
static const unsigned char colours[TINY_CLASSES][3] = {
    {220, 40, 40}, {40, 200, 60}, {50, 60, 220}, {230, 210, 40}};

static bool write_png_rgb(const char *path, int w, int h, const unsigned char *px)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = PNG_FORMAT_RGB;
    return png_image_write_to_file(&im, path, 0, px, 0, NULL) != 0;
}

/* One picture of class c: gray noise tinted by the class colour, and a square of it. */
static void make_picture(LptRng *rng, int c, unsigned char *px)
{
    enum { S = 32 };
    int side = 6 + (int)lpt_rng_below(rng, 7);
    int x0 = (int)lpt_rng_below(rng, (uint32_t)(S - side + 1));
    int y0 = (int)lpt_rng_below(rng, (uint32_t)(S - side + 1));
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            bool in = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
            for (int ch = 0; ch < 3; ch++) {
                double noise = (double)lpt_rng_below(rng, 61) - 30.0;
                double v = in ? colours[c][ch] + noise
                              : 0.9 * (110.0 + 2.0 * noise) + 0.1 * colours[c][ch];
                px[(y * S + x) * 3 + ch] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* root/data/{train,val,test}/c<k>/<n>.png */
static bool make_dataset(TinyProject *tp)
{
    const char *splits[3] = {"train", "val", "test"};
    LptRng rng;
    lpt_rng_seed(&rng, 2024, 1);
    unsigned char px[32 * 32 * 3];
    char path[1024];
    snprintf(tp->data_dir, sizeof tp->data_dir, "%s/data", tp->root);
    if (mkdir(tp->data_dir, 0777) != 0)
        return false;
    for (int s = 0; s < 3; s++) {
        snprintf(path, sizeof path, "%s/%s", tp->data_dir, splits[s]);
        if (mkdir(path, 0777) != 0)
            return false;
        for (int c = 0; c < TINY_CLASSES; c++) {
            snprintf(path, sizeof path, "%s/%s/c%d", tp->data_dir, splits[s], c);
            if (mkdir(path, 0777) != 0)
                return false;
            int n = s == 0 ? train_counts[c] : s == 1 ? VAL_PER_CLASS : TINY_TEST_PER_CLASS;
            for (int i = 0; i < n; i++) {
                make_picture(&rng, c, px);
                snprintf(path, sizeof path, "%s/%s/c%d/%03d.png", tp->data_dir, splits[s], c, i);
                if (!write_png_rgb(path, 32, 32, px))
                    return false;
            }
        }
    }
    return true;
}

typedef struct Gen {
    LptSafetensorsWriter *w;
    LptRng rng;
    bool ok;
} Gen;

/* Adds a tensor of the shape filled with base + std * N(0, 1). */
static void gen(Gen *g, const char *name, int ndim, size_t d0, size_t d1, size_t d2, size_t d3,
                double base, double std)
{
    size_t shape[4] = {d0, d1, d2, d3}, n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    float *buf = malloc(n * sizeof *buf);
    for (size_t i = 0; buf && i < n; i++) {
        double u1 = 1.0 - lpt_rng_float(&g->rng), u2 = lpt_rng_float(&g->rng);
        buf[i] = (float)(base + std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    LptError err = {0};
    if (!buf || lpt_safetensors_writer_add_f32(g->w, name, ndim, shape, buf, &err) != LPT_OK)
        g->ok = false;
    free(buf);
}

/* A tiny timm ViT (clip false) or OpenAI-named CLIP image tower (clip true; with the text
 * tower when `text`) with random weights. */
bool tiny_write_backbone(const char *path, bool clip, bool text, uint64_t seed)
{
    Gen g = {lpt_safetensors_writer_new(), {0, 0}, true};
    lpt_rng_seed(&g.rng, seed, 0);
    const double wc = 1.0 / sqrt(BB_C), wm = 1.0 / sqrt(BB_MLP), wp = 1.0 / sqrt(3 * BB_P * BB_P);
    char n[128];
    if (!clip) {
        gen(&g, "patch_embed.proj.weight", 4, BB_C, 3, BB_P, BB_P, 0, wp);
        gen(&g, "patch_embed.proj.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
        gen(&g, "cls_token", 3, 1, 1, BB_C, 0, 0, 0.5);
        gen(&g, "pos_embed", 3, 1, BB_T, BB_C, 0, 0, 0.1);
        for (int i = 0; i < BB_L; i++) {
            const char *f[][2] = {{"norm1", "ln"}, {"norm2", "ln"}};
            for (int j = 0; j < 2; j++) {
                snprintf(n, sizeof n, "blocks.%d.%s.weight", i, f[j][0]);
                gen(&g, n, 1, BB_C, 0, 0, 0, 1.0, 0.05);
                snprintf(n, sizeof n, "blocks.%d.%s.bias", i, f[j][0]);
                gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
            }
            snprintf(n, sizeof n, "blocks.%d.attn.qkv.weight", i);
            gen(&g, n, 2, 3 * BB_C, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "blocks.%d.attn.qkv.bias", i);
            gen(&g, n, 1, 3 * BB_C, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "blocks.%d.attn.proj.weight", i);
            gen(&g, n, 2, BB_C, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "blocks.%d.attn.proj.bias", i);
            gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "blocks.%d.mlp.fc1.weight", i);
            gen(&g, n, 2, BB_MLP, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "blocks.%d.mlp.fc1.bias", i);
            gen(&g, n, 1, BB_MLP, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "blocks.%d.mlp.fc2.weight", i);
            gen(&g, n, 2, BB_C, BB_MLP, 0, 0, 0, wm);
            snprintf(n, sizeof n, "blocks.%d.mlp.fc2.bias", i);
            gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
        }
        gen(&g, "norm.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "norm.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
    } else {
        gen(&g, "visual.conv1.weight", 4, BB_C, 3, BB_P, BB_P, 0, wp);
        gen(&g, "visual.class_embedding", 1, BB_C, 0, 0, 0, 0, 0.5);
        gen(&g, "visual.positional_embedding", 2, BB_T, BB_C, 0, 0, 0, 0.1);
        gen(&g, "visual.ln_pre.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "visual.ln_pre.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
        for (int i = 0; i < BB_L; i++) {
            const char *rb = "visual.transformer.resblocks";
            for (int j = 1; j <= 2; j++) {
                snprintf(n, sizeof n, "%s.%d.ln_%d.weight", rb, i, j);
                gen(&g, n, 1, BB_C, 0, 0, 0, 1.0, 0.05);
                snprintf(n, sizeof n, "%s.%d.ln_%d.bias", rb, i, j);
                gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
            }
            snprintf(n, sizeof n, "%s.%d.attn.in_proj_weight", rb, i);
            gen(&g, n, 2, 3 * BB_C, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "%s.%d.attn.in_proj_bias", rb, i);
            gen(&g, n, 1, 3 * BB_C, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.%d.attn.out_proj.weight", rb, i);
            gen(&g, n, 2, BB_C, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "%s.%d.attn.out_proj.bias", rb, i);
            gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.%d.mlp.c_fc.weight", rb, i);
            gen(&g, n, 2, BB_MLP, BB_C, 0, 0, 0, wc);
            snprintf(n, sizeof n, "%s.%d.mlp.c_fc.bias", rb, i);
            gen(&g, n, 1, BB_MLP, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.%d.mlp.c_proj.weight", rb, i);
            gen(&g, n, 2, BB_C, BB_MLP, 0, 0, 0, wm);
            snprintf(n, sizeof n, "%s.%d.mlp.c_proj.bias", rb, i);
            gen(&g, n, 1, BB_C, 0, 0, 0, 0, 0.02);
        }
        gen(&g, "visual.ln_post.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "visual.ln_post.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
        gen(&g, "visual.proj", 2, BB_C, BB_PROJ, 0, 0, 0, wc);
        if (text) { /* OpenAI CLIP's text tower, one block */
            const double wt = 1.0 / sqrt(TT_W), wtm = 1.0 / sqrt(TT_MLP);
            const char *rb = "transformer.resblocks.0";
            gen(&g, "token_embedding.weight", 2, TT_V, TT_W, 0, 0, 0, 0.5);
            gen(&g, "positional_embedding", 2, TT_CTX, TT_W, 0, 0, 0, 0.1);
            for (int j = 1; j <= 2; j++) {
                snprintf(n, sizeof n, "%s.ln_%d.weight", rb, j);
                gen(&g, n, 1, TT_W, 0, 0, 0, 1.0, 0.05);
                snprintf(n, sizeof n, "%s.ln_%d.bias", rb, j);
                gen(&g, n, 1, TT_W, 0, 0, 0, 0, 0.02);
            }
            snprintf(n, sizeof n, "%s.attn.in_proj_weight", rb);
            gen(&g, n, 2, 3 * TT_W, TT_W, 0, 0, 0, wt);
            snprintf(n, sizeof n, "%s.attn.in_proj_bias", rb);
            gen(&g, n, 1, 3 * TT_W, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.attn.out_proj.weight", rb);
            gen(&g, n, 2, TT_W, TT_W, 0, 0, 0, wt);
            snprintf(n, sizeof n, "%s.attn.out_proj.bias", rb);
            gen(&g, n, 1, TT_W, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.mlp.c_fc.weight", rb);
            gen(&g, n, 2, TT_MLP, TT_W, 0, 0, 0, wt);
            snprintf(n, sizeof n, "%s.mlp.c_fc.bias", rb);
            gen(&g, n, 1, TT_MLP, 0, 0, 0, 0, 0.02);
            snprintf(n, sizeof n, "%s.mlp.c_proj.weight", rb);
            gen(&g, n, 2, TT_W, TT_MLP, 0, 0, 0, wtm);
            snprintf(n, sizeof n, "%s.mlp.c_proj.bias", rb);
            gen(&g, n, 1, TT_W, 0, 0, 0, 0, 0.02);
            gen(&g, "ln_final.weight", 1, TT_W, 0, 0, 0, 1.0, 0.05);
            gen(&g, "ln_final.bias", 1, TT_W, 0, 0, 0, 0, 0.02);
            gen(&g, "text_projection", 2, TT_W, BB_PROJ, 0, 0, 0, wt);
        }
    }
    LptError err = {0};
    bool ok = g.w && g.ok && lpt_safetensors_write(g.w, path, &err) == LPT_OK;
    if (!ok)
        printf("cannot write backbone %s: %s\n", path, err.message);
    lpt_safetensors_writer_free(g.w);
    return ok;
}

bool tiny_write_sharded(const char *src, const char *dir)
{
    static const char *const shards[2] = {"model-00001-of-00002.safetensors",
                                          "model-00002-of-00002.safetensors"};
    LptError err = {0};
    LptSafetensors *sf = lpt_safetensors_open(src, &err);
    LptSafetensorsWriter *w[2] = {lpt_safetensors_writer_new(), lpt_safetensors_writer_new()};
    cJSON *index = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(index, "metadata");
    cJSON *map = cJSON_AddObjectToObject(index, "weight_map");
    bool ok = sf && w[0] && w[1] && meta && map && mkdir(dir, 0777) == 0;
    int n = ok ? lpt_safetensors_count(sf) : 0;
    size_t total = 0;
    for (int i = 0; ok && i < n; i++) {
        const LptSafetensorsEntry *e = lpt_safetensors_entry(sf, i);
        int s = i >= n / 2;
        float *buf = malloc(e->numel * sizeof *buf);
        ok =
            buf && lpt_safetensors_read_f32(sf, e, buf, e->numel, &err) == LPT_OK &&
            lpt_safetensors_writer_add_f32(w[s], e->name, e->ndim, e->shape, buf, &err) == LPT_OK &&
            cJSON_AddStringToObject(map, e->name, shards[s]);
        total += e->numel * sizeof *buf;
        free(buf);
    }
    char path[1024];
    for (int s = 0; ok && s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, shards[s]);
        ok = lpt_safetensors_write(w[s], path, &err) == LPT_OK;
    }
    ok = ok && cJSON_AddNumberToObject(meta, "total_size", (double)total);
    char *text = ok ? cJSON_Print(index) : NULL;
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    FILE *f = text ? fopen(path, "w") : NULL;
    ok = f && fputs(text, f) >= 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok)
        printf("cannot shard %s into %s: %s\n", src, dir, err.message);
    free(text);
    cJSON_Delete(index);
    lpt_safetensors_writer_free(w[0]);
    lpt_safetensors_writer_free(w[1]);
    lpt_safetensors_close(sf);
    return ok;
}

bool tiny_setup(TinyProject *tp, const char *tag)
{
    memset(tp, 0, sizeof *tp);
    const char *tmp = getenv("TMPDIR");
    snprintf(tp->root, sizeof tp->root, "%s/lpt-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(tp->root)) {
        printf("cannot make a temporary folder %s\n", tp->root);
        return false;
    }
    char cache[600]; /* the user's cache folder (the phase-3 caches) under the root too */
    snprintf(cache, sizeof cache, "%s/cache", tp->root);
    setenv("LPT_CACHE_DIR", cache, 1);
    snprintf(tp->vision_file, sizeof tp->vision_file, "%s/vision.safetensors", tp->root);
    snprintf(tp->vl_file, sizeof tp->vl_file, "%s/vl.safetensors", tp->root);
    return make_dataset(tp) && tiny_write_backbone(tp->vision_file, false, false, 11) &&
           tiny_write_backbone(tp->vl_file, true, false, 12);
}

bool tiny_make_project(const TinyProject *tp, const char *name, const char *vision, const char *vl,
                       char *path, size_t size)
{
    snprintf(path, size, "%s/%s.lptproj", tp->root, name);
    LptError err = {0};
    LptStore *store = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!store) {
        printf("cannot create %s: %s\n", path, err.message);
        return false;
    }
    LptImportOptions io;
    lpt_import_options_init(&io);
    const char *sources[1] = {tp->data_dir};
    io.sources = sources;
    io.num_sources = 1;
    char cache[700];
    snprintf(cache, sizeof cache, "%s/thumbs", tp->root);
    io.cache_dir = cache;
    io.threads = 2;
    LptImportReport *rep = NULL;
    bool ok = lpt_import_run(store, &io, &rep, &err) == LPT_OK;
    lpt_import_report_free(rep);
    const char *files[2] = {vision ? vision : tp->vision_file, vl};
    for (int e = 0; ok && e < (vl ? 2 : 1); e++) {
        LptStoreBackbone b;
        memset(&b, 0, sizeof b);
        b.role = (LptStoreExpert)e;
        b.name = e == 0 ? "tiny timm" : "tiny openclip";
        b.path = files[e];
        b.architecture_json = "{}";
        int64_t id = 0;
        ok = lpt_backbone_sha256(files[e], b.sha256, &err) == LPT_OK &&
             lpt_store_backbone_insert(store, &b, &id, &err) == LPT_OK;
    }
    if (!ok)
        printf("cannot set up %s: %s\n", path, err.message);
    lpt_store_close(store);
    return ok;
}

/* test_demo.c: `lpt backbone add|list` and `lpt demo`, run as a user runs them.
 *
 * Usage: test_demo --lpt PATH/TO/lpt. Everything is made at run time under $TMPDIR:
 *   * tiny random backbones (depth 2, width 64, patch 8, image 16): a timm ViT (the vision
 *     expert) and an OpenCLIP image tower (the VL expert; the demo's copy with a one-block
 *     text tower and a BPE vocabulary of the 512 byte symbols beside it, for the VL head's
 *     init from the class names), written with the safetensors writer; bad files: a
 *     truncated one, one with no known naming;
 *   * a tiny stand-in for Fashion-MNIST's four IDX files (16 x 16 images, 100 training and
 *     10 test images per class, each class a bright bar of its own), for `lpt demo --from`.
 * The checks: backbone add (what the JSON reports: naming, sizes, the SHA-256 of the file,
 * parameters; the same file again is the same row; bad files refused with the loader's
 * message naming the file; usage errors); backbone list; `lpt demo --subset 100
 * --epochs-scale 0.01` with the vision backbone alone (says so; results JSON with the linear
 * probe, the full fine-tune and the vision expert, every rate in [0, 1], no fused model; wall
 * and CPU seconds of every part) and with both (VL and fused rows too, in the table's order),
 * a second run that reuses everything and reports the same numbers, and a missing backbone
 * named with the command that makes it.
 * LPT_TEST_KEEP=1 keeps the temporary folder.
 */
#include "lpt_backbone.h"
#include "lpt_hash.h"
#include "lpt_rng.h"
#include "lpt_safetensors.h"
#include "lpt_store.h"
#include "test_check.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIDE 16       /* image side of the stand-in dataset and the backbones */
#define TRAIN_PER 100 /* training images per class in the IDX files */
#define TEST_PER 10   /* test images per class */
#define BB_L 2        /* backbone depth (a prompt pool needs 2) */
#define BB_C 64       /* backbone width (1 head, the default for 64) */
#define BB_MLP 128
#define BB_P 8
#define BB_T 5 /* 1 + (16 / 8)^2 tokens */
#define BB_PROJ 32
#define TT_V 514 /* the text vocabulary: 512 byte symbols and the two special tokens */
#define TT_W 64  /* text tower width (one head) */
#define TT_CTX 32

static char root[512];
static const char *lpt;

/* ---- files ------------------------------------------------------------------------------ */

static void put_be32(FILE *f, unsigned v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* One IDX pair (images + labels) of `per` images per class, classes interleaved. */
static bool write_idx(const char *dir, const char *prefix, int per, LptRng *rng)
{
    char ipath[700], lpath[700];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte", dir, prefix);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte", dir, prefix);
    FILE *fi = fopen(ipath, "wb"), *fl = fopen(lpath, "wb");
    bool ok = fi && fl;
    if (ok) {
        unsigned n = (unsigned)(per * 10);
        put_be32(fi, 0x803);
        put_be32(fi, n);
        put_be32(fi, SIDE);
        put_be32(fi, SIDE);
        put_be32(fl, 0x801);
        put_be32(fl, n);
        unsigned char px[SIDE * SIDE];
        for (unsigned i = 0; i < n; i++) {
            int c = (int)(i % 10);
            for (int y = 0; y < SIDE; y++)
                for (int x = 0; x < SIDE; x++) {
                    bool bar = c < 5 ? (y / 3 == c) : (x / 3 == c - 5);
                    int v = (bar ? 200 : 30) + (int)lpt_rng_below(rng, 40);
                    px[y * SIDE + x] = (unsigned char)v;
                }
            fwrite(px, 1, sizeof px, fi);
            fputc(c, fl);
        }
    }
    if (fi && fclose(fi) != 0)
        ok = false;
    if (fl && fclose(fl) != 0)
        ok = false;
    return ok;
}

typedef struct Gen {
    LptSafetensorsWriter *w;
    LptRng rng;
    bool ok;
    size_t params;
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
    g->params += n;
    free(buf);
}

/* A safetensors file of one tensor in no backbone naming. */
static bool write_odd(const char *path)
{
    Gen g = {lpt_safetensors_writer_new(), {0, 0}, true, 0};
    gen(&g, "encoder.stem.weight", 2, 4, 4, 0, 0, 0, 1);
    LptError err = {0};
    bool ok = g.w && g.ok && lpt_safetensors_write(g.w, path, &err) == LPT_OK;
    lpt_safetensors_writer_free(g.w);
    return ok;
}

/* OpenAI CLIP's one-block text tower (width TT_W, MLP 2 TT_W, projection BB_PROJ). */
static void gen_text_tower(Gen *g)
{
    const double wt = 1.0 / sqrt(TT_W);
    const char *rb = "transformer.resblocks.0";
    char n[128];
    gen(g, "token_embedding.weight", 2, TT_V, TT_W, 0, 0, 0, 0.5);
    gen(g, "positional_embedding", 2, TT_CTX, TT_W, 0, 0, 0, 0.1);
    const char *ln[4] = {"ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias"};
    for (int j = 0; j < 4; j++) {
        snprintf(n, sizeof n, "%s.%s", rb, ln[j]);
        gen(g, n, 1, TT_W, 0, 0, 0, j % 2 ? 0.0 : 1.0, 0.02);
    }
    const char *lin[4] = {"attn.in_proj_", "attn.out_proj.", "mlp.c_fc.", "mlp.c_proj."};
    const size_t rows[4] = {3 * TT_W, TT_W, 2 * TT_W, TT_W}, cols[4] = {TT_W, TT_W, TT_W, 2 * TT_W};
    for (int j = 0; j < 4; j++) {
        snprintf(n, sizeof n, "%s.%sweight", rb, lin[j]);
        gen(g, n, 2, rows[j], cols[j], 0, 0, 0, wt);
        snprintf(n, sizeof n, "%s.%sbias", rb, lin[j]);
        gen(g, n, 1, rows[j], 0, 0, 0, 0, 0.02);
    }
    gen(g, "ln_final.weight", 1, TT_W, 0, 0, 0, 1.0, 0.05);
    gen(g, "ln_final.bias", 1, TT_W, 0, 0, 0, 0, 0.02);
    gen(g, "text_projection", 2, TT_W, BB_PROJ, 0, 0, 0, wt);
}

/* An OpenAI-format BPE vocabulary without merges (the version line alone) in dir. */
static bool write_vocab(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/bpe_simple_vocab_16e6.txt", dir);
    FILE *f = fopen(path, "w");
    bool ok = f && fputs("#version: 0.2\n", f) >= 0;
    return f && fclose(f) == 0 && ok;
}

/* A tiny timm ViT (clip false) or OpenCLIP image tower (clip true, with the text tower when
 * `text`); *params (may be NULL) gets its element count. */
static bool write_backbone(const char *path, bool clip, bool text, size_t *params)
{
    Gen g = {lpt_safetensors_writer_new(), {0, 0}, true, 0};
    lpt_rng_seed(&g.rng, clip ? 2 : 1, 0);
    const double wc = 1.0 / sqrt(BB_C), wm = 1.0 / sqrt(BB_MLP), wp = 1.0 / sqrt(3 * BB_P * BB_P);
    char n[128], pre[64];
    if (!clip) {
        gen(&g, "patch_embed.proj.weight", 4, BB_C, 3, BB_P, BB_P, 0, wp);
        gen(&g, "patch_embed.proj.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
        gen(&g, "cls_token", 3, 1, 1, BB_C, 0, 0, 0.5);
        gen(&g, "pos_embed", 3, 1, BB_T, BB_C, 0, 0, 0.1);
    } else {
        gen(&g, "visual.conv1.weight", 4, BB_C, 3, BB_P, BB_P, 0, wp);
        gen(&g, "visual.class_embedding", 1, BB_C, 0, 0, 0, 0, 0.5);
        gen(&g, "visual.positional_embedding", 2, BB_T, BB_C, 0, 0, 0, 0.1);
        gen(&g, "visual.ln_pre.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "visual.ln_pre.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
    }
    const char *names[][2] = {{"norm1", "ln_1"},
                              {"norm2", "ln_2"},
                              {"attn.qkv", "attn.in_proj"},
                              {"attn.proj", "attn.out_proj"},
                              {"mlp.fc1", "mlp.c_fc"},
                              {"mlp.fc2", "mlp.c_proj"}};
    const size_t rows[6] = {BB_C, BB_C, 3 * BB_C, BB_C, BB_MLP, BB_C};
    const size_t cols[6] = {0, 0, BB_C, BB_C, BB_C, BB_MLP};
    for (int i = 0; i < BB_L; i++) {
        snprintf(pre, sizeof pre, clip ? "visual.transformer.resblocks.%d." : "blocks.%d.", i);
        for (int j = 0; j < 6; j++) {
            const char *t = names[j][clip];
            bool in_proj = clip && j == 2;
            snprintf(n, sizeof n, in_proj ? "%s%s_weight" : "%s%s.weight", pre, t);
            if (cols[j] == 0)
                gen(&g, n, 1, rows[j], 0, 0, 0, 1.0, 0.05);
            else
                gen(&g, n, 2, rows[j], cols[j], 0, 0, 0, j == 5 ? wm : wc);
            snprintf(n, sizeof n, in_proj ? "%s%s_bias" : "%s%s.bias", pre, t);
            gen(&g, n, 1, rows[j], 0, 0, 0, 0, 0.02);
        }
    }
    if (!clip) {
        gen(&g, "norm.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "norm.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
    } else {
        gen(&g, "visual.ln_post.weight", 1, BB_C, 0, 0, 0, 1.0, 0.05);
        gen(&g, "visual.ln_post.bias", 1, BB_C, 0, 0, 0, 0, 0.02);
        gen(&g, "visual.proj", 2, BB_C, BB_PROJ, 0, 0, 0, wc);
        if (text)
            gen_text_tower(&g);
    }
    LptError err = {0};
    bool ok = g.w && g.ok && lpt_safetensors_write(g.w, path, &err) == LPT_OK;
    if (!ok)
        printf("cannot write backbone %s: %s\n", path, err.message);
    if (params)
        *params = g.params;
    lpt_safetensors_writer_free(g.w);
    return ok;
}

/* The first `bytes` bytes of src as dst. */
static bool truncate_copy(const char *src, const char *dst, long bytes)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    bool ok = in && out;
    for (long i = 0; ok && i < bytes; i++) {
        int c = fgetc(in);
        ok = c != EOF && fputc(c, out) != EOF;
    }
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Runs a shell command; returns its stdout (malloc'd, "" when empty) and exit code; stderr
 * goes to root/stderr.txt, read back into *errout when errout is not NULL. */
static char *run(const char *cmd, int *code, char **errout)
{
    char full[8192], errpath[600];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", root);
    snprintf(full, sizeof full, "%s 2> '%s'", cmd, errpath);
    FILE *p = popen(full, "r");
    char *buf = calloc(1, 1);
    size_t len = 0;
    *code = -1;
    if (!p || !buf)
        return buf;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) {
        char *nb = realloc(buf, len + n + 1);
        if (!nb)
            break;
        buf = nb;
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = '\0';
    }
    int status = pclose(p);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (errout) {
        FILE *f = fopen(errpath, "rb");
        char *e = calloc(1, 65536);
        if (f && e)
            e[fread(e, 1, 65535, f)] = '\0';
        if (f)
            fclose(f);
        *errout = e;
    }
    return buf;
}

static cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : (cJSON *)v;
}

static double number(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = path_get(o, a, b);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- backbone add / list ------------------------------------------------------------------ */

static char vision_file[600], vl_file[600], bb_dir[600], bb_both_dir[600], idx_dir[600];
static size_t vision_params, vl_params;

/* lpt_backbone_add and lpt_store_backbone_list called directly. */
static void test_backbone_core(void)
{
    char project[700], missing[700];
    snprintf(project, sizeof project, "%s/core.lptproj", root);
    snprintf(missing, sizeof missing, "%s/missing.safetensors", root);
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_CREATE, &err);
    CHECK(store != NULL, "a new project: %s", err.message);
    if (!store)
        return;
    LptStoreBackbone *list = (LptStoreBackbone *)1;
    size_t n = 99;
    CHECK(lpt_store_backbone_list(store, &list, &n, &err) == LPT_OK && !list && n == 0,
          "an empty project lists no backbone: %s", err.message);
    CHECK(lpt_backbone_add(store, LPT_STORE_EXPERT_FUSED, vision_file, NULL, NULL, &err) ==
                  LPT_ERR_INVALID_ARGUMENT &&
              strstr(err.message, "role"),
          "the fused 'role' is refused: %s", err.message);
    CHECK(lpt_backbone_add(store, LPT_STORE_EXPERT_VISION, missing, NULL, NULL, &err) != LPT_OK &&
              strstr(err.message, "missing.safetensors"),
          "a missing file is named: %s", err.message);
    CHECK(lpt_backbone_add(NULL, LPT_STORE_EXPERT_VISION, vision_file, NULL, NULL, &err) ==
              LPT_ERR_INVALID_ARGUMENT,
          "no store is refused");
    LptBackboneAdded added;
    char sha[LPT_HASH_HEX_LEN + 1] = "";
    CHECK(lpt_backbone_add(store, LPT_STORE_EXPERT_VISION, vision_file, "mine", &added, &err) ==
                  LPT_OK &&
              lpt_hash_sha256_file(vision_file, sha, &err) == LPT_OK,
          "adding the vision backbone: %s", err.message);
    CHECK(added.id >= 1 && !added.existed && added.vit.width == BB_C && added.vit.depth == BB_L &&
              added.naming == LPT_WEIGHTS_TIMM && added.params == (int64_t)vision_params &&
              strcmp(added.sha256, sha) == 0,
          "what lpt_backbone_add reports (id %lld, width %d, params %lld)", (long long)added.id,
          added.vit.width, (long long)added.params);
    CHECK(lpt_store_backbone_list(store, &list, &n, &err) == LPT_OK && n == 1,
          "one backbone listed: %s", err.message);
    if (n == 1) {
        cJSON *arch = cJSON_Parse(list[0].architecture_json);
        CHECK(list[0].id == added.id && list[0].role == LPT_STORE_EXPERT_VISION &&
                  strcmp(list[0].name, "mine") == 0 && list[0].path[0] == '/' &&
                  number(arch, "patch", NULL) == BB_P && number(arch, "eps", NULL) == 1e-6,
              "the row: id, role, name, absolute path, architecture JSON (%s)",
              list[0].architecture_json);
        cJSON_Delete(arch);
    }
    free(list);
    CHECK(lpt_backbone_architecture_json(NULL) == NULL, "no info, no JSON");
    lpt_store_close(store);
}

static void test_backbone(void)
{
    char project[700], cmd[4096], bad[700], odd[700];
    int code;
    char *err = NULL;
    snprintf(project, sizeof project, "%s/bb.lptproj", root);

    /* the project must exist: `lpt import` makes it */
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vision '%s'", lpt, project,
             vision_file);
    char *out = run(cmd, &code, &err);
    CHECK(code == 1 && strstr(err, "bb.lptproj"), "a missing project is named (exit %d): %s", code,
          err);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "'%s' import --project '%s' '%s/data' > /dev/null", lpt, project,
             root);
    free(run(cmd, &code, NULL));
    CHECK(code == 0, "lpt import made the project (exit %d)", code);

    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vision --json '%s'", lpt,
             project, vision_file);
    out = run(cmd, &code, NULL);
    cJSON *o = cJSON_Parse(out);
    char sha[LPT_HASH_HEX_LEN + 1] = "";
    LptError e = {0};
    CHECK(lpt_hash_sha256_file(vision_file, sha, &e) == LPT_OK, "hashing: %s", e.message);
    const cJSON *s = path_get(o, "sha256", NULL), *naming = path_get(o, "architecture", "naming");
    const cJSON *role = path_get(o, "role", NULL), *existed = path_get(o, "existed", NULL);
    CHECK(code == 0 && o, "backbone add --json exits 0 with JSON (exit %d): %s", code, out);
    CHECK(cJSON_IsString(s) && strcmp(s->valuestring, sha) == 0, "the SHA-256 of the file");
    CHECK(cJSON_IsString(naming) && strcmp(naming->valuestring, "timm") == 0 &&
              cJSON_IsString(role) && strcmp(role->valuestring, "vision") == 0,
          "timm naming detected, role vision");
    CHECK(number(o, "architecture", "depth") == BB_L &&
              number(o, "architecture", "width") == BB_C &&
              number(o, "architecture", "patch") == BB_P &&
              number(o, "architecture", "image") == SIDE &&
              number(o, "params", NULL) == (double)vision_params &&
              cJSON_IsFalse(path_get(o, "architecture", "clip_style")),
          "architecture: depth 2, width %d, patch %d, image %d, %zu parameters (got %g)", BB_C,
          BB_P, SIDE, vision_params, number(o, "params", NULL));
    CHECK(cJSON_IsFalse(existed), "a new backbone is not 'existed'");
    double id = number(o, "id", NULL);
    cJSON_Delete(o);
    free(out);

    /* the same file again: the same row */
    out = run(cmd, &code, NULL);
    o = cJSON_Parse(out);
    CHECK(code == 0 && number(o, "id", NULL) == id && cJSON_IsTrue(path_get(o, "existed", NULL)),
          "the same file again is the same backbone, marked existed: %s", out);
    cJSON_Delete(o);
    free(out);

    /* the VL role with a CLIP tower; text output */
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vl '%s'", lpt, project,
             vl_file);
    out = run(cmd, &code, NULL);
    CHECK(code == 0 && strstr(out, "vl backbone") && strstr(out, "CLIP-style") &&
              strstr(out, "OpenCLIP"),
          "backbone add --role vl prints the detected CLIP tower: %s", out);
    free(out);

    /* refusals: a truncated file, a file of no known naming, usage */
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", root);
    snprintf(odd, sizeof odd, "%s/odd.safetensors", root);
    CHECK(truncate_copy(vision_file, bad, 300) && write_odd(odd), "bad files written");
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vision '%s'", lpt, project,
             bad);
    out = run(cmd, &code, &err);
    CHECK(code == 1 && strstr(err, "truncated.safetensors"),
          "a truncated file is refused, named (exit %d): %s", code, err);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vision '%s'", lpt, project,
             odd);
    out = run(cmd, &code, &err);
    CHECK(code == 1 && strstr(err, "odd.safetensors") && strstr(err, "naming"),
          "a file of no known naming is refused with the loader's message (exit %d): %s", code,
          err);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role text '%s'", lpt, project,
             vision_file);
    free(run(cmd, &code, NULL));
    CHECK(code == 2, "--role text is a usage error (exit %d)", code);
    snprintf(cmd, sizeof cmd, "'%s' backbone add --project '%s' --role vision", lpt, project);
    free(run(cmd, &code, NULL));
    CHECK(code == 2, "add without a file is a usage error (exit %d)", code);
    snprintf(cmd, sizeof cmd, "'%s' backbone remove --project '%s'", lpt, project);
    free(run(cmd, &code, NULL));
    CHECK(code == 2, "an unknown subcommand is a usage error (exit %d)", code);

    /* list: both, nothing of the refused files */
    snprintf(cmd, sizeof cmd, "'%s' backbone list --project '%s' --json", lpt, project);
    out = run(cmd, &code, NULL);
    o = cJSON_Parse(out);
    const cJSON *list = path_get(o, "backbones", NULL);
    const cJSON *b0 = cJSON_GetArrayItem(list, 0), *b1 = cJSON_GetArrayItem(list, 1);
    const cJSON *r1 = path_get(b1, "role", NULL);
    CHECK(code == 0 && cJSON_GetArraySize(list) == 2 && number(b0, "id", NULL) == id &&
              cJSON_IsTrue(path_get(b0, "latest", NULL)) && cJSON_IsString(r1) &&
              strcmp(r1->valuestring, "vl") == 0 &&
              number(b1, "params", NULL) == (double)vl_params &&
              cJSON_IsTrue(path_get(b1, "architecture", "clip_style")),
          "backbone list --json: the vision and the VL backbone: %s", out);
    cJSON_Delete(o);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' backbone list --project '%s'", lpt, project);
    out = run(cmd, &code, NULL);
    CHECK(code == 0 && strstr(out, "vision") && strstr(out, "tiny-vit.safetensors"),
          "backbone list prints the table: %s", out);
    free(out);
}

/* ---- lpt demo ------------------------------------------------------------------------------ */

/* Checks a results file: the models present/absent, every rate in [0, 1]. Returns the parsed
 * JSON (caller frees) or NULL. */
static cJSON *check_results(const char *path, bool both)
{
    FILE *f = fopen(path, "rb");
    char *text = calloc(1, 1 << 20);
    if (f && text)
        text[fread(text, 1, (1 << 20) - 1, f)] = '\0';
    if (f)
        fclose(f);
    cJSON *o = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(o != NULL, "the results file %s is JSON", path);
    if (!o)
        return NULL;
    const char *models[5] = {"linear_probe", "full_finetune", "vision", "vl", "fused"};
    const char *keys[5] = {"overall", "balanced", "many", "medium", "few"};
    const cJSON *listed = path_get(o, "models", NULL)->child;
    for (int m = 0; m < 5; m++) {
        const cJSON *mo = path_get(o, "models", models[m]);
        bool want = m < 3 || both;
        CHECK(!want || (listed && strcmp(listed->string, models[m]) == 0),
              "models.%s comes in the table's order", models[m]);
        listed = listed ? listed->next : NULL;
        CHECK((mo != NULL) == want, "models.%s is %s", models[m], want ? "there" : "absent");
        if (!mo)
            continue;
        for (int k = 0; k < 5; k++) {
            double v = number(mo, keys[k], NULL);
            CHECK(v >= 0 && v <= 1, "models.%s.%s = %g in [0, 1]", models[m], keys[k], v);
        }
        CHECK(number(mo, "trainable_params", NULL) > 0 && number(mo, "train_seconds", NULL) >= 0 &&
                  number(mo, "run", NULL) >= 1,
              "models.%s has trainable parameters, training time and its run", models[m]);
    }
    const char *parts[7] = {"dataset",       "import", "lpt", "linear_probe",
                            "full_finetune", "eval",   "total"};
    for (int i = 0; i < 7; i++)
        CHECK(number(o, "seconds", parts[i]) >= 0 && number(o, "cpu_seconds", parts[i]) >= 0,
              "seconds.%s and cpu_seconds.%s are there", parts[i], parts[i]);
    CHECK(number(o, "cpu_seconds", "total") > 0 &&
              number(o, "cpu_seconds", "full_finetune") > 0 &&
              number(o, "runs", "full_finetune") >= 1,
          "the full fine-tune ran and took CPU time");
    const cJSON *experts = path_get(o, "experts", NULL);
    CHECK(cJSON_GetArraySize(experts) == (both ? 2 : 1) &&
              cJSON_IsNull(path_get(o, "backbones", "vl")) == !both,
          "experts and backbones.vl say whether the VL expert ran");
    double sum = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, path_get(o, "dataset", "train_counts")) sum += c->valuedouble;
    /* the long tail of head 100: 100 59 35 21 12 7 4 2 1 1 = 242, less what went to val */
    CHECK(sum > 180 && sum < 242 && number(o, "dataset", "test_images") == 10 * TEST_PER &&
              number(o, "groups", "few_below") <= number(o, "groups", "many_above") + 1,
          "dataset counts (train %g) and group thresholds", sum);
    return o;
}

static void test_demo(void)
{
    char cmd[4096], out_dir[600], results[700], empty[600];
    int code;
    char *err = NULL;
    snprintf(out_dir, sizeof out_dir, "%s/demo1", root);
    snprintf(results, sizeof results, "%s/fashion-mnist-lt-head100-results.json", out_dir);
    const char *common = "--subset 100 --epochs-scale 0.01 --no-gui --threads 2";

    /* the vision backbone alone */
    snprintf(cmd, sizeof cmd, "'%s' demo --out '%s' --from '%s' --backbones '%s' %s", lpt, out_dir,
             idx_dir, bb_dir, common);
    char *out = run(cmd, &code, &err);
    CHECK(code == 0, "lpt demo (vision alone) exits 0 (exit %d): %s\n%s", code, out, err);
    CHECK(strstr(out, "vision expert alone") && strstr(out, "linear probe") &&
              strstr(out, "no fused model"),
          "the table says the vision expert ran alone: %s", out);
    free(out);
    free(err);
    cJSON *first = check_results(results, false);

    /* again: everything reused, the same numbers */
    out = run(cmd, &code, NULL);
    CHECK(code == 0 && strstr(out, "built before") && strstr(out, "imported before"),
          "a second lpt demo reuses the dataset and the project: %s", out);
    free(out);
    cJSON *second = check_results(results, false);
    const cJSON *m1 = path_get(first, "models", "vision"),
                *m2 = path_get(second, "models", "vision");
    CHECK(first && second && number(m1, "balanced", NULL) == number(m2, "balanced", NULL) &&
              number(m1, "run", NULL) == number(m2, "run", NULL),
          "the second run evaluates the same finished run to the same numbers");
    cJSON_Delete(first);
    cJSON_Delete(second);

    /* both experts */
    snprintf(out_dir, sizeof out_dir, "%s/demo2", root);
    snprintf(results, sizeof results, "%s/fashion-mnist-lt-head100-results.json", out_dir);
    snprintf(cmd, sizeof cmd, "'%s' demo --out '%s' --from '%s' --backbones '%s' %s", lpt, out_dir,
             idx_dir, bb_both_dir, common);
    out = run(cmd, &code, &err);
    CHECK(code == 0 && strstr(out, "LPT++ fused") && strstr(out, "VL expert") &&
              strstr(out, "full fine-tune") && strstr(out, "CPU"),
          "lpt demo with both backbones: the VL and fused rows, the time of each part (exit %d): "
          "%s\n%s",
          code, out, err);
    free(out);
    free(err);
    cJSON_Delete(check_results(results, true));

    /* no vision backbone: named, with the command that makes it */
    snprintf(empty, sizeof empty, "%s/empty", root);
    mkdir(empty, 0777);
    snprintf(cmd, sizeof cmd, "'%s' demo --out '%s/demo3' --from '%s' --backbones '%s' %s", lpt,
             root, idx_dir, empty, common);
    out = run(cmd, &code, &err);
    CHECK(code == 1 && strstr(err, "empty/demo-vit-mnist.safetensors") &&
              strstr(err, "lpt pretrain"),
          "a missing vision backbone is named with the command that makes it (exit %d): %s", code,
          err);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "'%s' demo --epochs-scale 0", lpt);
    free(run(cmd, &code, NULL));
    CHECK(code == 2, "--epochs-scale 0 is a usage error (exit %d)", code);
}

/* ---- main ---------------------------------------------------------------------------------- */

/* root/data: a folder per class for the backbone test's project (two tiny PGMs per class). */
static bool make_image_folder(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/data", root);
    bool ok = mkdir(path, 0777) == 0;
    for (int c = 0; ok && c < 2; c++) {
        snprintf(path, sizeof path, "%s/data/c%d", root, c);
        ok = mkdir(path, 0777) == 0;
        for (int i = 0; ok && i < 2; i++) {
            snprintf(path, sizeof path, "%s/data/c%d/%d.pgm", root, c, i);
            FILE *f = fopen(path, "wb");
            ok = f && fprintf(f, "P5\n2 2\n255\n") > 0 && fputc(40 * c + i, f) != EOF &&
                 fputc(9, f) != EOF && fputc(90, f) != EOF && fputc(200, f) != EOF;
            if (f && fclose(f) != 0)
                ok = false;
        }
    }
    return ok;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--lpt") == 0 && i + 1 < argc)
            lpt = argv[++i];
    if (!lpt) {
        fprintf(stderr, "usage: test_demo --lpt PATH/TO/lpt\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/lpt-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        printf("cannot make a temporary folder\n");
        return 1;
    }
    char cache[600];
    snprintf(cache, sizeof cache, "%s/cache", root);
    setenv("LPT_CACHE_DIR", cache, 1);
    snprintf(bb_dir, sizeof bb_dir, "%s/bb", root);
    snprintf(bb_both_dir, sizeof bb_both_dir, "%s/bb2", root);
    snprintf(idx_dir, sizeof idx_dir, "%s/idx", root);
    snprintf(vision_file, sizeof vision_file, "%s/tiny-vit.safetensors", root);
    snprintf(vl_file, sizeof vl_file, "%s/tiny-clip.safetensors", root);
    char f1[700], f2[700], f3[700];
    snprintf(f1, sizeof f1, "%s/demo-vit-mnist.safetensors", bb_dir);
    snprintf(f2, sizeof f2, "%s/demo-vit-mnist.safetensors", bb_both_dir);
    snprintf(f3, sizeof f3, "%s/demo-clip-mnist.safetensors", bb_both_dir);
    LptRng rng;
    lpt_rng_seed(&rng, 5, 0);
    bool ready = mkdir(bb_dir, 0777) == 0 && mkdir(bb_both_dir, 0777) == 0 &&
                 mkdir(idx_dir, 0777) == 0 &&
                 write_backbone(vision_file, false, false, &vision_params) &&
                 write_backbone(vl_file, true, false, &vl_params) &&
                 write_backbone(f1, false, false, NULL) && write_backbone(f2, false, false, NULL) &&
                 write_backbone(f3, true, true, NULL) && write_vocab(bb_both_dir) &&
                 write_idx(idx_dir, "train", TRAIN_PER, &rng) &&
                 write_idx(idx_dir, "t10k", TEST_PER, &rng) && make_image_folder();
    CHECK(ready, "backbones, IDX files and images written under %s", root);
    if (ready) {
        test_backbone_core();
        test_backbone();
        test_demo();
    }
    if (getenv("LPT_TEST_KEEP"))
        printf("kept %s (LPT_TEST_KEEP)\n", root);
    else
        tu_remove_tree(root);
    printf("test_demo: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

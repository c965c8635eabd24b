/* test_onnx.c: the ONNX export (src/core/lpt_onnx.c, lpt_onnx_graph.c, lpt_protobuf.c) checked
 * by real consumers, on one backend (--backend cpu|vulkan).
 *
 * Arguments (tests/run_test_onnx.sh passes them): --ort DIR (onnxruntime-node, from
 * fetch_onnxruntime.sh) and --runner onnx_run.js: without them the runtime checks are left
 * out and the test exits 77 when everything else passed; --checker onnx_check.py (Debian's
 * python3-onnx: checker with full_check, then what the file declares).
 *
 * Checks:
 *  - the protobuf encoder against the encodings in the protobuf documentation;
 *  - two tiny random experts (a vision ViT: erf GELU, even depth; a CLIP-style tower:
 *    QuickGELU, ln_pre, proj, odd depth), with prompts, adapters (non-zero up weights and a
 *    scale != 1, so they matter) and a pool, exported in plain, phase-1 and phase-2 modes:
 *    the checker accepts each file and finds the declared inputs, outputs, opset 17, IR 8 and
 *    the class names; ONNX Runtime's features, logits, probs = softmax(20 cos) and pool
 *    choices match lpt_vit_forward on this backend: max |d prob| <= 1e-4, no label flips,
 *    the same pool entries, features and logits within 1e-4. The modes are checked to give
 *    different outputs (so prompts, adapters and group prompts are really exercised);
 *  - bad input: no head, trainable tensors never initialised, phase 2 without a pool, missing
 *    class names, a missing directory, a directory as the target, and a write that fails part
 *    way (RLIMIT_FSIZE): each a clear error naming the file, the target untouched, no
 *    temporary file left behind.
 */
#include "onnx_test_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lpt_onnx.h"
#include "lpt_protobuf.h"
#include "lpt_vit.h"

#define BATCH 3
#define PROB_TOL 1e-4
#define VALUE_TOL 1e-4

/* ---- protobuf encoding ------------------------------------------------------------------ */

static void expect_bytes(OpCheck *oc, const char *what, const LptPbBuf *b, const uint8_t *want,
                         size_t n)
{
    bool ok = !b->failed && b->len == n && memcmp(b->data, want, n) == 0;
    char got[128] = "";
    for (size_t i = 0; i < b->len && i < 40; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%02x ", b->data[i]);
    oc_expect(oc, ok, what, "got %s(%zu bytes, %zu expected)", got, b->len, n);
}

/* The examples of https://protobuf.dev/programming-guides/encoding/ and a few edges. */
static void check_protobuf(OpCheck *oc)
{
    LptPbBuf b;
    lpt_pb_buf_init(&b);
    lpt_pb_int(&b, 1, 150);
    expect_bytes(oc, "pb: field 1 = 150", &b, (const uint8_t[]){0x08, 0x96, 0x01}, 3);
    lpt_pb_buf_clear(&b);
    lpt_pb_string(&b, 2, "testing");
    expect_bytes(oc, "pb: field 2 = \"testing\"", &b,
                 (const uint8_t[]){0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}, 9);
    lpt_pb_buf_clear(&b);
    lpt_pb_int(&b, 1, -2);
    expect_bytes(oc, "pb: int64 -2", &b,
                 (const uint8_t[]){0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0x01}, 11);
    lpt_pb_buf_clear(&b);
    int64_t packed[3] = {3, 270, 86942};
    lpt_pb_packed_int(&b, 4, packed, 3);
    expect_bytes(oc, "pb: packed [3, 270, 86942]", &b,
                 (const uint8_t[]){0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}, 8);
    lpt_pb_buf_clear(&b);
    lpt_pb_float(&b, 2, 1.0f);
    lpt_pb_int(&b, 20, 1);
    expect_bytes(oc, "pb: float 1.0, field 20", &b,
                 (const uint8_t[]){0x15, 0x00, 0x00, 0x80, 0x3f, 0xa0, 0x01, 0x01}, 8);
    lpt_pb_buf_clear(&b);
    LptPbBuf inner;
    lpt_pb_buf_init(&inner);
    lpt_pb_int(&inner, 1, 150);
    lpt_pb_message(&b, 3, &inner);
    expect_bytes(oc, "pb: embedded message", &b,
                 (const uint8_t[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5);
    lpt_pb_buf_clear(&inner);
    lpt_pb_buf_clear(&b);
    int64_t big = 1;
    lpt_pb_raw_i64(&b, &big, 1);
    lpt_pb_raw_f32(&b, (const float[]){-2.0f}, 1);
    expect_bytes(oc, "pb: little-endian raw data", &b,
                 (const uint8_t[]){1, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0}, 12);
    oc_expect(oc, lpt_pb_varint_size(127) == 1 && lpt_pb_varint_size(128) == 2 &&
                      lpt_pb_varint_size(UINT64_MAX) == 10 && lpt_pb_tag_size(15) == 1 &&
                      lpt_pb_tag_size(16) == 2,
              "pb: varint sizes", "wrong");
    lpt_pb_buf_clear(&b);
    lpt_pb_buf_clear(&b); /* clearing twice and NULL are no-ops */
    lpt_pb_buf_clear(NULL);
}

static const char *const class_names[6] = {"good", "scratch", "dent", "crack \"hairline\"",
                                           "ねじ不良", "stain"};

/* ---- one export against ONNX Runtime ---------------------------------------------------- */

/* What lpt_vit_forward gave (host copies). */
typedef struct Ref {
    float *features, *logits;
    int32_t *sel;
    double *probs;
} Ref;

static void ref_free(Ref *r)
{
    free(r->features);
    free(r->logits);
    free(r->sel);
    free(r->probs);
}

static bool reference(OpCheck *oc, LptVit *vit, const LptTensor *images, LptVitMode mode,
                      const char *what, Ref *r)
{
    LptError err = {0};
    memset(r, 0, sizeof *r);
    if (!oc_expect(oc, lpt_vit_forward(vit, images, BATCH, mode, false, &err) == LPT_OK, what,
                   "forward: %s", err.message))
        return false;
    const LptVitConfig *c = lpt_vit_config(vit);
    int K = c->classes;
    r->features = oc_fetch(oc, lpt_vit_features(vit));
    r->logits = oc_fetch(oc, lpt_vit_logits(vit));
    r->probs = malloc((size_t)BATCH * K * sizeof *r->probs);
    for (int b = 0; b < BATCH; b++) { /* softmax(20 cos) in double */
        const float *z = r->logits + (size_t)b * K;
        double m = z[0], sum = 0.0;
        for (int k = 1; k < K; k++)
            m = fmax(m, z[k]);
        for (int k = 0; k < K; k++)
            sum += exp(20.0 * (z[k] - m));
        for (int k = 0; k < K; k++)
            r->probs[(size_t)b * K + k] = exp(20.0 * (z[k] - m)) / sum;
    }
    if (mode == LPT_VIT_PHASE2) {
        const LptTensor *s = lpt_vit_selection(vit);
        r->sel = malloc(s->count * sizeof *r->sel);
        oc_download(oc, s, r->sel);
    }
    return true;
}

/* The checker's report of the file: valid, opset 17, IR 8, our inputs, outputs and classes. */
static void check_structure(OpCheck *oc, OtEnv *env, const char *model, const LptVitConfig *c,
                            LptVitMode mode, const char *what)
{
    cJSON *j = ot_checker_report(oc, env, model, what);
    if (!j)
        return;
    const cJSON *opsets = cJSON_GetObjectItemCaseSensitive(j, "opsets");
    const cJSON *ir = cJSON_GetObjectItemCaseSensitive(j, "ir_version");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(opsets, "");
    oc_expect(oc, cJSON_IsNumber(ir) && ir->valueint == 8 && cJSON_IsNumber(def) &&
                      def->valueint == 17 && cJSON_GetArraySize(opsets) == 1,
              what, "IR version / opsets not 8 / {'': 17}");
    const cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "inputs"), 0);
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(in, "dims");
    oc_expect(oc, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "inputs")) == 1 &&
                      strcmp(ot_str(cJSON_GetStringValue(
                                     cJSON_GetObjectItemCaseSensitive(in, "name"))),
                             "images") == 0 &&
                      cJSON_GetArraySize(dims) == 4 &&
                      cJSON_IsString(cJSON_GetArrayItem(dims, 0)) &&
                      cJSON_GetArrayItem(dims, 3)->valueint == c->image,
              what, "input is not images [N, 3, %d, %d]", c->image, c->image);
    const char *names[4] = {"features", "logits", "probs", "pool_indices"};
    int want = mode == LPT_VIT_PHASE2 ? 4 : 3;
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(j, "outputs");
    bool ok = cJSON_GetArraySize(outs) == want;
    for (int i = 0; i < want && ok; i++) {
        const cJSON *o = cJSON_GetArrayItem(outs, i);
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
        ok = nm && strcmp(nm, names[i]) == 0;
    }
    oc_expect(oc, ok, what, "outputs are not features, logits, probs[, pool_indices]");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
    const char *classes = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "classes"));
    cJSON *cl = classes ? cJSON_Parse(classes) : NULL;
    ok = cJSON_GetArraySize(cl) == c->classes;
    for (int k = 0; k < c->classes && ok; k++)
        ok = strcmp(ot_str(cJSON_GetStringValue(cJSON_GetArrayItem(cl, k))),
                    class_names[k]) == 0;
    oc_expect(oc, ok, what, "metadata 'classes' is not the class names: %s",
              classes ? classes : "(missing)");
    cJSON_Delete(cl);
    const char *pre = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta,
                                                                            "preprocessing"));
    oc_expect(oc, pre && strstr(pre, "\"mean\""), what, "metadata 'preprocessing' missing");
    cJSON_Delete(j);
}

/* Exports vit in `mode`, runs it under ONNX Runtime and compares with the reference. */
static void check_export(OpCheck *oc, OtEnv *env, LptVit *vit, const LptTensor *images,
                         const float *host_images, LptVitMode mode, const char *what, Ref *r)
{
    const LptVitConfig *c = lpt_vit_config(vit);
    LptError err = {0};
    char model[128];
    snprintf(model, sizeof model, "%s/%s.onnx", env->dir, what);
    for (char *s = model + strlen(env->dir) + 1; *s; s++)
        if (*s == ' ')
            *s = '_';
    if (!reference(oc, vit, images, mode, what, r))
        return;
    LptOnnxExpertOptions opt;
    lpt_onnx_expert_options_init(&opt, c);
    opt.mode = mode;
    opt.class_names = class_names;
    if (!oc_expect(oc, lpt_onnx_export_expert(vit, &opt, model, &err) == LPT_OK, what,
                   "export: %s", err.message))
        return;
    check_structure(oc, env, model, c, mode, what);
    if (!env->ort)
        return;

    int64_t dims[4] = {BATCH, 3, c->image, c->image};
    if (!ot_run_ort(oc, env, model, host_images, dims, 0, what))
        return;
    int K = c->classes, Cf = lpt_vit_feature_width(vit);
    float *f = ot_read_output(oc, env, "features", (size_t)BATCH * Cf, 4, what);
    float *z = ot_read_output(oc, env, "logits", (size_t)BATCH * K, 4, what);
    float *p = ot_read_output(oc, env, "probs", (size_t)BATCH * K, 4, what);
    int64_t *sel = mode == LPT_VIT_PHASE2
                       ? ot_read_output(oc, env, "pool_indices",
                                        (size_t)BATCH * c->pool_top_k, 8, what)
                       : NULL;
    if (f && z && p) {
        double df = ot_max_diff(f, r->features, (size_t)BATCH * Cf);
        double dz = ot_max_diff(z, r->logits, (size_t)BATCH * K);
        double dp = 0.0;
        int flips = 0;
        for (int b = 0; b < BATCH; b++) {
            for (int k = 0; k < K; k++) {
                double d = fabs(p[(size_t)b * K + k] - r->probs[(size_t)b * K + k]);
                dp = isnan(d) ? INFINITY : fmax(dp, d);
            }
            flips += ot_argmax_f(p + (size_t)b * K, K) != ot_argmax_d(r->probs + (size_t)b * K, K);
        }
        printf("%s: ONNX Runtime vs lpt [%s]: max |d prob| %.3g, max |d logit| %.3g, max "
               "|d feature| %.3g, label flips %d of %d\n",
               what, oc->backend, dp, dz, df, flips, BATCH);
        oc_expect(oc, dp <= PROB_TOL, what, "max |d prob| %g > %g", dp, PROB_TOL);
        oc_expect(oc, flips == 0, what, "%d label flips", flips);
        oc_expect(oc, dz <= VALUE_TOL, what, "max |d logit| %g > %g", dz, VALUE_TOL);
        oc_expect(oc, df <= VALUE_TOL, what, "max |d feature| %g > %g", df, VALUE_TOL);
    }
    if (mode == LPT_VIT_PHASE2 && sel && r->sel) {
        int bad = 0;
        for (int i = 0; i < BATCH * c->pool_top_k; i++)
            bad += sel[i] != r->sel[i];
        oc_expect(oc, bad == 0, what, "%d of %d chosen pool entries differ", bad,
                  BATCH * c->pool_top_k);
    }
    free(f);
    free(z);
    free(p);
    free(sel);
}

/* The largest |a - b| between two references' logits: the modes must differ. */
static void expect_differ(OpCheck *oc, const Ref *a, const Ref *b, int K, const char *what)
{
    if (!a->logits || !b->logits)
        return;
    double d = ot_max_diff(a->logits, b->logits, (size_t)BATCH * K);
    oc_expect(oc, d > 1e-3, what, "logits differ by only %g: the test does not exercise it", d);
}

static void check_expert(OpCheck *oc, OtEnv *env, const char *label, const LptVitConfig *cfg)
{
    LptVit *vit = ot_make_model(oc, cfg, true);
    if (!vit)
        return;
    size_t n_img = (size_t)BATCH * 3 * cfg->image * cfg->image;
    float *host = malloc(n_img * sizeof *host);
    oc_fill_uniform(oc, host, n_img, -2.0f, 2.0f);
    LptTensor images = oc_tensor(oc, "images", LPT_F32, n_img, host);
    Ref ref[3];
    const char *modes[3] = {"plain", "phase1", "phase2"};
    for (int m = 0; m < 3; m++) {
        char what[64];
        snprintf(what, sizeof what, "%s %s", label, modes[m]);
        check_export(oc, env, vit, &images, host, (LptVitMode)m, what, &ref[m]);
    }
    char what[64];
    snprintf(what, sizeof what, "%s: phase 1 vs plain", label);
    expect_differ(oc, &ref[0], &ref[1], cfg->classes, what);
    snprintf(what, sizeof what, "%s: phase 2 vs phase 1", label);
    expect_differ(oc, &ref[1], &ref[2], cfg->classes, what);
    for (int m = 0; m < 3; m++)
        ref_free(&ref[m]);
    free(host);
    lpt_vit_free(vit);
    oc_reset(oc);
}

/* ---- bad input -------------------------------------------------------------------------- */

/* The export fails with a message containing `needle` and the target's name, `path` keeps
 * `old` (or stays absent when old is NULL), and the directory has no temporary file. */
static void expect_refused(OpCheck *oc, OtEnv *env, LptVit *vit, const LptOnnxExpertOptions *opt,
                           const char *path, const char *old, const char *needle,
                           const char *what)
{
    LptError err = {0};
    LptStatus st = lpt_onnx_export_expert(vit, opt, path, &err);
    oc_expect(oc, st != LPT_OK && err.code == st, what, "accepted (status %d)", (int)st);
    oc_expect(oc, strstr(err.message, needle) && strstr(err.message, path), what,
              "message '%s' lacks '%s' or the file name", err.message, needle);
    size_t n = 0;
    char *text = tu_read_file(path, &n);
    if (old)
        oc_expect(oc, text && strcmp(text, old) == 0, what, "the existing file was changed");
    else
        oc_expect(oc, text == NULL, what, "a file was left at %s", path);
    free(text);
    oc_expect(oc, ot_count_entries(env->dir, ".tmp-") == 0, what, "a temporary file was left");
}

static void check_bad_input(OpCheck *oc, OtEnv *env)
{
    LptVitConfig cfg = ot_vision_config();
    LptVit *vit = ot_make_model(oc, &cfg, false);
    if (!vit)
        return;
    char path[128];
    snprintf(path, sizeof path, "%s/keep.onnx", env->dir);
    const char *old = "an earlier export";
    tu_write_file(path, old, strlen(old));
    LptOnnxExpertOptions opt;
    lpt_onnx_expert_options_init(&opt, &cfg);
    opt.class_names = class_names;
    oc_expect(oc, opt.mode == LPT_VIT_PHASE2 && opt.mean[0] == 0.5f && opt.prob_scale == 20.0f,
              "options init", "not phase 2, mean 0.5, scale 20");
    expect_refused(oc, env, vit, &opt, path, old, "head row 0 is all zero",
                   "never initialised");
    LptError err = {0};
    oc_expect(oc, lpt_vit_init_trainable(vit, 3, &err) == LPT_OK, "init", "%s", err.message);
    opt.mode = LPT_VIT_PHASE1;
    float *zero = calloc(64 * 4, sizeof *zero);
    for (int i = 0; i < cfg.depth; i++) {
        char name[32];
        snprintf(name, sizeof name, "prompt.%d", i);
        lpt_vit_set(vit, name, zero, (size_t)cfg.prompts * cfg.width, &err);
    }
    expect_refused(oc, env, vit, &opt, path, old, "shared prompts are all zero",
                   "zero prompts");
    opt.mode = LPT_VIT_PLAIN; /* plain mode does not use the prompts */
    oc_expect(oc, lpt_onnx_export_expert(vit, &opt, path, &err) == LPT_OK,
              "plain export with zero prompts", "%s", err.message);
    unlink(path);
    lpt_vit_init_trainable(vit, 3, &err);
    opt.mode = LPT_VIT_PHASE2;
    lpt_vit_set(vit, "keys", zero, (size_t)cfg.pool_size * cfg.width, &err);
    expect_refused(oc, env, vit, &opt, path, NULL, "pool key 0 is all zero", "zero keys");
    unlink(path);
    lpt_vit_init_trainable(vit, 3, &err);

    LptOnnxExpertOptions o2 = opt;
    o2.class_names = NULL;
    expect_refused(oc, env, vit, &o2, path, NULL, "no class names", "no class names");
    const char *short_names[6] = {"a", "b", NULL, "d", "e", "f"};
    o2.class_names = short_names;
    expect_refused(oc, env, vit, &o2, path, NULL, "class name 2 is missing", "a NULL name");
    o2 = opt;
    o2.prob_scale = 0.0f;
    expect_refused(oc, env, vit, &o2, path, NULL, "prob_scale", "prob_scale 0");
    o2 = opt;
    o2.std[1] = 0.0f;
    expect_refused(oc, env, vit, &o2, path, NULL, "std[1]", "std 0");
    o2 = opt;
    o2.mode = (LptVitMode)7;
    expect_refused(oc, env, vit, &o2, path, NULL, "unknown mode 7", "mode 7");

    /* write failures */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.onnx", env->dir);
    expect_refused(oc, env, vit, &opt, missing, NULL, "No such file", "missing directory");
    char as_dir[128];
    snprintf(as_dir, sizeof as_dir, "%s/a_directory", env->dir);
    mkdir(as_dir, 0700);
    LptStatus st = lpt_onnx_export_expert(vit, &opt, as_dir, &err);
    oc_expect(oc, st == LPT_ERR_IO && strstr(err.message, as_dir), "directory as target",
              "status %d: %s", (int)st, err.message);
    oc_expect(oc, ot_count_entries(env->dir, ".tmp-") == 0, "directory as target",
              "a temporary file was left");
    rmdir(as_dir);
    /* a file-size limit makes the write fail part way (EFBIG instead of SIGXFSZ) */
    struct rlimit saved, small;
    if (getrlimit(RLIMIT_FSIZE, &saved) == 0) {
        small = saved;
        small.rlim_cur = 4096;
        void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
            st = lpt_onnx_export_expert(vit, &opt, path, &err);
            setrlimit(RLIMIT_FSIZE, &saved);
            oc_expect(oc, st == LPT_ERR_IO && strstr(err.message, path) && err.detail == EFBIG,
                      "write failing part way", "status %d, detail %ld: %s", (int)st,
                      err.detail, err.message);
            size_t n = 0;
            char *left = tu_read_file(path, &n);
            oc_expect(oc, left == NULL && ot_count_entries(env->dir, ".tmp-") == 0,
                      "write failing part way", "a partial file was left");
            free(left);
        }
        signal(SIGXFSZ, old_handler);
    }
    lpt_vit_free(vit);
    free(zero);

    cfg.classes = 0;
    vit = lpt_vit_new(oc->be, &cfg, &err);
    if (vit)
        expect_refused(oc, env, vit, &opt, path, NULL, "no head", "no head");
    lpt_vit_free(vit);
    cfg = ot_vision_config();
    cfg.pool_size = 0;
    vit = ot_make_model(oc, &cfg, true);
    if (vit)
        expect_refused(oc, env, vit, &opt, path, NULL, "needs a prompt pool", "no pool");
    oc_expect_error(oc, "NULL model", lpt_onnx_export_expert(NULL, &opt, path, &err), &err,
                    "no model");
    oc_expect_error(oc, "empty path", lpt_onnx_export_expert(vit, &opt, "", &err), &err,
                    "path");
    lpt_vit_free(vit);
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OtEnv env;
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    if (!ot_env_init(&env, argc, argv))
        return 1;
    check_protobuf(&oc);
    LptVitConfig vision = ot_vision_config(), clip = ot_clip_config();
    check_expert(&oc, &env, "vision", &vision);
    check_expert(&oc, &env, "clip", &clip);
    check_bad_input(&oc, &env);
    return ot_env_finish(&env, oc_finish(&oc, "test_onnx"));
}

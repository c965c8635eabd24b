/* lpt_export.c: a run's export: the deployable model from the run, the artefact under a
 * temporary name, the parity check against the project's predictions, the exports row. See
 * lpt_export.h. */
#define _DEFAULT_SOURCE /* realpath() */
#include "lpt_export.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lpt_bundle.h"
#include "lpt_hash.h"
#include "lpt_image.h"
#include "lpt_model.h"
#include "lpt_onnx.h"
#include "lpt_prior.h"
#include "lpt_train.h"

void lpt_export_options_init(LptExportOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = LPT_STORE_EXPORT_BUNDLE;
    lpt_backend_options_init(&opt->backend);
}

void lpt_export_report_free(LptExportReport *r)
{
    if (!r)
        return;
    free(r->parity_json);
    free(r->prior_json);
    free(r);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reports progress; false when the export should stop (callback or cancel flag). */
static bool progress(const LptExportOptions *o, LptExportStage stage, int64_t done, int64_t total)
{
    if (o->cancel && atomic_load(o->cancel))
        return false;
    return !o->progress || o->progress(stage, done, total, o->user);
}

static LptStatus cancelled(LptError *err)
{
    return lpt_error_set(err, LPT_ERR_CANCELLED, 0, "export cancelled");
}

/* ---- the model from the run ------------------------------------------------------------- */

/* {project, run_id, exported_at, lpt_version, best_epochs, backbones} (malloc'd text). */
static char *lineage_json(const char *project, const LptTrainedRun *run)
{
    char abs[PATH_MAX];
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "project", realpath(project, abs) ? abs : project);
    cJSON_AddNumberToObject(root, "run_id", (double)run->run_id);
    cJSON_AddNumberToObject(root, "exported_at", (double)time(NULL));
    cJSON_AddStringToObject(root, "lpt_version", LPT_VERSION);
    cJSON *epochs = cJSON_AddObjectToObject(root, "best_epochs");
    cJSON *bb = cJSON_AddObjectToObject(root, "backbones");
    for (int e = 0; epochs && bb && e < LPT_TRAIN_EXPERTS; e++) {
        const LptTrainedExpert *x = &run->experts[e];
        if (!x->vit)
            continue;
        const char *name = lpt_store_expert_name((LptStoreExpert)e);
        cJSON_AddNumberToObject(epochs, name, x->best_epoch);
        cJSON *b = cJSON_AddObjectToObject(bb, name);
        cJSON_AddStringToObject(b, "path", x->backbone->path);
        cJSON_AddStringToObject(b, "sha256", x->backbone->sha256);
        cJSON_AddStringToObject(b, "name", x->backbone->name ? x->backbone->name : "");
    }
    if (epochs && run->scorer)
        cJSON_AddNumberToObject(epochs, "scorer", run->scorer_epoch);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* Moves the run's models, scorer and classes into a new model (run keeps what is left). */
static LptStatus model_from_run(LptTrainedRun *run, const LptPrior *prior, const char *prior_json,
                                char *lineage, LptModel **out, LptError *err)
{
    *out = NULL;
    LptModel *m = lpt_model_new(run->be, err);
    if (!m) {
        free(lineage);
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    }
    run->be = NULL; /* the model's now; the run's models follow before anything can fail */
    m->lineage_json = lineage;
    m->classes = run->num_classes;
    m->class_names = run->class_names;
    run->class_names = NULL;
    m->prob_scale = run->cfg.loss_scale;
    m->top_k = run->cfg.top_k < run->num_classes ? run->cfg.top_k : run->num_classes;
    bool ok = true;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        LptTrainedExpert *t = &run->experts[e];
        LptModelExpert *x = &m->expert[e];
        if (!t->vit)
            continue;
        x->vit = t->vit;
        x->weights = t->weights;
        t->vit = NULL;
        t->weights = NULL;
        x->mode = t->mode;
        memcpy(x->mean, t->mean, sizeof x->mean);
        memcpy(x->std, t->std, sizeof x->std);
        x->interp = LPT_INTERP_BILINEAR; /* the evaluation loader's (lpt_loader_config_init) */
        x->batch = t->eval_batch;
        x->best_epoch = t->best_epoch;
        x->backbone_path = strdup(t->backbone->path);
        x->backbone_name = strdup(t->backbone->name ? t->backbone->name : "");
        memcpy(x->backbone_sha256, t->backbone->sha256, sizeof x->backbone_sha256);
        ok = ok && x->backbone_path && x->backbone_name;
    }
    m->scorer = run->scorer;
    run->scorer = NULL;
    m->scorer_epoch = run->scorer_epoch;
    ok = ok && (m->run_config_json = strdup(run->config_json)) != NULL;
    if (ok && prior) {
        size_t bytes = (size_t)prior->classes * sizeof *m->prior_adjust;
        ok = (m->prior_adjust = malloc(bytes)) != NULL && (m->prior_json = strdup(prior_json));
        if (m->prior_adjust)
            memcpy(m->prior_adjust, prior->adjust, bytes);
    }
    LptStatus st = ok ? lpt_model_ready(m, err)
                      : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "export: out of memory");
    if (st != LPT_OK) {
        lpt_model_close(m);
        return st;
    }
    *out = m;
    return LPT_OK;
}

/* The fused ONNX graph (lpt_onnx_export_fused) of the model. */
static LptStatus write_onnx(const LptModel *m, const char *path, LptError *err)
{
    LptOnnxFusedOptions o;
    memset(&o, 0, sizeof o);
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        const LptModelExpert *x = &m->expert[e];
        if (!x->vit)
            continue;
        o.experts[e] = x->vit;
        LptOnnxExpertOptions *eo = &o.expert_opt[e];
        lpt_onnx_expert_options_init(eo, lpt_vit_config(x->vit));
        eo->mode = x->mode;
        memcpy(eo->mean, x->mean, sizeof eo->mean);
        memcpy(eo->std, x->std, sizeof eo->std);
        eo->interp = x->interp;
        eo->prob_scale = m->prob_scale;
        eo->class_names = (const char *const *)m->class_names;
    }
    o.scorer = m->scorer;
    o.class_names = (const char *const *)m->class_names;
    o.classes = m->classes;
    o.prior_adjust = m->prior_adjust;
    const char *meta[] = {"lineage",    m->lineage_json ? m->lineage_json : "null",
                          "prior",      m->prior_json ? m->prior_json : "null",
                          "run_config", m->run_config_json ? m->run_config_json : "null",
                          NULL}; /* the bundle's keys; the "lpt." ones are the graph's own */
    o.metadata = meta;
    return lpt_onnx_export_fused(&o, path, err);
}

/* ---- parity ----------------------------------------------------------------------------- */

/* Test images of the run without a recorded prediction. */
static LptStatus count_missing(LptStore *store, const LptTrainedRun *run, int64_t *missing,
                               LptError *err)
{
    *missing = 0;
    for (int64_t i = 0; i < run->image_count; i++) {
        LptStorePrediction *p = NULL;
        LPT_TRY(lpt_store_prediction_get(store, run->run_id, run->image_ids[i], &p, err));
        *missing += p == NULL;
        free(p);
    }
    return LPT_OK;
}

/* The first index of the largest value (the records' tie rule). */
static int argmax(const float *v, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

/* Compares the outputs of images [first, first + o->n) with their records into *p (the group
 * prompts too when `prompts`). */
static LptStatus compare_group(LptStore *store, const LptTrainedRun *run, const LptModel *m,
                               const LptModelOutputs *o, int64_t first, bool prompts, float *ref,
                               LptParity *p, LptError *err)
{
    int K = m->classes, E = m->experts;
    for (int64_t i = 0; i < o->n; i++) {
        int64_t id = run->image_ids[first + i];
        LptStorePrediction *pred = NULL;
        LPT_TRY(lpt_store_prediction_get(store, run->run_id, id, &pred, err));
        if (!pred || pred->num_classes != K) {
            free(pred);
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "parity: test image '%s' (id %lld) has %s",
                                 run->image_paths[first + i], (long long)id,
                                 pred ? "a record of another class count" : "no record");
        }
        const float *fused = o->fused + (size_t)i * K, *raw = o->fused_raw + (size_t)i * K;
        if (pred->fused_probs) {
            if (m->prior_adjust)
                lpt_prior_apply(m->prior_adjust, K, 1, pred->fused_probs, ref);
            else
                memcpy(ref, pred->fused_probs, (size_t)K * sizeof *ref);
            for (int k = 0; k < K; k++)
                p->max_abs_diff = fmax(p->max_abs_diff, fabs((double)ref[k] - fused[k]));
            p->flips += argmax(ref, K) != argmax(fused, K);
        } else { /* K > LPT_STORE_MAX_PROB_CLASSES: the recorded top-k, before the prior */
            for (int j = 0; j < pred->top_k; j++) {
                const LptStoreTopK *t = &pred->fused_topk[j];
                p->max_abs_diff =
                    fmax(p->max_abs_diff, fabs((double)t->prob - raw[t->class_index]));
            }
            p->flips += pred->fused_topk[0].class_index != argmax(raw, K);
        }
        for (int s = 0; s < E; s++) {
            LptStoreExpert e = m->which[s];
            if (pred->expert_probs[e]) {
                for (int k = 0; k < K; k++)
                    p->max_abs_diff_experts =
                        fmax(p->max_abs_diff_experts, fabs((double)pred->expert_probs[e][k] -
                                                           o->probs[s][(size_t)i * K + k]));
            }
            if (pred->scorer_weights)
                p->max_abs_diff_weights =
                    fmax(p->max_abs_diff_weights,
                         fabs((double)pred->scorer_weights[e] - o->weights[(size_t)i * E + s]));
            int tk = o->selection_k[s];
            bool same = pred->num_prompts[e] == tk;
            for (int j = 0; same && j < tk; j++)
                same = pred->prompts[e][j] == o->selection[s][(size_t)i * tk + j];
            p->prompt_mismatches += prompts && !same;
        }
        p->images++;
        free(pred);
    }
    return LPT_OK;
}

/* Decodes the run's test images [first, first + n) into images (the caller releases them,
 * after a failure too); LPT_ERR_CANCELLED when the export should stop. */
static LptStatus decode_group(const LptExportOptions *o, const LptTrainedRun *run, int64_t first,
                              int64_t n, LptImage *images, LptError *err)
{
    if (!progress(o, LPT_EXPORT_STAGE_PARITY, first, run->image_count))
        return cancelled(err);
    LptStatus st = LPT_OK;
    for (int64_t i = 0; st == LPT_OK && i < n; i++)
        st = lpt_image_decode_file(run->image_paths[first + i], &images[i], err);
    return st;
}

/* Opens the written bundle and runs it on the run's test images against their records. */
static LptStatus check_bundle(const LptExportOptions *o, LptStore *store, const LptTrainedRun *run,
                              const char *path, LptParity *p, LptError *err)
{
    LptModelOptions mo;
    lpt_model_options_init(&mo);
    mo.backend =
        o->backend.kind == LPT_BACKEND_VULKAN ? LPT_MODEL_BACKEND_VULKAN : LPT_MODEL_BACKEND_CPU;
    mo.device = o->backend.device;
    mo.threads = o->backend.threads;
    LptModel *m = lpt_bundle_read(path, &mo, err);
    if (!m)
        return lpt_error_prefix(err, "parity: opening the written bundle");
    snprintf(p->backend, sizeof p->backend, "%s", lpt_backend_description(m->be));
    int64_t G = lpt_model_group_size(m), N = run->image_count;
    LptImage *images = calloc((size_t)G, sizeof *images);
    float *ref = malloc((size_t)m->classes * sizeof *ref);
    LptStatus st = images && ref
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "parity: out of memory");
    p->max_abs_diff_experts = p->max_abs_diff_weights = 0.0;
    for (int64_t first = 0; st == LPT_OK && first < N; first += G) {
        int64_t n = N - first < G ? N - first : G;
        st = decode_group(o, run, first, n, images, err);
        LptModelOutputs out;
        if (st == LPT_OK)
            st = lpt_model_run(m, images, n, &out, err);
        if (st == LPT_OK) {
            st = compare_group(store, run, m, &out, first, true, ref, p, err);
            lpt_model_outputs_free(&out);
        }
        for (int64_t i = 0; i < n; i++)
            lpt_image_release(&images[i]);
    }
    if (st == LPT_OK)
        progress(o, LPT_EXPORT_STAGE_PARITY, N, N);
    p->checked = st == LPT_OK;
    p->passed = p->checked && p->flips == 0 && p->max_abs_diff <= LPT_PARITY_MAX_DIFF;
    snprintf(p->note, sizeof p->note,
             "the written bundle, opened again, on run %lld's %lld test images against the "
             "project's recorded predictions%s",
             (long long)run->run_id, (long long)N,
             m->prior_adjust ? " (the prior applied to them)" : "");
    free(images);
    free(ref);
    lpt_model_close(m);
    return st;
}

/* Runs `argv` (argv[0] found on PATH) with stdout and stderr into `log`; its exit status, or
 * -1 when it could not run. */
static int run_program(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Reads exactly n floats of dir/name.bin into out. */
static LptStatus read_output(const char *dir, const char *name, float *out, size_t n, LptError *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(out, sizeof *out, n, f) : 0;
    bool more = f && fgetc(f) != EOF;
    if (f)
        fclose(f);
    if (got != n || more)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "parity: ONNX Runtime's output '%s' does not hold %zu values", path,
                             n);
    return LPT_OK;
}

/* Runs the written ONNX file under ONNX Runtime (node, o->onnx_runner, o->onnx_runtime) on
 * the run's test images, group by group, against their records. m preprocesses them. */
static LptStatus check_onnx(const LptExportOptions *o, LptStore *store, const LptTrainedRun *run,
                            LptModel *m, const char *path, LptParity *p, LptError *err)
{
    int K = m->classes, E = m->experts;
    int S = lpt_vit_config(m->expert[m->which[0]].vit)->image;
    size_t plane = (size_t)3 * S * S;
    int64_t G = 256, N = run->image_count;
    char dir[PATH_MAX], input[PATH_MAX + 16], log[PATH_MAX + 16], dims[64];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/lpt-parity-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return lpt_error_set(err, LPT_ERR_IO, errno, "parity: cannot make a folder '%s': %s", dir,
                             strerror(errno));
    snprintf(input, sizeof input, "%s/images.bin", dir);
    snprintf(log, sizeof log, "%s/runner.log", dir);
    LptImage *images = calloc((size_t)G, sizeof *images);
    float *pix = malloc((size_t)G * plane * sizeof *pix);
    LptModelOutputs out;
    memset(&out, 0, sizeof out);
    out.fused = malloc((size_t)G * K * sizeof(float));
    out.weights = malloc((size_t)G * E * sizeof(float));
    float *expert = malloc((size_t)G * E * K * sizeof(float));
    float *ref = malloc((size_t)K * sizeof *ref);
    bool ok = images && pix && out.fused && out.weights && expert && ref;
    for (int s = 0; ok && s < E; s++)
        ok = (out.probs[s] = malloc((size_t)G * K * sizeof(float))) != NULL;
    out.fused_raw = out.fused; /* the graph gives only the adjusted probabilities */
    LptStatus st =
        ok ? LPT_OK : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "parity: out of memory");
    for (int64_t first = 0; st == LPT_OK && first < N; first += G) {
        int64_t n = N - first < G ? N - first : G;
        st = decode_group(o, run, first, n, images, err);
        if (st == LPT_OK)
            st = lpt_model_input_01(m, images, n, pix, err);
        for (int64_t i = 0; i < n; i++)
            lpt_image_release(&images[i]);
        if (st == LPT_OK) {
            FILE *f = fopen(input, "wb");
            bool wrote = f && fwrite(pix, sizeof *pix, (size_t)n * plane, f) == (size_t)n * plane;
            if (f)
                wrote = fclose(f) == 0 && wrote;
            if (!wrote)
                st = lpt_error_set(err, LPT_ERR_IO, errno, "parity: cannot write '%s'", input);
        }
        snprintf(dims, sizeof dims, "%lld,3,%d,%d", (long long)n, S, S);
        char *argv[] = {"node",
                        (char *)o->onnx_runner,
                        (char *)o->onnx_runtime,
                        (char *)path,
                        input,
                        dims,
                        dir,
                        "32",
                        NULL};
        int rc = st == LPT_OK ? run_program(argv, log) : 0;
        if (st == LPT_OK && rc != 0) {
            size_t len = 0;
            char text[300] = "";
            FILE *lf = fopen(log, "rb");
            if (lf) {
                fseek(lf, -(long)(sizeof text - 1), SEEK_END);
                len = fread(text, 1, sizeof text - 1, lf);
                fclose(lf);
            }
            text[len] = '\0';
            st = lpt_error_set(err, LPT_ERR_IO, 0,
                               "parity: ONNX Runtime (node %s) failed with status %d: %s",
                               o->onnx_runner, rc, text);
        }
        if (st == LPT_OK)
            st = read_output(dir, "probs", out.fused, (size_t)n * K, err);
        if (st == LPT_OK)
            st = read_output(dir, "expert_probs", expert, (size_t)n * E * K, err);
        if (st == LPT_OK)
            st = read_output(dir, "scorer_weights", out.weights, (size_t)n * E, err);
        for (int64_t i = 0; st == LPT_OK && i < n; i++)
            for (int s = 0; s < E; s++)
                memcpy(out.probs[s] + (size_t)i * K, expert + ((size_t)i * E + s) * K,
                       (size_t)K * sizeof(float));
        out.n = n;
        if (st == LPT_OK)
            st = compare_group(store, run, m, &out, first, false, ref, p, err);
    }
    if (st == LPT_OK)
        progress(o, LPT_EXPORT_STAGE_PARITY, N, N);
    p->checked = st == LPT_OK;
    p->passed = p->checked && p->flips == 0 && p->max_abs_diff <= LPT_PARITY_MAX_DIFF_ONNX;
    snprintf(p->backend, sizeof p->backend, "ONNX Runtime (%s, CPU execution provider)",
             o->onnx_runtime);
    snprintf(p->note, sizeof p->note,
             "the written ONNX file under ONNX Runtime on run %lld's %lld test images against "
             "the project's recorded predictions%s; target max |delta| %g",
             (long long)run->run_id, (long long)N,
             m->prior_adjust ? " (the prior applied to them)" : "", LPT_PARITY_MAX_DIFF_ONNX);
    for (int s = 0; s < E; s++)
        free(out.probs[s]);
    free(out.fused);
    free(out.weights);
    free(expert);
    free(ref);
    free(pix);
    free(images);
    unlink(input);
    unlink(log);
    const char *names[3] = {"probs", "expert_probs", "scorer_weights"};
    for (int i = 0; i < 3; i++) {
        char f[PATH_MAX + 32];
        snprintf(f, sizeof f, "%s/%s.bin", dir, names[i]);
        unlink(f);
    }
    rmdir(dir);
    return st;
}

static char *parity_json(const LptExportOptions *o, const LptParity *p, bool embedded,
                         const char *prior_json)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "checked", p->checked);
    cJSON_AddBoolToObject(root, "passed", p->passed);
    if (p->checked) {
        cJSON_AddNumberToObject(root, "images", (double)p->images);
        cJSON_AddNumberToObject(root, "max_abs_diff", p->max_abs_diff);
        cJSON_AddNumberToObject(root, "flips", (double)p->flips);
        cJSON_AddNumberToObject(root, "max_abs_diff_experts", p->max_abs_diff_experts);
        cJSON_AddNumberToObject(root, "max_abs_diff_weights", p->max_abs_diff_weights);
        cJSON_AddNumberToObject(root, "prompt_mismatches", (double)p->prompt_mismatches);
        cJSON_AddNumberToObject(root, "target_max_abs_diff",
                                o->format == LPT_STORE_EXPORT_ONNX ? LPT_PARITY_MAX_DIFF_ONNX
                                                                   : LPT_PARITY_MAX_DIFF);
        cJSON_AddStringToObject(root, "backend", p->backend);
    }
    cJSON_AddStringToObject(root, "note", p->note);
    cJSON_AddBoolToObject(root, "embedded_backbones",
                          o->format == LPT_STORE_EXPORT_BUNDLE && embedded);
    cJSON *prior = prior_json ? cJSON_Parse(prior_json) : NULL;
    if (prior)
        cJSON_AddItemToObject(root, "prior", prior);
    else
        cJSON_AddNullToObject(root, "prior");
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

/* ---- the export ------------------------------------------------------------------------- */

/* Evaluation options of run `run_id` on the test split over the export's open store;
 * `record`: record each image's prediction. */
static void eval_options(LptEvalOptions *eo, const LptExportOptions *o, LptStore *store,
                         int64_t run_id, bool record)
{
    lpt_eval_options_init(eo);
    eo->project = o->project;
    eo->shared_with = store;
    eo->run_id = run_id;
    eo->split = LPT_STORE_SPLIT_TEST;
    eo->record = record;
    eo->backend = o->backend;
    eo->cancel = o->cancel;
}

/* Records the app's predictions of the test images when some are missing. */
static LptStatus ensure_predictions(const LptExportOptions *o, LptStore *store,
                                    const LptTrainedRun *run, LptExportReport *r, LptError *err)
{
    int64_t missing = 0;
    LPT_TRY(count_missing(store, run, &missing, err));
    if (missing == 0)
        return LPT_OK;
    if (!progress(o, LPT_EXPORT_STAGE_EVALUATE, 0, run->image_count))
        return cancelled(err);
    LptEvalOptions eo;
    eval_options(&eo, o, store, run->run_id, true);
    LptEvalReport *rep = NULL;
    LptStatus st = lpt_train_evaluate(&eo, &rep, err);
    lpt_eval_report_free(rep);
    if (st != LPT_OK)
        return lpt_error_prefix(err, "recording the predictions the export is checked against");
    r->evaluated_first = true;
    return LPT_OK;
}

/* Everything after the store is open; the report is filled as far as it gets. */
static LptStatus export_with(const LptExportOptions *o, LptStore *store, LptExportReport *r,
                             LptError *err)
{
    if (!progress(o, LPT_EXPORT_STAGE_LOAD, 0, 1))
        return cancelled(err);
    LptEvalOptions eo;
    eval_options(&eo, o, store, o->run_id, false);
    LptTrainedRun *run = NULL;
    LPT_TRY(lpt_train_load_run(&eo, &run, err));
    r->run_id = run->run_id;
    LptStatus st =
        o->format == LPT_STORE_EXPORT_BUNDLE ? ensure_predictions(o, store, run, r, err) : LPT_OK;
    LptPrior *prior = NULL;
    if (st == LPT_OK && o->prior) {
        prior = lpt_prior_new(o->prior, (const char *const *)run->class_names, run->num_classes,
                              run->cfg.method, run->train_counts, err);
        if (!prior)
            st = err ? err->code : LPT_ERR_INVALID_ARGUMENT;
        else if (!(r->prior_json = lpt_prior_to_json(prior, (const char *const *)run->class_names)))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "export: out of memory");
    }
    /* full fine-tuning trained the backbone itself: its file is not the model's */
    bool embed = o->embed_backbones || run->cfg.method == LPT_METHOD_FULL_FINETUNE;
    LptModel *m = NULL;
    char *lineage = st == LPT_OK ? lineage_json(o->project, run) : NULL;
    if (st == LPT_OK && !lineage)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "export: out of memory");
    if (st == LPT_OK)
        st = model_from_run(run, prior, r->prior_json, lineage, &m, err);
    lpt_prior_free(prior);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.partial-%ld", o->out, (long)getpid());
    if (st == LPT_OK && !progress(o, LPT_EXPORT_STAGE_WRITE, 0, 1))
        st = cancelled(err);
    double t0 = now_seconds();
    if (st == LPT_OK)
        st = o->format == LPT_STORE_EXPORT_BUNDLE ? lpt_bundle_write(m, tmp, embed, err)
                                                  : write_onnx(m, tmp, err);
    r->seconds_write = now_seconds() - t0;
    bool onnx_check = o->format == LPT_STORE_EXPORT_ONNX && o->onnx_runtime && o->onnx_runner;
    if (!onnx_check) { /* a bundle's check opens the file with a model and backend of its own */
        lpt_model_close(m);
        m = NULL;
    }
    t0 = now_seconds();
    if (st == LPT_OK && o->format == LPT_STORE_EXPORT_BUNDLE) {
        st = check_bundle(o, store, run, tmp, &r->parity, err);
    } else if (st == LPT_OK && onnx_check && m->prior_adjust &&
               m->classes > LPT_STORE_MAX_PROB_CLASSES) {
        snprintf(r->parity.note, sizeof r->parity.note,
                 "parity not checked: with a prior and more than %d classes the project's "
                 "records (top-k only) cannot be adjusted",
                 LPT_STORE_MAX_PROB_CLASSES);
    } else if (st == LPT_OK && onnx_check) {
        st = ensure_predictions(o, store, run, r, err);
        if (st == LPT_OK)
            st = check_onnx(o, store, run, m, tmp, &r->parity, err);
    } else if (st == LPT_OK) {
        snprintf(r->parity.note, sizeof r->parity.note,
                 "parity not checked for ONNX: no ONNX Runtime given (--onnx-runtime DIR; "
                 "docs/export.md)");
    }
    lpt_model_close(m);
    r->seconds_parity = now_seconds() - t0;
    lpt_trained_run_free(run);
    if (st == LPT_OK && !(r->parity_json = parity_json(o, &r->parity, embed, r->prior_json)))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "export: out of memory");
    if (st == LPT_OK && r->parity.checked && !r->parity.passed)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "parity check failed: on %lld test images the exported model differs "
                           "from the project's predictions by up to %.3g (target %g) with %lld "
                           "top-1 flips, so '%s' was not written (were the predictions recorded "
                           "on another backend, or before the run's last training? `lpt eval "
                           "--backend %s` records them again)",
                           (long long)r->parity.images, r->parity.max_abs_diff,
                           o->format == LPT_STORE_EXPORT_ONNX ? LPT_PARITY_MAX_DIFF_ONNX
                                                              : LPT_PARITY_MAX_DIFF,
                           (long long)r->parity.flips, o->out,
                           o->backend.kind == LPT_BACKEND_VULKAN ? "vulkan" : "cpu");
    if (st == LPT_OK && rename(tmp, o->out) != 0)
        st = lpt_error_set(err, LPT_ERR_IO, errno, "cannot rename '%s' to '%s': %s", tmp, o->out,
                           strerror(errno));
    if (st != LPT_OK) {
        unlink(tmp);
        return st;
    }
    LPT_TRY(lpt_hash_sha256_file(o->out, r->sha256, err));
    char abs[PATH_MAX];
    LptStoreExport row;
    memset(&row, 0, sizeof row);
    row.run_id = r->run_id;
    row.format = o->format;
    row.path = realpath(o->out, abs) ? abs : o->out;
    memcpy(row.sha256, r->sha256, sizeof row.sha256);
    row.parity_json = r->parity_json;
    st = lpt_store_export_insert(store, &row, &r->export_id, err);
    if (st != LPT_OK)
        lpt_error_prefix(err, "'%s' was written but not recorded in the project", o->out);
    return st;
}

LptStatus lpt_export_run(const LptExportOptions *opt, LptExportReport **out, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (out)
        *out = NULL;
    if (!opt || !opt->project || !opt->out || !opt->out[0])
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "export: a project and an output file are required");
    if (opt->format != LPT_STORE_EXPORT_BUNDLE && opt->format != LPT_STORE_EXPORT_ONNX)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "export: the format must be bundle or onnx");
    if (opt->format == LPT_STORE_EXPORT_ONNX && opt->embed_backbones)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "export: --embed-backbones is for bundles (an ONNX file always "
                             "holds the whole model)");
    LptExportReport *r = calloc(1, sizeof *r);
    if (!r)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "export: out of memory");
    LptStore *store = opt->shared_with ? lpt_store_open_shared(opt->shared_with, err)
                                       : lpt_store_open(opt->project, LPT_STORE_OPEN, err);
    LptStatus st = store ? export_with(opt, store, r, err) : err->code;
    lpt_store_close(store);
    if (out && (st == LPT_OK || r->parity.checked))
        *out = r;
    else
        lpt_export_report_free(r);
    return st;
}

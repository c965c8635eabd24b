/* lpt_cmd_demo.c: `lpt demo [--out DIR] [--epochs-scale X] [--subset N] [--from DIR]
 * [--backbones DIR] [--no-gui] [--backend cpu|vulkan] [--device N] [--threads N]`: the whole
 * workflow on real data in one command (the README's main command).
 *
 * Steps, each reusing what an earlier `lpt demo` left in DIR (so a second run, or a run after
 * Ctrl-C, resumes instead of starting over):
 *   1. builds Fashion-MNIST-LT (lpt_dataset_build.h: IR and head count from the demo
 *      configuration; Debian's dataset-fashion-mnist, or --from) into DIR/<name>/;
 *   2. imports it into the project DIR/<name>.lptproj (split auto: its train and test, val
 *      taken from train) and sets the project's group thresholds to the classes' thirds by
 *      training count (ten classes: 3 many, 4 medium, 3 few; the 100 / 20 image thresholds of
 *      method.md would leave the few group empty);
 *   3. adds the demo backbones (lpt_backbone.h) from the data folder's backbones/ (or
 *      --backbones): the vision one is required; without the vision-language one the demo
 *      trains the vision expert alone and says so (the VL one needs CLIP's vocabulary
 *      beside it for its head's init from the class names, lpt_vl_head.h);
 *   4. trains LPT++ (phases 1 and 2 of each expert, then phase 3, the scorer) and, on the same
 *      vision backbone, the two baselines, the linear probe and the full fine-tune, with the
 *      demo configuration (data/demo-config.json; --epochs-scale multiplies every phase's
 *      epochs), evaluates the three runs on the balanced test split (recording every image's
 *      prediction in the project), prints the table (rows: linear probe, full fine-tune,
 *      vision expert, VL expert, LPT++ fused) with the wall-clock and CPU (user + system) time
 *      of each part, and writes DIR/<name>-results.json;
 *   5. opens lpt-studio on the project when there is a display ($DISPLAY or $WAYLAND_DISPLAY)
 *      and lpt-studio is built (unless --no-gui), else prints how to open it.
 *
 * Where the data folder is: the source tree's data/ when this lpt is the one in its build
 * tree (LPT_BUILD_DIR), else the installed one (LPT_INSTALL_DATA_DIR); lpt-studio likewise
 * (the build tree's, with its compiled GSettings schema, or the one beside this lpt).
 *
 * The demo configuration (one JSON object): "dataset" {imbalance_ratio, head_count},
 * "backbones" {vision, vl: {file, made_by}}, "lpt", "linear_probe" and "full_finetune" (run
 * configurations read onto their method's defaults, lpt_run_config.h), "why" (the reasons,
 * for people).
 *
 * Results JSON: {dataset: {name, folder, imbalance_ratio, head_count, classes: [names],
 * train_counts, val_images, test_images}, groups: {many_above, few_below, rule, many,
 * medium, few (class names)}, backbones: {vision, vl: {path, sha256, params} | null},
 * experts: ["vision"(, "vl")], note, epochs_scale, project, runs: {lpt, linear_probe,
 * full_finetune}, models: {linear_probe, full_finetune, vision, vl?, fused?: M}, seconds and
 * cpu_seconds: {dataset, import, lpt, linear_probe, full_finetune, eval, total} (wall clock,
 * and user + system CPU time of this process, all its threads; 0 for a part an earlier demo
 * did)} with M = {label, run, overall, balanced, many, medium, few, worst_recall,
 * worst_class, macro_f1, ece, trainable_params, train_seconds} (rates in [0, 1]; null when a
 * group has no class; train_seconds: the recorded epochs' wall clock). "vl" and "fused" are
 * there only when both experts are.
 *
 * Ctrl-C (SIGINT) or SIGTERM cancels between steps; the next `lpt demo` resumes. Exit 0, 1 on
 * an error or cancel, 2 on a usage error.
 */
#define _DEFAULT_SOURCE /* realpath(), setenv(), setsid() */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lpt_backbone.h"
#include "lpt_dataset_build.h"
#include "lpt_import.h"
#include "lpt_run_config.h"
#include "lpt_store.h"
#include "lpt_train.h"

#ifndef LPT_SOURCE_DIR
#define LPT_SOURCE_DIR "."
#endif
#ifndef LPT_BUILD_DIR
#define LPT_BUILD_DIR "build"
#endif
#ifndef LPT_INSTALL_DATA_DIR
#define LPT_INSTALL_DATA_DIR "/usr/local/share/lpt-studio"
#endif

#define USAGE                                                                                      \
    "usage: lpt demo [--out DIR] [--epochs-scale X] [--subset N] [--from DIR] [--backbones DIR]\n" \
    "                [--no-gui] [--backend cpu|vulkan] [--device N] [--threads N]\n"               \
    "  Builds Fashion-MNIST-LT (IR 100), imports it, adds the demo backbones, trains LPT++ and\n"  \
    "  the baselines (linear probe, full fine-tune), evaluates them on the balanced test set,\n"   \
    "  prints the table, writes the results JSON beside the project and opens lpt-studio on it.\n"\
    "  --out: where everything goes (default $XDG_CACHE_HOME/lpt-studio/demo); a second run\n"     \
    "    reuses it and resumes.\n"                                                                 \
    "  --epochs-scale X: every phase's epochs times X (at least 1 each; default 1).\n"             \
    "  --subset N: a smaller long tail, N images in the head class instead of 6000 (quick\n"       \
    "    checks).\n"                                                                               \
    "  --from DIR: the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist).\n"       \
    "  --backbones DIR: the demo backbones' folder (default: the data folder's backbones/)."

#define PATH_SIZE 4096

static atomic_bool *cancel_flag; /* lpt_cli_cancel_on_signals */

typedef struct DemoArgs {
    const char *out, *from, *backbones;
    double epochs_scale;
    int64_t subset;
    bool no_gui;
    LptBackendOptions backend;
} DemoArgs;

/* The demo's training runs, in the order they train. */
typedef enum DemoRun { RUN_LPT = 0, RUN_LINEAR_PROBE, RUN_FULL_FINETUNE, RUN_COUNT } DemoRun;

/* Their sections in the demo configuration (and keys in the results JSON). */
static const char *const run_keys[RUN_COUNT] = {"lpt", "linear_probe", "full_finetune"};

/* The parts of the demo whose time is reported. */
typedef enum DemoPart {
    PART_DATASET = 0,
    PART_IMPORT,
    PART_TRAIN_LPT, /* PART_TRAIN_LPT + DemoRun */
    PART_TRAIN_LINEAR_PROBE,
    PART_TRAIN_FULL_FINETUNE,
    PART_EVAL,
    PART_COUNT
} DemoPart;

static const char *const part_keys[PART_COUNT] = {"dataset",      "import",        "lpt",
                                                  "linear_probe", "full_finetune", "eval"};

/* One model of the table. */
typedef struct Row {
    const char *key, *label;
    int64_t run;
    const LptEvalMetrics *m;
    char *const *class_names;
    int64_t trainable;
    double train_seconds;
} Row;

typedef struct Demo {
    DemoArgs a;
    char data_dir[PATH_SIZE], out[PATH_SIZE], dataset[PATH_SIZE], project[PATH_SIZE];
    char results[PATH_SIZE], backbone_dir[PATH_SIZE];
    char backbone_file[LPT_STORE_NUM_EXPERTS][PATH_SIZE];
    bool has_backbone[LPT_STORE_NUM_EXPERTS];
    LptBackboneAdded backbone[LPT_STORE_NUM_EXPERTS];
    cJSON *config;          /* the demo configuration */
    double imbalance_ratio; /* of the dataset */
    int64_t head_count;     /* n_0 of the long tail */
    char *run_json[RUN_COUNT];
    LptGroupThresholds groups;
    int64_t train_counts[LPT_DATASET_CLASSES];
    int64_t split_images[LPT_STORE_SPLIT_COUNT];
    int64_t run_id[RUN_COUNT];
    LptEvalReport *report[RUN_COUNT];
    double wall[PART_COUNT], cpu[PART_COUNT]; /* seconds of each part */
    double t_start, cpu_start;
    bool progress_drawn, tty;
} Demo;

/* User + system CPU seconds of this process so far (every thread). */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Starts timing a part: *wall0, *cpu0 = now. */
static void part_begin(double *wall0, double *cpu0)
{
    *wall0 = lpt_cli_now_seconds();
    *cpu0 = cpu_seconds();
}

/* Adds the time since part_begin to the part. */
static void part_end(Demo *d, DemoPart part, double wall0, double cpu0)
{
    d->wall[part] += lpt_cli_now_seconds() - wall0;
    d->cpu[part] += cpu_seconds() - cpu0;
}

/* "1h02m", "3m05s", "12s" into buf. */
static const char *duration(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "-");
    else if (s >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%.0fs", s);
    return buf;
}

/* "12.34" (percent) or "-". */
static const char *pct(double v, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.2f", 100.0 * v);
    else
        snprintf(buf, size, "-");
    return buf;
}

static void clear_line(Demo *d)
{
    if (d->progress_drawn)
        fprintf(stderr, "\r\033[K");
    d->progress_drawn = false;
}

/* ---- where things are ------------------------------------------------------------------- */

/* The data folder: the source tree's when this executable lies in the build tree. */
static void find_data_dir(Demo *d)
{
    char exe[PATH_SIZE], build[PATH_SIZE];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    bool in_build = false;
    if (n > 0 && realpath(LPT_BUILD_DIR, build)) {
        exe[n] = '\0';
        size_t len = strlen(build);
        in_build = strncmp(exe, build, len) == 0 && exe[len] == '/';
    }
    snprintf(d->data_dir, sizeof d->data_dir, "%s",
             in_build ? LPT_SOURCE_DIR "/data" : LPT_INSTALL_DATA_DIR);
}

/* lpt-studio to launch (the build tree's or the one beside this lpt) and, for the build
 * tree's, the folder of its compiled GSettings schema; false when there is none. */
static bool find_studio(char *exe_out, size_t size, char *schema_dir, size_t schema_size)
{
    char exe[PATH_SIZE], build[PATH_SIZE];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    schema_dir[0] = '\0';
    if (realpath(LPT_BUILD_DIR, build) && strncmp(exe, build, strlen(build)) == 0 &&
        exe[strlen(build)] == '/') {
        snprintf(exe_out, size, "%s/src/app/lpt-studio", build);
        snprintf(schema_dir, schema_size, "%s/data", build);
    } else {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(exe_out, size, "%s/lpt-studio", slash ? exe : ".");
    }
    return access(exe_out, X_OK) == 0;
}

/* mkdir -p. */
static bool make_dirs(const char *path)
{
    char buf[PATH_SIZE];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(buf, 0777) == 0 || errno == EEXIST;
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* ---- the demo configuration ------------------------------------------------------------- */

/* The whole file (malloc'd, NUL-terminated) or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else {
            buf[size] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Multiplies an epoch count in section.key of a run configuration by the scale (at least
 * 1 when it was above 0); returns the new value (0 when the key is absent). */
static int scale_epochs(cJSON *run, const char *section, const char *key, double scale)
{
    cJSON *sec = cJSON_GetObjectItemCaseSensitive(run, section);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(sec, key);
    if (!cJSON_IsNumber(v) || v->valuedouble <= 0)
        return 0;
    double scaled = fmax(1.0, floor(v->valuedouble * scale + 0.5));
    cJSON_SetNumberValue(v, scaled);
    return (int)scaled;
}

/* One run configuration of the demo file, its epochs scaled (and the warm-up cut to leave an
 * epoch after it), experts set, checked; malloc'd JSON or NULL with a message printed. */
static char *run_config(const Demo *d, const char *section, bool vl)
{
    cJSON *src = cJSON_GetObjectItemCaseSensitive(d->config, section);
    if (!cJSON_IsObject(src)) {
        fprintf(stderr, "lpt demo: %s/demo-config.json has no \"%s\" object\n", d->data_dir,
                section);
        return NULL;
    }
    cJSON *run = cJSON_Duplicate(src, 1);
    int p1 = scale_epochs(run, "train", "phase1_epochs", d->a.epochs_scale);
    int p2 = scale_epochs(run, "train", "phase2_epochs", d->a.epochs_scale);
    scale_epochs(run, "scorer", "epochs", d->a.epochs_scale);
    cJSON *train = cJSON_GetObjectItemCaseSensitive(run, "train");
    cJSON *warmup = cJSON_GetObjectItemCaseSensitive(train, "warmup_epochs");
    int shortest = p2 > 0 && p2 < p1 ? p2 : p1;
    if (cJSON_IsNumber(warmup) && shortest > 0 && warmup->valuedouble > shortest - 1)
        cJSON_SetNumberValue(warmup, shortest - 1);
    cJSON *method = cJSON_GetObjectItemCaseSensitive(run, "method");
    bool lptpp = !cJSON_IsString(method) || strcmp(method->valuestring, "lpt++") == 0;
    if (lptpp) {
        cJSON_DeleteItemFromObjectCaseSensitive(run, "experts");
        cJSON *e = cJSON_AddObjectToObject(run, "experts");
        cJSON_AddBoolToObject(e, "vision", 1);
        cJSON_AddBoolToObject(e, "vl", vl);
    }
    char *json = cJSON_PrintUnformatted(run);
    cJSON_Delete(run);
    LptRunConfig cfg;
    lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
    LptError err = {0};
    char source[PATH_SIZE + 32];
    snprintf(source, sizeof source, "%s/demo-config.json \"%s\"", d->data_dir, section);
    if (json && lpt_run_config_parse(&cfg, json, source, &err) != LPT_OK) {
        fprintf(stderr, "lpt demo: %s\n", err.message);
        free(json);
        return NULL;
    }
    return json;
}

/* A string of the configuration at a.b.c, or "" */
static const char *config_string(const Demo *d, const char *a, const char *b, const char *c)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(d->config, a);
    v = cJSON_GetObjectItemCaseSensitive(v, b);
    if (c)
        v = cJSON_GetObjectItemCaseSensitive(v, c);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Reads the demo configuration and finds the backbones. */
static bool load_config(Demo *d)
{
    char path[PATH_SIZE + 32];
    snprintf(path, sizeof path, "%s/demo-config.json", d->data_dir);
    char *text = slurp(path);
    if (!text) {
        fprintf(stderr, "lpt demo: cannot read the demo configuration '%s': %s\n", path,
                strerror(errno));
        return false;
    }
    d->config = cJSON_Parse(text);
    free(text);
    cJSON *ds = cJSON_GetObjectItemCaseSensitive(d->config, "dataset");
    cJSON *ir = cJSON_GetObjectItemCaseSensitive(ds, "imbalance_ratio");
    cJSON *head = cJSON_GetObjectItemCaseSensitive(ds, "head_count");
    if (!cJSON_IsNumber(ir) || !cJSON_IsNumber(head) || ir->valuedouble < 1 ||
        head->valuedouble < 1) {
        fprintf(stderr,
                "lpt demo: '%s' is not a demo configuration (dataset.imbalance_ratio >= 1 and "
                "dataset.head_count >= 1 needed)\n",
                path);
        return false;
    }
    d->imbalance_ratio = ir->valuedouble;
    d->head_count = d->a.subset > 0 ? d->a.subset : (int64_t)head->valuedouble;
    if (d->a.backbones)
        snprintf(d->backbone_dir, sizeof d->backbone_dir, "%s", d->a.backbones);
    else
        snprintf(d->backbone_dir, sizeof d->backbone_dir, "%s/backbones", d->data_dir);
    const char *roles[LPT_STORE_NUM_EXPERTS] = {"vision", "vl"};
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        const char *file = config_string(d, "backbones", roles[e], "file");
        if (!*file) {
            fprintf(stderr, "lpt demo: '%s' names no backbones.%s.file\n", path, roles[e]);
            return false;
        }
        snprintf(d->backbone_file[e], sizeof d->backbone_file[e], "%s/%s", d->backbone_dir, file);
        d->has_backbone[e] = is_file(d->backbone_file[e]);
    }
    if (!d->has_backbone[LPT_STORE_EXPERT_VISION]) {
        fprintf(stderr,
                "lpt demo: the demo's vision backbone '%s' is missing.\n"
                "  Make it with:\n    %s\n",
                d->backbone_file[0], config_string(d, "backbones", "vision", "made_by"));
        return false;
    }
    for (int r = 0; r < RUN_COUNT; r++)
        if (!(d->run_json[r] = run_config(d, run_keys[r], d->has_backbone[LPT_STORE_EXPERT_VL])))
            return false;
    return true;
}

/* ---- dataset, project, backbones -------------------------------------------------------- */

static bool on_build_progress(int64_t done, int64_t total, void *user)
{
    Demo *d = user;
    if (d->tty) {
        fprintf(stderr, "\r\033[Kbuilding the dataset: %lld/%lld images", (long long)done,
                (long long)total);
        d->progress_drawn = true;
    }
    return !atomic_load(cancel_flag);
}

static bool build_dataset(Demo *d)
{
    char list[PATH_SIZE + 16];
    snprintf(list, sizeof list, "%s/test.txt", d->dataset);
    if (is_file(list)) {
        printf("dataset: %s (built before)\n", d->dataset);
        return true;
    }
    double w0, c0;
    part_begin(&w0, &c0);
    LptDatasetBuildOptions opt;
    lpt_dataset_build_options_init(&opt, LPT_DATASET_FASHION_MNIST_LT);
    opt.from = d->a.from;
    opt.out = d->dataset;
    opt.imbalance_ratio = d->imbalance_ratio;
    opt.head_count = d->head_count;
    opt.progress = on_build_progress;
    opt.progress_user = d;
    LptDatasetBuildResult res;
    LptError err = {0};
    LptStatus st = lpt_dataset_build(&opt, &res, &err);
    clear_line(d);
    if (st != LPT_OK) {
        fprintf(stderr, "lpt demo: building Fashion-MNIST-LT: %s\n", err.message);
        return false;
    }
    part_end(d, PART_DATASET, w0, c0);
    printf("dataset: %s: Fashion-MNIST-LT, IR %g, %lld training and %lld test images (%.0f s)\n",
           d->dataset, d->imbalance_ratio, (long long)res.train_total, (long long)res.test_total,
           d->wall[PART_DATASET]);
    return true;
}

static bool on_import_progress(const LptImportProgress *p, void *user)
{
    Demo *d = user;
    if (d->tty) {
        if (p->phase == LPT_IMPORT_PHASE_READING)
            fprintf(stderr, "\r\033[Kimporting: %lld files read", (long long)p->imported);
        else
            fprintf(stderr, "\r\033[Kimporting: writing %lld/%lld", (long long)p->imported,
                    (long long)p->to_write);
        d->progress_drawn = true;
    }
    return !atomic_load(cancel_flag);
}

/* Thresholds that put the classes into thirds by training count: the third with the most
 * images MANY, the third with the fewest FEW, the rest MEDIUM (10 classes: 3 / 4 / 3). */
static LptGroupThresholds thirds(const int64_t *counts, int K)
{
    int64_t sorted[LPT_DATASET_CLASSES];
    for (int i = 0; i < K; i++) { /* descending insertion sort */
        int j = i;
        for (; j > 0 && sorted[j - 1] < counts[i]; j--)
            sorted[j] = sorted[j - 1];
        sorted[j] = counts[i];
    }
    int third = K / 3;
    LptGroupThresholds g = {sorted[third], sorted[K - 1 - third]};
    if (g.few_below > g.many_above + 1)
        g.few_below = g.many_above + 1;
    return g;
}

/* Imports the dataset when the project has no images, sets the group thresholds, adds the
 * backbones. */
static bool prepare_project(Demo *d)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(d->project, LPT_STORE_OPEN_OR_CREATE, &err);
    if (!store) {
        fprintf(stderr, "lpt demo: %s\n", err.message);
        return false;
    }
    LptStoreClassCount *counts = NULL;
    size_t K = 0;
    LptStatus st = lpt_store_class_counts(store, &counts, &K, &err);
    bool ok = st == LPT_OK;
    if (ok && K == 0) {
        double w0, c0;
        part_begin(&w0, &c0);
        LptImportOptions io;
        lpt_import_options_init(&io);
        const char *sources[1] = {d->dataset};
        io.sources = sources;
        io.num_sources = 1;
        io.progress = on_import_progress;
        io.progress_user = d;
        io.cancel = cancel_flag;
        LptImportReport *rep = NULL;
        st = lpt_import_run(store, &io, &rep, &err);
        clear_line(d);
        part_end(d, PART_IMPORT, w0, c0);
        if (st == LPT_OK)
            printf("project: %s: imported %lld images (%.0f s); %s\n", d->project,
                   (long long)rep->imported, d->wall[PART_IMPORT], rep->split_note);
        lpt_import_report_free(rep);
        free(counts);
        counts = NULL;
        ok = st == LPT_OK && lpt_store_class_counts(store, &counts, &K, &err) == LPT_OK;
    } else if (ok) {
        printf("project: %s (imported before)\n", d->project);
    }
    if (ok && K != LPT_DATASET_CLASSES) {
        fprintf(stderr,
                "lpt demo: project '%s' has %zu classes, not the dataset's %d: remove it "
                "and run `lpt demo` again\n",
                d->project, K, LPT_DATASET_CLASSES);
        free(counts);
        lpt_store_close(store);
        return false;
    }
    for (size_t k = 0; ok && k < K; k++) {
        d->train_counts[k] = counts[k].count[LPT_STORE_SPLIT_TRAIN];
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
            d->split_images[s] += counts[k].count[s];
    }
    free(counts);
    if (ok) {
        d->groups = thirds(d->train_counts, (int)K);
        char many[32], few[32];
        snprintf(many, sizeof many, "%lld", (long long)d->groups.many_above);
        snprintf(few, sizeof few, "%lld", (long long)d->groups.few_below);
        ok = lpt_store_setting_set(store, "groups.many_above", many, &err) == LPT_OK &&
             lpt_store_setting_set(store, "groups.few_below", few, &err) == LPT_OK;
    }
    for (int e = 0; ok && e < LPT_STORE_NUM_EXPERTS; e++) {
        if (!d->has_backbone[e])
            continue;
        ok = lpt_backbone_add(store, (LptStoreExpert)e, d->backbone_file[e], NULL, &d->backbone[e],
                              &err) == LPT_OK;
        if (ok)
            printf("%s backbone: %s (%s, depth %d, width %d, image %d, %.2f M parameters)\n",
                   lpt_store_expert_name((LptStoreExpert)e), d->backbone_file[e],
                   lpt_weights_naming_id(d->backbone[e].naming), d->backbone[e].vit.depth,
                   d->backbone[e].vit.width, d->backbone[e].vit.image,
                   (double)d->backbone[e].params / 1e6);
    }
    lpt_store_close(store);
    if (!ok)
        fprintf(stderr, "lpt demo: %s\n", err.message);
    return ok;
}

/* ---- training and evaluation ------------------------------------------------------------ */

static bool on_train_progress(const LptTrainProgress *p, void *user)
{
    Demo *d = user;
    char eta[32], el[32];
    if (p->stage == LPT_TRAIN_STAGE_EPOCH) {
        clear_line(d);
        char vb[16];
        printf("  phase %d %-6s epoch %2d/%d  loss %.4f  val balanced %s%%  (%s)\n", p->phase,
               lpt_store_expert_name(p->expert), p->epoch + 1, p->epochs, p->loss,
               pct(p->val_balanced, vb, sizeof vb),
               duration(lpt_cli_now_seconds() - d->t_start, el, sizeof el));
        fflush(stdout);
    } else if (d->tty) {
        const char *what = p->stage == LPT_TRAIN_STAGE_TRAIN   ? "training"
                           : p->stage == LPT_TRAIN_STAGE_CACHE ? "caching features"
                                                               : "evaluating";
        fprintf(stderr, "\r\033[K  phase %d %-6s epoch %d/%d %s %lld/%lld  %.0f img/s  ETA %s",
                p->phase, lpt_store_expert_name(p->expert), p->epoch + 1, p->epochs, what,
                (long long)p->step, (long long)p->steps, p->images_per_second,
                duration(p->eta_seconds, eta, sizeof eta));
        d->progress_drawn = true;
    }
    return !atomic_load(cancel_flag);
}

/* Trains one of the demo's runs (resuming it when an earlier demo started it). */
static bool train(Demo *d, DemoRun which, const char *title)
{
    printf("%s\n", title);
    fflush(stdout);
    LptTrainOptions opt;
    lpt_train_options_init(&opt);
    opt.project = d->project;
    opt.config_json = d->run_json[which];
    opt.config_source = "the demo configuration";
    opt.backend = d->a.backend;
    opt.progress = on_train_progress;
    opt.user = d;
    opt.cancel = cancel_flag;
    LptError err = {0};
    double w0, c0;
    part_begin(&w0, &c0);
    LptStatus st = lpt_train_run(&opt, &d->run_id[which], &err);
    clear_line(d);
    part_end(d, (DemoPart)(PART_TRAIN_LPT + which), w0, c0);
    if (st != LPT_OK) {
        fprintf(stderr, "lpt demo: training: %s%s\n", err.message,
                st == LPT_ERR_CANCELLED ? " (`lpt demo` again resumes)" : "");
        return false;
    }
    return true;
}

static bool evaluate(Demo *d, DemoRun which)
{
    int64_t run = d->run_id[which];
    LptEvalOptions opt;
    lpt_eval_options_init(&opt);
    opt.project = d->project;
    opt.run_id = run;
    opt.backend = d->a.backend;
    opt.progress = on_train_progress;
    opt.user = d;
    opt.cancel = cancel_flag;
    LptError err = {0};
    double w0, c0;
    part_begin(&w0, &c0);
    LptStatus st = lpt_train_evaluate(&opt, &d->report[which], &err);
    clear_line(d);
    part_end(d, PART_EVAL, w0, c0);
    if (st != LPT_OK)
        fprintf(stderr, "lpt demo: evaluating run %lld: %s\n", (long long)run, err.message);
    return st == LPT_OK;
}

/* Seconds of the run's recorded epochs (training and validation; phase 3 included), of
 * one expert or (FUSED) of all; NaN when the project cannot be read. */
static double train_seconds(const Demo *d, int64_t run, LptStoreExpert expert)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(d->project, LPT_STORE_READ_ONLY, &err);
    LptStoreEpochMetrics *m = NULL;
    size_t n = 0;
    double s = NAN;
    if (store && lpt_store_metric_list(store, run, &m, &n, &err) == LPT_OK)
        s = 0;
    for (size_t i = 0; i < n; i++)
        if (m[i].split == LPT_STORE_SPLIT_TRAIN && isfinite(m[i].seconds) &&
            (expert == LPT_STORE_EXPERT_FUSED || m[i].expert == expert))
            s += m[i].seconds;
    free(m);
    lpt_store_close(store);
    return s;
}

/* The row of a baseline run (its vision expert). */
static Row baseline_row(const Demo *d, DemoRun which, const char *label)
{
    const LptEvalReport *r = d->report[which];
    return (Row){run_keys[which],
                 label,
                 d->run_id[which],
                 lpt_eval_metrics(r->evaluation->experts[LPT_STORE_EXPERT_VISION]),
                 r->class_names,
                 r->evaluation->trainable_params[LPT_STORE_EXPERT_VISION],
                 train_seconds(d, d->run_id[which], LPT_STORE_EXPERT_FUSED)};
}

/* The rows of the table: the baselines, each expert, and the fused model when both are. */
static int make_rows(const Demo *d, Row rows[5])
{
    const LptEvalReport *lpt = d->report[RUN_LPT];
    const LptTrainEvaluation *ev = lpt->evaluation;
    int64_t run = d->run_id[RUN_LPT];
    int n = 0;
    rows[n++] = baseline_row(d, RUN_LINEAR_PROBE, "linear probe (head only)");
    rows[n++] = baseline_row(d, RUN_FULL_FINETUNE, "full fine-tune (backbone + head)");
    bool both = ev->experts[LPT_STORE_EXPERT_VISION] && ev->experts[LPT_STORE_EXPERT_VL];
    const char *labels[LPT_STORE_NUM_EXPERTS] = {
        both ? "vision expert (LPT)" : "vision expert alone (LPT, no VL)", "VL expert"};
    const char *keys[LPT_STORE_NUM_EXPERTS] = {"vision", "vl"};
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        if (ev->experts[e])
            rows[n++] = (Row){keys[e],
                              labels[e],
                              run,
                              lpt_eval_metrics(ev->experts[e]),
                              lpt->class_names,
                              ev->trainable_params[e],
                              train_seconds(d, run, (LptStoreExpert)e)};
    if (both) {
        int64_t total = ev->trainable_params[0] + ev->trainable_params[1] +
                        ev->trainable_params[LPT_TRAIN_EXPERTS];
        rows[n++] = (Row){"fused",
                          "LPT++ fused",
                          run,
                          lpt_eval_metrics(ev->fused),
                          lpt->class_names,
                          total,
                          train_seconds(d, run, LPT_STORE_EXPERT_FUSED)};
    }
    return n;
}

/* ---- output ----------------------------------------------------------------------------- */

/* The names of the classes in a group, comma-separated, into buf. */
static const char *group_names(const Demo *d, LptGroup g, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k < LPT_DATASET_CLASSES; k++) {
        int64_t c = d->train_counts[k];
        LptGroup gk = c > d->groups.many_above  ? LPT_GROUP_MANY
                      : c < d->groups.few_below ? LPT_GROUP_FEW
                                                : LPT_GROUP_MEDIUM;
        if (gk == g && o < size)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
                                  d->report[RUN_LPT]->class_names[k]);
    }
    return buf;
}

static void print_table(const Demo *d, const Row *rows, int n)
{
    char b[5][16], t[32], names[3][512];
    printf("\nFashion-MNIST-LT (IR %g), balanced test set: %lld images, %d classes (percent)\n",
           d->imbalance_ratio, (long long)d->report[RUN_LPT]->images,
           d->report[RUN_LPT]->num_classes);
    printf("groups by training count, in thirds of the classes: many (> %lld images): %s; "
           "medium: %s; few (< %lld): %s\n",
           (long long)d->groups.many_above, group_names(d, LPT_GROUP_MANY, names[0], 512),
           group_names(d, LPT_GROUP_MEDIUM, names[1], 512), (long long)d->groups.few_below,
           group_names(d, LPT_GROUP_FEW, names[2], 512));
    printf("  %-36s %7s %8s %6s %6s %6s %10s %7s\n", "model", "overall", "balanced", "many",
           "medium", "few", "trainable", "train");
    for (int i = 0; i < n; i++) {
        const LptEvalMetrics *m = rows[i].m;
        printf("  %-36s %7s %8s %6s %6s %6s %10lld %7s\n", rows[i].label, pct(m->overall, b[0], 16),
               pct(m->balanced, b[1], 16), pct(m->many, b[2], 16), pct(m->medium, b[3], 16),
               pct(m->few, b[4], 16), (long long)rows[i].trainable,
               duration(rows[i].train_seconds, t, sizeof t));
    }
    printf("backbone parameters (frozen, except in the full fine-tune): vision %lld",
           (long long)d->backbone[0].params);
    if (d->has_backbone[LPT_STORE_EXPERT_VL])
        printf(", VL image tower %lld", (long long)d->backbone[1].params);
    printf("; train = the recorded epochs' wall-clock time (validation included)\n");
    static const char *const titles[PART_COUNT] = {
        "dataset", "import", "LPT++", "linear probe", "full fine-tune", "evaluation"};
    char w[32], c[32];
    printf("time, wall clock / CPU (user + system, all threads):");
    for (int i = 0; i < PART_COUNT; i++)
        if (d->wall[i] > 0)
            printf(" %s %s / %s,", titles[i], duration(d->wall[i], w, sizeof w),
                   duration(d->cpu[i], c, sizeof c));
    printf(" total %s / %s\n", duration(lpt_cli_now_seconds() - d->t_start, w, sizeof w),
           duration(cpu_seconds() - d->cpu_start, c, sizeof c));
    if (!d->has_backbone[LPT_STORE_EXPERT_VL])
        printf("note: no vision-language demo backbone (%s), so this is LPT++ with the vision "
               "expert alone: no VL expert, no scorer, no fused model.\n  Make it with: %s\n",
               d->backbone_file[LPT_STORE_EXPERT_VL],
               config_string(d, "backbones", "vl", "made_by"));
}

/* A number, or null when it is not finite (not measured). */
static void add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *row_json(const Row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddNumberToObject(o, "run", (double)r->run);
    add_number(o, "overall", r->m->overall);
    add_number(o, "balanced", r->m->balanced);
    add_number(o, "many", r->m->many);
    add_number(o, "medium", r->m->medium);
    add_number(o, "few", r->m->few);
    add_number(o, "worst_recall", r->m->worst_recall);
    if (r->m->worst_class >= 0)
        cJSON_AddStringToObject(o, "worst_class", r->class_names[r->m->worst_class]);
    else
        cJSON_AddNullToObject(o, "worst_class");
    add_number(o, "macro_f1", r->m->macro_f1);
    add_number(o, "ece", r->m->ece);
    cJSON_AddNumberToObject(o, "trainable_params", (double)r->trainable);
    add_number(o, "train_seconds", r->train_seconds);
    return o;
}

static cJSON *string_array(char *const *names, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
    return a;
}

static bool write_results(const Demo *d, const Row *rows, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *ds = cJSON_AddObjectToObject(root, "dataset");
    cJSON_AddStringToObject(ds, "name", "fashion-mnist-lt");
    cJSON_AddStringToObject(ds, "folder", d->dataset);
    cJSON_AddNumberToObject(ds, "imbalance_ratio", d->imbalance_ratio);
    cJSON_AddNumberToObject(ds, "head_count", (double)d->head_count);
    cJSON_AddItemToObject(ds, "classes",
                          string_array(d->report[RUN_LPT]->class_names,
                                       d->report[RUN_LPT]->num_classes));
    cJSON *tc = cJSON_AddArrayToObject(ds, "train_counts");
    for (int k = 0; k < LPT_DATASET_CLASSES; k++)
        cJSON_AddItemToArray(tc, cJSON_CreateNumber((double)d->train_counts[k]));
    cJSON_AddNumberToObject(ds, "val_images", (double)d->split_images[LPT_STORE_SPLIT_VAL]);
    cJSON_AddNumberToObject(ds, "test_images", (double)d->report[RUN_LPT]->images);
    cJSON *g = cJSON_AddObjectToObject(root, "groups");
    cJSON_AddNumberToObject(g, "many_above", (double)d->groups.many_above);
    cJSON_AddNumberToObject(g, "few_below", (double)d->groups.few_below);
    cJSON_AddStringToObject(g, "rule", "thirds of the classes by training count");
    char names[512];
    for (int i = 0; i < LPT_GROUP_COUNT; i++)
        cJSON_AddStringToObject(g, lpt_group_name((LptGroup)i),
                                group_names(d, (LptGroup)i, names, sizeof names));
    cJSON *bb = cJSON_AddObjectToObject(root, "backbones");
    cJSON *experts = cJSON_AddArrayToObject(root, "experts");
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        const char *name = lpt_store_expert_name((LptStoreExpert)e);
        if (!d->has_backbone[e]) {
            cJSON_AddNullToObject(bb, name);
            continue;
        }
        cJSON_AddItemToArray(experts, cJSON_CreateString(name));
        cJSON *b = cJSON_AddObjectToObject(bb, name);
        cJSON_AddStringToObject(b, "path", d->backbone_file[e]);
        cJSON_AddStringToObject(b, "sha256", d->backbone[e].sha256);
        cJSON_AddNumberToObject(b, "params", (double)d->backbone[e].params);
    }
    cJSON_AddStringToObject(root, "note",
                            d->has_backbone[LPT_STORE_EXPERT_VL]
                                ? "LPT++ with both experts and the scorer"
                                : "no vision-language demo backbone: LPT++ with the vision "
                                  "expert alone (no VL expert, no scorer, no fused model)");
    cJSON_AddNumberToObject(root, "epochs_scale", d->a.epochs_scale);
    cJSON_AddStringToObject(root, "project", d->project);
    cJSON *runs = cJSON_AddObjectToObject(root, "runs");
    for (int r = 0; r < RUN_COUNT; r++)
        cJSON_AddNumberToObject(runs, run_keys[r], (double)d->run_id[r]);
    cJSON *models = cJSON_AddObjectToObject(root, "models");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToObject(models, rows[i].key, row_json(&rows[i]));
    cJSON *sec = cJSON_AddObjectToObject(root, "seconds");
    cJSON *cpu = cJSON_AddObjectToObject(root, "cpu_seconds");
    for (int i = 0; i < PART_COUNT; i++) {
        add_number(sec, part_keys[i], d->wall[i]);
        add_number(cpu, part_keys[i], d->cpu[i]);
    }
    cJSON_AddNumberToObject(sec, "total", lpt_cli_now_seconds() - d->t_start);
    add_number(cpu, "total", cpu_seconds() - d->cpu_start);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char tmp[PATH_SIZE + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", d->results);
    FILE *f = text ? fopen(tmp, "w") : NULL;
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = f && fclose(f) == 0 && ok && rename(tmp, d->results) == 0;
    if (!ok) {
        fprintf(stderr, "lpt demo: cannot write '%s': %s\n", d->results, strerror(errno));
        unlink(tmp);
    }
    free(text);
    return ok;
}

/* Starts lpt-studio on the project, detached, its output in DIR/lpt-studio.log. */
static void open_gui(const Demo *d)
{
    char exe[PATH_SIZE], schema[PATH_SIZE], log[PATH_SIZE + 32];
    bool display = (getenv("DISPLAY") && *getenv("DISPLAY")) ||
                   (getenv("WAYLAND_DISPLAY") && *getenv("WAYLAND_DISPLAY"));
    bool studio = find_studio(exe, sizeof exe, schema, sizeof schema);
    if (d->a.no_gui || !display || !studio) {
        printf("open it in the app: %s %s\n", studio ? exe : "lpt-studio", d->project);
        return;
    }
    snprintf(log, sizeof log, "%s/lpt-studio.log", d->out);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0 && null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (schema[0])
            setenv("GSETTINGS_SCHEMA_DIR", schema, 1);
        execl(exe, exe, d->project, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        printf("opened lpt-studio on the project (its messages: %s)\n", log);
    else
        printf("could not start lpt-studio (%s): open it with %s %s\n", strerror(errno), exe,
               d->project);
}

/* ---- the command ------------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, DemoArgs *a)
{
    memset(a, 0, sizeof *a);
    a->epochs_scale = 1.0;
    lpt_backend_options_init(&a->backend);
    if (!lpt_cli_backend_options(&argc, argv, &a->backend))
        return LPT_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has = i + 1 < argc;
        char *end;
        if (lpt_cli_is_help(o)) {
            lpt_cli_help(USAGE);
            return -1;
        } else if (strcmp(o, "--no-gui") == 0) {
            a->no_gui = true;
        } else if (strcmp(o, "--out") == 0 && has) {
            a->out = argv[++i];
        } else if (strcmp(o, "--from") == 0 && has) {
            a->from = argv[++i];
        } else if (strcmp(o, "--backbones") == 0 && has) {
            a->backbones = argv[++i];
        } else if (strcmp(o, "--epochs-scale") == 0 && has) {
            a->epochs_scale = strtod(argv[++i], &end);
            if (*end || !(a->epochs_scale > 0 && a->epochs_scale <= 100))
                return lpt_cli_usage_error("demo", "--epochs-scale takes a number in (0, 100]");
        } else if (strcmp(o, "--subset") == 0 && has) {
            long long n = strtoll(argv[++i], &end, 10);
            if (*end || n < 1 || n > 6000)
                return lpt_cli_usage_error("demo", "--subset takes a head-class count, 1-6000");
            a->subset = n;
        } else {
            return lpt_cli_unexpected("demo", o, USAGE);
        }
    }
    return LPT_EXIT_OK;
}

/* DIR, the dataset, the project and the results file. */
static bool set_paths(Demo *d)
{
    if (d->a.out) {
        snprintf(d->out, sizeof d->out, "%s", d->a.out);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(d->out, sizeof d->out, "%s/lpt-studio/demo", xdg);
        else if (home && *home)
            snprintf(d->out, sizeof d->out, "%s/.cache/lpt-studio/demo", home);
        else
            snprintf(d->out, sizeof d->out, "lpt-demo");
    }
    if (!make_dirs(d->out)) {
        fprintf(stderr, "lpt demo: cannot create '%s': %s\n", d->out, strerror(errno));
        return false;
    }
    char real[PATH_SIZE];
    if (realpath(d->out, real))
        snprintf(d->out, sizeof d->out, "%s", real);
    char name[64];
    if (d->a.subset > 0)
        snprintf(name, sizeof name, "fashion-mnist-lt-head%lld", (long long)d->head_count);
    else
        snprintf(name, sizeof name, "fashion-mnist-lt");
    snprintf(d->dataset, sizeof d->dataset, "%s/%s", d->out, name);
    snprintf(d->project, sizeof d->project, "%s/%s" LPT_STORE_EXTENSION, d->out, name);
    snprintf(d->results, sizeof d->results, "%s/%s-results.json", d->out, name);
    return true;
}

static void demo_free(Demo *d)
{
    cJSON_Delete(d->config);
    for (int r = 0; r < RUN_COUNT; r++) {
        free(d->run_json[r]);
        lpt_eval_report_free(d->report[r]);
    }
}

int lpt_cmd_demo(int argc, char **argv)
{
    Demo d;
    memset(&d, 0, sizeof d);
    int code = parse_args(argc, argv, &d.a);
    if (code != LPT_EXIT_OK)
        return code < 0 ? LPT_EXIT_OK : code;
    part_begin(&d.t_start, &d.cpu_start);
    d.tty = isatty(STDERR_FILENO);
    cancel_flag = lpt_cli_cancel_on_signals();
    find_data_dir(&d);
    bool ok = load_config(&d) && set_paths(&d) && build_dataset(&d) && prepare_project(&d);
    if (ok && !d.has_backbone[LPT_STORE_EXPERT_VL])
        printf("no vision-language demo backbone (%s): training LPT++ with the vision expert "
               "alone (no VL expert, no scorer)\n",
               d.backbone_file[LPT_STORE_EXPERT_VL]);
    ok = ok && train(&d, RUN_LPT,
                     d.has_backbone[LPT_STORE_EXPERT_VL]
                         ? "LPT++: phases 1 and 2 of each expert, then phase 3 (the scorer)"
                         : "LPT++ with the vision expert alone: phases 1 and 2");
    ok = ok && train(&d, RUN_LINEAR_PROBE,
                     "baseline: linear probe (the vision backbone's head alone)");
    ok = ok && train(&d, RUN_FULL_FINETUNE,
                     "baseline: full fine-tune (every weight of the vision backbone and its head)");
    for (int r = 0; ok && r < RUN_COUNT; r++)
        ok = evaluate(&d, (DemoRun)r);
    if (ok) {
        Row rows[5];
        int n = make_rows(&d, rows);
        print_table(&d, rows, n);
        ok = write_results(&d, rows, n);
        char t[32];
        if (ok)
            printf("results: %s (the demo took %s)\n", d.results,
                   duration(lpt_cli_now_seconds() - d.t_start, t, sizeof t));
    }
    if (ok)
        open_gui(&d);
    demo_free(&d);
    return ok ? LPT_EXIT_OK : LPT_EXIT_ERROR;
}

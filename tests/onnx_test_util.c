/* onnx_test_util.c: helpers of the ONNX tests (see onnx_test_util.h). */
#include "onnx_test_util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- environment -------------------------------------------------------------------------- */

bool ot_env_init(OtEnv *env, int argc, char **argv)
{
    memset(env, 0, sizeof *env);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--ort") == 0)
            env->ort = argv[i + 1];
        else if (strcmp(argv[i], "--runner") == 0)
            env->runner = argv[i + 1];
        else if (strcmp(argv[i], "--checker") == 0)
            env->checker = argv[i + 1];
    }
    if (!env->runner)
        env->ort = NULL;
    snprintf(env->dir, sizeof env->dir, "/tmp/lpt-onnx-XXXXXX");
    if (!mkdtemp(env->dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return false;
    }
    return true;
}

int ot_env_finish(OtEnv *env, int rc)
{
    tu_remove_tree(env->dir);
    if (!env->ort)
        printf("ONNX Runtime checks skipped: onnxruntime-node is not available (node/npm "
               "missing or offline)\n");
    return rc == 0 && !env->ort ? 77 : rc;
}

/* ---- processes and files ---------------------------------------------------------------- */

int ot_run(char *const argv[])
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ot_count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

const char *ot_str(const char *s)
{
    return s ? s : "";
}

/* ---- models ----------------------------------------------------------------------------- */

LptVitConfig ot_vision_config(void)
{
    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.depth = 4;
    c.width = 32;
    c.heads = 4;
    c.mlp = 64;
    c.patch = 4;
    c.image = 16;
    c.prompts = 3;
    c.adapter_rank = 4;
    c.pool_size = 5;
    c.pool_top_k = 2;
    c.classes = 6;
    return c;
}

LptVitConfig ot_clip_config(void)
{
    LptVitConfig c;
    lpt_vit_config_init(&c);
    c.depth = 3;
    c.width = 24;
    c.heads = 3;
    c.mlp = 48;
    c.patch = 4;
    c.image = 12;
    c.eps = 1e-5f;
    c.act = LPT_VIT_ACT_QUICK_GELU;
    c.clip_style = true;
    c.proj_dim = 16;
    c.prompts = 2;
    c.adapter_rank = 2;
    c.pool_size = 4;
    c.pool_top_k = 2;
    c.classes = 5;
    return c;
}

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), m = strlen(end);
    return n >= m && strcmp(s + n - m, end) == 0;
}

/* Random values for the tensor `name` of count n (see ot_make_model). */
static void random_tensor(OpCheck *oc, const LptVitConfig *c, const char *name, float *v,
                          size_t n)
{
    int C = c->width;
    double fan = 0.0;
    if (strstr(name, "ln") || strncmp(name, "norm.", 5) == 0) {
        if (ends_with(name, ".weight")) {
            oc_fill_uniform(oc, v, n, 0.8f, 1.2f);
            return;
        }
    } else if (ends_with(name, ".scale")) {
        v[0] = 0.7f;
        return;
    } else if (strcmp(name, "patch.weight") == 0) {
        fan = 3.0 * c->patch * c->patch;
    } else if (strstr(name, "fc2.weight")) {
        fan = c->mlp;
    } else if (strstr(name, "up.weight")) {
        fan = c->adapter_rank;
    } else if (ends_with(name, ".weight") || strcmp(name, "proj") == 0) {
        fan = C;
    }
    if (ends_with(name, ".bias")) {
        oc_fill_uniform(oc, v, n, -0.1f, 0.1f);
    } else if (fan > 0.0) {
        float a = (float)sqrt(3.0 / fan);
        oc_fill_uniform(oc, v, n, -a, a);
    } else {
        oc_fill_uniform(oc, v, n, -1.0f, 1.0f);
    }
}

LptVit *ot_make_model(OpCheck *oc, const LptVitConfig *cfg, bool trainable)
{
    LptError err = {0};
    LptVit *vit = lpt_vit_new(oc->be, cfg, &err);
    if (!oc_expect(oc, vit != NULL, "model", "lpt_vit_new: %s", err.message))
        return NULL;
    for (int i = 0; lpt_vit_tensor_name(vit, i); i++) {
        if (lpt_vit_tensor_trainable(vit, i) && !trainable)
            continue;
        const char *name = lpt_vit_tensor_name(vit, i);
        size_t n = lpt_vit_tensor(vit, name)->count;
        float *v = malloc(n * sizeof *v);
        random_tensor(oc, cfg, name, v, n);
        LptStatus st = lpt_vit_set(vit, name, v, n, &err);
        free(v);
        if (!oc_expect(oc, st == LPT_OK, name, "set: %s", err.message)) {
            lpt_vit_free(vit);
            return NULL;
        }
    }
    return vit;
}

/* ---- ONNX Runtime and the checker ------------------------------------------------------- */

bool ot_run_ort(OpCheck *oc, OtEnv *env, const char *model, const float *input,
                const int64_t dims[4], int chunk, const char *what)
{
    char in_path[128], out_dir[128], dims_text[96], chunk_text[16];
    snprintf(in_path, sizeof in_path, "%s/input.bin", env->dir);
    snprintf(out_dir, sizeof out_dir, "%s/out", env->dir);
    snprintf(dims_text, sizeof dims_text, "%lld,%lld,%lld,%lld", (long long)dims[0],
             (long long)dims[1], (long long)dims[2], (long long)dims[3]);
    size_t n = (size_t)(dims[0] * dims[1] * dims[2] * dims[3]);
    tu_remove_tree(out_dir);
    mkdir(out_dir, 0700);
    if (!oc_expect(oc, tu_write_file(in_path, input, n * sizeof(float)), what,
                   "cannot write %s", in_path))
        return false;
    snprintf(chunk_text, sizeof chunk_text, "%d", chunk);
    char *argv[] = {"node", (char *)env->runner, (char *)env->ort, (char *)model, in_path,
                    dims_text, out_dir, chunk > 0 ? chunk_text : NULL, NULL};
    int rc = ot_run(argv);
    return oc_expect(oc, rc == 0, what, "onnx_run.js: exit status %d", rc);
}

void *ot_read_output(OpCheck *oc, const OtEnv *env, const char *name, size_t n, size_t size,
                     const char *what)
{
    char path[256];
    snprintf(path, sizeof path, "%s/out/%s.bin", env->dir, name);
    size_t got = 0;
    void *data = tu_read_file(path, &got);
    if (!oc_expect(oc, data && got == n * size, what, "output %s: %zu bytes, want %zu", name,
                   data ? got : 0, n * size)) {
        free(data);
        return NULL;
    }
    return data;
}

cJSON *ot_checker_report(OpCheck *oc, OtEnv *env, const char *model, const char *what)
{
    if (!env->checker)
        return NULL;
    char report[128];
    snprintf(report, sizeof report, "%s/report.json", env->dir);
    unlink(report);
    char *argv[] = {(char *)env->checker, (char *)model, report, NULL}; /* #!/usr/bin/python3 */
    int rc = ot_run(argv);
    if (rc == 77) {
        printf("%s: structural check skipped (python3-onnx not installed)\n", what);
        return NULL;
    }
    if (!oc_expect(oc, rc == 0, what, "onnx checker: exit status %d", rc))
        return NULL;
    env->checker_ran = true;
    size_t n = 0;
    char *text = tu_read_file(report, &n);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    oc_expect(oc, j != NULL, what, "no checker report");
    return j;
}

double ot_max_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d))
            return INFINITY;
        m = fmax(m, d);
    }
    return m;
}

int ot_argmax_f(const float *p, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

int ot_argmax_d(const double *p, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

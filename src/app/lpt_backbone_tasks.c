/* lpt_backbone_tasks.c: backbone work on worker threads (see the header). */
#define _DEFAULT_SOURCE /* realpath() */
#include "lpt_backbone_tasks.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_backbone.h"
#include "lpt_backend.h"
#include "lpt_vit.h"

void lpt_backbone_details_free(LptBackboneDetails *details)
{
    if (details == NULL)
        return;
    g_free(details->path);
    g_free(details->prefix);
    g_free(details->config_path);
    g_free(details->heads_from);
    g_free(details);
}

int lpt_backbone_details_feature_width(const LptBackboneDetails *details)
{
    return details->vit.clip_style ? details->vit.proj_dim : details->vit.width;
}

static GError *core_error(const LptError *err)
{
    GError *error = NULL;
    lpt_app_error_from_core(&error, err);
    return error;
}

/* ---- Inspect ---- */

typedef struct {
    char *path;
} InspectTask;

static void inspect_task_free(gpointer data)
{
    InspectTask *task = data;
    g_free(task->path);
    g_free(task);
}

/* Opens and loads task->path; the details, or NULL with *err set. */
static LptBackboneDetails *inspect(const InspectTask *task, LptError *err)
{
    LptWeights *weights = lpt_weights_open(task->path, NULL, err);
    if (weights == NULL)
        return NULL;
    const LptWeightsInfo *info = lpt_weights_info(weights);

    /* The load training makes, on the CPU backend with one thread (the window keeps the
     * other cores). */
    gint64 started = g_get_monotonic_time();
    LptBackendOptions backend;
    lpt_backend_options_init(&backend);
    backend.kind = LPT_BACKEND_CPU;
    backend.threads = 1;
    LptBackend *be = lpt_backend_new(&backend, err);
    LptVit *vit = be != NULL ? lpt_vit_new(be, &info->vit, err) : NULL;
    gboolean loaded = vit != NULL && lpt_weights_load_vit(weights, vit, err) == LPT_OK;
    lpt_vit_free(vit);
    lpt_backend_free(be);

    LptBackboneDetails *details = NULL;
    if (loaded) {
        details = g_new0(LptBackboneDetails, 1);
        details->path = g_strdup(task->path);
        details->naming = info->naming;
        details->prefix = g_strdup(info->prefix != NULL ? info->prefix : "");
        details->config_path = g_strdup(info->config_path);
        details->heads_from = g_strdup(info->heads_from != NULL ? info->heads_from : "");
        details->vit = info->vit;
        details->identity_proj = info->identity_proj;
        details->params = (gint64)info->params;
        details->tensors = info->tensors;
        details->tensors_used = info->tensors_used;
        details->tensors_ignored = info->tensors_ignored;
        details->load_seconds = (g_get_monotonic_time() - started) / 1e6;
    }
    lpt_weights_close(weights);
    return details;
}

static void inspect_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                           GCancellable *cancellable)
{
    LptError err = {0};
    LptBackboneDetails *details = inspect(task_data, &err);
    if (details != NULL)
        g_task_return_pointer(gtask, details, (GDestroyNotify)lpt_backbone_details_free);
    else
        g_task_return_error(gtask, core_error(&err));
}

void lpt_backbone_inspect_async(const char *path, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(path != NULL);

    g_autoptr(GTask) gtask = g_task_new(NULL, cancellable, callback, user_data);
    InspectTask *task = g_new0(InspectTask, 1);
    task->path = g_strdup(path);
    g_task_set_task_data(gtask, task, inspect_task_free);
    g_task_set_return_on_cancel(gtask, TRUE);
    g_task_run_in_thread(gtask, inspect_thread);
}

LptBackboneDetails *lpt_backbone_inspect_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- Add ---- */

typedef struct {
    LptProject *project; /* released on the main context (on_add_completed) */
    LptStore *store;     /* the worker's connection; closed on the worker */
    LptStoreExpert role;
    char *path; /* NULL: the demo backbones */
} AddTask;

static void add_task_free(gpointer data)
{
    AddTask *task = data;
    lpt_store_close(task->store);
    g_free(task->path);
    g_free(task);
}

/* After the caller's callback, on the main context: the project goes here, never on the
 * worker (its store belongs to the main thread). */
static void on_add_completed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    AddTask *task = user_data;
    g_clear_object(&task->project);
}

static void add_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                       GCancellable *cancellable)
{
    AddTask *task = task_data;
    LptBackboneAdded added = {0};
    LptError err = {0};
    LptStatus status = lpt_backbone_add(task->store, task->role, task->path, NULL, &added, &err);
    lpt_store_close(task->store);
    task->store = NULL;
    if (status == LPT_OK)
        g_task_return_int(gtask, (gssize)added.id);
    else
        g_task_return_error(gtask, core_error(&err));
}

/* The demo backbones' files (NULL with *err set when the folder cannot be read). */
static GPtrArray *demo_files(const char *dir, LptError *err)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) folder = g_dir_open(dir, 0, &error);
    if (folder == NULL) {
        lpt_error_set(err, LPT_ERR_IO, 0, "cannot read the demo backbones' folder '%s': %s", dir,
                      error->message);
        return NULL;
    }
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(folder)) != NULL)
        if (g_str_has_suffix(name, ".safetensors"))
            g_ptr_array_add(files, g_build_filename(dir, name, NULL));
    return files;
}

static int compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_demo_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                            GCancellable *cancellable)
{
    AddTask *task = task_data;
    LptError err = {0};
    g_autofree char *dir = lpt_backbone_demo_dir();
    g_autoptr(GPtrArray) files = demo_files(dir, &err);
    guint added = 0;
    if (files != NULL) {
        g_ptr_array_sort(files, compare_paths);
        if (files->len == 0)
            lpt_error_set(&err, LPT_ERR_IO, 0, "no demo backbones (*.safetensors) in '%s'", dir);
    }
    for (guint i = 0; files != NULL && i < files->len && err.code == LPT_OK; i++) {
        const char *path = g_ptr_array_index(files, i);
        LptWeights *weights = lpt_weights_open(path, NULL, &err);
        if (weights == NULL)
            break;
        LptStoreExpert role = lpt_weights_info(weights)->vit.clip_style ? LPT_STORE_EXPERT_VL
                                                                        : LPT_STORE_EXPERT_VISION;
        lpt_weights_close(weights);
        if (lpt_backbone_add(task->store, role, path, NULL, NULL, &err) == LPT_OK)
            added++;
    }
    lpt_store_close(task->store);
    task->store = NULL;
    if (err.code == LPT_OK)
        g_task_return_int(gtask, added);
    else
        g_task_return_error(gtask, core_error(&err));
}

static void start_add(LptProject *project, LptStoreExpert role, const char *path,
                      GTaskThreadFunc thread, GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) gtask = g_task_new(NULL, NULL, callback, user_data);
    GError *error = NULL;
    LptStore *store = lpt_project_open_thread_store(project, &error);
    if (store == NULL) {
        g_task_return_error(gtask, error);
        return;
    }
    AddTask *task = g_new0(AddTask, 1);
    task->project = g_object_ref(project);
    task->store = store;
    task->role = role;
    task->path = g_strdup(path);
    g_task_set_task_data(gtask, task, add_task_free);
    g_signal_connect(gtask, "notify::completed", G_CALLBACK(on_add_completed), task);
    g_task_run_in_thread(gtask, thread);
}

void lpt_backbone_add_async(LptProject *project, LptStoreExpert role, const char *path,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_PROJECT(project));
    g_return_if_fail(path != NULL);
    start_add(project, role, path, add_thread, callback, user_data);
}

gint64 lpt_backbone_add_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), 0);
    gssize id = g_task_propagate_int(G_TASK(result), error);
    return id > 0 ? (gint64)id : 0;
}

void lpt_backbone_add_demo_async(LptProject *project, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
    g_return_if_fail(LPT_IS_PROJECT(project));
    start_add(project, LPT_STORE_EXPERT_VISION, NULL, add_demo_thread, callback, user_data);
}

guint lpt_backbone_add_demo_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), 0);
    gssize n = g_task_propagate_int(G_TASK(result), error);
    return n > 0 ? (guint)n : 0;
}

/* ---- The demo backbones' folder ---- */

char *lpt_backbone_demo_dir(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    char build[PATH_MAX];
    gboolean in_build = FALSE;
    if (exe != NULL && realpath(LPT_BUILD_DIR, build) != NULL) {
        size_t n = strlen(build);
        in_build = strncmp(exe, build, n) == 0 && exe[n] == '/';
    }
    return g_build_filename(in_build ? LPT_SOURCE_DATA_DIR : LPT_INSTALL_DATA_DIR, "backbones",
                            NULL);
}

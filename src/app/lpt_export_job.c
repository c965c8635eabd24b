/* lpt_export_job.c: an export on a worker thread (see the header). */
#include "lpt_export_job.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "lpt_app_config.h"
#include "lpt_backend.h"

struct _LptExportJob {
    LptWorkerJob parent_instance;

    /* owned */
    gint64 run_id;
    LptStoreExportFormat format;
    char *project_path; /* the project's file, for the core */
    char *out;
    gboolean embed_backbones;
    char *prior_json; /* NULL: no prior */
    char *device;
    char *onnx_runtime; /* NULL: an ONNX file is not checked */
    char *prior_file;   /* the temporary files of a run, removed at finalize */
    char *runner_file;
    LptExportReport *report; /* the core's, written by the worker before the task returns */
};

G_DEFINE_FINAL_TYPE(LptExportJob, lpt_export_job, LPT_TYPE_WORKER_JOB)

enum { SIGNAL_PROGRESS, N_SIGNALS };
static guint signals[N_SIGNALS];

/* One progress report on its way to the main context. */
typedef struct {
    LptExportJob *job; /* a reference */
    LptExportStage stage;
    gint64 done, total;
} ProgressPost;

static void export_task_free(gpointer data)
{
    LptWorkerTask *task = data;
    lpt_worker_task_clear(task);
    g_free(task);
}

static void progress_post_free(gpointer data)
{
    ProgressPost *post = data;
    g_object_unref(post->job);
    g_free(post);
}

static gboolean progress_dispatch(gpointer data)
{
    ProgressPost *post = data;
    g_signal_emit(post->job, signals[SIGNAL_PROGRESS], 0, (guint)post->stage, post->done,
                  post->total);
    return G_SOURCE_REMOVE;
}

/* The core's progress callback, on the worker thread. */
static bool on_core_progress(LptExportStage stage, int64_t done, int64_t total, void *user)
{
    LptWorkerTask *task = user;
    ProgressPost *post = g_new0(ProgressPost, 1);
    post->job = LPT_EXPORT_JOB(g_object_ref(task->job));
    post->stage = stage;
    post->done = done;
    post->total = total;
    lpt_worker_task_post(task, progress_dispatch, post, progress_post_free);
    return lpt_worker_task_keep_going(task);
}

/* The backend the device setting asks for, as training resolves it: "cpu", a Vulkan device's
 * name, or empty for the best Vulkan device when there is a GPU, else the CPU (leaving one
 * core to the window). */
static void backend_options(const char *device, LptBackendOptions *opt)
{
    lpt_backend_options_init(opt);
    gboolean gpu = FALSE;
    if (device[0] == '\0') {
        LptDeviceInfo info[16];
        int n = lpt_device_list(info, 16, NULL);
        for (int i = 0; i < n && i < 16; i++)
            gpu = gpu || g_strcmp0(info[i].type, "CPU") != 0;
    }
    if (g_ascii_strcasecmp(device, "cpu") == 0 || (device[0] == '\0' && !gpu)) {
        opt->kind = LPT_BACKEND_CPU;
        opt->threads = MAX((int)g_get_num_processors() - 1, 1);
    } else {
        opt->kind = LPT_BACKEND_VULKAN;
        opt->device = device[0] != '\0' ? device : NULL;
    }
}

static void export_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                          GCancellable *cancellable)
{
    LptWorkerTask *task = task_data;
    LptExportJob *self = LPT_EXPORT_JOB(task->job);

    LptExportOptions opt;
    lpt_export_options_init(&opt);
    opt.project = self->project_path;
    opt.shared_with = task->store;
    opt.run_id = self->run_id;
    opt.format = self->format;
    opt.out = self->out;
    opt.embed_backbones = self->embed_backbones && self->format == LPT_STORE_EXPORT_BUNDLE;
    g_autofree char *prior =
        self->prior_file != NULL ? g_strconcat("@", self->prior_file, NULL) : NULL;
    opt.prior = prior;
    opt.onnx_runtime = self->runner_file != NULL ? self->onnx_runtime : NULL;
    opt.onnx_runner = self->runner_file;
    backend_options(self->device, &opt.backend);
    opt.progress = on_core_progress;
    opt.user = task;
    opt.cancel = &task->cancel;

    LptError err = {0};
    LptStatus status = lpt_export_run(&opt, &self->report, &err);
    lpt_worker_task_close_store(task);

    if (status == LPT_OK)
        g_task_return_boolean(gtask, TRUE);
    else
        lpt_worker_task_return_failure(gtask, status, &err,
                                       C_("export", "The export was cancelled"));
}

/* Text into a new temporary file named after tmpl; its path, or NULL with error set. */
static char *write_temporary(const char *tmpl, const char *data, gsize size, GError **error)
{
    char *path = NULL;
    int fd = g_file_open_tmp(tmpl, &path, error);
    if (fd < 0)
        return NULL;
    g_close(fd, NULL);
    if (!g_file_set_contents(path, data, (gssize)size, error)) {
        g_unlink(path);
        g_clear_pointer(&path, g_free);
    }
    return path;
}

/* The prior's file and the ONNX runner's, as this run needs them. */
static gboolean write_files(LptExportJob *self, GError **error)
{
    if (self->prior_json != NULL && self->prior_file == NULL &&
        (self->prior_file = write_temporary("lpt-prior-XXXXXX.json", self->prior_json,
                                            strlen(self->prior_json), error)) == NULL)
        return FALSE;
    if (self->format == LPT_STORE_EXPORT_ONNX && self->onnx_runtime != NULL &&
        self->runner_file == NULL) {
        g_autoptr(GBytes) runner = g_resources_lookup_data(APP_RESOURCE_PATH "/onnx_run.js",
                                                           G_RESOURCE_LOOKUP_FLAGS_NONE, error);
        gsize size = 0;
        const char *data = runner != NULL ? g_bytes_get_data(runner, &size) : NULL;
        if (data == NULL || (self->runner_file = write_temporary("lpt-onnx-run-XXXXXX.js", data,
                                                                 size, error)) == NULL)
            return FALSE;
    }
    return TRUE;
}

static void lpt_export_job_finalize(GObject *object)
{
    LptExportJob *self = LPT_EXPORT_JOB(object);
    if (self->prior_file != NULL)
        g_unlink(self->prior_file);
    if (self->runner_file != NULL)
        g_unlink(self->runner_file);
    g_free(self->prior_file);
    g_free(self->runner_file);
    g_free(self->project_path);
    g_free(self->out);
    g_free(self->prior_json);
    g_free(self->device);
    g_free(self->onnx_runtime);
    lpt_export_report_free(self->report);
    G_OBJECT_CLASS(lpt_export_job_parent_class)->finalize(object);
}

static void lpt_export_job_class_init(LptExportJobClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = lpt_export_job_finalize;

    /**
     * LptExportJob::progress:
     * @stage: an LptExportStage, begun or going on
     * @done: images done in it (the parity check), else 0
     * @total: images in all (the parity check, the recording of predictions), else 1
     *
     * Emitted on the main context as the core reports each stage.
     */
    signals[SIGNAL_PROGRESS] =
        g_signal_new("progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_INT64, G_TYPE_INT64);
}

static void lpt_export_job_init(LptExportJob *self)
{
}

LptExportJob *lpt_export_job_new(LptProject *project, const LptExportJobOptions *options)
{
    g_return_val_if_fail(LPT_IS_PROJECT(project), NULL);
    g_return_val_if_fail(options != NULL && options->out != NULL, NULL);

    LptExportJob *self = g_object_new(LPT_TYPE_EXPORT_JOB, NULL);
    lpt_worker_job_set_project(LPT_WORKER_JOB(self), project);
    self->project_path = g_file_get_path(lpt_project_get_file(project));
    self->run_id = options->run_id;
    self->format = options->format;
    self->out = g_strdup(options->out);
    self->embed_backbones = options->embed_backbones;
    self->prior_json = g_strdup(options->prior_json);
    self->device = g_strdup(options->device != NULL ? options->device : "");
    self->onnx_runtime = g_strdup(options->onnx_runtime);
    return self;
}

void lpt_export_job_run_async(LptExportJob *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_EXPORT_JOB(self));

    g_autoptr(GTask) gtask = g_task_new(self, cancellable, callback, user_data);
    g_clear_pointer(&self->report, lpt_export_report_free);
    GError *error = NULL;
    if (!write_files(self, &error)) {
        g_task_return_error(gtask, error);
        return;
    }
    LptWorkerTask *task = g_new0(LptWorkerTask, 1);
    if (!lpt_worker_task_open(task, LPT_WORKER_JOB(self), cancellable, &error)) {
        g_free(task);
        g_task_return_error(gtask, error);
        return;
    }
    g_task_set_task_data(gtask, task, export_task_free);
    lpt_worker_job_run_in_thread(LPT_WORKER_JOB(self), gtask, export_thread);
}

gboolean lpt_export_job_run_finish(LptExportJob *self, GAsyncResult *result,
                                   LptExportReport **report, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    if (report != NULL)
        *report = g_steal_pointer(&self->report);
    return g_task_propagate_boolean(G_TASK(result), error);
}

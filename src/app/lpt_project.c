/* lpt_project.c: an open project file (see the header). */
#include "lpt_project.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"

struct _LptProject {
    GObject parent_instance;

    /* owned */
    GFile *file;
    char *title;
    LptStore *store; /* the main thread's connection; holds the instance lock */
};

G_DEFINE_FINAL_TYPE(LptProject, lpt_project, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LABELS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void lpt_project_finalize(GObject *object)
{
    LptProject *self = LPT_PROJECT(object);

    lpt_store_close(self->store);
    g_clear_object(&self->file);
    g_free(self->title);

    G_OBJECT_CLASS(lpt_project_parent_class)->finalize(object);
}

static void lpt_project_class_init(LptProjectClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->finalize = lpt_project_finalize;

    /**
     * LptProject::changed:
     *
     * The project's content changed (images imported, labels edited): views reload.
     */
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           0);

    /**
     * LptProject::labels-changed:
     * @image_id: the image
     *
     * One image's label or exclusion changed (::changed follows).
     */
    signals[SIGNAL_LABELS_CHANGED] =
        g_signal_new("labels-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void lpt_project_init(LptProject *self)
{
}

LptProject *lpt_project_open(GFile *file, gboolean create, GError **error)
{
    g_return_val_if_fail(G_IS_FILE(file), NULL);

    g_autofree char *path = g_file_get_path(file);
    if (path == NULL) {
        g_autofree char *uri = g_file_get_uri(file);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("“%s” is not a local file: projects open from local folders only"), uri);
        return NULL;
    }

    LptError err = {0};
    LptStore *store = lpt_store_open(path, create ? LPT_STORE_CREATE : LPT_STORE_OPEN, &err);
    if (store == NULL) {
        lpt_app_error_from_core(error, &err);
        return NULL;
    }

    LptProject *self = g_object_new(LPT_TYPE_PROJECT, NULL);
    self->file = g_object_ref(file);
    self->store = store;
    g_autofree char *basename = g_file_get_basename(file);
    if (g_str_has_suffix(basename, LPT_STORE_EXTENSION) &&
        strlen(basename) > strlen(LPT_STORE_EXTENSION))
        self->title = g_strndup(basename, strlen(basename) - strlen(LPT_STORE_EXTENSION));
    else
        self->title = g_strdup(basename);
    return self;
}

GFile *lpt_project_get_file(LptProject *self)
{
    g_return_val_if_fail(LPT_IS_PROJECT(self), NULL);
    return self->file;
}

const char *lpt_project_get_title(LptProject *self)
{
    g_return_val_if_fail(LPT_IS_PROJECT(self), NULL);
    return self->title;
}

LptStore *lpt_project_get_store(LptProject *self)
{
    g_return_val_if_fail(LPT_IS_PROJECT(self), NULL);
    return self->store;
}

LptStore *lpt_project_open_thread_store(LptProject *self, GError **error)
{
    g_return_val_if_fail(LPT_IS_PROJECT(self), NULL);

    LptError err = {0};
    LptStore *store = lpt_store_open_shared(self->store, &err);
    if (store == NULL)
        lpt_app_error_from_core(error, &err);
    return store;
}

void lpt_project_notify_changed(LptProject *self)
{
    g_return_if_fail(LPT_IS_PROJECT(self));
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

void lpt_project_notify_labels_changed(LptProject *self, gint64 image_id)
{
    g_return_if_fail(LPT_IS_PROJECT(self));
    g_signal_emit(self, signals[SIGNAL_LABELS_CHANGED], 0, image_id);
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

/* ---- Re-split ---- */

/* What the worker thread owns while a re-split runs (the GTask's task data). */
typedef struct {
    LptStore *store; /* the worker's connection; closed on the worker */
    LptSplitConfig config;
    LptResplitReport report;
} ResplitTask;

static void resplit_task_free(gpointer data)
{
    ResplitTask *task = data;
    lpt_store_close(task->store);
    g_free(task);
}

static void resplit_thread(GTask *gtask, gpointer source_object, gpointer task_data,
                           GCancellable *cancellable)
{
    ResplitTask *task = task_data;
    LptError err = {0};
    LptStatus status = lpt_resplit_run(task->store, &task->config, &task->report, &err);
    lpt_store_close(task->store);
    task->store = NULL;
    if (status == LPT_OK) {
        g_task_return_boolean(gtask, TRUE);
    } else {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(gtask, error);
    }
}

void lpt_project_resplit_async(LptProject *self, const LptSplitConfig *cfg,
                               GAsyncReadyCallback callback, gpointer user_data)
{
    g_return_if_fail(LPT_IS_PROJECT(self));
    g_return_if_fail(cfg != NULL);

    g_autoptr(GTask) gtask = g_task_new(self, NULL, callback, user_data);
    GError *error = NULL;
    LptStore *store = lpt_project_open_thread_store(self, &error);
    if (store == NULL) {
        g_task_return_error(gtask, error);
        return;
    }
    ResplitTask *task = g_new0(ResplitTask, 1);
    task->store = store;
    task->config = *cfg;
    g_task_set_task_data(gtask, task, resplit_task_free);
    g_task_run_in_thread(gtask, resplit_thread);
}

gboolean lpt_project_resplit_finish(LptProject *self, GAsyncResult *result,
                                    LptResplitReport *report, GError **error)
{
    g_return_val_if_fail(LPT_IS_PROJECT(self), FALSE);
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);

    if (!g_task_propagate_boolean(G_TASK(result), error))
        return FALSE;
    const ResplitTask *task = g_task_get_task_data(G_TASK(result));
    if (report != NULL)
        *report = task->report;
    return TRUE;
}

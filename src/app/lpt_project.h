/* lpt_project.h: an open project file, as the app's windows see it.
 *
 * An LptProject owns the main thread's connection to one project file (lpt_store.h), which
 * holds the project's instance lock for as long as the project lives: a second
 * lpt_project_open of the same file, in this process or another, fails with
 * LPT_CORE_ERROR_IN_USE. Worker threads take connections of their own with
 * lpt_project_open_thread_store() and close them when done; the lock lasts until the last
 * connection closes.
 *
 * After a worker thread has written to the project (an import, a re-split), the main thread
 * calls lpt_project_notify_changed(), which emits ::changed so that every page reloads.
 *
 * Threads: the main thread only, except where a function says otherwise.
 */
#pragma once

#include <gio/gio.h>

#include "lpt_resplit.h"
#include "lpt_store.h"

G_BEGIN_DECLS

#define LPT_TYPE_PROJECT (lpt_project_get_type())
G_DECLARE_FINAL_TYPE(LptProject, lpt_project, LPT, PROJECT, GObject)

/* Opens the project in file, or creates it (create: the file must not exist; ".lptproj"
 * is the caller's to add). NULL with error set on failure (LPT_CORE_ERROR). */
LptProject *lpt_project_open(GFile *file, gboolean create, GError **error);

/* The project file (owned by the project). */
GFile *lpt_project_get_file(LptProject *self);

/* The name to show: the file name without ".lptproj" (owned by the project). */
const char *lpt_project_get_title(LptProject *self);

/* The main thread's store connection (owned by the project; main thread only). */
LptStore *lpt_project_get_store(LptProject *self);

/* A new connection for a worker thread, which owns it and closes it with lpt_store_close()
 * on that thread. Call on the main thread; NULL with error set on failure. */
LptStore *lpt_project_open_thread_store(LptProject *self, GError **error);

/* Emits ::changed: the project's content changed, views reload. */
void lpt_project_notify_changed(LptProject *self);

/* Emits ::labels-changed (image_id) and then ::changed: one image was relabelled, excluded or
 * taken back (the Review page's inspector), so that views showing it follow and the rest
 * reload. */
void lpt_project_notify_labels_changed(LptProject *self, gint64 image_id);

/* Re-assigns the splits under cfg (lpt_resplit_run, one transaction) on a worker thread with
 * a connection of its own; the task holds the project until it is done. The caller emits
 * ::changed after a success. */
void lpt_project_resplit_async(LptProject *self, const LptSplitConfig *cfg,
                               GAsyncReadyCallback callback, gpointer user_data);
/* TRUE with *report (may be NULL) filled, or FALSE with error set (LPT_CORE_ERROR); the
 * project is then as it was. */
gboolean lpt_project_resplit_finish(LptProject *self, GAsyncResult *result,
                                    LptResplitReport *report, GError **error);

G_END_DECLS

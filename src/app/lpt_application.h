/* lpt_application.h: the LPT Studio application (io.github.lptstudio.LptStudio).
 *
 * `lpt-studio` opens a window with the welcome page; `lpt-studio FILE.lptproj` opens that
 * project (in a window showing no project, else in a new one). Opening a project that a
 * window of this or another instance holds is refused by the project's instance lock, and
 * the window says so (a translated heading and the core's words). Opened projects go to
 * the front of the recent list (GSettings key recent-projects, at most
 * LPT_APPLICATION_MAX_RECENT).
 *
 * Application actions: new-project, open-project, open-recent(s: path), forget-recent(s),
 * preferences, about, quit.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_window.h"

G_BEGIN_DECLS

#define LPT_APPLICATION_MAX_RECENT 10

#define LPT_TYPE_APPLICATION (lpt_application_get_type())
G_DECLARE_FINAL_TYPE(LptApplication, lpt_application, LPT, APPLICATION, AdwApplication)

/* Registers the app's resources on first use. */
LptApplication *lpt_application_new(void);

/* Opens (create: creates) the project in file. It goes into `window` when that shows no
 * project, else into a window showing none, else a new window. On failure the error is
 * shown over `window` (or the active window) and NULL is returned; else the window that
 * shows the project. window may be NULL. */
LptWindow *lpt_application_open_project(LptApplication *self, GFile *file, gboolean create,
                                        LptWindow *window);

G_END_DECLS

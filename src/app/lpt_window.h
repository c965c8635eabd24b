/* lpt_window.h: a main window — the welcome page while no project is open, else the
 * project's pages (Dataset, Backbones, Training, Review, Export) under a view switcher.
 *
 * A window shows at most one project and holds it (LptProject) while it does; closing the
 * window lets it go, which releases the project's instance lock. Closing the window or the
 * project while the Training page trains asks first; "Stop Training" stops the session
 * between two steps (the run stays resumable) and closes once it has ended. Window size and state are
 * read from GSettings when the window is made and written back when it closes. In a
 * development build (PROFILE "development") the window has the style class "devel".
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_backbones_page.h"
#include "lpt_dataset_page.h"
#include "lpt_export_page.h"
#include "lpt_project.h"
#include "lpt_review_page.h"
#include "lpt_training_page.h"
#include "lpt_welcome_page.h"

G_BEGIN_DECLS

#define LPT_TYPE_WINDOW (lpt_window_get_type())
G_DECLARE_FINAL_TYPE(LptWindow, lpt_window, LPT, WINDOW, AdwApplicationWindow)

LptWindow *lpt_window_new(GtkApplication *application);

/* Shows project (NULL: the welcome page). The window takes a reference. */
void lpt_window_set_project(LptWindow *self, LptProject *project);
/* The project shown, NULL when none (owned by the window). */
LptProject *lpt_window_get_project(LptWindow *self);

/* Shows a failure: a translated heading of the caller's, and the error's message (the core's
 * words) below it, in a dialog over this window. */
void lpt_window_show_error(LptWindow *self, const char *heading, const GError *error);

/* The pages (owned by the window; for the application and tests). */
LptWelcomePage *lpt_window_get_welcome_page(LptWindow *self);
LptDatasetPage *lpt_window_get_dataset_page(LptWindow *self);
LptBackbonesPage *lpt_window_get_backbones_page(LptWindow *self);
LptTrainingPage *lpt_window_get_training_page(LptWindow *self);
LptReviewPage *lpt_window_get_review_page(LptWindow *self);
LptExportPage *lpt_window_get_export_page(LptWindow *self);
/* Switches to a project page by name: "dataset", "backbones", "training", "review",
 * "export". */
void lpt_window_show_page(LptWindow *self, const char *name);

G_END_DECLS

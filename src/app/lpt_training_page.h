/* lpt_training_page.h: the Training page (product.md workflow 5).
 *
 * The page shows one run at a time, chosen in its runs list (every run of the project: id,
 * method, status, when it was made, its best validation balanced accuracy), or "New run",
 * which the hyper-parameters (LptRunSettings) describe. For that run: the five phase cards
 * (LptPhaseCard: state, progress, Start / Resume, Stop), the curves of one phase
 * (LptTrainingCurves: the one running, else the card clicked), and Run All Phases. The device
 * row offers Automatic, the CPU and each Vulkan device by name (GSettings "device", shared
 * with the preferences; Automatic trains on a GPU when there is one, else on the CPU).
 *
 * Training runs as an LptTrainJob on a worker thread, one at a time: a card's Start trains
 * that phase (of a new run made from the hyper-parameters when "New run" is chosen; the new
 * run is then chosen), Run All Phases every phase not done yet, in order; Resume continues an
 * interrupted phase from its last checkpoint. Progress reaches the page through the main
 * context; Stop (or lpt_training_page_stop) sets the core's cancel flag, which the trainer
 * reads between steps; the run then stays resumable. When a session ends the project emits
 * ::changed (the other pages reload). Reopening a project shows its runs as the store has
 * them: finished, failed with the core's message, stopped or interrupted (resumable).
 *
 * Property "training" (read-only): a session runs; the window asks before closing while it
 * is TRUE, and waits for it to turn FALSE after lpt_training_page_stop.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_phase_card.h"
#include "lpt_project.h"
#include "lpt_run_settings.h"
#include "lpt_training_curves.h"

G_BEGIN_DECLS

#define LPT_TYPE_TRAINING_PAGE (lpt_training_page_get_type())
G_DECLARE_FINAL_TYPE(LptTrainingPage, lpt_training_page, LPT, TRAINING_PAGE, AdwBin)

/* Shows project (NULL: none); a session on the previous project is stopped. */
void lpt_training_page_set_project(LptTrainingPage *self, LptProject *project);

gboolean lpt_training_page_is_training(LptTrainingPage *self);
/* Stops the running session between two steps (nothing when none runs). */
void lpt_training_page_stop(LptTrainingPage *self);

/* As a card's Start / Resume and Run All Phases do; FALSE when refused (a session runs, no
 * project, or the phase cannot start now). */
gboolean lpt_training_page_start_phase(LptTrainingPage *self, int slot);
gboolean lpt_training_page_run_all(LptTrainingPage *self);

/* Chooses the run shown (0: "New run"); FALSE when the project has no such run. */
gboolean lpt_training_page_select_run(LptTrainingPage *self, gint64 run_id);
/* The run shown, 0 for "New run". */
gint64 lpt_training_page_get_run(LptTrainingPage *self);
/* The runs listed (without "New run"), newest first, and what a row says. */
guint lpt_training_page_get_n_runs(LptTrainingPage *self);
gint64 lpt_training_page_get_run_id(LptTrainingPage *self, guint index);
const char *lpt_training_page_get_run_status_text(LptTrainingPage *self, gint64 run_id);

/* The parts (owned by the page; for tests). */
LptPhaseCard *lpt_training_page_get_card(LptTrainingPage *self, int slot);
LptTrainingCurves *lpt_training_page_get_curves(LptTrainingPage *self);
LptRunSettings *lpt_training_page_get_settings(LptTrainingPage *self);
GtkProgressBar *lpt_training_page_get_progress_bar(LptTrainingPage *self);
/* How the last session ended: NULL after a success or before any. */
const GError *lpt_training_page_get_last_error(LptTrainingPage *self);
/* Whether the device row is still being filled (the Vulkan devices are listed off the main
 * thread). */
gboolean lpt_training_page_is_listing_devices(LptTrainingPage *self);

G_END_DECLS

/* lpt_shown_run.h: the project and run a Review page view shows, and when the view reads them
 * again (the calibration view, the queues, the run comparison, the class texts).
 *
 * A view embeds an LptShownRun and gives it its reload function. Whatever changes what the
 * view shows (another project or run, the project's ::changed) marks it stale; a stale view
 * reads again at once when it is mapped, else when it is next mapped (a view hidden on
 * another page or tab never reads in vain). The reload function is called with `dirty`
 * already cleared.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "lpt_project.h"

G_BEGIN_DECLS

/* Reads what the view shows again (widget: the view). */
typedef void (*LptShownRunReloadFunc)(GtkWidget *widget);

typedef struct {
    /* for the view to read */
    LptProject *project; /* a reference; NULL: none */
    int64_t run_id;      /* 0: none */
    gboolean dirty;      /* changed since the view last read */

    /* private */
    GtkWidget *view;
    LptShownRunReloadFunc reload;
    gulong changed_id; /* on project */
} LptShownRun;

/* Nothing shown yet, stale (the first map reads). */
void lpt_shown_run_init(LptShownRun *self, GtkWidget *view, LptShownRunReloadFunc reload);

/* Shows project (NULL: none), following its ::changed. FALSE when it is the one shown
 * already; else TRUE, and the caller does what the change means to it, then calls
 * lpt_shown_run_invalidate. */
gboolean lpt_shown_run_set_project(LptShownRun *self, LptProject *project);
/* Likewise for the run (0: none). */
gboolean lpt_shown_run_set_run(LptShownRun *self, int64_t run_id);

/* Marks the view stale: it reads now when it is mapped, else when next mapped. */
void lpt_shown_run_invalidate(LptShownRun *self);

/* Reads now if stale (from the view's map, or before an action that needs fresh data). */
void lpt_shown_run_reload_if_dirty(LptShownRun *self);

/* Lets the project go (the view's dispose). */
void lpt_shown_run_clear(LptShownRun *self);

G_END_DECLS

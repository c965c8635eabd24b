/* lpt_run_compare_view.h: the Review page's run comparison (product.md workflow 6: "compare
 * two runs: which images flipped").
 *
 * The run shown is compared with another run that has test predictions, chosen in a drop-down
 * (by default the newest run older than the one shown, else the newest other): a summary,
 * a table with, per class, the test images both runs evaluated, how many went right -> wrong
 * and wrong -> right, and the net change (lpt_run_compare.h), and a grid of the flipped images
 * (right -> wrong first) with a caption saying what each run predicted. A class's name in the
 * table narrows the grid to that class. Enter or a double click emits ::open-image.
 *
 * The data is read when the view is shown after the project or run changed, and again on the
 * project's ::changed.
 *
 * ::open-image (gint64 image_id): the user asked to inspect an image.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "lpt_project.h"
#include "lpt_run_compare.h"

G_BEGIN_DECLS

#define LPT_TYPE_RUN_COMPARE_VIEW (lpt_run_compare_view_get_type())
G_DECLARE_FINAL_TYPE(LptRunCompareView, lpt_run_compare_view, LPT, RUN_COMPARE_VIEW, GtkWidget)

GtkWidget *lpt_run_compare_view_new(void);

/* The project shown (NULL = none); the view holds a reference. */
void lpt_run_compare_view_set_project(LptRunCompareView *self, LptProject *project);
/* The run shown (0 = none). */
void lpt_run_compare_view_set_run(LptRunCompareView *self, int64_t run_id);

/* The run compared with (0 = none) / compares with another (one of the drop-down's). */
int64_t lpt_run_compare_view_get_other_run(LptRunCompareView *self);
void lpt_run_compare_view_set_other_run(LptRunCompareView *self, int64_t run_id);

/* The comparison shown (owned by the view; NULL when none), other run = before, run shown =
 * after; and narrowing the grid to a class (0: all). */
const LptRunCompare *lpt_run_compare_view_get_result(LptRunCompareView *self);
void lpt_run_compare_view_show_class(LptRunCompareView *self, int64_t class_id);

/* The flipped images' grid (single selection over LptImageItem; for tests). */
GtkGridView *lpt_run_compare_view_get_grid(LptRunCompareView *self);

G_END_DECLS

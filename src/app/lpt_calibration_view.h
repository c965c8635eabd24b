/* lpt_calibration_view.h: the Review page's calibration view (product.md "Beyond the peers":
 * a reliability diagram and the ECE per group and per expert).
 *
 * Over the run's test predictions (lpt_review_samples.h): a reliability diagram
 * (LptReliabilityChart, LPT_CALIBRATION_DIAGRAM_BINS bins) of the model and the group chosen
 * in two drop-downs, and a table of the ECE of every model the run has (vision expert,
 * vision-language expert, fused model) over all classes and each group, with the run's
 * eval.ece_bins bins: the all-classes ECE of each model is the one `lpt eval` reports
 * (lpt_calibration.h says why).
 *
 * The data is read when the view is shown after the project or run changed, and again on the
 * project's ::changed.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "lpt_project.h"
#include "lpt_reliability_chart.h"

G_BEGIN_DECLS

#define LPT_TYPE_CALIBRATION_VIEW (lpt_calibration_view_get_type())
G_DECLARE_FINAL_TYPE(LptCalibrationView, lpt_calibration_view, LPT, CALIBRATION_VIEW, GtkWidget)

GtkWidget *lpt_calibration_view_new(void);

/* The project shown (NULL = none); the view holds a reference. */
void lpt_calibration_view_set_project(LptCalibrationView *self, LptProject *project);
/* The run shown (0 = none). */
void lpt_calibration_view_set_run(LptCalibrationView *self, int64_t run_id);

/* Shows the diagram of `source` (an LptStoreExpert) over `group` (an LptGroup or
 * LPT_CALIBRATION_ALL_GROUPS); the drop-downs follow. */
void lpt_calibration_view_select(LptCalibrationView *self, int source, int group);

/* The ECE the table shows for a model and group (NaN: not shown, e.g. a model the run lacks);
 * the table's bin count (0 before the data is read). */
double lpt_calibration_view_get_ece(LptCalibrationView *self, int source, int group);
int lpt_calibration_view_get_ece_bins(LptCalibrationView *self);

/* The diagram (owned by the view; for tests). */
LptReliabilityChart *lpt_calibration_view_get_chart(LptCalibrationView *self);

G_END_DECLS

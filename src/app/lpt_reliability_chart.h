/* lpt_reliability_chart.h: a reliability diagram (product.md "Beyond the peers").
 *
 * Confidence on the x axis and accuracy on the y axis, both 0..100%: one bar per confidence
 * bin with a line at the bin's accuracy, the gap between the accuracy and the bin's mean
 * confidence shaded red (above the line: over-confident; below it: under-confident), the
 * diagonal of perfect calibration dashed, and along the bottom a strip whose bars show the share of
 * the images in each bin. A bin without images draws nothing. Hovering a bar tells its range, image
 * count, accuracy and mean confidence. Drawn with GtkSnapshot.
 *
 * The chart copies what it is given (a calibration of lpt_calibration.h); the accessors read
 * the copy (for tests and for accessibility).
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_calibration.h"

G_BEGIN_DECLS

#define LPT_TYPE_RELIABILITY_CHART (lpt_reliability_chart_get_type())
G_DECLARE_FINAL_TYPE(LptReliabilityChart, lpt_reliability_chart, LPT, RELIABILITY_CHART, GtkWidget)

GtkWidget *lpt_reliability_chart_new(void);

/* Shows calibration (copied; NULL: an empty chart) with a title over it ("Fused model · all
 * classes"; may be NULL). */
void lpt_reliability_chart_set_data(LptReliabilityChart *self, const LptCalibration *calibration,
                                    const char *title);

/* What is shown: bins (0 when empty), each bin's image count, accuracy and mean confidence
 * (NaN for an empty bin), and the ECE over these bins. */
int lpt_reliability_chart_get_n_bins(LptReliabilityChart *self);
gint64 lpt_reliability_chart_get_count(LptReliabilityChart *self, int bin);
double lpt_reliability_chart_get_accuracy(LptReliabilityChart *self, int bin);
double lpt_reliability_chart_get_confidence(LptReliabilityChart *self, int bin);
double lpt_reliability_chart_get_ece(LptReliabilityChart *self);

G_END_DECLS

/* lpt_long_tail_chart.h: the long-tail chart of the dataset page.
 *
 * One bar per class, sorted by count (largest first) on a logarithmic axis, over shaded
 * bands that mark the many, medium and few groups, with dashed lines at the group
 * thresholds and the imbalance ratio (largest count over smallest non-zero count) in the
 * corner. Hovering a bar names its class. Drawn with GtkSnapshot.
 *
 * The chart copies what it is given and sorts it; the accessors read the sorted copy (for
 * tests and for accessibility). Counts are those the groups were computed from (training
 * images, or all images while the project has no split): the caller says which in the label.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_split.h"

G_BEGIN_DECLS

#define LPT_TYPE_LONG_TAIL_CHART (lpt_long_tail_chart_get_type())
G_DECLARE_FINAL_TYPE(LptLongTailChart, lpt_long_tail_chart, LPT, LONG_TAIL_CHART, GtkWidget)

GtkWidget *lpt_long_tail_chart_new(void);

/* Replaces the data: n_classes entries of names, counts (>= 0) and groups; thresholds (NULL:
 * the defaults) place the dashed lines; imbalance_ratio may be NaN (no class has an image).
 * count_label says what the counts are ("Training images"). */
void lpt_long_tail_chart_set_data(LptLongTailChart *self, guint n_classes,
                                  const char *const *names, const gint64 *counts,
                                  const LptGroup *groups, const LptGroupThresholds *thresholds,
                                  double imbalance_ratio, const char *count_label);

guint lpt_long_tail_chart_get_n_classes(LptLongTailChart *self);
/* The class at rank (0 = the largest count; ties keep the order given). */
const char *lpt_long_tail_chart_get_name(LptLongTailChart *self, guint rank);
gint64 lpt_long_tail_chart_get_count(LptLongTailChart *self, guint rank);
LptGroup lpt_long_tail_chart_get_group(LptLongTailChart *self, guint rank);
double lpt_long_tail_chart_get_imbalance_ratio(LptLongTailChart *self);

G_END_DECLS

/* lpt_confusion_matrix.h: the Review page's confusion matrix — rows the true class, columns
 * the predicted one, each cell coloured on a log scale of its count (or of its share of the
 * row, in the row-normalised view), with the class names along the left and the top.
 *
 * Readable at 50+ classes: the widget scrolls its cells (GtkScrollable: put it straight into a
 * GtkScrolledWindow) while the class names stay pinned beside them; Ctrl + scroll, Ctrl + plus
 * / minus or lpt_confusion_matrix_zoom change the cell size (which otherwise fits the matrix
 * to the space, within MIN and MAX); names shrink with small cells and hide below a size
 * where they could not be read, and a cell's numbers show when they fit. Hovering a cell
 * shows a tooltip with both class names, the count and the row share.
 *
 * A click on a cell, or Enter on the keyboard cursor (arrow keys move it), emits
 * ::cell-activated (true class, predicted class); the cell activated last stays outlined
 * (until new data comes).
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LPT_CONFUSION_MATRIX_MIN_CELL 4.0  /* px */
#define LPT_CONFUSION_MATRIX_MAX_CELL 96.0 /* px */

#define LPT_TYPE_CONFUSION_MATRIX (lpt_confusion_matrix_get_type())
G_DECLARE_FINAL_TYPE(LptConfusionMatrix, lpt_confusion_matrix, LPT, CONFUSION_MATRIX, GtkWidget)

GtkWidget *lpt_confusion_matrix_new(void);

/* Shows the K x K counts (row = true class, column = predicted; copied) and the classes'
 * names (K of them, copied); K 0 shows nothing. Keeps the zoom. */
void lpt_confusion_matrix_set_data(LptConfusionMatrix *self, int num_classes,
                                   const gint64 *counts, const char *const *names);

/* Row-normalised (each cell's share of its row) or counts. */
void lpt_confusion_matrix_set_normalized(LptConfusionMatrix *self, gboolean normalized);
gboolean lpt_confusion_matrix_get_normalized(LptConfusionMatrix *self);

/* Multiplies the cell size by factor (clamped to MIN..MAX); the matrix stops fitting itself
 * to the space. lpt_confusion_matrix_zoom_to_fit goes back to fitting. */
void lpt_confusion_matrix_zoom(LptConfusionMatrix *self, double factor);
void lpt_confusion_matrix_zoom_to_fit(LptConfusionMatrix *self);
double lpt_confusion_matrix_get_cell_size(LptConfusionMatrix *self);

/* The cell under widget coordinates (x, y): TRUE with *row and *column set. */
gboolean lpt_confusion_matrix_cell_at(LptConfusionMatrix *self, double x, double y, int *row,
                                      int *column);
/* The centre of a cell in widget coordinates: FALSE when it is scrolled out of sight. */
gboolean lpt_confusion_matrix_cell_center(LptConfusionMatrix *self, int row, int column,
                                          double *x, double *y);
/* Scrolls so that the cell shows. */
void lpt_confusion_matrix_scroll_to(LptConfusionMatrix *self, int row, int column);

/* Outlines the cell (it stays outlined), scrolls to it and emits ::cell-activated, as a click
 * on it does. */
void lpt_confusion_matrix_activate_cell(LptConfusionMatrix *self, int row, int column);

/* The text of the tooltip over a cell (a new string; NULL out of range). */
char *lpt_confusion_matrix_describe_cell(LptConfusionMatrix *self, int row, int column);

G_END_DECLS

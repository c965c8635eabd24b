/* lpt_grid_table.h: small read-only tables laid out in a GtkGrid (the Review page's ECE table
 * and per-class flip counts): emptying the grid before it is filled again, and its cells.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Removes every cell of grid. */
void lpt_grid_table_clear(GtkGrid *grid);

/* A cell showing text, aligned by xalign (0 = left, 1 = right), with the CSS class css when
 * not NULL ("heading" for a header, "numeric" for figures). */
GtkWidget *lpt_grid_table_cell(const char *text, float xalign, const char *css);

G_END_DECLS

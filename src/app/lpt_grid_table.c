/* lpt_grid_table.c: tables of labels in a GtkGrid (see the header). */
#include "lpt_grid_table.h"

void lpt_grid_table_clear(GtkGrid *grid)
{
    g_return_if_fail(GTK_IS_GRID(grid));
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(grid))) != NULL)
        gtk_grid_remove(grid, child);
}

GtkWidget *lpt_grid_table_cell(const char *text, float xalign, const char *css)
{
    GtkWidget *label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), xalign);
    if (css != NULL)
        gtk_widget_add_css_class(label, css);
    return label;
}

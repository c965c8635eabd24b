/* lpt_chart_draw.h: drawing helpers the app's GtkSnapshot charts share (the long-tail chart,
 * the reliability diagram): text placed by an anchor, a colour made fainter, a value axis's
 * grid line with its tick label, the placeholder of an empty chart, and which slot of a plot
 * of equal slots (a bar per class or bin) is under the pointer.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
    LPT_CHART_TEXT_PLAIN = 0,
    LPT_CHART_TEXT_SMALL = 1 << 0, /* Pango's small scale */
    LPT_CHART_TEXT_BOLD = 1 << 1,
} LptChartTextStyle;

/* color with its alpha multiplied by alpha. */
GdkRGBA lpt_chart_with_alpha(const GdkRGBA *color, float alpha);

/* Appends text in widget's font with its top at y and its anchor at x: align 0 = the left
 * edge, 0.5 = the centre, 1 = the right edge. snapshot NULL only measures. Returns the text's
 * width in pixels. */
int lpt_chart_append_text(GtkSnapshot *snapshot, GtkWidget *widget, const char *text, float x,
                          float y, float align, LptChartTextStyle style, const GdkRGBA *color);

/* A horizontal grid line across the plot (from x0, plot_w wide) at y, in grid_color, and its
 * tick label right-aligned left of the plot, in tick_color. */
void lpt_chart_append_y_tick(GtkSnapshot *snapshot, GtkWidget *widget, const char *label, float x0,
                             float y, float plot_w, const GdkRGBA *grid_color,
                             const GdkRGBA *tick_color);

/* The message an empty chart shows, centred in the widget. */
void lpt_chart_append_placeholder(GtkSnapshot *snapshot, GtkWidget *widget, const char *text,
                                  const GdkRGBA *color);

/* The slot under x of a plot from x0, plot_w wide, cut into n equal slots; -1 when x is
 * outside it (or there are none). */
int lpt_chart_slot_at(int x, float x0, float plot_w, int n);

G_END_DECLS

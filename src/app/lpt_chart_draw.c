/* lpt_chart_draw.c: drawing helpers of the app's charts (see the header). */
#include "lpt_chart_draw.h"

GdkRGBA lpt_chart_with_alpha(const GdkRGBA *color, float alpha)
{
    GdkRGBA out = *color;
    out.alpha *= alpha;
    return out;
}

int lpt_chart_append_text(GtkSnapshot *snapshot, GtkWidget *widget, const char *text, float x,
                          float y, float align, LptChartTextStyle style, const GdkRGBA *color)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(widget, text);
    PangoAttrList *attrs = pango_attr_list_new();
    if (style & LPT_CHART_TEXT_SMALL)
        pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
    if (style & LPT_CHART_TEXT_BOLD)
        pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);

    int width, height;
    pango_layout_get_pixel_size(layout, &width, &height);
    if (snapshot != NULL) {
        gtk_snapshot_save(snapshot);
        gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x - align * width, y));
        gtk_snapshot_append_layout(snapshot, layout, color);
        gtk_snapshot_restore(snapshot);
    }
    g_object_unref(layout);
    return width;
}

void lpt_chart_append_y_tick(GtkSnapshot *snapshot, GtkWidget *widget, const char *label, float x0,
                             float y, float plot_w, const GdkRGBA *grid_color,
                             const GdkRGBA *tick_color)
{
    gtk_snapshot_append_color(snapshot, grid_color, &GRAPHENE_RECT_INIT(x0, y, plot_w, 1.0f));
    lpt_chart_append_text(snapshot, widget, label, x0 - 6, y - 8, 1.0f, LPT_CHART_TEXT_SMALL,
                          tick_color);
}

void lpt_chart_append_placeholder(GtkSnapshot *snapshot, GtkWidget *widget, const char *text,
                                  const GdkRGBA *color)
{
    float width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    lpt_chart_append_text(snapshot, widget, text, width / 2, height / 2 - 10, 0.5f,
                          LPT_CHART_TEXT_PLAIN, color);
}

int lpt_chart_slot_at(int x, float x0, float plot_w, int n)
{
    if (n <= 0 || plot_w <= 0 || x < x0 || x >= x0 + plot_w)
        return -1;
    return MIN((int)((x - x0) / (plot_w / n)), n - 1);
}

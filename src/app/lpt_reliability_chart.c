/* lpt_reliability_chart.c: the reliability diagram (see the header).
 *
 * Layout, in widget coordinates: the title and the ECE in the top row, the y axis caption
 * under them, then the square-ish plot inset by PAD_* for the tick labels (left), then the
 * strip of bin shares (STRIP high), the x tick labels and the x axis caption. Confidence c maps
 * to x0 + c plot_w, accuracy a to y0 + (1 - a) plot_h.
 */
#include "lpt_reliability_chart.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_chart_draw.h"

#define PAD_LEFT 44.0f
#define PAD_RIGHT 14.0f
#define PAD_TOP 46.0f
#define STRIP 26.0f      /* the bin-share strip under the plot */
#define PAD_BOTTOM 70.0f /* strip + tick labels + axis caption */
#define BAR_GAP 2.0f     /* between neighbouring bars */
#define DASH 5.0         /* dash length of the diagonal */

struct _LptReliabilityChart {
    GtkWidget parent_instance;

    /* owned */
    int bins;
    LptCalibrationBin *bin; /* [bins] */
    double ece;
    gint64 images;
    char *title;
};

G_DEFINE_FINAL_TYPE(LptReliabilityChart, lpt_reliability_chart, GTK_TYPE_WIDGET)

/* Accent blue 3 for the bars, red 3 for the gap to the diagonal (GNOME palette). */
static const GdkRGBA bar_color = {0.208f, 0.518f, 0.894f, 1.0f};
static const GdkRGBA gap_color = {0.878f, 0.106f, 0.141f, 0.35f};

void lpt_reliability_chart_set_data(LptReliabilityChart *self, const LptCalibration *calibration,
                                    const char *title)
{
    g_return_if_fail(LPT_IS_RELIABILITY_CHART(self));
    g_clear_pointer(&self->bin, g_free);
    self->bins = 0;
    self->ece = NAN;
    self->images = 0;
    if (calibration != NULL && calibration->bins > 0) {
        self->bins = calibration->bins;
        self->bin = g_memdup2(calibration->bin, sizeof *self->bin * (gsize)calibration->bins);
        self->ece = calibration->ece;
        self->images = calibration->images;
    }
    g_free(self->title);
    self->title = g_strdup(title);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   title != NULL ? title : _("Reliability diagram"), -1);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

int lpt_reliability_chart_get_n_bins(LptReliabilityChart *self)
{
    g_return_val_if_fail(LPT_IS_RELIABILITY_CHART(self), 0);
    return self->bins;
}

gint64 lpt_reliability_chart_get_count(LptReliabilityChart *self, int bin)
{
    g_return_val_if_fail(LPT_IS_RELIABILITY_CHART(self), 0);
    return bin >= 0 && bin < self->bins ? self->bin[bin].count : 0;
}

double lpt_reliability_chart_get_accuracy(LptReliabilityChart *self, int bin)
{
    g_return_val_if_fail(LPT_IS_RELIABILITY_CHART(self), NAN);
    return bin >= 0 && bin < self->bins ? self->bin[bin].accuracy : NAN;
}

double lpt_reliability_chart_get_confidence(LptReliabilityChart *self, int bin)
{
    g_return_val_if_fail(LPT_IS_RELIABILITY_CHART(self), NAN);
    return bin >= 0 && bin < self->bins ? self->bin[bin].confidence : NAN;
}

double lpt_reliability_chart_get_ece(LptReliabilityChart *self)
{
    g_return_val_if_fail(LPT_IS_RELIABILITY_CHART(self), NAN);
    return self->ece;
}

/* ---- Drawing ---- */

static void draw_diagonal(GtkSnapshot *snapshot, float x0, float y0, float w, float h,
                          const GdkRGBA *color)
{
    cairo_t *cr =
        gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(x0 - 1, y0 - 1, w + 2, h + 2));
    double dash[1] = {DASH};
    cairo_set_dash(cr, dash, 1, 0.0);
    cairo_set_line_width(cr, 1.5);
    gdk_cairo_set_source_rgba(cr, color);
    cairo_move_to(cr, x0, y0 + h);
    cairo_line_to(cr, x0 + w, y0);
    cairo_stroke(cr);
    cairo_destroy(cr);
}

static void lpt_reliability_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    LptReliabilityChart *self = LPT_RELIABILITY_CHART(widget);
    float width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
    GdkRGBA dim = lpt_chart_with_alpha(&fg, 0.6f), grid = lpt_chart_with_alpha(&fg, 0.12f);

    if (self->title != NULL)
        lpt_chart_append_text(snapshot, widget, self->title, PAD_LEFT, 2, 0.0f, LPT_CHART_TEXT_BOLD,
                              &fg);
    if (self->bins == 0 || self->images == 0) {
        lpt_chart_append_placeholder(snapshot, widget, _("No predictions"), &dim);
        return;
    }
    /* Translators: the expected calibration error over the chart's bins, as in "ECE 4.2%
     * (10 bins)" */
    g_autofree char *ece =
        g_strdup_printf(_("ECE %.1f%% (%d bins)"), 100.0 * self->ece, self->bins);
    lpt_chart_append_text(snapshot, widget, ece, width - PAD_RIGHT, 2, 1.0f, LPT_CHART_TEXT_BOLD,
                          &fg);
    lpt_chart_append_text(snapshot, widget, _("Accuracy"), PAD_LEFT, 24, 0.0f, LPT_CHART_TEXT_SMALL,
                          &dim);

    float x0 = PAD_LEFT, y0 = PAD_TOP;
    float plot_w = width - PAD_LEFT - PAD_RIGHT, plot_h = height - PAD_TOP - PAD_BOTTOM;
    if (plot_w < 20 || plot_h < 20)
        return;

    /* Grid and ticks at every 25%. */
    for (int t = 0; t <= 4; t++) {
        float y = y0 + plot_h * (1.0f - t / 4.0f), x = x0 + plot_w * t / 4.0f;
        g_autofree char *label = g_strdup_printf("%d%%", 25 * t);
        lpt_chart_append_y_tick(snapshot, widget, label, x0, y, plot_w, &grid, &dim);
        gtk_snapshot_append_color(snapshot, &grid, &GRAPHENE_RECT_INIT(x, y0, 1.0f, plot_h));
        lpt_chart_append_text(snapshot, widget, label, x, y0 + plot_h + STRIP + 6, 0.5f,
                              LPT_CHART_TEXT_SMALL, &dim);
    }

    /* Bars up to each bin's accuracy, the gap to its mean confidence over them. */
    float slot = plot_w / self->bins;
    gint64 most = 1;
    for (int b = 0; b < self->bins; b++)
        most = MAX(most, self->bin[b].count);
    for (int b = 0; b < self->bins; b++) {
        const LptCalibrationBin *bin = &self->bin[b];
        if (bin->count == 0)
            continue;
        float bx = x0 + b * slot + BAR_GAP / 2, bw = MAX(slot - BAR_GAP, 1.0f);
        float acc_y = y0 + plot_h * (float)(1.0 - bin->accuracy);
        float conf_y = y0 + plot_h * (float)(1.0 - bin->confidence);
        /* the bar up to the lower of the two, the gap above it, a line at the accuracy */
        float low_y = MAX(acc_y, conf_y), gap_top = MIN(acc_y, conf_y);
        gtk_snapshot_append_color(snapshot, &bar_color,
                                  &GRAPHENE_RECT_INIT(bx, low_y, bw, y0 + plot_h - low_y));
        if (low_y - gap_top >= 0.5f)
            gtk_snapshot_append_color(snapshot, &gap_color,
                                      &GRAPHENE_RECT_INIT(bx, gap_top, bw, low_y - gap_top));
        gtk_snapshot_append_color(snapshot, &bar_color,
                                  &GRAPHENE_RECT_INIT(bx, acc_y - 1.0f, bw, 2.0f));
        /* the strip: the bin's share of the images */
        float share_h = (STRIP - 6) * (float)bin->count / (float)most;
        GdkRGBA strip = lpt_chart_with_alpha(&fg, 0.35f);
        gtk_snapshot_append_color(
            snapshot, &strip, &GRAPHENE_RECT_INIT(bx, y0 + plot_h + STRIP - share_h, bw, share_h));
    }
    draw_diagonal(snapshot, x0, y0, plot_w, plot_h, &dim);
    gtk_snapshot_append_color(snapshot, &dim, &GRAPHENE_RECT_INIT(x0, y0 + plot_h, plot_w, 1.0f));
    lpt_chart_append_text(snapshot, widget, _("Confidence (bars below: share of the images)"),
                          x0 + plot_w / 2, y0 + plot_h + STRIP + 26, 0.5f, LPT_CHART_TEXT_SMALL,
                          &dim);
}

static void lpt_reliability_chart_measure(GtkWidget *widget, GtkOrientation orientation,
                                          int for_size, int *minimum, int *natural,
                                          int *minimum_baseline, int *natural_baseline)
{
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *minimum = 260;
        *natural = 420;
    } else {
        *minimum = 260;
        *natural = 400;
    }
}

static gboolean lpt_reliability_chart_query_tooltip(GtkWidget *widget, int x, int y,
                                                    gboolean keyboard_mode, GtkTooltip *tooltip)
{
    LptReliabilityChart *self = LPT_RELIABILITY_CHART(widget);
    float plot_w = gtk_widget_get_width(widget) - PAD_LEFT - PAD_RIGHT;
    int b = lpt_chart_slot_at(x, PAD_LEFT, plot_w, self->bins);
    if (b < 0)
        return FALSE;
    const LptCalibrationBin *bin = &self->bin[b];
    g_autofree char *range =
        g_strdup_printf("%.0f–%.0f%%", 100.0 * b / self->bins, 100.0 * (b + 1) / self->bins);
    g_autofree char *text =
        bin->count == 0
            /* Translators: a reliability bin's tooltip: its confidence range */
            ? g_strdup_printf(_("Confidence %s: no images"), range)
            /* Translators: a reliability bin's tooltip: range, images, accuracy, confidence */
            : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
                                          "Confidence %s: %lld image, accuracy %.1f%%, mean "
                                          "confidence %.1f%%",
                                          "Confidence %s: %lld images, accuracy %.1f%%, mean "
                                          "confidence %.1f%%",
                                          (gulong)MIN(bin->count, G_MAXLONG)),
                              range, (long long)bin->count, 100.0 * bin->accuracy,
                              100.0 * bin->confidence);
    gtk_tooltip_set_text(tooltip, text);
    return TRUE;
}

static void lpt_reliability_chart_finalize(GObject *object)
{
    LptReliabilityChart *self = LPT_RELIABILITY_CHART(object);
    g_free(self->bin);
    g_free(self->title);
    G_OBJECT_CLASS(lpt_reliability_chart_parent_class)->finalize(object);
}

static void lpt_reliability_chart_class_init(LptReliabilityChartClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->finalize = lpt_reliability_chart_finalize;
    widget_class->snapshot = lpt_reliability_chart_snapshot;
    widget_class->measure = lpt_reliability_chart_measure;
    widget_class->query_tooltip = lpt_reliability_chart_query_tooltip;

    gtk_widget_class_set_css_name(widget_class, "reliabilitychart");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void lpt_reliability_chart_init(LptReliabilityChart *self)
{
    self->ece = NAN;
    gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
}

GtkWidget *lpt_reliability_chart_new(void)
{
    return g_object_new(LPT_TYPE_RELIABILITY_CHART, NULL);
}

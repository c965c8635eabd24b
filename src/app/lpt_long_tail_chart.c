/* lpt_long_tail_chart.c: the long-tail chart (see the header).
 *
 * Layout, in widget coordinates: a plot rectangle inset by PAD_* for the tick labels (left),
 * the count label and the ratio (top row), the band labels (a row of BAND_HEADER above the
 * plot, shaded with the bands) and the axis caption (bottom). The value axis is
 * log10 from Y_FLOOR_LOG (a count of 1 still shows a stub) to the decade above the largest
 * count; class i of n occupies the slot [i, i + 1) * width / n.
 */
#include "lpt_long_tail_chart.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_chart_draw.h"

#define PAD_LEFT 44.0f
#define PAD_RIGHT 12.0f
#define PAD_TOP 50.0f
#define BAND_HEADER 22.0f /* the band labels' row, above the plot */
#define PAD_BOTTOM 26.0f
#define Y_FLOOR_LOG (-0.3) /* log10 of the axis bottom (about 0.5) */
#define BAR_FILL 0.78f     /* share of a slot a bar covers when bars are wide */
#define DASH 5.0f          /* dash and gap length of the threshold lines */

typedef struct {
    char *name;
    gint64 count;
    LptGroup group;
    guint order; /* position given, to keep ties stable */
} ChartEntry;

struct _LptLongTailChart {
    GtkWidget parent_instance;

    /* owned */
    ChartEntry *entries; /* [n_classes], count descending */
    guint n_classes;
    LptGroupThresholds thresholds;
    double imbalance_ratio;
    char *count_label;
};

G_DEFINE_FINAL_TYPE(LptLongTailChart, lpt_long_tail_chart, GTK_TYPE_WIDGET)

/* The group colours of style.css (blue 3, teal, orange 4 of the GNOME palette). */
static const GdkRGBA group_colors[LPT_GROUP_COUNT] = {
    {0.208f, 0.518f, 0.894f, 1.0f}, /* many */
    {0.129f, 0.565f, 0.643f, 1.0f}, /* medium */
    {0.902f, 0.380f, 0.000f, 1.0f}, /* few */
};

static void clear_entries(LptLongTailChart *self)
{
    for (guint i = 0; i < self->n_classes; i++)
        g_free(self->entries[i].name);
    g_clear_pointer(&self->entries, g_free);
    self->n_classes = 0;
}

static int compare_entries(const void *a, const void *b)
{
    const ChartEntry *ea = a, *eb = b;
    if (ea->count != eb->count)
        return ea->count > eb->count ? -1 : 1;
    return ea->order < eb->order ? -1 : (ea->order > eb->order);
}

/* "7", "250", "3k", "40k", "1M": tick labels. */
static char *format_decade(int decade)
{
    static const char *const suffixes[] = {"", "k", "M", "G"};
    int group = MIN(decade / 3, 3);
    return g_strdup_printf("%.0f%s", pow(10.0, decade - 3 * group), suffixes[group]);
}

static float value_to_y(double value, double top_log, float y0, float plot_h)
{
    double v = value > 0 ? log10(value) : Y_FLOOR_LOG;
    v = CLAMP(v, Y_FLOOR_LOG, top_log);
    return y0 + plot_h * (float)((top_log - v) / (top_log - Y_FLOOR_LOG));
}

static void append_dashed_line(GtkSnapshot *snapshot, float x0, float x1, float y,
                               const GdkRGBA *color)
{
    for (float x = x0; x < x1; x += 2 * DASH)
        gtk_snapshot_append_color(snapshot, color,
                                  &GRAPHENE_RECT_INIT(x, y, MIN(DASH, x1 - x), 1.0f));
}

static void lpt_long_tail_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    LptLongTailChart *self = LPT_LONG_TAIL_CHART(widget);
    float width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);

    if (self->n_classes == 0) {
        GdkRGBA dim = lpt_chart_with_alpha(&fg, 0.55f);
        lpt_chart_append_placeholder(snapshot, widget, _("No classes yet"), &dim);
        return;
    }

    float x0 = PAD_LEFT, y0 = PAD_TOP;
    float plot_w = width - PAD_LEFT - PAD_RIGHT, plot_h = height - PAD_TOP - PAD_BOTTOM;
    if (plot_w < 10 || plot_h < 10)
        return;

    gint64 max_count = MAX(self->entries[0].count, 1);
    int top_decade = MAX((int)ceil(log10((double)max_count) - 1e-9), 1);
    double top_log = top_decade;
    float slot = plot_w / self->n_classes;

    /* Group bands: the classes are sorted by the counts that made the groups, so each group
     * is one run of slots. */
    for (guint start = 0; start < self->n_classes;) {
        guint end = start;
        LptGroup group = self->entries[start].group;
        while (end < self->n_classes && self->entries[end].group == group)
            end++;
        GdkRGBA band = lpt_chart_with_alpha(&group_colors[group], 0.09f);
        float bx = x0 + start * slot, bw = (end - start) * slot;
        gtk_snapshot_append_color(snapshot, &band,
                                  &GRAPHENE_RECT_INIT(bx, y0 - BAND_HEADER, bw,
                                                      plot_h + BAND_HEADER));

        const char *group_names[LPT_GROUP_COUNT] = {C_("group", "Many"), C_("group", "Medium"),
                                                    C_("group", "Few")};
        g_autofree char *label = g_strdup_printf("%s · %u", group_names[group], end - start);
        LptChartTextStyle style = LPT_CHART_TEXT_SMALL | LPT_CHART_TEXT_BOLD;
        int label_w = lpt_chart_append_text(NULL, widget, label, 0, 0, 0, style, &fg);
        if (label_w + 6 <= bw)
            lpt_chart_append_text(snapshot, widget, label, bx + bw / 2, y0 - BAND_HEADER + 3, 0.5f,
                                  style, &group_colors[group]);
        start = end;
    }

    /* Decade grid lines and tick labels. */
    GdkRGBA grid = lpt_chart_with_alpha(&fg, 0.12f), tick = lpt_chart_with_alpha(&fg, 0.6f);
    for (int d = 0; d <= top_decade; d++) {
        float y = value_to_y(pow(10.0, d), top_log, y0, plot_h);
        g_autofree char *label = format_decade(d);
        lpt_chart_append_y_tick(snapshot, widget, label, x0, y, plot_w, &grid, &tick);
    }

    /* Bars. */
    float bar_w = slot >= 4 ? slot * BAR_FILL : MAX(slot, 1.0f);
    float base = y0 + plot_h;
    for (guint i = 0; i < self->n_classes; i++) {
        const ChartEntry *e = &self->entries[i];
        if (e->count <= 0)
            continue;
        float top = value_to_y((double)e->count, top_log, y0, plot_h);
        float bx = x0 + i * slot + (slot - bar_w) / 2;
        GskRoundedRect rect;
        float r = MIN(bar_w / 4, 3.0f);
        gsk_rounded_rect_init(&rect, &GRAPHENE_RECT_INIT(bx, top, bar_w, base - top),
                              &GRAPHENE_SIZE_INIT(r, r), &GRAPHENE_SIZE_INIT(r, r),
                              &GRAPHENE_SIZE_INIT(0, 0), &GRAPHENE_SIZE_INIT(0, 0));
        gtk_snapshot_push_rounded_clip(snapshot, &rect);
        gtk_snapshot_append_color(snapshot, &group_colors[e->group], &rect.bounds);
        gtk_snapshot_pop(snapshot);
    }

    /* Group thresholds: more than many_above is many, fewer than few_below is few. */
    GdkRGBA dash = lpt_chart_with_alpha(&fg, 0.45f);
    if (self->thresholds.many_above > 0)
        append_dashed_line(snapshot, x0, x0 + plot_w,
                           value_to_y((double)self->thresholds.many_above, top_log, y0, plot_h),
                           &dash);
    if (self->thresholds.few_below > 0)
        append_dashed_line(snapshot, x0, x0 + plot_w,
                           value_to_y((double)self->thresholds.few_below, top_log, y0, plot_h),
                           &dash);

    /* Base line, the imbalance ratio, the caption. */
    gtk_snapshot_append_color(snapshot, &tick, &GRAPHENE_RECT_INIT(x0, base, plot_w, 1.0f));
    g_autofree char *ratio = NULL;
    if (isnan(self->imbalance_ratio))
        ratio = g_strdup(_("Imbalance ratio: —"));
    else
        /* Translators: the largest class count over the smallest, as in "120 : 1". */
        ratio = g_strdup_printf(_("Imbalance ratio: %.*f : 1"),
                                self->imbalance_ratio < 10 ? 1 : 0, self->imbalance_ratio);
    lpt_chart_append_text(snapshot, widget, ratio, x0 + plot_w, 2, 1.0f, LPT_CHART_TEXT_BOLD, &fg);
    if (self->count_label != NULL)
        lpt_chart_append_text(snapshot, widget, self->count_label, x0, 2, 0.0f,
                              LPT_CHART_TEXT_PLAIN, &tick);
    g_autofree char *caption =
        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%u class, largest first",
                                    "%u classes, largest first", self->n_classes),
                        self->n_classes);
    lpt_chart_append_text(snapshot, widget, caption, x0 + plot_w / 2, base + 5, 0.5f,
                          LPT_CHART_TEXT_SMALL, &tick);
}

static void lpt_long_tail_chart_measure(GtkWidget *widget, GtkOrientation orientation,
                                        int for_size, int *minimum, int *natural,
                                        int *minimum_baseline, int *natural_baseline)
{
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *minimum = 240;
        *natural = 560;
    } else {
        *minimum = 180;
        *natural = 260;
    }
}

static gboolean lpt_long_tail_chart_query_tooltip(GtkWidget *widget, int x, int y,
                                                  gboolean keyboard_mode, GtkTooltip *tooltip)
{
    LptLongTailChart *self = LPT_LONG_TAIL_CHART(widget);
    float plot_w = gtk_widget_get_width(widget) - PAD_LEFT - PAD_RIGHT;
    int i = lpt_chart_slot_at(x, PAD_LEFT, plot_w, (int)self->n_classes);
    if (i < 0)
        return FALSE;
    const ChartEntry *e = &self->entries[i];
    g_autofree char *text = g_strdup_printf(
        /* Translators: a class's name and its image count in the chart's tooltip */
        g_dngettext(GETTEXT_PACKAGE, "%s: %lld image", "%s: %lld images",
                    (gulong)MIN(e->count, G_MAXLONG)),
        e->name, (long long)e->count);
    gtk_tooltip_set_text(tooltip, text);
    return TRUE;
}

static void lpt_long_tail_chart_finalize(GObject *object)
{
    LptLongTailChart *self = LPT_LONG_TAIL_CHART(object);

    clear_entries(self);
    g_free(self->count_label);

    G_OBJECT_CLASS(lpt_long_tail_chart_parent_class)->finalize(object);
}

static void lpt_long_tail_chart_class_init(LptLongTailChartClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->finalize = lpt_long_tail_chart_finalize;
    widget_class->snapshot = lpt_long_tail_chart_snapshot;
    widget_class->measure = lpt_long_tail_chart_measure;
    widget_class->query_tooltip = lpt_long_tail_chart_query_tooltip;

    gtk_widget_class_set_css_name(widget_class, "longtailchart");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void lpt_long_tail_chart_init(LptLongTailChart *self)
{
    self->thresholds.many_above = LPT_GROUP_MANY_ABOVE_DEFAULT;
    self->thresholds.few_below = LPT_GROUP_FEW_BELOW_DEFAULT;
    self->imbalance_ratio = NAN;
    gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
}

GtkWidget *lpt_long_tail_chart_new(void)
{
    return g_object_new(LPT_TYPE_LONG_TAIL_CHART, NULL);
}

void lpt_long_tail_chart_set_data(LptLongTailChart *self, guint n_classes,
                                  const char *const *names, const gint64 *counts,
                                  const LptGroup *groups, const LptGroupThresholds *thresholds,
                                  double imbalance_ratio, const char *count_label)
{
    g_return_if_fail(LPT_IS_LONG_TAIL_CHART(self));
    g_return_if_fail(n_classes == 0 || (names != NULL && counts != NULL && groups != NULL));

    clear_entries(self);
    self->entries = g_new0(ChartEntry, n_classes);
    for (guint i = 0; i < n_classes; i++) {
        self->entries[i].name = g_strdup(names[i]);
        self->entries[i].count = MAX(counts[i], 0);
        self->entries[i].group = CLAMP(groups[i], LPT_GROUP_MANY, LPT_GROUP_FEW);
        self->entries[i].order = i;
    }
    self->n_classes = n_classes;
    if (n_classes > 0) /* entries is NULL for a project without classes */
        qsort(self->entries, n_classes, sizeof *self->entries, compare_entries);

    if (thresholds != NULL)
        self->thresholds = *thresholds;
    else {
        self->thresholds.many_above = LPT_GROUP_MANY_ABOVE_DEFAULT;
        self->thresholds.few_below = LPT_GROUP_FEW_BELOW_DEFAULT;
    }
    self->imbalance_ratio = imbalance_ratio;
    g_free(self->count_label);
    self->count_label = g_strdup(count_label);

    g_autofree char *description = NULL;
    if (isnan(imbalance_ratio))
        description = g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Long-tail chart of %u class",
                                                  "Long-tail chart of %u classes", n_classes),
                                      n_classes);
    else
        description = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "Long-tail chart of %u class, imbalance ratio %.1f",
                        "Long-tail chart of %u classes, imbalance ratio %.1f", n_classes),
            n_classes, imbalance_ratio);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   description, -1);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint lpt_long_tail_chart_get_n_classes(LptLongTailChart *self)
{
    g_return_val_if_fail(LPT_IS_LONG_TAIL_CHART(self), 0);
    return self->n_classes;
}

const char *lpt_long_tail_chart_get_name(LptLongTailChart *self, guint rank)
{
    g_return_val_if_fail(LPT_IS_LONG_TAIL_CHART(self), NULL);
    g_return_val_if_fail(rank < self->n_classes, NULL);
    return self->entries[rank].name;
}

gint64 lpt_long_tail_chart_get_count(LptLongTailChart *self, guint rank)
{
    g_return_val_if_fail(LPT_IS_LONG_TAIL_CHART(self), -1);
    g_return_val_if_fail(rank < self->n_classes, -1);
    return self->entries[rank].count;
}

LptGroup lpt_long_tail_chart_get_group(LptLongTailChart *self, guint rank)
{
    g_return_val_if_fail(LPT_IS_LONG_TAIL_CHART(self), LPT_GROUP_FEW);
    g_return_val_if_fail(rank < self->n_classes, LPT_GROUP_FEW);
    return self->entries[rank].group;
}

double lpt_long_tail_chart_get_imbalance_ratio(LptLongTailChart *self)
{
    g_return_val_if_fail(LPT_IS_LONG_TAIL_CHART(self), NAN);
    return self->imbalance_ratio;
}

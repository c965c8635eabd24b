/* lpt_training_curves.c: the curves of a training phase (see the header).
 *
 * Layout, in widget coordinates: the legend row (LEGEND_H) on top, then two plots side by
 * side separated by GAP, each inset by PAD_* for its title (top), tick labels (left) and the
 * epoch axis (bottom). x runs over [0, max(epochs, the last point)], y over [0, the loss
 * ceiling] (left) and [0, 1] (right).
 */
#include "lpt_training_curves.h"

#include <math.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

#define LEGEND_H 24.0
#define GAP 24.0
#define PAD_LEFT 44.0
#define PAD_RIGHT 10.0
#define PAD_TOP 24.0
#define PAD_BOTTOM 24.0
#define DOT 3.0

typedef struct {
    double x, loss;
} LossPoint;

struct _LptTrainingCurves {
    GtkWidget parent_instance;

    /* owned */
    GArray *losses; /* LossPoint, in the order added */
    GArray *epochs; /* LptEpochFigures by epoch; all NaN where none was set */
    int n_epochs;   /* the phase's length, 0 when unknown */
    /* The text drawn, shaped once: "0" or "1" (bold) + text -> PangoLayout; emptied when the
     * style (font) changes. Shaping every label at every redraw is most of a redraw's cost. */
    GHashTable *layouts;
};

G_DEFINE_FINAL_TYPE(LptTrainingCurves, lpt_training_curves, GTK_TYPE_WIDGET)

/* The accuracy lines: overall (the text colour), balanced, many, medium, few (the long-tail
 * chart's group colours). */
enum { LINE_OVERALL, LINE_BALANCED, LINE_MANY, LINE_MEDIUM, LINE_FEW, N_LINES };

static const GdkRGBA line_colors[N_LINES] = {
    {0, 0, 0, 0},                   /* overall: the foreground, set when drawing */
    {0.569f, 0.255f, 0.675f, 1.0f}, /* balanced: purple 3 */
    {0.208f, 0.518f, 0.894f, 1.0f}, /* many: blue 3 */
    {0.129f, 0.565f, 0.643f, 1.0f}, /* medium: teal */
    {0.902f, 0.380f, 0.000f, 1.0f}, /* few: orange 4 */
};

static const char *line_name(int line)
{
    switch (line) {
    case LINE_OVERALL:
        return C_("accuracy", "Overall");
    case LINE_BALANCED:
        return C_("accuracy", "Balanced");
    case LINE_MANY:
        return C_("group", "Many");
    case LINE_MEDIUM:
        return C_("group", "Medium");
    case LINE_FEW:
        return C_("group", "Few");
    }
    return "";
}

static double line_value(const LptEpochFigures *f, int line)
{
    switch (line) {
    case LINE_OVERALL:
        return f->overall;
    case LINE_BALANCED:
        return f->balanced;
    case LINE_MANY:
        return f->many;
    case LINE_MEDIUM:
        return f->medium;
    case LINE_FEW:
        return f->few;
    }
    return NAN;
}

static gboolean has_val(const LptEpochFigures *f)
{
    for (int line = 0; line < N_LINES; line++)
        if (!isnan(line_value(f, line)))
            return TRUE;
    return FALSE;
}

/* ---- Geometry ---- */

typedef struct {
    double x0, y0, w, h; /* the plot rectangle */
    double x_max, y_max;
} Plot;

static double plot_x(const Plot *p, double x)
{
    return p->x0 + p->w * CLAMP(x / p->x_max, 0.0, 1.0);
}

static double plot_y(const Plot *p, double y)
{
    return p->y0 + p->h * (1.0 - CLAMP(y / p->y_max, 0.0, 1.0));
}

/* The x extent: the phase's epochs, or the last point when beyond them (at least 1). */
static double x_extent(const LptTrainingCurves *self)
{
    double x = MAX(self->n_epochs, 1);
    if (self->losses->len > 0)
        x = MAX(x, g_array_index(self->losses, LossPoint, self->losses->len - 1).x);
    return MAX(x, (double)self->epochs->len);
}

/* A "nice" ceiling for the loss axis (1, 2 or 5 times a power of ten, at least 1e-3). */
static double nice_ceiling(double value)
{
    if (!(value > 1e-3))
        return 1e-3;
    double decade = pow(10.0, floor(log10(value)));
    for (int i = 0; i < 3; i++) {
        static const double steps[] = {1.0, 2.0, 5.0};
        if (steps[i] * decade >= value)
            return steps[i] * decade;
    }
    return 10.0 * decade;
}

static double loss_max(const LptTrainingCurves *self)
{
    double m = 0.0;
    for (guint i = 0; i < self->losses->len; i++) {
        double v = g_array_index(self->losses, LossPoint, i).loss;
        if (isfinite(v))
            m = MAX(m, v);
    }
    for (guint e = 0; e < self->epochs->len; e++) {
        double v = g_array_index(self->epochs, LptEpochFigures, e).loss;
        if (isfinite(v))
            m = MAX(m, v);
    }
    return nice_ceiling(m * 1.05);
}

/* The two plot rectangles for a widget of width x height. */
static void layout_plots(const LptTrainingCurves *self, double width, double height, Plot *loss,
                         Plot *acc)
{
    double plot_w = (width - GAP) / 2.0 - PAD_LEFT - PAD_RIGHT;
    double plot_h = height - LEGEND_H - PAD_TOP - PAD_BOTTOM;
    *loss = (Plot){PAD_LEFT, LEGEND_H + PAD_TOP, plot_w, plot_h, x_extent(self), loss_max(self)};
    *acc = (Plot){width / 2.0 + GAP / 2.0 + PAD_LEFT,
                  LEGEND_H + PAD_TOP,
                  plot_w,
                  plot_h,
                  x_extent(self),
                  1.0};
}

/* ---- Drawing ---- */

static void set_color(cairo_t *cr, const GdkRGBA *c, double alpha)
{
    cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha * alpha);
}

/* The small-print layout of text (owned by the cache). */
static PangoLayout *text_layout(LptTrainingCurves *self, const char *text, gboolean bold)
{
    g_autofree char *key = g_strconcat(bold ? "1" : "0", text, NULL);
    PangoLayout *layout = g_hash_table_lookup(self->layouts, key);
    if (layout != NULL)
        return layout;
    if (g_hash_table_size(self->layouts) >= 512) /* tick labels of long-gone axes */
        g_hash_table_remove_all(self->layouts);
    layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
    if (bold)
        pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    g_hash_table_insert(self->layouts, g_steal_pointer(&key), layout);
    return layout;
}

/* Text with its anchor at (x, y): align 0 = left, 0.5 = centred, 1 = right; valign likewise. */
static void draw_text(cairo_t *cr, LptTrainingCurves *self, const char *text, double x, double y,
                      double align, double valign, gboolean bold, const GdkRGBA *color,
                      double alpha)
{
    PangoLayout *layout = text_layout(self, text, bold);
    int w, h;
    pango_layout_get_pixel_size(layout, &w, &h);
    set_color(cr, color, alpha);
    cairo_move_to(cr, round(x - align * w), round(y - valign * h));
    pango_cairo_show_layout(cr, layout);
}

/* The frame, grid lines, tick labels and title of a plot; y ticks at y_max * i / 4. */
static void draw_axes(cairo_t *cr, LptTrainingCurves *self, const Plot *p, const char *title,
                      gboolean percent, const GdkRGBA *fg)
{
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i <= 4; i++) {
        double v = p->y_max * i / 4.0, y = round(plot_y(p, v)) + 0.5;
        set_color(cr, fg, i == 0 ? 0.35 : 0.10);
        cairo_move_to(cr, p->x0, y);
        cairo_line_to(cr, p->x0 + p->w, y);
        cairo_stroke(cr);
        g_autofree char *label =
            percent ? g_strdup_printf("%.0f%%", 100.0 * v) : g_strdup_printf("%.3g", v);
        draw_text(cr, self, label, p->x0 - 6, y, 1.0, 0.5, FALSE, fg, 0.6);
    }
    /* Epoch ticks: every epoch while they fit, else every k-th. */
    int n = (int)ceil(p->x_max);
    int every = MAX(1, (int)ceil(n / MAX(p->w / 36.0, 1.0)));
    for (int e = 0; e <= n; e += every) {
        double x = round(plot_x(p, e)) + 0.5;
        set_color(cr, fg, 0.35);
        cairo_move_to(cr, x, p->y0 + p->h);
        cairo_line_to(cr, x, p->y0 + p->h + 4);
        cairo_stroke(cr);
        g_autofree char *label = g_strdup_printf("%d", e);
        draw_text(cr, self, label, x, p->y0 + p->h + 5, 0.5, 0.0, FALSE, fg, 0.6);
    }
    draw_text(cr, self, title, p->x0, p->y0 - 6, 0.0, 1.0, TRUE, fg, 0.85);
}

/* Extends the path being drawn to (x, y), or starts it there (at the start or after a gap). */
static void path_to(cairo_t *cr, gboolean *drawing, double x, double y)
{
    if (*drawing)
        cairo_line_to(cr, x, y);
    else
        cairo_move_to(cr, x, y);
    *drawing = TRUE;
}

/* What an epoch line shows of a finished epoch (line: a LINE_*, where the value needs one). */
typedef double (*EpochValueFunc)(const LptEpochFigures *f, int line);

static double epoch_loss(const LptEpochFigures *f, int line)
{
    return f->loss;
}

/* A line through every finished epoch's value (NaN: a gap) in the current source and dash,
 * then, undashed, a dot on each value. */
static void draw_epoch_line(LptTrainingCurves *self, cairo_t *cr, const Plot *p,
                            EpochValueFunc value, int line)
{
    gboolean drawing = FALSE;
    for (guint e = 0; e < self->epochs->len; e++) {
        double v = value(&g_array_index(self->epochs, LptEpochFigures, e), line);
        if (isnan(v)) {
            drawing = FALSE;
            continue;
        }
        path_to(cr, &drawing, plot_x(p, e + 1.0), plot_y(p, v));
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    for (guint e = 0; e < self->epochs->len; e++) {
        double v = value(&g_array_index(self->epochs, LptEpochFigures, e), line);
        if (isnan(v))
            continue;
        cairo_arc(cr, plot_x(p, e + 1.0), plot_y(p, v), DOT, 0, 2 * G_PI);
        cairo_fill(cr);
    }
}

static void draw_loss(LptTrainingCurves *self, cairo_t *cr, const Plot *p, const GdkRGBA *accent)
{
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_width(cr, 1.25);
    set_color(cr, accent, 0.55);
    gboolean drawing = FALSE;
    for (guint i = 0; i < self->losses->len; i++) {
        const LossPoint *pt = &g_array_index(self->losses, LossPoint, i);
        if (!isfinite(pt->loss)) {
            drawing = FALSE;
            continue;
        }
        path_to(cr, &drawing, plot_x(p, pt->x), plot_y(p, pt->loss));
    }
    cairo_stroke(cr);

    /* Each finished epoch's mean, joined. */
    cairo_set_line_width(cr, 2.0);
    set_color(cr, accent, 1.0);
    draw_epoch_line(self, cr, p, epoch_loss, 0);
}

static void draw_accuracy(LptTrainingCurves *self, cairo_t *cr, const Plot *p,
                          const GdkRGBA *colors)
{
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (int line = N_LINES - 1; line >= 0; line--) {
        set_color(cr, &colors[line], 1.0);
        cairo_set_line_width(cr, line == LINE_OVERALL ? 2.25 : 1.75);
        if (line == LINE_BALANCED) {
            static const double dash[] = {5.0, 3.0};
            cairo_set_dash(cr, dash, 2, 0);
        }
        draw_epoch_line(self, cr, p, line_value, line);
    }
}

typedef struct {
    const char *label;
    const GdkRGBA *color;
    double alpha;
} LegendItem;

/* The legend in the top row: the step losses and the epoch means over the loss plot, a
 * swatch per accuracy line over the accuracy plot. */
static void draw_legend(LptTrainingCurves *self, cairo_t *cr, double width, const GdkRGBA *accent,
                        const GdkRGBA *colors, const GdkRGBA *fg)
{
    double x = 0.0, y = LEGEND_H / 2.0;
    LegendItem items[N_LINES + 2] = {
        {_("Loss per step"), accent, 0.55},
        {_("Loss per epoch"), accent, 1.0},
    };
    for (int line = 0; line < N_LINES; line++)
        items[2 + line] = (LegendItem){line_name(line), &colors[line], 1.0};
    /* Loss items start the left plot; accuracy items start the right one. */
    for (int i = 0; i < N_LINES + 2; i++) {
        if (i == 0)
            x = PAD_LEFT;
        else if (i == 2)
            x = width / 2.0 + GAP / 2.0 + PAD_LEFT;
        set_color(cr, items[i].color, items[i].alpha);
        cairo_rectangle(cr, x, y - 1.5, 14, 3);
        cairo_fill(cr);
        int w, h;
        pango_layout_get_pixel_size(text_layout(self, items[i].label, FALSE), &w, &h);
        draw_text(cr, self, items[i].label, x + 18, y, 0.0, 0.5, FALSE, fg, 0.8);
        x += 18 + w + 14;
    }
}

static void lpt_training_curves_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    LptTrainingCurves *self = LPT_TRAINING_CURVES(widget);
    double width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    GtkStyleContext *style = gtk_widget_get_style_context(widget);
    GdkRGBA fg, accent;
    gtk_style_context_get_color(style, &fg);
    if (!gtk_style_context_lookup_color(style, "accent_color", &accent))
        accent = (GdkRGBA){0.208f, 0.518f, 0.894f, 1.0f};
    GdkRGBA colors[N_LINES];
    for (int line = 0; line < N_LINES; line++)
        colors[line] = line_colors[line];
    colors[LINE_OVERALL] = fg;

    Plot loss, acc;
    layout_plots(self, width, height, &loss, &acc);
    if (loss.w < 20 || loss.h < 20)
        return;

    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, width, height));
    draw_legend(self, cr, width, &accent, colors, &fg);
    draw_axes(cr, self, &loss, _("Training loss"), FALSE, &fg);
    draw_axes(cr, self, &acc, _("Validation accuracy"), TRUE, &fg);
    if (self->losses->len == 0 && self->epochs->len == 0)
        draw_text(cr, self, _("No steps yet"), loss.x0 + loss.w / 2, loss.y0 + loss.h / 2, 0.5, 0.5,
                  FALSE, &fg, 0.55);
    if (lpt_training_curves_get_n_val_epochs(self) == 0)
        draw_text(cr, self, _("Points come after each epoch"), acc.x0 + acc.w / 2,
                  acc.y0 + acc.h / 2, 0.5, 0.5, FALSE, &fg, 0.55);
    draw_loss(self, cr, &loss, &accent);
    draw_accuracy(self, cr, &acc, colors);
    cairo_destroy(cr);
}

static void lpt_training_curves_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                        int *minimum, int *natural, int *minimum_baseline,
                                        int *natural_baseline)
{
    if (orientation == GTK_ORIENTATION_HORIZONTAL) {
        *minimum = 360;
        *natural = 800;
    } else {
        *minimum = 180;
        *natural = 240;
    }
}

/* The epoch under x, or -1. */
static int epoch_at(LptTrainingCurves *self, double x, double y)
{
    Plot loss, acc;
    layout_plots(self, gtk_widget_get_width(GTK_WIDGET(self)),
                 gtk_widget_get_height(GTK_WIDGET(self)), &loss, &acc);
    const Plot *p = x >= acc.x0 - PAD_LEFT ? &acc : &loss;
    if (y < p->y0 || y > p->y0 + p->h || x < p->x0 - DOT || x > p->x0 + p->w + DOT)
        return -1;
    int e = (int)lround((x - p->x0) / p->w * p->x_max) - 1;
    if (e < 0 || (guint)e >= self->epochs->len)
        return -1;
    return e;
}

static gboolean lpt_training_curves_query_tooltip(GtkWidget *widget, int x, int y,
                                                  gboolean keyboard, GtkTooltip *tooltip)
{
    LptTrainingCurves *self = LPT_TRAINING_CURVES(widget);
    int e = epoch_at(self, x, y);
    if (e < 0)
        return FALSE;
    const LptEpochFigures *f = &g_array_index(self->epochs, LptEpochFigures, e);
    GString *text = g_string_new(NULL);
    /* Translators: the title of a tooltip over the training curves, as in "Epoch 3" */
    g_string_append_printf(text, _("Epoch %d"), e + 1);
    if (!isnan(f->loss))
        /* Translators: a mean training loss in a tooltip */
        g_string_append_printf(text, _("\nLoss %.4f"), f->loss);
    for (int line = 0; line < N_LINES; line++) {
        double v = line_value(f, line);
        if (!isnan(v))
            /* Translators: an accuracy in a tooltip, as in "Balanced 71.3 %" */
            g_string_append_printf(text, _("\n%s %.1f %%"), line_name(line), 100.0 * v);
    }
    gtk_tooltip_set_text(tooltip, text->str);
    g_string_free(text, TRUE);
    return TRUE;
}

static void update_description(LptTrainingCurves *self)
{
    g_autofree char *text = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "Training curves: %u loss point, %u validated epoch",
                    "Training curves: %u loss points, %u validated epochs", self->losses->len),
        self->losses->len, lpt_training_curves_get_n_val_epochs(self));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

static void lpt_training_curves_css_changed(GtkWidget *widget, GtkCssStyleChange *change)
{
    GTK_WIDGET_CLASS(lpt_training_curves_parent_class)->css_changed(widget, change);
    g_hash_table_remove_all(LPT_TRAINING_CURVES(widget)->layouts);
}

static void lpt_training_curves_finalize(GObject *object)
{
    LptTrainingCurves *self = LPT_TRAINING_CURVES(object);

    g_hash_table_unref(self->layouts);
    g_array_unref(self->losses);
    g_array_unref(self->epochs);

    G_OBJECT_CLASS(lpt_training_curves_parent_class)->finalize(object);
}

static void lpt_training_curves_class_init(LptTrainingCurvesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->finalize = lpt_training_curves_finalize;
    widget_class->snapshot = lpt_training_curves_snapshot;
    widget_class->measure = lpt_training_curves_measure;
    widget_class->query_tooltip = lpt_training_curves_query_tooltip;
    widget_class->css_changed = lpt_training_curves_css_changed;

    gtk_widget_class_set_css_name(widget_class, "trainingcurves");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void lpt_training_curves_init(LptTrainingCurves *self)
{
    self->losses = g_array_new(FALSE, FALSE, sizeof(LossPoint));
    self->epochs = g_array_new(FALSE, FALSE, sizeof(LptEpochFigures));
    self->layouts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
    update_description(self);
}

GtkWidget *lpt_training_curves_new(void)
{
    return g_object_new(LPT_TYPE_TRAINING_CURVES, NULL);
}

void lpt_training_curves_clear(LptTrainingCurves *self, int epochs)
{
    g_return_if_fail(LPT_IS_TRAINING_CURVES(self));
    g_array_set_size(self->losses, 0);
    g_array_set_size(self->epochs, 0);
    self->n_epochs = MAX(epochs, 0);
    update_description(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lpt_training_curves_add_loss(LptTrainingCurves *self, double x, double loss)
{
    g_return_if_fail(LPT_IS_TRAINING_CURVES(self));
    LossPoint point = {x, loss};
    g_array_append_val(self->losses, point);
    update_description(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lpt_training_curves_set_epoch(LptTrainingCurves *self, int epoch,
                                   const LptEpochFigures *figures)
{
    g_return_if_fail(LPT_IS_TRAINING_CURVES(self));
    g_return_if_fail(epoch >= 0 && figures != NULL);
    static const LptEpochFigures none = {NAN, NAN, NAN, NAN, NAN, NAN};
    while (self->epochs->len <= (guint)epoch)
        g_array_append_val(self->epochs, none);
    g_array_index(self->epochs, LptEpochFigures, epoch) = *figures;
    update_description(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint lpt_training_curves_get_n_losses(LptTrainingCurves *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_CURVES(self), 0);
    return self->losses->len;
}

guint lpt_training_curves_get_n_val_epochs(LptTrainingCurves *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_CURVES(self), 0);
    guint n = 0;
    for (guint e = 0; e < self->epochs->len; e++)
        n += has_val(&g_array_index(self->epochs, LptEpochFigures, e));
    return n;
}

gboolean lpt_training_curves_get_epoch(LptTrainingCurves *self, int epoch, LptEpochFigures *figures)
{
    g_return_val_if_fail(LPT_IS_TRAINING_CURVES(self), FALSE);
    if (epoch < 0 || (guint)epoch >= self->epochs->len)
        return FALSE;
    const LptEpochFigures *f = &g_array_index(self->epochs, LptEpochFigures, epoch);
    if (isnan(f->loss) && !has_val(f))
        return FALSE;
    if (figures != NULL)
        *figures = *f;
    return TRUE;
}

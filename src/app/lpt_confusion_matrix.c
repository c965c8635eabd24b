/* lpt_confusion_matrix.c: the confusion matrix widget (see the header).
 *
 * Layout, in widget coordinates: the row names in a column of width label_w left of x0, the
 * column names (turned a quarter) in a row of height label_h at the top, the cells in the
 * rest, offset by the adjustments' values: cell (r, c) covers [x0 + c s - h, +s) x
 * [label_h + r s - v, +s) with s the cell size, h and v the scroll positions. The names'
 * font scales with the cell size (LABEL_FULL_CELL and up: the widget's font) and they hide
 * below LABEL_MIN_CELL.
 */
#include "lpt_confusion_matrix.h"

#include <math.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

#define FIT_MAX_CELL 40.0    /* fitting never makes cells larger than this */
#define LABEL_MIN_CELL 7.0   /* smaller cells show no names */
#define LABEL_FULL_CELL 18.0 /* cells from this size show names at the full font size */
#define LABEL_MAX_WIDTH 160  /* names longer than this are ellipsized (px) */
#define LABEL_GAP 6.0f       /* between the names and the cells */
#define NUMBER_MIN_CELL 26.0 /* smaller cells show no numbers */
#define ZOOM_STEP 1.2

struct _LptConfusionMatrix {
    GtkWidget parent_instance;

    /* owned */
    int K;
    gint64 *counts;   /* [K * K] */
    gint64 *row_sums; /* [K] */
    gint64 max_count;
    char **names; /* [K + 1], NULL-terminated */
    gboolean normalized;
    gboolean fit;   /* the cell size follows the allocation */
    double cell;    /* px */
    int names_width; /* the widest name at the full font size (px) */
    float label_w;  /* the row names' column, LABEL_GAP included (0: none) */
    float x0;       /* the cells' left edge: label_w, plus half the room left when they are
                       narrower than the widget (the matrix is centred) */
    float label_h;  /* the column names' row */
    int cursor_row, cursor_column;
    gboolean has_cursor; /* a cell was activated or the keyboard moved: it is outlined */
    double pointer_x, pointer_y; /* where Ctrl + scroll zooms around */
    GtkAdjustment *hadjustment, *vadjustment;
    GtkScrollablePolicy hscroll_policy, vscroll_policy;
};

static void scrollable_init(GtkScrollableInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE(LptConfusionMatrix, lpt_confusion_matrix, GTK_TYPE_WIDGET,
                              G_IMPLEMENT_INTERFACE(GTK_TYPE_SCROLLABLE, scrollable_init))

enum {
    PROP_0,
    PROP_HADJUSTMENT,
    PROP_VADJUSTMENT,
    PROP_HSCROLL_POLICY,
    PROP_VSCROLL_POLICY,
};

enum { SIGNAL_CELL_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- Geometry ---- */

/* The names' font scale at the current cell size (0: no names). */
static double label_scale(LptConfusionMatrix *self)
{
    if (self->cell < LABEL_MIN_CELL)
        return 0.0;
    return MIN(1.0, MAX(0.55, self->cell / LABEL_FULL_CELL));
}

static PangoLayout *name_layout(LptConfusionMatrix *self, const char *text, double scale)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_scale_new(scale * PANGO_SCALE_SMALL));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    pango_layout_set_width(layout, LABEL_MAX_WIDTH * PANGO_SCALE);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    return layout;
}

/* The widest name at the full font size (names_width), once per data. */
static void measure_names(LptConfusionMatrix *self)
{
    int widest = 0;
    for (int k = 0; k < self->K; k++) {
        PangoLayout *layout = name_layout(self, self->names[k], 1.0);
        int w, h;
        pango_layout_get_pixel_size(layout, &w, &h);
        widest = MAX(widest, w);
        g_object_unref(layout);
    }
    self->names_width = widest;
}

/* label_w, label_h and x0 for the current cell size and width: the widest name at the
 * names' scale (text scales about linearly), at most LABEL_MAX_WIDTH. */
static void measure_labels(LptConfusionMatrix *self)
{
    double widest = MIN(self->names_width * label_scale(self), LABEL_MAX_WIDTH);
    self->label_w = self->label_h = widest > 0.0 ? (float)ceil(widest) + LABEL_GAP : 0.0f;
    int width = gtk_widget_get_width(GTK_WIDGET(self));
    self->x0 = self->label_w + (float)MAX(0.0, (width - self->label_w - self->K * self->cell) / 2);
}

/* Sets the cell size that fits the matrix into width x height (the names beside it). */
static void fit_cell(LptConfusionMatrix *self, int width, int height)
{
    self->cell = FIT_MAX_CELL;
    for (int pass = 0; self->K > 0 && pass < 3; pass++) { /* the names' size follows the cells' */
        measure_labels(self);
        double cell = MIN((width - self->label_w) / self->K, (height - self->label_h) / self->K);
        self->cell = CLAMP(floor(cell), LPT_CONFUSION_MATRIX_MIN_CELL, FIT_MAX_CELL);
    }
}

static void configure_adjustment(GtkAdjustment *adj, double content, double page)
{
    if (adj == NULL)
        return;
    page = MAX(page, 1.0);
    double value = CLAMP(gtk_adjustment_get_value(adj), 0.0, MAX(0.0, content - page));
    gtk_adjustment_configure(adj, value, 0.0, MAX(content, page), MAX(page * 0.1, 1.0),
                             page * 0.9, page);
}

static void update_adjustments(LptConfusionMatrix *self)
{
    int width = gtk_widget_get_width(GTK_WIDGET(self));
    int height = gtk_widget_get_height(GTK_WIDGET(self));
    configure_adjustment(self->hadjustment, self->K * self->cell, width - self->x0);
    configure_adjustment(self->vadjustment, self->K * self->cell, height - self->label_h);
}

static double adjustment_value(GtkAdjustment *adj)
{
    return adj != NULL ? gtk_adjustment_get_value(adj) : 0.0;
}

gboolean lpt_confusion_matrix_cell_at(LptConfusionMatrix *self, double x, double y, int *row,
                                      int *column)
{
    g_return_val_if_fail(LPT_IS_CONFUSION_MATRIX(self), FALSE);
    if (self->K == 0 || x < self->x0 || y < self->label_h)
        return FALSE;
    int c = (int)floor((x - self->x0 + adjustment_value(self->hadjustment)) / self->cell);
    int r = (int)floor((y - self->label_h + adjustment_value(self->vadjustment)) / self->cell);
    if (r < 0 || r >= self->K || c < 0 || c >= self->K)
        return FALSE;
    *row = r;
    *column = c;
    return TRUE;
}

gboolean lpt_confusion_matrix_cell_center(LptConfusionMatrix *self, int row, int column,
                                          double *x, double *y)
{
    g_return_val_if_fail(LPT_IS_CONFUSION_MATRIX(self), FALSE);
    if (row < 0 || row >= self->K || column < 0 || column >= self->K)
        return FALSE;
    *x = self->x0 + (column + 0.5) * self->cell - adjustment_value(self->hadjustment);
    *y = self->label_h + (row + 0.5) * self->cell - adjustment_value(self->vadjustment);
    return *x >= self->x0 && *x < gtk_widget_get_width(GTK_WIDGET(self)) &&
           *y >= self->label_h && *y < gtk_widget_get_height(GTK_WIDGET(self));
}

/* Scrolls adj so that [start, start + size) shows. */
static void reveal(GtkAdjustment *adj, double start, double size)
{
    if (adj == NULL)
        return;
    double value = gtk_adjustment_get_value(adj), page = gtk_adjustment_get_page_size(adj);
    if (start < value)
        gtk_adjustment_set_value(adj, start);
    else if (start + size > value + page)
        gtk_adjustment_set_value(adj, start + size - page);
}

void lpt_confusion_matrix_scroll_to(LptConfusionMatrix *self, int row, int column)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    reveal(self->hadjustment, column * self->cell, self->cell);
    reveal(self->vadjustment, row * self->cell, self->cell);
}

/* ---- Data ---- */

static void clear_data(LptConfusionMatrix *self)
{
    g_clear_pointer(&self->counts, g_free);
    g_clear_pointer(&self->row_sums, g_free);
    g_clear_pointer(&self->names, g_strfreev);
    self->K = 0;
    self->max_count = 0;
    self->names_width = 0;
}

void lpt_confusion_matrix_set_data(LptConfusionMatrix *self, int num_classes,
                                   const gint64 *counts, const char *const *names)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    g_return_if_fail(num_classes >= 0);
    g_return_if_fail(num_classes == 0 || (counts != NULL && names != NULL));

    clear_data(self);
    self->K = num_classes;
    gsize cells = (gsize)num_classes * (gsize)num_classes;
    self->counts = g_memdup2(counts, cells * sizeof *counts);
    self->row_sums = g_new0(gint64, MAX(num_classes, 1));
    self->names = g_new0(char *, num_classes + 1);
    for (int r = 0; r < num_classes; r++) {
        self->names[r] = g_strdup(names[r]);
        for (int c = 0; c < num_classes; c++) {
            gint64 n = counts[(gsize)r * num_classes + c];
            self->row_sums[r] += n;
            self->max_count = MAX(self->max_count, n);
        }
    }
    self->cursor_row = self->cursor_column = 0;
    self->has_cursor = FALSE;
    measure_names(self);
    measure_labels(self);
    gtk_widget_queue_resize(GTK_WIDGET(self));
}

void lpt_confusion_matrix_set_normalized(LptConfusionMatrix *self, gboolean normalized)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    self->normalized = normalized != FALSE;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean lpt_confusion_matrix_get_normalized(LptConfusionMatrix *self)
{
    g_return_val_if_fail(LPT_IS_CONFUSION_MATRIX(self), FALSE);
    return self->normalized;
}

/* Sets the cell size, keeping the matrix point under (x, y) (widget coordinates) in place. */
static void set_cell_size(LptConfusionMatrix *self, double cell, double x, double y)
{
    cell = CLAMP(cell, LPT_CONFUSION_MATRIX_MIN_CELL, LPT_CONFUSION_MATRIX_MAX_CELL);
    double px = MAX(x - self->x0, 0.0), py = MAX(y - self->label_h, 0.0);
    double mx = (adjustment_value(self->hadjustment) + px) / self->cell;
    double my = (adjustment_value(self->vadjustment) + py) / self->cell;
    self->fit = FALSE;
    self->cell = cell;
    measure_labels(self);
    update_adjustments(self);
    if (self->hadjustment != NULL)
        gtk_adjustment_set_value(self->hadjustment, mx * cell - px);
    if (self->vadjustment != NULL)
        gtk_adjustment_set_value(self->vadjustment, my * cell - py);
    gtk_widget_queue_allocate(GTK_WIDGET(self));
}

void lpt_confusion_matrix_zoom(LptConfusionMatrix *self, double factor)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    g_return_if_fail(factor > 0.0);
    set_cell_size(self, self->cell * factor, self->x0, self->label_h);
}

void lpt_confusion_matrix_zoom_to_fit(LptConfusionMatrix *self)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    self->fit = TRUE;
    gtk_widget_queue_allocate(GTK_WIDGET(self));
}

double lpt_confusion_matrix_get_cell_size(LptConfusionMatrix *self)
{
    g_return_val_if_fail(LPT_IS_CONFUSION_MATRIX(self), 0.0);
    return self->cell;
}

char *lpt_confusion_matrix_describe_cell(LptConfusionMatrix *self, int row, int column)
{
    g_return_val_if_fail(LPT_IS_CONFUSION_MATRIX(self), NULL);
    if (row < 0 || row >= self->K || column < 0 || column >= self->K)
        return NULL;
    gint64 n = self->counts[(gsize)row * self->K + column];
    double share = self->row_sums[row] > 0 ? 100.0 * (double)n / (double)self->row_sums[row] : 0.0;
    g_autofree char *images =
        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lld image", "%lld images",
                                    (gulong)CLAMP(n, 0, G_MAXLONG)),
                        (long long)n);
    /* Translators: a confusion matrix cell's tooltip: the true class, the predicted class, the
     * image count ("12 images") and its share of the true class's images */
    return g_strdup_printf(_("True: %s\nPredicted: %s\n%s · %.1f %% of the class"),
                           self->names[row], self->names[column], images, share);
}

/* ---- Drawing ---- */

/* The colour intensity of a cell in [0, 1] on the log scale (0: empty). */
static double cell_intensity(LptConfusionMatrix *self, int row, int column)
{
    gint64 n = self->counts[(gsize)row * self->K + column];
    if (n <= 0)
        return 0.0;
    if (self->normalized) /* 1 % of the row -> 0.15, 10 % -> 0.5, all of it -> 1 */
        return log10(1.0 + 99.0 * (double)n / (double)self->row_sums[row]) / 2.0;
    return log1p((double)n) / log1p((double)MAX(self->max_count, 1));
}

static void append_name(GtkSnapshot *snapshot, PangoLayout *layout, float x, float y,
                        float rotation, const GdkRGBA *color)
{
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT(x, y));
    if (rotation != 0.0f)
        gtk_snapshot_rotate(snapshot, rotation);
    gtk_snapshot_append_layout(snapshot, layout, color);
    gtk_snapshot_restore(snapshot);
}

static void draw_names(LptConfusionMatrix *self, GtkSnapshot *snapshot, const GdkRGBA *fg,
                       int r0, int r1, int c0, int c1, float width, float height)
{
    double scale = label_scale(self);
    if (scale <= 0.0)
        return;
    double h = adjustment_value(self->hadjustment), v = adjustment_value(self->vadjustment);
    GdkRGBA dim = *fg;
    dim.alpha *= 0.8f;

    gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, self->label_h, self->x0,
                                                         height - self->label_h));
    for (int r = r0; r < r1; r++) { /* right-aligned, centred on the row */
        PangoLayout *layout = name_layout(self, self->names[r], scale);
        int w, lh;
        pango_layout_get_pixel_size(layout, &w, &lh);
        float y = self->label_h + (float)((r + 0.5) * self->cell - v) - lh / 2.0f;
        append_name(snapshot, layout, self->x0 - LABEL_GAP - w, y, 0.0f,
                    self->has_cursor && r == self->cursor_row ? fg : &dim);
        g_object_unref(layout);
    }
    gtk_snapshot_pop(snapshot);

    gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(self->x0, 0, width - self->x0,
                                                         self->label_h));
    for (int c = c0; c < c1; c++) { /* upwards from the cells, centred on the column */
        PangoLayout *layout = name_layout(self, self->names[c], scale);
        int w, lh;
        pango_layout_get_pixel_size(layout, &w, &lh);
        float x = self->x0 + (float)((c + 0.5) * self->cell - h) - lh / 2.0f;
        append_name(snapshot, layout, x, self->label_h - LABEL_GAP, -90.0f,
                    self->has_cursor && c == self->cursor_column ? fg : &dim);
        g_object_unref(layout);
    }
    gtk_snapshot_pop(snapshot);
}

static void draw_number(LptConfusionMatrix *self, GtkSnapshot *snapshot, int row, int column,
                        float x, float y, const GdkRGBA *color)
{
    gint64 n = self->counts[(gsize)row * self->K + column];
    g_autofree char *text =
        self->normalized
            ? g_strdup_printf("%.0f", 100.0 * (double)n / (double)MAX(self->row_sums[row], 1))
            : g_strdup_printf("%lld", (long long)n);
    PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    int w, h;
    pango_layout_get_pixel_size(layout, &w, &h);
    if (w + 4 <= self->cell)
        append_name(snapshot, layout, x + ((float)self->cell - w) / 2.0f,
                    y + ((float)self->cell - h) / 2.0f, 0.0f, color);
    g_object_unref(layout);
}

static void lpt_confusion_matrix_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(widget);
    float width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    if (self->K == 0 || width <= self->x0 || height <= self->label_h)
        return;
    GtkStyleContext *style = gtk_widget_get_style_context(widget);
    GdkRGBA fg, accent = {0.208f, 0.518f, 0.894f, 1.0f};
    gtk_style_context_get_color(style, &fg);
    gtk_style_context_lookup_color(style, "accent_bg_color", &accent);
    GdkRGBA white = {1.0f, 1.0f, 1.0f, 1.0f};

    double h = adjustment_value(self->hadjustment), v = adjustment_value(self->vadjustment);
    float s = (float)self->cell, gap = s >= 10.0f ? 1.0f : 0.0f;
    int c0 = MAX(0, (int)floor(h / s)), c1 = MIN(self->K, (int)ceil((h + width) / s) + 1);
    int r0 = MAX(0, (int)floor(v / s)), r1 = MIN(self->K, (int)ceil((v + height) / s) + 1);

    gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(self->x0, self->label_h,
                                                         width - self->x0,
                                                         height - self->label_h));
    GdkRGBA empty = fg, diagonal = fg;
    empty.alpha *= 0.05f;
    diagonal.alpha *= 0.35f;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) {
            float x = self->x0 + c * s - (float)h, y = self->label_h + r * s - (float)v;
            double t = cell_intensity(self, r, c);
            GdkRGBA color = accent;
            color.alpha = (float)(0.08 + 0.92 * t);
            graphene_rect_t rect = GRAPHENE_RECT_INIT(x, y, s - gap, s - gap);
            gtk_snapshot_append_color(snapshot, t > 0.0 ? &color : &empty, &rect);
            if (r == c && gap > 0.0f) {
                GskRoundedRect outline;
                gsk_rounded_rect_init_from_rect(&outline, &rect, 0.0f);
                const float widths[4] = {1.0f, 1.0f, 1.0f, 1.0f};
                const GdkRGBA colors[4] = {diagonal, diagonal, diagonal, diagonal};
                gtk_snapshot_append_border(snapshot, &outline, widths, colors);
            }
            if (s >= NUMBER_MIN_CELL && t > 0.0)
                draw_number(self, snapshot, r, c, x, y, t > 0.55 ? &white : &fg);
        }
    if (self->has_cursor) { /* the cell activated last, or the keyboard's */
        float x = self->x0 + self->cursor_column * s - (float)h;
        float y = self->label_h + self->cursor_row * s - (float)v;
        GskRoundedRect outline;
        gsk_rounded_rect_init_from_rect(&outline, &GRAPHENE_RECT_INIT(x - 1, y - 1, s + 1, s + 1),
                                        2.0f);
        GdkRGBA c = fg;
        c.alpha *= gtk_widget_has_focus(widget) ? 1.0f : 0.7f;
        const float widths[4] = {2.0f, 2.0f, 2.0f, 2.0f};
        const GdkRGBA colors[4] = {c, c, c, c};
        gtk_snapshot_append_border(snapshot, &outline, widths, colors);
    }
    gtk_snapshot_pop(snapshot);
    draw_names(self, snapshot, &fg, r0, r1, c0, c1, width, height);
}

/* ---- Size ---- */

static void lpt_confusion_matrix_measure(GtkWidget *widget, GtkOrientation orientation,
                                         int for_size, int *minimum, int *natural,
                                         int *minimum_baseline, int *natural_baseline)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(widget);
    float labels = orientation == GTK_ORIENTATION_HORIZONTAL ? self->label_w : self->label_h;
    *minimum = 120;
    *natural = MAX(*minimum, (int)ceil(labels + self->K * (self->fit ? 24.0 : self->cell)));
}

static void lpt_confusion_matrix_size_allocate(GtkWidget *widget, int width, int height,
                                               int baseline)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(widget);
    if (self->fit)
        fit_cell(self, width, height);
    measure_labels(self);
    update_adjustments(self);
}

/* ---- Input ---- */

static void move_cursor(LptConfusionMatrix *self, int row, int column)
{
    if (self->K == 0)
        return;
    self->cursor_row = CLAMP(row, 0, self->K - 1);
    self->cursor_column = CLAMP(column, 0, self->K - 1);
    self->has_cursor = TRUE;
    lpt_confusion_matrix_scroll_to(self, self->cursor_row, self->cursor_column);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lpt_confusion_matrix_activate_cell(LptConfusionMatrix *self, int row, int column)
{
    g_return_if_fail(LPT_IS_CONFUSION_MATRIX(self));
    g_return_if_fail(row >= 0 && row < self->K && column >= 0 && column < self->K);
    move_cursor(self, row, column);
    g_signal_emit(self, signals[SIGNAL_CELL_ACTIVATED], 0, row, column);
}

static void on_pressed(GtkGestureClick *gesture, int n_press, double x, double y,
                       gpointer user_data)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(user_data);
    int row, column;
    gtk_widget_grab_focus(GTK_WIDGET(self));
    if (!lpt_confusion_matrix_cell_at(self, x, y, &row, &column))
        return;
    lpt_confusion_matrix_activate_cell(self, row, column);
}

static gboolean on_scroll(GtkEventControllerScroll *controller, double dx, double dy,
                          gpointer user_data)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(user_data);
    GdkModifierType state =
        gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(controller));
    if ((state & GDK_CONTROL_MASK) == 0 || dy == 0.0)
        return FALSE; /* the scrolled window scrolls */
    set_cell_size(self, self->cell * (dy < 0 ? ZOOM_STEP : 1.0 / ZOOM_STEP), self->pointer_x,
                  self->pointer_y);
    return TRUE;
}

static void on_motion(GtkEventControllerMotion *controller, double x, double y,
                      gpointer user_data)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(user_data);
    self->pointer_x = x;
    self->pointer_y = y;
}

static gboolean on_key(GtkEventControllerKey *controller, guint keyval, guint keycode,
                       GdkModifierType state, gpointer user_data)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(user_data);
    switch (keyval) {
    case GDK_KEY_Left:
        move_cursor(self, self->cursor_row, self->cursor_column - 1);
        return TRUE;
    case GDK_KEY_Right:
        move_cursor(self, self->cursor_row, self->cursor_column + 1);
        return TRUE;
    case GDK_KEY_Up:
        move_cursor(self, self->cursor_row - 1, self->cursor_column);
        return TRUE;
    case GDK_KEY_Down:
        move_cursor(self, self->cursor_row + 1, self->cursor_column);
        return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
        if (self->K > 0)
            lpt_confusion_matrix_activate_cell(self, self->cursor_row, self->cursor_column);
        return self->K > 0;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
        lpt_confusion_matrix_zoom(self, ZOOM_STEP);
        return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
        lpt_confusion_matrix_zoom(self, 1.0 / ZOOM_STEP);
        return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
        lpt_confusion_matrix_zoom_to_fit(self);
        return TRUE;
    default:
        return FALSE;
    }
}

static gboolean lpt_confusion_matrix_query_tooltip(GtkWidget *widget, int x, int y,
                                                   gboolean keyboard, GtkTooltip *tooltip)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(widget);
    int row = self->cursor_row, column = self->cursor_column;
    if (!keyboard && !lpt_confusion_matrix_cell_at(self, x, y, &row, &column))
        return FALSE;
    g_autofree char *text = lpt_confusion_matrix_describe_cell(self, row, column);
    if (text == NULL)
        return FALSE;
    gtk_tooltip_set_text(tooltip, text);
    double cx, cy;
    if (lpt_confusion_matrix_cell_center(self, row, column, &cx, &cy)) {
        int half = (int)ceil(self->cell / 2);
        GdkRectangle area = {(int)cx - half, (int)cy - half, 2 * half, 2 * half};
        gtk_tooltip_set_tip_area(tooltip, &area);
    }
    return TRUE;
}

/* ---- GtkScrollable ---- */

static void on_adjustment_changed(GtkAdjustment *adj, gpointer user_data)
{
    gtk_widget_queue_draw(GTK_WIDGET(user_data));
}

static void set_adjustment(LptConfusionMatrix *self, GtkAdjustment **slot, GtkAdjustment *adj)
{
    if (*slot == adj && adj != NULL)
        return;
    if (*slot != NULL) {
        g_signal_handlers_disconnect_by_data(*slot, self);
        g_object_unref(*slot);
    }
    if (adj == NULL)
        adj = gtk_adjustment_new(0, 0, 0, 0, 0, 0);
    *slot = g_object_ref_sink(adj);
    g_signal_connect(adj, "value-changed", G_CALLBACK(on_adjustment_changed), self);
    update_adjustments(self);
}

static void lpt_confusion_matrix_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(object);
    switch (prop_id) {
    case PROP_HADJUSTMENT:
        g_value_set_object(value, self->hadjustment);
        break;
    case PROP_VADJUSTMENT:
        g_value_set_object(value, self->vadjustment);
        break;
    case PROP_HSCROLL_POLICY:
        g_value_set_enum(value, self->hscroll_policy);
        break;
    case PROP_VSCROLL_POLICY:
        g_value_set_enum(value, self->vscroll_policy);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_confusion_matrix_set_property(GObject *object, guint prop_id, const GValue *value,
                                              GParamSpec *pspec)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(object);
    switch (prop_id) {
    case PROP_HADJUSTMENT:
        set_adjustment(self, &self->hadjustment, g_value_get_object(value));
        break;
    case PROP_VADJUSTMENT:
        set_adjustment(self, &self->vadjustment, g_value_get_object(value));
        break;
    case PROP_HSCROLL_POLICY:
        self->hscroll_policy = g_value_get_enum(value);
        gtk_widget_queue_resize(GTK_WIDGET(self));
        break;
    case PROP_VSCROLL_POLICY:
        self->vscroll_policy = g_value_get_enum(value);
        gtk_widget_queue_resize(GTK_WIDGET(self));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

/* ---- Type ---- */

static void lpt_confusion_matrix_dispose(GObject *object)
{
    LptConfusionMatrix *self = LPT_CONFUSION_MATRIX(object);
    GtkAdjustment **slots[2] = {&self->hadjustment, &self->vadjustment};
    for (int i = 0; i < 2; i++)
        if (*slots[i] != NULL) {
            g_signal_handlers_disconnect_by_data(*slots[i], self);
            g_clear_object(slots[i]);
        }
    G_OBJECT_CLASS(lpt_confusion_matrix_parent_class)->dispose(object);
}

static void lpt_confusion_matrix_finalize(GObject *object)
{
    clear_data(LPT_CONFUSION_MATRIX(object));
    G_OBJECT_CLASS(lpt_confusion_matrix_parent_class)->finalize(object);
}

static void lpt_confusion_matrix_class_init(LptConfusionMatrixClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_confusion_matrix_dispose;
    object_class->finalize = lpt_confusion_matrix_finalize;
    object_class->get_property = lpt_confusion_matrix_get_property;
    object_class->set_property = lpt_confusion_matrix_set_property;
    widget_class->snapshot = lpt_confusion_matrix_snapshot;
    widget_class->measure = lpt_confusion_matrix_measure;
    widget_class->size_allocate = lpt_confusion_matrix_size_allocate;
    widget_class->query_tooltip = lpt_confusion_matrix_query_tooltip;

    g_object_class_override_property(object_class, PROP_HADJUSTMENT, "hadjustment");
    g_object_class_override_property(object_class, PROP_VADJUSTMENT, "vadjustment");
    g_object_class_override_property(object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
    g_object_class_override_property(object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

    /**
     * LptConfusionMatrix::cell-activated:
     * @row: the true class
     * @column: the predicted class
     *
     * A cell was clicked, or Enter pressed on the keyboard cursor.
     */
    signals[SIGNAL_CELL_ACTIVATED] =
        g_signal_new("cell-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                     NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

    gtk_widget_class_set_css_name(widget_class, "confusionmatrix");
    gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void lpt_confusion_matrix_init(LptConfusionMatrix *self)
{
    self->fit = TRUE;
    self->cell = FIT_MAX_CELL;
    gtk_widget_set_focusable(GTK_WIDGET(self), TRUE);
    gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
    gtk_widget_set_overflow(GTK_WIDGET(self), GTK_OVERFLOW_HIDDEN);

    GtkGesture *click = gtk_gesture_click_new();
    gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_PRIMARY);
    g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));

    GtkEventController *scroll = gtk_event_controller_scroll_new(
        GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
    g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(GTK_WIDGET(self), scroll);

    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "enter", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);

    GtkEventController *key = gtk_event_controller_key_new();
    g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self), key);
}

GtkWidget *lpt_confusion_matrix_new(void)
{
    return g_object_new(LPT_TYPE_CONFUSION_MATRIX, NULL);
}

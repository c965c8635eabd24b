/* lpt_calibration_view.c: the calibration view (see the header).
 *
 * The samples are kept after a read, so choosing another model or group in the drop-downs
 * only recomputes the diagram (lpt_calibration_compute over the kept samples).
 */
#include "lpt_calibration_view.h"

#include <math.h>
#include <stdlib.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_calibration.h"
#include "lpt_grid_table.h"
#include "lpt_review_samples.h"
#include "lpt_shown_run.h"

#define GROUP_COLUMNS (LPT_GROUP_COUNT + 1) /* all classes, then each group */

struct _LptCalibrationView {
    GtkWidget parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwStatusPage *empty_page;
    GtkDropDown *source_dropdown;
    GtkDropDown *group_dropdown;
    LptReliabilityChart *chart;
    GtkLabel *ece_caption;
    GtkGrid *ece_grid;

    /* owned */
    LptShownRun shown;
    LptReviewSamples *samples; /* NULL when nothing was read */
    double ece[LPT_REVIEW_SOURCES][GROUP_COLUMNS]; /* [source][group + 1]; NaN: not shown */
};

G_DEFINE_FINAL_TYPE(LptCalibrationView, lpt_calibration_view, GTK_TYPE_WIDGET)

static const char *source_name(int source)
{
    switch (source) {
    case LPT_STORE_EXPERT_VISION:
        return _("Vision expert");
    case LPT_STORE_EXPERT_VL:
        return _("Vision-language expert");
    default:
        return _("Fused model");
    }
}

static const char *group_name(int group)
{
    switch (group) {
    case LPT_GROUP_MANY:
        return _("Many-shot classes");
    case LPT_GROUP_MEDIUM:
        return _("Medium-shot classes");
    case LPT_GROUP_FEW:
        return _("Few-shot classes");
    default:
        return _("All classes");
    }
}

/* The diagram of the model and group chosen in the drop-downs. */
static void update_chart(LptCalibrationView *self)
{
    int source = (int)gtk_drop_down_get_selected(self->source_dropdown);
    int group = (int)gtk_drop_down_get_selected(self->group_dropdown) - 1;
    LptCalibration *c = NULL;
    if (self->samples != NULL && source < LPT_REVIEW_SOURCES && group < LPT_GROUP_COUNT)
        lpt_calibration_compute(self->samples, (LptStoreExpert)source, group,
                                LPT_CALIBRATION_DIAGRAM_BINS, &c, NULL);
    /* Translators: the reliability diagram's title, as in "Fused model · Few-shot classes" */
    g_autofree char *title = g_strdup_printf(_("%s · %s"), source_name(source), group_name(group));
    lpt_reliability_chart_set_data(self->chart, c, title);
    free(c);
}

/* The ECE table: a row per model the run has, a column per group. */
static void fill_table(LptCalibrationView *self)
{
    lpt_grid_table_clear(self->ece_grid);
    static const char *const columns[GROUP_COLUMNS] = {N_("All"), N_("Many"), N_("Medium"),
                                                       N_("Few")};
    for (int g = 0; g < GROUP_COLUMNS; g++)
        gtk_grid_attach(self->ece_grid, lpt_grid_table_cell(_(columns[g]), 1.0f, "heading"), g + 1,
                        0, 1, 1);
    int row = 1;
    for (int src = LPT_REVIEW_SOURCES - 1; src >= 0; src--) { /* fused first */
        if (!self->samples->has_source[src])
            continue;
        gtk_grid_attach(self->ece_grid, lpt_grid_table_cell(source_name(src), 0.0f, "heading"), 0,
                        row, 1, 1);
        for (int g = 0; g < GROUP_COLUMNS; g++) {
            double e = self->ece[src][g];
            g_autofree char *text = isnan(e) ? g_strdup("—") : g_strdup_printf("%.2f%%", 100 * e);
            gtk_grid_attach(self->ece_grid, lpt_grid_table_cell(text, 1.0f, "numeric"), g + 1, row,
                            1, 1);
        }
        row++;
    }
    g_autofree char *caption = g_strdup_printf(
        /* Translators: the ECE table's caption; %d is the number of confidence bins */
        _("Over %d confidence bins, as the run’s evaluation counts them (eval.ece_bins): the "
          "“All” column is the ECE that lpt eval reports."),
        self->samples->ece_bins);
    gtk_label_set_text(self->ece_caption, caption);
}

static void show_status(LptCalibrationView *self, const char *title, const char *description)
{
    adw_status_page_set_title(self->empty_page, title);
    adw_status_page_set_description(self->empty_page, description);
    gtk_stack_set_visible_child_name(self->stack, "empty");
}

static void reload(GtkWidget *widget)
{
    LptCalibrationView *self = LPT_CALIBRATION_VIEW(widget);
    g_clear_pointer(&self->samples, lpt_review_samples_free);
    for (int s = 0; s < LPT_REVIEW_SOURCES; s++)
        for (int g = 0; g < GROUP_COLUMNS; g++)
            self->ece[s][g] = NAN;
    if (self->shown.project == NULL || self->shown.run_id <= 0) {
        show_status(self, _("No Run Chosen"),
                    _("Choose a run whose test images were evaluated to see its calibration."));
        return;
    }
    LptError err = {0};
    LptStatus st =
        lpt_review_samples_read(lpt_project_get_store(self->shown.project), self->shown.run_id,
                                LPT_STORE_SPLIT_TEST, &self->samples, &err);
    for (int s = 0; st == LPT_OK && s < LPT_REVIEW_SOURCES; s++)
        for (int g = 0; st == LPT_OK && g < GROUP_COLUMNS && self->samples->has_source[s]; g++) {
            LptCalibration *c = NULL;
            st = lpt_calibration_compute(self->samples, (LptStoreExpert)s, g - 1,
                                         self->samples->ece_bins, &c, &err);
            if (c != NULL)
                self->ece[s][g] = c->ece;
            free(c);
        }
    if (st != LPT_OK) {
        g_clear_pointer(&self->samples, lpt_review_samples_free);
        show_status(self, _("Could Not Read the Predictions"), err.message);
        return;
    }
    if (self->samples->count == 0) {
        show_status(self, _("No Test Predictions"),
                    _("This run has no recorded predictions of test images. Evaluate it "
                      "(lpt eval) to see its calibration."));
        return;
    }
    fill_table(self);
    update_chart(self);
    gtk_stack_set_visible_child_name(self->stack, "content");
}

void lpt_calibration_view_set_project(LptCalibrationView *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_CALIBRATION_VIEW(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (lpt_shown_run_set_project(&self->shown, project))
        lpt_shown_run_invalidate(&self->shown);
}

void lpt_calibration_view_set_run(LptCalibrationView *self, int64_t run_id)
{
    g_return_if_fail(LPT_IS_CALIBRATION_VIEW(self));
    if (lpt_shown_run_set_run(&self->shown, run_id))
        lpt_shown_run_invalidate(&self->shown);
}

void lpt_calibration_view_select(LptCalibrationView *self, int source, int group)
{
    g_return_if_fail(LPT_IS_CALIBRATION_VIEW(self));
    g_return_if_fail(source >= 0 && source < LPT_REVIEW_SOURCES);
    g_return_if_fail(group >= LPT_CALIBRATION_ALL_GROUPS && group < LPT_GROUP_COUNT);
    gtk_drop_down_set_selected(self->source_dropdown, (guint)source);
    gtk_drop_down_set_selected(self->group_dropdown, (guint)(group + 1));
}

double lpt_calibration_view_get_ece(LptCalibrationView *self, int source, int group)
{
    g_return_val_if_fail(LPT_IS_CALIBRATION_VIEW(self), NAN);
    if (source < 0 || source >= LPT_REVIEW_SOURCES || group < LPT_CALIBRATION_ALL_GROUPS ||
        group >= LPT_GROUP_COUNT)
        return NAN;
    return self->ece[source][group + 1];
}

int lpt_calibration_view_get_ece_bins(LptCalibrationView *self)
{
    g_return_val_if_fail(LPT_IS_CALIBRATION_VIEW(self), 0);
    return self->samples != NULL ? self->samples->ece_bins : 0;
}

LptReliabilityChart *lpt_calibration_view_get_chart(LptCalibrationView *self)
{
    g_return_val_if_fail(LPT_IS_CALIBRATION_VIEW(self), NULL);
    return self->chart;
}

static void on_selection_changed(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    update_chart(LPT_CALIBRATION_VIEW(user_data));
}

static void lpt_calibration_view_map(GtkWidget *widget)
{
    LptCalibrationView *self = LPT_CALIBRATION_VIEW(widget);
    GTK_WIDGET_CLASS(lpt_calibration_view_parent_class)->map(widget);
    lpt_shown_run_reload_if_dirty(&self->shown);
}

static void lpt_calibration_view_dispose(GObject *object)
{
    LptCalibrationView *self = LPT_CALIBRATION_VIEW(object);
    lpt_shown_run_clear(&self->shown);
    g_clear_pointer(&self->samples, lpt_review_samples_free);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_CALIBRATION_VIEW);
    G_OBJECT_CLASS(lpt_calibration_view_parent_class)->dispose(object);
}

static void lpt_calibration_view_class_init(LptCalibrationViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_calibration_view_dispose;
    widget_class->map = lpt_calibration_view_map;

    g_type_ensure(LPT_TYPE_RELIABILITY_CHART);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_calibration_view.ui");
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, stack);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, empty_page);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, source_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, group_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, chart);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, ece_caption);
    gtk_widget_class_bind_template_child(widget_class, LptCalibrationView, ece_grid);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void lpt_calibration_view_init(LptCalibrationView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    lpt_shown_run_init(&self->shown, GTK_WIDGET(self), reload);
    for (int s = 0; s < LPT_REVIEW_SOURCES; s++)
        for (int g = 0; g < GROUP_COLUMNS; g++)
            self->ece[s][g] = NAN;
    gtk_drop_down_set_selected(self->source_dropdown, LPT_STORE_EXPERT_FUSED);
    g_signal_connect(self->source_dropdown, "notify::selected", G_CALLBACK(on_selection_changed),
                     self);
    g_signal_connect(self->group_dropdown, "notify::selected", G_CALLBACK(on_selection_changed),
                     self);
    show_status(self, _("No Run Chosen"),
                _("Choose a run whose test images were evaluated to see its calibration."));
}

GtkWidget *lpt_calibration_view_new(void)
{
    return g_object_new(LPT_TYPE_CALIBRATION_VIEW, NULL);
}

/* lpt_review_page.c: the Review page (see the header). */
#include "lpt_review_page.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_calibration_view.h"
#include "lpt_class_texts_view.h"
#include "lpt_image_id_list.h"
#include "lpt_image_inspector.h"
#include "lpt_image_tile.h"
#include "lpt_review_class_row.h"
#include "lpt_review_queues.h"
#include "lpt_run_compare_view.h"
#include "lpt_thumbnail_loader.h"

#define METRIC_COLUMNS 6 /* overall, balanced, many, medium, few, worst class */

/* The splits a review can show, in the split picker's order. */
static const LptStoreSplit picker_splits[] = {LPT_STORE_SPLIT_TEST, LPT_STORE_SPLIT_VAL,
                                              LPT_STORE_SPLIT_TRAIN};
#define N_PICKER_SPLITS G_N_ELEMENTS(picker_splits)

struct _LptReviewPage {
    AdwBin parent_instance;

    /* template widgets */
    GtkStack *state_stack;
    GtkDropDown *run_dropdown;
    GtkDropDown *split_dropdown;
    GtkSpinner *spinner;
    GtkGrid *metrics_grid;
    GtkColumnView *class_view;
    GtkColumnViewColumn *train_column;
    GtkColumnViewColumn *vision_recall_column;
    GtkColumnViewColumn *vl_recall_column;
    GtkColumnViewColumn *vision_weight_column;
    GtkColumnViewColumn *vl_weight_column;
    GtkDropDown *matrix_model_dropdown;
    GtkToggleButton *normalize_button;
    LptConfusionMatrix *matrix;
    GtkLabel *images_title;
    GtkStack *images_stack;
    GtkLabel *images_hint;
    GtkGridView *image_grid;
    LptReviewQueues *queues;
    LptCalibrationView *calibration;
    LptRunCompareView *compare;
    LptClassTextsView *class_texts;

    /* borrowed */
    AdwToastOverlay *toast_overlay; /* the bin's child (not bound: the bin unparents it) */

    /* owned */
    LptProject *project;
    gulong changed_id, labels_changed_id;
    LptReviewRun *runs; /* the run picker's runs (malloc block) */
    size_t n_runs;
    LptStoreSplit splits[N_PICKER_SPLITS]; /* the split picker's splits */
    guint n_splits;
    gint64 run_id; /* picked; 0: none */
    LptReview *review;
    GError *last_error;
    GCancellable *load; /* the read running, NULL when none */
    LptStoreExpert matrix_models[LPT_REVIEW_MODELS]; /* the matrix picker's models */
    guint n_matrix_models;
    GListStore *class_store; /* LptReviewClassRow */
    GtkSortListModel *class_sort;
    GtkSingleSelection *class_selection;
    LptImageIdList *images;
    GtkSingleSelection *image_selection;
    LptThumbnailLoader *loader;
    GSettings *settings;
    char *metric_text[LPT_REVIEW_MODELS][METRIC_COLUMNS];
    gboolean updating; /* pickers are being refilled: their notifications are ours */
};

G_DEFINE_FINAL_TYPE(LptReviewPage, lpt_review_page, ADW_TYPE_BIN)

static void show_toast(LptReviewPage *self, const char *text)
{
    adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(text));
}

static const char *model_name(LptStoreExpert model)
{
    switch (model) {
    case LPT_STORE_EXPERT_VISION:
        return _("Vision expert");
    case LPT_STORE_EXPERT_VL:
        return _("Vision-language expert");
    case LPT_STORE_EXPERT_FUSED:
        return _("Fused model");
    }
    return "";
}

static const char *split_label(LptStoreSplit split)
{
    switch (split) {
    case LPT_STORE_SPLIT_TEST:
        return _("Test images");
    case LPT_STORE_SPLIT_VAL:
        return _("Validation images");
    case LPT_STORE_SPLIT_TRAIN:
        return _("Training images");
    default:
        return "";
    }
}

static const char *group_label(LptGroup group)
{
    switch (group) {
    case LPT_GROUP_MANY:
        return C_("group", "Many");
    case LPT_GROUP_MEDIUM:
        return C_("group", "Medium");
    case LPT_GROUP_FEW:
        return C_("group", "Few");
    }
    return "";
}

/* "69.12 %", or "–" for a rate not measured. */
static char *format_rate(double rate, int decimals)
{
    /* Translators: a rate in percent, "69.12 %" (the first %.*f is the number) */
    return isnan(rate) ? g_strdup("–") : g_strdup_printf(_("%.*f %%"), decimals, 100.0 * rate);
}

/* ---- The per-class table ---- */

typedef enum {
    CELL_NAME,
    CELL_GROUP,
    CELL_TRAIN,
    CELL_SUPPORT,
    CELL_PRECISION,
    CELL_RECALL,
    CELL_VISION_RECALL,
    CELL_VL_RECALL,
    CELL_VISION_WEIGHT,
    CELL_VL_WEIGHT,
} CellKind;

static void setup_cell(GtkListItem *item, float xalign, const char *css_class)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), xalign);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    if (css_class != NULL)
        gtk_widget_add_css_class(label, css_class);
    gtk_list_item_set_child(item, label);
}

static void setup_text_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    setup_cell(item, 0.0f, NULL);
    gtk_label_set_width_chars(GTK_LABEL(gtk_list_item_get_child(item)), 10); /* names readable */
}

static void setup_number_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    setup_cell(item, 1.0f, "numeric");
}

static void setup_group_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    setup_cell(item, 0.5f, "group-badge");
    gtk_widget_set_halign(gtk_list_item_get_child(item), GTK_ALIGN_START);
}

static void bind_cell(GtkListItem *item, CellKind kind)
{
    LptReviewClassRow *row = gtk_list_item_get_item(item);
    GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(item));
    g_autofree char *text = NULL;
    switch (kind) {
    case CELL_NAME:
        gtk_label_set_text(label, lpt_review_class_row_get_name(row));
        return;
    case CELL_GROUP: {
        static const char *const classes[LPT_GROUP_COUNT] = {"many", "medium", "few"};
        LptGroup group = lpt_review_class_row_get_group(row);
        for (int g = 0; g < LPT_GROUP_COUNT; g++)
            gtk_widget_remove_css_class(GTK_WIDGET(label), classes[g]);
        gtk_widget_add_css_class(GTK_WIDGET(label), classes[group]);
        gtk_label_set_text(label, group_label(group));
        return;
    }
    case CELL_TRAIN:
        text = g_strdup_printf("%lld", (long long)lpt_review_class_row_get_train(row));
        break;
    case CELL_SUPPORT:
        text = g_strdup_printf("%lld", (long long)lpt_review_class_row_get_support(row));
        break;
    case CELL_PRECISION:
        text = format_rate(lpt_review_class_row_get_precision(row), 1);
        break;
    case CELL_RECALL:
        text = format_rate(lpt_review_class_row_get_recall(row), 1);
        break;
    case CELL_VISION_RECALL:
    case CELL_VL_RECALL:
        text = format_rate(lpt_review_class_row_get_expert_recall(
                               row, kind == CELL_VISION_RECALL ? LPT_STORE_EXPERT_VISION
                                                               : LPT_STORE_EXPERT_VL),
                           1);
        break;
    case CELL_VISION_WEIGHT:
    case CELL_VL_WEIGHT: {
        double w = lpt_review_class_row_get_weight(
            row, kind == CELL_VISION_WEIGHT ? LPT_STORE_EXPERT_VISION : LPT_STORE_EXPERT_VL);
        text = isnan(w) ? g_strdup("–") : g_strdup_printf("%.2f", w);
        break;
    }
    }
    gtk_label_set_text(label, text);
}

#define BIND_FUNC(fn, kind)                                                                        \
    static void fn(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)                  \
    {                                                                                              \
        bind_cell(item, kind);                                                                     \
    }
BIND_FUNC(bind_name_cell, CELL_NAME)
BIND_FUNC(bind_group_cell, CELL_GROUP)
BIND_FUNC(bind_train_cell, CELL_TRAIN)
BIND_FUNC(bind_support_cell, CELL_SUPPORT)
BIND_FUNC(bind_precision_cell, CELL_PRECISION)
BIND_FUNC(bind_recall_cell, CELL_RECALL)
BIND_FUNC(bind_vision_recall_cell, CELL_VISION_RECALL)
BIND_FUNC(bind_vl_recall_cell, CELL_VL_RECALL)
BIND_FUNC(bind_vision_weight_cell, CELL_VISION_WEIGHT)
BIND_FUNC(bind_vl_weight_cell, CELL_VL_WEIGHT)

/* ---- The images of a class or a cell ---- */

static void setup_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    gtk_list_item_set_child(item, lpt_image_tile_new());
}

static void bind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(data);
    lpt_image_tile_bind(LPT_IMAGE_TILE(gtk_list_item_get_child(item)), gtk_list_item_get_item(item),
                        self->loader);
}

static void unbind_tile(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    lpt_image_tile_unbind(LPT_IMAGE_TILE(gtk_list_item_get_child(item)));
}

static void clear_images(LptReviewPage *self)
{
    lpt_image_id_list_set(self->images, NULL, NULL, 0);
    gtk_label_set_text(self->images_title, _("Images"));
    gtk_label_set_text(self->images_hint,
                       _("Pick a class in the table or a cell of the matrix to see its images. "
                         "Double-click an image to inspect it."));
    gtk_stack_set_visible_child_name(self->images_stack, "hint");
}

void lpt_review_page_show_images(LptReviewPage *self, LptStoreExpert model, int true_class,
                                 int predicted)
{
    g_return_if_fail(LPT_IS_REVIEW_PAGE(self));
    if (self->review == NULL || self->project == NULL)
        return;
    int64_t *ids = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_review_select(self->review, model, true_class, predicted, &ids, &n, &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not list the images: %s"), err.message);
        show_toast(self, text);
        return;
    }
    lpt_image_id_list_set(self->images, self->project, (const gint64 *)ids, (guint)n);
    free(ids);
    const char *truth = lpt_review_class_name(self->review, true_class);
    const char *guess = lpt_review_class_name(self->review, predicted);
    g_autofree char *title =
        predicted < 0
            /* Translators: the title of a class's images on the Review page, "“Coat” · 40 images" */
            ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "“%s” · %u image", "“%s” · %u images",
                                          (gulong)n),
                              truth, (guint)n)
            /* Translators: the title of a confusion cell's images: true class, predicted
             * class, the model, the count */
            : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "“%s” predicted as “%s” (%s) · %u image",
                                          "“%s” predicted as “%s” (%s) · %u images", (gulong)n),
                              truth, guess, model_name(model), (guint)n);
    gtk_label_set_text(self->images_title, title);
    gtk_label_set_text(self->images_hint, n > 0 ? "" : _("No images here."));
    gtk_stack_set_visible_child_name(self->images_stack, n > 0 ? "grid" : "hint");
    if (n > 0)
        gtk_widget_activate_action(GTK_WIDGET(self->image_grid), "list.scroll-to-item", "u", 0);
}

static void on_image_activated(GtkGridView *grid, guint position, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    guint n = 0;
    const gint64 *ids = lpt_image_id_list_get_ids(self->images, &n);
    if (self->project == NULL || position >= n)
        return;
    lpt_image_inspector_present(GTK_WIDGET(self), self->project, self->run_id, ids[position],
                                (const int64_t *)ids, n);
}

static void on_open_image(GtkWidget *view, gint64 image_id, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    if (self->project != NULL && image_id > 0)
        lpt_image_inspector_present(GTK_WIDGET(self), self->project, self->run_id, image_id, NULL,
                                    0);
}

static void on_queue_open_image(GtkWidget *view, gint64 image_id, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    size_t n = 0;
    const int64_t *ids = lpt_review_queues_current_ids(self->queues, &n);
    if (self->project != NULL && image_id > 0)
        lpt_image_inspector_present(GTK_WIDGET(self), self->project, self->run_id, image_id, ids,
                                    n);
}

static void on_class_selected(GObject *selection, GParamSpec *pspec, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    LptReviewClassRow *row = gtk_single_selection_get_selected_item(self->class_selection);
    if (row != NULL)
        lpt_review_page_show_images(self, LPT_STORE_EXPERT_FUSED,
                                    lpt_review_class_row_get_index(row), -1);
}

/* ---- The matrix ---- */

static LptStoreExpert matrix_model(LptReviewPage *self)
{
    guint i = gtk_drop_down_get_selected(self->matrix_model_dropdown);
    return i < self->n_matrix_models ? self->matrix_models[i] : LPT_STORE_EXPERT_FUSED;
}

static void update_matrix(LptReviewPage *self)
{
    const LptEvalMetrics *m =
        self->review != NULL ? lpt_review_metrics(self->review, matrix_model(self)) : NULL;
    if (m == NULL) {
        lpt_confusion_matrix_set_data(self->matrix, 0, NULL, NULL);
        return;
    }
    int K = m->num_classes;
    g_autofree const char **names = g_new0(const char *, K + 1);
    for (int k = 0; k < K; k++)
        names[k] = lpt_review_class_name(self->review, k);
    lpt_confusion_matrix_set_data(self->matrix, K, (const gint64 *)m->confusion, names);
}

static void on_matrix_model_selected(GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    if (!self->updating)
        update_matrix(self);
}

static void on_normalize_toggled(GtkToggleButton *button, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    lpt_confusion_matrix_set_normalized(self->matrix, gtk_toggle_button_get_active(button));
}

static void on_cell_activated(LptConfusionMatrix *matrix, int row, int column, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    lpt_review_page_show_images(self, matrix_model(self), row, column);
}

/* ---- Showing a review ---- */

static void set_metric_text(LptReviewPage *self, LptStoreExpert model, int column, char *text,
                            int row, gboolean bold)
{
    GtkWidget *label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), column == 5 ? 0.0f : 1.0f);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(label, "numeric");
    if (bold)
        gtk_widget_add_css_class(label, "heading");
    gtk_grid_attach(self->metrics_grid, label, column + 1, row, 1, 1);
    g_free(self->metric_text[model][column]);
    self->metric_text[model][column] = text;
}

static void fill_metrics(LptReviewPage *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->metrics_grid))) != NULL)
        gtk_grid_remove(self->metrics_grid, child);
    for (int m = 0; m < LPT_REVIEW_MODELS; m++)
        for (int c = 0; c < METRIC_COLUMNS; c++)
            g_clear_pointer(&self->metric_text[m][c], g_free);
    if (self->review == NULL)
        return;

    const char *headers[METRIC_COLUMNS + 1] = {
        "", C_("metric", "Overall"), C_("metric", "Balanced"), C_("group", "Many"),
        C_("group", "Medium"), C_("group", "Few"), C_("metric", "Worst Class")};
    for (int c = 0; c <= METRIC_COLUMNS; c++) {
        GtkWidget *label = gtk_label_new(headers[c]);
        gtk_label_set_xalign(GTK_LABEL(label), c == 0 || c == METRIC_COLUMNS ? 0.0f : 1.0f);
        gtk_widget_add_css_class(label, "dim-label");
        gtk_widget_add_css_class(label, "caption-heading");
        gtk_grid_attach(self->metrics_grid, label, c, 0, 1, 1);
    }
    static const LptStoreExpert order[LPT_REVIEW_MODELS] = {
        LPT_STORE_EXPERT_VISION, LPT_STORE_EXPERT_VL, LPT_STORE_EXPERT_FUSED};
    int row = 1;
    for (int i = 0; i < LPT_REVIEW_MODELS; i++) {
        LptStoreExpert model = order[i];
        const LptEvalMetrics *m = lpt_review_metrics(self->review, model);
        if (m == NULL)
            continue;
        gboolean fused = model == LPT_STORE_EXPERT_FUSED;
        GtkWidget *name = gtk_label_new(model_name(model));
        gtk_label_set_xalign(GTK_LABEL(name), 0.0f);
        gtk_widget_set_hexpand(name, TRUE);
        if (fused)
            gtk_widget_add_css_class(name, "heading");
        gtk_grid_attach(self->metrics_grid, name, 0, row, 1, 1);
        const double rates[5] = {m->overall, m->balanced, m->many, m->medium, m->few};
        for (int c = 0; c < 5; c++)
            set_metric_text(self, model, c, format_rate(rates[c], 2), row, fused);
        g_autofree char *recall = format_rate(m->worst_recall, 2);
        char *worst = m->worst_class >= 0
                          /* Translators: the worst class and its recall, "Shirt · 27.50 %" */
                          ? g_strdup_printf(_("%s · %s"),
                                            lpt_review_class_name(self->review, m->worst_class),
                                            recall)
                          : g_strdup("–");
        set_metric_text(self, model, 5, worst, row, fused);
        row++;
    }
    g_autofree char *caption = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "%lld image, %d classes", "%lld images, %d classes",
                    (gulong)CLAMP(lpt_review_image_count(self->review), 0, G_MAXLONG)),
        (long long)lpt_review_image_count(self->review), lpt_review_num_classes(self->review));
    GtkWidget *label = gtk_label_new(caption);
    gtk_label_set_xalign(GTK_LABEL(label), 0.0f);
    gtk_widget_add_css_class(label, "dim-label");
    gtk_widget_add_css_class(label, "caption");
    gtk_grid_attach(self->metrics_grid, label, 0, row, METRIC_COLUMNS + 1, 1);
}

static void fill_classes(LptReviewPage *self)
{
    g_list_store_remove_all(self->class_store);
    if (self->review == NULL)
        return;
    int K = lpt_review_num_classes(self->review);
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_object_unref);
    for (int k = 0; k < K; k++)
        g_ptr_array_add(rows, lpt_review_class_row_new(self->review, k));
    g_list_store_splice(self->class_store, 0, 0, rows->pdata, rows->len);
    gtk_single_selection_set_selected(self->class_selection, GTK_INVALID_LIST_POSITION);

    gboolean vision = lpt_review_has_model(self->review, LPT_STORE_EXPERT_VISION);
    gboolean vl = lpt_review_has_model(self->review, LPT_STORE_EXPERT_VL);
    gtk_column_view_column_set_visible(self->vision_recall_column, vision);
    gtk_column_view_column_set_visible(self->vl_recall_column, vl);
    gtk_column_view_column_set_visible(self->vision_weight_column, vision && vl);
    gtk_column_view_column_set_visible(self->vl_weight_column, vision && vl);
}

static void fill_matrix_models(LptReviewPage *self)
{
    static const LptStoreExpert order[LPT_REVIEW_MODELS] = {
        LPT_STORE_EXPERT_FUSED, LPT_STORE_EXPERT_VISION, LPT_STORE_EXPERT_VL};
    LptStoreExpert previous = matrix_model(self);
    g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
    guint keep = 0;
    self->n_matrix_models = 0;
    for (int i = 0; self->review != NULL && i < LPT_REVIEW_MODELS; i++)
        if (lpt_review_has_model(self->review, order[i])) {
            if (order[i] == previous)
                keep = self->n_matrix_models;
            self->matrix_models[self->n_matrix_models++] = order[i];
            gtk_string_list_append(names, model_name(order[i]));
        }
    self->updating = TRUE;
    gtk_drop_down_set_model(self->matrix_model_dropdown, G_LIST_MODEL(names));
    gtk_drop_down_set_selected(self->matrix_model_dropdown, keep);
    self->updating = FALSE;
}

static void show_review(LptReviewPage *self)
{
    fill_metrics(self);
    fill_classes(self);
    fill_matrix_models(self);
    update_matrix(self);
    clear_images(self);
}

/* ---- Reading a review on a worker thread ---- */

typedef struct {
    LptStore *store; /* the worker's connection, closed on the worker */
    gint64 run_id;
    LptStoreSplit split;
} LoadJob;

static void load_job_free(gpointer data)
{
    LoadJob *job = data;
    lpt_store_close(job->store);
    g_free(job);
}

static void load_thread(GTask *task, gpointer source, gpointer task_data,
                        GCancellable *cancellable)
{
    LoadJob *job = task_data;
    LptReview *review = NULL;
    LptError err = {0};
    LptStatus status = lpt_review_load(job->store, job->run_id, job->split, &review, &err);
    lpt_store_close(job->store);
    job->store = NULL;
    if (status != LPT_OK) {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, review, (GDestroyNotify)lpt_review_free);
}

static void on_loaded(GObject *source, GAsyncResult *result, gpointer user_data)
{
    GError *error = NULL;
    LptReview *review = g_task_propagate_pointer(G_TASK(result), &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_error_free(error);
        return; /* a newer read replaced this one */
    }
    LptReviewPage *self = LPT_REVIEW_PAGE(source);
    g_clear_object(&self->load);
    gtk_spinner_stop(self->spinner);
    g_clear_error(&self->last_error);
    g_clear_pointer(&self->review, lpt_review_free);
    if (review == NULL) {
        self->last_error = error;
        g_autofree char *text = g_strdup_printf(_("Could not read the run: %s"), error->message);
        show_toast(self, text);
    }
    self->review = review;
    show_review(self);
}

static void load_review(LptReviewPage *self, LptStoreSplit split)
{
    if (self->load != NULL)
        g_cancellable_cancel(self->load);
    g_clear_object(&self->load);
    g_clear_pointer(&self->review, lpt_review_free);
    show_review(self);
    if (self->project == NULL || self->run_id == 0)
        return;

    g_autoptr(GError) error = NULL;
    LptStore *store = lpt_project_open_thread_store(self->project, &error);
    if (store == NULL) {
        g_autofree char *text = g_strdup_printf(_("Could not read the run: %s"), error->message);
        show_toast(self, text);
        return;
    }
    self->load = g_cancellable_new();
    gtk_spinner_start(self->spinner);
    g_autoptr(GTask) task = g_task_new(self, self->load, on_loaded, NULL);
    LoadJob *job = g_new0(LoadJob, 1);
    job->store = store;
    job->run_id = self->run_id;
    job->split = split;
    g_task_set_task_data(task, job, load_job_free);
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, load_thread);
}

/* ---- The pickers ---- */

static const LptReviewRun *picked_run(LptReviewPage *self)
{
    guint i = gtk_drop_down_get_selected(self->run_dropdown);
    return i < self->n_runs ? &self->runs[i] : NULL;
}

static void on_split_selected(GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    guint i = gtk_drop_down_get_selected(self->split_dropdown);
    if (!self->updating && i < self->n_splits)
        load_review(self, self->splits[i]);
}

/* Fills the split picker with the picked run's splits (test first) and reads the first. */
static void pick_run(LptReviewPage *self)
{
    const LptReviewRun *run = picked_run(self);
    gint64 run_id = run != NULL ? run->run_id : 0;
    g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
    self->n_splits = 0;
    for (guint i = 0; run != NULL && i < N_PICKER_SPLITS; i++)
        if (run->predictions[picker_splits[i]] > 0) {
            self->splits[self->n_splits++] = picker_splits[i];
            gtk_string_list_append(names, split_label(picker_splits[i]));
        }
    self->updating = TRUE;
    gtk_drop_down_set_model(self->split_dropdown, G_LIST_MODEL(names));
    gtk_drop_down_set_selected(self->split_dropdown, 0);
    self->updating = FALSE;

    if (run_id != self->run_id) {
        self->run_id = run_id;
        lpt_review_queues_set_run(self->queues, run_id);
        lpt_calibration_view_set_run(self->calibration, run_id);
        lpt_run_compare_view_set_run(self->compare, run_id);
        lpt_class_texts_view_set_run(self->class_texts, run_id);
    }
    load_review(self, self->n_splits > 0 ? self->splits[0] : LPT_STORE_SPLIT_TEST);
}

static void on_run_selected(GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    if (!self->updating)
        pick_run(self);
}

/* "Run 3 · LPT++ · 14 Nov 2025 10:02" (with its name when it has one). */
static char *run_label(const LptReviewRun *run)
{
    g_autoptr(GDateTime) at = g_date_time_new_from_unix_local(run->created_at);
    g_autofree char *when = at != NULL ? g_date_time_format(at, "%x %H:%M") : g_strdup("");
    const char *method = lpt_method_name(run->method);
    if (run->name[0] != '\0')
        /* Translators: a run in the run picker: its number, name, method and start */
        return g_strdup_printf(_("Run %lld “%s” · %s · %s"), (long long)run->run_id, run->name,
                               method, when);
    /* Translators: a run in the run picker: its number, method and start */
    return g_strdup_printf(_("Run %lld · %s · %s"), (long long)run->run_id, method, when);
}

/* Reads the evaluated runs again, keeping the run picked when it is still there. */
static void reload_runs(LptReviewPage *self)
{
    gint64 keep = self->run_id;
    g_clear_pointer(&self->runs, free);
    self->n_runs = 0;
    LptError err = {0};
    if (self->project != NULL &&
        lpt_review_list_runs(lpt_project_get_store(self->project), &self->runs, &self->n_runs,
                             &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not list the runs: %s"), err.message);
        show_toast(self, text);
    }
    g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
    guint selected = 0;
    for (size_t i = 0; i < self->n_runs; i++) {
        g_autofree char *label = run_label(&self->runs[i]);
        gtk_string_list_append(names, label);
        if (self->runs[i].run_id == keep)
            selected = (guint)i;
    }
    self->updating = TRUE;
    gtk_drop_down_set_model(self->run_dropdown, G_LIST_MODEL(names));
    gtk_drop_down_set_selected(self->run_dropdown, selected);
    self->updating = FALSE;
    gtk_stack_set_visible_child_name(self->state_stack, self->n_runs > 0 ? "review" : "empty");

    const LptReviewRun *run = picked_run(self);
    if (run == NULL || run->run_id != keep || self->review == NULL)
        pick_run(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    const LptReviewRun *before = picked_run(self);
    LptReviewRun kept = before != NULL ? *before : (LptReviewRun){0};
    reload_runs(self);
    /* the same run with new predictions (evaluated again): read it again */
    const LptReviewRun *now = picked_run(self);
    if (now != NULL && before != NULL && now->run_id == kept.run_id &&
        memcmp(now->predictions, kept.predictions, sizeof kept.predictions) != 0)
        pick_run(self);
}

static void on_labels_changed(LptProject *project, gint64 image_id, gpointer user_data)
{
    lpt_image_id_list_refresh(LPT_REVIEW_PAGE(user_data)->images);
}

void lpt_review_page_set_project(LptReviewPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_REVIEW_PAGE(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (project == self->project)
        return;
    if (self->project != NULL) {
        g_clear_signal_handler(&self->changed_id, self->project);
        g_clear_signal_handler(&self->labels_changed_id, self->project);
    }
    g_set_object(&self->project, project);
    if (project != NULL) {
        self->changed_id =
            g_signal_connect(project, "changed", G_CALLBACK(on_project_changed), self);
        self->labels_changed_id =
            g_signal_connect(project, "labels-changed", G_CALLBACK(on_labels_changed), self);
    }
    self->run_id = 0;
    lpt_review_queues_set_project(self->queues, project);
    lpt_calibration_view_set_project(self->calibration, project);
    lpt_run_compare_view_set_project(self->compare, project);
    lpt_class_texts_view_set_project(self->class_texts, project);
    g_clear_pointer(&self->review, lpt_review_free);
    clear_images(self);
    reload_runs(self);
}

gboolean lpt_review_page_select_run(LptReviewPage *self, gint64 run_id)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), FALSE);
    for (size_t i = 0; i < self->n_runs; i++)
        if (self->runs[i].run_id == run_id) {
            gtk_drop_down_set_selected(self->run_dropdown, (guint)i); /* picks it */
            if (self->run_id != run_id)
                pick_run(self);
            return TRUE;
        }
    return FALSE;
}

/* ---- Actions ---- */

static void matrix_zoom_in_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    lpt_confusion_matrix_zoom(LPT_REVIEW_PAGE(widget)->matrix, 1.25);
}

static void matrix_zoom_out_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    lpt_confusion_matrix_zoom(LPT_REVIEW_PAGE(widget)->matrix, 0.8);
}

static void matrix_zoom_fit_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    lpt_confusion_matrix_zoom_to_fit(LPT_REVIEW_PAGE(widget)->matrix);
}

static void on_cache_location_changed(GSettings *settings, const char *key, gpointer user_data)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(user_data);
    g_autofree char *cache_dir = g_settings_get_string(settings, "cache-location");
    lpt_thumbnail_loader_set_cache_dir(self->loader, cache_dir);
}

/* ---- Type ---- */

static void lpt_review_page_dispose(GObject *object)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(object);

    if (self->load != NULL)
        g_cancellable_cancel(self->load);
    g_clear_object(&self->load);
    if (self->project != NULL) {
        g_clear_signal_handler(&self->changed_id, self->project);
        g_clear_signal_handler(&self->labels_changed_id, self->project);
    }
    g_clear_object(&self->project);
    if (self->settings != NULL)
        g_signal_handlers_disconnect_by_data(self->settings, self);
    g_clear_object(&self->settings);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_REVIEW_PAGE);
    g_clear_object(&self->class_selection);
    g_clear_object(&self->class_sort);
    g_clear_object(&self->class_store);
    g_clear_object(&self->image_selection);
    g_clear_object(&self->images);
    g_clear_object(&self->loader);

    G_OBJECT_CLASS(lpt_review_page_parent_class)->dispose(object);
}

static void lpt_review_page_finalize(GObject *object)
{
    LptReviewPage *self = LPT_REVIEW_PAGE(object);
    lpt_review_free(self->review);
    free(self->runs);
    g_clear_error(&self->last_error);
    for (int m = 0; m < LPT_REVIEW_MODELS; m++)
        for (int c = 0; c < METRIC_COLUMNS; c++)
            g_free(self->metric_text[m][c]);
    G_OBJECT_CLASS(lpt_review_page_parent_class)->finalize(object);
}

static void lpt_review_page_class_init(LptReviewPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_review_page_dispose;
    object_class->finalize = lpt_review_page_finalize;

    g_type_ensure(LPT_TYPE_REVIEW_CLASS_ROW);
    g_type_ensure(LPT_TYPE_CONFUSION_MATRIX);
    g_type_ensure(LPT_TYPE_REVIEW_QUEUES);
    g_type_ensure(LPT_TYPE_CALIBRATION_VIEW);
    g_type_ensure(LPT_TYPE_RUN_COMPARE_VIEW);
    g_type_ensure(LPT_TYPE_CLASS_TEXTS_VIEW);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_review_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, state_stack);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, run_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, split_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, spinner);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, metrics_grid);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, class_view);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, train_column);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, vision_recall_column);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, vl_recall_column);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, vision_weight_column);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, vl_weight_column);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, matrix_model_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, normalize_button);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, matrix);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, images_title);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, images_stack);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, images_hint);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, image_grid);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, queues);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, calibration);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, compare);
    gtk_widget_class_bind_template_child(widget_class, LptReviewPage, class_texts);
    gtk_widget_class_bind_template_callback(widget_class, setup_text_cell);
    gtk_widget_class_bind_template_callback(widget_class, setup_number_cell);
    gtk_widget_class_bind_template_callback(widget_class, setup_group_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_name_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_group_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_train_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_support_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_precision_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_recall_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_vision_recall_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_vl_recall_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_vision_weight_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_vl_weight_cell);
    gtk_widget_class_bind_template_callback(widget_class, on_cell_activated);
    gtk_widget_class_bind_template_callback(widget_class, on_image_activated);
    gtk_widget_class_bind_template_callback(widget_class, on_open_image);
    gtk_widget_class_bind_template_callback(widget_class, on_queue_open_image);

    gtk_widget_class_install_action(widget_class, "review.matrix-zoom-in", NULL,
                                    matrix_zoom_in_action);
    gtk_widget_class_install_action(widget_class, "review.matrix-zoom-out", NULL,
                                    matrix_zoom_out_action);
    gtk_widget_class_install_action(widget_class, "review.matrix-zoom-fit", NULL,
                                    matrix_zoom_fit_action);
}

static void lpt_review_page_init(LptReviewPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->toast_overlay = ADW_TOAST_OVERLAY(adw_bin_get_child(ADW_BIN(self)));

    self->class_store = g_list_store_new(LPT_TYPE_REVIEW_CLASS_ROW);
    GtkSorter *sorter = gtk_column_view_get_sorter(self->class_view);
    self->class_sort = gtk_sort_list_model_new(g_object_ref(G_LIST_MODEL(self->class_store)),
                                               g_object_ref(sorter));
    self->class_selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->class_sort)));
    gtk_single_selection_set_autoselect(self->class_selection, FALSE);
    gtk_single_selection_set_can_unselect(self->class_selection, TRUE);
    g_signal_connect(self->class_selection, "notify::selected", G_CALLBACK(on_class_selected),
                     self);
    gtk_column_view_set_model(self->class_view, GTK_SELECTION_MODEL(self->class_selection));
    gtk_column_view_sort_by_column(self->class_view, self->train_column, GTK_SORT_DESCENDING);

    self->settings = g_settings_new(BASE_ID);
    g_autofree char *cache_dir = g_settings_get_string(self->settings, "cache-location");
    self->loader = lpt_thumbnail_loader_new(cache_dir);
    g_signal_connect(self->settings, "changed::cache-location",
                     G_CALLBACK(on_cache_location_changed), self);
    self->images = lpt_image_id_list_new();
    self->image_selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->images)));
    gtk_single_selection_set_autoselect(self->image_selection, FALSE);
    gtk_single_selection_set_can_unselect(self->image_selection, TRUE);
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_tile), self);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_tile), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(unbind_tile), self);
    gtk_grid_view_set_factory(self->image_grid, factory);
    g_object_unref(factory);
    gtk_grid_view_set_model(self->image_grid, GTK_SELECTION_MODEL(self->image_selection));

    g_signal_connect(self->run_dropdown, "notify::selected", G_CALLBACK(on_run_selected), self);
    g_signal_connect(self->split_dropdown, "notify::selected", G_CALLBACK(on_split_selected),
                     self);
    g_signal_connect(self->matrix_model_dropdown, "notify::selected",
                     G_CALLBACK(on_matrix_model_selected), self);
    g_signal_connect(self->normalize_button, "toggled", G_CALLBACK(on_normalize_toggled), self);
    gtk_stack_set_visible_child_name(self->state_stack, "empty");
    clear_images(self);
}

/* ---- For tests ---- */

gint64 lpt_review_page_get_run(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), 0);
    return self->run_id;
}

gboolean lpt_review_page_is_loading(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), FALSE);
    return self->load != NULL;
}

const LptReview *lpt_review_page_get_review(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return self->review;
}

const GError *lpt_review_page_get_last_error(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return self->last_error;
}

const char *lpt_review_page_get_metric_text(LptReviewPage *self, LptStoreExpert model,
                                            int column)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    if ((int)model < 0 || model >= LPT_REVIEW_MODELS || column < 0 || column >= METRIC_COLUMNS)
        return NULL;
    return self->metric_text[model][column];
}

GListModel *lpt_review_page_get_class_model(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return G_LIST_MODEL(self->class_sort);
}

LptConfusionMatrix *lpt_review_page_get_matrix(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return self->matrix;
}

GListModel *lpt_review_page_get_images(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return G_LIST_MODEL(self->images);
}

GtkGridView *lpt_review_page_get_image_grid(LptReviewPage *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_PAGE(self), NULL);
    return self->image_grid;
}

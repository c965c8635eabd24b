/* lpt_run_compare_view.c: the run comparison (see the header).
 *
 * A read lists the runs with test predictions (lpt_review_list_runs) for the drop-down, reads
 * both runs' samples and compares them; the samples are kept, since the result borrows their
 * class names. The grid shows the flips (all, or one class's) through an LptImageIdList; each
 * tile's caption comes from its flip, found by image id.
 */
#include "lpt_run_compare_view.h"

#include <stdlib.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_captioned_tiles.h"
#include "lpt_grid_table.h"
#include "lpt_image_id_list.h"
#include "lpt_review.h"
#include "lpt_review_samples.h"
#include "lpt_shown_run.h"

struct _LptRunCompareView {
    GtkWidget parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwStatusPage *empty_page;
    GtkDropDown *run_dropdown;
    GtkStringList *run_names;
    GtkLabel *summary;
    GtkGrid *class_grid;
    GtkLabel *flips_title;
    GtkButton *show_all_button;
    GtkStack *flips_stack;
    GtkGridView *grid;
    GtkLabel *hint;

    /* owned */
    LptShownRun shown;
    int64_t other_run_id; /* the run compared with; 0: the default */
    gboolean filling;     /* the drop-down is being filled: its changes are ours */
    GArray *other_runs;   /* int64_t: the drop-down's runs, in its order */
    LptReviewSamples *before, *after;
    LptRunCompare *result;
    GHashTable *flip_of; /* gint64 image id -> index + 1 into result->flips */
    int64_t class_filter;
    LptImageIdList *images;
    GtkSingleSelection *selection; /* over images */
};

G_DEFINE_FINAL_TYPE(LptRunCompareView, lpt_run_compare_view, GTK_TYPE_WIDGET)

enum { SIGNAL_OPEN_IMAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- Names ---- */

/* The name of class_id in either run. */
static const char *class_name(LptRunCompareView *self, int64_t class_id)
{
    for (size_t i = 0; self->result && i < self->result->num_classes; i++)
        if (self->result->classes[i].class_id == class_id)
            return self->result->classes[i].name;
    return "?";
}

/* "Run 3 · lpt++ · name" (a new string). */
static char *run_label(const LptReviewRun *run)
{
    /* Translators: a run in the drop-down: its number and method, as in "Run 3 · lpt++" */
    g_autofree char *base =
        g_strdup_printf(_("Run %lld · %s"), (long long)run->run_id, lpt_method_name(run->method));
    return run->name[0] ? g_strdup_printf("%s · %s", base, run->name) : g_strdup(base);
}

/* ---- The flipped images' grid ---- */

static const LptRunCompareFlip *flip_for(LptRunCompareView *self, int64_t image_id)
{
    gint64 key = image_id;
    gpointer at = self->flip_of ? g_hash_table_lookup(self->flip_of, &key) : NULL;
    return at != NULL ? &self->result->flips[GPOINTER_TO_SIZE(at) - 1] : NULL;
}

/* A tile's caption (lpt_captioned_tiles.h): what each run said, red when it went wrong, green
 * when it went right; the tooltip tells more. */
static void set_caption(GtkLabel *const *lines, gint64 image_id, gpointer user_data)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(user_data);
    GtkLabel *caption = lines[0];
    const LptRunCompareFlip *f = image_id != 0 ? flip_for(self, image_id) : NULL;
    gtk_widget_remove_css_class(GTK_WIDGET(caption), "error");
    gtk_widget_remove_css_class(GTK_WIDGET(caption), "success");
    if (f == NULL) {
        gtk_label_set_text(caption, "");
        gtk_widget_set_tooltip_text(GTK_WIDGET(caption), NULL);
        return;
    }
    /* Translators: a flipped image's caption: what the other run said → what this run says */
    g_autofree char *text = g_strdup_printf(_("%s → %s"), class_name(self, f->before_class_id),
                                            class_name(self, f->after_class_id));
    g_autofree char *tip = g_strdup_printf(
        /* Translators: a flipped image's tooltip: label; run compared with; run shown */
        _("Label: %s\nRun %lld said %s (%.0f%%)\nRun %lld says %s (%.0f%%)"),
        class_name(self, f->class_id), (long long)self->other_run_id,
        class_name(self, f->before_class_id), 100.0 * f->before_prob, (long long)self->shown.run_id,
        class_name(self, f->after_class_id), 100.0 * f->after_prob);
    gtk_label_set_text(caption, text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(caption), tip);
    gtk_widget_add_css_class(GTK_WIDGET(caption), f->now_right ? "success" : "error");
}

/* The flips of the class filter (all when 0) into the grid. */
static void show_flips(LptRunCompareView *self)
{
    const LptRunCompare *r = self->result;
    gint64 *ids = g_new(gint64, (r ? r->num_flips : 0) + 1);
    guint n = 0;
    for (size_t i = 0; r && i < r->num_flips; i++)
        if (self->class_filter == 0 || r->flips[i].class_id == self->class_filter)
            ids[n++] = r->flips[i].image_id;
    lpt_image_id_list_set(self->images, self->shown.project, ids, n);
    g_free(ids);
    lpt_captioned_tiles_refresh(self->grid);
    g_autofree char *title =
        self->class_filter == 0
            /* Translators: the flipped images' heading with their count */
            ? g_strdup_printf(_("Flipped Images · %u"), n)
            /* Translators: the flipped images of one class, with their count */
            : g_strdup_printf(_("Flipped Images of “%s” · %u"),
                              class_name(self, self->class_filter), n);
    gtk_label_set_text(self->flips_title, title);
    gtk_widget_set_visible(GTK_WIDGET(self->show_all_button), self->class_filter != 0);
    gtk_stack_set_visible_child_name(self->flips_stack, n > 0 ? "grid" : "none");
}

void lpt_run_compare_view_show_class(LptRunCompareView *self, int64_t class_id)
{
    g_return_if_fail(LPT_IS_RUN_COMPARE_VIEW(self));
    self->class_filter = class_id;
    show_flips(self);
}

static void on_class_clicked(GtkButton *button, gpointer user_data)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(user_data);
    int64_t *class_id = g_object_get_data(G_OBJECT(button), "class-id");
    lpt_run_compare_view_show_class(self, *class_id);
}

static void on_show_all(GtkButton *button, gpointer user_data)
{
    lpt_run_compare_view_show_class(LPT_RUN_COMPARE_VIEW(user_data), 0);
}

static void on_activate(GtkGridView *grid, guint position, gpointer user_data)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(user_data);
    guint n = 0;
    const gint64 *ids = lpt_image_id_list_get_ids(self->images, &n);
    if (position < n)
        g_signal_emit(self, signals[SIGNAL_OPEN_IMAGE], 0, ids[position]);
}

/* ---- The table ---- */

static GtkWidget *number_cell(gint64 value, gboolean signed_value, const char *css)
{
    g_autofree char *text = signed_value && value > 0 ? g_strdup_printf("+%lld", (long long)value)
                            : signed_value && value < 0
                                ? g_strdup_printf("−%lld", (long long)-value)
                                : g_strdup_printf("%lld", (long long)value);
    GtkWidget *label = lpt_grid_table_cell(text, 1.0f, "numeric");
    if (css != NULL && value != 0)
        gtk_widget_add_css_class(label, css);
    return label;
}

static void fill_table(LptRunCompareView *self)
{
    lpt_grid_table_clear(self->class_grid);
    const char *headers[5] = {_("Class"), _("Images"), _("Right → wrong"), _("Wrong → right"),
                              _("Net")};
    for (int c = 0; c < 5; c++)
        gtk_grid_attach(self->class_grid,
                        lpt_grid_table_cell(headers[c], c == 0 ? 0.0f : 1.0f, "heading"), c, 0, 1,
                        1);
    int row = 1;
    for (size_t i = 0; i < self->result->num_classes; i++) {
        const LptRunCompareClass *c = &self->result->classes[i];
        if (c->images == 0)
            continue;
        GtkWidget *name = gtk_button_new_with_label(c->name);
        gtk_widget_add_css_class(name, "flat");
        gtk_widget_set_halign(name, GTK_ALIGN_START);
        gtk_widget_set_tooltip_text(name, _("Show this class’s flipped images"));
        int64_t *class_id = g_new(int64_t, 1);
        *class_id = c->class_id;
        g_object_set_data_full(G_OBJECT(name), "class-id", class_id, g_free);
        g_signal_connect(name, "clicked", G_CALLBACK(on_class_clicked), self);
        gtk_grid_attach(self->class_grid, name, 0, row, 1, 1);
        gtk_grid_attach(self->class_grid, number_cell(c->images, FALSE, NULL), 1, row, 1, 1);
        gtk_grid_attach(self->class_grid, number_cell(c->right_to_wrong, FALSE, "error"), 2, row, 1,
                        1);
        gtk_grid_attach(self->class_grid, number_cell(c->wrong_to_right, FALSE, "success"), 3, row,
                        1, 1);
        gint64 net = c->wrong_to_right - c->right_to_wrong;
        gtk_grid_attach(self->class_grid, number_cell(net, TRUE, net > 0 ? "success" : "error"), 4,
                        row, 1, 1);
        row++;
    }
}

/* ---- Reading ---- */

static void show_status(LptRunCompareView *self, const char *title, const char *description)
{
    adw_status_page_set_title(self->empty_page, title);
    adw_status_page_set_description(self->empty_page, description);
    gtk_stack_set_visible_child_name(self->stack, "empty");
}

static void clear_data(LptRunCompareView *self)
{
    g_clear_pointer(&self->result, free);
    g_clear_pointer(&self->before, lpt_review_samples_free);
    g_clear_pointer(&self->after, lpt_review_samples_free);
    g_hash_table_remove_all(self->flip_of);
    lpt_image_id_list_set(self->images, NULL, NULL, 0);
}

/* The drop-down's runs: those with test predictions other than the run shown, newest first;
 * picks other_run_id when listed, else the default (see the header). FALSE with err set when
 * the store fails. */
static gboolean fill_runs(LptRunCompareView *self, LptError *err)
{
    LptReviewRun *runs = NULL;
    size_t n = 0;
    if (lpt_review_list_runs(lpt_project_get_store(self->shown.project), &runs, &n, err) != LPT_OK)
        return FALSE;
    g_array_set_size(self->other_runs, 0);
    guint old = g_list_model_get_n_items(G_LIST_MODEL(self->run_names));
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    guint pick = GTK_INVALID_LIST_POSITION, older = GTK_INVALID_LIST_POSITION;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].run_id == self->shown.run_id || runs[i].predictions[LPT_STORE_SPLIT_TEST] == 0)
            continue;
        if (runs[i].run_id == self->other_run_id)
            pick = self->other_runs->len;
        if (older == GTK_INVALID_LIST_POSITION && runs[i].run_id < self->shown.run_id)
            older = self->other_runs->len;
        g_array_append_val(self->other_runs, runs[i].run_id);
        g_ptr_array_add(labels, run_label(&runs[i]));
    }
    free(runs);
    g_ptr_array_add(labels, NULL);
    self->filling = TRUE;
    gtk_string_list_splice(self->run_names, 0, old, (const char *const *)labels->pdata);
    if (pick == GTK_INVALID_LIST_POSITION)
        pick = older != GTK_INVALID_LIST_POSITION ? older : 0;
    self->other_run_id =
        self->other_runs->len > 0 ? g_array_index(self->other_runs, int64_t, pick) : 0;
    if (self->other_runs->len > 0)
        gtk_drop_down_set_selected(self->run_dropdown, pick);
    self->filling = FALSE;
    return TRUE;
}

static void reload(GtkWidget *widget)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(widget);
    clear_data(self);
    if (self->shown.project == NULL || self->shown.run_id <= 0) {
        show_status(self, _("No Run Chosen"),
                    _("Choose a run whose test images were evaluated to compare it with "
                      "another."));
        return;
    }
    LptStore *store = lpt_project_get_store(self->shown.project);
    LptError err = {0};
    LptStatus st = fill_runs(self, &err) ? LPT_OK : err.code;
    if (st == LPT_OK && self->other_run_id == 0) {
        show_status(self, _("No Other Run to Compare"),
                    _("Train and evaluate another run on this project to see which test images "
                      "flipped between the two."));
        return;
    }
    if (st == LPT_OK)
        st = lpt_review_samples_read(store, self->other_run_id, LPT_STORE_SPLIT_TEST, &self->before,
                                     &err);
    if (st == LPT_OK)
        st = lpt_review_samples_read(store, self->shown.run_id, LPT_STORE_SPLIT_TEST, &self->after,
                                     &err);
    if (st == LPT_OK)
        st = lpt_run_compare(self->before, self->after, &self->result, &err);
    if (st != LPT_OK) {
        clear_data(self);
        show_status(self, _("Could Not Compare the Runs"), err.message);
        return;
    }
    for (size_t i = 0; i < self->result->num_flips; i++) {
        gint64 *key = g_new(gint64, 1);
        *key = self->result->flips[i].image_id;
        g_hash_table_insert(self->flip_of, key, GSIZE_TO_POINTER(i + 1));
    }
    const LptRunCompare *r = self->result;
    g_autofree char *summary = g_strdup_printf(
        /* Translators: the comparison's summary; the runs are "Run 2" and "Run 1" */
        _("Of %lld test images both runs evaluated, %lld went right → wrong and %lld wrong → "
          "right from run %lld to run %lld."),
        (long long)r->common, (long long)r->right_to_wrong, (long long)r->wrong_to_right,
        (long long)self->other_run_id, (long long)self->shown.run_id);
    gtk_label_set_text(self->summary, summary);
    g_autofree char *hint = g_strdup_printf(
        /* Translators: under the flipped images; the runs are "Run 2" and "Run 1" */
        _("Captions: run %lld’s answer → run %lld’s; red went wrong, green went right. Enter or "
          "a double click opens an image in the inspector."),
        (long long)self->other_run_id, (long long)self->shown.run_id);
    gtk_label_set_text(self->hint, hint);
    fill_table(self);
    gboolean known = FALSE;
    for (size_t i = 0; i < r->num_classes && !known; i++)
        known = r->classes[i].class_id == self->class_filter;
    if (!known)
        self->class_filter = 0;
    show_flips(self);
    gtk_stack_set_visible_child_name(self->stack, "content");
}

static void on_run_selected(GObject *object, GParamSpec *pspec, gpointer user_data)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(user_data);
    guint at = gtk_drop_down_get_selected(self->run_dropdown);
    if (self->filling || at >= self->other_runs->len)
        return;
    lpt_run_compare_view_set_other_run(self, g_array_index(self->other_runs, int64_t, at));
}

void lpt_run_compare_view_set_project(LptRunCompareView *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_RUN_COMPARE_VIEW(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (!lpt_shown_run_set_project(&self->shown, project))
        return;
    clear_data(self);
    self->other_run_id = 0;
    lpt_shown_run_invalidate(&self->shown);
}

void lpt_run_compare_view_set_run(LptRunCompareView *self, int64_t run_id)
{
    g_return_if_fail(LPT_IS_RUN_COMPARE_VIEW(self));
    if (!lpt_shown_run_set_run(&self->shown, run_id))
        return;
    self->class_filter = 0;
    lpt_shown_run_invalidate(&self->shown);
}

int64_t lpt_run_compare_view_get_other_run(LptRunCompareView *self)
{
    g_return_val_if_fail(LPT_IS_RUN_COMPARE_VIEW(self), 0);
    return self->other_run_id;
}

void lpt_run_compare_view_set_other_run(LptRunCompareView *self, int64_t run_id)
{
    g_return_if_fail(LPT_IS_RUN_COMPARE_VIEW(self));
    if (run_id == self->other_run_id && !self->shown.dirty)
        return;
    self->other_run_id = run_id;
    lpt_shown_run_invalidate(&self->shown);
}

const LptRunCompare *lpt_run_compare_view_get_result(LptRunCompareView *self)
{
    g_return_val_if_fail(LPT_IS_RUN_COMPARE_VIEW(self), NULL);
    return self->result;
}

GtkGridView *lpt_run_compare_view_get_grid(LptRunCompareView *self)
{
    g_return_val_if_fail(LPT_IS_RUN_COMPARE_VIEW(self), NULL);
    return self->grid;
}

/* ---- Life cycle ---- */

static void lpt_run_compare_view_map(GtkWidget *widget)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(widget);
    GTK_WIDGET_CLASS(lpt_run_compare_view_parent_class)->map(widget);
    lpt_shown_run_reload_if_dirty(&self->shown);
}

static void lpt_run_compare_view_dispose(GObject *object)
{
    LptRunCompareView *self = LPT_RUN_COMPARE_VIEW(object);
    if (self->grid != NULL)
        gtk_grid_view_set_model(self->grid, NULL);
    if (self->images != NULL)
        clear_data(self);
    lpt_shown_run_clear(&self->shown);
    g_clear_object(&self->selection);
    g_clear_object(&self->images);
    g_clear_pointer(&self->flip_of, g_hash_table_unref);
    g_clear_pointer(&self->other_runs, g_array_unref);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_RUN_COMPARE_VIEW);
    G_OBJECT_CLASS(lpt_run_compare_view_parent_class)->dispose(object);
}

static void lpt_run_compare_view_class_init(LptRunCompareViewClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_run_compare_view_dispose;
    widget_class->map = lpt_run_compare_view_map;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_run_compare_view.ui");
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, stack);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, empty_page);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, run_dropdown);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, run_names);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, summary);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, class_grid);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, flips_title);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, show_all_button);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, flips_stack);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, grid);
    gtk_widget_class_bind_template_child(widget_class, LptRunCompareView, hint);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);

    signals[SIGNAL_OPEN_IMAGE] =
        g_signal_new("open-image", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void lpt_run_compare_view_init(LptRunCompareView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    lpt_shown_run_init(&self->shown, GTK_WIDGET(self), reload);
    self->other_runs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    self->flip_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

    self->images = lpt_image_id_list_new();
    self->selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->images)));
    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    g_autoptr(LptThumbnailLoader) loader = lpt_thumbnail_loader_new_for_settings(settings);
    GtkListItemFactory *factory =
        lpt_captioned_tiles_factory_new(loader, 1, NULL, set_caption, self);
    gtk_grid_view_set_factory(self->grid, factory);
    g_object_unref(factory);
    gtk_grid_view_set_model(self->grid, GTK_SELECTION_MODEL(self->selection));
    g_signal_connect(self->grid, "activate", G_CALLBACK(on_activate), self);
    g_signal_connect(self->run_dropdown, "notify::selected", G_CALLBACK(on_run_selected), self);
    g_signal_connect(self->show_all_button, "clicked", G_CALLBACK(on_show_all), self);
    show_status(self, _("No Run Chosen"),
                _("Choose a run whose test images were evaluated to compare it with another."));
}

GtkWidget *lpt_run_compare_view_new(void)
{
    return g_object_new(LPT_TYPE_RUN_COMPARE_VIEW, NULL);
}

/* lpt_review_queues.c: the Review page's queues (see the header).
 *
 * Data: the run's test samples and, per queue, its entries (lpt_review_queue_build), all made
 * at once when the widget is shown after a change, so the sidebar counts are exact. The grid
 * shows the chosen queue's image ids through an LptImageIdList; each tile's caption is made
 * from the image's sample when it is bound (by image id, so it never depends on where the
 * tile sits), and every bound tile's caption is made again after a reload.
 */
#include "lpt_review_queues.h"

#include <stdlib.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_captioned_tiles.h"
#include "lpt_image_id_list.h"
#include "lpt_review_samples.h"
#include "lpt_shown_run.h"

/* What the label history says of a change made here (stored, not shown translated). */
#define RELABEL_REASON "relabelled in a review queue"

struct _LptReviewQueues {
    GtkWidget parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwStatusPage *empty_page;
    GtkListBox *queue_list;
    GtkLabel *title;
    GtkLabel *subtitle;
    GtkStack *grid_stack;
    GtkGridView *grid;

    /* owned */
    LptShownRun shown;
    LptReviewSamples *samples; /* NULL when nothing was read */
    LptReviewQueueEntry *entries[LPT_REVIEW_QUEUE_KINDS];
    size_t counts[LPT_REVIEW_QUEUE_KINDS];
    GHashTable *class_names; /* gint64 class id -> name, every class of the project */
    LptReviewQueueKind kind;
    LptImageIdList *images;
    GtkSingleSelection *selection; /* over images */
    GtkWidget *relabel_popover;    /* our child */

    /* borrowed: the count labels of the sidebar rows */
    GtkLabel *count_labels[LPT_REVIEW_QUEUE_KINDS];
};

G_DEFINE_FINAL_TYPE(LptReviewQueues, lpt_review_queues, GTK_TYPE_WIDGET)

enum { SIGNAL_OPEN_IMAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *queue_title(LptReviewQueueKind kind)
{
    switch (kind) {
    case LPT_REVIEW_QUEUE_MISCLASSIFIED:
        return _("Misclassified");
    case LPT_REVIEW_QUEUE_TAIL_MISCLASSIFIED:
        return _("Misclassified Tail Classes");
    case LPT_REVIEW_QUEUE_EXPERTS_DISAGREE:
        return _("Experts Disagree");
    case LPT_REVIEW_QUEUE_LOW_CONFIDENCE:
        return _("Low Confidence");
    case LPT_REVIEW_QUEUE_LABEL_ERRORS:
        return _("Likely Label Errors");
    }
    return "";
}

static const char *queue_description(LptReviewQueueKind kind)
{
    switch (kind) {
    case LPT_REVIEW_QUEUE_MISCLASSIFIED:
        return _("Test images the fused model gets wrong, surest mistakes first.");
    case LPT_REVIEW_QUEUE_TAIL_MISCLASSIFIED:
        return _("Mistakes on the classes with few training images, surest first.");
    case LPT_REVIEW_QUEUE_EXPERTS_DISAGREE:
        return _("Images whose vision and vision-language experts name different classes; "
                 "two sure experts first.");
    case LPT_REVIEW_QUEUE_LOW_CONFIDENCE:
        /* xgettext:no-c-format */
        return _("Images the fused model gives less than 50% confidence, least sure first.");
    case LPT_REVIEW_QUEUE_LABEL_ERRORS:
        return _("Images that the fused model and every expert confidently put in one other "
                 "class than their label, ranked by the fused confidence times the experts’ "
                 "lowest confidence.");
    }
    return "";
}

static void show_toast(LptReviewQueues *self, const char *text)
{
    GtkWidget *overlay = gtk_widget_get_ancestor(GTK_WIDGET(self), ADW_TYPE_TOAST_OVERLAY);
    if (overlay != NULL)
        adw_toast_overlay_add_toast(ADW_TOAST_OVERLAY(overlay), adw_toast_new(text));
}

/* ---- Captions ---- */

/* The name of the image's class now. */
static const char *label_name(LptReviewQueues *self, const LptReviewSample *x)
{
    if (x->current >= 0)
        return self->samples->class_names[x->current];
    LptStoreImage *record = NULL;
    const char *name = NULL;
    if (lpt_store_image_get(lpt_project_get_store(self->shown.project), x->image_id, &record,
                            NULL) == LPT_OK &&
        record != NULL) {
        gint64 class_id = record->class_id;
        name = g_hash_table_lookup(self->class_names, &class_id);
    }
    free(record);
    return name != NULL ? name : "?";
}

/* The caption of an image in the shown queue, in two lines: its label, and what the model
 * said (new strings; "" when the image has no sample). Experts Disagree: each expert's class. */
static void caption_for(LptReviewQueues *self, int64_t image_id, char **first, char **second)
{
    int64_t at = self->samples ? lpt_review_samples_find(self->samples, image_id) : -1;
    if (at < 0) {
        *first = g_strdup("");
        *second = g_strdup("");
        return;
    }
    const LptReviewSample *x = &self->samples->samples[at];
    char *const *names = self->samples->class_names;
    if (self->kind == LPT_REVIEW_QUEUE_EXPERTS_DISAGREE) {
        /* Translators: a queue tile's caption: the vision expert's class */
        *first = g_strdup_printf(_("Vision: %s"), names[x->top[LPT_STORE_EXPERT_VISION]]);
        /* Translators: a queue tile's caption: the vision-language expert's class */
        *second = g_strdup_printf(_("VL: %s"), names[x->top[LPT_STORE_EXPERT_VL]]);
        return;
    }
    *first = g_strdup(label_name(self, x));
    /* Translators: a queue tile's caption under the label: "→ predicted class 87%" */
    *second = g_strdup_printf(_("→ %s %.0f%%"), names[x->top[LPT_STORE_EXPERT_FUSED]],
                              100.0 * x->prob[LPT_STORE_EXPERT_FUSED]);
}

/* The id of the image at position in the grid, 0 when out of range. */
static int64_t id_at(LptReviewQueues *self, guint position)
{
    guint n = 0;
    const gint64 *ids = lpt_image_id_list_get_ids(self->images, &n);
    return position < n ? ids[position] : 0;
}

char *lpt_review_queues_dup_caption(LptReviewQueues *self, guint position)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), NULL);
    g_autofree char *first = NULL, *second = NULL;
    caption_for(self, id_at(self, position), &first, &second);
    return g_strdup_printf("%s %s", first, second);
}

/* A tile's caption (lpt_captioned_tiles.h): the label, then what the model said (bold); the
 * tooltip says both. */
static void set_caption(GtkLabel *const *lines, gint64 image_id, gpointer user_data)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(user_data);
    g_autofree char *first = NULL, *second = NULL;
    caption_for(self, image_id, &first, &second);
    gtk_label_set_text(lines[0], first);
    gtk_label_set_text(lines[1], second);
    g_autofree char *tip = g_strdup_printf("%s %s", first, second);
    gtk_widget_set_tooltip_text(gtk_widget_get_parent(GTK_WIDGET(lines[0])), tip);
}

/* ---- Showing a queue ---- */

static void update_counts(LptReviewQueues *self)
{
    for (int k = 0; k < LPT_REVIEW_QUEUE_KINDS; k++) {
        g_autofree char *text = g_strdup_printf("%zu", self->counts[k]);
        gtk_label_set_text(self->count_labels[k], text);
    }
}

/* Shows the chosen queue, selecting the image at `position` (clamped; the first when the
 * queue is new). */
static void show_queue(LptReviewQueues *self, guint position)
{
    size_t n = self->counts[self->kind];
    gint64 *ids = g_new(gint64, n + 1);
    for (size_t i = 0; i < n; i++)
        ids[i] = self->entries[self->kind][i].image_id;
    lpt_image_id_list_set(self->images, self->shown.project, ids, (guint)n);
    g_free(ids);
    lpt_captioned_tiles_refresh(self->grid);

    gtk_label_set_text(self->title, queue_title(self->kind));
    g_autofree char *count =
        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%zu image", "%zu images", (gulong)n), n);
    g_autofree char *subtitle = g_strdup_printf("%s · %s", queue_description(self->kind), count);
    gtk_label_set_text(self->subtitle, subtitle);
    gtk_stack_set_visible_child_name(self->grid_stack, n > 0 ? "grid" : "none");
    if (n > 0) {
        guint at = MIN(position, (guint)n - 1);
        gtk_single_selection_set_selected(self->selection, at);
        gtk_widget_activate_action(GTK_WIDGET(self->grid), "list.scroll-to-item", "u", at);
    }
}

static void show_status(LptReviewQueues *self, const char *title, const char *description)
{
    adw_status_page_set_title(self->empty_page, title);
    adw_status_page_set_description(self->empty_page, description);
    gtk_stack_set_visible_child_name(self->stack, "empty");
}

static void clear_data(LptReviewQueues *self)
{
    for (int k = 0; k < LPT_REVIEW_QUEUE_KINDS; k++) {
        g_clear_pointer(&self->entries[k], free);
        self->counts[k] = 0;
    }
    g_clear_pointer(&self->samples, lpt_review_samples_free);
    g_hash_table_remove_all(self->class_names);
}

/* Reads the run's samples and builds every queue; shows the chosen one. */
static void reload(GtkWidget *widget)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(widget);
    guint position = gtk_single_selection_get_selected(self->selection);
    gboolean had_data = self->samples != NULL;
    clear_data(self);
    if (self->shown.project == NULL || self->shown.run_id <= 0) {
        lpt_image_id_list_set(self->images, NULL, NULL, 0);
        update_counts(self);
        show_status(self, _("No Run Chosen"),
                    _("Choose a run whose test images were evaluated to review them."));
        return;
    }
    LptStore *store = lpt_project_get_store(self->shown.project);
    LptError err = {0};
    LptStatus st = lpt_review_samples_read(store, self->shown.run_id, LPT_STORE_SPLIT_TEST,
                                           &self->samples, &err);
    for (int k = 0; st == LPT_OK && k < LPT_REVIEW_QUEUE_KINDS; k++)
        st = lpt_review_queue_build(self->samples, (LptReviewQueueKind)k, &self->entries[k],
                                    &self->counts[k], &err);
    LptStoreClass *classes = NULL;
    size_t n_classes = 0;
    if (st == LPT_OK)
        st = lpt_store_class_list(store, &classes, &n_classes, &err);
    for (size_t i = 0; i < n_classes; i++) {
        gint64 *key = g_new(gint64, 1);
        *key = classes[i].id;
        g_hash_table_insert(self->class_names, key, g_strdup(classes[i].name));
    }
    free(classes);
    update_counts(self);
    if (st != LPT_OK) {
        clear_data(self);
        update_counts(self);
        lpt_image_id_list_set(self->images, NULL, NULL, 0);
        show_status(self, _("Could Not Read the Predictions"), err.message);
        return;
    }
    if (self->samples->count == 0) {
        lpt_image_id_list_set(self->images, NULL, NULL, 0);
        show_status(self, _("No Test Predictions"),
                    _("This run has no recorded predictions of test images. Evaluate it "
                      "(lpt eval) to review them."));
        return;
    }
    gtk_stack_set_visible_child_name(self->stack, "queues");
    show_queue(self, had_data && position != GTK_INVALID_LIST_POSITION ? position : 0);
}

void lpt_review_queues_set_project(LptReviewQueues *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_REVIEW_QUEUES(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (lpt_shown_run_set_project(&self->shown, project))
        lpt_shown_run_invalidate(&self->shown);
}

void lpt_review_queues_set_run(LptReviewQueues *self, int64_t run_id)
{
    g_return_if_fail(LPT_IS_REVIEW_QUEUES(self));
    if (!lpt_shown_run_set_run(&self->shown, run_id))
        return;
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);
    clear_data(self); /* a new run starts at the top of the queue */
    lpt_shown_run_invalidate(&self->shown);
}

const int64_t *lpt_review_queues_current_ids(LptReviewQueues *self, size_t *count)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), NULL);
    guint n = 0;
    const gint64 *ids = lpt_image_id_list_get_ids(self->images, &n);
    *count = n;
    G_STATIC_ASSERT(sizeof(gint64) == sizeof(int64_t));
    return (const int64_t *)ids;
}

void lpt_review_queues_select_queue(LptReviewQueues *self, LptReviewQueueKind kind)
{
    g_return_if_fail(LPT_IS_REVIEW_QUEUES(self));
    g_return_if_fail((int)kind >= 0 && kind < LPT_REVIEW_QUEUE_KINDS);
    gtk_list_box_select_row(self->queue_list,
                            gtk_list_box_get_row_at_index(self->queue_list, (int)kind));
}

LptReviewQueueKind lpt_review_queues_get_queue(LptReviewQueues *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), LPT_REVIEW_QUEUE_MISCLASSIFIED);
    return self->kind;
}

size_t lpt_review_queues_get_count(LptReviewQueues *self, LptReviewQueueKind kind)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), 0);
    g_return_val_if_fail((int)kind >= 0 && kind < LPT_REVIEW_QUEUE_KINDS, 0);
    return self->counts[kind];
}

static void on_row_selected(GtkListBox *box, GtkListBoxRow *row, gpointer user_data)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(user_data);
    if (row == NULL)
        return;
    LptReviewQueueKind kind = (LptReviewQueueKind)gtk_list_box_row_get_index(row);
    if (kind == self->kind && self->samples != NULL &&
        g_list_model_get_n_items(G_LIST_MODEL(self->images)) == self->counts[kind])
        return;
    self->kind = kind;
    if (self->samples != NULL)
        show_queue(self, 0);
}

/* ---- Opening and relabelling the selected image ---- */

static void on_activate(GtkGridView *grid, guint position, gpointer user_data)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(user_data);
    int64_t id = id_at(self, position);
    if (id > 0)
        g_signal_emit(self, signals[SIGNAL_OPEN_IMAGE], 0, (gint64)id);
}

/* Where the relabel popover points: the selected tile when it is shown, else the grid's top
 * (in our coordinates). */
static GdkRectangle selection_anchor(LptReviewQueues *self)
{
    GtkWidget *target = GTK_WIDGET(self->grid);
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->grid)); child != NULL;
         child = gtk_widget_get_next_sibling(child))
        if (gtk_widget_get_mapped(child) &&
            (gtk_widget_get_state_flags(child) & GTK_STATE_FLAG_SELECTED) != 0)
            target = child;
    graphene_rect_t bounds;
    if (!gtk_widget_compute_bounds(target, GTK_WIDGET(self), &bounds))
        graphene_rect_init(&bounds, 0, 0, gtk_widget_get_width(GTK_WIDGET(self)), 0);
    if (target == GTK_WIDGET(self->grid))
        bounds.size.height = MIN(bounds.size.height, 24.0f);
    return (GdkRectangle){(int)bounds.origin.x, (int)bounds.origin.y, (int)bounds.size.width,
                          (int)bounds.size.height};
}

/* The selected image's id, 0 when none. */
static int64_t selected_id(LptReviewQueues *self)
{
    guint position = gtk_single_selection_get_selected(self->selection);
    return position == GTK_INVALID_LIST_POSITION ? 0 : id_at(self, position);
}

/* Opens the relabel popover with text typed (NULL: none) when an image is selected. */
static gboolean start_relabel(LptReviewQueues *self, const char *text)
{
    int64_t id = selected_id(self);
    int64_t at = self->samples ? lpt_review_samples_find(self->samples, id) : -1;
    if (self->shown.project == NULL || at < 0)
        return FALSE;
    guint n = g_hash_table_size(self->class_names);
    g_autofree const char **names = g_new0(const char *, n + 1);
    GHashTableIter iter;
    gpointer value;
    guint i = 0;
    g_hash_table_iter_init(&iter, self->class_names);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        names[i++] = value;
    LptRelabelPopover *popover = LPT_RELABEL_POPOVER(self->relabel_popover);
    lpt_relabel_popover_set_classes(popover, names, label_name(self, &self->samples->samples[at]));
    GdkRectangle anchor = selection_anchor(self);
    gtk_popover_set_pointing_to(GTK_POPOVER(popover), &anchor);
    lpt_relabel_popover_start(popover, text);
    return TRUE;
}

/* Moves image id to the class named name (made when the project has none), one transaction. */
static gboolean relabel(LptReviewQueues *self, int64_t id, const char *name, GError **error)
{
    LptStore *store = lpt_project_get_store(self->shown.project);
    int64_t class_id = 0;
    LptError err = {0};
    LptStatus st = lpt_store_begin(store, &err);
    if (st == LPT_OK)
        st = lpt_store_class_ensure(store, name, &class_id, NULL, &err);
    if (st == LPT_OK)
        st = lpt_store_image_relabel(store, id, class_id, RELABEL_REASON, &err);
    if (st == LPT_OK)
        st = lpt_store_commit(store, &err);
    else
        lpt_store_rollback(store, NULL);
    if (st != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return FALSE;
    }
    return TRUE;
}

static void on_relabel(LptRelabelPopover *popover, const char *name, gpointer user_data)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(user_data);
    int64_t id = selected_id(self);
    if (self->shown.project == NULL || id <= 0)
        return;
    g_autoptr(GError) error = NULL;
    g_autofree char *target = g_strdup(name); /* the reload may change what name points to */
    g_autofree char *text =
        relabel(self, id, target, &error)
            ? g_strdup_printf(_("Relabelled the image as “%s”"), target)
            : g_strdup_printf(_("Could not relabel the image: %s"), error->message);
    if (error == NULL)
        lpt_project_notify_labels_changed(self->shown.project, id);
    show_toast(self, text);
}

static void on_popover_closed(GtkPopover *popover, gpointer user_data)
{
    gtk_widget_grab_focus(GTK_WIDGET(LPT_REVIEW_QUEUES(user_data)->grid));
}

/* Typing a printable character over the queue starts a relabel with it. */
static gboolean on_key_pressed(GtkEventControllerKey *controller, guint keyval, guint keycode,
                               GdkModifierType state, gpointer user_data)
{
    char text[8];
    return lpt_relabel_popover_key_text(keyval, state, text) &&
           start_relabel(LPT_REVIEW_QUEUES(user_data), text);
}

/* ---- Parts for tests ---- */

GtkGridView *lpt_review_queues_get_grid(LptReviewQueues *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), NULL);
    return self->grid;
}

GtkSingleSelection *lpt_review_queues_get_selection(LptReviewQueues *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), NULL);
    return self->selection;
}

LptRelabelPopover *lpt_review_queues_get_relabel_popover(LptReviewQueues *self)
{
    g_return_val_if_fail(LPT_IS_REVIEW_QUEUES(self), NULL);
    return LPT_RELABEL_POPOVER(self->relabel_popover);
}

/* ---- GtkWidget ---- */

static void lpt_review_queues_measure(GtkWidget *widget, GtkOrientation orientation, int for_size,
                                      int *minimum, int *natural, int *minimum_baseline,
                                      int *natural_baseline)
{
    gtk_widget_measure(GTK_WIDGET(LPT_REVIEW_QUEUES(widget)->stack), orientation, for_size, minimum,
                       natural, minimum_baseline, natural_baseline);
}

static void lpt_review_queues_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(widget);
    gtk_widget_allocate(GTK_WIDGET(self->stack), width, height, baseline, NULL);
    gtk_popover_present(GTK_POPOVER(self->relabel_popover));
}

static void lpt_review_queues_map(GtkWidget *widget)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(widget);
    GTK_WIDGET_CLASS(lpt_review_queues_parent_class)->map(widget);
    lpt_shown_run_reload_if_dirty(&self->shown);
}

static void lpt_review_queues_dispose(GObject *object)
{
    LptReviewQueues *self = LPT_REVIEW_QUEUES(object);

    lpt_shown_run_clear(&self->shown);
    if (self->grid != NULL)
        gtk_grid_view_set_model(self->grid, NULL);
    if (self->relabel_popover != NULL)
        g_signal_handlers_disconnect_by_data(self->relabel_popover, self);
    g_clear_pointer(&self->relabel_popover, gtk_widget_unparent);
    g_clear_object(&self->selection);
    g_clear_object(&self->images);
    if (self->class_names != NULL)
        clear_data(self);
    g_clear_pointer(&self->class_names, g_hash_table_unref);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_REVIEW_QUEUES);

    G_OBJECT_CLASS(lpt_review_queues_parent_class)->dispose(object);
}

static void lpt_review_queues_class_init(LptReviewQueuesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_review_queues_dispose;
    widget_class->measure = lpt_review_queues_measure;
    widget_class->size_allocate = lpt_review_queues_size_allocate;
    widget_class->map = lpt_review_queues_map;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_review_queues.ui");
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, stack);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, empty_page);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, queue_list);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, title);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, subtitle);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, grid_stack);
    gtk_widget_class_bind_template_child(widget_class, LptReviewQueues, grid);

    signals[SIGNAL_OPEN_IMAGE] =
        g_signal_new("open-image", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void lpt_review_queues_init(LptReviewQueues *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    lpt_shown_run_init(&self->shown, GTK_WIDGET(self), reload);
    self->class_names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);

    for (int k = 0; k < LPT_REVIEW_QUEUE_KINDS; k++) {
        GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
        GtkWidget *name = gtk_label_new(queue_title((LptReviewQueueKind)k));
        gtk_label_set_xalign(GTK_LABEL(name), 0.0f);
        gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
        gtk_widget_set_hexpand(name, TRUE);
        GtkWidget *count = gtk_label_new("0");
        gtk_widget_add_css_class(count, "dim-label");
        gtk_widget_add_css_class(count, "numeric");
        gtk_box_append(GTK_BOX(box), name);
        gtk_box_append(GTK_BOX(box), count);
        gtk_list_box_append(self->queue_list, box);
        self->count_labels[k] = GTK_LABEL(count);
    }
    gtk_list_box_select_row(self->queue_list, gtk_list_box_get_row_at_index(self->queue_list, 0));
    g_signal_connect(self->queue_list, "row-selected", G_CALLBACK(on_row_selected), self);

    self->images = lpt_image_id_list_new();
    self->selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->images)));
    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    g_autoptr(LptThumbnailLoader) loader = lpt_thumbnail_loader_new_for_settings(settings);
    static const char *const line_css[] = {NULL, "heading"}; /* the label, what was said */
    GtkListItemFactory *factory = lpt_captioned_tiles_factory_new(loader, G_N_ELEMENTS(line_css),
                                                                  line_css, set_caption, self);
    gtk_grid_view_set_factory(self->grid, factory);
    g_object_unref(factory);
    gtk_grid_view_set_model(self->grid, GTK_SELECTION_MODEL(self->selection));
    g_signal_connect(self->grid, "activate", G_CALLBACK(on_activate), self);

    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_key_pressed), self);
    gtk_widget_add_controller(GTK_WIDGET(self), keys);

    self->relabel_popover = lpt_relabel_popover_new();
    gtk_widget_set_parent(self->relabel_popover, GTK_WIDGET(self));
    g_signal_connect(self->relabel_popover, "relabel", G_CALLBACK(on_relabel), self);
    g_signal_connect(self->relabel_popover, "closed", G_CALLBACK(on_popover_closed), self);
    show_status(self, _("No Run Chosen"),
                _("Choose a run whose test images were evaluated to review them."));
}

GtkWidget *lpt_review_queues_new(void)
{
    return g_object_new(LPT_TYPE_REVIEW_QUEUES, NULL);
}

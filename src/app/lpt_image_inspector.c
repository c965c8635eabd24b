/* lpt_image_inspector.c: one image as a run saw it (see the header). */
#include "lpt_image_inspector.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_image.h"
#include "lpt_relabel_popover.h"

#define INSPECTOR_KEY "lpt-image-inspector" /* the main window's data: its inspector */
#define RELABEL_REASON "relabelled in the review inspector" /* stored, not translated */
#define UPSCALE_TARGET 1024 /* small images are enlarged (nearest) to about this side */
#define ZOOM_STEP 1.5
#define ZOOM_MIN 0.1
#define ZOOM_MAX 64.0

struct _LptImageInspector {
    AdwWindow parent_instance;

    /* template widgets */
    AdwWindowTitle *title;
    GtkWidget *previous_button;
    GtkWidget *next_button;
    GtkButton *exclude_button;
    GtkWidget *relabel_button;
    AdwToastOverlay *toast_overlay;
    GtkScrolledWindow *image_scroller;
    GtkPicture *picture;
    GtkLabel *image_message;
    GtkButton *zoom_label;
    GtkLabel *label_label;
    GtkLabel *label_note;
    GtkGrid *fused_grid;
    GtkGrid *vision_grid;
    GtkGrid *vl_grid;
    GtkLabel *vision_weight_label;
    GtkLevelBar *weight_bar;
    GtkLabel *vl_weight_label;
    GtkLabel *prompts_label;
    GtkListBox *history_list;

    /* owned */
    LptProject *project;
    gulong changed_id;
    gint64 run_id;
    char **run_names; /* [K + 1] the run's classes by output index, NULL-terminated */
    GArray *queue;    /* gint64 image ids */
    guint position;   /* of the image in the queue */
    gint64 image_id;
    char *class_name; /* the image's class now */
    gboolean excluded;
    int image_width, image_height; /* of the file, 0 while loading */
    double zoom;                   /* 0: fit to the window */
    GCancellable *load;
    GtkWidget *relabel_popover; /* our child */
    guint n_history, n_fused;
};

G_DEFINE_FINAL_TYPE(LptImageInspector, lpt_image_inspector, ADW_TYPE_WINDOW)

static void show_toast(LptImageInspector *self, const char *text)
{
    adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(text));
}

/* ---- The image ---- */

/* What the decoding thread gets and gives: the file, then the texture and its size. */
typedef struct {
    char *path;
    int width, height;
} LoadJob;

static void load_job_free(gpointer data)
{
    LoadJob *job = data;
    g_free(job->path);
    g_free(job);
}

/* An RGB texture of img enlarged `factor` times by repeating pixels (so that a 28 x 28 image
 * stays sharp when the picture scales it up). */
static GdkTexture *texture_from_image(const LptImage *img, int factor)
{
    gsize w = (gsize)img->width * factor, h = (gsize)img->height * factor;
    guint8 *rgb = g_malloc(w * h * 3);
    for (gsize y = 0; y < h; y++) {
        const guint8 *src = img->pixels + (y / factor) * (gsize)img->width * img->channels;
        guint8 *dst = rgb + y * w * 3;
        for (gsize x = 0; x < w; x++) {
            const guint8 *p = src + (x / factor) * img->channels;
            dst[3 * x] = p[0];
            dst[3 * x + 1] = img->channels == 3 ? p[1] : p[0];
            dst[3 * x + 2] = img->channels == 3 ? p[2] : p[0];
        }
    }
    g_autoptr(GBytes) bytes = g_bytes_new_take(rgb, w * h * 3);
    return gdk_memory_texture_new((int)w, (int)h, GDK_MEMORY_R8G8B8, bytes, w * 3);
}

static void load_thread(GTask *task, gpointer source, gpointer task_data,
                        GCancellable *cancellable)
{
    LoadJob *job = task_data;
    LptImage img = {0};
    LptError err = {0};
    if (lpt_image_decode_file(job->path, &img, &err) != LPT_OK) {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(task, error);
        return;
    }
    int side = MAX(img.width, img.height);
    int factor = CLAMP(UPSCALE_TARGET / MAX(side, 1), 1, 16);
    job->width = img.width;
    job->height = img.height;
    GdkTexture *texture = texture_from_image(&img, factor);
    lpt_image_release(&img);
    g_task_return_pointer(task, texture, g_object_unref);
}

static void update_zoom_label(LptImageInspector *self)
{
    g_autofree char *text = self->zoom > 0.0
                                /* Translators: the image's zoom, "400 %" */
                                ? g_strdup_printf(_("%.0f %%"), 100.0 * self->zoom)
                                : g_strdup(C_("zoom", "Fit"));
    gtk_button_set_label(self->zoom_label, text);
}

/* Sizes the picture for the zoom: filling the view when fitting, else the image's size times
 * the zoom (the scrolled window scrolls it). */
static void apply_zoom(LptImageInspector *self)
{
    GtkWidget *picture = GTK_WIDGET(self->picture);
    gboolean fit = self->zoom <= 0.0 || self->image_width == 0;
    gtk_widget_set_halign(picture, fit ? GTK_ALIGN_FILL : GTK_ALIGN_CENTER);
    gtk_widget_set_valign(picture, fit ? GTK_ALIGN_FILL : GTK_ALIGN_CENTER);
    if (fit)
        gtk_widget_set_size_request(picture, -1, -1);
    else
        gtk_widget_set_size_request(picture, (int)ceil(self->image_width * self->zoom),
                                    (int)ceil(self->image_height * self->zoom));
    update_zoom_label(self);
}

/* The scale at which the image fits the view now. */
static double fit_scale(LptImageInspector *self)
{
    int w = gtk_widget_get_width(GTK_WIDGET(self->image_scroller));
    int h = gtk_widget_get_height(GTK_WIDGET(self->image_scroller));
    if (self->image_width == 0 || w <= 0 || h <= 0)
        return 1.0;
    return MIN((double)w / self->image_width, (double)h / self->image_height);
}

static void zoom_by(LptImageInspector *self, double factor)
{
    double current = self->zoom > 0.0 ? self->zoom : fit_scale(self);
    self->zoom = CLAMP(current * factor, ZOOM_MIN, ZOOM_MAX);
    apply_zoom(self);
}

static void on_loaded(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    GTask *task = G_TASK(result);
    g_autoptr(GdkTexture) texture = g_task_propagate_pointer(task, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(source);
    const LoadJob *job = g_task_get_task_data(task);
    if (texture == NULL) {
        g_autofree char *text = g_strdup_printf(_("Could not read the image: %s"), error->message);
        gtk_label_set_text(self->image_message, text);
        gtk_widget_set_visible(GTK_WIDGET(self->image_message), TRUE);
        return;
    }
    self->image_width = job->width;
    self->image_height = job->height;
    gtk_picture_set_paintable(self->picture, GDK_PAINTABLE(texture));
    apply_zoom(self);
}

static void load_image(LptImageInspector *self, const char *path)
{
    g_cancellable_cancel(self->load);
    g_clear_object(&self->load);
    self->load = g_cancellable_new();
    self->image_width = self->image_height = 0;
    gtk_picture_set_paintable(self->picture, NULL);
    gtk_widget_set_visible(GTK_WIDGET(self->image_message), FALSE);
    apply_zoom(self);

    g_autoptr(GTask) task = g_task_new(self, self->load, on_loaded, NULL);
    LoadJob *job = g_new0(LoadJob, 1);
    job->path = g_strdup(path);
    g_task_set_task_data(task, job, load_job_free);
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, load_thread);
}

/* ---- The details ---- */

static void clear_container(GtkWidget *container)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(container)) != NULL) {
        if (GTK_IS_GRID(container))
            gtk_grid_remove(GTK_GRID(container), child);
        else
            gtk_list_box_remove(GTK_LIST_BOX(container), child);
    }
}

static const char *run_class_name(LptImageInspector *self, int32_t index)
{
    guint n = self->run_names != NULL ? g_strv_length(self->run_names) : 0;
    return index >= 0 && (guint)index < n ? self->run_names[index] : "?";
}

/* Takes the level bar's low / high / full colours away: one colour for every level. */
static void plain_level_bar(GtkLevelBar *bar)
{
    gtk_level_bar_remove_offset_value(bar, GTK_LEVEL_BAR_OFFSET_LOW);
    gtk_level_bar_remove_offset_value(bar, GTK_LEVEL_BAR_OFFSET_HIGH);
    gtk_level_bar_remove_offset_value(bar, GTK_LEVEL_BAR_OFFSET_FULL);
}

/* A bar of a probability in [0, 1]. */
static GtkWidget *probability_bar(double value)
{
    GtkWidget *bar = gtk_level_bar_new_for_interval(0.0, 1.0);
    plain_level_bar(GTK_LEVEL_BAR(bar));
    gtk_level_bar_set_value(GTK_LEVEL_BAR(bar), CLAMP(value, 0.0, 1.0));
    gtk_widget_set_hexpand(bar, TRUE);
    gtk_widget_set_valign(bar, GTK_ALIGN_CENTER);
    gtk_widget_set_size_request(bar, 48, -1);
    return bar;
}

/* Fills grid with a top-k list: class name, bar, percentage; the true class in bold, a
 * wrong top-1 marked as an error. Returns the rows made. */
static guint fill_topk(LptImageInspector *self, GtkGrid *grid, const LptStoreTopK *topk, int k,
                       int32_t label_index, gboolean compact)
{
    clear_container(GTK_WIDGET(grid));
    if (topk == NULL) {
        GtkWidget *none = gtk_label_new(_("Not in this run"));
        gtk_widget_add_css_class(none, "dim-label");
        gtk_label_set_xalign(GTK_LABEL(none), 0.0f);
        gtk_grid_attach(grid, none, 0, 0, 3, 1);
        return 0;
    }
    for (int j = 0; j < k; j++) {
        GtkWidget *name = gtk_label_new(run_class_name(self, topk[j].class_index));
        gtk_label_set_xalign(GTK_LABEL(name), 0.0f);
        gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
        gtk_label_set_width_chars(GTK_LABEL(name), compact ? 8 : 14);
        gtk_label_set_max_width_chars(GTK_LABEL(name), compact ? 10 : 20);
        gtk_widget_set_tooltip_text(name, run_class_name(self, topk[j].class_index));
        if (topk[j].class_index == label_index)
            gtk_widget_add_css_class(name, "true-class");
        else if (j == 0)
            gtk_widget_add_css_class(name, "error");
        g_autofree char *percent = g_strdup_printf(_("%.1f %%"), 100.0 * topk[j].prob);
        GtkWidget *value = gtk_label_new(percent);
        gtk_label_set_xalign(GTK_LABEL(value), 1.0f);
        gtk_label_set_width_chars(GTK_LABEL(value), 6);
        gtk_widget_add_css_class(value, "numeric");
        gtk_widget_add_css_class(value, "caption");
        gtk_grid_attach(grid, name, 0, j, 1, 1);
        gtk_grid_attach(grid, probability_bar(topk[j].prob), 1, j, 1, 1);
        gtk_grid_attach(grid, value, 2, j, 1, 1);
    }
    return (guint)k;
}

static void fill_weights(LptImageInspector *self, const LptStorePrediction *p)
{
    gboolean known = p != NULL && p->scorer_weights != NULL;
    gtk_widget_set_visible(GTK_WIDGET(self->weight_bar), known);
    gtk_widget_set_visible(GTK_WIDGET(self->vl_weight_label), known);
    if (!known) {
        gtk_label_set_text(self->vision_weight_label, _("Not recorded"));
        return;
    }
    double vision = p->scorer_weights[LPT_STORE_EXPERT_VISION];
    double vl = p->scorer_weights[LPT_STORE_EXPERT_VL];
    gtk_level_bar_set_value(self->weight_bar, CLAMP(vision / MAX(vision + vl, 1e-12), 0.0, 1.0));
    /* Translators: the scorer's weight of an expert, "Vision 62 %" */
    g_autofree char *left = g_strdup_printf(_("Vision %.0f %%"), 100.0 * vision);
    /* Translators: the scorer's weight of the vision-language expert, "VL 38 %" */
    g_autofree char *right = g_strdup_printf(_("VL %.0f %%"), 100.0 * vl);
    gtk_label_set_text(self->vision_weight_label, left);
    gtk_label_set_text(self->vl_weight_label, right);
}

static void fill_prompts(LptImageInspector *self, const LptStorePrediction *p)
{
    g_autoptr(GString) text = g_string_new(NULL);
    static const char *const experts[LPT_STORE_NUM_EXPERTS] = {N_("Vision"),
                                                               N_("Vision-Language")};
    for (int e = 0; p != NULL && e < LPT_STORE_NUM_EXPERTS; e++) {
        if (p->num_prompts[e] == 0)
            continue;
        if (text->len > 0)
            g_string_append_c(text, '\n');
        g_string_append_printf(text, "%s:", _(experts[e]));
        for (int i = 0; i < p->num_prompts[e]; i++)
            g_string_append_printf(text, "%s %d", i > 0 ? "," : "", p->prompts[e][i]);
    }
    gtk_label_set_text(self->prompts_label,
                       text->len > 0 ? text->str : _("None: the run has no group prompts"));
}

/* The names of every class by id (for the label history). */
static GHashTable *class_names(LptStore *store)
{
    GHashTable *names = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    LptStoreClass *classes = NULL;
    size_t n = 0;
    if (lpt_store_class_list(store, &classes, &n, NULL) == LPT_OK)
        for (size_t i = 0; i < n; i++)
            g_hash_table_insert(names, g_memdup2(&classes[i].id, sizeof classes[i].id),
                                g_strdup(classes[i].name));
    free(classes);
    return names;
}

static const char *name_of(GHashTable *names, gint64 class_id)
{
    const char *name = g_hash_table_lookup(names, &class_id);
    return name != NULL ? name : "?";
}

static void fill_history(LptImageInspector *self, LptStore *store, GHashTable *names)
{
    clear_container(GTK_WIDGET(self->history_list));
    LptStoreLabelChange *changes = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_store_label_history(store, self->image_id, &changes, &n, &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not read the history: %s"), err.message);
        show_toast(self, text);
    }
    self->n_history = (guint)n;
    for (size_t i = n; i-- > 0;) { /* newest first */
        const LptStoreLabelChange *c = &changes[i];
        /* Translators: a label change, "Coat → Shirt" */
        g_autofree char *title = g_strdup_printf(_("%s → %s"), name_of(names, c->old_class_id),
                                                 name_of(names, c->new_class_id));
        g_autoptr(GDateTime) at = g_date_time_new_from_unix_local(c->at);
        g_autofree char *when = at != NULL ? g_date_time_format(at, "%x %H:%M") : g_strdup("");
        g_autofree char *subtitle =
            c->reason != NULL && c->reason[0] != '\0' ? g_strdup_printf("%s · %s", when, c->reason)
                                                      : g_strdup(when);
        GtkWidget *row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
        gtk_list_box_append(self->history_list, row);
    }
    if (n == 0) {
        GtkWidget *row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row),
                                      _("Never relabelled since the import"));
        gtk_widget_add_css_class(row, "dim-label");
        gtk_list_box_append(self->history_list, row);
    }
    free(changes);
}

/* The run's class names by output index. */
static void load_run_names(LptImageInspector *self, LptStore *store, GHashTable *names)
{
    g_clear_pointer(&self->run_names, g_strfreev);
    int64_t *ids = NULL;
    size_t n = 0;
    lpt_store_run_classes(store, self->run_id, &ids, &n, NULL);
    self->run_names = g_new0(char *, n + 1);
    for (size_t k = 0; k < n; k++)
        self->run_names[k] = g_strdup(name_of(names, ids[k]));
    free(ids);
}

static void update_navigation(LptImageInspector *self)
{
    guint n = self->queue->len;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "inspector.previous", self->position > 0);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "inspector.next", self->position + 1 < n);
    gtk_widget_set_visible(self->previous_button, n > 1);
    gtk_widget_set_visible(self->next_button, n > 1);
}

/* Reads everything about the image shown from the store and shows it; with reload_image the
 * file is decoded again too. */
static void show(LptImageInspector *self, gboolean reload_image)
{
    LptStore *store = lpt_project_get_store(self->project);
    g_autoptr(GHashTable) names = class_names(store);
    load_run_names(self, store, names);

    LptStoreImage *image = NULL;
    LptStorePrediction *p = NULL;
    LptError err = {0};
    if (lpt_store_image_get(store, self->image_id, &image, &err) != LPT_OK ||
        lpt_store_prediction_get(store, self->run_id, self->image_id, &p, &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not read the image: %s"), err.message);
        show_toast(self, text);
    }
    g_free(self->class_name);
    self->class_name = g_strdup(image != NULL ? name_of(names, image->class_id) : "");
    self->excluded = image != NULL && image->excluded;

    g_autofree char *file = image != NULL ? g_path_get_basename(image->path) : g_strdup("");
    g_autofree char *subtitle =
        self->queue->len > 1
            /* Translators: the inspector's subtitle: image 3 of 12 in the queue */
            ? g_strdup_printf(_("Image %u of %u"), self->position + 1, self->queue->len)
            : g_strdup("");
    adw_window_title_set_title(self->title, file);
    adw_window_title_set_subtitle(self->title, subtitle);

    gtk_label_set_text(self->label_label, self->class_name);
    g_autoptr(GString) note = g_string_new(NULL);
    if (p != NULL && g_strcmp0(run_class_name(self, p->label_index), self->class_name) != 0)
        g_string_append_printf(note, _("Evaluated as “%s”; relabelled since."),
                               run_class_name(self, p->label_index));
    if (p == NULL)
        g_string_append(note, _("This run has no prediction for the image."));
    if (self->excluded)
        g_string_append_printf(note, "%s%s", note->len > 0 ? " " : "",
                               _("Excluded from training."));
    gtk_label_set_text(self->label_note, note->str);
    gtk_widget_set_visible(GTK_WIDGET(self->label_note), note->len > 0);

    int32_t label = p != NULL ? p->label_index : -1;
    int k = p != NULL ? p->top_k : 0;
    self->n_fused = fill_topk(self, self->fused_grid, p != NULL ? p->fused_topk : NULL, k, label,
                              FALSE);
    fill_topk(self, self->vision_grid, p != NULL ? p->expert_topk[LPT_STORE_EXPERT_VISION] : NULL,
              k, label, TRUE);
    fill_topk(self, self->vl_grid, p != NULL ? p->expert_topk[LPT_STORE_EXPERT_VL] : NULL, k,
              label, TRUE);
    fill_weights(self, p);
    fill_prompts(self, p);
    fill_history(self, store, names);

    gtk_button_set_label(self->exclude_button, self->excluded ? _("_Include") : _("_Exclude"));
    gtk_button_set_use_underline(self->exclude_button, TRUE);
    update_navigation(self);
    if (reload_image && image != NULL)
        load_image(self, image->path);
    free(image);
    free(p);
}

/* ---- Changing the image ---- */

/* Ends a transaction: commits when status is LPT_OK, else rolls back. */
static LptStatus end_transaction(LptStore *store, LptStatus status, LptError *err)
{
    if (status == LPT_OK)
        status = lpt_store_commit(store, err);
    if (status != LPT_OK)
        lpt_store_rollback(store, NULL);
    return status;
}

gboolean lpt_image_inspector_relabel(LptImageInspector *self, const char *name, GError **error)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), FALSE);
    g_return_val_if_fail(name != NULL, FALSE);
    if (self->project == NULL || self->image_id == 0)
        return TRUE;
    LptStore *store = lpt_project_get_store(self->project);
    LptError err = {0};
    gint64 class_id = 0;
    LptStatus status = lpt_store_begin(store, &err);
    if (status == LPT_OK) {
        status = lpt_store_class_ensure(store, name, &class_id, NULL, &err);
        if (status == LPT_OK)
            status = lpt_store_image_relabel(store, self->image_id, class_id, RELABEL_REASON, &err);
        status = end_transaction(store, status, &err);
    }
    if (status != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return FALSE;
    }
    lpt_project_notify_labels_changed(self->project, self->image_id); /* shows it here too */
    return TRUE;
}

gboolean lpt_image_inspector_toggle_excluded(LptImageInspector *self, GError **error)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), FALSE);
    if (self->project == NULL || self->image_id == 0)
        return TRUE;
    LptError err = {0};
    if (lpt_store_image_set_excluded(lpt_project_get_store(self->project), self->image_id,
                                     !self->excluded, &err) != LPT_OK) {
        lpt_app_error_from_core(error, &err);
        return FALSE;
    }
    lpt_project_notify_labels_changed(self->project, self->image_id);
    return TRUE;
}

static void on_relabel(LptRelabelPopover *popover, const char *name, gpointer user_data)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(user_data);
    g_autofree char *target = g_strdup(name);
    g_autoptr(GError) error = NULL;
    g_autofree char *text =
        lpt_image_inspector_relabel(self, target, &error)
            /* Translators: a toast after a relabel in the inspector */
            ? g_strdup_printf(_("Moved to “%s”"), target)
            : g_strdup_printf(_("Could not move the image: %s"), error->message);
    show_toast(self, text);
}

static gint compare_names(gconstpointer a, gconstpointer b, gpointer user_data)
{
    return g_utf8_collate(*(const char *const *)a, *(const char *const *)b);
}

/* Opens the relabel popover under the Relabel button with text typed (NULL: none). */
static void start_relabel(LptImageInspector *self, const char *text)
{
    if (self->project == NULL || self->image_id == 0)
        return;
    LptStoreClass *classes = NULL;
    size_t n = 0;
    LptError err = {0};
    if (lpt_store_class_list(lpt_project_get_store(self->project), &classes, &n, &err) != LPT_OK) {
        g_autofree char *message = g_strdup_printf(_("Could not read the classes: %s"), err.message);
        show_toast(self, message);
        return;
    }
    g_autofree const char **names = g_new0(const char *, n + 1);
    for (size_t i = 0; i < n; i++)
        names[i] = classes[i].name;
    g_qsort_with_data(names, (gint)n, sizeof *names, compare_names, NULL);
    LptRelabelPopover *popover = LPT_RELABEL_POPOVER(self->relabel_popover);
    lpt_relabel_popover_set_classes(popover, names, self->class_name);
    free(classes);
    graphene_rect_t bounds;
    if (gtk_widget_compute_bounds(self->relabel_button, GTK_WIDGET(self), &bounds)) {
        GdkRectangle anchor = {(int)bounds.origin.x, (int)bounds.origin.y,
                               (int)bounds.size.width, (int)bounds.size.height};
        gtk_popover_set_pointing_to(GTK_POPOVER(popover), &anchor);
    }
    lpt_relabel_popover_start(popover, text);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(user_data);
    if (self->image_id != 0)
        show(self, FALSE);
}

gboolean lpt_image_inspector_step(LptImageInspector *self, int delta)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), FALSE);
    gint64 to = (gint64)self->position + delta;
    if (self->project == NULL || to < 0 || to >= (gint64)self->queue->len || delta == 0)
        return FALSE;
    self->position = (guint)to;
    self->image_id = g_array_index(self->queue, gint64, self->position);
    show(self, TRUE);
    return TRUE;
}

/* ---- Actions and keys ---- */

static void previous_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    lpt_image_inspector_step(LPT_IMAGE_INSPECTOR(widget), -1);
}

static void next_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    lpt_image_inspector_step(LPT_IMAGE_INSPECTOR(widget), 1);
}

static void toggle_excluded_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(widget);
    gboolean was = self->excluded;
    g_autoptr(GError) error = NULL;
    g_autofree char *text =
        !lpt_image_inspector_toggle_excluded(self, &error)
            ? g_strdup_printf(_("Could not change the image: %s"), error->message)
        : was ? g_strdup(_("Included in training again"))
              : g_strdup(_("Excluded from training"));
    show_toast(self, text);
}

static void relabel_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    start_relabel(LPT_IMAGE_INSPECTOR(widget), NULL);
}

static void zoom_in_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    zoom_by(LPT_IMAGE_INSPECTOR(widget), ZOOM_STEP);
}

static void zoom_out_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    zoom_by(LPT_IMAGE_INSPECTOR(widget), 1.0 / ZOOM_STEP);
}

static void zoom_fit_action(GtkWidget *widget, const char *name, GVariant *parameter)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(widget);
    self->zoom = 0.0;
    apply_zoom(self);
}

static gboolean on_image_scroll(GtkEventControllerScroll *controller, double dx, double dy,
                                gpointer user_data)
{
    GdkModifierType state =
        gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(controller));
    if ((state & GDK_CONTROL_MASK) == 0 || dy == 0.0)
        return FALSE;
    zoom_by(LPT_IMAGE_INSPECTOR(user_data), dy < 0 ? ZOOM_STEP : 1.0 / ZOOM_STEP);
    return TRUE;
}

/* Page Up / Down and Left / Right walk the queue; a printable key starts a relabel with it. */
static gboolean on_key_pressed(GtkEventControllerKey *controller, guint keyval, guint keycode,
                               GdkModifierType state, gpointer user_data)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(user_data);
    if (gtk_widget_get_visible(self->relabel_popover) ||
        (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) != 0)
        return FALSE;
    switch (keyval) {
    case GDK_KEY_Page_Up:
    case GDK_KEY_Left:
        lpt_image_inspector_step(self, -1);
        return TRUE;
    case GDK_KEY_Page_Down:
    case GDK_KEY_Right:
        lpt_image_inspector_step(self, 1);
        return TRUE;
    default:
        break;
    }
    gunichar c = gdk_keyval_to_unicode(keyval);
    if (c == 0 || !g_unichar_isgraph(c))
        return FALSE;
    char text[8] = {0};
    g_unichar_to_utf8(c, text);
    start_relabel(self, text);
    return TRUE;
}

/* ---- Type ---- */

static void weak_ref_free(gpointer data)
{
    g_weak_ref_clear(data);
    g_free(data);
}

static void lpt_image_inspector_dispose(GObject *object)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(object);

    g_cancellable_cancel(self->load);
    g_clear_object(&self->load);
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_clear_object(&self->project);
    g_clear_pointer(&self->relabel_popover, gtk_widget_unparent);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_IMAGE_INSPECTOR);

    G_OBJECT_CLASS(lpt_image_inspector_parent_class)->dispose(object);
}

static void lpt_image_inspector_finalize(GObject *object)
{
    LptImageInspector *self = LPT_IMAGE_INSPECTOR(object);
    g_strfreev(self->run_names);
    g_array_unref(self->queue);
    g_free(self->class_name);
    G_OBJECT_CLASS(lpt_image_inspector_parent_class)->finalize(object);
}

static void lpt_image_inspector_class_init(LptImageInspectorClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_image_inspector_dispose;
    object_class->finalize = lpt_image_inspector_finalize;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_image_inspector.ui");
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, title);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, previous_button);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, next_button);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, exclude_button);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, relabel_button);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, toast_overlay);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, image_scroller);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, picture);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, image_message);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, zoom_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, label_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, label_note);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, fused_grid);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, vision_grid);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, vl_grid);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, vision_weight_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, weight_bar);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, vl_weight_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, prompts_label);
    gtk_widget_class_bind_template_child(widget_class, LptImageInspector, history_list);
    gtk_widget_class_bind_template_callback(widget_class, on_image_scroll);
    gtk_widget_class_bind_template_callback(widget_class, on_key_pressed);

    gtk_widget_class_install_action(widget_class, "inspector.previous", NULL, previous_action);
    gtk_widget_class_install_action(widget_class, "inspector.next", NULL, next_action);
    gtk_widget_class_install_action(widget_class, "inspector.toggle-excluded", NULL,
                                    toggle_excluded_action);
    gtk_widget_class_install_action(widget_class, "inspector.relabel", NULL, relabel_action);
    gtk_widget_class_install_action(widget_class, "inspector.zoom-in", NULL, zoom_in_action);
    gtk_widget_class_install_action(widget_class, "inspector.zoom-out", NULL, zoom_out_action);
    gtk_widget_class_install_action(widget_class, "inspector.zoom-fit", NULL, zoom_fit_action);

    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Delete, 0,
                                        "inspector.toggle-excluded", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F2, 0, "inspector.relabel", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_plus, GDK_CONTROL_MASK,
                                        "inspector.zoom-in", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_equal, GDK_CONTROL_MASK,
                                        "inspector.zoom-in", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_minus, GDK_CONTROL_MASK,
                                        "inspector.zoom-out", NULL);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_0, GDK_CONTROL_MASK,
                                        "inspector.zoom-fit", NULL);
}

static void lpt_image_inspector_init(LptImageInspector *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->queue = g_array_new(FALSE, FALSE, sizeof(gint64));
    plain_level_bar(self->weight_bar);
    self->relabel_popover = lpt_relabel_popover_new();
    gtk_widget_set_parent(self->relabel_popover, GTK_WIDGET(self));
    g_signal_connect(self->relabel_popover, "relabel", G_CALLBACK(on_relabel), self);
    update_zoom_label(self);
}

void lpt_image_inspector_present(GtkWidget *parent, LptProject *project, int64_t run_id,
                                 int64_t image_id, const int64_t *queue_ids, size_t queue_count)
{
    g_return_if_fail(GTK_IS_WIDGET(parent));
    g_return_if_fail(LPT_IS_PROJECT(project));
    g_return_if_fail(image_id > 0);

    GtkRoot *root = gtk_widget_get_root(parent);
    GtkWindow *owner = GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
    GWeakRef *ref = owner != NULL ? g_object_get_data(G_OBJECT(owner), INSPECTOR_KEY) : NULL;
    g_autoptr(LptImageInspector) existing = ref != NULL ? g_weak_ref_get(ref) : NULL;
    LptImageInspector *self = existing;
    if (self == NULL || gtk_widget_in_destruction(GTK_WIDGET(self))) {
        self = g_object_new(LPT_TYPE_IMAGE_INSPECTOR, "transient-for", owner,
                            "destroy-with-parent", TRUE, NULL);
        if (owner != NULL) { /* the owner's weak reference to its inspector */
            ref = g_new0(GWeakRef, 1);
            g_weak_ref_init(ref, self);
            g_object_set_data_full(G_OBJECT(owner), INSPECTOR_KEY, ref, weak_ref_free);
        }
    }
    if (self->project != project || self->run_id != run_id) {
        if (self->project != NULL)
            g_clear_signal_handler(&self->changed_id, self->project);
        g_set_object(&self->project, project);
        self->changed_id =
            g_signal_connect(project, "changed", G_CALLBACK(on_project_changed), self);
        self->run_id = run_id;
    }
    g_array_set_size(self->queue, 0);
    self->position = 0;
    for (size_t i = 0; queue_ids != NULL && i < queue_count; i++) {
        gint64 id = queue_ids[i];
        if (id == image_id)
            self->position = self->queue->len;
        g_array_append_val(self->queue, id);
    }
    if (self->queue->len == 0 || g_array_index(self->queue, gint64, self->position) != image_id) {
        g_array_set_size(self->queue, 0);
        gint64 id = image_id;
        g_array_append_val(self->queue, id);
        self->position = 0;
    }
    self->image_id = image_id;
    show(self, TRUE);
    gtk_window_present(GTK_WINDOW(self));
}

gint64 lpt_image_inspector_get_image_id(LptImageInspector *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), 0);
    return self->image_id;
}

const char *lpt_image_inspector_get_label(LptImageInspector *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), NULL);
    return self->class_name != NULL ? self->class_name : "";
}

guint lpt_image_inspector_get_n_history(LptImageInspector *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), 0);
    return self->n_history;
}

gboolean lpt_image_inspector_has_image(LptImageInspector *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), FALSE);
    return self->image_width > 0;
}

guint lpt_image_inspector_get_n_fused(LptImageInspector *self)
{
    g_return_val_if_fail(LPT_IS_IMAGE_INSPECTOR(self), 0);
    return self->n_fused;
}

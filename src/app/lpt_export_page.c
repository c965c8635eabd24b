/* lpt_export_page.c: the Export page (see the header). */
#include "lpt_export_page.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_export_job.h"
#include "lpt_prior.h"
#include "lpt_review.h"
#include "lpt_run_config.h"

#define STAGES 4 /* LptExportStage's values */

/* A finished run as the run row lists it, with its fused metrics on the test split. */
typedef struct {
    gint64 id;
    LptMethod method;
    gboolean read; /* the metrics below have been read (on a worker thread) */
    gint64 images; /* test images with recorded predictions (0: not evaluated yet) */
    double overall, balanced, many, medium, few;
} RunSummary;

/* One class of the prior's run and its row. */
typedef struct {
    char *name;
    gint64 train_count;  /* training images now (split TRAIN, excluded left out) */
    AdwActionRow *row;   /* borrowed: a row of prior_row */
    GtkSpinButton *spin; /* borrowed: the row's suffix, the expected share in percent */
    double adjust;       /* the logit adjustment the share makes, as the row shows it */
} PriorClass;

struct _LptExportPage {
    AdwBin parent_instance;

    /* borrowed: the page's child (owned by AdwBin: never a bound template child) */
    GtkStack *stack;
    /* template widgets */
    AdwComboRow *run_row;
    AdwComboRow *format_row;
    AdwActionRow *embed_row;
    GtkSwitch *embed_switch;
    AdwActionRow *destination_row;
    AdwExpanderRow *prior_row;
    AdwActionRow *prior_presets_row;
    GtkButton *export_button;
    GtkButton *cancel_button;
    AdwPreferencesGroup *stage_group;
    AdwActionRow *stage_rows[STAGES]; /* indexed by LptExportStage */
    GtkProgressBar *stage_bars[STAGES];
    GtkLabel *status_label;
    AdwPreferencesGroup *result_group;
    AdwActionRow *images_row;
    AdwActionRow *diff_row;
    AdwActionRow *flips_row;
    AdwActionRow *verdict_row;
    AdwActionRow *file_row;
    AdwPreferencesGroup *exports_group;
    GtkListBox *exports_list;

    /* owned */
    LptProject *project;
    gulong changed_id;
    GArray *runs;             /* RunSummary: the finished runs, as run_row lists them */
    guint runs_generation;    /* counts fill_runs: a reading of older runs' metrics is dropped */
    gboolean reading_runs;    /* their metrics are being read */
    gint64 prior_run;         /* the run whose classes the prior rows show, 0: none, -1: unset */
    LptMethod prior_method;   /* that run's method (what pi_train it assumes) */
    GPtrArray *prior_classes; /* PriorClass *, in the run's output order */
    char *onnx_runtime;       /* onnxruntime-node's folder, NULL when not found */
    char *onnx_missing;       /* why it was not found (translated), NULL when found */
    GFile *destination;
    gboolean destination_chosen;        /* by the user (else named after the project and run) */
    LptExportJob *job;                  /* the running export, NULL when none */
    GCancellable *cancellable;          /* its cancellable, NULL when none */
    LptStoreExportFormat report_format; /* of the last export */
    LptExportReport *report;
    GError *last_error;
    int stage;              /* the stage running now, -1: none */
    gboolean stage_pulsing; /* its total is unknown: its bar pulses */
    guint pulse_id;         /* the pulse timeout while an export runs */
    GSettings *settings;
    GtkFileChooserNative *chooser;
    gboolean filling; /* rows being refilled: their notifications change nothing */
};

G_DEFINE_FINAL_TYPE(LptExportPage, lpt_export_page, ADW_TYPE_BIN)

static void prior_class_free(gpointer data)
{
    PriorClass *c = data;
    g_free(c->name);
    g_free(c);
}

/* ---- Words ---- */

static const char *method_label(LptMethod method)
{
    switch (method) {
    case LPT_METHOD_LPTPP:
        return _("LPT++");
    case LPT_METHOD_LPT:
        return _("LPT");
    case LPT_METHOD_LINEAR_PROBE:
        return _("Linear probe");
    case LPT_METHOD_FULL_FINETUNE:
        return _("Full fine-tuning");
    }
    return "";
}

static const char *format_label(LptStoreExportFormat format)
{
    switch (format) {
    case LPT_STORE_EXPORT_BUNDLE:
        return C_("export", "Model bundle");
    case LPT_STORE_EXPORT_ONNX:
        return C_("export", "ONNX");
    case LPT_STORE_EXPORT_C:
        return C_("export", "C library");
    }
    return "";
}

/* "45.1 %", or "–" for NaN (a group without classes). */
static char *percent_text(double rate)
{
    return isnan(rate) ? g_strdup("–") : g_strdup_printf("%.1f %%", 100.0 * rate);
}

/* ---- What is chosen ---- */

static const RunSummary *chosen_summary(LptExportPage *self)
{
    guint i = adw_combo_row_get_selected(self->run_row);
    return i < self->runs->len ? &g_array_index(self->runs, RunSummary, i) : NULL;
}

static gint64 chosen_run(LptExportPage *self)
{
    const RunSummary *s = chosen_summary(self);
    return s != NULL ? s->id : 0;
}

static LptStoreExportFormat chosen_format(LptExportPage *self)
{
    return adw_combo_row_get_selected(self->format_row) == 1 ? LPT_STORE_EXPORT_ONNX
                                                             : LPT_STORE_EXPORT_BUNDLE;
}

static gboolean prior_enabled(LptExportPage *self)
{
    return adw_expander_row_get_enable_expansion(self->prior_row);
}

static void update_sensitivity(LptExportPage *self)
{
    gboolean busy = self->cancellable != NULL;
    gboolean ready = self->project != NULL && chosen_run(self) > 0 && self->destination;
    gtk_widget_set_sensitive(GTK_WIDGET(self->export_button), ready && !busy);
    gtk_widget_set_visible(GTK_WIDGET(self->cancel_button), busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->embed_row),
                             chosen_format(self) == LPT_STORE_EXPORT_BUNDLE && !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->run_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->format_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->destination_row), !busy);
    gtk_widget_set_sensitive(GTK_WIDGET(self->prior_row), !busy);
}

/* ---- ONNX Runtime ---- */

/* Looks for onnxruntime-node (see the header) and says on the format row whether an ONNX
 * file will be checked. */
static void find_onnx_runtime(LptExportPage *self)
{
    g_clear_pointer(&self->onnx_runtime, g_free);
    g_clear_pointer(&self->onnx_missing, g_free);
    g_autofree char *fallback =
        g_build_filename(g_get_user_cache_dir(), "lpt-studio", "onnxruntime", "npm", "node_modules",
                         "onnxruntime-node", NULL);
    const char *env = g_getenv("LPT_ONNX_RUNTIME");
    const char *dir = env != NULL && env[0] != '\0' ? env : fallback;
    g_autofree char *package = g_build_filename(dir, "package.json", NULL);
    g_autofree char *node = g_find_program_in_path("node");
    if (node == NULL)
        self->onnx_missing =
            g_strdup(C_("export", "Node.js (node), which runs ONNX Runtime, is not installed"));
    else if (!g_file_test(package, G_FILE_TEST_IS_REGULAR))
        self->onnx_missing = g_strdup_printf(
            C_("export", "ONNX Runtime for Node.js is not in %s (LPT_ONNX_RUNTIME names its "
                         "folder; docs/export.md says how to install it)"),
            dir);
    else
        self->onnx_runtime = g_strdup(dir);
}

static void show_format(LptExportPage *self)
{
    g_autofree char *text = NULL;
    if (chosen_format(self) == LPT_STORE_EXPORT_BUNDLE)
        text = g_strdup(C_("export", "For lpt predict and the C library (lpt.h)"));
    else if (self->onnx_runtime != NULL)
        text = g_strdup_printf(C_("export", "Checked under ONNX Runtime for Node.js from %s"),
                               self->onnx_runtime);
    else
        text = g_strdup_printf(C_("export", "Not checked: %s"), self->onnx_missing);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(self->format_row), text);
}

/* ---- The destination ---- */

/* The default destination: beside the project, "<project>-run<N>.lptmodel" (or .onnx). */
static void default_destination(LptExportPage *self)
{
    if (self->destination_chosen || self->project == NULL)
        return;
    gint64 run = chosen_run(self);
    g_clear_object(&self->destination);
    if (run > 0) {
        GFile *file = lpt_project_get_file(self->project);
        g_autoptr(GFile) dir = g_file_get_parent(file);
        g_autofree char *name = g_strdup_printf(
            "%s-run%" G_GINT64_FORMAT "%s", lpt_project_get_title(self->project), run,
            chosen_format(self) == LPT_STORE_EXPORT_ONNX ? ".onnx" : ".lptmodel");
        self->destination = g_file_get_child(dir, name);
    }
}

static void show_destination(LptExportPage *self)
{
    g_autofree char *path = self->destination ? g_file_get_path(self->destination) : NULL;
    adw_action_row_set_subtitle(self->destination_row,
                                path ? path : C_("export", "No run to export yet"));
    update_sensitivity(self);
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        if (file != NULL)
            lpt_export_page_set_destination(self, file);
    }
    g_clear_object(&self->chooser);
}

static void choose_destination(GtkWidget *widget, const char *action, GVariant *param)
{
    LptExportPage *self = LPT_EXPORT_PAGE(widget);
    if (self->chooser != NULL || self->destination == NULL)
        return;
    GtkRoot *root = gtk_widget_get_root(widget);
    self->chooser = gtk_file_chooser_native_new(
        C_("export", "Export To"), GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
        GTK_FILE_CHOOSER_ACTION_SAVE, C_("export", "_Export Here"), C_("export", "_Cancel"));
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_autoptr(GFile) dir = g_file_get_parent(self->destination);
    g_autofree char *name = g_file_get_basename(self->destination);
    gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), dir, NULL);
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), name);
    g_signal_connect_object(self->chooser, "response", G_CALLBACK(on_chooser_response), self, 0);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- The deployment prior ---- */

/* pi_train_k of lpt_prior.h for the prior's run: uniform, or the training counts' shares
 * (a class without training images counting as one image). */
static double train_share(LptExportPage *self, guint k)
{
    guint K = self->prior_classes->len;
    if (lpt_prior_train_kind(self->prior_method) == LPT_TRAIN_PRIOR_UNIFORM)
        return 1.0 / (double)K;
    double sum = 0.0, mine = 0.0;
    for (guint j = 0; j < K; j++) {
        const PriorClass *c = g_ptr_array_index(self->prior_classes, j);
        double n = (double)MAX(c->train_count, 1);
        sum += n;
        if (j == k)
            mine = n;
    }
    return mine / sum;
}

/* Each row's adjustment a_k = ln pi_k - ln pi_train_k, pi the shares normalised to sum 1
 * (lpt_prior.h's formula, which the export applies). */
static void update_adjustments(LptExportPage *self)
{
    guint K = self->prior_classes->len;
    double sum = 0.0;
    for (guint k = 0; k < K; k++) {
        const PriorClass *c = g_ptr_array_index(self->prior_classes, k);
        sum += gtk_spin_button_get_value(c->spin);
    }
    for (guint k = 0; k < K; k++) {
        PriorClass *c = g_ptr_array_index(self->prior_classes, k);
        double share = gtk_spin_button_get_value(c->spin) / sum;
        c->adjust = log(share) - log(train_share(self, k));
        double shown = fabs(c->adjust) < 5e-4 ? 0.0 : c->adjust; /* no "-0.000" */
        g_autofree char *text =
            g_strdup_printf(C_("export", "%lld training images · adjustment %+.3f"),
                            (long long)c->train_count, shown);
        adw_action_row_set_subtitle(c->row, text);
    }
}

static void on_share_changed(GtkSpinButton *spin, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (!self->filling)
        update_adjustments(self);
}

/* Sets every share: uniform, or the training counts' (a class without images as one). */
static void set_shares(LptExportPage *self, gboolean from_counts)
{
    guint K = self->prior_classes->len;
    double sum = 0.0;
    for (guint k = 0; k < K; k++) {
        const PriorClass *c = g_ptr_array_index(self->prior_classes, k);
        sum += from_counts ? (double)MAX(c->train_count, 1) : 1.0;
    }
    self->filling = TRUE;
    for (guint k = 0; k < K; k++) {
        PriorClass *c = g_ptr_array_index(self->prior_classes, k);
        double n = from_counts ? (double)MAX(c->train_count, 1) : 1.0;
        gtk_spin_button_set_value(c->spin, 100.0 * n / sum);
    }
    self->filling = FALSE;
    update_adjustments(self);
}

static void do_prior_uniform(GtkWidget *widget, const char *action, GVariant *param)
{
    set_shares(LPT_EXPORT_PAGE(widget), FALSE);
}

static void do_prior_counts(GtkWidget *widget, const char *action, GVariant *param)
{
    set_shares(LPT_EXPORT_PAGE(widget), TRUE);
}

/* One row per class of the run with its training count, expected share (percent, uniform at
 * first) and adjustment; the presets row says what the run assumes. */
static void fill_prior_rows(LptExportPage *self, const RunSummary *run)
{
    gint64 id = run != NULL ? run->id : 0;
    if (id == self->prior_run)
        return;
    self->prior_run = id;
    for (guint i = 0; i < self->prior_classes->len; i++) {
        PriorClass *c = g_ptr_array_index(self->prior_classes, i);
        adw_expander_row_remove(self->prior_row, GTK_WIDGET(c->row));
    }
    g_ptr_array_set_size(self->prior_classes, 0);
    if (run == NULL || self->project == NULL)
        return;
    self->prior_method = run->method;
    LptStore *store = lpt_project_get_store(self->project);
    int64_t *ids = NULL;
    size_t k = 0, n = 0, nc = 0;
    LptStoreClass *classes = NULL;
    LptStoreClassCount *counts = NULL;
    if (lpt_store_run_classes(store, id, &ids, &k, NULL) == LPT_OK &&
        lpt_store_class_list(store, &classes, &n, NULL) == LPT_OK &&
        lpt_store_class_counts(store, &counts, &nc, NULL) == LPT_OK) {
        self->filling = TRUE;
        for (size_t i = 0; i < k; i++) {
            PriorClass *c = g_new0(PriorClass, 1);
            for (size_t j = 0; j < n; j++)
                if (classes[j].id == ids[i])
                    c->name = g_strdup(classes[j].name);
            for (size_t j = 0; j < nc; j++)
                if (counts[j].class_id == ids[i])
                    c->train_count = counts[j].count[LPT_STORE_SPLIT_TRAIN];
            if (c->name == NULL)
                c->name = g_strdup("?");
            GtkWidget *r = adw_action_row_new();
            adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r), c->name);
            adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(r), FALSE);
            GtkWidget *spin = gtk_spin_button_new_with_range(0.001, 100.0, 0.1);
            gtk_spin_button_set_digits(GTK_SPIN_BUTTON(spin), 3);
            gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), 100.0 / (double)k);
            gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
            gtk_accessible_update_property(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                           c->name, -1);
            g_signal_connect_object(spin, "value-changed", G_CALLBACK(on_share_changed), self, 0);
            adw_action_row_add_suffix(ADW_ACTION_ROW(r), spin);
            adw_action_row_add_suffix(ADW_ACTION_ROW(r), gtk_label_new("%"));
            adw_expander_row_add_row(self->prior_row, r);
            c->row = ADW_ACTION_ROW(r);
            c->spin = GTK_SPIN_BUTTON(spin);
            g_ptr_array_add(self->prior_classes, c);
        }
        self->filling = FALSE;
    }
    free(ids);
    free(classes);
    free(counts);
    g_autofree char *assumes =
        lpt_prior_train_kind(run->method) == LPT_TRAIN_PRIOR_UNIFORM
            ? g_strdup_printf(C_("export", "%s trains for balanced accuracy, so the run assumes "
                                           "every class equally likely: adjustment = "
                                           "ln(expected share) − ln(1/%u)"),
                              method_label(run->method), self->prior_classes->len)
            : g_strdup_printf(C_("export", "%s trains on the images as they come, so the run "
                                           "assumes the training counts’ shares: adjustment = "
                                           "ln(expected share) − ln(training share)"),
                              method_label(run->method));
    adw_action_row_set_subtitle(self->prior_presets_row, assumes);
    update_adjustments(self);
}

/* The prior rows as the JSON object lpt_prior reads ({"class name": share, ...}: any class
 * name goes through); NULL when out of memory. */
static char *prior_json(LptExportPage *self)
{
    cJSON *root = cJSON_CreateObject();
    for (guint i = 0; root && i < self->prior_classes->len; i++) {
        const PriorClass *c = g_ptr_array_index(self->prior_classes, i);
        cJSON_AddNumberToObject(root, c->name, gtk_spin_button_get_value(c->spin));
    }
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* ---- The runs and the exports ---- */

/* The run's fused metrics on the test split, from its recorded predictions (lpt_review.h,
 * as the Review page shows them); images 0 when there are none. */
static void summarise_run(LptStore *store, RunSummary *s)
{
    LptReview *review = NULL;
    s->read = TRUE;
    s->images = 0;
    s->overall = s->balanced = s->many = s->medium = s->few = NAN;
    if (lpt_review_load(store, s->id, LPT_STORE_SPLIT_TEST, &review, NULL) != LPT_OK)
        return;
    const LptEvalMetrics *m = lpt_review_metrics(review, LPT_STORE_EXPERT_FUSED);
    if (m != NULL && m->images > 0) {
        s->images = m->images;
        s->overall = m->overall;
        s->balanced = m->balanced;
        s->many = m->many;
        s->medium = m->medium;
        s->few = m->few;
    }
    lpt_review_free(review);
}

static char *run_label(const RunSummary *s)
{
    return g_strdup_printf(C_("export", "Run %lld · %s"), (long long)s->id,
                           method_label(s->method));
}

/* The line under a run in the run row's list: its balanced and few accuracy. */
static char *run_metrics(const RunSummary *s)
{
    if (!s->read)
        return g_strdup(C_("export", "Reading the test metrics…"));
    if (s->images == 0)
        return g_strdup(C_("export", "Not evaluated on the test split yet"));
    g_autofree char *balanced = percent_text(s->balanced);
    g_autofree char *few = percent_text(s->few);
    return g_strdup_printf(C_("export", "Balanced %s · few %s on the test split"), balanced, few);
}

/* The run row's list: each run's label over its metrics line. */
static void setup_run_item(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *title = gtk_label_new(NULL);
    GtkWidget *metrics = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(title), 0.0f);
    gtk_label_set_xalign(GTK_LABEL(metrics), 0.0f);
    gtk_widget_add_css_class(metrics, "caption");
    gtk_widget_add_css_class(metrics, "dim-label");
    gtk_box_append(GTK_BOX(box), title);
    gtk_box_append(GTK_BOX(box), metrics);
    gtk_list_item_set_child(item, box);
}

static void bind_run_item(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(data);
    GtkWidget *title = gtk_widget_get_first_child(gtk_list_item_get_child(item));
    GtkWidget *metrics = gtk_widget_get_next_sibling(title);
    guint position = gtk_list_item_get_position(item);
    gtk_label_set_label(GTK_LABEL(title),
                        gtk_string_object_get_string(gtk_list_item_get_item(item)));
    g_autofree char *text = position < self->runs->len
                                ? run_metrics(&g_array_index(self->runs, RunSummary, position))
                                : g_strdup("");
    gtk_label_set_label(GTK_LABEL(metrics), text);
}

/* A combo row's chosen item as a label of its natural width (the default one ellipsizes
 * past about 20 characters, which cuts Japanese labels short). */
static void setup_chosen_item(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0.0f);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_list_item_set_child(item, label);
}

static void bind_chosen_item(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
    gtk_label_set_label(GTK_LABEL(gtk_list_item_get_child(item)),
                        gtk_string_object_get_string(gtk_list_item_get_item(item)));
}

static void set_chosen_item_factory(AdwComboRow *row)
{
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_chosen_item), NULL);
    g_signal_connect(factory, "bind", G_CALLBACK(bind_chosen_item), NULL);
    adw_combo_row_set_factory(row, factory);
    g_object_unref(factory);
}

/* The chosen run's metrics under the run row. */
static void show_run(LptExportPage *self)
{
    const RunSummary *s = chosen_summary(self);
    g_autofree char *text = NULL;
    if (s != NULL && s->images > 0) {
        g_autofree char *overall = percent_text(s->overall);
        g_autofree char *balanced = percent_text(s->balanced);
        g_autofree char *many = percent_text(s->many);
        g_autofree char *medium = percent_text(s->medium);
        g_autofree char *few = percent_text(s->few);
        text = g_strdup_printf(C_("export", "On %lld test images: balanced %s, few %s\n"
                                            "overall %s, many %s, medium %s"),
                               (long long)s->images, balanced, few, overall, many, medium);
    } else if (s != NULL && s->read) {
        text = g_strdup(C_("export", "Not evaluated on the test split yet: the export records "
                                     "the app’s predictions first"));
    } else if (s != NULL) {
        text = g_strdup(C_("export", "Reading the test metrics…"));
    }
    adw_action_row_set_subtitle(ADW_ACTION_ROW(self->run_row), text != NULL ? text : "");
}

/* A count of the parity JSON (0 when missing). */
static long long json_count(const cJSON *root, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNumber(item) ? (long long)item->valuedouble : 0;
}

/* What an exports row's parity JSON says, in a line (or two, with a prior). */
static char *parity_line(const char *json)
{
    cJSON *root = json != NULL ? cJSON_Parse(json) : NULL;
    gboolean checked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "checked"));
    gboolean passed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "passed"));
    long long images = json_count(root, "images"), flips = json_count(root, "flips");
    double diff = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "max_abs_diff"));
    cJSON *prior = cJSON_GetObjectItemCaseSensitive(root, "prior");
    gboolean with_prior = prior != NULL && cJSON_IsObject(prior);
    cJSON_Delete(root);
    g_autofree char *line =
        !checked ? g_strdup(C_("export", "Parity not checked"))
        : passed ? g_strdup_printf(C_("export", "Parity passed on %lld images: max |Δp| %.3g, "
                                                "%lld label flips"),
                                   images, diff, flips)
                 : g_strdup_printf(C_("export", "Parity failed on %lld images: max |Δp| %.3g, "
                                                "%lld label flips"),
                                   images, diff, flips);
    return with_prior ? g_strdup_printf("%s\n%s", line, C_("export", "With a deployment prior"))
                      : g_steal_pointer(&line);
}

typedef struct {
    gint64 id;
    GtkWidget *row; /* floating until appended */
} ExportEntry;

static int compare_entries(gconstpointer a, gconstpointer b)
{
    gint64 x = ((const ExportEntry *)a)->id, y = ((const ExportEntry *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0; /* newest first */
}

static GtkWidget *export_row(const LptStoreExport *e)
{
    GtkWidget *row = adw_action_row_new();
    g_autofree char *name = g_path_get_basename(e->path);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(e->created_at);
    g_autofree char *date = when != NULL ? g_date_time_format(when, "%Y-%m-%d %H:%M") : NULL;
    g_autofree char *what =
        g_strdup_printf(C_("export", "Run %lld · %s · %s"), (long long)e->run_id,
                        format_label(e->format), date != NULL ? date : "");
    g_autofree char *parity = parity_line(e->parity_json);
    g_autofree char *where = g_file_test(e->path, G_FILE_TEST_EXISTS)
                                 ? g_strdup(e->path)
                                 : g_strdup_printf(C_("export", "%s (no longer there)"), e->path);
    g_autofree char *text =
        g_strdup_printf("%s\n%s\n%s\nSHA-256 %s", what, parity, where, e->sha256);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), text);
    return row;
}

/* Every export of the project, newest first, into exports_list. */
static void fill_exports(LptExportPage *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->exports_list))) != NULL)
        gtk_list_box_remove(self->exports_list, child);
    LptStore *store = self->project != NULL ? lpt_project_get_store(self->project) : NULL;
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(ExportEntry));
    int64_t *ids = NULL;
    size_t n = 0;
    if (store != NULL && lpt_store_run_list(store, &ids, &n, NULL) == LPT_OK) {
        for (size_t i = 0; i < n; i++) {
            LptStoreExport *rows = NULL;
            size_t m = 0;
            if (lpt_store_export_list(store, ids[i], &rows, &m, NULL) != LPT_OK)
                continue;
            for (size_t j = 0; j < m; j++) {
                ExportEntry e = {rows[j].id, export_row(&rows[j])};
                g_array_append_val(entries, e);
            }
            free(rows);
        }
    }
    free(ids);
    g_array_sort(entries, compare_entries);
    for (guint i = 0; i < entries->len; i++)
        gtk_list_box_append(self->exports_list, g_array_index(entries, ExportEntry, i).row);
    gtk_widget_set_visible(GTK_WIDGET(self->exports_list), entries->len > 0);
    adw_preferences_group_set_description(self->exports_group,
                                          entries->len > 0 ? NULL : C_("export", "No exports yet"));
}

/* The runs' metrics, read on a worker thread (a run's predictions of 10^4 test images take a
 * noticeable time to read): its own store connection and a copy of the runs. */
typedef struct {
    LptStore *store;
    GArray *runs; /* RunSummary */
    guint generation;
} RunsReading;

static void runs_reading_free(gpointer data)
{
    RunsReading *r = data;
    lpt_store_close(r->store);
    g_array_unref(r->runs);
    g_free(r);
}

static void read_runs_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    RunsReading *r = data;
    for (guint i = 0; i < r->runs->len; i++)
        summarise_run(r->store, &g_array_index(r->runs, RunSummary, i));
    lpt_store_close(r->store);
    r->store = NULL;
    g_task_return_boolean(task, TRUE);
}

/* The run row's items: each run's label (the list factory adds its metrics). */
static void list_runs(LptExportPage *self, gint64 keep)
{
    GtkStringList *list = gtk_string_list_new(NULL);
    for (guint i = 0; i < self->runs->len; i++) {
        g_autofree char *label = run_label(&g_array_index(self->runs, RunSummary, i));
        gtk_string_list_append(list, label);
    }
    self->filling = TRUE;
    adw_combo_row_set_model(self->run_row, G_LIST_MODEL(list));
    for (guint i = 0; i < self->runs->len; i++)
        if (g_array_index(self->runs, RunSummary, i).id == keep)
            adw_combo_row_set_selected(self->run_row, i);
    self->filling = FALSE;
    g_object_unref(list);
}

static void on_runs_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data); /* a reference */
    RunsReading *r = g_task_get_task_data(G_TASK(result));
    if (r->generation == self->runs_generation && r->runs->len == self->runs->len) {
        self->reading_runs = FALSE;
        for (guint i = 0; i < r->runs->len; i++)
            g_array_index(self->runs, RunSummary, i) = g_array_index(r->runs, RunSummary, i);
        list_runs(self, chosen_run(self)); /* the list's metrics lines */
        show_run(self);
    }
    g_object_unref(self);
}

static void read_runs(LptExportPage *self)
{
    self->reading_runs = FALSE;
    if (self->project == NULL || self->runs->len == 0)
        return;
    LptStore *store = lpt_project_open_thread_store(self->project, NULL);
    if (store == NULL) { /* no metrics then, as for runs not evaluated */
        for (guint i = 0; i < self->runs->len; i++)
            g_array_index(self->runs, RunSummary, i).read = TRUE;
        show_run(self);
        return;
    }
    RunsReading *r = g_new0(RunsReading, 1);
    r->store = store;
    r->runs = g_array_copy(self->runs);
    r->generation = self->runs_generation;
    self->reading_runs = TRUE;
    GTask *task = g_task_new(NULL, NULL, on_runs_read, g_object_ref(self));
    g_task_set_task_data(task, r, runs_reading_free);
    g_task_run_in_thread(task, read_runs_thread);
    g_object_unref(task);
}

/* The finished runs of the project, newest first, into run_row (their metrics follow from a
 * worker thread); then what follows from the chosen one. */
static void fill_runs(LptExportPage *self)
{
    gint64 keep = chosen_run(self);
    g_array_set_size(self->runs, 0);
    self->runs_generation++;
    if (self->project != NULL) {
        LptStore *store = lpt_project_get_store(self->project);
        int64_t *ids = NULL;
        size_t n = 0;
        if (lpt_store_run_list(store, &ids, &n, NULL) == LPT_OK) {
            for (size_t i = n; i-- > 0;) {
                LptStoreRun *run = NULL;
                if (lpt_store_run_get(store, ids[i], &run, NULL) != LPT_OK || run == NULL)
                    continue;
                LptRunConfig cfg;
                lpt_run_config_init(&cfg, LPT_METHOD_LPTPP);
                if (run->status == LPT_STORE_RUN_FINISHED &&
                    lpt_run_config_parse(&cfg, run->config_json, NULL, NULL) == LPT_OK) {
                    RunSummary s = {.id = run->id, .method = cfg.method};
                    g_array_append_val(self->runs, s);
                }
                free(run);
            }
        }
        free(ids);
    }
    list_runs(self, keep);
    read_runs(self);
    gtk_stack_set_visible_child_name(self->stack, self->runs->len > 0 ? "export" : "empty");
    show_run(self);
    fill_prior_rows(self, chosen_summary(self));
    default_destination(self);
    show_destination(self);
    fill_exports(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->cancellable == NULL)
        fill_runs(self);
}

static void on_run_selected(GObject *row, GParamSpec *pspec, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->filling)
        return;
    show_run(self);
    fill_prior_rows(self, chosen_summary(self));
    default_destination(self);
    show_destination(self);
}

static void on_format_selected(GObject *row, GParamSpec *pspec, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->destination_chosen && self->destination != NULL) {
        /* keep the chosen name, with the format's extension */
        g_autofree char *path = g_file_get_path(self->destination);
        char *dot = strrchr(path, '.');
        char *slash = strrchr(path, '/');
        if (dot != NULL && (slash == NULL || dot > slash))
            *dot = '\0';
        g_autofree char *renamed = g_strconcat(
            path, chosen_format(self) == LPT_STORE_EXPORT_ONNX ? ".onnx" : ".lptmodel", NULL);
        g_object_unref(self->destination);
        self->destination = g_file_new_for_path(renamed);
    }
    if (chosen_format(self) == LPT_STORE_EXPORT_ONNX)
        find_onnx_runtime(self); /* it may have been installed since */
    show_format(self);
    default_destination(self);
    show_destination(self);
}

/* ---- The stages ---- */

static gboolean pulse_stage(gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->stage >= 0 && self->stage_pulsing)
        gtk_progress_bar_pulse(self->stage_bars[self->stage]);
    return G_SOURCE_CONTINUE;
}

static void set_stage(LptExportPage *self, int stage, double fraction, const char *text)
{
    gtk_progress_bar_set_fraction(self->stage_bars[stage], fraction);
    adw_action_row_set_subtitle(self->stage_rows[stage], text);
}

/* Every stage waiting (the recording of predictions hidden until it runs). */
static void start_stages(LptExportPage *self)
{
    for (int s = 0; s < STAGES; s++)
        set_stage(self, s, 0.0, C_("export", "Waiting"));
    gtk_widget_set_visible(GTK_WIDGET(self->stage_rows[LPT_EXPORT_STAGE_EVALUATE]), FALSE);
    gtk_widget_set_visible(GTK_WIDGET(self->stage_group), TRUE);
    self->stage = -1;
    if (self->pulse_id == 0)
        self->pulse_id = g_timeout_add(100, pulse_stage, self);
}

/* The core reported stage with done of total: the stage before it is done. */
static void show_stage(LptExportPage *self, int stage, gint64 done, gint64 total)
{
    if (stage != self->stage) {
        if (self->stage >= 0)
            set_stage(self, self->stage, 1.0, C_("export", "Done"));
        self->stage = stage;
        gtk_widget_set_visible(GTK_WIDGET(self->stage_rows[stage]), TRUE);
    }
    self->stage_pulsing = !(stage == LPT_EXPORT_STAGE_PARITY && total > 0);
    if (self->stage_pulsing) {
        adw_action_row_set_subtitle(self->stage_rows[stage], C_("export", "Running…"));
    } else {
        g_autofree char *text = g_strdup_printf(C_("export", "%lld of %lld test images"),
                                                (long long)done, (long long)total);
        set_stage(self, stage, (double)done / (double)total, text);
    }
}

/* The export ended: the stage running is done, failed or cancelled; a parity check that never
 * ran says so. */
static void end_stages(LptExportPage *self, gboolean ok, gboolean cancelled)
{
    g_clear_handle_id(&self->pulse_id, g_source_remove);
    if (self->stage >= 0)
        set_stage(self, self->stage, ok ? 1.0 : 0.0,
                  ok          ? C_("export", "Done")
                  : cancelled ? C_("export", "Cancelled")
                              : C_("export", "Failed"));
    if (ok && self->stage != LPT_EXPORT_STAGE_PARITY)
        set_stage(self, LPT_EXPORT_STAGE_PARITY, 0.0, C_("export", "Not checked"));
    self->stage = -1;
}

/* ---- The export ---- */

static void on_job_progress(LptExportJob *job, guint stage, gint64 done, gint64 total,
                            gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data);
    if (self->job == job && stage < STAGES)
        show_stage(self, (int)stage, done, total);
}

static void show_result(LptExportPage *self)
{
    const LptExportReport *r = self->report;
    gtk_widget_set_visible(GTK_WIDGET(self->result_group), r != NULL);
    if (r == NULL)
        return;
    const LptParity *p = &r->parity;
    if (p->checked) {
        g_autofree char *images = g_strdup_printf("%lld", (long long)p->images);
        g_autofree char *diff =
            g_strdup_printf(C_("export", "%.3g (target %g)"), p->max_abs_diff,
                            self->report_format == LPT_STORE_EXPORT_ONNX ? LPT_PARITY_MAX_DIFF_ONNX
                                                                         : LPT_PARITY_MAX_DIFF);
        g_autofree char *flips = g_strdup_printf("%lld", (long long)p->flips);
        adw_action_row_set_subtitle(self->images_row, images);
        adw_action_row_set_subtitle(self->diff_row, diff);
        adw_action_row_set_subtitle(self->flips_row, flips);
    } else {
        adw_action_row_set_subtitle(self->images_row, "–");
        adw_action_row_set_subtitle(self->diff_row, "–");
        adw_action_row_set_subtitle(self->flips_row, "–");
    }
    /* an ONNX file left unchecked for want of a runtime: the page's words, not the CLI's */
    const char *why = self->report_format == LPT_STORE_EXPORT_ONNX && self->onnx_missing != NULL
                          ? self->onnx_missing
                          : p->note;
    g_autofree char *verdict = !p->checked ? g_strdup_printf(C_("export", "Not checked: %s"), why)
                               : p->passed
                                   ? g_strdup_printf(C_("export", "Passed, on %s"), p->backend)
                                   : g_strdup_printf(C_("export", "Failed, on %s"), p->backend);
    adw_action_row_set_subtitle(self->verdict_row, verdict);
    g_autofree char *path = self->destination ? g_file_get_path(self->destination) : NULL;
    g_autofree char *file = r->export_id > 0
                                ? g_strdup_printf("%s\nSHA-256 %s", path ? path : "", r->sha256)
                                : g_strdup(C_("export", "Not written"));
    adw_action_row_set_subtitle(self->file_row, file);
}

static void show_status(LptExportPage *self, const char *text, const char *style)
{
    gtk_label_set_label(self->status_label, text);
    gtk_widget_set_visible(GTK_WIDGET(self->status_label), text[0] != '\0');
    gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), "error");
    gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), "success");
    gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), "warning");
    if (style != NULL)
        gtk_widget_add_css_class(GTK_WIDGET(self->status_label), style);
}

static void show_failure(LptExportPage *self, const GError *error)
{
    g_autofree char *text = g_strdup_printf(C_("export", "Not exported: %s"), error->message);
    show_status(self, text, "error");
}

static void on_export_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    LptExportPage *self = LPT_EXPORT_PAGE(user_data); /* a reference */
    LptExportJob *job = LPT_EXPORT_JOB(source);
    LptExportReport *report = NULL;
    GError *error = NULL;
    gboolean ok = lpt_export_job_run_finish(job, result, &report, &error);
    if (job != self->job) { /* the page has moved on to another project */
        lpt_export_report_free(report);
        g_clear_error(&error);
        g_object_unref(self);
        return;
    }
    g_clear_object(&self->job);
    g_clear_object(&self->cancellable);
    g_clear_error(&self->last_error);
    lpt_export_report_free(self->report);
    self->report = report;
    end_stages(self, ok, !ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
    if (ok && report != NULL && report->parity.checked)
        show_status(self, C_("export", "Exported. The parity check passed."), "success");
    else if (ok)
        show_status(self, C_("export", "Exported, without a parity check."), "warning");
    else
        show_failure(self, error);
    self->last_error = error;
    show_result(self);
    update_sensitivity(self);
    if (self->project != NULL && report != NULL && report->evaluated_first)
        lpt_project_notify_changed(self->project); /* the test images' predictions are new */
    else
        fill_exports(self);
    g_object_unref(self);
}

gboolean lpt_export_page_export(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), FALSE);
    gint64 run = chosen_run(self);
    if (self->project == NULL || self->job != NULL || run == 0 || !self->destination)
        return FALSE;
    LptStoreExportFormat format = chosen_format(self);
    if (format == LPT_STORE_EXPORT_ONNX)
        find_onnx_runtime(self); /* it may have been installed since */
    g_autofree char *out = g_file_get_path(self->destination);
    g_autofree char *prior = prior_enabled(self) ? prior_json(self) : NULL;
    g_autofree char *device = g_settings_get_string(self->settings, "device");
    LptExportJobOptions options = {
        .run_id = run,
        .format = format,
        .out = out,
        .embed_backbones = gtk_switch_get_active(self->embed_switch),
        .prior_json = prior,
        .device = device,
        .onnx_runtime = format == LPT_STORE_EXPORT_ONNX ? self->onnx_runtime : NULL,
    };
    self->report_format = format;
    self->job = lpt_export_job_new(self->project, &options);
    self->cancellable = g_cancellable_new();
    g_signal_connect_object(self->job, "progress", G_CALLBACK(on_job_progress), self, 0);
    lpt_export_report_free(self->report);
    self->report = NULL;
    g_clear_error(&self->last_error);
    show_result(self);
    show_status(self, "", NULL);
    start_stages(self);
    update_sensitivity(self);
    lpt_export_job_run_async(self->job, self->cancellable, on_export_done, g_object_ref(self));
    return TRUE;
}

static void do_export(GtkWidget *widget, const char *action, GVariant *param)
{
    lpt_export_page_export(LPT_EXPORT_PAGE(widget));
}

static void do_cancel(GtkWidget *widget, const char *action, GVariant *param)
{
    LptExportPage *self = LPT_EXPORT_PAGE(widget);
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
}

/* ---- The public functions ---- */

void lpt_export_page_set_project(LptExportPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    if (self->project == project)
        return;
    if (self->cancellable != NULL) /* the job ends on its own; its end finds the page moved on */
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->job);
    g_clear_object(&self->cancellable);
    g_clear_handle_id(&self->pulse_id, g_source_remove);
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_set_object(&self->project, project);
    if (project != NULL)
        self->changed_id =
            g_signal_connect_object(project, "changed", G_CALLBACK(on_project_changed), self, 0);
    self->destination_chosen = FALSE;
    self->prior_run = -1;
    lpt_export_report_free(self->report);
    self->report = NULL;
    g_clear_error(&self->last_error);
    show_status(self, "", NULL);
    gtk_widget_set_visible(GTK_WIDGET(self->stage_group), FALSE);
    show_result(self);
    fill_runs(self);
}

void lpt_export_page_set_destination(LptExportPage *self, GFile *file)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self) && G_IS_FILE(file));
    g_set_object(&self->destination, file);
    self->destination_chosen = TRUE;
    show_destination(self);
}

void lpt_export_page_set_format(LptExportPage *self, LptStoreExportFormat format)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    adw_combo_row_set_selected(self->format_row, format == LPT_STORE_EXPORT_ONNX ? 1 : 0);
}

void lpt_export_page_set_prior_enabled(LptExportPage *self, gboolean enabled)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    adw_expander_row_set_enable_expansion(self->prior_row, enabled);
}

void lpt_export_page_set_prior_share(LptExportPage *self, int class_index, double percent)
{
    g_return_if_fail(LPT_IS_EXPORT_PAGE(self));
    if (class_index >= 0 && (guint)class_index < self->prior_classes->len) {
        PriorClass *c = g_ptr_array_index(self->prior_classes, class_index);
        gtk_spin_button_set_value(c->spin, percent);
    }
}

double lpt_export_page_get_prior_share(LptExportPage *self, int class_index)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NAN);
    if (class_index < 0 || (guint)class_index >= self->prior_classes->len)
        return NAN;
    const PriorClass *c = g_ptr_array_index(self->prior_classes, class_index);
    return gtk_spin_button_get_value(c->spin);
}

double lpt_export_page_get_prior_adjustment(LptExportPage *self, int class_index)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NAN);
    if (class_index < 0 || (guint)class_index >= self->prior_classes->len)
        return NAN;
    return ((const PriorClass *)g_ptr_array_index(self->prior_classes, class_index))->adjust;
}

gboolean lpt_export_page_is_reading_runs(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), FALSE);
    return self->reading_runs;
}

gboolean lpt_export_page_is_busy(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), FALSE);
    return self->job != NULL;
}

const LptExportReport *lpt_export_page_get_report(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NULL);
    return self->report;
}

const GError *lpt_export_page_get_last_error(LptExportPage *self)
{
    g_return_val_if_fail(LPT_IS_EXPORT_PAGE(self), NULL);
    return self->last_error;
}

/* ---- GObject ---- */

static void lpt_export_page_dispose(GObject *object)
{
    LptExportPage *self = LPT_EXPORT_PAGE(object);
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    g_clear_handle_id(&self->pulse_id, g_source_remove);
    g_clear_object(&self->job);
    self->runs_generation++; /* a reading of the runs' metrics still going finds nothing to fill */
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_clear_object(&self->project);
    if (self->chooser != NULL)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_EXPORT_PAGE);
    G_OBJECT_CLASS(lpt_export_page_parent_class)->dispose(object);
}

static void lpt_export_page_finalize(GObject *object)
{
    LptExportPage *self = LPT_EXPORT_PAGE(object);
    g_array_unref(self->runs);
    g_ptr_array_unref(self->prior_classes);
    g_free(self->onnx_runtime);
    g_free(self->onnx_missing);
    g_clear_object(&self->destination);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->settings);
    lpt_export_report_free(self->report);
    g_clear_error(&self->last_error);
    G_OBJECT_CLASS(lpt_export_page_parent_class)->finalize(object);
}

static void lpt_export_page_class_init(LptExportPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    object_class->dispose = lpt_export_page_dispose;
    object_class->finalize = lpt_export_page_finalize;

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_export_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, run_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, format_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, embed_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, embed_switch);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, destination_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, prior_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, prior_presets_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, export_button);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, cancel_button);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, stage_group);
    gtk_widget_class_bind_template_child_full(widget_class, "load_row", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_rows) +
                                                  LPT_EXPORT_STAGE_LOAD * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "evaluate_row", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_rows) +
                                                  LPT_EXPORT_STAGE_EVALUATE * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "write_row", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_rows) +
                                                  LPT_EXPORT_STAGE_WRITE * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "parity_row", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_rows) +
                                                  LPT_EXPORT_STAGE_PARITY * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "load_bar", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_bars) +
                                                  LPT_EXPORT_STAGE_LOAD * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "evaluate_bar", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_bars) +
                                                  LPT_EXPORT_STAGE_EVALUATE * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "write_bar", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_bars) +
                                                  LPT_EXPORT_STAGE_WRITE * sizeof(gpointer));
    gtk_widget_class_bind_template_child_full(widget_class, "parity_bar", FALSE,
                                              G_STRUCT_OFFSET(LptExportPage, stage_bars) +
                                                  LPT_EXPORT_STAGE_PARITY * sizeof(gpointer));
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, status_label);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, result_group);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, images_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, diff_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, flips_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, verdict_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, file_row);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, exports_group);
    gtk_widget_class_bind_template_child(widget_class, LptExportPage, exports_list);
    gtk_widget_class_install_action(widget_class, "export.choose", NULL, choose_destination);
    gtk_widget_class_install_action(widget_class, "export.run", NULL, do_export);
    gtk_widget_class_install_action(widget_class, "export.cancel", NULL, do_cancel);
    gtk_widget_class_install_action(widget_class, "export.prior-uniform", NULL, do_prior_uniform);
    gtk_widget_class_install_action(widget_class, "export.prior-counts", NULL, do_prior_counts);
}

static void lpt_export_page_init(LptExportPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->stack = GTK_STACK(adw_bin_get_child(ADW_BIN(self)));
    self->runs = g_array_new(FALSE, FALSE, sizeof(RunSummary));
    self->prior_classes = g_ptr_array_new_with_free_func(prior_class_free);
    self->settings = g_settings_new(APP_ID);
    self->prior_run = -1;
    self->stage = -1;
    const char *formats[] = {C_("export", "Model bundle (.lptmodel)"), C_("export", "ONNX (.onnx)"),
                             NULL};
    GtkStringList *list = gtk_string_list_new(formats);
    adw_combo_row_set_model(self->format_row, G_LIST_MODEL(list));
    g_object_unref(list);
    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(setup_run_item), NULL);
    g_signal_connect_object(factory, "bind", G_CALLBACK(bind_run_item), self, 0);
    adw_combo_row_set_list_factory(self->run_row, factory);
    g_object_unref(factory);
    set_chosen_item_factory(self->run_row);
    set_chosen_item_factory(self->format_row);
    g_signal_connect_object(self->run_row, "notify::selected", G_CALLBACK(on_run_selected), self,
                            0);
    g_signal_connect_object(self->format_row, "notify::selected", G_CALLBACK(on_format_selected),
                            self, 0);
    find_onnx_runtime(self);
    show_format(self);
    show_result(self);
    fill_runs(self);
}

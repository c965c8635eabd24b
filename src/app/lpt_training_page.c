/* lpt_training_page.c: the Training page (see the header).
 *
 * State: the run shown (current_run, 0 = "New run") with its config and where its phases
 * stand (read from the store on every reload and after every epoch); the running session
 * (job) with the slot it trains now (running_slot); the step losses that arrived in this
 * session, per slot, for the run they belong to (live_run), which the curves add to the
 * epochs the store has; and the last failure (its run, slot and message).
 */
#include "lpt_training_page.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_backend.h"
#include "lpt_device_choices.h"
#include "lpt_run_phases.h"
#include "lpt_train_job.h"

struct _LptTrainingPage {
    AdwBin parent_instance;

    /* template widgets */
    GtkStack *stack;
    AdwStatusPage *missing_page;
    GtkButton *missing_button;
    GtkLabel *run_title;
    GtkLabel *run_subtitle;
    GtkWidget *stop_button;         /* shown while a session runs */
    GtkInscription *progress_label; /* inscriptions: new text redraws, never relayouts */
    GtkInscription *eta_label;
    GtkProgressBar *progress_bar;
    GtkInscription *progress_detail;
    GtkBox *cards_box;
    GtkLabel *curves_title;
    LptTrainingCurves *curves;
    LptRunSettings *settings;
    AdwComboRow *device_row;
    GtkListBox *runs_list;

    /* borrowed: the page's child (owned by AdwBin: never a bound template child) */
    AdwToastOverlay *toast_overlay;
    /* borrowed: the cards (children of cards_box) */
    LptPhaseCard *cards[LPT_N_PHASE_SLOTS];

    /* owned */
    LptProject *project;
    gulong changed_id;
    GSettings *gsettings;
    AdwToast *toast;            /* the last toast shown */
    const char *missing_target; /* the page missing_button shows: "dataset" or "backbones" */

    LptRunConfig new_cfg; /* the hyper-parameters of the next new run, while a run shows */
    gint64 current_run;   /* 0: "New run" */
    LptRunConfig current_cfg;
    LptStoreRunStatus current_status;
    char *current_error; /* the run's stored error, NULL when none */
    LptPhaseState states[LPT_N_PHASE_SLOTS];
    gboolean has_backbone[LPT_STORE_NUM_EXPERTS];
    gboolean has_training_images; /* some class has training images */
    gboolean selecting;           /* the runs list is being filled: ignore its selection */

    LptTrainJob *job; /* the running session, NULL when none */
    GCancellable *cancellable;
    int job_slot;     /* the slot the session was started for, -1: every phase */
    int running_slot; /* the slot the session trains now, -1 before its first progress */

    gint64 live_run;                 /* the run the live losses belong to (0: none) */
    GArray *live[LPT_N_PHASE_SLOTS]; /* LptTrainLossPoint of this session's steps */
    int curves_slot;                 /* the slot the curves show */

    gint64 failed_run; /* the last session's failure: its run (0: a new run never made) */
    int failed_slot;   /* -1: none */
    GError *last_error;

    GPtrArray *device_values; /* char *: the setting of each device row entry */
    GCancellable *device_cancellable;
    gboolean device_has_gpu; /* a Vulkan device that is not a CPU implementation was found */
    gboolean filling_devices;
};

G_DEFINE_FINAL_TYPE(LptTrainingPage, lpt_training_page, ADW_TYPE_BIN)

enum { PROP_0, PROP_TRAINING, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void reload(LptTrainingPage *self);
static void show_curves(LptTrainingPage *self);

/* ---- Words ---- */

static const char *status_label(LptStoreRunStatus status)
{
    switch (status) {
    case LPT_STORE_RUN_CREATED:
        return C_("run", "Not started");
    case LPT_STORE_RUN_RUNNING:
        return C_("run", "Running");
    case LPT_STORE_RUN_FINISHED:
        return C_("run", "Finished");
    case LPT_STORE_RUN_FAILED:
        return C_("run", "Failed");
    case LPT_STORE_RUN_CANCELLED:
        return C_("run", "Stopped");
    case LPT_STORE_RUN_INTERRUPTED:
        return C_("run", "Interrupted");
    }
    return "";
}

static const char *status_icon(LptStoreRunStatus status)
{
    switch (status) {
    case LPT_STORE_RUN_FINISHED:
        return "emblem-ok-symbolic";
    case LPT_STORE_RUN_FAILED:
        return "dialog-error-symbolic";
    case LPT_STORE_RUN_RUNNING:
        return "media-playback-start-symbolic";
    case LPT_STORE_RUN_CANCELLED:
    case LPT_STORE_RUN_INTERRUPTED:
        return "media-playback-pause-symbolic";
    default:
        return "radio-symbolic";
    }
}

/* "About 3 min left" (a new string). */
static char *eta_text(double seconds)
{
    if (!isfinite(seconds))
        return g_strdup(_("Estimating the time left…"));
    long s = lround(MAX(seconds, 0.0));
    if (s < 60)
        return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "About %ld second left",
                                           "About %ld seconds left", (gulong)s),
                               s);
    if (s < 3600) {
        long m = (s + 30) / 60;
        return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "About %ld minute left",
                                           "About %ld minutes left", (gulong)m),
                               m);
    }
    /* Translators: time left, as in "About 2 h 05 min left" */
    return g_strdup_printf(_("About %ld h %02ld min left"), s / 3600, (s % 3600 + 30) / 60 % 60);
}

/* Shows text in a toast, taking back the page's previous one (a stale "stopped" must not
 * linger over a session that was resumed since). */
static void show_toast(LptTrainingPage *self, const char *text)
{
    if (self->toast_overlay == NULL)
        return;
    if (self->toast != NULL)
        adw_toast_dismiss(self->toast);
    g_clear_object(&self->toast);
    self->toast = g_object_ref(adw_toast_new(text));
    adw_toast_overlay_add_toast(self->toast_overlay, self->toast);
}

/* ---- Devices ---- */

/* Fills the device row with the choices of lpt_device_choices.h (found may be NULL: not
 * listed yet); selects the setting's. */
static void fill_devices(LptTrainingPage *self, const LptFoundDevices *found)
{
    g_autofree char *current = g_settings_get_string(self->gsettings, "device");
    GtkStringList *labels = gtk_string_list_new(NULL);
    guint selected = lpt_device_choices_fill(labels, self->device_values, found, current, TRUE);
    self->filling_devices = TRUE;
    adw_combo_row_set_model(self->device_row, G_LIST_MODEL(labels));
    adw_combo_row_set_selected(self->device_row, selected);
    self->filling_devices = FALSE;
    g_object_unref(labels);
}

static void on_devices_listed(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(LptFoundDevices) list = lpt_device_choices_list_finish(result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) /* the page went */
        return;
    LptTrainingPage *self = LPT_TRAINING_PAGE(user_data);
    g_clear_object(&self->device_cancellable);
    g_autofree char *subtitle =
        list != NULL
            ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
                                          "%u Vulkan device; Automatic picks a GPU, else the CPU",
                                          "%u Vulkan devices; Automatic picks a GPU, else the CPU",
                                          list->names->len),
                              list->names->len)
            : g_strdup_printf(_("No Vulkan: %s"), error->message);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(self->device_row), subtitle);
    self->device_has_gpu = list != NULL && list->has_gpu;
    fill_devices(self, list);
}

static void on_device_selected(AdwComboRow *row, GParamSpec *pspec, LptTrainingPage *self)
{
    guint selected = adw_combo_row_get_selected(row);
    if (self->filling_devices || selected >= self->device_values->len)
        return;
    const char *value = g_ptr_array_index(self->device_values, selected);
    g_autofree char *current = g_settings_get_string(self->gsettings, "device");
    if (!g_str_equal(current, value))
        g_settings_set_string(self->gsettings, "device", value);
}

static void on_settings_changed(GSettings *settings, const char *key, gpointer user_data)
{
    LptTrainingPage *self = LPT_TRAINING_PAGE(user_data);
    if (!g_str_equal(key, "device"))
        return;
    g_autofree char *current = g_settings_get_string(settings, "device");
    guint at = lpt_device_choices_find(self->device_values, current);
    if (at != GTK_INVALID_LIST_POSITION) {
        self->filling_devices = TRUE;
        adw_combo_row_set_selected(self->device_row, at);
        self->filling_devices = FALSE;
    }
}

/* The backend the device setting asks for; the CPU backend leaves one core to the window. */
static void backend_options(LptTrainingPage *self, LptBackendOptions *opt, char **device)
{
    lpt_backend_options_init(opt);
    g_autofree char *value = g_settings_get_string(self->gsettings, "device");
    *device = NULL;
    if (g_ascii_strcasecmp(value, "cpu") == 0 || (value[0] == '\0' && !self->device_has_gpu)) {
        opt->kind = LPT_BACKEND_CPU;
        opt->threads = MAX((int)g_get_num_processors() - 1, 1);
    } else {
        opt->kind = LPT_BACKEND_VULKAN;
        *device = value[0] != '\0' ? g_strdup(value) : NULL;
        opt->device = *device;
    }
}

/* ---- The run shown ---- */

static gboolean run_complete(LptTrainingPage *self)
{
    gboolean any = FALSE;
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        if (self->states[i].present && !self->states[i].done)
            return FALSE;
        any = any || self->states[i].present;
    }
    return any;
}

/* Which card shows the last failure of the run shown, -1 when none does. */
static int failure_slot(LptTrainingPage *self)
{
    if (self->job != NULL)
        return -1;
    if (self->failed_slot >= 0 && self->failed_run == self->current_run)
        return self->failed_slot;
    if (self->current_run == 0 || self->current_status != LPT_STORE_RUN_FAILED)
        return -1;
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) /* the first phase it did not get through */
        if (self->states[i].present && !self->states[i].done)
            return i;
    return -1;
}

static const char *failure_message(LptTrainingPage *self)
{
    if (self->failed_slot >= 0 && self->failed_run == self->current_run && self->last_error)
        return self->last_error->message;
    return self->current_error;
}

/* Whether the session trains slot after the one it trains now. */
static gboolean job_will_train(LptTrainingPage *self, int slot)
{
    if (self->job == NULL || !self->states[slot].present || self->states[slot].done)
        return FALSE;
    if (self->job_slot >= 0)
        return slot == self->job_slot;
    return TRUE;
}

static gboolean job_shows(LptTrainingPage *self)
{
    return self->job != NULL && lpt_train_job_get_run_id(self->job) == self->current_run;
}

static void update_cards(LptTrainingPage *self)
{
    int failed = failure_slot(self);
    gboolean running_here = job_shows(self) || (self->job != NULL && self->current_run == 0);
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        const LptPhaseState *s = &self->states[i];
        LptPhaseCardState state;
        const char *message = NULL;
        if (!s->present)
            state = LPT_PHASE_CARD_ABSENT;
        else if (running_here && i == self->running_slot)
            state = LPT_PHASE_CARD_RUNNING;
        else if (running_here && job_will_train(self, i))
            state = LPT_PHASE_CARD_WAITING;
        else if (i == failed) {
            state = LPT_PHASE_CARD_FAILED;
            message = failure_message(self);
        } else if (s->done)
            state = LPT_PHASE_CARD_DONE;
        else if (s->epochs_done > 0)
            state = LPT_PHASE_CARD_INTERRUPTED;
        else
            state = LPT_PHASE_CARD_NOT_STARTED;
        gboolean ready = lpt_run_phases_ready(self->states, i);
        if (!ready && state != LPT_PHASE_CARD_FAILED && state != LPT_PHASE_CARD_ABSENT)
            message = lpt_phase_slots[i].phase == 2 ? _("Starts after phase 1")
                                                    : _("Starts after the experts’ phases");
        gboolean has_backbone = lpt_phase_slots[i].expert == LPT_STORE_EXPERT_FUSED ||
                                self->has_backbone[lpt_phase_slots[i].expert] ||
                                self->current_run != 0;
        if (!has_backbone && state == LPT_PHASE_CARD_NOT_STARTED)
            message = _("Needs a backbone");
        gboolean has_images = self->current_run != 0 || self->has_training_images;
        lpt_phase_card_set_state(self->cards[i], state, s, message,
                                 self->job == NULL && self->project != NULL && ready &&
                                     has_backbone && has_images);
        lpt_phase_card_set_selected(self->cards[i], i == self->curves_slot);
    }
}

static void update_actions(LptTrainingPage *self)
{
    gboolean idle = self->job == NULL && self->project != NULL;
    gboolean something =
        self->current_run == 0
            ? self->has_training_images &&
                  (!self->current_cfg.use_vision || self->has_backbone[LPT_STORE_EXPERT_VISION]) &&
                  (!self->current_cfg.use_vl || self->has_backbone[LPT_STORE_EXPERT_VL])
            : !run_complete(self);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "training.run-all", idle && something);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "training.stop", self->job != NULL);
    gtk_widget_set_visible(self->stop_button, self->job != NULL);
}

static void update_title(LptTrainingPage *self)
{
    if (self->current_run == 0) {
        gtk_label_set_text(self->run_title, _("New Run"));
        g_autofree char *text = g_strdup_printf(
            /* Translators: the method of a new run, as in "LPT++ · made from the
             * hyper-parameters below when it starts" */
            _("%s · made from the hyper-parameters below when it starts"),
            lpt_run_settings_method_title(self->current_cfg.method));
        gtk_label_set_text(self->run_subtitle, text);
        return;
    }
    /* Translators: a training run's title, as in "Run 3 · LPT++" */
    g_autofree char *title =
        g_strdup_printf(_("Run %lld · %s"), (long long)self->current_run,
                        lpt_run_settings_method_title(self->current_cfg.method));
    gtk_label_set_text(self->run_title, title);
    const char *status = self->job != NULL && job_shows(self) ? status_label(LPT_STORE_RUN_RUNNING)
                                                              : status_label(self->current_status);
    gtk_label_set_text(self->run_subtitle, status);
}

static void update_all(LptTrainingPage *self)
{
    update_cards(self);
    update_actions(self);
    update_title(self);
}

/* Reads where the run shown stands (or plans a new run from the hyper-parameters). */
static void read_current(LptTrainingPage *self)
{
    g_clear_pointer(&self->current_error, g_free);
    self->current_status = LPT_STORE_RUN_CREATED;
    if (self->current_run == 0 || self->project == NULL) {
        lpt_run_settings_get_config(self->settings, &self->current_cfg);
        lpt_run_phases_plan(&self->current_cfg, self->states);
        return;
    }
    LptStore *store = lpt_project_get_store(self->project);
    LptStoreRun *run = NULL;
    LptError err = {0};
    if (lpt_store_run_get(store, self->current_run, &run, &err) != LPT_OK || run == NULL ||
        !lpt_run_phases_config(run, &self->current_cfg, &err) ||
        lpt_run_phases_read(store, self->current_run, &self->current_cfg, self->states, &err) !=
            LPT_OK) {
        g_autofree char *text =
            g_strdup_printf(_("Could not read run %lld: %s"), (long long)self->current_run,
                            err.message[0] != '\0' ? err.message : "");
        show_toast(self, text);
        lpt_run_phases_plan(&self->current_cfg, self->states);
        free(run);
        return;
    }
    self->current_status = run->status;
    self->current_error = g_strdup(run->error);
    free(run);
}

/* The best validation balanced accuracy of the run's epochs, NaN when none. */
static double best_balanced(LptStore *store, gint64 run_id)
{
    LptStoreEpochMetrics *metrics = NULL;
    size_t n = 0;
    double best = NAN;
    if (lpt_store_metric_list(store, run_id, &metrics, &n, NULL) == LPT_OK)
        for (size_t i = 0; i < n; i++)
            if (metrics[i].split == LPT_STORE_SPLIT_VAL && !isnan(metrics[i].balanced) &&
                (isnan(best) || metrics[i].balanced > best))
                best = metrics[i].balanced;
    free(metrics);
    return best;
}

/* Shows a run in its row: title, status, when made, best balanced accuracy. */
static void set_run_row(LptStore *store, gint64 run_id, const LptStoreRun *run, GtkWidget *row)
{
    LptRunConfig cfg;
    const char *method =
        lpt_run_phases_config(run, &cfg, NULL) ? lpt_run_settings_method_title(cfg.method) : "?";
    g_autofree char *title = g_strdup_printf(_("Run %lld · %s"), (long long)run_id, method);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    g_autoptr(GDateTime) created = g_date_time_new_from_unix_local(run->created_at);
    g_autofree char *when =
        created != NULL ? g_date_time_format(created, "%Y-%m-%d %H:%M") : g_strdup("");
    double best = best_balanced(store, run_id);
    g_autofree char *subtitle =
        isnan(best)
            /* Translators: a run's status and when it was made, as in "Finished · 2026-11-03
             * 14:20" */
            ? g_strdup_printf(_("%s · %s"), status_label(run->status), when)
            /* Translators: as above, with the run's best validation balanced accuracy */
            : g_strdup_printf(_("%s · %s · best balanced accuracy %.1f %%"),
                              status_label(run->status), when, 100.0 * best);
    adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
    gtk_image_set_from_icon_name(GTK_IMAGE(g_object_get_data(G_OBJECT(row), "status-icon")),
                                 status_icon(run->status));
    g_object_set_data_full(G_OBJECT(row), "status-text", g_strdup(status_label(run->status)),
                           g_free);
}

static GtkWidget *run_row(LptStore *store, gint64 run_id, const LptStoreRun *run)
{
    GtkWidget *row = adw_action_row_new();
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    GtkWidget *icon = gtk_image_new();
    adw_action_row_add_prefix(ADW_ACTION_ROW(row), icon);
    g_object_set_data(G_OBJECT(row), "status-icon", icon);
    g_object_set_data_full(G_OBJECT(row), "run-id-64", g_memdup2(&run_id, sizeof run_id), g_free);
    set_run_row(store, run_id, run, row);
    return row;
}

static gint64 row_run_id(GtkListBoxRow *row)
{
    const gint64 *id = row != NULL ? g_object_get_data(G_OBJECT(row), "run-id-64") : NULL;
    return id != NULL ? *id : 0;
}

/* The rows of the runs list after "New Run", in order. */
static GPtrArray *run_rows(LptTrainingPage *self)
{
    GPtrArray *rows = g_ptr_array_new();
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list)); row != NULL;
         row = gtk_widget_get_next_sibling(row))
        if (GTK_IS_LIST_BOX_ROW(row) && row_run_id(GTK_LIST_BOX_ROW(row)) != 0)
            g_ptr_array_add(rows, row);
    return rows;
}

/* Fills the runs list: "New run", then every run, newest first (rows that are there already
 * are updated in place, the list made again only when the runs differ); selects current_run,
 * or "New run" when it is gone. */
static void fill_runs(LptTrainingPage *self)
{
    int64_t *ids = NULL;
    size_t n = 0;
    LptStore *store = self->project != NULL ? lpt_project_get_store(self->project) : NULL;
    LptError err = {0};
    if (store != NULL && lpt_store_run_list(store, &ids, &n, &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not read the runs: %s"), err.message);
        show_toast(self, text);
    }

    self->selecting = TRUE;
    g_autoptr(GPtrArray) rows = run_rows(self);
    gboolean same = rows->len == n;
    for (size_t i = 0; same && i < n; i++)
        same = row_run_id(g_ptr_array_index(rows, i)) == ids[n - 1 - i];
    GtkWidget *new_row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list));
    if (!same || new_row == NULL) {
        GtkWidget *child;
        while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list))) != NULL)
            gtk_list_box_remove(self->runs_list, child);
        g_ptr_array_set_size(rows, 0);
        new_row = adw_action_row_new();
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(new_row), _("New Run"));
        adw_action_row_set_subtitle(ADW_ACTION_ROW(new_row),
                                    _("Made from the hyper-parameters when it starts"));
        adw_action_row_add_prefix(ADW_ACTION_ROW(new_row),
                                  gtk_image_new_from_icon_name("list-add-symbolic"));
        gtk_list_box_append(self->runs_list, new_row);
    }
    GtkListBoxRow *selected = GTK_LIST_BOX_ROW(new_row);
    gboolean found = self->current_run == 0;
    for (size_t i = 0; i < n; i++) {
        gint64 id = ids[n - 1 - i];
        LptStoreRun *run = NULL;
        if (lpt_store_run_get(store, id, &run, NULL) != LPT_OK || run == NULL)
            continue;
        GtkWidget *row;
        if (same) {
            row = g_ptr_array_index(rows, i);
            set_run_row(store, id, run, row);
        } else {
            row = run_row(store, id, run);
            gtk_list_box_append(self->runs_list, row);
        }
        if (id == self->current_run) {
            selected = GTK_LIST_BOX_ROW(row);
            found = TRUE;
        }
        free(run);
    }
    free(ids);
    if (!found)
        self->current_run = 0;
    gtk_list_box_select_row(self->runs_list, selected);
    self->selecting = FALSE;
}

/* Shows where run_id stands in its row (adding the row, after "New Run", when the run is
 * new), keeping the selection; cheaper than fill_runs while a session trains. */
static void refresh_run_row(LptTrainingPage *self, gint64 run_id)
{
    LptStore *store = lpt_project_get_store(self->project);
    LptStoreRun *run = NULL;
    if (lpt_store_run_get(store, run_id, &run, NULL) != LPT_OK || run == NULL)
        return;
    GtkWidget *row = NULL;
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list));
         child != NULL && row == NULL; child = gtk_widget_get_next_sibling(child))
        if (GTK_IS_LIST_BOX_ROW(child) && row_run_id(GTK_LIST_BOX_ROW(child)) == run_id)
            row = child;
    if (row == NULL) {
        row = run_row(store, run_id, run);
        self->selecting = TRUE;
        gtk_list_box_insert(self->runs_list, row, 1);
        if (run_id == self->current_run)
            gtk_list_box_select_row(self->runs_list, GTK_LIST_BOX_ROW(row));
        self->selecting = FALSE;
    } else {
        set_run_row(store, run_id, run, row);
    }
    free(run);
}

/* Shows the run chosen: its phases, hyper-parameters, curves. */
static void show_current(LptTrainingPage *self)
{
    gboolean editable = lpt_run_settings_get_editable(self->settings);
    if (self->current_run != 0 && editable) /* keep the next run's values for later */
        lpt_run_settings_get_config(self->settings, &self->new_cfg);
    if (self->current_run == 0 && !editable) { /* back to "New run": its values again */
        self->new_cfg.use_vl = self->new_cfg.use_vl && self->has_backbone[LPT_STORE_EXPERT_VL];
        lpt_run_settings_set_config(self->settings, &self->new_cfg, TRUE);
    }
    read_current(self);
    if (self->current_run != 0)
        lpt_run_settings_set_config(self->settings, &self->current_cfg, FALSE);
    if (self->job == NULL || self->running_slot < 0 || !job_shows(self)) {
        /* The curves show the latest phase with epochs, else the first the run has. */
        int slot = -1;
        for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
            if (self->states[i].present && (slot < 0 || self->states[i].epochs_done > 0))
                slot = i;
        self->curves_slot = MAX(slot, 0);
    }
    show_curves(self);
    update_all(self);
}

static void on_run_selected(GtkListBox *list, GtkListBoxRow *row, LptTrainingPage *self)
{
    if (self->selecting || row == NULL)
        return;
    gint64 id = row_run_id(row);
    if (id == self->current_run)
        return;
    self->current_run = id;
    show_current(self);
}

/* ---- The curves ---- */

static void show_curves(LptTrainingPage *self)
{
    int slot = self->curves_slot;
    const LptPhaseSlot *s = &lpt_phase_slots[slot];
    g_autofree char *title = g_strdup_printf(
        /* Translators: the curves' heading, as in "Curves of Phase 1 · Vision expert" */
        _("Curves of %s · %s"), lpt_phase_card_slot_title(slot), lpt_phase_card_slot_expert(slot));
    gtk_label_set_text(self->curves_title, title);
    lpt_training_curves_clear(self->curves, self->states[slot].epochs);
    if (self->current_run == 0 || self->project == NULL)
        return;

    LptStoreEpochMetrics *metrics = NULL;
    size_t n = 0;
    if (lpt_store_metric_list(lpt_project_get_store(self->project), self->current_run, &metrics, &n,
                              NULL) == LPT_OK) {
        for (size_t i = 0; i < n; i++) {
            const LptStoreEpochMetrics *m = &metrics[i];
            if (m->phase != s->phase || m->expert != s->expert || m->split != LPT_STORE_SPLIT_TRAIN)
                continue;
            LptEpochFigures f = {m->loss, NAN, NAN, NAN, NAN, NAN};
            for (size_t j = 0; j < n; j++) { /* the epoch's validation row */
                const LptStoreEpochMetrics *v = &metrics[j];
                if (v->phase == m->phase && v->expert == m->expert && v->epoch == m->epoch &&
                    v->split == LPT_STORE_SPLIT_VAL) {
                    f.overall = v->overall;
                    f.balanced = v->balanced;
                    f.many = v->many;
                    f.medium = v->medium;
                    f.few = v->few;
                }
            }
            lpt_training_curves_set_epoch(self->curves, m->epoch, &f);
        }
    }
    free(metrics);
    if (self->live_run == self->current_run && self->live[slot] != NULL)
        for (guint i = 0; i < self->live[slot]->len; i++) {
            const LptTrainLossPoint *p = &g_array_index(self->live[slot], LptTrainLossPoint, i);
            lpt_training_curves_add_loss(self->curves, p->epoch, p->loss);
        }
}

static void on_card_select(LptPhaseCard *card, LptTrainingPage *self)
{
    self->curves_slot = lpt_phase_card_get_slot(card);
    show_curves(self);
    update_cards(self);
}

/* Keeps a step loss of the session; a resumed epoch's steps replace what the stopped one
 * left. Returns FALSE when earlier points were dropped (the curves must be made again). */
static gboolean keep_loss(LptTrainingPage *self, const LptTrainLossPoint *p)
{
    int slot = lpt_phase_slot_index(p->phase, p->expert);
    if (slot < 0)
        return TRUE;
    GArray *live = self->live[slot];
    double epoch_start = ceil(p->epoch) - 1.0;
    gboolean kept = TRUE;
    while (live->len > 0 &&
           g_array_index(live, LptTrainLossPoint, live->len - 1).epoch >= p->epoch &&
           g_array_index(live, LptTrainLossPoint, live->len - 1).epoch > epoch_start) {
        g_array_set_size(live, live->len - 1);
        kept = FALSE;
    }
    g_array_append_val(live, *p);
    return kept;
}

/* ---- Training ---- */

static void set_running_slot(LptTrainingPage *self, int slot)
{
    if (slot == self->running_slot)
        return;
    self->running_slot = slot;
    if (slot >= 0 && job_shows(self)) {
        self->curves_slot = slot;
        show_curves(self);
    }
}

static void show_progress(LptTrainingPage *self, const LptTrainProgress *p)
{
    int slot = lpt_phase_slot_index(p->phase, p->expert);
    if (slot < 0)
        return;
    g_autofree char *where = g_strdup_printf(_("%s · %s"), lpt_phase_card_slot_title(slot),
                                             lpt_phase_card_slot_expert(slot));
    double fraction = 0.0;
    g_autofree char *detail = NULL;
    g_autofree char *line = NULL;
    double steps = MAX((double)p->steps, 1.0);
    switch (p->stage) {
    case LPT_TRAIN_STAGE_TRAIN:
        fraction = (p->epoch + p->step / steps) / MAX(p->epochs, 1);
        /* Translators: training progress, as in "Epoch 2 of 4 · step 12 of 30" */
        line = g_strdup_printf(_("Epoch %d of %d · step %lld of %lld"), p->epoch + 1, p->epochs,
                               (long long)p->step, (long long)p->steps);
        /* Translators: the last step's loss, the learning rate and the speed */
        detail = g_strdup_printf(_("Loss %.4f · learning rate %.3g · %.1f images/s"), p->loss,
                                 p->lr, p->images_per_second);
        break;
    case LPT_TRAIN_STAGE_EVAL:
        fraction = (p->epoch + 1.0) / MAX(p->epochs, 1);
        line = g_strdup_printf(_("Epoch %d of %d · validating, batch %lld of %lld"), p->epoch + 1,
                               p->epochs, (long long)p->step, (long long)p->steps);
        break;
    case LPT_TRAIN_STAGE_CACHE:
        fraction = 0.0;
        line = g_strdup_printf(_("Running the experts over the images · batch %lld of %lld"),
                               (long long)p->step, (long long)p->steps);
        break;
    case LPT_TRAIN_STAGE_EPOCH:
        fraction = (p->epoch + 1.0) / MAX(p->epochs, 1);
        line = g_strdup_printf(_("Epoch %d of %d done"), p->epoch + 1, p->epochs);
        detail = isnan(p->val_balanced)
                     ? g_strdup_printf(_("Mean loss %.4f"), p->loss)
                     /* Translators: after an epoch: its mean loss and validation accuracies */
                     : g_strdup_printf(_("Mean loss %.4f · validation %.1f %% overall, %.1f %% "
                                         "balanced"),
                                       p->loss, 100.0 * p->val_overall, 100.0 * p->val_balanced);
        break;
    }
    g_autofree char *label = g_strdup_printf("%s — %s", where, line);
    gtk_inscription_set_text(self->progress_label, label);
    g_autofree char *eta = eta_text(p->eta_seconds);
    gtk_inscription_set_text(self->eta_label, eta);
    if (detail != NULL)
        gtk_inscription_set_text(self->progress_detail, detail);
    gtk_progress_bar_set_fraction(self->progress_bar, CLAMP(fraction, 0.0, 1.0));
    if (job_shows(self))
        lpt_phase_card_set_progress(self->cards[slot], fraction, line);
}

static void on_job_progress(LptTrainJob *job, const LptTrainProgress *progress,
                            const LptTrainLossPoint *losses, guint n_losses, LptTrainingPage *self)
{
    if (job != self->job)
        return;
    gint64 run_id = lpt_train_job_get_run_id(job);
    if (self->current_run == 0 && run_id != 0) { /* the new run exists: show it */
        self->current_run = run_id;
        self->live_run = run_id;
        lpt_run_settings_get_config(self->settings, &self->new_cfg);
        refresh_run_row(self, run_id);
        read_current(self);
        lpt_run_settings_set_config(self->settings, &self->current_cfg, FALSE);
    }

    gboolean rebuild = FALSE;
    int curves_slot = self->curves_slot;
    for (guint i = 0; i < n_losses; i++) {
        if (!keep_loss(self, &losses[i]))
            rebuild = TRUE;
        else if (job_shows(self) &&
                 lpt_phase_slot_index(losses[i].phase, losses[i].expert) == curves_slot)
            lpt_training_curves_add_loss(self->curves, losses[i].epoch, losses[i].loss);
    }
    int slot = lpt_phase_slot_index(progress->phase, progress->expert);
    gboolean new_slot = slot != self->running_slot;
    set_running_slot(self, slot);
    if (progress->stage == LPT_TRAIN_STAGE_EPOCH) {
        if (job_shows(self))
            read_current(self);
        if (run_id != 0)
            refresh_run_row(self, run_id);
        rebuild = TRUE;
    }
    if (rebuild && !new_slot)
        show_curves(self);
    if (new_slot || progress->stage == LPT_TRAIN_STAGE_EPOCH)
        update_all(self);
    show_progress(self, progress);
}

static void set_training(LptTrainingPage *self, LptTrainJob *job)
{
    gboolean was = self->job != NULL;
    if (self->job != NULL)
        g_signal_handlers_disconnect_by_data(self->job, self);
    g_set_object(&self->job, job);
    if (job == NULL)
        g_clear_object(&self->cancellable);
    if (job == NULL) { /* the progress card stays (showing it anew would relayout the page) */
        gtk_inscription_set_text(self->progress_label, _("Not training"));
        gtk_inscription_set_text(self->eta_label, "");
        gtk_inscription_set_text(self->progress_detail, "");
        gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
    }
    if (was != (job != NULL))
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_TRAINING]);
}

static void on_job_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(LptTrainingPage) self = LPT_TRAINING_PAGE(user_data);
    LptTrainJob *job = LPT_TRAIN_JOB(source);
    g_autoptr(GError) error = NULL;
    gint64 run_id = 0;
    gboolean ok = lpt_train_job_run_finish(job, result, &run_id, &error);
    if (job != self->job) /* the page moved on (another project, or disposed) */
        return;

    int slot = self->running_slot >= 0 ? self->running_slot : MAX(self->job_slot, 0);
    g_clear_error(&self->last_error);
    self->failed_slot = -1;
    g_autofree char *outcome = NULL;
    if (ok) {
        outcome = g_strdup_printf(_("Run %lld: training done"), (long long)run_id);
    } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        self->last_error = g_error_copy(error);
        outcome = g_strdup(_("Training stopped: Resume continues from the last finished epoch"));
    } else {
        self->last_error = g_error_copy(error);
        self->failed_run = run_id;
        self->failed_slot = slot;
        outcome = g_strdup(_("Training failed: the phase’s card says why"));
    }
    show_toast(self, outcome);
    if (run_id != 0) {
        self->current_run = run_id;
        self->live_run = run_id;
    }
    self->running_slot = -1;
    LptProject *project = g_object_ref(self->project);
    set_training(self, NULL);
    gtk_inscription_set_text(self->progress_detail, outcome); /* under "Not training" */
    /* Every page reloads: this one shows the run as the store now has it. */
    lpt_project_notify_changed(project);
    g_object_unref(project);
}

/* Starts a session over slot (-1: every phase) of the run shown, or of a new run. */
static gboolean start(LptTrainingPage *self, int slot)
{
    if (self->job != NULL || self->project == NULL)
        return FALSE;
    if (self->current_run == 0) { /* a new run needs images and the backbones it trains */
        gboolean vision = self->current_cfg.use_vision, vl = self->current_cfg.use_vl;
        if (!self->has_training_images ||
            (vision && !self->has_backbone[LPT_STORE_EXPERT_VISION]) ||
            (vl && !self->has_backbone[LPT_STORE_EXPERT_VL]))
            return FALSE;
    }
    if (slot >= 0 && (!self->states[slot].present || self->states[slot].done ||
                      !lpt_run_phases_ready(self->states, slot)))
        return FALSE;

    g_autofree char *json =
        self->current_run == 0 ? lpt_run_settings_to_json(self->settings) : NULL;
    LptBackendOptions backend;
    g_autofree char *device = NULL;
    backend_options(self, &backend, &device);
    int phase = slot >= 0 ? lpt_phase_slots[slot].phase : 0;
    int expert = slot >= 0 && lpt_phase_slots[slot].expert != LPT_STORE_EXPERT_FUSED
                     ? (int)lpt_phase_slots[slot].expert
                     : -1;
    g_autoptr(LptTrainJob) job =
        lpt_train_job_new(self->project, self->current_run, json, phase, expert, &backend);
    if (self->live_run != self->current_run || self->current_run == 0) {
        for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
            g_array_set_size(self->live[i], 0);
        self->live_run = self->current_run;
    }
    self->job_slot = slot;
    self->running_slot = -1;
    self->failed_slot = -1;
    g_clear_error(&self->last_error);
    set_training(self, job);
    self->cancellable = g_cancellable_new();
    g_signal_connect(job, "progress", G_CALLBACK(on_job_progress), self);

    gtk_inscription_set_text(self->progress_label, _("Loading the backbones and the images…"));
    gtk_inscription_set_text(self->eta_label, "");
    gtk_inscription_set_text(self->progress_detail, "");
    gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
    if (slot >= 0) {
        self->curves_slot = slot;
        show_curves(self);
    }
    update_all(self);
    lpt_train_job_run_async(job, self->cancellable, on_job_done, g_object_ref(self));
    return TRUE;
}

gboolean lpt_training_page_start_phase(LptTrainingPage *self, int slot)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), FALSE);
    g_return_val_if_fail(slot >= 0 && slot < LPT_N_PHASE_SLOTS, FALSE);
    return start(self, slot);
}

gboolean lpt_training_page_run_all(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), FALSE);
    if (self->current_run != 0 && run_complete(self))
        return FALSE;
    return start(self, -1);
}

void lpt_training_page_stop(LptTrainingPage *self)
{
    g_return_if_fail(LPT_IS_TRAINING_PAGE(self));
    if (self->cancellable == NULL)
        return;
    gtk_inscription_set_text(self->progress_label, _("Stopping after this step…"));
    g_cancellable_cancel(self->cancellable);
}

gboolean lpt_training_page_is_training(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), FALSE);
    return self->job != NULL;
}

static void on_card_start(LptPhaseCard *card, LptTrainingPage *self)
{
    start(self, lpt_phase_card_get_slot(card));
}

static void on_card_stop(LptPhaseCard *card, LptTrainingPage *self)
{
    lpt_training_page_stop(self);
}

static void run_all_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    lpt_training_page_run_all(LPT_TRAINING_PAGE(widget));
}

static void stop_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    lpt_training_page_stop(LPT_TRAINING_PAGE(widget));
}

static void on_settings_edited(LptRunSettings *settings, LptTrainingPage *self)
{
    if (self->current_run != 0)
        return;
    read_current(self);
    show_curves(self);
    update_all(self);
}

/* ---- Loading the project ---- */

static void on_missing_clicked(GtkButton *button, LptTrainingPage *self)
{
    GtkWidget *stack = gtk_widget_get_ancestor(GTK_WIDGET(self), ADW_TYPE_VIEW_STACK);
    if (stack != NULL && self->missing_target != NULL)
        adw_view_stack_set_visible_child_name(ADW_VIEW_STACK(stack), self->missing_target);
}

/* Shows what is missing before anything can train; FALSE when nothing is. */
static gboolean show_missing(LptTrainingPage *self, gboolean has_classes, gboolean has_runs)
{
    gboolean any_backbone = self->has_backbone[0] || self->has_backbone[1];
    if (has_runs || (has_classes && any_backbone)) {
        gtk_stack_set_visible_child_name(self->stack, "training");
        return FALSE;
    }
    if (!has_classes) {
        adw_status_page_set_description(self->missing_page,
                                        _("Import the images of your classes first, on the "
                                          "Dataset page."));
        gtk_button_set_label(self->missing_button, _("Go to the _Dataset Page"));
        self->missing_target = "dataset";
    } else {
        adw_status_page_set_description(self->missing_page,
                                        _("Add a backbone for the vision expert first (the "
                                          "demo backbones will do to try the workflow)."));
        gtk_button_set_label(self->missing_button, _("Go to the _Backbones Page"));
        self->missing_target = "backbones";
    }
    gtk_stack_set_visible_child_name(self->stack, "missing");
    return TRUE;
}

static void reload(LptTrainingPage *self)
{
    self->has_backbone[0] = self->has_backbone[1] = FALSE;
    gboolean has_classes = FALSE, has_runs = FALSE;
    if (self->project != NULL) {
        LptStore *store = lpt_project_get_store(self->project);
        LptStoreBackbone *backbones = NULL;
        LptStoreClassCount *counts = NULL;
        int64_t *runs = NULL;
        size_t n_backbones = 0, n_classes = 0, n_runs = 0;
        if (lpt_store_backbone_list(store, &backbones, &n_backbones, NULL) == LPT_OK)
            for (size_t i = 0; i < n_backbones; i++)
                if (backbones[i].role == LPT_STORE_EXPERT_VISION ||
                    backbones[i].role == LPT_STORE_EXPERT_VL)
                    self->has_backbone[backbones[i].role] = TRUE;
        if (lpt_store_class_counts(store, &counts, &n_classes, NULL) == LPT_OK)
            for (size_t i = 0; i < n_classes; i++)
                has_classes = has_classes || counts[i].count[LPT_STORE_SPLIT_TRAIN] > 0;
        has_runs = lpt_store_run_list(store, &runs, &n_runs, NULL) == LPT_OK && n_runs > 0;
        free(backbones);
        free(counts);
        free(runs);
    }
    self->has_training_images = has_classes;
    lpt_run_settings_set_vl_available(self->settings, self->has_backbone[LPT_STORE_EXPERT_VL]);
    show_missing(self, has_classes, has_runs);
    fill_runs(self);
    show_current(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    reload(LPT_TRAINING_PAGE(user_data));
}

static void forget_job(LptTrainingPage *self)
{
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    set_training(self, NULL);
}

void lpt_training_page_set_project(LptTrainingPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_TRAINING_PAGE(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (project == self->project)
        return;

    forget_job(self);
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    g_set_object(&self->project, project);
    self->changed_id =
        project != NULL ? g_signal_connect(project, "changed", G_CALLBACK(on_project_changed), self)
                        : 0;
    g_clear_error(&self->last_error);
    self->failed_slot = -1;
    self->failed_run = 0;
    self->live_run = 0;
    self->running_slot = -1;
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
        g_array_set_size(self->live[i], 0);

    /* A project opens on its newest run. */
    self->current_run = 0;
    int64_t *runs = NULL;
    size_t n = 0;
    if (project != NULL &&
        lpt_store_run_list(lpt_project_get_store(project), &runs, &n, NULL) == LPT_OK && n > 0)
        self->current_run = runs[n - 1];
    free(runs);
    reload(self);
}

/* ---- Accessors ---- */

gboolean lpt_training_page_select_run(LptTrainingPage *self, gint64 run_id)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), FALSE);
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list)); row != NULL;
         row = gtk_widget_get_next_sibling(row))
        if (GTK_IS_LIST_BOX_ROW(row) && row_run_id(GTK_LIST_BOX_ROW(row)) == run_id) {
            gtk_list_box_select_row(self->runs_list, GTK_LIST_BOX_ROW(row));
            return TRUE;
        }
    return FALSE;
}

gint64 lpt_training_page_get_run(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), 0);
    return self->current_run;
}

guint lpt_training_page_get_n_runs(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), 0);
    guint n = 0;
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list)); row != NULL;
         row = gtk_widget_get_next_sibling(row))
        n += GTK_IS_LIST_BOX_ROW(row) && row_run_id(GTK_LIST_BOX_ROW(row)) != 0;
    return n;
}

gint64 lpt_training_page_get_run_id(LptTrainingPage *self, guint index)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), 0);
    guint n = 0;
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list)); row != NULL;
         row = gtk_widget_get_next_sibling(row)) {
        gint64 id = GTK_IS_LIST_BOX_ROW(row) ? row_run_id(GTK_LIST_BOX_ROW(row)) : 0;
        if (id != 0 && n++ == index)
            return id;
    }
    return 0;
}

const char *lpt_training_page_get_run_status_text(LptTrainingPage *self, gint64 run_id)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(self->runs_list)); row != NULL;
         row = gtk_widget_get_next_sibling(row))
        if (GTK_IS_LIST_BOX_ROW(row) && run_id != 0 && row_run_id(GTK_LIST_BOX_ROW(row)) == run_id)
            return g_object_get_data(G_OBJECT(row), "status-text");
    return NULL;
}

LptPhaseCard *lpt_training_page_get_card(LptTrainingPage *self, int slot)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    g_return_val_if_fail(slot >= 0 && slot < LPT_N_PHASE_SLOTS, NULL);
    return self->cards[slot];
}

LptTrainingCurves *lpt_training_page_get_curves(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    return self->curves;
}

LptRunSettings *lpt_training_page_get_settings(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    return self->settings;
}

GtkProgressBar *lpt_training_page_get_progress_bar(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    return self->progress_bar;
}

const GError *lpt_training_page_get_last_error(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), NULL);
    return self->last_error;
}

gboolean lpt_training_page_is_listing_devices(LptTrainingPage *self)
{
    g_return_val_if_fail(LPT_IS_TRAINING_PAGE(self), FALSE);
    return self->device_cancellable != NULL;
}

/* ---- Life cycle ---- */

static void lpt_training_page_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec)
{
    LptTrainingPage *self = LPT_TRAINING_PAGE(object);
    switch (prop_id) {
    case PROP_TRAINING:
        g_value_set_boolean(value, self->job != NULL);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_training_page_dispose(GObject *object)
{
    LptTrainingPage *self = LPT_TRAINING_PAGE(object);

    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    if (self->job != NULL)
        g_signal_handlers_disconnect_by_data(self->job, self);
    g_clear_object(&self->job);
    g_clear_object(&self->cancellable);
    if (self->device_cancellable != NULL)
        g_cancellable_cancel(self->device_cancellable);
    g_clear_object(&self->device_cancellable);
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    g_clear_object(&self->project);
    if (self->gsettings != NULL)
        g_signal_handlers_disconnect_by_data(self->gsettings, self);
    g_clear_object(&self->gsettings);
    self->toast_overlay = NULL;
    g_clear_object(&self->toast);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_TRAINING_PAGE);

    G_OBJECT_CLASS(lpt_training_page_parent_class)->dispose(object);
}

static void lpt_training_page_finalize(GObject *object)
{
    LptTrainingPage *self = LPT_TRAINING_PAGE(object);

    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
        g_array_unref(self->live[i]);
    g_ptr_array_unref(self->device_values);
    g_free(self->current_error);
    g_clear_error(&self->last_error);

    G_OBJECT_CLASS(lpt_training_page_parent_class)->finalize(object);
}

static void lpt_training_page_class_init(LptTrainingPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->get_property = lpt_training_page_get_property;
    object_class->dispose = lpt_training_page_dispose;
    object_class->finalize = lpt_training_page_finalize;

    properties[PROP_TRAINING] =
        g_param_spec_boolean("training", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    g_type_ensure(LPT_TYPE_TRAINING_CURVES);
    g_type_ensure(LPT_TYPE_RUN_SETTINGS);
    g_type_ensure(LPT_TYPE_PHASE_CARD);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_training_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, stack);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, missing_page);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, missing_button);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, run_title);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, run_subtitle);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, stop_button);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, progress_label);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, eta_label);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, progress_bar);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, progress_detail);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, cards_box);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, curves_title);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, curves);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, settings);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, device_row);
    gtk_widget_class_bind_template_child(widget_class, LptTrainingPage, runs_list);
    gtk_widget_class_bind_template_callback(widget_class, on_missing_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_device_selected);
    gtk_widget_class_bind_template_callback(widget_class, on_run_selected);

    gtk_widget_class_install_action(widget_class, "training.run-all", NULL, run_all_action);
    gtk_widget_class_install_action(widget_class, "training.stop", NULL, stop_action);
}

static void lpt_training_page_init(LptTrainingPage *self)
{
    self->device_values = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
        self->live[i] = g_array_new(FALSE, FALSE, sizeof(LptTrainLossPoint));
    self->job_slot = -1;
    self->running_slot = -1;
    self->failed_slot = -1;
    lpt_run_config_init(&self->new_cfg, LPT_METHOD_LPTPP);
    self->new_cfg.use_vl = FALSE;
    gtk_widget_init_template(GTK_WIDGET(self));
    self->toast_overlay = ADW_TOAST_OVERLAY(adw_bin_get_child(ADW_BIN(self)));

    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        self->cards[i] = LPT_PHASE_CARD(lpt_phase_card_new(i));
        g_signal_connect(self->cards[i], "start", G_CALLBACK(on_card_start), self);
        g_signal_connect(self->cards[i], "stop", G_CALLBACK(on_card_stop), self);
        g_signal_connect(self->cards[i], "select", G_CALLBACK(on_card_select), self);
        gtk_box_append(self->cards_box, GTK_WIDGET(self->cards[i]));
    }
    g_signal_connect(self->settings, "changed", G_CALLBACK(on_settings_edited), self);
    set_training(self, NULL);

    self->gsettings = g_settings_new(BASE_ID);
    g_signal_connect(self->gsettings, "changed", G_CALLBACK(on_settings_changed), self);
    fill_devices(self, NULL);
    self->device_cancellable = g_cancellable_new();
    lpt_device_choices_list_async(self->device_cancellable, on_devices_listed, self);

    reload(self);
}

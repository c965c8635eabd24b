/* lpt_run_settings.c: the hyper-parameters of a run (see the header).
 *
 * The rows are made from the table `fields` (one spin button per number) plus the method and
 * the two expert switches. The config shown is kept whole in self->config: the rows write
 * into it, so the values the page does not show keep the method's defaults.
 */
#include "lpt_run_settings.h"

#include <stddef.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

typedef enum { KIND_INT, KIND_DOUBLE, KIND_SEED } FieldKind;

/* Which methods a number applies to. */
typedef enum {
    FOR_ALL,
    FOR_PROMPTED, /* LPT++ and LPT: prompts, the pool, phase 2 */
    FOR_SCORER,   /* LPT++ with both experts: phase 3 */
} FieldScope;

typedef struct {
    const char *section; /* the JSON section, NULL for a top-level key */
    const char *key;
    const char *title;       /* N_() */
    const char *description; /* N_() */
    FieldKind kind;
    size_t offset; /* into LptRunConfig */
    double min, max, step;
    guint digits;
    FieldScope scope;
} Field;

static const Field fields[] = {
    {"train", "phase1_epochs", N_("Phase 1 epochs"), N_("Shared prompts, adapters and the head"),
     KIND_INT, offsetof(LptRunConfig, phase1_epochs), 0, 10000, 1, 0, FOR_ALL},
    {"train", "phase2_epochs", N_("Phase 2 epochs"), N_("Group prompts and the head"), KIND_INT,
     offsetof(LptRunConfig, phase2_epochs), 0, 10000, 1, 0, FOR_PROMPTED},
    {"scorer", "epochs", N_("Phase 3 epochs"), N_("The scorer; it stops early when it stalls"),
     KIND_INT, offsetof(LptRunConfig, scorer_epochs), 0, 10000, 1, 0, FOR_SCORER},
    {"train", "warmup_epochs", N_("Warm-up epochs"), N_("At a low learning rate, first"), KIND_INT,
     offsetof(LptRunConfig, warmup_epochs), 0, 10000, 1, 0, FOR_ALL},
    {"train", "batch_size", N_("Batch size"), N_("Images per step, a multiple of 4"), KIND_INT,
     offsetof(LptRunConfig, batch_size), 4, 65536, 4, 0, FOR_ALL},
    {"train", "lr", N_("Learning rate"), N_("At a batch of 256; scaled with the batch size"),
     KIND_DOUBLE, offsetof(LptRunConfig, lr), 0, 10, 0.001, 4, FOR_ALL},
    {"train", "momentum", N_("Momentum"), N_("Of the SGD steps"), KIND_DOUBLE,
     offsetof(LptRunConfig, momentum), 0, 1, 0.01, 2, FOR_ALL},
    {"train", "weight_decay", N_("Weight decay"), N_("Of the trained weights"), KIND_DOUBLE,
     offsetof(LptRunConfig, weight_decay), 0, 1, 0.001, 4, FOR_ALL},
    {"model", "prompts", N_("Prompt tokens"), N_("Per layer, shared by all images"), KIND_INT,
     offsetof(LptRunConfig, prompts), 0, 1024, 1, 0, FOR_PROMPTED},
    {"model", "pool_size", N_("Group prompts"), N_("In the pool phase 2 chooses from"), KIND_INT,
     offsetof(LptRunConfig, pool_size), 0, 4096, 1, 0, FOR_PROMPTED},
    {NULL, "seed", N_("Seed"), N_("Every random choice of the run"), KIND_SEED,
     offsetof(LptRunConfig, seed), 0, G_MAXINT32, 1, 0, FOR_ALL},
};
#define N_FIELDS G_N_ELEMENTS(fields)

static const LptMethod methods[] = {LPT_METHOD_LPTPP, LPT_METHOD_LPT, LPT_METHOD_LINEAR_PROBE,
                                    LPT_METHOD_FULL_FINETUNE};

struct _LptRunSettings {
    AdwPreferencesGroup parent_instance;

    /* owned by the group (rows and buttons) */
    AdwComboRow *method_row;
    AdwActionRow *vision_row, *vl_row;
    GtkSwitch *vision_switch, *vl_switch;
    AdwActionRow *rows[N_FIELDS];
    GtkSpinButton *spins[N_FIELDS];
    GtkWidget *reset_button;

    /* owned */
    LptRunConfig config;
    gboolean editable;
    gboolean vl_available;
    gboolean updating; /* the rows are being set from config: do not write back */
};

G_DEFINE_FINAL_TYPE(LptRunSettings, lpt_run_settings, ADW_TYPE_PREFERENCES_GROUP)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

const char *lpt_run_settings_method_title(LptMethod method)
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

static const char *method_description(LptMethod method)
{
    switch (method) {
    case LPT_METHOD_LPTPP:
        return _("Both experts with prompts and adapters, then the scorer");
    case LPT_METHOD_LPT:
        return _("The vision expert with prompts, no adapters");
    case LPT_METHOD_LINEAR_PROBE:
        return _("Baseline: the vision expert’s head alone");
    case LPT_METHOD_FULL_FINETUNE:
        return _("Baseline: every weight of the vision expert");
    }
    return "";
}

static double field_get(const LptRunConfig *cfg, const Field *f)
{
    const char *p = (const char *)cfg + f->offset;
    switch (f->kind) {
    case KIND_INT:
        return *(const int *)p;
    case KIND_DOUBLE:
        return *(const double *)p;
    case KIND_SEED:
        return (double)*(const uint64_t *)p;
    }
    return 0.0;
}

static void field_set(LptRunConfig *cfg, const Field *f, double value)
{
    char *p = (char *)cfg + f->offset;
    switch (f->kind) {
    case KIND_INT:
        *(int *)p = (int)value;
        break;
    case KIND_DOUBLE:
        *(double *)p = value;
        break;
    case KIND_SEED:
        *(uint64_t *)p = (uint64_t)value;
        break;
    }
}

/* A number as the spin button shows it (a new string). */
static char *format_value(const Field *f, double value)
{
    if (f->kind == KIND_DOUBLE)
        return g_strdup_printf("%g", value);
    return g_strdup_printf("%.0f", value);
}

static gboolean field_applies(const Field *f, const LptRunConfig *cfg)
{
    switch (f->scope) {
    case FOR_ALL:
        return TRUE;
    case FOR_PROMPTED:
        return cfg->method == LPT_METHOD_LPTPP || cfg->method == LPT_METHOD_LPT;
    case FOR_SCORER:
        return cfg->method == LPT_METHOD_LPTPP && cfg->use_vision && cfg->use_vl;
    }
    return TRUE;
}

/* The defaults of cfg's method, with the experts the project allows. */
static void method_defaults(LptRunSettings *self, LptMethod method, LptRunConfig *out)
{
    lpt_run_config_init(out, method);
    out->use_vl = out->use_vl && self->vl_available;
}

/* Shows self->config in the rows. */
static void show_config(LptRunSettings *self)
{
    LptRunConfig defaults;
    method_defaults(self, self->config.method, &defaults);

    self->updating = TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
        if (methods[i] == self->config.method)
            adw_combo_row_set_selected(self->method_row, i);
    gtk_switch_set_active(self->vision_switch, self->config.use_vision);
    gtk_switch_set_active(self->vl_switch, self->config.use_vl);
    for (guint i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        gtk_spin_button_set_value(self->spins[i], field_get(&self->config, f));
        g_autofree char *value = format_value(f, field_get(&defaults, f));
        /* Translators: a hyper-parameter's description and its default value, as in
         * "Images per step, a multiple of 4 · default 256" */
        g_autofree char *subtitle = g_strdup_printf(_("%s · default %s"), _(f->description), value);
        adw_action_row_set_subtitle(self->rows[i], subtitle);
        gtk_widget_set_sensitive(GTK_WIDGET(self->rows[i]),
                                 self->editable && field_applies(f, &self->config));
    }
    gboolean prompted = self->config.method == LPT_METHOD_LPTPP;
    adw_action_row_set_subtitle(ADW_ACTION_ROW(self->method_row),
                                method_description(self->config.method));
    gtk_widget_set_sensitive(GTK_WIDGET(self->method_row), self->editable);
    gtk_widget_set_sensitive(GTK_WIDGET(self->vision_row), self->editable && prompted);
    gtk_widget_set_sensitive(GTK_WIDGET(self->vl_row),
                             self->editable && prompted &&
                                 (self->vl_available || self->config.use_vl));
    adw_action_row_set_subtitle(self->vl_row,
                                self->vl_available || !self->editable
                                    ? _("The CLIP image tower, with the class names")
                                    : _("Add a vision-language backbone to train it"));
    gtk_widget_set_visible(self->reset_button, self->editable);
    self->updating = FALSE;
}

static void changed(LptRunSettings *self)
{
    show_config(self);
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static void on_spin_changed(GtkSpinButton *spin, gpointer user_data)
{
    LptRunSettings *self = LPT_RUN_SETTINGS(user_data);
    if (self->updating)
        return;
    for (guint i = 0; i < N_FIELDS; i++)
        if (self->spins[i] == spin)
            field_set(&self->config, &fields[i], gtk_spin_button_get_value(spin));
    changed(self);
}

static void on_switch_changed(GtkSwitch *sw, GParamSpec *pspec, gpointer user_data)
{
    LptRunSettings *self = LPT_RUN_SETTINGS(user_data);
    if (self->updating)
        return;
    self->config.use_vision = gtk_switch_get_active(self->vision_switch);
    self->config.use_vl = gtk_switch_get_active(self->vl_switch);
    changed(self);
}

static void on_method_selected(AdwComboRow *row, GParamSpec *pspec, gpointer user_data)
{
    LptRunSettings *self = LPT_RUN_SETTINGS(user_data);
    guint selected = adw_combo_row_get_selected(row);
    if (self->updating || selected >= G_N_ELEMENTS(methods))
        return;
    uint64_t seed = self->config.seed;
    method_defaults(self, methods[selected], &self->config);
    self->config.seed = seed;
    changed(self);
}

static void on_reset_clicked(GtkButton *button, gpointer user_data)
{
    lpt_run_settings_reset(LPT_RUN_SETTINGS(user_data));
}

static GtkWidget *suffix_switch(AdwActionRow *row, GtkSwitch **out)
{
    GtkWidget *sw = gtk_switch_new();
    gtk_widget_set_valign(sw, GTK_ALIGN_CENTER);
    adw_action_row_add_suffix(row, sw);
    adw_action_row_set_activatable_widget(row, sw);
    *out = GTK_SWITCH(sw);
    return sw;
}

static void build_rows(LptRunSettings *self)
{
    AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP(self);

    GtkStringList *names = gtk_string_list_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(methods); i++)
        gtk_string_list_append(names, lpt_run_settings_method_title(methods[i]));
    self->method_row = ADW_COMBO_ROW(adw_combo_row_new());
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->method_row), _("Method"));
    adw_combo_row_set_model(self->method_row, G_LIST_MODEL(names));
    g_object_unref(names);
    g_signal_connect(self->method_row, "notify::selected", G_CALLBACK(on_method_selected), self);
    adw_preferences_group_add(group, GTK_WIDGET(self->method_row));

    self->vision_row = ADW_ACTION_ROW(adw_action_row_new());
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->vision_row), _("Vision expert"));
    adw_action_row_set_subtitle(self->vision_row, _("The ViT, with prompts and adapters"));
    suffix_switch(self->vision_row, &self->vision_switch);
    self->vl_row = ADW_ACTION_ROW(adw_action_row_new());
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->vl_row), _("Vision-language expert"));
    suffix_switch(self->vl_row, &self->vl_switch);
    g_signal_connect(self->vision_switch, "notify::active", G_CALLBACK(on_switch_changed), self);
    g_signal_connect(self->vl_switch, "notify::active", G_CALLBACK(on_switch_changed), self);
    adw_preferences_group_add(group, GTK_WIDGET(self->vision_row));
    adw_preferences_group_add(group, GTK_WIDGET(self->vl_row));

    for (guint i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        self->rows[i] = ADW_ACTION_ROW(adw_action_row_new());
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->rows[i]), _(f->title));
        GtkWidget *spin = gtk_spin_button_new_with_range(f->min, f->max, f->step);
        gtk_spin_button_set_digits(GTK_SPIN_BUTTON(spin), f->digits);
        gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(spin), TRUE);
        if (f->kind != KIND_DOUBLE)
            gtk_spin_button_set_snap_to_ticks(GTK_SPIN_BUTTON(spin), TRUE);
        gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
        gtk_accessible_update_relation(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                       self->rows[i], NULL, -1);
        self->spins[i] = GTK_SPIN_BUTTON(spin);
        g_signal_connect(spin, "value-changed", G_CALLBACK(on_spin_changed), self);
        adw_action_row_add_suffix(self->rows[i], spin);
        adw_preferences_group_add(group, GTK_WIDGET(self->rows[i]));
    }

    self->reset_button = gtk_button_new_with_mnemonic(_("_Reset"));
    gtk_widget_set_tooltip_text(self->reset_button,
                                _("Put every value back to the method’s defaults"));
    gtk_widget_set_valign(self->reset_button, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(self->reset_button, "flat");
    g_signal_connect(self->reset_button, "clicked", G_CALLBACK(on_reset_clicked), self);
    adw_preferences_group_set_header_suffix(group, self->reset_button);
}

static void lpt_run_settings_class_init(LptRunSettingsClass *klass)
{
    /** LptRunSettings::changed: the values shown changed. */
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void lpt_run_settings_init(LptRunSettings *self)
{
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(self), _("Hyper-parameters"));
    adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(self),
                                          _("Of the next new run; a run keeps the values it "
                                            "started with."));
    build_rows(self);
    self->editable = TRUE;
    method_defaults(self, LPT_METHOD_LPTPP, &self->config);
    show_config(self);
}

GtkWidget *lpt_run_settings_new(void)
{
    return g_object_new(LPT_TYPE_RUN_SETTINGS, NULL);
}

void lpt_run_settings_set_config(LptRunSettings *self, const LptRunConfig *cfg, gboolean editable)
{
    g_return_if_fail(LPT_IS_RUN_SETTINGS(self));
    g_return_if_fail(cfg != NULL);
    self->config = *cfg;
    self->editable = editable;
    changed(self);
}

void lpt_run_settings_get_config(LptRunSettings *self, LptRunConfig *cfg)
{
    g_return_if_fail(LPT_IS_RUN_SETTINGS(self));
    *cfg = self->config;
}

gboolean lpt_run_settings_get_editable(LptRunSettings *self)
{
    g_return_val_if_fail(LPT_IS_RUN_SETTINGS(self), FALSE);
    return self->editable;
}

void lpt_run_settings_reset(LptRunSettings *self)
{
    g_return_if_fail(LPT_IS_RUN_SETTINGS(self));
    uint64_t seed = self->config.seed;
    method_defaults(self, self->config.method, &self->config);
    self->config.seed = seed;
    changed(self);
}

void lpt_run_settings_set_vl_available(LptRunSettings *self, gboolean available)
{
    g_return_if_fail(LPT_IS_RUN_SETTINGS(self));
    if (self->vl_available == available)
        return;
    self->vl_available = available;
    if (self->editable) /* the default follows the backbones */
        self->config.use_vl = available && self->config.method == LPT_METHOD_LPTPP;
    show_config(self);
}

static void append_number(GString *json, const Field *f, double value)
{
    if (f->kind == KIND_DOUBLE) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(json, g_ascii_dtostr(buf, sizeof buf, value));
    } else {
        g_string_append_printf(json, "%.0f", value);
    }
}

char *lpt_run_settings_to_json(LptRunSettings *self)
{
    g_return_val_if_fail(LPT_IS_RUN_SETTINGS(self), NULL);
    const LptRunConfig *c = &self->config;
    GString *json = g_string_new("{");
    g_string_append_printf(json, "\"method\": \"%s\", \"experts\": {\"vision\": %s, \"vl\": %s}",
                           lpt_method_name(c->method), c->use_vision ? "true" : "false",
                           c->use_vl ? "true" : "false");
    for (guint i = 0; i < N_FIELDS; i++)
        if (fields[i].section == NULL) {
            g_string_append_printf(json, ", \"%s\": ", fields[i].key);
            append_number(json, &fields[i], field_get(c, &fields[i]));
        }
    static const char *const sections[] = {"train", "model", "scorer"};
    for (gsize s = 0; s < G_N_ELEMENTS(sections); s++) {
        g_string_append_printf(json, ", \"%s\": {", sections[s]);
        gboolean first = TRUE;
        for (guint i = 0; i < N_FIELDS; i++) {
            if (g_strcmp0(fields[i].section, sections[s]) != 0)
                continue;
            g_string_append_printf(json, "%s\"%s\": ", first ? "" : ", ", fields[i].key);
            append_number(json, &fields[i], field_get(c, &fields[i]));
            first = FALSE;
        }
        g_string_append_c(json, '}');
    }
    g_string_append_c(json, '}');
    return g_string_free(json, FALSE);
}

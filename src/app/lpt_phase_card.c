/* lpt_phase_card.c: one training phase's card (see the header). */
#include "lpt_phase_card.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

struct _LptPhaseCard {
    AdwBin parent_instance;

    /* template widgets */
    GtkLabel *title_label;
    GtkLabel *expert_label;
    GtkImage *state_icon;
    GtkLabel *state_label;
    GtkProgressBar *progress_bar;
    GtkInscription *detail_label; /* changes with every progress: redraws only */
    GtkWidget *start_button;
    GtkWidget *stop_button;

    /* owned */
    int slot;
    LptPhaseCardState state;
    char *state_text;
    /* what set_state was last given (a repeat changes nothing: no relayout, no restyle) */
    LptPhaseState figures;
    char *message;
    gboolean can_start;
};

G_DEFINE_FINAL_TYPE(LptPhaseCard, lpt_phase_card, ADW_TYPE_BIN)

enum { PROP_0, PROP_SLOT, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIGNAL_START, SIGNAL_STOP, SIGNAL_SELECT, N_SIGNALS };
static guint signals[N_SIGNALS];

const char *lpt_phase_card_slot_title(int slot)
{
    switch (lpt_phase_slots[CLAMP(slot, 0, LPT_N_PHASE_SLOTS - 1)].phase) {
    case 1:
        return _("Phase 1");
    case 2:
        return _("Phase 2");
    default:
        return _("Phase 3");
    }
}

const char *lpt_phase_card_slot_expert(int slot)
{
    switch (lpt_phase_slots[CLAMP(slot, 0, LPT_N_PHASE_SLOTS - 1)].expert) {
    case LPT_STORE_EXPERT_VISION:
        return _("Vision expert");
    case LPT_STORE_EXPERT_VL:
        return _("Vision-language expert");
    default:
        return _("Scorer (mixture of experts)");
    }
}

static const char *state_icon_name(LptPhaseCardState state)
{
    switch (state) {
    case LPT_PHASE_CARD_ABSENT:
        return "action-unavailable-symbolic";
    case LPT_PHASE_CARD_NOT_STARTED:
        return "radio-symbolic";
    case LPT_PHASE_CARD_WAITING:
        return "content-loading-symbolic";
    case LPT_PHASE_CARD_RUNNING:
        return "media-playback-start-symbolic";
    case LPT_PHASE_CARD_DONE:
        return "emblem-ok-symbolic";
    case LPT_PHASE_CARD_INTERRUPTED:
        return "media-playback-pause-symbolic";
    case LPT_PHASE_CARD_FAILED:
        return "dialog-error-symbolic";
    }
    return "radio-symbolic";
}

static const char *const state_classes[] = {"success", "warning", "error", "accent"};

static const char *state_class(LptPhaseCardState state)
{
    switch (state) {
    case LPT_PHASE_CARD_DONE:
        return "success";
    case LPT_PHASE_CARD_INTERRUPTED:
        return "warning";
    case LPT_PHASE_CARD_FAILED:
        return "error";
    case LPT_PHASE_CARD_RUNNING:
        return "accent";
    default:
        return NULL;
    }
}

/* "Epoch 2 of 4" and the like under the bar, for a state that is not running. */
static char *detail_text(LptPhaseCardState state, const LptPhaseState *f, const char *message)
{
    if (state == LPT_PHASE_CARD_ABSENT)
        return g_strdup("");
    if (message != NULL && state != LPT_PHASE_CARD_FAILED)
        return g_strdup(message);
    /* Translators: epochs of a training phase done, as in "2 of 10 epochs" */
    return g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%d of %d epoch", "%d of %d epochs",
                                       (gulong)MAX(f->epochs, 0)),
                           f->epochs_done, f->epochs);
}

static char *state_text(LptPhaseCardState state, const LptPhaseState *f, const char *message)
{
    switch (state) {
    case LPT_PHASE_CARD_ABSENT:
        return g_strdup(_("Not in this run"));
    case LPT_PHASE_CARD_NOT_STARTED:
        return g_strdup(_("Not started"));
    case LPT_PHASE_CARD_WAITING:
        return g_strdup(_("Waiting for the phases before"));
    case LPT_PHASE_CARD_RUNNING:
        return g_strdup(_("Training…"));
    case LPT_PHASE_CARD_DONE:
        if (!isnan(f->best_metric))
            /* Translators: a finished phase and its best validation balanced accuracy */
            return g_strdup_printf(_("Done · best balanced accuracy %.1f %%"),
                                   100.0 * f->best_metric);
        return g_strdup(_("Done"));
    case LPT_PHASE_CARD_INTERRUPTED:
        return g_strdup_printf(_("Interrupted after epoch %d of %d"), f->epochs_done, f->epochs);
    case LPT_PHASE_CARD_FAILED:
        /* Translators: a phase whose training failed, and the reason */
        return g_strdup_printf(_("Failed: %s"), message != NULL ? message : "");
    }
    return g_strdup("");
}

void lpt_phase_card_set_state(LptPhaseCard *self, LptPhaseCardState state,
                              const LptPhaseState *figures, const char *message, gboolean can_start)
{
    g_return_if_fail(LPT_IS_PHASE_CARD(self));
    g_return_if_fail(figures != NULL);

    if (self->state_text != NULL && state == self->state && can_start == self->can_start &&
        g_strcmp0(message, self->message) == 0 &&
        memcmp(figures, &self->figures, sizeof *figures) == 0)
        return;
    self->figures = *figures;
    g_free(self->message);
    self->message = g_strdup(message);
    self->can_start = can_start;
    self->state = state;
    g_free(self->state_text);
    self->state_text = state_text(state, figures, message);
    gtk_label_set_text(self->state_label, self->state_text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->state_label),
                                state == LPT_PHASE_CARD_FAILED ? self->state_text : NULL);
    gtk_image_set_from_icon_name(self->state_icon, state_icon_name(state));
    for (gsize i = 0; i < G_N_ELEMENTS(state_classes); i++)
        gtk_widget_remove_css_class(GTK_WIDGET(self->state_icon), state_classes[i]);
    if (state_class(state) != NULL)
        gtk_widget_add_css_class(GTK_WIDGET(self->state_icon), state_class(state));

    if (state != LPT_PHASE_CARD_RUNNING) {
        g_autofree char *detail = detail_text(state, figures, message);
        gtk_inscription_set_text(self->detail_label, detail);
        double fraction =
            figures->epochs > 0 ? (double)figures->epochs_done / figures->epochs : 0.0;
        gtk_progress_bar_set_fraction(
            self->progress_bar, state == LPT_PHASE_CARD_DONE ? 1.0 : CLAMP(fraction, 0.0, 1.0));
    }
    gtk_widget_set_visible(GTK_WIDGET(self->progress_bar), state != LPT_PHASE_CARD_ABSENT);

    gboolean resumable = figures->epochs_done > 0;
    gboolean startable = state == LPT_PHASE_CARD_NOT_STARTED ||
                         state == LPT_PHASE_CARD_INTERRUPTED || state == LPT_PHASE_CARD_FAILED;
    gtk_button_set_label(GTK_BUTTON(self->start_button), resumable ? _("_Resume") : _("_Start"));
    gtk_widget_set_visible(self->start_button, startable);
    gtk_widget_set_sensitive(self->start_button, can_start);
    gtk_widget_set_visible(self->stop_button, state == LPT_PHASE_CARD_RUNNING);
    if (state == LPT_PHASE_CARD_ABSENT)
        gtk_widget_add_css_class(GTK_WIDGET(self), "absent");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self), "absent");
}

LptPhaseCardState lpt_phase_card_get_state(LptPhaseCard *self)
{
    g_return_val_if_fail(LPT_IS_PHASE_CARD(self), LPT_PHASE_CARD_ABSENT);
    return self->state;
}

const char *lpt_phase_card_get_state_text(LptPhaseCard *self)
{
    g_return_val_if_fail(LPT_IS_PHASE_CARD(self), NULL);
    return self->state_text;
}

void lpt_phase_card_set_progress(LptPhaseCard *self, double fraction, const char *text)
{
    g_return_if_fail(LPT_IS_PHASE_CARD(self));
    gtk_progress_bar_set_fraction(self->progress_bar, CLAMP(fraction, 0.0, 1.0));
    gtk_inscription_set_text(self->detail_label, text != NULL ? text : "");
}

double lpt_phase_card_get_fraction(LptPhaseCard *self)
{
    g_return_val_if_fail(LPT_IS_PHASE_CARD(self), 0.0);
    return gtk_progress_bar_get_fraction(self->progress_bar);
}

void lpt_phase_card_set_selected(LptPhaseCard *self, gboolean selected)
{
    g_return_if_fail(LPT_IS_PHASE_CARD(self));
    if (selected)
        gtk_widget_add_css_class(GTK_WIDGET(self), "selected");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self), "selected");
}

int lpt_phase_card_get_slot(LptPhaseCard *self)
{
    g_return_val_if_fail(LPT_IS_PHASE_CARD(self), -1);
    return self->slot;
}

static void on_start_clicked(GtkButton *button, LptPhaseCard *self)
{
    g_signal_emit(self, signals[SIGNAL_START], 0);
}

static void on_stop_clicked(GtkButton *button, LptPhaseCard *self)
{
    g_signal_emit(self, signals[SIGNAL_STOP], 0);
}

static void on_card_clicked(GtkGestureClick *gesture, int n_press, double x, double y,
                            LptPhaseCard *self)
{
    g_signal_emit(self, signals[SIGNAL_SELECT], 0);
}

static void lpt_phase_card_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec)
{
    LptPhaseCard *self = LPT_PHASE_CARD(object);
    switch (prop_id) {
    case PROP_SLOT:
        self->slot = g_value_get_int(value);
        gtk_label_set_text(self->title_label, lpt_phase_card_slot_title(self->slot));
        gtk_label_set_text(self->expert_label, lpt_phase_card_slot_expert(self->slot));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_phase_card_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec)
{
    LptPhaseCard *self = LPT_PHASE_CARD(object);
    switch (prop_id) {
    case PROP_SLOT:
        g_value_set_int(value, self->slot);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void lpt_phase_card_dispose(GObject *object)
{
    gtk_widget_dispose_template(GTK_WIDGET(object), LPT_TYPE_PHASE_CARD);
    G_OBJECT_CLASS(lpt_phase_card_parent_class)->dispose(object);
}

static void lpt_phase_card_finalize(GObject *object)
{
    g_free(LPT_PHASE_CARD(object)->state_text);
    g_free(LPT_PHASE_CARD(object)->message);
    G_OBJECT_CLASS(lpt_phase_card_parent_class)->finalize(object);
}

static void lpt_phase_card_class_init(LptPhaseCardClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->set_property = lpt_phase_card_set_property;
    object_class->get_property = lpt_phase_card_get_property;
    object_class->dispose = lpt_phase_card_dispose;
    object_class->finalize = lpt_phase_card_finalize;

    properties[PROP_SLOT] =
        g_param_spec_int("slot", NULL, NULL, 0, LPT_N_PHASE_SLOTS - 1, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    /** LptPhaseCard::start: Start or Resume was clicked. */
    signals[SIGNAL_START] = g_signal_new("start", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
    /** LptPhaseCard::stop: Stop was clicked. */
    signals[SIGNAL_STOP] = g_signal_new("stop", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
    /** LptPhaseCard::select: the card was clicked (show its curves). */
    signals[SIGNAL_SELECT] = g_signal_new("select", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 0);

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_phase_card.ui");
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, title_label);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, expert_label);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, state_icon);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, state_label);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, progress_bar);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, detail_label);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, start_button);
    gtk_widget_class_bind_template_child(widget_class, LptPhaseCard, stop_button);
    gtk_widget_class_bind_template_callback(widget_class, on_start_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_stop_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_card_clicked);
    gtk_widget_class_set_css_name(widget_class, "phasecard");
}

static void lpt_phase_card_init(LptPhaseCard *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    LptPhaseState none;
    memset(&none, 0, sizeof none); /* compared bytewise: no stray padding */
    none.best_metric = NAN;
    lpt_phase_card_set_state(self, LPT_PHASE_CARD_ABSENT, &none, NULL, FALSE);
}

GtkWidget *lpt_phase_card_new(int slot)
{
    return g_object_new(LPT_TYPE_PHASE_CARD, "slot", slot, NULL);
}

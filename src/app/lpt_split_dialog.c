/* lpt_split_dialog.c: the split settings dialog (see the header). */
#include "lpt_split_dialog.h"

#include <math.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

/* The spin buttons' ranges (as in lpt_split_dialog.ui). */
#define MAX_MIN_PER_CLASS 1000
#define MAX_SEED 4294967295.0 /* 2^32 - 1 */

struct _LptSplitDialog {
    AdwMessageDialog parent_instance;

    /* template widgets */
    GtkSpinButton *val_spin;
    GtkSpinButton *test_spin;
    GtkLabel *train_label;
    GtkSpinButton *min_spin;
    GtkSpinButton *seed_spin;
};

G_DEFINE_FINAL_TYPE(LptSplitDialog, lpt_split_dialog, ADW_TYPE_MESSAGE_DIALOG)

/* Validation and test together take at most 100 %; training shows the rest. */
static void on_percent_changed(GtkSpinButton *spin, gpointer user_data)
{
    LptSplitDialog *self = LPT_SPLIT_DIALOG(user_data);
    double val = gtk_spin_button_get_value(self->val_spin);
    double test = gtk_spin_button_get_value(self->test_spin);

    gtk_adjustment_set_upper(gtk_spin_button_get_adjustment(self->val_spin), 100.0 - test);
    gtk_adjustment_set_upper(gtk_spin_button_get_adjustment(self->test_spin), 100.0 - val);
    /* Translators: a percentage, as in "80 %" */
    g_autofree char *text = g_strdup_printf(_("%.1f %%"), MAX(100.0 - val - test, 0.0));
    gtk_label_set_text(self->train_label, text);
}

void lpt_split_dialog_set_config(LptSplitDialog *self, const LptSplitConfig *cfg)
{
    g_return_if_fail(LPT_IS_SPLIT_DIALOG(self));
    g_return_if_fail(cfg != NULL);

    double val = CLAMP(round(cfg->val_fraction * 1000.0) / 10.0, 0.0, 100.0);
    double test = CLAMP(round(cfg->test_fraction * 1000.0) / 10.0, 0.0, 100.0 - val);
    /* Open the ranges first, so that neither value is clamped by the other's old one. */
    gtk_adjustment_set_upper(gtk_spin_button_get_adjustment(self->val_spin), 100.0);
    gtk_adjustment_set_upper(gtk_spin_button_get_adjustment(self->test_spin), 100.0);
    gtk_spin_button_set_value(self->val_spin, val);
    gtk_spin_button_set_value(self->test_spin, test);
    gtk_spin_button_set_value(self->min_spin, CLAMP(cfg->min_per_class, 0, MAX_MIN_PER_CLASS));
    gtk_spin_button_set_value(self->seed_spin, MIN((double)cfg->seed, MAX_SEED));
    on_percent_changed(self->val_spin, self);
}

void lpt_split_dialog_get_config(LptSplitDialog *self, LptSplitConfig *cfg)
{
    g_return_if_fail(LPT_IS_SPLIT_DIALOG(self));
    g_return_if_fail(cfg != NULL);

    lpt_split_config_default(cfg);
    cfg->val_fraction = gtk_spin_button_get_value(self->val_spin) / 100.0;
    cfg->test_fraction = gtk_spin_button_get_value(self->test_spin) / 100.0;
    cfg->train_fraction = MAX(1.0 - cfg->val_fraction - cfg->test_fraction, 0.0);
    cfg->min_per_class = gtk_spin_button_get_value_as_int(self->min_spin);
    cfg->seed = (uint64_t)gtk_spin_button_get_value(self->seed_spin);
}

static void lpt_split_dialog_class_init(LptSplitDialogClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_split_dialog.ui");
    gtk_widget_class_bind_template_child(widget_class, LptSplitDialog, val_spin);
    gtk_widget_class_bind_template_child(widget_class, LptSplitDialog, test_spin);
    gtk_widget_class_bind_template_child(widget_class, LptSplitDialog, train_label);
    gtk_widget_class_bind_template_child(widget_class, LptSplitDialog, min_spin);
    gtk_widget_class_bind_template_child(widget_class, LptSplitDialog, seed_spin);
    gtk_widget_class_bind_template_callback(widget_class, on_percent_changed);
}

static void lpt_split_dialog_init(LptSplitDialog *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

GtkWidget *lpt_split_dialog_new(GtkWindow *parent, const LptSplitConfig *cfg)
{
    LptSplitDialog *self = g_object_new(LPT_TYPE_SPLIT_DIALOG, "transient-for", parent, NULL);
    lpt_split_dialog_set_config(self, cfg);
    return GTK_WIDGET(self);
}

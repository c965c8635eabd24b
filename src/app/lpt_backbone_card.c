/* lpt_backbone_card.c: one expert's backbone (see the header). The rows are made in code:
 * the file, the status, then one row per architecture figure (hidden until the file
 * loads). */
#include "lpt_backbone_card.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"

enum {
    ARCH_NAMING,
    ARCH_DEPTH,
    ARCH_WIDTH,
    ARCH_HEADS,
    ARCH_MLP,
    ARCH_PATCH,
    ARCH_IMAGE,
    ARCH_FEATURE,
    ARCH_PARAMS,
    N_ARCH
};

struct _LptBackboneCard {
    AdwPreferencesGroup parent_instance;

    /* owned by the group */
    AdwActionRow *file_row;
    GtkWidget *file_icon;
    AdwActionRow *status_row;
    GtkWidget *status_icon;
    GtkWidget *spinner;
    AdwActionRow *arch_rows[N_ARCH];
    GtkLabel *arch_values[N_ARCH];
    GtkWidget *choose_button;

    /* owned */
    LptStoreExpert role;
    LptBackboneCardState state;
    char *status_text;
};

G_DEFINE_FINAL_TYPE(LptBackboneCard, lpt_backbone_card, ADW_TYPE_PREFERENCES_GROUP)

static const char *arch_title(int row)
{
    switch (row) {
    case ARCH_NAMING:
        return _("Format");
    case ARCH_DEPTH:
        return _("Depth");
    case ARCH_WIDTH:
        return _("Width");
    case ARCH_HEADS:
        return _("Attention heads");
    case ARCH_MLP:
        return _("MLP width");
    case ARCH_PATCH:
        return _("Patch size");
    case ARCH_IMAGE:
        return _("Image size");
    case ARCH_FEATURE:
        return _("Feature width");
    case ARCH_PARAMS:
        return _("Parameters");
    }
    return "";
}

static void set_status(LptBackboneCard *self, LptBackboneCardState state, const char *title,
                       const char *text, const char *icon, const char *css_class)
{
    static const char *const classes[] = {"success", "error", "warning"};
    self->state = state;
    g_free(self->status_text);
    self->status_text = g_strdup(text);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->status_row), title);
    adw_action_row_set_subtitle(self->status_row, text);
    gtk_image_set_from_icon_name(GTK_IMAGE(self->status_icon), icon);
    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++)
        gtk_widget_remove_css_class(self->status_icon, classes[i]);
    if (css_class != NULL)
        gtk_widget_add_css_class(self->status_icon, css_class);
    gtk_widget_set_visible(self->status_icon, state != LPT_BACKBONE_CARD_CHECKING);
    gtk_widget_set_visible(self->spinner, state == LPT_BACKBONE_CARD_CHECKING);
    gtk_spinner_set_spinning(GTK_SPINNER(self->spinner), state == LPT_BACKBONE_CARD_CHECKING);
    gtk_widget_set_visible(GTK_WIDGET(self->status_row), state != LPT_BACKBONE_CARD_NONE);
    for (int i = 0; i < N_ARCH; i++)
        gtk_widget_set_visible(GTK_WIDGET(self->arch_rows[i]), state == LPT_BACKBONE_CARD_LOADS);
}

void lpt_backbone_card_show_none(LptBackboneCard *self)
{
    g_return_if_fail(LPT_IS_BACKBONE_CARD(self));
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->file_row), _("No weight file yet"));
    adw_action_row_set_subtitle(
        self->file_row, self->role == LPT_STORE_EXPERT_VISION
                            ? _("A ViT as safetensors: Hugging Face, timm or torchvision")
                            : _("A CLIP image tower as safetensors: Hugging Face or OpenCLIP"));
    set_status(self, LPT_BACKBONE_CARD_NONE, "", "", "radio-symbolic", NULL);
}

void lpt_backbone_card_show_checking(LptBackboneCard *self, const char *name, const char *path)
{
    g_return_if_fail(LPT_IS_BACKBONE_CARD(self));
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->file_row), name);
    adw_action_row_set_subtitle(self->file_row, path);
    set_status(self, LPT_BACKBONE_CARD_CHECKING, _("Checking…"),
               _("Reading the tensors and loading them as training will"), "radio-symbolic", NULL);
}

void lpt_backbone_card_show_details(LptBackboneCard *self, const LptBackboneDetails *d)
{
    g_return_if_fail(LPT_IS_BACKBONE_CARD(self));
    g_return_if_fail(d != NULL);

    g_autofree char *status = g_strdup_printf(
        /* Translators: a backbone that loads: "152 of 152 tensors used, loaded in 230 ms" */
        g_dngettext(GETTEXT_PACKAGE, "%d of %d tensor used, loaded in %.0f ms",
                    "%d of %d tensors used, loaded in %.0f ms", (gulong)d->tensors),
        d->tensors_used, d->tensors, 1e3 * d->load_seconds);
    set_status(self, LPT_BACKBONE_CARD_LOADS, _("Loads"), status, "emblem-ok-symbolic", "success");

    g_autofree char *values[N_ARCH] = {NULL};
    values[ARCH_NAMING] =
        d->prefix[0] != '\0'
            /* Translators: a weight file's naming and the prefix of its tensor names */
            ? g_strdup_printf(_("%s (names under “%s”)"), lpt_weights_naming_title(d->naming),
                              d->prefix)
            : g_strdup(lpt_weights_naming_title(d->naming));
    values[ARCH_DEPTH] = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "%d block", "%d blocks", (gulong)d->vit.depth), d->vit.depth);
    values[ARCH_WIDTH] = g_strdup_printf("%d", d->vit.width);
    values[ARCH_HEADS] = g_strdup_printf("%d", d->vit.heads);
    values[ARCH_MLP] = g_strdup_printf("%d", d->vit.mlp);
    /* Translators: a size in pixels, as in "16 × 16 px" */
    values[ARCH_PATCH] = g_strdup_printf(_("%d × %d px"), d->vit.patch, d->vit.patch);
    values[ARCH_IMAGE] = g_strdup_printf(_("%d × %d px"), d->vit.image, d->vit.image);
    values[ARCH_FEATURE] = g_strdup_printf("%d", lpt_backbone_details_feature_width(d));
    /* Translators: a parameter count in millions, as in "86.4 M" or "0.82 M" */
    values[ARCH_PARAMS] =
        g_strdup_printf(_("%.*f M"), d->params >= 10000000 ? 1 : 2, d->params / 1e6);
    for (int i = 0; i < N_ARCH; i++)
        gtk_label_set_text(self->arch_values[i], values[i]);

    adw_action_row_set_subtitle(self->arch_rows[ARCH_HEADS], d->heads_from);
    adw_action_row_set_subtitle(
        self->arch_rows[ARCH_FEATURE],
        d->vit.clip_style ? (d->identity_proj ? _("CLIP-style tower, no projection in the file")
                                              : _("CLIP-style tower, after its projection"))
                          : _("The class token after the final LayerNorm"));
    adw_action_row_set_subtitle(self->arch_rows[ARCH_NAMING],
                                d->config_path != NULL ? d->config_path
                                                       : _("No config file beside the weights"));
}

void lpt_backbone_card_show_error(LptBackboneCard *self, const char *message)
{
    g_return_if_fail(LPT_IS_BACKBONE_CARD(self));
    set_status(self, LPT_BACKBONE_CARD_FAILED, _("Does not load"), message, "dialog-error-symbolic",
               "error");
}

LptBackboneCardState lpt_backbone_card_get_state(LptBackboneCard *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONE_CARD(self), LPT_BACKBONE_CARD_NONE);
    return self->state;
}

const char *lpt_backbone_card_get_status_text(LptBackboneCard *self)
{
    g_return_val_if_fail(LPT_IS_BACKBONE_CARD(self), NULL);
    return self->status_text;
}

static AdwActionRow *new_row(LptBackboneCard *self)
{
    AdwActionRow *row = ADW_ACTION_ROW(adw_action_row_new());
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_group_add(ADW_PREFERENCES_GROUP(self), GTK_WIDGET(row));
    return row;
}

static void build_rows(LptBackboneCard *self)
{
    self->file_row = new_row(self);
    adw_action_row_set_subtitle_lines(self->file_row, 2);
    self->file_icon = gtk_image_new_from_icon_name("package-x-generic-symbolic");
    adw_action_row_add_prefix(self->file_row, self->file_icon);

    self->status_row = new_row(self);
    adw_action_row_set_subtitle_lines(self->status_row, 6);
    self->status_icon = gtk_image_new();
    self->spinner = gtk_spinner_new();
    adw_action_row_add_prefix(self->status_row, self->status_icon);
    adw_action_row_add_prefix(self->status_row, self->spinner);

    for (int i = 0; i < N_ARCH; i++) {
        self->arch_rows[i] = new_row(self);
        adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->arch_rows[i]), arch_title(i));
        GtkWidget *value = gtk_label_new(NULL);
        gtk_label_set_selectable(GTK_LABEL(value), TRUE);
        gtk_label_set_ellipsize(GTK_LABEL(value), PANGO_ELLIPSIZE_END);
        gtk_widget_add_css_class(value, "numeric");
        adw_action_row_add_suffix(self->arch_rows[i], value);
        self->arch_values[i] = GTK_LABEL(value);
    }

    self->choose_button = gtk_button_new_with_mnemonic(_("_Choose File…"));
    gtk_widget_set_valign(self->choose_button, GTK_ALIGN_CENTER);
    adw_preferences_group_set_header_suffix(ADW_PREFERENCES_GROUP(self), self->choose_button);
}

static void lpt_backbone_card_finalize(GObject *object)
{
    g_free(LPT_BACKBONE_CARD(object)->status_text);
    G_OBJECT_CLASS(lpt_backbone_card_parent_class)->finalize(object);
}

static void lpt_backbone_card_class_init(LptBackboneCardClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = lpt_backbone_card_finalize;
}

static void lpt_backbone_card_init(LptBackboneCard *self)
{
    build_rows(self);
}

GtkWidget *lpt_backbone_card_new(LptStoreExpert role)
{
    g_return_val_if_fail(role == LPT_STORE_EXPERT_VISION || role == LPT_STORE_EXPERT_VL, NULL);
    LptBackboneCard *self = g_object_new(LPT_TYPE_BACKBONE_CARD, NULL);
    self->role = role;
    gboolean vision = role == LPT_STORE_EXPERT_VISION;
    adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(self),
                                    vision ? _("Vision Expert") : _("Vision-Language Expert"));
    adw_preferences_group_set_description(
        ADW_PREFERENCES_GROUP(self),
        vision ? _("A pretrained ViT, such as ViT-B/16 from ImageNet-21k")
               : _("The image tower of a CLIP model, such as CLIP ViT-B/16; the class names "
                   "are its text"));
    gtk_actionable_set_action_name(GTK_ACTIONABLE(self->choose_button), "backbones.choose");
    gtk_actionable_set_action_target(GTK_ACTIONABLE(self->choose_button), "s",
                                     lpt_store_expert_name(role));
    lpt_backbone_card_show_none(self);
    return GTK_WIDGET(self);
}

/* lpt_relabel_popover.c: moving images to another class (see the header). */
#include "lpt_relabel_popover.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"

struct _LptRelabelPopover {
    GtkPopover parent_instance;

    /* template widgets */
    GtkEntry *entry;
    GtkListView *list;
    GtkLabel *hint;

    /* owned */
    GtkStringList *names;
    GtkStringFilter *filter;
    GtkSingleSelection *selection; /* over the filtered names */
};

G_DEFINE_FINAL_TYPE(LptRelabelPopover, lpt_relabel_popover, GTK_TYPE_POPOVER)

enum { SIGNAL_RELABEL, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The entry's text without blanks around it (a new string). */
static char *typed_name(LptRelabelPopover *self)
{
    return g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->entry))));
}

char *lpt_relabel_popover_get_choice(LptRelabelPopover *self)
{
    g_return_val_if_fail(LPT_IS_RELABEL_POPOVER(self), NULL);

    g_autofree char *typed = typed_name(self);
    if (typed[0] == '\0')
        return NULL;
    GtkStringObject *selected = gtk_single_selection_get_selected_item(self->selection);
    if (selected != NULL)
        return g_strdup(gtk_string_object_get_string(selected));
    return g_steal_pointer(&typed);
}

static void update_hint(LptRelabelPopover *self)
{
    g_autofree char *choice = lpt_relabel_popover_get_choice(self);
    g_autofree char *text = NULL;
    if (choice == NULL)
        text = g_strdup(_("Type the name of a class"));
    else if (gtk_single_selection_get_selected_item(self->selection) != NULL)
        /* Translators: the hint under the class list of the relabel popover */
        text = g_strdup_printf(_("Enter moves the images to “%s”"), choice);
    else
        text =
            g_strdup_printf(_("Enter creates the class “%s” and moves the images there"), choice);
    gtk_label_set_text(self->hint, text);
}

/* Brings the class at position into view (GTK 4.8 has no gtk_list_view_scroll_to). */
static void scroll_to(LptRelabelPopover *self, guint position)
{
    gtk_widget_activate_action(GTK_WIDGET(self->list), "list.scroll-to-item", "u", position);
}

/* Filters the classes by the typed text and selects the best match. */
static void on_entry_changed(GtkEditable *editable, gpointer user_data)
{
    LptRelabelPopover *self = LPT_RELABEL_POPOVER(user_data);
    g_autofree char *typed = typed_name(self);

    gtk_string_filter_set_search(self->filter, typed);
    GListModel *model = G_LIST_MODEL(self->selection);
    guint n = g_list_model_get_n_items(model), best = n > 0 ? 0 : GTK_INVALID_LIST_POSITION;
    for (guint i = 0; i < n; i++) {
        g_autoptr(GtkStringObject) name = g_list_model_get_item(model, i);
        if (g_utf8_collate(gtk_string_object_get_string(name), typed) == 0) {
            best = i;
            break;
        }
    }
    gtk_single_selection_set_selected(self->selection, best);
    if (best != GTK_INVALID_LIST_POSITION)
        scroll_to(self, best);
    update_hint(self);
}

static void choose(LptRelabelPopover *self)
{
    g_autofree char *choice = lpt_relabel_popover_get_choice(self);
    if (choice == NULL)
        return;
    gtk_popover_popdown(GTK_POPOVER(self));
    g_signal_emit(self, signals[SIGNAL_RELABEL], 0, choice);
}

static void on_entry_activate(GtkEntry *entry, gpointer user_data)
{
    choose(LPT_RELABEL_POPOVER(user_data));
}

static void on_list_activate(GtkListView *list, guint position, gpointer user_data)
{
    LptRelabelPopover *self = LPT_RELABEL_POPOVER(user_data);
    gtk_single_selection_set_selected(self->selection, position);
    choose(self);
}

/* Up and Down in the entry move through the classes. */
static gboolean on_entry_key(GtkEventControllerKey *controller, guint keyval, guint keycode,
                             GdkModifierType state, gpointer user_data)
{
    LptRelabelPopover *self = LPT_RELABEL_POPOVER(user_data);
    int step = keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down ? 1
               : keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up   ? -1
                                                                   : 0;
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->selection));
    if (step == 0 || n == 0)
        return FALSE;
    guint selected = gtk_single_selection_get_selected(self->selection);
    guint next = selected == GTK_INVALID_LIST_POSITION ? 0
                 : step > 0                            ? MIN(selected + 1, n - 1)
                 : selected > 0                        ? selected - 1
                                                       : 0;
    gtk_single_selection_set_selected(self->selection, next);
    scroll_to(self, next);
    update_hint(self);
    return TRUE;
}

static void setup_row(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0.0f);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_list_item_set_child(item, label);
}

static void bind_row(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
    GtkStringObject *name = gtk_list_item_get_item(item);
    gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)),
                       gtk_string_object_get_string(name));
}

static gint compare_names(gconstpointer a, gconstpointer b, gpointer user_data)
{
    return g_utf8_collate(*(const char *const *)a, *(const char *const *)b);
}

void lpt_relabel_popover_set_classes(LptRelabelPopover *self, const char *const *names,
                                     const char *current)
{
    g_return_if_fail(LPT_IS_RELABEL_POPOVER(self));

    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    for (; names != NULL && *names != NULL; names++)
        if (current == NULL || !g_str_equal(*names, current))
            g_strv_builder_add(builder, *names);
    g_auto(GStrv) kept = g_strv_builder_end(builder);
    g_qsort_with_data(kept, (gint)g_strv_length(kept), sizeof *kept, compare_names, NULL);
    gtk_string_list_splice(self->names, 0, g_list_model_get_n_items(G_LIST_MODEL(self->names)),
                           (const char *const *)kept);
    on_entry_changed(GTK_EDITABLE(self->entry), self);
}

void lpt_relabel_popover_start(LptRelabelPopover *self, const char *text)
{
    g_return_if_fail(LPT_IS_RELABEL_POPOVER(self));

    gtk_editable_set_text(GTK_EDITABLE(self->entry), text != NULL ? text : "");
    gtk_popover_popup(GTK_POPOVER(self));
    gtk_widget_grab_focus(GTK_WIDGET(self->entry));
    gtk_editable_set_position(GTK_EDITABLE(self->entry), -1);
}

gboolean lpt_relabel_popover_key_text(guint keyval, GdkModifierType state, char text[8])
{
    gunichar c = gdk_keyval_to_unicode(keyval);
    if (c == 0 || !g_unichar_isgraph(c) ||
        (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK)) != 0)
        return FALSE;
    memset(text, 0, 8);
    g_unichar_to_utf8(c, text);
    return TRUE;
}

GtkEditable *lpt_relabel_popover_get_entry(LptRelabelPopover *self)
{
    g_return_val_if_fail(LPT_IS_RELABEL_POPOVER(self), NULL);
    return GTK_EDITABLE(self->entry);
}

static void lpt_relabel_popover_dispose(GObject *object)
{
    LptRelabelPopover *self = LPT_RELABEL_POPOVER(object);

    if (self->list != NULL)
        gtk_list_view_set_model(self->list, NULL);
    g_clear_object(&self->selection);
    g_clear_object(&self->filter);
    g_clear_object(&self->names);
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_RELABEL_POPOVER);

    G_OBJECT_CLASS(lpt_relabel_popover_parent_class)->dispose(object);
}

static void lpt_relabel_popover_class_init(LptRelabelPopoverClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_relabel_popover_dispose;

    /**
     * LptRelabelPopover::relabel:
     * @name: the class chosen, or the name of a class to create
     */
    signals[SIGNAL_RELABEL] = g_signal_new("relabel", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_relabel_popover.ui");
    gtk_widget_class_bind_template_child(widget_class, LptRelabelPopover, entry);
    gtk_widget_class_bind_template_child(widget_class, LptRelabelPopover, list);
    gtk_widget_class_bind_template_child(widget_class, LptRelabelPopover, hint);
    gtk_widget_class_bind_template_callback(widget_class, on_entry_changed);
    gtk_widget_class_bind_template_callback(widget_class, on_entry_activate);
    gtk_widget_class_bind_template_callback(widget_class, on_entry_key);
    gtk_widget_class_bind_template_callback(widget_class, on_list_activate);
    gtk_widget_class_bind_template_callback(widget_class, setup_row);
    gtk_widget_class_bind_template_callback(widget_class, bind_row);
}

static void lpt_relabel_popover_init(LptRelabelPopover *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));

    self->names = gtk_string_list_new(NULL);
    self->filter =
        gtk_string_filter_new(gtk_property_expression_new(GTK_TYPE_STRING_OBJECT, NULL, "string"));
    gtk_string_filter_set_match_mode(self->filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
    gtk_string_filter_set_ignore_case(self->filter, TRUE);
    GtkFilterListModel *filtered = gtk_filter_list_model_new(
        g_object_ref(G_LIST_MODEL(self->names)), g_object_ref(GTK_FILTER(self->filter)));
    self->selection = gtk_single_selection_new(G_LIST_MODEL(filtered));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    gtk_list_view_set_model(self->list, GTK_SELECTION_MODEL(self->selection));
    update_hint(self);
}

GtkWidget *lpt_relabel_popover_new(void)
{
    return g_object_new(LPT_TYPE_RELABEL_POPOVER, NULL);
}

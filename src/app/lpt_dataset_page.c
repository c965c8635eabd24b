/* lpt_dataset_page.c: the Dataset page (see the header).
 *
 * Layout (lpt_dataset_page.ui): an import bar (revealed while importing) over a stack of
 * "empty" (a status page with the three import buttons) and "classes": a paned with the
 * summary, the chart and the class table on the left, and on the right either the images of
 * the class selected in the table (LptClassImages) or the warnings and the last import's
 * report (hidden when there is none of these).
 */
#include "lpt_dataset_page.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_class_row.h"
#include "lpt_import_job.h"
#include "lpt_split_dialog.h"

#define REPORT_MAX_ROWS 200 /* files listed per kind of problem; the rest are counted */

struct _LptDatasetPage {
    AdwBin parent_instance;

    /* template widgets */
    GtkRevealer *import_revealer;
    GtkLabel *import_label;
    GtkLabel *import_file_label;
    GtkProgressBar *import_progress;
    GtkStack *stack;
    GtkLabel *summary_title;
    GtkLabel *summary_subtitle;
    LptLongTailChart *chart;
    GtkColumnView *class_view;
    GtkColumnViewColumn *images_column;
    GtkStack *side_stack;
    LptClassImages *class_images;
    GtkWidget *warnings_box;
    GtkListBox *warnings_list;
    GtkWidget *report_box;
    GtkListBox *report_list;

    /* borrowed */
    AdwToastOverlay *toast_overlay; /* the page's child, owned by AdwBin; NULL once disposed */

    /* owned */
    LptProject *project;
    gulong changed_id;
    GListStore *class_store;      /* LptClassRow, by class id */
    GtkSortListModel *class_sort; /* class_store in the table's order */
    GtkSingleSelection *class_selection; /* over class_sort: the class whose images show */
    gboolean restoring;                  /* a reload puts the selection back: ignore it */
    gboolean resplitting;                /* a re-split runs */
    GSettings *settings;
    LptImportJob *job; /* the running import, NULL when none */
    GCancellable *cancellable;
    GtkFileChooserNative *chooser; /* the open file chooser, NULL when none */
    LptImportSourceKind chooser_kind;
    LptImportReport *last_report;
    GError *last_error;
    guint n_warnings;
};

G_DEFINE_FINAL_TYPE(LptDatasetPage, lpt_dataset_page, ADW_TYPE_BIN)

/* The n of ngettext for a 64-bit count. */
static gulong plural_n(gint64 count)
{
    return (gulong)CLAMP(count, 0, G_MAXLONG);
}

static void show_toast(LptDatasetPage *self, const char *text)
{
    if (self->toast_overlay != NULL)
        adw_toast_overlay_add_toast(self->toast_overlay, adw_toast_new(text));
}

static void show_error_dialog(LptDatasetPage *self, const char *heading, const char *body)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkWidget *dialog =
        adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, heading, body);
    adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
    gtk_window_present(GTK_WINDOW(dialog));
}

static void clear_list_box(GtkListBox *list)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))) != NULL)
        gtk_list_box_remove(list, child);
}

/* ---- The class table's cells ---- */

typedef enum { CELL_NAME, CELL_IMAGES, CELL_TRAIN, CELL_VAL, CELL_TEST, CELL_SHARE, CELL_GROUP } CellKind;

static void setup_cell(GtkListItem *item, float xalign, const char *css_class)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), xalign);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    if (css_class != NULL)
        gtk_widget_add_css_class(label, css_class);
    gtk_list_item_set_child(item, label);
}

static void setup_text_cell(GtkSignalListItemFactory *factory, GtkListItem *item,
                            gpointer user_data)
{
    setup_cell(item, 0.0f, NULL);
}

static void setup_number_cell(GtkSignalListItemFactory *factory, GtkListItem *item,
                              gpointer user_data)
{
    setup_cell(item, 1.0f, "numeric");
}

static void setup_group_cell(GtkSignalListItemFactory *factory, GtkListItem *item,
                             gpointer user_data)
{
    setup_cell(item, 0.5f, "group-badge");
    gtk_widget_set_halign(gtk_list_item_get_child(item), GTK_ALIGN_START);
}

static const char *group_label(LptGroup group)
{
    switch (group) {
    case LPT_GROUP_MANY:
        return C_("group", "Many");
    case LPT_GROUP_MEDIUM:
        return C_("group", "Medium");
    case LPT_GROUP_FEW:
        return C_("group", "Few");
    }
    return "";
}

static void bind_cell(GtkListItem *item, CellKind kind)
{
    LptClassRow *row = gtk_list_item_get_item(item);
    GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(item));
    g_autofree char *text = NULL;

    switch (kind) {
    case CELL_NAME:
        gtk_label_set_text(label, lpt_class_row_get_name(row));
        return;
    case CELL_IMAGES:
        text = g_strdup_printf("%lld", (long long)lpt_class_row_get_total(row));
        break;
    case CELL_TRAIN:
    case CELL_VAL:
    case CELL_TEST: {
        LptStoreSplit split = kind == CELL_TRAIN ? LPT_STORE_SPLIT_TRAIN
                              : kind == CELL_VAL ? LPT_STORE_SPLIT_VAL
                                                 : LPT_STORE_SPLIT_TEST;
        gint64 count = lpt_class_row_get_count(row, split);
        text = g_strdup_printf("%lld", (long long)count);
        if (count == 0 && split != LPT_STORE_SPLIT_TRAIN)
            gtk_widget_add_css_class(GTK_WIDGET(label), "warning");
        else
            gtk_widget_remove_css_class(GTK_WIDGET(label), "warning");
        break;
    }
    case CELL_SHARE:
        /* Translators: a class's share of the dataset, as in "12.5 %" */
        text = g_strdup_printf(_("%.1f %%"), 100.0 * lpt_class_row_get_share(row));
        break;
    case CELL_GROUP: {
        static const char *const classes[LPT_GROUP_COUNT] = {"many", "medium", "few"};
        LptGroup group = lpt_class_row_get_group(row);
        for (int g = 0; g < LPT_GROUP_COUNT; g++)
            gtk_widget_remove_css_class(GTK_WIDGET(label), classes[g]);
        gtk_widget_add_css_class(GTK_WIDGET(label), classes[group]);
        gtk_label_set_text(label, group_label(group));
        return;
    }
    }
    gtk_label_set_text(label, text);
}

static void bind_name_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_NAME);
}

static void bind_images_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_IMAGES);
}

static void bind_train_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_TRAIN);
}

static void bind_val_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_VAL);
}

static void bind_test_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_TEST);
}

static void bind_share_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_SHARE);
}

static void bind_group_cell(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    bind_cell(item, CELL_GROUP);
}

/* ---- Warnings ---- */

/* A warning row: title, and the names of the classes concerned (the first few). */
static void add_warning(LptDatasetPage *self, const char *title, GPtrArray *names)
{
    GtkWidget *row = adw_action_row_new();
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    if (names != NULL && names->len > 0) {
        enum { SHOWN = 6 };
        GString *subtitle = g_string_new(NULL);
        for (guint i = 0; i < names->len && i < SHOWN; i++) {
            if (i > 0)
                /* Translators: the separator between class names in a list */
                g_string_append(subtitle, _(", "));
            g_string_append(subtitle, g_ptr_array_index(names, i));
        }
        if (names->len > SHOWN)
            /* Translators: after a list of class names: how many more there are */
            g_string_append_printf(subtitle, _(" and %u more"), names->len - SHOWN);
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle->str);
        g_string_free(subtitle, TRUE);
    }
    adw_action_row_set_subtitle_lines(ADW_ACTION_ROW(row), 3);
    GtkWidget *icon = gtk_image_new_from_icon_name("dialog-warning-symbolic");
    gtk_widget_add_css_class(icon, "warning");
    adw_action_row_add_prefix(ADW_ACTION_ROW(row), icon);
    gtk_list_box_append(self->warnings_list, row);
    self->n_warnings++;
}

/* ---- Loading the project into the page ---- */

static void update_side_panel(LptDatasetPage *self)
{
    gboolean has_report = self->last_report != NULL;
    gboolean has_class = lpt_class_images_get_class_id(self->class_images) != 0;
    gtk_widget_set_visible(self->warnings_box, self->n_warnings > 0);
    gtk_widget_set_visible(self->report_box, has_report);
    gtk_stack_set_visible_child_name(self->side_stack, has_class ? "images" : "overview");
    gtk_widget_set_visible(GTK_WIDGET(self->side_stack),
                           has_class || self->n_warnings > 0 || has_report);
}

/* Shows the images of the class selected in the table, or none. */
static void show_selected_class(LptDatasetPage *self)
{
    LptClassRow *row = gtk_single_selection_get_selected_item(self->class_selection);
    if (row != NULL && self->project != NULL)
        lpt_class_images_set_class(self->class_images, self->project,
                                   lpt_class_row_get_class_id(row), lpt_class_row_get_name(row),
                                   lpt_class_row_get_excluded(row));
    else
        lpt_class_images_set_class(self->class_images, NULL, 0, NULL, 0);
    update_side_panel(self);
}

static void on_class_selected(GtkSingleSelection *selection, GParamSpec *pspec,
                              gpointer user_data)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(user_data);
    if (!self->restoring)
        show_selected_class(self);
}

/* After the rows were made again: selects the class whose images show, if it is still
 * there, and refreshes them; else shows none. */
static void restore_class_selection(LptDatasetPage *self, gint64 class_id)
{
    GListModel *model = G_LIST_MODEL(self->class_sort);
    guint position = GTK_INVALID_LIST_POSITION;
    for (guint i = 0; class_id != 0 && i < g_list_model_get_n_items(model); i++) {
        g_autoptr(LptClassRow) row = g_list_model_get_item(model, i);
        if (lpt_class_row_get_class_id(row) == class_id) {
            position = i;
            break;
        }
    }
    self->restoring = TRUE;
    gtk_single_selection_set_selected(self->class_selection, position);
    self->restoring = FALSE;
    LptClassRow *row = gtk_single_selection_get_selected_item(self->class_selection);
    if (row != NULL)
        lpt_class_images_refresh(self->class_images, lpt_class_row_get_name(row),
                                 lpt_class_row_get_excluded(row));
    else
        lpt_class_images_set_class(self->class_images, NULL, 0, NULL, 0);
}

static void show_classes(LptDatasetPage *self, const LptStoreClass *classes,
                         const LptStoreClassCount *counts, size_t n)
{
    g_autofree gint64 *group_counts = g_new0(gint64, MAX(n, 1));
    g_autofree LptGroup *groups = g_new0(LptGroup, MAX(n, 1));
    g_autofree const char **names = g_new0(const char *, MAX(n, 1));
    gint64 split_totals[LPT_STORE_SPLIT_COUNT] = {0}, total = 0;

    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++) {
            split_totals[s] += counts[i].count[s];
            total += counts[i].count[s];
        }
    gboolean has_split = total > split_totals[LPT_STORE_SPLIT_NONE];

    /* Groups from the training counts; from all images while none is in a split. */
    for (size_t i = 0; i < n; i++) {
        names[i] = classes[i].name;
        if (has_split)
            group_counts[i] = counts[i].count[LPT_STORE_SPLIT_TRAIN];
        else
            for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
                group_counts[i] += counts[i].count[s];
    }
    double ratio = NAN;
    if (n > 0) {
        LptError err = {0};
        if (lpt_split_groups(group_counts, (int32_t)n, NULL, groups, &ratio, &err) != LPT_OK)
            show_toast(self, err.message);
    }

    gint64 shown_class = lpt_class_images_get_class_id(self->class_images);
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_object_unref);
    for (size_t i = 0; i < n; i++) {
        gint64 class_total = 0;
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
            class_total += counts[i].count[s];
        double share = total > 0 ? (double)class_total / (double)total : 0.0;
        g_ptr_array_add(rows, lpt_class_row_new(classes[i].id, classes[i].name,
                                                counts[i].count, counts[i].excluded, share,
                                                groups[i]));
    }
    self->restoring = TRUE;
    g_list_store_splice(self->class_store, 0, g_list_model_get_n_items(G_LIST_MODEL(self->class_store)),
                        rows->pdata, rows->len);
    self->restoring = FALSE;
    restore_class_selection(self, shown_class);

    lpt_long_tail_chart_set_data(self->chart, (guint)n, names, group_counts, groups, NULL, ratio,
                                 has_split ? _("Training images per class")
                                           : _("Images per class (no split yet)"));

    /* Summary. */
    g_autofree char *title = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "%u Class", "%u Classes", (gulong)n), (guint)n);
    gtk_label_set_text(self->summary_title, title);
    g_autofree char *images = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "%lld image", "%lld images", plural_n(total)),
        (long long)total);
    g_autofree char *subtitle = NULL;
    if (has_split)
        /* Translators: "1200 images · 960 train · 120 val · 120 test" */
        subtitle = g_strdup_printf(_("%s · %lld train · %lld val · %lld test"), images,
                                   (long long)split_totals[LPT_STORE_SPLIT_TRAIN],
                                   (long long)split_totals[LPT_STORE_SPLIT_VAL],
                                   (long long)split_totals[LPT_STORE_SPLIT_TEST]);
    else
        subtitle = g_strdup(images);
    gtk_label_set_text(self->summary_subtitle, subtitle);

    /* Warnings. */
    clear_list_box(self->warnings_list);
    self->n_warnings = 0;
    g_autoptr(GPtrArray) few = g_ptr_array_new();
    g_autoptr(GPtrArray) no_train = g_ptr_array_new();
    g_autoptr(GPtrArray) no_val = g_ptr_array_new();
    g_autoptr(GPtrArray) no_test = g_ptr_array_new();
    for (size_t i = 0; i < n; i++) {
        gint64 class_total = 0;
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
            class_total += counts[i].count[s];
        if (class_total < LPT_DATASET_PAGE_FEW_IMAGES)
            g_ptr_array_add(few, (gpointer)classes[i].name);
        if (has_split && counts[i].count[LPT_STORE_SPLIT_TRAIN] == 0)
            g_ptr_array_add(no_train, (gpointer)classes[i].name);
        if (has_split && counts[i].count[LPT_STORE_SPLIT_VAL] == 0)
            g_ptr_array_add(no_val, (gpointer)classes[i].name);
        if (has_split && counts[i].count[LPT_STORE_SPLIT_TEST] == 0)
            g_ptr_array_add(no_test, (gpointer)classes[i].name);
    }
    if (few->len > 0) {
        g_autofree char *text = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%u class has fewer than %d images",
                        "%u classes have fewer than %d images", few->len),
            few->len, LPT_DATASET_PAGE_FEW_IMAGES);
        add_warning(self, text, few);
    }
    if (no_train->len > 0) {
        g_autofree char *text = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%u class has no training images",
                        "%u classes have no training images", no_train->len),
            no_train->len);
        add_warning(self, text, no_train);
    }
    if (no_val->len > 0) {
        g_autofree char *text = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%u class is missing from validation",
                        "%u classes are missing from validation", no_val->len),
            no_val->len);
        add_warning(self, text, no_val);
    }
    if (no_test->len > 0) {
        g_autofree char *text = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%u class is missing from the test split",
                        "%u classes are missing from the test split", no_test->len),
            no_test->len);
        add_warning(self, text, no_test);
    }
    if (split_totals[LPT_STORE_SPLIT_NONE] > 0) {
        gint64 none = split_totals[LPT_STORE_SPLIT_NONE];
        g_autofree char *text =
            g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lld image is in no split yet",
                                        "%lld images are in no split yet",
                                        plural_n(none)),
                            (long long)none);
        add_warning(self, text, NULL);
    }

    gtk_stack_set_visible_child_name(self->stack, n > 0 ? "classes" : "empty");
    update_side_panel(self);
}

static void reload(LptDatasetPage *self)
{
    LptStoreClass *classes = NULL;
    LptStoreClassCount *counts = NULL;
    size_t n_classes = 0, n_counts = 0;
    LptError err = {0};

    if (self->project == NULL) {
        show_classes(self, NULL, NULL, 0);
        return;
    }
    LptStore *store = lpt_project_get_store(self->project);
    if (lpt_store_class_list(store, &classes, &n_classes, &err) != LPT_OK ||
        lpt_store_class_counts(store, &counts, &n_counts, &err) != LPT_OK) {
        g_autofree char *text = g_strdup_printf(_("Could not read the classes: %s"), err.message);
        show_toast(self, text);
        goto done;
    }
    /* Both lists are all classes by id; a class added between the two reads is left for the
     * next reload. */
    size_t n = MIN(n_classes, n_counts);
    for (size_t i = 0; i < n; i++)
        if (classes[i].id != counts[i].class_id) {
            n = i;
            break;
        }
    show_classes(self, classes, counts, n);

done:
    free(classes);
    free(counts);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    reload(LPT_DATASET_PAGE(user_data));
}

/* ---- The report of the last import ---- */

static GtkWidget *report_row(const char *title, const char *subtitle)
{
    GtkWidget *row = adw_action_row_new();
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    if (subtitle != NULL && subtitle[0] != '\0') {
        adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
        adw_action_row_set_subtitle_lines(ADW_ACTION_ROW(row), 4);
    }
    return row;
}

/* path with the home folder written "~" (a new string). */
static char *display_path(const char *path)
{
    const char *home = g_get_home_dir();
    gsize n = strlen(home);
    if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/')
        return g_strconcat("~", path + n, NULL);
    return g_strdup(path);
}

/* Appends a line (taken) to lines. */
static void append_line(GString *lines, char *line)
{
    if (lines->len > 0)
        g_string_append_c(lines, '\n');
    g_string_append(lines, line);
    g_free(line);
}

static GtkWidget *expander(const char *title, gint64 count)
{
    GtkWidget *row = adw_expander_row_new();
    adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    GtkWidget *badge = gtk_label_new(NULL);
    g_autofree char *text = g_strdup_printf("%lld", (long long)count);
    gtk_label_set_text(GTK_LABEL(badge), text);
    gtk_widget_add_css_class(badge, "dim-label");
    gtk_widget_add_css_class(badge, "numeric");
    adw_expander_row_add_action(ADW_EXPANDER_ROW(row), badge);
    return row;
}

static void add_more_row(GtkWidget *expander_row, size_t shown, size_t total)
{
    if (total <= shown)
        return;
    g_autofree char *text = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "… and %lu more", "… and %lu more", (gulong)(total - shown)),
        (gulong)(total - shown));
    adw_expander_row_add_row(ADW_EXPANDER_ROW(expander_row), report_row(text, NULL));
}

static const char *problem_kind_label(LptImportProblemKind kind)
{
    switch (kind) {
    case LPT_IMPORT_PROBLEM_UNREADABLE:
        return _("Unreadable");
    case LPT_IMPORT_PROBLEM_BAD_LINE:
        return _("Bad line");
    case LPT_IMPORT_PROBLEM_CONFLICT:
        return _("Changed since imported");
    }
    return "";
}

static void show_report(LptDatasetPage *self)
{
    const LptImportReport *r = self->last_report;
    clear_list_box(self->report_list);
    if (r == NULL) {
        update_side_panel(self);
        return;
    }

    g_autofree char *imported = g_strdup_printf(
        g_dngettext(GETTEXT_PACKAGE, "Imported %lld image", "Imported %lld images",
                    plural_n(r->imported)),
        (long long)r->imported);
    g_autofree char *details = g_strdup_printf(
        /* Translators: "3 new classes · 1204 files found · 4.2 s" */
        g_dngettext(GETTEXT_PACKAGE, "%lld new class · %lld files found · %.1f s",
                    "%lld new classes · %lld files found · %.1f s",
                    plural_n(r->classes_created)),
        (long long)r->classes_created, (long long)r->scanned, r->seconds);
    GtkWidget *top = report_row(imported, details);
    GtkWidget *icon = gtk_image_new_from_icon_name("emblem-ok-symbolic");
    gtk_widget_add_css_class(icon, "success");
    adw_action_row_add_prefix(ADW_ACTION_ROW(top), icon);
    gtk_list_box_append(self->report_list, top);
    if (r->split_note[0] != '\0')
        gtk_list_box_append(self->report_list, report_row(_("Splits"), r->split_note));

    gint64 walk_skipped =
        r->hidden_skipped + r->non_image_skipped + r->unlabelled_skipped + r->links_skipped;
    if (walk_skipped > 0) {
        GString *lines = g_string_new(NULL);
        if (r->hidden_skipped > 0)
            append_line(lines, g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lld hidden",
                                                           "%lld hidden",
                                                           plural_n(r->hidden_skipped)),
                                               (long long)r->hidden_skipped));
        if (r->non_image_skipped > 0)
            append_line(lines, g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "%lld not an image",
                                                           "%lld not images",
                                                           plural_n(r->non_image_skipped)),
                                               (long long)r->non_image_skipped));
        if (r->unlabelled_skipped > 0)
            append_line(lines,
                        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
                                                    "%lld outside a class folder",
                                                    "%lld outside a class folder",
                                                    plural_n(r->unlabelled_skipped)),
                                        (long long)r->unlabelled_skipped));
        if (r->links_skipped > 0)
            append_line(lines,
                        g_strdup_printf(g_dngettext(GETTEXT_PACKAGE,
                                                    "%lld folder reached again by a link",
                                                    "%lld folders reached again by a link",
                                                    plural_n(r->links_skipped)),
                                        (long long)r->links_skipped));
        g_autofree char *title = g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "%lld file or folder skipped",
                        "%lld files or folders skipped", plural_n(walk_skipped)),
            (long long)walk_skipped);
        gtk_list_box_append(self->report_list, report_row(title, lines->str));
        g_string_free(lines, TRUE);
    }

    if (r->num_duplicate_list > 0) {
        GtkWidget *row = expander(_("Duplicates skipped"), (gint64)r->num_duplicate_list);
        size_t shown = MIN(r->num_duplicate_list, REPORT_MAX_ROWS);
        for (size_t i = 0; i < shown; i++) {
            const LptImportDuplicate *d = &r->duplicate_list[i];
            g_autofree char *path = display_path(d->path);
            g_autofree char *kept = display_path(d->kept);
            g_autofree char *subtitle = g_strdup_printf(
                d->same_file ? _("The same file as %s") : _("The same content as %s"), kept);
            adw_expander_row_add_row(ADW_EXPANDER_ROW(row), report_row(path, subtitle));
        }
        add_more_row(row, shown, r->num_duplicate_list);
        gtk_list_box_append(self->report_list, row);
    }
    if (r->num_problems > 0) {
        GtkWidget *row = expander(_("Problems"), (gint64)r->num_problems);
        size_t shown = MIN(r->num_problems, REPORT_MAX_ROWS);
        for (size_t i = 0; i < shown; i++) {
            const LptImportProblem *p = &r->problems[i];
            g_autofree char *path = display_path(p->path);
            g_autofree char *title =
                p->line > 0 ? g_strdup_printf(_("%s, line %lld"), path, (long long)p->line)
                            : g_strdup(path);
            g_autofree char *subtitle =
                g_strdup_printf("%s: %s", problem_kind_label(p->kind), p->reason);
            adw_expander_row_add_row(ADW_EXPANDER_ROW(row), report_row(title, subtitle));
        }
        add_more_row(row, shown, r->num_problems);
        adw_expander_row_set_expanded(ADW_EXPANDER_ROW(row), TRUE);
        gtk_list_box_append(self->report_list, row);
    }
    update_side_panel(self);
}

/* ---- Importing ---- */

/* Import and re-split exclude each other; both need a project. */
static void update_actions(LptDatasetPage *self)
{
    gboolean idle = self->project != NULL && self->job == NULL && !self->resplitting;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "dataset.import", idle);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "dataset.split-settings", idle);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "dataset.cancel-import", self->job != NULL);
}

static void set_importing(LptDatasetPage *self, gboolean importing)
{
    gtk_revealer_set_reveal_child(self->import_revealer, importing);
    update_actions(self);
}

static void on_import_progress(LptImportJob *job, guint phase, gint64 scanned, gint64 imported,
                               gint64 skipped, gint64 to_write, const char *current,
                               gpointer user_data)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(user_data);
    if (job != self->job)
        return;

    g_autofree char *text = NULL;
    double fraction;
    if (phase == LPT_IMPORT_PHASE_WRITING) {
        text = g_strdup_printf(_("Writing %lld of %lld images into the project…"),
                               (long long)imported, (long long)to_write);
        fraction = to_write > 0 ? (double)imported / (double)to_write : 1.0;
    } else {
        text = g_strdup_printf(_("Reading files: %lld of %lld, %lld skipped"),
                               (long long)(imported + skipped), (long long)scanned,
                               (long long)skipped);
        fraction = scanned > 0 ? (double)(imported + skipped) / (double)scanned : 0.0;
    }
    gtk_label_set_text(self->import_label, text);
    gtk_label_set_text(self->import_file_label, current);
    gtk_progress_bar_set_fraction(self->import_progress, CLAMP(fraction, 0.0, 1.0));
}

static void on_import_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(LptDatasetPage) self = LPT_DATASET_PAGE(user_data);
    LptImportJob *job = LPT_IMPORT_JOB(source);
    g_autoptr(GError) error = NULL;
    LptImportReport *report = lpt_import_job_run_finish(job, result, &error);

    if (job != self->job) { /* the page moved on (another project, or disposed) */
        lpt_import_report_free(report);
        return;
    }
    g_signal_handlers_disconnect_by_data(self->job, self);
    g_clear_object(&self->job);
    g_clear_object(&self->cancellable);
    set_importing(self, FALSE);

    g_clear_error(&self->last_error);
    if (report == NULL) {
        self->last_error = g_error_copy(error);
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            show_toast(self, _("Import cancelled: the project is unchanged"));
        else
            show_error_dialog(self, _("Import Failed"), error->message);
        return;
    }

    lpt_import_report_free(self->last_report);
    self->last_report = report;
    show_report(self);
    gint64 skipped = report->scanned - report->imported;
    g_autofree char *text =
        skipped > 0
            ? g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Imported %lld image, %lld skipped",
                                          "Imported %lld images, %lld skipped",
                                          plural_n(report->imported)),
                              (long long)report->imported, (long long)skipped)
            : g_strdup_printf(g_dngettext(GETTEXT_PACKAGE, "Imported %lld image",
                                          "Imported %lld images",
                                          plural_n(report->imported)),
                              (long long)report->imported);
    show_toast(self, text);
    lpt_project_notify_changed(self->project); /* reloads this page too */
}

gboolean lpt_dataset_page_import(LptDatasetPage *self, GFile *const *sources, guint n_sources,
                                 LptImportSourceKind kind)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), FALSE);
    g_return_val_if_fail(sources != NULL && n_sources > 0, FALSE);
    if (self->job != NULL || self->resplitting || self->project == NULL)
        return FALSE;

    g_autofree char *cache_dir = g_settings_get_string(self->settings, "cache-location");
    self->job = lpt_import_job_new(self->project, sources, n_sources, kind, cache_dir);
    self->cancellable = g_cancellable_new();
    g_signal_connect(self->job, "progress", G_CALLBACK(on_import_progress), self);

    gtk_label_set_text(self->import_label, _("Looking for images…"));
    gtk_label_set_text(self->import_file_label, "");
    gtk_progress_bar_set_fraction(self->import_progress, 0.0);
    set_importing(self, TRUE);
    lpt_import_job_run_async(self->job, self->cancellable, on_import_done, g_object_ref(self));
    return TRUE;
}

void lpt_dataset_page_cancel_import(LptDatasetPage *self)
{
    g_return_if_fail(LPT_IS_DATASET_PAGE(self));
    if (self->cancellable != NULL) {
        gtk_label_set_text(self->import_label, _("Cancelling…"));
        g_cancellable_cancel(self->cancellable);
    }
}

gboolean lpt_dataset_page_is_importing(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), FALSE);
    return self->job != NULL;
}

/* ---- Re-split ---- */

static void on_resplit_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(LptDatasetPage) self = LPT_DATASET_PAGE(user_data);
    LptProject *project = LPT_PROJECT(source);
    g_autoptr(GError) error = NULL;
    LptResplitReport report = {0};
    gboolean ok = lpt_project_resplit_finish(project, result, &report, &error);

    if (ok) /* every view of the project reloads, this page among them */
        lpt_project_notify_changed(project);
    if (project != self->project) /* the page moved on to another project */
        return;
    self->resplitting = FALSE;
    update_actions(self);
    if (!ok) {
        show_error_dialog(self, _("Re-split Failed"), error->message);
        return;
    }
    g_autofree char *text = g_strdup_printf(
        /* Translators: after a re-split: "412 images moved to another split, 120 kept the
         * split their list file or folder gave" */
        g_dngettext(GETTEXT_PACKAGE,
                    "%lld image moved to another split, %lld kept the split their source gave",
                    "%lld images moved to another split, %lld kept the split their source gave",
                    plural_n(report.changed)),
        (long long)report.changed, (long long)report.kept);
    show_toast(self, text);
}

gboolean lpt_dataset_page_resplit(LptDatasetPage *self, const LptSplitConfig *cfg)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), FALSE);
    g_return_val_if_fail(cfg != NULL, FALSE);
    if (self->project == NULL || self->job != NULL || self->resplitting)
        return FALSE;

    self->resplitting = TRUE;
    update_actions(self);
    lpt_project_resplit_async(self->project, cfg, on_resplit_done, g_object_ref(self));
    return TRUE;
}

gboolean lpt_dataset_page_is_resplitting(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), FALSE);
    return self->resplitting;
}

static void on_split_response(AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(user_data);
    if (!g_str_equal(response, "resplit"))
        return;
    LptSplitConfig cfg;
    lpt_split_dialog_get_config(LPT_SPLIT_DIALOG(dialog), &cfg);
    lpt_dataset_page_resplit(self, &cfg);
}

/* The project's split settings: the latest stored, else the defaults. */
static void current_split_config(LptDatasetPage *self, LptSplitConfig *cfg)
{
    LptStoreSplitSettings latest = {0};
    lpt_split_config_default(cfg);
    if (lpt_store_split_latest(lpt_project_get_store(self->project), &latest, NULL) != LPT_OK ||
        latest.id == 0)
        return;
    LptSplitConfig stored = {
        .train_fraction = latest.train_fraction,
        .val_fraction = latest.val_fraction,
        .test_fraction = latest.test_fraction,
        .min_per_class = latest.min_per_class,
        .seed = latest.seed,
    };
    /* A row of user-given splits may hold fractions that do not sum to 1: keep the seed. */
    if (lpt_split_targets(&stored, 0, NULL, NULL, NULL, NULL) == LPT_OK)
        *cfg = stored;
    else
        cfg->seed = latest.seed;
}

/* ---- Actions ---- */

static void split_settings_action(GtkWidget *widget, const char *action_name,
                                  GVariant *parameter)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(widget);
    if (self->project == NULL)
        return;
    LptSplitConfig cfg;
    current_split_config(self, &cfg);
    GtkRoot *root = gtk_widget_get_root(widget);
    GtkWidget *dialog = lpt_split_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, &cfg);
    g_signal_connect_object(dialog, "response", G_CALLBACK(on_split_response), self, 0);
    gtk_window_present(GTK_WINDOW(dialog));
}

static void hide_images_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(widget);
    gtk_single_selection_set_selected(self->class_selection, GTK_INVALID_LIST_POSITION);
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, gpointer user_data)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(user_data);

    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GListModel) files = gtk_file_chooser_get_files(GTK_FILE_CHOOSER(dialog));
        guint n = g_list_model_get_n_items(files);
        g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func(g_object_unref);
        for (guint i = 0; i < n; i++)
            g_ptr_array_add(sources, g_list_model_get_item(files, i));
        if (n > 0)
            lpt_dataset_page_import(self, (GFile *const *)sources->pdata, n,
                                    self->chooser_kind);
    }
    g_clear_object(&self->chooser);
}

static void add_filter(GtkFileChooser *chooser, const char *name, const char *const *patterns,
                       const char *mime_type)
{
    GtkFileFilter *filter = gtk_file_filter_new();
    gtk_file_filter_set_name(filter, name);
    for (; patterns != NULL && *patterns != NULL; patterns++)
        gtk_file_filter_add_pattern(filter, *patterns);
    if (mime_type != NULL)
        gtk_file_filter_add_mime_type(filter, mime_type);
    gtk_file_chooser_add_filter(chooser, filter);
    g_object_unref(filter);
}

static void import_action(GtkWidget *widget, const char *action_name, GVariant *parameter)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(widget);
    const char *what = g_variant_get_string(parameter, NULL);
    if (self->chooser != NULL || self->job != NULL)
        return;

    GtkRoot *root = gtk_widget_get_root(widget);
    GtkWindow *parent = GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
    const char *title;
    GtkFileChooserAction chooser_action = GTK_FILE_CHOOSER_ACTION_OPEN;
    if (g_str_equal(what, "folder")) {
        title = _("Import Folders of Classes");
        chooser_action = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;
        self->chooser_kind = LPT_IMPORT_SOURCE_FOLDER;
    } else if (g_str_equal(what, "list")) {
        title = _("Import List Files");
        self->chooser_kind = LPT_IMPORT_SOURCE_LIST;
    } else {
        title = _("Import CSV Files");
        self->chooser_kind = LPT_IMPORT_SOURCE_CSV;
    }

    self->chooser =
        gtk_file_chooser_native_new(title, parent, chooser_action, _("_Import"), _("_Cancel"));
    GtkFileChooser *chooser = GTK_FILE_CHOOSER(self->chooser);
    gtk_file_chooser_set_select_multiple(chooser, TRUE);
    if (self->chooser_kind == LPT_IMPORT_SOURCE_LIST) {
        static const char *const list_patterns[] = {"*.txt", "*.lst", "*.list", NULL};
        add_filter(chooser, _("List files"), list_patterns, NULL);
    } else if (self->chooser_kind == LPT_IMPORT_SOURCE_CSV) {
        static const char *const csv_patterns[] = {"*.csv", "*.CSV", NULL};
        add_filter(chooser, _("CSV files"), csv_patterns, "text/csv");
    }
    if (self->chooser_kind != LPT_IMPORT_SOURCE_FOLDER) {
        static const char *const all_patterns[] = {"*", NULL};
        add_filter(chooser, _("All files"), all_patterns, NULL);
    }
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(self->chooser), TRUE);
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void cancel_import_action(GtkWidget *widget, const char *action_name,
                                 GVariant *parameter)
{
    lpt_dataset_page_cancel_import(LPT_DATASET_PAGE(widget));
}

/* ---- Life cycle ---- */

static void forget_job(LptDatasetPage *self)
{
    if (self->cancellable != NULL)
        g_cancellable_cancel(self->cancellable);
    if (self->job != NULL)
        g_signal_handlers_disconnect_by_data(self->job, self);
    g_clear_object(&self->job);
    g_clear_object(&self->cancellable);
}

void lpt_dataset_page_set_project(LptDatasetPage *self, LptProject *project)
{
    g_return_if_fail(LPT_IS_DATASET_PAGE(self));
    g_return_if_fail(project == NULL || LPT_IS_PROJECT(project));
    if (project == self->project)
        return;

    forget_job(self);
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    self->resplitting = FALSE; /* a re-split of the old project ends on its own */
    lpt_class_images_set_class(self->class_images, NULL, 0, NULL, 0);
    g_set_object(&self->project, project);
    self->changed_id = project != NULL ? g_signal_connect(project, "changed",
                                                          G_CALLBACK(on_project_changed), self)
                                       : 0;
    g_clear_pointer(&self->last_report, lpt_import_report_free);
    g_clear_error(&self->last_error);
    show_report(self);
    set_importing(self, FALSE);
    reload(self);
}

static void lpt_dataset_page_dispose(GObject *object)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(object);

    forget_job(self);
    if (self->chooser != NULL)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    if (self->project != NULL)
        g_signal_handler_disconnect(self->project, self->changed_id);
    g_clear_object(&self->project);
    g_clear_object(&self->class_selection);
    g_clear_object(&self->class_sort);
    g_clear_object(&self->class_store);
    g_clear_object(&self->settings);
    self->toast_overlay = NULL;
    gtk_widget_dispose_template(GTK_WIDGET(self), LPT_TYPE_DATASET_PAGE);

    G_OBJECT_CLASS(lpt_dataset_page_parent_class)->dispose(object);
}

static void lpt_dataset_page_finalize(GObject *object)
{
    LptDatasetPage *self = LPT_DATASET_PAGE(object);

    lpt_import_report_free(self->last_report);
    g_clear_error(&self->last_error);

    G_OBJECT_CLASS(lpt_dataset_page_parent_class)->finalize(object);
}

static void lpt_dataset_page_class_init(LptDatasetPageClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    object_class->dispose = lpt_dataset_page_dispose;
    object_class->finalize = lpt_dataset_page_finalize;

    g_type_ensure(LPT_TYPE_CLASS_ROW);
    g_type_ensure(LPT_TYPE_LONG_TAIL_CHART);
    g_type_ensure(LPT_TYPE_CLASS_IMAGES);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                APP_RESOURCE_PATH "/lpt_dataset_page.ui");
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, import_revealer);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, import_label);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, import_file_label);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, import_progress);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, stack);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, summary_title);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, summary_subtitle);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, chart);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, class_view);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, images_column);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, side_stack);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, class_images);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, warnings_box);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, warnings_list);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, report_box);
    gtk_widget_class_bind_template_child(widget_class, LptDatasetPage, report_list);
    gtk_widget_class_bind_template_callback(widget_class, setup_text_cell);
    gtk_widget_class_bind_template_callback(widget_class, setup_number_cell);
    gtk_widget_class_bind_template_callback(widget_class, setup_group_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_name_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_images_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_train_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_val_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_test_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_share_cell);
    gtk_widget_class_bind_template_callback(widget_class, bind_group_cell);

    gtk_widget_class_install_action(widget_class, "dataset.import", "s", import_action);
    gtk_widget_class_install_action(widget_class, "dataset.cancel-import", NULL,
                                    cancel_import_action);
    gtk_widget_class_install_action(widget_class, "dataset.split-settings", NULL,
                                    split_settings_action);
    gtk_widget_class_install_action(widget_class, "dataset.hide-images", NULL,
                                    hide_images_action);
}

static void lpt_dataset_page_init(LptDatasetPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->toast_overlay = ADW_TOAST_OVERLAY(adw_bin_get_child(ADW_BIN(self)));

    self->settings = g_settings_new(BASE_ID);
    self->class_store = g_list_store_new(LPT_TYPE_CLASS_ROW);
    GtkSorter *sorter = gtk_column_view_get_sorter(self->class_view);
    self->class_sort = gtk_sort_list_model_new(g_object_ref(G_LIST_MODEL(self->class_store)),
                                               g_object_ref(sorter));
    self->class_selection =
        gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->class_sort)));
    gtk_single_selection_set_autoselect(self->class_selection, FALSE);
    gtk_single_selection_set_can_unselect(self->class_selection, TRUE);
    g_signal_connect(self->class_selection, "notify::selected", G_CALLBACK(on_class_selected),
                     self);
    gtk_column_view_set_model(self->class_view, GTK_SELECTION_MODEL(self->class_selection));
    gtk_column_view_sort_by_column(self->class_view, self->images_column, GTK_SORT_DESCENDING);

    set_importing(self, FALSE);
    reload(self);
}

GListModel *lpt_dataset_page_get_class_model(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), NULL);
    return G_LIST_MODEL(self->class_sort);
}

LptClassImages *lpt_dataset_page_get_class_images(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), NULL);
    return self->class_images;
}

LptLongTailChart *lpt_dataset_page_get_chart(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), NULL);
    return self->chart;
}

guint lpt_dataset_page_get_n_warnings(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), 0);
    return self->n_warnings;
}

const LptImportReport *lpt_dataset_page_get_last_report(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), NULL);
    return self->last_report;
}

const GError *lpt_dataset_page_get_last_error(LptDatasetPage *self)
{
    g_return_val_if_fail(LPT_IS_DATASET_PAGE(self), NULL);
    return self->last_error;
}

/* test_app.c: the desktop app driven in-process, as a user would, under Xvfb (suite 'app').
 *
 * In a temporary HOME it makes three folder datasets of small PNGs (one sub-folder per
 * class, long-tailed counts), creates a project with the first through the core's importer,
 * then runs the real LptApplication and checks:
 *   - the welcome page lists the recent projects;
 *   - opening the project fills the class table and the long-tail chart with the numbers
 *     the split rule (lpt_split_targets) and the group thresholds give;
 *   - a second open of the same project is refused with the store's message;
 *   - an import through the Dataset page runs off the main thread: a 5 ms timeout probe on
 *     the main context measures the longest stall, which must stay under
 *     STALL_LIMIT_MS; progress reaches the progress bar; the report lists what was skipped
 *     and why; the table and chart show the new counts;
 *   - a cancelled import leaves the project as it was;
 *   - closing the window releases the project's lock.
 * Screenshots of the welcome and dataset pages are written as PNGs into the --screenshots
 * folder (names end in --suffix, e.g. "-ja" for the Japanese run, which --expect-translated
 * also checks for translated strings).
 *
 * Usage: test_app --screenshots DIR --localedir DIR [--suffix S] [--expect-translated]
 * Prints "app: N passed, N failed" last; exits 0 only when nothing failed.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_application.h"
#include "lpt_build_id.h"
#include "lpt_class_row.h"
#include "lpt_import.h"
#include "lpt_split.h"

#define STALL_LIMIT_MS 50 /* the target: no main-loop stall above this */
#define PROBE_INTERVAL_MS 5
#define WAIT_LIMIT_S 120 /* the longest any awaited condition may take */

static int n_passed, n_failed;

static void check(gboolean ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void check(gboolean ok, const char *fmt, ...)
{
    if (ok) {
        n_passed++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("FAIL: %s\n", text);
    n_failed++;
}

/* ---- Datasets ---- */

typedef struct {
    const char *name;
    int count;
} ClassSpec;

/* Castings: the project's first import (through the core). */
static const ClassSpec first_classes[] = {
    {"good", 160}, {"porosity", 45}, {"crack", 18}, {"cold_shut", 6}, {"inclusion", 3},
};
/* More of the same and one new class: the import through the app (with the junk below). */
static const ClassSpec second_classes[] = {
    {"good", 2400}, {"porosity", 800}, {"crack", 300}, {"cold_shut", 100}, {"inclusion", 30},
    {"misrun", 4},
};
/* An import that is cancelled. */
static const ClassSpec cancelled_classes[] = {{"flash", 600}};

#define N_FIRST G_N_ELEMENTS(first_classes)
#define N_SECOND G_N_ELEMENTS(second_classes)

/* A SIDE x SIDE RGB PNG of smooth gradients (small files, as photographs of parts compress
 * well too) that depend on (seed, index), written into the first pixels too, so that no
 * two files are alike. */
static gboolean write_png(const char *path, guint seed, guint index, GError **error)
{
    enum { SIDE = 96 };
    static guint8 pixels[SIDE * SIDE * 3];
    for (guint y = 0; y < SIDE; y++)
        for (guint x = 0; x < SIDE; x++) {
            guint8 *p = &pixels[(y * SIDE + x) * 3];
            p[0] = (guint8)(x * 2 + index);
            p[1] = (guint8)(y * 2 + seed * 13);
            p[2] = (guint8)(x + y + index * 3);
        }
    guint32 tag[2] = {seed, index};
    memcpy(pixels, tag, sizeof tag);
    g_autoptr(GBytes) bytes = g_bytes_new(pixels, sizeof pixels);
    g_autoptr(GdkTexture) texture =
        gdk_memory_texture_new(SIDE, SIDE, GDK_MEMORY_R8G8B8, bytes, SIDE * 3);
    if (!gdk_texture_save_to_png(texture, path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", path);
        return FALSE;
    }
    return TRUE;
}

static gboolean make_dataset(const char *root, const ClassSpec *classes, gsize n_classes,
                             guint seed, GError **error)
{
    for (gsize c = 0; c < n_classes; c++) {
        g_autofree char *dir = g_build_filename(root, classes[c].name, NULL);
        if (g_mkdir_with_parents(dir, 0755) != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make '%s'", dir);
            return FALSE;
        }
        for (int i = 0; i < classes[c].count; i++) {
            g_autofree char *name = g_strdup_printf("%s_%04d.png", classes[c].name, i);
            g_autofree char *path = g_build_filename(dir, name, NULL);
            if (!write_png(path, seed * 100 + (guint)c, (guint)i, error))
                return FALSE;
        }
    }
    return TRUE;
}

static gboolean write_file(const char *path, const void *data, gsize size, GError **error)
{
    return g_file_set_contents(path, data, (gssize)size, error);
}

/* The second dataset's junk: one of each thing the importer skips, with the reason. */
static gboolean add_junk(const char *root, const char *first_root, GError **error)
{
    static const char notes[] = "photographed on line 3\n";
    g_autofree char *readme = g_build_filename(root, "README.txt", NULL);
    g_autofree char *text = g_build_filename(root, "good", "notes.txt", NULL);
    g_autofree char *hidden = g_build_filename(root, "good", ".hidden.png", NULL);
    g_autofree char *broken = g_build_filename(root, "crack", "broken.png", NULL);
    g_autofree char *copy = g_build_filename(root, "porosity", "copy_of_first.png", NULL);
    g_autofree char *original = g_build_filename(first_root, "porosity", "porosity_0000.png", NULL);
    g_autofree char *png = NULL;
    gsize png_size = 0;

    if (!write_file(readme, notes, sizeof notes - 1, error) ||
        !write_file(text, notes, sizeof notes - 1, error) ||
        !write_png(hidden, 7, 7, error) ||
        !g_file_get_contents(original, &png, &png_size, error) ||
        !write_file(copy, png, png_size, error) ||
        !write_file(broken, png, png_size / 2, error)) /* truncated: unreadable */
        return FALSE;
    return TRUE;
}

/* ---- Driving the main loop ---- */

static gboolean timed_out(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Runs the main loop for ms milliseconds. */
static void pump(guint ms)
{
    gboolean done = FALSE;
    g_timeout_add(ms, timed_out, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

typedef gboolean (*Condition)(gpointer data);

/* Runs the main loop until cond(data) holds (TRUE) or WAIT_LIMIT_S pass (FALSE). */
static gboolean wait_for(Condition cond, gpointer data)
{
    gboolean expired = FALSE;
    guint id = g_timeout_add_seconds(WAIT_LIMIT_S, timed_out, &expired);
    while (!cond(data) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(id);
    return !expired;
}

static gboolean window_is_mapped(gpointer data)
{
    return gtk_widget_get_mapped(GTK_WIDGET(data));
}

static gboolean import_finished(gpointer data)
{
    return !lpt_dataset_page_is_importing(LPT_DATASET_PAGE(data));
}

static gboolean no_windows(gpointer data)
{
    return gtk_application_get_windows(GTK_APPLICATION(data)) == NULL;
}

/* The first descendant of widget (itself included) of the given type, or NULL. */
static GtkWidget *find_widget(GtkWidget *widget, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(widget, type))
        return widget;
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *found = find_widget(child, type);
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* The first visible toplevel window of the given type, or NULL. */
static GtkWidget *find_toplevel(GType type)
{
    GListModel *toplevels = gtk_window_get_toplevels(); /* not ours */
    for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
        g_autoptr(GObject) window = g_list_model_get_item(toplevels, i);
        if (G_TYPE_CHECK_INSTANCE_TYPE(window, type) && gtk_widget_get_visible(GTK_WIDGET(window)))
            return GTK_WIDGET(window);
    }
    return NULL;
}

/* ---- Screenshots ---- */

/* Renders `area` (the window's content: no resize borders or shadows) over the window's
 * background colour with the window's renderer, and writes it to DIR/NAME SUFFIX.png. */
static void save_screenshot(GtkWidget *window, GtkWidget *area, const char *dir,
                            const char *name, const char *suffix)
{
    int width = gtk_widget_get_width(area), height = gtk_widget_get_height(area);
    GdkRGBA background = {0.98f, 0.98f, 0.98f, 1.0f};
    gtk_style_context_lookup_color(gtk_widget_get_style_context(window), "window_bg_color",
                                   &background);
    g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(area);
    GtkSnapshot *snapshot = gtk_snapshot_new();
    gtk_snapshot_append_color(snapshot, &background, &GRAPHENE_RECT_INIT(0, 0, width, height));
    gdk_paintable_snapshot(paintable, snapshot, width, height);
    g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(snapshot);
    GskRenderer *renderer = gtk_native_get_renderer(gtk_widget_get_native(window));
    check(node != NULL && renderer != NULL, "screenshot %s: nothing to render", name);
    if (node == NULL || renderer == NULL)
        return;
    g_autoptr(GdkTexture) texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
    g_autofree char *file = g_strdup_printf("%s%s.png", name, suffix);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    gboolean saved = gdk_texture_save_to_png(texture, path);
    check(saved, "screenshot %s: cannot write '%s'", name, path);
    if (saved)
        printf("screenshot: %s (%dx%d)\n", path, width, height);
}

/* ---- Checks of what the dataset page shows ---- */

typedef struct {
    const char *name;
    gint64 total;
} Expected;

/* Checks the table and chart against classes (n, total images each): per class the split
 * rule's counts, share and group; the chart's counts sorted; the imbalance ratio. */
static void check_dataset_page(LptDatasetPage *page, const Expected *classes, gsize n,
                               const char *when)
{
    LptSplitConfig cfg;
    lpt_split_config_default(&cfg);
    gint64 all = 0;
    for (gsize i = 0; i < n; i++)
        all += classes[i].total;

    GListModel *model = lpt_dataset_page_get_class_model(page);
    check(g_list_model_get_n_items(model) == n, "%s: table has %u rows, expected %zu", when,
          g_list_model_get_n_items(model), n);

    g_autofree gint64 *train = g_new0(gint64, n);
    gint64 previous_total = G_MAXINT64;
    for (guint r = 0; r < g_list_model_get_n_items(model) && r < n; r++) {
        g_autoptr(LptClassRow) row = g_list_model_get_item(model, r);
        const char *name = lpt_class_row_get_name(row);
        gint64 total = lpt_class_row_get_total(row);
        check(total <= previous_total, "%s: row %u (%s) out of order: %lld after %lld", when, r,
              name, (long long)total, (long long)previous_total);
        previous_total = total;

        gsize c = 0;
        while (c < n && strcmp(classes[c].name, name) != 0)
            c++;
        check(c < n, "%s: unexpected class '%s' in the table", when, name);
        if (c == n)
            continue;
        gint64 want_train, want_val, want_test;
        lpt_split_targets(&cfg, classes[c].total, &want_train, &want_val, &want_test, NULL);
        train[c] = want_train;
        check(total == classes[c].total, "%s: %s has %lld images, expected %lld", when, name,
              (long long)total, (long long)classes[c].total);
        check(lpt_class_row_get_count(row, LPT_STORE_SPLIT_TRAIN) == want_train &&
                  lpt_class_row_get_count(row, LPT_STORE_SPLIT_VAL) == want_val &&
                  lpt_class_row_get_count(row, LPT_STORE_SPLIT_TEST) == want_test,
              "%s: %s split %lld/%lld/%lld, expected %lld/%lld/%lld", when, name,
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_TRAIN),
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_VAL),
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_TEST),
              (long long)want_train, (long long)want_val, (long long)want_test);
        double want_share = (double)classes[c].total / (double)all;
        check(fabs(lpt_class_row_get_share(row) - want_share) < 1e-12,
              "%s: %s share %.6f, expected %.6f", when, name, lpt_class_row_get_share(row),
              want_share);
        LptGroup want_group = want_train > LPT_GROUP_MANY_ABOVE_DEFAULT ? LPT_GROUP_MANY
                              : want_train < LPT_GROUP_FEW_BELOW_DEFAULT ? LPT_GROUP_FEW
                                                                         : LPT_GROUP_MEDIUM;
        check(lpt_class_row_get_group(row) == want_group, "%s: %s group %d, expected %d", when,
              name, lpt_class_row_get_group(row), want_group);
    }

    /* The chart: training counts, largest first, and max/min as the ratio. */
    LptLongTailChart *chart = lpt_dataset_page_get_chart(page);
    check(lpt_long_tail_chart_get_n_classes(chart) == n, "%s: chart has %u classes", when,
          lpt_long_tail_chart_get_n_classes(chart));
    gint64 max_train = 0, min_train = G_MAXINT64;
    for (gsize c = 0; c < n; c++) {
        max_train = MAX(max_train, train[c]);
        min_train = MIN(min_train, train[c]);
    }
    for (guint r = 0; r < lpt_long_tail_chart_get_n_classes(chart) && r < n; r++) {
        const char *name = lpt_long_tail_chart_get_name(chart, r);
        gsize c = 0;
        while (c < n && strcmp(classes[c].name, name) != 0)
            c++;
        check(c < n && lpt_long_tail_chart_get_count(chart, r) == train[c],
              "%s: chart bar %u (%s) is %lld", when, r, name,
              (long long)lpt_long_tail_chart_get_count(chart, r));
        if (r > 0)
            check(lpt_long_tail_chart_get_count(chart, r) <=
                      lpt_long_tail_chart_get_count(chart, r - 1),
                  "%s: chart bar %u is higher than the one before", when, r);
    }
    double want_ratio = (double)max_train / (double)min_train;
    double ratio = lpt_long_tail_chart_get_imbalance_ratio(chart);
    check(fabs(ratio - want_ratio) < 1e-9, "%s: imbalance ratio %.3f, expected %.3f", when, ratio,
          want_ratio);
}

/* ---- The responsiveness probe ---- */

typedef struct {
    gint64 last_us;
    gint64 worst_gap_us;
    gint64 worst_at_us; /* when the worst gap ended */
    guint ticks;
    double max_fraction; /* of the import progress bar */
    GtkProgressBar *bar;
} Probe;

static gboolean probe_tick(gpointer data)
{
    Probe *probe = data;
    gint64 now = g_get_monotonic_time();
    if (probe->last_us != 0 && now - probe->last_us > probe->worst_gap_us) {
        probe->worst_gap_us = now - probe->last_us;
        probe->worst_at_us = now;
    }
    probe->last_us = now;
    probe->ticks++;
    if (probe->bar != NULL)
        probe->max_fraction = MAX(probe->max_fraction, gtk_progress_bar_get_fraction(probe->bar));
    return G_SOURCE_CONTINUE;
}

/* ---- The test ---- */

typedef struct {
    const char *screenshots;
    const char *localedir;
    const char *suffix;
    gboolean expect_translated;
} Options;

static gboolean parse_args(int argc, char **argv, Options *opt)
{
    opt->suffix = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--screenshots") == 0 && i + 1 < argc)
            opt->screenshots = argv[++i];
        else if (strcmp(argv[i], "--localedir") == 0 && i + 1 < argc)
            opt->localedir = argv[++i];
        else if (strcmp(argv[i], "--suffix") == 0 && i + 1 < argc)
            opt->suffix = argv[++i];
        else if (strcmp(argv[i], "--expect-translated") == 0)
            opt->expect_translated = TRUE;
        else
            return FALSE;
    }
    return opt->screenshots != NULL && opt->localedir != NULL;
}

static gboolean core_import(const char *project, const char *source, GError **error)
{
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_CREATE, &err);
    if (store == NULL) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
        return FALSE;
    }
    LptImportOptions opt;
    lpt_import_options_init(&opt);
    opt.sources = &source;
    opt.num_sources = 1;
    LptImportReport *report = NULL;
    LptStatus status = lpt_import_run(store, &opt, &report, &err);
    lpt_import_report_free(report);
    lpt_store_close(store);
    if (status != LPT_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
        return FALSE;
    }
    return TRUE;
}

static void run(const Options *opt, const char *home)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *first = g_build_filename(home, "Datasets", "castings", NULL);
    g_autofree char *second = g_build_filename(home, "Datasets", "castings-2026-11", NULL);
    g_autofree char *third = g_build_filename(home, "Datasets", "flash", NULL);
    g_autofree char *projects = g_build_filename(home, "Projects", NULL);
    g_autofree char *project = g_build_filename(projects, "Castings.lptproj", NULL);
    g_autofree char *other = g_build_filename(projects, "PCB Solder Joints.lptproj", NULL);
    g_autofree char *missing = g_build_filename(projects, "Bearings.lptproj", NULL);

    gboolean made = make_dataset(first, first_classes, N_FIRST, 1, &error) &&
                    make_dataset(second, second_classes, N_SECOND, 2, &error) &&
                    add_junk(second, first, &error) &&
                    make_dataset(third, cancelled_classes, 1, 3, &error) &&
                    g_mkdir_with_parents(projects, 0755) == 0 &&
                    write_file(other, "", 0, &error) && core_import(project, first, &error);
    check(made, "making the datasets and the project: %s",
          error != NULL ? error->message : "mkdir failed");
    if (!made)
        return;

    g_autoptr(GSettings) settings = g_settings_new(APP_ID);
    const char *recent[] = {project, other, missing, NULL};
    g_settings_set_strv(settings, "recent-projects", recent);

    /* The application, as `lpt-studio` starts it. */
    g_autoptr(LptApplication) app = lpt_application_new();
    check(g_application_register(G_APPLICATION(app), NULL, &error), "register: %s",
          error != NULL ? error->message : "");
    g_object_set(gtk_settings_get_default(), "gtk-font-name", "Cantarell 11", NULL);
    g_application_activate(G_APPLICATION(app));
    GList *windows = gtk_application_get_windows(GTK_APPLICATION(app));
    check(windows != NULL && LPT_IS_WINDOW(windows->data), "activate made no window");
    if (windows == NULL)
        return;
    LptWindow *window = LPT_WINDOW(windows->data);
    gtk_window_set_default_size(GTK_WINDOW(window), 1200, 760);
    check(wait_for(window_is_mapped, window), "the window never mapped");
    pump(600);

    check(lpt_window_get_project(window) == NULL, "a project is open before any was opened");
    check(lpt_welcome_page_get_n_recent(lpt_window_get_welcome_page(window)) == 3,
          "welcome page lists %u recent projects, expected 3",
          lpt_welcome_page_get_n_recent(lpt_window_get_welcome_page(window)));
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "welcome", opt->suffix);

    /* Open the project (`lpt-studio Castings.lptproj`): it goes into this window. */
    g_autoptr(GFile) file = g_file_new_for_path(project);
    g_application_open(G_APPLICATION(app), &file, 1, "");
    pump(300);
    check(g_list_length(gtk_application_get_windows(GTK_APPLICATION(app))) == 1 &&
              lpt_window_get_project(window) != NULL,
          "opening the project did not show it in the welcome window");
    if (lpt_window_get_project(window) == NULL)
        return;
    LptDatasetPage *page = lpt_window_get_dataset_page(window);
    Expected expected[N_SECOND];
    for (gsize c = 0; c < N_SECOND; c++) {
        expected[c].name = second_classes[c].name;
        expected[c].total = c < N_FIRST ? first_classes[c].count : 0;
    }
    check_dataset_page(page, expected, N_FIRST, "after opening");
    check(lpt_dataset_page_get_n_warnings(page) == 1,
          "after opening: %u warnings, expected 1 (inclusion: fewer than 5 images)",
          lpt_dataset_page_get_n_warnings(page));

    /* A second window on the same project is refused, with the store's words. */
    g_application_open(G_APPLICATION(app), &file, 1, "");
    pump(300);
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
    check(g_list_length(gtk_application_get_windows(GTK_APPLICATION(app))) <= 2 &&
              dialog != NULL,
          "a second open of the project was not refused with a message");
    if (dialog != NULL) {
        check(g_strcmp0(adw_message_dialog_get_heading(dialog),
                        g_dgettext(GETTEXT_PACKAGE, "Project Already Open")) == 0,
              "refusal heading is '%s'", adw_message_dialog_get_heading(dialog));
        check(strstr(adw_message_dialog_get_body(dialog), "Castings.lptproj") != NULL &&
                  strstr(adw_message_dialog_get_body(dialog), "already open") != NULL,
              "refusal body is '%s'", adw_message_dialog_get_body(dialog));
        gtk_window_destroy(GTK_WINDOW(dialog));
    }
    guint n_project_windows = 0;
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(app)); l != NULL; l = l->next)
        n_project_windows += LPT_IS_WINDOW(l->data) && lpt_window_get_project(l->data) != NULL;
    check(n_project_windows == 1, "%u windows show a project, expected 1", n_project_windows);

    /* An import through the page, with the responsiveness probe running. */
    g_autoptr(GFile) source = g_file_new_for_path(second);
    Probe probe = {0};
    probe.bar = GTK_PROGRESS_BAR(find_widget(GTK_WIDGET(page), GTK_TYPE_PROGRESS_BAR));
    check(probe.bar != NULL, "no progress bar on the dataset page");
    guint probe_id = g_timeout_add(PROBE_INTERVAL_MS, probe_tick, &probe);
    gint64 started = g_get_monotonic_time();
    check(lpt_dataset_page_import(page, &source, 1, LPT_IMPORT_SOURCE_DETECT),
          "the page refused the import");
    check(!lpt_dataset_page_import(page, &source, 1, LPT_IMPORT_SOURCE_DETECT),
          "the page started a second import while one runs");
    check(wait_for(import_finished, page), "the import did not finish in %d s", WAIT_LIMIT_S);
    double seconds = (g_get_monotonic_time() - started) / 1e6;
    g_source_remove(probe_id);
    double stall_ms = (probe.worst_gap_us - PROBE_INTERVAL_MS * 1000) / 1000.0;
    gint64 n_files = 5; /* the junk of add_junk() */
    for (gsize c = 0; c < N_SECOND; c++)
        n_files += second_classes[c].count;
    printf("import of %lld files: %.2f s; main loop: %u probe ticks, worst gap %.1f ms at "
           "%.2f s, worst stall %.1f ms (limit %d ms)\n",
           (long long)n_files, seconds, probe.ticks, probe.worst_gap_us / 1000.0,
           (probe.worst_at_us - started) / 1e6, stall_ms, STALL_LIMIT_MS);
    check(stall_ms < STALL_LIMIT_MS, "the main loop stalled %.1f ms during the import",
          stall_ms);
    check(probe.max_fraction > 0.0, "no import progress reached the progress bar");

    const LptImportReport *report = lpt_dataset_page_get_last_report(page);
    check(report != NULL, "no report after the import: %s",
          lpt_dataset_page_get_last_error(page) != NULL
              ? lpt_dataset_page_get_last_error(page)->message
              : "(no error either)");
    if (report != NULL) {
        gint64 want = 0;
        for (gsize c = 0; c < N_SECOND; c++)
            want += second_classes[c].count;
        check(report->imported == want, "imported %lld, expected %lld",
              (long long)report->imported, (long long)want);
        check(report->duplicates == 1 && report->unreadable == 1 &&
                  report->non_image_skipped == 1 && report->hidden_skipped == 1 &&
                  report->unlabelled_skipped == 1,
              "skipped: %lld duplicates, %lld unreadable, %lld not images, %lld hidden, %lld "
              "outside classes; expected 1 each",
              (long long)report->duplicates, (long long)report->unreadable,
              (long long)report->non_image_skipped, (long long)report->hidden_skipped,
              (long long)report->unlabelled_skipped);
    }
    for (gsize c = 0; c < N_SECOND; c++)
        expected[c].total += second_classes[c].count;
    pump(400);
    check_dataset_page(page, expected, N_SECOND, "after the import");
    gtk_window_set_focus(GTK_WINDOW(window), NULL);
    save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "dataset", opt->suffix);

    /* A cancelled import leaves the project as it was. */
    g_autoptr(GFile) third_source = g_file_new_for_path(third);
    check(lpt_dataset_page_import(page, &third_source, 1, LPT_IMPORT_SOURCE_FOLDER),
          "the page refused the import to cancel");
    lpt_dataset_page_cancel_import(page);
    check(wait_for(import_finished, page), "the cancelled import did not end");
    const GError *cancel_error = lpt_dataset_page_get_last_error(page);
    check(g_error_matches(cancel_error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
          "the cancelled import ended with '%s'",
          cancel_error != NULL ? cancel_error->message : "success");
    pump(200);
    check_dataset_page(page, expected, N_SECOND, "after the cancelled import");

    /* A source that is not there: the import fails with the core's words in a dialog. */
    g_autofree char *nowhere = g_build_filename(home, "Datasets", "nowhere", NULL);
    g_autoptr(GFile) nowhere_source = g_file_new_for_path(nowhere);
    check(lpt_dataset_page_import(page, &nowhere_source, 1, LPT_IMPORT_SOURCE_FOLDER),
          "the page refused the import of a missing folder");
    check(wait_for(import_finished, page), "the failing import did not end");
    const GError *failure = lpt_dataset_page_get_last_error(page);
    check(failure != NULL && failure->domain == LPT_CORE_ERROR &&
              strstr(failure->message, "nowhere") != NULL,
          "the import of a missing folder ended with '%s'",
          failure != NULL ? failure->message : "success");
    pump(200);
    dialog = ADW_MESSAGE_DIALOG(find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
    check(dialog != NULL &&
              g_strcmp0(adw_message_dialog_get_heading(dialog),
                        g_dgettext(GETTEXT_PACKAGE, "Import Failed")) == 0 &&
              failure != NULL && g_strcmp0(adw_message_dialog_get_body(dialog), failure->message) == 0,
          "the failed import showed no dialog with its message");
    if (dialog != NULL)
        gtk_window_destroy(GTK_WINDOW(dialog));
    check_dataset_page(page, expected, N_SECOND, "after the failed import");

    /* The import menu's action opens a file chooser; cancelling it starts nothing. */
    check(gtk_widget_activate_action(GTK_WIDGET(window), "win.import", "s", "csv"),
          "win.import is missing");
    pump(300);
    GtkWidget *chooser = find_toplevel(GTK_TYPE_FILE_CHOOSER_DIALOG);
    check(chooser != NULL, "win.import('csv') showed no file chooser");
    if (chooser != NULL)
        gtk_dialog_response(GTK_DIALOG(chooser), GTK_RESPONSE_CANCEL);
    pump(100);
    check(!lpt_dataset_page_is_importing(page), "a cancelled file chooser started an import");

    /* The About window names the version and the build; the shortcuts window opens. */
    g_action_group_activate_action(G_ACTION_GROUP(app), "about", NULL);
    pump(200);
    AdwAboutWindow *about = ADW_ABOUT_WINDOW(find_toplevel(ADW_TYPE_ABOUT_WINDOW));
    check(about != NULL, "app.about showed no About window");
    if (about != NULL) {
        const char *version = adw_about_window_get_version(about);
        check(strstr(version, PACKAGE_VERSION) != NULL && strstr(version, LPT_BUILD_ID) != NULL,
              "About version '%s' lacks %s or build %s", version, PACKAGE_VERSION,
              LPT_BUILD_ID);
        gtk_window_destroy(GTK_WINDOW(about));
    }
    check(gtk_widget_activate_action(GTK_WIDGET(window), "win.show-help-overlay", NULL),
          "win.show-help-overlay is missing");
    pump(200);
    GtkWidget *shortcuts = find_toplevel(GTK_TYPE_SHORTCUTS_WINDOW);
    check(shortcuts != NULL && gtk_widget_get_visible(shortcuts),
          "the keyboard shortcuts window did not show");
    if (shortcuts != NULL)
        gtk_widget_set_visible(shortcuts, FALSE);

    /* Translations: the Japanese run must show Japanese. */
    if (opt->expect_translated) {
        static const char *const samples[] = {"Dataset", "Welcome to LPT Studio",
                                              "Project Already Open", "Last Import"};
        for (gsize i = 0; i < G_N_ELEMENTS(samples); i++)
            check(strcmp(g_dgettext(GETTEXT_PACKAGE, samples[i]), samples[i]) != 0,
                  "'%s' is not translated", samples[i]);
    }

    /* Closing the window lets the project go: the core can lock it again. */
    gtk_window_close(GTK_WINDOW(window));
    check(wait_for(no_windows, app), "the window did not close");
    pump(100);
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_OPEN, &err);
    check(store != NULL, "the project is still locked after its window closed: %s", err.message);
    lpt_store_close(store);
}

int main(int argc, char **argv)
{
    Options opt = {0};
    if (!parse_args(argc, argv, &opt)) {
        fprintf(stderr, "usage: %s --screenshots DIR --localedir DIR [--suffix S] "
                        "[--expect-translated]\n",
                argv[0]);
        return 2;
    }

    /* A home of its own, so that recent projects, caches and paths are the test's. */
    g_autofree char *home = g_dir_make_tmp("lpt-app-XXXXXX", NULL);
    if (home == NULL) {
        fprintf(stderr, "cannot make a temporary folder\n");
        return 1;
    }
    g_autofree char *cache = g_build_filename(home, ".cache", NULL);
    g_setenv("HOME", home, TRUE);
    g_setenv("XDG_CACHE_HOME", cache, TRUE);

    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, opt.localedir);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_mkdir_with_parents(opt.screenshots, 0755);

    run(&opt, home);

    g_autofree char *quoted = g_shell_quote(home);
    g_autofree char *rm = g_strdup_printf("rm -rf %s", quoted);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);

    printf("app: %d passed, %d failed\n", n_passed, n_failed);
    return n_failed == 0 && n_passed > 0 ? 0 : 1;
}

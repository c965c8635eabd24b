/* test_app.c: the desktop app driven in-process, as a user would, under Xvfb (suite 'app').
 *
 * In a temporary HOME it makes three folder datasets of small PNGs (one sub-folder per
 * class, long-tailed counts), creates a project with the first through the core's importer,
 * then runs the real LptApplication and checks:
 *   - the welcome page lists the recent projects;
 *   - opening the project fills the class table and the long-tail chart with the numbers
 *     the split rule (lpt_split_targets) and the group thresholds give;
 *   - a second open of the same project is refused with the store's message;
 *   - an import through the Dataset page runs off the main thread: app_driver's probe on
 *     the main context measures the longest stall (the app's own work: see app_driver.h),
 *     which must stay under APP_STALL_LIMIT_MS; progress reaches the progress bar; the
 *     report lists what was skipped and why; the table and chart show the new counts;
 *   - a cancelled import leaves the project as it was;
 *   - selecting a class in the table shows its images: a grid with one tile per image, the
 *     thumbnails loaded off the main thread (one removed from the cache is made again);
 *     scrolling through a class of 2560 images with the probe on, the worst stall is
 *     reported and must stay under APP_STALL_LIMIT_MS; a reload keeps the scroll position;
 *   - Delete (images.toggle-excluded) excludes the selected images and takes them back,
 *     and the table and chart follow; typing a letter over the grid opens the relabel
 *     popover, which moves the images to the class chosen (label history rows, counts,
 *     warnings) or to a new class;
 *   - a list file named test.txt gives test images; the split dialog shows the project's
 *     settings, Cancel changes nothing, Re-split gives every class the split rule's counts
 *     under the new settings, keeps the given test images and stores the settings;
 *   - the preferences offer Automatic, CPU and every Vulkan device lpt_device_list finds,
 *     and write the device and cache-location settings;
 *   - a development build's window has the "devel" style class;
 *   - closing the window releases the project's lock.
 * Screenshots of the welcome and dataset pages, the images of a class, the split dialog and
 * the preferences are written as PNGs into the --screenshots folder (names end in --suffix,
 * e.g. "-ja" for the Japanese run, which --expect-translated also checks for translated
 * strings).
 *
 * Usage: test_app --screenshots DIR --localedir DIR [--suffix S] [--expect-translated]
 * Prints "app: N passed, N failed" last; exits 0 only when nothing failed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_application.h"
#include "lpt_build_id.h"
#include "lpt_backend.h"
#include "lpt_class_row.h"
#include "lpt_image_tile.h"
#include "lpt_import.h"
#include "lpt_paths.h"
#include "lpt_preferences_window.h"
#include "lpt_split.h"
#include "lpt_split_dialog.h"
#include "lpt_thumbnail.h"

#define check app_check

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

enum { IMAGE_SIDE = 96 };

/* Smooth gradients (small files, as photographs of parts compress well too) that depend on
 * (seed, index). */
static void smooth_pixel(guint8 rgb[3], int x, int y, guint seed, guint index)
{
    rgb[0] = (guint8)(x * 2 + index);
    rgb[1] = (guint8)(y * 2 + seed * 13);
    rgb[2] = (guint8)(x + y + index * 3);
}

static gboolean make_dataset(const char *root, const ClassSpec *classes, gsize n_classes,
                             guint seed, GError **error)
{
    for (gsize c = 0; c < n_classes; c++)
        if (!app_make_class_folder_with(root, classes[c].name, classes[c].count, IMAGE_SIDE,
                                        smooth_pixel, seed * 100 + (guint)c, error))
            return FALSE;
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
        !app_write_png(hidden, IMAGE_SIDE, smooth_pixel, 7, 7, error) ||
        !g_file_get_contents(original, &png, &png_size, error) ||
        !write_file(copy, png, png_size, error) ||
        !write_file(broken, png, png_size / 2, error)) /* truncated: unreadable */
        return FALSE;
    return TRUE;
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

/* ---- The images of a class ---- */

/* The class table's row of the class named name (a new reference, NULL when absent) and
 * its position. */
static LptClassRow *find_row(LptDatasetPage *page, const char *name, guint *position)
{
    GListModel *model = lpt_dataset_page_get_class_model(page);
    for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
        LptClassRow *row = g_list_model_get_item(model, i);
        if (g_str_equal(lpt_class_row_get_name(row), name)) {
            if (position != NULL)
                *position = i;
            return row;
        }
        g_object_unref(row);
    }
    return NULL;
}

/* What the table says of a class: per split, excluded, total; all -1 when it is absent. */
typedef struct {
    gint64 count[LPT_STORE_SPLIT_COUNT];
    gint64 excluded, total, id;
} RowCounts;

static RowCounts row_counts(LptDatasetPage *page, const char *name)
{
    RowCounts c = {{-1, -1, -1, -1}, -1, -1, 0};
    g_autoptr(LptClassRow) row = find_row(page, name, NULL);
    if (row == NULL)
        return c;
    for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
        c.count[s] = lpt_class_row_get_count(row, s);
    c.excluded = lpt_class_row_get_excluded(row);
    c.total = lpt_class_row_get_total(row);
    c.id = lpt_class_row_get_class_id(row);
    return c;
}

/* Selects the class in the class table as a click does; its id, 0 when it is absent. */
static gint64 select_class(LptDatasetPage *page, const char *name)
{
    GtkColumnView *view = GTK_COLUMN_VIEW(app_find_widget(GTK_WIDGET(page), GTK_TYPE_COLUMN_VIEW));
    guint position = 0;
    g_autoptr(LptClassRow) row = find_row(page, name, &position);
    check(view != NULL && row != NULL, "no class table row for %s", name);
    if (view == NULL || row == NULL)
        return 0;
    gtk_selection_model_select_item(gtk_column_view_get_model(view), position, TRUE);
    return lpt_class_row_get_class_id(row);
}

/* The grid's tiles that show an image. */
static GPtrArray *bound_tiles(GtkGridView *grid)
{
    GPtrArray *tiles = g_ptr_array_new();
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(grid)); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *tile = gtk_widget_get_first_child(child);
        if (tile != NULL && LPT_IS_IMAGE_TILE(tile) && gtk_widget_get_child_visible(child) &&
            lpt_image_tile_get_item(LPT_IMAGE_TILE(tile)) != NULL)
            g_ptr_array_add(tiles, tile);
    }
    return tiles;
}

/* Every bound tile shows its thumbnail (and there is one). */
static gboolean tiles_loaded(gpointer data)
{
    g_autoptr(GPtrArray) tiles = bound_tiles(GTK_GRID_VIEW(data));
    for (guint i = 0; i < tiles->len; i++)
        if (!lpt_image_tile_has_thumbnail(g_ptr_array_index(tiles, i)))
            return FALSE;
    return tiles->len > 0;
}

static gboolean resplit_finished(gpointer data)
{
    return !lpt_dataset_page_is_resplitting(LPT_DATASET_PAGE(data));
}

static gboolean devices_listed(gpointer data)
{
    return !lpt_preferences_window_is_listing(LPT_PREFERENCES_WINDOW(data));
}

/* The images of the project whose path starts with prefix, and their splits. */
static void images_under(LptStore *store, const char *prefix, GArray *ids, GArray *splits)
{
    int64_t *all = NULL;
    size_t n = 0;
    if (lpt_store_image_list(store, 0, LPT_STORE_SPLIT_ANY, 1, &all, &n, NULL) != LPT_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        LptStoreImage *image = NULL;
        if (lpt_store_image_get(store, all[i], &image, NULL) == LPT_OK && image != NULL &&
            g_str_has_prefix(image->path, prefix)) {
            gint64 id = image->id;
            int split = image->split;
            g_array_append_val(ids, id);
            g_array_append_val(splits, split);
        }
        free(image);
    }
    free(all);
}

/* The grid: tile count, lazy thumbnails (one regenerated), the stall probe while scrolling a
 * large class, exclusion, relabelling by typing and by F2, a screenshot. */
static void check_class_images(const AppOptions *opt, LptWindow *window, LptDatasetPage *page)
{
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    LptClassImages *images = lpt_dataset_page_get_class_images(page);
    GtkGridView *grid = lpt_class_images_get_grid(images);
    GtkSelectionModel *selection = lpt_class_images_get_selection(images);
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));

    /* A class of 4: four tiles, their thumbnails, one of them made again from its image. */
    RowCounts misrun = row_counts(page, "misrun");
    g_autoptr(GArray) misrun_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) misrun_splits = g_array_new(FALSE, FALSE, sizeof(int));
    images_under(store, "", misrun_ids, misrun_splits);
    char thumb[4096] = "", cache[4096] = "";
    for (guint i = 0; i < misrun_ids->len && thumb[0] == '\0'; i++) {
        LptStoreImage *image = NULL;
        lpt_store_image_get(store, g_array_index(misrun_ids, gint64, i), &image, NULL);
        if (image != NULL && image->class_id == misrun.id &&
            lpt_cache_dir(cache, sizeof cache, NULL) == LPT_OK)
            lpt_thumbnail_path(cache, image->content_hash, thumb, sizeof thumb, NULL);
        free(image);
    }
    check(thumb[0] != '\0' && g_unlink(thumb) == 0, "cannot remove the thumbnail '%s'", thumb);
    check(select_class(page, "misrun") == misrun.id && misrun.id > 0,
          "selecting misrun in the table");
    check(lpt_class_images_get_class_id(images) == misrun.id,
          "the grid shows class %lld, expected misrun (%lld)",
          (long long)lpt_class_images_get_class_id(images), (long long)misrun.id);
    check(app_wait_for(tiles_loaded, grid), "the thumbnails of misrun did not load");
    g_autoptr(GPtrArray) tiles = bound_tiles(grid);
    guint n_model = g_list_model_get_n_items(G_LIST_MODEL(selection));
    check(n_model == 4 && tiles->len == 4, "misrun: %u images in the grid, %u tiles; expected 4",
          n_model, tiles->len);
    for (guint i = 0; i < tiles->len; i++) {
        LptImageItem *item = lpt_image_tile_get_item(g_ptr_array_index(tiles, i));
        check(lpt_image_item_get_class_id(item) == misrun.id,
              "a misrun tile shows an image of class %lld",
              (long long)lpt_image_item_get_class_id(item));
    }
    check(g_file_test(thumb, G_FILE_TEST_IS_REGULAR),
          "the removed thumbnail was not made again in the cache");

    /* A class of 2560: the first screen of tiles (the grid makes its tiles: GTK 4.8 keeps
     * 30 rows of max-columns), then scrolled through with the probe on the main loop. */
    RowCounts good = row_counts(page, "good");
    gint64 switched = g_get_monotonic_time();
    select_class(page, "good");
    check(app_wait_for(tiles_loaded, grid), "the first thumbnails of good did not load");
    double first_screen_ms = (g_get_monotonic_time() - switched) / 1e3;
    check(g_list_model_get_n_items(G_LIST_MODEL(selection)) == (guint)(good.total + good.excluded),
          "good: %u images in the grid, expected %lld",
          g_list_model_get_n_items(G_LIST_MODEL(selection)),
          (long long)(good.total + good.excluded));
    GtkAdjustment *scroll = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(grid));
    AppProbe probe;
    app_probe_start(&probe);
    app_pump(100);
    for (int step = 0; step < 60; step++) {
        gtk_adjustment_set_value(scroll, gtk_adjustment_get_value(scroll) +
                                             0.8 * gtk_adjustment_get_page_size(scroll));
        app_pump(25);
    }
    check(app_wait_for(tiles_loaded, grid), "the thumbnails of good did not load after scrolling");
    app_probe_stop(&probe);
    g_autoptr(GPtrArray) good_tiles = bound_tiles(grid);
    printf("thumbnails: first screen of good %.0f ms after the click; scrolling 60 screens of "
           "%lld images: %.2f s; %u tiles shown; ",
           first_screen_ms, (long long)good.total, (probe.last_us - probe.started_us) / 1e6,
           good_tiles->len);
    app_probe_check(&probe, "while thumbnails loaded");
    check(gtk_adjustment_get_value(scroll) > 0.0, "the grid did not scroll");

    /* A change of the project keeps the grid where it was. */
    double at = gtk_adjustment_get_value(scroll);
    lpt_project_notify_changed(lpt_window_get_project(window));
    app_pump(100);
    check(fabs(gtk_adjustment_get_value(scroll) - at) < 1.0 &&
              lpt_class_images_get_class_id(images) == good.id,
          "a reload moved the grid from %.0f to %.0f (class %lld)", at,
          gtk_adjustment_get_value(scroll), (long long)lpt_class_images_get_class_id(images));

    /* Exclude three crack images, take them back, exclude two. */
    RowCounts crack = row_counts(page, "crack");
    select_class(page, "crack");
    gtk_selection_model_select_range(selection, 0, 3, TRUE);
    gint64 in_split[LPT_STORE_SPLIT_COUNT] = {0};
    for (guint i = 0; i < 3; i++) {
        g_autoptr(LptImageItem) item = g_list_model_get_item(G_LIST_MODEL(selection), i);
        in_split[lpt_image_item_get_split(item)]++;
    }
    check(gtk_widget_activate_action(GTK_WIDGET(images), "images.toggle-excluded", NULL),
          "images.toggle-excluded is missing");
    app_pump(100);
    RowCounts after = row_counts(page, "crack");
    gboolean counts_ok = after.excluded == crack.excluded + 3 && after.total == crack.total - 3;
    for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
        counts_ok = counts_ok && after.count[s] == crack.count[s] - in_split[s];
    check(counts_ok, "excluding 3 crack images: %lld total, %lld excluded, train %lld; before "
                     "%lld, %lld, %lld",
          (long long)after.total, (long long)after.excluded,
          (long long)after.count[LPT_STORE_SPLIT_TRAIN], (long long)crack.total,
          (long long)crack.excluded, (long long)crack.count[LPT_STORE_SPLIT_TRAIN]);
    for (guint i = 0; i < 3; i++) {
        g_autoptr(LptImageItem) item = g_list_model_get_item(G_LIST_MODEL(selection), i);
        check(lpt_image_item_get_excluded(item), "crack image %u is not marked excluded", i);
    }
    check(g_list_model_get_n_items(G_LIST_MODEL(selection)) == (guint)(crack.total + 3 - 3 +
                                                                       crack.excluded),
          "the grid lost excluded images");
    LptLongTailChart *chart = lpt_dataset_page_get_chart(page);
    gboolean charted = FALSE;
    for (guint r = 0; r < lpt_long_tail_chart_get_n_classes(chart); r++)
        if (g_str_equal(lpt_long_tail_chart_get_name(chart, r), "crack"))
            charted = lpt_long_tail_chart_get_count(chart, r) == after.count[LPT_STORE_SPLIT_TRAIN];
    check(charted, "the chart does not show crack's %lld training images",
          (long long)after.count[LPT_STORE_SPLIT_TRAIN]);
    gtk_widget_activate_action(GTK_WIDGET(images), "images.toggle-excluded", NULL);
    app_pump(100);
    after = row_counts(page, "crack");
    check(memcmp(&after, &crack, sizeof after) == 0,
          "taking the 3 images back: %lld total, %lld excluded; expected %lld, %lld",
          (long long)after.total, (long long)after.excluded, (long long)crack.total,
          (long long)crack.excluded);
    gtk_selection_model_select_range(selection, 0, 2, TRUE);
    gtk_widget_activate_action(GTK_WIDGET(images), "images.toggle-excluded", NULL);
    app_pump(100);
    check(row_counts(page, "crack").excluded == 2, "crack: %lld excluded, expected 2",
          (long long)row_counts(page, "crack").excluded);

    /* The context menu (Menu, Shift+F10) of an excluded image offers to include it. */
    gtk_selection_model_select_item(selection, 0, TRUE);
    check(gtk_widget_activate_action(GTK_WIDGET(images), "images.menu", NULL),
          "images.menu is missing");
    app_pump(100);
    GtkPopover *menu = GTK_POPOVER(app_find_widget(GTK_WIDGET(images), GTK_TYPE_POPOVER_MENU));
    GMenuModel *model = menu != NULL ? gtk_popover_menu_get_menu_model(GTK_POPOVER_MENU(menu))
                                     : NULL;
    g_autoptr(GMenuModel) section =
        model != NULL ? g_menu_model_get_item_link(model, 0, G_MENU_LINK_SECTION) : NULL;
    g_autofree char *label = NULL;
    if (section != NULL)
        g_menu_model_get_item_attribute(section, 0, G_MENU_ATTRIBUTE_LABEL, "s", &label);
    check(menu != NULL && gtk_widget_get_visible(GTK_WIDGET(menu)) &&
              g_strcmp0(label, g_dgettext(GETTEXT_PACKAGE, "_Include in Training")) == 0,
          "the context menu of an excluded image is %s, first item '%s'",
          menu != NULL && gtk_widget_get_visible(GTK_WIDGET(menu)) ? "shown" : "not shown",
          label != NULL ? label : "");
    if (menu != NULL)
        gtk_popover_popdown(menu);

    /* Sorting the table another way keeps the class shown. */
    GtkColumnView *view = GTK_COLUMN_VIEW(app_find_widget(GTK_WIDGET(page), GTK_TYPE_COLUMN_VIEW));
    GListModel *columns = gtk_column_view_get_columns(view);
    g_autoptr(GtkColumnViewColumn) name_column = g_list_model_get_item(columns, 0);
    g_autoptr(GtkColumnViewColumn) images_column = g_list_model_get_item(columns, 1);
    gtk_column_view_sort_by_column(view, name_column, GTK_SORT_ASCENDING);
    app_pump(100);
    check(lpt_class_images_get_class_id(images) == crack.id,
          "sorting the table by name showed class %lld instead of crack",
          (long long)lpt_class_images_get_class_id(images));
    gtk_column_view_sort_by_column(view, images_column, GTK_SORT_DESCENDING);
    app_pump(100);

    /* Typing "m" over two inclusion images, then "misr" and Enter: they move to misrun. */
    RowCounts inclusion = row_counts(page, "inclusion");
    misrun = row_counts(page, "misrun");
    guint warnings = lpt_dataset_page_get_n_warnings(page);
    select_class(page, "inclusion");
    gtk_selection_model_select_range(selection, 0, 2, TRUE);
    gint64 moved_ids[2];
    for (guint i = 0; i < 2; i++) {
        g_autoptr(LptImageItem) item = g_list_model_get_item(G_LIST_MODEL(selection), i);
        moved_ids[i] = lpt_image_item_get_id(item);
    }
    gboolean handled = app_press_key(GTK_WIDGET(images), GDK_KEY_m);
    LptRelabelPopover *popover = lpt_class_images_get_relabel_popover(images);
    GtkEditable *entry = lpt_relabel_popover_get_entry(popover);
    check(handled && gtk_widget_get_visible(GTK_WIDGET(popover)) &&
              g_str_equal(gtk_editable_get_text(entry), "m"),
          "typing 'm' over the grid did not open the relabel popover with 'm'");
    g_autofree char *first_choice = lpt_relabel_popover_get_choice(popover);
    check(g_strcmp0(first_choice, "misrun") == 0, "after 'm' the popover offers '%s'",
          first_choice);
    gtk_editable_set_text(entry, "misr");
    g_signal_emit_by_name(entry, "activate"); /* Enter */
    app_pump(100);
    RowCounts inclusion_after = row_counts(page, "inclusion");
    RowCounts misrun_after = row_counts(page, "misrun");
    check(inclusion_after.total == inclusion.total - 2 && misrun_after.total == misrun.total + 2,
          "moving 2 images: inclusion %lld -> %lld, misrun %lld -> %lld", (long long)inclusion.total,
          (long long)inclusion_after.total, (long long)misrun.total, (long long)misrun_after.total);
    check(g_list_model_get_n_items(G_LIST_MODEL(selection)) == (guint)inclusion_after.total,
          "the grid of inclusion has %u images after the move, expected %lld",
          g_list_model_get_n_items(G_LIST_MODEL(selection)), (long long)inclusion_after.total);
    check(lpt_dataset_page_get_n_warnings(page) == warnings - 1,
          "%u warnings after misrun reached 6 images, expected %u",
          lpt_dataset_page_get_n_warnings(page), warnings - 1);
    for (guint i = 0; i < 2; i++) {
        LptStoreLabelChange *changes = NULL;
        size_t n_changes = 0;
        lpt_store_label_history(store, moved_ids[i], &changes, &n_changes, NULL);
        check(n_changes == 1 && changes[0].old_class_id == inclusion.id &&
                  changes[0].new_class_id == misrun.id &&
                  g_str_equal(changes[0].reason, "moved in the dataset grid"),
              "image %lld: %zu label history rows, expected 1 from inclusion to misrun",
              (long long)moved_ids[i], n_changes);
        free(changes);
    }

    /* F2 and a name no class has: a new class. */
    gtk_selection_model_select_range(selection, 0, 1, TRUE);
    check(gtk_widget_activate_action(GTK_WIDGET(images), "images.relabel", NULL),
          "images.relabel is missing");
    gtk_editable_set_text(entry, "shrinkage");
    g_autofree char *new_choice = lpt_relabel_popover_get_choice(popover);
    check(g_strcmp0(new_choice, "shrinkage") == 0, "for 'shrinkage' the popover offers '%s'",
          new_choice);
    g_signal_emit_by_name(entry, "activate");
    app_pump(100);
    check(row_counts(page, "shrinkage").total == 1 &&
              row_counts(page, "inclusion").total == inclusion.total - 3,
          "moving to a new class: shrinkage %lld, inclusion %lld",
          (long long)row_counts(page, "shrinkage").total,
          (long long)row_counts(page, "inclusion").total);

    /* The screenshot: crack, with its two excluded images, the first selected. */
    select_class(page, "crack");
    gtk_selection_model_select_item(selection, 2, TRUE);
    check(app_wait_for(tiles_loaded, grid), "the thumbnails of crack did not load");
    gtk_window_set_focus(GTK_WINDOW(window), NULL);
    app_pump(300);
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "dataset-images", opt->suffix);
}

/* The list file of given test images of crack, the split dialog, a re-split. */
static void check_resplit(const AppOptions *opt, LptWindow *window, LptDatasetPage *page,
                          const char *home)
{
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    g_autoptr(GError) error = NULL;
    g_autofree char *line4 = g_build_filename(home, "Datasets", "line4", NULL);
    g_autofree char *list = g_build_filename(line4, "test.txt", NULL);
    static const ClassSpec given[] = {{"crack", 6}};
    GString *lines = g_string_new(NULL);
    for (int i = 0; i < given[0].count; i++)
        g_string_append_printf(lines, "crack/crack_%04d.png crack\n", i);
    gboolean made = make_dataset(line4, given, 1, 4, &error) &&
                    write_file(list, lines->str, lines->len, &error);
    g_string_free(lines, TRUE);
    check(made, "making the list of given test images: %s", error ? error->message : "");
    g_autoptr(GFile) source = g_file_new_for_path(list);
    check(lpt_dataset_page_import(page, &source, 1, LPT_IMPORT_SOURCE_DETECT),
          "the page refused the list import");
    check(app_wait_for(app_import_finished, page), "the list import did not finish");
    app_pump(200);
    g_autofree char *prefix = g_build_filename(line4, "crack", "", NULL);
    g_autoptr(GArray) given_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) given_splits = g_array_new(FALSE, FALSE, sizeof(int));
    images_under(store, prefix, given_ids, given_splits);
    gboolean all_test = given_ids->len == 6;
    for (guint i = 0; i < given_splits->len; i++)
        all_test = all_test && g_array_index(given_splits, int, i) == LPT_STORE_SPLIT_TEST;
    check(all_test, "the list test.txt gave %u images, not 6 all in test", given_ids->len);

    /* The dialog shows the project's settings; Cancel changes nothing. */
    LptStoreSplitSettings before = {0};
    lpt_store_split_latest(store, &before, NULL);
    check(gtk_widget_activate_action(GTK_WIDGET(page), "dataset.split-settings", NULL),
          "dataset.split-settings is missing");
    app_pump(300);
    LptSplitDialog *dialog = LPT_SPLIT_DIALOG(app_find_toplevel(LPT_TYPE_SPLIT_DIALOG));
    check(dialog != NULL, "dataset.split-settings showed no dialog");
    if (dialog == NULL)
        return;
    LptSplitConfig shown;
    lpt_split_dialog_get_config(dialog, &shown);
    check(fabs(shown.val_fraction - before.val_fraction) < 1e-9 &&
              fabs(shown.test_fraction - before.test_fraction) < 1e-9 &&
              shown.min_per_class == before.min_per_class && shown.seed == before.seed,
          "the dialog shows val %g test %g min %d seed %llu; the project has %g %g %d %llu",
          shown.val_fraction, shown.test_fraction, (int)shown.min_per_class,
          (unsigned long long)shown.seed, before.val_fraction, before.test_fraction,
          (int)before.min_per_class, (unsigned long long)before.seed);
    app_save_screenshot(GTK_WIDGET(dialog), GTK_WIDGET(dialog), opt->screenshots, "split-settings",
                    opt->suffix);
    adw_message_dialog_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
    app_pump(200);
    LptStoreSplitSettings latest = {0};
    lpt_store_split_latest(store, &latest, NULL);
    check(!lpt_dataset_page_is_resplitting(page) && latest.id == before.id,
          "Cancel in the split dialog changed the project");

    /* Re-split: 20 % val, 15 % test, at least 2, seed 42. */
    gtk_widget_activate_action(GTK_WIDGET(page), "dataset.split-settings", NULL);
    app_pump(300);
    dialog = LPT_SPLIT_DIALOG(app_find_toplevel(LPT_TYPE_SPLIT_DIALOG));
    check(dialog != NULL, "the split dialog did not open again");
    if (dialog == NULL)
        return;
    LptSplitConfig cfg = {.train_fraction = 0.65, .val_fraction = 0.2, .test_fraction = 0.15,
                          .min_per_class = 2, .seed = 42};
    lpt_split_dialog_set_config(dialog, &cfg);
    LptSplitConfig read_back;
    lpt_split_dialog_get_config(dialog, &read_back);
    check(fabs(read_back.train_fraction - 0.65) < 1e-9 && read_back.min_per_class == 2 &&
              read_back.seed == 42,
          "the dialog reads back train %g min %d seed %llu", read_back.train_fraction,
          (int)read_back.min_per_class, (unsigned long long)read_back.seed);
    gint64 started = g_get_monotonic_time();
    adw_message_dialog_response(ADW_MESSAGE_DIALOG(dialog), "resplit");
    check(lpt_dataset_page_is_resplitting(page), "Re-split started nothing");
    check(app_wait_for(resplit_finished, page), "the re-split did not finish");
    printf("re-split of the project: %.0f ms\n", (g_get_monotonic_time() - started) / 1e3);
    app_pump(200);

    GListModel *model = lpt_dataset_page_get_class_model(page);
    for (guint r = 0; r < g_list_model_get_n_items(model); r++) {
        g_autoptr(LptClassRow) row = g_list_model_get_item(model, r);
        gint64 n = lpt_class_row_get_total(row), tr = 0, va = 0, te = 0;
        lpt_split_targets(&read_back, n, &tr, &va, &te, NULL);
        check(lpt_class_row_get_count(row, LPT_STORE_SPLIT_TRAIN) == tr &&
                  lpt_class_row_get_count(row, LPT_STORE_SPLIT_VAL) == va &&
                  lpt_class_row_get_count(row, LPT_STORE_SPLIT_TEST) == te &&
                  lpt_class_row_get_count(row, LPT_STORE_SPLIT_NONE) == 0,
              "after the re-split %s (%lld) has %lld/%lld/%lld, expected %lld/%lld/%lld",
              lpt_class_row_get_name(row), (long long)n,
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_TRAIN),
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_VAL),
              (long long)lpt_class_row_get_count(row, LPT_STORE_SPLIT_TEST), (long long)tr,
              (long long)va, (long long)te);
    }
    g_array_set_size(given_ids, 0);
    g_array_set_size(given_splits, 0);
    images_under(store, prefix, given_ids, given_splits);
    all_test = given_ids->len == 6;
    for (guint i = 0; i < given_splits->len; i++)
        all_test = all_test && g_array_index(given_splits, int, i) == LPT_STORE_SPLIT_TEST;
    check(all_test, "the re-split moved images that test.txt put in test");
    lpt_store_split_latest(store, &latest, NULL);
    check(latest.id > before.id && latest.seed == 42 && latest.min_per_class == 2 &&
              fabs(latest.val_fraction - 0.2) < 1e-9 && fabs(latest.test_fraction - 0.15) < 1e-9 &&
              latest.user_given == 1,
          "the project's split settings after the re-split: id %lld seed %llu min %d val %g "
          "test %g given %d",
          (long long)latest.id, (unsigned long long)latest.seed, (int)latest.min_per_class,
          latest.val_fraction, latest.test_fraction, latest.user_given);
}

/* The preferences list the CPU and every Vulkan device, and write the settings. */
static void check_preferences(const AppOptions *opt, LptApplication *app)
{
    g_action_group_activate_action(G_ACTION_GROUP(app), "preferences", NULL);
    app_pump(200);
    LptPreferencesWindow *prefs =
        LPT_PREFERENCES_WINDOW(app_find_toplevel(LPT_TYPE_PREFERENCES_WINDOW));
    check(prefs != NULL, "app.preferences showed no window");
    if (prefs == NULL)
        return;
    check(app_wait_for(devices_listed, prefs), "the devices were never listed");
    app_pump(100);

    LptDeviceInfo infos[32];
    int n_devices = lpt_device_list(infos, 32, NULL);
    const char *const *values = lpt_preferences_window_get_device_values(prefs);
    guint n_values = g_strv_length((char **)values);
    AdwComboRow *row = lpt_preferences_window_get_device_row(prefs);
    guint n_shown = g_list_model_get_n_items(adw_combo_row_get_model(row));
    guint want = 2 + (guint)MAX(MIN(n_devices, 32), 0);
    check(n_values == want && n_shown == want && g_str_equal(values[0], "") &&
              g_str_equal(values[1], "cpu"),
          "the device row offers %u (%u shown), expected automatic, cpu and %d devices",
          n_values, n_shown, n_devices);
    for (int i = 0; i < MIN(n_devices, 32) && (guint)i + 2 < n_values; i++)
        check(g_str_equal(values[i + 2], infos[i].name), "device %d is '%s', expected '%s'", i,
              values[i + 2], infos[i].name);
    printf("preferences: %u devices offered:", n_values);
    for (guint i = 0; i < n_values; i++)
        printf(" '%s'", values[i]);
    printf("\n");

    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    adw_combo_row_set_selected(row, 1);
    g_autofree char *device = g_settings_get_string(settings, "device");
    check(g_str_equal(device, "cpu"), "choosing CPU set device to '%s'", device);
    adw_combo_row_set_selected(row, 0);
    g_free(device);
    device = g_settings_get_string(settings, "device");
    check(g_str_equal(device, ""), "choosing Automatic set device to '%s'", device);

    AdwActionRow *cache_row = lpt_preferences_window_get_cache_row(prefs);
    char cache[4096] = "";
    lpt_cache_dir(cache, sizeof cache, NULL);
    check(strstr(adw_action_row_get_subtitle(cache_row), cache) != NULL,
          "the cache row says '%s', not the default '%s'", adw_action_row_get_subtitle(cache_row),
          cache);
    g_settings_set_string(settings, "cache-location", "/tmp/elsewhere");
    check(g_str_equal(adw_action_row_get_subtitle(cache_row), "/tmp/elsewhere"),
          "the cache row did not follow the setting: '%s'",
          adw_action_row_get_subtitle(cache_row));
    check(gtk_widget_activate_action(GTK_WIDGET(prefs), "preferences.reset-cache", NULL),
          "preferences.reset-cache is missing");
    g_autofree char *location = g_settings_get_string(settings, "cache-location");
    check(g_str_equal(location, ""), "reset left the cache location '%s'", location);
    app_pump(200);
    app_save_screenshot(GTK_WIDGET(prefs), GTK_WIDGET(prefs), opt->screenshots, "preferences",
                    opt->suffix);
    gtk_window_destroy(GTK_WINDOW(prefs));
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

/* Keeps in *(double *)data the highest fraction the progress bar was set to. */
static void keep_highest_fraction(GObject *bar, GParamSpec *pspec, gpointer data)
{
    double *highest = data;
    *highest = MAX(*highest, gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(bar)));
}

static void run(const AppOptions *opt, const char *home, gpointer data)
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

    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    const char *recent[] = {project, other, missing, NULL};
    g_settings_set_strv(settings, "recent-projects", recent);

    /* The application, as `lpt-studio` starts it. */
    g_autoptr(LptApplication) app = app_new_application();
    g_application_activate(G_APPLICATION(app));
    GList *windows = gtk_application_get_windows(GTK_APPLICATION(app));
    check(windows != NULL && LPT_IS_WINDOW(windows->data), "activate made no window");
    if (windows == NULL)
        return;
    LptWindow *window = LPT_WINDOW(windows->data);
    gtk_window_set_default_size(GTK_WINDOW(window), 1200, 760);
    check(app_wait_for(app_widget_is_mapped, window), "the window never mapped");
    app_pump(600);

    check(lpt_window_get_project(window) == NULL, "a project is open before any was opened");
    check(gtk_widget_has_css_class(GTK_WIDGET(window), "devel") ==
              g_str_equal(PROFILE, "development"),
          "the window's devel style class does not match the %s profile", PROFILE);
    check(g_str_equal(g_application_get_application_id(G_APPLICATION(app)), APP_ID),
          "the application id is %s", g_application_get_application_id(G_APPLICATION(app)));
    check(lpt_welcome_page_get_n_recent(lpt_window_get_welcome_page(window)) == 3,
          "welcome page lists %u recent projects, expected 3",
          lpt_welcome_page_get_n_recent(lpt_window_get_welcome_page(window)));
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "welcome", opt->suffix);

    /* Open the project (`lpt-studio Castings.lptproj`): it goes into this window. */
    g_autoptr(GFile) file = g_file_new_for_path(project);
    g_application_open(G_APPLICATION(app), &file, 1, "");
    app_pump(300);
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
    app_pump(300);
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
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
    GtkWidget *bar = app_find_widget(GTK_WIDGET(page), GTK_TYPE_PROGRESS_BAR);
    check(bar != NULL, "no progress bar on the dataset page");
    double highest_fraction = 0.0;
    gulong fraction_handler =
        bar != NULL ? g_signal_connect(bar, "notify::fraction", G_CALLBACK(keep_highest_fraction),
                                       &highest_fraction)
                    : 0;
    AppProbe probe;
    app_probe_start(&probe);
    check(lpt_dataset_page_import(page, &source, 1, LPT_IMPORT_SOURCE_DETECT),
          "the page refused the import");
    check(!lpt_dataset_page_import(page, &source, 1, LPT_IMPORT_SOURCE_DETECT),
          "the page started a second import while one runs");
    check(app_wait_for(app_import_finished, page), "the import did not finish in %d s",
          APP_WAIT_LIMIT_S);
    double seconds = (g_get_monotonic_time() - probe.started_us) / 1e6;
    app_probe_stop(&probe);
    if (fraction_handler != 0)
        g_signal_handler_disconnect(bar, fraction_handler);
    gint64 n_files = 5; /* the junk of add_junk() */
    for (gsize c = 0; c < N_SECOND; c++)
        n_files += second_classes[c].count;
    printf("import of %lld files: %.2f s; ", (long long)n_files, seconds);
    app_probe_check(&probe, "during the import");
    check(highest_fraction > 0.0, "no import progress reached the progress bar");

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
    app_pump(400);
    check_dataset_page(page, expected, N_SECOND, "after the import");
    gtk_window_set_focus(GTK_WINDOW(window), NULL);
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "dataset", opt->suffix);

    /* A cancelled import leaves the project as it was. */
    g_autoptr(GFile) third_source = g_file_new_for_path(third);
    check(lpt_dataset_page_import(page, &third_source, 1, LPT_IMPORT_SOURCE_FOLDER),
          "the page refused the import to cancel");
    lpt_dataset_page_cancel_import(page);
    check(app_wait_for(app_import_finished, page), "the cancelled import did not end");
    const GError *cancel_error = lpt_dataset_page_get_last_error(page);
    check(g_error_matches(cancel_error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
          "the cancelled import ended with '%s'",
          cancel_error != NULL ? cancel_error->message : "success");
    app_pump(200);
    check_dataset_page(page, expected, N_SECOND, "after the cancelled import");

    /* A source that is not there: the import fails with the core's words in a dialog. */
    g_autofree char *nowhere = g_build_filename(home, "Datasets", "nowhere", NULL);
    g_autoptr(GFile) nowhere_source = g_file_new_for_path(nowhere);
    check(lpt_dataset_page_import(page, &nowhere_source, 1, LPT_IMPORT_SOURCE_FOLDER),
          "the page refused the import of a missing folder");
    check(app_wait_for(app_import_finished, page), "the failing import did not end");
    const GError *failure = lpt_dataset_page_get_last_error(page);
    check(failure != NULL && failure->domain == LPT_CORE_ERROR &&
              strstr(failure->message, "nowhere") != NULL,
          "the import of a missing folder ended with '%s'",
          failure != NULL ? failure->message : "success");
    app_pump(200);
    dialog = ADW_MESSAGE_DIALOG(app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
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
    app_pump(300);
    GtkWidget *chooser = app_find_toplevel(GTK_TYPE_FILE_CHOOSER_DIALOG);
    check(chooser != NULL, "win.import('csv') showed no file chooser");
    if (chooser != NULL)
        gtk_dialog_response(GTK_DIALOG(chooser), GTK_RESPONSE_CANCEL);
    app_pump(100);
    check(!lpt_dataset_page_is_importing(page), "a cancelled file chooser started an import");

    /* The About window names the version and the build; the shortcuts window opens. */
    g_action_group_activate_action(G_ACTION_GROUP(app), "about", NULL);
    app_pump(200);
    AdwAboutWindow *about = ADW_ABOUT_WINDOW(app_find_toplevel(ADW_TYPE_ABOUT_WINDOW));
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
    app_pump(200);
    GtkWidget *shortcuts = app_find_toplevel(GTK_TYPE_SHORTCUTS_WINDOW);
    check(shortcuts != NULL && gtk_widget_get_visible(shortcuts),
          "the keyboard shortcuts window did not show");
    if (shortcuts != NULL)
        gtk_widget_set_visible(shortcuts, FALSE);

    check_class_images(opt, window, page);
    check_resplit(opt, window, page, home);
    check_preferences(opt, app);

    /* Translations: the Japanese run must show Japanese. */
    if (opt->expect_translated) {
        static const char *const samples[] = {"Dataset", "Welcome to LPT Studio",
                                              "Project Already Open", "Last Import",
                                              "Split Settings", "Hide the Images"};
        app_check_translated(samples, G_N_ELEMENTS(samples));
    }

    /* Closing the window lets the project go: the core can lock it again. */
    gtk_window_close(GTK_WINDOW(window));
    check(app_wait_for(app_has_no_windows, app), "the window did not close");
    app_pump(100);
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_OPEN, &err);
    check(store != NULL, "the project is still locked after its window closed: %s", err.message);
    lpt_store_close(store);
}

int main(int argc, char **argv)
{
    const AppTest test = {.name = "app", .run = run};
    return app_run_test(&test, argc, argv);
}

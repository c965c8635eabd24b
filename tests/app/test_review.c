/* test_review.c: the Review page (overview, confusion matrix, image inspector) driven
 * in-process, as a user would, under Xvfb (suite 'app').
 *
 * In a temporary HOME it makes a trained project with tests/app/make_review_project.sh (a
 * reduced Fashion-MNIST-LT, the demo backbones, two runs evaluated on the test split through
 * the `lpt` command line; skip, 77, when Debian's Fashion-MNIST is not installed) and reads
 * `lpt eval --json --no-record` of both runs. Then it runs the real LptApplication and checks:
 *   - the Review page lists both runs, newest first, and reads each off the main thread;
 *   - the headline metrics of every model (overall, balanced, many / medium / few, worst
 *     class), the per-class table (train count, group, support, precision, recall) and the
 *     confusion matrix equal `lpt eval --json`'s, number for number, and the page shows them;
 *   - the confusion matrix: a cell's centre maps back to the cell, its tooltip names both
 *     classes and the count; a click on the largest off-diagonal cell lists exactly the
 *     images the store's predictions put there, as thumbnails;
 *   - the inspector of the first image: the image decodes, the fused top-5 shows, Next and
 *     Previous walk the cell's images; typing a class name into its relabel popover moves
 *     the image: the inspector's label and history, the store's label history (with its
 *     reason) and the Dataset page's counts all follow; Exclude and Include change the
 *     store and the review (the image leaves the counted images and comes back);
 *   - with --measure: the synthetic project of tests/synth_review.h, 10^4 evaluated test
 *     images over 100 classes (thumbnails of the largest class in the cache): its matrix
 *     zooms, scrolls to its last cell and fits again (a screenshot at 100 classes); the time from
 *     giving the Review page the project to its first paint with the data, and the worst
 *     main-loop stall while scrolling the 1090 thumbnails of a class, are reported (not
 *     asserted: timings are for benchmarks).
 * Screenshots of the Review page and the inspector go into the --screenshots folder (names
 * end in --suffix; --expect-translated checks that the page's strings are translated).
 *
 * Usage: test_review --screenshots DIR --localedir DIR --lpt LPT --make-project SCRIPT
 *        [--suffix S] [--expect-translated] [--measure]
 * Prints "review: N passed, N failed" last; exits 0 only when nothing failed, 77 on a skip.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_application.h"
#include "lpt_class_row.h"
#include "lpt_image_id_list.h"
#include "lpt_image_inspector.h"
#include "lpt_image_tile.h"
#include "lpt_paths.h"
#include "lpt_relabel_popover.h"
#include "lpt_review_class_row.h"
#include "synth_review.h"

#define check app_check

/* The options beyond AppOptions'. */
typedef struct {
    const char *lpt;
    const char *script; /* make_review_project.sh */
    gboolean measure;
} Options;

/* ---- Conditions ---- */

static gboolean review_loaded(gpointer data)
{
    LptReviewPage *page = data;
    return !lpt_review_page_is_loading(page) &&
           (lpt_review_page_get_review(page) != NULL || lpt_review_page_get_last_error(page));
}

static gboolean inspector_has_image(gpointer data)
{
    return lpt_image_inspector_has_image(LPT_IMAGE_INSPECTOR(data));
}

/* Every tile of the grid that is bound shows its thumbnail (and there is one). */
static gboolean tiles_loaded(gpointer data)
{
    guint bound = 0, shown = 0;
    for (GtkWidget *child = gtk_widget_get_first_child(GTK_WIDGET(data)); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *tile = gtk_widget_get_first_child(child);
        if (tile == NULL || !LPT_IS_IMAGE_TILE(tile) || !gtk_widget_get_child_visible(child) ||
            lpt_image_tile_get_item(LPT_IMAGE_TILE(tile)) == NULL)
            continue;
        bound++;
        shown += lpt_image_tile_has_thumbnail(LPT_IMAGE_TILE(tile));
    }
    return bound > 0 && shown == bound;
}

typedef struct {
    gboolean painted;
    gint64 at_us;
} Paint;

static void on_after_paint(GdkFrameClock *clock, gpointer data)
{
    Paint *paint = data;
    if (!paint->painted) {
        paint->painted = TRUE;
        paint->at_us = g_get_monotonic_time();
    }
}

static gboolean was_painted(gpointer data)
{
    return ((Paint *)data)->painted;
}

/* ---- The project and `lpt eval --json` ---- */

/* `lpt eval --json --no-record` of the run, parsed; NULL, a failed check saying why, when it
 * fails. */
static cJSON *eval_json(const char *lpt, const char *project, int run)
{
    g_autofree char *run_text = g_strdup_printf("%d", run);
    const char *argv[] = {lpt,      "eval",   "--project",   project, "--run",
                          run_text, "--json", "--no-record", NULL};
    g_autofree char *out = NULL;
    int status = app_run_command(argv, &out);
    check(status == 0, "lpt eval --run %d exited with %d", run, status);
    cJSON *json = status == 0 ? cJSON_Parse(out) : NULL;
    check(json != NULL, "lpt eval --run %d printed no JSON", run);
    return json;
}

/* ---- The overview against `lpt eval --json` ---- */

static double json_rate(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

/* Whether a rate is what `lpt eval --json` printed for it: cJSON prints a number with 15
 * significant digits when they read back within its epsilon, so the test compares the text
 * cJSON writes for both (null for NaN) rather than the doubles. */
static gboolean same_rate(double got, double printed)
{
    if (isnan(got) || isnan(printed))
        return isnan(got) && isnan(printed);
    cJSON *a = cJSON_CreateNumber(got), *b = cJSON_CreateNumber(printed);
    char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
    gboolean same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
    cJSON_free(ta);
    cJSON_free(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return same;
}

/* "69.12 %" as the page writes a rate. */
static char *rate_text(double rate)
{
    return isnan(rate) ? g_strdup("–") : g_strdup_printf(_("%.*f %%"), 2, 100.0 * rate);
}

static void check_model(LptReviewPage *page, const cJSON *json, LptStoreExpert model,
                        const char *what)
{
    const LptReview *review = lpt_review_page_get_review(page);
    const LptEvalMetrics *m = lpt_review_metrics(review, model);
    check((m != NULL) == (json != NULL), "%s: the page has the model: %d, lpt eval: %d", what,
          m != NULL, json != NULL);
    if (m == NULL || json == NULL)
        return;
    static const char *const keys[] = {"overall", "balanced", "many", "medium", "few"};
    const double got[] = {m->overall, m->balanced, m->many, m->medium, m->few};
    for (int c = 0; c < 5; c++) {
        double want = json_rate(json, keys[c]);
        check(same_rate(got[c], want), "%s: %s %.17g, lpt eval %.17g", what, keys[c], got[c], want);
        g_autofree char *text = rate_text(want);
        const char *shown = lpt_review_page_get_metric_text(page, model, c);
        check(g_strcmp0(shown, text) == 0, "%s: the page shows %s '%s', expected '%s'", what,
              keys[c], shown, text);
    }
    check(same_rate(m->worst_recall, json_rate(json, "worst_recall")), "%s: worst recall %.17g",
          what, m->worst_recall);
    const cJSON *worst = cJSON_GetObjectItemCaseSensitive(json, "worst_class");
    const char *worst_name =
        m->worst_class >= 0 ? lpt_review_class_name(review, m->worst_class) : NULL;
    check(cJSON_IsString(worst) && g_strcmp0(worst_name, worst->valuestring) == 0,
          "%s: worst class %s, lpt eval %s", what, worst_name,
          cJSON_IsString(worst) ? worst->valuestring : "null");
    const char *worst_shown = lpt_review_page_get_metric_text(page, model, 5);
    check(worst_shown != NULL && worst_name != NULL && strstr(worst_shown, worst_name) != NULL,
          "%s: the page shows the worst class as '%s'", what, worst_shown);

    const cJSON *per_class = cJSON_GetObjectItemCaseSensitive(json, "per_class");
    const cJSON *confusion = cJSON_GetObjectItemCaseSensitive(json, "confusion");
    int K = m->num_classes, bad = 0, bad_cells = 0;
    check(cJSON_GetArraySize(per_class) == K && cJSON_GetArraySize(confusion) == K,
          "%s: %d classes, lpt eval %d", what, K, cJSON_GetArraySize(per_class));
    for (int k = 0; k < K && k < cJSON_GetArraySize(per_class); k++) {
        const cJSON *c = cJSON_GetArrayItem(per_class, k);
        const LptEvalClass *e = &m->classes[k];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *group = cJSON_GetObjectItemCaseSensitive(c, "group");
        bad += !cJSON_IsString(name) ||
               strcmp(name->valuestring, lpt_review_class_name(review, k)) != 0 ||
               !cJSON_IsString(group) || strcmp(group->valuestring, lpt_group_name(e->group)) ||
               json_rate(c, "train") != (double)e->train_count ||
               json_rate(c, "support") != (double)e->support ||
               !same_rate(json_rate(c, "precision"), e->precision) ||
               !same_rate(json_rate(c, "recall"), e->recall);
        const cJSON *row = cJSON_GetArrayItem(confusion, k);
        for (int j = 0; j < K; j++) {
            const cJSON *cell = cJSON_GetArrayItem(row, j);
            bad_cells += !cJSON_IsNumber(cell) ||
                         cell->valuedouble != (double)m->confusion[(size_t)k * K + j];
        }
    }
    check(bad == 0, "%s: %d classes differ from lpt eval's", what, bad);
    check(bad_cells == 0, "%s: %d confusion cells differ from lpt eval's", what, bad_cells);
}

static void check_run(LptReviewPage *page, const cJSON *json, gint64 run_id)
{
    if (json == NULL)
        return;
    check(lpt_review_page_select_run(page, run_id), "the run picker has no run %lld",
          (long long)run_id);
    check(app_wait_for(review_loaded, page), "run %lld was not read", (long long)run_id);
    const LptReview *review = lpt_review_page_get_review(page);
    check(review != NULL && lpt_review_run_id(review) == run_id,
          "the page shows run %lld, expected %lld (%s)",
          review != NULL ? (long long)lpt_review_run_id(review) : 0LL, (long long)run_id,
          lpt_review_page_get_last_error(page) ? lpt_review_page_get_last_error(page)->message
                                               : "no error");
    if (review == NULL)
        return;
    check(lpt_review_image_count(review) == (int64_t)json_rate(json, "images"),
          "run %lld: %lld images, lpt eval %g", (long long)run_id,
          (long long)lpt_review_image_count(review), json_rate(json, "images"));
    char what[64];
    snprintf(what, sizeof what, "run %lld fused", (long long)run_id);
    check_model(page, cJSON_GetObjectItemCaseSensitive(json, "fused"), LPT_STORE_EXPERT_FUSED,
                what);
    const cJSON *experts = cJSON_GetObjectItemCaseSensitive(json, "experts");
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        const char *name = lpt_store_expert_name((LptStoreExpert)e);
        snprintf(what, sizeof what, "run %lld %s", (long long)run_id, name);
        check_model(page, cJSON_GetObjectItemCaseSensitive(experts, name), (LptStoreExpert)e, what);
    }
    /* the table shows a row per class */
    GListModel *rows = lpt_review_page_get_class_model(page);
    check(g_list_model_get_n_items(rows) == (guint)lpt_review_num_classes(review),
          "the class table has %u rows, expected %d", g_list_model_get_n_items(rows),
          lpt_review_num_classes(review));
}

/* ---- A confusion cell and the inspector ---- */

/* The Dataset page's test count of the class named name. */
static gint64 dataset_test_count(LptWindow *window, const char *name)
{
    GListModel *model = lpt_dataset_page_get_class_model(lpt_window_get_dataset_page(window));
    for (guint i = 0; i < g_list_model_get_n_items(model); i++) {
        g_autoptr(LptClassRow) row = g_list_model_get_item(model, i);
        if (g_str_equal(lpt_class_row_get_name(row), name))
            return lpt_class_row_get_count(row, LPT_STORE_SPLIT_TEST);
    }
    return -1;
}

/* The label history's rows of an image in the store. */
static size_t history_rows(LptStore *store, gint64 image_id, LptStoreLabelChange **last)
{
    LptStoreLabelChange *changes = NULL;
    size_t n = 0;
    lpt_store_label_history(store, image_id, &changes, &n, NULL);
    if (last != NULL)
        *last = changes; /* the caller frees */
    else
        free(changes);
    return n;
}

static void check_inspector(const AppOptions *opt, LptWindow *window, LptReviewPage *page,
                            const gint64 *ids, guint n, const char *true_name)
{
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    g_signal_emit_by_name(lpt_review_page_get_image_grid(page), "activate", 0u);
    app_pump(200);
    GtkWidget *found = app_find_toplevel(LPT_TYPE_IMAGE_INSPECTOR);
    check(found != NULL, "activating an image showed no inspector");
    if (found == NULL)
        return;
    LptImageInspector *inspector = LPT_IMAGE_INSPECTOR(found);
    gtk_window_set_default_size(GTK_WINDOW(inspector), 1040, 700);
    check(lpt_image_inspector_get_image_id(inspector) == ids[0],
          "the inspector shows image %lld, expected %lld",
          (long long)lpt_image_inspector_get_image_id(inspector), (long long)ids[0]);
    check(app_wait_for(inspector_has_image, inspector), "the inspector's image never decoded");
    check(lpt_image_inspector_get_n_fused(inspector) == 5,
          "the inspector shows %u fused classes, expected the top 5",
          lpt_image_inspector_get_n_fused(inspector));
    check(g_strcmp0(lpt_image_inspector_get_label(inspector), true_name) == 0,
          "the inspector's label is '%s', expected '%s'", lpt_image_inspector_get_label(inspector),
          true_name);
    if (n > 1) {
        check(lpt_image_inspector_step(inspector, 1) &&
                  lpt_image_inspector_get_image_id(inspector) == ids[1],
              "Next did not show the cell's second image");
        check(lpt_image_inspector_step(inspector, -1) &&
                  lpt_image_inspector_get_image_id(inspector) == ids[0],
              "Previous did not come back to the first image");
        check(app_wait_for(inspector_has_image, inspector), "the image did not decode again");
    }
    check(!lpt_image_inspector_step(inspector, -1), "Previous went before the first image");

    /* Relabel by typing into the popover, as the keyboard does. */
    const LptReview *review = lpt_review_page_get_review(page);
    const char *target = NULL;
    for (int k = 0; k < lpt_review_num_classes(review) && target == NULL; k++)
        if (strcmp(lpt_review_class_name(review, k), true_name) != 0)
            target = lpt_review_class_name(review, k);
    g_autofree char *target_name = g_strdup(target);
    gint64 before_old = dataset_test_count(window, true_name);
    gint64 before_new = dataset_test_count(window, target_name);
    size_t before = history_rows(store, ids[0], NULL);
    guint shown_before = lpt_image_inspector_get_n_history(inspector);
    check(gtk_widget_activate_action(GTK_WIDGET(inspector), "inspector.relabel", NULL),
          "the inspector has no relabel action");
    app_pump(200);
    LptRelabelPopover *popover =
        LPT_RELABEL_POPOVER(app_find_widget(GTK_WIDGET(inspector), LPT_TYPE_RELABEL_POPOVER));
    check(popover != NULL && gtk_widget_get_visible(GTK_WIDGET(popover)),
          "the relabel popover did not open");
    if (popover != NULL) {
        GtkEditable *entry = lpt_relabel_popover_get_entry(popover);
        gtk_editable_set_text(entry, target_name);
        g_signal_emit_by_name(entry, "activate");
        app_pump(300);
    }
    LptStoreLabelChange *changes = NULL;
    size_t after = history_rows(store, ids[0], &changes);
    LptStoreImage *image = NULL;
    lpt_store_image_get(store, ids[0], &image, NULL);
    int64_t target_id = 0;
    lpt_store_class_ensure(store, target_name, &target_id, NULL, NULL);
    check(after == before + 1 && changes[after - 1].new_class_id == target_id &&
              strcmp(changes[after - 1].reason, "relabelled in the review inspector") == 0,
          "the store's label history has %zu rows (was %zu) after the relabel", after, before);
    check(image != NULL && image->class_id == target_id, "the image's class did not change");
    check(lpt_image_inspector_get_n_history(inspector) == shown_before + 1 &&
              g_strcmp0(lpt_image_inspector_get_label(inspector), target_name) == 0,
          "the inspector shows %u history rows (was %u) and label '%s' after the relabel",
          lpt_image_inspector_get_n_history(inspector), shown_before,
          lpt_image_inspector_get_label(inspector));
    free(changes);
    free(image);
    check(dataset_test_count(window, true_name) == before_old - 1 &&
              dataset_test_count(window, target_name) == before_new + 1,
          "the Dataset page's test counts did not follow: %s %lld -> %lld, %s %lld -> %lld",
          true_name, (long long)before_old, (long long)dataset_test_count(window, true_name),
          target_name, (long long)before_new, (long long)dataset_test_count(window, target_name));
    GtkWidget *content = adw_window_get_content(ADW_WINDOW(inspector));
    app_pump(300);
    app_save_screenshot(GTK_WIDGET(inspector), content, opt->screenshots, "review-inspector",
                        opt->suffix);

    /* Exclude, then include again: the review leaves the image out, then counts it again. */
    int64_t counted = lpt_review_image_count(lpt_review_page_get_review(page));
    g_autoptr(GError) error = NULL;
    check(lpt_image_inspector_toggle_excluded(inspector, &error), "exclude: %s",
          error != NULL ? error->message : "");
    check(app_wait_for(review_loaded, page), "the review was not read again after the exclusion");
    lpt_store_image_get(store, ids[0], &image, NULL);
    check(image != NULL && image->excluded, "the image is not excluded in the store");
    free(image);
    const LptReview *now = lpt_review_page_get_review(page);
    check(now != NULL && lpt_review_image_count(now) == counted - 1,
          "the review counts %lld images after the exclusion, expected %lld",
          now != NULL ? (long long)lpt_review_image_count(now) : -1LL, (long long)(counted - 1));
    check(lpt_image_inspector_toggle_excluded(inspector, &error), "include: %s",
          error != NULL ? error->message : "");
    check(app_wait_for(review_loaded, page), "the review was not read again after the inclusion");
    now = lpt_review_page_get_review(page);
    check(now != NULL && lpt_review_image_count(now) == counted,
          "the review counts %lld images after the inclusion, expected %lld",
          now != NULL ? (long long)lpt_review_image_count(now) : -1LL, (long long)counted);
    check(history_rows(store, ids[0], NULL) == after, "exclusion changed the label history");
    gtk_window_close(GTK_WINDOW(inspector));
    app_pump(100);
}

static void check_cell(const AppOptions *opt, LptWindow *window, LptReviewPage *page)
{
    const LptReview *review = lpt_review_page_get_review(page);
    const LptEvalMetrics *m = lpt_review_metrics(review, LPT_STORE_EXPERT_FUSED);
    int K = m->num_classes, row = -1, column = -1;
    gint64 most = 0;
    for (int r = 0; r < K; r++)
        for (int c = 0; c < K; c++)
            if (r != c && m->confusion[(size_t)r * K + c] > most) {
                most = m->confusion[(size_t)r * K + c];
                row = r;
                column = c;
            }
    check(row >= 0, "the fused model made no mistake to look at");
    if (row < 0)
        return;

    LptConfusionMatrix *matrix = lpt_review_page_get_matrix(page);
    double x, y;
    int r2 = -1, c2 = -1;
    check(lpt_confusion_matrix_cell_center(matrix, row, column, &x, &y) &&
              lpt_confusion_matrix_cell_at(matrix, x, y, &r2, &c2) && r2 == row && c2 == column,
          "the matrix's cell (%d, %d) maps back to (%d, %d)", row, column, r2, c2);
    g_autofree char *tip = lpt_confusion_matrix_describe_cell(matrix, row, column);
    g_autofree char *count = g_strdup_printf("%lld", (long long)most);
    check(tip != NULL && strstr(tip, lpt_review_class_name(review, row)) &&
              strstr(tip, lpt_review_class_name(review, column)) && strstr(tip, count),
          "the cell's tooltip is '%s'", tip);
    lpt_confusion_matrix_activate_cell(matrix, row, column); /* what a click does */
    app_pump(200);

    guint n = 0;
    const gint64 *shown =
        lpt_image_id_list_get_ids(LPT_IMAGE_ID_LIST(lpt_review_page_get_images(page)), &n);
    check(n == (guint)most, "the cell lists %u images, the matrix counts %lld", n, (long long)most);
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    int wrong = 0;
    for (guint i = 0; i < n; i++) {
        LptStorePrediction *p = NULL;
        lpt_store_prediction_get(store, lpt_review_run_id(review), shown[i], &p, NULL);
        wrong += p == NULL || p->label_index != row || p->fused_topk[0].class_index != column;
        free(p);
    }
    check(wrong == 0, "%d of the cell's images are not (%d, %d) in the store", wrong, row, column);
    check(app_wait_for(tiles_loaded, lpt_review_page_get_image_grid(page)),
          "the cell's thumbnails did not load");
    app_pump(200);
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "review", opt->suffix);
    if (n > 0) {
        g_autofree gint64 *ids = g_memdup2(shown, n * sizeof *shown);
        g_autofree char *true_name = g_strdup(lpt_review_class_name(review, row));
        check_inspector(opt, window, page, ids, n, true_name);
    }
}

/* The synthetic project: the Review page's first paint, its matrix at 100 classes, scrolling
 * the thumbnails of its largest class. */
static void measure(const AppOptions *opt, LptApplication *app, const char *home)
{
    g_autofree char *path = g_build_filename(home, "Projects", "Synthetic.lptproj", NULL);
    char cache_dir[4096];
    LptError err = {0};
    int64_t run_id = 0;
    gint64 made = g_get_monotonic_time();
    gboolean ok = lpt_cache_dir(cache_dir, sizeof cache_dir, &err) == LPT_OK &&
                  synth_review_make(path, cache_dir, &run_id, &err) == LPT_OK;
    check(ok, "making the synthetic project: %s", err.message);
    if (!ok)
        return;
    printf("measure: synthetic project of %d evaluated images, %d classes made in %.1f s\n",
           SYNTH_REVIEW_IMAGES, SYNTH_REVIEW_CLASSES, (g_get_monotonic_time() - made) / 1e6);

    LptWindow *window = app_open_project(app, path, FALSE, 1400, 900);
    if (window == NULL)
        return;
    lpt_window_show_page(window, "review");
    LptReviewPage *page = lpt_window_get_review_page(window);
    check(app_wait_for(review_loaded, page), "the synthetic run was not read");
    app_pump(500);

    /* The page from no project to its first paint with the data, three times. */
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(page));
    LptProject *project = g_object_ref(lpt_window_get_project(window));
    double best = INFINITY, worst = 0.0;
    for (int round = 0; round < 3; round++) {
        lpt_review_page_set_project(page, NULL);
        app_pump(200);
        Paint paint = {0};
        gint64 started = g_get_monotonic_time();
        lpt_review_page_set_project(page, project);
        check(app_wait_for(review_loaded, page), "the synthetic run was not read again");
        gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), &paint);
        gtk_widget_queue_draw(GTK_WIDGET(page));
        check(app_wait_for(was_painted, &paint), "the page was not painted");
        g_signal_handler_disconnect(clock, id);
        double ms = (paint.at_us - started) / 1e3;
        best = MIN(best, ms);
        worst = MAX(worst, ms);
    }
    g_object_unref(project);
    const LptReview *review = lpt_review_page_get_review(page);
    check(review != NULL && lpt_review_run_id(review) == run_id &&
              lpt_review_image_count(review) == SYNTH_REVIEW_IMAGES,
          "the synthetic review has %lld images",
          review != NULL ? (long long)lpt_review_image_count(review) : -1LL);
    printf("measure: Review page of %d evaluated images, %d classes: first paint with the data "
           "%.0f ms after the page got the project (best of 3; worst %.0f ms), target 1000 ms\n",
           SYNTH_REVIEW_IMAGES, SYNTH_REVIEW_CLASSES, best, worst);

    /* The matrix at 100 classes: fitted, then zoomed in until it scrolls, the last cell
     * brought into view and found again under its centre; names readable (screenshot). */
    LptConfusionMatrix *matrix = lpt_review_page_get_matrix(page);
    double fitted = lpt_confusion_matrix_get_cell_size(matrix);
    lpt_confusion_matrix_zoom(matrix, 3.0);
    app_pump(200);
    double zoomed = lpt_confusion_matrix_get_cell_size(matrix);
    check(zoomed > fitted * 2.9 || zoomed == LPT_CONFUSION_MATRIX_MAX_CELL,
          "zooming the matrix 3x made its cells %.1f px from %.1f px", zoomed, fitted);
    lpt_confusion_matrix_scroll_to(matrix, SYNTH_REVIEW_CLASSES - 1, SYNTH_REVIEW_CLASSES - 1);
    app_pump(200);
    double cx, cy;
    int last_row = -1, last_column = -1;
    check(lpt_confusion_matrix_cell_center(matrix, SYNTH_REVIEW_CLASSES - 1,
                                           SYNTH_REVIEW_CLASSES - 1, &cx, &cy) &&
              lpt_confusion_matrix_cell_at(matrix, cx, cy, &last_row, &last_column) &&
              last_row == SYNTH_REVIEW_CLASSES - 1 && last_column == SYNTH_REVIEW_CLASSES - 1,
          "the last cell of the zoomed matrix is not where it shows (%d, %d)", last_row,
          last_column);
    lpt_confusion_matrix_activate_cell(matrix, 5, 5);
    app_pump(300);
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "review-100-classes",
                        opt->suffix);
    lpt_confusion_matrix_zoom_to_fit(matrix);
    app_pump(100);
    check(lpt_confusion_matrix_get_cell_size(matrix) == fitted,
          "fitting the matrix again gave %.1f px cells, %.1f px before",
          lpt_confusion_matrix_get_cell_size(matrix), fitted);

    /* Scrolling the thumbnails of the largest class. */
    GtkGridView *grid = lpt_review_page_get_image_grid(page);
    gint64 shown_at = g_get_monotonic_time();
    lpt_review_page_show_images(page, LPT_STORE_EXPERT_FUSED, 0, -1);
    check(app_wait_for(tiles_loaded, grid), "the first thumbnails did not load");
    double first_ms = (g_get_monotonic_time() - shown_at) / 1e3;
    app_pump(200);
    GtkAdjustment *scroll = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(grid));
    AppProbe probe;
    app_probe_start(&probe);
    gint64 started = g_get_monotonic_time();
    int steps = 0;
    for (double before = -1.0; steps < 400 && gtk_adjustment_get_value(scroll) > before;
         steps++) { /* a screen at a time until the end */
        before = gtk_adjustment_get_value(scroll);
        gtk_adjustment_set_value(scroll, before + 0.8 * gtk_adjustment_get_page_size(scroll));
        app_pump(25);
    }
    check(app_wait_for(tiles_loaded, grid), "the thumbnails did not load after scrolling");
    app_probe_stop(&probe);
    double wall_ms, stall_ms = app_probe_stall_ms(&probe, &wall_ms);
    check(steps > 3, "the grid of %d images scrolled only %d screens", SYNTH_REVIEW_BIG_CLASS,
          steps);
    printf("measure: thumbnails of a class of %d images: first screen %.0f ms; scrolled to the "
           "end in %d steps, %.2f s; main loop: %u probe ticks, worst stall %.1f ms (wall clock "
           "%.1f ms)\n",
           SYNTH_REVIEW_BIG_CLASS, first_ms, steps, (g_get_monotonic_time() - started) / 1e6,
           probe.ticks, stall_ms, wall_ms);
    gtk_window_close(GTK_WINDOW(window));
}

/* ---- The run ---- */

static void run(const AppOptions *opt, const char *home, gpointer data)
{
    const Options *extra = data;
    g_autofree char *projects = g_build_filename(home, "Projects", NULL);
    g_autofree char *project = g_build_filename(projects, "Review.lptproj", NULL);
    g_mkdir_with_parents(projects, 0755);
    if (!app_make_review_project(extra->script, project, extra->lpt))
        return;
    cJSON *json[2] = {eval_json(extra->lpt, project, 1), eval_json(extra->lpt, project, 2)};

    g_autoptr(LptApplication) app = app_new_application();
    g_application_hold(G_APPLICATION(app));
    LptWindow *window = app_open_project(app, project, FALSE, 1400, 900);
    if (window != NULL) {
        lpt_window_show_page(window, "review");
        LptReviewPage *page = lpt_window_get_review_page(window);
        check(app_wait_for(review_loaded, page), "the newest run was not read");
        check(lpt_review_page_get_run(page) == 2, "the page picked run %lld, expected the newest",
              (long long)lpt_review_page_get_run(page));
        check_run(page, json[1], 2);
        check_run(page, json[0], 1);
        app_pump(300);
        check_cell(opt, window, page);

        if (opt->expect_translated) {
            static const char *const samples[] = {"No Evaluated Runs", "Confusion Matrix",
                                                  "Fused model", "Label History", "Scorer Weights"};
            app_check_translated(samples, G_N_ELEMENTS(samples));
        }
        gtk_window_close(GTK_WINDOW(window));
        app_pump(200);
    }
    if (extra->measure)
        measure(opt, app, home);
    g_application_release(G_APPLICATION(app));
    check(app_wait_for(app_has_no_windows, app), "the windows did not close");
    cJSON_Delete(json[0]);
    cJSON_Delete(json[1]);
}

int main(int argc, char **argv)
{
    Options opt;
    const AppExtraOption extra[] = {
        {.name = "--lpt", .value_name = "LPT", .value = &opt.lpt, .required = TRUE},
        {.name = "--make-project", .value_name = "SCRIPT", .value = &opt.script, .required = TRUE},
        {.name = "--measure", .flag = &opt.measure},
    };
    const AppTest test = {"review", extra, G_N_ELEMENTS(extra), run, &opt};
    return app_run_test(&test, argc, argv);
}

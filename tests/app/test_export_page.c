/* test_export_page.c: the Export page driven in-process under Xvfb (suite 'app').
 *
 * On the project tests/app/make_review_project.sh trains and evaluates with the `lpt` command
 * line (two finished runs on a reduced Fashion-MNIST-LT: run 1 LPT(++), run 2 the linear
 * probe; skipped with 77 when Debian's Fashion-MNIST is missing), in a window of its own
 * holding the page, it checks:
 *   - the run row lists the two finished runs, newest first, each with its method and its
 *     balanced and few accuracy on the test split as lpt_review computes them; the destination
 *     is named after the project and the run, beside the project, with the format's extension;
 *   - Export runs off the main thread (the page is busy, the main loop keeps turning: worst
 *     stall of the app's own work under APP_STALL_LIMIT_MS) and ends with the parity check
 *     passed on every test image (zero flips, max |Δ| within the target), every stage's bar
 *     full, the file written, a row in the project's exports table whose SHA-256 is the file's,
 *     and that export first in the page's list of exports;
 *   - the deployment prior: "From Training Counts" gives each class its training share, which
 *     for the linear probe (trained on the counts as they come) adjusts nothing; with uniform
 *     shares and one class raised, the adjustment each row shows is the one the export applies
 *     and records (the report's prior JSON), and the export passes again;
 *   - ONNX of run 1: checked under ONNX Runtime for Node.js (onnxruntime-node from npm via
 *     tests/fetch_onnxruntime.sh, as the ONNX unit tests get it) with zero flips and max |Δ|
 *     within the ONNX target; when npm cannot give it, the page says the file was not checked
 *     and still writes and records it;
 *   - Cancel right after Export: the export ends cancelled, writes and records nothing;
 *   - an export to a folder that does not exist fails with the core's message on the page and
 *     writes nothing.
 * Screenshots of the page before, after the export and with the prior open go into the
 * --screenshots folder (names end in --suffix; --expect-translated checks the page's strings
 * are translated).
 *
 * Usage: test_export_page --screenshots DIR --localedir DIR --lpt LPT --make-project SCRIPT
 *        --fetch-onnxruntime SCRIPT --onnxruntime-cache DIR [--suffix S] [--expect-translated]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <cjson/cJSON.h>
#include <glib/gi18n.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_application.h"
#include "lpt_export_page.h"
#include "lpt_hash.h"
#include "lpt_project.h"
#include "lpt_review.h"

#define check app_check

/* The options beyond AppOptions'. */
typedef struct {
    const char *lpt;
    const char *script;
    const char *fetch_ort;
    const char *ort_cache;
} Options;

static const char *tr(const char *text)
{
    return g_dpgettext2(GETTEXT_PACKAGE, "export", text);
}

static gboolean runs_read(gpointer data)
{
    return !lpt_export_page_is_reading_runs(LPT_EXPORT_PAGE(data));
}

static gboolean is_idle(gpointer data)
{
    return !lpt_export_page_is_busy(LPT_EXPORT_PAGE(data));
}

/* The first descendant row whose title is title, or NULL. */
static GtkWidget *find_row(GtkWidget *widget, const char *title)
{
    if (ADW_IS_PREFERENCES_ROW(widget) &&
        g_strcmp0(adw_preferences_row_get_title(ADW_PREFERENCES_ROW(widget)), title) == 0)
        return widget;
    for (GtkWidget *c = gtk_widget_get_first_child(widget); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *hit = find_row(c, title);
        if (hit)
            return hit;
    }
    return NULL;
}

static const char *row_subtitle(GtkWidget *page, const char *title)
{
    GtkWidget *row = find_row(page, title);
    return row != NULL ? adw_action_row_get_subtitle(ADW_ACTION_ROW(row)) : NULL;
}

/* Sets the destination and starts an export; TRUE when it started. */
static gboolean start_export(LptExportPage *page, const char *out)
{
    g_autoptr(GFile) file = g_file_new_for_path(out);
    lpt_export_page_set_destination(page, file);
    if (!lpt_export_page_export(page))
        return FALSE;
    check(lpt_export_page_is_busy(page), "the export runs off the main thread");
    return TRUE;
}

/* Runs an export to `out` and waits for it; TRUE when it started. */
static gboolean export_to(LptExportPage *page, const char *out)
{
    if (!start_export(page, out))
        return FALSE;
    check(app_wait_for(is_idle, page), "the export to %s ended", out);
    return TRUE;
}

/* What an export to a file left: the page's report and error, the file's SHA-256 ("" when
 * there is no file), how many exports rows its run has in the project, and whether the last of
 * them is the file's with `needle` in its parity JSON. */
typedef struct {
    const LptExportReport *report;
    const GError *error;
    char sha[65];
    size_t rows;
    gboolean recorded;
} Exported;

/* What the export of run `run` to out, now ended, left. */
static Exported read_export(LptExportPage *page, LptProject *project, gint64 run, const char *out,
                            const char *needle)
{
    Exported done = {.report = lpt_export_page_get_report(page),
                     .error = lpt_export_page_get_last_error(page)};
    LptError err = {0};
    if (lpt_hash_sha256_file(out, done.sha, &err) != LPT_OK)
        done.sha[0] = '\0';
    LptStoreExport *rows = NULL;
    if (lpt_store_export_list(lpt_project_get_store(project), run, &rows, &done.rows, NULL) !=
        LPT_OK)
        done.rows = 0;
    const LptStoreExport *last = done.rows > 0 ? &rows[done.rows - 1] : NULL;
    done.recorded = done.sha[0] != '\0' && last != NULL && strcmp(last->sha256, done.sha) == 0 &&
                    last->parity_json != NULL && strstr(last->parity_json, needle) != NULL;
    free(rows);
    return done;
}

/* The row of the page's exports list titled with out's file name: its index in the list
 * (-1: none) and whether its subtitle holds sha. */
static int listed_export(GtkWidget *page, const char *out, const char *sha)
{
    g_autofree char *name = g_path_get_basename(out);
    GtkWidget *row = find_row(page, name);
    if (row == NULL || !GTK_IS_LIST_BOX(gtk_widget_get_parent(row)) ||
        strstr(adw_action_row_get_subtitle(ADW_ACTION_ROW(row)), sha) == NULL)
        return -1;
    return gtk_list_box_row_get_index(GTK_LIST_BOX_ROW(row));
}

/* The fraction of the progress bar of the stage row titled title. */
static double stage_fraction(GtkWidget *page, const char *title)
{
    GtkWidget *row = find_row(page, title);
    GtkWidget *bar = row != NULL ? app_find_widget(row, GTK_TYPE_PROGRESS_BAR) : NULL;
    return bar != NULL ? gtk_progress_bar_get_fraction(GTK_PROGRESS_BAR(bar)) : -1.0;
}

/* "45.1 %" as the page writes a rate. */
static char *percent(double rate)
{
    return isnan(rate) ? g_strdup("–") : g_strdup_printf("%.1f %%", 100.0 * rate);
}

/* The run row lists run_id at index and, chosen, shows its balanced and few accuracy on the test
 * split. */
static void check_run_label(LptProject *project, AdwComboRow *run_row, guint index, gint64 run_id)
{
    LptReview *review = NULL;
    LptError err = {0};
    GListModel *runs = adw_combo_row_get_model(run_row);
    const char *label = gtk_string_list_get_string(GTK_STRING_LIST(runs), index);
    adw_combo_row_set_selected(run_row, index);
    const char *metrics = adw_action_row_get_subtitle(ADW_ACTION_ROW(run_row));
    check(lpt_review_load(lpt_project_get_store(project), run_id, LPT_STORE_SPLIT_TEST, &review,
                          &err) == LPT_OK,
          "reading run %lld's evaluation: %s", (long long)run_id, err.message);
    if (review == NULL)
        return;
    const LptEvalMetrics *m = lpt_review_metrics(review, LPT_STORE_EXPERT_FUSED);
    g_autofree char *id = g_strdup_printf("%lld", (long long)run_id);
    g_autofree char *balanced = percent(m->balanced);
    g_autofree char *few = percent(m->few);
    check(m->images > 0 && label != NULL && strstr(label, id) && metrics != NULL &&
              strstr(metrics, balanced) && strstr(metrics, few),
          "the run row's item %u is run %s (%s) with balanced %s and few %s: %s", index, id,
          label ? label : "(none)", balanced, few, metrics ? metrics : "(none)");
    lpt_review_free(review);
}

/* onnxruntime-node's folder from the fetch script, or NULL (npm missing or offline). */
static char *fetch_onnx_runtime(const Options *opt)
{
    const char *argv[] = {"sh", opt->fetch_ort, opt->ort_cache, NULL};
    char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        g_free(out);
        return NULL;
    }
    return g_strstrip(out);
}

/* Scrolls the page's content (the stack's visible child) to its start or end. */
static void scroll_page(GtkWidget *page, gboolean to_end)
{
    GtkStack *stack = GTK_STACK(adw_bin_get_child(ADW_BIN(page)));
    GtkWidget *scrolled =
        app_find_widget(gtk_stack_get_visible_child(stack), GTK_TYPE_SCROLLED_WINDOW);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(scrolled));
    app_pump(200); /* the layout of what changed last, so that upper is the content's height */
    gtk_adjustment_set_value(adj, to_end ? gtk_adjustment_get_upper(adj) : 0.0);
    app_pump(200);
}

/* The prior: training counts' shares adjust nothing for the linear probe; the adjustments the
 * rows show are the export's. */
static void check_prior(const AppOptions *opt, GtkWidget *window, LptExportPage *page,
                        LptProject *project, const char *home)
{
    lpt_export_page_set_prior_enabled(page, TRUE);
    gtk_widget_activate_action(GTK_WIDGET(page), "export.prior-counts", NULL);
    LptStoreClassCount *counts = NULL;
    size_t nc = 0;
    int64_t *ids = NULL;
    size_t K = 0;
    LptStore *store = lpt_project_get_store(project);
    check(lpt_store_class_counts(store, &counts, &nc, NULL) == LPT_OK &&
              lpt_store_run_classes(store, 2, &ids, &K, NULL) == LPT_OK && K > 1,
          "reading the training counts");
    double total = 0.0, worst_share = 0.0, worst_adjust = 0.0;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < nc; j++)
            if (counts[j].class_id == ids[k])
                total += (double)MAX(counts[j].count[LPT_STORE_SPLIT_TRAIN], 1);
    for (size_t k = 0; k < K; k++) {
        for (size_t j = 0; j < nc; j++)
            if (counts[j].class_id == ids[k]) {
                double want =
                    100.0 * (double)MAX(counts[j].count[LPT_STORE_SPLIT_TRAIN], 1) / total;
                worst_share =
                    MAX(worst_share, fabs(lpt_export_page_get_prior_share(page, (int)k) - want));
            }
        worst_adjust = MAX(worst_adjust, fabs(lpt_export_page_get_prior_adjustment(page, (int)k)));
    }
    check(K > 1 && worst_share < 1e-9 && worst_adjust < 1e-9,
          "training counts' shares (off by %.3g) adjust the linear probe by nothing (%.3g)",
          worst_share, worst_adjust);
    free(counts);
    free(ids);

    gtk_widget_activate_action(GTK_WIDGET(page), "export.prior-uniform", NULL);
    lpt_export_page_set_prior_share(page, 0, 50.0);
    double shown0 = lpt_export_page_get_prior_adjustment(page, 0);
    double shown1 = lpt_export_page_get_prior_adjustment(page, 1);
    check(shown0 > shown1, "raising class 0's share raises its adjustment (%.3f > %.3f)", shown0,
          shown1);
    scroll_page(GTK_WIDGET(page), FALSE);
    app_save_screenshot(window, GTK_WIDGET(page), opt->screenshots, "export-page-prior",
                        opt->suffix);
    g_autofree char *with_prior = g_build_filename(home, "prior.lptmodel", NULL);
    check(export_to(page, with_prior), "the export with a prior starts");
    Exported done = read_export(page, project, 2, with_prior, "\"prior\":{\"expected\"");
    const LptExportReport *r = done.report;
    check(r && !done.error && r->parity.passed && r->parity.flips == 0 && r->prior_json &&
              done.recorded && done.rows == 2,
          "the prior is applied and recorded: %s", done.error ? done.error->message : "");
    cJSON *prior = r && r->prior_json ? cJSON_Parse(r->prior_json) : NULL;
    cJSON *adjust = cJSON_GetObjectItemCaseSensitive(prior, "adjust");
    int k = 0;
    double worst = 0.0;
    const cJSON *item;
    cJSON_ArrayForEach(item, adjust)
    {
        worst = MAX(worst, fabs(item->valuedouble - lpt_export_page_get_prior_adjustment(page, k)));
        k++;
    }
    check(adjust != NULL && (size_t)k == K && worst < 1e-6,
          "the rows' adjustments are the export's (%d classes, off by %.3g)", k, worst);
    cJSON_Delete(prior);
    check(listed_export(GTK_WIDGET(page), with_prior, done.sha) == 0,
          "the newest export comes first in the list");
    lpt_export_page_set_prior_enabled(page, FALSE);
}

/* ONNX of run 1: checked under ONNX Runtime when npm gives it, else said unchecked. */
static void check_onnx(const Options *opt, LptExportPage *page, AdwComboRow *run_row,
                       LptProject *project, const char *home)
{
    g_autofree char *ort = fetch_onnx_runtime(opt);
    g_autofree char *nowhere = g_build_filename(home, "no-onnxruntime", NULL);
    g_setenv("LPT_ONNX_RUNTIME", ort != NULL ? ort : nowhere, TRUE);
    adw_combo_row_set_selected(run_row, 1); /* run 1 */
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_ONNX);
    const char *format = row_subtitle(GTK_WIDGET(page), tr("Format"));
    check(format && strstr(format, ort != NULL ? ort : nowhere),
          "the format row says where ONNX Runtime is or was looked for: %s", format);
    g_autofree char *out = g_build_filename(home, "run1.onnx", NULL);
    check(export_to(page, out), "the ONNX export starts");
    Exported done =
        read_export(page, project, 1, out, ort != NULL ? "\"passed\":true" : "\"checked\":false");
    const LptExportReport *r = done.report;
    const GError *e = done.error;
    if (ort != NULL) {
        check(r && !e && r->parity.checked && r->parity.passed && r->parity.flips == 0 &&
                  r->parity.images > 0 && r->parity.max_abs_diff <= LPT_PARITY_MAX_DIFF_ONNX &&
                  done.recorded && done.rows == 1,
              "the ONNX file passed its check under ONNX Runtime: %s", e ? e->message : "");
        if (r)
            printf("export page, ONNX: %lld images compared, max |delta p| %.3g, %lld flips, "
                   "on %s\n",
                   (long long)r->parity.images, r->parity.max_abs_diff, (long long)r->parity.flips,
                   r->parity.backend);
    } else {
        const char *verdict = row_subtitle(GTK_WIDGET(page), tr("Result"));
        check(r && !e && !r->parity.checked && verdict && strstr(verdict, nowhere) &&
                  done.recorded && done.rows == 1,
              "without ONNX Runtime the file is written, recorded and said unchecked: %s",
              verdict ? verdict : (e ? e->message : ""));
        printf("export page, ONNX: onnxruntime-node could not be had (npm): not checked\n");
    }
    check(listed_export(GTK_WIDGET(page), out, done.sha) == 0, "the ONNX export heads the list");
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_BUNDLE);
    adw_combo_row_set_selected(run_row, 0);
}

static void run(const AppOptions *app_opt, const char *home, gpointer data)
{
    const Options *opt = data;
    g_autofree char *project_path = g_build_filename(home, "parts.lptproj", NULL);
    if (!app_make_review_project(opt->script, project_path, opt->lpt))
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(GFile) file = g_file_new_for_path(project_path);
    g_autoptr(LptProject) project = lpt_project_open(file, FALSE, &error);
    check(project != NULL, "opening the project: %s", error ? error->message : "");
    if (project == NULL)
        return;

    g_autoptr(LptApplication) app = app_new_application();
    GtkWidget *window = gtk_window_new();
    gtk_window_set_application(GTK_WINDOW(window), GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(window), 1000, 1000);
    gtk_window_set_title(GTK_WINDOW(window), "Export");
    LptExportPage *page = g_object_new(LPT_TYPE_EXPORT_PAGE, NULL);
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(page));
    gtk_window_present(GTK_WINDOW(window));
    check(app_wait_for(app_widget_is_mapped, window), "the window never mapped");
    gint64 t0 = g_get_monotonic_time();
    lpt_export_page_set_project(page, project);
    double show_ms = (double)(g_get_monotonic_time() - t0) / 1e3;
    check(app_wait_for(runs_read, page), "the runs' metrics were read");
    double read_ms = (double)(g_get_monotonic_time() - t0) / 1e3;
    app_pump(300);

    /* the runs, with their test metrics, in this language */
    AdwComboRow *run_row = ADW_COMBO_ROW(find_row(GTK_WIDGET(page), tr("Run")));
    check(run_row != NULL, "the run row");
    if (run_row == NULL)
        return;
    if (app_opt->expect_translated) {
        static const char *const titles[] = {"Run", "Parity Check", "Exports of This Project"};
        app_check_translated_in("export", titles, G_N_ELEMENTS(titles));
    }
    GListModel *runs = adw_combo_row_get_model(run_row);
    check(runs && g_list_model_get_n_items(runs) == 2, "the two finished runs");
    if (runs && g_list_model_get_n_items(runs) == 2) {
        check_run_label(project, run_row, 1, 1);
        check_run_label(project, run_row, 0, 2);
    }
    printf("export page: project shown in %.1f ms on the main thread, its 2 runs' test metrics "
           "read off it in %.1f ms\n",
           show_ms, read_ms);
    const char *dest = row_subtitle(GTK_WIDGET(page), tr("Destination"));
    g_autofree char *want = g_build_filename(home, "parts-run2.lptmodel", NULL);
    check(g_strcmp0(dest, want) == 0, "the default destination is beside the project: %s", dest);
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_ONNX);
    g_autofree char *want_onnx = g_build_filename(home, "parts-run2.onnx", NULL);
    dest = row_subtitle(GTK_WIDGET(page), tr("Destination"));
    check(g_strcmp0(dest, want_onnx) == 0, "the ONNX format's extension: %s", dest);
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_BUNDLE);
    app_pump(200); /* a widget waiting for its allocation draws nothing */
    app_save_screenshot(window, GTK_WIDGET(page), app_opt->screenshots, "export-page",
                        app_opt->suffix);

    /* a bundle of the newest run: the check passes, the row is recorded and listed */
    AppProbe probe;
    app_probe_start(&probe);
    check(export_to(page, want), "the export starts");
    app_probe_stop(&probe);
    printf("export page: bundle export %.2f s; ", (probe.last_us - probe.started_us) / 1e6);
    app_probe_check(&probe, "during the export");
    Exported done = read_export(page, project, 2, want, "\"passed\":true");
    const LptExportReport *r = done.report;
    check(r && !done.error && r->parity.checked && r->parity.passed && r->parity.images > 0 &&
              r->parity.flips == 0 && r->parity.max_abs_diff <= LPT_PARITY_MAX_DIFF &&
              g_file_test(want, G_FILE_TEST_IS_REGULAR),
          "the export passed its parity check: %s", done.error ? done.error->message : "");
    check(r && strcmp(done.sha, r->sha256) == 0 && done.recorded && done.rows == 1,
          "the exports row has the file's SHA-256 (%zu rows)", done.rows);
    check(stage_fraction(GTK_WIDGET(page), tr("Loading the Run")) == 1.0 &&
              stage_fraction(GTK_WIDGET(page), tr("Writing the File")) == 1.0 &&
              stage_fraction(GTK_WIDGET(page), tr("Checking Parity")) == 1.0,
          "every stage's bar is full");
    const char *flips = row_subtitle(GTK_WIDGET(page), tr("Label Flips"));
    const char *file_text = row_subtitle(GTK_WIDGET(page), tr("File"));
    check(g_strcmp0(flips, "0") == 0 && file_text && done.sha[0] && strstr(file_text, done.sha),
          "the page shows 0 flips (%s) and the file's SHA-256", flips);
    check(listed_export(GTK_WIDGET(page), want, done.sha) == 0, "the export is listed");
    if (r)
        printf("export page: %lld images compared, max |delta p| %.3g, %lld flips, on %s\n",
               (long long)r->parity.images, r->parity.max_abs_diff, (long long)r->parity.flips,
               r->parity.backend);
    scroll_page(GTK_WIDGET(page), TRUE);
    app_save_screenshot(window, GTK_WIDGET(page), app_opt->screenshots, "export-page-done",
                        app_opt->suffix);

    check_prior(app_opt, window, page, project, home);
    check_onnx(opt, page, run_row, project, home);

    /* Cancel right after Export: nothing written, nothing recorded */
    g_autofree char *cancelled = g_build_filename(home, "cancelled.lptmodel", NULL);
    check(start_export(page, cancelled), "the export to cancel starts");
    gtk_widget_activate_action(GTK_WIDGET(page), "export.cancel", NULL);
    check(app_wait_for(is_idle, page), "the cancelled export ended");
    Exported left = read_export(page, project, 2, cancelled, "");
    check(left.error && g_error_matches(left.error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
              !g_file_test(cancelled, G_FILE_TEST_EXISTS) && left.rows == 2,
          "a cancelled export writes and records nothing (%zu rows): %s", left.rows,
          left.error ? left.error->message : "(no error)");

    /* a folder that does not exist: the core's message, nothing written */
    g_autofree char *missing = g_build_filename(home, "missing", "x.lptmodel", NULL);
    check(export_to(page, missing), "the failing export starts");
    left = read_export(page, project, 2, missing, "");
    check(left.error && strstr(left.error->message, "missing") &&
              !g_file_test(missing, G_FILE_TEST_EXISTS) && left.rows == 2,
          "an unwritable destination is reported and nothing recorded (%zu rows): %s", left.rows,
          left.error ? left.error->message : "(no error)");

    lpt_export_page_set_project(page, NULL);
    gtk_window_destroy(GTK_WINDOW(window));
    app_pump(100);
}

int main(int argc, char **argv)
{
    Options opt;
    const AppExtraOption extra[] = {
        {.name = "--lpt", .value_name = "LPT", .value = &opt.lpt, .required = TRUE},
        {.name = "--make-project", .value_name = "SCRIPT", .value = &opt.script, .required = TRUE},
        {.name = "--fetch-onnxruntime",
         .value_name = "SCRIPT",
         .value = &opt.fetch_ort,
         .required = TRUE},
        {.name = "--onnxruntime-cache",
         .value_name = "DIR",
         .value = &opt.ort_cache,
         .required = TRUE},
    };
    const AppTest test = {"export_page", extra, G_N_ELEMENTS(extra), run, &opt};
    return app_run_test(&test, argc, argv);
}

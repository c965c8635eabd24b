/* test_export_page.c: the Export page driven in-process under Xvfb (suite 'app').
 *
 * On the project tests/app/make_review_project.sh trains and evaluates with the `lpt` command
 * line (two finished runs on a reduced Fashion-MNIST-LT; skipped with 77 when Debian's
 * Fashion-MNIST is missing), in a window of its own holding the page, it checks:
 *   - the run row lists the two finished runs, newest first; the destination is named after
 *     the project and the run, beside the project, with the format's extension;
 *   - Export runs off the main thread (the page is busy, the main loop keeps turning) and
 *     ends with the parity check passed on every test image (zero flips, max |Δ| within the
 *     target), the file written, a row in the project's exports table whose SHA-256 is the
 *     file's, and the figures on the page;
 *   - with the prior switched on and one class's share raised, the export records the prior
 *     (in the report and in the exports row) and passes again;
 *   - an export to a folder that does not exist fails with the core's message on the page
 *     and writes nothing.
 * Screenshots of the page before and after go into the --screenshots folder (names end in
 * --suffix; --expect-translated checks the page's strings are translated).
 *
 * Usage: test_export_page --screenshots DIR --localedir DIR --lpt LPT --make-project SCRIPT
 *        [--suffix S] [--expect-translated]
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_application.h"
#include "lpt_export_page.h"
#include "lpt_hash.h"
#include "lpt_project.h"

#define check app_check

typedef struct {
    const char *screenshots;
    const char *localedir;
    const char *suffix;
    const char *lpt;
    const char *script;
    gboolean expect_translated;
} Options;

static gboolean parse_args(int argc, char **argv, Options *opt)
{
    opt->suffix = "";
    for (int i = 1; i < argc; i++) {
        const char **value = strcmp(argv[i], "--screenshots") == 0    ? &opt->screenshots
                             : strcmp(argv[i], "--localedir") == 0    ? &opt->localedir
                             : strcmp(argv[i], "--suffix") == 0       ? &opt->suffix
                             : strcmp(argv[i], "--lpt") == 0          ? &opt->lpt
                             : strcmp(argv[i], "--make-project") == 0 ? &opt->script
                                                                      : NULL;
        if (strcmp(argv[i], "--expect-translated") == 0)
            opt->expect_translated = TRUE;
        else if (value != NULL && i + 1 < argc)
            *value = argv[++i];
        else
            return FALSE;
    }
    return opt->screenshots && opt->localedir && opt->lpt && opt->script;
}

static gboolean is_mapped(gpointer data)
{
    return gtk_widget_get_mapped(GTK_WIDGET(data));
}

static gboolean is_idle(gpointer data)
{
    return !lpt_export_page_is_busy(LPT_EXPORT_PAGE(data));
}

/* The first descendant of type whose (visible) label is text, or NULL. */
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

/* Runs an export to `out` and waits for it; TRUE when it started. */
static gboolean export_to(LptExportPage *page, const char *out)
{
    g_autoptr(GFile) file = g_file_new_for_path(out);
    lpt_export_page_set_destination(page, file);
    if (!lpt_export_page_export(page))
        return FALSE;
    check(lpt_export_page_is_busy(page), "the export runs off the main thread");
    app_wait_for(is_idle, page);
    return TRUE;
}

/* The exports rows of run `run`: how many, and whether the last has sha and `needle`. */
static gboolean export_row(LptProject *project, gint64 run, const char *sha, const char *needle,
                           size_t *count)
{
    LptStore *store = lpt_project_get_store(project);
    LptStoreExport *rows = NULL;
    size_t n = 0;
    gboolean ok = lpt_store_export_list(store, run, &rows, &n, NULL) == LPT_OK && n > 0 &&
                  strcmp(rows[n - 1].sha256, sha) == 0 && rows[n - 1].parity_json &&
                  strstr(rows[n - 1].parity_json, needle) != NULL;
    *count = n;
    free(rows);
    return ok;
}

static void run(const Options *opt, const char *home)
{
    g_autofree char *project_path = g_build_filename(home, "parts.lptproj", NULL);
    const char *argv[] = {"sh", opt->script, project_path, opt->lpt, NULL};
    g_autoptr(GError) error = NULL;
    int status = 0;
    gboolean made = g_spawn_sync(NULL, (char **)argv, NULL,
                                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, NULL, &status, &error);
    if (made && !g_spawn_check_wait_status(status, NULL) && WIFEXITED(status) &&
        WEXITSTATUS(status) == 77) {
        printf("Debian's Fashion-MNIST is not installed: skipped\n");
        exit(77);
    }
    check(made && g_spawn_check_wait_status(status, &error), "making the project: %s",
          error ? error->message : "failed");
    if (error != NULL)
        return;
    g_autoptr(GFile) file = g_file_new_for_path(project_path);
    g_autoptr(LptProject) project = lpt_project_open(file, FALSE, &error);
    check(project != NULL, "opening the project: %s", error ? error->message : "");
    if (project == NULL)
        return;

    g_autoptr(LptApplication) app = lpt_application_new();
    check(g_application_register(G_APPLICATION(app), NULL, &error), "register: %s",
          error != NULL ? error->message : "");
    g_object_set(gtk_settings_get_default(), "gtk-font-name", "Cantarell 11", NULL);
    GtkWidget *window = gtk_window_new();
    gtk_window_set_application(GTK_WINDOW(window), GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(window), 1000, 900);
    gtk_window_set_title(GTK_WINDOW(window), "Export");
    LptExportPage *page = g_object_new(LPT_TYPE_EXPORT_PAGE, NULL);
    gtk_window_set_child(GTK_WINDOW(window), GTK_WIDGET(page));
    lpt_export_page_set_project(page, project);
    gtk_window_present(GTK_WINDOW(window));
    check(app_wait_for(is_mapped, window), "the window never mapped");
    app_pump(300);

    /* the rows, in this language */
    const char *run_title = g_dpgettext2(GETTEXT_PACKAGE, "export", "Run");
    AdwComboRow *run_row = ADW_COMBO_ROW(find_row(GTK_WIDGET(page), run_title));
    check(run_row != NULL, "the run row");
    if (opt->expect_translated)
        check(strcmp(run_title, "Run") != 0 &&
                  strcmp(g_dpgettext2(GETTEXT_PACKAGE, "export", "Parity Check"),
                         "Parity Check") != 0,
              "the page's strings are translated");
    GListModel *runs = run_row ? adw_combo_row_get_model(run_row) : NULL;
    check(runs && g_list_model_get_n_items(runs) == 2 &&
              strstr(gtk_string_list_get_string(GTK_STRING_LIST(runs), 0), "2") &&
              strstr(gtk_string_list_get_string(GTK_STRING_LIST(runs), 1), "1"),
          "the two finished runs, newest first");
    AdwActionRow *dest =
        ADW_ACTION_ROW(find_row(GTK_WIDGET(page), g_dpgettext2(GETTEXT_PACKAGE, "export",
                                                               "Destination")));
    g_autofree char *want = g_build_filename(home, "parts-run2.lptmodel", NULL);
    check(dest && g_strcmp0(adw_action_row_get_subtitle(dest), want) == 0,
          "the default destination is beside the project: %s",
          dest ? adw_action_row_get_subtitle(dest) : "(no row)");
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_ONNX);
    g_autofree char *want_onnx = g_build_filename(home, "parts-run2.onnx", NULL);
    check(dest && g_strcmp0(adw_action_row_get_subtitle(dest), want_onnx) == 0,
          "the ONNX format's extension: %s", dest ? adw_action_row_get_subtitle(dest) : "");
    lpt_export_page_set_format(page, LPT_STORE_EXPORT_BUNDLE);
    app_save_screenshot(window, GTK_WIDGET(page), opt->screenshots, "export-page", opt->suffix);

    /* a bundle of the newest run: the check passes, the row is recorded */
    AppProbe probe;
    app_probe_start(&probe);
    check(export_to(page, want), "the export starts");
    app_probe_stop(&probe);
    double wall = 0.0, own = app_probe_stall_ms(&probe, &wall);
    check(own < 500.0, "the main loop turned during the export (worst own stall %.0f ms)", own);
    const LptExportReport *r = lpt_export_page_get_report(page);
    const GError *e = lpt_export_page_get_last_error(page);
    check(r && !e && r->parity.checked && r->parity.passed && r->parity.images > 0 &&
              r->parity.flips == 0 && r->parity.max_abs_diff <= LPT_PARITY_MAX_DIFF &&
              g_file_test(want, G_FILE_TEST_IS_REGULAR),
          "the export passed its parity check: %s", e ? e->message : "");
    char sha[65] = "";
    LptError err = {0};
    size_t rows = 0;
    check(lpt_hash_sha256_file(want, sha, &err) == LPT_OK && r &&
              strcmp(sha, r->sha256) == 0 &&
              export_row(project, 2, sha, "\"passed\":true", &rows) && rows == 1,
          "the exports row has the file's SHA-256 (%zu rows)", rows);
    if (r)
        printf("export page: %lld images compared, max |delta p| %.3g, %lld flips, on %s\n",
               (long long)r->parity.images, r->parity.max_abs_diff, (long long)r->parity.flips,
               r->parity.backend);
    app_pump(200);
    app_save_screenshot(window, GTK_WIDGET(page), opt->screenshots, "export-page-done",
                        opt->suffix);

    /* with a prior: recorded in the report and the row */
    lpt_export_page_set_prior_enabled(page, TRUE);
    lpt_export_page_set_prior_share(page, 0, 50.0);
    g_autofree char *with_prior = g_build_filename(home, "prior.lptmodel", NULL);
    check(export_to(page, with_prior), "the export with a prior starts");
    r = lpt_export_page_get_report(page);
    e = lpt_export_page_get_last_error(page);
    check(r && !e && r->parity.passed && r->prior_json &&
              lpt_hash_sha256_file(with_prior, sha, &err) == LPT_OK &&
              export_row(project, 2, sha, "\"prior\":{\"expected\"", &rows) && rows == 2,
          "the prior is applied and recorded: %s", e ? e->message : "");
    lpt_export_page_set_prior_enabled(page, FALSE);

    /* a folder that does not exist: the core's message, nothing written */
    g_autofree char *nowhere = g_build_filename(home, "missing", "x.lptmodel", NULL);
    check(export_to(page, nowhere), "the failing export starts");
    e = lpt_export_page_get_last_error(page);
    check(e && strstr(e->message, "missing") && !g_file_test(nowhere, G_FILE_TEST_EXISTS),
          "an unwritable destination is reported: %s", e ? e->message : "(no error)");

    lpt_export_page_set_project(page, NULL);
    gtk_window_destroy(GTK_WINDOW(window));
    app_pump(100);
}

int main(int argc, char **argv)
{
    Options opt = {0};
    if (!parse_args(argc, argv, &opt)) {
        fprintf(stderr,
                "usage: %s --screenshots DIR --localedir DIR --lpt LPT --make-project SCRIPT "
                "[--suffix S] [--expect-translated]\n",
                argv[0]);
        return 2;
    }
    g_autofree char *home = g_dir_make_tmp("lpt-export-page-XXXXXX", NULL);
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
    return app_report("export_page");
}

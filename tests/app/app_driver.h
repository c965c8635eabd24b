/* app_driver.h: what an app test needs to drive the real app in-process under Xvfb: checks
 * that count, running the main loop until a condition holds, finding widgets and windows,
 * screenshots of a window's content, the main-loop stall probe, and small PNG datasets.
 *
 * The stall probe: a timeout every APP_PROBE_INTERVAL_MS on the main context records, over
 * the gaps between two ticks, the longest wall-clock gap; the longest gap less the time the
 * main thread spent in it waiting for a CPU; and the most CPU time the main thread used in one
 * gap (the kernel's /proc/thread-self/schedstat; the wall gap where it is missing). The last
 * is the app's own stall, the work it did without returning to the main loop: on a machine
 * shared with other loads the first also counts the time other processes held every CPU, and
 * the second the time the main thread slept waiting for the X server's replies, which is as
 * slow as the load lets Xvfb be.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_application.h"

G_BEGIN_DECLS

#define APP_STALL_LIMIT_MS 50 /* the target: no main-loop stall above this */
#define APP_PROBE_INTERVAL_MS 5
#define APP_WAIT_LIMIT_S 180 /* the longest any awaited condition may take */

/* Counts a passed check, or prints "FAIL: ..." and counts a failure. */
void app_check(gboolean ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Prints "<name>: N passed, N failed"; 0 when nothing failed and something passed, else 1. */
int app_report(const char *name);

/* The options every app test takes. */
typedef struct {
    const char *screenshots;    /* --screenshots DIR */
    const char *localedir;      /* --localedir DIR */
    const char *suffix;         /* --suffix S, "" without: ends the screenshots' names */
    gboolean expect_translated; /* --expect-translated */
} AppOptions;
/* Reads argv when it holds these options and nothing else (FALSE otherwise, or when
 * --screenshots or --localedir is missing). */
gboolean app_parse_options(int argc, char **argv, AppOptions *opt);

/* An option one test takes beyond AppOptions': "--name VALUE", VALUE stored in *value, or,
 * where value_name is NULL, the flag "--name", which sets *flag. A flag is never required. */
typedef struct {
    const char *name;       /* "--lpt" */
    const char *value_name; /* what the usage calls the value ("LPT"); NULL: a flag */
    const char **value;
    gboolean *flag;
    gboolean required;
} AppExtraOption;
/* app_parse_options where argv may also hold the n_extra options of extra, which it first
 * sets to NULL / FALSE (FALSE too when a required one is missing). */
gboolean app_parse_options_with(int argc, char **argv, AppOptions *opt,
                                const AppExtraOption *extra, gsize n_extra);
/* Prints "usage: PROGRAM ..." with AppOptions' and extra's options on stderr. */
void app_print_usage(const char *program, const AppExtraOption *extra, gsize n_extra);

#define APP_SKIPPED 77 /* the exit status of a test that lacks what it needs (meson's skip) */

/* One app test: its name (its report's; its temporary HOME's "lpt-NAME-XXXXXX"), the options it
 * takes beyond AppOptions' (data holds where they go), and what it runs with them in HOME. */
typedef struct {
    const char *name;
    const AppExtraOption *extra;
    gsize n_extra;
    void (*run)(const AppOptions *opt, const char *home, gpointer data);
    gpointer data;
} AppTest;
/* An app test's main(): reads argv (the usage and 2 when it is off), line-buffers stdout, makes
 * the temporary HOME (app_make_home; 1 when it cannot), takes the translations from
 * --localedir, makes the --screenshots folder, runs the test, removes HOME; returns APP_SKIPPED
 * when the test called app_skip, else app_report(name). */
int app_run_test(const AppTest *test, int argc, char **argv);
/* Says on stdout why the test cannot run and makes app_run_test skip it; the test then
 * returns. */
void app_skip(const char *why);

/* Runs argv (argv[0] a path), its stdout into *out when out is not NULL; what it wrote on
 * stderr goes to stdout when it fails. Its exit status, -1 when it could not run or died. */
int app_run_command(const char *const *argv, char **out);
/* Makes the trained project of the 'trained' tests at path with make_review_project.sh
 * (script), `lpt` lpt: TRUE when made; app_skip when Debian's Fashion-MNIST is missing, a
 * failed check when the script fails (FALSE both). With LPT_TEST_PROJECT_CACHE set (meson
 * sets it to a folder of the build), the project is made there once and copied to path with
 * its runs' folder PROJECT.runs (its images stay in the cache, which the project names by
 * absolute path); it is made again when
 * lpt, the script or a file of data/backbones is newer than it. */
gboolean app_make_review_project(const char *script, const char *path, const char *lpt);

/* Makes a new temporary folder from name_template (g_dir_make_tmp's) the process's HOME and
 * its .cache folder XDG_CACHE_HOME (LPT_CACHE_DIR unset), so that recent projects, caches and
 * paths are the test's; NULL, said on stderr, when it cannot. */
char *app_make_home(const char *name_template);
/* Removes the folder and everything in it. */
void app_remove_home(const char *home);
/* Takes the locale from the environment and the app's translations from localedir. */
void app_use_translations(const char *localedir);
/* Checks that each of the n msgids has a translation (a Japanese run's pages show Japanese). */
void app_check_translated(const char *const *msgids, gsize n);
/* app_check_translated for msgids of the message context context (C_() / g_dpgettext2's). */
void app_check_translated_in(const char *context, const char *const *msgids, gsize n);

/* Runs the main loop for ms milliseconds. */
void app_pump(guint ms);
typedef gboolean (*AppCondition)(gpointer data);
/* Runs the main loop until cond(data) holds (TRUE) or APP_WAIT_LIMIT_S pass (FALSE). */
gboolean app_wait_for(AppCondition cond, gpointer data);
/* Conditions: the widget is mapped; the GtkApplication has no windows; the LptDatasetPage runs
 * no import. */
gboolean app_widget_is_mapped(gpointer widget);
gboolean app_has_no_windows(gpointer application);
gboolean app_import_finished(gpointer dataset_page);

/* The real application, registered (its startup loads the styles), with the screenshots'
 * font; a failed check says why it did not register. */
LptApplication *app_new_application(void);
/* app's window on the project at path (a new one when create), width x height, once mapped;
 * NULL, a failed check saying so, when it does not open. */
LptWindow *app_open_project(LptApplication *app, const char *path, gboolean create, int width,
                            int height);

/* The first descendant of widget (itself included) of type, or NULL. */
GtkWidget *app_find_widget(GtkWidget *widget, GType type);
/* The first visible toplevel window of type, or NULL. */
GtkWidget *app_find_toplevel(GType type);
/* Presses keyval (no modifiers) on widget's first key controller, as typing over it does;
 * TRUE when the controller handled it. */
gboolean app_press_key(GtkWidget *widget, guint keyval);
/* Runs widget's own key binding for keyval without modifiers (a keyval trigger of one of its
 * shortcut controllers), as pressing the key does when widget has the focus; FALSE when it
 * has none or the binding's action did not run. */
gboolean app_run_key_binding(GtkWidget *widget, guint keyval);

/* Renders area (a window's content) over the window's background with the window's renderer
 * into DIR/NAME SUFFIX.png, and says so on stdout. */
void app_save_screenshot(GtkWidget *window, GtkWidget *area, const char *dir, const char *name,
                         const char *suffix);

typedef struct {
    gint64 started_us;
    gint64 last_us;
    gint64 last_wait_ns; /* the main thread's runqueue wait at the last tick; -1: unknown */
    gint64 worst_gap_us;
    gint64 worst_at_us;  /* when the worst gap ended */
    gint64 worst_own_us; /* the longest gap less its runqueue wait */
    gint64 last_run_ns;  /* the main thread's CPU time at the last tick; -1: unknown */
    gint64 worst_cpu_us; /* the most CPU time the main thread used in one gap */
    guint ticks;
    guint source_id;
} AppProbe;

void app_probe_start(AppProbe *probe);
void app_probe_stop(AppProbe *probe);
/* Stops measuring while the test itself works on the main thread (a screenshot), keeping
 * what was measured; resume starts again from the next tick. */
void app_probe_pause(AppProbe *probe);
void app_probe_resume(AppProbe *probe);
/* The worst stall of the app's own (ms: the most CPU time in a gap); the wall clock's into
 * *wall_ms. */
double app_probe_stall_ms(const AppProbe *probe, double *wall_ms);
/* The worst gap less its runqueue wait (ms). */
double app_probe_unqueued_ms(const AppProbe *probe);
/* Ends the line the caller began on stdout (what was measured, how long it took) with the
 * probe's figures: ticks, the worst stall of the app's own, the wall clock's and when, the
 * wall clock less runqueue waits, the limit; and checks the app's own stall against
 * APP_STALL_LIMIT_MS, a failure saying when it stalled (`during`: "during the import"). */
void app_probe_check(const AppProbe *probe, const char *during);

/* Writes `count` distinct side x side RGB PNGs "<class>_NNNN.png" into root/<class>/. */
gboolean app_make_class_folder(const char *root, const char *class_name, int count, int side,
                               guint seed, GError **error);

/* The colour of pixel (x, y) of image `index` of the images made with `seed`. */
typedef void (*AppPixelFunc)(guint8 rgb[3], int x, int y, guint seed, guint index);
/* Writes a side x side RGB PNG of pixel's colours to path, with (seed, index) written into
 * its first pixels so that no two images are alike. */
gboolean app_write_png(const char *path, int side, AppPixelFunc pixel, guint seed, guint index,
                       GError **error);
/* app_make_class_folder with pixel's colours. */
gboolean app_make_class_folder_with(const char *root, const char *class_name, int count, int side,
                                    AppPixelFunc pixel, guint seed, GError **error);

G_END_DECLS

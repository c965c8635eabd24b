/* app_driver.h: what an app test needs to drive the real app in-process under Xvfb: checks
 * that count, running the main loop until a condition holds, finding widgets and windows,
 * screenshots of a window's content, the main-loop stall probe, and small PNG datasets.
 *
 * The stall probe: a timeout every APP_PROBE_INTERVAL_MS on the main context records the
 * longest gap between two ticks (wall clock), and the longest gap less the time the main
 * thread spent in it waiting for a CPU (the kernel's /proc/thread-self/schedstat; the wall
 * gap where that is missing). The second is the app's own stall: on a machine shared with
 * other loads the first also counts the time other processes held every CPU.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define APP_STALL_LIMIT_MS 50 /* the target: no main-loop stall above this */
#define APP_PROBE_INTERVAL_MS 5
#define APP_WAIT_LIMIT_S 180 /* the longest any awaited condition may take */

/* Counts a passed check, or prints "FAIL: ..." and counts a failure. */
void app_check(gboolean ok, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Prints "<name>: N passed, N failed"; 0 when nothing failed and something passed, else 1. */
int app_report(const char *name);

/* Runs the main loop for ms milliseconds. */
void app_pump(guint ms);
typedef gboolean (*AppCondition)(gpointer data);
/* Runs the main loop until cond(data) holds (TRUE) or APP_WAIT_LIMIT_S pass (FALSE). */
gboolean app_wait_for(AppCondition cond, gpointer data);

/* The first descendant of widget (itself included) of type, or NULL. */
GtkWidget *app_find_widget(GtkWidget *widget, GType type);
/* The first visible toplevel window of type, or NULL. */
GtkWidget *app_find_toplevel(GType type);

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
    guint ticks;
    guint source_id;
} AppProbe;

void app_probe_start(AppProbe *probe);
void app_probe_stop(AppProbe *probe);
/* Stops measuring while the test itself works on the main thread (a screenshot), keeping
 * what was measured; resume starts again from the next tick. */
void app_probe_pause(AppProbe *probe);
void app_probe_resume(AppProbe *probe);
/* The worst stall of the app's own (ms); the wall clock's into *wall_ms. */
double app_probe_stall_ms(const AppProbe *probe, double *wall_ms);

/* Writes `count` distinct side x side RGB PNGs "<class>_NNNN.png" into root/<class>/. */
gboolean app_make_class_folder(const char *root, const char *class_name, int count, int side,
                               guint seed, GError **error);

G_END_DECLS

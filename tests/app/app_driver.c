/* app_driver.c: helpers of the app tests (see the header). */
#include "app_driver.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "lpt_app_config.h"
#include "lpt_dataset_page.h"

static int n_passed, n_failed;
static gboolean skipped; /* app_skip was called */

void app_check(gboolean ok, const char *fmt, ...)
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
    fflush(stdout);
    n_failed++;
}

int app_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, n_passed, n_failed);
    return n_failed == 0 && n_passed > 0 ? 0 : 1;
}

gboolean app_parse_options(int argc, char **argv, AppOptions *opt)
{
    return app_parse_options_with(argc, argv, opt, NULL, 0);
}

static const AppExtraOption *find_extra(const char *arg, const AppExtraOption *extra,
                                        gsize n_extra)
{
    for (gsize k = 0; k < n_extra; k++)
        if (strcmp(arg, extra[k].name) == 0)
            return &extra[k];
    return NULL;
}

gboolean app_parse_options_with(int argc, char **argv, AppOptions *opt,
                                const AppExtraOption *extra, gsize n_extra)
{
    *opt = (AppOptions){.suffix = ""};
    for (gsize k = 0; k < n_extra; k++) {
        if (extra[k].value_name != NULL)
            *extra[k].value = NULL;
        else
            *extra[k].flag = FALSE;
    }
    for (int i = 1; i < argc; i++) {
        const AppExtraOption *x = find_extra(argv[i], extra, n_extra);
        gboolean has_value = i + 1 < argc;
        if (strcmp(argv[i], "--screenshots") == 0 && has_value)
            opt->screenshots = argv[++i];
        else if (strcmp(argv[i], "--localedir") == 0 && has_value)
            opt->localedir = argv[++i];
        else if (strcmp(argv[i], "--suffix") == 0 && has_value)
            opt->suffix = argv[++i];
        else if (strcmp(argv[i], "--expect-translated") == 0)
            opt->expect_translated = TRUE;
        else if (x != NULL && x->value_name == NULL)
            *x->flag = TRUE;
        else if (x != NULL && has_value)
            *x->value = argv[++i];
        else
            return FALSE;
    }
    for (gsize k = 0; k < n_extra; k++)
        if (extra[k].required && extra[k].value_name != NULL && *extra[k].value == NULL)
            return FALSE;
    return opt->screenshots != NULL && opt->localedir != NULL;
}

void app_print_usage(const char *program, const AppExtraOption *extra, gsize n_extra)
{
    g_autoptr(GString) usage = g_string_new("--screenshots DIR --localedir DIR");
    for (gsize k = 0; k < n_extra; k++)
        if (extra[k].required && extra[k].value_name != NULL)
            g_string_append_printf(usage, " %s %s", extra[k].name, extra[k].value_name);
    g_string_append(usage, " [--suffix S] [--expect-translated]");
    for (gsize k = 0; k < n_extra; k++) {
        if (extra[k].value_name == NULL)
            g_string_append_printf(usage, " [%s]", extra[k].name);
        else if (!extra[k].required)
            g_string_append_printf(usage, " [%s %s]", extra[k].name, extra[k].value_name);
    }
    fprintf(stderr, "usage: %s %s\n", program, usage->str);
}

int app_run_test(const AppTest *test, int argc, char **argv)
{
    AppOptions opt;
    if (!app_parse_options_with(argc, argv, &opt, test->extra, test->n_extra)) {
        app_print_usage(argv[0], test->extra, test->n_extra);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches the log even if the test dies */
    g_autofree char *home_template = g_strdup_printf("lpt-%s-XXXXXX", test->name);
    g_autofree char *home = app_make_home(home_template);
    if (home == NULL)
        return 1;
    app_use_translations(opt.localedir);
    g_mkdir_with_parents(opt.screenshots, 0755);

    test->run(&opt, home, test->data);

    app_remove_home(home);
    return skipped ? APP_SKIPPED : app_report(test->name);
}

void app_skip(const char *why)
{
    printf("%s: skipped\n", why);
    skipped = TRUE;
}

int app_run_command(const char *const *argv, char **out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err_text,
                      &status, &error)) {
        printf("cannot run %s: %s\n", argv[0], error->message);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && err_text != NULL)
        printf("%s: %s", argv[0], err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs make_review_project.sh: TRUE when it made the project at path. */
static gboolean run_make_project(const char *script, const char *path, const char *lpt)
{
    const char *argv[] = {script, path, lpt, NULL};
    gint64 started = g_get_monotonic_time();
    int status = app_run_command(argv, NULL);
    if (status == APP_SKIPPED) {
        app_skip("Debian's Fashion-MNIST is not installed");
        return FALSE;
    }
    app_check(status == 0, "%s exited with %d", script, status);
    if (status == 0)
        printf("the trained project made in %.1f s\n", (g_get_monotonic_time() - started) / 1e6);
    return status == 0;
}

/* The modification time of path in nanoseconds, the newest of its entries' for a folder; 0
 * when it does not exist. */
static gint64 newest_mtime(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0;
    gint64 newest = (gint64)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    GDir *dir = S_ISDIR(sb.st_mode) ? g_dir_open(path, 0, NULL) : NULL;
    for (const char *name; dir && (name = g_dir_read_name(dir));) {
        g_autofree char *entry = g_build_filename(path, name, NULL);
        newest = MAX(newest, newest_mtime(entry));
    }
    if (dir)
        g_dir_close(dir);
    return newest;
}

gboolean app_make_review_project(const char *script, const char *path, const char *lpt)
{
    const char *cache = g_getenv("LPT_TEST_PROJECT_CACHE");
    if (cache == NULL || *cache == '\0')
        return run_make_project(script, path, lpt);
    g_autofree char *cached = g_build_filename(cache, "review.lptproj", NULL);
    g_autofree char *stamp = g_build_filename(cache, "made", NULL);
    g_autofree char *script_dir = g_path_get_dirname(script);
    g_autofree char *backbones =
        g_build_filename(script_dir, "..", "..", "data", "backbones", NULL);
    gint64 inputs = MAX(MAX(newest_mtime(lpt), newest_mtime(script)), newest_mtime(backbones));
    if (newest_mtime(stamp) <= inputs) {
        app_remove_home(cache);
        g_mkdir_with_parents(cache, 0755);
        if (!run_make_project(script, cached, lpt))
            return FALSE;
        g_autoptr(GError) error = NULL;
        app_check(g_file_set_contents(stamp, "", 0, &error), "writing %s: %s", stamp,
                  error ? error->message : "");
    } else {
        printf("the trained project copied from %s\n", cached);
    }
    /* the project file and its runs' checkpoints (PROJECT.runs) */
    g_autofree char *cached_runs = g_strconcat(cached, ".runs", NULL);
    g_autofree char *runs = g_strconcat(path, ".runs", NULL);
    const char *copy_project[] = {"/bin/cp", cached, path, NULL};
    const char *copy_runs[] = {"/bin/cp", "-R", cached_runs, runs, NULL};
    gboolean copied = app_run_command(copy_project, NULL) == 0 &&
                      (!g_file_test(cached_runs, G_FILE_TEST_IS_DIR) ||
                       app_run_command(copy_runs, NULL) == 0);
    app_check(copied, "copying %s and its runs to %s", cached, path);
    return copied;
}

char *app_make_home(const char *name_template)
{
    g_autoptr(GError) error = NULL;
    char *home = g_dir_make_tmp(name_template, &error);
    if (home == NULL) {
        fprintf(stderr, "cannot make a temporary folder: %s\n", error->message);
        return NULL;
    }
    g_autofree char *cache = g_build_filename(home, ".cache", NULL);
    g_setenv("HOME", home, TRUE);
    g_setenv("XDG_CACHE_HOME", cache, TRUE);
    g_unsetenv("LPT_CACHE_DIR"); /* the thumbnails' cache: XDG_CACHE_HOME's */
    return home;
}

void app_remove_home(const char *home)
{
    g_autofree char *quoted = g_shell_quote(home);
    g_autofree char *rm = g_strdup_printf("rm -rf %s", quoted);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

void app_use_translations(const char *localedir)
{
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, localedir);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
}

void app_check_translated(const char *const *msgids, gsize n)
{
    for (gsize i = 0; i < n; i++)
        app_check(strcmp(g_dgettext(GETTEXT_PACKAGE, msgids[i]), msgids[i]) != 0,
                  "'%s' is not translated", msgids[i]);
}

void app_check_translated_in(const char *context, const char *const *msgids, gsize n)
{
    for (gsize i = 0; i < n; i++)
        app_check(strcmp(g_dpgettext2(GETTEXT_PACKAGE, context, msgids[i]), msgids[i]) != 0,
                  "'%s' (context %s) is not translated", msgids[i], context);
}

static gboolean timed_out(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

void app_pump(guint ms)
{
    gboolean done = FALSE;
    g_timeout_add(ms, timed_out, &done);
    while (!done)
        g_main_context_iteration(NULL, TRUE);
}

gboolean app_wait_for(AppCondition cond, gpointer data)
{
    gboolean expired = FALSE;
    guint id = g_timeout_add_seconds(APP_WAIT_LIMIT_S, timed_out, &expired);
    while (!cond(data) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(id);
    return !expired;
}

gboolean app_widget_is_mapped(gpointer widget)
{
    return gtk_widget_get_mapped(GTK_WIDGET(widget));
}

gboolean app_has_no_windows(gpointer application)
{
    return gtk_application_get_windows(GTK_APPLICATION(application)) == NULL;
}

gboolean app_import_finished(gpointer dataset_page)
{
    return !lpt_dataset_page_is_importing(LPT_DATASET_PAGE(dataset_page));
}

LptApplication *app_new_application(void)
{
    g_autoptr(GError) error = NULL;
    LptApplication *app = lpt_application_new();
    app_check(g_application_register(G_APPLICATION(app), NULL, &error), "register: %s",
              error != NULL ? error->message : "");
    g_object_set(gtk_settings_get_default(), "gtk-font-name", "Cantarell 11", NULL);
    return app;
}

LptWindow *app_open_project(LptApplication *app, const char *path, gboolean create, int width,
                            int height)
{
    g_autoptr(GFile) file = g_file_new_for_path(path);
    LptWindow *window = lpt_application_open_project(app, file, create, NULL);
    app_check(window != NULL, "the project '%s' did not open", path);
    if (window == NULL)
        return NULL;
    gtk_window_set_default_size(GTK_WINDOW(window), width, height);
    app_check(app_wait_for(app_widget_is_mapped, window), "the window of '%s' never mapped", path);
    return window;
}

GtkWidget *app_find_widget(GtkWidget *widget, GType type)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(widget, type))
        return widget;
    for (GtkWidget *child = gtk_widget_get_first_child(widget); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *found = app_find_widget(child, type);
        if (found != NULL)
            return found;
    }
    return NULL;
}

GtkWidget *app_find_toplevel(GType type)
{
    GListModel *toplevels = gtk_window_get_toplevels(); /* not ours */
    for (guint i = 0; i < g_list_model_get_n_items(toplevels); i++) {
        g_autoptr(GObject) window = g_list_model_get_item(toplevels, i);
        if (G_TYPE_CHECK_INSTANCE_TYPE(window, type) && gtk_widget_get_visible(GTK_WIDGET(window)))
            return GTK_WIDGET(window);
    }
    return NULL;
}

gboolean app_press_key(GtkWidget *widget, guint keyval)
{
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(widget);
    for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
        g_autoptr(GtkEventController) controller = g_list_model_get_item(controllers, i);
        if (GTK_IS_EVENT_CONTROLLER_KEY(controller)) {
            gboolean handled = FALSE;
            g_signal_emit_by_name(controller, "key-pressed", keyval, 0, (GdkModifierType)0,
                                  &handled);
            return handled;
        }
    }
    return FALSE;
}

gboolean app_run_key_binding(GtkWidget *widget, guint keyval)
{
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(widget);
    for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
        g_autoptr(GObject) controller = g_list_model_get_item(controllers, i);
        if (!GTK_IS_SHORTCUT_CONTROLLER(controller))
            continue;
        GListModel *shortcuts = G_LIST_MODEL(controller);
        for (guint j = 0; j < g_list_model_get_n_items(shortcuts); j++) {
            g_autoptr(GtkShortcut) shortcut = g_list_model_get_item(shortcuts, j);
            GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger(shortcut);
            if (GTK_IS_KEYVAL_TRIGGER(trigger) &&
                gtk_keyval_trigger_get_keyval(GTK_KEYVAL_TRIGGER(trigger)) == keyval &&
                gtk_keyval_trigger_get_modifiers(GTK_KEYVAL_TRIGGER(trigger)) == 0)
                return gtk_shortcut_action_activate(gtk_shortcut_get_action(shortcut),
                                                    GTK_SHORTCUT_ACTION_EXCLUSIVE, widget,
                                                    gtk_shortcut_get_arguments(shortcut));
        }
    }
    return FALSE;
}

void app_save_screenshot(GtkWidget *window, GtkWidget *area, const char *dir, const char *name,
                         const char *suffix)
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
    app_check(node != NULL && renderer != NULL, "screenshot %s: nothing to render", name);
    if (node == NULL || renderer == NULL)
        return;
    g_autoptr(GdkTexture) texture =
        gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
    g_autofree char *file = g_strdup_printf("%s%s.png", name, suffix);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    gboolean saved = gdk_texture_save_to_png(texture, path);
    app_check(saved, "screenshot %s: cannot write '%s'", name, path);
    if (saved)
        printf("screenshot: %s (%dx%d)\n", path, width, height);
}

/* The calling thread's CPU time and time spent waiting on a runqueue so far (ns), -1 each
 * when unknown. */
static void thread_times_ns(gint64 *run_ns, gint64 *wait_ns)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    long long run = -1, wait = -1;
    if (f != NULL && fscanf(f, "%lld %lld", &run, &wait) != 2)
        run = wait = -1;
    if (f != NULL)
        fclose(f);
    *run_ns = run;
    *wait_ns = wait;
}

static gboolean probe_tick(gpointer data)
{
    AppProbe *probe = data;
    gint64 now = g_get_monotonic_time();
    gint64 run, wait;
    thread_times_ns(&run, &wait);
    if (probe->last_us != 0) {
        gint64 gap = now - probe->last_us;
        if (gap > probe->worst_gap_us) {
            probe->worst_gap_us = gap;
            probe->worst_at_us = now;
        }
        gint64 own =
            wait >= 0 && probe->last_wait_ns >= 0 ? gap - (wait - probe->last_wait_ns) / 1000 : gap;
        probe->worst_own_us = MAX(probe->worst_own_us, own);
        gint64 cpu = run >= 0 && probe->last_run_ns >= 0 ? (run - probe->last_run_ns) / 1000 : gap;
        probe->worst_cpu_us = MAX(probe->worst_cpu_us, cpu);
    }
    probe->last_us = now;
    probe->last_wait_ns = wait;
    probe->last_run_ns = run;
    probe->ticks++;
    return G_SOURCE_CONTINUE;
}

void app_probe_start(AppProbe *probe)
{
    memset(probe, 0, sizeof *probe);
    probe->started_us = g_get_monotonic_time();
    probe->source_id = g_timeout_add(APP_PROBE_INTERVAL_MS, probe_tick, probe);
}

void app_probe_stop(AppProbe *probe)
{
    if (probe->source_id != 0)
        g_source_remove(probe->source_id);
    probe->source_id = 0;
}

void app_probe_pause(AppProbe *probe)
{
    app_probe_stop(probe);
}

void app_probe_resume(AppProbe *probe)
{
    probe->last_us = 0; /* the pause is not a gap */
    probe->source_id = g_timeout_add(APP_PROBE_INTERVAL_MS, probe_tick, probe);
}

double app_probe_stall_ms(const AppProbe *probe, double *wall_ms)
{
    *wall_ms = (probe->worst_gap_us - APP_PROBE_INTERVAL_MS * 1000) / 1000.0;
    return probe->worst_cpu_us / 1000.0;
}

double app_probe_unqueued_ms(const AppProbe *probe)
{
    return (probe->worst_own_us - APP_PROBE_INTERVAL_MS * 1000) / 1000.0;
}

void app_probe_check(const AppProbe *probe, const char *during)
{
    double wall_ms, stall_ms = app_probe_stall_ms(probe, &wall_ms);
    printf("main loop: %u probe ticks, worst stall %.1f ms of the app's own work (wall clock "
           "%.1f ms at %.2f s, less runqueue waits %.1f ms), limit %d ms\n",
           probe->ticks, stall_ms, wall_ms, (probe->worst_at_us - probe->started_us) / 1e6,
           app_probe_unqueued_ms(probe), APP_STALL_LIMIT_MS);
    app_check(stall_ms < APP_STALL_LIMIT_MS, "the main loop stalled %.1f ms %s", stall_ms, during);
}

/* app_make_class_folder's colours: gradients that depend on (seed, index). */
static void gradient_pixel(guint8 rgb[3], int x, int y, guint seed, guint index)
{
    rgb[0] = (guint8)(x * 5 + index * 3 + seed * 40);
    rgb[1] = (guint8)(y * 5 + seed * 70);
    rgb[2] = (guint8)((x ^ y) * 4 + index);
}

gboolean app_write_png(const char *path, int side, AppPixelFunc pixel, guint seed, guint index,
                       GError **error)
{
    g_autofree guint8 *pixels = g_malloc((gsize)side * side * 3);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            pixel(&pixels[((gsize)y * side + x) * 3], x, y, seed, index);
    guint32 tag[2] = {seed, index};
    memcpy(pixels, tag, MIN(sizeof tag, (gsize)side * side * 3));
    g_autoptr(GBytes) bytes = g_bytes_new(pixels, (gsize)side * side * 3);
    g_autoptr(GdkTexture) texture =
        gdk_memory_texture_new(side, side, GDK_MEMORY_R8G8B8, bytes, (gsize)side * 3);
    if (!gdk_texture_save_to_png(texture, path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean app_make_class_folder(const char *root, const char *class_name, int count, int side,
                               guint seed, GError **error)
{
    return app_make_class_folder_with(root, class_name, count, side, gradient_pixel, seed, error);
}

gboolean app_make_class_folder_with(const char *root, const char *class_name, int count, int side,
                                    AppPixelFunc pixel, guint seed, GError **error)
{
    g_autofree char *dir = g_build_filename(root, class_name, NULL);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make '%s'", dir);
        return FALSE;
    }
    for (int i = 0; i < count; i++) {
        g_autofree char *name = g_strdup_printf("%s_%04d.png", class_name, i);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (!app_write_png(path, side, pixel, seed, (guint)i, error))
            return FALSE;
    }
    return TRUE;
}

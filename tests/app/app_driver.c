/* app_driver.c: helpers of the app tests (see the header). */
#include "app_driver.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

static int n_passed, n_failed;

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

/* The calling thread's time spent waiting on a runqueue so far (ns), -1 when unknown. */
static gint64 runqueue_wait_ns(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    long long run = 0, wait = -1;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld %lld", &run, &wait) != 2)
        wait = -1;
    fclose(f);
    return wait;
}

static gboolean probe_tick(gpointer data)
{
    AppProbe *probe = data;
    gint64 now = g_get_monotonic_time();
    gint64 wait = runqueue_wait_ns();
    if (probe->last_us != 0) {
        gint64 gap = now - probe->last_us;
        if (gap > probe->worst_gap_us) {
            probe->worst_gap_us = gap;
            probe->worst_at_us = now;
        }
        gint64 own = wait >= 0 && probe->last_wait_ns >= 0
                         ? gap - (wait - probe->last_wait_ns) / 1000
                         : gap;
        probe->worst_own_us = MAX(probe->worst_own_us, own);
    }
    probe->last_us = now;
    probe->last_wait_ns = wait;
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
    return (probe->worst_own_us - APP_PROBE_INTERVAL_MS * 1000) / 1000.0;
}

/* A side x side RGB PNG of gradients that depend on (seed, index), with the pair written
 * into the first pixels so that no two files are alike. */
static gboolean write_png(const char *path, int side, guint seed, guint index, GError **error)
{
    g_autofree guint8 *pixels = g_malloc((gsize)side * side * 3);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            guint8 *p = &pixels[((gsize)y * side + x) * 3];
            p[0] = (guint8)(x * 5 + index * 3 + seed * 40);
            p[1] = (guint8)(y * 5 + seed * 70);
            p[2] = (guint8)((x ^ y) * 4 + index);
        }
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
    g_autofree char *dir = g_build_filename(root, class_name, NULL);
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make '%s'", dir);
        return FALSE;
    }
    for (int i = 0; i < count; i++) {
        g_autofree char *name = g_strdup_printf("%s_%04d.png", class_name, i);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (!write_png(path, side, seed, (guint)i, error))
            return FALSE;
    }
    return TRUE;
}

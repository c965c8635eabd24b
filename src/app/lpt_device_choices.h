/* lpt_device_choices.h: the compute devices the app offers for its "device" setting (the
 * Preferences window's and the Training page's device rows).
 *
 * The Vulkan devices are listed on a worker thread (lpt_device_list loads the Vulkan drivers,
 * which takes a while). The choices are, in order: Automatic (value ""), CPU ("cpu"), each
 * device found (value: its name; shown as "name (type)") and, when the setting names a
 * device that is none of them, that one ("name (not found)"). A value matches the setting
 * without regard to ASCII case, as the backend matches device names.
 *
 * Threads: main thread, except where a function says otherwise.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The Vulkan devices found. */
typedef struct {
    GPtrArray *names;  /* char *: the devices' names, in lpt_device_list order */
    GPtrArray *labels; /* char *: "name (type)", translated */
    gboolean has_gpu;  /* one of them is not a CPU implementation (such as lavapipe) */
} LptFoundDevices;

void lpt_found_devices_free(LptFoundDevices *found);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LptFoundDevices, lpt_found_devices_free)

/* Lists the Vulkan devices on a worker thread; callback runs on this thread's main context
 * (at once when cancellable is cancelled: the listing's result is then dropped). */
void lpt_device_choices_list_async(GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
/* The devices found (free with lpt_found_devices_free), or NULL with error set:
 * G_IO_ERROR_CANCELLED when cancelled, LPT_CORE_ERROR when Vulkan is unavailable. */
LptFoundDevices *lpt_device_choices_list_finish(GAsyncResult *result, GError **error);

/* Replaces the items of labels and of values (char *, freed by values) with the choices:
 * Automatic, CPU, the devices found (found NULL: none listed yet), then the device current
 * names when it is none of these and add_missing. Returns the position of the choice whose
 * value is current, GTK_INVALID_LIST_POSITION when none. */
guint lpt_device_choices_fill(GtkStringList *labels, GPtrArray *values,
                              const LptFoundDevices *found, const char *current,
                              gboolean add_missing);

/* The position of the first of values[0..len) (NULL entries skipped) that matches value,
 * GTK_INVALID_LIST_POSITION when none. */
guint lpt_device_choices_find(GPtrArray *values, const char *value);

G_END_DECLS

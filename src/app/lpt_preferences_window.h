/* lpt_preferences_window.h: the Preferences window — the compute device that trains (the
 * CPU, or a Vulkan device by name, or the fastest found) and the thumbnail cache folder.
 *
 * Both are GSettings keys (`device`: "" for automatic, "cpu", or a device name; and
 * `cache-location`: "" for the user's cache folder, or a folder), written as soon as they
 * are changed. The Vulkan devices are listed (lpt_device_list) on a worker thread when the
 * window opens, since starting Vulkan can take a while; until then the device row offers
 * Automatic and CPU. A device the setting names that is not found (another computer, a
 * removed card) stays offered, marked as not found, so that opening the window does not
 * change the setting.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LPT_TYPE_PREFERENCES_WINDOW (lpt_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(LptPreferencesWindow, lpt_preferences_window, LPT, PREFERENCES_WINDOW,
                     AdwPreferencesWindow)

GtkWidget *lpt_preferences_window_new(GtkWindow *parent);

/* Whether the Vulkan devices are still being listed. */
gboolean lpt_preferences_window_is_listing(LptPreferencesWindow *self);

/* The device choices offered, in order: the GSettings value of each ("" = automatic, "cpu",
 * or a Vulkan device's name; owned by the window; for tests). */
const char *const *lpt_preferences_window_get_device_values(LptPreferencesWindow *self);

/* The device row and the cache row (owned by the window; for tests). */
AdwComboRow *lpt_preferences_window_get_device_row(LptPreferencesWindow *self);
AdwActionRow *lpt_preferences_window_get_cache_row(LptPreferencesWindow *self);

G_END_DECLS

/* lpt_device_choices.c: the choices of the "device" setting (see the header). */
#include "lpt_device_choices.h"

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_backend.h"

#define MAX_DEVICES 32

void lpt_found_devices_free(LptFoundDevices *found)
{
    if (found == NULL)
        return;
    g_ptr_array_unref(found->names);
    g_ptr_array_unref(found->labels);
    g_free(found);
}

static void list_devices_thread(GTask *task, gpointer source_object, gpointer task_data,
                                GCancellable *cancellable)
{
    LptDeviceInfo *infos = g_new0(LptDeviceInfo, MAX_DEVICES);
    LptError err = {0};
    int n = lpt_device_list(infos, MAX_DEVICES, &err);
    if (n < 0) {
        GError *error = NULL;
        lpt_app_error_from_core(&error, &err);
        g_task_return_error(task, error);
    } else {
        LptFoundDevices *found = g_new0(LptFoundDevices, 1);
        found->names = g_ptr_array_new_with_free_func(g_free);
        found->labels = g_ptr_array_new_with_free_func(g_free);
        for (int i = 0; i < MIN(n, MAX_DEVICES); i++) {
            g_ptr_array_add(found->names, g_strdup(infos[i].name));
            /* Translators: a compute device and its kind, as in "NVIDIA H200 (discrete GPU)" */
            g_ptr_array_add(found->labels,
                            g_strdup_printf(_("%s (%s)"), infos[i].name, infos[i].type));
            found->has_gpu = found->has_gpu || g_strcmp0(infos[i].type, "CPU") != 0;
        }
        g_task_return_pointer(task, found, (GDestroyNotify)lpt_found_devices_free);
    }
    g_free(infos);
}

void lpt_device_choices_list_async(GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_return_on_cancel(task, TRUE); /* the caller need not wait for the drivers */
    g_task_run_in_thread(task, list_devices_thread);
}

LptFoundDevices *lpt_device_choices_list_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(G_IS_TASK(result), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

guint lpt_device_choices_find(GPtrArray *values, const char *value)
{
    for (guint i = 0; i < values->len; i++) {
        const char *candidate = g_ptr_array_index(values, i);
        if (candidate != NULL && g_ascii_strcasecmp(candidate, value) == 0)
            return i;
    }
    return GTK_INVALID_LIST_POSITION;
}

static void add_choice(GtkStringList *labels, GPtrArray *values, const char *label,
                       const char *value)
{
    gtk_string_list_append(labels, label);
    g_ptr_array_add(values, g_strdup(value));
}

guint lpt_device_choices_fill(GtkStringList *labels, GPtrArray *values,
                              const LptFoundDevices *found, const char *current,
                              gboolean add_missing)
{
    g_return_val_if_fail(GTK_IS_STRING_LIST(labels) && values != NULL && current != NULL,
                         GTK_INVALID_LIST_POSITION);
    gtk_string_list_splice(labels, 0, g_list_model_get_n_items(G_LIST_MODEL(labels)), NULL);
    g_ptr_array_set_size(values, 0);
    add_choice(labels, values, _("Automatic"), "");
    add_choice(labels, values, _("CPU"), "cpu");
    for (guint i = 0; found != NULL && i < found->names->len; i++)
        add_choice(labels, values, g_ptr_array_index(found->labels, i),
                   g_ptr_array_index(found->names, i));

    guint selected = lpt_device_choices_find(values, current);
    if (selected == GTK_INVALID_LIST_POSITION && add_missing) {
        /* Translators: a compute device named in the settings that this computer lacks */
        g_autofree char *label = g_strdup_printf(_("%s (not found)"), current);
        add_choice(labels, values, label, current);
        selected = values->len - 1;
    }
    return selected;
}

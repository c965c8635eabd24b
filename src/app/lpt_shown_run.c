/* lpt_shown_run.c: what a Review page view shows and when it reads it (see the header). */
#include "lpt_shown_run.h"

void lpt_shown_run_init(LptShownRun *self, GtkWidget *view, LptShownRunReloadFunc reload)
{
    g_return_if_fail(GTK_IS_WIDGET(view) && reload != NULL);
    *self = (LptShownRun){.dirty = TRUE, .view = view, .reload = reload};
}

void lpt_shown_run_reload_if_dirty(LptShownRun *self)
{
    if (!self->dirty)
        return;
    self->dirty = FALSE;
    self->reload(self->view);
}

void lpt_shown_run_invalidate(LptShownRun *self)
{
    self->dirty = TRUE;
    if (gtk_widget_get_mapped(self->view))
        lpt_shown_run_reload_if_dirty(self);
}

static void on_project_changed(LptProject *project, gpointer user_data)
{
    lpt_shown_run_invalidate(user_data);
}

gboolean lpt_shown_run_set_project(LptShownRun *self, LptProject *project)
{
    g_return_val_if_fail(project == NULL || LPT_IS_PROJECT(project), FALSE);
    if (project == self->project)
        return FALSE;
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_set_object(&self->project, project);
    if (project != NULL)
        self->changed_id =
            g_signal_connect(project, "changed", G_CALLBACK(on_project_changed), self);
    return TRUE;
}

gboolean lpt_shown_run_set_run(LptShownRun *self, int64_t run_id)
{
    if (run_id == self->run_id)
        return FALSE;
    self->run_id = run_id;
    return TRUE;
}

void lpt_shown_run_clear(LptShownRun *self)
{
    if (self->project != NULL)
        g_clear_signal_handler(&self->changed_id, self->project);
    g_clear_object(&self->project);
}

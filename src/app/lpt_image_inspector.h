/* lpt_image_inspector.h: what a run said about one image (product.md workflow 6) — the image,
 * zoomable (Ctrl + scroll, Ctrl + plus / minus / 0); its true label (the one the evaluation
 * scored against, and the label now when it changed since); the fused top-5 with their
 * probabilities; each expert's top-5 side by side, as bars; the scorer's weight of each
 * expert as one bar; the group prompts each expert chose; the image's label history.
 *
 * From here the user relabels the image (Relabel, F2, or typing a class name: the relabel
 * popover of the Dataset page, a new name makes a new class) or excludes it from training
 * (Delete; again to take it back): each one transaction through the project's store,
 * recorded in the label history, after which the project emits ::labels-changed and
 * ::changed (the Dataset page and the Review page follow). Previous / Next (Page Up / Page
 * Down, or Left / Right) walk the queue the image was opened from.
 *
 * One inspector per main window: presenting again shows the new image in it. The image file
 * is decoded off the main thread; everything else is a few small reads of the store.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>
#include <stdint.h>

#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMAGE_INSPECTOR (lpt_image_inspector_get_type())
G_DECLARE_FINAL_TYPE(LptImageInspector, lpt_image_inspector, LPT, IMAGE_INSPECTOR, AdwWindow)

/* Shows image_id as run run_id saw it, in the inspector of parent's window (made when it has
 * none), with the queue it belongs to (queue_ids[0..queue_count), copied; NULL / 0: the
 * image alone) for Previous / Next. */
void lpt_image_inspector_present(GtkWidget *parent, LptProject *project, int64_t run_id,
                                 int64_t image_id, const int64_t *queue_ids, size_t queue_count);

/* The image shown (0: none). */
gint64 lpt_image_inspector_get_image_id(LptImageInspector *self);
/* Moves by delta (-1: previous, +1: next) in the queue; FALSE at its ends. */
gboolean lpt_image_inspector_step(LptImageInspector *self, int delta);

/* Moves the image to the class named name (made when the project has none). FALSE with error
 * set when the store fails (the project is then unchanged). */
gboolean lpt_image_inspector_relabel(LptImageInspector *self, const char *name, GError **error);
/* Excludes the image from training, or takes it back when it is excluded. */
gboolean lpt_image_inspector_toggle_excluded(LptImageInspector *self, GError **error);

/* What the inspector shows (for tests): the name of the image's class now; the label
 * history's rows; whether the image is shown (decoded); the top-5 rows of the fused model
 * (0 without a prediction). */
const char *lpt_image_inspector_get_label(LptImageInspector *self);
guint lpt_image_inspector_get_n_history(LptImageInspector *self);
gboolean lpt_image_inspector_has_image(LptImageInspector *self);
guint lpt_image_inspector_get_n_fused(LptImageInspector *self);

G_END_DECLS

/* lpt_class_texts_view.h: the Review page's class texts (product.md "Beyond the peers": the
 * VL expert's class texts as a lever, with the zero-shot accuracy per class before training).
 *
 * One row per class of the project: its text (the class's description in the store, which
 * the vision-language expert reads instead of the name when it is not empty), editable and
 * saved when applied (Enter or the row's apply button); the class's zero-shot recall once
 * computed; and the recall of the vision-language expert of the run shown (from its test
 * predictions; "—" when the run has none).
 *
 * Zero-shot (lpt_zero_shot.h) runs on a worker thread with its own backend, with a progress
 * bar and Cancel: the vision-language backbone of the run shown, else the project's latest,
 * on the test images (not excluded), against every class of the project with the texts as
 * they are stored when it starts. A text applied afterwards marks that class's zero-shot
 * figure as stale.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_CLASS_TEXTS_VIEW (lpt_class_texts_view_get_type())
G_DECLARE_FINAL_TYPE(LptClassTextsView, lpt_class_texts_view, LPT, CLASS_TEXTS_VIEW, GtkWidget)

GtkWidget *lpt_class_texts_view_new(void);

/* The project shown (NULL = none); the view holds a reference. */
void lpt_class_texts_view_set_project(LptClassTextsView *self, LptProject *project);
/* The run shown (0 = none). */
void lpt_class_texts_view_set_run(LptClassTextsView *self, int64_t run_id);

/* Saves a class's text as applying its row does; FALSE with error set when the store fails. */
gboolean lpt_class_texts_view_apply_text(LptClassTextsView *self, int64_t class_id,
                                         const char *text, GError **error);

/* Starts the zero-shot computation (what the button does); FALSE when it cannot start (the
 * status line says why) or one is running. */
gboolean lpt_class_texts_view_start_zero_shot(LptClassTextsView *self);
gboolean lpt_class_texts_view_is_running(LptClassTextsView *self);

/* What a class's row shows: its text, its zero-shot recall and the trained VL expert's
 * recall (NaN: not known / stale / no such expert). */
const char *lpt_class_texts_view_get_text(LptClassTextsView *self, int64_t class_id);
double lpt_class_texts_view_get_zero_shot(LptClassTextsView *self, int64_t class_id);
double lpt_class_texts_view_get_trained(LptClassTextsView *self, int64_t class_id);

/* The status line (owned by the view). */
const char *lpt_class_texts_view_get_status(LptClassTextsView *self);

G_END_DECLS

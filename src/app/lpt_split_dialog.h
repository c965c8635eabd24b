/* lpt_split_dialog.h: the split settings dialog of the Dataset page — the share of each
 * class that goes to validation and to test (training takes the rest), the minimum per
 * class in each, and the seed — with the responses "cancel" and "resplit".
 *
 * The dialog only edits settings (an LptSplitConfig); whoever opened it runs the re-split
 * on "resplit" (lpt_project_resplit_async), which keeps the splits that list files and
 * split folders gave and stores the settings in the project.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_split.h"

G_BEGIN_DECLS

#define LPT_TYPE_SPLIT_DIALOG (lpt_split_dialog_get_type())
G_DECLARE_FINAL_TYPE(LptSplitDialog, lpt_split_dialog, LPT, SPLIT_DIALOG, AdwMessageDialog)

/* A dialog over parent (may be NULL) showing cfg. */
GtkWidget *lpt_split_dialog_new(GtkWindow *parent, const LptSplitConfig *cfg);

/* Shows cfg: fractions as percentages (rounded to 0.1 %), the minimum and the seed (both
 * clamped to what the dialog offers). */
void lpt_split_dialog_set_config(LptSplitDialog *self, const LptSplitConfig *cfg);
/* The settings shown; the fractions sum to 1. */
void lpt_split_dialog_get_config(LptSplitDialog *self, LptSplitConfig *cfg);

G_END_DECLS

/* lpt_relabel_popover.h: the popover that moves images to another class — an entry for the
 * class name and, below it, the project's classes that match what is typed (a case-blind
 * substring), the best match selected: the class named exactly, else the first match.
 *
 * Enter (or a click on a class) emits ::relabel with the selected class, or, when no class
 * matches, with the name typed (a new class, which the hint under the list announces).
 * Up and Down in the entry move the selection. The popover closes after ::relabel.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LPT_TYPE_RELABEL_POPOVER (lpt_relabel_popover_get_type())
G_DECLARE_FINAL_TYPE(LptRelabelPopover, lpt_relabel_popover, LPT, RELABEL_POPOVER, GtkPopover)

GtkWidget *lpt_relabel_popover_new(void);

/* The classes offered (copied), in name order (g_utf8_collate); `current` (may be NULL) is
 * left out. */
void lpt_relabel_popover_set_classes(LptRelabelPopover *self, const char *const *names,
                                     const char *current);

/* The text a key press over a grid of images types to start a relabel: a printable character
 * pressed without Control, Alt or Super, as UTF-8 into text; FALSE for any other key. */
gboolean lpt_relabel_popover_key_text(guint keyval, GdkModifierType state, char text[8]);

/* Pops up with text in the entry (NULL: empty), the cursor after it. */
void lpt_relabel_popover_start(LptRelabelPopover *self, const char *text);

/* The class Enter would choose now (a new string), NULL when the entry is empty. */
char *lpt_relabel_popover_get_choice(LptRelabelPopover *self);

/* The entry (owned by the popover; for tests). */
GtkEditable *lpt_relabel_popover_get_entry(LptRelabelPopover *self);

G_END_DECLS

/* lpt_class_row.h: one row of the dataset page's class table — a class with its image
 * counts per split, its share of the dataset and its many/medium/few group.
 *
 * An immutable value object: the dataset page makes a new set of rows each time the project
 * changes. Its properties (read-only) are what the table's columns show and sort by.
 *
 * Threads: made and read on the main thread.
 */
#pragma once

#include <glib-object.h>

#include "lpt_split.h"
#include "lpt_store.h"

G_BEGIN_DECLS

#define LPT_TYPE_CLASS_ROW (lpt_class_row_get_type())
G_DECLARE_FINAL_TYPE(LptClassRow, lpt_class_row, LPT, CLASS_ROW, GObject)

/* counts: images per split indexed by LptStoreSplit (NONE, TRAIN, VAL, TEST), excluded
 * images left out (counted in `excluded`); share in [0, 1]: the class's images over the
 * dataset's; group: from the training counts. */
LptClassRow *lpt_class_row_new(gint64 class_id, const char *name,
                               const gint64 counts[LPT_STORE_SPLIT_COUNT], gint64 excluded,
                               double share, LptGroup group);

gint64 lpt_class_row_get_class_id(LptClassRow *self);
const char *lpt_class_row_get_name(LptClassRow *self);
/* Images of the class in split (NONE = not assigned yet). */
gint64 lpt_class_row_get_count(LptClassRow *self, LptStoreSplit split);
/* Images of the class excluded from training (in no count above). */
gint64 lpt_class_row_get_excluded(LptClassRow *self);
/* All images of the class that are not excluded, in any split or none. */
gint64 lpt_class_row_get_total(LptClassRow *self);
double lpt_class_row_get_share(LptClassRow *self);
LptGroup lpt_class_row_get_group(LptClassRow *self);

G_END_DECLS

/* lpt_image_item.h: one image of a project as the dataset page's thumbnail grid shows it —
 * its id, file, content hash (which finds its thumbnail), split and exclusion.
 *
 * Items are made by LptImageList from the store's record. The split and the exclusion
 * change when the project does (lpt_image_item_update), with a notify on the property that
 * changed, so that a tile showing the item follows it; the rest never changes.
 *
 * Threads: main thread only.
 */
#pragma once

#include <glib-object.h>

#include "lpt_store.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMAGE_ITEM (lpt_image_item_get_type())
G_DECLARE_FINAL_TYPE(LptImageItem, lpt_image_item, LPT, IMAGE_ITEM, GObject)

/* An item for record (copied). */
LptImageItem *lpt_image_item_new(const LptStoreImage *record);
/* An item for an image that could not be read (id only; no file, no hash). */
LptImageItem *lpt_image_item_new_missing(gint64 image_id);

gint64 lpt_image_item_get_id(LptImageItem *self);
/* The image file; "" for a missing item (owned by the item). */
const char *lpt_image_item_get_path(LptImageItem *self);
/* The file name part of the path (owned by the item). */
const char *lpt_image_item_get_name(LptImageItem *self);
/* 64 lowercase hex digits; "" for a missing item (owned by the item). */
const char *lpt_image_item_get_hash(LptImageItem *self);
gint64 lpt_image_item_get_class_id(LptImageItem *self);
LptStoreSplit lpt_image_item_get_split(LptImageItem *self);
gboolean lpt_image_item_get_excluded(LptImageItem *self);

/* Takes the split, the exclusion and the class of record (the same image), notifying what
 * changed. */
void lpt_image_item_update(LptImageItem *self, const LptStoreImage *record);

G_END_DECLS

/* lpt_image_list.h: the images of one class of a project, as a GListModel of LptImageItem
 * for the dataset page's thumbnail grid.
 *
 * The list holds the ids of the class's images (excluded ones included: the grid marks them)
 * in id order, read from the store when the class is set and again on every refresh. Items
 * are made on demand from the store's record (a grid asks for the rows it shows, so a class
 * of 10^5 images costs its ids, not 10^5 records) and are not kept by the list: it only
 * remembers them weakly, to update those still alive on a refresh.
 *
 * A refresh after the project changed reports the smallest change it can (one
 * ::items-changed over the span between the common head and tail of the old and new ids),
 * so the grid keeps its scroll position and selection; the items outside that span that are
 * alive take their record's new split and exclusion (notify on the item).
 *
 * The list holds its project while a class is set.
 *
 * Threads: main thread only (it reads through the project's main-thread store).
 */
#pragma once

#include <gio/gio.h>

#include "lpt_image_item.h"
#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMAGE_LIST (lpt_image_list_get_type())
G_DECLARE_FINAL_TYPE(LptImageList, lpt_image_list, LPT, IMAGE_LIST, GObject)

/* An empty list. */
LptImageList *lpt_image_list_new(void);

/* Shows the images of class_id in project (project NULL or class_id 0: none). FALSE with
 * error set (the list then empty) when the store fails. */
gboolean lpt_image_list_set_class(LptImageList *self, LptProject *project, gint64 class_id,
                                  GError **error);
gint64 lpt_image_list_get_class_id(LptImageList *self);

/* Reads the class's images again (see the header comment). FALSE with error set when the
 * store fails (the list is then unchanged). */
gboolean lpt_image_list_refresh(LptImageList *self, GError **error);

/* The id of the image at position (0 when out of range). */
gint64 lpt_image_list_get_id(LptImageList *self, guint position);

/* The position of the image in the list, or -1 when it is not there. */
gint64 lpt_image_list_find(LptImageList *self, gint64 image_id);

G_END_DECLS

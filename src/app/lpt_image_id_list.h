/* lpt_image_id_list.h: a given list of a project's images, in the order given, as a
 * GListModel of LptImageItem — the images of a class or a confusion cell on the Review page.
 *
 * Items are made on demand from the store's record (a grid asks for the rows it shows) and
 * remembered weakly, so that a refresh after the project changed updates those still alive
 * (their split, exclusion and class: notify on the item). An image that cannot be read (gone
 * since) is a "missing" item.
 *
 * The list holds its project while it shows images.
 *
 * Threads: main thread only (it reads through the project's main-thread store).
 */
#pragma once

#include <gio/gio.h>

#include "lpt_image_item.h"
#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMAGE_ID_LIST (lpt_image_id_list_get_type())
G_DECLARE_FINAL_TYPE(LptImageIdList, lpt_image_id_list, LPT, IMAGE_ID_LIST, GObject)

LptImageIdList *lpt_image_id_list_new(void);

/* Shows the images ids[0..n) of project (copied; project NULL or n 0: none). */
void lpt_image_id_list_set(LptImageIdList *self, LptProject *project, const gint64 *ids,
                           guint n);

/* The ids shown (owned by the list; NULL when none) and their count. */
const gint64 *lpt_image_id_list_get_ids(LptImageIdList *self, guint *n);

/* Reads the records of the items alive again (after a relabel or an exclusion). */
void lpt_image_id_list_refresh(LptImageIdList *self);

G_END_DECLS

/* lpt_class_images.h: the images of one class on the Dataset page — a header with the
 * class's name and counts, and a grid of thumbnails (LptImageTile over an LptImageList, in a
 * GtkGridView with multiple selection) loaded lazily by an LptThumbnailLoader.
 *
 * What the user can do to the selected images (product.md workflow 3), each one
 * transaction through the project's store, after which the project emits ::changed (the
 * class table, chart and warnings follow, and the page refreshes this grid):
 *   - exclude them from training or take them back (Delete, or the context menu): when any
 *     of them is included all are excluded, else all are included again;
 *   - move them to another class (typing a class name or F2 opens the relabel popover, with
 *     the matching classes to pick from; or the context menu): lpt_store_image_relabel,
 *     recorded in the label history; a name no class has creates that class;
 *   - open the first in the default image viewer (the context menu).
 * The context menu opens on a right click (which selects the image under the pointer when
 * it is not selected), Menu or Shift+F10. What happened is said in a toast.
 *
 * The thumbnail cache folder is the GSettings key cache-location (followed when it changes).
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_project.h"
#include "lpt_relabel_popover.h"

G_BEGIN_DECLS

#define LPT_TYPE_CLASS_IMAGES (lpt_class_images_get_type())
G_DECLARE_FINAL_TYPE(LptClassImages, lpt_class_images, LPT, CLASS_IMAGES, GtkWidget)

/* Shows the images of class_id in project (NULL or 0: none; the widget holds the project
 * while it shows a class), scrolled to the top with nothing selected. name and excluded (the
 * class's excluded images) are for the header. */
void lpt_class_images_set_class(LptClassImages *self, LptProject *project, gint64 class_id,
                                const char *name, gint64 excluded);
gint64 lpt_class_images_get_class_id(LptClassImages *self);

/* Reads the class's images again after the project changed, keeping the scroll position
 * and the selection of the images still there; name and excluded as above. */
void lpt_class_images_refresh(LptClassImages *self, const char *name, gint64 excluded);

/* Moves the selected images to the class named name (created when the project has none).
 * Returns how many images moved, or -1 with error set (the project is then unchanged). */
gint64 lpt_class_images_relabel_selected(LptClassImages *self, const char *name, GError **error);
/* Excludes the selected images, or includes them again when all are excluded (see the
 * header comment); *now_excluded (may be NULL) says which. Returns how many changed, or -1
 * with error set (the project is then unchanged). */
gint64 lpt_class_images_toggle_excluded(LptClassImages *self, gboolean *now_excluded,
                                        GError **error);

/* Parts, for tests (owned by the widget): the grid, its selection model (over
 * LptImageItem), and the relabel popover. */
GtkGridView *lpt_class_images_get_grid(LptClassImages *self);
GtkSelectionModel *lpt_class_images_get_selection(LptClassImages *self);
LptRelabelPopover *lpt_class_images_get_relabel_popover(LptClassImages *self);

G_END_DECLS

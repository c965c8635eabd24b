/* lpt_image_tile.h: one tile of the dataset page's thumbnail grid — the image's thumbnail,
 * its file name, a badge for its split and a mark when it is excluded from training.
 *
 * A tile shows the LptImageItem it is bound to and follows its split and exclusion. Binding
 * takes the thumbnail from the loader's memory cache at once, or starts a load on the
 * loader's threads (a placeholder shows meanwhile, a "missing" icon when the image cannot
 * be read); unbinding (the row scrolled away, or the tile is reused for another image)
 * cancels a load that has not started.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_image_item.h"
#include "lpt_thumbnail_loader.h"

G_BEGIN_DECLS

#define LPT_TYPE_IMAGE_TILE (lpt_image_tile_get_type())
G_DECLARE_FINAL_TYPE(LptImageTile, lpt_image_tile, LPT, IMAGE_TILE, GtkWidget)

GtkWidget *lpt_image_tile_new(void);

/* Shows item with thumbnails from loader (the tile takes a reference to the item, and to the
 * loader while a load runs). */
void lpt_image_tile_bind(LptImageTile *self, LptImageItem *item, LptThumbnailLoader *loader);
/* Lets the item go and cancels its load. */
void lpt_image_tile_unbind(LptImageTile *self);

/* The item shown, NULL when unbound (owned by the tile). */
LptImageItem *lpt_image_tile_get_item(LptImageTile *self);
/* Whether the thumbnail is shown (for tests). */
gboolean lpt_image_tile_has_thumbnail(LptImageTile *self);

/* The translated name of a split as the tiles show it ("Train", "Val", "Test", "No split"). */
const char *lpt_image_tile_split_label(LptStoreSplit split);

G_END_DECLS

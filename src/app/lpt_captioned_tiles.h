/* lpt_captioned_tiles.h: the tiles of a thumbnail grid with caption lines under each image
 * (the Review page's queues and the run comparison's flipped images).
 *
 * A GtkListItemFactory for a GtkGridView over LptImageItem: each tile is an LptImageTile
 * (thumbnails from the loader given) over a column of caption labels (one line each,
 * ellipsized, style class "caption" plus the line's own). The view words the captions: its
 * caption function gets a tile's labels and image id (0 when the tile is unbound) whenever
 * the tile is bound, and for every bound tile when it calls lpt_captioned_tiles_refresh
 * (after its data changed), so a caption never depends on where the tile sits.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "lpt_thumbnail_loader.h"

G_BEGIN_DECLS

/* Sets the caption of the image image_id (0: none) in lines[0..n_lines). */
typedef void (*LptTileCaptionFunc)(GtkLabel *const *lines, gint64 image_id, gpointer user_data);

/* A factory of tiles with n_lines caption lines (line_css[i]: line i's extra style class, or
 * NULL; line_css may be NULL), over thumbnails from loader (the factory holds it), worded by
 * caption(lines, image_id, user_data). */
GtkListItemFactory *lpt_captioned_tiles_factory_new(LptThumbnailLoader *loader, guint n_lines,
                                                    const char *const *line_css,
                                                    LptTileCaptionFunc caption, gpointer user_data);

/* Words the caption of every tile grid shows again (grid's factory is one of these). */
void lpt_captioned_tiles_refresh(GtkGridView *grid);

G_END_DECLS

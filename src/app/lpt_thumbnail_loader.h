/* lpt_thumbnail_loader.h: thumbnails for the dataset page's grid, loaded off the main thread.
 *
 * A load finds the image's thumbnail in the project's cache (lpt_thumbnail.h: the file named
 * by the content hash under the cache folder) and decodes it into a GdkTexture. When the
 * cache has none (a cache folder cleared or moved since the import), it decodes the image
 * itself, writes the thumbnail into the cache for next time and uses it.
 *
 * Loads run on a pool of LPT_THUMBNAIL_LOADER_THREADS threads of the loader's own (not
 * GLib's shared pool, which an import or a training run may fill), newest request first:
 * while the user scrolls, the rows that came into view last are the ones looked at.
 * Cancelling a load's GCancellable (a tile scrolled away) drops it if it has not started;
 * one that has started finishes and its texture still goes into the cache.
 *
 * Textures are kept in a memory cache of the last LPT_THUMBNAIL_LOADER_CACHE used, by content
 * hash; lpt_thumbnail_loader_lookup answers from it at once, without a load.
 *
 * Threads: every function on the main thread; callbacks run there too. Loads queued when the
 * loader is finalized are cancelled (their callbacks still run, with G_IO_ERROR_CANCELLED).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LPT_THUMBNAIL_LOADER_THREADS 2
#define LPT_THUMBNAIL_LOADER_CACHE 600 /* textures kept: about 40 MB at 128 x 128 RGB */

#define LPT_TYPE_THUMBNAIL_LOADER (lpt_thumbnail_loader_get_type())
G_DECLARE_FINAL_TYPE(LptThumbnailLoader, lpt_thumbnail_loader, LPT, THUMBNAIL_LOADER, GObject)

/* A loader over cache_dir (NULL or "": the core's default, lpt_cache_dir). */
LptThumbnailLoader *lpt_thumbnail_loader_new(const char *cache_dir);

/* A loader over the folder the app's "cache-location" setting in settings names, moving
 * with it when it changes (the loader holds settings). */
LptThumbnailLoader *lpt_thumbnail_loader_new_for_settings(GSettings *settings);

/* Moves to another cache folder (NULL or "": the default); empties the memory cache. */
void lpt_thumbnail_loader_set_cache_dir(LptThumbnailLoader *self, const char *cache_dir);

/* The texture of the image with content hash `hash` when it is in the memory cache (a new
 * reference), else NULL. */
GdkTexture *lpt_thumbnail_loader_lookup(LptThumbnailLoader *self, const char *hash);

/* Loads the thumbnail of the image at image_path whose content hash is `hash`. */
void lpt_thumbnail_loader_load_async(LptThumbnailLoader *self, const char *hash,
                                     const char *image_path, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
/* The texture (a new reference), or NULL with error set: G_IO_ERROR_CANCELLED when it was
 * cancelled before it started, LPT_CORE_ERROR with the core's words when neither the cache
 * nor the image could be read. */
GdkTexture *lpt_thumbnail_loader_load_finish(LptThumbnailLoader *self, GAsyncResult *result,
                                             GError **error);

/* Textures in the memory cache (for tests). */
guint lpt_thumbnail_loader_get_n_cached(LptThumbnailLoader *self);

G_END_DECLS

/* lpt_thumbnail.h: the thumbnail cache, small PNGs of imported images keyed by content hash.
 *
 * Where: under the user's cache folder (lpt_cache_dir of lpt_paths.h: $LPT_CACHE_DIR, else
 * $XDG_CACHE_HOME/lpt-studio, else $HOME/.cache/lpt-studio). A thumbnail lives at
 * <cache>/thumbnails/<first 2 hex digits of the hash>/<hash>.png, so the same image imported
 * into several projects (or twice) has one thumbnail, and a project's images find theirs
 * from the hash the store keeps.
 *
 * What: the image as decoded by lpt_image (1 channel gray or 3 RGB, alpha composited on
 * white), scaled so that its longer side is LPT_THUMBNAIL_SIDE pixels by area averaging
 * (each output pixel is the mean of the source area it covers, partial pixels weighted by
 * their overlap), written as an 8-bit PNG of the same channels. Images whose longer side is
 * already LPT_THUMBNAIL_SIDE or less are stored at their own size (never enlarged: the viewer
 * scales up, a larger file adds nothing).
 *
 * Invariants: a thumbnail file is complete or absent. It is written to a hidden temporary
 * file in the same directory and renamed into place, so readers and concurrent writers of
 * the same hash (two imports, two threads) never see a partial file; the last rename wins
 * with identical content. The rename is not fsync'ed (a cache, rebuilt on demand): an empty
 * file left by a crash counts as absent.
 *
 * Threads: no state; any thread may call any function, concurrently.
 */
#ifndef LPT_THUMBNAIL_H
#define LPT_THUMBNAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_image.h"

#define LPT_THUMBNAIL_SIDE 128 /* the longer side of a thumbnail, in pixels */

/* Creates <cache_dir>/thumbnails (and any missing parent) unless it is there. */
LptStatus lpt_thumbnail_cache_prepare(const char *cache_dir, LptError *err);

/* Writes <cache_dir>/thumbnails/<hash[0..1]>/<hash>.png into buf. hash: 64 lowercase hex. */
LptStatus lpt_thumbnail_path(const char *cache_dir, const char *hash, char *buf, size_t size,
                             LptError *err);

/* The size of the thumbnail of a width x height image (both >= 1): the longer side
 * min(longer, LPT_THUMBNAIL_SIDE), the shorter scaled by the same factor, rounded, >= 1. */
void lpt_thumbnail_size(int width, int height, int *thumb_width, int *thumb_height);

/* Area-averaged resize of src (1 or 3 channels) to out_width x out_height, each no larger
 * than the source's, into out (out_height * out_width * src->channels bytes, caller's). */
LptStatus lpt_thumbnail_downscale(const LptImage *src, int out_width, int out_height, uint8_t *out,
                                  LptError *err);

/* True when the thumbnail of `hash` is in the cache (a non-empty file). */
bool lpt_thumbnail_exists(const char *cache_dir, const char *hash);

/* Makes the thumbnail of img (the decoded image whose file has content hash `hash`) and
 * writes it into the cache atomically, creating the directories it needs. */
LptStatus lpt_thumbnail_write(const char *cache_dir, const char *hash, const LptImage *img,
                              LptError *err);

#endif

/* lpt_paths.h: file-system places the core shares: the user's cache folder (thumbnails,
 * the phase-3 feature caches) and the creation of a folder with its missing parents.
 *
 * The cache folder is $LPT_CACHE_DIR when set and not empty, else
 * $XDG_CACHE_HOME/lpt-studio, else $HOME/.cache/lpt-studio. Everything under it is a cache:
 * deleting it costs only the time to make it again.
 *
 * Threads: no state; any thread may call, concurrently.
 */
#ifndef LPT_PATHS_H
#define LPT_PATHS_H

#include <stddef.h>

#include "lpt_error.h"

/* Writes the cache folder (see above) into buf. Fails when none of the variables is set or
 * the path does not fit. */
LptStatus lpt_cache_dir(char *buf, size_t size, LptError *err);

/* mkdir -p: creates each missing folder of path (0755 less the umask); an existing folder
 * is fine. Errors name the folder that could not be made. */
LptStatus lpt_make_dirs(const char *path, LptError *err);

#endif

/* lpt_paths.c: the cache folder and mkdir -p of lpt_paths.h. */
#include "lpt_paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

LptStatus lpt_cache_dir(char *buf, size_t size, LptError *err)
{
    const char *dir = getenv("LPT_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (!buf || size == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "cache folder: no buffer");
    if (dir && *dir)
        n = snprintf(buf, size, "%s", dir);
    else if (xdg && *xdg)
        n = snprintf(buf, size, "%s/lpt-studio", xdg);
    else if (home && *home)
        n = snprintf(buf, size, "%s/.cache/lpt-studio", home);
    else
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "cache folder: none of LPT_CACHE_DIR, XDG_CACHE_HOME and HOME "
                             "is set");
    if (n < 0 || (size_t)n >= size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "cache folder: the folder's path is too long");
    return LPT_OK;
}

LptStatus lpt_make_dirs(const char *path, LptError *err)
{
    char buf[4096];
    int len = snprintf(buf, sizeof buf, "%s", path ? path : "");
    if (len <= 0 || (size_t)len >= sizeof buf)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: no folder, or its path is too long", path ? path : "(null)");
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = mkdir(buf, 0755);
        int e = errno;
        struct stat sb;
        if (rc != 0 && !(e == EEXIST && stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode)))
            return lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot create directory: %s", buf,
                                 strerror(e == EEXIST ? ENOTDIR : e));
        *p = saved;
        if (saved == '\0')
            return LPT_OK;
    }
}

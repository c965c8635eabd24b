/* lpt_import_file.c: one file of an import, as a worker thread handles it (see
 * lpt_import_impl.h): read its bytes once, recognise the format by content, hash them, and
 * probe (thumbnail already cached) or decode (thumbnail made from the pixels). Also the
 * import item's constructor and destructor. Any thread; no shared state.
 */
#include "lpt_import_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_image.h"
#include "lpt_thumbnail.h"

LptImportItem *lpt_import_item_new(const char *path)
{
    LptImportItem *item = calloc(1, sizeof *item);
    if (!item)
        return NULL;
    item->path = strdup(path);
    if (!item->path) {
        free(item);
        return NULL;
    }
    item->label = -1;
    item->kept_seq = -1;
    return item;
}

void lpt_import_item_free(LptImportItem *item)
{
    if (item) {
        free(item->path);
        free(item->reason);
        free(item->kept_path);
        free(item);
    }
}

void lpt_import_item_fail(LptImportItem *item, LptImportState state, const char *reason)
{
    size_t n = strlen(item->path);
    if (strncmp(reason, item->path, n) == 0 && reason[n] == ':' && reason[n + 1] == ' ')
        reason += n + 2;
    item->state = state;
    free(item->reason);
    item->reason = strdup(reason);
}

/* Reads the whole file into *data (malloc'ed; *data NULL for an empty file). A problem is
 * written into why (the item's reason) and returns false. */
static bool read_file(const char *path, uint8_t **data, size_t *size, char *why, size_t why_size)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return false;
    }
    bool ok = false;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(why, why_size, "%s", strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        snprintf(why, why_size, "not a regular file");
    } else if (sb.st_size > LPT_IMAGE_MAX_FILE_BYTES) {
        snprintf(why, why_size, "a file of %lld bytes is beyond the limit of %lld",
                 (long long)sb.st_size, (long long)LPT_IMAGE_MAX_FILE_BYTES);
    } else if (sb.st_size == 0) {
        ok = true;
    } else if (!(*data = malloc((size_t)sb.st_size))) {
        snprintf(why, why_size, "no memory for %lld bytes", (long long)sb.st_size);
    } else {
        size_t want = (size_t)sb.st_size, got = 0;
        while (got < want) {
            ssize_t n = read(fd, *data + got, want - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                snprintf(why, why_size, "%s", n < 0 ? strerror(errno) : "file shrank while read");
                break;
            }
            got += (size_t)n;
        }
        ok = got == want;
        *size = got;
    }
    close(fd);
    if (!ok) {
        free(*data);
        *data = NULL;
        *size = 0;
    }
    return ok;
}

LptStatus lpt_import_file_process(const char *cache_dir, LptImportItem *item, LptError *err)
{
    char why[512];
    uint8_t *data = NULL;
    size_t size = 0;
    LptImage img = {0};
    LptError e = {0};
    LptStatus st = LPT_OK;
    if (!read_file(item->path, &data, &size, why, sizeof why)) {
        lpt_import_item_fail(item, LPT_IMPORT_ITEM_UNREADABLE, why);
        goto done;
    }
    if (lpt_image_sniff(data, size) == LPT_IMAGE_FORMAT_UNKNOWN) {
        lpt_import_item_fail(item, LPT_IMPORT_ITEM_NON_IMAGE,
                             size == 0 ? "an empty file"
                                       : "not an image (the content is no PNG, JPEG, BMP or "
                                         "PGM/PPM)");
        goto done;
    }
    if ((st = lpt_hash_sha256_memory(data, size, item->path, item->hash, err)) != LPT_OK)
        goto done;
    if (lpt_thumbnail_exists(cache_dir, item->hash)) {
        if (lpt_image_probe_memory(data, size, item->path, &item->width, &item->height,
                                   &item->channels, NULL, &e) != LPT_OK) {
            lpt_import_item_fail(item, LPT_IMPORT_ITEM_UNREADABLE, e.message);
            goto done;
        }
    } else {
        if (lpt_image_decode_memory(data, size, item->path, &img, &e) != LPT_OK) {
            lpt_import_item_fail(item, LPT_IMPORT_ITEM_UNREADABLE, e.message);
            goto done;
        }
        if ((st = lpt_thumbnail_write(cache_dir, item->hash, &img, err)) != LPT_OK)
            goto done;
        item->width = img.width;
        item->height = img.height;
        item->channels = img.channels;
        item->thumbnail_made = true;
    }
    item->state = LPT_IMPORT_ITEM_OK;
done:
    lpt_image_release(&img);
    free(data);
    return st;
}

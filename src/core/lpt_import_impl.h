/* lpt_import_impl.h: what the parts of the importer share (private to src/core).
 *
 *   lpt_import.c       the run: threads, the bounded queue, gathering records, duplicates,
 *                      splits, the one write transaction, the report.
 *   lpt_import_scan.c  the scanner thread: walks folders, reads list and CSV files, and
 *                      hands every file it finds to the queue as an LptImportItem.
 *   lpt_import_file.c  what a worker does with one file: read, sniff, hash, probe or decode,
 *                      thumbnail.
 *
 * Every file or list entry the scanner meets gets one item with the next `seq` (0, 1, ...;
 * the scan order); exactly one record comes back per seq, either straight from the scanner
 * (a bad line, a file that cannot be stat'ed, the same file again) or through a worker.
 * Items are malloc'ed one by one; the queue and the result list hold pointers; whoever
 * holds a pointer owns the item (scanner -> queue -> worker -> results -> the run).
 */
#ifndef LPT_IMPORT_IMPL_H
#define LPT_IMPORT_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lpt_hash.h"
#include "lpt_import.h"
#include "lpt_split.h"

#define LPT_IMPORT_PATH_MAX 4096

typedef enum LptImportState {
    LPT_IMPORT_ITEM_PENDING = 0, /* not read yet */
    LPT_IMPORT_ITEM_OK,          /* read, hashed, probed, thumbnailed */
    LPT_IMPORT_ITEM_NON_IMAGE,   /* the content is no image format lpt_image knows */
    LPT_IMPORT_ITEM_UNREADABLE,  /* reason says why */
    LPT_IMPORT_ITEM_BAD_LINE,    /* reason says why; path is the list file */
    LPT_IMPORT_ITEM_SAME_FILE,   /* the file of item kept_seq again */
    LPT_IMPORT_ITEM_DUPLICATE,   /* content of item kept_seq, or of project image kept_id */
    LPT_IMPORT_ITEM_CONFLICT,    /* its path is in the project with other content */
} LptImportState;

typedef struct LptImportItem {
    int64_t seq;    /* scan order */
    char *path;     /* absolute path of the file (the list file for a bad line); owned */
    int32_t label;  /* index into the scanner's labels; -1 for none (bad line) */
    int32_t source; /* index into the options' sources */
    LptSplit split; /* the split the source gives; NONE when it gives none */
    int64_t line;   /* line of the list or CSV file; 0 for a walk */
    bool listed;    /* named by a list or CSV file (a non-image is then unreadable) */
    dev_t dev;      /* of the file, for "the same file again" */
    ino_t ino;
    /* Set by the worker (or the scanner for records it makes itself): */
    LptImportState state;
    char *reason; /* owned; for UNREADABLE, BAD_LINE, CONFLICT */
    char hash[LPT_HASH_HEX_LEN + 1];
    int width, height, channels;
    bool thumbnail_made;
    int64_t kept_seq; /* SAME_FILE, DUPLICATE within the import: the item kept; else -1 */
    int64_t kept_id;  /* DUPLICATE of an image already in the project: its id; else 0 */
    char *kept_path;  /* that image's path (owned); NULL otherwise */
} LptImportItem;

/* A new item (path copied) with state PENDING, label -1, kept_seq -1; NULL without memory. */
LptImportItem *lpt_import_item_new(const char *path);
void lpt_import_item_free(LptImportItem *item);
/* Sets the item's state and reason (copied; without a leading "<path>: " when present). */
void lpt_import_item_fail(LptImportItem *item, LptImportState state, const char *reason);

typedef struct LptImporter {
    const LptImportOptions *opt;
    char cache_dir[LPT_IMPORT_PATH_MAX];
    char **source_paths; /* [num_sources]: the real path of each source */

    pthread_mutex_t lock; /* guards everything below down to `fatal` */
    pthread_cond_t not_empty, not_full, changed;
    LptImportItem **queue; /* ring of queue_cap */
    size_t queue_cap, queue_head, queue_len;
    LptImportItem **results; /* records not yet gathered by the run */
    size_t num_results, results_cap;
    bool scan_done;  /* the scanner has emitted its last item */
    int active;      /* workers holding an item */
    int64_t scanned; /* items emitted */
    int64_t read_ok; /* records OK so far */
    int64_t skipped; /* records not OK so far */
    char current[LPT_IMPORT_PATH_MAX];
    LptError fatal;   /* the first failure that stops the import (code LPT_OK: none) */
    atomic_bool stop; /* cancel or failure: the scanner and workers stop taking files (read
                         without the lock; set with it, and the conditions broadcast) */

    /* Owned by the scanner thread until it is joined: */
    int64_t next_seq;
    char **labels; /* interned class names */
    int32_t num_labels, labels_cap;
    int32_t *label_index; /* open-addressing table of label ids (-1 empty), label_slots */
    size_t label_slots;
    struct LptImportSeen *seen; /* (dev, inode) of folders and files met, with their seq */
    int64_t hidden_skipped, non_image_skipped_scan, unlabelled_skipped, links_skipped;
} LptImporter;

/* ---- Used by the scanner (lpt_import_scan.c), implemented in lpt_import.c ---- */

/* True once the import is stopping (cancel, failure); the scanner then returns. */
bool lpt_import_stopping(LptImporter *imp);
/* Hands a file to the workers, waiting while the queue is full; gives the item a seq. On
 * stop it frees the item and returns false. */
bool lpt_import_push_task(LptImporter *imp, LptImportItem *item);
/* Hands a finished record (state set) straight to the run; gives the item a seq. */
void lpt_import_push_result(LptImporter *imp, LptImportItem *item);
/* Records the first fatal failure and stops the import. */
void lpt_import_fail(LptImporter *imp, const LptError *err);

/* ---- The scanner (lpt_import_scan.c) ---- */

/* Scans every source in order, pushing one item per file or entry. Returns a failure that
 * stops the import (a source that is missing or cannot be read, no memory); problems with
 * single files and lines are records, not failures. */
LptStatus lpt_import_scan(LptImporter *imp, LptError *err);
/* Frees the scanner's tables (labels stay until the run frees them with this). */
void lpt_import_scan_free(LptImporter *imp);

/* ---- A worker's work on one file (lpt_import_file.c) ---- */

/* Reads item->path and fills in state, reason, hash, size and thumbnail_made. A problem with
 * the file is the item's state; only a failure that must stop the import (the thumbnail
 * cache cannot be written, no memory) is returned. */
LptStatus lpt_import_file_process(const char *cache_dir, LptImportItem *item, LptError *err);

#endif

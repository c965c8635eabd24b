/* lpt_import.h: importing image datasets into a project (product.md workflow 2).
 *
 * Sources (several may be imported at once, as one import):
 *   FOLDER  one sub-folder per class, recursive below each class folder; the class is the
 *           class folder's name. A folder whose every visible sub-folder is named train, val
 *           or test (and one of them holds a sub-folder) is a split layout: those folders
 *           are splits and their sub-folders are the classes (the dataset builders' layout,
 *           lpt_dataset_build.h). Files directly in the top folder (or a split folder) belong
 *           to no class: skipped and counted.
 *   LIST    text lines `relative/path label`: the label is the LAST whitespace-separated
 *           field and the path is everything before the whitespace in front of it (a path
 *           may hold spaces, a label may not). Leading and trailing whitespace, CR of CRLF
 *           line ends and a UTF-8 BOM are ignored; blank lines and lines whose first
 *           non-blank character is '#' are skipped. Paths are relative to the list file's
 *           folder (or absolute). A list file named train.txt, val.txt or test.txt carries
 *           that split.
 *   CSV     RFC 4180: a header row, then records; fields separated by commas, a field in
 *           double quotes may hold commas, line breaks and "" for a quote; CRLF or LF; blanks
 *           around unquoted fields are trimmed. The columns named path, label and
 *           (optionally) split (any case) are used; a header naming neither path nor label
 *           means the first two columns are path and label. Split values: train, val, test
 *           or empty. Paths as for LIST; a file named train.csv (val, test) carries that split.
 * A source that is a folder is FOLDER; a file is CSV when its name ends in ".csv" (any
 * case), else LIST (LptImportOptions.kind can force LIST or CSV).
 *
 * What is skipped, never silently: hidden entries (names starting with '.'; a hidden folder
 * counts once, its content is not looked at), files whose bytes are no image (sniffed by
 * lpt_image, never by the name; in a walk they are counted, named in a list they are
 * reported as unreadable), unreadable files (listed with the decoder's or the system's
 * reason), bad list/CSV lines (listed with file, line and reason), files outside a class
 * folder (counted), folders reached a second time through a link (a link loop or a second
 * link to the same folder: counted; symbolic links are followed once, by device and inode),
 * the same file reached twice (a link, a hard link or two list lines: a duplicate), and
 * files whose content (SHA-256) equals another's of this import or an image already in the
 * project (a duplicate: the report names the file kept, the first in scan order: sorted
 * names, list lines in order, sources in the order given). A path already in the project
 * with other content is reported as a conflict.
 *
 * For each image: the SHA-256 of the file's bytes, the size and channels as lpt_image
 * decodes it, and a thumbnail in the cache (lpt_thumbnail.h; one that is there is reused and
 * the image is then only probed, not decoded). Images are stored with the absolute path
 * they were found at (the folder source's real path plus the names walked; a list's real
 * folder plus the line's path) and `source` = the source's real path.
 *
 * Splits (LptImportSplitMode):
 *   TRAIN / VAL / TEST  every imported image goes into that split.
 *   AUTO  images keep the split their source gives (split folders, train/val/test list or
 *         CSV file names, a CSV split column). When the import gives train images but no val
 *         (or no test) images, val (test) is taken from the train images, stratified per
 *         class, with the project's fractions renormalised over the splits taken (default
 *         0.8/0.1/0.1 and no val: 1/9 of each class goes to val), and the report says so.
 *         Images with no given split are stratified with lpt_split_assign and the project's
 *         split settings (the latest in the store; defaults 0.8/0.1/0.1, at least 1 per class
 *         in val and test), counting the images already in the project as given so that a
 *         second import tops classes up. Keys are each image's hash, so the result does not
 *         depend on thread timing. A row of split settings (seed, fractions, minimum,
 *         user_given) is added when it differs from the latest. Each image kept with the
 *         split its source gave is stored with split_given = 1 (re-splits keep it,
 *         lpt_resplit.h); images whose split was drawn (val or test taken from given train
 *         images, stratified ones, and every image of a TRAIN / VAL / TEST import) have 0.
 * The seed: LptImportOptions.seed when has_seed, else the latest split settings' seed, else 0.
 *
 * How it runs: the caller's thread starts a scanner thread (walks folders, reads lists) and
 * `threads` workers (read, hash, probe or decode, thumbnail) connected by a bounded queue, so
 * memory holds a few files' bytes and one small record per file, never the whole dataset.
 * The caller's thread gathers the records and calls the progress callback about every 100 ms.
 * When every file is read, it writes the images into the store in ONE transaction, on the
 * caller's thread (the store's). A cancel (the `cancel` flag, checked by the workers and the
 * scanner before each file, or the progress callback returning false) or any failure rolls
 * the transaction back: the project is exactly as it was (thumbnails already made stay in the
 * cache, which is shared and keyed by content).
 *
 * Ownership and threads: lpt_import_run borrows the store and the options for the call; the
 * store must be a read-write connection with no transaction open, used by no other thread
 * during the call. The report is the caller's (lpt_import_report_free). Different imports
 * may run at the same time into different projects.
 */
#ifndef LPT_IMPORT_H
#define LPT_IMPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_store.h"

typedef enum LptImportSplitMode {
    LPT_IMPORT_SPLIT_AUTO = 0,  /* keep the source's split, else stratify */
    LPT_IMPORT_SPLIT_TRAIN = 1, /* the same values as LptStoreSplit */
    LPT_IMPORT_SPLIT_VAL = 2,
    LPT_IMPORT_SPLIT_TEST = 3,
} LptImportSplitMode;

typedef enum LptImportSourceKind {
    LPT_IMPORT_SOURCE_DETECT = 0, /* by what the path is (see the header comment) */
    LPT_IMPORT_SOURCE_FOLDER,
    LPT_IMPORT_SOURCE_LIST,
    LPT_IMPORT_SOURCE_CSV,
} LptImportSourceKind;

typedef enum LptImportPhase {
    LPT_IMPORT_PHASE_READING = 0, /* scanning sources and reading files */
    LPT_IMPORT_PHASE_WRITING = 1, /* writing the images into the project */
} LptImportPhase;

typedef struct LptImportProgress {
    LptImportPhase phase;
    int64_t scanned;     /* files and list entries found so far */
    int64_t imported;    /* READING: files read fine so far (duplicates are found later);
                            WRITING: images written so far */
    int64_t skipped;     /* files skipped so far (not images, unreadable, bad lines, ...) */
    int64_t to_write;    /* WRITING: images to write in all; 0 while READING */
    const char *current; /* the file last taken up; valid during the call only; may be "" */
} LptImportProgress;

/* Runs on the thread that called lpt_import_run; return false to cancel. */
typedef bool (*LptImportProgressFn)(const LptImportProgress *progress, void *user);

typedef struct LptImportOptions {
    const char *const *sources; /* folders, list files or CSV files */
    size_t num_sources;         /* >= 1 */
    LptImportSourceKind kind;   /* DETECT (default), or force LIST or CSV for every file */
    LptImportSplitMode split;   /* AUTO by default */
    bool has_seed;              /* false: the project's seed (see the header comment) */
    uint64_t seed;
    const char *cache_dir;        /* NULL: lpt_cache_dir() */
    int threads;                  /* workers; 0: one per online CPU */
    LptImportProgressFn progress; /* may be NULL */
    void *progress_user;
    atomic_bool *cancel; /* may be NULL; set it (any thread) to cancel */
} LptImportOptions;

typedef struct LptImportDuplicate {
    char *path;            /* the file that was not imported */
    char *kept;            /* the file with the same content that was (or was there before) */
    int64_t kept_image_id; /* the project's id of `kept` when it was there before, else 0 */
    bool same_file;        /* the same file reached twice, not just the same content */
} LptImportDuplicate;

typedef enum LptImportProblemKind {
    LPT_IMPORT_PROBLEM_UNREADABLE = 0, /* cannot be read or decoded, or is not an image */
    LPT_IMPORT_PROBLEM_BAD_LINE,       /* a list or CSV line that does not parse */
    LPT_IMPORT_PROBLEM_CONFLICT,       /* the path is in the project with other content */
} LptImportProblemKind;

typedef struct LptImportProblem {
    LptImportProblemKind kind;
    char *path;   /* the file; for a bad line, the list or CSV file */
    int64_t line; /* 1-based line in the list or CSV file that named it; 0 for a walk */
    char *reason; /* the decoder's or the system's words, without the path */
} LptImportProblem;

typedef struct LptImportReport {
    int64_t scanned;            /* files and list entries found */
    int64_t imported;           /* images added to the project */
    int64_t duplicates;         /* = num_duplicate_list */
    int64_t unreadable;         /* problems of kind UNREADABLE */
    int64_t bad_lines;          /* problems of kind BAD_LINE */
    int64_t conflicts;          /* problems of kind CONFLICT */
    int64_t hidden_skipped;     /* hidden files and folders */
    int64_t non_image_skipped;  /* files of a walk whose content is not an image */
    int64_t unlabelled_skipped; /* files of a walk outside any class folder */
    int64_t links_skipped;      /* folders reached again through a link (loops included) */
    int64_t classes_created;    /* classes the project did not have */
    int64_t thumbnails_made;    /* contents whose thumbnail was made; the rest were cached */
    int64_t split_counts[LPT_STORE_SPLIT_COUNT]; /* imported images per LptStoreSplit */
    uint64_t seed;                               /* the seed stratification used */
    char split_note[512];                        /* how splits were chosen, in words */
    int threads;                                 /* workers used */
    double seconds;                              /* wall time of the import */
    LptImportDuplicate *duplicate_list;          /* in scan order */
    size_t num_duplicate_list;
    LptImportProblem *problems; /* in scan order */
    size_t num_problems;
} LptImportReport;

/* Defaults: no sources, DETECT, AUTO, project seed, default cache, one worker per CPU. */
void lpt_import_options_init(LptImportOptions *opt);

/* Imports opt's sources into store (see the header comment). On success *report is the
 * caller's; on failure or cancel (LPT_ERR_CANCELLED) *report is NULL and the project is as
 * it was. */
LptStatus lpt_import_run(LptStore *store, const LptImportOptions *opt, LptImportReport **report,
                         LptError *err);

/* Frees a report; NULL is a no-op. */
void lpt_import_report_free(LptImportReport *report);

/* "auto", "train", "val", "test"; and back (false for anything else). */
const char *lpt_import_split_mode_name(LptImportSplitMode mode);
bool lpt_import_split_mode_parse(const char *name, LptImportSplitMode *mode);

#endif

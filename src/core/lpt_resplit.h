/* lpt_resplit.h: re-assigning a project's train/val/test splits under new split settings
 * (product.md workflow 3: "stratified train/val/test with a minimum per class, or the user's
 * own split from the list files"), in one transaction.
 *
 * Which splits are the user's: the store marks each image whose split came with its source
 * (LptStoreImage.split_given: a split folder, a list or CSV file named train, val or test, a
 * CSV split column; set at import, and derived from the sources for projects made before
 * schema version 2). Those images keep their split. A val or test split the import drew from
 * given training images is not given: those images are free again. Every other image that
 * is not excluded is free: the free images are assigned again with lpt_split_assign under
 * the new settings, counting the kept ones as given, with each image's key the first 16 hex
 * digits of its content hash (as the importer does) and the classes indexed in id order. So
 * the result depends only on the settings, the seed and the project's images, not on the
 * order they were imported in. Excluded images keep their split and count nowhere (as in
 * lpt_store_class_counts).
 *
 * What is written, in one transaction (lpt_store_begin .. commit; rolled back on any
 * failure, leaving the project as it was): each free image whose split changes, and a new
 * split settings row (user_given = 1 when any image was kept) that becomes the latest.
 *
 * Ownership and threads: the store is borrowed for the call and must have no transaction
 * open; the call takes the thread it runs on for as long as it runs (a worker thread's own
 * connection for a large project).
 */
#ifndef LPT_RESPLIT_H
#define LPT_RESPLIT_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_split.h"
#include "lpt_store.h"

typedef struct LptResplitReport {
    int64_t images;  /* images taken into account: all but the excluded */
    int64_t kept;    /* of them, with a split their source gave (split_given): unchanged */
    int64_t changed; /* free images whose split changed */
    int64_t split_counts[LPT_STORE_SPLIT_COUNT]; /* `images` per split afterwards */
    int64_t split_id;                            /* the split settings row added */
} LptResplitReport;

/* Re-assigns the free images' splits under cfg (see the header comment). report may be
 * NULL. Fails with LPT_ERR_INVALID_ARGUMENT on a bad cfg (the message says which setting),
 * leaving the project untouched. */
LptStatus lpt_resplit_run(LptStore *store, const LptSplitConfig *cfg, LptResplitReport *report,
                          LptError *err);

#endif

/* lpt_review_queues.h: the Review page's queues (product.md workflow 6) — misclassified,
 * misclassified tail classes, experts disagree, low confidence and likely label errors, each a
 * grid of thumbnails in the queue's order (lpt_review_queue.h says what each holds and how it
 * is ranked), over the run's test predictions (lpt_review_samples.h).
 *
 * A sidebar lists the queues with their sizes; the chosen queue shows as a GtkGridView of
 * LptImageTile (thumbnails from the project's cache, loaded off the main thread by an
 * LptThumbnailLoader) with a caption per image (its label and what the model said). Keys:
 * arrows move through the queue; Enter (or a double click) emits ::open-image for the selected
 * image; typing a printable character opens the relabel popover (class name completion) with
 * it, and its choice relabels the image through the store (recorded in the label history),
 * after which the project emits ::labels-changed and ::changed and the queues are read again
 * (relabels count at once: the queues use each image's class now) — keeping the
 * selection at the same place in the queue, so that the next image is selected when the one
 * relabelled left the queue.
 *
 * The data is read when the widget is shown (not while it is hidden on another page) after
 * the project or run changed, and again on the project's ::changed.
 *
 * ::open-image (gint64 image_id): the user asked to inspect an image;
 * lpt_review_queues_current_ids gives the queue around it for next/previous.
 *
 * Threads: main thread only.
 */
#pragma once

#include <gtk/gtk.h>
#include <stdint.h>

#include "lpt_project.h"
#include "lpt_relabel_popover.h"
#include "lpt_review_queue.h"

G_BEGIN_DECLS

#define LPT_TYPE_REVIEW_QUEUES (lpt_review_queues_get_type())
G_DECLARE_FINAL_TYPE(LptReviewQueues, lpt_review_queues, LPT, REVIEW_QUEUES, GtkWidget)

GtkWidget *lpt_review_queues_new(void);

/* The project shown (NULL = none); the view holds a reference. */
void lpt_review_queues_set_project(LptReviewQueues *self, LptProject *project);
/* The run shown (0 = none). */
void lpt_review_queues_set_run(LptReviewQueues *self, int64_t run_id);

/* The image ids of the queue shown, in its order (owned by the widget, valid until the queue
 * changes); NULL with *count 0 when empty. */
const int64_t *lpt_review_queues_current_ids(LptReviewQueues *self, size_t *count);

/* Shows a queue (the sidebar follows) / which is shown. */
void lpt_review_queues_select_queue(LptReviewQueues *self, LptReviewQueueKind kind);
LptReviewQueueKind lpt_review_queues_get_queue(LptReviewQueues *self);
/* Images in a queue (0 before the data is read). */
size_t lpt_review_queues_get_count(LptReviewQueues *self, LptReviewQueueKind kind);

/* Parts, for tests (owned by the widget): the grid (over LptImageItem, single selection),
 * its selection, the relabel popover, and the caption of the tile at position. */
GtkGridView *lpt_review_queues_get_grid(LptReviewQueues *self);
GtkSingleSelection *lpt_review_queues_get_selection(LptReviewQueues *self);
LptRelabelPopover *lpt_review_queues_get_relabel_popover(LptReviewQueues *self);
char *lpt_review_queues_dup_caption(LptReviewQueues *self, guint position);

G_END_DECLS

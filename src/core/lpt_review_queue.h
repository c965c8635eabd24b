/* lpt_review_queue.h: the Review page's queues (product.md workflow 6): which images of a
 * run a user should look at, and in what order.
 *
 * Each queue is a filter over a run's samples (lpt_review_samples.h) and a score; entries come
 * by score, highest first, ties by image id. Labels are the images' classes now (a relabel
 * moves an image out of the queues it no longer belongs to); an image whose class is not one
 * of the run's (made after the run) can never be predicted right, so it counts as
 * misclassified. With y the class now, ŷ the fused top-1 and p its confidence:
 *
 *   MISCLASSIFIED       ŷ != y.                                  score p (surest mistakes first)
 *   TAIL_MISCLASSIFIED  ŷ != y and y is a few-group class.       score p
 *   EXPERTS_DISAGREE    both experts present, their top-1s differ.
 *                       score min(p_vision, p_vl): two sure experts that disagree first
 *   LOW_CONFIDENCE      p < LPT_REVIEW_LOW_CONFIDENCE.           score 1 - p (least sure first)
 *   LABEL_ERRORS        likely wrong labels: a confident disagreement with the label that
 *                       every expert backs -- ŷ != y, y one of the run's classes,
 *                       p >= LPT_REVIEW_LABEL_ERROR_CONFIDENCE, and each expert the image has
 *                       names ŷ too.
 *                       score p x min over those experts of p_e (each expert's confidence in
 *                       ŷ): the fused model and both experts all sure of the same other class
 *                       ranks first.
 *
 * Ownership: the entries are one malloc block (free()); an empty queue is NULL with count 0.
 * No global state; any thread.
 */
#ifndef LPT_REVIEW_QUEUE_H
#define LPT_REVIEW_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"
#include "lpt_review_samples.h"

#define LPT_REVIEW_LOW_CONFIDENCE 0.5         /* LOW_CONFIDENCE: fused confidence below */
#define LPT_REVIEW_LABEL_ERROR_CONFIDENCE 0.5 /* LABEL_ERRORS: fused confidence at least */

typedef enum LptReviewQueueKind {
    LPT_REVIEW_QUEUE_MISCLASSIFIED = 0,
    LPT_REVIEW_QUEUE_TAIL_MISCLASSIFIED,
    LPT_REVIEW_QUEUE_EXPERTS_DISAGREE,
    LPT_REVIEW_QUEUE_LOW_CONFIDENCE,
    LPT_REVIEW_QUEUE_LABEL_ERRORS,
} LptReviewQueueKind;
#define LPT_REVIEW_QUEUE_KINDS 5

typedef struct LptReviewQueueEntry {
    size_t sample;    /* index into the samples */
    int64_t image_id; /* the sample's image */
    double score;     /* what the queue is ordered by (see the header comment) */
} LptReviewQueueEntry;

/* "misclassified", "tail_misclassified", "experts_disagree", "low_confidence",
 * "label_errors"; "?" out of range. */
const char *lpt_review_queue_name(LptReviewQueueKind kind);

/* Whether a sample belongs to the queue, and its score there. */
bool lpt_review_queue_accepts(const LptReviewSamples *samples, const LptReviewSample *sample,
                              LptReviewQueueKind kind, double *score);

/* The queue over samples, ordered (see the header comment). */
LptStatus lpt_review_queue_build(const LptReviewSamples *samples, LptReviewQueueKind kind,
                                 LptReviewQueueEntry **entries, size_t *count, LptError *err);

#endif

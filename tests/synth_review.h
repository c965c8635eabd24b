/* synth_review.h: evaluated runs as the tests of the Review page make them through the store:
 * the trainer's top-k lists, and a synthetic project at the size the page's targets are stated
 * for, which the review benchmark (bench_review.c) reads and the Review page's measurements
 * (tests/app/test_review.c --measure) show.
 *
 * The project: SYNTH_REVIEW_CLASSES classes "defect_NN"; SYNTH_REVIEW_IMAGES test images, of
 * which class 0 has SYNTH_REVIEW_BIG_CLASS and each other class 90, and as many training images
 * of the same classes (the review's training counts and groups); one LPT++ run whose
 * predictions of the test images are recorded as `lpt eval` records them: the vision and VL
 * experts' and the fused model's full probability vectors (a softmax of seeded random logits,
 * the label's raised) with their top-SYNTH_REVIEW_TOP_K lists, scorer weights and prompts.
 * The same every time (a fixed seed).
 */
#ifndef SYNTH_REVIEW_H
#define SYNTH_REVIEW_H

#include <stdint.h>

#include "lpt_store.h"

#define SYNTH_REVIEW_CLASSES 100
#define SYNTH_REVIEW_IMAGES 10000
#define SYNTH_REVIEW_BIG_CLASS 1090 /* class 0's test images; 90 for each of the others */
#define SYNTH_REVIEW_TOP_K 5
#define SYNTH_REVIEW_SIDE 28 /* the images' recorded width and height (gray) */

/* Creates the project at path (which must not exist) in one transaction; the run's id into
 * *run_id. thumbnail_cache, when not NULL, is a thumbnail cache folder (lpt_thumbnail.h) that
 * gets a SYNTH_REVIEW_SIDE-pixel gray thumbnail of each of class 0's test images, which the
 * store only names. */
LptStatus synth_review_make(const char *path, const char *thumbnail_cache, int64_t *run_id,
                            LptError *err);

#endif

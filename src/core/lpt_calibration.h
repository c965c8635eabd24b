/* lpt_calibration.h: how well a run's confidences match its accuracy (product.md "Beyond the
 * peers": a reliability diagram and the ECE per group and per expert).
 *
 * For one source (the vision expert, the VL expert or the fused model: LptStoreExpert) over a
 * run's samples (lpt_review_samples.h), optionally only those whose label is in one group:
 * each image's top-1 confidence c goes into bin floor(c B) of B equal-width bins over [0, 1]
 * (c = 1 into the last), and a bin holds its image count, how many were right (top-1 = the
 * label the prediction was scored against) and the sum of their confidences. Then
 *   accuracy_b = correct_b / count_b     confidence_b = confidence_sum_b / count_b
 *   ECE = sum over bins of (count_b / images) |accuracy_b - confidence_b|
 * which is lpt_eval.h's definition, computed in the same order (samples by image id, as the
 * trainer evaluates), so over the whole set with the run's eval.ece_bins it is the ECE `lpt
 * eval` reports for that source. A reliability diagram shows accuracy_b against the bin (the
 * diagonal is perfect calibration); the gap to the diagonal is what the ECE sums.
 *
 * Ownership: one malloc block (free()). No global state; any thread.
 */
#ifndef LPT_CALIBRATION_H
#define LPT_CALIBRATION_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_review_samples.h"

#define LPT_CALIBRATION_DIAGRAM_BINS 10 /* the reliability diagram's bins */
#define LPT_CALIBRATION_ALL_GROUPS (-1) /* no group filter */

typedef struct LptCalibrationBin {
    int64_t count, correct;
    double confidence_sum;
    double accuracy, confidence; /* NaN for an empty bin */
} LptCalibrationBin;

typedef struct LptCalibration {
    LptStoreExpert source;
    int group; /* an LptGroup or LPT_CALIBRATION_ALL_GROUPS */
    int bins;
    int64_t images, correct;
    double accuracy, confidence; /* over all its images; NaN with none */
    double ece;                  /* NaN with no image */
    LptCalibrationBin *bin;      /* [bins], inside the same block */
} LptCalibration;

/* The calibration of `source` over the samples whose label is in `group` (or all), with
 * `bins` >= 1 bins. A source the run does not have gives 0 images (NaN rates). */
LptStatus lpt_calibration_compute(const LptReviewSamples *samples, LptStoreExpert source, int group,
                                  int bins, LptCalibration **out, LptError *err);

#endif

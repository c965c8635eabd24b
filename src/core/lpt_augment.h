/* lpt_augment.h: the crop boxes of the training augmentation and the eval transform
 * (method.md §6), as rows of lpt_op_image_transform_forward's boxes (x0, y0, w, h, flip).
 *
 * Training: torchvision's RandomResizedCrop.get_params, step for step: up to 10 tries, each
 * drawing an area fraction uniformly in [scale_min, scale_max] and a log-uniform aspect ratio
 * in [ratio_min, ratio_max]; w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio))
 * (round half to even, as Python's round); a try that fits (0 < w <= W, 0 < h <= H) takes
 * y0 uniform in [0, H - h], then x0 uniform in [0, W - w]; when no try fits, the whole
 * image clamped to the ratio range, centred ((H - h) / 2 and (W - w) / 2, rounded down).
 * Then RandomHorizontalFlip: flip when a uniform draw is < flip_p. The draws come from an
 * LptRng in this order: per try lpt_rng_float (area), lpt_rng_float (ratio), then
 * lpt_rng_below(H - h + 1) and lpt_rng_below(W - w + 1) on success; then one lpt_rng_float
 * for the flip. torchvision computes the area and ratio in float32 tensors, these functions
 * in double: w or h can differ only when a square root lies within ~1e-6 of a half.
 *
 * Which generator: lpt_augment_rng gives image slot `slot` of step (epoch, step) of a run
 * with seed `seed` its own LptRng, so every box is a function of (seed, epoch, step, slot)
 * alone: the same on any thread, in any order, after a resume.
 *
 * Evaluation: resize to R x R, then centre-crop S x S, with S the expert's input size and
 * R = floor(S * 256 / 224) (256 for 224, 36 for 32, 438 for 384: timm's crop_pct 0.875);
 * the crop's offset c = round_half_even((R - S) / 2) (torchvision's CenterCrop). The pair is
 * one box (c W/R, c H/R, S W/R, S H/R) (lpt_ops.h says why that is exact).
 *
 * Ownership and threads: pure functions on caller memory, no global state: any thread.
 */
#ifndef LPT_AUGMENT_H
#define LPT_AUGMENT_H

#include <stdint.h>

#include "lpt_error.h"
#include "lpt_ops.h"
#include "lpt_rng.h"

/* Random-resized crop and flip parameters (method.md §6 defaults from
 * lpt_augment_params_init: scale 0.08-1, ratio 3/4-4/3, flip 0.5). */
typedef struct LptAugmentParams {
    double scale_min, scale_max; /* crop area as a fraction of the image, 0 < min <= max */
    double ratio_min, ratio_max; /* crop width / height, 0 < min <= max */
    double flip_p;               /* probability of a horizontal flip, in [0, 1] */
} LptAugmentParams;

void lpt_augment_params_init(LptAugmentParams *p);

/* LPT_OK when the ranges are as the struct says; otherwise an error naming the field. */
LptStatus lpt_augment_params_check(const LptAugmentParams *p, LptError *err);

/* Seeds rng for image slot `slot` of step (epoch, step) of the run with this seed. */
void lpt_augment_rng(LptRng *rng, uint64_t seed, int64_t epoch, int64_t step, int64_t slot);

/* torchvision's RandomResizedCrop.get_params on a width x height image (both >= 1): the
 * integer crop (*x0, *y0, *w, *h) inside the image. */
void lpt_augment_random_crop(LptRng *rng, int width, int height, const LptAugmentParams *p, int *x0,
                             int *y0, int *w, int *h);

/* A training box: lpt_augment_random_crop, then the flip draw. box = x0, y0, w, h, flip. */
void lpt_augment_train_box(LptRng *rng, int width, int height, const LptAugmentParams *p,
                           float box[5]);

/* R for an input size S: floor(S * 256 / 224). */
int lpt_augment_eval_resize(int input_size);

/* The eval box of a width x height image for input size S (resize R, centre crop S). */
void lpt_augment_eval_box(int width, int height, int input_size, float box[5]);

/* The source pixels lpt_op_image_transform_forward reads for `box` at out_size x out_size on
 * a width x height image, as a rectangle inside the image (*rx, *ry, *rw, *rh), with a
 * margin for float rounding. Processing only that rectangle, with the box moved by
 * (-rx, -ry), gives the same result up to float rounding of the sample positions: a tap
 * outside the rectangle lies outside the image too, where both clamp to the same edge. */
void lpt_augment_box_region(const float box[5], int width, int height, int out_size,
                            LptInterp interp, int *rx, int *ry, int *rw, int *rh);

#endif

/* lpt_augment.c: random-resized crop and eval boxes, the source region a box reads. See
 * lpt_augment.h. */
#include "lpt_augment.h"

#include <math.h>
#include <stdbool.h>

#define CROP_TRIES 10 /* torchvision's RandomResizedCrop.get_params */

void lpt_augment_params_init(LptAugmentParams *p)
{
    *p = (LptAugmentParams){
        .scale_min = 0.08,
        .scale_max = 1.0,
        .ratio_min = 3.0 / 4.0,
        .ratio_max = 4.0 / 3.0,
        .flip_p = 0.5,
    };
}

LptStatus lpt_augment_params_check(const LptAugmentParams *p, LptError *err)
{
    if (!p)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "augmentation: no parameters");
    if (!(p->scale_min > 0.0) || !(p->scale_max >= p->scale_min) || !(p->scale_max <= 1.0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "augmentation: crop scale range [%g, %g] must satisfy "
                             "0 < min <= max <= 1",
                             p->scale_min, p->scale_max);
    if (!(p->ratio_min > 0.0) || !(p->ratio_max >= p->ratio_min) || !isfinite(p->ratio_max))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "augmentation: crop ratio range [%g, %g] must satisfy "
                             "0 < min <= max < inf",
                             p->ratio_min, p->ratio_max);
    if (!(p->flip_p >= 0.0 && p->flip_p <= 1.0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "augmentation: flip probability %g is not in [0, 1]", p->flip_p);
    return LPT_OK;
}

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

void lpt_augment_rng(LptRng *rng, uint64_t seed, int64_t epoch, int64_t step, int64_t slot)
{
    /* a seed of its own ("aug" salt), so that these draws never repeat the sampler's
     * (seed, 2e) and (seed, 2e + 1) streams */
    uint64_t s = splitmix64(seed ^ UINT64_C(0x6175676d656e7400));
    s = splitmix64(s ^ (uint64_t)epoch);
    s = splitmix64(s ^ (uint64_t)step);
    lpt_rng_seed(rng, s, (uint64_t)slot);
}

/* Python's int(round(x)): half to even (rint in the default rounding mode). */
static int round_even(double x)
{
    return (int)rint(x);
}

void lpt_augment_random_crop(LptRng *rng, int width, int height, const LptAugmentParams *p, int *x0,
                             int *y0, int *w, int *h)
{
    double area = (double)width * (double)height;
    double log_lo = log(p->ratio_min), log_hi = log(p->ratio_max);
    for (int t = 0; t < CROP_TRIES; t++) {
        double target =
            area * (p->scale_min + (p->scale_max - p->scale_min) * (double)lpt_rng_float(rng));
        double ratio = exp(log_lo + (log_hi - log_lo) * (double)lpt_rng_float(rng));
        int cw = round_even(sqrt(target * ratio));
        int ch = round_even(sqrt(target / ratio));
        if (cw > 0 && cw <= width && ch > 0 && ch <= height) {
            *y0 = (int)lpt_rng_below(rng, (uint32_t)(height - ch + 1));
            *x0 = (int)lpt_rng_below(rng, (uint32_t)(width - cw + 1));
            *w = cw;
            *h = ch;
            return;
        }
    }
    /* no try fitted: the whole image, clamped to the ratio range, centred (at least one
     * pixel each way, where torchvision could give 0 for extreme ratio ranges) */
    double in_ratio = (double)width / (double)height;
    int cw = width, ch = height;
    if (in_ratio < p->ratio_min)
        ch = round_even((double)width / p->ratio_min);
    else if (in_ratio > p->ratio_max)
        cw = round_even((double)height * p->ratio_max);
    cw = cw < 1 ? 1 : cw;
    ch = ch < 1 ? 1 : ch;
    *x0 = (width - cw) / 2;
    *y0 = (height - ch) / 2;
    *w = cw;
    *h = ch;
}

void lpt_augment_train_box(LptRng *rng, int width, int height, const LptAugmentParams *p,
                           float box[5])
{
    int x0, y0, w, h;
    lpt_augment_random_crop(rng, width, height, p, &x0, &y0, &w, &h);
    box[0] = (float)x0;
    box[1] = (float)y0;
    box[2] = (float)w;
    box[3] = (float)h;
    box[4] = (double)lpt_rng_float(rng) < p->flip_p ? 1.0f : 0.0f;
}

int lpt_augment_eval_resize(int input_size)
{
    return (int)((int64_t)input_size * 256 / 224);
}

void lpt_augment_eval_box(int width, int height, int input_size, float box[5])
{
    double r = (double)lpt_augment_eval_resize(input_size);
    double c = rint((r - (double)input_size) / 2.0);
    box[0] = (float)(c * width / r);
    box[1] = (float)(c * height / r);
    box[2] = (float)(input_size * (double)width / r);
    box[3] = (float)(input_size * (double)height / r);
    box[4] = 0.0f;
}

/* The taps one axis reads: from floor(first sample) - (bicubic ? 1 : 0) to floor(last
 * sample) + (bicubic ? 2 : 1), one more each way for float rounding, clamped to [0, n). */
static void axis_region(float start, float extent, int n, int out, bool bicubic, int *r0, int *rn)
{
    double scale = (double)extent / out;
    double lo = start + (0.5 * scale - 0.5), hi = start + ((out - 0.5) * scale - 0.5);
    if (!isfinite(lo) || !isfinite(hi)) {
        *r0 = 0;
        *rn = n;
        return;
    }
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double a = floor(lo) - (bicubic ? 2 : 1), b = floor(hi) + (bicubic ? 3 : 2);
    a = a < 0 ? 0 : (a > n - 1 ? n - 1 : a);
    b = b < 0 ? 0 : (b > n - 1 ? n - 1 : b);
    *r0 = (int)a;
    *rn = (int)b - (int)a + 1;
}

void lpt_augment_box_region(const float box[5], int width, int height, int out_size,
                            LptInterp interp, int *rx, int *ry, int *rw, int *rh)
{
    bool bicubic = interp == LPT_INTERP_BICUBIC;
    axis_region(box[0], box[2], width, out_size, bicubic, rx, rw);
    axis_region(box[1], box[3], height, out_size, bicubic, ry, rh);
}

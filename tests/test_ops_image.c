/* test_ops_image.c: image_transform_forward (crop + resize + flip + gray->RGB + normalise)
 * against a double reference written here from the formula, on odd sizes, plus the exact
 * identity, the eval transform's equivalence with "resize to 256, centre-crop 224", the
 * random-resized crop's equivalence with "crop, then resize" where it holds, views at
 * unaligned offsets, a NaN box, and bad arguments.
 *
 * The formula (meant to be PyTorch's F.interpolate with align_corners = False, antialias =
 * False, on a float tensor, tap indices clamped to the image; checking it against PyTorch
 * itself is a later job, there is no torch here): for output pixel (ox, oy) of an
 * out_w x out_h image with box (x0, y0, w, h, flip),
 *   ux = flip ? out_w - 1 - ox : ox
 *   sx = x0 + (ux + 0.5) * w / out_w - 0.5,   sy = y0 + (oy + 0.5) * h / out_h - 0.5
 *   v  = sum over taps j, i of  k(sy - j) k(sx - i) src[clamp(j, 0, H-1)][clamp(i, 0, W-1)]
 * with taps i = floor(sx) .. floor(sx) + 1 and k(d) = 1 - |d| (bilinear), or
 * i = floor(sx) - 1 .. floor(sx) + 2 and Keys' cubic with a = -0.75 (bicubic):
 *   k(d) = (a+2)|d|^3 - (a+3)|d|^2 + 1 for |d| <= 1, a|d|^3 - 5a|d|^2 + 8a|d| - 4a for
 *   1 < |d| < 2; and out[c] = (v / 255 - mean[c]) / std[c], a gray source feeding every c.
 *
 * Tolerance of the general cases: the kernels compute the sampling coordinate in float (a
 * division allowed 2.5 ulp on Vulkan, a product, a subtraction and an addition), so it may
 * be off by delta_x = 4 * 2^-24 * (max(|x0|, |w|, |x0 + w|) + 1) (likewise in y). Per unit
 * of coordinate v moves by at most L = (sum |k'|) / 2 * (range of the taps' values):
 * 2 / 2 * 255 for bilinear, 3 / 2 * 1.375 * 255 for bicubic (the weights sum to 1, so their
 * derivatives sum to 0, and the other axis' weights have sum |k| <= 1.375). With float
 * rounding of the 16 taps on top:
 *   atol = (L (delta_x + delta_y) + 16 * 255 * 2^-21) / (255 min std) + 2e-6, rtol 1e-6.
 * This bound is 2.5x or more the largest error seen; a 1e-3 pixel shift, a 1e-5 relative scale
 * error or a 1e-4 error in one weight each fail many cases.
 * The identity box with mean 0, std 1 must be bit-exact: v = the pixel exactly, and the
 * normalisation is the single product pixel * float(1/255).
 */
#include "op_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};

/* ---- the double reference ---------------------------------------------------------------- */

static double kernel_at(LptInterp interp, double d)
{
    const double a = -0.75;
    d = fabs(d);
    if (interp == LPT_INTERP_BILINEAR)
        return d < 1.0 ? 1.0 - d : 0.0;
    if (d <= 1.0)
        return (a + 2.0) * d * d * d - (a + 3.0) * d * d + 1.0;
    if (d < 2.0)
        return a * d * d * d - 5.0 * a * d * d + 8.0 * a * d - 4.0 * a;
    return 0.0;
}

/* Taps of coordinate s over n pixels: clamped indices and weights; returns the count. */
static int ref_taps(LptInterp interp, double s, int n, int *idx, double *w)
{
    int base = (int)floor(s);
    int first = interp == LPT_INTERP_BILINEAR ? base : base - 1;
    int count = interp == LPT_INTERP_BILINEAR ? 2 : 4;
    for (int k = 0; k < count; k++) {
        int j = first + k;
        w[k] = kernel_at(interp, s - j);
        idx[k] = j < 0 ? 0 : (j > n - 1 ? n - 1 : j);
    }
    return count;
}

typedef struct Norm {
    float mean[3], std[3];
} Norm;

/* out[3, oh, ow] of one image img[H, W, C] (u8) and its box. */
static void ref_transform(double *out, const uint8_t *img, int H, int W, int C, const float *box,
                          int oh, int ow, LptInterp interp, const Norm *nm)
{
    for (int oy = 0; oy < oh; oy++) {
        double sy = box[1] + (oy + 0.5) * box[3] / oh - 0.5;
        int yi[4], xi[4];
        double wy[4], wx[4];
        int ny = ref_taps(interp, sy, H, yi, wy);
        for (int ox = 0; ox < ow; ox++) {
            int ux = box[4] != 0.0f ? ow - 1 - ox : ox;
            double sx = box[0] + (ux + 0.5) * box[2] / ow - 0.5;
            int nx = ref_taps(interp, sx, W, xi, wx);
            double v[3] = {0, 0, 0};
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++)
                    for (int c = 0; c < C; c++)
                        v[c] += wy[j] * wx[i] * img[((size_t)yi[j] * W + xi[i]) * C + c];
            for (int c = 0; c < 3; c++) {
                double vc = v[C == 1 ? 0 : c];
                out[((size_t)c * oh + oy) * ow + ox] =
                    (vc / 255.0 - (double)nm->mean[c]) / (double)nm->std[c];
            }
        }
    }
}

/* The tolerance of the file comment for a batch of boxes. */
static double tolerance(const float *boxes, int batch, LptInterp interp, const Norm *nm)
{
    double cx = 0, cy = 0, min_std = nm->std[0];
    for (int b = 0; b < batch; b++) {
        const float *box = boxes + (size_t)b * 5;
        cx = fmax(cx, fmax(fmax(fabs(box[0]), fabs(box[2])), fabs(box[0] + box[2])) + 1.0);
        cy = fmax(cy, fmax(fmax(fabs(box[1]), fabs(box[3])), fabs(box[1] + box[3])) + 1.0);
    }
    for (int c = 1; c < 3; c++)
        min_std = fmin(min_std, nm->std[c]);
    double delta = 4.0 * ldexp(1.0, -24);
    double lip = interp == LPT_INTERP_BILINEAR ? 255.0 : 1.5 * 1.375 * 255.0;
    return (lip * delta * (cx + cy) + 16.0 * 255.0 * ldexp(1.0, -21)) / (255.0 * min_std) + 2e-6;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static uint8_t *random_images(OpCheck *oc, size_t n)
{
    uint8_t *img = malloc(n);
    for (size_t i = 0; i < n; i++) {
        int v = (int)oc_uniform(oc, 0.0f, 256.0f);
        img[i] = (uint8_t)(v > 255 ? 255 : v);
    }
    return img;
}

static LptImageShape shape(int batch, int H, int W, int C, int oh, int ow, LptInterp interp,
                           const Norm *nm)
{
    LptImageShape s = {batch, H, W, C, oh, ow, interp, {0}, {0}};
    memcpy(s.mean, nm->mean, sizeof s.mean);
    memcpy(s.std, nm->std, sizeof s.std);
    return s;
}

static const char *interp_name(LptInterp interp)
{
    return interp == LPT_INTERP_BILINEAR ? "bilinear" : "bicubic";
}

/* Runs the op on images img[batch] with boxes and compares with the reference `ref`. */
static void run_and_check(OpCheck *oc, const char *what, const uint8_t *img, const float *boxes,
                          const LptImageShape *s, const double *ref, double atol, double rtol)
{
    size_t n_src = (size_t)s->batch * s->src_h * s->src_w * s->src_channels;
    size_t n_out = (size_t)s->batch * 3 * s->out_h * s->out_w;
    LptTensor src = oc_tensor(oc, "src", LPT_U8, n_src, img);
    LptTensor bx = oc_tensor(oc, "boxes", LPT_F32, (size_t)s->batch * 5, boxes);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, n_out, NULL);
    LptError err = {0};
    LptStatus st = lpt_op_image_transform_forward(oc->be, &out, &src, &bx, s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message))
        oc_check_tensor(oc, what, &out, ref, atol, rtol);
    oc_reset(oc);
}

/* Seven boxes exercising every feature on a W x H image: full, full mirrored, fractional
 * inside (mirrored), touching the right and bottom edges, touching the left and top edges
 * (mirrored), reaching outside the image, and a random-resized-crop style integer box. */
enum { N_BOXES = 7 };
static void make_boxes(OpCheck *oc, int W, int H, float *b)
{
    const float boxes[N_BOXES - 1][5] = {
        {0, 0, (float)W, (float)H, 0},
        {0, 0, (float)W, (float)H, 1},
        {0.37f * W + 0.13f, 0.21f * H + 0.29f, 0.5f * W + 0.3f, 0.61f * H + 0.7f, 1},
        {0.6f * W, 0.7f * H, 0.4f * W, 0.3f * H, 0},
        {0, 0, 0.3f * W + 1.0f, 0.5f * H + 1.0f, 1},
        {-0.25f * W, -3.5f, 1.5f * W, H + 7.0f, 0},
    };
    memcpy(b, boxes, sizeof boxes);
    int w = 1 + (int)oc_uniform(oc, 0.3f * W, (float)W),
        h = 1 + (int)oc_uniform(oc, 0.3f * H, (float)H);
    w = w > W ? W : w;
    h = h > H ? H : h;
    float *r = b + 5 * (N_BOXES - 1);
    r[0] = (float)(int)oc_uniform(oc, 0.0f, (float)(W - w + 1) - 0.01f);
    r[1] = (float)(int)oc_uniform(oc, 0.0f, (float)(H - h + 1) - 0.01f);
    r[2] = (float)w;
    r[3] = (float)h;
    r[4] = oc_uniform(oc, 0.0f, 1.0f) < 0.5f ? 0.0f : 1.0f;
}

/* ---- the cases ---------------------------------------------------------------------------- */

/* Seven boxes of random W x H x C images resampled to oh x ow, against the reference. */
static void check_general(OpCheck *oc, int H, int W, int C, int oh, int ow, LptInterp interp)
{
    char what[128];
    snprintf(what, sizeof what, "image_transform %s C=%d src %dx%d -> %dx%d", interp_name(interp),
             C, W, H, ow, oh);
    const Norm nm = {{clip_mean[0], clip_mean[1], clip_mean[2]},
                     {clip_std[0], clip_std[1], clip_std[2]}};
    float boxes[N_BOXES * 5];
    make_boxes(oc, W, H, boxes);
    size_t img_n = (size_t)H * W * C, out_n = (size_t)3 * oh * ow;
    uint8_t *img = random_images(oc, N_BOXES * img_n);
    double *ref = malloc(N_BOXES * out_n * sizeof *ref);
    for (int b = 0; b < N_BOXES; b++)
        ref_transform(ref + b * out_n, img + b * img_n, H, W, C, boxes + 5 * b, oh, ow, interp,
                      &nm);
    LptImageShape s = shape(N_BOXES, H, W, C, oh, ow, interp, &nm);
    run_and_check(oc, what, img, boxes, &s, ref, tolerance(boxes, N_BOXES, interp, &nm), 1e-6);
    free(img), free(ref);
}

/* The full box at the source size: mean 0 / std 1 must give pixel * float(1/255) bit for
 * bit (mirrored for the second image); CLIP normalisation within float rounding. */
static void check_identity(OpCheck *oc, int H, int W, int C, LptInterp interp)
{
    char what[128];
    size_t img_n = (size_t)H * W * C, out_n = (size_t)3 * H * W;
    float boxes[10] = {0, 0, (float)W, (float)H, 0, 0, 0, (float)W, (float)H, 1};
    uint8_t *img = random_images(oc, 2 * img_n);
    double *ref = malloc(2 * out_n * sizeof *ref);

    const Norm unit = {{0, 0, 0}, {1, 1, 1}};
    const float inv255 = (float)(1.0 / 255.0);
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int ux = b == 1 ? W - 1 - x : x;
                    uint8_t p = img[b * img_n + ((size_t)y * W + ux) * C + (C == 1 ? 0 : c)];
                    ref[b * out_n + ((size_t)c * H + y) * W + x] = (double)((float)p * inv255);
                }
    snprintf(what, sizeof what, "image_transform %s C=%d identity %dx%d exact", interp_name(interp),
             C, W, H);
    LptImageShape s = shape(2, H, W, C, H, W, interp, &unit);
    run_and_check(oc, what, img, boxes, &s, ref, 0.0, 0.0);

    const Norm nm = {{clip_mean[0], clip_mean[1], clip_mean[2]},
                     {clip_std[0], clip_std[1], clip_std[2]}};
    for (int b = 0; b < 2; b++)
        ref_transform(ref + b * out_n, img + b * img_n, H, W, C, boxes + 5 * b, H, W, interp, &nm);
    snprintf(what, sizeof what, "image_transform %s C=%d identity %dx%d clip", interp_name(interp),
             C, W, H);
    s = shape(2, H, W, C, H, W, interp, &nm);
    run_and_check(oc, what, img, boxes, &s, ref, 2e-6, 0.0);
    free(img), free(ref);
}

/* Evaluation transform: "resize W x H to 256 x 256, then centre-crop 224" (crop offset 16)
 * computed in two steps by the reference, against one box (16 W/256, 16 H/256, 224 W/256,
 * 224 H/256). Same sampling positions and clamping, so equal up to float rounding. */
static void check_centre_crop(OpCheck *oc, int H, int W, LptInterp interp)
{
    char what[128];
    snprintf(what, sizeof what, "image_transform %s resize256+crop224 of %dx%d",
             interp_name(interp), W, H);
    const Norm nm = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    const int R = 256, S = 224, off = (R - S) / 2;
    uint8_t *img = random_images(oc, (size_t)H * W * 3);
    double *resized = malloc((size_t)3 * R * R * sizeof *resized);
    double *ref = malloc((size_t)3 * S * S * sizeof *ref);
    const float full[5] = {0, 0, (float)W, (float)H, 0};
    ref_transform(resized, img, H, W, 3, full, R, R, interp, &nm);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                ref[((size_t)c * S + y) * S + x] = resized[((size_t)c * R + y + off) * R + x + off];
    const float box[5] = {(float)off * W / R, (float)off * H / R, (float)S * W / R,
                          (float)S * H / R, 0};
    LptImageShape s = shape(1, H, W, 3, S, S, interp, &nm);
    run_and_check(oc, what, img, box, &s, ref, tolerance(box, 1, interp, &nm), 1e-6);
    free(img), free(resized), free(ref);
}

/* Random-resized crop: torchvision crops an integer box and resizes the crop (clamping at
 * the crop's edges); the op clamps at the image's edges instead. For bilinear downscaling
 * (w >= out_w, h >= out_h) every tap lies inside the box, so the two agree. */
static void check_crop_then_resize(OpCheck *oc, int H, int W, const int *box_i, int oh, int ow)
{
    char what[128];
    snprintf(what, sizeof what, "image_transform bilinear crop %dx%d+%d+%d then resize %dx%d",
             box_i[2], box_i[3], box_i[0], box_i[1], ow, oh);
    const Norm nm = {{clip_mean[0], clip_mean[1], clip_mean[2]},
                     {clip_std[0], clip_std[1], clip_std[2]}};
    int cw = box_i[2], ch = box_i[3];
    uint8_t *img = random_images(oc, (size_t)H * W * 3);
    uint8_t *crop = malloc((size_t)ch * cw * 3);
    for (int y = 0; y < ch; y++)
        memcpy(crop + (size_t)y * cw * 3, img + ((size_t)(y + box_i[1]) * W + box_i[0]) * 3,
               (size_t)cw * 3);
    double *ref = malloc((size_t)3 * oh * ow * sizeof *ref);
    const float crop_box[5] = {0, 0, (float)cw, (float)ch, 1};
    ref_transform(ref, crop, ch, cw, 3, crop_box, oh, ow, LPT_INTERP_BILINEAR, &nm);
    const float box[5] = {(float)box_i[0], (float)box_i[1], (float)cw, (float)ch, 1};
    LptImageShape s = shape(1, H, W, 3, oh, ow, LPT_INTERP_BILINEAR, &nm);
    run_and_check(oc, what, img, box, &s, ref, tolerance(box, 1, LPT_INTERP_BILINEAR, &nm), 1e-6);
    free(img), free(crop), free(ref);
}

/* Source, boxes and output as views starting mid-tensor (source at byte 105, not a multiple
 * of 4; boxes at float 5, output at float 3), as a caller taking images 1..2 of a batch
 * would pass them; the 3 floats before the output view must stay untouched. */
static void check_views(OpCheck *oc)
{
    const char *what = "image_transform bicubic on views at unaligned offsets";
    const int H = 5, W = 7, C = 3, oh = 9, ow = 11;
    const Norm nm = {{clip_mean[0], clip_mean[1], clip_mean[2]},
                     {clip_std[0], clip_std[1], clip_std[2]}};
    size_t img_n = (size_t)H * W * C, out_n = (size_t)3 * oh * ow;
    uint8_t *img = random_images(oc, 3 * img_n);
    float boxes[15] = {0, 0, 1, 1, 0, 0.5f, 1.25f, 5.5f, 3.0f, 1, -1, 0, 9, 5, 0};
    double *ref = malloc(2 * out_n * sizeof *ref);
    for (int b = 0; b < 2; b++)
        ref_transform(ref + b * out_n, img + (b + 1) * img_n, H, W, C, boxes + 5 * (b + 1), oh, ow,
                      LPT_INTERP_BICUBIC, &nm);
    LptTensor src = oc_tensor(oc, "src", LPT_U8, 3 * img_n, img);
    LptTensor bx = oc_tensor(oc, "boxes", LPT_F32, 15, boxes);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, 3 + 2 * out_n, NULL);
    LptTensor src_v = lpt_tensor_view(&src, img_n, 2 * img_n);
    LptTensor bx_v = lpt_tensor_view(&bx, 5, 10);
    LptTensor out_v = lpt_tensor_view(&out, 3, 2 * out_n);
    LptImageShape s = shape(2, H, W, C, oh, ow, LPT_INTERP_BICUBIC, &nm);
    LptError err = {0};
    LptStatus st = lpt_op_image_transform_forward(oc->be, &out_v, &src_v, &bx_v, &s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        oc_check_tensor(oc, what, &out_v, ref, tolerance(boxes + 5, 2, LPT_INTERP_BICUBIC, &nm),
                        1e-6);
        float *got = oc_fetch(oc, &out);
        oc_expect(oc, isnan(got[0]) && isnan(got[1]) && isnan(got[2]), what,
                  "values before the output view were overwritten");
        free(got);
    }
    free(img), free(ref);
    oc_reset(oc);
}

/* A NaN box must not make the kernel read out of bounds or disturb the next image; on the
 * CPU its own output is NaN (Vulkan does not promise NaN propagation, so only there). */
static void check_nan_box(OpCheck *oc)
{
    const char *what = "image_transform NaN box leaves the next image intact";
    const int H = 17, W = 33, oh = 7, ow = 5;
    const Norm nm = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    size_t img_n = (size_t)H * W, out_n = (size_t)3 * oh * ow;
    uint8_t *img = random_images(oc, 2 * img_n);
    float boxes[10] = {NAN, NAN, NAN, NAN, 0, 2, 3, 20, 10, 1};
    double ref[2 * 3 * 7 * 5];
    ref_transform(ref + out_n, img + img_n, H, W, 1, boxes + 5, oh, ow, LPT_INTERP_BICUBIC, &nm);
    LptTensor src = oc_tensor(oc, "src", LPT_U8, 2 * img_n, img);
    LptTensor bx = oc_tensor(oc, "boxes", LPT_F32, 10, boxes);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, 2 * out_n, NULL);
    LptImageShape s = shape(2, H, W, 1, oh, ow, LPT_INTERP_BICUBIC, &nm);
    LptError err = {0};
    LptStatus st = lpt_op_image_transform_forward(oc->be, &out, &src, &bx, &s, &err);
    if (oc_expect(oc, st == LPT_OK, what, "%s", err.message)) {
        float *got = oc_fetch(oc, &out);
        oc_compare(oc, what, got + out_n, ref + out_n, out_n,
                   tolerance(boxes + 5, 1, s.interp, &nm), 1e-6);
        if (strcmp(oc->backend, "cpu") == 0) {
            for (size_t i = 0; i < out_n; i++)
                ref[i] = NAN;
            oc_compare(oc, "image_transform NaN box gives NaN on the cpu", got, ref, out_n, 0, 0);
        }
        free(got);
        oc_check_guards(oc, &out, what);
    }
    free(img);
    oc_reset(oc);
}

static void check_bad_arguments(OpCheck *oc)
{
    const Norm nm = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
    LptTensor src = oc_tensor(oc, "src", LPT_U8, 2 * 7 * 5 * 3, NULL);
    LptTensor boxes = oc_tensor(oc, "boxes", LPT_F32, 10, NULL);
    LptTensor out = oc_tensor(oc, "out", LPT_F32, 3 * 3 * 4 * 4, NULL);
    LptError err = {0};

    LptImageShape s = shape(2, 5, 7, 2, 4, 4, LPT_INTERP_BILINEAR, &nm);
    LptStatus st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: 2 channels", st, &err, "1 or 3 channels, not 2");

    s = shape(2, 5, 7, 3, 4, 4, LPT_INTERP_BILINEAR, &nm);
    s.std[1] = 0.0f;
    st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: std = 0", st, &err, "std[1] must be > 0");

    s = shape(2, 6, 7, 3, 4, 4, LPT_INTERP_BILINEAR, &nm);
    st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: src too small", st, &err,
                    "'src' (argument 'src') has 210 elements, the sizes given need 252");

    s = shape(3, 5, 7, 1, 4, 4, LPT_INTERP_BILINEAR, &nm);
    st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: boxes too small", st, &err, "argument 'boxes'");

    s = shape(2, 5, 7, 3, 0, 4, LPT_INTERP_BILINEAR, &nm);
    st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: out_h = 0", st, &err, "out_h = 0");

    s = shape(2, 5, 7, 3, 4, 4, (LptInterp)7, &nm);
    st = lpt_op_image_transform_forward(oc->be, &out, &src, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: unknown interpolation", st, &err,
                    "unknown interpolation 7");

    s = shape(2, 5, 7, 3, 4, 4, LPT_INTERP_BILINEAR, &nm);
    st = lpt_op_image_transform_forward(oc->be, &out, &out, &boxes, &s, &err);
    oc_expect_error(oc, "image_transform: f32 source", st, &err, "expected u8");
    oc_reset(oc);
}

int main(int argc, char **argv)
{
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    /* src_h, src_w, out_h, out_w */
    const int cases[][4] = {{5, 7, 224, 224},   {17, 33, 224, 224}, {129, 257, 224, 224},
                            {1, 1, 224, 224},   {1, 1, 1, 1},       {17, 33, 1, 1},
                            {129, 257, 17, 33}, {5, 7, 7, 5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int interp = LPT_INTERP_BILINEAR; interp <= LPT_INTERP_BICUBIC; interp++)
            for (int C = 1; C <= 3; C += 2)
                check_general(&oc, cases[i][0], cases[i][1], C, cases[i][2], cases[i][3],
                              (LptInterp)interp);
    const int id_sizes[][2] = {{5, 7}, {17, 33}, {129, 257}, {1, 1}};
    for (size_t i = 0; i < sizeof id_sizes / sizeof id_sizes[0]; i++)
        for (int interp = LPT_INTERP_BILINEAR; interp <= LPT_INTERP_BICUBIC; interp++)
            for (int C = 1; C <= 3; C += 2)
                check_identity(&oc, id_sizes[i][0], id_sizes[i][1], C, (LptInterp)interp);
    for (int interp = LPT_INTERP_BILINEAR; interp <= LPT_INTERP_BICUBIC; interp++) {
        check_centre_crop(&oc, 129, 257, (LptInterp)interp);
        check_centre_crop(&oc, 375, 500, (LptInterp)interp);
    }
    const int crop_a[4] = {37, 20, 100, 61}, crop_b[4] = {0, 68, 257, 61};
    check_crop_then_resize(&oc, 129, 257, crop_a, 17, 33);
    check_crop_then_resize(&oc, 129, 257, crop_b, 61, 224);
    check_views(&oc);
    check_nan_box(&oc);
    check_bad_arguments(&oc);
    return oc_finish(&oc, "test_ops_image");
}

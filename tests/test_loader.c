/* test_loader.c: the training/eval data loader (lpt_loader.h) and its boxes (lpt_augment.h).
 *
 * Runs on the backend named by --backend (cpu in suite unit, vulkan in suite gpu). Images
 * are PGM/PPM files written at run time into a temporary folder, with pixel values given by
 * a formula, so the references below compute every output pixel from the formula alone:
 *   - random-resized crop against a line-by-line transcription of torchvision's get_params
 *     fed the same uniform draws, hand-worked cases (ties, fallbacks), box statistics;
 *   - eval boxes against a two-step resize-then-crop reference in double;
 *   - loader batches (mixed sizes, gray and RGB in one batch, upscaling and downscaling)
 *     against a double bilinear reference on the whole image, and bicubic against a direct
 *     op call on the whole image (the loader cuts each image to what its box reads);
 *   - determinism with other worker counts and prefetch depths, resume mid-epoch;
 *   - the wait statistics; a file deleted before its step and a corrupt file (errors that
 *     name the file, sticky, no hang); shutdown at any point (run under ASan for leaks);
 *   - bad configurations.
 * With --bench it instead reports the loader's images/s and the share of step time a
 * synthetic 5 ms trainer waits, on 28x28 gray PNGs (meson benchmark 'loader').
 */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lpt_augment.h"
#include "lpt_loader.h"
#include "lpt_rng.h"
#include "lpt_sampler.h"
#include "op_check.h"

static const float MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float STD[3] = {0.229f, 0.224f, 0.225f};

/* ---- synthetic image sets ---------------------------------------------------------------- */

typedef struct Set {
    char dir[64];
    int n;
    char **paths;
    int32_t *labels;
    int *w, *h, *c;
} Set;

/* The value of channel ch of pixel (x, y) of image id. */
static int pixel_value(int id, int x, int y, int ch)
{
    return (id * 37 + x * 11 + y * 23 + ch * 71 + (x * y) % 13) & 255;
}

static bool write_pnm(const char *path, int w, int h, int c, int id)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    fprintf(f, "P%d\n%d %d\n255\n", c == 1 ? 5 : 6, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++)
                fputc(pixel_value(id, x, y, ch), f);
    return fclose(f) == 0;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000.0), (long)(fmod(ms, 1000.0) * 1e6)};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* `kind` 0: every image 28 x 28 gray; 1: sizes from 1 x 1 to ~120 x 100, gray and RGB
 * mixed; 2: 160 x 120 RGB. Labels id % classes. */
static bool set_make(Set *set, int n, int classes, int kind)
{
    memset(set, 0, sizeof *set);
    snprintf(set->dir, sizeof set->dir, "/tmp/lpt-test-loader-XXXXXX");
    if (!mkdtemp(set->dir))
        return false;
    set->n = n;
    set->paths = calloc((size_t)n, sizeof *set->paths);
    set->labels = calloc((size_t)n, sizeof *set->labels);
    set->w = calloc((size_t)n, sizeof *set->w);
    set->h = calloc((size_t)n, sizeof *set->h);
    set->c = calloc((size_t)n, sizeof *set->c);
    for (int i = 0; i < n; i++) {
        int w = 28, h = 28, c = 1;
        if (kind == 1) {
            w = i == 0 ? 1 : 2 + (i * 37) % 119;
            h = i == 0 ? 1 : 3 + (i * 53) % 97;
            c = (i % 3 == 1) ? 1 : 3;
        } else if (kind == 2) {
            w = 160, h = 120, c = 3;
        }
        char name[128];
        snprintf(name, sizeof name, "%s/img%03d.%s", set->dir, i, c == 1 ? "pgm" : "ppm");
        set->paths[i] = strdup(name);
        set->labels[i] = i % classes;
        set->w[i] = w, set->h[i] = h, set->c[i] = c;
        if (!write_pnm(name, w, h, c, i))
            return false;
    }
    return true;
}

static void set_free(Set *set)
{
    for (int i = 0; i < set->n; i++) {
        if (set->paths[i])
            unlink(set->paths[i]);
        free(set->paths[i]);
    }
    if (set->dir[0])
        rmdir(set->dir);
    free(set->paths), free(set->labels), free(set->w), free(set->h), free(set->c);
    memset(set, 0, sizeof *set);
}

static void config_for(LptLoaderConfig *cfg, const Set *set, int classes, LptLoaderMode mode,
                       LptSamplerKind kind, int batch, int size)
{
    lpt_loader_config_init(cfg);
    cfg->count = set->n;
    cfg->paths = (const char *const *)set->paths;
    cfg->labels = set->labels;
    cfg->num_classes = classes;
    cfg->mode = mode;
    cfg->sampler = kind;
    cfg->batch_size = batch;
    cfg->seed = 1234;
    cfg->input_size = size;
    memcpy(cfg->mean, MEAN, sizeof MEAN);
    memcpy(cfg->std, STD, sizeof STD);
}

/* ---- references -------------------------------------------------------------------------- */

/* Python's round() (half to even), written out: no rint. */
static int py_round(double x)
{
    double f = floor(x);
    double d = x - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0.0))
        f += 1.0;
    return (int)f;
}

/* torchvision.transforms.RandomResizedCrop.get_params, line by line; torch.empty(1).uniform_
 * and torch.randint take their draws from rng, in the order the Python code makes them. */
static void ref_get_params(LptRng *rng, int width, int height, const double scale[2],
                           const double ratio[2], int out[4] /* i, j, h, w */)
{
    double area = (double)height * width;
    double log_ratio[2] = {log(ratio[0]), log(ratio[1])};
    for (int attempt = 0; attempt < 10; attempt++) {
        double target_area = area * (scale[0] + (scale[1] - scale[0]) * lpt_rng_float(rng));
        double aspect_ratio =
            exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * lpt_rng_float(rng));
        int w = py_round(sqrt(target_area * aspect_ratio));
        int h = py_round(sqrt(target_area / aspect_ratio));
        if (0 < w && w <= width && 0 < h && h <= height) {
            int i = (int)lpt_rng_below(rng, (uint32_t)(height - h + 1));
            int j = (int)lpt_rng_below(rng, (uint32_t)(width - w + 1));
            out[0] = i, out[1] = j, out[2] = h, out[3] = w;
            return;
        }
    }
    double in_ratio = (double)width / (double)height;
    int w, h;
    if (in_ratio < fmin(ratio[0], ratio[1])) {
        w = width;
        h = py_round(w / fmin(ratio[0], ratio[1]));
    } else if (in_ratio > fmax(ratio[0], ratio[1])) {
        h = height;
        w = py_round(h * fmax(ratio[0], ratio[1]));
    } else {
        w = width;
        h = height;
    }
    out[0] = (height - h) / 2, out[1] = (width - w) / 2, out[2] = h, out[3] = w;
}

/* Channel ch of source pixel (x, y) of image id, indices clamped to the image. */
static double src_at(const Set *set, int id, int x, int y, int ch)
{
    x = x < 0 ? 0 : (x >= set->w[id] ? set->w[id] - 1 : x);
    y = y < 0 ? 0 : (y >= set->h[id] ? set->h[id] - 1 : y);
    return pixel_value(id, x, y, set->c[id] == 1 ? 0 : ch);
}

/* Bilinear (align_corners = false, edges clamped) at source position (sx, sy). */
static double bilinear(const Set *set, int id, double sx, double sy, int ch)
{
    double fx = floor(sx), fy = floor(sy), tx = sx - fx, ty = sy - fy;
    int x0 = (int)fx, y0 = (int)fy;
    return (1 - ty) *
               ((1 - tx) * src_at(set, id, x0, y0, ch) + tx * src_at(set, id, x0 + 1, y0, ch)) +
           ty * ((1 - tx) * src_at(set, id, x0, y0 + 1, ch) +
                 tx * src_at(set, id, x0 + 1, y0 + 1, ch));
}

/* The op's meaning for one image and box, in double: out [3, S, S]. */
static void ref_box(const Set *set, int id, const float box[5], int S, double *out)
{
    for (int ch = 0; ch < 3; ch++)
        for (int oy = 0; oy < S; oy++)
            for (int ox = 0; ox < S; ox++) {
                int ux = box[4] != 0.0f ? S - 1 - ox : ox;
                double sx = box[0] + ((ux + 0.5) * box[2] / S - 0.5);
                double sy = box[1] + ((oy + 0.5) * box[3] / S - 0.5);
                double v = bilinear(set, id, sx, sy, ch);
                out[((size_t)ch * S + oy) * S + ox] = (v / 255.0 - MEAN[ch]) / STD[ch];
            }
}

/* Resize to R x R, then centre-crop S, in two steps (torchvision Resize((R, R)) then
 * CenterCrop(S) on a float image): out [3, S, S]. */
static void ref_eval(const Set *set, int id, int S, double *out)
{
    int R = S * 256 / 224, d = R - S, c = d / 2;
    if (d % 2 == 1 && c % 2 == 1) /* (R - S) / 2 = c + 0.5 rounds half to even */
        c += 1;
    int W = set->w[id], H = set->h[id];
    for (int ch = 0; ch < 3; ch++)
        for (int oy = 0; oy < S; oy++)
            for (int ox = 0; ox < S; ox++) {
                int X = c + ox, Y = c + oy; /* pixel of the R x R resized image */
                double sx = (X + 0.5) * W / R - 0.5, sy = (Y + 0.5) * H / R - 0.5;
                double v = bilinear(set, id, sx, sy, ch);
                out[((size_t)ch * S + oy) * S + ox] = (v / 255.0 - MEAN[ch]) / STD[ch];
            }
}

/* ---- box tests --------------------------------------------------------------------------- */

static void test_crop_transcription(OpCheck *oc)
{
    static const int sizes[][2] = {{1, 1},     {2, 3},     {3, 500}, {500, 3},  {17, 33},
                                   {224, 224}, {640, 480}, {28, 28}, {100, 10}, {7, 1000}};
    static const double params[][4] = {
        {0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0},
        {0.5, 0.5, 1.0, 1.0},
        {0.9, 1.0, 0.5, 2.0},
        {0.01, 0.2, 0.2, 5.0},
    };
    int mismatches = 0, draws_differ = 0, cases = 0;
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
        LptAugmentParams ap;
        lpt_augment_params_init(&ap);
        ap.scale_min = params[p][0], ap.scale_max = params[p][1];
        ap.ratio_min = params[p][2], ap.ratio_max = params[p][3];
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int k = 0; k < 500; k++) {
                LptRng a, b;
                lpt_augment_rng(&a, 99, (int64_t)p, (int64_t)s, k);
                b = a;
                int x0, y0, w, h, ref[4];
                lpt_augment_random_crop(&a, sizes[s][0], sizes[s][1], &ap, &x0, &y0, &w, &h);
                ref_get_params(&b, sizes[s][0], sizes[s][1], params[p], params[p] + 2, ref);
                if (mismatches < 3 && !(y0 == ref[0] && x0 == ref[1] && h == ref[2] && w == ref[3]))
                    printf("  %dx%d params %zu draw %d: got (x0 %d y0 %d w %d h %d), "
                           "torchvision (%d %d %d %d)\n",
                           sizes[s][0], sizes[s][1], p, k, x0, y0, w, h, ref[1], ref[0], ref[3],
                           ref[2]);
                mismatches += !(y0 == ref[0] && x0 == ref[1] && h == ref[2] && w == ref[3]);
                draws_differ += a.state != b.state;
                cases++;
            }
    }
    oc_expect(oc, mismatches == 0, "crop = torchvision get_params", "%d of %d crops differ",
              mismatches, cases);
    oc_expect(oc, draws_differ == 0, "crop draws", "%d of %d crops used other draws", draws_differ,
              cases);

    /* hand-worked: area 16, scale 25/64 -> sqrt 2.5 rounds to 2; 49/64 -> 3.5 rounds to 4 */
    LptAugmentParams ap;
    lpt_augment_params_init(&ap);
    ap.ratio_min = ap.ratio_max = 1.0;
    ap.scale_min = ap.scale_max = 25.0 / 64.0;
    LptRng rng;
    lpt_rng_seed(&rng, 5, 5);
    int x0, y0, w, h;
    lpt_augment_random_crop(&rng, 4, 4, &ap, &x0, &y0, &w, &h);
    oc_expect(oc, w == 2 && h == 2 && x0 <= 2 && y0 <= 2, "crop: 2.5 rounds to even",
              "w %d h %d x0 %d y0 %d", w, h, x0, y0);
    ap.scale_min = ap.scale_max = 49.0 / 64.0;
    lpt_augment_random_crop(&rng, 4, 4, &ap, &x0, &y0, &w, &h);
    oc_expect(oc, w == 4 && h == 4 && x0 == 0 && y0 == 0, "crop: 3.5 rounds to even",
              "w %d h %d x0 %d y0 %d", w, h, x0, y0);
    /* fallbacks: nothing fits, the whole image clamped to the ratio range, centred */
    lpt_augment_params_init(&ap);
    ap.scale_min = 0.9;
    lpt_augment_random_crop(&rng, 100, 10, &ap, &x0, &y0, &w, &h);
    oc_expect(oc, x0 == 43 && y0 == 0 && w == 13 && h == 10, "crop: wide fallback",
              "(%d %d %d %d), want (43 0 13 10)", x0, y0, w, h);
    lpt_augment_random_crop(&rng, 10, 100, &ap, &x0, &y0, &w, &h);
    oc_expect(oc, x0 == 0 && y0 == 43 && w == 10 && h == 13, "crop: tall fallback",
              "(%d %d %d %d), want (0 43 10 13)", x0, y0, w, h);
    ap.scale_min = 1.0;
    lpt_augment_random_crop(&rng, 50, 50, &ap, &x0, &y0, &w, &h);
    oc_expect(oc, x0 == 0 && y0 == 0 && w == 50 && h == 50, "crop: scale 1 is the image",
              "(%d %d %d %d)", x0, y0, w, h);
}

static void test_box_statistics(OpCheck *oc)
{
    static const int sizes[][2] = {{224, 224}, {640, 480}, {28, 28}};
    LptAugmentParams ap;
    lpt_augment_params_init(&ap);
    for (size_t s = 0; s < 3; s++) {
        int W = sizes[s][0], H = sizes[s][1], n = 20000, flips = 0, below1 = 0, above1 = 0;
        int outside = 0;
        double smin = 2, smax = 0, rmin = 10, rmax = 0, ssum = 0;
        /* rounding w and h to integers moves the area and ratio a little past the range */
        double side = sqrt(0.08 * W * H), tol = 1.0 / side + 0.5 / (side * side);
        for (int k = 0; k < n; k++) {
            LptRng rng;
            lpt_augment_rng(&rng, 7, k / 64, k % 64 / 8, k % 8);
            float box[5];
            lpt_augment_train_box(&rng, W, H, &ap, box);
            double scale = (double)box[2] * box[3] / ((double)W * H), ratio = box[2] / box[3];
            smin = fmin(smin, scale), smax = fmax(smax, scale), ssum += scale;
            rmin = fmin(rmin, ratio), rmax = fmax(rmax, ratio);
            flips += box[4] != 0.0f;
            below1 += ratio < 1.0;
            above1 += ratio > 1.0;
            outside += box[0] < 0 || box[1] < 0 || box[0] + box[2] > W || box[1] + box[3] > H ||
                       box[2] < 1 || box[3] < 1;
        }
        char what[64];
        snprintf(what, sizeof what, "box statistics %dx%d", W, H);
        oc_expect(oc, outside == 0, what, "%d boxes leave the image", outside);
        oc_expect(oc, smin >= 0.08 * (1 - 2 * tol) && smax <= 1.0, what,
                  "scale range [%g, %g] not within [0.08, 1] (+- rounding %g)", smin, smax, tol);
        oc_expect(oc, smin < 0.1 && smax > 0.9, what, "scales [%g, %g] do not span the range", smin,
                  smax);
        oc_expect(oc, ssum / n > 0.4 && ssum / n < 0.6, what, "mean scale %g", ssum / n);
        oc_expect(oc, rmin >= 0.75 * (1 - 2 * tol) && rmax <= 4.0 / 3.0 * (1 + 2 * tol), what,
                  "ratio range [%g, %g] not within [3/4, 4/3]", rmin, rmax);
        oc_expect(oc, rmin < 0.8 && rmax > 1.25, what, "ratios [%g, %g] do not span the range",
                  rmin, rmax);
        /* 4 sigma of a binomial(20000, 0.5) fraction is 0.014 */
        oc_expect(oc, fabs((double)flips / n - 0.5) < 0.014, what, "flip rate %g",
                  (double)flips / n);
        /* on a square image tall and wide crops are equally likely (4 sigma) */
        if (W == H)
            oc_expect(oc, fabs((double)(below1 - above1)) < 4 * sqrt((double)(below1 + above1)),
                      what, "%d tall and %d wide crops", below1, above1);
    }
    /* a function of (seed, epoch, step, slot): equal for equal keys, different otherwise */
    float a[5], b[5], c[5];
    LptRng r;
    lpt_augment_rng(&r, 3, 4, 5, 6);
    lpt_augment_train_box(&r, 300, 200, &ap, a);
    lpt_augment_rng(&r, 3, 4, 5, 6);
    lpt_augment_train_box(&r, 300, 200, &ap, b);
    int differ = 0;
    for (int k = 0; k < 4; k++) {
        lpt_augment_rng(&r, k == 0 ? 4 : 3, k == 1 ? 5 : 4, k == 2 ? 6 : 5, k == 3 ? 7 : 6);
        lpt_augment_train_box(&r, 300, 200, &ap, c);
        differ += memcmp(a, c, sizeof a) != 0;
    }
    oc_expect(oc, memcmp(a, b, sizeof a) == 0 && differ == 4, "box keys",
              "same key equal: %d; other keys differing: %d of 4", memcmp(a, b, sizeof a) == 0,
              differ);
}

static void test_eval_box(OpCheck *oc)
{
    oc_expect(oc,
              lpt_augment_eval_resize(224) == 256 && lpt_augment_eval_resize(32) == 36 &&
                  lpt_augment_eval_resize(384) == 438 && lpt_augment_eval_resize(28) == 32,
              "eval resize", "R(224) %d R(32) %d R(384) %d R(28) %d", lpt_augment_eval_resize(224),
              lpt_augment_eval_resize(32), lpt_augment_eval_resize(384),
              lpt_augment_eval_resize(28));
    float box[5];
    lpt_augment_eval_box(256, 256, 224, box);
    oc_expect(oc, box[0] == 16 && box[1] == 16 && box[2] == 224 && box[3] == 224 && box[4] == 0,
              "eval box 256 -> 224", "(%g %g %g %g %g)", box[0], box[1], box[2], box[3], box[4]);
    lpt_augment_eval_box(500, 375, 224, box);
    oc_expect(oc,
              fabsf(box[0] - 31.25f) < 1e-4f && fabsf(box[1] - 23.4375f) < 1e-4f &&
                  fabsf(box[2] - 437.5f) < 1e-4f && fabsf(box[3] - 328.125f) < 1e-4f,
              "eval box 500x375 -> 224", "(%g %g %g %g)", box[0], box[1], box[2], box[3]);
    /* S = 30: R = 34, (R - S) / 2 = 2; S = 26: R = 29, 1.5 rounds to 2 */
    lpt_augment_eval_box(29, 29, 26, box);
    oc_expect(oc, box[0] == 2 && box[2] == 26, "eval box half offset", "(%g %g)", box[0], box[2]);
}

/* ---- loader batches against the references ----------------------------------------------- */

/* Checks every image of a batch against the reference (bilinear train boxes or eval), its
 * labels on both sides, and counts gray and RGB images. */
static void check_batch(OpCheck *oc, const char *what, const Set *set, const LptLoaderConfig *cfg,
                        const LptLoaderBatch *batch, int *gray, int *rgb)
{
    int S = cfg->input_size, plane = 3 * S * S;
    LptAugmentParams ap = cfg->augment;
    for (int p = 0; p < batch->parts; p++) {
        const LptLoaderPart *part = &batch->part[p];
        if (part->count == 0)
            continue;
        float *got = malloc((size_t)part->count * plane * sizeof *got);
        int32_t *lab = malloc((size_t)part->count * sizeof *lab);
        double *ref = malloc((size_t)plane * sizeof *ref);
        oc_download(oc, &part->images, got);
        oc_download(oc, &part->labels, lab);
        int bad_label = 0;
        for (int i = 0; i < part->count; i++) {
            int id = (int)part->indices[i];
            int32_t want = cfg->labels ? cfg->labels[id] : -1;
            bad_label += lab[i] != want || part->host_labels[i] != want;
            *gray += set->c[id] == 1;
            *rgb += set->c[id] == 3;
            if (cfg->mode == LPT_LOADER_TRAIN) {
                LptRng rng;
                float box[5];
                lpt_augment_rng(&rng, cfg->seed, batch->epoch, batch->step,
                                (int64_t)p * cfg->batch_size + i);
                lpt_augment_train_box(&rng, set->w[id], set->h[id], &ap, box);
                ref_box(set, id, box, S, ref);
            } else {
                ref_eval(set, id, S, ref);
            }
            char name[160];
            snprintf(name, sizeof name, "%s: epoch %lld step %lld part %d image %d (%dx%dx%d)",
                     what, (long long)batch->epoch, (long long)batch->step, p, id, set->w[id],
                     set->h[id], set->c[id]);
            oc_compare(oc, name, got + (size_t)i * plane, ref, (size_t)plane, 1e-4, 1e-5);
        }
        oc_expect(oc, bad_label == 0, what, "%d labels differ from the list's", bad_label);
        free(got), free(lab), free(ref);
    }
}

static void test_train_batches(OpCheck *oc, const Set *set)
{
    LptLoaderConfig cfg;
    config_for(&cfg, set, 3, LPT_LOADER_TRAIN, LPT_SAMPLER_DUAL, 8, 16);
    cfg.workers = 2;
    cfg.prefetch = 3;
    LptError err = {0};
    LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
    if (!oc_expect(oc, L != NULL, "train loader", "%s", err.message))
        return;
    int64_t spe = lpt_loader_steps_per_epoch(L);
    oc_expect(oc, spe == set->n / 8 + 1, "train steps per epoch", "%lld, want %d", (long long)spe,
              set->n / 8 + 1);
    int gray = 0, rgb = 0, mixed = 0, shapes = 0;
    for (int k = 0; k < (int)spe + 2; k++) {
        LptLoaderBatch batch;
        if (!oc_expect(oc, lpt_loader_next(L, &batch, &err) == LPT_OK, "train next", "%s",
                       err.message))
            break;
        oc_expect(oc,
                  batch.parts == 2 && batch.epoch == k / spe && batch.step == k % spe &&
                      batch.part[0].count == 8 &&
                      batch.part[1].count == (batch.step == spe - 1 ? set->n % 8 : 8),
                  "train batch shape", "parts %d epoch %lld step %lld counts %d %d", batch.parts,
                  (long long)batch.epoch, (long long)batch.step, batch.part[0].count,
                  batch.part[1].count);
        int g = 0, r = 0;
        check_batch(oc, "train", set, &cfg, &batch, &g, &r);
        mixed += g > 0 && r > 0;
        gray += g, rgb += r;
        for (int p = 0; p < 2; p++)
            for (int i = 1; i < batch.part[p].count; i++) {
                int a = (int)batch.part[p].indices[i - 1], b = (int)batch.part[p].indices[i];
                shapes += set->w[a] != set->w[b] || set->h[a] != set->h[b];
            }
    }
    oc_expect(oc, mixed > 0 && shapes > 0, "train batches mix sizes, gray and RGB",
              "%d batches mixed gray and RGB, %d neighbours differed in size", mixed, shapes);
    lpt_loader_free(L);
}

/* Bicubic: the loader (which cuts each image down to what its box reads) against the op run
 * on the whole image with the same box: the CPU path of the same op as reference. */
static void test_bicubic_cut(OpCheck *oc, const Set *set)
{
    LptLoaderConfig cfg;
    config_for(&cfg, set, 3, LPT_LOADER_TRAIN, LPT_SAMPLER_INSTANCE, 6, 12);
    cfg.interp = LPT_INTERP_BICUBIC;
    LptError err = {0};
    LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
    if (!oc_expect(oc, L != NULL, "bicubic loader", "%s", err.message))
        return;
    int S = 12, plane = 3 * S * S;
    for (int k = 0; k < 3; k++) {
        LptLoaderBatch batch;
        if (!oc_expect(oc, lpt_loader_next(L, &batch, &err) == LPT_OK, "bicubic next", "%s",
                       err.message))
            break;
        const LptLoaderPart *part = &batch.part[0];
        float *got = malloc((size_t)part->count * plane * sizeof *got);
        oc_download(oc, &part->images, got);
        for (int i = 0; i < part->count; i++) {
            int id = (int)part->indices[i];
            int W = set->w[id], H = set->h[id], C = set->c[id];
            uint8_t *px = malloc((size_t)W * H * C);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    for (int ch = 0; ch < C; ch++)
                        px[((size_t)y * W + x) * C + ch] = (uint8_t)pixel_value(id, x, y, ch);
            LptRng rng;
            float box[5];
            lpt_augment_rng(&rng, cfg.seed, batch.epoch, batch.step, i);
            lpt_augment_train_box(&rng, W, H, &cfg.augment, box);
            LptTensor src = oc_tensor(oc, "whole image", LPT_U8, (size_t)W * H * C, px);
            LptTensor bx = oc_tensor(oc, "box", LPT_F32, 5, box);
            LptTensor out = oc_tensor(oc, "out", LPT_F32, (size_t)plane, NULL);
            LptImageShape sh = {.batch = 1,
                                .src_h = H,
                                .src_w = W,
                                .src_channels = C,
                                .out_h = S,
                                .out_w = S,
                                .interp = LPT_INTERP_BICUBIC};
            memcpy(sh.mean, MEAN, sizeof MEAN);
            memcpy(sh.std, STD, sizeof STD);
            if (oc_expect(oc,
                          lpt_op_image_transform_forward(oc->be, &out, &src, &bx, &sh, &err) ==
                              LPT_OK,
                          "bicubic whole-image op", "%s", err.message)) {
                float *whole = oc_fetch(oc, &out);
                double *ref = malloc((size_t)plane * sizeof *ref);
                for (int j = 0; j < plane; j++)
                    ref[j] = whole[j];
                char name[96];
                snprintf(name, sizeof name, "bicubic cut = whole, image %d (%dx%dx%d)", id, W, H,
                         C);
                oc_compare(oc, name, got + (size_t)i * plane, ref, (size_t)plane, 1e-4, 1e-5);
                free(whole), free(ref);
            }
            free(px);
            oc_reset(oc);
        }
        free(got);
    }
    lpt_loader_free(L);
}

static void test_eval(OpCheck *oc, const Set *set)
{
    LptLoaderConfig cfg;
    config_for(&cfg, set, 3, LPT_LOADER_EVAL, LPT_SAMPLER_INSTANCE, 4, 20);
    cfg.count = 13;
    cfg.labels = NULL; /* unlabelled: -1 */
    LptError err = {0};
    LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
    if (!oc_expect(oc, L != NULL, "eval loader", "%s", err.message))
        return;
    oc_expect(oc, lpt_loader_steps_per_epoch(L) == 4, "eval batches per pass", "%lld",
              (long long)lpt_loader_steps_per_epoch(L));
    int gray = 0, rgb = 0, order_bad = 0, shape_bad = 0;
    float *first = NULL, *again = NULL;
    size_t first_n = 0;
    for (int k = 0; k < 6; k++) {
        LptLoaderBatch batch;
        if (!oc_expect(oc, lpt_loader_next(L, &batch, &err) == LPT_OK, "eval next", "%s",
                       err.message))
            break;
        if (k == 4) {
            oc_expect(oc, batch.end && batch.parts == 0 && batch.epoch == 0, "eval end mark",
                      "end %d parts %d epoch %lld", batch.end, batch.parts, (long long)batch.epoch);
            continue;
        }
        int want = k == 3 ? 1 : 4;
        shape_bad += batch.end || batch.parts != 1 || batch.part[0].count != want ||
                     batch.step != k % 5 || batch.epoch != k / 5;
        for (int i = 0; i < batch.part[0].count; i++)
            order_bad += batch.part[0].indices[i] != (k % 5) * 4 + i;
        if (k < 4)
            check_batch(oc, "eval", set, &cfg, &batch, &gray, &rgb);
        if (k == 0 || k == 5) {
            float **keep = k == 0 ? &first : &again;
            first_n = (size_t)batch.part[0].images.count;
            *keep = malloc(first_n * sizeof **keep);
            oc_download(oc, &batch.part[0].images, *keep);
        }
    }
    oc_expect(oc, shape_bad == 0 && order_bad == 0, "eval order",
              "%d batches misshapen, %d "
              "images out of order",
              shape_bad, order_bad);
    oc_expect(oc, first && again && memcmp(first, again, first_n * sizeof *first) == 0,
              "eval second pass", "the second pass's first batch differs from the first's");
    free(first), free(again);
    lpt_loader_free(L);
}

/* ---- determinism, resume, statistics ----------------------------------------------------- */

typedef struct Run {
    int steps;
    float **images; /* [steps * 2] */
    int32_t *counts;
    int64_t **indices;
} Run;

static void run_free(Run *r)
{
    for (int i = 0; i < 2 * r->steps; i++)
        free(r->images ? r->images[i] : NULL), free(r->indices ? r->indices[i] : NULL);
    free(r->images), free(r->counts), free(r->indices);
}

/* Runs `steps` steps of a loader and keeps every batch on the host. */
static bool record(OpCheck *oc, const LptLoaderConfig *cfg, int steps, Run *r,
                   LptSamplerState *state_after, LptLoaderStats *stats)
{
    LptError err = {0};
    memset(r, 0, sizeof *r);
    r->steps = steps;
    r->images = calloc((size_t)steps * 2, sizeof *r->images);
    r->indices = calloc((size_t)steps * 2, sizeof *r->indices);
    r->counts = calloc((size_t)steps * 2, sizeof *r->counts);
    LptLoader *L = lpt_loader_new(oc->be, cfg, &err);
    if (!oc_expect(oc, L != NULL, "record: loader", "%s", err.message))
        return false;
    bool ok = true;
    for (int k = 0; k < steps && ok; k++) {
        LptLoaderBatch b;
        ok = oc_expect(oc, lpt_loader_next(L, &b, &err) == LPT_OK, "record: next", "%s",
                       err.message);
        for (int p = 0; ok && p < b.parts; p++) {
            size_t n = b.part[p].images.count;
            r->counts[2 * k + p] = b.part[p].count;
            r->images[2 * k + p] = malloc((n ? n : 1) * sizeof(float));
            r->indices[2 * k + p] = malloc(((size_t)b.part[p].count + 1) * sizeof(int64_t));
            if (n)
                oc_download(oc, &b.part[p].images, r->images[2 * k + p]);
            memcpy(r->indices[2 * k + p], b.part[p].indices,
                   (size_t)b.part[p].count * sizeof(int64_t));
        }
    }
    if (state_after)
        lpt_loader_state(L, state_after);
    if (stats)
        lpt_loader_stats(L, stats);
    lpt_loader_free(L);
    return ok;
}

/* Step a of run x equals step b of run y, bit for bit. */
static bool same_step(const Run *x, int a, const Run *y, int b, size_t plane)
{
    for (int p = 0; p < 2; p++) {
        int32_t n = x->counts[2 * a + p];
        if (n != y->counts[2 * b + p])
            return false;
        if (n && (memcmp(x->indices[2 * a + p], y->indices[2 * b + p], (size_t)n * 8) != 0 ||
                  memcmp(x->images[2 * a + p], y->images[2 * b + p],
                         (size_t)n * plane * sizeof(float)) != 0))
            return false;
    }
    return true;
}

static void test_determinism_and_resume(OpCheck *oc, const Set *set)
{
    LptLoaderConfig cfg;
    config_for(&cfg, set, 3, LPT_LOADER_TRAIN, LPT_SAMPLER_DUAL, 8, 12);
    size_t plane = 3 * 12 * 12;
    int steps = 2 * (set->n / 8 + 1) + 1; /* past two epoch ends */
    Run a, b, c, d;
    LptLoaderStats stats;
    cfg.workers = 1, cfg.prefetch = 1, cfg.cache_bytes = 0;
    bool ok = record(oc, &cfg, steps, &a, NULL, &stats);
    cfg.workers = 3, cfg.prefetch = 5, cfg.cache_bytes = (size_t)1 << 30;
    ok = record(oc, &cfg, steps, &b, NULL, NULL) && ok;
    int differ = 0;
    for (int k = 0; ok && k < steps; k++)
        differ += !same_step(&a, k, &b, k, plane);
    oc_expect(oc, ok && differ == 0, "determinism",
              "%d of %d steps differ between 1 worker "
              "uncached and 3 workers cached",
              differ, steps);
    oc_expect(oc, stats.cached_images == 0 && stats.decoded >= stats.images, "cache off",
              "cached %lld, decoded %lld of %lld images", (long long)stats.cached_images,
              (long long)stats.decoded, (long long)stats.images);

    /* resume: stop after k steps, save the state, continue in a new loader */
    int k = set->n / 8 + 3; /* epoch 1, step 2 */
    LptSamplerState st;
    ok = record(oc, &cfg, k, &c, &st, NULL);
    oc_expect(oc, st.epoch == 1 && st.step == 2 && st.seed == cfg.seed, "resume state",
              "epoch %lld step %lld seed %llu", (long long)st.epoch, (long long)st.step,
              (unsigned long long)st.seed);
    cfg.resume = &st;
    cfg.seed = 999; /* the state's seed wins */
    ok = record(oc, &cfg, steps - k, &d, NULL, NULL) && ok;
    differ = 0;
    for (int j = 0; ok && j < steps - k; j++)
        differ += !same_step(&d, j, &a, k + j, plane);
    oc_expect(oc, ok && differ == 0, "resume = running through",
              "%d of %d resumed steps "
              "differ",
              differ, steps - k);
    run_free(&a), run_free(&b), run_free(&c), run_free(&d);

    /* a state from other data is refused */
    LptSamplerState bad = st;
    bad.fingerprint ^= 1;
    cfg.resume = &bad;
    LptError err = {0};
    LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
    oc_expect(oc, !L && strstr(err.message, "fingerprint"), "resume: foreign state",
              "loader %p, message '%s'", (void *)L, err.message);
    lpt_loader_free(L);
}

static void test_stats(OpCheck *oc, const Set *set)
{
    LptLoaderConfig cfg;
    config_for(&cfg, set, 3, LPT_LOADER_TRAIN, LPT_SAMPLER_DUAL, 8, 12);
    cfg.cache_bytes = (size_t)1 << 30;
    LptError err = {0};
    LptLoaderStats s0, s;
    LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
    if (!oc_expect(oc, L != NULL, "stats loader", "%s", err.message))
        return;
    lpt_loader_stats(L, &s0);
    oc_expect(oc, s0.batches == 0 && s0.images == 0 && s0.wait_share == 0.0, "stats before",
              "batches %lld images %lld share %g", (long long)s0.batches, (long long)s0.images,
              s0.wait_share);
    int steps = (int)lpt_loader_steps_per_epoch(L) + 1, images = 0;
    for (int k = 0; k < steps; k++) {
        LptLoaderBatch b;
        if (!oc_expect(oc, lpt_loader_next(L, &b, &err) == LPT_OK, "stats next", "%s", err.message))
            break;
        images += b.part[0].count + b.part[1].count;
        sleep_ms(20); /* the "trainer" */
    }
    lpt_loader_stats(L, &s);
    size_t bytes = 0;
    for (int i = 0; i < set->n; i++)
        bytes += (size_t)set->w[i] * set->h[i] * set->c[i];
    oc_expect(oc, s.batches == steps && s.images == images, "stats counts",
              "batches %lld (want %d), images %lld (want %d)", (long long)s.batches, steps,
              (long long)s.images, images);
    oc_expect(oc,
              s.wait_seconds >= 0 && s.wait_seconds <= s.elapsed_seconds &&
                  s.elapsed_seconds >= (steps - 1) * 0.019 && s.transform_seconds > 0 &&
                  s.decode_seconds > 0 &&
                  fabs(s.wait_share - s.wait_seconds / s.elapsed_seconds) < 1e-12,
              "stats times", "wait %g elapsed %g transform %g decode %g share %g", s.wait_seconds,
              s.elapsed_seconds, s.transform_seconds, s.decode_seconds, s.wait_share);
    /* a 20 ms trainer on tiny images: the workers keep ahead */
    oc_expect(oc, s.wait_share < 0.5, "stats: prefetch keeps ahead", "wait share %g", s.wait_share);
    /* a full epoch has passed every image through the instance part: all cached */
    oc_expect(oc, s.cached_images == set->n && s.cached_bytes == bytes && s.decoded >= set->n,
              "stats cache", "cached %lld images / %zu bytes (want %d / %zu), decoded %lld",
              (long long)s.cached_images, s.cached_bytes, set->n, bytes, (long long)s.decoded);
    lpt_loader_free(L);

    /* no trainer, no cache, one worker on bigger images: the trainer side waits */
    Set big;
    if (!oc_expect(oc, set_make(&big, 24, 2, 2), "stats: big set", "cannot write images")) {
        set_free(&big);
        return;
    }
    config_for(&cfg, &big, 2, LPT_LOADER_TRAIN, LPT_SAMPLER_INSTANCE, 8, 8);
    cfg.cache_bytes = 0;
    cfg.workers = 1;
    L = lpt_loader_new(oc->be, &cfg, &err);
    for (int k = 0; L && k < 6; k++) {
        LptLoaderBatch b;
        lpt_loader_next(L, &b, &err);
    }
    lpt_loader_stats(L, &s);
    oc_expect(oc, L && s.batches == 6 && s.wait_seconds > 0 && s.wait_share > 0, "stats wait",
              "batches %lld wait %g share %g", (long long)s.batches, s.wait_seconds, s.wait_share);
    lpt_loader_free(L);
    set_free(&big);
}

/* ---- errors and shutdown ----------------------------------------------------------------- */

static void test_missing_file(OpCheck *oc)
{
    Set set;
    if (!oc_expect(oc, set_make(&set, 40, 4, 2), "missing: set", "cannot write images")) {
        set_free(&set);
        return;
    }
    /* which image the 6th step (step 5) brings first: a sampler over the same class lists */
    int64_t *members[4];
    int64_t counts[4] = {0};
    for (int c = 0; c < 4; c++)
        members[c] = malloc(10 * sizeof(int64_t));
    for (int i = 0; i < 40; i++)
        members[i % 4][counts[i % 4]++] = i;
    LptError err = {0};
    LptSampler *sm = lpt_sampler_new(LPT_SAMPLER_INSTANCE, (const int64_t *const *)members, counts,
                                     4, 4, 1234, &err);
    int64_t victim = -1;
    for (int k = 0; sm && k < 6; k++) {
        LptSamplerBatch sb;
        lpt_sampler_next(sm, &sb, &err);
        victim = sb.ib_images[0];
    }
    lpt_sampler_free(sm);
    for (int c = 0; c < 4; c++)
        free(members[c]);
    if (!oc_expect(oc, victim >= 0, "missing: sampler", "%s", err.message)) {
        set_free(&set);
        return;
    }
    unlink(set.paths[victim]); /* deleted since import */

    /* workers x prefetch, and a pause that lets the workers run ahead of the trainer: the
     * failing step may finish before the steps ahead of it, which must still come first */
    static const int setups[][3] = {{2, 3, 0}, {4, 8, 50}, {1, 1, 0}};
    LptLoaderConfig cfg;
    LptLoader *L = NULL;
    LptLoaderBatch b;
    LptStatus st = LPT_OK;
    for (int k = 0; k < 3; k++) {
        config_for(&cfg, &set, 4, LPT_LOADER_TRAIN, LPT_SAMPLER_INSTANCE, 4, 8);
        cfg.workers = setups[k][0], cfg.prefetch = setups[k][1], cfg.cache_bytes = 0;
        L = lpt_loader_new(oc->be, &cfg, &err);
        if (!oc_expect(oc, L != NULL, "missing: loader", "%s", err.message))
            continue;
        sleep_ms(setups[k][2]);
        int ok_steps = 0;
        while (ok_steps < 10 && (st = lpt_loader_next(L, &b, &err)) == LPT_OK)
            ok_steps++;
        oc_expect(oc,
                  ok_steps == 5 && st != LPT_OK && strstr(err.message, set.paths[victim]) &&
                      strstr(err.message, "step 5") && b.parts == 0,
                  "missing file mid-epoch",
                  "setup %d: %d steps before the error (want 5); status %d; '%s'", k, ok_steps,
                  (int)st, err.message);
        LptError again = {0};
        LptStatus st2 = lpt_loader_next(L, &b, &again);
        oc_expect(oc, st2 == st && strcmp(again.message, err.message) == 0, "missing: sticky",
                  "second call: %d '%s'", (int)st2, again.message);
        lpt_loader_free(L); /* must join the workers: a hang ends the test by alarm */
    }

    /* a corrupt file in an eval pass: batch 0 fine, batch 1 fails naming it */
    FILE *f = fopen(set.paths[5], "wb");
    fputs("P5\n28 28\n255\nshort", f);
    fclose(f);
    config_for(&cfg, &set, 4, LPT_LOADER_EVAL, LPT_SAMPLER_INSTANCE, 4, 8);
    L = lpt_loader_new(oc->be, &cfg, &err);
    st = L ? lpt_loader_next(L, &b, &err) : LPT_ERR_INVALID_ARGUMENT;
    oc_expect(oc, st == LPT_OK, "corrupt: batch before", "%s", err.message);
    st = L ? lpt_loader_next(L, &b, &err) : LPT_OK;
    oc_expect(oc, st != LPT_OK && strstr(err.message, set.paths[5]), "corrupt file",
              "status %d, '%s'", (int)st, err.message);
    lpt_loader_free(L);
    set_free(&set);
}

static void test_shutdown(OpCheck *oc)
{
    Set set;
    if (!oc_expect(oc, set_make(&set, 48, 4, 2), "shutdown: set", "cannot write images")) {
        set_free(&set);
        return;
    }
    LptLoaderConfig cfg;
    config_for(&cfg, &set, 4, LPT_LOADER_TRAIN, LPT_SAMPLER_DUAL, 16, 32);
    cfg.prefetch = 4, cfg.workers = 2, cfg.cache_bytes = 40000; /* some cached, some not */
    int made = 0;
    for (int round = 0; round < 12; round++) {
        LptError err = {0};
        LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
        if (!L)
            continue;
        made++;
        LptLoaderBatch b;
        for (int k = 0; k < round % 4; k++)
            lpt_loader_next(L, &b, &err);
        if (round % 3 == 2)
            sleep_ms(30); /* workers blocked on a full queue */
        double t0 = now_s();
        lpt_loader_free(L);
        oc_expect(oc, now_s() - t0 < 10.0, "shutdown time", "free took %g s", now_s() - t0);
    }
    oc_expect(oc, made == 12, "shutdown loaders", "%d of 12 made", made);
    lpt_loader_free(NULL);
    set_free(&set);
}

static void test_bad_config(OpCheck *oc, const Set *set)
{
    static const char *needles[] = {"backend",  "batch size",    "label", "no path", "input size",
                                    "prefetch", "multiple of 4", "scale", "std",     "workers"};
    for (int k = 0; k < 10; k++) {
        LptLoaderConfig cfg;
        config_for(&cfg, set, 3, LPT_LOADER_TRAIN, LPT_SAMPLER_DUAL, 8, 16);
        int32_t labels[64];
        const char *paths[64];
        memcpy(labels, set->labels, (size_t)set->n * sizeof *labels);
        memcpy(paths, set->paths, (size_t)set->n * sizeof *paths);
        cfg.labels = labels;
        cfg.paths = paths;
        switch (k) {
        case 1:
            cfg.batch_size = 0;
            break;
        case 2:
            labels[3] = 3;
            break;
        case 3:
            paths[2] = NULL;
            break;
        case 4:
            cfg.input_size = 0;
            break;
        case 5:
            cfg.prefetch = 0;
            break;
        case 6:
            cfg.batch_size = 6;
            break;
        case 7:
            cfg.augment.scale_min = 0;
            break;
        case 8:
            cfg.std[1] = 0;
            break;
        case 9:
            cfg.workers = -1;
            break;
        default:
            break;
        }
        LptError err = {0};
        LptLoader *L = lpt_loader_new(k == 0 ? NULL : oc->be, &cfg, &err);
        oc_expect(oc, !L && err.code == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, needles[k]),
                  "bad config", "case %d: loader %p, code %d, '%s' (want '%s')", k, (void *)L,
                  (int)err.code, err.message, needles[k]);
        lpt_loader_free(L);
    }
    LptError err = {0};
    LptLoaderBatch b;
    oc_expect(oc, lpt_loader_next(NULL, &b, &err) == LPT_ERR_INVALID_ARGUMENT, "next(NULL)", "%s",
              err.message);
}

/* ---- benchmark --------------------------------------------------------------------------- */

static bool write_png_gray(const char *path, int id)
{
    uint8_t px[28 * 28];
    uint32_t r = (uint32_t)id * 2654435761u + 1;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            r = r * 1664525u + 1013904223u;
            int v = (x - 14) * (x - 14) + (y - 14) * (y - 14) < 120 ? 180 : 20;
            px[y * 28 + x] = (uint8_t)(v + (r >> 28));
        }
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = 28;
    im.height = 28;
    im.format = PNG_FORMAT_GRAY;
    return png_image_write_to_file(&im, path, 0, px, 0, NULL) != 0;
}

static int bench(OpCheck *oc)
{
    enum { N = 10000, K = 10 };
    char dir[] = "/tmp/lpt-bench-loader-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char **paths = calloc(N, sizeof *paths);
    int32_t *labels = calloc(N, sizeof *labels);
    for (int i = 0; i < N; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%05d.png", dir, i);
        paths[i] = strdup(name);
        labels[i] = i % K;
        if (!write_png_gray(name, i))
            return 1;
    }
    static const struct {
        LptSamplerKind kind;
        int batch;
        size_t cache;
        double trainer_ms;
    } runs[] = {
        {LPT_SAMPLER_INSTANCE, 256, 0, 0},
        {LPT_SAMPLER_INSTANCE, 256, 0, 5},
        {LPT_SAMPLER_DUAL, 128, 0, 5},
        {LPT_SAMPLER_DUAL, 256, 0, 5},
        {LPT_SAMPLER_DUAL, 256, (size_t)256 << 20, 0},
        {LPT_SAMPLER_DUAL, 256, (size_t)256 << 20, 5},
    };
    printf("loader benchmark: %d 28x28 gray PNGs, S = 32, prefetch 2, workers auto, "
           "backend %s\n",
           N, oc->backend);
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        LptLoaderConfig cfg;
        lpt_loader_config_init(&cfg);
        cfg.count = N, cfg.paths = (const char *const *)paths, cfg.labels = labels;
        cfg.num_classes = K, cfg.sampler = runs[r].kind, cfg.batch_size = runs[r].batch;
        cfg.input_size = 32, cfg.cache_bytes = runs[r].cache;
        LptError err = {0};
        LptLoader *L = lpt_loader_new(oc->be, &cfg, &err);
        if (!L) {
            printf("loader: %s\n", err.message);
            return 1;
        }
        int epoch = (int)lpt_loader_steps_per_epoch(L), steps = epoch * (runs[r].cache ? 2 : 1);
        LptLoaderStats s, first;
        for (int k = 0; k < steps; k++) {
            if (k == epoch)
                lpt_loader_stats(L, &first);
            LptLoaderBatch b;
            if (lpt_loader_next(L, &b, &err) != LPT_OK) {
                printf("next: %s\n", err.message);
                return 1;
            }
            if (lpt_backend_sync(oc->be, &err) != LPT_OK)
                return 1;
            if (runs[r].trainer_ms > 0)
                sleep_ms(runs[r].trainer_ms);
        }
        lpt_loader_stats(L, &s);
        printf("  %-8s B=%3d cache %-4s trainer %.0f ms: %d steps, %lld images in %.2f s = "
               "%.0f images/s; waiting %.1f%% of step time (%.2f s), transform %.2f s, "
               "decode %.2f s (workers), %lld decoded\n",
               runs[r].kind == LPT_SAMPLER_DUAL ? "dual" : "instance", runs[r].batch,
               runs[r].cache ? "on" : "off", runs[r].trainer_ms, steps, (long long)s.images,
               s.elapsed_seconds, s.images / s.elapsed_seconds, 100.0 * s.wait_share,
               s.wait_seconds, s.transform_seconds, s.decode_seconds, (long long)s.decoded);
        if (steps > epoch) {
            double el = s.elapsed_seconds - first.elapsed_seconds;
            double wait = s.wait_seconds - first.wait_seconds;
            printf("    second epoch alone (all cached): %.0f images/s, waiting %.1f%%\n",
                   (s.images - first.images) / el, 100.0 * wait / el);
        }
        lpt_loader_free(L);
    }
    for (int i = 0; i < N; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
    rmdir(dir);
    free(paths), free(labels);
    return 0;
}

int main(int argc, char **argv)
{
    alarm(280); /* a hung worker join fails the test instead of stalling the suite */
    OpCheck oc;
    int rc = oc_init(&oc, argc, argv);
    if (rc != 0)
        return rc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--bench") == 0) {
            alarm(0);
            rc = bench(&oc);
            oc_finish(&oc, "test_loader --bench");
            return rc;
        }

    test_crop_transcription(&oc);
    test_box_statistics(&oc);
    test_eval_box(&oc);
    Set set;
    if (oc_expect(&oc, set_make(&set, 30, 3, 1), "image set", "cannot write images")) {
        test_train_batches(&oc, &set);
        test_bicubic_cut(&oc, &set);
        test_eval(&oc, &set);
        test_determinism_and_resume(&oc, &set);
        test_stats(&oc, &set);
        test_bad_config(&oc, &set);
    }
    set_free(&set);
    test_missing_file(&oc);
    test_shutdown(&oc);
    return oc_finish(&oc, "test_loader");
}

/* test_sampler.c: the host RNG (PCG32) and the instance, class-balanced and dual samplers.
 *
 * RNG: the reference pcg32-demo output, determinism, bounded draws without modulo bias,
 * floats in [0, 1), shuffles that give every order equally often (chi-square), bad input.
 * Samplers: steps per epoch, every image exactly once per epoch in the instance batches,
 * class-balanced batches (groups of 4 of one class, empty classes never drawn, class draws
 * within 1 of each other per epoch, each class's images in cycles with no repeat before the
 * cycle ends, frequencies equal over many epochs by chi-square), determinism for a seed,
 * dual = class-balanced + instance, resume from a saved state, bad input. Suite 'unit'. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_rng.h"
#include "lpt_sampler.h"
#include "test_check.h"

/* Chi-square of counts against equal expectation. */
static double chi_square(const int64_t *counts, int n)
{
    double total = 0, chi = 0;
    for (int i = 0; i < n; i++)
        total += (double)counts[i];
    double e = total / n;
    for (int i = 0; i < n; i++)
        chi += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
    return chi;
}

/* ---- RNG ---- */

static void check_rng(void)
{
    LptRng rng;
    lpt_rng_seed(&rng, 42, 54);
    const uint32_t want[6] = {0xa15c02b7u, 0x7b47f409u, 0xba1d3330u,
                              0x83d2f293u, 0xbfa4784bu, 0xcbed606eu};
    bool same = true;
    for (int i = 0; i < 6; i++)
        same = same && lpt_rng_u32(&rng) == want[i];
    expect(same, "rng: pcg32-demo reference output", "seed (42, 54) differs");

    LptRng a, b, c, d;
    lpt_rng_seed(&a, 7, 1);
    lpt_rng_seed(&b, 7, 1);
    lpt_rng_seed(&c, 8, 1);
    lpt_rng_seed(&d, 7, 2);
    int ab = 0, ac = 0, ad = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = lpt_rng_u32(&a);
        ab += x == lpt_rng_u32(&b);
        ac += x == lpt_rng_u32(&c);
        ad += x == lpt_rng_u32(&d);
    }
    expect(ab == 1000 && ac < 5 && ad < 5, "rng: seeds and streams",
           "same seed %d/1000 equal, other seed %d, other stream %d", ab, ac, ad);

    /* Saving is copying the struct. */
    LptRng saved = a;
    uint32_t x1 = lpt_rng_u32(&a);
    a = saved;
    expect(lpt_rng_u32(&a) == x1, "rng: state copy restores", "different draw");

    /* Bounds, and no modulo bias: with bound 3 * 2^30, r % bound on 32-bit draws would give
     * the values below 2^30 twice as often (1/2 of the draws); unbiased gives them 1/3. */
    lpt_rng_seed(&rng, 1, 1);
    const uint32_t bounds[] = {1, 2, 3, 7, 1000, 0x80000001u, 0xc0000000u, 0xffffffffu};
    int out_of_range = 0;
    for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++)
        for (int i = 0; i < 2000; i++)
            out_of_range += lpt_rng_below(&rng, bounds[k]) >= bounds[k];
    expect(out_of_range == 0 && lpt_rng_below(&rng, 0) == 0, "rng: below stays below",
           "%d draws out of range", out_of_range);
    int low = 0;
    for (int i = 0; i < 20000; i++)
        low += lpt_rng_below(&rng, 0xc0000000u) < 0x40000000u;
    expect(fabs(low / 20000.0 - 1.0 / 3.0) < 0.02, "rng: below has no modulo bias",
           "%.3f of draws below 2^30 (unbiased 0.333, biased 0.5)", low / 20000.0);
    int64_t counts7[7] = {0};
    for (int i = 0; i < 70000; i++)
        counts7[lpt_rng_below(&rng, 7)]++;
    double chi = chi_square(counts7, 7);
    expect(chi < 22.46, "rng: below(7) uniform", "chi-square %.2f, df 6, p=0.001 at 22.46", chi);

    /* Floats: in [0, 1), on the 2^-24 grid, mean 1/2. */
    double sum = 0;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        float f = lpt_rng_float(&rng);
        sum += f;
        bad += !(f >= 0.0f && f < 1.0f) || f * 16777216.0f != floorf(f * 16777216.0f);
    }
    expect(bad == 0 && fabs(sum / 100000.0 - 0.5) < 0.005, "rng: float in [0, 1)",
           "%d bad, mean %.4f", bad, sum / 100000.0);

    /* Shuffles: all 6 orders of 3 elements equally often; an odd element size kept whole. */
    int64_t orders[6] = {0};
    for (int i = 0; i < 60000; i++) {
        char v[3][3] = {"a1", "b2", "c3"};
        lpt_rng_shuffle(&rng, v, 3, sizeof v[0], NULL);
        int o = (v[0][0] - 'a') * 2 + (v[1][0] - 'a' > v[2][0] - 'a');
        bool whole = v[0][1] - v[0][0] == '1' - 'a' && v[1][1] - v[1][0] == '1' - 'a' &&
                     v[2][1] - v[2][0] == '1' - 'a';
        if (o < 0 || o > 5 || !whole) {
            orders[0] = -1000000;
            break;
        }
        orders[o]++;
    }
    chi = chi_square(orders, 6);
    expect(orders[0] > 0 && chi < 20.52, "rng: shuffle orders uniform",
           "chi-square %.2f (df 5, p=0.001 at 20.52), first count %lld", chi, (long long)orders[0]);

    LptError err = {0};
    int32_t one = 5;
    expect(lpt_rng_shuffle(&rng, NULL, 0, 4, &err) == LPT_OK &&
               lpt_rng_shuffle(&rng, &one, 1, sizeof one, &err) == LPT_OK && one == 5,
           "rng: shuffle of 0 and 1 elements", "%s", err.message);
    LptStatus st = lpt_rng_shuffle(&rng, NULL, 3, 4, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "no array"),
           "rng bad: shuffle without array", "%d '%s'", (int)st, err.message);
    if (sizeof(size_t) > 4) {
        st = lpt_rng_shuffle(&rng, &one, (size_t)UINT32_MAX + 1, sizeof one, &err);
        expect(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "more than") && one == 5,
               "rng bad: shuffle too long", "%d '%s'", (int)st, err.message);
    }
}

/* ---- samplers ---- */

/* Classes of 1, 2, 0, 3, 7, 40 and 200 images (N = 253); class c's image j is 1000c + j. */
#define NC 7
static const int64_t sizes[NC] = {1, 2, 0, 3, 7, 40, 200};
static int64_t image_store[NC][200];
static const int64_t *class_images[NC];

static void make_classes(void)
{
    for (int c = 0; c < NC; c++) {
        for (int64_t j = 0; j < sizes[c]; j++)
            image_store[c][j] = 1000 * c + j;
        class_images[c] = image_store[c];
    }
}

static int64_t total_size(void)
{
    int64_t n = 0;
    for (int c = 0; c < NC; c++)
        n += sizes[c];
    return n;
}

static LptSampler *make_sampler(LptSamplerKind kind, int32_t b, uint64_t seed)
{
    LptError err = {0};
    LptSampler *s = lpt_sampler_new(kind, class_images, sizes, NC, b, seed, &err);
    expect(s != NULL, "sampler new", "kind %d B %d: %s", (int)kind, (int)b, err.message);
    return s;
}

static void check_steps(void)
{
    /* N = 253: B = 16 -> 15 full + 13; B = 253 divides N. */
    LptSampler *d = make_sampler(LPT_SAMPLER_DUAL, 16, 1);
    LptSampler *i16 = make_sampler(LPT_SAMPLER_INSTANCE, 16, 1);
    LptSampler *i11 = make_sampler(LPT_SAMPLER_INSTANCE, 11, 1);
    LptSampler *c = make_sampler(LPT_SAMPLER_CLASS_BALANCED, 256, 1);
    if (!d || !i16 || !i11 || !c)
        goto done;
    expect(lpt_sampler_steps_per_epoch(d) == 16 && lpt_sampler_steps_per_epoch(i16) == 16 &&
               lpt_sampler_steps_per_epoch(i11) == 23 && lpt_sampler_steps_per_epoch(c) == 1,
           "steps per epoch", "dual B16 %lld, instance B16 %lld, instance B11 %lld, cb B256 %lld",
           (long long)lpt_sampler_steps_per_epoch(d), (long long)lpt_sampler_steps_per_epoch(i16),
           (long long)lpt_sampler_steps_per_epoch(i11), (long long)lpt_sampler_steps_per_epoch(c));
done:
    lpt_sampler_free(d);
    lpt_sampler_free(i16);
    lpt_sampler_free(i11);
    lpt_sampler_free(c);
}

/* Every image exactly once per epoch in the instance batches, labels right, sizes B then
 * the rest; for 3 epochs. */
static void check_instance_epochs(LptSamplerKind kind, int32_t b, const char *what)
{
    LptSampler *s = make_sampler(kind, b, 99);
    if (!s)
        return;
    int64_t n = total_size(), steps = lpt_sampler_steps_per_epoch(s);
    int seen[NC][200];
    int bad_count = 0, bad_label = 0, bad_once = 0, bad_meta = 0;
    int64_t first_of_epoch[3] = {0};
    for (int64_t e = 0; e < 3; e++) {
        memset(seen, 0, sizeof seen);
        for (int64_t k = 0; k < steps; k++) {
            LptSamplerBatch batch;
            lpt_sampler_next(s, &batch, NULL);
            int64_t want = n - k * b < b ? n - k * b : b;
            bad_count += batch.ib_count != want;
            bad_meta += batch.epoch != e || batch.step != k;
            for (int32_t j = 0; j < batch.ib_count; j++) {
                int64_t img = batch.ib_images[j];
                int c = (int)(img / 1000), i = (int)(img % 1000);
                bad_label += batch.ib_labels[j] != c;
                if (c >= 0 && c < NC && i < sizes[c])
                    seen[c][i]++;
            }
            if (k == 0)
                first_of_epoch[e] = batch.ib_images[0] * 1000003 + batch.ib_images[1];
        }
        for (int c = 0; c < NC; c++)
            for (int64_t i = 0; i < sizes[c]; i++)
                bad_once += seen[c][i] != 1;
    }
    expect(bad_count == 0 && bad_meta == 0, what, "%d batch sizes, %d epoch/step labels wrong",
           bad_count, bad_meta);
    expect(bad_once == 0 && bad_label == 0, what,
           "%d images not exactly once in an epoch, %d wrong labels", bad_once, bad_label);
    expect(first_of_epoch[0] != first_of_epoch[1] && first_of_epoch[1] != first_of_epoch[2], what,
           "epochs start with the same images: not reshuffled");
    lpt_sampler_free(s);
}

/* Dual with B dividing N: the last step has no instance images. */
static void check_dual_divisible(void)
{
    static int64_t imgs[64];
    const int64_t *arr[2] = {imgs, imgs + 60};
    const int64_t cnt[2] = {60, 4};
    for (int i = 0; i < 64; i++)
        imgs[i] = i;
    LptError err = {0};
    LptSampler *s = lpt_sampler_new(LPT_SAMPLER_DUAL, arr, cnt, 2, 16, 3, &err);
    if (!expect(s != NULL, "dual, B divides N", "%s", err.message))
        return;
    int64_t steps = lpt_sampler_steps_per_epoch(s), total = 0;
    LptSamplerBatch batch = {0};
    for (int64_t k = 0; k < steps; k++) {
        lpt_sampler_next(s, &batch, NULL);
        total += batch.ib_count;
    }
    expect(steps == 5 && batch.ib_count == 0 && batch.cb_count == 16 && total == 64,
           "dual, B divides N: last step class-balanced only",
           "%lld steps, last %d instance + %d class-balanced, %lld instance images",
           (long long)steps, batch.ib_count, batch.cb_count, (long long)total);
    lpt_sampler_free(s);
}

/* Class-balanced batches within each epoch: groups of 4 of one class, the empty class never,
 * class draws within 1 of each other, each class's images in cycles. */
static void check_class_balanced_epochs(LptSamplerKind kind, int32_t b, const char *what)
{
    LptSampler *s = make_sampler(kind, b, 2024);
    if (!s)
        return;
    int64_t steps = lpt_sampler_steps_per_epoch(s);
    int bad_group = 0, bad_label = 0, bad_spread = 0, bad_cycle = 0, bad_image_spread = 0;
    for (int e = 0; e < 5; e++) {
        int64_t class_draws[NC] = {0};
        static int64_t seq[NC][4096]; /* images of class c in draw order this epoch */
        int64_t nseq[NC] = {0};
        for (int64_t k = 0; k < steps; k++) {
            LptSamplerBatch batch;
            lpt_sampler_next(s, &batch, NULL);
            bad_group += batch.cb_count != b;
            for (int32_t j = 0; j < batch.cb_count; j++) {
                int64_t img = batch.cb_images[j];
                int c = (int)(img / 1000);
                bad_label += batch.cb_labels[j] != c || c < 0 || c >= NC || img % 1000 >= sizes[c];
                bad_group += batch.cb_labels[j] != batch.cb_labels[j - j % 4];
                if (j % 4 == 0 && c >= 0 && c < NC)
                    class_draws[c]++;
                if (c >= 0 && c < NC && nseq[c] < 4096)
                    seq[c][nseq[c]++] = img % 1000;
            }
        }
        int64_t lo = INT64_MAX, hi = 0;
        for (int c = 0; c < NC; c++) {
            if (sizes[c] == 0) {
                bad_spread += class_draws[c] != 0;
                continue;
            }
            lo = class_draws[c] < lo ? class_draws[c] : lo;
            hi = class_draws[c] > hi ? class_draws[c] : hi;
            /* cycles: each run of sizes[c] draws from a cycle start holds no repeat */
            int64_t img_draws[200] = {0};
            for (int64_t start = 0; start < nseq[c]; start += sizes[c]) {
                unsigned char used[200] = {0};
                for (int64_t t = start; t < start + sizes[c] && t < nseq[c]; t++) {
                    bad_cycle += used[seq[c][t]]++ != 0;
                    img_draws[seq[c][t]]++;
                }
            }
            int64_t ilo = INT64_MAX, ihi = 0;
            for (int64_t i = 0; i < sizes[c]; i++) {
                ilo = img_draws[i] < ilo ? img_draws[i] : ilo;
                ihi = img_draws[i] > ihi ? img_draws[i] : ihi;
            }
            bad_image_spread += ihi - ilo > 1;
        }
        bad_spread += hi - lo > 1;
    }
    expect(bad_group == 0 && bad_label == 0, what,
           "%d batches not B or groups of 4 mixed, %d wrong labels", bad_group, bad_label);
    expect(bad_spread == 0, what,
           "%d epochs with class draws apart by more than 1 (or the "
           "empty class drawn)",
           bad_spread);
    expect(bad_cycle == 0 && bad_image_spread == 0, what,
           "%d repeats inside a cycle, %d classes with image draws apart by more than 1", bad_cycle,
           bad_image_spread);
    lpt_sampler_free(s);
}

/* Over 300 epochs, classes are drawn equally (chi-square, df 5, and max deviation 3%), and
 * the 200 images of the big class equally (chi-square, df 199). A sampler that drew classes
 * by their size, or images with replacement, fails these. */
static void check_class_balanced_frequencies(void)
{
    LptSampler *s = make_sampler(LPT_SAMPLER_CLASS_BALANCED, 32, 5);
    if (!s)
        return;
    int64_t draws[NC] = {0}, big[200] = {0};
    int64_t steps = 300 * lpt_sampler_steps_per_epoch(s);
    for (int64_t k = 0; k < steps; k++) {
        LptSamplerBatch batch;
        lpt_sampler_next(s, &batch, NULL);
        for (int32_t j = 0; j < batch.cb_count; j++) {
            int c = batch.cb_labels[j];
            if (j % 4 == 0)
                draws[c]++;
            if (c == 6)
                big[batch.cb_images[j] % 1000]++;
        }
    }
    int64_t nonempty[NC - 1];
    int k = 0;
    for (int c = 0; c < NC; c++)
        if (c != 2)
            nonempty[k++] = draws[c];
    double chi = chi_square(nonempty, NC - 1), mean = 0, dev = 0;
    for (int c = 0; c < NC - 1; c++)
        mean += (double)nonempty[c] / (NC - 1);
    for (int c = 0; c < NC - 1; c++)
        dev = fmax(dev, fabs((double)nonempty[c] / mean - 1.0));
    expect(draws[2] == 0 && chi < 20.52 && dev < 0.03, "class-balanced: classes equally often",
           "chi-square %.2f (df 5, p=0.001 at 20.52), max deviation %.4f, empty class %lld", chi,
           dev, (long long)draws[2]);
    double chi_big = chi_square(big, 200);
    expect(chi_big < 267.0, "class-balanced: a class's images equally often",
           "chi-square %.1f (df 199, p=0.001 at 267)", chi_big);
    lpt_sampler_free(s);
}

static bool batches_equal(const LptSamplerBatch *x, const LptSamplerBatch *y)
{
    return x->epoch == y->epoch && x->step == y->step && x->cb_count == y->cb_count &&
           x->ib_count == y->ib_count &&
           memcmp(x->cb_images, y->cb_images, (size_t)x->cb_count * sizeof(int64_t)) == 0 &&
           memcmp(x->cb_labels, y->cb_labels, (size_t)x->cb_count * sizeof(int32_t)) == 0 &&
           memcmp(x->ib_images, y->ib_images, (size_t)x->ib_count * sizeof(int64_t)) == 0 &&
           memcmp(x->ib_labels, y->ib_labels, (size_t)x->ib_count * sizeof(int32_t)) == 0;
}

static void check_determinism(void)
{
    LptSampler *a = make_sampler(LPT_SAMPLER_DUAL, 16, 77);
    LptSampler *b = make_sampler(LPT_SAMPLER_DUAL, 16, 77);
    LptSampler *c = make_sampler(LPT_SAMPLER_DUAL, 16, 78);
    if (!a || !b || !c)
        goto done;
    int64_t steps = 3 * lpt_sampler_steps_per_epoch(a);
    int differ_ab = 0, same_ac_cb = 0, same_ac_ib = 0;
    for (int64_t k = 0; k < steps; k++) {
        LptSamplerBatch x, y, z;
        lpt_sampler_next(a, &x, NULL);
        lpt_sampler_next(b, &y, NULL);
        lpt_sampler_next(c, &z, NULL);
        differ_ab += !batches_equal(&x, &y);
        same_ac_cb += memcmp(x.cb_images, z.cb_images, (size_t)x.cb_count * 8) == 0;
        same_ac_ib += memcmp(x.ib_images, z.ib_images, (size_t)x.ib_count * 8) == 0;
    }
    expect(differ_ab == 0, "determinism: same seed, same batches", "%d of %lld steps differ",
           differ_ab, (long long)steps);
    expect(same_ac_cb == 0 && same_ac_ib == 0, "determinism: another seed, other batches",
           "%d class-balanced and %d instance batches equal", same_ac_cb, same_ac_ib);
done:
    lpt_sampler_free(a);
    lpt_sampler_free(b);
    lpt_sampler_free(c);
}

/* Dual's two batches are those of a class-balanced and an instance sampler. */
static void check_dual_parts(void)
{
    LptSampler *d = make_sampler(LPT_SAMPLER_DUAL, 16, 31);
    LptSampler *c = make_sampler(LPT_SAMPLER_CLASS_BALANCED, 16, 31);
    LptSampler *i = make_sampler(LPT_SAMPLER_INSTANCE, 16, 31);
    if (!d || !c || !i)
        goto done;
    int64_t steps = 2 * lpt_sampler_steps_per_epoch(d);
    int bad = 0;
    for (int64_t k = 0; k < steps; k++) {
        LptSamplerBatch x, y, z;
        lpt_sampler_next(d, &x, NULL);
        lpt_sampler_next(c, &y, NULL);
        lpt_sampler_next(i, &z, NULL);
        bad += x.cb_count != y.cb_count || x.ib_count != z.ib_count || y.ib_count != 0 ||
               z.cb_count != 0 || memcmp(x.cb_images, y.cb_images, (size_t)x.cb_count * 8) != 0 ||
               memcmp(x.ib_images, z.ib_images, (size_t)x.ib_count * 8) != 0;
    }
    expect(bad == 0, "dual = class-balanced + instance", "%d of %lld steps differ", bad,
           (long long)steps);
done:
    lpt_sampler_free(d);
    lpt_sampler_free(c);
    lpt_sampler_free(i);
}

/* Save after 37 steps (across an epoch end), restore into a fresh sampler, compare 40 more;
 * also epoch-boundary state, and refused states that leave the sampler as it was. */
static void check_resume(LptSamplerKind kind, const char *what)
{
    LptSampler *a = make_sampler(kind, 16, 123);
    LptSampler *b = make_sampler(kind, 16, 9); /* another seed: the state carries the seed */
    LptSampler *other = make_sampler(kind, 20, 123);
    if (!a || !b || !other)
        goto done;
    int64_t steps = lpt_sampler_steps_per_epoch(a);
    LptSamplerBatch x, y;
    LptSamplerState st;
    for (int64_t k = 0; k < steps; k++)
        lpt_sampler_next(a, &x, NULL);
    lpt_sampler_get_state(a, &st);
    expect(st.epoch == 1 && st.step == 0 && st.seed == 123, what,
           "after one epoch the state is epoch %lld step %lld", (long long)st.epoch,
           (long long)st.step);
    for (int64_t k = steps; k < 37; k++)
        lpt_sampler_next(a, &x, NULL);
    lpt_sampler_get_state(a, &st);
    LptError err = {0};
    LptStatus status = lpt_sampler_set_state(b, &st, &err);
    int differ = 0;
    for (int k = 0; k < 40; k++) {
        lpt_sampler_next(a, &x, NULL);
        lpt_sampler_next(b, &y, NULL);
        differ += !batches_equal(&x, &y);
    }
    expect(status == LPT_OK && differ == 0, what,
           "restored sampler differs in %d of 40 steps "
           "(%s)",
           differ, err.message);

    /* A state for other data or another B is refused, and the sampler goes on unchanged. */
    LptSamplerState st_other;
    lpt_sampler_get_state(other, &st_other);
    lpt_sampler_get_state(a, &st);
    status = lpt_sampler_set_state(a, &st_other, &err);
    bool refused = status == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "fingerprint");
    LptSamplerState bad = st;
    bad.step = steps;
    status = lpt_sampler_set_state(a, &bad, &err);
    refused = refused && status == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "out of range");
    bad = st;
    bad.epoch = -1;
    refused = refused && lpt_sampler_set_state(a, &bad, &err) == LPT_ERR_INVALID_ARGUMENT;
    lpt_sampler_set_state(b, &st, NULL);
    lpt_sampler_next(a, &x, NULL);
    lpt_sampler_next(b, &y, NULL);
    expect(refused && batches_equal(&x, &y), what,
           "bad states: refused %d, sampler unchanged %d ('%s')", (int)refused,
           (int)batches_equal(&x, &y), err.message);
done:
    lpt_sampler_free(a);
    lpt_sampler_free(b);
    lpt_sampler_free(other);
}

static void expect_new_fails(LptSamplerKind kind, const int64_t *const *imgs, const int64_t *counts,
                             int32_t nc, int32_t b, const char *needle, const char *what)
{
    LptError err = {0};
    LptSampler *s = lpt_sampler_new(kind, imgs, counts, nc, b, 1, &err);
    expect(!s && err.code == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, needle), what,
           "sampler %p, message '%s' (want one containing '%s')", (void *)s, err.message, needle);
    lpt_sampler_free(s);
}

static void check_bad_input(void)
{
    expect_new_fails(LPT_SAMPLER_CLASS_BALANCED, class_images, sizes, NC, 30, "multiple of 4",
                     "bad: class-balanced B = 30");
    expect_new_fails(LPT_SAMPLER_DUAL, class_images, sizes, NC, 6, "multiple of 4",
                     "bad: dual B = 6");
    LptSampler *ok = lpt_sampler_new(LPT_SAMPLER_INSTANCE, class_images, sizes, NC, 30, 1, NULL);
    expect(ok != NULL, "instance B = 30 is fine", "refused");
    lpt_sampler_free(ok);
    expect_new_fails(LPT_SAMPLER_DUAL, class_images, sizes, 0, 16, "0 classes",
                     "bad: zero classes");
    expect_new_fails(LPT_SAMPLER_DUAL, NULL, sizes, NC, 16, "no image arrays",
                     "bad: no image arrays");
    const int64_t zeros[3] = {0, 0, 0};
    const int64_t *none[3] = {NULL, NULL, NULL};
    expect_new_fails(LPT_SAMPLER_DUAL, none, zeros, 3, 16, "no training images",
                     "bad: classes without images");
    expect_new_fails(LPT_SAMPLER_DUAL, class_images, sizes, NC, 0, "batch size 0", "bad: B = 0");
    expect_new_fails(LPT_SAMPLER_INSTANCE, class_images, sizes, NC, LPT_SAMPLER_MAX_BATCH + 1,
                     "not in [1,", "bad: B too large");
    expect_new_fails((LptSamplerKind)9, class_images, sizes, NC, 16, "unknown kind",
                     "bad: unknown kind");
    const int64_t neg_count[2] = {3, -1};
    expect_new_fails(LPT_SAMPLER_DUAL, class_images, neg_count, 2, 16, "class 1 has -1",
                     "bad: negative count");
    const int64_t two[2] = {1, 2};
    const int64_t *missing[2] = {class_images[0], NULL};
    expect_new_fails(LPT_SAMPLER_DUAL, missing, two, 2, 16, "class 1 has 2 images but no",
                     "bad: count without array");
    static const int64_t neg_img[2] = {4, -7};
    const int64_t *with_neg[2] = {class_images[0], neg_img};
    expect_new_fails(LPT_SAMPLER_DUAL, with_neg, two, 2, 16, "class 1 image 1 is -7",
                     "bad: negative image index");

    LptError err = {0};
    LptSamplerBatch batch;
    expect(lpt_sampler_next(NULL, &batch, &err) == LPT_ERR_INVALID_ARGUMENT &&
               lpt_sampler_steps_per_epoch(NULL) == 0,
           "bad: no sampler", "'%s'", err.message);
    lpt_sampler_free(NULL);
}

int main(void)
{
    check_rng();
    make_classes();
    check_steps();
    check_instance_epochs(LPT_SAMPLER_INSTANCE, 16, "instance: each image once per epoch");
    check_instance_epochs(LPT_SAMPLER_INSTANCE, 253, "instance: one batch of all");
    check_instance_epochs(LPT_SAMPLER_DUAL, 16, "dual: instance half, each image once");
    check_dual_divisible();
    check_class_balanced_epochs(LPT_SAMPLER_CLASS_BALANCED, 16, "class-balanced per epoch");
    check_class_balanced_epochs(LPT_SAMPLER_DUAL, 32, "dual: class-balanced half per epoch");
    check_class_balanced_epochs(LPT_SAMPLER_CLASS_BALANCED, 64, "class-balanced, B/4 > classes");
    check_class_balanced_frequencies();
    check_determinism();
    check_dual_parts();
    check_resume(LPT_SAMPLER_DUAL, "resume dual");
    check_resume(LPT_SAMPLER_CLASS_BALANCED, "resume class-balanced");
    check_resume(LPT_SAMPLER_INSTANCE, "resume instance");
    check_bad_input();
    printf("test_sampler: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* lpt_cpu_image.c: image_transform_forward on the CPU: crop + resize + flip + gray->RGB +
 * normalise of u8 HWC images into float NCHW, the input pipeline of every training and
 * evaluation batch.
 *
 * Sampling (the same on both backends; lpt_ops.h says what it means for torchvision's
 * transforms, tests/test_ops_image.c checks it against a double reference):
 *   scale_x = w / out_w (float; exactly 1 when w == out_w), ox' = flip ? out_w - 1 - ox : ox,
 *   sx = x0 + ((ox' + 0.5) * scale_x - 0.5)          (align_corners = false, in float)
 *   and rows alike without the mirror; i = floor(sx), t = sx - i;
 *   bilinear taps i, i+1 with weights 1-t, t; bicubic taps i-1..i+2 with Keys' weights,
 *   a = -0.75, as PyTorch's upsample_bicubic2d writes them; every tap index is clamped to
 *   [0, src_w - 1] (rows to [0, src_h - 1]), i.e. the image border is replicated. For
 *   bilinear this equals clamping sx itself, as PyTorch does; for bicubic it is PyTorch's
 *   index clamping. No antialiasing; bicubic values may overshoot [0, 255] (float results,
 *   as F.interpolate on a float tensor, not rounded to u8).
 *   out[b, c] = v * (1 / (255 std[c])) + (-mean[c] / std[c]), both factors rounded to float
 *   from double; a gray source feeds all three channels. At t = 0 the weights are exactly
 *   (1, 0) or (0, 1, 0, 0), so the full box at the source size copies pixels exactly.
 *
 * Scheme: the per-column taps and weights of every image are computed once (flip folded in)
 * on the calling thread; the pool then takes contiguous ranges of output rows (b, oy), 4 per
 * thread, each with its own preallocated scratch row. Each output row interpolates
 * vertically over the image's used column span into the scratch row (all source channels),
 * then horizontally from the column table: 2 + 2 taps (bilinear) or 4 + 4 (bicubic) per
 * value instead of 4 or 16 for a direct 2D sum, in the same order as the shader sums.
 */
#include "lpt_cpu.h"

#include <math.h>
#include <stdlib.h>

#define MAX_TAPS 4

/* Taps (clamped indices) and weights of one output coordinate: 2 (bilinear) or 4. `pos` is
 * the unclamped source coordinate; a non-finite pos gives NaN weights (and so NaN outputs)
 * with in-range indices. */
static void taps_at(float pos, int n, bool bicubic, int *idx, float *w)
{
    float fl = floorf(pos);
    float t = pos - fl;
    /* beyond these bounds every tap clamps to the same edge, so clamping first is exact and
     * keeps the float -> int conversion defined (NaN becomes -4) */
    int i = (int)fminf(fmaxf(fl, -4.0f), (float)n + 4.0f);
    int count = bicubic ? 4 : 2;
    int first = bicubic ? i - 1 : i;
    if (bicubic) {
        const float a = -0.75f;
        float x1 = t + 1.0f, x2 = 1.0f - t, x3 = 2.0f - t;
        w[0] = ((a * x1 - 5.0f * a) * x1 + 8.0f * a) * x1 - 4.0f * a;
        w[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
        w[2] = ((a + 2.0f) * x2 - (a + 3.0f)) * x2 * x2 + 1.0f;
        w[3] = ((a * x3 - 5.0f * a) * x3 + 8.0f * a) * x3 - 4.0f * a;
    } else {
        w[0] = 1.0f - t;
        w[1] = t;
    }
    for (int k = 0; k < count; k++) {
        int j = first + k;
        idx[k] = j < 0 ? 0 : (j >= n ? n - 1 : j);
    }
}

typedef struct ImageJob {
    const LptImageShape *s;
    float *out;
    const uint8_t *src;
    const float *boxes;
    int taps;
    const int *col_idx;  /* [B, out_w, taps]: (source column - col_lo) * src_channels */
    const float *col_w;  /* [B, out_w, taps] */
    const int *col_lo;   /* [B]: first source column any tap of the image reads */
    const int *col_span; /* [B]: number of columns from col_lo that taps read */
    float *scratch;      /* [slots, max_span * src_channels]: one row per slot */
    size_t slot_floats;
    size_t rows, slots; /* rows = B * out_h, split into `slots` contiguous parts */
    float norm_a[3], norm_b[3];
} ImageJob;

/* Vertical pass: row[x] = sum over taps of wy[k] * p[k][x], x < n (all channels). */
static void vertical(float *restrict row, const uint8_t *const *p, const float *wy, int taps, int n)
{
    const uint8_t *restrict p0 = p[0], *restrict p1 = p[1];
    const float w0 = wy[0], w1 = wy[1];
    if (taps == 2) {
        for (int x = 0; x < n; x++)
            row[x] = w0 * (float)p0[x] + w1 * (float)p1[x];
        return;
    }
    const uint8_t *restrict p2 = p[2], *restrict p3 = p[3];
    const float w2 = wy[2], w3 = wy[3];
    for (int x = 0; x < n; x++)
        row[x] = w0 * (float)p0[x] + w1 * (float)p1[x] + w2 * (float)p2[x] + w3 * (float)p3[x];
}

/* Horizontal pass of one output row from the column table (ci: offsets into row, already
 * times C), normalised into the three channel planes o[0..2]. Always inlined so that each
 * (taps, C) call below is compiled with constant loop bounds. */
static inline __attribute__((always_inline)) void
horizontal(float *restrict o0, float *restrict o1, float *restrict o2, const float *restrict row,
           const int *restrict ci, const float *restrict cw, int out_w, int taps, int C,
           const float *na, const float *nb)
{
    for (int ox = 0; ox < out_w; ox++, ci += taps, cw += taps) {
        float v0 = 0.0f, v1 = 0.0f, v2 = 0.0f;
        for (int k = 0; k < taps; k++) {
            const float *q = row + ci[k];
            v0 += cw[k] * q[0];
            if (C == 3) {
                v1 += cw[k] * q[1];
                v2 += cw[k] * q[2];
            }
        }
        if (C == 1)
            v1 = v2 = v0;
        o0[ox] = v0 * na[0] + nb[0];
        o1[ox] = v1 * na[1] + nb[1];
        o2[ox] = v2 * na[2] + nb[2];
    }
}

/* Slots [begin, end): each slot is a contiguous range of the flattened (b, oy) output rows;
 * the chunk runs them with the scratch row of its first slot. */
static void image_rows(void *ctx, size_t begin, size_t end)
{
    const ImageJob *j = ctx;
    const LptImageShape *s = j->s;
    const int C = s->src_channels, taps = j->taps, ow = s->out_w;
    const bool bicubic = s->interp == LPT_INTERP_BICUBIC;
    const size_t plane = (size_t)s->out_h * ow;
    float *row = j->scratch + begin * j->slot_floats;
    size_t r_end = end * j->rows / j->slots;
    for (size_t r = begin * j->rows / j->slots; r < r_end; r++) {
        int b = (int)(r / (size_t)s->out_h), oy = (int)(r % (size_t)s->out_h);
        const float *box = j->boxes + (size_t)b * 5;
        float scale = box[3] / (float)s->out_h;
        int yi[MAX_TAPS];
        float wy[MAX_TAPS];
        taps_at(box[1] + (((float)oy + 0.5f) * scale - 0.5f), s->src_h, bicubic, yi, wy);

        const int lo = j->col_lo[b];
        const uint8_t *img = j->src + (size_t)b * s->src_h * s->src_w * C;
        const uint8_t *p[MAX_TAPS] = {NULL};
        for (int k = 0; k < taps; k++)
            p[k] = img + ((size_t)yi[k] * s->src_w + lo) * C;
        vertical(row, p, wy, taps, j->col_span[b] * C);

        const int *ci = j->col_idx + (size_t)b * ow * taps;
        const float *cw = j->col_w + (size_t)b * ow * taps;
        float *o = j->out + (size_t)b * 3 * plane + (size_t)oy * ow;
        float *o1 = o + plane, *o2 = o + 2 * plane;
        const float *na = j->norm_a, *nb = j->norm_b;
        if (taps == 2 && C == 1)
            horizontal(o, o1, o2, row, ci, cw, ow, 2, 1, na, nb);
        else if (taps == 2)
            horizontal(o, o1, o2, row, ci, cw, ow, 2, 3, na, nb);
        else if (C == 1)
            horizontal(o, o1, o2, row, ci, cw, ow, 4, 1, na, nb);
        else
            horizontal(o, o1, o2, row, ci, cw, ow, 4, 3, na, nb);
    }
}

LptStatus lpt_cpu_image_transform_forward(LptBackend *be, const LptTensor *out,
                                          const LptTensor *src, const LptTensor *boxes,
                                          const LptImageShape *s, LptError *err)
{
    const bool bicubic = s->interp == LPT_INTERP_BICUBIC;
    const int taps = bicubic ? 4 : 2;
    const float *bx = lpt_cpu_f32(boxes);
    size_t n_col = (size_t)s->batch * s->out_w * taps;
    int *col_idx = malloc(n_col * sizeof *col_idx);
    float *col_w = malloc(n_col * sizeof *col_w);
    int *col_lo = malloc((size_t)s->batch * 2 * sizeof *col_lo);
    if (!col_idx || !col_w || !col_lo) {
        free(col_idx), free(col_w), free(col_lo);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "image_transform_forward: out of host memory for %zu column taps",
                             n_col);
    }
    int *col_span = col_lo + s->batch;

    /* column tables (flip folded in), then make indices relative to the used span */
    int max_span = 1;
    for (int b = 0; b < s->batch; b++) {
        const float *box = bx + (size_t)b * 5;
        float scale = box[2] / (float)s->out_w;
        bool flip = box[4] != 0.0f;
        int *ci = col_idx + (size_t)b * s->out_w * taps;
        float *cw = col_w + (size_t)b * s->out_w * taps;
        int lo = s->src_w - 1, hi = 0;
        for (int ox = 0; ox < s->out_w; ox++) {
            int ux = flip ? s->out_w - 1 - ox : ox;
            int *idx = ci + (size_t)ox * taps;
            taps_at(box[0] + (((float)ux + 0.5f) * scale - 0.5f), s->src_w, bicubic, idx,
                    cw + (size_t)ox * taps);
            for (int k = 0; k < taps; k++) {
                lo = idx[k] < lo ? idx[k] : lo;
                hi = idx[k] > hi ? idx[k] : hi;
            }
        }
        for (size_t k = 0; k < (size_t)s->out_w * taps; k++)
            ci[k] = (ci[k] - lo) * s->src_channels;
        col_lo[b] = lo;
        col_span[b] = hi - lo + 1;
        max_span = col_span[b] > max_span ? col_span[b] : max_span;
    }

    size_t rows = (size_t)s->batch * s->out_h;
    size_t slots = (size_t)lpt_cpu_threads(be) * 4;
    slots = slots < rows ? slots : rows;
    size_t slot_floats = (size_t)max_span * s->src_channels;
    float *scratch = malloc(slots * slot_floats * sizeof *scratch);
    if (!scratch) {
        free(col_idx), free(col_w), free(col_lo);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "image_transform_forward: out of host memory for %zu row buffers",
                             slots);
    }
    ImageJob job = {.s = s,
                    .out = lpt_cpu_f32(out),
                    .src = lpt_cpu_u8(src),
                    .boxes = bx,
                    .taps = taps,
                    .col_idx = col_idx,
                    .col_w = col_w,
                    .col_lo = col_lo,
                    .col_span = col_span,
                    .scratch = scratch,
                    .slot_floats = slot_floats,
                    .rows = rows,
                    .slots = slots};
    for (int c = 0; c < 3; c++) {
        job.norm_a[c] = (float)(1.0 / (255.0 * (double)s->std[c]));
        job.norm_b[c] = (float)(-(double)s->mean[c] / (double)s->std[c]);
    }
    lpt_cpu_parallel_for(be, slots, 1, image_rows, &job);
    free(col_idx), free(col_w), free(col_lo), free(scratch);
    return LPT_OK;
}

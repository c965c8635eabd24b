/* lpt_cpu_model.c: the model-assembly ops on the CPU: patch rows (im2col for the patch
 * embedding), the token embedding (class token + position embeddings), the adapter's scaled
 * add (forward, backward) and the one-hot matrix of selected indices.
 *
 * patchify and embed run one task per output row; scaled_add splits its n values into at most
 * SUM_CHUNKS fixed chunks whose partial sums of dout * b are kept per chunk and added in chunk
 * order, so ds does not depend on which thread ran which chunk.
 */
#include "lpt_cpu.h"

#include <string.h>

#define GRAIN 16384
#define SUM_CHUNKS 256
#define SUM_MIN_CHUNK 4096

/* ---- patchify ---------------------------------------------------------------------------- */

typedef struct PatchCtx {
    float *out;
    const float *img;
    int channels, height, width, patch;
    int grid_w, patches; /* W / p, N */
} PatchCtx;

/* Tasks are output rows (b, patch): copies p values per (c, ky). */
static void patchify_task(void *ctx, size_t begin, size_t end)
{
    const PatchCtx *c = ctx;
    size_t p = (size_t)c->patch, row_len = (size_t)c->channels * p * p;
    for (size_t r = begin; r < end; r++) {
        size_t b = r / (size_t)c->patches, n = r % (size_t)c->patches;
        size_t py = n / (size_t)c->grid_w, px = n % (size_t)c->grid_w;
        float *dst = c->out + r * row_len;
        for (size_t ch = 0; ch < (size_t)c->channels; ch++) {
            const float *plane = c->img + (b * c->channels + ch) * c->height * c->width;
            for (size_t ky = 0; ky < p; ky++) {
                memcpy(dst, plane + (py * p + ky) * c->width + px * p, p * sizeof *dst);
                dst += p;
            }
        }
    }
}

LptStatus lpt_cpu_patchify_forward(LptBackend *be, const LptTensor *out, const LptTensor *images,
                                   int batch, int channels, int height, int width, int patch,
                                   LptError *err)
{
    PatchCtx c = {lpt_cpu_f32(out), lpt_cpu_f32(images), channels, height, width, patch,
                  width / patch, (height / patch) * (width / patch)};
    size_t rows = (size_t)batch * c.patches;
    size_t row_len = (size_t)channels * patch * patch;
    lpt_cpu_parallel_for(be, rows, GRAIN / row_len + 1, patchify_task, &c);
    return LPT_OK;
}

/* ---- embed -------------------------------------------------------------------------------- */

typedef struct EmbedCtx {
    float *x;
    const float *cls, *pos;
    int tokens, c;
} EmbedCtx;

/* Tasks are rows (b, t) of x. */
static void embed_task(void *ctx, size_t begin, size_t end)
{
    const EmbedCtx *e = ctx;
    size_t c = (size_t)e->c;
    for (size_t r = begin; r < end; r++) {
        size_t t = r % (size_t)e->tokens;
        float *x = e->x + r * c;
        const float *pos = e->pos + t * c;
        if (t == 0 && e->cls) {
            for (size_t i = 0; i < c; i++)
                x[i] = e->cls[i] + pos[i];
        } else {
            for (size_t i = 0; i < c; i++)
                x[i] += pos[i];
        }
    }
}

LptStatus lpt_cpu_embed_forward(LptBackend *be, const LptTensor *x, const LptTensor *cls,
                                const LptTensor *pos, int batch, int tokens, int c,
                                LptError *err)
{
    EmbedCtx e = {lpt_cpu_f32(x), lpt_cpu_f32(cls), lpt_cpu_f32(pos), tokens, c};
    lpt_cpu_parallel_for(be, (size_t)batch * tokens, GRAIN / (size_t)c + 1, embed_task, &e);
    return LPT_OK;
}

/* ---- scaled add --------------------------------------------------------------------------- */

typedef struct ScaledCtx {
    float *out;
    const float *a, *b;
    float s;
    size_t n, chunk;
    double partial[SUM_CHUNKS]; /* backward: sum of dout * b per chunk */
} ScaledCtx;

static void scaled_add_task(void *ctx, size_t begin, size_t end)
{
    ScaledCtx *c = ctx;
    for (size_t i = begin; i < end; i++)
        c->out[i] = c->a[i] + c->s * c->b[i];
}

LptStatus lpt_cpu_scaled_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                                     const LptTensor *b, const LptTensor *s, size_t n,
                                     LptError *err)
{
    ScaledCtx c = {.out = lpt_cpu_f32(out), .a = lpt_cpu_f32(a), .b = lpt_cpu_f32(b),
                   .s = lpt_cpu_f32(s)[0], .n = n};
    lpt_cpu_parallel_for(be, n, GRAIN, scaled_add_task, &c);
    return LPT_OK;
}

/* Tasks are chunks: db = s * dout over the chunk (a = dout here) and, when wanted, the
 * chunk's sum of dout * b in double. */
static void scaled_add_bwd_task(void *ctx, size_t begin, size_t end)
{
    ScaledCtx *c = ctx;
    for (size_t k = begin; k < end; k++) {
        size_t lo = k * c->chunk, hi = lo + c->chunk < c->n ? lo + c->chunk : c->n;
        double acc = 0.0;
        if (c->b) {
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f; /* float lanes, double per chunk */
            size_t i = lo;
            for (; i + 4 <= hi; i += 4) {
                s0 += c->a[i] * c->b[i];
                s1 += c->a[i + 1] * c->b[i + 1];
                s2 += c->a[i + 2] * c->b[i + 2];
                s3 += c->a[i + 3] * c->b[i + 3];
            }
            for (; i < hi; i++)
                s0 += c->a[i] * c->b[i];
            acc = (double)s0 + (double)s1 + (double)s2 + (double)s3;
        }
        c->partial[k] = acc;
        for (size_t i = lo; i < hi; i++)
            c->out[i] = c->s * c->a[i];
    }
}

LptStatus lpt_cpu_scaled_add_backward(LptBackend *be, const LptTensor *db, const LptTensor *ds,
                                      const LptTensor *dout, const LptTensor *b,
                                      const LptTensor *s, size_t n, LptError *err)
{
    ScaledCtx c = {.out = lpt_cpu_f32(db), .a = lpt_cpu_f32(dout),
                   .b = ds ? lpt_cpu_f32(b) : NULL, .s = lpt_cpu_f32(s)[0], .n = n};
    c.chunk = (n + SUM_CHUNKS - 1) / SUM_CHUNKS;
    if (c.chunk < SUM_MIN_CHUNK)
        c.chunk = SUM_MIN_CHUNK;
    size_t chunks = (n + c.chunk - 1) / c.chunk;
    lpt_cpu_parallel_for(be, chunks, 1, scaled_add_bwd_task, &c);
    if (ds) {
        double total = 0.0;
        for (size_t k = 0; k < chunks; k++)
            total += c.partial[k];
        lpt_cpu_f32(ds)[0] += (float)total;
    }
    return LPT_OK;
}

/* ---- one-hot ------------------------------------------------------------------------------ */

typedef struct OnehotCtx {
    float *out;
    const int32_t *idx;
    int n, k;
    float value;
} OnehotCtx;

static void onehot_task(void *ctx, size_t begin, size_t end)
{
    const OnehotCtx *c = ctx;
    for (size_t r = begin; r < end; r++) {
        float *row = c->out + r * (size_t)c->n;
        memset(row, 0, (size_t)c->n * sizeof *row);
        for (int j = 0; j < c->k; j++) {
            int32_t m = c->idx[r * (size_t)c->k + (size_t)j];
            if (m >= 0 && m < c->n)
                row[m] += c->value;
        }
    }
}

LptStatus lpt_cpu_onehot_forward(LptBackend *be, const LptTensor *out, const LptTensor *indices,
                                 int rows, int n, int k, float value, LptError *err)
{
    OnehotCtx c = {lpt_cpu_f32(out), lpt_cpu_i32(indices), n, k, value};
    lpt_cpu_parallel_for(be, (size_t)rows, GRAIN / (size_t)n + 1, onehot_task, &c);
    return LPT_OK;
}

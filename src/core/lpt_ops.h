/* lpt_ops.h: every compute op LPT++ needs, the same on the CPU and the Vulkan backend.
 *
 * Conventions (as in llm.c):
 *  - argument order: backend, outputs, inputs, weights, sizes, err;
 *  - shape letters: B batch, T tokens, S keys, C width, H heads, D head dim, K classes,
 *    M pool entries, N row length; all row-major, the last index fastest;
 *  - `_forward` / `_backward` pairs; parameter gradients accumulate (+=), activation
 *    gradients assign (=); an optional gradient output may be NULL (frozen tensor);
 *  - every tensor's element count is checked against the sizes; too small is an error naming
 *    the op and the tensor, and nothing is computed;
 *  - outputs may not alias inputs unless the op says so.
 * Each function validates its arguments here, once, and then runs the backend's kernel
 * (lpt_cpu_<stem> or lpt_vk_<stem>, shader shaders/<stem>.comp).
 */
#ifndef LPT_OPS_H
#define LPT_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_tensor.h"

/* ---- GEMM ------------------------------------------------------------------------------ */

typedef struct LptGemmShape {
    int m, n, k;           /* C is m x n, op(A) m x k, op(B) k x n */
    bool trans_a, trans_b; /* A stored k x m / B stored n x k when set */
    int lda, ldb, ldc;     /* row strides in elements; 0 = packed (the natural width) */
    int batch;             /* >= 1 independent products */
    int64_t stride_a, stride_b, stride_c; /* batch strides in elements (0 = shared operand) */
    float alpha, beta;     /* C = alpha * op(A) op(B) + beta * C (+ bias) */
} LptGemmShape;

/* Fills s for a plain C[m,n] = A[m,k] B[k,n] (alpha 1, beta 0, one batch). */
void lpt_gemm_shape_init(LptGemmShape *s, int m, int n, int k, bool trans_a, bool trans_b);

/* c: [batch, m, n] (with ldc, stride_c); a, b as the shape says; bias: [n] or NULL, added to
 * every row after alpha/beta. */
LptStatus lpt_op_gemm_forward(LptBackend *be, const LptTensor *c, const LptTensor *a,
                              const LptTensor *b, const LptTensor *bias, const LptGemmShape *s,
                              LptError *err);

/* Gradients of gemm_forward with beta = 0: da = alpha dC op(B)^T (assigned, may be NULL),
 * db += alpha op(A)^T dC (accumulated, may be NULL), dbias += column sums of dC (may be NULL;
 * needs packed dC). da/db use the layouts (ld, stride, transposition) of a/b; a shared
 * operand (batch stride 0) gets the sum over the batch. Composed from gemm_forward and
 * bias_backward, so it is the same on both backends. */
LptStatus lpt_op_gemm_backward(LptBackend *be, const LptTensor *da, const LptTensor *db,
                               const LptTensor *dbias, const LptTensor *dc, const LptTensor *a,
                               const LptTensor *b, const LptGemmShape *s, LptError *err);

/* dbias[N] += sum over rows of dout[rows, N]. */
LptStatus lpt_op_bias_backward(LptBackend *be, const LptTensor *dbias, const LptTensor *dout,
                               int rows, int n, LptError *err);

/* ---- normalisation --------------------------------------------------------------------- */

/* out[rows, C] = (in - mean) * rstd * weight + bias; mean, rstd: [rows] saved for backward. */
LptStatus lpt_op_layernorm_forward(LptBackend *be, const LptTensor *out, const LptTensor *mean,
                                   const LptTensor *rstd, const LptTensor *in,
                                   const LptTensor *weight, const LptTensor *bias, int rows,
                                   int c, float eps, LptError *err);
/* din[rows, C] assigned; dweight[C], dbias[C] accumulated (NULL when frozen). */
LptStatus lpt_op_layernorm_backward(LptBackend *be, const LptTensor *din,
                                    const LptTensor *dweight, const LptTensor *dbias,
                                    const LptTensor *dout, const LptTensor *in,
                                    const LptTensor *mean, const LptTensor *rstd,
                                    const LptTensor *weight, int rows, int c, LptError *err);

/* out[rows, N] = in / max(||in||, 1e-12); norm[rows] = ||in|| saved for backward. */
LptStatus lpt_op_l2norm_forward(LptBackend *be, const LptTensor *out, const LptTensor *norm,
                                const LptTensor *in, int rows, int n, LptError *err);
LptStatus lpt_op_l2norm_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                 const LptTensor *out, const LptTensor *norm, int rows, int n,
                                 LptError *err);

/* ---- activations (elementwise over n values; out may alias in) ------------------------- */

/* GELU with erf: x * 0.5 * (1 + erf(x / sqrt 2)). */
LptStatus lpt_op_gelu_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                              size_t n, LptError *err);
LptStatus lpt_op_gelu_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                               const LptTensor *in, size_t n, LptError *err);
/* QuickGELU (CLIP): x * sigmoid(1.702 x). */
LptStatus lpt_op_quick_gelu_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                    size_t n, LptError *err);
LptStatus lpt_op_quick_gelu_backward(LptBackend *be, const LptTensor *din,
                                     const LptTensor *dout, const LptTensor *in, size_t n,
                                     LptError *err);
/* ReLU (adapter bottleneck). */
LptStatus lpt_op_relu_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                              size_t n, LptError *err);
LptStatus lpt_op_relu_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                               const LptTensor *in, size_t n, LptError *err);

/* Residual add: out = a + alpha * b over n values (out may alias a or b). Its backward is
 * the identity (and alpha * dout), so it has none. */
LptStatus lpt_op_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                             const LptTensor *b, float alpha, size_t n, LptError *err);

/* ---- softmax and attention ------------------------------------------------------------- */

/* out[rows, N] = softmax(scale * in) per row. */
LptStatus lpt_op_softmax_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 int rows, int n, float scale, LptError *err);
/* din = scale * out * (dout - sum(dout * out)) per row. */
LptStatus lpt_op_softmax_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptTensor *out, int rows, int n, float scale,
                                  LptError *err);

typedef struct LptAttentionShape {
    int batch, heads, head_dim; /* B, H, D; the width C = H * D */
    int q_len, kv_len;          /* T queries over S keys (S = T + P with prompt rows) */
    int ld_q, ld_kv, ld_out;    /* row strides in elements (0 = packed C) */
    int64_t bs_q, bs_kv, bs_out; /* batch strides in elements (0 = packed rows * ld) */
    bool causal;                /* key s visible to query t only when s <= t */
    float scale;                /* usually 1 / sqrt(D) */
} LptAttentionShape;

/* Fills s for packed [B, T, C] queries over packed [B, S, C] keys/values. */
void lpt_attention_shape_init(LptAttentionShape *s, int batch, int heads, int head_dim,
                              int q_len, int kv_len);

/* out[B, T, C] = softmax(scale q k^T (+ causal mask)) v, per head (head h uses columns
 * h*D .. h*D+D-1); lse[B, H, T] = log-sum-exp of each score row, saved for backward.
 * q: [B, T, C]; k, v: [B, S, C] with the same ld_kv and bs_kv. */
LptStatus lpt_op_attention_forward(LptBackend *be, const LptTensor *out, const LptTensor *lse,
                                   const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                   const LptAttentionShape *s, LptError *err);
/* dq, dk, dv assigned, laid out like q, k, v (they may be column slices of one buffer). */
LptStatus lpt_op_attention_backward(LptBackend *be, const LptTensor *dq, const LptTensor *dk,
                                    const LptTensor *dv, const LptTensor *dout,
                                    const LptTensor *q, const LptTensor *k, const LptTensor *v,
                                    const LptTensor *out, const LptTensor *lse,
                                    const LptAttentionShape *s, LptError *err);

/* ---- classifier and loss --------------------------------------------------------------- */

/* Cosine classifier: logits[B, K] = <f_b, w_k> / (max(||f_b||, 1e-12) max(||w_k||, 1e-12)).
 * f: [B, C], w: [K, C]. */
LptStatus lpt_op_cosine_forward(LptBackend *be, const LptTensor *logits, const LptTensor *f,
                                const LptTensor *w, int batch, int classes, int c,
                                LptError *err);
/* df assigned (may be NULL); dw accumulated (may be NULL). */
LptStatus lpt_op_cosine_backward(LptBackend *be, const LptTensor *df, const LptTensor *dw,
                                 const LptTensor *dlogits, const LptTensor *f,
                                 const LptTensor *w, int batch, int classes, int c,
                                 LptError *err);

typedef struct LptAgclParams {
    int batch, classes;
    float gamma_pos, gamma_neg; /* focusing: 0/4 class-balanced batch, 0.5/8 instance batch */
    float scale;                /* 20 */
    float margin;               /* 0.1, subtracted from the target cosine */
    float noise;                /* 0.5: weight of the Gaussian cloud; 0 disables it */
    float smoothing;            /* 0.1 label smoothing */
    uint64_t seed;              /* noise = f(seed, step, sample, class): both backends agree */
    uint32_t step;
} LptAgclParams;

/* Fills p with method.md section 4's defaults for the given gammas. */
void lpt_agcl_params_init(LptAgclParams *p, int batch, int classes, float gamma_pos,
                          float gamma_neg);

/* A-GCL loss (method.md section 4). loss: [B] per-sample loss; cos: [B, K] cosine logits;
 * labels: [B] int32 in [0, K); margins: [K] m_k / max m (0 for the most frequent class).
 * Labels live on the device and are not checked here: a sample whose label is outside
 * [0, K) is skipped by both backends (loss 0, zero dcos row). */
LptStatus lpt_op_agcl_forward(LptBackend *be, const LptTensor *loss, const LptTensor *cos,
                              const LptTensor *labels, const LptTensor *margins,
                              const LptAgclParams *p, LptError *err);
/* dcos[B, K] = grad_scale * d loss_b / d cos (assigned); grad_scale is 1/B for the mean. */
LptStatus lpt_op_agcl_backward(LptBackend *be, const LptTensor *dcos, const LptTensor *cos,
                               const LptTensor *labels, const LptTensor *margins,
                               const LptAgclParams *p, float grad_scale, LptError *err);

/* The counter-based noise the loss uses: |clamp(N(0, (1/3)^2), -1, 1)| for one
 * (seed, step, sample, class). Exposed so that tests and references agree with both backends. */
float lpt_agcl_noise(uint64_t seed, uint32_t step, uint32_t sample, uint32_t cls);

/* ---- optimisers (in place on param and state) ------------------------------------------ */

/* v = momentum v + g + wd theta; theta -= lr v (method.md section 6). */
LptStatus lpt_op_sgd_update(LptBackend *be, const LptTensor *param, const LptTensor *velocity,
                            const LptTensor *grad, size_t n, float lr, float momentum,
                            float weight_decay, LptError *err);

/* AdamW (decoupled decay), step counted from 1 for bias correction. */
LptStatus lpt_op_adamw_update(LptBackend *be, const LptTensor *param, const LptTensor *m,
                              const LptTensor *v, const LptTensor *grad, size_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay,
                              int step, LptError *err);

/* ---- prompt pools and selection -------------------------------------------------------- */

/* out[B, E] = mean over j < k of pool[indices[b, j], E]; pool: [M, E]; indices: [B, k].
 * An index outside [0, M) is skipped: it adds nothing (the sum is still divided by k), reads
 * nothing and, in the backward, receives no gradient. */
LptStatus lpt_op_gather_mean_forward(LptBackend *be, const LptTensor *out,
                                     const LptTensor *pool, const LptTensor *indices,
                                     int batch, int k, int pool_size, int entry_size,
                                     LptError *err);
/* dpool[M, E] += scatter of dout / k (no atomics: each entry sums its own users). */
LptStatus lpt_op_gather_mean_backward(LptBackend *be, const LptTensor *dpool,
                                      const LptTensor *dout, const LptTensor *indices,
                                      int batch, int k, int pool_size, int entry_size,
                                      LptError *err);

/* The k largest values of each row of in[rows, N], descending (ties: lower index first;
 * -0 ties with +0; NaN ranks below -inf); values: [rows, k] float, indices: [rows, k] int32.
 * k <= 32 and k <= N. */
LptStatus lpt_op_topk_forward(LptBackend *be, const LptTensor *values, const LptTensor *indices,
                              const LptTensor *in, int rows, int n, int k, LptError *err);

/* ---- model assembly (ViT embedding, adapter scale, selection targets) ----------------- */

/* Patch rows for the patch-embedding GEMM (im2col of a p x p convolution with stride p):
 * out[B, N, Ch p p], N = (H / p)(W / p) patches in row-major order (py, px), each row in the
 * convolution weight's order (c, ky, kx):
 *   out[b, py (W / p) + px, (c p + ky) p + kx] = images[b, c, py p + ky, px p + kx].
 * images: [B, Ch, H, W] (NCHW); H and W must be multiples of p. */
LptStatus lpt_op_patchify_forward(LptBackend *be, const LptTensor *out, const LptTensor *images,
                                  int batch, int channels, int height, int width, int patch,
                                  LptError *err);

/* Token embedding, in place on x[B, T, C] (rows 1..T-1 of each image already hold the patch
 * embeddings): with a class token, x[b, 0] = cls + pos[0] and x[b, t] += pos[t] for t >= 1;
 * with cls NULL, x[b, t] += pos[t] for every t. pos: [T, C]; cls: [C] or NULL. Frozen
 * inputs only, so there is no backward. */
LptStatus lpt_op_embed_forward(LptBackend *be, const LptTensor *x, const LptTensor *cls,
                               const LptTensor *pos, int batch, int tokens, int c,
                               LptError *err);

/* out = a + s[0] * b over n values, with s a one-element device tensor (a learnable scale
 * such as the adapter's). out may alias a or b. */
LptStatus lpt_op_scaled_add_forward(LptBackend *be, const LptTensor *out, const LptTensor *a,
                                    const LptTensor *b, const LptTensor *s, size_t n,
                                    LptError *err);
/* db = s[0] * dout (assigned, required; may not alias dout or b); ds[0] += sum over n of
 * dout * b (accumulated; NULL when s is frozen). The gradient of a is dout itself. */
LptStatus lpt_op_scaled_add_backward(LptBackend *be, const LptTensor *db, const LptTensor *ds,
                                     const LptTensor *dout, const LptTensor *b,
                                     const LptTensor *s, size_t n, LptError *err);

/* out[rows, N] = value * (number of j < k with indices[r, j] == n): a (multi-)hot matrix, e.g.
 * the gradient of a loss on the cosines of the selected pool keys. indices: [rows, k] int32;
 * an index outside [0, N) adds nothing. */
LptStatus lpt_op_onehot_forward(LptBackend *be, const LptTensor *out, const LptTensor *indices,
                                int rows, int n, int k, float value, LptError *err);

/* ---- feature dropout ------------------------------------------------------------------- */

/* Inverted dropout with a counter-based mask, so both backends and a resumed run draw the
 * same mask: value (r, c) of a [rows, cols] tensor is kept iff u >= p, with u the top 24 bits
 * of Philox4x32-10 on the counter (r, c, step, LPT_DROPOUT_STREAM) under the key `seed`, over
 * 2^24 (lpt_dropout_keep); kept values are multiplied by 1 / (1 - p) (rounded to float once),
 * the others become 0. p in [0, 1); p = 0 copies. */
typedef struct LptDropoutParams {
    int rows, cols;
    float p;
    uint64_t seed;
    uint32_t step;
} LptDropoutParams;

#define LPT_DROPOUT_STREAM 0x64726f70u /* "drop": the counter's fourth word */

/* out = mask(in) / (1 - p). out may alias in. */
LptStatus lpt_op_dropout_forward(LptBackend *be, const LptTensor *out, const LptTensor *in,
                                 const LptDropoutParams *p, LptError *err);
/* din = mask(dout) / (1 - p), with the forward's parameters (the same mask). din may alias
 * dout. */
LptStatus lpt_op_dropout_backward(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                                  const LptDropoutParams *p, LptError *err);

/* Whether value (row, col) survives (the mask both backends use). */
bool lpt_dropout_keep(uint64_t seed, uint32_t step, uint32_t row, uint32_t col, float p);

/* ---- image preprocessing --------------------------------------------------------------- */

typedef enum LptInterp {
    LPT_INTERP_BILINEAR = 0,
    LPT_INTERP_BICUBIC = 1, /* a = -0.75, as PyTorch */
} LptInterp;

typedef struct LptImageShape {
    int batch;
    int src_h, src_w, src_channels; /* u8 source images [B, src_h, src_w, src_channels], 1 or 3 */
    int out_h, out_w;               /* float output [B, 3, out_h, out_w] (NCHW) */
    LptInterp interp;
    float mean[3], std[3];          /* out = (pixel / 255 - mean) / std per channel */
} LptImageShape;

/* Crop, resize, flip, normalise and gray->RGB in one pass, for the training augmentation and
 * the eval transform alike. src: [B, src_h, src_w, src_channels] packed u8 (HWC); boxes:
 * [B, 5] float per image: x0, y0, w, h of the source region (pixels, may be fractional or
 * reach outside the image) and flip (nonzero = mirror horizontally); out: [B, 3, out_h,
 * out_w]. Output pixel (ox, oy) samples the source at (align_corners = false)
 *   sx = x0 + ((ox' + 0.5) * w / out_w - 0.5),  ox' = flip ? out_w - 1 - ox : ox,
 *   sy = y0 + ((oy + 0.5) * h / out_h - 0.5),
 * bilinear (taps floor(s), floor(s) + 1) or bicubic (floor(s) - 1 .. floor(s) + 2, Keys'
 * a = -0.75, as PyTorch), every tap index clamped to the image (border replicated; for
 * bilinear the same as clamping s, as PyTorch does). No antialiasing, no rounding to u8
 * (bicubic may overshoot [0, 255]). out = (v / 255 - mean[c]) / std[c]; a gray source feeds
 * all three channels. The box (0, 0, src_w, src_h) at out = src size reproduces the
 * normalised source exactly.
 * Eval "resize to R x R, then centre-crop S" (R = 256, S = 224 for 224 inputs): one box
 * (c W/R, c H/R, S W/R, S H/R) with c the crop's integer offset ((R - S) / 2 = 16) is exact
 * up to float rounding: resize pixel X samples (X + 0.5) W/R - 0.5, the crop only shifts X
 * by c, and both clamp at the image's edges.
 * Random-resized crop: box = torchvision's integer crop (x0 = j, y0 = i, w, h) and its flip.
 * torchvision resizes the cropped image, clamping at the crop's edges; this op clamps at the
 * image's edges. They agree wherever all taps lie inside the box: always for bilinear
 * downscaling (w >= out_w, h >= out_h); upscaling, and bicubic in the outermost output rows
 * and columns, read the real pixels just outside the box instead of repeating its edge. */
LptStatus lpt_op_image_transform_forward(LptBackend *be, const LptTensor *out,
                                         const LptTensor *src, const LptTensor *boxes,
                                         const LptImageShape *s, LptError *err);

#endif

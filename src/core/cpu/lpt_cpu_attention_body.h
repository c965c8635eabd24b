/* lpt_cpu_attention_body.h: the vector code of lpt_cpu_attention.c, included there once per
 * vector width. Before each inclusion define:
 *   VW          floats per vector (4: baseline SSE2/NEON; 8: AVX2; 16: AVX-512), with 2 VW
 *               at most PAD;
 *   SFX(name)   this copy's name for `name` (e.g. name##_v8);
 *   TGT         the attribute compiling this copy's functions (LPT_CPU_AVX2, LPT_CPU_AVX512
 *               or nothing).
 * Everything here is static and suffixed, so the two copies do not collide; the inclusion
 * undefines the three macros at its end. Uses the AttnCtx and slot helpers of the .c file.
 *
 * Matrix products go through SFX(tile): one register tile of TILE_R rows by NB = 2 VW columns,
 * C = A B with A read through row and column strides (so the same kernel serves A and A^T)
 * and B from a packed buffer whose rows are padded to PAD floats; rows of A past the last
 * real one repeat it, and the caller ignores those rows of C.
 */

#define NB (2 * VW) /* columns of one register tile */

typedef float SFX(Fv) __attribute__((vector_size(VW * sizeof(float))));
typedef int32_t SFX(Iv) __attribute__((vector_size(VW * sizeof(float))));
#define FV SFX(Fv)
#define IV SFX(Iv)

TGT static inline FV SFX(load)(const float *p)
{
    FV v;
    memcpy(&v, p, sizeof v);
    return v;
}

TGT static inline void SFX(store)(float *p, FV v)
{
    memcpy(p, &v, sizeof v);
}

/* x in every lane (x - 0 is exactly x, even for -0, so this folds to a broadcast). */
TGT static inline FV SFX(splat)(float x)
{
    const FV zero = {0};
    return x - zero;
}

/* mask ? a : b per lane (mask lanes all ones or zero, as comparisons give). */
TGT static inline FV SFX(select)(IV mask, FV a, FV b)
{
    return (FV)((mask & (IV)a) | (~mask & (IV)b));
}

/* exp per lane for x <= 88 (shifted scores are <= 0): x < -87 (and -inf) gives 0, NaN stays
 * NaN. Cody-Waite reduction by ln 2 and Cephes' degree-6 polynomial (within 1e-7 relative). */
TGT static inline FV SFX(exp)(FV x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const FV zero = {0};
    IV under = x < -87.0f;
    x = SFX(select)(under, zero - 87.0f, x);
    FV k = x * 1.44269504088896341f + magic;
    FV n = k - magic;
    FV r = x - n * 0.693359375f + n * 2.12194440e-4f;
    FV p = zero + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    FV y = p * r * r + r + 1.0f;
    IV two_n = ((IV)k - (IV)(zero + magic) + 127) << 23; /* 2^n as float bits */
    return SFX(select)(under, zero, y * (FV)two_n);
}

/* Horizontal sum and (NaN-skipping) max of a vector. */
TGT static inline float SFX(hsum)(FV v)
{
    float s = 0.0f;
    for (int l = 0; l < VW; l++)
        s += v[l];
    return s;
}

TGT static inline float SFX(hmax)(FV v)
{
    float m = -INFINITY;
    for (int l = 0; l < VW; l++)
        m = v[l] > m ? v[l] : m;
    return m;
}

/* The register tile: for r < TILE_R and j < NB,
 *   c[r ldc + j] = sum over k < n of a[min(r, rows - 1) ars + k aks] b[k ldb + j]. */
TGT static void SFX(tile)(float *c, size_t ldc, const float *a, size_t ars, size_t aks,
                          const float *b, size_t ldb, size_t n, int rows)
{
    const float *a0 = a, *a1 = a + (size_t)(rows > 1 ? 1 : rows - 1) * ars;
    const float *a2 = a + (size_t)(rows > 2 ? 2 : rows - 1) * ars;
    const float *a3 = a + (size_t)(rows > 3 ? 3 : rows - 1) * ars;
    const float *a4 = a + (size_t)(rows > 4 ? 4 : rows - 1) * ars;
    const float *a5 = a + (size_t)(rows > 5 ? 5 : rows - 1) * ars;
    FV c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    FV c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (size_t k = 0; k < n; k++) {
        FV b0 = SFX(load)(b + k * ldb), b1 = SFX(load)(b + k * ldb + VW);
        size_t o = k * aks;
        FV x = SFX(splat)(a0[o]);
        c00 += x * b0;
        c01 += x * b1;
        x = SFX(splat)(a1[o]);
        c10 += x * b0;
        c11 += x * b1;
        x = SFX(splat)(a2[o]);
        c20 += x * b0;
        c21 += x * b1;
        x = SFX(splat)(a3[o]);
        c30 += x * b0;
        c31 += x * b1;
        x = SFX(splat)(a4[o]);
        c40 += x * b0;
        c41 += x * b1;
        x = SFX(splat)(a5[o]);
        c50 += x * b0;
        c51 += x * b1;
    }
    SFX(store)(c, c00);
    SFX(store)(c + VW, c01);
    SFX(store)(c + ldc, c10);
    SFX(store)(c + ldc + VW, c11);
    SFX(store)(c + 2 * ldc, c20);
    SFX(store)(c + 2 * ldc + VW, c21);
    SFX(store)(c + 3 * ldc, c30);
    SFX(store)(c + 3 * ldc + VW, c31);
    SFX(store)(c + 4 * ldc, c40);
    SFX(store)(c + 4 * ldc + VW, c41);
    SFX(store)(c + 5 * ldc, c50);
    SFX(store)(c + 5 * ldc + VW, c51);
}

/* c[TILE_R, 0 .. cols) (row stride ldc, cols a multiple of NB) = A B by tiles, A as in
 * SFX(tile) and B rows of ldb floats from column 0. */
TGT static void SFX(tiles)(float *c, size_t ldc, size_t cols, const float *a, size_t ars,
                           size_t aks, const float *b, size_t ldb, size_t n, int rows)
{
    for (size_t j = 0; j < cols; j += NB)
        SFX(tile)(c + j, ldc, a, ars, aks, b + j, ldb, n, rows);
}

/* ---- softmax rows ------------------------------------------------------------------------ */

/* y[0, n) = softmax(scale x) (y may be x). An all -inf row gives NaN (0 / 0). */
TGT static void SFX(softmax_row)(float *y, const float *x, size_t n, float scale)
{
    FV m = SFX(splat)(-INFINITY);
    size_t j = 0;
    for (; j + VW <= n; j += VW) {
        FV v = SFX(load)(x + j) * scale;
        SFX(store)(y + j, v);
        m = SFX(select)(v > m, v, m);
    }
    float mx = SFX(hmax)(m);
    for (; j < n; j++) {
        y[j] = scale * x[j];
        mx = y[j] > mx ? y[j] : mx;
    }
    FV acc = {0};
    for (j = 0; j + VW <= n; j += VW) {
        FV e = SFX(exp)(SFX(load)(y + j) - mx);
        SFX(store)(y + j, e);
        acc += e;
    }
    if (j < n) { /* the tail, padded with -inf (exp gives 0) */
        float t[VW];
        for (int l = 0; l < VW; l++)
            t[l] = j + (size_t)l < n ? y[j + (size_t)l] : -INFINITY;
        FV e = SFX(exp)(SFX(load)(t) - mx);
        memcpy(y + j, &e, (n - j) * sizeof *y);
        acc += e;
    }
    float inv = 1.0f / SFX(hsum)(acc);
    for (j = 0; j + VW <= n; j += VW)
        SFX(store)(y + j, SFX(load)(y + j) * inv);
    for (; j < n; j++)
        y[j] *= inv;
}

/* dx[0, n) = scale y (dy - sum(dy y)). */
TGT static void SFX(softmax_bwd_row)(float *dx, const float *dy, const float *y, size_t n,
                                     float scale)
{
    FV acc = {0};
    size_t j = 0;
    for (; j + VW <= n; j += VW)
        acc += SFX(load)(dy + j) * SFX(load)(y + j);
    float dot = SFX(hsum)(acc);
    for (; j < n; j++)
        dot += dy[j] * y[j];
    for (j = 0; j + VW <= n; j += VW)
        SFX(store)(dx + j, scale * SFX(load)(y + j) * (SFX(load)(dy + j) - dot));
    for (; j < n; j++)
        dx[j] = scale * y[j] * (dy[j] - dot);
}

TGT static void SFX(softmax_fwd_task)(void *ctx, size_t begin, size_t end)
{
    const SoftmaxCtx *c = ctx;
    for (size_t r = begin; r < end; r++)
        SFX(softmax_row)(c->out + r * c->n, c->in + r * c->n, c->n, c->scale);
}

TGT static void SFX(softmax_bwd_task)(void *ctx, size_t begin, size_t end)
{
    const SoftmaxCtx *c = ctx;
    for (size_t r = begin; r < end; r++)
        SFX(softmax_bwd_row)(c->out + r * c->n, c->dout + r * c->n, c->y + r * c->n, c->n,
                             c->scale);
}

/* ---- attention --------------------------------------------------------------------------- */

/* One row of scores x[0, vis) (padded: x has room up to vis rounded up to VW): x = exp(scale x
 * - m) with m the row's max; then x[vis, zero_to) = 0. Returns the row's sum of exp and
 * stores m in *max. */
TGT static float SFX(attn_row_exp)(float *x, size_t vis, size_t zero_to, float scale,
                                   float *max)
{
    size_t full = (vis + VW - 1) / VW * VW, j = 0;
    FV m = SFX(splat)(-INFINITY);
    for (; j + VW <= vis; j += VW) {
        FV v = SFX(load)(x + j) * scale;
        SFX(store)(x + j, v);
        m = SFX(select)(v > m, v, m);
    }
    if (j < vis) { /* the last vector: lanes past the visible keys get -inf (exp gives 0) */
        for (size_t l = j; l < full; l++)
            x[l] = l < vis ? x[l] * scale : -INFINITY;
        FV v = SFX(load)(x + j);
        m = SFX(select)(v > m, v, m);
    }
    float mx = SFX(hmax)(m); /* a NaN lane loses every comparison */
    FV acc = {0};
    for (j = 0; j < full; j += VW) {
        FV e = SFX(exp)(SFX(load)(x + j) - mx);
        SFX(store)(x + j, e);
        acc += e;
    }
    for (j = full; j < zero_to; j++)
        x[j] = 0.0f;
    *max = mx;
    return SFX(hsum)(acc);
}

/* Forward of (batch, head) pairs [begin, end): per pair, K^T and V packed into the slot; per
 * block of TILE_R queries, the scores by tiles, the softmax rows (kept unnormalised), P V by
 * tiles, and out = (P V) / rowsum. */
TGT static void SFX(attn_fwd_task)(void *ctx, size_t begin, size_t end)
{
    AttnCtx *c = ctx;
    const LptAttentionShape *s = c->s;
    const size_t T = (size_t)s->q_len, S = (size_t)s->kv_len, D = (size_t)s->head_dim;
    const size_t Sp = c->sp, Dp = c->dp;
    int slot = slot_claim(c);
    float *kt = c->scratch + (size_t)slot * c->slot_floats; /* [D, Sp] */
    float *vp = kt + D * Sp;                                  /* [S, Dp] */
    float *sc = vp + S * Dp;                                  /* [TILE_R, Sp] */
    float *ot = sc + TILE_R * Sp;                             /* [TILE_R, Dp] */
    for (size_t pair = begin; pair < end; pair++) {
        const float *q = c->q + head_at(s, pair, s->bs_q), *k = c->k + head_at(s, pair, s->bs_kv);
        const float *v = c->v + head_at(s, pair, s->bs_kv);
        float *out = c->o + head_at(s, pair, s->bs_out), *lse = c->lse + pair * T;
        pack_t(kt, Sp, k, (size_t)s->ld_kv, S, D);
        pack(vp, Dp, v, (size_t)s->ld_kv, S, D);
        for (size_t t0 = 0; t0 < T; t0 += TILE_R) {
            int rows = T - t0 < TILE_R ? (int)(T - t0) : TILE_R;
            size_t vmax = s->causal && t0 + (size_t)rows < S ? t0 + (size_t)rows : S;
            size_t cols = (vmax + NB - 1) / NB * NB;
            SFX(tiles)(sc, Sp, cols, q + t0 * (size_t)s->ld_q, (size_t)s->ld_q, 1, kt, Sp, D,
                       rows);
            float inv[TILE_R];
            for (int r = 0; r < rows; r++) {
                size_t t = t0 + (size_t)r, vis = s->causal ? t + 1 : S;
                float m, sum = SFX(attn_row_exp)(sc + (size_t)r * Sp, vis, vmax, s->scale, &m);
                inv[r] = 1.0f / sum;
                lse[t] = m + logf(sum);
            }
            SFX(tiles)(ot, Dp, Dp, sc, Sp, 1, vp, Dp, vmax, rows);
            for (int r = 0; r < rows; r++) {
                float *o = out + (t0 + (size_t)r) * (size_t)s->ld_out;
                const float *src = ot + (size_t)r * Dp;
                for (size_t d = 0; d < D; d++)
                    o[d] = src[d] * inv[r];
            }
        }
    }
    slot_release(c, slot);
}

/* Backward of pairs [begin, end). Per pair: K^T, V^T, K, Q and dO packed into the slot and
 * Di = rowsum(dO * O); per block of TILE_R queries: scores and dP = dO V^T by tiles, then one
 * pass making P = exp(scale scores - lse) and dS = P (dP - Di) (zero past the visible keys),
 * and dQ = scale dS K; after all blocks dV = P^T dO and dK = scale dS^T Q by tiles over the
 * key rows (reading P and dS by columns: the A operand's strides swapped). */
TGT static void SFX(attn_bwd_task)(void *ctx, size_t begin, size_t end)
{
    AttnCtx *c = ctx;
    const LptAttentionShape *s = c->s;
    const size_t T = (size_t)s->q_len, S = (size_t)s->kv_len, D = (size_t)s->head_dim;
    const size_t Sp = c->sp, Dp = c->dp, Tp = c->tp;
    const float scale = s->scale;
    int slot = slot_claim(c);
    float *kt = c->scratch + (size_t)slot * c->slot_floats; /* [D, Sp] */
    float *vt = kt + D * Sp;                                  /* [D, Sp] */
    float *kp = vt + D * Sp;                                  /* [S, Dp] */
    float *qp = kp + S * Dp;                                  /* [T, Dp] */
    float *dop = qp + T * Dp;                                 /* [T, Dp] */
    float *p = dop + T * Dp;                                  /* [Tp, Sp] */
    float *ds = p + Tp * Sp;                                  /* [Tp, Sp] */
    float *tmp = ds + Tp * Sp;                                /* [TILE_R, Dp] */
    float *di = tmp + TILE_R * Dp;                            /* [T] */
    for (size_t pair = begin; pair < end; pair++) {
        size_t oq = head_at(s, pair, s->bs_q), okv = head_at(s, pair, s->bs_kv);
        size_t oo = head_at(s, pair, s->bs_out);
        const float *lse = c->lse + pair * T;
        pack_t(kt, Sp, c->k + okv, (size_t)s->ld_kv, S, D);
        pack_t(vt, Sp, c->v + okv, (size_t)s->ld_kv, S, D);
        pack(kp, Dp, c->k + okv, (size_t)s->ld_kv, S, D);
        pack(qp, Dp, c->q + oq, (size_t)s->ld_q, T, D);
        pack(dop, Dp, c->dout + oo, (size_t)s->ld_out, T, D);
        for (size_t t = 0; t < T; t++) {
            const float *o = c->out + oo + t * (size_t)s->ld_out, *g = dop + t * Dp;
            float sum = 0.0f;
            for (size_t d = 0; d < D; d++)
                sum += g[d] * o[d];
            di[t] = sum;
        }
        for (size_t t0 = 0; t0 < T; t0 += TILE_R) {
            int rows = T - t0 < TILE_R ? (int)(T - t0) : TILE_R;
            size_t vmax = s->causal && t0 + (size_t)rows < S ? t0 + (size_t)rows : S;
            size_t cols = (vmax + NB - 1) / NB * NB;
            float *pb = p + t0 * Sp, *db = ds + t0 * Sp;
            SFX(tiles)(pb, Sp, cols, qp + t0 * Dp, Dp, 1, kt, Sp, D, rows);
            SFX(tiles)(db, Sp, cols, dop + t0 * Dp, Dp, 1, vt, Sp, D, rows);
            for (int r = 0; r < rows; r++) {
                size_t t = t0 + (size_t)r, vis = s->causal ? t + 1 : S;
                float *pr = pb + (size_t)r * Sp, *dr = db + (size_t)r * Sp;
                FV l = SFX(splat)(lse[t]), dd = SFX(splat)(di[t]);
                for (size_t j = 0; j < vis; j += VW) { /* lanes past vis are cleared below */
                    FV pv = SFX(exp)(SFX(load)(pr + j) * scale - l);
                    SFX(store)(pr + j, pv);
                    SFX(store)(dr + j, pv * (SFX(load)(dr + j) - dd));
                }
                if (vis < S) { /* causal: the dV and dK columns read up to S */
                    memset(pr + vis, 0, (S - vis) * sizeof *pr);
                    memset(dr + vis, 0, (S - vis) * sizeof *dr);
                }
            }
            SFX(tiles)(tmp, Dp, Dp, db, Sp, 1, kp, Dp, vmax, rows);
            for (int r = 0; r < rows; r++) {
                float *dq = c->dq + oq + (t0 + (size_t)r) * (size_t)s->ld_q;
                for (size_t d = 0; d < D; d++)
                    dq[d] = scale * tmp[(size_t)r * Dp + d];
            }
        }
        for (size_t s0 = 0; s0 < S; s0 += TILE_R) {
            int rows = S - s0 < TILE_R ? (int)(S - s0) : TILE_R;
            /* causal: queries before s0 see none of these keys */
            size_t t1 = s->causal ? (s0 < T ? s0 : T) : 0, n = T - t1;
            SFX(tiles)(tmp, Dp, Dp, p + t1 * Sp + s0, 1, Sp, dop + t1 * Dp, Dp, n, rows);
            for (int r = 0; r < rows; r++) {
                float *dv = c->dv + okv + (s0 + (size_t)r) * (size_t)s->ld_kv;
                memcpy(dv, tmp + (size_t)r * Dp, D * sizeof *dv);
            }
            SFX(tiles)(tmp, Dp, Dp, ds + t1 * Sp + s0, 1, Sp, qp + t1 * Dp, Dp, n, rows);
            for (int r = 0; r < rows; r++) {
                float *dk = c->dk + okv + (s0 + (size_t)r) * (size_t)s->ld_kv;
                for (size_t d = 0; d < D; d++)
                    dk[d] = scale * tmp[(size_t)r * Dp + d];
            }
        }
    }
    slot_release(c, slot);
}

#undef FV
#undef IV
#undef NB
#undef VW
#undef SFX
#undef TGT

/* lpt_block.h: the pre-LN transformer block that the ViT (lpt_vit.c) and CLIP's text tower
 * (lpt_clip_text.c) share -- its parameters, what one layer keeps for its backward, the
 * scratch every layer of a forward reuses, and the forward and backward of one block over the
 * ops of lpt_ops.h (so both backends run the same code). Internal to liblpt.
 *
 * Block i, shape letters B sequences, T rows each, C width, H heads, S = T + prompt rows keys:
 *   h = x + Proj(Attn(LN1(x)))        keys/values of [x; prompts]; causal: key s visible to
 *                                     query t iff s <= t
 *   x = h + FC2(act(FC1(LN2(h)))) + s Up(ReLU(Down(LN2(h))))      (adapter when R > 0)
 * Prompts (the ViT's, lpt_vit.h) act only as extra keys and values: K_p, V_p = LN1(prompt)
 * W_{k,v}^T + b_{k,v} are written after the T rows of each sequence (shared prompts, then the
 * sequence's group prompt, the mean of its selected pool entries).
 *
 * The last block feeds only one row of each sequence (the pooled row: the ViT's class token,
 * the text tower's end-of-text token), so it computes keys and values of every row but the
 * projection, MLP and adapter of the pooled rows alone, its output [B, C]:
 *   - not causal, pooled row 0 (the ViT): the query of row 0 only (one query per sequence);
 *   - causal (the text tower, pooled rows anywhere): attention of every row (the pooled row
 *     sees the keys before it), then the pooled rows of its output gathered.
 * Both are exact.
 *
 * Memory: the caller carves the tensors (lpt_block_layout_layer, lpt_block_layout_scratch) in
 * its own activation arena, with an LptCarver that can also only count bytes, so sizes and
 * layouts always agree.
 */
#ifndef LPT_BLOCK_H
#define LPT_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_error.h"
#include "lpt_tensor.h"
#include "lpt_vit.h"

#define LPT_PARAM_NAME_MAX 48

/* A named weight: its device tensor, its gradient when it has one (trainable tensors, and
 * every tensor of a model that trains all of them), whether it trains in the ViT's phases,
 * and whether it was ever uploaded. */
typedef struct LptParam {
    char name[LPT_PARAM_NAME_MAX];
    size_t count;
    LptTensor value;
    LptTensor grad; /* arena NULL: none */
    bool trainable;
    bool set;
} LptParam;

/* One block's weights (linear weights "out x in", as torch.nn.Linear). The ViT's extras are
 * NULL when absent (and always for the text tower). */
typedef struct LptBlockParams {
    LptParam *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    LptParam *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    LptParam *prompt;                                /* [P, C] shared prompts */
    LptParam *down_w, *down_b, *up_w, *up_b, *scale; /* adapter */
    LptParam *pool;                                  /* [M, P, C] group prompts */
} LptBlockParams;

/* The sizes of one forward. */
typedef struct LptBlockShape {
    int batch;     /* B */
    int tokens;    /* T rows per sequence */
    int width;     /* C */
    int heads;     /* H */
    int mlp;       /* MLP hidden width */
    int prompts;   /* P prompt rows per prompt kind (0: none) */
    int rank;      /* R adapter rank (0: none) */
    int pool_size; /* M group-prompt entries */
    int top_k;     /* entries averaged per sequence */
    float eps;     /* LayerNorm eps */
    LptVitAct act;
    bool causal;
} LptBlockShape;

/* What one layer's forward writes and, for a trained layer, its backward reads. Q rows: T, or
 * 1 in the last block. */
typedef struct LptLayerAct {
    LptTensor x_in;         /* [B, T, C] the layer's input (a view set by the forward) */
    LptTensor x_out;        /* [B, Q, C] trained layers: the output, owned */
    LptTensor mean1, rstd1; /* [B T] LN1 statistics */
    LptTensor qkv;          /* [B, S, 3C] q, k, v of the rows, then prompt k, v rows */
    LptTensor o_all;        /* [B, T, C] causal last block: the attention output of every row */
    LptTensor o, lse;       /* [B, Q, C] attention output (pooled), [B, H, T or Q] log-sum-exp */
    LptTensor h;            /* [B, Q, C] x + attention branch */
    LptTensor a2;           /* [B, Q, C] LN2(h) */
    LptTensor mean2, rstd2; /* [B Q] */
    LptTensor u;            /* [B, Q, MLP] FC1 output (activation input) */
    LptTensor d, r, e;      /* adapter: [B Q, R] down, ReLU(down), [B Q, C] up */
    LptTensor pmean, prstd; /* [P] LN1 statistics of the shared prompts */
    LptTensor gp;           /* [B, P, C] group prompts of this layer */
    LptTensor gmean, grstd; /* [B P] their LN1 statistics */
} LptLayerAct;

/* Buffers every layer of one forward and backward reuses, and the index tensors the caller
 * fills. Shapes for B sequences of T rows and S_max keys. */
typedef struct LptBlockScratch {
    LptTensor a1, tmp;  /* [B, T, C] LN1 output, projection output */
    LptTensor xc;       /* [B, C] the last block's input at the pooled rows */
    LptTensor g;        /* [B, T, MLP] activation output */
    LptTensor lnp, lgp; /* [P, C] LN1(prompts), [B P, C] LN1(group prompts) */
    LptTensor pool_idx; /* [B] i32, caller-filled: b T + the pooled row of sequence b */
    LptTensor sel_idx;  /* [B, top_k] i32 group-prompt choices (the ViT's; caller-owned) */
    /* backward */
    LptTensor dx, dh, da, dtmp, de; /* [B, T, C] */
    LptTensor dg, du;               /* [B, T, MLP] */
    LptTensor dd, dr;               /* [B T, R] */
    LptTensor dqkv;                 /* [B, S_max, 3C] */
    LptTensor ones;                 /* [B] of 1.0, caller-filled (prompt gradients) */
    LptTensor dkvsum, dlnp, dptmp;  /* [P, 2C], [P, C], [P, C] */
    LptTensor dlgp, dgp;            /* [B P, C] */
} LptBlockScratch;

/* Carves tensors out of an arena, or (arena NULL) only counts the bytes they need. */
typedef struct LptCarver {
    LptArena *arena;
    size_t bytes;
    LptStatus st;
    LptError *err;
} LptCarver;

/* Bytes `count` elements of `dtype` take in an arena (aligned to LPT_ARENA_ALIGN). */
size_t lpt_block_aligned_bytes(size_t count, LptDType dtype);

/* Carves (or counts) one tensor; count 0 leaves t empty. */
void lpt_carve(LptCarver *c, LptTensor *t, const char *name, LptDType dtype, size_t count);

/* The tensors of one layer with S keys: `last` for the last block, `keep_out` for trained
 * layers (the scratch layer that untrained layers share: last false, keep_out false, and
 * `causal_last` true when a causal last block may run in it). */
void lpt_block_layout_layer(LptCarver *c, LptLayerAct *A, const LptBlockShape *s, int S, bool last,
                            bool causal_last, bool prompts, bool group, bool keep_out);

/* The forward scratch (train false) or forward and backward scratch of a forward with at
 * most S_max keys; `adapters`, `prompt_grads` (phase 1's prompt gradients) and `group` say
 * which extras it needs. pool_idx is carved here; sel_idx and ones are not (caller's). */
void lpt_block_layout_scratch(LptCarver *c, LptBlockScratch *sc, const LptBlockShape *s, int S_max,
                              bool train, bool adapters, bool prompts, bool prompt_grads,
                              bool group);

/* One block: x_out = block(x_in) with the prompts / adapter / group prompt as asked. A
 * receives what backward needs (or is the shared scratch layer). x_out is [B, C] for the
 * last block (its pooled rows), else [B, T, C]. */
LptStatus lpt_block_forward(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                            LptBlockScratch *sc, LptLayerAct *A, const LptTensor *x_in,
                            const LptTensor *x_out, bool last, bool prompts, bool adapter,
                            bool group, LptError *err);

/* Backward of one block: sc->dx holds dL/dx_out on entry ([B, C] for the last block) and
 * dL/dx_in on return (when need_dx). train_shared: accumulate prompt and adapter gradients
 * (the ViT's phase 1); group: the layer had group prompts, whose pool gradients are
 * accumulated; full: accumulate the block's own weight gradients (no prompts, adapters or
 * groups then). The LN1 and activation outputs, which the forward left in scratch, are
 * recomputed for the weight gradients. */
LptStatus lpt_block_backward(LptBackend *be, const LptBlockShape *s, const LptBlockParams *p,
                             LptBlockScratch *sc, const LptLayerAct *A, bool last, bool prompts,
                             bool adapter, bool group, bool train_shared, bool full, bool need_dx,
                             LptError *err);

/* out[rows, n_out] = in[rows, n_in] W^T + bias (+ beta out), W [n_out, n_in]; bias may be
 * NULL. */
LptStatus lpt_block_linear(LptBackend *be, const LptTensor *out, const LptTensor *in,
                           const LptParam *w, const LptParam *bias, size_t rows, int n_out,
                           int n_in, float beta, LptError *err);
/* din[rows, n_in] = dout[rows, n_out] W (+ beta din): the input gradient of the linear. */
LptStatus lpt_block_linear_din(LptBackend *be, const LptTensor *din, const LptTensor *dout,
                               const LptParam *w, size_t rows, int n_out, int n_in, float beta,
                               LptError *err);
/* dW += dout^T in and db += column sums of dout (b may be NULL): the weight gradients. */
LptStatus lpt_block_linear_dw(LptBackend *be, const LptParam *w, const LptParam *b,
                              const LptTensor *dout, const LptTensor *in, size_t rows, int n_out,
                              int n_in, LptError *err);

#endif

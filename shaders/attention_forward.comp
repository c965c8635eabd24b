#version 450
// attention_forward.comp: fused attention forward (flash-attention style): no [T, S] matrix
// leaves the workgroup. A workgroup owns ROWS queries of one (batch, head) (grid-strided over
// query blocks in x and (batch, head) pairs in y), keeps its queries (pre-scaled by
// scale * log2 e) in shared memory, and streams K and V in tiles of COLS keys through shared
// memory with an online softmax in base 2: per row a running max m and sum l, the output
// accumulators rescaled by 2^(m_old - m_new) whenever the max grows. It writes
// out = acc / l and lse = (m + log2 l) ln 2. Under the causal mask key tiles past the
// block's last query are skipped.
#extension GL_GOOGLE_include_directive : require
#include "attention.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) writeonly buffer Lse { float lse_[]; };
layout(std430, binding = 2) readonly buffer Q { float q_[]; };
layout(std430, binding = 3) readonly buffer K { float k_[]; };
layout(std430, binding = 4) readonly buffer V { float v_[]; };

shared float qs[ROWS * DP];
shared float ks[COLS * DP];
shared float vs[COLS * DP];
shared float ps[ROWS * (COLS + 1)]; // scores, then probabilities of the tile

void main()
{
    const uint local = ROWS * TPR, tid = gl_LocalInvocationID.x;
    const uint r = tid / TPR, j = tid % TPR;
    const uint D = pc.head_dim, T = pc.q_len, S = pc.kv_len;
    const uint blocks = (T + ROWS - 1) / ROWS;
    for (uint pair = gl_WorkGroupID.y; pair < pc.batch * pc.heads; pair += gl_NumWorkGroups.y)
    for (uint qb = gl_WorkGroupID.x; qb < blocks; qb += gl_NumWorkGroups.x) {
        const uint b = pair / pc.heads, h = pair % pc.heads, q0 = qb * ROWS, t = q0 + r;
        const float qscale = pc.scale * LOG2E;
        barrier(); // the previous block is done with qs
        for (uint i = tid; i < ROWS * D; i += local) {
            uint rr = i / D, d = i % D;
            qs[rr * DP + d] = q0 + rr < T
                ? q_[lpt_at(pc.off_q, pc.bs_q, pc.ld_q, b, q0 + rr, h) + d] * qscale : 0.0;
        }
        float acc[DPT];
        for (uint i = 0; i < DPT; i++)
            acc[i] = 0.0;
        float m = NEG, l = 0.0;
        const uint kv_end = pc.causal != 0 ? min(S, q0 + ROWS) : S;
        for (uint c0 = 0; c0 < kv_end; c0 += COLS) {
            barrier(); // everyone is done with the previous tile
            for (uint i = tid; i < COLS * D; i += local) {
                uint cc = i / D, d = i % D;
                bool in_range = c0 + cc < S;
                uint at = lpt_at(pc.off_k, pc.bs_kv, pc.ld_kv, b, c0 + cc, h) + d;
                ks[cc * DP + d] = in_range ? k_[at] : 0.0;
                at = lpt_at(pc.off_v, pc.bs_kv, pc.ld_kv, b, c0 + cc, h) + d;
                vs[cc * DP + d] = in_range ? v_[at] : 0.0;
            }
            barrier();
            // scores of this invocation's keys c = j + i TPR (base-2 units)
            float sc[CPT];
            for (uint i = 0; i < CPT; i++)
                sc[i] = 0.0;
            for (uint d = 0; d < D; d++) {
                float qd = qs[r * DP + d];
                for (uint i = 0; i < CPT; i++)
                    if (j + i * TPR < COLS)
                        sc[i] += qd * ks[(j + i * TPR) * DP + d];
            }
            for (uint i = 0; i < CPT; i++) {
                uint c = j + i * TPR, s = c0 + c;
                if (c < COLS)
                    ps[r * (COLS + 1) + c] =
                        s < S && (pc.causal == 0 || s <= t) ? sc[i] : NEG;
            }
            barrier();
            float m_new = m;
            for (uint c = 0; c < COLS; c++)
                m_new = max(m_new, ps[r * (COLS + 1) + c]);
            float alpha = exp2(m - m_new);
            barrier(); // the row's scores are read; now overwrite them with probabilities
            for (uint i = 0; i < CPT; i++) {
                uint c = j + i * TPR;
                if (c < COLS) {
                    float x = ps[r * (COLS + 1) + c];
                    ps[r * (COLS + 1) + c] = x > NEG ? exp2(x - m_new) : 0.0;
                }
            }
            barrier();
            m = m_new;
            l *= alpha;
            for (uint i = 0; i < DPT; i++)
                acc[i] *= alpha;
            for (uint c = 0; c < COLS; c++) {
                float p = ps[r * (COLS + 1) + c];
                l += p;
                for (uint i = 0; i < DPT; i++)
                    acc[i] += p * vs[c * DP + j + i * TPR];
            }
        }
        if (t < T) {
            uint o = lpt_at(pc.off_out, pc.bs_out, pc.ld_out, b, t, h);
            float inv = 1.0 / l;
            for (uint i = 0; i < DPT; i++)
                if (j + i * TPR < D)
                    out_[o + j + i * TPR] = acc[i] * inv;
            if (j == 0)
                lse_[pc.off_lse + pair * T + t] = (m + log2(l)) * LN2;
        }
    }
}

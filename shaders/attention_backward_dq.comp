#version 450
// attention_backward_dq.comp: dQ = scale dS K with dS = P * (dO V^T - D), P recomputed from
// lse. A workgroup owns ROWS queries of one (batch, head) and streams K and V in tiles of
// COLS keys through shared memory; each invocation accumulates its head dimensions of dQ in
// registers. Runs after the dk/dv kernel: it takes D from its parking slot in dq (see
// attention_backward_prep.comp) before writing dq there.
#extension GL_GOOGLE_include_directive : require
#include "attention.glsl"

layout(std430, binding = 0) buffer Dq { float dq_[]; };
layout(std430, binding = 1) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 2) readonly buffer Q { float q_[]; };
layout(std430, binding = 3) readonly buffer K { float k_[]; };
layout(std430, binding = 4) readonly buffer V { float v_[]; };
layout(std430, binding = 5) readonly buffer Lse { float lse_[]; };

shared float qs[ROWS * DP];
shared float dos[ROWS * DP];
shared float ks[COLS * DP];
shared float vs[COLS * DP];
shared float dss[ROWS * (COLS + 1)];
shared float row_lse[ROWS]; // lse log2 e
shared float row_d[ROWS];   // D

void main()
{
    const uint local = ROWS * TPR, tid = gl_LocalInvocationID.x;
    const uint r = tid / TPR, j = tid % TPR;
    const uint D = pc.head_dim, T = pc.q_len, S = pc.kv_len;
    const uint blocks = (T + ROWS - 1) / ROWS;
    const float qscale = pc.scale * LOG2E;
    for (uint pair = gl_WorkGroupID.y; pair < pc.batch * pc.heads; pair += gl_NumWorkGroups.y)
    for (uint qb = gl_WorkGroupID.x; qb < blocks; qb += gl_NumWorkGroups.x) {
        const uint b = pair / pc.heads, h = pair % pc.heads, q0 = qb * ROWS, t = q0 + r;
        barrier(); // the previous block is done with qs, dos, row_*
        for (uint i = tid; i < ROWS * D; i += local) {
            uint rr = i / D, d = i % D;
            bool in_range = q0 + rr < T;
            uint at = lpt_at(pc.off_q, pc.bs_q, pc.ld_q, b, q0 + rr, h) + d;
            qs[rr * DP + d] = in_range ? q_[at] * qscale : 0.0;
            at = lpt_at(pc.off_dout, pc.bs_out, pc.ld_out, b, q0 + rr, h) + d;
            dos[rr * DP + d] = in_range ? dout_[at] : 0.0;
        }
        if (j == 0) { // the same invocation later writes dq's dimension 0, D's slot
            row_lse[r] = t < T ? lse_[pc.off_lse + pair * T + t] * LOG2E : 0.0;
            row_d[r] = t < T ? dq_[lpt_at(pc.off_dq, pc.bs_q, pc.ld_q, b, t, h)] : 0.0;
        }
        float acc[DPT];
        for (uint i = 0; i < DPT; i++)
            acc[i] = 0.0;
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
            float sc[CPT], dp[CPT];
            for (uint i = 0; i < CPT; i++)
                sc[i] = dp[i] = 0.0;
            for (uint d = 0; d < D; d++) {
                float qd = qs[r * DP + d], gd = dos[r * DP + d];
                for (uint i = 0; i < CPT; i++)
                    if (j + i * TPR < COLS) {
                        sc[i] += qd * ks[(j + i * TPR) * DP + d];
                        dp[i] += gd * vs[(j + i * TPR) * DP + d];
                    }
            }
            for (uint i = 0; i < CPT; i++) {
                uint c = j + i * TPR, s = c0 + c;
                if (c < COLS) {
                    bool seen = t < T && s < S && (pc.causal == 0 || s <= t);
                    float p = seen ? exp2(sc[i] - row_lse[r]) : 0.0;
                    dss[r * (COLS + 1) + c] = p * (dp[i] - row_d[r]);
                }
            }
            barrier();
            for (uint c = 0; c < COLS; c++) {
                float ds = dss[r * (COLS + 1) + c];
                for (uint i = 0; i < DPT; i++)
                    acc[i] += ds * ks[c * DP + j + i * TPR];
            }
        }
        if (t < T) {
            uint o = lpt_at(pc.off_dq, pc.bs_q, pc.ld_q, b, t, h);
            for (uint i = 0; i < DPT; i++)
                if (j + i * TPR < D)
                    dq_[o + j + i * TPR] = acc[i] * pc.scale;
        }
    }
}

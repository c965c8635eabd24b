#version 450
// attention_backward_dkv.comp: dK = scale dS^T Q and dV = P^T dO, with P recomputed from lse
// and dS = P * (dO V^T - D). A workgroup owns ROWS keys of one (batch, head) (grid-strided
// over key blocks in x and pairs in y) and streams Q and dO in tiles of COLS queries through
// shared memory; each invocation accumulates its head dimensions of dK and dV in registers,
// so no two workgroups write the same element and no atomics are needed. D comes from its
// parking slot in dq (attention_backward_prep.comp). Under the causal mask query tiles
// before the block's first key are skipped.
#extension GL_GOOGLE_include_directive : require
#include "attention.glsl"

layout(std430, binding = 0) writeonly buffer Dk { float dk_[]; };
layout(std430, binding = 1) writeonly buffer Dv { float dv_[]; };
layout(std430, binding = 2) readonly buffer Dq { float dq_[]; };
layout(std430, binding = 3) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 4) readonly buffer Q { float q_[]; };
layout(std430, binding = 5) readonly buffer K { float k_[]; };
layout(std430, binding = 6) readonly buffer V { float v_[]; };
layout(std430, binding = 7) readonly buffer Lse { float lse_[]; };

shared float ks[ROWS * DP];
shared float vs[ROWS * DP];
shared float qs[COLS * DP];
shared float dos[COLS * DP];
shared float ps[ROWS * (COLS + 1)];
shared float dss[ROWS * (COLS + 1)];
shared float col_lse[COLS]; // lse log2 e of the tile's queries
shared float col_d[COLS];   // their D

void main()
{
    const uint local = ROWS * TPR, tid = gl_LocalInvocationID.x;
    const uint r = tid / TPR, j = tid % TPR;
    const uint D = pc.head_dim, T = pc.q_len, S = pc.kv_len;
    const uint blocks = (S + ROWS - 1) / ROWS;
    const float kscale = pc.scale * LOG2E;
    for (uint pair = gl_WorkGroupID.y; pair < pc.batch * pc.heads; pair += gl_NumWorkGroups.y)
    for (uint kb = gl_WorkGroupID.x; kb < blocks; kb += gl_NumWorkGroups.x) {
        const uint b = pair / pc.heads, h = pair % pc.heads, k0 = kb * ROWS, s = k0 + r;
        barrier(); // the previous block is done with ks, vs
        for (uint i = tid; i < ROWS * D; i += local) {
            uint rr = i / D, d = i % D;
            bool in_range = k0 + rr < S;
            uint at = lpt_at(pc.off_k, pc.bs_kv, pc.ld_kv, b, k0 + rr, h) + d;
            ks[rr * DP + d] = in_range ? k_[at] * kscale : 0.0;
            at = lpt_at(pc.off_v, pc.bs_kv, pc.ld_kv, b, k0 + rr, h) + d;
            vs[rr * DP + d] = in_range ? v_[at] : 0.0;
        }
        float gk[DPT], gv[DPT];
        for (uint i = 0; i < DPT; i++)
            gk[i] = gv[i] = 0.0;
        const uint t_begin = pc.causal != 0 ? k0 - k0 % COLS : 0;
        for (uint c0 = t_begin; c0 < T; c0 += COLS) {
            barrier(); // everyone is done with the previous tile
            for (uint i = tid; i < COLS * D; i += local) {
                uint cc = i / D, d = i % D;
                bool in_range = c0 + cc < T;
                uint at = lpt_at(pc.off_q, pc.bs_q, pc.ld_q, b, c0 + cc, h) + d;
                qs[cc * DP + d] = in_range ? q_[at] : 0.0;
                at = lpt_at(pc.off_dout, pc.bs_out, pc.ld_out, b, c0 + cc, h) + d;
                dos[cc * DP + d] = in_range ? dout_[at] : 0.0;
            }
            for (uint cc = tid; cc < COLS; cc += local) {
                uint t = c0 + cc;
                col_lse[cc] = t < T ? lse_[pc.off_lse + pair * T + t] * LOG2E : 0.0;
                col_d[cc] = t < T ? dq_[lpt_at(pc.off_dq, pc.bs_q, pc.ld_q, b, t, h)] : 0.0;
            }
            barrier();
            float sc[CPT], dp[CPT];
            for (uint i = 0; i < CPT; i++)
                sc[i] = dp[i] = 0.0;
            for (uint d = 0; d < D; d++) {
                float kd = ks[r * DP + d], vd = vs[r * DP + d];
                for (uint i = 0; i < CPT; i++)
                    if (j + i * TPR < COLS) {
                        sc[i] += kd * qs[(j + i * TPR) * DP + d];
                        dp[i] += vd * dos[(j + i * TPR) * DP + d];
                    }
            }
            for (uint i = 0; i < CPT; i++) {
                uint c = j + i * TPR, t = c0 + c;
                if (c < COLS) {
                    bool seen = t < T && s < S && (pc.causal == 0 || s <= t);
                    float p = seen ? exp2(sc[i] - col_lse[c]) : 0.0;
                    ps[r * (COLS + 1) + c] = p;
                    dss[r * (COLS + 1) + c] = p * (dp[i] - col_d[c]);
                }
            }
            barrier();
            for (uint c = 0; c < COLS; c++) {
                float p = ps[r * (COLS + 1) + c], ds = dss[r * (COLS + 1) + c];
                for (uint i = 0; i < DPT; i++) {
                    gv[i] += p * dos[c * DP + j + i * TPR];
                    gk[i] += ds * qs[c * DP + j + i * TPR];
                }
            }
        }
        if (s < S) {
            uint o = lpt_at(pc.off_dk, pc.bs_kv, pc.ld_kv, b, s, h);
            uint g = lpt_at(pc.off_dv, pc.bs_kv, pc.ld_kv, b, s, h);
            for (uint i = 0; i < DPT; i++)
                if (j + i * TPR < D) {
                    dk_[o + j + i * TPR] = gk[i] * pc.scale;
                    dv_[g + j + i * TPR] = gv[i];
                }
        }
    }
}

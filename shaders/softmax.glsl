// softmax.glsl: the row softmax kernels. A workgroup works on gl_WorkGroupSize.x / seg rows
// at a time, `seg` invocations per row (a power of two the host picks from the row length so
// that short rows do not leave most of a workgroup idle), grid-strided over the rows so any
// row count works with at most 65535 groups. The .comp files choose the pass
// (LPT_SOFTMAX_BACKWARD) and the reduction (LPT_SUBGROUP).
//   forward:  out = softmax(scale * in): one read pass keeps a running (max, sum) per
//             invocation, the row merges them, a second pass writes. A row of only -inf
//             gives NaN (0 / 0), as the definition does.
//   backward: din = scale * out * (dout - sum(dout * out)).
layout(local_size_x_id = 0) in;

#include "row_reduce.glsl"

layout(push_constant) uniform Push {
    uint rows;
    uint n;
    uint seg; // invocations per row
    float scale;
} pc;

#ifdef LPT_SOFTMAX_BACKWARD
layout(std430, binding = 0) writeonly buffer Din { float din_[]; };
layout(std430, binding = 1) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 2) readonly buffer Out { float out_[]; };
#else
layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer In { float in_[]; };
#endif

const float NEG = -3.0e38; // below every finite value: an empty running max

void main()
{
    const uint seg = pc.seg, per_group = gl_WorkGroupSize.x / seg;
    const uint lane = gl_LocalInvocationID.x % seg, slot = gl_LocalInvocationID.x / seg;
    for (uint first = gl_WorkGroupID.x * per_group; first < pc.rows;
         first += gl_NumWorkGroups.x * per_group) {
        uint row = first + slot;
        uint n = row < pc.rows ? pc.n : 0; // rows past the end still join the reductions
        uint base = row * pc.n;
#ifdef LPT_SOFTMAX_BACKWARD
        float dot = 0.0;
        for (uint j = lane; j < n; j += seg)
            dot += dout_[base + j] * out_[base + j];
        dot = lpt_row_reduce(dot, seg, false);
        for (uint j = lane; j < n; j += seg)
            din_[base + j] = pc.scale * out_[base + j] * (dout_[base + j] - dot);
#else
        float m = NEG, s = 0.0;
        for (uint j = lane; j < n; j += seg) {
            float x = pc.scale * in_[base + j];
            if (x > m) {
                s = s * exp(m - x) + 1.0;
                m = x;
            } else {
                s += exp(x - m);
            }
        }
        float row_max = lpt_row_reduce(m, seg, true);
        float inv = 1.0 / lpt_row_reduce(s * exp(m - row_max), seg, false);
        for (uint j = lane; j < n; j += seg)
            out_[base + j] = exp(pc.scale * in_[base + j] - row_max) * inv;
#endif
    }
}

#version 450
// attention_backward_prep.comp: D = rowsum(dO * O) for every (batch, query, head), one
// invocation each (grid-strided). The op has no scratch tensor, so D is parked in dq, at
// dimension 0 of the head's slice of the query's row (exactly one slot per value); the dk/dv
// kernel reads it there, and the dq kernel reads it before overwriting it with dq.
#extension GL_GOOGLE_include_directive : require
#include "attention.glsl"

layout(std430, binding = 0) writeonly buffer Dq { float dq_[]; };
layout(std430, binding = 1) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 2) readonly buffer Out { float out_[]; };

void main()
{
    const uint n = pc.batch * pc.q_len * pc.heads;
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += stride) {
        uint h = i % pc.heads, t = (i / pc.heads) % pc.q_len, b = i / (pc.heads * pc.q_len);
        uint o = lpt_at(pc.off_out, pc.bs_out, pc.ld_out, b, t, h);
        uint g = lpt_at(pc.off_dout, pc.bs_out, pc.ld_out, b, t, h);
        float di = 0.0;
        for (uint d = 0; d < pc.head_dim; d++)
            di += dout_[g + d] * out_[o + d];
        dq_[lpt_at(pc.off_dq, pc.bs_q, pc.ld_q, b, t, h)] = di;
    }
}

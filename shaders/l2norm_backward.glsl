// l2norm_backward.glsl: the body of l2norm_backward.comp and l2norm_backward_sg.comp:
//   din = (dout - out (dout . out)) / norm when norm > 1e-12, else dout / 1e-12
// (the clamp passes no gradient through the norm). One workgroup per row, grid-strided over
// rows; vec4 or scalar items as in layernorm_forward.glsl.
#include "norm_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Din { float din_[]; };
layout(std430, binding = 0) writeonly buffer Din4 { vec4 din4_[]; };
layout(std430, binding = 1) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 1) readonly buffer Dout4 { vec4 dout4_[]; };
layout(std430, binding = 2) readonly buffer Out { float out_[]; };
layout(std430, binding = 2) readonly buffer Out4 { vec4 out4_[]; };
layout(std430, binding = 3) readonly buffer Norm { float norm_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint n;
    uint vec4_ok;
    float eps; // unused (the layout shared by the row-normalisation kernels)
} pc;

vec4 load_dout(uint row, uint i)
{
    return pc.vec4_ok != 0 ? dout4_[row * (pc.n / 4) + i]
                           : vec4(dout_[row * pc.n + i], 0.0, 0.0, 0.0);
}

vec4 load_out(uint row, uint i)
{
    return pc.vec4_ok != 0 ? out4_[row * (pc.n / 4) + i]
                           : vec4(out_[row * pc.n + i], 0.0, 0.0, 0.0);
}

void store_din(uint row, uint i, vec4 v)
{
    if (pc.vec4_ok != 0)
        din4_[row * (pc.n / 4) + i] = v;
    else
        din_[row * pc.n + i] = v.x;
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint items = pc.vec4_ok != 0 ? pc.n / 4 : pc.n;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        vec4 s = vec4(0.0);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x)
            s += load_dout(row, i) * load_out(row, i);
        vec4 t = lpt_group_sum(s);
        float nrm = norm_[row];
        float dot_ = nrm > 1e-12 ? (t.x + t.y) + (t.z + t.w) : 0.0;
        float inv = 1.0 / max(nrm, 1e-12);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x)
            store_din(row, i, (load_dout(row, i) - load_out(row, i) * dot_) * inv);
    }
}

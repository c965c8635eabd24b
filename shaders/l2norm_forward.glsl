// l2norm_forward.glsl: the body of l2norm_forward.comp and l2norm_forward_sg.comp:
//   out[rows, N] = in / max(||in||, 1e-12);  norm[rows] = ||in||.
// One workgroup per row, grid-strided over rows; vec4 or scalar items as in
// layernorm_forward.glsl.
#include "norm_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 0) writeonly buffer Out4 { vec4 out4_[]; };
layout(std430, binding = 1) writeonly buffer Norm { float norm_[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };
layout(std430, binding = 2) readonly buffer In4 { vec4 in4_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint n;
    uint vec4_ok;
    float eps; // unused (the layout shared by the row-normalisation kernels)
} pc;

vec4 load_in(uint row, uint i)
{
    return pc.vec4_ok != 0 ? in4_[row * (pc.n / 4) + i] : vec4(in_[row * pc.n + i], 0.0, 0.0, 0.0);
}

void store_out(uint row, uint i, vec4 v)
{
    if (pc.vec4_ok != 0)
        out4_[row * (pc.n / 4) + i] = v;
    else
        out_[row * pc.n + i] = v.x;
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint items = pc.vec4_ok != 0 ? pc.n / 4 : pc.n;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        vec4 ss = vec4(0.0);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x) {
            vec4 x = load_in(row, i);
            ss += x * x;
        }
        vec4 t = lpt_group_sum(ss);
        float nrm = sqrt((t.x + t.y) + (t.z + t.w));
        float inv = 1.0 / max(nrm, 1e-12);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x)
            store_out(row, i, load_in(row, i) * inv);
        if (tid == 0)
            norm_[row] = nrm;
    }
}

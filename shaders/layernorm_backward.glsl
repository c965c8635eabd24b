// layernorm_backward.glsl: the body of layernorm_backward.comp and layernorm_backward_sg.comp:
// din only (dweight/dbias come from layernorm_backward_params.comp). With xh = (x - mean) rstd
// and g = dout * weight:  din = rstd (g - mean(g) - xh mean(g xh)).
// One workgroup per row, grid-strided over rows; vec4 or scalar items as in
// layernorm_forward.glsl (scalar items carry zeros in lanes y, z, w, so g is zero there).
#include "norm_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Din { float din_[]; };
layout(std430, binding = 0) writeonly buffer Din4 { vec4 din4_[]; };
layout(std430, binding = 1) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 1) readonly buffer Dout4 { vec4 dout4_[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };
layout(std430, binding = 2) readonly buffer In4 { vec4 in4_[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean_[]; };
layout(std430, binding = 4) readonly buffer Rstd { float rstd_[]; };
layout(std430, binding = 5) readonly buffer Weight { float weight_[]; };
layout(std430, binding = 5) readonly buffer Weight4 { vec4 weight4_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint c;
    uint vec4_ok;
    float eps; // unused (shared layout with the forward)
} pc;

vec4 load_in(uint row, uint i)
{
    return pc.vec4_ok != 0 ? in4_[row * (pc.c / 4) + i] : vec4(in_[row * pc.c + i], 0.0, 0.0, 0.0);
}

vec4 load_dout(uint row, uint i)
{
    return pc.vec4_ok != 0 ? dout4_[row * (pc.c / 4) + i]
                           : vec4(dout_[row * pc.c + i], 0.0, 0.0, 0.0);
}

vec4 load_weight(uint i)
{
    return pc.vec4_ok != 0 ? weight4_[i] : vec4(weight_[i], 0.0, 0.0, 0.0);
}

void store_din(uint row, uint i, vec4 v)
{
    if (pc.vec4_ok != 0)
        din4_[row * (pc.c / 4) + i] = v;
    else
        din_[row * pc.c + i] = v.x;
}

float hsum(vec4 v)
{
    return (v.x + v.y) + (v.z + v.w);
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint items = pc.vec4_ok != 0 ? pc.c / 4 : pc.c;
    float c = float(pc.c);
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        float m = mean_[row], rs = rstd_[row];
        vec4 sg = vec4(0.0), sgx = vec4(0.0);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x) {
            vec4 g = load_dout(row, i) * load_weight(i);
            sg += g;
            sgx += g * ((load_in(row, i) - m) * rs);
        }
        vec4 t = lpt_group_sum(vec4(hsum(sg), hsum(sgx), 0.0, 0.0));
        float mg = t.x / c, mgx = t.y / c;
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x) {
            vec4 g = load_dout(row, i) * load_weight(i);
            vec4 xh = (load_in(row, i) - m) * rs;
            store_din(row, i, rs * (g - mg - xh * mgx));
        }
    }
}

// layernorm_forward.glsl: the body of layernorm_forward.comp and layernorm_forward_sg.comp.
//   out[rows, C] = (in - mean) * rstd * weight + bias;  mean, rstd: [rows], saved.
// One workgroup per row, grid-strided over rows. With pc.vec4_ok (C % 4 == 0 and every
// tensor 16-byte aligned) each invocation moves vec4s; otherwise single floats in lane x with
// the other lanes zero. Shifted two-pass statistics: m0 = sum(x) / C, then sum(x - m0) and
// sum((x - m0)^2) give the correction delta and the variance, so a row with a large offset
// loses nothing to cancellation. The row is re-read from memory (cache) on each pass.
#include "norm_reduce.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 0) writeonly buffer Out4 { vec4 out4_[]; };
layout(std430, binding = 1) writeonly buffer Mean { float mean_[]; };
layout(std430, binding = 2) writeonly buffer Rstd { float rstd_[]; };
layout(std430, binding = 3) readonly buffer In { float in_[]; };
layout(std430, binding = 3) readonly buffer In4 { vec4 in4_[]; };
layout(std430, binding = 4) readonly buffer Weight { float weight_[]; };
layout(std430, binding = 4) readonly buffer Weight4 { vec4 weight4_[]; };
layout(std430, binding = 5) readonly buffer Bias { float bias_[]; };
layout(std430, binding = 5) readonly buffer Bias4 { vec4 bias4_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint c;
    uint vec4_ok;
    float eps;
} pc;

// Item i of a row: a vec4 (vec4 path) or one value in lane x.
vec4 load_in(uint row, uint i)
{
    return pc.vec4_ok != 0 ? in4_[row * (pc.c / 4) + i] : vec4(in_[row * pc.c + i], 0.0, 0.0, 0.0);
}

vec4 load_weight(uint i)
{
    return pc.vec4_ok != 0 ? weight4_[i] : vec4(weight_[i], 0.0, 0.0, 0.0);
}

vec4 load_bias(uint i)
{
    return pc.vec4_ok != 0 ? bias4_[i] : vec4(bias_[i], 0.0, 0.0, 0.0);
}

void store_out(uint row, uint i, vec4 v)
{
    if (pc.vec4_ok != 0)
        out4_[row * (pc.c / 4) + i] = v;
    else
        out_[row * pc.c + i] = v.x;
}

float hsum(vec4 v)
{
    return (v.x + v.y) + (v.z + v.w);
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint items = pc.vec4_ok != 0 ? pc.c / 4 : pc.c;
    vec4 mask = pc.vec4_ok != 0 ? vec4(1.0) : vec4(1.0, 0.0, 0.0, 0.0);
    float c = float(pc.c);
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        vec4 s = vec4(0.0);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x)
            s += load_in(row, i);
        float m0 = hsum(lpt_group_sum(s)) / c;

        vec4 d1 = vec4(0.0), d2 = vec4(0.0);
        for (uint i = tid; i < items; i += gl_WorkGroupSize.x) {
            vec4 d = (load_in(row, i) - m0) * mask;
            d1 += d;
            d2 += d * d;
        }
        vec4 t = lpt_group_sum(vec4(hsum(d1), hsum(d2), 0.0, 0.0));
        float delta = t.x / c;
        float var = max(t.y / c - delta * delta, 0.0);
        float rs = inversesqrt(var + pc.eps);

        for (uint i = tid; i < items; i += gl_WorkGroupSize.x)
            store_out(row, i,
                      ((load_in(row, i) - m0) - delta) * rs * load_weight(i) + load_bias(i));
        if (tid == 0) {
            mean_[row] = m0 + delta;
            rstd_[row] = rs;
        }
    }
}

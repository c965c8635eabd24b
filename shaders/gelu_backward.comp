#version 450
// gelu_backward.comp: din = dout * (Phi(x) + x phi(x)).
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) writeonly buffer DIn { float din[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    float x = in_[i];
    float cdf = 0.5 * (1.0 + lpt_erf(x * 0.70710678118654752));
    float pdf = 0.39894228040143268 * exp(-0.5 * x * x);
    din[i] = dout[i] * (cdf + x * pdf);
}

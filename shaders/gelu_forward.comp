#version 450
// gelu_forward.comp: out = x * 0.5 * (1 + erf(x / sqrt 2)) (exact GELU).
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer In { float in_[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    float x = in_[i];
    out_[i] = 0.5 * x * (1.0 + lpt_erf(x * 0.70710678118654752));
}

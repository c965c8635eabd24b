#version 450
// add_forward.comp: out = a + alpha * b (residual add; out may alias a or b).
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    out_[i] = a[i] + pc.alpha * b[i];
}

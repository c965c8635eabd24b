#version 450
// quick_gelu_forward.comp: out = x * sigmoid(1.702 x) (CLIP QuickGELU).
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer In { float in_[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    float x = in_[i];
    out_[i] = x * lpt_sigmoid(1.702 * x);
}

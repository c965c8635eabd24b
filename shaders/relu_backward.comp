#version 450
// relu_backward.comp: din = dout where x > 0, else 0.
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) writeonly buffer DIn { float din[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    din[i] = in_[i] > 0.0 ? dout[i] : 0.0;
}

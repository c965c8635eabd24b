#version 450
// quick_gelu_backward.comp: din = dout * (s + 1.702 x s (1 - s)), s = sigmoid(1.702 x).
#extension GL_GOOGLE_include_directive : require
#include "lpt_math.glsl"

layout(std430, binding = 0) writeonly buffer DIn { float din[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };

#include "elementwise.glsl"

void lpt_apply(uint i)
{
    float x = in_[i];
    float s = lpt_sigmoid(1.702 * x);
    din[i] = dout[i] * (s + 1.702 * x * s * (1.0 - s));
}

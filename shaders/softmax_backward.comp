#version 450
// softmax_backward.comp: row softmax backward, shared-memory reductions (see softmax.glsl).
#extension GL_GOOGLE_include_directive : require
#define LPT_SOFTMAX_BACKWARD 1
#include "softmax.glsl"

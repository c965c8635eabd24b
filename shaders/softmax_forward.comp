#version 450
// softmax_forward.comp: row softmax forward, shared-memory reductions (see softmax.glsl).
#extension GL_GOOGLE_include_directive : require
#include "softmax.glsl"

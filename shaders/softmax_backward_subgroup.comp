#version 450
// softmax_backward_subgroup.comp: row softmax backward, subgroup reductions (see softmax.glsl).
#extension GL_GOOGLE_include_directive : require
#define LPT_SOFTMAX_BACKWARD 1
#define LPT_SUBGROUP 1
#include "softmax.glsl"

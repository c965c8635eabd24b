#version 450
// softmax_forward_subgroup.comp: row softmax forward, subgroup reductions (see softmax.glsl).
#extension GL_GOOGLE_include_directive : require
#define LPT_SUBGROUP 1
#include "softmax.glsl"

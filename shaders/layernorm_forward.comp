#version 450
// layernorm_forward.comp: LayerNorm forward, one workgroup per row,
// shared-memory reductions. The body is layernorm_forward.glsl; layernorm_forward_sg.comp is the
// subgroup-arithmetic variant.
#extension GL_GOOGLE_include_directive : require
#include "layernorm_forward.glsl"

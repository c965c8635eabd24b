#version 450
// layernorm_backward.comp: LayerNorm backward (din), one workgroup per row,
// shared-memory reductions. The body is layernorm_backward.glsl; layernorm_backward_sg.comp is the
// subgroup-arithmetic variant.
#extension GL_GOOGLE_include_directive : require
#include "layernorm_backward.glsl"

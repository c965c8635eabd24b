#version 450
// l2norm_forward.comp: row L2-normalisation forward, one workgroup per row,
// shared-memory reductions. The body is l2norm_forward.glsl; l2norm_forward_sg.comp is the
// subgroup-arithmetic variant.
#extension GL_GOOGLE_include_directive : require
#include "l2norm_forward.glsl"

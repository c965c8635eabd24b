#version 450
// l2norm_backward.comp: row L2-normalisation backward, one workgroup per row,
// shared-memory reductions. The body is l2norm_backward.glsl; l2norm_backward_sg.comp is the
// subgroup-arithmetic variant.
#extension GL_GOOGLE_include_directive : require
#include "l2norm_backward.glsl"

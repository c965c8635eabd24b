#version 450
// l2norm_backward_sg.comp: l2norm_backward.comp with subgroup reductions, for devices with
// subgroup arithmetic in compute (lpt_vk_limits()->subgroup_arithmetic).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#define LPT_SUBGROUP 1
#include "l2norm_backward.glsl"

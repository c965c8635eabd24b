#version 450
// layernorm_forward_sg.comp: layernorm_forward.comp with subgroup reductions, for devices with
// subgroup arithmetic in compute (lpt_vk_limits()->subgroup_arithmetic).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#define LPT_SUBGROUP 1
#include "layernorm_forward.glsl"

#version 450
// dropout_forward.comp: inverted feature dropout with the counter-based mask of
// lpt_dropout_keep() in src/core/lpt_ops.c (out may alias in; the backward runs this shader on
// the gradient): value (r, c) is kept iff the top 24 bits of Philox4x32-10 on (r, c, step,
// "drop"), over 2^24, are >= p; kept values are multiplied by scale = 1 / (1 - p), the others
// become 0. Integer part and the single multiply are exact, so both backends agree bit for
// bit. One invocation per value, grid-strided.
#extension GL_GOOGLE_include_directive : require
#include "philox.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer Out { float out_[]; };
layout(std430, binding = 1) buffer In { float in_[]; };

layout(push_constant) uniform Push {
    uint total; // rows * cols
    uint cols;
    float p, scale;
    uint seed_lo, seed_hi, step;
    uint off_out, off_in; // element offsets of each tensor in its binding
} pc;

const uint DROPOUT_STREAM = 0x64726f70u; // LPT_DROPOUT_STREAM

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
        uint r = i / pc.cols, c = i - r * pc.cols;
        uvec4 x = lpt_philox4x32(uvec4(r, c, pc.step, DROPOUT_STREAM), uvec2(pc.seed_lo, pc.seed_hi));
        bool keep = float(x.x >> 8) * (1.0 / 16777216.0) >= pc.p;
        float v = in_[pc.off_in + i];
        out_[pc.off_out + i] = keep ? v * pc.scale : 0.0;
    }
}

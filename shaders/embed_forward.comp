#version 450
// embed_forward.comp: token embedding in place on x[B, T, C]: x[b, 0] = cls + pos[0] when
// there is a class token (has_cls), else x[b, t] += pos[t] for every row. One invocation per
// value, grid-strided.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Cls { float cls[]; };
layout(std430, binding = 2) readonly buffer Pos { float pos[]; };

layout(push_constant) uniform Push {
    uint total; // B * T * C
    uint tokens, c;
    uint has_cls;
    uint off_x, off_cls, off_pos; // element offsets of each tensor in its binding
} pc;

void main()
{
    uint per_image = pc.tokens * pc.c;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
        uint j = i % per_image; // t * C + c
        float p = pos[pc.off_pos + j];
        if (pc.has_cls != 0u && j < pc.c)
            x[pc.off_x + i] = cls[pc.off_cls + j] + p;
        else
            x[pc.off_x + i] += p;
    }
}

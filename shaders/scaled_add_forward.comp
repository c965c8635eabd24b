#version 450
// scaled_add_forward.comp: out = a + s[0] * b (out may alias a or b). One invocation per
// value, grid-strided.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
layout(std430, binding = 3) readonly buffer S { float s[]; };

layout(push_constant) uniform Push {
    uint n;
    uint off_out, off_a, off_b, off_s; // element offsets of each tensor in its binding
} pc;

void main()
{
    float scale = s[pc.off_s];
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride)
        out_[pc.off_out + i] = a[pc.off_a + i] + scale * b[pc.off_b + i];
}

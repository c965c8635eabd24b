#version 450
// onehot_forward.comp: out[r, c] = value * (number of j < k with indices[r, j] == c); an index
// outside [0, n) adds nothing. One invocation per output value, grid-strided.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer Indices { int indices_[]; };

layout(push_constant) uniform Push {
    uint total; // rows * n
    uint n, k;
    float value;
    uint off_out, off_indices; // element offsets of each tensor in its binding
} pc;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
        uint r = i / pc.n, c = i - r * pc.n;
        float acc = 0.0;
        for (uint j = 0u; j < pc.k; j++)
            if (indices_[pc.off_indices + r * pc.k + j] == int(c))
                acc += pc.value;
        out_[pc.off_out + i] = acc;
    }
}

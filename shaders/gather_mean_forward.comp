#version 450
// gather_mean_forward.comp: out[b, e] = (sum over j < k of pool[indices[b, j], e]) / k.
// x covers the values e of an entry (grid-strided), y the output rows b (grid-strided);
// every invocation of a workgroup reads the same indices. An index outside [0, pool_size)
// adds nothing (the sum is still divided by k).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer Pool { float pool_[]; };
layout(std430, binding = 2) readonly buffer Indices { int indices_[]; };

layout(push_constant) uniform Push {
    uint batch;
    uint k;
    uint pool_size;
    uint entry_size;
    float inv_k;
} pc;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint b = gl_WorkGroupID.y; b < pc.batch; b += gl_NumWorkGroups.y) {
        for (uint e = gl_GlobalInvocationID.x; e < pc.entry_size; e += stride) {
            float acc = 0.0;
            for (uint j = 0; j < pc.k; j++) {
                uint m = uint(indices_[b * pc.k + j]); // negative indices wrap to huge ones
                if (m < pc.pool_size)
                    acc += pool_[m * pc.entry_size + e];
            }
            out_[b * pc.entry_size + e] = acc * pc.inv_k;
        }
    }
}

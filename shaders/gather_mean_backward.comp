#version 450
// gather_mean_backward.comp: dpool[m, e] += (sum of dout[b, e] over every (b, j) with
// indices[b, j] == m) / k, without atomics: each invocation owns one (m, e) and walks the
// whole B*k index list, which the workgroup stages through shared memory a chunk at a time
// as the row b of each entry that selected m (or -1). x covers e (grid-strided), y covers m
// (grid-strided); loop bounds are workgroup-uniform so the barriers are legal. Indices
// outside [0, pool_size) match no entry and are skipped.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer DPool { float dpool_[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout_[]; };
layout(std430, binding = 2) readonly buffer Indices { int indices_[]; };

layout(push_constant) uniform Push {
    uint batch;
    uint k;
    uint pool_size;
    uint entry_size;
    float inv_k;
} pc;

const uint WG = gl_WorkGroupSize.x;
shared int s_row[WG]; // for each index of the chunk: its row b when it selects m, else -1

void main()
{
    uint lid = gl_LocalInvocationID.x;
    uint n_idx = pc.batch * pc.k;
    for (uint m = gl_WorkGroupID.y; m < pc.pool_size; m += gl_NumWorkGroups.y) {
        for (uint e0 = gl_WorkGroupID.x * WG; e0 < pc.entry_size; e0 += gl_NumWorkGroups.x * WG) {
            uint e = e0 + lid;
            float acc = 0.0;
            for (uint c0 = 0; c0 < n_idx; c0 += WG) {
                barrier(); // the previous chunk has been read by every invocation
                uint c = c0 + lid;
                s_row[lid] = c < n_idx && indices_[c] == int(m) ? int(c / pc.k) : -1;
                barrier();
                uint len = min(WG, n_idx - c0);
                if (e < pc.entry_size)
                    for (uint i = 0; i < len; i++) {
                        int b = s_row[i];
                        if (b >= 0)
                            acc += dout_[uint(b) * pc.entry_size + e];
                    }
            }
            if (e < pc.entry_size)
                dpool_[m * pc.entry_size + e] += acc * pc.inv_k;
        }
    }
}

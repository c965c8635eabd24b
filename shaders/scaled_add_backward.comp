#version 450
// scaled_add_backward.comp: db = s[0] * dout and ds[0] += sum of dout * b, in three stages
// (push constant `stage`), deterministic and without atomics:
//   0: workgroup g sums dout * b over its chunk [g * chunk, (g + 1) * chunk) (a tree in
//      shared memory) and parks the partial sum in db[g] (db is overwritten by stage 2);
//   1: one workgroup adds the `groups` parked partials, in a fixed order, to ds[0];
//   2: db = s[0] * dout, one invocation per value, grid-strided.
// The workgroup size must be a power of two (the tree).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer DB { float db[]; };
layout(std430, binding = 1) buffer DS { float ds[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) readonly buffer B { float b[]; };
layout(std430, binding = 4) readonly buffer S { float s[]; };

layout(push_constant) uniform Push {
    uint n;
    uint stage;
    uint groups, chunk; // stages 0 and 1: partial sums and the values each covers
    uint off_db, off_ds, off_dout, off_b, off_s; // element offsets in each binding
} pc;

shared float part[1024];

// Sums v over the workgroup; the total is in part[0] after the call.
void workgroup_sum(float v)
{
    uint lid = gl_LocalInvocationID.x;
    part[lid] = v;
    barrier();
    for (uint h = gl_WorkGroupSize.x / 2u; h > 0u; h /= 2u) {
        if (lid < h)
            part[lid] += part[lid + h];
        barrier();
    }
}

void main()
{
    uint lid = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;
    if (pc.stage == 0u) {
        for (uint g = gl_WorkGroupID.x; g < pc.groups; g += gl_NumWorkGroups.x) {
            uint lo = g * pc.chunk, hi = min(lo + pc.chunk, pc.n);
            float s0 = 0.0, s1 = 0.0;
            uint i = lo + lid;
            for (; i + size < hi; i += 2u * size) {
                s0 += dout[pc.off_dout + i] * b[pc.off_b + i];
                s1 += dout[pc.off_dout + i + size] * b[pc.off_b + i + size];
            }
            if (i < hi)
                s0 += dout[pc.off_dout + i] * b[pc.off_b + i];
            workgroup_sum(s0 + s1);
            if (lid == 0u)
                db[pc.off_db + g] = part[0];
            barrier(); // part is reused by the next chunk
        }
    } else if (pc.stage == 1u) {
        float acc = 0.0;
        for (uint g = lid; g < pc.groups; g += size)
            acc += db[pc.off_db + g];
        workgroup_sum(acc);
        if (lid == 0u)
            ds[pc.off_ds] += part[0];
    } else {
        float scale = s[pc.off_s];
        uint stride = gl_NumWorkGroups.x * size;
        for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride)
            db[pc.off_db + i] = scale * dout[pc.off_dout + i];
    }
}

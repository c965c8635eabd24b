#version 450
// bias_backward.comp: dbias[n] += column sums of dout[rows, n].
//
// A workgroup of X x Y invocations owns X consecutive columns (grid-strided over column
// blocks): invocation (x, y) sums rows y, y + Y, ... of column x (a row of the workgroup reads
// X consecutive floats, so loads coalesce), then the Y partial sums of each column are
// combined by a tree in shared memory and one invocation adds the total to dbias. Each column
// belongs to one workgroup, so there are no atomics and the result is deterministic.
// Y must be a power of two and X * Y <= 1024.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) buffer DBias { float dbias[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };

layout(push_constant) uniform Push {
    uint rows, n;
    uint off_dbias, off_dout; // element offsets of each tensor in its binding
} pc;

shared float part[1024];

void main()
{
    const uint X = gl_WorkGroupSize.x, Y = gl_WorkGroupSize.y;
    uint x = gl_LocalInvocationID.x, y = gl_LocalInvocationID.y;
    for (uint c0 = gl_WorkGroupID.x * X; c0 < pc.n; c0 += gl_NumWorkGroups.x * X) {
        uint col = c0 + x;
        float s0 = 0.0, s1 = 0.0; // two chains so consecutive loads do not wait on each other
        if (col < pc.n) {
            uint r = y;
            for (; r + Y < pc.rows; r += 2u * Y) {
                s0 += dout[pc.off_dout + r * pc.n + col];
                s1 += dout[pc.off_dout + (r + Y) * pc.n + col];
            }
            if (r < pc.rows)
                s0 += dout[pc.off_dout + r * pc.n + col];
        }
        part[y * X + x] = s0 + s1;
        barrier();
        for (uint h = Y / 2u; h > 0u; h /= 2u) {
            if (y < h)
                part[y * X + x] += part[(y + h) * X + x];
            barrier();
        }
        if (y == 0u && col < pc.n)
            dbias[pc.off_dbias + col] += part[x];
        barrier(); // part is reused by the next column block
    }
}

#version 450
// layernorm_backward_params.comp: the LayerNorm parameter gradients, without atomics:
//   dweight[C] += sum over rows of dout * (in - mean) rstd,  dbias[C] += sum over rows of dout
// (each skipped when its flag is 0: a frozen LayerNorm passes NULL, bound as a dummy).
// Workgroup (X, Y): X consecutive columns by Y row lanes; invocation (x, y) sums the rows
// r = y, y + Y, ... of its column (a warp reads X-float segments of several rows), the Y
// partials of a column meet in a shared-memory tree (Y a power of two), and lane y = 0 adds
// the total to the gradient. Each column belongs to exactly one workgroup; column tiles are
// grid-strided.
layout(local_size_x_id = 0, local_size_y_id = 1) in;

layout(std430, binding = 0) buffer Dweight { float dweight_[]; };
layout(std430, binding = 1) buffer Dbias { float dbias_[]; };
layout(std430, binding = 2) readonly buffer Dout { float dout_[]; };
layout(std430, binding = 3) readonly buffer In { float in_[]; };
layout(std430, binding = 4) readonly buffer Mean { float mean_[]; };
layout(std430, binding = 5) readonly buffer Rstd { float rstd_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint c;
    uint has_dweight;
    uint has_dbias;
} pc;

shared vec2 partial[gl_WorkGroupSize.x * gl_WorkGroupSize.y];

void main()
{
    uint x = gl_LocalInvocationID.x, y = gl_LocalInvocationID.y;
    uint X = gl_WorkGroupSize.x, Y = gl_WorkGroupSize.y;
    uint tiles = (pc.c + X - 1) / X;
    for (uint tile = gl_WorkGroupID.x; tile < tiles; tile += gl_NumWorkGroups.x) {
        uint j = tile * X + x;
        vec2 acc = vec2(0.0); // (dweight, dbias)
        if (j < pc.c)
            for (uint r = y; r < pc.rows; r += Y) {
                float dy = dout_[r * pc.c + j];
                acc += vec2(dy * ((in_[r * pc.c + j] - mean_[r]) * rstd_[r]), dy);
            }
        partial[y * X + x] = acc;
        barrier();
        for (uint half_ = Y / 2; half_ > 0; half_ >>= 1) {
            if (y < half_)
                partial[y * X + x] += partial[(y + half_) * X + x];
            barrier();
        }
        if (y == 0 && j < pc.c) {
            vec2 total = partial[x];
            if (pc.has_dweight != 0)
                dweight_[j] += total.x;
            if (pc.has_dbias != 0)
                dbias_[j] += total.y;
        }
        barrier(); // partial is read before the next tile overwrites it
    }
}

#version 450
// cosine_backward.comp: one gradient of the cosine classifier; lpt_vk_classifier.c runs it
// for df (own rows f, other rows w, assigned) and for dw (own rows w, other rows f,
// accumulated). With x the own rows, y the other rows, g[i, j] the upstream gradient and
// n̂ = max(|.|, 1e-12):
//   u_i = sum_j g[i, j] y_j / n̂(y_j)                                  (d L / d x̂_i)
//   grad_i (+)= u_i / n̂(x_i) - [|x_i| >= 1e-12] <x_i, u_i> / n̂(x_i)^3 x_i
// (the projection form: no logits needed; see lpt_cpu_classifier.c).
// A workgroup of LOCAL invocations owns ROWS own rows. It first sums their norms, then walks
// C in passes of LOCAL * CPT columns (column c = pass + t + LOCAL * j for invocation t), the
// ROWS x CPT partial u in registers. Each pass walks the other rows in chunks of CHUNK:
// LOCAL / CHUNK invocations per row sum the chunk's norms over all of C, the chunk's
// g[i, j] / n̂(y_j) go to shared memory, and every invocation adds them times y_j into its
// columns. The pass writes base + u / n̂(x) (base: grad's old value, or 0) and sums <x, u>;
// once <x, u> is complete, a last sweep subtracts the projection from what this same
// invocation wrote. Row blocks beyond the dispatched grid are strided over.
// LOCAL (the workgroup size) must be a power of two and at least ROWS * CHUNK.
layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint CPT = 1;  // columns per invocation per pass
layout(constant_id = 4) const uint ROWS = 8; // own rows per workgroup (a multiple of 4, <= CHUNK)

#define CHUNK 32u
#define LANES (gl_WorkGroupSize.x / CHUNK) // invocations per row when summing norms

layout(std430, binding = 0) buffer Grad { float grad_[]; };
layout(std430, binding = 1) readonly buffer G { float g_[]; };
layout(std430, binding = 2) readonly buffer X { float x_[]; };
layout(std430, binding = 3) readonly buffer Y { float y_[]; };

layout(push_constant) uniform Push {
    uint n_own;
    uint n_other;
    uint c;
    uint g_own;      // g[i, j] = g_[i * g_own + j * g_other]
    uint g_other;
    uint accumulate; // 1: grad += result; 0: grad = result
} pc;

shared float sq_part[CHUNK][LANES];
shared vec4 coef[CHUNK][ROWS / 4];     // g[i, j] / n̂(y_j) for the chunk: [j][i / 4][i % 4]
shared float own_norm[ROWS];           // |x_i|
shared float dot_part[ROWS][gl_WorkGroupSize.x];

// Sums the squares of rows [row0, row0 + CHUNK) of x (own) or y into sq_part, LANES
// invocations per row.
void chunk_sumsq(bool own, uint row0, uint nrows)
{
    uint t = gl_LocalInvocationID.x, r = t / LANES, lane = t % LANES;
    float s = 0.0;
    if (row0 + r < nrows) {
        uint base = (row0 + r) * pc.c;
        for (uint c = lane; c < pc.c; c += LANES) {
            float v = own ? x_[base + c] : y_[base + c];
            s += v * v;
        }
    }
    sq_part[r][lane] = s;
}

float chunk_norm(uint r)
{
    float s = 0.0;
    for (uint l = 0; l < LANES; l++)
        s += sq_part[r][l];
    return sqrt(s);
}

void main()
{
    uint t = gl_LocalInvocationID.x;
    uint blocks = (pc.n_own + ROWS - 1) / ROWS;
    uint width = gl_WorkGroupSize.x * CPT;
    for (uint blk = gl_WorkGroupID.x; blk < blocks; blk += gl_NumWorkGroups.x) {
        uint i0 = blk * ROWS;
        chunk_sumsq(true, i0, min(pc.n_own, i0 + ROWS));
        barrier();
        if (t < ROWS)
            own_norm[t] = chunk_norm(t);
        barrier();
        float inv_own[ROWS], dots[ROWS];
        for (uint i = 0; i < ROWS; i++) {
            inv_own[i] = 1.0 / max(own_norm[i], 1e-12);
            dots[i] = 0.0;
        }
        for (uint pass = 0; pass < pc.c; pass += width) {
            float acc[ROWS][CPT];
            for (uint i = 0; i < ROWS; i++)
                for (uint j = 0; j < CPT; j++)
                    acc[i][j] = 0.0;
            for (uint j0 = 0; j0 < pc.n_other; j0 += CHUNK) {
                chunk_sumsq(false, j0, pc.n_other);
                barrier();
                uint i = t / CHUNK, r = t % CHUNK;
                if (i < ROWS) {
                    float gv = i0 + i < pc.n_own && j0 + r < pc.n_other
                                   ? g_[(i0 + i) * pc.g_own + (j0 + r) * pc.g_other] : 0.0;
                    coef[r][i / 4][i % 4] = gv / max(chunk_norm(r), 1e-12);
                }
                barrier();
                uint rows = min(CHUNK, pc.n_other - j0);
                for (uint rr = 0; rr < rows; rr++) {
                    uint ybase = (j0 + rr) * pc.c;
                    float yv[CPT];
                    for (uint j = 0; j < CPT; j++) {
                        uint c = pass + t + gl_WorkGroupSize.x * j;
                        yv[j] = c < pc.c ? y_[ybase + c] : 0.0;
                    }
                    for (uint q = 0; q < ROWS / 4; q++) {
                        vec4 cf = coef[rr][q];
                        for (uint j = 0; j < CPT; j++) {
                            acc[4 * q][j] += cf.x * yv[j];
                            acc[4 * q + 1][j] += cf.y * yv[j];
                            acc[4 * q + 2][j] += cf.z * yv[j];
                            acc[4 * q + 3][j] += cf.w * yv[j];
                        }
                    }
                }
                barrier(); // coef and sq_part are read before the next chunk writes them
            }
            for (uint ii = 0; ii < ROWS; ii++) {
                if (i0 + ii >= pc.n_own)
                    break;
                uint xbase = (i0 + ii) * pc.c;
                for (uint j = 0; j < CPT; j++) {
                    uint c = pass + t + gl_WorkGroupSize.x * j;
                    if (c < pc.c) {
                        dots[ii] += x_[xbase + c] * acc[ii][j];
                        float base = pc.accumulate != 0 ? grad_[xbase + c] : 0.0;
                        grad_[xbase + c] = base + acc[ii][j] * inv_own[ii];
                    }
                }
            }
        }
        // <x_i, u_i> over the workgroup: a shared-memory tree (LOCAL a power of two)
        for (uint ii = 0; ii < ROWS; ii++)
            dot_part[ii][t] = dots[ii];
        barrier();
        for (uint half_ = gl_WorkGroupSize.x / 2; half_ > 0; half_ >>= 1) {
            if (t < half_)
                for (uint ii = 0; ii < ROWS; ii++)
                    dot_part[ii][t] += dot_part[ii][t + half_];
            barrier();
        }
        for (uint ii = 0; ii < ROWS; ii++) {
            if (i0 + ii >= pc.n_own || own_norm[ii] < 1e-12)
                continue;
            float proj = dot_part[ii][0] * inv_own[ii] * inv_own[ii] * inv_own[ii];
            uint xbase = (i0 + ii) * pc.c;
            for (uint c = t; c < pc.c; c += gl_WorkGroupSize.x)
                grad_[xbase + c] -= proj * x_[xbase + c];
        }
        barrier(); // own_norm and dot_part are read before the next block writes them
    }
}

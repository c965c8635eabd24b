#version 450
// gemm_forward.comp: C = alpha op(A) op(B) + beta C (+ bias[n] on every row), batched.
//
// Tiling: a workgroup computes one BM x BN tile of C (grid-strided over n tiles in x, m tiles
// in y, batches in z), walking k in steps of BK. Each step stages op(A)[BM, BK] and
// op(B)[BK, BN] in shared memory, k-major (As[kk][row], Bs[kk][col]) so that the inner loop
// reads vec4s; each invocation owns a TM x TN block of C in registers (rows ty*TM.., columns
// tx*TN..). The next step's operands are fetched into registers before the current step is
// computed, so global latency overlaps the arithmetic.
//
// Global loads go by quads of 4 consecutive elements along each operand's contiguous
// dimension (k for A and for transposed B, m for transposed A, n for B). With VEC_A / VEC_B
// (the host sets them when the operand's element offset, leading dimension and batch stride
// are multiples of 4) a full quad is one vec4 load through the vec4 binding; otherwise, and
// for a quad cut by the matrix edge, the elements load one by one with bounds checks, and
// what lies outside the matrix reads as 0.
//
// Specialization constants: 0 = workgroup size (BM/TM) * (BN/TN), 3..7 = BM, BN, BK, TM, TN
// (BM, BN, TM, TN multiples of 4; the quad counts of both tiles multiples of the workgroup
// size), 8 = flags: 1 trans_a, 2 trans_b, 4 VEC_A, 8 VEC_B.
// Indices are 32-bit: liblpt caps every tensor at 2^31 - 1 elements.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(constant_id = 3) const uint BM = 128;
layout(constant_id = 4) const uint BN = 64;
layout(constant_id = 5) const uint BK = 16;
layout(constant_id = 6) const uint TM = 8;
layout(constant_id = 7) const uint TN = 4;
layout(constant_id = 8) const uint FLAGS = 0;

const bool TRANS_A = (FLAGS & 1u) != 0u;
const bool TRANS_B = (FLAGS & 2u) != 0u;
const bool VEC_A = (FLAGS & 4u) != 0u;
const bool VEC_B = (FLAGS & 8u) != 0u;

const uint WG = (BM / TM) * (BN / TN);   // invocations
const uint A_QUADS = BM * BK / 4u / WG;  // quads of the A tile each invocation stages
const uint B_QUADS = BN * BK / 4u / WG;

layout(std430, binding = 0) buffer C { float c_[]; };
layout(std430, binding = 1) readonly buffer A { float a_[]; };
layout(std430, binding = 2) readonly buffer B { float b_[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias_[]; };
layout(std430, binding = 4) readonly buffer A4 { vec4 a4_[]; }; // A again, as vec4
layout(std430, binding = 5) readonly buffer B4 { vec4 b4_[]; }; // B again, as vec4

layout(push_constant) uniform Push {
    uint m, n, k;
    uint lda, ldb, ldc;
    uint batch;
    uint stride_a, stride_b, stride_c;   // batch strides in elements
    uint off_a, off_b, off_c, off_bias;  // element offsets of each operand in its binding
    uint has_bias;
    float alpha, beta;
} pc;

shared vec4 As[BK * BM / 4u]; // As[kk * BM/4 + row/4][row % 4] = op(A)[row, kk]
shared vec4 Bs[BK * BN / 4u]; // Bs[kk * BN/4 + col/4][col % 4] = op(B)[kk, col]

vec4 stage_a[A_QUADS];
vec4 stage_b[B_QUADS];

// The quad of A at outer index o, contiguous index c (rows o of the stored matrix), zero
// outside o < o_ext, c < c_ext.
vec4 fetch_a(uint base, uint o, uint c, uint o_ext, uint c_ext)
{
    vec4 v = vec4(0.0);
    if (o >= o_ext)
        return v;
    uint i = base + o * pc.lda + c;
    if (VEC_A && c + 4u <= c_ext)
        return a4_[i >> 2];
    for (uint e = 0u; e < 4u; e++)
        if (c + e < c_ext)
            v[e] = a_[i + e];
    return v;
}

vec4 fetch_b(uint base, uint o, uint c, uint o_ext, uint c_ext)
{
    vec4 v = vec4(0.0);
    if (o >= o_ext)
        return v;
    uint i = base + o * pc.ldb + c;
    if (VEC_B && c + 4u <= c_ext)
        return b4_[i >> 2];
    for (uint e = 0u; e < 4u; e++)
        if (c + e < c_ext)
            v[e] = b_[i + e];
    return v;
}

// Loads the k step starting at k0 of the tile at (m0, n0) into the staging registers.
void load_step(uint tid, uint base_a, uint base_b, uint m0, uint n0, uint k0)
{
    for (uint s = 0u; s < A_QUADS; s++) {
        uint q = tid + s * WG;
        if (TRANS_A) // A stored [k, m]: quads run along m
            stage_a[s] = fetch_a(base_a, k0 + q / (BM / 4u), m0 + 4u * (q % (BM / 4u)), pc.k, pc.m);
        else         // A stored [m, k]: quads run along k
            stage_a[s] = fetch_a(base_a, m0 + q / (BK / 4u), k0 + 4u * (q % (BK / 4u)), pc.m, pc.k);
    }
    for (uint s = 0u; s < B_QUADS; s++) {
        uint q = tid + s * WG;
        if (TRANS_B) // B stored [n, k]: quads run along k
            stage_b[s] = fetch_b(base_b, n0 + q / (BK / 4u), k0 + 4u * (q % (BK / 4u)), pc.n, pc.k);
        else         // B stored [k, n]: quads run along n
            stage_b[s] = fetch_b(base_b, k0 + q / (BN / 4u), n0 + 4u * (q % (BN / 4u)), pc.k, pc.n);
    }
}

// Writes the staged quads into the k-major shared tiles (transposing the k-contiguous ones).
void store_step(uint tid)
{
    for (uint s = 0u; s < A_QUADS; s++) {
        uint q = tid + s * WG;
        if (TRANS_A) {
            As[q] = stage_a[s]; // (kk, row quad) is already the shared layout
        } else {
            uint row = q / (BK / 4u), kk = 4u * (q % (BK / 4u));
            for (uint e = 0u; e < 4u; e++)
                As[((kk + e) * BM + row) >> 2][row & 3u] = stage_a[s][e];
        }
    }
    for (uint s = 0u; s < B_QUADS; s++) {
        uint q = tid + s * WG;
        if (TRANS_B) {
            uint col = q / (BK / 4u), kk = 4u * (q % (BK / 4u));
            for (uint e = 0u; e < 4u; e++)
                Bs[((kk + e) * BN + col) >> 2][col & 3u] = stage_b[s][e];
        } else {
            Bs[q] = stage_b[s];
        }
    }
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint tx = tid % (BN / TN), ty = tid / (BN / TN);
    uint tiles_n = (pc.n + BN - 1u) / BN, tiles_m = (pc.m + BM - 1u) / BM;
    uint steps = (pc.k + BK - 1u) / BK;
    float acc[TM * TN];

    for (uint z = gl_WorkGroupID.z; z < pc.batch; z += gl_NumWorkGroups.z)
    for (uint tm = gl_WorkGroupID.y; tm < tiles_m; tm += gl_NumWorkGroups.y)
    for (uint tn = gl_WorkGroupID.x; tn < tiles_n; tn += gl_NumWorkGroups.x) {
        uint m0 = tm * BM, n0 = tn * BN;
        uint base_a = pc.off_a + z * pc.stride_a, base_b = pc.off_b + z * pc.stride_b;
        for (uint i = 0u; i < TM * TN; i++)
            acc[i] = 0.0;

        load_step(tid, base_a, base_b, m0, n0, 0u);
        for (uint step = 0u; step < steps; step++) {
            barrier(); // everyone is done reading the previous step's tiles
            store_step(tid);
            barrier();
            if (step + 1u < steps)
                load_step(tid, base_a, base_b, m0, n0, (step + 1u) * BK);
            for (uint kk = 0u; kk < BK; kk++) {
                vec4 av[TM / 4u], bv[TN / 4u];
                for (uint i = 0u; i < TM / 4u; i++)
                    av[i] = As[kk * (BM / 4u) + ty * (TM / 4u) + i];
                for (uint j = 0u; j < TN / 4u; j++)
                    bv[j] = Bs[kk * (BN / 4u) + tx * (TN / 4u) + j];
                for (uint i = 0u; i < TM; i++)
                    for (uint j = 0u; j < TN; j++)
                        acc[i * TN + j] += av[i >> 2][i & 3u] * bv[j >> 2][j & 3u];
            }
        }

        uint base_c = pc.off_c + z * pc.stride_c;
        for (uint i = 0u; i < TM; i++) {
            uint row = m0 + ty * TM + i;
            if (row >= pc.m)
                break;
            for (uint j = 0u; j < TN; j++) {
                uint col = n0 + tx * TN + j;
                if (col >= pc.n)
                    break;
                uint idx = base_c + row * pc.ldc + col;
                float v = pc.alpha * acc[i * TN + j];
                if (pc.beta != 0.0)
                    v += pc.beta * c_[idx];
                if (pc.has_bias != 0u)
                    v += bias_[pc.off_bias + col];
                c_[idx] = v;
            }
        }
    }
}

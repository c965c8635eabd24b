// attention.glsl: what the attention kernels share: the push constants (AttnPush in
// src/core/vk/lpt_vk_attention.c), the tile sizes (specialization constants), and the
// index of one head's element in a strided [B, rows, ld] tensor.
//
// Tiles: a workgroup of ROWS * TPR invocations works on a block of ROWS rows (queries for
// the forward and dq kernels, keys for the dk/dv kernel), TPR invocations per row; each
// invocation owns the head dimensions d = j, j + TPR, ... (j = its index within the row), so
// neighbouring invocations touch neighbouring columns. The other operand streams through
// shared memory in tiles of COLS rows. Shared rows are padded to DMAX + 1 floats so that the
// TPR invocations of a row, which read different rows at the same d, hit different banks.
// Buffers are bound from a 256-byte aligned offset (storage offsets must be aligned); the
// off_* fields locate each tensor's first element inside its binding.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(constant_id = 3) const uint ROWS = 32; // rows of the block the workgroup owns
layout(constant_id = 4) const uint COLS = 32; // rows of each streamed tile
layout(constant_id = 5) const uint TPR = 4;   // invocations per row
layout(constant_id = 6) const uint DMAX = 64; // largest head_dim this variant handles

const uint DP = DMAX + 1;                 // padded shared row
const uint DPT = DMAX / TPR;              // head dimensions per invocation
const uint CPT = (COLS + TPR - 1) / TPR;  // tile rows per invocation for the score dots
const float NEG = -3.0e38;                // masked score: exp2(NEG - m) is 0
const float LN2 = 0.69314718055994531;
const float LOG2E = 1.44269504088896341;

layout(push_constant) uniform Push {
    uint batch, heads, head_dim, q_len, kv_len;
    uint ld_q, ld_kv, ld_out;
    uint bs_q, bs_kv, bs_out; // 0 when batch is 1
    uint causal;
    float scale;
    uint off_q, off_k, off_v, off_out, off_lse, off_dout, off_dq, off_dk, off_dv;
} pc;

// Element (b, row, head h, dimension 0) of a tensor with batch stride bs and row stride ld.
uint lpt_at(uint off, uint bs, uint ld, uint b, uint row, uint h)
{
    return off + b * bs + row * ld + h * pc.head_dim;
}

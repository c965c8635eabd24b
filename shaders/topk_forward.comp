#version 450
// topk_forward.comp: the k largest values of each row of in[rows, n], descending, ties to the
// lower index; values[rows, k], indices[rows, k].
//
// One workgroup of W invocations (W a power of two) per row, grid-strided over rows.
// Invocation t owns the elements i = t, t + W, ... and holds its best one in leaf W + t of a
// winner tree in shared memory (node p = the better of nodes 2p and 2p + 1). Each round the
// root is the next element of the output; only its owner changes its leaf (to its best
// element ranked after the winner) and replays its path to the root alone, so a round costs
// one rescan of n / W elements and one barrier. The root is double-buffered (slot j & 1 in
// round j) so that the new root can be written while the others still read the old one.
//
// Ranking uses an unsigned key (NaN below -inf, -0 equal to +0), the same as the CPU kernel.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) writeonly buffer Values { float values_[]; };
layout(std430, binding = 1) writeonly buffer Indices { int indices_[]; };
layout(std430, binding = 2) readonly buffer In { float in_[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint n;
    uint k;
} pc;

const uint W = gl_WorkGroupSize.x;
shared uint s_key[2 * W];
shared uint s_idx[2 * W];
shared uint s_root_key[2];
shared uint s_root_idx[2];

const uint NONE_KEY = 0u;          // with NONE_IDX: ranks below every element
const uint NONE_IDX = 0xFFFFFFFFu;
const uint TOP_KEY = 0xFFFFFFFFu;  // with index 0: ranks above every element

uint order_key(float x)
{
    if (isnan(x))
        return 0u;
    uint b = floatBitsToUint(x);
    if (b == 0x80000000u)
        b = 0u;
    return (b & 0x80000000u) != 0u ? ~b : (b | 0x80000000u);
}

// True when (ka, ia) ranks before (kb, ib).
bool before(uint ka, uint ia, uint kb, uint ib)
{
    return ka > kb || (ka == kb && ia < ib);
}

// This invocation's best element of the row at `base` among those ranked after (lk, li).
void best_after(uint base, uint lk, uint li, out uint bk, out uint bi)
{
    bk = NONE_KEY;
    bi = NONE_IDX;
    for (uint i = gl_LocalInvocationID.x; i < pc.n; i += W) {
        uint key = order_key(in_[base + i]);
        if (before(lk, li, key, i) && before(key, i, bk, bi)) {
            bk = key;
            bi = i;
        }
    }
}

// Recomputes node p from its children; node 1 (the root) goes to root slot `slot`.
void update_node(uint p, uint slot)
{
    uint a = 2u * p, b = a + 1u;
    bool left = before(s_key[a], s_idx[a], s_key[b], s_idx[b]);
    uint key = left ? s_key[a] : s_key[b];
    uint idx = left ? s_idx[a] : s_idx[b];
    if (p == 1u) {
        s_root_key[slot] = key;
        s_root_idx[slot] = idx;
    } else {
        s_key[p] = key;
        s_idx[p] = idx;
    }
}

void main()
{
    uint lid = gl_LocalInvocationID.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base = row * pc.n;
        uint bk, bi;
        best_after(base, TOP_KEY, 0u, bk, bi);
        s_key[W + lid] = bk;
        s_idx[W + lid] = bi;
        barrier();
        for (uint width = W / 2u; width >= 1u; width /= 2u) {
            if (lid < width)
                update_node(width + lid, 0u);
            barrier();
        }
        for (uint j = 0u; j < pc.k; j++) {
            uint wk = s_root_key[j & 1u], wi = s_root_idx[j & 1u];
            if (wi % W == lid) {
                values_[row * pc.k + j] = in_[base + wi];
                indices_[row * pc.k + j] = int(wi);
                if (j + 1u < pc.k) {
                    best_after(base, wk, wi, bk, bi);
                    uint p = W + lid;
                    s_key[p] = bk;
                    s_idx[p] = bi;
                    while (p > 1u) {
                        p /= 2u;
                        update_node(p, (j + 1u) & 1u);
                    }
                }
            }
            barrier();
        }
    }
}

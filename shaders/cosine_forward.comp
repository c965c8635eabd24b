#version 450
// cosine_forward.comp: logits[B, K] = <f_b, w_k> / (max(|f_b|, 1e-12) max(|w_k|, 1e-12)).
// A 16 x 16 workgroup computes a TILE (b) x TILE (k) tile of logits, a 4 x 4 block per
// invocation (rows 4 ty.., classes 4 tx..), stepping through C in slices of DEPTH that are
// staged column-major in shared memory as vec4s of 4 consecutive rows, so the inner loop
// reads two vec4s per 16 multiply-adds. The squared norms of the tile's TILE f rows and TILE
// w rows are summed from the same slices (two invocations per row), so the norms cost no
// pass of their own. Tiles beyond the dispatched grid are strided over.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) writeonly buffer Logits { float logits_[]; };
layout(std430, binding = 1) readonly buffer F { float f_[]; };
layout(std430, binding = 2) readonly buffer W { float w_[]; };

layout(push_constant) uniform Push {
    uint batch;
    uint classes;
    uint c;
} pc;

#define TILE 64u  // = 16 invocations x 4
#define DEPTH 16u // TILE * DEPTH = 4 staged values per invocation and operand
#define QUADS (TILE / 4u)
shared vec4 fs[DEPTH][QUADS]; // fs[c][q][i] = f[b0 + 4 q + i][c0 + c]
shared vec4 ws[DEPTH][QUADS];
shared float sq_part[2u * TILE][2]; // rows 0..TILE-1: f, TILE..: w; two halves of a slice

void main()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = gl_LocalInvocationIndex;
    uint tiles_b = (pc.batch + TILE - 1) / TILE, tiles_k = (pc.classes + TILE - 1) / TILE;
    uint nrow = tid >> 1, nhalf = tid & 1u; // this invocation's share of the norms
    for (uint tb = gl_WorkGroupID.y; tb < tiles_b; tb += gl_NumWorkGroups.y) {
        for (uint tk = gl_WorkGroupID.x; tk < tiles_k; tk += gl_NumWorkGroups.x) {
            uint b0 = tb * TILE, k0 = tk * TILE;
            vec4 acc[4] = vec4[4](vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
            float sq = 0.0;
            for (uint c0 = 0; c0 < pc.c; c0 += DEPTH) {
                for (uint l = 0; l < 4; l++) {
                    uint i = tid + 256u * l, row = i / DEPTH, col = i % DEPTH, cc = c0 + col;
                    fs[col][row / 4][row % 4] =
                        b0 + row < pc.batch && cc < pc.c ? f_[(b0 + row) * pc.c + cc] : 0.0;
                    ws[col][row / 4][row % 4] =
                        k0 + row < pc.classes && cc < pc.c ? w_[(k0 + row) * pc.c + cc] : 0.0;
                }
                barrier();
                for (uint cc = 0; cc < DEPTH; cc++) {
                    vec4 a = fs[cc][ty], b = ws[cc][tx];
                    acc[0] += a.x * b;
                    acc[1] += a.y * b;
                    acc[2] += a.z * b;
                    acc[3] += a.w * b;
                }
                for (uint i = 0; i < DEPTH / 2; i++) {
                    uint cc = nhalf * (DEPTH / 2) + i, r = nrow % TILE;
                    float v = nrow < TILE ? fs[cc][r / 4][r % 4] : ws[cc][r / 4][r % 4];
                    sq += v * v;
                }
                barrier();
            }
            sq_part[nrow][nhalf] = sq;
            barrier();
            vec4 inv_w;
            for (uint j = 0; j < 4; j++) {
                uint r = TILE + 4 * tx + j;
                inv_w[j] = 1.0 / max(sqrt(sq_part[r][0] + sq_part[r][1]), 1e-12);
            }
            for (uint i = 0; i < 4; i++) {
                uint b = b0 + 4 * ty + i, r = 4 * ty + i;
                float inv_f = 1.0 / max(sqrt(sq_part[r][0] + sq_part[r][1]), 1e-12);
                vec4 out4 = acc[i] * inv_f * inv_w;
                for (uint j = 0; j < 4; j++) {
                    uint k = k0 + 4 * tx + j;
                    if (b < pc.batch && k < pc.classes)
                        logits_[b * pc.classes + k] = out4[j];
                }
            }
            barrier(); // sq_part is read before the next tile writes it
        }
    }
}

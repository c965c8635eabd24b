#version 450
// patchify_forward.comp: patch rows for the patch-embedding GEMM (im2col, stride = kernel = p):
//   out[b, py * gw + px, (c * p + ky) * p + kx] = images[b, c, py * p + ky, px * p + kx],
// gw = W / p. One invocation per output value, grid-strided; consecutive invocations write
// consecutive values of a row and read runs of p consecutive pixels.
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer Images { float images[]; };

layout(push_constant) uniform Push {
    uint total;           // B * N * Ch * p * p
    uint channels, height, width, patch_size;
    uint off_out, off_images; // element offsets of each tensor in its binding
} pc;

void main()
{
    uint p = pc.patch_size, pp = p * p;
    uint row_len = pc.channels * pp;
    uint gw = pc.width / p;
    uint patches = (pc.height / p) * gw;
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
        uint row = i / row_len, col = i - row * row_len;
        uint b = row / patches, n = row - b * patches;
        uint py = n / gw, px = n - py * gw;
        uint c = col / pp, r = col - c * pp;
        uint ky = r / p, kx = r - ky * p;
        uint src = ((b * pc.channels + c) * pc.height + py * p + ky) * pc.width + px * p + kx;
        out_[pc.off_out + i] = images[pc.off_images + src];
    }
}

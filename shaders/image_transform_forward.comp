#version 450
// image_transform_forward.comp: crop + resize + flip + gray->RGB + normalise of u8 HWC images
// into float NCHW (the sampling contract is in src/core/cpu/lpt_cpu_image.c and lpt_ops.h).
// One invocation per output pixel (x, y) of image z, all three channels; grid-strided in x,
// y and z. The u8 source is read as uint words (4 bytes each), so no 8-bit storage feature
// is needed. Bindings start at arena-aligned offsets; the shifts say where each tensor
// starts inside its binding.
// BICUBIC (specialization constant 3) selects 4 taps per axis with Keys' a = -0.75, else 2
// (bilinear).
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint BICUBIC = 0;

layout(std430, binding = 0) writeonly buffer Out { float out_[]; };
layout(std430, binding = 1) readonly buffer Src { uint src_[]; };
layout(std430, binding = 2) readonly buffer Boxes { float boxes_[]; };

layout(push_constant) uniform Push {
    uint batch, src_h, src_w, src_c;
    uint out_h, out_w, src_shift, boxes_shift; // shifts: where each tensor starts in its
    uint out_shift, pad0, pad1, pad2;            // binding (bytes, floats, floats)
    float na0, na1, na2; // out = v * na[c] + nb[c]: na = 1 / (255 std), nb = -mean / std
    float nb0, nb1, nb2;
} pc;

const int TAPS = BICUBIC != 0 ? 4 : 2;

// The byte at index i of the source, as a float.
float src_at(uint i)
{
    return float((src_[i >> 2] >> ((i & 3u) * 8u)) & 0xFFu);
}

// Source sampling scale w / n. Vulkan allows 2.5 ulp for division, so the identity case is
// spelled out: a box as wide as the output samples the pixel centres exactly.
float box_scale(float w, uint n)
{
    return w == float(n) ? 1.0 : w / float(n);
}

// Clamped tap indices and weights at the unclamped source coordinate pos (n pixels).
// Clamping fl first keeps the int conversion in range (all taps clamp alike beyond it);
// a NaN pos gives NaN weights, and the integer clamp keeps the reads in bounds.
void taps_at(float pos, int n, out int idx[4], out float w[4])
{
    float fl = floor(pos);
    float t = pos - fl;
    int i = int(clamp(fl, -4.0, float(n) + 4.0));
    int first = i;
    if (BICUBIC != 0) {
        const float a = -0.75;
        float x1 = t + 1.0, x2 = 1.0 - t, x3 = 2.0 - t;
        w[0] = ((a * x1 - 5.0 * a) * x1 + 8.0 * a) * x1 - 4.0 * a;
        w[1] = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
        w[2] = ((a + 2.0) * x2 - (a + 3.0)) * x2 * x2 + 1.0;
        w[3] = ((a * x3 - 5.0 * a) * x3 + 8.0 * a) * x3 - 4.0 * a;
        first = i - 1;
    } else {
        w[0] = 1.0 - t;
        w[1] = t;
        w[2] = 0.0;
        w[3] = 0.0;
    }
    for (int k = 0; k < 4; k++)
        idx[k] = clamp(first + k, 0, n - 1);
}

// The source pixel at byte index i as RGB (a gray pixel replicated).
vec3 pixel_at(uint i)
{
    float r = src_at(i);
    return pc.src_c == 3u ? vec3(r, src_at(i + 1u), src_at(i + 2u)) : vec3(r);
}

void main()
{
    const vec3 na = vec3(pc.na0, pc.na1, pc.na2);
    const vec3 nb = vec3(pc.nb0, pc.nb1, pc.nb2);
    const uint C = pc.src_c;
    const uint plane = pc.out_h * pc.out_w;
    const uvec3 stride = gl_NumWorkGroups * gl_WorkGroupSize;
    for (uint b = gl_GlobalInvocationID.z; b < pc.batch; b += stride.z) {
        uint bx = pc.boxes_shift + b * 5u;
        float x0 = boxes_[bx], y0 = boxes_[bx + 1u];
        float sx = box_scale(boxes_[bx + 2u], pc.out_w);
        float sy = box_scale(boxes_[bx + 3u], pc.out_h);
        bool flip = boxes_[bx + 4u] != 0.0;
        uint img = pc.src_shift + b * pc.src_h * pc.src_w * C;
        for (uint oy = gl_GlobalInvocationID.y; oy < pc.out_h; oy += stride.y) {
            int yi[4];
            float wy[4];
            taps_at(y0 + ((float(oy) + 0.5) * sy - 0.5), int(pc.src_h), yi, wy);
            for (uint ox = gl_GlobalInvocationID.x; ox < pc.out_w; ox += stride.x) {
                uint ux = flip ? pc.out_w - 1u - ox : ox;
                int xi[4];
                float wx[4];
                taps_at(x0 + ((float(ux) + 0.5) * sx - 0.5), int(pc.src_w), xi, wx);
                // vertical first, then horizontal, in the order the CPU kernel sums
                vec3 v = vec3(0.0);
                for (int k = 0; k < TAPS; k++) {
                    vec3 col = vec3(0.0);
                    for (int j = 0; j < TAPS; j++)
                        col += wy[j] * pixel_at(img + (uint(yi[j]) * pc.src_w + uint(xi[k])) * C);
                    v += wx[k] * col;
                }
                uint o = pc.out_shift + b * 3u * plane + oy * pc.out_w + ox;
                vec3 r = v * na + nb;
                out_[o] = r.x;
                out_[o + plane] = r.y;
                out_[o + 2u * plane] = r.z;
            }
        }
    }
}

// agcl.glsl: the body shared by agcl_forward.comp and agcl_backward.comp: the A-GCL loss
// (method.md section 4; the gradient's derivation is in src/core/cpu/lpt_cpu_classifier.c).
// One workgroup per sample, grid-strided over samples. A sample's adjusted logits
//   z_k = scale * (cos_k - noise * eps_k * margins_k - [k = y] margin)
// are recomputed in every pass (the noise from philox.glsl) rather than stored, so any K
// works: pass 1 is an online log-sum-exp that also sums the non-target terms (1 - p_y keeps
// its digits), later passes sum the loss or the gradient's Q. Workgroup sums go through a
// shared-memory tree, so the workgroup size must be a power of two.
// Labels outside [0, K) (not checked on the host: they live on the device) skip the sample:
// loss 0 and a zero gradient row, as on the CPU backend.
#include "philox.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Out { float out_[]; }; // loss [B] or dcos [B, K]
layout(std430, binding = 1) readonly buffer Cos { float cos_[]; };
layout(std430, binding = 2) readonly buffer Labels { int labels_[]; };
layout(std430, binding = 3) readonly buffer Margins { float margins_[]; };

layout(push_constant) uniform Push {
    uint batch;
    uint classes;
    float gamma_pos;
    float gamma_neg;
    float scale;
    float margin;
    float noise;
    float smoothing;
    uint seed_lo;
    uint seed_hi;
    uint step;
    float grad_scale;
} pc;

shared vec3 agcl_partial[gl_WorkGroupSize.x];

#define NEG_INF uintBitsToFloat(0xFF800000u)

// z_k for sample b with label y.
float agcl_logit(uint b, uint k, uint y)
{
    float c = cos_[b * pc.classes + k];
    if (pc.noise > 0.0)
        c -= pc.noise * lpt_agcl_noise(pc.seed_lo, pc.seed_hi, pc.step, b, k) * margins_[k];
    if (k == y)
        c -= pc.margin;
    return pc.scale * c;
}

// Log-sum-exp state (max m, sum of e^(z - m), the same sum without the target); m = -inf
// with zero sums is empty.
vec3 lse_merge(vec3 a, vec3 b)
{
    float m = max(a.x, b.x);
    float fa = a.x == NEG_INF ? 0.0 : exp(a.x - m);
    float fb = b.x == NEG_INF ? 0.0 : exp(b.x - m);
    return vec3(m, a.y * fa + b.y * fb, a.z * fa + b.z * fb);
}

// Merges the invocations' states (uniform control flow), in a fixed order.
vec3 group_lse(vec3 v)
{
    uint t = gl_LocalInvocationID.x;
    agcl_partial[t] = v;
    barrier();
    for (uint half_ = gl_WorkGroupSize.x / 2; half_ > 0; half_ >>= 1) {
        if (t < half_)
            agcl_partial[t] = lse_merge(agcl_partial[t], agcl_partial[t + half_]);
        barrier();
    }
    vec3 s = agcl_partial[0];
    barrier();
    return s;
}

// Sum of one float over the workgroup (uniform control flow).
float group_sum(float v)
{
    uint t = gl_LocalInvocationID.x;
    agcl_partial[t].x = v;
    barrier();
    for (uint half_ = gl_WorkGroupSize.x / 2; half_ > 0; half_ >>= 1) {
        if (t < half_)
            agcl_partial[t].x += agcl_partial[t + half_].x;
        barrier();
    }
    float s = agcl_partial[0].x;
    barrier();
    return s;
}

// What a row's later passes need.
struct AgclRow {
    float lse;  // log sum_k e^z_k
    float wy;   // target weight max(1 - p_y, 1e-12)^gamma_pos (1 when gamma_pos = 0)
    float ay;   // d w_y / d z_i = ay (δ_iy - p_i)
};

AgclRow agcl_row(uint b, uint y)
{
    vec3 st = vec3(NEG_INF, 0.0, 0.0);
    for (uint k = gl_LocalInvocationID.x; k < pc.classes; k += gl_WorkGroupSize.x) {
        float z = agcl_logit(b, k, y);
        float other = k == y ? 0.0 : 1.0;
        if (z > st.x) {
            float f = st.x == NEG_INF ? 0.0 : exp(st.x - z);
            st = vec3(z, st.y * f + 1.0, st.z * f + other);
        } else {
            float e = exp(z - st.x);
            st.y += e;
            st.z += e * other;
        }
    }
    st = group_lse(st);
    AgclRow r;
    r.lse = st.x + log(st.y);
    float omp = st.z / st.y; // 1 - p_y
    r.wy = 1.0;
    r.ay = 0.0;
    if (pc.gamma_pos > 0.0) {
        float c = max(omp, 1e-12);
        r.wy = pow(c, pc.gamma_pos);
        if (omp > 1e-12)
            r.ay = -pc.gamma_pos * pow(c, pc.gamma_pos - 1.0) *
                   exp(agcl_logit(b, y, y) - r.lse);
    }
    return r;
}

// ỹ_k for the target or another class.
float agcl_target(bool target)
{
    float share = pc.smoothing / float(pc.classes);
    return target ? 1.0 - pc.smoothing + share : share;
}

// w_k and its a_k (see lpt_cpu_classifier.c) for log-probability l.
float agcl_weight(AgclRow r, bool target, float l, out float a)
{
    if (target) {
        a = r.ay;
        return r.wy;
    }
    float w = pc.gamma_neg > 0.0 ? exp(pc.gamma_neg * l) : 1.0;
    a = pc.gamma_neg * w;
    return w;
}

// The label of sample b, or -1 when it is outside [0, K).
int agcl_label(uint b)
{
    int y = labels_[b];
    return y >= 0 && uint(y) < pc.classes ? y : -1;
}

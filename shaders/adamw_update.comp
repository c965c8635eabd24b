#version 450
// adamw_update.comp: AdamW (decoupled weight decay), in place, as PyTorch computes it:
// theta *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// theta -= step_size m / (sqrt(v) / bc2_sqrt + eps), with step_size = lr / (1 - b1^t) and
// bc2_sqrt = sqrt(1 - b2^t) computed on the host. One invocation per value, grid-strided.
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Param { float param_[]; };
layout(std430, binding = 1) buffer M { float m_[]; };
layout(std430, binding = 2) buffer V { float v_[]; };
layout(std430, binding = 3) readonly buffer Grad { float grad_[]; };

layout(push_constant) uniform Push {
    uint n;
    float decay;
    float beta1;
    float beta2;
    float step_size;
    float bc2_sqrt;
    float eps;
} pc;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float g = grad_[i];
        float m = pc.beta1 * m_[i] + (1.0 - pc.beta1) * g;
        float v = pc.beta2 * v_[i] + (1.0 - pc.beta2) * g * g;
        m_[i] = m;
        v_[i] = v;
        float denom = sqrt(v) / pc.bc2_sqrt + pc.eps;
        param_[i] = param_[i] * pc.decay - pc.step_size * m / denom;
    }
}

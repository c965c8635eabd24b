#version 450
// sgd_update.comp: SGD with momentum, in place (method.md section 6):
// v = momentum v + g + weight_decay theta; theta -= lr v. One invocation per value,
// grid-strided so that n beyond 65535 workgroups is covered.
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Param { float param_[]; };
layout(std430, binding = 1) buffer Velocity { float velocity_[]; };
layout(std430, binding = 2) readonly buffer Grad { float grad_[]; };

layout(push_constant) uniform Push {
    uint n;
    float lr;
    float momentum;
    float weight_decay;
} pc;

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
        float theta = param_[i];
        float v = pc.momentum * velocity_[i] + grad_[i] + pc.weight_decay * theta;
        velocity_[i] = v;
        param_[i] = theta - pc.lr * v;
    }
}

#version 450
// agcl_backward.comp: dcos[b, k] = grad_scale * scale * (p_k Q - q_k) with
// q_k = ỹ_k (a_k log p_k + w_k), Q = sum_k q_k (derivation in lpt_cpu_classifier.c), one
// workgroup per sample (agcl.glsl).
#extension GL_GOOGLE_include_directive : require
#include "agcl.glsl"

// q_k for log-probability l.
float agcl_q(AgclRow r, bool target, float l)
{
    float a;
    float w = agcl_weight(r, target, l, a);
    return agcl_target(target) * (a * l + w);
}

void main()
{
    uint tid = gl_LocalInvocationID.x;
    float gscale = pc.grad_scale * pc.scale;
    for (uint b = gl_WorkGroupID.x; b < pc.batch; b += gl_NumWorkGroups.x) {
        uint row = b * pc.classes;
        int label = agcl_label(b);
        if (label < 0) { // uniform in the workgroup
            for (uint k = tid; k < pc.classes; k += gl_WorkGroupSize.x)
                out_[row + k] = 0.0;
            continue;
        }
        uint y = uint(label);
        AgclRow r = agcl_row(b, y);
        float q_sum = 0.0;
        for (uint k = tid; k < pc.classes; k += gl_WorkGroupSize.x)
            q_sum += agcl_q(r, k == y, agcl_logit(b, k, y) - r.lse);
        q_sum = group_sum(q_sum);
        for (uint k = tid; k < pc.classes; k += gl_WorkGroupSize.x) {
            float l = agcl_logit(b, k, y) - r.lse;
            out_[row + k] = gscale * (exp(l) * q_sum - agcl_q(r, k == y, l));
        }
    }
}

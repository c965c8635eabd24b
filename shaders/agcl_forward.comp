#version 450
// agcl_forward.comp: loss[b] = - sum_k ỹ_k w_k log p_k, one workgroup per sample
// (agcl.glsl).
#extension GL_GOOGLE_include_directive : require
#include "agcl.glsl"

void main()
{
    uint tid = gl_LocalInvocationID.x;
    for (uint b = gl_WorkGroupID.x; b < pc.batch; b += gl_NumWorkGroups.x) {
        int label = agcl_label(b);
        if (label < 0) { // uniform in the workgroup
            if (tid == 0)
                out_[b] = 0.0;
            continue;
        }
        uint y = uint(label);
        AgclRow r = agcl_row(b, y);
        float total = 0.0;
        for (uint k = tid; k < pc.classes; k += gl_WorkGroupSize.x) {
            float l = agcl_logit(b, k, y) - r.lse, a;
            total += agcl_target(k == y) * agcl_weight(r, k == y, l, a) * l;
        }
        total = group_sum(total);
        if (tid == 0)
            out_[b] = -total;
    }
}

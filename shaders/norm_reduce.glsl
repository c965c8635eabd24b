// norm_reduce.glsl: the workgroup-wide sum every row-normalisation kernel uses
// (layernorm_*, l2norm_*). One workgroup owns one row; lpt_group_sum adds a vec4 over all its
// invocations and returns the total to every invocation, in a fixed order (deterministic).
// With LPT_SUBGROUP defined (the *_sg.comp variants, chosen when the device has subgroup
// arithmetic in compute) each subgroup adds with subgroupAdd and the subgroup totals meet
// in shared memory; otherwise a shared-memory tree, which needs a power-of-two workgroup.
// Must be called in uniform control flow.
#ifndef NORM_REDUCE_GLSL
#define NORM_REDUCE_GLSL

layout(local_size_x_id = 0) in;

shared vec4 lpt_partial[gl_WorkGroupSize.x];

vec4 lpt_group_sum(vec4 v)
{
#ifdef LPT_SUBGROUP
    v = subgroupAdd(v);
    if (subgroupElect())
        lpt_partial[gl_SubgroupID] = v;
    barrier();
    vec4 s = vec4(0.0);
    for (uint i = 0; i < gl_NumSubgroups; i++)
        s += lpt_partial[i];
#else
    uint t = gl_LocalInvocationID.x;
    lpt_partial[t] = v;
    barrier();
    for (uint half_ = gl_WorkGroupSize.x / 2; half_ > 0; half_ >>= 1) {
        if (t < half_)
            lpt_partial[t] += lpt_partial[t + half_];
        barrier();
    }
    vec4 s = lpt_partial[0];
#endif
    barrier(); // everyone has read lpt_partial before the next call writes it
    return s;
}

#endif

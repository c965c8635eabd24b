// row_reduce.glsl: sum or max over the `seg` consecutive invocations of a workgroup that
// share one row (seg a power of two dividing the workgroup size, which must be a power of
// two). A shared-memory tree in general; with LPT_SUBGROUP defined (only when the device has
// subgroup arithmetic) a whole-workgroup row reduces within each subgroup in registers and
// then over one shared slot per subgroup. Every invocation of the workgroup must call it in
// uniform control flow; each gets its row's result. Partials combine in a fixed order, so
// results are deterministic on a given device.
#ifndef LPT_ROW_REDUCE_GLSL
#define LPT_ROW_REDUCE_GLSL

#ifdef LPT_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float lpt_red[gl_WorkGroupSize.x];

float lpt_combine(float a, float b, bool is_max)
{
    return is_max ? max(a, b) : a + b;
}

float lpt_row_reduce(float x, uint seg, bool is_max)
{
    uint tid = gl_LocalInvocationID.x;
#ifdef LPT_SUBGROUP
    if (seg == gl_WorkGroupSize.x) {
        x = is_max ? subgroupMax(x) : subgroupAdd(x);
        barrier(); // earlier readers of lpt_red are done
        if (subgroupElect())
            lpt_red[gl_SubgroupID] = x;
        barrier();
        float r = lpt_red[0];
        for (uint i = 1; i < gl_NumSubgroups; i++)
            r = lpt_combine(r, lpt_red[i], is_max);
        return r;
    }
#endif
    uint lane = tid & (seg - 1);
    barrier(); // earlier readers of lpt_red are done
    lpt_red[tid] = x;
    barrier();
    for (uint s = seg / 2; s > 0; s >>= 1) {
        if (lane < s)
            lpt_red[tid] = lpt_combine(lpt_red[tid], lpt_red[tid + s], is_max);
        barrier();
    }
    return lpt_red[tid - lane];
}

#endif

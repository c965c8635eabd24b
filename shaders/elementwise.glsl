// elementwise.glsl: the frame of a one-value-per-invocation kernel over n values.
// The including shader defines `float lpt_apply(uint i)` and writes its output itself; the
// loop strides by the whole grid so that n beyond 65535 workgroups is still covered.
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n;
    float alpha;
} pc;

void lpt_apply(uint i);

void main()
{
    uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride)
        lpt_apply(i);
}

// philox.glsl: the A-GCL noise, the same function as lpt_agcl_noise() in src/core/lpt_ops.c:
// Philox4x32-10 (Salmon et al., SC'11) on the counter (sample, class, step, 0) with the key
// (seed low word, seed high word), then Box-Muller on its first two words:
//   u1 = ((x0 >> 8) + 1) / 2^24 in (0, 1],  u2 = (x1 >> 8) / 2^24 in [0, 1),
//   eps = |clamp(sqrt(-2 log u1) cos(2 pi u2) / 3, -1, 1)|.
// The integer part is bit-exact. GLSL's log and cos are too loose for the two to agree
// (Vulkan allows cos an absolute error of 2^-11), so log and cos(2 pi u) are computed here
// with float polynomials accurate to about 1 ulp, like the C library's logf and cosf.
#ifndef PHILOX_GLSL
#define PHILOX_GLSL

uvec4 lpt_philox4x32(uvec4 ctr, uvec2 key)
{
    for (int round = 0; round < 10; round++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, ctr.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, ctr.z, hi1, lo1);
        ctr = uvec4(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key += uvec2(0x9E3779B9u, 0xBB67AE85u);
    }
    return ctr;
}

// Natural log of a positive normal float (Cephes logf: |relative error| < 2e-7).
float lpt_log_accurate(float x)
{
    int e;
    float m = frexp(x, e); // x = m 2^e, m in [0.5, 1)
    if (m < 0.70710678118654752) {
        e -= 1;
        m = m + m - 1.0;
    } else {
        m = m - 1.0;
    }
    float z = m * m;
    float y = ((((((((7.0376836292e-2 * m - 1.1514610310e-1) * m + 1.1676998740e-1) * m -
                    1.2420140846e-1) * m + 1.4249322787e-1) * m - 1.6668057665e-1) * m +
                 2.0000714765e-1) * m - 2.4999993993e-1) * m + 3.3333331174e-1) * m * z;
    float fe = float(e);
    y += -2.12194440e-4 * fe;
    y += -0.5 * z;
    return (m + y) + 0.693359375 * fe;
}

// cos(2 pi u) for u in [0, 1): the quadrant comes from u exactly (u has 24 bits), the rest
// from Cephes' sinf/cosf polynomials on [-pi/4, pi/4].
float lpt_cos_2pi(float u)
{
    float t = 4.0 * u;
    float q = floor(t + 0.5);
    float a = (t - q) * 1.5707963267948966;
    float a2 = a * a;
    float s = a + a * a2 * (-1.6666654611e-1 + a2 * (8.3321608736e-3 + a2 * -1.9515295891e-4));
    float c = 1.0 - 0.5 * a2 +
              a2 * a2 * (4.166664568298827e-2 + a2 * (-1.388731625493765e-3 +
                                                     a2 * 2.443315711809948e-5));
    uint quadrant = uint(q) & 3u;
    return quadrant == 0u ? c : (quadrant == 1u ? -s : (quadrant == 2u ? -c : s));
}

float lpt_agcl_noise(uint seed_lo, uint seed_hi, uint step, uint sample_index, uint cls)
{
    uvec4 x = lpt_philox4x32(uvec4(sample_index, cls, step, 0u), uvec2(seed_lo, seed_hi));
    float u1 = float((x.x >> 8) + 1u) * (1.0 / 16777216.0);
    float u2 = float(x.y >> 8) * (1.0 / 16777216.0);
    float z = sqrt(max(-2.0 * lpt_log_accurate(u1), 0.0)) * lpt_cos_2pi(u2);
    return abs(clamp(z * (1.0 / 3.0), -1.0, 1.0));
}

#endif

/* lpt_cpu_math.h: exp and erf in a form the compiler vectorises (no libm calls, no errno),
 * for the CPU kernels' inner loops. Accuracy: lpt_expf relative error < 2e-7 over the float
 * range above -87.3 (below: e^-87.3; saturates at e^88 above 88); lpt_erff absolute error
 * < 2e-7 (Abramowitz & Stegun 7.1.26 with lpt_expf). NaN propagates. */
#ifndef LPT_CPU_MATH_H
#define LPT_CPU_MATH_H

#include <stdint.h>
#include <string.h>

/* e^x = 2^n e^r with n = round(x / ln 2), |r| <= ln2 / 2; e^r by a degree-6 polynomial.
 * Branch-free so that loops over it vectorise; rounding by the 1.5 * 2^23 trick. */
static inline float lpt_expf(float x)
{
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504089f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f; /* ln 2, split for exactness */
    r = r - n * 1.428606765330187e-06f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f +
              r * (0.0083333338f + r * 0.0013888889f)))));
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* n in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* erf(x) = 1 - (a1 t + ... + a5 t^5) e^{-x^2}, t = 1 / (1 + 0.3275911 |x|). */
static inline float lpt_erff(float x)
{
    float z = x < 0.0f ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * z);
    float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f +
                 t * (-1.453152027f + t * 1.061405429f))));
    float r = 1.0f - poly * lpt_expf(-z * z);
    return __builtin_copysignf(r, x);
}

#endif

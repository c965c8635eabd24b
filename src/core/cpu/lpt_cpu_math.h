/* lpt_cpu_math.h: exp and erf in a form the compiler vectorises (no libm calls, no errno),
 * for the CPU kernels' inner loops, and the switch to AVX2 or AVX-512 copies of them.
 * Accuracy: lpt_expf relative error < 2e-7 over the float range above -87.3 (below: e^-87.3;
 * saturates at e^88 above 88); lpt_erff absolute error < 2e-7 (Abramowitz & Stegun 7.1.26
 * with lpt_expf). NaN propagates.
 *
 * The build targets the baseline ISA (SSE2 on x86-64). On x86-64 with GCC or Clang
 * (LPT_CPU_HAVE_X86), a kernel can also compile its hot loops again with LPT_CPU_AVX2 (8-lane
 * vectors) or LPT_CPU_AVX512 (16-lane), a * b + c fused into FMA, and pick the copy that
 * lpt_cpu_isa() allows; elsewhere only the baseline copy exists. */
#ifndef LPT_CPU_MATH_H
#define LPT_CPU_MATH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Instruction sets a kernel may have copies for, in increasing order. */
typedef enum LptCpuIsa {
    LPT_CPU_ISA_BASELINE = 0,
    LPT_CPU_ISA_AVX2 = 1,   /* AVX2 and FMA */
    LPT_CPU_ISA_AVX512 = 2, /* AVX-512F (with AVX2 and FMA) */
} LptCpuIsa;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LPT_CPU_HAVE_X86 1
/* GCC in ISO C mode does not fuse a * b + c; these copies ask it to (Clang fuses within an
 * expression by default). */
#if defined(__clang__)
#define LPT_CPU_AVX2 __attribute__((target("avx2,fma")))
#define LPT_CPU_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define LPT_CPU_AVX2 __attribute__((target("avx2,fma"), optimize("fp-contract=fast")))
#define LPT_CPU_AVX512                                                                         \
    __attribute__((target("avx512f,avx2,fma"), optimize("fp-contract=fast")))
#endif
/* The best of those the CPU and OS support (libgcc's cpu model checks the XSAVE state), capped
 * by LPT_CPU_ISA=baseline or LPT_CPU_ISA=avx2 in the environment (so tests can cover every
 * copy; LPT_CPU_ISA=avx512 caps nothing, and tests/op_check.c skips a run whose copy the CPU
 * lacks). */
static inline LptCpuIsa lpt_cpu_isa(void)
{
    LptCpuIsa isa = LPT_CPU_ISA_BASELINE;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = __builtin_cpu_supports("avx512f") ? LPT_CPU_ISA_AVX512 : LPT_CPU_ISA_AVX2;
    const char *cap = getenv("LPT_CPU_ISA");
    if (cap && strcmp(cap, "baseline") == 0)
        isa = LPT_CPU_ISA_BASELINE;
    else if (cap && strcmp(cap, "avx2") == 0 && isa > LPT_CPU_ISA_AVX2)
        isa = LPT_CPU_ISA_AVX2;
    return isa;
}
#else
#define LPT_CPU_HAVE_X86 0
static inline LptCpuIsa lpt_cpu_isa(void)
{
    return LPT_CPU_ISA_BASELINE;
}
#endif

/* The names LPT_CPU_ISA takes: "baseline", "avx2", "avx512". */
static inline const char *lpt_cpu_isa_name(LptCpuIsa isa)
{
    return isa == LPT_CPU_ISA_AVX512 ? "avx512" : isa == LPT_CPU_ISA_AVX2 ? "avx2" : "baseline";
}

/* Forces inlining, so that a body shared by a baseline and an LPT_CPU_AVX2 function is
 * compiled for each caller's ISA. */
#define LPT_CPU_INLINE static inline __attribute__((always_inline))

/* Defines `static LptCpuTask name(void)` (lpt_cpu.h) returning a parallel-loop task that runs
 * body(ctx, begin, end), an LPT_CPU_INLINE function, compiled for the best ISA of the CPU. */
#if LPT_CPU_HAVE_X86
#define LPT_CPU_TASK(name, body)                                                               \
    static void name##_base(void *ctx, size_t begin, size_t end)                               \
    {                                                                                          \
        body(ctx, begin, end);                                                                 \
    }                                                                                          \
    LPT_CPU_AVX2 static void name##_avx2(void *ctx, size_t begin, size_t end)                  \
    {                                                                                          \
        body(ctx, begin, end);                                                                 \
    }                                                                                          \
    LPT_CPU_AVX512 static void name##_avx512(void *ctx, size_t begin, size_t end)              \
    {                                                                                          \
        body(ctx, begin, end);                                                                 \
    }                                                                                          \
    static LptCpuTask name(void)                                                               \
    {                                                                                          \
        LptCpuIsa isa = lpt_cpu_isa();                                                         \
        return isa == LPT_CPU_ISA_AVX512 ? name##_avx512                                       \
               : isa == LPT_CPU_ISA_AVX2 ? name##_avx2                                         \
                                         : name##_base;                                        \
    }
#else
#define LPT_CPU_TASK(name, body)                                                               \
    static void name##_base(void *ctx, size_t begin, size_t end)                               \
    {                                                                                          \
        body(ctx, begin, end);                                                                 \
    }                                                                                          \
    static LptCpuTask name(void)                                                               \
    {                                                                                          \
        return name##_base;                                                                    \
    }
#endif

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

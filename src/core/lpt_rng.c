/* lpt_rng.c: PCG32 (XSH-RR), bounded draws, floats, normals and shuffles. See lpt_rng.h. */
#include "lpt_rng.h"

#include <math.h>

#define LPT_RNG_MULTIPLIER UINT64_C(6364136223846793005)

void lpt_rng_seed(LptRng *rng, uint64_t seed, uint64_t stream)
{
    rng->state = 0;
    rng->inc = (stream << 1) | 1u;
    lpt_rng_u32(rng);
    rng->state += seed;
    lpt_rng_u32(rng);
}

uint32_t lpt_rng_u32(LptRng *rng)
{
    uint64_t old = rng->state;
    rng->state = old * LPT_RNG_MULTIPLIER + (rng->inc | 1u); /* odd even if never seeded */
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

uint32_t lpt_rng_below(LptRng *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* 2^32 mod bound: the draws below it are the incomplete last block of residues. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = lpt_rng_u32(rng);
        if (r >= threshold)
            return r % bound;
    }
}

float lpt_rng_float(LptRng *rng)
{
    return (float)(lpt_rng_u32(rng) >> 8) * 0x1p-24f;
}

double lpt_rng_normal(LptRng *rng)
{
    double u1 = 1.0 - (double)lpt_rng_float(rng); /* (0, 1] */
    double u2 = (double)lpt_rng_float(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

LptStatus lpt_rng_shuffle(LptRng *rng, void *base, size_t count, size_t size, LptError *err)
{
    if (count > UINT32_MAX)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "shuffle: %zu elements, more than the %u a shuffle can take", count,
                             (unsigned)UINT32_MAX);
    if (count > 1 && (!base || size == 0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "shuffle: %zu elements but no array or a zero element size", count);
    unsigned char *bytes = base;
    for (size_t i = count; i > 1; i--) {
        size_t j = lpt_rng_below(rng, (uint32_t)i);
        if (j == i - 1)
            continue;
        unsigned char *a = bytes + (i - 1) * size, *b = bytes + j * size;
        for (size_t k = 0; k < size; k++) {
            unsigned char t = a[k];
            a[k] = b[k];
            b[k] = t;
        }
    }
    return LPT_OK;
}

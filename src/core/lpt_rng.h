/* lpt_rng.h: the project's one host-side random number generator (PCG32).
 *
 * Every random choice the host makes (splits, samplers, augmentation parameters) draws from
 * an LptRng; nothing in the core calls rand(), random() or reads /dev/urandom, so a run is
 * reproducible from its seeds alone. The generator is PCG32 (O'Neill 2014, XSH-RR output on a
 * 64-bit LCG): 2^64 period per stream and 2^63 streams. lpt_rng_seed(rng, 42, 54) gives the
 * reference pcg32-demo sequence 0xa15c02b7, 0x7b47f409, ...; the output is the same on every
 * platform (integer arithmetic only; lpt_rng_float is exact).
 *
 * Streams: a (seed, stream) pair names one sequence. Use the seed for "which run" and the
 * stream for "which consumer" (an epoch, a class), so consumers never share draws and each
 * can be replayed alone. `stream` and `stream + 2^63` name the same sequence.
 *
 * State: the struct is public and two integers; copying it saves the generator, and assigning
 * the copy back restores it. Seed before use (a zeroed LptRng still works, as a fixed
 * sequence, but is no one's chosen stream).
 *
 * Threads: no global state; any thread may use its own LptRng, and one LptRng must not be
 * used by two threads at once.
 */
#ifndef LPT_RNG_H
#define LPT_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

typedef struct LptRng {
    uint64_t state; /* the LCG state */
    uint64_t inc;   /* the LCG increment, odd: 2 * stream + 1 */
} LptRng;

/* Seeds rng with the sequence named by (seed, stream), as pcg32_srandom_r does. */
void lpt_rng_seed(LptRng *rng, uint64_t seed, uint64_t stream);

/* The next 32 uniform bits. */
uint32_t lpt_rng_u32(LptRng *rng);

/* A uniform integer in [0, bound), without modulo bias (draws that would bias the result are
 * rejected and redrawn; fewer than one in two draws on average). bound 0 returns 0. */
uint32_t lpt_rng_below(LptRng *rng, uint32_t bound);

/* A uniform float in [0, 1): the top 24 bits of a draw times 2^-24 (every value is exact). */
float lpt_rng_float(LptRng *rng);

/* A standard normal draw (Box-Muller on two lpt_rng_float draws, the cosine branch). */
double lpt_rng_normal(LptRng *rng);

/* Shuffles `count` elements of `size` bytes at `base` in place (Fisher-Yates, every order
 * equally likely). count <= UINT32_MAX (an error otherwise, leaving base untouched); count
 * 0 or 1 draws nothing. base may be NULL when count is 0. */
LptStatus lpt_rng_shuffle(LptRng *rng, void *base, size_t count, size_t size, LptError *err);

#endif

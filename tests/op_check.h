/* op_check.h: the harness every op test uses.
 *
 * A test program runs on one backend, named by `--backend cpu|vulkan` (meson runs each op
 * test once per backend: suite `unit` on the CPU, suite `gpu` on Vulkan, which is lavapipe
 * on machines without a GPU). It exits 77 (skip) only when Vulkan is asked for and no Vulkan
 * device exists at all, or when LPT_CPU_ISA forces a copy of the CPU kernels (baseline, avx2,
 * avx512) that this CPU cannot run; LPT_CPU_ISA naming no copy fails.
 *
 * Conventions: inputs are random with a fixed seed; references are plain loops accumulating
 * in double; outputs are allocated with guard words after them (and pre-filled with NaN so a
 * value the kernel forgot to write fails); comparisons apply the NaN/Inf rules (a finite
 * reference needs a finite result, a NaN reference a NaN); backward passes are checked
 * against central finite differences of the double reference.
 */
#ifndef OP_CHECK_H
#define OP_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_backend.h"
#include "lpt_ops.h"
#include "lpt_tensor.h"

#define OC_GUARD 64 /* guard elements after every tensor */

typedef struct OpCheck {
    LptBackend *be;
    LptArena *arena;
    const char *backend; /* "cpu" or "vulkan" */
    uint64_t rng;
    int passed, failed;
} OpCheck;

/* Creates the backend from argv (--backend NAME) and a 512 MiB arena. Returns 0 on success,
 * 77 when Vulkan is asked for and no Vulkan device exists, 1 on any other failure. */
int oc_init(OpCheck *oc, int argc, char **argv);
/* Prints "<program> [backend]: N passed, N failed", frees everything; returns the exit code. */
int oc_finish(OpCheck *oc, const char *program);

/* Frees every tensor made so far (call between cases). */
void oc_reset(OpCheck *oc);

/* Random numbers (xorshift64*, seeded per program). */
float oc_uniform(OpCheck *oc, float lo, float hi);
void oc_fill_uniform(OpCheck *oc, float *x, size_t n, float lo, float hi);

/* A device tensor of n elements followed by OC_GUARD guard words. `init` (n elements) is
 * uploaded; NULL fills the tensor with NaN (f32) or 0xFF.. (others). */
LptTensor oc_tensor(OpCheck *oc, const char *name, LptDType dtype, size_t n, const void *init);
/* Downloads t into host (t->count elements). */
void oc_download(OpCheck *oc, const LptTensor *t, void *host);
/* Downloads t as float into a malloc'ed buffer (caller frees). */
float *oc_fetch(OpCheck *oc, const LptTensor *t);

/* Records a check: prints "FAIL what: message" when ok is false. Returns ok. */
bool oc_expect(OpCheck *oc, bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks the guard words after t are untouched. */
bool oc_check_guards(OpCheck *oc, const LptTensor *t, const char *what);

/* Compares got[n] with ref[n]: |got - ref| <= atol + rtol |ref| everywhere, with the NaN/Inf
 * rules. Prints the worst element on failure. */
bool oc_compare(OpCheck *oc, const char *what, const float *got, const double *ref, size_t n,
                double atol, double rtol);

/* Downloads t, compares it with ref, and checks its guards: the usual end of a case. */
bool oc_check_tensor(OpCheck *oc, const char *what, const LptTensor *t, const double *ref,
                     double atol, double rtol);

/* Checks that an op call failed with LPT_ERR_INVALID_ARGUMENT and a message containing
 * `needle` (a bad-argument test). */
bool oc_expect_error(OpCheck *oc, const char *what, LptStatus st, const LptError *err,
                     const char *needle);

/* Central finite difference of a scalar function of x at x[i]: (f(x+h) - f(x-h)) / 2h.
 * f is evaluated in double; x is restored afterwards. */
typedef double (*OcScalarFn)(const double *x, void *ctx);
double oc_fd(OcScalarFn f, void *ctx, double *x, size_t i, double h);

/* Picks up to max_samples indices spread over [0, n) (all of them when n is small). */
int oc_sample_indices(OpCheck *oc, size_t n, size_t *out, int max_samples);

/* Converts between float and double arrays (malloc'ed results; caller frees). */
double *oc_to_double(const float *x, size_t n);

#endif

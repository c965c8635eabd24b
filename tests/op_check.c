/* op_check.c: the op-test harness (see op_check.h). */
#include "op_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/lpt_cpu_math.h"

#define ARENA_BYTES ((size_t)512 << 20)
#define GUARD_WORD 0x7FC0DEADu /* a NaN with a payload no kernel writes */

/* LPT_CPU_ISA=baseline|avx2|avx512 forces one copy of the CPU kernels (lpt_cpu_math.h): 0
 * when the kernels run that copy (or nothing is forced), 77 (skip) when this CPU cannot run
 * it, 1 for a name that is no copy. Prints the copy the kernels run. */
static int cpu_isa_check(void)
{
    const char *want = getenv("LPT_CPU_ISA");
    LptCpuIsa isa = lpt_cpu_isa();
    if (!want) {
        printf("cpu kernels: %s\n", lpt_cpu_isa_name(isa));
        return 0;
    }
    for (int i = LPT_CPU_ISA_BASELINE; i <= LPT_CPU_ISA_AVX512; i++) {
        if (strcmp(want, lpt_cpu_isa_name((LptCpuIsa)i)) != 0)
            continue;
        if ((int)isa != i) {
            printf("SKIP: LPT_CPU_ISA=%s, but this CPU runs the %s kernels at most\n", want,
                   lpt_cpu_isa_name(isa));
            return 77;
        }
        printf("cpu kernels: %s (forced by LPT_CPU_ISA)\n", want);
        return 0;
    }
    fprintf(stderr, "LPT_CPU_ISA=%s: not baseline, avx2 or avx512\n", want);
    return 1;
}

int oc_init(OpCheck *oc, int argc, char **argv)
{
    memset(oc, 0, sizeof *oc);
    oc->backend = "cpu";
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--backend") == 0)
            oc->backend = argv[i + 1];
    LptBackendOptions opt;
    lpt_backend_options_init(&opt);
    if (!lpt_backend_kind_parse(oc->backend, &opt.kind)) {
        fprintf(stderr, "unknown backend '%s' (cpu or vulkan)\n", oc->backend);
        return 1;
    }
    LptError err = {0};
    if (opt.kind == LPT_BACKEND_CPU) {
        int rc = cpu_isa_check();
        if (rc != 0)
            return rc;
    }
    if (opt.kind == LPT_BACKEND_VULKAN) {
        LptDeviceInfo devices[4];
        if (lpt_device_list(devices, 4, &err) <= 0) {
            printf("SKIP: no Vulkan device (%s)\n", err.message[0] ? err.message : "none listed");
            return 77;
        }
    }
    oc->be = lpt_backend_new(&opt, &err);
    if (!oc->be) {
        fprintf(stderr, "backend '%s': %s\n", oc->backend, err.message);
        return 1;
    }
    oc->arena = lpt_arena_new(oc->be, "test", ARENA_BYTES, &err);
    if (!oc->arena) {
        fprintf(stderr, "arena: %s\n", err.message);
        lpt_backend_free(oc->be);
        return 1;
    }
    oc->rng = 0x9E3779B97F4A7C15ull;
    printf("backend: %s\n", lpt_backend_description(oc->be));
    return 0;
}

int oc_finish(OpCheck *oc, const char *program)
{
    printf("%s [%s]: %d passed, %d failed\n", program, oc->backend, oc->passed, oc->failed);
    lpt_arena_free(oc->arena);
    lpt_backend_free(oc->be);
    return oc->failed ? 1 : 0;
}

void oc_reset(OpCheck *oc)
{
    LptError err = {0};
    if (lpt_backend_sync(oc->be, &err) != LPT_OK)
        oc_expect(oc, false, "sync", "%s", err.message);
    lpt_arena_reset(oc->arena);
}

float oc_uniform(OpCheck *oc, float lo, float hi)
{
    oc->rng ^= oc->rng >> 12;
    oc->rng ^= oc->rng << 25;
    oc->rng ^= oc->rng >> 27;
    uint64_t r = oc->rng * 0x2545F4914F6CDD1Dull;
    return lo + (hi - lo) * (float)((double)(r >> 40) / (double)(1ull << 24));
}

void oc_fill_uniform(OpCheck *oc, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = oc_uniform(oc, lo, hi);
}

bool oc_expect(OpCheck *oc, bool ok, const char *what, const char *fmt, ...)
{
    if (ok) {
        oc->passed++;
        return true;
    }
    oc->failed++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s [%s]: ", what, oc->backend);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    return false;
}

LptTensor oc_tensor(OpCheck *oc, const char *name, LptDType dtype, size_t n, const void *init)
{
    LptTensor full;
    LptError err = {0};
    if (lpt_arena_alloc(oc->arena, &full, name, dtype, n + OC_GUARD, &err) != LPT_OK) {
        fprintf(stderr, "oc_tensor '%s': %s\n", name, err.message);
        exit(1);
    }
    size_t esize = lpt_dtype_size(dtype);
    unsigned char *host = malloc((n + OC_GUARD) * esize);
    if (init)
        memcpy(host, init, n * esize);
    else
        memset(host, 0xFF, n * esize);
    if (!init && dtype == LPT_F32)
        for (size_t i = 0; i < n; i++)
            ((float *)host)[i] = NAN;
    for (size_t i = 0; i < OC_GUARD * esize; i += 4) {
        uint32_t w = GUARD_WORD;
        memcpy(host + n * esize + i, &w, 4 < OC_GUARD * esize - i ? 4 : OC_GUARD * esize - i);
    }
    if (lpt_tensor_upload(&full, host, &err) != LPT_OK) {
        fprintf(stderr, "oc_tensor '%s': %s\n", name, err.message);
        exit(1);
    }
    free(host);
    return lpt_tensor_view(&full, 0, n);
}

void oc_download(OpCheck *oc, const LptTensor *t, void *host)
{
    LptError err = {0};
    if (lpt_tensor_download(t, host, &err) != LPT_OK) {
        fprintf(stderr, "download '%s': %s\n", t->name ? t->name : "?", err.message);
        exit(1);
    }
}

float *oc_fetch(OpCheck *oc, const LptTensor *t)
{
    float *host = malloc((t->count ? t->count : 1) * sizeof *host);
    oc_download(oc, t, host);
    return host;
}

bool oc_check_guards(OpCheck *oc, const LptTensor *t, const char *what)
{
    size_t esize = lpt_dtype_size(t->dtype);
    LptTensor guard = *t;
    guard.offset += t->count * esize;
    guard.count = OC_GUARD;
    unsigned char host[OC_GUARD * 4];
    oc_download(oc, &guard, host);
    for (size_t i = 0; i + 4 <= OC_GUARD * esize; i += 4) {
        uint32_t w;
        memcpy(&w, host + i, 4);
        if (w != GUARD_WORD)
            return oc_expect(oc, false, what, "guard word %zu after '%s' overwritten (0x%08x)",
                             i / 4, t->name ? t->name : "?", w);
    }
    return oc_expect(oc, true, what, "guards");
}

bool oc_compare(OpCheck *oc, const char *what, const float *got, const double *ref, size_t n,
                double atol, double rtol)
{
    size_t worst = 0;
    double worst_excess = -1.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        bool ok;
        if (isnan(r))
            ok = isnan(g);
        else if (isinf(r))
            ok = g == r;
        else
            ok = isfinite(g) && fabs(g - r) <= atol + rtol * fabs(r);
        double excess = isfinite(g) && isfinite(r) ? fabs(g - r) - (atol + rtol * fabs(r))
                                                   : INFINITY;
        if (!ok) {
            bad++;
            if (excess > worst_excess || worst_excess < 0) {
                worst_excess = excess;
                worst = i;
            }
        }
    }
    if (bad == 0)
        return oc_expect(oc, true, what, "ok");
    return oc_expect(oc, false, what,
                     "%zu of %zu values out of tolerance (atol %g, rtol %g); worst at %zu: "
                     "got %.9g, expected %.9g",
                     bad, n, atol, rtol, worst, (double)got[worst], ref[worst]);
}

bool oc_check_tensor(OpCheck *oc, const char *what, const LptTensor *t, const double *ref,
                     double atol, double rtol)
{
    float *got = oc_fetch(oc, t);
    bool ok = oc_compare(oc, what, got, ref, t->count, atol, rtol);
    free(got);
    return oc_check_guards(oc, t, what) && ok;
}

bool oc_expect_error(OpCheck *oc, const char *what, LptStatus st, const LptError *err,
                     const char *needle)
{
    if (st != LPT_ERR_INVALID_ARGUMENT)
        return oc_expect(oc, false, what, "expected 'invalid argument', got %s (%s)",
                         lpt_status_name(st), err->message);
    return oc_expect(oc, strstr(err->message, needle) != NULL, what,
                     "message '%s' does not mention '%s'", err->message, needle);
}

double oc_fd(OcScalarFn f, void *ctx, double *x, size_t i, double h)
{
    double saved = x[i];
    x[i] = saved + h;
    double plus = f(x, ctx);
    x[i] = saved - h;
    double minus = f(x, ctx);
    x[i] = saved;
    return (plus - minus) / (2.0 * h);
}

int oc_sample_indices(OpCheck *oc, size_t n, size_t *out, int max_samples)
{
    if (n <= (size_t)max_samples) {
        for (size_t i = 0; i < n; i++)
            out[i] = i;
        return (int)n;
    }
    for (int i = 0; i < max_samples; i++)
        out[i] = (size_t)(oc_uniform(oc, 0.0f, 1.0f) * (float)n) % n;
    out[0] = 0;
    out[max_samples - 1] = n - 1;
    return max_samples;
}

double *oc_to_double(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

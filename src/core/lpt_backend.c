/* lpt_backend.c: creating backends and the parts every backend shares (profile records). */
#include "lpt_backend_impl.h"

#include <string.h>
#include <strings.h>
#include <time.h>

void lpt_backend_options_init(LptBackendOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->kind = LPT_BACKEND_CPU;
    opt->validation = -1;
}

bool lpt_backend_kind_parse(const char *text, LptBackendKind *kind)
{
    if (!text)
        return false;
    if (strcasecmp(text, "cpu") == 0) {
        *kind = LPT_BACKEND_CPU;
        return true;
    }
    if (strcasecmp(text, "vulkan") == 0 || strcasecmp(text, "vk") == 0) {
        *kind = LPT_BACKEND_VULKAN;
        return true;
    }
    return false;
}

LptBackend *lpt_backend_new(const LptBackendOptions *opt, LptError *err)
{
    LptBackendOptions defaults;
    if (!opt) {
        lpt_backend_options_init(&defaults);
        opt = &defaults;
    }
    switch (opt->kind) {
    case LPT_BACKEND_CPU: return lpt_cpu_backend_new(opt, err);
    case LPT_BACKEND_VULKAN: return lpt_vk_backend_new(opt, err);
    }
    lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "unknown backend kind %d", (int)opt->kind);
    return NULL;
}

void lpt_backend_free(LptBackend *be)
{
    if (be)
        be->vt->destroy(be);
}

LptBackendKind lpt_backend_kind(const LptBackend *be)
{
    return be->kind;
}

const char *lpt_backend_description(const LptBackend *be)
{
    return be->description;
}

LptStatus lpt_backend_sync(LptBackend *be, LptError *err)
{
    if (!be)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "lpt_backend_sync: no backend");
    return be->vt->sync(be, err);
}

bool lpt_backend_inject_device_loss(LptBackend *be)
{
    if (!be->vt->inject_device_loss)
        return false;
    be->vt->inject_device_loss(be);
    return true;
}

void lpt_backend_record_timing(LptBackend *be, const char *op, double seconds)
{
    for (int i = 0; i < be->n_timings; i++) {
        if (be->timings[i].op == op || strcmp(be->timings[i].op, op) == 0) {
            be->timings[i].calls++;
            be->timings[i].seconds += seconds;
            return;
        }
    }
    if (be->n_timings < LPT_MAX_TIMINGS)
        be->timings[be->n_timings++] = (LptOpTiming){op, 1, seconds};
}

int lpt_backend_profile(const LptBackend *be, LptOpTiming *out, int max)
{
    for (int i = 0; i < be->n_timings && i < max; i++)
        out[i] = be->timings[i];
    return be->n_timings;
}

void lpt_backend_profile_reset(LptBackend *be)
{
    be->n_timings = 0;
}

double lpt_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

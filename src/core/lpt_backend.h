/* lpt_backend.h: choosing and creating a compute backend (Vulkan device or CPU).
 *
 * Both backends implement the same ops (lpt_ops.h) over the same tensors, so graph code is
 * written once. Work on the Vulkan backend is recorded and runs in order; lpt_backend_sync
 * waits for it. Errors on a backend after device loss are sticky: every later call fails.
 * Threads: one backend is used by one thread at a time.
 */
#ifndef LPT_BACKEND_H
#define LPT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "lpt_error.h"

typedef struct LptBackend LptBackend;

typedef enum LptBackendKind {
    LPT_BACKEND_CPU = 0,
    LPT_BACKEND_VULKAN = 1,
} LptBackendKind;

typedef struct LptBackendOptions {
    LptBackendKind kind;
    /* Vulkan: the device's index in lpt_device_list order, or a case-insensitive substring of
     * its name. NULL: the LPT_DEVICE environment variable, else the best device (discrete
     * GPU, then integrated, then virtual, then CPU implementations such as lavapipe). */
    const char *device;
    /* CPU: worker threads (and BLAS threads); 0 = LPT_THREADS or the number of cores. */
    int threads;
    /* Record per-op timings (Vulkan timestamp queries; wall clock on the CPU). */
    bool profile;
    /* Vulkan validation layers: -1 = default (on in debug builds when installed, or when
     * LPT_VK_VALIDATION=1), 0 = off, 1 = on when installed. */
    int validation;
} LptBackendOptions;

/* Call first thing in main() of a program that computes on the CPU backend: OpenBLAS reads
 * OPENBLAS_THREAD_TIMEOUT once, when it loads, and without it its idle threads spin
 * (sched_yield) for about 2^28 cycles after every GEMM, taking the cores our own worker pool
 * needs (measured: a CPU training step ran 1.7x faster with it set). When the variable is
 * unset this sets it to a short timeout and re-executes the program once (same arguments);
 * it returns normally when it was set already or the re-exec is not possible. */
void lpt_backend_prepare_process(char **argv);

/* Fills opt with the defaults (CPU, automatic device, automatic threads). */
void lpt_backend_options_init(LptBackendOptions *opt);

/* Parses "cpu" or "vulkan" (also "vk"); returns false for anything else. */
bool lpt_backend_kind_parse(const char *text, LptBackendKind *kind);

LptBackend *lpt_backend_new(const LptBackendOptions *opt, LptError *err);
void lpt_backend_free(LptBackend *be);

LptBackendKind lpt_backend_kind(const LptBackend *be);

/* "cpu (2 threads, OpenBLAS 0.3.21)" or "vulkan: NVIDIA H200 (discrete GPU)". */
const char *lpt_backend_description(const LptBackend *be);

/* Waits until all recorded work has finished. */
LptStatus lpt_backend_sync(LptBackend *be, LptError *err);

/* Per-op timings gathered while opt.profile was set (after a sync). */
typedef struct LptOpTiming {
    const char *op; /* kernel or op name (static string) */
    uint64_t calls;
    double seconds;
} LptOpTiming;
int lpt_backend_profile(const LptBackend *be, LptOpTiming *out, int max);
void lpt_backend_profile_reset(LptBackend *be);

/* One Vulkan physical device, as listed by lpt_device_list. */
typedef struct LptDeviceInfo {
    int index;
    char name[256];
    const char *type;          /* "discrete GPU", "integrated GPU", "virtual GPU", "CPU" */
    char driver[256];          /* driver name and info */
    uint32_t api_version;      /* VK_MAKE_API_VERSION */
    uint32_t vendor_id, device_id;
    uint64_t device_local_bytes;
    uint32_t subgroup_size;
    uint32_t max_shared_memory;
    int preference;            /* higher is chosen first */
} LptDeviceInfo;

/* Lists Vulkan devices in index order; returns how many were found (may exceed max), or -1
 * with err set when Vulkan itself is unavailable. */
int lpt_device_list(LptDeviceInfo *out, int max, LptError *err);

#endif

/* lpt_cpu_backend.c: the CPU backend: host arenas, a sleeping fork-join thread pool, and
 * the vtable of CPU kernels. GEMM goes to OpenBLAS, whose thread count is set to ours. */
#include "lpt_cpu.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LPT_CPU_MAX_THREADS 256

typedef struct LptCpuBackend {
    LptBackend base;
    int threads; /* workers including the calling thread */
    pthread_t workers[LPT_CPU_MAX_THREADS];
    int n_workers; /* threads - 1 started */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    /* the current job (guarded by lock, items claimed atomically) */
    LptCpuTask task;
    void *ctx;
    size_t n, grain;
    atomic_size_t next;
    int busy;            /* workers still inside the current job */
    unsigned generation; /* bumped for every job */
    bool stop;
} LptCpuBackend;

static void run_chunks(LptCpuBackend *cpu)
{
    for (;;) {
        size_t begin = atomic_fetch_add(&cpu->next, cpu->grain);
        if (begin >= cpu->n)
            break;
        size_t end = begin + cpu->grain < cpu->n ? begin + cpu->grain : cpu->n;
        cpu->task(cpu->ctx, begin, end);
    }
}

static void *worker_main(void *arg)
{
    LptCpuBackend *cpu = arg;
    unsigned seen = 0;
    pthread_mutex_lock(&cpu->lock);
    for (;;) {
        while (!cpu->stop && cpu->generation == seen)
            pthread_cond_wait(&cpu->wake, &cpu->lock);
        if (cpu->stop)
            break;
        seen = cpu->generation;
        pthread_mutex_unlock(&cpu->lock);
        run_chunks(cpu);
        pthread_mutex_lock(&cpu->lock);
        if (--cpu->busy == 0)
            pthread_cond_signal(&cpu->done);
    }
    pthread_mutex_unlock(&cpu->lock);
    return NULL;
}

void lpt_cpu_parallel_for(LptBackend *be, size_t n, size_t grain, LptCpuTask task, void *ctx)
{
    LptCpuBackend *cpu = (LptCpuBackend *)be;
    if (grain == 0)
        grain = 1;
    /* Split into about 4 chunks per thread so uneven chunks balance out. */
    size_t want = (n + (size_t)cpu->threads * 4 - 1) / ((size_t)cpu->threads * 4);
    if (want > grain)
        grain = want;
    if (cpu->n_workers == 0 || n <= grain) {
        if (n)
            task(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&cpu->lock);
    cpu->task = task;
    cpu->ctx = ctx;
    cpu->n = n;
    cpu->grain = grain;
    atomic_store(&cpu->next, 0);
    cpu->busy = cpu->n_workers;
    cpu->generation++;
    pthread_cond_broadcast(&cpu->wake);
    pthread_mutex_unlock(&cpu->lock);

    run_chunks(cpu);

    pthread_mutex_lock(&cpu->lock);
    while (cpu->busy > 0)
        pthread_cond_wait(&cpu->done, &cpu->lock);
    pthread_mutex_unlock(&cpu->lock);
}

int lpt_cpu_threads(const LptBackend *be)
{
    return ((const LptCpuBackend *)be)->threads;
}

static void cpu_destroy(LptBackend *be)
{
    LptCpuBackend *cpu = (LptCpuBackend *)be;
    pthread_mutex_lock(&cpu->lock);
    cpu->stop = true;
    pthread_cond_broadcast(&cpu->wake);
    pthread_mutex_unlock(&cpu->lock);
    for (int i = 0; i < cpu->n_workers; i++)
        pthread_join(cpu->workers[i], NULL);
    pthread_mutex_destroy(&cpu->lock);
    pthread_cond_destroy(&cpu->wake);
    pthread_cond_destroy(&cpu->done);
    free(cpu);
}

static LptStatus cpu_arena_init(LptBackend *be, LptArena *arena, LptError *err)
{
    arena->host = aligned_alloc(LPT_ARENA_ALIGN, arena->size);
    if (!arena->host)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of host memory");
    return LPT_OK;
}

static void cpu_arena_release(LptBackend *be, LptArena *arena)
{
    free(arena->host);
    arena->host = NULL;
}

static LptStatus cpu_upload(LptBackend *be, const LptTensor *t, const void *host, size_t bytes,
                            LptError *err)
{
    memcpy(lpt_cpu_ptr(t), host, bytes);
    return LPT_OK;
}

static LptStatus cpu_download(LptBackend *be, const LptTensor *t, void *host, size_t bytes,
                              LptError *err)
{
    memcpy(host, lpt_cpu_ptr(t), bytes);
    return LPT_OK;
}

static LptStatus cpu_fill_u32(LptBackend *be, const LptTensor *t, uint32_t word, LptError *err)
{
    uint32_t *p = lpt_cpu_ptr(t);
    for (size_t i = 0; i < t->count; i++)
        p[i] = word;
    return LPT_OK;
}

static LptStatus cpu_sync(LptBackend *be, LptError *err)
{
    return LPT_OK; /* CPU kernels finish before they return */
}

static const LptBackendVtable cpu_vtable = {
    .destroy = cpu_destroy,
    .arena_init = cpu_arena_init,
    .arena_release = cpu_arena_release,
    .upload = cpu_upload,
    .download = cpu_download,
    .fill_u32 = cpu_fill_u32,
    .sync = cpu_sync,
    .gemm_forward = lpt_cpu_gemm_forward,
    .bias_backward = lpt_cpu_bias_backward,
    .layernorm_forward = lpt_cpu_layernorm_forward,
    .layernorm_backward = lpt_cpu_layernorm_backward,
    .l2norm_forward = lpt_cpu_l2norm_forward,
    .l2norm_backward = lpt_cpu_l2norm_backward,
    .gelu_forward = lpt_cpu_gelu_forward,
    .gelu_backward = lpt_cpu_gelu_backward,
    .quick_gelu_forward = lpt_cpu_quick_gelu_forward,
    .quick_gelu_backward = lpt_cpu_quick_gelu_backward,
    .relu_forward = lpt_cpu_relu_forward,
    .relu_backward = lpt_cpu_relu_backward,
    .add_forward = lpt_cpu_add_forward,
    .softmax_forward = lpt_cpu_softmax_forward,
    .softmax_backward = lpt_cpu_softmax_backward,
    .attention_forward = lpt_cpu_attention_forward,
    .attention_backward = lpt_cpu_attention_backward,
    .cosine_forward = lpt_cpu_cosine_forward,
    .cosine_backward = lpt_cpu_cosine_backward,
    .agcl_forward = lpt_cpu_agcl_forward,
    .agcl_backward = lpt_cpu_agcl_backward,
    .sgd_update = lpt_cpu_sgd_update,
    .adamw_update = lpt_cpu_adamw_update,
    .gather_mean_forward = lpt_cpu_gather_mean_forward,
    .gather_mean_backward = lpt_cpu_gather_mean_backward,
    .topk_forward = lpt_cpu_topk_forward,
    .image_transform_forward = lpt_cpu_image_transform_forward,
    .patchify_forward = lpt_cpu_patchify_forward,
    .embed_forward = lpt_cpu_embed_forward,
    .scaled_add_forward = lpt_cpu_scaled_add_forward,
    .scaled_add_backward = lpt_cpu_scaled_add_backward,
    .onehot_forward = lpt_cpu_onehot_forward,
    .dropout_forward = lpt_cpu_dropout_forward,
};

void lpt_backend_prepare_process(char **argv)
{
    if (getenv("OPENBLAS_THREAD_TIMEOUT") || !argv || !argv[0])
        return;
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1); /* 2^4 cycles: stop spinning at once */
    execv("/proc/self/exe", argv);
    /* no /proc: go on with spinning BLAS threads (slower, still correct) */
}

LptBackend *lpt_cpu_backend_new(const LptBackendOptions *opt, LptError *err)
{
    int threads = opt->threads;
    const char *env = getenv("LPT_THREADS");
    if (threads <= 0 && env && *env)
        threads = atoi(env);
    if (threads <= 0)
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads <= 0)
        threads = 1;
    if (threads > LPT_CPU_MAX_THREADS)
        threads = LPT_CPU_MAX_THREADS;

    LptCpuBackend *cpu = calloc(1, sizeof *cpu);
    if (!cpu) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "cpu backend: out of host memory");
        return NULL;
    }
    cpu->base.kind = LPT_BACKEND_CPU;
    cpu->base.vt = &cpu_vtable;
    cpu->base.profile = opt->profile;
    cpu->threads = threads;
    pthread_mutex_init(&cpu->lock, NULL);
    pthread_cond_init(&cpu->wake, NULL);
    pthread_cond_init(&cpu->done, NULL);
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&cpu->workers[i], NULL, worker_main, cpu) != 0) {
            lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                          "cpu backend: could not start worker thread %d of %d", i + 1,
                          threads - 1);
            cpu_destroy(&cpu->base);
            return NULL;
        }
        cpu->n_workers++;
    }
    openblas_set_num_threads(threads);
    snprintf(cpu->base.description, sizeof cpu->base.description, "cpu (%d thread%s, %s)",
             threads, threads == 1 ? "" : "s", openblas_get_config());
    return &cpu->base;
}

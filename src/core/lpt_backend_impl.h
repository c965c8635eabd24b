/* lpt_backend_impl.h: what a backend implementation provides (private to src/core).
 *
 * A backend is a struct that starts with LptBackend (so it can be cast) and a vtable with
 * one entry per op, whose signature is that of the public lpt_op_* function. lpt_ops.c
 * validates arguments once and then calls the entry; the entries may assume valid input.
 */
#ifndef LPT_BACKEND_IMPL_H
#define LPT_BACKEND_IMPL_H

#include <stdbool.h>

#include "lpt_backend.h"
#include "lpt_ops.h"
#include "lpt_tensor.h"

#define LPT_MAX_TIMINGS 64

struct LptArena {
    LptBackend *backend; /* borrowed */
    char name[64];
    size_t size, used;   /* bytes */
    void *host;          /* CPU backend: the memory; Vulkan: NULL */
    void *impl;          /* Vulkan: LptVkBuffer *; CPU: NULL */
};

typedef struct LptBackendVtable {
    void (*destroy)(LptBackend *be);
    LptStatus (*arena_init)(LptBackend *be, LptArena *arena, LptError *err);
    void (*arena_release)(LptBackend *be, LptArena *arena);
    LptStatus (*upload)(LptBackend *be, const LptTensor *t, const void *host, size_t bytes,
                        LptError *err);
    LptStatus (*download)(LptBackend *be, const LptTensor *t, void *host, size_t bytes,
                          LptError *err);
    LptStatus (*fill_u32)(LptBackend *be, const LptTensor *t, uint32_t word, LptError *err);
    LptStatus (*sync)(LptBackend *be, LptError *err);
    /* Test hook (NULL where it cannot happen): the next submission reports device loss. */
    void (*inject_device_loss)(LptBackend *be);

    /* ops: same signatures as lpt_ops.h */
    __typeof__(lpt_op_gemm_forward) *gemm_forward;
    __typeof__(lpt_op_bias_backward) *bias_backward;
    __typeof__(lpt_op_layernorm_forward) *layernorm_forward;
    __typeof__(lpt_op_layernorm_backward) *layernorm_backward;
    __typeof__(lpt_op_l2norm_forward) *l2norm_forward;
    __typeof__(lpt_op_l2norm_backward) *l2norm_backward;
    __typeof__(lpt_op_gelu_forward) *gelu_forward;
    __typeof__(lpt_op_gelu_backward) *gelu_backward;
    __typeof__(lpt_op_quick_gelu_forward) *quick_gelu_forward;
    __typeof__(lpt_op_quick_gelu_backward) *quick_gelu_backward;
    __typeof__(lpt_op_relu_forward) *relu_forward;
    __typeof__(lpt_op_relu_backward) *relu_backward;
    __typeof__(lpt_op_add_forward) *add_forward;
    __typeof__(lpt_op_softmax_forward) *softmax_forward;
    __typeof__(lpt_op_softmax_backward) *softmax_backward;
    __typeof__(lpt_op_attention_forward) *attention_forward;
    __typeof__(lpt_op_attention_backward) *attention_backward;
    __typeof__(lpt_op_cosine_forward) *cosine_forward;
    __typeof__(lpt_op_cosine_backward) *cosine_backward;
    __typeof__(lpt_op_agcl_forward) *agcl_forward;
    __typeof__(lpt_op_agcl_backward) *agcl_backward;
    __typeof__(lpt_op_sgd_update) *sgd_update;
    __typeof__(lpt_op_adamw_update) *adamw_update;
    __typeof__(lpt_op_gather_mean_forward) *gather_mean_forward;
    __typeof__(lpt_op_gather_mean_backward) *gather_mean_backward;
    __typeof__(lpt_op_topk_forward) *topk_forward;
    __typeof__(lpt_op_image_transform_forward) *image_transform_forward;
    __typeof__(lpt_op_patchify_forward) *patchify_forward;
    __typeof__(lpt_op_embed_forward) *embed_forward;
    __typeof__(lpt_op_scaled_add_forward) *scaled_add_forward;
    __typeof__(lpt_op_scaled_add_backward) *scaled_add_backward;
    __typeof__(lpt_op_onehot_forward) *onehot_forward;
    __typeof__(lpt_op_dropout_forward) *dropout_forward; /* also the backward */
} LptBackendVtable;

struct LptBackend {
    LptBackendKind kind;
    const LptBackendVtable *vt;
    char description[320];
    bool profile;
    LptOpTiming timings[LPT_MAX_TIMINGS];
    int n_timings;
};

/* Adds one call of `op` taking `seconds` to the backend's profile (op: a static string). */
void lpt_backend_record_timing(LptBackend *be, const char *op, double seconds);

/* Fault injection for tests: makes the backend's next submission fail as if the device was
 * lost (Vulkan). Returns false when the backend has no such failure (CPU). */
bool lpt_backend_inject_device_loss(LptBackend *be);

/* Seconds on a monotonic clock. */
double lpt_now_seconds(void);

/* Constructors of the two implementations (lpt_backend_new picks one). */
LptBackend *lpt_cpu_backend_new(const LptBackendOptions *opt, LptError *err);
LptBackend *lpt_vk_backend_new(const LptBackendOptions *opt, LptError *err);

#endif

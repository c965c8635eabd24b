/* lpt_tensor.h: arenas (one device or host buffer each) and the tensors that point into them.
 *
 * Invariants: a tensor never owns memory; it names a byte offset and an element count inside
 * one arena. Arenas sub-allocate with a bump pointer, each allocation aligned to
 * LPT_ARENA_ALIGN bytes, and are freed as a whole. Shapes are passed to ops as sizes (as in
 * llm.c); an op checks each tensor's element count against the sizes it is given.
 * Threads: an arena and its tensors belong to the thread that uses their backend.
 */
#ifndef LPT_TENSOR_H
#define LPT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

typedef struct LptBackend LptBackend;
typedef struct LptArena LptArena;

#define LPT_ARENA_ALIGN 256

typedef enum LptDType {
    LPT_F32 = 0, /* float */
    LPT_I32 = 1, /* int32_t: labels, indices */
    LPT_U8 = 2,  /* uint8_t: image pixels */
} LptDType;

typedef struct LptTensor {
    LptArena *arena;  /* where the storage lives (borrowed) */
    size_t offset;    /* byte offset inside the arena */
    size_t count;     /* number of elements */
    LptDType dtype;
    const char *name; /* for error messages; borrowed, may be NULL */
} LptTensor;

/* Bytes per element of a dtype. */
size_t lpt_dtype_size(LptDType dtype);
const char *lpt_dtype_name(LptDType dtype);

/* A new arena of `bytes` bytes on backend `be` (device memory on Vulkan, host memory on the
 * CPU). The name appears in error messages. Free with lpt_arena_free. */
LptArena *lpt_arena_new(LptBackend *be, const char *name, size_t bytes, LptError *err);
void lpt_arena_free(LptArena *arena);

/* Carves `count` elements of `dtype` out of the arena into *out. Fails with
 * LPT_ERR_OUT_OF_MEMORY naming the arena and the tensor when there is no room. */
LptStatus lpt_arena_alloc(LptArena *arena, LptTensor *out, const char *name, LptDType dtype,
                          size_t count, LptError *err);

/* Forgets every allocation (the tensors carved so far must no longer be used). */
void lpt_arena_reset(LptArena *arena);

size_t lpt_arena_size(const LptArena *arena);
size_t lpt_arena_used(const LptArena *arena);
const char *lpt_arena_name(const LptArena *arena);
LptBackend *lpt_arena_backend(const LptArena *arena);

/* A view of elements [first, first + count) of t (no copy). The caller keeps it in range. */
LptTensor lpt_tensor_view(const LptTensor *t, size_t first, size_t count);

/* Copies count * dtype size bytes between host memory and the tensor. Waits for work already
 * recorded on the backend to finish (download) or orders the copy after it (upload). */
LptStatus lpt_tensor_upload(const LptTensor *t, const void *host, LptError *err);
LptStatus lpt_tensor_download(const LptTensor *t, void *host, LptError *err);

/* Sets every element of t to the bit pattern of a 32-bit word (0 for zeros). */
LptStatus lpt_tensor_fill_u32(const LptTensor *t, uint32_t word, LptError *err);

#endif

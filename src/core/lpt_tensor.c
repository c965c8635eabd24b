/* lpt_tensor.c: arenas with bump sub-allocation, tensor views, host <-> tensor copies. */
#include "lpt_backend_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t lpt_dtype_size(LptDType dtype)
{
    return dtype == LPT_U8 ? 1 : 4;
}

const char *lpt_dtype_name(LptDType dtype)
{
    switch (dtype) {
    case LPT_F32: return "f32";
    case LPT_I32: return "i32";
    case LPT_U8: return "u8";
    }
    return "?";
}

LptArena *lpt_arena_new(LptBackend *be, const char *name, size_t bytes, LptError *err)
{
    if (!be || bytes == 0) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "arena '%s': %s", name ? name : "?",
                      be ? "size is zero" : "no backend");
        return NULL;
    }
    LptArena *arena = calloc(1, sizeof *arena);
    if (!arena) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "arena '%s': out of host memory", name);
        return NULL;
    }
    arena->backend = be;
    snprintf(arena->name, sizeof arena->name, "%s", name ? name : "arena");
    arena->size = (bytes + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
    if (be->vt->arena_init(be, arena, err) != LPT_OK) {
        lpt_error_prefix(err, "arena '%s' (%zu bytes)", arena->name, arena->size);
        free(arena);
        return NULL;
    }
    return arena;
}

void lpt_arena_free(LptArena *arena)
{
    if (!arena)
        return;
    arena->backend->vt->arena_release(arena->backend, arena);
    free(arena);
}

LptStatus lpt_arena_alloc(LptArena *arena, LptTensor *out, const char *name, LptDType dtype,
                          size_t count, LptError *err)
{
    if (!arena || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "allocating tensor '%s': no arena or output", name ? name : "?");
    size_t bytes = count * lpt_dtype_size(dtype);
    if (count != 0 && bytes / count != lpt_dtype_size(dtype))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "tensor '%s': %zu elements overflow", name ? name : "?", count);
    size_t start = (arena->used + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
    if (start > arena->size || bytes > arena->size - start)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                             "tensor '%s' (%zu bytes) does not fit in arena '%s' "
                             "(%zu of %zu bytes used)",
                             name ? name : "?", bytes, arena->name, arena->used, arena->size);
    *out = (LptTensor){arena, start, count, dtype, name};
    arena->used = start + bytes;
    return LPT_OK;
}

void lpt_arena_reset(LptArena *arena)
{
    if (arena)
        arena->used = 0;
}

size_t lpt_arena_size(const LptArena *arena)
{
    return arena->size;
}

size_t lpt_arena_used(const LptArena *arena)
{
    return arena->used;
}

const char *lpt_arena_name(const LptArena *arena)
{
    return arena->name;
}

LptBackend *lpt_arena_backend(const LptArena *arena)
{
    return arena->backend;
}

LptTensor lpt_tensor_view(const LptTensor *t, size_t first, size_t count)
{
    LptTensor v = *t;
    v.offset += first * lpt_dtype_size(t->dtype);
    v.count = count;
    return v;
}

static LptStatus check_tensor(const LptTensor *t, const char *what, LptError *err)
{
    if (!t || !t->arena)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: no tensor", what);
    if (t->offset + t->count * lpt_dtype_size(t->dtype) > t->arena->size)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "%s: tensor '%s' runs past the end of arena '%s'", what,
                             t->name ? t->name : "?", t->arena->name);
    return LPT_OK;
}

LptStatus lpt_tensor_upload(const LptTensor *t, const void *host, LptError *err)
{
    LptStatus st = check_tensor(t, "upload", err);
    if (st != LPT_OK)
        return st;
    if (!host && t->count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "upload to '%s': no host data",
                             t->name ? t->name : "?");
    LptBackend *be = t->arena->backend;
    return be->vt->upload(be, t, host, t->count * lpt_dtype_size(t->dtype), err);
}

LptStatus lpt_tensor_download(const LptTensor *t, void *host, LptError *err)
{
    LptStatus st = check_tensor(t, "download", err);
    if (st != LPT_OK)
        return st;
    if (!host && t->count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "download from '%s': no host buffer", t->name ? t->name : "?");
    LptBackend *be = t->arena->backend;
    return be->vt->download(be, t, host, t->count * lpt_dtype_size(t->dtype), err);
}

LptStatus lpt_tensor_fill_u32(const LptTensor *t, uint32_t word, LptError *err)
{
    LptStatus st = check_tensor(t, "fill", err);
    if (st != LPT_OK)
        return st;
    if (lpt_dtype_size(t->dtype) != 4)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "fill '%s': only 32-bit tensors can be filled",
                             t->name ? t->name : "?");
    LptBackend *be = t->arena->backend;
    return be->vt->fill_u32(be, t, word, err);
}

/* lpt_error.h: status codes and the error record every core call fills in.
 *
 * Every fallible core function returns LptStatus (or a pointer, NULL on failure) and takes
 * `LptError *err` as its last parameter. `err` may be NULL. On failure the message names the
 * file, tensor, row or device at fault; the detail carries the underlying code (VkResult,
 * SQLite code, errno) where there is one. Codes are numbered by subsystem.
 */
#ifndef LPT_ERROR_H
#define LPT_ERROR_H

#include <stdarg.h>

typedef enum LptStatus {
    LPT_OK = 0,
    /* 1xx: the caller's arguments */
    LPT_ERR_INVALID_ARGUMENT = 100, /* null, shape mismatch, wrong dtype, size out of range */
    LPT_ERR_OUT_OF_MEMORY = 101,    /* host allocation or arena space exhausted */
    /* 2xx: files and formats */
    LPT_ERR_IO = 200,
    LPT_ERR_FORMAT = 201,
    /* 3xx: not supported here */
    LPT_ERR_UNSUPPORTED = 300,
    /* 4xx: compute devices */
    LPT_ERR_NO_DEVICE = 400,   /* no Vulkan device, or the one asked for does not exist */
    LPT_ERR_VULKAN = 401,      /* a Vulkan call failed; detail = VkResult */
    LPT_ERR_DEVICE_LOST = 402, /* sticky: the backend refuses all work afterwards */
    /* 5xx: control flow */
    LPT_ERR_CANCELLED = 500,
} LptStatus;

typedef struct LptError {
    LptStatus code;    /* LPT_OK when nothing failed */
    long detail;       /* VkResult, errno, SQLite code; 0 when none */
    char message[512]; /* names what is at fault */
} LptError;

/* Records a failure in err (when err is not NULL) and returns code, so that callers can write
 * `return lpt_error_set(err, LPT_ERR_..., 0, "...", ...);`. */
LptStatus lpt_error_set(LptError *err, LptStatus code, long detail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes err->message with context ("loading 'x.safetensors': ..."); returns err->code. */
LptStatus lpt_error_prefix(LptError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears err to LPT_OK (NULL is a no-op). */
void lpt_error_clear(LptError *err);

/* A stable name for a status ("invalid argument", "device lost", ...). */
const char *lpt_status_name(LptStatus status);

/* In a function that returns LptStatus: returns the status of `call` when it is not LPT_OK. */
#define LPT_TRY(call)                                                                              \
    do {                                                                                           \
        LptStatus lpt_try_st_ = (call);                                                            \
        if (lpt_try_st_ != LPT_OK)                                                                 \
            return lpt_try_st_;                                                                    \
    } while (0)

#endif

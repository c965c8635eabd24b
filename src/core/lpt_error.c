/* lpt_error.c: filling in LptError records. */
#include "lpt_error.h"

#include <stdio.h>
#include <string.h>

LptStatus lpt_error_set(LptError *err, LptStatus code, long detail, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        err->detail = detail;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

LptStatus lpt_error_prefix(LptError *err, const char *fmt, ...)
{
    if (!err)
        return LPT_OK;
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
    return err->code;
}

void lpt_error_clear(LptError *err)
{
    if (err) {
        err->code = LPT_OK;
        err->detail = 0;
        err->message[0] = '\0';
    }
}

const char *lpt_status_name(LptStatus status)
{
    switch (status) {
    case LPT_OK: return "ok";
    case LPT_ERR_INVALID_ARGUMENT: return "invalid argument";
    case LPT_ERR_OUT_OF_MEMORY: return "out of memory";
    case LPT_ERR_IO: return "i/o error";
    case LPT_ERR_FORMAT: return "bad format";
    case LPT_ERR_UNSUPPORTED: return "unsupported";
    case LPT_ERR_NO_DEVICE: return "no device";
    case LPT_ERR_VULKAN: return "vulkan error";
    case LPT_ERR_DEVICE_LOST: return "device lost";
    case LPT_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

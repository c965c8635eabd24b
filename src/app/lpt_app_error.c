/* lpt_app_error.c: the LptError to GError conversion (see the header). */
#include "lpt_app_error.h"

#include <errno.h>

G_DEFINE_QUARK(lpt-core-error-quark, lpt_core_error)

void lpt_app_error_from_core(GError **error, const LptError *err)
{
    int code = err->code;
    if (err->code == LPT_ERR_IO && err->detail == EWOULDBLOCK)
        code = LPT_CORE_ERROR_IN_USE;
    const char *message = err->message[0] != '\0' ? err->message : lpt_status_name(err->code);
    g_set_error_literal(error, LPT_CORE_ERROR, code, message);
}

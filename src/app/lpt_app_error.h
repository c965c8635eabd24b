/* lpt_app_error.h: where core errors become GErrors — the one conversion of the app.
 *
 * The core reports failures in an LptError (code, detail, a message that names the file or
 * row at fault). The app shows every failure as a translated headline of its own plus that
 * message, so the GError keeps the core's message as it is and its code tells the kind:
 * domain LPT_CORE_ERROR, code = the LptStatus, except LPT_CORE_ERROR_IN_USE for a project
 * that another window or instance holds (the store's instance lock: LPT_ERR_IO with detail
 * EWOULDBLOCK), which the app words differently.
 *
 * Threads: any thread may call these.
 */
#pragma once

#include <glib.h>

#include "lpt_error.h"

G_BEGIN_DECLS

#define LPT_CORE_ERROR (lpt_core_error_quark())

/* A code of its own, outside LptStatus's numbers (which start at 100). */
#define LPT_CORE_ERROR_IN_USE 1

GQuark lpt_core_error_quark(void);

/* Sets *error (when error is not NULL and *error is unset) from the core's err. An err
 * without a message gets the status name. */
void lpt_app_error_from_core(GError **error, const LptError *err);

G_END_DECLS

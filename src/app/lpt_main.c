/* lpt_main.c: lpt-studio's entry point: locale, translations, and the application.
 *
 * Usage: lpt-studio [FILE.lptproj...]
 */
#include <locale.h>

#include <glib/gi18n.h>

#include "lpt_app_config.h"
#include "lpt_application.h"
#include "lpt_backend.h"

int main(int argc, char *argv[])
{
    lpt_backend_prepare_process(argv);
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);

    g_autoptr(LptApplication) app = lpt_application_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}

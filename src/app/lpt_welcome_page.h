/* lpt_welcome_page.h: what a window shows while no project is open — New, Open, and the
 * recent projects (GSettings key recent-projects) with a button to forget each.
 *
 * The buttons activate the application's actions (app.new-project, app.open-project,
 * app.open-recent, app.forget-recent), so the page holds no project logic of its own; it
 * follows the settings key and rebuilds its list when the key changes.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LPT_TYPE_WELCOME_PAGE (lpt_welcome_page_get_type())
G_DECLARE_FINAL_TYPE(LptWelcomePage, lpt_welcome_page, LPT, WELCOME_PAGE, AdwBin)

/* The number of recent projects listed (for tests). */
guint lpt_welcome_page_get_n_recent(LptWelcomePage *self);

G_END_DECLS

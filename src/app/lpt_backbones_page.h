/* lpt_backbones_page.h: the Backbones page (product.md workflow 4).
 *
 * One card per expert (LptBackboneCard): the weight file the project's next run takes (the
 * latest of the role in the store), checked off the main thread as training would load it
 * (lpt_backbone_inspect_async: its tensors, then a load on the CPU), with the architecture
 * detected or the core's message. "Choose File…" adds a
 * safetensors file in that role (lpt_backbone_add_async: validated, hashed, recorded); a
 * file the core refuses is reported in a dialog with the core's words and changes nothing.
 * While the project has no backbone the page offers the demo backbones that ship with the
 * app (lpt_backbone_add_demo_async).
 *
 * A file is inspected again only when the role's backbone changes, not on every ::changed of
 * the project. One add at a time.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_backbone_card.h"
#include "lpt_project.h"

G_BEGIN_DECLS

#define LPT_TYPE_BACKBONES_PAGE (lpt_backbones_page_get_type())
G_DECLARE_FINAL_TYPE(LptBackbonesPage, lpt_backbones_page, LPT, BACKBONES_PAGE, AdwBin)

/* Shows project (NULL: none). */
void lpt_backbones_page_set_project(LptBackbonesPage *self, LptProject *project);

/* Adds file in role, as the file chooser does; FALSE when refused (an add runs, no
 * project). */
gboolean lpt_backbones_page_add_file(LptBackbonesPage *self, LptStoreExpert role, GFile *file);
/* Adds the demo backbones, as "Use the Demo Backbones" does; FALSE when refused. */
gboolean lpt_backbones_page_use_demo(LptBackbonesPage *self);

/* Whether an add or an inspection runs. */
gboolean lpt_backbones_page_is_busy(LptBackbonesPage *self);
/* Whether the demo backbones are offered. */
gboolean lpt_backbones_page_offers_demo(LptBackbonesPage *self);
/* The card of role, and what its inspection found (NULL: none, or it failed). */
LptBackboneCard *lpt_backbones_page_get_card(LptBackbonesPage *self, LptStoreExpert role);
const LptBackboneDetails *lpt_backbones_page_get_details(LptBackbonesPage *self,
                                                         LptStoreExpert role);
/* How the last add ended: NULL after a success or before any. */
const GError *lpt_backbones_page_get_last_error(LptBackbonesPage *self);

G_END_DECLS

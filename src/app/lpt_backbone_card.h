/* lpt_backbone_card.h: one expert's backbone on the Backbones page: the weight file, whether
 * it loads (or the core's message saying why not), and the architecture detected in it
 * (naming, depth, width, heads, MLP width, patch, image size, feature width, parameters).
 *
 * The card shows what the page tells it; its "Choose File…" button activates
 * backbones.choose with the role's name ("vision" or "vl") as target.
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_backbone_tasks.h"
#include "lpt_store.h"

G_BEGIN_DECLS

typedef enum {
    LPT_BACKBONE_CARD_NONE,     /* no weight file in this role */
    LPT_BACKBONE_CARD_CHECKING, /* being inspected or added */
    LPT_BACKBONE_CARD_LOADS,
    LPT_BACKBONE_CARD_FAILED,
} LptBackboneCardState;

#define LPT_TYPE_BACKBONE_CARD (lpt_backbone_card_get_type())
G_DECLARE_FINAL_TYPE(LptBackboneCard, lpt_backbone_card, LPT, BACKBONE_CARD, AdwPreferencesGroup)

/* A card for role (LPT_STORE_EXPERT_VISION or _VL). */
GtkWidget *lpt_backbone_card_new(LptStoreExpert role);

/* No file yet. */
void lpt_backbone_card_show_none(LptBackboneCard *self);
/* The project's file (name, path), being checked. */
void lpt_backbone_card_show_checking(LptBackboneCard *self, const char *name, const char *path);
/* It loads: the architecture. */
void lpt_backbone_card_show_details(LptBackboneCard *self, const LptBackboneDetails *details);
/* It does not: the core's message. */
void lpt_backbone_card_show_error(LptBackboneCard *self, const char *message);

LptBackboneCardState lpt_backbone_card_get_state(LptBackboneCard *self);
/* The status line shown under the file (for tests). */
const char *lpt_backbone_card_get_status_text(LptBackboneCard *self);

G_END_DECLS

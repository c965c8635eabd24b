/* lpt_phase_card.h: one training phase's card on the Training page (product.md workflow 5):
 * its name and expert, its state (not in this run, not started, waiting, running, done,
 * interrupted, failed with the core's message), a progress bar with the epoch and the time
 * left, and Start / Resume and Stop.
 *
 * The card shows what it is told; the page decides. Start and Resume emit ::start, Stop emits
 * ::stop; a click elsewhere on the card emits ::select (the page then shows its curves).
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_run_phases.h"

G_BEGIN_DECLS

typedef enum {
    LPT_PHASE_CARD_ABSENT,      /* the run has no such phase */
    LPT_PHASE_CARD_NOT_STARTED, /* nothing trained yet */
    LPT_PHASE_CARD_WAITING,     /* part of the running session, after the current phase */
    LPT_PHASE_CARD_RUNNING,
    LPT_PHASE_CARD_DONE,
    LPT_PHASE_CARD_INTERRUPTED, /* some epochs done (stopped, killed or cut short) */
    LPT_PHASE_CARD_FAILED,      /* the last session failed here */
} LptPhaseCardState;

#define LPT_TYPE_PHASE_CARD (lpt_phase_card_get_type())
G_DECLARE_FINAL_TYPE(LptPhaseCard, lpt_phase_card, LPT, PHASE_CARD, AdwBin)

/* A card for slot (an index of lpt_phase_slots). */
GtkWidget *lpt_phase_card_new(int slot);
int lpt_phase_card_get_slot(LptPhaseCard *self);

/* Shows state with the phase's figures; message: the failure (FAILED) or why Start is off
 * (may be NULL). can_start: whether Start / Resume is offered now. */
void lpt_phase_card_set_state(LptPhaseCard *self, LptPhaseCardState state,
                              const LptPhaseState *figures, const char *message,
                              gboolean can_start);
LptPhaseCardState lpt_phase_card_get_state(LptPhaseCard *self);
/* The text the card shows for its state (for tests). */
const char *lpt_phase_card_get_state_text(LptPhaseCard *self);

/* While RUNNING: the phase's fraction done and a line under the bar ("Epoch 2 of 4 · about
 * 1 min left"). */
void lpt_phase_card_set_progress(LptPhaseCard *self, double fraction, const char *text);
double lpt_phase_card_get_fraction(LptPhaseCard *self);

/* Marks the card whose curves show. */
void lpt_phase_card_set_selected(LptPhaseCard *self, gboolean selected);

/* The phase's title ("Phase 1") and expert ("Vision expert") in the user's language. */
const char *lpt_phase_card_slot_title(int slot);
const char *lpt_phase_card_slot_expert(int slot);

G_END_DECLS

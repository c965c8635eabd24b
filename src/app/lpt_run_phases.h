/* lpt_run_phases.h: where a run's five training phases stand, read off the project file, as
 * the Training page's cards show them (product.md workflow 5).
 *
 * The phases in card order (LptPhaseSlot): phase 1 of the vision expert, phase 1 of the
 * vision-language expert, phase 2 of each, phase 3 (the scorer, expert FUSED). A run has a
 * phase when its config trains that expert and gives the phase epochs (phase 2 needs
 * train.phase2_epochs, phase 3 both experts and scorer.epochs). Where a phase stands comes
 * from its checkpoints alone, as the trainer decides it (lpt_trainer.h): done when the latest
 * checkpoint is the last epoch, or for phase 3 when early stopping ended it (patience epochs
 * past the best); otherwise the epochs of its checkpoints are done and the next resumes.
 *
 * Threads: whichever thread owns the store connection given.
 */
#pragma once

#include <glib.h>

#include "lpt_run_config.h"
#include "lpt_store.h"

G_BEGIN_DECLS

#define LPT_N_PHASE_SLOTS 5

typedef struct {
    int phase;             /* 1, 2 or 3 */
    LptStoreExpert expert; /* FUSED for phase 3 */
} LptPhaseSlot;

/* The slots in card order. */
extern const LptPhaseSlot lpt_phase_slots[LPT_N_PHASE_SLOTS];

/* The slot of (phase, expert), -1 when none. */
int lpt_phase_slot_index(int phase, LptStoreExpert expert);

typedef struct {
    gboolean present;   /* the run has this phase */
    int epochs;         /* its planned epochs */
    int epochs_done;    /* epochs with a checkpoint (the latest's epoch + 1) */
    gboolean done;      /* nothing left to train */
    double best_metric; /* the best checkpoint's validation balanced accuracy; NaN: none */
} LptPhaseState;

/* The phases a run made from cfg has, none of them started. */
void lpt_run_phases_plan(const LptRunConfig *cfg, LptPhaseState states[LPT_N_PHASE_SLOTS]);

/* Where the phases of run_id (whose config is cfg) stand. */
LptStatus lpt_run_phases_read(LptStore *store, gint64 run_id, const LptRunConfig *cfg,
                              LptPhaseState states[LPT_N_PHASE_SLOTS], LptError *err);

/* Whether the phases slot needs first are done: phase 2 needs the expert's phase 1, phase 3
 * every expert's last phase. */
gboolean lpt_run_phases_ready(const LptPhaseState states[LPT_N_PHASE_SLOTS], int slot);

/* The run's config: its stored JSON read onto the defaults (FALSE with err set when it does
 * not parse). */
gboolean lpt_run_phases_config(const LptStoreRun *run, LptRunConfig *cfg, LptError *err);

G_END_DECLS

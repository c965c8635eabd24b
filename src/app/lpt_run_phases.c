/* lpt_run_phases.c: where a run's phases stand (see the header). */
#include "lpt_run_phases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

const LptPhaseSlot lpt_phase_slots[LPT_N_PHASE_SLOTS] = {
    {1, LPT_STORE_EXPERT_VISION}, {1, LPT_STORE_EXPERT_VL},    {2, LPT_STORE_EXPERT_VISION},
    {2, LPT_STORE_EXPERT_VL},     {3, LPT_STORE_EXPERT_FUSED},
};

int lpt_phase_slot_index(int phase, LptStoreExpert expert)
{
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++)
        if (lpt_phase_slots[i].phase == phase && lpt_phase_slots[i].expert == expert)
            return i;
    return -1;
}

static gboolean uses_expert(const LptRunConfig *cfg, LptStoreExpert expert)
{
    return expert == LPT_STORE_EXPERT_VISION ? cfg->use_vision
           : expert == LPT_STORE_EXPERT_VL   ? cfg->use_vl
                                             : cfg->use_vision && cfg->use_vl;
}

static int phase_epochs(const LptRunConfig *cfg, int phase)
{
    return phase == 1 ? cfg->phase1_epochs : phase == 2 ? cfg->phase2_epochs : cfg->scorer_epochs;
}

void lpt_run_phases_plan(const LptRunConfig *cfg, LptPhaseState states[LPT_N_PHASE_SLOTS])
{
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        const LptPhaseSlot *slot = &lpt_phase_slots[i];
        int epochs = phase_epochs(cfg, slot->phase);
        states[i] = (LptPhaseState){
            .present = uses_expert(cfg, slot->expert) && epochs > 0,
            .epochs = epochs,
            .best_metric = NAN,
        };
    }
}

LptStatus lpt_run_phases_read(LptStore *store, gint64 run_id, const LptRunConfig *cfg,
                              LptPhaseState states[LPT_N_PHASE_SLOTS], LptError *err)
{
    lpt_run_phases_plan(cfg, states);
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        LptPhaseState *s = &states[i];
        if (!s->present)
            continue;
        const LptPhaseSlot *slot = &lpt_phase_slots[i];
        LptStoreCheckpoint *last = NULL, *best = NULL;
        LptStatus st = lpt_store_checkpoint_find(store, run_id, slot->phase, slot->expert,
                                                 LPT_STORE_CHECKPOINT_LATEST, &last, err);
        if (st == LPT_OK)
            st = lpt_store_checkpoint_find(store, run_id, slot->phase, slot->expert,
                                           LPT_STORE_CHECKPOINT_BEST, &best, err);
        if (st == LPT_OK && last != NULL) {
            s->epochs_done = last->epoch + 1;
            s->done = last->epoch >= s->epochs - 1 ||
                      (slot->phase == 3 && cfg->scorer_patience > 0 && best != NULL &&
                       last->epoch - best->epoch >= cfg->scorer_patience);
        }
        if (best != NULL)
            s->best_metric = best->metric;
        free(last);
        free(best);
        if (st != LPT_OK)
            return st;
    }
    return LPT_OK;
}

gboolean lpt_run_phases_ready(const LptPhaseState states[LPT_N_PHASE_SLOTS], int slot)
{
    const LptPhaseSlot *s = &lpt_phase_slots[slot];
    if (s->phase == 1)
        return TRUE;
    if (s->phase == 2) {
        const LptPhaseState *first = &states[lpt_phase_slot_index(1, s->expert)];
        return !first->present || first->done;
    }
    for (int i = 0; i < LPT_N_PHASE_SLOTS; i++) {
        const LptPhaseSlot *other = &lpt_phase_slots[i];
        if (other->phase == 3 || !states[i].present)
            continue;
        /* The expert's last phase: phase 2 when it has one, else phase 1. */
        gboolean last =
            other->phase == 2 || !states[lpt_phase_slot_index(2, other->expert)].present;
        if (last && !states[i].done)
            return FALSE;
    }
    return TRUE;
}

gboolean lpt_run_phases_config(const LptStoreRun *run, LptRunConfig *cfg, LptError *err)
{
    lpt_run_config_init(cfg, LPT_METHOD_LPTPP);
    char source[64];
    snprintf(source, sizeof source, "config of run %lld", (long long)run->id);
    return lpt_run_config_parse(cfg, run->config_json, source, err) == LPT_OK;
}

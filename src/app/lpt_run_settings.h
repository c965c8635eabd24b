/* lpt_run_settings.h: the hyper-parameters of a training run on the Training page, with the
 * method's defaults (lpt_run_config.h) and Reset.
 *
 * Shown: the method (LPT++, LPT, the linear probe, full fine-tuning), which experts train,
 * the epochs of each phase and of the warm-up, the batch size, learning rate, momentum,
 * weight decay, prompts, group-prompt pool and the seed. Each row says its default; Reset puts
 * every value back to the method's defaults. Changing the method loads that method's
 * defaults (as a run config naming a method does), keeping the seed.
 *
 * Editable while it describes the next new run; read-only while it shows an existing run's
 * config. The vision-language expert is on by default only when the project has a
 * vision-language backbone (lpt_run_settings_set_vl_available), and only for LPT++.
 *
 * For a new run the settings go to the core as a JSON object of the values shown and nothing
 * else, so that what the project sets (its group thresholds) still applies.
 *
 * ::changed is emitted when the values shown change (the user's edits, Reset, a config set).
 *
 * Threads: main thread only.
 */
#pragma once

#include <adwaita.h>

#include "lpt_run_config.h"

G_BEGIN_DECLS

#define LPT_TYPE_RUN_SETTINGS (lpt_run_settings_get_type())
G_DECLARE_FINAL_TYPE(LptRunSettings, lpt_run_settings, LPT, RUN_SETTINGS, AdwPreferencesGroup)

GtkWidget *lpt_run_settings_new(void);

/* Shows cfg; editable: whether the user may change it. */
void lpt_run_settings_set_config(LptRunSettings *self, const LptRunConfig *cfg, gboolean editable);
/* The config shown: the method's defaults with the values shown. */
void lpt_run_settings_get_config(LptRunSettings *self, LptRunConfig *cfg);
gboolean lpt_run_settings_get_editable(LptRunSettings *self);

/* The method's defaults (the seed kept), the experts as the project's backbones allow. */
void lpt_run_settings_reset(LptRunSettings *self);
void lpt_run_settings_set_vl_available(LptRunSettings *self, gboolean available);

/* The values shown as a run config JSON object (a new string). */
char *lpt_run_settings_to_json(LptRunSettings *self);

/* A method's name as the app shows it ("LPT++", "Linear probe"; translated). */
const char *lpt_run_settings_method_title(LptMethod method);

G_END_DECLS

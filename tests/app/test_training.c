/* test_training.c: the Backbones and Training pages driven in-process, as a user would,
 * under Xvfb (suite 'app').
 *
 * In a temporary HOME it makes a small folder dataset (three classes of 28 x 28 PNGs whose
 * colours tell the classes apart), then runs the real LptApplication and checks:
 *   - a new project; the import of the folder through the Dataset page, with the main-loop
 *     probe on (worst stall reported, under APP_STALL_LIMIT_MS);
 *   - the Backbones page offers the demo backbones while the project has none; a file that
 *     is not safetensors is refused in a dialog with the core's message naming it, and the
 *     project keeps no backbone; "Use the Demo Backbones" adds the vision demo backbone, whose
 *     card says it loads and shows the architecture lpt_weights_open reads off the file
 *     (depth, width, heads, patch, image, parameters); the vision-language card has none;
 *   - the Training page on the CPU: the hyper-parameters start at lpt_run_config's defaults
 *     and Reset restores them; settings the core refuses fail the session with the core's
 *     message on the card and make no run; with tiny epochs, phase 1 of a new run starts, progress
 * and a curve point (a validated epoch with the store's figures) arrive, Stop ends it between
 *     steps: the card says interrupted, the runs list "Stopped"; Resume continues it from its
 *     checkpoint to the end, Run All Phases trains phase 2, the run is "Finished" and the
 *     curves hold the store's epochs; the probe measures the worst stall while training;
 *   - closing the window while a second run trains asks first (AdwMessageDialog); "Stop
 *     Training" stops it and the window closes; the project's lock is released and the run
 *     was stopped cleanly (CANCELLED, not RUNNING);
 *   - reopening the project shows both runs (finished, stopped) with the newest chosen, its
 *     phase 1 interrupted; Resume continues it; closing the project while it trains asks
 *     too: Keep Training changes nothing, Stop Training stops it (more epochs saved, the run
 *     CANCELLED) and closes the project.
 * Screenshots of the Backbones and Training pages go into the --screenshots folder (names end
 * in --suffix; --expect-translated checks that the pages' strings are translated).
 *
 * Usage: test_training --screenshots DIR --localedir DIR [--suffix S] [--expect-translated]
 * Prints "training: N passed, N failed" last; exits 0 only when nothing failed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_app_error.h"
#include "lpt_application.h"
#include "lpt_backbone_tasks.h"
#include "lpt_run_phases.h"
#include "lpt_weights.h"

#define check app_check

/* ---- Conditions ---- */

static gboolean backbones_idle(gpointer data)
{
    return !lpt_backbones_page_is_busy(LPT_BACKBONES_PAGE(data));
}

static gboolean training_finished(gpointer data)
{
    return !lpt_training_page_is_training(LPT_TRAINING_PAGE(data));
}

static gboolean devices_listed(gpointer data)
{
    return !lpt_training_page_is_listing_devices(LPT_TRAINING_PAGE(data));
}

static gboolean dialog_shown(gpointer data)
{
    return app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

/* A validated epoch reached the curves (and the session still runs or just ended). */
static gboolean curve_point(gpointer data)
{
    LptTrainingPage *page = LPT_TRAINING_PAGE(data);
    return lpt_training_curves_get_n_val_epochs(lpt_training_page_get_curves(page)) > 0 ||
           !lpt_training_page_is_training(page);
}

/* Phase 1 of the vision expert has a checkpoint (the session still runs or just ended). */
typedef struct {
    LptTrainingPage *page;
    LptStore *store;
} EpochWait;

static int checkpointed_epochs(LptStore *store, gint64 run_id, int phase, LptStoreExpert expert)
{
    LptStoreCheckpoint *last = NULL;
    int epochs = 0;
    if (run_id != 0 &&
        lpt_store_checkpoint_find(store, run_id, phase, expert, LPT_STORE_CHECKPOINT_LATEST, &last,
                                  NULL) == LPT_OK &&
        last != NULL)
        epochs = last->epoch + 1;
    free(last);
    return epochs;
}

static gboolean first_epoch_saved(gpointer data)
{
    EpochWait *wait = data;
    return checkpointed_epochs(wait->store, lpt_training_page_get_run(wait->page), 1,
                               LPT_STORE_EXPERT_VISION) > 0 ||
           !lpt_training_page_is_training(wait->page);
}

/* A run saved an epoch beyond `epochs` (or its session ended). */
typedef struct {
    LptTrainingPage *page;
    LptStore *store;
    gint64 run_id;
    int epochs;
} EpochMore;

static gboolean epoch_after(gpointer data)
{
    EpochMore *more = data;
    return checkpointed_epochs(more->store, more->run_id, 1, LPT_STORE_EXPERT_VISION) >
               more->epochs ||
           !lpt_training_page_is_training(more->page);
}

static gboolean project_closed(gpointer data)
{
    return lpt_window_get_project(LPT_WINDOW(data)) == NULL;
}

/* ---- Checks ---- */

static LptPhaseCardState card_state(LptTrainingPage *page, int slot)
{
    return lpt_phase_card_get_state(lpt_training_page_get_card(page, slot));
}

static const char *card_text(LptTrainingPage *page, int slot)
{
    return lpt_phase_card_get_state_text(lpt_training_page_get_card(page, slot));
}

static const char *error_text(const GError *error)
{
    return error != NULL ? error->message : "(none)";
}

/* Equal, or both not measured. */
static gboolean same_rate(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* The curves of the run shown hold the store's figures of (phase, vision) epoch by epoch. */
static void check_curves_match_store(LptTrainingPage *page, LptStore *store, int phase,
                                     const char *when)
{
    LptTrainingCurves *curves = lpt_training_page_get_curves(page);
    LptStoreEpochMetrics *metrics = NULL;
    size_t n = 0;
    gint64 run_id = lpt_training_page_get_run(page);
    check(lpt_store_metric_list(store, run_id, &metrics, &n, NULL) == LPT_OK,
          "%s: reading the metrics of run %lld", when, (long long)run_id);
    int val_epochs = 0;
    for (size_t i = 0; i < n; i++) {
        const LptStoreEpochMetrics *m = &metrics[i];
        if (m->phase != phase || m->expert != LPT_STORE_EXPERT_VISION)
            continue;
        LptEpochFigures f;
        gboolean has = lpt_training_curves_get_epoch(curves, m->epoch, &f);
        check(has, "%s: the curves lack epoch %d of phase %d", when, m->epoch, phase);
        if (!has)
            continue;
        if (m->split == LPT_STORE_SPLIT_TRAIN)
            check(f.loss == m->loss, "%s: epoch %d loss %.6f on the curve, %.6f stored", when,
                  m->epoch, f.loss, m->loss);
        if (m->split == LPT_STORE_SPLIT_VAL) {
            val_epochs++;
            check(same_rate(f.overall, m->overall) && same_rate(f.balanced, m->balanced) &&
                      same_rate(f.many, m->many) && same_rate(f.medium, m->medium) &&
                      same_rate(f.few, m->few),
                  "%s: epoch %d validation %.4f/%.4f on the curve, %.4f/%.4f stored", when,
                  m->epoch, f.overall, f.balanced, m->overall, m->balanced);
        }
    }
    check(val_epochs > 0 && lpt_training_curves_get_n_val_epochs(curves) == (guint)val_epochs,
          "%s: %u validated epochs on the curves, %d in the store", when,
          lpt_training_curves_get_n_val_epochs(curves), val_epochs);
    free(metrics);
}

static LptStoreRunStatus run_status(LptStore *store, gint64 run_id)
{
    LptStoreRun *run = NULL;
    LptStoreRunStatus status = LPT_STORE_RUN_CREATED;
    if (lpt_store_run_get(store, run_id, &run, NULL) == LPT_OK && run != NULL)
        status = run->status;
    free(run);
    return status;
}

/* Whether two configs are the same (their JSON, which has every key). */
static gboolean same_config(const LptRunConfig *a, const LptRunConfig *b)
{
    char *ja = lpt_run_config_to_json(a), *jb = lpt_run_config_to_json(b);
    gboolean same = ja != NULL && jb != NULL && strcmp(ja, jb) == 0;
    free(ja);
    free(jb);
    return same;
}

/* Phase 1 epochs of the runs the test stops: enough that a run is still training when the
 * test has seen its first epoch, taken a screenshot and pressed Stop. */
#define STOPPED_RUN_EPOCHS 10

/* The tiny run the test trains: phases of a few epochs over small batches. */
static void tiny_config(LptRunConfig *cfg, int phase1_epochs)
{
    lpt_run_config_init(cfg, LPT_METHOD_LPTPP);
    cfg->use_vl = false;
    cfg->phase1_epochs = phase1_epochs;
    cfg->phase2_epochs = 1;
    cfg->warmup_epochs = 0;
    cfg->batch_size = 8;
}

static gboolean has_vl_backbone(LptStore *store)
{
    LptStoreBackbone *backbones = NULL;
    size_t n = 0;
    gboolean found = FALSE;
    lpt_store_backbone_list(store, &backbones, &n, NULL);
    for (size_t i = 0; i < n; i++)
        found = found || backbones[i].role == LPT_STORE_EXPERT_VL;
    free(backbones);
    return found;
}

/* ---- The Backbones page ---- */

static void check_backbones(LptWindow *window, const char *home)
{
    LptBackbonesPage *page = lpt_window_get_backbones_page(window);
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    lpt_window_show_page(window, "backbones");
    app_pump(200);
    check(lpt_backbones_page_offers_demo(page), "the demo backbones are not offered");

    /* Not a weight file: refused with the core's words, nothing recorded. */
    g_autofree char *bad = g_build_filename(home, "not-weights.safetensors", NULL);
    g_file_set_contents(bad, "these are not weights\n", -1, NULL);
    g_autoptr(GFile) bad_file = g_file_new_for_path(bad);
    check(lpt_backbones_page_add_file(page, LPT_STORE_EXPERT_VISION, bad_file),
          "the page refused to add a file");
    check(app_wait_for(backbones_idle, page), "adding a bad file did not end");
    const GError *error = lpt_backbones_page_get_last_error(page);
    check(error != NULL && error->domain == LPT_CORE_ERROR &&
              strstr(error->message, "not-weights.safetensors") != NULL,
          "adding a bad file ended with '%s'", error_text(error));
    app_pump(200);
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
    check(dialog != NULL && error != NULL &&
              g_strcmp0(adw_message_dialog_get_heading(dialog),
                        g_dgettext(GETTEXT_PACKAGE, "Could Not Add the Backbone")) == 0 &&
              g_strcmp0(adw_message_dialog_get_body(dialog), error->message) == 0,
          "the refused file showed no dialog with the core's message");
    if (dialog != NULL)
        gtk_window_destroy(GTK_WINDOW(dialog));
    LptStoreBackbone *backbones = NULL;
    size_t n = 0;
    lpt_store_backbone_list(store, &backbones, &n, NULL);
    free(backbones);
    check(n == 0, "the project has %zu backbones after a refused file", n);
    check(lpt_backbone_card_get_state(lpt_backbones_page_get_card(page, LPT_STORE_EXPERT_VISION)) ==
              LPT_BACKBONE_CARD_NONE,
          "the vision card changed after a refused file");

    /* The demo backbones. */
    check(lpt_backbones_page_use_demo(page), "the page refused the demo backbones");
    check(app_wait_for(backbones_idle, page), "adding the demo backbones did not end");
    check(lpt_backbones_page_get_last_error(page) == NULL, "the demo backbones: %s",
          error_text(lpt_backbones_page_get_last_error(page)));
    app_pump(200);
    check(app_wait_for(backbones_idle, page), "checking the demo backbone did not end");
    LptBackboneCard *vision = lpt_backbones_page_get_card(page, LPT_STORE_EXPERT_VISION);
    check(lpt_backbone_card_get_state(vision) == LPT_BACKBONE_CARD_LOADS,
          "the demo vision backbone does not load: %s", lpt_backbone_card_get_status_text(vision));
    check(!lpt_backbones_page_offers_demo(page), "the demo is still offered after adding it");

    /* The card shows what the core reads off the file. */
    g_autofree char *demo_dir = lpt_backbone_demo_dir();
    g_autofree char *demo = g_build_filename(demo_dir, "demo-vit-mnist.safetensors", NULL);
    LptError err = {0};
    LptWeights *weights = lpt_weights_open(demo, NULL, &err);
    check(weights != NULL, "the test cannot open '%s': %s", demo, err.message);
    const LptBackboneDetails *d = lpt_backbones_page_get_details(page, LPT_STORE_EXPERT_VISION);
    if (weights != NULL && d != NULL) {
        const LptWeightsInfo *info = lpt_weights_info(weights);
        check(d->naming == info->naming && d->vit.depth == info->vit.depth &&
                  d->vit.width == info->vit.width && d->vit.heads == info->vit.heads &&
                  d->vit.patch == info->vit.patch && d->vit.image == info->vit.image &&
                  d->params == (gint64)info->params && d->tensors == info->tensors,
              "the card shows depth %d width %d heads %d patch %d image %d, %lld parameters; "
              "the file has %d %d %d %d %d, %zu",
              d->vit.depth, d->vit.width, d->vit.heads, d->vit.patch, d->vit.image,
              (long long)d->params, info->vit.depth, info->vit.width, info->vit.heads,
              info->vit.patch, info->vit.image, info->params);
    } else {
        check(d != NULL, "the page has no details of the demo backbone");
    }
    lpt_weights_close(weights);
    lpt_store_backbone_list(store, &backbones, &n, NULL);
    gboolean has_vision_demo = FALSE;
    for (size_t i = 0; i < n; i++)
        has_vision_demo =
            has_vision_demo || (backbones[i].role == LPT_STORE_EXPERT_VISION &&
                                g_str_has_suffix(backbones[i].path, "demo-vit-mnist.safetensors"));
    check(has_vision_demo, "the project's %zu backbones lack the vision demo backbone", n);
    free(backbones);
    /* The vision-language card: the CLIP-style demo backbone when the app has one. */
    LptBackboneCard *vl = lpt_backbones_page_get_card(page, LPT_STORE_EXPERT_VL);
    g_autofree char *vl_demo = g_build_filename(demo_dir, "demo-clip-mnist.safetensors", NULL);
    if (g_file_test(vl_demo, G_FILE_TEST_EXISTS)) {
        LptWeights *vl_weights = lpt_weights_open(vl_demo, NULL, &err);
        const LptBackboneDetails *vd = lpt_backbones_page_get_details(page, LPT_STORE_EXPERT_VL);
        check(lpt_backbone_card_get_state(vl) == LPT_BACKBONE_CARD_LOADS && vd != NULL &&
                  vl_weights != NULL && vd->vit.clip_style &&
                  vd->vit.width == lpt_weights_info(vl_weights)->vit.width &&
                  vd->params == (gint64)lpt_weights_info(vl_weights)->params,
              "the vision-language demo backbone: card %d ('%s')", lpt_backbone_card_get_state(vl),
              lpt_backbone_card_get_status_text(vl));
        lpt_weights_close(vl_weights);
    } else {
        check(lpt_backbone_card_get_state(vl) == LPT_BACKBONE_CARD_NONE,
              "the vision-language card shows a backbone the demo does not have");
    }
}

/* The Backbones page's screenshot, taken once its toast is long gone. */
static void backbones_screenshot(const AppOptions *opt, LptWindow *window)
{
    lpt_window_show_page(window, "backbones");
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    gtk_window_set_focus(GTK_WINDOW(window), NULL);
    app_pump(300);
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "backbones", opt->suffix);
}

/* ---- The Training page ---- */

/* Starts phase 1 of a new run and stops it after its first validated epoch; returns the run's
 * id. */
static gint64 train_and_stop(LptTrainingPage *page, LptStore *store, AppProbe *probe,
                             int phase1_epochs, const char *when, const AppOptions *opt)
{
    LptRunConfig cfg;
    tiny_config(&cfg, phase1_epochs);
    check(lpt_training_page_select_run(page, 0), "%s: no New Run row", when);
    lpt_run_settings_set_config(lpt_training_page_get_settings(page), &cfg, TRUE);
    check((card_state(page, 0) == LPT_PHASE_CARD_NOT_STARTED ||
           card_state(page, 0) == LPT_PHASE_CARD_FAILED) && /* the refused session's */
              card_state(page, 2) == LPT_PHASE_CARD_NOT_STARTED &&
              card_state(page, 1) == LPT_PHASE_CARD_ABSENT &&
              card_state(page, 4) == LPT_PHASE_CARD_ABSENT,
          "%s: the cards of a new vision-only run are %d %d %d %d %d", when, card_state(page, 0),
          card_state(page, 1), card_state(page, 2), card_state(page, 3), card_state(page, 4));
    check(!lpt_training_page_start_phase(page, 2), "%s: phase 2 started before phase 1", when);

    guint runs_before = lpt_training_page_get_n_runs(page);
    check(lpt_training_page_start_phase(page, 0), "%s: phase 1 did not start", when);
    check(lpt_training_page_is_training(page), "%s: not training after Start", when);
    check(!lpt_training_page_start_phase(page, 0) && !lpt_training_page_run_all(page),
          "%s: a second session started while one runs", when);
    EpochWait wait = {page, store};
    check(app_wait_for(curve_point, page), "%s: no curve point in %d s", when, APP_WAIT_LIMIT_S);
    check(app_wait_for(first_epoch_saved, &wait), "%s: no checkpoint", when);
    check(lpt_training_page_is_training(page), "%s: training ended before Stop: %s", when,
          error_text(lpt_training_page_get_last_error(page)));
    gint64 run_id = lpt_training_page_get_run(page);
    check(run_id != 0 && lpt_training_page_get_n_runs(page) == runs_before + 1,
          "%s: the new run (%lld) is not listed (%u runs)", when, (long long)run_id,
          lpt_training_page_get_n_runs(page));
    check(card_state(page, 0) == LPT_PHASE_CARD_RUNNING &&
              lpt_phase_card_get_fraction(lpt_training_page_get_card(page, 0)) > 0.0,
          "%s: the running card is %d at %.2f", when, card_state(page, 0),
          lpt_phase_card_get_fraction(lpt_training_page_get_card(page, 0)));
    LptTrainingCurves *curves = lpt_training_page_get_curves(page);
    check(lpt_training_curves_get_n_losses(curves) > 0 &&
              lpt_training_curves_get_n_val_epochs(curves) > 0,
          "%s: the curves hold %u losses, %u validated epochs", when,
          lpt_training_curves_get_n_losses(curves), lpt_training_curves_get_n_val_epochs(curves));
    check(gtk_progress_bar_get_fraction(lpt_training_page_get_progress_bar(page)) > 0.0,
          "%s: no progress on the progress bar", when);
    if (opt != NULL) { /* the page while it trains (the test's rendering is not measured) */
        GtkWidget *window = GTK_WIDGET(gtk_widget_get_root(GTK_WIDGET(page)));
        app_pump(150); /* a frame with the progress drawn */
        if (probe != NULL)
            app_probe_pause(probe);
        app_save_screenshot(window,
                            adw_application_window_get_content(ADW_APPLICATION_WINDOW(window)),
                            opt->screenshots, "training-progress", opt->suffix);
        if (probe != NULL)
            app_probe_resume(probe);
    }

    lpt_training_page_stop(page);
    check(app_wait_for(training_finished, page), "%s: Stop did not end the session", when);
    const GError *error = lpt_training_page_get_last_error(page);
    check(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
          "%s: the stopped session ended with '%s'", when, error_text(error));
    app_pump(200);
    int saved = checkpointed_epochs(store, run_id, 1, LPT_STORE_EXPERT_VISION);
    check(saved >= 1 && saved < phase1_epochs, "%s: %d of %d epochs saved when stopped", when,
          saved, phase1_epochs);
    check(card_state(page, 0) == LPT_PHASE_CARD_INTERRUPTED,
          "%s: the stopped phase's card is %d ('%s')", when, card_state(page, 0),
          card_text(page, 0));
    check(run_status(store, run_id) == LPT_STORE_RUN_CANCELLED &&
              g_strcmp0(lpt_training_page_get_run_status_text(page, run_id),
                        g_dpgettext2(GETTEXT_PACKAGE, "run", "Stopped")) == 0,
          "%s: the stopped run's status is %d, listed as '%s'", when, run_status(store, run_id),
          lpt_training_page_get_run_status_text(page, run_id));
    return run_id;
}

static void check_training(const AppOptions *opt, LptWindow *window)
{
    LptTrainingPage *page = lpt_window_get_training_page(window);
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    lpt_window_show_page(window, "training");
    check(app_wait_for(devices_listed, page), "the devices were not listed");
    app_pump(200);

    /* The hyper-parameters: the method's defaults, and Reset brings them back. */
    LptRunSettings *settings = lpt_training_page_get_settings(page);
    LptRunConfig shown, defaults;
    lpt_run_config_init(&defaults, LPT_METHOD_LPTPP);
    defaults.use_vl = has_vl_backbone(store); /* on by default only with a backbone for it */
    lpt_run_settings_get_config(settings, &shown);
    check(lpt_training_page_get_run(page) == 0 && lpt_run_settings_get_editable(settings) &&
              same_config(&shown, &defaults),
          "a new project's hyper-parameters are not the defaults (phase 1 %d, batch %d, lr %g)",
          shown.phase1_epochs, shown.batch_size, shown.lr);
    LptRunConfig changed = defaults;
    changed.phase1_epochs = 3;
    changed.lr = 0.5;
    lpt_run_settings_set_config(settings, &changed, TRUE);
    g_autofree char *json = lpt_run_settings_to_json(settings);
    LptRunConfig parsed;
    lpt_run_config_init(&parsed, LPT_METHOD_LPTPP);
    LptError err = {0};
    LptStatus parsed_status = lpt_run_config_parse(&parsed, json, "the settings' JSON", &err);
    check(parsed_status == LPT_OK && parsed.phase1_epochs == 3 && parsed.lr == 0.5 &&
              parsed.use_vl == defaults.use_vl,
          "the settings' JSON '%s' reads back as phase 1 %d, lr %g (%s)", json,
          parsed.phase1_epochs, parsed.lr, err.message);
    lpt_run_settings_reset(settings);
    lpt_run_settings_get_config(settings, &shown);
    check(same_config(&shown, &defaults), "Reset did not restore the defaults");

    /* Settings the core refuses: the session fails before making a run, and the card says
     * why in the core's words. */
    LptRunConfig bad;
    tiny_config(&bad, 2);
    bad.pool_size = 0; /* phase 2 needs a group-prompt pool */
    lpt_run_settings_set_config(settings, &bad, TRUE);
    check(lpt_training_page_start_phase(page, 0), "a session with a bad config did not start");
    check(app_wait_for(training_finished, page), "the session with a bad config did not end");
    const GError *refused = lpt_training_page_get_last_error(page);
    check(refused != NULL && refused->domain == LPT_CORE_ERROR &&
              strstr(refused->message, "pool_size") != NULL,
          "a bad config ended with '%s'", error_text(refused));
    check(card_state(page, 0) == LPT_PHASE_CARD_FAILED &&
              strstr(card_text(page, 0), "pool_size") != NULL,
          "the card of the refused session is %d ('%s')", card_state(page, 0), card_text(page, 0));
    check(lpt_training_page_get_n_runs(page) == 0, "a refused config made %u runs",
          lpt_training_page_get_n_runs(page));

    /* Train phase 1 of a new run on the CPU and stop it after its first epoch. */
    AppProbe probe;
    app_probe_start(&probe);
    gint64 run_id = train_and_stop(page, store, &probe, STOPPED_RUN_EPOCHS, "first run", opt);

    /* Resume: phase 1 continues from its checkpoint to the end. */
    int saved = checkpointed_epochs(store, run_id, 1, LPT_STORE_EXPERT_VISION);
    check(lpt_training_page_start_phase(page, 0), "Resume did not start");
    check(app_wait_for(training_finished, page), "the resumed phase did not end");
    check(lpt_training_page_get_last_error(page) == NULL, "the resumed phase ended with '%s'",
          error_text(lpt_training_page_get_last_error(page)));
    app_pump(200);
    LptStoreEpochMetrics *metrics = NULL;
    size_t n_metrics = 0;
    lpt_store_metric_list(store, run_id, &metrics, &n_metrics, NULL);
    int train_rows = 0;
    for (size_t i = 0; i < n_metrics; i++)
        train_rows += metrics[i].phase == 1 && metrics[i].split == LPT_STORE_SPLIT_TRAIN;
    free(metrics);
    check(checkpointed_epochs(store, run_id, 1, LPT_STORE_EXPERT_VISION) == STOPPED_RUN_EPOCHS &&
              train_rows == STOPPED_RUN_EPOCHS && saved < STOPPED_RUN_EPOCHS,
          "resumed from %d epochs: %d checkpointed, %d epochs recorded", saved,
          checkpointed_epochs(store, run_id, 1, LPT_STORE_EXPERT_VISION), train_rows);
    check(card_state(page, 0) == LPT_PHASE_CARD_DONE, "phase 1's card is %d ('%s') when done",
          card_state(page, 0), card_text(page, 0));
    check_curves_match_store(page, store, 1, "phase 1 done");
    check(run_status(store, run_id) == LPT_STORE_RUN_INTERRUPTED,
          "after phase 1 alone the run is %d, not interrupted (phase 2 remains)",
          run_status(store, run_id));

    /* Run All Phases: phase 2 is what remains. */
    check(lpt_training_page_run_all(page), "Run All Phases did not start");
    check(app_wait_for(training_finished, page), "Run All Phases did not end");
    check(lpt_training_page_get_last_error(page) == NULL, "Run All Phases ended with '%s'",
          error_text(lpt_training_page_get_last_error(page)));
    app_pump(200);
    check(card_state(page, 2) == LPT_PHASE_CARD_DONE && card_state(page, 0) == LPT_PHASE_CARD_DONE,
          "after Run All Phases the cards are %d, %d", card_state(page, 0), card_state(page, 2));
    check(run_status(store, run_id) == LPT_STORE_RUN_FINISHED &&
              g_strcmp0(lpt_training_page_get_run_status_text(page, run_id),
                        g_dpgettext2(GETTEXT_PACKAGE, "run", "Finished")) == 0,
          "the run is %d ('%s'), not finished", run_status(store, run_id),
          lpt_training_page_get_run_status_text(page, run_id));
    check(!lpt_training_page_run_all(page), "Run All Phases started on a finished run");

    /* The probe ran from the first Start to the end of Run All Phases (the test's own checks
     * in between are short; its screenshot was left out). */
    app_probe_stop(&probe);
    printf("training on the CPU (phase 1 started, stopped, resumed; phase 2): %.2f s; ",
           (probe.last_us - probe.started_us) / 1e6);
    app_probe_check(&probe, "while training");

    /* The screenshot: the finished run with phase 1's curves, once the page's toast is gone
     * (AdwToast's default timeout: 5 s). */
    g_signal_emit_by_name(lpt_training_page_get_card(page, 0), "select");
    check_curves_match_store(page, store, 1, "phase 1 shown again");
    GtkWidget *content = adw_application_window_get_content(ADW_APPLICATION_WINDOW(window));
    gtk_window_set_focus(GTK_WINDOW(window), NULL);
    app_pump(5600);
    app_save_screenshot(GTK_WIDGET(window), content, opt->screenshots, "training", opt->suffix);
}

/* Closing the window while a second run trains: asked first, stopped cleanly. */
static gint64 close_while_training(LptApplication *app, LptWindow *window, const char *project)
{
    LptTrainingPage *page = lpt_window_get_training_page(window);
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    LptRunConfig cfg;
    tiny_config(&cfg, STOPPED_RUN_EPOCHS);
    check(lpt_training_page_select_run(page, 0), "no New Run row");
    lpt_run_settings_set_config(lpt_training_page_get_settings(page), &cfg, TRUE);
    check(lpt_training_page_start_phase(page, 0), "the second run did not start");
    EpochWait wait = {page, store};
    check(app_wait_for(first_epoch_saved, &wait) && lpt_training_page_is_training(page),
          "the second run ended before its first epoch: %s",
          error_text(lpt_training_page_get_last_error(page)));
    gint64 run_id = lpt_training_page_get_run(page);

    gtk_window_close(GTK_WINDOW(window));
    check(app_wait_for(dialog_shown, NULL), "closing while training asked nothing");
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
    check(dialog != NULL && g_strcmp0(adw_message_dialog_get_heading(dialog),
                                      g_dgettext(GETTEXT_PACKAGE, "Stop Training?")) == 0,
          "the question is '%s'", dialog != NULL ? adw_message_dialog_get_heading(dialog) : "");
    check(gtk_application_get_windows(GTK_APPLICATION(app)) != NULL &&
              lpt_training_page_is_training(page),
          "the window closed or training stopped before the answer");
    if (dialog != NULL)
        adw_message_dialog_response(dialog, "stop");
    check(app_wait_for(app_has_no_windows, app), "the window did not close after Stop Training");
    app_pump(200);

    LptError err = {0};
    LptStore *again = lpt_store_open(project, LPT_STORE_OPEN, &err);
    check(again != NULL, "the project is still locked after its window closed: %s", err.message);
    if (again != NULL) {
        check(run_status(again, run_id) == LPT_STORE_RUN_CANCELLED,
              "the run stopped by closing is %d, not cancelled", run_status(again, run_id));
        lpt_store_close(again);
    }
    return run_id;
}

/* Reopening shows both runs, the newest chosen and interrupted; Resume continues it. */
static void check_reopened(LptApplication *app, const char *project, gint64 first_run,
                           gint64 second_run)
{
    LptWindow *window = app_open_project(app, project, FALSE, 1200, 900);
    if (window == NULL)
        return;
    LptTrainingPage *page = lpt_window_get_training_page(window);
    LptStore *store = lpt_project_get_store(lpt_window_get_project(window));
    lpt_window_show_page(window, "training");
    app_pump(300);
    check(lpt_training_page_get_n_runs(page) == 2 &&
              lpt_training_page_get_run_id(page, 0) == second_run &&
              lpt_training_page_get_run_id(page, 1) == first_run,
          "the reopened project lists %u runs (%lld, %lld)", lpt_training_page_get_n_runs(page),
          (long long)lpt_training_page_get_run_id(page, 0),
          (long long)lpt_training_page_get_run_id(page, 1));
    check(lpt_training_page_get_run(page) == second_run &&
              card_state(page, 0) == LPT_PHASE_CARD_INTERRUPTED,
          "the reopened project shows run %lld, phase 1 %d ('%s')",
          (long long)lpt_training_page_get_run(page), card_state(page, 0), card_text(page, 0));
    check(g_strcmp0(lpt_training_page_get_run_status_text(page, first_run),
                    g_dpgettext2(GETTEXT_PACKAGE, "run", "Finished")) == 0 &&
              g_strcmp0(lpt_training_page_get_run_status_text(page, second_run),
                        g_dpgettext2(GETTEXT_PACKAGE, "run", "Stopped")) == 0,
          "the reopened runs read '%s' and '%s'",
          lpt_training_page_get_run_status_text(page, first_run),
          lpt_training_page_get_run_status_text(page, second_run));
    /* Resume continues it from its checkpoint; closing the project while it trains asks:
     * Keep Training changes nothing, Stop Training stops it and closes the project. */
    int saved = checkpointed_epochs(store, second_run, 1, LPT_STORE_EXPERT_VISION);
    check(lpt_training_page_start_phase(page, 0), "Resume of the reopened run did not start");
    EpochMore more = {page, store, second_run, saved};
    check(app_wait_for(epoch_after, &more) && lpt_training_page_is_training(page),
          "the resumed run saved no epoch after its %d: %s", saved,
          error_text(lpt_training_page_get_last_error(page)));
    for (int answer = 0; answer < 2; answer++) {
        check(gtk_widget_activate_action(GTK_WIDGET(window), "win.close-project", NULL),
              "win.close-project is missing");
        check(app_wait_for(dialog_shown, NULL), "closing the project while training asked nothing");
        AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG(app_find_toplevel(ADW_TYPE_MESSAGE_DIALOG));
        if (dialog != NULL)
            adw_message_dialog_response(dialog, answer == 0 ? "cancel" : "stop");
        app_pump(100);
        if (answer == 0)
            check(lpt_window_get_project(window) != NULL && lpt_training_page_is_training(page),
                  "Keep Training closed the project or stopped training");
    }
    check(app_wait_for(project_closed, window), "Stop Training did not close the project");
    LptError err = {0};
    LptStore *again = lpt_store_open(project, LPT_STORE_OPEN, &err);
    check(again != NULL, "the closed project is still locked: %s", err.message);
    if (again != NULL) {
        int epochs = checkpointed_epochs(again, second_run, 1, LPT_STORE_EXPERT_VISION);
        check(run_status(again, second_run) == LPT_STORE_RUN_CANCELLED && epochs > saved,
              "the resumed run is %d with %d epochs (from %d) after closing the project",
              run_status(again, second_run), epochs, saved);
        lpt_store_close(again);
    }
    gtk_window_close(GTK_WINDOW(window));
    check(app_wait_for(app_has_no_windows, app), "the reopened window did not close");
}

static void run(const AppOptions *opt, const char *home, gpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dataset = g_build_filename(home, "Datasets", "washers", NULL);
    g_autofree char *projects = g_build_filename(home, "Projects", NULL);
    g_autofree char *project = g_build_filename(projects, "Washers.lptproj", NULL);
    static const struct {
        const char *name;
        int count;
    } classes[] = {{"good", 48}, {"scratch", 24}, {"dent", 12}};
    gboolean made = g_mkdir_with_parents(projects, 0755) == 0;
    for (gsize c = 0; made && c < G_N_ELEMENTS(classes); c++)
        made =
            app_make_class_folder(dataset, classes[c].name, classes[c].count, 28, (guint)c, &error);
    check(made, "making the dataset: %s", error != NULL ? error->message : "mkdir failed");
    if (!made)
        return;

    g_autoptr(GSettings) settings = g_settings_new(BASE_ID);
    g_settings_set_string(settings, "device", "cpu");

    g_autoptr(LptApplication) app = app_new_application();
    g_application_hold(G_APPLICATION(app)); /* the app lives on between its windows */

    /* A new project, as New Project… makes it. */
    LptWindow *window = app_open_project(app, project, TRUE, 1200, 900);
    if (window == NULL)
        return;
    app_pump(400);

    /* The training page says what is missing first. */
    LptTrainingPage *training = lpt_window_get_training_page(window);
    check(!lpt_training_page_run_all(training), "Run All Phases started without images");

    /* Import the folder, with the probe on. */
    LptDatasetPage *dataset_page = lpt_window_get_dataset_page(window);
    g_autoptr(GFile) source = g_file_new_for_path(dataset);
    AppProbe probe;
    app_probe_start(&probe);
    check(lpt_dataset_page_import(dataset_page, &source, 1, LPT_IMPORT_SOURCE_FOLDER),
          "the page refused the import");
    check(app_wait_for(app_import_finished, dataset_page), "the import did not finish");
    app_probe_stop(&probe);
    printf("import of 84 images: %.2f s; ", (probe.last_us - probe.started_us) / 1e6);
    app_probe_check(&probe, "during the import");
    const LptImportReport *report = lpt_dataset_page_get_last_report(dataset_page);
    check(report != NULL && report->imported == 84, "imported %lld images, expected 84",
          report != NULL ? (long long)report->imported : -1LL);
    app_pump(200);

    check_backbones(window, home);
    check_training(opt, window);
    backbones_screenshot(opt, window);
    gint64 first_run = lpt_training_page_get_run(training);
    gint64 second_run = close_while_training(app, window, project);
    check_reopened(app, project, first_run, second_run);

    if (opt->expect_translated) {
        static const char *const samples[] = {"_Use the Demo Backbones", "_Run All Phases",
                                              "Hyper-parameters", "Stop Training?",
                                              "Interrupted after epoch %d of %d"};
        app_check_translated(samples, G_N_ELEMENTS(samples));
    }
    g_application_release(G_APPLICATION(app));
}

int main(int argc, char **argv)
{
    const AppTest test = {.name = "training", .run = run};
    return app_run_test(&test, argc, argv);
}

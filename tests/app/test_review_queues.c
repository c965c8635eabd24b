/* test_review_queues.c: the Review page's queues, calibration view, run comparison and class
 * texts driven in-process under Xvfb (suite 'app').
 *
 * On the project tests/app/make_review_project.sh trains and evaluates with the `lpt` command
 * line (two runs on a reduced Fashion-MNIST-LT; skipped with 77 when Debian's Fashion-MNIST
 * is missing), in a window of its own holding the four widgets, it checks:
 *   - each queue shows exactly the images, in the order, that the core gives
 *     (lpt_review_samples_read + lpt_review_queue_build on a connection of the test's own),
 *     with the sidebar's count, a caption on each tile, and thumbnails loaded off the main
 *     thread;
 *   - keyboard: the grid's Right and Down move the selection (its own key bindings, as a key
 *     press runs them), Enter emits ::open-image with the selected image, typing a letter opens
 *     the relabel popover with it; choosing the predicted class relabels the image in the store
 *     (label history with the queue's reason), the queue is read again without it, and the
 *     selection stays at the same place;
 *   - the calibration view: the all-classes ECE of each model the run has equals `lpt eval
 *     --json`'s for the run (run here), the diagram's 10 bins hold every image with the core's
 *     accuracies, and a group's diagram has the core's ECE;
 *   - the run comparison: run 1 against run 2, the flips and per-class counts the core gives;
 *   - the class texts: in a project without vision-language backbone zero-shot cannot start
 *     and says why; applying a text stores it as the class's description; the trained VL
 *     recall beside each class is the core's; zero-shot with run 1's VL backbone (the demo
 *     CLIP; without one, the zero-shot fixture's tiny CLIP added to the project) runs on a
 *     worker thread and its per-class recall equals lpt_zero_shot_run's.
 * Screenshots of each queue, the calibration view, the comparison and the class texts go into
 * the --screenshots folder (names end in --suffix; --expect-translated checks the strings are
 * translated).
 *
 * Usage: test_review_queues --screenshots DIR --localedir DIR --lpt LPT --make-project SCRIPT
 *        --fixtures DIR [--suffix S] [--expect-translated] [--project P]
 * (--project: a project SCRIPT made before, copied instead of making one: for quick reruns.)
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gi18n.h>

#include "app_driver.h"
#include "lpt_app_config.h"
#include "lpt_application.h"
#include "lpt_backbone.h"
#include "lpt_calibration.h"
#include "lpt_calibration_view.h"
#include "lpt_class_texts_view.h"
#include "lpt_image_tile.h"
#include "lpt_project.h"
#include "lpt_review_queue.h"
#include "lpt_review_queues.h"
#include "lpt_review_samples.h"
#include "lpt_run_compare.h"
#include "lpt_run_compare_view.h"
#include "lpt_zero_shot.h"

#define check app_check

/* The options beyond AppOptions'. */
typedef struct {
    const char *lpt;
    const char *script;
    const char *fixtures;
    const char *project; /* a project made by SCRIPT before, copied instead of making one */
} Options;

/* The test's window: a toast overlay over a stack of the four widgets. */
typedef struct {
    GtkWidget *window;
    GtkWidget *content;
    GtkStack *stack;
    const AppOptions *app;
    const Options *opt;
    LptProject *project;
    LptStore *store; /* the test's own connection */
} Scene;

static void show(Scene *scene, GtkWidget *page)
{
    gtk_stack_set_visible_child(scene->stack, page);
    app_wait_for(app_widget_is_mapped, page);
    app_pump(200);
}

/* ---- Keys ---- */

/* The widget in the window that has the focus. */
static GtkWidget *focus_of(Scene *scene)
{
    return gtk_root_get_focus(GTK_ROOT(scene->window));
}

/* ---- Queues ---- */

typedef struct {
    gint64 opened; /* the last ::open-image, 0 when none */
} Opened;

static void on_open_image(GtkWidget *widget, gint64 image_id, gpointer data)
{
    ((Opened *)data)->opened = image_id;
}

static guint selected(LptReviewQueues *queues)
{
    return gtk_single_selection_get_selected(lpt_review_queues_get_selection(queues));
}

/* Bound tiles of the grid that show their thumbnail / all bound tiles. */
static void count_thumbnails(GtkWidget *grid, guint *loaded, guint *bound)
{
    *loaded = *bound = 0;
    for (GtkWidget *child = gtk_widget_get_first_child(grid); child != NULL;
         child = gtk_widget_get_next_sibling(child)) {
        GtkWidget *tile = app_find_widget(child, LPT_TYPE_IMAGE_TILE);
        if (tile == NULL || lpt_image_tile_get_item(LPT_IMAGE_TILE(tile)) == NULL)
            continue;
        (*bound)++;
        *loaded += lpt_image_tile_has_thumbnail(LPT_IMAGE_TILE(tile));
    }
}

static gboolean thumbnails_loaded(gpointer data)
{
    guint loaded, bound;
    count_thumbnails(GTK_WIDGET(data), &loaded, &bound);
    return bound > 0 && loaded == bound;
}

/* The core's queue of the run, as the test reads it. */
static LptReviewQueueEntry *core_queue(Scene *scene, LptReviewQueueKind kind, size_t *n)
{
    LptReviewSamples *s = NULL;
    LptReviewQueueEntry *e = NULL;
    LptError err = {0};
    *n = 0;
    if (lpt_review_samples_read(scene->store, 1, LPT_STORE_SPLIT_TEST, &s, &err) != LPT_OK ||
        lpt_review_queue_build(s, kind, &e, n, &err) != LPT_OK)
        check(FALSE, "core queue %d: %s", (int)kind, err.message);
    lpt_review_samples_free(s);
    return e;
}

static gboolean same_ids(const int64_t *shown, size_t n_shown, const LptReviewQueueEntry *e,
                         size_t n)
{
    if (n_shown != n)
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if (shown[i] != e[i].image_id)
            return FALSE;
    return TRUE;
}

static void check_queues(Scene *scene, LptReviewQueues *queues)
{
    Opened opened = {0};
    g_signal_connect(queues, "open-image", G_CALLBACK(on_open_image), &opened);
    lpt_review_queues_set_project(queues, scene->project);
    lpt_review_queues_set_run(queues, 1);
    show(scene, GTK_WIDGET(queues));
    GtkGridView *grid = lpt_review_queues_get_grid(queues);

    static const char *const names[LPT_REVIEW_QUEUE_KINDS] = {
        "review-queue-misclassified", "review-queue-tail", "review-queue-disagree",
        "review-queue-low-confidence", "review-queue-label-errors"};
    size_t nonempty = 0;
    for (int k = LPT_REVIEW_QUEUE_KINDS - 1; k >= 0; k--) { /* misclassified last: used below */
        lpt_review_queues_select_queue(queues, (LptReviewQueueKind)k);
        app_pump(200);
        size_t n = 0, shown_n = 0;
        g_autofree LptReviewQueueEntry *e = core_queue(scene, (LptReviewQueueKind)k, &n);
        const int64_t *shown = lpt_review_queues_current_ids(queues, &shown_n);
        check(lpt_review_queues_get_queue(queues) == (LptReviewQueueKind)k,
              "queue %d was not shown", k);
        check(same_ids(shown, shown_n, e, n), "queue %s shows %zu images, the core has %zu%s",
              lpt_review_queue_name((LptReviewQueueKind)k), shown_n, n,
              shown_n == n ? " (in another order)" : "");
        check(lpt_review_queues_get_count(queues, (LptReviewQueueKind)k) == n,
              "queue %s: the sidebar says %zu, the core %zu",
              lpt_review_queue_name((LptReviewQueueKind)k),
              lpt_review_queues_get_count(queues, (LptReviewQueueKind)k), n);
        if (n > 0) {
            nonempty++;
            g_autofree char *caption = lpt_review_queues_dup_caption(queues, 0);
            gboolean disagree = k == LPT_REVIEW_QUEUE_EXPERTS_DISAGREE;
            check(caption != NULL && (disagree ? strstr(caption, "VL: ") != NULL
                                               : strstr(caption, "→") && strchr(caption, '%')),
                  "queue %s: the first caption is '%s'",
                  lpt_review_queue_name((LptReviewQueueKind)k), caption ? caption : "");
            check(app_wait_for(thumbnails_loaded, grid), "queue %s: the thumbnails never loaded",
                  lpt_review_queue_name((LptReviewQueueKind)k));
        }
        printf("queue %s: %zu images\n", lpt_review_queue_name((LptReviewQueueKind)k), n);
        app_save_screenshot(scene->window, scene->content, scene->app->screenshots, names[k],
                            scene->app->suffix);
    }
    check(nonempty >= 3, "only %zu queues have images", nonempty);
    if (scene->app->expect_translated) {
        static const char *const titles[] = {"Likely Label Errors"};
        app_check_translated(titles, G_N_ELEMENTS(titles));
    }

    /* Keys, in the misclassified queue: Right and Down move the selection. */
    size_t n = 0;
    g_autofree LptReviewQueueEntry *mis = core_queue(scene, LPT_REVIEW_QUEUE_MISCLASSIFIED, &n);
    if (n < 12) {
        check(FALSE, "the misclassified queue has only %zu images", n);
        return;
    }
    gtk_widget_activate_action(GTK_WIDGET(grid), "list.select-item", "(ubb)", 0, FALSE, FALSE);
    gtk_widget_grab_focus(GTK_WIDGET(grid)); /* as Tab or a click would */
    app_pump(100);
    GtkWidget *focus = focus_of(scene);
    check(focus != NULL && gtk_widget_is_ancestor(focus, GTK_WIDGET(grid)) && selected(queues) == 0,
          "the first image is not selected with the focus in the grid");
    check(app_run_key_binding(GTK_WIDGET(grid), GDK_KEY_Right) && selected(queues) == 1,
          "Right selected %u, expected 1", selected(queues));
    app_pump(50);
    guint before = selected(queues);
    check(app_run_key_binding(GTK_WIDGET(grid), GDK_KEY_Down) && selected(queues) > before,
          "Down selected %u after %u", selected(queues), before);
    app_pump(50);
    /* Enter on the focused tile opens the inspector's image */
    guint at = selected(queues);
    focus = focus_of(scene);
    gboolean entered = FALSE;
    for (GtkWidget *w = focus; w != NULL && !entered && w != GTK_WIDGET(grid);
         w = gtk_widget_get_parent(w))
        entered = app_run_key_binding(w, GDK_KEY_Return);
    check(entered && opened.opened == mis[at].image_id,
          "Enter opened image %lld, expected %lld (position %u)", (long long)opened.opened,
          (long long)mis[at].image_id, at);
}

/* Typing over the queue relabels the selected image (last: it changes the project). */
static void check_relabel(Scene *scene, LptReviewQueues *queues)
{
    show(scene, GTK_WIDGET(queues));
    lpt_review_queues_select_queue(queues, LPT_REVIEW_QUEUE_MISCLASSIFIED);
    app_pump(100);
    size_t n = 0;
    g_autofree LptReviewQueueEntry *mis = core_queue(scene, LPT_REVIEW_QUEUE_MISCLASSIFIED, &n);
    guint at = 3;
    if (n < at + 2) {
        check(FALSE, "the misclassified queue has only %zu images", n);
        return;
    }
    GtkGridView *grid = lpt_review_queues_get_grid(queues);
    gtk_widget_activate_action(GTK_WIDGET(grid), "list.select-item", "(ubb)", at, FALSE, FALSE);
    app_pump(100);

    /* Typing "x" opens the relabel popover with it; the predicted class relabels. */
    gboolean handled = app_press_key(GTK_WIDGET(queues), GDK_KEY_x);
    LptRelabelPopover *popover = lpt_review_queues_get_relabel_popover(queues);
    GtkEditable *entry = lpt_relabel_popover_get_entry(popover);
    check(handled && gtk_widget_get_visible(GTK_WIDGET(popover)) &&
              g_strcmp0(gtk_editable_get_text(entry), "x") == 0,
          "typing x: popover %s with '%s'",
          gtk_widget_get_visible(GTK_WIDGET(popover)) ? "shown" : "not shown",
          gtk_editable_get_text(entry));
    LptReviewSamples *s = NULL;
    lpt_review_samples_read(scene->store, 1, LPT_STORE_SPLIT_TEST, &s, NULL);
    int64_t image = mis[at].image_id, next = mis[at + 1].image_id;
    const char *predicted =
        s ? s->class_names[s->samples[mis[at].sample].top[LPT_STORE_EXPERT_FUSED]] : "?";
    g_autofree char *target = g_strdup(predicted);
    lpt_review_samples_free(s);
    gtk_editable_set_text(entry, target);
    app_pump(50);
    g_autofree char *choice = lpt_relabel_popover_get_choice(popover);
    check(g_strcmp0(choice, target) == 0, "the popover chose '%s' for '%s'", choice, target);
    g_signal_emit_by_name(entry, "activate"); /* Enter */
    app_pump(300);
    LptStoreImage *record = NULL;
    LptStoreLabelChange *history = NULL;
    size_t n_history = 0;
    lpt_store_image_get(scene->store, image, &record, NULL);
    lpt_store_label_history(scene->store, image, &history, &n_history, NULL);
    LptStoreClass *classes = NULL;
    size_t n_classes = 0;
    lpt_store_class_list(scene->store, &classes, &n_classes, NULL);
    const char *now = "?";
    for (size_t i = 0; record && i < n_classes; i++)
        if (classes[i].id == record->class_id)
            now = classes[i].name;
    check(g_strcmp0(now, target) == 0 && n_history == 1 &&
              g_strcmp0(history[0].reason, "relabelled in a review queue") == 0,
          "image %lld is '%s' with %zu history rows, expected '%s'", (long long)image, now,
          n_history, target);
    free(record);
    free(history);
    free(classes);
    size_t after_n = 0;
    const int64_t *after = lpt_review_queues_current_ids(queues, &after_n);
    gboolean gone = TRUE;
    for (size_t i = 0; i < after_n; i++)
        gone = gone && after[i] != image;
    check(gone && after_n == n - 1, "after the relabel the queue has %zu images (%s), expected %zu",
          after_n, gone ? "without it" : "with it", n - 1);
    check(selected(queues) == at && after_n > at && after[at] == next,
          "after the relabel position %u (image %lld) is selected, expected %u (image %lld)",
          selected(queues), after_n > selected(queues) ? (long long)after[selected(queues)] : 0LL,
          at, (long long)next);
    size_t core_n = 0;
    g_autofree LptReviewQueueEntry *core_after =
        core_queue(scene, LPT_REVIEW_QUEUE_MISCLASSIFIED, &core_n);
    check(same_ids(after, after_n, core_after, core_n), "after the relabel the queue differs "
                                                        "from the core's");
}

/* ---- Calibration ---- */

/* `lpt eval --project P --run 1 --json`: the "ece" of the fused model or of an expert (NaN
 * when absent). */
static double eval_ece(cJSON *json, const char *model)
{
    const cJSON *m = strcmp(model, "fused") == 0
                         ? cJSON_GetObjectItemCaseSensitive(json, model)
                         : cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(json, "experts"), model);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "ece");
    return cJSON_IsNumber(e) ? e->valuedouble : NAN;
}

static cJSON *run_eval(Scene *scene, const char *project)
{
    const char *argv[] = {scene->opt->lpt, "eval", "--project", project,
                          "--run",         "1",    "--json",    NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;
    gboolean ran = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                &out, NULL, &status, &error);
    check(ran && status == 0, "lpt eval --json: %s", error ? error->message : "failed");
    return ran && status == 0 ? cJSON_Parse(out) : NULL;
}

static void check_calibration(Scene *scene, LptCalibrationView *view, cJSON *eval)
{
    lpt_calibration_view_set_project(view, scene->project);
    lpt_calibration_view_set_run(view, 1);
    show(scene, GTK_WIDGET(view));
    const char *models[3] = {"fused", "vision", "vl"};
    const int sources[3] = {LPT_STORE_EXPERT_FUSED, LPT_STORE_EXPERT_VISION, LPT_STORE_EXPERT_VL};
    for (int m = 0; m < 3; m++) {
        double want = eval_ece(eval, models[m]);
        double got = lpt_calibration_view_get_ece(view, sources[m], LPT_CALIBRATION_ALL_GROUPS);
        if (m == 2 && isnan(want) && isnan(got))
            continue; /* a run without VL expert */
        check(!isnan(want) && fabs(got - want) <= 1e-12 * fmax(1.0, want),
              "%s ECE %.17g, lpt eval --json %.17g", models[m], got, want);
        printf("ECE %s: %.6f (lpt eval %.6f)\n", models[m], got, want);
    }
    check(lpt_calibration_view_get_ece_bins(view) == 15, "the table uses %d bins, expected 15",
          lpt_calibration_view_get_ece_bins(view));

    LptReviewSamples *s = NULL;
    LptCalibration *c = NULL;
    lpt_review_samples_read(scene->store, 1, LPT_STORE_SPLIT_TEST, &s, NULL);
    if (s)
        lpt_calibration_compute(s, LPT_STORE_EXPERT_FUSED, LPT_CALIBRATION_ALL_GROUPS,
                                LPT_CALIBRATION_DIAGRAM_BINS, &c, NULL);
    LptReliabilityChart *chart = lpt_calibration_view_get_chart(view);
    gboolean same = c && lpt_reliability_chart_get_n_bins(chart) == LPT_CALIBRATION_DIAGRAM_BINS;
    gint64 total = 0;
    for (int b = 0; same && b < LPT_CALIBRATION_DIAGRAM_BINS; b++) {
        total += lpt_reliability_chart_get_count(chart, b);
        same = lpt_reliability_chart_get_count(chart, b) == c->bin[b].count &&
               (c->bin[b].count == 0 ||
                lpt_reliability_chart_get_accuracy(chart, b) == c->bin[b].accuracy);
    }
    check(same && total == (gint64)s->count, "the diagram's bins differ from the core's");
    app_save_screenshot(scene->window, scene->content, scene->app->screenshots,
                        "review-calibration", scene->app->suffix);
    /* the few-shot classes of the vision expert */
    lpt_calibration_view_select(view, LPT_STORE_EXPERT_VISION, LPT_GROUP_FEW);
    app_pump(100);
    free(c);
    c = NULL;
    if (s)
        lpt_calibration_compute(s, LPT_STORE_EXPERT_VISION, LPT_GROUP_FEW,
                                LPT_CALIBRATION_DIAGRAM_BINS, &c, NULL);
    check(c && c->images > 0 && lpt_reliability_chart_get_ece(chart) == c->ece,
          "the few-shot diagram's ECE %.6f, the core's %.6f", lpt_reliability_chart_get_ece(chart),
          c ? c->ece : NAN);
    free(c);
    lpt_review_samples_free(s);
}

/* ---- Run comparison ---- */

static void check_compare(Scene *scene, LptRunCompareView *view)
{
    lpt_run_compare_view_set_project(view, scene->project);
    lpt_run_compare_view_set_run(view, 1);
    show(scene, GTK_WIDGET(view));
    check(lpt_run_compare_view_get_other_run(view) == 2, "run 1 is compared with run %lld",
          (long long)lpt_run_compare_view_get_other_run(view));
    LptReviewSamples *before = NULL, *after = NULL;
    LptRunCompare *core = NULL;
    lpt_review_samples_read(scene->store, 2, LPT_STORE_SPLIT_TEST, &before, NULL);
    lpt_review_samples_read(scene->store, 1, LPT_STORE_SPLIT_TEST, &after, NULL);
    if (before && after)
        lpt_run_compare(before, after, &core, NULL);
    const LptRunCompare *shown = lpt_run_compare_view_get_result(view);
    gboolean same =
        core && shown && shown->common == core->common && shown->num_flips == core->num_flips &&
        shown->right_to_wrong == core->right_to_wrong && shown->num_classes == core->num_classes;
    for (size_t i = 0; same && i < core->num_classes; i++)
        same = shown->classes[i].class_id == core->classes[i].class_id &&
               shown->classes[i].right_to_wrong == core->classes[i].right_to_wrong &&
               shown->classes[i].wrong_to_right == core->classes[i].wrong_to_right;
    check(same && core->num_flips > 0, "the comparison differs from the core's (%zu flips)",
          core ? core->num_flips : 0);
    if (core)
        printf("compare run 2 -> run 1: %lld images, %lld right->wrong, %lld wrong->right\n",
               (long long)core->common, (long long)core->right_to_wrong,
               (long long)core->wrong_to_right);
    GtkGridView *grid = lpt_run_compare_view_get_grid(view);
    GListModel *model = G_LIST_MODEL(gtk_grid_view_get_model(grid));
    check(core && g_list_model_get_n_items(model) == core->num_flips,
          "the grid shows %u flipped images", g_list_model_get_n_items(model));
    app_wait_for(thumbnails_loaded, grid);
    app_save_screenshot(scene->window, scene->content, scene->app->screenshots, "review-compare",
                        scene->app->suffix);
    /* one class's flips */
    if (core && core->num_flips > 0) {
        int64_t class_id = core->flips[0].class_id;
        guint want = 0;
        for (size_t i = 0; i < core->num_flips; i++)
            want += core->flips[i].class_id == class_id;
        lpt_run_compare_view_show_class(view, class_id);
        app_pump(100);
        check(g_list_model_get_n_items(model) == want, "class %lld: %u flips shown, expected %u",
              (long long)class_id, g_list_model_get_n_items(model), want);
        Opened opened = {0};
        g_signal_connect(view, "open-image", G_CALLBACK(on_open_image), &opened);
        g_signal_emit_by_name(grid, "activate", 0u);
        check(opened.opened == core->flips[0].image_id, "activating a flip opened %lld",
              (long long)opened.opened);
    }
    free(core);
    lpt_review_samples_free(before);
    lpt_review_samples_free(after);
}

/* ---- Class texts ---- */

static gboolean zero_shot_done(gpointer data)
{
    return !lpt_class_texts_view_is_running(LPT_CLASS_TEXTS_VIEW(data));
}

/* The project's test images and their class index among all classes (by id), for the
 * reference zero-shot run. */
static void test_images(LptStore *store, const LptStoreClass *classes, size_t n_classes,
                        GPtrArray *paths, GArray *labels)
{
    int64_t *ids = NULL;
    size_t n = 0;
    lpt_store_image_list(store, 0, LPT_STORE_SPLIT_TEST, 0, &ids, &n, NULL);
    for (size_t i = 0; i < n; i++) {
        LptStoreImage *image = NULL;
        lpt_store_image_get(store, ids[i], &image, NULL);
        for (size_t k = 0; image && k < n_classes; k++)
            if (classes[k].id == image->class_id) {
                g_ptr_array_add(paths, g_strdup(image->path));
                int32_t label = (int32_t)k;
                g_array_append_val(labels, label);
            }
        free(image);
    }
    free(ids);
}

/* Run run_id's VL backbone file (a new string), NULL when it has none. */
static char *run_vl_backbone(LptStore *store, int64_t run_id)
{
    LptStoreRun *run = NULL;
    LptStoreBackbone *b = NULL;
    lpt_store_run_get(store, run_id, &run, NULL);
    if (run != NULL && run->backbone_id[LPT_STORE_EXPERT_VL] > 0)
        lpt_store_backbone_get(store, run->backbone_id[LPT_STORE_EXPERT_VL], &b, NULL);
    char *path = b != NULL ? g_strdup(b->path) : NULL;
    free(run);
    free(b);
    return path;
}

/* The trained VL recall beside each class: the core's, or none without a VL expert. */
static void check_trained(Scene *scene, LptClassTextsView *view, const LptStoreClass *classes,
                          size_t n)
{
    LptReviewSamples *s = NULL;
    lpt_review_samples_read(scene->store, 1, LPT_STORE_SPLIT_TEST, &s, NULL);
    gboolean same = s != NULL;
    for (size_t c = 0; same && c < n; c++) {
        gint64 support = 0, right = 0;
        for (size_t i = 0; i < s->count; i++)
            if (s->class_ids[s->samples[i].label] == classes[c].id) {
                support++;
                right += s->samples[i].top[LPT_STORE_EXPERT_VL] == s->samples[i].label;
            }
        double shown = lpt_class_texts_view_get_trained(view, classes[c].id);
        same = s->has_source[LPT_STORE_EXPERT_VL] && support > 0
                   ? shown == (double)right / (double)support
                   : isnan(shown);
    }
    check(same, "the trained VL recalls differ from the core's");
    lpt_review_samples_free(s);
}

/* A project with a class but no VL backbone: zero-shot cannot start, and says why. */
static void check_no_backbone(Scene *scene, LptClassTextsView *view)
{
    g_autofree char *path = g_build_filename(g_get_home_dir(), "empty.lptproj", NULL);
    g_autoptr(GFile) file = g_file_new_for_path(path);
    g_autoptr(GError) error = NULL;
    g_autoptr(LptProject) empty = lpt_project_open(file, TRUE, &error);
    int64_t id = 0;
    check(empty != NULL && lpt_store_class_ensure(lpt_project_get_store(empty), "part", &id, NULL,
                                                  NULL) == LPT_OK,
          "making an empty project: %s", error ? error->message : "");
    if (empty == NULL)
        return;
    lpt_class_texts_view_set_project(view, empty);
    app_pump(100);
    gboolean started = lpt_class_texts_view_start_zero_shot(view);
    const char *status = lpt_class_texts_view_get_status(view);
    check(!started && strstr(status, "CLIP") != NULL,
          "zero-shot started without a vision-language backbone: '%s'", status);
    lpt_class_texts_view_set_project(view, scene->project);
}

static void check_class_texts(Scene *scene, LptClassTextsView *view)
{
    show(scene, GTK_WIDGET(view));
    check_no_backbone(scene, view);
    lpt_class_texts_view_set_project(view, scene->project);
    lpt_class_texts_view_set_run(view, 1);
    show(scene, GTK_WIDGET(view));

    LptStoreClass *classes = NULL;
    size_t n = 0;
    lpt_store_class_list(scene->store, &classes, &n, NULL);
    if (n < 2) {
        check(FALSE, "the project has %zu classes", n);
        free(classes);
        return;
    }
    g_autoptr(GError) error = NULL;
    const char *text = "a shoe with a high ankle";
    check(lpt_class_texts_view_apply_text(view, classes[0].id, text, &error), "applying a text: %s",
          error ? error->message : "");
    free(classes);
    lpt_store_class_list(scene->store, &classes, &n, NULL);
    check(g_strcmp0(classes[0].description, text) == 0 &&
              g_strcmp0(lpt_class_texts_view_get_text(view, classes[0].id), text) == 0,
          "class %s's description is '%s'", classes[0].name, classes[0].description);
    check_trained(scene, view, classes, n);

    /* The backbone zero-shot uses: run 1's VL backbone (the demo CLIP, when the demo recipe
     * had it), else the fixture's tiny CLIP added to the project. */
    LptError err = {0};
    g_autofree char *clip = run_vl_backbone(scene->store, 1);
    if (clip == NULL) {
        clip = g_build_filename(scene->opt->fixtures, "clip.safetensors", NULL);
        check(lpt_backbone_add(scene->store, LPT_STORE_EXPERT_VL, clip, "tiny CLIP", NULL, &err) ==
                  LPT_OK,
              "adding the CLIP fixture: %s", err.message);
        lpt_project_notify_changed(scene->project);
        app_pump(100);
    }
    check(lpt_class_texts_view_start_zero_shot(view), "zero-shot did not start: %s",
          lpt_class_texts_view_get_status(view));
    check(app_wait_for(zero_shot_done, view), "zero-shot never ended");
    printf("zero-shot: %s\n", lpt_class_texts_view_get_status(view));

    /* The reference: lpt_zero_shot_run on the same images, classes and texts. */
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) labels = g_array_new(FALSE, FALSE, sizeof(int32_t));
    test_images(scene->store, classes, n, paths, labels);
    const char **names = g_new0(const char *, n + 1), **texts = g_new0(const char *, n + 1);
    for (size_t k = 0; k < n; k++) {
        names[k] = classes[k].name;
        texts[k] = classes[k].description;
    }
    LptZeroShotOptions o;
    lpt_zero_shot_options_init(&o);
    o.backbone = clip;
    o.num_classes = (int)n;
    o.class_names = names;
    o.descriptions = texts;
    o.count = paths->len;
    o.paths = (const char *const *)paths->pdata;
    o.labels = (const int32_t *)(void *)labels->data;
    LptZeroShotResult *r = NULL;
    check(lpt_zero_shot_run(&o, &r, &err) == LPT_OK, "reference zero-shot: %s", err.message);
    gboolean same = r != NULL && r->images == 400;
    for (size_t k = 0; same && k < n; k++) {
        double shown = lpt_class_texts_view_get_zero_shot(view, classes[k].id);
        same = (isnan(shown) && isnan(r->recall[k])) || shown == r->recall[k];
    }
    check(same, "the zero-shot recalls differ from lpt_zero_shot_run's");
    lpt_zero_shot_result_free(r);
    g_free(names);
    g_free(texts);
    free(classes);
    app_pump(300);
    app_save_screenshot(scene->window, scene->content, scene->app->screenshots,
                        "review-class-texts", scene->app->suffix);
}

/* ---- The whole test ---- */

static void run(const AppOptions *app_opt, const char *home, gpointer data)
{
    const Options *opt = data;
    g_autofree char *project_path = g_build_filename(home, "review.lptproj", NULL);
    const char *argv[] = {"sh", opt->script, project_path, opt->lpt, NULL};
    g_autoptr(GError) error = NULL;
    int status = 0;
    g_autoptr(GFile) copy_from = opt->project ? g_file_new_for_path(opt->project) : NULL;
    g_autoptr(GFile) copy_to = opt->project ? g_file_new_for_path(project_path) : NULL;
    gboolean made =
        opt->project != NULL
            ? g_file_copy(copy_from, copy_to, G_FILE_COPY_NONE, NULL, NULL, NULL, &error)
            : g_spawn_sync(NULL, (char **)argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                           &status, &error);
    if (made && g_spawn_check_wait_status(status, NULL) == FALSE && WIFEXITED(status) &&
        WEXITSTATUS(status) == APP_SKIPPED) {
        app_skip("Debian's Fashion-MNIST is not installed");
        return;
    }
    check(made && g_spawn_check_wait_status(status, &error), "making the project: %s",
          error ? error->message : "failed");
    if (error != NULL)
        return;
    cJSON *eval = NULL;

    g_autoptr(GFile) file = g_file_new_for_path(project_path);
    Scene scene = {.app = app_opt, .opt = opt};
    scene.project = lpt_project_open(file, FALSE, &error);
    check(scene.project != NULL, "opening the project: %s", error ? error->message : "");
    if (scene.project == NULL)
        return;
    scene.store = lpt_project_open_thread_store(scene.project, &error);
    /* the lpt eval run (a process of its own) needs the project unlocked: run it first */
    g_clear_object(&scene.project);
    lpt_store_close(scene.store);
    eval = run_eval(&scene, project_path);
    scene.project = lpt_project_open(file, FALSE, &error);
    scene.store = scene.project ? lpt_project_open_thread_store(scene.project, &error) : NULL;
    check(scene.store != NULL, "opening the project again: %s", error ? error->message : "");
    if (scene.store == NULL)
        return;

    /* The application registered (its startup loads the styles), the window ours. */
    g_autoptr(LptApplication) app = app_new_application();
    scene.window = gtk_window_new();
    gtk_window_set_application(GTK_WINDOW(scene.window), GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(scene.window), 1200, 760);
    gtk_window_set_title(GTK_WINDOW(scene.window), "Review");
    scene.stack = GTK_STACK(gtk_stack_new());
    scene.content = adw_toast_overlay_new();
    adw_toast_overlay_set_child(ADW_TOAST_OVERLAY(scene.content), GTK_WIDGET(scene.stack));
    gtk_window_set_child(GTK_WINDOW(scene.window), scene.content);
    GtkWidget *queues = lpt_review_queues_new(), *calibration = lpt_calibration_view_new();
    GtkWidget *compare = lpt_run_compare_view_new(), *texts = lpt_class_texts_view_new();
    GtkWidget *pages[4] = {queues, calibration, compare, texts};
    for (int i = 0; i < 4; i++) {
        gtk_widget_set_margin_start(pages[i], 18);
        gtk_widget_set_margin_end(pages[i], 18);
        gtk_widget_set_margin_top(pages[i], 18);
        gtk_widget_set_margin_bottom(pages[i], 18);
        gtk_stack_add_child(scene.stack, pages[i]);
    }
    gtk_window_present(GTK_WINDOW(scene.window));
    check(app_wait_for(app_widget_is_mapped, scene.window), "the window never mapped");
    app_pump(300);

    check_queues(&scene, LPT_REVIEW_QUEUES(queues));
    check_calibration(&scene, LPT_CALIBRATION_VIEW(calibration), eval);
    check_compare(&scene, LPT_RUN_COMPARE_VIEW(compare));
    check_class_texts(&scene, LPT_CLASS_TEXTS_VIEW(texts));
    check_relabel(&scene, LPT_REVIEW_QUEUES(queues));

    cJSON_Delete(eval);
    gtk_window_destroy(GTK_WINDOW(scene.window));
    app_pump(100);
    lpt_store_close(scene.store);
    g_clear_object(&scene.project);
}

int main(int argc, char **argv)
{
    Options opt;
    const AppExtraOption extra[] = {
        {.name = "--lpt", .value_name = "LPT", .value = &opt.lpt, .required = TRUE},
        {.name = "--make-project", .value_name = "SCRIPT", .value = &opt.script, .required = TRUE},
        {.name = "--fixtures", .value_name = "DIR", .value = &opt.fixtures, .required = TRUE},
        {.name = "--project", .value_name = "P", .value = &opt.project},
    };
    const AppTest test = {"review_queues", extra, G_N_ELEMENTS(extra), run, &opt};
    return app_run_test(&test, argc, argv);
}

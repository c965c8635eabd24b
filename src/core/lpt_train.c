/* lpt_train.c: a project's training and evaluation sessions: the run, its images, its
 * backbones and its trainer, from the store. See lpt_train.h. */
#include "lpt_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_backbone.h"
#include "lpt_run_config.h"
#include "lpt_vl_head.h"
#include "lpt_weights.h"

/* An image list with its own storage. */
typedef struct OwnedList {
    int64_t count;
    char **paths;
    int32_t *labels;
    int64_t *ids;
} OwnedList;

typedef struct Session {
    LptStore *store;
    LptBackend *be;
    LptStoreRun *run;
    LptRunConfig cfg;
    int32_t K;
    int64_t *class_ids; /* [K] in output order */
    char **class_names; /* [K] */
    char **class_texts; /* [K] the classes' descriptions ("" when none) */
    int64_t *train_counts;
    OwnedList train, val, eval;
    LptWeights *weights[LPT_TRAIN_EXPERTS];
    LptVit *vit[LPT_TRAIN_EXPERTS];
    LptStoreBackbone *backbone[LPT_TRAIN_EXPERTS];
    float *head_init[LPT_TRAIN_EXPERTS]; /* [K, C'] or NULL (lpt_vl_head.h) */
    char dir[4096];
    size_t checkpoint_inline_max; /* LptTrainOptions' */
    LptTrainer *trainer;
} Session;

void lpt_train_options_init(LptTrainOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->expert = -1;
    lpt_backend_options_init(&opt->backend);
}

void lpt_eval_options_init(LptEvalOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->split = LPT_STORE_SPLIT_TEST;
    opt->record = true;
    lpt_backend_options_init(&opt->backend);
}

static void list_free(OwnedList *l)
{
    for (int64_t i = 0; l->paths && i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    free(l->labels);
    free(l->ids);
    memset(l, 0, sizeof *l);
}

static LptImageList list_view(const OwnedList *l)
{
    return (LptImageList){l->count, (const char *const *)l->paths, l->labels, l->ids};
}

static void session_close(Session *s)
{
    lpt_trainer_free(s->trainer);
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        lpt_vit_free(s->vit[e]);
        lpt_weights_close(s->weights[e]);
        free(s->backbone[e]);
        free(s->head_init[e]);
    }
    list_free(&s->train);
    list_free(&s->val);
    list_free(&s->eval);
    for (int32_t k = 0; s->class_names && k < s->K; k++)
        free(s->class_names[k]);
    for (int32_t k = 0; s->class_texts && k < s->K; k++)
        free(s->class_texts[k]);
    free(s->class_names);
    free(s->class_texts);
    free(s->class_ids);
    free(s->train_counts);
    free(s->run);
    lpt_backend_free(s->be);
    lpt_store_close(s->store);
    memset(s, 0, sizeof *s);
}

/* The run's class index of a class id, or -1. */
static int class_index(const Session *s, int64_t class_id)
{
    for (int32_t k = 0; k < s->K; k++)
        if (s->class_ids[k] == class_id)
            return k;
    return -1;
}

/* The images of a split whose class is one of the run's, with their labels. */
static LptStatus load_split(Session *s, LptStoreSplit split, OwnedList *out, LptError *err)
{
    int64_t *ids = NULL;
    size_t n = 0;
    LPT_TRY(lpt_store_image_list(s->store, 0, split, 0, &ids, &n, err));
    out->paths = calloc(n + 1, sizeof *out->paths);
    out->labels = malloc((n + 1) * sizeof *out->labels);
    out->ids = malloc((n + 1) * sizeof *out->ids);
    LptStatus st = out->paths && out->labels && out->ids
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "project: out of memory");
    for (size_t i = 0; st == LPT_OK && i < n; i++) {
        LptStoreImage *img = NULL;
        st = lpt_store_image_get(s->store, ids[i], &img, err);
        int k = img ? class_index(s, img->class_id) : -1;
        if (st == LPT_OK && k >= 0) { /* a class added after the run was made is not its own */
            out->paths[out->count] = strdup(img->path);
            out->labels[out->count] = k;
            out->ids[out->count] = ids[i];
            if (!out->paths[out->count])
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "project: out of memory");
            out->count++;
        }
        free(img);
    }
    free(ids);
    return st;
}

/* The latest backbone of each role (ids are never reused: the store has no deletion, so
 * they run 1..n; the highest id of a role is the latest). */
static LptStatus latest_backbones(LptStore *store, int64_t ids[LPT_TRAIN_EXPERTS], LptError *err)
{
    ids[0] = ids[1] = 0;
    for (int64_t id = 1;; id++) {
        LptStoreBackbone *b = NULL;
        LPT_TRY(lpt_store_backbone_get(store, id, &b, err));
        if (!b)
            return LPT_OK;
        if (b->role == LPT_STORE_EXPERT_VISION || b->role == LPT_STORE_EXPERT_VL)
            ids[b->role] = id;
        free(b);
    }
}

/* The VL expert's head init from the class texts (lpt_vl_head.h) into s->head_init[e]. */
static LptStatus vl_head_init(Session *s, LptStoreExpert e, LptError *err)
{
    char **templates = NULL;
    int n_templates = 0;
    LPT_TRY(lpt_vl_head_templates(s->store, &templates, &n_templates, err));
    int Cf = lpt_vit_feature_width(s->vit[e]);
    s->head_init[e] = malloc((size_t)s->K * Cf * sizeof *s->head_init[e]);
    LptStatus st = s->head_init[e] ? LPT_OK
                                   : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                                   "VL head init: out of memory");
    if (st == LPT_OK)
        st = lpt_vl_head_init(s->be, s->weights[e], s->backbone[e]->path,
                              (const char *const *)s->class_names,
                              (const char *const *)s->class_texts,
                              (const char *const *)templates, n_templates, s->K, Cf,
                              s->head_init[e], err);
    lpt_vl_head_templates_free(templates, n_templates);
    return st;
}

/* Opens the expert's backbone file and makes its model with the run's adaptation; for
 * training, the VL expert's head init from the class texts (model.vl_head_init "text"). */
static LptStatus load_expert(Session *s, LptStoreExpert e, bool training, LptExpertModel *em,
                             LptError *err)
{
    int64_t id = s->run->backbone_id[e];
    if (id == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "run %lld trains the %s expert but the project had no %s backbone "
                             "when it was made: add one and start a new run",
                             (long long)s->run->id, lpt_store_expert_name(e),
                             lpt_store_expert_name(e));
    LptStoreBackbone *b = NULL;
    LPT_TRY(lpt_store_backbone_get(s->store, id, &b, err));
    if (!b)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "project: backbone %lld is missing",
                             (long long)id);
    s->backbone[e] = b;
    /* the weights the run was made with: a file replaced in place would silently pair this
     * run's prompts, adapters and heads with another backbone */
    char now[LPT_STORE_HASH_LEN + 1];
    LPT_TRY(lpt_backbone_sha256(b->path, now, err));
    if (strcmp(now, b->sha256) != 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "the %s backbone '%s' has changed since it was added to the project "
                             "(SHA-256 %.12s..., recorded %.12s...), so run %lld does not fit it: "
                             "put the original file back, or add the new one (lpt backbone add) "
                             "and train a new run",
                             lpt_store_expert_name(e), b->path, now, b->sha256,
                             (long long)s->run->id);
    s->weights[e] = lpt_weights_open(b->path, NULL, err);
    if (!s->weights[e])
        return err ? err->code : LPT_ERR_IO;
    const LptWeightsInfo *info = lpt_weights_info(s->weights[e]);
    LptVitConfig vc = info->vit;
    bool probe = s->cfg.method == LPT_METHOD_LINEAR_PROBE ||
                 s->cfg.method == LPT_METHOD_FULL_FINETUNE; /* no prompts, adapters, pool */
    vc.prompts = probe ? 0 : s->cfg.prompts;
    vc.adapter_rank = probe ? 0 : lpt_run_config_adapter_rank(&s->cfg, s->K);
    vc.adapter_scale = s->cfg.adapter_scale;
    vc.pool_size = probe || s->cfg.phase2_epochs == 0 ? 0 : s->cfg.pool_size;
    vc.pool_top_k = s->cfg.pool_top_k;
    vc.classes = s->K;
    vc.train_backbone = s->cfg.method == LPT_METHOD_FULL_FINETUNE;
    s->vit[e] = lpt_vit_new(s->be, &vc, err);
    if (!s->vit[e])
        return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    LPT_TRY(lpt_weights_load_vit(s->weights[e], s->vit[e], err));
    if (training && e == LPT_STORE_EXPERT_VL && s->cfg.vl_head_init == LPT_HEAD_INIT_TEXT)
        LPT_TRY(vl_head_init(s, e, err));
    em->vit = s->vit[e];
    em->head_init = s->head_init[e];
    memcpy(em->mean, info->mean, sizeof em->mean);
    memcpy(em->std, info->std, sizeof em->std);
    return LPT_OK;
}

/* Loads the run's config, classes, images, backbones and makes the trainer (`training`:
 * for lpt_train_run, which also needs the VL head's init). */
static LptStatus session_load(Session *s, bool training, const LptBackendOptions *backend,
                              LptTrainProgressFn progress, void *user, atomic_bool *cancel,
                              LptError *err)
{
    lpt_run_config_init(&s->cfg, LPT_METHOD_LPTPP);
    char source[64];
    snprintf(source, sizeof source, "config of run %lld", (long long)s->run->id);
    LPT_TRY(lpt_run_config_parse(&s->cfg, s->run->config_json, source, err));
    size_t K = 0;
    LPT_TRY(lpt_store_run_classes(s->store, s->run->id, &s->class_ids, &K, err));
    s->K = (int32_t)K;
    LptStoreClass *classes = NULL;
    size_t nc = 0;
    LPT_TRY(lpt_store_class_list(s->store, &classes, &nc, err));
    s->class_names = calloc(K + 1, sizeof *s->class_names);
    s->class_texts = calloc(K + 1, sizeof *s->class_texts);
    s->train_counts = calloc(K + 1, sizeof *s->train_counts);
    LptStatus st = s->class_names && s->class_texts && s->train_counts
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "project: out of memory");
    for (size_t i = 0; st == LPT_OK && i < nc; i++) {
        int k = class_index(s, classes[i].id);
        const char *text = classes[i].description ? classes[i].description : "";
        if (k >= 0 && (!(s->class_names[k] = strdup(classes[i].name)) ||
                       !(s->class_texts[k] = strdup(text))))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "project: out of memory");
    }
    free(classes);
    LPT_TRY(st);
    LPT_TRY(load_split(s, LPT_STORE_SPLIT_TRAIN, &s->train, err));
    LPT_TRY(load_split(s, LPT_STORE_SPLIT_VAL, &s->val, err));
    for (int64_t i = 0; i < s->train.count; i++)
        s->train_counts[s->train.labels[i]]++;
    s->be = lpt_backend_new(backend, err);
    if (!s->be)
        return err ? err->code : LPT_ERR_NO_DEVICE;
    LptTrainerOptions to;
    memset(&to, 0, sizeof to);
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        bool used = e == LPT_STORE_EXPERT_VISION ? s->cfg.use_vision : s->cfg.use_vl;
        if (used)
            LPT_TRY(load_expert(s, (LptStoreExpert)e, training, &to.experts[e], err));
    }
    snprintf(s->dir, sizeof s->dir, "%s.runs/run-%lld", lpt_store_path(s->store),
             (long long)s->run->id);
    to.be = s->be;
    to.store = s->store;
    to.run_id = s->run->id;
    to.checkpoint_dir = s->dir;
    to.checkpoint_inline_max = s->checkpoint_inline_max;
    to.cfg = &s->cfg;
    to.num_classes = s->K;
    to.train_counts = s->train_counts;
    to.train = list_view(&s->train);
    to.val = list_view(&s->val);
    to.progress = progress;
    to.user = user;
    to.cancel = cancel;
    s->trainer = lpt_trainer_new(&to, err);
    return s->trainer ? LPT_OK : (err ? err->code : LPT_ERR_INVALID_ARGUMENT);
}

/* The config asked for: the method's defaults, the project's group thresholds, the JSON. */
static LptStatus requested_config(LptStore *store, const LptTrainOptions *opt, LptRunConfig *cfg,
                                  LptError *err)
{
    LptRunConfig probe; /* the JSON's method, whose defaults the thresholds go onto */
    lpt_run_config_init(&probe, LPT_METHOD_LPTPP);
    if (opt->config_json)
        LPT_TRY(lpt_run_config_parse(&probe, opt->config_json, opt->config_source, err));
    lpt_run_config_init(cfg, probe.method);
    const char *keys[2] = {"groups.many_above", "groups.few_below"};
    int64_t *fields[2] = {&cfg->many_above, &cfg->few_below};
    for (int i = 0; i < 2; i++) {
        char *text = NULL;
        LPT_TRY(lpt_store_setting_get(store, keys[i], &text, err));
        if (text) {
            char *end;
            long long v = strtoll(text, &end, 10);
            if (*end == '\0' && end != text && v >= 0)
                *fields[i] = v;
            free(text);
        }
    }
    if (opt->config_json)
        LPT_TRY(lpt_run_config_parse(cfg, opt->config_json, opt->config_source, err));
    return lpt_run_config_check(cfg, err);
}

/* Whether every phase of the session's run is done. */
static LptStatus run_complete(Session *s, bool *complete, LptError *err)
{
    *complete = true;
    for (int e = 0; e < LPT_TRAIN_EXPERTS && *complete; e++) {
        int last = lpt_trainer_expert_phases(s->trainer, (LptStoreExpert)e);
        for (int p = 1; p <= last && *complete; p++)
            LPT_TRY(lpt_trainer_phase_done(s->trainer, p, (LptStoreExpert)e, complete, err));
    }
    if (*complete && s->cfg.use_vision && s->cfg.use_vl)
        LPT_TRY(lpt_trainer_phase_done(s->trainer, 3, LPT_STORE_EXPERT_FUSED, complete, err));
    return LPT_OK;
}

/* Picks the run to train: the given one, the latest with the same config, or a new one. */
static LptStatus choose_run(Session *s, const LptTrainOptions *opt, LptError *err)
{
    int64_t id = opt->run_id;
    if (id == 0) {
        LptRunConfig want;
        LPT_TRY(requested_config(s->store, opt, &want, err));
        char *want_json = lpt_run_config_to_json(&want);
        if (!want_json)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
        int64_t *ids = NULL, latest[LPT_TRAIN_EXPERTS];
        size_t n = 0;
        LptStatus st = latest_backbones(s->store, latest, err);
        if (st == LPT_OK && !opt->new_run)
            st = lpt_store_run_list(s->store, &ids, &n, err);
        /* resume the latest run of this config made with the project's latest backbones (a
         * backbone added since means a new run) */
        for (size_t i = n; st == LPT_OK && i-- > 0 && id == 0;) {
            LptStoreRun *r = NULL;
            st = lpt_store_run_get(s->store, ids[i], &r, err);
            if (st == LPT_OK && r) {
                LptRunConfig have;
                lpt_run_config_init(&have, LPT_METHOD_LPTPP);
                char *have_json = NULL;
                if (lpt_run_config_parse(&have, r->config_json, NULL, NULL) == LPT_OK)
                    have_json = lpt_run_config_to_json(&have);
                bool same_backbones = (!want.use_vision || r->backbone_id[0] == latest[0]) &&
                                      (!want.use_vl || r->backbone_id[1] == latest[1]);
                if (have_json && strcmp(have_json, want_json) == 0 && same_backbones)
                    id = r->id;
                free(have_json);
            }
            free(r);
        }
        free(ids);
        if (st == LPT_OK && id == 0) { /* a new run */
            LptStoreClass *classes = NULL;
            size_t nc = 0;
            int64_t *class_ids = NULL;
            LptStoreRun run;
            memset(&run, 0, sizeof run);
            LptStoreSplitSettings split;
            st = lpt_store_class_list(s->store, &classes, &nc, err);
            if (st == LPT_OK && nc == 0)
                st =
                    lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                  "project '%s' has no classes: import images first", opt->project);
            if (st == LPT_OK && !(class_ids = malloc(nc * sizeof *class_ids)))
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "out of memory");
            for (size_t i = 0; st == LPT_OK && i < nc; i++)
                class_ids[i] = classes[i].id;
            if (st == LPT_OK)
                st = latest_backbones(s->store, run.backbone_id, err);
            for (int e = 0; st == LPT_OK && e < LPT_TRAIN_EXPERTS; e++) {
                bool used = e == LPT_STORE_EXPERT_VISION ? want.use_vision : want.use_vl;
                if (used && run.backbone_id[e] == 0)
                    st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                       "project '%s' has no %s backbone, which method %s needs: "
                                       "add one first%s",
                                       opt->project, lpt_store_expert_name((LptStoreExpert)e),
                                       lpt_method_name(want.method),
                                       e == LPT_STORE_EXPERT_VL
                                           ? " (or train the vision expert alone: method lpt)"
                                           : "");
            }
            if (st == LPT_OK)
                st = lpt_store_split_latest(s->store, &split, err);
            if (st == LPT_OK) {
                run.config_json = want_json;
                run.split_id = split.id;
                run.class_ids = class_ids;
                run.num_classes = (int32_t)nc;
                if (!want.use_vision)
                    run.backbone_id[LPT_STORE_EXPERT_VISION] = 0;
                if (!want.use_vl)
                    run.backbone_id[LPT_STORE_EXPERT_VL] = 0;
                st = lpt_store_run_create(s->store, &run, &id, err);
            }
            free(classes);
            free(class_ids);
        }
        free(want_json);
        LPT_TRY(st);
    }
    LPT_TRY(lpt_store_run_get(s->store, id, &s->run, err));
    if (!s->run)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "project '%s' has no run %lld",
                             opt->project, (long long)id);
    if (opt->run_id != 0 && opt->config_json)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "run %lld has its own config: give a config for a new run only",
                             (long long)id);
    return LPT_OK;
}

/* The phases the options ask for, in the order of the app's cards. */
static LptStatus train_phases(Session *s, const LptTrainOptions *opt, LptError *err)
{
    for (int phase = 1; phase <= 2; phase++) {
        if (opt->phase != 0 && opt->phase != phase)
            continue;
        for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
            if (opt->expert >= 0 && opt->expert != e)
                continue;
            if (phase > lpt_trainer_expert_phases(s->trainer, (LptStoreExpert)e)) {
                if (opt->phase == phase && opt->expert == e)
                    return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                         "run %lld (method %s) has no phase %d for the %s expert",
                                         (long long)s->run->id, lpt_method_name(s->cfg.method),
                                         phase, lpt_store_expert_name((LptStoreExpert)e));
                continue;
            }
            LPT_TRY(lpt_trainer_run(s->trainer, phase, (LptStoreExpert)e, err));
        }
    }
    if ((opt->phase == 0 || opt->phase == 3) && s->cfg.use_vision && s->cfg.use_vl)
        LPT_TRY(lpt_trainer_run(s->trainer, 3, LPT_STORE_EXPERT_FUSED, err));
    else if (opt->phase == 3)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "run %lld (method %s) has one expert and no phase 3",
                             (long long)s->run->id, lpt_method_name(s->cfg.method));
    return LPT_OK;
}

LptStatus lpt_train_run(const LptTrainOptions *opt, int64_t *run_id, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (run_id)
        *run_id = 0;
    if (!opt || !opt->project)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "train: no project");
    if (opt->phase < 0 || opt->phase > 3 || opt->expert < -1 || opt->expert > LPT_STORE_EXPERT_VL)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "train: phase must be 0-3 and expert vision, vl or all");
    Session s;
    memset(&s, 0, sizeof s);
    s.checkpoint_inline_max = opt->checkpoint_inline_max;
    s.store = opt->shared_with ? lpt_store_open_shared(opt->shared_with, err)
                               : lpt_store_open(opt->project, LPT_STORE_OPEN, err);
    if (!s.store)
        return err->code;
    LptStatus st = choose_run(&s, opt, err);
    if (st == LPT_OK && run_id)
        *run_id = s.run->id;
    if (st == LPT_OK)
        st = lpt_store_run_set_status(s.store, s.run->id, LPT_STORE_RUN_RUNNING, NULL, err);
    bool started = st == LPT_OK;
    if (st == LPT_OK)
        st = session_load(&s, true, &opt->backend, opt->progress, opt->user, opt->cancel, err);
    if (st == LPT_OK)
        st = train_phases(&s, opt, err);
    bool complete = false;
    if (st == LPT_OK)
        st = run_complete(&s, &complete, err);
    if (started) {
        LptStoreRunStatus status =
            st == LPT_OK ? (complete ? LPT_STORE_RUN_FINISHED : LPT_STORE_RUN_INTERRUPTED)
            : st == LPT_ERR_CANCELLED ? LPT_STORE_RUN_CANCELLED
                                      : LPT_STORE_RUN_FAILED;
        const char *note = st != LPT_OK ? err->message
                           : complete   ? NULL
                                        : "stopped after the phases asked for; others remain";
        lpt_store_run_set_status(s.store, s.run->id, status, note, NULL);
    }
    session_close(&s);
    return st;
}

void lpt_eval_report_free(LptEvalReport *r)
{
    if (!r)
        return;
    for (int32_t k = 0; r->class_names && k < r->num_classes; k++)
        free(r->class_names[k]);
    free(r->class_names);
    lpt_train_evaluation_free(r->evaluation);
    free(r);
}

/* Opens the project (for writing when `write`), the run of opt (the latest when 0), its
 * models and trainer, and the images of opt's split. */
static LptStatus eval_session(const LptEvalOptions *opt, bool write, Session *s, LptError *err)
{
    if (opt->split < LPT_STORE_SPLIT_TRAIN || opt->split > LPT_STORE_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "eval: the split must be train, val or test");
    s->store = opt->shared_with ? lpt_store_open_shared(opt->shared_with, err)
                                : lpt_store_open(opt->project,
                                                 write ? LPT_STORE_OPEN : LPT_STORE_READ_ONLY, err);
    if (!s->store)
        return err->code;
    int64_t id = opt->run_id;
    if (id == 0) {
        int64_t *ids = NULL;
        size_t n = 0;
        LptStatus st = lpt_store_run_list(s->store, &ids, &n, err);
        if (st == LPT_OK && n == 0)
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "project '%s' has no run: train one first", opt->project);
        if (st == LPT_OK)
            id = ids[n - 1];
        free(ids);
        LPT_TRY(st);
    }
    LPT_TRY(lpt_store_run_get(s->store, id, &s->run, err));
    if (!s->run)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "project '%s' has no run %lld",
                             opt->project, (long long)id);
    LPT_TRY(session_load(s, false, &opt->backend, opt->progress, opt->user, opt->cancel, err));
    LPT_TRY(load_split(s, opt->split, &s->eval, err));
    if (s->eval.count == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "project '%s' has no %s images of run %lld's classes", opt->project,
                             lpt_store_split_name(opt->split), (long long)id);
    return LPT_OK;
}

LptStatus lpt_train_evaluate(const LptEvalOptions *opt, LptEvalReport **out, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (!out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "eval: NULL output");
    *out = NULL;
    if (!opt || !opt->project)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "eval: no project");
    Session s;
    memset(&s, 0, sizeof s);
    LptStatus st = eval_session(opt, opt->record, &s, err);
    LptEvalReport *r = NULL;
    if (st == LPT_OK && !(r = calloc(1, sizeof *r)))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "eval: out of memory");
    if (st == LPT_OK) {
        LptImageList list = list_view(&s.eval);
        st = lpt_trainer_evaluate(s.trainer, &list, opt->record, &r->evaluation, err);
    }
    if (st == LPT_OK) {
        r->run_id = s.run->id;
        r->method = s.cfg.method;
        r->images = s.eval.count;
        r->num_classes = s.K;
        r->class_names = s.class_names; /* handed over */
        s.class_names = NULL;
        *out = r;
        r = NULL;
    }
    lpt_eval_report_free(r);
    session_close(&s);
    return st;
}

void lpt_trained_run_free(LptTrainedRun *r)
{
    if (!r)
        return;
    lpt_scorer_free(r->scorer);
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        lpt_vit_free(r->experts[e].vit);
        lpt_weights_close(r->experts[e].weights);
        free(r->experts[e].backbone);
    }
    lpt_backend_free(r->be);
    for (int32_t k = 0; r->class_names && k < r->num_classes; k++)
        free(r->class_names[k]);
    free(r->class_names);
    free(r->train_counts);
    free(r->config_json);
    for (int64_t i = 0; r->image_paths && i < r->image_count; i++)
        free(r->image_paths[i]);
    free(r->image_paths);
    free(r->image_labels);
    free(r->image_ids);
    free(r);
}

LptStatus lpt_train_load_run(const LptEvalOptions *opt, LptTrainedRun **out, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (!out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "load run: NULL output");
    *out = NULL;
    if (!opt || !opt->project)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "load run: no project");
    Session s;
    memset(&s, 0, sizeof s);
    LptTrainerInference inf;
    memset(&inf, 0, sizeof inf);
    LptStatus st = eval_session(opt, false, &s, err);
    if (st == LPT_OK)
        st = lpt_trainer_load_inference(s.trainer, &inf, err);
    LptTrainedRun *r = NULL;
    if (st == LPT_OK &&
        (!(r = calloc(1, sizeof *r)) || !(r->config_json = strdup(s.run->config_json))))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "load run: out of memory");
    if (st != LPT_OK) {
        lpt_scorer_free(inf.scorer);
        lpt_trained_run_free(r);
        session_close(&s);
        return st;
    }
    /* everything moves from the session to r (the trainer, freed with the session, only
     * borrowed it) */
    r->run_id = s.run->id;
    r->cfg = s.cfg;
    r->num_classes = s.K;
    r->class_names = s.class_names;
    r->train_counts = s.train_counts;
    s.class_names = NULL;
    s.train_counts = NULL;
    for (int e = 0; e < LPT_TRAIN_EXPERTS; e++) {
        LptTrainedExpert *x = &r->experts[e];
        if (!s.vit[e])
            continue;
        x->vit = s.vit[e];
        x->weights = s.weights[e];
        x->backbone = s.backbone[e];
        s.vit[e] = NULL;
        s.weights[e] = NULL;
        s.backbone[e] = NULL;
        x->mode = inf.mode[e];
        x->best_epoch = inf.epoch[e];
        x->eval_batch = inf.eval_batch[e];
        const LptWeightsInfo *info = lpt_weights_info(x->weights);
        memcpy(x->mean, info->mean, sizeof x->mean);
        memcpy(x->std, info->std, sizeof x->std);
    }
    r->scorer = inf.scorer;
    r->scorer_epoch = inf.epoch[LPT_TRAIN_EXPERTS];
    r->image_count = s.eval.count;
    r->image_paths = s.eval.paths;
    r->image_labels = s.eval.labels;
    r->image_ids = s.eval.ids;
    memset(&s.eval, 0, sizeof s.eval);
    lpt_trainer_free(s.trainer); /* before its backend changes hands */
    s.trainer = NULL;
    r->be = s.be;
    s.be = NULL;
    session_close(&s);
    *out = r;
    return LPT_OK;
}

/* lpt_pretrain.c: `lpt pretrain`: a small ViT trained from scratch (see lpt_pretrain.h): the
 * training loop over lpt_vit's LPT_VIT_FULL mode, the evaluation, and the timm-named writer
 * (the dataset lists are lpt_pretrain_common.c's).
 *
 * Device memory: the model's arenas, one arena here for the optimiser state (AdamW's m and v
 * for the backbone span and the head span) and one for the loss (per-sample loss, dlogits,
 * zero margins). Host: the lists and the loaders' caches.
 */
#include "lpt_pretrain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_loader.h"
#include "lpt_ops.h"
#include "lpt_pretrain_common.h"
#include "lpt_safetensors.h"

/* ---- options ---------------------------------------------------------------------------- */

const char *lpt_pretrain_preset_name(LptPretrainPreset preset)
{
    switch (preset) {
    case LPT_PRETRAIN_SMALL:
        return "small";
    case LPT_PRETRAIN_TINY:
        return "tiny";
    }
    return "?";
}

bool lpt_pretrain_preset_parse(const char *name, LptPretrainPreset *preset)
{
    for (int p = LPT_PRETRAIN_SMALL; p <= LPT_PRETRAIN_TINY; p++)
        if (name && strcmp(name, lpt_pretrain_preset_name((LptPretrainPreset)p)) == 0) {
            *preset = (LptPretrainPreset)p;
            return true;
        }
    return false;
}

void lpt_pretrain_options_init(LptPretrainOptions *opt, LptPretrainPreset preset)
{
    memset(opt, 0, sizeof *opt);
    LptVitConfig *v = &opt->vit;
    lpt_vit_config_init(v);
    v->prompts = v->adapter_rank = v->pool_size = 0;
    v->image = 28;
    v->patch = 7;
    v->eps = 1e-6f;
    v->act = LPT_VIT_ACT_GELU;
    bool tiny = preset == LPT_PRETRAIN_TINY;
    v->depth = tiny ? 2 : 6;
    v->width = tiny ? 64 : 128;
    v->heads = tiny ? 1 : 2;
    v->mlp = tiny ? 128 : 256;
    opt->epochs = tiny ? 2 : 8;
    opt->batch = 128;
    opt->lr = 2e-3;
    opt->min_lr = 1e-5;
    opt->warmup_epochs = 1.0;
    opt->weight_decay = 0.05;
    opt->beta1 = 0.9f;
    opt->beta2 = 0.999f;
    opt->adam_eps = 1e-8f;
    opt->logit_scale = 16.0f;
    opt->label_smoothing = 0.0f;
    lpt_augment_params_init(&opt->augment);
    opt->augment.scale_min = 0.6;
    opt->augment.flip_p = 0.0;
    for (int c = 0; c < 3; c++)
        opt->mean[c] = opt->std[c] = 0.5f;
}

/* ---- training --------------------------------------------------------------------------- */

static LptStatus check_options(const LptPretrainOptions *o, LptError *err)
{
    const char *bad = NULL;
    if (!o->data)
        bad = "no dataset directory";
    else if (o->vit.prompts || o->vit.adapter_rank || o->vit.pool_size)
        bad = "the backbone must have no prompts, adapters or pool";
    else if (o->batch < 1 || o->batch > 65536)
        bad = "batch must be in [1, 65536]";
    else if (!(o->logit_scale > 0.0f) || !(o->label_smoothing >= 0.0f) ||
             !(o->label_smoothing < 1.0f))
        bad = "logit_scale must be > 0 and label_smoothing in [0, 1)";
    else
        bad = lpt_pretrain_schedule_problem(o->epochs, o->lr, o->min_lr, o->warmup_epochs,
                                            o->weight_decay);
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "pretrain: %s", bad);
    return lpt_augment_params_check(&o->augment, err);
}

/* Everything a run holds; freed by run_free. */
typedef struct Run {
    const LptPretrainOptions *o;
    LptBackend *be;
    LptPretrainData data;
    int K;
    LptVit *vit;
    LptLoader *train_loader, *test_loader;
    LptArena *opt_arena, *loss_arena;
    LptPretrainSpan spans[2]; /* the backbone's, the head's */
    LptTensor loss, dlogits, margins;
    float *host_loss, *host_logits;
} Run;

static void run_free(Run *r)
{
    lpt_loader_free(r->train_loader);
    lpt_loader_free(r->test_loader);
    lpt_arena_free(r->opt_arena);
    lpt_arena_free(r->loss_arena);
    free(r->host_loss);
    free(r->host_logits);
    lpt_pretrain_data_free(&r->data);
}

/* Reads the lists, makes the model, its optimiser state and the loaders. err is not NULL. */
static LptStatus run_setup(Run *r, LptError *err)
{
    const LptPretrainOptions *o = r->o;
    LptStatus st =
        lpt_pretrain_data_read(o->data, o->max_train, o->max_test, "pretrain", &r->data, err);
    if (st != LPT_OK)
        return st;
    r->K = r->data.K;

    LptVitConfig vc = o->vit;
    vc.classes = r->K;
    vc.train_backbone = true;
    r->vit = lpt_vit_new(r->be, &vc, err);
    if (!r->vit)
        return err->code;
    st = lpt_vit_init_backbone(r->vit, o->seed, err);
    if (st == LPT_OK)
        st = lpt_vit_init_trainable(r->vit, o->seed, err);
    if (st == LPT_OK)
        st = lpt_vit_backbone_span(r->vit, &r->spans[0].p, &r->spans[0].g, err);
    if (st == LPT_OK)
        st = lpt_vit_trainable_span(r->vit, LPT_VIT_FULL, &r->spans[1].p, &r->spans[1].g, err);
    if (st != LPT_OK)
        return st;
    r->opt_arena = lpt_pretrain_moments(r->be, "pretrain optimiser", r->spans, 2, err);
    LptTensor *loss_t[3] = {&r->loss, &r->dlogits, &r->margins};
    size_t loss_n[3] = {(size_t)o->batch, (size_t)o->batch * r->K, (size_t)r->K};
    r->loss_arena = r->opt_arena
                        ? lpt_pretrain_zero_arena(r->be, "pretrain loss", loss_t, loss_n, 3, err)
                        : NULL;
    r->host_loss = malloc((size_t)o->batch * sizeof *r->host_loss);
    r->host_logits = malloc((size_t)o->batch * r->K * sizeof *r->host_logits);
    if (!r->loss_arena)
        return err->code;
    if (!r->host_loss || !r->host_logits)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain: out of memory");

    LptPretrainFeed feed = {o->batch, vc.image, o->workers, o->seed, o->mean, o->std, &o->augment};
    r->train_loader = lpt_pretrain_loader_new(r->be, &r->data.train, r->K, true, &feed, err);
    if (!r->train_loader)
        return lpt_error_prefix(err, "pretrain: training images");
    r->test_loader = lpt_pretrain_loader_new(r->be, &r->data.test, r->K, false, &feed, err);
    if (!r->test_loader)
        return lpt_error_prefix(err, "pretrain: test images");
    return LPT_OK;
}

/* One training step on a batch part: forward, loss, backward, AdamW on both spans. Adds the
 * batch's summed loss to *loss_sum. (LptPretrainLoop.step) */
static LptStatus train_step(void *run, const LptLoaderPart *part, double lr, int64_t global,
                            double *loss_sum, LptError *err)
{
    Run *r = run;
    const LptPretrainOptions *o = r->o;
    LptBackend *be = r->be;
    int n = part->count, step = (int)(global + 1);
    LptAgclParams ap;
    lpt_agcl_params_init(&ap, n, r->K, 0.0f, 0.0f);
    ap.scale = o->logit_scale;
    ap.margin = 0.0f;
    ap.noise = 0.0f;
    ap.smoothing = o->label_smoothing;
    ap.seed = o->seed;
    ap.step = (uint32_t)step;
    const LptTensor *logits;
    LptStatus st = lpt_vit_forward(r->vit, &part->images, n, LPT_VIT_FULL, true, err);
    if (st == LPT_OK) {
        logits = lpt_vit_logits(r->vit);
        st = lpt_op_agcl_forward(be, &r->loss, logits, &part->labels, &r->margins, &ap, err);
    }
    if (st == LPT_OK)
        st = lpt_op_agcl_backward(be, &r->dlogits, logits, &part->labels, &r->margins, &ap,
                                  1.0f / (float)n, err);
    if (st == LPT_OK)
        st = lpt_vit_zero_grads(r->vit, err);
    if (st == LPT_OK)
        st = lpt_vit_backward(r->vit, &r->dlogits, 0.0f, err);
    if (st == LPT_OK)
        st = lpt_pretrain_adamw(be, r->spans, 2, (float)lr, o->beta1, o->beta2, o->adam_eps,
                                (float)o->weight_decay, step, err);
    if (st == LPT_OK) {
        LptTensor l = lpt_tensor_view(&r->loss, 0, (size_t)n);
        st = lpt_tensor_download(&l, r->host_loss, err);
    }
    if (st != LPT_OK)
        return st;
    double sum = 0.0;
    for (int b = 0; b < n; b++)
        sum += r->host_loss[b];
    if (!isfinite(sum))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "pretrain: the loss is not finite at step %d (try a lower lr)", step);
    *loss_sum += sum;
    return LPT_OK;
}

/* Top-1 accuracy on the whole test list. (LptPretrainLoop.evaluate) */
static LptStatus evaluate(void *run, double *accuracy, LptError *err)
{
    Run *r = run;
    int64_t right = 0, seen = 0;
    for (;;) {
        LptLoaderBatch batch;
        LptStatus st = lpt_loader_next(r->test_loader, &batch, err);
        if (st != LPT_OK)
            return st;
        if (batch.end)
            break;
        const LptLoaderPart *part = &batch.part[0];
        int n = part->count;
        st = lpt_vit_forward(r->vit, &part->images, n, LPT_VIT_PLAIN, false, err);
        if (st == LPT_OK) {
            LptTensor l = lpt_tensor_view(lpt_vit_logits(r->vit), 0, (size_t)n * r->K);
            st = lpt_tensor_download(&l, r->host_logits, err);
        }
        if (st != LPT_OK)
            return st;
        right += lpt_pretrain_top1_hits(r->host_logits, n, r->K, part->host_labels);
        seen += n;
    }
    *accuracy = seen ? (double)right / (double)seen : 0.0;
    return LPT_OK;
}

/* Passes a tick on to the progress callback. (LptPretrainLoop.report) */
static bool report(void *run, const LptPretrainTick *t)
{
    const Run *r = run;
    LptPretrainProgress p = {
        t->epoch,   t->epochs,     t->step,    t->steps, t->loss, t->lr, t->images_per_second,
        t->elapsed, t->epoch_done, t->accuracy};
    return !r->o->progress || r->o->progress(&p, r->o->progress_user);
}

/* The epochs: train, evaluate, report. */
static LptStatus run_epochs(Run *r, double t0, LptPretrainResult *res, LptError *err)
{
    const LptPretrainOptions *o = r->o;
    LptPretrainLoop loop = {.what = "pretrain",
                            .train = r->train_loader,
                            .epochs = o->epochs,
                            .lr = o->lr,
                            .min_lr = o->min_lr,
                            .warmup_epochs = o->warmup_epochs,
                            .min_images = 1,
                            .t0 = t0,
                            .run = r,
                            .step = train_step,
                            .evaluate = evaluate,
                            .report = report};
    LptPretrainEpochs done = {0};
    LptStatus st = lpt_pretrain_epochs(&loop, &done, err);
    res->epochs = done.epochs;
    res->first_epoch_loss = done.first_epoch_loss;
    res->last_epoch_loss = done.last_epoch_loss;
    res->test_accuracy = done.accuracy;
    return st;
}

LptVit *lpt_pretrain_run(LptBackend *be, const LptPretrainOptions *opt, LptPretrainResult *result,
                         LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (!be || !opt) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "pretrain: NULL argument");
        return NULL;
    }
    if (check_options(opt, err) != LPT_OK)
        return NULL;
    double t0 = lpt_pretrain_now();
    Run r = {0};
    r.o = opt;
    r.be = be;
    LptPretrainResult res = {0};
    LptStatus st = run_setup(&r, err);
    if (st == LPT_OK) {
        res.classes = r.K;
        res.train_images = r.data.train.count;
        res.test_images = r.data.test.count;
        for (int i = 0; lpt_vit_tensor_name(r.vit, i); i++)
            *(lpt_vit_tensor_trainable(r.vit, i) ? &res.head_params : &res.backbone_params) +=
                lpt_vit_tensor(r.vit, lpt_vit_tensor_name(r.vit, i))->count;
        st = run_epochs(&r, t0, &res, err);
    }
    res.seconds = lpt_pretrain_now() - t0;
    LptVit *vit = r.vit;
    r.vit = NULL;
    run_free(&r);
    if (st != LPT_OK) {
        lpt_vit_free(vit);
        return NULL;
    }
    if (result)
        *result = res;
    return vit;
}

/* ---- writing ---------------------------------------------------------------------------- */

LptStatus lpt_pretrain_write(LptVit *vit, const char *path, const char *const *meta, LptError *err)
{
    if (!vit || !path)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "pretrain write: NULL argument");
    const LptVitConfig *c = lpt_vit_config(vit);
    if (c->clip_style)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "pretrain write: '%s': a CLIP-style tower has no timm naming", path);
    const LptWeightsNamingDef *def = lpt_weights_naming_def(LPT_WEIGHTS_TIMM);
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    if (!w)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain write: out of memory");
    LptStatus st = LPT_OK;
    float *buf = NULL;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        if (lpt_vit_tensor_trainable(vit, i))
            continue;
        const char *canon = lpt_vit_tensor_name(vit, i);
        int block = -1;
        const LptWeightsRow *row = lpt_weights_row(def, canon, &block);
        size_t dims[4], T = (size_t)(c->image / c->patch) * (size_t)(c->image / c->patch) + 1;
        int nd = row ? lpt_pretrain_row_dims(row->shape, (size_t)c->width, (size_t)c->mlp, T,
                                             (size_t)c->patch, (size_t)c->width, dims)
                     : 0;
        if (nd == 0) {
            st = lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                               "pretrain write: '%s': tensor '%s' has no place in timm's naming",
                               path, canon);
            break;
        }
        char name[128];
        lpt_pretrain_row_name("", row, block, name, sizeof name);
        size_t count = lpt_vit_tensor(vit, canon)->count;
        float *b = realloc(buf, count * sizeof *b);
        if (!b) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain write: out of memory");
            break;
        }
        buf = b;
        st = lpt_vit_get(vit, canon, buf, count, err);
        if (st == LPT_OK)
            st = lpt_safetensors_writer_add_f32(w, name, nd, dims, buf, err);
    }
    char text[7][32];
    snprintf(text[0], sizeof text[0], "%d", c->depth);
    snprintf(text[1], sizeof text[1], "%d", c->width);
    snprintf(text[2], sizeof text[2], "%d", c->heads);
    snprintf(text[3], sizeof text[3], "%d", c->mlp);
    snprintf(text[4], sizeof text[4], "%d", c->patch);
    snprintf(text[5], sizeof text[5], "%d", c->image);
    snprintf(text[6], sizeof text[6], "%g", (double)c->eps);
    const char *fixed[] = {
        "format", "lpt-pretrain", "depth",
        text[0],  "width",        text[1],
        "heads",  text[2],        "mlp",
        text[3],  "patch",        text[4],
        "image",  text[5],        "eps",
        text[6],  "act",          c->act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu",
        NULL};
    if (st == LPT_OK)
        st = lpt_pretrain_write_file(w, fixed, meta, path, err);
    free(buf);
    lpt_safetensors_writer_free(w);
    return st;
}

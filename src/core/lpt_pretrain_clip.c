/* lpt_pretrain_clip.c: `lpt pretrain-clip` (see lpt_pretrain_clip.h): the captions, the
 * contrastive loss, the training loop over both towers, the zero-shot evaluation, and the
 * OpenAI-CLIP-named writer and reader of the pair.
 *
 * Device memory: the towers' arenas, one arena here for the optimiser state (AdamW's m and v
 * of the image tower's span and the text tower's span) and one for the loss gradients
 * (dL/dimage features [B, D], dL/dtext features of the distinct captions [U, D]). Host: the
 * lists, the loaders' caches, the tokenized captions, the features of one batch.
 */
#include "lpt_pretrain_clip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_loader.h"
#include "lpt_ops.h"
#include "lpt_pretrain_common.h"
#include "lpt_rng.h"
#include "lpt_safetensors.h"
#include "lpt_weights.h"

#define NAME_LEN 160

/* Filled with each of a class's names: for every class. */
static const char *const templates[] = {
    "a photo of a {}.",    "a picture of a {}.",
    "an image of the {}.", "a black and white photo of a {}.",
    "a drawing of a {}.",  "a {}.",
};
/* And for the digit classes ("0".."9") too. */
static const char *const digit_templates[] = {
    "a photo of the digit {}.",
    "a handwritten {}.",
    "the number {}.",
    "a handwritten digit {}.",
};
static const char *const digit_words[] = {"zero", "one", "two",   "three", "four",
                                          "five", "six", "seven", "eight", "nine"};

#define N_TEMPLATES (int)(sizeof templates / sizeof *templates)
#define N_DIGIT_TEMPLATES (int)(sizeof digit_templates / sizeof *digit_templates)

/* ---- the pair --------------------------------------------------------------------------- */

void lpt_clip_pair_free(LptClipPair *pair)
{
    if (!pair)
        return;
    lpt_vit_free(pair->image);
    lpt_clip_text_free(pair->text);
    memset(pair, 0, sizeof *pair);
}

LptStatus lpt_clip_pair_load(LptBackend *be, const char *path, LptClipPair *pair, LptError *err)
{
    memset(pair, 0, sizeof *pair);
    LptWeights *w = lpt_weights_open(path, NULL, err);
    if (!w)
        return err ? err->code : LPT_ERR_FORMAT;
    const LptWeightsInfo *info = lpt_weights_info(w);
    LptStatus st = LPT_OK;
    if (!info->vit.clip_style || info->text_tensors == 0)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "'%s': not a CLIP pair (%s naming, %d text-tower tensors)", path,
                           lpt_weights_naming_id(info->naming), info->text_tensors);
    if (st == LPT_OK) {
        pair->image = lpt_vit_new(be, &info->vit, err);
        st = pair->image ? lpt_weights_load_vit(w, pair->image, err) : LPT_ERR_OUT_OF_MEMORY;
    }
    if (st == LPT_OK) {
        pair->text = lpt_clip_text_load_from(be, lpt_weights_file(w), NULL, err);
        st = pair->text ? LPT_OK : err ? err->code : LPT_ERR_FORMAT;
    }
    if (st == LPT_OK && lpt_clip_text_config(pair->text)->proj_dim != info->vit.proj_dim)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                           "'%s': the text tower projects to %d values, the image tower to %d",
                           path, lpt_clip_text_config(pair->text)->proj_dim, info->vit.proj_dim);
    pair->log_scale = (float)log(100.0);
    const LptSafetensorsEntry *e =
        st == LPT_OK ? lpt_safetensors_find(lpt_weights_file(w), "logit_scale") : NULL;
    if (e && e->numel == 1)
        st = lpt_safetensors_read_f32(lpt_weights_file(w), e, &pair->log_scale, 1, err);
    lpt_weights_close(w);
    if (st != LPT_OK)
        lpt_clip_pair_free(pair);
    return st;
}

/* ---- options ---------------------------------------------------------------------------- */

void lpt_pretrain_clip_options_init(LptPretrainClipOptions *opt)
{
    static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memset(opt, 0, sizeof *opt);
    LptVitConfig *v = &opt->image;
    lpt_vit_config_init(v);
    v->prompts = v->adapter_rank = v->pool_size = 0;
    v->depth = 4;
    v->width = 128;
    v->heads = 2;
    v->mlp = 512;
    v->patch = 7;
    v->image = 28;
    v->eps = 1e-5f;
    v->act = LPT_VIT_ACT_QUICK_GELU;
    v->clip_style = true;
    v->proj_dim = 64;
    LptClipTextConfig *t = &opt->text;
    lpt_clip_text_config_init(t);
    t->context = 32;
    t->width = 32;
    t->heads = 1;
    t->layers = 2;
    t->mlp = 128;
    t->proj_dim = 64;
    t->eps = 1e-5f;
    t->act = LPT_VIT_ACT_QUICK_GELU;
    opt->epochs = 5;
    opt->batch = 128;
    opt->lr = 1e-3;
    opt->min_lr = 1e-5;
    opt->warmup_epochs = 1.0;
    opt->weight_decay = 0.05;
    opt->beta1 = 0.9f;
    opt->beta2 = 0.98f;
    opt->adam_eps = 1e-6f;
    opt->logit_scale = 1.0f / 0.07f;
    opt->max_logit_scale = 100.0f;
    lpt_augment_params_init(&opt->augment);
    opt->augment.scale_min = 0.6;
    opt->augment.flip_p = 0.0;
    memcpy(opt->mean, clip_mean, sizeof opt->mean);
    memcpy(opt->std, clip_std, sizeof opt->std);
}

static LptStatus check_options(const LptPretrainClipOptions *o, LptError *err)
{
    const char *bad = NULL;
    if (!o->data || !o->vocab)
        bad = "no dataset directory or no vocabulary";
    else if (!o->image.clip_style || o->image.prompts || o->image.adapter_rank ||
             o->image.pool_size || o->image.classes)
        bad = "the image tower must be CLIP-style, with no prompts, adapters, pool or head";
    else if (o->image.heads != lpt_weights_default_heads(o->image.width) ||
             o->image.act != LPT_VIT_ACT_QUICK_GELU || o->image.eps != 1e-5f)
        bad = "the image tower must have QuickGELU, eps 1e-5 and width / 64 heads (what "
              "lpt_weights reads a CLIP file without config with)";
    else if (o->image.proj_dim != o->text.proj_dim)
        bad = "the image and text towers must project to the same width";
    else if (o->batch < 2 || o->batch > 65536)
        bad = "batch must be in [2, 65536] (the loss contrasts the images of a batch)";
    else if (!(o->logit_scale >= 1.0f) || !(o->max_logit_scale >= o->logit_scale))
        bad = "logit_scale must be >= 1 and max_logit_scale >= logit_scale";
    else
        bad = lpt_pretrain_schedule_problem(o->epochs, o->lr, o->min_lr, o->warmup_epochs,
                                            o->weight_decay);
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "pretrain-clip: %s", bad);
    if (lpt_vit_config_check(&o->image, err) != LPT_OK)
        return lpt_error_prefix(err, "pretrain-clip: image tower");
    return lpt_augment_params_check(&o->augment, err);
}

/* ---- captions --------------------------------------------------------------------------- */

/* The template with "{}" replaced by name (malloc'd; NULL when out of memory). */
static char *fill(const char *tmpl, const char *name)
{
    const char *hole = strstr(tmpl, "{}");
    size_t a = (size_t)(hole - tmpl), n = strlen(name), b = strlen(hole + 2);
    char *s = malloc(a + n + b + 1);
    if (s) {
        memcpy(s, tmpl, a);
        memcpy(s + a, name, n);
        memcpy(s + a + n, hole + 2, b + 1);
    }
    return s;
}

void lpt_pretrain_clip_captions_free(char **captions, int count)
{
    for (int i = 0; captions && i < count; i++)
        free(captions[i]);
    free(captions);
}

int lpt_pretrain_clip_captions(const char *label, char ***captions)
{
    bool digit = label[0] >= '0' && label[0] <= '9' && label[1] == '\0';
    char *name = malloc(strlen(label) + 1);
    const char *names[2] = {name, digit ? digit_words[label[0] - '0'] : NULL};
    int n_names = digit ? 2 : 1, n_templates = N_TEMPLATES + (digit ? N_DIGIT_TEMPLATES : 0);
    int count = n_names * n_templates;
    char **out = calloc((size_t)count, sizeof *out);
    bool ok = name && out;
    if (ok) {
        for (size_t i = 0; label[i]; i++)
            name[i] = label[i] == '_' ? ' ' : label[i];
        name[strlen(label)] = '\0';
    }
    for (int j = 0; ok && j < n_templates; j++)
        for (int k = 0; ok && k < n_names; k++) {
            const char *t = j < N_TEMPLATES ? templates[j] : digit_templates[j - N_TEMPLATES];
            out[j * n_names + k] = fill(t, names[k]);
            ok = out[j * n_names + k] != NULL;
        }
    free(name);
    if (!ok) {
        lpt_pretrain_clip_captions_free(out, count);
        return -1;
    }
    *captions = out;
    return count;
}

/* Every class's captions, tokenized: caption c of class k is first[k] + c, c < count[k]. */
typedef struct Captions {
    int n;              /* all of them */
    int *first, *count; /* [K] */
    int32_t *ids;       /* [n, context] */
    int32_t *eot;       /* [n] */
    char **texts;       /* [n] */
} Captions;

static void captions_free(Captions *c)
{
    lpt_pretrain_clip_captions_free(c->texts, c->n);
    free(c->first);
    free(c->count);
    free(c->ids);
    free(c->eot);
    memset(c, 0, sizeof *c);
}

static LptStatus make_captions(char **classes, int K, const LptTokenizer *tok, int context,
                               Captions *c, LptError *err)
{
    memset(c, 0, sizeof *c);
    c->first = calloc((size_t)K, sizeof *c->first);
    c->count = calloc((size_t)K, sizeof *c->count);
    if (!c->first || !c->count)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
    for (int k = 0; k < K; k++) {
        char **mine = NULL;
        int m = lpt_pretrain_clip_captions(classes[k], &mine);
        char **grown = m > 0 ? realloc(c->texts, (size_t)(c->n + m) * sizeof *grown) : NULL;
        if (!grown) {
            lpt_pretrain_clip_captions_free(mine, m);
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
        }
        c->texts = grown;
        memcpy(c->texts + c->n, mine, (size_t)m * sizeof *mine);
        free(mine);
        c->first[k] = c->n;
        c->count[k] = m;
        c->n += m;
    }
    c->ids = malloc((size_t)c->n * context * sizeof *c->ids);
    c->eot = malloc((size_t)c->n * sizeof *c->eot);
    if (!c->ids || !c->eot)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
    for (int i = 0; i < c->n; i++) {
        size_t at = 0;
        bool cut = false;
        LptStatus st = lpt_tokenizer_encode_clip(tok, c->texts[i], c->ids + (size_t)i * context,
                                                 (size_t)context, &at, &cut, err);
        if (st != LPT_OK)
            return lpt_error_prefix(err, "pretrain-clip: caption '%s'", c->texts[i]);
        if (cut) /* a cut caption may lose its class name: refuse rather than train on it */
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "pretrain-clip: caption '%s' has more tokens than the text "
                                 "context of %d holds",
                                 c->texts[i], context);
        c->eot[i] = (int32_t)at;
    }
    return LPT_OK;
}

/* ---- the loss --------------------------------------------------------------------------- */

/* Rows of x[n, d] divided by max(||row||, 1e-12) into u (double); norms into len. */
static void unit_rows(const float *x, int n, int d, double *u, double *len)
{
    for (int i = 0; i < n; i++) {
        double sq = 0.0;
        for (int j = 0; j < d; j++)
            sq += (double)x[(size_t)i * d + j] * x[(size_t)i * d + j];
        len[i] = fmax(sqrt(sq), 1e-12);
        for (int j = 0; j < d; j++)
            u[(size_t)i * d + j] = x[(size_t)i * d + j] / len[i];
    }
}

/* dx = (du - u (u . du)) / len: the gradient through the normalisation, row by row. */
static void unit_rows_backward(const double *u, const double *len, const double *du, int n, int d,
                               float *dx)
{
    for (int i = 0; i < n; i++) {
        const double *ui = u + (size_t)i * d, *gi = du + (size_t)i * d;
        double dot = 0.0;
        for (int j = 0; j < d; j++)
            dot += ui[j] * gi[j];
        for (int j = 0; j < d; j++)
            dx[(size_t)i * d + j] = (float)((gi[j] - ui[j] * dot) / len[i]);
    }
}

double lpt_clip_contrastive_loss(const float *img, const float *txt, int n, int d, double scale,
                                 float *d_img, float *d_txt, double *d_scale)
{
    size_t nd = (size_t)n * d, nn = (size_t)n * n;
    double *a = malloc(nd * sizeof *a), *b = malloc(nd * sizeof *b);
    double *la = malloc((size_t)n * sizeof *la), *lb = malloc((size_t)n * sizeof *lb);
    double *cos = malloc(nn * sizeof *cos), *dz = calloc(nn, sizeof *dz);
    double *da = calloc(nd, sizeof *da), *db = calloc(nd, sizeof *db);
    double loss = NAN;
    if (!a || !b || !la || !lb || !cos || !dz || !da || !db)
        goto done;
    unit_rows(img, n, d, a, la);
    unit_rows(txt, n, d, b, lb);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < d; k++)
                s += a[(size_t)i * d + k] * b[(size_t)j * d + k];
            cos[(size_t)i * n + j] = s;
        }
    /* rows: image i over the texts; columns: text j over the images; dz = dLoss/dlogits */
    loss = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            size_t step = pass ? (size_t)n : 1, at = pass ? (size_t)i : (size_t)i * n;
            double top = -INFINITY, sum = 0.0;
            for (int j = 0; j < n; j++)
                top = fmax(top, scale * cos[at + j * step]);
            for (int j = 0; j < n; j++)
                sum += exp(scale * cos[at + j * step] - top);
            loss += (top + log(sum) - scale * cos[at + i * step]) / (2.0 * n);
            for (int j = 0; j < n; j++)
                dz[at + j * step] +=
                    (exp(scale * cos[at + j * step] - top) / sum - (i == j)) / (2.0 * n);
        }
    double ds = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double g = dz[(size_t)i * n + j];
            ds += g * cos[(size_t)i * n + j];
            for (int k = 0; k < d; k++) {
                da[(size_t)i * d + k] += scale * g * b[(size_t)j * d + k];
                db[(size_t)j * d + k] += scale * g * a[(size_t)i * d + k];
            }
        }
    if (d_img)
        unit_rows_backward(a, la, da, n, d, d_img);
    if (d_txt)
        unit_rows_backward(b, lb, db, n, d, d_txt);
    if (d_scale)
        *d_scale = ds;
done:
    free(a);
    free(b);
    free(la);
    free(lb);
    free(cos);
    free(dz);
    free(da);
    free(db);
    return loss;
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* Class k's text embedding: the normalised mean of the unit features of its captions. */
static LptStatus class_embeddings(LptClipText *text, const LptTokenizer *tok, const Captions *c,
                                  int K, float *out, LptError *err)
{
    int D = lpt_clip_text_config(text)->proj_dim;
    float *f = malloc((size_t)c->n * D * sizeof *f);
    if (!f)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
    LptStatus st = lpt_clip_text_encode(text, tok, (const char *const *)c->texts, c->n, f, err);
    for (int k = 0; k < K && st == LPT_OK; k++) {
        double acc[1024] = {0}, sq = 0.0; /* D <= 1024 (checked by the callers) */
        for (int i = c->first[k]; i < c->first[k] + c->count[k]; i++) {
            const float *row = f + (size_t)i * D;
            double n2 = 0.0;
            for (int j = 0; j < D; j++)
                n2 += (double)row[j] * row[j];
            double inv = 1.0 / fmax(sqrt(n2), 1e-12);
            for (int j = 0; j < D; j++)
                acc[j] += row[j] * inv;
        }
        for (int j = 0; j < D; j++)
            sq += acc[j] * acc[j];
        double inv = 1.0 / fmax(sqrt(sq), 1e-12);
        for (int j = 0; j < D; j++)
            out[(size_t)k * D + j] = (float)(acc[j] * inv);
    }
    free(f);
    return st;
}

/* Zero-shot top-1 over one pass of an eval loader. */
static LptStatus zero_shot_pass(LptClipPair *pair, LptLoader *loader, const float *classes, int K,
                                int batch, double *accuracy, LptError *err)
{
    int D = lpt_vit_feature_width(pair->image);
    float *f = malloc((size_t)batch * D * sizeof *f);
    float *logits = malloc((size_t)batch * K * sizeof *logits);
    int64_t right = 0, seen = 0;
    LptStatus st =
        f && logits ? LPT_OK
                    : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
    while (st == LPT_OK) {
        LptLoaderBatch b;
        st = lpt_loader_next(loader, &b, err);
        if (st != LPT_OK || b.end)
            break;
        const LptLoaderPart *part = &b.part[0];
        int n = part->count;
        st = lpt_vit_forward(pair->image, &part->images, n, LPT_VIT_PLAIN, false, err);
        if (st == LPT_OK) {
            LptTensor ft = lpt_tensor_view(lpt_vit_features(pair->image), 0, (size_t)n * D);
            st = lpt_tensor_download(&ft, f, err);
        }
        if (st == LPT_OK)
            st = lpt_clip_zero_shot_logits(logits, f, classes, n, K, D, err);
        if (st == LPT_OK)
            right += lpt_pretrain_top1_hits(logits, n, K, part->host_labels);
        seen += n;
    }
    free(f);
    free(logits);
    *accuracy = seen ? (double)right / (double)seen : 0.0;
    return st;
}

LptStatus lpt_pretrain_clip_zero_shot(LptBackend *be, LptClipPair *pair, const LptTokenizer *tok,
                                      const char *data, int64_t max_test, int batch,
                                      const float mean[3], const float std[3], double *accuracy,
                                      LptError *err)
{
    if (!be || !pair || !pair->image || !pair->text || !tok || !data || !accuracy || batch < 1)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "zero-shot: bad argument");
    int D = lpt_vit_feature_width(pair->image);
    if (D > 1024 || lpt_clip_text_config(pair->text)->proj_dim != D)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "zero-shot: the towers project to %d and %d values (equal, at most "
                             "1024)",
                             D, lpt_clip_text_config(pair->text)->proj_dim);
    LptPretrainData d; /* the classes are the whole train list's */
    LptStatus st = lpt_pretrain_data_read(data, 0, max_test, "zero-shot", &d, err);
    if (st != LPT_OK)
        return st;
    Captions caps = {0};
    float *cls = malloc((size_t)d.K * D * sizeof *cls);
    st = cls ? make_captions(d.classes, d.K, tok, lpt_clip_text_config(pair->text)->context, &caps,
                             err)
             : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "zero-shot: out of memory");
    if (st == LPT_OK)
        st = class_embeddings(pair->text, tok, &caps, d.K, cls, err);
    LptPretrainFeed feed = {batch, lpt_vit_config(pair->image)->image, 0, 0, mean, std, NULL};
    LptLoader *loader =
        st == LPT_OK ? lpt_pretrain_loader_new(be, &d.test, d.K, false, &feed, err) : NULL;
    if (st == LPT_OK && !loader)
        st = err ? err->code : LPT_ERR_IO;
    if (st == LPT_OK)
        st = zero_shot_pass(pair, loader, cls, d.K, batch, accuracy, err);
    lpt_loader_free(loader);
    captions_free(&caps);
    free(cls);
    lpt_pretrain_data_free(&d);
    return st;
}

/* ---- training --------------------------------------------------------------------------- */

/* Everything a run holds; freed by run_free. */
typedef struct Run {
    const LptPretrainClipOptions *o;
    LptBackend *be;
    LptPretrainData data;
    LptTokenizer *tok;
    Captions caps;
    LptClipPair pair;
    LptLoader *train_loader, *test_loader;
    LptArena *opt_arena, *grad_arena;
    LptPretrainSpan spans[2]; /* the image tower's, the text tower's */
    LptTensor d_img, d_txt;   /* [B, D] each: dL/dfeatures */
    double t_m, t_v;          /* AdamW state of t */
    int D;
    /* host, per step */
    float *img, *txt, *rows, *g_img, *g_rows, *g_txt; /* [B, D] each */
    int32_t *cap, *uniq, *slot; /* [B]: caption of each image; distinct captions; row -> uniq */
    int32_t *ids, *eot;         /* [B, context], [B]: the distinct captions' tokens */
    float *class_emb;           /* [K, D] */
} Run;

static void run_free(Run *r)
{
    lpt_loader_free(r->train_loader);
    lpt_loader_free(r->test_loader);
    lpt_arena_free(r->opt_arena);
    lpt_arena_free(r->grad_arena);
    lpt_clip_pair_free(&r->pair);
    captions_free(&r->caps);
    lpt_tokenizer_free(r->tok);
    lpt_pretrain_data_free(&r->data);
    free(r->img);
    free(r->txt);
    free(r->rows);
    free(r->g_img);
    free(r->g_rows);
    free(r->g_txt);
    free(r->cap);
    free(r->uniq);
    free(r->slot);
    free(r->ids);
    free(r->eot);
    free(r->class_emb);
}

/* The towers, their optimiser state, the host buffers. */
static LptStatus make_model(Run *r, LptError *err)
{
    const LptPretrainClipOptions *o = r->o;
    LptVitConfig vc = o->image;
    vc.train_backbone = true;
    LptClipTextConfig tc = o->text;
    tc.vocab = (int)lpt_tokenizer_vocab_size(r->tok);
    tc.trainable = true;
    r->pair.image = lpt_vit_new(r->be, &vc, err);
    if (!r->pair.image)
        return lpt_error_prefix(err, "pretrain-clip: image tower");
    r->pair.text = lpt_clip_text_new(r->be, &tc, err);
    if (!r->pair.text)
        return lpt_error_prefix(err, "pretrain-clip: text tower");
    r->pair.log_scale = (float)log((double)o->logit_scale);
    LptStatus st = lpt_vit_init_backbone(r->pair.image, o->seed, err);
    if (st == LPT_OK)
        st = lpt_clip_text_init(r->pair.text, o->seed, err);
    if (st == LPT_OK)
        st = lpt_vit_backbone_span(r->pair.image, &r->spans[0].p, &r->spans[0].g, err);
    if (st == LPT_OK)
        st = lpt_clip_text_span(r->pair.text, &r->spans[1].p, &r->spans[1].g, err);
    if (st != LPT_OK)
        return st;
    int B = o->batch, D = r->D = vc.proj_dim, ctx = tc.context;
    r->opt_arena = lpt_pretrain_moments(r->be, "pretrain-clip optimiser", r->spans, 2, err);
    LptTensor *g_t[2] = {&r->d_img, &r->d_txt};
    size_t g_n[2] = {(size_t)B * D, (size_t)B * D};
    r->grad_arena = r->opt_arena
                        ? lpt_pretrain_zero_arena(r->be, "pretrain-clip loss", g_t, g_n, 2, err)
                        : NULL;
    if (!r->grad_arena)
        return err->code;
    size_t bd = (size_t)B * D * sizeof(float);
    r->img = malloc(bd);
    r->txt = malloc(bd);
    r->rows = malloc(bd);
    r->g_img = malloc(bd);
    r->g_rows = malloc(bd);
    r->g_txt = malloc(bd);
    r->cap = malloc((size_t)B * sizeof *r->cap);
    r->uniq = malloc((size_t)B * sizeof *r->uniq);
    r->slot = malloc((size_t)B * sizeof *r->slot);
    r->ids = malloc((size_t)B * ctx * sizeof *r->ids);
    r->eot = malloc((size_t)B * sizeof *r->eot);
    r->class_emb = malloc((size_t)r->data.K * D * sizeof *r->class_emb);
    if (!r->img || !r->txt || !r->rows || !r->g_img || !r->g_rows || !r->g_txt || !r->cap ||
        !r->uniq || !r->slot || !r->ids || !r->eot || !r->class_emb)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "pretrain-clip: out of memory");
    return LPT_OK;
}

/* Reads the lists and the vocabulary, makes the captions, the towers and the loaders. */
static LptStatus run_setup(Run *r, LptError *err)
{
    const LptPretrainClipOptions *o = r->o;
    LptStatus st =
        lpt_pretrain_data_read(o->data, o->max_train, o->max_test, "pretrain-clip", &r->data, err);
    if (st != LPT_OK)
        return st;
    r->tok = lpt_tokenizer_new_openai(o->vocab, err);
    if (!r->tok)
        return lpt_error_prefix(err, "pretrain-clip: vocabulary");
    if (o->image.proj_dim > 1024)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "pretrain-clip: an embedding width of %d is more than 1024",
                             o->image.proj_dim);
    st = make_captions(r->data.classes, r->data.K, r->tok, o->text.context, &r->caps, err);
    if (st == LPT_OK)
        st = make_model(r, err);
    if (st != LPT_OK)
        return st;
    LptPretrainFeed feed = {o->batch, o->image.image, o->workers, o->seed,
                            o->mean,  o->std,         &o->augment};
    r->train_loader = lpt_pretrain_loader_new(r->be, &r->data.train, r->data.K, true, &feed, err);
    if (!r->train_loader)
        return lpt_error_prefix(err, "pretrain-clip: training images");
    r->test_loader = lpt_pretrain_loader_new(r->be, &r->data.test, r->data.K, false, &feed, err);
    if (!r->test_loader)
        return lpt_error_prefix(err, "pretrain-clip: test images");
    return LPT_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Draws each image's caption, then the distinct ones in caption order (their tokens into
 * r->ids / r->eot) and each image's row among them. Returns the number of distinct ones. */
static int pick_captions(Run *r, const LptLoaderPart *part, int64_t step)
{
    const Captions *c = &r->caps;
    int n = part->count, ctx = r->o->text.context;
    LptRng rng;
    lpt_rng_seed(&rng, r->o->seed ^ UINT64_C(0x636c697063617074), (uint64_t)step);
    for (int b = 0; b < n; b++) {
        int k = part->host_labels[b];
        r->cap[b] = c->first[k] + (int32_t)lpt_rng_below(&rng, (uint32_t)c->count[k]);
        r->uniq[b] = r->cap[b];
    }
    qsort(r->uniq, (size_t)n, sizeof *r->uniq, cmp_i32);
    int u = 0;
    for (int b = 0; b < n; b++)
        if (u == 0 || r->uniq[u - 1] != r->uniq[b])
            r->uniq[u++] = r->uniq[b];
    for (int b = 0; b < n; b++)
        r->slot[b] =
            (int32_t)((int32_t *)bsearch(&r->cap[b], r->uniq, (size_t)u, sizeof *r->uniq, cmp_i32) -
                      r->uniq);
    for (int i = 0; i < u; i++) {
        memcpy(r->ids + (size_t)i * ctx, c->ids + (size_t)r->uniq[i] * ctx,
               (size_t)ctx * sizeof *r->ids);
        r->eot[i] = c->eot[r->uniq[i]];
    }
    return u;
}

/* AdamW on t (host, no weight decay), then the clamp to [0, ln max]. */
static void update_scale(Run *r, double grad, double lr, int step)
{
    const LptPretrainClipOptions *o = r->o;
    r->t_m = o->beta1 * r->t_m + (1.0 - o->beta1) * grad;
    r->t_v = o->beta2 * r->t_v + (1.0 - o->beta2) * grad * grad;
    double mh = r->t_m / (1.0 - pow(o->beta1, step)), vh = r->t_v / (1.0 - pow(o->beta2, step));
    double t = r->pair.log_scale - lr * mh / (sqrt(vh) + o->adam_eps);
    r->pair.log_scale = (float)fmin(fmax(t, 0.0), log((double)o->max_logit_scale));
}

/* One training step on a batch part. Adds the batch's summed loss to *loss_sum.
 * (LptPretrainLoop.step) */
static LptStatus train_step(void *run, const LptLoaderPart *part, double lr, int64_t global,
                            double *loss_sum, LptError *err)
{
    Run *r = run;
    const LptPretrainClipOptions *o = r->o;
    LptBackend *be = r->be;
    int n = part->count, D = r->D, step = (int)(global + 1);
    int u = pick_captions(r, part, global);
    LptStatus st = lpt_vit_forward(r->pair.image, &part->images, n, LPT_VIT_FULL, true, err);
    if (st == LPT_OK) {
        LptTensor f = lpt_tensor_view(lpt_vit_features(r->pair.image), 0, (size_t)n * D);
        st = lpt_tensor_download(&f, r->img, err);
    }
    if (st == LPT_OK)
        st = lpt_clip_text_forward_train(r->pair.text, r->ids, r->eot, u, err);
    if (st == LPT_OK) {
        LptTensor f = lpt_tensor_view(lpt_clip_text_features(r->pair.text), 0, (size_t)u * D);
        st = lpt_tensor_download(&f, r->txt, err);
    }
    if (st != LPT_OK)
        return st;
    for (int b = 0; b < n; b++)
        memcpy(r->rows + (size_t)b * D, r->txt + (size_t)r->slot[b] * D, (size_t)D * sizeof(float));
    double scale = exp((double)r->pair.log_scale), d_scale = 0.0;
    double loss =
        lpt_clip_contrastive_loss(r->img, r->rows, n, D, scale, r->g_img, r->g_rows, &d_scale);
    if (!isfinite(loss))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "pretrain-clip: the loss is not finite at step %d (try a lower lr)",
                             step);
    memset(r->g_txt, 0, (size_t)u * D * sizeof *r->g_txt); /* repeated captions add up */
    for (int b = 0; b < n; b++)
        for (int j = 0; j < D; j++)
            r->g_txt[(size_t)r->slot[b] * D + j] += r->g_rows[(size_t)b * D + j];
    LptTensor gi = lpt_tensor_view(&r->d_img, 0, (size_t)n * D);
    LptTensor gt = lpt_tensor_view(&r->d_txt, 0, (size_t)u * D);
    st = lpt_tensor_upload(&gi, r->g_img, err);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&gt, r->g_txt, err);
    if (st == LPT_OK)
        st = lpt_vit_zero_grads(r->pair.image, err);
    if (st == LPT_OK)
        st = lpt_vit_backward_features(r->pair.image, &gi, err);
    if (st == LPT_OK)
        st = lpt_clip_text_zero_grads(r->pair.text, err);
    if (st == LPT_OK)
        st = lpt_clip_text_backward(r->pair.text, &gt, err);
    if (st == LPT_OK)
        st = lpt_pretrain_adamw(be, r->spans, 2, (float)lr, o->beta1, o->beta2, o->adam_eps,
                                (float)o->weight_decay, step, err);
    if (st != LPT_OK)
        return st;
    update_scale(r, d_scale * scale, lr, step);
    *loss_sum += loss * n;
    return LPT_OK;
}

/* Zero-shot top-1 on the test list with the current towers. (LptPretrainLoop.evaluate) */
static LptStatus evaluate(void *run, double *accuracy, LptError *err)
{
    Run *r = run;
    LptStatus st = class_embeddings(r->pair.text, r->tok, &r->caps, r->data.K, r->class_emb, err);
    if (st == LPT_OK)
        st = zero_shot_pass(&r->pair, r->test_loader, r->class_emb, r->data.K, r->o->batch,
                            accuracy, err);
    return st;
}

/* Passes a tick on to the progress callback, with the temperature after the epoch's last
 * step (0 before its first). (LptPretrainLoop.report) */
static bool report(void *run, const LptPretrainTick *t)
{
    const Run *r = run;
    double scale = t->step > 0 ? exp((double)r->pair.log_scale) : 0.0;
    LptPretrainClipProgress p = {t->epoch,   t->epochs,     t->step,    t->steps,
                                 t->loss,    t->lr,         scale,      t->images_per_second,
                                 t->elapsed, t->epoch_done, t->accuracy};
    return !r->o->progress || r->o->progress(&p, r->o->progress_user);
}

/* The epochs: train (skipping a part of one image: nothing to contrast), evaluate, report. */
static LptStatus run_epochs(Run *r, double t0, LptPretrainClipResult *res, LptError *err)
{
    const LptPretrainClipOptions *o = r->o;
    LptPretrainLoop loop = {.what = "pretrain-clip",
                            .train = r->train_loader,
                            .epochs = o->epochs,
                            .lr = o->lr,
                            .min_lr = o->min_lr,
                            .warmup_epochs = o->warmup_epochs,
                            .min_images = 2,
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
    res->zero_shot = done.accuracy;
    res->logit_scale = exp((double)r->pair.log_scale);
    return st;
}

LptStatus lpt_pretrain_clip_run(LptBackend *be, const LptPretrainClipOptions *opt,
                                LptClipPair *pair, LptPretrainClipResult *result, LptError *err)
{
    LptError local = {0};
    if (!err)
        err = &local;
    if (!be || !opt || !pair)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "pretrain-clip: NULL argument");
    memset(pair, 0, sizeof *pair);
    if (check_options(opt, err) != LPT_OK)
        return err->code;
    double t0 = lpt_pretrain_now();
    Run r = {0};
    r.o = opt;
    r.be = be;
    LptPretrainClipResult res = {0};
    LptStatus st = run_setup(&r, err);
    if (st == LPT_OK) {
        res.classes = r.data.K;
        res.captions = r.caps.n;
        res.train_images = r.data.train.count;
        res.test_images = r.data.test.count;
        for (int i = 0; lpt_vit_tensor_name(r.pair.image, i); i++)
            res.image_params +=
                lpt_vit_tensor(r.pair.image, lpt_vit_tensor_name(r.pair.image, i))->count;
        for (int i = 0; lpt_clip_text_tensor_name(r.pair.text, i); i++)
            res.text_params +=
                lpt_clip_text_tensor(r.pair.text, lpt_clip_text_tensor_name(r.pair.text, i))->count;
        st = run_epochs(&r, t0, &res, err);
    }
    res.seconds = lpt_pretrain_now() - t0;
    if (st == LPT_OK) {
        *pair = r.pair;
        memset(&r.pair, 0, sizeof r.pair);
        if (result)
            *result = res;
    }
    run_free(&r);
    return st;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Adds `count` floats as tensor `name` of shape dims[nd], F16 or F32; transposed from
 * [dims[1], dims[0]] when transpose (a 2-D tensor). */
static LptStatus add(LptSafetensorsWriter *w, bool f16, const char *name, int nd,
                     const size_t *dims, const float *data, bool transpose, float *tmp,
                     LptError *err)
{
    if (transpose) {
        for (size_t i = 0; i < dims[0]; i++)
            for (size_t j = 0; j < dims[1]; j++)
                tmp[i * dims[1] + j] = data[j * dims[0] + i];
        data = tmp;
    }
    return f16 ? lpt_safetensors_writer_add_f16(w, name, nd, dims, data, err)
               : lpt_safetensors_writer_add_f32(w, name, nd, dims, data, err);
}

/* The text tower's tensors at the top level (OpenAI's naming). */
static LptStatus add_text(LptSafetensorsWriter *w, bool f16, LptClipText *text,
                          const LptWeightsNamingDef *def, float *buf, float *tmp, LptError *err)
{
    const LptClipTextConfig *c = lpt_clip_text_config(text);
    size_t W = (size_t)c->width;
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && lpt_clip_text_tensor_name(text, i); i++) {
        const char *canon = lpt_clip_text_tensor_name(text, i);
        size_t count = lpt_clip_text_tensor(text, canon)->count, dims[4];
        char name[NAME_LEN];
        int nd = 2, block = -1;
        bool transpose = false;
        if (strcmp(canon, "token_embedding") == 0) {
            snprintf(name, sizeof name, "token_embedding.weight");
            dims[0] = (size_t)c->vocab;
            dims[1] = W;
        } else if (strcmp(canon, "pos") == 0) {
            snprintf(name, sizeof name, "positional_embedding");
            dims[0] = (size_t)c->context;
            dims[1] = W;
        } else if (strncmp(canon, "norm.", 5) == 0) {
            snprintf(name, sizeof name, "ln_final.%s", canon + 5);
            nd = 1;
            dims[0] = W;
        } else if (strcmp(canon, "proj") == 0) {
            snprintf(name, sizeof name, "text_projection");
            dims[0] = W;
            dims[1] = (size_t)c->proj_dim;
            transpose = true;
        } else {
            const LptWeightsRow *row = lpt_weights_row(def, canon, &block);
            nd = row && block >= 0
                     ? lpt_pretrain_row_dims(row->shape, W, (size_t)c->mlp, 0, 0, 0, dims)
                     : 0;
            if (nd == 0)
                return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                     "pretrain-clip write: text tensor '%s' has no OpenAI name",
                                     canon);
            lpt_pretrain_row_name("", row, block, name, sizeof name);
        }
        st = lpt_clip_text_get(text, canon, buf, count, err);
        if (st == LPT_OK)
            st = add(w, f16, name, nd, dims, buf, transpose, tmp, err);
    }
    return st;
}

/* The image tower's tensors under "visual." (OpenAI's naming). */
static LptStatus add_image(LptSafetensorsWriter *w, bool f16, LptVit *vit,
                           const LptWeightsNamingDef *def, float *buf, float *tmp, LptError *err)
{
    const LptVitConfig *c = lpt_vit_config(vit);
    LptStatus st = LPT_OK;
    for (int i = 0; st == LPT_OK && lpt_vit_tensor_name(vit, i); i++) {
        const char *canon = lpt_vit_tensor_name(vit, i);
        int block = -1;
        const LptWeightsRow *row = lpt_weights_row(def, canon, &block);
        size_t dims[4], count = lpt_vit_tensor(vit, canon)->count;
        int nd = row ? lpt_pretrain_row_dims(row->shape, (size_t)c->width, (size_t)c->mlp,
                                             (size_t)lpt_vit_tokens(vit), (size_t)c->patch,
                                             (size_t)c->proj_dim, dims)
                     : 0;
        if (nd == 0 || lpt_vit_tensor_trainable(vit, i))
            return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                                 "pretrain-clip write: image tensor '%s' has no OpenAI name",
                                 canon);
        char name[NAME_LEN];
        lpt_pretrain_row_name("visual.", row, block, name, sizeof name);
        st = lpt_vit_get(vit, canon, buf, count, err);
        if (st == LPT_OK)
            st = add(w, f16, name, nd, dims, buf, row->shape == LPT_WS_C_CF, tmp, err);
    }
    return st;
}

LptStatus lpt_pretrain_clip_write(LptClipPair *pair, const char *path, bool f16,
                                  const char *const *meta, LptError *err)
{
    if (!pair || !pair->image || !pair->text || !path)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "pretrain-clip write: NULL argument");
    const LptVitConfig *vc = lpt_vit_config(pair->image);
    const LptClipTextConfig *tc = lpt_clip_text_config(pair->text);
    if (!vc->clip_style || vc->proj_dim != tc->proj_dim)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "pretrain-clip write: '%s': the image tower must be CLIP-style and "
                             "project to the text tower's width",
                             path);
    size_t most = 1;
    for (int i = 0; lpt_vit_tensor_name(pair->image, i); i++) {
        size_t n = lpt_vit_tensor(pair->image, lpt_vit_tensor_name(pair->image, i))->count;
        most = n > most ? n : most;
    }
    for (int i = 0; lpt_clip_text_tensor_name(pair->text, i); i++) {
        size_t n =
            lpt_clip_text_tensor(pair->text, lpt_clip_text_tensor_name(pair->text, i))->count;
        most = n > most ? n : most;
    }
    const LptWeightsNamingDef *def = lpt_weights_naming_def(LPT_WEIGHTS_OPENCLIP);
    LptSafetensorsWriter *w = lpt_safetensors_writer_new();
    float *buf = malloc(most * sizeof *buf), *tmp = malloc(most * sizeof *tmp);
    LptStatus st = w && buf && tmp ? LPT_OK
                                   : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                                   "pretrain-clip write: out of memory");
    if (st == LPT_OK)
        st = add_image(w, f16, pair->image, def, buf, tmp, err);
    if (st == LPT_OK)
        st = add_text(w, f16, pair->text, def, buf, tmp, err);
    if (st == LPT_OK) /* a scalar, F32 as OpenAI's */
        st = lpt_safetensors_writer_add_f32(w, "logit_scale", 0, NULL, &pair->log_scale, err);
    char text[4][32];
    snprintf(text[0], sizeof text[0], "%d", tc->heads);
    snprintf(text[1], sizeof text[1], "%g", (double)tc->eps);
    snprintf(text[2], sizeof text[2], "%d", vc->heads);
    snprintf(text[3], sizeof text[3], "%s", f16 ? "F16" : "F32");
    const char *fixed[] = {"format",
                           "lpt-pretrain-clip",
                           "text_heads",
                           text[0],
                           "text_act",
                           tc->act == LPT_VIT_ACT_QUICK_GELU ? "quick_gelu" : "gelu",
                           "text_eps",
                           text[1],
                           "vision_heads",
                           text[2],
                           "dtype",
                           text[3],
                           NULL};
    if (st == LPT_OK)
        st = lpt_pretrain_write_file(w, fixed, meta, path, err);
    free(buf);
    free(tmp);
    lpt_safetensors_writer_free(w);
    return st;
}

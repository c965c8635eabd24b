/* lpt_model.c: the deployable model in memory: its parts, the eval transform of decoded
 * images, prediction (experts, fusion, prior) and the public prediction API of lpt.h. See
 * lpt_model.h. */
#include "lpt_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lpt_augment.h"
#include "lpt_prior.h"

#define GROUP_MIN 256 /* images decoded and predicted together by lpt_model_predict */
#define GROUP_MAX 8192

void lpt_model_options_init(LptModelOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->backend = LPT_MODEL_BACKEND_CPU;
}

const char *lpt_model_mode_name(LptVitMode mode)
{
    switch (mode) {
    case LPT_VIT_PLAIN:
        return "plain";
    case LPT_VIT_PHASE1:
        return "phase1";
    case LPT_VIT_PHASE2:
        return "phase2";
    default:
        return "?";
    }
}

bool lpt_model_mode_parse(const char *text, LptVitMode *mode)
{
    const LptVitMode modes[3] = {LPT_VIT_PLAIN, LPT_VIT_PHASE1, LPT_VIT_PHASE2};
    for (int i = 0; text && i < 3; i++)
        if (strcmp(text, lpt_model_mode_name(modes[i])) == 0) {
            *mode = modes[i];
            return true;
        }
    return false;
}

LptModel *lpt_model_new(LptBackend *be, LptError *err)
{
    LptModel *m = calloc(1, sizeof *m);
    if (!m) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: out of memory");
        return NULL;
    }
    m->be = be;
    m->scorer_epoch = -1;
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        m->expert[e].best_epoch = -1;
    return m;
}

void lpt_model_close(LptModel *m)
{
    if (!m)
        return;
    lpt_scorer_free(m->scorer);
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        LptModelExpert *x = &m->expert[e];
        lpt_arena_free(x->input_arena);
        lpt_arena_free(x->pixel_arena);
        lpt_vit_free(x->vit);
        lpt_weights_close(x->weights);
        free(x->backbone_path);
        free(x->backbone_name);
    }
    lpt_backend_free(m->be);
    for (int k = 0; m->class_names && k < m->classes; k++)
        free(m->class_names[k]);
    free(m->class_names);
    free(m->prior_adjust);
    free(m->prior_json);
    free(m->run_config_json);
    free(m->lineage_json);
    free(m->classes_json);
    free(m->model_json);
    free(m->path);
    if (m->lock_ok)
        pthread_mutex_destroy(&m->lock);
    free(m);
}

LptStatus lpt_model_ready(LptModel *m, LptError *err)
{
    int K = m->classes;
    if (K < 1 || !m->class_names || !(m->prob_scale > 0.0f))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "model: no classes or no probability scale");
    m->experts = 0;
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        LptModelExpert *x = &m->expert[e];
        if (!x->vit)
            continue;
        const LptVitConfig *vc = lpt_vit_config(x->vit);
        const char *name = lpt_store_expert_name((LptStoreExpert)e);
        if (vc->classes != K)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "model: the %s expert has %d head rows for %d classes", name,
                                 vc->classes, K);
        if ((x->mode == LPT_VIT_PHASE2 && vc->pool_size < 1) ||
            (x->mode == LPT_VIT_PHASE1 && vc->prompts < 1 && vc->adapter_rank < 1) ||
            (x->mode != LPT_VIT_PLAIN && x->mode != LPT_VIT_PHASE1 && x->mode != LPT_VIT_PHASE2))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "model: the %s expert cannot run in mode %s", name,
                                 lpt_model_mode_name(x->mode));
        if (x->batch < 1)
            x->batch = 1;
        for (int c = 0; c < 3; c++)
            if (!(x->std[c] > 0.0f))
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "model: the %s expert's std[%d] is not positive", name, c);
        size_t plane = (size_t)3 * vc->image * vc->image;
        size_t bytes =
            ((size_t)x->batch * plane + (size_t)x->batch * 5) * sizeof(float) + 2 * LPT_ARENA_ALIGN;
        lpt_arena_free(x->input_arena);
        x->input_arena = lpt_arena_new(m->be, "model input", bytes, err);
        if (!x->input_arena)
            return err ? err->code : LPT_ERR_OUT_OF_MEMORY;
        LPT_TRY(lpt_arena_alloc(x->input_arena, &x->images, "model images", LPT_F32,
                              (size_t)x->batch * plane, err));
        LPT_TRY(lpt_arena_alloc(x->input_arena, &x->boxes, "model boxes", LPT_F32,
                              (size_t)x->batch * 5, err));
        m->which[m->experts++] = (LptStoreExpert)e;
    }
    if (m->experts == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "model: no expert");
    if (m->scorer) {
        const LptScorerConfig *sc = lpt_scorer_config(m->scorer);
        bool ok = sc->experts == m->experts && sc->classes == K;
        for (int s = 0; ok && s < m->experts; s++)
            ok = sc->feature_dims[s] == lpt_vit_feature_width(m->expert[m->which[s]].vit);
        if (!ok)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "model: the scorer (%d experts, %d classes) does not match the "
                                 "experts (%d, %d classes) or their feature widths",
                                 sc->experts, sc->classes, m->experts, K);
    }
    if (!m->lock_ok) {
        if (pthread_mutex_init(&m->lock, NULL) != 0)
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: cannot create a mutex");
        m->lock_ok = true;
    }
    return LPT_OK;
}

/* ---- prediction ------------------------------------------------------------------------- */

static size_t align_up(size_t n)
{
    return (n + LPT_ARENA_ALIGN - 1) / LPT_ARENA_ALIGN * LPT_ARENA_ALIGN;
}

/* The eval transform of images [0, c) into x->images, as the loader does it (lpt_loader.c):
 * the eval box, the region of the image it reads cut out, the box moved into it. */
static LptStatus prepare(LptModel *m, LptModelExpert *x, const LptImage *imgs, int c,
                         const float mean[3], const float std[3], LptError *err)
{
    int S = lpt_vit_config(x->vit)->image;
    float *boxes = malloc((size_t)c * 5 * sizeof *boxes);
    int *rect = malloc((size_t)c * 4 * sizeof *rect); /* rx, ry, rw, rh */
    size_t *offs = malloc((size_t)c * sizeof *offs);
    uint8_t *pix = NULL;
    LptStatus st = boxes && rect && offs
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: out of memory");
    size_t total = 0;
    for (int i = 0; st == LPT_OK && i < c; i++) {
        const LptImage *im = &imgs[i];
        float *box = boxes + (size_t)i * 5;
        int *r = rect + (size_t)i * 4;
        lpt_augment_eval_box(im->width, im->height, S, box);
        lpt_augment_box_region(box, im->width, im->height, S, x->interp, &r[0], &r[1], &r[2],
                               &r[3]);
        box[0] -= (float)r[0];
        box[1] -= (float)r[1];
        offs[i] = total;
        total += align_up((size_t)r[2] * r[3] * im->channels);
    }
    if (st == LPT_OK && !(pix = malloc(total)))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: out of memory for %zu bytes",
                           total);
    for (int i = 0; st == LPT_OK && i < c; i++) {
        const LptImage *im = &imgs[i];
        const int *r = rect + (size_t)i * 4;
        size_t row = (size_t)r[2] * im->channels;
        for (int y = 0; y < r[3]; y++)
            memcpy(pix + offs[i] + row * y,
                   im->pixels + ((size_t)(r[1] + y) * im->width + r[0]) * im->channels, row);
    }
    if (st == LPT_OK && x->pixel_arena && lpt_arena_size(x->pixel_arena) < total) {
        lpt_arena_free(x->pixel_arena);
        x->pixel_arena = NULL;
    }
    if (st == LPT_OK && !x->pixel_arena) {
        x->pixel_arena = lpt_arena_new(m->be, "model pixels", total + total / 4 + 4096, err);
        if (!x->pixel_arena)
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
    }
    LptTensor all;
    if (st == LPT_OK) {
        lpt_arena_reset(x->pixel_arena);
        st = lpt_arena_alloc(x->pixel_arena, &all, "model pixels", LPT_U8, total, err);
    }
    if (st == LPT_OK)
        st = lpt_tensor_upload(&all, pix, err);
    LptTensor bv = lpt_tensor_view(&x->boxes, 0, (size_t)c * 5);
    if (st == LPT_OK)
        st = lpt_tensor_upload(&bv, boxes, err);
    size_t plane = (size_t)3 * S * S;
    for (int i = 0; st == LPT_OK && i < c; i++) {
        const int *r = rect + (size_t)i * 4;
        LptImageShape shape = {.batch = 1,
                               .src_h = r[3],
                               .src_w = r[2],
                               .src_channels = imgs[i].channels,
                               .out_h = S,
                               .out_w = S,
                               .interp = x->interp};
        memcpy(shape.mean, mean, sizeof shape.mean);
        memcpy(shape.std, std, sizeof shape.std);
        LptTensor src = lpt_tensor_view(&all, offs[i], (size_t)r[2] * r[3] * imgs[i].channels);
        LptTensor box = lpt_tensor_view(&x->boxes, (size_t)i * 5, 5);
        LptTensor out = lpt_tensor_view(&x->images, (size_t)i * plane, plane);
        st = lpt_op_image_transform_forward(m->be, &out, &src, &box, &shape, err);
    }
    free(boxes);
    free(rect);
    free(offs);
    free(pix);
    return st;
}

/* Expert `slot` on images [0, n) in chunks of its batch into out's arrays of that slot. */
static LptStatus run_expert(LptModel *m, int slot, const LptImage *images, int64_t n,
                            LptModelOutputs *out, LptError *err)
{
    LptModelExpert *x = &m->expert[m->which[slot]];
    int K = m->classes, Cf = lpt_vit_feature_width(x->vit), B = x->batch;
    int topk = out->selection_k[slot];
    size_t plane = (size_t)3 * lpt_vit_config(x->vit)->image * lpt_vit_config(x->vit)->image;
    float *logits = malloc((size_t)B * K * sizeof *logits);
    if (!logits)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: out of memory");
    LptStatus st = LPT_OK;
    for (int64_t o = 0; st == LPT_OK && o < n; o += B) {
        int c = (int)(n - o < B ? n - o : B);
        st = prepare(m, x, images + o, c, x->mean, x->std, err);
        LptTensor in = lpt_tensor_view(&x->images, 0, (size_t)c * plane);
        if (st == LPT_OK)
            st = lpt_vit_forward(x->vit, &in, c, x->mode, false, err);
        LptTensor lv = lpt_tensor_view(lpt_vit_logits(x->vit), 0, (size_t)c * K);
        LptTensor fv = lpt_tensor_view(lpt_vit_features(x->vit), 0, (size_t)c * Cf);
        if (st == LPT_OK)
            st = lpt_tensor_download(&lv, logits, err);
        if (st == LPT_OK)
            st = lpt_tensor_download(&fv, out->features[slot] + (size_t)o * Cf, err);
        if (st == LPT_OK && topk > 0) {
            LptTensor sv = lpt_tensor_view(lpt_vit_selection(x->vit), 0, (size_t)c * topk);
            st = lpt_tensor_download(&sv, out->selection[slot] + (size_t)o * topk, err);
        }
        if (st == LPT_OK)
            lpt_scorer_expert_probs(logits, c, K, m->prob_scale, out->probs[slot] + (size_t)o * K);
    }
    free(logits);
    if (st != LPT_OK)
        lpt_error_prefix(err, "%s expert", lpt_store_expert_name(m->which[slot]));
    return st;
}

void lpt_model_outputs_free(LptModelOutputs *out)
{
    if (!out)
        return;
    free(out->fused);
    free(out->fused_raw);
    free(out->weights);
    for (int s = 0; s < LPT_STORE_NUM_EXPERTS; s++) {
        free(out->probs[s]);
        free(out->features[s]);
        free(out->selection[s]);
    }
    memset(out, 0, sizeof *out);
}

LptStatus lpt_model_run(LptModel *m, const LptImage *images, int64_t n, LptModelOutputs *out,
                        LptError *err)
{
    memset(out, 0, sizeof *out);
    if (!m || !m->lock_ok || n < 0 || (n > 0 && !images))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "model run: bad arguments");
    int K = m->classes, E = m->experts;
    size_t rows = (size_t)n + 1;
    out->n = n;
    out->fused = malloc(rows * K * sizeof(float));
    out->fused_raw = malloc(rows * K * sizeof(float));
    out->weights = malloc(rows * E * sizeof(float));
    bool ok = out->fused && out->fused_raw && out->weights;
    for (int s = 0; ok && s < E; s++) {
        const LptModelExpert *x = &m->expert[m->which[s]];
        out->probs[s] = malloc(rows * K * sizeof(float));
        out->features[s] = malloc(rows * lpt_vit_feature_width(x->vit) * sizeof(float));
        ok = out->probs[s] && out->features[s];
        if (x->mode == LPT_VIT_PHASE2) {
            out->selection_k[s] = lpt_vit_config(x->vit)->pool_top_k;
            out->selection[s] = malloc(rows * out->selection_k[s] * sizeof(int32_t));
            ok = ok && out->selection[s];
        }
    }
    if (!ok) {
        lpt_model_outputs_free(out);
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "model: out of memory for %lld images",
                             (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        if (!images[i].pixels || images[i].width < 1 || images[i].height < 1 ||
            (images[i].channels != 1 && images[i].channels != 3)) {
            lpt_model_outputs_free(out);
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "model: image %lld has no pixels, a size below 1 or %d channels "
                                 "(1 or 3 needed)",
                                 (long long)i, images[i].channels);
        }
    pthread_mutex_lock(&m->lock);
    LptStatus st = LPT_OK;
    for (int s = 0; st == LPT_OK && s < E; s++)
        st = run_expert(m, s, images, n, out, err);
    const float *f[LPT_STORE_NUM_EXPERTS], *p[LPT_STORE_NUM_EXPERTS];
    for (int s = 0; s < E; s++) {
        f[s] = out->features[s];
        p[s] = out->probs[s];
    }
    if (st == LPT_OK)
        st = lpt_scorer_fuse(m->scorer, E, K, n, f, p, out->weights, out->fused_raw, err);
    pthread_mutex_unlock(&m->lock);
    if (st != LPT_OK) {
        lpt_model_outputs_free(out);
        return st;
    }
    if (m->prior_adjust)
        lpt_prior_apply(m->prior_adjust, K, n, out->fused_raw, out->fused);
    else
        memcpy(out->fused, out->fused_raw, (size_t)n * K * sizeof(float));
    return LPT_OK;
}

LptStatus lpt_model_input_01(LptModel *m, const LptImage *images, int64_t n, float *out,
                             LptError *err)
{
    if (!m || !m->lock_ok || n < 0 || (n > 0 && (!images || !out)))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "model input: bad arguments");
    LptModelExpert *x = &m->expert[m->which[0]];
    const float zero[3] = {0.0f, 0.0f, 0.0f}, one[3] = {1.0f, 1.0f, 1.0f};
    size_t plane = (size_t)3 * lpt_vit_config(x->vit)->image * lpt_vit_config(x->vit)->image;
    LptStatus st = LPT_OK;
    pthread_mutex_lock(&m->lock);
    for (int64_t o = 0; st == LPT_OK && o < n; o += x->batch) {
        int c = (int)(n - o < x->batch ? n - o : x->batch);
        st = prepare(m, x, images + o, c, zero, one, err);
        LptTensor v = lpt_tensor_view(&x->images, 0, (size_t)c * plane);
        if (st == LPT_OK)
            st = lpt_tensor_download(&v, out + (size_t)o * plane, err);
    }
    pthread_mutex_unlock(&m->lock);
    return st;
}

/* ---- the public API (lpt.h) ------------------------------------------------------------- */

int lpt_model_num_classes(const LptModel *m)
{
    return m ? m->classes : 0;
}

const char *lpt_model_class_name(const LptModel *m, int k)
{
    return m && k >= 0 && k < m->classes ? m->class_names[k] : NULL;
}

int lpt_model_num_experts(const LptModel *m)
{
    return m ? m->experts : 0;
}

const char *lpt_model_expert_name(const LptModel *m, int e)
{
    return m && e >= 0 && e < m->experts ? lpt_store_expert_name(m->which[e]) : NULL;
}

void lpt_model_top_classes(const float *probs, int K, int k, LptModelClassProb *out)
{
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int c = 0; c < K; c++) {
            bool taken = false;
            for (int q = 0; q < j && !taken; q++)
                taken = out[q].class_index == c;
            if (!taken && (best < 0 || probs[c] > probs[best]))
                best = c;
        }
        out[j].class_index = best;
        out[j].prob = probs[best];
    }
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

int64_t lpt_model_group_size(const LptModel *m)
{
    int64_t g = m->scorer ? lpt_scorer_config(m->scorer)->max_batch : 1;
    for (int s = 0; s < m->experts; s++) {
        int64_t b = m->expert[m->which[s]].batch;
        g = g / gcd64(g, b) * b;
        if (g > GROUP_MAX)
            return GROUP_MAX;
    }
    return g < GROUP_MIN ? (GROUP_MIN + g - 1) / g * g : g;
}

void lpt_model_results_free(LptModelResult *results)
{
    free(results);
}

/* The results block for `count` images. */
static LptModelResult *alloc_results(const LptModel *m, int count, int top_k, int prompts)
{
    int K = m->classes, E = m->experts;
    size_t each = (size_t)top_k * sizeof(LptModelClassProb) +
                  ((size_t)K + (size_t)E * K + (size_t)E) * sizeof(float) +
                  (size_t)E * prompts * sizeof(int32_t);
    LptModelResult *r = calloc(1, (size_t)count * (sizeof *r + each));
    if (!r)
        return NULL;
    char *p = (char *)(r + count);
    for (int i = 0; i < count; i++) {
        r[i].num_classes = K;
        r[i].num_experts = E;
        r[i].top_k = top_k;
        r[i].num_prompts = prompts;
        r[i].top = (LptModelClassProb *)p;
        p += (size_t)top_k * sizeof(LptModelClassProb);
        r[i].probs = (float *)p;
        p += (size_t)K * sizeof(float);
        r[i].expert_probs = (float *)p;
        p += (size_t)E * K * sizeof(float);
        r[i].scorer_weights = (float *)p;
        p += (size_t)E * sizeof(float);
        r[i].prompts = prompts > 0 ? (int32_t *)p : NULL;
        p += (size_t)E * prompts * sizeof(int32_t);
    }
    return r;
}

/* Copies the outputs of images [0, n) of a group into results [first, first + n). */
static void fill_results(const LptModel *m, const LptModelOutputs *o, LptModelResult *r, int first)
{
    int K = m->classes, E = m->experts;
    for (int64_t i = 0; i < o->n; i++) {
        LptModelResult *x = &r[first + i];
        lpt_model_top_classes(o->fused + (size_t)i * K, K, x->top_k, (LptModelClassProb *)x->top);
        memcpy((float *)x->probs, o->fused + (size_t)i * K, (size_t)K * sizeof(float));
        for (int s = 0; s < E; s++) {
            memcpy((float *)x->expert_probs + (size_t)s * K, o->probs[s] + (size_t)i * K,
                   (size_t)K * sizeof(float));
            int32_t *pr = (int32_t *)x->prompts;
            for (int j = 0; pr && j < x->num_prompts; j++)
                pr[(size_t)s * x->num_prompts + j] =
                    j < o->selection_k[s] ? o->selection[s][(size_t)i * o->selection_k[s] + j] : -1;
        }
        memcpy((float *)x->scorer_weights, o->weights + (size_t)i * E, (size_t)E * sizeof(float));
    }
}

LptStatus lpt_model_predict(LptModel *m, const LptModelImage *images, int count, int top_k,
                            LptModelResult **results, LptError *err)
{
    if (results)
        *results = NULL;
    if (!m || !results || count < 1 || !images)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "predict: need a model, at least one image and a results pointer");
    int K = m->classes;
    top_k = top_k < 1 ? 1 : top_k > K ? K : top_k;
    int prompts = 0;
    for (int s = 0; s < m->experts; s++) {
        const LptModelExpert *x = &m->expert[m->which[s]];
        int k = x->mode == LPT_VIT_PHASE2 ? lpt_vit_config(x->vit)->pool_top_k : 0;
        prompts = k > prompts ? k : prompts;
    }
    LptModelResult *r = alloc_results(m, count, top_k, prompts);
    int64_t G = lpt_model_group_size(m);
    LptImage *decoded = calloc((size_t)(G < count ? G : count), sizeof *decoded);
    bool *owned = calloc((size_t)(G < count ? G : count), sizeof *owned);
    LptStatus st = r && decoded && owned
                       ? LPT_OK
                       : lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "predict: out of memory");
    for (int64_t first = 0; st == LPT_OK && first < count; first += G) {
        int n = (int)(count - first < G ? count - first : G);
        for (int i = 0; i < n && st == LPT_OK; i++) {
            const LptModelImage *in = &images[first + i];
            char name[64];
            snprintf(name, sizeof name, "image %lld", (long long)(first + i));
            const char *what = in->name ? in->name : name;
            if (in->data) {
                st = lpt_image_decode_memory(in->data, in->size, what, &decoded[i], err);
                owned[i] = st == LPT_OK;
            } else if (in->pixels && in->width >= 1 && in->height >= 1 &&
                       in->width <= LPT_IMAGE_MAX_SIDE && in->height <= LPT_IMAGE_MAX_SIDE &&
                       (in->channels == 1 || in->channels == 3)) {
                decoded[i] = (LptImage){in->width, in->height, in->channels,
                                        (uint8_t *)(uintptr_t)in->pixels};
            } else {
                st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                   "predict: %s has neither encoded data nor pixels of a valid "
                                   "size (%d x %d) with 1 or 3 channels (%d)",
                                   what, in->width, in->height, in->channels);
            }
        }
        LptModelOutputs o;
        if (st == LPT_OK)
            st = lpt_model_run(m, decoded, n, &o, err);
        if (st == LPT_OK) {
            fill_results(m, &o, r, (int)first);
            lpt_model_outputs_free(&o);
        }
        for (int i = 0; i < n; i++) {
            if (owned[i])
                lpt_image_release(&decoded[i]);
            owned[i] = false;
            decoded[i] = (LptImage){0};
        }
    }
    free(decoded);
    free(owned);
    if (st != LPT_OK) {
        free(r);
        return st;
    }
    *results = r;
    return LPT_OK;
}

const char *lpt_model_metadata(const LptModel *m, const char *key)
{
    if (!m || !key)
        return NULL;
    if (strcmp(key, "classes") == 0)
        return m->classes_json;
    if (strcmp(key, "model") == 0)
        return m->model_json;
    if (strcmp(key, "prior") == 0)
        return m->prior_json;
    if (strcmp(key, "run_config") == 0)
        return m->run_config_json;
    if (strcmp(key, "lineage") == 0)
        return m->lineage_json;
    if (strcmp(key, "format_version") == 0)
        return m->format_version[0] ? m->format_version : NULL;
    return NULL;
}

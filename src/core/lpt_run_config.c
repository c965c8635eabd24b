/* lpt_run_config.c: the run configuration's defaults, checks and JSON form, driven by one
 * table of fields (section, key, type, where in the struct, range) so that parsing, writing
 * and range checks cannot drift apart. See lpt_run_config.h. */
#include "lpt_run_config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum FieldType {
    F_INT,
    F_INT64,
    F_DOUBLE,
    F_FLOAT,
    F_BOOL,
    F_SAMPLING,
    F_LOSS,
    F_HEAD_INIT
} FieldType;

typedef struct Field {
    const char *section;
    const char *key;
    FieldType type;
    size_t offset;
    double min, max; /* inclusive range of numbers */
} Field;

#define FLD(sec, key, type, member, lo, hi)                                                        \
    {                                                                                              \
        sec, key, type, offsetof(LptRunConfig, member), lo, hi                                     \
    }
#define BIG 1e15

static const Field fields[] = {
    FLD("experts", "vision", F_BOOL, use_vision, 0, 1),
    FLD("experts", "vl", F_BOOL, use_vl, 0, 1),
    FLD("model", "prompts", F_INT, prompts, 0, 1024),
    FLD("model", "adapters", F_BOOL, adapters, 0, 1),
    FLD("model", "adapter_rank", F_INT, adapter_rank, 0, 4096),
    FLD("model", "adapter_scale", F_FLOAT, adapter_scale, -BIG, BIG),
    FLD("model", "pool_size", F_INT, pool_size, 0, 4096),
    FLD("model", "pool_top_k", F_INT, pool_top_k, 1, 32),
    FLD("model", "vl_head_init", F_HEAD_INIT, vl_head_init, 0, 0),
    FLD("train", "batch_size", F_INT, batch_size, 4, 65536),
    FLD("train", "micro_batch", F_INT, micro_batch, 0, 65536),
    FLD("train", "activation_memory_mb", F_DOUBLE, activation_memory_mb, 1, BIG),
    FLD("train", "lr", F_DOUBLE, lr, 0, BIG),
    FLD("train", "lr_reference_batch", F_INT, lr_reference_batch, 1, 65536),
    FLD("train", "momentum", F_DOUBLE, momentum, 0, 1),
    FLD("train", "weight_decay", F_DOUBLE, weight_decay, 0, BIG),
    FLD("train", "warmup_epochs", F_INT, warmup_epochs, 0, 100000),
    FLD("train", "warmup_lr", F_DOUBLE, warmup_lr, 0, BIG),
    FLD("train", "phase1_epochs", F_INT, phase1_epochs, 0, 100000),
    FLD("train", "phase2_epochs", F_INT, phase2_epochs, 0, 100000),
    FLD("train", "lambda_max", F_DOUBLE, lambda_max, 0, BIG),
    FLD("train", "key_loss_weight", F_DOUBLE, key_loss_weight, 0, BIG),
    FLD("train", "feature_dropout", F_FLOAT, feature_dropout, 0, 0.95),
    FLD("loss", "scale", F_FLOAT, loss_scale, 1e-6, 1e6),
    FLD("loss", "margin", F_FLOAT, loss_margin, -10, 10),
    FLD("loss", "noise", F_FLOAT, loss_noise, 0, 10),
    FLD("loss", "smoothing", F_FLOAT, loss_smoothing, 0, 1),
    FLD("loss", "cb_gamma_pos", F_FLOAT, cb_gamma_pos, 0, 100),
    FLD("loss", "cb_gamma_neg", F_FLOAT, cb_gamma_neg, 0, 100),
    FLD("loss", "ib_gamma_pos", F_FLOAT, ib_gamma_pos, 0, 100),
    FLD("loss", "ib_gamma_neg", F_FLOAT, ib_gamma_neg, 0, 100),
    FLD("augment", "scale_min", F_DOUBLE, augment.scale_min, 1e-9, 1),
    FLD("augment", "scale_max", F_DOUBLE, augment.scale_max, 1e-9, 1),
    FLD("augment", "ratio_min", F_DOUBLE, augment.ratio_min, 1e-9, BIG),
    FLD("augment", "ratio_max", F_DOUBLE, augment.ratio_max, 1e-9, BIG),
    FLD("augment", "flip_p", F_DOUBLE, augment.flip_p, 0, 1),
    FLD("scorer", "hidden", F_INT, scorer_hidden, 1, 65536),
    FLD("scorer", "lr", F_DOUBLE, scorer_lr, 0, BIG),
    FLD("scorer", "weight_decay", F_DOUBLE, scorer_weight_decay, 0, BIG),
    FLD("scorer", "beta1", F_DOUBLE, scorer_beta1, 0, 0.999999),
    FLD("scorer", "beta2", F_DOUBLE, scorer_beta2, 0, 0.999999999),
    FLD("scorer", "eps", F_DOUBLE, scorer_eps, 1e-30, 1),
    FLD("scorer", "epochs", F_INT, scorer_epochs, 0, 100000),
    FLD("scorer", "batch_size", F_INT, scorer_batch_size, 4, 65536),
    FLD("scorer", "views", F_INT, scorer_views, 1, 1000),
    FLD("scorer", "patience", F_INT, scorer_patience, 0, 100000),
    FLD("scorer", "sampling", F_SAMPLING, scorer_sampling, 0, 0),
    FLD("scorer", "loss", F_LOSS, scorer_loss, 0, 0),
    FLD("scorer", "input_feature", F_BOOL, input_feature, 0, 1),
    FLD("scorer", "input_max", F_BOOL, input_max, 0, 1),
    FLD("scorer", "input_entropy", F_BOOL, input_entropy, 0, 1),
    FLD("scorer", "input_margin", F_BOOL, input_margin, 0, 1),
    FLD("eval", "many_above", F_INT64, many_above, 0, BIG),
    FLD("eval", "few_below", F_INT64, few_below, 0, BIG),
    FLD("eval", "ece_bins", F_INT, ece_bins, 1, 10000),
    FLD("eval", "top_k", F_INT, top_k, 1, 1000),
    FLD("eval", "batch_size", F_INT, eval_batch_size, 1, 65536),
    FLD("loader", "workers", F_INT, loader_workers, 0, 64),
    FLD("loader", "prefetch", F_INT, loader_prefetch, 1, 64),
    FLD("loader", "cache_mb", F_DOUBLE, loader_cache_mb, 0, BIG),
};
#define NUM_FIELDS (sizeof fields / sizeof fields[0])

static const char *const method_names[] = {"lpt++", "lpt", "linear_probe", "full_finetune"};
static const char *const sampling_names[] = {"class_balanced", "instance"};
static const char *const loss_names[] = {"nll", "agcl"};
static const char *const head_init_names[] = {"text", "random"};

const char *lpt_method_name(LptMethod method)
{
    return (unsigned)method < 4 ? method_names[method] : "?";
}

/* The index of `text` in names[n], or -1. */
static int name_index(const char *const *names, int n, const char *text)
{
    for (int i = 0; text && i < n; i++)
        if (strcmp(names[i], text) == 0)
            return i;
    return -1;
}

bool lpt_method_parse(const char *text, LptMethod *method)
{
    int i = name_index(method_names, 4, text);
    if (i < 0)
        return false;
    *method = (LptMethod)i;
    return true;
}

void lpt_run_config_init(LptRunConfig *cfg, LptMethod method)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->method = method;
    cfg->use_vision = true;
    cfg->use_vl = method == LPT_METHOD_LPTPP;
    cfg->prompts = 10;
    cfg->adapters = method == LPT_METHOD_LPTPP;
    cfg->adapter_scale = 1.0f;
    cfg->pool_size = 20;
    cfg->pool_top_k = 2;
    cfg->batch_size = 256;
    cfg->activation_memory_mb = 2048;
    cfg->lr = 0.02;
    cfg->lr_reference_batch = 256;
    cfg->momentum = 0.9;
    cfg->weight_decay = 0.01;
    cfg->warmup_epochs = 1;
    cfg->warmup_lr = 1e-6;
    cfg->phase1_epochs = 10;
    cfg->phase2_epochs = method == LPT_METHOD_LPTPP || method == LPT_METHOD_LPT ? 10 : 0;
    cfg->lambda_max = 0.5;
    cfg->key_loss_weight = 1.0;
    cfg->feature_dropout = 0.1f;
    cfg->loss_scale = 20.0f;
    cfg->loss_margin = 0.1f;
    cfg->loss_noise = 0.5f;
    cfg->loss_smoothing = 0.1f;
    cfg->cb_gamma_pos = 0.0f;
    cfg->cb_gamma_neg = 4.0f;
    cfg->ib_gamma_pos = 0.5f;
    cfg->ib_gamma_neg = 8.0f;
    lpt_augment_params_init(&cfg->augment);
    cfg->scorer_hidden = 256;
    cfg->scorer_lr = 1e-3;
    cfg->scorer_weight_decay = 1e-4;
    cfg->scorer_beta1 = 0.9;
    cfg->scorer_beta2 = 0.999;
    cfg->scorer_eps = 1e-8;
    cfg->scorer_epochs = method == LPT_METHOD_LPTPP ? 10 : 0;
    cfg->scorer_batch_size = 256;
    cfg->scorer_views = 2;
    cfg->scorer_patience = 3;
    cfg->scorer_sampling = LPT_SCORER_CLASS_BALANCED;
    cfg->scorer_loss = LPT_SCORER_NLL;
    cfg->input_feature = cfg->input_max = cfg->input_entropy = cfg->input_margin = true;
    cfg->many_above = 100;
    cfg->few_below = 20;
    cfg->ece_bins = 15;
    cfg->top_k = 5;
    cfg->eval_batch_size = 64;
    cfg->loader_prefetch = 2;
    cfg->loader_cache_mb = 256;
    if (method == LPT_METHOD_LINEAR_PROBE || method == LPT_METHOD_FULL_FINETUNE) {
        /* plain cross entropy on the scaled cosines: no noise, margin, smoothing or focusing */
        cfg->loss_margin = cfg->loss_noise = cfg->loss_smoothing = 0.0f;
        cfg->cb_gamma_neg = cfg->ib_gamma_pos = cfg->ib_gamma_neg = 0.0f;
        cfg->lambda_max = 1.0;
        cfg->feature_dropout = 0.0f;
    }
}

/* "section.key" into buf. */
static const char *field_path(const Field *f, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s", f->section, f->key);
    return buf;
}

/* The shortest decimal that reads back as the float v (so 0.1f is written 0.1, not
 * 0.10000000149011612), as a double. */
static double float_decimal(float v)
{
    char buf[32];
    for (int digits = 6; digits < 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if ((float)strtod(buf, NULL) == v)
            return strtod(buf, NULL);
    }
    return (double)v;
}

static double field_number(const LptRunConfig *cfg, const Field *f)
{
    const char *p = (const char *)cfg + f->offset;
    switch (f->type) {
    case F_INT:
        return *(const int *)p;
    case F_INT64:
        return (double)*(const int64_t *)p;
    case F_DOUBLE:
        return *(const double *)p;
    case F_FLOAT:
        return *(const float *)p;
    default:
        return 0.0;
    }
}

LptStatus lpt_run_config_check(const LptRunConfig *cfg, LptError *err)
{
    if (!cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "run config: NULL");
    char path[64];
    if ((unsigned)cfg->method > LPT_METHOD_FULL_FINETUNE)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "run config: unknown method %d",
                             (int)cfg->method);
    for (size_t i = 0; i < NUM_FIELDS; i++) {
        const Field *f = &fields[i];
        if (f->type == F_BOOL || f->type == F_SAMPLING || f->type == F_LOSS ||
            f->type == F_HEAD_INIT)
            continue;
        double v = field_number(cfg, f);
        if (!(v >= f->min && v <= f->max))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "run config: %s = %g is outside [%g, %g]",
                                 field_path(f, path, sizeof path), v, f->min, f->max);
    }
    const char *bad = NULL;
    if ((unsigned)cfg->scorer_sampling > LPT_SCORER_INSTANCE)
        bad = "scorer.sampling is not a known sampling";
    else if ((unsigned)cfg->scorer_loss > LPT_SCORER_AGCL)
        bad = "scorer.loss is not a known loss";
    else if ((unsigned)cfg->vl_head_init > LPT_HEAD_INIT_RANDOM)
        bad = "model.vl_head_init is not a known head init";
    else if (!cfg->use_vision && !cfg->use_vl)
        bad = "experts: at least one of vision and vl must be on";
    else if (cfg->batch_size % 4 != 0)
        bad = "train.batch_size must be a multiple of 4 (class-balanced batches take 4 per class)";
    else if (cfg->scorer_batch_size % 4 != 0)
        bad = "scorer.batch_size must be a multiple of 4";
    else if (cfg->micro_batch > cfg->batch_size)
        bad = "train.micro_batch must not exceed train.batch_size";
    else if (cfg->augment.scale_min > cfg->augment.scale_max)
        bad = "augment.scale_min must not exceed augment.scale_max";
    else if (cfg->augment.ratio_min > cfg->augment.ratio_max)
        bad = "augment.ratio_min must not exceed augment.ratio_max";
    else if (cfg->few_below > cfg->many_above + 1)
        bad = "eval.few_below must be at most eval.many_above + 1";
    else if (cfg->pool_size > 0 && cfg->pool_top_k > cfg->pool_size)
        bad = "model.pool_top_k must not exceed model.pool_size";
    else if (cfg->phase2_epochs > 0 && (cfg->pool_size == 0 || cfg->prompts == 0))
        bad = "phase 2 needs model.pool_size > 0 and model.prompts > 0";
    else if (cfg->method == LPT_METHOD_LINEAR_PROBE || cfg->method == LPT_METHOD_FULL_FINETUNE) {
        if (cfg->use_vl || !cfg->use_vision)
            bad = "the baselines train the vision expert alone (experts.vl must be false)";
        else if (cfg->phase2_epochs > 0 || cfg->scorer_epochs > 0)
            bad = "the baselines have one phase: train.phase2_epochs and scorer.epochs must be 0";
    } else if (cfg->method == LPT_METHOD_LPT && cfg->use_vl) {
        bad = "method lpt is the single vision expert (experts.vl must be false)";
    }
    if (bad)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "run config: %s", bad);
    if (!(cfg->seed <= (1ull << 53)))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "run config: seed must be at most 2^53 (a JSON number)");
    return LPT_OK;
}

/* Reads one JSON value into the field of *cfg. */
static LptStatus read_field(LptRunConfig *cfg, const Field *f, const cJSON *v, const char *source,
                            LptError *err)
{
    char path[64];
    field_path(f, path, sizeof path);
    char *p = (char *)cfg + f->offset;
    if (f->type == F_BOOL) {
        if (!cJSON_IsBool(v))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %s must be true or false",
                                 source, path);
        *(bool *)p = cJSON_IsTrue(v);
        return LPT_OK;
    }
    if (f->type == F_SAMPLING || f->type == F_LOSS || f->type == F_HEAD_INIT) {
        const char *const *names = f->type == F_SAMPLING ? sampling_names
                                   : f->type == F_LOSS   ? loss_names
                                                         : head_init_names;
        int i = cJSON_IsString(v) ? name_index(names, 2, v->valuestring) : -1;
        if (i < 0)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: %s must be \"%s\" or \"%s\"", source, path, names[0],
                                 names[1]);
        if (f->type == F_SAMPLING)
            *(LptScorerSampling *)p = (LptScorerSampling)i;
        else if (f->type == F_LOSS)
            *(LptScorerLoss *)p = (LptScorerLoss)i;
        else
            *(LptHeadInit *)p = (LptHeadInit)i;
        return LPT_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %s must be a number", source,
                             path);
    double d = v->valuedouble;
    if ((f->type == F_INT || f->type == F_INT64) && d != floor(d))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %s must be a whole number",
                             source, path);
    if (!(d >= f->min && d <= f->max))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %s = %g is outside [%g, %g]",
                             source, path, d, f->min, f->max);
    switch (f->type) {
    case F_INT:
        *(int *)p = (int)d;
        break;
    case F_INT64:
        *(int64_t *)p = (int64_t)d;
        break;
    case F_DOUBLE:
        *(double *)p = d;
        break;
    default:
        *(float *)p = (float)d;
        break;
    }
    return LPT_OK;
}

/* The field of `section`.`key`, or NULL. */
static const Field *find_field(const char *section, const char *key)
{
    for (size_t i = 0; i < NUM_FIELDS; i++)
        if (strcmp(fields[i].section, section) == 0 && strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

static bool known_section(const char *name)
{
    for (size_t i = 0; i < NUM_FIELDS; i++)
        if (strcmp(fields[i].section, name) == 0)
            return true;
    return false;
}

/* Reads the parsed object onto *out (a copy of the base), checking every key. */
static LptStatus read_object(LptRunConfig *out, const cJSON *root, const char *src, LptError *err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "method");
    if (m) {
        LptMethod method;
        if (!cJSON_IsString(m) || !lpt_method_parse(m->valuestring, &method))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: method must be \"lpt++\", \"lpt\", \"linear_probe\" or "
                                 "\"full_finetune\"",
                                 src);
        if (method != out->method) { /* that method's defaults, keeping the seed */
            uint64_t seed = out->seed;
            lpt_run_config_init(out, method);
            out->seed = seed;
        }
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *name = item->string;
        if (strcmp(name, "method") == 0)
            continue;
        if (strcmp(name, "seed") == 0) {
            double d = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
            if (!(d >= 0.0 && d <= 9007199254740992.0) || d != floor(d))
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "%s: seed must be a whole number in [0, 2^53]", src);
            out->seed = (uint64_t)d;
            continue;
        }
        if (!known_section(name))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: unknown key '%s'", src,
                                 name);
        if (!cJSON_IsObject(item))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: '%s' must be an object",
                                 src, name);
        const cJSON *v;
        cJSON_ArrayForEach(v, item)
        {
            const Field *f = find_field(name, v->string);
            if (!f)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: unknown key '%s.%s'",
                                     src, name, v->string);
            LptStatus st = read_field(out, f, v, src, err);
            if (st != LPT_OK)
                return st;
        }
    }
    return LPT_OK;
}

LptStatus lpt_run_config_parse(LptRunConfig *cfg, const char *json, const char *source,
                               LptError *err)
{
    const char *src = source ? source : "run config";
    if (!cfg || !json)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: NULL argument", src);
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: not valid JSON (near '%.20s')", src,
                             cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    LptStatus st;
    LptRunConfig out = *cfg;
    if (!cJSON_IsObject(root))
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: the config must be a JSON object", src);
    else
        st = read_object(&out, root, src, err);
    cJSON_Delete(root);
    if (st == LPT_OK && (st = lpt_run_config_check(&out, err)) != LPT_OK)
        lpt_error_prefix(err, "%s", src);
    if (st == LPT_OK)
        *cfg = out;
    return st;
}

char *lpt_run_config_to_json(const LptRunConfig *cfg)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    bool ok = cJSON_AddNumberToObject(root, "seed", (double)cfg->seed) &&
              cJSON_AddStringToObject(root, "method", lpt_method_name(cfg->method));
    cJSON *section = NULL;
    for (size_t i = 0; i < NUM_FIELDS && ok; i++) {
        const Field *f = &fields[i];
        if (i == 0 || strcmp(f->section, fields[i - 1].section) != 0)
            ok = (section = cJSON_AddObjectToObject(root, f->section)) != NULL;
        if (!ok)
            break;
        const char *p = (const char *)cfg + f->offset;
        if (f->type == F_BOOL)
            ok = cJSON_AddBoolToObject(section, f->key, *(const bool *)p) != NULL;
        else if (f->type == F_SAMPLING)
            ok = cJSON_AddStringToObject(section, f->key,
                                         sampling_names[*(const LptScorerSampling *)p & 1]) != NULL;
        else if (f->type == F_LOSS)
            ok = cJSON_AddStringToObject(section, f->key,
                                         loss_names[*(const LptScorerLoss *)p & 1]) != NULL;
        else if (f->type == F_HEAD_INIT)
            ok = cJSON_AddStringToObject(section, f->key,
                                         head_init_names[*(const LptHeadInit *)p & 1]) != NULL;
        else if (f->type == F_FLOAT)
            ok = cJSON_AddNumberToObject(section, f->key, float_decimal(*(const float *)p)) != NULL;
        else
            ok = cJSON_AddNumberToObject(section, f->key, field_number(cfg, f)) != NULL;
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

int lpt_run_config_adapter_rank(const LptRunConfig *cfg, int num_classes)
{
    if (!cfg->adapters)
        return 0;
    if (cfg->adapter_rank > 0)
        return cfg->adapter_rank;
    int r = 1;
    if (num_classes >= 48) /* 2^floor(log2(K / 24)) for K / 24 >= 2 */
        r = 1 << (int)floor(log2((double)num_classes / 24.0));
    return r < 4 ? 4 : r > 64 ? 64 : r;
}

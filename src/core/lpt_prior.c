/* lpt_prior.c: the deployment prior: its text forms, pi_train and the logit adjustment. See
 * lpt_prior.h. */
#include "lpt_prior.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (16 << 20)

LptTrainPrior lpt_prior_train_kind(LptMethod method)
{
    return method == LPT_METHOD_LINEAR_PROBE || method == LPT_METHOD_FULL_FINETUNE
               ? LPT_TRAIN_PRIOR_TRAIN_COUNTS
               : LPT_TRAIN_PRIOR_UNIFORM;
}

const char *lpt_prior_train_kind_name(LptTrainPrior kind)
{
    return kind == LPT_TRAIN_PRIOR_TRAIN_COUNTS ? "training counts" : "uniform";
}

void lpt_prior_free(LptPrior *prior)
{
    if (!prior)
        return;
    free(prior->expected);
    free(prior->train);
    free(prior->adjust);
    free(prior);
}

/* The whole file (NUL-terminated, malloc'd) or NULL with the error set. */
static char *read_file(const char *path, LptError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lpt_error_set(err, LPT_ERR_IO, errno, "prior file '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (!buf || bad || n > MAX_FILE_BYTES) {
        lpt_error_set(err, !buf ? LPT_ERR_OUT_OF_MEMORY : LPT_ERR_IO, 0, "prior file '%s': %s",
                      path,
                      !buf  ? "out of memory"
                      : bad ? "cannot be read"
                            : "larger than 16 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Values being collected: value[k] (NAN = not given) and the "*" default. */
typedef struct Collect {
    const char *source;
    const char *const *names;
    int K;
    double *value;
    double rest; /* NAN = no "*" */
} Collect;

static LptStatus give(Collect *c, const char *name, double v, LptError *err)
{
    if (!isfinite(v) || v <= 0.0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "prior (%s): the frequency of '%s' is %g; frequencies must be "
                             "positive numbers (give a small one for a class that is rare)",
                             c->source, name, v);
    if (strcmp(name, "*") == 0) {
        if (!isnan(c->rest))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "prior (%s): '*' given twice",
                                 c->source);
        c->rest = v;
        return LPT_OK;
    }
    for (int k = 0; k < c->K; k++) {
        if (strcmp(c->names[k], name) != 0)
            continue;
        if (!isnan(c->value[k]))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "prior (%s): class '%s' is given twice", c->source, name);
        c->value[k] = v;
        return LPT_OK;
    }
    return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                         "prior (%s): the model has no class '%s' (its classes: %s%s%s%s)",
                         c->source, name, c->names[0], c->K > 1 ? ", " : "",
                         c->K > 1 ? c->names[1] : "", c->K > 2 ? ", ..." : "");
}

/* Cuts surrounding white space off [s, e) in place; returns the start. */
static char *trim(char *s, char *e)
{
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    *e = '\0';
    return s;
}

/* "name=value" items separated by commas or new lines; '#' comments when `comments`. */
static LptStatus parse_pairs(Collect *c, char *text, bool comments, LptError *err)
{
    char *p = text;
    while (*p) {
        char *end = p;
        while (*end && *end != ',' && *end != '\n' && !(comments && *end == '#'))
            end++;
        char stop = *end;
        char *next = end + (stop ? 1 : 0);
        if (stop == '#') { /* skip the comment to the end of the line */
            while (*next && *next != '\n')
                next++;
        }
        char *item = trim(p, end);
        if (*item) {
            char *eq = strrchr(item, '=');
            if (!eq)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "prior (%s): '%s' is not name=frequency", c->source, item);
            char *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
            char *name = trim(item, eq);
            char *vend;
            double v = strtod(value, &vend);
            if (!*name || vend == value || *vend)
                return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                     "prior (%s): '%s=%s' is not name=frequency", c->source, name,
                                     value);
            if (give(c, name, v, err) != LPT_OK)
                return err ? err->code : LPT_ERR_INVALID_ARGUMENT;
        }
        p = next;
    }
    return LPT_OK;
}

static LptStatus parse_json(Collect *c, const char *text, LptError *err)
{
    cJSON *root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "prior (%s): not a JSON object of class names and frequencies",
                             c->source);
    }
    LptStatus st = LPT_OK;
    for (const cJSON *it = root->child; st == LPT_OK && it; it = it->next) {
        if (!cJSON_IsNumber(it))
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "prior (%s): the frequency of '%s' is not a number", c->source,
                               it->string);
        else
            st = give(c, it->string, it->valuedouble, err);
    }
    cJSON_Delete(root);
    return st;
}

LptPrior *lpt_prior_new(const char *spec, const char *const *class_names, int classes,
                        LptMethod method, const int64_t *train_counts, LptError *err)
{
    if (!spec || !class_names || classes < 1 || !train_counts) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "prior: no spec, classes or counts");
        return NULL;
    }
    int K = classes;
    LptPrior *pr = calloc(1, sizeof *pr);
    double *value = malloc((size_t)K * sizeof *value);
    char *text = NULL;
    LptStatus st = LPT_OK;
    if (!pr || !value || !(pr->expected = malloc((size_t)K * sizeof *pr->expected)) ||
        !(pr->train = malloc((size_t)K * sizeof *pr->train)) ||
        !(pr->adjust = malloc((size_t)K * sizeof *pr->adjust)))
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "prior: out of memory");
    Collect c = {"--prior", class_names, K, value, NAN};
    if (st == LPT_OK) {
        for (int k = 0; k < K; k++)
            value[k] = NAN;
        bool file = spec[0] == '@';
        text = file ? read_file(spec + 1, err) : strdup(spec);
        if (!text)
            st = err ? err->code : LPT_ERR_OUT_OF_MEMORY;
        if (file)
            c.source = spec + 1;
    }
    if (st == LPT_OK) {
        const char *first = text;
        while (isspace((unsigned char)*first))
            first++;
        st = *first == '{' ? parse_json(&c, text, err) : parse_pairs(&c, text, spec[0] == '@', err);
    }
    double sum = 0.0;
    for (int k = 0; st == LPT_OK && k < K; k++) {
        if (isnan(value[k]))
            value[k] = c.rest;
        if (isnan(value[k]))
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "prior (%s): no frequency for class '%s' (name every class, or "
                               "give the rest with *=value)",
                               c.source, class_names[k]);
        else
            sum += value[k];
    }
    if (st == LPT_OK) {
        pr->classes = K;
        pr->train_kind = lpt_prior_train_kind(method);
        double tsum = 0.0;
        for (int k = 0; k < K; k++)
            tsum += pr->train_kind == LPT_TRAIN_PRIOR_UNIFORM
                        ? 1.0
                        : (double)(train_counts[k] > 0 ? train_counts[k] : 1);
        for (int k = 0; k < K; k++) {
            pr->expected[k] = value[k] / sum;
            double t = pr->train_kind == LPT_TRAIN_PRIOR_UNIFORM
                           ? 1.0
                           : (double)(train_counts[k] > 0 ? train_counts[k] : 1);
            pr->train[k] = t / tsum;
            pr->adjust[k] = (float)(log(pr->expected[k]) - log(pr->train[k]));
        }
    }
    free(value);
    free(text);
    if (st != LPT_OK) {
        lpt_prior_free(pr);
        return NULL;
    }
    return pr;
}

void lpt_prior_apply(const float *adjust, int classes, int64_t n, const float *probs, float *out)
{
    int K = classes;
    float amax = adjust[0];
    for (int k = 1; k < K; k++)
        amax = adjust[k] > amax ? adjust[k] : amax;
    for (int64_t i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * K;
        float *o = out + (size_t)i * K;
        double sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += (double)p[k] * exp((double)adjust[k] - amax);
        if (!(sum > 0.0)) {
            if (o != p)
                memcpy(o, p, (size_t)K * sizeof *o);
            continue;
        }
        for (int k = 0; k < K; k++)
            o[k] = (float)((double)p[k] * exp((double)adjust[k] - amax) / sum);
    }
}

char *lpt_prior_to_json(const LptPrior *prior, const char *const *class_names)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *expected = cJSON_AddObjectToObject(root, "expected");
    cJSON_AddStringToObject(root, "train_prior", lpt_prior_train_kind_name(prior->train_kind));
    cJSON *train = cJSON_AddObjectToObject(root, "train");
    cJSON *adjust = cJSON_AddObjectToObject(root, "adjust");
    for (int k = 0; expected && train && adjust && k < prior->classes; k++) {
        cJSON_AddNumberToObject(expected, class_names[k], prior->expected[k]);
        cJSON_AddNumberToObject(train, class_names[k], prior->train[k]);
        cJSON_AddNumberToObject(adjust, class_names[k], prior->adjust[k]);
    }
    cJSON_AddStringToObject(root, "formula",
                            "p'_k = p_k exp(a_k) / sum_j p_j exp(a_j), "
                            "a_k = log expected_k - log train_k");
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

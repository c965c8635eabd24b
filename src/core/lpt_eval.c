/* lpt_eval.c: confusion matrix, per-class and group metrics, calibration. See lpt_eval.h. */
#include "lpt_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct LptEval {
    int K, bins;
    int64_t *confusion;    /* [K * K] */
    LptEvalClass *classes; /* [K] */
    int64_t *bin_count;    /* [bins] */
    double *bin_conf;      /* [bins] summed top confidence */
    int64_t *bin_correct;  /* [bins] */
    LptEvalMetrics m;
};

LptEval *lpt_eval_new(int num_classes, const int64_t *train_counts,
                      const LptGroupThresholds *thresholds, int ece_bins, LptError *err)
{
    if (num_classes < 1 || !train_counts || ece_bins < 1) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                      "eval: need K >= 1 classes, their training counts and >= 1 ECE bin");
        return NULL;
    }
    LptEval *ev = calloc(1, sizeof *ev);
    LptGroup *groups = malloc((size_t)num_classes * sizeof *groups);
    if (ev) {
        ev->K = num_classes;
        ev->bins = ece_bins;
        ev->confusion = calloc((size_t)num_classes * (size_t)num_classes, sizeof *ev->confusion);
        ev->classes = calloc((size_t)num_classes, sizeof *ev->classes);
        ev->bin_count = calloc((size_t)ece_bins, sizeof *ev->bin_count);
        ev->bin_conf = calloc((size_t)ece_bins, sizeof *ev->bin_conf);
        ev->bin_correct = calloc((size_t)ece_bins, sizeof *ev->bin_correct);
    }
    if (!ev || !groups || !ev->confusion || !ev->classes || !ev->bin_count || !ev->bin_conf ||
        !ev->bin_correct) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "eval: out of memory for %d classes",
                      num_classes);
        free(groups);
        lpt_eval_free(ev);
        return NULL;
    }
    if (lpt_split_groups(train_counts, num_classes, thresholds, groups, NULL, err) != LPT_OK) {
        free(groups);
        lpt_eval_free(ev);
        return NULL;
    }
    for (int c = 0; c < num_classes; c++) {
        ev->classes[c].train_count = train_counts[c];
        ev->classes[c].group = groups[c];
    }
    free(groups);
    ev->m.num_classes = num_classes;
    ev->m.classes = ev->classes;
    ev->m.confusion = ev->confusion;
    return ev;
}

void lpt_eval_free(LptEval *ev)
{
    if (!ev)
        return;
    free(ev->confusion);
    free(ev->classes);
    free(ev->bin_count);
    free(ev->bin_conf);
    free(ev->bin_correct);
    free(ev);
}

void lpt_eval_reset(LptEval *ev)
{
    size_t K = (size_t)ev->K;
    memset(ev->confusion, 0, K * K * sizeof *ev->confusion);
    memset(ev->bin_count, 0, (size_t)ev->bins * sizeof *ev->bin_count);
    memset(ev->bin_conf, 0, (size_t)ev->bins * sizeof *ev->bin_conf);
    memset(ev->bin_correct, 0, (size_t)ev->bins * sizeof *ev->bin_correct);
}

int lpt_eval_argmax(const float *probs, int num_classes)
{
    int best = 0;
    for (int k = 1; k < num_classes; k++)
        if (probs[k] > probs[best])
            best = k;
    return best;
}

LptStatus lpt_eval_add(LptEval *ev, int label, const float *probs, LptError *err)
{
    if (!ev || !probs)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "eval: NULL argument");
    if (label < 0 || label >= ev->K)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "eval: label %d outside [0, %d)",
                             label, ev->K);
    for (int k = 0; k < ev->K; k++)
        if (isnan(probs[k]))
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "eval: confidence of class %d is NaN", k);
    int pred = lpt_eval_argmax(probs, ev->K);
    ev->confusion[(size_t)label * ev->K + pred]++;
    double conf = probs[pred];
    int bin = (int)(conf * ev->bins);
    bin = bin < 0 ? 0 : bin >= ev->bins ? ev->bins - 1 : bin;
    ev->bin_count[bin]++;
    ev->bin_conf[bin] += conf;
    ev->bin_correct[bin] += pred == label;
    return LPT_OK;
}

/* Mean of the recalls of the classes with support (in `group`, or all when group < 0). */
static double mean_recall(const LptEval *ev, int group, int64_t *classes)
{
    double sum = 0.0;
    int64_t n = 0;
    for (int c = 0; c < ev->K; c++) {
        const LptEvalClass *k = &ev->classes[c];
        if (k->support > 0 && (group < 0 || (int)k->group == group)) {
            sum += k->recall;
            n++;
        }
    }
    if (classes)
        *classes = n;
    return n > 0 ? sum / (double)n : NAN;
}

const LptEvalMetrics *lpt_eval_metrics(LptEval *ev)
{
    int K = ev->K;
    LptEvalMetrics *m = &ev->m;
    m->images = m->correct = 0;
    for (int c = 0; c < K; c++) {
        LptEvalClass *k = &ev->classes[c];
        k->support = k->predicted = 0;
        k->correct = ev->confusion[(size_t)c * K + c];
        for (int j = 0; j < K; j++) {
            k->support += ev->confusion[(size_t)c * K + j];
            k->predicted += ev->confusion[(size_t)j * K + c];
        }
        k->recall = k->support > 0 ? (double)k->correct / (double)k->support : NAN;
        k->precision = k->predicted > 0 ? (double)k->correct / (double)k->predicted : 0.0;
        double r = k->support > 0 ? k->recall : 0.0;
        k->f1 = k->precision + r > 0.0 ? 2.0 * k->precision * r / (k->precision + r) : 0.0;
        m->images += k->support;
        m->correct += k->correct;
    }
    m->overall = m->images > 0 ? (double)m->correct / (double)m->images : NAN;
    m->balanced = mean_recall(ev, -1, NULL);
    m->many = mean_recall(ev, LPT_GROUP_MANY, &m->group_classes[LPT_GROUP_MANY]);
    m->medium = mean_recall(ev, LPT_GROUP_MEDIUM, &m->group_classes[LPT_GROUP_MEDIUM]);
    m->few = mean_recall(ev, LPT_GROUP_FEW, &m->group_classes[LPT_GROUP_FEW]);
    m->worst_class = -1;
    m->worst_recall = NAN;
    double f1 = 0.0;
    int with_support = 0;
    for (int c = 0; c < K; c++) {
        const LptEvalClass *k = &ev->classes[c];
        if (k->support == 0)
            continue;
        f1 += k->f1;
        with_support++;
        if (m->worst_class < 0 || k->recall < m->worst_recall) {
            m->worst_class = c;
            m->worst_recall = k->recall;
        }
    }
    m->macro_f1 = with_support > 0 ? f1 / with_support : NAN;
    double ece = 0.0;
    for (int b = 0; b < ev->bins; b++) {
        if (ev->bin_count[b] == 0)
            continue;
        double n = (double)ev->bin_count[b];
        ece += n * fabs((double)ev->bin_correct[b] / n - ev->bin_conf[b] / n);
    }
    m->ece = m->images > 0 ? ece / (double)m->images : NAN;
    return m;
}

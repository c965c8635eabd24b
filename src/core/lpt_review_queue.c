/* lpt_review_queue.c: the review queues (see the header). */
#include "lpt_review_queue.h"

#include <math.h>
#include <stdlib.h>

const char *lpt_review_queue_name(LptReviewQueueKind kind)
{
    static const char *const names[LPT_REVIEW_QUEUE_KINDS] = {"misclassified", "tail_misclassified",
                                                              "experts_disagree", "low_confidence",
                                                              "label_errors"};
    return (int)kind >= 0 && kind < LPT_REVIEW_QUEUE_KINDS ? names[kind] : "?";
}

bool lpt_review_queue_accepts(const LptReviewSamples *s, const LptReviewSample *x,
                              LptReviewQueueKind kind, double *score)
{
    const int F = LPT_STORE_EXPERT_FUSED, V = LPT_STORE_EXPERT_VISION, L = LPT_STORE_EXPERT_VL;
    double p = x->prob[F];
    bool wrong = x->top[F] != x->current;
    switch (kind) {
    case LPT_REVIEW_QUEUE_MISCLASSIFIED:
        *score = p;
        return wrong;
    case LPT_REVIEW_QUEUE_TAIL_MISCLASSIFIED:
        *score = p;
        return wrong && x->current >= 0 && s->groups[x->current] == LPT_GROUP_FEW;
    case LPT_REVIEW_QUEUE_EXPERTS_DISAGREE:
        *score = fmin(x->prob[V], x->prob[L]);
        return x->top[V] >= 0 && x->top[L] >= 0 && x->top[V] != x->top[L];
    case LPT_REVIEW_QUEUE_LOW_CONFIDENCE:
        *score = 1.0 - p;
        return p < LPT_REVIEW_LOW_CONFIDENCE;
    case LPT_REVIEW_QUEUE_LABEL_ERRORS: {
        if (!wrong || x->current < 0 || !(p >= LPT_REVIEW_LABEL_ERROR_CONFIDENCE))
            return false;
        double backing = 1.0;
        for (int e = V; e <= L; e++) {
            if (x->top[e] < 0)
                continue;
            if (x->top[e] != x->top[F])
                return false;
            backing = fmin(backing, x->prob[e]);
        }
        *score = p * backing;
        return true;
    }
    }
    return false;
}

/* Score descending, then image id ascending. */
static int compare_entries(const void *a, const void *b)
{
    const LptReviewQueueEntry *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->image_id < y->image_id ? -1 : x->image_id > y->image_id;
}

LptStatus lpt_review_queue_build(const LptReviewSamples *s, LptReviewQueueKind kind,
                                 LptReviewQueueEntry **entries, size_t *count, LptError *err)
{
    if (!s || !entries || !count)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review queue: NULL argument");
    if ((int)kind < 0 || kind >= LPT_REVIEW_QUEUE_KINDS)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "review queue: no queue %d",
                             (int)kind);
    *entries = NULL;
    *count = 0;
    size_t n = 0;
    double score;
    for (size_t i = 0; i < s->count; i++)
        n += lpt_review_queue_accepts(s, &s->samples[i], kind, &score);
    if (n == 0)
        return LPT_OK;
    LptReviewQueueEntry *e = malloc(n * sizeof *e);
    if (!e)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "review queue: out of memory");
    size_t j = 0;
    for (size_t i = 0; i < s->count; i++)
        if (lpt_review_queue_accepts(s, &s->samples[i], kind, &score))
            e[j++] = (LptReviewQueueEntry){i, s->samples[i].image_id, score};
    qsort(e, n, sizeof *e, compare_entries);
    *entries = e;
    *count = n;
    return LPT_OK;
}

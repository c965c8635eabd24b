/* lpt_run_compare.c: flips between two runs (see the header).
 *
 * Both sample lists are sorted by image id, so one merge walk pairs them. Class slots: first
 * `after`'s classes by output index, then `before`'s that `after` lacks.
 */
#include "lpt_run_compare.h"

#include <stdalign.h>
#include <stdlib.h>

/* The index of class_id among the first n classes of the result, or -1. */
static int64_t class_slot(const LptRunCompareClass *classes, size_t n, int64_t class_id)
{
    for (size_t i = 0; i < n; i++)
        if (classes[i].class_id == class_id)
            return (int64_t)i;
    return -1;
}

static bool is_right(const LptReviewSample *x)
{
    return x->top[LPT_STORE_EXPERT_FUSED] == x->label;
}

/* Moves *i and *j on to the next image both lists hold (each sorted by image id); false when
 * there is none. */
static bool next_common(const LptReviewSamples *before, const LptReviewSamples *after, size_t *i,
                        size_t *j)
{
    while (*i < before->count && *j < after->count) {
        int64_t b = before->samples[*i].image_id, a = after->samples[*j].image_id;
        if (b == a)
            return true;
        if (b < a)
            (*i)++;
        else
            (*j)++;
    }
    return false;
}

LptStatus lpt_run_compare(const LptReviewSamples *before, const LptReviewSamples *after,
                          LptRunCompare **out, LptError *err)
{
    if (!before || !after || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "run compare: NULL argument");
    *out = NULL;

    /* Sizes first: classes of `after` plus those only `before` has, and the flips. */
    size_t n_classes = (size_t)after->num_classes;
    for (int32_t k = 0; k < before->num_classes; k++) {
        bool shared = false;
        for (int32_t j = 0; j < after->num_classes && !shared; j++)
            shared = after->class_ids[j] == before->class_ids[k];
        n_classes += !shared;
    }
    size_t n_flips = 0;
    for (size_t i = 0, j = 0; next_common(before, after, &i, &j); i++, j++)
        n_flips += is_right(&before->samples[i]) != is_right(&after->samples[j]);

    size_t head = (sizeof(LptRunCompare) + alignof(LptRunCompareClass) - 1) /
                  alignof(LptRunCompareClass) * alignof(LptRunCompareClass);
    size_t mid = head + n_classes * sizeof(LptRunCompareClass);
    mid = (mid + alignof(LptRunCompareFlip) - 1) / alignof(LptRunCompareFlip) *
          alignof(LptRunCompareFlip);
    LptRunCompare *r = calloc(1, mid + n_flips * sizeof(LptRunCompareFlip));
    if (!r)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "run compare: out of memory");
    r->classes = (LptRunCompareClass *)((char *)r + head);
    r->flips = (LptRunCompareFlip *)((char *)r + mid);

    for (int32_t k = 0; k < after->num_classes; k++)
        r->classes[r->num_classes++] =
            (LptRunCompareClass){.class_id = after->class_ids[k], .name = after->class_names[k]};
    for (int32_t k = 0; k < before->num_classes; k++)
        if (class_slot(r->classes, r->num_classes, before->class_ids[k]) < 0)
            r->classes[r->num_classes++] = (LptRunCompareClass){.class_id = before->class_ids[k],
                                                                .name = before->class_names[k]};

    /* The merge walk; right -> wrong flips fill from the front, wrong -> right are counted
     * first and placed after them. */
    size_t i = 0, j = 0;
    while (i < before->count || j < after->count) {
        const LptReviewSample *b = i < before->count ? &before->samples[i] : NULL;
        const LptReviewSample *a = j < after->count ? &after->samples[j] : NULL;
        if (!a || (b && b->image_id < a->image_id)) {
            r->only_before++;
            i++;
            continue;
        }
        if (!b || a->image_id < b->image_id) {
            r->only_after++;
            j++;
            continue;
        }
        bool was = is_right(b), now = is_right(a);
        LptRunCompareClass *c = &r->classes[a->label]; /* `after`'s classes come first */
        r->common++;
        c->images++;
        c->both_right += was && now;
        c->both_wrong += !was && !now;
        c->right_to_wrong += was && !now;
        c->wrong_to_right += !was && now;
        r->right_to_wrong += was && !now;
        r->wrong_to_right += !was && now;
        i++;
        j++;
    }

    size_t front = 0, back = (size_t)r->right_to_wrong;
    for (i = 0, j = 0; next_common(before, after, &i, &j); i++, j++) {
        const LptReviewSample *b = &before->samples[i], *a = &after->samples[j];
        bool was = is_right(b), now = is_right(a);
        if (was != now) {
            int f = LPT_STORE_EXPERT_FUSED;
            r->flips[now ? back++ : front++] = (LptRunCompareFlip){
                .image_id = a->image_id,
                .class_id = after->class_ids[a->label],
                .now_right = now,
                .before_class_id = before->class_ids[b->top[f]],
                .after_class_id = after->class_ids[a->top[f]],
                .before_prob = b->prob[f],
                .after_prob = a->prob[f],
            };
        }
    }
    r->num_flips = n_flips;
    *out = r;
    return LPT_OK;
}

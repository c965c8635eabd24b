/* lpt_resplit.c: re-assigning a project's splits. See lpt_resplit.h for the rules. */
#include "lpt_resplit.h"

#include <stdlib.h>

/* What a re-split needs of one image. */
typedef struct Image {
    LptStoreImage *record; /* owned (one malloc block) */
    int32_t label;         /* class index in id order */
} Image;

typedef struct Resplit {
    Image *images;
    size_t n_images;
    int64_t *class_ids; /* by id */
    size_t n_classes;
} Resplit;

static LptStatus no_memory(LptError *err)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "re-split: out of memory");
}

static int32_t class_index(const Resplit *r, int64_t class_id)
{
    size_t lo = 0, hi = r->n_classes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->class_ids[mid] < class_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_classes && r->class_ids[lo] == class_id ? (int32_t)lo : -1;
}

static uint64_t hash_key(const char *hex)
{
    uint64_t k = 0;
    for (int i = 0; i < 16 && hex[i]; i++) {
        char c = hex[i];
        k = (k << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return k;
}

/* Reads the classes and the images that are not excluded. */
static LptStatus load(LptStore *store, Resplit *r, LptError *err)
{
    LptStoreClass *classes = NULL;
    int64_t *ids = NULL;
    size_t n_ids = 0;
    LptStatus st = lpt_store_class_list(store, &classes, &r->n_classes, err);
    if (st != LPT_OK)
        goto done;
    r->class_ids = malloc((r->n_classes ? r->n_classes : 1) * sizeof *r->class_ids);
    if (!r->class_ids) {
        st = no_memory(err);
        goto done;
    }
    for (size_t c = 0; c < r->n_classes; c++)
        r->class_ids[c] = classes[c].id;

    if ((st = lpt_store_image_list(store, 0, LPT_STORE_SPLIT_ANY, 0, &ids, &n_ids, err)) != LPT_OK)
        goto done;
    r->images = calloc(n_ids ? n_ids : 1, sizeof *r->images);
    if (!r->images) {
        st = no_memory(err);
        goto done;
    }
    for (size_t i = 0; i < n_ids; i++) {
        Image *im = &r->images[r->n_images];
        if ((st = lpt_store_image_get(store, ids[i], &im->record, err)) != LPT_OK)
            goto done;
        if (!im->record) /* gone between the two reads: not in this transaction */
            continue;
        r->n_images++;
        im->label = class_index(r, im->record->class_id);
        if (im->label < 0) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "re-split: image %lld has class %lld, which is not in the "
                               "project's classes",
                               (long long)ids[i], (long long)im->record->class_id);
            goto done;
        }
    }
done:
    free(classes);
    free(ids);
    return st;
}

/* Assigns and writes the splits, and adds the settings row. */
static LptStatus assign(LptStore *store, Resplit *r, const LptSplitConfig *cfg,
                        LptResplitReport *rep, LptError *err)
{
    size_t n = r->n_images;
    int32_t *labels = malloc((n ? n : 1) * sizeof *labels);
    LptSplit *given = malloc((n ? n : 1) * sizeof *given);
    uint64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    LptSplit *out = malloc((n ? n : 1) * sizeof *out);
    LptStatus st = LPT_OK;
    if (!labels || !given || !keys || !out) {
        st = no_memory(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const Image *im = &r->images[i];
        labels[i] = im->label;
        keys[i] = hash_key(im->record->content_hash);
        given[i] = im->record->split_given ? (LptSplit)im->record->split : LPT_SPLIT_NONE;
        rep->kept += given[i] != LPT_SPLIT_NONE;
    }
    int32_t num_classes = r->n_classes > 0 ? (int32_t)r->n_classes : 1;
    if (n > 0 &&
        (st = lpt_split_assign(cfg, labels, given, keys, n, num_classes, out, err)) != LPT_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const LptStoreImage *rec = r->images[i].record;
        LptStoreSplit split = (LptStoreSplit)out[i];
        rep->split_counts[split]++;
        if (given[i] != LPT_SPLIT_NONE || split == rec->split)
            continue;
        if ((st = lpt_store_image_set_split(store, rec->id, split, err)) != LPT_OK)
            goto done;
        rep->changed++;
    }
    LptStoreSplitSettings settings = {
        .seed = cfg->seed,
        .train_fraction = cfg->train_fraction,
        .val_fraction = cfg->val_fraction,
        .test_fraction = cfg->test_fraction,
        .min_per_class = cfg->min_per_class,
        .user_given = rep->kept > 0,
    };
    st = lpt_store_split_insert(store, &settings, &rep->split_id, err);
done:
    free(labels);
    free(given);
    free(keys);
    free(out);
    return st;
}

LptStatus lpt_resplit_run(LptStore *store, const LptSplitConfig *cfg, LptResplitReport *report,
                          LptError *err)
{
    LptResplitReport rep = {0};
    Resplit r = {0};
    if (!store || !cfg)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "re-split: no %s given",
                             store ? "split settings" : "store");
    LptStatus st = lpt_split_targets(cfg, 0, NULL, NULL, NULL, err);
    if (st != LPT_OK)
        return st;
    if ((st = lpt_store_begin(store, err)) != LPT_OK)
        return st;
    if ((st = load(store, &r, err)) == LPT_OK) {
        rep.images = (int64_t)r.n_images;
        st = assign(store, &r, cfg, &rep, err);
    }
    if (st == LPT_OK)
        st = lpt_store_commit(store, err);
    if (st != LPT_OK)
        lpt_store_rollback(store, NULL);
    else if (report)
        *report = rep;
    for (size_t i = 0; i < r.n_images; i++)
        free(r.images[i].record);
    free(r.images);
    free(r.class_ids);
    return st;
}

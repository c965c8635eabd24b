/* lpt_resplit.c: re-assigning a project's splits. See lpt_resplit.h for the rules. */
#include "lpt_resplit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_HEADER_MAX 65536 /* bytes of a CSV file's first line that are looked at */

/* One source of the project's images and whether it gave their splits. */
typedef struct Source {
    const char *path;  /* borrowed from the first image record naming it */
    bool folder;       /* some image lies below it: a folder source */
    bool all_in_split; /* folder: every image's path is <split>/<class>/... below it */
    bool file_gives;   /* file: its name or its CSV header gives a split */
} Source;

/* What a re-split needs of one image. */
typedef struct Image {
    LptStoreImage *record; /* owned (one malloc block) */
    int32_t label;         /* class index in id order */
    size_t source;         /* index into the sources */
} Image;

typedef struct Resplit {
    Image *images;
    size_t n_images;
    Source *sources;
    size_t n_sources, sources_cap;
    int64_t *class_ids; /* by id */
    size_t n_classes;
} Resplit;

static bool is_split_name(const char *name, size_t len)
{
    static const char *const names[] = {"train", "val", "test"};
    for (size_t s = 0; s < sizeof names / sizeof names[0]; s++)
        if (strlen(names[s]) == len && strncasecmp(name, names[s], len) == 0)
            return true;
    return false;
}

/* True when the first line of the CSV file at path names a "split" column (any case, maybe
 * quoted, blanks around it ignored), or when the file cannot be read (see the header). */
static bool csv_names_split_column(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *line = f ? malloc(CSV_HEADER_MAX) : NULL;
    size_t n = line ? fread(line, 1, CSV_HEADER_MAX - 1, f) : 0;
    bool unreadable = !line || ferror(f);
    if (f)
        fclose(f);
    if (unreadable) {
        free(line);
        return true;
    }
    line[n] = '\0';
    bool found = false;
    char *p = line;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
        p += 3;
    p[strcspn(p, "\r\n")] = '\0';
    /* Fields of the header row: quotes stripped, blanks trimmed. */
    while (!found) {
        char *end = p;
        bool quoted = false;
        while (*end && (quoted || *end != ',')) {
            if (*end == '"')
                quoted = !quoted;
            end++;
        }
        char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '"'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '"'))
            b--;
        found = (size_t)(b - a) == 5 && strncasecmp(a, "split", 5) == 0;
        if (!*end)
            break;
        p = end + 1;
    }
    free(line);
    return found;
}

/* Whether a list or CSV source file gives a split (its name, or a CSV split column). */
static bool file_gives_split(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    if (is_split_name(name, stem))
        return true;
    return dot && strcasecmp(dot, ".csv") == 0 && csv_names_split_column(path);
}

/* The part of path below the folder source, or NULL when path is not below it. */
static const char *below(const char *source, const char *path)
{
    size_t n = strlen(source);
    if (n == 0 || strncmp(path, source, n) != 0)
        return NULL;
    if (source[n - 1] == '/')
        return path + n;
    return path[n] == '/' ? path + n + 1 : NULL;
}

/* True when rel is <split>/<class>/<name...>. */
static bool in_split_layout(const char *rel)
{
    const char *slash = strchr(rel, '/');
    return slash && is_split_name(rel, (size_t)(slash - rel)) && strchr(slash + 1, '/');
}

static LptStatus no_memory(LptError *err)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "re-split: out of memory");
}

/* The index of the source named path, added when new. */
static LptStatus source_index(Resplit *r, const char *path, size_t *index, LptError *err)
{
    /* Images come in runs of one source: look at the last one found first. */
    if (*index < r->n_sources && strcmp(r->sources[*index].path, path) == 0)
        return LPT_OK;
    for (size_t i = 0; i < r->n_sources; i++)
        if (strcmp(r->sources[i].path, path) == 0) {
            *index = i;
            return LPT_OK;
        }
    if (r->n_sources == r->sources_cap) {
        size_t cap = r->sources_cap ? r->sources_cap * 2 : 16;
        Source *grown = realloc(r->sources, cap * sizeof *grown);
        if (!grown)
            return no_memory(err);
        r->sources = grown;
        r->sources_cap = cap;
    }
    r->sources[r->n_sources] = (Source){.path = path, .all_in_split = true};
    *index = r->n_sources++;
    return LPT_OK;
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

/* Reads the classes, the images that are not excluded and their sources. */
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
    size_t source = 0;
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
        const char *src = im->record->source ? im->record->source : "";
        if ((st = source_index(r, src, &source, err)) != LPT_OK)
            goto done;
        im->source = source;
        const char *rel = below(src, im->record->path);
        if (rel) {
            r->sources[source].folder = true;
            if (!in_split_layout(rel))
                r->sources[source].all_in_split = false;
        }
    }
    for (size_t s = 0; s < r->n_sources; s++)
        if (!r->sources[s].folder && r->sources[s].path[0])
            r->sources[s].file_gives = file_gives_split(r->sources[s].path);
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
        const Source *src = &r->sources[im->source];
        bool kept = src->folder ? src->all_in_split : src->file_gives;
        labels[i] = im->label;
        keys[i] = hash_key(im->record->content_hash);
        given[i] = kept ? (LptSplit)im->record->split : LPT_SPLIT_NONE;
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
    free(r.sources);
    free(r.class_ids);
    return st;
}

/* lpt_safetensors_shards.c: sharded safetensors checkpoints (Hugging Face writes a model over
 * its shard size as model-0000N-of-0000M.safetensors plus model.safetensors.index.json) and
 * the weight file of a model folder. The index is checked against its shards before they are
 * joined into one handle (lpt_safetensors_join); see lpt_safetensors.h for the rules.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lpt_safetensors_impl.h"

#define INDEX_MAX_BYTES (64u << 20) /* an index of a 100k-tensor model is a few MB */
#define INDEX_SUFFIX ".safetensors.index.json"
#define WEIGHTS_SUFFIX ".safetensors"

/* One weight map entry: a tensor and the shard the index puts it in. */
typedef struct Listed {
    const char *tensor; /* borrowed from the parsed index */
    const char *shard;  /* borrowed from the parsed index */
    int shard_index;    /* into the sorted shard names */
} Listed;

typedef struct Index {
    const char *path;
    cJSON *root;
    Listed *listed; /* sorted by tensor name */
    int n_listed;
    const char **names; /* distinct shard names, sorted */
    int n_shards;
    LptSafetensors **shards; /* opened, by name */
    const char **meta_keys, **meta_values;
    char **meta_text; /* numbers printed (owned) */
    int n_meta;
} Index;

static LptStatus no_memory(const char *path, LptError *err)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
}

/* The whole file as a NUL-terminated string (malloc'd). */
static char *read_text(const char *path, LptError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot open: %s", path, strerror(e));
        return NULL;
    }
    char *text = NULL;
    size_t used = 0, cap = 0;
    bool too_large = false;
    for (;;) {
        if (used + 1 >= cap) {
            size_t grown_cap = cap ? cap * 2 : 65536;
            char *grown = realloc(text, grown_cap);
            if (!grown) {
                free(text);
                fclose(f);
                no_memory(path, err);
                return NULL;
            }
            text = grown;
            cap = grown_cap;
        }
        size_t n = fread(text + used, 1, cap - used - 1, f);
        used += n;
        if (used > INDEX_MAX_BYTES) {
            too_large = true;
            break;
        }
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (too_large || failed) {
        free(text);
        if (too_large)
            lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: an index over %u bytes; not a weight index",
                          path, INDEX_MAX_BYTES);
        else
            lpt_error_set(err, LPT_ERR_IO, EIO, "%s: cannot read", path);
        return NULL;
    }
    text[used] = '\0';
    return text;
}

static int compare_listed(const void *a, const void *b)
{
    const Listed *x = a, *y = b;
    int c = strcmp(x->tensor, y->tensor);
    return c ? c : strcmp(x->shard, y->shard);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int compare_tensor_key(const void *key, const void *item)
{
    return strcmp((const char *)key, ((const Listed *)item)->tensor);
}

/* The weight map's entries, sorted; a tensor listed twice or a shard that is not a plain file
 * name is refused. */
static LptStatus read_weight_map(Index *ix, const cJSON *map, LptError *err)
{
    if (!cJSON_IsObject(map) || !map->child)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s: no \"weight_map\" object naming the tensors' shards", ix->path);
    int n = cJSON_GetArraySize(map);
    ix->listed = calloc((size_t)n, sizeof *ix->listed);
    if (!ix->listed)
        return no_memory(ix->path, err);
    const cJSON *item;
    cJSON_ArrayForEach(item, map)
    {
        const char *shard = cJSON_IsString(item) ? item->valuestring : NULL;
        if (!shard || !*shard)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s': the weight map gives no shard file name",
                                 ix->path, item->string);
        if (strchr(shard, '/') || strcmp(shard, ".") == 0 || strcmp(shard, "..") == 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s': shard '%s' is not a file name beside the index",
                                 ix->path, item->string, shard);
        ix->listed[ix->n_listed++] = (Listed){item->string, shard, -1};
    }
    qsort(ix->listed, (size_t)ix->n_listed, sizeof *ix->listed, compare_listed);
    for (int i = 1; i < ix->n_listed; i++)
        if (strcmp(ix->listed[i - 1].tensor, ix->listed[i].tensor) == 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s' is listed twice in the weight map (shards '%s' "
                                 "and '%s')",
                                 ix->path, ix->listed[i].tensor, ix->listed[i - 1].shard,
                                 ix->listed[i].shard);
    /* the distinct shard names, sorted, and each entry's index among them */
    ix->names = malloc((size_t)ix->n_listed * sizeof *ix->names);
    if (!ix->names)
        return no_memory(ix->path, err);
    for (int i = 0; i < ix->n_listed; i++)
        ix->names[i] = ix->listed[i].shard;
    qsort(ix->names, (size_t)ix->n_listed, sizeof *ix->names, compare_strings);
    for (int i = 0; i < ix->n_listed; i++)
        if (ix->n_shards == 0 || strcmp(ix->names[ix->n_shards - 1], ix->names[i]) != 0)
            ix->names[ix->n_shards++] = ix->names[i];
    for (int i = 0; i < ix->n_listed; i++) {
        const char **at = bsearch(&ix->listed[i].shard, ix->names, (size_t)ix->n_shards,
                                  sizeof *ix->names, compare_strings);
        ix->listed[i].shard_index = (int)(at - ix->names);
    }
    return LPT_OK;
}

/* The index's "metadata" object (optional): strings as they are, numbers as decimal text. */
static LptStatus read_metadata(Index *ix, const cJSON *meta, LptError *err)
{
    if (!meta)
        return LPT_OK;
    if (!cJSON_IsObject(meta))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: \"metadata\" is not a JSON object",
                             ix->path);
    int n = cJSON_GetArraySize(meta);
    ix->meta_keys = calloc((size_t)n + 1, sizeof *ix->meta_keys);
    ix->meta_values = calloc((size_t)n + 1, sizeof *ix->meta_values);
    ix->meta_text = calloc((size_t)n + 1, sizeof *ix->meta_text);
    if (!ix->meta_keys || !ix->meta_values || !ix->meta_text)
        return no_memory(ix->path, err);
    const cJSON *item;
    cJSON_ArrayForEach(item, meta)
    {
        const char *value = NULL;
        if (cJSON_IsString(item)) {
            value = item->valuestring;
        } else if (cJSON_IsNumber(item)) {
            char text[40];
            double d = item->valuedouble;
            if (d == (double)(int64_t)d && d > -9007199254740992.0 && d < 9007199254740992.0)
                snprintf(text, sizeof text, "%lld", (long long)d);
            else
                snprintf(text, sizeof text, "%.17g", d);
            if (!(ix->meta_text[ix->n_meta] = strdup(text)))
                return no_memory(ix->path, err);
            value = ix->meta_text[ix->n_meta];
        } else {
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: metadata '%s' is neither a string nor a number", ix->path,
                                 item->string);
        }
        ix->meta_keys[ix->n_meta] = item->string;
        ix->meta_values[ix->n_meta++] = value;
    }
    return LPT_OK;
}

/* Opens every shard (beside the index). */
static LptStatus open_shards(Index *ix, LptError *err)
{
    ix->shards = calloc((size_t)ix->n_shards, sizeof *ix->shards);
    if (!ix->shards)
        return no_memory(ix->path, err);
    const char *slash = strrchr(ix->path, '/');
    size_t dir = slash ? (size_t)(slash - ix->path) + 1 : 0;
    for (int i = 0; i < ix->n_shards; i++) {
        size_t len = dir + strlen(ix->names[i]) + 1;
        char *path = malloc(len);
        if (!path)
            return no_memory(ix->path, err);
        snprintf(path, len, "%.*s%s", (int)dir, ix->path, ix->names[i]);
        LptError e = {0};
        ix->shards[i] = lpt_safetensors_open_file(path, &e);
        free(path);
        if (!ix->shards[i]) {
            const char *first = "?";
            for (int k = 0; k < ix->n_listed && first[0] == '?'; k++)
                if (ix->listed[k].shard_index == i)
                    first = ix->listed[k].tensor;
            return lpt_error_set(err, e.code, e.detail,
                                 "%s: shard '%s' (holding tensor '%s' and others): %s", ix->path,
                                 ix->names[i], first, e.message);
        }
    }
    return LPT_OK;
}

/* Every listed tensor is in its shard, and every tensor of a shard is listed for it. */
static LptStatus check_agreement(const Index *ix, LptError *err)
{
    for (int i = 0; i < ix->n_listed; i++) {
        const Listed *l = &ix->listed[i];
        if (!lpt_safetensors_find(ix->shards[l->shard_index], l->tensor))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: tensor '%s' is listed in shard '%s', which has no such "
                                 "tensor",
                                 ix->path, l->tensor, ix->names[l->shard_index]);
    }
    for (int s = 0; s < ix->n_shards; s++) {
        for (int k = 0; k < lpt_safetensors_count(ix->shards[s]); k++) {
            const char *name = lpt_safetensors_entry(ix->shards[s], k)->name;
            const Listed *l = bsearch(name, ix->listed, (size_t)ix->n_listed, sizeof *ix->listed,
                                      compare_tensor_key);
            if (!l)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "%s: tensor '%s' of shard '%s' is not in the weight map",
                                     ix->path, name, ix->names[s]);
            if (l->shard_index != s)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "%s: tensor '%s' is in two shards, '%s' and '%s' (the "
                                     "weight map names '%s')",
                                     ix->path, name, ix->names[l->shard_index], ix->names[s],
                                     ix->names[l->shard_index]);
        }
    }
    return LPT_OK;
}

static void index_free(Index *ix)
{
    for (int i = 0; ix->shards && i < ix->n_shards; i++)
        lpt_safetensors_close(ix->shards[i]);
    free(ix->shards);
    for (int i = 0; ix->meta_text && i < ix->n_meta; i++)
        free(ix->meta_text[i]);
    free(ix->meta_text);
    free(ix->meta_keys);
    free(ix->meta_values);
    free(ix->names);
    free(ix->listed);
    cJSON_Delete(ix->root);
}

LptSafetensors *lpt_safetensors_open_index(const char *path, LptError *err)
{
    Index ix = {.path = path};
    char *text = read_text(path, err);
    if (!text)
        return NULL;
    const char *end = NULL;
    ix.root = cJSON_ParseWithOpts(text, &end, 1);
    LptStatus st = LPT_OK;
    if (!ix.root)
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: not valid JSON (error at byte %zu)", path,
                           end ? (size_t)(end - text) : 0);
    else if (!cJSON_IsObject(ix.root))
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: not a JSON object", path);
    free(text);
    if (st == LPT_OK)
        st = read_weight_map(&ix, cJSON_GetObjectItemCaseSensitive(ix.root, "weight_map"), err);
    if (st == LPT_OK)
        st = read_metadata(&ix, cJSON_GetObjectItemCaseSensitive(ix.root, "metadata"), err);
    if (st == LPT_OK)
        st = open_shards(&ix, err);
    if (st == LPT_OK)
        st = check_agreement(&ix, err);
    LptSafetensors *joined = NULL;
    if (st == LPT_OK) {
        joined = lpt_safetensors_join(path, ix.shards, ix.n_shards, ix.meta_keys, ix.meta_values,
                                      ix.n_meta, err);
        ix.shards = NULL; /* taken by the join */
    }
    index_free(&ix);
    return joined;
}

/* ---- Folders ---- */

static bool is_regular(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* folder + "/" + name, malloc'd. */
static char *join_path(const char *folder, const char *name)
{
    size_t n = strlen(folder);
    bool slash = n > 0 && folder[n - 1] == '/';
    size_t len = n + !slash + strlen(name) + 1;
    char *p = malloc(len);
    if (p)
        snprintf(p, len, "%s%s%s", folder, slash ? "" : "/", name);
    return p;
}

char *lpt_safetensors_folder_file(const char *folder, LptError *err)
{
    static const char *const preferred[] = {"model.safetensors", "model.safetensors.index.json"};
    for (size_t i = 0; i < sizeof preferred / sizeof preferred[0]; i++) {
        char *p = join_path(folder, preferred[i]);
        if (!p) {
            no_memory(folder, err);
            return NULL;
        }
        if (is_regular(p))
            return p;
        free(p);
    }
    DIR *d = opendir(folder);
    if (!d) {
        int e = errno;
        lpt_error_set(err, LPT_ERR_IO, e, "%s: cannot read the folder: %s", folder, strerror(e));
        return NULL;
    }
    /* the only index, else the only weight file */
    char *index = NULL, *weights = NULL, listed[512] = "";
    int n_index = 0, n_weights = 0;
    const struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        bool is_index = ends_with(name, INDEX_SUFFIX);
        if (name[0] == '.' || (!is_index && !ends_with(name, WEIGHTS_SUFFIX)))
            continue;
        char *p = join_path(folder, name);
        if (!p) {
            closedir(d);
            free(index);
            free(weights);
            no_memory(folder, err);
            return NULL;
        }
        if (!is_regular(p)) {
            free(p);
            continue;
        }
        size_t used = strlen(listed);
        snprintf(listed + used, sizeof listed - used, "%s'%s'", used ? ", " : "", name);
        char **slot = is_index ? &index : &weights;
        *(is_index ? &n_index : &n_weights) += 1;
        if (*slot)
            free(p);
        else
            *slot = p;
    }
    closedir(d);
    if (n_index == 1 || (n_index == 0 && n_weights == 1)) {
        char *found = n_index == 1 ? index : weights;
        free(n_index == 1 ? weights : index);
        return found;
    }
    free(index);
    free(weights);
    if (n_index + n_weights == 0)
        lpt_error_set(err, LPT_ERR_IO, EISDIR,
                      "%s: is a directory holding no weight file (model.safetensors, "
                      "model.safetensors.index.json or another *.safetensors file)",
                      folder);
    else
        lpt_error_set(err, LPT_ERR_IO, EISDIR,
                      "%s: is a directory holding several weight files (%s); give the one to "
                      "use",
                      folder, listed);
    return NULL;
}

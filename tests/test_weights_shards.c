/* test_weights_shards.c: sharded safetensors checkpoints and model folders
 * (lpt_safetensors.h), as lpt_weights_open and lpt_backbone_add take them.
 *
 * Fixture: tests/fixtures/weights/hf_vit_sharded (make_weight_fixtures.py): the tensors of
 * hf_vit/model.safetensors in two shards, as transformers saves a model over its shard size,
 * with model.safetensors.index.json and config.json. (test_weights compares the features of
 * the sharded checkpoint with PyTorch's on both backends.)
 * Checks:
 *   - the index and the folder open as one handle holding exactly the single file's tensors
 *     (names, dtypes, shapes, bytes, float conversion), each entry naming the shard that holds
 *     it, the two shards sorted, the index's metadata (total_size as text);
 *   - folders: one holding model.safetensors opens it, one holding only another *.safetensors
 *     opens that, an empty one and one with two weight files and no index are refused;
 *   - bad indexes, written at run time beside copies of the shards: a missing shard, a tensor
 *     listed in a shard that lacks it, a tensor in two shards, a tensor listed twice, a shard
 *     tensor the weight map lacks, a shard name with a '/', no weight map, not JSON, metadata
 *     that is neither text nor a number, a truncated shard: each refused with its code and a
 *     message naming the index, the shard and the tensor; lpt_weights_open refuses the same;
 *   - lpt_backbone_add with the folder and with the index: one hash (SHA-256 of the index's
 *     and the shards' SHA-256, one a line), the folder's name as display name, the same
 *     weights again found as existing, the stored path reopened; lpt_backbone_sha256 gives
 *     that hash for the folder and a plain file's bytes' for a file; a changed shard is new
 *     weights.
 * Usage: test_weights_shards FIXTURE_DIR (tests/fixtures/weights). Suite 'unit'.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_backbone.h"
#include "lpt_hash.h"
#include "lpt_safetensors.h"
#include "lpt_weights.h"
#include "test_check.h"
#include "test_util.h"

#define SHARD1 "model-00001-of-00002.safetensors"
#define SHARD2 "model-00002-of-00002.safetensors"
#define INDEX "model.safetensors.index.json"

static const char *fixtures;
static char tmp[256];

static void fixture(const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", fixtures, rel);
}

static void in_tmp(const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", tmp, rel);
}

/* Copies the first `keep` bytes (all when keep < 0) of src to dst. */
static bool copy_file(const char *src, const char *dst, long keep)
{
    return expect(tu_copy_file(src, dst, keep), "copy", "%s -> %s", src, dst);
}

static bool write_text(const char *path, const char *text)
{
    return expect(tu_write_file(path, text, strlen(text)), "write", "%s", path);
}

/* The fixture's index, parsed (NULL on failure). */
static cJSON *fixture_index(void)
{
    char path[512];
    fixture("hf_vit_sharded/" INDEX, path, sizeof path);
    FILE *f = fopen(path, "rb");
    char text[16384];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    cJSON *root = cJSON_Parse(text);
    expect(root != NULL, "fixture index", "%s does not parse", path);
    return root;
}

/* Prints root to tmp/<name> and frees it. */
static bool write_index(cJSON *root, const char *name, char *path, size_t size)
{
    in_tmp(name, path, size);
    char *text = root ? cJSON_Print(root) : NULL;
    bool ok = text && write_text(path, text);
    free(text);
    cJSON_Delete(root);
    return ok;
}

/* ---- The sharded checkpoint reads as the single file ---- */

static void check_same_tensors(const char *what, const LptSafetensors *joined,
                               const LptSafetensors *single)
{
    int n = lpt_safetensors_count(joined);
    if (!expect(n == lpt_safetensors_count(single) && n > 0, what, "%d tensors, the file has %d",
                n, lpt_safetensors_count(single)))
        return;
    size_t bytes = 0;
    int in_first = 0;
    for (int i = 0; i < n; i++) {
        const LptSafetensorsEntry *a = lpt_safetensors_entry(joined, i);
        const LptSafetensorsEntry *b = lpt_safetensors_entry(single, i);
        if (!expect(a && b && a->file, what, "entry %d missing", i))
            return;
        bool same = strcmp(a->name, b->name) == 0 && a->dtype == b->dtype &&
                    a->ndim == b->ndim && memcmp(a->shape, b->shape, sizeof a->shape) == 0 &&
                    a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0;
        expect(same, what, "tensor %d: '%s' differs from the file's '%s'", i, a->name, b->name);
        expect(lpt_safetensors_find(joined, b->name) == a, what, "find '%s'", b->name);
        const char *slash = strrchr(a->file, '/');
        const char *file = slash ? slash + 1 : a->file;
        expect(strcmp(file, SHARD1) == 0 || strcmp(file, SHARD2) == 0, what,
               "tensor '%s' is in neither shard", a->name);
        in_first += strcmp(file, SHARD1) == 0;
        bytes += a->nbytes;
    }
    expect(in_first > 0 && in_first < n, what, "%d of %d tensors in the first shard", in_first, n);
    /* float conversion through the joined handle */
    const LptSafetensorsEntry *e = lpt_safetensors_find(joined, "vit.layernorm.weight");
    const LptSafetensorsEntry *f = lpt_safetensors_find(single, "vit.layernorm.weight");
    float x[64], y[64];
    LptError err = {0};
    bool read = e && f && e->numel <= 64 &&
                lpt_safetensors_read_f32(joined, e, x, e->numel, &err) == LPT_OK &&
                lpt_safetensors_read_f32(single, f, y, f->numel, &err) == LPT_OK;
    expect(read && memcmp(x, y, e->numel * sizeof x[0]) == 0, what, "read_f32: %s",
           err.message);
    expect(lpt_safetensors_read_f32(single, e, x, e ? e->numel : 0, &err) ==
               LPT_ERR_INVALID_ARGUMENT,
           what, "an entry of another handle was read");
    /* shards and metadata */
    const char *s0 = lpt_safetensors_shard_path(joined, 0);
    const char *s1 = lpt_safetensors_shard_path(joined, 1);
    expect(lpt_safetensors_shard_count(joined) == 2 && s0 && s1 && strstr(s0, SHARD1) &&
               strstr(s1, SHARD2) && !lpt_safetensors_shard_path(joined, 2),
           what, "shards %d: %s, %s", lpt_safetensors_shard_count(joined), s0 ? s0 : "-",
           s1 ? s1 : "-");
    char total[32];
    snprintf(total, sizeof total, "%zu", bytes);
    const char *meta = lpt_safetensors_metadata(joined, "total_size");
    expect(meta && strcmp(meta, total) == 0 && lpt_safetensors_metadata_count(joined) == 1, what,
           "metadata total_size %s, the tensors hold %s bytes", meta ? meta : "(none)", total);
}

static void check_good(void)
{
    char single_path[512], index_path[512], folder[512];
    fixture("hf_vit/model.safetensors", single_path, sizeof single_path);
    fixture("hf_vit_sharded/" INDEX, index_path, sizeof index_path);
    fixture("hf_vit_sharded", folder, sizeof folder);
    LptError err = {0};
    LptSafetensors *single = lpt_safetensors_open(single_path, &err);
    if (!expect(single != NULL, "single file", "%s", err.message))
        return;
    LptSafetensors *by_index = lpt_safetensors_open(index_path, &err);
    if (expect(by_index != NULL, "index", "%s", err.message)) {
        check_same_tensors("index", by_index, single);
        expect(strcmp(lpt_safetensors_path(by_index), index_path) == 0, "index", "path %s",
               lpt_safetensors_path(by_index));
    }
    lpt_safetensors_close(by_index);
    LptSafetensors *by_folder = lpt_safetensors_open(folder, &err);
    if (expect(by_folder != NULL, "folder", "%s", err.message)) {
        check_same_tensors("folder", by_folder, single);
        expect(strcmp(lpt_safetensors_path(by_folder), index_path) == 0, "folder",
               "path %s, expected the index %s", lpt_safetensors_path(by_folder), index_path);
    }
    lpt_safetensors_close(by_folder);
    expect(lpt_safetensors_shard_count(single) == 1 &&
               strcmp(lpt_safetensors_shard_path(single, 0), single_path) == 0 &&
               strcmp(lpt_safetensors_entry(single, 0)->file, single_path) == 0,
           "single file", "one shard, itself");
    lpt_safetensors_close(single);

    /* a folder with model.safetensors, one with only another weight file */
    static const char *const folders[][2] = {{"hf_vit", "hf_vit/model.safetensors"},
                                             {"openclip", "openclip/open_clip_model.safetensors"}};
    for (size_t i = 0; i < 2; i++) {
        char dir[512], want[512];
        fixture(folders[i][0], dir, sizeof dir);
        fixture(folders[i][1], want, sizeof want);
        LptSafetensors *st = lpt_safetensors_open(dir, &err);
        expect(st && strcmp(lpt_safetensors_path(st), want) == 0, "folder", "%s: %s", dir,
               st ? lpt_safetensors_path(st) : err.message);
        lpt_safetensors_close(st);
    }
}

/* ---- Refusals ---- */

/* lpt_safetensors_open(path) fails with code and a message holding every needle
 * (NULL-terminated); with weights, lpt_weights_open fails the same way. */
static void expect_refused(const char *what, const char *path, LptStatus code, bool weights,
                           const char *const *needles)
{
    LptError err = {0};
    LptSafetensors *st = lpt_safetensors_open(path, &err);
    bool ok = expect(st == NULL, what, "opened") &&
              expect(err.code == code, what, "%s, expected %s: %s", lpt_status_name(err.code),
                     lpt_status_name(code), err.message);
    for (int i = 0; ok && needles[i]; i++)
        ok = expect(strstr(err.message, needles[i]) != NULL, what, "message lacks '%s': %s",
                    needles[i], err.message);
    if (ok)
        printf("  ok %s: %s\n", what, err.message);
    lpt_safetensors_close(st);
    if (!weights)
        return;
    LptError werr = {0};
    LptWeights *w = lpt_weights_open(path, NULL, &werr);
    expect(!w && werr.code == code && strcmp(werr.message, err.message) == 0, what,
           "lpt_weights_open: %s", w ? "opened" : werr.message);
    lpt_weights_close(w);
}

/* The fixture's index with the entry of `tensor` given another shard (NULL: removed). */
static cJSON *index_with(const char *tensor, const char *shard)
{
    cJSON *root = fixture_index();
    cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!map)
        return root;
    if (shard)
        cJSON_ReplaceItemInObjectCaseSensitive(map, tensor, cJSON_CreateString(shard));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(map, tensor);
    return root;
}

/* Every entry of the fixture's index naming shard `from` now names `to`. */
static cJSON *index_moving(const char *from, const char *to)
{
    cJSON *root = fixture_index();
    cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    cJSON *item;
    cJSON_ArrayForEach(item, map)
    {
        if (cJSON_IsString(item) && strcmp(item->valuestring, from) == 0)
            cJSON_SetValuestring(item, to);
    }
    return root;
}

/* The first tensor the fixture's index puts in `shard`. */
static void first_in(const char *shard, char *out, size_t size)
{
    cJSON *root = fixture_index();
    cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    cJSON *item;
    out[0] = '\0';
    cJSON_ArrayForEach(item, map)
    {
        if (!out[0] && cJSON_IsString(item) && strcmp(item->valuestring, shard) == 0)
            snprintf(out, size, "%s", item->string);
    }
    cJSON_Delete(root);
}

static void check_bad_indexes(void)
{
    char src[512], dst[512], path[512], in_second[256];
    const char *shards[] = {SHARD1, SHARD2};
    for (int i = 0; i < 2; i++) {
        fixture("hf_vit_sharded", src, sizeof src);
        strcat(src, "/");
        strcat(src, shards[i]);
        in_tmp(shards[i], dst, sizeof dst);
        copy_file(src, dst, -1);
    }
    /* a copy of the second shard as a third, and a truncated second shard */
    fixture("hf_vit_sharded/" SHARD2, src, sizeof src);
    in_tmp("model-00003-of-00003.safetensors", dst, sizeof dst);
    copy_file(src, dst, -1);
    in_tmp("truncated.safetensors", dst, sizeof dst);
    copy_file(src, dst, 4000);
    first_in(SHARD2, in_second, sizeof in_second);

    if (write_index(index_moving(SHARD2, "model-00002-of-00009.safetensors"),
                    "missing.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "model-00002-of-00009.safetensors", in_second, "No such file",
                           NULL};
        expect_refused("a missing shard", path, LPT_ERR_IO, true, n);
    }
    if (write_index(index_with("classifier.bias", SHARD2), "lacks.safetensors.index.json", path,
                    sizeof path)) {
        const char *n[] = {path, "'classifier.bias'", SHARD2, "no such tensor", NULL};
        expect_refused("a tensor listed in a shard that lacks it", path, LPT_ERR_FORMAT, true, n);
    }
    if (write_index(index_with(in_second, "model-00003-of-00003.safetensors"),
                    "twice.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, in_second, "two shards", SHARD2,
                           "model-00003-of-00003.safetensors", NULL};
        expect_refused("a tensor in two shards", path, LPT_ERR_FORMAT, false, n);
    }
    cJSON *root = fixture_index();
    cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (map)
        cJSON_AddItemToObject(map, "classifier.bias", cJSON_CreateString(SHARD2));
    if (write_index(root, "listed-twice.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "'classifier.bias'", "listed twice", NULL};
        expect_refused("a tensor listed twice", path, LPT_ERR_FORMAT, false, n);
    }
    if (write_index(index_with("vit.layernorm.bias", NULL), "unlisted.safetensors.index.json",
                    path, sizeof path)) {
        const char *n[] = {path, "'vit.layernorm.bias'", "not in the weight map", NULL};
        expect_refused("a shard tensor the map lacks", path, LPT_ERR_FORMAT, true, n);
    }
    if (write_index(index_with("classifier.bias", "../elsewhere/" SHARD1),
                    "slash.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "'classifier.bias'", "not a file name beside the index", NULL};
        expect_refused("a shard name with a slash", path, LPT_ERR_FORMAT, false, n);
    }
    root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "metadata", cJSON_CreateObject());
    if (write_index(root, "no-map.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "weight_map", NULL};
        expect_refused("no weight map", path, LPT_ERR_FORMAT, false, n);
    }
    in_tmp("broken.safetensors.index.json", path, sizeof path);
    if (write_text(path, "{\"weight_map\": {\"a\": ")) {
        const char *n[] = {path, "not valid JSON", NULL};
        expect_refused("not JSON", path, LPT_ERR_FORMAT, false, n);
    }
    root = fixture_index();
    cJSON *meta = root ? cJSON_GetObjectItemCaseSensitive(root, "metadata") : NULL;
    if (meta)
        cJSON_AddItemToObject(meta, "sharded", cJSON_CreateTrue());
    if (write_index(root, "meta.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "'sharded'", "neither a string nor a number", NULL};
        expect_refused("metadata of another type", path, LPT_ERR_FORMAT, false, n);
    }
    if (write_index(index_moving(SHARD2, "truncated.safetensors"),
                    "truncated.safetensors.index.json", path, sizeof path)) {
        const char *n[] = {path, "truncated.safetensors", in_second, NULL};
        expect_refused("a truncated shard", path, LPT_ERR_FORMAT, true, n);
    }

    /* folders: empty, two weight files and no index */
    char dir[512];
    in_tmp("empty", dir, sizeof dir);
    if (expect(mkdir(dir, 0700) == 0, "mkdir", "%s", dir)) {
        const char *n[] = {dir, "is a directory holding no weight file", NULL};
        expect_refused("an empty folder", dir, LPT_ERR_IO, true, n);
    }
    in_tmp("two", dir, sizeof dir);
    if (expect(mkdir(dir, 0700) == 0, "mkdir", "%s", dir)) {
        for (int i = 0; i < 2; i++) {
            fixture("hf_vit_sharded", src, sizeof src);
            strcat(src, "/");
            strcat(src, shards[i]);
            snprintf(dst, sizeof dst, "%s/%s", dir, shards[i]);
            copy_file(src, dst, -1);
        }
        const char *n[] = {dir, "several weight files", SHARD1, SHARD2, NULL};
        expect_refused("a folder of shards without an index", dir, LPT_ERR_IO, false, n);
    }
}

/* ---- Backbones ---- */

/* The SHA-256 lpt_backbone.h defines for the sharded checkpoint in dir. */
static void sharded_hash(const char *dir, char hex[LPT_HASH_HEX_LEN + 1])
{
    static const char *const files[] = {INDEX, SHARD1, SHARD2};
    char text[3 * (LPT_HASH_HEX_LEN + 1) + 1], path[512];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        char *at = text + i * (LPT_HASH_HEX_LEN + 1);
        lpt_hash_sha256_file(path, at, NULL);
        at[LPT_HASH_HEX_LEN] = '\n';
    }
    lpt_hash_sha256_memory(text, 3 * (LPT_HASH_HEX_LEN + 1), "hashes", hex, NULL);
}

static void check_backbones(void)
{
    char project[512], folder[512], index_path[512], hex[LPT_HASH_HEX_LEN + 1];
    in_tmp("shards.lptproj", project, sizeof project);
    fixture("hf_vit_sharded", folder, sizeof folder);
    fixture("hf_vit_sharded/" INDEX, index_path, sizeof index_path);
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_CREATE, &err);
    if (!expect(store != NULL, "project", "%s", err.message))
        return;
    sharded_hash(folder, hex);
    LptBackboneAdded a = {0}, b = {0}, c = {0};
    LptStatus st = lpt_backbone_add(store, LPT_STORE_EXPERT_VISION, folder, NULL, &a, &err);
    expect(st == LPT_OK && !a.existed && a.naming == LPT_WEIGHTS_HF_VIT && a.vit.depth == 2 &&
               strcmp(a.sha256, hex) == 0,
           "backbone from the folder", "%s: sha %s, expected %s", err.message, a.sha256, hex);
    LptStoreBackbone *row = NULL;
    if (st == LPT_OK && lpt_store_backbone_get(store, a.id, &row, &err) == LPT_OK && row) {
        expect(strcmp(row->name, "hf_vit_sharded") == 0 && strstr(row->path, "hf_vit_sharded") &&
                   row->path[0] == '/',
               "backbone from the folder", "name '%s', path '%s'", row->name, row->path);
        /* training reopens the stored path */
        LptWeights *w = lpt_weights_open(row->path, NULL, &err);
        expect(w != NULL, "reopening the stored path", "%s", err.message);
        lpt_weights_close(w);
    }
    free(row);
    st = lpt_backbone_add(store, LPT_STORE_EXPERT_VISION, index_path, NULL, &b, &err);
    expect(st == LPT_OK && b.existed && strcmp(b.sha256, a.sha256) == 0, "backbone from the index",
           "%s: existed %d, sha %s", err.message, b.existed, b.sha256);
    /* the hash alone, for finding the weights again; a plain file's is its bytes' */
    char again[LPT_HASH_HEX_LEN + 1] = "", single[512], plain[LPT_HASH_HEX_LEN + 1] = "";
    expect(lpt_backbone_sha256(folder, again, &err) == LPT_OK && strcmp(again, hex) == 0,
           "lpt_backbone_sha256 of the folder", "%s: %s", err.message, again);
    fixture("hf_vit/model.safetensors", single, sizeof single);
    lpt_hash_sha256_file(single, plain, NULL);
    expect(lpt_backbone_sha256(single, again, &err) == LPT_OK && strcmp(again, plain) == 0,
           "lpt_backbone_sha256 of a file", "%s: %s, the file's bytes %s", err.message, again,
           plain);
    expect(lpt_backbone_sha256(tmp, again, &err) == LPT_ERR_IO && strstr(err.message, tmp),
           "lpt_backbone_sha256 of a folder without weights", "%s", err.message);

    /* a changed shard: new weights */
    char copy[512], dst[512], src[512];
    in_tmp("changed", copy, sizeof copy);
    mkdir(copy, 0700);
    static const char *const files[] = {INDEX, SHARD1, SHARD2, "config.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(src, sizeof src, "%s/%s", folder, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", copy, files[i]);
        copy_file(src, dst, -1);
    }
    snprintf(dst, sizeof dst, "%s/%s", copy, SHARD2);
    /* the low byte of the last F16 value: still a finite number */
    FILE *f = fopen(dst, "r+b");
    struct stat sb;
    int byte = EOF;
    bool flipped = f && stat(dst, &sb) == 0 && fseek(f, (long)sb.st_size - 2, SEEK_SET) == 0 &&
                   (byte = fgetc(f)) != EOF && fseek(f, (long)sb.st_size - 2, SEEK_SET) == 0 &&
                   fputc(byte ^ 1, f) != EOF;
    if (f)
        flipped = fclose(f) == 0 && flipped;
    expect(flipped, "changing a shard", "%s", dst);
    st = lpt_backbone_add(store, LPT_STORE_EXPERT_VISION, copy, NULL, &c, &err);
    expect(st == LPT_OK && !c.existed && strcmp(c.sha256, a.sha256) != 0, "a changed shard",
           "%s: existed %d", err.message, c.existed);
    lpt_store_close(store);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    snprintf(tmp, sizeof tmp, "/tmp/lpt-test-shards-XXXXXX");
    if (!mkdtemp(tmp)) {
        printf("cannot make a temporary folder\n");
        return 1;
    }
    check_good();
    check_bad_indexes();
    check_backbones();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        printf("could not remove %s\n", tmp);
    printf("weights_shards: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

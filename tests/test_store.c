/* test_store.c: the project store (lpt_store.h).
 *
 * Checks the schema a new project gets, every record function with good and bad input,
 * relabel history, class counts with excluded images, migrations (every frozen fixture
 * tests/fixtures/store/project_v<N>.sql, N = 1..current, opened by this code, with what each
 * upgrade derives (version 2's split_given); and the runner itself through
 * lpt_store_open_steps with extra good and bad steps and fills), the refusals
 * (newer version, leaving the bytes unchanged; not SQLite; another application; empty;
 * damaged pages), two connections and two writing threads, the instance lock across
 * processes (fork), read-only opens, and rollbacks that leave nothing behind.
 *
 * Usage: test_store FIXTURE_DIR          (meson passes tests/fixtures/store)
 *        test_store --write-sample PATH  (the sample project that tests/fixtures/make_store.py
 *                                         freezes as project_v<N>.sql when version N ships)
 *
 * When schema version N+1 ships: add its step to lpt_store_schema.c, run make_store.py to
 * freeze project_v<N+1>.sql, and extend check_sample for what the new version adds.
 */
#include "lpt_store_impl.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_CHECK_BY_LINE
#include "test_check.h"

static char tmpdir[256];
static const char *fixture_dir;

static LptError err;

static void path_in_tmp(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static void remove_project(const char *path)
{
    const char *suffixes[] = {"", "-wal", "-shm", "-journal", "-lock"};
    char p[512];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long n;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n + 1)) && fread(data, 1, (size_t)n, f) == (size_t)n) {
        *size = (size_t)n;
    } else {
        free(data);
        data = NULL;
    }
    if (f)
        fclose(f);
    return data;
}

static bool write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, n, f) == n;
    if (f)
        ok = fclose(f) == 0 && ok;
    return ok;
}

/* Runs SQL on the file through a plain SQLite connection (no store checks). */
static bool raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    bool ok =
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK &&
        sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        printf("  raw_exec: %s\n", db ? sqlite3_errmsg(db) : "no db");
    sqlite3_close(db);
    return ok;
}

/* The first column of the first row as an integer (-1 on failure). */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

/* The schema as text: every object's type, name and SQL, by name. Caller frees. */
static char *raw_schema(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t len = 0, cap = 65536;
    char *out = calloc(1, cap);
    if (out && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT type || ' ' || name || ': ' || coalesce(sql, '') "
                           "FROM sqlite_schema ORDER BY type, name",
                           -1, &stmt, NULL) == SQLITE_OK) {
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *row = (const char *)sqlite3_column_text(stmt, 0);
            size_t n = strlen(row);
            if (len + n + 2 > cap)
                break;
            memcpy(out + len, row, n);
            len += n;
            out[len++] = '\n';
        }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

static void hash_of(char out[LPT_STORE_HASH_LEN + 1], unsigned seed)
{
    for (int i = 0; i < LPT_STORE_HASH_LEN; i++)
        out[i] = "0123456789abcdef"[(seed * 7u + (unsigned)i * 13u) % 16u];
    out[LPT_STORE_HASH_LEN] = '\0';
}

static LptStoreImage image_of(const char *path, unsigned seed, int64_t class_id,
                              LptStoreSplit split)
{
    LptStoreImage im = {0};
    im.path = path;
    hash_of(im.content_hash, seed);
    im.width = 32 + (int32_t)seed;
    im.height = 24;
    im.channels = 3;
    im.class_id = class_id;
    im.split = split;
    im.source = "folder:/data";
    return im;
}

/* ---- The sample project (also frozen as the migration fixtures) ---- */

static const LptStoreTopK sample_fused_topk[2] = {{1, 0.75f}, {0, 0.125f}};
static const LptStoreTopK sample_vision_topk[2] = {{1, 0.5f}, {2, 0.25f}};
static const LptStoreTopK sample_vl_topk[2] = {{0, 0.5f}, {1, 0.375f}};
static const float sample_fused_probs[3] = {0.125f, 0.75f, 0.125f};
static const float sample_vision_probs[3] = {0.25f, 0.5f, 0.25f};
static const float sample_vl_probs[3] = {0.5f, 0.375f, 0.125f};
static const float sample_weights[2] = {0.625f, 0.375f};
static const int32_t sample_prompts_vision[2] = {3, 7};
static const int32_t sample_prompts_vl[1] = {1};
static const unsigned char sample_blob[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                              9, 10, 11, 12, 13, 14, 15, 16};
static const char *const sample_paths[6] = {"good/1.png", "good/2.png",    "good/3.png",
                                            "good/4.png", "scratch/1.png", "dent/1.png"};

static LptStorePrediction sample_prediction(int64_t run_id, int64_t image_id)
{
    LptStorePrediction p = {0};
    p.run_id = run_id;
    p.image_id = image_id;
    p.label_index = 1;
    p.num_classes = 3;
    p.top_k = 2;
    p.fused_topk = sample_fused_topk;
    p.expert_topk[0] = sample_vision_topk;
    p.expert_topk[1] = sample_vl_topk;
    p.fused_probs = sample_fused_probs;
    p.expert_probs[0] = sample_vision_probs;
    p.expert_probs[1] = sample_vl_probs;
    p.scorer_weights = sample_weights;
    p.num_prompts[0] = 2;
    p.num_prompts[1] = 1;
    p.prompts[0] = sample_prompts_vision;
    p.prompts[1] = sample_prompts_vl;
    return p;
}

/* Writes the sample data; returns false on any failure. Ids come out 1, 2, ... in order. */
static bool fill_sample(LptStore *s)
{
    LptError e = {0};
    int64_t good, scratch, dent, id, run, vb, lb, split;
    bool ok = lpt_store_begin(s, &e) == LPT_OK &&
              lpt_store_setting_set(s, "groups.many_above", "100", &e) == LPT_OK &&
              lpt_store_class_ensure(s, "good", &good, NULL, &e) == LPT_OK &&
              lpt_store_class_ensure(s, "scratch", &scratch, NULL, &e) == LPT_OK &&
              lpt_store_class_ensure(s, "dent", &dent, NULL, &e) == LPT_OK &&
              lpt_store_class_update(s, scratch, NULL, "a scratched metal part", &e) == LPT_OK;
    const LptStoreSplit splits[6] = {LPT_STORE_SPLIT_TRAIN, LPT_STORE_SPLIT_TRAIN,
                                     LPT_STORE_SPLIT_VAL,   LPT_STORE_SPLIT_TEST,
                                     LPT_STORE_SPLIT_TRAIN, LPT_STORE_SPLIT_NONE};
    for (int i = 0; ok && i < 6; i++) {
        LptStoreImage im = image_of(sample_paths[i], (unsigned)i,
                                    i < 4    ? good
                                    : i == 4 ? scratch
                                             : dent,
                                    splits[i]);
        im.excluded = i == 3;
        im.split_given = i < 3; /* schema version 2 on */
        ok = lpt_store_image_insert(s, &im, &id, &e) == LPT_OK;
    }
    ok = ok && lpt_store_image_relabel(s, 6, scratch, "inspector", &e) == LPT_OK;
    LptStoreSplitSettings ss = {.seed = 42,
                                .train_fraction = 0.75,
                                .val_fraction = 0.125,
                                .test_fraction = 0.125,
                                .min_per_class = 2};
    ok = ok && lpt_store_split_insert(s, &ss, &split, &e) == LPT_OK;
    char sha[LPT_STORE_HASH_LEN + 1];
    hash_of(sha, 100);
    LptStoreBackbone b = {.role = LPT_STORE_EXPERT_VISION,
                          .name = "vit-tiny",
                          .path = "backbones/vit.safetensors",
                          .architecture_json = "{\"arch\":\"vit\",\"depth\":12}",
                          .params = 5700000};
    memcpy(b.sha256, sha, sizeof sha);
    ok = ok && lpt_store_backbone_insert(s, &b, &vb, &e) == LPT_OK;
    hash_of(b.sha256, 101);
    b.role = LPT_STORE_EXPERT_VL;
    b.name = "clip-tiny";
    b.path = "backbones/clip.safetensors";
    ok = ok && lpt_store_backbone_insert(s, &b, &lb, &e) == LPT_OK;
    const int64_t class_ids[3] = {good, scratch, dent};
    LptStoreRun r = {.name = "first",
                     .config_json = "{\"epochs\":3}",
                     .split_id = split,
                     .backbone_id = {vb, lb},
                     .class_ids = class_ids,
                     .num_classes = 3};
    ok = ok && lpt_store_run_create(s, &r, &run, &e) == LPT_OK &&
         lpt_store_run_set_status(s, run, LPT_STORE_RUN_RUNNING, NULL, &e) == LPT_OK;
    LptStoreCheckpoint c = {.run_id = run,
                            .phase = 1,
                            .expert = LPT_STORE_EXPERT_VISION,
                            .epoch = 0,
                            .path = "ckpt/p1-vision-0.safetensors",
                            .metric = 0.5,
                            .is_best = 1};
    ok = ok && lpt_store_checkpoint_insert(s, &c, &id, &e) == LPT_OK;
    c.epoch = 1;
    c.path = NULL;
    c.data = sample_blob;
    c.data_size = sizeof sample_blob;
    c.metric = 0.25;
    c.is_best = 0;
    ok = ok && lpt_store_checkpoint_insert(s, &c, &id, &e) == LPT_OK;
    LptStoreEpochMetrics m = {.run_id = run,
                              .phase = 1,
                              .expert = LPT_STORE_EXPERT_VISION,
                              .epoch = 0,
                              .split = LPT_STORE_SPLIT_VAL,
                              .loss = 1.5,
                              .overall = 0.5,
                              .balanced = 0.25,
                              .many = 0.75,
                              .medium = NAN,
                              .few = 0.125,
                              .lr = 0.001,
                              .seconds = 12.5};
    ok = ok && lpt_store_metric_insert(s, &m, &e) == LPT_OK;
    LptStorePrediction p = sample_prediction(run, 1);
    ok = ok && lpt_store_prediction_insert(s, &p, &e) == LPT_OK;
    LptStorePrediction q = {.run_id = run,
                            .image_id = 6,
                            .label_index = 1,
                            .num_classes = 3,
                            .top_k = 1,
                            .fused_topk = sample_vl_topk};
    ok = ok && lpt_store_prediction_insert(s, &q, &e) == LPT_OK &&
         lpt_store_run_set_status(s, run, LPT_STORE_RUN_FINISHED, NULL, &e) == LPT_OK;
    hash_of(sha, 200);
    LptStoreExport x = {.run_id = run,
                        .format = LPT_STORE_EXPORT_BUNDLE,
                        .path = "out/model.lptm",
                        .parity_json = "{\"max_diff\":0.0001,\"flips\":0}"};
    memcpy(x.sha256, sha, sizeof sha);
    ok = ok && lpt_store_export_insert(s, &x, &id, &e) == LPT_OK &&
         lpt_store_commit(s, &e) == LPT_OK;
    if (!ok)
        printf("fill_sample: %s\n", e.message);
    return ok;
}

/* Reads the sample back through every query function; `version` is the schema version the
 * sample was written at (what an upgrade derives for older files differs). */
static void check_sample(LptStore *s, const char *label, int version)
{
    printf("# sample data: %s\n", label);
    char *value = NULL;
    OK(lpt_store_setting_get(s, "groups.many_above", &value, &err));
    CHECK(value && strcmp(value, "100") == 0);
    free(value);

    LptStoreClass *classes = NULL;
    size_t n = 0;
    OK(lpt_store_class_list(s, &classes, &n, &err));
    CHECK(n == 3 && classes && classes[0].id == 1 && strcmp(classes[0].name, "good") == 0 &&
          strcmp(classes[1].name, "scratch") == 0 &&
          strcmp(classes[1].description, "a scratched metal part") == 0 &&
          strcmp(classes[2].name, "dent") == 0 && strcmp(classes[2].description, "") == 0 &&
          classes[2].created_at > 0);
    free(classes);

    LptStoreClassCount *counts = NULL;
    OK(lpt_store_class_counts(s, &counts, &n, &err));
    /* good: train 2, val 1, test 1 (excluded); scratch: train 1 + the relabelled dent
     * image (no split); dent: none left */
    CHECK(n == 3 && counts && counts[0].count[LPT_STORE_SPLIT_TRAIN] == 2 &&
          counts[0].count[LPT_STORE_SPLIT_VAL] == 1 && counts[0].count[LPT_STORE_SPLIT_TEST] == 0 &&
          counts[0].excluded == 1 && counts[1].count[LPT_STORE_SPLIT_TRAIN] == 1 &&
          counts[1].count[LPT_STORE_SPLIT_NONE] == 1 && counts[2].class_id == 3 &&
          counts[2].count[0] + counts[2].count[1] + counts[2].count[2] + counts[2].count[3] == 0);
    free(counts);

    LptStoreImage *im = NULL;
    OK(lpt_store_image_get(s, 5, &im, &err));
    char hash[LPT_STORE_HASH_LEN + 1];
    hash_of(hash, 4);
    CHECK(im && im->id == 5 && strcmp(im->path, "scratch/1.png") == 0 &&
          strcmp(im->content_hash, hash) == 0 && im->width == 36 && im->height == 24 &&
          im->channels == 3 && im->class_id == 2 && im->split == LPT_STORE_SPLIT_TRAIN &&
          im->excluded == 0 && strcmp(im->source, "folder:/data") == 0 && im->imported_at > 0);
    free(im);
    /* split_given: images 1-3 from version 2 on; version 1's sample has a source that gives
     * no split, so the upgrade marks none */
    for (int64_t id = 1; id <= 6; id++) {
        OK(lpt_store_image_get(s, id, &im, &err));
        int given = version >= 2 && id <= 3;
        if (!check(im && im->split_given == given, __LINE__, "split_given of a sample image"))
            printf("  -> image %lld: split_given %d, expected %d (%s)\n", (long long)id,
                   im ? im->split_given : -1, given, label);
        free(im);
    }

    LptStoreLabelChange *changes = NULL;
    OK(lpt_store_label_history(s, 6, &changes, &n, &err));
    CHECK(n == 1 && changes && changes[0].image_id == 6 && changes[0].old_class_id == 3 &&
          changes[0].new_class_id == 2 && strcmp(changes[0].reason, "inspector") == 0);
    free(changes);

    LptStoreSplitSettings ss;
    OK(lpt_store_split_latest(s, &ss, &err));
    CHECK(ss.id == 1 && ss.seed == 42 && ss.train_fraction == 0.75 && ss.val_fraction == 0.125 &&
          ss.test_fraction == 0.125 && ss.min_per_class == 2 && ss.user_given == 0);

    LptStoreBackbone *b = NULL;
    OK(lpt_store_backbone_get(s, 2, &b, &err));
    hash_of(hash, 101);
    CHECK(b && b->role == LPT_STORE_EXPERT_VL && strcmp(b->name, "clip-tiny") == 0 &&
          strcmp(b->path, "backbones/clip.safetensors") == 0 && strcmp(b->sha256, hash) == 0 &&
          strcmp(b->architecture_json, "{\"arch\":\"vit\",\"depth\":12}") == 0 &&
          b->params == 5700000);
    free(b);

    LptStoreRun *r = NULL;
    OK(lpt_store_run_get(s, 1, &r, &err));
    CHECK(r && strcmp(r->name, "first") == 0 && strcmp(r->config_json, "{\"epochs\":3}") == 0 &&
          r->split_id == 1 && r->backbone_id[0] == 1 && r->backbone_id[1] == 2 &&
          r->status == LPT_STORE_RUN_FINISHED && r->num_classes == 3 && r->started_at > 0 &&
          r->finished_at >= r->started_at && r->error == NULL && r->class_ids == NULL);
    free(r);
    int64_t *ids = NULL;
    OK(lpt_store_run_classes(s, 1, &ids, &n, &err));
    CHECK(n == 3 && ids && ids[0] == 1 && ids[1] == 2 && ids[2] == 3);
    free(ids);

    LptStoreCheckpoint *c = NULL;
    OK(lpt_store_checkpoint_find(s, 1, 1, LPT_STORE_EXPERT_VISION, LPT_STORE_CHECKPOINT_BEST, &c,
                                 &err));
    CHECK(c && c->epoch == 0 && c->is_best == 1 && c->metric == 0.5 && c->data == NULL &&
          strcmp(c->path, "ckpt/p1-vision-0.safetensors") == 0);
    free(c);
    OK(lpt_store_checkpoint_find(s, 1, 1, LPT_STORE_EXPERT_VISION, LPT_STORE_CHECKPOINT_LATEST, &c,
                                 &err));
    CHECK(c && c->epoch == 1 && c->is_best == 0 && c->path == NULL &&
          c->data_size == sizeof sample_blob &&
          memcmp(c->data, sample_blob, sizeof sample_blob) == 0);
    free(c);

    LptStoreEpochMetrics *m = NULL;
    OK(lpt_store_metric_list(s, 1, &m, &n, &err));
    CHECK(n == 1 && m && m->split == LPT_STORE_SPLIT_VAL && m->loss == 1.5 && m->overall == 0.5 &&
          m->balanced == 0.25 && m->many == 0.75 && isnan(m->medium) && m->few == 0.125 &&
          m->lr == 0.001 && m->seconds == 12.5);
    free(m);

    LptStorePrediction *p = NULL;
    OK(lpt_store_prediction_get(s, 1, 1, &p, &err));
    CHECK(p && p->correct == 1 && p->top_k == 2 && p->num_classes == 3 &&
          memcmp(p->fused_topk, sample_fused_topk, sizeof sample_fused_topk) == 0 &&
          memcmp(p->expert_topk[0], sample_vision_topk, sizeof sample_vision_topk) == 0 &&
          memcmp(p->expert_topk[1], sample_vl_topk, sizeof sample_vl_topk) == 0 &&
          memcmp(p->fused_probs, sample_fused_probs, sizeof sample_fused_probs) == 0 &&
          memcmp(p->expert_probs[0], sample_vision_probs, sizeof sample_vision_probs) == 0 &&
          memcmp(p->expert_probs[1], sample_vl_probs, sizeof sample_vl_probs) == 0 &&
          memcmp(p->scorer_weights, sample_weights, sizeof sample_weights) == 0 &&
          p->num_prompts[0] == 2 && p->num_prompts[1] == 1 &&
          memcmp(p->prompts[0], sample_prompts_vision, sizeof sample_prompts_vision) == 0 &&
          p->prompts[1][0] == 1);
    free(p);
    OK(lpt_store_prediction_get(s, 1, 6, &p, &err));
    CHECK(p && p->correct == 0 && p->top_k == 1 && p->fused_topk[0].class_index == 0 &&
          !p->expert_topk[0] && !p->fused_probs && !p->scorer_weights && !p->prompts[0] &&
          p->num_prompts[0] == 0);
    free(p);
    OK(lpt_store_prediction_list(s, 1, LPT_STORE_WRONG, &ids, &n, &err));
    CHECK(n == 1 && ids && ids[0] == 6);
    free(ids);

    LptStoreExport *x = NULL;
    OK(lpt_store_export_list(s, 1, &x, &n, &err));
    hash_of(hash, 200);
    CHECK(n == 1 && x && x->format == LPT_STORE_EXPORT_BUNDLE &&
          strcmp(x->path, "out/model.lptm") == 0 && strcmp(x->sha256, hash) == 0 &&
          strstr(x->parity_json, "max_diff") != NULL);
    free(x);
}

/* ---- Creating, opening ---- */

static void test_create(void)
{
    printf("# create and open\n");
    char path[512], lock[600];
    path_in_tmp(path, sizeof path, "new" LPT_STORE_EXTENSION);
    snprintf(lock, sizeof lock, "%s-lock", path);
    EXPECT_ERROR(lpt_store_open(path, LPT_STORE_OPEN, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "does not exist");
    CHECK(!file_exists(path) && !file_exists(lock));

    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    CHECK(file_exists(lock));
    CHECK(strcmp(lpt_store_path(s), path) == 0);
    CHECK(raw_int(path, "PRAGMA application_id") == LPT_STORE_APPLICATION_ID);
    CHECK(raw_int(path, "PRAGMA user_version") == LPT_STORE_SCHEMA_VERSION);
    CHECK(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'") == 12);
    CHECK(file_exists(lock));
    /* foreign keys are on: an image of a missing class is refused */
    LptStoreImage im = image_of("a.png", 1, 77, LPT_STORE_SPLIT_TRAIN);
    int64_t id = -1;
    EXPECT_ERROR(lpt_store_image_insert(s, &im, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "FOREIGN KEY");
    CHECK(id == 0 && err.detail == SQLITE_CONSTRAINT_FOREIGNKEY && strstr(err.message, "a.png"));
    lpt_store_close(s);
    CHECK(!file_exists(lock));
    /* WAL is stored in the file */
    CHECK(raw_int(path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") ==
          1);

    EXPECT_ERROR(lpt_store_open(path, LPT_STORE_CREATE, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "already exists");
    s = lpt_store_open(path, LPT_STORE_OPEN_OR_CREATE, &err);
    CHECK(s != NULL);
    lpt_store_close(s);
    remove_project(path);
    s = lpt_store_open(path, LPT_STORE_OPEN_OR_CREATE, &err);
    CHECK(s != NULL && raw_int(path, "PRAGMA user_version") == LPT_STORE_SCHEMA_VERSION);
    lpt_store_close(s);
    remove_project(path);

    EXPECT_ERROR(lpt_store_open(NULL, LPT_STORE_OPEN, &err) ? LPT_OK : err.code,
                 LPT_ERR_INVALID_ARGUMENT, "no path");
    EXPECT_ERROR(lpt_store_open(tmpdir, LPT_STORE_OPEN, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "not a regular file");
    lpt_store_close(NULL);
}

static void test_sample_roundtrip(void)
{
    char path[512];
    path_in_tmp(path, sizeof path, "sample" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    CHECK(s && fill_sample(s));
    check_sample(s, "just written", LPT_STORE_SCHEMA_VERSION);
    /* a given split can move but not go: split_given stays */
    EXPECT_ERROR(lpt_store_image_set_split(s, 1, LPT_STORE_SPLIT_NONE, &err),
                 LPT_ERR_INVALID_ARGUMENT, "CHECK constraint failed");
    OK(lpt_store_image_set_split(s, 1, LPT_STORE_SPLIT_VAL, &err));
    LptStoreImage *im = NULL;
    OK(lpt_store_image_get(s, 1, &im, &err));
    CHECK(im && im->split == LPT_STORE_SPLIT_VAL && im->split_given == 1);
    free(im);
    OK(lpt_store_image_set_split(s, 1, LPT_STORE_SPLIT_TRAIN, &err));
    lpt_store_close(s);
    s = lpt_store_open(path, LPT_STORE_OPEN, &err);
    CHECK(s != NULL);
    if (s)
        check_sample(s, "after reopening", LPT_STORE_SCHEMA_VERSION);
    lpt_store_close(s);
    s = lpt_store_open(path, LPT_STORE_READ_ONLY, &err);
    CHECK(s != NULL);
    if (s)
        check_sample(s, "read-only", LPT_STORE_SCHEMA_VERSION);
    lpt_store_close(s);
    remove_project(path);
}

/* ---- Records: bad input, counts, history, replacement rules ---- */

static void test_records(void)
{
    printf("# records\n");
    char path[512];
    path_in_tmp(path, sizeof path, "records" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0, b = 0, c = 0, again = 0, id = 0;
    int created = -1;
    OK(lpt_store_class_ensure(s, "a", &a, &created, &err));
    CHECK(a == 1 && created == 1);
    OK(lpt_store_class_ensure(s, "a", &again, &created, &err));
    CHECK(again == a && created == 0);
    OK(lpt_store_class_ensure(s, "b", &b, NULL, &err));
    OK(lpt_store_class_ensure(s, "c", &c, NULL, &err));
    EXPECT_ERROR(lpt_store_class_ensure(s, "", &id, NULL, &err), LPT_ERR_INVALID_ARGUMENT, "empty");
    EXPECT_ERROR(lpt_store_class_update(s, b, "a", NULL, &err), LPT_ERR_INVALID_ARGUMENT, "UNIQUE");
    CHECK(err.detail == SQLITE_CONSTRAINT_UNIQUE && strstr(err.message, "class 2"));
    EXPECT_ERROR(lpt_store_class_update(s, 99, "z", NULL, &err), LPT_ERR_INVALID_ARGUMENT,
                 "no class with id 99");
    OK(lpt_store_class_update(s, c, "c2", NULL, &err));

    /* images: good ones across splits, then every kind of bad one */
    char names[12][32];
    const LptStoreSplit splits[4] = {LPT_STORE_SPLIT_TRAIN, LPT_STORE_SPLIT_VAL,
                                     LPT_STORE_SPLIT_TEST, LPT_STORE_SPLIT_NONE};
    for (int i = 0; i < 12; i++) {
        snprintf(names[i], sizeof names[i], "img/%02d.png", i);
        LptStoreImage im = image_of(names[i], (unsigned)i, i < 8 ? a : b, splits[i % 4]);
        OK(lpt_store_image_insert(s, &im, &id, &err));
        CHECK(id == i + 1);
    }
    LptStoreImage dup = image_of("img/00.png", 50, a, LPT_STORE_SPLIT_TRAIN);
    EXPECT_ERROR(lpt_store_image_insert(s, &dup, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "UNIQUE constraint failed: images.path");
    CHECK(err.detail == SQLITE_CONSTRAINT_UNIQUE && strstr(err.message, "img/00.png") && id == 0);
    LptStoreImage bad = image_of("x.png", 1, a, LPT_STORE_SPLIT_TRAIN);
    bad.content_hash[5] = 'G';
    EXPECT_ERROR(lpt_store_image_insert(s, &bad, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "lowercase hex");
    bad = image_of("x.png", 1, a, LPT_STORE_SPLIT_TRAIN);
    bad.channels = 5;
    EXPECT_ERROR(lpt_store_image_insert(s, &bad, &id, &err), LPT_ERR_INVALID_ARGUMENT, "x.png");
    bad = image_of("x.png", 1, a, (LptStoreSplit)7);
    EXPECT_ERROR(lpt_store_image_insert(s, &bad, &id, &err), LPT_ERR_INVALID_ARGUMENT, "split");
    bad = image_of("x.png", 1, a, LPT_STORE_SPLIT_NONE);
    bad.split_given = 1;
    EXPECT_ERROR(lpt_store_image_insert(s, &bad, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "a given split needs a split");
    bad = image_of("x.png", 1, a, LPT_STORE_SPLIT_TEST);
    bad.split_given = 2;
    EXPECT_ERROR(lpt_store_image_insert(s, &bad, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "split_given must be 0 or 1");
    EXPECT_ERROR(lpt_store_image_insert(s, NULL, &id, &err), LPT_ERR_INVALID_ARGUMENT, NULL);

    /* duplicates by hash: the lowest id */
    LptStoreImage twin = image_of("img/twin.png", 3, a, LPT_STORE_SPLIT_TRAIN);
    OK(lpt_store_image_insert(s, &twin, &id, &err));
    OK(lpt_store_image_find_hash(s, twin.content_hash, &id, &err));
    CHECK(id == 4);
    char none[LPT_STORE_HASH_LEN + 1];
    memset(none, 'f', LPT_STORE_HASH_LEN);
    none[LPT_STORE_HASH_LEN] = '\0';
    OK(lpt_store_image_find_hash(s, none, &id, &err));
    CHECK(id == 0);
    EXPECT_ERROR(lpt_store_image_find_hash(s, "abc", &id, &err), LPT_ERR_INVALID_ARGUMENT, "hex");

    /* exclusion, splits, counts (excluded left out, a class without images included) */
    OK(lpt_store_image_set_excluded(s, 1, 1, &err));
    OK(lpt_store_image_set_excluded(s, 2, 1, &err));
    OK(lpt_store_image_set_excluded(s, 2, 0, &err));
    OK(lpt_store_image_set_split(s, 12, LPT_STORE_SPLIT_TEST, &err));
    EXPECT_ERROR(lpt_store_image_set_split(s, 999, LPT_STORE_SPLIT_TEST, &err),
                 LPT_ERR_INVALID_ARGUMENT, "no image with id 999");
    EXPECT_ERROR(lpt_store_image_set_excluded(s, 3, 2, &err), LPT_ERR_INVALID_ARGUMENT, NULL);
    LptStoreClassCount *counts = NULL;
    size_t n = 0;
    OK(lpt_store_class_counts(s, &counts, &n, &err));
    /* a: ids 1..8 cycle train/val/test/none, the twin (13) is train, 1 is excluded:
     *    train {5, 13}, val {2, 6}, test {3, 7}, none {4, 8}
     * b: ids 9..12: train 9, val 10, test 11 and 12 (moved from none) */
    CHECK(n == 3 && counts[0].count[LPT_STORE_SPLIT_TRAIN] == 2 &&
          counts[0].count[LPT_STORE_SPLIT_VAL] == 2 && counts[0].count[LPT_STORE_SPLIT_TEST] == 2 &&
          counts[0].count[LPT_STORE_SPLIT_NONE] == 2 && counts[0].excluded == 1 &&
          counts[1].count[LPT_STORE_SPLIT_TRAIN] == 1 &&
          counts[1].count[LPT_STORE_SPLIT_VAL] == 1 && counts[1].count[LPT_STORE_SPLIT_TEST] == 2 &&
          counts[1].count[LPT_STORE_SPLIT_NONE] == 0 && counts[2].class_id == c &&
          counts[2].count[1] == 0 && counts[2].excluded == 0);
    free(counts);

    /* listing by class / split / both / neither, with and without excluded */
    int64_t *ids = NULL;
    OK(lpt_store_image_list(s, a, LPT_STORE_SPLIT_TRAIN, 0, &ids, &n, &err));
    CHECK(n == 2 && ids[0] == 5 && ids[1] == 13);
    free(ids);
    OK(lpt_store_image_list(s, a, LPT_STORE_SPLIT_TRAIN, 1, &ids, &n, &err));
    CHECK(n == 3 && ids[0] == 1);
    free(ids);
    OK(lpt_store_image_list(s, b, LPT_STORE_SPLIT_ANY, 0, &ids, &n, &err));
    CHECK(n == 4 && ids[0] == 9 && ids[3] == 12);
    free(ids);
    OK(lpt_store_image_list(s, 0, LPT_STORE_SPLIT_NONE, 0, &ids, &n, &err));
    CHECK(n == 2 && ids[0] == 4 && ids[1] == 8);
    free(ids);
    OK(lpt_store_image_list(s, 0, LPT_STORE_SPLIT_ANY, 1, &ids, &n, &err));
    CHECK(n == 13);
    free(ids);
    OK(lpt_store_image_list(s, c, LPT_STORE_SPLIT_ANY, 1, &ids, &n, &err));
    CHECK(n == 0 && ids == NULL);
    EXPECT_ERROR(lpt_store_image_list(s, -1, LPT_STORE_SPLIT_ANY, 0, &ids, &n, &err),
                 LPT_ERR_INVALID_ARGUMENT, NULL);
    LptStoreImage *got = NULL;
    OK(lpt_store_image_get(s, 999, &got, &err));
    CHECK(got == NULL);

    /* relabel: history in order, a no-op for the same class, nothing on failure */
    OK(lpt_store_image_relabel(s, 5, b, "looks like b", &err));
    OK(lpt_store_image_relabel(s, 5, b, "again", &err));
    OK(lpt_store_image_relabel(s, 5, c, NULL, &err));
    EXPECT_ERROR(lpt_store_image_relabel(s, 5, 99, "bad", &err), LPT_ERR_INVALID_ARGUMENT,
                 "FOREIGN KEY");
    CHECK(strstr(err.message, "image 5") && strstr(err.message, "class 99"));
    EXPECT_ERROR(lpt_store_image_relabel(s, 999, a, "bad", &err), LPT_ERR_INVALID_ARGUMENT,
                 "no image with id 999");
    LptStoreLabelChange *h = NULL;
    OK(lpt_store_label_history(s, 5, &h, &n, &err));
    CHECK(n == 2 && h[0].old_class_id == a && h[0].new_class_id == b &&
          strcmp(h[0].reason, "looks like b") == 0 && h[1].old_class_id == b &&
          h[1].new_class_id == c && strcmp(h[1].reason, "") == 0 && h[0].id < h[1].id &&
          h[0].at > 0);
    free(h);
    OK(lpt_store_image_get(s, 5, &got, &err));
    CHECK(got && got->class_id == c);
    free(got);
    OK(lpt_store_label_history(s, 6, &h, &n, &err));
    CHECK(n == 0 && h == NULL);

    /* split settings */
    LptStoreSplitSettings ss = {.seed = UINT64_MAX, .train_fraction = 0.5, .val_fraction = 0.5};
    OK(lpt_store_split_latest(s, &ss, &err));
    CHECK(ss.id == 0);
    ss = (LptStoreSplitSettings){.seed = UINT64_MAX, .train_fraction = 0.5, .val_fraction = 0.5};
    OK(lpt_store_split_insert(s, &ss, &id, &err));
    ss.user_given = 1;
    ss.train_fraction = 0;
    OK(lpt_store_split_insert(s, &ss, &id, &err));
    OK(lpt_store_split_latest(s, &ss, &err));
    CHECK(ss.id == 2 && ss.user_given == 1 && ss.seed == UINT64_MAX);
    ss.user_given = 0;
    ss.train_fraction = NAN;
    EXPECT_ERROR(lpt_store_split_insert(s, &ss, &id, &err), LPT_ERR_INVALID_ARGUMENT, "fractions");
    ss.train_fraction = 0.25;
    EXPECT_ERROR(lpt_store_split_insert(s, &ss, &id, &err), LPT_ERR_INVALID_ARGUMENT, "sum to 1");

    /* backbones: the same file twice is one backbone */
    LptStoreBackbone bb = {.role = LPT_STORE_EXPERT_VISION,
                           .path = "v.safetensors",
                           .architecture_json = "{}",
                           .params = 1};
    hash_of(bb.sha256, 9);
    int64_t bb1 = 0, bb2 = 0;
    OK(lpt_store_backbone_insert(s, &bb, &bb1, &err));
    bb.path = "moved/v.safetensors";
    OK(lpt_store_backbone_insert(s, &bb, &bb2, &err));
    CHECK(bb1 == 1 && bb2 == bb1);
    bb.role = LPT_STORE_EXPERT_FUSED;
    EXPECT_ERROR(lpt_store_backbone_insert(s, &bb, &id, &err), LPT_ERR_INVALID_ARGUMENT, "role");
    bb.role = LPT_STORE_EXPERT_VL;
    bb.architecture_json = "{not json";
    EXPECT_ERROR(lpt_store_backbone_insert(s, &bb, &id, &err), LPT_ERR_INVALID_ARGUMENT, "CHECK");
    LptStoreBackbone *bget = NULL;
    OK(lpt_store_backbone_get(s, 42, &bget, &err));
    CHECK(bget == NULL);

    /* runs */
    const int64_t run_classes[3] = {a, b, c};
    LptStoreRun r = {.config_json = "{}", .class_ids = run_classes, .num_classes = 3};
    int64_t run = 0;
    OK(lpt_store_run_create(s, &r, &run, &err));
    CHECK(run == 1);
    LptStoreRun *rget = NULL;
    OK(lpt_store_run_get(s, run, &rget, &err));
    CHECK(rget && rget->status == LPT_STORE_RUN_CREATED && rget->started_at == 0 &&
          rget->split_id == 0 && rget->backbone_id[0] == 0 && strcmp(rget->name, "") == 0);
    free(rget);
    OK(lpt_store_run_set_status(s, run, LPT_STORE_RUN_RUNNING, "ignored", &err));
    OK(lpt_store_run_set_status(s, run, LPT_STORE_RUN_FAILED, "device lost", &err));
    OK(lpt_store_run_get(s, run, &rget, &err));
    CHECK(rget && rget->status == LPT_STORE_RUN_FAILED && rget->started_at > 0 &&
          rget->finished_at > 0 && rget->error && strcmp(rget->error, "device lost") == 0);
    free(rget);
    OK(lpt_store_run_set_status(s, run, LPT_STORE_RUN_RUNNING, NULL, &err));
    OK(lpt_store_run_get(s, run, &rget, &err));
    CHECK(rget && rget->status == LPT_STORE_RUN_RUNNING && rget->finished_at == 0 &&
          rget->error == NULL);
    free(rget);
    EXPECT_ERROR(lpt_store_run_set_status(s, run, LPT_STORE_RUN_CREATED, NULL, &err),
                 LPT_ERR_INVALID_ARGUMENT, "created");
    EXPECT_ERROR(lpt_store_run_set_status(s, 77, LPT_STORE_RUN_FINISHED, NULL, &err),
                 LPT_ERR_INVALID_ARGUMENT, "no run with id 77");
    r.config_json = "{oops";
    EXPECT_ERROR(lpt_store_run_create(s, &r, &id, &err), LPT_ERR_INVALID_ARGUMENT, "CHECK");
    /* a run with a missing class leaves no run behind */
    const int64_t missing[2] = {a, 99};
    r = (LptStoreRun){.config_json = "{}", .class_ids = missing, .num_classes = 2};
    EXPECT_ERROR(lpt_store_run_create(s, &r, &id, &err), LPT_ERR_INVALID_ARGUMENT, "class 99");
    CHECK(id == 0 && strstr(err.message, "run_classes"));
    const int64_t twice[2] = {a, a};
    r.class_ids = twice;
    EXPECT_ERROR(lpt_store_run_create(s, &r, &id, &err), LPT_ERR_INVALID_ARGUMENT, "UNIQUE");
    OK(lpt_store_run_list(s, &ids, &n, &err));
    CHECK(n == 1 && ids[0] == run);
    free(ids);
    CHECK(raw_int(path, "SELECT count(*) FROM run_classes") == 3);

    /* checkpoints: the best moves, the latest is the highest epoch, an epoch again replaces,
     * pruning keeps the latest and the best */
    LptStoreCheckpoint ck = {.run_id = run,
                             .phase = 2,
                             .expert = LPT_STORE_EXPERT_VL,
                             .epoch = 0,
                             .path = "e0",
                             .metric = 0.1,
                             .is_best = 1};
    int64_t ck0 = 0, ck1 = 0;
    OK(lpt_store_checkpoint_insert(s, &ck, &ck0, &err));
    ck.epoch = 1;
    ck.path = "e1";
    ck.metric = 0.2;
    OK(lpt_store_checkpoint_insert(s, &ck, &ck1, &err));
    CHECK(ck0 > 0 && ck1 > ck0);
    ck.epoch = 2;
    ck.path = "e2";
    ck.is_best = 0;
    OK(lpt_store_checkpoint_insert(s, &ck, &id, &err));
    ck.path = "e2-again";
    OK(lpt_store_checkpoint_insert(s, &ck, &id, &err));
    LptStoreCheckpoint *found = NULL;
    OK(lpt_store_checkpoint_find(s, run, 2, LPT_STORE_EXPERT_VL, LPT_STORE_CHECKPOINT_BEST, &found,
                                 &err));
    CHECK(found && found->id == ck1 && strcmp(found->path, "e1") == 0);
    free(found);
    OK(lpt_store_checkpoint_find(s, run, 2, LPT_STORE_EXPERT_VL, LPT_STORE_CHECKPOINT_LATEST,
                                 &found, &err));
    CHECK(found && found->epoch == 2 && strcmp(found->path, "e2-again") == 0 &&
          found->data == NULL && found->metric == 0.2);
    free(found);
    CHECK(raw_int(path, "SELECT count(*) FROM checkpoints") == 3);
    /* pruning keeps the latest (2) and the best (1), twice the same */
    OK(lpt_store_checkpoint_prune(s, run, 2, LPT_STORE_EXPERT_VL, &err));
    OK(lpt_store_checkpoint_prune(s, run, 2, LPT_STORE_EXPERT_VL, &err));
    CHECK(raw_int(path, "SELECT count(*) FROM checkpoints") == 2 &&
          raw_int(path, "SELECT count(*) FROM checkpoints WHERE epoch = 0") == 0);
    OK(lpt_store_checkpoint_find(s, run, 2, LPT_STORE_EXPERT_VL, LPT_STORE_CHECKPOINT_BEST, &found,
                                 &err));
    CHECK(found && found->id == ck1);
    free(found);
    OK(lpt_store_checkpoint_find(s, run, 1, LPT_STORE_EXPERT_VL, LPT_STORE_CHECKPOINT_LATEST,
                                 &found, &err));
    CHECK(found == NULL);
    ck.data = sample_blob;
    ck.data_size = sizeof sample_blob;
    EXPECT_ERROR(lpt_store_checkpoint_insert(s, &ck, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "exactly one");
    ck.path = NULL;
    ck.phase = 4;
    EXPECT_ERROR(lpt_store_checkpoint_insert(s, &ck, &id, &err), LPT_ERR_INVALID_ARGUMENT, "phase");
    ck.phase = 1;
    ck.run_id = 55;
    EXPECT_ERROR(lpt_store_checkpoint_insert(s, &ck, &id, &err), LPT_ERR_INVALID_ARGUMENT,
                 "FOREIGN KEY");
    CHECK(strstr(err.message, "run 55"));

    /* metrics: an epoch again replaces; order by phase, expert, epoch, split */
    LptStoreEpochMetrics me = {.run_id = run,
                               .phase = 1,
                               .expert = LPT_STORE_EXPERT_VL,
                               .epoch = 3,
                               .split = LPT_STORE_SPLIT_VAL,
                               .loss = 2,
                               .overall = NAN,
                               .balanced = NAN,
                               .many = NAN,
                               .medium = NAN,
                               .few = NAN,
                               .lr = NAN,
                               .seconds = NAN};
    OK(lpt_store_metric_insert(s, &me, &err));
    me.loss = 1;
    OK(lpt_store_metric_insert(s, &me, &err));
    me.expert = LPT_STORE_EXPERT_VISION;
    me.split = LPT_STORE_SPLIT_TRAIN;
    OK(lpt_store_metric_insert(s, &me, &err));
    me.split = LPT_STORE_SPLIT_NONE;
    EXPECT_ERROR(lpt_store_metric_insert(s, &me, &err), LPT_ERR_INVALID_ARGUMENT, "split");
    LptStoreEpochMetrics *ml = NULL;
    OK(lpt_store_metric_list(s, run, &ml, &n, &err));
    CHECK(n == 2 && ml[0].expert == LPT_STORE_EXPERT_VISION &&
          ml[1].expert == LPT_STORE_EXPERT_VL && ml[1].loss == 1 && isnan(ml[1].overall));
    free(ml);

    /* predictions */
    LptStorePrediction p = sample_prediction(run, 1);
    OK(lpt_store_prediction_insert(s, &p, &err));
    p.image_id = 2;
    p.label_index = 0;
    OK(lpt_store_prediction_insert(s, &p, &err));
    p.image_id = 3;
    OK(lpt_store_prediction_insert(s, &p, &err));
    p.label_index = 1; /* the same image again: replaced, now correct */
    OK(lpt_store_prediction_insert(s, &p, &err));
    OK(lpt_store_prediction_list(s, run, LPT_STORE_CORRECT, &ids, &n, &err));
    CHECK(n == 2 && ids[0] == 1 && ids[1] == 3);
    free(ids);
    OK(lpt_store_prediction_list(s, run, LPT_STORE_WRONG, &ids, &n, &err));
    CHECK(n == 1 && ids[0] == 2);
    free(ids);
    OK(lpt_store_prediction_list(s, run, LPT_STORE_ANY_RESULT, &ids, &n, &err));
    CHECK(n == 3);
    free(ids);
    LptStorePrediction *pg = NULL;
    OK(lpt_store_prediction_get(s, run, 4, &pg, &err));
    CHECK(pg == NULL);
    p.num_classes = 4;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT,
                 "num_classes differs");
    p.num_classes = 3;
    p.label_index = 3;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT, "label");
    p.label_index = 0;
    const LptStoreTopK out_of_range[2] = {{3, 0.5f}, {0, 0.5f}};
    p.expert_topk[1] = out_of_range;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT,
                 "out of range");
    p.expert_topk[1] = sample_vl_topk;
    const float nan_probs[3] = {0.5f, NAN, 0.5f};
    p.fused_probs = nan_probs;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT, "finite");
    p.fused_probs = sample_fused_probs;
    p.num_prompts[1] = 0;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT, "prompts");
    p.num_prompts[1] = 1;
    p.run_id = 33;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT,
                 "no run with id 33");
    p.run_id = run;
    p.image_id = 999;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &p, &err), LPT_ERR_INVALID_ARGUMENT, "image 999");

    /* K > 1000: top-k only */
    int64_t *many = malloc(1001 * sizeof *many);
    float *probs = calloc(1001, sizeof *probs);
    OK(lpt_store_begin(s, &err));
    for (int i = 0; many && i < 1001; i++) {
        char name[32];
        snprintf(name, sizeof name, "k%d", i);
        OK(lpt_store_class_ensure(s, name, &many[i], NULL, &err));
    }
    OK(lpt_store_commit(s, &err));
    r = (LptStoreRun){.config_json = "{}", .class_ids = many, .num_classes = 1001};
    int64_t big = 0;
    OK(lpt_store_run_create(s, &r, &big, &err));
    const LptStoreTopK top[1] = {{1000, 0.5f}};
    LptStorePrediction pk = {.run_id = big,
                             .image_id = 1,
                             .label_index = 1000,
                             .num_classes = 1001,
                             .top_k = 1,
                             .fused_topk = top};
    OK(lpt_store_prediction_insert(s, &pk, &err));
    pk.fused_probs = probs;
    EXPECT_ERROR(lpt_store_prediction_insert(s, &pk, &err), LPT_ERR_INVALID_ARGUMENT,
                 "1000 classes");
    free(many);
    free(probs);
    OK(lpt_store_prediction_get(s, big, 1, &pg, &err));
    CHECK(pg && pg->correct == 1 && pg->fused_topk[0].class_index == 1000 && !pg->fused_probs);
    free(pg);

    /* exports */
    LptStoreExport x = {.run_id = run, .format = LPT_STORE_EXPORT_ONNX, .path = "m.onnx"};
    hash_of(x.sha256, 3);
    OK(lpt_store_export_insert(s, &x, &id, &err));
    x.format = LPT_STORE_EXPORT_C;
    x.path = "m.h";
    x.parity_json = "{\"flips\":1}";
    OK(lpt_store_export_insert(s, &x, &id, &err));
    LptStoreExport *xl = NULL;
    OK(lpt_store_export_list(s, run, &xl, &n, &err));
    CHECK(n == 2 && xl[0].format == LPT_STORE_EXPORT_ONNX && xl[0].parity_json == NULL &&
          xl[1].format == LPT_STORE_EXPORT_C && strcmp(xl[1].parity_json, "{\"flips\":1}") == 0 &&
          strcmp(xl[1].path, "m.h") == 0);
    free(xl);
    x.parity_json = "[unterminated";
    EXPECT_ERROR(lpt_store_export_insert(s, &x, &id, &err), LPT_ERR_INVALID_ARGUMENT, "CHECK");
    x.parity_json = NULL;
    x.format = (LptStoreExportFormat)9;
    EXPECT_ERROR(lpt_store_export_insert(s, &x, &id, &err), LPT_ERR_INVALID_ARGUMENT, "format");

    /* settings */
    char *value = (char *)"unset";
    OK(lpt_store_setting_get(s, "nothing", &value, &err));
    CHECK(value == NULL);
    OK(lpt_store_setting_set(s, "k", "1", &err));
    OK(lpt_store_setting_set(s, "k", "2", &err));
    OK(lpt_store_setting_get(s, "k", &value, &err));
    CHECK(value && strcmp(value, "2") == 0);
    free(value);

    /* names */
    CHECK(strcmp(lpt_store_split_name(LPT_STORE_SPLIT_VAL), "val") == 0 &&
          strcmp(lpt_store_run_status_name(LPT_STORE_RUN_INTERRUPTED), "interrupted") == 0 &&
          strcmp(lpt_store_expert_name((LptStoreExpert)5), "?") == 0 &&
          strcmp(lpt_store_export_format_name(LPT_STORE_EXPORT_C), "c") == 0);
    lpt_store_close(s);
    remove_project(path);
}

/* ---- Transactions ---- */

static void test_transactions(void)
{
    printf("# transactions\n");
    char path[512];
    path_in_tmp(path, sizeof path, "tx" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0, id = 0;
    OK(lpt_store_begin(s, &err));
    EXPECT_ERROR(lpt_store_begin(s, &err), LPT_ERR_INVALID_ARGUMENT, "already has a transaction");
    OK(lpt_store_class_ensure(s, "a", &a, NULL, &err));
    LptStoreImage im = image_of("a.png", 1, a, LPT_STORE_SPLIT_TRAIN);
    OK(lpt_store_image_insert(s, &im, &id, &err));
    /* a failing op inside the group undoes only itself */
    EXPECT_ERROR(lpt_store_image_relabel(s, id, 42, NULL, &err), LPT_ERR_INVALID_ARGUMENT,
                 "FOREIGN KEY");
    LptStoreImage *got = NULL;
    OK(lpt_store_image_get(s, id, &got, &err));
    CHECK(got && got->class_id == a);
    free(got);
    OK(lpt_store_rollback(s, &err));
    LptStoreClass *classes = NULL;
    size_t n = 9;
    OK(lpt_store_class_list(s, &classes, &n, &err));
    CHECK(n == 0 && classes == NULL);
    CHECK(raw_int(path, "SELECT count(*) FROM images") == 0);
    EXPECT_ERROR(lpt_store_commit(s, &err), LPT_ERR_INVALID_ARGUMENT, "no transaction");
    OK(lpt_store_rollback(s, &err));

    /* an op that fails half-way inside a group (the run row written, a class missing)
     * undoes its own writes and keeps the group's */
    OK(lpt_store_begin(s, &err));
    OK(lpt_store_class_ensure(s, "b", &a, NULL, &err));
    const int64_t bad_classes[2] = {a, 99};
    LptStoreRun r = {.config_json = "{}", .class_ids = bad_classes, .num_classes = 2};
    EXPECT_ERROR(lpt_store_run_create(s, &r, &id, &err), LPT_ERR_INVALID_ARGUMENT, "class 99");
    int64_t *runs = NULL;
    OK(lpt_store_run_list(s, &runs, &n, &err));
    CHECK(n == 0 && runs == NULL);
    OK(lpt_store_commit(s, &err));
    CHECK(raw_int(path, "SELECT count(*) FROM classes WHERE name = 'b'") == 1);
    CHECK(raw_int(path, "SELECT count(*) FROM runs") == 0);

    /* a committed group stays; a group left open at close is rolled back */
    OK(lpt_store_begin(s, &err));
    OK(lpt_store_class_ensure(s, "kept", &a, NULL, &err));
    OK(lpt_store_commit(s, &err));
    OK(lpt_store_begin(s, &err));
    OK(lpt_store_class_ensure(s, "lost", &a, NULL, &err));
    lpt_store_close(s);
    CHECK(raw_int(path, "SELECT count(*) FROM classes WHERE name = 'kept'") == 1);
    CHECK(raw_int(path, "SELECT count(*) FROM classes WHERE name = 'lost'") == 0);
    remove_project(path);
}

/* ---- Migrations ---- */

static const char *const extra_step[] = {
    "CREATE TABLE extra (x INTEGER) STRICT",
    "INSERT INTO extra VALUES (1)",
    NULL,
};
static const char *const failing_step[] = {
    "CREATE TABLE extra (x INTEGER) STRICT",
    "INSERT INTO no_such_table VALUES (1)",
    NULL,
};
static const char *const orphan_step[] = {
    "INSERT INTO label_history (image_id, old_class_id, new_class_id, at) VALUES (999, 1, 1, 0)",
    NULL,
};

/* Fills for the extra step: one changes its row, one fails. */
static LptStatus fill_extra(LptStore *s, LptError *e)
{
    int rc = sqlite3_exec(s->db, "UPDATE extra SET x = 2", NULL, NULL, NULL);
    return rc == SQLITE_OK ? LPT_OK : lpt_store_sql_error(s, rc, e, "filling extra");
}

static LptStatus fill_failing(LptStore *s, LptError *e)
{
    (void)s;
    return lpt_error_set(e, LPT_ERR_IO, 0, "the fill failed");
}

/* Builds a project file from a frozen SQL fixture through plain SQLite. */
static bool build_fixture(const char *path, int version)
{
    char sql_path[512];
    snprintf(sql_path, sizeof sql_path, "%s/project_v%d.sql", fixture_dir, version);
    size_t size = 0;
    char *sql = (char *)read_file(sql_path, &size);
    if (!sql) {
        printf("FAIL: missing fixture %s (freeze one with tests/fixtures/make_store.py)\n",
               sql_path);
        return false;
    }
    sql[size] = '\0';
    remove_project(path);
    bool ok = raw_exec(path, sql);
    free(sql);
    return ok;
}

static void test_migrations(void)
{
    printf("# migrations\n");
    char fresh[512], path[512];
    path_in_tmp(fresh, sizeof fresh, "fresh" LPT_STORE_EXTENSION);
    path_in_tmp(path, sizeof path, "old" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(fresh, LPT_STORE_CREATE, &err);
    lpt_store_close(s);
    char *fresh_schema = raw_schema(fresh);

    /* every released version, opened by this code, reads like a new project */
    for (int v = 1; v <= LPT_STORE_SCHEMA_VERSION; v++) {
        if (!CHECK(build_fixture(path, v)))
            continue;
        CHECK(raw_int(path, "PRAGMA user_version") == v);
        s = lpt_store_open(path, LPT_STORE_OPEN, &err);
        if (!check(s != NULL, __LINE__, "opening a frozen fixture")) {
            printf("  -> %s\n", err.message);
            continue;
        }
        char label[64];
        snprintf(label, sizeof label, "fixture v%d upgraded to v%d", v, LPT_STORE_SCHEMA_VERSION);
        check_sample(s, label, v);
        lpt_store_close(s);
        CHECK(raw_int(path, "PRAGMA user_version") == LPT_STORE_SCHEMA_VERSION);
        char *schema = raw_schema(path);
        CHECK(schema && fresh_schema && strcmp(schema, fresh_schema) == 0);
        free(schema);
    }
    free(fresh_schema);

    /* the runner: a further step (today's steps, then one more) applies in its own
     * transaction ... */
    enum { CUR = LPT_STORE_SCHEMA_VERSION, NEXT = LPT_STORE_SCHEMA_VERSION + 1 };
    LptStoreMigration steps[NEXT];
    for (int i = 0; i < CUR; i++)
        steps[i] = lpt_store_migrations[i];
    steps[CUR] = (LptStoreMigration){NEXT, extra_step, fill_extra};
    char expected_error[64];
    if (build_fixture(path, 1)) {
        s = lpt_store_open_steps(path, LPT_STORE_OPEN, steps, NEXT, &err);
        CHECK(s != NULL);
        lpt_store_close(s);
        CHECK(raw_int(path, "PRAGMA user_version") == NEXT);
        CHECK(raw_int(path, "SELECT x FROM extra") == 2); /* inserted 1, filled 2 */
        CHECK(raw_int(path, "SELECT count(*) FROM images") == 6);
        /* ... and today's code then refuses the file as newer */
        EXPECT_ERROR(lpt_store_open(path, LPT_STORE_OPEN, &err) ? LPT_OK : err.code,
                     LPT_ERR_UNSUPPORTED, "newer");
    }
    /* a new project runs every step */
    remove_project(fresh);
    s = lpt_store_open_steps(fresh, LPT_STORE_CREATE, steps, NEXT, &err);
    CHECK(s != NULL);
    lpt_store_close(s);
    CHECK(raw_int(fresh, "PRAGMA user_version") == NEXT &&
          raw_int(fresh, "SELECT x FROM extra") == 2);
    remove_project(fresh);

    /* a failing step leaves the file at the version before it with nothing of the step (the
     * steps before it stay done) */
    steps[CUR].statements = failing_step;
    snprintf(expected_error, sizeof expected_error, "from schema version %d to %d (statement 2)",
             CUR, NEXT);
    if (build_fixture(path, 1)) {
        s = lpt_store_open_steps(path, LPT_STORE_OPEN, steps, NEXT, &err);
        CHECK(s == NULL && strstr(err.message, expected_error) &&
              strstr(err.message, "no_such_table"));
        CHECK(raw_int(path, "PRAGMA user_version") == CUR);
        CHECK(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'extra'") == 0);
        s = lpt_store_open(path, LPT_STORE_OPEN, &err);
        CHECK(s != NULL);
        lpt_store_close(s);
    }
    /* so does a step whose fill fails after its statements ran */
    steps[CUR].statements = extra_step;
    steps[CUR].fill = fill_failing;
    if (build_fixture(path, 1)) {
        s = lpt_store_open_steps(path, LPT_STORE_OPEN, steps, NEXT, &err);
        CHECK(s == NULL && err.code == LPT_ERR_IO && strstr(err.message, "the fill failed"));
        CHECK(raw_int(path, "PRAGMA user_version") == CUR);
        CHECK(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'extra'") == 0);
    }
    /* and a step that breaks a foreign key */
    steps[CUR].statements = orphan_step;
    steps[CUR].fill = NULL;
    if (build_fixture(path, 1)) {
        s = lpt_store_open_steps(path, LPT_STORE_OPEN, steps, NEXT, &err);
        CHECK(s == NULL && err.code == LPT_ERR_FORMAT && strstr(err.message, "label_history") &&
              strstr(err.message, "missing row"));
        CHECK(raw_int(path, "PRAGMA user_version") == CUR);
        CHECK(raw_int(path, "SELECT count(*) FROM label_history") == 1);
    }
    steps[CUR].version = NEXT + 1;
    snprintf(expected_error, sizeof expected_error, "step %d", CUR);
    EXPECT_ERROR(lpt_store_open_steps(path, LPT_STORE_OPEN, steps, NEXT, &err) ? LPT_OK : err.code,
                 LPT_ERR_INVALID_ARGUMENT, expected_error);
    remove_project(path);
}

/* ---- Refusals ---- */

/* Opening must fail with code/needle and leave the file's bytes as they were. */
static void expect_refused(const char *path, LptStoreMode mode, LptStatus code, const char *needle,
                           int line)
{
    size_t before_n = 0, after_n = 0;
    unsigned char *before = read_file(path, &before_n);
    LptError e = {0};
    LptStore *s = lpt_store_open(path, mode, &e);
    check_error(s ? LPT_OK : e.code, &e, code, needle, line, "refused open");
    lpt_store_close(s);
    unsigned char *after = read_file(path, &after_n);
    check(before && after && before_n == after_n && memcmp(before, after, before_n) == 0, line,
          "file bytes unchanged");
    char lock[600];
    snprintf(lock, sizeof lock, "%s-lock", path);
    check(!file_exists(lock), line, "no lock file left");
    free(before);
    free(after);
}

static void test_refusals(void)
{
    printf("# refusals\n");
    char path[512];
    path_in_tmp(path, sizeof path, "refuse" LPT_STORE_EXTENSION);

    /* a newer version: refused for writing and reading, never modified */
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    CHECK(s && fill_sample(s));
    lpt_store_close(s);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", LPT_STORE_SCHEMA_VERSION + 1);
    CHECK(raw_exec(path, sql));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_UNSUPPORTED, "newer LPT Studio", __LINE__);
    expect_refused(path, LPT_STORE_OPEN_OR_CREATE, LPT_ERR_UNSUPPORTED, "not modified", __LINE__);
    expect_refused(path, LPT_STORE_READ_ONLY, LPT_ERR_UNSUPPORTED, "newer", __LINE__);
    remove_project(path);

    /* not SQLite at all */
    char text[3000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    CHECK(write_file(path, text, sizeof text));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "not an SQLite database", __LINE__);
    remove_project(path);

    /* an empty file */
    CHECK(write_file(path, "", 0));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "empty database", __LINE__);
    expect_refused(path, LPT_STORE_OPEN_OR_CREATE, LPT_ERR_FORMAT, "not an LPT Studio project",
                   __LINE__);
    remove_project(path);

    /* SQLite, but another application's (no id, then a different id) */
    CHECK(raw_exec(path, "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x')"));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "not an LPT Studio project", __LINE__);
    CHECK(raw_exec(path, "PRAGMA application_id = 305419896"));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "0x12345678", __LINE__);
    remove_project(path);

    /* our id without a schema version */
    CHECK(raw_exec(path, "CREATE TABLE t (x); PRAGMA application_id = 1280332883"));
    expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "no schema version", __LINE__);
    remove_project(path);
}

static void test_corrupt(void)
{
    printf("# damaged file\n");
    char path[512];
    path_in_tmp(path, sizeof path, "corrupt" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0, id = 0;
    OK(lpt_store_begin(s, &err));
    OK(lpt_store_class_ensure(s, "a", &a, NULL, &err));
    for (int i = 0; i < 3000; i++) {
        char name[64];
        snprintf(name, sizeof name, "folder/with/a/long/name/image_%05d.png", i);
        LptStoreImage im = image_of(name, (unsigned)i, a, LPT_STORE_SPLIT_TRAIN);
        if (lpt_store_image_insert(s, &im, &id, &err) != LPT_OK)
            break;
    }
    OK(lpt_store_commit(s, &err));
    lpt_store_close(s);
    CHECK(id == 3000);

    /* garbage over four pages in the middle of the file */
    size_t n = 0;
    unsigned char *data = read_file(path, &n);
    int64_t page = raw_int(path, "PRAGMA page_size");
    CHECK(data && page > 0 && n / (size_t)page > 20);
    if (data && page > 0 && n / (size_t)page > 20) {
        uint32_t x = 12345;
        size_t start = n / (size_t)page / 2 * (size_t)page;
        for (size_t i = start; i < start + 4 * (size_t)page; i++) {
            x = x * 1103515245u + 12345u;
            data[i] = (unsigned char)(x >> 16);
        }
        CHECK(write_file(path, data, n));
        expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "is damaged", __LINE__);
        expect_refused(path, LPT_STORE_READ_ONLY, LPT_ERR_FORMAT, "is damaged", __LINE__);
    }
    /* a damaged header page: no longer recognisably a database */
    if (data) {
        memset(data, 0x5a, 100);
        CHECK(write_file(path, data, n));
        expect_refused(path, LPT_STORE_OPEN, LPT_ERR_FORMAT, "not an SQLite database", __LINE__);
    }
    free(data);
    remove_project(path);
}

/* ---- Connections, threads, processes ---- */

typedef struct Committer {
    LptStore *store;
    int ok;
} Committer;

static void *commit_later(void *arg)
{
    Committer *c = arg;
    struct timespec t = {0, 200 * 1000 * 1000};
    nanosleep(&t, NULL);
    c->ok = lpt_store_commit(c->store, NULL) == LPT_OK;
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_two_connections(void)
{
    printf("# two connections\n");
    char path[512];
    path_in_tmp(path, sizeof path, "two" LPT_STORE_EXTENSION);
    LptStore *a = lpt_store_open(path, LPT_STORE_CREATE, &err);
    LptStore *b = lpt_store_open_shared(a, &err);
    if (!CHECK(a && b)) {
        lpt_store_close(b);
        lpt_store_close(a);
        return;
    }
    int64_t id = 0;
    LptStoreClass *classes = NULL;
    size_t n = 0;
    OK(lpt_store_begin(a, &err));
    OK(lpt_store_class_ensure(a, "from a", &id, NULL, &err));
    OK(lpt_store_class_list(b, &classes, &n, &err));
    CHECK(n == 0); /* not committed yet */
    /* b's write waits for a's transaction (busy timeout), which commits 200 ms later */
    Committer c = {a, 0};
    pthread_t t;
    double t0 = now_s();
    CHECK(pthread_create(&t, NULL, commit_later, &c) == 0);
    OK(lpt_store_class_ensure(b, "from b", &id, NULL, &err));
    double waited = now_s() - t0;
    pthread_join(t, NULL);
    CHECK(c.ok && waited > 0.1 && waited < LPT_STORE_BUSY_MS / 1000.0);
    OK(lpt_store_class_list(b, &classes, &n, &err));
    CHECK(n == 2 && strcmp(classes[0].name, "from a") == 0);
    free(classes);
    OK(lpt_store_class_list(a, &classes, &n, &err));
    CHECK(n == 2 && strcmp(classes[1].name, "from b") == 0);
    free(classes);
    /* the lock outlives the primary while a shared connection is open */
    char lock[600];
    snprintf(lock, sizeof lock, "%s-lock", path);
    lpt_store_close(a);
    CHECK(file_exists(lock));
    EXPECT_ERROR(lpt_store_open(path, LPT_STORE_OPEN, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "already open in this process");
    lpt_store_close(b);
    CHECK(!file_exists(lock));
    remove_project(path);
}

#define WRITER_IMAGES 150

typedef struct Writer {
    LptStore *primary;
    int index;
    int64_t class_id;
    int failures;
    char message[512];
} Writer;

static void *write_images(void *arg)
{
    Writer *w = arg;
    LptError e = {0};
    LptStore *s = lpt_store_open_shared(w->primary, &e);
    for (int i = 0; s && i < WRITER_IMAGES; i++) {
        char name[64];
        snprintf(name, sizeof name, "thread%d/%03d.png", w->index, i);
        LptStoreImage im =
            image_of(name, (unsigned)(w->index * 1000 + i), w->class_id, LPT_STORE_SPLIT_TRAIN);
        int64_t id;
        /* alternate single writes and small groups */
        int grouped = i % 20 >= 10;
        LptStatus st = LPT_OK;
        if (grouped && i % 10 == 0)
            st = lpt_store_begin(s, &e);
        if (st == LPT_OK)
            st = lpt_store_image_insert(s, &im, &id, &e);
        if (st == LPT_OK && grouped && i % 10 == 9)
            st = lpt_store_commit(s, &e);
        if (st != LPT_OK && !w->failures++)
            snprintf(w->message, sizeof w->message, "%s", e.message);
    }
    if (!s) {
        w->failures++;
        snprintf(w->message, sizeof w->message, "%s", e.message);
    }
    lpt_store_close(s);
    return NULL;
}

static void test_threads(void)
{
    printf("# two writing threads\n");
    char path[512];
    path_in_tmp(path, sizeof path, "threads" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0;
    OK(lpt_store_class_ensure(s, "a", &a, NULL, &err));
    Writer w[2] = {{s, 0, a, 0, ""}, {s, 1, a, 0, ""}};
    pthread_t t[2];
    double t0 = now_s();
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, write_images, &w[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double took = now_s() - t0;
    for (int i = 0; i < 2; i++)
        if (!CHECK(w[i].failures == 0))
            printf("  -> thread %d: %s\n", i, w[i].message);
    int64_t *ids = NULL;
    size_t n = 0;
    OK(lpt_store_image_list(s, a, LPT_STORE_SPLIT_ANY, 1, &ids, &n, &err));
    CHECK(n == 2 * WRITER_IMAGES);
    free(ids);
    printf("# %d images from two threads in %.3f s (synchronous = FULL)\n", 2 * WRITER_IMAGES,
           took);
    lpt_store_close(s);
    remove_project(path);
}

static void test_instance_lock(void)
{
    printf("# instance lock\n");
    char path[512];
    path_in_tmp(path, sizeof path, "locked" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0;
    OK(lpt_store_class_ensure(s, "a", &a, NULL, &err));

    /* another process is refused, with our pid in the message */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        LptError e = {0};
        char pid[32];
        snprintf(pid, sizeof pid, "process %ld ", (long)getppid());
        LptStore *other = lpt_store_open(path, LPT_STORE_OPEN, &e);
        int refused = !other && e.code == LPT_ERR_IO && e.detail == EWOULDBLOCK &&
                      strstr(e.message, "another LPT Studio instance") && strstr(e.message, pid);
        if (!refused)
            printf("  child: %s\n", e.message);
        _exit(refused ? 0 : 1); /* the child never touches SQLite: the parent has it open */
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    /* a reader needs no lock, and cannot write */
    LptStore *reader = lpt_store_open(path, LPT_STORE_READ_ONLY, &err);
    LptStoreClass *classes = NULL;
    size_t n = 0;
    OK(lpt_store_class_list(reader, &classes, &n, &err));
    CHECK(reader && n == 1);
    free(classes);
    EXPECT_ERROR(lpt_store_class_ensure(reader, "b", &a, NULL, &err), LPT_ERR_UNSUPPORTED,
                 "open read-only");
    lpt_store_close(reader);
    /* a second open for writing in this process is refused too */
    EXPECT_ERROR(lpt_store_open(path, LPT_STORE_OPEN, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "already open in this process");
    /* also through another name for the same file */
    char link[512];
    path_in_tmp(link, sizeof link, "link" LPT_STORE_EXTENSION);
    CHECK(symlink(path, link) == 0);
    EXPECT_ERROR(lpt_store_open(link, LPT_STORE_OPEN, &err) ? LPT_OK : err.code, LPT_ERR_IO,
                 "already open in this process");
    CHECK(strstr(err.message, link) != NULL);
    unlink(link);
    lpt_store_close(s);

    /* after the close another process may open it for writing */
    fflush(stdout);
    child = fork();
    if (child == 0) {
        LptError e = {0};
        LptStore *other = lpt_store_open(path, LPT_STORE_OPEN, &e);
        int64_t id = 0;
        int ok = other && lpt_store_class_ensure(other, "from child", &id, NULL, &e) == LPT_OK;
        if (!ok)
            printf("  child: %s\n", e.message);
        lpt_store_close(other);
        _exit(ok ? 0 : 1);
    }
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    CHECK(raw_int(path, "SELECT count(*) FROM classes WHERE name = 'from child'") == 1);

    /* a lock file left by a crashed instance (unlocked) does not block */
    char lock[600];
    snprintf(lock, sizeof lock, "%s-lock", path);
    CHECK(write_file(lock, "99999 elsewhere\n", 16));
    s = lpt_store_open(path, LPT_STORE_OPEN, &err);
    CHECK(s != NULL);
    lpt_store_close(s);
    CHECK(!file_exists(lock));
    remove_project(path);
}

static void test_interrupted(void)
{
    printf("# interrupted runs\n");
    char path[512];
    path_in_tmp(path, sizeof path, "interrupted" LPT_STORE_EXTENSION);
    LptStore *s = lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!CHECK(s != NULL))
        return;
    int64_t a = 0, run = 0, done = 0;
    OK(lpt_store_class_ensure(s, "a", &a, NULL, &err));
    LptStoreRun r = {.config_json = "{}", .class_ids = &a, .num_classes = 1};
    OK(lpt_store_run_create(s, &r, &run, &err));
    OK(lpt_store_run_create(s, &r, &done, &err));
    OK(lpt_store_run_set_status(s, run, LPT_STORE_RUN_RUNNING, NULL, &err));
    OK(lpt_store_run_set_status(s, done, LPT_STORE_RUN_CANCELLED, NULL, &err));
    /* a shared connection does not touch the runs of a live primary */
    LptStore *shared = lpt_store_open_shared(s, &err);
    LptStoreRun *got = NULL;
    OK(lpt_store_run_get(shared, run, &got, &err));
    CHECK(got && got->status == LPT_STORE_RUN_RUNNING);
    free(got);
    lpt_store_close(shared);
    lpt_store_close(s); /* as if the process died mid-run */
    s = lpt_store_open(path, LPT_STORE_OPEN, &err);
    OK(lpt_store_run_get(s, run, &got, &err));
    CHECK(got && got->status == LPT_STORE_RUN_INTERRUPTED && got->finished_at > 0 && got->error &&
          strstr(got->error, "stopped"));
    free(got);
    OK(lpt_store_run_get(s, done, &got, &err));
    CHECK(got && got->status == LPT_STORE_RUN_CANCELLED);
    free(got);
    lpt_store_close(s);
    remove_project(path);
}

/* Removes the temporary directory and whatever is left in it. */
static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0) {
        LptError e = {0};
        LptStore *s = lpt_store_open(argv[2], LPT_STORE_CREATE, &e);
        int ok = s && fill_sample(s);
        if (!s)
            fprintf(stderr, "test_store: %s\n", e.message);
        lpt_store_close(s);
        return ok ? 0 : 1;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: test_store FIXTURE_DIR | --write-sample PATH\n");
        return 2;
    }
    fixture_dir = argv[1];
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_store.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "test_store: cannot make a temporary directory: %s\n", strerror(errno));
        return 1;
    }
    test_create();
    test_sample_roundtrip();
    test_records();
    test_transactions();
    test_migrations();
    test_refusals();
    test_corrupt();
    test_two_connections();
    test_threads();
    test_instance_lock();
    test_interrupted();
    remove_tmpdir();
    printf("test_store: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

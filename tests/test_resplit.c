/* test_resplit.c: re-assigning a project's splits (lpt_resplit.h), and the schema version 2
 * upgrade that tells, for a project made before it, which images' splits were given
 * (lpt_store_split_given.c).
 *
 * Builds projects in a temporary folder whose images come from every kind of source (a
 * plain class folder, a folder in the split layout with a val image the import drew from
 * its train folder, a folder only partly in the layout, list files named and not named
 * after a split, CSV files with and without a split column (one with a quoted header
 * holding a comma), an empty CSV file, a CSV file that is gone) plus an excluded image:
 * once as today's import stores them (split_given set per image), once as a schema
 * version 1 file (made by the released version 1 step, rows without the flag) that today's
 * code upgrades. Checks: the upgrade marks exactly the images whose source gave their
 * split; re-splitting keeps those, excluded images keep theirs, every class gets the counts
 * of the split rule (lpt_split_targets) over its images, the report adds up with the
 * store's counts, a settings row is added and is the latest, the same settings again
 * change nothing, another seed moves images but not the counts, the result depends neither
 * on the order the images were inserted nor on whether the project was upgraded, a bad
 * setting or a read-only project fails with the project untouched. Suite 'unit'. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lpt_resplit.h"
#include "lpt_store_impl.h"
#include "test_check.h"

/* ---- The project ---- */

enum { CLASS_A, CLASS_B, NUM_CLASSES };

typedef struct Spec {
    const char *source;  /* relative to the temporary folder */
    const char *path;    /* relative to the temporary folder */
    int label;           /* CLASS_A or CLASS_B */
    LptStoreSplit split; /* as imported */
    bool kept;           /* the source gave the split (split_given): a re-split keeps it */
    bool excluded;
} Spec;

#define MAX_IMAGES 256

static Spec specs[MAX_IMAGES];
static size_t n_specs;

static void add(const char *source, const char *path, int label, LptStoreSplit split, bool kept,
                bool excluded)
{
    specs[n_specs++] = (Spec){source, path, label, split, kept, excluded};
}

/* Paths live as long as the test: a pool of formatted strings. */
static char pool[MAX_IMAGES * 2][96];
static size_t pool_used;

static const char *fmt_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *fmt_path(const char *fmt, ...)
{
    char *s = pool[pool_used++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof pool[0], fmt, ap);
    va_end(ap);
    return s;
}

/* The images: class A has 40 free + 6 kept, class B 9 free + 3 kept (kept ones under the
 * split rule's targets, so that every class reaches exactly its targets). */
static void make_specs(void)
{
    for (int i = 0; i < 24; i++) /* a plain class folder: free */
        add("plain", fmt_path("plain/A/a%02d.png", i), CLASS_A, LPT_STORE_SPLIT_TRAIN, false,
            false);
    for (int i = 0; i < 5; i++)
        add("plain", fmt_path("plain/B/b%02d.png", i), CLASS_B, LPT_STORE_SPLIT_TRAIN, false,
            false);
    add("plain", "plain/B/excluded.png", CLASS_B, LPT_STORE_SPLIT_VAL, false, true);
    /* The split layout: kept. */
    add("layout", "layout/test/A/t0.png", CLASS_A, LPT_STORE_SPLIT_TEST, true, false);
    add("layout", "layout/val/A/v0.png", CLASS_A, LPT_STORE_SPLIT_VAL, true, false);
    add("layout", "layout/train/B/r0.png", CLASS_B, LPT_STORE_SPLIT_TRAIN, true, false);
    /* ... except a val image the import drew from the given train images: free. */
    add("layout", "layout/train/A/r1.png", CLASS_A, LPT_STORE_SPLIT_VAL, false, false);
    /* Only partly in the split layout: a class folder named like a split, so free. */
    add("mixed", "mixed/test/A/m0.png", CLASS_A, LPT_STORE_SPLIT_TEST, false, false);
    add("mixed", "mixed/A/m1.png", CLASS_A, LPT_STORE_SPLIT_TEST, false, false);
    /* List files: test.txt gives its split, list.txt does not. */
    add("lists/test.txt", "lists/img/l0.png", CLASS_A, LPT_STORE_SPLIT_TEST, true, false);
    add("lists/TEST.list", "lists/img/l1.png", CLASS_B, LPT_STORE_SPLIT_TEST, true, false);
    for (int i = 0; i < 6; i++)
        add("lists/list.txt", fmt_path("lists/img/f%02d.png", i), i < 4 ? CLASS_A : CLASS_B,
            LPT_STORE_SPLIT_VAL, false, false);
    /* CSV files: with a split column (kept), without (free), gone (kept). */
    add("csv/with.csv", "csv/img/w0.png", CLASS_A, LPT_STORE_SPLIT_TRAIN, true, false);
    add("csv/with.csv", "csv/img/w1.png", CLASS_A, LPT_STORE_SPLIT_VAL, true, false);
    for (int i = 0; i < 10; i++)
        add("csv/without.csv", fmt_path("csv/img/o%02d.png", i), i < 8 ? CLASS_A : CLASS_B,
            LPT_STORE_SPLIT_NONE, false, false);
    add("csv/gone.csv", "csv/img/g0.png", CLASS_B, LPT_STORE_SPLIT_TEST, true, false);
    /* A quoted header with a comma in a name (kept), an empty file (free). */
    add("csv/quoted.CSV", "csv/img/q0.png", CLASS_A, LPT_STORE_SPLIT_VAL, true, false);
    add("csv/empty.csv", "csv/img/e0.png", CLASS_A, LPT_STORE_SPLIT_TEST, false, false);
}

static bool write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* The CSV sources that are read (the gone one is not written). */
static bool make_files(const char *root)
{
    char path[512];
    snprintf(path, sizeof path, "%s/csv", root);
    if (mkdir(path, 0755) != 0)
        return false;
    snprintf(path, sizeof path, "%s/csv/with.csv", root);
    if (!write_text(path, "\xEF\xBB\xBFpath,label, \"Split\" \r\nimg/w0.png,A,train\n"))
        return false;
    snprintf(path, sizeof path, "%s/csv/quoted.CSV", root);
    if (!write_text(path, "\"file, path\",\"label\",\t\"SPLIT\"\nimg/q0.png,A,val\n"))
        return false;
    snprintf(path, sizeof path, "%s/csv/empty.csv", root);
    if (!write_text(path, ""))
        return false;
    snprintf(path, sizeof path, "%s/csv/without.csv", root);
    return write_text(path, "path,label,splitting\nimg/o00.png,A\n");
}

/* A distinct SHA-256-like hex digest per image (only its form matters to the store). */
static void fake_hash(size_t i, char out[LPT_STORE_HASH_LEN + 1])
{
    uint64_t x = 0x9E3779B97F4A7C15ull * (i + 1);
    for (int part = 0; part < 4; part++) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        snprintf(out + part * 16, 17, "%016llx", (unsigned long long)x);
    }
}

/* Adds one image the way a schema version 1 file stored it: no split_given column. */
static bool insert_v1(LptStore *store, const LptStoreImage *im, int64_t *id)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(store->db,
                                "INSERT INTO images (path, content_hash, width, height, channels, "
                                "class_id, split, excluded, source, imported_at) VALUES (?1, ?2, "
                                "?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)",
                                -1, &stmt, NULL);
    LPT_STORE_BIND(rc, sqlite3_bind_text(stmt, 1, im->path, -1, SQLITE_STATIC));
    LPT_STORE_BIND(rc, sqlite3_bind_text(stmt, 2, im->content_hash, -1, SQLITE_STATIC));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 3, im->width));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 4, im->height));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 5, im->channels));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 6, im->class_id));
    LPT_STORE_BIND(rc, im->split == LPT_STORE_SPLIT_NONE
                           ? sqlite3_bind_null(stmt, 7)
                           : sqlite3_bind_text(stmt, 7, lpt_store_split_name(im->split), -1,
                                               SQLITE_STATIC));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 8, im->excluded));
    LPT_STORE_BIND(rc, sqlite3_bind_text(stmt, 9, im->source, -1, SQLITE_STATIC));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        printf("version 1 insert of %s: %s\n", im->path, sqlite3_errmsg(store->db));
    sqlite3_finalize(stmt);
    *id = sqlite3_last_insert_rowid(store->db);
    return rc == SQLITE_DONE;
}

/* Creates the project at path with the images inserted in the given order (reversed or
 * not); ids[k] is the id of specs[k]. v1: written as a schema version 1 file (the released
 * step, images without split_given) and then opened by today's code, which upgrades it;
 * else each image is stored with split_given = kept, as today's import does. */
static LptStore *make_project(const char *path, const char *root, bool reversed, bool v1,
                              int64_t *ids)
{
    LptError err = {0};
    LptStore *store = v1 ? lpt_store_open_steps(path, LPT_STORE_CREATE, lpt_store_migrations, 1,
                                                &err)
                         : lpt_store_open(path, LPT_STORE_CREATE, &err);
    if (!expect(store != NULL, "create", "%s", err.message))
        return NULL;
    int64_t class_ids[NUM_CLASSES];
    bool ok = lpt_store_class_ensure(store, "A", &class_ids[CLASS_A], NULL, &err) == LPT_OK &&
              lpt_store_class_ensure(store, "B", &class_ids[CLASS_B], NULL, &err) == LPT_OK;
    for (size_t j = 0; ok && j < n_specs; j++) {
        size_t k = reversed ? n_specs - 1 - j : j;
        char full[512], source[512];
        snprintf(full, sizeof full, "%s/%s", root, specs[k].path);
        snprintf(source, sizeof source, "%s/%s", root, specs[k].source);
        LptStoreImage im = {
            .path = full,
            .width = 8,
            .height = 8,
            .channels = 3,
            .class_id = class_ids[specs[k].label],
            .split = specs[k].split,
            .split_given = specs[k].kept,
            .excluded = specs[k].excluded,
            .source = source,
        };
        fake_hash(k, im.content_hash);
        ok = v1 ? insert_v1(store, &im, &ids[k])
                : lpt_store_image_insert(store, &im, &ids[k], &err) == LPT_OK;
    }
    if (!expect(ok, "make project", "%s", err.message)) {
        lpt_store_close(store);
        return NULL;
    }
    if (v1) {
        lpt_store_close(store);
        store = lpt_store_open(path, LPT_STORE_OPEN, &err);
        if (!expect(store != NULL, "upgrade from version 1", "%s", err.message))
            return NULL;
    }
    return store;
}

/* Every image's split_given is its spec's `kept`. */
static void check_given(LptStore *store, const int64_t *ids, const char *when)
{
    for (size_t k = 0; k < n_specs; k++) {
        LptStoreImage *im = NULL;
        LptError err = {0};
        LptStatus st = lpt_store_image_get(store, ids[k], &im, &err);
        expect(st == LPT_OK && im && im->split_given == (int)specs[k].kept, when,
               "%s (source %s): split_given %d, expected %d%s%s", specs[k].path, specs[k].source,
               im ? im->split_given : -1, (int)specs[k].kept, err.message[0] ? ": " : "",
               err.message);
        free(im);
    }
}

static LptStoreSplit split_of(LptStore *store, int64_t id)
{
    LptStoreImage *im = NULL;
    LptStoreSplit split = LPT_STORE_SPLIT_ANY;
    if (lpt_store_image_get(store, id, &im, NULL) == LPT_OK && im)
        split = im->split;
    free(im);
    return split;
}

/* Splits of every image, by spec index. */
static void read_splits(LptStore *store, const int64_t *ids, LptStoreSplit *out)
{
    for (size_t k = 0; k < n_specs; k++)
        out[k] = split_of(store, ids[k]);
}

/* Kept and excluded images have their imported split; every class has its targets. */
static void check_result(LptStore *store, const int64_t *ids, const LptSplitConfig *cfg,
                         const LptResplitReport *rep, const char *when)
{
    LptStoreSplit now[MAX_IMAGES];
    read_splits(store, ids, now);
    int64_t images = 0, kept = 0, sizes[NUM_CLASSES] = {0};
    for (size_t k = 0; k < n_specs; k++) {
        if (specs[k].kept || specs[k].excluded)
            expect(now[k] == specs[k].split, when, "%s: split %d, imported %d, must be kept",
                   specs[k].path, (int)now[k], (int)specs[k].split);
        else
            expect(now[k] >= LPT_STORE_SPLIT_TRAIN && now[k] <= LPT_STORE_SPLIT_TEST, when,
                   "%s: split %d after the re-split", specs[k].path, (int)now[k]);
        if (!specs[k].excluded) {
            images++;
            kept += specs[k].kept;
            sizes[specs[k].label]++;
        }
    }
    expect(rep->images == images && rep->kept == kept, when,
           "report: %lld images, %lld kept; expected %lld, %lld", (long long)rep->images,
           (long long)rep->kept, (long long)images, (long long)kept);

    LptStoreClassCount *counts = NULL;
    size_t n = 0;
    LptError err = {0};
    expect(lpt_store_class_counts(store, &counts, &n, &err) == LPT_OK && n == NUM_CLASSES, when,
           "class counts: %s (%zu classes)", err.message, n);
    int64_t per_split[LPT_STORE_SPLIT_COUNT] = {0};
    for (size_t c = 0; c < n && c < NUM_CLASSES; c++) {
        int64_t tr = 0, va = 0, te = 0;
        lpt_split_targets(cfg, sizes[c], &tr, &va, &te, NULL);
        expect(counts[c].count[LPT_STORE_SPLIT_NONE] == 0 &&
                   counts[c].count[LPT_STORE_SPLIT_TRAIN] == tr &&
                   counts[c].count[LPT_STORE_SPLIT_VAL] == va &&
                   counts[c].count[LPT_STORE_SPLIT_TEST] == te,
               when, "class %zu: %lld/%lld/%lld (none %lld), want %lld/%lld/%lld", c,
               (long long)counts[c].count[1], (long long)counts[c].count[2],
               (long long)counts[c].count[3], (long long)counts[c].count[0], (long long)tr,
               (long long)va, (long long)te);
        for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
            per_split[s] += counts[c].count[s];
    }
    free(counts);
    expect(memcmp(per_split, rep->split_counts, sizeof per_split) == 0, when,
           "report per split %lld/%lld/%lld/%lld, store %lld/%lld/%lld/%lld",
           (long long)rep->split_counts[0], (long long)rep->split_counts[1],
           (long long)rep->split_counts[2], (long long)rep->split_counts[3],
           (long long)per_split[0], (long long)per_split[1], (long long)per_split[2],
           (long long)per_split[3]);

    LptStoreSplitSettings latest = {0};
    expect(lpt_store_split_latest(store, &latest, &err) == LPT_OK && latest.id == rep->split_id &&
               latest.seed == cfg->seed && latest.train_fraction == cfg->train_fraction &&
               latest.val_fraction == cfg->val_fraction &&
               latest.test_fraction == cfg->test_fraction &&
               latest.min_per_class == cfg->min_per_class && latest.user_given == 1,
           when, "latest settings id %lld (report %lld), seed %llu, %g/%g/%g, min %d, given %d",
           (long long)latest.id, (long long)rep->split_id, (unsigned long long)latest.seed,
           latest.train_fraction, latest.val_fraction, latest.test_fraction,
           (int)latest.min_per_class, latest.user_given);
}

static void run(const char *root)
{
    char path[512], other[512], old_path[512];
    int64_t ids[MAX_IMAGES], other_ids[MAX_IMAGES], old_ids[MAX_IMAGES];
    snprintf(path, sizeof path, "%s/project.lptproj", root);
    snprintf(other, sizeof other, "%s/reversed.lptproj", root);
    snprintf(old_path, sizeof old_path, "%s/version1.lptproj", root);
    LptStore *store = make_project(path, root, false, false, ids);
    LptStore *rev = make_project(other, root, true, false, other_ids);
    LptStore *old = make_project(old_path, root, false, true, old_ids);
    if (!store || !rev || !old)
        goto done;
    check_given(store, ids, "imported");
    check_given(old, old_ids, "upgraded from version 1");

    LptSplitConfig cfg = {.train_fraction = 0.6,
                          .val_fraction = 0.2,
                          .test_fraction = 0.2,
                          .min_per_class = 1,
                          .seed = 7};
    LptResplitReport rep = {0};
    LptError err = {0};
    LptStatus st = lpt_resplit_run(store, &cfg, &rep, &err);
    expect(st == LPT_OK, "re-split", "%s", err.message);
    check_result(store, ids, &cfg, &rep, "re-split");
    expect(rep.changed > 0, "re-split", "no image changed split");

    /* The same settings again: nothing moves, another settings row. */
    LptResplitReport again = {0};
    st = lpt_resplit_run(store, &cfg, &again, &err);
    expect(st == LPT_OK && again.changed == 0 && again.split_id > rep.split_id, "again",
           "%s: %lld changed, settings %lld after %lld", err.message, (long long)again.changed,
           (long long)again.split_id, (long long)rep.split_id);

    /* Another order of insertion gives the same splits. */
    LptResplitReport rev_rep = {0};
    st = lpt_resplit_run(rev, &cfg, &rev_rep, &err);
    expect(st == LPT_OK, "reversed", "%s", err.message);
    LptStoreSplit a[MAX_IMAGES], b[MAX_IMAGES];
    read_splits(store, ids, a);
    read_splits(rev, other_ids, b);
    size_t differ = 0;
    for (size_t k = 0; k < n_specs; k++)
        differ += a[k] != b[k];
    expect(differ == 0, "reversed", "%zu of %zu images in another split", differ, n_specs);

    /* The upgraded project re-splits exactly as the one stored with today's flags. */
    LptResplitReport old_rep = {0};
    st = lpt_resplit_run(old, &cfg, &old_rep, &err);
    expect(st == LPT_OK, "upgraded", "%s", err.message);
    check_result(old, old_ids, &cfg, &old_rep, "upgraded");
    read_splits(old, old_ids, b);
    differ = 0;
    for (size_t k = 0; k < n_specs; k++)
        differ += a[k] != b[k];
    expect(differ == 0 && old_rep.changed == rep.changed, "upgraded",
           "%zu of %zu images in another split; %lld changed, %lld in the imported project",
           differ, n_specs, (long long)old_rep.changed, (long long)rep.changed);

    /* Another seed moves free images, never the counts or the kept ones. */
    cfg.seed = 8;
    st = lpt_resplit_run(store, &cfg, &rep, &err);
    expect(st == LPT_OK && rep.changed > 0, "seed 8", "%s: %lld changed", err.message,
           (long long)rep.changed);
    check_result(store, ids, &cfg, &rep, "seed 8");

    /* Other fractions: other counts. */
    cfg.train_fraction = 0.5;
    cfg.val_fraction = 0.25;
    cfg.test_fraction = 0.25;
    cfg.min_per_class = 2;
    st = lpt_resplit_run(store, &cfg, &rep, &err);
    expect(st == LPT_OK, "0.5/0.25/0.25", "%s", err.message);
    check_result(store, ids, &cfg, &rep, "0.5/0.25/0.25");

    /* A bad setting: refused, nothing changes. */
    LptStoreSplit before[MAX_IMAGES], after[MAX_IMAGES];
    LptStoreSplitSettings latest_before = {0}, latest_after = {0};
    read_splits(store, ids, before);
    lpt_store_split_latest(store, &latest_before, NULL);
    LptSplitConfig bad = cfg;
    bad.train_fraction = 0.7; /* sums to 1.2 */
    err = (LptError){0};
    st = lpt_resplit_run(store, &bad, &rep, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT && err.message[0] != '\0', "bad fractions",
           "status %d, '%s'", (int)st, err.message);
    bad = cfg;
    bad.min_per_class = -1;
    st = lpt_resplit_run(store, &bad, &rep, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "bad minimum", "status %d, '%s'", (int)st, err.message);
    st = lpt_resplit_run(NULL, &cfg, &rep, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "no store", "status %d", (int)st);
    st = lpt_resplit_run(store, NULL, &rep, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT, "no settings", "status %d", (int)st);
    read_splits(store, ids, after);
    lpt_store_split_latest(store, &latest_after, NULL);
    expect(memcmp(before, after, n_specs * sizeof before[0]) == 0 &&
               latest_after.id == latest_before.id,
           "refused", "a refused re-split changed the project");

    /* A read-only connection cannot write: the re-split fails and nothing changes. */
    LptStore *ro = lpt_store_open(path, LPT_STORE_READ_ONLY, &err);
    expect(ro != NULL, "read-only", "%s", err.message);
    if (ro) {
        cfg.seed = 99;
        err = (LptError){0};
        st = lpt_resplit_run(ro, &cfg, &rep, &err);
        expect(st != LPT_OK && err.message[0] != '\0', "read-only", "status %d", (int)st);
        lpt_store_close(ro);
        read_splits(store, ids, after);
        lpt_store_split_latest(store, &latest_after, NULL);
        expect(memcmp(before, after, n_specs * sizeof before[0]) == 0 &&
                   latest_after.id == latest_before.id,
               "read-only", "a failed re-split changed the project");
    }
done:
    lpt_store_close(store);
    lpt_store_close(rev);
    lpt_store_close(old);
}

int main(void)
{
    char root[] = "/tmp/lpt-resplit-XXXXXX";
    if (!mkdtemp(root)) {
        printf("cannot make a temporary folder\n");
        return 1;
    }
    make_specs();
    if (expect(make_files(root), "fixtures", "cannot write the CSV files under %s", root))
        run(root);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("could not remove %s\n", root);
    printf("resplit: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

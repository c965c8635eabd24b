/* lpt_store_data.c: the dataset tables: settings, classes, images, label history, splits.
 *
 * Invariants kept here: an image's label changes only through lpt_store_image_relabel,
 * which writes label_history in the same transaction; class counts leave excluded images
 * out. Same threading and ownership rules as lpt_store.h.
 */
#include "lpt_store_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Settings ---- */

LptStatus lpt_store_setting_set(LptStore *store, const char *key, const char *value, LptError *err)
{
    if (!store || !key || !*key || !value)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "settings: setting '%s': %s",
                             key ? key : "?", store ? "no key or value" : "no store");
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(store, LPT_STMT_SETTING_SET,
                                     "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                     &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 1, key));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 2, value));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "settings: setting '%s'", key);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_setting_get(LptStore *store, const char *key, char **value, LptError *err)
{
    LptStatus st = lpt_store_check(store, value, err, "settings: reading a setting");
    if (st != LPT_OK)
        return st;
    *value = NULL;
    if (!key)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "settings: no key given");
    sqlite3_stmt *stmt;
    st = lpt_store_prepare(store, LPT_STMT_SETTING_GET, "SELECT value FROM settings WHERE key = ?1",
                           &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = lpt_store_bind_text(stmt, 1, key);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        if (!text || !(*value = strdup(text)))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                               "settings: reading '%s': out of "
                               "memory",
                               key);
    } else if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "settings: reading '%s'", key);
    }
    lpt_store_stmt_done(stmt);
    return st;
}

/* ---- Classes ---- */

LptStatus lpt_store_class_ensure(LptStore *store, const char *name, int64_t *id, int *created,
                                 LptError *err)
{
    LptStatus st = lpt_store_check(store, id, err, "classes: adding a class");
    if (st != LPT_OK)
        return st;
    *id = 0;
    if (created)
        *created = 0;
    if (!name || !*name)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "classes: a class name must not be empty");
    sqlite3_stmt *insert = NULL, *find = NULL;
    if ((st = lpt_store_prepare(store, LPT_STMT_CLASS_INSERT,
                                "INSERT INTO classes (name, created_at) VALUES (?1, ?2) "
                                "ON CONFLICT (name) DO NOTHING",
                                &insert, err)) != LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_CLASS_FIND,
                                "SELECT id FROM classes WHERE name = ?1", &find, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 1, name));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 2, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(insert);
    if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "classes: adding '%s'", name);
        goto done;
    }
    if (created)
        *created = sqlite3_changes(store->db) > 0;
    rc = lpt_store_bind_text(find, 1, name);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(find);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(find, 0);
    else if (rc == SQLITE_DONE) /* another connection renamed it in between */
        st = lpt_error_set(err, LPT_ERR_IO, 0, "classes: '%s' changed while being added", name);
    else
        st = lpt_store_sql_error(store, rc, err, "classes: looking up '%s'", name);
done:
    lpt_store_stmt_done(insert);
    lpt_store_stmt_done(find);
    return st;
}

LptStatus lpt_store_class_update(LptStore *store, int64_t class_id, const char *name,
                                 const char *description, LptError *err)
{
    if (!store || class_id <= 0 || (name && !*name))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "classes: updating class %lld: %s",
                             (long long)class_id,
                             !store           ? "no store"
                             : name && !*name ? "empty name"
                                              : "bad id");
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(store, LPT_STMT_CLASS_UPDATE,
                                     "UPDATE classes SET name = coalesce(?2, name), "
                                     "description = coalesce(?3, description) WHERE id = ?1",
                                     &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, class_id));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 2, name));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 3, description));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "classes: updating class %lld%s%s%s",
                                 (long long)class_id, name ? " (to '" : "", name ? name : "",
                                 name ? "')" : "");
    else if (sqlite3_changes(store->db) == 0)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "classes: no class with id %lld",
                           (long long)class_id);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_class_list(LptStore *store, LptStoreClass **classes, size_t *count,
                               LptError *err)
{
    LptStatus st =
        lpt_store_check(store, classes && count ? classes : NULL, err, "classes: listing");
    if (st != LPT_OK)
        return st;
    *classes = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_CLASS_LIST,
                                "SELECT id, name, description, created_at FROM classes "
                                "ORDER BY id",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreClass));
    int rc = SQLITE_OK;
    while (!pack.oom && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreClass *c = lpt_store_pack_row(&pack);
        if (c) {
            c->id = sqlite3_column_int64(stmt, 0);
            c->created_at = sqlite3_column_int64(stmt, 3);
            lpt_store_pack_text(&pack, &c->name, stmt, 1);
            lpt_store_pack_text(&pack, &c->description, stmt, 2);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, classes, count, err,
                                 "classes: listing");
}

LptStatus lpt_store_class_counts(LptStore *store, LptStoreClassCount **counts, size_t *count,
                                 LptError *err)
{
    LptStatus st =
        lpt_store_check(store, counts && count ? counts : NULL, err, "classes: counting images");
    if (st != LPT_OK)
        return st;
    *counts = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_CLASS_COUNTS,
                                "SELECT c.id, "
                                "count(CASE WHEN i.excluded = 0 AND i.split IS NULL THEN 1 END), "
                                "count(CASE WHEN i.excluded = 0 AND i.split = 'train' THEN 1 END), "
                                "count(CASE WHEN i.excluded = 0 AND i.split = 'val' THEN 1 END), "
                                "count(CASE WHEN i.excluded = 0 AND i.split = 'test' THEN 1 END), "
                                "count(CASE WHEN i.excluded = 1 THEN 1 END) "
                                "FROM classes AS c LEFT JOIN images AS i ON i.class_id = c.id "
                                "GROUP BY c.id ORDER BY c.id",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreClassCount));
    int rc = SQLITE_OK;
    while (!pack.oom && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreClassCount *c = lpt_store_pack_row(&pack);
        if (c) {
            c->class_id = sqlite3_column_int64(stmt, 0);
            for (int s = 0; s < LPT_STORE_SPLIT_COUNT; s++)
                c->count[s] = sqlite3_column_int64(stmt, 1 + s);
            c->excluded = sqlite3_column_int64(stmt, 5);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, counts, count, err,
                                 "classes: counting images");
}

/* ---- Images ---- */

static int split_valid(LptStoreSplit split)
{
    return split >= LPT_STORE_SPLIT_NONE && split <= LPT_STORE_SPLIT_TEST;
}

static int bind_split(sqlite3_stmt *stmt, int index, LptStoreSplit split)
{
    return split == LPT_STORE_SPLIT_NONE
               ? sqlite3_bind_null(stmt, index)
               : sqlite3_bind_text(stmt, index, lpt_store_split_name(split), -1, SQLITE_STATIC);
}

static const char *image_problem(const LptStoreImage *im)
{
    if (!im->path || !*im->path)
        return "no path";
    if (!lpt_store_hash_valid(im->content_hash))
        return "the content hash is not 64 lowercase hex digits (SHA-256)";
    if (im->width <= 0 || im->height <= 0)
        return "width and height must be positive";
    if (im->channels < 1 || im->channels > 4)
        return "channels must be 1 to 4";
    if (im->class_id <= 0)
        return "no class";
    if (!split_valid(im->split))
        return "bad split";
    if (im->excluded != 0 && im->excluded != 1)
        return "excluded must be 0 or 1";
    if (im->split_given != 0 && im->split_given != 1)
        return "split_given must be 0 or 1";
    if (im->split_given && im->split == LPT_STORE_SPLIT_NONE)
        return "a given split needs a split";
    return NULL;
}

LptStatus lpt_store_image_insert(LptStore *store, const LptStoreImage *image, int64_t *id,
                                 LptError *err)
{
    LptStatus st = lpt_store_check(store, image && id ? id : NULL, err, "images: adding");
    if (st != LPT_OK)
        return st;
    *id = 0;
    const char *problem = image_problem(image);
    if (problem)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "images: adding '%s': %s",
                             image->path ? image->path : "?", problem);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_IMAGE_INSERT,
                                "INSERT INTO images (path, content_hash, width, height, "
                                "channels, class_id, split, excluded, source, imported_at, "
                                "split_given) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 1, image->path));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 2, image->content_hash));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 3, image->width));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 4, image->height));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 5, image->channels));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 6, image->class_id));
    LPT_STORE_BIND(rc, bind_split(stmt, 7, image->split));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 8, image->excluded));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 9, image->source ? image->source : ""));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 10, lpt_store_now()));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 11, image->split_given));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        *id = sqlite3_last_insert_rowid(store->db);
    else
        st = lpt_store_sql_error(store, rc, err, "images: adding '%s' (class %lld)", image->path,
                                 (long long)image->class_id);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_image_get(LptStore *store, int64_t image_id, LptStoreImage **image,
                              LptError *err)
{
    LptStatus st = lpt_store_check(store, image, err, "images: reading");
    if (st != LPT_OK)
        return st;
    *image = NULL;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_IMAGE_GET,
                                "SELECT id, path, content_hash, width, height, channels, "
                                "class_id, split, excluded, source, imported_at, split_given "
                                "FROM images WHERE id = ?1",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreImage));
    int rc = sqlite3_bind_int64(stmt, 1, image_id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreImage *im = lpt_store_pack_row(&pack);
        if (im) {
            im->id = sqlite3_column_int64(stmt, 0);
            const char *hash = (const char *)sqlite3_column_text(stmt, 2);
            snprintf(im->content_hash, sizeof im->content_hash, "%s", hash ? hash : "");
            im->width = sqlite3_column_int(stmt, 3);
            im->height = sqlite3_column_int(stmt, 4);
            im->channels = sqlite3_column_int(stmt, 5);
            im->class_id = sqlite3_column_int64(stmt, 6);
            im->split =
                (LptStoreSplit)lpt_store_split_parse((const char *)sqlite3_column_text(stmt, 7));
            im->excluded = sqlite3_column_int(stmt, 8);
            im->imported_at = sqlite3_column_int64(stmt, 10);
            im->split_given = sqlite3_column_int(stmt, 11);
            lpt_store_pack_text(&pack, &im->path, stmt, 1);
            lpt_store_pack_text(&pack, &im->source, stmt, 9);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, image, NULL, err,
                                 "images: reading");
}

LptStatus lpt_store_image_find_hash(LptStore *store, const char *content_hash, int64_t *id,
                                    LptError *err)
{
    LptStatus st = lpt_store_check(store, id, err, "images: finding a hash");
    if (st != LPT_OK)
        return st;
    *id = 0;
    if (!lpt_store_hash_valid(content_hash))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "images: finding '%.70s': not 64 lowercase hex digits",
                             content_hash ? content_hash : "(null)");
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_IMAGE_FIND_HASH,
                                "SELECT min(id) FROM images WHERE content_hash = ?1", &stmt,
                                err)) != LPT_OK)
        return st;
    int rc = lpt_store_bind_text(stmt, 1, content_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *id = lpt_store_column_id(stmt, 0);
    else
        st = lpt_store_sql_error(store, rc, err, "images: finding hash %s", content_hash);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_image_list(LptStore *store, int64_t class_id, LptStoreSplit split,
                               int include_excluded, int64_t **ids, size_t *count, LptError *err)
{
    LptStatus st = lpt_store_check(store, ids && count ? ids : NULL, err, "images: listing");
    if (st != LPT_OK)
        return st;
    *ids = NULL;
    *count = 0;
    if (class_id < 0 || (split != LPT_STORE_SPLIT_ANY && !split_valid(split)))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "images: listing: bad class id %lld or split %d", (long long)class_id,
                             (int)split);
    /* One statement per filter shape, so that each uses its index. */
    int by_class = class_id > 0, by_split = split != LPT_STORE_SPLIT_ANY;
    static const char *const sql[4] = {
        "SELECT id FROM images WHERE excluded IN (0, ?3) ORDER BY id",
        "SELECT id FROM images WHERE class_id = ?1 AND excluded IN (0, ?3) ORDER BY id",
        "SELECT id FROM images WHERE split IS ?2 AND excluded IN (0, ?3) ORDER BY id",
        "SELECT id FROM images WHERE class_id = ?1 AND split IS ?2 AND excluded IN (0, ?3) "
        "ORDER BY id",
    };
    static const LptStoreStmt ids_of[4] = {LPT_STMT_IMAGE_LIST_ALL, LPT_STMT_IMAGE_LIST_CLASS,
                                           LPT_STMT_IMAGE_LIST_SPLIT,
                                           LPT_STMT_IMAGE_LIST_CLASS_SPLIT};
    int which = by_class + 2 * by_split;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, ids_of[which], sql[which], &stmt, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    if (by_class)
        LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, class_id));
    if (by_split)
        LPT_STORE_BIND(rc, bind_split(stmt, 2, split));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 3, include_excluded ? 1 : 0));
    return lpt_store_collect_ids(store, stmt, rc, ids, count, err, "images: listing");
}

LptStatus lpt_store_image_relabel(LptStore *store, int64_t image_id, int64_t new_class_id,
                                  const char *reason, LptError *err)
{
    if (!store || image_id <= 0 || new_class_id <= 0)
        return lpt_error_set(
            err, LPT_ERR_INVALID_ARGUMENT, 0, "images: relabelling image %lld to class %lld: %s",
            (long long)image_id, (long long)new_class_id, store ? "bad id" : "no store");
    sqlite3_stmt *get = NULL, *set = NULL, *history = NULL;
    int token = 0;
    LptStatus st;
    if ((st = lpt_store_prepare(store, LPT_STMT_IMAGE_CLASS_OF,
                                "SELECT class_id FROM images WHERE id = ?1", &get, err)) !=
            LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_IMAGE_SET_CLASS,
                                "UPDATE images SET class_id = ?2 WHERE id = ?1", &set, err)) !=
            LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_HISTORY_INSERT,
                                "INSERT INTO label_history (image_id, old_class_id, "
                                "new_class_id, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                                &history, err)) != LPT_OK ||
        (st = lpt_store_op_begin(store, &token, err)) != LPT_OK)
        return st;
    int rc = sqlite3_bind_int64(get, 1, image_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(get);
    if (rc == SQLITE_DONE) {
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "images: no image with id %lld",
                           (long long)image_id);
        goto done;
    }
    if (rc != SQLITE_ROW) {
        st = lpt_store_sql_error(store, rc, err, "images: reading the label of image %lld",
                                 (long long)image_id);
        goto done;
    }
    int64_t old_class_id = sqlite3_column_int64(get, 0);
    if (old_class_id == new_class_id)
        goto done;
    rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(set, 1, image_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(set, 2, new_class_id));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(set);
    if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "images: relabelling image %lld to class %lld",
                                 (long long)image_id, (long long)new_class_id);
        goto done;
    }
    rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(history, 1, image_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(history, 2, old_class_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(history, 3, new_class_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(history, 4, lpt_store_now()));
    LPT_STORE_BIND(rc, lpt_store_bind_text(history, 5, reason ? reason : ""));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(history);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(
            store, rc, err, "label_history: recording image %lld: class %lld -> %lld",
            (long long)image_id, (long long)old_class_id, (long long)new_class_id);
done:
    lpt_store_stmt_done(get);
    lpt_store_stmt_done(set);
    lpt_store_stmt_done(history);
    return lpt_store_op_end(store, token, st, err);
}

/* Finishes an "UPDATE images SET <column> = ?2 WHERE id = ?1" whose ?2 was bound with
 * result rc. */
static LptStatus image_update(LptStore *store, sqlite3_stmt *stmt, int64_t image_id, int rc,
                              LptError *err, const char *what)
{
    LptStatus st = LPT_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, image_id));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "images: %s of image %lld", what,
                                 (long long)image_id);
    else if (sqlite3_changes(store->db) == 0)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "images: no image with id %lld",
                           (long long)image_id);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_image_set_split(LptStore *store, int64_t image_id, LptStoreSplit split,
                                    LptError *err)
{
    if (!store || !split_valid(split))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "images: setting the split of image %lld: %s", (long long)image_id,
                             store ? "bad split" : "no store");
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(store, LPT_STMT_IMAGE_SET_SPLIT,
                                     "UPDATE images SET split = ?2 WHERE id = ?1", &stmt, err);
    if (st != LPT_OK)
        return st;
    return image_update(store, stmt, image_id, bind_split(stmt, 2, split), err,
                        "setting the split");
}

LptStatus lpt_store_image_set_excluded(LptStore *store, int64_t image_id, int excluded,
                                       LptError *err)
{
    if (!store || (excluded != 0 && excluded != 1))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "images: excluding image %lld: %s",
                             (long long)image_id, store ? "excluded must be 0 or 1" : "no store");
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(store, LPT_STMT_IMAGE_SET_EXCLUDED,
                                     "UPDATE images SET excluded = ?2 WHERE id = ?1", &stmt, err);
    if (st != LPT_OK)
        return st;
    return image_update(store, stmt, image_id, sqlite3_bind_int(stmt, 2, excluded), err,
                        excluded ? "excluding" : "including");
}

LptStatus lpt_store_label_history(LptStore *store, int64_t image_id, LptStoreLabelChange **changes,
                                  size_t *count, LptError *err)
{
    LptStatus st =
        lpt_store_check(store, changes && count ? changes : NULL, err, "label_history: reading");
    if (st != LPT_OK)
        return st;
    *changes = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_HISTORY_LIST,
                                "SELECT id, image_id, old_class_id, new_class_id, at, reason "
                                "FROM label_history WHERE image_id = ?1 ORDER BY id",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreLabelChange));
    int rc = sqlite3_bind_int64(stmt, 1, image_id);
    while (!pack.oom && (rc == SQLITE_OK || rc == SQLITE_ROW) &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreLabelChange *c = lpt_store_pack_row(&pack);
        if (c) {
            c->id = sqlite3_column_int64(stmt, 0);
            c->image_id = sqlite3_column_int64(stmt, 1);
            c->old_class_id = sqlite3_column_int64(stmt, 2);
            c->new_class_id = sqlite3_column_int64(stmt, 3);
            c->at = sqlite3_column_int64(stmt, 4);
            lpt_store_pack_text(&pack, &c->reason, stmt, 5);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, changes, count, err,
                                 "label_history: reading");
}

/* ---- Split settings ---- */

static int fraction_valid(double f)
{
    return f >= 0.0 && f <= 1.0; /* false for NaN */
}

LptStatus lpt_store_split_insert(LptStore *store, const LptStoreSplitSettings *settings,
                                 int64_t *id, LptError *err)
{
    LptStatus st =
        lpt_store_check(store, settings && id ? id : NULL, err, "splits: recording split settings");
    if (st != LPT_OK)
        return st;
    *id = 0;
    const LptStoreSplitSettings *t = settings;
    double sum = t->train_fraction + t->val_fraction + t->test_fraction;
    if (!fraction_valid(t->train_fraction) || !fraction_valid(t->val_fraction) ||
        !fraction_valid(t->test_fraction) || t->min_per_class < 0 ||
        (t->user_given != 0 && t->user_given != 1) || (!t->user_given && fabs(sum - 1.0) > 1e-6))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "splits: bad settings (fractions %g/%g/%g must be in [0, 1] and "
                             "sum to 1, min per class %d >= 0)",
                             t->train_fraction, t->val_fraction, t->test_fraction,
                             (int)t->min_per_class);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_SPLIT_INSERT,
                                "INSERT INTO splits (seed, train_fraction, val_fraction, "
                                "test_fraction, min_per_class, user_given, created_at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, (int64_t)t->seed));
    LPT_STORE_BIND(rc, sqlite3_bind_double(stmt, 2, t->train_fraction));
    LPT_STORE_BIND(rc, sqlite3_bind_double(stmt, 3, t->val_fraction));
    LPT_STORE_BIND(rc, sqlite3_bind_double(stmt, 4, t->test_fraction));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 5, t->min_per_class));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 6, t->user_given));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 7, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        *id = sqlite3_last_insert_rowid(store->db);
    else
        st = lpt_store_sql_error(store, rc, err, "splits: recording split settings");
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_split_latest(LptStore *store, LptStoreSplitSettings *out, LptError *err)
{
    LptStatus st = lpt_store_check(store, out, err, "splits: reading the split settings");
    if (st != LPT_OK)
        return st;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_SPLIT_LATEST,
                                "SELECT id, seed, train_fraction, val_fraction, test_fraction, "
                                "min_per_class, user_given, created_at FROM splits "
                                "ORDER BY id DESC LIMIT 1",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(stmt, 0);
        out->seed = (uint64_t)sqlite3_column_int64(stmt, 1);
        out->train_fraction = sqlite3_column_double(stmt, 2);
        out->val_fraction = sqlite3_column_double(stmt, 3);
        out->test_fraction = sqlite3_column_double(stmt, 4);
        out->min_per_class = sqlite3_column_int(stmt, 5);
        out->user_given = sqlite3_column_int(stmt, 6);
        out->created_at = sqlite3_column_int64(stmt, 7);
    } else if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "splits: reading the split settings");
    }
    lpt_store_stmt_done(stmt);
    return st;
}

/* lpt_store_runs.c: the training tables: backbones, runs and their class order,
 * checkpoints, per-epoch metrics, per-image predictions, exports.
 *
 * Invariants kept here: a run's classes (run_classes) are fixed at creation, and every
 * class index in its predictions is below that count; at most one checkpoint per (run,
 * phase, expert) is the best, and lpt_store_checkpoint_prune keeps only it and the latest; a
 * run left RUNNING by a dead process reads INTERRUPTED after the next open for writing. Same
 * threading and ownership rules as lpt_store.h.
 */
#include "lpt_store_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int expert_valid(LptStoreExpert e, int allow_fused)
{
    return e == LPT_STORE_EXPERT_VISION || e == LPT_STORE_EXPERT_VL ||
           (allow_fused && e == LPT_STORE_EXPERT_FUSED);
}

static int bind_blob(sqlite3_stmt *stmt, int index, const void *data, size_t bytes)
{
    return data ? sqlite3_bind_blob64(stmt, index, data, bytes, SQLITE_STATIC)
                : sqlite3_bind_null(stmt, index);
}

static void copy_hash(char *dst, sqlite3_stmt *stmt, int col)
{
    const char *hash = (const char *)sqlite3_column_text(stmt, col);
    size_t n = hash ? strlen(hash) : 0;
    n = n > LPT_STORE_HASH_LEN ? LPT_STORE_HASH_LEN : n;
    memcpy(dst, hash ? hash : "", n);
    dst[n] = '\0';
}

/* ---- Backbones ---- */

LptStatus lpt_store_backbone_insert(LptStore *store, const LptStoreBackbone *backbone, int64_t *id,
                                    LptError *err)
{
    LptStatus st = lpt_store_check(store, backbone && id ? id : NULL, err, "backbones: adding");
    if (st != LPT_OK)
        return st;
    *id = 0;
    const LptStoreBackbone *b = backbone;
    const char *problem = !expert_valid(b->role, 0) ? "the role must be vision or vl"
                          : !b->path || !*b->path   ? "no path"
                          : !lpt_store_hash_valid(b->sha256)
                              ? "sha256 is not 64 lowercase hex digits"
                          : !b->architecture_json ? "no architecture"
                          : b->params < 0         ? "negative parameter count"
                                                  : NULL;
    if (problem)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "backbones: adding '%s': %s",
                             b->path ? b->path : "?", problem);
    sqlite3_stmt *insert, *find;
    if ((st = lpt_store_prepare(store, LPT_STMT_BACKBONE_INSERT,
                                "INSERT INTO backbones (role, name, path, sha256, architecture, "
                                "params, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                "ON CONFLICT (role, sha256) DO NOTHING",
                                &insert, err)) != LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_BACKBONE_FIND,
                                "SELECT id FROM backbones WHERE role = ?1 AND sha256 = ?2", &find,
                                err)) != LPT_OK)
        return st;
    const char *role = lpt_store_expert_name(b->role);
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 1, role));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 2, b->name ? b->name : ""));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 3, b->path));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 4, b->sha256));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 5, b->architecture_json));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 6, b->params));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 7, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(insert);
    if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "backbones: adding '%s'", b->path);
        goto done;
    }
    rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(find, 1, role));
    LPT_STORE_BIND(rc, lpt_store_bind_text(find, 2, b->sha256));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(find);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(find, 0);
    else if (rc == SQLITE_DONE) /* cannot happen: backbones are never deleted */
        st = lpt_error_set(err, LPT_ERR_IO, 0, "backbones: '%s' vanished while being added",
                           b->path);
    else
        st = lpt_store_sql_error(store, rc, err, "backbones: looking up '%s'", b->path);
done:
    lpt_store_stmt_done(insert);
    lpt_store_stmt_done(find);
    return st;
}

#define BACKBONE_COLUMNS "id, role, name, path, sha256, architecture, params, added_at"

/* One row of BACKBONE_COLUMNS into the pack (nothing when out of memory: pack.oom). */
static void backbone_row(LptStorePack *pack, sqlite3_stmt *stmt)
{
    LptStoreBackbone *b = lpt_store_pack_row(pack);
    if (!b)
        return;
    b->id = sqlite3_column_int64(stmt, 0);
    b->role = (LptStoreExpert)lpt_store_expert_parse((const char *)sqlite3_column_text(stmt, 1));
    copy_hash(b->sha256, stmt, 4);
    b->params = sqlite3_column_int64(stmt, 6);
    b->added_at = sqlite3_column_int64(stmt, 7);
    lpt_store_pack_text(pack, &b->name, stmt, 2);
    lpt_store_pack_text(pack, &b->path, stmt, 3);
    lpt_store_pack_text(pack, &b->architecture_json, stmt, 5);
}

LptStatus lpt_store_backbone_get(LptStore *store, int64_t backbone_id, LptStoreBackbone **backbone,
                                 LptError *err)
{
    LptStatus st = lpt_store_check(store, backbone, err, "backbones: reading");
    if (st != LPT_OK)
        return st;
    *backbone = NULL;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_BACKBONE_GET,
                                "SELECT " BACKBONE_COLUMNS " FROM backbones WHERE id = ?1", &stmt,
                                err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreBackbone));
    int rc = sqlite3_bind_int64(stmt, 1, backbone_id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        backbone_row(&pack, stmt);
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, backbone, NULL, err,
                                 "backbones: reading");
}

LptStatus lpt_store_backbone_list(LptStore *store, LptStoreBackbone **backbones, size_t *count,
                                  LptError *err)
{
    LptStatus st =
        lpt_store_check(store, backbones && count ? backbones : NULL, err, "backbones: listing");
    if (st != LPT_OK)
        return st;
    *backbones = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_BACKBONE_LIST,
                                "SELECT " BACKBONE_COLUMNS " FROM backbones ORDER BY id", &stmt,
                                err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreBackbone));
    int rc = SQLITE_OK;
    while (!pack.oom && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        backbone_row(&pack, stmt);
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, backbones, count, err,
                                 "backbones: listing");
}

/* ---- Runs ---- */

LptStatus lpt_store_run_create(LptStore *store, const LptStoreRun *run, int64_t *id, LptError *err)
{
    LptStatus st = lpt_store_check(store, run && id ? id : NULL, err, "runs: creating");
    if (st != LPT_OK)
        return st;
    *id = 0;
    if (!run->config_json || !run->class_ids || run->num_classes < 1 || run->split_id < 0 ||
        run->backbone_id[0] < 0 || run->backbone_id[1] < 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "runs: creating '%s': %s",
                             run->name ? run->name : "",
                             !run->config_json                         ? "no config"
                             : !run->class_ids || run->num_classes < 1 ? "no classes"
                                                                       : "negative id");
    sqlite3_stmt *insert, *add_class;
    int token = 0;
    if ((st = lpt_store_prepare(store, LPT_STMT_RUN_INSERT,
                                "INSERT INTO runs (name, config, split_id, vision_backbone_id, "
                                "vl_backbone_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                &insert, err)) != LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_RUN_CLASS_INSERT,
                                "INSERT INTO run_classes (run_id, idx, class_id) "
                                "VALUES (?1, ?2, ?3)",
                                &add_class, err)) != LPT_OK ||
        (st = lpt_store_op_begin(store, &token, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 1, run->name ? run->name : ""));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 2, run->config_json));
    LPT_STORE_BIND(rc, lpt_store_bind_id(insert, 3, run->split_id));
    LPT_STORE_BIND(rc, lpt_store_bind_id(insert, 4, run->backbone_id[LPT_STORE_EXPERT_VISION]));
    LPT_STORE_BIND(rc, lpt_store_bind_id(insert, 5, run->backbone_id[LPT_STORE_EXPERT_VL]));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 6, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(insert);
    if (rc != SQLITE_DONE) {
        st = lpt_store_sql_error(store, rc, err, "runs: creating '%s'", run->name ? run->name : "");
        goto done;
    }
    int64_t run_id = sqlite3_last_insert_rowid(store->db);
    for (int32_t i = 0; i < run->num_classes && st == LPT_OK; i++) {
        rc = SQLITE_OK;
        LPT_STORE_BIND(rc, sqlite3_bind_int64(add_class, 1, run_id));
        LPT_STORE_BIND(rc, sqlite3_bind_int(add_class, 2, i));
        LPT_STORE_BIND(rc, sqlite3_bind_int64(add_class, 3, run->class_ids[i]));
        if (rc == SQLITE_OK)
            rc = sqlite3_step(add_class);
        if (rc != SQLITE_DONE)
            st = lpt_store_sql_error(store, rc, err, "run_classes: run %lld, index %d: class %lld",
                                     (long long)run_id, (int)i, (long long)run->class_ids[i]);
        sqlite3_reset(add_class);
    }
    if (st == LPT_OK)
        *id = run_id;
done:
    lpt_store_stmt_done(insert);
    lpt_store_stmt_done(add_class);
    st = lpt_store_op_end(store, token, st, err);
    if (st != LPT_OK)
        *id = 0;
    return st;
}

LptStatus lpt_store_run_set_status(LptStore *store, int64_t run_id, LptStoreRunStatus status,
                                   const char *error, LptError *err)
{
    if (!store || status <= LPT_STORE_RUN_CREATED || status > LPT_STORE_RUN_INTERRUPTED)
        return lpt_error_set(
            err, LPT_ERR_INVALID_ARGUMENT, 0, "runs: run %lld: %s", (long long)run_id,
            store ? "a run cannot be set back to created, or bad status" : "no store");
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(
        store, LPT_STMT_RUN_STATUS,
        "UPDATE runs SET status = ?2, "
        "started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, ?3) ELSE started_at END, "
        "finished_at = CASE WHEN ?2 = 'running' THEN NULL ELSE ?3 END, "
        "error = ?4 WHERE id = ?1",
        &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 2, lpt_store_run_status_name(status)));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 3, lpt_store_now()));
    LPT_STORE_BIND(rc,
                   lpt_store_bind_text(stmt, 4, status == LPT_STORE_RUN_RUNNING ? NULL : error));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "runs: setting run %lld to %s", (long long)run_id,
                                 lpt_store_run_status_name(status));
    else if (sqlite3_changes(store->db) == 0)
        st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "runs: no run with id %lld",
                           (long long)run_id);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_runs_mark_interrupted(LptStore *s, LptError *err)
{
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(s, LPT_STMT_RUN_INTERRUPT,
                                     "UPDATE runs SET status = 'interrupted', finished_at = ?1, "
                                     "error = ?2 WHERE status = 'running'",
                                     &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, lpt_store_now()));
    LPT_STORE_BIND(
        rc, lpt_store_bind_text(stmt, 2, "the application stopped while the run was running"));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(s, rc, err, "runs: marking interrupted runs");
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_run_get(LptStore *store, int64_t run_id, LptStoreRun **run, LptError *err)
{
    LptStatus st = lpt_store_check(store, run, err, "runs: reading");
    if (st != LPT_OK)
        return st;
    *run = NULL;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_RUN_GET,
                                "SELECT id, name, config, split_id, vision_backbone_id, "
                                "vl_backbone_id, status, created_at, started_at, finished_at, "
                                "error, (SELECT count(*) FROM run_classes WHERE run_id = ?1) "
                                "FROM runs WHERE id = ?1",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreRun));
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreRun *r = lpt_store_pack_row(&pack);
        if (r) {
            r->id = sqlite3_column_int64(stmt, 0);
            r->split_id = lpt_store_column_id(stmt, 3);
            r->backbone_id[LPT_STORE_EXPERT_VISION] = lpt_store_column_id(stmt, 4);
            r->backbone_id[LPT_STORE_EXPERT_VL] = lpt_store_column_id(stmt, 5);
            r->status = (LptStoreRunStatus)lpt_store_run_status_parse(
                (const char *)sqlite3_column_text(stmt, 6));
            r->created_at = sqlite3_column_int64(stmt, 7);
            r->started_at = lpt_store_column_id(stmt, 8);
            r->finished_at = lpt_store_column_id(stmt, 9);
            r->num_classes = sqlite3_column_int(stmt, 11);
            lpt_store_pack_text(&pack, &r->name, stmt, 1);
            lpt_store_pack_text(&pack, &r->config_json, stmt, 2);
            lpt_store_pack_text(&pack, &r->error, stmt, 10);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, run, NULL, err, "runs: reading");
}

LptStatus lpt_store_run_list(LptStore *store, int64_t **ids, size_t *count, LptError *err)
{
    LptStatus st = lpt_store_check(store, ids && count ? ids : NULL, err, "runs: listing");
    if (st != LPT_OK)
        return st;
    *ids = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_RUN_LIST, "SELECT id FROM runs ORDER BY id", &stmt,
                                err)) != LPT_OK)
        return st;
    return lpt_store_collect_ids(store, stmt, SQLITE_OK, ids, count, err, "runs: listing");
}

LptStatus lpt_store_run_classes(LptStore *store, int64_t run_id, int64_t **class_ids, size_t *count,
                                LptError *err)
{
    LptStatus st =
        lpt_store_check(store, class_ids && count ? class_ids : NULL, err, "run_classes: reading");
    if (st != LPT_OK)
        return st;
    *class_ids = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_RUN_CLASSES,
                                "SELECT class_id FROM run_classes WHERE run_id = ?1 "
                                "ORDER BY idx",
                                &stmt, err)) != LPT_OK)
        return st;
    return lpt_store_collect_ids(store, stmt, sqlite3_bind_int64(stmt, 1, run_id), class_ids, count,
                                 err, "run_classes: reading");
}

/* ---- Checkpoints ---- */

LptStatus lpt_store_checkpoint_insert(LptStore *store, const LptStoreCheckpoint *checkpoint,
                                      int64_t *id, LptError *err)
{
    LptStatus st = lpt_store_check(store, checkpoint && id ? id : NULL, err, "checkpoints: adding");
    if (st != LPT_OK)
        return st;
    *id = 0;
    const LptStoreCheckpoint *c = checkpoint;
    const char *problem = c->run_id <= 0                       ? "no run"
                          : c->phase < 1 || c->phase > 3       ? "phase must be 1, 2 or 3"
                          : !expert_valid(c->expert, 1)        ? "bad expert"
                          : c->epoch < 0                       ? "negative epoch"
                          : !c->path == !c->data               ? "give exactly one of path and data"
                          : c->path && !*c->path               ? "empty path"
                          : c->data && c->data_size == 0       ? "empty data"
                          : c->is_best != 0 && c->is_best != 1 ? "is_best must be 0 or 1"
                                                               : NULL;
    if (problem)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "checkpoints: run %lld phase %d %s epoch %d: %s", (long long)c->run_id,
                             (int)c->phase, lpt_store_expert_name(c->expert), (int)c->epoch,
                             problem);
    sqlite3_stmt *clear, *insert;
    int token = 0;
    if ((st = lpt_store_prepare(store, LPT_STMT_CHECKPOINT_CLEAR_BEST,
                                "UPDATE checkpoints SET is_best = 0 WHERE run_id = ?1 AND "
                                "phase = ?2 AND expert = ?3 AND is_best = 1",
                                &clear, err)) != LPT_OK ||
        (st = lpt_store_prepare(store, LPT_STMT_CHECKPOINT_INSERT,
                                "INSERT OR REPLACE INTO checkpoints (run_id, phase, expert, "
                                "epoch, path, data, metric, is_best, created_at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                &insert, err)) != LPT_OK ||
        (st = lpt_store_op_begin(store, &token, err)) != LPT_OK)
        return st;
    const char *expert = lpt_store_expert_name(c->expert);
    int rc = SQLITE_OK;
    if (c->is_best) {
        LPT_STORE_BIND(rc, sqlite3_bind_int64(clear, 1, c->run_id));
        LPT_STORE_BIND(rc, sqlite3_bind_int(clear, 2, c->phase));
        LPT_STORE_BIND(rc, lpt_store_bind_text(clear, 3, expert));
        if (rc == SQLITE_OK && (rc = sqlite3_step(clear)) == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 1, c->run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(insert, 2, c->phase));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 3, expert));
    LPT_STORE_BIND(rc, sqlite3_bind_int(insert, 4, c->epoch));
    LPT_STORE_BIND(rc, lpt_store_bind_text(insert, 5, c->path));
    LPT_STORE_BIND(rc, bind_blob(insert, 6, c->data, c->data_size));
    LPT_STORE_BIND(rc, lpt_store_bind_double(insert, 7, c->metric));
    LPT_STORE_BIND(rc, sqlite3_bind_int(insert, 8, c->is_best));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(insert, 9, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(insert);
    if (rc == SQLITE_DONE)
        *id = sqlite3_last_insert_rowid(store->db);
    else
        st = lpt_store_sql_error(store, rc, err, "checkpoints: run %lld phase %d %s epoch %d",
                                 (long long)c->run_id, (int)c->phase, expert, (int)c->epoch);
    lpt_store_stmt_done(clear);
    lpt_store_stmt_done(insert);
    st = lpt_store_op_end(store, token, st, err);
    if (st != LPT_OK)
        *id = 0;
    return st;
}

LptStatus lpt_store_checkpoint_find(LptStore *store, int64_t run_id, int32_t phase,
                                    LptStoreExpert expert, LptStoreCheckpointPick pick,
                                    LptStoreCheckpoint **checkpoint, LptError *err)
{
    LptStatus st = lpt_store_check(store, checkpoint, err, "checkpoints: finding");
    if (st != LPT_OK)
        return st;
    *checkpoint = NULL;
    if (!expert_valid(expert, 1) ||
        (pick != LPT_STORE_CHECKPOINT_LATEST && pick != LPT_STORE_CHECKPOINT_BEST))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "checkpoints: finding run %lld phase %d: bad expert or pick",
                             (long long)run_id, (int)phase);
#define CHECKPOINT_COLUMNS                                                                         \
    "SELECT id, run_id, phase, expert, epoch, path, data, metric, is_best, created_at "            \
    "FROM checkpoints WHERE run_id = ?1 AND phase = ?2 AND expert = ?3 "
    sqlite3_stmt *stmt;
    if (pick == LPT_STORE_CHECKPOINT_BEST)
        st = lpt_store_prepare(store, LPT_STMT_CHECKPOINT_BEST,
                               CHECKPOINT_COLUMNS "AND is_best = 1", &stmt, err);
    else
        st = lpt_store_prepare(store, LPT_STMT_CHECKPOINT_LATEST,
                               CHECKPOINT_COLUMNS "ORDER BY epoch DESC LIMIT 1", &stmt, err);
#undef CHECKPOINT_COLUMNS
    if (st != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreCheckpoint));
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 2, phase));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 3, lpt_store_expert_name(expert)));
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreCheckpoint *c = lpt_store_pack_row(&pack);
        if (c) {
            c->id = sqlite3_column_int64(stmt, 0);
            c->run_id = sqlite3_column_int64(stmt, 1);
            c->phase = sqlite3_column_int(stmt, 2);
            c->expert =
                (LptStoreExpert)lpt_store_expert_parse((const char *)sqlite3_column_text(stmt, 3));
            c->epoch = sqlite3_column_int(stmt, 4);
            c->metric = lpt_store_column_double(stmt, 7);
            c->is_best = sqlite3_column_int(stmt, 8);
            c->created_at = sqlite3_column_int64(stmt, 9);
            lpt_store_pack_text(&pack, &c->path, stmt, 5);
            lpt_store_pack_blob(&pack, &c->data, stmt, 6);
            if (sqlite3_column_type(stmt, 6) != SQLITE_NULL)
                c->data_size = (size_t)sqlite3_column_bytes(stmt, 6);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, checkpoint, NULL, err,
                                 "checkpoints: finding");
}

LptStatus lpt_store_checkpoint_prune(LptStore *store, int64_t run_id, int32_t phase,
                                     LptStoreExpert expert, LptError *err)
{
    LptStatus st = lpt_store_check(store, store, err, "checkpoints: pruning");
    if (st != LPT_OK)
        return st;
    if (!expert_valid(expert, 1))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "checkpoints: pruning run %lld phase %d: bad expert",
                             (long long)run_id, (int)phase);
    sqlite3_stmt *stmt;
    int token = 0;
    if ((st = lpt_store_prepare(store, LPT_STMT_CHECKPOINT_PRUNE,
                                "DELETE FROM checkpoints WHERE run_id = ?1 AND phase = ?2 AND "
                                "expert = ?3 AND is_best = 0 AND epoch < (SELECT max(epoch) "
                                "FROM checkpoints WHERE run_id = ?1 AND phase = ?2 AND "
                                "expert = ?3)",
                                &stmt, err)) != LPT_OK ||
        (st = lpt_store_op_begin(store, &token, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 2, phase));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 3, lpt_store_expert_name(expert)));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "checkpoints: pruning run %lld phase %d %s",
                                 (long long)run_id, (int)phase, lpt_store_expert_name(expert));
    lpt_store_stmt_done(stmt);
    return lpt_store_op_end(store, token, st, err);
}

/* ---- Metrics ---- */

LptStatus lpt_store_metric_insert(LptStore *store, const LptStoreEpochMetrics *metrics,
                                  LptError *err)
{
    LptStatus st = lpt_store_check(store, metrics, err, "epoch_metrics: recording");
    if (st != LPT_OK)
        return st;
    const LptStoreEpochMetrics *m = metrics;
    if (m->run_id <= 0 || m->phase < 1 || m->phase > 3 || !expert_valid(m->expert, 1) ||
        m->epoch < 0 || m->split < LPT_STORE_SPLIT_TRAIN || m->split > LPT_STORE_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "epoch_metrics: run %lld phase %d expert %d epoch %d split %d: "
                             "bad run, phase, expert, epoch or split",
                             (long long)m->run_id, (int)m->phase, (int)m->expert, (int)m->epoch,
                             (int)m->split);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_METRIC_INSERT,
                                "INSERT OR REPLACE INTO epoch_metrics (run_id, phase, expert, "
                                "epoch, split, loss, overall, balanced, many, medium, few, lr, "
                                "seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                "?12, ?13)",
                                &stmt, err)) != LPT_OK)
        return st;
    const double values[8] = {m->loss,   m->overall, m->balanced, m->many,
                              m->medium, m->few,     m->lr,       m->seconds};
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, m->run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 2, m->phase));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 3, lpt_store_expert_name(m->expert)));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 4, m->epoch));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 5, lpt_store_split_name(m->split)));
    for (int i = 0; i < 8; i++)
        LPT_STORE_BIND(rc, lpt_store_bind_double(stmt, 6 + i, values[i]));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "epoch_metrics: run %lld phase %d %s epoch %d %s",
                                 (long long)m->run_id, (int)m->phase,
                                 lpt_store_expert_name(m->expert), (int)m->epoch,
                                 lpt_store_split_name(m->split));
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_metric_list(LptStore *store, int64_t run_id, LptStoreEpochMetrics **metrics,
                                size_t *count, LptError *err)
{
    LptStatus st =
        lpt_store_check(store, metrics && count ? metrics : NULL, err, "epoch_metrics: reading");
    if (st != LPT_OK)
        return st;
    *metrics = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(
             store, LPT_STMT_METRIC_LIST,
             "SELECT run_id, phase, expert, epoch, split, loss, overall, balanced, many, "
             "medium, few, lr, seconds FROM epoch_metrics WHERE run_id = ?1 ORDER BY phase, "
             "CASE expert WHEN 'vision' THEN 0 WHEN 'vl' THEN 1 ELSE 2 END, epoch, "
             "CASE split WHEN 'train' THEN 1 WHEN 'val' THEN 2 ELSE 3 END",
             &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreEpochMetrics));
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    while (!pack.oom && (rc == SQLITE_OK || rc == SQLITE_ROW) &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreEpochMetrics *m = lpt_store_pack_row(&pack);
        if (m) {
            m->run_id = sqlite3_column_int64(stmt, 0);
            m->phase = sqlite3_column_int(stmt, 1);
            m->expert =
                (LptStoreExpert)lpt_store_expert_parse((const char *)sqlite3_column_text(stmt, 2));
            m->epoch = sqlite3_column_int(stmt, 3);
            m->split =
                (LptStoreSplit)lpt_store_split_parse((const char *)sqlite3_column_text(stmt, 4));
            double *v[8] = {&m->loss,   &m->overall, &m->balanced, &m->many,
                            &m->medium, &m->few,     &m->lr,       &m->seconds};
            for (int i = 0; i < 8; i++)
                *v[i] = lpt_store_column_double(stmt, 5 + i);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, metrics, count, err,
                                 "epoch_metrics: reading");
}

/* ---- Predictions ---- */

/* The run's class count (0 when there is no such run). */
static LptStatus run_class_count(LptStore *store, int64_t run_id, int32_t *count, LptError *err)
{
    sqlite3_stmt *stmt;
    LptStatus st =
        lpt_store_prepare(store, LPT_STMT_RUN_CLASS_COUNT,
                          "SELECT count(*) FROM run_classes WHERE run_id = ?1", &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int(stmt, 0);
    else
        st = lpt_store_sql_error(store, rc, err, "predictions: reading the classes of run %lld",
                                 (long long)run_id);
    lpt_store_stmt_done(stmt);
    return st;
}

static const char *topk_problem(const LptStoreTopK *topk, int32_t k, int32_t num_classes)
{
    for (int32_t i = 0; topk && i < k; i++) {
        if (topk[i].class_index < 0 || topk[i].class_index >= num_classes)
            return "a top-k class index is out of range";
        if (!isfinite(topk[i].prob))
            return "a top-k probability is not finite";
    }
    return NULL;
}

static const char *vector_problem(const float *v, int32_t n)
{
    for (int32_t i = 0; v && i < n; i++)
        if (!isfinite(v[i]))
            return "a probability or weight is not finite";
    return NULL;
}

static const char *prediction_problem(const LptStorePrediction *p, int32_t run_classes)
{
    int32_t k = p->num_classes;
    if (k != run_classes)
        return "num_classes differs from the run's class count";
    if (p->label_index < 0 || p->label_index >= k)
        return "label index out of range";
    if (p->top_k < 1 || p->top_k > k || !p->fused_topk)
        return "top_k must be 1..K with a fused top-k list";
    if ((p->fused_probs || p->expert_probs[0] || p->expert_probs[1]) &&
        k > LPT_STORE_MAX_PROB_CLASSES)
        return "probability vectors are kept only for up to 1000 classes";
    const char *problem = topk_problem(p->fused_topk, p->top_k, k);
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++) {
        if (!problem)
            problem = topk_problem(p->expert_topk[e], p->top_k, k);
        if (!problem)
            problem = vector_problem(p->expert_probs[e], k);
        if (!problem && (p->num_prompts[e] < 0 || (p->num_prompts[e] > 0) != !!p->prompts[e]))
            problem = "num_prompts must be >= 0 and match the prompts array";
    }
    if (!problem)
        problem = vector_problem(p->fused_probs, k);
    if (!problem)
        problem = vector_problem(p->scorer_weights, LPT_STORE_NUM_EXPERTS);
    return problem;
}

LptStatus lpt_store_prediction_insert(LptStore *store, const LptStorePrediction *prediction,
                                      LptError *err)
{
    LptStatus st = lpt_store_check(store, prediction, err, "predictions: recording");
    if (st != LPT_OK)
        return st;
    const LptStorePrediction *p = prediction;
    int32_t run_classes = 0;
    if (p->run_id <= 0 || p->image_id <= 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "predictions: run %lld image %lld: bad id", (long long)p->run_id,
                             (long long)p->image_id);
    if ((st = run_class_count(store, p->run_id, &run_classes, err)) != LPT_OK)
        return st;
    if (run_classes == 0)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "predictions: no run with id %lld",
                             (long long)p->run_id);
    const char *problem = prediction_problem(p, run_classes);
    if (problem)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "predictions: run %lld image %lld: %s (K = %d, run has %d)",
                             (long long)p->run_id, (long long)p->image_id, problem,
                             (int)p->num_classes, (int)run_classes);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_PREDICTION_INSERT,
                                "INSERT OR REPLACE INTO predictions (run_id, image_id, "
                                "num_classes, label_index, fused_index, fused_prob, "
                                "vision_index, vl_index, correct, top_k, fused_topk, "
                                "vision_topk, vl_topk, fused_probs, vision_probs, vl_probs, "
                                "scorer_weights, vision_prompts, vl_prompts) VALUES (?1, ?2, "
                                "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                                "?17, ?18, ?19)",
                                &stmt, err)) != LPT_OK)
        return st;
    size_t topk_bytes = (size_t)p->top_k * sizeof(LptStoreTopK);
    size_t probs_bytes = (size_t)p->num_classes * sizeof(float);
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, p->run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 2, p->image_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 3, p->num_classes));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 4, p->label_index));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 5, p->fused_topk[0].class_index));
    LPT_STORE_BIND(rc, sqlite3_bind_double(stmt, 6, p->fused_topk[0].prob));
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        LPT_STORE_BIND(rc, p->expert_topk[e]
                               ? sqlite3_bind_int(stmt, 7 + e, p->expert_topk[e][0].class_index)
                               : sqlite3_bind_null(stmt, 7 + e));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 9, p->fused_topk[0].class_index == p->label_index));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 10, p->top_k));
    LPT_STORE_BIND(rc, bind_blob(stmt, 11, p->fused_topk, topk_bytes));
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        LPT_STORE_BIND(rc, bind_blob(stmt, 12 + e, p->expert_topk[e], topk_bytes));
    LPT_STORE_BIND(rc, bind_blob(stmt, 14, p->fused_probs, probs_bytes));
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        LPT_STORE_BIND(rc, bind_blob(stmt, 15 + e, p->expert_probs[e], probs_bytes));
    LPT_STORE_BIND(rc,
                   bind_blob(stmt, 17, p->scorer_weights, LPT_STORE_NUM_EXPERTS * sizeof(float)));
    for (int e = 0; e < LPT_STORE_NUM_EXPERTS; e++)
        LPT_STORE_BIND(rc, bind_blob(stmt, 18 + e, p->prompts[e],
                                     (size_t)p->num_prompts[e] * sizeof(int32_t)));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "predictions: run %lld image %lld",
                                 (long long)p->run_id, (long long)p->image_id);
    lpt_store_stmt_done(stmt);
    return st;
}

/* The columns of a prediction row, as lpt_store_prediction_get and _scan select them: run_id,
 * image_id, num_classes, label_index, top_k, correct, then from PREDICTION_VECTOR_COL the
 * vectors in this order: 3 top-k lists (fused, vision, vl), 3 probability vectors (the same),
 * the scorer weights, 2 prompt lists (vision, vl). */
#define PREDICTION_COLUMNS                                                                         \
    "run_id, image_id, num_classes, label_index, top_k, correct, fused_topk, vision_topk, "        \
    "vl_topk, fused_probs, vision_probs, vl_probs, scorer_weights, vision_prompts, vl_prompts"
#define PREDICTION_VECTOR_COL 6
#define PREDICTION_VECTORS 9

/* Where each vector column of a row goes: field[i] is the address of its pointer field in the
 * prediction, n[i] its element count (-1: any), size[i] the bytes of an element, got[i] the
 * field that receives the count (NULL: none). */
typedef struct PredictionVectors {
    const void *field[PREDICTION_VECTORS];
    int64_t n[PREDICTION_VECTORS];
    size_t size[PREDICTION_VECTORS];
    int32_t *got[PREDICTION_VECTORS];
} PredictionVectors;

/* Reads the scalar columns of the row into p and describes its vector columns in *v. */
static void prediction_row(sqlite3_stmt *stmt, LptStorePrediction *p, PredictionVectors *v)
{
    p->run_id = sqlite3_column_int64(stmt, 0);
    p->image_id = sqlite3_column_int64(stmt, 1);
    p->num_classes = sqlite3_column_int(stmt, 2);
    p->label_index = sqlite3_column_int(stmt, 3);
    p->top_k = sqlite3_column_int(stmt, 4);
    p->correct = sqlite3_column_int(stmt, 5);
    const void *fields[PREDICTION_VECTORS] = {
        &p->fused_topk,  &p->expert_topk[0],  &p->expert_topk[1],
        &p->fused_probs, &p->expert_probs[0], &p->expert_probs[1],
        &p->scorer_weights, &p->prompts[0], &p->prompts[1]};
    for (int i = 0; i < PREDICTION_VECTORS; i++) {
        v->field[i] = fields[i];
        v->n[i] = i < 3 ? p->top_k : i < 6 ? p->num_classes : i == 6 ? LPT_STORE_NUM_EXPERTS : -1;
        v->size[i] = i < 3 ? sizeof(LptStoreTopK) : sizeof(float);
        v->got[i] = i >= 7 ? &p->num_prompts[i - 7] : NULL;
    }
}

/* The bytes of BLOB column col into *bytes (0 for NULL) after checking it holds whole elements
 * of size bytes, n of them when n >= 0; *got (may be NULL) receives the count. Returns 0, or
 * 1 when the size is wrong. */
static int vector_bytes(sqlite3_stmt *stmt, int col, int64_t n, size_t size, int32_t *got,
                        int64_t *bytes)
{
    *bytes = 0;
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return 0;
    *bytes = sqlite3_column_bytes(stmt, col);
    if ((n >= 0 && *bytes != n * (int64_t)size) || *bytes % (int64_t)size != 0)
        return 1;
    if (got)
        *got = (int32_t)(*bytes / (int64_t)size);
    return 0;
}

/* Packs BLOB column col into *field after the checks of vector_bytes. */
static int pack_vector(LptStorePack *pack, const void *field, sqlite3_stmt *stmt, int col,
                       int64_t n, size_t size, int32_t *got)
{
    int64_t bytes;
    if (vector_bytes(stmt, col, n, size, got, &bytes))
        return 1;
    if (sqlite3_column_type(stmt, col) != SQLITE_NULL)
        lpt_store_pack_blob(pack, field, stmt, col);
    return 0;
}

LptStatus lpt_store_prediction_get(LptStore *store, int64_t run_id, int64_t image_id,
                                   LptStorePrediction **prediction, LptError *err)
{
    LptStatus st = lpt_store_check(store, prediction, err, "predictions: reading");
    if (st != LPT_OK)
        return st;
    *prediction = NULL;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_PREDICTION_GET,
                                "SELECT " PREDICTION_COLUMNS " FROM predictions WHERE "
                                "run_id = ?1 AND image_id = ?2",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStorePrediction));
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 2, image_id));
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStorePrediction *p = lpt_store_pack_row(&pack);
        if (p) {
            PredictionVectors v;
            prediction_row(stmt, p, &v);
            int bad = 0;
            for (int i = 0; i < PREDICTION_VECTORS && !bad; i++)
                bad = pack_vector(&pack, v.field[i], stmt, PREDICTION_VECTOR_COL + i, v.n[i],
                                  v.size[i], v.got[i]);
            if (bad || sqlite3_column_type(stmt, PREDICTION_VECTOR_COL) == SQLITE_NULL)
                st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "predictions: run %lld image %lld: a stored vector has the "
                                   "wrong size",
                                   (long long)run_id, (long long)image_id);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, st, &pack, prediction, NULL, err,
                                 "predictions: reading");
}

LptStatus lpt_store_prediction_list(LptStore *store, int64_t run_id, LptStoreCorrectness which,
                                    int64_t **image_ids, size_t *count, LptError *err)
{
    LptStatus st =
        lpt_store_check(store, image_ids && count ? image_ids : NULL, err, "predictions: listing");
    if (st != LPT_OK)
        return st;
    *image_ids = NULL;
    *count = 0;
    if (which != LPT_STORE_ANY_RESULT && which != LPT_STORE_CORRECT && which != LPT_STORE_WRONG)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "predictions: listing run %lld: bad filter", (long long)run_id);
    sqlite3_stmt *stmt;
    if (which == LPT_STORE_ANY_RESULT)
        st = lpt_store_prepare(store, LPT_STMT_PREDICTION_LIST_ALL,
                               "SELECT image_id FROM predictions WHERE run_id = ?1 "
                               "ORDER BY image_id",
                               &stmt, err);
    else
        st = lpt_store_prepare(store, LPT_STMT_PREDICTION_LIST_CORRECT,
                               "SELECT image_id FROM predictions WHERE run_id = ?1 AND "
                               "correct = ?2 ORDER BY image_id",
                               &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    if (which != LPT_STORE_ANY_RESULT)
        LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 2, which == LPT_STORE_CORRECT));
    return lpt_store_collect_ids(store, stmt, rc, image_ids, count, err, "predictions: listing");
}

/* Copies the vector columns of the row into buf (grown as needed; SQLite's BLOB pointers
 * promise no alignment) and points p's vector fields at the copies. Returns 0, 1 when a
 * vector has the wrong size, -1 when out of memory. */
static int copy_vectors(sqlite3_stmt *stmt, const PredictionVectors *v, char **buf, size_t *cap)
{
    int64_t bytes[PREDICTION_VECTORS];
    size_t need = 0;
    for (int i = 0; i < PREDICTION_VECTORS; i++) {
        if (vector_bytes(stmt, PREDICTION_VECTOR_COL + i, v->n[i], v->size[i], v->got[i],
                         &bytes[i]))
            return 1;
        need += ((size_t)bytes[i] + 7) & ~(size_t)7;
    }
    if (need > *cap) {
        char *grown = realloc(*buf, need);
        if (!grown)
            return -1;
        *buf = grown;
        *cap = need;
    }
    size_t at = 0;
    for (int i = 0; i < PREDICTION_VECTORS; i++) {
        int col = PREDICTION_VECTOR_COL + i;
        const void *copy = NULL;
        if (sqlite3_column_type(stmt, col) != SQLITE_NULL) {
            copy = *buf + at;
            if (bytes[i] > 0)
                memcpy(*buf + at, sqlite3_column_blob(stmt, col), (size_t)bytes[i]);
            at += ((size_t)bytes[i] + 7) & ~(size_t)7;
        }
        memcpy((void *)v->field[i], &copy, sizeof copy);
    }
    return 0;
}

LptStatus lpt_store_prediction_scan(LptStore *store, int64_t run_id, LptStoreSplit split,
                                    LptStorePredictionFn fn, void *user, LptError *err)
{
    if (!store || !fn)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "predictions: reading: %s",
                             store ? "no callback given" : "no store");
    LptStatus st = LPT_OK;
    if (split < LPT_STORE_SPLIT_ANY || split > LPT_STORE_SPLIT_TEST)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "predictions: reading run %lld: bad split %d", (long long)run_id,
                             (int)split);
    sqlite3_stmt *stmt;
    /* the predictions' primary key (run_id, image_id) gives the rows in image order; each
     * image is found by its id (no column name is in both tables) */
    if ((st = lpt_store_prepare(store, LPT_STMT_PREDICTION_SCAN,
                                "SELECT " PREDICTION_COLUMNS " FROM predictions JOIN images ON "
                                "images.id = image_id WHERE run_id = ?1 AND excluded = 0 AND "
                                "(?2 = 0 OR split IS ?3) ORDER BY image_id",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, run_id));
    LPT_STORE_BIND(rc, sqlite3_bind_int(stmt, 2, split != LPT_STORE_SPLIT_ANY));
    LPT_STORE_BIND(rc, split > LPT_STORE_SPLIT_NONE
                           ? sqlite3_bind_text(stmt, 3, lpt_store_split_name(split), -1,
                                               SQLITE_STATIC)
                           : sqlite3_bind_null(stmt, 3));
    char *buf = NULL;
    size_t cap = 0;
    while (st == LPT_OK && (rc == SQLITE_OK || rc == SQLITE_ROW) &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStorePrediction p;
        memset(&p, 0, sizeof p);
        PredictionVectors v;
        prediction_row(stmt, &p, &v);
        int copied = copy_vectors(stmt, &v, &buf, &cap);
        if (copied < 0)
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                               "predictions: reading run %lld: out of memory", (long long)run_id);
        else if (copied > 0 || !p.fused_topk)
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "predictions: run %lld image %lld: a stored vector has the "
                               "wrong size",
                               (long long)run_id, (long long)p.image_id);
        else
            st = fn(&p, user, err);
    }
    if (st == LPT_OK && rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "predictions: reading run %lld",
                                 (long long)run_id);
    lpt_store_stmt_done(stmt);
    free(buf);
    return st;
}

LptStatus lpt_store_prediction_counts(LptStore *store, int64_t run_id,
                                      int64_t counts[LPT_STORE_SPLIT_COUNT], LptError *err)
{
    LptStatus st = lpt_store_check(store, counts, err, "predictions: counting");
    if (st != LPT_OK)
        return st;
    for (int i = 0; i < LPT_STORE_SPLIT_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_PREDICTION_COUNTS,
                                "SELECT images.split, count(*) FROM predictions JOIN images ON "
                                "images.id = predictions.image_id WHERE predictions.run_id = ?1 "
                                "AND images.excluded = 0 GROUP BY images.split",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int split = lpt_store_split_parse((const char *)sqlite3_column_text(stmt, 0));
        if (split >= LPT_STORE_SPLIT_NONE && split <= LPT_STORE_SPLIT_TEST)
            counts[split] = sqlite3_column_int64(stmt, 1);
    }
    if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(store, rc, err, "predictions: counting run %lld",
                                 (long long)run_id);
    lpt_store_stmt_done(stmt);
    return st;
}

/* ---- Exports ---- */

LptStatus lpt_store_export_insert(LptStore *store, const LptStoreExport *exp, int64_t *id,
                                  LptError *err)
{
    LptStatus st = lpt_store_check(store, exp && id ? id : NULL, err, "exports: recording");
    if (st != LPT_OK)
        return st;
    *id = 0;
    const char *problem =
        exp->run_id <= 0                     ? "no run"
        : !exp->path || !*exp->path          ? "no path"
        : !lpt_store_hash_valid(exp->sha256) ? "sha256 is not 64 lowercase hex digits"
        : exp->format < LPT_STORE_EXPORT_BUNDLE || exp->format > LPT_STORE_EXPORT_C ? "bad format"
                                                                                    : NULL;
    if (problem)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "exports: run %lld, '%s': %s",
                             (long long)exp->run_id, exp->path ? exp->path : "?", problem);
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_EXPORT_INSERT,
                                "INSERT INTO exports (run_id, format, path, sha256, parity, "
                                "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                &stmt, err)) != LPT_OK)
        return st;
    int rc = SQLITE_OK;
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 1, exp->run_id));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 2, lpt_store_export_format_name(exp->format)));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 3, exp->path));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 4, exp->sha256));
    LPT_STORE_BIND(rc, lpt_store_bind_text(stmt, 5, exp->parity_json));
    LPT_STORE_BIND(rc, sqlite3_bind_int64(stmt, 6, lpt_store_now()));
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        *id = sqlite3_last_insert_rowid(store->db);
    else
        st = lpt_store_sql_error(store, rc, err, "exports: run %lld, '%s'", (long long)exp->run_id,
                                 exp->path);
    lpt_store_stmt_done(stmt);
    return st;
}

LptStatus lpt_store_export_list(LptStore *store, int64_t run_id, LptStoreExport **exports,
                                size_t *count, LptError *err)
{
    LptStatus st =
        lpt_store_check(store, exports && count ? exports : NULL, err, "exports: listing");
    if (st != LPT_OK)
        return st;
    *exports = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    if ((st = lpt_store_prepare(store, LPT_STMT_EXPORT_LIST,
                                "SELECT id, run_id, format, path, sha256, parity, created_at "
                                "FROM exports WHERE run_id = ?1 ORDER BY id",
                                &stmt, err)) != LPT_OK)
        return st;
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(LptStoreExport));
    int rc = sqlite3_bind_int64(stmt, 1, run_id);
    while (!pack.oom && (rc == SQLITE_OK || rc == SQLITE_ROW) &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LptStoreExport *x = lpt_store_pack_row(&pack);
        if (x) {
            x->id = sqlite3_column_int64(stmt, 0);
            x->run_id = sqlite3_column_int64(stmt, 1);
            x->format = (LptStoreExportFormat)lpt_store_export_format_parse(
                (const char *)sqlite3_column_text(stmt, 2));
            copy_hash(x->sha256, stmt, 4);
            x->created_at = sqlite3_column_int64(stmt, 6);
            lpt_store_pack_text(&pack, &x->path, stmt, 3);
            lpt_store_pack_text(&pack, &x->parity_json, stmt, 5);
        }
    }
    return lpt_store_finish_read(store, stmt, rc, LPT_OK, &pack, exports, count, err,
                                 "exports: listing");
}

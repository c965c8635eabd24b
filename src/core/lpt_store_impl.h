/* lpt_store_impl.h: what the store's files share (private to src/core and the store test).
 *
 * lpt_store.c owns the connection (open checks, instance lock, migrations, statement cache,
 * transactions, error messages, result packing); lpt_store_schema.c holds the migration
 * SQL and lpt_store_split_given.c version 2's data fill; lpt_store_data.c the dataset tables (settings, classes, images, label history,
 * splits); lpt_store_runs.c the training tables (backbones, runs, checkpoints, metrics,
 * predictions, exports). Each cached statement id is used at exactly one call site, with
 * its SQL next to it.
 */
#ifndef LPT_STORE_IMPL_H
#define LPT_STORE_IMPL_H

#include <sqlite3.h>

#include "lpt_store.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the store writes float32/int32 BLOBs in host order and needs a little-endian host"
#endif

typedef enum LptStoreStmt {
    LPT_STMT_BEGIN,
    LPT_STMT_COMMIT,
    LPT_STMT_ROLLBACK,
    LPT_STMT_SAVEPOINT,
    LPT_STMT_RELEASE,
    LPT_STMT_ROLLBACK_TO,
    LPT_STMT_SETTING_SET,
    LPT_STMT_SETTING_GET,
    LPT_STMT_CLASS_INSERT,
    LPT_STMT_CLASS_FIND,
    LPT_STMT_CLASS_UPDATE,
    LPT_STMT_CLASS_LIST,
    LPT_STMT_CLASS_COUNTS,
    LPT_STMT_IMAGE_INSERT,
    LPT_STMT_IMAGE_GET,
    LPT_STMT_IMAGE_FIND_HASH,
    LPT_STMT_IMAGE_LIST_ALL,
    LPT_STMT_IMAGE_LIST_CLASS,
    LPT_STMT_IMAGE_LIST_SPLIT,
    LPT_STMT_IMAGE_LIST_CLASS_SPLIT,
    LPT_STMT_IMAGE_CLASS_OF,
    LPT_STMT_IMAGE_SET_CLASS,
    LPT_STMT_IMAGE_SET_SPLIT,
    LPT_STMT_IMAGE_SET_EXCLUDED,
    LPT_STMT_HISTORY_INSERT,
    LPT_STMT_HISTORY_LIST,
    LPT_STMT_SPLIT_INSERT,
    LPT_STMT_SPLIT_LATEST,
    LPT_STMT_BACKBONE_INSERT,
    LPT_STMT_BACKBONE_FIND,
    LPT_STMT_BACKBONE_GET,
    LPT_STMT_BACKBONE_LIST,
    LPT_STMT_RUN_INSERT,
    LPT_STMT_RUN_CLASS_INSERT,
    LPT_STMT_RUN_STATUS,
    LPT_STMT_RUN_INTERRUPT,
    LPT_STMT_RUN_GET,
    LPT_STMT_RUN_LIST,
    LPT_STMT_RUN_CLASSES,
    LPT_STMT_RUN_CLASS_COUNT,
    LPT_STMT_CHECKPOINT_CLEAR_BEST,
    LPT_STMT_CHECKPOINT_INSERT,
    LPT_STMT_CHECKPOINT_LATEST,
    LPT_STMT_CHECKPOINT_BEST,
    LPT_STMT_CHECKPOINT_PRUNE,
    LPT_STMT_METRIC_INSERT,
    LPT_STMT_METRIC_LIST,
    LPT_STMT_PREDICTION_INSERT,
    LPT_STMT_PREDICTION_GET,
    LPT_STMT_PREDICTION_LIST_ALL,
    LPT_STMT_PREDICTION_LIST_CORRECT,
    LPT_STMT_PREDICTION_SCAN,
    LPT_STMT_PREDICTION_COUNTS,
    LPT_STMT_EXPORT_INSERT,
    LPT_STMT_EXPORT_LIST,
    LPT_STMT_COUNT
} LptStoreStmt;

typedef struct LptStoreLock LptStoreLock;

struct LptStore {
    sqlite3 *db;                        /* owned: this handle's connection */
    char *path;                         /* owned */
    int read_only;                      /* opened with LPT_STORE_READ_ONLY */
    LptStoreLock *lock;                 /* shared, refcounted; NULL when read-only */
    sqlite3_stmt *stmt[LPT_STMT_COUNT]; /* prepared on first use, finalized on close */
};

/* One schema step: the statements that take a file from version - 1 to version (the first
 * step makes version 1 from an empty file), then `fill` (may be NULL) for data the SQL cannot
 * derive, in the same transaction. Released steps never change: a new schema is a new step.
 * A fill runs against the schema of its own version, so it uses plain SQL on s->db, never
 * the record functions (whose SQL follows the newest schema). */
typedef struct LptStoreMigration {
    int version;
    const char *const *statements; /* NULL-terminated */
    LptStatus (*fill)(LptStore *s, LptError *err);
} LptStoreMigration;

extern const LptStoreMigration lpt_store_migrations[];
extern const int lpt_store_migration_count; /* == LPT_STORE_SCHEMA_VERSION */

/* Version 2's fill (lpt_store_split_given.c): sets images.split_given on a file of version 1
 * from each image's source, with the importer's rules. */
LptStatus lpt_store_fill_split_given(LptStore *s, LptError *err);

/* lpt_store_open with another list of steps (steps[i].version == i + 1; the current
 * version is nsteps): the test's hook for checking the migration runner. */
LptStore *lpt_store_open_steps(const char *path, LptStoreMode mode, const LptStoreMigration *steps,
                               int nsteps, LptError *err);

/* *stmt = the cached statement id, prepared from sql on first use. Callers bind, step and
 * then call lpt_store_stmt_done. */
LptStatus lpt_store_prepare(LptStore *s, LptStoreStmt id, const char *sql, sqlite3_stmt **stmt,
                            LptError *err);
/* Resets a cached statement and clears its bindings; NULL is a no-op. */
void lpt_store_stmt_done(sqlite3_stmt *stmt);
/* Runs a cached statement that returns no rows. */
LptStatus lpt_store_stmt_exec(LptStore *s, LptStoreStmt id, const char *sql, LptError *err);

/* Records a failed SQLite call: "<context>: <sqlite message> (SQLite code N)", with the
 * status mapped from rc and detail = rc. Call it before any other call on the connection. */
LptStatus lpt_store_sql_error(LptStore *s, int rc, LptError *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An atomic write: BEGIN IMMEDIATE when no transaction is open, else a savepoint inside the
 * caller's. op_end commits (status LPT_OK) or undoes the op's changes, and returns status
 * (or the commit's failure). */
LptStatus lpt_store_op_begin(LptStore *s, int *token, LptError *err);
LptStatus lpt_store_op_end(LptStore *s, int token, LptStatus status, LptError *err);

/* Argument checks shared by the record files. */
LptStatus lpt_store_check(LptStore *s, const void *out, LptError *err, const char *what);
int lpt_store_hash_valid(const char *hex);

/* Binds while rc is SQLITE_OK: a run of binds ends with the first failure in rc. */
#define LPT_STORE_BIND(rc, call)                                                                   \
    do {                                                                                           \
        if ((rc) == SQLITE_OK)                                                                     \
            (rc) = (call);                                                                         \
    } while (0)

/* Binding and reading with the store's NULL conventions (0 id, NaN double, NULL text). */
int lpt_store_bind_id(sqlite3_stmt *stmt, int index, int64_t id);
int lpt_store_bind_double(sqlite3_stmt *stmt, int index, double value);
int lpt_store_bind_text(sqlite3_stmt *stmt, int index, const char *text);
int64_t lpt_store_column_id(sqlite3_stmt *stmt, int col);
double lpt_store_column_double(sqlite3_stmt *stmt, int col);

/* Enum <-> stored text; parse returns -1 for text it does not know. */
int lpt_store_split_parse(const char *text);
int lpt_store_expert_parse(const char *text);
int lpt_store_run_status_parse(const char *text);
int lpt_store_export_format_parse(const char *text);

int64_t lpt_store_now(void);

/* Collects result rows (structs of row_size bytes) and the strings and arrays they point to,
 * and hands them out as one malloc block: the rows, then the variable parts, with the
 * pointers fixed up. A row pointer from pack_row is valid until the next pack_row. An
 * allocation failure sets oom; later calls then do nothing. */
typedef struct LptStorePackFix {
    size_t field; /* byte offset of a pointer field in the rows */
    size_t extra; /* byte offset of its data in the variable part */
} LptStorePackFix;

typedef struct LptStorePack {
    size_t row_size, count, cap;
    char *rows;
    char *extra;
    size_t extra_len, extra_cap;
    LptStorePackFix *fix;
    size_t nfix, fix_cap;
    int oom;
} LptStorePack;

void lpt_store_pack_init(LptStorePack *p, size_t row_size);
/* A new zeroed row; NULL (and oom set) when out of memory. */
void *lpt_store_pack_row(LptStorePack *p);
/* Copies n bytes as the data of the pointer field *field of the last row; data NULL leaves
 * the field NULL. */
void lpt_store_pack_bytes(LptStorePack *p, const void *field, const void *data, size_t n);
/* The same for column col of stmt: text (NUL-terminated) or blob; SQL NULL stays NULL. */
void lpt_store_pack_text(LptStorePack *p, const void *field, sqlite3_stmt *stmt, int col);
void lpt_store_pack_blob(LptStorePack *p, const void *field, sqlite3_stmt *stmt, int col);
void lpt_store_pack_clear(LptStorePack *p);

/* The end of every read: stmt (last step result rc) is reset; when status is LPT_OK and
 * neither rc nor the pack failed, *out (a T ** passed as void *) receives the packed block
 * (NULL when no rows) and *count (may be NULL) the row count; else the pack is freed and
 * the failure returned. `what` names the read in messages. */
LptStatus lpt_store_finish_read(LptStore *s, sqlite3_stmt *stmt, int rc, LptStatus status,
                                LptStorePack *pack, void *out, size_t *count, LptError *err,
                                const char *what);

/* Steps stmt (its binds ended with rc) and collects column 0 of its rows as ids. */
LptStatus lpt_store_collect_ids(LptStore *s, sqlite3_stmt *stmt, int rc, int64_t **ids,
                                size_t *count, LptError *err, const char *what);

/* Runs left RUNNING by a process that is gone become INTERRUPTED (open for writing, under
 * the instance lock). */
LptStatus lpt_store_runs_mark_interrupted(LptStore *s, LptError *err);

#endif

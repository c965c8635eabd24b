/* lpt_store.c: the project file's connection: opening (checks, instance lock, migrations),
 * closing, the statement cache, transactions, error messages and result packing.
 *
 * Open order matters: nothing is written to the file before it is known to be an SQLite
 * database with our application id, a schema version this code reads, and a clean
 * integrity check; only then are WAL mode and the migrations applied. See lpt_store.h for
 * the lock and threading rules.
 */
#define _DEFAULT_SOURCE /* flock(), realpath() */
#include "lpt_store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_SUFFIX "-lock"
#define LOCK_RETRIES 8

/* The advisory instance lock: flock on "<project>-lock", shared by a primary store and its
 * lpt_store_open_shared connections; released (file unlinked, then closed) by the last. */
struct LptStoreLock {
    int fd;
    char *path;
    atomic_int refs;
};

/* ---- Names ---- */

static const char *const split_names[] = {NULL, "train", "val", "test"};
static const char *const expert_names[] = {"vision", "vl", "fused"};
static const char *const status_names[] = {"created", "running",   "finished",
                                           "failed",  "cancelled", "interrupted"};
static const char *const format_names[] = {"bundle", "onnx", "c"};

#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int name_parse(const char *const *names, int n, const char *text)
{
    for (int i = 0; text && i < n; i++)
        if (names[i] && strcmp(names[i], text) == 0)
            return i;
    return -1;
}

const char *lpt_store_split_name(LptStoreSplit split)
{
    if (split == LPT_STORE_SPLIT_ANY)
        return "any";
    if (split == LPT_STORE_SPLIT_NONE)
        return "none";
    return split > 0 && (int)split < COUNT_OF(split_names) ? split_names[split] : "?";
}

const char *lpt_store_expert_name(LptStoreExpert expert)
{
    return (int)expert >= 0 && (int)expert < COUNT_OF(expert_names) ? expert_names[expert] : "?";
}

const char *lpt_store_run_status_name(LptStoreRunStatus status)
{
    return (int)status >= 0 && (int)status < COUNT_OF(status_names) ? status_names[status] : "?";
}

const char *lpt_store_export_format_name(LptStoreExportFormat format)
{
    return (int)format >= 0 && (int)format < COUNT_OF(format_names) ? format_names[format] : "?";
}

int lpt_store_split_parse(const char *text)
{
    return text ? name_parse(split_names, COUNT_OF(split_names), text) : LPT_STORE_SPLIT_NONE;
}

int lpt_store_expert_parse(const char *text)
{
    return name_parse(expert_names, COUNT_OF(expert_names), text);
}

int lpt_store_run_status_parse(const char *text)
{
    return name_parse(status_names, COUNT_OF(status_names), text);
}

int lpt_store_export_format_parse(const char *text)
{
    return name_parse(format_names, COUNT_OF(format_names), text);
}

int64_t lpt_store_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- Errors and small helpers ---- */

static LptStatus status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
        return LPT_ERR_INVALID_ARGUMENT;
    case SQLITE_NOMEM:
        return LPT_ERR_OUT_OF_MEMORY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return LPT_ERR_FORMAT;
    case SQLITE_READONLY:
        return LPT_ERR_UNSUPPORTED;
    default:
        return LPT_ERR_IO;
    }
}

LptStatus lpt_store_sql_error(LptStore *s, int rc, LptError *err, const char *fmt, ...)
{
    char context[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    const char *what = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_READONLY && s && s->read_only)
        what = "the project is open read-only";
    return lpt_error_set(err, status_of(rc), rc, "%s: %s (SQLite code %d)", context, what, rc);
}

LptStatus lpt_store_check(LptStore *s, const void *out, LptError *err, const char *what)
{
    if (!s || !out)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: %s", what,
                             s ? "no output given" : "no store");
    return LPT_OK;
}

int lpt_store_hash_valid(const char *hex)
{
    if (!hex)
        return 0;
    for (int i = 0; i < LPT_STORE_HASH_LEN; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return 0;
    return hex[LPT_STORE_HASH_LEN] == '\0';
}

int lpt_store_bind_id(sqlite3_stmt *stmt, int index, int64_t id)
{
    return id ? sqlite3_bind_int64(stmt, index, id) : sqlite3_bind_null(stmt, index);
}

int lpt_store_bind_double(sqlite3_stmt *stmt, int index, double value)
{
    return isnan(value) ? sqlite3_bind_null(stmt, index) : sqlite3_bind_double(stmt, index, value);
}

int lpt_store_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    return text ? sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC)
                : sqlite3_bind_null(stmt, index);
}

int64_t lpt_store_column_id(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, col);
}

double lpt_store_column_double(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_type(stmt, col) == SQLITE_NULL ? NAN : sqlite3_column_double(stmt, col);
}

/* ---- Statement cache and transactions ---- */

LptStatus lpt_store_prepare(LptStore *s, LptStoreStmt id, const char *sql, sqlite3_stmt **stmt,
                            LptError *err)
{
    *stmt = NULL;
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            LptStatus st =
                lpt_store_sql_error(s, rc, err, "project '%s': preparing '%.60s'", s->path, sql);
            sqlite3_finalize(s->stmt[id]);
            s->stmt[id] = NULL;
            return st;
        }
    }
    *stmt = s->stmt[id];
    return LPT_OK;
}

void lpt_store_stmt_done(sqlite3_stmt *stmt)
{
    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
}

LptStatus lpt_store_stmt_exec(LptStore *s, LptStoreStmt id, const char *sql, LptError *err)
{
    sqlite3_stmt *stmt;
    LptStatus st = lpt_store_prepare(s, id, sql, &stmt, err);
    if (st != LPT_OK)
        return st;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = lpt_store_sql_error(s, rc, err, "%s", sql);
    lpt_store_stmt_done(stmt);
    return st;
}

#define SQL_BEGIN "BEGIN IMMEDIATE"
#define SQL_COMMIT "COMMIT"
#define SQL_ROLLBACK "ROLLBACK"
#define SQL_SAVEPOINT "SAVEPOINT lpt_op"
#define SQL_RELEASE "RELEASE lpt_op"
#define SQL_ROLLBACK_TO "ROLLBACK TO lpt_op"

enum { OP_TRANSACTION = 1, OP_SAVEPOINT = 2 };

LptStatus lpt_store_op_begin(LptStore *s, int *token, LptError *err)
{
    if (sqlite3_get_autocommit(s->db)) {
        *token = OP_TRANSACTION;
        return lpt_store_stmt_exec(s, LPT_STMT_BEGIN, SQL_BEGIN, err);
    }
    *token = OP_SAVEPOINT;
    return lpt_store_stmt_exec(s, LPT_STMT_SAVEPOINT, SQL_SAVEPOINT, err);
}

LptStatus lpt_store_op_end(LptStore *s, int token, LptStatus status, LptError *err)
{
    if (status == LPT_OK) {
        status = token == OP_TRANSACTION
                     ? lpt_store_stmt_exec(s, LPT_STMT_COMMIT, SQL_COMMIT, err)
                     : lpt_store_stmt_exec(s, LPT_STMT_RELEASE, SQL_RELEASE, err);
        if (status == LPT_OK)
            return LPT_OK;
    }
    /* Undo the op; err keeps the first failure. SQLite may already have rolled back the
     * whole transaction (a full disk), in which case these fail harmlessly. */
    if (token == OP_TRANSACTION) {
        if (!sqlite3_get_autocommit(s->db))
            lpt_store_stmt_exec(s, LPT_STMT_ROLLBACK, SQL_ROLLBACK, NULL);
    } else if (!sqlite3_get_autocommit(s->db)) {
        lpt_store_stmt_exec(s, LPT_STMT_ROLLBACK_TO, SQL_ROLLBACK_TO, NULL);
        lpt_store_stmt_exec(s, LPT_STMT_RELEASE, SQL_RELEASE, NULL);
    }
    return status;
}

LptStatus lpt_store_begin(LptStore *store, LptError *err)
{
    if (!store)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "begin: no store");
    if (!sqlite3_get_autocommit(store->db))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "begin: project '%s' already has a transaction open", store->path);
    return lpt_store_stmt_exec(store, LPT_STMT_BEGIN, SQL_BEGIN, err);
}

LptStatus lpt_store_commit(LptStore *store, LptError *err)
{
    if (!store)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "commit: no store");
    if (sqlite3_get_autocommit(store->db))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                             "commit: project '%s' has no transaction open", store->path);
    LptStatus st = lpt_store_stmt_exec(store, LPT_STMT_COMMIT, SQL_COMMIT, err);
    if (st != LPT_OK && !sqlite3_get_autocommit(store->db))
        lpt_store_stmt_exec(store, LPT_STMT_ROLLBACK, SQL_ROLLBACK, NULL);
    return st;
}

LptStatus lpt_store_rollback(LptStore *store, LptError *err)
{
    if (!store)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "rollback: no store");
    if (sqlite3_get_autocommit(store->db))
        return LPT_OK; /* nothing open (or SQLite already rolled back after an I/O error) */
    return lpt_store_stmt_exec(store, LPT_STMT_ROLLBACK, SQL_ROLLBACK, err);
}

/* ---- The instance lock ---- */

static void lock_busy_error(int fd, const char *project, LptError *err)
{
    char info[300] = {0}, host[256] = {0}, my_host[256] = {0};
    long pid = 0;
    ssize_t n = pread(fd, info, sizeof info - 1, 0);
    if (n <= 0 || sscanf(info, "%ld %255s", &pid, host) != 2) {
        lpt_error_set(err, LPT_ERR_IO, EWOULDBLOCK,
                      "project '%s' is open in another LPT Studio instance; close it there "
                      "first, or open it read-only",
                      project);
        return;
    }
    if (gethostname(my_host, sizeof my_host - 1) == 0 && strcmp(host, my_host) == 0 &&
        pid == (long)getpid())
        lpt_error_set(err, LPT_ERR_IO, EWOULDBLOCK,
                      "project '%s' is already open in this process (a second connection for "
                      "another thread comes from lpt_store_open_shared)",
                      project);
    else
        lpt_error_set(err, LPT_ERR_IO, EWOULDBLOCK,
                      "project '%s' is open in another LPT Studio instance (process %ld on "
                      "%s); close it there first, or open it read-only",
                      project, pid, host);
}

/* Locks "<file>-lock" (file: the project's canonical path, so that a symlink finds the same
 * lock) and writes "pid host" into it. An opener can lock a lock file that its previous
 * owner has just unlinked; it then sees the path name another inode (or none) and tries
 * again. `project` is the path for messages. */
static LptStoreLock *lock_acquire(const char *file, const char *project, LptError *err)
{
    LptStoreLock *lock = calloc(1, sizeof *lock);
    size_t len = strlen(file) + sizeof LOCK_SUFFIX;
    if (!lock || !(lock->path = malloc(len))) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "locking project '%s': out of memory",
                      project);
        goto fail;
    }
    snprintf(lock->path, len, "%s%s", file, LOCK_SUFFIX);
    lock->fd = -1;
    for (int attempt = 0; lock->fd < 0; attempt++) {
        if (attempt == LOCK_RETRIES) {
            lpt_error_set(err, LPT_ERR_IO, EWOULDBLOCK,
                          "locking project '%s': the lock file '%s' keeps changing", project,
                          lock->path);
            goto fail;
        }
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            lpt_error_set(err, LPT_ERR_IO, errno,
                          "cannot create the lock file '%s': %s (a project in a read-only "
                          "folder can be opened read-only)",
                          lock->path, strerror(errno));
            goto fail;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                lock_busy_error(fd, project, err);
            else
                lpt_error_set(err, LPT_ERR_IO, errno, "cannot lock '%s': %s", lock->path,
                              strerror(errno));
            close(fd);
            goto fail;
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(lock->path, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino)
            lock->fd = fd;
        else
            close(fd);
    }
    char host[256] = "unknown", info[300];
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    int n = snprintf(info, sizeof info, "%ld %s\n", (long)getpid(), host);
    errno = EIO; /* for a short write */
    if (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, info, (size_t)n, 0) != n) {
        lpt_error_set(err, LPT_ERR_IO, errno, "cannot write the lock file '%s': %s", lock->path,
                      strerror(errno));
        unlink(lock->path);
        goto fail;
    }
    atomic_init(&lock->refs, 1);
    return lock;
fail:
    if (lock) {
        if (lock->fd >= 0)
            close(lock->fd);
        free(lock->path);
        free(lock);
    }
    return NULL;
}

static void lock_release(LptStoreLock *lock)
{
    if (!lock || atomic_fetch_sub(&lock->refs, 1) != 1)
        return;
    unlink(lock->path); /* while still locked: see lock_acquire */
    close(lock->fd);
    free(lock->path);
    free(lock);
}

/* ---- Opening ---- */

static LptStatus exec_sql(LptStore *s, const char *sql, LptError *err, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return lpt_store_sql_error(s, rc, err, "project '%s': %s", s->path, what);
    return LPT_OK;
}

/* A one-row, one-column query run once at open (not cached). */
static LptStatus query_int(LptStore *s, const char *sql, int64_t *value, LptError *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int64(stmt, 0);
            rc = SQLITE_OK;
        }
    }
    LptStatus st = LPT_OK;
    if (rc != SQLITE_OK)
        st = lpt_store_sql_error(s, rc, err, "project '%s': %s", s->path, sql);
    sqlite3_finalize(stmt);
    return st;
}

/* The file is ours, at a version this code reads, or the open is refused; *version is the
 * file's schema version (0 for an empty file this call created). */
static LptStatus check_identity(LptStore *s, int created, int nsteps, int64_t *version,
                                LptError *err)
{
    int64_t app_id = 0, objects = 0;
    LptError e = {0};
    if (query_int(s, "PRAGMA application_id", &app_id, &e) != LPT_OK ||
        query_int(s, "PRAGMA user_version", version, &e) != LPT_OK ||
        query_int(s, "SELECT count(*) FROM sqlite_schema", &objects, &e) != LPT_OK) {
        if ((e.detail & 0xff) == SQLITE_NOTADB)
            return lpt_error_set(err, LPT_ERR_FORMAT, e.detail,
                                 "'%s' is not an LPT Studio project (not an SQLite database)",
                                 s->path);
        if (e.code == LPT_ERR_FORMAT)
            return lpt_error_set(err, LPT_ERR_FORMAT, e.detail, "project '%s' is damaged: %s",
                                 s->path, sqlite3_errstr((int)e.detail));
        if (err)
            *err = e;
        return e.code;
    }
    if (app_id == 0 && objects == 0 && *version == 0) {
        if (created)
            return LPT_OK;
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s' is not an LPT Studio project (an empty database)", s->path);
    }
    if (app_id != LPT_STORE_APPLICATION_ID)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "'%s' is an SQLite database but not an LPT Studio project "
                             "(application id 0x%08llx, expected 0x%08x)",
                             s->path, (unsigned long long)(uint32_t)app_id,
                             LPT_STORE_APPLICATION_ID);
    if (*version < 1)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "project '%s' is damaged: it has no schema version", s->path);
    if (*version > nsteps)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "project '%s' was saved by a newer LPT Studio (schema version "
                             "%lld; this version reads up to %d); it was not modified",
                             s->path, (long long)*version, nsteps);
    if (s->read_only && *version < nsteps)
        return lpt_error_set(err, LPT_ERR_UNSUPPORTED, 0,
                             "project '%s' has schema version %lld and needs an upgrade to %d; "
                             "open it for writing once",
                             s->path, (long long)*version, nsteps);
    return LPT_OK;
}

static LptStatus check_integrity(LptStore *s, int64_t bytes, LptError *err)
{
    const char *sql =
        bytes <= LPT_STORE_FULL_CHECK_BYTES ? "PRAGMA integrity_check(5)" : "PRAGMA quick_check(5)";
    sqlite3_stmt *stmt = NULL;
    LptStatus st = LPT_OK;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *first = (const char *)sqlite3_column_text(stmt, 0);
        if (!first || strcmp(first, "ok") != 0)
            st = lpt_error_set(err, LPT_ERR_FORMAT, SQLITE_CORRUPT,
                               "project '%s' is damaged (integrity check: %s); restore a "
                               "backup copy",
                               s->path, first ? first : "no result");
    } else {
        st = lpt_error_set(err, LPT_ERR_FORMAT, rc,
                           "project '%s' is damaged (integrity check failed: %s); restore a "
                           "backup copy",
                           s->path, sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(stmt);
    return st;
}

/* The foreign key violations a step left (foreign keys are off while steps run). */
static LptStatus check_foreign_keys(LptStore *s, int version, LptError *err)
{
    sqlite3_stmt *stmt = NULL;
    LptStatus st = LPT_OK;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        st = lpt_error_set(err, LPT_ERR_FORMAT, SQLITE_CONSTRAINT_FOREIGNKEY,
                           "upgrading project '%s' to schema version %d: row %lld of table "
                           "'%s' refers to a missing row of '%s'",
                           s->path, version, (long long)sqlite3_column_int64(stmt, 1),
                           (const char *)sqlite3_column_text(stmt, 0),
                           (const char *)sqlite3_column_text(stmt, 2));
    else if (rc != SQLITE_DONE)
        st = lpt_store_sql_error(s, rc, err, "upgrading project '%s': foreign key check", s->path);
    sqlite3_finalize(stmt);
    return st;
}

/* Applies steps[from..nsteps-1], each in its own transaction. */
static LptStatus migrate(LptStore *s, int64_t from, const LptStoreMigration *steps, int nsteps,
                         LptError *err)
{
    LptStatus st = exec_sql(s, "PRAGMA foreign_keys = OFF", err, "disabling foreign keys");
    for (int64_t v = from; st == LPT_OK && v < nsteps; v++) {
        int to = steps[v].version;
        char pragmas[128];
        snprintf(pragmas, sizeof pragmas, "PRAGMA application_id = %d; PRAGMA user_version = %d",
                 LPT_STORE_APPLICATION_ID, to);
        st = exec_sql(s, "BEGIN IMMEDIATE", err, "starting an upgrade");
        if (st != LPT_OK)
            break;
        for (const char *const *sql = steps[v].statements; st == LPT_OK && *sql; sql++) {
            int rc = sqlite3_exec(s->db, *sql, NULL, NULL, NULL);
            if (rc != SQLITE_OK)
                st = lpt_store_sql_error(s, rc, err,
                                         "upgrading project '%s' from schema version %lld to "
                                         "%d (statement %d)",
                                         s->path, (long long)v, to,
                                         (int)(sql - steps[v].statements) + 1);
        }
        if (st == LPT_OK && steps[v].fill)
            st = steps[v].fill(s, err);
        if (st == LPT_OK)
            st = check_foreign_keys(s, to, err);
        if (st == LPT_OK)
            st = exec_sql(s, pragmas, err, "setting the schema version");
        if (st == LPT_OK)
            st = exec_sql(s, "COMMIT", err, "committing an upgrade");
        if (st != LPT_OK && !sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return st;
}

/* WAL lets the GUI read while the trainer writes; the mode is stored in the file. */
static LptStatus use_wal(LptStore *s, LptError *err)
{
    sqlite3_stmt *stmt = NULL;
    const char *mode = NULL;
    LptStatus st = LPT_OK;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW)
        st = lpt_store_sql_error(s, rc, err, "project '%s': setting WAL mode", s->path);
    else if (!(mode = (const char *)sqlite3_column_text(stmt, 0)) || strcmp(mode, "wal") != 0)
        st = lpt_error_set(err, LPT_ERR_IO, 0,
                           "project '%s': this file system does not support SQLite's "
                           "write-ahead log (journal mode stays '%s')",
                           s->path, mode ? mode : "?");
    sqlite3_finalize(stmt);
    return st;
}

/* The pragmas every connection sets, once the file is known to be a project. */
static LptStatus configure(LptStore *s, LptError *err)
{
    return exec_sql(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", err,
                    "setting up the connection");
}

/* Finalizes the cached statements and closes the connection (rolling back an open
 * transaction); the lock stays. */
static void store_disconnect(LptStore *s)
{
    for (int i = 0; i < LPT_STMT_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
    sqlite3_close_v2(s->db);
    s->db = NULL;
}

static LptStore *store_new(const char *path, int read_only, LptError *err)
{
    LptStore *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "opening project '%s': out of memory", path);
        free(s);
        return NULL;
    }
    s->read_only = read_only;
    return s;
}

static LptStatus store_connect(LptStore *s, LptError *err)
{
    int flags =
        (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_EXRESCODE;
    int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    if (rc != SQLITE_OK)
        return lpt_store_sql_error(s, rc, err, "opening project '%s'", s->path);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, LPT_STORE_BUSY_MS);
    return LPT_OK;
}

LptStore *lpt_store_open_steps(const char *path, LptStoreMode mode, const LptStoreMigration *steps,
                               int nsteps, LptError *err)
{
    if (!path || !*path || mode < LPT_STORE_OPEN || mode > LPT_STORE_READ_ONLY || !steps ||
        nsteps < 1) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "opening a project: %s",
                      !path || !*path ? "no path given" : "bad mode or schema steps");
        return NULL;
    }
    for (int i = 0; i < nsteps; i++)
        if (steps[i].version != i + 1 || !steps[i].statements) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "opening project '%s': schema step %d is not version %d", path, i, i + 1);
            return NULL;
        }
    LptStore *s = store_new(path, mode == LPT_STORE_READ_ONLY, err);
    if (!s)
        return NULL;
    int created = 0;
    int64_t version = 0;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT) {
        lpt_error_set(err, LPT_ERR_IO, errno, "cannot open project '%s': %s", path,
                      strerror(errno));
        goto fail;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        lpt_error_set(err, LPT_ERR_IO, EISDIR, "project '%s' is not a regular file", path);
        goto fail;
    }
    if (!exists && (mode == LPT_STORE_OPEN || mode == LPT_STORE_READ_ONLY)) {
        lpt_error_set(err, LPT_ERR_IO, ENOENT, "project '%s' does not exist", path);
        goto fail;
    }
    if (exists && mode == LPT_STORE_CREATE) {
        lpt_error_set(err, LPT_ERR_IO, EEXIST,
                      "cannot create project '%s': the file already exists", path);
        goto fail;
    }
    if (!s->read_only) {
        char *canonical = exists ? realpath(path, NULL) : NULL;
        s->lock = lock_acquire(canonical ? canonical : path, path, err);
        free(canonical);
        if (!s->lock)
            goto fail;
    }
    if (!exists) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            lpt_error_set(err, LPT_ERR_IO, errno, "cannot create project '%s': %s", path,
                          strerror(errno));
            goto fail;
        }
        close(fd);
        created = 1;
    }
    if (store_connect(s, err) != LPT_OK ||
        check_identity(s, created, nsteps, &version, err) != LPT_OK || configure(s, err) != LPT_OK)
        goto fail;
    if (!created && check_integrity(s, (int64_t)st.st_size, err) != LPT_OK)
        goto fail;
    if (!s->read_only) {
        if (use_wal(s, err) != LPT_OK)
            goto fail;
        if (version < nsteps && migrate(s, version, steps, nsteps, err) != LPT_OK)
            goto fail;
        if (exec_sql(s, "PRAGMA foreign_keys = ON", err, "enabling foreign keys") != LPT_OK ||
            lpt_store_runs_mark_interrupted(s, err) != LPT_OK)
            goto fail;
    }
    return s;
fail:
    store_disconnect(s);
    if (created)
        unlink(path); /* no half-made project stays behind (removed while still locked) */
    lpt_store_close(s);
    return NULL;
}

LptStore *lpt_store_open(const char *path, LptStoreMode mode, LptError *err)
{
    return lpt_store_open_steps(path, mode, lpt_store_migrations, lpt_store_migration_count, err);
}

LptStore *lpt_store_open_shared(LptStore *primary, LptError *err)
{
    if (!primary) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "opening a shared connection: no store");
        return NULL;
    }
    LptStore *s = store_new(primary->path, primary->read_only, err);
    if (!s)
        return NULL;
    if (primary->lock) {
        atomic_fetch_add(&primary->lock->refs, 1);
        s->lock = primary->lock;
    }
    if (store_connect(s, err) != LPT_OK || configure(s, err) != LPT_OK) {
        lpt_error_prefix(err, "shared connection");
        lpt_store_close(s);
        return NULL;
    }
    return s;
}

void lpt_store_close(LptStore *store)
{
    if (!store)
        return;
    store_disconnect(store);
    lock_release(store->lock);
    free(store->path);
    free(store);
}

const char *lpt_store_path(const LptStore *store)
{
    return store ? store->path : NULL;
}

/* ---- Result packing ---- */

#define PACK_ALIGN 16

static size_t align_up(size_t n)
{
    return (n + PACK_ALIGN - 1) / PACK_ALIGN * PACK_ALIGN;
}

static int grow(void *buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t cap2 = *cap ? *cap : 16;
    while (cap2 < need)
        cap2 *= 2;
    void *old;
    memcpy(&old, buf, sizeof old);
    void *p = realloc(old, cap2 * elem);
    if (!p)
        return -1;
    memcpy(buf, &p, sizeof p);
    *cap = cap2;
    return 0;
}

void lpt_store_pack_init(LptStorePack *p, size_t row_size)
{
    memset(p, 0, sizeof *p);
    p->row_size = row_size;
}

void *lpt_store_pack_row(LptStorePack *p)
{
    if (p->oom || grow(&p->rows, &p->cap, p->count + 1, p->row_size) != 0) {
        p->oom = 1;
        return NULL;
    }
    char *row = p->rows + p->count * p->row_size;
    memset(row, 0, p->row_size);
    p->count++;
    return row;
}

void lpt_store_pack_bytes(LptStorePack *p, const void *field, const void *data, size_t n)
{
    if (!data || p->oom)
        return;
    size_t at = p->extra_len, need = align_up(at + n);
    if (grow(&p->extra, &p->extra_cap, need, 1) != 0 ||
        grow(&p->fix, &p->fix_cap, p->nfix + 1, sizeof *p->fix) != 0) {
        p->oom = 1;
        return;
    }
    if (n)
        memcpy(p->extra + at, data, n);
    p->extra_len = need;
    p->fix[p->nfix++] = (LptStorePackFix){(size_t)((const char *)field - p->rows), at};
}

void lpt_store_pack_text(LptStorePack *p, const void *field, sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (text)
        lpt_store_pack_bytes(p, field, text, (size_t)sqlite3_column_bytes(stmt, col) + 1);
    else if (sqlite3_column_type(stmt, col) != SQLITE_NULL)
        p->oom = 1;
}

void lpt_store_pack_blob(LptStorePack *p, const void *field, sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return;
    const void *blob = sqlite3_column_blob(stmt, col);
    int n = sqlite3_column_bytes(stmt, col);
    if (!blob && n > 0)
        p->oom = 1;
    else /* a zero-length blob still gets a (non-NULL) pointer */
        lpt_store_pack_bytes(p, field, blob ? blob : "", (size_t)n);
}

void lpt_store_pack_clear(LptStorePack *p)
{
    free(p->rows);
    free(p->extra);
    free(p->fix);
    memset(p, 0, sizeof *p);
}

/* The block (NULL when there are no rows); -1 when out of memory. Frees p's buffers. */
static int pack_finish(LptStorePack *p, void *out, size_t *count)
{
    char *block = NULL;
    size_t rows_bytes = align_up(p->count * p->row_size);
    int rc = 0;
    if (p->count) {
        block = malloc(rows_bytes + p->extra_len);
        if (block) {
            memcpy(block, p->rows, p->count * p->row_size);
            if (p->extra_len)
                memcpy(block + rows_bytes, p->extra, p->extra_len);
            for (size_t i = 0; i < p->nfix; i++) {
                void *target = block + rows_bytes + p->fix[i].extra;
                memcpy(block + p->fix[i].field, &target, sizeof target);
            }
        } else {
            rc = -1;
        }
    }
    if (count)
        *count = rc == 0 ? p->count : 0;
    memcpy(out, &block, sizeof block);
    lpt_store_pack_clear(p);
    return rc;
}

LptStatus lpt_store_finish_read(LptStore *s, sqlite3_stmt *stmt, int rc, LptStatus status,
                                LptStorePack *pack, void *out, size_t *count, LptError *err,
                                const char *what)
{
    if (status == LPT_OK && pack->oom)
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", what);
    else if (status == LPT_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        status = lpt_store_sql_error(s, rc, err, "%s", what);
    lpt_store_stmt_done(stmt);
    if (status != LPT_OK)
        lpt_store_pack_clear(pack);
    else if (pack_finish(pack, out, count) != 0)
        status = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", what);
    return status;
}

LptStatus lpt_store_collect_ids(LptStore *s, sqlite3_stmt *stmt, int rc, int64_t **ids,
                                size_t *count, LptError *err, const char *what)
{
    LptStorePack pack;
    lpt_store_pack_init(&pack, sizeof(int64_t));
    while (!pack.oom && (rc == SQLITE_OK || rc == SQLITE_ROW) &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t *id = lpt_store_pack_row(&pack);
        if (id)
            *id = sqlite3_column_int64(stmt, 0);
    }
    return lpt_store_finish_read(s, stmt, rc, LPT_OK, &pack, ids, count, err, what);
}

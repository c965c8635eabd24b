/* lpt_store_split_given.c: schema version 2's fill: images.split_given for a project made
 * before version 2, which kept an image's split but not whether its source gave it.
 *
 * The flag is derived from each image's source (LptStoreImage.source, the path the import was
 * given) with the importer's rules (lpt_import.h):
 *   - a folder source whose every image lies at <split>/<class>/... below it was imported in
 *     the split layout: the split folder gave the split, and an image has it as given when
 *     its split is still that folder's (the val or test images the import took from the
 *     given training images have another split: they were drawn, not given);
 *   - a list or CSV file named train, val or test (any case, any extension) gave that split,
 *     with the same rule;
 *   - a CSV file whose header row names a "split" column gave the split of its rows: every
 *     image of it that has a split counts as given (the file's rows are not read again, so a
 *     row with an empty split column counts too), and so does every image of a CSV file that
 *     cannot be read any more, so that nothing the user gave is lost;
 *   - any other source gave none.
 * Version 1's re-splits kept the splits of the same images (less the drawn ones of a split
 * layout), so an upgraded project re-splits as before.
 *
 * Runs inside the migration's transaction with plain SQL against the version 2 schema.
 */
#include "lpt_store_impl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_HEADER_MAX 65536 /* bytes of a CSV file's first line that are looked at */

/* One image as version 1 stored it. */
typedef struct GivenRow {
    int64_t id;
    char *path;
    char *source;
    LptStoreSplit split;
} GivenRow;

/* The split a name (of len bytes) names: "train", "val" or "test" in any case; else NONE. */
static LptStoreSplit split_named(const char *name, size_t len)
{
    for (int s = LPT_STORE_SPLIT_TRAIN; s <= LPT_STORE_SPLIT_TEST; s++) {
        const char *text = lpt_store_split_name((LptStoreSplit)s);
        if (strlen(text) == len && strncasecmp(name, text, len) == 0)
            return (LptStoreSplit)s;
    }
    return LPT_STORE_SPLIT_NONE;
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

/* The split a list or CSV file's name gives (its name up to the last dot), or NONE. */
static LptStoreSplit file_name_split(const char *path)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(name, '.');
    return split_named(name, dot ? (size_t)(dot - name) : strlen(name));
}

static bool is_csv(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') && strcasecmp(dot, ".csv") == 0;
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

/* The split folder of rel = <split>/<class>/<name...>, or NONE when rel is not so. */
static LptStoreSplit layout_split(const char *rel)
{
    const char *slash = strchr(rel, '/');
    if (!slash || !strchr(slash + 1, '/'))
        return LPT_STORE_SPLIT_NONE;
    return split_named(rel, (size_t)(slash - rel));
}

static char *copy_column(sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    return strdup(text ? text : "");
}

static void free_rows(GivenRow *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].path);
        free(rows[i].source);
    }
    free(rows);
}

/* Every image, ordered by source. */
static LptStatus read_rows(LptStore *s, GivenRow **out, size_t *count, LptError *err)
{
    sqlite3_stmt *stmt = NULL;
    GivenRow *rows = NULL;
    size_t n = 0, cap = 0;
    LptStatus st = LPT_OK;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id, path, source, split FROM images ORDER BY "
                                       "source, id",
                                -1, &stmt, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        if ((rc = sqlite3_step(stmt)) != SQLITE_ROW)
            break;
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 256;
            GivenRow *grown = realloc(rows, grown_cap * sizeof *grown);
            if (!grown) {
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                                   "upgrading project '%s': out of memory reading the images",
                                   s->path);
                break;
            }
            rows = grown;
            cap = grown_cap;
        }
        GivenRow *r = &rows[n++];
        r->id = sqlite3_column_int64(stmt, 0);
        r->path = copy_column(stmt, 1);
        r->source = copy_column(stmt, 2);
        int split = lpt_store_split_parse((const char *)sqlite3_column_text(stmt, 3));
        r->split = split < 0 ? LPT_STORE_SPLIT_NONE : (LptStoreSplit)split;
        if (!r->path || !r->source) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                               "upgrading project '%s': out of memory reading the images",
                               s->path);
            break;
        }
    }
    if (st == LPT_OK && rc != SQLITE_DONE)
        st = lpt_store_sql_error(s, rc, err, "upgrading project '%s': reading the images",
                                 s->path);
    sqlite3_finalize(stmt);
    if (st != LPT_OK) {
        free_rows(rows, n);
        return st;
    }
    *out = rows;
    *count = n;
    return LPT_OK;
}

/* Marks rows[first..end) (one source) whose split the source gave. */
static LptStatus mark_source(LptStore *s, sqlite3_stmt *update, const GivenRow *rows,
                             size_t first, size_t end, LptError *err)
{
    const char *source = rows[first].source;
    bool folder = false, layout = true;
    for (size_t i = first; i < end; i++) {
        const char *rel = below(source, rows[i].path);
        folder |= rel != NULL;
        layout &= rel != NULL && layout_split(rel) != LPT_STORE_SPLIT_NONE;
    }
    LptStoreSplit named = folder || !source[0] ? LPT_STORE_SPLIT_NONE : file_name_split(source);
    bool csv_column = !folder && source[0] && named == LPT_STORE_SPLIT_NONE && is_csv(source) &&
                      csv_names_split_column(source);
    for (size_t i = first; i < end; i++) {
        const GivenRow *r = &rows[i];
        LptStoreSplit given = folder && layout ? layout_split(below(source, r->path)) : named;
        bool marked = r->split != LPT_STORE_SPLIT_NONE &&
                      (given != LPT_STORE_SPLIT_NONE ? r->split == given : csv_column);
        if (!marked)
            continue;
        int rc = sqlite3_bind_int64(update, 1, r->id);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(update);
        LptStatus st = LPT_OK;
        if (rc != SQLITE_DONE)
            st = lpt_store_sql_error(s, rc, err,
                                     "upgrading project '%s': marking the split of image %lld "
                                     "('%s') as given",
                                     s->path, (long long)r->id, r->path);
        sqlite3_reset(update);
        if (st != LPT_OK)
            return st;
    }
    return LPT_OK;
}

LptStatus lpt_store_fill_split_given(LptStore *s, LptError *err)
{
    GivenRow *rows = NULL;
    size_t n = 0;
    LptStatus st = read_rows(s, &rows, &n, err);
    if (st != LPT_OK)
        return st;
    sqlite3_stmt *update = NULL;
    int rc = sqlite3_prepare_v2(s->db, "UPDATE images SET split_given = 1 WHERE id = ?1", -1,
                                &update, NULL);
    if (rc != SQLITE_OK)
        st = lpt_store_sql_error(s, rc, err, "upgrading project '%s': preparing the split marks",
                                 s->path);
    for (size_t first = 0, end; st == LPT_OK && first < n; first = end) {
        for (end = first + 1; end < n && strcmp(rows[end].source, rows[first].source) == 0; end++)
            ;
        st = mark_source(s, update, rows, first, end, err);
    }
    sqlite3_finalize(update);
    free_rows(rows, n);
    return st;
}

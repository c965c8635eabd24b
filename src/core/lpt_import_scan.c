/* lpt_import_scan.c: the importer's scanner thread (see lpt_import_impl.h): walks folder
 * sources, reads list and CSV sources, and turns every file or entry into an import item, in
 * a deterministic order (directory entries sorted bytewise, lines in order, sources in the
 * order given). It owns the class-name table and the set of (device, inode) pairs met, which
 * makes links safe: a folder is entered once (a link back to an ancestor is a loop, a second
 * link to a folder a repeat; both are counted and skipped) and a file met again is a
 * "same file" duplicate of the first sighting.
 */
#include "lpt_import_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_DEPTH 256 /* folder nesting below a class folder */

/* ---- Class names: interned, in order of first sighting ---- */

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static bool labels_grow(LptImporter *imp)
{
    size_t slots = imp->label_slots ? imp->label_slots * 2 : 64;
    int32_t *index = malloc(slots * sizeof *index);
    if (!index)
        return false;
    for (size_t i = 0; i < slots; i++)
        index[i] = -1;
    for (int32_t id = 0; id < imp->num_labels; id++) {
        size_t s = (size_t)hash_text(imp->labels[id]) & (slots - 1);
        while (index[s] >= 0)
            s = (s + 1) & (slots - 1);
        index[s] = id;
    }
    free(imp->label_index);
    imp->label_index = index;
    imp->label_slots = slots;
    return true;
}

/* The id of class name `name` (len bytes), adding it when new; -1 without memory. */
static int32_t label_intern(LptImporter *imp, const char *name)
{
    if ((size_t)imp->num_labels * 2 >= imp->label_slots && !labels_grow(imp))
        return -1;
    size_t s = (size_t)hash_text(name) & (imp->label_slots - 1);
    for (; imp->label_index[s] >= 0; s = (s + 1) & (imp->label_slots - 1))
        if (strcmp(imp->labels[imp->label_index[s]], name) == 0)
            return imp->label_index[s];
    if (imp->num_labels == imp->labels_cap) {
        int32_t cap = imp->labels_cap ? imp->labels_cap * 2 : 16;
        char **labels = realloc(imp->labels, (size_t)cap * sizeof *labels);
        if (!labels)
            return -1;
        imp->labels = labels;
        imp->labels_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    imp->labels[imp->num_labels] = copy;
    imp->label_index[s] = imp->num_labels;
    return imp->num_labels++;
}

/* ---- Files and folders met, by (device, inode) ---- */

typedef struct SeenEntry {
    dev_t dev;
    ino_t ino;
    int64_t seq; /* a file's first item; -1 for a folder */
    bool used;
} SeenEntry;

struct LptImportSeen {
    SeenEntry *e;
    size_t slots, used;
};

static size_t seen_slot(const struct LptImportSeen *t, dev_t dev, ino_t ino)
{
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Full);
    size_t s = (size_t)(h ^ (h >> 29)) & (t->slots - 1);
    while (t->e[s].used && !(t->e[s].dev == dev && t->e[s].ino == ino))
        s = (s + 1) & (t->slots - 1);
    return s;
}

/* Looks (dev, ino) up; when new, records it with seq and returns NULL, else the entry met
 * before. *oom is set when memory ran out. */
static const SeenEntry *seen_check(LptImporter *imp, const struct stat *sb, int64_t seq, bool *oom)
{
    struct LptImportSeen *t = imp->seen;
    if (!t && !(t = imp->seen = calloc(1, sizeof *t))) {
        *oom = true;
        return NULL;
    }
    if ((t->used + 1) * 2 > t->slots) {
        struct LptImportSeen bigger = {.slots = t->slots ? t->slots * 2 : 1024};
        if (!(bigger.e = calloc(bigger.slots, sizeof *bigger.e))) {
            *oom = true;
            return NULL;
        }
        for (size_t i = 0; i < t->slots; i++)
            if (t->e[i].used)
                bigger.e[seen_slot(&bigger, t->e[i].dev, t->e[i].ino)] = t->e[i];
        bigger.used = t->used;
        free(t->e);
        *t = bigger;
    }
    size_t s = seen_slot(t, sb->st_dev, sb->st_ino);
    if (t->e[s].used)
        return &t->e[s];
    t->e[s] = (SeenEntry){.dev = sb->st_dev, .ino = sb->st_ino, .seq = seq, .used = true};
    t->used++;
    return NULL;
}

void lpt_import_scan_free(LptImporter *imp)
{
    for (int32_t i = 0; i < imp->num_labels; i++)
        free(imp->labels[i]);
    free(imp->labels);
    free(imp->label_index);
    if (imp->seen)
        free(imp->seen->e);
    free(imp->seen);
    imp->labels = NULL;
    imp->label_index = NULL;
    imp->seen = NULL;
    imp->num_labels = imp->labels_cap = 0;
    imp->label_slots = 0;
}

/* ---- Emitting items ---- */

static LptStatus no_memory(LptError *err, const char *what)
{
    return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "import: no memory while scanning %s",
                         what);
}

/* A record the scanner makes itself (state and reason set here). */
static LptStatus emit_record(LptImporter *imp, const char *path, int32_t source, int64_t line,
                             LptImportState state, const char *reason, int64_t kept_seq,
                             LptError *err)
{
    LptImportItem *item = lpt_import_item_new(path);
    if (!item)
        return no_memory(err, path);
    item->seq = imp->next_seq++;
    item->source = source;
    item->line = line;
    item->listed = line > 0;
    item->kept_seq = kept_seq;
    if (state == LPT_IMPORT_ITEM_SAME_FILE)
        item->state = state;
    else
        lpt_import_item_fail(item, state, reason);
    lpt_import_push_result(imp, item);
    return LPT_OK;
}

/* A file to read: stat'ed already into *sb when sb is not NULL. Folders, devices and links
 * to nowhere become records; a file met before a "same file" record. */
static LptStatus emit_file(LptImporter *imp, const char *path, const struct stat *sb, int32_t label,
                           LptSplit split, int32_t source, int64_t line, LptError *err)
{
    struct stat own;
    if (!sb) {
        if (stat(path, &own) != 0)
            return emit_record(imp, path, source, line, LPT_IMPORT_ITEM_UNREADABLE, strerror(errno),
                               -1, err);
        sb = &own;
    }
    if (S_ISDIR(sb->st_mode))
        return emit_record(imp, path, source, line, LPT_IMPORT_ITEM_UNREADABLE,
                           "a folder, not an image file", -1, err);
    if (!S_ISREG(sb->st_mode)) {
        if (line > 0)
            return emit_record(imp, path, source, line, LPT_IMPORT_ITEM_UNREADABLE,
                               "not a regular file", -1, err);
        imp->non_image_skipped_scan++; /* a device, socket or FIFO met in a walk */
        return LPT_OK;
    }
    bool oom = false;
    const SeenEntry *before = seen_check(imp, sb, imp->next_seq, &oom);
    if (oom)
        return no_memory(err, path);
    if (before)
        return emit_record(imp, path, source, line, LPT_IMPORT_ITEM_SAME_FILE, NULL, before->seq,
                           err);
    LptImportItem *item = lpt_import_item_new(path);
    if (!item)
        return no_memory(err, path);
    item->seq = imp->next_seq++;
    item->label = label;
    item->source = source;
    item->split = split;
    item->line = line;
    item->listed = line > 0;
    item->dev = sb->st_dev;
    item->ino = sb->st_ino;
    lpt_import_push_task(imp, item);
    return LPT_OK;
}

/* ---- Folders ---- */

typedef struct Names {
    char **name;
    size_t count, cap;
} Names;

static void names_free(Names *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->name[i]);
    free(n->name);
    memset(n, 0, sizeof *n);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of folder `dir` but "." and "..", sorted bytewise. Returns errno (0: fine). */
static int list_dir(const char *dir, Names *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return errno;
    int e = 0;
    struct dirent *ent;
    errno = 0;
    while ((ent = readdir(d))) {
        const char *n = ent->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (out->count == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            char **names = realloc(out->name, cap * sizeof *names);
            if (!names) {
                e = ENOMEM;
                break;
            }
            out->name = names;
            out->cap = cap;
        }
        if (!(out->name[out->count] = strdup(n))) {
            e = ENOMEM;
            break;
        }
        out->count++;
        errno = 0;
    }
    if (!e && errno)
        e = errno;
    closedir(d);
    if (e)
        names_free(out);
    else if (out->count > 1)
        qsort(out->name, out->count, sizeof *out->name, compare_names);
    return e;
}

/* dir + "/" + name into buf; false when it does not fit. */
static bool join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

/* Lists `dir` for a walk: a folder that cannot be listed is an unreadable record. Returns
 * false (with *st set) when it could not be listed. */
static bool walk_list(LptImporter *imp, const char *dir, int32_t source, Names *names,
                      LptStatus *st, LptError *err)
{
    int e = list_dir(dir, names);
    if (e == 0)
        return true;
    *st = e == ENOMEM
              ? no_memory(err, dir)
              : emit_record(imp, dir, source, 0, LPT_IMPORT_ITEM_UNREADABLE, strerror(e), -1, err);
    return false;
}

static LptStatus walk_class(LptImporter *imp, const char *dir, int32_t label, LptSplit split,
                            int32_t source, int depth, LptError *err)
{
    Names names;
    LptStatus st = LPT_OK;
    if (!walk_list(imp, dir, source, &names, &st, err))
        return st;
    char *path = malloc(LPT_IMPORT_PATH_MAX);
    if (!path)
        st = no_memory(err, dir);
    for (size_t i = 0; st == LPT_OK && i < names.count && !lpt_import_stopping(imp); i++) {
        const char *name = names.name[i];
        struct stat sb;
        if (name[0] == '.') {
            imp->hidden_skipped++;
        } else if (!join(path, LPT_IMPORT_PATH_MAX, dir, name)) {
            st = emit_record(imp, dir, source, 0, LPT_IMPORT_ITEM_UNREADABLE,
                             "a path inside is longer than the system allows", -1, err);
        } else if (stat(path, &sb) != 0) {
            st = emit_record(imp, path, source, 0, LPT_IMPORT_ITEM_UNREADABLE, strerror(errno), -1,
                             err);
        } else if (S_ISDIR(sb.st_mode)) {
            bool oom = false;
            if (seen_check(imp, &sb, -1, &oom))
                imp->links_skipped++;
            else if (oom)
                st = no_memory(err, path);
            else if (depth >= MAX_DEPTH)
                st = emit_record(imp, path, source, 0, LPT_IMPORT_ITEM_UNREADABLE,
                                 "folders nested too deep (more than 256 levels)", -1, err);
            else
                st = walk_class(imp, path, label, split, source, depth + 1, err);
        } else {
            st = emit_file(imp, path, &sb, label, split, source, 0, err);
        }
    }
    free(path);
    names_free(&names);
    return st;
}

static LptSplit split_from_name(const char *name, size_t len)
{
    static const char *const names[] = {"train", "val", "test"};
    for (int s = 0; s < 3; s++)
        if (strlen(names[s]) == len && strncasecmp(name, names[s], len) == 0)
            return (LptSplit)(LPT_SPLIT_TRAIN + s);
    return LPT_SPLIT_NONE;
}

/* The class folders of `dir` (the source, or a split folder of it); files there are
 * outside any class. */
static LptStatus walk_classes(LptImporter *imp, const char *dir, LptSplit split, int32_t source,
                              LptError *err)
{
    Names names;
    LptStatus st = LPT_OK;
    if (!walk_list(imp, dir, source, &names, &st, err))
        return st;
    char *path = malloc(LPT_IMPORT_PATH_MAX);
    if (!path)
        st = no_memory(err, dir);
    for (size_t i = 0; st == LPT_OK && i < names.count && !lpt_import_stopping(imp); i++) {
        const char *name = names.name[i];
        struct stat sb;
        bool oom = false;
        if (name[0] == '.') {
            imp->hidden_skipped++;
        } else if (!join(path, LPT_IMPORT_PATH_MAX, dir, name)) {
            st = emit_record(imp, dir, source, 0, LPT_IMPORT_ITEM_UNREADABLE,
                             "a path inside is longer than the system allows", -1, err);
        } else if (stat(path, &sb) != 0) {
            st = emit_record(imp, path, source, 0, LPT_IMPORT_ITEM_UNREADABLE, strerror(errno), -1,
                             err);
        } else if (!S_ISDIR(sb.st_mode)) {
            imp->unlabelled_skipped++;
        } else if (seen_check(imp, &sb, -1, &oom)) {
            imp->links_skipped++;
        } else if (oom) {
            st = no_memory(err, path);
        } else {
            int32_t label = label_intern(imp, name);
            st = label < 0 ? no_memory(err, path)
                           : walk_class(imp, path, label, split, source, 1, err);
        }
    }
    free(path);
    names_free(&names);
    return st;
}

/* True when `dir` has a visible sub-folder. */
static bool has_subfolder(const char *dir)
{
    Names names;
    if (list_dir(dir, &names) != 0)
        return false;
    bool found = false;
    char path[LPT_IMPORT_PATH_MAX];
    struct stat sb;
    for (size_t i = 0; !found && i < names.count; i++)
        found = names.name[i][0] != '.' && join(path, sizeof path, dir, names.name[i]) &&
                stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    names_free(&names);
    return found;
}

static LptStatus walk_folder(LptImporter *imp, const char *root, int32_t source, LptError *err)
{
    struct stat sb;
    bool oom = false;
    if (stat(root, &sb) != 0)
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: %s", root, strerror(errno));
    if (seen_check(imp, &sb, -1, &oom)) {
        imp->links_skipped++; /* the same folder given twice, or inside another source */
        return LPT_OK;
    }
    if (oom)
        return no_memory(err, root);
    Names names;
    int e = list_dir(root, &names);
    if (e)
        return lpt_error_set(err, e == ENOMEM ? LPT_ERR_OUT_OF_MEMORY : LPT_ERR_IO, e,
                             "%s: cannot list the folder: %s", root, strerror(e));
    /* A split layout: every visible sub-folder is train, val or test, and one holds one. */
    bool all_split = true, any_nested = false;
    size_t folders = 0;
    char path[LPT_IMPORT_PATH_MAX];
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.name[i];
        if (name[0] == '.' || !join(path, sizeof path, root, name) || stat(path, &sb) != 0 ||
            !S_ISDIR(sb.st_mode))
            continue;
        folders++;
        if (split_from_name(name, strlen(name)) == LPT_SPLIT_NONE)
            all_split = false;
        else if (!any_nested && has_subfolder(path))
            any_nested = true;
    }
    LptStatus st = LPT_OK;
    if (folders > 0 && all_split && any_nested) {
        for (size_t i = 0; st == LPT_OK && i < names.count && !lpt_import_stopping(imp); i++) {
            const char *name = names.name[i];
            if (name[0] == '.') {
                imp->hidden_skipped++;
            } else if (!join(path, sizeof path, root, name) || stat(path, &sb) != 0 ||
                       !S_ISDIR(sb.st_mode)) {
                imp->unlabelled_skipped++;
            } else if (seen_check(imp, &sb, -1, &oom)) {
                imp->links_skipped++;
            } else if (oom) {
                st = no_memory(err, path);
            } else {
                st = walk_classes(imp, path, split_from_name(name, strlen(name)), source, err);
            }
        }
    } else {
        st = walk_classes(imp, root, LPT_SPLIT_NONE, source, err);
    }
    names_free(&names);
    return st;
}

/* ---- List and CSV files ---- */

/* The path a list names: absolute, or relative to the list's folder `base`. */
static bool list_path(char *buf, size_t size, const char *base, const char *path)
{
    if (path[0] == '/') {
        size_t n = strlen(path);
        if (n >= size)
            return false;
        memcpy(buf, path, n + 1);
        return true;
    }
    return join(buf, size, base, path);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* One entry of a list or CSV: resolves the path and the label, then emits the file. */
static LptStatus emit_entry(LptImporter *imp, const char *list, const char *base, const char *path,
                            const char *label, LptSplit split, int32_t source, int64_t line,
                            LptError *err)
{
    char full[LPT_IMPORT_PATH_MAX];
    if (!list_path(full, sizeof full, base, path))
        return emit_record(imp, list, source, line, LPT_IMPORT_ITEM_BAD_LINE,
                           "the path is longer than the system allows", -1, err);
    int32_t id = label_intern(imp, label);
    if (id < 0)
        return no_memory(err, list);
    return emit_file(imp, full, NULL, id, split, source, line, err);
}

static LptStatus read_list(LptImporter *imp, const char *list, const char *base, LptSplit split,
                           int32_t source, LptError *err)
{
    FILE *f = fopen(list, "r");
    if (!f)
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot open: %s", list, strerror(errno));
    LptStatus st = LPT_OK;
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t line = 0;
    while (st == LPT_OK && !lpt_import_stopping(imp) && (len = getline(&text, &cap, f)) >= 0) {
        line++;
        char *p = text, *end = text + len;
        if (line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
        while (p < end && is_blank(*p))
            p++;
        while (end > p && is_blank(end[-1]))
            end--;
        *end = '\0';
        if (p == end || *p == '#')
            continue;
        if (memchr(p, '\0', (size_t)(end - p))) {
            st = emit_record(imp, list, source, line, LPT_IMPORT_ITEM_BAD_LINE,
                             "the line holds a NUL byte", -1, err);
            continue;
        }
        char *label = end;
        while (label > p && !is_blank(label[-1]))
            label--;
        if (label == p) {
            st = emit_record(imp, list, source, line, LPT_IMPORT_ITEM_BAD_LINE,
                             "expected 'PATH LABEL' (the label is the last field, after "
                             "whitespace)",
                             -1, err);
            continue;
        }
        char *path_end = label;
        while (path_end > p && is_blank(path_end[-1]))
            path_end--;
        *path_end = '\0';
        st = emit_entry(imp, list, base, p, label, split, source, line, err);
    }
    if (st == LPT_OK && ferror(f))
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: read failed: %s", list, strerror(errno));
    free(text);
    fclose(f);
    return st;
}

/* An RFC 4180 record reader: fields are NUL-terminated strings at buf + start[i]. */
typedef struct Csv {
    FILE *f;
    int64_t line; /* the line the next character is on (1-based) */
    char *buf;
    size_t len, cap;
    size_t *start;
    size_t fields, fields_cap;
} Csv;

static bool csv_put(Csv *c, char ch)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        char *buf = realloc(c->buf, cap);
        if (!buf)
            return false;
        c->buf = buf;
        c->cap = cap;
    }
    c->buf[c->len++] = ch;
    return true;
}

static bool csv_field(Csv *c)
{
    if (c->fields == c->fields_cap) {
        size_t cap = c->fields_cap ? c->fields_cap * 2 : 8;
        size_t *start = realloc(c->start, cap * sizeof *start);
        if (!start)
            return false;
        c->start = start;
        c->fields_cap = cap;
    }
    c->start[c->fields++] = c->len;
    return true;
}

/* Reads the next character, turning CRLF into LF and counting lines. */
static int csv_getc(Csv *c)
{
    int ch = getc(c->f);
    if (ch == '\r') {
        int next = getc(c->f);
        if (next == '\n')
            ch = '\n';
        else if (next != EOF)
            ungetc(next, c->f);
    }
    if (ch == '\n')
        c->line++;
    return ch;
}

typedef enum CsvResult { CSV_RECORD, CSV_EOF, CSV_BAD, CSV_NO_MEMORY } CsvResult;

/* Reads one record. *blank is set for an empty line; *why says what is wrong with a bad
 * record (whose line is then skipped). */
static CsvResult csv_record(Csv *c, bool *blank, const char **why)
{
    c->len = 0;
    c->fields = 0;
    *blank = false;
    int ch = csv_getc(c);
    if (ch == EOF)
        return CSV_EOF;
    for (;;) {
        if (!csv_field(c))
            return CSV_NO_MEMORY;
        while (ch == ' ' || ch == '\t')
            ch = csv_getc(c);
        if (ch == '"') {
            for (;;) {
                ch = csv_getc(c);
                if (ch == EOF) {
                    *why = "a quoted field is not closed before the end of the file";
                    return CSV_BAD;
                }
                if (ch == '"' && (ch = csv_getc(c)) != '"')
                    break;
                if (!csv_put(c, (char)ch))
                    return CSV_NO_MEMORY;
            }
            while (ch == ' ' || ch == '\t')
                ch = csv_getc(c);
            if (ch != ',' && ch != '\n' && ch != EOF) {
                while (ch != '\n' && ch != EOF)
                    ch = csv_getc(c);
                *why = "text after the closing quote of a field";
                return CSV_BAD;
            }
        } else {
            size_t first = c->len;
            while (ch != ',' && ch != '\n' && ch != EOF) {
                if (!csv_put(c, (char)ch))
                    return CSV_NO_MEMORY;
                ch = csv_getc(c);
            }
            while (c->len > first && (c->buf[c->len - 1] == ' ' || c->buf[c->len - 1] == '\t'))
                c->len--;
            if (c->fields == 1 && ch != ',' && c->len == 0)
                *blank = true;
        }
        if (!csv_put(c, '\0'))
            return CSV_NO_MEMORY;
        if (ch != ',')
            return CSV_RECORD;
        ch = csv_getc(c);
    }
}

static const char *csv_text(const Csv *c, size_t i)
{
    return c->buf + c->start[i];
}

static LptStatus read_csv(LptImporter *imp, const char *csv, const char *base, LptSplit split,
                          int32_t source, LptError *err)
{
    Csv c = {.line = 1};
    if (!(c.f = fopen(csv, "r")))
        return lpt_error_set(err, LPT_ERR_IO, errno, "%s: cannot open: %s", csv, strerror(errno));
    int b0 = getc(c.f), b1 = getc(c.f), b2 = getc(c.f);
    if (!(b0 == 0xEF && b1 == 0xBB && b2 == 0xBF))
        rewind(c.f);
    LptStatus st = LPT_OK;
    long col_path = -1, col_label = -1, col_split = -1;
    size_t needed = 0;
    bool header = true;
    while (st == LPT_OK && !lpt_import_stopping(imp)) {
        bool blank;
        const char *why = NULL;
        int64_t line = c.line;
        CsvResult r = csv_record(&c, &blank, &why);
        if (r == CSV_EOF)
            break;
        if (r == CSV_NO_MEMORY) {
            st = no_memory(err, csv);
        } else if (r == CSV_BAD && header) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: line %lld: the header row: %s", csv,
                               (long long)line, why);
        } else if (r == CSV_BAD) {
            st = emit_record(imp, csv, source, line, LPT_IMPORT_ITEM_BAD_LINE, why, -1, err);
        } else if (blank) {
            continue;
        } else if (header) {
            for (size_t i = 0; i < c.fields; i++) {
                const char *name = csv_text(&c, i);
                if (strcasecmp(name, "path") == 0 && col_path < 0)
                    col_path = (long)i;
                else if (strcasecmp(name, "label") == 0 && col_label < 0)
                    col_label = (long)i;
                else if (strcasecmp(name, "split") == 0 && col_split < 0)
                    col_split = (long)i;
            }
            if (col_path < 0 && col_label < 0 && c.fields >= 2) {
                col_path = 0;
                col_label = 1;
            }
            if (col_path < 0 || col_label < 0)
                st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "%s: line %lld: the header row names %s; it needs a 'path' "
                                   "and a 'label' column (or at least two columns)",
                                   csv, (long long)line,
                                   col_path >= 0 ? "a path but no label column"
                                                 : "a label but no path column");
            needed = (size_t)(col_path > col_label ? col_path : col_label) + 1;
            if (col_split >= 0 && (size_t)col_split + 1 > needed)
                needed = (size_t)col_split + 1;
            header = false;
        } else if (c.fields < needed) {
            char why_fields[96];
            snprintf(why_fields, sizeof why_fields, "expected %zu fields, found %zu", needed,
                     c.fields);
            st = emit_record(imp, csv, source, line, LPT_IMPORT_ITEM_BAD_LINE, why_fields, -1, err);
        } else {
            const char *path = csv_text(&c, (size_t)col_path);
            const char *label = csv_text(&c, (size_t)col_label);
            LptSplit s = split;
            const char *split_text = col_split >= 0 ? csv_text(&c, (size_t)col_split) : "";
            if (*split_text)
                s = split_from_name(split_text, strlen(split_text));
            if (!*path || !*label)
                st = emit_record(imp, csv, source, line, LPT_IMPORT_ITEM_BAD_LINE,
                                 !*path ? "the path is empty" : "the label is empty", -1, err);
            else if (*split_text && s == LPT_SPLIT_NONE)
                st = emit_record(imp, csv, source, line, LPT_IMPORT_ITEM_BAD_LINE,
                                 "the split is not train, val, test or empty", -1, err);
            else
                st = emit_entry(imp, csv, base, path, label, s, source, line, err);
        }
    }
    if (st == LPT_OK && ferror(c.f))
        st = lpt_error_set(err, LPT_ERR_IO, errno, "%s: read failed: %s", csv, strerror(errno));
    if (st == LPT_OK && header && !lpt_import_stopping(imp))
        st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: no header row (an empty CSV file)", csv);
    fclose(c.f);
    free(c.buf);
    free(c.start);
    return st;
}

/* ---- All sources ---- */

LptStatus lpt_import_scan(LptImporter *imp, LptError *err)
{
    LptStatus st = LPT_OK;
    for (size_t i = 0; st == LPT_OK && i < imp->opt->num_sources && !lpt_import_stopping(imp);
         i++) {
        const char *src = imp->source_paths[i];
        struct stat sb;
        if (stat(src, &sb) != 0)
            return lpt_error_set(err, LPT_ERR_IO, errno, "%s: %s", src, strerror(errno));
        LptImportSourceKind kind = imp->opt->kind;
        const char *name = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
        const char *dot = strrchr(name, '.');
        size_t stem = dot ? (size_t)(dot - name) : strlen(name);
        if (S_ISDIR(sb.st_mode) && kind != LPT_IMPORT_SOURCE_DETECT &&
            kind != LPT_IMPORT_SOURCE_FOLDER)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                                 "%s: a folder, not a list or CSV file", src);
        if (!S_ISDIR(sb.st_mode) && kind == LPT_IMPORT_SOURCE_FOLDER)
            return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "%s: not a folder", src);
        if (kind == LPT_IMPORT_SOURCE_DETECT)
            kind = S_ISDIR(sb.st_mode)                   ? LPT_IMPORT_SOURCE_FOLDER
                   : dot && strcasecmp(dot, ".csv") == 0 ? LPT_IMPORT_SOURCE_CSV
                                                         : LPT_IMPORT_SOURCE_LIST;
        if (kind == LPT_IMPORT_SOURCE_FOLDER) {
            st = walk_folder(imp, src, (int32_t)i, err);
            continue;
        }
        char base[LPT_IMPORT_PATH_MAX];
        size_t dir_len = (size_t)(name - src);
        snprintf(base, sizeof base, "%.*s", (int)(dir_len > 1 ? dir_len - 1 : dir_len), src);
        LptSplit split = split_from_name(name, stem);
        if (kind == LPT_IMPORT_SOURCE_CSV)
            st = read_csv(imp, src, base, split, (int32_t)i, err);
        else
            st = read_list(imp, src, base, split, (int32_t)i, err);
    }
    return st;
}

/* lpt_cmd_import.c: `lpt import --project FILE [--split auto|train|val|test] [--seed N]
 * [--threads N] [--json] SOURCE...`: imports folders, list files or CSV files into a project
 * (lpt_import.h), creating the project when the file does not exist, and prints what was
 * imported, the duplicates, the unreadable files with their reasons and what was skipped
 * (or all of it as one JSON object with --json).
 *
 * Progress: a one-line bar on stderr (files, rate) when stderr is a terminal. Ctrl-C
 * (SIGINT) or SIGTERM cancels: the project is left as it was, and a project this command
 * created is removed again. Exit 0 when the import was written (even with unreadable files:
 * they are listed), 1 when it failed or was cancelled, 2 on a usage error.
 */
#include "lpt_cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lpt_import.h"
#include "lpt_store.h"

#define USAGE                                                                                      \
    "usage: lpt import --project FILE [--split auto|train|val|test] [--seed N] [--threads N]\n"    \
    "                  [--json] SOURCE...\n"                                                       \
    "  SOURCE: a folder with one sub-folder per class (or train/, val/, test/ holding them),\n"    \
    "    a list file of 'relative/path label' lines, or a CSV file with a header (path,label).\n"  \
    "  --split: auto (default) keeps the source's split (train/val/test folders or list files)\n"  \
    "    and takes val from train when missing, else stratifies by the project's settings;\n"      \
    "    train, val or test puts every image there.\n"                                             \
    "  The project (.lptproj) is created when missing. Thumbnails go to $LPT_CACHE_DIR or\n"       \
    "  $XDG_CACHE_HOME/lpt-studio."

#define LIST_SHOWN 20 /* duplicates and problems printed in the text summary */

typedef struct Bar {
    bool tty;
    bool drawn;
    struct timespec start;
} Bar;

static double elapsed(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

static bool on_progress(const LptImportProgress *p, void *user)
{
    Bar *bar = user;
    if (!bar->tty)
        return true;
    enum { WIDTH = 24 };
    int64_t done = p->phase == LPT_IMPORT_PHASE_READING ? p->imported + p->skipped : p->imported;
    int64_t total = p->phase == LPT_IMPORT_PHASE_READING ? p->scanned : p->to_write;
    char cells[WIDTH + 1];
    lpt_cli_bar(cells, WIDTH, done, total);
    double secs = elapsed(&bar->start);
    if (p->phase == LPT_IMPORT_PHASE_READING)
        lpt_cli_status(&bar->drawn, "reading [%s] %lld/%lld files, %.0f/s, %lld skipped", cells,
                       (long long)done, (long long)total, secs > 0 ? (double)done / secs : 0.0,
                       (long long)p->skipped);
    else
        lpt_cli_status(&bar->drawn, "writing [%s] %lld/%lld images", cells, (long long)done,
                       (long long)total);
    return true;
}

static const char *problem_kind_name(LptImportProblemKind kind)
{
    switch (kind) {
    case LPT_IMPORT_PROBLEM_UNREADABLE:
        return "unreadable";
    case LPT_IMPORT_PROBLEM_BAD_LINE:
        return "bad_lines";
    case LPT_IMPORT_PROBLEM_CONFLICT:
        return "conflicts";
    }
    return "?";
}

static void print_json(const char *project, bool created, const LptImportReport *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "project", project);
    cJSON_AddBoolToObject(root, "created", created);
    cJSON_AddNumberToObject(root, "scanned", (double)r->scanned);
    cJSON_AddNumberToObject(root, "imported", (double)r->imported);
    cJSON_AddNumberToObject(root, "classes_created", (double)r->classes_created);
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    for (int s = LPT_STORE_SPLIT_NONE; s <= LPT_STORE_SPLIT_TEST; s++)
        cJSON_AddNumberToObject(splits, lpt_store_split_name((LptStoreSplit)s),
                                (double)r->split_counts[s]);
    cJSON_AddStringToObject(root, "split_note", r->split_note);
    cJSON_AddNumberToObject(root, "seed", (double)r->seed);
    cJSON *dups = cJSON_AddArrayToObject(root, "duplicates");
    for (size_t i = 0; i < r->num_duplicate_list; i++) {
        const LptImportDuplicate *d = &r->duplicate_list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", d->path);
        cJSON_AddStringToObject(o, "kept", d->kept);
        cJSON_AddNumberToObject(o, "kept_image_id", (double)d->kept_image_id);
        cJSON_AddBoolToObject(o, "same_file", d->same_file);
        cJSON_AddItemToArray(dups, o);
    }
    cJSON *lists[3];
    for (int k = 0; k < 3; k++)
        lists[k] = cJSON_AddArrayToObject(root, problem_kind_name((LptImportProblemKind)k));
    for (size_t i = 0; i < r->num_problems; i++) {
        const LptImportProblem *p = &r->problems[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", p->path);
        if (p->line > 0)
            cJSON_AddNumberToObject(o, "line", (double)p->line);
        cJSON_AddStringToObject(o, "reason", p->reason);
        cJSON_AddItemToArray(lists[p->kind], o);
    }
    cJSON *skipped = cJSON_AddObjectToObject(root, "skipped");
    cJSON_AddNumberToObject(skipped, "hidden", (double)r->hidden_skipped);
    cJSON_AddNumberToObject(skipped, "non_image", (double)r->non_image_skipped);
    cJSON_AddNumberToObject(skipped, "outside_class_folders", (double)r->unlabelled_skipped);
    cJSON_AddNumberToObject(skipped, "links_to_folders_seen", (double)r->links_skipped);
    cJSON_AddNumberToObject(root, "thumbnails_made", (double)r->thumbnails_made);
    cJSON_AddNumberToObject(root, "threads", r->threads);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    cJSON_AddNumberToObject(root, "files_per_second",
                            r->seconds > 0 ? (double)r->scanned / r->seconds : 0.0);
    lpt_cli_print_json(root);
}

static void print_problems(const LptImportReport *r, LptImportProblemKind kind, int64_t count,
                           const char *title)
{
    if (count == 0)
        return;
    printf("%s: %lld\n", title, (long long)count);
    int64_t shown = 0;
    for (size_t i = 0; i < r->num_problems && shown < LIST_SHOWN; i++) {
        const LptImportProblem *p = &r->problems[i];
        if (p->kind != kind)
            continue;
        if (p->line > 0)
            printf("  %s:%lld: %s\n", p->path, (long long)p->line, p->reason);
        else
            printf("  %s: %s\n", p->path, p->reason);
        shown++;
    }
    if (count > shown)
        printf("  ... and %lld more (--json lists all)\n", (long long)(count - shown));
}

static void print_text(const char *project, bool created, const LptImportReport *r)
{
    printf("imported %lld image%s into %s (%s%lld new class%s): train %lld, val %lld, test %lld",
           (long long)r->imported, r->imported == 1 ? "" : "s", project,
           created ? "a new project, " : "", (long long)r->classes_created,
           r->classes_created == 1 ? "" : "es", (long long)r->split_counts[LPT_STORE_SPLIT_TRAIN],
           (long long)r->split_counts[LPT_STORE_SPLIT_VAL],
           (long long)r->split_counts[LPT_STORE_SPLIT_TEST]);
    if (r->split_counts[LPT_STORE_SPLIT_NONE])
        printf(", no split %lld", (long long)r->split_counts[LPT_STORE_SPLIT_NONE]);
    printf("\n");
    if (r->split_note[0])
        printf("splits: %s\n", r->split_note);
    if (r->duplicates > 0) {
        printf("duplicates (not imported): %lld\n", (long long)r->duplicates);
        for (size_t i = 0; i < r->num_duplicate_list && i < LIST_SHOWN; i++) {
            const LptImportDuplicate *d = &r->duplicate_list[i];
            if (strcmp(d->path, d->kept) == 0)
                printf("  %s: met again (named twice, or by two sources)%s\n", d->path,
                       d->kept_image_id ? "; already in the project" : "");
            else
                printf("  %s: %s %s%s\n", d->path,
                       d->same_file ? "the same file as" : "same content as", d->kept,
                       d->kept_image_id ? " (already in the project)" : " (imported)");
        }
        if (r->num_duplicate_list > LIST_SHOWN)
            printf("  ... and %zu more (--json lists all)\n", r->num_duplicate_list - LIST_SHOWN);
    }
    print_problems(r, LPT_IMPORT_PROBLEM_UNREADABLE, r->unreadable, "unreadable");
    print_problems(r, LPT_IMPORT_PROBLEM_BAD_LINE, r->bad_lines, "bad lines");
    print_problems(r, LPT_IMPORT_PROBLEM_CONFLICT, r->conflicts, "conflicts (not imported)");
    printf("skipped: %lld hidden, %lld not images, %lld outside class folders, %lld links to "
           "folders already seen\n",
           (long long)r->hidden_skipped, (long long)r->non_image_skipped,
           (long long)r->unlabelled_skipped, (long long)r->links_skipped);
    printf("%lld files in %.2f s (%.0f files/s, %d threads, %lld thumbnails made)\n",
           (long long)r->scanned, r->seconds,
           r->seconds > 0 ? (double)r->scanned / r->seconds : 0.0, r->threads,
           (long long)r->thumbnails_made);
}

/* Removes a project this command created (and SQLite's side files) after a failure. */
static void remove_project(const char *project)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        int n = snprintf(path, sizeof path, "%s%s", project, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof path)
            unlink(path);
    }
}

int lpt_cmd_import(int argc, char **argv)
{
    LptImportOptions opt;
    lpt_import_options_init(&opt);
    const char *project = NULL;
    bool json = false;
    const char **sources = calloc((size_t)argc, sizeof *sources);
    if (!sources) {
        fprintf(stderr, "lpt import: no memory\n");
        return LPT_EXIT_ERROR;
    }
    size_t num_sources = 0;
    int rc = LPT_EXIT_OK;
    for (int i = 1; i < argc && rc == LPT_EXIT_OK; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        char *end;
        if (lpt_cli_is_help(a)) {
            free(sources);
            return lpt_cli_help(USAGE);
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--project") == 0 && has_value) {
            project = argv[++i];
        } else if (strcmp(a, "--split") == 0 && has_value) {
            if (!lpt_import_split_mode_parse(argv[++i], &opt.split))
                rc = lpt_cli_usage_error("import", "--split takes auto, train, val or test");
        } else if (strcmp(a, "--seed") == 0 && has_value) {
            errno = 0;
            unsigned long long seed = strtoull(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || argv[i][0] == '-')
                rc = lpt_cli_usage_error("import", "--seed takes a whole number >= 0");
            opt.has_seed = true;
            opt.seed = seed;
        } else if (strcmp(a, "--threads") == 0 && has_value) {
            long n = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || n < 1 || n > 64)
                rc = lpt_cli_usage_error("import", "--threads takes a number from 1 to 64");
            opt.threads = (int)n;
        } else if (a[0] == '-' && a[1] != '\0') {
            rc = lpt_cli_unexpected("import", a, USAGE);
        } else {
            sources[num_sources++] = a;
        }
    }
    if (rc == LPT_EXIT_OK && !project)
        rc = lpt_cli_usage_error("import", "--project FILE is required\n" USAGE);
    if (rc == LPT_EXIT_OK && num_sources == 0)
        rc = lpt_cli_usage_error("import",
                                 "which SOURCE? (a folder, list file or CSV file)\n" USAGE);
    if (rc != LPT_EXIT_OK) {
        free(sources);
        return rc;
    }
    opt.sources = sources;
    opt.num_sources = num_sources;

    struct stat sb;
    bool created = stat(project, &sb) != 0 && errno == ENOENT;
    LptError err = {0};
    LptStore *store = lpt_store_open(project, LPT_STORE_OPEN_OR_CREATE, &err);
    if (!store) {
        fprintf(stderr, "lpt import: %s\n", err.message);
        free(sources);
        return LPT_EXIT_ERROR;
    }

    Bar bar = {.tty = isatty(fileno(stderr)) != 0};
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    opt.progress = on_progress;
    opt.progress_user = &bar;
    opt.cancel = lpt_cli_cancel_on_signals();

    LptImportReport *report = NULL;
    LptStatus st = lpt_import_run(store, &opt, &report, &err);
    lpt_cli_status_clear(&bar.drawn);
    lpt_store_close(store);
    if (st != LPT_OK) {
        if (created)
            remove_project(project);
        fprintf(stderr, "lpt import: %s\n", err.message);
        rc = LPT_EXIT_ERROR;
    } else if (json) {
        print_json(project, created, report);
    } else {
        print_text(project, created, report);
    }
    lpt_import_report_free(report);
    free(sources);
    return rc;
}

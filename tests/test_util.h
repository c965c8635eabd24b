/* test_util.h: files and child processes for the tests: running a command with its output
 * sent away, reading what it wrote, reading, writing and copying whole files, and removing a
 * test's temporary tree.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Runs argv[0] (a path) with argv, stdout to /dev/null and stderr to `errfile` (/dev/null when
 * NULL); its exit status, or -1 when it did not exit normally. */
int tu_run(char *const argv[], const char *errfile);

/* Runs a shell command; its whole stdout (malloc'd, NUL-terminated; NULL when it could not
 * run) and in *code its exit status (-1 when it did not exit normally or could not run). */
char *tu_run_shell(const char *cmd, int *code);

/* Whether the first 8 KiB of the file's text contain needle (false when it cannot be read). */
bool tu_file_has(const char *path, const char *needle);

/* The whole file, malloc'd with a NUL after it, and its size; NULL when it cannot be read. */
void *tu_read_file(const char *path, size_t *size);

/* Writes n bytes as the whole file; false when it cannot. */
bool tu_write_file(const char *path, const void *data, size_t n);

/* Copies the first `keep` bytes of the file from (all of it when keep < 0) to the file to;
 * false when it cannot. */
bool tu_copy_file(const char *from, const char *to, long keep);

/* Removes path: a file, or a folder and everything under it (links are removed, not
 * followed). */
void tu_remove_tree(const char *path);

#endif

/* test_check.h: the pass / fail counting of the tests that do not use op_check.h: the
 * counters `passed` and `failed` (main prints them and fails when failed > 0) and the checks
 * that count, in one of two forms.
 *
 * By default:
 *  - CHECK(cond, fmt, ...): prints "FAIL file:line: <message>" when cond is false;
 *  - OK(call, err): the call must return LPT_OK (the message is the LptError's);
 *  - expect(ok, what, fmt, ...): a function: prints "FAIL what: <message>", returns ok.
 * With TEST_CHECK_BY_LINE defined before the include, the checks print the line and the
 * checked text instead, and the calls report through the test's global `LptError err`:
 *  - CHECK(cond): "FAIL line N: cond";
 *  - OK(call): the call must return LPT_OK (prints the status and err's message);
 *  - EXPECT_ERROR(call, code, needle): the call must fail with `code` (returned and in err)
 *    and a message containing needle (any message when NULL).
 */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lpt_error.h"

static int passed, failed;

static inline bool expect(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline bool expect(bool ok, const char *what, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return true;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", what);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    return false;
}

#ifndef TEST_CHECK_BY_LINE

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define OK(call, err) CHECK((call) == LPT_OK, "%s: %s", #call, (err).message)

#else

static inline bool check(bool ok, int line, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
    return ok;
}

static inline bool check_error(LptStatus st, const LptError *e, LptStatus code,
                               const char *needle, int line, const char *what)
{
    bool ok = st == code && e->code == code && (!needle || strstr(e->message, needle));
    if (!check(ok, line, what))
        printf("  -> got %s (%ld): '%s' (wanted %s, '%s')\n", lpt_status_name(st), e->detail,
               e->message, lpt_status_name(code), needle ? needle : "");
    return ok;
}

#define CHECK(cond) check((cond), __LINE__, #cond)

#define OK(call)                                                                                   \
    do {                                                                                           \
        LptStatus ok_st_ = (call);                                                                 \
        if (!check(ok_st_ == LPT_OK, __LINE__, #call))                                             \
            printf("  -> %s: %s\n", lpt_status_name(ok_st_), err.message);                         \
    } while (0)

#define EXPECT_ERROR(call, code, needle)                                                           \
    do {                                                                                           \
        lpt_error_clear(&err);                                                                     \
        check_error((call), &err, (code), (needle), __LINE__, #call);                              \
    } while (0)

#endif

#endif

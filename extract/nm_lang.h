/*
 * nm_lang: language identification and per-language stop words.
 *
 * nm_lang_identify names the language of an article: the stop-word
 * profiles below when they are sure (NM_LANG_SURE) of a Latin-script
 * language, else CLD2 (nm_cld2.h, 83 languages) on the text's first
 * NM_LANG_CLD2_BYTES bytes, else (CLD2 cannot tell) the stop words' guess. Measured on WikiANN, GermEval,
 * HTML pages, BBC and 28 languages of Debian's message catalogues in
 * docs/extraction.md ("Language identification"; scripts/eval-lang).
 *
 * Stop words: en de fr es it pt nl tr ru ar (ISO 639-1). Detection scores the
 * first 2,000 words of a text against stop-word profiles (data/stopwords/
 * <code>.txt: the commonest function words of each language, which make up a
 * third to a half of running text), a word shared by k languages counting 1/k
 * for each; Cyrillic and Arabic script decide ru and ar, and Turkish-only
 * letters (ı ğ ş) add evidence for tr. Too little evidence gives "und".
 *
 * Loaded once (nm_lang_new), then read-only and thread-safe.
 */
#ifndef NM_LANG_H
#define NM_LANG_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_error.h"
#include "nm_lexicon.h"
#include "nm_token.h"

#define NM_LANG_COUNT 10

/* How much of a text CLD2 reads: its cost grows with the bytes (about 300
 * instructions a byte), its accuracy no longer does past a few hundred. */
#define NM_LANG_CLD2_BYTES 384

/* Stop-word confidence above which CLD2 is not asked: 3 BBC articles in 4
 * are settled without it; Danish, Slovak, Japanese and Korean lose 2-5
 * points of accuracy to it (docs/extraction.md). */
#define NM_LANG_SURE 0.8

typedef struct nm_lang nm_lang;

/* Loads data_dir/stopwords/<code>.txt for every language. Returns NULL with
 * err naming the missing file on failure. Caller owns. */
nm_lang *nm_lang_new(const char *data_dir, nm_error *err);

/* Accepts NULL; clears *l. */
void nm_lang_destroy(nm_lang **l);

/* Index of a code ("en" -> 0, case-insensitive, "en-GB" is "en"), -1 if
 * unsupported. */
int nm_lang_index(const char *code);

/* Code of an index (0..NM_LANG_COUNT-1), "und" otherwise. */
const char *nm_lang_code(int index);

/* Stop-word mask of a word: bit i set when it is a stop word of language i. */
uint32_t nm_lang_stopmask(const nm_lang *l, uint64_t lhash);

/* nm_lang_detect with the tokens' stop-word masks already computed
 * (masks[i] = nm_lang_stopmask of token i, 0 for non-words). */
int nm_lang_detect_masked(const nm_lang *l, const char *text, const nm_token *toks, size_t n,
                          const uint16_t *masks, double *confidence);

/* The language of a text: the stop-word profiles (nm_lang_detect_masked)
 * when sure of one of en de fr es it pt nl tr, else CLD2 on its first
 * NM_LANG_CLD2_BYTES bytes, else the stop words' guess. Writes
 * the ISO 639-1 code (any of CLD2's 83 languages, "und" when neither can
 * tell) to code[8] and a 0..1 confidence; returns the code's index among the
 * NM_LANG_COUNT stop-word languages, -1 for any other. */
int nm_lang_identify(const nm_lang *l, const char *text, size_t len, const nm_token *toks, size_t n,
                     const uint16_t *masks, char code[8], double *confidence);

#endif

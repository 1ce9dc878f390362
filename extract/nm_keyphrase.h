/*
 * nm_keyphrase: keyphrases (YAKE-style) and the per-token content words that
 * the summary reuses.
 *
 * Candidates are 1-3 consecutive content words inside a sentence (no stop
 * words of the article's language, no punctuation, no bare numbers), keyed by
 * their Snowball stems, so "negotiations" and "negotiation" are one. Each
 * stemmed word gets YAKE's statistical features (Campos et al. 2020): casing
 * (capitalised away from sentence starts), position (median sentence), term
 * frequency normalised by the article's mean and spread, relatedness to
 * context (how many different words surround it) and spread over sentences;
 * S(w) = Rel*Pos / (Case + Freq/Rel + Spread/Rel). A candidate scores
 * prod S(w) / (TF * (1 + sum S(w))), lower is better; the reported score is
 * min/S so the best phrase has 1.0. Near-duplicates (one candidate's stems
 * contained in a better one's) are dropped.
 *
 * Linear in tokens; scratch with malloc, results in the result's arena.
 */
#ifndef NM_KEYPHRASE_H
#define NM_KEYPHRASE_H

#include <stddef.h>
#include <stdint.h>

#include "nm_article.h"
#include "nm_lang.h"
#include "nm_stem.h"
#include "nm_token.h"

typedef struct nm_text_input {
    const nm_token *tokens;
    size_t n;
    const uint32_t *sent_ends; /* token index one past each sentence */
    size_t n_sentences;
    const uint8_t *sent_prose; /* per sentence: 1 = body prose (not heading/list) */
    int lang;                  /* nm_lang index, -1 = unknown (English lists) */
    const nm_lang *langs;
    nm_stem *stem;
    const uint16_t *stopmask;  /* per token: nm_lang_stopmask (or NULL: looked up) */
    const uint8_t *labels;     /* per token: entity label (IOB2) or NULL; a phrase
                                * is a whole name or has no name in it */
} nm_text_input;

/* Fills r->keyphrases (at most max, best first). word_of_token[i] gets a
 * dense id (0..*n_words-1) of token i's stem when it is a content word, else
 * -1. */
void nm_keyphrases_extract(nm_extract_result *r, const nm_text_input *in, size_t max,
                           int32_t *word_of_token, size_t *n_words);

#endif

/*
 * nm_sentence: abbreviation-aware sentence splitting over tokens.
 *
 * A sentence ends at . ! ? … or "..." (plus any closing quotes and brackets
 * after it) when whitespace follows and the next token can start a sentence
 * (not lower case, not a comma or closing bracket). A period does not end a
 * sentence after a title ("Mr.", "Dr.", "Gen."), after a single capital
 * initial ("J. K. Rowling"), after an abbreviation followed by a number
 * ("Jan. 5", "No. 10"), inside numbers ("3.5", a single token) or after a
 * dotted abbreviation ("U.S.", "e.g.") unless the next word is a typical
 * sentence opener ("... in the U.S. The ...").
 *
 * Pure function, linear in the number of tokens, no allocation.
 */
#ifndef NM_SENTENCE_H
#define NM_SENTENCE_H

#include <stddef.h>
#include <stdint.h>

#include "nm_token.h"

/* Splits toks[begin..end) (one paragraph of text) into sentences: writes the
 * token index one past the end of each sentence into ends[] (room for
 * end - begin entries) and returns how many. Every token belongs to exactly
 * one sentence; an empty range gives 0. */
size_t nm_sentence_split(const char *text, const nm_token *toks, size_t begin, size_t end,
                         uint32_t *ends);

#endif

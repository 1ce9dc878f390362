/*
 * nm_acronym: acronyms and their expansions, found where the text defines
 * them.
 *
 * Patterns (within one sentence):
 *   "long form (ABC)"  the long form is found by the Schwartz-Hearst rule
 *                      (each letter of the acronym, right to left, matched in
 *                      order in the words before the bracket, the first one
 *                      at a word start, within min(|A|+5, 2|A|) words);
 *                      when the letters do not match (an acronym of another
 *                      language: "The National Intelligence Organization
 *                      (MIT)"), the capitalised name right before the bracket
 *                      (two or more capitalised words, "of/and/for/the"
 *                      allowed inside, a leading "The" dropped) is taken;
 *   "ABC (long form)"  the bracket holds the expansion (same two rules).
 * An acronym is 2-10 characters with at least two capitals and no lower-case
 * first letter ("MIT", "U.N.", "GmbH" is not one). The first definition of a
 * short form wins. Pure, linear, no allocation.
 */
#ifndef NM_ACRONYM_H
#define NM_ACRONYM_H

#include <stddef.h>
#include <stdint.h>

#include "nm_token.h"

typedef struct nm_acronym_def {
    uint32_t short_tok;              /* token index of the acronym */
    uint32_t long_first, long_end;   /* token range of the expansion */
} nm_acronym_def;

/* Finds definitions in toks[0..n) split into sentences by sent_ends (token
 * index one past each sentence). Writes at most cap into out; returns how
 * many. */
size_t nm_acronyms_find(const char *text, const nm_token *toks, size_t n, const uint32_t *sent_ends,
                        size_t n_sentences, nm_acronym_def *out, size_t cap);

#endif

/*
 * nm_readability: English syllable counting and the Flesch formulas.
 *
 * Syllables are counted by vowel groups with the usual English corrections
 * (silent final e, "-le" after a consonant, silent "-ed" and "-es"), at least
 * one per word; accented Latin vowels count as vowels. Good to about +-10% on
 * running English text, which is what readability scores need. Pure.
 */
#ifndef NM_READABILITY_H
#define NM_READABILITY_H

#include <stddef.h>

#include "nm_article.h"

/* Syllables of one word (UTF-8; ASCII case is folded here). Numbers count as
 * one; words over 64 bytes count one per three bytes. */
unsigned nm_syllables(const char *word, size_t len);

/* Fills avg_sentence_words, flesch_reading_ease and flesch_kincaid_grade from
 * c->words, c->sentences and c->syllables (0 when there are no words). */
void nm_readability_scores(nm_counts *c);

#endif

/*
 * nm_summary: extractive summary by TextRank over sentences.
 *
 * Sentences are nodes; the edge between two is the number of content words
 * (stems) they share divided by log(len a) + log(len b) (Mihalcea & Tarau
 * 2004). PageRank (d = 0.85, until it moves < 1e-4, at most 30 rounds) with a teleport vector that
 * favours early sentences (news puts the point first). Only prose sentences
 * of 5+ words among the first 80 compete (bounds the quadratic graph). The
 * best sentences are taken while the summary stays within budget_words
 * (always at least one), and returned in article order.
 */
#ifndef NM_SUMMARY_H
#define NM_SUMMARY_H

#include "nm_keyphrase.h"

/* Fills r->summary with at most k sentence indexes. */
void nm_summary_build(nm_extract_result *r, const nm_text_input *in, const int32_t *word_of_token,
                      size_t n_words, size_t k, size_t budget_words);

#endif

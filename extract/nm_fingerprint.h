/*
 * nm_fingerprint: exact and near-duplicate signatures of an article's text.
 *
 * Computed from the token stream, so case, spacing and punctuation are folded
 * away: two texts that differ only in those have the same exact hash.
 *   exact    hash of the sequence of lower-cased words and numbers
 *   simhash  64-bit SimHash (Charikar) over 3-word shingles, unweighted
 *   minhash  NM_MINHASH_SIZE-slot one-permutation MinHash over the same
 *            shingles (Li et al. 2012, with Shrivastava's optimal
 *            densification for empty slots): one hash per shingle instead of
 *            one per slot, same Jaccard estimator (share of equal slots).
 * Texts of fewer than three words use single words as shingles.
 * The comparison functions (nm_fingerprints_near_duplicate, _similarity) are
 * declared in nm_extract.h. Pure, linear time, no allocation.
 */
#ifndef NM_FINGERPRINT_H
#define NM_FINGERPRINT_H

#include <stddef.h>

#include "nm_article.h"
#include "nm_token.h"

/* Computes *fp from toks[0..n) (non-word tokens are ignored). */
void nm_fingerprints_compute(const nm_token *toks, size_t n, nm_fingerprints *fp);

#endif

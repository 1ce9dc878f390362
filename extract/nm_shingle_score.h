/*
 * nm_shingle_score: how close an extracted article body is to the true one,
 * scored exactly like the public article-extraction benchmark
 * (../shared/eval/README.md), so that figures compare with its table.
 *
 * Tokens are maximal runs of Unicode word characters (Python's \w: letters,
 * numbers, '_'; classified with utf8proc), case kept. A text becomes the
 * multiset of its 4-token shingles (fewer than 4 tokens: one shingle of all
 * of them; no tokens: none). Per page: tp = sum of min(true, predicted)
 * counts, fp the predicted excess, fn the true excess, each divided by
 * tp+fp+fn. Precision tp/(tp+fp), recall tp/(tp+fn), except fp = fn = 0
 * gives 1 for both, tp = fp = 0 gives precision 0, tp = fn = 0 recall 0.
 * Overall precision / recall are means over the pages with tp+fp > 0 /
 * tp+fn > 0; F1 is their harmonic mean; accuracy the share of pages whose
 * token lists are equal.
 *
 * Shingles are compared by a 64-bit hash of their tokens (a collision would
 * need ~2^32 distinct shingles on one page). Pure functions, malloc'd scratch
 * only; inputs need not be valid UTF-8 (bad bytes separate tokens).
 */
#ifndef NM_SHINGLE_SCORE_H
#define NM_SHINGLE_SCORE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nm_score_page {
    double tp, fp, fn;  /* normalised to sum to 1 (all 0 when both texts are empty) */
    double precision, recall, f1;
    bool has_precision; /* tp+fp > 0: counts toward the mean precision */
    bool has_recall;    /* tp+fn > 0: counts toward the mean recall */
    bool exact;         /* the token lists are equal */
} nm_score_page;

typedef struct nm_score_total {
    double sum_precision, sum_recall;
    size_t n_precision, n_recall, pages, exact;
} nm_score_total;

/* Scores one page: truth and pred are texts (any length, may be empty). */
void nm_shingle_score_page(const char *truth, size_t truth_len, const char *pred, size_t pred_len,
                           nm_score_page *out);

/* Adds a page to a running total (start from a zeroed nm_score_total). */
void nm_shingle_score_add(nm_score_total *total, const nm_score_page *page);

/* Mean precision, mean recall, F1 of the two means, accuracy (0 when no pages). */
void nm_shingle_score_result(const nm_score_total *total, double *precision, double *recall,
                             double *f1, double *accuracy);

/* Number of word tokens in text (for tests and reports). */
size_t nm_shingle_count_tokens(const char *text, size_t len);

#endif

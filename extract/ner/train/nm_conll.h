/*
 * nm_conll: CoNLL-2003 style NER corpora and the conlleval score.
 *
 * Corpus formats (told apart by the first token line; every later line must
 * be of the same format, else the error names the line and what was expected):
 * - CoNLL-2003: one token per line, whitespace-separated columns, the first
 *   is the word and the last the IOB2 tag (O, B-PER, I-ORG, ...); a blank line
 *   ends a sentence; a line starting with -DOCSTART- starts a document. Files
 *   with only two columns (word tag) are read the same way.
 * - WikiANN: "xx:word<TAB>tag" (the language prefix is dropped), PER/ORG/LOC.
 * - GermEval 2014: "index<TAB>word<TAB>outer<TAB>inner", '#' lines between
 *   sentences; the outer tag is read, PER/ORG/LOC kept, OTH and the *deriv/
 *   *part variants read as O.
 *
 * Scoring follows conlleval: an entity counts as correct only when its type
 * and exact token span match (spans by nm_ner_next_span's rules).
 */
#ifndef NM_CONLL_H
#define NM_CONLL_H

#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_ner.h"

typedef enum nm_conll_format {
    NM_CONLL_CONLL = 0,
    NM_CONLL_WIKIANN = 1,
    NM_CONLL_GERMEVAL = 2
} nm_conll_format;

/* "conll", "wikiann", "germeval". */
const char *nm_conll_format_name(nm_conll_format f);

typedef struct nm_conll_corpus {
    nm_conll_format format;
    size_t n_tokens, n_sentences, n_docs;
    nm_ner_token *tokens;  /* n_tokens; text points into the corpus */
    uint8_t *labels;       /* n_tokens gold labels */
    size_t *sent_start;    /* n_sentences + 1 token indexes */
    size_t *doc_start;     /* n_docs + 1 sentence indexes */
    char *text;            /* owned storage of every token */
} nm_conll_corpus;

/* Reads a corpus: one file, or several separated by commas, read as one
 * (in order, every file in the same format; an error names the file and
 * its own line). On success *out is the caller's (nm_conll_free). Fails
 * with NM_ERR_IO (unreadable) or NM_ERR_MALFORMED (unknown tag, with the
 * line number). */
int nm_conll_load(const char *path, nm_conll_corpus **out, nm_error *err);

/* Accepts NULL; clears *c. */
void nm_conll_free(nm_conll_corpus **c);

/* Entity counts per type (index NM_NER_TYPES is the total). */
typedef struct nm_conll_score {
    uint64_t gold[NM_NER_TYPES + 1], pred[NM_NER_TYPES + 1], correct[NM_NER_TYPES + 1];
    uint64_t tokens, tokens_correct;
} nm_conll_score;

/* Adds one sentence's gold and predicted labels to the counts. */
void nm_conll_score_add(nm_conll_score *s, const uint8_t *gold, const uint8_t *pred, size_t n);

/* Precision, recall, F1 of a type (or NM_NER_TYPES for overall); 0 when
 * undefined. */
void nm_conll_score_prf(const nm_conll_score *s, int type, double *p, double *r, double *f1);

#endif

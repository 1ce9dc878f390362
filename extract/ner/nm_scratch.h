/*
 * nm_scratch: what every recogniser reads (nm_recognizer_input: a document's
 * tokens split into sentences) and the per-thread scratch memory a call may
 * grow (nm_scratch). Shared by nm_recognizer and the recognisers behind it
 * (nm_ner_rules, the nm_ner model), so that they need not include each other.
 */
#ifndef NM_SCRATCH_H
#define NM_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nm_token.h"

struct nm_ner_memo; /* nm_ner.h */

typedef struct nm_recognizer_input {
    const char *text;          /* the text the tokens index */
    const nm_token *tokens;    /* the document's tokens, in order */
    size_t n;
    const uint32_t *sent_ends; /* token index one past each sentence, ascending, last == n */
    size_t n_sentences;
    const uint8_t *headline;   /* per sentence: 1 = a title or heading (may be NULL) */
} nm_recognizer_input;

/* Per-thread scratch memory a call may grow, and what the recogniser keeps
 * from one call to the next. Zero-initialise before first use; release
 * with nm_scratch_free. */
typedef struct nm_scratch {
    void *p;
    size_t cap;
    struct nm_ner_memo *ner_memo; /* the model's word memo (made on first use) */
} nm_scratch;

/* Returns scratch memory of at least size bytes (aligned for uint64_t). */
void *nm_scratch_get(nm_scratch *s, size_t size);

/* Frees what s holds and zeroes it (ready for reuse). */
void nm_scratch_free(nm_scratch *s);

#endif

/*
 * nm_recognizer: the named-entity decision behind one small interface.
 *
 * A recogniser reads a document's tokens (split into sentences) and writes
 * one IOB2 label per token over PER/ORG/LOC/MISC (NM_NER_* from nm_ner.h).
 * Everything after that (mention grouping, nationality vs other, canonical
 * names, salience; nm_entities) is the same whichever recogniser decided.
 *
 * Implementations:
 *   "rules"  capitalisation, gazetteers and trigger words (nm_ner_rules):
 *            fast, no model file.
 *   "model"  the trained averaged-perceptron tagger (nm_ner, data/ner-model.bin)
 *            with its document context.
 * Swapping is one argument to nm_recognizer_new. A recogniser is built once
 * and then only read: thread-safe; per-call memory is the caller's scratch.
 */
#ifndef NM_RECOGNIZER_H
#define NM_RECOGNIZER_H

#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_ner.h"
#include "nm_token.h"

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

typedef struct nm_recognizer nm_recognizer;

/* kind "rules" (data_dir/ner-gazetteer.txt + ner-rules.txt + stopwords/en.txt)
 * or "model" (data_dir/ner-model.bin). NULL with err (naming the file) on
 * failure. Caller owns. */
nm_recognizer *nm_recognizer_new(const char *kind, const char *data_dir, nm_error *err);

/* Accepts NULL; clears *r. */
void nm_recognizer_destroy(nm_recognizer **r);

/* "rules" or "model". */
const char *nm_recognizer_kind(const nm_recognizer *r);

/* Labels in->n tokens into labels[0..n) (valid IOB2). Thread-safe. */
void nm_recognizer_label(const nm_recognizer *r, const nm_recognizer_input *in, uint8_t *labels,
                         nm_scratch *scratch);

#endif

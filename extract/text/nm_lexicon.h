/*
 * nm_lexicon: read-only word and phrase lists (gazetteers, stop words).
 *
 * A lexicon maps words and multi-word phrases to a 32-bit set of classes
 * (caller-defined bits: "place", "first name", "English stop word", ...).
 * Phrases are stored by the hash of their tokens' lower-case hashes (see
 * nm_token), so lookups are case-insensitive, cost one probe per token and
 * never touch strings; callers check capitalisation on the tokens themselves.
 * Built once (nm_lexicon_add / nm_lexicon_load), then only read: any number of
 * threads may look up at the same time.
 *
 * File formats read by nm_lexicon_load:
 *   "CLASS<TAB>phrase" lines (classed) or white-space separated words
 *   (plain, every word gets default_classes); '#' starts a comment line.
 */
#ifndef NM_LEXICON_H
#define NM_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_token.h"

typedef struct nm_lexicon nm_lexicon;

/* Maps a class name in a file to its bits; 0 = unknown (the line is skipped). */
typedef struct nm_lexicon_class {
    const char *name;
    uint32_t bits;
} nm_lexicon_class;

/* An empty lexicon. Caller owns. */
nm_lexicon *nm_lexicon_new(void);

/* Accepts NULL; clears *lx. */
void nm_lexicon_destroy(nm_lexicon **lx);

/* Adds a phrase (tokenised like article text) with classes (OR-ed into any
 * classes it already has). Phrases longer than 8 tokens are ignored. */
void nm_lexicon_add(nm_lexicon *lx, const char *phrase, size_t len, uint32_t classes);

/* Loads a file. classes == NULL: plain format, every word gets
 * default_classes. Else classed format; names not in classes[0..n_classes)
 * are skipped. Returns 0, or -1 with NM_ERR_IO naming the file. */
int nm_lexicon_load(nm_lexicon *lx, const char *path, const nm_lexicon_class *classes,
                    size_t n_classes, uint32_t default_classes, nm_error *err);

/* Classes of the single word with lower-case hash lhash (0 if absent). */
uint32_t nm_lexicon_word(const nm_lexicon *lx, uint64_t lhash);

/* Longest phrase starting at toks[i] and ending before toks[end]: returns its
 * length in tokens (0 if none) and its classes in *classes. */
size_t nm_lexicon_match(const nm_lexicon *lx, const nm_token *toks, size_t i, size_t end,
                        uint32_t *classes);

#endif

/*
 * nm_stem: Snowball stemming (Debian's libstemmer) with a word cache.
 *
 * libstemmer's stemmers are not thread-safe, so an nm_stem belongs to one
 * thread at a time (the extractor keeps one per workspace, and workspaces are
 * handed to one call at a time). Stemmers are created on first use per
 * language. The cache maps a word's lower-case hash to its stem's hash, so a
 * word seen before (in this or an earlier article) costs one probe instead of
 * a Snowball run. Fixed size: when a word's few slots are taken, it replaces
 * the word in its home slot (the cache is never flushed).
 */
#ifndef NM_STEM_H
#define NM_STEM_H

#include <stddef.h>
#include <stdint.h>

#include "nm_token.h"

typedef struct nm_stem nm_stem;

/* Caller owns. */
nm_stem *nm_stem_new(void);

/* Accepts NULL; clears *s. */
void nm_stem_destroy(nm_stem **s);

/* Hash of the stem of token t (lower-cased) in language lang (nm_lang index;
 * unsupported or -1 = English). */
uint64_t nm_stem_hash(nm_stem *s, int lang, const char *text, const nm_token *t);

/* Hints the cache line that nm_stem_hash(s, lang, ., t) will read (a word a
 * few tokens ahead), so that its memory latency overlaps other work. */
void nm_stem_prefetch(const nm_stem *s, int lang, const nm_token *t);

/* The stem itself, written NUL-terminated into buf (truncated to cap-1);
 * returns its length. */
size_t nm_stem_text(nm_stem *s, int lang, const char *text, const nm_token *t, char *buf, size_t cap);

/* Cache statistics since creation. */
void nm_stem_stats(const nm_stem *s, uint64_t *hits, uint64_t *misses);

#endif

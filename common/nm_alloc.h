/*
 * nm_alloc: newsmill's one out-of-memory policy.
 *
 * Allocation failure aborts the process after one log line. Why: every
 * newsmill process is crash-safe by design (the queue's spool is durable,
 * leases redeliver what a dead worker held), so aborting loses nothing, while
 * handling NULL on every path would add code that is never tested. Memory
 * taken for untrusted input is bounded by explicit limits (frame size, article
 * size, arena caps), never by waiting for malloc to fail.
 *
 * These never return NULL. nm_xstrdup(NULL) returns NULL.
 */
#ifndef NM_ALLOC_H
#define NM_ALLOC_H

#include <stddef.h>

void *nm_xmalloc(size_t size);
void *nm_xcalloc(size_t count, size_t size);
void *nm_xrealloc(void *ptr, size_t size);
char *nm_xstrdup(const char *s);
char *nm_xstrndup(const char *s, size_t n);

#endif

/*
 * nm_api_cache: answers kept for a short while, for questions that are
 * costly and need not be exact to the millisecond (trending entities:
 * /api/entities/top aggregates every mention of the window, tens of ms on a
 * few thousand articles).
 *
 * A key (the question and its parameters, as text) maps to a response body.
 * An answer younger than ttl_ms is reused. When it is older, the first
 * caller to ask recomputes it while the others keep getting the old answer
 * (no pile-up of identical computations); when there is no answer yet, the
 * others wait for the first. So an answer served is at most ttl_ms plus one
 * computation old. At most NM_API_CACHE_SLOTS keys; past that the least
 * recently stored is dropped. Thread-safe: one mutex, held only to look up
 * and copy.
 */
#ifndef NM_API_CACHE_H
#define NM_API_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_api_cache nm_api_cache;

#define NM_API_CACHE_SLOTS 64

/* A cache whose answers live ttl_ms (> 0). Caller owns. */
nm_api_cache *nm_api_cache_new(int64_t ttl_ms);

/* Accepts NULL; clears *cache. */
void nm_api_cache_destroy(nm_api_cache **cache);

/* Looks key up. Returns 1 with *body (malloc'ed copy, caller owns) and *len
 * when an answer is there to serve; 0 when the caller must compute it and
 * then call nm_api_cache_put with the same key (successful or not), exactly
 * once. May wait for another thread computing the same key. */
int nm_api_cache_get(nm_api_cache *cache, const char *key, char **body, size_t *len);

/* Stores the answer computed for key (body copied), or, with body NULL,
 * gives up (the computation failed: the next caller computes). Wakes the
 * callers waiting for key. */
void nm_api_cache_put(nm_api_cache *cache, const char *key, const char *body, size_t len);

#endif

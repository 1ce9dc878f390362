/*
 * nm_keytable: a fixed-capacity hash table from 64-bit keys (word and phrase
 * hashes) to 32-bit values (indexes), for extraction's per-article lookups.
 *
 * Open addressing with linear probing; sized once for the most keys it will
 * hold (capacity >= 2 * want, a power of two), never grows, so the caller must
 * not insert more than `want` distinct keys. Key 0 is stored as 1 (0 marks an
 * empty slot): hashes are not expected to collide there in practice, and a
 * collision only merges two keys. Header-only so that lookups inline on the
 * hot path. Not thread-safe; one table per article.
 */
#ifndef NM_KEYTABLE_H
#define NM_KEYTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nm_alloc.h"

typedef struct nm_keytable {
    uint64_t *keys;
    uint32_t *vals;
    size_t mask;
} nm_keytable;

/* Room for want distinct keys. Free with nm_keytable_free. */
static inline void nm_keytable_init(nm_keytable *t, size_t want)
{
    size_t cap = 64;
    while (cap < want * 2)
        cap *= 2;
    t->keys = nm_xcalloc(cap, sizeof *t->keys);
    t->vals = nm_xmalloc(cap * sizeof *t->vals);
    t->mask = cap - 1;
}

static inline void nm_keytable_free(nm_keytable *t)
{
    free(t->keys);
    free(t->vals);
}

/* The value slot of key; a new key is inserted (*inserted = 1, the slot's
 * value is undefined until the caller sets it), else *inserted = 0. */
static inline uint32_t *nm_keytable_slot(nm_keytable *t, uint64_t key, int *inserted)
{
    key = key ? key : 1;
    for (size_t i = key & t->mask;; i = (i + 1) & t->mask) {
        if (t->keys[i] == key) {
            *inserted = 0;
            return &t->vals[i];
        }
        if (!t->keys[i]) {
            t->keys[i] = key;
            *inserted = 1;
            return &t->vals[i];
        }
    }
}

/* The value of key, or NULL when absent. */
static inline const uint32_t *nm_keytable_get(const nm_keytable *t, uint64_t key)
{
    key = key ? key : 1;
    for (size_t i = key & t->mask;; i = (i + 1) & t->mask) {
        if (t->keys[i] == key)
            return &t->vals[i];
        if (!t->keys[i])
            return NULL;
    }
}

#endif

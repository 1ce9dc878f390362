/*
 * nm_store_cache: a connection's entity id cache (type + name -> entities
 * row id), so that writing an article looks each of its entities up in the
 * database at most once per connection. Open addressing, load kept at most
 * 1/2, dropped and refilled past ENTITY_CACHE_MAX entries. Entity rows are
 * never deleted, so a cached id stays valid, except when the transaction
 * that created it rolls back: then nm_store_rollback drops the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_store.h"
#include "nm_store_int.h"

void nm_store_cache_clear(nm_store *s)
{
    for (size_t i = 0; i < s->slots_cap; i++) {
        free(s->slots[i].key);
        s->slots[i].key = NULL;
    }
    s->slots_used = 0;
}

entity_slot *nm_store_cache_find(nm_store *s, const char *key, size_t len, uint64_t hash)
{
    size_t mask = s->slots_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        entity_slot *slot = &s->slots[i];
        if (!slot->key || (slot->hash == hash && slot->key_len == len &&
                           memcmp(slot->key, key, len) == 0))
            return slot;
    }
}

void nm_store_cache_put(nm_store *s, const char *key, size_t len, uint64_t hash, int64_t id)
{
    if (s->slots_used >= ENTITY_CACHE_MAX)
        nm_store_cache_clear(s);
    if ((s->slots_used + 1) * 2 > s->slots_cap) { /* keep load <= 1/2 */
        entity_slot *old = s->slots;
        size_t old_cap = s->slots_cap;
        s->slots_cap = old_cap ? old_cap * 2 : 4096;
        s->slots = nm_xcalloc(s->slots_cap, sizeof *s->slots);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].key)
                *nm_store_cache_find(s, old[i].key, old[i].key_len, old[i].hash) = old[i];
        free(old);
    }
    entity_slot *slot = nm_store_cache_find(s, key, len, hash);
    if (!slot->key) {
        slot->key = nm_xmalloc(len);
        memcpy(slot->key, key, len);
        slot->key_len = len;
        slot->hash = hash;
        s->slots_used++;
    }
    slot->id = id;
}

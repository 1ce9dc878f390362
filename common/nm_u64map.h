/*
 * nm_u64map: a hash map from non-zero uint64_t keys to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), so lookups stay short under any mix of inserts and removals.
 * Grows by doubling at 50% load; never shrinks. Keys must be non-zero (0
 * marks an empty slot); values may be any pointer except NULL (NULL means
 * "absent" to nm_u64map_get). Not thread-safe.
 */
#ifndef NM_U64MAP_H
#define NM_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_u64map {
    uint64_t *keys;
    void **values;
    size_t cap; /* power of two, or 0 before the first insert */
    size_t n;
} nm_u64map;

/* A zeroed nm_u64map is an empty map; nm_u64map_clear frees its memory. */
void nm_u64map_clear(nm_u64map *map);

/* nm_u64map_clear after free_value(value) on every value (the map owned
 * them). */
void nm_u64map_clear_with(nm_u64map *map, void (*free_value)(void *value));

/* Value of key, or NULL. */
void *nm_u64map_get(const nm_u64map *map, uint64_t key);

/* Sets key to value (replacing any previous value). */
void nm_u64map_put(nm_u64map *map, uint64_t key, void *value);

/* Removes key; returns its value, or NULL if it was absent. */
void *nm_u64map_del(nm_u64map *map, uint64_t key);

#endif

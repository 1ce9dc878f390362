#include "nm_u64map.h"

#include <assert.h>
#include <stdlib.h>

#include "nm_alloc.h"

static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33; /* murmur3 finalizer */
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    key *= UINT64_C(0xc4ceb9fe1a85ec53);
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

void nm_u64map_clear(nm_u64map *map)
{
    free(map->keys);
    free(map->values);
    map->keys = NULL;
    map->values = NULL;
    map->cap = map->n = 0;
}

void nm_u64map_clear_with(nm_u64map *map, void (*free_value)(void *value))
{
    for (size_t i = 0; i < map->cap; i++)
        if (map->keys[i])
            free_value(map->values[i]);
    nm_u64map_clear(map);
}

void *nm_u64map_get(const nm_u64map *map, uint64_t key)
{
    if (!map->cap || !key)
        return NULL;
    for (size_t i = slot_of(key, map->cap);; i = (i + 1) & (map->cap - 1)) {
        if (map->keys[i] == key)
            return map->values[i];
        if (!map->keys[i])
            return NULL;
    }
}

static void grow(nm_u64map *map)
{
    size_t old_cap = map->cap;
    uint64_t *old_keys = map->keys;
    void **old_values = map->values;
    map->cap = old_cap ? old_cap * 2 : 64;
    map->keys = nm_xcalloc(map->cap, sizeof *map->keys);
    map->values = nm_xcalloc(map->cap, sizeof *map->values);
    map->n = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old_keys[i])
            nm_u64map_put(map, old_keys[i], old_values[i]);
    }
    free(old_keys);
    free(old_values);
}

void nm_u64map_put(nm_u64map *map, uint64_t key, void *value)
{
    assert(key != 0 && value != NULL);
    if ((map->n + 1) * 2 > map->cap)
        grow(map);
    size_t i = slot_of(key, map->cap);
    while (map->keys[i] && map->keys[i] != key)
        i = (i + 1) & (map->cap - 1);
    if (!map->keys[i])
        map->n++;
    map->keys[i] = key;
    map->values[i] = value;
}

void *nm_u64map_del(nm_u64map *map, uint64_t key)
{
    if (!map->cap || !key)
        return NULL;
    size_t mask = map->cap - 1, i = slot_of(key, map->cap);
    while (map->keys[i] != key) {
        if (!map->keys[i])
            return NULL;
        i = (i + 1) & mask;
    }
    void *value = map->values[i];
    /* Backward shift: move later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & mask; map->keys[j]; j = (j + 1) & mask) {
        size_t home = slot_of(map->keys[j], map->cap);
        /* Entry j may move to i when its home is not in (i, j] cyclically. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            map->keys[i] = map->keys[j];
            map->values[i] = map->values[j];
            i = j;
        }
    }
    map->keys[i] = 0;
    map->values[i] = NULL;
    map->n--;
    return value;
}

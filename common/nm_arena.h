/*
 * nm_arena: a bump allocator, one per article, freed in one call.
 *
 * Extraction allocates everything it makes for an article (strings, arrays,
 * the result itself) from one arena, so that nothing is freed piecemeal and
 * freeing an article's result is one nm_arena_destroy(). Memory grows in
 * chunks; allocation follows nm_alloc's policy (abort on out-of-memory, never
 * NULL). What bounds memory is the caller's input-size limit and linear-size
 * algorithms, not the arena.
 *
 * Not thread-safe: one arena per article per thread.
 */
#ifndef NM_ARENA_H
#define NM_ARENA_H

#include <stddef.h>

typedef struct nm_arena nm_arena;

/* New empty arena whose first chunk holds at least first_chunk bytes
 * (0 = 64 KiB). Caller owns the result. */
nm_arena *nm_arena_new(size_t first_chunk);

/* Frees every allocation and the arena; accepts NULL; clears *arena. */
void nm_arena_destroy(nm_arena **arena);

/* Frees every allocation but keeps the first chunk for reuse. */
void nm_arena_reset(nm_arena *arena);

/* size bytes aligned for any type; uninitialised / zeroed. Never NULL. */
void *nm_arena_alloc(nm_arena *arena, size_t size);
void *nm_arena_calloc(nm_arena *arena, size_t count, size_t size);

/* Copies s[0..n) and a NUL. Never NULL. */
char *nm_arena_strndup(nm_arena *arena, const char *s, size_t n);

/* Copies an array into a bigger one (old_size bytes kept, the rest zeroed):
 * the arena's way to grow a vector. Never NULL. */
void *nm_arena_grow(nm_arena *arena, void *ptr, size_t old_size, size_t new_size);

/* Bytes handed out since creation or the last reset. */
size_t nm_arena_used(const nm_arena *arena);

#endif

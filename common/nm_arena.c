#include "nm_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} chunk;

struct nm_arena {
    chunk *head;  /* current chunk; older ones follow via next */
    size_t first_size;
    size_t used;
};

static chunk *chunk_new(size_t size)
{
    chunk *c = nm_xmalloc(sizeof *c + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

nm_arena *nm_arena_new(size_t first_chunk)
{
    nm_arena *a = nm_xcalloc(1, sizeof *a);
    a->first_size = first_chunk ? first_chunk : 64 * 1024;
    a->head = chunk_new(a->first_size);
    return a;
}

static void free_chunks(chunk *c, chunk *stop)
{
    while (c && c != stop) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
}

void nm_arena_destroy(nm_arena **arena)
{
    if (!arena || !*arena)
        return;
    free_chunks((*arena)->head, NULL);
    free(*arena);
    *arena = NULL;
}

void nm_arena_reset(nm_arena *a)
{
    chunk *first = a->head;
    while (first->next)
        first = first->next;
    free_chunks(a->head, first);
    a->head = first;
    first->used = 0;
    a->used = 0;
}

void *nm_arena_alloc(nm_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    chunk *c = a->head;
    if (c->size - c->used < size) {
        size_t want = c->size * 2;
        if (want < size)
            want = size;
        if (want > ((size_t)64 << 20) && size <= ((size_t)64 << 20))
            want = (size_t)64 << 20; /* stop doubling past 64 MiB chunks */
        c = chunk_new(want);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    a->used += size;
    return p;
}

void *nm_arena_calloc(nm_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        abort(); /* a caller computed an impossible size: a bug */
    void *p = nm_arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *nm_arena_strndup(nm_arena *a, const char *s, size_t n)
{
    char *p = nm_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *nm_arena_grow(nm_arena *a, void *ptr, size_t old_size, size_t new_size)
{
    if (new_size <= old_size)
        return ptr;
    unsigned char *p = nm_arena_alloc(a, new_size);
    if (old_size)
        memcpy(p, ptr, old_size);
    memset(p + old_size, 0, new_size - old_size);
    return p;
}

size_t nm_arena_used(const nm_arena *a)
{
    return a->used;
}

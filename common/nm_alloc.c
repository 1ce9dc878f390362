#include "nm_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    /* No nm_log here: logging may itself need memory. */
    fprintf(stderr, "newsmill: out of memory allocating %zu bytes; aborting\n", size);
    abort();
}

void *nm_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *nm_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *nm_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

char *nm_xstrdup(const char *s)
{
    return s ? nm_xstrndup(s, strlen(s)) : NULL;
}

char *nm_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = nm_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

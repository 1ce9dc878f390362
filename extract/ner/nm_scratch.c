#include "nm_scratch.h"

#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_ner.h"

void *nm_scratch_get(nm_scratch *s, size_t size)
{
    if (s->cap < size) {
        free(s->p);
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < size)
            cap *= 2;
        s->p = nm_xmalloc(cap);
        s->cap = cap;
    }
    return s->p;
}

void nm_scratch_free(nm_scratch *s)
{
    free(s->p);
    nm_ner_memo_free(&s->ner_memo);
    memset(s, 0, sizeof *s);
}

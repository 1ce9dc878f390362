/* nm_suspects: see nm_suspects.h. One map from spool row to a small record. */
#include "nm_suspects.h"

#include <stdlib.h>

#include "nm_alloc.h"
#include "nm_u64map.h"

typedef struct suspect {
    uint32_t cap;          /* most articles held with it, >= 1 */
    uint32_t alone_deaths; /* workers that died holding it alone */
} suspect;

struct nm_suspects {
    nm_u64map by_seq; /* seq -> suspect* (spool seqs start at 1, never 0) */
};

nm_suspects *nm_suspects_new(void)
{
    return nm_xcalloc(1, sizeof(nm_suspects));
}

void nm_suspects_destroy(nm_suspects **suspects)
{
    if (!suspects || !*suspects)
        return;
    nm_suspects *s = *suspects;
    nm_u64map_clear_with(&s->by_seq, free);
    free(s);
    *suspects = NULL;
}

uint32_t nm_suspects_cap(const nm_suspects *s, int64_t seq)
{
    const suspect *x = s->by_seq.n ? nm_u64map_get(&s->by_seq, (uint64_t)seq) : NULL;
    return x ? x->cap : 0;
}

uint32_t nm_suspects_alone_deaths(const nm_suspects *s, int64_t seq)
{
    const suspect *x = s->by_seq.n ? nm_u64map_get(&s->by_seq, (uint64_t)seq) : NULL;
    return x ? x->alone_deaths : 0;
}

uint32_t nm_suspects_note_death(nm_suspects *s, int64_t seq, uint32_t group)
{
    suspect *x = nm_u64map_get(&s->by_seq, (uint64_t)seq);
    if (!x) {
        x = nm_xcalloc(1, sizeof *x);
        x->cap = UINT32_MAX;
        nm_u64map_put(&s->by_seq, (uint64_t)seq, x);
    }
    uint32_t half = group > 1 ? group / 2 : 1;
    if (half < x->cap)
        x->cap = half;
    if (group <= 1)
        x->alone_deaths++;
    return x->cap;
}

void nm_suspects_forget(nm_suspects *s, int64_t seq)
{
    if (s->by_seq.n)
        free(nm_u64map_del(&s->by_seq, (uint64_t)seq));
}

size_t nm_suspects_count(const nm_suspects *s)
{
    return s->by_seq.n;
}

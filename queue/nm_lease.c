#include "nm_lease.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_u64map.h"

struct nm_lease_table {
    nm_u64map by_id;
    nm_lease **heap;
    size_t n, cap;
    uint64_t next_id;
};

/* A random 32-bit epoch from the kernel's generator. Not the clock: a clock
 * stepped back across a restart would hand out the ids of the run before. */
static uint32_t random_epoch(void)
{
    uint32_t epoch;
    ssize_t n;
    do
        n = getrandom(&epoch, sizeof epoch, 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof epoch) {
        /* Linux >= 3.17 always has it; there is no safe id space without it. */
        nm_log_error("getrandom for the lease id epoch failed: %s",
                     n < 0 ? strerror(errno) : "short read");
        abort();
    }
    return epoch;
}

nm_lease_table *nm_lease_table_new(void)
{
    nm_lease_table *t = nm_xcalloc(1, sizeof *t);
    /* Epoch in the high 32 bits, counter from 1 in the low 32: two runs
     * collide only if their epochs are equal (or adjacent, once a counter has
     * carried): about 2^-31 per pair of runs. The counter may carry
     * into the epoch after 2^32 leases; ids stay unique within the run. */
    t->next_id = ((uint64_t)random_epoch() << 32) | 1;
    return t;
}

void nm_lease_table_destroy(nm_lease_table **table)
{
    if (!table || !*table)
        return;
    nm_lease_table *t = *table;
    for (size_t i = 0; i < t->n; i++)
        free(t->heap[i]);
    free(t->heap);
    nm_u64map_clear(&t->by_id);
    free(t);
    *table = NULL;
}

static void heap_set(nm_lease_table *t, size_t i, nm_lease *l)
{
    t->heap[i] = l;
    l->heap_index = i;
}

static void sift_up(nm_lease_table *t, size_t i)
{
    nm_lease *l = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->heap[parent]->deadline_ns <= l->deadline_ns)
            break;
        heap_set(t, i, t->heap[parent]);
        i = parent;
    }
    heap_set(t, i, l);
}

static void sift_down(nm_lease_table *t, size_t i)
{
    nm_lease *l = t->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= t->n)
            break;
        if (child + 1 < t->n && t->heap[child + 1]->deadline_ns < t->heap[child]->deadline_ns)
            child++;
        if (t->heap[child]->deadline_ns >= l->deadline_ns)
            break;
        heap_set(t, i, t->heap[child]);
        i = child;
    }
    heap_set(t, i, l);
}

nm_lease *nm_lease_add(nm_lease_table *t, int64_t seq, int64_t rev, uint32_t attempt,
                       int64_t deadline_ns, void *owner)
{
    nm_lease *l = nm_xcalloc(1, sizeof *l);
    l->lease_id = t->next_id++;
    l->seq = seq;
    l->rev = rev;
    l->attempt = attempt;
    l->deadline_ns = deadline_ns;
    l->owner = owner;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->heap = nm_xrealloc(t->heap, t->cap * sizeof *t->heap);
    }
    heap_set(t, t->n++, l);
    sift_up(t, l->heap_index);
    nm_u64map_put(&t->by_id, l->lease_id, l);
    return l;
}

nm_lease *nm_lease_find(nm_lease_table *t, uint64_t lease_id)
{
    return nm_u64map_get(&t->by_id, lease_id);
}

void nm_lease_set_deadline(nm_lease_table *t, nm_lease *l, int64_t deadline_ns)
{
    int64_t old = l->deadline_ns;
    l->deadline_ns = deadline_ns;
    if (deadline_ns < old)
        sift_up(t, l->heap_index);
    else
        sift_down(t, l->heap_index);
}

nm_lease *nm_lease_next(nm_lease_table *t)
{
    return t->n ? t->heap[0] : NULL;
}

void nm_lease_remove(nm_lease_table *t, nm_lease *l)
{
    size_t i = l->heap_index;
    assert(i < t->n && t->heap[i] == l);
    nm_lease *last = t->heap[--t->n];
    if (last != l) {
        heap_set(t, i, last);
        sift_up(t, i);
        sift_down(t, last->heap_index);
    }
    nm_u64map_del(&t->by_id, l->lease_id);
    free(l);
}

size_t nm_lease_count(const nm_lease_table *t)
{
    return t->n;
}

/*
 * nm_lease: the queue's leases and their deadline heap.
 *
 * A lease is one delivery of one spool row to one worker. The table finds a
 * lease by its id (for done/fail/extend) and keeps every lease in a binary
 * min-heap by deadline, so the queue can sleep exactly until the next lease
 * expires and pop the expired ones in order. Lease ids are never reused
 * within a process run (a counter), and ids from before a restart are
 * unknown to the new process without trusting the clock: each table starts
 * its counter under a random 32-bit epoch from getrandom() (the process
 * aborts if the kernel cannot give one). Not thread-safe.
 */
#ifndef NM_LEASE_H
#define NM_LEASE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_lease {
    uint64_t lease_id;
    int64_t seq;          /* spool row */
    int64_t rev;          /* row revision when delivered */
    uint32_t attempt;     /* 1 on the first delivery */
    int64_t deadline_ns;  /* monotonic */
    void *owner;          /* the worker holding it (the queue's type) */
    struct nm_lease *owner_prev, *owner_next; /* the owner's list, kept by the queue */
    size_t heap_index;
} nm_lease;

typedef struct nm_lease_table nm_lease_table;

/* Caller owns the result. */
nm_lease_table *nm_lease_table_new(void);

/* Frees the table and every lease in it; accepts NULL; clears *table. */
void nm_lease_table_destroy(nm_lease_table **table);

/* Creates a lease with a fresh id; the table owns it until nm_lease_remove. */
nm_lease *nm_lease_add(nm_lease_table *table, int64_t seq, int64_t rev, uint32_t attempt,
                       int64_t deadline_ns, void *owner);

/* The lease with this id, or NULL. */
nm_lease *nm_lease_find(nm_lease_table *table, uint64_t lease_id);

/* Moves a lease's deadline (extend). */
void nm_lease_set_deadline(nm_lease_table *table, nm_lease *lease, int64_t deadline_ns);

/* The lease that expires first, or NULL when there is none. */
nm_lease *nm_lease_next(nm_lease_table *table);

/* Removes the lease from the table and the heap and frees it. */
void nm_lease_remove(nm_lease_table *table, nm_lease *lease);

/* Number of leases out. */
size_t nm_lease_count(const nm_lease_table *table);

#endif

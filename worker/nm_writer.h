/*
 * nm_writer: a thread that writes batches of extraction results to the
 * results database, so that a worker extracts the next batch while the
 * previous one is being written.
 *
 * Why a thread: writing (SQLite, FTS5 indexing, fsync at COMMIT) costs about
 * as much CPU as extracting, and only one process or thread per database
 * file can write at a time. Extracting and writing one after the other on
 * one thread leaves a core idle half the time; running a second worker
 * process instead makes both contend for the write lock and throw away each
 * other's page cache at every commit. One writer thread per worker keeps
 * the write path warm and overlaps it with extraction.
 *
 * Ownership: the writer owns the nm_partitions it is given from
 * nm_writer_new on (the time partitions of a directory, or one wrapped
 * nm_store): nothing else may use them until nm_writer_destroy (they are
 * not thread-safe). A job goes to the partition of its ingested_unix_ms. A job's results are borrowed from the caller until the
 * job is handed back by nm_writer_take; the caller must not free or change
 * them meanwhile. Only one job runs at a time.
 *
 * A job either writes all of its results in one transaction (a batch), or,
 * with one_by_one, each in its own transaction, so that one article the
 * database refuses cannot hold back the others. Per result the job reports
 * what happened (nm_write_status); for the job, rc and err say whether the
 * database itself stopped it (busy, full, I/O, BEGIN or COMMIT failing),
 * in which case every result not yet committed is NM_WRITE_PENDING: still
 * the caller's to retry.
 */
#ifndef NM_WRITER_H
#define NM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_article.h"
#include "nm_partition.h"
#include "nm_store.h"

typedef enum nm_write_status {
    NM_WRITE_PENDING = 0, /* not stored: the job stopped before (or rolled it back) */
    NM_WRITE_COMMITTED,   /* durable in the results database */
    NM_WRITE_INVALID,     /* refused as unusable (NM_ERR_INVALID): never retry */
    NM_WRITE_FAILED,      /* one_by_one only: this article's write failed; may be retried */
    NM_WRITE_STALE,       /* not stored, and never will be: the database holds a newer
                           * revision of its id (committed with the job); settle it */
} nm_write_status;

typedef struct nm_write_job {
    /* in */
    nm_extract_result *const *results; /* borrowed until nm_writer_take returns the job */
    const int64_t *revisions;          /* n entries (each result's Delivery.revision), or
                                        * NULL: none known; borrowed like results */
    size_t n;
    bool one_by_one;
    int64_t ingested_unix_ms;
    /* out, valid once taken back */
    nm_write_status *status; /* n entries, caller-allocated */
    nm_error *errors;        /* n entries, caller-allocated: why, for INVALID and FAILED */
    int rc;                  /* 0, or -1: err says why the database stopped the job */
    nm_error err;
    bool at_article;  /* rc -1 came from writing one article, not from BEGIN/COMMIT */
    int64_t write_ns; /* time spent, BEGIN to COMMIT (all transactions) */
} nm_write_job;

typedef struct nm_writer nm_writer;

/* Starts the writer thread on parts (owned from now on, see above). Returns
 * NULL with err if the thread or its wake-up descriptor cannot be made. */
nm_writer *nm_writer_new(nm_partitions *parts, nm_error *err);

/* Hands job to the thread. Returns false (and does nothing) if a job is
 * still running or not yet taken back. */
bool nm_writer_start(nm_writer *writer, nm_write_job *job);

/* True from nm_writer_start until nm_writer_take has returned the job. */
bool nm_writer_busy(const nm_writer *writer);

/* A file descriptor that becomes readable when a job has finished: poll it
 * (zmq_poll accepts plain descriptors) and then call nm_writer_take. */
int nm_writer_fd(const nm_writer *writer);

/* The finished job, or NULL while it is still running (or none was started).
 * Resets the descriptor's readiness. */
nm_write_job *nm_writer_take(nm_writer *writer);

/* Makes a running job stop soon (its transaction rolls back, its results
 * stay PENDING), and every later job at once: for exiting without waiting
 * for a batch. */
void nm_writer_interrupt(nm_writer *writer);

/* Waits for a running job to finish, stops the thread and closes the store.
 * Accepts NULL; clears *writer. */
void nm_writer_destroy(nm_writer **writer);

#endif

/*
 * nm_worker: newsmill-worker's engine: take articles from the queue, extract,
 * persist in batched transactions, acknowledge.
 *
 * One reactor (zmq_poll) on one thread: the nm_consumer socket brings
 * deliveries; each is decoded, validated and extracted at once (one
 * nm_extractor per process, loaded at start) and its result is held; held
 * results are handed to the writer thread (nm_writer, which owns the
 * nm_store) as one transaction when --batch of them are held or the oldest
 * has waited --flush-ms, and the reactor goes on extracting while it
 * writes; only after COMMIT are their leases settled with done. The
 * consumer keeps the queue's credit topped up to --credit, so at most that
 * many articles are ever held in memory.
 *
 * Failures:
 *   - bad input (no article, empty body, invalid UTF-8, too large, HTML that
 *     does not parse): fail with the reason, retryable = false (the queue
 *     dead-letters it); unexpected extraction errors: retryable = true. The
 *     worker goes on either way.
 *   - database busy/locked (another worker holds the write lock past
 *     --busy-timeout, kept short): counted in worker_db_retries_total; the
 *     batch is retried a moment later with everything held since.
 *   - disk full (or the --db-max-size quota), I/O errors, and any error at
 *     BEGIN or COMMIT: state "disk-full"; held articles are kept (no new
 *     credit is given, as nothing is settled), one log line per retry, the
 *     batch retried every --retry-ms; nothing is failed. Leases of held
 *     articles are extended while held.
 *   - any other error while writing one article: the batch is written one
 *     article at a time so that one bad article cannot block the others; an
 *     article that still fails is reported with fail (retryable).
 *
 * Stopping: the first stop request (SIGTERM/SIGINT in main) drains: no more
 * credit, what is held is committed and settled, deliveries already on the
 * way are taken too, then nm_worker_run returns. A second request returns at
 * once (unsettled leases expire at the queue and are redelivered).
 *
 * Stats every second (role "worker"), names fixed for the collector: see
 * nm_worker.c.
 */
#ifndef NM_WORKER_H
#define NM_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "nm_error.h"

typedef struct nm_worker_config {
    const char *queue_endpoint; /* queue back endpoint, or a list to fail over along */
    int64_t failover_ms;        /* a list: silence before the next (0: 5 s) */
    const char *stats_endpoint; /* collector stats endpoint; NULL or "": no stats */
    const char *db_path;        /* results database (created if missing) */
    const char *name;           /* instance name; NULL or "": HOST:PID */
    const char *data_dir;       /* extraction data; NULL: $NEWSMILL_DATA / nm_default_data_dir() */
    uint32_t credit;            /* most articles held at once */
    uint32_t batch;             /* most articles per transaction */
    int64_t flush_ms;           /* longest an article waits for its transaction */
    int64_t retry_ms;           /* disk-full retry interval */
    int64_t drain_timeout_ms;   /* longest a drain may take */
    int64_t db_max_bytes;       /* 0 or a quota that behaves like a full disk */
    int64_t busy_timeout_ms;    /* wait for another writer's lock before going back to work */
    bool sync_normal;           /* synchronous=NORMAL instead of FULL */
    const char *results_dir;    /* NULL or "": one file, db_path; else time partitions here
                                 * (nm_partition.h) */
    int64_t partition_ms;       /* period of a partition; 0: a day */
    int64_t partition_grace_ms; /* the previous period stays writable; 0: 15 min */
    bool partition_shared;      /* one file per period for the host's workers, not one each */
    int64_t retention_ms;       /* 0: keep; else prune closed partitions older than this */
    const struct nm_curve *curve; /* CURVE to the queue and the collector (nm_curve.h); NULL:
                                     plain. Borrowed: must outlive the worker */
} nm_worker_config;

/* Exit states of nm_worker_run. */
typedef enum nm_worker_exit {
    NM_WORKER_DRAINED = 0,   /* stopped on request; everything held was committed and settled */
    NM_WORKER_LEFT_OVER = 1, /* drain timed out with articles uncommitted (they will redeliver) */
    NM_WORKER_ABORTED = 2,   /* second stop request: returned at once */
} nm_worker_exit;

typedef struct nm_worker nm_worker;

/* Loads the extractor, opens (creating or migrating) the results database,
 * connects to the queue and the collector. Returns NULL with err naming what
 * failed (e.g. missing extraction data). Caller owns the result. */
nm_worker *nm_worker_new(const nm_worker_config *cfg, nm_error *err);

/* Runs the reactor until *stop_requests becomes 1 and the drain ends (or 2:
 * at once). stop_requests is written by signal handlers (count of SIGTERM /
 * SIGINT received). Returns the exit state, or -1 with err when the reactor
 * itself failed (socket error). */
int nm_worker_run(nm_worker *worker, volatile sig_atomic_t *stop_requests, nm_error *err);

/* Closes everything; accepts NULL; clears *worker. */
void nm_worker_destroy(nm_worker **worker);

#endif

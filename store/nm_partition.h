/*
 * nm_partition: the results as one SQLite file per period of ingestion
 * time (time partitions), written through the same begin / put / commit as
 * one nm_store, and the names, windows and retention of those files.
 *
 * FILES. A partition is a results database (the ordinary schema, nothing
 * added) named for the window of ingestion time it holds:
 *
 *     results-20261207T000000Z-1d-w1.db
 *             |                |  '- the writer's slot (absent when the
 *             |                |     host's workers share one file per period)
 *             |                '- the period: Ns, Nm, Nh or Nd
 *             '- the period's start, UTC; periods are aligned on multiples
 *                of their length since the epoch (a day starts at midnight UTC)
 *
 * Every article in it has start <= ingested_unix_ms < start + period, so a
 * reader can skip a file by its name alone. A slot is the lowest wN whose
 * lock file (.slot-wN.lock in the directory) no running writer holds: a
 * restarted worker takes the slot it had and finds its files; two workers of
 * a host never share a slot.
 *
 * WRITING. Each job (nm_partitions_begin) goes to the partition of its
 * ingestion time. The newest period's file is the current one; the previous
 * one stays open for grace_ms after its end (late commits); when the clock
 * shows a time before the current period (a clock set back, a job older than
 * the grace) the job goes to the current partition with its ingestion time
 * raised to the period's start, so nothing is lost and the names stay true.
 * A writer holds a shared flock(2) on every partition file it has open, so
 * nm_partition_prune never removes one being written.
 *
 * REPLACING ACROSS PARTITIONS. An article id stored again must replace the
 * earlier row wherever it is. Each slot keeps an id index, ids-wN.db in the
 * directory (not a results database: the read side never opens it): for
 * every stored article, a 64-bit hash of its id and the partition file it
 * went to. nm_partitions_put looks the id up in every slot's index (a few
 * B-tree probes), checks each partition named there for the id and its
 * revision (a newer revision there makes this put NM_STORE_STALE), and after
 * the new row is committed removes the older rows (nm_store_remove). Order:
 * index entry committed first, then the article, then the removals, so a
 * crash leaves at worst a stale index entry (harmless: the partition is
 * checked) or, between the last two, the id in two files until it is put
 * again (readers take the newest file's row for `article`).
 *
 * FAILURES. A partition that is corrupt or of a newer schema is never
 * written: begin fails with NM_ERR_IO naming the file and the reason (a
 * transient class: the worker holds its articles and retries until the
 * operator moves the file away). Creating a partition on a full disk fails
 * like any write to a full disk (NM_ERR_DISK_FULL or NM_ERR_IO): retry later.
 *
 * One nm_partitions per thread, like nm_store (nm_partitions_interrupt
 * excepted).
 */
#ifndef NM_PARTITION_H
#define NM_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_article.h"
#include "nm_store.h"

/* Where results go when no path is given: a worker writes time partitions
 * in NM_RESULTS_DIR_DEFAULT (--db FILE: one file instead); a reader reads
 * that directory when it exists, else the one file NM_RESULTS_DB_DEFAULT
 * (what a worker given --db ./var/results.db writes, as scripts/fleet
 * does). Relative to the working directory. */
#define NM_RESULTS_DIR_DEFAULT "./var/results"
#define NM_RESULTS_DB_DEFAULT "./var/results.db"

/* ---- names -------------------------------------------------------------- */

/* What a partition file's name says. */
typedef struct nm_partition_name {
    int64_t start_ms;  /* window [start_ms, start_ms + period_ms) of ingestion time */
    int64_t period_ms;
    char owner[16];    /* "w1", or "" for a file shared by the host's workers */
} nm_partition_name;

/* Parses a file name (a path's last component is used). False when it is not
 * a partition name (results.db, anything else). */
bool nm_partition_parse(const char *path, nm_partition_name *out);

/* Writes the file name (no directory) of a partition into buf. False when it
 * does not fit. */
bool nm_partition_format(char *buf, size_t size, const nm_partition_name *name);

/* The start of the period of length period_ms holding t. */
int64_t nm_partition_start(int64_t t_ms, int64_t period_ms);

/* Shortest and longest period accepted. */
#define NM_PARTITION_MIN_PERIOD_MS 1000
#define NM_PARTITION_MAX_PERIOD_MS (366LL * 86400000)

/* ---- writing ------------------------------------------------------------ */

typedef struct nm_partitions nm_partitions;

typedef struct nm_partition_options {
    const char *dir;        /* the partitions' directory (created if missing) */
    int64_t period_ms;      /* 0 = one day */
    int64_t grace_ms;       /* the previous period stays writable this long after its end;
                             * 0 = 15 minutes (capped at the period) */
    bool shared;            /* one file per period for every writer of the directory,
                             * instead of one per writer (slot) per period */
    int64_t retention_ms;   /* 0 = keep all; else prune closed partitions older than this
                             * (their end before now - retention), hourly and at each new period */
    int64_t cache_kib;      /* SQLite page cache per open partition; 0 = 8192 */
    nm_store_options store; /* for every partition file opened */
} nm_partition_options;

/* Opens the directory for writing: takes a slot, reads the slot's newest
 * partition (to find the current period after a restart, also with the
 * clock set back). Partition files are opened by the first begin. NULL with
 * err when the directory cannot be made or locked. Caller owns. */
nm_partitions *nm_partitions_open_dir(const nm_partition_options *opts, nm_error *err);

/* One file, as nm_store: every job goes to store (owned from now on). */
nm_partitions *nm_partitions_wrap(nm_store *store);

/* Rolls back, closes every file, frees the slot. Accepts NULL; clears *p. */
void nm_partitions_close(nm_partitions **p);

/* The slot ("w1", ...), or "" for a wrapped store. */
const char *nm_partitions_slot(const nm_partitions *p);

/* Starts the write transaction of a job ingested at ingested_unix_ms: routes
 * it (see WRITING), creating the partition when new. Returns 0 or -1 with
 * err (as nm_store_begin and nm_store_open). */
int nm_partitions_begin(nm_partitions *p, int64_t ingested_unix_ms, nm_error *err);

/* As nm_store_put, into the job's partition, replacing the id in any other
 * partition (see REPLACING). The ingestion time is the job's (raised to the
 * partition's start when routed there). */
int nm_partitions_put(nm_partitions *p, const nm_extract_result *result, int64_t revision,
                      nm_store_put_outcome *outcome, nm_error *err);

/* Commits the job (see REPLACING for the order). -1 with err as
 * nm_store_commit: nothing of the job is stored. A failure to remove an
 * older row elsewhere is logged, not returned (the new row is stored). */
int nm_partitions_commit(nm_partitions *p, nm_error *err);

void nm_partitions_rollback(nm_partitions *p);

/* As nm_store_interrupt: the one call from another thread. */
void nm_partitions_interrupt(nm_partitions *p);

/* The path of the partition the open (or last) job went to; "" before. */
const char *nm_partitions_current_path(const nm_partitions *p);

/* ---- retention ---------------------------------------------------------- */

/* Removes every partition file of dir (and its -wal/-shm, and its rows of
 * the id indexes) whose window ended before cutoff_ms and that no writer has
 * open (a writer holds a shared flock on it), logging each one. Files that
 * are not partition names are never touched. Calls report(ctx, path, bytes)
 * for each removed (may be NULL). Returns the number removed, or -1 with err
 * when dir cannot be read. */
int nm_partition_prune(const char *dir, int64_t cutoff_ms,
                       void (*report)(void *ctx, const char *path, int64_t bytes), void *ctx,
                       nm_error *err);

#endif

/*
 * nm_spool: the queue's durable store, one SQLite file.
 *
 * The format is described once, in queue/embed/spool_schema.sql (with the
 * rule for changing it). WAL mode, a busy timeout, every statement prepared
 * once and reused. Writes happen inside transactions the caller opens with
 * nm_spool_begin() and ends with nm_spool_commit() or nm_spool_rollback();
 * the queue groups many requests into one transaction (group commit).
 *
 * Durability (what a committed transaction survives):
 *   NM_SPOOL_FULL    durable transactions run with synchronous=FULL: the WAL
 *                    is fsync'ed before commit returns, so they survive power
 *                    loss.
 *   NM_SPOOL_NORMAL  synchronous=NORMAL in WAL: they survive a crash of the
 *                    process; the last commits may be lost on power loss (the
 *                    file is never corrupted).
 * Non-durable transactions (begin with durable=false: deletes of settled
 * articles, retry bookkeeping) always run with synchronous=NORMAL: losing one
 * only redelivers an article, never loses one. A durable commit fsyncs every
 * earlier WAL frame too, so order is kept.
 *
 * The file is opened in exclusive locking mode: while a queue runs, no other
 * process can open the spool (a second queue refuses to start instead of
 * delivering the same articles twice); inspect it through the queue's
 * requests or after it stopped.
 *
 * A failed write (disk full, read-only, I/O error) returns -1 with
 * NM_ERR_DISK_FULL or NM_ERR_IO; the caller rolls back and the file stays
 * consistent (SQLite's guarantee). Not thread-safe.
 */
#ifndef NM_SPOOL_H
#define NM_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_qstore.h"

/* The spool's SQLite page cache, at most. */
#define NM_SPOOL_CACHE_BYTES ((int64_t)16 << 20)

typedef enum nm_spool_durability {
    NM_SPOOL_FULL = 0,
    NM_SPOOL_NORMAL = 1,
} nm_spool_durability;

typedef struct nm_spool nm_spool;

/* One article row as read for delivery (the store interface's row). The blob
 * is copied into a buffer the row owns and reuses: free it with
 * nm_spool_row_clear(). */
typedef nm_qstore_row nm_spool_row;

/* Opens (creating if missing, directory included) the spool at path, checks
 * or creates the schema, and prepares every statement. Returns NULL with err
 * on failure (unwritable path, not a spool, newer schema). Caller owns. */
nm_spool *nm_spool_open(const char *path, nm_spool_durability durability, nm_error *err);

/* Closes the file; accepts NULL; clears *spool. */
void nm_spool_close(nm_spool **spool);

/* Starts a write transaction. durable: see the header comment. */
int nm_spool_begin(nm_spool *spool, bool durable, nm_error *err);
int nm_spool_commit(nm_spool *spool, nm_error *err);
/* Rolls back the open transaction, if any. Never fails visibly. */
void nm_spool_rollback(nm_spool *spool);

/* Inserts an article, or, when id is already in the spool, replaces its body
 * and priority (the newer body wins) keeping its place and history (its
 * attempts and back-off start again: they were the old body's). Either way
 * the body gets the next revision of the spool's counter (*rev, may be
 * NULL), saved by nm_spool_commit. *inserted says which. In a transaction. */
int nm_spool_put(nm_spool *spool, const char *id, int32_t priority, int64_t now_unix_ms,
                 const uint8_t *article, size_t len, bool *inserted, int64_t *rev,
                 nm_error *err);

/* Deletes the row seq if its rev is still rev (a resubmit in between keeps
 * the row for redelivery). *removed says whether it was deleted. */
int nm_spool_remove(nm_spool *spool, int64_t seq, int64_t rev, bool *removed, nm_error *err);

/* One failure of row seq at revision rev: appends rec to its history, sets
 * attempts and not_before (retry back-off). A row gone or holding a newer
 * body is left alone: 0 with *applied (may be NULL) false. */
int nm_spool_retry(nm_spool *spool, int64_t seq, int64_t rev, uint32_t attempts,
                   int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                   nm_error *err);

/* Last failure of row seq at revision rev: moves it to the dead letters with
 * its history plus rec (and its revision). On success *letter (may be NULL)
 * gets the dead letter (caller owns, newsmill__dead_letter__free_unpacked).
 * A row gone or holding a newer body (a failure of an old body never buries
 * a newer one) is 0 with *letter NULL. */
int nm_spool_bury(nm_spool *spool, int64_t seq, int64_t rev, uint32_t attempts,
                  const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
                  Newsmill__DeadLetter **letter, nm_error *err);

/* Calls fn for up to limit rows ready at now (not_before <= now), in delivery
 * order (priority desc, seq). fn returns nothing; *n_seen gets the number of
 * rows visited. */
int nm_spool_scan_ready(nm_spool *spool, int64_t now_unix_ms, size_t limit,
                        void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen,
                        nm_error *err);

/* Reads row seq into *row. Returns 0 and true in *found, or 0 and false when
 * the row is gone, or -1 on a read error. */
int nm_spool_fetch(nm_spool *spool, int64_t seq, nm_spool_row *row, bool *found, nm_error *err);
void nm_spool_row_clear(nm_spool_row *row);

/* Calls fn with (seq, enqueued_unix_ms) of the oldest rows by arrival, up to
 * limit; fn returns true to stop. */
int nm_spool_scan_oldest(nm_spool *spool, size_t limit,
                         bool (*fn)(void *arg, int64_t seq, int64_t enqueued_unix_ms), void *arg,
                         nm_error *err);

/* Counts (full scans: call at startup, keep the numbers in memory). */
int nm_spool_count_articles(nm_spool *spool, int64_t *n, nm_error *err);
int nm_spool_count_dead(nm_spool *spool, int64_t *n, nm_error *err);

/* Bytes used by live pages (page_count - freelist_count) * page_size, plus
 * the WAL file. */
int nm_spool_bytes(nm_spool *spool, int64_t *bytes, nm_error *err);

/* When at least half of the file is free pages (a burst of backlog was
 * drained), rebuilds it from the live rows (VACUUM) so the file does not stay
 * at its peak size. Costs time in proportion to the live rows: call it when
 * few are left. Outside a transaction. *freed gets the pages released. */
int nm_spool_compact(nm_spool *spool, int64_t *freed, nm_error *err);

/* Dead letters, newest first: at most limit, only id when id is non-empty.
 * *letters is a malloc'd array of unpacked letters (caller frees with
 * nm_spool_letters_free). */
int nm_spool_dead_list(nm_spool *spool, uint32_t limit, const char *id,
                       Newsmill__DeadLetter ***letters, size_t *n, nm_error *err);
void nm_spool_letters_free(Newsmill__DeadLetter **letters, size_t n);

/* Moves dead letter id back to the articles (attempts 0, history kept, at
 * the back of the queue), with the revision it died with: if a newer body of
 * the id was stored in the results since, this one stays older there.
 * *found says whether id was a dead letter. If the id is waiting already
 * (resubmitted since: a newer body), that copy is kept. In a transaction. */
int nm_spool_unbury(nm_spool *spool, const char *id, int64_t now_unix_ms, bool *found,
                    bool *inserted, nm_error *err);

/* Ids of every dead letter (for "requeue all"); malloc'd array of malloc'd
 * strings, free each and the array. */
int nm_spool_dead_ids(nm_spool *spool, char ***ids, size_t *n, nm_error *err);

#endif

/*
 * nm_store: the results database (SQLite), where workers persist what
 * extraction found and where `newsmill query` reads it.
 *
 * One file per host, shared by every worker of the host: WAL journal (readers
 * never block the writer), a busy timeout so that writers queue for the lock,
 * and one transaction per batch of articles. The schema is
 * store/embed/results_schema.sql (documented there, with the rule for
 * changing it); opening a database creates it when new and migrates it
 * forward (results_migrations.sql) when older, in one transaction, so several
 * processes may open the same file at once.
 *
 * Guarantees:
 *   - Idempotent: putting an article id that is already stored replaces the
 *     article and every one of its child rows (sentences, mentions, ...) in
 *     the same transaction. An id is never stored twice.
 *   - Never older over newer: each article is stored with its revision (the
 *     queue's, Delivery.revision: higher for every newer body of an id, see
 *     the spool schema). A put whose revision is lower than the stored one
 *     is dropped (NM_STORE_STALE) and changes nothing: a worker that held an
 *     old body past its lease cannot overwrite the newer body another worker
 *     stored meanwhile. The same revision again (a redelivery) replaces, as
 *     does revision 0, "no revision known" (results from before revisions,
 *     tools, tests): it replaces whatever is stored, as every put did before.
 *   - All or nothing per batch: nm_store_commit() either makes every article
 *     put since nm_store_begin() durable (synchronous=FULL by default) or none.
 *   - Statements are prepared once, at open, and reused.
 *   - Errors come back classified so that callers can decide: NM_ERR_BUSY
 *     (another writer held the lock past the busy timeout: retry),
 *     NM_ERR_DISK_FULL (no space, or the configured size limit: retry later,
 *     the batch is not lost), NM_ERR_IO (the disk failed: retry later),
 *     NM_ERR_VERSION (schema newer than this build), NM_ERR_DB (anything else).
 *     NM_ERR_INVALID (a result that breaks the article invariants) is found
 *     before anything is written: the transaction stays open and usable, and
 *     the caller may skip that article and go on (the worker's writer does).
 *     After any other failed put, or a failed commit, the transaction is
 *     rolled back; call nm_store_begin() and put the batch again.
 *
 * SQL functions registered on every connection nm_store opens (and by
 * nm_store_register_functions() on any other):
 *   hamming(a, b)              number of differing bits of two 64-bit integers
 *   minhash_similarity(a, b)   estimated Jaccard similarity of two minhash blobs
 *   nm_unzstd, nm_summary, nm_sentences_json, nm_mentions_json,
 *   nm_keyphrases_json, nm_keyphrase_score
 *                              what the views articles (body, summary,
 *                              sentences_json, keyphrases_json), sentences,
 *                              mentions and keyphrases compute from the
 *                              packed columns of the tables (results_schema.sql)
 * The sqlite3 shell has them with the extension newsmill_results.so loaded
 * (store/ext/, docs/queries.md); without, the tables (article_rows, ...)
 * and PRAGMA integrity_check, VACUUM work, the views and snippet() do not.
 *
 * Not thread-safe: one nm_store per thread.
 */
#ifndef NM_STORE_H
#define NM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nm_error.h"
#include "nm_article.h"

/* The schema version this build creates and reads (PRAGMA user_version). */
#define NM_STORE_SCHEMA_VERSION 5

typedef struct nm_store nm_store;

typedef struct nm_store_options {
    bool read_only;          /* queries only; the database must exist at the current version */
    int busy_timeout_ms;     /* wait this long for another writer's lock; 0 = 5000 */
    bool sync_normal;        /* synchronous=NORMAL (survives a process crash, not a power
                              * cut); default FULL (every commit fsynced) */
    int64_t max_bytes;       /* 0 = unlimited; else a quota on the file and its WAL, and a
                              * test hook: the file may use 3/4 of it (growing past fails like
                              * a full disk, NM_ERR_DISK_FULL), the WAL 1/4 (checkpointed at
                              * that size and truncated to it; a transaction that would start
                              * with the WAL over it while a reader's old snapshot blocks the
                              * checkpoint fails with NM_ERR_DISK_FULL). The WAL may pass its
                              * share by at most two transactions' pages. Without a quota the
                              * WAL is truncated to 64 MiB after checkpoints. */
} nm_store_options;

/* Opens (creating or migrating when writable) the database at path. opts may
 * be NULL for defaults. Returns NULL with err on failure: NM_ERR_NOT_FOUND
 * (read-only and no such file), NM_ERR_VERSION (newer schema, or read-only on
 * an older one), NM_ERR_BUSY, NM_ERR_DISK_FULL, NM_ERR_DB. Caller owns. */
nm_store *nm_store_open(const char *path, const nm_store_options *opts, nm_error *err);

/* Rolls back an open transaction, finalizes statements, closes; accepts
 * NULL; clears *store. */
void nm_store_close(nm_store **store);

/* The connection, for queries (functions above are registered). Owned by the
 * store: do not close it, do not leave a transaction open on it. */
sqlite3 *nm_store_db(nm_store *store);

/* The schema version of the open database. */
int nm_store_schema_version(nm_store *store);

/* Starts a write transaction (BEGIN IMMEDIATE: takes the write lock now, so
 * the batch cannot fail half-way for lack of it). Returns 0 or -1 with err
 * (NM_ERR_BUSY when the lock stayed taken for the busy timeout). */
int nm_store_begin(nm_store *store, nm_error *err);

/* What nm_store_put did with an article. */
typedef enum nm_store_put_outcome {
    NM_STORE_STORED = 0, /* stored, replacing the id's older or equal revision if any */
    NM_STORE_STALE,      /* not stored: the id is stored with a newer revision */
} nm_store_put_outcome;

/* Adds one extracted article at revision (0: none known, see above) to the
 * open transaction, replacing any stored article with the same id (and all
 * its child rows) unless that one has a newer revision. ingested_unix_ms is
 * stored as the ingestion time. The result is only read. Returns 0 with
 * *outcome (may be NULL), or -1 with err; on -1 the transaction has been
 * rolled back, except for NM_ERR_INVALID (an unusable result: nothing
 * written, the transaction stays usable). */
int nm_store_put(nm_store *store, const nm_extract_result *result, int64_t revision,
                 int64_t ingested_unix_ms, nm_store_put_outcome *outcome, nm_error *err);

/* What nm_store_remove did. */
typedef enum nm_store_remove_outcome {
    NM_STORE_ABSENT = 0, /* no article with that id */
    NM_STORE_REMOVED,    /* removed, with every child row */
    NM_STORE_KEPT_NEWER, /* kept: it has a newer revision than the one given */
} nm_store_remove_outcome;

/* Removes article id (and its child rows) in the open transaction, unless
 * it is stored with a revision newer than revision (0: remove whatever is
 * stored), the rule of nm_store_put. For an id stored again in another file
 * (time partitions). Returns 0 with *outcome, or -1 with err and the
 * transaction rolled back. */
int nm_store_remove(nm_store *store, const char *id, int64_t revision,
                    nm_store_remove_outcome *outcome, nm_error *err);

/* Looks id up: 1 with *revision when stored, 0 when not, -1 with err. In or
 * out of a transaction. */
int nm_store_find_revision(nm_store *store, const char *id, int64_t *revision, nm_error *err);

/* Commits the open transaction. Returns 0, or -1 with err; on -1 the
 * transaction has been rolled back and nothing of it is stored. */
int nm_store_commit(nm_store *store, nm_error *err);

/* Abandons the open transaction (no-op when none). */
void nm_store_rollback(nm_store *store);

/* Makes the statement running on the store's connection stop with an error
 * (its transaction is then rolled back by the failing call). The one call
 * that may come from another thread than the store's. */
void nm_store_interrupt(nm_store *store);

/* begin + put each (revision 0: each replaces what is stored) + commit.
 * Returns 0, or -1 with err and nothing stored. */
int nm_store_put_batch(nm_store *store, const nm_extract_result *const *results, size_t n,
                       int64_t ingested_unix_ms, nm_error *err);

/* Number of articles stored (SELECT count(*) FROM articles). -1 with err on
 * failure. */
int64_t nm_store_count_articles(nm_store *store, nm_error *err);

/* Registers hamming(), minhash_similarity() and the functions of the
 * packed columns on a connection opened elsewhere. Returns 0 or -1 with err. */
int nm_store_register_functions(sqlite3 *db, nm_error *err);

/* For a process whose threads each use their own connections, one thread
 * at a time (newsmill serve's readers): turns off SQLite's memory
 * statistics, whose global mutex every allocation of every thread takes,
 * and its per-connection mutexes (SQLITE_CONFIG_MULTITHREAD). Call it
 * before the process opens any database; later it changes nothing and
 * returns -1 with err. */
int nm_store_configure_threads(nm_error *err);

/* True for the classes that mean "the database cannot be written now"
 * (NM_ERR_BUSY, NM_ERR_DISK_FULL, NM_ERR_IO) rather than "this article":
 * retry later with the same articles. */
bool nm_store_error_is_transient(nm_errcode code);

/* Maps an SQLite result code to newsmill's error class (see above). */
nm_errcode nm_store_errcode(int sqlite_rc);

#endif

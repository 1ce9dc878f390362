#include "nm_spool.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_fs.h"
#include "nm_log.h"
#include "nm_time.h"

extern const unsigned char nm_embed_spool_schema_sql[];

/* The version queue/embed/spool_schema.sql describes. */
#define NM_SPOOL_SCHEMA_VERSION 2

/* Migration steps: MIGRATIONS[N] takes a version N database to N+1 (run in
 * one transaction with the setting of user_version; append only). The
 * revision counter's first value is inserted by the code (start_revision). */
static const char *const MIGRATIONS[NM_SPOOL_SCHEMA_VERSION] = {
    [1] = "ALTER TABLE dead ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
          "CREATE TABLE revision (one INTEGER PRIMARY KEY CHECK (one = 1),"
          " last INTEGER NOT NULL);",
};

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
    ST_INSERT, ST_REPLACE, ST_REMOVE, ST_GET_HISTORY, ST_RETRY, ST_BURY, ST_DELETE_SEQ,
    ST_SCAN_READY, ST_FETCH, ST_OLDEST, ST_COUNT_ARTICLES, ST_COUNT_DEAD,
    ST_PAGE_COUNT, ST_FREELIST, ST_PAGE_SIZE, ST_DEAD_LIST, ST_DEAD_ONE, ST_DEAD_GET,
    ST_UNBURY_INSERT, ST_DEAD_DELETE, ST_DEAD_IDS, ST_LAST_REV, ST_SAVE_REV, ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO articles (id, priority, enqueued_unix_ms, article, rev) "
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
    /* a new body: its failures so far were another body's */
    [ST_REPLACE] = "UPDATE articles SET article = ?2, priority = ?3, rev = ?4, attempts = 0, "
                   "not_before_unix_ms = 0 WHERE id = ?1",
    [ST_REMOVE] = "DELETE FROM articles WHERE seq = ?1 AND rev = ?2",
    [ST_GET_HISTORY] = "SELECT failures, article FROM articles WHERE seq = ?1 AND rev = ?2",
    [ST_RETRY] = "UPDATE articles SET attempts = ?2, not_before_unix_ms = ?3, failures = ?4 "
                 "WHERE seq = ?1 AND rev = ?5",
    [ST_BURY] = "INSERT OR REPLACE INTO dead (id, dead_unix_ms, article, letter, rev) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DELETE_SEQ] = "DELETE FROM articles WHERE seq = ?1 AND rev = ?2",
    [ST_SCAN_READY] = "SELECT seq FROM articles WHERE not_before_unix_ms <= ?1 "
                      "ORDER BY priority DESC, seq LIMIT ?2",
    [ST_FETCH] = "SELECT rev, enqueued_unix_ms, attempts, article FROM articles WHERE seq = ?1",
    [ST_OLDEST] = "SELECT seq, enqueued_unix_ms FROM articles ORDER BY seq LIMIT ?1",
    [ST_COUNT_ARTICLES] = "SELECT count(*) FROM articles",
    [ST_COUNT_DEAD] = "SELECT count(*) FROM dead",
    [ST_PAGE_COUNT] = "PRAGMA page_count",
    [ST_FREELIST] = "PRAGMA freelist_count",
    [ST_PAGE_SIZE] = "PRAGMA page_size",
    [ST_DEAD_LIST] = "SELECT letter FROM dead ORDER BY dead_unix_ms DESC LIMIT ?1",
    [ST_DEAD_ONE] = "SELECT letter FROM dead WHERE id = ?1",
    [ST_DEAD_GET] = "SELECT article, letter, rev FROM dead WHERE id = ?1",
    [ST_UNBURY_INSERT] = "INSERT INTO articles (id, priority, enqueued_unix_ms, article, failures, "
                         "rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
    [ST_DEAD_DELETE] = "DELETE FROM dead WHERE id = ?1",
    [ST_DEAD_IDS] = "SELECT id FROM dead",
    [ST_LAST_REV] = "SELECT last FROM revision WHERE one = 1",
    [ST_SAVE_REV] = "UPDATE revision SET last = ?1 WHERE one = 1",
};

struct nm_spool {
    sqlite3 *db;
    char path[512];
    nm_spool_durability durability;
    sqlite3_stmt *st[ST_COUNT];
    bool in_txn;
    bool sync_full; /* the connection's synchronous level is FULL (else NORMAL) */
    int64_t last_rev; /* the last revision handed out (schema: REVISIONS) */
    bool rev_dirty;   /* last_rev moved in the open transaction: saved at commit */
};

/* Maps a SQLite failure to an nm_error with the statement's context. */
static int db_error(nm_spool *s, int rc, nm_error *err, const char *what)
{
    int primary = rc & 0xff;
    nm_errcode code = NM_ERR_DB;
    if (primary == SQLITE_FULL)
        code = NM_ERR_DISK_FULL;
    else if (primary == SQLITE_IOERR || primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN ||
             primary == SQLITE_PERM)
        code = NM_ERR_IO;
    else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        code = NM_ERR_BUSY;
    return nm_error_set(err, code, "%s: %s", what, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* Runs a statement that returns no rows, resetting it after. */
static int run(nm_spool *s, int which, nm_error *err)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_error(s, rc, err, statement_sql[which]);
    return 0;
}

/* Runs a statement that returns one integer. */
static int run_int(nm_spool *s, int which, int64_t *out, nm_error *err)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return db_error(s, rc, err, statement_sql[which]);
    return 0;
}

static int exec(nm_spool *s, const char *sql, nm_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        nm_error_set(err, rc == SQLITE_FULL ? NM_ERR_DISK_FULL : NM_ERR_DB, "%s: %s", sql,
                     msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Creates the revision counter of a new (or newly migrated) spool at its
 * creation time in microseconds, or above every revision already in the
 * file. The one place the spool trusts the clock: see REVISIONS in the
 * schema for why that is safe. */
static int start_revision(nm_spool *s, nm_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO revision (one, last) SELECT 1, max(%lld,"
             " (SELECT coalesce(max(rev), 0) FROM articles),"
             " (SELECT coalesce(max(rev), 0) FROM dead))",
             (long long)(nm_time_unix_ms() * 1000));
    return exec(s, sql, err);
}

/* Creates the schema in a new file, migrates an older one forward (one
 * transaction), or checks the version of a current one. */
static int ensure_schema(nm_spool *s, nm_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return db_error(s, sqlite3_errcode(s->db), err, "reading schema version");
    int64_t version = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (version > NM_SPOOL_SCHEMA_VERSION)
        return nm_error_set(err, NM_ERR_VERSION,
                            "spool schema version %lld is newer than this program's (%d)",
                            (long long)version, NM_SPOOL_SCHEMA_VERSION);
    if (version == NM_SPOOL_SCHEMA_VERSION)
        return 0;
    if (exec(s, "BEGIN IMMEDIATE", err) != 0)
        return -1;
    int rc = 0;
    if (version == 0) { /* a new file (or an empty one) */
        rc = exec(s, (const char *)nm_embed_spool_schema_sql, err);
        if (rc == 0)
            rc = start_revision(s, err);
    } else {
        for (int64_t v = version; rc == 0 && v < NM_SPOOL_SCHEMA_VERSION; v++) {
            rc = exec(s, MIGRATIONS[v], err);
            if (rc == 0 && v + 1 == 2) /* the counter version 2 added */
                rc = start_revision(s, err);
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", NM_SPOOL_SCHEMA_VERSION);
    if (rc != 0 || exec(s, sql, err) != 0 || exec(s, "COMMIT", err) != 0) {
        exec(s, "ROLLBACK", NULL);
        return nm_error_prefix(err, "%s spool schema (version %lld found)",
                               version ? "migrating" : "creating", (long long)version);
    }
    if (version)
        nm_log_info("spool migrated path=%s from_version=%lld to_version=%d", s->path,
                    (long long)version, NM_SPOOL_SCHEMA_VERSION);
    return 0;
}

nm_spool *nm_spool_open(const char *path, nm_spool_durability durability, nm_error *err)
{
    if (nm_fs_mkdir_parents(path, 0755, err) != 0)
        return NULL;
    /* SQLite's "unable to open database file" says not why: check that the
     * directory takes new files (the journal and WAL live there too). */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (access(dir, W_OK | X_OK) != 0) {
        nm_error_set(err, NM_ERR_IO, "opening spool %s: directory %s: %s", path, dir, strerror(errno));
        return NULL;
    }
    bool is_new = access(path, F_OK) != 0;
    nm_spool *s = nm_xcalloc(1, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->durability = durability;
    /* One thread uses the spool (the queue's loop): no connection mutex, and
     * no global one around every SQLite allocation for memory statistics
     * nobody reads (together 5% of the queue's CPU samples in `perf` during
     * bench-queue). The setting takes only before SQLite's first use in the
     * process, the spool's open; later it fails harmlessly (SQLITE_MISUSE). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        nm_error_set(err, NM_ERR_IO, "opening spool %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        nm_spool_close(&s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 1000); /* only a second queue on this file contends */
    char cache_size_sql[64];
    snprintf(cache_size_sql, sizeof cache_size_sql, "PRAGMA cache_size=-%lld",
             (long long)(NM_SPOOL_CACHE_BYTES / 1024));
    sqlite3_extended_result_codes(s->db, 1);
    /* Exclusive: one queue per spool (a second one cannot open it), and no
     * file lock calls or shared-memory index per transaction. */
    /* secure_delete off: Debian's SQLite zeroes every deleted row and freed
     * page by default (SQLITE_SECURE_DELETE), and every article here is
     * deleted once delivered: the zeroing was 21% of the queue's
     * instructions (callgrind, 5,000 articles of 2 KB through bench-queue:
     * 123 K -> 97 K per article). The rows it leaves in free pages are the
     * articles results.db keeps anyway; durability is the WAL's, unchanged. */
    if (exec(s, "PRAGMA locking_mode=EXCLUSIVE", err) != 0 ||
        exec(s, "PRAGMA journal_mode=WAL", err) != 0 ||
        exec(s, "PRAGMA journal_size_limit=67108864", err) != 0 ||
        exec(s, cache_size_sql, err) != 0 ||
        exec(s, "PRAGMA synchronous=FULL", err) != 0 ||
        exec(s, "PRAGMA secure_delete=OFF", err) != 0 || ensure_schema(s, err) != 0) {
        nm_error_prefix(err, "opening spool %s", path);
        nm_spool_close(&s);
        return NULL;
    }
    /* The new file's own directory entry: SQLite syncs only its journal's. */
    if (is_new && nm_fs_sync_parent(path, err) != 0) {
        nm_error_prefix(err, "creating spool %s", path);
        nm_spool_close(&s);
        return NULL;
    }
    s->sync_full = true;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            nm_error_set(err, NM_ERR_DB, "spool %s: preparing '%s': %s", path, statement_sql[i],
                         sqlite3_errmsg(s->db));
            nm_spool_close(&s);
            return NULL;
        }
    }
    if (run_int(s, ST_LAST_REV, &s->last_rev, err) != 0) {
        nm_error_prefix(err, "spool %s: reading the revision counter", path);
        nm_spool_close(&s);
        return NULL;
    }
    /* A power cut can take the last commits, the counter included, while a
     * results database kept the revisions they handed out: start again above
     * them, from the clock (REVISIONS in the schema says why that holds). */
    int64_t now_us = nm_time_unix_ms() * 1000;
    if (s->last_rev < now_us)
        s->last_rev = now_us;
    return s;
}

void nm_spool_close(nm_spool **spool)
{
    if (!spool || !*spool)
        return;
    nm_spool *s = *spool;
    if (s->in_txn)
        nm_spool_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    *spool = NULL;
}

int nm_spool_begin(nm_spool *s, bool durable, nm_error *err)
{
    /* Executed, never prepared: SQLite applies PRAGMA synchronous when the
     * statement is compiled, so a persistent prepared statement would set the
     * level once at open and then do nothing (acks went out unsynced). */
    bool want_full = durable && s->durability == NM_SPOOL_FULL;
    if (want_full != s->sync_full) {
        if (exec(s, want_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err) != 0)
            return -1;
        s->sync_full = want_full;
    }
    if (run(s, ST_BEGIN, err) != 0)
        return -1;
    s->in_txn = true;
    return 0;
}

int nm_spool_commit(nm_spool *s, nm_error *err)
{
    if (s->rev_dirty) { /* the counter commits with the rows that used it */
        sqlite3_bind_int64(s->st[ST_SAVE_REV], 1, s->last_rev);
        if (run(s, ST_SAVE_REV, err) != 0)
            return -1;
        s->rev_dirty = false;
    }
    if (run(s, ST_COMMIT, err) != 0)
        return -1;
    s->in_txn = false;
    return 0;
}

void nm_spool_rollback(nm_spool *s)
{
    if (sqlite3_get_autocommit(s->db) == 0)
        run(s, ST_ROLLBACK, NULL);
    s->in_txn = false;
    /* The revisions handed out since begin are gone with their rows; the
     * in-memory counter stays ahead (gaps are harmless, going back is not). */
    s->rev_dirty = false;
}

int nm_spool_put(nm_spool *s, const char *id, int32_t priority, int64_t now_unix_ms,
                 const uint8_t *article, size_t len, bool *inserted, int64_t *rev, nm_error *err)
{
    int64_t next = s->last_rev + 1;
    sqlite3_stmt *st = s->st[ST_INSERT];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, priority);
    sqlite3_bind_int64(st, 3, now_unix_ms);
    sqlite3_bind_blob64(st, 4, article, len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, next);
    if (run(s, ST_INSERT, err) != 0)
        return -1;
    *inserted = sqlite3_changes(s->db) > 0;
    if (!*inserted) {
        st = s->st[ST_REPLACE];
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 2, article, len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, priority);
        sqlite3_bind_int64(st, 4, next);
        if (run(s, ST_REPLACE, err) != 0)
            return -1;
    }
    s->last_rev = next;
    s->rev_dirty = true;
    if (rev)
        *rev = next;
    return 0;
}

int nm_spool_remove(nm_spool *s, int64_t seq, int64_t rev, bool *removed, nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_REMOVE];
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, rev);
    if (run(s, ST_REMOVE, err) != 0)
        return -1;
    *removed = sqlite3_changes(s->db) > 0;
    return 0;
}

/* Reads the history (a DeadLetter holding failures) and the article of row
 * seq at revision rev. *found false when the row is gone or holds another
 * body now. The caller frees what it gets. */
static int get_history(nm_spool *s, int64_t seq, int64_t rev, Newsmill__DeadLetter **history,
                       Newsmill__Article **article, bool *found, nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_GET_HISTORY];
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, rev);
    int rc = sqlite3_step(st);
    *history = NULL;
    if (article)
        *article = NULL;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(st, 0);
        if (h)
            *history = newsmill__dead_letter__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0), h);
        if (article)
            *article = newsmill__article__unpack(NULL, (size_t)sqlite3_column_bytes(st, 1),
                                                 sqlite3_column_blob(st, 1));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(s, rc, err, "reading failure history");
    return 0;
}

/* Packs history's failures plus rec into a new buffer (caller frees). */
static uint8_t *append_failure(const Newsmill__DeadLetter *history,
                               const Newsmill__FailureRecord *rec, Newsmill__DeadLetter *out,
                               size_t *len)
{
    size_t n_old = history ? history->n_failures : 0;
    Newsmill__FailureRecord **all = nm_xmalloc((n_old + 1) * sizeof *all);
    for (size_t i = 0; i < n_old; i++)
        all[i] = history->failures[i];
    all[n_old] = (Newsmill__FailureRecord *)rec;
    out->failures = all;
    out->n_failures = n_old + 1;
    *len = newsmill__dead_letter__get_packed_size(out);
    uint8_t *buf = nm_xmalloc(*len ? *len : 1);
    newsmill__dead_letter__pack(out, buf);
    free(all);
    out->failures = NULL;
    out->n_failures = 0;
    return buf;
}

int nm_spool_retry(nm_spool *s, int64_t seq, int64_t rev, uint32_t attempts,
                   int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                   nm_error *err)
{
    Newsmill__DeadLetter *history;
    bool found;
    if (applied)
        *applied = false;
    if (get_history(s, seq, rev, &history, NULL, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    Newsmill__DeadLetter out = NEWSMILL__DEAD_LETTER__INIT;
    size_t len;
    uint8_t *buf = append_failure(history, rec, &out, &len);
    if (history)
        newsmill__dead_letter__free_unpacked(history, NULL);
    sqlite3_stmt *st = s->st[ST_RETRY];
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, attempts);
    sqlite3_bind_int64(st, 3, not_before_unix_ms);
    sqlite3_bind_blob64(st, 4, buf, len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rev);
    int rc = run(s, ST_RETRY, err);
    free(buf);
    if (rc == 0 && applied)
        *applied = true;
    return rc;
}

int nm_spool_bury(nm_spool *s, int64_t seq, int64_t rev, uint32_t attempts,
                  const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
                  Newsmill__DeadLetter **letter, nm_error *err)
{
    if (letter)
        *letter = NULL;
    Newsmill__DeadLetter *history;
    Newsmill__Article *article;
    bool found;
    if (get_history(s, seq, rev, &history, &article, &found, err) != 0)
        return -1;
    if (!found)
        return 0;
    if (!article) {
        if (history)
            newsmill__dead_letter__free_unpacked(history, NULL);
        return nm_error_set(err, NM_ERR_INTERNAL, "spool row %lld holds an unreadable article",
                            (long long)seq);
    }
    Newsmill__DeadLetter out = NEWSMILL__DEAD_LETTER__INIT;
    out.id = article->id;
    out.source = article->source;
    out.url = article->url;
    out.attempts = attempts;
    out.dead_unix_ms = now_unix_ms;
    size_t len;
    uint8_t *buf = append_failure(history, rec, &out, &len);
    size_t alen = newsmill__article__get_packed_size(article);
    uint8_t *abuf = nm_xmalloc(alen ? alen : 1);
    newsmill__article__pack(article, abuf);
    sqlite3_stmt *st = s->st[ST_BURY];
    sqlite3_bind_text(st, 1, article->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_unix_ms);
    sqlite3_bind_blob64(st, 3, abuf, alen, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 4, buf, len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, rev);
    int rc = run(s, ST_BURY, err);
    if (rc == 0) {
        sqlite3_bind_int64(s->st[ST_DELETE_SEQ], 1, seq);
        sqlite3_bind_int64(s->st[ST_DELETE_SEQ], 2, rev);
        rc = run(s, ST_DELETE_SEQ, err);
    }
    if (rc == 0 && letter)
        *letter = newsmill__dead_letter__unpack(NULL, len, buf);
    free(buf);
    free(abuf);
    newsmill__article__free_unpacked(article, NULL);
    if (history)
        newsmill__dead_letter__free_unpacked(history, NULL);
    return rc;
}

int nm_spool_scan_ready(nm_spool *s, int64_t now_unix_ms, size_t limit,
                        void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen,
                        nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_SCAN_READY];
    sqlite3_bind_int64(st, 1, now_unix_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fn(arg, sqlite3_column_int64(st, 0));
        n++;
    }
    sqlite3_reset(st);
    *n_seen = n;
    if (rc != SQLITE_DONE)
        return db_error(s, rc, err, "choosing ready articles");
    return 0;
}

int nm_spool_fetch(nm_spool *s, int64_t seq, nm_spool_row *row, bool *found, nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_FETCH];
    sqlite3_bind_int64(st, 1, seq);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        row->seq = seq;
        row->rev = sqlite3_column_int64(st, 0);
        row->enqueued_unix_ms = sqlite3_column_int64(st, 1);
        row->attempts = (uint32_t)sqlite3_column_int64(st, 2);
        const void *blob = sqlite3_column_blob(st, 3);
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        if (len > row->article_cap) {
            free(row->article);
            row->article_cap = len + len / 2;
            row->article = nm_xmalloc(row->article_cap);
        }
        if (len)
            memcpy(row->article, blob, len);
        row->article_len = len;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(s, rc, err, "reading an article");
    return 0;
}

void nm_spool_row_clear(nm_spool_row *row)
{
    free(row->article);
    memset(row, 0, sizeof *row);
}

int nm_spool_scan_oldest(nm_spool *s, size_t limit,
                         bool (*fn)(void *arg, int64_t seq, int64_t enqueued_unix_ms), void *arg,
                         nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_OLDEST];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1))) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(s, rc, err, "reading the oldest articles");
    return 0;
}

int nm_spool_count_articles(nm_spool *s, int64_t *n, nm_error *err)
{
    return run_int(s, ST_COUNT_ARTICLES, n, err);
}

int nm_spool_count_dead(nm_spool *s, int64_t *n, nm_error *err)
{
    return run_int(s, ST_COUNT_DEAD, n, err);
}

int nm_spool_bytes(nm_spool *s, int64_t *bytes, nm_error *err)
{
    int64_t pages = 0, free_pages = 0, page_size = 0;
    if (run_int(s, ST_PAGE_COUNT, &pages, err) != 0 || run_int(s, ST_FREELIST, &free_pages, err) != 0 ||
        run_int(s, ST_PAGE_SIZE, &page_size, err) != 0)
        return -1;
    *bytes = (pages - free_pages) * page_size;
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    struct stat st;
    if (stat(wal, &st) == 0)
        *bytes += (int64_t)st.st_size;
    return 0;
}

static Newsmill__DeadLetter *unpack_letter(sqlite3_stmt *st, int col)
{
    return newsmill__dead_letter__unpack(NULL, (size_t)sqlite3_column_bytes(st, col),
                                         sqlite3_column_blob(st, col));
}

int nm_spool_dead_list(nm_spool *s, uint32_t limit, const char *id,
                       Newsmill__DeadLetter ***letters, size_t *n, nm_error *err)
{
    bool one = id && *id;
    int which = one ? ST_DEAD_ONE : ST_DEAD_LIST;
    sqlite3_stmt *st = s->st[which];
    if (one)
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, limit);
    size_t count = 0, cap = 16;
    Newsmill__DeadLetter **out = nm_xmalloc(cap * sizeof *out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && count < limit) {
        Newsmill__DeadLetter *l = unpack_letter(st, 0);
        if (!l)
            continue;
        if (count == cap) {
            cap *= 2;
            out = nm_xrealloc(out, cap * sizeof *out);
        }
        out[count++] = l;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        nm_spool_letters_free(out, count);
        return db_error(s, rc, err, "listing dead letters");
    }
    *letters = out;
    *n = count;
    return 0;
}

void nm_spool_letters_free(Newsmill__DeadLetter **letters, size_t n)
{
    for (size_t i = 0; i < n; i++)
        newsmill__dead_letter__free_unpacked(letters[i], NULL);
    free(letters);
}

int nm_spool_unbury(nm_spool *s, const char *id, int64_t now_unix_ms, bool *found, bool *inserted,
                    nm_error *err)
{
    *found = *inserted = false;
    sqlite3_stmt *get = s->st[ST_DEAD_GET];
    sqlite3_bind_text(get, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(get);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(get);
        if (rc != SQLITE_DONE)
            return db_error(s, rc, err, "reading a dead letter");
        return 0;
    }
    *found = true;
    Newsmill__Article *article = newsmill__article__unpack(NULL, (size_t)sqlite3_column_bytes(get, 0),
                                                           sqlite3_column_blob(get, 0));
    sqlite3_stmt *ins = s->st[ST_UNBURY_INSERT];
    sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(ins, 2, article ? article->priority : 0);
    sqlite3_bind_int64(ins, 3, now_unix_ms);
    sqlite3_bind_blob64(ins, 4, sqlite3_column_blob(get, 0), (sqlite3_uint64)sqlite3_column_bytes(get, 0),
                        SQLITE_TRANSIENT);
    sqlite3_bind_blob64(ins, 5, sqlite3_column_blob(get, 1), (sqlite3_uint64)sqlite3_column_bytes(get, 1),
                        SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 6, sqlite3_column_int64(get, 2)); /* the revision it died with */
    if (article)
        newsmill__article__free_unpacked(article, NULL);
    rc = run(s, ST_UNBURY_INSERT, err);
    sqlite3_reset(get);
    if (rc != 0)
        return -1;
    *inserted = sqlite3_changes(s->db) > 0;
    sqlite3_bind_text(s->st[ST_DEAD_DELETE], 1, id, -1, SQLITE_STATIC);
    return run(s, ST_DEAD_DELETE, err);
}

int nm_spool_dead_ids(nm_spool *s, char ***ids, size_t *n, nm_error *err)
{
    sqlite3_stmt *st = s->st[ST_DEAD_IDS];
    size_t count = 0, cap = 16;
    char **out = nm_xmalloc(cap * sizeof *out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            cap *= 2;
            out = nm_xrealloc(out, cap * sizeof *out);
        }
        out[count++] = nm_xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < count; i++)
            free(out[i]);
        free(out);
        return db_error(s, rc, err, "listing dead letter ids");
    }
    *ids = out;
    *n = count;
    return 0;
}

int nm_spool_compact(nm_spool *s, int64_t *freed, nm_error *err)
{
    *freed = 0;
    int64_t pages = 0, free_pages = 0;
    if (run_int(s, ST_PAGE_COUNT, &pages, err) != 0 || run_int(s, ST_FREELIST, &free_pages, err) != 0)
        return -1;
    if (free_pages < 256 || free_pages * 2 < pages)
        return 0; /* little to gain: free pages are reused by the next inserts */
    /* VACUUM rebuilds the file from its live rows (seq, an INTEGER PRIMARY
     * KEY, keeps its values, so leases stay valid). */
    if (exec(s, "VACUUM", err) != 0)
        return nm_error_prefix(err, "compacting the spool");
    int64_t after = 0;
    if (run_int(s, ST_PAGE_COUNT, &after, err) != 0)
        return -1;
    *freed = pages - after;
    return 0;
}

/*
 * nm_store: see nm_store.h. This file: opening (schema creation and
 * migration), SQL functions, transactions. Writing articles is in
 * nm_store_put.c, the entity id cache in nm_store_cache.c. The schema lives in store/embed/results_schema.sql, the
 * migrations in store/embed/results_migrations.sql.
 */
#include "nm_store.h"
#include "nm_store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_fault.h"
#include "nm_fs.h"
#include "nm_log.h"

extern const unsigned char nm_embed_results_schema_sql[];
extern const unsigned char nm_embed_results_migrations_sql[];

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_FIND_ARTICLE] = "SELECT article, revision FROM article_rows WHERE id = ?1",
    [ST_DEL_FTS] = "INSERT INTO articles_fts (articles_fts, rowid, title, body)"
                   " SELECT 'delete', article, title, nm_unzstd(body_zstd) FROM article_rows"
                   " WHERE article = ?1",
    [ST_DEL_SECTIONS] = "DELETE FROM sections WHERE article = ?1",
    [ST_DEL_OUTLINE] = "DELETE FROM outline WHERE article = ?1",
    [ST_DEL_ARTICLE_ENTITIES] = "DELETE FROM article_entities WHERE article = ?1",
    [ST_DEL_ACRONYMS] = "DELETE FROM acronyms WHERE article = ?1",
    [ST_DEL_ARTICLE] = "DELETE FROM article_rows WHERE article = ?1",
    [ST_INS_ARTICLE] =
        "INSERT INTO article_rows (id, source, url, published_unix_ms, modified_unix_ms,"
        " ingested_unix_ms, language, language_confidence, content_type, title, byline,"
        " n_bytes, n_chars, n_words, n_sentences, n_paragraphs, n_syllables,"
        " avg_sentence_words, flesch_reading_ease, flesch_kincaid_grade,"
        " fp_exact, simhash, sh0, sh1, sh2, sh3, minhash, warnings, body_zstd,"
        " sentences_packed, revision, keyphrases_packed)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)",
    [ST_INS_FTS] = "INSERT INTO articles_fts (rowid, title, body) VALUES (?1, ?2, ?3)",
    [ST_INS_SECTION] = "INSERT INTO sections (article, idx, level, heading, start_byte, end_byte,"
                       " first_paragraph, n_paragraphs, outline_idx)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_INS_OUTLINE] = "INSERT INTO outline (article, idx, text, start_byte, end_byte, section_idx)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_INS_ARTICLE_ENTITY] =
        "INSERT INTO article_entities (article, entity, n_mentions, salience, mentions_packed)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INS_ACRONYM] = "INSERT INTO acronyms (article, idx, short_form, long_form,"
                       " short_start_byte, short_end_byte, long_start_byte, long_end_byte, n_uses)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_FIND_ENTITY] = "SELECT entity FROM entities WHERE name = ?1 AND type = ?2",
    [ST_INS_ENTITY] = "INSERT INTO entities (name, type) VALUES (?1, ?2)",
};

nm_errcode nm_store_errcode(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_OK:
        return NM_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return NM_ERR_BUSY;
    case SQLITE_FULL:
        return NM_ERR_DISK_FULL;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return NM_ERR_IO;
    case SQLITE_NOTFOUND:
        return NM_ERR_NOT_FOUND;
    default:
        return NM_ERR_DB;
    }
}

int nm_store_db_error(sqlite3 *db, int rc, nm_error *err, const char *what)
{
    return nm_error_set(err, nm_store_errcode(rc), "%s: %s (sqlite %d)", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
}

/* ---- SQL functions (nm_store_sql.c) ----------------------------------- */

int nm_store_register_functions(sqlite3 *db, nm_error *err)
{
    int rc = nm_store_register_sql_functions(db);
    if (rc != SQLITE_OK)
        return nm_store_db_error(db, rc, err, "registering SQL functions");
    return 0;
}

int nm_store_configure_threads(nm_error *err)
{
    int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (rc == SQLITE_OK)
        rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (rc != SQLITE_OK)
        return nm_error_set(err, NM_ERR_INVALID,
                            "configuring SQLite for threads: %s (after a database was opened?)",
                            sqlite3_errstr(rc));
    return 0;
}

/* ---- statements ------------------------------------------------------- */

/* Steps a statement that returns no row (or whose rows are not wanted) and
 * resets it. */
int nm_store_step(nm_store *s, sqlite3_stmt *st, nm_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        nm_store_db_error(s->db, rc, err, what);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

static int prepare_all(nm_store *s, nm_error *err)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return nm_store_db_error(s->db, rc, err, "preparing statement");
    }
    return 0;
}

/* ---- schema ----------------------------------------------------------- */

static int pragma_int(sqlite3 *db, const char *sql, int *value, nm_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return nm_store_db_error(db, rc, err, sql);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        nm_store_db_error(db, rc, err, sql);
        sqlite3_finalize(st);
        return -1;
    }
    *value = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int exec_sql(sqlite3 *db, const char *sql, nm_error *err, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        nm_error_set(err, nm_store_errcode(rc), "%s: %s (sqlite %d)", what,
                     msg ? msg : sqlite3_errstr(rc), rc);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Runs the "-- @version N" section of the migrations file. */
static int run_migration(sqlite3 *db, int version, nm_error *err)
{
    const char *all = (const char *)nm_embed_results_migrations_sql;
    char marker[32];
    snprintf(marker, sizeof marker, "-- @version %d\n", version);
    const char *start = strstr(all, marker);
    if (!start)
        return nm_error_set(err, NM_ERR_INTERNAL, "no migration to schema version %d", version);
    start += strlen(marker);
    const char *end = strstr(start, "-- @version ");
    size_t len = end ? (size_t)(end - start) : strlen(start);
    char *sql = nm_xstrndup(start, len);
    char what[64];
    snprintf(what, sizeof what, "migrating to schema version %d", version);
    int rc = exec_sql(db, sql, err, what);
    free(sql);
    if (rc < 0)
        return -1;
    char pragma[48];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    return exec_sql(db, pragma, err, what);
}

/* Creates or migrates the schema in one transaction. */
static int ensure_schema(nm_store *s, const char *path, nm_error *err)
{
    if (exec_sql(s->db, "BEGIN IMMEDIATE", err, "locking for schema check") < 0)
        return -1;
    int version = 0, n_objects = 0;
    if (pragma_int(s->db, "PRAGMA user_version", &version, err) < 0 ||
        pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &n_objects, err) < 0)
        goto fail;
    if (version > NM_STORE_SCHEMA_VERSION) {
        nm_error_set(err, NM_ERR_VERSION,
                     "%s has schema version %d, newer than this build's %d: upgrade newsmill",
                     path, version, NM_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (version == 0) {
        if (n_objects != 0) {
            nm_error_set(err, NM_ERR_VERSION,
                         "%s is not a newsmill results database (tables but no version)", path);
            goto fail;
        }
        if (exec_sql(s->db, (const char *)nm_embed_results_schema_sql, err, "creating schema") < 0)
            goto fail;
        if (pragma_int(s->db, "PRAGMA user_version", &version, err) < 0)
            goto fail;
        if (version != NM_STORE_SCHEMA_VERSION) {
            nm_error_set(err, NM_ERR_INTERNAL,
                         "results_schema.sql sets version %d, nm_store.h says %d", version,
                         NM_STORE_SCHEMA_VERSION);
            goto fail;
        }
        nm_log_info("results database created path=%s schema_version=%d", path, version);
    } else if (version < NM_STORE_SCHEMA_VERSION) {
        int from = version;
        while (version < NM_STORE_SCHEMA_VERSION) {
            if (run_migration(s->db, version + 1, err) < 0)
                goto fail;
            version++;
        }
        nm_log_info("results database migrated path=%s from_version=%d to_version=%d", path,
                    from, version);
    }
    if (exec_sql(s->db, "COMMIT", err, "committing schema") < 0)
        goto fail;
    s->version = version;
    return 0;
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return nm_error_prefix(err, "opening %s", path);
}

/* ---- open / close ----------------------------------------------------- */

/* SQLite calls it inside COMMIT, before writing the WAL; 0 lets the commit
 * go on. Only registered when a test armed fault points. */
static int fault_in_commit(void *arg)
{
    (void)arg;
    nm_fault_point("store.commit");
    return 0;
}

/* The quota (see max_bytes in nm_store.h): the WAL gets a quarter, the file
 * the rest. Without a quota the WAL is still cut back to
 * WAL_KEEP_BYTES_DEFAULT after each checkpoint instead of keeping its
 * largest size forever. */
#define WAL_KEEP_BYTES_DEFAULT ((int64_t)64 << 20)

static int set_size_limits(nm_store *s, const char *path, int64_t max_bytes, nm_error *err)
{
    int page_size = 0;
    if (pragma_int(s->db, "PRAGMA page_size", &page_size, err) < 0)
        return -1;
    int64_t wal_bytes = max_bytes > 0 ? max_bytes / 4 : WAL_KEEP_BYTES_DEFAULT;
    int64_t wal_pages = wal_bytes / page_size > 1 ? wal_bytes / page_size : 1;
    char sql[160];
    /* Checkpoint once the WAL holds its share (SQLite's default is 1000
     * pages), and truncate it to that size when it starts over. */
    snprintf(sql, sizeof sql, "PRAGMA journal_size_limit = %" PRId64, wal_bytes);
    if (exec_sql(s->db, sql, err, "setting the WAL size limit") < 0)
        return -1;
    if (max_bytes <= 0)
        return 0;
    int64_t file_pages = (max_bytes - wal_bytes) / page_size;
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRId64 "; PRAGMA wal_autocheckpoint = %" PRId64,
             file_pages > 1 ? file_pages : 1, wal_pages < 1000 ? wal_pages : 1000);
    if (exec_sql(s->db, sql, err, "setting size limit") < 0)
        return -1;
    size_t len = strlen(path);
    s->wal_path = nm_xmalloc(len + 5);
    memcpy(s->wal_path, path, len);
    memcpy(s->wal_path + len, "-wal", 5);
    s->wal_max_bytes = wal_bytes;
    return 0;
}

/* Before a transaction under a quota: a WAL over its share is checkpointed
 * (passive: never waits for readers); if a reader's snapshot keeps frames
 * from being copied back, the WAL cannot start over and would only grow, so
 * the write is refused as a full disk. A WAL fully copied back starts over
 * (and is truncated) at this transaction. */
static int check_wal_quota(nm_store *s, nm_error *err)
{
    struct stat st;
    if (!s->wal_max_bytes || stat(s->wal_path, &st) != 0 || st.st_size <= s->wal_max_bytes)
        return 0;
    int in_log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &in_log, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return nm_store_db_error(s->db, rc, err, "checkpointing the WAL over its quota");
    if (rc == SQLITE_OK && copied >= in_log)
        return 0;
    return nm_error_set(err, NM_ERR_DISK_FULL,
                        "results database WAL %s is %lld bytes, over its share %lld of the quota "
                        "(--db-max-size), and %d of its %d frames cannot be checkpointed: a "
                        "reader holds an old snapshot open",
                        s->wal_path, (long long)st.st_size, (long long)s->wal_max_bytes,
                        in_log - copied, in_log);
}

nm_store *nm_store_open(const char *path, const nm_store_options *opts, nm_error *err)
{
    nm_store_options defaults = {0};
    if (!opts)
        opts = &defaults;
    if (opts->read_only && access(path, F_OK) != 0) {
        nm_error_set(err, NM_ERR_NOT_FOUND, "results database %s does not exist", path);
        return NULL;
    }
    bool is_new = false;
    if (!opts->read_only) {
        if (nm_fs_mkdir_parents(path, 0755, err) != 0)
            return NULL;
        is_new = access(path, F_OK) != 0;
    }
    nm_store *s = nm_xcalloc(1, sizeof *s);
    s->read_only = opts->read_only;
    int flags = opts->read_only ? SQLITE_OPEN_READONLY
                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        nm_store_db_error(s->db, rc, err, "opening results database");
        nm_error_prefix(err, "%s", path);
        nm_store_close(&s);
        return NULL;
    }
    /* Creating or migrating the schema may take a while when several
     * processes open a new file at once: wait long for that, then use the
     * caller's timeout for the batches. */
    int busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 5000;
    sqlite3_busy_timeout(s->db, busy_ms > 30000 ? busy_ms : 30000);
    if (nm_store_register_functions(s->db, err) < 0)
        goto fail;
    if (opts->read_only) {
        if (pragma_int(s->db, "PRAGMA user_version", &s->version, err) < 0)
            goto fail;
        if (s->version != NM_STORE_SCHEMA_VERSION) {
            nm_error_set(err, NM_ERR_VERSION,
                         "%s has schema version %d, this build reads %d%s", path, s->version,
                         NM_STORE_SCHEMA_VERSION,
                         s->version < NM_STORE_SCHEMA_VERSION
                             ? " (a worker migrates it when it opens it)" : "");
            goto fail;
        }
        return s;
    }
    /* secure_delete off: Debian's SQLite zeroes deleted rows and freed pages
     * by default, FTS5's segment merges free pages all the time (-2% of the
     * writer's instructions; the text stays in the file anyway). */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size = 8192; " /* new files only: see PACKED COLUMNS in the schema */
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA temp_store = MEMORY;"
             " PRAGMA cache_size = -32768; PRAGMA secure_delete = OFF;",
             opts->sync_normal ? "NORMAL" : "FULL");
    /* Switching a new file to WAL and creating the schema take exclusive
     * locks; when several processes do it at once SQLite may answer BUSY
     * without waiting (to avoid a deadlock), so retry that part here. */
    for (int attempt = 0;; attempt++) {
        nm_error local;
        nm_error *e = err ? err : &local;
        if (exec_sql(s->db, pragmas, e, "setting pragmas") == 0 && ensure_schema(s, path, e) == 0)
            break;
        if (e->code != NM_ERR_BUSY || attempt >= 2000)
            goto fail;
        usleep(5000); /* up to ~10 s in all */
    }
    /* The new file's own directory entry: SQLite syncs only its journal's. */
    if (is_new && nm_fs_sync_parent(path, err) != 0)
        goto fail;
    if (set_size_limits(s, path, opts->max_bytes, err) < 0)
        goto fail;
    if (prepare_all(s, err) < 0)
        goto fail;
    if (nm_fault_armed) /* a test's point inside COMMIT (nm_fault.h) */
        sqlite3_commit_hook(s->db, fault_in_commit, NULL);
    sqlite3_busy_timeout(s->db, busy_ms);
    return s;
fail:
    if (err && !strstr(err->msg, path))
        nm_error_prefix(err, "%s", path);
    nm_store_close(&s);
    return NULL;
}

void nm_store_close(nm_store **store)
{
    if (!store || !*store)
        return;
    nm_store *s = *store;
    if (s->in_txn)
        nm_store_rollback(s);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    nm_store_cache_clear(s);
    free(s->slots);
    free(s->buf);
    free(s->ranks);
    free(s->refs);
    free(s->scratch);
    nm_sbuf_free(&s->packed);
    nm_sbuf_free(&s->kp_packed);
    nm_store_zstd_free(s);
    free(s->wal_path);
    free(s);
    *store = NULL;
}

sqlite3 *nm_store_db(nm_store *store)
{
    return store->db;
}

int nm_store_schema_version(nm_store *store)
{
    return store->version;
}

/* ---- transactions ----------------------------------------------------- */

int nm_store_begin(nm_store *s, nm_error *err)
{
    if (s->read_only)
        return nm_error_set(err, NM_ERR_INVALID, "results database opened read-only");
    if (s->in_txn)
        return nm_error_set(err, NM_ERR_INTERNAL, "transaction already open");
    if (check_wal_quota(s, err) < 0)
        return -1;
    if (nm_store_step(s, s->stmt[ST_BEGIN], err, "beginning transaction") < 0)
        return -1;
    s->in_txn = true;
    s->txn_new_entities = false;
    return 0;
}

bool nm_store_error_is_transient(nm_errcode code)
{
    return code == NM_ERR_BUSY || code == NM_ERR_DISK_FULL || code == NM_ERR_IO;
}

void nm_store_interrupt(nm_store *s) { sqlite3_interrupt(s->db); }

void nm_store_rollback(nm_store *s)
{
    if (!s->in_txn)
        return;
    if (!sqlite3_get_autocommit(s->db)) {
        int rc = sqlite3_step(s->stmt[ST_ROLLBACK]);
        sqlite3_reset(s->stmt[ST_ROLLBACK]);
        if (rc != SQLITE_DONE)
            nm_log_warn("results database rollback failed: %s", sqlite3_errmsg(s->db));
    }
    s->in_txn = false;
    if (s->txn_new_entities)
        nm_store_cache_clear(s); /* ids inserted by this transaction are gone */
    s->txn_new_entities = false;
}

int nm_store_commit(nm_store *s, nm_error *err)
{
    if (!s->in_txn)
        return nm_error_set(err, NM_ERR_INTERNAL, "no transaction to commit");
    int rc;
    for (int attempt = 0;; attempt++) {
        rc = sqlite3_step(s->stmt[ST_COMMIT]);
        sqlite3_reset(s->stmt[ST_COMMIT]);
        if (rc == SQLITE_DONE) {
            s->in_txn = false;
            s->txn_new_entities = false;
            return 0;
        }
        /* BUSY at COMMIT leaves the transaction open: the busy handler has
         * already waited; try a few more times before giving the batch up. */
        if ((rc & 0xff) != SQLITE_BUSY || attempt >= 3 || sqlite3_get_autocommit(s->db))
            break;
    }
    nm_store_db_error(s->db, rc, err, "committing batch");
    nm_store_rollback(s);
    return -1;
}

int64_t nm_store_count_articles(nm_store *s, nm_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM articles", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return nm_store_db_error(s->db, rc, err, "counting articles");
    rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (rc != SQLITE_ROW)
        nm_store_db_error(s->db, rc, err, "counting articles");
    sqlite3_finalize(st);
    return n;
}

/*
 * nm_store: see nm_store.h. The schema lives in common/embed/results_schema.sql,
 * the migrations in common/embed/results_migrations.sql.
 *
 * Writing one article: look its id up; if stored, remove it from the
 * full-text index, delete the old row from every child table and then the
 * article; insert the article, index its title and body, then its child
 * rows. (The index is written here, not by triggers: see the schema.)
 * Entity ids come from an in-process cache (name + type -> id), filled from
 * the entities table or by inserting; entity rows are never deleted, so a
 * cached id stays valid, except when the transaction that created it rolls
 * back: then the cache is dropped.
 */
#include "nm_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_log.h"

extern const unsigned char nm_embed_results_schema_sql[];
extern const unsigned char nm_embed_results_migrations_sql[];

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_FIND_ARTICLE,
    ST_DEL_FTS, /* the deletes, in this order: index, children, the article */
    ST_DEL_SENTENCES,
    ST_DEL_SECTIONS,
    ST_DEL_OUTLINE,
    ST_DEL_ARTICLE_ENTITIES,
    ST_DEL_MENTIONS,
    ST_DEL_ACRONYMS,
    ST_DEL_KEYPHRASES,
    ST_DEL_ARTICLE,
    ST_INS_ARTICLE,
    ST_INS_FTS,
    ST_INS_SENTENCE,
    ST_INS_SECTION,
    ST_INS_OUTLINE,
    ST_INS_ARTICLE_ENTITY,
    ST_INS_MENTION,
    ST_INS_ACRONYM,
    ST_INS_KEYPHRASE,
    ST_FIND_ENTITY,
    ST_INS_ENTITY,
    ST_COUNT
};

static const char *const statement_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_FIND_ARTICLE] = "SELECT article FROM articles WHERE id = ?1",
    [ST_DEL_FTS] = "INSERT INTO articles_fts (articles_fts, rowid, title, body)"
                   " SELECT 'delete', article, title, body FROM articles WHERE article = ?1",
    [ST_DEL_SENTENCES] = "DELETE FROM sentences WHERE article = ?1",
    [ST_DEL_SECTIONS] = "DELETE FROM sections WHERE article = ?1",
    [ST_DEL_OUTLINE] = "DELETE FROM outline WHERE article = ?1",
    [ST_DEL_ARTICLE_ENTITIES] = "DELETE FROM article_entities WHERE article = ?1",
    [ST_DEL_MENTIONS] = "DELETE FROM mentions WHERE article = ?1",
    [ST_DEL_ACRONYMS] = "DELETE FROM acronyms WHERE article = ?1",
    [ST_DEL_KEYPHRASES] = "DELETE FROM keyphrases WHERE article = ?1",
    [ST_DEL_ARTICLE] = "DELETE FROM articles WHERE article = ?1",
    [ST_INS_ARTICLE] =
        "INSERT INTO articles (id, source, url, published_unix_ms, modified_unix_ms,"
        " ingested_unix_ms, language, language_confidence, content_type, title, byline,"
        " n_bytes, n_chars, n_words, n_sentences, n_paragraphs, n_syllables,"
        " avg_sentence_words, flesch_reading_ease, flesch_kincaid_grade,"
        " fp_exact, simhash, sh0, sh1, sh2, sh3, minhash, summary, warnings, body)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
    [ST_INS_FTS] = "INSERT INTO articles_fts (rowid, title, body) VALUES (?1, ?2, ?3)",
    [ST_INS_SENTENCE] = "INSERT INTO sentences (article, idx, paragraph, start_byte, end_byte,"
                        " n_words, summary_rank) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_INS_SECTION] = "INSERT INTO sections (article, idx, level, heading, start_byte, end_byte,"
                       " first_paragraph, n_paragraphs, outline_idx)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_INS_OUTLINE] = "INSERT INTO outline (article, idx, text, start_byte, end_byte, section_idx)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_INS_ARTICLE_ENTITY] =
        "INSERT INTO article_entities (article, entity, n_mentions, salience)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (article, entity) DO UPDATE SET"
        " n_mentions = n_mentions + excluded.n_mentions,"
        " salience = max(salience, excluded.salience)",
    [ST_INS_MENTION] = "INSERT INTO mentions (article, idx, entity, start_byte, end_byte, sentence)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_INS_ACRONYM] = "INSERT INTO acronyms (article, idx, short_form, long_form,"
                       " short_start_byte, short_end_byte, long_start_byte, long_end_byte, n_uses)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_INS_KEYPHRASE] = "INSERT INTO keyphrases (article, rank, phrase, stem, score, n_occurrences)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_FIND_ENTITY] = "SELECT entity FROM entities WHERE name = ?1 AND type = ?2",
    [ST_INS_ENTITY] = "INSERT INTO entities (name, type) VALUES (?1, ?2)",
};

/* Entity cache: open addressing, key = type byte + name. */
typedef struct entity_slot {
    char *key; /* NULL = empty */
    size_t key_len;
    uint64_t hash;
    int64_t id;
} entity_slot;

#define ENTITY_CACHE_MAX ((size_t)1 << 20) /* entries; dropped and refilled past this */

struct nm_store {
    sqlite3 *db;
    bool read_only;
    bool in_txn;
    bool txn_new_entities; /* the open transaction inserted entities */
    int version;
    sqlite3_stmt *stmt[ST_COUNT];
    entity_slot *slots;
    size_t slots_cap, slots_used;
    char *buf; /* summary / warnings text */
    size_t buf_cap;
    int64_t *ids; /* entity ids of the article being written */
    size_t ids_cap;
    uint32_t *ranks; /* summary rank per sentence */
    size_t ranks_cap;
};

/* The stable type names of nm_extract.h (nm_entity_type_name), kept here so
 * that the database layer does not depend on the extractor's code. */
static const char *const entity_type_names[NM_ENTITY_TYPE_COUNT] = {
    [NM_ENTITY_PERSON] = "person",     [NM_ENTITY_ORGANISATION] = "organisation",
    [NM_ENTITY_PLACE] = "place",       [NM_ENTITY_NATIONALITY] = "nationality",
    [NM_ENTITY_OTHER] = "other",
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

static int db_error(sqlite3 *db, int rc, nm_error *err, const char *what)
{
    return nm_error_set(err, nm_store_errcode(rc), "%s: %s (sqlite %d)", what,
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
}

static int64_t u64_bits(uint64_t v)
{
    int64_t r;
    memcpy(&r, &v, sizeof r);
    return r;
}

/* ---- SQL functions ---------------------------------------------------- */

static void fn_hamming(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
        sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
        sqlite3_result_null(ctx);
        return;
    }
    uint64_t a = (uint64_t)sqlite3_value_int64(argv[0]);
    uint64_t b = (uint64_t)sqlite3_value_int64(argv[1]);
    sqlite3_result_int(ctx, __builtin_popcountll(a ^ b));
}

static void fn_minhash_similarity(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB || sqlite3_value_type(argv[1]) != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    const unsigned char *a = sqlite3_value_blob(argv[0]);
    int na = sqlite3_value_bytes(argv[0]);
    const unsigned char *b = sqlite3_value_blob(argv[1]);
    int nb = sqlite3_value_bytes(argv[1]);
    if (na != nb || na == 0 || na % 4 != 0) {
        sqlite3_result_null(ctx);
        return;
    }
    int same = 0;
    for (int i = 0; i < na; i += 4)
        same += memcmp(a + i, b + i, 4) == 0;
    sqlite3_result_double(ctx, (double)same / (na / 4));
}

int nm_store_register_functions(sqlite3 *db, nm_error *err)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function(db, "hamming", 2, flags, NULL, fn_hamming, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function(db, "minhash_similarity", 2, flags, NULL,
                                     fn_minhash_similarity, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_error(db, rc, err, "registering SQL functions");
    return 0;
}

/* ---- entity cache ----------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void cache_clear(nm_store *s)
{
    for (size_t i = 0; i < s->slots_cap; i++) {
        free(s->slots[i].key);
        s->slots[i].key = NULL;
    }
    s->slots_used = 0;
}

static entity_slot *cache_find(nm_store *s, const char *key, size_t len, uint64_t hash)
{
    size_t mask = s->slots_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        entity_slot *slot = &s->slots[i];
        if (!slot->key || (slot->hash == hash && slot->key_len == len &&
                           memcmp(slot->key, key, len) == 0))
            return slot;
    }
}

static void cache_put(nm_store *s, const char *key, size_t len, uint64_t hash, int64_t id)
{
    if (s->slots_used >= ENTITY_CACHE_MAX)
        cache_clear(s);
    if ((s->slots_used + 1) * 2 > s->slots_cap) { /* keep load <= 1/2 */
        entity_slot *old = s->slots;
        size_t old_cap = s->slots_cap;
        s->slots_cap = old_cap ? old_cap * 2 : 4096;
        s->slots = nm_xcalloc(s->slots_cap, sizeof *s->slots);
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].key)
                *cache_find(s, old[i].key, old[i].key_len, old[i].hash) = old[i];
        free(old);
    }
    entity_slot *slot = cache_find(s, key, len, hash);
    if (!slot->key) {
        slot->key = nm_xmalloc(len);
        memcpy(slot->key, key, len);
        slot->key_len = len;
        slot->hash = hash;
        s->slots_used++;
    }
    slot->id = id;
}

/* ---- statements ------------------------------------------------------- */

/* Steps a statement that returns no row (or whose rows are not wanted) and
 * resets it. */
static int exec_stmt(nm_store *s, sqlite3_stmt *st, nm_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        db_error(s->db, rc, err, what);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text && *text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_span(sqlite3_stmt *st, int i, nm_span span)
{
    sqlite3_bind_int64(st, i, span.start);
    sqlite3_bind_int64(st, i + 1, span.end);
}

static void bind_index_or_null(sqlite3_stmt *st, int i, uint32_t index)
{
    if (index == NM_NO_INDEX)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, index);
}

static int prepare_all(nm_store *s, nm_error *err)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[i], NULL);
        if (rc != SQLITE_OK)
            return db_error(s->db, rc, err, "preparing statement");
    }
    return 0;
}

/* ---- schema ----------------------------------------------------------- */

static int pragma_int(sqlite3 *db, const char *sql, int *value, nm_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(db, rc, err, sql);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        db_error(db, rc, err, sql);
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

/* mkdir -p of the directory part of path; errors surface when SQLite opens. */
static void make_parent_dirs(const char *path)
{
    char *dir = nm_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0755);
                *p = '/';
            }
        }
        mkdir(dir, 0755);
    }
    free(dir);
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
    if (!opts->read_only)
        make_parent_dirs(path);
    nm_store *s = nm_xcalloc(1, sizeof *s);
    s->read_only = opts->read_only;
    int flags = opts->read_only ? SQLITE_OPEN_READONLY
                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        db_error(s->db, rc, err, "opening results database");
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
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA temp_store = MEMORY;"
             " PRAGMA cache_size = -32768;",
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
    if (opts->max_bytes > 0) {
        int page_size = 0;
        if (pragma_int(s->db, "PRAGMA page_size", &page_size, err) < 0)
            goto fail;
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRId64,
                 opts->max_bytes / page_size > 1 ? opts->max_bytes / page_size : 1);
        if (exec_sql(s->db, sql, err, "setting size limit") < 0)
            goto fail;
    }
    if (prepare_all(s, err) < 0)
        goto fail;
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
    cache_clear(s);
    free(s->slots);
    free(s->buf);
    free(s->ids);
    free(s->ranks);
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
    if (exec_stmt(s, s->stmt[ST_BEGIN], err, "beginning transaction") < 0)
        return -1;
    s->in_txn = true;
    s->txn_new_entities = false;
    return 0;
}

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
        cache_clear(s); /* ids inserted by this transaction are gone */
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
    db_error(s->db, rc, err, "committing batch");
    nm_store_rollback(s);
    return -1;
}

/* ---- writing an article ----------------------------------------------- */

static bool span_ok(nm_span span, size_t text_len)
{
    return span.start <= span.end && span.end <= text_len;
}

/* Checks that every index and span of r is in range, so that writing it can
 * neither read out of bounds nor store dangling references. */
static int validate(const nm_extract_result *r, nm_error *err)
{
    if (!r->id || !*r->id)
        return nm_error_set(err, NM_ERR_INVALID, "article has no id");
    if (!r->text && r->text_len)
        return nm_error_set(err, NM_ERR_INVALID, "article %s: no text", r->id);
    for (size_t i = 0; i < r->n_sentences; i++)
        if (!span_ok(r->sentences[i].span, r->text_len))
            return nm_error_set(err, NM_ERR_INVALID, "article %s: sentence %zu out of range",
                                r->id, i);
    for (size_t i = 0; i < r->n_summary; i++)
        if (r->summary[i] >= r->n_sentences)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: summary sentence out of range",
                                r->id);
    for (size_t i = 0; i < r->n_entities; i++)
        if (!r->entities[i].name || (unsigned)r->entities[i].type >= NM_ENTITY_TYPE_COUNT)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: entity %zu malformed", r->id, i);
    for (size_t i = 0; i < r->n_mentions; i++)
        if (r->mentions[i].entity >= r->n_entities || !span_ok(r->mentions[i].span, r->text_len))
            return nm_error_set(err, NM_ERR_INVALID, "article %s: mention %zu out of range",
                                r->id, i);
    for (size_t i = 0; i < r->n_sections; i++)
        if (!r->sections[i].heading)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: section %zu has no heading",
                                r->id, i);
    for (size_t i = 0; i < r->n_outline; i++)
        if (!r->outline[i].text)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: outline item %zu has no text",
                                r->id, i);
    for (size_t i = 0; i < r->n_acronyms; i++)
        if (!r->acronyms[i].short_form || !r->acronyms[i].long_form)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: acronym %zu malformed", r->id, i);
    for (size_t i = 0; i < r->n_keyphrases; i++)
        if (!r->keyphrases[i].text)
            return nm_error_set(err, NM_ERR_INVALID, "article %s: keyphrase %zu malformed", r->id,
                                i);
    return 0;
}

static void buf_reserve(nm_store *s, size_t need)
{
    if (need > s->buf_cap) {
        s->buf_cap = need * 2 > 4096 ? need * 2 : 4096;
        s->buf = nm_xrealloc(s->buf, s->buf_cap);
    }
}

/* articles.summary: the summary sentences joined by spaces. Returns s->buf. */
static const char *join_summary(nm_store *s, const nm_extract_result *r, size_t *len)
{
    size_t need = 1;
    for (size_t i = 0; i < r->n_summary; i++) {
        nm_span sp = r->sentences[r->summary[i]].span;
        need += sp.end - sp.start + 1;
    }
    buf_reserve(s, need);
    size_t n = 0;
    for (size_t i = 0; i < r->n_summary; i++) {
        nm_span sp = r->sentences[r->summary[i]].span;
        if (n)
            s->buf[n++] = ' ';
        memcpy(s->buf + n, r->text + sp.start, sp.end - sp.start);
        n += sp.end - sp.start;
    }
    s->buf[n] = '\0';
    *len = n;
    return s->buf;
}

/* Finds or creates the entity row; -1 with err on a database error. */
static int entity_id(nm_store *s, const nm_entity *e, int64_t *id, nm_error *err)
{
    const char *type = entity_type_names[e->type];
    size_t name_len = strlen(e->name);
    char stack_key[256];
    char *key = name_len + 1 <= sizeof stack_key ? stack_key : nm_xmalloc(name_len + 1);
    key[0] = (char)('0' + e->type);
    memcpy(key + 1, e->name, name_len);
    size_t key_len = name_len + 1;
    uint64_t hash = fnv1a(key, key_len);
    int ret = 0;
    if (s->slots_cap) {
        entity_slot *slot = cache_find(s, key, key_len, hash);
        if (slot->key) {
            *id = slot->id;
            goto out;
        }
    }
    sqlite3_stmt *st = s->stmt[ST_FIND_ENTITY];
    sqlite3_bind_text(st, 1, e->name, (int)name_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            ret = db_error(s->db, rc, err, "looking up entity");
            goto out;
        }
        st = s->stmt[ST_INS_ENTITY];
        sqlite3_bind_text(st, 1, e->name, (int)name_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        if ((ret = exec_stmt(s, st, err, "inserting entity")) < 0)
            goto out;
        *id = sqlite3_last_insert_rowid(s->db);
        s->txn_new_entities = true;
    }
    cache_put(s, key, key_len, hash, *id);
out:
    if (key != stack_key)
        free(key);
    return ret;
}

static int delete_article(nm_store *s, int64_t article, nm_error *err)
{
    for (int i = ST_DEL_FTS; i <= ST_DEL_ARTICLE; i++) {
        sqlite3_bind_int64(s->stmt[i], 1, article);
        if (exec_stmt(s, s->stmt[i], err, "deleting previous version") < 0)
            return -1;
    }
    return 0;
}

static int insert_article_row(nm_store *s, const nm_extract_result *r, int64_t ingested_unix_ms,
                              int64_t *article, nm_error *err)
{
    sqlite3_stmt *st = s->stmt[ST_INS_ARTICLE];
    const nm_counts *c = &r->counts;
    uint64_t sim = r->fingerprints.simhash;
    unsigned char minhash[NM_MINHASH_SIZE * 4];
    for (int i = 0; i < NM_MINHASH_SIZE; i++) { /* little-endian on every host */
        uint32_t v = r->fingerprints.minhash[i];
        minhash[4 * i] = (unsigned char)v;
        minhash[4 * i + 1] = (unsigned char)(v >> 8);
        minhash[4 * i + 2] = (unsigned char)(v >> 16);
        minhash[4 * i + 3] = (unsigned char)(v >> 24);
    }
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, r->source);
    bind_text_or_null(st, 3, r->url);
    if (r->published_unix_ms)
        sqlite3_bind_int64(st, 4, r->published_unix_ms);
    else
        sqlite3_bind_null(st, 4);
    if (r->modified_unix_ms)
        sqlite3_bind_int64(st, 5, r->modified_unix_ms);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, ingested_unix_ms);
    sqlite3_bind_text(st, 7, r->language && *r->language ? r->language : "und", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 8, r->language_confidence);
    sqlite3_bind_text(st, 9, r->content_type ? r->content_type : "text", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->title ? r->title : "", -1, SQLITE_STATIC);
    bind_text_or_null(st, 11, r->byline);
    sqlite3_bind_int64(st, 12, c->bytes);
    sqlite3_bind_int64(st, 13, c->chars);
    sqlite3_bind_int64(st, 14, c->words);
    sqlite3_bind_int64(st, 15, c->sentences);
    sqlite3_bind_int64(st, 16, c->paragraphs);
    sqlite3_bind_int64(st, 17, c->syllables);
    sqlite3_bind_double(st, 18, c->avg_sentence_words);
    sqlite3_bind_double(st, 19, c->flesch_reading_ease);
    sqlite3_bind_double(st, 20, c->flesch_kincaid_grade);
    sqlite3_bind_int64(st, 21, u64_bits(r->fingerprints.exact));
    sqlite3_bind_int64(st, 22, u64_bits(sim));
    sqlite3_bind_int64(st, 23, (int64_t)(sim & 0xffff));
    sqlite3_bind_int64(st, 24, (int64_t)((sim >> 16) & 0xffff));
    sqlite3_bind_int64(st, 25, (int64_t)((sim >> 32) & 0xffff));
    sqlite3_bind_int64(st, 26, (int64_t)((sim >> 48) & 0xffff));
    sqlite3_bind_blob(st, 27, minhash, sizeof minhash, SQLITE_STATIC);
    size_t summary_len;
    const char *summary = join_summary(s, r, &summary_len);
    sqlite3_bind_text(st, 28, summary, (int)summary_len, SQLITE_TRANSIENT);
    if (r->n_warnings) {
        size_t need = 1;
        for (size_t i = 0; i < r->n_warnings; i++)
            need += strlen(r->warnings[i]) + 1;
        buf_reserve(s, need);
        size_t n = 0;
        for (size_t i = 0; i < r->n_warnings; i++) {
            size_t len = strlen(r->warnings[i]);
            if (n)
                s->buf[n++] = '\n';
            memcpy(s->buf + n, r->warnings[i], len);
            n += len;
        }
        sqlite3_bind_text(st, 29, s->buf, (int)n, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 29);
    }
    sqlite3_bind_text(st, 30, r->text ? r->text : "", (int)r->text_len, SQLITE_STATIC);
    if (exec_stmt(s, st, err, "inserting article") < 0)
        return -1;
    *article = sqlite3_last_insert_rowid(s->db);
    st = s->stmt[ST_INS_FTS];
    sqlite3_bind_int64(st, 1, *article);
    sqlite3_bind_text(st, 2, r->title ? r->title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->text ? r->text : "", (int)r->text_len, SQLITE_STATIC);
    return exec_stmt(s, st, err, "indexing article");
}

static int insert_sentences(nm_store *s, const nm_extract_result *r, int64_t article,
                            nm_error *err)
{
    if (r->n_sentences > s->ranks_cap) {
        s->ranks_cap = r->n_sentences * 2;
        s->ranks = nm_xrealloc(s->ranks, s->ranks_cap * sizeof *s->ranks);
    }
    memset(s->ranks, 0, r->n_sentences * sizeof *s->ranks);
    for (size_t i = 0; i < r->n_summary; i++)
        s->ranks[r->summary[i]] = (uint32_t)i + 1;
    sqlite3_stmt *st = s->stmt[ST_INS_SENTENCE];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_sentences; i++) {
        const nm_sentence *x = &r->sentences[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, x->paragraph);
        bind_span(st, 4, x->span);
        sqlite3_bind_int64(st, 6, x->n_words);
        if (s->ranks[i])
            sqlite3_bind_int64(st, 7, s->ranks[i]);
        else
            sqlite3_bind_null(st, 7);
        if (exec_stmt(s, st, err, "inserting sentence") < 0)
            return -1;
    }
    return 0;
}

static int insert_structure(nm_store *s, const nm_extract_result *r, int64_t article,
                            nm_error *err)
{
    sqlite3_stmt *st = s->stmt[ST_INS_SECTION];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_sections; i++) {
        const nm_section *x = &r->sections[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int(st, 3, x->level);
        sqlite3_bind_text(st, 4, x->heading, -1, SQLITE_STATIC);
        bind_span(st, 5, x->heading_span);
        sqlite3_bind_int64(st, 7, x->first_paragraph);
        sqlite3_bind_int64(st, 8, x->n_paragraphs);
        bind_index_or_null(st, 9, x->outline_item);
        if (exec_stmt(s, st, err, "inserting section") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_OUTLINE];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_outline; i++) {
        const nm_outline_item *x = &r->outline[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, x->text, -1, SQLITE_STATIC);
        bind_span(st, 4, x->span);
        bind_index_or_null(st, 6, x->section);
        if (exec_stmt(s, st, err, "inserting outline item") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_ACRONYM];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_acronyms; i++) {
        const nm_acronym *x = &r->acronyms[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, x->short_form, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, x->long_form, -1, SQLITE_STATIC);
        bind_span(st, 5, x->short_span);
        bind_span(st, 7, x->long_span);
        sqlite3_bind_int64(st, 9, x->n_uses);
        if (exec_stmt(s, st, err, "inserting acronym") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_KEYPHRASE];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_keyphrases; i++) {
        const nm_keyphrase *x = &r->keyphrases[i];
        sqlite3_bind_int64(st, 2, (int64_t)i + 1);
        sqlite3_bind_text(st, 3, x->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, x->stem ? x->stem : x->text, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, x->score);
        sqlite3_bind_int64(st, 6, x->count);
        if (exec_stmt(s, st, err, "inserting keyphrase") < 0)
            return -1;
    }
    return 0;
}

static int insert_entities(nm_store *s, const nm_extract_result *r, int64_t article,
                           nm_error *err)
{
    if (r->n_entities > s->ids_cap) {
        s->ids_cap = r->n_entities * 2;
        s->ids = nm_xrealloc(s->ids, s->ids_cap * sizeof *s->ids);
    }
    sqlite3_stmt *st = s->stmt[ST_INS_ARTICLE_ENTITY];
    for (size_t i = 0; i < r->n_entities; i++) {
        if (entity_id(s, &r->entities[i], &s->ids[i], err) < 0)
            return -1;
        sqlite3_bind_int64(st, 1, article);
        sqlite3_bind_int64(st, 2, s->ids[i]);
        sqlite3_bind_int64(st, 3, r->entities[i].n_mentions);
        sqlite3_bind_double(st, 4, r->entities[i].salience);
        if (exec_stmt(s, st, err, "inserting article entity") < 0)
            return -1;
    }
    st = s->stmt[ST_INS_MENTION];
    sqlite3_bind_int64(st, 1, article);
    for (size_t i = 0; i < r->n_mentions; i++) {
        const nm_mention *x = &r->mentions[i];
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_int64(st, 3, s->ids[x->entity]);
        bind_span(st, 4, x->span);
        bind_index_or_null(st, 6, x->sentence);
        if (exec_stmt(s, st, err, "inserting mention") < 0)
            return -1;
    }
    return 0;
}

int nm_store_put(nm_store *s, const nm_extract_result *r, int64_t ingested_unix_ms, nm_error *err)
{
    if (!s->in_txn)
        return nm_error_set(err, NM_ERR_INTERNAL, "nm_store_put outside a transaction");
    if (validate(r, err) < 0)
        return -1; /* nothing written; the transaction stays usable */
    sqlite3_stmt *st = s->stmt[ST_FIND_ARTICLE];
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t old = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    int64_t article;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_error(s->db, rc, err, "looking up article");
        goto fail;
    }
    if ((old >= 0 && delete_article(s, old, err) < 0) ||
        insert_article_row(s, r, ingested_unix_ms, &article, err) < 0 ||
        insert_sentences(s, r, article, err) < 0 || insert_structure(s, r, article, err) < 0 ||
        insert_entities(s, r, article, err) < 0)
        goto fail;
    return 0;
fail:
    nm_error_prefix(err, "storing article %s", r->id);
    nm_store_rollback(s);
    return -1;
}

int nm_store_put_batch(nm_store *s, const nm_extract_result *const *results, size_t n,
                       int64_t ingested_unix_ms, nm_error *err)
{
    if (nm_store_begin(s, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (nm_store_put(s, results[i], ingested_unix_ms, err) < 0) {
            nm_store_rollback(s);
            return -1;
        }
    }
    return nm_store_commit(s, err);
}

int64_t nm_store_count_articles(nm_store *s, nm_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM articles", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(s->db, rc, err, "counting articles");
    rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    if (rc != SQLITE_ROW)
        db_error(s->db, rc, err, "counting articles");
    sqlite3_finalize(st);
    return n;
}

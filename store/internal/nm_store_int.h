/*
 * nm_store_int: what the results database's write side shares: the
 * connection (nm_store.c), writing articles (nm_store_put.c) and the entity
 * id cache (nm_store_cache.c). Private to the module: nothing but those
 * files includes it.
 */
#ifndef NM_STORE_INT_H
#define NM_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nm_error.h"
#include "nm_sbuf.h"
#include "nm_store.h"

/* The prepared statements, in statement_sql (nm_store.c) order. */
enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_FIND_ARTICLE,
    ST_DEL_FTS, /* the deletes, in this order: index, children, the article */
    ST_DEL_SECTIONS,
    ST_DEL_OUTLINE,
    ST_DEL_ARTICLE_ENTITIES,
    ST_DEL_ACRONYMS,
    ST_DEL_ARTICLE,
    ST_INS_ARTICLE,
    ST_INS_FTS,
    ST_INS_SECTION,
    ST_INS_OUTLINE,
    ST_INS_ARTICLE_ENTITY,
    ST_INS_ACRONYM,
    ST_FIND_ENTITY,
    ST_INS_ENTITY,
    ST_COUNT
};

/* Entity cache: open addressing, key = type byte + name. */
typedef struct entity_slot {
    char *key; /* NULL = empty */
    size_t key_len;
    uint64_t hash;
    int64_t id;
} entity_slot;

/* Entries; dropped and refilled past this. Bounded for the worker's memory
 * (issue 17): 2^16 entries take 131072 slots of 32 bytes (4 MiB) and their
 * keys (about 2 MiB), where 2^20 grew past 80 MiB on a large database; a
 * miss costs one indexed SELECT. */
#define ENTITY_CACHE_MAX ((size_t)1 << 16)

/* An entity of the article being written and its row id (several of an
 * article's entities may share a canonical name and type, hence a row). */
struct entity_ref {
    int64_t id;
    uint32_t index; /* into result->entities */
};

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
    uint32_t *ranks; /* summary rank per sentence */
    size_t ranks_cap;
    struct entity_ref *refs; /* the article's entities sorted by id, to group them */
    uint32_t *scratch;       /* per entity and per mention: grouping mentions by entity row */
    size_t refs_cap, scratch_cap;
    nm_sbuf packed; /* sentences_packed / mentions_packed being built (nm_store_pack.c) */
    nm_sbuf kp_packed; /* keyphrases_packed */
    void *zctx;     /* ZSTD_CCtx for body_zstd, made on first use */
    void *zbuf;     /* the compressed body */
    size_t zbuf_cap;
    char *wal_path;        /* PATH-wal */
    int64_t wal_max_bytes; /* the WAL's share of max_bytes; 0: no quota */
};

/* Fills err from the connection's last error; returns -1. */
int nm_store_db_error(sqlite3 *db, int rc, nm_error *err, const char *what);

/* Steps a statement whose rows are not wanted and resets it; 0 or -1 (err). */
int nm_store_step(nm_store *s, sqlite3_stmt *st, nm_error *err, const char *what);

/* Forgets every cached entity id (nm_store_cache.c). */
void nm_store_cache_clear(nm_store *s);

/* The slot of key (len bytes, hash its nm_hash_fnv1a): its id when slot->key
 * is set, else the empty slot where it would go. Requires s->slots_cap > 0. */
entity_slot *nm_store_cache_find(nm_store *s, const char *key, size_t len, uint64_t hash);

/* Caches id for key (a copy of the key is kept). */
void nm_store_cache_put(nm_store *s, const char *key, size_t len, uint64_t hash, int64_t id);

/* ---- packed columns (nm_store_pack.c; the format: results_schema.sql) ---- */

/* out = r's sentences_packed; ranks[i] is sentence i's summary rank or 0. */
void nm_store_pack_sentences(nm_sbuf *out, const nm_extract_result *r, const uint32_t *ranks);

/* A mentions_packed value: begin, then each mention of the row in text order
 * (prev_start starts at 0 and is updated). */
void nm_store_pack_mentions_begin(nm_sbuf *out);
void nm_store_pack_mention(nm_sbuf *out, size_t idx, const nm_mention *x, int64_t *prev_start);

/* out = r's keyphrases_packed. */
void nm_store_pack_keyphrases(nm_sbuf *out, const nm_extract_result *r);

/* Compresses text into s->zbuf (*out); 0, or -1 when zstd fails. */
int nm_store_zstd(nm_store *s, const char *text, size_t len, const void **out, size_t *out_len);

/* Frees what nm_store_zstd keeps. */
void nm_store_zstd_free(nm_store *s);

/* Registers the functions of the packed columns (nm_unzstd, nm_summary,
 * nm_sentences_json, nm_mentions_json, nm_keyphrases_json,
 * nm_keyphrase_score, and for the migration nm_zstd, nm_pack_sentences,
 * nm_pack_mentions, nm_pack_keyphrases); an SQLite result code. Only the
 * views call the reading ones (the tables have no generated columns), so
 * writing a row computes none of them. */
int nm_store_register_pack_functions(sqlite3 *db);

/* Registers every SQL function of a results connection: hamming(),
 * minhash_similarity() (nm_store_sql.c) and the pack functions above; an
 * SQLite result code. nm_store_register_functions() and the extension
 * newsmill_results.so (store/ext/) both call it. */
int nm_store_register_sql_functions(sqlite3 *db);

#endif

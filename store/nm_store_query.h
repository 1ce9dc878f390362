/*
 * nm_store_query: the read side of the results databases — the canned
 * questions (search, entity, top, dups, article) over one database or every
 * results*.db of a directory (one per host), rows merged across them.
 *
 * Rows are json-c objects whose keys are the SQL column aliases (the same
 * objects a CLI prints as a table or as JSON, and an HTTP API would send);
 * when several databases are read, search/entity/dups rows also carry "db"
 * (the file name). Every call returns a new array (caller owns:
 * json_object_put) or NULL with err: NM_ERR_INVALID for a bad argument,
 * NM_ERR_NOT_FOUND, or the database's error with the file named.
 *
 * Databases are opened read-only (nm_store_open with read_only) and only
 * read. Not thread-safe: one nm_store_query per thread.
 */
#ifndef NM_STORE_QUERY_H
#define NM_STORE_QUERY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"

typedef struct nm_store_query nm_store_query;

/* Opens the database at db_path, or when dir is not NULL every results*.db
 * in dir. NULL with err (NM_ERR_NOT_FOUND naming what is missing) on
 * failure. Caller owns. */
nm_store_query *nm_store_query_open(const char *db_path, const char *dir, nm_error *err);

/* Accepts NULL; clears *q. */
void nm_store_query_close(nm_store_query **q);

/* Number of databases read. */
size_t nm_store_query_databases(const nm_store_query *q);

/* Full-text search (FTS5 syntax; text that does not parse is searched as
 * plain words): id, title, source, published_unix_ms, snippet, score (bm25,
 * lower is better), best first, at most limit rows. */
json_object *nm_store_query_search(nm_store_query *q, const char *text, int64_t limit, nm_error *err);

/* Articles that mention every one of names[0..n) (1 to 8; substring match,
 * taken literally): id, title, published_unix_ms, entities, mentions; most
 * mentions first, at most limit rows. */
json_object *nm_store_query_entity(nm_store_query *q, const char *const *names, size_t n,
                                   int64_t limit, nm_error *err);

/* The entity type a word names: "people" -> "person", "orgs" ->
 * "organisation", "places", "groups", "other", ...; NULL when none. */
const char *nm_store_query_entity_type(const char *word);

/* The most mentioned entities of a type (as stored: "person", ...) in
 * articles ingested at or after since_unix_ms, summed across databases:
 * name, articles, mentions; most articles (then mentions) first, at most
 * limit rows. Rows carry no "db". */
json_object *nm_store_query_top(nm_store_query *q, const char *type, int64_t since_unix_ms,
                                int64_t limit, nm_error *err);

/* Exact and near duplicates of article id: SimHash within max_distance bits
 * or MinHash similarity at least min_similarity: id, title, distance,
 * similarity, exact; most alike first, at most limit rows. */
json_object *nm_store_query_dups(nm_store_query *q, const char *id, int64_t max_distance,
                                 double min_similarity, int64_t limit, nm_error *err);

/* The full stored extraction of article id, as one object (the article's
 * columns, plus arrays sentences, sections, outline, entities, mentions,
 * acronyms, keyphrases; spans with their "text"), from the first database
 * that has it. NULL with NM_ERR_NOT_FOUND when none has. */
json_object *nm_store_query_article(nm_store_query *q, const char *id, nm_error *err);

#endif

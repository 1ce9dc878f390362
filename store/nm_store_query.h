/*
 * nm_store_query: the read side of the results databases — the canned
 * questions (search, entity, top, dups, article) over one database or every
 * results*.db of one or more directories (one file per host, or the time
 * partitions of nm_partition.h), rows merged across them.
 *
 * Rows are json-c objects whose keys are the SQL column aliases (the same
 * objects a CLI prints as a table or as JSON, and an HTTP API would send);
 * when several databases are read, search/entity/dups rows also carry "db"
 * (the file name). Every call returns a new array (caller owns:
 * json_object_put) or NULL with err: NM_ERR_INVALID for a bad argument,
 * NM_ERR_NOT_FOUND, or the database's error with the file named.
 *
 * Lists are paged (nm_store_query_page): each database yields its first
 * offset + limit rows, the merged rows are sorted and rows [offset, offset +
 * limit) kept, so a page is the same whether the results live in one file or
 * in many (one per host, one per day).
 *
 * Databases are opened read-only (nm_store_open with read_only, memory-mapped
 * reads) and only read; every value reaches SQL as a bound parameter. An
 * nm_store_query is used by one thread at a time; several, one per thread,
 * may be used at once (the module keeps no other state).
 */
#ifndef NM_STORE_QUERY_H
#define NM_STORE_QUERY_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"

typedef struct nm_store_query nm_store_query;

/* Most rows a page may ask for. */
#define NM_STORE_QUERY_MAX_LIMIT 1000

/* Which rows of a list: limit (1..NM_STORE_QUERY_MAX_LIMIT) after skipping
 * offset (>= 0), of the articles whose time is in [since, until) (0: no
 * bound); the time is published_unix_ms for search and ingested_unix_ms for
 * the entity questions (what arrived in the window). Bad values:
 * NM_ERR_INVALID. */
typedef struct nm_store_query_page {
    int64_t limit, offset;
    int64_t since_unix_ms, until_unix_ms;
} nm_store_query_page;

/* Flags of nm_store_query_search. */
enum {
    /* Text that is not valid FTS5 syntax is an error (NM_ERR_INVALID with
     * SQLite's reason) instead of being searched as plain words. */
    NM_STORE_QUERY_STRICT = 1u << 0,
};

/* Opens the database at db_path, or when dir is not NULL or empty every
 * results*.db in dir, or in each of "DIR,DIR,..." (at most 64; as
 * nm_store_query_open_dirs). Neither given (NULL or ""): the defaults of
 * nm_partition.h, NM_RESULTS_DIR_DEFAULT when it is a directory, else
 * NM_RESULTS_DB_DEFAULT. NULL with err (NM_ERR_NOT_FOUND naming what is
 * missing) on failure. Caller owns. */
nm_store_query *nm_store_query_open(const char *db_path, const char *dir, nm_error *err);

/* Opens every results*.db of each of dirs[0..n_dirs) (the partitions of
 * this host, copies of closed partitions from others, one file per host),
 * newest partition first (nm_partition.h names), then the other files by
 * name. A file that cannot be read (corrupt, a newer schema) is skipped with
 * a warning naming it and the reason; NM_ERR_NOT_FOUND when a directory has
 * no results*.db or none can be read. The questions over ingestion time
 * (entity, top, latest, timeline, cooccurring, each) skip the partitions
 * whose window lies outside the page's [since, until); search's window is
 * publication time, so it reads them all. The directories are looked at
 * again at most once a second, at the next question: files that appeared
 * (a new period's partition) are opened, files removed (pruned) are closed;
 * a long-running reader (newsmill serve) needs no restart. Caller owns. */
nm_store_query *nm_store_query_open_dirs(const char *const *dirs, size_t n_dirs, nm_error *err);

/* Accepts NULL; clears *q. */
void nm_store_query_close(nm_store_query **q);

/* Number of databases read. */
size_t nm_store_query_databases(const nm_store_query *q);

/* Full-text search (FTS5 syntax; text that does not parse is searched as
 * plain words unless flags has NM_STORE_QUERY_STRICT): id, title, source,
 * published_unix_ms, snippet (the match in [brackets]), score (bm25, lower
 * is better), best first. */
json_object *nm_store_query_search(nm_store_query *q, const char *text,
                                   const nm_store_query_page *page, unsigned flags, nm_error *err);

/* Articles that mention every one of names[0..n) (1 to 8; substring match,
 * taken literally): id, title, published_unix_ms, entities, mentions; most
 * mentions first. */
json_object *nm_store_query_entity(nm_store_query *q, const char *const *names, size_t n,
                                   const nm_store_query_page *page, nm_error *err);

/* The entity type a word names: "people" or "person" -> "person", "orgs"
 * -> "organisation", "places", "groups" or "group" -> "nationality",
 * "other", ...; NULL when none. */
const char *nm_store_query_entity_type(const char *word);

/* The most mentioned entities of a type (as stored: "person", ...) in
 * the articles of the page's window, summed across databases: name,
 * articles, mentions; most articles (then mentions) first. Rows carry no
 * "db". */
json_object *nm_store_query_top(nm_store_query *q, const char *type,
                                const nm_store_query_page *page, nm_error *err);

/* The latest articles (by ingestion time) of the page's window: id, title,
 * source, published_unix_ms, ingested_unix_ms; newest first. */
json_object *nm_store_query_latest(nm_store_query *q, const nm_store_query_page *page,
                                   nm_error *err);

/* Mentions of the entity called exactly name per time bucket of bucket_ms
 * (by ingestion time, buckets aligned on multiples of bucket_ms since the
 * epoch), in the page's window: bucket_unix_ms, articles, mentions; oldest
 * first, at most the page's limit buckets (offset skips the oldest), summed
 * across databases. Empty when no article mentions it. */
json_object *nm_store_query_timeline(nm_store_query *q, const char *name, int64_t bucket_ms,
                                     const nm_store_query_page *page, nm_error *err);

/* The entities most often mentioned in the same articles as the entity
 * called exactly name, in the page's window: name, type, articles (shared
 * articles); most shared first, summed across databases. */
json_object *nm_store_query_cooccurring(nm_store_query *q, const char *name,
                                        const nm_store_query_page *page, nm_error *err);

/* Exact and near duplicates of article id: SimHash within max_distance bits
 * or MinHash similarity at least min_similarity: id, title, distance,
 * similarity, exact; most alike first. NM_ERR_NOT_FOUND when no database
 * has id. */
json_object *nm_store_query_dups(nm_store_query *q, const char *id, int64_t max_distance,
                                 double min_similarity, const nm_store_query_page *page,
                                 nm_error *err);

/* Calls fn(ctx, id) for every article id of every database, in ingestion
 * order within each database, of those ingested in the page's window (limit
 * and offset ignored) and, when text is not NULL, matching the full-text
 * query text (strict FTS5 syntax). Reads one row at a time: constant memory.
 * Stops when fn returns non-zero (and returns that value); -1 with err on a
 * database error. */
int nm_store_query_each(nm_store_query *q, const char *text, const nm_store_query_page *page,
                        int (*fn)(void *ctx, const char *id), void *ctx, nm_error *err);

/* The full stored extraction of article id, as one object (the article's
 * columns, plus arrays sentences, sections, outline, entities, mentions,
 * acronyms, keyphrases; spans with their "text"), from the first database
 * that has it (newest partition first; called from an nm_store_query_each
 * callback, the database being read first). NULL with NM_ERR_NOT_FOUND
 * when none has. */
json_object *nm_store_query_article(nm_store_query *q, const char *id, nm_error *err);

#endif

/*
 * nm_api: the HTTP routes of `newsmill serve` over the results databases.
 *
 *   GET /                                  the newsroom page (embed/newsroom.html)
 *   GET /api/search?q=&limit=&offset=&since=&until=
 *   GET /api/articles?limit=&offset=&since=           latest first
 *   GET /api/articles/{id}                 the stored extraction
 *   GET /api/entities/top?type=&since=&until=&limit=&offset=
 *   GET /api/entities/{name}/articles?limit=&offset=&since=&until=
 *   GET /api/entities/{name}/timeline?since=&until=&bucket=&limit=
 *   GET /api/entities/{name}/cooccurring?since=&until=&limit=&offset=
 *   GET /api/dups/{id}?max_distance=&min_similarity=&limit=&offset=
 *
 * Several requests are answered at once, each with a read side of its own
 * (nm_store_query: read-only connections); trending answers (top) are kept
 * for a short while (nm_api_cache.h).
 *
 * Every answer is JSON with a stable field order: a list is
 * {"limit", "offset", "rows": [...]}, rows exactly as nm_store_query returns
 * them; an error is {"error": "<kind>", "detail": "<reason>"} with status 400
 * (bad parameter, malformed FTS5 query, over-long or invalid UTF-8 text), 404
 * (unknown article or route), 405 (not GET/HEAD), 503 (database busy) or 500
 * (anything else). Bad input never crashes and never yields a 500.
 *
 * The reference with examples is docs/api.md.
 */
#ifndef NM_API_H
#define NM_API_H

#include "nm_httpd.h"
#include "nm_store_query.h"

/* Longest text parameter accepted (q, names, ids), in bytes. */
#define NM_API_MAX_TEXT 1024

typedef struct nm_api nm_api;

/* What nm_api_new opens and how it answers. */
typedef struct nm_api_options {
    const char *db_path;  /* the results database, or */
    const char *dir;      /* every results*.db of this directory (when not NULL) */
    unsigned readers;     /* requests answered at once: that many read-only
                             connections to each database (1 or more) */
    int64_t top_cache_ms; /* /api/entities/top answers reused this long (0: never) */
} nm_api_options;

/* Opens opts->readers read sides (nm_store_query) of the databases. NULL
 * with err (as nm_store_query_open) on failure. Caller owns. */
nm_api *nm_api_new(const nm_api_options *opts, nm_error *err);

/* Number of databases read. */
size_t nm_api_databases(const nm_api *api);

/* The nm_httpd handler: ctx is the nm_api. Thread-safe: each call takes a
 * free read side for its duration (waiting when all readers are busy). */
void nm_api_handle(void *ctx, const nm_httpd_request *req, nm_httpd_response *res);

/* Accepts NULL; clears *api. */
void nm_api_destroy(nm_api **api);

#endif

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

/* The nm_httpd handler: ctx is the nm_store_query to read (borrowed; used
 * only from the server thread). */
void nm_api_handle(void *ctx, const nm_httpd_request *req, nm_httpd_response *res);

#endif

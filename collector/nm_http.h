/*
 * nm_http: the collector's pages, served by nm_httpd (net/).
 *
 *   GET /            the dashboard page (collector/embed/dashboard.html)
 *   GET /metrics     Prometheus text (NM_PROM_CONTENT_TYPE)
 *   GET /api/stats   the fleet view as JSON (nm_statsview_json)
 *   anything else    404; methods other than GET/HEAD get 405
 *
 * nm_httpd serves from its own thread and never calls back into the reactor: the reactor publishes the documents
 * with nm_http_publish() (about once a second) and the server hands out
 * copies of the latest ones under a mutex.
 */
#ifndef NM_HTTP_H
#define NM_HTTP_H

#include <stdint.h>

#include "nm_error.h"

typedef struct nm_http nm_http;

/* Starts serving on "HOST:PORT" (HOST a name or address; "[::1]:9180" for
 * IPv6; PORT 0 = any free port); with token not NULL every request needs
 * "Authorization: Bearer <token>" (401 otherwise). Returns NULL with err
 * when the address does not parse or cannot be bound. Caller owns the
 * result. */
nm_http *nm_http_new(const char *listen, const char *token, nm_error *err);

/* The port actually bound. */
int nm_http_port(const nm_http *http);

/* Replaces the served /metrics and /api/stats documents; takes ownership of
 * both (malloc'ed, NUL-terminated). Thread-safe. */
void nm_http_publish(nm_http *http, char *metrics_text, char *stats_json);

/* Requests answered so far, by class: [0] 2xx, [1] 404, [2] 405. Thread-safe. */
void nm_http_counts(const nm_http *http, uint64_t counts[3]);

/* Stops the server thread and frees everything; accepts NULL; clears *http. */
void nm_http_destroy(nm_http **http);

#endif

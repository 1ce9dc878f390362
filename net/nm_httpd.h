/*
 * nm_httpd: a small HTTP server (libmicrohttpd) for the programs that serve
 * a page and a JSON API: the collector's dashboard, `newsmill serve`.
 *
 * The server answers from threads of its own: by default one
 * (MHD_USE_INTERNAL_POLLING_THREAD), so the handler is called on that thread,
 * one request at a time, and may use objects that are not thread-safe as
 * long as nothing else touches them. With thread_per_connection, every
 * connection has a thread of its own (MHD_USE_THREAD_PER_CONNECTION): a slow
 * answer delays only its own connection, and the handler is called from
 * many threads at once, so it must be thread-safe. The threads block SIGINT
 * and SIGTERM so that they reach the program's main thread.
 *
 * With a token, every request must carry "Authorization: Bearer <token>"
 * (compared in constant time); others are answered 401 with a JSON error
 * before the handler sees them.
 */
#ifndef NM_HTTPD_H
#define NM_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_error.h"

typedef struct nm_httpd nm_httpd;
typedef struct nm_httpd_request nm_httpd_request;

/* What a handler answers. body is sent as is: when body_free is set the
 * server frees it (malloc'ed), else it must outlive the server (a literal,
 * embedded data). */
typedef struct nm_httpd_response {
    unsigned status;          /* 200, 404, ... */
    const char *content_type; /* "application/json", ... */
    const char *body;
    size_t len;
    bool body_free;
} nm_httpd_response;

/* Fills *res for the request (method "GET", "HEAD", ...; path without the
 * query string, percent-decoded). Called on a server thread (see above). */
typedef void (*nm_httpd_handler)(void *ctx, const nm_httpd_request *req, nm_httpd_response *res);

typedef struct nm_httpd_options {
    const char *listen;   /* "HOST:PORT" ("[::1]:9180" for IPv6; PORT 0: any free port) */
    nm_httpd_handler handler;
    void *ctx;            /* passed to handler */
    const char *token;    /* NULL: no authorization asked */
    bool thread_per_connection; /* false: one thread; true: one per connection */
} nm_httpd_options;

/* Starts serving. Returns NULL with err (NM_ERR_INVALID: the address does
 * not parse; NM_ERR_IO: it cannot be bound). Caller owns the result. */
nm_httpd *nm_httpd_new(const nm_httpd_options *opts, nm_error *err);

/* The port actually bound. */
int nm_httpd_port(const nm_httpd *httpd);

/* The request's method and percent-decoded path. */
const char *nm_httpd_method(const nm_httpd_request *req);
const char *nm_httpd_path(const nm_httpd_request *req);

/* The query-string argument name (percent-decoded; "" for "?name"), or NULL
 * when absent. Valid during the handler call. */
const char *nm_httpd_arg(const nm_httpd_request *req, const char *name);

/* True when the listen address ("HOST:PORT") is a loopback address
 * (127.0.0.0/8, ::1, localhost); false when it does not parse. */
bool nm_httpd_is_loopback(const char *listen);

/* Reads a token from the first line of path (trailing whitespace dropped;
 * at least 16 bytes). Returns a malloc'ed string (caller owns), or NULL with
 * err. */
char *nm_httpd_read_token(const char *path, nm_error *err);

/* Stops the server thread and frees everything; accepts NULL; clears *httpd. */
void nm_httpd_destroy(nm_httpd **httpd);

#endif

/* nm_httpd: libmicrohttpd behind a handler callback (see nm_httpd.h). */
#include "nm_httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nm_alloc.h"

struct nm_httpd {
    struct MHD_Daemon *daemon;
    int port;
    nm_httpd_handler handler;
    void *ctx;
    unsigned char token_hash[crypto_generichash_BYTES]; /* of the token, when has_token */
    bool has_token;
};

struct nm_httpd_request {
    struct MHD_Connection *conn;
    const char *method, *path;
};

static enum MHD_Result queue(struct MHD_Connection *conn, const nm_httpd_response *res)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        res->len, (void *)res->body, res->body_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (res->body_free)
            free((void *)res->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (res->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (res->status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result ret = MHD_queue_response(conn, res->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* True when the request carries the token (hashes compared in constant time,
 * whatever the lengths). */
static bool authorized(const nm_httpd *h, struct MHD_Connection *conn)
{
    if (!h->has_token)
        return true;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    static const char prefix[] = "Bearer ";
    if (!auth || strncmp(auth, prefix, sizeof prefix - 1))
        return false;
    const char *given = auth + sizeof prefix - 1;
    unsigned char hash[crypto_generichash_BYTES];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)given, strlen(given), NULL, 0);
    return sodium_memcmp(hash, h->token_hash, sizeof hash) == 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    nm_httpd *h = cls;
    (void)version;
    (void)upload;
    if (!*req_cls) { /* first call: headers only; answer on the next */
        *req_cls = h;
        return MHD_YES;
    }
    if (*upload_size) { /* a request body: read and ignore it, answer after */
        *upload_size = 0;
        return MHD_YES;
    }
    if (!authorized(h, conn)) {
        static const char msg[] = "{\"error\":\"unauthorized\","
                                  "\"detail\":\"send Authorization: Bearer <token>\"}";
        nm_httpd_response res = {MHD_HTTP_UNAUTHORIZED, "application/json", msg, sizeof msg - 1,
                                 false};
        return queue(conn, &res);
    }
    nm_httpd_request req = {conn, method, url};
    nm_httpd_response res = {MHD_HTTP_OK, "text/plain; charset=utf-8", "", 0, false};
    h->handler(h->ctx, &req, &res);
    return queue(conn, &res);
}

static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *addr_len,
                        nm_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return nm_error_set(err, NM_ERR_INVALID, "HTTP address '%s' is not HOST:PORT", listen);
    size_t hlen = (size_t)(colon - listen);
    const char *h0 = listen;
    if (h0[0] == '[' && hlen >= 2 && h0[hlen - 1] == ']') {
        h0++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return nm_error_set(err, NM_ERR_INVALID, "HTTP host too long in '%s'", listen);
    memcpy(host, h0, hlen);
    host[hlen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return nm_error_set(err, NM_ERR_INVALID, "bad HTTP port in '%s'", listen);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%ld", port);
    int rc = getaddrinfo(strcmp(host, "*") && *host ? host : NULL, service, &hints, &res);
    if (rc != 0 || !res)
        return nm_error_set(err, NM_ERR_INVALID, "HTTP host '%s': %s", host, gai_strerror(rc));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

bool nm_httpd_is_loopback(const char *listen)
{
    struct sockaddr_storage addr;
    socklen_t len;
    nm_error err;
    if (parse_listen(listen, &addr, &len, &err) != 0)
        return false;
    if (addr.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

char *nm_httpd_read_token(const char *path, nm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        nm_error_set(err, NM_ERR_NOT_FOUND, "cannot read token file %s", path);
        return NULL;
    }
    char line[1024];
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        line[--n] = '\0';
    if (n < 16) {
        nm_error_set(err, NM_ERR_INVALID, "token in %s is shorter than 16 bytes", path);
        return NULL;
    }
    return nm_xstrdup(line);
}

nm_httpd *nm_httpd_new(const nm_httpd_options *opts, nm_error *err)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (parse_listen(opts->listen, &addr, &addr_len, err) != 0)
        return NULL;
    if (opts->token && sodium_init() < 0) {
        nm_error_set(err, NM_ERR_IO, "libsodium does not initialise");
        return NULL;
    }
    nm_httpd *h = nm_xcalloc(1, sizeof *h);
    h->handler = opts->handler;
    h->ctx = opts->ctx;
    if (opts->token) {
        h->has_token = true;
        crypto_generichash(h->token_hash, sizeof h->token_hash,
                           (const unsigned char *)opts->token, strlen(opts->token), NULL, 0);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The server thread inherits this mask: signals go to the main thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (opts->thread_per_connection)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                 MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->daemon) {
        nm_error_set(err, NM_ERR_IO, "cannot serve HTTP on %s (address in use?)", opts->listen);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h;
}

int nm_httpd_port(const nm_httpd *httpd) { return httpd->port; }

const char *nm_httpd_method(const nm_httpd_request *req) { return req->method; }

const char *nm_httpd_path(const nm_httpd_request *req) { return req->path; }

const char *nm_httpd_arg(const nm_httpd_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void nm_httpd_destroy(nm_httpd **httpdp)
{
    if (!httpdp || !*httpdp)
        return;
    nm_httpd *h = *httpdp;
    MHD_stop_daemon(h->daemon);
    sodium_memzero(h->token_hash, sizeof h->token_hash);
    free(h);
    *httpdp = NULL;
}

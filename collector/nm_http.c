#include "nm_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_prom.h"

extern const unsigned char nm_embed_dashboard_html[];
extern const size_t nm_embed_dashboard_html_len;

struct nm_http {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    char *metrics; /* guarded by lock */
    char *json;    /* guarded by lock */
    atomic_uint_fast64_t counts[3];
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *type,
                               const void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Copies a published document under the lock and sends the copy. */
static enum MHD_Result respond_doc(nm_http *h, struct MHD_Connection *conn, char **doc,
                                   const char *type)
{
    pthread_mutex_lock(&h->lock);
    char *copy = nm_xstrdup(*doc ? *doc : "");
    pthread_mutex_unlock(&h->lock);
    enum MHD_Result ret = respond(conn, MHD_HTTP_OK, type, copy, strlen(copy),
                                  MHD_RESPMEM_MUST_FREE);
    if (ret == MHD_NO)
        free(copy);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    nm_http *h = cls;
    (void)version;
    (void)upload;
    if (!*req_cls) { /* first call: headers only; answer on the next */
        *req_cls = h;
        return MHD_YES;
    }
    *upload_size = 0; /* ignore any request body */
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        atomic_fetch_add(&h->counts[2], 1);
        static const char msg[] = "method not allowed: only GET and HEAD\n";
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", msg,
                       sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
    }
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
        atomic_fetch_add(&h->counts[0], 1);
        return respond(conn, MHD_HTTP_OK, "text/html; charset=utf-8", nm_embed_dashboard_html,
                       nm_embed_dashboard_html_len, MHD_RESPMEM_PERSISTENT);
    }
    if (!strcmp(url, "/metrics")) {
        atomic_fetch_add(&h->counts[0], 1);
        return respond_doc(h, conn, &h->metrics, NM_PROM_CONTENT_TYPE);
    }
    if (!strcmp(url, "/api/stats")) {
        atomic_fetch_add(&h->counts[0], 1);
        return respond_doc(h, conn, &h->json, "application/json");
    }
    atomic_fetch_add(&h->counts[1], 1);
    static const char msg[] = "not found; try /, /metrics or /api/stats\n";
    return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", msg, sizeof msg - 1,
                   MHD_RESPMEM_PERSISTENT);
}

static int parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *addr_len,
                        nm_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return nm_error_set(err, NM_ERR_INVALID, "HTTP address '%s' is not HOST:PORT", listen);
    size_t hlen = (size_t)(colon - listen);
    if (listen[0] == '[' && hlen >= 2 && listen[hlen - 1] == ']') {
        listen++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return nm_error_set(err, NM_ERR_INVALID, "HTTP host too long in '%s'", listen);
    memcpy(host, listen, hlen);
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

nm_http *nm_http_new(const char *listen, nm_error *err)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (parse_listen(listen, &addr, &addr_len, err) != 0)
        return NULL;
    nm_http *h = nm_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The server thread inherits this mask: signals go to the reactor. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                                 MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->daemon) {
        nm_error_set(err, NM_ERR_IO, "cannot serve HTTP on %s (address in use?)", listen);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h;
}

int nm_http_port(const nm_http *http) { return http->port; }

void nm_http_publish(nm_http *http, char *metrics_text, char *stats_json)
{
    pthread_mutex_lock(&http->lock);
    char *old_m = http->metrics, *old_j = http->json;
    http->metrics = metrics_text;
    http->json = stats_json;
    pthread_mutex_unlock(&http->lock);
    free(old_m);
    free(old_j);
}

void nm_http_counts(const nm_http *http, uint64_t counts[3])
{
    for (int i = 0; i < 3; i++)
        counts[i] = atomic_load(&((nm_http *)http)->counts[i]);
}

void nm_http_destroy(nm_http **httpp)
{
    if (!httpp || !*httpp)
        return;
    nm_http *h = *httpp;
    MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->lock);
    free(h->metrics);
    free(h->json);
    free(h);
    *httpp = NULL;
}

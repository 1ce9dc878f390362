/* nm_http: the collector's pages over nm_httpd (see nm_http.h). */
#include "nm_http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_httpd.h"
#include "nm_prom.h"

extern const unsigned char nm_embed_dashboard_html[];
extern const size_t nm_embed_dashboard_html_len;

struct nm_http {
    nm_httpd *server;
    pthread_mutex_t lock;
    char *metrics; /* guarded by lock */
    char *json;    /* guarded by lock */
    atomic_uint_fast64_t counts[3];
};

static void set(nm_httpd_response *res, unsigned status, const char *type, const char *body,
                size_t len, bool body_free)
{
    *res = (nm_httpd_response){status, type, body, len, body_free};
}

/* A copy of a published document, taken under the lock. */
static void respond_doc(nm_http *h, char **doc, const char *type, nm_httpd_response *res)
{
    pthread_mutex_lock(&h->lock);
    char *copy = nm_xstrdup(*doc ? *doc : "");
    pthread_mutex_unlock(&h->lock);
    set(res, 200, type, copy, strlen(copy), true);
}

static void handle(void *ctx, const nm_httpd_request *req, nm_httpd_response *res)
{
    nm_http *h = ctx;
    const char *method = nm_httpd_method(req), *url = nm_httpd_path(req);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        atomic_fetch_add(&h->counts[2], 1);
        static const char msg[] = "method not allowed: only GET and HEAD\n";
        set(res, 405, "text/plain; charset=utf-8", msg, sizeof msg - 1, false);
        return;
    }
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
        atomic_fetch_add(&h->counts[0], 1);
        set(res, 200, "text/html; charset=utf-8", (const char *)nm_embed_dashboard_html,
            nm_embed_dashboard_html_len, false);
        return;
    }
    if (!strcmp(url, "/metrics")) {
        atomic_fetch_add(&h->counts[0], 1);
        respond_doc(h, &h->metrics, NM_PROM_CONTENT_TYPE, res);
        return;
    }
    if (!strcmp(url, "/api/stats")) {
        atomic_fetch_add(&h->counts[0], 1);
        respond_doc(h, &h->json, "application/json", res);
        return;
    }
    atomic_fetch_add(&h->counts[1], 1);
    static const char msg[] = "not found; try /, /metrics or /api/stats\n";
    set(res, 404, "text/plain; charset=utf-8", msg, sizeof msg - 1, false);
}

nm_http *nm_http_new(const char *listen, const char *token, nm_error *err)
{
    nm_http *h = nm_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
    nm_httpd_options o = {listen, handle, h, token, false};
    if (!(h->server = nm_httpd_new(&o, err))) {
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    return h;
}

int nm_http_port(const nm_http *http) { return nm_httpd_port(http->server); }

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
    nm_httpd_destroy(&h->server);
    pthread_mutex_destroy(&h->lock);
    free(h->metrics);
    free(h->json);
    free(h);
    *httpp = NULL;
}

/* nm_api: routes, parameters and JSON answers (see nm_api.h). */
#include "nm_api.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_api_cache.h"
#include "nm_time.h"
#include "nm_utf8.h"

extern const unsigned char nm_embed_newsroom_html[];
extern const size_t nm_embed_newsroom_html_len;

#define LIMIT_DEFAULT 20

struct nm_api {
    nm_store_query **readers;
    size_t n_readers;
    size_t *free_list; /* indices of the readers not in use */
    size_t n_free;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    nm_api_cache *top_cache; /* NULL: top is not cached */
};

/* One request being answered. */
typedef struct call {
    nm_api *api;
    nm_store_query *q;
    const nm_httpd_request *req;
    nm_httpd_response *res;
    nm_error err;
} call;

/* ---- answers ------------------------------------------------------------- */

static void send_json(call *c, unsigned status, json_object *obj)
{
    const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(text);
    char *body = nm_xmalloc(len + 1);
    memcpy(body, text, len + 1);
    *c->res = (nm_httpd_response){status, "application/json", body, len, true};
    json_object_put(obj);
}

static void send_error(call *c, unsigned status, const char *kind, const char *detail)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(kind));
    json_object_object_add(o, "detail", json_object_new_string(detail));
    send_json(c, status, o);
}

/* The error of a failed store call, as its status. */
static void send_store_error(call *c)
{
    switch (c->err.code) {
    case NM_ERR_INVALID: send_error(c, 400, "bad_request", c->err.msg); break;
    case NM_ERR_NOT_FOUND: send_error(c, 404, "not_found", c->err.msg); break;
    case NM_ERR_BUSY: send_error(c, 503, "busy", c->err.msg); break;
    default: send_error(c, 500, "internal", c->err.msg); break;
    }
}

/* Sends rows as a page; -1 (nothing sent) when rows is NULL. */
static int send_rows(call *c, json_object *rows, const nm_store_query_page *page)
{
    if (!rows)
        return -1;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "limit", json_object_new_int64(page->limit));
    json_object_object_add(o, "offset", json_object_new_int64(page->offset));
    json_object_object_add(o, "rows", rows);
    send_json(c, 200, o);
    return 0;
}

/* ---- parameters ------------------------------------------------------------ */

/* A text parameter (or path part): at most NM_API_MAX_TEXT bytes of valid
 * UTF-8, not empty unless allowed. -1 with c->err (NM_ERR_INVALID). */
static int check_text(call *c, const char *name, const char *v)
{
    size_t len = strlen(v), bad;
    if (len > NM_API_MAX_TEXT)
        return nm_error_set(&c->err, NM_ERR_INVALID, "%s: longer than %d bytes (%zu)", name,
                            NM_API_MAX_TEXT, len);
    if (!nm_utf8_valid(v, len, &bad))
        return nm_error_set(&c->err, NM_ERR_INVALID, "%s: invalid UTF-8 at byte %zu", name, bad);
    if (len == 0)
        return nm_error_set(&c->err, NM_ERR_INVALID, "%s: empty", name);
    return 0;
}

static int arg_int(call *c, const char *name, int64_t dflt, int64_t *out)
{
    const char *v = nm_httpd_arg(c->req, name);
    if (!v || !*v) {
        *out = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (*end || errno || end == v)
        return nm_error_set(&c->err, NM_ERR_INVALID, "%s: not an integer: '%.40s'", name, v);
    *out = x;
    return 0;
}

static int arg_double(call *c, const char *name, double dflt, double *out)
{
    const char *v = nm_httpd_arg(c->req, name);
    if (!v || !*v) {
        *out = dflt;
        return 0;
    }
    char *end;
    double x = strtod(v, &end);
    if (*end || end == v || !(x >= 0 && x <= 1))
        return nm_error_set(&c->err, NM_ERR_INVALID, "%s: not a number from 0 to 1: '%.40s'",
                            name, v);
    *out = x;
    return 0;
}

/* A point in time: a timestamp (ISO 8601, Unix seconds or ms) or a duration
 * back from now ("1h", "7d"). Absent: 0 (no bound). */
static int arg_time(call *c, const char *name, int64_t *unix_ms)
{
    const char *v = nm_httpd_arg(c->req, name);
    *unix_ms = 0;
    if (!v || !*v)
        return 0;
    return nm_time_parse_point(name, v, unix_ms, &c->err);
}

/* limit, offset, since, until. */
static int arg_page(call *c, nm_store_query_page *page)
{
    if (arg_int(c, "limit", LIMIT_DEFAULT, &page->limit) != 0 ||
        arg_int(c, "offset", 0, &page->offset) != 0 ||
        arg_time(c, "since", &page->since_unix_ms) != 0 ||
        arg_time(c, "until", &page->until_unix_ms) != 0)
        return -1;
    if (page->limit < 1 || page->limit > NM_STORE_QUERY_MAX_LIMIT)
        return nm_error_set(&c->err, NM_ERR_INVALID, "limit: must be 1 to %d (got %lld)",
                            NM_STORE_QUERY_MAX_LIMIT, (long long)page->limit);
    if (page->offset < 0 || page->offset > 1000000)
        return nm_error_set(&c->err, NM_ERR_INVALID, "offset: must be 0 to 1000000 (got %lld)",
                            (long long)page->offset);
    return 0;
}

/* ---- routes ---------------------------------------------------------------- */

/* A route answers and returns 0, or returns -1 with c->err set (answered by
 * send_store_error). */

static int r_search(call *c, const char *rest)
{
    (void)rest;
    nm_store_query_page page;
    const char *text = nm_httpd_arg(c->req, "q");
    if (arg_page(c, &page) != 0 || check_text(c, "q", text ? text : "") != 0)
        return -1;
    return send_rows(c, nm_store_query_search(c->q, text, &page, NM_STORE_QUERY_STRICT, &c->err),
                     &page);
}

static int r_latest(call *c, const char *rest)
{
    (void)rest;
    nm_store_query_page page;
    if (arg_page(c, &page) != 0)
        return -1;
    return send_rows(c, nm_store_query_latest(c->q, &page, &c->err), &page);
}

static int r_article(call *c, const char *id)
{
    json_object *art;
    if (check_text(c, "id", id) != 0 || !(art = nm_store_query_article(c->q, id, &c->err)))
        return -1;
    send_json(c, 200, art);
    return 0;
}

static int r_dups(call *c, const char *id)
{
    nm_store_query_page page;
    int64_t max_distance = 3;
    double min_similarity = 0.5;
    if (check_text(c, "id", id) != 0 || arg_page(c, &page) != 0 ||
        arg_int(c, "max_distance", 3, &max_distance) != 0 ||
        arg_double(c, "min_similarity", 0.5, &min_similarity) != 0)
        return -1;
    if (max_distance < 0 || max_distance > 64)
        return nm_error_set(&c->err, NM_ERR_INVALID, "max_distance: must be 0 to 64");
    return send_rows(
        c, nm_store_query_dups(c->q, id, max_distance, min_similarity, &page, &c->err), &page);
}

static int r_top(call *c)
{
    nm_store_query_page page;
    const char *word = nm_httpd_arg(c->req, "type");
    if (arg_page(c, &page) != 0)
        return -1;
    const char *type = word ? nm_store_query_entity_type(word) : NULL;
    if (!type)
        return nm_error_set(
            &c->err, NM_ERR_INVALID,
            "type: must be person, organisation, place, group or other (got '%.40s')",
            word ? word : "");
    if (!c->api->top_cache)
        return send_rows(c, nm_store_query_top(c->q, type, &page, &c->err), &page);
    /* the parameters as given: "since=1h" is the same window while cached */
    char key[512];
    const char *since = nm_httpd_arg(c->req, "since"), *until = nm_httpd_arg(c->req, "until");
    snprintf(key, sizeof key, "%s\x1f%lld\x1f%lld\x1f%.200s\x1f%.200s", type,
             (long long)page.limit, (long long)page.offset, since ? since : "",
             until ? until : "");
    char *body;
    size_t len;
    if (nm_api_cache_get(c->api->top_cache, key, &body, &len)) {
        *c->res = (nm_httpd_response){200, "application/json", body, len, true};
        return 0;
    }
    int rc = send_rows(c, nm_store_query_top(c->q, type, &page, &c->err), &page);
    nm_api_cache_put(c->api->top_cache, key, rc == 0 ? c->res->body : NULL,
                     rc == 0 ? c->res->len : 0);
    return rc;
}

static int e_articles(call *c, const char *name, nm_store_query_page *page)
{
    const char *names[1] = {name};
    return send_rows(c, nm_store_query_entity(c->q, names, 1, page, &c->err), page);
}

static int e_timeline(call *c, const char *name, nm_store_query_page *page)
{
    int64_t bucket_ms = 3600000;
    const char *b = nm_httpd_arg(c->req, "bucket");
    if (b && *b && (nm_duration_parse_ms(b, &bucket_ms, &c->err) != 0 || bucket_ms < 1000))
        return nm_error_set(&c->err, NM_ERR_INVALID,
                            "bucket: not a duration of 1s or more: '%.40s'", b);
    if (!nm_httpd_arg(c->req, "limit"))
        page->limit = NM_STORE_QUERY_MAX_LIMIT;
    return send_rows(c, nm_store_query_timeline(c->q, name, bucket_ms, page, &c->err), page);
}

static int e_cooccurring(call *c, const char *name, nm_store_query_page *page)
{
    return send_rows(c, nm_store_query_cooccurring(c->q, name, page, &c->err), page);
}

/* /api/entities/top, /api/entities/{name}/{question}: the name is
 * everything between (it may hold '/'). */
static int r_entity(call *c, const char *rest)
{
    static const struct {
        const char *suffix;
        int (*run)(call *c, const char *name, nm_store_query_page *page);
    } questions[] = {
        {"/articles", e_articles}, {"/timeline", e_timeline}, {"/cooccurring", e_cooccurring}};
    if (!strcmp(rest, "top"))
        return r_top(c);
    size_t len = strlen(rest);
    for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++) {
        size_t sl = strlen(questions[i].suffix);
        if (len <= sl || strcmp(rest + len - sl, questions[i].suffix))
            continue;
        char *name = nm_xstrdup(rest);
        name[len - sl] = '\0';
        nm_store_query_page page;
        int rc = -1;
        if (check_text(c, "name", name) == 0 && arg_page(c, &page) == 0)
            rc = questions[i].run(c, name, &page);
        free(name);
        return rc;
    }
    return nm_error_set(&c->err, NM_ERR_NOT_FOUND,
                        "no such route; try /api/entities/top or /api/entities/{name}/articles,"
                        " /timeline, /cooccurring");
}

static int r_page(call *c, const char *rest)
{
    (void)rest;
    *c->res = (nm_httpd_response){200, "text/html; charset=utf-8",
                                  (const char *)nm_embed_newsroom_html, nm_embed_newsroom_html_len,
                                  false};
    return 0;
}

/* Routes by path: exact, or a prefix whose (non-empty) rest is the route's
 * argument. */
static const struct {
    const char *path;
    bool prefix;
    int (*run)(call *c, const char *rest);
} routes[] = {
    {"/", false, r_page},
    {"/index.html", false, r_page},
    {"/api/search", false, r_search},
    {"/api/articles", false, r_latest},
    {"/api/articles/", true, r_article},
    {"/api/entities/", true, r_entity},
    {"/api/dups/", true, r_dups},
};

/* ---- the read sides -------------------------------------------------------- */

/* A reader no other call is using (waits for one); give it back with
 * put_reader. */
static size_t take_reader(nm_api *api)
{
    pthread_mutex_lock(&api->lock);
    while (api->n_free == 0)
        pthread_cond_wait(&api->freed, &api->lock);
    size_t i = api->free_list[--api->n_free];
    pthread_mutex_unlock(&api->lock);
    return i;
}

static void put_reader(nm_api *api, size_t i)
{
    pthread_mutex_lock(&api->lock);
    api->free_list[api->n_free++] = i;
    pthread_cond_signal(&api->freed);
    pthread_mutex_unlock(&api->lock);
}

nm_api *nm_api_new(const nm_api_options *opts, nm_error *err)
{
    nm_api *api = nm_xcalloc(1, sizeof *api);
    size_t n = opts->readers > 0 ? opts->readers : 1;
    api->readers = nm_xcalloc(n, sizeof *api->readers);
    api->free_list = nm_xcalloc(n, sizeof *api->free_list);
    pthread_mutex_init(&api->lock, NULL);
    pthread_cond_init(&api->freed, NULL);
    for (; api->n_readers < n; api->n_readers++) {
        api->readers[api->n_readers] =
            nm_store_query_open(opts->dir ? NULL : opts->db_path, opts->dir, err);
        if (!api->readers[api->n_readers]) {
            nm_api_destroy(&api);
            return NULL;
        }
        api->free_list[api->n_free++] = api->n_readers;
    }
    if (opts->top_cache_ms > 0)
        api->top_cache = nm_api_cache_new(opts->top_cache_ms);
    return api;
}

size_t nm_api_databases(const nm_api *api)
{
    return nm_store_query_databases(api->readers[0]);
}

void nm_api_destroy(nm_api **apip)
{
    if (!apip || !*apip)
        return;
    nm_api *api = *apip;
    for (size_t i = 0; i < api->n_readers; i++)
        nm_store_query_close(&api->readers[i]);
    free(api->readers);
    free(api->free_list);
    nm_api_cache_destroy(&api->top_cache);
    pthread_cond_destroy(&api->freed);
    pthread_mutex_destroy(&api->lock);
    free(api);
    *apip = NULL;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* Answers c (c->q set) by the route of path. */
static void dispatch(call *c, const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        bool match = routes[i].prefix ? !strncmp(path, routes[i].path, n) && path[n]
                                      : !strcmp(path, routes[i].path);
        if (match) {
            if (routes[i].run(c, path + (routes[i].prefix ? n : 0)) != 0)
                send_store_error(c);
            return;
        }
    }
    send_error(c, 404, "not_found", "no such route; see docs/api.md");
}

void nm_api_handle(void *ctx, const nm_httpd_request *req, nm_httpd_response *res)
{
    nm_api *api = ctx;
    call c = {.api = api, .req = req, .res = res};
    const char *method = nm_httpd_method(req), *path = nm_httpd_path(req);
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        send_error(&c, 405, "method_not_allowed", "only GET and HEAD");
        return;
    }
    size_t r = take_reader(api);
    c.q = api->readers[r];
    dispatch(&c, path);
    put_reader(api, r);
}

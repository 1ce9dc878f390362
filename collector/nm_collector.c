#include "nm_curve.h"
#include "nm_collector.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_aggregate.h"
#include "nm_alloc.h"
#include "nm_frame.h"
#include "nm_http.h"
#include "nm_log.h"
#include "nm_prom.h"
#include "nm_sbuf.h"
#include "nm_stats.h"
#include "nm_statsview.h"
#include "nm_time.h"

#define TICK_NS NM_NS_PER_S
#define PUBLISH_MIN_NS (250 * NM_NS_PER_MS)
#define DRAIN_MAX 1000           /* stats messages per wake-up before serving queries */
#define QUERY_MAX_BYTES (1 << 20) /* a StatsRequest is tiny */

struct nm_collector {
    void *stats_sock, *query_sock;
    nm_http *http;
    nm_stats *self;
    nm_curve *curve; /* borrowed; NULL: plain */
    nm_agg *agg;
    nm_metric *queries, *query_errors;
    nm_metric *http_m[3];
    uint64_t http_seen[3];
    bool dirty;
    int64_t next_tick_ns, last_publish_ns;
};

static void *bind_socket(void *ctx, int type, const char *endpoint, const char *what,
                         nm_curve *curve, nm_error *err)
{
    void *s = zmq_socket(ctx, type);
    if (!s) {
        nm_error_set(err, NM_ERR_ZMQ, "%s socket: %s", what, zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 0, hwm = 100000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (nm_curve_apply_server(curve, s, what, err) != 0) {
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, endpoint) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "binding %s socket to %s: %s", what, endpoint,
                     zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

nm_collector *nm_collector_new(void *zmq_ctx, const nm_collector_config *cfg, nm_error *err)
{
    nm_collector *c = nm_xcalloc(1, sizeof *c);
    c->curve = cfg->curve;
    c->stats_sock = bind_socket(zmq_ctx, ZMQ_PULL, cfg->stats_bind, "stats", cfg->curve, err);
    if (c->stats_sock)
        c->query_sock = bind_socket(zmq_ctx, ZMQ_ROUTER, cfg->query_bind, "query", cfg->curve, err);
    if (c->query_sock && cfg->http_listen && *cfg->http_listen)
        c->http = nm_http_new(cfg->http_listen, cfg->http_token, err);
    if (!c->query_sock || (cfg->http_listen && *cfg->http_listen && !c->http)) {
        nm_collector_destroy(&c);
        return NULL;
    }
    c->self = nm_stats_new("collector", cfg->instance);
    c->queries = nm_stats_counter(c->self, "collector_queries_total",
                                  "Snapshot requests answered on the query socket", NULL, NULL);
    c->query_errors = nm_stats_counter(c->self, "collector_query_errors_total",
                                       "Bad requests on the query socket", NULL, NULL);
    static const char *codes[3] = {"200", "404", "405"};
    for (int i = 0; i < 3; i++)
        c->http_m[i] = nm_stats_counter(c->self, "collector_http_requests_total",
                                        "HTTP requests served, by status code", "code", codes[i]);
    nm_agg_config acfg = {cfg->stale_after_ms, cfg->gone_after_ms};
    c->agg = nm_agg_new(&acfg, nm_time_unix_ms(), c->self);
    nm_log_info("collector listening stats=%s query=%s http=%s", cfg->stats_bind, cfg->query_bind,
                c->http ? cfg->http_listen : "off");
    return c;
}

void nm_collector_destroy(nm_collector **cp)
{
    if (!cp || !*cp)
        return;
    nm_collector *c = *cp;
    nm_http_destroy(&c->http);
    if (c->stats_sock)
        zmq_close(c->stats_sock);
    if (c->query_sock)
        zmq_close(c->query_sock);
    nm_agg_destroy(&c->agg);
    nm_stats_destroy(&c->self);
    free(c);
    *cp = NULL;
}

/* Receives one whole message from the PULL socket and ingests it. Returns 1
 * when a message was handled, 0 when none was waiting, -1 on socket error. */
static int drain_one(nm_collector *c, nm_error *err)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, c->stats_sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&msg);
        if (e == EAGAIN || e == EINTR)
            return 0;
        return nm_error_set(err, NM_ERR_ZMQ, "stats socket: %s", zmq_strerror(e));
    }
    bool multipart = zmq_msg_more(&msg);
    if (multipart) { /* a report is exactly one frame: drop the whole message */
        zmq_msg_t rest;
        zmq_msg_init(&rest);
        while (zmq_msg_more(&msg) && zmq_msg_recv(&rest, c->stats_sock, 0) >= 0) {
            zmq_msg_close(&msg);
            zmq_msg_init(&msg);
            zmq_msg_move(&msg, &rest);
        }
        zmq_msg_close(&rest);
        nm_agg_reject(c->agg, "multipart");
        nm_log_debug("stats report rejected reason=multipart");
    } else {
        nm_error e;
        if (nm_agg_ingest_frame(c->agg, zmq_msg_data(&msg), zmq_msg_size(&msg), nm_time_unix_ms(),
                                &e) != 0)
            nm_log_debug("stats report rejected reason=%s error=\"%s\"", nm_errcode_name(e.code),
                         e.msg);
    }
    zmq_msg_close(&msg);
    c->dirty = true;
    return 1;
}

static void answer_query(nm_collector *c)
{
    nm_route route;
    Newsmill__Envelope *req = NULL;
    nm_error err;
    if (nm_frame_recv(c->query_sock, &route, QUERY_MAX_BYTES, &req, ZMQ_DONTWAIT, &err) != 0) {
        if (err.code == NM_ERR_BUSY || err.code == NM_ERR_ZMQ)
            return;
        nm_metric_add(c->query_errors, 1);
        nm_frame_reply_error(c->query_sock, &route, 0, &err);
        return;
    }
    if (req->body_case != NEWSMILL__ENVELOPE__BODY_STATS_REQUEST) {
        nm_metric_add(c->query_errors, 1);
        nm_error_set(&err, NM_ERR_UNKNOWN_TYPE, "the collector answers stats requests, not '%s'",
                     nm_frame_body_name(req->body_case));
        nm_frame_reply_error(c->query_sock, &route, req->request_id, &err);
        nm_frame_free(&req);
        return;
    }
    Newsmill__StatsSnapshot *snap = nm_agg_snapshot(c->agg, nm_time_unix_ms());
    Newsmill__Envelope rep = NEWSMILL__ENVELOPE__INIT;
    rep.request_id = req->request_id;
    rep.body_case = NEWSMILL__ENVELOPE__BODY_SNAPSHOT;
    rep.snapshot = snap;
    if (nm_frame_send(c->query_sock, &route, &rep, ZMQ_DONTWAIT, &err) != 0)
        nm_log_warn("snapshot reply not sent error=\"%s\"", err.msg);
    nm_agg_snapshot_free(&snap);
    nm_frame_free(&req);
    nm_metric_add(c->queries, 1);
}

static void publish(nm_collector *c)
{
    if (!c->http)
        return;
    Newsmill__StatsSnapshot *snap = nm_agg_snapshot(c->agg, nm_time_unix_ms());
    nm_sbuf metrics = NM_SBUF_INIT, json = NM_SBUF_INIT;
    nm_prom_render(snap, &metrics);
    nm_statsview_json(snap, &json);
    nm_agg_snapshot_free(&snap);
    nm_http_publish(c->http, nm_sbuf_take(&metrics), nm_sbuf_take(&json));
}

/* Once a second: own counters in, aggregator tick. */
static void tick(nm_collector *c)
{
    if (c->http) {
        uint64_t counts[3];
        nm_http_counts(c->http, counts);
        for (int i = 0; i < 3; i++) {
            nm_metric_add(c->http_m[i], (double)(counts[i] - c->http_seen[i]));
            c->http_seen[i] = counts[i];
        }
    }
    nm_stats_curve_report(c->self, c->curve);
    int64_t now_ms = nm_time_unix_ms();
    Newsmill__StatsReport *own = nm_stats_report_new(c->self);
    nm_error err;
    if (nm_agg_ingest(c->agg, own, now_ms, &err) != 0)
        nm_log_error("own stats report rejected error=\"%s\"", err.msg);
    nm_stats_report_free(&own);
    nm_agg_tick(c->agg, now_ms);
}

int nm_collector_run(nm_collector *c, volatile sig_atomic_t *stop, nm_error *err)
{
    int64_t now = nm_time_mono_ns();
    c->next_tick_ns = now;
    c->last_publish_ns = 0;
    while (!*stop) {
        now = nm_time_mono_ns();
        if (now >= c->next_tick_ns) {
            tick(c);
            c->next_tick_ns = now + TICK_NS;
            c->dirty = true;
        }
        if (c->dirty && now - c->last_publish_ns >= PUBLISH_MIN_NS) {
            publish(c);
            c->last_publish_ns = now;
            c->dirty = false;
        }
        int64_t wait_ns = c->next_tick_ns - now;
        if (c->dirty) {
            int64_t pub_ns = c->last_publish_ns + PUBLISH_MIN_NS - now;
            if (pub_ns < wait_ns)
                wait_ns = pub_ns;
        }
        long timeout_ms = wait_ns <= 0 ? 0 : (long)(wait_ns / NM_NS_PER_MS) + 1;
        if (timeout_ms > 250) /* a signal may land on another thread: look at *stop often */
            timeout_ms = 250;
        zmq_pollitem_t items[2] = {{c->stats_sock, 0, ZMQ_POLLIN, 0},
                                   {c->query_sock, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll(items, 2, timeout_ms);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            return nm_error_set(err, NM_ERR_ZMQ, "poll: %s", zmq_strerror(zmq_errno()));
        }
        if (items[0].revents & ZMQ_POLLIN) {
            for (int i = 0; i < DRAIN_MAX; i++) {
                int r = drain_one(c, err);
                if (r < 0)
                    return -1;
                if (r == 0)
                    break;
            }
        }
        if (items[1].revents & ZMQ_POLLIN)
            for (int i = 0; i < 100; i++) {
                int ev = 0;
                size_t ev_len = sizeof ev;
                zmq_getsockopt(c->query_sock, ZMQ_EVENTS, &ev, &ev_len);
                if (!(ev & ZMQ_POLLIN))
                    break;
                answer_query(c);
            }
    }
    nm_log_info("collector stopping received=%llu rejected=%llu",
                (unsigned long long)nm_agg_received(c->agg),
                (unsigned long long)nm_agg_rejected(c->agg));
    return 0;
}

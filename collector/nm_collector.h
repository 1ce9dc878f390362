/*
 * nm_collector: the newsmill-collector process around an nm_agg.
 *
 * One reactor (zmq_poll) owns three things:
 *  - a PULL socket (stats_bind) where every process PUSHes its StatsReport
 *    about once a second. The collector drains it as fast as it can and
 *    never replies, so a sender (PUSH, small HWM, ZMQ_DONTWAIT) is never
 *    blocked by it; bad reports are counted by reason and dropped.
 *  - a ROUTER socket (query_bind): StatsRequest -> StatsSnapshot; anything
 *    else gets an ErrorReply.
 *  - the HTTP server (nm_http, its own thread) to which the reactor publishes
 *    /metrics and /api/stats, rebuilt at most every 250 ms when reports
 *    arrived and at least once a second.
 * Once a second it ticks the aggregator and ingests its own registry (role
 * "collector": reports received/rejected, queries, HTTP requests), so its
 * counters appear in /metrics like every other process's.
 */
#ifndef NM_COLLECTOR_H
#define NM_COLLECTOR_H

#include <signal.h>
#include <stdint.h>

#include "nm_error.h"

typedef struct nm_collector nm_collector;

typedef struct nm_collector_config {
    const char *stats_bind;   /* PULL endpoint, e.g. "tcp://127.0.0.1:5557" */
    const char *query_bind;   /* ROUTER endpoint, e.g. "tcp://127.0.0.1:5558" */
    const char *http_listen;  /* "HOST:PORT"; NULL or "" = no HTTP */
    const char *http_token;   /* NULL: none; else every HTTP request needs
                                 "Authorization: Bearer <token>" */
    int64_t stale_after_ms;   /* see nm_agg_config */
    int64_t gone_after_ms;
    const char *instance;     /* own instance name; NULL = HOST:PID */
    struct nm_curve *curve;   /* CURVE on the stats and query sockets (nm_curve.h); NULL:
                                 plain. Borrowed: must outlive the collector */
} nm_collector_config;

/* Binds everything. Returns NULL with err when an endpoint is bad or taken.
 * Caller owns the result; zmq_ctx must outlive it. */
nm_collector *nm_collector_new(void *zmq_ctx, const nm_collector_config *cfg, nm_error *err);

/* Serves until *stop becomes non-zero. Returns 0, or -1 with err on a socket
 * failure it cannot continue from. */
int nm_collector_run(nm_collector *c, volatile sig_atomic_t *stop, nm_error *err);

/* Closes everything; accepts NULL; clears *c. */
void nm_collector_destroy(nm_collector **c);

#endif

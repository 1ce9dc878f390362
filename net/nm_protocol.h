/*
 * nm_protocol: every constant of newsmill's wire protocol, one definition
 * each: the protocol version, the default endpoints (ports) of the queue and
 * the collector, the request-id bits of the worker protocol, and the names
 * of the metrics that one program sends and another reads (the collector's
 * aggregation, tools/statsgen, tools/bench-e2e). The messages themselves are
 * proto/newsmill.proto; framing is nm_frame.h.
 *
 * Changing a value here changes the protocol: a new default port must also
 * be changed in scripts/newsmill.py (Python), and a renamed metric breaks
 * dashboards and alerts built on its Prometheus name (newsmill_ + name).
 * Header-only; depends on nothing.
 */
#ifndef NM_PROTOCOL_H
#define NM_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Envelope.version of every message this build sends and accepts. */
#define NM_PROTOCOL_VERSION 1

/* Default endpoints: everything on one host, loopback. */
#define NM_QUEUE_FRONT_ENDPOINT_DEFAULT "tcp://127.0.0.1:5555"     /* producers -> queue */
#define NM_QUEUE_BACK_ENDPOINT_DEFAULT "tcp://127.0.0.1:5556"      /* queue <-> workers */
#define NM_COLLECTOR_STATS_ENDPOINT_DEFAULT "tcp://127.0.0.1:5557" /* every process -> collector */
#define NM_COLLECTOR_QUERY_ENDPOINT_DEFAULT "tcp://127.0.0.1:5558" /* CLI -> collector */

/* Bits of Envelope.request_id in the worker protocol (see nm_consumer.h):
 * set in heartbeats, and in a Credit that resets the worker's credit. */
#define NM_REQUEST_HEARTBEAT_BIT (UINT64_C(1) << 63)
#define NM_REQUEST_CREDIT_RESET_BIT (UINT64_C(1) << 62)
/* Set in a heartbeat that asks the queue to answer it (a Heartbeat back with
 * the same request_id): how a worker given several queues tells a silent
 * one (nm_consumer.h). */
#define NM_REQUEST_ECHO_BIT (UINT64_C(1) << 61)

/* A list of endpoints, "tcp://a:5555,tcp://b:5555" (producers, workers and
 * the CLI fail over along it): how many there are, and number i (from 0)
 * copied into out (cut to size - 1 bytes). */
static inline int nm_endpoint_count(const char *list)
{
    int n = 1;
    for (const char *c = list; *c; c++)
        n += *c == ',';
    return n;
}

static inline void nm_endpoint_nth(const char *list, int i, char *out, size_t size)
{
    const char *p = list;
    for (; i > 0 && p; i--) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    size_t len = p ? strcspn(p, ",") : 0;
    if (len >= size)
        len = size - 1;
    memcpy(out, p ? p : "", len);
    out[len] = '\0';
}

/* Metric names shared between programs (Prometheus style, without the
 * "newsmill_" prefix the collector adds; see nm_stats.h). */
#define NM_METRIC_QUEUE_ARTICLES_ACCEPTED_TOTAL "queue_articles_accepted_total"
#define NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL "queue_articles_done_total"
#define NM_METRIC_QUEUE_BACKLOG_ARTICLES "queue_backlog_articles"
#define NM_METRIC_QUEUE_IN_FLIGHT_ARTICLES "queue_in_flight_articles"
#define NM_METRIC_QUEUE_OLDEST_BACKLOG_AGE_SECONDS "queue_oldest_backlog_age_seconds"
#define NM_METRIC_QUEUE_DEAD_LETTERS "queue_dead_letters"
#define NM_METRIC_QUEUE_REQUESTS_REJECTED_TOTAL "queue_requests_rejected_total"
#define NM_METRIC_WORKER_ARTICLES_DONE_TOTAL "worker_articles_done_total"
#define NM_METRIC_WORKER_ARTICLES_FAILED_TOTAL "worker_articles_failed_total"
#define NM_METRIC_WORKER_IN_FLIGHT_ARTICLES "worker_in_flight_articles"
#define NM_METRIC_WORKER_RSS_BYTES "worker_rss_bytes"
#define NM_METRIC_WORKER_DB_RETRIES_TOTAL "worker_db_retries_total"
#define NM_METRIC_WORKER_DECODE_SECONDS "worker_decode_seconds"
#define NM_METRIC_WORKER_EXTRACT_SECONDS "worker_extract_seconds"
#define NM_METRIC_WORKER_PERSIST_SECONDS "worker_persist_seconds"
#define NM_METRIC_WORKER_SUBMIT_TO_COMMIT_SECONDS "worker_submit_to_commit_seconds"
#define NM_METRIC_WORKER_BATCH_ARTICLES "worker_batch_articles"

#endif

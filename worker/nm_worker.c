/*
 * nm_worker: see nm_worker.h.
 *
 * Metrics (names are the collector's contract; do not rename):
 *   counters   worker_articles_done_total        committed and settled
 *              worker_stale_dropped_total        not stored because the results database
 *                                                holds a newer revision of the id (an old
 *                                                body held past its lease); settled (done)
 *              worker_articles_failed_total{reason}
 *              worker_bytes_in_total             article body bytes received
 *              worker_batches_total              committed transactions
 *              worker_db_retries_total           batches retried (busy, full, I/O)
 *   histograms worker_decode_seconds             receive + decode + validate, per article
 *              worker_extract_seconds            per article
 *              worker_persist_seconds            per batch, BEGIN .. COMMIT
 *              worker_batch_articles             articles per committed batch
 *              worker_submit_to_commit_seconds   COMMIT time - Delivery.enqueued_unix_ms
 *   gauges     worker_in_flight_articles, worker_rss_bytes, worker_articles_per_second
 * State: "running", "draining", "disk-full".
 */
#include "nm_protocol.h"
#include "nm_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_consumer.h"
#include "nm_extract.h"
#include "nm_fault.h"
#include "nm_log.h"
#include "nm_stats.h"
#include "nm_partition.h"
#include "nm_store.h"
#include "nm_time.h"
#include "nm_writer.h"

#define STATS_INTERVAL_NS NM_NS_PER_S
#define EXTEND_CHECK_NS (100 * NM_NS_PER_MS)
#define BUSY_RETRY_NS (2 * NM_NS_PER_MS)
#define DRAIN_QUIET_NS (200 * NM_NS_PER_MS) /* no delivery for this long: none in transit */

/* An article extracted and waiting for its transaction. */
typedef struct held {
    uint64_t lease_id;
    int64_t revision;          /* Delivery.revision: the store keeps the newest */
    uint32_t lease_ms;         /* as delivered; extensions ask for the same again */
    int64_t enqueued_unix_ms;  /* for submit-to-commit latency */
    int64_t received_ns;       /* for --flush-ms */
    int64_t lease_start_ns;    /* received or last extended */
    nm_extract_result *result; /* owned */
} held;

typedef struct worker_metrics {
    nm_metric *done, *stale, *bytes_in, *batches, *db_retries, *failovers;
    nm_metric *decode_s, *extract_s, *persist_s, *batch_articles, *submit_to_commit_s;
    nm_metric *in_flight, *rss, *rate;
} worker_metrics;

struct nm_worker {
    nm_worker_config cfg;
    void *zmq_ctx;
    nm_consumer *consumer;
    nm_extractor *extractor;
    nm_writer *writer; /* owns the results database */
    nm_stats *stats;
    nm_stats_pub *pub;
    worker_metrics m;
    held *held; /* oldest first; held[0..n_writing) are the writer's job */
    size_t n_held, cap_held, n_writing;
    uint64_t *lease_ids; /* scratch, cap_held long */
    nm_write_job job;    /* the writer's job, and its arrays (job_cap long) */
    nm_extract_result **job_results;
    int64_t *job_revisions;
    nm_write_status *job_status;
    nm_error *job_errors;
    size_t job_cap;
    bool one_by_one_next; /* the last batch failed because of an article */
    bool draining, disk_full;
    int64_t retry_at_ns;   /* no flush before this (after a failed one); 0: none */
    int64_t drain_deadline_ns;
    int64_t last_delivery_ns;
    int64_t next_stats_ns, last_stats_ns, next_extend_check_ns;
    double done_at_last_stats;
};

/* ---- stats ------------------------------------------------------------- */

static void metrics_init(nm_worker *w)
{
    nm_stats *s = w->stats;
    worker_metrics *m = &w->m;
    m->done = nm_stats_counter(s, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL,
                               "articles committed to the results database and settled", NULL,
                               NULL);
    m->stale = nm_stats_counter(s, "worker_stale_dropped_total",
                                "articles not stored because the results database holds a newer"
                                " revision (settled all the same)",
                                NULL, NULL);
    m->bytes_in = nm_stats_counter(s, "worker_bytes_in_total", "article body bytes received",
                                   NULL, NULL);
    m->batches = nm_stats_counter(s, "worker_batches_total", "transactions committed", NULL, NULL);
    m->db_retries = nm_stats_counter(s, NM_METRIC_WORKER_DB_RETRIES_TOTAL,
                                     "batches retried because the database was busy or full",
                                     NULL, NULL);
    m->failovers = nm_stats_counter(s, "worker_queue_failovers_total",
                                    "moves to the next queue of --queue's list after silence",
                                    NULL, NULL);
    m->decode_s = nm_stats_histogram(s, NM_METRIC_WORKER_DECODE_SECONDS,
                                     "receiving, decoding and validating one delivery",
                                     NM_HIST_SECONDS);
    m->extract_s = nm_stats_histogram(s, NM_METRIC_WORKER_EXTRACT_SECONDS, "extracting one article",
                                      NM_HIST_SECONDS);
    m->persist_s = nm_stats_histogram(s, NM_METRIC_WORKER_PERSIST_SECONDS,
                                      "writing one batch, BEGIN to COMMIT", NM_HIST_SECONDS);
    m->batch_articles = nm_stats_histogram(s, NM_METRIC_WORKER_BATCH_ARTICLES,
                                           "articles per committed batch", NM_HIST_COUNT);
    m->submit_to_commit_s = nm_stats_histogram(
        s, NM_METRIC_WORKER_SUBMIT_TO_COMMIT_SECONDS,
        "from the queue accepting an article to its commit in the results database",
        NM_HIST_SECONDS);
    m->in_flight = nm_stats_gauge(s, NM_METRIC_WORKER_IN_FLIGHT_ARTICLES,
                                  "articles held (delivered, not yet committed)", NULL, NULL);
    m->rss = nm_stats_gauge(s, NM_METRIC_WORKER_RSS_BYTES, "resident memory of the worker", NULL, NULL);
    m->rate = nm_stats_gauge(s, "worker_articles_per_second",
                             "articles committed per second over the last report", NULL, NULL);
}

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : 0;
}

static const char *state_name(const nm_worker *w)
{
    return w->disk_full ? "disk-full" : w->draining ? "draining" : "running";
}

static void publish_stats(nm_worker *w, int64_t now_ns)
{
    double done = nm_metric_value(w->m.done);
    double secs = (double)(now_ns - w->last_stats_ns) / 1e9;
    nm_metric_set(w->m.rate, secs > 0 ? (done - w->done_at_last_stats) / secs : 0);
    w->done_at_last_stats = done;
    w->last_stats_ns = now_ns;
    nm_metric_set(w->m.in_flight, (double)w->n_held);
    nm_metric_set(w->m.rss, rss_bytes());
    nm_metric_add(w->m.failovers, (double)nm_consumer_failovers(w->consumer) -
                                      nm_metric_value(w->m.failovers));
    nm_stats_set_state(w->stats, state_name(w));
    w->next_stats_ns = now_ns + STATS_INTERVAL_NS;
    if (!w->pub)
        return;
    nm_error err;
    if (nm_stats_pub_send(w->pub, w->stats, &err) < 0)
        nm_log_warn("stats not sent: %s", err.msg);
}

/* ---- failing ----------------------------------------------------------- */

static void fail_lease(nm_worker *w, uint64_t lease_id, const char *id, const char *reason,
                       const char *message, bool retryable)
{
    nm_metric_add(nm_stats_counter(w->stats, NM_METRIC_WORKER_ARTICLES_FAILED_TOTAL,
                                   "articles reported failed, by reason", "reason", reason),
                  1);
    nm_log_warn("article failed id=%s reason=%s retryable=%s: %s", id ? id : "", reason,
                retryable ? "yes" : "no", message);
    char text[600];
    snprintf(text, sizeof text, "%s: %s", reason, message);
    nm_error err;
    if (nm_consumer_fail(w->consumer, lease_id, text, retryable, &err) < 0)
        nm_log_warn("fail not sent (the lease will expire) lease=%llu: %s",
                    (unsigned long long)lease_id, err.msg);
}

/* ---- persisting -------------------------------------------------------- */

/* Hands everything held to the writer thread as one job: one transaction,
 * or one per article after a batch failed because of one of them. */
static void flush(nm_worker *w)
{
    size_t n = w->n_held;
    if (n > w->job_cap) {
        w->job_cap = n;
        w->job_results = nm_xrealloc(w->job_results, n * sizeof *w->job_results);
        w->job_revisions = nm_xrealloc(w->job_revisions, n * sizeof *w->job_revisions);
        w->job_status = nm_xrealloc(w->job_status, n * sizeof *w->job_status);
        w->job_errors = nm_xrealloc(w->job_errors, n * sizeof *w->job_errors);
    }
    for (size_t i = 0; i < n; i++) {
        w->job_results[i] = w->held[i].result;
        w->job_revisions[i] = w->held[i].revision;
    }
    w->job = (nm_write_job){
        .results = w->job_results,
        .revisions = w->job_revisions,
        .n = n,
        .one_by_one = w->one_by_one_next,
        .ingested_unix_ms = nm_time_unix_ms(),
        .status = w->job_status,
        .errors = w->job_errors,
    };
    w->one_by_one_next = false;
    if (nm_writer_start(w->writer, &w->job))
        w->n_writing = n;
}

/* After the writer finished a job: done for what it committed and for what
 * was stale (a newer revision is stored: settled, never to be stored), fail
 * for what it refused, keep the rest (in order) for the next job; on a
 * database error, decide when to retry. */
static void written(nm_worker *w, int64_t now_ns)
{
    nm_write_job *job = nm_writer_take(w->writer);
    if (!job)
        return;
    int64_t commit_ms = nm_time_unix_ms();
    size_t n_done = 0, n_stale = 0, n_kept = 0, n_settle = 0; /* settle = done + stale */
    for (size_t i = 0; i < job->n; i++) {
        held *h = &w->held[i];
        switch (job->status[i]) {
        case NM_WRITE_PENDING:
            w->held[n_kept++] = *h;
            continue;
        case NM_WRITE_COMMITTED:
            w->lease_ids[n_settle++] = h->lease_id;
            n_done++;
            if (h->enqueued_unix_ms > 0)
                nm_metric_observe(w->m.submit_to_commit_s,
                                  (double)(commit_ms - h->enqueued_unix_ms) / 1e3);
            break;
        case NM_WRITE_STALE:
            w->lease_ids[n_settle++] = h->lease_id;
            n_stale++;
            nm_log_info("stale article dropped id=%s revision=%lld: the results database holds"
                        " a newer one", h->result->id, (long long)h->revision);
            break;
        case NM_WRITE_INVALID:
            fail_lease(w, h->lease_id, h->result->id, "invalid-result", job->errors[i].msg, false);
            break;
        case NM_WRITE_FAILED:
            fail_lease(w, h->lease_id, h->result->id, "storage", job->errors[i].msg, true);
            break;
        }
        nm_extract_result_free(&h->result);
    }
    memmove(w->held + n_kept, w->held + job->n, (w->n_held - job->n) * sizeof *w->held);
    w->n_held -= job->n - n_kept;
    w->n_writing = 0;
    if (n_settle) {
        nm_error err;
        if (nm_consumer_done(w->consumer, w->lease_ids, n_settle, &err) < 0)
            nm_log_warn("done not sent for %zu settled articles (they will redeliver and be"
                        " replaced idempotently, or dropped again): %s", n_settle, err.msg);
    }
    nm_metric_add(w->m.stale, (double)n_stale);
    if (n_done) {
        nm_metric_add(w->m.done, (double)n_done);
        nm_metric_add(w->m.batches, 1);
        nm_metric_observe(w->m.batch_articles, (double)n_done);
        nm_metric_observe(w->m.persist_s, (double)job->write_ns / 1e9);
    }
    if (job->rc == 0) {
        w->retry_at_ns = 0;
        if (w->disk_full) {
            w->disk_full = false;
            nm_log_info("results database writable again; resumed");
            nm_stats_set_state(w->stats, state_name(w));
        }
        return;
    }
    if (job->at_article && !job->one_by_one && !nm_store_error_is_transient(job->err.code)) {
        nm_log_error("batch of %zu articles not stored (%s); storing one by one", job->n,
                     job->err.msg);
        w->one_by_one_next = true;
        w->retry_at_ns = 0;
        return;
    }
    nm_metric_add(w->m.db_retries, 1);
    if (job->err.code == NM_ERR_BUSY) {
        nm_log_debug("results database busy, retrying: %s", job->err.msg);
        w->retry_at_ns = now_ns + BUSY_RETRY_NS;
        return;
    }
    /* Full disk, quota, I/O error or a database that cannot start or commit
     * a transaction: keep everything, ask for nothing (no settle = no new
     * credit), say so once per retry, retry later. */
    w->disk_full = true;
    nm_stats_set_state(w->stats, state_name(w));
    w->retry_at_ns = now_ns + w->cfg.retry_ms * NM_NS_PER_MS;
    nm_log_error("RESULTS DATABASE NOT WRITABLE: holding %zu articles, taking no new work,"
                 " retrying in %lld ms: %s",
                 w->n_held, (long long)w->cfg.retry_ms, job->err.msg);
}

/* ---- deliveries -------------------------------------------------------- */

static nm_content_type content_type_of(Newsmill__ContentType t)
{
    switch (t) {
    case NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT:
        return NM_CONTENT_TEXT;
    case NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML:
        return NM_CONTENT_HTML;
    default:
        return NM_CONTENT_GUESS;
    }
}

/* Bad input never gets better by retrying; anything else might. */
static bool retryable_extract_error(nm_errcode code)
{
    return !(code == NM_ERR_EMPTY || code == NM_ERR_UTF8 || code == NM_ERR_TOO_LARGE ||
             code == NM_ERR_MALFORMED || code == NM_ERR_INVALID);
}

/* Validates and extracts one delivery; holds the result or fails the lease.
 * decode_ns is the time spent receiving and decoding it. */
static void take_delivery(nm_worker *w, Newsmill__Delivery *d, int64_t decode_ns)
{
    int64_t t0 = nm_time_mono_ns();
    w->last_delivery_ns = t0;
    Newsmill__Article *a = d->article;
    nm_metric_add(w->m.bytes_in, a ? (double)a->body.len : 0);
    if (!a || !a->id || !*a->id) {
        nm_metric_observe(w->m.decode_s, (double)decode_ns / 1e9);
        fail_lease(w, d->lease_id, a ? a->id : NULL, "bad-request", "delivery without article id",
                   false);
        return;
    }
    nm_kv kv_stack[16];
    nm_kv *kv = a->n_metadata <= 16 ? kv_stack : nm_xmalloc(a->n_metadata * sizeof *kv);
    size_t n_kv = 0;
    for (size_t i = 0; i < a->n_metadata; i++)
        if (a->metadata[i] && a->metadata[i]->key)
            kv[n_kv++] = (nm_kv){a->metadata[i]->key, a->metadata[i]->value};
    nm_extract_input in = {
        .body = (const char *)a->body.data,
        .len = a->body.len,
        .content_type = content_type_of(a->content_type),
        .id = a->id,
        .source = a->source && *a->source ? a->source : NULL,
        .url = a->url && *a->url ? a->url : NULL,
        .language_hint = a->language && *a->language ? a->language : NULL,
        .published_unix_ms = a->published_unix_ms,
        .metadata = kv,
        .n_metadata = n_kv,
    };
    int64_t t1 = nm_time_mono_ns();
    nm_metric_observe(w->m.decode_s, (double)(decode_ns + (t1 - t0)) / 1e9);
    nm_fault_point_id("worker.extract", a->id);
    nm_extract_result *r = NULL;
    nm_error err;
    int rc = a->body.len == 0 ? nm_error_set(&err, NM_ERR_EMPTY, "empty body")
                              : nm_extract(w->extractor, &in, &r, &err);
    int64_t t2 = nm_time_mono_ns();
    if (kv != kv_stack)
        free(kv);
    nm_metric_observe(w->m.extract_s, (double)(t2 - t1) / 1e9);
    if (rc < 0) {
        fail_lease(w, d->lease_id, a->id, nm_errcode_name(err.code), err.msg,
                   retryable_extract_error(err.code));
        return;
    }
    if (w->n_held == w->cap_held) { /* only if the queue over-delivers */
        w->cap_held *= 2;
        w->held = nm_xrealloc(w->held, w->cap_held * sizeof *w->held);
        w->lease_ids = nm_xrealloc(w->lease_ids, w->cap_held * sizeof *w->lease_ids);
    }
    w->held[w->n_held++] = (held){
        .lease_id = d->lease_id,
        .revision = (int64_t)d->revision,
        .lease_ms = d->lease_ms,
        .enqueued_unix_ms = d->enqueued_unix_ms,
        .received_ns = t0,
        .lease_start_ns = t0,
        .result = r,
    };
}

/* Extends the leases of articles held for more than half their lease. */
static void extend_leases(nm_worker *w, int64_t now_ns)
{
    w->next_extend_check_ns = now_ns + EXTEND_CHECK_NS;
    size_t n = 0;
    uint32_t lease_ms = 0;
    for (size_t i = 0; i < w->n_held; i++) {
        held *h = &w->held[i];
        if (h->lease_ms && now_ns - h->lease_start_ns >= (int64_t)h->lease_ms * NM_NS_PER_MS / 2) {
            w->lease_ids[n++] = h->lease_id;
            h->lease_start_ns = now_ns;
            if (h->lease_ms > lease_ms)
                lease_ms = h->lease_ms;
        }
    }
    if (!n)
        return;
    nm_error err;
    if (nm_consumer_extend(w->consumer, w->lease_ids, n, lease_ms, &err) < 0)
        nm_log_warn("lease extension not sent for %zu articles: %s", n, err.msg);
    else
        nm_log_debug("extended %zu leases by %u ms", n, lease_ms);
}

/* ---- the reactor ------------------------------------------------------- */

static int64_t min_i64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static bool flush_due(const nm_worker *w, int64_t now_ns)
{
    if (!w->n_held || (w->retry_at_ns && now_ns < w->retry_at_ns) || w->n_writing)
        return false;
    return w->n_held >= w->cfg.batch || w->draining ||
           now_ns - w->held[0].received_ns >= w->cfg.flush_ms * NM_NS_PER_MS;
}

/* Milliseconds zmq_poll may sleep. */
static long poll_timeout_ms(nm_worker *w, int64_t now_ns)
{
    int64_t until_ns = (int64_t)nm_consumer_tick(w->consumer) * NM_NS_PER_MS;
    until_ns = min_i64(until_ns, w->next_stats_ns - now_ns);
    if (w->n_held) {
        if (!w->n_writing) { /* else the writer's descriptor wakes us */
            int64_t flush_at = w->retry_at_ns
                                   ? w->retry_at_ns
                                   : w->held[0].received_ns + w->cfg.flush_ms * NM_NS_PER_MS;
            until_ns = min_i64(until_ns, flush_at - now_ns);
        }
        until_ns = min_i64(until_ns, w->next_extend_check_ns - now_ns);
    }
    if (w->draining)
        until_ns = min_i64(until_ns, 20 * NM_NS_PER_MS);
    if (until_ns <= 0)
        return 0;
    return (long)((until_ns + NM_NS_PER_MS - 1) / NM_NS_PER_MS);
}

static void start_drain(nm_worker *w, int64_t now_ns)
{
    w->draining = true;
    w->drain_deadline_ns = now_ns + w->cfg.drain_timeout_ms * NM_NS_PER_MS;
    nm_consumer_drain(w->consumer);
    nm_log_info("draining: holding %zu articles, taking no more work", w->n_held);
    nm_stats_set_state(w->stats, state_name(w));
    publish_stats(w, now_ns);
}

int nm_worker_run(nm_worker *w, volatile sig_atomic_t *stop_requests, nm_error *err)
{
    nm_log_info("worker running queue=%s db=%s credit=%u batch=%u flush_ms=%lld",
                w->cfg.queue_endpoint,
                w->cfg.results_dir && *w->cfg.results_dir ? w->cfg.results_dir : w->cfg.db_path,
                w->cfg.credit, w->cfg.batch,
                (long long)w->cfg.flush_ms);
    int64_t now_ns = nm_time_mono_ns();
    w->last_stats_ns = now_ns;
    w->next_stats_ns = now_ns;
    w->next_extend_check_ns = now_ns + EXTEND_CHECK_NS;
    for (;;) {
        if (*stop_requests >= 2) {
            nm_log_warn("second stop request: exiting now with %zu articles uncommitted (their"
                        " leases will expire and redeliver)", w->n_held);
            nm_writer_interrupt(w->writer);
            return NM_WORKER_ABORTED;
        }
        now_ns = nm_time_mono_ns();
        if (*stop_requests >= 1 && !w->draining)
            start_drain(w, now_ns);
        long timeout_ms = poll_timeout_ms(w, now_ns); /* first: the consumer may fail over */
        zmq_pollitem_t items[] = {{nm_consumer_socket(w->consumer), 0, ZMQ_POLLIN, 0},
                                  {NULL, nm_writer_fd(w->writer), ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, timeout_ms) < 0 && zmq_errno() != EINTR)
            return nm_error_set(err, NM_ERR_ZMQ, "zmq_poll: %s", zmq_strerror(zmq_errno()));
        if (w->n_writing)
            written(w, nm_time_mono_ns());
        /* Take what is waiting, a batch at a time so timers still run. */
        for (uint32_t taken = 0; taken < w->cfg.batch && *stop_requests < 2; taken++) {
            int64_t t0 = nm_time_mono_ns();
            Newsmill__Delivery *d = NULL;
            int rc = nm_consumer_recv(w->consumer, &d, err);
            if (rc < 0 && err->code != NM_ERR_BUSY && zmq_errno() != EINTR)
                return -1;
            if (rc != 1)
                break;
            take_delivery(w, d, nm_time_mono_ns() - t0);
            nm_consumer_delivery_free(&d);
            now_ns = nm_time_mono_ns();
            if (w->n_writing)
                written(w, now_ns);
            if (flush_due(w, now_ns) && w->n_held >= w->cfg.batch)
                flush(w);
        }
        now_ns = nm_time_mono_ns();
        if (flush_due(w, now_ns))
            flush(w);
        if (w->n_held && now_ns >= w->next_extend_check_ns)
            extend_leases(w, now_ns);
        if (now_ns >= w->next_stats_ns)
            publish_stats(w, now_ns);
        if (w->draining) {
            bool idle = w->n_held == 0 && nm_consumer_in_flight(w->consumer) == 0 &&
                        now_ns - w->last_delivery_ns >= DRAIN_QUIET_NS;
            if (idle || now_ns >= w->drain_deadline_ns) {
                publish_stats(w, now_ns);
                if (w->n_held) {
                    nm_log_error("drain timed out with %zu articles uncommitted (their leases"
                                 " will expire and redeliver)", w->n_held);
                    return NM_WORKER_LEFT_OVER;
                }
                nm_log_info("drained: everything held was committed and settled");
                return NM_WORKER_DRAINED;
            }
        }
    }
}

/* ---- life cycle -------------------------------------------------------- */

/* The results: time partitions of results_dir, or the one file db_path. */
static nm_partitions *open_results(const nm_worker_config *cfg, const nm_store_options *sopts,
                                   nm_error *err)
{
    if (cfg->results_dir && *cfg->results_dir) {
        nm_partition_options popts = {
            .dir = cfg->results_dir,
            .period_ms = cfg->partition_ms,
            .grace_ms = cfg->partition_grace_ms,
            .shared = cfg->partition_shared,
            .retention_ms = cfg->retention_ms,
            .store = *sopts,
        };
        return nm_partitions_open_dir(&popts, err);
    }
    nm_store *store = nm_store_open(cfg->db_path, sopts, err);
    return store ? nm_partitions_wrap(store) : NULL;
}

nm_worker *nm_worker_new(const nm_worker_config *cfg, nm_error *err)
{
    nm_worker *w = nm_xcalloc(1, sizeof *w);
    w->cfg = *cfg;
    if (!w->cfg.credit)
        w->cfg.credit = 1;
    if (!w->cfg.batch)
        w->cfg.batch = 1;
    if (w->cfg.batch > w->cfg.credit)
        w->cfg.batch = w->cfg.credit; /* a batch can never fill beyond what is held */
    if (w->cfg.retry_ms <= 0)
        w->cfg.retry_ms = 2000;
    if (w->cfg.drain_timeout_ms <= 0)
        w->cfg.drain_timeout_ms = 5000;
    w->cap_held = w->cfg.credit;
    w->held = nm_xcalloc(w->cap_held, sizeof *w->held);
    w->lease_ids = nm_xcalloc(w->cap_held, sizeof *w->lease_ids);

    nm_extractor_config ecfg = {.data_dir = cfg->data_dir && *cfg->data_dir ? cfg->data_dir : NULL};
    w->extractor = nm_extractor_new(&ecfg, err);
    if (!w->extractor) {
        nm_error_prefix(err, "loading extraction data");
        goto fail;
    }
    nm_log_info("%s", nm_extractor_entity_models(w->extractor));
    nm_store_options sopts = {
        .busy_timeout_ms = (int)cfg->busy_timeout_ms,
        .sync_normal = cfg->sync_normal,
        .max_bytes = cfg->db_max_bytes,
    };
    nm_partitions *parts = open_results(cfg, &sopts, err);
    if (!parts)
        goto fail;
    w->writer = nm_writer_new(parts, err);
    if (!w->writer) {
        nm_partitions_close(&parts);
        goto fail;
    }
    w->stats = nm_stats_new("worker", cfg->name);
    metrics_init(w);
    w->zmq_ctx = zmq_ctx_new();
    if (!w->zmq_ctx) {
        nm_error_set(err, NM_ERR_ZMQ, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (cfg->stats_endpoint && *cfg->stats_endpoint) {
        w->pub = nm_stats_pub_new_curve(w->zmq_ctx, cfg->stats_endpoint, cfg->curve, err);
        if (!w->pub) {
            nm_error_prefix(err, "stats endpoint %s", cfg->stats_endpoint);
            goto fail;
        }
    }
    nm_consumer_config ccfg = {
        .endpoint = cfg->queue_endpoint,
        .worker = nm_stats_instance(w->stats),
        .capacity = w->cfg.credit,
        .failover_ms = cfg->failover_ms,
        .curve = cfg->curve,
    };
    w->consumer = nm_consumer_new(w->zmq_ctx, &ccfg, err);
    if (!w->consumer) {
        nm_error_prefix(err, "queue endpoint %s", cfg->queue_endpoint);
        goto fail;
    }
    return w;
fail:
    nm_worker_destroy(&w);
    return NULL;
}

void nm_worker_destroy(nm_worker **worker)
{
    if (!worker || !*worker)
        return;
    nm_worker *w = *worker;
    nm_writer_destroy(&w->writer); /* first: its job borrows held results */
    for (size_t i = 0; i < w->n_held; i++)
        nm_extract_result_free(&w->held[i].result);
    free(w->held);
    free(w->lease_ids);
    free(w->job_results);
    free(w->job_revisions);
    free(w->job_status);
    free(w->job_errors);
    nm_consumer_destroy(&w->consumer);
    nm_stats_pub_destroy(&w->pub);
    if (w->zmq_ctx)
        zmq_ctx_term(w->zmq_ctx);
    nm_stats_destroy(&w->stats);
    nm_extractor_destroy(&w->extractor);
    free(w);
    *worker = NULL;
}

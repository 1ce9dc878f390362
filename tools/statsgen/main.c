/* statsgen: a pretend fleet (one queue, N workers) sending StatsReports to a
 * collector, for tests and demos of the collector, /metrics and the dashboard
 * without running the real pipeline. Numbers are synthetic but consistent:
 * the queue's backlog shrinks as the workers commit. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "nm_log.h"
#include "nm_opts.h"
#include "nm_protocol.h"
#include "nm_stats.h"
#include "nm_time.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

typedef struct fake_worker {
    nm_stats *stats;
    nm_stats_pub *pub; /* one socket per pretend process, as real ones have */
    nm_metric *done, *failed, *in_flight, *rss, *decode, *extract, *persist, *s2c, *batch;
} fake_worker;

static double jitter(double base) { return base * (0.5 + (double)rand() / RAND_MAX); }

int main(int argc, char **argv)
{
    nm_log_init("statsgen");
    const char *endpoint = NM_COLLECTOR_STATS_ENDPOINT_DEFAULT;
    int64_t n_workers = 2, seconds = 0, rate = 20, backlog = 5000, interval_ms = 1000;
    const nm_opt opts[] = {
        {"stats", 0, NM_OPT_STRING, &endpoint, "ENDPOINT", "collector stats endpoint", 0, 0},
        {"workers", 'w', NM_OPT_INT, &n_workers, "N", "pretend workers", 1, 64},
        {"seconds", 0, NM_OPT_INT, &seconds, "S", "run this long (0 = until SIGTERM)", 0, 86400},
        {"rate", 0, NM_OPT_INT, &rate, "N", "articles per second per worker", 0, 100000},
        {"backlog", 0, NM_OPT_INT, &backlog, "N", "articles waiting at the start", 0, 100000000},
        {"interval", 0, NM_OPT_DURATION, &interval_ms, "DURATION", "between reports", 10, 60000},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "statsgen", "[OPTIONS]",
        "Sends synthetic stats of a queue and N workers to a collector.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    srand((unsigned)time(NULL));
    void *ctx = zmq_ctx_new();
    nm_stats_pub *pub = nm_stats_pub_new(ctx, endpoint, &err);
    if (!pub) {
        fprintf(stderr, "statsgen: %s\n", err.msg);
        zmq_ctx_term(ctx);
        return 1;
    }
    nm_stats *q = nm_stats_new("queue", "statsgen-queue");
    nm_metric *accepted = nm_stats_counter(q, NM_METRIC_QUEUE_ARTICLES_ACCEPTED_TOTAL, "Articles accepted durably", NULL, NULL);
    nm_metric *qdone = nm_stats_counter(q, NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL, "Articles settled done", NULL, NULL);
    nm_metric *qbacklog = nm_stats_gauge(q, NM_METRIC_QUEUE_BACKLOG_ARTICLES, "Articles waiting for a worker", NULL, NULL);
    nm_metric *qflight = nm_stats_gauge(q, NM_METRIC_QUEUE_IN_FLIGHT_ARTICLES, "Articles leased to workers", NULL, NULL);
    nm_metric *qoldest = nm_stats_gauge(q, NM_METRIC_QUEUE_OLDEST_BACKLOG_AGE_SECONDS, "Age of the oldest waiting article", NULL, NULL);
    nm_metric *qdead = nm_stats_gauge(q, NM_METRIC_QUEUE_DEAD_LETTERS, "Dead letters held", NULL, NULL);
    nm_metric_add(accepted, (double)backlog);
    fake_worker *w = calloc((size_t)n_workers, sizeof *w);
    for (int64_t i = 0; i < n_workers; i++) {
        char name[64];
        snprintf(name, sizeof name, "statsgen-worker-%lld", (long long)i + 1);
        nm_stats *s = w[i].stats = nm_stats_new("worker", name);
        w[i].pub = nm_stats_pub_new(ctx, endpoint, NULL);
        w[i].done = nm_stats_counter(s, NM_METRIC_WORKER_ARTICLES_DONE_TOTAL, "Articles committed", NULL, NULL);
        w[i].failed = nm_stats_counter(s, NM_METRIC_WORKER_ARTICLES_FAILED_TOTAL, "Failed attempts", "reason", "invalid utf-8");
        w[i].in_flight = nm_stats_gauge(s, NM_METRIC_WORKER_IN_FLIGHT_ARTICLES, "Leases held", NULL, NULL);
        w[i].rss = nm_stats_gauge(s, NM_METRIC_WORKER_RSS_BYTES, "Resident memory", NULL, NULL);
        w[i].decode = nm_stats_histogram(s, NM_METRIC_WORKER_DECODE_SECONDS, "Decode time per article", NM_HIST_SECONDS);
        w[i].extract = nm_stats_histogram(s, NM_METRIC_WORKER_EXTRACT_SECONDS, "Extraction time per article", NM_HIST_SECONDS);
        w[i].persist = nm_stats_histogram(s, NM_METRIC_WORKER_PERSIST_SECONDS, "Commit time per batch", NM_HIST_SECONDS);
        w[i].s2c = nm_stats_histogram(s, NM_METRIC_WORKER_SUBMIT_TO_COMMIT_SECONDS, "Submit to commit per article", NM_HIST_SECONDS);
        w[i].batch = nm_stats_histogram(s, NM_METRIC_WORKER_BATCH_ARTICLES, "Articles per batch", NM_HIST_COUNT);
    }
    double left = (double)backlog, dead = 0;
    int64_t start_ns = nm_time_mono_ns(), t0_ms = nm_time_unix_ms();
    Newsmill__FailureRecord fr = NEWSMILL__FAILURE_RECORD__INIT;
    fr.reason = "invalid utf-8 at byte 17";
    fr.worker = "statsgen-worker-1";
    fr.attempt = 3;
    fr.at_unix_ms = t0_ms;
    Newsmill__FailureRecord *frs[] = {&fr};
    Newsmill__DeadLetter dl = NEWSMILL__DEAD_LETTER__INIT;
    dl.id = "statsgen-poison-1";
    dl.source = "statsgen";
    dl.attempts = 3;
    dl.dead_unix_ms = t0_ms;
    dl.failures = frs;
    dl.n_failures = 1;
    Newsmill__DeadLetter *dls[] = {&dl};
    for (uint64_t step_no = 1; !stop && (seconds == 0 || nm_time_mono_ns() - start_ns < seconds * NM_NS_PER_S); step_no++) {
        double step = (double)interval_ms / 1000.0;
        for (int64_t i = 0; i < n_workers; i++) {
            int n = (int)fmin(left, round(jitter((double)rate) * step));
            left -= n;
            nm_metric_add(w[i].done, n);
            for (int k = 0; k < n; k++) {
                nm_metric_observe(w[i].decode, jitter(0.00005));
                nm_metric_observe(w[i].extract, jitter(i == 0 ? 0.004 : 0.02));
                nm_metric_observe(w[i].s2c, jitter(0.3));
            }
            if (n) {
                nm_metric_observe(w[i].persist, jitter(0.01));
                nm_metric_observe(w[i].batch, n);
            }
            nm_metric_set(w[i].in_flight, left > 0 ? 8 : 0);
            nm_metric_set(w[i].rss, 30e6 + (double)i * 1e6);
            nm_metric_add(qdone, n);
            if (step_no % 10 == 1 && left > 0)
                nm_metric_add(w[i].failed, 1);
        }
        if (dead == 0 && nm_time_unix_ms() - t0_ms > 1500)
            dead = 1;
        nm_metric_set(qbacklog, left);
        nm_metric_set(qflight, left > 0 ? 8.0 * (double)n_workers : 0);
        nm_metric_set(qoldest, left > 0 ? (double)(nm_time_unix_ms() - t0_ms) / 1000.0 : 0);
        nm_metric_set(qdead, dead);
        Newsmill__StatsReport *r = nm_stats_report_new(q);
        if (dead) {
            r->recent_dead = dls;
            r->n_recent_dead = 1;
        }
        nm_stats_pub_send_report(pub, r, NULL);
        r->recent_dead = NULL;
        r->n_recent_dead = 0;
        nm_stats_report_free(&r);
        for (int64_t i = 0; i < n_workers; i++)
            nm_stats_pub_send(w[i].pub, w[i].stats, NULL);
        struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    for (int64_t i = 0; i < n_workers; i++) {
        nm_stats_destroy(&w[i].stats);
        nm_stats_pub_destroy(&w[i].pub);
    }
    free(w);
    nm_stats_destroy(&q);
    nm_stats_pub_destroy(&pub);
    zmq_ctx_term(ctx);
    return 0;
}

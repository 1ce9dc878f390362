/* nm_aggregate: merging several processes' reports, percentiles from merged
 * buckets, rates and counter resets, stale/gone, and rejected reports. Time
 * is driven by the test; reports are built with nm_stats like the real
 * processes build them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nm_aggregate.h"
#include "nm_frame.h"
#include "nm_prom.h"
#include "nm_stats.h"
#include "nm_statsview.h"
#include "nm_test.h"

#define T0 INT64_C(1800000000000) /* the collector starts here */

/* A fake process: its registry and the fields the test controls. */
typedef struct fake {
    nm_stats *stats;
    int64_t started_ms;
    uint64_t seq;
} fake;

static void fake_init(fake *f, const char *role, const char *instance, int64_t started_ms)
{
    f->stats = nm_stats_new(role, instance);
    f->started_ms = started_ms;
    f->seq = 0;
}

static int send_report(nm_agg *agg, fake *f, int64_t now_ms)
{
    Newsmill__StatsReport *r = nm_stats_report_new(f->stats);
    r->started_unix_ms = f->started_ms;
    r->sent_unix_ms = now_ms;
    r->seq = ++f->seq;
    nm_error err;
    int rc = nm_agg_ingest(agg, r, now_ms, &err);
    nm_stats_report_free(&r);
    return rc;
}

static const Newsmill__Metric *find_total(const Newsmill__StatsSnapshot *s, const char *name,
                                          const char *reason)
{
    for (size_t i = 0; i < s->n_totals; i++) {
        const Newsmill__Metric *m = s->totals[i];
        if (strcmp(m->name, name))
            continue;
        if (!reason && m->n_labels == 0)
            return m;
        if (reason && m->n_labels == 1 && !strcmp(m->labels[0]->value, reason))
            return m;
    }
    return NULL;
}

static const Newsmill__Latency *find_latency(const Newsmill__StatsSnapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n_latencies; i++)
        if (!strcmp(s->latencies[i]->metric, name))
            return s->latencies[i];
    return NULL;
}

static const Newsmill__ProcessStatus *find_process(const Newsmill__StatsSnapshot *s,
                                                   const char *instance)
{
    for (size_t i = 0; i < s->n_processes; i++)
        if (!strcmp(s->processes[i]->last->instance, instance))
            return s->processes[i];
    return NULL;
}

static void merge_counters_and_gauges(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    fake w1, w2, q1, q2;
    fake_init(&w1, "worker", "w1", T0 + 1);
    fake_init(&w2, "worker", "w2", T0 + 1);
    fake_init(&q1, "queue", "q1", T0 + 1);
    fake_init(&q2, "queue", "q2", T0 + 1);
    nm_metric_add(nm_stats_counter(w1.stats, "worker_articles_done_total", "done", NULL, NULL), 10);
    nm_metric_add(nm_stats_counter(w2.stats, "worker_articles_done_total", "done", NULL, NULL), 5);
    nm_metric_add(nm_stats_counter(w1.stats, "worker_articles_failed_total", "failed", "reason",
                                   "invalid-utf8"), 1);
    nm_metric_add(nm_stats_counter(w2.stats, "worker_articles_failed_total", "failed", "reason",
                                   "invalid-utf8"), 2);
    nm_metric_add(nm_stats_counter(w2.stats, "worker_articles_failed_total", "failed", "reason",
                                   "empty"), 4);
    nm_metric_set(nm_stats_gauge(w1.stats, "worker_in_flight_articles", "", NULL, NULL), 3);
    nm_metric_set(nm_stats_gauge(w2.stats, "worker_in_flight_articles", "", NULL, NULL), 4);
    nm_metric_set(nm_stats_gauge(q1.stats, "queue_backlog_articles", "", NULL, NULL), 7);
    nm_metric_set(nm_stats_gauge(q2.stats, "queue_backlog_articles", "", NULL, NULL), 1);
    nm_metric_set(nm_stats_gauge(q1.stats, "queue_oldest_backlog_age_seconds", "", NULL, NULL), 3);
    nm_metric_set(nm_stats_gauge(q2.stats, "queue_oldest_backlog_age_seconds", "", NULL, NULL), 9);
    nm_metric_add(nm_stats_counter(q1.stats, "queue_articles_accepted_total", "", NULL, NULL), 20);
    nm_metric_set(nm_stats_gauge(q1.stats, "queue_dead_letters", "", NULL, NULL), 2);
    fake *all[] = {&w1, &w2, &q1, &q2};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(send_report(agg, all[i], T0 + 1000), 0);

    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 1100);
    assert_int_equal(s->n_processes, 4);
    assert_true(s->done == 15);
    assert_true(s->failed == 7);
    assert_true(s->backlog == 8);
    assert_true(s->oldest_backlog_age_s == 9); /* the oldest, not the sum */
    assert_true(s->accepted == 20);
    assert_true(s->dead == 2);
    assert_true(s->in_flight == 7); /* no queue in-flight gauge: the workers' */
    const Newsmill__Metric *utf8 = find_total(s, "worker_articles_failed_total", "invalid-utf8");
    assert_non_null(utf8);
    assert_true(utf8->value == 3);
    assert_true(find_total(s, "worker_articles_failed_total", "empty")->value == 4);
    int seen = 0;
    for (size_t i = 0; i < s->n_errors; i++)
        if (!strcmp(s->errors[i]->reason, "invalid-utf8") && s->errors[i]->count == 3)
            seen++;
    assert_int_equal(seen, 1);
    const Newsmill__ProcessStatus *p = find_process(s, "w2");
    assert_non_null(p);
    assert_string_equal(p->status, "live");
    assert_true(p->in_flight == 4);
    assert_true(p->articles_total == 5);
    /* the snapshot goes over the wire intact */
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_SNAPSHOT;
    env.snapshot = s;
    uint8_t *buf;
    size_t len;
    nm_frame_encode(&env, &buf, &len);
    Newsmill__Envelope *back;
    assert_int_equal(nm_frame_decode(buf, len, NM_FRAME_MAX_DEFAULT, &back, NULL), 0);
    assert_true(back->snapshot->done == 15);
    assert_int_equal(back->snapshot->n_processes, 4);
    nm_frame_free(&back);
    free(buf);
    nm_agg_snapshot_free(&s);
    assert_null(s);
    for (size_t i = 0; i < 4; i++)
        nm_stats_destroy(&all[i]->stats);
    nm_agg_destroy(&agg);
}

/* One process all fast, one all slow: the merged distribution is bimodal.
 * Averaging per-process percentiles would put p50 near 0.5 s. */
static void percentiles_from_merged_buckets(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    fake fast, slow;
    fake_init(&fast, "worker", "fast", T0 + 1);
    fake_init(&slow, "worker", "slow", T0 + 1);
    nm_metric *hf = nm_stats_histogram(fast.stats, "worker_extract_seconds", "extract", NM_HIST_SECONDS);
    nm_metric *hs = nm_stats_histogram(slow.stats, "worker_extract_seconds", "extract", NM_HIST_SECONDS);
    assert_int_equal(send_report(agg, &fast, T0 + 500), 0);
    assert_int_equal(send_report(agg, &slow, T0 + 500), 0);
    nm_agg_tick(agg, T0 + 1000);
    for (int i = 0; i < 3000; i++)
        nm_metric_observe(hf, 0.0008); /* (0.5 ms, 1 ms] */
    for (int i = 0; i < 1000; i++)
        nm_metric_observe(hs, 0.9); /* (0.5 s, 1 s] */
    assert_int_equal(send_report(agg, &fast, T0 + 1500), 0);
    assert_int_equal(send_report(agg, &slow, T0 + 1500), 0);
    nm_agg_tick(agg, T0 + 2000);

    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 2100);
    const Newsmill__Latency *l = find_latency(s, "worker_extract_seconds");
    assert_non_null(l);
    assert_int_equal(l->count, 4000);
    assert_true(l->p50 > 0.0005 && l->p50 <= 0.001);
    assert_true(l->p95 > 0.5 && l->p95 <= 1.0);
    assert_true(l->p99 > 0.5 && l->p99 <= 1.0);
    assert_int_equal(l->count_1m, 4000);
    assert_true(l->p50_1m > 0.0005 && l->p50_1m <= 0.001);
    assert_true(l->p99_1m > 0.5);
    const Newsmill__Metric *m = find_total(s, "worker_extract_seconds", NULL);
    assert_int_equal(m->count, 4000);
    assert_true(fabs(m->sum - (3000 * 0.0008 + 1000 * 0.9)) < 1e-6);
    nm_agg_snapshot_free(&s);

    /* A minute later only slow observations arrive: the last-minute view
     * shows them, the all-time view still mostly fast. */
    int64_t t = T0 + 2000;
    for (int sec = 0; sec < 70; sec++) {
        t += 1000;
        if (sec == 65)
            for (int i = 0; i < 100; i++)
                nm_metric_observe(hs, 0.9);
        send_report(agg, &fast, t - 500);
        send_report(agg, &slow, t - 500);
        nm_agg_tick(agg, t);
    }
    s = nm_agg_snapshot(agg, t + 100);
    l = find_latency(s, "worker_extract_seconds");
    assert_int_equal(l->count, 4100);
    assert_int_equal(l->count_1m, 100);
    assert_true(l->p50_1m > 0.5);
    assert_true(l->p50 < 0.001);
    nm_agg_snapshot_free(&s);
    nm_stats_destroy(&fast.stats);
    nm_stats_destroy(&slow.stats);
    nm_agg_destroy(&agg);
}

static void rates_and_counter_reset(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    fake w;
    fake_init(&w, "worker", "w", T0 + 10);
    nm_metric *done = nm_stats_counter(w.stats, "worker_articles_done_total", "done", NULL, NULL);
    nm_agg_tick(agg, T0);
    int64_t t = T0;
    for (int sec = 1; sec <= 120; sec++) { /* 10 articles a second for two minutes */
        t = T0 + sec * 1000;
        nm_metric_add(done, 10);
        assert_int_equal(send_report(agg, &w, t - 300), 0);
        nm_agg_tick(agg, t);
    }
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, t);
    assert_true(fabs(s->rate_1s - 10) < 0.01);
    assert_true(fabs(s->rate_1m - 10) < 0.01);
    assert_true(fabs(s->rate_5m - 10) < 0.01); /* over the 2 minutes there are */
    assert_true(s->done == 1200);
    assert_int_equal(s->n_throughput, 120);
    assert_true(fabs(s->throughput[119] - 10) < 0.01);
    const Newsmill__ProcessStatus *p = find_process(s, "w");
    assert_true(fabs(p->articles_per_s - 10) < 0.1);
    nm_agg_snapshot_free(&s);

    /* The worker restarts under the same name: its counter starts again at 0. */
    nm_stats_destroy(&w.stats);
    fake_init(&w, "worker", "w", t + 100);
    done = nm_stats_counter(w.stats, "worker_articles_done_total", "done", NULL, NULL);
    for (int sec = 1; sec <= 10; sec++) {
        t += 1000;
        nm_metric_add(done, 10);
        assert_int_equal(send_report(agg, &w, t - 300), 0);
        nm_agg_tick(agg, t);
    }
    s = nm_agg_snapshot(agg, t);
    assert_true(s->done == 1300); /* monotonic: 1200 before + 100 since */
    assert_true(fabs(s->rate_1s - 10) < 0.01);
    assert_true(fabs(s->rate_1m - 10) < 0.01);
    for (size_t i = 0; i < s->n_throughput; i++)
        assert_true(s->throughput[i] >= 0 && s->throughput[i] <= 10.01);
    nm_agg_snapshot_free(&s);

    /* A counter that goes down without a new start time is a reset too. */
    nm_metric_add(done, -95); /* 5 */
    t += 1000;
    assert_int_equal(send_report(agg, &w, t - 300), 0);
    nm_agg_tick(agg, t);
    s = nm_agg_snapshot(agg, t);
    assert_true(s->done == 1305);
    assert_true(s->rate_1s >= 0 && s->rate_1s <= 10.01);
    nm_agg_snapshot_free(&s);

    /* A process that ran before the collector does not make a spike. */
    fake old;
    fake_init(&old, "worker", "old", T0 - 100000);
    nm_metric_add(nm_stats_counter(old.stats, "worker_articles_done_total", "d", NULL, NULL), 5000);
    double rate_before;
    s = nm_agg_snapshot(agg, t);
    rate_before = s->rate_1m;
    nm_agg_snapshot_free(&s);
    assert_int_equal(send_report(agg, &old, t + 200), 0);
    t += 1000;
    nm_agg_tick(agg, t);
    s = nm_agg_snapshot(agg, t);
    assert_true(s->done == 6305);            /* counted in totals */
    assert_true(s->rate_1m <= rate_before); /* but not as throughput */
    nm_agg_snapshot_free(&s);
    nm_stats_destroy(&old.stats);
    nm_stats_destroy(&w.stats);
    nm_agg_destroy(&agg);
}

static void stale_then_gone(void **state)
{
    (void)state;
    nm_agg_config cfg = {.stale_after_ms = 5000, .gone_after_ms = 60000};
    nm_agg *agg = nm_agg_new(&cfg, T0, NULL);
    fake w, q;
    fake_init(&w, "worker", "w", T0 + 1);
    fake_init(&q, "queue", "q", T0 + 1);
    nm_metric_add(nm_stats_counter(w.stats, "worker_articles_done_total", "d", NULL, NULL), 42);
    nm_metric_set(nm_stats_gauge(w.stats, "worker_in_flight_articles", "", NULL, NULL), 8);
    nm_metric_observe(nm_stats_histogram(w.stats, "worker_persist_seconds", "", NM_HIST_SECONDS), 0.01);
    assert_int_equal(send_report(agg, &w, T0 + 1000), 0);
    int64_t t;
    for (t = T0 + 1000; t <= T0 + 200000; t += 1000) { /* the queue keeps reporting */
        send_report(agg, &q, t);
        nm_agg_tick(agg, t);
        if (t == T0 + 4000 || t == T0 + 7000 || t == T0 + 62000 || t == T0 + 122000) {
            Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, t);
            const Newsmill__ProcessStatus *p = find_process(s, "w");
            assert_true(s->done == 42); /* counters stay in totals throughout */
            assert_int_equal(find_latency(s, "worker_persist_seconds")->count, 1);
            if (t == T0 + 4000) {
                assert_string_equal(p->status, "live");
                assert_true(s->in_flight == 8);
            } else if (t == T0 + 7000) {
                assert_string_equal(p->status, "stale");
                assert_true(s->in_flight == 8);
            } else if (t == T0 + 62000) {
                assert_string_equal(p->status, "gone");
                assert_true(s->in_flight == 0); /* gauges of the gone are not counted */
            } else {
                assert_null(p); /* forgotten */
                assert_string_equal(find_process(s, "q")->status, "live");
            }
            nm_agg_snapshot_free(&s);
        }
    }
    assert_int_equal(nm_agg_process_count(agg), 1);
    nm_stats_destroy(&w.stats);
    nm_stats_destroy(&q.stats);
    nm_agg_destroy(&agg);
}

/* A process silent long enough to be gone that then speaks again (same
 * start time) is not counted twice. */
static void gone_and_back(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    fake w;
    fake_init(&w, "worker", "w", T0 + 1);
    nm_metric *done = nm_stats_counter(w.stats, "worker_articles_done_total", "d", NULL, NULL);
    nm_metric_add(done, 10);
    send_report(agg, &w, T0 + 1000);
    nm_agg_tick(agg, T0 + 70000);
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 70000);
    assert_string_equal(find_process(s, "w")->status, "gone");
    assert_true(s->done == 10);
    nm_agg_snapshot_free(&s);
    nm_metric_add(done, 5);
    send_report(agg, &w, T0 + 71000);
    s = nm_agg_snapshot(agg, T0 + 71000);
    assert_string_equal(find_process(s, "w")->status, "live");
    assert_true(s->done == 15);
    nm_agg_snapshot_free(&s);
    nm_stats_destroy(&w.stats);
    nm_agg_destroy(&agg);
}

/* A report that no longer carries a counter it carried is a restart: what
 * was counted stays in the totals. */
static void vanished_counter_is_retired(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    Newsmill__Metric done = NEWSMILL__METRIC__INIT;
    done.name = "worker_articles_done_total";
    done.kind = NEWSMILL__METRIC_KIND__METRIC_COUNTER;
    done.value = 10;
    Newsmill__Metric *ms[] = {&done};
    Newsmill__StatsReport r = NEWSMILL__STATS_REPORT__INIT;
    r.role = "worker";
    r.instance = "w";
    r.started_unix_ms = T0 + 1;
    r.seq = 1;
    r.metrics = ms;
    r.n_metrics = 1;
    assert_int_equal(nm_agg_ingest(agg, &r, T0 + 1000, NULL), 0);
    r.seq = 2;
    r.n_metrics = 0;
    assert_int_equal(nm_agg_ingest(agg, &r, T0 + 2000, NULL), 0);
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 2000);
    assert_true(s->done == 10);
    nm_agg_snapshot_free(&s);
    r.seq = 3;
    r.n_metrics = 1;
    done.value = 4;
    assert_int_equal(nm_agg_ingest(agg, &r, T0 + 3000, NULL), 0);
    s = nm_agg_snapshot(agg, T0 + 3000);
    assert_true(s->done == 14);
    nm_agg_snapshot_free(&s);
    nm_agg_destroy(&agg);
}

static double rejected(nm_stats *self, const char *reason)
{
    Newsmill__StatsReport *r = nm_stats_report_new(self);
    double v = -1;
    for (size_t i = 0; i < r->n_metrics; i++)
        if (!strcmp(r->metrics[i]->name, "collector_reports_rejected_total") &&
            !strcmp(r->metrics[i]->labels[0]->value, reason))
            v = r->metrics[i]->value;
    nm_stats_report_free(&r);
    return v;
}

static void pack(Newsmill__Envelope *env, uint8_t **buf, size_t *len, uint32_t version)
{
    env->version = version;
    *len = newsmill__envelope__get_packed_size(env);
    *buf = malloc(*len ? *len : 1);
    newsmill__envelope__pack(env, *buf);
}

static void malformed_reports_counted(void **state)
{
    (void)state;
    nm_stats *self = nm_stats_new("collector", "c");
    nm_agg *agg = nm_agg_new(NULL, T0, self);
    nm_error err;
    /* not protobuf at all */
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(nm_agg_ingest_frame(agg, junk, sizeof junk, T0, &err), -1);
    assert_int_equal(nm_agg_ingest_frame(agg, junk, 0, T0, &err), -1);
    /* a good report with the wrong version */
    fake w;
    fake_init(&w, "worker", "w", T0 + 1);
    nm_metric_add(nm_stats_counter(w.stats, "worker_articles_done_total", "d", NULL, NULL), 1);
    Newsmill__StatsReport *r = nm_stats_report_new(w.stats);
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_STATS;
    env.stats = r;
    uint8_t *buf;
    size_t len;
    pack(&env, &buf, &len, NM_PROTOCOL_VERSION + 1);
    assert_int_equal(nm_agg_ingest_frame(agg, buf, len, T0, &err), -1);
    assert_int_equal(err.code, NM_ERR_VERSION);
    free(buf);
    /* the same with the right version is accepted */
    pack(&env, &buf, &len, NM_PROTOCOL_VERSION);
    assert_int_equal(nm_agg_ingest_frame(agg, buf, len, T0, &err), 0);
    free(buf);
    /* another message on the stats socket */
    Newsmill__StatsRequest req = NEWSMILL__STATS_REQUEST__INIT;
    Newsmill__Envelope other = NEWSMILL__ENVELOPE__INIT;
    other.body_case = NEWSMILL__ENVELOPE__BODY_STATS_REQUEST;
    other.stats_request = &req;
    pack(&other, &buf, &len, NM_PROTOCOL_VERSION);
    assert_int_equal(nm_agg_ingest_frame(agg, buf, len, T0, &err), -1);
    free(buf);
    /* reports that decode but break the rules */
    r->metrics[0]->name = "bad name!";
    assert_int_equal(nm_agg_ingest(agg, r, T0, &err), -1);
    r->metrics[0]->name = "fleet_articles";
    assert_int_equal(nm_agg_ingest(agg, r, T0, &err), -1);
    r->metrics[0]->name = "worker_articles_done_total";
    r->metrics[0]->value = NAN;
    assert_int_equal(nm_agg_ingest(agg, r, T0, &err), -1);
    r->metrics[0]->value = 1;
    r->instance = "";
    assert_int_equal(nm_agg_ingest(agg, r, T0, &err), -1);
    nm_stats_report_free(&r);
    nm_metric *h = nm_stats_histogram(w.stats, "worker_extract_seconds", "", NM_HIST_SECONDS);
    nm_metric_observe(h, 0.1);
    r = nm_stats_report_new(w.stats);
    for (size_t i = 0; i < r->n_metrics; i++)
        if (r->metrics[i]->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM)
            r->metrics[i]->count = 7; /* counts no longer add up */
    assert_int_equal(nm_agg_ingest(agg, r, T0, &err), -1);
    assert_int_equal(err.code, NM_ERR_INVALID);
    nm_stats_report_free(&r);
    /* the same series twice (its copies would be summed), and one name as
     * two kinds (a later report changing the copies' kinds made the fleet's
     * total go down: fuzz_aggregate); one name with two label sets is fine */
    Newsmill__Label worker_a = NEWSMILL__LABEL__INIT, worker_b = NEWSMILL__LABEL__INIT;
    worker_a.key = worker_b.key = "reason";
    worker_a.value = "empty";
    worker_b.value = "invalid";
    Newsmill__Label *la[] = {&worker_a}, *lb[] = {&worker_b};
    Newsmill__Metric m1 = NEWSMILL__METRIC__INIT, m2 = NEWSMILL__METRIC__INIT;
    m1.name = m2.name = "worker_articles_failed_total";
    m1.kind = m2.kind = NEWSMILL__METRIC_KIND__METRIC_COUNTER;
    m1.value = m2.value = 3;
    m1.labels = la;
    m2.labels = la;
    m1.n_labels = m2.n_labels = 1;
    Newsmill__Metric *pair[] = {&m1, &m2};
    Newsmill__StatsReport twice = NEWSMILL__STATS_REPORT__INIT;
    twice.role = "worker";
    twice.instance = "w2";
    twice.host = "h";
    twice.state = "running";
    twice.started_unix_ms = T0;
    twice.seq = 1;
    twice.metrics = pair;
    twice.n_metrics = 2;
    assert_int_equal(nm_agg_ingest(agg, &twice, T0, &err), -1);
    assert_non_null(strstr(err.msg, "the same series twice"));
    m2.labels = lb;
    m2.kind = NEWSMILL__METRIC_KIND__METRIC_GAUGE;
    assert_int_equal(nm_agg_ingest(agg, &twice, T0, &err), -1);
    assert_non_null(strstr(err.msg, "of two kinds"));
    m2.kind = NEWSMILL__METRIC_KIND__METRIC_COUNTER;
    assert_int_equal(nm_agg_ingest(agg, &twice, T0, &err), 0);
    /* a counter with a histogram's buckets (read past their end when the
     * counter was retired: fuzz_aggregate) */
    uint64_t buckets[] = {1, 2};
    m1.bucket_counts = buckets;
    m1.n_bucket_counts = 2;
    assert_int_equal(nm_agg_ingest(agg, &twice, T0, &err), -1);
    assert_non_null(strstr(err.msg, "a histogram's fields on a counter"));
    nm_agg_reject(agg, "multipart");

    assert_int_equal(nm_agg_received(agg), 2);
    assert_int_equal(nm_agg_rejected(agg), 13);
    assert_true(rejected(self, "malformed") == 1);
    assert_true(rejected(self, "empty") == 1);
    assert_true(rejected(self, "bad-version") == 1);
    assert_true(rejected(self, "unknown-type") == 1);
    assert_true(rejected(self, "invalid") == 8);
    assert_true(rejected(self, "multipart") == 1);
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 10);
    assert_int_equal(s->reports_rejected, 13);
    assert_true(s->done == 1); /* the one good report's (w2 failed, it did none) */
    nm_agg_snapshot_free(&s);
    nm_stats_destroy(&w.stats);
    nm_agg_destroy(&agg);
    nm_stats_destroy(&self);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* /metrics text for a small fleet: families, histograms, escaping. */
static void prometheus_text(void **state)
{
    (void)state;
    nm_agg *agg = nm_agg_new(NULL, T0, NULL);
    fake a, b;
    fake_init(&a, "worker", "w\"1", T0 + 1);
    fake_init(&b, "worker", "w2", T0 + 1);
    nm_metric_add(nm_stats_counter(a.stats, "worker_articles_failed_total", "Failed\\attempts",
                                   "reason", "bad \"utf8\"\nhere"), 2);
    nm_metric *ha = nm_stats_histogram(a.stats, "worker_decode_seconds", "Decode", NM_HIST_SECONDS);
    nm_metric *hb = nm_stats_histogram(b.stats, "worker_decode_seconds", "Decode", NM_HIST_SECONDS);
    nm_metric_observe(ha, 0.003);
    nm_metric_observe(hb, 0.003);
    nm_metric_observe(hb, 500); /* beyond the last bound: +Inf */
    send_report(agg, &a, T0 + 1000);
    send_report(agg, &b, T0 + 1000);
    nm_agg_tick(agg, T0 + 1000);
    Newsmill__StatsSnapshot *s = nm_agg_snapshot(agg, T0 + 1000);
    nm_sbuf out = NM_SBUF_INIT;
    nm_prom_render(s, &out);
    const char *t = nm_sbuf_str(&out);
    assert_non_null(strstr(t, "# TYPE newsmill_worker_decode_seconds histogram\n"));
    assert_non_null(strstr(t, "# HELP newsmill_worker_articles_failed_total Failed\\\\attempts\n"));
    assert_non_null(strstr(t, "newsmill_worker_articles_failed_total{instance=\"w\\\"1\",role=\"worker\","));
    assert_non_null(strstr(t, "reason=\"bad \\\"utf8\\\"\\nhere\"} 2\n"));
    assert_non_null(strstr(t, "newsmill_fleet_worker_decode_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(t, "newsmill_fleet_worker_decode_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "newsmill_fleet_worker_decode_seconds_count 3\n"));
    assert_non_null(strstr(t, "newsmill_worker_decode_seconds_bucket{instance=\"w2\",role=\"worker\","));
    assert_non_null(strstr(t, "newsmill_fleet_articles_committed_per_second{window=\"1m\"} 0\n"));
    /* every family's TYPE line comes once */
    assert_int_equal(count_of(t, "# TYPE newsmill_worker_decode_seconds "), 1);
    assert_int_equal(count_of(t, "# TYPE newsmill_fleet_worker_decode_seconds "), 1);
    nm_sbuf_free(&out);
    /* and the JSON view names the same numbers */
    nm_statsview_json(s, &out);
    assert_non_null(strstr(nm_sbuf_str(&out), "\"worker_decode_seconds\":{\"count\":3,"));
    assert_non_null(strstr(nm_sbuf_str(&out), "\"instance\":\"w\\\"1\""));
    nm_sbuf_free(&out);
    nm_statsview_text(s, false, &out);
    assert_non_null(strstr(nm_sbuf_str(&out), "worker_decode_seconds"));
    nm_sbuf_free(&out);
    nm_agg_snapshot_free(&s);
    char num[32];
    assert_string_equal(nm_prom_format_double(0.1, num), "0.1");
    assert_string_equal(nm_prom_format_double(1e-6, num), "1e-06");
    assert_string_equal(nm_prom_format_double(INFINITY, num), "+Inf");
    assert_string_equal(nm_prom_format_double(1795551737.39, num), "1795551737.39");
    nm_stats_destroy(&a.stats);
    nm_stats_destroy(&b.stats);
    nm_agg_destroy(&agg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_counters_and_gauges),
        cmocka_unit_test(percentiles_from_merged_buckets),
        cmocka_unit_test(rates_and_counter_reset),
        cmocka_unit_test(stale_then_gone),
        cmocka_unit_test(gone_and_back),
        cmocka_unit_test(vanished_counter_is_retired),
        cmocka_unit_test(malformed_reports_counted),
        cmocka_unit_test(prometheus_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

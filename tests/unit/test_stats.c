/* nm_stats: registry, histogram buckets and quantiles, report, publishing
 * over a real PUSH/PULL pair, and never blocking without a collector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_frame.h"
#include "nm_stats.h"
#include "nm_test.h"
#include "nm_time.h"

static void registry_and_report(void **state)
{
    (void)state;
    nm_stats *s = nm_stats_new("worker", "w1");
    nm_metric *done = nm_stats_counter(s, "articles_done_total", "Articles done", NULL, NULL);
    nm_metric *bad = nm_stats_counter(s, "articles_failed_total", "Failed", "reason", "invalid-utf8");
    nm_metric *inflight = nm_stats_gauge(s, "in_flight", "Leases held", NULL, NULL);
    nm_metric *lat = nm_stats_histogram(s, "extract_seconds", "Extraction time", NM_HIST_SECONDS);
    assert_ptr_equal(done, nm_stats_counter(s, "articles_done_total", "", NULL, NULL));
    assert_ptr_not_equal(bad, nm_stats_counter(s, "articles_failed_total", "", "reason", "empty"));
    nm_metric_add(done, 3);
    nm_metric_add(done, 2);
    nm_metric_add(bad, 1);
    nm_metric_set(inflight, 7);
    for (int i = 0; i < 100; i++)
        nm_metric_observe(lat, 0.003); /* bucket (2ms, 5ms] */
    assert_true(nm_metric_value(done) == 5);
    assert_true(nm_metric_value(lat) == 100);

    Newsmill__StatsReport *r = nm_stats_report_new(s);
    assert_string_equal(r->role, "worker");
    assert_string_equal(r->instance, "w1");
    assert_int_equal(r->seq, 1);
    int found = 0;
    for (size_t i = 0; i < r->n_metrics; i++) {
        Newsmill__Metric *m = r->metrics[i];
        if (!strcmp(m->name, "articles_failed_total") && m->n_labels == 1 &&
            !strcmp(m->labels[0]->value, "invalid-utf8")) {
            assert_true(m->value == 1);
            found++;
        }
        if (!strcmp(m->name, "extract_seconds")) {
            assert_int_equal(m->count, 100);
            assert_int_equal(m->n_bucket_counts, m->n_bucket_bounds + 1);
            double p50 = nm_hist_quantile(m->bucket_bounds, m->bucket_counts, m->n_bucket_bounds, 0.5);
            assert_true(p50 > 0.002 && p50 <= 0.005);
            found++;
        }
    }
    assert_int_equal(found, 2);
    /* the report survives a trip through the wire format */
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_STATS;
    env.stats = r;
    uint8_t *buf;
    size_t len;
    nm_frame_encode(&env, &buf, &len);
    Newsmill__Envelope *back;
    assert_int_equal(nm_frame_decode(buf, len, NM_FRAME_MAX_DEFAULT, &back, NULL), 0);
    assert_int_equal(back->stats->n_metrics, r->n_metrics);
    nm_frame_free(&back);
    free(buf);
    nm_stats_report_free(&r);
    assert_null(r);
    nm_stats_destroy(&s);
    assert_null(s);
}

static void quantiles(void **state)
{
    (void)state;
    size_t n;
    const double *b = nm_hist_bounds(NM_HIST_COUNT, &n);
    uint64_t counts[64] = {0};
    assert_true(nm_hist_quantile(b, counts, n, 0.5) == 0);
    counts[0] = 50; /* (0, 1] */
    counts[3] = 50; /* (5, 10] */
    double p50 = nm_hist_quantile(b, counts, n, 0.5);
    double p99 = nm_hist_quantile(b, counts, n, 0.99);
    assert_true(p50 <= 1.0);
    assert_true(p99 > 5 && p99 <= 10);
    counts[n] = 1000; /* +Inf */
    assert_true(nm_hist_quantile(b, counts, n, 0.99) == b[n - 1]);
}

static void publish(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    const char *ep = nm_test_endpoint();
    nm_error err;
    /* no collector yet: sending must neither block nor fail */
    nm_stats *s = nm_stats_new("queue", NULL);
    nm_stats_pub *pub = nm_stats_pub_new(ctx, ep, &err);
    assert_non_null(pub);
    int64_t t0 = nm_time_mono_ns();
    for (int i = 0; i < 100; i++)
        assert_int_equal(nm_stats_pub_send(pub, s, &err), 0);
    assert_true(nm_time_mono_ns() - t0 < 2 * NM_NS_PER_S);

    void *pull = zmq_socket(ctx, ZMQ_PULL);
    assert_int_equal(zmq_bind(pull, ep), 0);
    int timeout = 200;
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    Newsmill__Envelope *env = NULL;
    for (int tries = 0; tries < 50 && !env; tries++) {
        nm_stats_pub_send(pub, s, &err);
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, &err) != 0)
            env = NULL;
    }
    assert_non_null(env);
    assert_string_equal(env->stats->role, "queue");
    assert_non_null(strchr(env->stats->instance, ':')); /* host:pid */
    nm_frame_free(&env);

    assert_null(nm_stats_pub_new(ctx, "nonsense://", &err));
    assert_int_equal(err.code, NM_ERR_INVALID);

    nm_stats_pub_destroy(&pub);
    nm_stats_destroy(&s);
    zmq_close(pull);
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_and_report),
        cmocka_unit_test(quantiles),
        cmocka_unit_test(publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

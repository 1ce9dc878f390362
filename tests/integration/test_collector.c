/* newsmill-collector as a real process: reports pushed over a real PUSH
 * socket, the snapshot over the query socket, HTTP /metrics, /api/stats, 404
 * and 405, bad input on every socket, and a clean SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_frame.h"
#include "nm_stats.h"
#include "nm_test.h"
#include "nm_time.h"

static nm_proc collector;
static char stats_ep[64], query_ep[64], http_addr[64];
static int http_port;
static void *ctx;

/* A minimal HTTP/1.0 client: returns the status, fills *body (caller frees). */
static int http_request(const char *method, const char *path, char **body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)http_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    char *sep = strstr(buf, "\r\n\r\n");
    if (body)
        *body = strdup(sep ? sep + 4 : "");
    free(buf);
    return status;
}

/* Asks the collector for a snapshot; NULL on timeout. Caller frees. */
static Newsmill__Envelope *query(Newsmill__Envelope *req, int timeout_ms)
{
    void *s = nm_test_dealer(ctx, query_ep);
    assert_int_equal(nm_frame_send(s, NULL, req, 0, NULL), 0);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    Newsmill__Envelope *rep = NULL;
    if (zmq_poll(&it, 1, timeout_ms) == 1)
        assert_int_equal(nm_frame_recv(s, NULL, NM_FRAME_MAX_DEFAULT, &rep, 0, NULL), 0);
    zmq_close(s);
    return rep;
}

static Newsmill__StatsSnapshot *snapshot(Newsmill__Envelope **holder)
{
    Newsmill__StatsRequest sr = NEWSMILL__STATS_REQUEST__INIT;
    Newsmill__Envelope req = NEWSMILL__ENVELOPE__INIT;
    req.request_id = 7;
    req.body_case = NEWSMILL__ENVELOPE__BODY_STATS_REQUEST;
    req.stats_request = &sr;
    *holder = query(&req, 3000);
    assert_non_null(*holder);
    assert_int_equal((*holder)->request_id, 7);
    assert_int_equal((*holder)->body_case, NEWSMILL__ENVELOPE__BODY_SNAPSHOT);
    return (*holder)->snapshot;
}

static bool collector_answers(void *arg)
{
    (void)arg;
    return http_request("GET", "/api/stats", NULL) == 200;
}

static nm_stats_pub *test_pub; /* the open publisher of a test, if any */

static int setup(void **state)
{
    (void)state;
    ctx = zmq_ctx_new();
    snprintf(stats_ep, sizeof stats_ep, "%s", nm_test_endpoint());
    snprintf(query_ep, sizeof query_ep, "%s", nm_test_endpoint());
    http_port = nm_test_free_port();
    snprintf(http_addr, sizeof http_addr, "127.0.0.1:%d", http_port);
    char *argv[] = {(char *)nm_test_bin("newsmill-collector"), "--stats-bind", stats_ep,
                    "--query-bind", query_ep, "--http", http_addr, "--stale-after", "2s",
                    "--gone-after", "4s", "--log-level", "debug", NULL};
    nm_proc_start(&collector, "collector", argv);
    if (!nm_test_wait_until(collector_answers, NULL, 5000)) {
        nm_proc_dump_log(&collector);
        fail_msg("collector did not come up");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nm_proc_kill(&collector);
    /* A failed test returns early: its socket must not keep zmq_ctx_term
     * waiting forever (it did, until ctest's timeout). */
    nm_stats_pub_destroy(&test_pub);
    zmq_ctx_term(ctx);
    return 0;
}

typedef struct want {
    double done;
    size_t processes;
} want;

static bool fleet_is(void *arg)
{
    const want *w = arg;
    Newsmill__Envelope *h;
    Newsmill__StatsSnapshot *s = snapshot(&h);
    size_t live = 0;
    for (size_t i = 0; i < s->n_processes; i++)
        live += strcmp(s->processes[i]->last->role, "collector") != 0;
    bool ok = s->done == w->done && live == w->processes;
    nm_frame_free(&h);
    return ok;
}

static void reports_to_snapshot_and_http(void **state)
{
    (void)state;
    nm_error err;
    nm_stats_pub *pub = test_pub = nm_stats_pub_new(ctx, stats_ep, &err);
    assert_non_null(pub);
    nm_stats *w1 = nm_stats_new("worker", "host-a:1");
    nm_stats *w2 = nm_stats_new("worker", "host-b:2");
    nm_stats *q = nm_stats_new("queue", "queue-1");
    nm_metric_add(nm_stats_counter(w1, "worker_articles_done_total", "Articles committed", NULL, NULL), 10);
    nm_metric_add(nm_stats_counter(w2, "worker_articles_done_total", "Articles committed", NULL, NULL), 5);
    nm_metric_add(nm_stats_counter(w2, "worker_articles_failed_total", "Failed attempts", "reason", "empty body"), 2);
    nm_metric *h1 = nm_stats_histogram(w1, "worker_submit_to_commit_seconds", "Submit to commit", NM_HIST_SECONDS);
    nm_metric *h2 = nm_stats_histogram(w2, "worker_submit_to_commit_seconds", "Submit to commit", NM_HIST_SECONDS);
    for (int i = 0; i < 90; i++)
        nm_metric_observe(h1, 0.004);
    for (int i = 0; i < 10; i++)
        nm_metric_observe(h2, 3.0);
    nm_metric_set(nm_stats_gauge(q, "queue_backlog_articles", "Articles waiting", NULL, NULL), 12);
    nm_metric_set(nm_stats_gauge(q, "queue_oldest_backlog_age_seconds", "Oldest", NULL, NULL), 2.5);
    nm_metric_add(nm_stats_counter(q, "queue_articles_accepted_total", "Accepted", NULL, NULL), 27);

    /* the queue's report carries a dead letter */
    Newsmill__StatsReport *qr = nm_stats_report_new(q);
    Newsmill__FailureRecord fr = NEWSMILL__FAILURE_RECORD__INIT;
    fr.at_unix_ms = nm_time_unix_ms();
    fr.attempt = 3;
    fr.reason = "invalid utf-8 in body";
    fr.worker = "host-a:1";
    Newsmill__FailureRecord *frs[] = {&fr};
    Newsmill__DeadLetter dl = NEWSMILL__DEAD_LETTER__INIT;
    dl.id = "poison-1";
    dl.attempts = 3;
    dl.dead_unix_ms = fr.at_unix_ms;
    dl.failures = frs;
    dl.n_failures = 1;
    Newsmill__DeadLetter *dls[] = {&dl};
    qr->recent_dead = dls;
    qr->n_recent_dead = 1;
    /* PUSH connects asynchronously; send until the collector has all three */
    want w = {15, 3};
    bool ok = false;
    for (int attempt = 0; attempt < 50 && !ok; attempt++) {
        assert_int_equal(nm_stats_pub_send(pub, w1, &err), 0);
        assert_int_equal(nm_stats_pub_send(pub, w2, &err), 0);
        assert_true(nm_stats_pub_send_report(pub, qr, &err) >= 0);
        ok = nm_test_wait_until(fleet_is, &w, 200);
    }
    if (!ok)
        nm_proc_dump_log(&collector);
    assert_true(ok);

    Newsmill__Envelope *h;
    Newsmill__StatsSnapshot *s = snapshot(&h);
    assert_true(s->backlog == 12);
    assert_true(s->oldest_backlog_age_s == 2.5);
    assert_true(s->accepted == 27);
    assert_true(s->failed == 2);
    assert_int_equal(s->n_recent_dead, 1);
    assert_string_equal(s->recent_dead[0]->id, "poison-1");
    bool lat = false;
    for (size_t i = 0; i < s->n_latencies; i++)
        if (!strcmp(s->latencies[i]->metric, "worker_submit_to_commit_seconds")) {
            lat = true;
            assert_int_equal(s->latencies[i]->count, 100);
            assert_true(s->latencies[i]->p50 <= 0.005); /* 90% fast */
            assert_true(s->latencies[i]->p95 > 2);      /* 10% slow */
        }
    assert_true(lat);
    nm_frame_free(&h);

    /* HTTP: /metrics has the fleet sum and per-instance series */
    char *body = NULL;
    bool seen = false;
    for (int i = 0; i < 40 && !seen; i++) { /* the page is republished within 250 ms */
        free(body);
        assert_int_equal(http_request("GET", "/metrics", &body), 200);
        seen = strstr(body, "newsmill_fleet_worker_articles_done_total 15\n") != NULL;
        if (!seen)
            usleep(50 * 1000);
    }
    assert_true(seen);
    assert_non_null(strstr(body, "newsmill_worker_articles_done_total{instance=\"host-a:1\",role=\"worker\""));
    assert_non_null(strstr(body, "# TYPE newsmill_worker_submit_to_commit_seconds histogram\n"));
    assert_non_null(strstr(body, "newsmill_fleet_worker_submit_to_commit_seconds_bucket{le=\"+Inf\"} 100\n"));
    assert_non_null(strstr(body, "reason=\"empty body\"} 2\n"));
    assert_non_null(strstr(body, "newsmill_collector_reports_received_total{"));
    /* The reports are sent again while waiting: on a loaded machine the
     * test's short --gone-after (4 s) could otherwise age the queue out of
     * the totals before the page is read. */
    seen = false;
    for (int i = 0; i < 40 && !seen; i++) {
        free(body);
        assert_int_equal(nm_stats_pub_send(pub, w1, &err), 0);
        assert_int_equal(nm_stats_pub_send(pub, w2, &err), 0);
        assert_true(nm_stats_pub_send_report(pub, qr, &err) >= 0);
        assert_int_equal(http_request("GET", "/api/stats", &body), 200);
        seen = strstr(body, "\"backlog\":12") && strstr(body, "\"poison-1\"");
        if (!seen)
            usleep(100 * 1000);
    }
    if (!seen)
        fail_msg("/api/stats never showed backlog 12 and poison-1: %s", body);
    free(body);
    qr->recent_dead = NULL;
    qr->n_recent_dead = 0;
    nm_stats_report_free(&qr);
    assert_int_equal(http_request("GET", "/", &body), 200);
    assert_non_null(strstr(body, "<html"));
    /* self-contained: nothing loaded from elsewhere */
    assert_null(strstr(body, "src=\"http"));
    assert_null(strstr(body, "href=\"http"));
    assert_null(strstr(body, "url(http"));
    assert_null(strstr(body, "@import"));
    free(body);
    assert_int_equal(http_request("GET", "/nope", &body), 404);
    free(body);
    assert_int_equal(http_request("GET", "/metrics/x", &body), 404);
    free(body);
    assert_int_equal(http_request("POST", "/metrics", &body), 405);
    free(body);
    assert_int_equal(http_request("HEAD", "/metrics", &body), 200);
    assert_string_equal(body, "");
    free(body);

    /* silence: the workers go stale, then gone; the done total stays */
    for (int i = 0; i < 30; i++) {
        s = snapshot(&h);
        bool gone = true;
        for (size_t j = 0; j < s->n_processes; j++)
            if (!strcmp(s->processes[j]->last->role, "worker"))
                gone = gone && !strcmp(s->processes[j]->status, "gone");
        double done = s->done;
        nm_frame_free(&h);
        assert_true(done == 15);
        if (gone)
            break;
        assert_true(i < 29);
        usleep(250 * 1000);
    }
    nm_stats_destroy(&w1);
    nm_stats_destroy(&w2);
    nm_stats_destroy(&q);
    nm_stats_pub_destroy(&pub);
    test_pub = NULL;
}

static bool rejected_at_least(void *arg)
{
    Newsmill__Envelope *h;
    Newsmill__StatsSnapshot *s = snapshot(&h);
    bool ok = s->reports_rejected >= *(uint64_t *)arg;
    nm_frame_free(&h);
    return ok;
}

static void bad_input_everywhere(void **state)
{
    (void)state;
    /* garbage, a multipart message and a wrong version on the stats socket */
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(push, stats_ep), 0);
    assert_int_equal(zmq_send(push, "\xff\xff\xff", 3, 0), 3);
    assert_int_equal(zmq_send(push, "a", 1, ZMQ_SNDMORE), 1);
    assert_int_equal(zmq_send(push, "b", 1, 0), 1);
    assert_int_equal(zmq_send(push, "", 0, 0), 0);
    Newsmill__StatsReport r = NEWSMILL__STATS_REPORT__INIT;
    r.role = "worker";
    r.instance = "future";
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_STATS;
    env.stats = &r;
    env.version = NM_PROTOCOL_VERSION + 1;
    size_t len = newsmill__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(len);
    newsmill__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(push, buf, len, 0), (int)len);
    free(buf);
    uint64_t n_bad = 4;
    assert_true(nm_test_wait_until(rejected_at_least, &n_bad, 5000));
    zmq_close(push);

    /* a wrong request on the query socket gets an ErrorReply */
    Newsmill__Heartbeat hb = NEWSMILL__HEARTBEAT__INIT;
    Newsmill__Envelope req = NEWSMILL__ENVELOPE__INIT;
    req.request_id = 9;
    req.body_case = NEWSMILL__ENVELOPE__BODY_HEARTBEAT;
    req.heartbeat = &hb;
    Newsmill__Envelope *rep = query(&req, 3000);
    assert_non_null(rep);
    assert_int_equal(rep->body_case, NEWSMILL__ENVELOPE__BODY_ERROR);
    assert_int_equal(rep->request_id, 9);
    nm_frame_free(&rep);
    /* raw garbage on the query socket: an error reply, and it keeps serving */
    void *dealer = nm_test_dealer(ctx, query_ep);
    assert_int_equal(zmq_send(dealer, "junk", 4, 0), 4);
    zmq_pollitem_t it = {dealer, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 3000), 1);
    assert_int_equal(nm_frame_recv(dealer, NULL, NM_FRAME_MAX_DEFAULT, &rep, 0, NULL), 0);
    assert_int_equal(rep->body_case, NEWSMILL__ENVELOPE__BODY_ERROR);
    assert_int_equal(rep->error->code, NEWSMILL__ERROR_CODE__ERROR_MALFORMED);
    nm_frame_free(&rep);
    zmq_close(dealer);
    assert_true(collector_answers(NULL));
}

static void sigterm_exits_cleanly(void **state)
{
    (void)state;
    nm_proc_signal(&collector, SIGTERM);
    int status;
    assert_true(nm_proc_wait(&collector, 3000, &status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void bad_flags_and_busy_ports(void **state)
{
    (void)state;
    nm_proc p;
    int status;
    char *bad[] = {(char *)nm_test_bin("newsmill-collector"), "--stale-after", "soon", NULL};
    nm_proc_start(&p, "badflag", bad);
    assert_true(nm_proc_wait(&p, 3000, &status));
    assert_int_equal(WEXITSTATUS(status), 2);
    char *bad_http[] = {(char *)nm_test_bin("newsmill-collector"), "--stats-bind",
                        (char *)nm_test_endpoint(), "--query-bind", (char *)nm_test_endpoint(),
                        "--http", "nohost-port", NULL};
    nm_proc_start(&p, "badhttp", bad_http);
    assert_true(nm_proc_wait(&p, 3000, &status));
    assert_int_equal(WEXITSTATUS(status), 1);
    /* a port somebody else holds: a clear failure, not a hang */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = nm_test_free_port();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", port);
    char *busy_http[] = {(char *)nm_test_bin("newsmill-collector"), "--stats-bind",
                         (char *)nm_test_endpoint(), "--query-bind", (char *)nm_test_endpoint(),
                         "--http", busy, NULL};
    nm_proc_start(&p, "busy", busy_http);
    assert_true(nm_proc_wait(&p, 3000, &status));
    assert_int_equal(WEXITSTATUS(status), 1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reports_to_snapshot_and_http),
        cmocka_unit_test(bad_input_everywhere),
        cmocka_unit_test(sigterm_exits_cleanly),
        cmocka_unit_test(bad_flags_and_busy_ports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

#define _GNU_SOURCE /* memmem */
/* CURVE end to end, with the real programs: keys from `newsmill keygen`, a
 * queue and a collector that require CURVE, a worker that connects with it.
 *   - an allow-listed producer submits and is acked; the worker processes the
 *     article; the queue's stats reach the collector (both over CURVE);
 *   - a producer with an unknown key and one without CURVE get nothing
 *     through (their submits time out), the queue logs each refusal and its
 *     curve_refused_total counter (read from the collector) rises; an unknown
 *     key gets nothing from the collector either;
 *   - the traffic is encrypted: a TCP relay in this test process sits between
 *     the producer and the queue and records every byte; a distinctive
 *     sentence of the article is absent from the recording with CURVE and
 *     (control) present without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_curve.h"
#include "nm_statsclient.h"
#include "qtest.h"

#define SENTENCE "The walrus committee convened beneath the lighthouse at 04:17 sharp."

/* ---- a recording TCP relay: 127.0.0.1:port -> 127.0.0.1:target ---- */

#define RELAY_MAX_CONN 16

typedef struct relay {
    int listen_fd, port, target;
    int fds[RELAY_MAX_CONN][2]; /* client side, server side; -1 = unused */
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t lock;
    uint8_t *rec;
    size_t n, cap;
} relay;

static void relay_record(relay *r, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&r->lock);
    if (r->n + len > r->cap) {
        r->cap = (r->n + len) * 2;
        r->rec = realloc(r->rec, r->cap);
    }
    memcpy(r->rec + r->n, buf, len);
    r->n += len;
    pthread_mutex_unlock(&r->lock);
}

static void relay_close(relay *r, int i)
{
    close(r->fds[i][0]);
    close(r->fds[i][1]);
    r->fds[i][0] = r->fds[i][1] = -1;
}

static void relay_accept(relay *r)
{
    int c = accept(r->listen_fd, NULL, NULL);
    if (c < 0)
        return;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->target)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c);
        close(s);
        return;
    }
    for (int i = 0; i < RELAY_MAX_CONN; i++) {
        if (r->fds[i][0] < 0) {
            r->fds[i][0] = c;
            r->fds[i][1] = s;
            return;
        }
    }
    close(c);
    close(s);
}

static void *relay_main(void *arg)
{
    relay *r = arg;
    while (!r->stop) {
        struct pollfd p[1 + 2 * RELAY_MAX_CONN];
        int map[1 + 2 * RELAY_MAX_CONN], n = 0;
        p[n] = (struct pollfd){r->listen_fd, POLLIN, 0};
        map[n++] = -1;
        for (int i = 0; i < RELAY_MAX_CONN; i++) {
            for (int side = 0; side < 2 && r->fds[i][0] >= 0; side++) {
                p[n] = (struct pollfd){r->fds[i][side], POLLIN, 0};
                map[n++] = i * 2 + side;
            }
        }
        if (poll(p, (nfds_t)n, 50) <= 0)
            continue;
        if (p[0].revents & POLLIN)
            relay_accept(r);
        for (int k = 1; k < n; k++) {
            if (!p[k].revents)
                continue;
            int i = map[k] / 2, side = map[k] % 2;
            if (r->fds[i][0] < 0)
                continue;
            uint8_t buf[65536];
            ssize_t got = read(r->fds[i][side], buf, sizeof buf);
            if (got <= 0) {
                relay_close(r, i);
                continue;
            }
            relay_record(r, buf, (size_t)got);
            size_t off = 0;
            while (off < (size_t)got) {
                ssize_t w = write(r->fds[i][!side], buf + off, (size_t)got - off);
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
        }
    }
    for (int i = 0; i < RELAY_MAX_CONN; i++) {
        if (r->fds[i][0] >= 0)
            relay_close(r, i);
    }
    return NULL;
}

static int endpoint_port(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    return colon ? atoi(colon + 1) : -1;
}

static void relay_start(relay *r, const char *target_endpoint)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < RELAY_MAX_CONN; i++)
        r->fds[i][0] = r->fds[i][1] = -1;
    r->target = endpoint_port(target_endpoint);
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->listen_fd, 16), 0);
    getsockname(r->listen_fd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
    pthread_mutex_init(&r->lock, NULL);
    pthread_create(&r->thread, NULL, relay_main, r);
}

static void relay_stop(relay *r)
{
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    pthread_mutex_destroy(&r->lock);
}

static bool relay_saw(relay *r, const char *needle)
{
    pthread_mutex_lock(&r->lock);
    bool found = r->n && memmem(r->rec, r->n, needle, strlen(needle)) != NULL;
    pthread_mutex_unlock(&r->lock);
    return found;
}

/* ---- keys, programs, clients ---- */

/* `newsmill keygen --out PATH`; fails the test unless it exits 0. */
static void keygen(const char *path)
{
    char *argv[] = {(char *)nm_test_bin("newsmill"), "keygen", "--quiet", "--out", (char *)path,
                    NULL};
    nm_proc p;
    nm_proc_start(&p, "keygen", argv);
    int status;
    assert_true(nm_proc_wait(&p, 10000, &status));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static char *path_of(const char *name)
{
    return nm_xstrdup(nm_test_path(name));
}

static void load_pair(const char *path, nm_curve **out, const char *server_pub)
{
    nm_curve_opts o = {path, NULL, server_pub};
    nm_error err;
    if (nm_curve_new(NULL, &o, out, &err) != 0)
        fail_msg("client keys: %s", err.msg);
}

static int submit_one(void *ctx, const char *endpoint, const nm_curve *curve, const char *id,
                      int timeout_ms, nm_error *err)
{
    nm_producer *p = nm_producer_new_curve(ctx, endpoint, curve, err);
    assert_non_null(p);
    nm_producer_set_timeout(p, timeout_ms, 0);
    char body[256];
    snprintf(body, sizeof body, "Walrus news %s\n\n%s", id, SENTENCE);
    Newsmill__Article a, *batch[] = {&a};
    qtest_article(&a, (char *)id, body);
    Newsmill__SubmitAck *ack = NULL;
    int rc = nm_producer_submit(p, batch, 1, &ack, err);
    if (rc == 0) {
        rc = ack->accepted == 1 ? 0 : -1;
        nm_producer_ack_free(&ack);
    }
    nm_producer_destroy(&p);
    return rc;
}

/* The value of metric name in the latest report of the process with role,
 * from the collector; -1 when absent. */
static double collector_metric(void *ctx, const char *query, const nm_curve *curve,
                               const char *role, const char *name)
{
    Newsmill__Envelope *env;
    nm_error err;
    if (nm_statsclient_fetch_curve(ctx, query, curve, 2000, &env, &err) != 0)
        return -1;
    double v = -1;
    const Newsmill__StatsSnapshot *s = env->snapshot;
    for (size_t i = 0; s && i < s->n_processes; i++) {
        const Newsmill__StatsReport *r = s->processes[i]->last;
        if (!r || strcmp(r->role, role))
            continue;
        for (size_t j = 0; j < r->n_metrics; j++) {
            if (!strcmp(r->metrics[j]->name, name))
                v = r->metrics[j]->value;
        }
    }
    nm_frame_free(&env);
    return v;
}

typedef struct metric_wait {
    void *ctx;
    const char *query;
    const nm_curve *curve;
    const char *role, *name;
    double at_least;
} metric_wait;

static bool metric_reached(void *arg)
{
    metric_wait *w = arg;
    return collector_metric(w->ctx, w->query, w->curve, w->role, w->name) >= w->at_least;
}

static void curve_end_to_end(void **state)
{
    (void)state;
    char *server_key = path_of("keys/server.key"), *client_key = path_of("keys/client.key"),
         *stranger_key = path_of("keys/stranger.key");
    keygen(server_key);
    keygen(client_key);
    keygen(stranger_key);
    char server_pub[600], client_pub[600];
    snprintf(server_pub, sizeof server_pub, "%s.pub", server_key);
    snprintf(client_pub, sizeof client_pub, "%s.pub", client_key);
    /* allow-list: the client, and the queue itself (it pushes stats to the
     * collector with the server key pair) */
    char *allow = path_of("keys/allow.txt");
    char *a1 = nm_test_read_file(client_pub, NULL), *a2 = nm_test_read_file(server_pub, NULL);
    char text[1024];
    snprintf(text, sizeof text, "# test fleet\n%s%s", a1, a2);
    nm_test_write_file(allow, text, strlen(text));
    free(a1);
    free(a2);

    /* collector with CURVE */
    char stats_ep[64], query_ep[64];
    snprintf(stats_ep, sizeof stats_ep, "%s", nm_test_endpoint());
    snprintf(query_ep, sizeof query_ep, "%s", nm_test_endpoint());
    char *cargv[] = {(char *)nm_test_bin("newsmill-collector"), "--stats-bind", stats_ep,
                     "--query-bind", query_ep, "--http", "off", "--curve-secret", server_key,
                     "--curve-allow", allow, NULL};
    nm_proc collector;
    nm_proc_start(&collector, "collector", cargv);

    /* queue with CURVE on both ROUTERs and to the collector */
    qtest_queue q;
    qtest_init(&q, "queue");
    snprintf(q.stats, sizeof q.stats, "%s", stats_ep);
    qtest_flag(&q, "--curve-secret");
    qtest_flag(&q, server_key);
    qtest_flag(&q, "--curve-allow");
    qtest_flag(&q, allow);
    qtest_flag(&q, "--curve-server-key");
    qtest_flag(&q, server_pub);
    qtest_start(&q);

    /* worker with CURVE to the queue and the collector */
    char *wargv[] = {(char *)nm_test_bin("newsmill-worker"), "--queue", q.back, "--stats", stats_ep,
                     "--db", (char *)nm_test_path("results.db"), "--curve-secret", client_key,
                     "--curve-server-key", server_pub, NULL};
    nm_proc worker;
    nm_proc_start(&worker, "worker", wargv);

    void *ctx = zmq_ctx_new();
    nm_curve *client, *stranger;
    load_pair(client_key, &client, server_pub);
    load_pair(stranger_key, &stranger, server_pub);

    relay rel;
    relay_start(&rel, q.front);
    char via_relay[64];
    snprintf(via_relay, sizeof via_relay, "tcp://127.0.0.1:%d", rel.port);

    /* 1. allowed key: acked, through the relay, and the bytes are ciphertext */
    nm_error err;
    int rc = submit_one(ctx, via_relay, client, "allowed-1", 10000, &err);
    if (rc != 0) {
        nm_proc_dump_log(&q.proc);
        fail_msg("allowed producer: %s", err.msg);
    }
    pthread_mutex_lock(&rel.lock);
    size_t recorded = rel.n;
    pthread_mutex_unlock(&rel.lock);
    assert_true(recorded > 300); /* the relay really carried the exchange */
    assert_false(relay_saw(&rel, SENTENCE));
    assert_false(relay_saw(&rel, "walrus"));
    assert_false(relay_saw(&rel, "allowed-1"));

    /* 2. unknown key and no CURVE: nothing gets through */
    rc = submit_one(ctx, q.front, stranger, "stranger-1", 1500, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    rc = submit_one(ctx, q.front, NULL, "plain-1", 1500, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    /* and the collector tells a stranger nothing */
    Newsmill__Envelope *env;
    assert_int_equal(nm_statsclient_fetch_curve(ctx, query_ep, stranger, 1000, &env, &err), -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);

    /* 3. the refusals are logged and counted; the allowed article was
     * processed by the CURVE worker (queue stats reach the collector over
     * CURVE too) */
    metric_wait refused = {ctx, query_ep, client, "queue", "curve_refused_total", 2};
    bool counted = nm_test_wait_until(metric_reached, &refused, 10000);
    metric_wait done = {ctx, query_ep, client, "queue", "queue_articles_done_total", 1};
    bool processed = nm_test_wait_until(metric_reached, &done, 20000);
    char *qlog = nm_test_read_file(q.proc.log_path, NULL);
    nm_curve_keypair stranger_pair;
    assert_int_equal(nm_curve_keypair_load(stranger_key, &stranger_pair, NULL), 0);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "key=%.8s...", stranger_pair.public_key);
    if (!counted || !processed) {
        nm_proc_dump_log(&q.proc);
        nm_proc_dump_log(&worker);
        nm_proc_dump_log(&collector);
    }
    assert_true(counted);
    assert_true(processed);
    assert_non_null(strstr(qlog, "curve refused peer=127.0.0.1"));
    assert_non_null(strstr(qlog, prefix));
    assert_non_null(strstr(qlog, "reason=\"key not in allow-list\""));
    assert_true(strstr(qlog, "reason=\"client does not use CURVE") ||
                strstr(qlog, "reason=\"handshake broken off"));
    free(qlog);
    relay_stop(&rel);
    free(rel.rec);

    nm_proc_signal(&worker, SIGTERM);
    nm_proc_wait(&worker, 10000, NULL);
    qtest_stop(&q);
    nm_proc_signal(&collector, SIGTERM);
    nm_proc_wait(&collector, 5000, NULL);

    /* 4. control: the same exchange without CURVE shows the sentence */
    qtest_queue plain;
    qtest_init(&plain, "plain");
    qtest_start(&plain);
    relay_start(&rel, plain.front);
    snprintf(via_relay, sizeof via_relay, "tcp://127.0.0.1:%d", rel.port);
    rc = submit_one(ctx, via_relay, NULL, "plain-2", 10000, &err);
    if (rc != 0)
        fail_msg("plain producer: %s", err.msg);
    assert_true(relay_saw(&rel, SENTENCE));
    relay_stop(&rel);
    free(rel.rec);
    qtest_stop(&plain);

    nm_curve_destroy(&client);
    nm_curve_destroy(&stranger);
    zmq_ctx_term(ctx);
    free(server_key);
    free(client_key);
    free(stranger_key);
    free(allow);
}

/* Bad flags are refused at start with a clear message, exit 1. */
static void bad_curve_flags(void **state)
{
    (void)state;
    struct {
        const char *flag, *value, *needle;
    } cases[] = {
        {"--curve-allow", "/nonexistent", "--curve-allow needs --curve-secret"},
        {"--curve-secret", "/nonexistent/server.key", "alone does nothing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qtest_queue q;
        char name[32];
        snprintf(name, sizeof name, "badflags%zu", i);
        qtest_init(&q, name);
        char *argv[] = {(char *)nm_test_bin("newsmill-queue"), "--front", q.front, "--back", q.back,
                        "--spool", q.spool, (char *)cases[i].flag, (char *)cases[i].value, NULL};
        nm_proc_start(&q.proc, name, argv);
        int status;
        assert_true(nm_proc_wait(&q.proc, 5000, &status));
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        char *log = nm_test_read_file(q.proc.log_path, NULL);
        if (!log || !strstr(log, cases[i].needle))
            fail_msg("case %zu: log '%s'", i, log ? log : "");
        free(log);
    }
}

int main(void)
{
    if (nm_curve_available(NULL) != 0) {
        nm_test_skip_program("libzmq has no CURVE support");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(curve_end_to_end),
        cmocka_unit_test(bad_curve_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _GNU_SOURCE /* memmem */
/* CURVE end to end, with the real programs: keys from `newsmill keygen`, a
 * queue and a collector that require CURVE, a worker that connects with it.
 *   - an allow-listed producer submits and is acked; the worker processes the
 *     article; the queue's stats reach the collector (both over CURVE);
 *   - a producer with an unknown key and one without CURVE get nothing
 *     through (their submits time out), the queue logs each refusal and its
 *     curve_refused_total counter (read from the collector) rises; an unknown
 *     key gets nothing from the collector either;
 *   - a stranger's key is refused on all four CURVE sockets: the queue's
 *     front (producers) and back (workers), the collector's stats and query
 *     sockets; each refusal is logged with the key and counted; a worker
 *     with that key gets no article and its reports never reach the
 *     collector;
 *   - the traffic is encrypted on every link: a TCP relay in this test
 *     process sits on each (producer -> front, worker -> back, stats ->
 *     collector, client -> query) and records every byte; the article's
 *     sentence (front, back) or a metric name (stats, query) is absent from
 *     the recording with CURVE and (control) present without. */
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

/* ---- a fleet whose four links each pass through a recording relay ---- */

enum { LINK_FRONT, LINK_BACK, LINK_STATS, LINK_QUERY, N_LINKS };
static const char *const link_names[N_LINKS] = {"producer -> queue front", "worker -> queue back",
                                                "stats -> collector", "client -> collector query"};

/* Plaintext that each link carries without CURVE: the article (front: the
 * submit; back: the delivery) and a metric name (stats reports; snapshots). */
#define STATS_MARKER "queue_articles_done_total"
static const char *const link_markers[N_LINKS] = {SENTENCE, SENTENCE, STATS_MARKER, STATS_MARKER};

typedef struct fleet_keys { /* NULL: the fleet runs without CURVE */
    const char *server_key, *server_pub, *client_key, *allow;
} fleet_keys;

typedef struct fleet {
    const fleet_keys *keys;
    relay rel[N_LINKS];
    char via[N_LINKS][64]; /* each link's endpoint through its relay */
    char stats_ep[64], query_ep[64];
    nm_proc collector, worker;
    qtest_queue q;
} fleet;

/* Collector and queue (no worker yet), every link through a relay: the queue
 * pushes its stats through the stats relay. */
static void fleet_start(fleet *f, const char *name, const fleet_keys *keys)
{
    memset(f, 0, sizeof *f);
    f->keys = keys;
    qtest_init(&f->q, name);
    snprintf(f->stats_ep, sizeof f->stats_ep, "%s", nm_test_endpoint());
    snprintf(f->query_ep, sizeof f->query_ep, "%s", nm_test_endpoint());
    const char *targets[N_LINKS] = {f->q.front, f->q.back, f->stats_ep, f->query_ep};
    for (int l = 0; l < N_LINKS; l++) {
        relay_start(&f->rel[l], targets[l]);
        snprintf(f->via[l], sizeof f->via[l], "tcp://127.0.0.1:%d", f->rel[l].port);
    }
    char cname[64];
    snprintf(cname, sizeof cname, "%s-collector", name);
    char *cargv[16] = {(char *)nm_test_bin("newsmill-collector"), "--stats-bind", f->stats_ep,
                       "--query-bind", f->query_ep, "--http", "off"};
    int n = 7;
    if (keys) {
        cargv[n++] = "--curve-secret";
        cargv[n++] = (char *)keys->server_key;
        cargv[n++] = "--curve-allow";
        cargv[n++] = (char *)keys->allow;
    }
    cargv[n] = NULL;
    nm_proc_start(&f->collector, cname, cargv);

    snprintf(f->q.stats, sizeof f->q.stats, "%s", f->via[LINK_STATS]);
    if (keys) { /* CURVE on both ROUTERs and to the collector */
        qtest_flag(&f->q, "--curve-secret");
        qtest_flag(&f->q, keys->server_key);
        qtest_flag(&f->q, "--curve-allow");
        qtest_flag(&f->q, keys->allow);
        qtest_flag(&f->q, "--curve-server-key");
        qtest_flag(&f->q, keys->server_pub);
    }
    qtest_start(&f->q);
}

/* A worker named name with key secret (NULL: the fleet's client key),
 * through the relays when via_relays, else straight to the sockets. */
static void fleet_start_worker(fleet *f, nm_proc *w, const char *name, const char *secret,
                               bool via_relays)
{
    char db[600];
    snprintf(db, sizeof db, "%s", nm_test_path(name));
    strcat(db, ".db");
    char *argv[16] = {(char *)nm_test_bin("newsmill-worker"), "--name", (char *)name,
                      "--queue", via_relays ? f->via[LINK_BACK] : f->q.back,
                      "--stats", via_relays ? f->via[LINK_STATS] : f->stats_ep, "--db", db};
    int n = 9;
    if (f->keys) {
        argv[n++] = "--curve-secret";
        argv[n++] = (char *)(secret ? secret : f->keys->client_key);
        argv[n++] = "--curve-server-key";
        argv[n++] = (char *)f->keys->server_pub;
    }
    argv[n] = NULL;
    nm_proc_start(w, name, argv);
}

static void fleet_stop(fleet *f)
{
    nm_proc_signal(&f->worker, SIGTERM);
    nm_proc_wait(&f->worker, 10000, NULL);
    qtest_stop(&f->q);
    nm_proc_signal(&f->collector, SIGTERM);
    nm_proc_wait(&f->collector, 5000, NULL);
    for (int l = 0; l < N_LINKS; l++) {
        relay_stop(&f->rel[l]);
        free(f->rel[l].rec);
    }
}

static size_t relay_bytes(relay *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Every link carried traffic, and its marker is absent (CURVE) or present
 * (the plaintext control). */
static void assert_links(fleet *f, bool marker_visible)
{
    for (int l = 0; l < N_LINKS; l++) {
        size_t n = relay_bytes(&f->rel[l]);
        bool seen = relay_saw(&f->rel[l], link_markers[l]);
        if (n < 100 || seen != marker_visible)
            fail_msg("link %s: %zu bytes recorded, \"%s\" %s in them (expected %s)", link_names[l],
                     n, link_markers[l], seen ? "found" : "not found",
                     marker_visible ? "found" : "not found");
    }
}

/* The log has a refusal line holding both `what` and key_prefix. */
static bool refusal_logged(const nm_proc *p, const char *what, const char *key_prefix)
{
    char *log = nm_test_read_file(p->log_path, NULL);
    bool found = false;
    for (char *line = log ? strtok(log, "\n") : NULL; line && !found; line = strtok(NULL, "\n"))
        found = strstr(line, "curve refused") && strstr(line, what) && strstr(line, key_prefix);
    free(log);
    return found;
}

/* The collector lists a process of that name (instance). */
static bool collector_lists(void *ctx, const char *query, const nm_curve *curve, const char *name)
{
    Newsmill__Envelope *env;
    nm_error err;
    if (nm_statsclient_fetch_curve(ctx, query, curve, 2000, &env, &err) != 0)
        return false;
    bool found = false;
    for (size_t i = 0; env->snapshot && i < env->snapshot->n_processes; i++) {
        const Newsmill__StatsReport *r = env->snapshot->processes[i]->last;
        found |= r && strstr(r->instance, name) != NULL;
    }
    nm_frame_free(&env);
    return found;
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
    fleet_keys keys = {server_key, server_pub, client_key, allow};
    fleet f;
    fleet_start(&f, "curve", &keys);

    void *ctx = zmq_ctx_new();
    nm_curve *client, *stranger;
    load_pair(client_key, &client, server_pub);
    load_pair(stranger_key, &stranger, server_pub);
    nm_curve_keypair stranger_pair;
    assert_int_equal(nm_curve_keypair_load(stranger_key, &stranger_pair, NULL), 0);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "key=%.8s...", stranger_pair.public_key);

    /* 1. a worker with a stranger's key, straight to the queue's back socket
     * and the collector's stats socket, before anyone else talks to either
     * program: the first refusal each counts is the intruder's (the ZAP
     * handler logs key refusals as socket=zap, so the order tells which
     * socket refused) */
    nm_proc intruder;
    fleet_start_worker(&f, &intruder, "intruder", stranger_key, false);
    metric_wait back_refused = {ctx, f.via[LINK_QUERY], client, "queue", "curve_refused_total", 1};
    bool back_counted = nm_test_wait_until(metric_reached, &back_refused, 10000);
    metric_wait stats_refused = {ctx, f.via[LINK_QUERY], client, "collector",
                                 "curve_refused_total", 1};
    bool stats_counted = nm_test_wait_until(metric_reached, &stats_refused, 10000);
    if (!back_counted || !stats_counted) {
        nm_proc_dump_log(&f.q.proc);
        nm_proc_dump_log(&f.collector);
        nm_proc_dump_log(&intruder);
    }
    assert_true(back_counted);
    assert_true(stats_counted);

    /* 2. allowed key: acked, through the front relay; the intruder gets
     * nothing of it (nothing done, nothing in its database) */
    nm_error err;
    int rc = submit_one(ctx, f.via[LINK_FRONT], client, "allowed-1", 10000, &err);
    if (rc != 0) {
        nm_proc_dump_log(&f.q.proc);
        fail_msg("allowed producer: %s", err.msg);
    }

    /* 3. unknown key and no CURVE at the front: nothing gets through */
    rc = submit_one(ctx, f.q.front, stranger, "stranger-1", 1500, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    rc = submit_one(ctx, f.q.front, NULL, "plain-1", 1500, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);
    /* and the collector's query socket tells a stranger nothing */
    Newsmill__Envelope *env;
    assert_int_equal(nm_statsclient_fetch_curve(ctx, f.query_ep, stranger, 1000, &env, &err), -1);
    assert_int_equal(err.code, NM_ERR_TIMEOUT);

    /* 4. all those refusals are counted; the intruder, after 3 s and more
     * with an article waiting, got none and is unknown to the collector */
    metric_wait queue_refused = {ctx, f.via[LINK_QUERY], client, "queue", "curve_refused_total", 3};
    bool queue_counted = nm_test_wait_until(metric_reached, &queue_refused, 10000);
    metric_wait collector_refused = {ctx, f.via[LINK_QUERY], client, "collector",
                                     "curve_refused_total", 2};
    bool collector_counted = nm_test_wait_until(metric_reached, &collector_refused, 10000);
    double done_by_intruder = collector_metric(ctx, f.via[LINK_QUERY], client, "queue",
                                               "queue_articles_done_total");
    char intruder_db[600];
    snprintf(intruder_db, sizeof intruder_db, "%s.db", nm_test_path("intruder"));
    char cmd[800];
    snprintf(cmd, sizeof cmd,
             "test \"$(sqlite3 '%s' 'SELECT count(*) FROM article_rows' 2>/dev/null || echo 0)\" = 0",
             intruder_db);
    bool intruder_empty = system(cmd) == 0;
    bool intruder_listed = collector_lists(ctx, f.via[LINK_QUERY], client, "intruder");
    bool key_logged = refusal_logged(&f.q.proc, "key not in allow-list", prefix) &&
                      refusal_logged(&f.collector, "key not in allow-list", prefix);
    if (!queue_counted || !collector_counted || !key_logged) {
        nm_proc_dump_log(&f.q.proc);
        nm_proc_dump_log(&f.collector);
        nm_proc_dump_log(&intruder);
    }
    nm_proc_kill(&intruder);
    assert_true(queue_counted);
    assert_true(collector_counted);
    assert_true(key_logged);
    assert_true(done_by_intruder <= 0);
    assert_true(intruder_empty);
    assert_false(intruder_listed);
    char *qlog = nm_test_read_file(f.q.proc.log_path, NULL);
    assert_non_null(strstr(qlog, "curve refused peer=127.0.0.1"));
    assert_non_null(strstr(qlog, "reason=\"key not in allow-list\""));
    assert_true(strstr(qlog, "reason=\"client does not use CURVE") ||
                strstr(qlog, "reason=\"handshake broken off"));
    free(qlog);

    /* 5. the allowed worker, through the relays, processes the article; its
     * and the queue's stats reach the collector */
    fleet_start_worker(&f, &f.worker, "worker", NULL, true);
    metric_wait done = {ctx, f.via[LINK_QUERY], client, "queue", "queue_articles_done_total", 1};
    bool processed = nm_test_wait_until(metric_reached, &done, 20000);
    if (!processed) {
        nm_proc_dump_log(&f.q.proc);
        nm_proc_dump_log(&f.worker);
        nm_proc_dump_log(&f.collector);
    }
    assert_true(processed);
    bool worker_listed = false; /* its reports come once a second */
    for (int i = 0; i < 50 && !worker_listed; i++) {
        worker_listed = collector_lists(ctx, f.via[LINK_QUERY], client, "worker");
        if (!worker_listed)
            usleep(100 * 1000);
    }
    assert_true(worker_listed);

    /* 6. every link carried ciphertext only */
    assert_false(relay_saw(&f.rel[LINK_FRONT], "allowed-1"));
    assert_false(relay_saw(&f.rel[LINK_BACK], "allowed-1"));
    assert_false(relay_saw(&f.rel[LINK_FRONT], "walrus"));
    assert_links(&f, false);
    fleet_stop(&f);

    /* 7. control: the same fleet without CURVE shows each link's plaintext */
    fleet_start(&f, "plain", NULL);
    rc = submit_one(ctx, f.via[LINK_FRONT], NULL, "plain-2", 10000, &err);
    if (rc != 0)
        fail_msg("plain producer: %s", err.msg);
    fleet_start_worker(&f, &f.worker, "plain-worker", NULL, true);
    metric_wait plain_done = {ctx, f.via[LINK_QUERY], NULL, "queue", "queue_articles_done_total", 1};
    assert_true(nm_test_wait_until(metric_reached, &plain_done, 20000));
    assert_links(&f, true);
    fleet_stop(&f);

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

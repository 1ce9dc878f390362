/* newsmill-queue, real processes and sockets: articles flow through, nothing
 * is lost across kill -9 of the queue or of a consumer, credit is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"

/* ---- consumers in forked children ---- */

static volatile sig_atomic_t child_stop;
static void child_on_term(int sig)
{
    (void)sig;
    child_stop = 1;
}

/* Child: consume from back, append "id attempt" lines to out, ack each one
 * (or, with die_after > 0, ack none and exit after taking that many; with
 * die_after < 0, ack none and stop itself with SIGSTOP after -die_after). */
static pid_t spawn_consumer(const char *back, const char *out, uint32_t capacity, int die_after)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    signal(SIGTERM, child_on_term);
    void *ctx = zmq_ctx_new();
    nm_consumer_config cfg = {.endpoint = back, .capacity = capacity, .heartbeat_ms = 100};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    FILE *f = fopen(out, "a");
    int taken = 0;
    while (!child_stop && c && f) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, nm_consumer_tick(c));
        Newsmill__Delivery *d;
        while (nm_consumer_recv(c, &d, NULL) == 1) {
            fprintf(f, "%s %u\n", d->article->id, d->attempt);
            fflush(f);
            if (die_after > 0) {
                if (++taken >= die_after)
                    _exit(3); /* dies holding its leases, none acked */
                continue;
            }
            if (die_after < 0) {
                if (++taken >= -die_after)
                    raise(SIGSTOP); /* hangs holding its leases: no heartbeats */
                continue;
            }
            nm_consumer_done(c, &d->lease_id, 1, NULL);
            nm_consumer_delivery_free(&d);
        }
    }
    _exit(0);
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static int count_lines(const char *path)
{
    char *text = nm_test_read_file(path, NULL);
    int n = 0;
    for (char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

typedef struct lines_goal {
    const char **paths;
    int n_paths, want;
} lines_goal;

static bool enough_lines(void *arg)
{
    lines_goal *g = arg;
    int total = 0;
    for (int i = 0; i < g->n_paths; i++)
        total += count_lines(g->paths[i]);
    return total >= g->want;
}

/* submit N, consume with 3 consumer processes: every id exactly once. */
static void three_consumers(void **state)
{
    (void)state;
    enum { N = 3000 };
    qtest_queue q;
    qtest_init(&q, "flow");
    qtest_start(&q);
    const char *outs[3] = {nm_test_path("c0.txt"), nm_test_path("c1.txt"), nm_test_path("c2.txt")};
    char paths[3][512];
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s", outs[i]);
        outs[i] = paths[i];
        kids[i] = spawn_consumer(q.back, paths[i], 16, 0);
    }
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "flow-", 0, N, 100);
    lines_goal goal = {outs, 3, N};
    bool all = nm_test_wait_until(enough_lines, &goal, 20000);
    for (int i = 0; i < 3; i++)
        stop_child(kids[i]);
    if (!all)
        nm_proc_dump_log(&q.proc);
    assert_true(all);

    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    int per_consumer[3] = {0};
    for (int i = 0; i < 3; i++) {
        char *text = nm_test_read_file(outs[i], NULL);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            int k = -1;
            assert_int_equal(sscanf(line, "flow-%d", &k), 1);
            assert_true(k >= 0 && k < N);
            seen[k]++;
            per_consumer[i]++;
        }
        free(text);
    }
    for (int k = 0; k < N; k++) {
        if (seen[k] != 1)
            fail_msg("flow-%d seen %d times", k, seen[k]);
    }
    for (int i = 0; i < 3; i++)
        assert_true(per_consumer[i] > 0); /* every consumer got work */
    assert_true(qtest_wait_metric(pull, "queue_articles_done_total", NULL, N, 5000) == N);
    assert_true(qtest_wait_gauge(pull, "queue_backlog_articles", 0, 3000));
    assert_true(qtest_wait_gauge(pull, "queue_in_flight_articles", 0, 3000));
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), 0); /* the spool is empty */
}

/* ---- kill -9 of the queue ---- */

typedef struct id_set {
    unsigned char *acked, *seen;
    int n;
} id_set;

static int id_index(const char *id)
{
    int k = -1;
    return sscanf(id, "k9-%d", &k) == 1 ? k : -1;
}

/* Consumes (acking everything) until every acked id is seen or timeout. */
static int consume_until_all(nm_consumer *c, id_set *s, int timeout_ms, int stop_after)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    int got = 0;
    while (nm_time_mono_ns() < deadline) {
        int missing = 0;
        for (int i = 0; i < s->n; i++)
            missing += s->acked[i] && !s->seen[i];
        if (missing == 0 && stop_after == 0)
            return got;
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, nm_consumer_tick(c) < 50 ? nm_consumer_tick(c) : 50);
        Newsmill__Delivery *d;
        while (nm_consumer_recv(c, &d, NULL) == 1) {
            int k = id_index(d->article->id);
            if (k < 0 || k >= s->n)
                fail_msg("unexpected article %s", d->article->id);
            else
                s->seen[k] = 1;
            nm_consumer_done(c, &d->lease_id, 1, NULL);
            nm_consumer_delivery_free(&d);
            if (stop_after && ++got >= stop_after)
                return got;
        }
    }
    return got;
}

static void kill9_restart(void **state)
{
    (void)state;
    enum { BATCHES = 60, PER = 50, N = BATCHES * PER };
    qtest_queue q;
    qtest_init(&q, "k9");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    static unsigned char acked[N], seen[N];
    memset(acked, 0, sizeof acked);
    memset(seen, 0, sizeof seen);
    static char ids[N][24];
    static char bodies[N][64];
    Newsmill__Article *arts = calloc(N, sizeof *arts);
    Newsmill__Article **ptrs = calloc(N, sizeof *ptrs);
    uint64_t rids[BATCHES];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "k9-%d", i);
        snprintf(bodies[i], sizeof bodies[i], "Title %d\n\nIsrael’s text number %d.", i, i);
        qtest_article(&arts[i], ids[i], bodies[i]);
        ptrs[i] = &arts[i];
    }
    /* mid-submit: all batches in flight, the queue dies after a few acks */
    for (int b = 0; b < BATCHES; b++)
        assert_int_equal(nm_producer_send(p, ptrs + b * PER, PER, &rids[b], NULL), 0);
    int acks = 0;
    for (;;) {
        uint64_t rid;
        Newsmill__SubmitAck *ack;
        nm_error err;
        if (nm_producer_recv(p, acks < 5 ? 5000 : 300, &rid, &ack, &err) != 0) {
            if (rid == 0)
                break; /* timeout: the queue is gone */
            continue;
        }
        int b = -1;
        for (int i = 0; i < BATCHES; i++)
            if (rids[i] == rid)
                b = i;
        assert_true(b >= 0);
        for (size_t i = 0; i < ack->n_acks; i++) {
            int k = id_index(ack->acks[i]->id);
            if (k < 0 || k >= N)
                fail_msg("ack for unexpected id %s", ack->acks[i]->id);
            else if (ack->acks[i]->accepted)
                acked[k] = 1;
        }
        nm_producer_ack_free(&ack);
        if (++acks == 5)
            nm_proc_kill(&q.proc);
    }
    int n_acked = 0;
    for (int i = 0; i < N; i++)
        n_acked += acked[i];
    assert_true(n_acked >= 5 * PER);

    /* mid-delivery: a consumer takes and acks some, the queue dies again */
    qtest_start(&q);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 64, .heartbeat_ms = 100};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    id_set s = {acked, seen, N};
    int got = consume_until_all(c, &s, 10000, n_acked / 3);
    assert_true(got > 0);
    nm_proc_kill(&q.proc);
    qtest_start(&q);
    consume_until_all(c, &s, 20000, 0);
    int missing = 0;
    for (int i = 0; i < N; i++)
        missing += acked[i] && !seen[i];
    if (missing)
        nm_proc_dump_log(&q.proc);
    assert_int_equal(missing, 0);
    assert_true(nm_consumer_reannounces(c) >= 1); /* credit re-announced after the restarts */
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    free(arts);
    free(ptrs);
}

/* A consumer that takes work and dies: the work is delivered again. */
static void consumer_dies(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "dies");
    qtest_flag(&q, "--lease=1s");
    qtest_flag(&q, "--worker-timeout=5s");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "dies-", 0, 5, 5);
    const char *out = nm_test_path("dying.txt");
    pid_t kid = spawn_consumer(q.back, out, 5, 5);
    int status;
    assert_int_equal(waitpid(kid, &status, 0), kid);
    assert_int_equal(WEXITSTATUS(status), 3);
    assert_int_equal(count_lines(out), 5);

    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 10, .heartbeat_ms = 100};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    int got = 0;
    int64_t start = nm_time_mono_ns();
    while (got < 5 && nm_time_mono_ns() - start < 5 * NM_NS_PER_S) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 50);
        nm_consumer_tick(c);
        Newsmill__Delivery *d;
        while (nm_consumer_recv(c, &d, NULL) == 1) {
            /* it died holding all 5: no one of them is charged an attempt
             * (nm_suspects.h), they come back in smaller groups */
            assert_int_equal(d->attempt, 1);
            assert_true(d->enqueued_unix_ms > 0);
            nm_consumer_done(c, &d->lease_id, 1, NULL);
            nm_consumer_delivery_free(&d);
            got++;
        }
    }
    assert_int_equal(got, 5);
    assert_true(qtest_wait_metric(pull, "queue_articles_redelivered_total", NULL, 5, 3000) >= 5);
    assert_true(qtest_wait_metric(pull, "queue_articles_done_total", NULL, 5, 3000) >= 5);
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* Credit 1 never holds 2. */
static void credit_respected(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "credit");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "cr-", 0, 20, 20);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 50};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    for (int round = 0; round < 4; round++) {
        Newsmill__Delivery *held = NULL;
        int64_t start = nm_time_mono_ns();
        /* hold one for 400 ms, heartbeating: nothing else may arrive */
        while (nm_time_mono_ns() - start < 400 * NM_NS_PER_MS || !held) {
            zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
            zmq_poll(&it, 1, 20);
            nm_consumer_tick(c);
            Newsmill__Delivery *d;
            while (nm_consumer_recv(c, &d, NULL) == 1) {
                if (held)
                    fail_msg("a consumer with credit 1 received a second article (%s while "
                             "holding %s)",
                             d->article->id, held->article->id);
                held = d;
            }
            assert_true(nm_time_mono_ns() - start < 5 * NM_NS_PER_S);
        }
        assert_int_equal(nm_consumer_in_flight(c), 1);
        nm_consumer_done(c, &held->lease_id, 1, NULL);
        nm_consumer_delivery_free(&held);
    }
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* Keeps c heartbeating for ms, settling nothing; deliveries are an error. */
static void idle(nm_consumer *c, int ms, const uint64_t *extend, size_t n_extend)
{
    int64_t start = nm_time_mono_ns(), last_extend = start;
    while (nm_time_mono_ns() - start < (int64_t)ms * NM_NS_PER_MS) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 20);
        nm_consumer_tick(c);
        Newsmill__Delivery *d;
        if (nm_consumer_recv(c, &d, NULL) == 1)
            fail_msg("unexpected delivery of %s", d->article->id);
        if (n_extend && nm_time_mono_ns() - last_extend > 100 * NM_NS_PER_MS) {
            nm_consumer_extend(c, extend, n_extend, 0, NULL);
            last_extend = nm_time_mono_ns();
        }
    }
}

/* ExtendLease keeps a lease past its length; without it the lease expires. */
static void extend_lease(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "extend");
    qtest_flag(&q, "--lease=700ms");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "ext-", 0, 2, 2);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 2, .heartbeat_ms = 50};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    Newsmill__Delivery *a = qtest_next_delivery(c, 3000), *b = qtest_next_delivery(c, 3000);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->lease_ms, 700);
    idle(c, 1600, &a->lease_id, 1); /* a is extended, b is not */
    nm_consumer_done(c, &a->lease_id, 1, NULL);
    nm_consumer_done(c, &b->lease_id, 1, NULL);
    /* b expired: its done is refused, it comes back, uncharged (the
     * consumer held a as well when b expired: nm_suspects.h) */
    Newsmill__Delivery *again = qtest_next_delivery(c, 3000);
    assert_non_null(again);
    assert_string_equal(again->article->id, b->article->id);
    assert_int_equal(again->attempt, 1);
    nm_consumer_done(c, &again->lease_id, 1, NULL);
    idle(c, 200, NULL, 0);
    assert_int_equal(nm_consumer_unknown_leases(c), 1);
    assert_int_equal(qtest_wait_metric(pull, "queue_articles_done_total", NULL, 2, 3000), 2);
    Newsmill__Envelope *env = qtest_stats(pull, 300);
    assert_int_equal(qtest_metric(env, "queue_articles_redelivered_total", NULL), 1);
    nm_frame_free(&env);
    nm_consumer_delivery_free(&a);
    nm_consumer_delivery_free(&b);
    nm_consumer_delivery_free(&again);
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* A worker that hangs (no heartbeats) loses its leases after the worker
 * timeout, long before they would expire. */
static void silent_worker(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "silent");
    qtest_flag(&q, "--lease=1m");
    qtest_flag(&q, "--worker-timeout=1s");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "hang-", 0, 3, 3);
    pid_t kid = spawn_consumer(q.back, nm_test_path("hung.txt"), 3, -3);
    int status;
    assert_int_equal(waitpid(kid, &status, WUNTRACED), kid);
    assert_true(WIFSTOPPED(status));
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 3, .heartbeat_ms = 50};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    for (int i = 0; i < 3; i++) {
        Newsmill__Delivery *d = qtest_next_delivery(c, 3000);
        assert_non_null(d);
        assert_int_equal(d->attempt, 1); /* held with 2 others: uncharged */
        nm_consumer_done(c, &d->lease_id, 1, NULL);
        nm_consumer_delivery_free(&d);
    }
    assert_true(qtest_wait_metric(pull, "queue_articles_redelivered_total", NULL, 3, 3000) >= 3);
    assert_true(qtest_wait_gauge(pull, "queue_workers", 1, 3000));
    /* the dropped worker's series left the reports with it */
    Newsmill__Envelope *env = qtest_stats(pull, 1000);
    assert_non_null(env);
    size_t series = 0;
    for (size_t i = 0; i < env->stats->n_metrics; i++)
        series += strcmp(env->stats->metrics[i]->name, "queue_worker_in_flight_articles") == 0;
    assert_int_equal(series, 1);
    nm_frame_free(&env);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* Higher priority first, then oldest first. */
static void priority_order(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "prio");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    qtest_submit_range(p, "low-", 0, 3, 3);
    Newsmill__Article hi, *one[] = {&hi};
    qtest_article(&hi, "urgent", "Urgent\n\nRead me first.");
    hi.priority = 9;
    Newsmill__SubmitAck *ack;
    assert_int_equal(nm_producer_submit(p, one, 1, &ack, NULL), 0);
    nm_producer_ack_free(&ack);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 50};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    const char *want[] = {"urgent", "low-0", "low-1", "low-2"};
    for (int i = 0; i < 4; i++) {
        Newsmill__Delivery *d = qtest_next_delivery(c, 3000);
        assert_non_null(d);
        assert_string_equal(d->article->id, want[i]);
        nm_consumer_done(c, &d->lease_id, 1, NULL);
        nm_consumer_delivery_free(&d);
    }
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_consumers),
        cmocka_unit_test(kill9_restart),
        cmocka_unit_test(consumer_dies),
        cmocka_unit_test(credit_respected),
        cmocka_unit_test(extend_lease),
        cmocka_unit_test(silent_worker),
        cmocka_unit_test(priority_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

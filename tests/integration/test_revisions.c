/* Revisions end to end, with the real queue (and real workers where the
 * results database is the point): a body replaced while an older one is
 * still in a worker's hands never loses to it, in the results database
 * (stale writes are dropped), in the dead letters (a failure of the old body
 * buries nothing) and on requeue (a requeued old body stays old); and the
 * queue's counters count what happened (done: a row removed; accepted: an
 * ack sent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"

#define ID "rev-test"
#define BODY_ONE "Title one\n\nThis is version one of the article, from Ankara."
#define BODY_TWO "Title two\n\nThis is version two of the article, from Ankara."

/* ---- helpers ---- */

/* Starts newsmill-worker NAME on q's back and stats endpoints, writing db,
 * with up to 6 extra arguments (NULL-terminated). */
static void start_worker(nm_proc *w, const qtest_queue *q, const char *name, const char *db,
                         const char *const *extra)
{
    char *argv[24] = {(char *)nm_test_bin("newsmill-worker"), "--queue", (char *)q->back,
                      "--stats", (char *)q->stats, "--db", (char *)db, "--name", (char *)name,
                      "--log-level", "info"};
    int n = 11;
    for (int k = 0; extra && extra[k] && n < 22; k++)
        argv[n++] = (char *)extra[k];
    argv[n] = NULL;
    nm_proc_start(w, name, argv);
}

static void stop_worker(nm_proc *w)
{
    nm_proc_signal(w, SIGCONT);
    nm_proc_signal(w, SIGTERM);
    int status;
    if (!nm_proc_wait(w, 10000, &status))
        nm_proc_kill(w);
}

/* The title stored for id in the results database db (caller frees), or
 * NULL while there is none. */
static char *stored_title(const char *db, const char *id)
{
    sqlite3 *h;
    char *title = NULL;
    if (access(db, F_OK) != 0 || sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT title FROM article_rows WHERE id = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            title = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return title;
}

typedef struct title_wait {
    const char *db, *id, *want;
} title_wait;

static bool title_is(void *arg)
{
    title_wait *t = arg;
    char *title = stored_title(t->db, t->id);
    bool same = title && !strcmp(title, t->want);
    free(title);
    return same;
}

/* Submits one text article; fails the test unless it is accepted. */
static void submit_one(nm_producer *p, const char *id, const char *body)
{
    Newsmill__Article a, *ptrs[] = {&a};
    qtest_article(&a, (char *)id, (char *)body);
    Newsmill__SubmitAck *ack;
    nm_error err;
    if (nm_producer_submit(p, ptrs, 1, &ack, &err) != 0)
        fail_msg("submitting %s: %s", id, err.msg);
    assert_int_equal(ack->accepted, 1);
    nm_producer_ack_free(&ack);
}

static bool body_is(const Newsmill__Delivery *d, const char *body)
{
    return d && d->article && d->article->body.len == strlen(body) &&
           !memcmp(d->article->body.data, body, d->article->body.len);
}

/* ---- a stale worker cannot overwrite a newer version ---- */

/* The reproduction of issue 19: worker A holds version one past its lease
 * (stopped), version two is submitted and stored by worker B, then A wakes
 * up and commits what it held. The results must still say "Title two", and
 * A must have counted the stale write it dropped and still sent done. */
static void stale_worker_does_not_overwrite(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "stale");
    qtest_flag(&q, "--lease=2s");
    qtest_flag(&q, "--worker-timeout=2s");
    qtest_start(&q);
    const char *db = nm_test_path("stale/results.db");
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    nm_proc a, b;
    start_worker(&a, &q, "stale-A", db, (const char *[]){"--flush-ms", "4s", NULL});
    submit_one(p, ID, BODY_ONE);
    /* A holds version one (its own report says so), then stops */
    if (qtest_wait_metric_of(pull, "stale-A", "worker_in_flight_articles", NULL, 1, 20000) < 1) {
        nm_proc_dump_log(&a);
        fail_msg("worker A never took the article");
    }
    nm_proc_signal(&a, SIGSTOP);
    submit_one(p, ID, BODY_TWO);
    /* A's lease expires; B gets version two and stores it */
    start_worker(&b, &q, "stale-B", db, NULL);
    title_wait tw = {db, ID, "Title two"};
    if (!nm_test_wait_until(title_is, &tw, 30000)) {
        nm_proc_dump_log(&q.proc);
        nm_proc_dump_log(&b);
        fail_msg("worker B never stored version two");
    }
    /* A wakes up and writes what it held: wait until it says it settled it */
    nm_proc_signal(&a, SIGCONT);
    double settled = 0;
    int64_t deadline = nm_time_mono_ns() + 30 * NM_NS_PER_S;
    while (settled < 1 && nm_time_mono_ns() < deadline) {
        double done = qtest_wait_metric_of(pull, "stale-A", "worker_articles_done_total", NULL, 1,
                                           300);
        double stale = qtest_wait_metric_of(pull, "stale-A", "worker_stale_dropped_total", NULL, 1,
                                            300);
        settled = (done > 0 ? done : 0) + (stale > 0 ? stale : 0);
    }
    if (settled < 1) {
        nm_proc_dump_log(&a);
        fail_msg("worker A never settled the version it held");
    }
    char *title = stored_title(db, ID);
    if (!title || strcmp(title, "Title two")) {
        nm_proc_dump_log(&a);
        fail_msg("the results say '%s' after the stale worker woke up, want 'Title two'",
                 title ? title : "(nothing)");
    }
    free(title);
    /* counted as stale, not as done, and done still sent (the queue
     * refuses it: that lease expired long ago) */
    assert_true(qtest_wait_metric_of(pull, "stale-A", "worker_stale_dropped_total", NULL, 1,
                                     5000) == 1);
    assert_true(qtest_wait_metric_of(pull, "stale-A", "worker_articles_done_total", NULL, 0,
                                     5000) == 0);
    assert_true(qtest_wait_metric_of(pull, "queue", "queue_requests_rejected_total",
                                     "unknown-lease", 1, 5000) >= 1);
    stop_worker(&a);
    stop_worker(&b);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), 0);
}

/* ---- a failure of an old body buries nothing newer ---- */

/* Version one is delivered; version two replaces it in the spool while the
 * lease is out; the worker then fails version one (with --max-attempts 1,
 * that failure would bury the row). Version two must stay and be
 * delivered; nothing is dead-lettered. */
static void old_failure_spares_newer_body(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "spare");
    qtest_flag(&q, "--max-attempts=1");
    qtest_flag(&q, "--lease=30s");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 100,
                              .worker = "spare-worker"};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    submit_one(p, ID, BODY_ONE);
    Newsmill__Delivery *d1 = qtest_next_delivery(c, 10000);
    assert_non_null(d1);
    assert_true(body_is(d1, BODY_ONE));
    submit_one(p, ID, BODY_TWO);
    assert_int_equal(nm_consumer_fail(c, d1->lease_id, "crashed on version one", false, NULL), 0);
    Newsmill__Delivery *d2 = qtest_next_delivery(c, 10000);
    if (!d2) {
        Newsmill__DeadList *list;
        assert_int_equal(nm_producer_dead_list(p, 10, NULL, &list, NULL), 0);
        fail_msg("version two was never delivered; dead letters: %llu",
                 (unsigned long long)list->total);
    }
    assert_true(body_is(d2, BODY_TWO));
    assert_true(d1->revision > 0 && d2->revision > d1->revision);
    assert_int_equal(d2->attempt, 1); /* version two's first delivery */
    assert_int_equal(nm_consumer_done(c, &d2->lease_id, 1, NULL), 0);
    Newsmill__DeadList *list;
    assert_int_equal(nm_producer_dead_list(p, 10, NULL, &list, NULL), 0);
    assert_int_equal(list->total, 0);
    nm_producer_dead_list_free(&list);
    nm_consumer_delivery_free(&d1);
    nm_consumer_delivery_free(&d2);
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), 0);
    assert_int_equal(qtest_spool_count(&q, "dead"), 0);
}

/* ---- a requeued old body stays old ---- */

/* Version one dies (a non-retryable failure); version two is submitted and
 * stored by a real worker; then the operator requeues the dead letter. The
 * worker gets version one again, but it is older than what the results
 * hold: dropped, settled, and the results still say "Title two". */
static void requeued_old_body_stays_old(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "requeue");
    qtest_start(&q);
    const char *db = nm_test_path("requeue/results.db");
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 100};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    submit_one(p, ID, BODY_ONE);
    Newsmill__Delivery *d1 = qtest_next_delivery(c, 10000);
    assert_non_null(d1);
    assert_int_equal(nm_consumer_fail(c, d1->lease_id, "bad luck", false, NULL), 0);
    nm_consumer_delivery_free(&d1);
    assert_true(qtest_wait_metric_of(pull, "queue", "queue_dead_letters", NULL, 1, 10000) == 1);
    nm_consumer_destroy(&c);

    nm_proc w;
    start_worker(&w, &q, "requeue-W", db, NULL);
    submit_one(p, ID, BODY_TWO);
    title_wait tw = {db, ID, "Title two"};
    if (!nm_test_wait_until(title_is, &tw, 30000)) {
        nm_proc_dump_log(&w);
        fail_msg("the worker never stored version two");
    }
    /* Version two settled first: a requeue while it still waits in the
     * spool would find the id taken (the newer body wins there too). */
    assert_true(qtest_wait_metric_of(pull, "queue", "queue_articles_done_total", NULL, 1, 20000) ==
                1);
    const char *ids[] = {ID};
    Newsmill__RequeueReply *rr;
    assert_int_equal(nm_producer_requeue(p, ids, 1, false, &rr, NULL), 0);
    assert_int_equal(rr->requeued, 1);
    nm_producer_requeue_free(&rr);
    /* the queue settles it (done) once the worker has seen it */
    assert_true(qtest_wait_metric_of(pull, "queue", "queue_articles_done_total", NULL, 2, 20000) ==
                2);
    char *title = stored_title(db, ID);
    if (!title || strcmp(title, "Title two"))
        fail_msg("the results say '%s' after the old body was requeued, want 'Title two'",
                 title ? title : "(nothing)");
    free(title);
    assert_true(qtest_wait_metric_of(pull, "requeue-W", "worker_stale_dropped_total", NULL, 1,
                                     5000) == 1);
    stop_worker(&w);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), 0);
    assert_int_equal(qtest_spool_count(&q, "dead"), 0);
}

/* ---- counters count what happened ---- */

/* A done for version one after version two replaced it removes nothing
 * (the row stays for version two): queue_articles_done_total counts only
 * the done that removed the row. */
static void done_counts_removed_rows(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "donecount");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    nm_producer *p = nm_producer_new(ctx, q.front, NULL);
    nm_consumer_config cfg = {.endpoint = q.back, .capacity = 1, .heartbeat_ms = 100};
    nm_consumer *c = nm_consumer_new(ctx, &cfg, NULL);
    submit_one(p, ID, BODY_ONE);
    Newsmill__Delivery *d1 = qtest_next_delivery(c, 10000);
    assert_non_null(d1);
    submit_one(p, ID, BODY_TWO);
    assert_int_equal(nm_consumer_done(c, &d1->lease_id, 1, NULL), 0);
    Newsmill__Delivery *d2 = qtest_next_delivery(c, 10000);
    assert_non_null(d2);
    assert_true(body_is(d2, BODY_TWO));
    assert_true(d2->revision > d1->revision);
    assert_int_equal(nm_consumer_done(c, &d2->lease_id, 1, NULL), 0);
    /* settled: nothing waits, nothing is out */
    assert_true(qtest_wait_gauge(pull, "queue_backlog_articles", 0, 10000));
    assert_true(qtest_wait_gauge(pull, "queue_in_flight_articles", 0, 10000));
    Newsmill__Envelope *env = qtest_stats(pull, 1000);
    double done = qtest_metric(env, "queue_articles_done_total", NULL);
    nm_frame_free(&env);
    if (done != 1)
        fail_msg("queue_articles_done_total = %g after one row was removed, want 1", done);
    nm_consumer_delivery_free(&d1);
    nm_consumer_delivery_free(&d2);
    nm_consumer_destroy(&c);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
}

/* Sends one submit from a fresh connection and leaves before the answer:
 * the queue is stopped while the producer connects (after a first round
 * trip), sends and closes, and continued after. */
static void submit_and_leave(qtest_queue *q, const char *id)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(s, q->front), 0);
    /* a round trip first: the connection is up when the queue stops */
    Newsmill__DeadListRequest req = NEWSMILL__DEAD_LIST_REQUEST__INIT;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_DEAD_LIST_REQUEST;
    env.dead_list_request = &req;
    assert_int_equal(nm_frame_send(s, NULL, &env, 0, NULL), 0);
    Newsmill__Envelope *reply;
    assert_int_equal(nm_frame_recv(s, NULL, NM_FRAME_MAX_DEFAULT, &reply, 0, NULL), 0);
    nm_frame_free(&reply);
    nm_proc_signal(&q->proc, SIGSTOP);
    Newsmill__Article a, *ptrs[] = {&a};
    qtest_article(&a, (char *)id, BODY_ONE);
    Newsmill__SubmitBatch batch = NEWSMILL__SUBMIT_BATCH__INIT;
    batch.articles = ptrs;
    batch.n_articles = 1;
    env.request_id = 1;
    env.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    env.submit = &batch;
    assert_int_equal(nm_frame_send(s, NULL, &env, 0, NULL), 0);
    zmq_close(s);
    zmq_ctx_term(ctx); /* returns once the bytes are sent and the socket closed */
    nm_proc_signal(&q->proc, SIGCONT);
}

static int count_in_log(const char *path, const char *needle)
{
    char *log = nm_test_read_file(path, NULL);
    int n = 0;
    for (char *at = log; at && (at = strstr(at, needle)); at++)
        n++;
    free(log);
    return n;
}

/* A producer that sent a batch and went away before the ack: the article is
 * in the spool, but no ack was sent, so queue_articles_accepted_total must
 * not count it. (Whether the queue notices the producer gone before it
 * answers is a race it wins almost always; the test repeats until it did,
 * and counts the acks that went out.) */
static void accepted_counts_sent_acks(void **state)
{
    (void)state;
    qtest_queue q;
    qtest_init(&q, "ackcount");
    qtest_start(&q);
    void *ctx = zmq_ctx_new();
    void *pull = qtest_stats_socket(ctx, &q);
    const char *dropped = "reply to producer dropped";
    int tries = 0;
    while (tries < 5 && count_in_log(q.proc.log_path, dropped) == 0) {
        char id[32];
        snprintf(id, sizeof id, "orphan-%d", tries++);
        submit_and_leave(&q, id);
        /* the queue read and stored it */
        assert_true(qtest_wait_metric_of(pull, "queue", "queue_articles_submitted_total", NULL,
                                         tries, 10000) == tries);
        assert_true(qtest_wait_metric_of(pull, "queue", "queue_backlog_articles", NULL, tries,
                                         10000) == tries);
    }
    int not_sent = count_in_log(q.proc.log_path, dropped);
    if (not_sent == 0)
        fail_msg("the queue answered every producer that had left (%d tries)", tries);
    double accepted = qtest_wait_metric_of(pull, "queue", "queue_articles_accepted_total", NULL,
                                           0, 5000);
    if (accepted != tries - not_sent)
        fail_msg("queue_articles_accepted_total = %g with %d acks sent (%d not sent), want %d",
                 accepted, tries - not_sent, not_sent, tries - not_sent);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    qtest_stop(&q);
    assert_int_equal(qtest_spool_count(&q, "articles"), tries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_worker_does_not_overwrite),
        cmocka_unit_test(old_failure_spares_newer_body),
        cmocka_unit_test(requeued_old_body_stays_old),
        cmocka_unit_test(done_counts_removed_rows),
        cmocka_unit_test(accepted_counts_sent_acks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * qtest: helpers the queue's integration tests share (header-only, static):
 * start a real newsmill-queue on fresh endpoints and spool, make articles,
 * read StatsReports from a PULL socket the test binds, inspect the spool
 * with SQLite.
 */
#ifndef QTEST_H
#define QTEST_H

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_consumer.h"
#include "nm_frame.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"

typedef struct qtest_queue {
    nm_proc proc;
    char front[64], back[64], stats[64];
    char spool[512];
    char name[64];
    char *extra[16];
    int n_extra;
    const char *wrapper; /* e.g. "/usr/bin/prlimit" prefix args, NULL for none */
    char wrapper_arg[64];
} qtest_queue;

/* Fills endpoints and spool path (tmpdir/NAME.db); extra flags may follow. */
static inline void qtest_init(qtest_queue *q, const char *name)
{
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    snprintf(q->front, sizeof q->front, "%s", nm_test_endpoint());
    snprintf(q->back, sizeof q->back, "%s", nm_test_endpoint());
    snprintf(q->stats, sizeof q->stats, "%s", nm_test_endpoint());
    char file[128];
    snprintf(file, sizeof file, "%s/%s.db", name, name);
    snprintf(q->spool, sizeof q->spool, "%s", nm_test_path(file));
}

static inline void qtest_flag(qtest_queue *q, const char *flag)
{
    q->extra[q->n_extra++] = (char *)flag;
}

static inline bool qtest_front_up(void *arg)
{
    qtest_queue *q = arg;
    char log_needle[] = "queue started";
    char *log = nm_test_read_file(q->proc.log_path, NULL);
    bool up = log && strstr(log, log_needle);
    free(log);
    return up;
}

/* Starts (or restarts) the queue and waits until it is serving. */
static inline void qtest_start(qtest_queue *q)
{
    char *argv[48];
    int n = 0;
    if (q->wrapper) {
        argv[n++] = (char *)q->wrapper;
        argv[n++] = q->wrapper_arg;
    }
    argv[n++] = (char *)nm_test_bin("newsmill-queue");
    argv[n++] = "--front";
    argv[n++] = q->front;
    argv[n++] = "--back";
    argv[n++] = q->back;
    argv[n++] = "--stats";
    argv[n++] = q->stats;
    argv[n++] = "--spool";
    argv[n++] = q->spool;
    argv[n++] = "--stats-interval";
    argv[n++] = "100ms";
    for (int i = 0; i < q->n_extra; i++)
        argv[n++] = q->extra[i];
    argv[n] = NULL;
    /* the log is appended to across restarts: start it afresh so that
     * "queue started" means this start (the previous log is kept aside) */
    char logname[80], old[700];
    snprintf(logname, sizeof logname, "%s.log", q->name);
    snprintf(old, sizeof old, "%s.old", nm_test_path(logname));
    rename(nm_test_path(logname), old);
    nm_proc_start(&q->proc, q->name, argv);
    if (!nm_test_wait_until(qtest_front_up, q, 30000)) {
        nm_proc_dump_log(&q->proc);
        fail_msg("queue %s did not start", q->name);
    }
}

static inline void qtest_stop(qtest_queue *q)
{
    nm_proc_signal(&q->proc, SIGTERM);
    int status = -1;
    if (!nm_proc_wait(&q->proc, 30000, &status)) {
        nm_proc_dump_log(&q->proc);
        nm_proc_kill(&q->proc);
        fail_msg("queue %s did not stop on SIGTERM", q->name);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        nm_proc_dump_log(&q->proc);
        fail_msg("queue %s exit status %d", q->name, status);
    }
}

/* A text article "id" with a small body. */
static inline void qtest_article(Newsmill__Article *a, char *id, char *body)
{
    newsmill__article__init(a);
    a->id = id;
    a->content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    a->body.data = (uint8_t *)body;
    a->body.len = strlen(body);
}

/* Submits ids prefix-first..first+n-1 in batches; fails the test on error. */
static inline void qtest_submit_range(nm_producer *p, const char *prefix, int first, int n, int batch)
{
    static char ids[10000][32];
    static char bodies[10000][64];
    Newsmill__Article arts[10000], *ptrs[10000];
    for (int done = 0; done < n; done += batch) {
        int k = n - done < batch ? n - done : batch;
        for (int i = 0; i < k; i++) {
            snprintf(ids[i], sizeof ids[i], "%s%d", prefix, first + done + i);
            snprintf(bodies[i], sizeof bodies[i], "Title %s\n\nBody of %s, Kalın São Paulo.", ids[i],
                     ids[i]);
            qtest_article(&arts[i], ids[i], bodies[i]);
            ptrs[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack;
        nm_error err;
        if (nm_producer_submit(p, ptrs, (size_t)k, &ack, &err) != 0)
            fail_msg("submit failed: %s", err.msg);
        assert_int_equal(ack->accepted, k);
        nm_producer_ack_free(&ack);
    }
}

/* Rows in the spool's articles (or dead) table, read with SQLite directly
 * (only while the queue is stopped: it holds the spool exclusively). */
static inline int64_t qtest_spool_count(const qtest_queue *q, const char *table)
{
    sqlite3 *db;
    int64_t n = -1;
    if (sqlite3_open_v2(q->spool, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        char sql[100];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

/* A PULL socket bound to the queue's stats endpoint. */
static inline void *qtest_stats_socket(void *ctx, const qtest_queue *q)
{
    void *s = zmq_socket(ctx, ZMQ_PULL);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(s, q->stats), 0);
    return s;
}

/* The newest StatsReport that arrives within timeout_ms (drains older ones).
 * Caller frees with nm_frame_free on the returned envelope. */
static inline Newsmill__Envelope *qtest_stats(void *pull, int timeout_ms)
{
    Newsmill__Envelope *last = NULL;
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    for (;;) {
        zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
        int64_t left = (deadline - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left <= 0)
            break;
        if (zmq_poll(&it, 1, last ? 0 : (long)left) <= 0) {
            if (last)
                break;
            continue;
        }
        Newsmill__Envelope *env;
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, NULL) == 0) {
            nm_frame_free(&last);
            last = env;
        }
    }
    return last;
}

/* Value of metric name{label=value} (label NULL: unlabelled) or -1. */
static inline double qtest_metric(const Newsmill__Envelope *env, const char *name, const char *label_value)
{
    if (!env || env->body_case != NEWSMILL__ENVELOPE__BODY_STATS)
        return -1;
    const Newsmill__StatsReport *r = env->stats;
    for (size_t i = 0; i < r->n_metrics; i++) {
        const Newsmill__Metric *m = r->metrics[i];
        if (strcmp(m->name, name))
            continue;
        if (label_value && (m->n_labels != 1 || strcmp(m->labels[0]->value, label_value)))
            continue;
        if (m->kind == NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM)
            return (double)m->count;
        return m->value;
    }
    return -1;
}

/* Waits until the newest report has metric == want exactly; true if so. */
static inline bool qtest_wait_gauge(void *pull, const char *name, double want, int timeout_ms)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    while (nm_time_mono_ns() < deadline) {
        Newsmill__Envelope *env = qtest_stats(pull, 300);
        double v = qtest_metric(env, name, NULL);
        nm_frame_free(&env);
        if (v == want)
            return true;
    }
    return false;
}

/* Waits until the newest report has metric >= want; returns the last value. */
static inline double qtest_wait_metric(void *pull, const char *name, const char *label, double want,
                                int timeout_ms)
{
    double v = -1;
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    while (nm_time_mono_ns() < deadline) {
        Newsmill__Envelope *env = qtest_stats(pull, 300);
        v = qtest_metric(env, name, label);
        nm_frame_free(&env);
        if (v >= want)
            break;
    }
    return v;
}

/* Waits until any report (each one is looked at, not only the newest)
 * carries state; true if one did within timeout_ms. */
static inline bool qtest_wait_state(void *pull, const char *state, int timeout_ms)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    for (;;) {
        int64_t left = (deadline - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left <= 0)
            return false;
        zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        Newsmill__Envelope *env;
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, NULL) != 0)
            continue;
        bool hit = env->body_case == NEWSMILL__ENVELOPE__BODY_STATS && env->stats->state &&
                   !strcmp(env->stats->state, state);
        nm_frame_free(&env);
        if (hit)
            return true;
    }
}

/* Receives one delivery within timeout_ms (ticking c meanwhile), or NULL.
 * Caller frees with nm_consumer_delivery_free. */
static inline Newsmill__Delivery *qtest_next_delivery(nm_consumer *c, int timeout_ms)
{
    int64_t start = nm_time_mono_ns();
    Newsmill__Delivery *d = NULL;
    while (!d && nm_time_mono_ns() - start < (int64_t)timeout_ms * NM_NS_PER_MS) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 20);
        nm_consumer_tick(c);
        nm_consumer_recv(c, &d, NULL);
    }
    return d;
}

/* Reads every report for up to timeout_ms and returns the latest value of
 * metric name{label} (label NULL: unlabelled) sent by who (a role, e.g.
 * "queue", or an instance name, e.g. a worker's --name), as soon as it is
 * >= want; -1 if who sent no such metric. */
static inline double qtest_wait_metric_of(void *pull, const char *who, const char *name,
                                          const char *label, double want, int timeout_ms)
{
    double v = -1;
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    while (v < want) {
        int64_t left = (deadline - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left <= 0)
            break;
        zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        Newsmill__Envelope *env;
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, NULL) != 0)
            continue;
        if (env->body_case == NEWSMILL__ENVELOPE__BODY_STATS &&
            (!strcmp(env->stats->role, who) || !strcmp(env->stats->instance, who))) {
            double got = qtest_metric(env, name, label);
            if (got >= 0)
                v = got;
        }
        nm_frame_free(&env);
    }
    return v;
}

#endif

/* nm_worker_fleet: the fleet and checks the worker tests share (see
 * nm_worker_fleet.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nm_worker_fleet.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_results_check.h"
#include "nm_store.h"
#include "nm_time.h"

/* ---- a fleet: one queue, some workers, one producer --------------------- */

/* Starts the queue (lease length lease, then extra flags, which override the
 * defaults below: the last occurrence of a flag wins) and binds the stats
 * endpoint so the test reads every report. */
void fleet_start_queue_with(fleet *f, const char *tag, const char *lease,
                            const char *const *extra)
{
    memset(f, 0, sizeof *f);
    snprintf(f->tag, sizeof f->tag, "%s", tag);
    char name[64];
    snprintf(name, sizeof name, "%s-queue.db", tag);
    snprintf(f->spool, sizeof f->spool, "%s", nm_test_path(name));
    snprintf(name, sizeof name, "%s-results.db", tag);
    snprintf(f->db, sizeof f->db, "%s", nm_test_path(name));
    /* A port free a moment ago may be taken by the time the queue binds it
     * (parallel tests): then it exits at once, and we try other ports. */
    for (int attempt = 0;; attempt++) {
        snprintf(f->front, sizeof f->front, "%s", nm_test_endpoint());
        snprintf(f->back, sizeof f->back, "%s", nm_test_endpoint());
        snprintf(f->stats, sizeof f->stats, "%s", nm_test_endpoint());
        char *argv[32] = {(char *)nm_test_bin("newsmill-queue"), "--front", f->front, "--back",
                          f->back, "--stats", f->stats, "--spool", f->spool, "--lease",
                          (char *)lease, "--max-attempts", "3", "--retry-base", "50ms",
                          "--retry-max", "200ms", "--worker-timeout", "3s",
                          "--stats-interval", "200ms"};
        int n = 21;
        for (int k = 0; extra && extra[k] && n < 30; k++)
            argv[n++] = (char *)extra[k];
        argv[n] = NULL;
        snprintf(name, sizeof name, "%s-queue", tag);
        nm_proc_start(&f->queue, name, argv);
        int status;
        if (!nm_proc_wait(&f->queue, 300, &status))
            break; /* running */
        if (attempt == 4) {
            nm_proc_dump_log(&f->queue);
            fail_msg("newsmill-queue does not start");
        }
    }
    f->ctx = zmq_ctx_new();
    f->pull = zmq_socket(f->ctx, ZMQ_PULL);
    int linger = 0;
    zmq_setsockopt(f->pull, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(f->pull, f->stats), 0);
    nm_error err;
    f->producer = nm_producer_new(f->ctx, f->front, &err);
    assert_non_null(f->producer);
    nm_producer_set_timeout(f->producer, 5000, 2);
}

void fleet_start_queue(fleet *f, const char *tag, const char *lease)
{
    fleet_start_queue_with(f, tag, lease, NULL);
}

/* Starts worker i with the fleet's endpoints plus up to 6 extra arguments. */
void fleet_start_worker(fleet *f, int i, const char *const *extra)
{
    char name[64];
    snprintf(name, sizeof name, "%s-worker%d", f->tag, i);
    char *argv[24] = {(char *)nm_test_bin("newsmill-worker"), "--queue", f->back, "--stats",
                      f->stats, "--db", f->db, "--name", name, "--log-level", "info"};
    int n = 11;
    for (int k = 0; extra && extra[k] && n < 22; k++)
        argv[n++] = (char *)extra[k];
    argv[n] = NULL;
    nm_proc_start(&f->workers[i], name, argv);
}

void fleet_stop(fleet *f)
{
    for (int i = 0; i < 4; i++)
        if (f->workers[i].pid > 0) {
            nm_proc_signal(&f->workers[i], SIGTERM);
            int status;
            if (!nm_proc_wait(&f->workers[i], 5000, &status))
                nm_proc_kill(&f->workers[i]);
        }
    nm_proc_signal(&f->queue, SIGTERM);
    int status;
    if (!nm_proc_wait(&f->queue, 5000, &status))
        nm_proc_kill(&f->queue);
    nm_producer_destroy(&f->producer);
    zmq_close(f->pull);
    zmq_ctx_term(f->ctx);
}

void fleet_dump_logs(fleet *f)
{
    nm_proc_dump_log(&f->queue);
    for (int i = 0; i < 4; i++)
        if (f->workers[i].name[0])
            nm_proc_dump_log(&f->workers[i]);
}

/* ---- articles ------------------------------------------------------------ */

void set_add(article_set *s, const char *id, const char *body, size_t len)
{
    s->ids = nm_xrealloc(s->ids, (s->n + 1) * sizeof *s->ids);
    s->bodies = nm_xrealloc(s->bodies, (s->n + 1) * sizeof *s->bodies);
    s->lens = nm_xrealloc(s->lens, (s->n + 1) * sizeof *s->lens);
    s->ids[s->n] = nm_xstrdup(id);
    s->bodies[s->n] = nm_xmalloc(len + 1);
    memcpy(s->bodies[s->n], body, len);
    s->bodies[s->n][len] = '\0';
    s->lens[s->n] = len;
    s->n++;
}

void set_free(article_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->bodies[i]);
    }
    free(s->ids);
    free(s->bodies);
    free(s->lens);
    memset(s, 0, sizeof *s);
}

/* n articles the test writes itself: even ones are about Kalın, Hamas and
 * Ankara (and a ceasefire), odd ones about a football club in Paris. */
void generated_articles(article_set *s, const char *prefix, size_t n)
{
    char id[64], body[2048];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-%zu", prefix, i);
        if (i % 2 == 0)
            snprintf(body, sizeof body,
                     "Kalın meets Hamas leaders in Ankara, round %zu\n\n"
                     "Turkish intelligence chief Ibrahim Kalın met Hamas leaders in Ankara on"
                     " Monday to discuss a ceasefire in Gaza. The talks lasted %zu hours.\n\n"
                     "Officials in Ankara said Hamas had accepted the proposal. Ibrahim Kalın"
                     " is expected to travel to Doha next week.\n",
                     i, i % 7 + 2);
        else
            snprintf(body, sizeof body,
                     "Paris Saint-Germain win again, match %zu\n\n"
                     "Paris Saint-Germain beat Olympique Lyonnais by %zu goals on Saturday."
                     " Kylian Mbappé scored twice in the second half.\n\n"
                     "The coach said the team played its best football of the season.\n",
                     i, i % 4 + 1);
        set_add(s, id, body, strlen(body));
    }
}

/* Submits articles [from, to) in batches of 100; every one must be accepted. */
void submit_range(fleet *f, const article_set *s, size_t from, size_t to,
                  Newsmill__ContentType type)
{
    Newsmill__Article arts[100];
    Newsmill__Article *ptrs[100];
    for (size_t i = from; i < to; i += 100) {
        size_t n = to - i < 100 ? to - i : 100;
        for (size_t k = 0; k < n; k++) {
            newsmill__article__init(&arts[k]);
            arts[k].id = s->ids[i + k];
            arts[k].content_type = type;
            arts[k].body.data = (uint8_t *)s->bodies[i + k];
            arts[k].body.len = s->lens[i + k];
            arts[k].source = "test";
            ptrs[k] = &arts[k];
        }
        Newsmill__SubmitAck *ack = NULL;
        nm_error err;
        if (nm_producer_submit(f->producer, ptrs, n, &ack, &err) != 0) {
            fleet_dump_logs(f);
            fail_msg("submit: %s", err.msg);
        }
        if (ack->accepted != n) {
            for (size_t k = 0; k < ack->n_acks; k++)
                if (!ack->acks[k]->accepted)
                    fprintf(stderr, "rejected %s: %s\n", ack->acks[k]->id, ack->acks[k]->reason);
            fail_msg("%u of %zu accepted", ack->accepted, n);
        }
        nm_producer_ack_free(&ack);
    }
}

/* ---- the results database ------------------------------------------------ */

int64_t db_count(const char *db, const char *sql)
{
    if (access(db, F_OK) != 0)
        return 0;
    nm_store_options ro = {.read_only = true};
    nm_error err;
    nm_store *s = nm_store_open(db, &ro, &err);
    if (!s)
        return 0; /* not created yet */
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(nm_store_db(s), sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    nm_store_close(&s);
    return n;
}

typedef struct count_wait {
    const char *db;
    int64_t want;
} count_wait;

static bool count_reached(void *arg)
{
    count_wait *c = arg;
    return db_count(c->db, "SELECT count(*) FROM articles") >= c->want;
}

void wait_for_count(fleet *f, int64_t want, int timeout_ms)
{
    count_wait c = {f->db, want};
    if (!nm_test_wait_until(count_reached, &c, timeout_ms)) {
        fleet_dump_logs(f);
        fail_msg("results database has %lld articles, want %lld",
                 (long long)db_count(f->db, "SELECT count(*) FROM articles"), (long long)want);
    }
}

/* Every id of s stored exactly once with the content of its submitted body,
 * all of an article's rows there, and the tables whole (nm_results_check.h:
 * content against what extraction makes of the submitted body in this
 * process; no orphan child or full-text rows; FTS5's integrity-check).
 * (articles.id is UNIQUE, so "count(*) = count(DISTINCT id)" could never
 * fail; content can.) */
static void note_problem(void *arg, const char *problem)
{
    char *first = arg;
    if (!first[0])
        snprintf(first, 512, "%s", problem);
}

void assert_exactly_once(fleet *f, const article_set *s)
{
    assert_int_equal(db_count(f->db, "SELECT count(*) FROM articles"), (int64_t)s->n);
    char why[512];
    nm_results_db *rdb = nm_results_db_open(f->db, why, sizeof why);
    if (!rdb)
        fail_msg("results database: %s", why);
    nm_error err;
    nm_extractor *ex = nm_extractor_new(NULL, &err);
    if (!ex)
        fail_msg("extractor: %s", err.msg);
    for (size_t i = 0; i < s->n; i++) {
        nm_extract_result *r = nm_results_expected(ex, s->ids[i], s->bodies[i], s->lens[i], "test",
                                                   &err);
        if (!r)
            fail_msg("extracting %s in the test: %s", s->ids[i], err.msg);
        nm_stored_article st;
        if (!nm_results_load(rdb, s->ids[i], &st))
            fail_msg("article %s missing", s->ids[i]);
        if (!nm_results_same_content(&st, r))
            fail_msg("article %s: stored title/text/fingerprint are not those of its submitted"
                     " body (stored title \"%s\", want \"%s\")",
                     s->ids[i], st.title, r->title);
        if (!nm_results_rows_match(&st, r, why, sizeof why))
            fail_msg("article %s: %s", s->ids[i], why);
        nm_stored_article_clear(&st);
        nm_extract_result_free(&r);
    }
    nm_extractor_destroy(&ex);
    nm_results_tables tables;
    char first[512] = "";
    if (nm_results_check_tables(rdb, &tables, note_problem, first) != 0)
        fail_msg("results tables: %s", first);
    nm_results_db_close(&rdb);
}

/* ---- what the programs report, and their state --------------------------- */

/* Value of the (first series of) metric name in r, or -1 when absent. */
double report_metric(const Newsmill__StatsReport *r, const char *name)
{
    for (size_t m = 0; m < r->n_metrics; m++)
        if (strcmp(r->metrics[m]->name, name) == 0)
            return r->metrics[m]->value;
    return -1;
}

/* The next stats report of role (and instance, unless NULL) within
 * timeout_ms, or NULL. Caller frees with nm_frame_free. */
Newsmill__Envelope *next_report(fleet *f, const char *role, const char *instance,
                                int timeout_ms)
{
    int64_t until = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    while (nm_time_mono_ns() < until) {
        zmq_pollitem_t item = {f->pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        Newsmill__Envelope *env = NULL;
        if (nm_frame_recv(f->pull, NULL, NM_FRAME_MAX_DEFAULT, &env, ZMQ_DONTWAIT, NULL) != 0)
            continue;
        if (env->body_case == NEWSMILL__ENVELOPE__BODY_STATS &&
            strcmp(env->stats->role, role) == 0 &&
            (!instance || strcmp(env->stats->instance, instance) == 0))
            return env;
        nm_frame_free(&env);
    }
    return NULL;
}

/* Waits for a report of role/instance in which every metric of want lies in
 * its range. Use it for conditions that, once true, stay true (counters
 * reaching a figure); fresh_metric reads a value as it is now. */
void wait_report(fleet *f, const char *role, const char *instance, const metric_range *want,
                 size_t n, int timeout_ms, const char *what)
{
    int64_t until = nm_time_mono_ns() + (int64_t)timeout_ms * NM_NS_PER_MS;
    double last[8] = {0};
    while (nm_time_mono_ns() < until) {
        Newsmill__Envelope *env = next_report(f, role, instance, 200);
        if (!env)
            continue;
        bool all = true;
        for (size_t k = 0; k < n && k < 8; k++) {
            last[k] = report_metric(env->stats, want[k].name);
            all &= last[k] >= want[k].min && last[k] <= want[k].max;
        }
        nm_frame_free(&env);
        if (all)
            return;
    }
    fleet_dump_logs(f);
    for (size_t k = 0; k < n && k < 8; k++)
        fprintf(stderr, "  %s = %g (want %g..%g)\n", want[k].name, last[k], want[k].min,
                want[k].max);
    fail_msg("%s: not reported within %d ms", what, timeout_ms);
}

/* The value of a metric now: reports already queued are discarded, then the
 * next one of role/instance is read (made after this call). */
double fresh_metric(fleet *f, const char *role, const char *instance, const char *name)
{
    for (;;) {
        Newsmill__Envelope *env = NULL;
        if (nm_frame_recv(f->pull, NULL, NM_FRAME_MAX_DEFAULT, &env, ZMQ_DONTWAIT, NULL) != 0)
            break;
        nm_frame_free(&env);
    }
    Newsmill__Envelope *env = next_report(f, role, instance, 3000);
    if (!env)
        fail_msg("no %s report within 3 s", role);
    double v = report_metric(env->stats, name);
    nm_frame_free(&env);
    return v;
}

/* Waits until the queue has settled want articles and holds nothing (no
 * lease out, no backlog): no worker can commit anything more of them. */
void wait_queue_settled(fleet *f, int64_t want, int timeout_ms)
{
    const metric_range settled[] = {
        {"queue_articles_done_total", (double)want, 1e18},
        {"queue_in_flight_articles", 0, 0},
        {"queue_backlog_articles", 0, 0},
    };
    wait_report(f, "queue", NULL, settled, 3, timeout_ms, "queue settled");
}

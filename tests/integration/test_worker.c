/* newsmill-worker with a real newsmill-queue, over real sockets: every
 * article stored exactly once with 3 workers (generated articles, and the BBC
 * corpus when ../shared is there), kill -9 mid-batch, SIGTERM under load,
 * garbage input, a full database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_producer.h"
#include "nm_results_check.h"
#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"

#if defined(__SANITIZE_ADDRESS__)
#define NM_SANITIZED 1
#else
#define NM_SANITIZED 0
#endif

/* ---- a fleet: one queue, some workers, one producer --------------------- */

typedef struct fleet {
    char tag[32];
    char front[64], back[64], stats[64];
    char spool[512], db[512];
    nm_proc queue;
    nm_proc workers[4];
    void *ctx;
    void *pull; /* bound at the stats endpoint in the collector's place */
    nm_producer *producer;
} fleet;

/* Starts the queue (lease length lease, then extra flags, which override the
 * defaults below: the last occurrence of a flag wins) and binds the stats
 * endpoint so the test reads every report. */
static void fleet_start_queue_with(fleet *f, const char *tag, const char *lease,
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

static void fleet_start_queue(fleet *f, const char *tag, const char *lease)
{
    fleet_start_queue_with(f, tag, lease, NULL);
}

/* Starts worker i with the fleet's endpoints plus up to 6 extra arguments. */
static void fleet_start_worker(fleet *f, int i, const char *const *extra)
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

static void fleet_stop(fleet *f)
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

static void fleet_dump_logs(fleet *f)
{
    nm_proc_dump_log(&f->queue);
    for (int i = 0; i < 4; i++)
        if (f->workers[i].name[0])
            nm_proc_dump_log(&f->workers[i]);
}

/* ---- articles ------------------------------------------------------------ */

typedef struct article_set {
    size_t n;
    char **ids;
    char **bodies;
    size_t *lens;
} article_set;

static void set_add(article_set *s, const char *id, const char *body, size_t len)
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

static void set_free(article_set *s)
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
static void generated_articles(article_set *s, const char *prefix, size_t n)
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Up to max files of dir/<category>/NNN.txt, ids "bbc/<category>/NNN". */
static void bbc_articles(article_set *s, const char *bbc, size_t max)
{
    const char *cats[] = {"business", "entertainment", "politics", "sport", "tech"};
    for (size_t c = 0; c < 5 && s->n < max; c++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", bbc, cats[c]);
        DIR *d = opendir(dir);
        assert_non_null(d);
        char **names = NULL;
        size_t n_names = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0) {
                names = nm_xrealloc(names, (n_names + 1) * sizeof *names);
                names[n_names++] = nm_xstrdup(e->d_name);
            }
        }
        closedir(d);
        qsort(names, n_names, sizeof *names, cmp_str);
        for (size_t i = 0; i < n_names; i++) {
            if (s->n < max) {
                char path[2048], id[128];
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                snprintf(id, sizeof id, "bbc/%s/%.*s", cats[c], (int)(strlen(names[i]) - 4),
                         names[i]);
                size_t len;
                char *body = nm_test_read_file(path, &len);
                assert_non_null(body);
                set_add(s, id, body, len);
                free(body);
            }
            free(names[i]);
        }
        free(names);
    }
}

/* Submits articles [from, to) in batches of 100; every one must be accepted. */
static void submit_range(fleet *f, const article_set *s, size_t from, size_t to,
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

static int64_t db_count(const char *db, const char *sql)
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

static void wait_for_count(fleet *f, int64_t want, int timeout_ms)
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

static void assert_exactly_once(fleet *f, const article_set *s)
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
static double report_metric(const Newsmill__StatsReport *r, const char *name)
{
    for (size_t m = 0; m < r->n_metrics; m++)
        if (strcmp(r->metrics[m]->name, name) == 0)
            return r->metrics[m]->value;
    return -1;
}

/* The next stats report of role (and instance, unless NULL) within
 * timeout_ms, or NULL. Caller frees with nm_frame_free. */
static Newsmill__Envelope *next_report(fleet *f, const char *role, const char *instance,
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

typedef struct metric_range {
    const char *name;
    double min, max;
} metric_range;

/* Waits for a report of role/instance in which every metric of want lies in
 * its range. Use it for conditions that, once true, stay true (counters
 * reaching a figure); fresh_metric reads a value as it is now. */
static void wait_report(fleet *f, const char *role, const char *instance, const metric_range *want,
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
static double fresh_metric(fleet *f, const char *role, const char *instance, const char *name)
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
static void wait_queue_settled(fleet *f, int64_t want, int timeout_ms)
{
    const metric_range settled[] = {
        {"queue_articles_done_total", (double)want, 1e18},
        {"queue_in_flight_articles", 0, 0},
        {"queue_backlog_articles", 0, 0},
    };
    wait_report(f, "queue", NULL, settled, 3, timeout_ms, "queue settled");
}

/* The state letter of /proc/PID/stat ('T' stopped, 'S' sleeping, ...). */
static char proc_state(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = nm_test_read_file(path, NULL);
    const char *paren = stat ? strrchr(stat, ')') : NULL;
    char state = paren && paren[1] ? paren[2] : '?';
    free(stat);
    return state;
}

typedef struct stopped_wait {
    pid_t pid;
} stopped_wait;

static bool proc_stopped(void *arg)
{
    return proc_state(((stopped_wait *)arg)->pid) == 'T';
}

/* Runs sql (one text column) and returns the rows joined by '|' (caller frees). */
static char *db_rows(const char *db, const char *sql)
{
    nm_store_options ro = {.read_only = true};
    nm_error err;
    nm_store *s = nm_store_open(db, &ro, &err);
    assert_non_null(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_store_db(s), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(nm_store_db(s)));
    size_t cap = 1 << 16, len = 0;
    char *out = nm_xmalloc(cap);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        size_t tl = strlen(t ? t : "");
        if (len + tl + 2 > cap)
            out = nm_xrealloc(out, cap = (len + tl + 2) * 2);
        if (len)
            out[len++] = '|';
        memcpy(out + len, t ? t : "", tl + 1);
        len += tl;
    }
    sqlite3_finalize(st);
    nm_store_close(&s);
    return out;
}

/* The ids (sorted, joined by '|') of the articles in which nm_extract itself
 * finds an entity named a and one named b (b may be NULL): what the entity
 * query over the results database must return. Computed in-process, so the
 * test checks the pipeline, not the quality of extraction. */
static char *expected_with_entities(const article_set *s, const char *a, const char *b)
{
    nm_error err;
    nm_extractor *ex = nm_extractor_new(NULL, &err);
    if (!ex)
        fail_msg("extractor: %s", err.msg);
    char **hits = nm_xcalloc(s->n + 1, sizeof *hits);
    size_t n_hits = 0, len = 1;
    for (size_t i = 0; i < s->n; i++) {
        nm_extract_input in = {.body = s->bodies[i], .len = s->lens[i],
                               .content_type = NM_CONTENT_TEXT, .id = s->ids[i]};
        nm_extract_result *r;
        if (nm_extract(ex, &in, &r, &err) != 0)
            continue;
        bool has_a = false, has_b = b == NULL;
        for (size_t k = 0; k < r->n_entities; k++) {
            has_a |= strcmp(r->entities[k].name, a) == 0;
            has_b |= b && strcmp(r->entities[k].name, b) == 0;
        }
        if (has_a && has_b) {
            hits[n_hits++] = s->ids[i];
            len += strlen(s->ids[i]) + 1;
        }
        nm_extract_result_free(&r);
    }
    nm_extractor_destroy(&ex);
    qsort(hits, n_hits, sizeof *hits, cmp_str);
    char *out = nm_xmalloc(len);
    out[0] = '\0';
    for (size_t i = 0; i < n_hits; i++) {
        if (i)
            strcat(out, "|");
        strcat(out, hits[i]);
    }
    free(hits);
    return out;
}

static const char *const ankara_and_hamas =
    "SELECT a.id FROM articles a JOIN article_entities ae ON ae.article = a.article"
    " JOIN entities e ON e.entity = ae.entity WHERE e.name IN ('Ankara', 'Hamas')"
    " GROUP BY a.article HAVING count(DISTINCT e.name) = 2 ORDER BY a.id";

/* ---- tests ----------------------------------------------------------------- */

/* Reads stats reports from the fleet's stats endpoint (bound by the test in
 * place of a collector) for about two report intervals and checks the
 * workers' metrics: every name the collector relies on, and totals that
 * agree with what the database holds. */
static void check_worker_stats(void *pull, int64_t want_done)
{
    static const char *const names[] = {
        "worker_articles_done_total", "worker_bytes_in_total", "worker_batches_total",
        "worker_db_retries_total", "worker_decode_seconds", "worker_extract_seconds",
        "worker_persist_seconds", "worker_batch_articles", "worker_submit_to_commit_seconds",
        "worker_in_flight_articles", "worker_rss_bytes", "worker_articles_per_second"};
    size_t n_names = sizeof names / sizeof *names;
    char instances[8][128] = {{0}};
    double done[8] = {0}, batches[8] = {0}, batch_hist_sum[8] = {0}, rss[8] = {0};
    uint64_t extract_count[8] = {0};
    size_t n_inst = 0;
    int64_t until = nm_time_mono_ns() + 2500 * NM_NS_PER_MS;
    while (nm_time_mono_ns() < until) {
        zmq_pollitem_t item = {pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        Newsmill__Envelope *env = NULL;
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, ZMQ_DONTWAIT, NULL) != 0)
            continue;
        Newsmill__StatsReport *r = env->stats;
        if (env->body_case != NEWSMILL__ENVELOPE__BODY_STATS || strcmp(r->role, "worker") != 0) {
            nm_frame_free(&env);
            continue;
        }
        size_t i = 0;
        while (i < n_inst && strcmp(instances[i], r->instance) != 0)
            i++;
        if (i == n_inst && n_inst < 8)
            snprintf(instances[n_inst++], sizeof instances[0], "%s", r->instance);
        assert_string_equal(r->state, "running");
        for (size_t k = 0; k < n_names; k++) {
            bool found = false;
            for (size_t m = 0; m < r->n_metrics; m++)
                found |= strcmp(r->metrics[m]->name, names[k]) == 0;
            if (!found)
                fail_msg("worker report lacks %s", names[k]);
        }
        for (size_t m = 0; m < r->n_metrics; m++) {
            Newsmill__Metric *x = r->metrics[m];
            if (strcmp(x->name, "worker_articles_done_total") == 0)
                done[i] = x->value;
            else if (strcmp(x->name, "worker_batches_total") == 0)
                batches[i] = x->value;
            else if (strcmp(x->name, "worker_batch_articles") == 0)
                batch_hist_sum[i] = x->sum;
            else if (strcmp(x->name, "worker_extract_seconds") == 0)
                extract_count[i] = x->count;
            else if (strcmp(x->name, "worker_rss_bytes") == 0)
                rss[i] = x->value;
        }
        nm_frame_free(&env);
    }
    assert_int_equal(n_inst, 3);
    double total = 0;
    for (size_t i = 0; i < n_inst; i++) {
        total += done[i];
        assert_true(batch_hist_sum[i] == done[i]); /* batch sizes add up to what was done */
        assert_true(batches[i] >= 1 || done[i] == 0);
        assert_true(extract_count[i] >= (uint64_t)done[i]);
        assert_true(rss[i] > 1e6);
    }
    assert_true(total == (double)want_done);
}

static void three_workers_generated(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "gen", "30s");
    for (int i = 0; i < 3; i++)
        fleet_start_worker(&f, i, (const char *[]){"--batch", "16", NULL});
    article_set s = {0};
    generated_articles(&s, "gen", 200);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    /* nothing was delivered twice, so nothing could be stored twice */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    check_worker_stats(f.pull, (int64_t)s.n);
    /* entity query: exactly the articles where extraction finds both */
    char *rows = db_rows(f.db, ankara_and_hamas);
    char *want = expected_with_entities(&s, "Ankara", "Hamas");
    size_t n_want = want[0] != '\0';
    for (char *p = want; *p; p++)
        n_want += *p == '|';
    printf("Ankara and Hamas: %zu articles\n", n_want);
    assert_true(want[0] != '\0'); /* extraction does find them: the query is really tested */
    assert_string_equal(rows, want);
    free(rows);
    free(want);
    /* FTS: ceasefire appears in the even articles only, Mbappé in the odd ones */
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles_fts WHERE articles_fts"
                                    " MATCH 'ceasefire'"),
                     (int64_t)(s.n + 1) / 2);
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles_fts WHERE articles_fts"
                                    " MATCH 'mbappé AND lyonnais'"),
                     (int64_t)s.n / 2);
    fleet_stop(&f);
    for (int i = 0; i < 3; i++) {
        int status;
        assert_true(nm_proc_wait(&f.workers[i], 0, &status) || f.workers[i].pid <= 0);
    }
    set_free(&s);
}

static void three_workers_bbc(void **state)
{
    (void)state;
    const char *shared = nm_test_shared_dir();
    if (!shared) {
        nm_test_skip("the BBC corpus run needs ../shared");
    }
    char bbc[1024];
    snprintf(bbc, sizeof bbc, "%s/corpus/bbc", shared);
    if (access(bbc, F_OK) != 0) {
        nm_test_skip("the BBC corpus run needs ../shared/corpus/bbc");
    }
    size_t max_articles = 2000;
    const char *env = getenv("NM_TEST_ARTICLES");
    if (env)
        max_articles = strtoul(env, NULL, 10);
    else if (NM_SANITIZED)
        max_articles = 500; /* ASan+UBSan extraction is much slower: keep the suite in seconds */
    article_set s = {0};
    bbc_articles(&s, bbc, max_articles);
    printf("BBC corpus: %zu articles, 3 workers\n", s.n);
    fleet f;
    fleet_start_queue(&f, "bbc", "30s");
    for (int i = 0; i < 3; i++)
        fleet_start_worker(&f, i, NULL);
    int64_t t0 = nm_time_mono_ns();
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    wait_for_count(&f, (int64_t)s.n, 120000);
    printf("BBC corpus: %zu articles stored in %.2f s\n", s.n,
           (double)(nm_time_mono_ns() - t0) / 1e9);
    wait_queue_settled(&f, (int64_t)s.n, 30000);
    assert_exactly_once(&f, &s);
    /* FTS: exactly the stored articles whose text has the word "Yukos" */
    size_t n_yukos = 0;
    for (size_t i = 0; i < s.n; i++)
        n_yukos += strstr(s.bodies[i], "Yukos") != NULL;
    assert_true(n_yukos > 0);
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                    " 'yukos'"),
                     (int64_t)n_yukos);
    /* entities: the articles in which extraction finds Tony Blair */
    char *rows = db_rows(f.db, "SELECT a.id FROM articles a JOIN article_entities ae ON"
                               " ae.article = a.article JOIN entities e ON e.entity = ae.entity"
                               " WHERE e.name = 'Tony Blair' ORDER BY a.id");
    char *want = expected_with_entities(&s, "Tony Blair", NULL);
    assert_true(want[0] != '\0');
    assert_string_equal(rows, want);
    free(rows);
    free(want);
    fleet_stop(&f);
    set_free(&s);
}

static void kill9_mid_batch(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "kill", "1s");
    /* worker 0 holds everything for 30 s before committing: killed mid-batch */
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "1000", "--credit", "1000",
                                                "--flush-ms", "30s", NULL});
    article_set s = {0};
    generated_articles(&s, "kill", 300);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    /* it has received and extracted them all (its own report says so) */
    const metric_range holding[] = {{"worker_in_flight_articles", 300, 300}};
    wait_report(&f, "worker", "kill-worker0", holding, 1, 20000, "worker 0 holding 300");
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles"), 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    nm_proc_kill(&f.workers[0]);
    /* the leases expire; another worker gets them again */
    fleet_start_worker(&f, 1, (const char *[]){"--batch", "32", NULL});
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    /* what made it: every held article was delivered again, and only those */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 300);
    fleet_stop(&f);
    set_free(&s);
}

static void sigterm_under_load(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "term", "2s");
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "64", NULL});
    article_set s = {0};
    size_t n = NM_SANITIZED ? 1000 : 3000;
    generated_articles(&s, "term", n);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    wait_for_count(&f, 64, 20000); /* under way */
    int64_t t0 = nm_time_mono_ns();
    nm_proc_signal(&f.workers[0], SIGTERM);
    int status;
    if (!nm_proc_wait(&f.workers[0], 5000, &status)) {
        fleet_dump_logs(&f);
        fail_msg("worker did not exit within 5 s of SIGTERM");
    }
    double secs = (double)(nm_time_mono_ns() - t0) / 1e9;
    printf("SIGTERM: exited in %.3f s with status %d after %lld articles\n", secs,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           (long long)db_count(f.db, "SELECT count(*) FROM articles"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the drain settled everything it held: no lease out, none to expire */
    const metric_range drained[] = {{"queue_in_flight_articles", 0, 0}};
    wait_report(&f, "queue", NULL, drained, 1, 5000, "queue after the drain");
    /* nothing lost: a new worker finishes the rest, each article once */
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 60000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    /* a clean drain hands nothing back: not one article delivered twice */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    fleet_stop(&f);
    set_free(&s);
}

static void garbage_delivery(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "junk", "10s");
    fleet_start_worker(&f, 0, NULL);
    /* HTML with no readable content: the extractor refuses it (empty) */
    article_set junk = {0};
    const char *html = "<html><head><title></title><script>var x = 1;</script></head>"
                       "<body><nav><a href='/'>Home</a></nav></body></html>";
    set_add(&junk, "junk-1", html, strlen(html));
    submit_range(&f, &junk, 0, 1, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML);
    /* the worker keeps working */
    article_set s = {0};
    generated_articles(&s, "after-junk", 20);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    wait_for_count(&f, (int64_t)s.n, 20000);
    assert_exactly_once(&f, &s);
    /* and the junk is a dead letter with the reason */
    Newsmill__DeadList *dead = NULL;
    nm_error err;
    int64_t deadline = nm_time_mono_ns() + 5 * NM_NS_PER_S;
    for (;;) {
        assert_int_equal(nm_producer_dead_list(f.producer, 10, "junk-1", &dead, &err), 0);
        if (dead->n_dead == 1 || nm_time_mono_ns() > deadline)
            break;
        nm_producer_dead_list_free(&dead);
        usleep(50 * 1000);
    }
    assert_int_equal(dead->n_dead, 1);
    assert_true(dead->dead[0]->n_failures >= 1);
    const char *reason = dead->dead[0]->failures[0]->reason;
    printf("dead letter junk-1: %s\n", reason);
    assert_non_null(strstr(reason, "empty"));
    assert_int_equal(dead->dead[0]->attempts, 1); /* not retried: bad input */
    nm_producer_dead_list_free(&dead);
    int status;
    assert_false(nm_proc_wait(&f.workers[0], 0, &status)); /* still running */
    fleet_stop(&f);
    set_free(&junk);
    set_free(&s);
}

static bool log_has(const char *path, const char *needle)
{
    char *log = nm_test_read_file(path, NULL);
    bool found = log && strstr(log, needle);
    free(log);
    return found;
}

typedef struct log_wait {
    const char *path, *needle;
} log_wait;

static bool log_reached(void *arg)
{
    log_wait *l = arg;
    return log_has(l->path, l->needle);
}

static int log_count(const char *path, const char *needle)
{
    char *log = nm_test_read_file(path, NULL);
    int n = 0;
    for (char *p = log; p && (p = strstr(p, needle)); p++)
        n++;
    free(log);
    return n;
}

typedef struct log_n_wait {
    const char *path, *needle;
    int n;
} log_n_wait;

static bool log_reached_n(void *arg)
{
    log_n_wait *l = arg;
    return log_count(l->path, l->needle) >= l->n;
}

static void disk_full(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "full", "2s");
    /* a 400 KiB quota behaves like a disk that fills up */
    fleet_start_worker(&f, 0, (const char *[]){"--db-max-size", "400K", "--retry-ms", "300ms",
                                                "--drain-timeout", "60s", NULL});
    article_set s = {0};
    generated_articles(&s, "full", 600);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    log_wait lw = {f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE"};
    if (!nm_test_wait_until(log_reached, &lw, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker never reported the database full");
    }
    /* a few retries, with lease extensions, while full: at least two
     * reports (polled for: a loaded machine may be slow to retry) */
    int64_t full_t0 = nm_time_mono_ns();
    log_n_wait lw2 = {f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE", 2};
    if (!nm_test_wait_until(log_reached_n, &lw2, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker did not retry while the database was full");
    }
    usleep(600 * 1000);
    int64_t full_ms = (nm_time_mono_ns() - full_t0) / NM_NS_PER_MS;
    int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
    assert_true(stored < (int64_t)s.n);
    /* nothing failed permanently */
    Newsmill__DeadList *dead = NULL;
    nm_error err;
    assert_int_equal(nm_producer_dead_list(f.producer, 10, NULL, &dead, &err), 0);
    assert_int_equal(dead->total, 0);
    nm_producer_dead_list_free(&dead);
    /* the log says it once per retry, not in a flood */
    size_t lines = (size_t)log_count(f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE");
    printf("disk full: %lld stored, %zu log lines in %lld ms\n", (long long)stored, lines,
           (long long)full_ms);
    /* once per 300 ms retry at most (a flood would be hundreds), counted
     * over the time it really took */
    assert_true(lines >= 2 && (int64_t)lines <= 6 + full_ms / 150);
    /* SIGTERM drains, but what it holds cannot be committed: it keeps
     * trying; a second SIGTERM makes it exit at once */
    nm_proc_signal(&f.workers[0], SIGTERM);
    int status;
    assert_false(nm_proc_wait(&f.workers[0], 700, &status));
    int64_t t0 = nm_time_mono_ns();
    nm_proc_signal(&f.workers[0], SIGTERM);
    assert_true(nm_proc_wait(&f.workers[0], 10000, &status)); /* vs --drain-timeout 60s */
    printf("second SIGTERM: exited in %.3f s, status %d\n",
           (double)(nm_time_mono_ns() - t0) / 1e9, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0); /* not a clean drain */
    /* give the disk space back: another worker stores everything, once */
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    fleet_stop(&f);
    set_free(&s);
}

/* Lease extensions the worker logged (at debug level), summed over its
 * "extended N leases" lines. */
static bool leases_extended(void *arg)
{
    log_n_wait *l = arg;
    char *log = nm_test_read_file(l->path, NULL);
    long total = 0;
    for (char *p = log; p && (p = strstr(p, "extended ")); p++)
        total += strtol(p + strlen("extended "), NULL, 10);
    free(log);
    return total >= l->n;
}

/* A batch held longer than its leases last: the worker extends them, so the
 * queue never takes them back. */
static void lease_extension(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "ext", "1200ms");
    /* debug: the worker logs each extension it sends */
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "1000", "--credit", "1000",
                                                "--flush-ms", "3000ms", "--log-level", "debug",
                                                NULL});
    article_set s = {0};
    generated_articles(&s, "ext", 50);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    /* four extensions of each of the 50 (one every half lease): held for
     * two lease lengths, uncommitted, and the queue took none of them back */
    log_n_wait lw = {f.workers[0].log_path, NULL, 4 * 50};
    if (!nm_test_wait_until(leases_extended, &lw, 10000)) {
        fleet_dump_logs(&f);
        fail_msg("the worker did not extend its leases 4 times");
    }
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles"), 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_in_flight_articles") == (double)s.n);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    wait_for_count(&f, (int64_t)s.n, 10000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_delivered_total") == (double)s.n);
    fleet_stop(&f);
    set_free(&s);
}

/* ---- kill -9 at chosen points (nm_fault) ---------------------------------- */

/* Worker 0 is stopped by its own fault point (NM_FAULT=point:stop) in its
 * first batch; the test sees it stopped (state T), checks what the results
 * database holds at that moment, SIGKILLs it there, and lets worker 1 finish:
 * every article is then stored once, with its content, after redelivery. */
static void kill9_at_point(const char *tag, const char *point, bool past_commit)
{
    fleet f;
    fleet_start_queue(&f, tag, "1s");
    char fault[128];
    snprintf(fault, sizeof fault, "%s:stop", point);
    setenv("NM_FAULT", fault, 1);
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "100", NULL});
    unsetenv("NM_FAULT");
    article_set s = {0};
    generated_articles(&s, tag, 300);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    stopped_wait sw = {f.workers[0].pid};
    if (!nm_test_wait_until(proc_stopped, &sw, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker 0 never stopped at %s", point);
    }
    int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
    printf("%s: stopped there with %lld articles committed; kill -9\n", point, (long long)stored);
    if (past_commit)
        assert_true(stored > 0);
    else
        assert_int_equal(stored, 0); /* the open transaction is invisible, then gone */
    /* it never told the queue: nothing is settled yet */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_done_total") == 0);
    nm_proc_kill(&f.workers[0]);
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") >= 1);
    fleet_stop(&f);
    set_free(&s);
}

static void kill9_inside_transaction(void **state)
{
    (void)state;
    kill9_at_point("txn", "writer.after_puts", false);
}

static void kill9_inside_commit(void **state)
{
    (void)state;
    kill9_at_point("commit", "store.commit", false);
}

static void kill9_after_commit_before_done(void **state)
{
    (void)state;
    kill9_at_point("done", "writer.after_commit", true);
}

/* ---- an article that crashes workers ------------------------------------- */

/* One article crashes every worker that extracts it (NM_FAULT crash-on-id),
 * among 256 others submitted with it to two workers that the test restarts
 * whenever they die. Only it may reach the dead letters (the queue's default
 * --max-attempts, 5), with a reason saying workers died holding it alone;
 * the 256 delivered around it are stored, with their content. */
static void crashing_article_isolated(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue_with(&f, "iso", "2s", (const char *[]){"--max-attempts", "5", NULL});
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* abort() should not write 13 core files */
    setenv("NM_FAULT", "worker.extract:crash-on-id=iso-poison", 1);
    for (int i = 0; i < 2; i++)
        fleet_start_worker(&f, i, NULL);
    article_set all = {0}, innocent = {0};
    generated_articles(&all, "iso", 257);
    free(all.ids[128]);
    all.ids[128] = nm_xstrdup("iso-poison"); /* in the middle of what is delivered */
    for (size_t i = 0; i < all.n; i++)
        if (i != 128)
            set_add(&innocent, all.ids[i], all.bodies[i], all.lens[i]);
    submit_range(&f, &all, 0, all.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    int restarts = 0;
    int64_t t0 = nm_time_mono_ns();
    int64_t until = t0 + (NM_SANITIZED ? 300 : 150) * NM_NS_PER_S;
    Newsmill__DeadList *dead = NULL;
    nm_error err;
    for (;;) {
        for (int i = 0; i < 2; i++) {
            int status;
            if (nm_proc_wait(&f.workers[i], 0, &status)) {
                restarts++;
                fleet_start_worker(&f, i, NULL);
            }
        }
        assert_int_equal(nm_producer_dead_list(f.producer, 10, NULL, &dead, &err), 0);
        int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
        if (stored + (int64_t)dead->total >= (int64_t)all.n)
            break; /* every article is settled one way or the other */
        if (nm_time_mono_ns() > until) {
            fleet_dump_logs(&f);
            fail_msg("after %d worker restarts: %lld stored, %llu dead, of %zu", restarts,
                     (long long)stored, (unsigned long long)dead->total, all.n);
        }
        nm_producer_dead_list_free(&dead);
        usleep(100 * 1000);
    }
    unsetenv("NM_FAULT");
    printf("isolated in %.1f s, %d worker restarts; dead letters: %llu\n",
           (double)(nm_time_mono_ns() - t0) / 1e9, restarts, (unsigned long long)dead->total);
    for (size_t i = 0; i < dead->n_dead; i++)
        printf("  dead %s attempts=%u\n", dead->dead[i]->id, dead->dead[i]->attempts);
    if (dead->total != 1)
        fail_msg("%llu articles dead-lettered, want only iso-poison",
                 (unsigned long long)dead->total);
    assert_string_equal(dead->dead[0]->id, "iso-poison");
    assert_int_equal(dead->dead[0]->attempts, 5);
    assert_true(dead->dead[0]->n_failures >= 1);
    const char *reason = dead->dead[0]->failures[dead->dead[0]->n_failures - 1]->reason;
    printf("dead letter iso-poison: %s\n", reason);
    assert_non_null(strstr(reason, "worker died while processing it"));
    assert_non_null(strstr(reason, "delivered alone"));
    nm_producer_dead_list_free(&dead);
    wait_queue_settled(&f, (int64_t)innocent.n, 10000);
    assert_exactly_once(&f, &innocent);
    fleet_stop(&f);
    set_free(&all);
    set_free(&innocent);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_workers_generated),
        cmocka_unit_test(three_workers_bbc),
        cmocka_unit_test(kill9_mid_batch),
        cmocka_unit_test(sigterm_under_load),
        cmocka_unit_test(garbage_delivery),
        cmocka_unit_test(disk_full),
        cmocka_unit_test(lease_extension),
        cmocka_unit_test(kill9_inside_transaction),
        cmocka_unit_test(kill9_inside_commit),
        cmocka_unit_test(kill9_after_commit_before_done),
        cmocka_unit_test(crashing_article_isolated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

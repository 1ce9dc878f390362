/* newsmill-worker with a real newsmill-queue, over real sockets, on data:
 * every article stored exactly once with its content by 3 workers
 * (generated articles, and the BBC corpus when ../shared is there), the
 * entity and full-text queries over what they stored, the workers' stats,
 * and garbage input. The faults (kill -9, SIGTERM, a full database, lease
 * extension, a crashing article) are in test_worker_faults.c; the fleet
 * both use is tests/support/nm_worker_fleet. */
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
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"
#include "nm_worker_fleet.h"

/* ---- articles and queries ------------------------------------------------ */

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

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_workers_generated),
        cmocka_unit_test(three_workers_bbc),
        cmocka_unit_test(garbage_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

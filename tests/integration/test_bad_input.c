/*
 * The bad-input matrix: one table, one row per kind of bad input, against a
 * real newsmill-queue and newsmill-worker. Each row sends its input, checks
 * the response it must get (an error reply, a rejection reason, a stats
 * counter, a dead letter or a stored result), and after every row the test
 * checks that both processes still serve. At the end every article accepted
 * along the way must be in the results database: nothing previously accepted
 * was lost. The observed response of every row is printed as a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_frame.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"
#include "qtest.h"

typedef struct matrix {
    void *ctx;
    qtest_queue q;
    nm_proc worker;
    char *worker_argv[16];
    char results[600];
    nm_producer *prod;
    void *pull;                           /* the stats endpoint of queue and worker */
    Newsmill__Envelope *latest[2];        /* newest report: [0] queue, [1] worker */
    int good;                             /* good articles accepted so far */
    char observed[512];
} matrix;

static matrix M;

/* ---- helpers ---------------------------------------------------------- */

static void drain_stats(int ms)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)ms * NM_NS_PER_MS;
    for (;;) {
        int64_t left = (deadline - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left <= 0)
            return;
        zmq_pollitem_t it = {M.pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, (long)left) <= 0)
            continue;
        Newsmill__Envelope *env;
        if (nm_frame_recv(M.pull, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, NULL) != 0)
            continue;
        int slot = !strcmp(env->stats->role, "queue") ? 0 : 1;
        nm_frame_free(&M.latest[slot]);
        M.latest[slot] = env;
    }
}

/* Newest value of a metric of role (0 queue, 1 worker), waiting up to ~3 s
 * for it to reach at least want. */
static double metric_at_least(int role, const char *name, const char *label, double want)
{
    double v = -1;
    for (int i = 0; i < 12; i++) {
        drain_stats(250);
        v = qtest_metric(M.latest[role], name, label);
        if (v >= want)
            break;
    }
    return v;
}

static Newsmill__Envelope *raw_request(void *sock, const void *bytes, size_t len)
{
    if (zmq_send(sock, bytes, len, 0) != (int)len)
        fail_msg("send: %s", zmq_strerror(zmq_errno()));
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 5000) != 1)
        fail_msg("no reply within 5 s");
    Newsmill__Envelope *env;
    nm_error err;
    if (nm_frame_recv(sock, NULL, NM_FRAME_MAX_DEFAULT, &env, 0, &err) != 0)
        fail_msg("reply does not decode: %s", err.msg);
    return env;
}

static void *dealer(const char *endpoint)
{
    return nm_test_dealer(M.ctx, endpoint);
}

/* Expects an ErrorReply with code to the raw bytes sent to the front. */
static void expect_error(const void *bytes, size_t len, Newsmill__ErrorCode code)
{
    void *s = dealer(M.q.front);
    Newsmill__Envelope *env = raw_request(s, bytes, len);
    if (env->body_case != NEWSMILL__ENVELOPE__BODY_ERROR || env->error->code != code)
        fail_msg("wanted ErrorReply code %d, got %s", code, nm_frame_body_name(env->body_case));
    snprintf(M.observed, sizeof M.observed, "ErrorReply %d: %s", code, env->error->message);
    nm_frame_free(&env);
    zmq_close(s);
}

/* Submits one article; returns its ack (caller frees) . */
static Newsmill__SubmitAck *submit_one(const char *id, Newsmill__ContentType type, const void *body,
                                       size_t len, const char *published)
{
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT, *batch[] = {&a};
    a.id = (char *)id;
    a.content_type = type;
    a.body.data = (uint8_t *)body;
    a.body.len = len;
    (void)published;
    Newsmill__SubmitAck *ack;
    nm_error err;
    if (nm_producer_submit(M.prod, batch, 1, &ack, &err) != 0)
        fail_msg("submit %s: %s", id, err.msg);
    return ack;
}

static void expect_rejected(const char *id, Newsmill__ContentType type, const void *body, size_t len,
                            const char *reason_label, const char *needle)
{
    double before = metric_at_least(0, "queue_articles_rejected_total", reason_label, 0);
    Newsmill__SubmitAck *ack = submit_one(id, type, body, len, NULL);
    assert_int_equal(ack->rejected, 1);
    if (!strstr(ack->acks[0]->reason, needle))
        fail_msg("reason '%s' lacks '%s'", ack->acks[0]->reason, needle);
    double after = metric_at_least(0, "queue_articles_rejected_total", reason_label,
                                   (before < 0 ? 0 : before) + 1);
    if (after < (before < 0 ? 0 : before) + 1)
        fail_msg("counter queue_articles_rejected_total{reason=%s} did not rise", reason_label);
    snprintf(M.observed, sizeof M.observed, "rejected: \"%s\"; rejected_total{%s}=%g",
             ack->acks[0]->reason, reason_label, after);
    nm_producer_ack_free(&ack);
}

static bool is_dead(const char *id, char *reason, size_t size)
{
    Newsmill__DeadList *list;
    nm_error err;
    if (nm_producer_dead_list(M.prod, 10, id, &list, &err) != 0)
        return false;
    bool dead = list->n_dead == 1 && list->dead[0]->n_failures > 0;
    if (dead)
        snprintf(reason, size, "%s", list->dead[0]->failures[0]->reason);
    nm_producer_dead_list_free(&list);
    return dead;
}

static long query_count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static long stored(const char *id)
{
    sqlite3 *db;
    long n = -1;
    if (sqlite3_open_v2(M.results, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 3000);
        sqlite3_stmt *st;
        const char *sql = id ? "SELECT count(*) FROM article_rows WHERE id = ?"
                             : "SELECT count(*) FROM article_rows WHERE id LIKE 'good-%'";
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
            if (id)
                sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

/* Waits until id is stored (1) or dead-lettered (2); 0 on timeout. */
static int settle(const char *id, char *reason, size_t size)
{
    for (int i = 0; i < 150; i++) {
        if (stored(id) == 1)
            return 1;
        if (is_dead(id, reason, size))
            return 2;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* After every row: the queue acks a good article, the worker is alive. */
static void still_serving(const char *row)
{
    char id[64], body[128];
    snprintf(id, sizeof id, "good-%d", M.good);
    snprintf(body, sizeof body, "Good article %d\n\nAnkara and Hamas, after row %s.", M.good, row);
    Newsmill__SubmitAck *ack = submit_one(id, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT, body,
                                          strlen(body), NULL);
    if (ack->accepted != 1)
        fail_msg("after row '%s' the queue no longer accepts a good article", row);
    nm_producer_ack_free(&ack);
    M.good++;
    if (kill(M.worker.pid, 0) != 0) {
        nm_proc_dump_log(&M.worker);
        fail_msg("after row '%s' the worker is gone", row);
    }
    if (kill(M.q.proc.pid, 0) != 0) {
        nm_proc_dump_log(&M.q.proc);
        fail_msg("after row '%s' the queue is gone", row);
    }
}

static void envelope_bytes(Newsmill__Envelope *env, uint32_t version, uint8_t **buf, size_t *len)
{
    env->version = version;
    *len = newsmill__envelope__get_packed_size(env);
    *buf = malloc(*len);
    newsmill__envelope__pack(env, *buf);
}

/* ---- the rows ----------------------------------------------------------- */

static void row_truncated_frame(void)
{
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT, *arts[] = {&a};
    a.id = "t";
    a.body.data = (uint8_t *)"Title\n\nBody text that is long enough.";
    a.body.len = strlen((char *)a.body.data);
    Newsmill__SubmitBatch b = NEWSMILL__SUBMIT_BATCH__INIT;
    b.articles = arts;
    b.n_articles = 1;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    env.submit = &b;
    uint8_t *buf;
    size_t len;
    envelope_bytes(&env, NM_PROTOCOL_VERSION, &buf, &len);
    expect_error(buf, len - 7, NEWSMILL__ERROR_CODE__ERROR_MALFORMED);
    free(buf);
}

static void row_wrong_version(void)
{
    Newsmill__StatsRequest r = NEWSMILL__STATS_REQUEST__INIT;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_STATS_REQUEST;
    env.stats_request = &r;
    uint8_t *buf;
    size_t len;
    envelope_bytes(&env, 99, &buf, &len);
    expect_error(buf, len, NEWSMILL__ERROR_CODE__ERROR_BAD_VERSION);
    free(buf);
}

static void row_unknown_type(void)
{
    const uint8_t future[] = {0x08, 0x01, 0x98, 0x06, 0x01}; /* version 1, field 99 */
    expect_error(future, sizeof future, NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_TYPE);
}

static void row_empty_article(void)
{
    expect_rejected("bad-empty", NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT, "", 0, "empty-body",
                    "empty");
}

static void row_64mb_article(void)
{
    size_t len = (size_t)64 << 20;
    char *big = malloc(len);
    memset(big, 'a', len);
    for (size_t i = 80; i < len; i += 80)
        big[i] = '\n';
    expect_rejected("bad-64mb", NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT, big, len, "too-large",
                    "");
    free(big);
}

static void row_invalid_utf8(void)
{
    const char body[] = "Caf\xe9 society\n\nThe caf\xe9 was full.";
    expect_rejected("bad-utf8", NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT, body, sizeof body - 1,
                    "invalid-utf8", "UTF-8");
}

static void row_nul_bytes(void)
{
    const char body[] = "Title\n\nBody with a \0 inside.";
    expect_rejected("bad-nul", NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT, body, sizeof body - 1,
                    "nul-byte", "NUL");
}

static void row_html_bomb(void)
{
    size_t depth = 100000, len = depth * 5 + 64;
    char *html = malloc(len), *p = html;
    p += sprintf(p, "<html><body>");
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    p += sprintf(p, "deep</body></html>");
    Newsmill__SubmitAck *ack = submit_one("bad-html-bomb", NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML,
                                          html, (size_t)(p - html), NULL);
    assert_int_equal(ack->accepted, 1);
    nm_producer_ack_free(&ack);
    free(html);
    /* README promises "stored": the HTML parser bounds the depth it keeps,
     * so the text inside the bomb is extracted like any other page. */
    char reason[256] = "";
    int outcome = settle("bad-html-bomb", reason, sizeof reason);
    if (outcome == 2)
        fail_msg("the HTML bomb was dead-lettered (README says stored): %s", reason);
    if (outcome != 1)
        fail_msg("the HTML bomb was not stored in 15 s");
    snprintf(M.observed, sizeof M.observed, "accepted; worker stored it");
}

static void row_10k_batch(void)
{
    qtest_submit_range(M.prod, "good-batch-", 0, 10000, 10000);
    M.good += 10000;
    /* one more than --max-batch is refused whole */
    static char ids[10001][24];
    static Newsmill__Article arts[10001];
    static Newsmill__Article *ptrs[10001];
    for (int i = 0; i < 10001; i++) {
        snprintf(ids[i], sizeof ids[i], "over-%d", i);
        qtest_article(&arts[i], ids[i], "Title\n\nBody.");
        ptrs[i] = &arts[i];
    }
    Newsmill__SubmitAck *ack;
    nm_error err;
    assert_int_equal(nm_producer_submit(M.prod, ptrs, 10001, &ack, &err), -1);
    assert_int_equal(err.code, NM_ERR_TOO_LARGE);
    snprintf(M.observed, sizeof M.observed, "10,000 accepted; 10,001 refused: %s", err.msg);
}

static void row_duplicate_id(void)
{
    Newsmill__Article a, b, *batch[] = {&a, &b};
    qtest_article(&a, "dup-1", "First version\n\nOld body.");
    qtest_article(&b, "dup-1", "Second version\n\nNew body wins.");
    Newsmill__SubmitAck *ack;
    nm_error err;
    assert_int_equal(nm_producer_submit(M.prod, batch, 2, &ack, &err), 0);
    assert_int_equal(ack->accepted, 2);
    nm_producer_ack_free(&ack);
    char reason[256];
    if (settle("dup-1", reason, sizeof reason) != 1)
        fail_msg("dup-1 not stored");
    assert_int_equal(stored("dup-1"), 1);
    snprintf(M.observed, sizeof M.observed, "both acked; stored once");
}

static void row_non_numeric_published(void)
{
    const char *path = nm_test_path("dates.jsonl");
    const char *lines =
        "{\"id\":\"date-bad\",\"content_type\":\"text\",\"published\":\"yesterday\",\"body\":\"T\\n\\nB.\"}\n"
        "{\"id\":\"good-date\",\"content_type\":\"text\",\"published\":\"2024-05-01T10:00:00Z\",\"body\":\"Dated\\n\\nAnkara.\"}\n";
    nm_test_write_file(path, lines, strlen(lines));
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "'%s' submit --quiet --queue '%s' '%s' > '%s' 2>&1", nm_test_bin("newsmill"),
             M.q.front, path, nm_test_path("dates.out"));
    int status = system(cmd);
    char *out = nm_test_read_file(nm_test_path("dates.out"), NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 4 || !out || !strstr(out, "line 1"))
        fail_msg("submit exit %d, output: %s", WEXITSTATUS(status), out ? out : "(none)");
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
    snprintf(M.observed, sizeof M.observed, "CLI exit 4; %.200s; the valid line submitted", out);
    free(out);
    M.good++;
}

static void row_unknown_lease(void)
{
    void *s = dealer(M.q.back);
    uint64_t ids[] = {987654321};
    Newsmill__Done d = NEWSMILL__DONE__INIT;
    d.lease_ids = ids;
    d.n_lease_ids = 1;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_DONE;
    env.done = &d;
    uint8_t *buf;
    size_t len;
    envelope_bytes(&env, NM_PROTOCOL_VERSION, &buf, &len);
    Newsmill__Envelope *reply = raw_request(s, buf, len);
    free(buf);
    if (reply->body_case != NEWSMILL__ENVELOPE__BODY_LEASE_REPLY ||
        reply->lease_reply->n_unknown_lease_ids != 1)
        fail_msg("wanted a LeaseReply naming the lease, got %s", nm_frame_body_name(reply->body_case));
    nm_frame_free(&reply);
    zmq_close(s);
    double n = metric_at_least(0, "queue_requests_rejected_total", "unknown-lease", 1);
    if (n < 1)
        fail_msg("unknown-lease not counted");
    snprintf(M.observed, sizeof M.observed, "LeaseReply unknown=[987654321]; rejected_total{unknown-lease}=%g", n);
}

/* Disk full: the worker's results database on a 1 MiB tmpfs. The worker
 * holds its batch (state disk-full), fails nothing; after the file system
 * grows, everything is stored. */
static void row_disk_full(void)
{
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s", nm_test_path("smallfs"));
    mkdir(mnt, 0755);
    /* Everything accepted so far is stored first: the next worker writes elsewhere. */
    for (int i = 0; i < 300 && stored(NULL) < M.good; i++) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(stored(NULL), M.good);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        snprintf(M.observed, sizeof M.observed, "SKIPPED: cannot mount a tmpfs here (needs root)");
        nm_test_skip_part("row_disk_full", "cannot mount a tmpfs here (needs root)");
        return;
    }
    /* A second worker on the small disk takes over from the first. */
    nm_proc_signal(&M.worker, SIGTERM);
    int status;
    assert_true(nm_proc_wait(&M.worker, 10000, &status));
    char db[700];
    snprintf(db, sizeof db, "%s/results.db", mnt);
    char *argv[] = {(char *)nm_test_bin("newsmill-worker"), "--queue", M.q.back, "--stats",
                    M.q.stats, "--db", db, "--retry-ms", "200ms", "--name", "small-disk", NULL};
    nm_proc w2;
    nm_proc_start(&w2, "worker-small-disk", argv);
    static char ids[600][24], bodies[600][700];
    Newsmill__Article arts[600], *ptrs[600];
    for (int i = 0; i < 600; i++) {
        snprintf(ids[i], sizeof ids[i], "full-%d", i);
        int n = snprintf(bodies[i], sizeof bodies[i], "Disk report %d\n\n", i);
        for (int k = 0; k < 8; k++)
            n += snprintf(bodies[i] + n, sizeof bodies[i] - (size_t)n,
                          "Officials in Ankara said %d more trucks reached Gaza on day %d. ", i * 8 + k, k);
        qtest_article(&arts[i], ids[i], bodies[i]);
        ptrs[i] = &arts[i];
    }
    Newsmill__SubmitAck *ack;
    nm_error err;
    assert_int_equal(nm_producer_submit(M.prod, ptrs, 600, &ack, &err), 0);
    assert_int_equal(ack->accepted, 600);
    nm_producer_ack_free(&ack);
    bool saw_full = false;
    for (int i = 0; i < 60 && !saw_full; i++) {
        drain_stats(250);
        saw_full = M.latest[1] && !strcmp(M.latest[1]->stats->state, "disk-full");
    }
    if (!saw_full) {
        nm_proc_dump_log(&w2);
        umount2(mnt, MNT_DETACH);
        fail_msg("the worker never reported state disk-full");
    }
    char reason[256];
    if (is_dead("full-0", reason, sizeof reason))
        fail_msg("a disk-full article was dead-lettered: %s", reason);
    /* Space comes back: everything is stored, nothing failed. */
    assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=64m"), 0);
    snprintf(M.results, sizeof M.results, "%s", db);
    int ok = 0;
    for (int i = 0; i < 300 && !ok; i++) {
        sqlite3 *h;
        if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(h, 2000);
            ok = query_count(h, "SELECT count(*) FROM article_rows WHERE id LIKE 'full-%'") == 600;
        }
        sqlite3_close(h);
        if (!ok) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    nm_proc_signal(&w2, SIGTERM);
    nm_proc_wait(&w2, 10000, &status);
    umount2(mnt, MNT_DETACH);
    snprintf(M.results, sizeof M.results, "%s", nm_test_path("results.db"));
    if (!ok)
        fail_msg("after space came back not all 600 articles were stored");
    nm_proc_start(&M.worker, "worker", M.worker_argv);
    snprintf(M.observed, sizeof M.observed,
             "worker state disk-full, nothing dead-lettered; all 600 stored once space returned");
}

/* ---- the table ---------------------------------------------------------- */

static const struct row {
    const char *input;
    void (*run)(void);
} rows[] = {
    {"truncated frame", row_truncated_frame},
    {"wrong protocol version", row_wrong_version},
    {"unknown message type", row_unknown_type},
    {"0-byte article", row_empty_article},
    {"64 MB article", row_64mb_article},
    {"invalid UTF-8 text", row_invalid_utf8},
    {"NUL bytes in text", row_nul_bytes},
    {"HTML bomb (100k nested tags)", row_html_bomb},
    {"10k-article batch", row_10k_batch},
    {"duplicate id in one batch", row_duplicate_id},
    {"non-numeric published date", row_non_numeric_published},
    {"ack for unknown lease", row_unknown_lease},
    {"disk full (results db)", row_disk_full},
};

static void matrix_rows(void **state)
{
    (void)state;
    M.ctx = zmq_ctx_new();
    qtest_init(&M.q, "queue");
    /* defaults: 16M article limit, 10,000-article batches */
    M.pull = qtest_stats_socket(M.ctx, &M.q);
    qtest_start(&M.q);
    snprintf(M.results, sizeof M.results, "%s", nm_test_path("results.db"));
    char *wargv[] = {(char *)nm_test_bin("newsmill-worker"), "--queue", M.q.back, "--stats",
                     M.q.stats, "--db", M.results, "--name", "matrix-worker", NULL};
    memcpy(M.worker_argv, wargv, sizeof wargv);
    nm_proc_start(&M.worker, "worker", M.worker_argv);
    nm_error err;
    M.prod = nm_producer_new(M.ctx, M.q.front, &err);
    assert_non_null(M.prod);
    nm_producer_set_timeout(M.prod, 20000, 1);

    printf("%-30s | %s\n", "bad input", "observed response");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        M.observed[0] = '\0';
        rows[i].run();
        still_serving(rows[i].input);
        printf("%-30s | %s\n", rows[i].input, M.observed);
        fflush(stdout);
    }
    /* Nothing accepted along the way was lost. */
    long n = -1;
    for (int i = 0; i < 600 && n < M.good; i++) {
        n = stored(NULL);
        if (n < M.good) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (n != M.good)
        fail_msg("%ld of %d good articles stored", n, M.good);
    printf("%-30s | all %d good articles stored once\n", "(after every row)", M.good);

    nm_proc_signal(&M.worker, SIGTERM);
    int status;
    assert_true(nm_proc_wait(&M.worker, 10000, &status));
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    qtest_stop(&M.q);
    nm_producer_destroy(&M.prod);
    nm_frame_free(&M.latest[0]);
    nm_frame_free(&M.latest[1]);
    zmq_close(M.pull);
    zmq_ctx_term(M.ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(matrix_rows)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

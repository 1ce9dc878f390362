/* nm_spool revisions: one spool-wide counter, new at every accepted put,
 * growing across a row's whole history (settled and submitted afresh),
 * across reopening, across deleting the spool (a new spool starts at its
 * creation time in microseconds), and across the v1 -> v2 migration; done,
 * retry and dead-lettering act only on the revision they were given; a
 * requeued dead letter keeps its revision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm_spool.h"
#include "nm_test.h"
#include "nm_time.h"

static nm_spool *open_spool(const char *path)
{
    nm_error err;
    nm_spool *s = nm_spool_open(path, NM_SPOOL_NORMAL, &err);
    if (!s)
        fail_msg("opening %s: %s", path, err.msg);
    return s;
}

/* Puts article id with body in a transaction of its own; returns its
 * revision. */
static int64_t put(nm_spool *s, const char *id, const char *body, bool *inserted)
{
    Newsmill__Article a = NEWSMILL__ARTICLE__INIT;
    a.id = (char *)id;
    a.body.data = (uint8_t *)body;
    a.body.len = strlen(body);
    uint8_t packed[256];
    size_t len = newsmill__article__pack(&a, packed);
    nm_error err;
    bool ins;
    int64_t rev = -1;
    if (nm_spool_begin(s, true, &err) != 0 ||
        nm_spool_put(s, id, 0, nm_time_unix_ms(), packed, len, &ins, &rev, &err) != 0 ||
        nm_spool_commit(s, &err) != 0)
        fail_msg("putting %s: %s", id, err.msg);
    if (inserted)
        *inserted = ins;
    return rev;
}

/* The body of the article packed in row. */
static bool row_body_is(const nm_spool_row *row, const char *body)
{
    Newsmill__Article *a = newsmill__article__unpack(NULL, row->article_len, row->article);
    bool same = a && a->body.len == strlen(body) && !memcmp(a->body.data, body, a->body.len);
    newsmill__article__free_unpacked(a, NULL);
    return same;
}

static void collect_seq(void *arg, int64_t seq)
{
    *(int64_t *)arg = seq;
}

/* The seq of the only ready row. */
static int64_t only_seq(nm_spool *s)
{
    int64_t seq = -1;
    size_t n;
    nm_error err;
    assert_int_equal(nm_spool_scan_ready(s, INT64_MAX, 10, collect_seq, &seq, &n, &err), 0);
    assert_int_equal(n, 1);
    return seq;
}

static nm_spool_row fetch(nm_spool *s, int64_t seq)
{
    nm_spool_row row = {0};
    bool found;
    nm_error err;
    assert_int_equal(nm_spool_fetch(s, seq, &row, &found, &err), 0);
    assert_true(found);
    return row;
}

static void remove_row(nm_spool *s, int64_t seq, int64_t rev, bool *removed)
{
    nm_error err;
    assert_int_equal(nm_spool_begin(s, false, &err), 0);
    assert_int_equal(nm_spool_remove(s, seq, rev, removed, &err), 0);
    assert_int_equal(nm_spool_commit(s, &err), 0);
}

static void grows_across_history(void **state)
{
    (void)state;
    const char *path = nm_test_path("grow/spool.db");
    int64_t created_us = nm_time_unix_ms() * 1000;
    nm_spool *s = open_spool(path);
    bool inserted, removed;
    int64_t r1 = put(s, "x", "one", &inserted);
    assert_true(inserted);
    assert_true(r1 > created_us - 1000); /* started at the creation time, in us */
    int64_t seq = only_seq(s);
    int64_t r2 = put(s, "x", "two", &inserted); /* a resubmit replaces the body */
    assert_false(inserted);
    assert_true(r2 > r1);
    assert_int_equal(only_seq(s), seq);
    remove_row(s, seq, r1, &removed); /* done for the old body: the row stays */
    assert_false(removed);
    remove_row(s, seq, r2, &removed); /* settled */
    assert_true(removed);
    int64_t r3 = put(s, "x", "three", &inserted); /* the id afresh: a new row, a higher revision */
    assert_true(inserted);
    assert_true(r3 > r2);
    /* a rolled-back put leaves no trace that matters: the next is higher still */
    nm_error err;
    bool ins;
    int64_t lost;
    assert_int_equal(nm_spool_begin(s, true, &err), 0);
    assert_int_equal(nm_spool_put(s, "y", 0, 1, (const uint8_t *)"y", 1, &ins, &lost, &err), 0);
    nm_spool_rollback(s);
    int64_t r4 = put(s, "z", "z", NULL);
    assert_true(r4 > r3);
    nm_spool_close(&s);
    /* reopened: the counter was saved with the rows */
    s = open_spool(path);
    int64_t r5 = put(s, "x", "four", NULL);
    assert_true(r5 > r4);
    nm_spool_close(&s);
    /* the operator deletes the spool and keeps the results: the new spool
     * starts above every revision the old one handed out */
    char wal[600], shm[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    s = open_spool(path);
    int64_t r6 = put(s, "x", "five", &inserted);
    assert_true(inserted);
    assert_true(r6 > r5);
    nm_spool_close(&s);
}

static void failures_of_an_old_body(void **state)
{
    (void)state;
    nm_spool *s = open_spool(nm_test_path("fail/spool.db"));
    int64_t r1 = put(s, "x", "one", NULL);
    int64_t seq = only_seq(s);
    int64_t r2 = put(s, "x", "two", NULL);
    Newsmill__FailureRecord rec = NEWSMILL__FAILURE_RECORD__INIT;
    rec.reason = "crashed on one";
    rec.worker = "w";
    nm_error err;
    bool applied;
    Newsmill__DeadLetter *letter;
    /* retry and bury for revision one leave body two alone */
    assert_int_equal(nm_spool_begin(s, false, &err), 0);
    assert_int_equal(nm_spool_retry(s, seq, r1, 3, INT64_MAX, &rec, &applied, &err), 0);
    assert_false(applied);
    assert_int_equal(nm_spool_bury(s, seq, r1, 4, &rec, 1, &letter, &err), 0);
    assert_null(letter);
    assert_int_equal(nm_spool_commit(s, &err), 0);
    nm_spool_row row = fetch(s, seq);
    assert_int_equal(row.rev, r2);
    assert_int_equal(row.attempts, 0);
    assert_true(row_body_is(&row, "two"));
    nm_spool_row_clear(&row);
    assert_int_equal(only_seq(s), seq); /* still ready: not_before untouched */
    /* for revision two they apply */
    assert_int_equal(nm_spool_begin(s, false, &err), 0);
    assert_int_equal(nm_spool_retry(s, seq, r2, 1, 0, &rec, &applied, &err), 0);
    assert_true(applied);
    assert_int_equal(nm_spool_bury(s, seq, r2, 2, &rec, 1, &letter, &err), 0);
    assert_non_null(letter);
    assert_int_equal(letter->n_failures, 2);
    newsmill__dead_letter__free_unpacked(letter, NULL);
    assert_int_equal(nm_spool_commit(s, &err), 0);
    int64_t n;
    assert_int_equal(nm_spool_count_articles(s, &n, &err), 0);
    assert_int_equal(n, 0);
    /* requeued, it keeps the revision it died with */
    bool found, inserted;
    assert_int_equal(nm_spool_begin(s, true, &err), 0);
    assert_int_equal(nm_spool_unbury(s, "x", 1, &found, &inserted, &err), 0);
    assert_int_equal(nm_spool_commit(s, &err), 0);
    assert_true(found && inserted);
    row = fetch(s, only_seq(s));
    assert_int_equal(row.rev, r2);
    nm_spool_row_clear(&row);
    nm_spool_close(&s);
}

/* A version 1 spool (per-row rev, no counter, dead without rev) opens as
 * version 2 with its rows, and its counter starts at the migration's time. */
/* A power cut with --durability normal can lose the spool's last commits,
 * the counter included, while the results database kept the revisions they
 * handed out (its commits are synced). Reopened, the spool must still hand
 * out revisions above those: the counter starts again from the clock. */
static void rolled_back_counter_restarts_above(void **state)
{
    (void)state;
    const char *path = nm_test_path("rolled-back.db");
    nm_spool *s = open_spool(path);
    int64_t handed_out = 0;
    for (int i = 0; i < 5; i++)
        handed_out = put(s, "rb", i % 2 ? "body one" : "body two", NULL);
    nm_spool_close(&s);
    /* What a lost commit leaves: the counter as it was before those puts. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE revision SET last = %lld", (long long)(handed_out - 4));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = open_spool(path);
    int64_t after = put(s, "rb", "body three", NULL);
    assert_true(after > handed_out);
    nm_spool_close(&s);
}

static void migrate_v1(void **state)
{
    (void)state;
    const char *path = nm_test_path("v1.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char file[1024];
    snprintf(file, sizeof file, "%s/tests/data/spool_schema_v1.sql", nm_test_source_dir());
    char *schema = nm_test_read_file(file, NULL);
    assert_non_null(schema);
    char *msg = NULL;
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA user_version = 1;"
                     "INSERT INTO articles (id, enqueued_unix_ms, rev, article)"
                     " VALUES ('old', 1, 2, x'0a036f6c64');"
                     "INSERT INTO dead (id, dead_unix_ms, article, letter)"
                     " VALUES ('gone', 1, x'0a04676f6e65', x'');",
                     NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("v1 spool: %s", msg);
    free(schema);
    sqlite3_close(db);
    int64_t migrated_us = nm_time_unix_ms() * 1000;
    nm_spool *s = open_spool(path);
    nm_spool_row row = fetch(s, only_seq(s));
    assert_int_equal(row.rev, 2);
    nm_spool_row_clear(&row);
    int64_t r = put(s, "new", "new", NULL);
    assert_true(r > migrated_us - 1000);
    nm_error err;
    bool found, inserted;
    assert_int_equal(nm_spool_begin(s, true, &err), 0);
    assert_int_equal(nm_spool_unbury(s, "gone", 1, &found, &inserted, &err), 0);
    assert_int_equal(nm_spool_commit(s, &err), 0);
    assert_true(found && inserted);
    nm_spool_close(&s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
                                            " (SELECT rev FROM articles WHERE id = 'gone')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    assert_int_equal(sqlite3_column_int64(st, 1), 0); /* none known: replaces in the results */
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_across_history),
        cmocka_unit_test(failures_of_an_old_body),
        cmocka_unit_test(migrate_v1),
        cmocka_unit_test(rolled_back_counter_restarts_above),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

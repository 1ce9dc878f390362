/* nm_writer: jobs on a real results database, from a second thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "nm_extract.h"
#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"
#include "nm_writer.h"

#define N_RESULTS 6

static nm_extractor *extractor;

/* Real extraction results with ids ID-0 .. ID-(n-1). */
static void make_results(const char *id_prefix, nm_extract_result **out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char id[64], body[256];
        snprintf(id, sizeof id, "%s-%zu", id_prefix, i);
        snprintf(body, sizeof body,
                 "Story %zu\n\nIbrahim Kalın met Hamas officials in Ankara on day %zu. "
                 "Talks went on late into the night.",
                 i, i);
        nm_extract_input in = {.body = body, .len = strlen(body), .content_type = NM_CONTENT_TEXT,
                               .id = id};
        nm_error err;
        if (nm_extract(extractor, &in, &out[i], &err) < 0)
            fail_msg("extract: %s", err.msg);
    }
}

static void free_results(nm_extract_result **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nm_extract_result_free(&r[i]);
}

static nm_writer *open_writer(const char *name)
{
    nm_error err;
    nm_store_options opts = {.busy_timeout_ms = 50};
    nm_store *store = nm_store_open(nm_test_path(name), &opts, &err);
    if (!store)
        fail_msg("open %s: %s", name, err.msg);
    nm_writer *w = nm_writer_new(nm_partitions_wrap(store), &err);
    if (!w)
        fail_msg("writer: %s", err.msg);
    return w;
}

/* Waits (on the descriptor, as a worker does) for the job to come back. */
static nm_write_job *await_job(nm_writer *w)
{
    int64_t deadline = nm_time_mono_ns() + 20 * NM_NS_PER_S;
    while (nm_time_mono_ns() < deadline) {
        struct pollfd p = {.fd = nm_writer_fd(w), .events = POLLIN};
        poll(&p, 1, 100);
        nm_write_job *job = nm_writer_take(w);
        if (job)
            return job;
    }
    fail_msg("the writer did not finish its job in 20 s");
    return NULL;
}

static int64_t count_articles(const char *name)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(nm_test_path(name), &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM article_rows", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* One transaction: all committed; an invalid result is refused without
 * spoiling the others; the writer takes one job at a time. */
static void batch_with_an_invalid_result(void **state)
{
    (void)state;
    nm_writer *w = open_writer("batch.db");
    nm_extract_result *r[N_RESULTS];
    make_results("b", r, N_RESULTS);
    const char *kept_id = r[2]->id;
    r[2]->id = ""; /* the store refuses an article without an id */
    nm_write_status status[N_RESULTS];
    nm_error errors[N_RESULTS];
    nm_write_job job = {.results = r, .n = N_RESULTS, .ingested_unix_ms = 1, .status = status,
                        .errors = errors};
    assert_false(nm_writer_busy(w));
    assert_true(nm_writer_start(w, &job));
    assert_true(nm_writer_busy(w));
    nm_write_job second = job;
    assert_false(nm_writer_start(w, &second)); /* one at a time */
    assert_ptr_equal(await_job(w), &job);
    assert_false(nm_writer_busy(w));
    assert_int_equal(job.rc, 0);
    for (size_t i = 0; i < N_RESULTS; i++)
        assert_int_equal(status[i], i == 2 ? NM_WRITE_INVALID : NM_WRITE_COMMITTED);
    assert_non_null(strstr(errors[2].msg, "no id"));
    assert_true(job.write_ns > 0);
    assert_int_equal(count_articles("batch.db"), N_RESULTS - 1);
    r[2]->id = kept_id;
    nm_writer_destroy(&w);
    assert_null(w);
    free_results(r, N_RESULTS);
}

/* Another connection holds the write lock: the job comes back with BUSY and
 * every result still pending; once the lock is gone, the same job in one
 * transaction per article stores them all. */
static void busy_then_one_by_one(void **state)
{
    (void)state;
    nm_writer *w = open_writer("busy.db");
    sqlite3 *other;
    assert_int_equal(sqlite3_open(nm_test_path("busy.db"), &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    nm_extract_result *r[N_RESULTS];
    make_results("y", r, N_RESULTS);
    nm_write_status status[N_RESULTS];
    nm_error errors[N_RESULTS];
    nm_write_job job = {.results = r, .n = N_RESULTS, .ingested_unix_ms = 1, .status = status,
                        .errors = errors};
    assert_true(nm_writer_start(w, &job));
    await_job(w);
    assert_int_equal(job.rc, -1);
    assert_int_equal(job.err.code, NM_ERR_BUSY);
    for (size_t i = 0; i < N_RESULTS; i++)
        assert_int_equal(status[i], NM_WRITE_PENDING);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    job.one_by_one = true;
    assert_true(nm_writer_start(w, &job));
    await_job(w);
    assert_int_equal(job.rc, 0);
    for (size_t i = 0; i < N_RESULTS; i++)
        assert_int_equal(status[i], NM_WRITE_COMMITTED);
    nm_writer_destroy(&w);
    assert_int_equal(count_articles("busy.db"), N_RESULTS);
    free_results(r, N_RESULTS);
}

/* Results carry revisions: one older than what is stored comes back STALE
 * (not stored, to be settled), equal and newer ones are committed; in a
 * batch and one by one alike. */
static void stale_revisions(void **state)
{
    (void)state;
    nm_writer *w = open_writer("stale.db");
    nm_extract_result *r[N_RESULTS];
    make_results("s", r, N_RESULTS);
    nm_write_status status[N_RESULTS];
    nm_error errors[N_RESULTS];
    int64_t stored[N_RESULTS] = {100, 100, 100, 100, 100, 100};
    nm_write_job job = {.results = r, .revisions = stored, .n = N_RESULTS, .ingested_unix_ms = 1,
                        .status = status, .errors = errors};
    assert_true(nm_writer_start(w, &job));
    await_job(w);
    assert_int_equal(job.rc, 0);
    int64_t again[N_RESULTS] = {50, 100, 150, 99, 100, 101};
    job.revisions = again;
    for (int one_by_one = 0; one_by_one < 2; one_by_one++) {
        job.one_by_one = one_by_one;
        assert_true(nm_writer_start(w, &job));
        await_job(w);
        assert_int_equal(job.rc, 0);
        for (size_t i = 0; i < N_RESULTS; i++)
            if (status[i] != (i % 3 == 0 ? NM_WRITE_STALE : NM_WRITE_COMMITTED))
                fail_msg("%s: result %zu at revision %lld: status %d",
                         one_by_one ? "one by one" : "batch", i, (long long)again[i],
                         (int)status[i]);
    }
    nm_writer_destroy(&w);
    assert_int_equal(count_articles("stale.db"), N_RESULTS);
    free_results(r, N_RESULTS);
}

/* Interrupted (a worker exiting at once): nothing of the job is stored,
 * and destroying the writer does not hang. */
static void interrupt_stops_the_job(void **state)
{
    (void)state;
    nm_writer *w = open_writer("interrupt.db");
    nm_writer_interrupt(w);
    nm_extract_result *r[N_RESULTS];
    make_results("i", r, N_RESULTS);
    nm_write_status status[N_RESULTS];
    nm_error errors[N_RESULTS];
    nm_write_job job = {.results = r, .n = N_RESULTS, .ingested_unix_ms = 1, .status = status,
                        .errors = errors};
    assert_true(nm_writer_start(w, &job));
    await_job(w);
    assert_int_equal(job.rc, -1);
    for (size_t i = 0; i < N_RESULTS; i++)
        assert_int_equal(status[i], NM_WRITE_PENDING);
    nm_writer_destroy(&w);
    assert_int_equal(count_articles("interrupt.db"), 0);
    free_results(r, N_RESULTS);
}

int main(void)
{
    nm_error err;
    extractor = nm_extractor_new(NULL, &err);
    if (!extractor) {
        fprintf(stderr, "extractor: %s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_with_an_invalid_result),
        cmocka_unit_test(busy_then_one_by_one),
        cmocka_unit_test(interrupt_stops_the_job),
        cmocka_unit_test(stale_revisions),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nm_extractor_destroy(&extractor);
    return failed;
}

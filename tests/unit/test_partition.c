/* nm_partition: time partitions on real files: names, routing (grace, a
 * clock set back, a restart), replacing an id across partitions and slots,
 * refusing a bad file, a full disk while creating one, and retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nm_extract.h"
#include "nm_partition.h"
#include "nm_store.h"
#include "nm_test.h"

#define DAY 86400000LL
#define T0 (20000 * DAY) /* 2024-10-04T00:00:00Z */

static nm_extractor *extractor;

static nm_extract_result *make(const char *id, const char *words)
{
    char body[256];
    snprintf(body, sizeof body, "Story %s\n\nIbrahim Kalın met officials in Ankara. %s", id, words);
    nm_extract_input in = {.body = body, .len = strlen(body), .content_type = NM_CONTENT_TEXT,
                           .id = id};
    nm_extract_result *r;
    nm_error err;
    if (nm_extract(extractor, &in, &r, &err) < 0)
        fail_msg("extract: %s", err.msg);
    return r;
}

static nm_partitions *open_dir(const char *dir, int64_t period)
{
    nm_partition_options o = {.dir = nm_test_path(dir), .period_ms = period, .grace_ms = 60000};
    nm_error err;
    nm_partitions *p = nm_partitions_open_dir(&o, &err);
    if (!p)
        fail_msg("open %s: %s", dir, err.msg);
    return p;
}

/* One job: put (id, revision) at time t; returns the outcome. */
static nm_store_put_outcome put_at(nm_partitions *p, int64_t t, const char *id, int64_t revision)
{
    nm_error err;
    nm_store_put_outcome out;
    nm_extract_result *r = make(id, "Talks went on.");
    if (nm_partitions_begin(p, t, &err) < 0 || nm_partitions_put(p, r, revision, &out, &err) < 0 ||
        nm_partitions_commit(p, &err) < 0)
        fail_msg("put %s at %lld: %s", id, (long long)t, err.msg);
    nm_extract_result_free(&r);
    return out;
}

/* The partition file of slot w1 starting at start, in dir. */
static const char *file_of(const char *dir, int64_t start, int64_t period, const char *owner)
{
    static char path[4096];
    char name[128];
    nm_partition_name n = {.start_ms = start, .period_ms = period};
    snprintf(n.owner, sizeof n.owner, "%s", owner);
    assert_true(nm_partition_format(name, sizeof name, &n));
    snprintf(path, sizeof path, "%s/%s", nm_test_path(dir), name);
    return path;
}

/* Rows of id in the file (-1: no file); *ingested its ingestion time. */
static int64_t rows_of(const char *path, const char *id, int64_t *ingested)
{
    if (access(path, F_OK) != 0)
        return -1;
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), max(ingested_unix_ms) FROM article_rows"
                                        " WHERE id = ?1 OR ?1 IS NULL",
                                        -1, &st, NULL),
                     SQLITE_OK);
    if (id)
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    if (ingested)
        *ingested = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void names(void **state)
{
    (void)state;
    char buf[128];
    nm_partition_name n = {.start_ms = T0, .period_ms = DAY, .owner = "w2"}, back;
    assert_true(nm_partition_format(buf, sizeof buf, &n));
    assert_string_equal(buf, "results-20241004T000000Z-1d-w2.db");
    assert_true(nm_partition_parse("/x/y/results-20241004T000000Z-1d-w2.db", &back));
    assert_int_equal(back.start_ms, T0);
    assert_int_equal(back.period_ms, DAY);
    assert_string_equal(back.owner, "w2");
    n = (nm_partition_name){.start_ms = T0 + 3600000, .period_ms = 3600000};
    assert_true(nm_partition_format(buf, sizeof buf, &n));
    assert_string_equal(buf, "results-20241004T010000Z-1h.db");
    assert_true(nm_partition_parse(buf, &back));
    assert_int_equal(back.start_ms, T0 + 3600000);
    assert_string_equal(back.owner, "");
    const char *not_partitions[] = {"results.db", "results-2024.db", "results-20241004T000000Z-1x.db",
                                    "results-20241004T000000Z-1d.db-wal", "ids-w1.db",
                                    "results-20241004T000000Z-0d.db"};
    for (size_t i = 0; i < sizeof not_partitions / sizeof *not_partitions; i++)
        assert_false(nm_partition_parse(not_partitions[i], &back));
    assert_int_equal(nm_partition_start(T0 + 5, DAY), T0);
    assert_int_equal(nm_partition_start(-5, DAY), -DAY);
}

/* Jobs go to their period's file; the previous stays writable for the
 * grace; a clock set back (or a job past the grace) goes to the current
 * file with the ingestion time raised to its start; a restarted writer
 * finds its slot and, with the clock still back, its newest file. */
static void routing_and_clock(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("route", DAY);
    assert_string_equal(nm_partitions_slot(p), "w1");
    put_at(p, T0 + 1000, "a", 0);
    put_at(p, T0 + DAY + 1000, "b", 0); /* next day: a new file */
    put_at(p, T0 + 2000, "c", 0);       /* late, within the grace: the previous file */
    int64_t ing = 0;
    assert_int_equal(rows_of(file_of("route", T0, DAY, "w1"), NULL, NULL), 2);
    assert_int_equal(rows_of(file_of("route", T0 + DAY, DAY, "w1"), "b", NULL), 1);
    put_at(p, T0 + DAY + 120000, "d", 0); /* past the grace: the previous file closes */
    put_at(p, T0 + 3000, "e", 0);         /* so this one goes to the current file */
    assert_int_equal(rows_of(file_of("route", T0 + DAY, DAY, "w1"), "e", &ing), 1);
    assert_int_equal(ing, T0 + DAY);      /* raised to the file's start */
    put_at(p, T0 - 5 * DAY, "f", 0);      /* the clock set back days */
    assert_int_equal(rows_of(file_of("route", T0 + DAY, DAY, "w1"), "f", &ing), 1);
    assert_int_equal(ing, T0 + DAY);
    assert_int_equal(rows_of(file_of("route", T0 - 5 * DAY, DAY, "w1"), NULL, NULL), -1);
    nm_partitions_close(&p);

    p = open_dir("route", DAY); /* restarted, clock still back */
    assert_string_equal(nm_partitions_slot(p), "w1");
    put_at(p, T0 - 4 * DAY, "g", 0);
    assert_int_equal(rows_of(file_of("route", T0 + DAY, DAY, "w1"), NULL, NULL), 5);
    nm_partitions *second = open_dir("route", DAY); /* a second writer: its own slot */
    assert_string_equal(nm_partitions_slot(second), "w2");
    put_at(second, T0 + DAY + 5, "h", 0);
    assert_int_equal(rows_of(file_of("route", T0 + DAY, DAY, "w2"), "h", NULL), 1);
    nm_partitions_close(&second);
    nm_partitions_close(&p);
    /* nothing lost: a, c in day 0; b, d, e, f, g in day 1 (w1); h (w2) */
    assert_int_equal(rows_of(file_of("route", T0, DAY, "w1"), NULL, NULL) +
                         rows_of(file_of("route", T0 + DAY, DAY, "w1"), NULL, NULL) +
                         rows_of(file_of("route", T0 + DAY, DAY, "w2"), NULL, NULL),
                     8);
}

/* An id stored again replaces the row in an older period's file and in
 * another slot's file; an older revision is stale wherever the newer is. */
static void replace_across(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("repl", DAY);
    nm_partitions *q = open_dir("repl", DAY);
    const char *d0 = strdup(file_of("repl", T0, DAY, "w1"));
    const char *d3 = strdup(file_of("repl", T0 + 3 * DAY, DAY, "w1"));
    const char *d5 = strdup(file_of("repl", T0 + 5 * DAY, DAY, "w2"));
    assert_int_equal(put_at(p, T0 + 10, "x", 3), NM_STORE_STORED);
    assert_int_equal(put_at(p, T0 + 3 * DAY, "x", 4), NM_STORE_STORED);
    assert_int_equal(rows_of(d0, "x", NULL), 0); /* moved to day 3 */
    assert_int_equal(rows_of(d3, "x", NULL), 1);
    assert_int_equal(put_at(p, T0 + 3 * DAY + 5, "x", 2), NM_STORE_STALE); /* same file */
    assert_int_equal(put_at(q, T0 + 5 * DAY, "x", 2), NM_STORE_STALE);     /* other slot, older */
    assert_int_equal(rows_of(d5, "x", NULL), 0);
    assert_int_equal(rows_of(d3, "x", NULL), 1);
    assert_int_equal(put_at(q, T0 + 5 * DAY + 5, "x", 4), NM_STORE_STORED); /* redelivery */
    assert_int_equal(rows_of(d3, "x", NULL), 0);
    assert_int_equal(rows_of(d5, "x", NULL), 1);
    assert_int_equal(put_at(p, T0 + 5 * DAY + 9, "x", 0), NM_STORE_STORED); /* 0: replaces all */
    assert_int_equal(rows_of(d5, "x", NULL), 0);
    assert_int_equal(rows_of(file_of("repl", T0 + 5 * DAY, DAY, "w1"), "x", NULL), 1);
    nm_partitions_close(&q);
    nm_partitions_close(&p);
    free((void *)d0);
    free((void *)d3);
    free((void *)d5);
}

/* A result the store refuses (invalid) stores nothing and removes nothing:
 * the earlier row in another partition stays. */
static void invalid_keeps_earlier(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("inv", DAY);
    assert_int_equal(put_at(p, T0 + 10, "kept", 1), NM_STORE_STORED);
    nm_extract_result *r = make("kept", "A newer body.");
    assert_true(r->n_mentions > 0);
    r->mentions[0].entity = (uint32_t)r->n_entities; /* out of range: refused */
    nm_error err;
    nm_store_put_outcome out;
    assert_int_equal(nm_partitions_begin(p, T0 + 2 * DAY, &err), 0);
    assert_int_equal(nm_partitions_put(p, r, 2, &out, &err), -1);
    assert_int_equal(err.code, NM_ERR_INVALID);
    assert_int_equal(nm_partitions_commit(p, &err), 0);
    assert_int_equal(rows_of(file_of("inv", T0, DAY, "w1"), "kept", NULL), 1);
    r->mentions[0].entity = 0;
    nm_extract_result_free(&r);
    nm_partitions_close(&p);
}

/* A corrupt partition and one of a newer schema are refused with the file
 * and the reason, as a transient error (the worker holds its articles). */
static void refuses_bad_files(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("bad", DAY);
    nm_test_write_file(file_of("bad", T0, DAY, "w1"), "this is not a database, not at all....",
                       38);
    nm_error err;
    assert_int_equal(nm_partitions_begin(p, T0 + 1, &err), -1);
    assert_true(nm_store_error_is_transient(err.code));
    assert_non_null(strstr(err.msg, "refusing to write into"));
    assert_non_null(strstr(err.msg, "results-20241004T000000Z-1d-w1.db"));
    put_at(p, T0 + DAY, "ok", 0); /* the next day's file is fine */

    sqlite3 *db; /* a newer schema */
    assert_int_equal(sqlite3_open(file_of("bad", T0 + 2 * DAY, DAY, "w1"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(nm_partitions_begin(p, T0 + 2 * DAY, &err), -1);
    assert_true(nm_store_error_is_transient(err.code));
    assert_non_null(strstr(err.msg, "refusing to write into"));
    assert_non_null(strstr(err.msg, "99"));
    nm_partitions_close(&p);
}

/* The disk fills while a new partition is created: a transient error, and
 * the same job succeeds once there is room. */
static void full_disk_at_creation(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("full", DAY);
    nm_extract_result *r = make("z", "More words.");
    nm_error err;
    struct rlimit old, small = {.rlim_cur = 2048, .rlim_max = RLIM_INFINITY};
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    small.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = nm_partitions_begin(p, T0, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(rc, -1);
    assert_true(nm_store_error_is_transient(err.code));
    nm_store_put_outcome out;
    assert_int_equal(nm_partitions_begin(p, T0 + 5, &err), 0);
    assert_int_equal(nm_partitions_put(p, r, 0, &out, &err), 0);
    assert_int_equal(nm_partitions_commit(p, &err), 0);
    assert_int_equal(rows_of(file_of("full", T0, DAY, "w1"), "z", NULL), 1);
    nm_extract_result_free(&r);
    nm_partitions_close(&p);
}

static int removed_count;
static void count_removed(void *ctx, const char *path, int64_t bytes)
{
    (void)ctx;
    assert_non_null(strstr(path, "results-"));
    assert_true(bytes > 0);
    removed_count++;
}

/* Prune removes closed partitions older than the cutoff, never one a writer
 * has open, nor files that are not partitions; their id rows go too. */
static void prune(void **state)
{
    (void)state;
    nm_partitions *p = open_dir("prune", DAY);
    for (int d = 0; d < 4; d++)
        put_at(p, T0 + d * DAY + 7, d == 1 ? "again" : "once", 0); /* "once" moves along */
    nm_test_write_file(nm_test_path("prune/results.db"), "", 0);
    nm_error err;
    /* the writer still has day 2 (previous, in grace) and day 3 open */
    removed_count = 0;
    int n = nm_partition_prune(nm_test_path("prune"), T0 + 10 * DAY, count_removed, NULL, &err);
    assert_int_equal(n, 2);
    assert_int_equal(removed_count, 2);
    assert_int_equal(rows_of(file_of("prune", T0, DAY, "w1"), NULL, NULL), -1);
    assert_int_equal(rows_of(file_of("prune", T0 + DAY, DAY, "w1"), NULL, NULL), -1);
    assert_int_equal(rows_of(file_of("prune", T0 + 2 * DAY, DAY, "w1"), NULL, NULL), 0);
    assert_int_equal(rows_of(file_of("prune", T0 + 3 * DAY, DAY, "w1"), NULL, NULL), 1);
    assert_int_equal(access(nm_test_path("prune/results.db"), F_OK), 0);
    /* "again" was only in day 1: put again, nothing to replace, no warning */
    assert_int_equal(put_at(p, T0 + 3 * DAY + 9, "again", 0), NM_STORE_STORED);
    nm_partitions_close(&p);
    n = nm_partition_prune(nm_test_path("prune"), T0 + 3 * DAY, NULL, NULL, &err);
    assert_int_equal(n, 1); /* day 2, closed now; day 3 ends after the cutoff */
    assert_int_equal(nm_partition_prune(nm_test_path("nowhere"), 0, NULL, NULL, &err), -1);
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
        cmocka_unit_test(names),
        cmocka_unit_test(routing_and_clock),
        cmocka_unit_test(replace_across),
        cmocka_unit_test(invalid_keeps_earlier),
        cmocka_unit_test(refuses_bad_files),
        cmocka_unit_test(full_disk_at_creation),
        cmocka_unit_test(prune),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nm_extractor_destroy(&extractor);
    return rc;
}

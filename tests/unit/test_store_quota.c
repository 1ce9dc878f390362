/* --db-max-size bounds the results database's WAL too: a reader that holds
 * an old snapshot open blocks every checkpoint, so without a bound the WAL
 * grows with every batch. With the quota, writes stop with NM_ERR_DISK_FULL
 * (the worker's disk-full state) once the WAL is over its share, and resume,
 * with the WAL cut back, once the reader lets go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nm_arena.h"
#include "nm_store.h"
#include "nm_test.h"

enum { BATCH = 8, TEXT_BYTES = 16 << 10, QUOTA = 4 << 20, ROUNDS = 200 };

static int64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A stored article: an id, a title and a text of one sentence. */
static nm_extract_result *article(const char *id, int round)
{
    nm_arena *arena = nm_arena_new(0);
    nm_extract_result *r = nm_arena_calloc(arena, 1, sizeof *r);
    r->arena = arena;
    r->id = nm_arena_strndup(arena, id, strlen(id));
    r->source = "test";
    r->content_type = "text";
    r->title = "Quota";
    r->language = "en";
    char *text = nm_arena_calloc(arena, TEXT_BYTES + 1, 1);
    for (size_t n = 0; n < TEXT_BYTES;)
        n += (size_t)snprintf(text + n, TEXT_BYTES + 1 - n, "round%d word%zu ", round, n);
    r->text = text;
    r->text_len = TEXT_BYTES;
    r->sentences = nm_arena_calloc(arena, 1, sizeof *r->sentences);
    r->sentences[0].span = (nm_span){0, TEXT_BYTES};
    r->n_sentences = 1;
    r->n_paragraphs = 1;
    r->counts.bytes = TEXT_BYTES;
    r->counts.sentences = 1;
    r->counts.paragraphs = 1;
    return r;
}

/* One batch replacing the same BATCH ids: the data stays the same size, only
 * the WAL can grow. */
static int put_round(nm_store *s, int round, nm_error *err)
{
    nm_extract_result *results[BATCH];
    char id[32];
    for (int i = 0; i < BATCH; i++) {
        snprintf(id, sizeof id, "quota-%d", i);
        results[i] = article(id, round);
    }
    int rc = nm_store_put_batch(s, (const nm_extract_result *const *)results, BATCH, 0, err);
    for (int i = 0; i < BATCH; i++)
        nm_extract_result_free(&results[i]);
    return rc;
}

static void wal_bounded_under_quota(void **state)
{
    (void)state;
    const char *db = nm_test_path("results.db");
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", db);
    nm_store_options opts = {.max_bytes = QUOTA};
    nm_error err;
    nm_store *s = nm_store_open(db, &opts, &err);
    assert_non_null(s);
    assert_int_equal(put_round(s, 0, &err), 0);

    /* A reader (a `newsmill query`, a backup) keeps its snapshot open. */
    sqlite3 *reader;
    assert_int_equal(sqlite3_open_v2(db, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM article_rows;", NULL, NULL,
                                  NULL),
                     SQLITE_OK);

    int64_t max_growth = 0, max_wal = 0;
    int round = 1;
    int rc = 0;
    for (; round <= ROUNDS; round++) {
        int64_t before = file_bytes(wal);
        rc = put_round(s, round, &err);
        int64_t after = file_bytes(wal);
        if (after - before > max_growth)
            max_growth = after - before;
        if (after > max_wal)
            max_wal = after;
        if (rc != 0)
            break;
    }
    /* The WAL's share of the quota is a quarter; a batch that starts under
     * it may end over it, and one more may start when the WAL looked
     * checkpointed: at most two batches over. */
    int64_t bound = QUOTA / 4 + 2 * max_growth;
    printf("WAL peaked at %lld bytes (bound %lld: quota/4 + 2 x %lld per batch) after %d "
           "rounds; %s\n",
           (long long)max_wal, (long long)bound, (long long)max_growth, round,
           rc ? err.msg : "no error");
    if (rc == 0)
        fail_msg("%d batches with a snapshot held open and never a quota error; the WAL is %lld "
                 "bytes for a quota of %d",
                 ROUNDS, (long long)file_bytes(wal), QUOTA);
    assert_int_equal(err.code, NM_ERR_DISK_FULL);
    assert_true(nm_store_error_is_transient(err.code));
    assert_true(max_wal <= bound);
    /* Refused again while the reader stays... */
    assert_int_equal(put_round(s, round, &err), -1);
    assert_int_equal(err.code, NM_ERR_DISK_FULL);
    /* ...and accepted once it lets go; the WAL is cut back to its share. */
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(reader);
    assert_int_equal(put_round(s, round + 1, &err), 0);
    assert_int_equal(put_round(s, round + 2, &err), 0);
    assert_true(file_bytes(wal) <= QUOTA / 4 + max_growth);
    nm_store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wal_bounded_under_quota),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

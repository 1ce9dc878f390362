/* The search snippet (nm_snippet, store/nm_store_snippet.c) is FTS5's
 * snippet(), only cheaper: over a few hundred BBC articles written by the
 * real extractor and store, every row of nm_store_query_search for a table
 * of queries (words, phrases, prefixes, OR, NEAR, column filters, words
 * only in titles, a word in every article, several phrases in one window)
 * carries the very text snippet(articles_fts, 1, '[', ']', '…', 10) gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_store.h"
#include "nm_store_query.h"
#include "nm_test.h"
#include "nm_time.h"

#define PER_TOPIC 120

/* Writes PER_TOPIC articles of each BBC topic into a new results database;
 * its path. */
static const char *write_corpus(const char *shared)
{
    static const char *const topics[] = {"business", "entertainment", "politics", "sport", "tech"};
    const char *db = nm_test_path("snippet.db");
    nm_error err;
    nm_extractor_config cfg = {.recognizer = "rules"};
    nm_extractor *ex = nm_extractor_new(&cfg, &err);
    if (!ex)
        fail_msg("extractor: %s", err.msg);
    nm_store_options so = {.sync_normal = true};
    nm_store *store = nm_store_open(db, &so, &err);
    if (!store)
        fail_msg("store: %s", err.msg);
    size_t n = 0;
    for (size_t t = 0; t < 5; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/corpus/bbc/%s", shared, topics[t]);
        for (int i = 1; i <= PER_TOPIC; i++) {
            char path[1100], id[64];
            snprintf(path, sizeof path, "%s/%03d.txt", dir, i);
            snprintf(id, sizeof id, "%s-%03d", topics[t], i);
            size_t len;
            char *body = nm_test_read_file(path, &len);
            if (!body)
                continue;
            nm_extract_input in = {.id = id, .body = body, .len = len};
            nm_extract_result *r;
            if (nm_extract(ex, &in, &r, &err) < 0)
                fail_msg("%s: %s", path, err.msg);
            if (nm_store_put_batch(store, (const nm_extract_result *const *)&r, 1, nm_time_unix_ms(),
                                   &err) < 0)
                fail_msg("%s: %s", path, err.msg);
            nm_extract_result_free(&r);
            free(body);
            n++;
        }
    }
    assert_true(n >= 5 * PER_TOPIC - 5);
    nm_store_close(&store);
    nm_extractor_destroy(&ex);
    return db;
}

static void same_as_fts5_snippet(void **state)
{
    (void)state;
    const char *shared = nm_test_shared_dir();
    if (!shared)
        nm_test_skip("the BBC corpus is in ../shared");
    const char *path = write_corpus(shared);
    static const char *const queries[] = {
        "economy", "\"prime minister\"", "film", "election", "mobile phone", "chelsea",
        "music OR album", "govern*", "oil prices", "broadband", "blair", "champions league",
        "games", "tax", "microsoft", "the", "a", "said", "title:economy", "body:film",
        "NEAR(oil price*, 3)", "\"the company\" profits", "us OR uk OR eu", "brown NOT blair",
        "year", "2004", "win* OR los*", "\"said the\"", "chief executive officer",
        "of the in to and", "first", "mr", "bbc news", "labour conservative liberal",
    };
    nm_error err;
    nm_store_query *q = nm_store_query_open(path, NULL, &err);
    if (!q)
        fail_msg("open: %s", err.msg);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(nm_store_register_functions(db, NULL), 0); /* articles.body is computed */
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT snippet(articles_fts, 1, '[', ']', '…', 10) FROM articles_fts"
                           " JOIN articles a ON a.article = articles_fts.rowid"
                           " WHERE articles_fts MATCH ?1 AND a.id = ?2",
                           -1, &st, NULL),
        SQLITE_OK);
    size_t compared = 0, ellipsis_both = 0;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        nm_store_query_page page = {.limit = 1000};
        json_object *rows = nm_store_query_search(q, queries[i], &page, NM_STORE_QUERY_STRICT, &err);
        if (!rows)
            fail_msg("%s: %s", queries[i], err.msg);
        if (json_object_array_length(rows) == 0)
            fail_msg("no hit for '%s'", queries[i]);
        for (size_t r = 0; r < json_object_array_length(rows); r++) {
            json_object *row = json_object_array_get_idx(rows, r), *v;
            assert_true(json_object_object_get_ex(row, "id", &v));
            const char *id = json_object_get_string(v);
            assert_true(json_object_object_get_ex(row, "snippet", &v));
            const char *got = json_object_get_string(v);
            sqlite3_bind_text(st, 1, queries[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            const char *want = (const char *)sqlite3_column_text(st, 0);
            if (strcmp(got, want))
                fail_msg("query '%s', article %s:\n  nm_snippet: %s\n  snippet:    %s", queries[i],
                         id, got, want);
            ellipsis_both += !strncmp(want, "…", 3) && strstr(want + 3, "…") != NULL;
            sqlite3_reset(st);
            compared++;
        }
        json_object_put(rows);
    }
    printf("%zu snippets equal to FTS5's (%zu cut at both ends)\n", compared, ellipsis_both);
    assert_true(compared > 2000 && ellipsis_both > 100);
    sqlite3_finalize(st);
    sqlite3_close(db);
    nm_store_query_close(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_fts5_snippet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The read side over time partitions answers as over one file: the same
 * articles (the bundled samples/, each several times, and generated
 * stories) written once into a single results database and once into daily
 * partitions by two writer slots, with the same ingestion times; then every
 * question, with and without a window of ingestion time, compared. Also:
 * partitions outside the window are not read (a planted row shows it), a
 * corrupt and a newer-schema partition are skipped with a warning, several
 * directories are read as one, and `newsmill query --dir A,B` and
 * `newsmill export --until` work over them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "nm_extract.h"
#include "nm_partition.h"
#include "nm_store.h"
#include "nm_store_query.h"
#include "nm_test.h"

#define DAY 86400000LL
#define T0 (20000 * DAY)
#define N_DAYS 5
#define N_GENERATED 150

static nm_extractor *extractor;

static const char *people[] = {"Ibrahim Kalın", "Angela Merkel", "Joseph Mwangi", "Maria Silva",
                               "John Smith", "Olaf Scholz"};
static const char *places[] = {"Ankara", "Berlin", "Nairobi", "Lagos", "São Paulo", "Istanbul"};
static const char *orgs[] = {"the United Nations", "Hamas", "the European Union", "Siemens",
                             "Kenya Railways"};

typedef struct article {
    nm_extract_result *r;
    int64_t ingested;
} article;

static article arts[64 + N_GENERATED];
static size_t n_arts;

static void add(const char *id, const char *body, size_t len, nm_content_type type)
{
    /* spread over N_DAYS days, several per day, out of order; published an
     * hour before */
    int64_t ingested = T0 + (int64_t)((n_arts * 7) % N_DAYS) * DAY + (int64_t)n_arts * 1000;
    nm_extract_input in = {.body = body, .len = len, .content_type = type, .id = id,
                           .source = "test", .published_unix_ms = ingested - 3600000};
    nm_error err;
    if (nm_extract(extractor, &in, &arts[n_arts].r, &err) < 0)
        fail_msg("extract %s: %s", id, err.msg);
    arts[n_arts].ingested = ingested;
    n_arts++;
}

static void make_articles(void)
{
    static const char *files[] = {"ankara-water-talks.txt", "berlin-radwege.txt",
                                  "harbour-storm-report.html", "istanbul-vapur.txt",
                                  "lagos-fintech.html", "sao-paulo-metro.html",
                                  "wind-farm-regional.txt", "wind-farm-wire.txt"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/samples/%s", nm_test_source_dir(), files[f]);
        size_t len;
        char *body = nm_test_read_file(path, &len);
        bool html = strstr(files[f], ".html") != NULL;
        for (int k = 0; k < 3; k++) { /* the same story three times: exact duplicates */
            char id[128];
            snprintf(id, sizeof id, "%s#%d", files[f], k);
            add(id, body, len, html ? NM_CONTENT_HTML : NM_CONTENT_TEXT);
        }
        free(body);
    }
    for (int i = 0; i < N_GENERATED; i++) {
        char id[64], body[1024];
        snprintf(id, sizeof id, "gen-%03d", i);
        snprintf(body, sizeof body,
                 "Talks number %d in %s\n\n%s met officials of %s in %s on Monday. "
                 "The meeting about water and trains went on late into the night. "
                 "%s said later that %s would send a delegation to %s next week.",
                 i, places[i % 6], people[i % 6], orgs[i % 5], places[i % 6], people[(i + 1) % 6],
                 orgs[(i + 2) % 5], places[(i + 3) % 6]);
        add(id, body, strlen(body), NM_CONTENT_TEXT);
    }
}

static void write_single(const char *path)
{
    nm_error err;
    nm_store_options o = {.sync_normal = true};
    nm_store *s = nm_store_open(path, &o, &err);
    assert_non_null(s);
    for (size_t i = 0; i < n_arts; i++) {
        assert_int_equal(nm_store_begin(s, &err), 0);
        assert_int_equal(nm_store_put(s, arts[i].r, 0, arts[i].ingested, NULL, &err), 0);
        assert_int_equal(nm_store_commit(s, &err), 0);
    }
    nm_store_close(&s);
}

/* Two slots, each article by one of them, one job per article. */
static void write_partitioned(const char *dir)
{
    nm_error err;
    nm_partition_options o = {.dir = dir, .period_ms = DAY, .grace_ms = 1000,
                              .store = {.sync_normal = true}};
    nm_partitions *w[2] = {nm_partitions_open_dir(&o, &err), nm_partitions_open_dir(&o, &err)};
    assert_non_null(w[0]);
    assert_non_null(w[1]);
    /* in ingestion order per slot (a writer's clock goes forward) */
    for (int d = 0; d < N_DAYS; d++)
        for (size_t i = 0; i < n_arts; i++) {
            if (nm_partition_start(arts[i].ingested, DAY) != T0 + d * DAY)
                continue;
            nm_partitions *p = w[i % 2];
            assert_int_equal(nm_partitions_begin(p, arts[i].ingested, &err), 0);
            assert_int_equal(nm_partitions_put(p, arts[i].r, 0, NULL, &err), 0);
            assert_int_equal(nm_partitions_commit(p, &err), 0);
        }
    nm_partitions_close(&w[0]);
    nm_partitions_close(&w[1]);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rows as a sorted list of their JSON texts, without "db" (which file) and
 * "score" (bm25 weighs words by their frequency in each file). */
static char *canonical(json_object *rows)
{
    assert_non_null(rows);
    size_t n = json_object_array_length(rows);
    char **texts = calloc(n + 1, sizeof *texts);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        json_object *row = json_object_array_get_idx(rows, i);
        json_object_object_del(row, "db");
        json_object_object_del(row, "score");
        texts[i] = strdup(json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN));
        total += strlen(texts[i]) + 1;
    }
    qsort(texts, n, sizeof *texts, cmp_str);
    char *out = calloc(total, 1);
    for (size_t i = 0; i < n; i++) {
        strcat(out, texts[i]);
        strcat(out, "\n");
        free(texts[i]);
    }
    free(texts);
    json_object_put(rows);
    return out;
}

static void same(const char *what, char *a, char *b, bool want_rows)
{
    if (strcmp(a, b) != 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/one-file.txt", nm_test_tmpdir());
        nm_test_write_file(path, a, strlen(a));
        snprintf(path, sizeof path, "%s/partitions.txt", nm_test_tmpdir());
        nm_test_write_file(path, b, strlen(b));
        snprintf(path, sizeof path, "diff %s/one-file.txt %s/partitions.txt | head -20 >&2",
                 nm_test_tmpdir(), nm_test_tmpdir());
        if (system(path) != 0)
            fprintf(stderr, "(diff failed)\n");
    }
    if (strcmp(a, b) != 0)
        fail_msg("%s differs:\n--- one file ---\n%s\n--- partitions ---\n%s", what, a, b);
    if (want_rows && !*a)
        fail_msg("%s: no rows at all (the comparison would prove nothing)", what);
    free(a);
    free(b);
}

struct ids {
    char **v;
    size_t n;
};

static int collect_id(void *ctx, const char *id)
{
    struct ids *ids = ctx;
    ids->v = realloc(ids->v, (ids->n + 1) * sizeof *ids->v);
    ids->v[ids->n++] = strdup(id);
    return 0;
}

static char *each_ids(nm_store_query *q, const char *text, const nm_store_query_page *page)
{
    struct ids ids = {0};
    nm_error err;
    assert_int_equal(nm_store_query_each(q, text, page, collect_id, &ids, &err), 0);
    qsort(ids.v, ids.n, sizeof *ids.v, cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < ids.n; i++)
        total += strlen(ids.v[i]) + 1;
    char *out = calloc(total, 1);
    for (size_t i = 0; i < ids.n; i++) {
        strcat(out, ids.v[i]);
        strcat(out, "\n");
        free(ids.v[i]);
    }
    free(ids.v);
    return out;
}

/* Every question on a and b, in page's window. */
static void compare_all(nm_store_query *a, nm_store_query *b, const nm_store_query_page *page,
                        bool windowed)
{
    nm_error err;
    char what[128];
    const char *searches[] = {"water", "\"late into the night\"", "Berlin OR Nairobi", "tra*"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(what, sizeof what, "search %s", searches[i]);
        same(what, canonical(nm_store_query_search(a, searches[i], page, 0, &err)),
             canonical(nm_store_query_search(b, searches[i], page, 0, &err)), true);
    }
    const char *names[][2] = {{"Merkel", NULL}, {"Ankara", NULL}, {"Kalın", "Hamas"}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = names[i][1] ? 2 : 1;
        snprintf(what, sizeof what, "entity %s", names[i][0]);
        same(what, canonical(nm_store_query_entity(a, names[i], n, page, &err)),
             canonical(nm_store_query_entity(b, names[i], n, page, &err)), true);
    }
    const char *types[] = {"person", "place", "organisation"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "top %s", types[i]);
        same(what, canonical(nm_store_query_top(a, types[i], page, &err)),
             canonical(nm_store_query_top(b, types[i], page, &err)), true);
    }
    same("latest", canonical(nm_store_query_latest(a, page, &err)),
         canonical(nm_store_query_latest(b, page, &err)), true);
    same("timeline", canonical(nm_store_query_timeline(a, "Ankara", 3600000, page, &err)),
         canonical(nm_store_query_timeline(b, "Ankara", 3600000, page, &err)), true);
    same("cooccurring", canonical(nm_store_query_cooccurring(a, "Ankara", page, &err)),
         canonical(nm_store_query_cooccurring(b, "Ankara", page, &err)), true);
    same("each", each_ids(a, NULL, page), each_ids(b, NULL, page), true);
    same("each water", each_ids(a, "water", page), each_ids(b, "water", page), true);
    if (windowed)
        return;
    same("dups", canonical(nm_store_query_dups(a, "berlin-radwege.txt#0", 3, 0.5, page, &err)),
         canonical(nm_store_query_dups(b, "berlin-radwege.txt#0", 3, 0.5, page, &err)), true);
    const char *ids[] = {"gen-007", "lagos-fintech.html#2", "ankara-water-talks.txt#1"};
    for (size_t i = 0; i < 3; i++) {
        json_object *x = nm_store_query_article(a, ids[i], &err);
        json_object *y = nm_store_query_article(b, ids[i], &err);
        assert_non_null(x);
        assert_non_null(y);
        json_object_object_del(y, "db");
        same(ids[i], strdup(json_object_to_json_string_ext(x, JSON_C_TO_STRING_PRETTY)),
             strdup(json_object_to_json_string_ext(y, JSON_C_TO_STRING_PRETTY)), true);
        json_object_put(x);
        json_object_put(y);
    }
}

static void same_answers(void **state)
{
    (void)state;
    char single[4096], dir[4096];
    snprintf(single, sizeof single, "%s/one/results.db", nm_test_tmpdir());
    snprintf(dir, sizeof dir, "%s/parts", nm_test_tmpdir());
    write_single(single);
    write_partitioned(dir);
    nm_error err;
    nm_store_query *a = nm_store_query_open(single, NULL, &err);
    nm_store_query *b = nm_store_query_open(NULL, dir, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(nm_store_query_databases(b), 2 * N_DAYS);
    nm_store_query_page all = {.limit = 1000};
    compare_all(a, b, &all, false);
    nm_store_query_page window = {.limit = 1000, .since_unix_ms = T0 + DAY + 5000,
                                  .until_unix_ms = T0 + 3 * DAY + 3600000};
    compare_all(a, b, &window, true);
    /* pages of a list come out the same too (distinct keys: latest) */
    for (int64_t off = 0; off < 40; off += 7) {
        nm_store_query_page pg = {.limit = 7, .offset = off};
        json_object *x = nm_store_query_latest(a, &pg, &err), *y = nm_store_query_latest(b, &pg, &err);
        for (size_t i = 0; i < 7; i++)
            assert_string_equal(
                json_object_get_string(json_object_object_get(json_object_array_get_idx(x, i), "id")),
                json_object_get_string(json_object_object_get(json_object_array_get_idx(y, i), "id")));
        json_object_put(x);
        json_object_put(y);
    }
    nm_store_query_close(&a);
    nm_store_query_close(&b);
}

/* A row planted in day 0's file with a time of day 4: a window on day 4
 * does not find it (day 0's file is not read), the whole range does. */
static void skips_by_name(void **state)
{
    (void)state;
    char dir[4096], file[4096], name[128];
    snprintf(dir, sizeof dir, "%s/parts", nm_test_tmpdir());
    nm_partition_name n = {.start_ms = T0, .period_ms = DAY, .owner = "w1"};
    nm_partition_format(name, sizeof name, &n);
    snprintf(file, sizeof file, "%s/%s", dir, name);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(file, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE article_rows SET ingested_unix_ms = %lld WHERE id = "
             "(SELECT min(id) FROM article_rows)", (long long)(T0 + 4 * DAY + 1));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    nm_error err;
    nm_store_query *q = nm_store_query_open(NULL, dir, &err);
    nm_store_query_page day4 = {.limit = 1000, .since_unix_ms = T0 + 4 * DAY,
                                .until_unix_ms = T0 + 5 * DAY};
    nm_store_query_page all = {.limit = 1000};
    json_object *in_day4 = nm_store_query_latest(q, &day4, &err);
    json_object *every = nm_store_query_latest(q, &all, &err);
    size_t planted_in_day4 = 0, planted_all = 0;
    for (size_t i = 0; i < json_object_array_length(in_day4); i++)
        planted_in_day4 += !strcmp(json_object_get_string(json_object_object_get(
                                       json_object_array_get_idx(in_day4, i), "db")),
                                   name);
    for (size_t i = 0; i < json_object_array_length(every); i++)
        planted_all += json_object_get_int64(json_object_object_get(
                           json_object_array_get_idx(every, i), "ingested_unix_ms")) ==
                       T0 + 4 * DAY + 1;
    assert_int_equal(planted_in_day4, 0);
    assert_int_equal(planted_all, 1);
    /* newest first: `latest` over all starts with day 4 */
    nm_partition_name first;
    assert_true(nm_partition_parse(json_object_get_string(json_object_object_get(
                                       json_object_array_get_idx(every, 0), "db")),
                                   &first));
    json_object_put(in_day4);
    json_object_put(every);
    nm_store_query_close(&q);
}

/* An open reader sees a partition that appears later (a new period) and
 * drops one that is removed (pruned), within a second, without reopening:
 * `newsmill serve` runs for days. */
static void sees_new_and_removed_files(void **state)
{
    (void)state;
    char dir[4096], from[4096], to[4096], cmd[9000];
    snprintf(dir, sizeof dir, "%s/parts", nm_test_tmpdir());
    nm_error err;
    nm_store_query *q = nm_store_query_open(NULL, dir, &err);
    assert_non_null(q);
    size_t before = nm_store_query_databases(q);
    snprintf(from, sizeof from, "%s/results-20241005T000000Z-1d-w2.db", dir);
    snprintf(to, sizeof to, "%s/results-20241012T000000Z-1d-w2.db", dir);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \".backup '%s'\"", from, to);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(to, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE article_rows SET id = id || '-later', ingested_unix_ms = %lld",
             (long long)(T0 + 8 * DAY + 5));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    nm_test_sleep_ms(1100);
    nm_store_query_page pg = {.limit = 1000};
    json_object *rows = nm_store_query_latest(q, &pg, &err);
    assert_non_null(rows);
    assert_int_equal(nm_store_query_databases(q), before + 1);
    assert_non_null(strstr(json_object_get_string(json_object_object_get(
                               json_object_array_get_idx(rows, 0), "id")),
                           "-later")); /* the newest partition first */
    json_object_put(rows);
    assert_int_equal(unlink(to), 0);
    nm_test_sleep_ms(1100);
    rows = nm_store_query_latest(q, &pg, &err);
    assert_int_equal(nm_store_query_databases(q), before);
    assert_null(strstr(json_object_to_json_string(rows), "-later"));
    json_object_put(rows);
    nm_store_query_close(&q);
}

static bool log_has(const char *path, const char *text)
{
    size_t len;
    char *log = nm_test_read_file(path, &len);
    bool found = strstr(log, text) != NULL;
    free(log);
    return found;
}

/* A corrupt partition and a newer one are skipped with a warning naming
 * each; the rest answers. Two directories read as one, from the CLI. */
static void bad_files_and_directories(void **state)
{
    (void)state;
    char dir[4096], other[4096], path[4096], cmd[12288];
    snprintf(dir, sizeof dir, "%s/parts", nm_test_tmpdir());
    snprintf(other, sizeof other, "%s/other-host", nm_test_tmpdir());
    mkdir(other, 0755);
    snprintf(path, sizeof path, "%s/results-20300101T000000Z-1d-w1.db", other);
    nm_test_write_file(path, "garbage garbage garbage garbage garbage garbage", 47);
    snprintf(path, sizeof path, "%s/results-20300102T000000Z-1d-w1.db", other);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); PRAGMA user_version = 99", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    /* a copy of one closed partition, as an operator would make one */
    snprintf(cmd, sizeof cmd, "cp %s/results-20241005T000000Z-1d-w2.db %s/", dir, other);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "%s query --dir %s,%s --json --limit 1000 entity Merkel > %s/q.json 2> %s/q.log",
             nm_test_bin("newsmill"), dir, other, nm_test_tmpdir(), nm_test_tmpdir());
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/q.log", nm_test_tmpdir());
    assert_true(log_has(path, "results-20300101T000000Z-1d-w1.db"));
    assert_true(log_has(path, "results-20300102T000000Z-1d-w1.db"));
    assert_true(log_has(path, "version 99"));
    snprintf(path, sizeof path, "%s/q.json", nm_test_tmpdir());
    size_t len;
    char *text = nm_test_read_file(path, &len);
    json_object *rows = json_tokener_parse(text);
    free(text);
    assert_non_null(rows);
    size_t copied = 0, n = json_object_array_length(rows);
    for (size_t i = 0; i < n; i++)
        copied += strstr(json_object_get_string(json_object_object_get(
                             json_object_array_get_idx(rows, i), "db")),
                         "20241005T000000Z-1d-w2") != NULL;
    assert_true(n > 0);
    assert_true(copied % 2 == 0 && copied > 0); /* the copy's rows come twice: both files read */
    json_object_put(rows);
    /* export --until: only articles ingested before day 2 */
    snprintf(cmd, sizeof cmd, "%s export --dir %s --until %lld 2>/dev/null | wc -l > %s/n.txt",
             nm_test_bin("newsmill"), dir, (long long)((T0 + 2 * DAY) / 1000), nm_test_tmpdir());
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/n.txt", nm_test_tmpdir());
    text = nm_test_read_file(path, &len);
    size_t want = 0;
    for (size_t i = 0; i < n_arts; i++)
        want += arts[i].ingested < T0 + 2 * DAY;
    assert_int_equal(strtol(text, NULL, 10), (long)want - 1); /* one planted later above */
    free(text);
}

int main(void)
{
    nm_error err;
    extractor = nm_extractor_new(NULL, &err);
    if (!extractor) {
        fprintf(stderr, "extractor: %s\n", err.msg);
        return 1;
    }
    make_articles();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_answers),
        cmocka_unit_test(skips_by_name),
        cmocka_unit_test(sees_new_and_removed_files),
        cmocka_unit_test(bad_files_and_directories),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (size_t i = 0; i < n_arts; i++)
        nm_extract_result_free(&arts[i].r);
    nm_extractor_destroy(&extractor);
    return rc;
}

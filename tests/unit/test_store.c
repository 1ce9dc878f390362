/* nm_store: schema creation, idempotent re-persist, the
 * documented queries (read from docs/queries.md itself) on hand-made results, FTS,
 * read-only access, busy and disk-full classification. */
#include "store_fixtures.h"

#include <sys/wait.h>
#include <unistd.h>

#include "nm_store_query.h"

/* ---- tests ----------------------------------------------------------- */

static void schema_created(void **state)
{
    (void)state;
    nm_store *s = open_store("schema.db");
    assert_int_equal(nm_store_schema_version(s), NM_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(s, "PRAGMA user_version"), NM_STORE_SCHEMA_VERSION);
    const char *tables[] = {"articles", "articles_fts", "sentences", "sections", "outline",
                            "entities", "article_entities", "mentions", "acronyms",
                            "keyphrases"};
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
                 tables[i]);
        if (query_int(s, sql) != 1)
            fail_msg("table %s missing", tables[i]);
    }
    char *mode = query_col(nm_store_db(s), "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    assert_int_equal(nm_store_count_articles(s, NULL), 0);
    nm_store_close(&s);
    assert_null(s);
    nm_store_close(&s);
    /* reopening finds the schema in place */
    s = open_store("schema.db");
    assert_int_equal(nm_store_schema_version(s), NM_STORE_SCHEMA_VERSION);
    nm_store_close(&s);
}

static void put_and_children(void **state)
{
    (void)state;
    nm_store *s = open_store("put.db");
    nm_extract_result *r = make_result(
        "a1", "Kalın in Ankara",
        "Ibrahim Kalın met Hamas officials in Ankara. Talks went on late.\n\n"
        "Ankara said the talks would resume. Kalın left.",
        kalin, 3, 0x1234);
    assert_int_equal(r->n_sentences, 4);
    put_one(s, r);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM sentences"), 4);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 3);
    assert_int_equal(query_int(s, "SELECT count(*) FROM article_entities"), 3);
    assert_int_equal(query_int(s, "SELECT count(*) FROM mentions"), r->n_mentions);
    assert_int_equal(query_int(s, "SELECT count(*) FROM keyphrases"), 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM acronyms"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM sections"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM outline"), 1);
    assert_int_equal(query_int(s, "SELECT n_mentions FROM article_entities JOIN entities "
                                  "USING (entity) WHERE name = 'Ankara'"), 2);
    assert_int_equal(query_int(s, "SELECT max(paragraph) FROM sentences"), 1);
    sqlite3 *db = nm_store_db(s);
    /* byte offsets cut the surface text out of the body, non-ASCII included */
    assert_string_equal(
        query_col(db, "SELECT CAST(substr(CAST(a.body AS BLOB), m.start_byte + 1,"
                      " m.end_byte - m.start_byte) AS TEXT) FROM mentions m"
                      " JOIN articles a USING (article) JOIN entities e USING (entity)"
                      " WHERE e.type = 'person' ORDER BY m.idx"),
        "Ibrahim Kalın");
    assert_string_equal(query_col(db, "SELECT summary FROM articles"),
                        "Ibrahim Kalın met Hamas officials in Ankara.");
    assert_string_equal(query_col(db, "SELECT idx FROM sentences WHERE summary_rank = 1"), "0");
    assert_string_equal(query_col(db, "SELECT sentence FROM mentions m JOIN entities e USING"
                                      " (entity) WHERE e.name = 'Ankara' ORDER BY m.idx"),
                        "0|2");
    /* FTS: title and body, diacritics folded */
    assert_string_equal(query_col(db, "SELECT a.id FROM articles_fts JOIN articles a ON"
                                      " a.article = articles_fts.rowid WHERE articles_fts"
                                      " MATCH 'resume'"),
                        "a1");
    assert_string_equal(query_col(db, "SELECT rowid FROM articles_fts WHERE articles_fts"
                                      " MATCH 'title:ankara'"),
                        "1");
    assert_string_equal(query_col(db, "SELECT count(*) FROM articles_fts WHERE articles_fts"
                                      " MATCH 'kalın AND hamas'"),
                        "1");
    /* entity ids are reused across articles */
    nm_extract_result *r2 = make_result("a2", "More", "Hamas spoke. Ankara listened.", kalin,
                                        3, 0x9999);
    put_one(s, r2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 3);
    assert_int_equal(query_int(s, "SELECT count(*) FROM article_entities"), 5);
    free_result(r);
    free_result(r2);
    nm_store_close(&s);
}

/* Two entities of one article with the same canonical name and type share a
 * row: mentions added up, every mention kept, in text order per entity. */
static void entities_sharing_a_row(void **state)
{
    (void)state;
    nm_store *s = open_store("shared_row.db");
    static const ent_spec ents[] = {{"Ankara", NM_ENTITY_PLACE},
                                    {"Hamas", NM_ENTITY_ORGANISATION},
                                    {"Ankara", NM_ENTITY_PLACE}};
    nm_extract_result *r =
        make_result("dup1", "Twice", "Ankara spoke. Hamas listened. Ankara again.", ents, 3, 9);
    assert_int_equal(r->n_entities, 3);
    put_one(s, r);
    assert_int_equal(query_int(s, "SELECT count(*) FROM article_entities"), 2);
    assert_int_equal(query_int(s, "SELECT n_mentions FROM article_entities JOIN entities"
                                  " USING (entity) WHERE name = 'Ankara'"),
                     4);
    assert_string_equal(query_col(nm_store_db(s),
                                  "SELECT m.idx || ':' || m.start_byte || ':' || m.sentence"
                                  " FROM mentions m JOIN entities e USING (entity)"
                                  " WHERE e.name = 'Ankara' ORDER BY m.idx"),
                        "0:0:0|1:30:2|3:0:0|4:30:2");
    assert_int_equal(query_int(s, "SELECT count(*) FROM mentions"), 5);
    free_result(r);
    nm_store_close(&s);
}

static void idempotent_replace(void **state)
{
    (void)state;
    nm_store *s = open_store("idem.db");
    nm_extract_result *v1 = make_result(
        "same", "First version",
        "Ibrahim Kalın met Hamas officials in Ankara. Talks went on late. Zebra crossing.",
        kalin, 3, 0x1111);
    nm_extract_result *v2 = make_result("same", "Second version", "Hamas spoke once.", kalin + 2,
                                        1, 0x2222);
    nm_extract_result *other = make_result("other", "Other", "Ankara is a city.", kalin + 1, 1,
                                           0x3333);
    put_one(s, v1);
    put_one(s, other);
    put_one(s, v1); /* same again */
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM sentences"), 3 + 1);
    put_one(s, v2); /* a new version replaces every child row */
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles WHERE id = 'same'"), 1);
    assert_string_equal(query_col(nm_store_db(s), "SELECT title FROM articles WHERE id = 'same'"),
                        "Second version");
    int64_t key = query_int(s, "SELECT article FROM articles WHERE id = 'same'");
    char sql[128];
    const char *child[] = {"sentences", "mentions", "article_entities", "keyphrases",
                           "acronyms", "sections", "outline"};
    int64_t want[] = {1, 1, 1, 2, 1, 1, 1};
    for (size_t i = 0; i < sizeof child / sizeof *child; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE article = %lld", child[i],
                 (long long)key);
        if (query_int(s, sql) != want[i])
            fail_msg("%s: %lld rows, want %lld", child[i], (long long)query_int(s, sql),
                     (long long)want[i]);
        /* and nothing left behind under any other key */
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE article NOT IN (SELECT article FROM articles)",
                 child[i]);
        assert_int_equal(query_int(s, sql), 0);
    }
    /* the FTS index forgot the old text */
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'zebra'"), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'spoke'"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts"), 2);
    /* the same id twice in one batch */
    const nm_extract_result *batch[] = {v1, other, v2, v1};
    nm_error err;
    assert_int_equal(nm_store_put_batch(s, batch, 4, nm_time_unix_ms(), &err), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 2);
    assert_string_equal(query_col(nm_store_db(s), "SELECT title FROM articles WHERE id = 'same'"),
                        "First version");
    assert_int_equal(query_int(s, "SELECT count(*) FROM sentences"), 3 + 1);
    /* the FTS index is consistent with its content table */
    assert_int_equal(sqlite3_exec(nm_store_db(s),
                                  "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    free_result(v1);
    free_result(v2);
    free_result(other);
    nm_store_close(&s);
}

/* Puts r at revision in a transaction of its own, ingested at 1, 2, ...
 * (one more per call: which put a row comes from); returns the outcome. */
static nm_store_put_outcome put_rev(nm_store *s, const nm_extract_result *r, int64_t revision)
{
    static int64_t puts;
    nm_error err;
    nm_store_put_outcome outcome = NM_STORE_STALE;
    if (nm_store_begin(s, &err) != 0 ||
        nm_store_put(s, r, revision, ++puts, &outcome, &err) != 0 ||
        nm_store_commit(s, &err) != 0)
        fail_msg("put %s at revision %lld: %s", r->id, (long long)revision, err.msg);
    return outcome;
}

/* An older revision of a stored id is dropped and changes nothing; the
 * same revision (a redelivery) and a newer one replace; revision 0 (none
 * known) replaces whatever is there. */
static void revisions(void **state)
{
    (void)state;
    nm_store *s = open_store("rev.db");
    nm_extract_result *v1 = make_result("same", "Version one", "Ibrahim Kalın met Hamas officials"
                                        " in Ankara. Talks went on late.", kalin, 3, 0x1111);
    nm_extract_result *v2 = make_result("same", "Version two", "Hamas spoke once.", kalin + 2, 1,
                                        0x2222);
    const char *title = "SELECT title || ':' || revision FROM articles WHERE id = 'same'";
    assert_int_equal(put_rev(s, v2, 20), NM_STORE_STORED);
    assert_string_equal(query_col(nm_store_db(s), title), "Version two:20");
    /* older: dropped, every row as it was */
    assert_int_equal(put_rev(s, v1, 10), NM_STORE_STALE);
    assert_string_equal(query_col(nm_store_db(s), title), "Version two:20");
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM sentences"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM mentions"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'ankara'"), 0);
    /* equal: replaces (idempotent redelivery) */
    const char *put_at = "SELECT ingested_unix_ms FROM articles WHERE id = 'same'";
    int64_t first_put = query_int(s, put_at);
    assert_int_equal(put_rev(s, v2, 20), NM_STORE_STORED);
    assert_string_equal(query_col(nm_store_db(s), title), "Version two:20");
    assert_true(query_int(s, put_at) > first_put);
    /* newer: replaces, children and index follow */
    assert_int_equal(put_rev(s, v1, 30), NM_STORE_STORED);
    assert_string_equal(query_col(nm_store_db(s), title), "Version one:30");
    assert_int_equal(query_int(s, "SELECT count(*) FROM sentences"), 2);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'ankara'"), 1);
    /* none known: replaces whatever is stored, and is stored as 0 */
    assert_int_equal(put_rev(s, v2, 0), NM_STORE_STORED);
    assert_string_equal(query_col(nm_store_db(s), title), "Version two:0");
    assert_int_equal(put_rev(s, v1, 5), NM_STORE_STORED);
    assert_string_equal(query_col(nm_store_db(s), title), "Version one:5");
    /* in one transaction, as a worker's batch: the older of two is dropped
     * whichever comes first */
    nm_error err;
    nm_store_put_outcome o1, o2;
    assert_int_equal(nm_store_begin(s, &err), 0);
    assert_int_equal(nm_store_put(s, v2, 50, 1, &o1, &err), 0);
    assert_int_equal(nm_store_put(s, v1, 40, 1, &o2, &err), 0);
    assert_int_equal(nm_store_commit(s, &err), 0);
    assert_int_equal(o1, NM_STORE_STORED);
    assert_int_equal(o2, NM_STORE_STALE);
    assert_string_equal(query_col(nm_store_db(s), title), "Version two:50");
    assert_int_equal(sqlite3_exec(nm_store_db(s),
                                  "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    free_result(v1);
    free_result(v2);
    nm_store_close(&s);
}

/* The ```sql blocks of docs/queries.md, in order. */
static size_t doc_queries(char **out, size_t max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/queries.md", nm_test_source_dir());
    char *doc = nm_test_read_file(path, NULL);
    assert_non_null(doc);
    char *p = doc;
    size_t n = 0;
    while (n < max && (p = strstr(p, "```sql\n"))) {
        p += 7;
        char *end = strstr(p, "```");
        assert_non_null(end);
        out[n++] = nm_xstrndup(p, (size_t)(end - p));
        p = end + 3;
    }
    free(doc);
    return n;
}

static void doc_queries_work(void **state)
{
    (void)state;
    char *q[8];
    size_t n = doc_queries(q, 8);
    assert_int_equal(n, 4);
    nm_store *s = open_store("queries.db");
    static const ent_spec ents[] = {
        {"Ibrahim Kalın", NM_ENTITY_PERSON}, {"Ankara", NM_ENTITY_PLACE},
        {"Hamas", NM_ENTITY_ORGANISATION},   {"Recep Tayyip Erdoğan", NM_ENTITY_PERSON},
        {"Gaza", NM_ENTITY_PLACE},
    };
    const char *base = "Ibrahim Kalın met Hamas officials in Ankara. Recep Tayyip Erdoğan"
                       " called for a ceasefire in Gaza. Ibrahim Kalın said talks go on.";
    /* simhash 0xF0F0...: a near-duplicate differs in 2 bits, a far one in many */
    uint64_t sim = 0xF0F0F0F0F0F0F0F0ULL;
    nm_extract_result *rs[] = {
        make_result("bbc/tech/131.txt", "Kalın meets Hamas", base, ents, 5, sim),
        make_result("bbc/tech/179.txt", "Kalın meets Hamas again", base, ents, 5, sim ^ 0x11),
        make_result("far", "Unrelated", "Recep Tayyip Erdoğan spoke in Gaza.", ents + 3, 2,
                    ~sim),
        make_result("ankara-only", "Ankara", "Ankara is quiet. Ankara sleeps.", ents + 1, 1,
                    0x0F0F0F0F00000000ULL),
        make_result("hamas-only", "Hamas", "Hamas is quiet.", ents + 2, 1, 0x12345),
        make_result("close-3", "Three bits", "Ibrahim Kalın spoke.", ents, 1, sim ^ 0x7000),
        make_result("close-4", "Four bits", "Ibrahim Kalın spoke.", ents, 1, sim ^ 0xF00000),
    };
    size_t n_rs = sizeof rs / sizeof *rs;
    rs[1]->published_unix_ms = 1700000001000; /* newer: listed first */
    nm_error err;
    assert_int_equal(nm_store_put_batch(s, (const nm_extract_result *const *)rs, n_rs,
                                        nm_time_unix_ms(), &err),
                     0);
    /* an old article whose people must not count for "the last hour" */
    nm_extract_result *old = make_result("old", "Old", "Angela Merkel. Angela Merkel. Angela"
                                         " Merkel. Angela Merkel.",
                                         (ent_spec[]){{"Angela Merkel", NM_ENTITY_PERSON}}, 1, 9);
    const nm_extract_result *olds[] = {old};
    assert_int_equal(nm_store_put_batch(s, olds, 1, nm_time_unix_ms() - 2 * 3600 * 1000, &err), 0);
    sqlite3 *db = nm_store_db(s);

    assert_string_equal(query_col(db, q[0]), "bbc/tech/179.txt|bbc/tech/131.txt");
    assert_string_equal(query_col(db, q[1]), "Ibrahim Kalın|Recep Tayyip Erdoğan");
    assert_string_equal(query_col(db, q[2]), "bbc/tech/179.txt|close-3");
    assert_string_equal(query_col(db, q[3]), "bbc/tech/131.txt|bbc/tech/179.txt");
    /* the near-duplicate query finds candidates through the band indexes */
    char plan_sql[4096];
    snprintf(plan_sql, sizeof plan_sql, "EXPLAIN QUERY PLAN %s", q[2]);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, plan_sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (strncmp(detail, "SCAN", 4) == 0)
            fail_msg("near-duplicate query scans: %s", detail);
    }
    sqlite3_finalize(st);
    /* the entity query uses the entity index, not a scan of articles */
    snprintf(plan_sql, sizeof plan_sql, "EXPLAIN QUERY PLAN %s", q[0]);
    assert_int_equal(sqlite3_prepare_v2(db, plan_sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        if (strncmp(detail, "SCAN a", 6) == 0 || strncmp(detail, "SCAN ae", 7) == 0)
            fail_msg("entity query scans: %s", detail);
    }
    sqlite3_finalize(st);
    /* "last hour" starts from the recent articles, not from every person */
    snprintf(plan_sql, sizeof plan_sql, "EXPLAIN QUERY PLAN %s", q[1]);
    assert_int_equal(sqlite3_prepare_v2(db, plan_sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 3), "articles_ingested"));
    sqlite3_finalize(st);
    /* FTS with a non-ASCII term */
    assert_string_equal(query_col(db, "SELECT a.id FROM articles_fts JOIN articles a ON"
                                      " a.article = articles_fts.rowid WHERE articles_fts"
                                      " MATCH 'ceasefire AND Erdoğan' ORDER BY a.id"),
                        "bbc/tech/131.txt|bbc/tech/179.txt");
    for (size_t i = 0; i < n; i++)
        free(q[i]);
    for (size_t i = 0; i < n_rs; i++)
        free_result(rs[i]);
    free_result(old);
    nm_store_close(&s);
}

static void sql_functions(void **state)
{
    (void)state;
    nm_store *s = open_store("fn.db");
    assert_int_equal(query_int(s, "SELECT hamming(0, -1)"), 64);
    assert_int_equal(query_int(s, "SELECT hamming(5, 6)"), 2);
    assert_int_equal(query_int(s, "SELECT hamming(7, 7)"), 0);
    assert_string_equal(query_col(nm_store_db(s), "SELECT hamming(NULL, 1) IS NULL"), "1");
    assert_string_equal(query_col(nm_store_db(s),
                                  "SELECT minhash_similarity(x'0100000002000000',"
                                  " x'0100000003000000')"),
                        "0.5");
    assert_string_equal(query_col(nm_store_db(s), "SELECT minhash_similarity(x'01', x'0102')"
                                                   " IS NULL"),
                        "1");
    nm_store_close(&s);
}

/* Runs the plain sqlite3 shell (no extension, none of nm_store's functions)
 * on path with sql; its output (stdout and stderr) in out, and its wait
 * status. */
static int plain_shell(const char *path, const char *sql, char *out, size_t out_size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "sqlite3 -bail '%s' \"%s\" 2>&1", path, sql);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, out_size - 1, p);
    out[n] = '\0';
    return pclose(p);
}

/* An operator's tools work on a results file: the plain sqlite3 shell checks
 * it, vacuums it and updates the stored rows (the tables hold no computed
 * columns: they are in views), and a computed column it cannot compute is a
 * clean error, not a crash. */
static void plain_shell_tools(void **state)
{
    (void)state;
    nm_store *s = open_store("plain.db");
    nm_extract_result *r[2] = {
        make_result("p1", "Talks", "Ibrahim Kalın met Hamas. Ankara hosted.\n\nHamas left.",
                    kalin, 3, 1),
        make_result("p2", "Other", "Ankara is a city.", kalin + 1, 1, 2),
    };
    nm_error err;
    assert_int_equal(nm_store_put_batch(s, (const nm_extract_result *const *)r, 2, 5, &err), 0);
    nm_store_close(&s);
    const char *path = nm_test_path("plain.db");

    char out[4096];
    int st = plain_shell(path, "PRAGMA integrity_check", out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(out, "ok\n") != 0)
        fail_msg("integrity_check: status %d: %s", st, out);
    st = plain_shell(path, "VACUUM", out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("VACUUM: status %d: %s", st, out);
    st = plain_shell(path, "UPDATE article_rows SET id = id || '-x'", out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("UPDATE article_rows: status %d: %s", st, out);
    st = plain_shell(path, "SELECT count(*), group_concat(id) FROM article_rows", out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(out, "2|p1-x,p2-x\n") != 0)
        fail_msg("reading article_rows: status %d: %s", st, out);
    /* the computed columns need the functions: an error, not a signal */
    st = plain_shell(path, "SELECT body FROM articles", out, sizeof out);
    /* (a crash is exit status 128 + signal through popen's shell) */
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1 || !strstr(out, "no such function: nm_unzstd"))
        fail_msg("SELECT body without the functions: status %d: %s", st, out);
    st = plain_shell(path, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'hamas'",
                     out, sizeof out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(out, "1\n") != 0)
        fail_msg("MATCH without the functions: status %d: %s", st, out);

    /* nm_store reads it all back, the full-text index agrees with the rows */
    s = open_store("plain.db");
    assert_string_equal(query_col(nm_store_db(s), "SELECT id || ':' || body FROM articles"
                                                  " ORDER BY id"),
                        "p1-x:Ibrahim Kalın met Hamas. Ankara hosted.\n\nHamas left.|"
                        "p2-x:Ankara is a city.");
    assert_int_equal(sqlite3_exec(nm_store_db(s), "INSERT INTO articles_fts (articles_fts)"
                                                  " VALUES ('integrity-check')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_string_equal(query_col(nm_store_db(s), "SELECT snippet(articles_fts, 1, '[', ']', '...',"
                                                  " 4) FROM articles_fts WHERE articles_fts"
                                                  " MATCH 'hosted'"),
                        "...Ankara [hosted].\n\nHamas left.");
    nm_store_close(&s);
    for (int i = 0; i < 2; i++)
        free_result(r[i]);
}

static void read_only_and_busy(void **state)
{
    (void)state;
    nm_error err;
    nm_store_options ro = {.read_only = true};
    assert_null(nm_store_open(nm_test_path("missing.db"), &ro, &err));
    assert_int_equal(err.code, NM_ERR_NOT_FOUND);

    nm_store *w = open_store("shared.db");
    nm_extract_result *r = make_result("x", "X", "Hamas spoke.", kalin + 2, 1, 1);
    put_one(w, r);
    nm_store *reader = nm_store_open(nm_test_path("shared.db"), &ro, &err);
    assert_non_null(reader);
    assert_int_equal(nm_store_count_articles(reader, &err), 1);
    assert_int_equal(nm_store_begin(reader, &err), -1);
    assert_int_equal(query_int(reader, "SELECT hamming(1, 2)"), 2);

    /* a second writer waits for the busy timeout, then gets NM_ERR_BUSY */
    nm_store_options quick = {.busy_timeout_ms = 50};
    nm_store *w2 = nm_store_open(nm_test_path("shared.db"), &quick, &err);
    assert_non_null(w2);
    assert_int_equal(nm_store_begin(w, &err), 0);
    assert_int_equal(nm_store_begin(w2, &err), -1);
    assert_int_equal(err.code, NM_ERR_BUSY);
    /* the reader is not blocked by the writer (WAL) */
    assert_int_equal(nm_store_count_articles(reader, &err), 1);
    assert_int_equal(nm_store_commit(w, &err), 0);
    assert_int_equal(nm_store_begin(w2, &err), 0);
    assert_int_equal(nm_store_put(w2, r, 0, 1, NULL, &err), 0);
    assert_int_equal(nm_store_commit(w2, &err), 0);
    assert_int_equal(nm_store_count_articles(reader, &err), 1);
    /* an unusable result is refused without spoiling the transaction */
    assert_int_equal(nm_store_begin(w2, &err), 0);
    nm_extract_result bad = *r;
    bad.id = "";
    assert_int_equal(nm_store_put(w2, &bad, 0, 1, NULL, &err), -1);
    assert_int_equal(err.code, NM_ERR_INVALID);
    nm_mention m = {.entity = 7};
    bad = *r;
    bad.mentions = &m;
    bad.n_mentions = 1;
    assert_int_equal(nm_store_put(w2, &bad, 0, 1, NULL, &err), -1);
    assert_int_equal(err.code, NM_ERR_INVALID);
    assert_int_equal(nm_store_commit(w2, &err), 0);
    free_result(r);
    nm_store_close(&w2);
    nm_store_close(&reader);
    nm_store_close(&w);
}

static void disk_full(void **state)
{
    (void)state;
    nm_error err;
    nm_store_options opts = {.max_bytes = 512 * 1024};
    nm_store *s = nm_store_open(nm_test_path("full.db"), &opts, &err);
    assert_non_null(s);
    /* 64 articles of 8 KiB cannot fit in 512 KiB (the empty schema takes
     * 240 KiB of 8 KiB pages): random letters, as
     * compressed bodies are stored (a repeated pattern would shrink to a few
     * bytes) */
    char *text = malloc(8192);
    uint32_t x = 2463534242u;
    for (int i = 0; i < 8191; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        text[i] = i % 8 == 7 ? ' ' : (char)('a' + x % 26);
    }
    text[8191] = '\0';
    nm_extract_result *rs[64];
    char id[16];
    for (int i = 0; i < 64; i++) {
        snprintf(id, sizeof id, "big%d", i);
        rs[i] = make_result(id, "Big", text, NULL, 0, (uint64_t)i);
    }
    assert_int_equal(nm_store_put_batch(s, (const nm_extract_result *const *)rs, 64, 1, &err), -1);
    assert_int_equal(err.code, NM_ERR_DISK_FULL);
    assert_int_equal(nm_store_count_articles(s, &err), 0); /* all or nothing */
    /* still usable: a small batch fits */
    assert_int_equal(nm_store_put_batch(s, (const nm_extract_result *const *)rs, 2, 1, &err), 0);
    assert_int_equal(nm_store_count_articles(s, &err), 2);
    for (int i = 0; i < 64; i++)
        free_result(rs[i]);
    free(text);
    nm_store_close(&s);
}

/* Several processes creating the same new database at once, each with a
 * tiny busy timeout for its batches: all must open it and write. */
static void concurrent_open(void **state)
{
    (void)state;
    const char *path = nm_test_path("many.db");
    pid_t pids[6];
    for (int i = 0; i < 6; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            nm_store_options o = {.busy_timeout_ms = 1};
            nm_error err;
            nm_store *s = nm_store_open(path, &o, &err);
            if (!s) {
                fprintf(stderr, "child %d: %s\n", i, err.msg);
                _exit(1);
            }
            char id[16];
            snprintf(id, sizeof id, "p%d", i);
            nm_extract_result *r = make_result(id, "T", "Hamas spoke.", kalin + 2, 1, 1);
            /* BUSY (another child holds the write lock) is retried until a
             * deadline, not a count of attempts: on a loaded machine a
             * holder can be off the CPU or in fsync for seconds while the
             * 1 ms attempts here run out; any other error fails at once */
            int rc = -1;
            int64_t deadline = nm_time_mono_ns() + 60 * NM_NS_PER_S;
            while (rc != 0 && nm_time_mono_ns() < deadline) {
                rc = nm_store_put_batch(s, (const nm_extract_result *const *)&r, 1, 1, &err);
                if (rc != 0 && err.code != NM_ERR_BUSY)
                    break;
            }
            if (rc != 0)
                fprintf(stderr, "child %d: %s\n", i, err.msg);
            free_result(r);
            nm_store_close(&s);
            _exit(rc == 0 ? 0 : 2);
        }
    }
    for (int i = 0; i < 6; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    nm_store *s = open_store("many.db");
    assert_int_equal(nm_store_count_articles(s, NULL), 6);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 1);
    nm_store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_created),     cmocka_unit_test(put_and_children),
        cmocka_unit_test(entities_sharing_a_row),
        cmocka_unit_test(idempotent_replace), cmocka_unit_test(revisions),
        cmocka_unit_test(doc_queries_work), cmocka_unit_test(sql_functions),
        cmocka_unit_test(plain_shell_tools),
        cmocka_unit_test(read_only_and_busy), cmocka_unit_test(disk_full),
        cmocka_unit_test(concurrent_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

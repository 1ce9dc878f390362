/* nm_store's migrations: a version 1 database and a version 4 one, each
 * written as the code of its day wrote it, opened and migrated to the
 * current schema; the shape equals a new file's and every article reads
 * back as it was (`newsmill query article`, a phrase search). */
#include "store_fixtures.h"

#include "nm_sbuf.h"
#include "nm_store_query.h"

static void exec_file(sqlite3 *db, const char *path)
{
    char *sql = nm_test_read_file(path, NULL);
    assert_non_null(sql);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", path, msg);
    free(sql);
}

/* A new file at path made with tests/data/results_schema_v<version>.sql,
 * as that version's code made it. */
static sqlite3 *open_old_schema(const char *path, int version)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char schema[1024];
    snprintf(schema, sizeof schema, "%s/tests/data/results_schema_v%d.sql", nm_test_source_dir(),
             version);
    exec_file(db, schema);
    return db;
}

/* Table -> sorted column names, index and trigger names: the shape of a schema. */
static char *schema_shape(sqlite3 *db)
{
    return nm_xstrdup(query_col(
        db, "SELECT m.type || ' ' || m.name || '(' || coalesce((SELECT group_concat(name, ',')"
            " FROM (SELECT name FROM pragma_table_xinfo(m.name) ORDER BY name)), '') || ')'"
            " FROM sqlite_master m WHERE m.name NOT LIKE 'sqlite_%' ORDER BY m.type, m.name"));
}

static void migrate_v1(void **state)
{
    (void)state;
    const char *path = nm_test_path("v1.db");
    sqlite3 *db = open_old_schema(path, 1);
    /* a v1 worker's rows; simhash 0xAAAABBBBCCCCDDDD as signed */
    const char *rows =
        "INSERT INTO articles (id, source, ingested_unix_ms, language, language_confidence,"
        " content_type, title, n_bytes, n_chars, n_words, n_sentences, n_paragraphs,"
        " n_syllables, avg_sentence_words, flesch_reading_ease, flesch_kincaid_grade,"
        " fp_exact, simhash, body) VALUES ('old1', 'bbc', 1, 'en', 1, 'text', 'Old news',"
        " 22, 22, 4, 2, 1, 6, 2, 80, 3, 42, -6148895925951734307, 'Hamas spoke. Ankara.');"
        "INSERT INTO sentences VALUES (1, 0, 0, 0, 12, 2), (1, 1, 0, 13, 20, 1);"
        "INSERT INTO entities (name, type) VALUES ('Hamas', 'organisation'), ('Ankara', 'place');"
        "INSERT INTO article_entities VALUES (1, 1, 1, 0.5), (1, 2, 1, 0.5);"
        "INSERT INTO mentions VALUES (1, 0, 1, 0, 5), (1, 1, 2, 13, 19);";
    char *msg = NULL;
    if (sqlite3_exec(db, rows, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("v1 rows: %s", msg);
    sqlite3_close(db);

    nm_store *s = open_store("v1.db");
    assert_int_equal(nm_store_schema_version(s), NM_STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(s, "PRAGMA user_version"), NM_STORE_SCHEMA_VERSION);
    /* rows kept, new columns backfilled */
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 1);
    assert_int_equal(query_int(s, "SELECT sh0 FROM articles"), 0xDDDD);
    assert_int_equal(query_int(s, "SELECT sh1 FROM articles"), 0xCCCC);
    assert_int_equal(query_int(s, "SELECT sh2 FROM articles"), 0xBBBB);
    assert_int_equal(query_int(s, "SELECT sh3 FROM articles"), 0xAAAA);
    assert_string_equal(query_col(nm_store_db(s), "SELECT sentence FROM mentions ORDER BY idx"),
                        "0|1");
    /* v3 moved sentences and mentions into JSON behind views: same rows */
    assert_string_equal(query_col(nm_store_db(s),
                                  "SELECT idx || ':' || paragraph || ':' || start_byte || '-' ||"
                                  " end_byte || ':' || n_words || ':' || ifnull(summary_rank, '-')"
                                  " FROM sentences ORDER BY idx"),
                        "0:0:0-12:2:-|1:0:13-20:1:-");
    assert_string_equal(query_col(nm_store_db(s),
                                  "SELECT m.idx || ':' || e.name || ':' || m.start_byte || '-' ||"
                                  " m.end_byte FROM mentions m JOIN entities e USING (entity)"
                                  " ORDER BY m.idx"),
                        "0:Hamas:0-5|1:Ankara:13-19");
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'hamas'"), 1);
    /* the migrated shape is the new shape */
    char *migrated = schema_shape(nm_store_db(s));
    nm_store *fresh = open_store("fresh.db");
    char *created = schema_shape(nm_store_db(fresh));
    assert_string_equal(migrated, created);
    free(migrated);
    free(created);
    nm_store_close(&fresh);
    /* and v2 code writes into it, replacing the old row by id */
    nm_extract_result *r = make_result("old1", "New news", "Hamas spoke again.", kalin + 2, 1, 5);
    put_one(s, r);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM mentions"), 1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'ankara'"), 0);
    free_result(r);
    nm_store_close(&s);

    /* a database from the future is refused, untouched */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    nm_error err;
    assert_null(nm_store_open(path, NULL, &err));
    assert_int_equal(err.code, NM_ERR_VERSION);
    assert_non_null(strstr(err.msg, "99"));
}

/* A v4 row as v4 code wrote it (JSON columns, stored summary and body):
 * after the migration the views give back the same bytes. */
static const char v4_row[] =
    "INSERT INTO articles (article, id, source, ingested_unix_ms, language, language_confidence,"
    " content_type, title, n_bytes, n_chars, n_words, n_sentences, n_paragraphs, n_syllables,"
    " avg_sentence_words, flesch_reading_ease, flesch_kincaid_grade, fp_exact, simhash, sh0, sh1,"
    " sh2, sh3, summary, sentences_json, body, revision) VALUES (100, 'v4row', 'bbc', 5, 'pt', 1,"
    " 'text', 'Velho', 50, 49, 7, 3, 2, 12, 3, 70, 5, 1, 2, 2, 0, 0, 0,"
    " 'Ankara replied. São Paulo spoke.',"
    " '[[0,0,12,2],[0,16,33,3,2],[1,35,50,2,1]]',"
    " 'Hamas spoke. x. São Paulo spoke.' || char(10) || char(10) || 'Ankara replied.', 9);"
    "INSERT INTO entities (entity, name, type) VALUES (50, 'Hamas v4', 'organisation'),"
    " (51, 'São Paulo v4', 'place');"
    "INSERT INTO article_entities (article, entity, n_mentions, salience, mentions_json)"
    " VALUES (100, 50, 1, 0.25, '[[0,0,5,0]]'), (100, 51, 2, 0.75, '[[1,16,26,1],[2,35,41,null]]');"
    "INSERT INTO articles_fts (rowid, title, body) SELECT article, title, body FROM articles;";

/* Every article of a store as `newsmill query article` prints it, and a
 * phrase search with snippets, as one string. */
static char *everything(const char *path, const char *phrase)
{
    nm_error err;
    nm_store_query *q = nm_store_query_open(path, NULL, &err);
    if (!q)
        fail_msg("query open %s: %s", path, err.msg);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char ids[4096];
    snprintf(ids, sizeof ids, "%s", query_col(db, "SELECT id FROM article_rows ORDER BY id"));
    sqlite3_close(db);
    nm_sbuf out = {0};
    for (char *id = strtok(ids, "|"); id; id = strtok(NULL, "|")) {
        json_object *a = nm_store_query_article(q, id, &err);
        if (!a)
            fail_msg("article %s: %s", id, err.msg);
        json_object_object_del(a, "ingested_unix_ms");
        nm_sbuf_puts(&out, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
        nm_sbuf_puts(&out, "\n");
        json_object_put(a);
    }
    nm_store_query_page page = {.limit = 10};
    json_object *hits = nm_store_query_search(q, phrase, &page, 0, &err);
    if (!hits)
        fail_msg("search %s: %s", phrase, err.msg);
    nm_sbuf_puts(&out, json_object_to_json_string_ext(hits, JSON_C_TO_STRING_PLAIN));
    json_object_put(hits);
    nm_store_query_close(&q);
    return nm_sbuf_take(&out);
}

/* v4 -> v5: a database of v4 rows (written through its own schema file)
 * migrates to the packed columns and answers every article and a phrase
 * search exactly as a database written by this build does. */
static void migrate_v4(void **state)
{
    (void)state;
    /* the reference: this build writes the articles */
    nm_store *ref = open_store("v5ref.db");
    nm_extract_result *r[3] = {
        make_result("k1", "Talks", "Ibrahim Kalın met Hamas. Ankara hosted.\n\nHamas left.",
                    kalin, 3, 1),
        make_result("k2", "Empty", "", NULL, 0, 2),
        make_result("k3", "São Paulo", "In São Paulo, Kalın spoke. Ankara listened.", kalin,
                    3, 3),
    };
    r[2]->n_summary = 2; /* ranks out of article order: 1 = the second sentence */
    r[2]->summary = nm_arena_calloc(r[2]->arena, 2, sizeof *r[2]->summary);
    r[2]->summary[0] = 1;
    r[2]->summary[1] = 0;
    r[2]->mentions[0].sentence = NM_NO_INDEX;
    nm_error err;
    assert_int_equal(nm_store_put_batch(ref, (const nm_extract_result *const *)r, 3, 5, &err), 0);

    /* the same articles in a v4 file, as v4 stored them */
    const char *path = nm_test_path("v4.db");
    sqlite3 *db = open_old_schema(path, 4);
    assert_int_equal(nm_store_register_functions(db, NULL), 0);
    char sql[4096];
    snprintf(sql, sizeof sql, "ATTACH '%s' AS ref", nm_test_path("v5ref.db"));
    char *msg = NULL;
    const char *copy =
        "INSERT INTO entities SELECT entity, name, type FROM ref.entities;"
        "INSERT INTO articles (article, id, source, url, published_unix_ms, modified_unix_ms,"
        " ingested_unix_ms, language, language_confidence, content_type, title, byline, n_bytes,"
        " n_chars, n_words, n_sentences, n_paragraphs, n_syllables, avg_sentence_words,"
        " flesch_reading_ease, flesch_kincaid_grade, fp_exact, simhash, sh0, sh1, sh2, sh3,"
        " minhash, summary, sentences_json, warnings, body, revision)"
        " SELECT article, id, source, url, published_unix_ms, modified_unix_ms,"
        " ingested_unix_ms, language, language_confidence, content_type, title, byline, n_bytes,"
        " n_chars, n_words, n_sentences, n_paragraphs, n_syllables, avg_sentence_words,"
        " flesch_reading_ease, flesch_kincaid_grade, fp_exact, simhash, sh0, sh1, sh2, sh3,"
        " minhash, summary, sentences_json, warnings, body, revision FROM ref.articles;"
        "INSERT INTO article_entities (article, entity, n_mentions, salience, mentions_json)"
        " SELECT article, entity, n_mentions, salience, nm_mentions_json(mentions_packed)"
        " FROM ref.article_entities;"
        "INSERT INTO sections SELECT * FROM ref.sections;"
        "INSERT INTO outline SELECT * FROM ref.outline;"
        "INSERT INTO acronyms SELECT * FROM ref.acronyms;"
        "INSERT INTO keyphrases SELECT * FROM ref.keyphrases;"
        "INSERT INTO articles_fts (rowid, title, body) SELECT article, title, body FROM articles;"
        "DETACH ref;";
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, copy, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("v4 rows: %s", msg);
    /* the reference read the same before the copy's JSON went through v4 */
    assert_string_equal(query_col(db, "SELECT summary FROM articles WHERE id = 'k3'"),
                        "Ankara listened. In São Paulo, Kalın spoke.");
    if (sqlite3_exec(db, v4_row, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("v4 row: %s", msg);
    sqlite3_close(db);

    nm_store *s = open_store("v4.db"); /* migrates */
    assert_int_equal(query_int(s, "PRAGMA user_version"), NM_STORE_SCHEMA_VERSION);
    db = nm_store_db(s);
    assert_string_equal(query_col(db, "SELECT sentences_json FROM articles WHERE id = 'v4row'"),
                        "[[0,0,12,2],[0,16,33,3,2],[1,35,50,2,1]]");
    assert_string_equal(query_col(db, "SELECT summary FROM articles WHERE id = 'v4row'"),
                        "Ankara replied. São Paulo spoke.");
    assert_string_equal(query_col(db, "SELECT nm_mentions_json(mentions_packed)"
                                      " FROM article_entities WHERE article = 100 ORDER BY entity"),
                        "[[0,0,5,0]]|[[1,16,26,1],[2,35,41,null]]");
    assert_string_equal(query_col(db, "SELECT body FROM articles WHERE id = 'v4row'"),
                        "Hamas spoke. x. São Paulo spoke.\n\nAnkara replied.");
    assert_int_equal(query_int(s, "SELECT length(body_zstd) > 0 AND typeof(body_zstd) = 'blob'"
                                  " FROM article_rows WHERE id = 'v4row'"), 1);
    /* the migrated shape is the new shape */
    char *migrated = schema_shape(db);
    char *created = schema_shape(nm_store_db(ref));
    assert_string_equal(migrated, created);
    free(migrated);
    free(created);
    /* and the v5 writer replaces a migrated row */
    put_one(s, r[0]);
    assert_int_equal(query_int(s, "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH"
                                  " 'hosted'"), 1);
    assert_int_equal(sqlite3_exec(db, "DELETE FROM article_rows WHERE id = 'v4row';"
                                      "DELETE FROM article_entities WHERE article = 100;"
                                      "INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')",
                                  NULL, NULL, NULL), SQLITE_OK);
    nm_store_close(&s);
    nm_store_close(&ref);

    /* every article and a phrase search answer the same from both files */
    char *want = everything(nm_test_path("v5ref.db"), "\"São Paulo\"");
    char *got = everything(path, "\"São Paulo\"");
    if (!strstr(want, "[São Paulo]"))
        fail_msg("no phrase hit in %s", want);
    assert_string_equal(got, want);
    free(want);
    free(got);
    for (int i = 0; i < 3; i++)
        free_result(r[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(migrate_v1),
        cmocka_unit_test(migrate_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

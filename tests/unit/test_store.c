/* nm_store: schema creation, idempotent re-persist, v1 -> v2 migration, the
 * documented queries (read from docs/queries.md itself) on hand-made results, FTS,
 * read-only access, busy and disk-full classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_sbuf.h"
#include "nm_store.h"
#include "nm_store_query.h"
#include "nm_test.h"
#include "nm_time.h"

/* ---- hand-made extraction results ------------------------------------ */

typedef struct ent_spec {
    const char *name;
    nm_entity_type type;
} ent_spec;

/* Builds a result for text: sentences end at ". ", paragraphs at "\n\n",
 * every occurrence of an entity's name is a mention, the first sentence is
 * the summary. */
static nm_extract_result *make_result(const char *id, const char *title, const char *text,
                                      const ent_spec *ents, size_t n_ents, uint64_t simhash)
{
    nm_arena *arena = nm_arena_new(0);
    nm_extract_result *r = nm_arena_calloc(arena, 1, sizeof *r);
    r->arena = arena;
    r->id = nm_arena_strndup(arena, id, strlen(id));
    r->source = "test";
    r->content_type = "text";
    r->title = title;
    r->language = "en";
    r->language_confidence = 0.9;
    r->text_len = strlen(text);
    r->text = nm_arena_strndup(arena, text, r->text_len);
    r->published_unix_ms = 1700000000000;

    size_t len = r->text_len;
    r->sentences = nm_arena_calloc(arena, len + 1, sizeof *r->sentences);
    uint32_t start = 0, paragraph = 0;
    for (uint32_t i = 0; i <= len; i++) {
        bool para_end = i == len || (text[i] == '\n' && i + 1 < len && text[i + 1] == '\n');
        bool sent_end = i > 0 && text[i - 1] == '.' && (i == len || text[i] == ' ');
        if ((para_end || sent_end) && i > start) {
            nm_sentence *s = &r->sentences[r->n_sentences++];
            s->span = (nm_span){start, i};
            s->paragraph = paragraph;
            s->n_words = 1;
            for (uint32_t k = start; k < i; k++)
                s->n_words += text[k] == ' ';
            start = i;
        }
        if (i < len && (text[i] == ' ' || text[i] == '\n') && start == i)
            start = i + 1;
        if (para_end && i < len) {
            paragraph++;
            start = i + 2;
            i++;
        }
    }
    r->n_paragraphs = paragraph + 1;
    r->counts.bytes = (uint32_t)len;
    r->counts.sentences = (uint32_t)r->n_sentences;
    r->counts.paragraphs = (uint32_t)r->n_paragraphs;
    r->summary = nm_arena_calloc(arena, 1, sizeof *r->summary);
    r->n_summary = r->n_sentences ? 1 : 0;

    r->entities = nm_arena_calloc(arena, n_ents + 1, sizeof *r->entities);
    r->mentions = nm_arena_calloc(arena, len + 1, sizeof *r->mentions);
    for (size_t e = 0; e < n_ents; e++) {
        nm_entity *ent = &r->entities[r->n_entities];
        ent->name = ents[e].name;
        ent->type = ents[e].type;
        ent->first_mention = (uint32_t)r->n_mentions;
        ent->salience = 0.5;
        size_t nlen = strlen(ents[e].name);
        for (const char *p = strstr(r->text, ents[e].name); p; p = strstr(p + nlen, ents[e].name)) {
            nm_mention *m = &r->mentions[r->n_mentions++];
            m->entity = (uint32_t)r->n_entities;
            m->span = (nm_span){(uint32_t)(p - r->text), (uint32_t)(p - r->text + nlen)};
            m->sentence = NM_NO_INDEX;
            for (size_t s = 0; s < r->n_sentences; s++)
                if (r->sentences[s].span.start <= m->span.start &&
                    m->span.start < r->sentences[s].span.end)
                    m->sentence = (uint32_t)s;
            ent->n_mentions++;
        }
        if (ent->n_mentions) /* an entity is only what is mentioned */
            r->n_entities++;
    }
    r->keyphrases = nm_arena_calloc(arena, 2, sizeof *r->keyphrases);
    r->keyphrases[0] = (nm_keyphrase){"talks", "talk", 2.5, 1};
    r->keyphrases[1] = (nm_keyphrase){"border", "border", 1.5, 1};
    r->n_keyphrases = 2;
    r->acronyms = nm_arena_calloc(arena, 1, sizeof *r->acronyms);
    r->acronyms[0] = (nm_acronym){"UN", "United Nations", {0, 2}, {0, 2}, 1};
    r->n_acronyms = 1;
    r->sections = nm_arena_calloc(arena, 1, sizeof *r->sections);
    r->sections[0] = (nm_section){"Background", {0, 0}, 1, 0, (uint32_t)r->n_paragraphs, 0};
    r->n_sections = 1;
    r->outline = nm_arena_calloc(arena, 1, sizeof *r->outline);
    r->outline[0] = (nm_outline_item){"Background", {0, 0}, 0};
    r->n_outline = 1;
    r->fingerprints.exact = simhash * 31 + 7;
    r->fingerprints.simhash = simhash;
    for (int i = 0; i < NM_MINHASH_SIZE; i++)
        r->fingerprints.minhash[i] = (uint32_t)(simhash >> (i % 32)) + (uint32_t)i;
    return r;
}

static void free_result(nm_extract_result *r)
{
    nm_arena *a = r->arena;
    nm_arena_destroy(&a);
}

static void put_one(nm_store *store, const nm_extract_result *r)
{
    nm_error err;
    int rc = nm_store_put_batch(store, &r, 1, nm_time_unix_ms(), &err);
    if (rc != 0)
        fail_msg("put %s: %s", r->id, err.msg);
}

static int64_t query_int(nm_store *store, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_store_db(store), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(nm_store_db(store)));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Runs sql and returns the first column of every row joined by '|'. */
static char *query_col(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
    static char out[4096];
    out[0] = '\0';
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out[0])
            strcat(out, "|");
        const char *t = (const char *)sqlite3_column_text(st, 0);
        strncat(out, t ? t : "NULL", sizeof out - strlen(out) - 2);
    }
    if (rc != SQLITE_DONE)
        fail_msg("step %s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return out;
}

static nm_store *open_store(const char *name)
{
    nm_error err;
    nm_store *s = nm_store_open(nm_test_path(name), NULL, &err);
    if (!s)
        fail_msg("open %s: %s", name, err.msg);
    return s;
}

static const ent_spec kalin[] = {
    {"Ibrahim Kalın", NM_ENTITY_PERSON},
    {"Ankara", NM_ENTITY_PLACE},
    {"Hamas", NM_ENTITY_ORGANISATION},
};

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

static void exec_file(sqlite3 *db, const char *path)
{
    char *sql = nm_test_read_file(path, NULL);
    assert_non_null(sql);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", path, msg);
    free(sql);
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
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char v1_schema[1024];
    snprintf(v1_schema, sizeof v1_schema, "%s/tests/data/results_schema_v1.sql",
             nm_test_source_dir());
    exec_file(db, v1_schema);
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
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char v4_schema[1024];
    snprintf(v4_schema, sizeof v4_schema, "%s/tests/data/results_schema_v4.sql",
             nm_test_source_dir());
    exec_file(db, v4_schema);
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
        cmocka_unit_test(migrate_v1),
        cmocka_unit_test(migrate_v4),
        cmocka_unit_test(doc_queries_work), cmocka_unit_test(sql_functions),
        cmocka_unit_test(plain_shell_tools),
        cmocka_unit_test(read_only_and_busy), cmocka_unit_test(disk_full),
        cmocka_unit_test(concurrent_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

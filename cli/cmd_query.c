/* newsmill query: canned questions over one or several results databases.
 *
 * Each question runs on every database (--db FILE, or every results*.db of
 * --dir DIR: one per host) and the rows are merged in C (sorted, summed for
 * `top`, limited). Rows are json-c objects, so --json prints them as they are
 * and the table printer reads the same objects. */
#include <errno.h>
#include <glob.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nm_alloc.h"
#include "nm_opts.h"
#include "nm_store.h"
#include "nm_time.h"
#include "nm_utf8.h"

#define QUERY_DB_DEFAULT "./var/results.db"

typedef struct query_opts {
    const char *db, *dir;
    int64_t limit, since_ms, max_distance;
    double min_similarity;
    bool json;
} query_opts;

typedef struct db_ref {
    char *path;
    nm_store *store;
} db_ref;

typedef struct query_ctx {
    query_opts o;
    db_ref *dbs;
    size_t n_dbs;
    json_object *rows; /* array of row objects */
} query_ctx;

/* A column of the human table: key in the row, header, widest cell. */
typedef struct column {
    const char *key, *header;
    int max_width;
} column;

/* ---- rows -------------------------------------------------------------- */

static json_object *col_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return json_object_new_int64(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return json_object_new_double(sqlite3_column_double(st, i));
    case SQLITE_NULL: return NULL;
    default:
        return json_object_new_string_len((const char *)sqlite3_column_text(st, i),
                                          sqlite3_column_bytes(st, i));
    }
}

/* Appends every result row of st (columns named by their SQL alias) to
 * q->rows, with "db" added when several databases are read. */
static int collect(query_ctx *q, const db_ref *db, sqlite3_stmt *st, nm_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *row = json_object_new_object();
        for (int i = 0; i < sqlite3_column_count(st); i++)
            json_object_object_add(row, sqlite3_column_name(st, i), col_value(st, i));
        if (q->n_dbs > 1) {
            const char *slash = strrchr(db->path, '/');
            json_object_object_add(row, "db", json_object_new_string(slash ? slash + 1 : db->path));
        }
        json_object_array_add(q->rows, row);
    }
    if (rc != SQLITE_DONE)
        return nm_error_set(err, nm_store_errcode(rc), "%s: %s", db->path,
                            sqlite3_errmsg(sqlite3_db_handle(st)));
    return 0;
}

static sqlite3_stmt *prepare(const db_ref *db, const char *sql, nm_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_store_db(db->store), sql, -1, &st, NULL) != SQLITE_OK) {
        nm_error_set(err, NM_ERR_DB, "%s: %s", db->path, sqlite3_errmsg(nm_store_db(db->store)));
        return NULL;
    }
    return st;
}

static double num(json_object *row, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(row, key, &v) && v ? json_object_get_double(v) : 0;
}

static const char *sort_key;
static int sort_sign;

static int cmp_rows(const void *a, const void *b)
{
    double x = num(*(json_object *const *)a, sort_key), y = num(*(json_object *const *)b, sort_key);
    return x < y ? -sort_sign : x > y ? sort_sign : 0;
}

/* Sorts q->rows by key (ascending when sign is 1) and keeps the first limit. */
static void sort_limit(query_ctx *q, const char *key, int sign)
{
    sort_key = key;
    sort_sign = sign;
    json_object_array_sort(q->rows, cmp_rows);
    size_t n = json_object_array_length(q->rows);
    if (n > (size_t)q->o.limit)
        json_object_array_del_idx(q->rows, (size_t)q->o.limit, n - (size_t)q->o.limit);
}

/* ---- output ------------------------------------------------------------ */

/* Display width of UTF-8 text: code points (good enough for a terminal table). */
static size_t width_of(const char *s, size_t len)
{
    size_t w = 0, pos = 0;
    while (pos < len) {
        nm_utf8_next(s, len, &pos);
        w++;
    }
    return w;
}

/* Cell text: numbers with few decimals, times as ISO dates, newlines as spaces. */
static char *cell(json_object *row, const char *key)
{
    json_object *v;
    char buf[64];
    if (!json_object_object_get_ex(row, key, &v) || !v)
        return nm_xstrdup("-");
    if (strstr(key, "unix_ms") && json_object_is_type(v, json_type_int)) {
        if (json_object_get_int64(v) == 0)
            return nm_xstrdup("-");
        nm_time_format_iso(json_object_get_int64(v), buf, sizeof buf);
        buf[16] = '\0'; /* 2026-11-24T19:59 */
        buf[10] = ' ';
        return nm_xstrdup(buf);
    }
    if (json_object_is_type(v, json_type_double)) {
        snprintf(buf, sizeof buf, "%.2f", json_object_get_double(v));
        return nm_xstrdup(buf);
    }
    char *s = nm_xstrdup(json_object_get_string(v));
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
    return s;
}

/* Cuts s to at most max code points, ending with '…' when cut. */
static void clip(char **s, size_t max)
{
    size_t len = strlen(*s), pos = 0, n = 0;
    while (pos < len && n < max - 1) {
        nm_utf8_next(*s, len, &pos);
        n++;
    }
    if (pos >= len || width_of(*s, len) <= max)
        return;
    char *out = nm_xmalloc(pos + 4);
    memcpy(out, *s, pos);
    memcpy(out + pos, "…", 4);
    free(*s);
    *s = out;
}

static void print_table(json_object *rows, const column *cols, size_t n_cols)
{
    size_t n = json_object_array_length(rows);
    if (n == 0) {
        printf("(no results)\n");
        return;
    }
    char ***cells = nm_xcalloc(n, sizeof *cells);
    size_t *w = nm_xcalloc(n_cols, sizeof *w);
    for (size_t c = 0; c < n_cols; c++)
        w[c] = width_of(cols[c].header, strlen(cols[c].header));
    for (size_t r = 0; r < n; r++) {
        cells[r] = nm_xcalloc(n_cols, sizeof **cells);
        for (size_t c = 0; c < n_cols; c++) {
            cells[r][c] = cell(json_object_array_get_idx(rows, r), cols[c].key);
            if (cols[c].max_width)
                clip(&cells[r][c], (size_t)cols[c].max_width);
            size_t cw = width_of(cells[r][c], strlen(cells[r][c]));
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t c = 0; c < n_cols; c++)
        printf("%s%-*s", c ? "  " : "", c + 1 < n_cols ? (int)w[c] : 0, cols[c].header);
    printf("\n");
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < n_cols; c++) {
            const char *s = cells[r][c];
            size_t pad = c + 1 < n_cols ? w[c] - width_of(s, strlen(s)) : 0;
            printf("%s%s%*s", c ? "  " : "", s, (int)pad, "");
            free(cells[r][c]);
        }
        printf("\n");
        free(cells[r]);
    }
    free(cells);
    free(w);
}

static void print_json(json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Prints the rows: one JSON array, or a table with the given columns (plus
 * "db" when several databases were read). */
static void output_rows(query_ctx *q, const column *cols, size_t n_cols)
{
    if (q->o.json) {
        print_json(q->rows);
        return;
    }
    column all[16];
    memcpy(all, cols, n_cols * sizeof *cols);
    if (q->n_dbs > 1)
        all[n_cols++] = (column){"db", "DB", 30};
    print_table(q->rows, all, n_cols);
}

/* ---- questions ---------------------------------------------------------- */

/* FTS5 syntax is powerful but easy to trip on ("don't", "U.S."): when the
 * text does not parse as a query, search for its words instead. */
static char *quote_words(const char *text)
{
    size_t len = strlen(text), cap = len * 2 + 8, o = 0;
    char *out = nm_xmalloc(cap);
    bool in_word = false;
    for (size_t i = 0; i <= len; i++) {
        char c = text[i];
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\0';
        if (!space && !in_word) {
            out[o++] = '"';
            in_word = true;
        }
        if (space && in_word) {
            out[o++] = '"';
            out[o++] = ' ';
            in_word = false;
        }
        if (!space) {
            if (c == '"')
                out[o++] = '"';
            out[o++] = c;
        }
        if (o + 4 > cap)
            out = nm_xrealloc(out, cap *= 2);
    }
    out[o] = '\0';
    return out;
}

static int q_search(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc < 1)
        return nm_error_set(err, NM_ERR_INVALID, "search needs TEXT");
    size_t len = 0;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *text = nm_xmalloc(len + 1);
    text[0] = '\0';
    for (int i = 0; i < argc; i++) {
        strcat(text, argv[i]);
        if (i + 1 < argc)
            strcat(text, " ");
    }
    static const char *sql =
        "SELECT a.id AS id, a.title AS title, a.source AS source,"
        " a.published_unix_ms AS published_unix_ms,"
        " snippet(articles_fts, 1, '[', ']', '…', 10) AS snippet, bm25(articles_fts) AS score"
        " FROM articles_fts JOIN articles a ON a.article = articles_fts.rowid"
        " WHERE articles_fts MATCH ?1 ORDER BY rank LIMIT ?2";
    int rc = 0;
    for (size_t d = 0; d < q->n_dbs && rc == 0; d++) {
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st) {
            rc = -1;
            break;
        }
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, q->o.limit);
        rc = collect(q, &q->dbs[d], st, err);
        if (rc != 0 && strstr(err->msg, "syntax error")) { /* retry as plain words */
            char *words = quote_words(text);
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, words, -1, SQLITE_TRANSIENT);
            free(words);
            rc = collect(q, &q->dbs[d], st, err);
        }
        sqlite3_finalize(st);
    }
    free(text);
    if (rc != 0)
        return -1;
    sort_limit(q, "score", 1); /* bm25: lower is better */
    static const column cols[] = {{"id", "ID", 40},
                                  {"title", "TITLE", 50},
                                  {"published_unix_ms", "PUBLISHED", 0},
                                  {"snippet", "MATCH", 70}};
    output_rows(q, cols, 4);
    return 0;
}

static int q_entity(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc < 1 || argc > 8)
        return nm_error_set(err, NM_ERR_INVALID, "entity needs 1 to 8 NAMEs (articles mention all)");
    /* One EXISTS per name: articles that mention every one of them. */
    char sql[8192];
    size_t o = (size_t)snprintf(
        sql, sizeof sql,
        "SELECT a.id AS id, a.title AS title, a.published_unix_ms AS published_unix_ms,"
        " (SELECT group_concat(e.name || ' (' || e.type || ')', ', ') FROM article_entities ae"
        "  JOIN entities e ON e.entity = ae.entity WHERE ae.article = a.article AND (");
    for (int i = 0; i < argc; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%se.name LIKE ?%d ESCAPE '\\'", i ? " OR " : "",
                              i + 1);
    o += (size_t)snprintf(sql + o, sizeof sql - o,
                          ")) AS entities,"
                          " (SELECT sum(ae.n_mentions) FROM article_entities ae JOIN entities e"
                          "  ON e.entity = ae.entity WHERE ae.article = a.article AND (");
    for (int i = 0; i < argc; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%se.name LIKE ?%d ESCAPE '\\'", i ? " OR " : "",
                              i + 1);
    o += (size_t)snprintf(sql + o, sizeof sql - o, ")) AS mentions FROM articles a WHERE 1");
    for (int i = 0; i < argc; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o,
                              " AND EXISTS (SELECT 1 FROM article_entities ae JOIN entities e"
                              " ON e.entity = ae.entity WHERE ae.article = a.article"
                              " AND e.name LIKE ?%d ESCAPE '\\')",
                              i + 1);
    snprintf(sql + o, sizeof sql - o, " ORDER BY mentions DESC LIMIT %lld",
             (long long)q->o.limit);
    for (size_t d = 0; d < q->n_dbs; d++) {
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st)
            return -1;
        for (int i = 0; i < argc; i++) {
            /* %NAME% with NAME's own % _ \ taken literally */
            char *pat = nm_xmalloc(2 * strlen(argv[i]) + 3), *w = pat;
            *w++ = '%';
            for (const char *c = argv[i]; *c; c++) {
                if (*c == '%' || *c == '_' || *c == '\\')
                    *w++ = '\\';
                *w++ = *c;
            }
            *w++ = '%';
            *w = '\0';
            sqlite3_bind_text(st, i + 1, pat, -1, free);
        }
        int rc = collect(q, &q->dbs[d], st, err);
        sqlite3_finalize(st);
        if (rc != 0)
            return -1;
    }
    sort_limit(q, "mentions", -1);
    static const column cols[] = {{"id", "ID", 40},
                                  {"title", "TITLE", 50},
                                  {"mentions", "MENTIONS", 0},
                                  {"entities", "ENTITIES", 60}};
    output_rows(q, cols, 4);
    return 0;
}

static const struct {
    const char *word, *type;
} entity_kinds[] = {
    {"people", "person"},          {"persons", "person"},      {"orgs", "organisation"},
    {"organisations", "organisation"}, {"organizations", "organisation"},
    {"places", "place"},           {"groups", "nationality"},  {"nationalities", "nationality"},
    {"other", "other"},
};

static int q_top(query_ctx *q, int argc, char **argv, nm_error *err)
{
    const char *type = NULL;
    for (size_t i = 0; argc == 1 && i < sizeof entity_kinds / sizeof entity_kinds[0]; i++)
        if (!strcmp(argv[0], entity_kinds[i].word))
            type = entity_kinds[i].type;
    if (!type)
        return nm_error_set(err, NM_ERR_INVALID,
                            "top needs one of people, orgs, places, groups, other");
    int64_t since = q->o.since_ms ? nm_time_unix_ms() - q->o.since_ms : 0;
    static const char *sql =
        "SELECT e.name AS name, count(*) AS articles, sum(ae.n_mentions) AS mentions"
        " FROM article_entities ae JOIN entities e ON e.entity = ae.entity"
        " JOIN articles a ON a.article = ae.article"
        " WHERE e.type = ?1 AND a.ingested_unix_ms >= ?2"
        " GROUP BY e.entity ORDER BY articles DESC, mentions DESC";
    json_object *merged = json_object_new_object(); /* name -> row, summed across dbs */
    for (size_t d = 0; d < q->n_dbs; d++) {
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st) {
            json_object_put(merged);
            return -1;
        }
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, since);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            json_object *row;
            if (!json_object_object_get_ex(merged, name, &row)) {
                row = json_object_new_object();
                json_object_object_add(row, "name", json_object_new_string(name));
                json_object_object_add(row, "articles", json_object_new_int64(0));
                json_object_object_add(row, "mentions", json_object_new_int64(0));
                json_object_object_add(merged, name, row);
            }
            json_object_object_add(row, "articles",
                                   json_object_new_int64((int64_t)num(row, "articles") +
                                                         sqlite3_column_int64(st, 1)));
            json_object_object_add(row, "mentions",
                                   json_object_new_int64((int64_t)num(row, "mentions") +
                                                         sqlite3_column_int64(st, 2)));
        }
        if (rc != SQLITE_DONE)
            nm_error_set(err, NM_ERR_DB, "%s: %s", q->dbs[d].path,
                         sqlite3_errmsg(nm_store_db(q->dbs[d].store)));
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            json_object_put(merged);
            return -1;
        }
    }
    json_object_object_foreach(merged, key, row)
    {
        (void)key;
        /* ties: more mentions first, via a combined key */
        json_object_object_add(row, "rank_key", json_object_new_double(num(row, "articles") * 1e9 +
                                                                       num(row, "mentions")));
        json_object_array_add(q->rows, json_object_get(row));
    }
    json_object_put(merged);
    sort_limit(q, "rank_key", -1);
    for (size_t i = 0; i < json_object_array_length(q->rows); i++)
        json_object_object_del(json_object_array_get_idx(q->rows, i), "rank_key");
    static const column cols[] = {{"name", "NAME", 40},
                                  {"articles", "ARTICLES", 0},
                                  {"mentions", "MENTIONS", 0}};
    size_t n_dbs = q->n_dbs;
    q->n_dbs = 1; /* merged rows belong to no single db */
    output_rows(q, cols, 3);
    q->n_dbs = n_dbs;
    return 0;
}

/* Finds an article's fingerprints in any database. */
static int find_fingerprints(query_ctx *q, const char *id, int64_t fp[6], void **minhash,
                             int *minhash_len, nm_error *err)
{
    static const char *sql =
        "SELECT simhash, sh0, sh1, sh2, sh3, fp_exact, minhash FROM articles WHERE id = ?1";
    for (size_t d = 0; d < q->n_dbs; d++) {
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < 6; i++)
                fp[i] = sqlite3_column_int64(st, i);
            *minhash_len = sqlite3_column_bytes(st, 6);
            *minhash = nm_xmalloc((size_t)*minhash_len + 1);
            if (*minhash_len)
                memcpy(*minhash, sqlite3_column_blob(st, 6), (size_t)*minhash_len);
            sqlite3_finalize(st);
            return 0;
        }
        sqlite3_finalize(st);
    }
    return nm_error_set(err, NM_ERR_NOT_FOUND, "no article with id '%s'", id);
}

static int q_dups(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc != 1)
        return nm_error_set(err, NM_ERR_INVALID, "dups needs one article ID");
    int64_t fp[6];
    void *minhash = NULL;
    int minhash_len = 0;
    if (find_fingerprints(q, argv[0], fp, &minhash, &minhash_len, err) != 0)
        return -1;
    /* SimHash catches light edits, MinHash (Jaccard over 3-word shingles)
     * also catches a paragraph added or rewritten: either makes a near
     * duplicate. MinHash needs every article looked at (a scan). */
    const char *sql =
        "SELECT id, title, hamming(simhash, ?1) AS distance,"
        " minhash_similarity(minhash, ?7) AS similarity, fp_exact = ?6 AS exact"
        " FROM articles WHERE id != ?8 AND (fp_exact = ?6 OR hamming(simhash, ?1) <= ?9"
        " OR minhash_similarity(minhash, ?7) >= ?10)"
        " AND ?2 IS NOT NULL AND ?3 IS NOT NULL AND ?4 IS NOT NULL AND ?5 IS NOT NULL";
    int rc = 0;
    for (size_t d = 0; d < q->n_dbs && rc == 0; d++) {
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st) {
            rc = -1;
            break;
        }
        sqlite3_bind_int64(st, 1, fp[0]);
        for (int i = 1; i < 6; i++)
            sqlite3_bind_int64(st, i + 1, fp[i]);
        if (minhash_len)
            sqlite3_bind_blob(st, 7, minhash, minhash_len, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_text(st, 8, argv[0], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, q->o.max_distance);
        sqlite3_bind_double(st, 10, q->o.min_similarity);
        rc = collect(q, &q->dbs[d], st, err);
        sqlite3_finalize(st);
    }
    free(minhash);
    if (rc != 0)
        return -1;
    for (size_t i = 0; i < json_object_array_length(q->rows); i++) { /* most alike first */
        json_object *row = json_object_array_get_idx(q->rows, i);
        json_object_object_add(row, "rank_key",
                               json_object_new_double(num(row, "exact") * 1e6 +
                                                      num(row, "similarity") * 1e3 -
                                                      num(row, "distance")));
    }
    sort_limit(q, "rank_key", -1);
    for (size_t i = 0; i < json_object_array_length(q->rows); i++)
        json_object_object_del(json_object_array_get_idx(q->rows, i), "rank_key");
    static const column cols[] = {{"id", "ID", 40},
                                  {"distance", "SIMHASH DISTANCE", 0},
                                  {"similarity", "MINHASH SIMILARITY", 0},
                                  {"exact", "EXACT", 0},
                                  {"title", "TITLE", 50}};
    output_rows(q, cols, 5);
    return 0;
}

/* Runs sql (?1 = article key) and returns its rows as a JSON array; columns
 * named start_byte/end_byte also yield "text" cut from body. */
static json_object *child_rows(sqlite3 *db, const char *sql, int64_t article, const char *body,
                               size_t body_len, nm_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        nm_error_set(err, NM_ERR_DB, "%s", sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, article);
    json_object *arr = json_object_new_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_object *row = json_object_new_object();
        int64_t start = -1, end = -1;
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            json_object_object_add(row, name, col_value(st, i));
            if (!strcmp(name, "start_byte"))
                start = sqlite3_column_int64(st, i);
            if (!strcmp(name, "end_byte"))
                end = sqlite3_column_int64(st, i);
        }
        if (start >= 0 && end >= start && (size_t)end <= body_len)
            json_object_object_add(row, "text",
                                   json_object_new_string_len(body + start, (int)(end - start)));
        json_object_array_add(arr, row);
    }
    sqlite3_finalize(st);
    return arr;
}

static int q_article(query_ctx *q, int argc, char **argv, nm_error *err)
{
    if (argc != 1)
        return nm_error_set(err, NM_ERR_INVALID, "article needs one article ID");
    static const char *sql =
        "SELECT article, id, source, url, published_unix_ms, modified_unix_ms, ingested_unix_ms,"
        " language, language_confidence, content_type, title, byline, n_bytes, n_chars, n_words,"
        " n_sentences, n_paragraphs, n_syllables, avg_sentence_words, flesch_reading_ease,"
        " flesch_kincaid_grade, printf('%016x', fp_exact) AS fp_exact,"
        " printf('%016x', simhash) AS simhash, summary, warnings, body"
        " FROM articles WHERE id = ?1";
    static const struct {
        const char *key, *sql;
    } children[] = {
        {"sentences", "SELECT idx, paragraph, start_byte, end_byte, n_words, summary_rank"
                      " FROM sentences WHERE article = ?1 ORDER BY idx"},
        {"sections", "SELECT idx, level, heading, first_paragraph, n_paragraphs, outline_idx"
                     " FROM sections WHERE article = ?1 ORDER BY idx"},
        {"outline", "SELECT idx, text, section_idx FROM outline WHERE article = ?1 ORDER BY idx"},
        {"entities", "SELECT e.name AS name, e.type AS type, ae.n_mentions AS n_mentions,"
                     " ae.salience AS salience FROM article_entities ae JOIN entities e"
                     " ON e.entity = ae.entity WHERE ae.article = ?1 ORDER BY ae.salience DESC"},
        {"mentions", "SELECT m.idx AS idx, e.name AS entity, m.sentence AS sentence,"
                     " m.start_byte AS start_byte, m.end_byte AS end_byte FROM mentions m"
                     " JOIN entities e ON e.entity = m.entity WHERE m.article = ?1 ORDER BY m.idx"},
        {"acronyms", "SELECT short_form, long_form, n_uses FROM acronyms WHERE article = ?1"
                     " ORDER BY idx"},
        {"keyphrases", "SELECT rank, phrase, score, n_occurrences FROM keyphrases"
                       " WHERE article = ?1 ORDER BY rank"},
    };
    for (size_t d = 0; d < q->n_dbs; d++) {
        sqlite3 *db = nm_store_db(q->dbs[d].store);
        sqlite3_stmt *st = prepare(&q->dbs[d], sql, err);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, argv[0], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            continue;
        }
        json_object *art = json_object_new_object();
        int64_t key = sqlite3_column_int64(st, 0);
        for (int i = 1; i < sqlite3_column_count(st); i++)
            json_object_object_add(art, sqlite3_column_name(st, i), col_value(st, i));
        const char *body = (const char *)sqlite3_column_text(st, sqlite3_column_count(st) - 1);
        size_t body_len = (size_t)sqlite3_column_bytes(st, sqlite3_column_count(st) - 1);
        if (q->n_dbs > 1)
            json_object_object_add(art, "db", json_object_new_string(q->dbs[d].path));
        int rc = 0;
        for (size_t c = 0; c < sizeof children / sizeof children[0] && rc == 0; c++) {
            json_object *arr = child_rows(db, children[c].sql, key, body, body_len, err);
            if (!arr)
                rc = -1;
            else
                json_object_object_add(art, children[c].key, arr);
        }
        sqlite3_finalize(st);
        if (rc == 0)
            puts(json_object_to_json_string_ext(
                art, JSON_C_TO_STRING_NOSLASHESCAPE |
                         (q->o.json ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY)));
        json_object_put(art);
        return rc;
    }
    return nm_error_set(err, NM_ERR_NOT_FOUND, "no article with id '%s' in %zu database%s",
                        argv[0], q->n_dbs, q->n_dbs == 1 ? "" : "s");
}

static const struct {
    const char *name;
    int (*run)(query_ctx *q, int argc, char **argv, nm_error *err);
} questions[] = {
    {"search", q_search}, {"entity", q_entity}, {"top", q_top},
    {"dups", q_dups},     {"article", q_article},
};

/* ---- main ---------------------------------------------------------------- */

static int open_dbs(query_ctx *q, nm_error *err)
{
    char **paths = NULL;
    size_t n = 0;
    glob_t g = {0};
    if (q->o.dir) {
        char pattern[4096];
        snprintf(pattern, sizeof pattern, "%s/results*.db", q->o.dir);
        if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            globfree(&g);
            return nm_error_set(err, NM_ERR_NOT_FOUND, "no results*.db in %s", q->o.dir);
        }
        paths = g.gl_pathv;
        n = g.gl_pathc;
    } else {
        paths = (char **)&q->o.db;
        n = 1;
    }
    q->dbs = nm_xcalloc(n, sizeof *q->dbs);
    nm_store_options so = {.read_only = true};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        q->dbs[q->n_dbs].path = nm_xstrdup(paths[i]);
        q->dbs[q->n_dbs].store = nm_store_open(paths[i], &so, err);
        if (!q->dbs[q->n_dbs].store) {
            free(q->dbs[q->n_dbs].path);
            if (err->code == NM_ERR_NOT_FOUND && !q->o.dir)
                nm_error_set(err, NM_ERR_NOT_FOUND,
                             "no results database at %s (start a fleet: scripts/fleet start;"
                             " or --db FILE / --dir DIR)",
                             paths[i]);
            rc = -1;
            break;
        }
        q->n_dbs++;
    }
    if (q->o.dir)
        globfree(&g);
    return rc;
}

int nm_cmd_query(int argc, char **argv)
{
    query_opts o = {.db = QUERY_DB_DEFAULT, .limit = 10, .max_distance = 3, .min_similarity = 0.5};
    const nm_opt opts[] = {
        {"db", 0, NM_OPT_STRING, &o.db, "FILE", "results database", 0, 0},
        {"dir", 0, NM_OPT_STRING, &o.dir, "DIR", "every results*.db in DIR instead (one per host)",
         0, 0},
        {"limit", 'n', NM_OPT_INT, &o.limit, "N", "at most N rows", 1, 1000000},
        {"since", 0, NM_OPT_DURATION, &o.since_ms, "DURATION",
         "top: only articles ingested this recently (0: all)", 0, 0},
        {"max-distance", 0, NM_OPT_INT, &o.max_distance, "BITS",
         "dups: near when SimHashes differ in at most BITS bits ...", 0, 64},
        {"min-similarity", 0, NM_OPT_DOUBLE, &o.min_similarity, "X",
         "dups: ... or when MinHash similarity is at least X", 0, 1},
        {"json", 0, NM_OPT_FLAG, &o.json, NULL, "print JSON (rows as an array)", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int first;
    nm_error err;
    const nm_opts_program program = {
        "newsmill query", "[OPTIONS] QUESTION ARGS",
        "Canned questions over the results database(s):\n"
        "  search TEXT                 full-text search (FTS5 syntax: AND, OR, \"phrase\", pre*)\n"
        "  entity NAME [NAME...]       articles mentioning every NAME (substring match)\n"
        "  top people|orgs|places|groups|other   most mentioned entities (--since 1h)\n"
        "  dups ID                     exact and near duplicates of an article\n"
        "  article ID                  the full extraction of an article, as JSON",
        opts, n_opts, -1};
    int rc = nm_opts_run(&program, argc, argv, &first);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    if (first >= argc) {
        fprintf(stderr, "newsmill query: which question? search, entity, top, dups, article"
                        " (see newsmill query --help)\n");
        return NM_EXIT_USAGE;
    }
    const char *question = argv[first];
    int (*run)(query_ctx *, int, char **, nm_error *) = NULL;
    for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++)
        if (!strcmp(question, questions[i].name))
            run = questions[i].run;
    if (!run) {
        fprintf(stderr, "newsmill query: unknown question '%s' (search, entity, top, dups, article)\n",
                question);
        return NM_EXIT_USAGE;
    }
    query_ctx q = {.o = o};
    q.rows = json_object_new_array();
    int code = NM_EXIT_OK;
    if (open_dbs(&q, &err) != 0) {
        fprintf(stderr, "newsmill query: %s\n", err.msg);
        code = NM_EXIT_FAILURE;
    } else if (run(&q, argc - first - 1, argv + first + 1, &err) != 0) {
        fprintf(stderr, "newsmill query %s: %s\n", question, err.msg);
        code = err.code == NM_ERR_INVALID ? NM_EXIT_USAGE : NM_EXIT_FAILURE;
    }
    fflush(stdout);
    for (size_t i = 0; i < q.n_dbs; i++) {
        nm_store_close(&q.dbs[i].store);
        free(q.dbs[i].path);
    }
    free(q.dbs);
    json_object_put(q.rows);
    return code;
}

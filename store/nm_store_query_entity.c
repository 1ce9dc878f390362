/* nm_store_query_entity: the entity questions of nm_store_query.h:
 * articles that mention names (entity), the most mentioned (top), mentions
 * over time (timeline) and names mentioned alongside (cooccurring). What
 * they share with the article questions is in nm_store_query_int.h. */
#include "nm_store_query.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_store.h"
#include "nm_store_query_int.h"

/* ---- merging: rows of the same entity or bucket summed across databases ---- */

/* Adds the integer columns [first, n) of st's row to row's same-named
 * fields (summing across databases). */
static void add_counts(json_object *row, sqlite3_stmt *st, int first)
{
    for (int i = first; i < sqlite3_column_count(st); i++) {
        const char *k = sqlite3_column_name(st, i);
        json_object_object_add(row, k, json_object_new_int64((int64_t)nm_sq_num(row, k) +
                                                             sqlite3_column_int64(st, i)));
    }
}

/* Runs st on one database and merges its rows into merged (an object from
 * a key to a row): the first key_cols columns are the identity (their text
 * joined by '\x1f' is the key) and copied; the others are summed. */
static int merge_rows(const nm_sq_db *db, sqlite3_stmt *st, int key_cols, json_object *merged,
                      nm_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char key[1024];
        size_t o = 0;
        for (int i = 0; i < key_cols; i++)
            o += (size_t)snprintf(key + o, sizeof key - (o < sizeof key ? o : sizeof key), "%s\x1f",
                                  (const char *)sqlite3_column_text(st, i));
        json_object *row;
        if (!json_object_object_get_ex(merged, key, &row)) {
            row = json_object_new_object();
            for (int i = 0; i < key_cols; i++)
                json_object_object_add(row, sqlite3_column_name(st, i), nm_sq_col_value(st, i));
            json_object_object_add(merged, key, row);
        }
        add_counts(row, st, key_cols);
    }
    if (rc != SQLITE_DONE)
        return nm_error_set(err, nm_store_errcode(rc), "%s: %s", db->path,
                            sqlite3_errmsg(sqlite3_db_handle(st)));
    return 0;
}

/* The rows of merged as an array (merged is freed). */
static json_object *merged_rows(json_object *merged)
{
    json_object *rows = json_object_new_array();
    json_object_object_foreach(merged, key, row)
    {
        (void)key;
        json_object_array_add(rows, json_object_get(row));
    }
    json_object_put(merged);
    return rows;
}

/* Runs sql on every database (bind sets its parameters; partitions outside
 * window skipped) and merges the rows as merge_rows does: the merged rows as an array, or NULL, err set. */
static json_object *merge_each(const nm_store_query *q, const nm_store_query_page *window,
                               const char *sql, nm_sq_bind_fn bind, const void *ctx, int key_cols,
                               nm_error *err)
{
    json_object *merged = json_object_new_object();
    for (size_t d = 0; d < q->n_dbs; d++) {
        if (nm_sq_outside(&q->dbs[d], window))
            continue;
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
        if (!st) {
            json_object_put(merged);
            return NULL;
        }
        bind(st, ctx);
        int rc = merge_rows(&q->dbs[d], st, key_cols, merged, err);
        sqlite3_finalize(st);
        if (rc != 0) {
            json_object_put(merged);
            return NULL;
        }
    }
    return merged_rows(merged);
}

/* ---- questions ---- */

/* The parameters of the entity question. */
struct entity_args {
    const char *const *names;
    int argc;
    const nm_store_query_page *page;
};

static void bind_entity(sqlite3_stmt *st, const void *ctx)
{
    const struct entity_args *a = ctx;
    for (int i = 0; i < a->argc; i++) {
        /* %NAME% with NAME's own % _ \ taken literally */
        char *pat = nm_xmalloc(2 * strlen(a->names[i]) + 3), *w = pat;
        *w++ = '%';
        for (const char *c = a->names[i]; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '\\')
                *w++ = '\\';
            *w++ = *c;
        }
        *w++ = '%';
        *w = '\0';
        sqlite3_bind_text(st, i + 1, pat, -1, free);
    }
    sqlite3_bind_int64(st, a->argc + 1, a->page->since_unix_ms);
    sqlite3_bind_int64(st, a->argc + 2, nm_sq_page_until(a->page));
    sqlite3_bind_int64(st, a->argc + 3, nm_sq_page_rows(a->page));
}

/* Writes "e.name LIKE ?1 ESCAPE '\\' OR ..." for the argc names into sql;
 * the length written. */
static size_t name_likes(char *sql, size_t size, int argc)
{
    size_t o = 0;
    for (int i = 0; i < argc; i++)
        o += (size_t)snprintf(sql + o, size - o, "%se.name LIKE ?%d ESCAPE '\\'", i ? " OR " : "",
                              i + 1);
    return o;
}

json_object *nm_store_query_entity(nm_store_query *q, const char *const *names, size_t n,
                                   const nm_store_query_page *page, nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    if (n < 1 || n > 8) {
        nm_error_set(err, NM_ERR_INVALID, "entity needs 1 to 8 NAMEs (articles mention all)");
        return NULL;
    }
    int argc = (int)n;
    /* One EXISTS per name: articles that mention every one of them. */
    char sql[8192];
    size_t o = (size_t)snprintf(
        sql, sizeof sql,
        "SELECT a.id AS id, a.title AS title, a.published_unix_ms AS published_unix_ms,"
        /* by name: entity row ids differ from one file (partition) to another */
        " (SELECT group_concat(x, ', ') FROM (SELECT e.name || ' (' || e.type || ')' AS x"
        "  FROM article_entities ae JOIN entities e ON e.entity = ae.entity"
        "  WHERE ae.article = a.article AND (");
    o += name_likes(sql + o, sizeof sql - o, argc);
    o += (size_t)snprintf(sql + o, sizeof sql - o,
                          ") ORDER BY e.name, e.type)) AS entities,"
                          " (SELECT sum(ae.n_mentions) FROM article_entities ae JOIN entities e"
                          "  ON e.entity = ae.entity WHERE ae.article = a.article AND (");
    o += name_likes(sql + o, sizeof sql - o, argc);
    o += (size_t)snprintf(sql + o, sizeof sql - o,
                          ")) AS mentions FROM articles a WHERE a.ingested_unix_ms >= ?%d"
                          " AND a.ingested_unix_ms < ?%d",
                          argc + 1, argc + 2);
    for (int i = 0; i < argc; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o,
                              " AND EXISTS (SELECT 1 FROM article_entities ae JOIN entities e"
                              " ON e.entity = ae.entity WHERE ae.article = a.article"
                              " AND e.name LIKE ?%d ESCAPE '\\')",
                              i + 1);
    snprintf(sql + o, sizeof sql - o, " ORDER BY mentions DESC LIMIT ?%d", argc + 3);
    struct entity_args args = {names, argc, page};
    json_object *rows = json_object_new_array();
    if (nm_sq_collect_each(q, page, sql, bind_entity, &args, rows, err) != 0) {
        json_object_put(rows);
        return NULL;
    }
    nm_sq_sort_page(rows, "mentions", -1, page);
    return rows;
}

static const struct {
    const char *word, *type;
} entity_kinds[] = {
    {"people", "person"},          {"persons", "person"},      {"person", "person"},
    {"orgs", "organisation"},      {"organisations", "organisation"},
    {"organizations", "organisation"}, {"organisation", "organisation"},
    {"organization", "organisation"},  {"places", "place"},  {"place", "place"},
    {"groups", "nationality"},     {"group", "nationality"}, {"nationalities", "nationality"},
    {"nationality", "nationality"}, {"other", "other"},
};

const char *nm_store_query_entity_type(const char *word)
{
    for (size_t i = 0; i < sizeof entity_kinds / sizeof entity_kinds[0]; i++)
        if (!strcmp(word, entity_kinds[i].word))
            return entity_kinds[i].type;
    return NULL;
}

json_object *nm_store_query_top(nm_store_query *q, const char *type,
                                const nm_store_query_page *page, nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    static const char *sql =
        "SELECT e.name AS name, count(*) AS articles, sum(ae.n_mentions) AS mentions"
        " FROM article_entities ae JOIN entities e ON e.entity = ae.entity"
        " JOIN articles a ON a.article = ae.article"
        " WHERE e.type = ?1 AND a.ingested_unix_ms >= ?2 AND a.ingested_unix_ms < ?3"
        " GROUP BY e.entity ORDER BY articles DESC, mentions DESC LIMIT ?4";
    json_object *merged = json_object_new_object(); /* name -> row, summed across dbs */
    for (size_t d = 0; d < q->n_dbs; d++) {
        if (nm_sq_outside(&q->dbs[d], page))
            continue;
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
        if (!st) {
            json_object_put(merged);
            return NULL;
        }
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, page->since_unix_ms);
        sqlite3_bind_int64(st, 3, nm_sq_page_until(page));
        /* one database: its first rows are the answer; several: every
         * entity is summed across them before ranking */
        sqlite3_bind_int64(st, 4, q->n_dbs == 1 ? nm_sq_page_rows(page) : -1);
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
                                   json_object_new_int64((int64_t)nm_sq_num(row, "articles") +
                                                         sqlite3_column_int64(st, 1)));
            json_object_object_add(row, "mentions",
                                   json_object_new_int64((int64_t)nm_sq_num(row, "mentions") +
                                                         sqlite3_column_int64(st, 2)));
        }
        if (rc != SQLITE_DONE)
            nm_error_set(err, NM_ERR_DB, "%s: %s", q->dbs[d].path,
                         sqlite3_errmsg(nm_store_db(q->dbs[d].store)));
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            json_object_put(merged);
            return NULL;
        }
    }
    json_object *rows = json_object_new_array();
    json_object_object_foreach(merged, key, row)
    {
        (void)key;
        /* ties: more mentions first, via a combined key */
        json_object_object_add(row, "rank_key",
                               json_object_new_double(nm_sq_num(row, "articles") * 1e9 +
                                                      nm_sq_num(row, "mentions")));
        json_object_array_add(rows, json_object_get(row));
    }
    json_object_put(merged);
    nm_sq_rank_page(rows, page);
    return rows;
}

/* The parameters of timeline and cooccurring. */
struct name_args {
    const char *name;
    int64_t bucket_ms; /* timeline only */
    const nm_store_query_page *page;
};

static void bind_timeline(sqlite3_stmt *st, const void *ctx)
{
    const struct name_args *a = ctx;
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->bucket_ms);
    sqlite3_bind_int64(st, 3, a->page->since_unix_ms);
    sqlite3_bind_int64(st, 4, nm_sq_page_until(a->page));
}

static void bind_cooccurring(sqlite3_stmt *st, const void *ctx)
{
    const struct name_args *a = ctx;
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, a->page->since_unix_ms);
    sqlite3_bind_int64(st, 3, nm_sq_page_until(a->page));
}

json_object *nm_store_query_timeline(nm_store_query *q, const char *name, int64_t bucket_ms,
                                     const nm_store_query_page *page, nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    if (bucket_ms < 1000 || bucket_ms > 366LL * 86400000) {
        nm_error_set(err, NM_ERR_INVALID, "bucket must be 1s to 366d");
        return NULL;
    }
    static const char *sql =
        "SELECT (a.ingested_unix_ms / ?2) * ?2 AS bucket_unix_ms,"
        " count(DISTINCT a.article) AS articles, sum(ae.n_mentions) AS mentions"
        " FROM entities e JOIN article_entities ae ON ae.entity = e.entity"
        " JOIN articles a ON a.article = ae.article"
        " WHERE e.name = ?1 AND a.ingested_unix_ms >= ?3 AND a.ingested_unix_ms < ?4"
        " GROUP BY 1 ORDER BY 1";
    struct name_args args = {name, bucket_ms, page};
    json_object *rows = merge_each(q, page, sql, bind_timeline, &args, 1, err);
    if (!rows)
        return NULL;
    nm_sq_sort_page(rows, "bucket_unix_ms", 1, page);
    return rows;
}

json_object *nm_store_query_cooccurring(nm_store_query *q, const char *name,
                                        const nm_store_query_page *page, nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    static const char *sql =
        "SELECT e2.name AS name, e2.type AS type, count(DISTINCT a.article) AS articles"
        " FROM entities e JOIN article_entities ae ON ae.entity = e.entity"
        " JOIN articles a ON a.article = ae.article"
        " JOIN article_entities ae2 ON ae2.article = ae.article AND ae2.entity != ae.entity"
        " JOIN entities e2 ON e2.entity = ae2.entity"
        " WHERE e.name = ?1 AND e2.name != ?1 AND a.ingested_unix_ms >= ?2"
        " AND a.ingested_unix_ms < ?3 GROUP BY e2.entity ORDER BY e2.name, e2.type";
    struct name_args args = {name, 0, page};
    json_object *rows = merge_each(q, page, sql, bind_cooccurring, &args, 2, err);
    if (!rows)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(rows); i++) { /* ties: by name */
        json_object *row = json_object_array_get_idx(rows, i);
        json_object_object_add(row, "rank_key", json_object_new_double(nm_sq_num(row, "articles")));
    }
    nm_sq_rank_page(rows, page);
    return rows;
}

/* nm_store_query: the canned questions over the results databases (see
 * nm_store_query.h). Each question runs on every database and the rows are
 * merged here (sorted, summed for top, limited). This file opens the
 * databases, holds what every question uses (rows, pages, merging) and asks
 * the article questions: search, latest, dups, each, article; the entity
 * questions are in nm_store_query_entity.c. */
#include "nm_store_query.h"

#include <glob.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_partition.h"
#include "nm_store.h"
#include "nm_store_query_int.h"
#include "nm_store_snippet.h"
#include "nm_time.h"

/* ---- opening ------------------------------------------------------------ */

/* Newest partition first (by start, then name), then the files that are not
 * partitions, by name. */
static int cmp_paths(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    nm_partition_name nx, ny;
    bool px = nm_partition_parse(x, &nx), py = nm_partition_parse(y, &ny);
    if (px != py)
        return px ? -1 : 1;
    if (px && nx.start_ms != ny.start_ms)
        return nx.start_ms > ny.start_ms ? -1 : 1;
    const char *bx = strrchr(x, '/'), *by = strrchr(y, '/');
    return strcmp(bx ? bx + 1 : x, by ? by + 1 : y);
}

static bool empty_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size == 0;
}

static int cmp_dbs(const void *a, const void *b)
{
    const char *x = ((const nm_sq_db *)a)->path, *y = ((const nm_sq_db *)b)->path;
    return cmp_paths(&x, &y);
}

static bool in_list(char *const *list, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], path))
            return true;
    return false;
}

/* Adds the database at path; in a directory (skip_bad), a file that cannot be
 * read is skipped with a warning naming it and why (once: it is not tried
 * again), and a partition being created is skipped quietly (tried again). */
static int add_db(nm_store_query *q, const char *path, bool skip_bad, nm_error *err)
{
    nm_store_options so = {.read_only = true};
    if (q->n_dbs == q->cap_dbs) {
        q->cap_dbs = q->cap_dbs ? q->cap_dbs * 2 : 16;
        q->dbs = nm_xrealloc(q->dbs, q->cap_dbs * sizeof *q->dbs);
    }
    nm_sq_db *db = &q->dbs[q->n_dbs];
    db->store = nm_store_open(path, &so, err);
    if (!db->store) {
        if (!skip_bad)
            return -1;
        /* an empty file, or one without a schema yet: a partition being created */
        if (empty_file(path) || (err->code == NM_ERR_VERSION && strstr(err->msg, "version 0,"))) {
            nm_log_debug("results database skipped path=%s: %s", path, err->msg);
            return 0;
        }
        nm_log_warn("results database skipped path=%s: %s", path, err->msg);
        q->bad = nm_xrealloc(q->bad, (q->n_bad + 1) * sizeof *q->bad);
        q->bad[q->n_bad++] = nm_xstrdup(path);
        return 0;
    }
    if (nm_store_snippet_register(nm_store_db(db->store), err) != 0) {
        nm_store_close(&db->store);
        return -1;
    }
    /* reads through a memory map: no copy from the OS cache per page, and
     * readers in several threads share the pages */
    sqlite3_exec(nm_store_db(db->store), "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
    db->search = NULL;
    db->path = nm_xstrdup(path);
    nm_partition_name name;
    if (nm_partition_parse(path, &name)) {
        db->from_ms = name.start_ms;
        db->to_ms = name.start_ms + name.period_ms;
    } else {
        db->from_ms = 0;
        db->to_ms = INT64_MAX;
    }
    q->n_dbs++;
    return 0;
}

/* Every results*.db of q's directories: opens the new ones, closes those
 * gone (pruned), newest partition first. -1 with err when a directory has
 * no results*.db. */
static int scan(nm_store_query *q, nm_error *err)
{
    q->scanned_ns = nm_time_mono_ns();
    size_t kept = 0;
    for (size_t i = 0; i < q->n_dbs; i++) {
        if (access(q->dbs[i].path, F_OK) == 0) {
            q->dbs[kept++] = q->dbs[i];
            continue;
        }
        nm_log_info("results database gone path=%s", q->dbs[i].path);
        sqlite3_finalize(q->dbs[i].search);
        nm_store_close(&q->dbs[i].store);
        free(q->dbs[i].path);
    }
    q->n_dbs = kept;
    size_t n_known = q->n_dbs;
    for (size_t i = 0; i < q->n_dirs; i++) {
        char pattern[4096];
        glob_t g = {0};
        snprintf(pattern, sizeof pattern, "%s/results*.db", q->dirs[i]);
        if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
            globfree(&g);
            return nm_error_set(err, NM_ERR_NOT_FOUND, "no results*.db in %s", q->dirs[i]);
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *path = g.gl_pathv[k];
            bool known = in_list(q->bad, q->n_bad, path);
            for (size_t d = 0; d < n_known && !known; d++)
                known = !strcmp(q->dbs[d].path, path);
            if (!known)
                add_db(q, path, true, err);
        }
        globfree(&g);
    }
    qsort(q->dbs, q->n_dbs, sizeof *q->dbs, cmp_dbs);
    return 0;
}

void nm_sq_rescan(nm_store_query *q)
{
    nm_error err;
    if (q->each_db < 0 && q->n_dirs && nm_time_mono_ns() - q->scanned_ns >= 1000000000LL && scan(q, &err) < 0)
        nm_log_warn("%s", err.msg);
}

nm_store_query *nm_store_query_open_dirs(const char *const *dirs, size_t n_dirs, nm_error *err)
{
    nm_store_query *q = nm_xcalloc(1, sizeof *q);
    q->each_db = -1;
    q->dirs = nm_xcalloc(n_dirs, sizeof *q->dirs);
    for (size_t i = 0; i < n_dirs; i++)
        q->dirs[q->n_dirs++] = nm_xstrdup(dirs[i]);
    if (scan(q, err) < 0) {
        nm_store_query_close(&q);
        return NULL;
    }
    if (q->n_dbs == 0) {
        nm_store_query_close(&q);
        nm_error_set(err, NM_ERR_NOT_FOUND, "no readable results database in %s%s",
                     n_dirs ? dirs[0] : "", n_dirs > 1 ? " and the other directories" : "");
        return NULL;
    }
    return q;
}

nm_store_query *nm_store_query_open(const char *db_path, const char *dir, nm_error *err)
{
    if ((!dir || !*dir) && (!db_path || !*db_path)) { /* the defaults (nm_partition.h) */
        struct stat st;
        if (stat(NM_RESULTS_DIR_DEFAULT, &st) == 0 && S_ISDIR(st.st_mode))
            dir = NM_RESULTS_DIR_DEFAULT;
        else
            db_path = NM_RESULTS_DB_DEFAULT;
    }
    if (dir && *dir) { /* DIR or DIR,DIR,... */
        char *copy = nm_xstrdup(dir), *save = NULL;
        const char *dirs[64];
        size_t n = 0;
        for (char *t = strtok_r(copy, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save))
            if (*t)
                dirs[n++] = t;
        nm_store_query *q = NULL;
        if (n == 0)
            nm_error_set(err, NM_ERR_INVALID, "no directory in '%s'", dir);
        else
            q = nm_store_query_open_dirs(dirs, n, err);
        free(copy);
        return q;
    }
    nm_store_query *q = nm_xcalloc(1, sizeof *q);
    q->each_db = -1;
    if (add_db(q, db_path, false, err) != 0) {
        if (err->code == NM_ERR_NOT_FOUND)
            nm_error_set(err, NM_ERR_NOT_FOUND,
                         "no results database at %s (start a fleet: scripts/fleet start;"
                         " or --db FILE / --dir DIR)",
                         db_path);
        nm_store_query_close(&q);
    }
    return q;
}

void nm_store_query_close(nm_store_query **qp)
{
    if (!qp || !*qp)
        return;
    nm_store_query *q = *qp;
    for (size_t i = 0; i < q->n_dbs; i++) {
        sqlite3_finalize(q->dbs[i].search);
        nm_store_close(&q->dbs[i].store);
        free(q->dbs[i].path);
    }
    free(q->dbs);
    for (size_t i = 0; i < q->n_dirs; i++)
        free(q->dirs[i]);
    free(q->dirs);
    for (size_t i = 0; i < q->n_bad; i++)
        free(q->bad[i]);
    free(q->bad);
    free(q);
    *qp = NULL;
}

size_t nm_store_query_databases(const nm_store_query *q)
{
    return q->n_dbs;
}

/* ---- rows -------------------------------------------------------------- */

json_object *nm_sq_col_value(sqlite3_stmt *st, int i)
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
 * rows, with "db" added when several databases are read. */
static int collect(const nm_store_query *q, const nm_sq_db *db, sqlite3_stmt *st, json_object *rows,
                   nm_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *row = json_object_new_object();
        for (int i = 0; i < sqlite3_column_count(st); i++)
            json_object_object_add(row, sqlite3_column_name(st, i), nm_sq_col_value(st, i));
        if (q->n_dbs > 1) {
            const char *slash = strrchr(db->path, '/');
            json_object_object_add(row, "db", json_object_new_string(slash ? slash + 1 : db->path));
        }
        json_object_array_add(rows, row);
    }
    if (rc != SQLITE_DONE)
        return nm_error_set(err, nm_store_errcode(rc), "%s: %s", db->path,
                            sqlite3_errmsg(sqlite3_db_handle(st)));
    return 0;
}

sqlite3_stmt *nm_sq_prepare(const nm_sq_db *db, const char *sql, nm_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_store_db(db->store), sql, -1, &st, NULL) != SQLITE_OK) {
        nm_error_set(err, NM_ERR_DB, "%s: %s", db->path, sqlite3_errmsg(nm_store_db(db->store)));
        return NULL;
    }
    return st;
}

double nm_sq_num(json_object *row, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(row, key, &v) && v ? json_object_get_double(v) : 0;
}

/* json-c's sort takes no context: the key and direction of the sort in
 * progress, one per thread (each thread sorts its own rows). */
static _Thread_local const char *sort_key;
static _Thread_local int sort_sign;

static int cmp_rows(const void *a, const void *b)
{
    double x = nm_sq_num(*(json_object *const *)a, sort_key);
    double y = nm_sq_num(*(json_object *const *)b, sort_key);
    return x < y ? -sort_sign : x > y ? sort_sign : 0;
}

/* Sorts rows by key (ascending when sign is 1) and keeps the first limit. */
static void sort_limit(json_object *rows, const char *key, int sign, int64_t limit)
{
    sort_key = key;
    sort_sign = sign;
    json_object_array_sort(rows, cmp_rows);
    size_t n = json_object_array_length(rows);
    if (n > (size_t)limit)
        json_object_array_del_idx(rows, (size_t)limit, n - (size_t)limit);
}

/* Sorts rows by the number rank_key (highest first), keeps limit, and
 * drops the key. */
static void rank_limit(json_object *rows, int64_t limit)
{
    sort_limit(rows, "rank_key", -1, limit);
    for (size_t i = 0; i < json_object_array_length(rows); i++)
        json_object_object_del(json_object_array_get_idx(rows, i), "rank_key");
}

/* ---- pages -------------------------------------------------------------- */

int nm_sq_check_page(const nm_store_query_page *page, nm_error *err)
{
    if (page->limit < 1 || page->limit > NM_STORE_QUERY_MAX_LIMIT)
        return nm_error_set(err, NM_ERR_INVALID, "limit must be 1 to %d (got %lld)",
                            NM_STORE_QUERY_MAX_LIMIT, (long long)page->limit);
    if (page->offset < 0 || page->offset > 1000000)
        return nm_error_set(err, NM_ERR_INVALID, "offset must be 0 to 1000000 (got %lld)",
                            (long long)page->offset);
    if (page->since_unix_ms < 0 || page->until_unix_ms < 0)
        return nm_error_set(err, NM_ERR_INVALID, "since and until must not be negative");
    return 0;
}

/* Rows each database is asked for: enough for the page after merging. */
int64_t nm_sq_page_rows(const nm_store_query_page *page)
{
    return page->offset + page->limit;
}

int64_t nm_sq_page_until(const nm_store_query_page *page)
{
    return page->until_unix_ms > 0 ? page->until_unix_ms : INT64_MAX;
}

/* Keeps rows [offset, offset + limit) of sorted rows. */
static void cut_page(json_object *rows, const nm_store_query_page *page)
{
    size_t n = json_object_array_length(rows), off = (size_t)page->offset;
    if (off > 0)
        json_object_array_del_idx(rows, 0, off < n ? off : n);
    n = json_object_array_length(rows);
    if (n > (size_t)page->limit)
        json_object_array_del_idx(rows, (size_t)page->limit, n - (size_t)page->limit);
}

/* Sorts by key (ascending when sign is 1) and keeps the page. */
void nm_sq_sort_page(json_object *rows, const char *key, int sign, const nm_store_query_page *page)
{
    sort_limit(rows, key, sign, nm_sq_page_rows(page));
    cut_page(rows, page);
}

/* Sorts by rank_key (highest first), keeps the page and drops the key. */
void nm_sq_rank_page(json_object *rows, const nm_store_query_page *page)
{
    rank_limit(rows, nm_sq_page_rows(page));
    cut_page(rows, page);
}

bool nm_sq_outside(const nm_sq_db *db, const nm_store_query_page *page)
{
    return page && (db->to_ms <= page->since_unix_ms || db->from_ms >= nm_sq_page_until(page));
}

int nm_sq_collect_each(const nm_store_query *q, const nm_store_query_page *window,
                       const char *sql, nm_sq_bind_fn bind, const void *ctx, json_object *rows,
                       nm_error *err)
{
    for (size_t d = 0; d < q->n_dbs; d++) {
        if (nm_sq_outside(&q->dbs[d], window))
            continue;
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
        if (!st)
            return -1;
        bind(st, ctx);
        int rc = collect(q, &q->dbs[d], st, rows, err);
        sqlite3_finalize(st);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- article questions ------------------------------------------------- */

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

json_object *nm_store_query_search(nm_store_query *q, const char *text,
                                   const nm_store_query_page *page, unsigned flags, nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    static const char *sql =
        "SELECT a.id AS id, a.title AS title, a.source AS source,"
        " a.published_unix_ms AS published_unix_ms,"
        " nm_snippet(articles_fts, 1, '[', ']', '…', 10) AS snippet, bm25(articles_fts) AS score"
        " FROM articles_fts JOIN articles a ON a.article = articles_fts.rowid"
        " WHERE articles_fts MATCH ?1 AND coalesce(a.published_unix_ms, 0) >= ?3"
        " AND coalesce(a.published_unix_ms, 0) < ?4"
        " ORDER BY rank LIMIT ?2";
    json_object *rows = json_object_new_array();
    int rc = 0;
    for (size_t d = 0; d < q->n_dbs && rc == 0; d++) {
        /* kept prepared across calls: preparing an FTS5 query costs about
         * as much as running it */
        if (!q->dbs[d].search)
            q->dbs[d].search = nm_sq_prepare(&q->dbs[d], sql, err);
        sqlite3_stmt *st = q->dbs[d].search;
        if (!st) {
            rc = -1;
            break;
        }
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, nm_sq_page_rows(page));
        sqlite3_bind_int64(st, 3, page->since_unix_ms);
        sqlite3_bind_int64(st, 4, nm_sq_page_until(page));
        rc = collect(q, &q->dbs[d], st, rows, err);
        /* SQLITE_ERROR from MATCH: the query text does not parse ("syntax
         * error", "no such column", "unterminated string") */
        bool bad_text = rc != 0 && sqlite3_errcode(nm_store_db(q->dbs[d].store)) == SQLITE_ERROR;
        if (bad_text && (flags & NM_STORE_QUERY_STRICT)) {
            nm_error_set(err, NM_ERR_INVALID, "not a valid full-text query: %s",
                         sqlite3_errmsg(nm_store_db(q->dbs[d].store)));
        } else if (bad_text) { /* retry as plain words */
            char *words = quote_words(text);
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, words, -1, SQLITE_TRANSIENT);
            free(words);
            rc = collect(q, &q->dbs[d], st, rows, err);
        }
        sqlite3_reset(st); /* ends the read: no snapshot held between calls */
        sqlite3_clear_bindings(st);
    }
    if (rc != 0) {
        json_object_put(rows);
        return NULL;
    }
    nm_sq_sort_page(rows, "score", 1, page); /* bm25: lower is better */
    return rows;
}

static void bind_latest(sqlite3_stmt *st, const void *ctx)
{
    const nm_store_query_page *page = ctx;
    sqlite3_bind_int64(st, 1, nm_sq_page_rows(page));
    sqlite3_bind_int64(st, 2, page->since_unix_ms);
    sqlite3_bind_int64(st, 3, nm_sq_page_until(page));
}

json_object *nm_store_query_latest(nm_store_query *q, const nm_store_query_page *page,
                                   nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    static const char *sql =
        "SELECT id, title, source, published_unix_ms, ingested_unix_ms FROM articles"
        " WHERE ingested_unix_ms >= ?2 AND ingested_unix_ms < ?3"
        " ORDER BY ingested_unix_ms DESC, article DESC LIMIT ?1";
    json_object *rows = json_object_new_array();
    if (nm_sq_collect_each(q, page, sql, bind_latest, page, rows, err) != 0) {
        json_object_put(rows);
        return NULL;
    }
    nm_sq_sort_page(rows, "ingested_unix_ms", -1, page);
    return rows;
}

/* Finds an article's fingerprints in any database. */
static int find_fingerprints(nm_store_query *q, const char *id, int64_t fp[6], void **minhash,
                             int *minhash_len, nm_error *err)
{
    static const char *sql =
        "SELECT simhash, sh0, sh1, sh2, sh3, fp_exact, minhash FROM articles WHERE id = ?1";
    for (size_t d = 0; d < q->n_dbs; d++) {
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
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

/* The parameters of the dups question. */
struct dups_args {
    const int64_t *fp;
    const void *minhash;
    int minhash_len;
    const char *id;
    int64_t max_distance;
    double min_similarity;
};

static void bind_dups(sqlite3_stmt *st, const void *ctx)
{
    const struct dups_args *a = ctx;
    sqlite3_bind_int64(st, 1, a->fp[0]);
    for (int i = 1; i < 6; i++)
        sqlite3_bind_int64(st, i + 1, a->fp[i]);
    if (a->minhash_len)
        sqlite3_bind_blob(st, 7, a->minhash, a->minhash_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 8, a->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, a->max_distance);
    sqlite3_bind_double(st, 10, a->min_similarity);
}

json_object *nm_store_query_dups(nm_store_query *q, const char *id, int64_t max_distance,
                                 double min_similarity, const nm_store_query_page *page,
                                 nm_error *err)
{
    nm_sq_rescan(q);
    if (nm_sq_check_page(page, err) != 0)
        return NULL;
    int64_t fp[6];
    void *minhash = NULL;
    int minhash_len = 0;
    if (find_fingerprints(q, id, fp, &minhash, &minhash_len, err) != 0)
        return NULL;
    /* SimHash catches light edits, MinHash (Jaccard over 3-word shingles)
     * also catches a paragraph added or rewritten: either makes a near
     * duplicate. MinHash needs every article looked at (a scan). */
    const char *sql =
        "SELECT id, title, hamming(simhash, ?1) AS distance,"
        " minhash_similarity(minhash, ?7) AS similarity, fp_exact = ?6 AS exact"
        " FROM articles WHERE id != ?8 AND (fp_exact = ?6 OR hamming(simhash, ?1) <= ?9"
        " OR minhash_similarity(minhash, ?7) >= ?10)"
        " AND ?2 IS NOT NULL AND ?3 IS NOT NULL AND ?4 IS NOT NULL AND ?5 IS NOT NULL";
    struct dups_args a = {fp, minhash, minhash_len, id, max_distance, min_similarity};
    json_object *rows = json_object_new_array();
    int rc = nm_sq_collect_each(q, NULL, sql, bind_dups, &a, rows, err);
    free(minhash);
    if (rc != 0) {
        json_object_put(rows);
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(rows); i++) { /* most alike first */
        json_object *row = json_object_array_get_idx(rows, i);
        json_object_object_add(row, "rank_key",
                               json_object_new_double(nm_sq_num(row, "exact") * 1e6 +
                                                     nm_sq_num(row, "similarity") * 1e3 -
                                                     nm_sq_num(row, "distance")));
    }
    nm_sq_rank_page(rows, page);
    return rows;
}

int nm_store_query_each(nm_store_query *q, const char *text, const nm_store_query_page *page,
                        int (*fn)(void *ctx, const char *id), void *ctx, nm_error *err)
{
    nm_sq_rescan(q);
    if (page->since_unix_ms < 0 || page->until_unix_ms < 0)
        return nm_error_set(err, NM_ERR_INVALID, "since and until must not be negative");
    const char *sql = text ? "SELECT a.id FROM articles_fts JOIN articles a"
                             " ON a.article = articles_fts.rowid WHERE articles_fts MATCH ?1"
                             " AND a.ingested_unix_ms >= ?2 AND a.ingested_unix_ms < ?3"
                             " ORDER BY a.article"
                           : "SELECT id FROM articles WHERE ingested_unix_ms >= ?2"
                             " AND ingested_unix_ms < ?3 ORDER BY article";
    for (size_t d = 0; d < q->n_dbs; d++) {
        if (nm_sq_outside(&q->dbs[d], page))
            continue;
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
        if (!st)
            return -1;
        if (text)
            sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, page->since_unix_ms);
        sqlite3_bind_int64(st, 3, nm_sq_page_until(page));
        int rc = SQLITE_DONE, stop = 0;
        q->each_db = (int64_t)d; /* fn may ask for the article: look here first */
        while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
            stop = fn(ctx, (const char *)sqlite3_column_text(st, 0));
        q->each_db = -1;
        if (!stop && rc != SQLITE_DONE) {
            sqlite3 *db = nm_store_db(q->dbs[d].store);
            if (rc == SQLITE_ERROR && text)
                nm_error_set(err, NM_ERR_INVALID, "not a valid full-text query: %s",
                             sqlite3_errmsg(db));
            else
                nm_error_set(err, nm_store_errcode(rc), "%s: %s", q->dbs[d].path,
                             sqlite3_errmsg(db));
            stop = -1;
        }
        sqlite3_finalize(st);
        if (stop)
            return stop;
    }
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
            json_object_object_add(row, name, nm_sq_col_value(st, i));
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

json_object *nm_store_query_article(nm_store_query *q, const char *id, nm_error *err)
{
    nm_sq_rescan(q);
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
        /* ties by name, not by row id: entity ids differ from file to file */
        {"entities", "SELECT e.name AS name, e.type AS type, ae.n_mentions AS n_mentions,"
                     " ae.salience AS salience FROM article_entities ae JOIN entities e"
                     " ON e.entity = ae.entity WHERE ae.article = ?1"
                     " ORDER BY ae.salience DESC, e.name, e.type"},
        {"mentions", "SELECT m.idx AS idx, e.name AS entity, m.sentence AS sentence,"
                     " m.start_byte AS start_byte, m.end_byte AS end_byte FROM mentions m"
                     " JOIN entities e ON e.entity = m.entity WHERE m.article = ?1 ORDER BY m.idx"},
        {"acronyms", "SELECT short_form, long_form, n_uses FROM acronyms WHERE article = ?1"
                     " ORDER BY idx"},
        {"keyphrases", "SELECT rank, phrase, score, n_occurrences FROM keyphrases"
                       " WHERE article = ?1 ORDER BY rank"},
    };
    /* inside nm_store_query_each, the database being read first (export:
     * one lookup per article, not one per partition) */
    size_t first = q->each_db >= 0 ? (size_t)q->each_db : 0;
    for (size_t k = 0; k < q->n_dbs; k++) {
        size_t d = k == 0 ? first : k <= first ? k - 1 : k;
        sqlite3 *db = nm_store_db(q->dbs[d].store);
        sqlite3_stmt *st = nm_sq_prepare(&q->dbs[d], sql, err);
        if (!st)
            return NULL;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            continue;
        }
        json_object *art = json_object_new_object();
        int64_t key = sqlite3_column_int64(st, 0);
        for (int i = 1; i < sqlite3_column_count(st); i++)
            json_object_object_add(art, sqlite3_column_name(st, i), nm_sq_col_value(st, i));
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
        if (rc != 0) {
            json_object_put(art);
            return NULL;
        }
        return art;
    }
    nm_error_set(err, NM_ERR_NOT_FOUND, "no article with id '%s' in %zu database%s", id, q->n_dbs,
                 q->n_dbs == 1 ? "" : "s");
    return NULL;
}

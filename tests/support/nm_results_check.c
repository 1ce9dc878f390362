/* nm_results_check: the checks of a results database that the tests running
 * workers share (see nm_results_check.h). */
#include "nm_results_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_store.h"

struct nm_results_db {
    sqlite3 *db;
    sqlite3_stmt *article; /* the columns of nm_stored_article, by id */
};

static const char article_sql[] =
    "SELECT a.article, a.fp_exact, a.title, a.body, json_array_length(a.sentences_json),"
    " (SELECT count(*) FROM sections x WHERE x.article = a.article),"
    " (SELECT count(*) FROM outline x WHERE x.article = a.article),"
    " (SELECT count(*) FROM acronyms x WHERE x.article = a.article),"
    " (SELECT count(*) FROM keyphrases x WHERE x.article = a.article),"
    " (SELECT count(*) FROM mentions x WHERE x.article = a.article)"
    " FROM articles a WHERE a.id = ?1";

nm_results_db *nm_results_db_open(const char *path, char *why, size_t why_size)
{
    nm_results_db *r = nm_xcalloc(1, sizeof *r);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(r->db, 10000) != SQLITE_OK ||
        nm_store_register_functions(r->db, NULL) != 0 || /* body is computed (nm_store.h) */
        sqlite3_prepare_v2(r->db, article_sql, -1, &r->article, NULL) != SQLITE_OK) {
        snprintf(why, why_size, "%s: %s", path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
        nm_results_db_close(&r);
        return NULL;
    }
    return r;
}

void nm_results_db_close(nm_results_db **db_p)
{
    if (!db_p || !*db_p)
        return;
    sqlite3_finalize((*db_p)->article);
    sqlite3_close((*db_p)->db);
    free(*db_p);
    *db_p = NULL;
}

sqlite3 *nm_results_db_handle(nm_results_db *db)
{
    return db->db;
}

bool nm_results_load(nm_results_db *db, const char *id, nm_stored_article *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = db->article;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        out->article = sqlite3_column_int64(st, 0);
        out->fp_exact = sqlite3_column_int64(st, 1);
        const char *title = (const char *)sqlite3_column_text(st, 2);
        out->title = nm_xstrdup(title ? title : "");
        const void *text = sqlite3_column_text(st, 3);
        out->text_len = (size_t)sqlite3_column_bytes(st, 3);
        out->text = nm_xmalloc(out->text_len + 1);
        if (out->text_len)
            memcpy(out->text, text, out->text_len);
        out->text[out->text_len] = '\0';
        int64_t *counts[] = {&out->n_sentences, &out->n_sections,   &out->n_outline,
                             &out->n_acronyms,  &out->n_keyphrases, &out->n_mentions};
        for (int k = 0; k < 6; k++)
            *counts[k] = sqlite3_column_int64(st, 4 + k);
    }
    sqlite3_reset(st);
    return found;
}

void nm_stored_article_clear(nm_stored_article *s)
{
    free(s->title);
    free(s->text);
    memset(s, 0, sizeof *s);
}

nm_extract_result *nm_results_expected(const nm_extractor *ex, const char *id, const char *body,
                                       size_t len, const char *source, nm_error *err)
{
    nm_extract_input in = {.body = body, .len = len, .content_type = NM_CONTENT_TEXT, .id = id,
                           .source = source};
    nm_extract_result *r = NULL;
    if (nm_extract(ex, &in, &r, err) != 0)
        return NULL;
    return r;
}

bool nm_results_same_content(const nm_stored_article *s, const nm_extract_result *r)
{
    return strcmp(s->title, r->title ? r->title : "") == 0 && s->text_len == r->text_len &&
           memcmp(s->text, r->text, r->text_len) == 0 &&
           s->fp_exact == (int64_t)r->fingerprints.exact;
}

bool nm_results_rows_match(const nm_stored_article *s, const nm_extract_result *r, char *why,
                           size_t why_size)
{
    const int64_t stored[] = {s->n_sentences, s->n_sections,   s->n_outline,
                              s->n_acronyms,  s->n_keyphrases, s->n_mentions};
    const int64_t want[] = {(int64_t)r->n_sentences, (int64_t)r->n_sections,
                            (int64_t)r->n_outline,   (int64_t)r->n_acronyms,
                            (int64_t)r->n_keyphrases, (int64_t)r->n_mentions};
    static const char *const what[] = {"sentences", "sections",   "outline items",
                                       "acronyms",  "keyphrases", "mentions"};
    size_t len = 0;
    if (why_size)
        why[0] = '\0';
    for (int k = 0; k < 6; k++) {
        if (stored[k] == want[k])
            continue;
        if (len < why_size)
            len += (size_t)snprintf(why + len, why_size - len,
                                    "%s%lld %s stored, extraction finds %lld", len ? "; " : "",
                                    (long long)stored[k], what[k], (long long)want[k]);
    }
    return len == 0;
}

/* The single number sql gives, or -1 when it cannot run. */
static long query_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void say(nm_results_complain_fn *complain, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(nm_results_complain_fn *complain, void *arg, const char *fmt, ...)
{
    if (!complain)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    complain(arg, line);
}

int nm_results_check_tables(nm_results_db *rdb, nm_results_tables *out,
                            nm_results_complain_fn *complain, void *arg)
{
    sqlite3 *db = rdb->db;
    int problems = 0;
    memset(out, 0, sizeof *out);
    static const char *const children[] = {"article_entities", "sections", "outline", "acronyms",
                                           "keyphrases"};
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE article NOT IN (SELECT article FROM articles)",
                 children[i]);
        long orphans = query_long(db, sql);
        if (orphans != 0) {
            out->orphan_rows += orphans < 0 ? 1 : orphans;
            problems++;
            say(complain, arg, "%ld rows of %s belong to no stored article", orphans, children[i]);
        }
    }
    long fts_orphans = query_long(db, "SELECT count(*) FROM articles_fts_docsize"
                                      " WHERE id NOT IN (SELECT article FROM articles)");
    if (fts_orphans != 0) {
        out->orphan_rows += fts_orphans < 0 ? 1 : fts_orphans;
        problems++;
        say(complain, arg, "%ld full-text rows belong to no stored article", fts_orphans);
    }
    out->unindexed = query_long(db, "SELECT count(*) FROM articles"
                                    " WHERE article NOT IN (SELECT id FROM articles_fts_docsize)");
    if (out->unindexed != 0) {
        problems++;
        say(complain, arg, "%ld stored articles are not in the full-text index", out->unindexed);
    }
    char *msg = NULL;
    out->fts_ok = sqlite3_exec(db, "INSERT INTO articles_fts (articles_fts, rank)"
                                   " VALUES ('integrity-check', 1)", NULL, NULL, &msg) == SQLITE_OK;
    if (!out->fts_ok) {
        problems++;
        say(complain, arg, "full-text index does not match the stored articles"
                           " (integrity-check): %s", msg ? msg : "?");
    }
    sqlite3_free(msg);
    return problems;
}

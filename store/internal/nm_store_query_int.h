/*
 * nm_store_query_int: what the read side's two files share: the article
 * questions (nm_store_query.c: opening, rows, pages, search, latest, dups,
 * each, article) and the entity questions (nm_store_query_entity.c: entity,
 * top, timeline, cooccurring). Private to the module: nothing but those two
 * files includes it.
 */
#ifndef NM_STORE_QUERY_INT_H
#define NM_STORE_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nm_error.h"
#include "nm_store.h"
#include "nm_store_query.h"

typedef struct nm_sq_db {
    char *path;
    nm_store *store;
    sqlite3_stmt *search; /* kept prepared: the hot question of `serve` (NULL until used) */
    int64_t from_ms, to_ms; /* a partition's window of ingestion time; else 0, INT64_MAX */
} nm_sq_db;

struct nm_store_query {
    nm_sq_db *dbs; /* newest partition first, then the other files */
    size_t n_dbs, cap_dbs;
    char **dirs;   /* the directories read (none: one file) */
    size_t n_dirs;
    char **bad;    /* files skipped with a warning: not tried again */
    size_t n_bad;
    int64_t scanned_ns;
    int64_t each_db; /* the database nm_store_query_each is reading, or -1 (no rescan then) */
};

/* Looks at the directories again (at most once a second): opens the files
 * that appeared (a new period's partition), closes those gone (pruned).
 * Every question calls it first. */
void nm_sq_rescan(nm_store_query *q);

/* ---- rows ---- */

/* Column i of st's row as JSON (NULL for SQL NULL). */
json_object *nm_sq_col_value(sqlite3_stmt *st, int i);

/* Prepares sql on db (NULL and err set on failure). */
sqlite3_stmt *nm_sq_prepare(const nm_sq_db *db, const char *sql, nm_error *err);

/* row[key] as a number (0 when absent or null). */
double nm_sq_num(json_object *row, const char *key);

/* Binds a question's parameters on st, the statement prepared for one
 * database; ctx is the caller's. */
typedef void (*nm_sq_bind_fn)(sqlite3_stmt *st, const void *ctx);

/* True when db is a partition whose window of ingestion time is outside
 * page's [since, until): a question over ingestion time skips it. NULL page:
 * never. */
bool nm_sq_outside(const nm_sq_db *db, const nm_store_query_page *page);

/* Runs sql on every database (bind sets its parameters) and appends all the
 * result rows to rows (columns named by their SQL alias; "db" added when
 * several databases are read), skipping the partitions outside window (the
 * question's window of ingestion time; NULL: none). Stops at the first
 * failure: -1, err set. */
int nm_sq_collect_each(const nm_store_query *q, const nm_store_query_page *window,
                       const char *sql, nm_sq_bind_fn bind, const void *ctx, json_object *rows,
                       nm_error *err);

/* ---- pages ---- */

/* 0, or -1 and err set when page's limit, offset, since or until is out of
 * range. */
int nm_sq_check_page(const nm_store_query_page *page, nm_error *err);

/* Rows each database is asked for: enough for the page after merging. */
int64_t nm_sq_page_rows(const nm_store_query_page *page);

/* The page's end (exclusive): until, or no end. */
int64_t nm_sq_page_until(const nm_store_query_page *page);

/* Sorts by key (ascending when sign is 1) and keeps the page. */
void nm_sq_sort_page(json_object *rows, const char *key, int sign, const nm_store_query_page *page);

/* Sorts by the number rank_key (highest first), keeps the page and drops
 * the key. */
void nm_sq_rank_page(json_object *rows, const nm_store_query_page *page);

#endif

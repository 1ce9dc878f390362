/* bench-queue --raw-spool: the spool's storage alone (spool_raw.h). The
 * batched layout is not newsmill's: it is here to measure what storing a
 * submitted batch as one row would save before anyone builds it. */
#include "spool_raw.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "nm_alloc.h"
#include "nm_spool.h"
#include "nm_time.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* A body of len bytes of text that differs from article to article. */
static void fill_body(uint8_t *body, int64_t len, int64_t k)
{
    static const char words[] = "the harbour reopened after the storm and the council said ";
    for (int64_t i = 0; i < len; i++)
        body[i] = (uint8_t)words[(i + k) % (int64_t)(sizeof words - 1)];
}

typedef struct seq_list {
    int64_t *seq, *rev;
    size_t n;
} seq_list;

static void collect_seq(void *arg, int64_t seq)
{
    seq_list *l = arg;
    l->seq[l->n++] = seq;
}

/* The queue's layout, through the queue's own code: a batch put in one
 * durable transaction, each row read to be delivered, then removed by
 * (seq, rev) in one non-durable transaction, as acks are. */
static int run_per_article(const char *path, int64_t n, int64_t batch, uint8_t *body,
                           int64_t body_bytes, nm_spool_durability durability)
{
    nm_error err;
    nm_spool *s = nm_spool_open(path, durability, &err);
    if (!s) {
        fprintf(stderr, "bench-queue: %s\n", err.msg);
        return 1;
    }
    seq_list l = {nm_xcalloc((size_t)batch, sizeof *l.seq),
                  nm_xcalloc((size_t)batch, sizeof *l.rev), 0};
    nm_spool_row row = {0};
    int rc = 0;
    for (int64_t done = 0; done < n && rc == 0; done += batch) {
        int64_t m = n - done < batch ? n - done : batch;
        rc = nm_spool_begin(s, true, &err);
        for (int64_t i = 0; i < m && rc == 0; i++) {
            char id[32];
            bool inserted;
            snprintf(id, sizeof id, "raw-%lld", (long long)(done + i));
            fill_body(body, body_bytes, done + i);
            rc = nm_spool_put(s, id, 0, nm_time_unix_ms(), body, (size_t)body_bytes, &inserted,
                              NULL, &err);
        }
        if (rc == 0)
            rc = nm_spool_commit(s, &err);
        l.n = 0;
        size_t seen;
        if (rc == 0)
            rc = nm_spool_scan_ready(s, nm_time_unix_ms(), (size_t)batch, collect_seq, &l, &seen,
                                     &err);
        for (size_t i = 0; i < l.n && rc == 0; i++) {
            bool found;
            rc = nm_spool_fetch(s, l.seq[i], &row, &found, &err);
            l.rev[i] = found ? row.rev : -1;
        }
        if (rc == 0)
            rc = nm_spool_begin(s, false, &err);
        for (size_t i = 0; i < l.n && rc == 0; i++) {
            bool removed;
            rc = nm_spool_remove(s, l.seq[i], l.rev[i], &removed, &err);
        }
        if (rc == 0)
            rc = nm_spool_commit(s, &err);
    }
    if (rc != 0)
        fprintf(stderr, "bench-queue: raw spool: %s\n", err.msg);
    nm_spool_row_clear(&row);
    free(l.seq);
    free(l.rev);
    nm_spool_close(&s);
    return rc != 0;
}

static int sql_fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench-queue: raw batched spool: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
}

/* One row per batch: the concatenated bodies in one blob. */
static int run_batched(const char *path, int64_t n, int64_t batch, uint8_t *body,
                       int64_t body_bytes, bool full)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return sql_fail(db, "open");
    const char *setup = "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                        "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-16384;"
                        "PRAGMA secure_delete=OFF;"
                        "CREATE TABLE batches (seq INTEGER PRIMARY KEY, enqueued_unix_ms INTEGER,"
                        " articles BLOB NOT NULL)";
    if (sqlite3_exec(db, setup, NULL, NULL, NULL) != SQLITE_OK) {
        int r = sql_fail(db, "setup");
        sqlite3_close(db);
        return r;
    }
    sqlite3_stmt *ins = NULL, *get = NULL, *del = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO batches (enqueued_unix_ms, articles) VALUES (?1, ?2)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT seq, articles FROM batches ORDER BY seq LIMIT 1", -1, &get,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM batches WHERE seq = ?1", -1, &del, NULL) !=
            SQLITE_OK) {
        int r = sql_fail(db, "prepare");
        sqlite3_finalize(ins);
        sqlite3_finalize(get);
        sqlite3_close(db);
        return r;
    }
    size_t cap = (size_t)(batch * body_bytes);
    uint8_t *blob = nm_xmalloc(cap), *copy = nm_xmalloc(cap);
    int rc = 0;
    for (int64_t done = 0; done < n && rc == 0; done += batch) {
        int64_t m = n - done < batch ? n - done : batch;
        for (int64_t i = 0; i < m; i++) {
            fill_body(body, body_bytes, done + i);
            memcpy(blob + i * body_bytes, body, (size_t)body_bytes);
        }
        sqlite3_exec(db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                     NULL, NULL);
        rc |= sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK;
        sqlite3_bind_int64(ins, 1, nm_time_unix_ms());
        sqlite3_bind_blob(ins, 2, blob, (int)(m * body_bytes), SQLITE_STATIC);
        rc |= sqlite3_step(ins) != SQLITE_DONE;
        sqlite3_reset(ins);
        rc |= sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
        /* read to deliver, then removed by its seq, as the spool removes
         * by (seq, rev) without reading the row again */
        if (rc == 0 && sqlite3_step(get) != SQLITE_ROW)
            rc = 1;
        if (rc == 0) {
            int64_t seq = sqlite3_column_int64(get, 0);
            memcpy(copy, sqlite3_column_blob(get, 1), (size_t)sqlite3_column_bytes(get, 1));
            sqlite3_reset(get);
            sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
            rc |= sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK;
            sqlite3_bind_int64(del, 1, seq);
            rc |= sqlite3_step(del) != SQLITE_DONE;
            sqlite3_reset(del);
            rc |= sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
        }
    }
    if (rc != 0)
        sql_fail(db, "a batch");
    free(blob);
    free(copy);
    sqlite3_finalize(ins);
    sqlite3_finalize(get);
    sqlite3_finalize(del);
    sqlite3_close(db);
    return rc != 0;
}

int bench_spool_raw(const char *dir, int64_t n, int64_t batch, int64_t body_bytes,
                    const char *durability, bool batched)
{
    char path[600];
    snprintf(path, sizeof path, "%s/raw-spool.db", dir);
    bool full = strcmp(durability, "normal") != 0;
    uint8_t *body = nm_xmalloc((size_t)body_bytes);
    double cpu0 = cpu_seconds();
    int64_t t0 = nm_time_mono_ns();
    int rc = batched ? run_batched(path, n, batch, body, body_bytes, full)
                     : run_per_article(path, n, batch, body, body_bytes,
                                       full ? NM_SPOOL_FULL : NM_SPOOL_NORMAL);
    double wall = (double)(nm_time_mono_ns() - t0) / 1e9, cpu = cpu_seconds() - cpu0;
    free(body);
    if (rc != 0)
        return 1;
    printf("{\"mode\":\"queue-spool-raw\",\"layout\":\"%s\",\"articles\":%lld,\"batch\":%lld,"
           "\"body_bytes\":%lld,\"durability\":\"%s\",\"seconds\":%.3f,\"articles_per_s\":%.0f,"
           "\"cpu_us_per_article\":%.2f}\n",
           batched ? "row-per-batch" : "row-per-article", (long long)n, (long long)batch,
           (long long)body_bytes, full ? "full" : "normal", wall, (double)n / wall,
           cpu * 1e6 / (double)n);
    return 0;
}

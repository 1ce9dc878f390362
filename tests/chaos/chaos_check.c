/* chaos: what the producers were told, and the checks of the end (see
 * chaos.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_hash.h"
#include "nm_results_check.h"
#include "nm_statsclient.h"

/* ---- what the producers were told -------------------------------------- */

static bool parse_id(const char *id, int *p, long *n)
{
    char kind[16];
    return sscanf(id, "%15[a-z]-p%d-%ld", kind, p, n) == 3 && *p >= 0 && *p < PRODUCERS && *n >= 0;
}

static id_record *record_of(records *r, int p, long n)
{
    if (n >= r->n[p]) {
        long want = n + 1 > 2 * r->n[p] ? n + 1 : 2 * r->n[p];
        r->of[p] = realloc(r->of[p], (size_t)want * sizeof *r->of[p]);
        for (long k = r->n[p]; k < want; k++)
            r->of[p][k] = (id_record){-1, -1, 0};
        r->n[p] = want;
    }
    return &r->of[p][n];
}

static const id_record *find_record(const records *r, const char *id, int *p, long *n)
{
    if (!parse_id(id, p, n) || *n >= r->n[*p])
        return NULL;
    const id_record *rec = &r->of[*p][*n];
    return rec->acked >= 0 || rec->unacked >= 0 ? rec : NULL;
}

void chaos_load_records(const fleet *f, records *r)
{
    memset(r, 0, sizeof *r);
    for (int p = 0; p < PRODUCERS; p++) {
        char path[600], line[256], id[128], flag[16];
        snprintf(path, sizeof path, "%s/accepted-%d.txt", f->dir, p);
        FILE *in = fopen(path, "r");
        if (!in)
            continue;
        while (fgets(line, sizeof line, in)) {
            int v, pp;
            long n;
            uint64_t h;
            flag[0] = '\0';
            if (sscanf(line, "%127s %d %" SCNx64 " %15s", id, &v, &h, flag) < 3 ||
                !parse_id(id, &pp, &n))
                continue;
            id_record *rec = record_of(r, pp, n);
            if (!strcmp(flag, "unacked")) {
                rec->unacked = v;
                continue;
            }
            if (rec->acked < 0) {
                r->acked++;
                r->acked_poison += chaos_is_poison(n);
            } else {
                r->resubmitted++;
            }
            rec->acked = v;
            rec->acked_hash = h;
        }
        fclose(in);
    }
}

void chaos_free_records(records *r)
{
    for (int p = 0; p < PRODUCERS; p++)
        free(r->of[p]);
}

/* ---- checks ------------------------------------------------------------ */

static long query_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

long chaos_query_file(const char *path, const char *sql)
{
    sqlite3 *db;
    long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        v = query_long(db, sql);
    }
    sqlite3_close(db);
    return v;
}

/* How many acked non-poison ids are in the results database (-1: no db). */
long chaos_count_stored(const fleet *f, const records *r)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long found = -1;
    if (sqlite3_open_v2(f->results, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT 1 FROM article_rows WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        found = 0;
        for (int p = 0; p < PRODUCERS; p++) {
            for (long n = 0; n < r->n[p]; n++) {
                if (r->of[p][n].acked < 0 || chaos_is_poison(n))
                    continue;
                char id[64];
                snprintf(id, sizeof id, "chaos-p%d-%ld", p, n);
                sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
                found += sqlite3_step(st) == SQLITE_ROW;
                sqlite3_reset(st);
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

/* The queue's own report (through the collector) of nothing waiting and
 * nothing in flight: the spool itself is locked while the queue runs. Returns
 * the send time of that report, or 0 when it is not idle or not live. */
int64_t chaos_queue_idle_report(const fleet *f, void *ctx)
{
    Newsmill__Envelope *env = NULL;
    nm_error err;
    int64_t sent = 0;
    if (nm_statsclient_fetch(ctx, f->query, 1000, &env, &err) != 0 || !env->snapshot) {
        nm_frame_free(&env);
        return 0;
    }
    /* the live queue's own gauges: the fleet totals also sum the last report
     * of a queue killed a moment ago until the collector forgets it */
    const Newsmill__StatsSnapshot *snap = env->snapshot;
    for (size_t i = 0; i < snap->n_processes; i++) {
        const Newsmill__StatsReport *r = snap->processes[i]->last;
        if (!r || strcmp(r->role, "queue") || strcmp(snap->processes[i]->status, "live"))
            continue;
        double waiting = -1, in_flight = -1;
        for (size_t m = 0; m < r->n_metrics; m++) {
            if (!strcmp(r->metrics[m]->name, "queue_backlog_articles"))
                waiting = r->metrics[m]->value;
            else if (!strcmp(r->metrics[m]->name, "queue_in_flight_articles"))
                in_flight = r->metrics[m]->value;
        }
        if (waiting == 0 && in_flight == 0)
            sent = r->sent_unix_ms;
    }
    nm_frame_free(&env);
    return sent;
}

/* Dead letters that are not poison, each printed with its last reasons. */
long chaos_report_dead_not_poison(const fleet *f, bool print)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_open_v2(f->spool, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT id, letter FROM dead WHERE id NOT LIKE 'poison-%'", -1,
                           &st, NULL) == SQLITE_OK) {
        n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (print && n < 10) {
                Newsmill__DeadLetter *dl = newsmill__dead_letter__unpack(
                    NULL, (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_blob(st, 1));
                const char *why = dl && dl->n_failures ? dl->failures[dl->n_failures - 1]->reason : "?";
                printf("chaos: FAIL dead letter that is not poison: %s after %u attempts, last: %s\n",
                       (const char *)sqlite3_column_text(st, 0), dl ? dl->attempts : 0, why);
                if (dl)
                    newsmill__dead_letter__free_unpacked(dl, NULL);
            }
            n++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define MAX_PRINTED 10

static void complain(content_report *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void complain(content_report *c, const char *fmt, ...)
{
    if (c->printed++ >= MAX_PRINTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("chaos: FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

/* Extracts version v of article (p, n) as a worker would. Caller frees. */
static nm_extract_result *expected(const nm_extractor *ex, int p, long n, int v, uint64_t *sent_hash)
{
    char id[64], body[600];
    Newsmill__ContentType type;
    chaos_make_article(p, n, v, id, sizeof id, body, sizeof body, &type);
    *sent_hash = chaos_body_hash(body);
    nm_error err;
    return nm_results_expected(ex, id, body, strlen(body), "chaos", &err);
}

/* Which version of (p, n) the stored content is, from `from` down to 0; -1: none. */
static int version_stored(const nm_extractor *ex, const nm_stored_article *s, int p, long n,
                          int from)
{
    for (int v = from; v >= 0; v--) {
        uint64_t h;
        nm_extract_result *r = expected(ex, p, n, v, &h);
        bool same = r && nm_results_same_content(s, r);
        nm_extract_result_free(&r);
        if (same)
            return v;
    }
    return -1;
}

/* Checks one acked (or only sent, unacked) non-poison id. */
static void check_article(const nm_extractor *ex, nm_results_db *db, int p, long n,
                          const id_record *rec, content_report *c)
{
    char id[64];
    snprintf(id, sizeof id, "chaos-p%d-%ld", p, n);
    nm_stored_article s;
    bool found = nm_results_load(db, id, &s);
    if (rec->acked < 0) { /* only an unacknowledged send: stored or not, but not garbage */
        if (found && version_stored(ex, &s, p, n, rec->unacked) < 0) {
            c->wrong++;
            complain(c, "%s: stored content is no version that was sent", id);
        }
        nm_stored_article_clear(&s);
        return;
    }
    c->checked++;
    if (!found) {
        c->missing++;
        complain(c, "%s: acknowledged (version %d) but not stored", id, rec->acked);
        return;
    }
    /* the latest acked version, or a later one whose ack the stop cut off */
    int candidates[2] = {rec->acked, rec->unacked > rec->acked ? rec->unacked : -1};
    for (int k = 0; k < 2; k++) {
        if (candidates[k] < 0)
            continue;
        uint64_t sent;
        nm_extract_result *r = expected(ex, p, n, candidates[k], &sent);
        if (!r || (k == 0 && sent != rec->acked_hash)) {
            c->wrong++;
            complain(c, "%s: the checker cannot rebuild version %d as sent", id, candidates[k]);
            nm_extract_result_free(&r);
            nm_stored_article_clear(&s);
            return;
        }
        char why[256];
        bool same = nm_results_same_content(&s, r);
        bool rows = same && nm_results_rows_match(&s, r, why, sizeof why);
        if (same && !rows) {
            c->rows_mismatch++;
            complain(c, "%s: child rows are not its extraction's: %s", id, why);
        }
        nm_extract_result_free(&r);
        if (same) {
            c->ok += rows;
            nm_stored_article_clear(&s);
            return;
        }
    }
    int v = version_stored(ex, &s, p, n, rec->acked - 1);
    nm_stored_article_clear(&s);
    if (v >= 0) {
        c->stale++;
        complain(c, "%s: stored version %d, but version %d was acknowledged after it", id, v,
                 rec->acked);
    } else {
        c->wrong++;
        complain(c, "%s: stored content is no version that was sent", id);
    }
}

static void complain_table(void *arg, const char *problem)
{
    complain(arg, "%s", problem);
}

/* Every result row belongs to an id that was sent and is not poison; and
 * the tables are whole (nm_results_check_tables). */
static void check_tables(nm_results_db *db, const records *r, content_report *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(nm_results_db_handle(db), "SELECT id FROM articles", -1, &st, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *id = (const char *)sqlite3_column_text(st, 0);
            int p;
            long n;
            if (!find_record(r, id, &p, &n) || chaos_is_poison(n)) {
                c->unexpected++;
                complain(c, "%s is stored but was never sent (or is poison)", id);
            }
        }
    }
    sqlite3_finalize(st);
    nm_results_check_tables(db, &c->tables, complain_table, c);
}

/* Checks the results database against the records; returns failures. */
int chaos_check_results(const fleet *f, const records *r, content_report *c)
{
    memset(c, 0, sizeof *c);
    nm_error err;
    nm_extractor *ex = nm_extractor_new(NULL, &err);
    if (!ex) {
        printf("chaos: FAIL cannot load the extractor to check content: %s\n", err.msg);
        return 1;
    }
    char why[512];
    nm_results_db *db = nm_results_db_open(f->results, why, sizeof why);
    if (!db) {
        printf("chaos: FAIL cannot read the results database: %s\n", why);
        nm_extractor_destroy(&ex);
        return 1;
    }
    for (int p = 0; p < PRODUCERS; p++)
        for (long n = 0; n < r->n[p]; n++)
            if (!chaos_is_poison(n) && (r->of[p][n].acked >= 0 || r->of[p][n].unacked >= 0))
                check_article(ex, db, p, n, &r->of[p][n], c);
    check_tables(db, r, c);
    nm_results_db_close(&db);
    nm_extractor_destroy(&ex);
    if (c->printed > MAX_PRINTED)
        printf("chaos: (%ld more complaints not printed)\n", c->printed - MAX_PRINTED);
    return (c->missing > 0) + (c->stale > 0) + (c->wrong > 0) + (c->rows_mismatch > 0) +
           (c->unexpected > 0) + (c->tables.orphan_rows > 0) + (c->tables.unindexed != 0) +
           !c->tables.fts_ok;
}

/*
 * chaos: prove that nothing is lost while processes die.
 *
 * Starts a real fleet (newsmill-queue, 3 newsmill-workers sharing one results
 * database, newsmill-collector) in a directory, puts it under continuous load
 * from 2 producer processes, and at random moments (seeded; the seed is
 * printed so a failure can be replayed with --seed) either kill -9s one
 * process and restarts it, or freezes it with SIGSTOP and thaws it with
 * SIGCONT. Some articles are poison (HTML without readable text: every
 * worker fails them for good).
 *
 * Producers also resubmit changed versions of their earlier ids (each id has
 * one producer, so "the latest acknowledged version" of an id is well
 * defined) and record, per id, the version and body hash of each ack.
 *
 * At the end it checks the promises, on content, not only counts:
 *   - every article a producer was told was accepted is in the results
 *     database (poison excepted) with the content of its latest acknowledged
 *     version: its stored text and exact fingerprint are those that
 *     extracting that version gives (the checker rebuilds each version's body
 *     and runs the same extractor), and its child rows (sections, outline,
 *     acronyms, keyphrases, mentions) are exactly that extraction's;
 *   - no result row has an id that was never sent; no row of a child table
 *     or of the full-text index belongs to no stored article, and FTS5's
 *     integrity-check passes;
 *   - nothing is left in the spool (no backlog, nothing in flight);
 *   - the dead letters hold the poison articles and nothing else (the queue
 *     runs with its default --max-attempts).
 * Exit 0 when they hold, 1 otherwise (with what broke), 2 on bad flags.
 *
 *   chaos [--kills N] [--seed S] [--workers N] [--keep]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_hash.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_producer.h"
#include "nm_results_check.h"
#include "nm_statsclient.h"
#include "nm_test.h"
#include "nm_time.h"
#include "newsmill.pb-c.h"

#define MAX_WORKERS 8
#define PRODUCERS 2
#define BATCH 20
#define POISON_EVERY 97 /* one article in this many is poison */
#define RESUBMIT_ONE_IN 4   /* a batch slot sends a new version of an earlier id this often */
#define RESUBMIT_WINDOW 400 /* ... of one of the producer's last this many ids */

typedef struct member {
    nm_proc proc;
    char name[32];
    char *argv[NM_TEST_FLEET_ARGV];
    int argc;
    bool stopped; /* SIGSTOPped right now */
} member;

typedef struct fleet {
    const char *dir;
    char front[64], back[64], stats[64], query[64], http[64];
    char spool[512], results[512];
    member members[MAX_WORKERS + 2];
    int n_members;
} fleet;

static uint64_t rng_state;

static int rng_between(int lo, int hi)
{
    return nm_test_rng_between(&rng_state, lo, hi);
}

static char *keep(const char *s)
{
    return strdup(s);
}

static void arg(member *m, const char *a)
{
    m->argv[m->argc++] = keep(a);
}

/* A member named name running argv (NULL-terminated; copied). */
static member *add_member(fleet *f, const char *name, char *const *argv)
{
    member *m = &f->members[f->n_members++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    for (int i = 0; argv[i]; i++)
        arg(m, argv[i]);
    return m;
}

/* Starts (or restarts) a member; its log is DIR/NAME.log, appended to. */
static void start_member(member *m)
{
    nm_proc_start(&m->proc, m->name, m->argv);
    m->stopped = false;
}

static void build_fleet(fleet *f, int workers)
{
    snprintf(f->front, sizeof f->front, "%s", nm_test_endpoint());
    snprintf(f->back, sizeof f->back, "%s", nm_test_endpoint());
    snprintf(f->stats, sizeof f->stats, "%s", nm_test_endpoint());
    snprintf(f->query, sizeof f->query, "%s", nm_test_endpoint());
    snprintf(f->http, sizeof f->http, "127.0.0.1:%d", nm_test_free_port());
    snprintf(f->spool, sizeof f->spool, "%s/queue.db", f->dir);
    snprintf(f->results, sizeof f->results, "%s/results.db", f->dir);

    /* The fleet's short leases and timeouts (nm_test_fleet_queue_argv);
     * everything else (--max-attempts above all) is the queue's default. */
    char *argv[NM_TEST_FLEET_ARGV];
    nm_test_fleet_queue_argv(argv, f->front, f->back, f->stats, f->spool,
                             (const char *[]){"--retry-max", "1s", NULL});
    add_member(f, "queue", argv);

    member *c = add_member(f, "collector", (char *[]){(char *)nm_test_bin("newsmill-collector"),
                                                      NULL});
    const char *cargs[] = {"--stats-bind", f->stats, "--query-bind", f->query, "--http", f->http};
    for (size_t i = 0; i < sizeof cargs / sizeof cargs[0]; i++)
        arg(c, cargs[i]);

    for (int i = 1; i <= workers; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        nm_test_fleet_worker_argv(argv, f->back, f->stats, f->results, name);
        add_member(f, name, argv);
    }
    for (int i = 0; i < f->n_members; i++)
        start_member(&f->members[i]);
}

/* ---- producers --------------------------------------------------------- */

static volatile sig_atomic_t producer_stop;

static void on_term(int sig)
{
    (void)sig;
    producer_stop = 1;
}

static const char *const topics[] = {
    "Turkish intelligence chief Ibrahim Kalın met Hamas leaders in Ankara on Tuesday.",
    "The National Intelligence Organization (MIT) kept talking to Egypt and Qatar.",
    "Markets in São Paulo rose after the central bank held rates steady.",
    "Israel’s cabinet met late into the night to discuss the ceasefire proposal.",
    "The United Nations said more aid trucks reached Gaza through the Rafah crossing.",
    "Engineers at Siemens in Munich unveiled a faster train for the Berlin line.",
};
#define N_TOPICS (sizeof topics / sizeof topics[0])

static bool is_poison(long n)
{
    return n % POISON_EVERY == POISON_EVERY - 1;
}

/* Writes version v (0 = first) of article n of producer p: its id into id,
 * its body into body. The same (p, n, v) always gives the same bytes, so the
 * checker can rebuild what was sent; versions of one id differ in their text,
 * so what is stored says which version it is. */
static void make_article(int p, long n, int v, char *id, size_t id_size, char *body,
                         size_t body_size, Newsmill__ContentType *type)
{
    snprintf(id, id_size, "%s-p%d-%ld", is_poison(n) ? "poison" : "chaos", p, n);
    if (is_poison(n)) {
        snprintf(body, body_size, "<html><body><nav><p> %ld </p></nav></body></html>", n);
        *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
        return;
    }
    size_t u = (size_t)n + (size_t)v;
    snprintf(body, body_size,
             "Chaos report %d-%ld revision %d\n\n%s %s\n\n%s Article %ld of producer %d, revision %d.\n",
             p, n, v, topics[u % N_TOPICS], topics[((size_t)n / 7 + 2 * (size_t)v) % N_TOPICS],
             topics[((size_t)n / 3 + 1 + (size_t)v) % N_TOPICS], n, p, v);
    *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
}

static uint64_t body_hash(const char *body)
{
    return nm_hash_bytes(body, strlen(body));
}

static bool in_batch(const long *n_of, int upto, long n)
{
    for (int i = 0; i < upto; i++)
        if (n_of[i] == n)
            return true;
    return false;
}

/* A producer process: submits batches until told to stop, resubmitting a
 * batch until it is acked. About one slot in RESUBMIT_ONE_IN sends a new
 * version of one of its recent articles instead of a new one. Each producer
 * owns its ids, and submits one batch at a time, so the last version it was
 * acked for an id is that id's latest acknowledged version. Writes one line
 * per accepted article to accepted-P.txt: "ID<TAB>VERSION<TAB>BODY-HASH";
 * a batch still unacknowledged when it is stopped (the queue may or may not
 * hold it) is written with a fourth field "unacked". */
static int run_producer(const fleet *f, int p)
{
    signal(SIGTERM, on_term);
    rng_state = (rng_state ^ (uint64_t)(p + 1) * UINT64_C(0x9e3779b97f4a7c15)) | 1;
    char path[600];
    snprintf(path, sizeof path, "%s/accepted-%d.txt", f->dir, p);
    FILE *out = fopen(path, "w");
    if (!out)
        return 1;
    void *ctx = zmq_ctx_new();
    nm_error err;
    nm_producer *prod = nm_producer_new(ctx, f->front, &err);
    if (!prod)
        return 1;
    nm_producer_set_timeout(prod, 1500, 0);
    static char ids[BATCH][64], bodies[BATCH][600];
    Newsmill__Article arts[BATCH], *batch[BATCH];
    long n_of[BATCH];
    int *version = NULL; /* version[n]: the last version of article n sent */
    size_t cap = 0;
    long next = 0;
    while (!producer_stop) {
        for (int i = 0; i < BATCH; i++) {
            long n = next;
            if (next > 0 && rng_between(1, RESUBMIT_ONE_IN) == 1) {
                long m = next - rng_between(1, (int)(next < RESUBMIT_WINDOW ? next : RESUBMIT_WINDOW));
                if (!is_poison(m) && !in_batch(n_of, i, m))
                    n = m;
            }
            if (n == next) {
                if ((size_t)next == cap) {
                    cap = cap ? cap * 2 : 4096;
                    version = realloc(version, cap * sizeof *version);
                    if (!version)
                        return 1;
                }
                version[next++] = 0;
            } else {
                version[n]++;
            }
            n_of[i] = n;
            newsmill__article__init(&arts[i]);
            make_article(p, n, version[n], ids[i], sizeof ids[i], bodies[i], sizeof bodies[i],
                         &arts[i].content_type);
            arts[i].id = ids[i];
            arts[i].source = "chaos";
            arts[i].body.data = (uint8_t *)bodies[i];
            arts[i].body.len = strlen(bodies[i]);
            batch[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack = NULL;
        /* The same batch again after a timeout: same ids and versions, no duplicates. */
        while (!producer_stop && nm_producer_submit(prod, batch, BATCH, &ack, &err) != 0)
            nm_test_sleep_ms(100);
        if (!ack) {
            for (int i = 0; i < BATCH; i++)
                fprintf(out, "%s\t%d\t%016" PRIx64 "\tunacked\n", ids[i], version[n_of[i]],
                        body_hash(bodies[i]));
            break;
        }
        for (size_t a = 0; a < ack->n_acks; a++) {
            if (!ack->acks[a]->accepted)
                continue;
            for (int i = 0; i < BATCH; i++) {
                if (!strcmp(ids[i], ack->acks[a]->id)) {
                    fprintf(out, "%s\t%d\t%016" PRIx64 "\n", ids[i], version[n_of[i]],
                            body_hash(bodies[i]));
                    break;
                }
            }
        }
        fflush(out);
        nm_producer_ack_free(&ack);
        nm_test_sleep_ms(20);
    }
    fclose(out);
    free(version);
    nm_producer_destroy(&prod);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- what the producers were told -------------------------------------- */

/* Per article of a producer: the versions the checks expect. */
typedef struct id_record {
    int acked;           /* latest acknowledged version, -1: never acked */
    int unacked;         /* a version sent but not acknowledged at the stop, -1: none */
    uint64_t acked_hash; /* body hash the producer recorded for `acked` */
} id_record;

typedef struct records {
    id_record *of[PRODUCERS]; /* indexed by article number */
    long n[PRODUCERS];
    long acked, acked_poison; /* ids acknowledged at least once */
    long resubmitted;         /* acknowledged versions after an id's first */
} records;

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

static void load_records(const fleet *f, records *r)
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
                r->acked_poison += is_poison(n);
            } else {
                r->resubmitted++;
            }
            rec->acked = v;
            rec->acked_hash = h;
        }
        fclose(in);
    }
}

static void free_records(records *r)
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

static long query_file(const char *path, const char *sql)
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
static long count_stored(const fleet *f, const records *r)
{
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    long found = -1;
    if (sqlite3_open_v2(f->results, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT 1 FROM articles WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        found = 0;
        for (int p = 0; p < PRODUCERS; p++) {
            for (long n = 0; n < r->n[p]; n++) {
                if (r->of[p][n].acked < 0 || is_poison(n))
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
static int64_t queue_idle_report(const fleet *f, void *ctx)
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
static long report_dead_not_poison(const fleet *f, bool print)
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

/* What the content checks found. */
typedef struct content_report {
    long checked;       /* acked non-poison ids looked at */
    long ok;            /* stored with their latest acknowledged version, all rows */
    long missing;       /* not stored */
    long stale;         /* stored with an older version than the latest acked */
    long wrong;         /* stored with content no version of theirs has */
    long rows_mismatch; /* right article row, wrong child rows */
    long unexpected;    /* result rows whose id was never sent, or is poison */
    nm_results_tables tables; /* orphan rows, the full-text index */
    long printed;
} content_report;

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
    make_article(p, n, v, id, sizeof id, body, sizeof body, &type);
    *sent_hash = body_hash(body);
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
            if (!find_record(r, id, &p, &n) || is_poison(n)) {
                c->unexpected++;
                complain(c, "%s is stored but was never sent (or is poison)", id);
            }
        }
    }
    sqlite3_finalize(st);
    nm_results_check_tables(db, &c->tables, complain_table, c);
}

/* Checks the results database against the records; returns failures. */
static int check_results(const fleet *f, const records *r, content_report *c)
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
            if (!is_poison(n) && (r->of[p][n].acked >= 0 || r->of[p][n].unacked >= 0))
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

/* ---- main -------------------------------------------------------------- */

static void restart_dead(fleet *f)
{
    for (int i = 0; i < f->n_members; i++) {
        member *m = &f->members[i];
        if (m->stopped) {
            nm_proc_signal(&m->proc, SIGCONT);
            m->stopped = false;
        }
        int status;
        if (m->proc.pid <= 0 || nm_proc_wait(&m->proc, 0, &status)) {
            nm_log_warn("chaos: %s had exited; restarting", m->name);
            start_member(m);
        }
    }
}

static void stop_fleet(fleet *f)
{
    for (int i = 0; i < f->n_members; i++) {
        member *m = &f->members[i];
        nm_proc_signal(&m->proc, SIGCONT);
        nm_proc_signal(&m->proc, SIGTERM);
    }
    for (int i = 0; i < f->n_members; i++) {
        member *m = &f->members[i];
        int status;
        if (!nm_proc_wait(&m->proc, 15000, &status)) {
            nm_log_warn("chaos: %s did not stop on SIGTERM; killing", m->name);
            nm_proc_kill(&m->proc);
        }
    }
}

int main(int argc, char **argv)
{
    nm_log_init("chaos");
    int64_t kills = 20, seed = 0, workers = 3;
    bool keep_files = false;
    nm_opt opts[] = {
        {"kills", 'k', NM_OPT_INT, &kills, "N", "faults to inject", 0, 100000},
        {"seed", 's', NM_OPT_INT, &seed, "S", "random seed (0: from the clock; printed)", 0, 0},
        {"workers", 'w', NM_OPT_INT, &workers, "N", "workers in the fleet", 1, MAX_WORKERS},
        {"keep", 0, NM_OPT_FLAG, &keep_files, NULL, "keep the fleet's directory (logs, databases) afterwards", 0, 0},
    };
    const nm_opts_program program = {
        "chaos", "[OPTIONS]",
        "Kills and freezes fleet processes under load, then checks that every\n"
        "accepted article is stored with its latest acknowledged version, child\n"
        "rows and index entries only for stored articles, and only poison is dead.",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    if (!seed)
        seed = (int64_t)(nm_time_unix_ms() ^ (getpid() << 16));
    rng_state = (uint64_t)seed | 1;
    printf("chaos: seed=%" PRId64 " kills=%" PRId64 " workers=%" PRId64
           " (replay with --seed %" PRId64 ")\n", seed, kills, workers, seed);
    fflush(stdout);

    if (keep_files)
        setenv("NM_TEST_KEEP", "1", 1);
    if (!getenv("NM_BIN_DIR")) { /* run by hand: the programs sit beside this one */
        char self[512];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            *strrchr(self, '/') = '\0';
            setenv("NM_BIN_DIR", self, 1);
        }
    }
    fleet f = {0};
    f.dir = nm_test_tmpdir();
    printf("chaos: fleet directory %s%s\n", f.dir, keep_files ? " (kept)" : "");
    build_fleet(&f, (int)workers);

    pid_t producers[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        fflush(NULL);
        producers[p] = fork();
        if (producers[p] == 0)
            _exit(run_producer(&f, p));
    }
    nm_test_sleep_ms(1000);

    int64_t t0 = nm_time_mono_ns();
    int n_kill9 = 0, n_stop = 0;
    for (int k = 1; k <= kills; k++) {
        nm_test_sleep_ms(rng_between(150, 600));
        /* Queue and collector each as likely as one worker. */
        member *m = &f.members[rng_between(0, f.n_members - 1)];
        if (rng_between(1, 10) <= 7) {
            nm_proc_signal(&m->proc, SIGCONT);
            nm_proc_kill(&m->proc);
            printf("chaos: fault=%d action=kill-9 process=%s\n", k, m->name);
            nm_test_sleep_ms(rng_between(50, 400));
            start_member(m);
            n_kill9++;
        } else {
            int frozen = rng_between(100, 3000);
            nm_proc_signal(&m->proc, SIGSTOP);
            printf("chaos: fault=%d action=stop process=%s ms=%d\n", k, m->name, frozen);
            nm_test_sleep_ms(frozen);
            nm_proc_signal(&m->proc, SIGCONT);
            n_stop++;
        }
        fflush(stdout);
        restart_dead(&f);
    }
    double fault_s = (double)(nm_time_mono_ns() - t0) / 1e9;

    for (int p = 0; p < PRODUCERS; p++)
        kill(producers[p], SIGTERM);
    for (int p = 0; p < PRODUCERS; p++)
        waitpid(producers[p], NULL, 0);
    restart_dead(&f);

    records rec;
    load_records(&f, &rec);
    long want = rec.acked - rec.acked_poison, got = 0;
    if (rec.acked == 0) {
        printf("chaos: FAIL no article was accepted; see the logs below\n");
        for (int i = 0; i < f.n_members; i++)
            nm_proc_dump_log(&f.members[i].proc);
        stop_fleet(&f);
        return 1;
    }
    int64_t drain_t0 = nm_time_mono_ns(), idle_since = 0;
    /* Settled: every acked article stored, and two reports in a row from the
     * queue say nothing is waiting or in flight (a newer version may still be
     * on its way when an older one is stored; an article may be dead).
     * Leases of killed workers expire within --lease (3 s); allow for a slow
     * machine. What the spool holds is checked again after the stop. */
    void *ctx = zmq_ctx_new();
    while (nm_time_mono_ns() - drain_t0 < 120 * NM_NS_PER_S) {
        int64_t idle = queue_idle_report(&f, ctx);
        if (!idle) {
            idle_since = 0;
        } else if (!idle_since) {
            idle_since = idle;
        } else if (idle > idle_since) {
            got = count_stored(&f, &rec);
            /* idle for 5 s with some missing: they are dead or lost (checked below) */
            if (got == want || idle - idle_since >= 5000)
                break;
        }
        nm_test_sleep_ms(250);
    }
    got = count_stored(&f, &rec);
    zmq_ctx_term(ctx);
    double drain_s = (double)(nm_time_mono_ns() - drain_t0) / 1e9;
    /* Let the last done messages and poison failures settle, then stop. */
    nm_test_sleep_ms(1500);
    stop_fleet(&f);

    int failures = 0;
    long waiting = query_file(f.spool, "SELECT count(*) FROM articles");
    long dead = query_file(f.spool, "SELECT count(*) FROM dead");
    long dead_poison = query_file(f.spool, "SELECT count(*) FROM dead WHERE id LIKE 'poison-%'");
    long results_rows = query_file(f.results, "SELECT count(*) FROM articles");
    if (waiting != 0) {
        printf("chaos: FAIL %ld articles left in the spool (backlog or in flight)\n", waiting);
        failures++;
    }
    long dead_innocent = report_dead_not_poison(&f, true);
    if (dead_innocent != 0)
        failures++;
    if (dead_poison < rec.acked_poison) {
        printf("chaos: FAIL only %ld of %ld accepted poison articles are dead letters\n",
               dead_poison, rec.acked_poison);
        failures++;
    }
    content_report c;
    failures += check_results(&f, &rec, &c);
    printf("{\"mode\":\"chaos\",\"seed\":%" PRId64 ",\"faults\":%" PRId64
           ",\"kill9\":%d,\"stop_cont\":%d,\"fault_seconds\":%.1f,\"accepted\":%ld,"
           "\"poison_accepted\":%ld,\"resubmissions_accepted\":%ld,\"stored\":%ld,"
           "\"results_rows\":%ld,\"content_checked\":%ld,\"content_ok\":%ld,\"missing\":%ld,"
           "\"stale\":%ld,\"wrong_content\":%ld,\"rows_mismatch\":%ld,\"unexpected_rows\":%ld,"
           "\"orphan_rows\":%ld,\"unindexed\":%ld,\"fts_ok\":%s,\"dead\":%ld,"
           "\"dead_not_poison\":%ld,\"left_in_spool\":%ld,\"drain_seconds\":%.1f,\"ok\":%s}\n",
           seed, kills, n_kill9, n_stop, fault_s, rec.acked, rec.acked_poison, rec.resubmitted,
           got, results_rows, c.checked, c.ok, c.missing, c.stale, c.wrong, c.rows_mismatch,
           c.unexpected, c.tables.orphan_rows, c.tables.unindexed,
           c.tables.fts_ok ? "true" : "false", dead,
           dead_innocent, waiting, drain_s, failures ? "false" : "true");
    if (failures) {
        for (int i = 0; i < f.n_members; i++)
            nm_proc_dump_log(&f.members[i].proc);
        if (!keep_files)
            printf("chaos: rerun with --keep --seed %" PRId64 " to keep the files\n", seed);
    }
    free_records(&rec);
    for (int i = 0; i < f.n_members; i++)
        for (int a = 0; a < f.members[i].argc; a++)
            free(f.members[i].argv[a]);
    return failures ? 1 : 0;
}

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
 * At the end it checks the promises:
 *   - every article a producer was told was accepted is in the results
 *     database exactly once (poison excepted);
 *   - nothing is left in the spool (no backlog, nothing in flight);
 *   - the dead letters hold the poison articles and nothing else.
 * Exit 0 when they hold, 1 otherwise (with what broke), 2 on bad flags.
 *
 *   chaos [--kills N] [--seed S] [--workers N] [--keep]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_log.h"
#include "nm_opts.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"

#define MAX_WORKERS 8
#define PRODUCERS 2
#define BATCH 20
#define POISON_EVERY 97 /* one article in this many is poison */

typedef struct member {
    nm_proc proc;
    char name[32];
    char *argv[24];
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

/* xorshift64*: small, seedable, the same sequence on every machine. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static int rng_between(int lo, int hi)
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *keep(const char *s)
{
    return strdup(s);
}

static member *add_member(fleet *f, const char *name, const char *program)
{
    member *m = &f->members[f->n_members++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->argv[m->argc++] = keep(nm_test_bin(program));
    return m;
}

static void arg(member *m, const char *a)
{
    m->argv[m->argc++] = keep(a);
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

    /* Short leases and timeouts so that kills are noticed within the run. */
    member *q = add_member(f, "queue", "newsmill-queue");
    const char *qargs[] = {"--front", f->front, "--back", f->back, "--stats", f->stats,
                           "--spool", f->spool, "--lease", "3s", "--worker-timeout", "2s",
                           "--retry-base", "100ms", "--retry-max", "1s", "--max-attempts", "10"};
    for (size_t i = 0; i < sizeof qargs / sizeof qargs[0]; i++)
        arg(q, qargs[i]);

    member *c = add_member(f, "collector", "newsmill-collector");
    const char *cargs[] = {"--stats-bind", f->stats, "--query-bind", f->query, "--http", f->http};
    for (size_t i = 0; i < sizeof cargs / sizeof cargs[0]; i++)
        arg(c, cargs[i]);

    for (int i = 1; i <= workers; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        member *w = add_member(f, name, "newsmill-worker");
        const char *wargs[] = {"--queue", f->back, "--stats", f->stats, "--db", f->results,
                               "--name", name, "--credit", "64", "--batch", "32",
                               "--flush-ms", "20"};
        for (size_t k = 0; k < sizeof wargs / sizeof wargs[0]; k++)
            arg(w, wargs[k]);
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

/* Writes article n of producer p into buf; returns whether it is poison. */
static bool make_article(int p, long n, char *id, size_t id_size, char *body, size_t body_size,
                         Newsmill__ContentType *type)
{
    bool poison = n % POISON_EVERY == POISON_EVERY - 1;
    snprintf(id, id_size, "%s-p%d-%ld", poison ? "poison" : "chaos", p, n);
    if (poison) {
        snprintf(body, body_size, "<html><body><nav><p> %ld </p></nav></body></html>", n);
        *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
    } else {
        size_t nt = sizeof topics / sizeof topics[0];
        snprintf(body, body_size, "Chaos report %d-%ld\n\n%s %s\n\n%s Article %ld of producer %d.\n",
                 p, n, topics[(size_t)n % nt], topics[(size_t)(n / 7) % nt],
                 topics[(size_t)(n / 3 + 1) % nt], n, p);
        *type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    }
    return poison;
}

/* A producer process: submits batches until told to stop, resubmitting a
 * batch until it is acked, and appends every accepted id to its file. */
static int run_producer(const fleet *f, int p)
{
    signal(SIGTERM, on_term);
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
    static char ids[BATCH][64], bodies[BATCH][512];
    Newsmill__Article arts[BATCH], *batch[BATCH];
    long n = 0;
    while (!producer_stop) {
        for (int i = 0; i < BATCH; i++) {
            newsmill__article__init(&arts[i]);
            make_article(p, n + i, ids[i], sizeof ids[i], bodies[i], sizeof bodies[i],
                         &arts[i].content_type);
            arts[i].id = ids[i];
            arts[i].source = "chaos";
            arts[i].body.data = (uint8_t *)bodies[i];
            arts[i].body.len = strlen(bodies[i]);
            batch[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack = NULL;
        /* The same batch again after a timeout: same ids, no duplicates. */
        while (!producer_stop && nm_producer_submit(prod, batch, BATCH, &ack, &err) != 0)
            sleep_ms(100);
        if (!ack)
            break;
        for (size_t i = 0; i < ack->n_acks; i++) {
            if (ack->acks[i]->accepted)
                fprintf(out, "%s\n", ack->acks[i]->id);
        }
        fflush(out);
        nm_producer_ack_free(&ack);
        n += BATCH;
        sleep_ms(20);
    }
    fclose(out);
    nm_producer_destroy(&prod);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- checks ------------------------------------------------------------ */

typedef struct idset {
    char **ids;
    size_t n, n_poison;
} idset;

static void load_accepted(const fleet *f, idset *s)
{
    memset(s, 0, sizeof *s);
    size_t cap = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        char path[600], line[128];
        snprintf(path, sizeof path, "%s/accepted-%d.txt", f->dir, p);
        FILE *in = fopen(path, "r");
        if (!in)
            continue;
        while (fgets(line, sizeof line, in)) {
            line[strcspn(line, "\n")] = '\0';
            if (!*line)
                continue;
            if (s->n == cap) {
                cap = cap ? cap * 2 : 1024;
                s->ids = realloc(s->ids, cap * sizeof *s->ids);
            }
            s->ids[s->n++] = strdup(line);
            s->n_poison += !strncmp(line, "poison-", 7);
        }
        fclose(in);
    }
}

static void free_ids(idset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
}

/* How many accepted non-poison ids are in the results database (-1: no db). */
static long count_stored(const fleet *f, const idset *s, const char **first_missing)
{
    sqlite3 *db;
    if (sqlite3_open_v2(f->results, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM articles WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    long found = 0;
    *first_missing = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (!strncmp(s->ids[i], "poison-", 7))
            continue;
        sqlite3_bind_text(st, 1, s->ids[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1)
            found++;
        else if (!*first_missing)
            *first_missing = s->ids[i];
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

static long query_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
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
        "accepted article is stored exactly once and only poison is dead.",
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
    sleep_ms(1000);

    int64_t t0 = nm_time_mono_ns();
    int n_kill9 = 0, n_stop = 0;
    for (int k = 1; k <= kills; k++) {
        sleep_ms(rng_between(150, 600));
        /* Queue and collector each as likely as one worker. */
        member *m = &f.members[rng_between(0, f.n_members - 1)];
        if (rng_between(1, 10) <= 7) {
            nm_proc_signal(&m->proc, SIGCONT);
            nm_proc_kill(&m->proc);
            printf("chaos: fault=%d action=kill-9 process=%s\n", k, m->name);
            sleep_ms(rng_between(50, 400));
            start_member(m);
            n_kill9++;
        } else {
            int frozen = rng_between(100, 3000);
            nm_proc_signal(&m->proc, SIGSTOP);
            printf("chaos: fault=%d action=stop process=%s ms=%d\n", k, m->name, frozen);
            sleep_ms(frozen);
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

    idset acc;
    load_accepted(&f, &acc);
    long want = (long)(acc.n - acc.n_poison), got = 0;
    if (acc.n == 0) {
        printf("chaos: FAIL no article was accepted; see the logs below\n");
        for (int i = 0; i < f.n_members; i++)
            nm_proc_dump_log(&f.members[i].proc);
        stop_fleet(&f);
        return 1;
    }
    const char *missing = NULL;
    int64_t drain_t0 = nm_time_mono_ns();
    /* Leases of killed workers expire within --lease (3 s); allow for a slow machine. */
    while (nm_time_mono_ns() - drain_t0 < 120 * NM_NS_PER_S) {
        got = count_stored(&f, &acc, &missing);
        if (got == want)
            break;
        sleep_ms(250);
    }
    double drain_s = (double)(nm_time_mono_ns() - drain_t0) / 1e9;
    /* Let the last done messages and poison failures settle, then stop. */
    sleep_ms(1500);
    stop_fleet(&f);

    int failures = 0;
    if (got != want) {
        printf("chaos: FAIL stored %ld of %ld accepted articles (first missing: %s)\n", got, want,
               missing ? missing : "?");
        failures++;
    }
    sqlite3 *db;
    long waiting = -1, dead = -1, dead_poison = -1, dup = -1, stored = -1;
    if (sqlite3_open_v2(f.spool, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        waiting = query_long(db, "SELECT count(*) FROM articles");
        dead = query_long(db, "SELECT count(*) FROM dead");
        dead_poison = query_long(db, "SELECT count(*) FROM dead WHERE id LIKE 'poison-%'");
    }
    sqlite3_close(db);
    if (sqlite3_open_v2(f.results, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        stored = query_long(db, "SELECT count(*) FROM articles");
        dup = query_long(db, "SELECT count(*) - count(DISTINCT id) FROM articles");
    }
    sqlite3_close(db);
    if (waiting != 0) {
        printf("chaos: FAIL %ld articles left in the spool (backlog or in flight)\n", waiting);
        failures++;
    }
    if (dead != dead_poison) {
        printf("chaos: FAIL %ld dead letters are not poison\n", dead - dead_poison);
        failures++;
    }
    if (dead_poison < (long)acc.n_poison) {
        printf("chaos: FAIL only %ld of %zu accepted poison articles are dead letters\n",
               dead_poison, acc.n_poison);
        failures++;
    }
    if (dup != 0) {
        printf("chaos: FAIL %ld duplicate rows in the results\n", dup);
        failures++;
    }
    printf("{\"mode\":\"chaos\",\"seed\":%" PRId64 ",\"faults\":%" PRId64
           ",\"kill9\":%d,\"stop_cont\":%d,\"fault_seconds\":%.1f,\"accepted\":%zu,"
           "\"poison_accepted\":%zu,\"stored\":%ld,\"results_rows\":%ld,\"dead\":%ld,"
           "\"left_in_spool\":%ld,\"drain_seconds\":%.1f,\"ok\":%s}\n",
           seed, kills, n_kill9, n_stop, fault_s, acc.n, acc.n_poison, got, stored, dead,
           waiting, drain_s, failures ? "false" : "true");
    if (failures) {
        for (int i = 0; i < f.n_members; i++)
            nm_proc_dump_log(&f.members[i].proc);
        if (!keep_files)
            printf("chaos: rerun with --keep --seed %" PRId64 " to keep the files\n", seed);
    }
    free_ids(&acc);
    for (int i = 0; i < f.n_members; i++)
        for (int a = 0; a < f.members[i].argc; a++)
            free(f.members[i].argv[a]);
    return failures ? 1 : 0;
}

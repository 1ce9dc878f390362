/*
 * powercut: prove that an acknowledged article survives a power cut.
 *
 * Starts a real fleet (newsmill-queue and 2 newsmill-workers sharing one
 * results database) with powercut_preload.so, which logs what reaches stable
 * storage; 2 producer processes (clients on "other hosts": not preloaded,
 * never cut) submit articles, some of them new versions of ids they sent
 * before, and append every acknowledged "id version" to a file. At a random
 * moment (seeded) the cut: every fleet process is killed at once (SIGKILL)
 * and each of their files is rebuilt as a disk could hold it (nm_powercut.h:
 * synced content, plus none, all or a random subset of the sectors written
 * since the last sync). Then, before the fleet restarts on the rebuilt files:
 *   - the spool and the results database open and pass integrity_check;
 *   - every article acknowledged before the cut is in the spool (waiting or
 *     dead) or in the results, at the acknowledged version or a later one.
 * After the last cut the fleet drains and every acknowledged article must be
 * stored at its latest acknowledged version (or later), the spool empty.
 *
 * --durability full must lose nothing acknowledged. --durability normal may
 * lose the last commits (README says so): its losses are counted and
 * printed, and only corruption fails it.
 *
 *   powercut [--cuts N] [--seed S] [--durability full|normal] [--keep]
 * Prints one line per cut and a JSON summary line; exit 0 when the promises
 * of the mode held, 1 otherwise, 2 on bad flags.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "newsmill.pb-c.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_powercut.h"
#include "nm_producer.h"
#include "nm_store.h"
#include "nm_test.h"
#include "nm_time.h"

#define WORKERS 2
#define PRODUCERS 2
#define BATCH 20
#define MAX_IDS 200000

typedef struct fleet {
    char dir[512], log[600], preload[600];
    char front[64], back[64], spool[600], results[600];
    const char *durability;
    nm_proc queue, workers[WORKERS];
} fleet;

static uint64_t rng_state;

static int rng_between(int lo, int hi)
{
    return nm_test_rng_between(&rng_state, lo, hi);
}

/* ---- the fleet, under the preload library ------------------------------ */

static void start_fleet(fleet *f)
{
    setenv("LD_PRELOAD", f->preload, 1);
    setenv("NM_POWERCUT_ROOT", f->dir, 1);
    setenv("NM_POWERCUT_LOG", f->log, 1);
    /* Under AddressSanitizer the preload comes before the ASan runtime. */
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[512];
    snprintf(asan_opts, sizeof asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && *asan ? ":" : "");
    setenv("ASAN_OPTIONS", asan_opts, 1);
    char *argv[NM_TEST_FLEET_ARGV];
    /* bounded: the checks read the whole spool after every cut */
    nm_test_fleet_queue_argv(argv, f->front, f->back, "", f->spool,
                             (const char *[]){"--durability", f->durability, "--max-backlog",
                                              "4000", NULL});
    nm_proc_start(&f->queue, "queue", argv);
    for (int i = 0; i < WORKERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        nm_test_fleet_worker_argv(argv, f->back, "", f->results, name);
        nm_proc_start(&f->workers[i], name, argv);
    }
    unsetenv("LD_PRELOAD");
    unsetenv("NM_POWERCUT_ROOT");
    unsetenv("NM_POWERCUT_LOG");
    if (asan)
        setenv("ASAN_OPTIONS", asan, 1);
    else
        unsetenv("ASAN_OPTIONS");
}

/* The cut: every process of the fleet killed in one go, none first. */
static void cut_power(fleet *f)
{
    pid_t pids[WORKERS + 1] = {f->queue.pid};
    for (int i = 0; i < WORKERS; i++)
        pids[i + 1] = f->workers[i].pid;
    for (int i = 0; i <= WORKERS; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    nm_proc_kill(&f->queue);
    for (int i = 0; i < WORKERS; i++)
        nm_proc_kill(&f->workers[i]);
}

/* ---- producers --------------------------------------------------------- */

static volatile sig_atomic_t producer_stop;

static void on_term(int sig)
{
    (void)sig;
    producer_stop = 1;
}

/* A producer process: batches of new ids and new versions of its earlier
 * ids; appends "id version" of every acknowledged article to its file. */
static int run_producer(const fleet *f, int p)
{
    signal(SIGTERM, on_term);
    char path[700];
    snprintf(path, sizeof path, "%s/../acked-%d.txt", f->dir, p);
    FILE *out = fopen(path, "w");
    void *ctx = zmq_ctx_new();
    nm_error err;
    nm_producer *prod = nm_producer_new(ctx, f->front, &err);
    if (!out || !prod)
        return 1;
    nm_producer_set_timeout(prod, 1000, 0);
    static int version[MAX_IDS / PRODUCERS];
    static char ids[BATCH][64], bodies[BATCH][600];
    Newsmill__Article arts[BATCH], *batch[BATCH];
    long next_id = 0;
    uint64_t rng = (rng_state ^ (uint64_t)(p + 1) * 0x9e3779b97f4a7c15u) | 1;
    const long id_space = MAX_IDS / PRODUCERS;
    while (!producer_stop) {
        for (int i = 0; i < BATCH; i++) {
            /* One in four (all once the id space is used up): a new version
             * of an id this producer sent; one version of an id per batch. */
            long n;
            bool taken;
            do {
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                bool again = next_id >= id_space || (next_id > BATCH && rng % 4 == 0);
                n = again ? (long)((rng >> 8) % (uint64_t)next_id) : next_id++;
                taken = false;
                for (int k = 0; k < i; k++)
                    taken |= atol(strrchr(ids[k], '-') + 1) == n;
            } while (taken);
            int v = ++version[n];
            snprintf(ids[i], sizeof ids[i], "cut-p%d-%ld", p, n);
            snprintf(bodies[i], sizeof bodies[i],
                     "Power cut report %d-%ld\n\nThe grid operator in São Paulo said Israel’s "
                     "engineers restored the line (version %d of article %s).\n\nIbrahim Kalın "
                     "met the board in Ankara on Tuesday; the article ends here.\n",
                     p, n, v, ids[i]);
            newsmill__article__init(&arts[i]);
            arts[i].id = ids[i];
            arts[i].source = "powercut";
            arts[i].content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
            arts[i].body.data = (uint8_t *)bodies[i];
            arts[i].body.len = strlen(bodies[i]);
            batch[i] = &arts[i];
        }
        Newsmill__SubmitAck *ack = NULL;
        /* The same batch again after a timeout (the cut): same versions. */
        while (!producer_stop && nm_producer_submit(prod, batch, BATCH, &ack, &err) != 0)
            nm_test_sleep_ms(100);
        if (!ack)
            break;
        for (size_t i = 0; i < ack->n_acks && i < BATCH; i++)
            if (ack->acks[i]->accepted)
                fprintf(out, "%s %d\n", ids[i], version[atol(strrchr(ids[i], '-') + 1)]);
        fflush(out);
        nm_producer_ack_free(&ack);
        nm_test_sleep_ms(10);
    }
    fclose(out);
    nm_producer_destroy(&prod);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- what was acknowledged, what is on disk ---------------------------- */

/* Per producer and article number: the latest acknowledged version, the
 * version found on disk at the last check, and the highest version already
 * counted as lost (normal durability only: counted once, then forgiven). */
typedef struct ledger {
    int acked[PRODUCERS][MAX_IDS / PRODUCERS];
    int found[PRODUCERS][MAX_IDS / PRODUCERS];
    int forgiven[PRODUCERS][MAX_IDS / PRODUCERS];
    long n_acked;   /* distinct ids acknowledged */
    long ack_lines; /* acknowledgements read (progress) */
    long in_spool;  /* at the last check: articles waiting in the spool */
} ledger;

static bool parse_id(const char *id, int *p, long *n)
{
    return sscanf(id, "cut-p%d-%ld", p, n) == 2 && *p >= 0 && *p < PRODUCERS && *n >= 0 &&
           *n < MAX_IDS / PRODUCERS;
}

/* Reads the producers' files (complete lines only: a producer may be in the
 * middle of one). */
static void load_acked(const fleet *f, ledger *l)
{
    l->ack_lines = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        char path[700], line[128];
        snprintf(path, sizeof path, "%s/../acked-%d.txt", f->dir, p);
        FILE *in = fopen(path, "r");
        while (in && fgets(line, sizeof line, in)) {
            char id[64];
            int v, pp;
            long n;
            if (!strchr(line, '\n') || sscanf(line, "%63s %d", id, &v) != 2 || !parse_id(id, &pp, &n))
                continue;
            l->ack_lines++;
            if (l->acked[pp][n] == 0)
                l->n_acked++;
            if (v > l->acked[pp][n])
                l->acked[pp][n] = v;
        }
        if (in)
            fclose(in);
    }
}

static int version_in(const char *text, size_t len)
{
    char buf[700];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), text);
    const char *v = strstr(buf, "(version ");
    return v ? atoi(v + 9) : 0;
}

static void note_found(ledger *l, const char *id, int version)
{
    int p;
    long n;
    if (id && parse_id(id, &p, &n) && version > l->found[p][n])
        l->found[p][n] = version;
}

/* Opens a database the way the programs would after the cut and checks it.
 * Returns the connection, or NULL with why. */
static sqlite3 *open_checked(const char *path, char *why, size_t why_size)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(why, why_size, "%s does not open: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    nm_store_register_functions(db, NULL); /* articles.body is computed (nm_store.h) */
    sqlite3_stmt *st = NULL;
    const char *verdict = "(no answer)";
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        verdict = (const char *)sqlite3_column_text(st, 0);
    bool ok = verdict && strcmp(verdict, "ok") == 0;
    if (!ok)
        snprintf(why, why_size, "%s fails integrity_check: %s", path, verdict ? verdict : "?");
    sqlite3_finalize(st);
    if (!ok) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Copies src (and its -wal) to dst: the checks read copies, so that the
 * programs still recover the rebuilt files themselves when they restart. */
static void copy_db(const char *src, const char *dst)
{
    for (int k = 0; k < 3; k++) {
        const char *suffix = k == 0 ? "" : k == 1 ? "-wal" : "-journal";
        char from[700], to[700];
        snprintf(from, sizeof from, "%s%s", src, suffix);
        snprintf(to, sizeof to, "%s%s", dst, suffix);
        unlink(to);
        FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
        char buf[65536];
        size_t n;
        while (out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        if (out)
            fclose(out);
        if (in)
            fclose(in);
    }
}

/* Whether db has a table named name. */
static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *q = NULL;
    bool found = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                                    -1, &q, NULL) == SQLITE_OK &&
                 sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
                 sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return found;
}

/* Versions of every article in the spool (waiting and dead) and in the
 * results, read from copies. A file that does not exist yet holds nothing,
 * and nor does one without its tables: a program cut while creating its
 * database (the file and its header on disk, the schema's commit not yet)
 * has stored nothing in it, and makes the schema again when it restarts. */
static int read_disk(const fleet *f, ledger *l, char *why, size_t why_size)
{
    memset(l->found, 0, sizeof l->found);
    l->in_spool = 0;
    struct stat st;
    char spool[700], results[700];
    snprintf(spool, sizeof spool, "%s/../check-queue.db", f->dir);
    snprintf(results, sizeof results, "%s/../check-results.db", f->dir);
    if (stat(f->spool, &st) == 0) {
        copy_db(f->spool, spool);
        sqlite3 *db = open_checked(spool, why, why_size);
        if (!db)
            return -1;
        const char *sql[] = {"SELECT article FROM articles", "SELECT article FROM dead"};
        for (int k = 0; k < 2 && has_table(db, "articles"); k++) {
            sqlite3_stmt *q = NULL;
            if (sqlite3_prepare_v2(db, sql[k], -1, &q, NULL) != SQLITE_OK) {
                snprintf(why, why_size, "spool: %s: %s", sql[k], sqlite3_errmsg(db));
                sqlite3_close(db);
                return -1;
            }
            while (sqlite3_step(q) == SQLITE_ROW) {
                l->in_spool += k == 0;
                Newsmill__Article *a = newsmill__article__unpack(
                    NULL, (size_t)sqlite3_column_bytes(q, 0), sqlite3_column_blob(q, 0));
                if (a)
                    note_found(l, a->id, version_in((const char *)a->body.data, a->body.len));
                newsmill__article__free_unpacked(a, NULL);
            }
            sqlite3_finalize(q);
        }
        sqlite3_close(db);
    }
    if (stat(f->results, &st) == 0) {
        copy_db(f->results, results);
        sqlite3 *db = open_checked(results, why, why_size);
        if (!db)
            return -1;
        sqlite3_stmt *q = NULL;
        if (!has_table(db, "article_rows")) {
            sqlite3_close(db);
            return 0;
        }
        if (sqlite3_prepare_v2(db, "SELECT id, body FROM articles", -1, &q, NULL) != SQLITE_OK) {
            snprintf(why, why_size, "results: %s", sqlite3_errmsg(db));
            sqlite3_close(db);
            return -1;
        }
        while (sqlite3_step(q) == SQLITE_ROW)
            note_found(l, (const char *)sqlite3_column_text(q, 0),
                       version_in((const char *)sqlite3_column_text(q, 1),
                                  (size_t)sqlite3_column_bytes(q, 1)));
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    return 0;
}

/* Acknowledged articles whose acknowledged version is not on disk. */
static long count_missing(const ledger *l, char *first, size_t first_size)
{
    long missing = 0;
    for (int p = 0; p < PRODUCERS; p++)
        for (long n = 0; n < MAX_IDS / PRODUCERS; n++)
            if (l->acked[p][n] > l->found[p][n] && l->acked[p][n] > l->forgiven[p][n]) {
                if (missing++ == 0)
                    snprintf(first, first_size, "cut-p%d-%ld (acked version %d, on disk %d)", p,
                             n, l->acked[p][n], l->found[p][n]);
            }
    return missing;
}

/* Waits (up to timeout_ms) until the producers have more acks than before. */
static bool wait_for_acks(const fleet *f, ledger *l, long more_than, int timeout_ms)
{
    int64_t deadline = nm_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (nm_time_mono_ns() < deadline) {
        load_acked(f, l);
        if (l->ack_lines > more_than)
            return true;
        nm_test_sleep_ms(50);
    }
    return false;
}

static const char *mode_name(nm_powercut_mode m)
{
    static const char *const names[] = {"none", "all", "torn", "random"};
    return names[m];
}

int main(int argc, char **argv)
{
    nm_log_init("powercut");
    int64_t cuts = 20, seed = 0;
    const char *durability = "full";
    bool keep_files = false;
    nm_opt opts[] = {
        {"cuts", 'c', NM_OPT_INT, &cuts, "N", "power cuts to simulate", 1, 100000},
        {"seed", 's', NM_OPT_INT, &seed, "S", "random seed (0: from the clock; printed)", 0, 0},
        {"durability", 0, NM_OPT_STRING, &durability, "MODE", "the queue's --durability: full or normal", 0, 0},
        {"keep", 0, NM_OPT_FLAG, &keep_files, NULL, "keep the fleet's directory afterwards", 0, 0},
    };
    const nm_opts_program program = {
        "powercut", "[OPTIONS]",
        "Cuts the power of a fleet under load (every process killed, every file\n"
        "rebuilt as a disk could hold it) and checks that nothing acknowledged is lost.",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    if (strcmp(durability, "full") != 0 && strcmp(durability, "normal") != 0) {
        fprintf(stderr, "powercut: --durability must be full or normal, not '%s'\n", durability);
        return 2;
    }
    if (!seed)
        seed = (int64_t)(nm_time_unix_ms() ^ (getpid() << 16));
    rng_state = (uint64_t)seed | 1;
    if (keep_files)
        setenv("NM_TEST_KEEP", "1", 1);
    char self[512];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = '\0';
    *strrchr(self, '/') = '\0';
    if (!getenv("NM_BIN_DIR")) /* run by hand: the programs sit beside this one */
        setenv("NM_BIN_DIR", self, 1);

    static fleet f;
    static ledger l;
    f.durability = durability;
    snprintf(f.dir, sizeof f.dir, "%s/disk", nm_test_tmpdir());
    mkdir(f.dir, 0755);
    snprintf(f.log, sizeof f.log, "%s/powercut.log", nm_test_tmpdir());
    snprintf(f.preload, sizeof f.preload, "%s/powercut_preload.so", self);
    snprintf(f.front, sizeof f.front, "%s", nm_test_endpoint());
    snprintf(f.back, sizeof f.back, "%s", nm_test_endpoint());
    snprintf(f.spool, sizeof f.spool, "%s/queue.db", f.dir);
    snprintf(f.results, sizeof f.results, "%s/results.db", f.dir);
    if (access(f.preload, R_OK) != 0) {
        fprintf(stderr, "powercut: %s not found (built beside this program)\n", f.preload);
        return 1;
    }
    printf("powercut: seed=%" PRId64 " cuts=%" PRId64 " durability=%s dir=%s (replay with --seed %"
           PRId64 ")\n", seed, cuts, durability, f.dir, seed);
    fflush(stdout);

    start_fleet(&f);
    pid_t producers[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        fflush(NULL);
        producers[p] = fork();
        if (producers[p] == 0)
            _exit(run_producer(&f, p));
    }

    bool full = strcmp(durability, "full") == 0;
    long lost_total = 0, worst_loss = 0;
    int failures = 0;
    char why[1024] = "", first[160] = "";
    nm_powercut_stats totals = {0};
    int64_t t0 = nm_time_mono_ns();
    for (int64_t c = 1; c <= cuts && !failures; c++) {
        if (!wait_for_acks(&f, &l, l.ack_lines, 60000)) {
            snprintf(why, sizeof why, "no article acknowledged within 60 s after restart %" PRId64, c - 1);
            failures++;
            break;
        }
        /* Half the time the workers fall behind (frozen), so that acked
         * articles wait in the spool when the power goes. */
        bool backlog = rng_between(0, 1) == 1;
        for (int i = 0; backlog && i < WORKERS; i++)
            nm_proc_signal(&f.workers[i], SIGSTOP);
        nm_test_sleep_ms(rng_between(200, 1500));
        cut_power(&f);
        nm_powercut_mode mode = (nm_powercut_mode)rng_between(0, 3);
        nm_powercut_stats st;
        if (keep_files) { /* what the cut rebuilt from, for a post-mortem */
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "cp '%s' '%s.cut%" PRId64 "'", f.log, f.log, c);
            if (system(cmd) != 0)
                fprintf(stderr, "powercut: could not keep %s\n", f.log);
        }
        if (nm_powercut_rebuild(f.log, mode, &rng_state, &st, why, sizeof why) != 0) {
            failures++;
            break;
        }
        totals.files += st.files;
        totals.sectors_lost += st.sectors_lost;
        totals.sectors_kept += st.sectors_kept;
        totals.files_vanished += st.files_vanished;
        load_acked(&f, &l);
        if (read_disk(&f, &l, why, sizeof why) != 0) {
            failures++;
            break;
        }
        long missing = count_missing(&l, first, sizeof first);
        printf("powercut: cut=%" PRId64 " mode=%s workers=%s acked=%ld waiting_in_spool=%ld "
               "files_rebuilt=%d sectors_lost=%" PRId64 " sectors_kept=%" PRId64
               " files_vanished=%d missing=%ld%s%s\n",
               c, mode_name(mode), backlog ? "frozen" : "running", l.n_acked, l.in_spool,
               st.files, st.sectors_lost, st.sectors_kept, st.files_vanished, missing,
               missing ? " first=" : "", missing ? first : "");
        fflush(stdout);
        if (missing) {
            lost_total += missing;
            worst_loss = missing > worst_loss ? missing : worst_loss;
            /* Every write reached the disk: nothing may be missing in any
             * mode (with normal durability too: a loss here is not the power
             * cut's, e.g. a revision counter that went back at an earlier
             * cut and made the results drop newer bodies as stale). */
            if (full || mode == NM_POWERCUT_ALL) {
                snprintf(why, sizeof why, "%ld acknowledged article(s) lost at cut %" PRId64
                         ", first %s", missing, c, first);
                failures++;
                break;
            }
            /* normal mode: what was lost is gone; count it once. */
            for (int p = 0; p < PRODUCERS; p++)
                for (long n = 0; n < MAX_IDS / PRODUCERS; n++)
                    if (l.acked[p][n] > l.found[p][n])
                        l.forgiven[p][n] = l.acked[p][n];
        }
        start_fleet(&f);
    }
    double cut_s = (double)(nm_time_mono_ns() - t0) / 1e9;

    /* The end: producers stop, the fleet drains, every version is stored. */
    for (int p = 0; p < PRODUCERS; p++)
        kill(producers[p], SIGTERM);
    for (int p = 0; p < PRODUCERS; p++)
        waitpid(producers[p], NULL, 0);
    long missing = 0;
    if (!failures) {
        load_acked(&f, &l);
        int64_t deadline = nm_time_mono_ns() + INT64_C(120) * 1000000000;
        do {
            nm_test_sleep_ms(500);
            ledger *stored = &l; /* only the results count now */
            memset(stored->found, 0, sizeof stored->found);
            sqlite3 *db = NULL;
            if (sqlite3_open_v2(f.results, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
                sqlite3_busy_timeout(db, 2000);
                nm_store_register_functions(db, NULL);
                sqlite3_stmt *q = NULL;
                if (sqlite3_prepare_v2(db, "SELECT id, body FROM articles", -1, &q, NULL) == SQLITE_OK)
                    while (sqlite3_step(q) == SQLITE_ROW)
                        note_found(stored, (const char *)sqlite3_column_text(q, 0),
                                   version_in((const char *)sqlite3_column_text(q, 1),
                                              (size_t)sqlite3_column_bytes(q, 1)));
                sqlite3_finalize(q);
            }
            sqlite3_close(db);
            missing = count_missing(&l, first, sizeof first);
        } while (missing && nm_time_mono_ns() < deadline);
        if (missing) {
            snprintf(why, sizeof why, "after draining, %ld acknowledged article(s) not stored at "
                     "their version, first %s", missing, first);
            failures++;
        }
    }
    nm_proc_signal(&f.queue, SIGTERM);
    for (int i = 0; i < WORKERS; i++)
        nm_proc_signal(&f.workers[i], SIGTERM);
    nm_proc_kill(&f.queue);
    for (int i = 0; i < WORKERS; i++)
        nm_proc_kill(&f.workers[i]);

    printf("{\"mode\":\"power-cut\",\"seed\":%" PRId64 ",\"durability\":\"%s\",\"cuts\":%" PRId64
           ",\"seconds\":%.1f,\"acked\":%ld,\"files_rebuilt\":%d,\"sectors_lost\":%" PRId64
           ",\"sectors_kept\":%" PRId64 ",\"files_vanished\":%d,\"lost_acked\":%ld,"
           "\"worst_cut_loss\":%ld,\"missing_after_drain\":%ld,\"ok\":%s}\n",
           seed, durability, cuts, cut_s, l.n_acked, totals.files, totals.sectors_lost,
           totals.sectors_kept, totals.files_vanished, lost_total, worst_loss, missing,
           failures ? "false" : "true");
    if (failures) {
        fprintf(stderr, "powercut: FAILED: %s\n", why);
        nm_proc_dump_log(&f.queue);
        for (int i = 0; i < WORKERS; i++)
            nm_proc_dump_log(&f.workers[i]);
        return 1;
    }
    return 0;
}

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
 *   chaos [--kills N] [--seed S] [--workers N] [--keep] [--nats]
 *
 * --nats: the same over a queue on NATS JetStream (chaos_nats.c): three
 * nats-server nodes, two fronts, the collector and the workers (given both
 * fronts) are all among the processes killed and frozen; producers are
 * given both fronts. "Nothing left" and the dead letters are then read from
 * the cluster before the stop: what the consumer's leader has pending or
 * unacknowledged, and `newsmill dead`. NATS nodes are hit one at a time
 * (see the fault loop); the messages the stream's leader holds are printed
 * too ("stream_msgs"), since nats-server 2.9 was seen to keep acknowledged
 * messages after leader changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "chaos.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_test.h"
#include "nm_time.h"

static uint64_t rng_state;

/* --nats: least time between two faults on NATS nodes (see the fault loop). */
#define NATS_FAULT_GAP_MS 10000

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

static void add_member_cb(fleet *f, const char *name, char **argv)
{
    add_member(f, name, argv);
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
    if (f->nats) {
        chaos_nats_members(f, workers, add_member_cb);
        /* the nodes first: the fronts start on a cluster that has formed */
        int i = 0;
        for (; i < f->n_members && strncmp(f->members[i].name, "nats-", 5) == 0; i++)
            start_member(&f->members[i]);
        if (!chaos_nats_wait_healthy(f, 60000))
            printf("chaos: the cluster was not healthy after 60 s; starting the rest anyway\n");
        for (; i < f->n_members; i++)
            start_member(&f->members[i]);
        return;
    }

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
    bool keep_files = false, nats = false;
    nm_opt opts[] = {
        {"kills", 'k', NM_OPT_INT, &kills, "N", "faults to inject", 0, 100000},
        {"seed", 's', NM_OPT_INT, &seed, "S", "random seed (0: from the clock; printed)", 0, 0},
        {"workers", 'w', NM_OPT_INT, &workers, "N", "workers in the fleet", 1, MAX_WORKERS},
        {"keep", 0, NM_OPT_FLAG, &keep_files, NULL, "keep the fleet's directory (logs, databases) afterwards", 0, 0},
        {"nats", 0, NM_OPT_FLAG, &nats, NULL,
         "the queue on a 3-node NATS JetStream cluster with two fronts (nodes killed too)", 0, 0},
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
    if (nats && !chaos_nats_available()) {
        printf("SKIP: nats-server missing (scripts/deps.txt)\n");
        return 77;
    }
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
    f.nats = nats;
    printf("chaos: fleet directory %s%s\n", f.dir, keep_files ? " (kept)" : "");
    build_fleet(&f, (int)workers);

    pid_t producers[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        fflush(NULL);
        producers[p] = fork();
        if (producers[p] == 0)
            _exit(chaos_run_producer(&f, p, rng_state));
    }
    nm_test_sleep_ms(1000);
    if (f.nats && !chaos_nats_wait_accepted(&f, 60000, restart_dead))
        printf("chaos: the cluster accepted nothing in 60 s; faults start anyway\n");

    int64_t t0 = nm_time_mono_ns();
    int n_kill9 = 0, n_stop = 0, n_unhealthy = 0;
    int64_t last_nats_fault_ns = 0;
    for (int k = 1; k <= kills; k++) {
        nm_test_sleep_ms(rng_between(150, 600));
        /* Queue and collector each as likely as one worker. */
        member *m = &f.members[rng_between(0, f.n_members - 1)];
        /* Three replicas survive one node down, not two: a node is hit
         * only once the one hit before has caught up (/healthz) and had
         * NATS_FAULT_GAP_MS to settle (nats-server 2.9's /healthz answers
         * ok before a restarted replica has all of the stream: hit again
         * sooner, replicas were seen to diverge for good). */
        if (f.nats && strncmp(m->name, "nats-", 5) == 0) {
            int64_t since_ms = (nm_time_mono_ns() - last_nats_fault_ns) / NM_NS_PER_MS;
            if (last_nats_fault_ns && since_ms < NATS_FAULT_GAP_MS)
                nm_test_sleep_ms((int)(NATS_FAULT_GAP_MS - since_ms));
            if (!chaos_nats_wait_healthy(&f, 60000)) {
                printf("chaos: fault=%d skipped on %s: the cluster not healthy for 60 s\n", k,
                       m->name);
                n_unhealthy++;
                restart_dead(&f);
                continue;
            }
            last_nats_fault_ns = nm_time_mono_ns();
        }
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
    /* The last fault may have hit a node: the checks below read the
     * cluster, so they wait for all three nodes and an elected leader, as
     * the fault loop does before a node is hit (reading sooner, the dead
     * letters' request timed out during the election). */
    if (f.nats && !chaos_nats_wait_healthy(&f, 60000))
        printf("chaos: the cluster not healthy 60 s after the faults (checked below)\n");

    records rec;
    chaos_load_records(&f, &rec);
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
        /* JetStream: the consumer's leader has nothing left to deliver
         * (a front just restarted reports nothing until it has read the
         * cluster's state) */
        int64_t idle = f.nats ? (chaos_nats_left(&f, NULL) == 0 ? nm_time_unix_ms() : 0)
                              : chaos_queue_idle_report(&f, ctx);
        if (!idle) {
            idle_since = 0;
        } else if (!idle_since) {
            idle_since = idle;
        } else if (idle > idle_since) {
            got = chaos_count_stored(&f, &rec);
            /* idle for 5 s with some missing: they are dead or lost (checked below) */
            if (got == want || idle - idle_since >= 5000)
                break;
        }
        nm_test_sleep_ms(250);
    }
    got = chaos_count_stored(&f, &rec);
    zmq_ctx_term(ctx);
    double drain_s = (double)(nm_time_mono_ns() - drain_t0) / 1e9;
    /* Let the last done messages and poison failures settle, then stop. */
    nm_test_sleep_ms(1500);
    int failures = 0;
    long waiting, dead, dead_poison, dead_innocent, stream_msgs = -1;
    if (f.nats) { /* read from the cluster while it runs */
        for (int i = 0; (waiting = chaos_nats_left(&f, &stream_msgs)) < 0 && i < 20; i++)
            nm_test_sleep_ms(500); /* a leader being elected */
        for (int i = 0; (dead = chaos_nats_dead(&f, &dead_poison, &dead_innocent)) < 0 && i < 5;
             i++)
            nm_test_sleep_ms(1000); /* a leader being elected */
        if (dead < 0) {
            printf("chaos: FAIL the fronts did not list the dead letters\n");
            failures++;
        }
        stop_fleet(&f);
    } else {
        stop_fleet(&f);
        waiting = chaos_query_file(f.spool, "SELECT count(*) FROM articles");
        dead = chaos_query_file(f.spool, "SELECT count(*) FROM dead");
        dead_poison = chaos_query_file(f.spool, "SELECT count(*) FROM dead WHERE id LIKE 'poison-%'");
        dead_innocent = chaos_report_dead_not_poison(&f, true);
    }
    long results_rows = chaos_query_file(f.results, "SELECT count(*) FROM article_rows");
    if (waiting != 0) {
        printf("chaos: FAIL %ld articles left in the %s (backlog or in flight)\n", waiting,
               f.nats ? "stream" : "spool");
        failures++;
    }
    if (dead_innocent != 0)
        failures++;
    if (dead_poison < rec.acked_poison) {
        printf("chaos: FAIL only %ld of %ld accepted poison articles are dead letters\n",
               dead_poison, rec.acked_poison);
        failures++;
    }
    content_report c;
    failures += chaos_check_results(&f, &rec, &c);
    printf("{\"mode\":\"chaos\",\"store\":\"%s\",\"seed\":%" PRId64 ",\"faults\":%" PRId64
           ",\"kill9\":%d,\"stop_cont\":%d,\"skipped_unhealthy\":%d,\"fault_seconds\":%.1f,"
           "\"accepted\":%ld,"
           "\"poison_accepted\":%ld,\"resubmissions_accepted\":%ld,\"stored\":%ld,"
           "\"results_rows\":%ld,\"content_checked\":%ld,\"content_ok\":%ld,\"missing\":%ld,"
           "\"stale\":%ld,\"wrong_content\":%ld,\"rows_mismatch\":%ld,\"unexpected_rows\":%ld,"
           "\"orphan_rows\":%ld,\"unindexed\":%ld,\"fts_ok\":%s,\"dead\":%ld,"
           "\"dead_not_poison\":%ld,\"left_in_spool\":%ld,\"stream_msgs\":%ld,\"drain_seconds\":%.1f,"
           "\"ok\":%s}\n",
           f.nats ? "jetstream" : "spool", seed, kills, n_kill9, n_stop,
           n_unhealthy, fault_s, rec.acked, rec.acked_poison, rec.resubmitted,
           got, results_rows, c.checked, c.ok, c.missing, c.stale, c.wrong, c.rows_mismatch,
           c.unexpected, c.tables.orphan_rows, c.tables.unindexed,
           c.tables.fts_ok ? "true" : "false", dead,
           dead_innocent, waiting, stream_msgs, drain_s, failures ? "false" : "true");
    if (failures) {
        for (int i = 0; i < f.n_members; i++)
            nm_proc_dump_log(&f.members[i].proc);
        if (!keep_files)
            printf("chaos: rerun with --keep --seed %" PRId64 " to keep the files\n", seed);
    }
    chaos_free_records(&rec);
    for (int i = 0; i < f.n_members; i++)
        for (int a = 0; a < f.members[i].argc; a++)
            free(f.members[i].argv[a]);
    return failures ? 1 : 0;
}

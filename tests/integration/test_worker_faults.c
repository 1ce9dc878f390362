/* newsmill-worker with a real newsmill-queue, over real sockets, under
 * faults: kill -9 mid-batch and at chosen points (nm_fault), SIGTERM under
 * load, a full database, leases outliving a batch, an article that crashes
 * every worker. After each, every article is stored exactly once with its
 * content (tests/support/nm_worker_fleet, nm_results_check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_producer.h"
#include "nm_test.h"
#include "nm_time.h"
#include "nm_worker_fleet.h"

/* ---- the state of a process ---------------------------------------------- */

/* The state letter of /proc/PID/stat ('T' stopped, 'S' sleeping, ...). */
static char proc_state(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = nm_test_read_file(path, NULL);
    const char *paren = stat ? strrchr(stat, ')') : NULL;
    char state = paren && paren[1] ? paren[2] : '?';
    free(stat);
    return state;
}

typedef struct stopped_wait {
    pid_t pid;
} stopped_wait;

static bool proc_stopped(void *arg)
{
    return proc_state(((stopped_wait *)arg)->pid) == 'T';
}

/* ---- kill -9 mid-batch, SIGTERM --------------------------------------------- */

static void kill9_mid_batch(void **state)
{
    (void)state;
    fleet f;
    /* leases of 3 s: worker 0 must keep them extended until it is killed, and
     * a 1 s lease expired under ASan on two loaded cores (then the queue
     * delivers them again and the worker holds more than 300) */
    fleet_start_queue(&f, "kill", "3s");
    /* worker 0 holds everything for 30 s before committing: killed mid-batch */
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "1000", "--credit", "1000",
                                                "--flush-ms", "30s", NULL});
    article_set s = {0};
    generated_articles(&s, "kill", 300);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    /* it has received and extracted them all (its own report says so) */
    const metric_range holding[] = {{"worker_in_flight_articles", 300, 300}};
    wait_report(&f, "worker", "kill-worker0", holding, 1, 20000, "worker 0 holding 300");
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles"), 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    nm_proc_kill(&f.workers[0]);
    /* the leases expire; another worker gets them again */
    fleet_start_worker(&f, 1, (const char *[]){"--batch", "32", NULL});
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    /* what made it: every held article was delivered again, and only those */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 300);
    fleet_stop(&f);
    set_free(&s);
}

static void sigterm_under_load(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "term", "2s");
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "64", NULL});
    article_set s = {0};
    size_t n = NM_SANITIZED ? 1000 : 3000;
    generated_articles(&s, "term", n);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    wait_for_count(&f, 64, 20000); /* under way */
    int64_t t0 = nm_time_mono_ns();
    nm_proc_signal(&f.workers[0], SIGTERM);
    int status;
    if (!nm_proc_wait(&f.workers[0], 5000, &status)) {
        fleet_dump_logs(&f);
        fail_msg("worker did not exit within 5 s of SIGTERM");
    }
    double secs = (double)(nm_time_mono_ns() - t0) / 1e9;
    printf("SIGTERM: exited in %.3f s with status %d after %lld articles\n", secs,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           (long long)db_count(f.db, "SELECT count(*) FROM articles"));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the drain settled everything it held: no lease out, none to expire */
    const metric_range drained[] = {{"queue_in_flight_articles", 0, 0}};
    wait_report(&f, "queue", NULL, drained, 1, 5000, "queue after the drain");
    /* nothing lost: a new worker finishes the rest, each article once */
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 60000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    /* a clean drain hands nothing back: not one article delivered twice */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    fleet_stop(&f);
    set_free(&s);
}

/* ---- a full database, leases ----------------------------------------------- */

static bool log_has(const char *path, const char *needle)
{
    char *log = nm_test_read_file(path, NULL);
    bool found = log && strstr(log, needle);
    free(log);
    return found;
}

typedef struct log_wait {
    const char *path, *needle;
} log_wait;

static bool log_reached(void *arg)
{
    log_wait *l = arg;
    return log_has(l->path, l->needle);
}

static int log_count(const char *path, const char *needle)
{
    char *log = nm_test_read_file(path, NULL);
    int n = 0;
    for (char *p = log; p && (p = strstr(p, needle)); p++)
        n++;
    free(log);
    return n;
}

typedef struct log_n_wait {
    const char *path, *needle;
    int n;
} log_n_wait;

static bool log_reached_n(void *arg)
{
    log_n_wait *l = arg;
    return log_count(l->path, l->needle) >= l->n;
}

static void disk_full(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "full", "2s");
    /* a 400 KiB quota behaves like a disk that fills up */
    fleet_start_worker(&f, 0, (const char *[]){"--db-max-size", "400K", "--retry-ms", "300ms",
                                                "--drain-timeout", "60s", NULL});
    article_set s = {0};
    generated_articles(&s, "full", 600);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    log_wait lw = {f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE"};
    if (!nm_test_wait_until(log_reached, &lw, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker never reported the database full");
    }
    /* a few retries, with lease extensions, while full: at least two
     * reports (polled for: a loaded machine may be slow to retry) */
    int64_t full_t0 = nm_time_mono_ns();
    log_n_wait lw2 = {f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE", 2};
    if (!nm_test_wait_until(log_reached_n, &lw2, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker did not retry while the database was full");
    }
    usleep(600 * 1000);
    int64_t full_ms = (nm_time_mono_ns() - full_t0) / NM_NS_PER_MS;
    int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
    assert_true(stored < (int64_t)s.n);
    /* nothing failed permanently */
    Newsmill__DeadList *dead = NULL;
    nm_error err;
    assert_int_equal(nm_producer_dead_list(f.producer, 10, NULL, &dead, &err), 0);
    assert_int_equal(dead->total, 0);
    nm_producer_dead_list_free(&dead);
    /* the log says it once per retry, not in a flood */
    size_t lines = (size_t)log_count(f.workers[0].log_path, "RESULTS DATABASE NOT WRITABLE");
    printf("disk full: %lld stored, %zu log lines in %lld ms\n", (long long)stored, lines,
           (long long)full_ms);
    /* once per 300 ms retry at most (a flood would be hundreds), counted
     * over the time it really took */
    assert_true(lines >= 2 && (int64_t)lines <= 6 + full_ms / 150);
    /* SIGTERM drains, but what it holds cannot be committed: it keeps
     * trying; a second SIGTERM makes it exit at once */
    nm_proc_signal(&f.workers[0], SIGTERM);
    int status;
    assert_false(nm_proc_wait(&f.workers[0], 700, &status));
    int64_t t0 = nm_time_mono_ns();
    nm_proc_signal(&f.workers[0], SIGTERM);
    assert_true(nm_proc_wait(&f.workers[0], 10000, &status)); /* vs --drain-timeout 60s */
    printf("second SIGTERM: exited in %.3f s, status %d\n",
           (double)(nm_time_mono_ns() - t0) / 1e9, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0); /* not a clean drain */
    /* give the disk space back: another worker stores everything, once */
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    fleet_stop(&f);
    set_free(&s);
}

/* Lease extensions the worker logged (at debug level), summed over its
 * "extended N leases" lines. */
static bool leases_extended(void *arg)
{
    log_n_wait *l = arg;
    char *log = nm_test_read_file(l->path, NULL);
    long total = 0;
    for (char *p = log; p && (p = strstr(p, "extended ")); p++)
        total += strtol(p + strlen("extended "), NULL, 10);
    free(log);
    return total >= l->n;
}

/* A batch held longer than its leases last: the worker extends them, so the
 * queue never takes them back. */
static void lease_extension(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue(&f, "ext", "1200ms");
    /* debug: the worker logs each extension it sends */
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "1000", "--credit", "1000",
                                                "--flush-ms", "3000ms", "--log-level", "debug",
                                                NULL});
    article_set s = {0};
    generated_articles(&s, "ext", 50);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    /* four extensions of each of the 50 (one every half lease): held for
     * two lease lengths, uncommitted, and the queue took none of them back */
    log_n_wait lw = {f.workers[0].log_path, NULL, 4 * 50};
    if (!nm_test_wait_until(leases_extended, &lw, 10000)) {
        fleet_dump_logs(&f);
        fail_msg("the worker did not extend its leases 4 times");
    }
    assert_int_equal(db_count(f.db, "SELECT count(*) FROM articles"), 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_in_flight_articles") == (double)s.n);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    wait_for_count(&f, (int64_t)s.n, 10000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") == 0);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_delivered_total") == (double)s.n);
    fleet_stop(&f);
    set_free(&s);
}

/* ---- kill -9 at chosen points (nm_fault) ---------------------------------- */

/* Worker 0 is stopped by its own fault point (NM_FAULT=point:stop) in its
 * first batch; the test sees it stopped (state T), checks what the results
 * database holds at that moment, SIGKILLs it there, and lets worker 1 finish:
 * every article is then stored once, with its content, after redelivery. */
static void kill9_at_point(const char *tag, const char *point, bool past_commit)
{
    fleet f;
    fleet_start_queue(&f, tag, "1s");
    char fault[128];
    snprintf(fault, sizeof fault, "%s:stop", point);
    setenv("NM_FAULT", fault, 1);
    fleet_start_worker(&f, 0, (const char *[]){"--batch", "100", NULL});
    unsetenv("NM_FAULT");
    article_set s = {0};
    generated_articles(&s, tag, 300);
    submit_range(&f, &s, 0, s.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    stopped_wait sw = {f.workers[0].pid};
    if (!nm_test_wait_until(proc_stopped, &sw, 20000)) {
        fleet_dump_logs(&f);
        fail_msg("worker 0 never stopped at %s", point);
    }
    int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
    printf("%s: stopped there with %lld articles committed; kill -9\n", point, (long long)stored);
    if (past_commit)
        assert_true(stored > 0);
    else
        assert_int_equal(stored, 0); /* the open transaction is invisible, then gone */
    /* it never told the queue: nothing is settled yet */
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_done_total") == 0);
    nm_proc_kill(&f.workers[0]);
    fleet_start_worker(&f, 1, NULL);
    wait_for_count(&f, (int64_t)s.n, 30000);
    wait_queue_settled(&f, (int64_t)s.n, 10000);
    assert_exactly_once(&f, &s);
    assert_true(fresh_metric(&f, "queue", NULL, "queue_articles_redelivered_total") >= 1);
    fleet_stop(&f);
    set_free(&s);
}

static void kill9_inside_transaction(void **state)
{
    (void)state;
    kill9_at_point("txn", "writer.after_puts", false);
}

static void kill9_inside_commit(void **state)
{
    (void)state;
    kill9_at_point("commit", "store.commit", false);
}

static void kill9_after_commit_before_done(void **state)
{
    (void)state;
    kill9_at_point("done", "writer.after_commit", true);
}

/* ---- an article that crashes workers ------------------------------------- */

/* One article crashes every worker that extracts it (NM_FAULT crash-on-id),
 * among 256 others submitted with it to two workers that the test restarts
 * whenever they die. Only it may reach the dead letters (the queue's default
 * --max-attempts, 5), with a reason saying workers died holding it alone;
 * the 256 delivered around it are stored, with their content. */
static void crashing_article_isolated(void **state)
{
    (void)state;
    fleet f;
    fleet_start_queue_with(&f, "iso", "2s", (const char *[]){"--max-attempts", "5", NULL});
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* abort() should not write 13 core files */
    setenv("NM_FAULT", "worker.extract:crash-on-id=iso-poison", 1);
    for (int i = 0; i < 2; i++)
        fleet_start_worker(&f, i, NULL);
    article_set all = {0}, innocent = {0};
    generated_articles(&all, "iso", 257);
    free(all.ids[128]);
    all.ids[128] = nm_xstrdup("iso-poison"); /* in the middle of what is delivered */
    for (size_t i = 0; i < all.n; i++)
        if (i != 128)
            set_add(&innocent, all.ids[i], all.bodies[i], all.lens[i]);
    submit_range(&f, &all, 0, all.n, NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT);
    int restarts = 0;
    int64_t t0 = nm_time_mono_ns();
    int64_t until = t0 + (NM_SANITIZED ? 300 : 150) * NM_NS_PER_S;
    Newsmill__DeadList *dead = NULL;
    nm_error err;
    for (;;) {
        for (int i = 0; i < 2; i++) {
            int status;
            if (nm_proc_wait(&f.workers[i], 0, &status)) {
                restarts++;
                fleet_start_worker(&f, i, NULL);
            }
        }
        assert_int_equal(nm_producer_dead_list(f.producer, 10, NULL, &dead, &err), 0);
        int64_t stored = db_count(f.db, "SELECT count(*) FROM articles");
        if (stored + (int64_t)dead->total >= (int64_t)all.n)
            break; /* every article is settled one way or the other */
        if (nm_time_mono_ns() > until) {
            fleet_dump_logs(&f);
            fail_msg("after %d worker restarts: %lld stored, %llu dead, of %zu", restarts,
                     (long long)stored, (unsigned long long)dead->total, all.n);
        }
        nm_producer_dead_list_free(&dead);
        usleep(100 * 1000);
    }
    unsetenv("NM_FAULT");
    printf("isolated in %.1f s, %d worker restarts; dead letters: %llu\n",
           (double)(nm_time_mono_ns() - t0) / 1e9, restarts, (unsigned long long)dead->total);
    for (size_t i = 0; i < dead->n_dead; i++)
        printf("  dead %s attempts=%u\n", dead->dead[i]->id, dead->dead[i]->attempts);
    if (dead->total != 1)
        fail_msg("%llu articles dead-lettered, want only iso-poison",
                 (unsigned long long)dead->total);
    assert_string_equal(dead->dead[0]->id, "iso-poison");
    assert_int_equal(dead->dead[0]->attempts, 5);
    assert_true(dead->dead[0]->n_failures >= 1);
    const char *reason = dead->dead[0]->failures[dead->dead[0]->n_failures - 1]->reason;
    printf("dead letter iso-poison: %s\n", reason);
    assert_non_null(strstr(reason, "worker died while processing it"));
    assert_non_null(strstr(reason, "delivered alone"));
    nm_producer_dead_list_free(&dead);
    wait_queue_settled(&f, (int64_t)innocent.n, 10000);
    assert_exactly_once(&f, &innocent);
    fleet_stop(&f);
    set_free(&all);
    set_free(&innocent);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill9_mid_batch),
        cmocka_unit_test(sigterm_under_load),
        cmocka_unit_test(disk_full),
        cmocka_unit_test(lease_extension),
        cmocka_unit_test(kill9_inside_transaction),
        cmocka_unit_test(kill9_inside_commit),
        cmocka_unit_test(kill9_after_commit_before_done),
        cmocka_unit_test(crashing_article_isolated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* newsmill-worker: options, build the worker, run it, tear down. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_curve.h"
#include "nm_fault.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_protocol.h"
#include "nm_worker.h"

static volatile sig_atomic_t stop_requests;

static void on_stop_signal(int sig)
{
    (void)sig;
    if (stop_requests < 2)
        stop_requests++;
}

int main(int argc, char **argv)
{
    const char *queue = NM_QUEUE_BACK_ENDPOINT_DEFAULT;
    const char *stats = NM_COLLECTOR_STATS_ENDPOINT_DEFAULT;
    const char *db = "";
    const char *name = "";
    const char *data_dir = "";
    const char *log_level = "info";
    int64_t credit = 256, batch = 128, flush_ms = 50, retry_ms = 2000, drain_ms = 5000;
    int64_t busy_ms = 20, db_max = 0, failover_ms = 5000;
    bool sync_normal = false;
    const char *results_dir = NM_RESULTS_DIR_DEFAULT;
    int64_t period_ms = 86400000, grace_ms = 15 * 60000, retention_ms = 0;
    bool shared = false;
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"queue", 'q', NM_OPT_STRING, &queue, "ENDPOINT[,...]",
         "queue endpoint for workers; a list: the fronts of one JetStream cluster, the next "
         "taken when one is silent for --failover-after",
         0, 0},
        {"failover-after", 0, NM_OPT_DURATION, &failover_ms, "DURATION",
         "with several --queue endpoints: silence of the one in use before moving to the next",
         500, 600000},
        {"stats", 0, NM_OPT_STRING, &stats, "ENDPOINT", "collector stats endpoint (\"\": none)",
         0, 0},
        {"db", 'd', NM_OPT_STRING, &db, "PATH",
         "one results database (created if missing) instead of time partitions (\"\": "
         "partitions in --results-dir)", 0, 0},
        {"results-dir", 0, NM_OPT_STRING, &results_dir, "DIR",
         "time partitions: one results file per period of ingestion time in DIR (unless --db "
         "is given)", 0, 0},
        {"partition-period", 0, NM_OPT_DURATION, &period_ms, "DURATION",
         "partitions: the period of one file (periods start at multiples of it since "
         "1970 UTC)", 1000, 366LL * 86400000},
        {"partition-grace", 0, NM_OPT_DURATION, &grace_ms, "DURATION",
         "partitions: the previous period's file stays open this long after its end",
         1, 366LL * 86400000},
        {"partition-shared", 0, NM_OPT_FLAG, &shared, NULL,
         "partitions: the host's workers share one file per period, instead of one "
         "file each per period (which has no lock waits)", 0, 0},
        {"retention", 0, NM_OPT_DURATION, &retention_ms, "DURATION",
         "partitions: remove closed partitions that ended longer ago than this, hourly "
         "(0: keep all)", 0, 100LL * 366 * 86400000},
        {"credit", 'c', NM_OPT_INT, &credit, "N", "most articles held at once (queue credit)", 1,
         100000},
        {"batch", 'b', NM_OPT_INT, &batch, "N", "most articles per transaction", 1, 100000},
        {"flush-ms", 0, NM_OPT_DURATION, &flush_ms, "DURATION",
         "longest an article waits for its transaction", 1, 600000},
        {"name", 'n', NM_OPT_STRING, &name, "NAME", "instance name (\"\": HOST:PID)", 0, 0},
        {"data-dir", 0, NM_OPT_STRING, &data_dir, "DIR",
         "extraction data (\"\": $NEWSMILL_DATA, else " NM_DATA_REL " from the program's directory)", 0, 0},
        {"log-level", 0, NM_OPT_STRING, &log_level, "LEVEL", "error, warn, info or debug", 0, 0},
        {"retry-ms", 0, NM_OPT_DURATION, &retry_ms, "DURATION",
         "retry interval while the database is full", 10, 3600000},
        {"drain-timeout", 0, NM_OPT_DURATION, &drain_ms, "DURATION",
         "longest a SIGTERM drain may take", 1, 600000},
        {"busy-timeout", 0, NM_OPT_DURATION, &busy_ms, "DURATION",
         "wait this long for another worker's write lock, then retry (extraction goes on)", 1,
         600000},
        {"db-max-size", 0, NM_OPT_BYTES, &db_max, "BYTES",
         "results database quota, file and WAL (the WAL gets a quarter); behaves like a full disk "
         "when reached, also when a reader's old snapshot keeps the WAL from shrinking (0: none)",
         0, 0},
        {"sync-normal", 0, NM_OPT_FLAG, &sync_normal, NULL,
         "fsync only at checkpoints (survives a crash, not a power cut)", 0, 0},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof *opts;
    nm_log_init("newsmill-worker");
    nm_error err;
    const nm_opts_program program = {
        "newsmill-worker", "[OPTIONS]",
        "Takes articles from the queue, extracts their structure and stores it in the results "
        "database, in batched transactions; SIGTERM drains.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    nm_log_level level;
    if (nm_log_level_parse(log_level, &level) < 0) {
        fprintf(stderr, "newsmill-worker: --log-level: unknown level '%s'\n", log_level);
        return 2;
    }
    nm_log_set_level(level);
    if (*db)
        results_dir = ""; /* one file, as asked */
    else if (!*results_dir) {
        fprintf(stderr, "newsmill-worker: where do results go? give --db FILE or --results-dir DIR\n");
        return 2;
    }
    if (nm_fault_init(&err) != 0) {
        fprintf(stderr, "newsmill-worker: %s\n", err.msg);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    nm_curve *curve; /* client side only: no context needed */
    if (nm_curve_new(NULL, &curve_opts, &curve, &err) != 0) {
        nm_log_error("cannot start: %s", err.msg);
        return 1;
    }
    nm_worker_config cfg = {
        .queue_endpoint = queue,
        .failover_ms = failover_ms,
        .stats_endpoint = stats,
        .db_path = db,
        .name = name,
        .data_dir = data_dir,
        .credit = (uint32_t)credit,
        .batch = (uint32_t)batch,
        .flush_ms = flush_ms,
        .retry_ms = retry_ms,
        .drain_timeout_ms = drain_ms,
        .db_max_bytes = db_max,
        .busy_timeout_ms = busy_ms,
        .sync_normal = sync_normal,
        .results_dir = results_dir,
        .partition_ms = period_ms,
        .partition_grace_ms = grace_ms,
        .partition_shared = shared,
        .retention_ms = retention_ms,
        .curve = curve,
    };
    nm_worker *w = nm_worker_new(&cfg, &err);
    if (!w) {
        nm_log_error("cannot start: %s", err.msg);
        nm_curve_destroy(&curve);
        return 1;
    }
    rc = nm_worker_run(w, &stop_requests, &err);
    if (rc < 0)
        nm_log_error("worker stopped: %s", err.msg);
    nm_worker_destroy(&w);
    nm_curve_destroy(&curve);
    return rc == NM_WORKER_DRAINED ? 0 : 1;
}

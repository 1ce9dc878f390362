/* newsmill-queue: options, build the queue, run until SIGTERM/SIGINT, tear
 * down. Everything else lives in common/nm_queue*.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "nm_curve.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_queue.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    nm_log_init("newsmill-queue");
    nm_queue_config cfg;
    nm_queue_config_defaults(&cfg);
    const char *durability = "full", *log_level = "info";
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"front", 0, NM_OPT_STRING, &cfg.front_endpoint, "ENDPOINT",
         "producers' endpoint (ROUTER, bound)", 0, 0},
        {"back", 0, NM_OPT_STRING, &cfg.back_endpoint, "ENDPOINT",
         "workers' endpoint (ROUTER, bound)", 0, 0},
        {"stats", 0, NM_OPT_STRING, &cfg.stats_endpoint, "ENDPOINT",
         "collector's stats endpoint (PUSH, connected; \"\": none)", 0, 0},
        {"store", 0, NM_OPT_STRING, &cfg.store, "NAME",
         "where articles are kept: spool (one SQLite file, this host) or jetstream (a NATS "
         "JetStream cluster, see --nats; this process then keeps no durable state)",
         0, 0},
        {"nats", 0, NM_OPT_STRING, &cfg.nats_urls, "URL[,URL...]",
         "--store jetstream: the cluster's servers; 3 or more URLs: streams with 3 replicas, "
         "else 1",
         0, 0},
        {"nats-user", 0, NM_OPT_STRING, &cfg.nats_user, "NAME",
         "--store jetstream: user name for the cluster (with --nats-password)", 0, 0},
        {"nats-password", 0, NM_OPT_STRING, &cfg.nats_password, "SECRET",
         "--store jetstream: password (better in the --config file than on the command line)", 0,
         0},
        {"nats-token", 0, NM_OPT_STRING, &cfg.nats_token, "SECRET",
         "--store jetstream: authentication token (instead of user and password)", 0, 0},
        {"nats-ca", 0, NM_OPT_STRING, &cfg.nats_ca, "FILE",
         "--store jetstream: connect with TLS, trusting the servers signed by this CA", 0, 0},
        {"spool", 0, NM_OPT_STRING, &cfg.spool_path, "FILE",
         "spool database (SQLite); its directory is created", 0, 0},
        {"durability", 0, NM_OPT_STRING, &durability, "MODE",
         "full: an ack survives power loss (fsync per group commit); normal: an ack survives "
         "a crash of the queue, the last commits may be lost on power loss",
         0, 0},
        {"max-article-bytes", 0, NM_OPT_BYTES, &cfg.max_article_bytes, "SIZE",
         "largest article body accepted", 1, 1e12},
        {"max-batch", 0, NM_OPT_INT, &cfg.max_batch, "N", "most articles in one submit batch", 1,
         1e7},
        {"max-frame-bytes", 0, NM_OPT_BYTES, &cfg.max_frame_bytes, "SIZE",
         "largest message accepted; larger, up to twice this: ERROR_TOO_LARGE; larger still: "
         "refused unread and the connection closed", 1024, 4e9},
        {"recv-buffer", 0, NM_OPT_BYTES, &cfg.recv_buffer_bytes, "SIZE",
         "received messages one connection may have waiting in the queue's memory; the front's "
         "receive high-water mark is SIZE / (2 x --max-frame-bytes), the back's SIZE / "
         "min(2 x --max-frame-bytes, 16M) (workers' messages are small), at least 1; past it the "
         "queue stops reading that connection",
         0, 1e15},
        {"max-spool-bytes", 0, NM_OPT_BYTES, &cfg.max_spool_bytes, "SIZE",
         "refuse submits (ERROR_QUEUE_FULL) once the spool is this big; 0 = no limit", 0, 1e15},
        {"max-backlog", 0, NM_OPT_INT, &cfg.max_backlog, "N",
         "refuse submits (ERROR_QUEUE_FULL) beyond this many articles; 0 = no limit", 0, 1e12},
        {"lease", 0, NM_OPT_DURATION, &cfg.lease_ms, "DURATION",
         "lease length; an article not settled by then is delivered again", 10, 864e5},
        {"worker-timeout", 0, NM_OPT_DURATION, &cfg.worker_timeout_ms, "DURATION",
         "a worker silent this long loses its leases and credit", 10, 864e5},
        {"max-attempts", 0, NM_OPT_INT, &cfg.max_attempts, "N",
         "deliveries before an article goes to the dead letters", 1, 1000},
        {"retry-base", 0, NM_OPT_DURATION, &cfg.retry_base_ms, "DURATION",
         "back-off after a retryable failure; doubles per attempt", 0, 864e5},
        {"retry-max", 0, NM_OPT_DURATION, &cfg.retry_max_ms, "DURATION", "back-off ceiling", 0,
         864e5},
        {"stats-interval", 0, NM_OPT_DURATION, &cfg.stats_interval_ms, "DURATION",
         "how often stats are sent", 10, 36e5},
        {"instance", 0, NM_OPT_STRING, &cfg.instance, "NAME",
         "instance name in stats (default HOST:PID)", 0, 0},
        {"log-level", 0, NM_OPT_STRING, &log_level, "LEVEL", "error, warn, info or debug", 0, 0},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_ALLOW(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    const nm_opts_program program = {
        "newsmill-queue", "[OPTIONS]",
        "The durable queue: accepts article batches from producers, acks them once they are "
        "committed\nto the spool, and delivers them to workers by credit under leases "
        "(at-least-once).",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    nm_error err;
    if (!strcmp(durability, "full"))
        cfg.durability = NM_SPOOL_FULL;
    else if (!strcmp(durability, "normal"))
        cfg.durability = NM_SPOOL_NORMAL;
    else {
        fprintf(stderr, "newsmill-queue: --durability must be full or normal, not '%s'\n",
                durability);
        return 2;
    }
    if (strcmp(cfg.store, "spool") != 0 && strcmp(cfg.store, "jetstream") != 0) {
        fprintf(stderr, "newsmill-queue: --store must be spool or jetstream, not '%s'\n",
                cfg.store);
        return 2;
    }
    nm_log_level level;
    if (nm_log_level_parse(log_level, &level) != 0) {
        fprintf(stderr, "newsmill-queue: unknown --log-level '%s'\n", log_level);
        return 2;
    }
    nm_log_set_level(level);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A file-size limit must fail the write (SQLite reports it), not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    void *ctx = zmq_ctx_new();
    if (nm_curve_new(ctx, &curve_opts, &cfg.curve, &err) != 0) {
        nm_log_error("cannot start: %s", err.msg);
        zmq_ctx_term(ctx);
        return 1;
    }
    nm_queue *q = nm_queue_new(ctx, &cfg, &err);
    if (!q) {
        nm_log_error("cannot start: %s", err.msg);
        nm_curve_destroy(&cfg.curve);
        zmq_ctx_term(ctx);
        return 1;
    }
    rc = nm_queue_run(q, &stop_requested, &err);
    if (rc != 0)
        nm_log_error("queue loop failed: %s", err.msg);
    nm_queue_destroy(&q);
    nm_curve_destroy(&cfg.curve);
    zmq_ctx_term(ctx);
    nm_log_info("queue stopped");
    return rc == 0 ? 0 : 1;
}

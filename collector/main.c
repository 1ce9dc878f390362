/* newsmill-collector: aggregates every process's stats; serves the CLI, /metrics and the dashboard. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_collector.h"
#include "nm_curve.h"
#include "nm_httpd.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_protocol.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    nm_log_init("newsmill-collector");
    const char *stats_bind = NM_COLLECTOR_STATS_ENDPOINT_DEFAULT;
    const char *query_bind = NM_COLLECTOR_QUERY_ENDPOINT_DEFAULT;
    const char *http = "127.0.0.1:9180";
    const char *instance = "";
    const char *log_level = "info";
    const char *token_file = NULL;
    int64_t http_port = -1, stale_ms = 5000, gone_ms = 60000;
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"stats-bind", 0, NM_OPT_STRING, &stats_bind, "ENDPOINT",
         "PULL socket where every process sends its stats", 0, 0},
        {"query-bind", 0, NM_OPT_STRING, &query_bind, "ENDPOINT",
         "ROUTER socket answering `newsmill stats` and `watch`", 0, 0},
        {"http", 0, NM_OPT_STRING, &http, "HOST:PORT",
         "HTTP address for /, /metrics and /api/stats (\"off\" = none)", 0, 0},
        {"http-token-file", 0, NM_OPT_STRING, &token_file, "FILE",
         "HTTP requests need \"Authorization: Bearer <first line of FILE>\"", 0, 0},
        {"http-port", 0, NM_OPT_INT, &http_port, "PORT",
         "only change the port of --http (-1 = keep)", -1, 65535},
        {"stale-after", 0, NM_OPT_DURATION, &stale_ms, "DURATION",
         "silence after which a process shows as stale", 1, 86400000},
        {"gone-after", 0, NM_OPT_DURATION, &gone_ms, "DURATION",
         "silence after which a process is gone and leaves the totals", 1, 86400000},
        {"instance", 0, NM_OPT_STRING, &instance, "NAME", "own instance name (\"\" = HOST:PID)", 0, 0},
        {"log-level", 0, NM_OPT_STRING, &log_level, "LEVEL", "error, warn, info or debug", 0, 0},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_ALLOW(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "newsmill-collector", "[OPTIONS]",
        "Aggregates the stats of every newsmill process and serves them:\n"
        "a query socket for the CLI, Prometheus /metrics and a live dashboard.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    nm_log_level level = NM_LOG_INFO;
    if (nm_log_level_parse(log_level, &level) != 0)
        rc = nm_error_set(&err, NM_ERR_INVALID, "--log-level: unknown level '%s'", log_level);
    if (rc == 0 && gone_ms < stale_ms)
        rc = nm_error_set(&err, NM_ERR_INVALID,
                          "--gone-after must not be shorter than --stale-after");
    char http_buf[300];
    if (rc == 0 && http_port >= 0 && strcmp(http, "off")) {
        const char *colon = strrchr(http, ':');
        int host_len = colon ? (int)(colon - http) : (int)strlen(http);
        snprintf(http_buf, sizeof http_buf, "%.*s:%lld", host_len, http, (long long)http_port);
        http = http_buf;
    }
    char *token = NULL;
    if (rc == 0 && token_file && !(token = nm_httpd_read_token(token_file, &err)))
        rc = -1;
    if (rc != 0) {
        fprintf(stderr, "newsmill-collector: %s (see --help)\n", err.msg);
        return 2;
    }
    nm_log_set_level(level);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    void *ctx = zmq_ctx_new();
    nm_curve *curve;
    if (nm_curve_new(ctx, &curve_opts, &curve, &err) != 0) {
        nm_log_error("cannot start: %s", err.msg);
        zmq_ctx_term(ctx);
        free(token);
        return 1;
    }
    nm_collector_config cfg = {
        .stats_bind = stats_bind,
        .query_bind = query_bind,
        .http_listen = strcmp(http, "off") ? http : NULL,
        .http_token = token,
        .stale_after_ms = stale_ms,
        .gone_after_ms = gone_ms,
        .instance = instance,
        .curve = curve,
    };
    nm_collector *c = nm_collector_new(ctx, &cfg, &err);
    if (!c) {
        nm_log_error("cannot start: %s", err.msg);
        nm_curve_destroy(&curve);
        zmq_ctx_term(ctx);
        free(token);
        return 1;
    }
    if (cfg.http_listen)
        nm_log_info("dashboard http://%s/ metrics http://%s/metrics", cfg.http_listen,
                    cfg.http_listen);
    rc = nm_collector_run(c, &stop, &err);
    if (rc != 0)
        nm_log_error("stopped: %s", err.msg);
    nm_collector_destroy(&c);
    nm_curve_destroy(&curve);
    zmq_ctx_term(ctx);
    free(token);
    return rc == 0 ? 0 : 1;
}

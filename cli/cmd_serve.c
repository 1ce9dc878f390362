/* newsmill serve: the results over HTTP — the JSON API and the newsroom
 * page (api/nm_api.h), served by nm_httpd with a thread per connection
 * (--readers of them read at once, each with read-only connections of its
 * own) while this thread waits for SIGINT or SIGTERM. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "nm_api.h"
#include "nm_httpd.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_store.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int nm_cmd_serve(int argc, char **argv)
{
    const char *db = "", *dir = NULL, *listen = "127.0.0.1:9190";
    const char *token_file = NULL;
    int64_t readers = 4, top_cache_ms = 2000;
    const nm_opt opts[] = {
        {"db", 0, NM_OPT_STRING, &db, "FILE", NM_CLI_DB_HELP, 0, 0},
        {"dir", 0, NM_OPT_STRING, &dir, "DIR[,DIR...]",
         NM_CLI_DIR_HELP, 0, 0},
        {"listen", 0, NM_OPT_STRING, &listen, "HOST:PORT",
         "HTTP address (not loopback: needs --token-file)", 0, 0},
        {"token-file", 0, NM_OPT_STRING, &token_file, "FILE",
         "requests need \"Authorization: Bearer <first line of FILE>\"", 0, 0},
        {"readers", 0, NM_OPT_INT, &readers, "N",
         "requests read at once, each with read-only connections of its own (others wait)", 1,
         64},
        {"top-cache-ms", 0, NM_OPT_INT, &top_cache_ms, "MS",
         "reuse a /api/entities/top answer this long (0: compute every time)", 0, 3600000},
    };
    const nm_opts_program program = {
        "newsmill serve", "[OPTIONS]",
        "Serves the results: a JSON API (/api/search, /api/articles/ID,\n"
        "/api/entities/top, /api/entities/NAME/articles|timeline|cooccurring,\n"
        "/api/dups/ID; see docs/api.md) and the newsroom page at /.",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    nm_error err;
    if (!token_file && !nm_httpd_is_loopback(listen)) {
        fprintf(stderr, "newsmill serve: --listen %s is not a loopback address: give"
                        " --token-file FILE (see --help)\n", listen);
        return NM_EXIT_USAGE;
    }
    char *token = NULL;
    if (token_file && !(token = nm_httpd_read_token(token_file, &err))) {
        fprintf(stderr, "newsmill serve: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    if (nm_store_configure_threads(&err) != 0)
        nm_log_warn("%s", err.msg); /* slower, still correct */
    nm_api_options ao = {dir ? NULL : db, dir, (unsigned)readers, top_cache_ms};
    nm_api *api = nm_api_new(&ao, &err);
    if (!api) {
        fprintf(stderr, "newsmill serve: %s\n", err.msg);
        free(token);
        return NM_EXIT_FAILURE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    nm_httpd_options ho = {listen, nm_api_handle, api, token, true};
    nm_httpd *server = nm_httpd_new(&ho, &err);
    if (!server) {
        nm_log_error("cannot serve: %s", err.msg);
        nm_api_destroy(&api);
        free(token);
        return NM_EXIT_FAILURE;
    }
    nm_log_info("serving url=http://%s/ port=%d databases=%zu readers=%d top_cache_ms=%lld"
                " token=%s",
                listen, nm_httpd_port(server), nm_api_databases(api), (int)readers,
                (long long)top_cache_ms, token ? "yes" : "no");
    const struct timespec tick = {0, 100 * 1000 * 1000};
    while (!stop)
        nanosleep(&tick, NULL);
    nm_log_info("stopping");
    nm_httpd_destroy(&server);
    nm_api_destroy(&api);
    free(token);
    return NM_EXIT_OK;
}

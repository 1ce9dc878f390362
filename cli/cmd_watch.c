/* newsmill watch: the fleet, refreshed every second, like top. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "nm_curve.h"
#include "nm_frame.h"
#include "nm_opts.h"
#include "nm_protocol.h"
#include "nm_sbuf.h"
#include "nm_statsclient.h"
#include "nm_statsview.h"
#include "nm_time.h"

#define IDLE_HOLD_MS 2000        /* --until-idle: idle this long before exiting */
#define LOST_GIVE_UP_MS 10000    /* --until-idle: collector silent this long: exit 3 */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Idle: a queue reported after we started, and nothing waits or is in flight. */
static bool fleet_idle(const Newsmill__StatsSnapshot *s, int64_t since_ms)
{
    bool fresh_queue = false;
    for (size_t i = 0; i < s->n_processes; i++) {
        const Newsmill__ProcessStatus *p = s->processes[i];
        if (p->last && !strcmp(p->last->role, "queue") && !strcmp(p->status, "live") &&
            p->last_seen_unix_ms > since_ms)
            fresh_queue = true;
    }
    return fresh_queue && s->backlog == 0 && s->in_flight == 0;
}

static void sleep_ms(int64_t ms)
{
    while (ms > 0 && !interrupted) { /* short naps so Ctrl-C is prompt */
        int64_t nap = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)(nap * NM_NS_PER_MS)};
        nanosleep(&ts, NULL);
        ms -= nap;
    }
}

int nm_cmd_watch(int argc, char **argv)
{
    const char *collector = NM_COLLECTOR_QUERY_ENDPOINT_DEFAULT;
    bool until_idle = false;
    int64_t timeout_ms = 2000, interval_ms = 1000, iterations = 0;
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"collector", 'c', NM_OPT_STRING, &collector, "ENDPOINT", "the collector's query endpoint", 0, 0},
        {"interval", 'i', NM_OPT_DURATION, &interval_ms, "DURATION", "time between refreshes", 100, 3600000},
        {"timeout", 't', NM_OPT_DURATION, &timeout_ms, "DURATION", "wait this long for each answer", 1, 3600000},
        {"until-idle", 0, NM_OPT_FLAG, &until_idle, NULL,
         "exit 0 once the backlog is 0 and nothing is in flight for 2 s", 0, 0},
        {"iterations", 'n', NM_OPT_INT, &iterations, "N", "exit after N refreshes (0 = never)", 0, 1000000000},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "newsmill watch", "[OPTIONS]",
        "Shows the fleet like `newsmill stats`, refreshed every interval, until\n"
        "Ctrl-C. On a terminal the screen is redrawn; otherwise frames follow each\n"
        "other. Exit 3 when the collector does not answer at the start (or, with\n"
        "--until-idle, stays silent for 10 s).",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    nm_curve *curve;
    if (nm_curve_new(NULL, &curve_opts, &curve, &err) != 0) {
        fprintf(stderr, "newsmill watch: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    bool tty = isatty(STDOUT_FILENO);
    void *ctx = zmq_ctx_new();
    int64_t started_ms = nm_time_unix_ms(), idle_since_ns = 0, lost_since_ns = 0;
    bool ever_answered = false;
    int code = NM_EXIT_OK;
    for (int64_t frame = 0; !interrupted && (iterations == 0 || frame < iterations); frame++) {
        int64_t t0 = nm_time_mono_ns();
        Newsmill__Envelope *env = NULL;
        nm_sbuf out = NM_SBUF_INIT;
        if (tty)
            nm_sbuf_puts(&out, "\033[H\033[2J");
        else if (frame)
            nm_sbuf_puts(&out, "\n");
        if (nm_statsclient_fetch_curve(ctx, collector, curve, timeout_ms, &env, &err) != 0) {
            if (!ever_answered || err.code == NM_ERR_INVALID) {
                fprintf(stderr, "newsmill watch: %s%s\n", err.msg,
                        err.code == NM_ERR_TIMEOUT ? " (is newsmill-collector running?)" : "");
                code = err.code == NM_ERR_TIMEOUT ? NM_EXIT_UNAVAILABLE : NM_EXIT_FAILURE;
                nm_sbuf_free(&out);
                break;
            }
            if (!lost_since_ns)
                lost_since_ns = t0;
            nm_sbuf_printf(&out, "newsmill watch: %s; retrying every %lld ms\n", err.msg,
                           (long long)interval_ms);
            if (until_idle && t0 - lost_since_ns >= LOST_GIVE_UP_MS * NM_NS_PER_MS) {
                fwrite(out.data, 1, out.len, stdout);
                nm_sbuf_free(&out);
                code = NM_EXIT_UNAVAILABLE;
                break;
            }
        } else {
            ever_answered = true;
            lost_since_ns = 0;
            nm_statsview_text(env->snapshot, tty, &out);
            if (until_idle) {
                if (fleet_idle(env->snapshot, started_ms)) {
                    if (!idle_since_ns)
                        idle_since_ns = t0;
                } else {
                    idle_since_ns = 0;
                }
            }
            nm_frame_free(&env);
        }
        fwrite(out.data, 1, out.len, stdout);
        fflush(stdout);
        nm_sbuf_free(&out);
        if (until_idle && idle_since_ns && t0 - idle_since_ns >= IDLE_HOLD_MS * NM_NS_PER_MS) {
            printf("\nidle: the backlog is empty and nothing is in flight\n");
            break;
        }
        if (iterations && frame + 1 >= iterations)
            break;
        sleep_ms(interval_ms - (nm_time_mono_ns() - t0) / NM_NS_PER_MS);
    }
    nm_curve_destroy(&curve);
    zmq_ctx_term(ctx);
    return code;
}

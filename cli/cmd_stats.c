/* newsmill stats: one snapshot of the fleet from the collector. */
#include <stdbool.h>
#include <stdio.h>
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

int nm_cmd_stats(int argc, char **argv)
{
    const char *collector = NM_COLLECTOR_QUERY_ENDPOINT_DEFAULT;
    bool json = false;
    int64_t timeout_ms = 2000;
    nm_curve_opts curve_opts = {0};
    const nm_opt opts[] = {
        {"collector", 'c', NM_OPT_STRING, &collector, "ENDPOINT", "the collector's query endpoint", 0, 0},
        {"json", 0, NM_OPT_FLAG, &json, NULL, "print the snapshot as one JSON document (same as /api/stats)", 0, 0},
        {"timeout", 't', NM_OPT_DURATION, &timeout_ms, "DURATION", "give up when the collector does not answer", 1, 3600000},
        NM_CURVE_OPT_SECRET(curve_opts),
        NM_CURVE_OPT_SERVER_KEY(curve_opts),
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "newsmill stats", "[OPTIONS]",
        "Prints the fleet as the collector sees it: totals (accepted, committed,\n"
        "failed, dead, backlog, in flight), committed/s over 1s/1m/5m, latency\n"
        "percentiles, every process, errors by reason and recent dead letters.\n"
        "Exit 3 when the collector does not answer in time.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? NM_EXIT_OK : NM_EXIT_USAGE;
    nm_curve *curve;
    if (nm_curve_new(NULL, &curve_opts, &curve, &err) != 0) {
        fprintf(stderr, "newsmill stats: %s\n", err.msg);
        return NM_EXIT_USAGE;
    }
    void *ctx = zmq_ctx_new();
    Newsmill__Envelope *env;
    rc = nm_statsclient_fetch_curve(ctx, collector, curve, timeout_ms, &env, &err);
    nm_curve_destroy(&curve);
    if (rc != 0) {
        fprintf(stderr, "newsmill stats: %s%s\n", err.msg,
                err.code == NM_ERR_TIMEOUT ? " (is newsmill-collector running? scripts/fleet status)" : "");
        zmq_ctx_term(ctx);
        return err.code == NM_ERR_TIMEOUT ? NM_EXIT_UNAVAILABLE
               : err.code == NM_ERR_INVALID ? NM_EXIT_USAGE
                                            : NM_EXIT_FAILURE;
    }
    nm_sbuf out = NM_SBUF_INIT;
    if (json) {
        nm_statsview_json(env->snapshot, &out);
        nm_sbuf_puts(&out, "\n");
    } else {
        nm_statsview_text(env->snapshot, isatty(STDOUT_FILENO), &out);
    }
    fwrite(out.data, 1, out.len, stdout);
    nm_sbuf_free(&out);
    nm_frame_free(&env);
    zmq_ctx_term(ctx);
    return fflush(stdout) == 0 ? NM_EXIT_OK : NM_EXIT_FAILURE;
}

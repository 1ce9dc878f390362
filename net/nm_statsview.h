/*
 * nm_statsview: a StatsSnapshot for people and for scripts.
 *
 * nm_statsview_json() is the one JSON form of the fleet view: the collector
 * serves it at /api/stats and `newsmill stats --json` prints it, so scripts
 * and the dashboard read the same fields:
 *
 *   {"at_unix_ms", "collector_started_unix_ms",
 *    "totals": {"accepted","done","committed","failed","dead","backlog",
 *               "in_flight","oldest_backlog_age_s"},
 *    "rates": {"1s","1m","5m"},                  committed articles/s
 *    "latency": {"<histogram>": {"count","sum","p50","p95","p99",
 *                                "count_1m","p50_1m","p95_1m","p99_1m"}},
 *    "processes": [{"instance","role","host","pid","state","status",
 *                   "last_seen_unix_ms","last_seen_age_s","started_unix_ms",
 *                   "seq","articles_per_s","in_flight","articles_total"}],
 *    "recent_dead": [{"id","source","url","attempts","dead_unix_ms","reason",
 *                     "failures": [{"at_unix_ms","attempt","reason","worker"}]}],
 *    "errors": [{"metric","reason","count"}],
 *    "throughput": [per-second committed rate, oldest first],
 *    "collector": {"reports_received","reports_rejected"},
 *    "metrics": [{"name","kind","labels":{},"value"} | histogram: "count","sum"]}
 *
 * nm_statsview_text() is the human view `newsmill stats` and `watch` print.
 * Both only read the snapshot; output is always valid UTF-8.
 */
#ifndef NM_STATSVIEW_H
#define NM_STATSVIEW_H

#include <stdbool.h>

#include "newsmill.pb-c.h"
#include "nm_sbuf.h"

/* Appends the JSON document described above (one line, no newline). */
void nm_statsview_json(const Newsmill__StatsSnapshot *snap, nm_sbuf *out);

/* Appends a terminal view: totals, rates, latencies, processes, errors and
 * recent dead letters; color adds ANSI bold/colours for a terminal. */
void nm_statsview_text(const Newsmill__StatsSnapshot *snap, bool color, nm_sbuf *out);

#endif

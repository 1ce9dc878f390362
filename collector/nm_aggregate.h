/*
 * nm_aggregate: the collector's arithmetic, without sockets.
 *
 * Every newsmill process sends a StatsReport about once a second. An nm_agg
 * keeps the latest report of each process (keyed by StatsReport.instance) and
 * turns them into one fleet view, a StatsSnapshot:
 *
 *  - totals: counters and gauges summed by name + labels over processes,
 *    histograms merged by adding bucket counts (never by averaging
 *    percentiles); queue_oldest_backlog_age_seconds takes the maximum, and
 *    so does a series labelled "shared" (one figure several processes
 *    report alike: the fronts of one JetStream cluster), never retired.
 *    Counter totals are monotonic for the collector's lifetime: when a process
 *    restarts (its started_unix_ms changes or its seq goes back) or goes away,
 *    its last counters and histograms are "retired" into a fleet remainder
 *    instead of vanishing from the sum.
 *  - rates of committed articles (sum of worker_articles_done_total) over
 *    1 s, 1 min and 5 min, from reset-aware deltas sampled by nm_agg_tick();
 *    a per-second throughput history (up to 300 s) for charts.
 *  - latency percentiles (p50/p95/p99) of every histogram from merged buckets,
 *    over everything and over the last minute.
 *  - one row per process: role, host, pid, state, status ("live", "stale"
 *    after stale_after_ms of silence, "gone" after gone_after_ms: then its
 *    counters are retired and it leaves totals; the row is forgotten after
 *    another gone_after_ms), articles/s over the last minute, in flight.
 *  - backlog, in flight, oldest backlog age, dead letters (the queue's
 *    recent_dead), and every counter with a "reason" label as errors.
 *
 * Reports are untrusted: nm_agg_ingest_frame() decodes and validates them;
 * one that does not decode, has another protocol version, is not a
 * StatsReport or breaks the rules of nm_report_check.h (names, labels,
 * finite values, consistent histograms, size limits) is counted as rejected
 * (by reason) and dropped.
 *
 * Time is passed in by the caller (Unix ms) so tests can drive it. Not
 * thread-safe: one reactor owns an nm_agg.
 */
#ifndef NM_AGGREGATE_H
#define NM_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_stats.h"

typedef struct nm_agg nm_agg;

typedef struct nm_agg_config {
    int64_t stale_after_ms; /* silence before a process is "stale" (default 5000) */
    int64_t gone_after_ms;  /* silence before it is "gone" (default 60000) */
} nm_agg_config;

/* Seconds of per-second throughput history kept. */
#define NM_AGG_HISTORY_S 300

/* Creates an aggregator that starts counting at now_ms. cfg NULL means the
 * defaults. self may be NULL; otherwise the aggregator counts into it
 * (collector_reports_received_total, collector_reports_rejected_total{reason})
 * and does not own it. Caller owns the result. */
nm_agg *nm_agg_new(const nm_agg_config *cfg, int64_t now_ms, nm_stats *self);

/* Frees everything; accepts NULL; clears *agg. */
void nm_agg_destroy(nm_agg **agg);

/* Decodes one Envelope frame holding a StatsReport and ingests it. Returns 0,
 * or -1 with err (code and message) when the frame was rejected; rejections
 * are counted by reason (nm_errcode_name of the code). Never keeps buf. */
int nm_agg_ingest_frame(nm_agg *agg, const uint8_t *buf, size_t len, int64_t now_ms,
                        nm_error *err);

/* Validates and ingests a report (the aggregator keeps its own copy). Returns
 * 0, or -1 with err (NM_ERR_INVALID) when rejected (counted as "invalid"). */
int nm_agg_ingest(nm_agg *agg, const Newsmill__StatsReport *report, int64_t now_ms,
                  nm_error *err);

/* Counts a report rejected before it reached the aggregator (e.g. a
 * multipart message on the stats socket). reason is a short stable name. */
void nm_agg_reject(nm_agg *agg, const char *reason);

/* Once a second: samples the committed total for rates and histograms for
 * windowed percentiles, marks silent processes stale/gone (retiring the
 * gone) and forgets long-gone rows. */
void nm_agg_tick(nm_agg *agg, int64_t now_ms);

/* The fleet at now_ms. Caller owns the result and frees it with
 * nm_agg_snapshot_free(). It borrows the stored reports: use and free it
 * before the next nm_agg_ingest*, nm_agg_tick or nm_agg_destroy. */
Newsmill__StatsSnapshot *nm_agg_snapshot(nm_agg *agg, int64_t now_ms);

/* Frees a snapshot from nm_agg_snapshot(); accepts NULL; clears *snap. */
void nm_agg_snapshot_free(Newsmill__StatsSnapshot **snap);

/* Reports accepted / rejected since creation. */
uint64_t nm_agg_received(const nm_agg *agg);
uint64_t nm_agg_rejected(const nm_agg *agg);

/* Number of processes currently held (live, stale and gone rows). */
size_t nm_agg_process_count(const nm_agg *agg);

#endif

/*
 * nm_stats: the metrics one process keeps, and sending them to the collector.
 *
 * A process owns one nm_stats registry. It creates counters, gauges and
 * histograms once (nm_stats_counter etc. get-or-create by name + label, so
 * keep the returned handle on hot paths), updates them as it works, and about
 * once a second sends a StatsReport with nm_stats_pub_send(). Names follow
 * Prometheus conventions without the "newsmill_" prefix, which the collector
 * adds: base unit in the name, "_total" on counters ("articles_done_total",
 * "extract_seconds").
 *
 * Histograms use fixed, shared bucket bounds (1-2-5 series) so that the
 * collector can merge them across processes by adding bucket counts;
 * percentiles are computed from merged buckets, never averaged.
 *
 * Sending is fire-and-forget: a PUSH socket with a small high-water mark and
 * ZMQ_DONTWAIT, so a slow or dead collector never blocks the sender; reports
 * that do not fit are dropped (and counted).
 *
 * Not thread-safe: one registry per reactor thread.
 */
#ifndef NM_STATS_H
#define NM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"

typedef struct nm_stats nm_stats;
typedef struct nm_metric nm_metric;
typedef struct nm_stats_pub nm_stats_pub;
typedef struct nm_curve nm_curve; /* nm_curve.h */

/* Bucket families for histograms. */
typedef enum nm_hist_scale {
    NM_HIST_SECONDS, /* 1 µs .. 100 s */
    NM_HIST_COUNT,   /* 1 .. 100000 (batch sizes, bytes in KiB, ...) */
} nm_hist_scale;

/* Creates a registry for a process of the given role ("queue", "worker").
 * instance NULL or "" means "HOST:PID". Caller owns the result. */
nm_stats *nm_stats_new(const char *role, const char *instance);

/* Destroys the registry and its metrics; accepts NULL; clears *stats. */
void nm_stats_destroy(nm_stats **stats);

const char *nm_stats_instance(const nm_stats *stats);

/* Sets the state shown by the collector ("running", "draining", ...). The
 * string is copied. */
void nm_stats_set_state(nm_stats *stats, const char *state);

/* Get-or-create. label_key/label_value may be NULL for an unlabelled metric.
 * The registry owns the metric; the handle lives as long as the registry.
 * Asking for an existing name with a different kind is a bug (assert). */
nm_metric *nm_stats_counter(nm_stats *stats, const char *name, const char *help,
                            const char *label_key, const char *label_value);
nm_metric *nm_stats_gauge(nm_stats *stats, const char *name, const char *help,
                          const char *label_key, const char *label_value);
nm_metric *nm_stats_histogram(nm_stats *stats, const char *name, const char *help,
                              nm_hist_scale scale);

/* Removes a labelled series whose subject is gone for good (a worker that
 * left), so that reports stop carrying it; *metric is freed and cleared.
 * Any other handle to it is dangling afterwards. Accepts NULL. */
void nm_stats_remove(nm_stats *stats, nm_metric **metric);

void nm_metric_add(nm_metric *counter, double delta);
void nm_metric_set(nm_metric *gauge, double value);
void nm_metric_observe(nm_metric *histogram, double value);
double nm_metric_value(const nm_metric *metric); /* counter/gauge value; histogram count */

/* Builds a report of every metric now. Caller owns it; free with
 * nm_stats_report_free(). The caller may add recent_dead before sending. */
Newsmill__StatsReport *nm_stats_report_new(nm_stats *stats);
void nm_stats_report_free(Newsmill__StatsReport **report);

/* Bucket upper bounds of a scale (ascending; +Inf implied after the last). */
const double *nm_hist_bounds(nm_hist_scale scale, size_t *n_bounds);

/* Quantile q in [0,1] from per-bucket counts (len n_bounds + 1), linearly
 * interpolated inside the bucket; 0 when there are no observations. */
double nm_hist_quantile(const double *bounds, const uint64_t *counts, size_t n_bounds, double q);

/* Connects a PUSH socket to the collector's stats endpoint. Connecting
 * succeeds even when no collector runs yet. Returns NULL with err on a bad
 * endpoint. Caller owns the result. */
nm_stats_pub *nm_stats_pub_new(void *zmq_ctx, const char *endpoint, nm_error *err);

/* When curve is serving, brings the counters curve_accepted_total and
 * curve_refused_total up to date (call before each report); else nothing. */
void nm_stats_curve_report(nm_stats *stats, const nm_curve *curve);

/* Same, connecting with CURVE when curve says so (nm_curve_apply_client;
 * NULL: plain). curve is only used during the call. */
nm_stats_pub *nm_stats_pub_new_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                                     nm_error *err);

/* Sends nm_stats_report_new(stats) without blocking. Returns 0 when sent or
 * dropped for back-pressure (counted in the registry as
 * stats_reports_dropped_total); -1 on a socket error. */
int nm_stats_pub_send(nm_stats_pub *pub, nm_stats *stats, nm_error *err);

/* Same with a report the caller built; does not take ownership. Returns 0
 * when sent, 1 when dropped for back-pressure, -1 on a socket error. */
int nm_stats_pub_send_report(nm_stats_pub *pub, Newsmill__StatsReport *report, nm_error *err);

/* Closes the socket (linger 0); accepts NULL; clears *pub. */
void nm_stats_pub_destroy(nm_stats_pub **pub);

#endif

/*
 * nm_prom: a StatsSnapshot as Prometheus text exposition format 0.0.4.
 *
 * What /metrics serves. Every family is "newsmill_" + the process's metric
 * name (base units and "_total" on counters are the senders' convention,
 * checked by the collector), with HELP and TYPE lines and all series of a
 * family together:
 *
 *   newsmill_<name>{instance,role,host,...}   each live or stale process's own
 *                                             series (gone processes left)
 *   newsmill_fleet_<name>{...}                the fleet totals: counters and
 *                                             gauges summed, histograms merged
 *   newsmill_fleet_articles_committed_per_second{window="1s|1m|5m"}
 *   newsmill_fleet_latency_seconds{metric,percentile="50|95|99",window="all|1m"}
 *   newsmill_fleet_processes{role,status}
 *   newsmill_process_status{instance,role,host,status,state}  (always 1)
 *   newsmill_process_last_seen_timestamp_seconds{instance,role,host}
 *   newsmill_process_start_time_seconds{instance,role,host}
 *   newsmill_process_articles_per_second{instance,role,host}
 *
 * Histograms are real Prometheus histograms: cumulative _bucket{le} series
 * ending with le="+Inf", then _sum and _count. Label values and HELP text
 * are escaped; a process label that clashes with instance/role/host is
 * renamed exported_<name>. A series whose kind disagrees with its family's
 * first series is left out rather than breaking the exposition.
 */
#ifndef NM_PROM_H
#define NM_PROM_H

#include "newsmill.pb-c.h"
#include "nm_sbuf.h"

/* Content-Type of the output. */
#define NM_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the exposition of snap to out. Never fails. */
void nm_prom_render(const Newsmill__StatsSnapshot *snap, nm_sbuf *out);

/* Formats v as Prometheus does: shortest text that reads back as v, "NaN",
 * "+Inf", "-Inf". buf needs 32 bytes. Returns buf. */
char *nm_prom_format_double(double v, char *buf);

#endif

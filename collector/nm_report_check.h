/*
 * nm_report_check: the rules a StatsReport from the network must follow
 * before the collector aggregates it.
 *
 * A report is untrusted input: any process (or anything that can reach the
 * stats port) may send one. It is accepted only when: role and instance are
 * set; role, instance, host and state are UTF-8 within size limits; metric
 * names match [a-zA-Z_:][a-zA-Z0-9_:]* and do not start with "fleet_" or
 * "process_" (the collector derives those families itself); label names
 * match [a-zA-Z_][a-zA-Z0-9_]* without a leading "__", are unique within a
 * metric, and label values and help are UTF-8 within limits; counter and
 * gauge values are finite, counters not negative, and neither has a
 * histogram's fields (bounds, counts, count, sum); a histogram has 1..64
 * strictly ascending finite bounds, len(bounds)+1 counts adding up to its
 * count, and a finite sum; the kind is counter, gauge or histogram; a series
 * (name and label set) appears once, and a name has one kind; at most
 * NM_REPORT_MAX_METRICS metrics and NM_REPORT_MAX_DEAD dead letters.
 * These guarantee that what the collector renders (Prometheus text, JSON)
 * is well-formed whatever was sent.
 */
#ifndef NM_REPORT_CHECK_H
#define NM_REPORT_CHECK_H

#include <stdbool.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"

#define NM_REPORT_MAX_STRING 256
#define NM_REPORT_MAX_NAME 200
#define NM_REPORT_MAX_LABELS 8
#define NM_REPORT_MAX_METRICS 4096
#define NM_REPORT_MAX_BOUNDS 64
#define NM_REPORT_MAX_DEAD 1000

/* Returns 0 when r follows the rules above, else -1 with err
 * (NM_ERR_INVALID) naming the first rule broken. Reads r only. */
int nm_report_check(const Newsmill__StatsReport *r, nm_error *err);

/* The series of m as a string: its name, then "\x1f" key "\x1e" value per
 * label in key order (the first NM_REPORT_MAX_LABELS); with_kind puts the
 * kind's digit first (a counter and a gauge of one name as two series).
 * Caller frees. */
char *nm_report_series_key(const Newsmill__Metric *m, bool with_kind);

#endif

/*
 * nm_time: clocks and durations.
 *
 * Intervals and deadlines use the monotonic clock in nanoseconds, with the
 * unit in the variable name (deadline_ns). Wall-clock time is only for what
 * leaves the process (timestamps in reports, rows, logs): Unix milliseconds.
 */
#ifndef NM_TIME_H
#define NM_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"

#define NM_NS_PER_MS INT64_C(1000000)
#define NM_NS_PER_S INT64_C(1000000000)

/* Monotonic time in ns since an arbitrary origin; never goes backwards. */
int64_t nm_time_mono_ns(void);

/* Wall-clock time in Unix milliseconds. */
int64_t nm_time_unix_ms(void);

/* Formats Unix ms as "2026-11-24T19:59:00.123Z" into buf (at least 25 bytes).
 * Returns buf. */
char *nm_time_format_iso(int64_t unix_ms, char *buf, size_t size);

/* Parses an ISO 8601 / RFC 3339 date or date-time ("2024-05-01",
 * "2024-05-01T10:00:00Z", "2024-05-01 10:00:00+02:00", fractional seconds
 * allowed) or a plain integer of Unix seconds/milliseconds into Unix ms.
 * Returns 0, or -1 with NM_ERR_INVALID. */
int nm_time_parse(const char *text, int64_t *unix_ms, nm_error *err);

/* Parses a duration: "250ms", "5s", "2m", "1h", "1d", or a bare number of
 * milliseconds. Returns 0, or -1 with NM_ERR_INVALID. */
int nm_duration_parse_ms(const char *text, int64_t *ms, nm_error *err);

/* A point in time as users give it (--since, ?since=): a time as
 * nm_time_parse reads it, or a duration back from now ("1h", "7d").
 * Returns 0, or -1 with NM_ERR_INVALID naming what (the flag or parameter)
 * and quoting text. */
int nm_time_parse_point(const char *what, const char *text, int64_t *unix_ms, nm_error *err);

#endif

/*
 * nm_log: one event per line on stderr.
 *
 *   2026-11-24T19:59:00.123Z newsmill-queue[4242] info: spool opened path=./var/queue.db backlog=0
 *
 * Each event is written with a single write(2), so lines from several
 * processes sharing a log file do not interleave; newlines inside a message
 * are replaced by spaces. Thread-safe. Messages above the level set with
 * nm_log_set_level() are dropped cheaply.
 */
#ifndef NM_LOG_H
#define NM_LOG_H

typedef enum nm_log_level {
    NM_LOG_ERROR = 0,
    NM_LOG_WARN = 1,
    NM_LOG_INFO = 2,
    NM_LOG_DEBUG = 3,
} nm_log_level;

/* Sets the program name shown in every line (default "newsmill"). The string
 * is copied. Call once from main. */
void nm_log_init(const char *program);

void nm_log_set_level(nm_log_level level);

/* Parses "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int nm_log_level_parse(const char *name, nm_log_level *level);

/* Writes one event at the given level. */
void nm_log(nm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nm_log_error(...) nm_log(NM_LOG_ERROR, __VA_ARGS__)
#define nm_log_warn(...) nm_log(NM_LOG_WARN, __VA_ARGS__)
#define nm_log_info(...) nm_log(NM_LOG_INFO, __VA_ARGS__)
#define nm_log_debug(...) nm_log(NM_LOG_DEBUG, __VA_ARGS__)

#endif

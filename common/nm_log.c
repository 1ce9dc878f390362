#include "nm_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nm_time.h"

static char log_program[64] = "newsmill";
static volatile nm_log_level log_level = NM_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void nm_log_init(const char *program)
{
    snprintf(log_program, sizeof log_program, "%s", program);
}

void nm_log_set_level(nm_log_level level)
{
    log_level = level;
}

int nm_log_level_parse(const char *name, nm_log_level *level)
{
    for (int i = 0; i <= NM_LOG_DEBUG; i++) {
        if (!strcmp(name, level_names[i])) {
            *level = (nm_log_level)i;
            return 0;
        }
    }
    if (!strcmp(name, "warning")) {
        *level = NM_LOG_WARN;
        return 0;
    }
    return -1;
}

void nm_log(nm_log_level level, const char *fmt, ...)
{
    if (level > log_level)
        return;
    char line[4096];
    char stamp[32];
    int n = snprintf(line, sizeof line, "%s %s[%ld] %s: ",
                     nm_time_format_iso(nm_time_unix_ms(), stamp, sizeof stamp), log_program,
                     (long)getpid(), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: still one line */
    for (size_t i = (size_t)n; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere left to report a failing stderr */
}

#include "nm_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t nm_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NM_NS_PER_S + ts.tv_nsec;
}

int64_t nm_time_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / NM_NS_PER_MS;
}

char *nm_time_format_iso(int64_t unix_ms, char *buf, size_t size)
{
    time_t secs = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
    int millis = (int)(unix_ms - (int64_t)secs * 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm); avoids timegm(), which is not POSIX. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int read_digits(const char **p, int count, int *out)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = v;
    return 0;
}

int nm_time_parse(const char *text, int64_t *unix_ms, nm_error *err)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;

    /* A bare integer: seconds if it looks like seconds, else milliseconds. */
    const char *q = p + (*p == '-');
    if (isdigit((unsigned char)*q) && strspn(q, "0123456789") == strlen(q) && strlen(q) != 8) {
        errno = 0;
        long long v = strtoll(p, NULL, 10);
        if (errno)
            return nm_error_set(err, NM_ERR_INVALID, "time '%s' is out of range", text);
        *unix_ms = (v > -100000000000LL && v < 100000000000LL) ? v * 1000 : v;
        return 0;
    }

    int year, mon, day, hour = 0, min = 0, sec = 0, millis = 0;
    if (read_digits(&p, 4, &year) || *p++ != '-' || read_digits(&p, 2, &mon) || *p++ != '-' ||
        read_digits(&p, 2, &day))
        goto bad;
    int64_t offset_min = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (read_digits(&p, 2, &hour) || *p++ != ':' || read_digits(&p, 2, &min))
            goto bad;
        if (*p == ':') {
            p++;
            if (read_digits(&p, 2, &sec))
                goto bad;
            if (*p == '.' || *p == ',') {
                p++;
                int scale = 100;
                while (isdigit((unsigned char)*p)) {
                    millis += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
            if (read_digits(&p, 2, &oh))
                goto bad;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p) && read_digits(&p, 2, &om))
                goto bad;
            offset_min = sign * (oh * 60 + om);
        }
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        goto bad;
    int64_t days = days_from_civil(year, mon, day);
    *unix_ms = ((days * 86400 + hour * 3600 + min * 60 + sec) - offset_min * 60) * 1000 + millis;
    return 0;
bad:
    return nm_error_set(err, NM_ERR_INVALID,
                        "time '%s' is neither ISO 8601 (2024-05-01T10:00:00Z) nor Unix seconds",
                        text);
}

int nm_duration_parse_ms(const char *text, int64_t *ms, nm_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno || v < 0)
        return nm_error_set(err, NM_ERR_INVALID, "duration '%s' is not like 250ms, 5s, 2m, 1h", text);
    double scale;
    if (!*end || !strcmp(end, "ms"))
        scale = 1;
    else if (!strcmp(end, "s"))
        scale = 1e3;
    else if (!strcmp(end, "m"))
        scale = 60e3;
    else if (!strcmp(end, "h"))
        scale = 3600e3;
    else if (!strcmp(end, "d"))
        scale = 86400e3;
    else
        return nm_error_set(err, NM_ERR_INVALID, "duration '%s' has unknown unit '%s' (ms, s, m, h, d)",
                            text, end);
    *ms = (int64_t)(v * scale + 0.5);
    return 0;
}

int nm_time_parse_point(const char *what, const char *text, int64_t *unix_ms, nm_error *err)
{
    int64_t ms;
    if (nm_time_parse(text, unix_ms, NULL) == 0 && *unix_ms >= 0)
        return 0;
    if (nm_duration_parse_ms(text, &ms, NULL) == 0 && ms > 0) {
        int64_t now = nm_time_unix_ms();
        *unix_ms = ms < now ? now - ms : 1;
        return 0;
    }
    return nm_error_set(err, NM_ERR_INVALID,
                        "%s: neither a time (ISO 8601, Unix seconds) nor a duration (1h, 7d):"
                        " '%.40s'",
                        what, text);
}

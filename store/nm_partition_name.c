/*
 * nm_partition_name: what a partition file's name says (see nm_partition.h):
 * formatting, parsing, period starts. The writer, prune and the read side
 * all go by it.
 */
#include "nm_partition.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t nm_partition_start(int64_t t_ms, int64_t period_ms)
{
    int64_t q = t_ms / period_ms;
    if (t_ms % period_ms < 0)
        q--;
    return q * period_ms;
}

static void format_period(char *buf, size_t size, int64_t ms)
{
    static const struct { int64_t ms; char unit; } units[] = {
        {86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (ms % units[i].ms == 0) {
            snprintf(buf, size, "%" PRId64 "%c", ms / units[i].ms, units[i].unit);
            return;
        }
    snprintf(buf, size, "%" PRId64 "ms", ms);
}

bool nm_partition_format(char *buf, size_t size, const nm_partition_name *name)
{
    time_t secs = (time_t)(name->start_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32], period[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    format_period(period, sizeof period, name->period_ms);
    int n = snprintf(buf, size, "results-%s-%s%s%s.db", stamp, period, *name->owner ? "-" : "",
                     name->owner);
    return n > 0 && (size_t)n < size;
}

bool nm_partition_parse(const char *path, nm_partition_name *out)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int y, mo, d, h, mi, s, used = 0;
    if (sscanf(base, "results-%4d%2d%2dT%2d%2d%2dZ-%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        used != 25)
        return false;
    const char *p = base + used;
    char *end;
    errno = 0;
    long long count = strtoll(p, &end, 10);
    if (end == p || errno || count <= 0)
        return false;
    int64_t unit;
    if (strncmp(end, "ms", 2) == 0) {
        unit = 1;
        end += 2;
    } else {
        switch (*end) {
        case 's': unit = 1000; break;
        case 'm': unit = 60000; break;
        case 'h': unit = 3600000; break;
        case 'd': unit = 86400000; break;
        default: return false;
        }
        end++;
    }
    if (count > NM_PARTITION_MAX_PERIOD_MS / unit)
        return false;
    out->period_ms = (int64_t)count * unit;
    out->owner[0] = '\0';
    if (*end == '-') {
        const char *dot = strstr(end, ".db");
        size_t len = dot ? (size_t)(dot - end - 1) : 0;
        if (!dot || len == 0 || len >= sizeof out->owner)
            return false;
        memcpy(out->owner, end + 1, len);
        out->owner[len] = '\0';
        end = (char *)dot;
    }
    if (strcmp(end, ".db") != 0)
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = s};
    out->start_ms = (int64_t)timegm(&tm) * 1000;
    return true;
}


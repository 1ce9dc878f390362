#include "nm_powercut.h"
#include "nm_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512

typedef struct event {
    nm_powercut_record h;
    const char *path; /* into the log buffer, path_len bytes */
    const unsigned char *payload;
} event;

typedef struct log_data {
    unsigned char *buf;
    event *events;
    size_t n;
} log_data;

static int fail(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return -1;
}

static bool same_path(const event *e, const char *path, size_t len)
{
    return e->h.path_len == len && memcmp(e->path, path, len) == 0;
}

/* Reads the whole log. A record cut short at the end (the writer was killed
 * inside write()) is dropped: its call never reached the file either. */
static int read_log(const char *log_path, log_data *log, char *why, size_t why_size)
{
    memset(log, 0, sizeof *log);
    FILE *f = fopen(log_path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : fail(why, why_size, "%s: %s", log_path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    log->buf = malloc(size > 0 ? (size_t)size : 1);
    if (!log->buf || fread(log->buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return fail(why, why_size, "%s: cannot read", log_path);
    }
    fclose(f);
    size_t cap = 0, pos = 0;
    while (pos + sizeof(nm_powercut_record) <= (size_t)size) {
        event e;
        memcpy(&e.h, log->buf + pos, sizeof e.h);
        size_t total = sizeof e.h + e.h.path_len + e.h.payload_len;
        if (pos + total > (size_t)size)
            break;
        e.path = (const char *)log->buf + pos + sizeof e.h;
        e.payload = log->buf + pos + sizeof e.h + e.h.path_len;
        if (log->n == cap) {
            cap = cap ? cap * 2 : 256;
            log->events = realloc(log->events, cap * sizeof *log->events);
            if (!log->events)
                return fail(why, why_size, "out of memory");
        }
        log->events[log->n++] = e;
        pos += total;
    }
    return 0;
}

/* Grows buf to hold at least n bytes (zero-filled). */
static int reserve(unsigned char **buf, size_t *cap, size_t n)
{
    if (n <= *cap)
        return 0;
    unsigned char *b = realloc(*buf, n);
    if (!b)
        return -1;
    memset(b + *cap, 0, n - *cap);
    *buf = b;
    *cap = n;
    return 0;
}

/* Sector decisions of one file: 0 undecided, 1 reached the disk, 2 did not. */
static unsigned char decide(unsigned char **decisions, size_t *cap, int64_t sector,
                            nm_powercut_mode mode, uint64_t *rng, nm_powercut_stats *stats)
{
    if (reserve(decisions, cap, (size_t)sector + 1) != 0)
        abort();
    unsigned char *d = &(*decisions)[sector];
    if (*d == 0) {
        bool kept = mode == NM_POWERCUT_ALL ||
                    (mode == NM_POWERCUT_TORN && nm_test_rng_next(rng) % 2);
        *d = kept ? 1 : 2;
        if (kept)
            stats->sectors_kept++;
        else
            stats->sectors_lost++;
    }
    return *d;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

static int read_file(const char *path, unsigned char **buf, size_t *cap, size_t *len)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *len = (size_t)st.st_size;
    if (reserve(buf, cap, *len + 1) != 0)
        return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < *len) {
        ssize_t r = read(fd, *buf + done, *len - done);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    close(fd);
    return done == *len ? 0 : -1;
}

/* Rebuilds one file from the events of it that follow its last sync. */
static int rebuild_file(const log_data *log, const char *path, size_t path_len,
                        nm_powercut_mode mode, uint64_t *rng, nm_powercut_stats *stats, char *why,
                        size_t why_size)
{
    char file[4096], dir[4096];
    snprintf(file, sizeof file, "%.*s", (int)path_len, path);
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    size_t dir_len = slash ? (size_t)(slash - dir) : 0;

    /* This incarnation of the file starts after its last unlink. */
    size_t first = 0;
    for (size_t i = 0; i < log->n; i++)
        if (log->events[i].h.type == 'U' && same_path(&log->events[i], path, path_len))
            first = i + 1;
    size_t created = SIZE_MAX, last_sync = SIZE_MAX, dir_sync = SIZE_MAX;
    for (size_t i = first; i < log->n; i++) {
        const event *e = &log->events[i];
        if (e->h.type == 'D' && same_path(e, dir, dir_len))
            dir_sync = i;
        if (!same_path(e, path, path_len))
            continue;
        if (e->h.type == 'C')
            created = i;
        else if (e->h.type == 'S')
            last_sync = i;
    }
    if (access(file, F_OK) != 0)
        return 0; /* gone already (unlinked at the end) */
    size_t from = last_sync == SIZE_MAX ? first : last_sync + 1;
    bool entry_durable = created == SIZE_MAX || (dir_sync != SIZE_MAX && dir_sync > created);
    size_t n_unsynced = 0;
    for (size_t i = from; i < log->n; i++) {
        char t = (char)log->events[i].h.type;
        if ((t == 'W' || t == 'T') && same_path(&log->events[i], path, path_len))
            n_unsynced++;
    }
    if (n_unsynced == 0 && entry_durable)
        return 0;
    if (mode == NM_POWERCUT_RANDOM)
        mode = (nm_powercut_mode)(nm_test_rng_next(rng) % 3);
    stats->files++;
    if (!entry_durable && (mode == NM_POWERCUT_NONE ||
                           (mode == NM_POWERCUT_TORN && nm_test_rng_next(rng) % 2))) {
        if (unlink(file) != 0)
            return fail(why, why_size, "removing %s: %s", file, strerror(errno));
        stats->files_vanished++;
        return 0;
    }
    if (n_unsynced == 0)
        return 0;

    unsigned char *data = NULL, *decisions = NULL;
    size_t cap = 0, len = 0, dcap = 0;
    if (read_file(file, &data, &cap, &len) != 0)
        return fail(why, why_size, "reading %s: %s", file, strerror(errno));
    int64_t synced_size = -1;
    for (size_t i = log->n; i-- > from;) { /* newest first: undo */
        const event *e = &log->events[i];
        if (!same_path(e, path, path_len) || (e->h.type != 'W' && e->h.type != 'T'))
            continue;
        synced_size = e->h.size; /* ends as the size before the first one */
        if (e->h.type == 'T') {
            /* Put back what a shrink cut off; the length is decided below. */
            if (reserve(&data, &cap, (size_t)e->h.size) != 0)
                abort();
            memcpy(data + e->h.offset, e->payload, e->h.payload_len);
            continue;
        }
        int64_t end = e->h.offset + e->h.length;
        if (reserve(&data, &cap, (size_t)end) != 0)
            abort();
        for (int64_t pos = e->h.offset; pos < end;) {
            int64_t sector = pos / SECTOR, sector_end = (sector + 1) * SECTOR;
            int64_t stop = sector_end < end ? sector_end : end;
            if (decide(&decisions, &dcap, sector, mode, rng, stats) == 2) {
                for (int64_t p = pos; p < stop; p++) {
                    int64_t k = p - e->h.offset;
                    data[p] = k < (int64_t)e->h.payload_len ? e->payload[k] : 0;
                }
            }
            pos = stop;
        }
    }
    size_t new_len = len;
    if (mode == NM_POWERCUT_NONE || (mode == NM_POWERCUT_TORN && nm_test_rng_next(rng) % 2))
        new_len = (size_t)synced_size;
    if (reserve(&data, &cap, new_len) != 0)
        abort();
    int rc = write_file(file, data, new_len);
    free(data);
    free(decisions);
    if (rc != 0)
        return fail(why, why_size, "rewriting %s: %s", file, strerror(errno));
    return 0;
}

int nm_powercut_rebuild(const char *log_path, nm_powercut_mode mode, uint64_t *rng,
                        nm_powercut_stats *stats, char *why, size_t why_size)
{
    memset(stats, 0, sizeof *stats);
    log_data log;
    if (read_log(log_path, &log, why, why_size) != 0)
        return -1;
    /* The distinct paths (a handful: databases, their WALs, a directory). */
    const event **paths = calloc(log.n + 1, sizeof *paths);
    size_t n_paths = 0;
    for (size_t i = 0; paths && i < log.n; i++) {
        const event *e = &log.events[i];
        bool seen = e->h.type == 'D'; /* a directory: nothing to rebuild */
        for (size_t j = 0; j < n_paths && !seen; j++)
            seen = same_path(paths[j], e->path, e->h.path_len);
        if (!seen)
            paths[n_paths++] = e;
    }
    int rc = paths ? 0 : fail(why, why_size, "out of memory");
    for (size_t i = 0; i < n_paths && rc == 0; i++) {
        const event *e = paths[i];
        rc = rebuild_file(&log, e->path, e->h.path_len, mode, rng, stats, why, why_size);
        char shm[4200];
        snprintf(shm, sizeof shm, "%.*s-shm", (int)e->h.path_len, e->path);
        unlink(shm);
    }
    free(paths);
    free(log.events);
    free(log.buf);
    if (rc == 0 && truncate(log_path, 0) != 0 && errno != ENOENT)
        return fail(why, why_size, "emptying %s: %s", log_path, strerror(errno));
    return rc;
}

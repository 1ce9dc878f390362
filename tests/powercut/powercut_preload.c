/*
 * powercut_preload: records what a disk would hold after a power cut.
 *
 * An LD_PRELOAD library for tests (never linked into a program, so it costs
 * nothing when off). It interposes the file calls SQLite and newsmill make
 * (open, pwrite, write, ftruncate, fsync, fdatasync, unlink, close) and, for
 * every file below $NM_POWERCUT_ROOT, appends to the log $NM_POWERCUT_LOG,
 * BEFORE the call reaches the kernel:
 *   C path            a file was created (its directory entry is not durable
 *                     until the directory is synced)
 *   W path off len    a write, with the bytes it overwrites (the before image)
 *   T path size       a truncate, with the bytes it cuts off
 *   S path            the file was synced (fsync or fdatasync succeeded):
 *                     every earlier W and T of it is on stable storage
 *   D path            a directory was synced: the entries created in it are
 *   U path            the file was unlinked (taken as durable at once)
 * The file itself is written as usual, so the processes run exactly as
 * without the library. After every process was killed at once (the cut),
 * nm_powercut_rebuild() reads the log and turns each file back into what a
 * disk could hold: see nm_powercut.h. The format of a record is in
 * nm_powercut.h too, beside its reader.
 *
 * Not covered: -shm files (shared memory, rebuilt by SQLite after a crash;
 * the rebuild deletes them), memory-mapped writes (newsmill's databases do
 * not use mmap), rename (SQLite does not rename). Writes of several threads
 * and processes are ordered by the log's O_APPEND (one write() per record)
 * under a process-wide mutex; SQLite's file locks order writers of the same
 * database across processes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "nm_powercut.h"

#define MAX_FDS 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char root[PATH_MAX];
static size_t root_len;
static int log_fd = -1;
static char *fd_path[MAX_FDS]; /* tracked descriptors: the absolute path */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);

static void init(void)
{
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    const char *r = getenv("NM_POWERCUT_ROOT"), *l = getenv("NM_POWERCUT_LOG");
    if (!r || !l || !realpath(r, root))
        return; /* not asked for: pass everything through */
    root_len = strlen(root);
    log_fd = real_open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        fprintf(stderr, "powercut_preload: cannot open log %s: %s\n", l, strerror(errno));
        abort(); /* a harness that silently records nothing would prove nothing */
    }
}

static bool active(void)
{
    pthread_once(&once, init);
    return log_fd >= 0;
}

/* Absolute path of path (relative to dirfd), or false when it is outside the
 * root or is shared memory. The file may not exist yet: its directory must. */
static bool watched_path(int dirfd, const char *path, char out[PATH_MAX])
{
    char joined[PATH_MAX * 2];
    if (path[0] == '/') {
        snprintf(joined, sizeof joined, "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base))
                return false;
        } else if (dirfd >= 0 && dirfd < MAX_FDS && fd_path[dirfd]) {
            snprintf(base, sizeof base, "%s", fd_path[dirfd]);
        } else {
            return false;
        }
        snprintf(joined, sizeof joined, "%s/%s", base, path);
    }
    /* Resolve the directory part (the last component may not exist). */
    char dir[PATH_MAX * 2], resolved[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", joined);
    char *slash = strrchr(dir, '/');
    const char *name = slash + 1;
    if (slash == dir)
        snprintf(resolved, sizeof resolved, "/");
    else {
        *slash = '\0';
        if (!realpath(dir, resolved))
            return false;
    }
    if (strcmp(name, ".") == 0 || name[0] == '\0')
        snprintf(out, PATH_MAX, "%s", resolved);
    else
        snprintf(out, PATH_MAX, "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved, name);
    size_t n = strlen(out);
    if (strncmp(out, root, root_len) != 0 || (out[root_len] != '/' && out[root_len] != '\0'))
        return false;
    return !(n > 4 && strcmp(out + n - 4, "-shm") == 0);
}

/* Appends one record: the header, the path, then the payload. Caller holds
 * the lock. A log that cannot be written ends the process: the test would
 * otherwise check a disk it did not model. */
static void log_record(char type, const char *path, int64_t off, int64_t len, int64_t size,
                       const void *payload, size_t payload_len)
{
    nm_powercut_record h = {.type = (uint8_t)type,
                            .path_len = (uint32_t)strlen(path),
                            .offset = off,
                            .length = len,
                            .size = size,
                            .payload_len = payload_len};
    size_t total = sizeof h + h.path_len + payload_len;
    char *buf = malloc(total);
    if (!buf)
        abort();
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, path, h.path_len);
    if (payload_len)
        memcpy(buf + sizeof h + h.path_len, payload, payload_len);
    ssize_t w = real_write(log_fd, buf, total);
    free(buf);
    if (w != (ssize_t)total) {
        fprintf(stderr, "powercut_preload: log write failed: %s\n", strerror(errno));
        abort();
    }
}

static int64_t file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Logs the before image of [off, off+len) of fd's file. Caller holds lock. */
static void log_write(int fd, int64_t off, size_t len)
{
    int64_t size = file_size(fd);
    size_t old_len = 0;
    char *old = NULL;
    if (off < size) {
        old_len = (size_t)(size - off < (int64_t)len ? size - off : (int64_t)len);
        old = malloc(old_len ? old_len : 1);
        if (!old)
            abort();
        ssize_t r = pread(fd, old, old_len, off);
        old_len = r > 0 ? (size_t)r : 0;
    }
    log_record('W', fd_path[fd], off, (int64_t)len, size, old, old_len);
    free(old);
}

static void track(int fd, const char *path)
{
    if (fd < 0 || fd >= MAX_FDS)
        return;
    free(fd_path[fd]);
    fd_path[fd] = strdup(path);
}

static bool tracked(int fd)
{
    return fd >= 0 && fd < MAX_FDS && fd_path[fd];
}

static int do_open(int (*real)(int, const char *, int, ...), int dirfd, const char *path,
                   int flags, mode_t mode)
{
    if (!active())
        return real(dirfd, path, flags, mode);
    char abs[PATH_MAX];
    if (!watched_path(dirfd, path, abs))
        return real(dirfd, path, flags, mode);
    pthread_mutex_lock(&lock);
    bool existed = access(abs, F_OK) == 0;
    int fd = real(dirfd, path, flags, mode);
    if (fd >= 0) {
        if (!existed)
            log_record('C', abs, 0, 0, 0, NULL, 0);
        if ((flags & O_TRUNC) && existed)
            log_record('T', abs, 0, 0, 0, NULL, 0); /* contents not kept: rare here */
        track(fd, abs);
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

static int open_at_fd(int dirfd, const char *path, int flags, ...);

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

/* Adapters so that open() and open64() go through the openat form. */
static int via_open(int dirfd, const char *path, int flags, ...)
{
    (void)dirfd;
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return real_open(path, flags, mode);
}
static int via_open64(int dirfd, const char *path, int flags, ...)
{
    (void)dirfd;
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return real_open64(path, flags, mode);
}
static int open_at_fd(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return real_openat(dirfd, path, flags, mode);
}
static int open_at_fd64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return real_openat64(dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    pthread_once(&once, init);
    return do_open(via_open, AT_FDCWD, path, flags, mode);
}
int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    pthread_once(&once, init);
    return do_open(via_open64, AT_FDCWD, path, flags, mode);
}
int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    pthread_once(&once, init);
    return do_open(open_at_fd, dirfd, path, flags, mode);
}
int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    pthread_once(&once, init);
    return do_open(open_at_fd64, dirfd, path, flags, mode);
}

int close(int fd)
{
    pthread_once(&once, init);
    if (active() && tracked(fd)) {
        pthread_mutex_lock(&lock);
        free(fd_path[fd]);
        fd_path[fd] = NULL;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

static ssize_t do_pwrite(ssize_t (*real)(int, const void *, size_t, off_t), int fd,
                         const void *buf, size_t n, off_t off)
{
    if (!active() || !tracked(fd))
        return real(fd, buf, n, off);
    pthread_mutex_lock(&lock);
    log_write(fd, off, n);
    ssize_t w = real(fd, buf, n, off);
    pthread_mutex_unlock(&lock);
    return w;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    pthread_once(&once, init);
    return do_pwrite(real_pwrite, fd, buf, n, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    pthread_once(&once, init);
    return do_pwrite(real_pwrite64, fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    pthread_once(&once, init);
    if (!active() || !tracked(fd) || fd == log_fd)
        return real_write(fd, buf, n);
    pthread_mutex_lock(&lock);
    int fl = fcntl(fd, F_GETFL);
    off_t off = (fl >= 0 && (fl & O_APPEND)) ? (off_t)file_size(fd) : lseek(fd, 0, SEEK_CUR);
    if (off >= 0)
        log_write(fd, off, n);
    ssize_t w = real_write(fd, buf, n);
    pthread_mutex_unlock(&lock);
    return w;
}

static int do_truncate(int (*real)(int, off_t), int fd, off_t size)
{
    if (!active() || !tracked(fd))
        return real(fd, size);
    pthread_mutex_lock(&lock);
    int64_t old = file_size(fd);
    char *cut = NULL;
    size_t cut_len = 0;
    if (size < old) {
        cut_len = (size_t)(old - size);
        cut = malloc(cut_len);
        if (!cut)
            abort();
        ssize_t r = pread(fd, cut, cut_len, size);
        cut_len = r > 0 ? (size_t)r : 0;
    }
    log_record('T', fd_path[fd], size, 0, old, cut, cut_len);
    free(cut);
    int rc = real(fd, size);
    pthread_mutex_unlock(&lock);
    return rc;
}

int ftruncate(int fd, off_t size)
{
    pthread_once(&once, init);
    return do_truncate(real_ftruncate, fd, size);
}
int ftruncate64(int fd, off_t size)
{
    pthread_once(&once, init);
    return do_truncate(real_ftruncate64, fd, size);
}

static int do_sync(int (*real)(int), int fd)
{
    if (!active() || !tracked(fd))
        return real(fd);
    /* The record follows the sync: a cut during the call leaves the writes
     * unsynced, as a disk would. Another thread's write between the sync and
     * the record is then taken as synced: SQLite serialises a file's writes
     * and its syncs, so that does not happen to the files tested here. */
    int rc = real(fd);
    if (rc == 0) {
        pthread_mutex_lock(&lock);
        struct stat st;
        bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
        log_record(dir ? 'D' : 'S', fd_path[fd], 0, 0, 0, NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return rc;
}

int fsync(int fd)
{
    pthread_once(&once, init);
    return do_sync(real_fsync, fd);
}
int fdatasync(int fd)
{
    pthread_once(&once, init);
    return do_sync(real_fdatasync, fd);
}

int unlink(const char *path)
{
    pthread_once(&once, init);
    char abs[PATH_MAX];
    if (!active() || !watched_path(AT_FDCWD, path, abs))
        return real_unlink(path);
    pthread_mutex_lock(&lock);
    int rc = real_unlink(path);
    if (rc == 0)
        log_record('U', abs, 0, 0, 0, NULL, 0);
    pthread_mutex_unlock(&lock);
    return rc;
}

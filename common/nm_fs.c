#include "nm_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nm_alloc.h"

#define PATH_BYTES 4096

static int io_error(nm_error *err, int errnum, const char *what, const char *path)
{
    return nm_error_set(err, errnum == ENOSPC ? NM_ERR_DISK_FULL : NM_ERR_IO, "%s %s: %s", what,
                        path, strerror(errnum));
}

int nm_fs_sync_dir(const char *dir, nm_error *err)
{
    int fd;
    do
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return io_error(err, errno, "opening directory", dir);
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL)
        return io_error(err, saved, "syncing directory", dir);
    return 0;
}

/* Copies the directory part of path into dir (size PATH_BYTES). */
static int parent_of(const char *path, char *dir, nm_error *err)
{
    if ((size_t)snprintf(dir, PATH_BYTES, "%s", path) >= PATH_BYTES)
        return nm_error_set(err, NM_ERR_INVALID, "path %s is too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, PATH_BYTES, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return 0;
}

int nm_fs_sync_parent(const char *path, nm_error *err)
{
    char dir[PATH_BYTES];
    if (parent_of(path, dir, err) != 0)
        return -1;
    return nm_fs_sync_dir(dir, err);
}

int nm_fs_mkdir_parents(const char *path, mode_t mode, nm_error *err)
{
    char dir[PATH_BYTES];
    if (parent_of(path, dir, err) != 0)
        return -1;
    /* Walk down from the top; the component ends at each '/' and at the end. */
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(dir, mode) == 0) {
            if (nm_fs_sync_parent(dir, err) != 0)
                return -1;
        } else if (errno != EEXIST) {
            return io_error(err, errno, "creating directory", dir);
        }
        *p = saved;
        if (!saved)
            return 0;
    }
}

char *nm_fs_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = nm_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap)
            buf = nm_xrealloc(buf, cap *= 2);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

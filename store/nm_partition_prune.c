/*
 * nm_partition_prune: retention (see nm_partition.h). A partition goes
 * whole: its file, WAL and shared-memory file, then its rows in the id
 * indexes. A writer's shared flock on the file means "being written": the
 * exclusive flock taken here fails and the file stays.
 */
#include "nm_partition.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nm_fs.h"
#include "nm_log.h"

static int64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Drops the removed partition's rows from every id index of dir. */
static void forget_ids(const char *dir, const nm_partition_name *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "ids-", 4) != 0 || len < 8 || strcmp(e->d_name + len - 3, ".db") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_busy_timeout(db, 5000);
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v2(db,
                                    "DELETE FROM ids WHERE start_ms = ?1 AND period_ms = ?2"
                                    " AND owner = ?3",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, name->start_ms);
            sqlite3_bind_int64(st, 2, name->period_ms);
            sqlite3_bind_text(st, 3, name->owner, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        if (rc != SQLITE_OK)
            nm_log_warn("id index %s keeps rows of a removed partition (harmless): %s", path,
                        sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    closedir(d);
}

int nm_partition_prune(const char *dir, int64_t cutoff_ms,
                       void (*report)(void *ctx, const char *path, int64_t bytes), void *ctx,
                       nm_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return nm_error_set(err, errno == ENOENT ? NM_ERR_NOT_FOUND : NM_ERR_IO, "%s: %s", dir,
                            strerror(errno));
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        nm_partition_name name;
        if (!nm_partition_parse(e->d_name, &name) || name.start_ms + name.period_ms > cutoff_ms)
            continue;
        char path[4096], side[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            nm_log_info("partition kept path=%s: a writer has it open", path);
            close(fd);
            continue;
        }
        int64_t bytes = file_bytes(path);
        snprintf(side, sizeof side, "%s-wal", path);
        bytes += file_bytes(side);
        if (unlink(path) != 0) {
            nm_log_warn("partition not removed path=%s: %s", path, strerror(errno));
            close(fd);
            continue;
        }
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        close(fd);
        removed++;
        nm_log_info("partition removed path=%s bytes=%" PRId64, path, bytes);
        if (report)
            report(ctx, path, bytes);
        forget_ids(dir, &name);
    }
    closedir(d);
    if (removed > 0) {
        nm_error e2;
        if (nm_fs_sync_dir(dir, &e2) != 0)
            nm_log_warn("%s", e2.msg);
    }
    return removed;
}

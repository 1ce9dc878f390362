/* nm_spool durability: a durable commit in full mode reaches stable storage
 * before it returns, whatever kind of transaction ran before it.
 *
 * SQLite's default VFS is wrapped by one that counts xSync calls on the WAL;
 * the wrapper forwards everything, so the spool runs as in production. This
 * pins the bug where PRAGMA synchronous was a persistent prepared statement:
 * SQLite applies that pragma when compiling, so the level stayed NORMAL and
 * durable commits were acknowledged without an fsync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_spool.h"
#include "nm_test.h"

static sqlite3_vfs *real_vfs;
static sqlite3_vfs counting_vfs;
static sqlite3_io_methods counting_methods;
static int wal_syncs;

/* The counting file: the real file follows this header in the same block
 * (szOsFile is the real size plus this header). */
typedef struct counting_file {
    sqlite3_file base;
    bool is_wal;
    sqlite3_file *real;
} counting_file;

static int c_close(sqlite3_file *f)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xClose(c->real);
}
static int c_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xRead(c->real, buf, n, off);
}
static int c_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xWrite(c->real, buf, n, off);
}
static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xTruncate(c->real, size);
}
static int c_sync(sqlite3_file *f, int flags)
{
    counting_file *c = (counting_file *)f;
    if (c->is_wal)
        wal_syncs++;
    return c->real->pMethods->xSync(c->real, flags);
}
static int c_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xFileSize(c->real, size);
}
static int c_lock(sqlite3_file *f, int level)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xLock(c->real, level);
}
static int c_unlock(sqlite3_file *f, int level)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xUnlock(c->real, level);
}
static int c_check_reserved(sqlite3_file *f, int *out)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xCheckReservedLock(c->real, out);
}
static int c_file_control(sqlite3_file *f, int op, void *arg)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xFileControl(c->real, op, arg);
}
static int c_sector_size(sqlite3_file *f)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xSectorSize(c->real);
}
static int c_device_characteristics(sqlite3_file *f)
{
    counting_file *c = (counting_file *)f;
    return c->real->pMethods->xDeviceCharacteristics(c->real);
}

static int c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    counting_file *c = (counting_file *)f;
    c->real = (sqlite3_file *)(c + 1);
    c->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = real_vfs->xOpen(real_vfs, name, c->real, flags, out_flags);
    /* No methods: SQLite will not call xClose on the wrapper (see sqlite3.h). */
    c->base.pMethods = c->real->pMethods ? &counting_methods : NULL;
    return rc;
}

/* Every other VFS call goes straight to the real VFS. */
static int c_delete(sqlite3_vfs *v, const char *n, int sync_dir)
{
    (void)v;
    return real_vfs->xDelete(real_vfs, n, sync_dir);
}
static int c_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, n, flags, out);
}
static int c_full_pathname(sqlite3_vfs *v, const char *n, int size, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, n, size, out);
}
static int c_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int c_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}
static int c_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int c_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int setup_vfs(void **state)
{
    (void)state;
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    counting_methods = (sqlite3_io_methods){
        .iVersion = 1, .xClose = c_close, .xRead = c_read, .xWrite = c_write,
        .xTruncate = c_truncate, .xSync = c_sync, .xFileSize = c_file_size, .xLock = c_lock,
        .xUnlock = c_unlock, .xCheckReservedLock = c_check_reserved,
        .xFileControl = c_file_control, .xSectorSize = c_sector_size,
        .xDeviceCharacteristics = c_device_characteristics,
    };
    /* Version 1 methods: SQLite then uses heap memory instead of shm for the
     * WAL index, which the spool's exclusive locking mode does anyway. */
    counting_vfs = (sqlite3_vfs){
        .iVersion = 1, .szOsFile = (int)sizeof(counting_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname, .zName = "nm-counting", .xOpen = c_open,
        .xDelete = c_delete, .xAccess = c_access, .xFullPathname = c_full_pathname,
        .xRandomness = c_randomness, .xSleep = c_sleep, .xCurrentTime = c_current_time,
        .xGetLastError = c_last_error,
    };
    assert_int_equal(sqlite3_vfs_register(&counting_vfs, 1), SQLITE_OK);
    return 0;
}

static int teardown_vfs(void **state)
{
    (void)state;
    sqlite3_vfs_unregister(&counting_vfs);
    return 0;
}

/* One transaction that writes an article; returns the WAL syncs it caused. */
static int syncs_of_put(nm_spool *spool, bool durable, const char *id)
{
    nm_error err = {0};
    int before = wal_syncs;
    bool inserted;
    const uint8_t body[] = "article bytes";
    assert_int_equal(nm_spool_begin(spool, durable, &err), 0);
    assert_int_equal(nm_spool_put(spool, id, 0, 1, body, sizeof body, &inserted, NULL, &err), 0);
    assert_int_equal(nm_spool_commit(spool, &err), 0);
    return wal_syncs - before;
}

static void full_mode_syncs_every_durable_commit(void **state)
{
    (void)state;
    nm_error err = {0};
    nm_spool *spool = nm_spool_open(nm_test_path("full.db"), NM_SPOOL_FULL, &err);
    assert_non_null(spool);
    /* The first durable commit after open, before any non-durable one. */
    assert_true(syncs_of_put(spool, true, "a") >= 1);
    assert_true(syncs_of_put(spool, true, "b") >= 1);
    /* A non-durable commit in between (settle bookkeeping) may skip the
     * sync; the next durable one must sync again. */
    syncs_of_put(spool, false, "c");
    assert_true(syncs_of_put(spool, true, "d") >= 1);
    syncs_of_put(spool, false, "e");
    syncs_of_put(spool, false, "f");
    assert_true(syncs_of_put(spool, true, "g") >= 1);
    nm_spool_close(&spool);
}

static void normal_mode_does_not_sync_each_commit(void **state)
{
    (void)state;
    nm_error err = {0};
    nm_spool *spool = nm_spool_open(nm_test_path("normal.db"), NM_SPOOL_NORMAL, &err);
    assert_non_null(spool);
    /* The control: the counter sees the difference between the modes. */
    int syncs = 0;
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        syncs += syncs_of_put(spool, true, id);
    }
    assert_int_equal(syncs, 0);
    nm_spool_close(&spool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_mode_syncs_every_durable_commit),
        cmocka_unit_test(normal_mode_does_not_sync_each_commit),
    };
    return cmocka_run_group_tests(tests, setup_vfs, teardown_vfs);
}

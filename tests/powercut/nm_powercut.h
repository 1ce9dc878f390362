/*
 * nm_powercut: rebuilds files as a disk could hold them after a power cut.
 *
 * Built the way SQLite tests itself (its crash-test VFS keeps, per file, what
 * a disk would hold). The processes under test run with the LD_PRELOAD
 * library powercut_preload.so (see powercut_preload.c), which logs every
 * write, truncate, sync, directory sync, creation and unlink of the files
 * below a root directory, with the bytes each write overwrites. After the
 * cut (every such process killed at once), nm_powercut_rebuild() reads that
 * log and rewrites each file:
 *   - what was synced stays;
 *   - for what was written after the file's last sync, by the file's mode:
 *       NM_POWERCUT_NONE  none of it reached the disk (the file is as at its
 *                         last sync, length included);
 *       NM_POWERCUT_ALL   all of it did;
 *       NM_POWERCUT_TORN  a random subset of whole 512-byte sectors did (the
 *                         others hold what they held at the last sync; a
 *                         sector past the synced length that did not reach
 *                         the disk reads as zeros); the length is either;
 *   - a file created since its directory's last sync may be gone (NONE: gone;
 *     TORN: gone or not at random; ALL: there);
 *   - SQLite's -shm files are deleted (shared memory does not survive).
 * Then the log is emptied, for the next run of the processes.
 *
 * Not thread-safe; run it while no process writes below the root.
 */
#ifndef NM_POWERCUT_H
#define NM_POWERCUT_H

#include <stddef.h>
#include <stdint.h>

/* One log record as written by the preload library: this header, then
 * path_len bytes of absolute path (no NUL), then payload_len bytes.
 *   'C' created          'S' file synced       'D' directory synced
 *   'U' unlinked         'W' write: offset, length, size = file size before,
 *                            payload = the bytes overwritten (those below size)
 *   'T' truncate: offset = new size, size = size before, payload = the bytes
 *                 cut off (empty when it grew) */
typedef struct nm_powercut_record {
    uint8_t type;
    uint8_t pad[3];
    uint32_t path_len;
    int64_t offset;
    int64_t length;
    int64_t size;
    uint64_t payload_len;
} nm_powercut_record;

typedef enum nm_powercut_mode {
    NM_POWERCUT_NONE,
    NM_POWERCUT_ALL,
    NM_POWERCUT_TORN,
    NM_POWERCUT_RANDOM, /* each file one of the three above, at random */
} nm_powercut_mode;

/* What a rebuild did, for the test's report. */
typedef struct nm_powercut_stats {
    int files;             /* files with unsynced changes */
    int64_t sectors_lost;  /* unsynced sectors turned back to their synced state */
    int64_t sectors_kept;  /* unsynced sectors that reached the disk */
    int files_vanished;    /* created, directory entry never synced: removed */
} nm_powercut_stats;

/* Rebuilds every file the log names (see above). rng: a seedable state the
 * random choices advance. Returns 0, or -1 with a message in why (log
 * unreadable, a file that cannot be rewritten). */
int nm_powercut_rebuild(const char *log_path, nm_powercut_mode mode, uint64_t *rng,
                        nm_powercut_stats *stats, char *why, size_t why_size);

#endif

/*
 * nm_fs: making new directory entries durable.
 *
 * fsync() of a file makes its data durable, not the directory entry that
 * names it: after a power cut a new file (or a file renamed into place, or a
 * new directory) can vanish although its contents were synced. POSIX asks
 * for an fsync of the directory holding the entry. Every place that creates
 * an entry that must survive (the spool, the results database, key files,
 * the directories above them) goes through here, so there is one way to do
 * it. SQLite syncs the directory of a new rollback journal or WAL on its
 * first sync (unix VFS, DIRSYNC), never the main database file's entry nor
 * the directories above it: those are ours.
 *
 * Errors: -1 with NM_ERR_IO (NM_ERR_DISK_FULL for ENOSPC) and the path in
 * the message. A file system that cannot fsync a directory (EINVAL) counts
 * as success: there is nothing more to do there.
 *
 * Also here: reading a whole file into memory (the tools' corpora).
 */
#ifndef NM_FS_H
#define NM_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "nm_error.h"

/* fsyncs the directory dir. */
int nm_fs_sync_dir(const char *dir, nm_error *err);

/* fsyncs the directory that holds path ("." when path has no slash). */
int nm_fs_sync_parent(const char *path, nm_error *err);

/* mkdir -p of path's parent directories with mode (existing ones are left
 * as they are), fsyncing the parent of every directory it creates, so the
 * whole new chain survives a power cut. */
int nm_fs_mkdir_parents(const char *path, mode_t mode, nm_error *err);

/* The whole of path, NUL-terminated (caller frees), its length in *len;
 * NULL with errno set when it cannot be opened or read. */
char *nm_fs_read_file(const char *path, size_t *len);

#endif

/*
 * nm_partition_int: what the partition files share (nm_partition.c:
 * routing and replacing; nm_partition_prune.c: retention). Private to the
 * module.
 */
#ifndef NM_PARTITION_INT_H
#define NM_PARTITION_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "nm_partition.h"
#include "nm_store.h"

/* The id index of a slot (ids-wN.db): every (hash of id, partition) stored. */
#define IDS_LOOKUP "SELECT start_ms, period_ms, owner FROM ids WHERE h = ?1"

#define MAX_OTHERS 4 /* other partitions kept open for replacing */
#define MAX_PEERS 64 /* other slots' id indexes read */

typedef struct part {
    nm_store *store;
    char *path;
    nm_partition_name name;
    int lock_fd; /* shared flock while open: "being written", for prune */
} part;

typedef struct removal {
    nm_partition_name name; /* the partition holding the earlier row */
    char *id;
    int64_t revision;
} removal;

typedef struct peer {
    char slot[16];
    sqlite3 *db;
    sqlite3_stmt *lookup;
} peer;

struct nm_partitions {
    nm_partition_options opts;
    char *dir; /* NULL: one wrapped file (cur) */
    int64_t period_ms, grace_ms, cache_kib;
    char slot[16];
    int slot_fd;
    part cur, prev;          /* the newest period's file, the previous one (grace) */
    part others[MAX_OTHERS]; /* round robin */
    size_t next_other;
    part *target;            /* the job's */
    int64_t job_ms;          /* the job's ingestion time (raised when routed later) */
    int64_t newest_start;    /* start of the newest partition of this slot */
    int64_t now_ms;          /* the latest job time seen: a clock set back is not followed */
    int64_t pruned_ms;
    bool warned_clock;
    sqlite3 *ids;
    sqlite3_stmt *ids_insert, *ids_lookup;
    peer peers[MAX_PEERS];
    size_t n_peers;
    int64_t ids_scanned_ms;
    removal *removals;       /* this job's: earlier rows to remove once it commits */
    size_t n_removals, cap_removals;
    removal *owed;           /* committed jobs' removals that failed (busy): retried */
    size_t n_owed, cap_owed;
    pthread_mutex_t mu;      /* guards active, for nm_partitions_interrupt */
    nm_store *active;
};

#endif

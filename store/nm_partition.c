/*
 * nm_partition: see nm_partition.h. This file: the writer's slot and
 * partitions, routing, the id index, replacing across partitions; names are
 * in nm_partition_name.c, pruning in nm_partition_prune.c.
 */
#include "nm_partition.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "nm_alloc.h"
#include "nm_fs.h"
#include "nm_hash.h"
#include "nm_log.h"
#include "nm_time.h"

/* ---- state -------------------------------------------------------------- */

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

/* ---- files -------------------------------------------------------------- */


static void part_close(part *pt)
{
    nm_store_close(&pt->store);
    if (pt->lock_fd >= 0)
        close(pt->lock_fd);
    pt->lock_fd = -1;
    free(pt->path);
    pt->path = NULL;
}

/* Takes the shared lock on path (creating the file when create) and checks
 * that it is still the file at path (a prune may have removed it between).
 * Returns the descriptor, or -1 with err; NM_ERR_NOT_FOUND when absent. */
static int lock_file(const char *path, bool create, nm_error *err)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
        if (fd < 0) {
            if (errno == ENOENT)
                return nm_error_set(err, NM_ERR_NOT_FOUND, "%s does not exist", path);
            return nm_error_set(err, errno == ENOSPC || errno == EDQUOT ? NM_ERR_DISK_FULL
                                                                         : NM_ERR_IO,
                                "opening %s: %s", path, strerror(errno));
        }
        struct stat a, b;
        if (flock(fd, LOCK_SH) == 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            return fd;
        close(fd);
        if (!create)
            return nm_error_set(err, NM_ERR_NOT_FOUND, "%s was removed", path);
    }
    return nm_error_set(err, NM_ERR_IO, "%s: removed again and again while opening", path);
}

/* Opens a partition for writing; a file that cannot be a results database
 * of this version is refused, with the reason. */
static int part_open(nm_partitions *p, part *pt, const nm_partition_name *name, bool create,
                     nm_error *err)
{
    char file[128];
    nm_partition_format(file, sizeof file, name);
    size_t len = strlen(p->dir) + strlen(file) + 2;
    pt->path = nm_xmalloc(len);
    snprintf(pt->path, len, "%s/%s", p->dir, file);
    pt->name = *name;
    pt->lock_fd = lock_file(pt->path, create, err);
    if (pt->lock_fd < 0) {
        free(pt->path);
        pt->path = NULL;
        return -1;
    }
    pt->store = nm_store_open(pt->path, &p->opts.store, err);
    if (!pt->store) {
        if (!nm_store_error_is_transient(err->code)) {
            nm_error e = *err;
            nm_error_set(err, NM_ERR_IO,
                         "refusing to write into %s: %s (move the file away; the articles are "
                         "held until then)",
                         pt->path, e.msg);
        }
        part_close(pt);
        return -1;
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%" PRId64, p->cache_kib);
    sqlite3_exec(nm_store_db(pt->store), sql, NULL, NULL, NULL);
    return 0;
}

/* ---- the slot ----------------------------------------------------------- */

static int take_slot(nm_partitions *p, nm_error *err)
{
    for (int i = 1; i <= 999; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/.slot-w%d.lock", p->dir, i);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return nm_error_set(err, NM_ERR_IO, "%s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            p->slot_fd = fd;
            snprintf(p->slot, sizeof p->slot, "w%d", i);
            return 0;
        }
        close(fd);
    }
    return nm_error_set(err, NM_ERR_BUSY, "%s: every writer slot w1..w999 is taken", p->dir);
}

/* The newest partition of this writer already on disk (its start, or
 * INT64_MIN): after a restart with the clock set back, jobs keep going there. */
static int64_t newest_own(const nm_partitions *p)
{
    int64_t newest = INT64_MIN;
    DIR *d = opendir(p->dir);
    if (!d)
        return newest;
    struct dirent *e;
    nm_partition_name n;
    while ((e = readdir(d)))
        if (nm_partition_parse(e->d_name, &n) && n.period_ms == p->period_ms &&
            strcmp(n.owner, p->opts.shared ? "" : p->slot) == 0 && n.start_ms > newest)
            newest = n.start_ms;
    closedir(d);
    return newest;
}

/* ---- the id index ------------------------------------------------------- */

/* Keyed by the hash alone (one B-tree, no index by partition: prune finds a
 * partition's rows by a scan, once per removed file) in 1 KiB pages: every
 * insert lands on a random leaf, and each leaf written costs its page in
 * the WAL and again at the checkpoint. Measured at 300,000 ids, batches of
 * 128: 6.3 KB written per insert this way, 17.5 KB with 4 KiB pages and an
 * index on start_ms. */
#define IDS_SCHEMA                                                                          \
    "CREATE TABLE IF NOT EXISTS ids (h INTEGER NOT NULL, start_ms INTEGER NOT NULL,"        \
    " period_ms INTEGER NOT NULL, owner TEXT NOT NULL,"                                     \
    " PRIMARY KEY (h, start_ms, period_ms, owner)) WITHOUT ROWID;"

static int64_t id_hash(const char *id)
{
    return (int64_t)nm_hash_fnv1a(id, strlen(id), 14695981039346656037ULL);
}

static int db_fail(sqlite3 *db, nm_error *err, const char *what)
{
    return nm_error_set(err, nm_store_errcode(sqlite3_extended_errcode(db)), "%s: %s", what,
                        sqlite3_errmsg(db));
}

static int ids_open(nm_partitions *p, nm_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ids-%s.db", p->dir, p->slot);
    if (sqlite3_open_v2(path, &p->ids, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(p->ids, 5000) != SQLITE_OK ||
        sqlite3_exec(p->ids,
                     "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;"
                     " PRAGMA synchronous = NORMAL;"
                     " PRAGMA cache_size = -4096;" IDS_SCHEMA,
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(p->ids, "INSERT OR IGNORE INTO ids VALUES (?1, ?2, ?3, ?4)", -1,
                           &p->ids_insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(p->ids, IDS_LOOKUP, -1, &p->ids_lookup, NULL) != SQLITE_OK) {
        db_fail(p->ids, err, path);
        return -1;
    }
    return 0;
}

/* Every slot's index (the others' read only), looked for again at most
 * every second (a writer that starts later adds its own). */
static void ids_scan(nm_partitions *p, int64_t now_ms)
{
    int64_t mono_ms = nm_time_mono_ns() / 1000000;
    (void)now_ms;
    if (p->ids_scanned_ms && mono_ms - p->ids_scanned_ms < 1000)
        return;
    p->ids_scanned_ms = mono_ms;
    DIR *d = opendir(p->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char slot[16];
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "ids-", 4) != 0 || len < 8 || len - 7 >= sizeof slot ||
            strcmp(e->d_name + len - 3, ".db") != 0)
            continue;
        memcpy(slot, e->d_name + 4, len - 7);
        slot[len - 7] = '\0';
        bool known = strcmp(slot, p->slot) == 0;
        for (size_t i = 0; i < p->n_peers && !known; i++)
            known = strcmp(p->peers[i].slot, slot) == 0;
        if (known || p->n_peers == MAX_PEERS)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", p->dir, e->d_name);
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
                SQLITE_OK ||
            sqlite3_busy_timeout(db, 1000) != SQLITE_OK ||
            sqlite3_prepare_v2(db, IDS_LOOKUP, -1, &st, NULL) != SQLITE_OK) {
            /* a writer creating it: read at the next scan */
            nm_log_debug("id index %s not read yet: %s", path, sqlite3_errmsg(db));
            sqlite3_finalize(st);
            sqlite3_close(db);
            p->ids_scanned_ms = 0;
            continue;
        }
        snprintf(p->peers[p->n_peers].slot, sizeof p->peers[p->n_peers].slot, "%s", slot);
        p->peers[p->n_peers].db = db;
        p->peers[p->n_peers].lookup = st;
        p->n_peers++;
    }
    closedir(d);
}

/* ---- open / close ------------------------------------------------------- */

nm_partitions *nm_partitions_open_dir(const nm_partition_options *opts, nm_error *err)
{
    nm_partitions *p = nm_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->opts = *opts;
    p->dir = nm_xstrdup(opts->dir);
    p->period_ms = opts->period_ms > 0 ? opts->period_ms : 86400000;
    p->grace_ms = opts->grace_ms > 0 ? opts->grace_ms : 15 * 60000;
    if (p->grace_ms > p->period_ms)
        p->grace_ms = p->period_ms;
    p->cache_kib = opts->cache_kib > 0 ? opts->cache_kib : 8192;
    p->slot_fd = -1;
    p->cur.lock_fd = p->prev.lock_fd = -1;
    for (size_t i = 0; i < MAX_OTHERS; i++)
        p->others[i].lock_fd = -1;
    if (p->period_ms < NM_PARTITION_MIN_PERIOD_MS || p->period_ms > NM_PARTITION_MAX_PERIOD_MS) {
        nm_error_set(err, NM_ERR_INVALID, "partition period must be 1s to 366d");
        goto fail;
    }
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/.", p->dir);
    if (nm_fs_mkdir_parents(probe, 0755, err) != 0 || take_slot(p, err) < 0 || ids_open(p, err) < 0)
        goto fail;
    p->newest_start = newest_own(p);
    nm_log_info("results in partitions dir=%s period=%" PRId64 "ms slot=%s%s", p->dir,
                p->period_ms, p->slot, opts->shared ? " (files shared by the slots)" : "");
    return p;
fail:
    nm_partitions_close(&p);
    return NULL;
}

nm_partitions *nm_partitions_wrap(nm_store *store)
{
    nm_partitions *p = nm_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->slot_fd = -1;
    p->cur.lock_fd = p->prev.lock_fd = -1;
    for (size_t i = 0; i < MAX_OTHERS; i++)
        p->others[i].lock_fd = -1;
    p->cur.store = store;
    p->cur.path = nm_xstrdup("");
    return p;
}

static void clear_removals(nm_partitions *p)
{
    for (size_t i = 0; i < p->n_removals; i++)
        free(p->removals[i].id);
    p->n_removals = 0;
}

void nm_partitions_close(nm_partitions **pp)
{
    if (!pp || !*pp)
        return;
    nm_partitions *p = *pp;
    nm_partitions_rollback(p);
    part_close(&p->cur);
    part_close(&p->prev);
    for (size_t i = 0; i < MAX_OTHERS; i++)
        part_close(&p->others[i]);
    for (size_t i = 0; i < p->n_peers; i++) {
        sqlite3_finalize(p->peers[i].lookup);
        sqlite3_close(p->peers[i].db);
    }
    sqlite3_finalize(p->ids_insert);
    sqlite3_finalize(p->ids_lookup);
    sqlite3_close(p->ids);
    if (p->slot_fd >= 0)
        close(p->slot_fd);
    clear_removals(p);
    free(p->removals);
    for (size_t i = 0; i < p->n_owed; i++)
        free(p->owed[i].id);
    free(p->owed);
    free(p->dir);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}

const char *nm_partitions_slot(const nm_partitions *p) { return p->slot; }

const char *nm_partitions_current_path(const nm_partitions *p)
{
    return p->target && p->target->path ? p->target->path : "";
}

/* ---- routing ------------------------------------------------------------ */

/* The store nm_partitions_interrupt may interrupt: set only while no file
 * is being opened or closed. */
static void set_active(nm_partitions *p, nm_store *s)
{
    pthread_mutex_lock(&p->mu);
    p->active = s;
    pthread_mutex_unlock(&p->mu);
}

/* Closes the previous partition once its grace is over, and other
 * partitions opened for replacing (they are reopened when needed). */
static void close_finished(nm_partitions *p, int64_t now_ms)
{
    if (p->prev.store && now_ms >= p->prev.name.start_ms + p->prev.name.period_ms + p->grace_ms) {
        nm_log_info("partition closed path=%s", p->prev.path);
        part_close(&p->prev);
    }
}

/* Opens the partition starting at start as the current one (the current
 * becoming the previous). */
static int roll_to(nm_partitions *p, int64_t start, nm_error *err)
{
    part next = {.lock_fd = -1};
    nm_partition_name name = {.start_ms = start, .period_ms = p->period_ms};
    snprintf(name.owner, sizeof name.owner, "%s", p->opts.shared ? "" : p->slot);
    if (part_open(p, &next, &name, true, err) < 0)
        return -1;
    if (p->cur.store && p->cur.name.start_ms < start) {
        part_close(&p->prev);
        p->prev = p->cur;
    } else {
        part_close(&p->cur);
    }
    p->cur = next;
    if (start > p->newest_start)
        p->newest_start = start;
    p->pruned_ms = 0; /* retention runs at each new period, too */
    nm_log_info("partition open path=%s", p->cur.path);
    return 0;
}

int nm_partitions_begin(nm_partitions *p, int64_t ingested_unix_ms, nm_error *err)
{
    clear_removals(p);
    set_active(p, NULL);
    p->job_ms = ingested_unix_ms;
    if (!p->dir) {
        p->target = &p->cur;
    } else {
        if (ingested_unix_ms > p->now_ms)
            p->now_ms = ingested_unix_ms; /* the clock as far as it went: never back */
        close_finished(p, p->now_ms);
        if (p->opts.retention_ms > 0 && (p->now_ms - p->pruned_ms >= 3600000 || !p->pruned_ms)) {
            p->pruned_ms = p->now_ms;
            nm_error perr;
            if (nm_partition_prune(p->dir, p->now_ms - p->opts.retention_ms, NULL, NULL, &perr) < 0)
                nm_log_warn("retention: %s", perr.msg);
        }
        int64_t start = nm_partition_start(ingested_unix_ms, p->period_ms);
        if (start < p->newest_start && !(p->prev.store && start == p->prev.name.start_ms)) {
            /* before the newest period and not the open previous one: a clock
             * set back, or a job held past the grace */
            if (!p->warned_clock)
                nm_log_warn("ingestion time %" PRId64 " is before the current partition (clock "
                            "set back, or a late job): writing to the current one with the "
                            "ingestion time raised to its start",
                            ingested_unix_ms);
            p->warned_clock = true;
            start = p->newest_start;
            p->job_ms = start;
        }
        if (p->prev.store && start == p->prev.name.start_ms) {
            p->target = &p->prev;
        } else {
            if ((!p->cur.store || p->cur.name.start_ms != start) && roll_to(p, start, err) < 0)
                return -1;
            p->target = &p->cur;
        }
        ids_scan(p, p->now_ms);
        if (sqlite3_exec(p->ids, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return db_fail(p->ids, err, "id index: BEGIN");
    }
    set_active(p, p->target->store);
    if (nm_store_begin(p->target->store, err) < 0) {
        if (p->ids)
            sqlite3_exec(p->ids, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---- replacing across partitions ---------------------------------------- */

/* An open handle on another partition (the current and previous included),
 * for looking an id up and removing it. NULL when it does not exist or
 * cannot be opened (logged). */
static nm_store *other_store(nm_partitions *p, const nm_partition_name *name)
{
    part *own[] = {&p->cur, &p->prev};
    for (size_t i = 0; i < 2; i++)
        if (own[i]->store && own[i]->name.start_ms == name->start_ms &&
            own[i]->name.period_ms == name->period_ms && strcmp(own[i]->name.owner, name->owner) == 0)
            return own[i]->store;
    for (size_t i = 0; i < MAX_OTHERS; i++) {
        part *o = &p->others[i];
        if (o->store && o->name.start_ms == name->start_ms && o->name.period_ms == name->period_ms &&
            strcmp(o->name.owner, name->owner) == 0)
            return o->store;
    }
    part *slot = &p->others[p->next_other];
    p->next_other = (p->next_other + 1) % MAX_OTHERS;
    part_close(slot);
    nm_error err;
    if (part_open(p, slot, name, false, &err) < 0) {
        if (err.code != NM_ERR_NOT_FOUND)
            nm_log_warn("partition not checked for an earlier row: %s", err.msg);
        return NULL;
    }
    /* Another worker's current file is written all the time: wait for its
     * lock longer than for our own (removals are rare; one that still finds
     * it taken is owed and retried). */
    sqlite3_busy_timeout(nm_store_db(slot->store), 2000);
    return slot->store;
}

static bool is_target(const nm_partitions *p, const nm_partition_name *n)
{
    const nm_partition_name *t = &p->target->name;
    return t->start_ms == n->start_ms && t->period_ms == n->period_ms &&
           strcmp(t->owner, n->owner) == 0;
}

static void add_removal(nm_partitions *p, const nm_partition_name *name, const char *id,
                        int64_t revision)
{
    if (p->n_removals == p->cap_removals) {
        p->cap_removals = p->cap_removals ? p->cap_removals * 2 : 16;
        p->removals = nm_xrealloc(p->removals, p->cap_removals * sizeof *p->removals);
    }
    p->removals[p->n_removals++] = (removal){*name, nm_xstrdup(id), revision};
}

/* Looks id up in every slot's index and in the partitions named there:
 * *stale when one holds a newer revision; the others are noted for removal
 * after the commit. */
static int find_elsewhere(nm_partitions *p, const char *id, int64_t revision, bool *stale,
                          nm_error *err)
{
    *stale = false;
    int64_t h = id_hash(id);
    size_t n_dbs = p->n_peers + 1;
    for (size_t k = 0; k < n_dbs; k++) {
        sqlite3_stmt *st = k == 0 ? p->ids_lookup : p->peers[k - 1].lookup;
        if (!st)
            continue;
        sqlite3_bind_int64(st, 1, h);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            nm_partition_name name = {.start_ms = sqlite3_column_int64(st, 0),
                                      .period_ms = sqlite3_column_int64(st, 1)};
            snprintf(name.owner, sizeof name.owner, "%s", (const char *)sqlite3_column_text(st, 2));
            if (is_target(p, &name))
                continue; /* nm_store_put replaces within the file */
            nm_store *s = other_store(p, &name);
            int64_t stored;
            nm_error e;
            int found = s ? nm_store_find_revision(s, id, &stored, &e) : 0;
            if (found < 0)
                nm_log_warn("partition not checked for an earlier row of %s: %s", id, e.msg);
            if (found <= 0)
                continue;
            if (revision != 0 && stored > revision)
                *stale = true;
            else
                add_removal(p, &name, id, revision);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_fail(k == 0 ? p->ids : p->peers[k - 1].db, err, "id index lookup");
    }
    return 0;
}

int nm_partitions_put(nm_partitions *p, const nm_extract_result *r, int64_t revision,
                      nm_store_put_outcome *outcome, nm_error *err)
{
    nm_store_put_outcome local;
    if (!outcome)
        outcome = &local;
    *outcome = NM_STORE_STORED;
    size_t n_before = p->n_removals;
    if (p->dir && r->id && *r->id) {
        bool stale;
        if (find_elsewhere(p, r->id, revision, &stale, err) < 0) {
            nm_partitions_rollback(p);
            return -1;
        }
        if (stale) {
            while (p->n_removals > n_before)
                free(p->removals[--p->n_removals].id);
            *outcome = NM_STORE_STALE;
            return 0;
        }
    }
    if (nm_store_put(p->target->store, r, revision, p->job_ms, outcome, err) < 0) {
        if (err->code != NM_ERR_INVALID) {
            nm_partitions_rollback(p);
        } else { /* refused, nothing stored: the earlier rows stay */
            while (p->n_removals > n_before)
                free(p->removals[--p->n_removals].id);
        }
        return -1;
    }
    if (p->dir && *outcome == NM_STORE_STORED) {
        const nm_partition_name *t = &p->target->name;
        sqlite3_bind_int64(p->ids_insert, 1, id_hash(r->id));
        sqlite3_bind_int64(p->ids_insert, 2, t->start_ms);
        sqlite3_bind_int64(p->ids_insert, 3, t->period_ms);
        sqlite3_bind_text(p->ids_insert, 4, t->owner, -1, SQLITE_STATIC);
        int rc = sqlite3_step(p->ids_insert);
        sqlite3_reset(p->ids_insert);
        if (rc != SQLITE_DONE) {
            db_fail(p->ids, err, "id index insert");
            nm_partitions_rollback(p);
            return -1;
        }
    }
    return 0;
}

/* After the commit: the earlier rows of the ids just stored, each in its
 * own transaction on its file. One that cannot be removed now (another
 * writer holds that file's lock) is owed and retried after the next
 * commits (the revision check makes a late removal safe); until then the id
 * is in two files. */
static void remove_earlier(nm_partitions *p)
{
    for (size_t i = 0; i < p->n_removals; i++) {
        if (p->n_owed == p->cap_owed) {
            p->cap_owed = p->cap_owed ? p->cap_owed * 2 : 16;
            p->owed = nm_xrealloc(p->owed, p->cap_owed * sizeof *p->owed);
        }
        p->owed[p->n_owed++] = p->removals[i];
    }
    p->n_removals = 0;
    size_t kept = 0;
    for (size_t i = 0; i < p->n_owed; i++) {
        removal *r = &p->owed[i];
        nm_store *s = other_store(p, &r->name);
        nm_error e;
        nm_store_remove_outcome out = NM_STORE_ABSENT;
        if (s && (nm_store_begin(s, &e) < 0 || nm_store_remove(s, r->id, r->revision, &out, &e) < 0 ||
                  nm_store_commit(s, &e) < 0)) {
            nm_store_rollback(s);
            /* owed only where nothing can put the id again meanwhile with the
             * same revision: not our own open files, not revision 0 */
            bool own = s == p->cur.store || s == p->prev.store;
            if (nm_store_error_is_transient(e.code) && !own && r->revision != 0 && kept < 100000) {
                nm_log_debug("earlier row of %s not removed yet, retried later: %s", r->id, e.msg);
                p->owed[kept++] = *r;
                continue;
            }
            nm_log_warn("earlier row of %s not removed (the id is in two partitions until it is "
                        "stored again): %s",
                        r->id, e.msg);
        } else if (out == NM_STORE_REMOVED) {
            nm_log_debug("earlier row of %s removed from another partition", r->id);
        }
        free(r->id);
    }
    p->n_owed = kept;
}

/* Other partitions are opened for one job only: a closed partition held open
 * would keep a prune from removing it. */
static void close_others(nm_partitions *p)
{
    for (size_t i = 0; i < MAX_OTHERS; i++)
        if (p->others[i].store)
            part_close(&p->others[i]);
}

int nm_partitions_commit(nm_partitions *p, nm_error *err)
{
    if (p->dir && sqlite3_exec(p->ids, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(p->ids, err, "id index: COMMIT");
        nm_partitions_rollback(p);
        return -1;
    }
    if (nm_store_commit(p->target->store, err) < 0) {
        clear_removals(p);
        close_others(p);
        return -1;
    }
    if (p->dir) {
        remove_earlier(p);
        close_others(p);
    }
    return 0;
}

void nm_partitions_rollback(nm_partitions *p)
{
    if (p->target && p->target->store)
        nm_store_rollback(p->target->store);
    if (p->ids && !sqlite3_get_autocommit(p->ids))
        sqlite3_exec(p->ids, "ROLLBACK", NULL, NULL, NULL);
    clear_removals(p);
    close_others(p);
}

void nm_partitions_interrupt(nm_partitions *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->active)
        nm_store_interrupt(p->active);
    pthread_mutex_unlock(&p->mu);
}

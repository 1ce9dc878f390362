/*
 * nm_queue_int: the queue's internals, shared by its three files and by no
 * one else:
 *   nm_queue.c        object, reactor loop, stats
 *   nm_queue_front.c  producers: submit (validation, group commit), admin
 *   nm_queue_work.c   workers: credit, heartbeat, leases, settle, delivery
 */
#ifndef NM_QUEUE_INT_H
#define NM_QUEUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_frame.h"
#include "nm_lease.h"
#include "nm_queue.h"
#include "nm_qstore.h"
#include "nm_stats.h"
#include "nm_suspects.h"
#include "nm_u64map.h"

/* Ready row numbers kept in memory at most (the rest stays in the spool). */
#define NM_QUEUE_WINDOW 4096
/* Dead letters carried in every StatsReport. */
#define NM_QUEUE_RECENT_DEAD 5

/* The queue's record of one connected worker (the worker program's engine is
 * nm_worker, worker/nm_worker.h). */
typedef struct nm_queue_worker {
    unsigned char rid[NM_ROUTE_MAX_BYTES]; /* ROUTER identity */
    size_t rid_len;
    char name[128];
    uint32_t credit;
    uint32_t in_flight;
    uint64_t sent;      /* deliveries sent to this worker */
    uint64_t sync_mark; /* `sent` when we last asked it for a reset credit */
    bool draining;
    int64_t last_seen_ns;
    /* Isolation of suspects (nm_suspects.h): while it holds suspects, at
     * most group_limit articles in all (0: no limit). */
    uint32_t group_limit;
    uint32_t n_suspects; /* suspects among its leases */
    /* Its leases started expiring at lost_at_ns, when it held lost_group:
     * the ones expiring after are judged as that one group. */
    int64_t lost_at_ns;
    uint32_t lost_group;
    nm_lease *leases; /* doubly linked through owner_prev/owner_next */
    nm_metric *in_flight_gauge;
    struct nm_queue_worker *next;
} nm_queue_worker;

/* A settle operation decided while reading the back socket or expiring
 * leases, applied in one transaction per loop turn. */
typedef enum { SETTLE_DONE, SETTLE_RETRY, SETTLE_BURY } nm_settle_kind;

typedef struct nm_settle_op {
    nm_settle_kind kind;
    int64_t seq, rev;
    uint32_t attempt;
    int64_t not_before_unix_ms;
    int64_t at_unix_ms;
    char *reason; /* malloc'd */
    char worker[128];
} nm_settle_op;

struct nm_queue {
    nm_queue_config cfg;
    char *front_endpoint, *back_endpoint, *stats_endpoint, *spool_path;
    void *ctx, *front, *back;
    void *front_monitor, *back_monitor; /* PAIRs receiving disconnect events */
    nm_stats *stats;
    nm_stats_pub *pub;
    nm_qstore *store;
    nm_lease_table *leases;
    nm_suspects *suspects; /* articles suspected of crashing workers */

    /* Rows present in memory: seq -> nm_lease*, or &window_marker. */
    nm_u64map present;
    int64_t *window; /* ring of ready seqs, delivery order */
    size_t win_head, win_n;
    bool win_dirty;  /* the spool may hold ready rows not in the window */
    int64_t next_dirty_ns;

    nm_queue_worker *workers;
    size_t n_workers;

    int64_t n_articles; /* rows in the spool (waiting + leased) */
    int64_t n_dead;
    int64_t spool_bytes;
    bool storage_error;
    int64_t last_full_ns; /* when a submit was last refused as full */

    struct nm_queue_group *group; /* the front's group commit (nm_queue_front.c) */

    nm_settle_op *ops;
    size_t n_ops, cap_ops;

    nm_qstore_row row; /* reused buffer for deliveries */
    uint8_t *frame;   /* reused buffer for encoding deliveries */
    size_t frame_cap;

    Newsmill__DeadLetter *recent_dead[NM_QUEUE_RECENT_DEAD]; /* newest first */
    size_t n_recent_dead;

    int64_t next_stats_ns;
    struct {
        nm_metric *submitted, *accepted, *delivered, *done, *failed, *redelivered, *dead;
        nm_metric *backlog, *in_flight, *oldest_age, *spool_bytes, *dead_letters, *workers;
        nm_metric *submit_ack_seconds, *suspects;
    } m;
};

/* Marker value in `present` for rows sitting in the window. */
extern char nm_queue_window_marker;

/* Counts a refused request (and logs it). */
void nm_queue_count_refusal(nm_queue *q, const char *reason);
/* Counts rejected articles by reason. */
void nm_queue_count_rejected(nm_queue *q, const char *reason, double n);
/* Keeps a new dead letter for the stats (takes ownership). */
void nm_queue_remember_dead(nm_queue *q, Newsmill__DeadLetter *letter);
/* Spool write outcome: sets or clears the storage-error state. */
void nm_queue_storage_result(nm_queue *q, int rc, const nm_error *err);

/* Front socket: drains and answers everything waiting. */
void nm_queue_front_drain(nm_queue *q);
/* Frees the front's buffers (shutdown). */
void nm_queue_front_free(nm_queue *q);

/* Back socket: drains everything waiting (settles are queued as ops). */
void nm_queue_back_drain(nm_queue *q);
/* Expires due leases and silent workers (queued as ops). */
void nm_queue_expire(nm_queue *q, int64_t now_ns);
/* Applies the queued ops in one transaction. */
void nm_queue_settle(nm_queue *q);
/* Hands out articles to workers with credit. */
void nm_queue_dispatch(nm_queue *q);
/* Forgets every worker and lease (shutdown). */
void nm_queue_workers_free(nm_queue *q);
/* Earliest lease deadline, or INT64_MAX. */
int64_t nm_queue_next_deadline_ns(nm_queue *q);

#endif

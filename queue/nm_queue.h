/*
 * nm_queue: the durable queue server (newsmill-queue) as an object.
 *
 * DESIGN
 * One reactor (zmq_poll) over two ROUTER sockets: the front for producers
 * (SubmitBatch, DeadListRequest, RequeueRequest) and the back for workers
 * (Credit, Heartbeat, Done, Fail, ExtendLease). Articles live in the spool
 * (nm_spool, SQLite WAL); memory holds only leases (nm_lease: table + deadline
 * heap), the workers, and a bounded window of ready row numbers read from the
 * spool in delivery order. Bodies are read from the spool when delivered, so
 * memory does not grow with the backlog.
 *
 * Each loop turn: drain every submit waiting on the front socket, validate,
 * insert them all in ONE durable transaction, commit, then send the acks
 * (group commit: one fsync for many batches); drain the back socket and
 * settle done/fail/expired leases in one non-durable transaction (a lost
 * delete only redelivers); then hand out articles to workers with credit,
 * and sleep until the next lease deadline, stats report or housekeeping.
 *
 * Guarantees: an ArticleAck with accepted = true is sent only after the
 * article is committed (durable per --durability). Delivery is at least
 * once: an article leaves the spool only on Done for its current lease. A
 * lease that expires, a worker silent for worker_timeout (or unreachable),
 * and a queue restart all put the article back. Such a loss counts as an
 * attempt (towards max_attempts and the dead letters) only for an article
 * its worker held alone: the articles of a worker that died holding several
 * go back uncharged and are redelivered in halving groups until the one
 * that kills workers is alone (nm_suspects.h). Every accepted body gets a
 * new spool-wide revision (Delivery.revision, see the spool schema): done,
 * retry and dead-lettering act on a row only while it holds the body its
 * lease delivered, so a worker reporting on a body replaced since never
 * removes, penalises or buries the newer one (it is delivered next), and
 * the results database keeps the newest revision of each id. Counters
 * count what happened: accepted = acks sent, done = rows removed by a done.
 * Bad input of any kind is
 * answered with an ErrorReply or a LeaseReply (or dropped and logged when no
 * answer is possible), counted in queue_requests_rejected_total{reason}, and
 * never stops the loop. A spool write failure fails only the requests of
 * that transaction (ERROR_STORAGE) and the loop keeps serving.
 */
#ifndef NM_QUEUE_H
#define NM_QUEUE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_spool.h"

typedef struct nm_queue_config {
    const char *front_endpoint;   /* producers: ROUTER bind */
    const char *back_endpoint;    /* workers: ROUTER bind */
    const char *stats_endpoint;   /* collector: PUSH connect */
    const char *store;            /* "spool" (default) or "jetstream" */
    const char *spool_path;       /* SQLite file; directory created */
    const char *nats_urls;        /* jetstream: "nats://h:p[,...]" (nm_qstore_js.h) */
    const char *nats_user, *nats_password, *nats_token, *nats_ca; /* NULL/"": none */
    const char *instance;         /* stats instance name; NULL: HOST:PID */
    nm_spool_durability durability;
    int64_t max_article_bytes;    /* per article body */
    int64_t max_batch;            /* articles per SubmitBatch */
    int64_t max_frame_bytes;      /* any received message; a frame up to twice this is read
                                     and answered ERROR_TOO_LARGE (a producer can split its
                                     batch), a bigger one is refused by libzmq at its header
                                     (ZMQ_MAXMSGSIZE) and its connection closed, unread */
    int64_t recv_buffer_bytes;    /* received messages one connection may have waiting in a
                                     socket: the receive high-water mark is this over twice
                                     max_frame_bytes (at least 1 message); past it libzmq stops
                                     reading that connection and TCP pushes back on the peer */
    int64_t max_spool_bytes;      /* refuse submits at this spool size; 0: no limit */
    int64_t max_backlog;          /* refuse submits at this many articles; 0: no limit */
    int64_t lease_ms;             /* lease length (and the ExtendLease default) */
    int64_t worker_timeout_ms;    /* a worker silent this long loses its leases */
    int64_t max_attempts;         /* deliveries before dead-lettering */
    int64_t retry_base_ms;        /* back-off after the first failure; doubles */
    int64_t retry_max_ms;         /* back-off ceiling */
    int64_t stats_interval_ms;    /* StatsReport period */
    struct nm_curve *curve;       /* CURVE on both ROUTERs and to the collector (nm_curve.h);
                                     NULL: plain. Borrowed: must outlive the queue */
} nm_queue_config;

typedef struct nm_queue nm_queue;

/* Bodies one group commit gathers before it commits (it may pass this by
 * one batch). */
#define NM_QUEUE_GROUP_MAX_BYTES ((int64_t)128 << 20)

/* Fills cfg with the defaults (the ones --help shows). */
void nm_queue_config_defaults(nm_queue_config *cfg);

/* The largest message a worker sends on the back socket: a Done or
 * ExtendLease of the most leases a worker may hold (100,000, about 1 MB),
 * a Fail with its short reason, credit and heartbeats. */
#define NM_QUEUE_BACK_FRAME_MAX ((int64_t)16 << 20)

/* The largest frame libzmq reads for cfg (ZMQ_MAXMSGSIZE) on the front:
 * twice max_frame_bytes, so a batch somewhat over the limit is still
 * answered; on the back (back true) no more than NM_QUEUE_BACK_FRAME_MAX. */
int64_t nm_queue_read_limit(const nm_queue_config *cfg, bool back);

/* The receive high-water mark of the front or back socket, in messages:
 * recv_buffer_bytes over its read limit. Workers' messages are small, so
 * the back keeps dozens waiting where the front keeps 2 with the defaults
 * (a back mark of 2 held each worker's acks to one reactor turn apiece:
 * 30% more queue CPU an article in bench-queue). */
int nm_queue_recv_hwm(const nm_queue_config *cfg, bool back);

/* MEMORY BOUND: what received messages may make the queue hold beyond its
 * resting size, with `connections` producers and workers connected:
 *   per connection  (recv_hwm + 1) x read limit: messages waiting in
 *                   libzmq, and the one being read (a larger one is refused
 *                   at its header: the connection is closed, nothing read);
 *                   the front's figure, the larger, for every connection
 *   the group       NM_QUEUE_GROUP_MAX_BYTES + max_frame_bytes of decoded
 *                   batches awaiting their commit
 *   the spool       its page cache (NM_SPOOL_CACHE_BYTES)
 * Kernel socket buffers are not the queue's memory. With the defaults
 * (256 MiB frames, read limit 512 MiB, 1 GiB receive buffer: hwm 2) that
 * is 1.5 GiB per connection; a lower --max-frame-bytes lowers it (and
 * raises the hwm: more pipelining for the same memory). */
int64_t nm_queue_memory_bound(const nm_queue_config *cfg, int connections);

/* Opens the spool, binds the sockets, connects stats. Returns NULL with err
 * on failure (address in use, unusable spool). The strings of cfg are
 * copied. Caller owns the result; zmq_ctx must outlive it. */
nm_queue *nm_queue_new(void *zmq_ctx, const nm_queue_config *cfg, nm_error *err);

/* Runs the reactor until *stop becomes non-zero (set it from a signal
 * handler). Returns 0 on a clean stop, -1 with err if the sockets failed. */
int nm_queue_run(nm_queue *queue, volatile sig_atomic_t *stop, nm_error *err);

/* Closes sockets and spool; accepts NULL; clears *queue. Outstanding leases
 * are simply forgotten: their articles are still in the spool. */
void nm_queue_destroy(nm_queue **queue);

#endif

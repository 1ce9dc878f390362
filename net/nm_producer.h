/*
 * nm_producer: the producer's side of the queue protocol (submit, dead-letter
 * admin), so that programs never speak it by hand.
 *
 * One DEALER socket connected to the queue's front endpoint. Two ways to use
 * it, not to be mixed while asynchronous requests are outstanding:
 *
 *   synchronous  nm_producer_submit() sends a batch and waits for its
 *                SubmitAck; on timeout it reconnects and resends the same
 *                batch (same ids), up to the configured retries. Resending
 *                cannot duplicate: the queue keeps one copy of an id that is
 *                still waiting. Ids left empty are derived by the queue from
 *                url or body, so they are stable across resends too.
 *   asynchronous nm_producer_send() returns a request id at once;
 *                nm_producer_recv() returns the next reply (by request id).
 *                Keep several batches in flight for throughput; retrying a
 *                batch whose reply did not come is the caller's choice.
 *
 * Guarantees: an article is reported accepted only when the queue's SubmitAck
 * says so (acked = durable per the queue's durability mode). When the queue is
 * down or silent, calls return -1 with NM_ERR_TIMEOUT after the timeout; they
 * never hang. The socket uses ZMQ_IMMEDIATE, so nothing piles up in memory
 * while the queue is unreachable.
 *
 * Usage:
 *   nm_error err;
 *   nm_producer *p = nm_producer_new(ctx, "tcp://127.0.0.1:5555", &err);
 *   Newsmill__Article a = NEWSMILL__ARTICLE__INIT, *batch[] = {&a};
 *   a.id = "bbc-1"; a.content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
 *   a.body.data = (uint8_t *)"Title\n\nText."; a.body.len = 12;
 *   Newsmill__SubmitAck *ack;
 *   if (nm_producer_submit(p, batch, 1, &ack, &err) == 0) {
 *       ... ack->acks[i]->accepted / ->reason ...
 *       nm_producer_ack_free(&ack);
 *   }
 *   nm_producer_destroy(&p);
 *
 * Not thread-safe: one producer per thread.
 */
#ifndef NM_PRODUCER_H
#define NM_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_protocol.h" /* NM_QUEUE_FRONT_ENDPOINT_DEFAULT */

#define NM_PRODUCER_TIMEOUT_MS_DEFAULT 5000
#define NM_PRODUCER_RETRIES_DEFAULT 2

typedef struct nm_producer nm_producer;

/* Creates a DEALER connected to endpoint (NULL: the default). Connecting
 * succeeds even when no queue runs yet. Returns NULL with err on a bad
 * endpoint. endpoint may be a comma-separated list of fronts (queues on
 * one JetStream cluster): the first is used, and each resend after a
 * timeout or a closed connection moves to the next (failover; it stays
 * there). Caller owns the result. zmq_ctx must outlive it. */
nm_producer *nm_producer_new(void *zmq_ctx, const char *endpoint, nm_error *err);

/* Same, connecting with CURVE when curve says so (nm_curve_apply_client;
 * NULL: plain). curve is borrowed and must outlive the producer. */
typedef struct nm_curve nm_curve; /* nm_curve.h */
nm_producer *nm_producer_new_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                                   nm_error *err);

/* With several endpoints, moves to the next one now (asynchronous use: a
 * request not answered in time). Replies still due on the old connection
 * are lost: resend those requests. With one endpoint: does nothing and
 * returns 0; -1 with err if the new socket cannot be made. */
int nm_producer_failover(nm_producer *producer, nm_error *err);

/* Closes the socket (linger 0: unsent requests are dropped); accepts NULL;
 * clears *producer. */
void nm_producer_destroy(nm_producer **producer);

/* Per-attempt timeout and the number of extra attempts of the synchronous
 * calls (defaults above). retries 0: one attempt. */
void nm_producer_set_timeout(nm_producer *producer, int64_t timeout_ms, int retries);

/* The largest request frame sent (the queue's --max-frame-bytes; default
 * NM_FRAME_MAX_DEFAULT, the queue's default). A bigger request fails at
 * once with NM_ERR_TOO_LARGE and is not sent: the queue would close the
 * connection on it. 0: the default. */
void nm_producer_set_max_frame(nm_producer *producer, int64_t max_frame_bytes);

/* Synchronous submit of articles[0..n). On success returns 0 and *ack (caller
 * owns, nm_producer_ack_free) holds one ArticleAck per article, in order.
 * On failure returns -1, *ack is NULL and err says why: NM_ERR_TIMEOUT (no
 * answer after every attempt), NM_ERR_FULL (queue full: retry later),
 * NM_ERR_IO (the queue's spool could not be written), NM_ERR_TOO_LARGE (over
 * the frame limit, or the queue closed the connection on every attempt, as
 * it does for a frame over its --max-frame-bytes: the message says which),
 * NM_ERR_INVALID, ... (the queue's ErrorReply, its message in err). Nothing
 * is accepted when -1 is returned, except that after a timeout some attempt
 * may have been accepted without its ack arriving (resubmitting is safe). */
int nm_producer_submit(nm_producer *producer, Newsmill__Article *const *articles, size_t n,
                       Newsmill__SubmitAck **ack, nm_error *err);

/* Frees an ack from submit or recv; accepts NULL; clears *ack. */
void nm_producer_ack_free(Newsmill__SubmitAck **ack);

/* Asynchronous send of a batch. Returns 0 with *request_id (non-zero, unique
 * per producer), or -1: NM_ERR_TIMEOUT when the queue is not connected within
 * the timeout, NM_ERR_TOO_LARGE over the frame limit (nothing sent),
 * NM_ERR_ZMQ on a socket failure. Does not keep the articles. */
int nm_producer_send(nm_producer *producer, Newsmill__Article *const *articles, size_t n,
                     uint64_t *request_id, nm_error *err);

/* Waits up to timeout_ms (0: do not wait) for the next reply to a send.
 * Returns 0 with *request_id and *ack (caller owns) for a SubmitAck. Returns
 * -1 with *request_id set (non-zero) when the queue answered that request
 * with an ErrorReply (err has its code and message: the batch was not
 * accepted), or -1 with *request_id 0 and NM_ERR_TIMEOUT when nothing came. */
int nm_producer_recv(nm_producer *producer, int64_t timeout_ms, uint64_t *request_id,
                     Newsmill__SubmitAck **ack, nm_error *err);

/* Synchronous dead-letter listing: at most limit (0: 100), only article id if
 * id is non-empty. Returns 0 with *list (caller owns, nm_producer_dead_list_free)
 * or -1 as for submit. */
int nm_producer_dead_list(nm_producer *producer, uint32_t limit, const char *id,
                          Newsmill__DeadList **list, nm_error *err);
void nm_producer_dead_list_free(Newsmill__DeadList **list);

/* Synchronous requeue of dead letters ids[0..n), or all of them. Returns 0
 * with *reply (caller owns, nm_producer_requeue_free) or -1 as for submit. */
int nm_producer_requeue(nm_producer *producer, const char *const *ids, size_t n, bool all,
                        Newsmill__RequeueReply **reply, nm_error *err);
void nm_producer_requeue_free(Newsmill__RequeueReply **reply);

/* Maps a wire ErrorCode to the nm_errcode the client APIs report. */
nm_errcode nm_producer_errcode(Newsmill__ErrorCode code);

#endif

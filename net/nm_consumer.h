/*
 * nm_consumer: the worker's side of the queue protocol, made for a
 * single-threaded zmq_poll reactor.
 *
 * One DEALER socket connected to the queue's back endpoint. The worker says
 * how many articles it can hold at once (capacity); the consumer keeps the
 * queue's credit topped up so that held + promised never exceeds capacity:
 * every done or fail gives the settled slots back as new credit, unless the
 * consumer is draining.
 *
 * Liveness and queue restarts: nm_consumer_tick() sends a Heartbeat every
 * heartbeat interval (in_flight, draining). Credit is additive, except a
 * "reset" Credit (request_id with bit 62 set) that says "my credit is now
 * exactly this". A queue that does not know this worker (it restarted, the
 * connection was re-made, or it dropped the worker after --worker-timeout of
 * silence) answers its heartbeat or additive credit with ErrorReply
 * ERROR_BAD_REQUEST whose request_id has bit 63 set, and remembers how many
 * deliveries it had sent this worker at that moment; the consumer answers
 * with a reset Credit of capacity - held, and the queue sets the credit to
 * that minus the deliveries it sent after its ErrorReply (which the consumer
 * had not yet counted). So the credit is exact again after any restart,
 * whatever additive credits were in flight. The first Credit a consumer sends
 * (its hello) is a reset Credit of its capacity. Leases held from before a
 * queue restart are void (the queue redelivers those articles); settling them
 * is still fine: the queue answers with LeaseReply.unknown_lease_ids, counted
 * in nm_consumer_unknown_leases().
 *
 * Usage (in the worker's loop):
 *   nm_consumer_config cfg = {.endpoint = "tcp://127.0.0.1:5556", .capacity = 64};
 *   nm_consumer *c = nm_consumer_new(ctx, &cfg, &err);
 *   for (;;) {
 *       zmq_pollitem_t items[] = {{nm_consumer_socket(c), 0, ZMQ_POLLIN, 0}, ...};
 *       zmq_poll(items, n, nm_consumer_tick(c));      // tick: heartbeat + credit
 *       Newsmill__Delivery *d;
 *       while (nm_consumer_recv(c, &d, &err) == 1) {
 *           ... work on d->article ...
 *           nm_consumer_done(c, &d->lease_id, 1, &err); // after the commit
 *           nm_consumer_delivery_free(&d);
 *       }
 *   }
 *   nm_consumer_drain(c);   // SIGTERM: ask for no more; finish and settle what is held
 *   nm_consumer_destroy(&c);
 *
 * Failover: the endpoint may be a list, "tcp://a:5556,tcp://b:5556" (the
 * fronts of one shared store, e.g. JetStream). Every heartbeat then asks
 * the queue to answer (NM_REQUEST_ECHO_BIT); when nothing at all came from
 * the queue in use for failover_ms (it died, hangs or is cut off), the
 * consumer closes its socket, connects to the next endpoint of the list and
 * says hello there (a reset Credit of capacity - held). Leases from the old
 * queue are void at the new one (its store gives those articles again
 * after their lease: JetStream's ack wait). With one endpoint nothing of
 * this happens: ZeroMQ reconnects to it, as before.
 *
 * Sends never block (ZMQ_DONTWAIT); a send that fails because the socket is
 * full or the queue is unreachable is returned as -1 (NM_ERR_BUSY) and the
 * queue's lease expiry makes the article come back, so nothing is lost.
 * Not thread-safe.
 */
#ifndef NM_CONSUMER_H
#define NM_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"
#include "nm_protocol.h" /* endpoints, request-id bits */

#define NM_CONSUMER_HEARTBEAT_MS_DEFAULT 1000

typedef struct nm_consumer_config {
    const char *endpoint; /* queue back endpoint, or a list (failover); NULL: the default */
    const char *worker;   /* worker name; NULL or "": HOST:PID */
    uint32_t capacity;    /* most articles held at once; 0: 1 */
    int64_t heartbeat_ms; /* heartbeat interval; 0: the default */
    int64_t failover_ms;  /* several endpoints: silence before the next; 0: 5 heartbeats */
    const struct nm_curve *curve; /* CURVE to the queue (nm_curve.h); NULL: plain */
} nm_consumer_config;

typedef struct nm_consumer nm_consumer;

/* Connects and announces the full capacity as credit. Returns NULL with err
 * on a bad endpoint (each of a list is checked). Caller owns the result; zmq_ctx must outlive it. */
nm_consumer *nm_consumer_new(void *zmq_ctx, const nm_consumer_config *cfg, nm_error *err);

/* Tells the queue we leave (a draining heartbeat, up to 100 ms to go out),
 * closes the socket; accepts NULL; clears *consumer. Leases still held
 * expire at the queue and are redelivered. */
void nm_consumer_destroy(nm_consumer **consumer);

/* The DEALER socket to poll for ZMQ_POLLIN (it changes on failover: ask
 * for it before every poll). */
void *nm_consumer_socket(nm_consumer *consumer);

/* Reads one message without blocking. Returns 1 with *delivery (caller owns,
 * nm_consumer_delivery_free) for a Delivery; 0 when nothing is waiting or the
 * message was handled internally (LeaseReply, the queue asking for credit, an
 * ErrorReply: logged); -1 with err on a socket failure. Call until it returns
 * 0 after each POLLIN. */
int nm_consumer_recv(nm_consumer *consumer, Newsmill__Delivery **delivery, nm_error *err);

/* Frees a delivery; accepts NULL; clears *delivery. */
void nm_consumer_delivery_free(Newsmill__Delivery **delivery);

/* Settles leases as committed (their articles leave the spool) and gives the
 * slots back as credit. Returns 0 or -1 (err) when the message could not be
 * sent; the slots are released either way. */
int nm_consumer_done(nm_consumer *consumer, const uint64_t *lease_ids, size_t n, nm_error *err);

/* Reports one lease as failed: retryable requeues with back-off, otherwise
 * the article is dead-lettered. reason is kept in its history. Releases the
 * slot as done does. */
int nm_consumer_fail(nm_consumer *consumer, uint64_t lease_id, const char *reason, bool retryable,
                     nm_error *err);

/* Pushes the deadlines of leases out by lease_ms from now (0: the queue's
 * default). Returns 0 or -1 (err). */
int nm_consumer_extend(nm_consumer *consumer, const uint64_t *lease_ids, size_t n,
                       uint32_t lease_ms, nm_error *err);

/* Sends a heartbeat when due. Returns the milliseconds until it wants to be
 * called again: use it as (or to bound) the zmq_poll timeout. */
long nm_consumer_tick(nm_consumer *consumer);

/* Drain mode: no more credit is asked for, the queue is told at once (a
 * heartbeat with draining = true) and stops delivering. Idempotent. */
void nm_consumer_drain(nm_consumer *consumer);

/* Articles delivered and not yet settled by done/fail. */
uint32_t nm_consumer_in_flight(const nm_consumer *consumer);

/* Leases the queue reported unknown (expired, from before a restart, twice
 * settled), since the start. */
uint64_t nm_consumer_unknown_leases(const nm_consumer *consumer);

/* Times the credit was re-announced because the queue did not know us. */
uint64_t nm_consumer_reannounces(const nm_consumer *consumer);

/* Times the consumer moved to the next endpoint of its list. */
uint64_t nm_consumer_failovers(const nm_consumer *consumer);

/* The endpoint in use. */
const char *nm_consumer_endpoint(const nm_consumer *consumer);

#endif

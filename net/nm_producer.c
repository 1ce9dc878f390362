#include "nm_producer.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_curve.h"
#include "nm_frame.h"
#include "nm_protocol.h"
#include "nm_time.h"

struct nm_producer {
    void *ctx;
    const nm_curve *curve; /* borrowed; NULL: plain */
    void *sock;
    void *monitor; /* PAIR: the socket's disconnect events */
    char endpoint[256];   /* the one in use */
    char endpoints[1024]; /* all of them, comma-separated (failover) */
    int n_endpoints, current;
    int64_t timeout_ms;
    int retries;
    int64_t max_frame_bytes;
    uint64_t next_request_id;
};

/* Connects a PAIR to sock's disconnect events: the queue closes a
 * connection that sends a frame over its limit, and that close is all the
 * sender learns. Returns NULL with err on failure. */
static void *watch_disconnects(void *ctx, void *sock, nm_error *err)
{
    static atomic_ulong serial; /* producers may live in several threads */
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://nm-producer-%p-%lu", sock,
             atomic_fetch_add(&serial, 1));
    void *pair = NULL;
    if (zmq_socket_monitor(sock, endpoint, ZMQ_EVENT_DISCONNECTED) != 0 ||
        !(pair = zmq_socket(ctx, ZMQ_PAIR)) || zmq_connect(pair, endpoint) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "monitoring the producer socket: %s",
                     zmq_strerror(zmq_errno()));
        if (pair)
            zmq_close(pair);
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof linger);
    return pair;
}

/* Consumes the monitor's waiting events; true if one was a disconnect. */
static bool drain_disconnects(void *monitor)
{
    bool seen = false;
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return seen;
        }
        if (zmq_msg_size(&msg) >= 2) { /* event number, then the endpoint frame */
            uint16_t event;
            memcpy(&event, zmq_msg_data(&msg), sizeof event);
            seen |= event == ZMQ_EVENT_DISCONNECTED;
        }
        zmq_msg_close(&msg);
    }
}

static void *open_socket(void *ctx, const char *endpoint, const nm_curve *curve, nm_error *err)
{
    const nm_client_socket_opts opts = {.role = "producer", .peer = "queue", .hwm = 10000,
                                        .immediate = true};
    return nm_curve_client_socket(ctx, endpoint, curve, &opts, err);
}

nm_producer *nm_producer_new(void *zmq_ctx, const char *endpoint, nm_error *err)
{
    return nm_producer_new_curve(zmq_ctx, endpoint, NULL, err);
}

nm_producer *nm_producer_new_curve(void *zmq_ctx, const char *endpoint, const nm_curve *curve,
                                   nm_error *err)
{
    if (!endpoint || !*endpoint)
        endpoint = NM_QUEUE_FRONT_ENDPOINT_DEFAULT;
    if (strlen(endpoint) >= sizeof ((nm_producer *)0)->endpoints) {
        nm_error_set(err, NM_ERR_INVALID, "queue endpoint list too long");
        return NULL;
    }
    int n = nm_endpoint_count(endpoint);
    char first[256];
    for (int i = 0; i < n; i++) { /* each must be usable: checked now, not at failover */
        nm_endpoint_nth(endpoint, i, first, sizeof first);
        void *probe = open_socket(zmq_ctx, first, curve, err);
        if (!probe)
            return NULL;
        zmq_close(probe);
    }
    nm_endpoint_nth(endpoint, 0, first, sizeof first);
    void *sock = open_socket(zmq_ctx, first, curve, err);
    if (!sock)
        return NULL;
    void *monitor = watch_disconnects(zmq_ctx, sock, err);
    if (!monitor) {
        zmq_close(sock);
        return NULL;
    }
    nm_producer *p = nm_xcalloc(1, sizeof *p);
    p->ctx = zmq_ctx;
    p->curve = curve;
    p->sock = sock;
    p->monitor = monitor;
    p->max_frame_bytes = (int64_t)NM_FRAME_MAX_DEFAULT;
    snprintf(p->endpoint, sizeof p->endpoint, "%s", first);
    snprintf(p->endpoints, sizeof p->endpoints, "%s", endpoint);
    p->n_endpoints = n;
    p->timeout_ms = NM_PRODUCER_TIMEOUT_MS_DEFAULT;
    p->retries = NM_PRODUCER_RETRIES_DEFAULT;
    p->next_request_id = 1;
    return p;
}

void nm_producer_destroy(nm_producer **producer)
{
    if (!producer || !*producer)
        return;
    zmq_close((*producer)->sock);
    zmq_close((*producer)->monitor);
    free(*producer);
    *producer = NULL;
}

void nm_producer_set_max_frame(nm_producer *producer, int64_t max_frame_bytes)
{
    producer->max_frame_bytes = max_frame_bytes > 0 ? max_frame_bytes : (int64_t)NM_FRAME_MAX_DEFAULT;
}

void nm_producer_set_timeout(nm_producer *producer, int64_t timeout_ms, int retries)
{
    producer->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    producer->retries = retries > 0 ? retries : 0;
}

nm_errcode nm_producer_errcode(Newsmill__ErrorCode code)
{
    switch (code) {
    case NEWSMILL__ERROR_CODE__ERROR_MALFORMED: return NM_ERR_MALFORMED;
    case NEWSMILL__ERROR_CODE__ERROR_BAD_VERSION: return NM_ERR_VERSION;
    case NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_TYPE: return NM_ERR_UNKNOWN_TYPE;
    case NEWSMILL__ERROR_CODE__ERROR_TOO_LARGE: return NM_ERR_TOO_LARGE;
    case NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST: return NM_ERR_INVALID;
    case NEWSMILL__ERROR_CODE__ERROR_UNKNOWN_LEASE: return NM_ERR_NOT_FOUND;
    case NEWSMILL__ERROR_CODE__ERROR_QUEUE_FULL: return NM_ERR_FULL;
    case NEWSMILL__ERROR_CODE__ERROR_STORAGE: return NM_ERR_IO;
    case NEWSMILL__ERROR_CODE__ERROR_UNAUTHORIZED: return NM_ERR_UNAUTHORIZED;
    default: return NM_ERR_INTERNAL;
    }
}

/* Waits until the socket can send (a connection exists) and sends. */
static int send_envelope(nm_producer *p, Newsmill__Envelope *env, int64_t timeout_ms,
                         nm_error *err)
{
    zmq_pollitem_t item = {p->sock, 0, ZMQ_POLLOUT, 0};
    int64_t deadline_ns = nm_time_mono_ns() + timeout_ms * NM_NS_PER_MS;
    for (;;) {
        nm_error e;
        if (nm_frame_send(p->sock, NULL, env, ZMQ_DONTWAIT, &e) == 0)
            return 0;
        if (e.code != NM_ERR_BUSY) {
            if (err)
                *err = e;
            return -1;
        }
        int64_t left_ms = (deadline_ns - nm_time_mono_ns()) / NM_NS_PER_MS;
        if (left_ms <= 0)
            return nm_error_set(err, NM_ERR_TIMEOUT, "queue at %s is not reachable (waited %lld ms)",
                                p->endpoint, (long long)timeout_ms);
        if (zmq_poll(&item, 1, (long)left_ms) < 0 && zmq_errno() != EINTR)
            return nm_error_set(err, NM_ERR_ZMQ, "polling producer socket: %s",
                                zmq_strerror(zmq_errno()));
    }
}

/* Receives the next envelope within timeout_ms. With stop_on_disconnect,
 * returns -1 with NM_ERR_IO as soon as the connection closes (what was
 * sent on it will not be answered). */
static int recv_envelope_until(nm_producer *p, int64_t timeout_ms, bool stop_on_disconnect,
                               Newsmill__Envelope **env, nm_error *err)
{
    zmq_pollitem_t items[] = {{p->sock, 0, ZMQ_POLLIN, 0}, {p->monitor, 0, ZMQ_POLLIN, 0}};
    int n_items = stop_on_disconnect ? 2 : 1;
    int64_t deadline_ns = nm_time_mono_ns() + timeout_ms * NM_NS_PER_MS;
    for (;;) {
        if (stop_on_disconnect && drain_disconnects(p->monitor))
            return nm_error_set(err, NM_ERR_IO, "the queue at %s closed the connection", p->endpoint);
        nm_error e;
        int rc = nm_frame_recv(p->sock, NULL, NM_FRAME_MAX_DEFAULT, env, ZMQ_DONTWAIT, &e);
        if (rc == 0)
            return 0;
        if (e.code != NM_ERR_BUSY) {
            if (e.code == NM_ERR_ZMQ) {
                if (err)
                    *err = e;
                return -1;
            }
            continue; /* an undecodable reply: skip it, wait for a good one */
        }
        int64_t left_ms = (deadline_ns - nm_time_mono_ns() + NM_NS_PER_MS - 1) / NM_NS_PER_MS;
        if (left_ms <= 0)
            return nm_error_set(err, NM_ERR_TIMEOUT, "no answer from the queue at %s within %lld ms",
                                p->endpoint, (long long)timeout_ms);
        if (zmq_poll(items, n_items, (long)left_ms) < 0 && zmq_errno() != EINTR)
            return nm_error_set(err, NM_ERR_ZMQ, "polling producer socket: %s",
                                zmq_strerror(zmq_errno()));
    }
}

static int recv_envelope(nm_producer *p, int64_t timeout_ms, Newsmill__Envelope **env,
                         nm_error *err)
{
    return recv_envelope_until(p, timeout_ms, false, env, err);
}

/* Refuses, before sending, a request the queue would refuse by closing the
 * connection (a frame over its --max-frame-bytes). */
static int check_frame_size(const nm_producer *p, const Newsmill__Envelope *env, nm_error *err)
{
    size_t len = newsmill__envelope__get_packed_size(env);
    if ((int64_t)len <= p->max_frame_bytes)
        return 0;
    return nm_error_set(err, NM_ERR_TOO_LARGE,
                        "request of %zu bytes is over the frame limit of %lld bytes (the queue's "
                        "--max-frame-bytes): send fewer or smaller articles per batch",
                        len, (long long)p->max_frame_bytes);
}

/* Replaces the socket: drops whatever is queued for a dead connection.
 * With several endpoints, moves to the next one (failover). */
static int reconnect(nm_producer *p, nm_error *err)
{
    if (p->n_endpoints > 1) {
        p->current = (p->current + 1) % p->n_endpoints;
        nm_endpoint_nth(p->endpoints, p->current, p->endpoint, sizeof p->endpoint);
    }
    void *sock = open_socket(p->ctx, p->endpoint, p->curve, err);
    if (!sock)
        return -1;
    void *monitor = watch_disconnects(p->ctx, sock, err);
    if (!monitor) {
        zmq_close(sock);
        return -1;
    }
    zmq_close(p->sock);
    zmq_close(p->monitor);
    p->sock = sock;
    p->monitor = monitor;
    return 0;
}

int nm_producer_failover(nm_producer *producer, nm_error *err)
{
    return producer->n_endpoints > 1 ? reconnect(producer, err) : 0;
}

/* Sends env and waits for the reply with the same request id, resending on
 * timeout. On success *reply is the caller's and its body is `expect` or an
 * ErrorReply turned into -1. */
static int request(nm_producer *p, Newsmill__Envelope *env, Newsmill__Envelope__BodyCase expect,
                   Newsmill__Envelope **reply, nm_error *err)
{
    *reply = NULL;
    if (check_frame_size(p, env, err) != 0)
        return -1;
    env->request_id = p->next_request_id++;
    nm_error e;
    nm_error_clear(&e);
    int closed = 0; /* attempts that ended with the queue closing the connection */
    /* every endpoint of a list gets its turn, whatever the retries */
    int attempts = p->retries + 1 > p->n_endpoints ? p->retries + 1 : p->n_endpoints;
    for (int attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0 && reconnect(p, err) != 0)
            return -1;
        drain_disconnects(p->monitor); /* closes before this attempt are not its answer */
        int64_t deadline_ns = nm_time_mono_ns() + p->timeout_ms * NM_NS_PER_MS;
        if (send_envelope(p, env, p->timeout_ms, &e) != 0) {
            if (e.code == NM_ERR_TIMEOUT)
                continue;
            break;
        }
        for (;;) {
            int64_t left_ms = (deadline_ns - nm_time_mono_ns()) / NM_NS_PER_MS;
            Newsmill__Envelope *r;
            if (left_ms <= 0 || recv_envelope_until(p, left_ms, true, &r, &e) != 0)
                break;
            if (r->request_id != env->request_id) {
                nm_frame_free(&r); /* a late answer to something given up on */
                continue;
            }
            if (r->body_case == NEWSMILL__ENVELOPE__BODY_ERROR) {
                nm_error_set(err, nm_producer_errcode(r->error->code), "queue refused: %s",
                             r->error->message);
                nm_frame_free(&r);
                return -1;
            }
            if (r->body_case != expect) {
                nm_error_set(err, NM_ERR_MALFORMED, "queue answered %s, expected %s",
                             nm_frame_body_name(r->body_case), nm_frame_body_name(expect));
                nm_frame_free(&r);
                return -1;
            }
            *reply = r;
            return 0;
        }
        if (e.code == NM_ERR_IO) { /* closed: try again on a new connection */
            closed++;
            continue;
        }
        if (e.code != NM_ERR_TIMEOUT && e.code != NM_OK)
            break;
    }
    if (closed == attempts)
        return nm_error_set(err, NM_ERR_TOO_LARGE,
                            "the queue at %s closed the connection on each of %d attempt(s) "
                            "instead of answering a request of %zu bytes: it closes connections "
                            "that send a frame over twice its --max-frame-bytes",
                            p->endpoint, closed, newsmill__envelope__get_packed_size(env));
    if (e.code == NM_ERR_TIMEOUT || e.code == NM_OK)
        return nm_error_set(err, NM_ERR_TIMEOUT,
                            "no answer from the queue at %s after %d attempt(s) of %lld ms",
                            p->endpoints, attempts, (long long)p->timeout_ms);
    if (err)
        *err = e;
    return -1;
}

static void submit_envelope(Newsmill__Envelope *env, Newsmill__SubmitBatch *batch,
                            Newsmill__Article *const *articles, size_t n)
{
    batch->articles = (Newsmill__Article **)articles;
    batch->n_articles = n;
    env->body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT;
    env->submit = batch;
}

/* Takes the SubmitAck out of a reply envelope and frees the rest. */
static Newsmill__SubmitAck *detach_ack(Newsmill__Envelope **reply)
{
    Newsmill__SubmitAck *ack = (*reply)->submit_ack;
    (*reply)->submit_ack = NULL;
    (*reply)->body_case = NEWSMILL__ENVELOPE__BODY__NOT_SET;
    nm_frame_free(reply);
    return ack;
}

int nm_producer_submit(nm_producer *producer, Newsmill__Article *const *articles, size_t n,
                       Newsmill__SubmitAck **ack, nm_error *err)
{
    *ack = NULL;
    Newsmill__SubmitBatch batch = NEWSMILL__SUBMIT_BATCH__INIT;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    submit_envelope(&env, &batch, articles, n);
    Newsmill__Envelope *reply;
    if (request(producer, &env, NEWSMILL__ENVELOPE__BODY_SUBMIT_ACK, &reply, err) != 0)
        return -1;
    if (reply->submit_ack->n_acks != n) {
        nm_error_set(err, NM_ERR_MALFORMED, "queue acked %zu articles of a batch of %zu",
                     reply->submit_ack->n_acks, n);
        nm_frame_free(&reply);
        return -1;
    }
    *ack = detach_ack(&reply);
    return 0;
}

void nm_producer_ack_free(Newsmill__SubmitAck **ack)
{
    if (ack && *ack) {
        newsmill__submit_ack__free_unpacked(*ack, NULL);
        *ack = NULL;
    }
}

int nm_producer_send(nm_producer *producer, Newsmill__Article *const *articles, size_t n,
                     uint64_t *request_id, nm_error *err)
{
    Newsmill__SubmitBatch batch = NEWSMILL__SUBMIT_BATCH__INIT;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    submit_envelope(&env, &batch, articles, n);
    if (check_frame_size(producer, &env, err) != 0)
        return -1;
    env.request_id = producer->next_request_id++;
    if (send_envelope(producer, &env, producer->timeout_ms, err) != 0)
        return -1;
    *request_id = env.request_id;
    return 0;
}

int nm_producer_recv(nm_producer *producer, int64_t timeout_ms, uint64_t *request_id,
                     Newsmill__SubmitAck **ack, nm_error *err)
{
    *request_id = 0;
    *ack = NULL;
    Newsmill__Envelope *r;
    if (recv_envelope(producer, timeout_ms, &r, err) != 0)
        return -1;
    *request_id = r->request_id;
    if (r->body_case == NEWSMILL__ENVELOPE__BODY_SUBMIT_ACK) {
        *ack = detach_ack(&r);
        return 0;
    }
    if (r->body_case == NEWSMILL__ENVELOPE__BODY_ERROR)
        nm_error_set(err, nm_producer_errcode(r->error->code), "queue refused: %s",
                     r->error->message);
    else
        nm_error_set(err, NM_ERR_MALFORMED, "queue answered %s to a submit",
                     nm_frame_body_name(r->body_case));
    if (*request_id == 0)
        *request_id = UINT64_MAX; /* an error not tied to a request: still an answer */
    nm_frame_free(&r);
    return -1;
}

int nm_producer_dead_list(nm_producer *producer, uint32_t limit, const char *id,
                          Newsmill__DeadList **list, nm_error *err)
{
    *list = NULL;
    Newsmill__DeadListRequest req = NEWSMILL__DEAD_LIST_REQUEST__INIT;
    req.limit = limit;
    req.id = (char *)(id ? id : "");
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_DEAD_LIST_REQUEST;
    env.dead_list_request = &req;
    Newsmill__Envelope *reply;
    if (request(producer, &env, NEWSMILL__ENVELOPE__BODY_DEAD_LIST, &reply, err) != 0)
        return -1;
    *list = reply->dead_list;
    reply->dead_list = NULL;
    reply->body_case = NEWSMILL__ENVELOPE__BODY__NOT_SET;
    nm_frame_free(&reply);
    return 0;
}

void nm_producer_dead_list_free(Newsmill__DeadList **list)
{
    if (list && *list) {
        newsmill__dead_list__free_unpacked(*list, NULL);
        *list = NULL;
    }
}

int nm_producer_requeue(nm_producer *producer, const char *const *ids, size_t n, bool all,
                        Newsmill__RequeueReply **reply, nm_error *err)
{
    *reply = NULL;
    Newsmill__RequeueRequest req = NEWSMILL__REQUEUE_REQUEST__INIT;
    req.ids = (char **)ids;
    req.n_ids = n;
    req.all = all;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_REQUEUE;
    env.requeue = &req;
    Newsmill__Envelope *r;
    if (request(producer, &env, NEWSMILL__ENVELOPE__BODY_REQUEUE_REPLY, &r, err) != 0)
        return -1;
    *reply = r->requeue_reply;
    r->requeue_reply = NULL;
    r->body_case = NEWSMILL__ENVELOPE__BODY__NOT_SET;
    nm_frame_free(&r);
    return 0;
}

void nm_producer_requeue_free(Newsmill__RequeueReply **reply)
{
    if (reply && *reply) {
        newsmill__requeue_reply__free_unpacked(*reply, NULL);
        *reply = NULL;
    }
}

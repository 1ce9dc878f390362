#include "nm_consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_curve.h"
#include "nm_frame.h"
#include "nm_log.h"
#include "nm_protocol.h"
#include "nm_time.h"

struct nm_consumer {
    void *sock;
    void *ctx;
    const nm_curve *curve;
    char endpoints[1024]; /* the list given, comma-separated */
    char endpoint[256];   /* the one in use */
    int n_endpoints, current;
    int64_t failover_ns;   /* silence after which the next endpoint is tried */
    int64_t last_heard_ns; /* anything from the queue in use */
    uint64_t failovers;
    char worker[128];
    char host[64];
    uint32_t capacity;
    uint32_t held;        /* delivered, not yet settled */
    uint32_t promised;    /* credit announced and not yet used by a delivery */
    bool draining;
    int64_t heartbeat_ns;
    int64_t next_heartbeat_ns;
    uint64_t next_request_id;
    uint64_t unknown_leases;
    uint64_t reannounces;
};

static int send_env(nm_consumer *c, Newsmill__Envelope *env, nm_error *err)
{
    if (!env->request_id)
        env->request_id = c->next_request_id++;
    return nm_frame_send(c->sock, NULL, env, ZMQ_DONTWAIT, err);
}

/* Announces `credit` more slots, or (reset) exactly `credit` slots. */
static int send_credit(nm_consumer *c, uint32_t credit, bool reset, nm_error *err)
{
    Newsmill__Credit cr = NEWSMILL__CREDIT__INIT;
    cr.credit = credit;
    cr.worker = c->worker;
    cr.host = c->host;
    cr.pid = (uint32_t)getpid();
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_CREDIT;
    env.credit = &cr;
    if (reset)
        env.request_id = NM_REQUEST_CREDIT_RESET_BIT | c->next_request_id++;
    if (send_env(c, &env, err) != 0)
        return -1;
    c->promised = reset ? credit : c->promised + credit;
    return 0;
}

/* Tops the credit up to capacity - held (nothing while draining). */
static int top_up(nm_consumer *c, nm_error *err)
{
    if (c->draining || c->held + c->promised >= c->capacity)
        return 0;
    return send_credit(c, c->capacity - c->held - c->promised, false, err);
}

static int send_heartbeat(nm_consumer *c, nm_error *err)
{
    Newsmill__Heartbeat hb = NEWSMILL__HEARTBEAT__INIT;
    hb.in_flight = c->held;
    hb.draining = c->draining;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    env.request_id = NM_REQUEST_HEARTBEAT_BIT | NM_REQUEST_ECHO_BIT | c->next_request_id++;
    c->next_heartbeat_ns = nm_time_mono_ns() + c->heartbeat_ns;
    return send_env(c, &env, err);
}

static void *open_socket(void *ctx, const char *endpoint, const nm_curve *curve, nm_error *err)
{
    const nm_client_socket_opts opts = {.role = "consumer", .peer = "queue", .hwm = 100000};
    return nm_curve_client_socket(ctx, endpoint, curve, &opts, err);
}

/* The hello to a queue: a reset Credit of what we can take (queued by the
 * DEALER until the connection is up), or only a draining heartbeat. */
static void hello(nm_consumer *c)
{
    c->last_heard_ns = nm_time_mono_ns();
    if (c->draining)
        send_heartbeat(c, NULL);
    else
        send_credit(c, c->held < c->capacity ? c->capacity - c->held : 0, true, NULL);
}

nm_consumer *nm_consumer_new(void *zmq_ctx, const nm_consumer_config *cfg, nm_error *err)
{
    const char *list = cfg->endpoint && *cfg->endpoint ? cfg->endpoint
                                                       : NM_QUEUE_BACK_ENDPOINT_DEFAULT;
    nm_consumer *c = nm_xcalloc(1, sizeof *c);
    if (strlen(list) >= sizeof c->endpoints) {
        free(c);
        nm_error_set(err, NM_ERR_INVALID, "queue endpoint list too long");
        return NULL;
    }
    snprintf(c->endpoints, sizeof c->endpoints, "%s", list);
    c->n_endpoints = nm_endpoint_count(list);
    for (int i = c->n_endpoints - 1; i >= 0; i--) { /* each checked now, not at failover */
        nm_endpoint_nth(list, i, c->endpoint, sizeof c->endpoint);
        void *sock = open_socket(zmq_ctx, c->endpoint, cfg->curve, err);
        if (!sock) {
            free(c);
            return NULL;
        }
        if (i == 0)
            c->sock = sock;
        else
            zmq_close(sock);
    }
    c->ctx = zmq_ctx;
    c->curve = cfg->curve;
    if (gethostname(c->host, sizeof c->host) != 0)
        snprintf(c->host, sizeof c->host, "localhost");
    c->host[sizeof c->host - 1] = '\0';
    if (cfg->worker && *cfg->worker)
        snprintf(c->worker, sizeof c->worker, "%s", cfg->worker);
    else
        snprintf(c->worker, sizeof c->worker, "%s:%ld", c->host, (long)getpid());
    c->capacity = cfg->capacity ? cfg->capacity : 1;
    c->heartbeat_ns = (cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : NM_CONSUMER_HEARTBEAT_MS_DEFAULT) *
                      NM_NS_PER_MS;
    c->failover_ns = cfg->failover_ms > 0 ? cfg->failover_ms * NM_NS_PER_MS : 5 * c->heartbeat_ns;
    c->next_request_id = 1;
    hello(c);
    c->next_heartbeat_ns = nm_time_mono_ns() + c->heartbeat_ns;
    return c;
}

/* The queue in use said nothing for failover_ns: move to the next one of
 * the list. Leases from the old one are void there: settling them is
 * answered with unknown leases, and the old queue's store gives the
 * articles again (JetStream: after the ack wait). */
static void failover(nm_consumer *c, int64_t silent_ns)
{
    int next = (c->current + 1) % c->n_endpoints;
    char endpoint[256];
    nm_endpoint_nth(c->endpoints, next, endpoint, sizeof endpoint);
    nm_error e;
    void *sock = open_socket(c->ctx, endpoint, c->curve, &e);
    if (!sock) { /* checked at start: not expected */
        nm_log_error("cannot move to queue %s: %s", endpoint, e.msg);
        c->last_heard_ns = nm_time_mono_ns();
        return;
    }
    nm_log_warn("queue at %s silent for %lld ms: moving to %s worker=%s held=%u", c->endpoint,
                (long long)(silent_ns / NM_NS_PER_MS), endpoint, c->worker, c->held);
    int linger = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(c->sock);
    c->sock = sock;
    c->current = next;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    c->failovers++;
    c->promised = 0;
    hello(c);
}

void nm_consumer_destroy(nm_consumer **consumer)
{
    if (!consumer || !*consumer)
        return;
    /* Goodbye: a draining heartbeat so the queue stops sending us work,
     * given a moment to leave. */
    nm_consumer *c = *consumer;
    c->draining = true;
    send_heartbeat(c, NULL);
    int linger = 100;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close((*consumer)->sock);
    free(*consumer);
    *consumer = NULL;
}

void *nm_consumer_socket(nm_consumer *consumer)
{
    return consumer->sock;
}

/* The queue does not know us: whatever it promised is void. */
static void reannounce(nm_consumer *c)
{
    c->reannounces++;
    nm_log_info("queue asked for credit again worker=%s held=%u", c->worker, c->held);
    if (c->draining)
        send_heartbeat(c, NULL);
    else
        send_credit(c, c->held < c->capacity ? c->capacity - c->held : 0, true, NULL);
}

int nm_consumer_recv(nm_consumer *consumer, Newsmill__Delivery **delivery, nm_error *err)
{
    *delivery = NULL;
    for (;;) {
        Newsmill__Envelope *env;
        nm_error e;
        if (nm_frame_recv(consumer->sock, NULL, NM_FRAME_MAX_DEFAULT, &env, ZMQ_DONTWAIT, &e) != 0) {
            if (e.code == NM_ERR_BUSY)
                return 0;
            if (e.code == NM_ERR_ZMQ) {
                if (err)
                    *err = e;
                return -1;
            }
            nm_log_warn("undecodable message from queue: %s", e.msg);
            continue;
        }
        consumer->last_heard_ns = nm_time_mono_ns();
        switch (env->body_case) {
        case NEWSMILL__ENVELOPE__BODY_HEARTBEAT: /* the answer to ours: it is alive */
            break;
        case NEWSMILL__ENVELOPE__BODY_DELIVERY:
            *delivery = env->delivery;
            env->delivery = NULL;
            env->body_case = NEWSMILL__ENVELOPE__BODY__NOT_SET;
            nm_frame_free(&env);
            consumer->held++;
            if (consumer->promised)
                consumer->promised--;
            return 1;
        case NEWSMILL__ENVELOPE__BODY_LEASE_REPLY:
            consumer->unknown_leases += env->lease_reply->n_unknown_lease_ids;
            nm_log_warn("queue does not know %zu lease(s) we settled (expired or from before a "
                        "restart; the articles are redelivered)",
                        env->lease_reply->n_unknown_lease_ids);
            break;
        case NEWSMILL__ENVELOPE__BODY_ERROR:
            if ((env->request_id & NM_REQUEST_HEARTBEAT_BIT) &&
                env->error->code == NEWSMILL__ERROR_CODE__ERROR_BAD_REQUEST)
                reannounce(consumer);
            else
                nm_log_warn("queue error code=%d: %s", (int)env->error->code, env->error->message);
            break;
        default:
            nm_log_warn("unexpected %s from queue ignored", nm_frame_body_name(env->body_case));
            break;
        }
        nm_frame_free(&env);
    }
}

void nm_consumer_delivery_free(Newsmill__Delivery **delivery)
{
    if (delivery && *delivery) {
        newsmill__delivery__free_unpacked(*delivery, NULL);
        *delivery = NULL;
    }
}

static void release(nm_consumer *c, size_t n)
{
    c->held = n >= c->held ? 0 : c->held - (uint32_t)n;
}

int nm_consumer_done(nm_consumer *consumer, const uint64_t *lease_ids, size_t n, nm_error *err)
{
    if (n == 0)
        return 0;
    Newsmill__Done done = NEWSMILL__DONE__INIT;
    done.lease_ids = (uint64_t *)lease_ids;
    done.n_lease_ids = n;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_DONE;
    env.done = &done;
    int rc = send_env(consumer, &env, err);
    release(consumer, n);
    if (top_up(consumer, rc == 0 ? err : NULL) != 0)
        rc = -1;
    return rc;
}

int nm_consumer_fail(nm_consumer *consumer, uint64_t lease_id, const char *reason, bool retryable,
                     nm_error *err)
{
    Newsmill__Fail f = NEWSMILL__FAIL__INIT;
    f.lease_id = lease_id;
    f.reason = (char *)(reason ? reason : "");
    f.retryable = retryable;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_FAIL;
    env.fail = &f;
    int rc = send_env(consumer, &env, err);
    release(consumer, 1);
    if (top_up(consumer, rc == 0 ? err : NULL) != 0)
        rc = -1;
    return rc;
}

int nm_consumer_extend(nm_consumer *consumer, const uint64_t *lease_ids, size_t n,
                       uint32_t lease_ms, nm_error *err)
{
    if (n == 0)
        return 0;
    Newsmill__ExtendLease x = NEWSMILL__EXTEND_LEASE__INIT;
    x.lease_ids = (uint64_t *)lease_ids;
    x.n_lease_ids = n;
    x.lease_ms = lease_ms;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.body_case = NEWSMILL__ENVELOPE__BODY_EXTEND;
    env.extend = &x;
    return send_env(consumer, &env, err);
}

long nm_consumer_tick(nm_consumer *consumer)
{
    int64_t now = nm_time_mono_ns();
    if (consumer->n_endpoints > 1 && now - consumer->last_heard_ns > consumer->failover_ns)
        failover(consumer, now - consumer->last_heard_ns);
    if (now >= consumer->next_heartbeat_ns) {
        send_heartbeat(consumer, NULL);
        top_up(consumer, NULL);
        now = nm_time_mono_ns();
    }
    int64_t left_ns = consumer->next_heartbeat_ns - now;
    return left_ns <= 0 ? 0 : (long)((left_ns + NM_NS_PER_MS - 1) / NM_NS_PER_MS);
}

void nm_consumer_drain(nm_consumer *consumer)
{
    if (consumer->draining)
        return;
    consumer->draining = true;
    consumer->promised = 0;
    send_heartbeat(consumer, NULL);
}

uint32_t nm_consumer_in_flight(const nm_consumer *consumer)
{
    return consumer->held;
}

uint64_t nm_consumer_unknown_leases(const nm_consumer *consumer)
{
    return consumer->unknown_leases;
}

uint64_t nm_consumer_reannounces(const nm_consumer *consumer)
{
    return consumer->reannounces;
}

uint64_t nm_consumer_failovers(const nm_consumer *consumer)
{
    return consumer->failovers;
}

const char *nm_consumer_endpoint(const nm_consumer *consumer)
{
    return consumer->endpoint;
}

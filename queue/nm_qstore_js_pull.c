/* nm_qstore_js_pull: how the JetStream store takes messages and settles
 * them (see nm_qstore_js_int.h).
 *
 * Why not natsSubscription_Fetch: a fetch blocks its caller until the batch
 * is full or the request expires, and nats-server 2.9 holds a request it
 * cannot fill at once until it expires, so the reactor stopped for the
 * whole expiry on every turn that found fewer messages than it asked for
 * (while the dones that would free more waited behind it): 105-144
 * articles/s out of a 5,000-article backlog. Here the reactor sends pull
 * requests and never waits for them: the client library's thread queues
 * what the server sends and wakes the reactor through a pipe.
 *
 * Messages reach us on a plain subscription, so settling them uses their
 * ack subject directly ("+ACK", "-NAK", "+WPI": the JetStream protocol);
 * the library's natsMsg_Ack family accepts only its own subscriptions'. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_qstore_js_int.h"

/* ---- what the server sends, queued by the library's thread ---- */

static void on_delivery(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)nc;
    (void)sub;
    js_store *s = closure;
    pthread_mutex_lock(&s->pull_mu);
    if (s->n_arrived == s->cap_arrived) {
        s->cap_arrived = s->cap_arrived ? 2 * s->cap_arrived : 256;
        s->arrived = nm_xrealloc(s->arrived, s->cap_arrived * sizeof *s->arrived);
    }
    s->arrived[s->n_arrived++] = m;
    if (!s->wake_pending) {
        s->wake_pending = true;
        ssize_t w = write(s->wake_pipe[1], "w", 1);
        (void)w; /* full pipe: the reactor is woken already */
    }
    pthread_mutex_unlock(&s->pull_mu);
}

int nm_js_wake_fd(const nm_qstore *st)
{
    return ((const js_store *)st)->wake_pipe[0];
}

void nm_js_wake_clear(nm_qstore *st)
{
    js_store *s = jss(st);
    char buf[64];
    pthread_mutex_lock(&s->pull_mu);
    while (read(s->wake_pipe[0], buf, sizeof buf) > 0)
        ;
    s->wake_pending = false;
    pthread_mutex_unlock(&s->pull_mu);
}

/* ---- pull requests ---- */

/* The request a status message ends: the number after the inbox. (A
 * delivery carries the article's own subject, not the request's.) */
static js_pull_request *request_named(js_store *s, const char *subject)
{
    const char *dot = strrchr(subject, '.');
    if (!dot)
        return NULL;
    uint64_t id = strtoull(dot + 1, NULL, 10);
    for (size_t i = 0; i < s->n_requests; i++)
        if (s->requests[i].id == id)
            return &s->requests[i];
    return NULL;
}

/* Requests stay in the order sent (the server fills them in that order). */
static void forget_request(js_store *s, js_pull_request *r)
{
    size_t i = (size_t)(r - s->requests);
    memmove(r, r + 1, (s->n_requests - i - 1) * sizeof *r);
    s->n_requests--;
}

/* What the live requests may still bring. A request stops counting
 * JS_PULL_RENEW_MS before it expires, so that its successor is at the
 * server before it goes. */
static int64_t outstanding(js_store *s, int64_t now_ns)
{
    int64_t n = 0;
    for (size_t i = 0; i < s->n_requests;) {
        js_pull_request *r = &s->requests[i];
        if (now_ns > r->expires_ns) {
            forget_request(s, r);
            continue;
        }
        if (now_ns < r->expires_ns - (int64_t)JS_PULL_RENEW_MS * 1000000)
            n += r->batch - r->got;
        i++;
    }
    return n;
}

static void send_request(js_store *s, int64_t batch, int64_t now_ns)
{
    if (s->n_requests == JS_PULL_REQUESTS)
        forget_request(s, &s->requests[0]);
    js_pull_request *r = &s->requests[s->n_requests];
    r->id = ++s->next_request;
    r->batch = batch;
    r->got = 0;
    r->expires_ns = now_ns + (int64_t)JS_PULL_EXPIRES_MS * 1000000;
    char reply[200], body[96];
    snprintf(reply, sizeof reply, "%s.%" PRIu64, s->pull_inbox, r->id);
    snprintf(body, sizeof body, "{\"batch\":%" PRId64 ",\"expires\":%" PRId64 "}", batch,
             (int64_t)JS_PULL_EXPIRES_MS * 1000000);
    natsStatus rc = natsConnection_PublishRequestString(s->nc, s->next_subject, reply, body);
    if (rc != NATS_OK) {
        nm_log_warn("JetStream: pull request failed: %s", natsStatus_GetText(rc));
        return;
    }
    s->n_requests++;
}

/* Moves what arrived to the reactor's own queue, counting each delivery to
 * its request and closing requests the server ended (a status message: 404
 * no messages, 408 expired, 409 and the like). */
static void take_arrived(js_store *s)
{
    /* the two lists trade places: neither is allocated again per turn */
    pthread_mutex_lock(&s->pull_mu);
    natsMsg **got = s->arrived;
    size_t n = s->n_arrived, cap = s->cap_arrived;
    s->arrived = s->taken;
    s->cap_arrived = s->cap_taken;
    s->n_arrived = 0;
    pthread_mutex_unlock(&s->pull_mu);
    s->taken = got;
    s->cap_taken = cap;
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = got[i];
        const char *status = NULL;
        if (natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status && *status) {
            js_pull_request *r = request_named(s, natsMsg_GetSubject(m));
            if (r)
                forget_request(s, r);
            natsMsg_Destroy(m);
            continue;
        }
        /* a delivery: to the oldest live request */
        if (s->n_requests && ++s->requests[0].got >= s->requests[0].batch)
            forget_request(s, &s->requests[0]);
        if (s->n_ready == s->cap_ready) {
            s->cap_ready = s->cap_ready ? 2 * s->cap_ready : 256;
            s->ready = nm_xrealloc(s->ready, s->cap_ready * sizeof *s->ready);
        }
        s->ready[s->n_ready++] = m;
    }
}

static void hold(js_store *s, natsMsg *m, uint64_t seq)
{
    natsMsg *old = nm_u64map_get(&s->held, seq);
    if (old)
        natsMsg_Destroy(old); /* redelivered: the newest delivery is the one to ack */
    nm_u64map_put(&s->held, seq, m);
}

int nm_js_scan_ready(nm_qstore *st, int64_t now_unix_ms, size_t limit,
                     void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen, nm_error *err)
{
    (void)now_unix_ms;
    (void)err;
    js_store *s = jss(st);
    *n_seen = 0;
    js_acks_check(s);
    take_arrived(s);
    size_t i = 0;
    for (; i < s->n_ready && *n_seen < limit; i++) {
        natsMsg *m = s->ready[i];
        js_meta meta;
        if (js_meta_parse(m, &meta) != 0) {
            nm_log_warn("JetStream: a delivery without an ack subject (subject %s): dropped",
                        natsMsg_GetSubject(m));
            natsMsg_Destroy(m);
            continue;
        }
        hold(s, m, meta.stream_seq);
        fn(arg, (int64_t)meta.stream_seq);
        (*n_seen)++;
    }
    if (i > 0) {
        memmove(s->ready, s->ready + i, (s->n_ready - i) * sizeof *s->ready);
        s->n_ready -= i;
    }
    if (*n_seen < limit && js_ready(s, NULL) == 0) {
        /* Ask for the rest: what the workers can take now, less what the
         * live requests may still bring. */
        int64_t now = nm_time_mono_ns();
        int64_t coming = outstanding(s, now);
        int64_t want = (int64_t)(limit - *n_seen) - coming;
        /* not a request per returned credit: a batch worth the round trip,
         * or whatever is wanted when nothing is asked for */
        if (want >= JS_PULL_MIN_BATCH || (want > 0 && coming == 0))
            send_request(s, want > JS_PULL_MAX_BATCH ? JS_PULL_MAX_BATCH : want, now);
    }
    return 0;
}

/* ---- metadata and settling by the ack subject ---- */

int js_meta_parse(natsMsg *m, js_meta *out)
{
    /* $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>,
     * or with <domain>.<account hash> before the stream (and a token after
     * pending) in the newer form: the numbers are the 5 tokens after the
     * consumer either way. */
    const char *reply = natsMsg_GetReply(m);
    static const char prefix[] = "$JS.ACK.";
    if (!reply || strncmp(reply, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *tok[12];
    size_t n = 0;
    for (const char *p = reply + sizeof prefix - 1; p && n < 12; n++) {
        tok[n] = p;
        p = strchr(p, '.');
        if (p)
            p++;
    }
    size_t first;
    if (n == 7)
        first = 2;
    else if (n >= 9)
        first = 4;
    else
        return -1;
    out->delivered = strtoull(tok[first], NULL, 10);
    out->stream_seq = strtoull(tok[first + 1], NULL, 10);
    out->timestamp_ns = strtoll(tok[first + 3], NULL, 10);
    return out->stream_seq > 0 ? 0 : -1;
}

int js_ack_sync(js_store *s, natsMsg *m, nm_error *err)
{
    natsMsg *reply = NULL;
    natsStatus rc = natsConnection_RequestString(&reply, s->nc, natsMsg_GetReply(m), "+ACK",
                                                 JS_WAIT_MS);
    if (rc == NATS_OK && natsMsg_IsNoResponders(reply))
        rc = NATS_NO_RESPONDERS;
    natsMsg_Destroy(reply);
    return rc == NATS_OK ? 0 : nats_fail(s, err, rc, 0, "acknowledging");
}

natsStatus js_nak(js_store *s, natsMsg *m, int64_t delay_ms)
{
    char body[64];
    if (delay_ms > 0)
        snprintf(body, sizeof body, "-NAK {\"delay\":%" PRId64 "}", delay_ms * 1000000);
    else
        snprintf(body, sizeof body, "-NAK");
    return natsConnection_PublishString(s->nc, natsMsg_GetReply(m), body);
}

natsStatus js_in_progress(js_store *s, natsMsg *m)
{
    return natsConnection_PublishString(s->nc, natsMsg_GetReply(m), "+WPI");
}

/* ---- acks of done: sent together, confirmed without waiting ---- */

static void send_ack(js_store *s, natsMsg *m, int tries)
{
    uint64_t id = ++s->next_ack_id;
    char reply[200];
    snprintf(reply, sizeof reply, "%s.%" PRIu64, s->ack_inbox, id);
    natsStatus rc = natsConnection_PublishRequestString(s->nc, natsMsg_GetReply(m), reply, "+ACK");
    if (rc != NATS_OK)
        nm_log_warn("JetStream: sending an ack failed (%s): sent again in %d ms",
                    natsStatus_GetText(rc), JS_WAIT_MS);
    nm_u64map_put(&s->unconfirmed, id, m);
    if (s->sent_head > 0 && s->n_sent == s->cap_sent) {
        memmove(s->sent, s->sent + s->sent_head, (s->n_sent - s->sent_head) * sizeof *s->sent);
        s->n_sent -= s->sent_head;
        s->sent_head = 0;
    }
    if (s->n_sent == s->cap_sent) {
        s->cap_sent = s->cap_sent ? 2 * s->cap_sent : 256;
        s->sent = nm_xrealloc(s->sent, s->cap_sent * sizeof *s->sent);
    }
    s->sent[s->n_sent++] =
        (js_sent_ack){id, nm_time_mono_ns() + (int64_t)JS_WAIT_MS * 1000000, tries};
}

void js_acks_send(js_store *s)
{
    js_acks_check(s);
    for (size_t i = 0; i < s->n_acks; i++)
        send_ack(s, s->acks[i], 1);
    s->n_acks = 0;
}

static void read_confirmations(js_store *s, int64_t wait_ms)
{
    natsMsg *r = NULL;
    while (natsSubscription_NextMsg(&r, s->ack_sub, wait_ms) == NATS_OK) {
        const char *dot = strrchr(natsMsg_GetSubject(r), '.');
        uint64_t id = dot ? strtoull(dot + 1, NULL, 10) : 0;
        /* no responders: not confirmed, sent again at its deadline */
        if (id && !natsMsg_IsNoResponders(r))
            natsMsg_Destroy(nm_u64map_del(&s->unconfirmed, id));
        natsMsg_Destroy(r);
        r = NULL;
        if (wait_ms > 0 && s->unconfirmed.n == 0)
            break;
    }
}

void js_acks_check(js_store *s)
{
    if (s->unconfirmed.n == 0)
        return;
    read_confirmations(s, 0);
    int64_t now = nm_time_mono_ns();
    while (s->sent_head < s->n_sent && s->sent[s->sent_head].deadline_ns <= now) {
        js_sent_ack a = s->sent[s->sent_head++];
        natsMsg *m = nm_u64map_del(&s->unconfirmed, a.id);
        if (!m)
            continue; /* confirmed */
        if (a.tries < JS_ACK_TRIES && js_ready(s, NULL) == 0) {
            send_ack(s, m, a.tries + 1);
            continue;
        }
        js_meta meta = {0};
        js_meta_parse(m, &meta);
        nm_log_warn("JetStream: the ack of seq %" PRIu64 " was not confirmed after %d sends: "
                    "it comes back after the ack wait and is stored again",
                    meta.stream_seq, a.tries);
        natsMsg_Destroy(m);
    }
    if (s->sent_head == s->n_sent)
        s->sent_head = s->n_sent = 0;
}

void js_acks_close(js_store *s)
{
    if (s->ack_sub && s->unconfirmed.n > 0 && js_ready(s, NULL) == 0)
        read_confirmations(s, JS_WAIT_MS);
    nm_u64map_clear_with(&s->unconfirmed, js_msg_destroy);
    free(s->sent);
}

/* ---- opening and closing ---- */

int js_pull_open(js_store *s, nm_error *err)
{
    if (pipe(s->wake_pipe) != 0)
        return nm_error_set(err, NM_ERR_IO, "JetStream: creating the wake pipe: %s",
                            strerror(errno));
    for (int i = 0; i < 2; i++) {
        fcntl(s->wake_pipe[i], F_SETFL, fcntl(s->wake_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(s->wake_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    pthread_mutex_init(&s->pull_mu, NULL);
    s->pull_open = true;
    snprintf(s->next_subject, sizeof s->next_subject, "$JS.API.CONSUMER.MSG.NEXT.%s.%s",
             JS_STREAM, JS_CONSUMER);
    natsInbox *inbox = NULL;
    natsStatus rc = natsInbox_Create(&inbox);
    if (rc == NATS_OK) {
        char subject[160];
        snprintf(s->pull_inbox, sizeof s->pull_inbox, "%s", (const char *)inbox);
        snprintf(subject, sizeof subject, "%s.*", s->pull_inbox);
        rc = natsConnection_Subscribe(&s->pull_sub, s->nc, subject, on_delivery, s);
    }
    natsInbox_Destroy(inbox);
    return rc == NATS_OK ? 0 : nats_fail(s, err, rc, 0, "subscribing to deliveries");
}

/* Gives back at once what was delivered to this front and never handed to
 * a worker, rather than have it wait out the ack wait. */
void js_pull_close(js_store *s)
{
    if (!s->pull_open)
        return;
    if (s->pull_sub) {
        natsSubscription_Unsubscribe(s->pull_sub);
        natsSubscription_Destroy(s->pull_sub); /* no callback runs after this */
    }
    take_arrived(s);
    for (size_t i = 0; i < s->n_ready; i++) {
        if (s->nc && js_ready(s, NULL) == 0)
            js_nak(s, s->ready[i], 0);
        natsMsg_Destroy(s->ready[i]);
    }
    if (s->n_ready && s->nc)
        natsConnection_FlushTimeout(s->nc, 500);
    free(s->ready);
    free(s->arrived);
    free(s->taken);
    close(s->wake_pipe[0]);
    close(s->wake_pipe[1]);
    pthread_mutex_destroy(&s->pull_mu);
}

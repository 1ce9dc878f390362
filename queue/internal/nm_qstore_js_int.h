/*
 * nm_qstore_js_int: what the JetStream queue store's two files share, and no
 * one else: nm_qstore_js.c (publishing, fetching, acks, counts, opening)
 * and nm_qstore_js_dead.c (failure histories, burying, dead letters,
 * requeueing). The second uses only this header, not the first's symbols.
 */
#ifndef NM_QSTORE_JS_INT_H
#define NM_QSTORE_JS_INT_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_error.h"
#include "nm_qstore.h"
#include "nm_time.h"
#include "nm_u64map.h"

#define JS_STREAM "NEWSMILL"
#define JS_SUBJECT "newsmill.articles"
#define JS_DEAD "NEWSMILL_DEAD"
#define JS_DEAD_SUBJECTS "newsmill.dead.*"
#define JS_HISTORY "NEWSMILL_HISTORY"
#define JS_HISTORY_SUBJECTS "newsmill.history.*"
#define JS_CONSUMER "newsmill"
/* Failure histories of articles no front settled (all fronts gone for good)
 * are dropped after this. */
#define JS_HISTORY_MAX_AGE_NS ((int64_t)7 * 24 * 3600 * 1000000000)
/* A JetStream request that takes longer than this fails (the caller
 * retries: a submit is refused, a settle is redelivered). It bounds how long
 * the front's reactor can wait on NATS. */
#define JS_WAIT_MS 2000
/* After a request timed out (no quorum, a node hung): requests fail at once
 * for this long, so the reactor goes on answering workers. */
#define JS_COOLDOWN_MS 1000
/* Pull requests (nm_qstore_js_pull.c): each expires after JS_PULL_EXPIRES_MS
 * (a consumer leader that died takes its requests with it: they are sent
 * again within this), its successor is sent JS_PULL_RENEW_MS before, at
 * most JS_PULL_REQUESTS are live, and each asks for JS_PULL_MIN_BATCH at
 * least (unless none is live) and JS_PULL_MAX_BATCH at most. */
#define JS_PULL_EXPIRES_MS 1000
#define JS_PULL_RENEW_MS 250
#define JS_PULL_REQUESTS 8
#define JS_PULL_MIN_BATCH 64
#define JS_PULL_MAX_BATCH 4096
/* The consumer's bound on messages delivered and not acknowledged, by all
 * fronts together. The workers' credit is the real bound (a front asks for
 * no more than its workers can take); this one only stops a runaway, and
 * must be above every fleet's credit (nats-server's default, 1,000, held
 * the fleet to 1,000 in flight). */
#define JS_MAX_ACK_PENDING 65536
/* Sends of one ack before it is reported as not confirmed. */
#define JS_ACK_TRIES 3

/* A done whose ack could not be sent (NATS unreachable): sent when NATS is
 * back, or dropped once the ack wait is over (JetStream redelivered it). */
typedef struct {
    uint64_t seq;
    int64_t give_up_ns;
} js_deferred_ack;

/* An ack sent and not confirmed yet. */
typedef struct {
    uint64_t id;
    int64_t deadline_ns; /* monotonic: sent again then, or given up */
    int tries;
} js_sent_ack;

/* A pull request this front sent (reactor only). */
typedef struct {
    uint64_t id; /* the last token of its reply subject */
    int64_t batch, got;
    int64_t expires_ns; /* monotonic */
} js_pull_request;

typedef struct {
    nm_qstore base;
    natsConnection *nc;
    jsCtx *js;
    nm_u64map held; /* stream seq -> natsMsg* fetched and not settled */
    atomic_int pub_failures; /* async publishes that failed since begin */
    char pub_error[200];     /* the first one's reason (set under pub_failures 0 -> 1) */
    bool txn_publishing;
    int64_t ack_wait_ms;
    int64_t cooldown_until_ns; /* requests fail at once until then (monotonic) */
    js_deferred_ack *deferred; /* acks waiting for NATS to come back */
    size_t n_deferred, cap_deferred;
    /* Acks of one transaction's removes, sent together at commit, each
     * with a reply subject ack_inbox.<id>; confirmations are read without
     * waiting (js_acks_check). */
    natsMsg **acks;
    size_t n_acks, cap_acks;
    natsSubscription *ack_sub; /* ack_inbox.>, read by the reactor */
    char ack_inbox[128];
    uint64_t next_ack_id;
    nm_u64map unconfirmed; /* ack id -> natsMsg* sent, not confirmed yet */
    js_sent_ack *sent;     /* the ids in the order sent */
    size_t sent_head, n_sent, cap_sent;
    /* Pulling (nm_qstore_js_pull.c). The library's thread appends to
     * `arrived` under pull_mu and writes a byte to wake_pipe; the reactor
     * moves them to `ready` and hands them out. */
    bool pull_open;
    natsSubscription *pull_sub; /* pull_inbox.*, with a callback */
    char pull_inbox[128];
    char next_subject[160];
    pthread_mutex_t pull_mu;
    natsMsg **arrived; /* under pull_mu */
    size_t n_arrived, cap_arrived;
    natsMsg **taken; /* the reactor's: the last `arrived`, emptied, reused */
    size_t cap_taken;
    bool wake_pending; /* under pull_mu: a byte is in the pipe */
    int wake_pipe[2];
    natsMsg **ready; /* delivered to this front, not handed out yet */
    size_t n_ready, cap_ready;
    js_pull_request requests[JS_PULL_REQUESTS];
    size_t n_requests;
    uint64_t next_request;
} js_store;

/* The store behind the interface. */
static inline js_store *jss(nm_qstore *s)
{
    return (js_store *)s;
}

/* 0 when requests may be sent now; else -1 with err (NM_ERR_BUSY) saying
 * why not: not connected (the library reconnects by itself), or a request
 * timed out less than JS_COOLDOWN_MS ago. */
static inline int js_ready(js_store *s, nm_error *err)
{
    if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED)
        return nm_error_set(err, NM_ERR_BUSY, "JetStream unavailable: not connected to NATS "
                                              "(reconnecting)");
    if (nm_time_mono_ns() < s->cooldown_until_ns)
        return nm_error_set(err, NM_ERR_BUSY, "JetStream unavailable: a request timed out "
                                              "(no quorum or a node not answering)");
    return 0;
}

/* Sets err from a failed NATS call (what: what was being done); -1. A
 * timeout starts the cool-down (js_ready). */
static inline int nats_fail(js_store *s, nm_error *err, natsStatus st, jsErrCode jerr,
                            const char *what)
{
    const char *last = nats_GetLastError(NULL);
    if (st == NATS_TIMEOUT || st == NATS_NO_RESPONDERS || st == NATS_CONNECTION_CLOSED ||
        st == NATS_CONNECTION_DISCONNECTED)
        s->cooldown_until_ns = nm_time_mono_ns() + (int64_t)JS_COOLDOWN_MS * 1000000;
    return nm_error_set(err, st == NATS_TIMEOUT ? NM_ERR_TIMEOUT : NM_ERR_IO,
                        "JetStream: %s: %s%s%s (error %d)", what, natsStatus_GetText(st),
                        last && *last ? ": " : "", last ? last : "", (int)jerr);
}

/* natsMsg_Destroy for a map of messages (nm_u64map_clear_with). */
static inline void js_msg_destroy(void *m)
{
    natsMsg_Destroy(m);
}

/* Takes seq out of the held messages; NULL when not held. */
static inline natsMsg *unhold(js_store *s, int64_t seq)
{
    return nm_u64map_del(&s->held, (uint64_t)seq);
}

/* ---- nm_qstore_js_pull.c: taking messages, and settling them by their
 * ack subject ---- */

/* What a delivery's ack subject says about it. */
typedef struct {
    uint64_t stream_seq;
    uint64_t delivered; /* 1 on the first delivery */
    int64_t timestamp_ns; /* when the stream stored it */
} js_meta;

/* 0, or -1 when m has no JetStream ack subject. */
int js_meta_parse(natsMsg *m, js_meta *out);
/* Acknowledges m and waits for the server to confirm. */
int js_ack_sync(js_store *s, natsMsg *m, nm_error *err);
/* Negative acknowledgement: delivered again after delay_ms (0: at once). */
natsStatus js_nak(js_store *s, natsMsg *m, int64_t delay_ms);
/* "In progress": the ack wait starts again. */
natsStatus js_in_progress(js_store *s, natsMsg *m);
/* Sends s->acks (a transaction's removes; the messages move to
 * s->unconfirmed). An ack the server has not confirmed after JS_WAIT_MS is
 * sent again, up to JS_ACK_TRIES times, then logged: the article comes
 * back after the ack wait and is stored again (the same version: an
 * idempotent replace). js_acks_check reads confirmations without waiting
 * and does the resends; js_acks_close waits up to JS_WAIT_MS for the last
 * ones (an orderly stop leaves none behind). */
void js_acks_send(js_store *s);
void js_acks_check(js_store *s);
void js_acks_close(js_store *s);
/* Subscribes to this front's deliveries and makes the wake pipe; -1 with
 * err. js_pull_close unsubscribes and gives back (nak) what was never
 * handed out; it accepts a store whose js_pull_open failed or never ran. */
int js_pull_open(js_store *s, nm_error *err);
void js_pull_close(js_store *s);
/* The nm_qstore_ops scan_ready, wake_fd and wake_clear. */
int nm_js_scan_ready(nm_qstore *st, int64_t now_unix_ms, size_t limit,
                     void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen, nm_error *err);
int nm_js_wake_fd(const nm_qstore *st);
void nm_js_wake_clear(nm_qstore *st);

/* ---- nm_qstore_js_dead.c: the nm_qstore_ops on failures and dead letters
 * (retry, bury, dead_list, dead_ids, unbury; see nm_qstore.h) ---- */

int nm_js_retry(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
                int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                nm_error *err);
int nm_js_bury(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
               const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
               Newsmill__DeadLetter **letter, nm_error *err);
int nm_js_dead_list(nm_qstore *st, uint32_t limit, const char *id,
                    Newsmill__DeadLetter ***letters, size_t *n, nm_error *err);
int nm_js_dead_ids(nm_qstore *st, char ***ids, size_t *n, nm_error *err);
int nm_js_unbury(nm_qstore *st, const char *id, int64_t now_unix_ms, bool *found,
                 bool *inserted, nm_error *err);

#endif

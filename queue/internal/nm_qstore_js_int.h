/*
 * nm_qstore_js_int: what the JetStream queue store's two files share, and no
 * one else: nm_qstore_js.c (publishing, fetching, acks, counts, opening)
 * and nm_qstore_js_dead.c (failure histories, burying, dead letters,
 * requeueing). The second uses only this header, not the first's symbols.
 */
#ifndef NM_QSTORE_JS_INT_H
#define NM_QSTORE_JS_INT_H

#include <nats/nats.h>
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
/* Longest a fetch waits for a full batch (the reactor waits with it). */
#define JS_FETCH_WAIT_MS 200

/* A done whose ack could not be sent (NATS unreachable): sent when NATS is
 * back, or dropped once the ack wait is over (JetStream redelivered it). */
typedef struct {
    uint64_t seq;
    int64_t give_up_ns;
} js_deferred_ack;

typedef struct {
    nm_qstore base;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    nm_u64map held; /* stream seq -> natsMsg* fetched and not settled */
    atomic_int pub_failures; /* async publishes that failed since begin */
    char pub_error[200];     /* the first one's reason (set under pub_failures 0 -> 1) */
    bool txn_publishing;
    int64_t ack_wait_ms;
    int64_t cooldown_until_ns; /* requests fail at once until then (monotonic) */
    js_deferred_ack *deferred; /* acks waiting for NATS to come back */
    size_t n_deferred, cap_deferred;
    /* Acks of one transaction's removes, sent together at commit with a
     * reply each, and waited for (synchronous, but pipelined). */
    natsMsg **acks;
    size_t n_acks, cap_acks;
    natsSubscription *ack_sub; /* ack_inbox.> */
    char ack_inbox[128];
    uint64_t ack_round;
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

/* Takes seq out of the held messages; NULL when not held. */
static inline natsMsg *unhold(js_store *s, int64_t seq)
{
    return nm_u64map_del(&s->held, (uint64_t)seq);
}

/* Acknowledges m and waits for the server to confirm. */
static inline int ack_sync(js_store *s, natsMsg *m, nm_error *err)
{
    jsErrCode jerr = 0;
    natsStatus rc = natsMsg_AckSync(m, NULL, &jerr);
    return rc == NATS_OK ? 0 : nats_fail(s, err, rc, jerr, "acknowledging");
}

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

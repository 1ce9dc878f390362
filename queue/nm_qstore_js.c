/* nm_qstore_js: the queue store on NATS JetStream (see nm_qstore_js.h):
 * publishing, fetching, acks, counts and opening. Failure histories, burying
 * and the dead letters are in nm_qstore_js_dead.c. */
#include "nm_qstore_js.h"

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_hash.h"
#include "nm_log.h"
#include "nm_qstore_js_int.h"
#include "nm_time.h"
#include "nm_u64map.h"

/* ---- publishing (submits) ---- */

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    js_store *s = closure;
    int zero = 0;
    if (atomic_compare_exchange_strong(&s->pub_failures, &zero, 1))
        snprintf(s->pub_error, sizeof s->pub_error, "%s",
                 pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
    else
        atomic_fetch_add(&s->pub_failures, 1);
}

/* ---- acks deferred while NATS is unreachable ---- */

static void defer_ack(js_store *s, uint64_t seq)
{
    if (s->n_deferred == s->cap_deferred) {
        s->cap_deferred = s->cap_deferred ? 2 * s->cap_deferred : 64;
        s->deferred = nm_xrealloc(s->deferred, s->cap_deferred * sizeof *s->deferred);
    }
    s->deferred[s->n_deferred++] =
        (js_deferred_ack){seq, nm_time_mono_ns() + s->ack_wait_ms * 1000000};
}

/* Sends the deferred acks while NATS answers; drops those whose ack wait
 * is over (JetStream has given the article again: its new delivery is
 * settled on its own). */
static void flush_deferred(js_store *s)
{
    size_t kept = 0;
    int64_t now = nm_time_mono_ns();
    for (size_t i = 0; i < s->n_deferred; i++) {
        js_deferred_ack d = s->deferred[i];
        natsMsg *m = nm_u64map_get(&s->held, d.seq);
        if (!m)
            continue;
        if (now > d.give_up_ns) {
            natsMsg_Destroy(unhold(s, (int64_t)d.seq));
            continue;
        }
        nm_error e;
        if (js_ready(s, &e) == 0 && js_ack_sync(s, m, &e) == 0) {
            natsMsg_Destroy(unhold(s, (int64_t)d.seq));
            continue;
        }
        s->deferred[kept++] = d;
    }
    if (kept < s->n_deferred && kept == 0)
        nm_log_info("JetStream reachable again: deferred acks sent");
    s->n_deferred = kept;
}

static int j_begin(nm_qstore *st, bool durable, nm_error *err)
{
    (void)durable; /* the cluster's promise, whatever was asked: docs/guarantees.md */
    js_store *s = jss(st);
    if (s->n_deferred)
        flush_deferred(s);
    if (js_ready(s, err) != 0)
        return -1; /* refused at once, not after a wait */
    atomic_store(&s->pub_failures, 0);
    s->txn_publishing = false;
    return 0;
}

static int j_put(nm_qstore *st, const char *id, int32_t priority, int64_t now_unix_ms,
                 const uint8_t *article, size_t len, bool *inserted, nm_error *err)
{
    (void)priority;
    (void)now_unix_ms;
    js_store *s = jss(st);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    /* The message id: the article id and its body's hash. A resend of the
     * same article within the duplicate window is stored once; a newer body
     * of the id is a new message (the newest revision wins in the results,
     * as with the spool). */
    char msg_id[NM_QSTORE_ID_MAX_BYTES + 32];
    snprintf(msg_id, sizeof msg_id, "%s#%016llx", id,
             (unsigned long long)nm_hash_bytes(article, len));
    po.MsgId = msg_id;
    natsStatus rc = js_PublishAsync(s->js, JS_SUBJECT, article, (int)len, &po);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, 0, "publishing an article");
    s->txn_publishing = true;
    *inserted = true; /* a duplicate is known only from its ack: counts come from the stream */
    return 0;
}

/* ---- acks of done: sent at commit (nm_qstore_js_pull.c) ---- */

static void drop_acks(js_store *s)
{
    for (size_t i = 0; i < s->n_acks; i++)
        natsMsg_Destroy(s->acks[i]); /* not confirmed: redelivered after the ack wait */
    s->n_acks = 0;
}

static int j_commit(nm_qstore *st, nm_error *err)
{
    js_store *s = jss(st);
    js_acks_send(s);
    if (!s->txn_publishing)
        return 0;
    s->txn_publishing = false;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = JS_WAIT_MS;
    natsStatus rc = js_PublishAsyncComplete(s->js, &po);
    if (rc != NATS_OK) {
        natsMsgList pending = {0};
        if (js_PublishAsyncGetPendingList(&pending, s->js) == NATS_OK)
            natsMsgList_Destroy(&pending); /* no longer waited for: the batch is refused */
        return nats_fail(s, err, rc, 0, "waiting for publish acks");
    }
    int failed = atomic_load(&s->pub_failures);
    if (failed > 0)
        return nm_error_set(err, NM_ERR_IO, "JetStream refused %d publish(es): %s", failed,
                            s->pub_error);
    return 0;
}

static void j_rollback(nm_qstore *st)
{
    /* Published articles cannot be taken back: the producer, refused, sends
     * them again, and the message id makes that one copy. */
    jss(st)->txn_publishing = false;
    drop_acks(jss(st));
}

/* ---- fetching and settling ---- */

static int j_fetch(nm_qstore *st, int64_t seq, nm_qstore_row *row, bool *found, nm_error *err)
{
    js_store *s = jss(st);
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    *found = m != NULL;
    if (!m)
        return 0;
    js_meta meta;
    if (js_meta_parse(m, &meta) != 0)
        return nm_error_set(err, NM_ERR_IO, "JetStream: seq %lld has no ack subject",
                            (long long)seq);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    if (len > row->article_cap || !row->article) {
        free(row->article);
        row->article_cap = len + len / 2 + 64;
        row->article = nm_xmalloc(row->article_cap);
    }
    memcpy(row->article, natsMsg_GetData(m), len);
    row->article_len = len;
    row->seq = seq;
    row->rev = seq;
    row->enqueued_unix_ms = meta.timestamp_ns / 1000000;
    row->attempts = meta.delivered > 0 ? (uint32_t)(meta.delivered - 1) : 0;
    return 0;
}

static void j_extend(nm_qstore *st, int64_t seq)
{
    js_store *s = jss(st);
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    if (m && js_ready(s, NULL) == 0 && js_in_progress(s, m) != NATS_OK)
        nm_log_warn("JetStream: in-progress for seq %lld failed: %s", (long long)seq,
                    nats_GetLastError(NULL));
}

static int j_remove(nm_qstore *st, int64_t seq, int64_t rev, bool *removed, nm_error *err)
{
    (void)rev;
    js_store *s = jss(st);
    *removed = false;
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    if (!m)
        return 0;
    nm_error e;
    if (js_ready(s, &e) != 0) {
        /* The worker committed it: ack when NATS is back (within the ack
         * wait), rather than have it delivered again. */
        defer_ack(s, (uint64_t)seq);
        *removed = true;
        return 0;
    }
    (void)err;
    unhold(s, seq);
    if (s->n_acks == s->cap_acks) {
        s->cap_acks = s->cap_acks ? 2 * s->cap_acks : 256;
        s->acks = nm_xrealloc(s->acks, s->cap_acks * sizeof *s->acks);
    }
    s->acks[s->n_acks++] = m; /* sent at commit, confirmed later */
    *removed = true;
    return 0;
}

/* ---- counts ---- */

static int j_scan_oldest(nm_qstore *st, size_t limit,
                         bool (*fn)(void *arg, int64_t seq, int64_t enqueued_unix_ms), void *arg,
                         nm_error *err)
{
    /* The oldest message of the stream (leased or not). */
    (void)limit;
    js_store *s = jss(st);
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, JS_STREAM, NULL, &jerr);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "reading stream info");
    if (si->State.Msgs > 0 && nm_u64map_get(&s->held, si->State.FirstSeq) == NULL)
        fn(arg, (int64_t)si->State.FirstSeq, si->State.FirstTime / 1000000);
    jsStreamInfo_Destroy(si);
    return 0;
}

static int stream_msgs(js_store *s, const char *stream, int64_t *msgs, int64_t *bytes,
                       nm_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, stream, NULL, &jerr);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "reading stream info");
    if (msgs)
        *msgs = (int64_t)si->State.Msgs;
    if (bytes)
        *bytes = (int64_t)si->State.Bytes;
    jsStreamInfo_Destroy(si);
    return 0;
}

static int j_counts(nm_qstore *st, int64_t *n_articles, int64_t *n_dead, int64_t *bytes,
                    nm_error *err)
{
    js_store *s = jss(st);
    if ((n_articles || bytes) && stream_msgs(s, JS_STREAM, n_articles, bytes, err) != 0)
        return -1;
    return n_dead ? stream_msgs(s, JS_DEAD, n_dead, NULL, err) : 0;
}

static int j_state(nm_qstore *st, nm_qstore_state *out, nm_error *err)
{
    js_store *s = jss(st);
    js_acks_check(s);
    if (s->n_deferred)
        flush_deferred(s);
    if (js_ready(s, err) != 0)
        return -1;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, JS_STREAM, NULL, &jerr);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "reading stream info");
    rc = js_GetConsumerInfo(&ci, s->js, JS_STREAM, JS_CONSUMER, NULL, &jerr);
    if (rc != NATS_OK) {
        jsStreamInfo_Destroy(si);
        return nats_fail(s, err, rc, jerr, "reading consumer info");
    }
    memset(out, 0, sizeof *out);
    out->articles = (int64_t)si->State.Msgs;
    out->bytes = (int64_t)si->State.Bytes;
    out->in_flight = ci->NumAckPending;
    /* What the consumer has still to deliver. Not the stream's messages
     * less those in flight: nats-server 2.9.10 was seen to keep acked
     * messages of the work queue after leader changes (below the ack floor,
     * never delivered again; docs/guarantees.md), and an idle fleet would
     * show them as a backlog for ever. */
    out->backlog = (int64_t)ci->NumPending;
    if (out->articles > 0)
        out->oldest_unix_ms = si->State.FirstTime / 1000000;
    /* Every delivery has a consumer sequence; a first delivery, a stream
     * sequence (dense: duplicates take none). The rest are redeliveries. */
    int64_t first = (int64_t)ci->Delivered.Stream;
    int64_t all = (int64_t)ci->Delivered.Consumer;
    out->redelivered = all > first ? all - first : 0;
    jsConsumerInfo_Destroy(ci);
    jsStreamInfo_Destroy(si);
    return stream_msgs(s, JS_DEAD, &out->dead, NULL, err);
}

static int j_compact(nm_qstore *st, int64_t *freed, nm_error *err)
{
    (void)st;
    (void)err;
    *freed = 0; /* the servers compact their own files */
    return 0;
}

static void j_close(nm_qstore *st)
{
    js_store *s = jss(st);
    nm_u64map_clear_with(&s->held, js_msg_destroy); /* unacked: redelivered after the ack wait */
    free(s->deferred);
    drop_acks(s);
    free(s->acks);
    js_acks_close(s);
    js_pull_close(s);
    natsSubscription_Destroy(s->ack_sub);
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    free(s);
}

static const nm_qstore_ops js_ops = {
    .name = "jetstream",
    .caps = {.reads_reserve = true, .shared = true},
    .close = j_close,
    .begin = j_begin,
    .commit = j_commit,
    .rollback = j_rollback,
    .put = j_put,
    .remove = j_remove,
    .retry = nm_js_retry,
    .bury = nm_js_bury,
    .extend = j_extend,
    .scan_ready = nm_js_scan_ready,
    .wake_fd = nm_js_wake_fd,
    .wake_clear = nm_js_wake_clear,
    .fetch = j_fetch,
    .scan_oldest = j_scan_oldest,
    .counts = j_counts,
    .compact = j_compact,
    .state = j_state,
    .dead_list = nm_js_dead_list,
    .unbury = nm_js_unbury,
    .dead_ids = nm_js_dead_ids,
};

/* ---- opening ---- */

static const char *retention_name(jsRetentionPolicy r)
{
    return r == js_WorkQueuePolicy ? "work queue" : r == js_LimitsPolicy ? "limits" : "interest";
}

/* Checks the stream want->Name, or creates it as want says. */
static int ensure_stream(js_store *s, jsStreamConfig *want, nm_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, want->Name, NULL, &jerr);
    if (rc == NATS_OK) {
        const jsStreamConfig *have = si->Config;
        int bad = 0;
        char why[300] = "";
        if (have->Retention != want->Retention) {
            snprintf(why, sizeof why, "retention is %s, newsmill needs %s",
                     retention_name(have->Retention), retention_name(want->Retention));
            bad = 1;
        } else if (have->SubjectsLen != 1 || strcmp(have->Subjects[0], want->Subjects[0]) != 0) {
            snprintf(why, sizeof why, "subjects are not exactly \"%s\"", want->Subjects[0]);
            bad = 1;
        }
        long long replicas = (long long)have->Replicas;
        jsStreamInfo_Destroy(si);
        if (bad)
            return nm_error_set(err, NM_ERR_INVALID,
                                "JetStream stream %s exists with other settings: %s; refusing to "
                                "change it (delete it or use another cluster)",
                                want->Name, why);
        /* Also reached when a create timed out on this side but was done on
         * the cluster's: the retry finds it. The line gives what it has. */
        if (replicas < want->Replicas)
            nm_log_warn("JetStream stream found name=%s replicas=%lld (fewer than the %lld "
                        "asked: it keeps the replicas it was made with)",
                        want->Name, replicas, (long long)want->Replicas);
        else
            nm_log_info("JetStream stream found name=%s replicas=%lld", want->Name, replicas);
        return 0;
    }
    rc = js_AddStream(&si, s->js, want, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "creating a stream");
    nm_log_info("JetStream stream created name=%s replicas=%lld", want->Name,
                (long long)want->Replicas);
    return 0;
}

/* ensure_stream() for a file-backed stream of one subject; 0 for
 * max_per_subject or max_age_ns: no limit. */
static int ensure_named_stream(js_store *s, const char *name, const char *subject,
                               jsRetentionPolicy retention, int64_t max_per_subject,
                               int64_t max_age_ns, int replicas, nm_error *err)
{
    jsStreamConfig sc;
    const char *subjects[1] = {subject};
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = retention;
    sc.Storage = js_FileStorage;
    if (max_per_subject)
        sc.MaxMsgsPerSubject = max_per_subject;
    if (max_age_ns)
        sc.MaxAge = max_age_ns;
    sc.Replicas = replicas;
    return ensure_stream(s, &sc, err);
}

/* Checks the durable consumer every front shares, or creates it. */
static int ensure_consumer(js_store *s, const nm_qstore_js_config *cfg, nm_error *err)
{
    int64_t ack_wait_ns = cfg->ack_wait_ms * 1000000;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetConsumerInfo(&ci, s->js, JS_STREAM, JS_CONSUMER, NULL, &jerr);
    if (rc == NATS_OK) {
        const jsConsumerConfig *have = ci->Config;
        char why[200] = "";
        if (have->AckPolicy != js_AckExplicit)
            snprintf(why, sizeof why, "its acks are not explicit");
        else if (!have->FilterSubject || strcmp(have->FilterSubject, JS_SUBJECT) != 0)
            snprintf(why, sizeof why, "it does not filter \"%s\"", JS_SUBJECT);
        else if (have->AckWait != ack_wait_ns)
            snprintf(why, sizeof why,
                     "its ack wait is %lld ms, this front's %lld ms (the same --lease and "
                     "--worker-timeout on every front)",
                     (long long)(have->AckWait / 1000000), (long long)cfg->ack_wait_ms);
        else if (have->MaxAckPending != JS_MAX_ACK_PENDING)
            snprintf(why, sizeof why, "its max ack pending is %lld, newsmill's %d",
                     (long long)have->MaxAckPending, JS_MAX_ACK_PENDING);
        jsConsumerInfo_Destroy(ci);
        if (*why)
            return nm_error_set(err, NM_ERR_INVALID,
                                "JetStream consumer %s of stream %s exists with other settings: "
                                "%s; refusing to change it (delete the consumer, or use the "
                                "settings it has)",
                                JS_CONSUMER, JS_STREAM, why);
        return 0;
    }
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = JS_CONSUMER;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ack_wait_ns;
    cc.MaxDeliver = -1; /* the fronts bury after --max-attempts */
    cc.MaxAckPending = JS_MAX_ACK_PENDING;
    cc.FilterSubject = JS_SUBJECT;
    rc = js_AddConsumer(&ci, s->js, JS_STREAM, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "creating the consumer " JS_CONSUMER);
    return 0;
}

static int setup(js_store *s, const nm_qstore_js_config *cfg, int replicas, nm_error *err)
{
    /* The articles (work queue); dead letters and failure histories (one
     * message per subject: the latest wins; histories age out). */
    if (ensure_named_stream(s, JS_STREAM, JS_SUBJECT, js_WorkQueuePolicy, 0, 0, replicas, err) != 0 ||
        ensure_named_stream(s, JS_DEAD, JS_DEAD_SUBJECTS, js_LimitsPolicy, 1, 0, replicas, err) != 0 ||
        ensure_named_stream(s, JS_HISTORY, JS_HISTORY_SUBJECTS, js_LimitsPolicy, 1,
                            JS_HISTORY_MAX_AGE_NS, replicas, err) != 0)
        return -1;

    return ensure_consumer(s, cfg, err);
}

/* The client library's connection events (its thread), one line each: an
 * operator sees a front lose and find the cluster. */
static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    (void)closure;
    nm_log_warn("NATS connection lost: reconnecting to any node of --nats");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    nm_log_info("NATS reconnected url=%s", url);
}

nm_qstore *nm_qstore_js_open(const nm_qstore_js_config *cfg, nm_error *err)
{
    char *urls = nm_xstrdup(cfg->urls ? cfg->urls : "");
    const char *list[64];
    int n = 0;
    for (char *save = NULL, *u = strtok_r(urls, ",", &save); u && n < 64;
         u = strtok_r(NULL, ",", &save))
        list[n++] = u;
    if (n == 0) {
        free(urls);
        nm_error_set(err, NM_ERR_INVALID, "--nats: no URL given");
        return NULL;
    }
    int replicas = cfg->replicas > 0 ? cfg->replicas : n >= 3 ? 3 : 1;
    natsOptions *opts = NULL;
    natsStatus rc = natsOptions_Create(&opts);
    if (rc == NATS_OK)
        rc = natsOptions_SetServers(opts, list, n);
    if (rc == NATS_OK)
        rc = natsOptions_SetTimeout(opts, cfg->connect_ms > 0 ? cfg->connect_ms : 2000);
    if (rc == NATS_OK)
        rc = natsOptions_SetMaxReconnect(opts, -1); /* reconnect for ever, to any node */
    if (rc == NATS_OK)
        rc = natsOptions_SetReconnectWait(opts, 250);
    if (rc == NATS_OK)
        rc = natsOptions_SetDisconnectedCB(opts, on_disconnected, NULL);
    if (rc == NATS_OK)
        rc = natsOptions_SetReconnectedCB(opts, on_reconnected, NULL);
    if (rc == NATS_OK && cfg->user && *cfg->user)
        rc = natsOptions_SetUserInfo(opts, cfg->user, cfg->password ? cfg->password : "");
    if (rc == NATS_OK && cfg->token && *cfg->token)
        rc = natsOptions_SetToken(opts, cfg->token);
    if (rc == NATS_OK && cfg->tls_ca && *cfg->tls_ca) {
        rc = natsOptions_SetSecure(opts, true);
        if (rc == NATS_OK)
            rc = natsOptions_LoadCATrustedCertificates(opts, cfg->tls_ca);
    }
    js_store *s = nm_xcalloc(1, sizeof *s);
    s->base.ops = &js_ops;
    s->ack_wait_ms = cfg->ack_wait_ms;
    if (rc == NATS_OK)
        rc = natsConnection_Connect(&s->nc, opts);
    natsOptions_Destroy(opts);
    if (rc != NATS_OK) {
        nm_error_set(err, NM_ERR_IO, "cannot connect to NATS at %s: %s", cfg->urls,
                     natsStatus_GetText(rc));
        free(urls);
        free(s);
        return NULL;
    }
    free(urls);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = JS_WAIT_MS;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = s;
    jo.PublishAsync.MaxPending = 4096;
    jo.PublishAsync.StallWait = JS_WAIT_MS; /* a full window waits, bounded, then fails */
    rc = natsConnection_JetStream(&s->js, s->nc, &jo);
    if (rc != NATS_OK) {
        nats_fail(s, err, rc, 0, "opening a JetStream context");
        j_close(&s->base);
        return NULL;
    }
    natsInbox *inbox = NULL;
    char sub_subject[160];
    rc = natsInbox_Create(&inbox);
    if (rc == NATS_OK) {
        snprintf(s->ack_inbox, sizeof s->ack_inbox, "%s", (const char *)inbox);
        snprintf(sub_subject, sizeof sub_subject, "%s.>", s->ack_inbox);
        rc = natsConnection_SubscribeSync(&s->ack_sub, s->nc, sub_subject);
    }
    natsInbox_Destroy(inbox);
    if (rc != NATS_OK) {
        nats_fail(s, err, rc, 0, "subscribing to ack replies");
        j_close(&s->base);
        return NULL;
    }
    if (js_pull_open(s, err) != 0) {
        j_close(&s->base);
        return NULL;
    }
    /* A cluster just started elects its leaders for a few seconds: retry
     * what fails for want of one, until connect_ms. */
    int64_t give_up = nm_time_mono_ns() + (cfg->connect_ms > 0 ? cfg->connect_ms : 2000) * 1000000;
    for (;;) {
        nm_error e;
        if (setup(s, cfg, replicas, &e) == 0)
            break;
        if (e.code == NM_ERR_INVALID || nm_time_mono_ns() > give_up) {
            if (err)
                *err = e;
            j_close(&s->base);
            return NULL;
        }
        nm_log_debug("JetStream not ready: %s", e.msg);
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
    nm_log_info("JetStream store open servers=%s replicas=%d ack_wait_ms=%lld", cfg->urls,
                replicas, (long long)cfg->ack_wait_ms);
    return &s->base;
}

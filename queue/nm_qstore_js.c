/* nm_qstore_js: the queue store on NATS JetStream (see nm_qstore_js.h). */
#include "nm_qstore_js.h"

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_log.h"
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
 * retries: a submit is refused, a settle is redelivered). */
#define JS_WAIT_MS 5000

typedef struct {
    nm_qstore base;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    nm_u64map held; /* stream seq -> natsMsg* fetched and not settled */
    atomic_int pub_failures; /* async publishes that failed since begin */
    char pub_error[200];     /* the first one's reason (set under pub_failures 0 -> 1) */
    bool txn_publishing;
} js_store;

static js_store *jss(nm_qstore *s)
{
    return (js_store *)s;
}

static int nats_fail(nm_error *err, natsStatus st, jsErrCode jerr, const char *what)
{
    const char *last = nats_GetLastError(NULL);
    return nm_error_set(err, st == NATS_TIMEOUT ? NM_ERR_TIMEOUT : NM_ERR_IO,
                        "JetStream: %s: %s%s%s (error %d)", what, natsStatus_GetText(st),
                        last && *last ? ": " : "", last ? last : "", (int)jerr);
}

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

static int j_begin(nm_qstore *st, bool durable, nm_error *err)
{
    (void)durable; /* the cluster's promise, whatever was asked: docs/guarantees.md */
    (void)err;
    js_store *s = jss(st);
    atomic_store(&s->pub_failures, 0);
    s->txn_publishing = false;
    return 0;
}

/* FNV-1a, 64 bits: tells bodies of one id apart in the message id. */
static uint64_t body_hash(const uint8_t *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
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
    char msg_id[600];
    snprintf(msg_id, sizeof msg_id, "%s#%016llx", id, (unsigned long long)body_hash(article, len));
    po.MsgId = msg_id;
    natsStatus rc = js_PublishAsync(s->js, JS_SUBJECT, article, (int)len, &po);
    if (rc != NATS_OK)
        return nats_fail(err, rc, 0, "publishing an article");
    s->txn_publishing = true;
    *inserted = true; /* a duplicate is known only from its ack: counts come from the stream */
    return 0;
}

static int j_commit(nm_qstore *st, nm_error *err)
{
    js_store *s = jss(st);
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
        return nats_fail(err, rc, 0, "waiting for publish acks");
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
}

/* ---- fetching and settling ---- */

static void hold(js_store *s, natsMsg *m, uint64_t seq)
{
    natsMsg *old = nm_u64map_get(&s->held, seq);
    if (old)
        natsMsg_Destroy(old); /* redelivered: the newest delivery is the one to ack */
    nm_u64map_put(&s->held, seq, m);
}

static int j_scan_ready(nm_qstore *st, int64_t now_unix_ms, size_t limit,
                        void (*fn)(void *arg, int64_t seq), void *arg, size_t *n_seen,
                        nm_error *err)
{
    (void)now_unix_ms;
    js_store *s = jss(st);
    *n_seen = 0;
    if (limit == 0)
        return 0;
    jsFetchRequest fr;
    jsFetchRequest_Init(&fr);
    fr.Batch = limit > 256 ? 256 : (int)limit;
    fr.NoWait = true;
    fr.Expires = (int64_t)200 * 1000000; /* ns: bounds the wait when nothing answers */
    natsMsgList list = {0};
    natsStatus rc = natsSubscription_FetchRequest(&list, s->sub, &fr);
    if (rc == NATS_TIMEOUT || rc == NATS_NOT_FOUND) {
        natsMsgList_Destroy(&list);
        return 0; /* nothing ready */
    }
    if (rc != NATS_OK) {
        natsMsgList_Destroy(&list);
        return nats_fail(err, rc, 0, "fetching articles");
    }
    for (int i = 0; i < list.Count; i++) {
        natsMsg *m = list.Msgs[i];
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            natsMsg_Destroy(m);
            continue;
        }
        uint64_t seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
        hold(s, m, seq);
        list.Msgs[i] = NULL;
        fn(arg, (int64_t)seq);
        (*n_seen)++;
    }
    natsMsgList_Destroy(&list);
    return 0;
}

static int j_fetch(nm_qstore *st, int64_t seq, nm_qstore_row *row, bool *found, nm_error *err)
{
    js_store *s = jss(st);
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    *found = m != NULL;
    if (!m)
        return 0;
    jsMsgMetaData *meta = NULL;
    natsStatus rc = natsMsg_GetMetaData(&meta, m);
    if (rc != NATS_OK)
        return nats_fail(err, rc, 0, "reading a message's metadata");
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
    row->enqueued_unix_ms = meta->Timestamp / 1000000;
    row->attempts = meta->NumDelivered > 0 ? (uint32_t)(meta->NumDelivered - 1) : 0;
    jsMsgMetaData_Destroy(meta);
    return 0;
}

static void j_extend(nm_qstore *st, int64_t seq)
{
    natsMsg *m = nm_u64map_get(&jss(st)->held, (uint64_t)seq);
    if (m && natsMsg_InProgress(m, NULL) != NATS_OK)
        nm_log_warn("JetStream: in-progress for seq %lld failed: %s", (long long)seq,
                    nats_GetLastError(NULL));
}

static void history_subject(char *buf, size_t size, int64_t seq)
{
    snprintf(buf, size, "newsmill.history.%lld", (long long)seq);
}

/* The failures recorded for seq so far (an empty letter when none). */
static Newsmill__DeadLetter *history_get(js_store *s, int64_t seq)
{
    char subj[64];
    history_subject(subj, sizeof subj, seq);
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    Newsmill__DeadLetter *h = NULL;
    if (js_GetLastMsg(&m, s->js, JS_HISTORY, subj, NULL, &jerr) == NATS_OK) {
        h = newsmill__dead_letter__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                          (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
    }
    if (!h) {
        h = nm_xmalloc(sizeof *h);
        newsmill__dead_letter__init(h);
    }
    return h;
}

/* Appends a copy of rec to h's failures. */
static void history_append(Newsmill__DeadLetter *h, const Newsmill__FailureRecord *rec)
{
    Newsmill__FailureRecord *r = nm_xmalloc(sizeof *r);
    newsmill__failure_record__init(r);
    r->at_unix_ms = rec->at_unix_ms;
    r->attempt = rec->attempt;
    r->reason = nm_xstrdup(rec->reason ? rec->reason : "");
    r->worker = nm_xstrdup(rec->worker ? rec->worker : "");
    h->failures = nm_xrealloc(h->failures, (h->n_failures + 1) * sizeof *h->failures);
    h->failures[h->n_failures++] = r;
}

static int history_put(js_store *s, int64_t seq, const Newsmill__DeadLetter *h, nm_error *err)
{
    char subj[64];
    history_subject(subj, sizeof subj, seq);
    size_t len = newsmill__dead_letter__get_packed_size(h);
    uint8_t *buf = nm_xmalloc(len + 1);
    newsmill__dead_letter__pack(h, buf);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_Publish(&pa, s->js, subj, buf, (int)len, NULL, &jerr);
    free(buf);
    jsPubAck_Destroy(pa);
    return rc == NATS_OK ? 0 : nats_fail(err, rc, jerr, "recording a failure");
}

static void history_drop(js_store *s, int64_t seq)
{
    char subj[64];
    history_subject(subj, sizeof subj, seq);
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = subj;
    jsErrCode jerr = 0;
    js_PurgeStream(s->js, JS_HISTORY, &o, &jerr); /* else it ages out */
}

/* Takes seq out of the held messages; NULL when not held. */
static natsMsg *unhold(js_store *s, int64_t seq)
{
    return nm_u64map_del(&s->held, (uint64_t)seq);
}

static int ack_sync(natsMsg *m, nm_error *err)
{
    jsErrCode jerr = 0;
    natsStatus rc = natsMsg_AckSync(m, NULL, &jerr);
    return rc == NATS_OK ? 0 : nats_fail(err, rc, jerr, "acknowledging");
}

static int j_remove(nm_qstore *st, int64_t seq, int64_t rev, bool *removed, nm_error *err)
{
    (void)rev;
    js_store *s = jss(st);
    *removed = false;
    natsMsg *m = unhold(s, seq);
    if (!m)
        return 0;
    int rc = ack_sync(m, err);
    natsMsg_Destroy(m);
    if (rc != 0)
        return -1; /* not acked: redelivered after the ack wait */
    *removed = true;
    return 0;
}

static int j_retry(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
                   int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                   nm_error *err)
{
    (void)rev;
    (void)attempts;
    js_store *s = jss(st);
    if (applied)
        *applied = false;
    natsMsg *m = unhold(s, seq);
    if (!m)
        return 0;
    Newsmill__DeadLetter *h = history_get(s, seq);
    history_append(h, rec);
    int rc = history_put(s, seq, h, err);
    newsmill__dead_letter__free_unpacked(h, NULL);
    int64_t delay_ms = not_before_unix_ms - nm_time_unix_ms();
    natsStatus ns = natsMsg_NakWithDelay(m, delay_ms > 0 ? delay_ms : 0, NULL);
    natsMsg_Destroy(m);
    if (ns != NATS_OK)
        nm_log_warn("JetStream: nak of seq %lld failed (%s): redelivered after the ack wait",
                    (long long)seq, natsStatus_GetText(ns));
    if (rc != 0)
        return -1;
    if (applied)
        *applied = true;
    return 0;
}

static void dead_subject(char *buf, size_t size, const char *id)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = (size_t)snprintf(buf, size, "newsmill.dead.");
    for (const unsigned char *p = (const unsigned char *)id; *p && n + 3 < size; p++) {
        buf[n++] = hex[*p >> 4];
        buf[n++] = hex[*p & 15];
    }
    buf[n] = '\0';
}

/* Dead-letter message: u32 (big-endian) length of the packed DeadLetter,
 * the DeadLetter, then the packed Article. */
static int dead_decode(natsMsg *m, Newsmill__DeadLetter **letter, const uint8_t **article,
                       size_t *article_len)
{
    const uint8_t *d = (const uint8_t *)natsMsg_GetData(m);
    size_t len = (size_t)natsMsg_GetDataLength(m);
    if (len < 4)
        return -1;
    size_t dl = ((size_t)d[0] << 24) | ((size_t)d[1] << 16) | ((size_t)d[2] << 8) | d[3];
    if (dl > len - 4)
        return -1;
    *letter = newsmill__dead_letter__unpack(NULL, dl, d + 4);
    if (!*letter)
        return -1;
    if (article) {
        *article = d + 4 + dl;
        *article_len = len - 4 - dl;
    }
    return 0;
}

static int j_bury(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
                  const Newsmill__FailureRecord *rec, int64_t now_unix_ms,
                  Newsmill__DeadLetter **letter, nm_error *err)
{
    (void)rev;
    js_store *s = jss(st);
    if (letter)
        *letter = NULL;
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    if (!m)
        return 0;
    const uint8_t *art = (const uint8_t *)natsMsg_GetData(m);
    size_t art_len = (size_t)natsMsg_GetDataLength(m);
    Newsmill__Article *a = newsmill__article__unpack(NULL, art_len, art);
    Newsmill__DeadLetter *h = history_get(s, seq);
    history_append(h, rec);
    h->id = nm_xstrdup(a && a->id ? a->id : "");
    h->source = nm_xstrdup(a && a->source ? a->source : "");
    h->url = nm_xstrdup(a && a->url ? a->url : "");
    h->attempts = attempts;
    h->dead_unix_ms = now_unix_ms;
    if (a)
        newsmill__article__free_unpacked(a, NULL);
    size_t dl = newsmill__dead_letter__get_packed_size(h);
    uint8_t *buf = nm_xmalloc(4 + dl + art_len);
    buf[0] = (uint8_t)(dl >> 24);
    buf[1] = (uint8_t)(dl >> 16);
    buf[2] = (uint8_t)(dl >> 8);
    buf[3] = (uint8_t)dl;
    newsmill__dead_letter__pack(h, buf + 4);
    memcpy(buf + 4 + dl, art, art_len);
    char subj[600];
    dead_subject(subj, sizeof subj, h->id);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_Publish(&pa, s->js, subj, buf, (int)(4 + dl + art_len), NULL, &jerr);
    free(buf);
    jsPubAck_Destroy(pa);
    if (rc != NATS_OK) {
        newsmill__dead_letter__free_unpacked(h, NULL);
        return nats_fail(err, rc, jerr, "publishing a dead letter");
    }
    /* The letter is stored: now the article may leave the work queue. If
     * this ack is lost, the article comes back and is buried again (one
     * letter per id: the newer replaces it). */
    unhold(s, seq);
    int arc = ack_sync(m, err);
    natsMsg_Destroy(m);
    history_drop(s, seq);
    if (arc != 0) {
        newsmill__dead_letter__free_unpacked(h, NULL);
        return -1;
    }
    if (letter)
        *letter = h;
    else
        newsmill__dead_letter__free_unpacked(h, NULL);
    return 0;
}

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
        return nats_fail(err, rc, jerr, "reading stream info");
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
        return nats_fail(err, rc, jerr, "reading stream info");
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

static int j_compact(nm_qstore *st, int64_t *freed, nm_error *err)
{
    (void)st;
    (void)err;
    *freed = 0; /* the servers compact their own files */
    return 0;
}

/* Calls fn on every dead letter, newest first, until it returns false. */
static int dead_each(js_store *s, bool (*fn)(void *arg, natsMsg *m, uint64_t seq), void *arg,
                     nm_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, JS_DEAD, NULL, &jerr);
    if (rc != NATS_OK)
        return nats_fail(err, rc, jerr, "reading the dead letters");
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq, n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    if (n == 0)
        return 0;
    for (uint64_t seq = last; seq >= first && seq > 0; seq--) {
        natsMsg *m = NULL;
        rc = js_GetMsg(&m, s->js, JS_DEAD, seq, NULL, &jerr);
        if (rc == NATS_NOT_FOUND)
            continue; /* replaced or requeued */
        if (rc != NATS_OK)
            return nats_fail(err, rc, jerr, "reading a dead letter");
        bool go_on = fn(arg, m, seq);
        natsMsg_Destroy(m);
        if (!go_on)
            break;
    }
    return 0;
}

typedef struct {
    uint32_t limit;
    Newsmill__DeadLetter **letters;
    size_t n;
    char **ids;
} dead_acc;

static bool collect_letter(void *arg, natsMsg *m, uint64_t seq)
{
    (void)seq;
    dead_acc *acc = arg;
    Newsmill__DeadLetter *l;
    if (dead_decode(m, &l, NULL, NULL) != 0)
        return true;
    acc->letters = nm_xrealloc(acc->letters, (acc->n + 1) * sizeof *acc->letters);
    acc->letters[acc->n++] = l;
    return acc->n < acc->limit;
}

static int last_dead(js_store *s, const char *id, natsMsg **m)
{
    char subj[600];
    dead_subject(subj, sizeof subj, id);
    jsErrCode jerr = 0;
    *m = NULL;
    return js_GetLastMsg(m, s->js, JS_DEAD, subj, NULL, &jerr) == NATS_OK ? 0 : -1;
}

static int j_dead_list(nm_qstore *st, uint32_t limit, const char *id,
                       Newsmill__DeadLetter ***letters, size_t *n, nm_error *err)
{
    js_store *s = jss(st);
    dead_acc acc = {.limit = limit ? limit : UINT32_MAX};
    if (id && *id) {
        natsMsg *m;
        if (last_dead(s, id, &m) == 0)
            collect_letter(&acc, m, 0);
        natsMsg_Destroy(m);
    } else if (dead_each(s, collect_letter, &acc, err) != 0) {
        nm_qstore_letters_free(acc.letters, acc.n);
        return -1;
    }
    *letters = acc.letters;
    *n = acc.n;
    return 0;
}

static bool collect_id(void *arg, natsMsg *m, uint64_t seq)
{
    (void)seq;
    dead_acc *acc = arg;
    Newsmill__DeadLetter *l;
    if (dead_decode(m, &l, NULL, NULL) != 0)
        return true;
    acc->ids = nm_xrealloc(acc->ids, (acc->n + 1) * sizeof *acc->ids);
    acc->ids[acc->n++] = nm_xstrdup(l->id);
    newsmill__dead_letter__free_unpacked(l, NULL);
    return true;
}

static int j_dead_ids(nm_qstore *st, char ***ids, size_t *n, nm_error *err)
{
    dead_acc acc = {0};
    if (dead_each(jss(st), collect_id, &acc, err) != 0) {
        for (size_t i = 0; i < acc.n; i++)
            free(acc.ids[i]);
        free(acc.ids);
        return -1;
    }
    *ids = acc.ids;
    *n = acc.n;
    return 0;
}

static int j_unbury(nm_qstore *st, const char *id, int64_t now_unix_ms, bool *found,
                    bool *inserted, nm_error *err)
{
    js_store *s = jss(st);
    *found = *inserted = false;
    natsMsg *m;
    if (last_dead(s, id, &m) != 0)
        return 0;
    Newsmill__DeadLetter *l;
    const uint8_t *art;
    size_t art_len;
    if (dead_decode(m, &l, &art, &art_len) != 0) {
        natsMsg_Destroy(m);
        return nm_error_set(err, NM_ERR_MALFORMED, "dead letter %s does not parse", id);
    }
    /* A new message id: the article's own may still be in the duplicate
     * window, which would drop this copy. */
    char msg_id[700];
    snprintf(msg_id, sizeof msg_id, "%s#requeued-%lld", id, (long long)now_unix_ms);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_Publish(&pa, s->js, JS_SUBJECT, art, (int)art_len, &po, &jerr);
    int ret = 0;
    if (rc != NATS_OK) {
        ret = nats_fail(err, rc, jerr, "requeueing a dead letter");
    } else {
        /* the history goes with it, as with the spool */
        l->attempts = 0;
        if (history_put(s, (int64_t)pa->Sequence, l, NULL) != 0)
            nm_log_warn("JetStream: history of requeued %s not kept", id);
        char subj[600];
        dead_subject(subj, sizeof subj, id);
        jsOptions o;
        jsOptions_Init(&o);
        o.Stream.Purge.Subject = subj;
        if (js_PurgeStream(s->js, JS_DEAD, &o, &jerr) != NATS_OK)
            nm_log_warn("JetStream: dead letter %s requeued but not deleted", id);
        *found = *inserted = true;
    }
    jsPubAck_Destroy(pa);
    newsmill__dead_letter__free_unpacked(l, NULL);
    natsMsg_Destroy(m);
    return ret;
}

static void j_close(nm_qstore *st)
{
    js_store *s = jss(st);
    for (size_t i = 0; i < s->held.cap; i++)
        if (s->held.keys && s->held.keys[i])
            natsMsg_Destroy(s->held.values[i]); /* unacked: redelivered after the ack wait */
    nm_u64map_clear(&s->held);
    natsSubscription_Destroy(s->sub); /* the durable consumer stays for the other fronts */
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
    .retry = j_retry,
    .bury = j_bury,
    .extend = j_extend,
    .scan_ready = j_scan_ready,
    .fetch = j_fetch,
    .scan_oldest = j_scan_oldest,
    .counts = j_counts,
    .compact = j_compact,
    .dead_list = j_dead_list,
    .unbury = j_unbury,
    .dead_ids = j_dead_ids,
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
        jsStreamInfo_Destroy(si);
        if (bad)
            return nm_error_set(err, NM_ERR_INVALID,
                                "JetStream stream %s exists with other settings: %s; refusing to "
                                "change it (delete it or use another cluster)",
                                want->Name, why);
        return 0;
    }
    rc = js_AddStream(&si, s->js, want, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (rc != NATS_OK)
        return nats_fail(err, rc, jerr, "creating a stream");
    nm_log_info("JetStream stream created name=%s replicas=%lld", want->Name,
                (long long)want->Replicas);
    return 0;
}

static int setup(js_store *s, const nm_qstore_js_config *cfg, int replicas, nm_error *err)
{
    jsStreamConfig sc;
    const char *subj[1];
    jsStreamConfig_Init(&sc);
    sc.Name = JS_STREAM;
    subj[0] = JS_SUBJECT;
    sc.Subjects = subj;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_FileStorage;
    sc.Replicas = replicas;
    if (ensure_stream(s, &sc, err) != 0)
        return -1;
    jsStreamConfig_Init(&sc);
    sc.Name = JS_DEAD;
    subj[0] = JS_DEAD_SUBJECTS;
    sc.Subjects = subj;
    sc.SubjectsLen = 1;
    sc.Retention = js_LimitsPolicy;
    sc.MaxMsgsPerSubject = 1;
    sc.Replicas = replicas;
    if (ensure_stream(s, &sc, err) != 0)
        return -1;
    jsStreamConfig_Init(&sc);
    sc.Name = JS_HISTORY;
    subj[0] = JS_HISTORY_SUBJECTS;
    sc.Subjects = subj;
    sc.SubjectsLen = 1;
    sc.Retention = js_LimitsPolicy;
    sc.MaxMsgsPerSubject = 1;
    sc.MaxAge = JS_HISTORY_MAX_AGE_NS;
    sc.Replicas = replicas;
    if (ensure_stream(s, &sc, err) != 0)
        return -1;

    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = JS_STREAM;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = cfg->ack_wait_ms * 1000000;
    so.Config.MaxDeliver = -1; /* the fronts bury after --max-attempts */
    so.Config.MaxAckPending = -1;
    so.ManualAck = true;
    jsErrCode jerr = 0;
    natsStatus rc = js_PullSubscribe(&s->sub, s->js, JS_SUBJECT, JS_CONSUMER, NULL, &so, &jerr);
    if (rc != NATS_OK)
        return nats_fail(err, rc, jerr, "subscribing to the consumer " JS_CONSUMER);
    return 0;
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
    rc = natsConnection_JetStream(&s->js, s->nc, &jo);
    if (rc != NATS_OK) {
        nats_fail(err, rc, 0, "opening a JetStream context");
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

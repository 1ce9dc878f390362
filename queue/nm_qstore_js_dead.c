/* nm_qstore_js_dead: the JetStream queue store's failures (see
 * nm_qstore_js.h): the failure history of each article (stream
 * NEWSMILL_HISTORY), burying into the dead letters (NEWSMILL_DEAD, one per
 * id), listing them and requeueing one.
 *
 * A requeued article carries its history in a header of its own message
 * (HISTORY_HEADER), so that the two are stored in one publish: writing the
 * history to NEWSMILL_HISTORY after the publish lost it whenever that
 * stream did not answer at that moment (a node restarting). Its first
 * failure after the requeue reads the header and writes the whole history
 * to the stream. */
#include <nats/nats.h>
#include <sodium/utils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_qstore_js_int.h"
#include "nm_time.h"
#include "nm_u64map.h"

/* ---- failure histories ---- */

#define HISTORY_HEADER "Newsmill-History" /* hex of a packed DeadLetter */

static void history_subject(char *buf, size_t size, int64_t seq)
{
    snprintf(buf, size, "newsmill.history.%lld", (long long)seq);
}

/* HISTORY_HEADER's value for h (caller frees). */
static char *history_header(const Newsmill__DeadLetter *h)
{
    size_t n = newsmill__dead_letter__get_packed_size(h);
    uint8_t *packed = nm_xmalloc(n + 1);
    newsmill__dead_letter__pack(h, packed);
    char *hex = nm_xmalloc(2 * n + 1);
    sodium_bin2hex(hex, 2 * n + 1, packed, n);
    free(packed);
    return hex;
}

/* The history a requeued delivery carries in its header, or NULL. */
static Newsmill__DeadLetter *history_from_header(natsMsg *m)
{
    const char *hex = NULL;
    if (!m || natsMsgHeader_Get(m, HISTORY_HEADER, &hex) != NATS_OK || !hex)
        return NULL;
    size_t hex_len = strlen(hex), n = 0;
    uint8_t *buf = nm_xmalloc(hex_len / 2 + 1);
    Newsmill__DeadLetter *h = NULL;
    if (sodium_hex2bin(buf, hex_len / 2 + 1, hex, hex_len, NULL, &n, NULL) == 0)
        h = newsmill__dead_letter__unpack(NULL, n, buf);
    free(buf);
    return h;
}

/* The failures recorded for seq so far: NEWSMILL_HISTORY's, else those the
 * delivery m carries (a requeued article), else none (an empty letter).
 * NULL with err when NEWSMILL_HISTORY does not answer: a history is never
 * silently started again. */
static Newsmill__DeadLetter *history_get(js_store *s, int64_t seq, natsMsg *m, nm_error *err)
{
    char subj[64];
    history_subject(subj, sizeof subj, seq);
    natsMsg *hm = NULL;
    jsErrCode jerr = 0;
    Newsmill__DeadLetter *h = NULL;
    natsStatus rc = js_GetLastMsg(&hm, s->js, JS_HISTORY, subj, NULL, &jerr);
    if (rc == NATS_OK) {
        h = newsmill__dead_letter__unpack(NULL, (size_t)natsMsg_GetDataLength(hm),
                                          (const uint8_t *)natsMsg_GetData(hm));
        natsMsg_Destroy(hm);
    } else if (rc != NATS_NOT_FOUND && jerr != JSNoMessageFoundErr) {
        nats_fail(s, err, rc, jerr, "reading a failure history");
        return NULL;
    }
    if (!h)
        h = history_from_header(m);
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
    return rc == NATS_OK ? 0 : nats_fail(s, err, rc, jerr, "recording a failure");
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

int nm_js_retry(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
                int64_t not_before_unix_ms, const Newsmill__FailureRecord *rec, bool *applied,
                nm_error *err)
{
    (void)rev;
    (void)attempts;
    js_store *s = jss(st);
    if (applied)
        *applied = false;
    if (js_ready(s, err) != 0)
        return -1; /* still held: given again after the ack wait */
    natsMsg *m = nm_u64map_get(&s->held, (uint64_t)seq);
    if (!m)
        return 0;
    Newsmill__DeadLetter *h = history_get(s, seq, m, err);
    if (!h)
        return -1; /* still held: given again after the ack wait */
    unhold(s, seq);
    history_append(h, rec);
    int rc = history_put(s, seq, h, err);
    newsmill__dead_letter__free_unpacked(h, NULL);
    int64_t delay_ms = not_before_unix_ms - nm_time_unix_ms();
    natsStatus ns = js_nak(s, m, delay_ms > 0 ? delay_ms : 0);
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

/* ---- dead letters ---- */

/* newsmill.dead.<hex of id>: DEAD_SUBJECT_SIZE holds the longest id whole
 * (an id cut short would share its subject with another). */
#define DEAD_SUBJECT_SIZE (sizeof "newsmill.dead." + 2 * NM_QSTORE_ID_MAX_BYTES)

static void dead_subject(char *buf, size_t size, const char *id)
{
    size_t n = (size_t)snprintf(buf, size, "newsmill.dead."), id_len = strlen(id);
    if (id_len > (size - n - 1) / 2)
        id_len = (size - n - 1) / 2;
    sodium_bin2hex(buf + n, size - n, (const unsigned char *)id, id_len);
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

int nm_js_bury(nm_qstore *st, int64_t seq, int64_t rev, uint32_t attempts,
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
    if (js_ready(s, err) != 0)
        return -1; /* still held: given again after the ack wait */
    Newsmill__DeadLetter *h = history_get(s, seq, m, err);
    if (!h)
        return -1; /* still held: given again after the ack wait */
    const uint8_t *art = (const uint8_t *)natsMsg_GetData(m);
    size_t art_len = (size_t)natsMsg_GetDataLength(m);
    Newsmill__Article *a = newsmill__article__unpack(NULL, art_len, art);
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
    char subj[DEAD_SUBJECT_SIZE];
    dead_subject(subj, sizeof subj, h->id);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_Publish(&pa, s->js, subj, buf, (int)(4 + dl + art_len), NULL, &jerr);
    free(buf);
    jsPubAck_Destroy(pa);
    if (rc != NATS_OK) {
        newsmill__dead_letter__free_unpacked(h, NULL);
        return nats_fail(s, err, rc, jerr, "publishing a dead letter");
    }
    /* The letter is stored: now the article may leave the work queue. If
     * this ack is lost, the article comes back and is buried again (one
     * letter per id: the newer replaces it). */
    unhold(s, seq);
    int arc = js_ack_sync(s, m, err);
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

static int dead_each(js_store *s, bool (*fn)(void *arg, natsMsg *m, uint64_t seq), void *arg,
                     nm_error *err)
{
    if (js_ready(s, err) != 0)
        return -1;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = js_GetStreamInfo(&si, s->js, JS_DEAD, NULL, &jerr);
    if (rc != NATS_OK)
        return nats_fail(s, err, rc, jerr, "reading the dead letters");
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
            return nats_fail(s, err, rc, jerr, "reading a dead letter");
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
    char subj[DEAD_SUBJECT_SIZE];
    dead_subject(subj, sizeof subj, id);
    jsErrCode jerr = 0;
    *m = NULL;
    return js_GetLastMsg(m, s->js, JS_DEAD, subj, NULL, &jerr) == NATS_OK ? 0 : -1;
}

int nm_js_dead_list(nm_qstore *st, uint32_t limit, const char *id,
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

int nm_js_dead_ids(nm_qstore *st, char ***ids, size_t *n, nm_error *err)
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

int nm_js_unbury(nm_qstore *st, const char *id, int64_t now_unix_ms, bool *found,
                 bool *inserted, nm_error *err)
{
    js_store *s = jss(st);
    if (js_ready(s, err) != 0)
        return -1;
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
    char msg_id[NM_QSTORE_ID_MAX_BYTES + 64];
    snprintf(msg_id, sizeof msg_id, "%s#requeued-%lld", id, (long long)now_unix_ms);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    /* the history goes with it, as with the spool: in its header */
    l->attempts = 0;
    char *hex = history_header(l);
    natsMsg *msg = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsStatus rc = natsMsg_Create(&msg, JS_SUBJECT, NULL, (const char *)art, (int)art_len);
    if (rc == NATS_OK)
        rc = natsMsgHeader_Set(msg, HISTORY_HEADER, hex);
    if (rc == NATS_OK)
        rc = js_PublishMsg(&pa, s->js, msg, &po, &jerr);
    natsMsg_Destroy(msg);
    free(hex);
    int ret = 0;
    if (rc != NATS_OK) {
        ret = nats_fail(s, err, rc, jerr, "requeueing a dead letter");
    } else {
        char subj[DEAD_SUBJECT_SIZE];
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

/* The queue's front socket: submits (validation + group commit) and the
 * dead-letter admin requests. See nm_queue.h for the design. */
/* Cycle with nm_queue.c, nm_queue_work.c: the reactor (nm_queue.c) and its two socket handlers are one object (struct nm_queue in nm_queue_int.h); the handlers use its counters and storage-result path. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_queue_int.h"
#include "nm_time.h"
#include "nm_utf8.h"

/* One group commit holds at most this much. */
#define GROUP_MAX_BATCHES 512
#define GROUP_MAX_ARTICLES 50000

typedef struct pending {
    nm_route route;
    uint64_t request_id;
    Newsmill__Envelope *env;
    int64_t recv_ns;
    Newsmill__ArticleAck *acks;
    Newsmill__ArticleAck **ack_ptrs;
    char **derived_ids; /* per article: malloc'd derived id or NULL */
    uint32_t n_valid;
} pending;

typedef struct nm_queue_group {
    pending batches[GROUP_MAX_BATCHES];
    size_t n;
    size_t articles, bytes;
    bool txn_open, txn_failed;
    nm_error txn_err;
    int64_t new_rows;
    uint8_t *pack; /* reused packing buffer */
    size_t pack_cap;
} group;

void nm_queue_front_free(nm_queue *q)
{
    if (q->group) {
        free(q->group->pack);
        free(q->group);
        q->group = NULL;
    }
}

static void reply_error(nm_queue *q, const nm_route *route, uint64_t request_id, nm_errcode code,
                        const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void reply_error(nm_queue *q, const nm_route *route, uint64_t request_id, nm_errcode code,
                        const char *reason, const char *fmt, ...)
{
    nm_error err;
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    nm_queue_count_refusal(q, reason);
    nm_log_warn("front request refused reason=%s request_id=%llu: %s", reason,
                (unsigned long long)request_id, err.msg);
    nm_frame_reply_error(q->front, route, request_id, &err);
}

/* Returns whether the reply went out (a producer that left, or a full
 * pipe, drops it). */
static bool send_reply(nm_queue *q, const nm_route *route, Newsmill__Envelope *env)
{
    nm_error err;
    if (nm_frame_send(q->front, route, env, ZMQ_DONTWAIT, &err) == 0)
        return true;
    nm_log_warn("reply to producer dropped (%s): %s", nm_frame_body_name(env->body_case),
                err.msg);
    return false;
}

static char *derive_id(const char *prefix, const void *data, size_t len)
{
    unsigned char hash[16];
    crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
    char *id = nm_xmalloc(strlen(prefix) + 2 * sizeof hash + 1);
    size_t n = (size_t)sprintf(id, "%s", prefix);
    for (size_t i = 0; i < sizeof hash; i++)
        n += (size_t)sprintf(id + n, "%02x", hash[i]);
    return id;
}

/* Checks one article; returns NULL when valid, else the reason label and
 * fills msg. */
static const char *invalid_article(const nm_queue *q, const Newsmill__Article *a, char *msg,
                                   size_t size)
{
    size_t bad;
    if (a->id && strlen(a->id) > NM_QSTORE_ID_MAX_BYTES) {
        snprintf(msg, size, "id longer than %d bytes", NM_QSTORE_ID_MAX_BYTES);
        return "bad-id";
    }
    if (a->id && !nm_utf8_valid(a->id, strlen(a->id), &bad)) {
        snprintf(msg, size, "id is not valid UTF-8 (byte %zu)", bad);
        return "bad-id";
    }
    if (a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_UNSPECIFIED &&
        a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT &&
        a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML) {
        snprintf(msg, size, "unknown content type %d", (int)a->content_type);
        return "unknown-content-type";
    }
    if (a->body.len == 0) {
        snprintf(msg, size, "empty body");
        return "empty-body";
    }
    if ((int64_t)a->body.len > q->cfg.max_article_bytes) {
        snprintf(msg, size, "body of %zu bytes exceeds the limit of %lld (--max-article-bytes)",
                 a->body.len, (long long)q->cfg.max_article_bytes);
        return "too-large";
    }
    if (a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML) {
        const char *body = (const char *)a->body.data;
        if (!nm_utf8_valid(body, a->body.len, &bad)) {
            snprintf(msg, size, "text is not valid UTF-8 (first bad byte at offset %zu)", bad);
            return "invalid-utf8";
        }
        const char *nul = memchr(body, '\0', a->body.len);
        if (nul) {
            snprintf(msg, size, "text contains a NUL byte at offset %zu", (size_t)(nul - body));
            return "nul-byte";
        }
    }
    return NULL;
}

static void store_article(nm_queue *q, group *g, Newsmill__Article *a, const char *id)
{
    if (g->txn_failed)
        return;
    if (!g->txn_open) {
        int rc = q->store->ops->begin(q->store, true, &g->txn_err);
        if (rc != 0) {
            g->txn_failed = true;
            return;
        }
        g->txn_open = true;
    }
    char *saved = a->id;
    a->id = (char *)id;
    size_t len = newsmill__article__get_packed_size(a);
    if (len > g->pack_cap) {
        free(g->pack);
        g->pack_cap = len + len / 2 + 256;
        g->pack = nm_xmalloc(g->pack_cap);
    }
    newsmill__article__pack(a, g->pack);
    a->id = saved;
    bool inserted;
    if (q->store->ops->put(q->store, id, a->priority, nm_time_unix_ms(), g->pack, len,
                           &inserted, &g->txn_err) != 0) {
        g->txn_failed = true;
        return;
    }
    g->new_rows += inserted;
}

/* Refuses the whole batch when the spool is at its configured limit. */
static bool over_capacity(nm_queue *q, group *g, size_t n, char *msg, size_t size)
{
    if (q->cfg.max_backlog > 0 && q->n_articles + g->new_rows + (int64_t)n > q->cfg.max_backlog) {
        snprintf(msg, size,
                 "queue full: %lld articles in the spool, a batch of %zu would pass the limit of "
                 "%lld (--max-backlog); retry later",
                 (long long)(q->n_articles + g->new_rows), n, (long long)q->cfg.max_backlog);
        return true;
    }
    if (q->cfg.max_spool_bytes > 0 && q->spool_bytes >= q->cfg.max_spool_bytes) {
        snprintf(msg, size,
                 "queue full: the spool uses %lld bytes, the limit is %lld (--max-spool-bytes); "
                 "retry later",
                 (long long)q->spool_bytes, (long long)q->cfg.max_spool_bytes);
        return true;
    }
    return false;
}

/* Validates a submit and stores its valid articles in the group's
 * transaction. Takes ownership of env. */
static void handle_submit(nm_queue *q, group *g, const nm_route *route, Newsmill__Envelope *env,
                          int64_t recv_ns)
{
    Newsmill__SubmitBatch *b = env->submit;
    size_t n = b->n_articles;
    char msg[400];
    nm_metric_add(q->m.submitted, (double)n);
    if (n == 0) {
        reply_error(q, route, env->request_id, NM_ERR_INVALID, "empty-batch",
                    "empty batch: send 1..%lld articles", (long long)q->cfg.max_batch);
        nm_frame_free(&env);
        return;
    }
    if ((int64_t)n > q->cfg.max_batch) {
        nm_queue_count_rejected(q, "batch-too-large", (double)n);
        reply_error(q, route, env->request_id, NM_ERR_TOO_LARGE, "batch-too-large",
                    "batch of %zu articles exceeds the limit of %lld (--max-batch)", n,
                    (long long)q->cfg.max_batch);
        nm_frame_free(&env);
        return;
    }
    if (over_capacity(q, g, n, msg, sizeof msg)) {
        nm_queue_count_rejected(q, "queue-full", (double)n);
        q->last_full_ns = nm_time_mono_ns();
        reply_error(q, route, env->request_id, NM_ERR_FULL, "queue-full", "%s", msg);
        nm_frame_free(&env);
        return;
    }
    pending *p = &g->batches[g->n++];
    memset(p, 0, sizeof *p);
    p->route = *route;
    p->request_id = env->request_id;
    p->env = env;
    p->recv_ns = recv_ns;
    p->acks = nm_xcalloc(n, sizeof *p->acks);
    p->ack_ptrs = nm_xmalloc(n * sizeof *p->ack_ptrs);
    p->derived_ids = nm_xcalloc(n, sizeof *p->derived_ids);
    for (size_t i = 0; i < n; i++) {
        Newsmill__Article *a = b->articles[i];
        Newsmill__ArticleAck *ack = &p->acks[i];
        newsmill__article_ack__init(ack);
        p->ack_ptrs[i] = ack;
        ack->index = (uint32_t)i;
        const char *label = invalid_article(q, a, msg, sizeof msg);
        if (label) {
            nm_queue_count_rejected(q, label, 1);
            ack->reason = nm_xstrdup(msg);
            ack->id = a->id ? a->id : "";
            continue;
        }
        const char *id = a->id;
        if (!id || !*id) {
            if (a->url && *a->url)
                p->derived_ids[i] = derive_id("url-", a->url, strlen(a->url));
            else
                p->derived_ids[i] = derive_id("body-", a->body.data, a->body.len);
            id = p->derived_ids[i];
        }
        ack->id = (char *)id;
        ack->accepted = true;
        ack->reason = "";
        p->n_valid++;
        store_article(q, g, a, id);
        g->bytes += a->body.len;
    }
    g->articles += n;
}

static void free_pending(pending *p)
{
    size_t n = p->env->submit->n_articles;
    for (size_t i = 0; i < n; i++) {
        if (!p->acks[i].accepted)
            free(p->acks[i].reason);
        free(p->derived_ids[i]);
    }
    free(p->acks);
    free(p->ack_ptrs);
    free(p->derived_ids);
    nm_frame_free(&p->env);
}

/* Commits the group and answers every batch in it. */
static void finish_group(nm_queue *q, group *g)
{
    if (g->n == 0)
        return;
    int rc = 0;
    if (g->txn_open && !g->txn_failed && q->store->ops->commit(q->store, &g->txn_err) != 0)
        g->txn_failed = true;
    if (g->txn_failed) {
        q->store->ops->rollback(q->store);
        rc = -1;
    }
    if (g->txn_open || g->txn_failed)
        nm_queue_storage_result(q, rc, &g->txn_err);
    if (rc == 0) {
        q->n_articles += g->new_rows;
        if (g->txn_open) /* new rows, or replaced bodies that start without back-off */
            q->win_dirty = true;
        if (q->cfg.max_spool_bytes > 0)
            q->store->ops->counts(q->store, NULL, NULL, &q->spool_bytes, NULL);
    }
    int64_t now = nm_time_mono_ns();
    for (size_t i = 0; i < g->n; i++) {
        pending *p = &g->batches[i];
        size_t n = p->env->submit->n_articles;
        if (rc != 0 && p->n_valid > 0) {
            nm_queue_count_rejected(q, g->txn_err.code == NM_ERR_BUSY ? "unavailable" : "storage",
                                    p->n_valid);
            reply_error(q, &p->route, p->request_id, NM_ERR_IO, "storage",
                        "%s write failed: %s; nothing of this batch was accepted",
                        q->store->ops->name, g->txn_err.msg);
        } else {
            Newsmill__SubmitAck ack = NEWSMILL__SUBMIT_ACK__INIT;
            ack.acks = p->ack_ptrs;
            ack.n_acks = n;
            ack.accepted = p->n_valid;
            ack.rejected = (uint32_t)n - p->n_valid;
            Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
            env.request_id = p->request_id;
            env.body_case = NEWSMILL__ENVELOPE__BODY_SUBMIT_ACK;
            env.submit_ack = &ack;
            /* accepted counts acks that went out: a producer that left
             * before its ack does not know, and will submit again */
            if (send_reply(q, &p->route, &env)) {
                nm_metric_add(q->m.accepted, p->n_valid);
                nm_metric_observe(q->m.submit_ack_seconds, (double)(now - p->recv_ns) / 1e9);
            }
        }
        free_pending(p);
    }
    g->n = 0;
    g->articles = g->bytes = 0;
    g->txn_open = g->txn_failed = false;
    g->new_rows = 0;
}

static void handle_dead_list(nm_queue *q, const nm_route *route, Newsmill__Envelope *env)
{
    Newsmill__DeadListRequest *req = env->dead_list_request;
    uint32_t limit = req->limit ? req->limit : 100;
    if (limit > 10000)
        limit = 10000;
    Newsmill__DeadLetter **letters;
    size_t n;
    nm_error err;
    if (q->store->ops->dead_list(q->store, limit, req->id, &letters, &n, &err) != 0) {
        reply_error(q, route, env->request_id, NM_ERR_IO, "storage", "reading dead letters: %s",
                    err.msg);
        return;
    }
    Newsmill__DeadList list = NEWSMILL__DEAD_LIST__INIT;
    list.dead = letters;
    list.n_dead = n;
    list.total = (uint64_t)q->n_dead;
    Newsmill__Envelope reply = NEWSMILL__ENVELOPE__INIT;
    reply.request_id = env->request_id;
    reply.body_case = NEWSMILL__ENVELOPE__BODY_DEAD_LIST;
    reply.dead_list = &list;
    send_reply(q, route, &reply);
    nm_qstore_letters_free(letters, n);
}

static void handle_requeue(nm_queue *q, const nm_route *route, Newsmill__Envelope *env)
{
    Newsmill__RequeueRequest *req = env->requeue;
    char **ids = req->ids;
    size_t n = req->n_ids;
    char **all_ids = NULL;
    nm_error err;
    if (req->all) {
        if (q->store->ops->dead_ids(q->store, &all_ids, &n, &err) != 0) {
            reply_error(q, route, env->request_id, NM_ERR_IO, "storage", "listing dead letters: %s",
                        err.msg);
            return;
        }
        ids = all_ids;
    }
    char **not_found = nm_xmalloc((n ? n : 1) * sizeof *not_found);
    size_t n_not_found = 0;
    uint32_t requeued = 0;
    int64_t inserted_rows = 0;
    int64_t now_ms = nm_time_unix_ms();
    int rc = q->store->ops->begin(q->store, true, &err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool found, inserted;
        rc = q->store->ops->unbury(q->store, ids[i], now_ms, &found, &inserted, &err);
        if (rc == 0 && found)
            requeued++;
        else if (rc == 0)
            not_found[n_not_found++] = ids[i];
        inserted_rows += inserted;
    }
    if (rc == 0)
        rc = q->store->ops->commit(q->store, &err);
    if (rc != 0)
        q->store->ops->rollback(q->store);
    nm_queue_storage_result(q, rc, &err);
    if (rc != 0) {
        reply_error(q, route, env->request_id, NM_ERR_IO, "storage", "%s write failed: %s",
                    q->store->ops->name, err.msg);
    } else {
        q->n_dead -= requeued;
        q->n_articles += inserted_rows;
        q->win_dirty = true;
        /* A dead letter whose id waits in the store again (a newer body) is
         * dropped: the newer body wins, as on a resubmit. */
        nm_log_info("dead letters requeued n=%u superseded_by_waiting=%lld not_found=%zu", requeued,
                    (long long)(requeued - inserted_rows), n_not_found);
        Newsmill__RequeueReply rr = NEWSMILL__REQUEUE_REPLY__INIT;
        rr.requeued = requeued;
        rr.not_found = not_found;
        rr.n_not_found = n_not_found;
        Newsmill__Envelope reply = NEWSMILL__ENVELOPE__INIT;
        reply.request_id = env->request_id;
        reply.body_case = NEWSMILL__ENVELOPE__BODY_REQUEUE_REPLY;
        reply.requeue_reply = &rr;
        send_reply(q, route, &reply);
    }
    free(not_found);
    if (all_ids) {
        for (size_t i = 0; i < n; i++)
            free(all_ids[i]);
        free(all_ids);
    }
}

void nm_queue_front_drain(nm_queue *q)
{
    if (!q->group)
        q->group = nm_xcalloc(1, sizeof *q->group); /* ~600 KiB: not on the stack */
    group *g = q->group;
    for (size_t turn = 0; turn < 4 * GROUP_MAX_BATCHES; turn++) {
        nm_route route;
        Newsmill__Envelope *env;
        nm_error err;
        if (nm_frame_recv(q->front, &route, (size_t)q->cfg.max_frame_bytes, &env, ZMQ_DONTWAIT,
                          &err) != 0) {
            if (err.code == NM_ERR_BUSY)
                break;
            if (err.code == NM_ERR_ZMQ) {
                nm_log_error("front socket: %s", err.msg);
                break;
            }
            nm_queue_count_refusal(q, nm_errcode_name(err.code));
            nm_log_warn("bad message on front socket refused: %s", err.msg);
            nm_frame_reply_error(q->front, &route, 0, &err);
            continue;
        }
        switch (env->body_case) {
        case NEWSMILL__ENVELOPE__BODY_SUBMIT:
            handle_submit(q, g, &route, env, nm_time_mono_ns());
            break;
        case NEWSMILL__ENVELOPE__BODY_DEAD_LIST_REQUEST:
            finish_group(q, g);
            handle_dead_list(q, &route, env);
            nm_frame_free(&env);
            break;
        case NEWSMILL__ENVELOPE__BODY_REQUEUE:
            finish_group(q, g);
            handle_requeue(q, &route, env);
            nm_frame_free(&env);
            break;
        default:
            reply_error(q, &route, env->request_id, NM_ERR_INVALID, "wrong-socket",
                        "%s is not accepted on the queue's producer socket (expected submit, "
                        "dead_list_request or requeue)",
                        nm_frame_body_name(env->body_case));
            nm_frame_free(&env);
            break;
        }
        if (g->n == GROUP_MAX_BATCHES || g->articles >= GROUP_MAX_ARTICLES || g->bytes >= (size_t)NM_QUEUE_GROUP_MAX_BYTES)
            break;
    }
    finish_group(q, g);
}

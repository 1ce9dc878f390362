/* The queue's back socket: workers, credit, leases, settling and delivery.
 * See nm_queue.h for the design. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_protocol.h"
#include "nm_queue_int.h"
#include "nm_time.h"

/* Most articles one worker may hold: bounds the leases (and delivery
 * messages) in memory whatever a worker asks for. */
#define CREDIT_MAX 10000u
#define BACK_DRAIN_MAX 4096

/* ---- workers ---- */

static nm_queue_worker *find_worker(nm_queue *q, const nm_route *route)
{
    if (route->n != 1)
        return NULL;
    for (nm_queue_worker *w = q->workers; w; w = w->next) {
        if (w->rid_len == route->len[0] && !memcmp(w->rid, route->data[0], w->rid_len))
            return w;
    }
    return NULL;
}

static nm_queue_worker *add_worker(nm_queue *q, const nm_route *route, const Newsmill__Credit *c)
{
    nm_queue_worker *w = nm_xcalloc(1, sizeof *w);
    w->rid_len = route->len[0];
    memcpy(w->rid, route->data[0], w->rid_len);
    if (c->worker && *c->worker)
        snprintf(w->name, sizeof w->name, "%s", c->worker);
    else
        snprintf(w->name, sizeof w->name, "%s:%u", c->host && *c->host ? c->host : "unknown", c->pid);
    w->in_flight_gauge = nm_stats_gauge(q->stats, "queue_worker_in_flight_articles",
                                        "Articles under lease per worker", "worker", w->name);
    w->next = q->workers;
    q->workers = w;
    q->n_workers++;
    nm_log_info("worker joined name=%s", w->name);
    return w;
}

static void unlink_lease(nm_queue *q, nm_lease *l)
{
    nm_queue_worker *w = l->owner;
    if (l->owner_prev)
        l->owner_prev->owner_next = l->owner_next;
    else
        w->leases = l->owner_next;
    if (l->owner_next)
        l->owner_next->owner_prev = l->owner_prev;
    if (w->in_flight)
        w->in_flight--;
    if (w->n_suspects && nm_suspects_cap(q->suspects, l->seq) && --w->n_suspects == 0)
        w->group_limit = 0;
    nm_u64map_del(&q->present, (uint64_t)l->seq);
    nm_lease_remove(q->leases, l);
}

static void push_op(nm_queue *q, nm_settle_kind kind, const nm_lease *l, const char *reason,
                    const char *worker)
{
    if (q->n_ops == q->cap_ops) {
        q->cap_ops = q->cap_ops ? 2 * q->cap_ops : 256;
        q->ops = nm_xrealloc(q->ops, q->cap_ops * sizeof *q->ops);
    }
    nm_settle_op *op = &q->ops[q->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->seq = l->seq;
    op->rev = l->rev;
    op->attempt = l->attempt;
    op->at_unix_ms = nm_time_unix_ms();
    op->reason = reason ? nm_xstrdup(reason) : NULL;
    snprintf(op->worker, sizeof op->worker, "%s", worker);
}

/* A delivery ended without done: retry with back-off, or bury. Returns
 * true when it buries. */
static bool fail_lease(nm_queue *q, nm_lease *l, const char *reason, bool retryable)
{
    nm_queue_worker *w = l->owner;
    bool bury = !retryable || (int64_t)l->attempt >= q->cfg.max_attempts;
    push_op(q, bury ? SETTLE_BURY : SETTLE_RETRY, l, reason, w->name);
    if (!bury) {
        int64_t delay = q->cfg.retry_base_ms;
        for (uint32_t i = 1; i < l->attempt && delay < q->cfg.retry_max_ms; i++)
            delay *= 2;
        if (delay > q->cfg.retry_max_ms)
            delay = q->cfg.retry_max_ms;
        q->ops[q->n_ops - 1].not_before_unix_ms = nm_time_unix_ms() + delay;
    }
    unlink_lease(q, l);
    return bury;
}

/* The worker holding l died, went silent or let l expire, while it held
 * `group` articles in all. Only an article it held alone is charged an
 * attempt; the others go back at once, uncharged, as suspects to be
 * redelivered in smaller groups (nm_suspects.h). what: "silent for ...". */
static void lose_lease(nm_queue *q, nm_lease *l, uint32_t group, const char *what)
{
    nm_queue_worker *w = l->owner;
    int64_t seq = l->seq;
    char reason[400];
    if (!q->store->ops->caps.shared) /* else the store counts them (nm_queue.c) */
        nm_metric_add(q->m.redelivered, 1);
    if (group <= 1) {
        snprintf(reason, sizeof reason,
                 "worker died while processing it (%u times, delivered alone): worker %s %s",
                 nm_suspects_alone_deaths(q->suspects, seq) + 1, w->name, what);
        if (fail_lease(q, l, reason, true)) {
            nm_suspects_forget(q->suspects, seq);
            return;
        }
    } else {
        snprintf(reason, sizeof reason,
                 "worker %s %s while holding it among %u articles (not counted against it;"
                 " redelivered in smaller groups)",
                 w->name, what, group);
        push_op(q, SETTLE_RETRY, l, reason, w->name);
        q->ops[q->n_ops - 1].attempt = l->attempt - 1; /* attempts unchanged, no back-off */
        unlink_lease(q, l);
    }
    nm_suspects_note_death(q->suspects, seq, group);
}

/* The group w's leases are judged as when they are lost now: what it holds,
 * or what it held when its leases started expiring (within a lease length),
 * whichever is more. */
static uint32_t lost_group(nm_queue *q, nm_queue_worker *w, int64_t now_ns)
{
    if (!w->lost_at_ns || now_ns - w->lost_at_ns > q->cfg.lease_ms * NM_NS_PER_MS) {
        w->lost_at_ns = now_ns;
        w->lost_group = w->in_flight;
    }
    return w->in_flight > w->lost_group ? w->in_flight : w->lost_group;
}

/* Takes every lease of w back (reason in the history) and forgets w. */
static void drop_worker(nm_queue *q, nm_queue_worker *w, const char *why)
{
    size_t n = 0;
    uint32_t group = lost_group(q, w, nm_time_mono_ns());
    while (w->leases) {
        lose_lease(q, w->leases, group, why);
        n++;
    }
    nm_log_warn("worker dropped name=%s reason=\"%s\" leases_returned=%zu", w->name, why, n);
    for (nm_queue_worker **pp = &q->workers; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    q->n_workers--;
    /* The per-worker series goes with the worker (restarts would otherwise
     * pile them up), unless another live worker shares its name. */
    bool shared = false;
    for (const nm_queue_worker *o = q->workers; o; o = o->next)
        shared |= o->in_flight_gauge == w->in_flight_gauge;
    if (!shared)
        nm_stats_remove(q->stats, &w->in_flight_gauge);
    free(w);
}

void nm_queue_workers_free(nm_queue *q)
{
    while (q->workers) {
        nm_queue_worker *w = q->workers;
        while (w->leases)
            unlink_lease(q, w->leases);
        q->workers = w->next;
        free(w);
    }
    q->n_workers = 0;
}

/* ---- back socket ---- */

static void back_error(nm_queue *q, const nm_route *route, uint64_t request_id, nm_errcode code,
                       const char *reason, const char *msg)
{
    nm_error err;
    err.code = code;
    snprintf(err.msg, sizeof err.msg, "%s", msg);
    nm_queue_count_refusal(q, reason);
    nm_frame_reply_error(q->back, route, request_id, &err);
}

static void reply_unknown(nm_queue *q, const nm_route *route, uint64_t request_id,
                          const uint64_t *ids, size_t n, const char *what)
{
    if (n == 0)
        return;
    nm_metric_add(nm_stats_counter(q->stats, NM_METRIC_QUEUE_REQUESTS_REJECTED_TOTAL,
                                   "Requests refused (bad frames, wrong socket, full, storage, "
                                   "unknown leases)",
                                   "reason", "unknown-lease"),
                  (double)n);
    nm_log_warn("%s for %zu unknown or expired lease(s) refused (first %llu)", what, n,
                (unsigned long long)ids[0]);
    Newsmill__LeaseReply r = NEWSMILL__LEASE_REPLY__INIT;
    r.unknown_lease_ids = (uint64_t *)ids;
    r.n_unknown_lease_ids = n;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = request_id;
    env.body_case = NEWSMILL__ENVELOPE__BODY_LEASE_REPLY;
    env.lease_reply = &r;
    nm_frame_send(q->back, route, &env, ZMQ_DONTWAIT, NULL);
}

/* Asks a worker we do not know (or no longer trust the credit of) for a
 * reset Credit; see nm_consumer.h. */
static void ask_for_credit(nm_queue *q, const nm_route *route, nm_queue_worker *w, uint64_t request_id)
{
    if (w)
        w->sync_mark = w->sent;
    back_error(q, route, NM_REQUEST_HEARTBEAT_BIT | request_id, NM_ERR_INVALID,
               "unknown-worker", "unknown worker: announce credit (reset) first");
}

/* Answers a heartbeat that asks for it: the worker learns we are alive
 * (nm_consumer.h, failover). */
static void echo_heartbeat(nm_queue *q, const nm_route *route, const nm_queue_worker *w,
                           uint64_t request_id)
{
    Newsmill__Heartbeat hb = NEWSMILL__HEARTBEAT__INIT;
    hb.in_flight = w->in_flight;
    Newsmill__Envelope env = NEWSMILL__ENVELOPE__INIT;
    env.request_id = request_id;
    env.body_case = NEWSMILL__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    nm_frame_send(q->back, route, &env, ZMQ_DONTWAIT, NULL);
}

static void on_credit(nm_queue *q, const nm_route *route, nm_queue_worker *w, uint64_t request_id,
                      const Newsmill__Credit *c)
{
    bool reset = (request_id & NM_REQUEST_CREDIT_RESET_BIT) != 0;
    if (!w) {
        w = add_worker(q, route, c);
        w->last_seen_ns = nm_time_mono_ns();
        if (!reset) {
            /* An additive credit from a session we never saw: its base is
             * unknown. Take none of it and ask for the exact figure. */
            ask_for_credit(q, route, w, request_id);
            return;
        }
    }
    uint64_t credit;
    if (reset) {
        uint64_t unseen = w->sent - w->sync_mark; /* sent after we asked */
        credit = c->credit > unseen ? c->credit - unseen : 0;
    } else {
        credit = (uint64_t)w->credit + c->credit;
    }
    w->credit = credit > CREDIT_MAX ? CREDIT_MAX : (uint32_t)credit;
    w->draining = false;
}

static void on_done(nm_queue *q, const nm_route *route, uint64_t request_id, const Newsmill__Done *d)
{
    uint64_t *unknown = NULL;
    size_t n_unknown = 0;
    for (size_t i = 0; i < d->n_lease_ids; i++) {
        nm_lease *l = nm_lease_find(q->leases, d->lease_ids[i]);
        if (!l) {
            if (!unknown)
                unknown = nm_xmalloc(d->n_lease_ids * sizeof *unknown);
            unknown[n_unknown++] = d->lease_ids[i];
            continue;
        }
        int64_t seq = l->seq;
        push_op(q, SETTLE_DONE, l, NULL, "");
        unlink_lease(q, l);
        nm_suspects_forget(q->suspects, seq);
    }
    reply_unknown(q, route, request_id, unknown, n_unknown, "done");
    free(unknown);
}

static void on_fail(nm_queue *q, const nm_route *route, uint64_t request_id, const Newsmill__Fail *f)
{
    nm_lease *l = nm_lease_find(q->leases, f->lease_id);
    if (!l) {
        reply_unknown(q, route, request_id, &f->lease_id, 1, "fail");
        return;
    }
    nm_metric_add(q->m.failed, 1);
    const char *reason = f->reason && *f->reason ? f->reason : "(no reason given)";
    int64_t seq = l->seq;
    if (fail_lease(q, l, reason, f->retryable))
        nm_suspects_forget(q->suspects, seq);
}

static void on_extend(nm_queue *q, const nm_route *route, uint64_t request_id,
                      const Newsmill__ExtendLease *x)
{
    int64_t ms = x->lease_ms ? x->lease_ms : q->cfg.lease_ms;
    int64_t deadline = nm_time_mono_ns() + ms * NM_NS_PER_MS;
    uint64_t *unknown = NULL;
    size_t n_unknown = 0;
    for (size_t i = 0; i < x->n_lease_ids; i++) {
        nm_lease *l = nm_lease_find(q->leases, x->lease_ids[i]);
        if (l) {
            nm_lease_set_deadline(q->leases, l, deadline);
            if (q->store->ops->extend)
                q->store->ops->extend(q->store, l->seq);
            continue;
        }
        if (!unknown)
            unknown = nm_xmalloc(x->n_lease_ids * sizeof *unknown);
        unknown[n_unknown++] = x->lease_ids[i];
    }
    reply_unknown(q, route, request_id, unknown, n_unknown, "extend");
    free(unknown);
}

static void handle_back(nm_queue *q, const nm_route *route, Newsmill__Envelope *env)
{
    nm_queue_worker *w = find_worker(q, route);
    if (w)
        w->last_seen_ns = nm_time_mono_ns();
    switch (env->body_case) {
    case NEWSMILL__ENVELOPE__BODY_CREDIT:
        if (route->n != 1) {
            back_error(q, route, env->request_id, NM_ERR_INVALID, "bad-route",
                       "workers must connect with a DEALER socket");
            break;
        }
        on_credit(q, route, w, env->request_id, env->credit);
        break;
    case NEWSMILL__ENVELOPE__BODY_HEARTBEAT:
        if (!w) {
            /* The queue restarted or dropped this worker: ask for credit. */
            ask_for_credit(q, route, NULL, env->request_id);
            break;
        }
        if (env->heartbeat->draining && !w->draining) {
            nm_log_info("worker draining name=%s in_flight=%u", w->name, w->in_flight);
            w->draining = true;
            w->credit = 0;
        }
        if (env->request_id & NM_REQUEST_ECHO_BIT)
            echo_heartbeat(q, route, w, env->request_id);
        break;
    case NEWSMILL__ENVELOPE__BODY_DONE:
        on_done(q, route, env->request_id, env->done);
        break;
    case NEWSMILL__ENVELOPE__BODY_FAIL:
        on_fail(q, route, env->request_id, env->fail);
        break;
    case NEWSMILL__ENVELOPE__BODY_EXTEND:
        on_extend(q, route, env->request_id, env->extend);
        break;
    default: {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "%s is not accepted on the queue's worker socket (expected credit, heartbeat, "
                 "done, fail or extend)",
                 nm_frame_body_name(env->body_case));
        nm_log_warn("back request refused: %s", msg);
        back_error(q, route, env->request_id, NM_ERR_INVALID, "wrong-socket", msg);
        break;
    }
    }
}

void nm_queue_back_drain(nm_queue *q)
{
    for (size_t turn = 0; turn < BACK_DRAIN_MAX; turn++) {
        nm_route route;
        Newsmill__Envelope *env;
        nm_error err;
        if (nm_frame_recv(q->back, &route, (size_t)q->cfg.max_frame_bytes, &env, ZMQ_DONTWAIT,
                          &err) != 0) {
            if (err.code == NM_ERR_BUSY)
                break;
            if (err.code == NM_ERR_ZMQ) {
                nm_log_error("back socket: %s", err.msg);
                break;
            }
            nm_queue_count_refusal(q, nm_errcode_name(err.code));
            nm_log_warn("bad message on worker socket refused: %s", err.msg);
            nm_frame_reply_error(q->back, &route, 0, &err);
            continue;
        }
        handle_back(q, &route, env);
        nm_frame_free(&env);
    }
}

/* ---- expiry ---- */

int64_t nm_queue_next_deadline_ns(nm_queue *q)
{
    nm_lease *l = nm_lease_next(q->leases);
    return l ? l->deadline_ns : INT64_MAX;
}

void nm_queue_expire(nm_queue *q, int64_t now_ns)
{
    nm_lease *l;
    while ((l = nm_lease_next(q->leases)) && l->deadline_ns <= now_ns) {
        nm_queue_worker *w = l->owner;
        nm_log_info("lease expired lease=%llu worker=%s attempt=%u",
                    (unsigned long long)l->lease_id, w->name, l->attempt);
        lose_lease(q, l, lost_group(q, w, now_ns), "let its lease expire");
    }
    int64_t silent_ns = q->cfg.worker_timeout_ms * NM_NS_PER_MS;
    for (nm_queue_worker *w = q->workers, *next; w; w = next) {
        next = w->next;
        if (now_ns - w->last_seen_ns > silent_ns) {
            char why[100];
            snprintf(why, sizeof why, "silent for more than %lld ms",
                     (long long)q->cfg.worker_timeout_ms);
            drop_worker(q, w, why);
        }
    }
}

/* ---- settling ---- */

/* Applies one op to the row at the revision its lease delivered: a row that
 * holds a newer body since (resubmitted while leased) is left alone, to be
 * delivered. *removed: a done deleted the row. */
static int apply_op(nm_queue *q, const nm_settle_op *op, bool *removed, nm_error *err)
{
    *removed = false;
    if (op->kind == SETTLE_DONE) {
        if (q->store->ops->remove(q->store, op->seq, op->rev, removed, err) != 0)
            return -1;
        if (*removed)
            q->n_articles--;
        return 0;
    }
    Newsmill__FailureRecord rec = NEWSMILL__FAILURE_RECORD__INIT;
    rec.at_unix_ms = op->at_unix_ms;
    rec.attempt = op->attempt;
    rec.reason = op->reason ? op->reason : "";
    rec.worker = (char *)op->worker;
    bool applied = false;
    Newsmill__DeadLetter *letter = NULL;
    if (op->kind == SETTLE_RETRY) {
        if (q->store->ops->retry(q->store, op->seq, op->rev, op->attempt, op->not_before_unix_ms, &rec,
                           &applied, err) != 0)
            return -1;
    } else {
        if (q->store->ops->bury(q->store, op->seq, op->rev, op->attempt, &rec, op->at_unix_ms, &letter,
                          err) != 0)
            return -1;
        applied = letter != NULL;
    }
    if (!applied)
        nm_log_info("failure of row %lld revision %lld not recorded: the row is settled or holds a"
                    " newer body (reason \"%s\")",
                    (long long)op->seq, (long long)op->rev, rec.reason);
    if (letter) {
        q->n_articles--;
        q->n_dead++;
        nm_metric_add(q->m.dead, 1);
        nm_log_warn("article dead-lettered id=%s attempts=%u last_reason=\"%s\"", letter->id,
                    letter->attempts, rec.reason);
        nm_queue_remember_dead(q, letter);
    }
    return 0;
}

void nm_queue_settle(nm_queue *q)
{
    if (q->n_ops == 0)
        return;
    nm_error err;
    int64_t n_articles = q->n_articles, n_dead = q->n_dead;
    size_t n_removed = 0; /* done that deleted its row: what queue_articles_done_total counts */
    int rc = q->store->ops->begin(q->store, false, &err);
    for (size_t i = 0; rc == 0 && i < q->n_ops; i++) {
        bool removed;
        rc = apply_op(q, &q->ops[i], &removed, &err);
        n_removed += removed;
    }
    if (rc == 0)
        rc = q->store->ops->commit(q->store, &err);
    if (rc != 0) {
        /* Nothing settled: the rows stay and are delivered again. */
        q->store->ops->rollback(q->store);
        q->n_articles = n_articles;
        q->n_dead = n_dead;
    } else {
        nm_metric_add(q->m.done, (double)n_removed);
    }
    nm_queue_storage_result(q, rc, &err);
    for (size_t i = 0; i < q->n_ops; i++)
        free(q->ops[i].reason);
    q->n_ops = 0;
    q->win_dirty = true;
}

/* ---- the ready window ---- */

static void window_push(nm_queue *q, int64_t seq)
{
    q->window[(q->win_head + q->win_n++) % NM_QUEUE_WINDOW] = seq;
    nm_u64map_put(&q->present, (uint64_t)seq, &nm_queue_window_marker);
}

static void refill_one(void *arg, int64_t seq)
{
    nm_queue *q = arg;
    if (q->win_n < NM_QUEUE_WINDOW && !nm_u64map_get(&q->present, (uint64_t)seq))
        window_push(q, seq);
}

static void refill(nm_queue *q)
{
    if (!q->win_dirty || q->win_n >= NM_QUEUE_WINDOW / 4)
        return;
    size_t limit = NM_QUEUE_WINDOW - q->win_n + q->present.n;
    if (q->store->ops->caps.reads_reserve) {
        /* What it reads is reserved for us: no more than the workers can
         * take now, or it would sit here while its ack wait runs. */
        size_t credit = 0;
        for (nm_queue_worker *w = q->workers; w; w = w->next)
            if (!w->draining)
                credit += w->credit;
        limit = credit > q->win_n ? credit - q->win_n : 0;
        if (limit == 0)
            return;
    }
    size_t seen;
    nm_error err;
    if (q->store->ops->scan_ready(q->store, nm_time_unix_ms(), limit, refill_one, q, &seen, &err) != 0) {
        nm_log_error("reading the spool: %s", err.msg);
        return;
    }
    if (seen < limit)
        q->win_dirty = false; /* everything ready is in memory now */
}

static bool window_pop(nm_queue *q, int64_t *seq)
{
    if (q->win_n == 0)
        refill(q);
    if (q->win_n == 0)
        return false;
    *seq = q->window[q->win_head];
    q->win_head = (q->win_head + 1) % NM_QUEUE_WINDOW;
    q->win_n--;
    /* *seq stays in `present` (as a window entry) until the caller leases it
     * or forgets it, so the refill below cannot read it in again. */
    if (q->win_n < NM_QUEUE_WINDOW / 4)
        refill(q);
    return true;
}

/* Puts a popped seq back at the front (a delivery that could not be sent). */
static void window_unpop(nm_queue *q, int64_t seq)
{
    if (q->win_n == NM_QUEUE_WINDOW) {
        nm_u64map_del(&q->present, (uint64_t)seq);
        q->win_dirty = true; /* the spool still has it */
        return;
    }
    q->win_head = (q->win_head + NM_QUEUE_WINDOW - 1) % NM_QUEUE_WINDOW;
    q->window[q->win_head] = seq;
    q->win_n++;
    nm_u64map_put(&q->present, (uint64_t)seq, &nm_queue_window_marker);
}

/* ---- delivery ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Encodes Envelope{version, delivery{lease_id, attempt, lease_ms, enqueued,
 * revision, article}} by hand around the stored packed Article: no
 * unpack/repack of the body on the hot path. Field numbers as in
 * proto/newsmill.proto. */
static size_t encode_delivery(nm_queue *q, const nm_lease *l, const nm_qstore_row *row)
{
    uint8_t head[80]; /* 6 tags + 5 varints of <= 10 bytes + attempt (<= 5) */
    size_t h = 0;
    head[h++] = 0x08; /* Delivery.lease_id = 1, varint */
    h += put_varint(head + h, l->lease_id);
    head[h++] = 0x10; /* attempt = 2 */
    h += put_varint(head + h, l->attempt);
    head[h++] = 0x18; /* lease_ms = 3 */
    h += put_varint(head + h, (uint64_t)q->cfg.lease_ms);
    head[h++] = 0x20; /* enqueued_unix_ms = 4 */
    h += put_varint(head + h, (uint64_t)row->enqueued_unix_ms);
    head[h++] = 0x30; /* revision = 6 */
    h += put_varint(head + h, (uint64_t)row->rev);
    head[h++] = 0x2a; /* article = 5, length-delimited */
    h += put_varint(head + h, row->article_len);
    size_t delivery_len = h + row->article_len;
    size_t need = delivery_len + 32;
    if (need > q->frame_cap) {
        free(q->frame);
        q->frame_cap = need + need / 2;
        q->frame = nm_xmalloc(q->frame_cap);
    }
    uint8_t *f = q->frame;
    size_t n = 0;
    f[n++] = 0x08; /* Envelope.version = 1 */
    n += put_varint(f + n, NM_PROTOCOL_VERSION);
    f[n++] = 0x72; /* Envelope.delivery = 14, length-delimited */
    n += put_varint(f + n, delivery_len);
    memcpy(f + n, head, h);
    n += h;
    memcpy(f + n, row->article, row->article_len);
    return n + row->article_len;
}

/* Sends one article to w. Returns 1 sent, 0 nothing to send, -1 the worker
 * cannot take it now (full pipe or gone: w may have been freed). */
static int deliver_one(nm_queue *q, nm_queue_worker *w)
{
    int64_t seq;
    uint32_t cap;
    if (w->group_limit && w->in_flight >= w->group_limit)
        return -1; /* it holds a suspect: no more than its group */
    for (;;) {
        if (!window_pop(q, &seq))
            return 0;
        cap = nm_suspects_cap(q->suspects, seq);
        if (cap && w->in_flight >= cap) {
            /* A suspect goes only to a worker that then holds at most cap:
             * it waits at the head for one (see nm_suspects.h). */
            window_unpop(q, seq);
            return -1;
        }
        bool found;
        nm_error err;
        if (q->store->ops->fetch(q->store, seq, &q->row, &found, &err) != 0) {
            nm_log_error("reading article for delivery: %s", err.msg);
            window_unpop(q, seq);
            return 0;
        }
        if (found)
            break;
        nm_u64map_del(&q->present, (uint64_t)seq); /* settled since it was read in */
        nm_suspects_forget(q->suspects, seq);
    }
    nm_lease *l = nm_lease_add(q->leases, seq, q->row.rev, q->row.attempts + 1,
                               nm_time_mono_ns() + q->cfg.lease_ms * NM_NS_PER_MS, w);
    size_t len = encode_delivery(q, l, &q->row);
    int rc = zmq_send(q->back, w->rid, w->rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send(q->back, q->frame, len, ZMQ_DONTWAIT);
    if (rc < 0) {
        int e = zmq_errno();
        nm_lease_remove(q->leases, l);
        window_unpop(q, seq);
        if (e == EHOSTUNREACH)
            drop_worker(q, w, "is unreachable (disconnected)");
        return -1;
    }
    nm_u64map_put(&q->present, (uint64_t)seq, l);
    l->owner_next = w->leases;
    if (w->leases)
        w->leases->owner_prev = l;
    w->leases = l;
    if (cap) {
        w->n_suspects++;
        if (!w->group_limit || cap < w->group_limit)
            w->group_limit = cap;
    }
    w->credit--;
    w->in_flight++;
    w->sent++;
    nm_metric_add(q->m.delivered, 1);
    return 1;
}

void nm_queue_dispatch(nm_queue *q)
{
    /* Round robin, one article per worker per round, until the window or
     * every worker's credit runs out. */
    bool progress = true;
    while (progress) {
        progress = false;
        for (nm_queue_worker *w = q->workers, *next; w; w = next) {
            next = w->next;
            if (w->credit == 0 || w->draining)
                continue;
            int rc = deliver_one(q, w);
            if (rc == 0)
                return;
            if (rc > 0)
                progress = true;
        }
    }
}

#include "nm_curve.h"
#include "nm_protocol.h"
#include "nm_queue.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_log.h"
#include "nm_qstore_js.h"
#include "nm_qstore_spool.h"
#include "nm_queue_int.h"
#include "nm_time.h"

char nm_queue_window_marker;

void nm_queue_config_defaults(nm_queue_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->front_endpoint = NM_QUEUE_FRONT_ENDPOINT_DEFAULT;
    cfg->back_endpoint = NM_QUEUE_BACK_ENDPOINT_DEFAULT;
    cfg->stats_endpoint = NM_COLLECTOR_STATS_ENDPOINT_DEFAULT;
    cfg->store = "spool";
    cfg->spool_path = "./var/queue.db";
    cfg->nats_urls = "nats://127.0.0.1:4222";
    cfg->durability = NM_SPOOL_FULL;
    cfg->max_article_bytes = 16 << 20;
    cfg->max_batch = 10000;
    cfg->max_frame_bytes = (int64_t)NM_FRAME_MAX_DEFAULT;
    cfg->recv_buffer_bytes = (int64_t)1 << 30;
    cfg->max_spool_bytes = 0;
    cfg->max_backlog = 0;
    cfg->lease_ms = 30000;
    cfg->worker_timeout_ms = 10000;
    cfg->max_attempts = 5;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 60000;
    cfg->stats_interval_ms = 1000;
}

int64_t nm_queue_read_limit(const nm_queue_config *cfg, bool back)
{
    int64_t limit = 2 * (cfg->max_frame_bytes > 0 ? cfg->max_frame_bytes : 1);
    return back && limit > NM_QUEUE_BACK_FRAME_MAX ? NM_QUEUE_BACK_FRAME_MAX : limit;
}

int nm_queue_recv_hwm(const nm_queue_config *cfg, bool back)
{
    int64_t hwm = cfg->recv_buffer_bytes / nm_queue_read_limit(cfg, back);
    return hwm < 1 ? 1 : hwm > INT_MAX ? INT_MAX : (int)hwm;
}

int64_t nm_queue_memory_bound(const nm_queue_config *cfg, int connections)
{
    int64_t per_connection =
        ((int64_t)nm_queue_recv_hwm(cfg, false) + 1) * nm_queue_read_limit(cfg, false);
    return connections * per_connection + NM_QUEUE_GROUP_MAX_BYTES + cfg->max_frame_bytes +
           NM_SPOOL_CACHE_BYTES;
}

/* A ROUTER bound at endpoint: the front (producers) or the back (workers,
 * back true), whose messages are small (nm_queue_read_limit). */
static void *bind_router(void *ctx, const nm_queue_config *cfg, const char *endpoint, bool back,
                         nm_error *err)
{
    const char *what = back ? "back" : "front";
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    if (!sock) {
        nm_error_set(err, NM_ERR_ZMQ, "%s socket: %s", what, zmq_strerror(zmq_errno()));
        return NULL;
    }
    /* Outgoing: deliveries are bounded by the workers' credit, replies by
     * the requests received. Incoming: bounded per connection (nm_queue.h). */
    int linger = 0, mandatory = 1, sndhwm = 200000, rcvhwm = nm_queue_recv_hwm(cfg, back);
    int64_t max_msg = nm_queue_read_limit(cfg, back);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "%s socket: setting the frame limit: %s", what,
                     zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    nm_curve *curve = cfg->curve;
    if (nm_curve_apply_server(curve, sock, what, err) != 0) {
        zmq_close(sock);
        return NULL;
    }
    if (zmq_bind(sock, endpoint) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "binding %s socket to %s: %s", what, endpoint,
                     zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

/* The store's figures: with a shared store (JetStream) every front reports
 * the same values, labelled shared="<store>" so that the collector takes
 * one of them instead of their sum (collector/nm_aggregate.h). */
static void make_metrics(nm_queue *q)
{
    nm_stats *s = q->stats;
    bool shared = q->store->ops->caps.shared;
    const char *lk = shared ? "shared" : NULL, *lv = shared ? q->store->ops->name : NULL;
    q->m.submitted = nm_stats_counter(s, "queue_articles_submitted_total",
                                      "Articles received in submit batches", NULL, NULL);
    q->m.accepted = nm_stats_counter(s, NM_METRIC_QUEUE_ARTICLES_ACCEPTED_TOTAL,
                                     "Articles committed to the spool and acked", NULL, NULL);
    q->m.delivered = nm_stats_counter(s, "queue_articles_delivered_total",
                                      "Deliveries to workers (redeliveries included)", NULL, NULL);
    q->m.done = nm_stats_counter(s, NM_METRIC_QUEUE_ARTICLES_DONE_TOTAL,
                                 "Articles settled by workers and removed from the spool", NULL, NULL);
    q->m.failed = nm_stats_counter(s, "queue_articles_failed_total",
                                   "Fail reports from workers", NULL, NULL);
    q->m.redelivered = nm_stats_counter(s, "queue_articles_redelivered_total",
                                        shared ? "Deliveries beyond each article's first (the "
                                                 "consumer's, all fronts)"
                                               : "Articles put back after a lease expired or a "
                                                 "worker left",
                                        lk, lv);
    q->m.dead = nm_stats_counter(s, "queue_articles_dead_total",
                                 "Articles moved to the dead letters", NULL, NULL);
    q->m.backlog = nm_stats_gauge(s, NM_METRIC_QUEUE_BACKLOG_ARTICLES,
                                  "Articles waiting for delivery", lk, lv);
    q->m.in_flight = nm_stats_gauge(s, NM_METRIC_QUEUE_IN_FLIGHT_ARTICLES,
                                    "Articles under lease", lk, lv);
    q->m.oldest_age = nm_stats_gauge(s, NM_METRIC_QUEUE_OLDEST_BACKLOG_AGE_SECONDS,
                                     "Age of the oldest waiting article", lk, lv);
    q->m.spool_bytes = nm_stats_gauge(s, "queue_spool_bytes", "Bytes used by the spool",
                                      lk, lv);
    q->m.dead_letters = nm_stats_gauge(s, NM_METRIC_QUEUE_DEAD_LETTERS, "Dead letters kept", lk, lv);
    q->m.workers = nm_stats_gauge(s, "queue_workers", "Workers connected", NULL, NULL);
    q->m.suspects = nm_stats_gauge(s, "queue_suspect_articles",
                                   "Articles redelivered in small groups because a worker died "
                                   "holding them",
                                   NULL, NULL);
    q->m.submit_ack_seconds = nm_stats_histogram(s, "queue_submit_ack_seconds",
                                                 "Time from receiving a batch to acking it",
                                                 NM_HIST_SECONDS);
}

/* A PAIR socket that receives the sock's disconnect events (zmq monitor).
 * libzmq closes a connection that sends a frame over ZMQ_MAXMSGSIZE without
 * telling the application anything else: a disconnect is all there is to
 * count. */
static void *watch_disconnects(nm_queue *q, void *sock, const char *what, nm_error *err)
{
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "inproc://nm-queue-%p-%s-monitor", (void *)q, what);
    void *pair = NULL;
    if (zmq_socket_monitor(sock, endpoint, ZMQ_EVENT_DISCONNECTED) != 0 ||
        !(pair = zmq_socket(q->ctx, ZMQ_PAIR)) || zmq_connect(pair, endpoint) != 0) {
        nm_error_set(err, NM_ERR_ZMQ, "monitoring the %s socket: %s", what,
                     zmq_strerror(zmq_errno()));
        if (pair)
            zmq_close(pair);
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof linger);
    return pair;
}

/* Counts the disconnects a monitor reported. */
static void drain_disconnects(nm_queue *q, void *monitor, const char *what)
{
    for (;;) {
        zmq_msg_t event, endpoint;
        zmq_msg_init(&event);
        if (zmq_msg_recv(&event, monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&event);
            return;
        }
        zmq_msg_init(&endpoint);
        if (zmq_msg_more(&event))
            zmq_msg_recv(&endpoint, monitor, ZMQ_DONTWAIT);
        zmq_msg_close(&endpoint);
        zmq_msg_close(&event);
        nm_metric_add(nm_stats_counter(q->stats, "queue_connections_closed_total",
                                       "Connections closed by the peer, or by the queue for a "
                                       "frame over twice --max-frame-bytes (not with CURVE)",
                                       "socket", what),
                      1);
        nm_log_debug("%s connection closed (the peer left, or sent a frame over twice "
                     "--max-frame-bytes=%lld)",
                     what, (long long)q->cfg.max_frame_bytes);
    }
}

static bool shared_state(nm_queue *q);

/* Whether a front may start although a read of its store failed: only
 * when the store is shared (a cluster) and does not answer now (no quorum,
 * a request timed out) rather than refused or failed. Logged. */
static bool start_without(const nm_queue *q, const nm_error *err, const char *what)
{
    if (!q->store->ops->state || (err->code != NM_ERR_BUSY && err->code != NM_ERR_TIMEOUT))
        return false;
    nm_log_warn("starting without %s of the %s store: %s", what, q->store->ops->name, err->msg);
    return true;
}

static nm_qstore *open_store(const nm_queue_config *cfg, nm_error *err)
{
    if (!cfg->store || !strcmp(cfg->store, "spool"))
        return nm_qstore_spool_open(cfg->spool_path, cfg->durability, err);
    if (!strcmp(cfg->store, "jetstream")) {
        nm_qstore_js_config js = {
            .urls = cfg->nats_urls,
            /* A front that dies: its leases come back after this. */
            .ack_wait_ms = cfg->lease_ms + cfg->worker_timeout_ms,
            .connect_ms = 10000,
            .user = cfg->nats_user,
            .password = cfg->nats_password,
            .token = cfg->nats_token,
            .tls_ca = cfg->nats_ca,
        };
        return nm_qstore_js_open(&js, err);
    }
    nm_error_set(err, NM_ERR_INVALID, "unknown store '%s' (spool or jetstream)", cfg->store);
    return NULL;
}

nm_queue *nm_queue_new(void *zmq_ctx, const nm_queue_config *cfg, nm_error *err)
{
    if (sodium_init() < 0) {
        nm_error_set(err, NM_ERR_INTERNAL, "libsodium failed to initialise");
        return NULL;
    }
    nm_queue *q = nm_xcalloc(1, sizeof *q);
    q->cfg = *cfg;
    q->front_endpoint = nm_xstrdup(cfg->front_endpoint);
    q->back_endpoint = nm_xstrdup(cfg->back_endpoint);
    q->stats_endpoint = nm_xstrdup(cfg->stats_endpoint);
    q->spool_path = nm_xstrdup(cfg->spool_path);
    q->cfg.front_endpoint = q->front_endpoint;
    q->cfg.back_endpoint = q->back_endpoint;
    q->cfg.stats_endpoint = q->stats_endpoint;
    q->cfg.spool_path = q->spool_path;
    q->cfg.instance = NULL;
    q->ctx = zmq_ctx;
    q->stats = nm_stats_new("queue", cfg->instance);
    q->leases = nm_lease_table_new();
    q->suspects = nm_suspects_new();
    q->window = nm_xmalloc(NM_QUEUE_WINDOW * sizeof *q->window);
    q->win_dirty = true;

    q->store = open_store(cfg, err);
    q->cfg.store = q->store ? q->store->ops->name : NULL; /* static: not copied */
    q->cfg.nats_urls = q->cfg.nats_user = q->cfg.nats_password = NULL; /* used only to open */
    q->cfg.nats_token = q->cfg.nats_ca = NULL;
    if (!q->store)
        goto fail;
    /* A shared store can be between leaders as a front starts (a node
     * restarting, an election under load): a front then starts without its
     * figures and recent dead letters, as it goes on when the cluster stops
     * answering later; the figures come with the next state read. A spool
     * that cannot be read stops the start. */
    if (q->store->ops->counts(q->store, &q->n_articles, &q->n_dead, &q->spool_bytes, err) != 0 &&
        !start_without(q, err, "the figures"))
        goto fail;
    make_metrics(q);
    if (q->store->ops->state) /* the cluster's figures from the first report on */
        shared_state(q);
    Newsmill__DeadLetter **letters;
    size_t n_letters;
    if (q->store->ops->dead_list(q->store, NM_QUEUE_RECENT_DEAD, NULL, &letters, &n_letters, err) == 0) {
        for (size_t i = n_letters; i-- > 0;)
            nm_queue_remember_dead(q, letters[i]);
        free(letters);
    } else if (!start_without(q, err, "the recent dead letters")) {
        goto fail;
    }

    q->front = bind_router(zmq_ctx, cfg, cfg->front_endpoint, false, err);
    if (!q->front)
        goto fail;
    q->back = bind_router(zmq_ctx, cfg, cfg->back_endpoint, true, err);
    if (!q->back)
        goto fail;
    /* libzmq allows one monitor per socket: with CURVE the authenticator's
     * (handshake failures) takes it, and disconnects go uncounted. */
    if (!nm_curve_serving(cfg->curve)) {
        q->front_monitor = watch_disconnects(q, q->front, "front", err);
        if (!q->front_monitor)
            goto fail;
        q->back_monitor = watch_disconnects(q, q->back, "back", err);
        if (!q->back_monitor)
            goto fail;
    }
    if (cfg->stats_endpoint && *cfg->stats_endpoint) { /* "": no stats, as for the worker */
        q->pub = nm_stats_pub_new_curve(zmq_ctx, cfg->stats_endpoint, cfg->curve, err);
        if (!q->pub)
            goto fail;
    }
    /* spool and durability are the SQLite store's: not named for JetStream */
    char store_detail[600] = "";
    if (!strcmp(q->store->ops->name, "spool"))
        snprintf(store_detail, sizeof store_detail, " spool=%s durability=%s", cfg->spool_path,
                 cfg->durability == NM_SPOOL_FULL ? "full" : "normal");
    nm_log_info("queue started front=%s back=%s stats=%s store=%s%s backlog=%lld dead=%lld",
                cfg->front_endpoint, cfg->back_endpoint, cfg->stats_endpoint,
                q->store->ops->name, store_detail, (long long)q->n_articles, (long long)q->n_dead);
    return q;
fail:
    nm_queue_destroy(&q);
    return NULL;
}

void nm_queue_destroy(nm_queue **queue)
{
    if (!queue || !*queue)
        return;
    nm_queue *q = *queue;
    nm_queue_workers_free(q);
    nm_queue_front_free(q);
    for (size_t i = 0; i < q->n_ops; i++)
        free(q->ops[i].reason);
    free(q->ops);
    if (q->front)
        zmq_close(q->front);
    if (q->back)
        zmq_close(q->back);
    if (q->front_monitor)
        zmq_close(q->front_monitor);
    if (q->back_monitor)
        zmq_close(q->back_monitor);
    nm_stats_pub_destroy(&q->pub);
    nm_qstore_close(&q->store);
    nm_lease_table_destroy(&q->leases);
    nm_suspects_destroy(&q->suspects);
    nm_u64map_clear(&q->present);
    nm_qstore_row_clear(&q->row);
    for (size_t i = 0; i < q->n_recent_dead; i++)
        newsmill__dead_letter__free_unpacked(q->recent_dead[i], NULL);
    nm_stats_destroy(&q->stats);
    free(q->window);
    free(q->frame);
    free(q->front_endpoint);
    free(q->back_endpoint);
    free(q->stats_endpoint);
    free(q->spool_path);
    free(q);
    *queue = NULL;
}

void nm_queue_count_refusal(nm_queue *q, const char *reason)
{
    nm_metric_add(nm_stats_counter(q->stats, NM_METRIC_QUEUE_REQUESTS_REJECTED_TOTAL,
                                   "Requests refused (bad frames, wrong socket, full, storage, "
                                   "unknown leases)",
                                   "reason", reason),
                  1);
}

void nm_queue_count_rejected(nm_queue *q, const char *reason, double n)
{
    nm_metric_add(nm_stats_counter(q->stats, "queue_articles_rejected_total",
                                   "Articles refused, by reason", "reason", reason),
                  n);
}

void nm_queue_remember_dead(nm_queue *q, Newsmill__DeadLetter *letter)
{
    if (q->n_recent_dead == NM_QUEUE_RECENT_DEAD)
        newsmill__dead_letter__free_unpacked(q->recent_dead[--q->n_recent_dead], NULL);
    memmove(q->recent_dead + 1, q->recent_dead, q->n_recent_dead * sizeof *q->recent_dead);
    q->recent_dead[0] = letter;
    q->n_recent_dead++;
}

void nm_queue_storage_result(nm_queue *q, int rc, const nm_error *err)
{
    if (rc == 0) {
        if (q->storage_error)
            nm_log_info("%s writable again", q->store->ops->name);
        q->storage_error = false;
        return;
    }
    q->storage_error = true;
    nm_log_error("%s write failed: %s", q->store->ops->name, err->msg);
}

/* Finds the oldest row not under lease. */
static bool oldest_waiting(void *arg, int64_t seq, int64_t enqueued_unix_ms)
{
    nm_queue *q = arg;
    void *v = nm_u64map_get(&q->present, (uint64_t)seq);
    if (v && v != &nm_queue_window_marker)
        return false; /* leased: not backlog */
    double age = (double)(nm_time_unix_ms() - enqueued_unix_ms) / 1000.0;
    nm_metric_set(q->m.oldest_age, age > 0 ? age : 0);
    return true;
}

/* A shared store's figures, from the store (every front reports the same).
 * False when it cannot be read now: the last figures stay. */
static bool shared_state(nm_queue *q)
{
    nm_qstore_state st;
    nm_error err;
    if (q->store->ops->state(q->store, &st, &err) != 0) {
        q->storage_error = true;
        nm_log_warn("reading the %s state: %s", q->store->ops->name, err.msg);
        return false;
    }
    q->storage_error = false;
    q->n_articles = st.articles;
    q->n_dead = st.dead;
    q->spool_bytes = st.bytes;
    nm_metric_set(q->m.backlog, (double)st.backlog);
    nm_metric_set(q->m.in_flight, (double)st.in_flight);
    double age = st.backlog > 0 && st.oldest_unix_ms > 0
                     ? (double)(nm_time_unix_ms() - st.oldest_unix_ms) / 1000.0
                     : 0;
    nm_metric_set(q->m.oldest_age, age > 0 ? age : 0);
    double more = (double)st.redelivered - nm_metric_value(q->m.redelivered);
    if (more > 0)
        nm_metric_add(q->m.redelivered, more);
    return true;
}

/* The spool's figures: counted here, the store's size read from it. */
static void own_state(nm_queue *q)
{
    nm_error err;
    if (q->store->ops->counts(q->store, NULL, NULL, &q->spool_bytes, &err) != 0)
        nm_log_warn("reading spool size: %s", err.msg);
    size_t in_flight = nm_lease_count(q->leases);
    nm_metric_set(q->m.backlog, (double)(q->n_articles - (int64_t)in_flight));
    nm_metric_set(q->m.in_flight, (double)in_flight);
    nm_metric_set(q->m.oldest_age, 0);
    if (q->store->ops->scan_oldest(q->store, in_flight + 1, oldest_waiting, q, &err) != 0)
        nm_log_warn("reading oldest article: %s", err.msg);
}

static void send_stats(nm_queue *q)
{
    nm_error err;
    int64_t freed;
    /* Compact only once a burst is drained: with few live rows the rebuild
     * takes milliseconds; during a drain it would stall delivery. */
    if (q->n_articles < 1000) {
        int64_t t0 = nm_time_mono_ns();
        if (q->store->ops->compact(q->store, &freed, &err) != 0)
            nm_log_warn("compacting spool: %s", err.msg);
        else if (freed > 0)
            nm_log_info("spool compacted pages_freed=%lld rows=%lld ms=%lld", (long long)freed,
                        (long long)q->n_articles,
                        (long long)((nm_time_mono_ns() - t0) / NM_NS_PER_MS));
    }
    if (q->store->ops->state)
        shared_state(q);
    else
        own_state(q);
    nm_metric_set(q->m.spool_bytes, (double)q->spool_bytes);
    nm_metric_set(q->m.dead_letters, (double)q->n_dead);
    nm_metric_set(q->m.workers, (double)q->n_workers);
    nm_metric_set(q->m.suspects, (double)nm_suspects_count(q->suspects));
    for (nm_queue_worker *w = q->workers; w; w = w->next)
        nm_metric_set(w->in_flight_gauge, w->in_flight);
    /* full: at a limit now, or a submit was refused as full in the last 5 s */
    bool full = (q->cfg.max_backlog > 0 && q->n_articles >= q->cfg.max_backlog) ||
                (q->cfg.max_spool_bytes > 0 && q->spool_bytes >= q->cfg.max_spool_bytes) ||
                (q->last_full_ns && nm_time_mono_ns() - q->last_full_ns < 5 * NM_NS_PER_S);
    nm_stats_set_state(q->stats, q->storage_error ? "storage-error" : full ? "full" : "running");
    nm_stats_curve_report(q->stats, q->cfg.curve);
    Newsmill__StatsReport *r = nm_stats_report_new(q->stats);
    r->recent_dead = q->recent_dead;
    r->n_recent_dead = q->n_recent_dead;
    if (q->pub && nm_stats_pub_send_report(q->pub, r, &err) < 0)
        nm_log_warn("sending stats: %s", err.msg);
    r->recent_dead = NULL;
    r->n_recent_dead = 0;
    nm_stats_report_free(&r);
}

int nm_queue_run(nm_queue *q, volatile sig_atomic_t *stop, nm_error *err)
{
    int64_t now = nm_time_mono_ns();
    q->next_stats_ns = now;
    q->next_dirty_ns = now;
    while (!*stop) {
        now = nm_time_mono_ns();
        int64_t wake = q->next_stats_ns;
        int64_t deadline = nm_queue_next_deadline_ns(q);
        if (deadline < wake)
            wake = deadline;
        if (q->win_n == 0 && q->next_dirty_ns < wake)
            wake = q->next_dirty_ns;
        int64_t housekeeping = now + q->cfg.worker_timeout_ms * NM_NS_PER_MS / 4;
        if (q->n_workers && housekeeping < wake)
            wake = housekeeping;
        long timeout_ms = wake <= now ? 0 : (long)((wake - now + NM_NS_PER_MS - 1) / NM_NS_PER_MS);
        zmq_pollitem_t items[5] = {{q->front, 0, ZMQ_POLLIN, 0}, {q->back, 0, ZMQ_POLLIN, 0}};
        int n_items = 2, monitors = -1, store_wake = -1;
        if (q->front_monitor) {
            monitors = n_items;
            items[n_items++] = (zmq_pollitem_t){q->front_monitor, 0, ZMQ_POLLIN, 0};
            items[n_items++] = (zmq_pollitem_t){q->back_monitor, 0, ZMQ_POLLIN, 0};
        }
        if (q->store->ops->wake_fd) {
            store_wake = n_items;
            items[n_items++] = (zmq_pollitem_t){NULL, q->store->ops->wake_fd(q->store), ZMQ_POLLIN, 0};
        }
        if (zmq_poll(items, n_items, timeout_ms) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            return nm_error_set(err, NM_ERR_ZMQ, "polling: %s", zmq_strerror(zmq_errno()));
        }
        if (items[0].revents & ZMQ_POLLIN)
            nm_queue_front_drain(q);
        if (items[1].revents & ZMQ_POLLIN)
            nm_queue_back_drain(q);
        if (monitors >= 0 && (items[monitors].revents & ZMQ_POLLIN))
            drain_disconnects(q, q->front_monitor, "front");
        if (monitors >= 0 && (items[monitors + 1].revents & ZMQ_POLLIN))
            drain_disconnects(q, q->back_monitor, "back");
        if (store_wake >= 0 && (items[store_wake].revents & ZMQ_POLLIN)) {
            q->store->ops->wake_clear(q->store);
            q->win_dirty = true; /* the store has rows to hand out */
        }
        now = nm_time_mono_ns();
        nm_queue_expire(q, now);
        nm_queue_settle(q);
        if (now >= q->next_dirty_ns) {
            q->win_dirty = true; /* retry back-offs may have run out */
            q->next_dirty_ns = now + 200 * NM_NS_PER_MS;
        }
        nm_queue_dispatch(q);
        if (now >= q->next_stats_ns) {
            send_stats(q);
            q->next_stats_ns = now + q->cfg.stats_interval_ms * NM_NS_PER_MS;
        }
    }
    nm_log_info("queue stopping backlog=%lld in_flight=%zu", (long long)q->n_articles,
                nm_lease_count(q->leases));
    return 0;
}

/* bench-queue: throughput and submit-to-ack latency of newsmill-queue alone.
 *
 * Starts a newsmill-queue (the one beside this binary) on a fresh spool in a
 * temporary directory, runs producer threads that keep several batches in
 * flight (nm_producer_send/recv) and consumer threads that ack every
 * delivery at once (nm_consumer), and prints JSON lines: one per second of
 * progress, then a summary with "mode":"queue".
 *
 * --nats URLS: the queue runs --store jetstream on that cluster (the
 * spool's figures are then not measured); --raw-nats: only the raw nats.c
 * measurement on that cluster (nats_raw.c). scripts/bench queue --nats 3
 * runs both and the spool in one invocation. --raw-spool: only the spool's
 * storage, in this process, without the queue (spool_raw.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_consumer.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_producer.h"
#include "nm_spool.h"
#include "nm_time.h"
#include "nats_raw.h"
#include "spool_raw.h"

typedef struct bench {
    int64_t articles, batch, producers, consumers, in_flight, body_bytes, capacity, backlog;
    const char *durability;
    char front[64], back[64];
    void *ctx;
    atomic_llong acked, consumed;
    atomic_int failed;
    int64_t t0_ns;
    atomic_llong last_ack_ns, last_consumed_ns;
    double *latency_s; /* one per batch */
    atomic_llong n_latency;
} bench;

typedef struct producer_arg {
    bench *b;
    int index;
    int64_t share;   /* articles this producer submits */
    const char *tag; /* id prefix: one per phase */
} producer_arg;

static int free_port(void)
{
    /* Bind port 0 through ZeroMQ and read back the port it chose. */
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    char ep[64] = "";
    size_t len = sizeof ep;
    int port = 0;
    if (zmq_bind(s, "tcp://127.0.0.1:*") == 0 && zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) == 0)
        port = atoi(strrchr(ep, ':') + 1);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return port;
}

static void *producer_main(void *arg)
{
    producer_arg *pa = arg;
    bench *b = pa->b;
    nm_error err;
    nm_producer *p = nm_producer_new(b->ctx, b->front, &err);
    if (!p) {
        fprintf(stderr, "producer: %s\n", err.msg);
        atomic_fetch_add(&b->failed, 1);
        return NULL;
    }
    nm_producer_set_timeout(p, 30000, 0);
    int64_t share = pa->share;
    int64_t n_batches = (share + b->batch - 1) / b->batch;
    char *body = nm_xmalloc((size_t)b->body_bytes + 1);
    memset(body, 'a', (size_t)b->body_bytes);
    memcpy(body, "Bench title\n\n", b->body_bytes > 13 ? 13 : (size_t)b->body_bytes);
    for (int64_t i = 20; i < b->body_bytes; i += 20)
        body[i] = ' ';
    body[b->body_bytes] = '\0';
    Newsmill__Article *arts = nm_xcalloc((size_t)b->batch, sizeof *arts);
    Newsmill__Article **ptrs = nm_xcalloc((size_t)b->batch, sizeof *ptrs);
    char (*ids)[48] = nm_xcalloc((size_t)b->batch, sizeof *ids);
    uint64_t *rid = nm_xcalloc((size_t)n_batches, sizeof *rid);
    int64_t *sent_ns = nm_xcalloc((size_t)n_batches, sizeof *sent_ns);
    int64_t next = 0, done = 0, outstanding = 0;
    while (done < n_batches) {
        while (outstanding < b->in_flight && next < n_batches) {
            int64_t k = share - next * b->batch < b->batch ? share - next * b->batch : b->batch;
            for (int64_t i = 0; i < k; i++) {
                newsmill__article__init(&arts[i]);
                snprintf(ids[i], sizeof ids[i], "%s-%d-%lld", pa->tag, pa->index,
                         (long long)(next * b->batch + i));
                arts[i].id = ids[i];
                arts[i].content_type = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
                arts[i].source = "bench";
                arts[i].body.data = (uint8_t *)body;
                arts[i].body.len = (size_t)b->body_bytes;
                ptrs[i] = &arts[i];
            }
            sent_ns[next] = nm_time_mono_ns();
            if (nm_producer_send(p, ptrs, (size_t)k, &rid[next], &err) != 0) {
                fprintf(stderr, "producer send: %s\n", err.msg);
                atomic_fetch_add(&b->failed, 1);
                goto out;
            }
            next++;
            outstanding++;
        }
        uint64_t r;
        Newsmill__SubmitAck *ack;
        if (nm_producer_recv(p, 30000, &r, &ack, &err) != 0) {
            fprintf(stderr, "producer recv: %s\n", err.msg);
            atomic_fetch_add(&b->failed, 1);
            goto out;
        }
        int64_t now = nm_time_mono_ns();
        /* request ids are sequential from 1 per producer: batch = r - rid[0] */
        int64_t idx = (int64_t)(r - rid[0]);
        if (idx >= 0 && idx < next)
            b->latency_s[atomic_fetch_add(&b->n_latency, 1)] = (double)(now - sent_ns[idx]) / 1e9;
        atomic_fetch_add(&b->acked, (long long)ack->accepted);
        atomic_store(&b->last_ack_ns, now);
        nm_producer_ack_free(&ack);
        done++;
        outstanding--;
    }
out:
    free(rid);
    free(sent_ns);
    free(ids);
    free(ptrs);
    free(arts);
    free(body);
    nm_producer_destroy(&p);
    return NULL;
}

static void *consumer_main(void *arg)
{
    bench *b = arg;
    nm_error err;
    nm_consumer_config cfg = {.endpoint = b->back, .capacity = (uint32_t)b->capacity};
    nm_consumer *c = nm_consumer_new(b->ctx, &cfg, &err);
    if (!c) {
        fprintf(stderr, "consumer: %s\n", err.msg);
        atomic_fetch_add(&b->failed, 1);
        return NULL;
    }
    uint64_t *leases = nm_xmalloc((size_t)b->capacity * sizeof *leases);
    int64_t deadline = nm_time_mono_ns() + 600 * NM_NS_PER_S;
    while (atomic_load(&b->consumed) < b->articles + b->backlog && !atomic_load(&b->failed) &&
           nm_time_mono_ns() < deadline) {
        zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
        long t = nm_consumer_tick(c);
        zmq_poll(&it, 1, t < 100 ? t : 100);
        size_t n = 0;
        Newsmill__Delivery *d;
        while (n < (size_t)b->capacity && nm_consumer_recv(c, &d, NULL) == 1) {
            leases[n++] = d->lease_id;
            nm_consumer_delivery_free(&d);
        }
        if (n) {
            nm_consumer_done(c, leases, n, NULL);
            atomic_fetch_add(&b->consumed, (long long)n);
            atomic_store(&b->last_consumed_ns, nm_time_mono_ns());
        }
    }
    /* let the last done reach the queue before the socket closes */
    zmq_pollitem_t it = {nm_consumer_socket(c), 0, ZMQ_POLLIN, 0};
    zmq_poll(&it, 1, 200);
    free(leases);
    nm_consumer_destroy(&c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i < n ? i : n - 1];
}

/* Peak resident set of a process in KiB (VmHWM), or -1. */
static long peak_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    }
    if (f)
        fclose(f);
    return kb;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* The run's directory: dir_opt (created if missing), else a new temp dir. */
static int open_dir(const char *dir_opt, char *dir, size_t size)
{
    if (*dir_opt) {
        snprintf(dir, size, "%s", dir_opt);
        mkdir(dir, 0755);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/bench-queue-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench-queue: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes a temp dir open_dir made, unless --keep. */
static void close_dir(const char *dir, const char *dir_opt, bool keep)
{
    if (!keep && !*dir_opt) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-queue: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "bench-queue: kept %s\n", dir);
    }
}

int main(int argc, char **argv)
{
    nm_log_init("bench-queue");
    nm_log_set_level(NM_LOG_WARN);
    bench b;
    memset(&b, 0, sizeof b);
    b.articles = 200000;
    b.batch = 100;
    b.producers = 2;
    b.consumers = 2;
    b.in_flight = 16;
    b.body_bytes = 600;
    b.capacity = 1000;
    b.durability = "full";
    const char *dir_opt = "", *nats = "";
    bool keep = false, raw_nats = false, phased = false, raw_spool = false, raw_batched = false;
    int64_t replicas = 3;
    const nm_opt opts[] = {
        {"articles", 'n', NM_OPT_INT, &b.articles, "N", "articles to push through", 1, 1e9},
        {"batch", 0, NM_OPT_INT, &b.batch, "N", "articles per submit batch", 1, 10000},
        {"producers", 0, NM_OPT_INT, &b.producers, "N", "producer threads", 1, 64},
        {"consumers", 0, NM_OPT_INT, &b.consumers, "N",
         "consumer threads (ack at once); 0: submit only (measures a backlog)", 0, 64},
        {"in-flight", 0, NM_OPT_INT, &b.in_flight, "N", "batches in flight per producer", 1, 1000},
        {"body-bytes", 0, NM_OPT_INT, &b.body_bytes, "N", "bytes of text per article", 1, 1 << 24},
        {"capacity", 0, NM_OPT_INT, &b.capacity, "N", "credit per consumer", 1, 100000},
        {"backlog", 0, NM_OPT_INT, &b.backlog, "N",
         "articles submitted before the consumers start (a backlog to drain)", 0, 1e9},
        {"phased", 0, NM_OPT_FLAG, &phased, NULL,
         "submit every article first, then start the consumers: in and out measured apart, "
         "as --raw-nats measures them",
         0, 0},
        {"durability", 0, NM_OPT_STRING, &b.durability, "MODE", "queue --durability (full|normal)",
         0, 0},
        {"dir", 0, NM_OPT_STRING, &dir_opt, "DIR", "where the spool goes (default: a new temp dir)",
         0, 0},
        {"keep", 0, NM_OPT_FLAG, &keep, NULL, "keep the temp dir and the queue log", 0, 0},
        {"nats", 0, NM_OPT_STRING, &nats, "URLS",
         "run the queue on this NATS JetStream cluster (--store jetstream)", 0, 0},
        {"raw-nats", 0, NM_OPT_FLAG, &raw_nats, NULL,
         "only the raw nats.c measurement on --nats (publish, then fetch 200 + ack)", 0, 0},
        {"replicas", 0, NM_OPT_INT, &replicas, "N", "replicas of the raw measurement's stream", 1,
         5},
        {"raw-spool", 0, NM_OPT_FLAG, &raw_spool, NULL,
         "only the spool's storage in this process: each --batch put, read and removed "
         "(no queue, no sockets)",
         0, 0},
        {"raw-batched", 0, NM_OPT_FLAG, &raw_batched, NULL,
         "with --raw-spool: one row per batch instead of the spool's row per article", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "bench-queue", "[OPTIONS]",
        "Queue-only benchmark: producers submit batches, consumers ack at once.\n"
        "Prints JSON lines; the last is the summary (\"mode\":\"queue\").",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    if (raw_nats) {
        if (!*nats) {
            fprintf(stderr, "bench-queue: --raw-nats needs --nats URLS\n");
            return 2;
        }
        return bench_nats_raw(nats, b.articles, b.body_bytes, (int)replicas);
    }
    double preload_in_per_s = 0;
    char dir[512];
    if (open_dir(dir_opt, dir, sizeof dir) != 0)
        return 1;
    if (raw_spool) {
        int raw_rc = bench_spool_raw(dir, b.articles, b.batch, b.body_bytes, b.durability,
                                     raw_batched);
        close_dir(dir, dir_opt, keep);
        return raw_rc;
    }
    if (phased) {
        b.backlog = b.articles;
        b.articles = 0;
    }

    char exe[PATH_MAX], queue_bin[PATH_MAX + 32], spool[600], log_path[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(queue_bin, sizeof queue_bin, "%s/newsmill-queue", exe);
    snprintf(spool, sizeof spool, "%s/queue.db", dir);
    snprintf(log_path, sizeof log_path, "%s/queue.log", dir);
    snprintf(b.front, sizeof b.front, "tcp://127.0.0.1:%d", free_port());
    snprintf(b.back, sizeof b.back, "tcp://127.0.0.1:%d", free_port());
    char stats[64];
    snprintf(stats, sizeof stats, "tcp://127.0.0.1:%d", free_port());

    pid_t queue = fork();
    if (queue == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        char dur[64];
        snprintf(dur, sizeof dur, "--durability=%s", b.durability);
        if (*nats)
            execl(queue_bin, queue_bin, "--front", b.front, "--back", b.back, "--stats", stats,
                  "--store", "jetstream", "--nats", nats, "--log-level=warn", (char *)NULL);
        else
            execl(queue_bin, queue_bin, "--front", b.front, "--back", b.back, "--stats", stats,
                  "--spool", spool, dur, "--log-level=warn", (char *)NULL);
        _exit(127);
    }
    usleep(*nats ? 3000 * 1000 : 300 * 1000); /* JetStream: streams made, leaders elected */
    int early;
    if (waitpid(queue, &early, WNOHANG) == queue) {
        fprintf(stderr, "bench-queue: the queue exited at start; its log: %s\n", log_path);
        return 1;
    }

    b.ctx = zmq_ctx_new();
    int64_t most = b.articles > b.backlog ? b.articles : b.backlog;
    b.latency_s = nm_xcalloc((size_t)(most / b.batch + b.producers + 1), sizeof *b.latency_s);
    pthread_t *threads = nm_xcalloc((size_t)(b.producers + b.consumers), sizeof *threads);
    producer_arg *pargs = nm_xcalloc((size_t)b.producers, sizeof *pargs);
    if (b.backlog > 0) {
        /* preload: submit the backlog with no consumer running */
        b.t0_ns = nm_time_mono_ns();
        for (int i = 0; i < b.producers; i++) {
            pargs[i] = (producer_arg){&b, i, b.backlog / b.producers + (i < b.backlog % b.producers),
                                      "pre"};
            pthread_create(&threads[i], NULL, producer_main, &pargs[i]);
        }
        for (int i = 0; i < b.producers; i++)
            pthread_join(threads[i], NULL);
        double took = (double)(nm_time_mono_ns() - b.t0_ns) / 1e9;
        preload_in_per_s = (double)atomic_load(&b.acked) / took;
        printf("{\"mode\":\"queue-preload\",\"articles\":%lld,\"acked\":%lld,\"seconds\":%.1f,"
               "\"in_per_s\":%.0f,\"queue_rss_kb\":%ld}\n",
               (long long)b.backlog, (long long)atomic_load(&b.acked), took,
               (double)atomic_load(&b.acked) / took, peak_rss_kb(queue));
        fflush(stdout);
        atomic_store(&b.acked, 0);
        atomic_store(&b.n_latency, 0);
    }
    b.t0_ns = nm_time_mono_ns();
    for (int i = 0; i < b.consumers; i++)
        pthread_create(&threads[i], NULL, consumer_main, &b);
    for (int i = 0; i < b.producers; i++) {
        pargs[i] = (producer_arg){&b, i, b.articles / b.producers + (i < b.articles % b.producers),
                                  "bench"};
        pthread_create(&threads[b.consumers + i], NULL, producer_main, &pargs[i]);
    }
    int64_t goal = b.consumers ? b.articles + b.backlog : b.articles;
    long long prev_in = 0, prev_out = 0;
    for (int sec = 1;; sec++) {
        int64_t wake = b.t0_ns + sec * NM_NS_PER_S;
        long long goal_done = b.consumers ? atomic_load(&b.consumed) : atomic_load(&b.acked);
        while (nm_time_mono_ns() < wake && goal_done < goal && !atomic_load(&b.failed)) {
            usleep(10 * 1000);
            goal_done = b.consumers ? atomic_load(&b.consumed) : atomic_load(&b.acked);
        }
        long long in = atomic_load(&b.acked), out = atomic_load(&b.consumed);
        if (nm_time_mono_ns() >= wake)
            printf("{\"mode\":\"queue-progress\",\"t_s\":%d,\"acked\":%lld,\"consumed\":%lld,"
                   "\"in_per_s\":%lld,\"out_per_s\":%lld}\n",
                   sec, in, out, in - prev_in, out - prev_out);
        fflush(stdout);
        prev_in = in;
        prev_out = out;
        if (goal_done >= goal || atomic_load(&b.failed) || sec > 600)
            break;
    }
    for (int i = 0; i < b.producers + b.consumers; i++)
        pthread_join(threads[i], NULL);

    /* the last done must be committed, and the drained spool compacted (once
     * a second), before the spool is measured */
    usleep(2500 * 1000);
    long rss_kb = peak_rss_kb(queue);
    kill(queue, SIGTERM);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    wait4(queue, &status, 0, &ru);
    double queue_cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    double load[1] = {0};
    getloadavg(load, 1);
    int64_t rows = -1;
    nm_spool *s = *nats ? NULL : nm_spool_open(spool, NM_SPOOL_NORMAL, &err);
    if (*nats)
        rows = 0; /* the stream: drained when every article was consumed */
    int64_t live_bytes = 0;
    if (s) {
        nm_spool_count_articles(s, &rows, NULL);
        nm_spool_bytes(s, &live_bytes, NULL);
        nm_spool_close(&s);
    }
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", spool);

    size_t n_lat = (size_t)atomic_load(&b.n_latency);
    qsort(b.latency_s, n_lat, sizeof *b.latency_s, cmp_double);
    double in_s = (double)(atomic_load(&b.last_ack_ns) - b.t0_ns) / 1e9;
    double out_s = (double)(atomic_load(&b.last_consumed_ns) - b.t0_ns) / 1e9;
    long long acked = atomic_load(&b.acked), consumed = atomic_load(&b.consumed);
    printf("{\"mode\":\"queue\",\"store\":\"%s\",\"articles\":%lld,\"batch\":%lld,\"producers\":%lld,"
           "\"consumers\":%lld,\"backlog\":%lld,\"in_flight_batches\":%lld,\"body_bytes\":%lld,"
           "\"durability\":\"%s\",\"acked\":%lld,\"consumed\":%lld,"
           "\"in_per_s\":%.0f,\"out_per_s\":%.0f,\"submit_ack_p50_ms\":%.2f,"
           "\"submit_ack_p99_ms\":%.2f,\"submit_ack_max_ms\":%.2f,"
           "\"spool_rows_after\":%lld,\"spool_file_bytes_after\":%lld,"
           "\"spool_wal_bytes_after\":%lld,\"spool_live_bytes_after\":%lld,"
           "\"queue_peak_rss_kb\":%ld,\"queue_cpu_s\":%.2f,\"queue_cpu_us_per_article\":%.1f,\"loadavg_1m\":%.1f,"
           "\"queue_exit\":%d,\"ok\":%s}\n",
           *nats ? "jetstream" : "spool", (long long)b.articles, (long long)b.batch,
           (long long)b.producers,
           (long long)b.consumers, (long long)b.backlog, (long long)b.in_flight, (long long)b.body_bytes, b.durability,
           acked, consumed, phased ? preload_in_per_s : in_s > 0 ? (double)acked / in_s : 0,
           out_s > 0 ? (double)consumed / out_s : 0, percentile(b.latency_s, n_lat, 0.5) * 1e3,
           percentile(b.latency_s, n_lat, 0.99) * 1e3,
           n_lat ? b.latency_s[n_lat - 1] * 1e3 : 0.0, (long long)rows,
           (long long)file_size(spool), (long long)file_size(wal), (long long)live_bytes,
           rss_kb, queue_cpu_s, queue_cpu_s * 1e6 / (double)(b.articles + b.backlog), load[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           acked == b.articles &&
                   (b.consumers ? consumed >= goal && rows == 0 : rows == acked + b.backlog)
               ? "true"
               : "false");
    zmq_ctx_term(b.ctx);
    free(threads);
    free(pargs);
    free(b.latency_s);
    close_dir(dir, dir_opt, keep);
    return acked == b.articles && (b.consumers == 0 || consumed >= goal) ? 0 : 1;
}

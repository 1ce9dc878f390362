/*
 * bench-e2e: the whole pipeline on one host, as JSON lines.
 *
 * Starts a fresh fleet in a temporary directory (newsmill-queue and W
 * newsmill-worker processes, full durability), submits the corpus through
 * nm_producer with several batches in flight (repeated until N articles,
 * each repeat under new ids), waits until the results database (with
 * --partitions: the time partitions of worker --results-dir) holds all N,
 * then stops the fleet. The bench binds the stats endpoint itself (a tiny
 * collector) to read the workers' per-stage histograms.
 *
 * Output, one JSON object per line:
 *   {"mode":"e2e","window":K,"stored":S,...}     with --report-every N: the rate of
 *                                                each N articles stored
 *   {"mode":"e2e","stage":"submit",...}          producer side: all acked
 *   {"mode":"e2e","stage":"decode"|"extract"|"persist",...}   worker CPU time per stage
 *   {"mode":"e2e","process":"queue"|"worker1",...,"peak_rss_bytes":...}
 *   {"mode":"e2e","articles":N,"seconds":S,"articles_per_s":R,...}   the summary, last
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "nm_alloc.h"
#include "nm_frame.h"
#include "nm_fs.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_producer.h"
#include "nm_protocol.h"
#include "nm_stats.h"
#include "nm_store.h"
#include "nm_time.h"

/* ---- corpus ---------------------------------------------------------------- */

typedef struct doc {
    char *rel; /* path under the corpus directory: the id's stem */
    char *body;
    size_t len;
    bool html;
} doc;

typedef struct corpus {
    doc *docs;
    size_t n, cap;
    size_t bytes;
} corpus;

static int cmp_doc(const void *a, const void *b)
{
    return strcmp(((const doc *)a)->rel, ((const doc *)b)->rel);
}

static void load_dir(corpus *c, const char *root, const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], full[PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            load_dir(c, root, sub);
            continue;
        }
        size_t nlen = strlen(e->d_name);
        bool txt = nlen > 4 && strcmp(e->d_name + nlen - 4, ".txt") == 0;
        bool html = (nlen > 5 && strcmp(e->d_name + nlen - 5, ".html") == 0) ||
                    (nlen > 4 && strcmp(e->d_name + nlen - 4, ".htm") == 0);
        if (!txt && !html)
            continue;
        size_t len;
        char *body = nm_fs_read_file(full, &len);
        if (!body || len == 0) {
            free(body);
            continue;
        }
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->docs = nm_xrealloc(c->docs, c->cap * sizeof *c->docs);
        }
        c->docs[c->n++] = (doc){nm_xstrdup(sub), body, len, html};
        c->bytes += len;
    }
    closedir(d);
}

/* ---- processes ------------------------------------------------------------- */

typedef struct proc {
    char name[32];
    pid_t pid;
} proc;

static void proc_start(proc *p, const char *name, const char *log_path, char *const argv[])
{
    snprintf(p->name, sizeof p->name, "%s", name);
    p->pid = fork();
    if (p->pid < 0) {
        perror("fork");
        exit(1);
    }
    if (p->pid == 0) {
        FILE *log = fopen(log_path, "a");
        if (log) {
            dup2(fileno(log), 1);
            dup2(fileno(log), 2);
        }
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
}

static bool proc_alive(proc *p)
{
    int status;
    return p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0;
}

/* VmHWM (peak resident set) of a live process, in bytes; 0 if unknown. */
static long long peak_rss(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lld kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* CPU seconds (user + system) a live process has used. */
static double cpu_seconds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name may hold spaces; fields follow ") " */
    unsigned long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                     &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void proc_stop(proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGTERM);
    int status;
    for (int i = 0; i < 200; i++) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return;
        }
        usleep(50 * 1000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- stats: the latest report of each worker --------------------------------- */

#define MAX_WORKERS 64

typedef struct stats_view {
    char instance[MAX_WORKERS][128];
    Newsmill__StatsReport *last[MAX_WORKERS];
    size_t n;
} stats_view;

static void stats_take(stats_view *v, void *pull)
{
    for (;;) {
        Newsmill__Envelope *env = NULL;
        if (nm_frame_recv(pull, NULL, NM_FRAME_MAX_DEFAULT, &env, ZMQ_DONTWAIT, NULL) != 0)
            return;
        if (env->body_case != NEWSMILL__ENVELOPE__BODY_STATS ||
            strcmp(env->stats->role, "worker") != 0) {
            nm_frame_free(&env);
            continue;
        }
        Newsmill__StatsReport *r = env->stats;
        size_t i = 0;
        while (i < v->n && strcmp(v->instance[i], r->instance) != 0)
            i++;
        if (i == MAX_WORKERS) {
            nm_frame_free(&env);
            continue;
        }
        if (i == v->n) {
            snprintf(v->instance[i], sizeof v->instance[i], "%s", r->instance);
            v->n++;
        }
        if (v->last[i])
            newsmill__stats_report__free_unpacked(v->last[i], NULL);
        env->stats = NULL; /* keep the report, free the envelope */
        env->body_case = NEWSMILL__ENVELOPE__BODY__NOT_SET;
        v->last[i] = r;
        nm_frame_free(&env);
    }
}

/* A histogram merged over workers. */
typedef struct merged {
    uint64_t counts[64];
    size_t n_bounds;
    const double *bounds;
    double sum;
    uint64_t count;
} merged;

static void merge_histogram(const stats_view *v, const char *name, merged *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < v->n; i++)
        for (size_t k = 0; v->last[i] && k < v->last[i]->n_metrics; k++) {
            Newsmill__Metric *x = v->last[i]->metrics[k];
            if (strcmp(x->name, name) != 0 || x->kind != NEWSMILL__METRIC_KIND__METRIC_HISTOGRAM)
                continue;
            m->bounds = x->bucket_bounds;
            m->n_bounds = x->n_bucket_bounds;
            for (size_t b = 0; b < x->n_bucket_counts && b < 64; b++)
                m->counts[b] += x->bucket_counts[b];
            m->sum += x->sum;
            m->count += x->count;
        }
}

static double counter_total(const stats_view *v, const char *name)
{
    double total = 0;
    for (size_t i = 0; i < v->n; i++)
        for (size_t k = 0; v->last[i] && k < v->last[i]->n_metrics; k++)
            if (strcmp(v->last[i]->metrics[k]->name, name) == 0)
                total += v->last[i]->metrics[k]->value;
    return total;
}

/* ---- the run ---------------------------------------------------------------- */

typedef struct in_flight {
    uint64_t request_id;
    size_t first, n;
    int64_t sent_ns;
} in_flight;

static void build_article(Newsmill__Article *a, const corpus *c, size_t i, char *id_buf,
                          size_t id_size)
{
    const doc *d = &c->docs[i % c->n];
    snprintf(id_buf, id_size, "r%zu/%s", i / c->n, d->rel);
    newsmill__article__init(a);
    a->id = id_buf;
    a->content_type = d->html ? NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML
                              : NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    a->body.data = (uint8_t *)d->body;
    a->body.len = d->len;
    a->source = "bench";
}

static int64_t db_count(const char *db)
{
    if (access(db, F_OK) != 0)
        return 0;
    nm_store_options ro = {.read_only = true};
    nm_store *s = nm_store_open(db, &ro, NULL);
    if (!s)
        return 0;
    int64_t n = nm_store_count_articles(s, NULL);
    nm_store_close(&s);
    return n;
}

/* Articles in every partition of dir (not the id index). */
static int64_t dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int64_t n = 0;
    struct dirent *e;
    nm_partition_name name;
    while ((e = readdir(d))) {
        if (!nm_partition_parse(e->d_name, &name))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        n += db_count(path);
    }
    closedir(d);
    return n;
}

/* One window line each time the stored count passes a multiple of every:
 * the rate over that window (sampled, so within a sample period). */
typedef struct windows {
    int64_t every, next, last_ns, last_stored, sampled_ns;
    int index;
} windows;

static int64_t stored_now(const char *db, const char *parts)
{
    return *parts ? dir_count(parts) : db_count(db);
}

static void windows_sample(windows *w, const char *db, const char *parts)
{
    int64_t now = nm_time_mono_ns();
    if (w->every <= 0 || now - w->sampled_ns < NM_NS_PER_S)
        return;
    w->sampled_ns = now;
    int64_t stored = stored_now(db, parts);
    if (stored < w->next)
        return;
    while (stored >= w->next) /* a sample may pass several: one line for them */
        w->next += w->every;
    double s = (double)(now - w->last_ns) / 1e9;
    printf("{\"mode\":\"e2e\",\"window\":%d,\"stored\":%lld,\"seconds\":%.1f,"
           "\"articles_per_s\":%.0f}\n",
           ++w->index, (long long)stored, s, (double)(stored - w->last_stored) / s);
    fflush(stdout);
    w->last_ns = now;
    w->last_stored = stored;
}

int main(int argc, char **argv)
{
    static char default_corpus[PATH_MAX];
    snprintf(default_corpus, sizeof default_corpus, "%s/../../shared/corpus", NM_DATA_DIR);
    static char default_bin[PATH_MAX];
    ssize_t n_self = readlink("/proc/self/exe", default_bin, sizeof default_bin - 1);
    if (n_self > 0) {
        default_bin[n_self] = '\0';
        char *slash = strrchr(default_bin, '/');
        if (slash)
            *slash = '\0';
    }
    const char *corpus_dir = default_corpus, *bin_dir = default_bin, *tmp_root = "/tmp";
    const char *worker_sync = "full", *nats = "";
    int64_t n_articles = 50000, n_workers = 2, batch = 500, window = 8, credit = 256,
            worker_batch = 128, timeout_s = 600, report_every = 0;
    bool partitions = false;
    bool keep = false;
    const char *partition_period = "", *partition_grace = "";
    const nm_opt opts[] = {
        {"corpus", 0, NM_OPT_STRING, &corpus_dir, "DIR", "articles (*.txt, *.html, recursively)",
         0, 0},
        {"articles", 'n', NM_OPT_INT, &n_articles, "N", "articles to push through", 1, 1e9},
        {"workers", 'w', NM_OPT_INT, &n_workers, "W", "worker processes", 1, MAX_WORKERS},
        {"submit-batch", 0, NM_OPT_INT, &batch, "N", "articles per submit", 1, 100000},
        {"in-flight", 0, NM_OPT_INT, &window, "N", "submit batches in flight", 1, 1000},
        {"credit", 0, NM_OPT_INT, &credit, "N", "worker --credit", 1, 100000},
        {"worker-batch", 0, NM_OPT_INT, &worker_batch, "N", "worker --batch", 1, 100000},
        {"sync", 0, NM_OPT_STRING, &worker_sync, "MODE",
         "results database durability: full (fsync per commit) or normal", 0, 0},
        {"bin-dir", 0, NM_OPT_STRING, &bin_dir, "DIR", "where newsmill-queue/-worker are", 0, 0},
        {"tmp", 0, NM_OPT_STRING, &tmp_root, "DIR", "where the fleet's directory is made", 0, 0},
        {"timeout", 0, NM_OPT_INT, &timeout_s, "SECONDS", "give up after this long", 1, 86400},
        {"keep", 0, NM_OPT_FLAG, &keep, NULL, "keep the fleet's directory (logs, databases)", 0,
         0},
        {"nats", 0, NM_OPT_STRING, &nats, "URLS",
         "run the queue on this NATS JetStream cluster (--store jetstream)", 0, 0},
        {"partitions", 0, NM_OPT_FLAG, &partitions, NULL,
         "workers write time partitions (worker --results-dir) instead of one file", 0, 0},
        {"partition-period", 0, NM_OPT_STRING, &partition_period, "DURATION",
         "with --partitions: worker --partition-period (\"\": the worker's default)", 0, 0},
        {"partition-grace", 0, NM_OPT_STRING, &partition_grace, "DURATION",
         "with --partitions: worker --partition-grace (\"\": the worker's default)", 0, 0},
        {"report-every", 0, NM_OPT_INT, &report_every, "N",
         "a line with the rate of each N articles stored (0: none)", 0, 1e9},
    };
    size_t n_opts = sizeof opts / sizeof *opts;
    nm_error err;
    const nm_opts_program program = {
        "bench-e2e", "[OPTIONS]",
        "End-to-end throughput: queue + workers + results database, JSON lines.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    corpus c = {0};
    load_dir(&c, corpus_dir, "");
    if (c.n == 0) {
        fprintf(stderr, "bench-e2e: no *.txt or *.html articles under %s\n", corpus_dir);
        return 1;
    }
    qsort(c.docs, c.n, sizeof *c.docs, cmp_doc);

    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/nm-bench-e2e-XXXXXX", tmp_root);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char front[64], back[64], stats_ep[64], spool[PATH_MAX], db[PATH_MAX], log[PATH_MAX],
        exe[PATH_MAX];
    snprintf(front, sizeof front, "tcp://127.0.0.1:%d", free_port());
    snprintf(back, sizeof back, "tcp://127.0.0.1:%d", free_port());
    snprintf(spool, sizeof spool, "%s/queue.db", dir);
    snprintf(db, sizeof db, "%s/results.db", dir);
    char parts[PATH_MAX] = "";
    if (partitions)
        snprintf(parts, sizeof parts, "%s/results", dir);

    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    snprintf(stats_ep, sizeof stats_ep, "tcp://127.0.0.1:%d", free_port());
    if (zmq_bind(pull, stats_ep) != 0) {
        fprintf(stderr, "bench-e2e: bind %s: %s\n", stats_ep, zmq_strerror(zmq_errno()));
        return 1;
    }

    proc queue = {0};
    proc workers[MAX_WORKERS] = {{{0}, 0}};
    snprintf(exe, sizeof exe, "%s/newsmill-queue", bin_dir);
    snprintf(log, sizeof log, "%s/queue.log", dir);
    char *qargv[] = {exe, "--front", front, "--back", back, "--stats", stats_ep, "--spool",
                     spool, "--durability", "full", "--log-level", "warn", NULL};
    char *jargv[] = {exe, "--front", front, "--back", back, "--stats", stats_ep, "--store",
                     "jetstream", "--nats", (char *)nats, "--log-level", "warn", NULL};
    proc_start(&queue, "queue", log, *nats ? jargv : qargv);
    char credit_s[24], batch_s[24];
    snprintf(credit_s, sizeof credit_s, "%lld", (long long)credit);
    snprintf(batch_s, sizeof batch_s, "%lld", (long long)worker_batch);
    for (int64_t i = 0; i < n_workers; i++) {
        char wexe[PATH_MAX], name[32];
        snprintf(wexe, sizeof wexe, "%s/newsmill-worker", bin_dir);
        snprintf(name, sizeof name, "worker%lld", (long long)i + 1);
        snprintf(log, sizeof log, "%s/%s.log", dir, name);
        char *wargv[24] = {wexe, "--queue", back, "--stats", stats_ep,
                           partitions ? "--results-dir" : "--db", partitions ? parts : db,
                           "--name", name, "--credit", credit_s, "--batch", batch_s,
                           "--log-level", "warn"};
        int wargc = 0;
        while (wargv[wargc])
            wargc++;
        if (strcmp(worker_sync, "normal") == 0)
            wargv[wargc++] = "--sync-normal";
        if (partitions && *partition_period) {
            wargv[wargc++] = "--partition-period";
            wargv[wargc++] = (char *)partition_period;
        }
        if (partitions && *partition_grace) {
            wargv[wargc++] = "--partition-grace";
            wargv[wargc++] = (char *)partition_grace;
        }
        wargv[wargc] = NULL;
        proc_start(&workers[i], name, log, wargv);
    }
    /* workers create the database; wait until every worker is connected
     * (JetStream: and the front has made its streams) */
    usleep(*nats ? 3000 * 1000 : 300 * 1000);

    nm_producer *p = nm_producer_new(ctx, front, &err);
    if (!p) {
        fprintf(stderr, "bench-e2e: %s\n", err.msg);
        return 1;
    }
    in_flight *fl = nm_xcalloc((size_t)window, sizeof *fl);
    size_t n_fl = 0, next = 0, acked = 0;
    Newsmill__Article *arts = nm_xcalloc((size_t)batch, sizeof *arts);
    Newsmill__Article **ptrs = nm_xcalloc((size_t)batch, sizeof *ptrs);
    char (*ids)[PATH_MAX] = nm_xcalloc((size_t)batch, sizeof *ids);
    stats_view view = {0};
    int64_t t0 = nm_time_mono_ns(), deadline = t0 + timeout_s * NM_NS_PER_S;
    windows win = {.every = report_every, .next = report_every, .last_ns = t0, .sampled_ns = t0};
    int64_t acked_ns = 0;
    bool failed = false;
    while (acked < (size_t)n_articles && !failed) {
        while (n_fl < (size_t)window && next < (size_t)n_articles) {
            size_t n = (size_t)n_articles - next < (size_t)batch ? (size_t)n_articles - next
                                                                  : (size_t)batch;
            for (size_t k = 0; k < n; k++) {
                build_article(&arts[k], &c, next + k, ids[k], sizeof ids[k]);
                ptrs[k] = &arts[k];
            }
            uint64_t req;
            if (nm_producer_send(p, ptrs, n, &req, &err) != 0) {
                fprintf(stderr, "bench-e2e: submit: %s\n", err.msg);
                failed = true;
                break;
            }
            fl[n_fl++] = (in_flight){req, next, n, nm_time_mono_ns()};
            next += n;
        }
        uint64_t req = 0;
        Newsmill__SubmitAck *ack = NULL;
        int r = nm_producer_recv(p, 100, &req, &ack, &err);
        stats_take(&view, pull);
        windows_sample(&win, db, parts);
        if (nm_time_mono_ns() > deadline) {
            fprintf(stderr, "bench-e2e: timed out submitting\n");
            failed = true;
        }
        if (r != 0 && req == 0)
            continue; /* nothing yet */
        size_t k = 0;
        while (k < n_fl && fl[k].request_id != req)
            k++;
        if (k == n_fl) {
            nm_producer_ack_free(&ack);
            continue;
        }
        if (r != 0) { /* refused (queue full ...): send the same articles again */
            in_flight again = fl[k];
            fl[k] = fl[--n_fl];
            usleep(20 * 1000);
            for (size_t j = 0; j < again.n; j++) {
                build_article(&arts[j], &c, again.first + j, ids[j], sizeof ids[j]);
                ptrs[j] = &arts[j];
            }
            if (nm_producer_send(p, ptrs, again.n, &req, &err) != 0) {
                fprintf(stderr, "bench-e2e: resubmit: %s\n", err.msg);
                failed = true;
            }
            again.request_id = req;
            fl[n_fl++] = again;
            continue;
        }
        if (ack->accepted != fl[k].n) {
            fprintf(stderr, "bench-e2e: %u of %zu articles accepted\n", ack->accepted, fl[k].n);
            failed = true;
        }
        acked += fl[k].n;
        fl[k] = fl[--n_fl];
        nm_producer_ack_free(&ack);
    }
    acked_ns = nm_time_mono_ns();
    /* wait until everything is committed */
    int64_t stored = 0;
    while (!failed && (stored = stored_now(db, parts)) < n_articles) {
        stats_take(&view, pull);
        windows_sample(&win, db, parts);
        if (nm_time_mono_ns() > deadline) {
            fprintf(stderr, "bench-e2e: timed out with %lld of %lld articles stored\n",
                    (long long)stored, (long long)n_articles);
            failed = true;
            break;
        }
        for (int64_t i = 0; i < n_workers; i++)
            if (!proc_alive(&workers[i])) {
                fprintf(stderr, "bench-e2e: %s died (log in %s)\n", workers[i].name, dir);
                failed = true;
                keep = true;
            }
        usleep(partitions ? 200 * 1000 : 20 * 1000); /* counting a directory costs more */
    }
    int64_t done_ns = nm_time_mono_ns();
    win.sampled_ns = 0;
    windows_sample(&win, db, parts); /* the last window */
    double seconds = (double)(done_ns - t0) / 1e9;

    /* final stats reports (every second), and peak memory before stopping */
    int64_t wait_until = nm_time_mono_ns() + 1200 * NM_NS_PER_MS;
    while (nm_time_mono_ns() < wait_until) {
        stats_take(&view, pull);
        usleep(50 * 1000);
    }
    long long rss_queue = peak_rss(queue.pid);
    double cpu_queue = cpu_seconds(queue.pid);
    long long rss_workers[MAX_WORKERS];
    double cpu_workers[MAX_WORKERS], cpu_all_workers = 0;
    for (int64_t i = 0; i < n_workers; i++) {
        rss_workers[i] = peak_rss(workers[i].pid);
        cpu_workers[i] = cpu_seconds(workers[i].pid);
        cpu_all_workers += cpu_workers[i];
    }
    for (int64_t i = 0; i < n_workers; i++)
        proc_stop(&workers[i]);
    proc_stop(&queue);

    printf("{\"mode\":\"e2e\",\"stage\":\"submit\",\"articles\":%zu,\"seconds\":%.3f,"
           "\"articles_per_s\":%.0f}\n",
           acked, (double)(acked_ns - t0) / 1e9, (double)acked / ((double)(acked_ns - t0) / 1e9));
    const char *stages[][2] = {{"decode", NM_METRIC_WORKER_DECODE_SECONDS},
                               {"extract", NM_METRIC_WORKER_EXTRACT_SECONDS},
                               {"persist", NM_METRIC_WORKER_PERSIST_SECONDS}};
    for (size_t i = 0; i < 3; i++) {
        merged m;
        merge_histogram(&view, stages[i][1], &m);
        printf("{\"mode\":\"e2e\",\"stage\":\"%s\",\"observations\":%llu,\"seconds_total\":%.3f,"
               "\"mean_ms\":%.4f,\"p99_ms\":%.3f}\n",
               stages[i][0], (unsigned long long)m.count, m.sum,
               m.count ? m.sum / (double)m.count * 1e3 : 0,
               m.count ? nm_hist_quantile(m.bounds, m.counts, m.n_bounds, 0.99) * 1e3 : 0);
    }
    merged lat, batches;
    merge_histogram(&view, NM_METRIC_WORKER_SUBMIT_TO_COMMIT_SECONDS, &lat);
    merge_histogram(&view, NM_METRIC_WORKER_BATCH_ARTICLES, &batches);
    double p50 = lat.count ? nm_hist_quantile(lat.bounds, lat.counts, lat.n_bounds, 0.5) : 0;
    double p99 = lat.count ? nm_hist_quantile(lat.bounds, lat.counts, lat.n_bounds, 0.99) : 0;
    printf("{\"mode\":\"e2e\",\"stage\":\"batches\",\"batches\":%llu,\"mean_articles\":%.1f,"
           "\"db_retries\":%.0f,\"failed\":%.0f}\n",
           (unsigned long long)batches.count,
           batches.count ? batches.sum / (double)batches.count : 0,
           counter_total(&view, NM_METRIC_WORKER_DB_RETRIES_TOTAL),
           counter_total(&view, NM_METRIC_WORKER_ARTICLES_FAILED_TOTAL));
    printf("{\"mode\":\"e2e\",\"process\":\"queue\",\"peak_rss_bytes\":%lld,"
           "\"cpu_seconds\":%.2f}\n",
           rss_queue, cpu_queue);
    for (int64_t i = 0; i < n_workers; i++)
        printf("{\"mode\":\"e2e\",\"process\":\"%s\",\"peak_rss_bytes\":%lld,"
               "\"cpu_seconds\":%.2f}\n",
               workers[i].name, rss_workers[i], cpu_workers[i]);
    printf("{\"mode\":\"e2e\",\"store\":\"%s\",\"articles\":%lld,\"stored\":%lld,\"workers\":%lld,"
           "\"corpus_docs\":%zu,\"corpus_bytes\":%zu,\"seconds\":%.3f,\"articles_per_s\":%.0f,"
           "\"mb_per_s\":%.2f,\"submit_to_commit_p50_ms\":%.1f,\"submit_to_commit_p99_ms\":%.1f,"
           "\"worker_cpu_us_per_article\":%.0f,\"queue_cpu_us_per_article\":%.0f,"
           "\"sync\":\"%s\",\"ok\":%s}\n",
           *nats ? "jetstream" : "spool", (long long)n_articles, (long long)stored,
           (long long)n_workers, c.n, c.bytes, seconds,
           (double)stored / seconds,
           (double)c.bytes * ((double)n_articles / (double)c.n) / seconds / 1e6, p50 * 1e3,
           p99 * 1e3, stored ? cpu_all_workers / (double)stored * 1e6 : 0,
           stored ? cpu_queue / (double)stored * 1e6 : 0, worker_sync, failed ? "false" : "true");
    fflush(stdout);

    for (size_t i = 0; i < view.n; i++)
        newsmill__stats_report__free_unpacked(view.last[i], NULL);
    nm_producer_destroy(&p);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    if (!keep) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-e2e: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "bench-e2e: fleet directory kept: %s\n", dir);
    }
    for (size_t i = 0; i < c.n; i++) {
        free(c.docs[i].rel);
        free(c.docs[i].body);
    }
    free(c.docs);
    free(fl);
    free(arts);
    free(ptrs);
    free(ids);
    return failed ? 1 : 0;
}

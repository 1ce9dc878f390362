/*
 * bench-grow: the results' write path as they grow, as JSON lines: fills
 * time partitions (or one file) to N articles fast and reports the rate per
 * window of articles, so that "flat with size" can be checked without
 * running the queue for hours.
 *
 * Each of W writer processes extracts the corpus once, then writes it again
 * and again under new ids through nm_partitions (as a worker's writer
 * thread does: batches of --batch in one transaction, the id index, the
 * replace check), with an ingestion clock that advances --per-period
 * articles per partition period, so that partitions roll over as they would
 * over days. A transaction that finds the write lock taken (--shared, or
 * --db) is retried and counted: db_retries, as the worker counts them.
 *
 * Output, one JSON object per line:
 *   {"mode":"grow","window":K,"articles":A,"seconds":S,"articles_per_s":R}
 *                                  per window of --window articles (all writers)
 *   {"mode":"grow","writer":I,"rss_at_start_bytes":A,"peak_rss_bytes":B,"db_retries":N}
 *                                  RSS once the corpus is extracted and held, and the
 *                                  peak while writing (what the write path adds: B - A)
 *   {"mode":"grow","articles":N,...,"last_vs_first":X,"bytes_per_article":Y}  summary, last
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_opts.h"
#include "nm_partition.h"
#include "nm_store.h"
#include "nm_time.h"

#define MAX_WRITERS 8
#define MAX_WINDOWS 4096

/* What the writers share with the parent (an anonymous shared mapping). */
typedef struct shared {
    volatile int64_t written[MAX_WRITERS];
    volatile int64_t retries[MAX_WRITERS];
    volatile int64_t peak_rss[MAX_WRITERS];
    volatile int64_t start_rss[MAX_WRITERS];
} shared;

typedef struct doc {
    char *body;
    size_t len;
    bool html;
} doc;

static doc *docs;
static size_t n_docs, cap_docs;

static void add_file(const char *path)
{
    size_t len = strlen(path);
    bool html = len > 5 && !strcmp(path + len - 5, ".html");
    if (!html && !(len > 4 && !strcmp(path + len - 4, ".txt")))
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *body = nm_xmalloc((size_t)size + 1);
    size_t got = fread(body, 1, (size_t)size, f);
    fclose(f);
    body[got] = '\0';
    if (n_docs == cap_docs) {
        cap_docs = cap_docs ? cap_docs * 2 : 256;
        docs = nm_xrealloc(docs, cap_docs * sizeof *docs);
    }
    docs[n_docs++] = (doc){body, got, html};
}

static void walk(const char *dir, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && n_docs < max) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(path, max);
        else
            add_file(path);
    }
    closedir(d);
}

/* VmHWM (peak) or VmRSS (now) of this process, in bytes. */
static int64_t rss(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t kb = 0;
    size_t len = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, len) && line[len] == ':')
            kb = strtoll(line + len + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Resets VmHWM to the current RSS (Linux: clear_refs 5), so that the peak
 * measured is the write path's, not the corpus extraction's. */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

typedef struct config {
    const char *dir, *db, *data_dir;
    int64_t articles, writers, batch, per_period, period_ms;
    bool shared_files;
} config;

/* One writer: its share of the articles, batch by batch. */
static int run_writer(const config *c, int index, shared *sh)
{
    nm_error err;
    nm_extractor_config ecfg = {.data_dir = c->data_dir};
    nm_extractor *ex = nm_extractor_new(&ecfg, &err);
    if (!ex) {
        fprintf(stderr, "bench-grow: extractor: %s\n", err.msg);
        return 1;
    }
    nm_extract_result **results = nm_xcalloc(n_docs, sizeof *results);
    size_t n_results = 0;
    for (size_t i = 0; i < n_docs; i++) {
        nm_extract_input in = {.body = docs[i].body, .len = docs[i].len,
                               .content_type = docs[i].html ? NM_CONTENT_HTML : NM_CONTENT_TEXT,
                               .id = "x", .source = "bench"};
        if (nm_extract(ex, &in, &results[n_results], &err) == 0)
            n_results++;
    }
    if (n_results == 0) {
        fprintf(stderr, "bench-grow: nothing extracted from the corpus\n");
        return 1;
    }
    nm_store_options so = {.busy_timeout_ms = 20, .sync_normal = true};
    nm_partitions *p;
    if (c->db) {
        nm_store *s = nm_store_open(c->db, &so, &err);
        p = s ? nm_partitions_wrap(s) : NULL;
    } else {
        nm_partition_options po = {.dir = c->dir, .period_ms = c->period_ms,
                                   .shared = c->shared_files, .store = so};
        p = nm_partitions_open_dir(&po, &err);
    }
    if (!p) {
        fprintf(stderr, "bench-grow: %s\n", err.msg);
        return 1;
    }
    reset_peak();
    sh->start_rss[index] = rss("VmRSS");
    int64_t share = c->articles / c->writers + (index < c->articles % c->writers);
    int64_t t0 = 20000LL * 86400000; /* a fixed start: partitions named alike run to run */
    char id[64];
    for (int64_t done = 0; done < share;) {
        int64_t n = share - done < c->batch ? share - done : c->batch;
        /* the clock of the whole fleet: all writers' articles so far */
        int64_t fleet_done = done * c->writers;
        int64_t t = t0 + fleet_done * c->period_ms / c->per_period;
        for (;;) {
            int rc = nm_partitions_begin(p, t, &err);
            for (int64_t k = 0; rc == 0 && k < n; k++) {
                nm_extract_result *r = results[(size_t)((done + k) * 7 + index) % n_results];
                const char *kept = r->id;
                snprintf(id, sizeof id, "grow-%d-%" PRId64, index, done + k);
                r->id = id;
                rc = nm_partitions_put(p, r, 1, NULL, &err);
                r->id = kept;
            }
            if (rc == 0)
                rc = nm_partitions_commit(p, &err);
            if (rc == 0)
                break;
            nm_partitions_rollback(p);
            if (!nm_store_error_is_transient(err.code)) {
                fprintf(stderr, "bench-grow: writer %d: %s\n", index, err.msg);
                return 1;
            }
            sh->retries[index]++;
        }
        done += n;
        sh->written[index] = done;
        sh->peak_rss[index] = rss("VmHWM");
    }
    nm_partitions_close(&p);
    for (size_t i = 0; i < n_results; i++)
        nm_extract_result_free(&results[i]);
    free(results);
    nm_extractor_destroy(&ex);
    return 0;
}

/* Bytes of every results file (and WAL) under the directory or at db. */
static int64_t disk_bytes(const config *c)
{
    int64_t total = 0;
    struct stat st;
    if (c->db) {
        char wal[4200];
        snprintf(wal, sizeof wal, "%s-wal", c->db);
        total += stat(c->db, &st) == 0 ? st.st_size : 0;
        total += stat(wal, &st) == 0 ? st.st_size : 0;
        return total;
    }
    DIR *d = opendir(c->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name);
        if (!strncmp(e->d_name, "results-", 8) && stat(path, &st) == 0)
            total += st.st_size;
    }
    if (d)
        closedir(d);
    return total;
}

int main(int argc, char **argv)
{
    config c = {.articles = 200000, .writers = 2, .batch = 128, .per_period = 100000,
                .period_ms = 86400000};
    const char *corpus = "samples", *dir = "", *db = "", *data_dir = "";
    int64_t window = 100000, max_docs = 2000;
    bool shared_files = false;
    const nm_opt opts[] = {
        {"corpus", 0, NM_OPT_STRING, &corpus, "DIR", "articles (*.txt, *.html, recursively)", 0, 0},
        {"max-docs", 0, NM_OPT_INT, &max_docs, "N", "at most N corpus files, extracted once", 1,
         1e6},
        {"articles", 'n', NM_OPT_INT, &c.articles, "N", "articles to write in all", 1, 1e9},
        {"writers", 'w', NM_OPT_INT, &c.writers, "W", "writer processes (as workers)", 1,
         MAX_WRITERS},
        {"batch", 'b', NM_OPT_INT, &c.batch, "N", "articles per transaction (worker --batch)", 1,
         100000},
        {"window", 0, NM_OPT_INT, &window, "N", "report the rate per N articles", 1000, 1e9},
        {"per-period", 0, NM_OPT_INT, &c.per_period, "N",
         "articles per partition period (the ingestion clock's pace)", 1, 1e9},
        {"period", 0, NM_OPT_DURATION, &c.period_ms, "DURATION", "partition period", 1000,
         366LL * 86400000},
        {"shared", 0, NM_OPT_FLAG, &shared_files, NULL,
         "the writers share one file per period, instead of one each", 0, 0},
        {"dir", 0, NM_OPT_STRING, &dir, "DIR", "partitions here (\"\": a new temporary directory)",
         0, 0},
        {"db", 0, NM_OPT_STRING, &db, "FILE", "one results file instead of partitions (as before)",
         0, 0},
        {"data-dir", 0, NM_OPT_STRING, &data_dir, "DIR", "extraction data (\"\": the default)", 0,
         0},
    };
    const nm_opts_program program = {
        "bench-grow", "[OPTIONS]",
        "Fills time partitions (or one file with --db) to N articles through the worker's write\n"
        "path and reports articles/s per window, writers' peak RSS and db_retries (JSON lines).",
        opts, sizeof opts / sizeof *opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    c.shared_files = shared_files;
    c.data_dir = *data_dir ? data_dir : NULL;
    c.db = *db ? db : NULL;
    char tmpdir[] = "/tmp/bench-grow-XXXXXX";
    if (!c.db && !*dir) {
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "bench-grow: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        dir = tmpdir;
    }
    c.dir = dir;
    walk(corpus, (size_t)max_docs);
    if (n_docs == 0) {
        fprintf(stderr, "bench-grow: no *.txt or *.html under %s\n", corpus);
        return 2;
    }
    shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    memset(sh, 0, sizeof *sh);
    pid_t pids[MAX_WRITERS];
    for (int i = 0; i < c.writers; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(run_writer(&c, i, sh));
        usleep(100000); /* slots taken in order */
    }
    /* windows: the time the fleet's total crossed each multiple of window */
    double rates[MAX_WINDOWS];
    int n_windows = 0;
    int64_t start = nm_time_mono_ns(), last_ns = start, next = window, total = 0;
    int running = (int)c.writers, failed = 0;
    bool started = false;
    while (running > 0) {
        usleep(20000);
        int status;
        pid_t done;
        while ((done = waitpid(-1, &status, WNOHANG)) > 0) {
            running--;
            failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        total = 0;
        for (int i = 0; i < c.writers; i++)
            total += sh->written[i];
        int64_t now = nm_time_mono_ns();
        if (!started && total > 0) { /* the clock starts at the first commit, not */
            started = true;          /* while the writers extract the corpus */
            start = last_ns = now;
        }
        while (total >= next && n_windows < MAX_WINDOWS) {
            double secs = (double)(now - last_ns) / 1e9;
            rates[n_windows] = secs > 0 ? (double)window / secs : 0;
            printf("{\"mode\":\"grow\",\"window\":%d,\"articles\":%" PRId64
                   ",\"seconds\":%.2f,\"articles_per_s\":%.0f}\n",
                   n_windows + 1, next, secs, rates[n_windows]);
            fflush(stdout);
            n_windows++;
            last_ns = now;
            next += window;
        }
    }
    double secs = (double)(nm_time_mono_ns() - start) / 1e9;
    int64_t retries = 0, peak = 0;
    for (int i = 0; i < c.writers; i++) {
        printf("{\"mode\":\"grow\",\"writer\":%d,\"rss_at_start_bytes\":%" PRId64
               ",\"peak_rss_bytes\":%" PRId64 ",\"db_retries\":%" PRId64 "}\n",
               i + 1, (int64_t)sh->start_rss[i], (int64_t)sh->peak_rss[i],
               (int64_t)sh->retries[i]);
        retries += sh->retries[i];
        peak = sh->peak_rss[i] > peak ? sh->peak_rss[i] : peak;
    }
    int64_t bytes = disk_bytes(&c);
    printf("{\"mode\":\"grow\",\"articles\":%" PRId64 ",\"seconds\":%.1f,\"articles_per_s\":%.0f,"
           "\"writers\":%" PRId64 ",\"layout\":\"%s\",\"corpus_docs\":%zu,\"db_retries\":%" PRId64
           ",\"peak_rss_bytes\":%" PRId64 ",\"last_vs_first\":%.2f,\"disk_bytes\":%" PRId64
           ",\"bytes_per_article\":%.0f,\"dir\":\"%s\"}\n",
           total, secs, secs > 0 ? (double)total / secs : 0, c.writers,
           c.db ? "one-file" : c.shared_files ? "shared-per-period" : "per-writer-per-period",
           n_docs, retries, peak, n_windows > 1 ? rates[n_windows - 1] / rates[0] : 1.0, bytes,
           total ? (double)bytes / (double)total : 0, c.db ? c.db : c.dir);
    return failed ? 1 : 0;
}

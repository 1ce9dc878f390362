/* bench-extract: extraction throughput on one core, no queue.
 *
 * Loads every .txt/.html/.htm file under the corpus directory into memory,
 * then runs nm_extract over all of them: one pass with per-stage timing
 * (nm_extract_profiled), then --passes timed passes without it. Prints JSON
 * lines: one per stage, one per timed pass, and a last summary line with
 * "mode":"extract".
 *
 * With --store FILE the timed passes also persist every result in a results
 * database (nm_store, one transaction per --batch articles, as a worker
 * does; each pass under new ids), and the time spent persisting is reported
 * on its own: the worker's other stage, without a queue or other writers. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "nm_alloc.h"
#include "nm_extract.h"
#include "nm_log.h"
#include "nm_opts.h"
#include "nm_store.h"
#include "nm_time.h"

typedef struct article {
    char *body;
    size_t len;
    nm_content_type type;
} article;

typedef struct corpus {
    article *v;
    size_t n, cap, bytes;
} corpus;

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void load_file(corpus *c, const char *path, nm_content_type type)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size <= 0) {
        fclose(f);
        return;
    }
    char *buf = nm_xmalloc((size_t)size);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->v = nm_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = (article){buf, got, type};
    c->bytes += got;
}

static void walk(corpus *c, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            walk(c, path, depth + 1);
        else if (ends_with(e->d_name, ".txt"))
            load_file(c, path, NM_CONTENT_TEXT);
        else if (ends_with(e->d_name, ".html") || ends_with(e->d_name, ".htm"))
            load_file(c, path, NM_CONTENT_HTML);
    }
    closedir(d);
}

/* CPU time of this thread: on a shared machine wall time measures the other
 * processes too, and the figure we want is per core. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Where a timed pass persists its results, and the time it spent doing so. */
typedef struct persist {
    nm_store *store; /* NULL: extraction only */
    size_t batch;
    int64_t pass;    /* ids are "p<pass>-<i>": new rows every pass */
    int64_t cpu_ns, wall_ns;
    size_t errors;
} persist;

/* Persists results[0..n) in one transaction, timing it into *p, and frees
 * them. */
static void persist_batch(persist *p, nm_extract_result **results, size_t n)
{
    int64_t c0 = cpu_ns(), t0 = nm_time_mono_ns();
    nm_error err;
    if (nm_store_put_batch(p->store, (const nm_extract_result *const *)results, n,
                           nm_time_unix_ms(), &err) < 0) {
        fprintf(stderr, "bench-extract: persisting: %s\n", err.msg);
        p->errors += n;
    }
    for (size_t i = 0; i < n; i++)
        nm_extract_result_free(&results[i]);
    p->cpu_ns += cpu_ns() - c0;
    p->wall_ns += nm_time_mono_ns() - t0;
}

/* One pass over the corpus; returns elapsed ns (*cpu gets CPU ns, persisting
 * included); counts errors. */
static int64_t run_pass(const nm_extractor *ex, const corpus *c, nm_extract_profile *prof,
                        persist *p, size_t *errors, int64_t *cpu)
{
    nm_extract_result **batch = p ? nm_xcalloc(p->batch, sizeof *batch) : NULL;
    size_t n_batch = 0;
    char id[64];
    int64_t c0 = cpu_ns();
    int64_t t0 = nm_time_mono_ns();
    for (size_t i = 0; i < c->n; i++) {
        if (p)
            snprintf(id, sizeof id, "p%" PRId64 "-%zu", p->pass, i);
        nm_extract_input in = {.body = c->v[i].body, .len = c->v[i].len,
                               .content_type = c->v[i].type, .id = p ? id : NULL};
        nm_extract_result *r;
        nm_error err;
        if (nm_extract_profiled(ex, &in, &r, prof, &err) < 0) {
            (*errors)++;
            continue;
        }
        if (!p) {
            nm_extract_result_free(&r);
            continue;
        }
        batch[n_batch++] = r;
        if (n_batch == p->batch) {
            persist_batch(p, batch, n_batch);
            n_batch = 0;
        }
    }
    if (n_batch)
        persist_batch(p, batch, n_batch);
    *cpu = cpu_ns() - c0;
    free(batch);
    return nm_time_mono_ns() - t0;
}

int main(int argc, char **argv)
{
    nm_log_init("bench-extract");
    const char *corpus_dir = NM_DATA_DIR "/../../shared/corpus";
    const char *recognizer = "model"; /* the extractor's default */
    int64_t passes = 3;
    int64_t limit = 0;
    const char *store_path = NULL;
    const char *sync = "full";
    int64_t batch = 128;
    nm_opt opts[] = {
        {"corpus", 'c', NM_OPT_STRING, &corpus_dir, "DIR", "articles (.txt, .html) under DIR", 0, 0},
        {"passes", 'p', NM_OPT_INT, &passes, "N", "timed passes over the corpus", 1, 1000},
        {"recognizer", 'r', NM_OPT_STRING, &recognizer, "KIND", "entity recogniser: rules or model", 0, 0},
        {"limit", 'n', NM_OPT_INT, &limit, "N", "use only the first N articles (0 = all; for callgrind)", 0, 1e9},
        {"store", 's', NM_OPT_STRING, &store_path, "FILE", "also persist the timed passes in this results database (created)", 0, 0},
        {"batch", 'b', NM_OPT_INT, &batch, "N", "articles per transaction with --store", 1, 100000},
        {"sync", 0, NM_OPT_STRING, &sync, "MODE", "with --store: full (fsync every commit) or normal", 0, 0},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    nm_error err;
    const nm_opts_program program = {
        "bench-extract", "[OPTIONS]",
        "Extraction throughput on one core (no queue): one profiled pass for the\n"
        "time per stage, then timed passes. JSON lines; the last is the summary.",
        opts, n_opts, 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    corpus c = {0};
    walk(&c, corpus_dir, 0);
    if (limit > 0 && (size_t)limit < c.n) {
        for (size_t i = (size_t)limit; i < c.n; i++) {
            c.bytes -= c.v[i].len;
            free(c.v[i].body);
        }
        c.n = (size_t)limit;
    }
    if (c.n == 0) {
        fprintf(stderr, "bench-extract: no .txt or .html files under %s\n", corpus_dir);
        return 1;
    }
    nm_extractor_config cfg = {.recognizer = recognizer};
    nm_extractor *ex = nm_extractor_new(&cfg, &err);
    if (!ex) {
        fprintf(stderr, "bench-extract: %s\n", err.msg);
        return 1;
    }
    if (strcmp(sync, "full") != 0 && strcmp(sync, "normal") != 0) {
        fprintf(stderr, "bench-extract: --sync must be full or normal, not '%s'\n", sync);
        return 2;
    }
    persist p = {.batch = (size_t)batch};
    if (store_path) {
        nm_store_options so = {.sync_normal = strcmp(sync, "normal") == 0};
        if (!(p.store = nm_store_open(store_path, &so, &err))) {
            fprintf(stderr, "bench-extract: %s\n", err.msg);
            return 1;
        }
    }
    nm_extract_profile prof = {0};
    size_t errors = 0;
    int64_t prof_cpu;
    int64_t prof_ns = run_pass(ex, &c, &prof, NULL, &errors, &prof_cpu);
    int64_t stage_total = 0;
    for (int s = 0; s < NM_STAGE_COUNT; s++)
        stage_total += prof.stage_ns[s];
    /* Per stage also as the rate that stage alone would run at (articles
     * and MB of input per second of that stage's time): for HTML the
     * "parse" stage is the page-to-text extraction other tools compare on. */
    for (int s = 0; s < NM_STAGE_COUNT; s++) {
        double stage_s = prof.stage_ns[s] / 1e9;
        printf("{\"stage\":\"%s\",\"us_per_article\":%.3f,\"share\":%.4f,\"articles_per_s\":%.0f,"
               "\"mb_per_s\":%.2f}\n",
               nm_extract_stage_name((nm_extract_stage)s), prof.stage_ns[s] / 1e3 / (double)c.n,
               stage_total ? (double)prof.stage_ns[s] / (double)stage_total : 0.0,
               stage_s > 0 ? (double)c.n / stage_s : 0.0, stage_s > 0 ? (double)c.bytes / 1e6 / stage_s : 0.0);
    }
    printf("{\"pass\":\"profiled\",\"wall_s\":%.4f,\"cpu_s\":%.4f,\"articles_per_cpu_s\":%.0f}\n",
           prof_ns / 1e9, prof_cpu / 1e9, (double)c.n / (prof_cpu / 1e9));
    int64_t best = INT64_MAX, total = 0, total_wall = 0;
    for (int64_t pass = 1; pass <= passes; pass++) {
        size_t e = 0;
        int64_t cpu;
        int64_t persisted_cpu = p.cpu_ns, persisted_wall = p.wall_ns;
        p.pass = pass;
        int64_t ns = run_pass(ex, &c, NULL, p.store ? &p : NULL, &e, &cpu);
        cpu -= p.cpu_ns - persisted_cpu; /* extraction only */
        ns -= p.wall_ns - persisted_wall;
        total += cpu;
        total_wall += ns;
        if (cpu < best)
            best = cpu;
        printf("{\"pass\":%" PRId64 ",\"wall_s\":%.4f,\"cpu_s\":%.4f,\"articles_per_cpu_s\":%.0f,"
               "\"mb_per_cpu_s\":%.2f}\n",
               pass, ns / 1e9, cpu / 1e9, (double)c.n / (cpu / 1e9), (double)c.bytes / 1e6 / (cpu / 1e9));
    }
    if (p.store) {
        double n_put = (double)c.n * (double)passes;
        printf("{\"stage\":\"persist\",\"batch\":%zu,\"sync\":\"%s\",\"cpu_us_per_article\":%.2f,"
               "\"wall_us_per_article\":%.2f,\"errors\":%zu}\n",
               p.batch, sync, p.cpu_ns / 1e3 / n_put, p.wall_ns / 1e3 / n_put, p.errors);
        nm_store_close(&p.store);
    }
    /* per core = per CPU second of the one extracting thread (persisting
     * excluded: it has its own line above) */
    double mean_s = (double)total / (double)passes / 1e9;
    double wall_s = (double)total_wall / (double)passes / 1e9;
    printf("{\"mode\":\"extract\",\"recognizer\":\"%s\",\"articles\":%zu,\"bytes\":%zu,\"errors\":%zu,"
           "\"passes\":%" PRId64 ",\"articles_per_s\":%.0f,\"mb_per_s\":%.2f,\"best_articles_per_s\":%.0f,"
           "\"us_per_article\":%.2f,\"wall_articles_per_s\":%.0f,\"clock\":\"thread-cpu\"}\n",
           recognizer, c.n, c.bytes, errors, passes, (double)c.n / mean_s, (double)c.bytes / 1e6 / mean_s,
           (double)c.n / (best / 1e9), mean_s * 1e6 / (double)c.n, (double)c.n / wall_s);
    nm_extractor_destroy(&ex);
    for (size_t i = 0; i < c.n; i++)
        free(c.v[i].body);
    free(c.v);
    return 0;
}

/* bench-extract: extraction throughput on one core, no queue.
 *
 * Loads every .txt/.html/.htm file under the corpus directory into memory,
 * then runs nm_extract over all of them: one pass with per-stage timing
 * (nm_extract_profiled), then --passes timed passes without it. Prints JSON
 * lines: one per stage, one per timed pass, and a last summary line with
 * "mode":"extract". */
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

/* One pass over the corpus; returns elapsed ns (*cpu gets CPU ns); counts
 * errors. */
static int64_t run_pass(const nm_extractor *ex, const corpus *c, nm_extract_profile *prof,
                        size_t *errors, int64_t *cpu)
{
    int64_t c0 = cpu_ns();
    int64_t t0 = nm_time_mono_ns();
    for (size_t i = 0; i < c->n; i++) {
        nm_extract_input in = {.body = c->v[i].body, .len = c->v[i].len, .content_type = c->v[i].type};
        nm_extract_result *r;
        nm_error err;
        if (nm_extract_profiled(ex, &in, &r, prof, &err) < 0) {
            (*errors)++;
            continue;
        }
        nm_extract_result_free(&r);
    }
    *cpu = cpu_ns() - c0;
    return nm_time_mono_ns() - t0;
}

int main(int argc, char **argv)
{
    nm_log_init("bench-extract");
    const char *corpus_dir = NM_DATA_DIR "/../../shared/corpus";
    const char *recognizer = "model"; /* the extractor's default */
    int64_t passes = 3;
    int64_t limit = 0;
    nm_opt opts[] = {
        {"corpus", 'c', NM_OPT_STRING, &corpus_dir, "DIR", "articles (.txt, .html) under DIR", 0, 0},
        {"passes", 'p', NM_OPT_INT, &passes, "N", "timed passes over the corpus", 1, 1000},
        {"recognizer", 'r', NM_OPT_STRING, &recognizer, "KIND", "entity recogniser: rules or model", 0, 0},
        {"limit", 'n', NM_OPT_INT, &limit, "N", "use only the first N articles (0 = all; for callgrind)", 0, 1e9},
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
    nm_extract_profile prof = {0};
    size_t errors = 0;
    int64_t prof_cpu;
    int64_t prof_ns = run_pass(ex, &c, &prof, &errors, &prof_cpu);
    int64_t stage_total = 0;
    for (int s = 0; s < NM_STAGE_COUNT; s++)
        stage_total += prof.stage_ns[s];
    for (int s = 0; s < NM_STAGE_COUNT; s++)
        printf("{\"stage\":\"%s\",\"us_per_article\":%.3f,\"share\":%.4f}\n",
               nm_extract_stage_name((nm_extract_stage)s), prof.stage_ns[s] / 1e3 / (double)c.n,
               stage_total ? (double)prof.stage_ns[s] / (double)stage_total : 0.0);
    printf("{\"pass\":\"profiled\",\"wall_s\":%.4f,\"cpu_s\":%.4f,\"articles_per_cpu_s\":%.0f}\n",
           prof_ns / 1e9, prof_cpu / 1e9, (double)c.n / (prof_cpu / 1e9));
    int64_t best = INT64_MAX, total = 0, total_wall = 0;
    for (int64_t p = 0; p < passes; p++) {
        size_t e = 0;
        int64_t cpu;
        int64_t ns = run_pass(ex, &c, NULL, &e, &cpu);
        total += cpu;
        total_wall += ns;
        if (cpu < best)
            best = cpu;
        printf("{\"pass\":%" PRId64 ",\"wall_s\":%.4f,\"cpu_s\":%.4f,\"articles_per_cpu_s\":%.0f,"
               "\"mb_per_cpu_s\":%.2f}\n",
               p + 1, ns / 1e9, cpu / 1e9, (double)c.n / (cpu / 1e9), (double)c.bytes / 1e6 / (cpu / 1e9));
    }
    /* per core = per CPU second of the one extracting thread */
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

/*
 * bench-serve: the read side under load, as JSON lines.
 *
 * Loads the corpus into a fresh results database with bench-extract --store
 * (the real extractor and store; or reads --db FILE as it is), starts
 * `newsmill serve` on it, then drives it with wrk (a real HTTP load
 * generator, Debian package wrk) over keep-alive connections:
 *   - GET /api/search?q=...           cycling through the queries below
 *     (words, phrases, OR, prefixes: the common words of the BBC corpus,
 *     100 to 500 hits each, 20 rows a page with snippets);
 *   - GET /api/entities/top?type=...&since=...   the four types, two
 *     windows (the page's trending charts).
 * wrk's Lua done() hook prints each run's figures; requests that fail or
 * answer other than 2xx are counted and reported.
 *
 * Output, one JSON object per line:
 *   {"mode":"serve","stage":"load","articles":N,"seconds":S}
 *   {"mode":"serve","endpoint":"search"|"top","requests":N,"requests_per_s":R,
 *    "p50_ms":..,"p99_ms":..,"errors":E,"non_2xx":F}
 *   {"mode":"serve","articles":N,"search_requests_per_s":..,...}   the summary, last
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_opts.h"
#include "nm_store.h"
#include "nm_time.h"

/* Search queries (FTS5 syntax, as a user types them): the wrk script
 * percent-encodes them. */
static const char *const queries[] = {
    "economy",          "\"prime minister\"", "film",        "election",  "mobile phone",
    "chelsea",          "music OR album",     "govern*",     "oil prices", "broadband",
    "blair",            "champions league",   "games",       "tax",        "microsoft",
    "\"interest rates\"", "england",          "internet",    "oscar",      "court",
};

static const char *const top_types[] = {"person", "organisation", "place", "group"};
static const char *const top_windows[] = {"1h", "7d"};

/* Runs argv with stdout to out_path (NULL: inherit) and stderr to err_path;
 * the child's pid, or -1. */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path)
{
    fflush(stdout); /* else the child's freopen writes our buffered lines again */
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        if (out_path && !freopen(out_path, "w", stdout))
            _exit(127);
        if (err_path && !freopen(err_path, "w", stderr))
            _exit(127);
        execv(argv[0], argv);
        fprintf(stderr, "bench-serve: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* Runs argv to the end; its exit status (-1: did not run or was killed). */
static int run(char *const argv[], const char *out_path, const char *err_path)
{
    pid_t pid = spawn(argv, out_path, err_path);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Writes the wrk script that cycles through paths[0..n) and prints the
 * run's figures as one JSON object (the last line of wrk's output). */
static int write_script(const char *path, const char *const *paths, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "local paths = {\n");
    for (size_t i = 0; i < n; i++) {
        fputs("  \"", f);
        for (const char *c = paths[i]; *c; c++) /* Lua string: escape " and \ */
            fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        fputs("\",\n", f);
    }
    fputs("}\n"
          "local i = 0\n"
          "request = function()\n"
          "  i = i + 1\n"
          "  return wrk.format(\"GET\", paths[(i % #paths) + 1])\n"
          "end\n"
          "done = function(s, latency, requests)\n"
          "  local e = s.errors\n"
          "  io.write(string.format('{\"requests\":%d,\"requests_per_s\":%.1f,\"p50_ms\":%.3f,"
          "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%d,\"non_2xx\":%d}\\n',\n"
          "    s.requests, s.requests / (s.duration / 1e6), latency:percentile(50) / 1000,\n"
          "    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,\n"
          "    e.connect + e.read + e.write + e.timeout, e.status))\n"
          "end\n",
          f);
    return fclose(f) == 0 ? 0 : -1;
}

/* Percent-encodes text for a query string. */
static void url_encode(const char *text, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)text; *c && o + 4 < size; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~') {
            out[o++] = (char)*c;
        } else {
            out[o++] = '%';
            out[o++] = hex[*c >> 4];
            out[o++] = hex[*c & 15];
        }
    }
    out[o] = '\0';
}

/* The figures of one wrk run: the last line of its output that starts
 * with '{' (copied into line). */
static int last_json_line(const char *path, char *line, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[1024];
    int found = -1;
    while (fgets(buf, sizeof buf, f))
        if (buf[0] == '{') {
            buf[strcspn(buf, "\n")] = '\0';
            snprintf(line, size, "%s", buf);
            found = 0;
        }
    fclose(f);
    return found;
}

static double field(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* One endpoint under load: wrk with the script; its figures in line. */
static int load(const char *wrk, const char *dir, const char *name, const char *script,
                int port, int64_t threads, int64_t connections, int64_t seconds, char *line,
                size_t size)
{
    char url[64], t[16], c[32], d[32], out[PATH_MAX], err[PATH_MAX];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    snprintf(t, sizeof t, "-t%lld", (long long)threads);
    snprintf(c, sizeof c, "-c%lld", (long long)connections);
    snprintf(d, sizeof d, "-d%llds", (long long)seconds);
    snprintf(out, sizeof out, "%s/wrk-%s.out", dir, name);
    snprintf(err, sizeof err, "%s/wrk-%s.err", dir, name);
    char *argv[] = {(char *)wrk, t, c, d, "--timeout", "5s", "-s", (char *)script, url, NULL};
    if (run(argv, out, err) != 0 || last_json_line(out, line, size) != 0) {
        fprintf(stderr, "bench-serve: wrk failed (see %s and %s)\n", out, err);
        return -1;
    }
    printf("{\"mode\":\"serve\",\"endpoint\":\"%s\",\"connections\":%lld,%s\n", name,
           (long long)connections, line + 1);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static char default_corpus[PATH_MAX], default_bin[PATH_MAX];
    snprintf(default_corpus, sizeof default_corpus, "%s/../../shared/corpus/bbc", NM_DATA_DIR);
    ssize_t n_self = readlink("/proc/self/exe", default_bin, sizeof default_bin - 1);
    if (n_self > 0) {
        default_bin[n_self] = '\0';
        char *slash = strrchr(default_bin, '/');
        if (slash)
            *slash = '\0';
    }
    const char *corpus_dir = default_corpus, *bin_dir = default_bin, *tmp_root = "/tmp";
    const char *db_arg = NULL, *wrk = "/usr/bin/wrk";
    int64_t seconds = 10, connections = 8, wrk_threads = 2, readers = 4, passes = 1;
    bool keep = false;
    const nm_opt opts[] = {
        {"corpus", 0, NM_OPT_STRING, &corpus_dir, "DIR", "articles to load (*.txt, *.html)", 0, 0},
        {"passes", 0, NM_OPT_INT, &passes, "N", "load the corpus N times (new ids each time)", 1,
         100},
        {"db", 0, NM_OPT_STRING, &db_arg, "FILE", "serve this results database instead (not loaded)",
         0, 0},
        {"seconds", 'd', NM_OPT_INT, &seconds, "S", "load each endpoint this long", 1, 3600},
        {"connections", 'c', NM_OPT_INT, &connections, "N", "wrk connections (keep-alive)", 1, 1000},
        {"wrk-threads", 0, NM_OPT_INT, &wrk_threads, "N", "wrk threads", 1, 64},
        {"readers", 'r', NM_OPT_INT, &readers, "N", "newsmill serve --readers", 1, 64},
        {"wrk", 0, NM_OPT_STRING, &wrk, "PATH", "the load generator (Debian package wrk)", 0, 0},
        {"bin-dir", 0, NM_OPT_STRING, &bin_dir, "DIR", "where newsmill and bench-extract are", 0, 0},
        {"tmp", 0, NM_OPT_STRING, &tmp_root, "DIR", "where the run's directory is made", 0, 0},
        {"keep", 0, NM_OPT_FLAG, &keep, NULL, "keep the run's directory (database, logs)", 0, 0},
    };
    const nm_opts_program program = {
        "bench-serve", "[OPTIONS]",
        "The read side under load: loads the corpus into a results database, starts\n"
        "newsmill serve and measures GET /api/search and GET /api/entities/top with\n"
        "wrk. JSON lines; the last is the summary.",
        opts, sizeof opts / sizeof opts[0], 0};
    int rc = nm_opts_run(&program, argc, argv, NULL);
    if (rc != 0)
        return rc == NM_OPTS_HELP ? 0 : 2;
    if (access(wrk, X_OK) != 0) {
        fprintf(stderr, "bench-serve: no load generator at %s (apt-get install wrk)\n", wrk);
        return 1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/nm-bench-serve-XXXXXX", tmp_root);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    int status = 1;
    pid_t server = -1;
    char db[PATH_MAX], path[PATH_MAX], exe[PATH_MAX];
    snprintf(db, sizeof db, "%s", db_arg ? db_arg : "");
    if (!db_arg) { /* load: the real extractor and store, as a worker does */
        snprintf(db, sizeof db, "%s/results.db", dir);
        snprintf(exe, sizeof exe, "%s/bench-extract", bin_dir);
        char p[16];
        snprintf(p, sizeof p, "%lld", (long long)passes);
        char *ex_argv[] = {exe, "--corpus", (char *)corpus_dir, "--store", db, "--passes", p,
                           "--sync", "normal", NULL};
        snprintf(path, sizeof path, "%s/load.out", dir);
        char errp[PATH_MAX];
        snprintf(errp, sizeof errp, "%s/load.err", dir);
        int64_t t0 = nm_time_mono_ns();
        if (run(ex_argv, path, errp) != 0) {
            fprintf(stderr, "bench-serve: loading %s failed (see %s)\n", corpus_dir, errp);
            goto done;
        }
        printf("{\"mode\":\"serve\",\"stage\":\"load\",\"corpus\":\"%s\",\"seconds\":%.1f}\n",
               corpus_dir, (double)(nm_time_mono_ns() - t0) / 1e9);
    }
    int64_t articles = 0;
    {
        nm_store_options ro = {.read_only = true};
        nm_error err;
        nm_store *s = nm_store_open(db, &ro, &err);
        if (!s) {
            fprintf(stderr, "bench-serve: %s\n", err.msg);
            goto done;
        }
        articles = nm_store_count_articles(s, &err);
        nm_store_close(&s);
    }
    int port = free_port();
    char listen[64], th[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(th, sizeof th, "%lld", (long long)readers);
    snprintf(exe, sizeof exe, "%s/newsmill", bin_dir);
    snprintf(path, sizeof path, "%s/serve.log", dir);
    char *serve_argv[] = {exe, "serve", "--db", db, "--listen", listen, "--readers", th, NULL};
    if ((server = spawn(serve_argv, path, path)) < 0)
        goto done;
    int64_t deadline = nm_time_mono_ns() + 10 * (int64_t)1000000000;
    while (!port_open(port) && nm_time_mono_ns() < deadline)
        usleep(20000);
    if (!port_open(port)) {
        fprintf(stderr, "bench-serve: newsmill serve did not start (see %s)\n", path);
        goto done;
    }

    size_t n_q = sizeof queries / sizeof queries[0];
    size_t n_top = sizeof top_types / sizeof top_types[0] * 2;
    const char *paths[64];
    char store[64][256];
    for (size_t i = 0; i < n_q; i++) {
        char enc[192];
        url_encode(queries[i], enc, sizeof enc);
        snprintf(store[i], sizeof store[i], "/api/search?q=%s", enc);
        paths[i] = store[i];
    }
    char search_lua[PATH_MAX], top_lua[PATH_MAX];
    snprintf(search_lua, sizeof search_lua, "%s/search.lua", dir);
    if (write_script(search_lua, paths, n_q) != 0)
        goto done;
    for (size_t i = 0; i < n_top; i++) {
        snprintf(store[i], sizeof store[i], "/api/entities/top?type=%s&since=%s&limit=10",
                 top_types[i % 4], top_windows[i / 4]);
        paths[i] = store[i];
    }
    snprintf(top_lua, sizeof top_lua, "%s/top.lua", dir);
    if (write_script(top_lua, paths, n_top) != 0)
        goto done;

    char search[512], top[512];
    if (load(wrk, dir, "search", search_lua, port, wrk_threads, connections, seconds, search,
             sizeof search) != 0 ||
        load(wrk, dir, "top", top_lua, port, wrk_threads, connections, seconds, top,
             sizeof top) != 0)
        goto done;
    double failed = field(search, "errors") + field(search, "non_2xx") + field(top, "errors") +
                    field(top, "non_2xx");
    printf("{\"mode\":\"serve\",\"articles\":%lld,\"queries\":%zu,\"connections\":%lld,"
           "\"readers\":%lld,\"seconds\":%lld,"
           "\"search_requests_per_s\":%.1f,\"search_p50_ms\":%.3f,\"search_p99_ms\":%.3f,"
           "\"top_requests_per_s\":%.1f,\"top_p50_ms\":%.3f,\"top_p99_ms\":%.3f,"
           "\"failed_requests\":%.0f}\n",
           (long long)articles, n_q, (long long)connections, (long long)readers,
           (long long)seconds, field(search, "requests_per_s"), field(search, "p50_ms"),
           field(search, "p99_ms"), field(top, "requests_per_s"), field(top, "p50_ms"),
           field(top, "p99_ms"), failed);
    status = failed > 0 ? 1 : 0;
done:
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    if (!keep) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-serve: could not remove %s\n", dir);
    } else {
        fprintf(stderr, "bench-serve: kept %s\n", dir);
    }
    return status;
}

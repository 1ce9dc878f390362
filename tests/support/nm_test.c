#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nm_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static char tmpdir[512];

static void remove_tmpdir(void)
{
    const char *keep = getenv("NM_TEST_KEEP");
    if (tmpdir[0] && !(keep && *keep == '1')) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *nm_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/newsmill-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
            exit(1);
        }
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

static char *rotating_buffer(void)
{
    static char bufs[8][1024];
    static unsigned next;
    return bufs[next++ % 8];
}

const char *nm_test_path(const char *name)
{
    char *b = rotating_buffer();
    snprintf(b, 1024, "%s/%s", nm_test_tmpdir(), name);
    return b;
}

const char *nm_test_bin(const char *program)
{
    const char *dir = getenv("NM_BIN_DIR");
    char *b = rotating_buffer();
    snprintf(b, 1024, "%s/%s", dir && *dir ? dir : "./bin", program);
    return b;
}

const char *nm_test_source_dir(void)
{
    const char *dir = getenv("NM_SOURCE_DIR");
    return dir && *dir ? dir : ".";
}

const char *nm_test_shared_dir(void)
{
    static char path[1024];
    const char *dir = getenv("NM_SHARED_DIR");
    if (!dir || !*dir) {
        snprintf(path, sizeof path, "%s/../shared", nm_test_source_dir());
        dir = path;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? dir : NULL;
}

const char *nm_test_require_shared(const char *why)
{
    const char *dir = nm_test_shared_dir();
    if (!dir) {
        char msg[512];
        snprintf(msg, sizeof msg, "../shared is not beside the repository; %s", why);
        nm_test_skip_program(msg);
    }
    return dir;
}

/* The marker scripts/test looks for; one line, flushed before cmocka's own. */
static void print_skip(const char *test_case, const char *why)
{
    printf("NM-SKIP: %s: %s\n", test_case, why && *why ? why : "(no reason given)");
    fflush(stdout);
}

void nm_test_skip_case(const char *test_case, const char *why)
{
    print_skip(test_case, why);
    skip(); /* longjmps out of the test case */
    abort();
}

void nm_test_skip_part(const char *what, const char *why)
{
    print_skip(what, why);
}

void nm_test_skip_program(const char *why)
{
    print_skip("*", why);
    exit(NM_TEST_SKIP);
}

/* The lowest port the kernel hands out by itself (bind to port 0, and the
 * source port of every outgoing connection); 32768 if unreadable. */
static int ephemeral_low(void)
{
    int low = 32768, high;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* True when this process tried port before (remembers the last 256 tried),
 * free or not: a port once handed out is not handed out again. */
static bool tried_before(int port)
{
    static int given[256];
    static size_t n_given;
    for (size_t i = 0; i < n_given && i < 256; i++)
        if (given[i] == port)
            return true;
    given[n_given++ % 256] = port;
    return false;
}

/* A port below the ephemeral range, so no outgoing connection of a running
 * test (ZeroMQ, NATS, HTTP) takes it between this check and the bind of the
 * process it is meant for, which is what a port found by binding to port 0
 * suffered (test_queue_flow failed to bind its stats socket in CI). Random,
 * so that tests running in parallel rarely try the same one, and never one
 * this test was given before (two asked for in a row may both be unbound). */
int nm_test_free_port(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    int low = 10000, high = ephemeral_low() - 1;
    if (high <= low + 1000)
        high = low + 1000;
    for (int attempt = 0; attempt < 1000; attempt++) {
        int port = low + (int)(rand_r(&seed) % (unsigned)(high - low + 1));
        if (tried_before(port))
            continue;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            fail_msg("no free port: socket: %s", strerror(errno));
        int one = 1; /* as ZeroMQ binds: a port in TIME_WAIT is usable */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return port;
    }
    fail_msg("no free port in %d-%d", low, high);
    return -1;
}

const char *nm_test_endpoint(void)
{
    char *b = rotating_buffer();
    snprintf(b, 1024, "tcp://127.0.0.1:%d", nm_test_free_port());
    return b;
}

void nm_proc_start(nm_proc *proc, const char *name, char *const argv[])
{
    memset(proc, 0, sizeof *proc);
    snprintf(proc->name, sizeof proc->name, "%s", name);
    snprintf(proc->log_path, sizeof proc->log_path, "%s/%s.log", nm_test_tmpdir(), name);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Dies with the test: a failed test (or ctest's timeout) must not
         * leave its queue and workers running; the check after the prctl
         * covers a parent gone before it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        int fd = open(proc->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    proc->pid = pid;
}

void nm_proc_signal(nm_proc *proc, int sig)
{
    if (proc->pid > 0)
        kill(proc->pid, sig);
}

bool nm_proc_wait(nm_proc *proc, int timeout_ms, int *status)
{
    if (proc->pid <= 0)
        return true;
    for (int waited = 0;; waited += 10) {
        int st;
        pid_t r = waitpid(proc->pid, &st, WNOHANG);
        if (r == proc->pid) {
            proc->pid = 0;
            if (status)
                *status = st;
            return true;
        }
        if (waited >= timeout_ms)
            return false;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void nm_proc_kill(nm_proc *proc)
{
    if (proc->pid > 0) {
        kill(proc->pid, SIGKILL);
        waitpid(proc->pid, NULL, 0);
        proc->pid = 0;
    }
}

void nm_proc_dump_log(const nm_proc *proc)
{
    char cmd[700];
    fprintf(stderr, "---- last lines of %s ----\n", proc->log_path);
    snprintf(cmd, sizeof cmd, "tail -n 30 '%s' >&2", proc->log_path);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

bool nm_test_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        if (cond(arg))
            return true;
        if (waited >= timeout_ms)
            return false;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

char *nm_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void nm_test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        fail_msg("writing %s: %s", path, strerror(errno));
}

uint64_t nm_test_rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

int nm_test_rng_between(uint64_t *state, int lo, int hi)
{
    return lo + (int)(nm_test_rng_next(state) % (uint64_t)(hi - lo + 1));
}

void nm_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void *nm_test_dealer(void *ctx, const char *endpoint)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    if (!s)
        fail_msg("DEALER socket: %s", zmq_strerror(zmq_errno()));
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, endpoint) != 0)
        fail_msg("connecting to %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return s;
}

/* Appends the NULL-terminated list of strings to argv at *n, then a NULL. */
static void fleet_args(char **argv, int *n, const char *const *args)
{
    for (int k = 0; args && args[k]; k++) {
        if (*n >= NM_TEST_FLEET_ARGV - 1)
            fail_msg("fleet command line longer than %d", NM_TEST_FLEET_ARGV);
        argv[(*n)++] = (char *)args[k];
    }
    argv[*n] = NULL;
}

void nm_test_fleet_queue_argv(char **argv, const char *front, const char *back, const char *stats,
                              const char *spool, const char *const *extra)
{
    const char *const flags[] = {nm_test_bin("newsmill-queue"), "--front", front, "--back", back,
                                 "--stats", stats, "--spool", spool, "--lease", "3s",
                                 "--worker-timeout", "2s", "--retry-base", "100ms", NULL};
    int n = 0;
    fleet_args(argv, &n, flags);
    fleet_args(argv, &n, extra);
}

void nm_test_fleet_worker_argv(char **argv, const char *back, const char *stats, const char *db,
                               const char *name)
{
    const char *const flags[] = {nm_test_bin("newsmill-worker"), "--queue", back, "--stats", stats,
                                 "--db", db, "--name", name, "--credit", "64", "--batch", "32",
                                 "--flush-ms", "20", NULL};
    int n = 0;
    fleet_args(argv, &n, flags);
}

/* The power-cut harness itself: a child process writes and syncs a file under
 * powercut_preload.so and dies; nm_powercut_rebuild() must then give exactly
 * the states a disk could hold (synced bytes always; unsynced sectors none,
 * all, or some; a file whose directory entry was never synced may vanish). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_powercut.h"
#include "nm_test.h"

static char self_path[512];

/* The child's writes: 8 sectors of 'A' synced (file and directory), then,
 * unsynced, 'B' over sectors 1-2 and 'C' appended as sector 8. A second file
 * is created, written and synced, but its directory is not synced again. */
static int child(const char *dir)
{
    char path[600], late[600];
    snprintf(path, sizeof path, "%s/data", dir);
    snprintf(late, sizeof late, "%s/late", dir);
    char a[4096], b[1024], c[512];
    memset(a, 'A', sizeof a), memset(b, 'B', sizeof b), memset(c, 'C', sizeof c);
    int fd = open(path, O_RDWR | O_CREAT, 0644), dfd = open(dir, O_RDONLY);
    if (fd < 0 || dfd < 0 || pwrite(fd, a, sizeof a, 0) != (ssize_t)sizeof a || fsync(fd) != 0 ||
        fsync(dfd) != 0)
        return 1;
    if (pwrite(fd, b, sizeof b, 512) != (ssize_t)sizeof b ||
        pwrite(fd, c, sizeof c, 4096) != (ssize_t)sizeof c)
        return 1;
    int lfd = open(late, O_RDWR | O_CREAT, 0644);
    if (lfd < 0 || pwrite(lfd, a, 512, 0) != 512 || fdatasync(lfd) != 0)
        return 1;
    _exit(0); /* no close, no cleanup: as if cut */
}

static void run_child(const char *dir, const char *log)
{
    mkdir(dir, 0755);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char preload[600];
        snprintf(preload, sizeof preload, "%s/powercut_preload.so", getenv("NM_BIN_DIR"));
        setenv("LD_PRELOAD", preload, 1);
        setenv("NM_POWERCUT_ROOT", dir, 1);
        setenv("NM_POWERCUT_LOG", log, 1);
        setenv("ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0", 1);
        execl(self_path, self_path, "child", dir, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static size_t read_all(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return (size_t)-1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Rebuilds a fresh run with mode and seed; returns the data file's bytes. */
static size_t rebuilt(const char *name, nm_powercut_mode mode, uint64_t seed, char *buf,
                      bool *late_exists, nm_powercut_stats *st)
{
    char dir[600], log[600], path[700], late[700], why[256];
    snprintf(dir, sizeof dir, "%s", nm_test_path(name));
    snprintf(log, sizeof log, "%s.log", dir);
    run_child(dir, log);
    uint64_t rng = seed | 1;
    assert_int_equal(nm_powercut_rebuild(log, mode, &rng, st, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/data", dir);
    snprintf(late, sizeof late, "%s/late", dir);
    *late_exists = access(late, F_OK) == 0;
    struct stat lst;
    assert_int_equal(stat(log, &lst), 0);
    assert_int_equal(lst.st_size, 0); /* the log is emptied for the next run */
    return read_all(path, buf, 8192);
}

static void none_keeps_only_the_synced_state(void **state)
{
    (void)state;
    char buf[8192], want[4096];
    bool late;
    nm_powercut_stats st;
    size_t n = rebuilt("none", NM_POWERCUT_NONE, 1, buf, &late, &st);
    memset(want, 'A', sizeof want);
    assert_int_equal(n, 4096);
    assert_memory_equal(buf, want, sizeof want);
    assert_false(late); /* created, directory never synced after: gone */
    assert_int_equal(st.sectors_lost, 3);
    assert_int_equal(st.files_vanished, 1);
}

static void all_keeps_every_write(void **state)
{
    (void)state;
    char buf[8192], want[4608];
    bool late;
    nm_powercut_stats st;
    size_t n = rebuilt("all", NM_POWERCUT_ALL, 1, buf, &late, &st);
    memset(want, 'A', 4096), memset(want + 512, 'B', 1024), memset(want + 4096, 'C', 512);
    assert_int_equal(n, 4608);
    assert_memory_equal(buf, want, sizeof want);
    assert_true(late);
}

static void torn_keeps_whole_sectors(void **state)
{
    (void)state;
    bool seen_mixed = false;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        char name[32], buf[8192];
        bool late;
        nm_powercut_stats st;
        snprintf(name, sizeof name, "torn%d", (int)seed);
        size_t n = rebuilt(name, NM_POWERCUT_TORN, seed * 7919, buf, &late, &st);
        assert_true(n == 4096 || n == 4608);
        for (size_t s = 0; s < n / 512; s++) {
            char first = buf[s * 512];
            for (size_t k = 1; k < 512; k++) /* never a sector half old, half new */
                assert_int_equal(buf[s * 512 + k], first);
            if (s == 0 || s >= 3) /* synced sectors, and the appended one */
                assert_true(first == 'A' || (s == 8 && (first == 'C' || first == 0)));
            else
                assert_true(first == 'A' || first == 'B');
        }
        seen_mixed |= buf[512] != buf[1024];
    }
    assert_true(seen_mixed); /* some seed tore the two-sector write apart */
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0)
        return 1;
    self_path[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_keeps_only_the_synced_state),
        cmocka_unit_test(all_keeps_every_write),
        cmocka_unit_test(torn_keeps_whole_sectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

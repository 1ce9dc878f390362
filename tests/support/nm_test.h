/*
 * nm_test: what tests share — a private temporary directory, the paths of the
 * build and of ../shared, free TCP ports, and real child processes.
 *
 * Include after cmocka's prerequisites:
 *   #include <stdarg.h> <stddef.h> <stdint.h> <setjmp.h> <cmocka.h>
 *
 * Integration tests start the real programs (NM_BIN_DIR/newsmill-queue ...)
 * and talk to them over real sockets; nothing of ours is mocked.
 */
#ifndef NM_TEST_H
#define NM_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NM_TEST_SKIP 77

/* A fresh directory under $TMPDIR (or /tmp), created on first call, removed
 * at exit unless NM_TEST_KEEP=1. Same path for the whole test program. */
const char *nm_test_tmpdir(void);

/* Joins the tmpdir and a relative name into a static rotating buffer. */
const char *nm_test_path(const char *name);

/* $NM_BIN_DIR/<program> (the built programs). */
const char *nm_test_bin(const char *program);

/* $NM_SOURCE_DIR (the repository). */
const char *nm_test_source_dir(void);

/* ../shared beside the repository, or NULL when absent. */
const char *nm_test_shared_dir(void);

/* Returns the shared dir; if absent skips the whole program
 * (nm_test_skip_program). */
const char *nm_test_require_shared(const char *why);

/* Skips are never silent. cmocka's bare skip() reports the test as passed
 * to ctest, so a test that cannot run would go unnoticed: use these.
 * Each prints one line "NM-SKIP: <test case>: <why>" ("*" for the whole
 * program); scripts/test collects those lines (with cmocka's own
 * "[  SKIPPED ] <case>" lines), counts every skip in its summary, lists
 * each with its reason, and under CI=true fails the run on a skip that is
 * not on its short allow-list.
 *
 * nm_test_skip(why) skips the current test case (call it from the test
 * function itself: its name is the case name) and does not return.
 * nm_test_skip_program(why) skips the whole program: exits NM_TEST_SKIP,
 * which ctest reports as "Skipped".
 * nm_test_skip_part(what, why) says that a part of a test case (a row of a
 * table, a step) did not run and returns; it counts as one skip. */
#define nm_test_skip(why) nm_test_skip_case(__func__, (why))
_Noreturn void nm_test_skip_case(const char *test_case, const char *why);
_Noreturn void nm_test_skip_program(const char *why);
void nm_test_skip_part(const char *what, const char *why);

/* A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's
 * ephemeral range (so no outgoing connection takes it meanwhile). */
int nm_test_free_port(void);

/* "tcp://127.0.0.1:<free port>" in a static rotating buffer. */
const char *nm_test_endpoint(void);

/* A ZeroMQ DEALER socket in ctx connected to endpoint, linger 0, for a test
 * that speaks the wire itself (raw bytes, bad frames). Fails the test when
 * it cannot connect. Caller closes it with zmq_close. */
void *nm_test_dealer(void *ctx, const char *endpoint);

/* Command lines of a fleet that a harness kills and cuts (chaos, powercut):
 * short leases and timeouts so that kills are noticed within a run (lease
 * 3s, worker timeout 2s, retry base 100ms; workers: credit 64, batch 32,
 * flush 20ms), everything else the programs' defaults. Each fills argv
 * (room for NM_TEST_FLEET_ARGV entries) with the program's path, its flags,
 * then extra (NULL-terminated, may be NULL), and a NULL; the strings are
 * borrowed. stats "" sends no stats. */
#define NM_TEST_FLEET_ARGV 32
void nm_test_fleet_queue_argv(char **argv, const char *front, const char *back, const char *stats,
                              const char *spool, const char *const *extra);
void nm_test_fleet_worker_argv(char **argv, const char *back, const char *stats, const char *db,
                               const char *name);

/* A running child process. */
typedef struct nm_proc {
    pid_t pid;
    char name[64];
    char log_path[512];
} nm_proc;

/* Starts argv (NULL-terminated; argv[0] a path) with stdout and stderr
 * appended to tmpdir/<name>.log. Fails the test if fork/exec fails. The
 * child is killed (SIGKILL) when the test process ends, however it ends:
 * a failed test leaves no process running. */
void nm_proc_start(nm_proc *proc, const char *name, char *const argv[]);

/* Sends sig (no-op if not running). */
void nm_proc_signal(nm_proc *proc, int sig);

/* Waits up to timeout_ms for exit. Returns true with *status (as from
 * waitpid) if it exited, false on timeout. */
bool nm_proc_wait(nm_proc *proc, int timeout_ms, int *status);

/* SIGKILL and reap; no-op if not running. */
void nm_proc_kill(nm_proc *proc);

/* Prints the last lines of the process log to stderr (for failures). */
void nm_proc_dump_log(const nm_proc *proc);

/* Polls cond(arg) every 20 ms until true or timeout_ms passes. */
bool nm_test_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/* xorshift64*: a small seedable generator, the same sequence on every
 * machine, so a seeded run (chaos, powercut) replays. *state must not be 0
 * (seed with "seed | 1"). */
uint64_t nm_test_rng_next(uint64_t *state);

/* A number in [lo, hi] from nm_test_rng_next. */
int nm_test_rng_between(uint64_t *state, int lo, int hi);

/* Sleeps ms milliseconds, through signals. */
void nm_test_sleep_ms(int ms);

/* Reads a whole file (NUL-terminated; caller frees). NULL if unreadable. */
char *nm_test_read_file(const char *path, size_t *len);

/* Writes len bytes to path; fails the test on error. */
void nm_test_write_file(const char *path, const void *data, size_t len);

#endif

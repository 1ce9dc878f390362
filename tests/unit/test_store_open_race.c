/* nm_store_open: several workers creating the same new results database at
 * the same moment all succeed (regression: the WAL switch and the schema
 * creation raced and the losers gave up with "database is locked"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_store.h"
#include "nm_test.h"

#define OPENERS 6

static void concurrent_creation(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        char name[64];
        snprintf(name, sizeof name, "race-%d.db", round);
        const char *path = nm_test_path(name);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t kids[OPENERS];
        for (int i = 0; i < OPENERS; i++) {
            kids[i] = fork();
            if (kids[i] == 0) {
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) < 0) /* all start together */
                    _exit(3);
                nm_store_options opts = {.busy_timeout_ms = 20}; /* the worker's default */
                nm_error err;
                nm_store *s = nm_store_open(path, &opts, &err);
                if (!s) {
                    fprintf(stderr, "opener %d: %s\n", i, err.msg);
                    _exit(1);
                }
                nm_store_close(&s);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]); /* EOF releases every child at once */
        for (int i = 0; i < OPENERS; i++) {
            int status;
            waitpid(kids[i], &status, 0);
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("round %d: opener %d failed (status %d)", round, i, status);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(concurrent_creation)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

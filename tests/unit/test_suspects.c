/* nm_suspects: the bisection of a group a worker died with, and nm_fault's
 * parsing of NM_FAULT (the queue and worker tests use both for real). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "nm_fault.h"
#include "nm_suspects.h"

/* One article that kills every worker holding it, among 256: each death
 * halves the group it may be delivered in, until it is alone; only deaths
 * alone are counted, and the innocent articles of each split leave. */
static void group_is_bisected(void **state)
{
    (void)state;
    nm_suspects *s = nm_suspects_new();
    assert_int_equal(nm_suspects_cap(s, 7), 0);
    uint32_t group = 256, deaths = 0;
    while (group > 1) {
        uint32_t cap = nm_suspects_note_death(s, 7, group);
        assert_int_equal(cap, group / 2);
        assert_int_equal(nm_suspects_alone_deaths(s, 7), 0);
        group = cap; /* the next worker holds at most cap with it */
        deaths++;
    }
    assert_int_equal(deaths, 8);
    for (uint32_t alone = 1; alone <= 3; alone++) {
        assert_int_equal(nm_suspects_note_death(s, 7, 1), 1);
        assert_int_equal(nm_suspects_alone_deaths(s, 7), alone);
    }
    /* a larger group later never widens the cap */
    assert_int_equal(nm_suspects_note_death(s, 7, 100), 1);
    assert_int_equal(nm_suspects_count(s), 1);
    nm_suspects_forget(s, 7);
    nm_suspects_forget(s, 7); /* no-op */
    assert_int_equal(nm_suspects_cap(s, 7), 0);
    assert_int_equal(nm_suspects_alone_deaths(s, 7), 0);
    assert_int_equal(nm_suspects_count(s), 0);
    for (int64_t seq = 1; seq <= 1000; seq++)
        nm_suspects_note_death(s, seq, 3);
    assert_int_equal(nm_suspects_cap(s, 500), 1);
    nm_suspects_destroy(&s); /* frees the records left (ASan checks) */
    assert_null(s);
    nm_suspects_destroy(&s);
}

static void fault_spec_parsing(void **state)
{
    (void)state;
    nm_error err;
    unsetenv("NM_FAULT");
    assert_int_equal(nm_fault_init(&err), 0);
    assert_false(nm_fault_armed);
    nm_fault_point("writer.after_puts"); /* unarmed: nothing happens */
    setenv("NM_FAULT", "writer.after_puts:stop,worker.extract:crash-on-id=x-1", 1);
    assert_int_equal(nm_fault_init(&err), 0);
    assert_true(nm_fault_armed);
    nm_fault_point_id("worker.extract", "x-2"); /* another id: nothing happens */
    static const char *const bad[] = {"writer.after_put:stop", "writer.after_puts",
                                      "writer.after_puts:explode",
                                      "writer.after_puts:crash-on-id=x", /* not an id point */
                                      "worker.extract:crash-on-id="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("NM_FAULT", bad[i], 1);
        assert_int_equal(nm_fault_init(&err), -1);
        assert_false(nm_fault_armed);
    }
    unsetenv("NM_FAULT");
    assert_int_equal(nm_fault_init(&err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_is_bisected),
        cmocka_unit_test(fault_spec_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* nm_arena: alignment, growth past a chunk, strings, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nm_arena.h"

static void allocates_and_grows(void **state)
{
    (void)state;
    nm_arena *a = nm_arena_new(128);
    for (int i = 0; i < 1000; i++) {
        void *p = nm_arena_alloc(a, (size_t)(i % 37) + 1);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
    }
    char *big = nm_arena_alloc(a, 1 << 20); /* bigger than any chunk so far */
    memset(big, 1, 1 << 20);
    char *s = nm_arena_strndup(a, "São Paulo!", 10);
    assert_string_equal(s, "São Paulo");
    int *v = nm_arena_calloc(a, 4, sizeof *v);
    v[3] = 7;
    v = nm_arena_grow(a, v, 4 * sizeof *v, 8 * sizeof *v);
    assert_int_equal(v[3], 7);
    assert_int_equal(v[7], 0);
    assert_true(nm_arena_used(a) > (1 << 20));
    nm_arena_reset(a);
    assert_int_equal(nm_arena_used(a), 0);
    assert_non_null(nm_arena_alloc(a, 16));
    nm_arena_destroy(&a);
    assert_null(a);
    nm_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(allocates_and_grows)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* nm_u64map and nm_lease (deadline heap) against simple reference models,
 * and nm_spool's schema version check, with random operation sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "nm_lease.h"
#include "nm_spool.h"
#include "nm_test.h"
#include "nm_u64map.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void map_matches_reference(void **state)
{
    (void)state;
    enum { KEYS = 3000 };
    static void *ref[KEYS + 1];
    memset(ref, 0, sizeof ref);
    nm_u64map m = {0};
    for (int step = 0; step < 200000; step++) {
        uint64_t k = 1 + rnd() % KEYS;
        void *v = (void *)(uintptr_t)(rnd() | 1);
        switch (rnd() % 3) {
        case 0:
            nm_u64map_put(&m, k, v);
            ref[k] = v;
            break;
        case 1:
            assert_ptr_equal(nm_u64map_del(&m, k), ref[k]);
            ref[k] = NULL;
            break;
        default:
            assert_ptr_equal(nm_u64map_get(&m, k), ref[k]);
        }
    }
    size_t n = 0;
    for (int k = 1; k <= KEYS; k++) {
        assert_ptr_equal(nm_u64map_get(&m, (uint64_t)k), ref[k]);
        n += ref[k] != NULL;
    }
    assert_int_equal(m.n, n);
    assert_null(nm_u64map_get(&m, 0));
    nm_u64map_clear(&m);
    assert_null(nm_u64map_get(&m, 5));
}

static size_t values_freed;
static void count_free(void *value)
{
    values_freed++;
    free(value);
}

/* nm_u64map_clear_with frees each value once (ASan: none leaked) and
 * leaves an empty map; an empty map frees nothing. */
static void map_clear_with_frees_values(void **state)
{
    (void)state;
    nm_u64map m = {0};
    nm_u64map_clear_with(&m, count_free);
    assert_int_equal(values_freed, 0);
    for (uint64_t k = 1; k <= 100; k++)
        nm_u64map_put(&m, k, malloc(8));
    for (uint64_t k = 1; k <= 100; k += 2)
        free(nm_u64map_del(&m, k));
    nm_u64map_clear_with(&m, count_free);
    assert_int_equal(values_freed, 50);
    assert_int_equal(m.n, 0);
    assert_null(nm_u64map_get(&m, 2));
}

static void heap_pops_in_deadline_order(void **state)
{
    (void)state;
    nm_lease_table *t = nm_lease_table_new();
    enum { N = 2000 };
    nm_lease *all[N];
    for (int i = 0; i < N; i++) {
        all[i] = nm_lease_add(t, i + 1, 0, 1, (int64_t)(rnd() % 100000), NULL);
        assert_ptr_equal(nm_lease_find(t, all[i]->lease_id), all[i]);
        for (int j = 0; j < i; j += 97)
            assert_true(all[j]->lease_id != all[i]->lease_id);
    }
    /* move some deadlines (extend), remove some from the middle */
    for (int i = 0; i < N; i += 3)
        nm_lease_set_deadline(t, all[i], (int64_t)(rnd() % 200000));
    int removed = 0;
    for (int i = 1; i < N; i += 5) {
        nm_lease_remove(t, all[i]);
        removed++;
    }
    assert_int_equal(nm_lease_count(t), N - removed);
    int64_t last = -1;
    size_t popped = 0;
    nm_lease *l;
    while ((l = nm_lease_next(t))) {
        assert_true(l->deadline_ns >= last);
        last = l->deadline_ns;
        uint64_t id = l->lease_id;
        nm_lease_remove(t, l);
        assert_null(nm_lease_find(t, id));
        popped++;
    }
    assert_int_equal(popped, N - removed);
    nm_lease_add(t, 1, 0, 1, 5, NULL); /* the destroy frees what is left */
    nm_lease_table_destroy(&t);
    assert_null(t);
    nm_lease_table_destroy(&t);
}

/* A queue restart makes a new table. Ids from the run before must not name a
 * lease of the new run even when the clock reads the same (or was stepped
 * back): a stale Done would settle, and delete, an undelivered article.
 * Tables made back to back in one process see the same wall clock. */
static void lease_ids_differ_across_restarts(void **state)
{
    (void)state;
    enum { RESTARTS = 200, LEASES = 50 };
    for (int r = 0; r < RESTARTS; r++) {
        nm_lease_table *before = nm_lease_table_new(), *after = nm_lease_table_new();
        uint64_t old_ids[LEASES];
        for (int i = 0; i < LEASES; i++)
            old_ids[i] = nm_lease_add(before, i + 1, 0, 1, i, NULL)->lease_id;
        for (int i = 0; i < LEASES; i++) {
            uint64_t id = nm_lease_add(after, i + 1, 0, 1, i, NULL)->lease_id;
            assert_true(id != 0);
            for (int j = 0; j < LEASES; j++)
                if (id == old_ids[j])
                    fail_msg("restart %d: lease id %llu issued before and after the restart", r,
                             (unsigned long long)id);
        }
        nm_lease_table_destroy(&before);
        nm_lease_table_destroy(&after);
    }
}

static void spool_refuses_newer_schema(void **state)
{
    (void)state;
    const char *path = nm_test_path("deep/dir/spool.db");
    nm_error err;
    nm_spool *s = nm_spool_open(path, NM_SPOOL_FULL, &err); /* creates the directories */
    assert_non_null(s);
    int64_t n = -1;
    assert_int_equal(nm_spool_count_articles(s, &n, &err), 0);
    assert_int_equal(n, 0);
    nm_spool_close(&s);
    assert_null(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(nm_spool_open(path, NM_SPOOL_FULL, &err));
    assert_int_equal(err.code, NM_ERR_VERSION);
    assert_non_null(strstr(err.msg, "newer"));
    nm_test_write_file(nm_test_path("junk.db"), "this is not a database, just text", 33);
    assert_null(nm_spool_open(nm_test_path("junk.db"), NM_SPOOL_FULL, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_matches_reference),
        cmocka_unit_test(map_clear_with_frees_values),
        cmocka_unit_test(heap_pops_in_deadline_order),
        cmocka_unit_test(lease_ids_differ_across_restarts),
        cmocka_unit_test(spool_refuses_newer_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

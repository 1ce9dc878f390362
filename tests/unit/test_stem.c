/* nm_stem: known stems, and a cache that has seen far more words than it
 * holds (words replace each other) still gives every word its own stem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_hash.h"
#include "nm_lang.h"
#include "nm_stem.h"
#include "nm_token.h"

/* The stem of the one word in w, through the cache of s. */
static size_t stem_of(nm_stem *s, int lang, const char *w, char *buf, size_t cap, uint64_t *hash)
{
    nm_token_vec v = {0};
    assert_int_equal(nm_tokenize(w, 0, strlen(w), &v), 1);
    *hash = nm_stem_hash(s, lang, w, &v.v[0]);
    size_t len = nm_stem_text(s, lang, w, &v.v[0], buf, cap);
    nm_token_vec_free(&v);
    return len;
}

static void known_stems(void **state)
{
    (void)state;
    static const struct {
        const char *word, *stem;
    } cases[] = {
        {"running", "run"}, {"Talks", "talk"}, {"negotiations", "negoti"}, {"Ankara", "ankara"},
        {"elections", "elect"},
    };
    nm_stem *s = nm_stem_new();
    for (int round = 0; round < 2; round++) /* a miss, then a hit */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char buf[64];
            uint64_t h;
            size_t len = stem_of(s, 0, cases[i].word, buf, sizeof buf, &h);
            assert_string_equal(buf, cases[i].stem);
            assert_int_equal(h, nm_hash_bytes(cases[i].stem, len));
        }
    nm_stem_destroy(&s);
    assert_null(s);
    nm_stem_destroy(NULL);
}

/* 100,000 distinct words through a 32,768-slot cache, twice: each word's
 * stem is the one a fresh cache gives it. */
static void cache_replaces_words(void **state)
{
    (void)state;
    nm_stem *s = nm_stem_new();
    size_t n = 100000;
    uint64_t *first = malloc(n * sizeof *first);
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < n; i++) {
            char w[32], buf[64];
            snprintf(w, sizeof w, "walking%zuings", i * 7919 % n);
            uint64_t h;
            size_t len = stem_of(s, 0, w, buf, sizeof buf, &h);
            assert_int_equal(h, nm_hash_bytes(buf, len));
            if (round == 0)
                first[i] = h;
            else
                assert_int_equal(h, first[i]);
        }
    nm_stem *fresh = nm_stem_new();
    for (size_t i = 0; i < n; i += 997) {
        char w[32], buf[64];
        snprintf(w, sizeof w, "walking%zuings", i * 7919 % n);
        uint64_t h;
        stem_of(fresh, 0, w, buf, sizeof buf, &h);
        assert_int_equal(h, first[i]);
    }
    uint64_t hits, misses;
    nm_stem_stats(s, &hits, &misses);
    assert_int_equal(hits + misses, 2 * n);
    free(first);
    nm_stem_destroy(&fresh);
    nm_stem_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_stems),
        cmocka_unit_test(cache_replaces_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

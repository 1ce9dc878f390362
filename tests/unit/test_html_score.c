/* nm_shingle_score: the benchmark's scoring on cases checked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nm_shingle_score.h"

static nm_score_page score(const char *truth, const char *pred)
{
    nm_score_page p;
    nm_shingle_score_page(truth, strlen(truth), pred, strlen(pred), &p);
    return p;
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static void page_table(void **state)
{
    (void)state;
    struct {
        const char *what, *truth, *pred;
        double tp, fp, fn, precision, recall;
        bool has_p, has_r, exact;
    } cases[] = {
        /* 5 tokens -> 2 shingles each, all shared */
        {"identical", "one two three four five", "one two three four five", 1, 0, 0, 1, 1, true, true, true},
        {"punctuation and spacing do not count", "one, two; three\n\nfour five.",
         "one two three four five", 1, 0, 0, 1, 1, true, true, true},
        {"case counts", "One two three four", "one two three four", 0, 0.5, 0.5, 0, 0, true, true, false},
        {"disjoint", "a b c d", "e f g h", 0, 0.5, 0.5, 0, 0, true, true, false},
        /* < 4 tokens: one shingle of all of them */
        {"short equal", "Hello world", "hello, world", 0, 0.5, 0.5, 0, 0, true, true, false},
        {"short equal exactly", "Hello world", "Hello world!", 1, 0, 0, 1, 1, true, true, true},
        /* truth 5 tokens (2 shingles: abcd, bcde); pred 4 tokens (abcd): tp 1, fn 1 */
        {"prediction misses the end", "a b c d e", "a b c d", 0.5, 0, 0.5, 1, 0.5, true, true, false},
        /* pred 6 tokens (abcd bcde cdef) vs truth abcd bcde: tp 2 fp 1 */
        {"prediction adds", "a b c d e", "a b c d e f", 2.0 / 3, 1.0 / 3, 0, 2.0 / 3 / (2.0 / 3 + 1.0 / 3), 1,
         true, true, false},
        /* edge rules */
        {"both empty: fp=fn=0", "", "", 0, 0, 0, 1, 1, false, false, true},
        {"nothing predicted: tp=fp=0", "a b c d", "", 0, 0, 1, 0, 0, false, true, false},
        {"nothing true: tp=fn=0", "", "a b c d", 0, 1, 0, 0, 0, true, false, false},
        /* multiset: a repeated shingle counts as often as it occurs */
        {"repeats", "a b c d a b c d", "a b c d", 0.2, 0, 0.8, 1, 0.2, true, true, false},
        {"unicode words", "Kal\xc4\xb1n met Israel\xe2\x80\x99s S\xc3\xa3o Paulo",
         "Kal\xc4\xb1n met Israel s S\xc3\xa3o Paulo", 1, 0, 0, 1, 1, true, true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_score_page p = score(cases[i].truth, cases[i].pred);
        if (!NEAR(p.tp, cases[i].tp) || !NEAR(p.fp, cases[i].fp) || !NEAR(p.fn, cases[i].fn) ||
            !NEAR(p.precision, cases[i].precision) || !NEAR(p.recall, cases[i].recall) ||
            p.has_precision != cases[i].has_p || p.has_recall != cases[i].has_r || p.exact != cases[i].exact)
            fail_msg("case '%s': tp=%g fp=%g fn=%g p=%g r=%g has_p=%d has_r=%d exact=%d", cases[i].what, p.tp,
                     p.fp, p.fn, p.precision, p.recall, p.has_precision, p.has_recall, p.exact);
    }
}

static void tokens(void **state)
{
    (void)state;
    assert_int_equal(nm_shingle_count_tokens("", 0), 0);
    assert_int_equal(nm_shingle_count_tokens("  ,.; ", 6), 0);
    assert_int_equal(nm_shingle_count_tokens("snake_case x2 3.5", 17), 4); /* snake_case x2 3 5 */
    const char *s = "Kal\xc4\xb1n \xe2\x80\x9cquoted\xe2\x80\x9d S\xc3\xa3o\xff Paulo";
    assert_int_equal(nm_shingle_count_tokens(s, strlen(s)), 4); /* Kalın quoted São Paulo */
}

/* Per-page normalisation: a long perfect page and a short bad one weigh the
 * same; means skip pages without predictions (precision) or truth (recall). */
static void totals(void **state)
{
    (void)state;
    nm_score_total t = {0};
    char long_text[4000] = "";
    for (int i = 0; i < 300; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d ", i);
        strcat(long_text, w);
    }
    nm_score_page p = score(long_text, long_text);
    nm_shingle_score_add(&t, &p);
    p = score("a b c d e", "a b c d"); /* precision 1, recall 0.5 */
    nm_shingle_score_add(&t, &p);
    p = score("a b c d", ""); /* precision excluded, recall 0 */
    nm_shingle_score_add(&t, &p);
    double prec, rec, f1, acc;
    nm_shingle_score_result(&t, &prec, &rec, &f1, &acc);
    assert_true(NEAR(prec, 1.0));
    assert_true(NEAR(rec, 0.5));
    assert_true(NEAR(f1, 2 * 1.0 * 0.5 / 1.5));
    assert_true(NEAR(acc, 1.0 / 3));
    nm_score_total empty = {0};
    nm_shingle_score_result(&empty, &prec, &rec, &f1, &acc);
    assert_true(prec == 0 && rec == 0 && f1 == 0 && acc == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_table),
        cmocka_unit_test(tokens),
        cmocka_unit_test(totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

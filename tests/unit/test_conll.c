/* nm_conll: the corpus reader and the conlleval rules (exact span and type;
 * IOB2 with conlleval's handling of I- after O or after another type). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nm_conll.h"
#include "nm_test.h"

enum { O = NM_NER_O, BP = NM_NER_B_PER, IP = NM_NER_I_PER, BO = NM_NER_B_ORG,
       IO = NM_NER_I_ORG, BL = NM_NER_B_LOC, IL = NM_NER_I_LOC, BM = NM_NER_B_MISC };

static void conlleval_rules(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t gold[6], pred[6];
        size_t n;
        unsigned gold_n, pred_n, correct;
    } cases[] = {
        {"exact match", {BP, IP, O}, {BP, IP, O}, 3, 1, 1, 1},
        {"span too short", {BP, IP, O}, {BP, O, O}, 3, 1, 1, 0},
        {"span too long", {BP, O, O}, {BP, IP, O}, 3, 1, 1, 0},
        {"wrong type", {BP, IP}, {BO, IO}, 2, 1, 1, 0},
        {"I- after O starts an entity", {BP, IP, O}, {IP, IP, O}, 3, 1, 1, 1},
        {"I- of another type starts one", {BP, BO}, {BP, IO}, 2, 2, 2, 2},
        {"B- B- are two entities", {BP, BP}, {BP, IP}, 2, 2, 1, 0},
        {"missed", {BL, O, BM}, {O, O, BM}, 3, 2, 1, 1},
        {"spurious", {O, O, O}, {BL, IL, O}, 3, 0, 1, 0},
        {"entity at the end", {O, BL, IL}, {O, BL, IL}, 3, 1, 1, 1},
        {"shifted start", {O, BL, IL}, {BL, IL, IL}, 3, 1, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nm_conll_score s = {0};
        nm_conll_score_add(&s, cases[c].gold, cases[c].pred, cases[c].n);
        if (s.gold[NM_NER_TYPES] != cases[c].gold_n || s.pred[NM_NER_TYPES] != cases[c].pred_n ||
            s.correct[NM_NER_TYPES] != cases[c].correct)
            fail_msg("%s: gold %llu pred %llu correct %llu", cases[c].what,
                     (unsigned long long)s.gold[NM_NER_TYPES],
                     (unsigned long long)s.pred[NM_NER_TYPES],
                     (unsigned long long)s.correct[NM_NER_TYPES]);
    }
    /* P/R/F1 over sentences; per type. */
    nm_conll_score s = {0};
    uint8_t g1[] = {BP, IP, O, BL}, p1[] = {BP, IP, O, BO};
    nm_conll_score_add(&s, g1, p1, 4);
    uint8_t g2[] = {BL, O}, p2[] = {BL, O};
    nm_conll_score_add(&s, g2, p2, 2);
    double p, r, f;
    nm_conll_score_prf(&s, NM_NER_TYPES, &p, &r, &f);
    assert_true(p > 0.666 && p < 0.667);
    assert_true(r > 0.666 && r < 0.667);
    nm_conll_score_prf(&s, NM_NER_LOC, &p, &r, &f);
    assert_true(p == 1.0 && r == 0.5);
    nm_conll_score_prf(&s, NM_NER_ORG, &p, &r, &f);
    assert_true(p == 0.0 && r == 0.0 && f == 0.0);
    assert_int_equal(s.tokens, 6);
    assert_int_equal(s.tokens_correct, 5);
}

static void reader(void **state)
{
    (void)state;
    const char text[] = "-DOCSTART- -X- -X- O\r\n\r\n"
                        "EU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n\r\n\r\n"
                        "Peter B-PER\nBlackburn I-PER\n"
                        "-DOCSTART- -X- -X- O\n\n"
                        "Kalın\tB-PER\n";
    nm_test_write_file(nm_test_path("c.txt"), text, strlen(text));
    nm_conll_corpus *c;
    nm_error err;
    assert_int_equal(nm_conll_load(nm_test_path("c.txt"), &c, &err), 0);
    assert_int_equal(c->n_tokens, 5);
    assert_int_equal(c->n_sentences, 3);
    assert_int_equal(c->n_docs, 2);
    assert_int_equal(c->doc_start[0], 0);
    assert_int_equal(c->doc_start[1], 2);
    assert_int_equal(c->doc_start[2], 3);
    assert_int_equal(c->sent_start[1], 2);
    assert_int_equal(c->tokens[4].len, strlen("Kalın"));
    assert_memory_equal(c->tokens[4].text, "Kalın", c->tokens[4].len);
    assert_int_equal(c->labels[0], NM_NER_B_ORG);
    assert_int_equal(c->labels[3], NM_NER_I_PER);
    nm_conll_free(&c);
    assert_null(c);

    const char bad[] = "EU B-ORG\nrejects B-FOO\n";
    nm_test_write_file(nm_test_path("bad.txt"), bad, strlen(bad));
    assert_int_equal(nm_conll_load(nm_test_path("bad.txt"), &c, &err), -1);
    assert_int_equal(err.code, NM_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "line 2"));
    nm_test_write_file(nm_test_path("empty.txt"), "\n\n", 2);
    assert_int_equal(nm_conll_load(nm_test_path("empty.txt"), &c, &err), -1);
    assert_int_equal(nm_conll_load(nm_test_path("absent.txt"), &c, &err), -1);
    assert_int_equal(err.code, NM_ERR_IO);
}

/* FILE,FILE,...: read as one corpus; a sentence ends with its file; an
 * error names the file and its own line. */
static void reader_list(void **state)
{
    (void)state;
    const char a[] = "de:Berlin\tB-LOC\nde:liegt\tO", b[] = "fr:Paris\tB-LOC\n\nfr:Lyon\tB-LOC\n";
    nm_test_write_file(nm_test_path("a.txt"), a, strlen(a)); /* no newline at the end */
    nm_test_write_file(nm_test_path("b.txt"), b, strlen(b));
    char list[4096];
    snprintf(list, sizeof list, "%s,%s,%s", nm_test_path("a.txt"), nm_test_path("b.txt"),
             nm_test_path("a.txt"));
    nm_conll_corpus *c;
    nm_error err;
    assert_int_equal(nm_conll_load(list, &c, &err), 0);
    assert_int_equal(c->format, NM_CONLL_WIKIANN);
    assert_int_equal(c->n_tokens, 6);
    assert_int_equal(c->n_sentences, 4);
    assert_int_equal(c->sent_start[1], 2); /* "liegt" does not run into "Paris" */
    assert_memory_equal(c->tokens[2].text, "Paris", 5);
    assert_memory_equal(c->tokens[5].text, "liegt", 5);
    nm_conll_free(&c);

    const char bad[] = "fr:Nice\tB-LOC\n\nfr:Nice\tB-MISC\n";
    nm_test_write_file(nm_test_path("bad-wikiann.txt"), bad, strlen(bad));
    snprintf(list, sizeof list, "%s,%s", nm_test_path("a.txt"), nm_test_path("bad-wikiann.txt"));
    assert_int_equal(nm_conll_load(list, &c, &err), -1);
    assert_int_equal(err.code, NM_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "bad-wikiann.txt line 3:"));
    snprintf(list, sizeof list, "%s,", nm_test_path("a.txt"));
    assert_int_equal(nm_conll_load(list, &c, &err), -1);
    assert_non_null(strstr(err.msg, "empty file name"));
    snprintf(list, sizeof list, "%s,%s", nm_test_path("a.txt"), nm_test_path("absent.txt"));
    assert_int_equal(nm_conll_load(list, &c, &err), -1);
    assert_int_equal(err.code, NM_ERR_IO);
    assert_non_null(strstr(err.msg, "absent.txt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conlleval_rules),
        cmocka_unit_test(reader),
        cmocka_unit_test(reader_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

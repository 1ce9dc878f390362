/* nm_ner: regression guard on CoNLL-2003 dev (skipped without ../shared).
 * The shipped model is trained on train + dev (0.994 there; trained on
 * train alone it scores 0.917): the floor only catches a broken model,
 * feature or scorer, and holds for a model trained on train alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "nm_conll.h"
#include "nm_ner.h"
#include "nm_ner_train.h"
#include "nm_test.h"

static const char *shared;

static void dev_f1_floor(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/data/ner-model.bin", nm_test_source_dir());
    nm_ner_model *m;
    nm_error err;
    assert_int_equal(nm_ner_model_load(path, &m, &err), 0);
    snprintf(path, sizeof path, "%s/eval/conll2003/dev.txt", shared);
    nm_conll_corpus *c;
    assert_int_equal(nm_conll_load(path, &c, &err), 0);
    nm_conll_score sc = {0};
    nm_ner_evaluate(m, c, &sc, NULL);
    double p, r, f;
    nm_conll_score_prf(&sc, NM_NER_TYPES, &p, &r, &f);
    printf("dev f1=%.4f precision=%.4f recall=%.4f entities=%llu\n", f, p, r,
           (unsigned long long)sc.gold[NM_NER_TYPES]);
    assert_int_equal(sc.gold[NM_NER_TYPES], 5942);
    assert_true(f >= 0.90);
    for (int t = 0; t < NM_NER_TYPES; t++) {
        nm_conll_score_prf(&sc, t, &p, &r, &f);
        assert_true(f >= 0.85);
    }
    nm_conll_free(&c);
    nm_ner_model_free(&m);
}

int main(void)
{
    shared = nm_test_require_shared("the NER dev-set guard needs eval/conll2003/dev.txt");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dev_f1_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

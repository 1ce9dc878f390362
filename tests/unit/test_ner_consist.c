/* nm_ner_consistent: one type per string in a document, unlabelled
 * capitalised repeats filled in, surnames of people, no entity without a
 * capital, datelines are places, nothing else touched. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nm_ner.h"

enum { O = NM_NER_O, BP = NM_NER_B_PER, IP = NM_NER_I_PER, BO = NM_NER_B_ORG, IO = NM_NER_I_ORG,
       BL = NM_NER_B_LOC };

static void run(const char *const *words, size_t n, const uint32_t *ends, size_t ns,
                uint8_t *labels)
{
    nm_ner_token toks[64];
    for (size_t i = 0; i < n; i++) {
        toks[i].text = words[i];
        toks[i].len = strlen(words[i]);
    }
    void *scratch = malloc(nm_ner_consistent_scratch_size(n));
    nm_ner_consistent(toks, n, ends, ns, labels, scratch);
    free(scratch);
}

static void majority_type_and_repeats(void **state)
{
    (void)state;
    const char *w[] = {"Bill", "Clinton", "met", "Clinton", ".",              /* PER PER */
                       "Clinton", "said", "clinton", "Clinton", "Foundation", ".", /* ORG */
                       "Clinton", "left", "Ankara", ".",                      /* PER */
                       "Clinton", "won", "."};                                /* O */
    uint32_t ends[] = {5, 11, 15, 18};
    uint8_t labels[] = {BP, IP, O, BP, O,
                        BO, O, O, BO, IO, O,
                        BP, O, BL, O,
                        O, O, O};
    run(w, 18, ends, 4, labels);
    /* "Clinton": PER twice, ORG once -> PER; its O repeat -> PER; lower-case
     * "clinton" and the longer "Clinton Foundation" untouched */
    uint8_t want[] = {BP, IP, O, BP, O,
                      BP, O, O, BO, IO, O,
                      BP, O, BL, O,
                      BP, O, O};
    assert_memory_equal(labels, want, sizeof want);
}

static void nothing_to_do(void **state)
{
    (void)state;
    const char *w[] = {"the", "Board", "met", "."};
    uint32_t ends[] = {4};
    uint8_t labels[] = {O, O, O, O};
    run(w, 4, ends, 1, labels);
    uint8_t want[] = {O, O, O, O};
    assert_memory_equal(labels, want, sizeof want);
}

/* A repeat spanning a sentence end is not filled; a longer string wins. */
static void within_sentence_longest(void **state)
{
    (void)state;
    const char *w[] = {"New", "York", "Times", "said", ".",
                       "New", "York", "Times", "and", "New", "York", "."};
    uint32_t ends[] = {5, 12};
    uint8_t labels[] = {BO, IO, IO, O, O,
                        O, O, O, O, BL, NM_NER_I_LOC, O};
    run(w, 12, ends, 2, labels);
    uint8_t want[] = {BO, IO, IO, O, O,
                      BO, IO, IO, O, BL, NM_NER_I_LOC, O};
    assert_memory_equal(labels, want, sizeof want);
}

/* A surname of a person named in full is that person, whatever it was
 * labelled; a span without a capital is no entity. */
static void surname_and_lower_case(void **state)
{
    (void)state;
    const char *w[] = {"Rafael", "Nogueira", "said", "centro", "da", "cidade", ".",
                       "Nogueira", "left", "Nogueira", "."};
    uint32_t ends[] = {7, 11};
    uint8_t labels[] = {BP, IP, O, BO, IO, IO, O,
                        BL, O, O, O};
    run(w, 11, ends, 2, labels);
    uint8_t want[] = {BP, IP, O, O, O, O, O,
                      BP, O, BP, O};
    assert_memory_equal(labels, want, sizeof want);
}

/* A dateline (an entity in capitals opening a sentence, a dash, text in
 * small letters) is a place; a headline slug followed by capitals, an
 * acronym of three letters, a dash in the next sentence are left. */
static void datelines(void **state)
{
    (void)state;
    const char *w[] = {"ABERDEEN", "\xe2\x80\x94", "A", "wind", "farm", ".",  /* ORG -> LOC */
                       "RUGBY", "UNION", "-", "CAMPESE", "CALLED", ".",        /* slug: kept */
                       "FDP", "-", "the", "party", ".",                        /* acronym: kept */
                       "LE", "TEMPS", ".", "-", "Trade", "talks", ".",         /* dash later: kept */
                       "CHICAGO", "-", "Stocks", "fell", "."};                  /* PER -> LOC */
    uint32_t ends[] = {6, 12, 17, 20, 24, 29};
    uint8_t labels[] = {BO, O, O, O, O, O,
                        BO, IO, O, BP, O, O,
                        BO, O, O, O, O,
                        BO, IO, O, O, O, O, O,
                        BP, O, O, O, O};
    run(w, 29, ends, 6, labels);
    uint8_t want[] = {BL, O, O, O, O, O,
                      BO, IO, O, BP, O, O,
                      BO, O, O, O, O,
                      BO, IO, O, O, O, O, O,
                      BL, O, O, O, O};
    assert_memory_equal(labels, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(majority_type_and_repeats),
        cmocka_unit_test(nothing_to_do),
        cmocka_unit_test(within_sentence_longest),
        cmocka_unit_test(surname_and_lower_case),
        cmocka_unit_test(datelines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

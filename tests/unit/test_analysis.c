/* Acronyms, language detection and the recognisers on small hand-checked
 * cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_extract.h"
#include "nm_test.h"

static nm_extractor *ex;

static int setup(void **state)
{
    (void)state;
    nm_error err;
    ex = nm_extractor_new(NULL, &err);
    if (!ex)
        fprintf(stderr, "extractor: %s\n", err.msg);
    return ex ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nm_extractor_destroy(&ex);
    return 0;
}

static nm_extract_result *run(const nm_extractor *x, const char *body, const char *hint)
{
    nm_extract_input in = {.body = body, .len = strlen(body), .content_type = NM_CONTENT_TEXT,
                           .language_hint = hint};
    nm_extract_result *r;
    nm_error err;
    if (nm_extract(x, &in, &r, &err) < 0)
        fail_msg("extract: %s", err.msg);
    return r;
}

static void acronym_table(void **state)
{
    (void)state;
    struct {
        const char *text, *short_form, *long_form; /* long_form NULL: none */
    } cases[] = {
        {"T\n\nThe World Health Organization (WHO) said so.", "WHO", "World Health Organization"},
        {"T\n\nShares of the US Securities and Exchange Commission (SEC) fell.", "SEC",
         "Securities and Exchange Commission"},
        {"T\n\nThe National Intelligence Organization (MIT) met them.", "MIT",
         "National Intelligence Organization"},
        {"T\n\nThe WHO (World Health Organization) said so.", "WHO", "World Health Organization"},
        {"T\n\nIt grew by 3% (GDP) last year.", NULL, NULL},
        {"T\n\nHe works for NATO in Brussels.", NULL, NULL},
        {"T\n\nprices of gross domestic product (GDP) rose.", "GDP", "gross domestic product"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_extract_result *r = run(ex, cases[i].text, NULL);
        if (!cases[i].short_form) {
            if (r->n_acronyms)
                fail_msg("'%s': found %s = %s", cases[i].text, r->acronyms[0].short_form,
                         r->acronyms[0].long_form);
        } else {
            if (r->n_acronyms != 1 || strcmp(r->acronyms[0].short_form, cases[i].short_form) ||
                strcmp(r->acronyms[0].long_form, cases[i].long_form))
                fail_msg("'%s': got %zu acronyms: %s = %s", cases[i].text, r->n_acronyms,
                         r->n_acronyms ? r->acronyms[0].short_form : "-",
                         r->n_acronyms ? r->acronyms[0].long_form : "-");
        }
        nm_extract_result_free(&r);
    }
}

static void language_table(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"News\n\nThe government said on Monday that it would not raise taxes this year, but "
         "the opposition was not convinced by the promise.", "en"},
        {"Nachrichten\n\nDie Regierung hat am Montag gesagt, dass sie in diesem Jahr die Steuern "
         "nicht erhöhen wird, aber die Opposition ist nicht überzeugt.", "de"},
        {"Nouvelles\n\nLe gouvernement a déclaré lundi qu'il n'augmenterait pas les impôts cette "
         "année, mais l'opposition n'est pas convaincue par cette promesse.", "fr"},
        {"Noticias\n\nEl gobierno dijo el lunes que no subirá los impuestos este año, pero la "
         "oposición no está convencida por la promesa.", "es"},
        {"Notizie\n\nIl governo ha detto lunedì che non aumenterà le tasse quest'anno, ma "
         "l'opposizione non è convinta della promessa che è stata fatta.", "it"},
        {"Notícias\n\nO governo disse na segunda-feira que não vai aumentar os impostos este ano, "
         "mas a oposição não está convencida com a promessa.", "pt"},
        {"Nieuws\n\nDe regering zei maandag dat zij de belastingen dit jaar niet zal verhogen, "
         "maar de oppositie is niet overtuigd door die belofte.", "nl"},
        {"Haberler\n\nHükümet pazartesi günü bu yıl vergileri artırmayacağını söyledi, ancak "
         "muhalefet bu sözden pek emin değil ve daha çok bilgi istiyor.", "tr"},
        {"Новости\n\nПравительство заявило в понедельник, что не будет повышать налоги в этом "
         "году, но оппозиция не убеждена этим обещанием.", "ru"},
        {"أخبار\n\nقالت الحكومة يوم الاثنين إنها لن ترفع الضرائب هذا العام، لكن المعارضة غير "
         "مقتنعة بهذا الوعد الذي قدمته.", "ar"},
        /* beyond the ten stop-word languages: named, not "und" */
        {"Wiadomości\n\nRząd poinformował w poniedziałek, że w tym roku nie podniesie podatków, "
         "ale opozycja nie jest przekonana tą obietnicą.", "pl"},
        {"Nyheter\n\nRegeringen sade på måndagen att den inte kommer att höja skatterna i år, "
         "men oppositionen är inte övertygad av löftet.", "sv"},
        {"Zprávy\n\nVláda v pondělí uvedla, že letos nezvýší daně, ale opozice není tímto "
         "slibem přesvědčena.", "cs"},
        {"Ειδήσεις\n\nΗ κυβέρνηση δήλωσε τη Δευτέρα ότι δεν θα αυξήσει τους φόρους φέτος, αλλά "
         "η αντιπολίτευση δεν έχει πειστεί από αυτή την υπόσχεση.", "el"},
        {"Новини\n\nУряд заявив у понеділок, що цього року не підвищуватиме податки, але "
         "опозиція не переконана цією обіцянкою.", "uk"},
        {"X\n\n12345 67890 !!! ???", "und"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_extract_result *r = run(ex, cases[i].text, NULL);
        if (strcmp(r->language, cases[i].want))
            fail_msg("case %zu: detected %s (%.2f), want %s", i, r->language, r->language_confidence,
                     cases[i].want);
        if (strcmp(cases[i].want, "und"))
            assert_true(r->language_confidence > 0.3);
        nm_extract_result_free(&r);
    }
    /* the producer's hint wins */
    nm_extract_result *r = run(ex, cases[0].text, "de-AT");
    assert_string_equal(r->language, "de");
    assert_true(r->language_confidence == 1.0);
    nm_extract_result_free(&r);
}

/* The same article through both recognisers: both find the basics, and the
 * extractor's output keeps its shape. */
static void recognisers(void **state)
{
    (void)state;
    const char *text = "Talks in Ankara\n\nTurkish intelligence chief Ibrahim Kalın met Hamas leaders "
                       "in Ankara on Monday. Kalın later flew to Doha, Qatar.\n";
    const char *kinds[] = {"rules", "model"};
    for (size_t k = 0; k < 2; k++) {
        nm_extractor_config cfg = {.recognizer = kinds[k]};
        nm_error err;
        nm_extractor *x = nm_extractor_new(&cfg, &err);
        if (!x)
            fail_msg("%s: %s", kinds[k], err.msg);
        nm_extract_result *r = run(x, text, NULL);
        int person = 0, hamas = 0, ankara = 0;
        for (size_t i = 0; i < r->n_entities; i++) {
            const nm_entity *e = &r->entities[i];
            if (!strcmp(e->name, "Ibrahim Kal\xC4\xB1n") && e->type == NM_ENTITY_PERSON)
                person = (int)e->n_mentions;
            hamas |= !strcmp(e->name, "Hamas") && e->type == NM_ENTITY_ORGANISATION;
            ankara |= !strcmp(e->name, "Ankara") && e->type == NM_ENTITY_PLACE;
        }
        if (person != 2 || !hamas || !ankara)
            fail_msg("%s: person mentions %d, hamas %d, ankara %d", kinds[k], person, hamas, ankara);
        nm_extract_result_free(&r);
        nm_extractor_destroy(&x);
    }
    nm_extractor_config bad = {.recognizer = "crystal-ball"};
    nm_error err;
    assert_null(nm_extractor_new(&bad, &err));
    assert_int_equal(err.code, NM_ERR_INVALID);
    nm_extractor_config nodata = {.data_dir = "/nonexistent"};
    assert_null(nm_extractor_new(&nodata, &err));
    assert_int_equal(err.code, NM_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acronym_table),
        cmocka_unit_test(language_table),
        cmocka_unit_test(recognisers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

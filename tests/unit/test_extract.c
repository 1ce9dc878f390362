/* nm_extract on whole articles: structure of our own sample and of the seed
 * article, fingerprints, bad input, and every article of the BBC corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_extract.h"
#include "nm_test.h"

static nm_extractor *ex;   /* the default (model recogniser) */
static nm_extractor *fast; /* the rules recogniser: for the 50 MB input and the whole corpus */

static int setup(void **state)
{
    (void)state;
    nm_error err;
    ex = nm_extractor_new(NULL, &err);
    if (!ex)
        fprintf(stderr, "extractor: %s\n", err.msg);
    nm_extractor_config cfg = {.recognizer = "rules"};
    fast = nm_extractor_new(&cfg, &err);
    if (!fast)
        fprintf(stderr, "extractor (rules): %s\n", err.msg);
    return ex && fast ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nm_extractor_destroy(&ex);
    nm_extractor_destroy(&fast);
    assert_null(ex);
    return 0;
}

static nm_extract_result *extract_text(const char *body, size_t len)
{
    nm_extract_input in = {.body = body, .len = len, .content_type = NM_CONTENT_TEXT};
    nm_extract_result *r = NULL;
    nm_error err;
    if (nm_extract(ex, &in, &r, &err) < 0)
        fail_msg("extract failed: %s", err.msg);
    return r;
}

static nm_extract_result *extract_file(const char *path)
{
    size_t len;
    char *body = nm_test_read_file(path, &len);
    if (!body)
        fail_msg("cannot read %s", path);
    nm_extract_result *r = extract_text(body, len);
    free(body);
    return r;
}

static int span_is(const nm_extract_result *r, nm_span s, const char *want)
{
    return s.end - s.start == strlen(want) && !memcmp(r->text + s.start, want, strlen(want));
}


static const nm_entity *find_entity(const nm_extract_result *r, const char *name)
{
    for (size_t i = 0; i < r->n_entities; i++)
        if (!strcmp(r->entities[i].name, name))
            return &r->entities[i];
    fail_msg("no entity '%s'", name);
    return NULL;
}

/* The entity exists with this type, and each mention's span reads one of the
 * allowed surfaces; returns its number of mentions. */
static size_t check_entity(const nm_extract_result *r, const char *name, nm_entity_type type,
                           const char *surface1, const char *surface2)
{
    const nm_entity *e = find_entity(r, name);
    if (e->type != type)
        fail_msg("'%s' is %s, want %s", name, nm_entity_type_name(e->type), nm_entity_type_name(type));
    assert_true(e->n_mentions >= 1);
    for (uint32_t m = e->first_mention; m < e->first_mention + e->n_mentions; m++) {
        const nm_mention *mn = &r->mentions[m];
        assert_int_equal(mn->entity, e - r->entities);
        int ok = span_is(r, mn->span, surface1) || (surface2 && span_is(r, mn->span, surface2));
        if (!ok)
            fail_msg("mention of '%s' reads '%.*s'", name, (int)(mn->span.end - mn->span.start),
                     r->text + mn->span.start);
        const nm_sentence *s = &r->sentences[mn->sentence];
        assert_true(s->span.start <= mn->span.start && mn->span.end <= s->span.end);
    }
    return e->n_mentions;
}

static const nm_acronym *find_acronym(const nm_extract_result *r, const char *short_form)
{
    for (size_t i = 0; i < r->n_acronyms; i++)
        if (!strcmp(r->acronyms[i].short_form, short_form))
            return &r->acronyms[i];
    fail_msg("no acronym '%s'", short_form);
    return NULL;
}

/* Occurrences of needle in the text. */
static size_t count_in_text(const nm_extract_result *r, const char *needle)
{
    size_t n = 0;
    for (const char *p = r->text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Title, sections with headings, outline items linked both ways. */
static void check_structure(const nm_extract_result *r, const char *title, const char *const heads[3])
{
    assert_string_equal(r->title, title);
    assert_int_equal(r->n_sections, 3);
    assert_int_equal(r->n_outline, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(r->sections[i].heading, heads[i]);
        assert_true(span_is(r, r->sections[i].heading_span, heads[i]));
        assert_string_equal(r->outline[i].text, heads[i]);
        assert_true(span_is(r, r->outline[i].span, heads[i]));
        assert_int_equal(r->outline[i].section, i);
        assert_int_equal(r->sections[i].outline_item, i);
        assert_true(r->sections[i].n_paragraphs >= 1);
        /* the outline comes before the section it announces */
        assert_true(r->outline[i].span.end < r->sections[i].heading_span.start);
        uint32_t p = r->sections[i].first_paragraph;
        assert_int_equal(r->paragraphs[p].section, i);
        assert_int_equal(r->paragraphs[p - 1].span.start, r->sections[i].heading_span.start);
    }
    /* sentences tile the paragraphs */
    for (size_t i = 0; i < r->n_paragraphs; i++) {
        const nm_paragraph *p = &r->paragraphs[i];
        assert_true(p->n_sentences >= 1);
        assert_int_equal(r->sentences[p->first_sentence].span.start, p->span.start);
        assert_int_equal(r->sentences[p->first_sentence + p->n_sentences - 1].span.end, p->span.end);
    }
    assert_int_equal(r->counts.sentences, r->n_sentences);
    assert_int_equal(r->counts.paragraphs, r->n_paragraphs);
    assert_true(r->counts.words > 100);
    assert_true(r->counts.flesch_reading_ease > 0 && r->counts.flesch_reading_ease < 100);
}

static void own_sample(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/extract-sample.txt", nm_test_source_dir());
    nm_extract_result *r = extract_file(path);
    static const char *const heads[3] = {"Financing the Cable", "Grid Capacity in Spain", "Role of the NVE"};
    check_structure(r, "Norwegian Energy Minister Visits Solar Projects in Morocco", heads);
    assert_string_equal(r->content_type, "text");
    /* "Mr. Haddad" and "e.g. a second line" do not split sentences */
    int found_mr = 0;
    for (size_t i = 0; i < r->n_sentences; i++) {
        nm_span s = r->sentences[i].span;
        if (s.end - s.start > 10 && !memcmp(r->text + s.start, "\xE2\x80\x9CWe are not", 13)) {
            found_mr = 1;
            assert_true(r->text[s.end - 1] == '.');
            char *copy = strndup(r->text + s.start, s.end - s.start);
            assert_non_null(strstr(copy, "Mr. Haddad"));
            free(copy);
        }
    }
    assert_true(found_mr);
    /* entities: the person with every mention, surname alone included */
    size_t n = check_entity(r, "Ingrid \xC3\x98stby", NM_ENTITY_PERSON, "Ingrid \xC3\x98stby", "\xC3\x98stby");
    assert_int_equal(n, count_in_text(r, "\xC3\x98stby")); /* "Østby’s" too */
    check_entity(r, "Rabat", NM_ENTITY_PLACE, "Rabat", NULL);
    check_entity(r, "Morocco", NM_ENTITY_PLACE, "Morocco", NULL); /* "Morocco’s" */
    check_entity(r, "Spain", NM_ENTITY_PLACE, "Spain", NULL);
    check_entity(r, "Oslo", NM_ENTITY_PLACE, "Oslo", NULL);
    check_entity(r, "Norwegian", NM_ENTITY_NATIONALITY, "Norwegian", NULL);
    check_entity(r, "Norwegian Red Cross", NM_ENTITY_ORGANISATION, "Norwegian Red Cross", NULL);
    /* an acronym whose letters are not the English words' */
    const nm_acronym *a = find_acronym(r, "NVE");
    assert_string_equal(a->long_form, "Norwegian Water Resources and Energy Directorate");
    assert_int_equal(a->n_uses, 5);
    assert_true(span_is(r, a->short_span, "NVE"));
    n = check_entity(r, "Norwegian Water Resources and Energy Directorate", NM_ENTITY_ORGANISATION,
                     "Norwegian Water Resources and Energy Directorate", "NVE");
    assert_int_equal(n, 6);
    a = find_acronym(r, "EIB");
    assert_string_equal(a->long_form, "European Investment Bank");
    /* language, keyphrases, summary */
    assert_string_equal(r->language, "en");
    assert_true(r->n_keyphrases >= 5);
    assert_true(r->keyphrases[0].score == 1.0);
    for (size_t i = 1; i < r->n_keyphrases; i++)
        assert_true(r->keyphrases[i].score <= r->keyphrases[i - 1].score);
    assert_true(r->n_summary >= 1 && r->n_summary <= 3);
    for (size_t i = 1; i < r->n_summary; i++)
        assert_true(r->summary[i] > r->summary[i - 1]);
    char *json = nm_extract_to_json(r, NULL);
    assert_non_null(strstr(json, "\"title\":\"Norwegian Energy Minister"));
    free(json);
    nm_extract_result_free(&r);
    assert_null(r);
}

static void seed_article(void **state)
{
    (void)state;
    const char *shared = nm_test_shared_dir();
    if (!shared) {
        nm_test_skip("the seed article is in ../shared (own sample covers the same)");
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/corpus/seed/kalin-hamas-ankara.txt", shared);
    nm_extract_result *r = extract_file(path);
    static const char *const heads[3] = {"Progress in Ceasefire Negotiations",
                                         "Humanitarian Aid and Crisis in Gaza",
                                         "Diplomatic Efforts and Role of MIT"};
    check_structure(r, "Turkish Intelligence Chief Holds Talks with Hamas Leaders in Ankara", heads);
    /* Kalın: one person, every mention (the article always names him in full) */
    size_t n = check_entity(r, "Ibrahim Kal\xC4\xB1n", NM_ENTITY_PERSON, "Ibrahim Kal\xC4\xB1n", "Kal\xC4\xB1n");
    assert_int_equal(n, count_in_text(r, "Kal\xC4\xB1n"));
    /* Hamas, also as "Hamas’" */
    n = check_entity(r, "Hamas", NM_ENTITY_ORGANISATION, "Hamas", NULL);
    assert_int_equal(n, count_in_text(r, "Hamas"));
    /* Israel, also as "Israel’s" */
    n = check_entity(r, "Israel", NM_ENTITY_PLACE, "Israel", NULL);
    assert_int_equal(n, count_in_text(r, "Israel"));
    static const char *const places[] = {"Ankara", "Gaza", "Egypt", "Qatar"};
    for (size_t i = 0; i < 4; i++) {
        n = check_entity(r, places[i], NM_ENTITY_PLACE, places[i], NULL);
        assert_int_equal(n, count_in_text(r, places[i]));
    }
    check_entity(r, "Turkish", NM_ENTITY_NATIONALITY, "Turkish", NULL);
    check_entity(r, "Turkish Red Crescent", NM_ENTITY_ORGANISATION, "Turkish Red Crescent", NULL);
    /* MIT <-> National Intelligence Organization */
    const nm_acronym *a = find_acronym(r, "MIT");
    assert_string_equal(a->long_form, "National Intelligence Organization");
    assert_true(span_is(r, a->long_span, "National Intelligence Organization"));
    assert_int_equal(a->n_uses, count_in_text(r, "MIT"));
    n = check_entity(r, "National Intelligence Organization", NM_ENTITY_ORGANISATION,
                     "National Intelligence Organization", "MIT");
    assert_int_equal(n, count_in_text(r, "MIT") + count_in_text(r, "National Intelligence Organization"));
    assert_string_equal(r->language, "en");
    nm_extract_result_free(&r);
}

static void fingerprints(void **state)
{
    (void)state;
    const char *a = "Budget Talks\n\nThe finance ministers of the euro zone met in Brussels on Monday to "
                    "agree a new budget framework. Talks ran late into the night, and officials said "
                    "that a deal on deficits was close but that France and Italy still wanted changes "
                    "to the rules on public investment and on pensions.\n";
    const char *a_spacing = "Budget   Talks\r\n\r\nthe FINANCE ministers of the euro zone met in Brussels, on "
                            "Monday, to agree a new budget framework! Talks ran late into the night and "
                            "officials said that a deal on deficits was close but that France and Italy "
                            "still wanted changes to the rules on public investment and on pensions\n";
    const char *a_edit = "Budget Talks\n\nThe finance ministers of the euro zone met in Brussels on Tuesday to "
                         "agree a new budget framework. Talks ran late into the night, and officials said "
                         "that a deal on deficits was close but that France and Italy still wanted changes "
                         "to the rules on public investment and on pensions.\n";
    const char *b = "Cup Final\n\nThe home side won the cup final by two goals to one after extra time, "
                    "with the winner scored by a substitute who had come on only minutes earlier. "
                    "Supporters celebrated in the streets until the early hours of the morning.\n";
    nm_extract_result *ra = extract_text(a, strlen(a));
    nm_extract_result *ra2 = extract_text(a, strlen(a));
    nm_extract_result *rs = extract_text(a_spacing, strlen(a_spacing));
    nm_extract_result *re = extract_text(a_edit, strlen(a_edit));
    nm_extract_result *rb = extract_text(b, strlen(b));
    assert_int_equal(ra->fingerprints.exact, ra2->fingerprints.exact);
    assert_memory_equal(&ra->fingerprints, &ra2->fingerprints, sizeof ra->fingerprints);
    assert_int_equal(ra->fingerprints.exact, rs->fingerprints.exact); /* case, spacing, punctuation */
    assert_int_not_equal(ra->fingerprints.exact, re->fingerprints.exact);
    assert_true(nm_fingerprints_near_duplicate(&ra->fingerprints, &re->fingerprints));
    assert_true(nm_fingerprints_similarity(&ra->fingerprints, &re->fingerprints) > 0.7);
    assert_false(nm_fingerprints_near_duplicate(&ra->fingerprints, &rb->fingerprints));
    assert_true(nm_fingerprints_similarity(&ra->fingerprints, &rb->fingerprints) < 0.2);
    assert_true(__builtin_popcountll(ra->fingerprints.simhash ^ rb->fingerprints.simhash) > 3);
    nm_extract_result_free(&ra);
    nm_extract_result_free(&ra2);
    nm_extract_result_free(&rs);
    nm_extract_result_free(&re);
    nm_extract_result_free(&rb);
}

/* Bad input: a clear error or a sensible result, never a crash. */
static void bad_input(void **state)
{
    (void)state;
    size_t big = 50u << 20;
    char *huge = malloc(big);
    for (size_t i = 0; i < big; i++)
        huge[i] = (i % 1000 == 999) ? '\n' : (i % 7 == 6) ? ' ' : 'a' + (char)(i % 26);
    size_t para = 100000;
    char *longpara = malloc(para + 16);
    memcpy(longpara, "Title\n\n", 7);
    for (size_t i = 0; i < para; i++)
        longpara[7 + i] = (i % 9 == 8) ? ' ' : 'x';
    char junk[4096];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        junk[i] = (char)x;
    }
    struct {
        const char *what;
        const char *body;
        size_t len;
        nm_content_type ct;
        nm_errcode want; /* NM_OK: must succeed */
        size_t bad_offset;
    } cases[] = {
        {"empty", "", 0, NM_CONTENT_TEXT, NM_ERR_EMPTY, 0},
        {"whitespace", " \n\t\r\n  \n", 8, NM_CONTENT_TEXT, NM_ERR_EMPTY, 0},
        {"nul bytes only", "\0\0\0", 3, NM_CONTENT_TEXT, NM_ERR_EMPTY, 0},
        {"50 MB", huge, big, NM_CONTENT_TEXT, NM_OK, 0},
        {"binary junk", junk, sizeof junk, NM_CONTENT_TEXT, NM_ERR_UTF8, 0},
        {"nul inside", "Title\n\nSome\0text here.", 22, NM_CONTENT_TEXT, NM_OK, 0},
        {"invalid utf8", "Title\n\nCaf\xe9 au lait.", 20, NM_CONTENT_TEXT, NM_ERR_UTF8, 10},
        {"100k paragraph", longpara, 7 + para, NM_CONTENT_TEXT, NM_OK, 0},
        {"html as text", "<html><body><p>Hello there.</p><p>Bye.</p></body></html>", 56, NM_CONTENT_TEXT, NM_OK, 0},
        {"one line", "Just a title", 12, NM_CONTENT_TEXT, NM_OK, 0},
        {"only punctuation", "...\n\n!!!", 8, NM_CONTENT_TEXT, NM_OK, 0},
        {"crlf and tabs", "T\r\n\r\n\tA b.\r\nC d.\r\n", 18, NM_CONTENT_TEXT, NM_OK, 0},
        {"list only", "T\n\n- a\n- b\n", 11, NM_CONTENT_TEXT, NM_OK, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_extract_input in = {.body = cases[i].body, .len = cases[i].len, .content_type = cases[i].ct};
        nm_extract_result *r = NULL;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_extract(cases[i].len > (1u << 20) ? fast : ex, &in, &r, &err);
        if (cases[i].want == NM_OK) {
            if (rc != 0)
                fail_msg("%s: failed: %s", cases[i].what, err.msg);
            assert_non_null(r->title);
            assert_true(r->n_sentences >= 1);
            char *json = nm_extract_to_json(r, NULL);
            assert_non_null(json);
            free(json);
            nm_extract_result_free(&r);
        } else {
            if (rc != -1 || err.code != cases[i].want)
                fail_msg("%s: rc %d code %s, want %s", cases[i].what, rc, nm_errcode_name(err.code),
                         nm_errcode_name(cases[i].want));
            assert_null(r);
            if (cases[i].want == NM_ERR_UTF8 && cases[i].bad_offset) {
                char want[64];
                snprintf(want, sizeof want, "at byte %zu", cases[i].bad_offset);
                assert_non_null(strstr(err.msg, want));
            }
        }
    }
    /* over the configured limit */
    nm_extractor_config cfg = {.max_input_bytes = 1000};
    nm_error err;
    nm_extractor *small = nm_extractor_new(&cfg, &err);
    nm_extract_input in = {.body = huge, .len = 1001, .content_type = NM_CONTENT_TEXT};
    nm_extract_result *r;
    assert_int_equal(nm_extract(small, &in, &r, &err), -1);
    assert_int_equal(err.code, NM_ERR_TOO_LARGE);
    nm_extractor_destroy(&small);
    free(huge);
    free(longpara);
}

static void bbc_corpus(void **state)
{
    (void)state;
    const char *shared = nm_test_shared_dir();
    if (!shared) {
        nm_test_skip("the BBC corpus is in ../shared");
    }
    static const char *const topics[] = {"business", "entertainment", "politics", "sport", "tech"};
    size_t n = 0;
    for (size_t t = 0; t < 5; t++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/corpus/bbc/%s", shared, topics[t]);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strstr(e->d_name, ".txt"))
                continue;
            char path[1300];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t len;
            char *body = nm_test_read_file(path, &len);
            assert_non_null(body);
            nm_extract_input in = {.body = body, .len = len};
            nm_extract_result *r;
            nm_error err;
            if (nm_extract(fast, &in, &r, &err) < 0)
                fail_msg("%s: %s", path, err.msg);
            if (!r->title[0] || r->n_sentences < 1)
                fail_msg("%s: title '%s', %zu sentences", path, r->title, r->n_sentences);
            assert_string_equal(r->content_type, "text");
            nm_extract_result_free(&r);
            free(body);
            n++;
        }
        closedir(d);
    }
    assert_true(n > 2000);
}

/* One extractor shared by several threads gives every thread the same result
 * as a lone call (the workspace pool is the only shared mutable state). */
typedef struct thread_job {
    const char *body;
    size_t len;
    const char *want;
    int ok;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *job = arg;
    job->ok = 1;
    for (int i = 0; i < 20; i++) {
        nm_extract_input in = {.body = job->body, .len = job->len, .content_type = NM_CONTENT_TEXT};
        nm_extract_result *r;
        nm_error err;
        if (nm_extract(ex, &in, &r, &err) < 0) {
            job->ok = 0;
            break;
        }
        char *json = nm_extract_to_json(r, NULL);
        if (strcmp(json, job->want))
            job->ok = 0;
        free(json);
        nm_extract_result_free(&r);
    }
    return NULL;
}

static void threads(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/extract-sample.txt", nm_test_source_dir());
    size_t len;
    char *body = nm_test_read_file(path, &len);
    assert_non_null(body);
    nm_extract_result *r = extract_text(body, len);
    char *want = nm_extract_to_json(r, NULL);
    nm_extract_result_free(&r);
    pthread_t tid[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){body, len, want, 0};
        assert_int_equal(pthread_create(&tid[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        assert_true(jobs[i].ok);
    }
    free(want);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_sample),
        cmocka_unit_test(seed_article),
        cmocka_unit_test(fingerprints),
        cmocka_unit_test(threads),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(bbc_corpus),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* nm_token, nm_sentence, nm_readability: tables of hand-checked cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_readability.h"
#include "nm_sentence.h"
#include "nm_token.h"

/* Tokens of text joined by '|'. */
static void tokens_of(const char *text, char *out, size_t cap)
{
    nm_token_vec v = {0};
    nm_tokenize(text, 0, strlen(text), &v);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < v.n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "", (int)(v.v[i].end - v.v[i].start),
                              text + v.v[i].start);
    nm_token_vec_free(&v);
}

static void tokenizer_table(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"Ibrahim Kalın met Hamas.", "Ibrahim|Kalın|met|Hamas|."},
        {"Israel’s reluctance and Hamas’ approach", "Israel|’s|reluctance|and|Hamas|’|approach"},
        {"Israel's army", "Israel|'s|army"},
        {"don't O'Brien", "don't|O'Brien"},
        {"the U.S. and e.g. this", "the|U.S.|and|e.g.|this"},
        {"3.5 billion, 1,000 people, $1.13bn (£600m)", "3.5|billion|,|1,000|people|,|$|1.13bn|(|£|600m|)"},
        {"agreed-upon de-escalate", "agreed-upon|de-escalate"},
        {"Wait... what…", "Wait|...|what|…"},
        {"São Paulo, Москва, القاهرة", "São|Paulo|,|Москва|,|القاهرة"},
        {"“Quote” (MIT)", "“|Quote|”|(|MIT|)"},
        {"10:30 at 76%", "10:30|at|76|%"},
    };
    char got[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tokens_of(cases[i].text, got, sizeof got);
        if (strcmp(got, cases[i].want))
            fail_msg("tokens of '%s': got '%s', want '%s'", cases[i].text, got, cases[i].want);
    }
    /* flags and the lower-case hash */
    nm_token_vec v = {0};
    const char *t = "MIT Kalın kalın U.S. Israel’s";
    nm_tokenize(t, 0, strlen(t), &v);
    assert_int_equal(v.n, 6);
    assert_true(v.v[0].flags & NM_TF_ALLCAPS);
    assert_true(v.v[1].flags & NM_TF_UPPER);
    assert_true(v.v[2].flags & NM_TF_LOWER);
    assert_int_equal(v.v[1].lhash, v.v[2].lhash);
    assert_int_equal(v.v[1].lhash, nm_token_hash_lower("KALIN", 5) == v.v[1].lhash ? v.v[1].lhash : nm_token_hash_lower("kalın", strlen("kalın")));
    assert_true(v.v[3].flags & NM_TF_DOTTED);
    assert_true(v.v[5].flags & NM_TF_CLITIC);
    assert_false(nm_token_is_word(&v.v[5]));
    nm_token_vec_free(&v);
}

static void sentences_of(const char *text, char *out, size_t cap)
{
    nm_token_vec v = {0};
    nm_tokenize(text, 0, strlen(text), &v);
    uint32_t *ends = calloc(v.n + 1, sizeof *ends);
    size_t n = nm_sentence_split(text, v.v, 0, v.n, ends);
    size_t o = 0, k = 0;
    out[0] = '\0';
    for (size_t s = 0; s < n; s++) {
        uint32_t a = v.v[k].start, b = v.v[ends[s] - 1].end;
        o += (size_t)snprintf(out + o, cap - o, "%s%.*s", s ? "|" : "", (int)(b - a), text + a);
        k = ends[s];
    }
    free(ends);
    nm_token_vec_free(&v);
}

static void sentence_table(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } cases[] = {
        {"Mr. Smith went to Ankara. He met Dr. Jones there.",
         "Mr. Smith went to Ankara.|He met Dr. Jones there."},
        {"The U.S. Senate voted. It passed.", "The U.S. Senate voted.|It passed."},
        {"He lives in the U.S. The weather is fine.", "He lives in the U.S.|The weather is fine."},
        {"It happened on Jan. 5 in Gaza. Then it ended.", "It happened on Jan. 5 in Gaza.|Then it ended."},
        {"Growth was 3.5 percent. Prices rose.", "Growth was 3.5 percent.|Prices rose."},
        {"Some fruits, e.g. apples, are red. Others are not.", "Some fruits, e.g. apples, are red.|Others are not."},
        {"\"We will win.\" He smiled.", "\"We will win.\"|He smiled."},
        {"“Why?” he asked. Nobody knew.", "“Why?” he asked.|Nobody knew."},
        {"They left (for good.) Then silence.", "They left (for good.)|Then silence."},
        {"J. K. Rowling wrote it. Fans cheered!", "J. K. Rowling wrote it.|Fans cheered!"},
        {"Wait... Then it came. Really?! Yes.", "Wait...|Then it came.|Really?!|Yes."},
        {"Visit google.com today. Now.", "Visit google.com today.|Now."},
        {"No. 10 Downing Street said no.", "No. 10 Downing Street said no."},
        {"A sentence without an end", "A sentence without an end"},
        {"It rose 5%. Shares fell.", "It rose 5%.|Shares fell."},
    };
    char got[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sentences_of(cases[i].text, got, sizeof got);
        if (strcmp(got, cases[i].want))
            fail_msg("sentences of '%s':\n got '%s'\nwant '%s'", cases[i].text, got, cases[i].want);
    }
}

static void syllable_table(void **state)
{
    (void)state;
    struct {
        const char *word;
        unsigned want;
    } cases[] = {
        {"the", 1}, {"cat", 1}, {"make", 1}, {"makes", 1}, {"table", 2}, {"boxes", 2},
        {"wanted", 2}, {"helped", 1}, {"humanitarian", 6}, {"video", 3}, {"usual", 3}, {"yes", 1},
        {"organization", 5}, {"a", 1}, {"2005", 1}, {"nation", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = nm_syllables(cases[i].word, strlen(cases[i].word));
        if (got != cases[i].want)
            fail_msg("syllables of '%s': got %u want %u", cases[i].word, got, cases[i].want);
    }
}

static void readability_known_text(void **state)
{
    (void)state;
    /* "The cat sat on the mat." : 6 words, 6 syllables, 1 sentence */
    nm_counts c = {.words = 6, .sentences = 1, .syllables = 6};
    nm_readability_scores(&c);
    assert_true(c.flesch_reading_ease > 116.14 && c.flesch_reading_ease < 116.15);
    assert_true(c.flesch_kincaid_grade > -1.46 && c.flesch_kincaid_grade < -1.44);
    assert_true(c.avg_sentence_words == 6.0);
    nm_counts z = {0};
    nm_readability_scores(&z);
    assert_true(z.flesch_reading_ease == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokenizer_table),
        cmocka_unit_test(sentence_table),
        cmocka_unit_test(syllable_table),
        cmocka_unit_test(readability_known_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

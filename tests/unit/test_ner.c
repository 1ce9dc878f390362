/* nm_ner: the shipped model on hand-written sentences, every way a model
 * file can be bad, hostile tokens, determinism of training, threads sharing
 * a model. (test_ner_dev guards quality on the dev set.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_conll.h"
#include "nm_ner.h"
#include "nm_ner_train.h"
#include "nm_test.h"

static nm_ner_model *shipped;

static const char *model_path(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/data/ner-model.bin", nm_test_source_dir());
    return path;
}

static int setup(void **state)
{
    (void)state;
    nm_error err;
    if (nm_ner_model_load(model_path(), &shipped, &err) != 0) {
        fprintf(stderr, "loading the shipped model: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nm_ner_model_free(&shipped);
    return 0;
}

/* Splits a sentence on spaces into tokens (pointing into s). */
static size_t split(const char *s, nm_ner_token *toks, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        toks[n].text = s;
        while (*s && *s != ' ')
            s++;
        toks[n].len = (size_t)(s - toks[n].text);
        n++;
    }
    return n;
}

static void dump(const nm_ner_token *t, const uint8_t *labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%.*s/%s ", (int)t[i].len, t[i].text, nm_ner_label_name(labels[i]));
    fprintf(stderr, "\n");
}

/* True when [start, end) is tagged as exactly one entity of type t. */
static bool has_entity(const uint8_t *labels, size_t n, size_t start, size_t end, nm_ner_type t)
{
    size_t pos = 0, s, e;
    nm_ner_type ty;
    while (nm_ner_next_span(labels, n, &pos, &s, &e, &ty))
        if (s == start && e == end && ty == t)
            return true;
    return false;
}

static void assert_iob2(const uint8_t *labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(labels[i] < NM_NER_LABELS);
        if (labels[i] != NM_NER_O && !(labels[i] & 1)) /* I-X */
            assert_true(i > 0 && (labels[i - 1] == labels[i] || labels[i - 1] == labels[i] - 1));
    }
}

static void seed_sentence(void **state)
{
    (void)state;
    const char *text = "Turkish intelligence chief Ibrahim Kalın recently met with Hamas "
                       "leaders in Ankara .";
    nm_ner_token t[32];
    uint8_t labels[32];
    size_t n = split(text, t, 32);
    nm_ner_doc doc;
    nm_ner_doc_reset(&doc);
    nm_ner_doc_add(&doc, t, n);
    nm_ner_tag(shipped, &doc, t, n, labels, NULL, 0);
    dump(t, labels, n);
    assert_true(has_entity(labels, n, 3, 5, NM_NER_PER));  /* Ibrahim Kalın */
    assert_true(has_entity(labels, n, 8, 9, NM_NER_ORG));  /* Hamas */
    assert_true(has_entity(labels, n, 11, 12, NM_NER_LOC)); /* Ankara */
    assert_true(has_entity(labels, n, 0, 1, NM_NER_MISC)); /* Turkish */
    assert_true(nm_ner_misc_is_group(shipped, t, 1));
    /* Without document context, and with caller scratch, the same. */
    size_t size = nm_ner_scratch_size(n);
    uint64_t *scratch = malloc(size);
    uint8_t again[32];
    nm_ner_tag(shipped, &doc, t, n, again, scratch, size);
    assert_memory_equal(labels, again, n);
    nm_ner_tag(shipped, NULL, t, n, again, scratch, size);
    assert_true(has_entity(again, n, 3, 5, NM_NER_PER));
    free(scratch);
}

static void more_sentences(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t start, end;
        nm_ner_type type;
    } cases[] = {
        {"Angela Merkel met Emmanuel Macron in Berlin on Tuesday .", 0, 2, NM_NER_PER},
        {"Angela Merkel met Emmanuel Macron in Berlin on Tuesday .", 3, 5, NM_NER_PER},
        {"Angela Merkel met Emmanuel Macron in Berlin on Tuesday .", 6, 7, NM_NER_LOC},
        {"Investors bought shares of Microsoft Corp in New York .", 4, 6, NM_NER_ORG},
        {"Investors bought shares of Microsoft Corp in New York .", 7, 9, NM_NER_LOC},
        {"The European Union said Palestinian officials would attend .", 1, 3, NM_NER_ORG},
        {"The European Union said Palestinian officials would attend .", 4, 5, NM_NER_MISC},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nm_ner_token t[32];
        uint8_t labels[32];
        size_t n = split(cases[c].text, t, 32);
        nm_ner_tag(shipped, NULL, t, n, labels, NULL, 0);
        if (!has_entity(labels, n, cases[c].start, cases[c].end, cases[c].type))
            dump(t, labels, n);
        assert_true(has_entity(labels, n, cases[c].start, cases[c].end, cases[c].type));
    }
    /* Typographic quotes read like ASCII ones. */
    nm_ner_token curly[8], ascii[8];
    uint8_t lc[8], la[8];
    size_t n1 = split("Hamas ’ constructive approach and Israel ’s reluctance", curly, 8);
    size_t n2 = split("Hamas ' constructive approach and Israel 's reluctance", ascii, 8);
    assert_int_equal(n1, n2);
    nm_ner_tag(shipped, NULL, curly, n1, lc, NULL, 0);
    nm_ner_tag(shipped, NULL, ascii, n2, la, NULL, 0);
    assert_memory_equal(lc, la, n1);
    assert_true(has_entity(lc, n1, 5, 6, NM_NER_LOC) || has_entity(lc, n1, 5, 6, NM_NER_ORG));
    nm_ner_token pal[1] = {{"Palestinians", 12}};
    assert_true(nm_ner_misc_is_group(shipped, pal, 1));
    nm_ner_token cup[2] = {{"World", 5}, {"Cup", 3}};
    assert_false(nm_ner_misc_is_group(shipped, cup, 2));
}

/* Splits lines into sentences of space-separated tokens (pointing into
 * text); returns the number of tokens, *ns the number of sentences. */
static size_t split_document(const char *text, nm_ner_token *t, size_t max, uint32_t *ends,
                             size_t *ns)
{
    size_t n = 0;
    *ns = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        assert_true(len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        size_t k = split(line, t + n, max - n);
        for (size_t i = 0; i < k; i++) /* point back into text */
            t[n + i].text = p + (t[n + i].text - line);
        n += k;
        ends[(*ns)++] = (uint32_t)n;
        p += len + (nl ? 1 : 0);
    }
    return n;
}

/* The reference labels: doc_add over every sentence, then nm_ner_tag each. */
static void tag_by_sentence(const nm_ner_token *t, const uint32_t *ends, size_t ns,
                            uint8_t *labels)
{
    nm_ner_doc *doc = malloc(sizeof *doc);
    nm_ner_doc_reset(doc);
    for (size_t s = 0, a = 0; s < ns; a = ends[s++])
        nm_ner_doc_add(doc, t + a, ends[s] - a);
    for (size_t s = 0, a = 0; s < ns; a = ends[s++])
        nm_ner_tag(shipped, doc, t + a, ends[s] - a, labels + a, NULL, 0);
    free(doc);
}

/* Tagging a whole document at once gives the labels of doc_add + tag. */
static void document_call_matches(void **state)
{
    (void)state;
    const char *text =
        "Turkish Intelligence Chief Holds Talks with Hamas Leaders in Ankara\n"
        "Turkish intelligence chief Ibrahim Kalın recently met with Hamas leaders in Ankara .\n"
        "Humanitarian Aid and Crisis in Gaza\n"
        "The humanitarian crisis in Gaza was a major concern , said Kalın .\n"
        "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .";
    nm_ner_token t[128];
    uint32_t ends[8];
    size_t ns;
    size_t n = split_document(text, t, 128, ends, &ns);
    uint8_t one[128], two[128];
    tag_by_sentence(t, ends, ns, one);
    nm_ner_tag_document(shipped, t, n, ends, ns, two, NULL, 0);
    assert_memory_equal(one, two, n);
    size_t size = nm_ner_document_scratch_size(n, 16);
    uint64_t *scratch = malloc(size);
    memset(two, 0xff, sizeof two);
    nm_ner_tag_document(shipped, t, n, ends, ns, two, scratch, size);
    assert_memory_equal(one, two, n);
    /* Tokens after the last sentence end are one more sentence. */
    memset(two, 0xff, sizeof two);
    nm_ner_tag_document(shipped, t, n, ends, ns - 1, two, NULL, 0);
    assert_memory_equal(one, two, ends[ns - 2]);
    assert_iob2(two, n);
    free(scratch);
    nm_ner_tag_document(shipped, t, 0, ends, 0, two, NULL, 0); /* empty document */
}

/* The memo carries words from one document to the next: the labels stay
 * those of the sentence tagger, whether a word is new, remembered, pushed
 * out by another, longer than the memo keeps, or read in lower case in a
 * heading; and after a switch to another model. */
static void memo_matches_sentence_tagger(void **state)
{
    (void)state;
    const char *docs[] = {
        "Turkish Intelligence Chief Holds Talks with Hamas Leaders in Ankara\n"
        "Turkish intelligence chief Ibrahim Kalın recently met with Hamas leaders in Ankara .\n"
        "Humanitarian Aid and Crisis in Gaza\n"
        "The humanitarian crisis in Gaza was a major concern , said Kalın .",
        "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .\n"
        "Israel’s talks with the Palestinian Authority resumed in Cairo on Monday , "
        "officials said .\n"
        "The Pneumonoultramicroscopicsilicovolcanoconiosis Research Foundation in São "
        "Paulo said the talks were a crisis .\n"
        "Talks , talks and more talks : Kalın met Erdoğan in Ankara .",
    };
    nm_ner_memo *memo = nm_ner_memo_new();
    nm_ner_token t[128];
    uint32_t ends[16];
    uint8_t want[128], got[128];
    for (int round = 0; round < 3; round++)
        for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
            size_t ns, n = split_document(docs[d], t, 128, ends, &ns);
            tag_by_sentence(t, ends, ns, want);
            memset(got, 0xff, sizeof got);
            nm_ner_tag_document_memo(shipped, memo, t, n, ends, ns, got, NULL, 0);
            assert_memory_equal(want, got, n);
        }
    /* More distinct words than the memo has slots, twice: most replace
     * another word or are found again. */
    size_t n_big = 24000;
    nm_ner_token *many = malloc(n_big * sizeof *many);
    char *words = malloc(n_big * 8);
    uint32_t *big_ends = malloc(n_big * sizeof *big_ends);
    uint8_t *big_want = malloc(n_big), *big_got = malloc(n_big);
    size_t ns = 0;
    for (size_t i = 0; i < n_big; i++) {
        snprintf(words + i * 8, 8, i % 3 ? "w%05zu" : "W%05zu", (i * 7919) % 20000);
        many[i].text = words + i * 8;
        many[i].len = 6;
        if (i % 20 == 19 || i + 1 == n_big)
            big_ends[ns++] = (uint32_t)(i + 1);
    }
    tag_by_sentence(many, big_ends, ns, big_want);
    for (int round = 0; round < 2; round++) {
        memset(big_got, 0xff, n_big);
        nm_ner_tag_document_memo(shipped, memo, many, n_big, big_ends, ns, big_got, NULL, 0);
        assert_memory_equal(big_want, big_got, n_big);
    }
    /* Another model object: the memo starts over (same weights here, so
     * the same labels). */
    nm_ner_model *again;
    nm_error err;
    assert_int_equal(nm_ner_model_load(model_path(), &again, &err), 0);
    size_t n = split_document(docs[0], t, 128, ends, &ns);
    tag_by_sentence(t, ends, ns, want);
    nm_ner_tag_document_memo(again, memo, t, n, ends, ns, got, NULL, 0);
    assert_memory_equal(want, got, n);
    nm_ner_model_free(&again);
    nm_ner_memo_free(&memo);
    assert_null(memo);
    nm_ner_memo_free(NULL);
    free(big_got);
    free(big_want);
    free(big_ends);
    free(words);
    free(many);
}

/* A title-case heading: words the article writes in lower case elsewhere
 * are read in lower case ("Crisis" is not a person). */
static void title_case_heading(void **state)
{
    (void)state;
    nm_ner_token head[16], body[32];
    uint8_t labels[16];
    size_t nh = split("Humanitarian Aid and Crisis in Gaza", head, 16);
    size_t nb = split("The humanitarian crisis in Gaza was a major concern , and more aid "
                      "reaches the region .",
                      body, 32);
    nm_ner_doc doc;
    nm_ner_doc_reset(&doc);
    nm_ner_doc_add(&doc, head, nh);
    nm_ner_doc_add(&doc, body, nb);
    nm_ner_tag(shipped, &doc, head, nh, labels, NULL, 0);
    dump(head, labels, nh);
    assert_true(has_entity(labels, nh, 5, 6, NM_NER_LOC));
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(labels[i], NM_NER_O);
}

/* Hostile tokens: bounded time, valid IOB2, no crash (ASan checks memory). */
static void bad_tokens(void **state)
{
    (void)state;
    size_t big = 10000;
    char *huge = malloc(big);
    for (size_t i = 0; i < big; i++)
        huge[i] = (char)('A' + i % 26);
    char *bytes = malloc(big);
    for (size_t i = 0; i < big; i++)
        bytes[i] = (char)(i * 131 + 7); /* arbitrary bytes, invalid UTF-8 and NULs */
    const char *sentences[] = {
        "TURKISH INTELLIGENCE CHIEF IBRAHIM KALIN MET HAMAS LEADERS IN ANKARA",
        "turkish intelligence chief ibrahim kalın met hamas leaders in ankara",
        "Владимир Путин встретился с Эрдоганом в Анкаре .",
        "التقى رئيس المخابرات التركية إبراهيم كالين بقادة حماس في أنقرة",
        "土耳其 情报 局长 在 安卡拉 会见 哈马斯 领导人",
        "I-PER B- O -DOCSTART- \xff\xfe \xc3 \xe2\x80",
    };
    for (size_t s = 0; s < sizeof sentences / sizeof sentences[0]; s++) {
        nm_ner_token t[32];
        uint8_t labels[32];
        size_t n = split(sentences[s], t, 32);
        nm_ner_doc doc;
        nm_ner_doc_reset(&doc);
        nm_ner_doc_add(&doc, t, n);
        nm_ner_tag(shipped, &doc, t, n, labels, NULL, 0);
        assert_iob2(labels, n);
    }
    nm_ner_token t[5] = {{huge, big}, {"met", 3}, {bytes, big}, {"", 0}, {huge, 1}};
    uint8_t labels[5];
    nm_ner_doc doc;
    nm_ner_doc_reset(&doc);
    nm_ner_doc_add(&doc, t, 5);
    nm_ner_tag(shipped, &doc, t, 5, labels, NULL, 0);
    assert_iob2(labels, 5);
    nm_ner_tag(shipped, &doc, t, 0, labels, NULL, 0); /* nothing to do */
    /* A long sentence, and a document too big for the context. */
    size_t n_long = 20000;
    nm_ner_token *many = malloc(n_long * sizeof *many);
    uint8_t *many_labels = malloc(n_long);
    char *words = malloc(n_long * 8);
    for (size_t i = 0; i < n_long; i++) {
        snprintf(words + i * 8, 8, "W%05zu", i);
        many[i].text = words + i * 8;
        many[i].len = 6;
    }
    nm_ner_doc_reset(&doc);
    nm_ner_doc_add(&doc, many, n_long);
    nm_ner_tag(shipped, &doc, many, n_long, many_labels, NULL, 0);
    assert_iob2(many_labels, n_long);
    free(words);
    free(many_labels);
    free(many);
    free(bytes);
    free(huge);
}

static void bad_model_files(void **state)
{
    (void)state;
    nm_error err;
    nm_ner_model *m = (nm_ner_model *)1;
    assert_int_equal(nm_ner_model_load(nm_test_path("absent.bin"), &m, &err), -1);
    assert_null(m);
    assert_int_equal(err.code, NM_ERR_IO);
    assert_non_null(strstr(err.msg, "absent.bin"));

    size_t len;
    char *good = nm_test_read_file(model_path(), &len);
    assert_non_null(good);
    char *bad = malloc(len);
    /* Truncated anywhere: header, gazetteer, weights, checksum. */
    size_t cuts[] = {0, 3, 8, 12, 30, 200, 2000, len / 2, len - 9, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(nm_ner_model_load_bytes(good, cuts[i], "cut", &m, &err), -1);
        assert_null(m);
        assert_int_equal(err.code, NM_ERR_MALFORMED);
    }
    /* One flipped byte anywhere: the checksum catches it. */
    size_t flips[] = {40, 400, len / 3, len - 20, len - 3};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(bad, good, len);
        bad[flips[i]] ^= 0x10;
        assert_int_equal(nm_ner_model_load_bytes(bad, len, "flip", &m, &err), -1);
        assert_int_equal(err.code, NM_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "checksum"));
    }
    memcpy(bad, good, len);
    memcpy(bad, "NMNERMDX", 8);
    assert_int_equal(nm_ner_model_load_bytes(bad, len, "magic", &m, &err), -1);
    assert_non_null(strstr(err.msg, "magic"));
    memcpy(bad, good, len);
    bad[8] = 3; /* a format from the future */
    assert_int_equal(nm_ner_model_load_bytes(bad, len, "v2", &m, &err), -1);
    assert_int_equal(err.code, NM_ERR_VERSION);
    /* The file through the path API fails the same way. */
    nm_test_write_file(nm_test_path("truncated.bin"), good, len / 2);
    assert_int_equal(nm_ner_model_load(nm_test_path("truncated.bin"), &m, &err), -1);
    assert_non_null(strstr(err.msg, "truncated.bin"));
    /* And the intact bytes load. */
    assert_int_equal(nm_ner_model_load_bytes(good, len, "good", &m, &err), 0);
    nm_ner_model_free(&m);
    assert_null(m);
    nm_ner_model_free(&m);
    free(bad);
    free(good);
}

static void spans(void **state)
{
    (void)state;
    /* labels -> expected spans "start-end:type" joined by spaces */
    static const struct {
        uint8_t labels[6];
        size_t n;
        const char *want;
    } cases[] = {
        {{NM_NER_O, NM_NER_B_PER, NM_NER_I_PER, NM_NER_O}, 4, "1-3:PER"},
        {{NM_NER_B_PER, NM_NER_B_PER}, 2, "0-1:PER 1-2:PER"},
        {{NM_NER_I_ORG, NM_NER_I_ORG, NM_NER_O}, 3, "0-2:ORG"},
        {{NM_NER_B_PER, NM_NER_I_ORG}, 2, "0-1:PER 1-2:ORG"},
        {{NM_NER_B_LOC, NM_NER_I_LOC, NM_NER_I_LOC}, 3, "0-3:LOC"},
        {{NM_NER_O, NM_NER_O}, 2, ""},
        {{NM_NER_B_MISC, NM_NER_O, NM_NER_I_MISC}, 3, "0-1:MISC 2-3:MISC"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char got[128] = "";
        size_t pos = 0, s, e;
        nm_ner_type t;
        while (nm_ner_next_span(cases[c].labels, cases[c].n, &pos, &s, &e, &t))
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu-%zu:%s",
                     got[0] ? " " : "", s, e, nm_ner_type_name(t));
        assert_string_equal(got, cases[c].want);
    }
    uint8_t l;
    assert_int_equal(nm_ner_label_parse("B-MISC", 6, &l), 0);
    assert_int_equal(l, NM_NER_B_MISC);
    assert_int_equal(nm_ner_label_parse("B-FOO", 5, &l), -1);
    assert_string_equal(nm_ner_label_name(NM_NER_I_LOC), "I-LOC");
    assert_null(nm_ner_label_name(NM_NER_LABELS));
}

static const char tiny_corpus[] =
    "-DOCSTART- -X- -X- O\n\n"
    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\nvisited VBD B-VP O\n"
    "Berlin NNP B-NP B-LOC\n. . O O\n\n"
    "The DT B-NP O\nEuropean NNP I-NP B-ORG\nCommission NNP I-NP I-ORG\n"
    "backed VBD B-VP O\nGerman JJ B-NP B-MISC\nfarmers NNS I-NP O\n. . O O\n\n"
    "-DOCSTART- -X- -X- O\n\n"
    "Anna NNP B-NP B-PER\nflew VBD B-VP O\nto TO B-PP O\nParis NNP B-NP B-LOC\n\n";

/* Same corpus and seed: the same model, byte for byte. */
static void training_is_deterministic(void **state)
{
    (void)state;
    nm_test_write_file(nm_test_path("tiny.txt"), tiny_corpus, strlen(tiny_corpus));
    char gaz_path[1024];
    snprintf(gaz_path, sizeof gaz_path, "%s/data/ner-gazetteer.txt", nm_test_source_dir());
    nm_ner_train_config cfg = {
        .train_path = nm_test_path("tiny.txt"),
        .dev_path = nm_test_path("tiny.txt"),
        .gazetteer_path = gaz_path,
        .epochs = 5,
        .seed = 7,
        .bits = 12,
        .features = NM_NER_F_ALL,
    };
    nm_error err;
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s", nm_test_path("a.bin"));
    snprintf(b, sizeof b, "%s", nm_test_path("b.bin"));
    cfg.out_path = a;
    assert_int_equal(nm_ner_train(&cfg, &err), 0);
    cfg.out_path = b;
    assert_int_equal(nm_ner_train(&cfg, &err), 0);
    size_t la, lb;
    char *ba = nm_test_read_file(a, &la), *bb = nm_test_read_file(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    nm_ner_model *m;
    assert_int_equal(nm_ner_model_load(a, &m, &err), 0);
    nm_conll_corpus *c;
    assert_int_equal(nm_conll_load(cfg.train_path, &c, &err), 0);
    nm_conll_score sc = {0};
    nm_ner_evaluate(m, c, &sc, NULL);
    assert_int_equal(sc.correct[NM_NER_TYPES], sc.gold[NM_NER_TYPES]); /* learns its data */
    nm_conll_free(&c);
    nm_ner_model_free(&m);
    free(ba);
    free(bb);
    cfg.train_path = nm_test_path("absent.txt");
    assert_int_equal(nm_ner_train(&cfg, &err), -1);
    assert_int_equal(err.code, NM_ERR_IO);
}

typedef struct job {
    const nm_ner_token *t;
    size_t n;
    uint8_t out[64];
} job;

static void *tag_many(void *arg)
{
    job *j = arg;
    uint8_t labels[64];
    for (int k = 0; k < 2000; k++) {
        nm_ner_tag(shipped, NULL, j->t, j->n, labels, NULL, 0);
        if (k == 0)
            memcpy(j->out, labels, j->n);
        else if (memcmp(j->out, labels, j->n) != 0)
            return (void *)1;
    }
    return NULL;
}

/* One model, four threads tagging at once: same labels as alone. */
static void threads_share_a_model(void **state)
{
    (void)state;
    nm_ner_token t[64];
    size_t n = split("Turkish intelligence chief Ibrahim Kalın recently met with Hamas "
                     "leaders in Ankara to discuss talks between Israel and Egypt .",
                     t, 64);
    uint8_t alone[64];
    nm_ner_tag(shipped, NULL, t, n, alone, NULL, 0);
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].t = t;
        jobs[i].n = n;
        assert_int_equal(pthread_create(&th[i], NULL, tag_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_null(ret);
        assert_memory_equal(jobs[i].out, alone, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_sentence),
        cmocka_unit_test(more_sentences),
        cmocka_unit_test(title_case_heading),
        cmocka_unit_test(document_call_matches),
        cmocka_unit_test(memo_matches_sentence_tagger),
        cmocka_unit_test(bad_tokens),
        cmocka_unit_test(bad_model_files),
        cmocka_unit_test(spans),
        cmocka_unit_test(training_is_deterministic),
        cmocka_unit_test(threads_share_a_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

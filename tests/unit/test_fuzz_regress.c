/* Regression tests for what the fuzz targets (tests/fuzz) found, run in
 * every build (plain and ASan+UBSan), plus a replay of the committed seed
 * corpora and crash inputs through the same properties the targets check:
 *   tests/fuzz/corpus/fuzz_frame/ and tests/fuzz/regress/fuzz_frame/
 * Each finding: the input as bytes, and the answer it must now get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_proto.h"
#include "nm_extract.h"
#include "nm_frame.h"
#include "nm_utf8.h"
#include "nm_test.h"

/* fuzz_frame, finding 1: field number 0 written as an overlong tag (0x82
 * 0x00). protobuf-c accepted it as an unknown field and re-encoded it as the
 * one-byte tag 0x02, which it refuses: the envelope decoded, its re-encoding
 * did not (an article a queue re-encodes into its spool could never be
 * delivered). nm_frame_decode now refuses field 0 anywhere in the tree. */
static const uint8_t field_zero_top[] = {
    0x08, 0x01, 0x10, 0x07, 0x10, 0x07, 0x82, 0x00, 0x11, 0x08, 0xbf, 0x01,
    0x12, 0x0a, 0x8c, 0xbd, 0xe9, 0x64, 0xf6, 0x4c, 0x3b, 0x80, 0x1e, 0x0c,
    0x18, 0x01, 0x82, 0x01, 0x11, 0x08, 0xbf, 0x01, 0x12, 0x0a, 0x8c, 0xbd,
    0xe9, 0x64, 0xf6, 0x4c, 0x3b, 0x80, 0x1e, 0x0c, 0x18, 0x01};
/* The same, nested: a SubmitBatch whose Article carries field 0. */
static const uint8_t field_zero_nested[] = {
    0x08, 0x01,       /* version 1 */
    0x52, 0x08,       /* submit (field 10), 8 bytes */
    0x0a, 0x06,       /* articles (field 1), 6 bytes */
    0x0a, 0x01, 'a',  /* id "a" */
    0x80, 0x00, 0x01, /* overlong tag: field 0, varint 1 */
};

static void field_zero_refused(void **state)
{
    (void)state;
    struct {
        const char *what;
        const uint8_t *buf;
        size_t len;
    } cases[] = {
        {"top level", field_zero_top, sizeof field_zero_top},
        {"inside an article", field_zero_nested, sizeof field_zero_nested},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Newsmill__Envelope *env;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_frame_decode(cases[i].buf, cases[i].len, NM_FRAME_MAX_DEFAULT, &env, &err);
        if (rc != -1 || err.code != NM_ERR_MALFORMED || !strstr(err.msg, "field numbered 0"))
            fail_msg("%s: rc=%d code=%s msg='%s'", cases[i].what, rc, nm_errcode_name(err.code),
                     err.msg);
        assert_null(env);
    }
}

/* The fuzz_frame property for one input; returns a reason on violation. */
static const char *frame_property(const uint8_t *buf, size_t len)
{
    Newsmill__Envelope *env, *again;
    nm_error err;
    if (nm_frame_decode(buf, len, NM_FRAME_MAX_DEFAULT, &env, &err) != 0)
        return env ? "failure returned an envelope" : NULL;
    const char *why = NULL;
    uint8_t *b1, *b2;
    size_t l1, l2;
    nm_frame_encode(env, &b1, &l1);
    if (nm_frame_decode(b1, l1, NM_FRAME_MAX_DEFAULT, &again, &err) != 0) {
        why = "re-encoding does not decode";
    } else {
        if (!pb_equal(&env->base, &again->base))
            why = "decode -> encode -> decode changed a field";
        nm_frame_encode(again, &b2, &l2);
        if (!why && (l1 != l2 || memcmp(b1, b2, l1)))
            why = "re-encoding is not stable";
        free(b2);
        nm_frame_free(&again);
    }
    free(b1);
    nm_frame_free(&env);
    return why;
}

static int replay_dir(const char *rel)
{
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/%s", nm_test_source_dir(), rel);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *buf = nm_test_read_file(path, &len);
        assert_non_null(buf);
        const char *why = frame_property((const uint8_t *)buf, len);
        if (why)
            fail_msg("%s: %s", path, why);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

static void frame_corpus_replay(void **state)
{
    (void)state;
    assert_true(replay_dir("tests/fuzz/corpus/fuzz_frame") >= 17); /* every body type */
    assert_true(replay_dir("tests/fuzz/regress/fuzz_frame") >= 1);
}

/* fuzz_extract_html, finding 1: gumbo (the HTML parser then) turned a
 * numeric character reference that overflows an int into a lone byte
 * (&#x...aaaa000096; -> 0x96), so valid UTF-8 in gave invalid UTF-8 out
 * (text and title). nm_html repairs what the parser hands back: the byte
 * becomes U+FFFD. Kept for every parser since. */
static void html_overflowing_char_ref(void **state)
{
    (void)state;
    static const char *const pages[] = {
        "<p>x&#x0000000000000aaaa000096;y</p>",
        "<html><head><title>T&#x0000000000000aaaa000096;</title></head>"
        "<body><article><p>Kal&#x1000000131;n met Hamas in Ankara.</p></article></body></html>",
        "<p>&#99999999999999999999999;&#x7fffffff;&#x80000096;&#-5;</p>",
    };
    nm_error err;
    nm_extractor *ex = nm_extractor_new(NULL, &err);
    assert_non_null(ex);
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        nm_extract_input in = {0};
        in.body = pages[i];
        in.len = strlen(pages[i]);
        in.content_type = NM_CONTENT_HTML;
        nm_extract_result *r;
        if (nm_extract(ex, &in, &r, &err) != 0)
            fail_msg("page %zu: %s", i, err.msg);
        size_t bad = 0;
        if (!nm_utf8_valid(r->text, r->text_len, &bad))
            fail_msg("page %zu: text is not UTF-8 at byte %zu", i, bad);
        assert_true(nm_utf8_valid(r->title, strlen(r->title), NULL));
        nm_extract_result_free(&r);
    }
    nm_extractor_destroy(&ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_overflowing_char_ref),
        cmocka_unit_test(field_zero_refused),
        cmocka_unit_test(frame_corpus_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

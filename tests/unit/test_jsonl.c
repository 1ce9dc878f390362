/* nm_jsonl: one table of lines (good and every way a line can be bad), and
 * the reader over real files: line numbers, blank lines, huge lines, no
 * trailing newline, a bad line never stopping the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nm_jsonl.h"
#include "nm_test.h"

typedef struct line_case {
    const char *name;
    const char *line;
    size_t len;          /* 0: strlen(line) */
    int ok;              /* 1: parses */
    const char *err_has; /* substring of the error message when !ok */
    const char *id;      /* expected id when ok */
    int64_t published_ms;
    int content_type;
    const char *body;
} line_case;

static const line_case cases[] = {
    {"full", "{\"id\":\"a1\",\"url\":\"https://x/1\",\"source\":\"bbc\",\"published\":"
             "\"2024-05-01T10:00:00Z\",\"content_type\":\"html\",\"body\":\"<p>Hi</p>\","
             "\"language\":\"en\",\"metadata\":{\"section\":\"world\",\"n\":3}}",
     0, 1, NULL, "a1", 1714557600000, 2, "<p>Hi</p>"},
    {"body only", "{\"body\":\"Kalın met Israel’s envoy in São Paulo\"}", 0, 1, NULL, "", 0, 0,
     "Kalın met Israel’s envoy in São Paulo"},
    {"unix seconds", "{\"id\":\"s\",\"published\":1714557600,\"body\":\"x\"}", 0, 1, NULL, "s",
     1714557600000, 0, "x"},
    {"fractional seconds", "{\"id\":\"f\",\"published\":1714557600.5,\"body\":\"x\"}", 0, 1, NULL,
     "f", 1714557600500, 0, "x"},
    {"seconds as string", "{\"id\":\"q\",\"published\":\"1714557600\",\"body\":\"x\"}", 0, 1, NULL,
     "q", 1714557600000, 0, "x"},
    {"date only", "{\"id\":\"d\",\"published\":\"2024-05-01\",\"body\":\"x\"}", 0, 1, NULL, "d",
     1714521600000, 0, "x"},
    {"numeric id", "{\"id\":42,\"body\":\"x\",\"content_type\":\"text/plain\"}", 0, 1, NULL, "42", 0,
     1, "x"},
    {"escapes", "{\"id\":\"e\",\"body\":\"line\\nnext \\u00e7 \\ud83d\\ude00\"}", 0, 1, NULL, "e",
     0, 0, "line\nnext ç 😀"},
    {"unknown field ignored", "{\"id\":\"u\",\"body\":\"x\",\"extra\":[1,2]}", 0, 1, NULL, "u", 0, 0,
     "x"},
    {"null fields", "{\"id\":null,\"url\":null,\"body\":\"x\",\"published\":null}", 0, 1, NULL, "",
     0, 0, "x"},
    {"trailing spaces and CR", "{\"id\":\"t\",\"body\":\"x\"}  \r", 0, 1, NULL, "t", 0, 0, "x"},

    {"missing body", "{\"id\":\"a\"}", 0, 0, "missing field 'body'", NULL, 0, 0, NULL},
    {"null body", "{\"body\":null}", 0, 0, "body is null", NULL, 0, 0, NULL},
    {"empty body", "{\"body\":\"\"}", 0, 0, "body is empty", NULL, 0, 0, NULL},
    {"body not a string", "{\"body\":5}", 0, 0, "'body' must be a string", NULL, 0, 0, NULL},
    {"url not a string", "{\"body\":\"x\",\"url\":[]}", 0, 0, "'url' must be a string", NULL, 0, 0,
     NULL},
    {"published words", "{\"body\":\"x\",\"published\":\"yesterday\"}", 0, 0,
     "published 'yesterday' is not an ISO 8601 date", NULL, 0, 0, NULL},
    {"published bool", "{\"body\":\"x\",\"published\":true}", 0, 0,
     "published must be a string or a number", NULL, 0, 0, NULL},
    {"published huge", "{\"body\":\"x\",\"published\":1e300}", 0, 0, "not a Unix time", NULL, 0, 0,
     NULL},
    {"bad content type", "{\"body\":\"x\",\"content_type\":\"pdf\"}", 0, 0,
     "content_type 'pdf' is not", NULL, 0, 0, NULL},
    {"metadata not object", "{\"body\":\"x\",\"metadata\":\"a\"}", 0, 0,
     "metadata must be an object", NULL, 0, 0, NULL},
    {"priority float", "{\"body\":\"x\",\"priority\":1.5}", 0, 0, "priority must be an integer",
     NULL, 0, 0, NULL},
    {"not an object", "[1,2,3]", 0, 0, "expected a JSON object, got array", NULL, 0, 0, NULL},
    {"truncated", "{\"id\":\"a\",\"body\":\"x", 0, 0, "line ends inside a value", NULL, 0, 0, NULL},
    {"garbage", "hello", 0, 0, "not JSON", NULL, 0, 0, NULL},
    {"single quotes", "{'body':'x'}", 0, 0, "not JSON", NULL, 0, 0, NULL},
    {"two objects", "{\"body\":\"x\"} {\"body\":\"y\"}", 0, 0, "unexpected text after the object",
     NULL, 0, 0, NULL},
    {"invalid UTF-8", "{\"body\":\"caf\xc3\x28\"}", 0, 0, "invalid UTF-8 at byte 12", NULL, 0, 0,
     NULL},
    {"overlong UTF-8", "{\"body\":\"\xc0\xaf\"}", 0, 0, "invalid UTF-8 at byte 9", NULL, 0, 0, NULL},
    {"raw NUL byte", "{\"body\":\"a\0b\"}", 14, 0, "NUL byte at offset 10", NULL, 0, 0, NULL},
    {"escaped NUL in body", "{\"body\":\"a\\u0000b\"}", 0, 0, "'body' contains U+0000", NULL, 0, 0,
     NULL},
    {"too deep", "{\"body\":\"x\",\"metadata\":{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}",
     0, 0, "not JSON", NULL, 0, 0, NULL},
};

static void line_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const line_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->line);
        Newsmill__Article *a = (Newsmill__Article *)1;
        nm_error err;
        nm_error_clear(&err);
        int rc = nm_jsonl_parse_article(c->line, len, &a, &err);
        if (rc != (c->ok ? 0 : -1) || (!c->ok && !strstr(err.msg, c->err_has)))
            fail_msg("case '%s': rc=%d err='%s' (wanted '%s')", c->name, rc, err.msg,
                     c->err_has ? c->err_has : "success");
        if (!c->ok) {
            assert_null(a);
            continue;
        }
        assert_non_null(a);
        assert_string_equal(a->id, c->id);
        assert_int_equal(a->published_unix_ms, c->published_ms);
        assert_int_equal(a->content_type, c->content_type);
        assert_int_equal(a->body.len, strlen(c->body));
        assert_memory_equal(a->body.data, c->body, a->body.len);
        assert_non_null(a->url);
        assert_non_null(a->source);
        assert_non_null(a->language);
        nm_jsonl_article_free(&a);
        assert_null(a);
    }
}

static void metadata_kept(void **state)
{
    (void)state;
    const char *line = "{\"body\":\"x\",\"source\":\"bbc\",\"language\":\"tr\",\"priority\":-3,"
                       "\"metadata\":{\"section\":\"world\",\"n\":3,\"tags\":[\"a\",\"b\"]}}";
    Newsmill__Article *a;
    nm_error err;
    assert_int_equal(nm_jsonl_parse_article(line, strlen(line), &a, &err), 0);
    assert_string_equal(a->source, "bbc");
    assert_string_equal(a->language, "tr");
    assert_int_equal(a->priority, -3);
    assert_int_equal(a->n_metadata, 3);
    assert_string_equal(a->metadata[0]->key, "section");
    assert_string_equal(a->metadata[0]->value, "world");
    assert_string_equal(a->metadata[1]->value, "3");
    assert_string_equal(a->metadata[2]->value, "[\"a\",\"b\"]");
    nm_jsonl_article_free(&a);
    nm_jsonl_article_free(&a); /* NULL is fine */
}

static int open_file(const char *name, const char *data, size_t len)
{
    const char *path = nm_test_path(name);
    nm_test_write_file(path, data, len);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

/* Reads every line; records "ok:ID" or "err:LINE:code" per result. */
static char *read_all(int fd, size_t max_line)
{
    nm_jsonl_reader *r = nm_jsonl_reader_new(fd, max_line);
    size_t cap = 4096, used = 0;
    char *log = calloc(cap, 1);
    for (;;) {
        Newsmill__Article *a;
        nm_error err;
        int rc = nm_jsonl_reader_next(r, &a, &err);
        if (rc == 0 && !a)
            break;
        char item[256];
        if (rc == 0)
            snprintf(item, sizeof item, "ok:%s ", a->id);
        else
            snprintf(item, sizeof item, "err:%zu:%s ", nm_jsonl_reader_line(r),
                     nm_errcode_name(err.code));
        if (rc < 0 && err.code != NM_ERR_IO) {
            char want[32];
            snprintf(want, sizeof want, "line %zu: ", nm_jsonl_reader_line(r));
            assert_true(strncmp(err.msg, want, strlen(want)) == 0);
        }
        assert_true(used + strlen(item) < cap);
        memcpy(log + used, item, strlen(item) + 1);
        used += strlen(item);
        nm_jsonl_article_free(&a);
        if (rc < 0 && err.code == NM_ERR_IO)
            break;
    }
    nm_jsonl_reader_destroy(&r);
    assert_null(r);
    close(fd);
    return log;
}

static void reader_line_numbers(void **state)
{
    (void)state;
    const char data[] = "{\"id\":\"a\",\"body\":\"x\"}\n"
                        "\n"
                        "   \n"
                        "{\"id\":\"b\",\"body\":\"x\",\"published\":\"soon\"}\n"
                        "not json\n"
                        "{\"id\":\"c\",\"body\":\"x\"}\r\n"
                        "{\"id\":\"d\",\"body\":\"\xff\"}\n"
                        "{\"id\":\"e\",\"body\":\"x\"}"; /* no trailing newline */
    char *log = read_all(open_file("lines.jsonl", data, sizeof data - 1), 0);
    assert_string_equal(log, "ok:a err:4:invalid err:5:malformed ok:c err:7:invalid-utf8 ok:e ");
    free(log);

    log = read_all(open_file("empty.jsonl", "", 0), 0);
    assert_string_equal(log, "");
    free(log);
}

static void reader_huge_lines(void **state)
{
    (void)state;
    /* max_line 100: a 5000-byte line is skipped and reported; its neighbours pass. */
    size_t big = 5000;
    char *data = malloc(big + 200);
    size_t n = 0;
    n += (size_t)sprintf(data + n, "{\"id\":\"a\",\"body\":\"x\"}\n{\"id\":\"big\",\"body\":\"");
    memset(data + n, 'x', big);
    n += big;
    n += (size_t)sprintf(data + n, "\"}\n{\"id\":\"b\",\"body\":\"x\"}\n");
    char *log = read_all(open_file("huge.jsonl", data, n), 100);
    assert_string_equal(log, "ok:a err:2:too-large ok:b ");
    free(log);

    /* The same file with room for the line: it parses, whatever the chunking. */
    log = read_all(open_file("huge2.jsonl", data, n), 1 << 20);
    assert_string_equal(log, "ok:a ok:big ok:b ");
    free(log);

    /* A huge last line without a newline. */
    log = read_all(open_file("huge3.jsonl", data, n - 26), 100);
    assert_string_equal(log, "ok:a err:2:too-large ");
    free(log);
    free(data);
}

static void reader_from_pipe(void **state)
{
    (void)state;
    /* Lines arriving in small writes through a pipe (as from stdin). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        const char *parts[] = {"{\"id\":\"p1\",", "\"body\":\"x\"}\n{\"id\"", ":\"p2\",\"body\":\"y\"}\n"};
        for (size_t i = 0; i < 3; i++) {
            if (write(fds[1], parts[i], strlen(parts[i])) < 0)
                _exit(1);
            usleep(20000);
        }
        _exit(0);
    }
    close(fds[1]);
    char *log = read_all(fds[0], 0);
    assert_string_equal(log, "ok:p1 ok:p2 ");
    free(log);
    int status;
    waitpid(pid, &status, 0);
}

static void reader_ready(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    nm_jsonl_reader *r = nm_jsonl_reader_new(fds[0], 0);
    assert_false(nm_jsonl_reader_ready(r, 0)); /* nothing written yet */
    const char *two = "{\"id\":\"a\",\"body\":\"x\"}\n{\"id\":\"b\",\"body\":\"y\"}\n{\"id\"";
    assert_int_equal(write(fds[1], two, strlen(two)), (ssize_t)strlen(two));
    assert_true(nm_jsonl_reader_ready(r, 0));
    Newsmill__Article *a;
    nm_error err;
    assert_int_equal(nm_jsonl_reader_next(r, &a, &err), 0);
    assert_string_equal(a->id, "a");
    nm_jsonl_article_free(&a);
    assert_true(nm_jsonl_reader_ready(r, 0)); /* "b" is buffered */
    assert_int_equal(nm_jsonl_reader_next(r, &a, &err), 0);
    nm_jsonl_article_free(&a);
    assert_false(nm_jsonl_reader_ready(r, 10)); /* half a line: not ready */
    close(fds[1]);
    assert_true(nm_jsonl_reader_ready(r, 0)); /* hung up: the next read ends it */
    assert_int_equal(nm_jsonl_reader_next(r, &a, &err), -1); /* the half line */
    assert_int_equal(nm_jsonl_reader_next(r, &a, &err), 0);
    assert_null(a);
    assert_true(nm_jsonl_reader_ready(r, 0));
    nm_jsonl_reader_destroy(&r);
    close(fds[0]);
}

static void reader_io_error(void **state)
{
    (void)state;
    /* A directory can be opened but not read: NM_ERR_IO, then the end. */
    int fd = open(nm_test_tmpdir(), O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    char *log = read_all(fd, 0);
    assert_string_equal(log, "err:0:io ");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_table),      cmocka_unit_test(metadata_kept),
        cmocka_unit_test(reader_line_numbers), cmocka_unit_test(reader_huge_lines),
        cmocka_unit_test(reader_from_pipe), cmocka_unit_test(reader_ready),
        cmocka_unit_test(reader_io_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

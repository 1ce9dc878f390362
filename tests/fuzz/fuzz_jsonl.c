/*
 * fuzz_jsonl: the CLI's JSON-lines article reader (nm_jsonl) on arbitrary
 * bytes, both ways it is used:
 *   1. nm_jsonl_parse_article on the whole input as one line: fails with a
 *      documented code and a message, or gives an Article whose body is
 *      non-empty and whose strings are valid UTF-8 without NUL;
 *   2. nm_jsonl_reader over the input as a file (memfd) with a small line
 *      limit: every call returns an article, end of input, or an error naming
 *      its line ("line N: ..."); line numbers only grow; the reader always
 *      reaches the end.
 * Seeds: JSON lines of every field form; dictionary: the field names.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nm_jsonl.h"
#include "nm_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
    fprintf(stderr, "jsonl invariant broken: %s\n", why);
    abort();
}

static void check_string(const char *s)
{
    if (s && !nm_utf8_valid(s, strlen(s), NULL))
        fail("a string field is not valid UTF-8");
}

static void check_article(const Newsmill__Article *a)
{
    if (!a->body.len || !a->body.data)
        fail("article without a body");
    if (a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_UNSPECIFIED &&
        a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT &&
        a->content_type != NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML)
        fail("content type out of range");
    check_string(a->id);
    check_string(a->source);
    check_string(a->url);
    check_string(a->language);
    for (size_t i = 0; i < a->n_metadata; i++) {
        if (!a->metadata[i] || !a->metadata[i]->key || !a->metadata[i]->value)
            fail("metadata entry with NULL");
        check_string(a->metadata[i]->key);
        check_string(a->metadata[i]->value);
    }
}

static void check_error(const nm_error *err, const Newsmill__Article *a)
{
    if (a)
        fail("failure returned an article");
    if (!err->msg[0])
        fail("failure without a message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Newsmill__Article *a = NULL;
    nm_error err;
    nm_error_clear(&err);
    if (nm_jsonl_parse_article((const char *)data, size, &a, &err) == 0) {
        check_article(a);
        nm_jsonl_article_free(&a);
        if (a)
            fail("article_free did not clear the pointer");
    } else {
        check_error(&err, a);
        if (err.code != NM_ERR_MALFORMED && err.code != NM_ERR_UTF8 && err.code != NM_ERR_INVALID)
            fail("undocumented failure code from parse_article");
    }

    int fd = memfd_create("fuzz_jsonl", MFD_CLOEXEC);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
        abort();
    nm_jsonl_reader *r = nm_jsonl_reader_new(fd, 512);
    size_t last_line = 0, calls = 0;
    for (;;) {
        if (++calls > size + 2)
            fail("the reader does not reach the end of its input");
        nm_error_clear(&err);
        a = NULL;
        int rc = nm_jsonl_reader_next(r, &a, &err);
        size_t line = nm_jsonl_reader_line(r);
        if (line < last_line)
            fail("line numbers went backwards");
        last_line = line;
        if (rc == 0 && !a)
            break; /* end of input */
        if (rc == 0) {
            check_article(a);
            nm_jsonl_article_free(&a);
            continue;
        }
        check_error(&err, a);
        if (err.code == NM_ERR_IO)
            break;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "line %zu", line);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
            fail("a reader error does not name its line");
    }
    nm_jsonl_reader_destroy(&r);
    if (r)
        fail("reader_destroy did not clear the pointer");
    close(fd);
    return 0;
}

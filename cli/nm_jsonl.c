#include "nm_jsonl.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nm_alloc.h"
#include "nm_time.h"
#include "nm_utf8.h"

/* json-c's nesting limit for one line: articles are flat; metadata values
 * may nest a little. */
#define JSONL_MAX_DEPTH 16

struct nm_jsonl_reader {
    int fd;
    size_t max_line;
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start..end) */
    size_t line;            /* number of the line last returned */
    bool eof;
};

void nm_jsonl_article_free(Newsmill__Article **article)
{
    if (!article || !*article)
        return;
    Newsmill__Article *a = *article;
    free(a->id);
    free(a->url);
    free(a->source);
    free(a->language);
    free(a->body.data);
    for (size_t i = 0; i < a->n_metadata; i++) {
        free(a->metadata[i]->key);
        free(a->metadata[i]->value);
        free(a->metadata[i]);
    }
    free(a->metadata);
    free(a);
    *article = NULL;
}

/* A string field's value as a new C string, or NULL (absent or null). */
static int get_string(json_object *obj, const char *field, char **out, nm_error *err)
{
    *out = NULL;
    json_object *v;
    if (!json_object_object_get_ex(obj, field, &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return nm_error_set(err, NM_ERR_INVALID, "field '%s' must be a string, not %s", field,
                            json_type_to_name(json_object_get_type(v)));
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', len))
        return nm_error_set(err, NM_ERR_INVALID, "field '%s' contains U+0000", field);
    *out = nm_xstrndup(s, len);
    return 0;
}

/* "published": ISO 8601 string, digits string or number of Unix seconds. */
static int get_published(json_object *obj, int64_t *unix_ms, nm_error *err)
{
    *unix_ms = 0;
    json_object *v;
    if (!json_object_object_get_ex(obj, "published", &v) || v == NULL)
        return 0;
    switch (json_object_get_type(v)) {
    case json_type_int:
    case json_type_double: {
        double secs = json_object_get_double(v);
        if (!isfinite(secs) || fabs(secs) > 1e13)
            return nm_error_set(err, NM_ERR_INVALID, "published %s is not a Unix time in seconds",
                                json_object_to_json_string(v));
        *unix_ms = (int64_t)llround(secs * 1000.0);
        return 0;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (!*s)
            return 0;
        nm_error terr;
        if (nm_time_parse(s, unix_ms, &terr) < 0)
            return nm_error_set(err, NM_ERR_INVALID,
                                "published '%.80s' is not an ISO 8601 date or Unix seconds", s);
        return 0;
    }
    default:
        return nm_error_set(err, NM_ERR_INVALID, "published must be a string or a number, not %s",
                            json_type_to_name(json_object_get_type(v)));
    }
}

static int get_content_type(json_object *obj, Newsmill__ContentType *out, nm_error *err)
{
    *out = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_UNSPECIFIED;
    json_object *v;
    if (!json_object_object_get_ex(obj, "content_type", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return nm_error_set(err, NM_ERR_INVALID, "content_type must be a string");
    const char *s = json_object_get_string(v);
    if (!*s)
        return 0;
    if (!strcasecmp(s, "text") || !strcasecmp(s, "text/plain"))
        *out = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_TEXT;
    else if (!strcasecmp(s, "html") || !strcasecmp(s, "text/html"))
        *out = NEWSMILL__CONTENT_TYPE__CONTENT_TYPE_HTML;
    else
        return nm_error_set(err, NM_ERR_INVALID,
                            "content_type '%.40s' is not text, html, text/plain or text/html", s);
    return 0;
}

static int get_metadata(json_object *obj, Newsmill__Article *a, nm_error *err)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, "metadata", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_object))
        return nm_error_set(err, NM_ERR_INVALID, "metadata must be an object");
    size_t n = (size_t)json_object_object_length(v);
    if (n == 0)
        return 0;
    a->metadata = nm_xcalloc(n, sizeof *a->metadata);
    json_object_object_foreach(v, key, val)
    {
        if (val == NULL)
            continue;
        const char *text;
        size_t len;
        if (json_object_is_type(val, json_type_string)) {
            text = json_object_get_string(val);
            len = (size_t)json_object_get_string_len(val);
        } else {
            text = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
            len = strlen(text);
        }
        if (memchr(text, '\0', len))
            return nm_error_set(err, NM_ERR_INVALID, "metadata '%.40s' contains U+0000", key);
        Newsmill__KeyValue *kv = nm_xmalloc(sizeof *kv);
        newsmill__key_value__init(kv);
        kv->key = nm_xstrdup(key);
        kv->value = nm_xstrndup(text, len);
        a->metadata[a->n_metadata++] = kv;
    }
    return 0;
}

static int get_priority(json_object *obj, int32_t *out, nm_error *err)
{
    *out = 0;
    json_object *v;
    if (!json_object_object_get_ex(obj, "priority", &v) || v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return nm_error_set(err, NM_ERR_INVALID, "priority must be an integer");
    int64_t p = json_object_get_int64(v);
    if (p < INT32_MIN || p > INT32_MAX)
        return nm_error_set(err, NM_ERR_INVALID, "priority %lld is out of range", (long long)p);
    *out = (int32_t)p;
    return 0;
}

/* The id may also be a JSON integer (many exports number their rows). */
static int get_id(json_object *obj, char **out, nm_error *err)
{
    json_object *v;
    if (json_object_object_get_ex(obj, "id", &v) && v && json_object_is_type(v, json_type_int)) {
        *out = nm_xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        return 0;
    }
    return get_string(obj, "id", out, err);
}

static int fill_article(json_object *obj, Newsmill__Article *a, nm_error *err)
{
    char *body = NULL;
    if (get_id(obj, &a->id, err) < 0 || get_string(obj, "url", &a->url, err) < 0 ||
        get_string(obj, "source", &a->source, err) < 0 ||
        get_string(obj, "language", &a->language, err) < 0 ||
        get_published(obj, &a->published_unix_ms, err) < 0 ||
        get_content_type(obj, &a->content_type, err) < 0 || get_metadata(obj, a, err) < 0 ||
        get_priority(obj, &a->priority, err) < 0 || get_string(obj, "body", &body, err) < 0)
        return -1;
    if (!body) {
        json_object *v;
        return nm_error_set(err, NM_ERR_INVALID, json_object_object_get_ex(obj, "body", &v)
                                                     ? "body is null"
                                                     : "missing field 'body'");
    }
    a->body.data = (uint8_t *)body;
    a->body.len = strlen(body);
    if (a->body.len == 0)
        return nm_error_set(err, NM_ERR_INVALID, "body is empty");
    /* Absent strings become "" (protobuf-c needs non-NULL strings). */
    char **strs[] = {&a->id, &a->url, &a->source, &a->language};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!*strs[i])
            *strs[i] = nm_xstrdup("");
    return 0;
}

int nm_jsonl_parse_article(const char *line, size_t len, Newsmill__Article **out, nm_error *err)
{
    *out = NULL;
    if (memchr(line, '\0', len))
        return nm_error_set(err, NM_ERR_MALFORMED, "contains a NUL byte at offset %zu",
                            (size_t)((const char *)memchr(line, '\0', len) - line));
    size_t bad;
    if (!nm_utf8_valid(line, len, &bad))
        return nm_error_set(err, NM_ERR_UTF8, "invalid UTF-8 at byte %zu", bad);
    if (len > INT32_MAX)
        return nm_error_set(err, NM_ERR_TOO_LARGE, "line of %zu bytes is too long", len);

    json_tokener *tok = json_tokener_new_ex(JSONL_MAX_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    json_object *obj = json_tokener_parse_ex(tok, line, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = -1;
    if (!obj) {
        if (jerr == json_tokener_continue || jerr == json_tokener_success)
            nm_error_set(err, NM_ERR_MALFORMED, "not JSON: the line ends inside a value");
        else
            nm_error_set(err, NM_ERR_MALFORMED, "not JSON: %s near byte %zu",
                         json_tokener_error_desc(jerr), end);
        return -1;
    }
    while (end < len && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
        end++;
    if (end < len) {
        nm_error_set(err, NM_ERR_MALFORMED, "not JSON: unexpected text after the object at byte %zu",
                     end);
        goto done;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        nm_error_set(err, NM_ERR_MALFORMED, "expected a JSON object, got %s",
                     json_type_to_name(json_object_get_type(obj)));
        goto done;
    }
    Newsmill__Article *a = nm_xmalloc(sizeof *a);
    newsmill__article__init(a);
    a->id = a->url = a->source = a->language = NULL; /* not protobuf-c's static "" */
    if (fill_article(obj, a, err) < 0) {
        nm_jsonl_article_free(&a);
        goto done;
    }
    *out = a;
    rc = 0;
done:
    json_object_put(obj);
    return rc;
}

nm_jsonl_reader *nm_jsonl_reader_new(int fd, size_t max_line)
{
    nm_jsonl_reader *r = nm_xcalloc(1, sizeof *r);
    r->fd = fd;
    r->max_line = max_line ? max_line : NM_JSONL_MAX_LINE_DEFAULT;
    r->cap = r->max_line < 65536 ? r->max_line + 1 : 65536;
    r->buf = nm_xmalloc(r->cap);
    return r;
}

void nm_jsonl_reader_destroy(nm_jsonl_reader **reader)
{
    if (!reader || !*reader)
        return;
    free((*reader)->buf);
    free(*reader);
    *reader = NULL;
}

size_t nm_jsonl_reader_line(const nm_jsonl_reader *reader)
{
    return reader->line;
}

bool nm_jsonl_reader_ready(const nm_jsonl_reader *reader, int timeout_ms)
{
    if (reader->eof || memchr(reader->buf + reader->start, '\n', reader->end - reader->start))
        return true;
    struct pollfd p = {.fd = reader->fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return errno != EINTR; /* a signal: not ready; other errors: the read reports them */
    return n > 0;              /* readable or hung up */
}

/* Reads more bytes after buf[end]. Returns bytes read, 0 at EOF, -1 on error. */
static ssize_t fill(nm_jsonl_reader *r, nm_error *err)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        size_t cap = r->cap * 2 > r->max_line + 1 ? r->max_line + 1 : r->cap * 2;
        r->buf = nm_xrealloc(r->buf, cap);
        r->cap = cap;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n >= 0) {
            r->end += (size_t)n;
            return n;
        }
        if (errno != EINTR) {
            nm_error_set(err, NM_ERR_IO, "reading input after line %zu: %s", r->line,
                         strerror(errno));
            return -1;
        }
    }
}

/* The next raw line: 1 with line and len set (valid until the next call), 0 at
 * EOF, -1 on a read error, 2 when the line was longer than max_line (it has
 * been consumed). */
static int next_line(nm_jsonl_reader *r, const char **line, size_t *len, nm_error *err)
{
    bool too_long = false;
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            r->line++;
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start = (size_t)(nl - r->buf) + 1;
            return too_long ? 2 : 1;
        }
        if (r->end - r->start > r->max_line) { /* too long: drop it, look for the newline */
            too_long = true;
            r->start = r->end = 0;
        }
        if (r->eof)
            break;
        ssize_t n = fill(r, err);
        if (n < 0) {
            r->eof = true;
            r->start = r->end = 0;
            return -1;
        }
        if (n == 0)
            r->eof = true;
    }
    if (r->end > r->start || too_long) { /* last line without '\n' */
        r->line++;
        *line = r->buf + r->start;
        *len = r->end - r->start;
        r->start = r->end;
        return too_long ? 2 : 1;
    }
    return 0;
}

int nm_jsonl_reader_next(nm_jsonl_reader *reader, Newsmill__Article **out, nm_error *err)
{
    *out = NULL;
    for (;;) {
        const char *line;
        size_t len;
        int rc = next_line(reader, &line, &len, err);
        if (rc <= 0)
            return rc;
        if (rc == 2)
            return nm_error_set(err, NM_ERR_TOO_LARGE, "line %zu: longer than %zu bytes, skipped",
                                reader->line, reader->max_line);
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len)
            continue; /* blank line */
        if (nm_jsonl_parse_article(line, len, out, err) < 0)
            return nm_error_prefix(err, "line %zu", reader->line);
        return 0;
    }
}

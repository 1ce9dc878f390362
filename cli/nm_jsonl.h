/*
 * nm_jsonl: articles from JSON lines, the format producers script against.
 *
 * One JSON object per line (UTF-8, RFC 8259, parsed by json-c):
 *
 *   {"id": "a1", "url": "https://...", "source": "bbc",
 *    "published": "2024-05-01T10:00:00Z" | 1714557600,
 *    "content_type": "text" | "html", "body": "...", "language": "en",
 *    "metadata": {"section": "world"}, "priority": 0}
 *
 * Only "body" is required (a non-empty string). "published" is an ISO 8601
 * date or date-time string, or Unix seconds (a JSON number or a string of
 * digits); anything else is an error for that line. "content_type" accepts
 * "text", "html", "text/plain", "text/html" (absent: guess from the bytes).
 * "metadata" is an object; non-string values are kept as their JSON text.
 * Unknown fields are ignored (newer producers may send more). Blank lines are
 * skipped.
 *
 * Guarantees: a bad line never stops the reader; the error names the line
 * number and what was wrong ("line 7: published 'yesterday' is not a date").
 * Memory is bounded by max_line: a longer line is skipped (read, not kept)
 * and reported. Lines must be valid UTF-8 and contain no NUL byte, and no
 * string field may contain U+0000.
 */
#ifndef NM_JSONL_H
#define NM_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "newsmill.pb-c.h"
#include "nm_error.h"

/* Default longest line accepted (an article and its JSON escaping). */
#define NM_JSONL_MAX_LINE_DEFAULT ((size_t)64 << 20)

typedef struct nm_jsonl_reader nm_jsonl_reader;

/* Parses one line (without its newline; need not be NUL-terminated) into a
 * new Article. On success *out is the caller's, to free with
 * nm_jsonl_article_free(). On failure *out is NULL and err (NM_ERR_MALFORMED,
 * NM_ERR_UTF8 or NM_ERR_INVALID) says what was wrong, without a line number. */
int nm_jsonl_parse_article(const char *line, size_t len, Newsmill__Article **out, nm_error *err);

/* Frees an article made by this module; accepts NULL; clears *article. */
void nm_jsonl_article_free(Newsmill__Article **article);

/* A reader of lines from fd (not closed by the reader; the caller keeps it
 * open while reading). max_line 0 means NM_JSONL_MAX_LINE_DEFAULT. Caller owns
 * the result. */
nm_jsonl_reader *nm_jsonl_reader_new(int fd, size_t max_line);

/* Accepts NULL; clears *reader. */
void nm_jsonl_reader_destroy(nm_jsonl_reader **reader);

/* Reads the next article. Returns 0 with *out set (caller owns, free with
 * nm_jsonl_article_free), or 0 with *out NULL at the end of input. Returns -1
 * with *out NULL and err "line N: why" for a bad line (reading may go on
 * with the next call), or with err->code NM_ERR_IO when reading itself
 * failed (the reader is then at its end). */
int nm_jsonl_reader_next(nm_jsonl_reader *reader, Newsmill__Article **out, nm_error *err);

/* Number of the line last returned (1-based; 0 before the first). */
size_t nm_jsonl_reader_line(const nm_jsonl_reader *reader);

/* Whether nm_jsonl_reader_next would return without waiting for input: a
 * whole line is buffered, the input ended, or the fd becomes readable within
 * timeout_ms. Lets a producer send what it has while a stream is quiet. */
bool nm_jsonl_reader_ready(const nm_jsonl_reader *reader, int timeout_ms);

#endif

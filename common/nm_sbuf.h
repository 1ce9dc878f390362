/*
 * nm_sbuf: a growable, always NUL-terminated text buffer.
 *
 * For building documents piece by piece (Prometheus text, JSON, terminal
 * screens). A value type: put it on the stack with NM_SBUF_INIT, append, then
 * either take the text (caller owns it) or free it. Growth follows nm_alloc's
 * policy (abort on out-of-memory), so appending never fails.
 */
#ifndef NM_SBUF_H
#define NM_SBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_sbuf {
    char *data; /* NUL-terminated once anything was appended; NULL before */
    size_t len; /* bytes without the NUL */
    size_t cap;
} nm_sbuf;

#define NM_SBUF_INIT {NULL, 0, 0}

/* Appends n bytes of s. */
void nm_sbuf_append(nm_sbuf *b, const char *s, size_t n);

/* Appends a C string. */
void nm_sbuf_puts(nm_sbuf *b, const char *s);

/* Appends printf-style text. */
void nm_sbuf_printf(nm_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s[0..len) as a JSON string: the project's one JSON string
 * escaper. Quoted; '"' and '\\' escaped, \n \t \r as such, other control
 * characters as \u00XX (RFC 8259); invalid UTF-8 bytes become U+FFFD, so
 * the output is always valid UTF-8 JSON. */
void nm_sbuf_json_str_n(nm_sbuf *b, const char *s, size_t len);

/* nm_sbuf_json_str_n of a NUL-terminated s; NULL is written as "". */
void nm_sbuf_json_str(nm_sbuf *b, const char *s);

/* Makes room for extra more bytes (a hint; appending grows as needed). */
void nm_sbuf_reserve(nm_sbuf *b, size_t extra);

/* Appends v as a JSON number: integers exactly, others as the shortest text
 * that reads back as v; NaN and infinities as 0. */
void nm_sbuf_json_num(nm_sbuf *b, double v);

/* Appends v in decimal; for hot paths, where printf's parsing shows. */
void nm_sbuf_uint(nm_sbuf *b, uint64_t v);

/* Empties b but keeps its memory, for building the next text in it. */
void nm_sbuf_reset(nm_sbuf *b);

/* The text so far ("" when empty); owned by the buffer. */
const char *nm_sbuf_str(const nm_sbuf *b);

/* Hands the text to the caller (free() it; never NULL) and empties b. */
char *nm_sbuf_take(nm_sbuf *b);

/* Frees the text; b is empty and reusable afterwards. */
void nm_sbuf_free(nm_sbuf *b);

#endif

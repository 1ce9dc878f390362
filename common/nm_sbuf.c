#include "nm_sbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_utf8.h"

static void reserve(nm_sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = nm_xrealloc(b->data, cap);
    b->cap = cap;
}

void nm_sbuf_append(nm_sbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nm_sbuf_uint(nm_sbuf *b, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof digits - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    nm_sbuf_append(b, digits + sizeof digits - n, n);
}

void nm_sbuf_reset(nm_sbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void nm_sbuf_puts(nm_sbuf *b, const char *s) { nm_sbuf_append(b, s, strlen(s)); }

void nm_sbuf_printf(nm_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        nm_sbuf_append(b, small, (size_t)n);
        return;
    }
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nm_sbuf_json_str_n(nm_sbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    reserve(b, len + 2);
    nm_sbuf_append(b, "\"", 1);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i;
            while (j < len && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x80 && s[j] != '"' &&
                   s[j] != '\\')
                j++;
            nm_sbuf_append(b, s + i, j - i);
            i = j;
            continue;
        }
        if (c < 0x80) {
            char esc[8];
            switch (c) {
            case '"': nm_sbuf_append(b, "\\\"", 2); break;
            case '\\': nm_sbuf_append(b, "\\\\", 2); break;
            case '\n': nm_sbuf_append(b, "\\n", 2); break;
            case '\t': nm_sbuf_append(b, "\\t", 2); break;
            case '\r': nm_sbuf_append(b, "\\r", 2); break;
            default:
                esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
                nm_sbuf_append(b, esc, 6);
            }
            i++;
            continue;
        }
        size_t bad;
        size_t take = len - i < 4 ? len - i : 4;
        /* the length of this sequence: the shortest valid prefix */
        size_t seq = 0;
        for (size_t k = 1; k <= take; k++) {
            if (nm_utf8_valid(s + i, k, &bad)) {
                seq = k;
                break;
            }
        }
        if (seq) {
            nm_sbuf_append(b, s + i, seq);
            i += seq;
        } else {
            nm_sbuf_append(b, "\xEF\xBF\xBD", 3);
            i++;
        }
    }
    nm_sbuf_append(b, "\"", 1);
}

void nm_sbuf_json_str(nm_sbuf *b, const char *s)
{
    nm_sbuf_json_str_n(b, s ? s : "", s ? strlen(s) : 0);
}

void nm_sbuf_reserve(nm_sbuf *b, size_t extra)
{
    reserve(b, extra);
}

void nm_sbuf_json_num(nm_sbuf *b, double v)
{
    if (!isfinite(v))
        v = 0;
    if (fabs(v) < 1e15 && v == trunc(v)) {
        nm_sbuf_printf(b, "%lld", (long long)v);
        return;
    }
    char num[32];
    for (int prec = 6; prec <= 17; prec++) { /* the shortest text that reads back as v */
        snprintf(num, sizeof num, "%.*g", prec, v);
        if (strtod(num, NULL) == v)
            break;
    }
    nm_sbuf_puts(b, num);
}

const char *nm_sbuf_str(const nm_sbuf *b) { return b->data ? b->data : ""; }

char *nm_sbuf_take(nm_sbuf *b)
{
    char *s = b->data ? b->data : nm_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void nm_sbuf_free(nm_sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

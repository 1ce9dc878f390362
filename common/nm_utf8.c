#include "nm_utf8.h"

#include <string.h>

#include "nm_alloc.h"

/* Length of the valid sequence at p (1..4), or 0 if invalid. */
static size_t sequence_length(const unsigned char *p, size_t avail, uint32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

bool nm_utf8_valid(const char *buf, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        uint32_t cp;
        size_t n = sequence_length(p + i, len - i, &cp);
        if (!n) {
            if (bad_offset)
                *bad_offset = i;
            return false;
        }
        i += n;
    }
    return true;
}

uint32_t nm_utf8_next(const char *buf, size_t len, size_t *pos)
{
    uint32_t cp;
    size_t n = sequence_length((const unsigned char *)buf + *pos, len - *pos, &cp);
    if (!n) {
        *pos += 1;
        return 0xFFFD;
    }
    *pos += n;
    return cp;
}

size_t nm_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

char *nm_utf8_repair(const char *buf, size_t len, size_t *out_len, size_t *n_repaired)
{
    /* Worst case: every byte becomes a 3-byte U+FFFD. */
    char *out = nm_xmalloc(len * 3 + 1);
    size_t o = 0, i = 0, repaired = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sequence_length((const unsigned char *)buf + i, len - i, &cp);
        if (n) {
            memcpy(out + o, buf + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += 1;
            repaired++;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    if (n_repaired)
        *n_repaired = repaired;
    return out;
}

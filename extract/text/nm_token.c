#include "nm_token.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "nm_alloc.h"
#include "nm_hash.h"

enum { C_SPACE, C_UPPER, C_LOWER, C_LETTER, C_MARK, C_DIGIT, C_PUNCT, C_SYMBOL };

static inline int is_wordish(int c)
{
    return c >= C_UPPER && c <= C_DIGIT;
}

static inline int is_letter(int c)
{
    return c >= C_UPPER && c <= C_LETTER;
}

static int classify_slow(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LT:
        return C_UPPER;
    case UTF8PROC_CATEGORY_LL:
        return C_LOWER;
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
        return C_SPACE;
    case UTF8PROC_CATEGORY_CF:
        /* soft hyphen and zero-width (non-)joiners stay inside words */
        return (cp == 0xAD || cp == 0x200C || cp == 0x200D) ? C_MARK : C_SPACE;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return C_PUNCT;
    default:
        return C_SYMBOL;
    }
}

static inline int classify(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'a' && cp <= 'z')
            return C_LOWER;
        if (cp >= 'A' && cp <= 'Z')
            return C_UPPER;
        if (cp >= '0' && cp <= '9')
            return C_DIGIT;
        if (cp <= ' ' || cp == 0x7F)
            return C_SPACE;
        switch (cp) {
        case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': case '~':
            return C_SYMBOL;
        default:
            return C_PUNCT;
        }
    }
    return classify_slow(cp);
}

/* Decodes valid UTF-8 at s[i] (i < end); *n gets the length. Bytes that are
 * not valid decode as U+FFFD, one byte each, so loops always advance. */
static inline uint32_t decode(const unsigned char *s, size_t i, size_t end, size_t *n)
{
    unsigned c = s[i];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c >= 0xC2 && c < 0xE0 && i + 1 < end) {
        *n = 2;
        return ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
    }
    if (c >= 0xE0 && c < 0xF0 && i + 2 < end) {
        *n = 3;
        return ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    }
    if (c >= 0xF0 && c < 0xF5 && i + 3 < end) {
        *n = 4;
        return ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
               (s[i + 3] & 0x3Fu);
    }
    *n = 1;
    return 0xFFFD;
}

static inline int is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == 0x2019;
}

static inline int is_hyphen(uint32_t cp)
{
    return cp == '-' || cp == 0x2010 || cp == 0x2011;
}

/* Lower-case buffer that hashes in pieces, so words of any length work. */
typedef struct lowbuf {
    char b[128];
    size_t n;
    uint64_t h;
    int folded;
} lowbuf;

static inline void low_flush(lowbuf *lb)
{
    lb->h = nm_hash_combine(lb->h, nm_hash_bytes(lb->b, lb->n));
    lb->n = 0;
    lb->folded = 1;
}

static inline void low_add(lowbuf *lb, uint32_t cp)
{
    if (lb->n + 4 > sizeof lb->b)
        low_flush(lb);
    if (cp < 0x80) {
        lb->b[lb->n++] = (char)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
        return;
    }
    if (cp == 0x2019)
        cp = '\'';
    else if (cp == 0x2010 || cp == 0x2011)
        cp = '-';
    else
        cp = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    if (cp < 0x80) {
        lb->b[lb->n++] = (char)cp;
        return;
    }
    lb->n += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)lb->b + lb->n);
}

static inline uint64_t low_hash(lowbuf *lb)
{
    if (!lb->folded)
        return nm_hash_bytes(lb->b, lb->n);
    low_flush(lb);
    return lb->h;
}

static nm_token *push(nm_token_vec *vec)
{
    if (vec->n == vec->cap) {
        vec->cap = vec->cap ? vec->cap * 2 : 1024;
        vec->v = nm_xrealloc(vec->v, vec->cap * sizeof *vec->v);
    }
    return &vec->v[vec->n++];
}

/* Scans a word or number starting at i; fills tok and returns its end. */
static size_t scan_word(const unsigned char *s, size_t i, size_t end, int first_class, nm_token *tok)
{
    lowbuf lb;
    lb.n = 0;
    lb.h = 0;
    lb.folded = 0;
    int number = first_class == C_DIGIT;
    unsigned flags = 0, n_upper = 0, n_lower = 0, seg_letters = 0, dots = 0, nchars = 0;
    int seen_letter = 0;
    size_t j = i;
    while (j < end) {
        if (seen_letter) { /* fast path: runs of ASCII lower-case letters and digits */
            while (j < end && lb.n + 4 < sizeof lb.b) {
                unsigned b = s[j];
                if (b - 'a' < 26u) {
                    n_lower++;
                    seg_letters++;
                } else if (b - '0' < 10u) {
                    flags |= NM_TF_DIGIT;
                } else {
                    break;
                }
                lb.b[lb.n++] = (char)b;
                nchars++;
                j++;
            }
            if (j >= end)
                break;
        }
        size_t n;
        uint32_t cp = decode(s, j, end, &n);
        int c = classify(cp);
        if (cp >= 0x80)
            flags |= NM_TF_NONASCII;
        if (is_wordish(c)) {
            if (is_letter(c)) {
                if (!seen_letter) {
                    seen_letter = 1;
                    if (c == C_UPPER)
                        flags |= NM_TF_UPPER;
                    else if (c == C_LOWER)
                        flags |= NM_TF_LOWER;
                    if (cp < 0x250)
                        flags |= NM_TF_LATIN;
                }
                n_upper += c == C_UPPER;
                n_lower += c == C_LOWER;
                seg_letters++;
            } else if (c == C_DIGIT) {
                flags |= NM_TF_DIGIT;
            }
            low_add(&lb, cp);
            nchars++;
            j += n;
            continue;
        }
        if (c == C_SPACE || j + n >= end)
            break;
        size_t n2;
        uint32_t next = decode(s, j + n, end, &n2);
        int nc = classify(next);
        if (is_apostrophe(cp) && !number) {
            if (!is_letter(nc))
                break;
            if (next == 's' || next == 'S') {
                size_t k = j + n + n2;
                size_t n3;
                if (k >= end || !is_wordish(classify(decode(s, k, end, &n3))))
                    break; /* possessive: leave "'s" to be a clitic token */
            }
            low_add(&lb, '\'');
            nchars++;
            j += n;
            continue;
        }
        if (is_hyphen(cp) && is_wordish(nc)) {
            flags |= NM_TF_HYPHEN;
            low_add(&lb, '-');
            nchars++;
            j += n;
            seg_letters = 0;
            continue;
        }
        if (cp == '.' && !number && seg_letters == 1) {
            if (is_letter(nc)) {
                size_t k = j + n + n2, n3;
                if (k < end && decode(s, k, end, &n3) == '.') {
                    low_add(&lb, '.');
                    nchars++;
                    dots++;
                    seg_letters = 0;
                    j += n;
                    continue;
                }
            }
            if (dots) { /* final period of "U.S." */
                low_add(&lb, '.');
                nchars++;
                j += n;
                flags |= NM_TF_DOTTED;
                break;
            }
            break;
        }
        if ((cp == '.' || cp == ',' || cp == ':') && number && nc == C_DIGIT) {
            low_add(&lb, cp);
            nchars++;
            j += n;
            continue;
        }
        break;
    }
    /* the final period of "U.S." when it ends the range */
    if (dots && !(flags & NM_TF_DOTTED) && j < end && s[j] == '.' && seg_letters == 1) {
        low_add(&lb, '.');
        nchars++;
        j++;
        flags |= NM_TF_DOTTED;
    }
    if (n_upper >= 2 && n_lower == 0)
        flags |= NM_TF_ALLCAPS;
    tok->start = (uint32_t)i;
    tok->end = (uint32_t)j;
    tok->kind = number ? NM_TOK_NUMBER : NM_TOK_WORD;
    tok->flags = (uint16_t)flags;
    tok->nchars = nchars > 255 ? 255 : (uint8_t)nchars;
    tok->lhash = low_hash(&lb);
    return j;
}

static unsigned punct_flags(uint32_t cp)
{
    switch (cp) {
    case '.': case '!': case '?': case 0x2026: case 0x3002: case 0xFF01: case 0xFF1F:
        return NM_TF_TERMINAL;
    case '(': case '[': case '{': case 0x201C: case 0x2018: case 0xAB: case 0x201E:
        return NM_TF_QUOTE_OPEN;
    case ')': case ']': case '}': case 0x201D: case 0x2019: case 0xBB:
        return NM_TF_QUOTE_CLOSE;
    default:
        return 0;
    }
}

size_t nm_tokenize(const char *text, size_t start, size_t end, nm_token_vec *vec)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t before = vec->n;
    size_t i = start;
    int space_before = 1;
    while (i < end) {
        size_t n;
        uint32_t cp = decode(s, i, end, &n);
        int c = classify(cp);
        if (c == C_SPACE) {
            if (vec->n > before)
                vec->v[vec->n - 1].flags |= NM_TF_SPACE_AFTER;
            space_before = 1;
            i += n;
            continue;
        }
        nm_token *t = push(vec);
        if (is_wordish(c) && c != C_MARK) {
            i = scan_word(s, i, end, c, t);
        } else {
            t->start = (uint32_t)i;
            t->nchars = 1;
            t->flags = 0;
            t->kind = c == C_PUNCT ? NM_TOK_PUNCT : NM_TOK_SYMBOL;
            size_t j = i + n;
            if (is_apostrophe(cp) && j < end && (s[j] == 's' || s[j] == 'S') && !space_before &&
                (j + 1 >= end || !is_wordish(classify(decode(s, j + 1, end, &n))))) {
                t->kind = NM_TOK_WORD; /* possessive clitic */
                t->flags = NM_TF_CLITIC | NM_TF_LOWER | NM_TF_LATIN;
                t->nchars = 2;
                j++;
                t->lhash = nm_hash_bytes("'s", 2);
            } else if (cp == '.' && j + 1 < end && s[j] == '.' && s[j + 1] == '.') {
                j += 2;
                while (j < end && s[j] == '.')
                    j++;
                t->flags = NM_TF_TERMINAL;
                t->nchars = 3;
                t->lhash = nm_hash_bytes("...", 3);
            } else {
                t->flags = (uint16_t)punct_flags(cp);
                t->lhash = nm_hash_bytes(text + i, n);
                if (cp == 0x2019)
                    t->lhash = nm_hash_bytes("'", 1);
            }
            t->end = (uint32_t)j;
            i = j;
        }
        if (space_before)
            t->flags |= NM_TF_SPACE_BEFORE;
        space_before = 0;
    }
    if (vec->n > before)
        vec->v[vec->n - 1].flags |= NM_TF_SPACE_AFTER;
    /* straight quotes: opening when they precede a word, else closing */
    for (size_t k = before; k < vec->n; k++) {
        nm_token *t = &vec->v[k];
        if (t->kind == NM_TOK_PUNCT && t->end - t->start == 1 &&
            (text[t->start] == '"' || text[t->start] == '\'')) {
            if ((t->flags & NM_TF_SPACE_BEFORE) && !(t->flags & NM_TF_SPACE_AFTER))
                t->flags |= NM_TF_QUOTE_OPEN;
            else
                t->flags |= NM_TF_QUOTE_CLOSE;
        } else if (t->kind == NM_TOK_PUNCT && (t->flags & NM_TF_QUOTE_CLOSE) &&
                   text[t->start] == '\xE2' && (t->flags & NM_TF_SPACE_BEFORE) &&
                   !(t->flags & NM_TF_SPACE_AFTER) && (unsigned char)text[t->start + 2] == 0x99) {
            /* ’ used as an opening single quote */
            t->flags = (uint16_t)((t->flags & ~NM_TF_QUOTE_CLOSE) | NM_TF_QUOTE_OPEN);
        }
    }
    return vec->n - before;
}

void nm_token_classify(const char *text, size_t start, size_t end, nm_token *tok)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n;
    int c = start < end ? classify(decode(s, start, end, &n)) : C_SYMBOL;
    if (is_wordish(c) && c != C_MARK) {
        scan_word(s, start, end, c, tok);
        /* the whole span is one token even where the tokenizer would split */
        tok->end = (uint32_t)end;
        tok->lhash = nm_token_hash_lower(text + start, end - start);
    } else {
        tok->start = (uint32_t)start;
        tok->end = (uint32_t)end;
        tok->kind = c == C_PUNCT ? NM_TOK_PUNCT : NM_TOK_SYMBOL;
        tok->flags = 0;
        tok->nchars = 1;
        if (start < end)
            tok->flags = (uint16_t)punct_flags(decode(s, start, end, &n));
        if (end - start == 3 && !memcmp(text + start, "...", 3))
            tok->flags = NM_TF_TERMINAL;
        tok->lhash = nm_token_hash_lower(text + start, end - start);
    }
    tok->flags |= NM_TF_SPACE_BEFORE | NM_TF_SPACE_AFTER;
}

size_t nm_token_lower(const char *text, const nm_token *tok, char *buf, size_t cap)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0;
    for (size_t i = tok->start; i < tok->end;) {
        size_t n;
        uint32_t cp = decode(s, i, tok->end, &n);
        i += n;
        if (cp < 0x80) {
            if (o + 1 >= cap)
                break;
            buf[o++] = (char)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
            continue;
        }
        cp = cp == 0x2019 ? '\'' : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        unsigned char tmp[4];
        size_t k = (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, tmp);
        if (o + k >= cap)
            break;
        memcpy(buf + o, tmp, k);
        o += k;
    }
    if (cap)
        buf[o] = '\0';
    return o;
}

uint64_t nm_token_hash_lower(const char *s, size_t n)
{
    lowbuf lb;
    lb.n = 0;
    lb.h = 0;
    lb.folded = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k;
        uint32_t cp = decode(u, i, n, &k);
        low_add(&lb, cp);
        i += k;
    }
    return low_hash(&lb);
}

void nm_token_vec_free(nm_token_vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

/* nm_html_util: scratch buffer, whitespace-collapsed text, attributes. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"

void nm_hbuf_put(nm_hbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = nm_xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void nm_hbuf_putc(nm_hbuf *b, char c)
{
    nm_hbuf_put(b, &c, 1);
}

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void nm_hbuf_put_collapsed(nm_hbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t ws = 0;
        if (is_ascii_space(c))
            ws = 1;
        else if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0)
            ws = 2;
        else if (c == 0)
            ws = 1; /* NUL never reaches a block */
        if (ws) {
            if (b->len > 0 && b->p[b->len - 1] != ' ')
                nm_hbuf_putc(b, ' ');
            i += ws;
            continue;
        }
        size_t j = i + 1;
        while (j < n) {
            unsigned char d = (unsigned char)s[j];
            if (is_ascii_space(d) || d == 0 || d == 0xC2)
                break;
            j++;
        }
        nm_hbuf_put(b, s + i, j - i);
        i = j;
    }
}

void nm_hbuf_trim_end(nm_hbuf *b)
{
    while (b->len > 0 && b->p[b->len - 1] == ' ')
        b->p[--b->len] = '\0';
}

void nm_hbuf_free(nm_hbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *nm_html_attr(const nm_hnode *node, const char *name)
{
    if (!node || node->type != NM_HNODE_ELEMENT)
        return NULL;
    for (unsigned i = 0; i < node->n_attrs; i++)
        if (strcmp(node->attrs[i].name, name) == 0)
            return node->attrs[i].value;
    return NULL;
}

bool nm_html_tag_is_opaque(nm_htag tag)
{
    switch (tag) {
    case NM_HTAG_SCRIPT:
    case NM_HTAG_STYLE:
    case NM_HTAG_NOSCRIPT:
    case NM_HTAG_TEMPLATE:
    case NM_HTAG_SVG:
    case NM_HTAG_MATH:
    case NM_HTAG_IFRAME:
    case NM_HTAG_OBJECT:
    case NM_HTAG_EMBED:
    case NM_HTAG_CANVAS:
    case NM_HTAG_VIDEO:
    case NM_HTAG_AUDIO:
    case NM_HTAG_SELECT:
    case NM_HTAG_TEXTAREA:
    case NM_HTAG_BUTTON:
    case NM_HTAG_HEAD:
    case NM_HTAG_TITLE:
        return true;
    default:
        return false;
    }
}

/* Inline (phrasing) elements: no word break at their edges. */
static bool phrasing(nm_htag tag)
{
    switch (tag) {
    case NM_HTAG_A:
    case NM_HTAG_ABBR:
    case NM_HTAG_B:
    case NM_HTAG_BDI:
    case NM_HTAG_BDO:
    case NM_HTAG_CITE:
    case NM_HTAG_CODE:
    case NM_HTAG_DATA:
    case NM_HTAG_DFN:
    case NM_HTAG_EM:
    case NM_HTAG_FONT:
    case NM_HTAG_I:
    case NM_HTAG_KBD:
    case NM_HTAG_MARK:
    case NM_HTAG_Q:
    case NM_HTAG_S:
    case NM_HTAG_SAMP:
    case NM_HTAG_SMALL:
    case NM_HTAG_SPAN:
    case NM_HTAG_STRONG:
    case NM_HTAG_SUB:
    case NM_HTAG_SUP:
    case NM_HTAG_TIME:
    case NM_HTAG_U:
    case NM_HTAG_VAR:
    case NM_HTAG_WBR:
    case NM_HTAG_INS:
    case NM_HTAG_DEL:
    case NM_HTAG_BIG:
    case NM_HTAG_TT:
    case NM_HTAG_NOBR:
        return true;
    default:
        return false;
    }
}

char *nm_html_node_text(nm_arena *arena, const nm_hnode *node, size_t *len)
{
    nm_hbuf b = {0};
    size_t cap = 64, n = 0;
    const nm_hnode **stack = nm_xmalloc(cap * sizeof *stack);
    stack[n++] = node;
    while (n > 0) {
        const nm_hnode *cur = stack[--n];
        if (!cur) { /* end of a block element */
            nm_hbuf_put_collapsed(&b, " ", 1);
            continue;
        }
        if (cur->type == NM_HNODE_TEXT) {
            nm_hbuf_put_collapsed(&b, cur->text, strlen(cur->text));
            continue;
        }
        if (cur != node && nm_html_tag_is_opaque(cur->tag))
            continue;
        bool block = !phrasing(cur->tag);
        if (block && b.len)
            nm_hbuf_put_collapsed(&b, " ", 1);
        const nm_hkids *kids = &cur->kids;
        if (n + kids->length + 1 > cap) {
            while (n + kids->length + 1 > cap)
                cap *= 2;
            stack = nm_xrealloc(stack, cap * sizeof *stack);
        }
        if (block)
            stack[n++] = NULL;
        for (unsigned i = kids->length; i > 0; i--)
            stack[n++] = kids->data[i - 1];
    }
    free(stack);
    nm_hbuf_trim_end(&b);
    char *out = NULL;
    if (b.len)
        out = nm_arena_strndup(arena, b.p, b.len);
    if (len)
        *len = b.len;
    nm_hbuf_free(&b);
    return out;
}

char *nm_html_clean_dup(nm_arena *arena, const char *s, size_t n)
{
    if (!s)
        return NULL;
    nm_hbuf b = {0};
    nm_hbuf_put_collapsed(&b, s, n);
    nm_hbuf_trim_end(&b);
    char *out = b.len ? nm_arena_strndup(arena, b.p, b.len) : NULL;
    nm_hbuf_free(&b);
    return out;
}

bool nm_html_icontains(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0)
        return true;
    char lo = needle[0], up = needle[0];
    if (lo >= 'A' && lo <= 'Z')
        lo = (char)(lo + 32);
    if (up >= 'a' && up <= 'z')
        up = (char)(up - 32);
    for (size_t i = 0; i + m <= n; i++)
        if ((s[i] == lo || s[i] == up) && strncasecmp(s + i + 1, needle + 1, m - 1) == 0)
            return true;
    return false;
}

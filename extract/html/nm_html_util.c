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

const char *nm_html_attr(const GumboNode *node, const char *name)
{
    if (!node || node->type != GUMBO_NODE_ELEMENT)
        return NULL;
    const GumboAttribute *a = gumbo_get_attribute(&node->v.element.attributes, name);
    return a ? a->value : NULL;
}

bool nm_html_tag_is_opaque(GumboTag tag)
{
    switch (tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
        return true;
    default:
        return false;
    }
}

/* Inline (phrasing) elements: no word break at their edges. */
static bool phrasing(GumboTag tag)
{
    switch (tag) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DATA:
    case GUMBO_TAG_DFN:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TIME:
    case GUMBO_TAG_U:
    case GUMBO_TAG_VAR:
    case GUMBO_TAG_WBR:
    case GUMBO_TAG_INS:
    case GUMBO_TAG_DEL:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_NOBR:
        return true;
    default:
        return false;
    }
}

char *nm_html_node_text(nm_arena *arena, const GumboNode *node, size_t *len)
{
    nm_hbuf b = {0};
    size_t cap = 64, n = 0;
    const GumboNode **stack = nm_xmalloc(cap * sizeof *stack);
    stack[n++] = node;
    while (n > 0) {
        const GumboNode *cur = stack[--n];
        if (!cur) { /* end of a block element */
            nm_hbuf_put_collapsed(&b, " ", 1);
            continue;
        }
        if (cur->type == GUMBO_NODE_TEXT || cur->type == GUMBO_NODE_WHITESPACE ||
            cur->type == GUMBO_NODE_CDATA) {
            nm_hbuf_put_collapsed(&b, cur->v.text.text, strlen(cur->v.text.text));
            continue;
        }
        if (cur->type != GUMBO_NODE_ELEMENT && cur->type != GUMBO_NODE_TEMPLATE)
            continue;
        if (cur != node && nm_html_tag_is_opaque(cur->v.element.tag))
            continue;
        bool block = !phrasing(cur->v.element.tag);
        if (block && b.len)
            nm_hbuf_put_collapsed(&b, " ", 1);
        const GumboVector *kids = &cur->v.element.children;
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
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(s + i, needle, m) == 0)
            return true;
    return false;
}

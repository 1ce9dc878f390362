/*
 * nm_html_tree: HTML bytes -> nm_htree, with libxml2's HTML parser (the
 * parser lxml gives trafilatura and readability-lxml; about 3.5x gumbo's
 * speed on news pages). The libxml2 document is read, iteratively, into the
 * compact nm_hnode tree the other modules walk; the text and attribute
 * strings stay in the libxml2 document, which lives as long as the tree.
 *
 * Parser options: recover from any error, report none, no network, no
 * implied DTD, compact text nodes, and no 256-level depth cap (the nesting
 * guard in nm_html_prep.c bounds depth before the parser sees the bytes;
 * libxml2's cap would halt the parse and drop the rest of a deep page).
 */
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"

/* Names of NM_HTAG_UNKNOWN + 1 .. NM_HTAG_COUNT - 1, sorted. */
static const char *const k_tag_names[] = {
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "link",
    "main",
    "mark",
    "math",
    "menu",
    "meta",
    "nav",
    "nobr",
    "noscript",
    "object",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "small",
    "span",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
};

_Static_assert(sizeof k_tag_names / sizeof k_tag_names[0] == NM_HTAG_COUNT - 1, "one name per tag");

typedef struct tree_priv {
    htmlDocPtr doc;
    nm_arena *arena; /* nodes, child arrays, attributes, merged text */
} tree_priv;

static int name_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static nm_htag tag_of(const xmlChar *name)
{
    const char *const *hit = bsearch(name, k_tag_names, sizeof k_tag_names / sizeof k_tag_names[0],
                                     sizeof k_tag_names[0], name_cmp);
    return hit ? (nm_htag)(hit - k_tag_names + 1) : NM_HTAG_UNKNOWN;
}

static bool is_text(const xmlNode *x)
{
    return x->type == XML_TEXT_NODE || x->type == XML_CDATA_SECTION_NODE;
}

/* Elements and text become nodes; a text node right after another text node
 * is merged into it (comments, processing instructions and the DTD go). */
static bool starts_node(const xmlNode *x)
{
    if (x->type == XML_ELEMENT_NODE)
        return true;
    return is_text(x) && !(x->prev && is_text(x->prev));
}

static const char *text_of(nm_arena *arena, const xmlNode *x)
{
    const char *s = x->content ? (const char *)x->content : "";
    if (!x->next || !is_text(x->next))
        return s;
    size_t n = 0;
    for (const xmlNode *t = x; t && is_text(t); t = t->next)
        n += t->content ? strlen((const char *)t->content) : 0;
    char *out = nm_arena_alloc(arena, n + 1), *p = out;
    for (const xmlNode *t = x; t && is_text(t); t = t->next) {
        size_t k = t->content ? strlen((const char *)t->content) : 0;
        memcpy(p, t->content, k);
        p += k;
    }
    *p = '\0';
    return out;
}

static const char *attr_value(nm_arena *arena, const xmlAttr *a)
{
    const xmlNode *v = a->children;
    if (!v)
        return "";
    if (!v->next && is_text(v))
        return v->content ? (const char *)v->content : "";
    xmlChar *s = xmlNodeListGetString(a->doc, v, 1);
    const char *out = s ? nm_arena_strndup(arena, (const char *)s, strlen((const char *)s)) : "";
    xmlFree(s);
    return out;
}

static void fill_element(nm_arena *arena, nm_hnode *h, const xmlNode *x)
{
    h->type = NM_HNODE_ELEMENT;
    h->tag = tag_of(x->name);
    unsigned na = 0;
    for (const xmlAttr *a = x->properties; a; a = a->next)
        na++;
    if (na) {
        nm_hattr *attrs = nm_arena_alloc(arena, na * sizeof *attrs);
        unsigned i = 0;
        for (const xmlAttr *a = x->properties; a; a = a->next, i++)
            attrs[i] = (nm_hattr){(const char *)a->name, attr_value(arena, a)};
        h->attrs = attrs;
        h->n_attrs = na;
    }
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr error)
{
    (void)ctx;
    (void)error;
}

typedef struct frame {
    const xmlNode *x;
    const nm_hnode *parent;
    nm_hnode **slot;
} frame;

nm_htree *nm_html_tree_parse(const char *html, size_t len)
{
    xmlSetGenericErrorFunc(NULL, silent);
    xmlSetStructuredErrorFunc(NULL, silent_structured);
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
               HTML_PARSE_NODEFDTD | HTML_PARSE_COMPACT | XML_PARSE_HUGE;
    int n_in = len > (size_t)INT32_MAX ? INT32_MAX : (int)len;
    htmlDocPtr doc = htmlReadMemory(html, n_in, NULL, "UTF-8", opts);

    tree_priv *priv = nm_xmalloc(sizeof *priv);
    priv->doc = doc;
    priv->arena = nm_arena_new(1 << 16);
    nm_htree *tree = nm_arena_calloc(priv->arena, 1, sizeof *tree);
    tree->priv = priv;

    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    nm_hnode *top = NULL;
    if (!root) {
        top = nm_arena_calloc(priv->arena, 1, sizeof *top);
        top->type = NM_HNODE_ELEMENT;
        top->tag = NM_HTAG_HTML;
        tree->root = top;
        return tree;
    }
    size_t cap = 256, n = 0;
    frame *stack = nm_xmalloc(cap * sizeof *stack);
    stack[n++] = (frame){root, NULL, &top};
    while (n > 0) {
        frame f = stack[--n];
        nm_hnode *h = nm_arena_calloc(priv->arena, 1, sizeof *h);
        *f.slot = h;
        h->parent = f.parent;
        if (is_text(f.x)) {
            h->type = NM_HNODE_TEXT;
            h->text = text_of(priv->arena, f.x);
            continue;
        }
        fill_element(priv->arena, h, f.x);
        unsigned nk = 0;
        for (const xmlNode *c = f.x->children; c; c = c->next)
            nk += starts_node(c);
        if (!nk)
            continue;
        h->kids.data = nm_arena_alloc(priv->arena, nk * sizeof *h->kids.data);
        h->kids.length = nk;
        if (n + nk > cap) {
            while (n + nk > cap)
                cap *= 2;
            stack = nm_xrealloc(stack, cap * sizeof *stack);
        }
        unsigned k = nk;
        for (const xmlNode *c = f.x->last; c; c = c->prev)
            if (starts_node(c)) {
                k--;
                stack[n++] = (frame){c, h, &h->kids.data[k]};
            }
    }
    free(stack);
    tree->root = top;
    return tree;
}

void nm_html_tree_free(nm_htree *tree)
{
    if (!tree)
        return;
    tree_priv *priv = tree->priv;
    if (priv->doc)
        xmlFreeDoc(priv->doc);
    nm_arena_destroy(&priv->arena);
    free(priv);
}

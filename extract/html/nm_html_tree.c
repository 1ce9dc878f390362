/*
 * nm_html_tree: HTML bytes -> nm_htree in one pass, with our own tokenizer
 * and tree builder (the only file that knows how HTML is parsed; character
 * references are decoded by nm_html_charref.c).
 *
 * Why not a library parser: libxml2's HTML parser (the one lxml gives
 * trafilatura and readability-lxml) took 60% of HTML extraction building a
 * DOM we then copied; this pass builds the compact nm_hnode tree directly
 * into an arena, at several times the speed. It follows libxml2's rules
 * where they shape the tree, so that scoring sees the same structure:
 *
 *   - Start tags close the open element for the pairs of libxml2's
 *     htmlStartClose table (<p> closes <p>, <li> closes <li>, <td> closes
 *     <td>, <div> closes <p>, ...); void elements (br, img, meta, ...) and
 *     self-closing tags (<div/>) have no content.
 *   - An end tag closes the nearest open element of its name unless an
 *     element of higher end priority is open above it (libxml2's
 *     htmlEndPriority: </div> does not close past a <td>, </p> not past a
 *     <div>); an end tag with no open element is ignored. </body> and
 *     </html> are ignored (what follows them stays in the body).
 *   - <head> holds only head elements (meta, link, title, script, style,
 *     base, noscript, template); anything else, or text, opens <body>.
 *   - script, style, noscript, xmp, iframe, noembed, noframes are raw text
 *     up to their end tag; only a JSON-LD script keeps its text (metadata
 *     reads it), the others are skipped. title and textarea hold text only
 *     (entities decoded). svg and math content is skipped to their end tag.
 *   - Character references: &#N; &#xH; (C1 codes read as windows-1252, as
 *     browsers do; invalid ones become U+FFFD) and the 253 named entities
 *     of HTML 4 (with their ';', as libxml2 had them) plus &apos;; a
 *     reference that does not decode stays as written.
 *   - Comments, doctype, processing instructions and CDATA sections go.
 *     Adjacent text is one text node.
 *
 * Bounds: elements nested deeper than NM_HTML_MAX_NESTING are dropped (their
 * text stays), attributes past NM_HTML_MAX_ATTRS are dropped, and an end tag
 * is looked up in the stack only when an element of its name is open (per
 * tag counts), so time and memory are linear in the input.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"
#include "nm_utf8.h"

static const char *const k_tag_names[NM_HTAG_COUNT] = {
    [NM_HTAG_A] = "a",
    [NM_HTAG_ABBR] = "abbr",
    [NM_HTAG_ADDRESS] = "address",
    [NM_HTAG_ARTICLE] = "article",
    [NM_HTAG_ASIDE] = "aside",
    [NM_HTAG_AUDIO] = "audio",
    [NM_HTAG_B] = "b",
    [NM_HTAG_BDI] = "bdi",
    [NM_HTAG_BDO] = "bdo",
    [NM_HTAG_BIG] = "big",
    [NM_HTAG_BLOCKQUOTE] = "blockquote",
    [NM_HTAG_BODY] = "body",
    [NM_HTAG_BR] = "br",
    [NM_HTAG_BUTTON] = "button",
    [NM_HTAG_CANVAS] = "canvas",
    [NM_HTAG_CAPTION] = "caption",
    [NM_HTAG_CENTER] = "center",
    [NM_HTAG_CITE] = "cite",
    [NM_HTAG_CODE] = "code",
    [NM_HTAG_DATA] = "data",
    [NM_HTAG_DD] = "dd",
    [NM_HTAG_DEL] = "del",
    [NM_HTAG_DETAILS] = "details",
    [NM_HTAG_DFN] = "dfn",
    [NM_HTAG_DIV] = "div",
    [NM_HTAG_DL] = "dl",
    [NM_HTAG_DT] = "dt",
    [NM_HTAG_EM] = "em",
    [NM_HTAG_EMBED] = "embed",
    [NM_HTAG_FIELDSET] = "fieldset",
    [NM_HTAG_FIGCAPTION] = "figcaption",
    [NM_HTAG_FIGURE] = "figure",
    [NM_HTAG_FONT] = "font",
    [NM_HTAG_FOOTER] = "footer",
    [NM_HTAG_FORM] = "form",
    [NM_HTAG_H1] = "h1",
    [NM_HTAG_H2] = "h2",
    [NM_HTAG_H3] = "h3",
    [NM_HTAG_H4] = "h4",
    [NM_HTAG_H5] = "h5",
    [NM_HTAG_H6] = "h6",
    [NM_HTAG_HEAD] = "head",
    [NM_HTAG_HEADER] = "header",
    [NM_HTAG_HR] = "hr",
    [NM_HTAG_HTML] = "html",
    [NM_HTAG_I] = "i",
    [NM_HTAG_IFRAME] = "iframe",
    [NM_HTAG_IMG] = "img",
    [NM_HTAG_INPUT] = "input",
    [NM_HTAG_INS] = "ins",
    [NM_HTAG_KBD] = "kbd",
    [NM_HTAG_LABEL] = "label",
    [NM_HTAG_LI] = "li",
    [NM_HTAG_LINK] = "link",
    [NM_HTAG_MAIN] = "main",
    [NM_HTAG_MARK] = "mark",
    [NM_HTAG_MATH] = "math",
    [NM_HTAG_MENU] = "menu",
    [NM_HTAG_META] = "meta",
    [NM_HTAG_NAV] = "nav",
    [NM_HTAG_NOBR] = "nobr",
    [NM_HTAG_NOSCRIPT] = "noscript",
    [NM_HTAG_OBJECT] = "object",
    [NM_HTAG_OL] = "ol",
    [NM_HTAG_P] = "p",
    [NM_HTAG_PRE] = "pre",
    [NM_HTAG_Q] = "q",
    [NM_HTAG_S] = "s",
    [NM_HTAG_SAMP] = "samp",
    [NM_HTAG_SCRIPT] = "script",
    [NM_HTAG_SECTION] = "section",
    [NM_HTAG_SELECT] = "select",
    [NM_HTAG_SMALL] = "small",
    [NM_HTAG_SPAN] = "span",
    [NM_HTAG_STRONG] = "strong",
    [NM_HTAG_STYLE] = "style",
    [NM_HTAG_SUB] = "sub",
    [NM_HTAG_SUMMARY] = "summary",
    [NM_HTAG_SUP] = "sup",
    [NM_HTAG_SVG] = "svg",
    [NM_HTAG_TABLE] = "table",
    [NM_HTAG_TBODY] = "tbody",
    [NM_HTAG_TD] = "td",
    [NM_HTAG_TEMPLATE] = "template",
    [NM_HTAG_TEXTAREA] = "textarea",
    [NM_HTAG_TFOOT] = "tfoot",
    [NM_HTAG_TH] = "th",
    [NM_HTAG_THEAD] = "thead",
    [NM_HTAG_TIME] = "time",
    [NM_HTAG_TITLE] = "title",
    [NM_HTAG_TR] = "tr",
    [NM_HTAG_TT] = "tt",
    [NM_HTAG_U] = "u",
    [NM_HTAG_UL] = "ul",
    [NM_HTAG_VAR] = "var",
    [NM_HTAG_VIDEO] = "video",
    [NM_HTAG_WBR] = "wbr",
    [NM_HTAG_ACRONYM] = "acronym",
    [NM_HTAG_APPLET] = "applet",
    [NM_HTAG_AREA] = "area",
    [NM_HTAG_BASE] = "base",
    [NM_HTAG_BASEFONT] = "basefont",
    [NM_HTAG_COL] = "col",
    [NM_HTAG_COLGROUP] = "colgroup",
    [NM_HTAG_DIR] = "dir",
    [NM_HTAG_FRAME] = "frame",
    [NM_HTAG_FRAMESET] = "frameset",
    [NM_HTAG_ISINDEX] = "isindex",
    [NM_HTAG_KEYGEN] = "keygen",
    [NM_HTAG_LEGEND] = "legend",
    [NM_HTAG_LISTING] = "listing",
    [NM_HTAG_MAP] = "map",
    [NM_HTAG_NOEMBED] = "noembed",
    [NM_HTAG_NOFRAMES] = "noframes",
    [NM_HTAG_OPTGROUP] = "optgroup",
    [NM_HTAG_OPTION] = "option",
    [NM_HTAG_PARAM] = "param",
    [NM_HTAG_PLAINTEXT] = "plaintext",
    [NM_HTAG_SOURCE] = "source",
    [NM_HTAG_STRIKE] = "strike",
    [NM_HTAG_TRACK] = "track",
    [NM_HTAG_XMP] = "xmp",
};

/* ------------------------------------------------------------ static tables
 * Built once (tag_tables_init, under pthread_once): a hash of tag names, and
 * per new tag the set of open tags its start tag closes (libxml2's
 * htmlStartClose pairs, "head" left out: <head> is handled on its own). */

#define TAG_HASH 512
typedef struct tag_words {
    uint64_t w[(NM_HTAG_COUNT + 63) / 64];
} tag_words;

static struct {
    uint8_t slot_tag[TAG_HASH];
    tag_words closes[NM_HTAG_COUNT];
} g_tab;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void set_closes(nm_htag new_tag, const nm_htag *olds)
{
    for (; *olds != NM_HTAG_UNKNOWN; olds++)
        g_tab.closes[new_tag].w[*olds / 64] |= 1ull << (*olds % 64);
}

#define CLOSES(tag, ...) set_closes(NM_HTAG_##tag, (const nm_htag[]){__VA_ARGS__, NM_HTAG_UNKNOWN})
#define T(x) NM_HTAG_##x
#define HEADINGS T(H1), T(H2), T(H3), T(H4), T(H5), T(H6)
#define FONTSTYLE T(TT), T(I), T(B), T(U), T(S), T(STRIKE), T(BIG), T(SMALL)

static void tag_tables_init(void)
{
    for (int t = 1; t < NM_HTAG_COUNT; t++) {
        const char *name = k_tag_names[t];
        uint32_t h = name_hash(name, strlen(name)) % TAG_HASH;
        while (g_tab.slot_tag[h])
            h = (h + 1) % TAG_HASH;
        g_tab.slot_tag[h] = (uint8_t)t;
    }
    CLOSES(FORM, T(FORM), T(P), T(HR), HEADINGS, T(DL), T(UL), T(OL), T(MENU), T(DIR), T(ADDRESS), T(PRE),
           T(LISTING), T(XMP));
    CLOSES(HEAD, T(P));
    CLOSES(TITLE, T(P));
    CLOSES(BODY, T(STYLE), T(SCRIPT), T(TITLE));
    CLOSES(LI, T(P), HEADINGS, T(DL), T(ADDRESS), T(PRE), T(LISTING), T(XMP), T(LI));
    CLOSES(HR, T(P));
    CLOSES(H1, T(P), T(H2), T(H3), T(H4), T(H5), T(H6));
    CLOSES(H2, T(P), T(H1), T(H3), T(H4), T(H5), T(H6));
    CLOSES(H3, T(P), T(H1), T(H2), T(H4), T(H5), T(H6));
    CLOSES(H4, T(P), T(H1), T(H2), T(H3), T(H5), T(H6));
    CLOSES(H5, T(P), T(H1), T(H2), T(H3), T(H4), T(H6));
    CLOSES(H6, T(P), T(H1), T(H2), T(H3), T(H4), T(H5));
    CLOSES(DIR, T(P));
    CLOSES(ADDRESS, T(P), T(UL));
    CLOSES(PRE, T(P), T(UL));
    CLOSES(LISTING, T(P));
    CLOSES(XMP, T(P));
    CLOSES(BLOCKQUOTE, T(P));
    CLOSES(DL, T(P), T(DT), T(MENU), T(DIR), T(ADDRESS), T(PRE), T(LISTING), T(XMP));
    CLOSES(DT, T(P), T(MENU), T(DIR), T(ADDRESS), T(PRE), T(LISTING), T(XMP), T(DD));
    CLOSES(DD, T(P), T(MENU), T(DIR), T(ADDRESS), T(PRE), T(LISTING), T(XMP), T(DT));
    CLOSES(UL, T(P), T(OL), T(MENU), T(DIR), T(ADDRESS), T(PRE), T(LISTING), T(XMP));
    CLOSES(OL, T(P), T(UL));
    CLOSES(MENU, T(P), T(UL));
    CLOSES(P, T(P), HEADINGS, FONTSTYLE);
    CLOSES(DIV, T(P));
    CLOSES(NOSCRIPT, T(SCRIPT));
    CLOSES(CENTER, T(FONT), T(B), T(I), T(P));
    CLOSES(A, T(A));
    CLOSES(CAPTION, T(P));
    CLOSES(COLGROUP, T(CAPTION), T(COLGROUP), T(COL), T(P));
    CLOSES(COL, T(CAPTION), T(COL), T(P));
    CLOSES(TABLE, T(P), HEADINGS, T(PRE), T(LISTING), T(XMP), T(A));
    CLOSES(TH, T(TH), T(TD), T(P), T(SPAN), T(FONT), T(A), T(B), T(I), T(U));
    CLOSES(TD, T(TH), T(TD), T(P), T(SPAN), T(FONT), T(A), T(B), T(I), T(U));
    CLOSES(TR, T(TH), T(TD), T(TR), T(CAPTION), T(COL), T(COLGROUP), T(P));
    CLOSES(THEAD, T(CAPTION), T(COL), T(COLGROUP));
    CLOSES(TFOOT, T(TH), T(TD), T(TR), T(CAPTION), T(COL), T(COLGROUP), T(THEAD), T(TBODY), T(P));
    CLOSES(TBODY, T(TH), T(TD), T(TR), T(CAPTION), T(COL), T(COLGROUP), T(THEAD), T(TFOOT), T(TBODY), T(P));
    CLOSES(OPTGROUP, T(OPTION));
    CLOSES(OPTION, T(OPTION));
    CLOSES(FIELDSET, T(LEGEND), T(P), HEADINGS, T(PRE), T(LISTING), T(XMP), T(A));
}

static pthread_once_t g_tab_once = PTHREAD_ONCE_INIT;

static bool start_closes(nm_htag new_tag, nm_htag open_tag)
{
    return (g_tab.closes[new_tag].w[open_tag / 64] >> (open_tag % 64)) & 1;
}

/* name[0..n) is lower-case already. */
static nm_htag tag_lookup(const char *name, size_t n)
{
    if (n > 10)
        return NM_HTAG_UNKNOWN;
    uint32_t h = name_hash(name, n) % TAG_HASH;
    for (;;) {
        uint8_t t = g_tab.slot_tag[h];
        if (!t)
            return NM_HTAG_UNKNOWN;
        const char *k = k_tag_names[t];
        if (strncmp(k, name, n) == 0 && k[n] == '\0')
            return (nm_htag)t;
        h = (h + 1) % TAG_HASH;
    }
}

/* What the tree builder needs to know of a tag, one table instead of a
 * switch per question. */
enum {
    P_VOID = 1,   /* no content, no end tag (br, img, meta, ...) */
    P_RAW = 2,    /* raw text up to its end tag; kept only for JSON-LD scripts */
    P_RCDATA = 4, /* text only (entities decoded) up to its end tag */
    P_HEAD = 8,   /* may stay in <head> */
};
typedef struct tag_props {
    uint8_t flags;
    uint8_t end_priority; /* libxml2's htmlEndPriority (0 = the default, 100):
                           * an end tag does not close past an open element of
                           * higher priority */
} tag_props;

static const tag_props k_props[NM_HTAG_COUNT] = {
    [T(AREA)] = {P_VOID, 0},   [T(BASE)] = {P_VOID | P_HEAD, 0}, [T(BASEFONT)] = {P_VOID, 0},
    [T(BR)] = {P_VOID, 0},     [T(COL)] = {P_VOID, 0},           [T(FRAME)] = {P_VOID, 0},
    [T(HR)] = {P_VOID, 0},     [T(IMG)] = {P_VOID, 0},           [T(INPUT)] = {P_VOID, 0},
    [T(ISINDEX)] = {P_VOID, 0}, [T(LINK)] = {P_VOID | P_HEAD, 0}, [T(META)] = {P_VOID | P_HEAD, 0},
    [T(PARAM)] = {P_VOID, 0},  [T(EMBED)] = {P_VOID, 0},         [T(SOURCE)] = {P_VOID, 0},
    [T(TRACK)] = {P_VOID, 0},  [T(WBR)] = {P_VOID, 0},           [T(KEYGEN)] = {P_VOID, 0},
    [T(SCRIPT)] = {P_RAW | P_HEAD, 0}, [T(STYLE)] = {P_RAW | P_HEAD, 0},
    [T(NOSCRIPT)] = {P_RAW | P_HEAD, 0}, [T(XMP)] = {P_RAW, 0}, [T(IFRAME)] = {P_RAW, 0},
    [T(NOEMBED)] = {P_RAW, 0}, [T(NOFRAMES)] = {P_RAW, 0},       [T(SVG)] = {P_RAW, 0},
    [T(MATH)] = {P_RAW, 0},    [T(TITLE)] = {P_RCDATA | P_HEAD, 0}, [T(TEXTAREA)] = {P_RCDATA, 0},
    [T(TEMPLATE)] = {P_HEAD, 0},
    [T(DIV)] = {0, 150},       [T(TD)] = {0, 160},               [T(TH)] = {0, 160},
    [T(TR)] = {0, 170},        [T(THEAD)] = {0, 180},            [T(TBODY)] = {0, 180},
    [T(TFOOT)] = {0, 180},     [T(TABLE)] = {0, 190},            [T(HEAD)] = {0, 200},
    [T(BODY)] = {0, 200},      [T(HTML)] = {0, 220},
};

static bool has_prop(nm_htag t, unsigned flag)
{
    return k_props[t].flags & flag;
}

static int end_priority(nm_htag t)
{
    return k_props[t].end_priority ? k_props[t].end_priority : 100;
}

/* ------------------------------------------------------------ the builder */

typedef struct open_el {
    nm_hnode *node;
    const char *name; /* lower-case, for NM_HTAG_UNKNOWN */
    uint32_t name_len, name_slot;
    uint32_t kids_from; /* index in b->kids of its first child */
} open_el;

#define UNKNOWN_SLOTS 256

typedef struct builder {
    nm_arena *arena;
    const char *s, *end;
    open_el *stack;
    size_t depth, stack_cap;
    nm_hnode **kids; /* children of the open elements, in order */
    size_t n_kids, kids_cap;
    nm_hbuf text;     /* pending text (entities decoded) */
    nm_hattr *attrs;  /* attributes of the tag being read */
    unsigned n_attrs;
    nm_hbuf scratch;  /* attribute values being decoded */
    uint32_t open_known[NM_HTAG_COUNT];
    uint32_t open_unknown[UNKNOWN_SLOTS];
    nm_hnode *root, *head, *body;
} builder;

static void push_kid(builder *b, nm_hnode *n)
{
    if (b->n_kids == b->kids_cap) {
        b->kids_cap = b->kids_cap ? b->kids_cap * 2 : 1024;
        b->kids = nm_xrealloc(b->kids, b->kids_cap * sizeof *b->kids);
    }
    b->kids[b->n_kids++] = n;
}

static nm_hnode *top(const builder *b)
{
    return b->stack[b->depth - 1].node;
}

static void flush_text(builder *b)
{
    if (b->text.len == 0)
        return;
    nm_hnode *n = nm_arena_alloc(b->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = NM_HNODE_TEXT;
    n->parent = top(b);
    n->text = nm_arena_strndup(b->arena, b->text.p, b->text.len);
    push_kid(b, n);
    b->text.len = 0;
}

static void pop(builder *b)
{
    open_el *e = &b->stack[--b->depth];
    nm_hnode *n = e->node;
    size_t k = b->n_kids - e->kids_from;
    if (k) {
        n->kids.data = nm_arena_alloc(b->arena, k * sizeof *n->kids.data);
        memcpy(n->kids.data, b->kids + e->kids_from, k * sizeof *n->kids.data);
        n->kids.length = (unsigned)k;
        b->n_kids = e->kids_from;
    }
    if (n->tag == NM_HTAG_UNKNOWN)
        b->open_unknown[e->name_slot]--;
    else
        b->open_known[n->tag]--;
}

static nm_hnode *push(builder *b, nm_htag tag, const char *name, size_t name_len)
{
    nm_hnode *n = nm_arena_alloc(b->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = NM_HNODE_ELEMENT;
    n->tag = tag;
    n->parent = b->depth ? top(b) : NULL;
    if (b->depth)
        push_kid(b, n);
    if (b->depth == b->stack_cap) {
        b->stack_cap = b->stack_cap ? b->stack_cap * 2 : 64;
        b->stack = nm_xrealloc(b->stack, b->stack_cap * sizeof *b->stack);
    }
    open_el *e = &b->stack[b->depth++];
    e->node = n;
    e->kids_from = (uint32_t)b->n_kids;
    e->name = NULL;
    e->name_len = e->name_slot = 0;
    if (tag == NM_HTAG_UNKNOWN) {
        e->name = nm_arena_strndup(b->arena, name, name_len);
        e->name_len = (uint32_t)name_len;
        e->name_slot = name_hash(name, name_len) % UNKNOWN_SLOTS;
        b->open_unknown[e->name_slot]++;
    } else {
        b->open_known[tag]++;
    }
    return n;
}

/* The body, opened (closing <head>) if it is not yet. */
static void ensure_body(builder *b)
{
    if (b->body)
        return;
    flush_text(b);
    while (b->depth > 1)
        pop(b);
    b->body = push(b, NM_HTAG_BODY, NULL, 0);
}

static bool in_head_or_root(const builder *b)
{
    nm_htag t = top(b)->tag;
    return t == NM_HTAG_HTML || t == NM_HTAG_HEAD;
}

/* ------------------------------------------------------------ characters */

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Text s[0..n) of the current element. */
static void add_text(builder *b, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (in_head_or_root(b)) {
        size_t i = 0;
        while (i < n && is_space(s[i]))
            i++;
        if (i == n)
            return; /* layout whitespace between head elements */
        ensure_body(b);
    }
    nm_html_put_decoded(&b->text, s, n);
}

/* ------------------------------------------------------------ tags */

/* Case-insensitive search for "</name" from p; returns its position or end. */
static const char *find_end_tag(const char *p, const char *end, const char *name, size_t n)
{
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return end;
        if ((size_t)(end - lt) >= n + 2 && lt[1] == '/' && strncasecmp(lt + 2, name, n) == 0) {
            const char *after = lt + 2 + n;
            if (after >= end || is_space(*after) || *after == '>' || *after == '/')
                return lt;
        }
        p = lt + 1;
    }
    return end;
}

/* Skips to just past the next '>' from p (or to end). */
static const char *past_gt(const char *p, const char *end)
{
    if (p >= end)
        return end;
    const char *gt = memchr(p, '>', (size_t)(end - p));
    return gt ? gt + 1 : end;
}

/* Reads the attributes of a start tag from p; returns the position after
 * the tag's '>' and whether it ended with "/>". */
static const char *read_attrs(builder *b, const char *p, bool *self_closing)
{
    const char *end = b->end;
    b->n_attrs = 0;
    *self_closing = false;
    for (;;) {
        while (p < end && (is_space(*p) || *p == '/')) {
            if (*p == '/' && p + 1 < end && p[1] == '>') {
                *self_closing = true;
                return p + 2;
            }
            p++;
        }
        if (p >= end)
            return end;
        if (*p == '>')
            return p + 1;
        const char *name = p;
        while (p < end && !is_space(*p) && *p != '>' && *p != '=' && !(*p == '/' && p > name))
            p++;
        size_t name_len = (size_t)(p - name);
        while (p < end && is_space(*p))
            p++;
        const char *val = "";
        size_t val_len = 0;
        bool has_val = false;
        if (p < end && *p == '=') {
            p++;
            while (p < end && is_space(*p))
                p++;
            has_val = true;
            if (p < end && (*p == '"' || *p == '\'')) {
                char q = *p++;
                const char *close = memchr(p, q, (size_t)(end - p));
                val = p;
                val_len = (size_t)((close ? close : end) - p);
                p = close ? close + 1 : end;
            } else {
                val = p;
                while (p < end && !is_space(*p) && *p != '>')
                    p++;
                val_len = (size_t)(p - val);
            }
        }
        if (b->n_attrs >= NM_HTML_MAX_ATTRS)
            continue;
        char *lname = nm_arena_alloc(b->arena, name_len + 1);
        for (size_t i = 0; i < name_len; i++)
            lname[i] = lower(name[i]);
        lname[name_len] = '\0';
        const char *value = "";
        if (has_val) {
            if (memchr(val, '&', val_len)) {
                b->scratch.len = 0;
                nm_html_put_decoded(&b->scratch, val, val_len);
                value = nm_arena_strndup(b->arena, b->scratch.p, b->scratch.len);
            } else {
                value = nm_arena_strndup(b->arena, val, val_len);
            }
        }
        b->attrs[b->n_attrs++] = (nm_hattr){lname, value};
    }
}

static void set_attrs(builder *b, nm_hnode *n)
{
    if (!b->n_attrs)
        return;
    nm_hattr *a = nm_arena_alloc(b->arena, b->n_attrs * sizeof *a);
    memcpy(a, b->attrs, b->n_attrs * sizeof *a);
    n->attrs = a;
    n->n_attrs = b->n_attrs;
}

static bool json_ld(const nm_hnode *n)
{
    const char *type = nm_html_attr(n, "type");
    return type && strcasecmp(type, "application/ld+json") == 0;
}

/* A start tag <name ...> whose name starts at p; returns where parsing goes on. */
static const char *start_tag(builder *b, const char *p)
{
    const char *end = b->end;
    char name[16];
    const char *name_at = p;
    size_t n = 0;
    while (p < end && !is_space(*p) && *p != '>' && *p != '/') {
        if (n < sizeof name)
            name[n] = lower(*p);
        n++;
        p++;
    }
    bool self_closing;
    p = read_attrs(b, p, &self_closing);
    nm_htag tag = n <= sizeof name ? tag_lookup(name, n) : NM_HTAG_UNKNOWN;

    flush_text(b);
    if (tag == NM_HTAG_HTML) {
        if (!b->root->n_attrs)
            set_attrs(b, b->root);
        return p;
    }
    if (tag == NM_HTAG_HEAD) {
        if (!b->head && !b->body && b->depth == 1)
            b->head = push(b, NM_HTAG_HEAD, NULL, 0);
        return p;
    }
    if (tag == NM_HTAG_BODY) {
        bool had = b->body != NULL;
        ensure_body(b);
        if (!had)
            set_attrs(b, b->body);
        return p;
    }
    if (!b->body && !(b->head && has_prop(tag, P_HEAD) && top(b) == b->head) &&
        !(has_prop(tag, P_HEAD) && b->depth == 1))
        ensure_body(b);
    while (b->depth > 1 && tag != NM_HTAG_UNKNOWN && start_closes(tag, top(b)->tag))
        pop(b);

    /* Past the nesting bound the element goes (its text stays). */
    bool keep = b->depth < NM_HTML_MAX_NESTING;
    nm_hnode *node = NULL;
    if (keep) {
        char lname[64];
        size_t ln = n < sizeof lname ? n : sizeof lname;
        for (size_t i = 0; i < ln; i++)
            lname[i] = lower(name_at[i]);
        node = push(b, tag, lname, ln);
        set_attrs(b, node);
    }
    if (!self_closing && (has_prop(tag, P_RAW) || has_prop(tag, P_RCDATA))) {
        const char *close = find_end_tag(p, end, k_tag_names[tag], strlen(k_tag_names[tag]));
        if (keep && (has_prop(tag, P_RCDATA) || (tag == NM_HTAG_SCRIPT && json_ld(node)))) {
            if (has_prop(tag, P_RCDATA))
                nm_html_put_decoded(&b->text, p, (size_t)(close - p));
            else
                nm_hbuf_put(&b->text, p, (size_t)(close - p));
            flush_text(b);
        }
        if (keep)
            pop(b);
        return close < end ? past_gt(close, end) : end;
    }
    if (keep && (self_closing || has_prop(tag, P_VOID)))
        pop(b);
    return p;
}

static bool same_name(const open_el *e, nm_htag tag, const char *name, size_t n)
{
    if (e->node->tag != tag)
        return false;
    return tag != NM_HTAG_UNKNOWN || (e->name_len == n && memcmp(e->name, name, n) == 0);
}

/* An end tag </name ...> whose name starts at p. */
static const char *end_tag(builder *b, const char *p)
{
    const char *end = b->end;
    char name[64];
    size_t n = 0, full = 0;
    while (p < end && !is_space(*p) && *p != '>' && *p != '/') {
        if (n < sizeof name)
            name[n++] = lower(*p);
        full++;
        p++;
    }
    p = past_gt(p, end);
    nm_htag tag = full <= 16 ? tag_lookup(name, n) : NM_HTAG_UNKNOWN;
    if (tag == NM_HTAG_HTML || tag == NM_HTAG_BODY)
        return p;
    if (tag == NM_HTAG_UNKNOWN ? b->open_unknown[name_hash(name, n) % UNKNOWN_SLOTS] == 0
                               : b->open_known[tag] == 0)
        return p;
    int prio = end_priority(tag);
    size_t i = b->depth;
    while (i > 1) {
        const open_el *e = &b->stack[i - 1];
        if (same_name(e, tag, name, n))
            break;
        if (end_priority(e->node->tag) > prio)
            return p;
        i--;
    }
    if (i <= 1)
        return p;
    flush_text(b);
    while (b->depth >= i)
        pop(b);
    return p;
}

static void parse(builder *b)
{
    const char *p = b->s, *end = b->end;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) {
            add_text(b, p, (size_t)(end - p));
            return;
        }
        add_text(b, p, (size_t)(lt - p));
        p = lt + 1;
        if (p >= end) {
            add_text(b, "<", 1);
            return;
        }
        if (is_alpha(*p)) {
            p = start_tag(b, p);
        } else if (*p == '/') {
            if (p + 1 < end && is_alpha(p[1]))
                p = end_tag(b, p + 1);
            else
                p = past_gt(p, end); /* </> or a bogus comment */
        } else if (*p == '!') {
            if (end - p >= 3 && p[1] == '-' && p[2] == '-') {
                const char *q = p + 3;
                const char *close = NULL;
                while (q < end) {
                    const char *dash = memchr(q, '-', (size_t)(end - q));
                    if (!dash || end - dash < 3)
                        break;
                    if (dash[1] == '-' && dash[2] == '>') {
                        close = dash;
                        break;
                    }
                    q = dash + 1;
                }
                p = close ? close + 3 : end;
            } else if (end - p >= 8 && memcmp(p, "![CDATA[", 8) == 0) {
                const char *q = p + 8;
                const char *close = NULL;
                while (q < end && (q = memchr(q, ']', (size_t)(end - q))) && end - q >= 3) {
                    if (q[1] == ']' && q[2] == '>') {
                        close = q;
                        break;
                    }
                    q++;
                }
                p = close ? close + 3 : end;
            } else {
                p = past_gt(p, end); /* doctype */
            }
        } else if (*p == '?') {
            p = past_gt(p, end);
        } else {
            add_text(b, "<", 1);
        }
    }
}

nm_htree *nm_html_tree_parse(const char *html, size_t len)
{
    pthread_once(&g_tab_once, tag_tables_init);
    nm_arena *arena = nm_arena_new(len / 2 + (1 << 16));
    nm_htree *tree = nm_arena_calloc(arena, 1, sizeof *tree);
    tree->priv = arena;

    builder b;
    memset(&b, 0, sizeof b);
    b.arena = arena;
    b.s = html;
    b.end = html + len;
    b.attrs = nm_xmalloc(NM_HTML_MAX_ATTRS * sizeof *b.attrs);
    b.root = push(&b, NM_HTAG_HTML, NULL, 0);
    parse(&b);
    flush_text(&b);
    while (b.depth > 0)
        pop(&b);
    free(b.stack);
    free(b.kids);
    free(b.attrs);
    nm_hbuf_free(&b.text);
    nm_hbuf_free(&b.scratch);
    tree->root = b.root;
    return tree;
}

void nm_html_tree_free(nm_htree *tree)
{
    if (!tree)
        return;
    nm_arena *arena = tree->priv;
    nm_arena_destroy(&arena);
}

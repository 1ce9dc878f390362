/*
 * nm_html_content: finding the article in a page and cutting it into blocks.
 *
 * 1. Node table. The document tree is flattened, iteratively, into an array in
 *    document (pre-)order; each entry knows its parent and the end of its
 *    subtree, so walks are loops and subtrees are index ranges. Hard junk is
 *    flagged while flattening: opaque tags (script, style, svg, ...), hidden
 *    elements, boilerplate tags (nav, aside, footer, form controls, figures).
 * 2. Class junk (per pass). Elements whose class/id/role say boilerplate
 *    (nm_html_class.c: strong words always, weak words unless they also say
 *    content) are set aside, except one that holds most of the page's
 *    non-link text and the wrapper of an embedded post.
 * 3. Statistics. One backward pass sums, per element, the visible text
 *    (characters, whitespace runs counted once), the text inside links,
 *    commas, paragraphs, list items, images and inputs of its subtree, and
 *    its loose inline text, leaving junk out.
 * 4. Scoring (the Readability idea). Every paragraph-like element (p, pre,
 *    td, a div with no block inside, or a container's loose text) gives its
 *    ancestors points for its commas and length: all to the parent, half to
 *    the grandparent, less further up. Ancestors start from a tag and
 *    class/id weight; the final score is discounted by link density. The best
 *    container wins; near-equal rivals elsewhere (an article cut into chunks)
 *    promote their common ancestor; siblings that score well or hold good
 *    paragraphs join.
 * 5. Blocks. The chosen containers are walked in order; block-level elements
 *    end a block, headings/list items/quotes/pre give it its kind. Inner
 *    sub-trees that look like boilerplate (link lists, forms, low text with
 *    many images) are dropped, and so are link-dominated blocks, a leading
 *    <h1> (the headline is doc->title) and the lines nm_html_lines.c calls
 *    furniture, credits or closing promotions.
 * 6. If little text came out, a second pass ignores class names (their
 *    words sometimes name article wrappers) and wins if it finds twice as
 *    much. Headings and list items without any prose are an index page:
 *    no blocks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"

#define TAG_TEXT 0xFFFF
#define NONE UINT32_MAX

enum {
    FL_OPAQUE = 1 << 0,  /* never text (script, style, ...) */
    FL_HARD = 1 << 1,    /* boilerplate by tag or hidden, inherited */
    FL_POS = 1 << 2,     /* class/id says content */
    FL_STRONG = 1 << 3,  /* class/id says boilerplate */
    FL_WEAK = 1 << 4,    /* class/id says boilerplate, weakly */
    FL_LINK = 1 << 5,    /* text node inside <a> */
    FL_BLOCK = 1 << 6,   /* subtree contains a block-level element */
    FL_CAND = 1 << 7,    /* scored as a container */
    FL_CJUNK = 1 << 8,   /* boilerplate by class/id (this pass), inherited */
    FL_BODYPROP = 1 << 9, /* itemprop=articleBody */
    FL_EMBED = 1 << 10,   /* an embedded post (tweet) */
    FL_HASEMBED = 1 << 11, /* subtree holds an embedded post */
};
#define FL_JUNK (FL_OPAQUE | FL_HARD | FL_CJUNK)

typedef struct hnode {
    const nm_hnode *g;
    uint32_t parent, end;
    uint32_t text, link, commas; /* subtree, junk excluded (text nodes: their own) */
    uint32_t own, own_commas;    /* inline text directly inside (not in a block child) */
    uint32_t paras, items, imgs, inputs;
    float score;
    uint16_t tag;
    uint16_t flags;
} hnode;

typedef struct table {
    hnode *n;
    uint32_t len, cap;
} table;

static bool hidden(const nm_hnode *g)
{
    if (nm_html_attr(g, "hidden"))
        return true;
    const char *aria = nm_html_attr(g, "aria-hidden");
    if (aria && strcasecmp(aria, "true") == 0)
        return true;
    const char *style = nm_html_attr(g, "style");
    if (style) {
        size_t n = strlen(style);
        if (nm_html_icontains(style, n, "display:none") || nm_html_icontains(style, n, "display: none") ||
            nm_html_icontains(style, n, "visibility:hidden") ||
            nm_html_icontains(style, n, "visibility: hidden"))
            return true;
    }
    return false;
}

static bool junk_tag(nm_htag t)
{
    switch (t) {
    case NM_HTAG_NAV:
    case NM_HTAG_ASIDE:
    case NM_HTAG_FOOTER:
    case NM_HTAG_FIGURE:
    case NM_HTAG_FIGCAPTION:
    case NM_HTAG_INPUT:
    case NM_HTAG_LABEL:
    case NM_HTAG_MENU:
    case NM_HTAG_IMG:
        return true;
    default:
        return false;
    }
}

static bool block_tag(nm_htag t)
{
    switch (t) {
    case NM_HTAG_P:
    case NM_HTAG_DIV:
    case NM_HTAG_SECTION:
    case NM_HTAG_ARTICLE:
    case NM_HTAG_MAIN:
    case NM_HTAG_HEADER:
    case NM_HTAG_FOOTER:
    case NM_HTAG_ASIDE:
    case NM_HTAG_NAV:
    case NM_HTAG_H1:
    case NM_HTAG_H2:
    case NM_HTAG_H3:
    case NM_HTAG_H4:
    case NM_HTAG_H5:
    case NM_HTAG_H6:
    case NM_HTAG_UL:
    case NM_HTAG_OL:
    case NM_HTAG_LI:
    case NM_HTAG_DL:
    case NM_HTAG_DT:
    case NM_HTAG_DD:
    case NM_HTAG_BLOCKQUOTE:
    case NM_HTAG_PRE:
    case NM_HTAG_TABLE:
    case NM_HTAG_TBODY:
    case NM_HTAG_THEAD:
    case NM_HTAG_TFOOT:
    case NM_HTAG_TR:
    case NM_HTAG_TD:
    case NM_HTAG_TH:
    case NM_HTAG_CAPTION:
    case NM_HTAG_FIGURE:
    case NM_HTAG_FIGCAPTION:
    case NM_HTAG_ADDRESS:
    case NM_HTAG_HR:
    case NM_HTAG_CENTER:
    case NM_HTAG_FORM:
    case NM_HTAG_FIELDSET:
    case NM_HTAG_DETAILS:
    case NM_HTAG_SUMMARY:
    case NM_HTAG_BODY:
    case NM_HTAG_HTML:
        return true;
    default:
        return false;
    }
}

/* --------------------------------------------------------------- the table */

static uint32_t push_node(table *t, const nm_hnode *g, uint32_t parent, uint16_t tag, uint16_t flags)
{
    if (t->len == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->n = nm_xrealloc(t->n, t->cap * sizeof *t->n);
    }
    hnode *h = &t->n[t->len];
    memset(h, 0, sizeof *h);
    h->g = g;
    h->parent = parent;
    h->tag = tag;
    h->flags = flags;
    return t->len++;
}

/* Visible characters of a text (whitespace runs count once, UTF-8
 * continuation bytes not at all) and its commas. */
static void measure(const char *s, uint32_t *chars, uint32_t *commas)
{
    uint32_t c = 0, k = 0;
    bool space = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == '\f') {
            if (!space)
                c++;
            space = true;
            continue;
        }
        space = false;
        if ((*p & 0xC0) != 0x80)
            c++;
        if (*p == ',')
            k++;
    }
    *chars = c;
    *commas = k;
}

typedef struct frame {
    const nm_hnode *g;
    uint32_t parent;
    uint16_t inherited; /* FL_LINK | FL_HARD from ancestors */
} frame;

static uint16_t element_flags(const nm_hnode *g, nm_hclass_cache *cache)
{
    unsigned c = nm_html_class_flags(g, cache);
    uint16_t fl = 0;
    if (c & NM_HCLASS_POS)
        fl |= FL_POS;
    if (c & NM_HCLASS_STRONG)
        fl |= FL_STRONG;
    if (c & NM_HCLASS_WEAK)
        fl |= FL_WEAK;
    if (c & NM_HCLASS_BODY)
        fl |= FL_BODYPROP;
    if (c & NM_HCLASS_EMBED)
        fl |= FL_EMBED;
    nm_htag tag = g->tag;
    if (nm_html_tag_is_opaque(tag))
        fl |= FL_OPAQUE;
    if (junk_tag(tag) || hidden(g))
        fl |= FL_HARD;
    return fl;
}

static void build_table(table *t, const nm_hnode *root)
{
    size_t cap = 256, n = 0;
    frame *stack = nm_xmalloc(cap * sizeof *stack);
    nm_hclass_cache *cache = nm_xcalloc(1, sizeof *cache);
    stack[n++] = (frame){root, NONE, 0};
    while (n > 0) {
        frame f = stack[--n];
        const nm_hnode *g = f.g;
        if (g->type == NM_HNODE_TEXT) {
            push_node(t, g, f.parent, TAG_TEXT, f.inherited & (FL_LINK | FL_HARD));
            continue;
        }
        uint16_t fl = element_flags(g, cache) | (f.inherited & FL_HARD);
        uint32_t i = push_node(t, g, f.parent, (uint16_t)g->tag, fl);
        if (fl & FL_OPAQUE)
            continue;
        uint16_t inherit = (uint16_t)(f.inherited | (fl & FL_HARD));
        if (g->tag == NM_HTAG_A)
            inherit |= FL_LINK;
        const nm_hkids *kids = &g->kids;
        if (n + kids->length > cap) {
            while (n + kids->length > cap)
                cap *= 2;
            stack = nm_xrealloc(stack, cap * sizeof *stack);
        }
        for (unsigned k = kids->length; k > 0; k--)
            stack[n++] = (frame){kids->data[k - 1], i, inherit};
    }
    free(stack);
    free(cache);
    /* Subtree ends and structure (children follow their parent). */
    for (uint32_t i = 0; i < t->len; i++)
        t->n[i].end = i + 1;
    for (uint32_t i = t->len; i-- > 0;) {
        hnode *h = &t->n[i];
        if (h->tag == TAG_TEXT)
            measure(h->g->text, &h->text, &h->commas);
        if (h->parent == NONE)
            continue;
        hnode *p = &t->n[h->parent];
        if (h->end > p->end)
            p->end = h->end;
        if ((h->tag != TAG_TEXT && block_tag((nm_htag)h->tag)) || (h->flags & FL_BLOCK))
            p->flags |= FL_BLOCK;
        if (h->flags & (FL_EMBED | FL_HASEMBED))
            p->flags |= FL_HASEMBED;
    }
}

static bool inline_child(const hnode *h)
{
    return h->tag == TAG_TEXT || (!block_tag((nm_htag)h->tag) && !(h->flags & FL_BLOCK));
}

/* Sums of the subtrees, leaving out what is junk now. */
static void compute_stats(table *t)
{
    for (uint32_t i = 0; i < t->len; i++) {
        hnode *h = &t->n[i];
        if (h->tag == TAG_TEXT)
            h->link = (h->flags & FL_LINK) ? h->text : 0;
        else
            h->text = h->link = h->commas = 0;
        h->own = h->own_commas = h->paras = h->items = h->imgs = h->inputs = 0;
        h->score = 0;
        h->flags &= (uint16_t)~FL_CAND;
    }
    for (uint32_t i = t->len; i-- > 0;) {
        hnode *h = &t->n[i];
        if (h->tag == NM_HTAG_P && h->text >= 20)
            h->paras++;
        if (h->tag == NM_HTAG_LI)
            h->items++;
        if (h->tag == NM_HTAG_IMG)
            h->imgs++;
        if (h->tag == NM_HTAG_INPUT || h->tag == NM_HTAG_SELECT || h->tag == NM_HTAG_TEXTAREA)
            h->inputs++;
        if (h->parent == NONE)
            continue;
        hnode *p = &t->n[h->parent];
        p->imgs += h->imgs;
        p->inputs += h->inputs;
        if (h->flags & FL_JUNK)
            continue;
        p->text += h->text;
        p->link += h->link;
        p->commas += h->commas;
        p->paras += h->paras;
        p->items += h->items;
        if (inline_child(h)) {
            p->own += h->text;
            p->own_commas += h->commas;
        }
    }
}

/* Class/id boilerplate for this pass: strong words always, weak words
 * unless the element also says content; never an element that holds most
 * of the page's non-link text (themes wrap articles in "sidebar" layouts),
 * nor the "social" wrapper of an embedded post. */
static void mark_class_junk(table *t, bool use_classes)
{
    for (uint32_t i = 0; i < t->len; i++)
        t->n[i].flags &= (uint16_t)~FL_CJUNK;
    if (!use_classes)
        return;
    compute_stats(t);
    uint32_t total = t->len ? t->n[0].text - t->n[0].link : 0;
    for (uint32_t i = 0; i < t->len; i++) {
        hnode *h = &t->n[i];
        if (h->parent != NONE && (t->n[h->parent].flags & FL_CJUNK)) {
            h->flags |= FL_CJUNK;
            continue;
        }
        if (h->tag == TAG_TEXT || h->tag == NM_HTAG_BODY || h->tag == NM_HTAG_HTML ||
            !(h->flags & (FL_STRONG | FL_WEAK)) || (h->flags & (FL_BODYPROP | FL_HASEMBED)))
            continue;
        bool dominant = (float)(h->text - h->link) > 0.5f * (float)total;
        if (dominant)
            continue;
        if ((h->flags & FL_STRONG) || !(h->flags & FL_POS))
            h->flags |= FL_CJUNK;
    }
}

static float link_density(const hnode *h)
{
    return h->text ? (float)h->link / (float)h->text : 0.0f;
}

/* ---------------------------------------------------------------- scoring */

static float tag_weight(uint16_t tag)
{
    switch (tag) {
    case NM_HTAG_DIV:
    case NM_HTAG_ARTICLE:
    case NM_HTAG_SECTION:
    case NM_HTAG_MAIN:
        return 5;
    case NM_HTAG_PRE:
    case NM_HTAG_TD:
    case NM_HTAG_BLOCKQUOTE:
        return 3;
    case NM_HTAG_ADDRESS:
    case NM_HTAG_OL:
    case NM_HTAG_UL:
    case NM_HTAG_DL:
    case NM_HTAG_DD:
    case NM_HTAG_DT:
    case NM_HTAG_LI:
    case NM_HTAG_FORM:
        return -3;
    case NM_HTAG_H1:
    case NM_HTAG_H2:
    case NM_HTAG_H3:
    case NM_HTAG_H4:
    case NM_HTAG_H5:
    case NM_HTAG_H6:
    case NM_HTAG_TH:
        return -5;
    default:
        return 0;
    }
}

static float class_weight(const hnode *h)
{
    float w = 0;
    if (h->flags & FL_STRONG)
        w -= 25;
    else if (h->flags & FL_WEAK)
        w -= 10;
    if (h->flags & FL_POS)
        w += 25;
    if (h->flags & FL_BODYPROP)
        w += 25;
    return w;
}

/* Elements that are a paragraph as a whole. */
static bool paragraph_like(const hnode *h)
{
    switch (h->tag) {
    case NM_HTAG_P:
    case NM_HTAG_PRE:
    case NM_HTAG_TD:
        return true;
    case NM_HTAG_DIV:
    case NM_HTAG_SECTION:
    case NM_HTAG_ARTICLE:
        return !(h->flags & FL_BLOCK);
    default:
        return false;
    }
}

/* Containers whose loose inline text (between block children) reads as
 * paragraphs of their own, as if wrapped in <p>. */
static bool holds_loose_text(const hnode *h)
{
    switch (h->tag) {
    case NM_HTAG_DIV:
    case NM_HTAG_SECTION:
    case NM_HTAG_ARTICLE:
    case NM_HTAG_MAIN:
    case NM_HTAG_CENTER:
    case NM_HTAG_SPAN:
    case NM_HTAG_FONT:
        return h->flags & FL_BLOCK;
    default:
        return false;
    }
}

static void add_points(table *t, uint32_t a, float s)
{
    for (int level = 0; level < 5 && a != NONE; level++, a = t->n[a].parent) {
        hnode *anc = &t->n[a];
        if (anc->tag == NM_HTAG_HTML)
            break;
        if (!(anc->flags & FL_CAND)) {
            anc->flags |= FL_CAND;
            anc->score = tag_weight(anc->tag) + class_weight(anc);
        }
        anc->score += level == 0 ? s : level == 1 ? s / 2 : s / (float)(level * 3);
    }
}

/* Returns the best container, or NONE. */
static uint32_t score_candidates(table *t)
{
    for (uint32_t i = 0; i < t->len; i++) {
        hnode *h = &t->n[i];
        if (h->tag == TAG_TEXT || (h->flags & FL_JUNK))
            continue;
        if (paragraph_like(h) && h->text >= 25)
            add_points(t, h->parent, 1.0f + (float)h->commas + fminf((float)h->text / 100.0f, 3.0f));
        else if (holds_loose_text(h) && h->own >= 25)
            add_points(t, i, 1.0f + (float)h->own_commas + fminf((float)h->own / 100.0f, 3.0f));
    }
    uint32_t best = NONE;
    float best_score = 0;
    for (uint32_t i = 0; i < t->len; i++) {
        hnode *h = &t->n[i];
        if (!(h->flags & FL_CAND) || (h->flags & FL_JUNK))
            continue;
        h->score *= 1.0f - link_density(h);
        if (best == NONE || h->score > best_score)
            best = i, best_score = h->score;
    }
    if (best == NONE)
        return best;
    /* An article cut into chunks (ads between them) scores as several
     * near-equal containers: take their closest common ancestor. */
    uint32_t top = best;
    for (uint32_t i = 0; i < t->len; i++) {
        const hnode *h = &t->n[i];
        if (!(h->flags & FL_CAND) || (h->flags & FL_JUNK) || h->score < 0.75f * best_score)
            continue;
        if ((i >= best && i < t->n[best].end) || (best >= i && best < h->end))
            continue; /* inside best, or an ancestor of it */
        while (top != NONE && !(i >= top && i < t->n[top].end))
            top = t->n[top].parent;
    }
    if (top != NONE && t->n[top].tag != NM_HTAG_HTML && t->n[top].tag != NM_HTAG_BODY)
        best = top;
    return best;
}

/* ----------------------------------------------------------------- blocks */

typedef struct ctx {
    nm_block_kind kind;
    int level, list_id, list_depth;
    bool ordered;
} ctx;

typedef struct emitter {
    nm_arena *arena;
    const table *t;
    const char *title;
    nm_hbuf buf;
    uint32_t buf_link, buf_chars;
    nm_block *blocks;
    size_t n_blocks, cap_blocks;
    int next_list;
    bool prose_seen;
} emitter;

static void flush(emitter *e, const ctx *c)
{
    nm_hbuf_trim_end(&e->buf);
    if (e->buf.len == 0)
        goto reset;
    /* Link-dominated blocks are navigation, "read more", tag lists; a
     * sentence with a long link in it is not. */
    if (e->buf_chars > 0) {
        float ld = (float)e->buf_link / (float)e->buf_chars;
        if (nm_html_line_ends_sentence(e->buf.p, e->buf.len) ? ld >= 0.8f
                                                : ld >= 0.8f || (ld > 0.5f && e->buf_chars - e->buf_link < 40))
            goto reset;
    }
    if (nm_html_line_furniture(e->buf.p, e->buf.len) || nm_html_line_credit(e->buf.p, e->buf.len) ||
        nm_html_line_dateline(e->buf.p, e->buf.len))
        goto reset;
    /* The headline (an <h1> before any prose, or one equal to the title) is
     * doc->title, not a block. */
    if (c->kind == NM_BLOCK_HEADING && c->level == 1 &&
        (!e->prose_seen || (e->title && strcasecmp(e->buf.p, e->title) == 0)))
        goto reset;
    if (c->kind == NM_BLOCK_PARAGRAPH)
        e->prose_seen = true;
    if (e->n_blocks == e->cap_blocks) {
        size_t cap = e->cap_blocks ? e->cap_blocks * 2 : 32;
        e->blocks = nm_arena_grow(e->arena, e->blocks, e->cap_blocks * sizeof *e->blocks,
                                  cap * sizeof *e->blocks);
        e->cap_blocks = cap;
    }
    nm_block *b = &e->blocks[e->n_blocks++];
    b->kind = c->kind;
    b->level = c->kind == NM_BLOCK_HEADING ? c->level : c->kind == NM_BLOCK_LIST_ITEM ? c->list_depth : 0;
    b->list_id = c->kind == NM_BLOCK_LIST_ITEM ? c->list_id : 0;
    b->ordered = c->kind == NM_BLOCK_LIST_ITEM && c->ordered;
    b->text = nm_arena_strndup(e->arena, e->buf.p, e->buf.len);
    b->len = e->buf.len;
reset:
    e->buf.len = 0;
    if (e->buf.p)
        e->buf.p[0] = '\0';
    e->buf_link = e->buf_chars = 0;
}

/* Readability's "clean conditionally": an inner element that looks like
 * boilerplate (link lists, forms, image strips) is dropped whole. */
static bool drop_inner(const hnode *h)
{
    switch (h->tag) {
    case NM_HTAG_DIV:
    case NM_HTAG_SECTION:
    case NM_HTAG_UL:
    case NM_HTAG_OL:
    case NM_HTAG_TABLE:
    case NM_HTAG_FORM:
    case NM_HTAG_HEADER:
        break;
    default:
        return false;
    }
    if (h->flags & (FL_EMBED | FL_HASEMBED))
        return false;
    float weight = class_weight(h);
    if (weight < 0)
        return true;
    if (h->commas >= 10)
        return false;
    float ld = link_density(h);
    bool list = h->tag == NM_HTAG_UL || h->tag == NM_HTAG_OL;
    if (h->inputs > 0 && h->inputs > h->paras / 3)
        return true;
    if (!list && h->items > h->paras + 3 && ld > 0.2f)
        return true;
    if (h->imgs > 1 && (float)h->paras / (float)h->imgs < 0.5f && h->text < 200)
        return true;
    if (weight < 25 && ld > 0.33f)
        return true;
    if (weight >= 25 && ld > 0.5f)
        return true;
    return false;
}

static void enter_ctx(emitter *e, const hnode *h, ctx *c)
{
    switch (h->tag) {
    case NM_HTAG_H1:
    case NM_HTAG_H2:
    case NM_HTAG_H3:
    case NM_HTAG_H4:
    case NM_HTAG_H5:
    case NM_HTAG_H6:
        c->kind = NM_BLOCK_HEADING;
        c->level = 1 + (h->tag - NM_HTAG_H1);
        break;
    case NM_HTAG_UL:
    case NM_HTAG_OL:
        c->list_id = ++e->next_list;
        c->list_depth++;
        c->ordered = h->tag == NM_HTAG_OL;
        break;
    case NM_HTAG_LI:
        if (c->list_depth == 0) {
            c->list_id = ++e->next_list;
            c->list_depth = 1;
        }
        c->kind = NM_BLOCK_LIST_ITEM;
        break;
    case NM_HTAG_BLOCKQUOTE:
        c->kind = NM_BLOCK_QUOTE;
        break;
    case NM_HTAG_PRE:
        c->kind = NM_BLOCK_PRE;
        break;
    default:
        break;
    }
}

/* Emits the blocks of the subtree at root (root itself included). */
static void emit_subtree(emitter *e, uint32_t root)
{
    const table *t = e->t;
    size_t cap = 64, depth = 0;
    uint32_t *open = nm_xmalloc(cap * sizeof *open);
    ctx *ctxs = nm_xmalloc(cap * sizeof *ctxs);
    ctx cur = {NM_BLOCK_PARAGRAPH, 0, 0, 0, false};
    uint32_t end = t->n[root].end;
    int brs = 0;
    for (uint32_t i = root; i < end;) {
        while (depth > 0 && t->n[open[depth - 1]].end <= i) {
            flush(e, &cur);
            cur = ctxs[--depth];
        }
        const hnode *h = &t->n[i];
        if (h->tag == TAG_TEXT) {
            if (!(h->flags & FL_JUNK) && h->text > 0) {
                const char *s = h->g->text;
                nm_hbuf_put_collapsed(&e->buf, s, strlen(s));
                e->buf_chars += h->text;
                if (h->flags & FL_LINK)
                    e->buf_link += h->text;
                brs = 0;
            }
            i++;
            continue;
        }
        if ((h->flags & FL_JUNK) || (i != root && drop_inner(h))) {
            i = h->end;
            continue;
        }
        if (h->tag == NM_HTAG_BR) {
            if (++brs >= 2)
                flush(e, &cur);
            else if (e->buf.len)
                nm_hbuf_put_collapsed(&e->buf, " ", 1);
            i++;
            continue;
        }
        if (block_tag((nm_htag)h->tag)) {
            brs = 0;
            flush(e, &cur);
            if (depth == cap) {
                cap *= 2;
                open = nm_xrealloc(open, cap * sizeof *open);
                ctxs = nm_xrealloc(ctxs, cap * sizeof *ctxs);
            }
            open[depth] = i;
            ctxs[depth++] = cur;
            enter_ctx(e, h, &cur);
        }
        i++;
    }
    flush(e, &cur);
    free(open);
    free(ctxs);
}

/* Siblings of the best container that belong to the article too. */
static bool sibling_joins(const table *t, uint32_t best, uint32_t s)
{
    const hnode *b = &t->n[best], *h = &t->n[s];
    if (h->flags & FL_JUNK)
        return false;
    float threshold = fmaxf(10.0f, b->score * 0.2f);
    float bonus = 0;
    const char *bc = nm_html_attr(b->g, "class"), *sc = nm_html_attr(h->g, "class");
    if (bc && sc && *bc && strcmp(bc, sc) == 0)
        bonus = b->score * 0.2f;
    if ((h->flags & FL_CAND) && h->score + bonus >= threshold)
        return true;
    if (paragraph_like(h)) {
        float ld = link_density(h);
        if (h->text > 80 && ld < 0.25f)
            return true;
        if (h->text > 30 && ld == 0.0f)
            return true;
    }
    return false;
}

/* One extraction pass; returns the characters emitted. */
static size_t extract(table *t, emitter *e, bool use_classes)
{
    mark_class_junk(t, use_classes);
    compute_stats(t);
    uint32_t best = score_candidates(t);
    if (best == NONE) {
        /* No scored paragraph: take the body as it is. */
        for (uint32_t i = 0; i < t->len && best == NONE; i++)
            if (t->n[i].tag == NM_HTAG_BODY)
                best = i;
    }
    if (best != NONE) {
        uint32_t parent = t->n[best].parent;
        if (parent == NONE) {
            emit_subtree(e, best);
        } else {
            for (uint32_t s = parent + 1; s < t->n[parent].end; s = t->n[s].end)
                if (s == best || sibling_joins(t, best, s))
                    emit_subtree(e, s);
        }
    }
    size_t chars = 0;
    for (size_t i = 0; i < e->n_blocks; i++)
        chars += e->blocks[i].len;
    return chars;
}

void nm_html_content(nm_arena *arena, const nm_htree *tree, nm_doc *doc)
{
    table t = {0};
    build_table(&t, tree->root);
    emitter e = {.arena = arena, .t = &t, .title = doc->title};
    size_t chars = extract(&t, &e, true);
    if (chars < 500) {
        /* Too little: class names may have hidden the article (Readability's
         * retry). The second pass wins when it finds much more. */
        emitter e2 = {.arena = arena, .t = &t, .title = doc->title};
        size_t chars2 = extract(&t, &e2, false);
        if (chars2 > 2 * chars) {
            nm_hbuf_free(&e.buf);
            e = e2;
            chars = chars2;
        } else {
            nm_hbuf_free(&e2.buf);
        }
    }
    nm_hbuf_free(&e.buf);
    free(t.n);
    /* Promotions after the story: "Follow us on Twitter", "Sign up for our
     * newsletter". Only at the tail, only short ones. */
    while (e.n_blocks > 1 && nm_html_line_promo(e.blocks[e.n_blocks - 1].text, e.blocks[e.n_blocks - 1].len)) {
        chars -= e.blocks[e.n_blocks - 1].len;
        e.n_blocks--;
    }
    /* A few headings or list items and no prose: an index page, not an
     * article. */
    bool prose = false;
    for (size_t i = 0; i < e.n_blocks && !prose; i++)
        prose = e.blocks[i].kind == NM_BLOCK_PARAGRAPH || e.blocks[i].kind == NM_BLOCK_QUOTE ||
                e.blocks[i].kind == NM_BLOCK_PRE;
    if (!prose && chars < 200)
        e.n_blocks = 0;
    doc->blocks = e.blocks;
    doc->n_blocks = e.n_blocks;
}

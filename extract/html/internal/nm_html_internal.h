/*
 * nm_html_internal: what the nm_html_*.c modules share (not a public API).
 *
 *   nm_html.c          entry point: bytes -> UTF-8 -> nesting guard -> tree
 *                      -> metadata + content -> nm_doc
 *   nm_html_tree.c     the document tree: our one-pass tokenizer and tree
 *                      builder (the only file that knows how HTML is parsed)
 *   nm_html_charref.c  character references (&#N; &name;) decoded to UTF-8
 *   nm_html_prep.c     before the parser: legacy charset conversion (iconv)
 *   nm_html_util.c     scratch buffer, whitespace-collapsing text, attributes
 *   nm_html_meta.c     title, byline, site name, dates, language, canonical url
 *                      (meta tags, JSON-LD, <time>, visible text)
 *   nm_html_class.c    what class/id/role names say (boilerplate or content)
 *   nm_html_content.c  main-content detection and readable blocks
 *   nm_html_lines.c    block-level text filters (furniture, credits, promos)
 *
 * Nothing here recurses over the document tree: every walk uses an explicit
 * stack or the flat pre-order node table, so deep trees cannot overflow the C
 * stack. Scratch memory is malloc'd and freed per call; only what ends up in
 * the nm_doc is allocated from the caller's arena.
 */
#ifndef NM_HTML_INTERNAL_H
#define NM_HTML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_arena.h"
#include "nm_doc.h"
#include "nm_html.h"

/* ---- the document tree (nm_html_tree.c) ----
 *
 * nm_html_tree_parse tokenizes the page and builds this compact tree in one
 * pass (children in arrays, tags as an enum, adjacent text merged, comments
 * dropped, script/style content skipped); only nm_html_tree.c knows how HTML
 * is parsed. */

/* The tags the modules ask about; every other element is NM_HTAG_UNKNOWN. */
typedef enum nm_htag {
    NM_HTAG_UNKNOWN,
    NM_HTAG_A,
    NM_HTAG_ABBR,
    NM_HTAG_ADDRESS,
    NM_HTAG_ARTICLE,
    NM_HTAG_ASIDE,
    NM_HTAG_AUDIO,
    NM_HTAG_B,
    NM_HTAG_BDI,
    NM_HTAG_BDO,
    NM_HTAG_BIG,
    NM_HTAG_BLOCKQUOTE,
    NM_HTAG_BODY,
    NM_HTAG_BR,
    NM_HTAG_BUTTON,
    NM_HTAG_CANVAS,
    NM_HTAG_CAPTION,
    NM_HTAG_CENTER,
    NM_HTAG_CITE,
    NM_HTAG_CODE,
    NM_HTAG_DATA,
    NM_HTAG_DD,
    NM_HTAG_DEL,
    NM_HTAG_DETAILS,
    NM_HTAG_DFN,
    NM_HTAG_DIV,
    NM_HTAG_DL,
    NM_HTAG_DT,
    NM_HTAG_EM,
    NM_HTAG_EMBED,
    NM_HTAG_FIELDSET,
    NM_HTAG_FIGCAPTION,
    NM_HTAG_FIGURE,
    NM_HTAG_FONT,
    NM_HTAG_FOOTER,
    NM_HTAG_FORM,
    NM_HTAG_H1,
    NM_HTAG_H2,
    NM_HTAG_H3,
    NM_HTAG_H4,
    NM_HTAG_H5,
    NM_HTAG_H6,
    NM_HTAG_HEAD,
    NM_HTAG_HEADER,
    NM_HTAG_HR,
    NM_HTAG_HTML,
    NM_HTAG_I,
    NM_HTAG_IFRAME,
    NM_HTAG_IMG,
    NM_HTAG_INPUT,
    NM_HTAG_INS,
    NM_HTAG_KBD,
    NM_HTAG_LABEL,
    NM_HTAG_LI,
    NM_HTAG_LINK,
    NM_HTAG_MAIN,
    NM_HTAG_MARK,
    NM_HTAG_MATH,
    NM_HTAG_MENU,
    NM_HTAG_META,
    NM_HTAG_NAV,
    NM_HTAG_NOBR,
    NM_HTAG_NOSCRIPT,
    NM_HTAG_OBJECT,
    NM_HTAG_OL,
    NM_HTAG_P,
    NM_HTAG_PRE,
    NM_HTAG_Q,
    NM_HTAG_S,
    NM_HTAG_SAMP,
    NM_HTAG_SCRIPT,
    NM_HTAG_SECTION,
    NM_HTAG_SELECT,
    NM_HTAG_SMALL,
    NM_HTAG_SPAN,
    NM_HTAG_STRONG,
    NM_HTAG_STYLE,
    NM_HTAG_SUB,
    NM_HTAG_SUMMARY,
    NM_HTAG_SUP,
    NM_HTAG_SVG,
    NM_HTAG_TABLE,
    NM_HTAG_TBODY,
    NM_HTAG_TD,
    NM_HTAG_TEMPLATE,
    NM_HTAG_TEXTAREA,
    NM_HTAG_TFOOT,
    NM_HTAG_TH,
    NM_HTAG_THEAD,
    NM_HTAG_TIME,
    NM_HTAG_TITLE,
    NM_HTAG_TR,
    NM_HTAG_TT,
    NM_HTAG_U,
    NM_HTAG_UL,
    NM_HTAG_VAR,
    NM_HTAG_VIDEO,
    NM_HTAG_WBR,
    /* known to the parser only (implied end tags, void and raw-text elements) */
    NM_HTAG_ACRONYM,
    NM_HTAG_APPLET,
    NM_HTAG_AREA,
    NM_HTAG_BASE,
    NM_HTAG_BASEFONT,
    NM_HTAG_COL,
    NM_HTAG_COLGROUP,
    NM_HTAG_DIR,
    NM_HTAG_FRAME,
    NM_HTAG_FRAMESET,
    NM_HTAG_ISINDEX,
    NM_HTAG_KEYGEN,
    NM_HTAG_LEGEND,
    NM_HTAG_LISTING,
    NM_HTAG_MAP,
    NM_HTAG_NOEMBED,
    NM_HTAG_NOFRAMES,
    NM_HTAG_OPTGROUP,
    NM_HTAG_OPTION,
    NM_HTAG_PARAM,
    NM_HTAG_PLAINTEXT,
    NM_HTAG_SOURCE,
    NM_HTAG_STRIKE,
    NM_HTAG_TRACK,
    NM_HTAG_XMP,
    NM_HTAG_COUNT
} nm_htag;

typedef enum nm_hnode_type { NM_HNODE_ELEMENT, NM_HNODE_TEXT } nm_hnode_type;

typedef struct nm_hnode nm_hnode;
typedef struct nm_hkids {
    nm_hnode **data;
    unsigned length;
} nm_hkids;
typedef struct nm_hattr {
    const char *name, *value; /* name lower-cased; value "" for a bare attribute */
} nm_hattr;
struct nm_hnode {
    nm_hnode_type type;
    nm_htag tag;              /* elements */
    const nm_hnode *parent;   /* NULL for the root */
    nm_hkids kids;            /* elements */
    const nm_hattr *attrs;    /* elements */
    unsigned n_attrs;
    const char *text;         /* text nodes: UTF-8, NUL-terminated, entities decoded */
};

typedef struct nm_htree {
    const nm_hnode *root; /* the <html> element (always present) */
    void *priv;
} nm_htree;

/* Elements nested deeper than this are dropped (their text stays), and
 * attributes of a tag past NM_HTML_MAX_ATTRS: no page needs more, and both
 * bound the work per tag. */
#define NM_HTML_MAX_NESTING 400
#define NM_HTML_MAX_ATTRS 64

/* Parses html[0..len) (valid UTF-8, no NUL bytes) into a tree; never fails
 * (a page with no markup is an empty <html>). Time and memory are linear in
 * len. */
nm_htree *nm_html_tree_parse(const char *html, size_t len);
void nm_html_tree_free(nm_htree *tree);

/* ---- scratch buffer (malloc'd, grows; abort on OOM like nm_alloc) ---- */
typedef struct nm_hbuf {
    char *p;
    size_t len, cap;
} nm_hbuf;

void nm_hbuf_put(nm_hbuf *b, const char *s, size_t n);
void nm_hbuf_putc(nm_hbuf *b, char c);
/* Appends s[0..n) collapsing every whitespace run (ASCII space, tab, CR, LF,
 * FF and U+00A0) to one space; never starts the buffer with a space. */
void nm_hbuf_put_collapsed(nm_hbuf *b, const char *s, size_t n);

/* Appends s[0..n) to out, decoding character references
 * (nm_html_charref.c). */
void nm_html_put_decoded(nm_hbuf *out, const char *s, size_t n);
/* Removes a trailing space, if any. */
void nm_hbuf_trim_end(nm_hbuf *b);
void nm_hbuf_free(nm_hbuf *b);

/* Value of attribute name on an element, or NULL. */
const char *nm_html_attr(const nm_hnode *node, const char *name);

/* Tags whose content is never readable text (script, style, svg, ...). */
bool nm_html_tag_is_opaque(nm_htag tag);

/* The visible text of node's subtree (whitespace collapsed, trimmed), copied
 * into the arena, or NULL when empty. Iterative; opaque tags skipped. */
char *nm_html_node_text(nm_arena *arena, const nm_hnode *node, size_t *len);

/* Copies s (trimmed, whitespace collapsed) into the arena; NULL if empty. */
char *nm_html_clean_dup(nm_arena *arena, const char *s, size_t n);

/* ASCII case-insensitive substring search in s[0..n). */
bool nm_html_icontains(const char *s, size_t n, const char *needle);

/* ---- before the parser (nm_html_prep.c) ---- */

/* If the document starts with a UTF-16 byte-order mark, or declares a legacy
 * charset (windows-1252, iso-8859-x, koi8-r, gbk, shift_jis, ...) and is not
 * valid UTF-8, returns a malloc'd UTF-8 conversion (NUL-terminated,
 * *out_len set); otherwise NULL. */
char *nm_html_prep_charset(const char *html, size_t len, size_t *out_len);

/* ---- metadata (nm_html_meta.c) ---- */

/* Fills title, byline, site_name, description, language, canonical_url,
 * published/modified dates of doc from the document. *ld_body gets the
 * JSON-LD articleBody (raw, arena copy) or NULL. */
void nm_html_meta(nm_arena *arena, const nm_htree *tree, nm_doc *doc, const char **ld_body);

/* Parses an ISO 8601 / RFC 3339 date-time ("2019-11-19", "2019-11-19T10:00Z",
 * "2019-11-19T10:00:00.000+01:00", "2019-11-19 10:00:00") to Unix ms; 0 if it
 * does not parse. Without an offset the time is taken as UTC. */
int64_t nm_html_parse_date(const char *s);

/* Removes a site suffix or prefix (" - BBC News", " | Site", "Site: ") from a
 * title; site may be NULL. Returns a new arena string. */
char *nm_html_clean_title(nm_arena *arena, const char *title, const char *site);

/* ---- class/id/role words (nm_html_class.c) ---- */

#define NM_HCLASS_POS 1u    /* says content: article, story, body, ... */
#define NM_HCLASS_STRONG 2u /* says boilerplate wherever it is: comment, share, ad, ... */
#define NM_HCLASS_WEAK 4u   /* says boilerplate, but themes also wrap articles in it */
#define NM_HCLASS_BODY 8u   /* itemprop=articleBody: the publisher marks the body */
#define NM_HCLASS_EMBED 16u /* an embedded post (tweet, Instagram) quoted as content */

/* What class and id strings said, by a 64-bit hash of the string: one per
 * document (calloc'd), so a class name repeated on many elements is matched
 * once. */
#define NM_HCLASS_CACHE 1024
typedef struct nm_hclass_cache {
    struct nm_hclass_slot {
        uint64_t hash;
        size_t len;
        uint8_t bits;
        bool used;
    } slot[NM_HCLASS_CACHE];
} nm_hclass_cache;

/* Bits NM_HCLASS_* for an element; cache may be NULL. */
unsigned nm_html_class_flags(const nm_hnode *node, nm_hclass_cache *cache);

/* ---- content (nm_html_content.c) ---- */

/* Finds the main content under root and fills doc->blocks/n_blocks (zero
 * blocks when none was found). doc->title (may be NULL) is used to drop a
 * repeated headline. */
void nm_html_content(nm_arena *arena, const nm_htree *tree, nm_doc *doc);

/* ---- block text filters (nm_html_lines.c); s[0..n), trimmed ---- */

/* Ends like a sentence: . ! ? possibly followed by closing quotes/brackets. */
bool nm_html_line_ends_sentence(const char *s, size_t n);
/* Page furniture in any article: "Advertisement", "Share this article", ... */
bool nm_html_line_furniture(const char *s, size_t n);
/* A short promotion: "Follow us on Twitter", "Subscribe to our newsletters". */
bool nm_html_line_promo(const char *s, size_t n);
/* A dateline: "Last updated at 08:43 GMT", "Updated at 1:23 p.m.". */
bool nm_html_line_dateline(const char *s, size_t n);
/* A wire credit: "(Reporting by ...; Editing by ...)", "... contributed to this report." */
bool nm_html_line_credit(const char *s, size_t n);

/* Replaces doc's blocks with the paragraphs of a plain text (line breaks
 * separate paragraphs, whitespace collapsed). */
void nm_html_blocks_from_text(nm_arena *arena, const char *text, nm_doc *doc);

#endif

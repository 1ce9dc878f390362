/*
 * nm_html_internal: what the nm_html_*.c modules share (not a public API).
 *
 *   nm_html.c          entry point: bytes -> UTF-8 -> nesting guard -> gumbo
 *                      -> metadata + content -> nm_doc
 *   nm_html_prep.c     before gumbo: legacy charset conversion (iconv) and the
 *                      nesting guard that keeps gumbo linear
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

#include <gumbo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_arena.h"
#include "nm_doc.h"
#include "nm_html.h"

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
/* Removes a trailing space, if any. */
void nm_hbuf_trim_end(nm_hbuf *b);
void nm_hbuf_free(nm_hbuf *b);

/* Value of attribute name on an element, or NULL. */
const char *nm_html_attr(const GumboNode *node, const char *name);

/* Tags whose content is never readable text (script, style, svg, ...). */
bool nm_html_tag_is_opaque(GumboTag tag);

/* The visible text of node's subtree (whitespace collapsed, trimmed), copied
 * into the arena, or NULL when empty. Iterative; opaque tags skipped. */
char *nm_html_node_text(nm_arena *arena, const GumboNode *node, size_t *len);

/* Copies s (trimmed, whitespace collapsed) into the arena; NULL if empty. */
char *nm_html_clean_dup(nm_arena *arena, const char *s, size_t n);

/* ASCII case-insensitive substring search in s[0..n). */
bool nm_html_icontains(const char *s, size_t n, const char *needle);

/* ---- before gumbo (nm_html_prep.c) ---- */

/* If the document starts with a UTF-16 byte-order mark, or declares a legacy
 * charset (windows-1252, iso-8859-x, koi8-r, gbk, shift_jis, ...) and is not
 * valid UTF-8, returns a malloc'd UTF-8 conversion (NUL-terminated,
 * *out_len set); otherwise NULL. */
char *nm_html_prep_charset(const char *html, size_t len, size_t *out_len);

/* Gumbo's tree building scans the stack of open elements for each tag, so a
 * document nested N deep costs O(N^2). If the tags of html nest deeper than
 * NM_HTML_MAX_NESTING (counted conservatively: void and self-closing
 * elements and those HTML closes implicitly are not counted), returns a
 * malloc'd copy in which the start and end tags past that depth are blanked
 * out (their text stays); otherwise NULL. Linear time. */
#define NM_HTML_MAX_NESTING 400
char *nm_html_prep_nesting(const char *html, size_t len, size_t *out_len);

/* ---- metadata (nm_html_meta.c) ---- */

/* Fills title, byline, site_name, description, language, canonical_url,
 * published/modified dates of doc from the document. *ld_body gets the
 * JSON-LD articleBody (raw, arena copy) or NULL. */
void nm_html_meta(nm_arena *arena, const GumboOutput *out, nm_doc *doc, const char **ld_body);

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

/* Bits NM_HCLASS_* for an element. */
unsigned nm_html_class_flags(const GumboNode *node);

/* ---- content (nm_html_content.c) ---- */

/* Finds the main content under root and fills doc->blocks/n_blocks (zero
 * blocks when none was found). doc->title (may be NULL) is used to drop a
 * repeated headline. */
void nm_html_content(nm_arena *arena, const GumboOutput *out, nm_doc *doc);

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

/*
 * nm_html: HTML to an nm_doc (extract/html/: everything HTML-specific about
 * extraction lives in this folder; it depends on extract/text/ for nm_doc
 * and on common/). The internals are in internal/nm_html_internal.h.
 */
#ifndef NM_HTML_H
#define NM_HTML_H

#include <stddef.h>

#include "nm_arena.h"
#include "nm_doc.h"
#include "nm_error.h"

/* HTML: parsed in one pass by our own tokenizer and tree builder, main content found and boilerplate
 * (navigation, ads, footers, comments, share widgets) removed; title from
 * og:title / h1 / <title> (site suffix removed); byline and dates from meta,
 * JSON-LD and visible text. Bytes that are not UTF-8 are repaired first.
 * Returns 0, or -1 with NM_ERR_EMPTY when no readable content was found
 * (doc->title may still be set) or NM_ERR_MALFORMED. */
int nm_html_parse(nm_arena *arena, const char *html, size_t len, nm_doc *doc, nm_error *err);

#endif

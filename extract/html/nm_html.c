/*
 * nm_html: HTML bytes -> nm_doc (see nm_html.h for the contract and
 * nm_html_internal.h for how the work is split).
 *
 * Steps: UTF-16 (by BOM) or a declared legacy charset -> UTF-8 (iconv); invalid
 * UTF-8 repaired to U+FFFD; NUL bytes become spaces; one-pass parse into the
 * nm_hnode tree (nesting and attributes bounded there); metadata;
 * main content (or the JSON-LD articleBody when the page holds far less text
 * than it). Time and memory are linear in the input: the tree is a constant
 * factor of the input, and every walk over it is a loop.
 */
#include "nm_html.h"

#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_html_internal.h"
#include "nm_utf8.h"

/* s as valid UTF-8: s itself, or a repaired copy in the arena (invalid
 * sequences become U+FFFD); *len updated when len is not NULL. */
static const char *valid_utf8(nm_arena *arena, const char *s, size_t *len)
{
    if (!s)
        return s;
    size_t n = len ? *len : strlen(s);
    if (nm_utf8_valid(s, n, NULL))
        return s;
    size_t fixed_len;
    char *fixed = nm_utf8_repair(s, n, &fixed_len, NULL);
    const char *kept = nm_arena_strndup(arena, fixed, fixed_len);
    free(fixed);
    if (len)
        *len = fixed_len;
    return kept;
}

/* A parser may turn a numeric character reference that overflows an int
 * ("&#x0000000000000aaaa000096;") into a lone byte (0x96: gumbo did), and
 * JSON-LD may hold lone surrogates: the input was valid UTF-8, the output is not. Found
 * by tests/fuzz/fuzz_extract_html; nm_doc promises clean UTF-8. */
static void keep_doc_utf8(nm_arena *arena, nm_doc *doc)
{
    doc->title = valid_utf8(arena, doc->title, NULL);
    doc->byline = valid_utf8(arena, doc->byline, NULL);
    doc->site_name = valid_utf8(arena, doc->site_name, NULL);
    doc->description = valid_utf8(arena, doc->description, NULL);
    doc->language = valid_utf8(arena, doc->language, NULL);
    doc->canonical_url = valid_utf8(arena, doc->canonical_url, NULL);
    for (size_t i = 0; i < doc->n_blocks; i++)
        doc->blocks[i].text = valid_utf8(arena, doc->blocks[i].text, &doc->blocks[i].len);
}

int nm_html_parse(nm_arena *arena, const char *html, size_t len, nm_doc *doc, nm_error *err)
{
    memset(doc, 0, sizeof *doc);
    nm_error_clear(err);
    if (!html || len == 0)
        return nm_error_set(err, NM_ERR_EMPTY, "html: empty input");

    /* Own a clean, NUL-free, valid UTF-8 copy: the parser wants
     * NUL-terminated UTF-8 and would stop at an embedded NUL. */
    size_t clen = 0;
    char *conv = nm_html_prep_charset(html, len, &clen);
    char *clean;
    if (conv) {
        clean = conv;
    } else if (nm_utf8_valid(html, len, NULL)) {
        clean = nm_xmalloc(len + 1);
        memcpy(clean, html, len);
        clean[len] = '\0';
        clen = len;
    } else {
        clean = nm_utf8_repair(html, len, &clen, NULL);
    }
    for (char *p = memchr(clean, '\0', clen); p; p = memchr(p, '\0', clen - (size_t)(p - clean)))
        *p = ' ';
    if (clen >= 3 && memcmp(clean, "\xEF\xBB\xBF", 3) == 0) /* byte-order mark */
        memcpy(clean, "   ", 3);

    nm_htree *tree = nm_html_tree_parse(clean, clen);
    const char *ld_body = NULL;
    nm_html_meta(arena, tree, doc, &ld_body);
    nm_html_content(arena, tree, doc);
    /* Pages rendered by script carry the text only in JSON-LD articleBody:
     * use it when the page itself yields far less (and it is not markup). */
    if (ld_body && !strstr(ld_body, "</")) {
        size_t chars = 0;
        for (size_t i = 0; i < doc->n_blocks; i++)
            chars += doc->blocks[i].len;
        if (chars * 3 < strlen(ld_body))
            nm_html_blocks_from_text(arena, ld_body, doc);
    }
    nm_html_tree_free(tree);
    free(clean);
    keep_doc_utf8(arena, doc);
    if (doc->n_blocks == 0)
        return nm_error_set(err, NM_ERR_EMPTY, "html: no readable content found");
    return 0;
}

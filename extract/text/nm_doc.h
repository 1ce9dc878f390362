/*
 * nm_doc: an article reduced to its readable blocks, before analysis.
 *
 * Both input paths produce an nm_doc: nm_text_parse() for plain text and
 * nm_html_parse() (extract/html/nm_html.h) for HTML (boilerplate removed). Everything after that
 * (sentences, sections, entities, ...) works on nm_doc only, so text and
 * HTML articles are analysed the same way.
 *
 * Block text is clean UTF-8: entities decoded, whitespace collapsed to single
 * spaces, no leading/trailing space, never empty. All memory belongs to the
 * arena passed to the parser.
 */
#ifndef NM_DOC_H
#define NM_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nm_arena.h"
#include "nm_error.h"

typedef enum nm_block_kind {
    NM_BLOCK_PARAGRAPH, /* body prose */
    NM_BLOCK_HEADING,   /* a section heading (h2-h4, or a short title-like line in text) */
    NM_BLOCK_LIST_ITEM, /* one item of a bulleted or numbered list */
    NM_BLOCK_QUOTE,     /* a block quotation */
    NM_BLOCK_PRE,       /* preformatted text (code, tables as text) */
} nm_block_kind;

typedef struct nm_block {
    nm_block_kind kind;
    int level;        /* heading: 1-6; list item: nesting depth from 1; else 0 */
    int list_id;      /* list items of one list share an id (> 0); else 0 */
    bool ordered;     /* list item of a numbered list */
    const char *text; /* clean text, NUL-terminated, without list markers ("1.", "-") */
    size_t len;       /* bytes of text */
} nm_block;

typedef struct nm_doc {
    const char *title;         /* NULL when none was found */
    const char *byline;        /* author(s) as shown, NULL if none */
    const char *site_name;     /* og:site_name or similar, NULL if none */
    const char *description;   /* meta description, NULL if none */
    const char *language;      /* declared language (html lang, meta), NULL if none */
    const char *canonical_url; /* link rel=canonical / og:url, NULL if none */
    int64_t published_unix_ms; /* 0 = unknown */
    int64_t modified_unix_ms;  /* 0 = unknown */
    nm_block *blocks;          /* in reading order; the title is not a block */
    size_t n_blocks;
} nm_doc;

/* Plain text: first non-empty line is the title; blank lines separate
 * paragraphs; soft-wrapped lines are joined; short title-like lines between
 * paragraphs become headings; "1. x" / "- x" lines become list items.
 * text must be valid UTF-8 (see nm_utf8). Returns 0, or -1 with NM_ERR_EMPTY
 * when there is no text at all. */
int nm_text_parse(nm_arena *arena, const char *text, size_t len, nm_doc *doc, nm_error *err);

#endif
